#!/usr/bin/env bash
# Masthead's read-path benchmark: one command, on this machine, over loopback.
#
#   bench/run.sh                 # 100,000 articles, SQLite, and PostgreSQL when reachable
#   ARTICLES=20000 DURATION=5 bench/run.sh
#
# For each backend it builds the release binary, fills a fresh database with `masthead demo`,
# starts the server at MASTHEAD_LOG=warn, and drives wrk against: one article by slug, the first
# list page with bodies, page 2,000 of the list by cursor, a tag filter, and a search matching
# about 1 % of the articles. nginx (Debian's nginx-light, access_log off) serves the exact bytes of
# the by-slug response from a file as the yardstick. It prints req/s, p50, p99, the ratio to nginx,
# and the server's peak resident memory. Needs wrk and nginx (installed with apt-get when missing
# and running as root).
set -euo pipefail
cd "$(dirname "$0")/.."

ARTICLES="${ARTICLES:-100000}"
DURATION="${DURATION:-10}"
CONNECTIONS="${CONNECTIONS:-32}"
PORT="${PORT:-18080}"
NGINX_PORT="${NGINX_PORT:-18081}"
PG_ADMIN_URL="${MASTHEAD_BENCH_POSTGRES_URL:-postgres://root@127.0.0.1:5432/postgres}"
WORK="$(mktemp -d /tmp/masthead-bench.XXXXXX)"
trap 'jobs -p | xargs -r kill 2>/dev/null; wait 2>/dev/null; [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null; rm -rf "$WORK"' EXIT

# shellcheck source=bench/lib.sh
source bench/lib.sh
need wrk wrk
need nginx nginx-light

echo "== building the release binary"
cargo build --release --quiet
BIN="$PWD/target/release/masthead"

# wrk URL -> "req/s p50_ms p99_ms"
measure() {
  wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency "$1" 2>&1 | python3 -c '
import re, sys
text = sys.stdin.read()
def ms(label):
    found = re.search(label + r"\s+([\d.]+)(us|ms|s|m)\b", text)
    if not found:
        return float("nan")
    n, unit = found.groups()
    return float(n) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]
found = re.search(r"Requests/sec:\s+([\d.]+)", text)
rps = float(found.group(1)) if found else 0.0
p50, p99 = ms("50%"), ms("99%")
timeouts = re.search(r"timeout (\d+)", text)
if timeouts and int(timeouts.group(1)) > 0:
    sys.stderr.write("note: %s requests timed out for %s\n" % (timeouts.group(1), sys.argv[1]))
errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
if errors:
    sys.stderr.write("note: %s error responses for %s\n" % (errors.group(1), sys.argv[1]))
print("%.0f %.2f %.2f" % (rps, p50, p99))' "$1"
}

# Lines of "name|path" on stdin: one table row each. $1 base URL, $2 nginx req/s, $3 name suffix.
measure_routes() {
  local name target rps p50 p99
  while IFS='|' read -r name target; do
    read -r rps p50 p99 < <(measure "$1/$target")
    printf '%-34s %10s %9s %9s %9s\n' "$name$3" "$rps" "$p50" "$p99" "$(python3 -c "print('%.2f' % ($rps / $2))")"
  done
}

start_nginx() {
  cat > "$WORK/nginx.conf" <<EOF
worker_processes 2;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    root $WORK/static;
    location / { default_type application/json; }
  }
}
EOF
  nginx -c "$WORK/nginx.conf"
}

bench_backend() {
  local backend="$1" url="$2"
  echo "== $backend: $ARTICLES articles"
  DATABASE_URL="$url" MASTHEAD_LOG=warn "$BIN" demo --articles "$ARTICLES" | tail -n1
  DATABASE_URL="$url" MASTHEAD_LOG=warn MASTHEAD_ADDR="127.0.0.1:$PORT" \
    MASTHEAD_JWT_SECRET="bench-secret-bench-secret-bench-secret-42" "$BIN" serve &
  local pid=$!
  wait_ready "$PORT"
  local base="http://127.0.0.1:$PORT/api/v1"
  local slug
  slug=$(curl -sf "$base/articles?per_page=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"][0]["slug"])')
  # The cursor of page 2,000 (20 per page): walk there.
  local cursor
  cursor=$(python3 - "$base" <<'PY'
import json, sys, urllib.request
base, cursor = sys.argv[1], None
for _ in range(1999):
    url = base + "/articles?per_page=20&fields=slug" + ("&cursor=" + cursor if cursor else "")
    cursor = json.load(urllib.request.urlopen(url))["meta"]["next_cursor"]
    if not cursor:
        sys.exit("bench: fewer than 2,000 pages; use ARTICLES >= 40000")
print(cursor)
PY
)
  local tag
  tag=$(curl -sf "$base/tags?sort=-article_count&per_page=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"][0]["slug"])')

  mkdir -p "$WORK/static"
  curl -sf "$base/articles/$slug" > "$WORK/static/article.json"
  # nginx's workers run as an unprivileged user: let them read the file.
  chmod a+rx "$WORK" "$WORK/static"
  chmod a+r "$WORK/static/article.json"
  [ -f "$WORK/nginx.pid" ] || start_nginx
  sleep 0.3

  local nginx_rps
  read -r nginx_rps nginx_p50 nginx_p99 < <(measure "http://127.0.0.1:$NGINX_PORT/article.json")
  printf '%-34s %10s %9s %9s %9s\n' "route ($backend)" "req/s" "p50 ms" "p99 ms" "÷ nginx"
  printf '%-34s %10s %9s %9s %9s\n' "nginx, same bytes as by slug" "$nginx_rps" "$nginx_p50" "$nginx_p99" "1.00"
  local routes="article by slug|articles/$slug
list page 1 with bodies|articles?per_page=20&include=body
list page 2000 by cursor|articles?per_page=20&cursor=$cursor
tag filter|articles?tag=$tag
search (~1 %)|articles?q=zephyr"
  measure_routes "$base" "$nginx_rps" "" <<<"$routes"
  echo "peak resident memory while serving: $(awk '/VmHWM/ {printf "%.1f MiB", $2/1024}' "/proc/$pid/status")"
  # The same routes uncached, to show what the database path costs.
  kill "$pid"; wait "$pid" 2>/dev/null || true
  DATABASE_URL="$url" MASTHEAD_LOG=warn MASTHEAD_ADDR="127.0.0.1:$PORT" MASTHEAD_CACHE_BYTES=0 \
    MASTHEAD_JWT_SECRET="bench-secret-bench-secret-bench-secret-42" "$BIN" serve &
  pid=$!
  wait_ready "$PORT"
  measure_routes "$base" "$nginx_rps" " (no cache)" <<<"$routes"
  echo "peak resident memory without the cache: $(awk '/VmHWM/ {printf "%.1f MiB", $2/1024}' "/proc/$pid/status")"
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

bench_backend sqlite "sqlite://$WORK/bench.db"

if psql "$PG_ADMIN_URL" -Atc 'select 1' >/dev/null 2>&1; then
  psql "$PG_ADMIN_URL" -qc 'DROP DATABASE IF EXISTS masthead_bench WITH (FORCE)' -c 'CREATE DATABASE masthead_bench' >/dev/null
  bench_backend postgres "${PG_ADMIN_URL%/*}/masthead_bench"
  psql "$PG_ADMIN_URL" -qc 'DROP DATABASE IF EXISTS masthead_bench WITH (FORCE)' >/dev/null
else
  echo "== postgres: not reachable at $PG_ADMIN_URL (set MASTHEAD_BENCH_POSTGRES_URL); skipped"
fi
