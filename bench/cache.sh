#!/usr/bin/env bash
# The response cache under writes: 1,000 published articles, 32 wrk connections reading random
# article pages, first alone, then while an editor changes a random article 10 times a second
# (PATCH, through the API). Prints the read throughput of both phases, their ratio, and the share
# of reads answered from the cache in each (from /metrics: hits / (hits + misses)).
#
# Targets (issue 16): under the writes, at least 80 % of reads are hits and read throughput stays
# above half of the read-only figure.
#
#   bench/cache.sh                           # SQLite, and PostgreSQL when reachable
#   DURATION=20 WRITES_PER_SECOND=20 bench/cache.sh
#   MASTHEAD_BIN=target/release/masthead bench/cache.sh   # an existing binary, no build
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION="${DURATION:-10}"
CONNECTIONS="${CONNECTIONS:-32}"
WRITES_PER_SECOND="${WRITES_PER_SECOND:-10}"
ARTICLES="${ARTICLES:-1000}"
PORT="${PORT:-18086}"
PG_ADMIN_URL="${MASTHEAD_BENCH_POSTGRES_URL:-postgres://root@127.0.0.1:5432/postgres}"
WORK="$(mktemp -d /tmp/masthead-cache.XXXXXX)"
trap 'jobs -p | xargs -r kill 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"' EXIT

# shellcheck source=bench/lib.sh
source bench/lib.sh
need wrk wrk

release_binary
SECRET="cache-bench-secret-cache-bench-secret-0123456"
METRICS_TOKEN="cache-bench-metrics-token-0123456789"

# wrk: each request a random one of the articles (their slugs are `article-N`).
cat >"$WORK/random-article.lua" <<LUA
math.randomseed(os.time())
request = function()
  return wrk.format("GET", "/api/v1/articles/article-" .. math.random($ARTICLES))
end
LUA

# counters -> "HITS MISSES" from /metrics
counters() {
  curl -sf -H "Authorization: Bearer $METRICS_TOKEN" "http://127.0.0.1:$PORT/metrics" |
    awk '/^masthead_cache_hits_total / { h = $2 } /^masthead_cache_misses_total / { m = $2 } END { print h + 0, m + 0 }'
}

# phase NAME: wrk on random articles for DURATION; prints req/s and the hit share, sets RATE.
phase() {
  local before after
  before=$(counters)
  RATE=$(wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" -s "$WORK/random-article.lua" "http://127.0.0.1:$PORT" |
    awk '/Requests\/sec/ { print $2 }')
  after=$(counters)
  python3 - "$1" "$RATE" "$before" "$after" <<'PY'
import sys
name, rate, before, after = sys.argv[1], float(sys.argv[2]), sys.argv[3].split(), sys.argv[4].split()
hits, misses = (float(a) - float(b) for a, b in zip(after, before))
print("%-10s %9.0f reads/s, %6.2f %% from the cache (%d hits, %d misses)" % (name, rate, 100 * hits / max(hits + misses, 1), hits, misses))
PY
}

bench_backend() {
  local name="$1" url="$2"
  echo "== $name"
  export DATABASE_URL="$url" MASTHEAD_JWT_SECRET="$SECRET"
  echo "editor-password" | "$MASTHEAD_BIN" users add --email "editor@bench.test" --name "Editor" \
    --role editor --password-stdin >/dev/null
  MASTHEAD_ADDR="127.0.0.1:$PORT" MASTHEAD_LOG=warn MASTHEAD_METRICS_TOKEN="$METRICS_TOKEN" "$MASTHEAD_BIN" serve &
  local pid=$!
  wait_ready "$PORT"
  # The articles, through the API; then the writer, in the background until told to stop.
  PYTHONPATH=bench python3 - "http://127.0.0.1:$PORT/api/v1" "$ARTICLES" <<'PY'
import sys, threading
from api import BODY, call, login
base, count = sys.argv[1], int(sys.argv[2])
token = login(base, "editor@bench.test", "editor-password")
def write(first):
    for i in range(first, count + 1, 4):
        body = {"title": "Article %d" % i, "body_markdown": BODY, "tags": ["tag-%d" % (i % 30)]}
        article = call(base, "POST", "/admin/articles", body, token)["data"]
        call(base, "POST", "/admin/articles/%d/publish" % article["id"], None, token)
threads = [threading.Thread(target=write, args=(first,)) for first in range(1, 5)]
[t.start() for t in threads]
[t.join() for t in threads]
print("wrote %d articles" % call(base, "GET", "/articles?per_page=1")["meta"]["total"])
PY
  # Warm the cache (every article once), then read alone.
  wrk -t1 -c"$CONNECTIONS" -d3s -s "$WORK/random-article.lua" "http://127.0.0.1:$PORT" >/dev/null
  phase "read-only"
  local alone="$RATE"
  PYTHONPATH=bench python3 - "http://127.0.0.1:$PORT/api/v1" "$ARTICLES" "$WRITES_PER_SECOND" "$WORK/writes" <<'PY' &
import random, sys, time
from api import call, login
base, count, per_second, out = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
token = login(base, "editor@bench.test", "editor-password")
pages = range(1, count // 100 + 2)
ids = [a["id"] for page in pages for a in call(base, "GET", "/admin/articles?per_page=100&page=%d" % page, token=token)["data"]]
done, start = 0, time.monotonic()
while True:
    # Paced by the clock: the n-th write is due at n / per_second.
    time.sleep(max(0.0, start + done / per_second - time.monotonic()))
    call(base, "PATCH", "/admin/articles/%d" % random.choice(ids), {"excerpt": "Edited at %f" % time.time()}, token)
    done += 1
    with open(out, "w") as f:
        f.write("%d %f\n" % (done, time.monotonic() - start))
PY
  local writer=$!
  sleep 1
  phase "mixed"
  local mixed="$RATE"
  kill "$writer"
  wait "$writer" 2>/dev/null || true
  read -r writes seconds <"$WORK/writes"
  python3 -c "import sys; w, s, a, m = map(float, sys.argv[1:]); print('writes: %.1f/s; mixed / read-only throughput: %.2f' % (w / s, m / a))" \
    "$writes" "$seconds" "$alone" "$mixed"
  kill "$pid"
  wait "$pid" 2>/dev/null || true
}

bench_backend SQLite "sqlite://$WORK/bench.db"
if psql "$PG_ADMIN_URL" -Atc 'select 1' >/dev/null 2>&1; then
  db="masthead_cache_$$"
  psql "$PG_ADMIN_URL" -qc "CREATE DATABASE $db"
  trap 'jobs -p | xargs -r kill 2>/dev/null; wait 2>/dev/null; psql "$PG_ADMIN_URL" -qc "DROP DATABASE IF EXISTS '"$db"' WITH (FORCE)"; rm -rf "$WORK"' EXIT
  bench_backend PostgreSQL "${PG_ADMIN_URL%/*}/$db"
fi
