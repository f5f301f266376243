#!/usr/bin/env bash
# Masthead's resident memory under the peer benchmark's load: 1,001 articles written through the
# API by 20 authors (each logged in, each article a draft then published, with tags), then wrk on
# one article by slug, the first list page with bodies, and a tag filter. Prints the server's
# resident memory (VmRSS) at rest after start, after the writes, at the end of each read load and
# at rest after it, and the peak (VmHWM), read from /proc while it runs.
#
#   bench/memory.sh                          # SQLite, and PostgreSQL when reachable
#   DURATION=5 bench/memory.sh
#   MASTHEAD_BIN=target/release/masthead bench/memory.sh   # an existing binary, no build
#
# Extra server settings can be passed through the environment (MASTHEAD_CACHE_BYTES=0, …).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION="${DURATION:-10}"
CONNECTIONS="${CONNECTIONS:-32}"
PORT="${PORT:-18085}"
PG_ADMIN_URL="${MASTHEAD_BENCH_POSTGRES_URL:-postgres://root@127.0.0.1:5432/postgres}"
WORK="$(mktemp -d /tmp/masthead-memory.XXXXXX)"
trap 'jobs -p | xargs -r kill 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"' EXIT

# shellcheck source=bench/lib.sh
source bench/lib.sh
need wrk wrk

release_binary
SECRET="memory-bench-secret-memory-bench-secret-0123"

# rss PID -> "resident N MiB (peak M MiB)"
rss() {
  awk '/^VmHWM/ { peak = $2 / 1024 } /^VmRSS/ { now = $2 / 1024 } END { printf "resident %.1f MiB (peak %.1f MiB)", now, peak }' "/proc/$1/status"
}

bench_backend() {
  local name="$1" url="$2"
  echo "== $name"
  export DATABASE_URL="$url" MASTHEAD_JWT_SECRET="$SECRET"
  for n in $(seq 1 20); do
    echo "author-password-$n" | "$MASTHEAD_BIN" users add --email "author$n@bench.test" --name "Author $n" \
      --role author --password-stdin >/dev/null
  done
  MASTHEAD_ADDR="127.0.0.1:$PORT" MASTHEAD_LOG=warn "$MASTHEAD_BIN" serve &
  local pid=$!
  local base="http://127.0.0.1:$PORT/api/v1"
  wait_ready "$PORT"
  sleep 2
  echo "at rest after start: $(rss "$pid")"
  PYTHONPATH=bench python3 - "$base" <<'PY'
import sys, threading
from api import BODY, call, login
base = sys.argv[1]
tokens = [login(base, "author%d@bench.test" % n, "author-password-%d" % n) for n in range(1, 21)]
def write(author):
    for i in range(author, 1001, 20):
        body = {"title": "Article %d by author %d" % (i, author), "body_markdown": BODY,
                "tags": ["tag-%d" % (i % 30), "tag-%d" % ((i * 7) % 30)]}
        article = call(base, "POST", "/admin/articles", body, tokens[author])["data"]
        call(base, "POST", "/admin/articles/%d/publish" % article["id"], None, tokens[author])
threads = [threading.Thread(target=write, args=(a,)) for a in range(20)]
[t.start() for t in threads]
[t.join() for t in threads]
print("wrote %d articles" % call(base, "GET", "/articles?per_page=1")["meta"]["total"])
PY
  echo "after the writes: $(rss "$pid")"
  local slug
  slug=$(curl -sf "$base/articles?per_page=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"][0]["slug"])')
  for target in "articles/$slug" "articles?per_page=20&include=body" "articles?tag=tag-7"; do
    wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" "$base/$target" | awk '/Requests\/sec/ { printf "%s req/s", $2 }'
    echo " on $target; at its end: $(rss "$pid")"
  done
  sleep 5
  echo "at rest after the reads: $(rss "$pid")"
  kill "$pid"
  wait "$pid" 2>/dev/null || true
}

bench_backend SQLite "sqlite://$WORK/bench.db"
if psql "$PG_ADMIN_URL" -Atc 'select 1' >/dev/null 2>&1; then
  db="masthead_memory_$$"
  psql "$PG_ADMIN_URL" -qc "CREATE DATABASE $db"
  trap 'jobs -p | xargs -r kill 2>/dev/null; wait 2>/dev/null; psql "$PG_ADMIN_URL" -qc "DROP DATABASE IF EXISTS '"$db"' WITH (FORCE)"; rm -rf "$WORK"' EXIT
  bench_backend PostgreSQL "${PG_ADMIN_URL%/*}/$db"
fi
