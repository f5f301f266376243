#!/usr/bin/env bash
# Webhook benchmark: delivery throughput to a loopback receiver, and what the outbox adds to a write.
#
#   bench/webhooks.sh                 # SQLite, and PostgreSQL when reachable
#   EVENTS=1000 DURATION=10 bench/webhooks.sh
#
# For each backend, on a fresh database with a little demo content, the release server:
# 1. **Write latency.** wrk, one connection, PATCHes a published article's title for DURATION
#    seconds, four times: with the webhook (subscribed to every event, receiver nginx answering
#    204) disabled, enabled, disabled, enabled. Enabled, each write also records `article.updated`
#    with the public view, `previous`, and one delivery, which the dispatcher sends meanwhile. It
#    prints the mean median and p99 of each condition, and the difference.
# 2. **Throughput.** EVENTS tag creations are recorded while the receiver is down (their first
#    attempts fail and wait for a retry a minute away); then the receiver starts and the webhook
#    is disabled and enabled again, which makes every waiting delivery due at once. The time from
#    that to the last delivery recorded as succeeded is the figure.
# Needs wrk and nginx (installed with apt-get when missing and running as root).
set -euo pipefail
cd "$(dirname "$0")/.."

EVENTS="${EVENTS:-1000}"
DURATION="${DURATION:-10}"
PORT="${PORT:-18090}"
RECEIVER_PORT="${RECEIVER_PORT:-18091}"
PG_ADMIN_URL="${MASTHEAD_BENCH_POSTGRES_URL:-postgres://root@127.0.0.1:5432/postgres}"
WORK="$(mktemp -d /tmp/masthead-bench-webhooks.XXXXXX)"
stop_nginx() { [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null; rm -f "$WORK/nginx.pid"; }
trap 'jobs -p | xargs -r kill 2>/dev/null; wait 2>/dev/null; stop_nginx; rm -rf "$WORK"' EXIT

# shellcheck source=bench/lib.sh
source bench/lib.sh
need wrk wrk
need nginx nginx-light

echo "== building the release binary"
cargo build --release --quiet
BIN="$PWD/target/release/masthead"

start_receiver() {
  cat > "$WORK/nginx.conf" <<EOF
worker_processes 1;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  server { listen 127.0.0.1:$RECEIVER_PORT; location / { return 204; } }
}
EOF
  nginx -c "$WORK/nginx.conf"
}

api="http://127.0.0.1:$PORT/api/v1"
json() { python3 -c "import json, sys; print(json.load(sys.stdin)$1)"; }
call() { curl -sf -X "$1" "$api$2" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' ${3:+-d "$3"}; }

# wrk, one connection, PATCHing article $1: "p50_ms p99_ms requests"
write_latency() {
  cat > "$WORK/patch.lua" <<EOF
counter = 0
request = function()
  counter = counter + 1
  local body = '{"title": "Benchmark headline ' .. counter .. '"}'
  return wrk.format("PATCH", "/api/v1/admin/articles/$1", {["Content-Type"] = "application/json", ["Authorization"] = "Bearer $TOKEN"}, body)
end
EOF
  wrk -t1 -c1 -d"${DURATION}s" --latency -s "$WORK/patch.lua" "http://127.0.0.1:$PORT" 2>&1 | python3 -c '
import re, sys
text = sys.stdin.read()
def ms(label):
    n, unit = re.search(label + r"\s+([\d.]+)(us|ms|s)\b", text).groups()
    return float(n) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
if errors:
    sys.exit("write benchmark: %s error responses" % errors.group(1))
print("%.3f %.3f %s" % (ms("50%"), ms("99%"), re.search(r"(\d+) requests in", text).group(1)))'
}

bench_backend() {
  local name="$1" url="$2"
  echo "== $name"
  DATABASE_URL="$url" MASTHEAD_LOG=warn "$BIN" demo --articles 20 >/dev/null
  DATABASE_URL="$url" MASTHEAD_LOG=warn MASTHEAD_ADDR="127.0.0.1:$PORT" MASTHEAD_JWT_SECRET="bench-secret-bench-secret-bench-secret" \
    MASTHEAD_WEBHOOK_ALLOW_PRIVATE=true MASTHEAD_WEBHOOK_RETRY_BASE_MS=60000 MASTHEAD_DB_POOL_SIZE=8 "$BIN" serve &
  local server=$!
  wait_ready "$PORT"
  TOKEN=$(curl -sf -X POST "$api/auth/login" -H 'Content-Type: application/json' \
    -d '{"email": "ada.lovelace@demo.masthead", "password": "demo-password-0"}' | json '["access_token"]')
  local article
  article=$(call POST /admin/articles '{"title": "Benchmark headline", "body_markdown": "A body of a few words."}' | json '["data"]["id"]')
  call POST "/admin/articles/$article/publish" >/dev/null

  local hook
  start_receiver
  hook=$(call POST /admin/webhooks "{\"url\": \"http://127.0.0.1:$RECEIVER_PORT/hook\", \"events\": [\"*\"]}" | json '["data"]["id"]')
  # Writes without and with the webhook, alternated (it is disabled, then enabled: an inactive
  # webhook gets no events), so that drift on the machine falls on both alike.
  local without=() with=()
  for round in 1 2; do
    call PATCH "/admin/webhooks/$hook" '{"active": false}' >/dev/null
    without+=("$(write_latency "$article")")
    call PATCH "/admin/webhooks/$hook" '{"active": true}' >/dev/null
    with+=("$(write_latency "$article")")
  done

  # Recorded while the receiver is down: each first attempt fails and waits a minute.
  stop_nginx
  python3 - "$api" "$TOKEN" "$EVENTS" <<'PY'
import json, sys, urllib.request
api, token, events = sys.argv[1], sys.argv[2], int(sys.argv[3])
for n in range(events):
    request = urllib.request.Request(api + "/admin/tags", method="POST", data=json.dumps({"name": "Bench tag %d" % n}).encode(),
                                     headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    urllib.request.urlopen(request).read()
PY
  start_receiver
  local started ended succeeded=0 before
  before=$(call GET "/admin/webhooks/$hook/deliveries?status=succeeded&per_page=1" | json '["meta"]["total"]')
  started=$(date +%s.%N)
  call PATCH "/admin/webhooks/$hook" '{"active": false}' >/dev/null
  call PATCH "/admin/webhooks/$hook" '{"active": true}' >/dev/null
  for _ in $(seq 1 1200); do
    succeeded=$(( $(call GET "/admin/webhooks/$hook/deliveries?status=succeeded&per_page=1" | json '["meta"]["total"]') - before ))
    [ "$succeeded" -ge "$EVENTS" ] && break
    sleep 0.05
  done
  ended=$(date +%s.%N)
  [ "$succeeded" -ge "$EVENTS" ] || { echo "only $succeeded of $EVENTS deliveries succeeded" >&2; exit 1; }

  python3 - "$name" "$EVENTS" "$started" "$ended" "${without[@]}" "${with[@]}" <<'PY'
import statistics, sys
name, events, started, ended = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
runs = [tuple(map(float, run.split())) for run in sys.argv[5:]]
without, with_ = runs[:2], runs[2:]
def summary(pair):
    return statistics.mean(r[0] for r in pair), statistics.mean(r[1] for r in pair), sum(r[2] for r in pair)
b50, b99, bn = summary(without)
h50, h99, hn = summary(with_)
seconds = ended - started
print(f"{name}: {events} deliveries in {seconds:.2f} s ({events / seconds:.0f}/s)")
print(f"{name}: article PATCH p50 {b50:.2f} ms, p99 {b99:.2f} ms without webhooks ({bn:.0f} writes); "
      f"with one: p50 {h50:.2f} ms, p99 {h99:.2f} ms ({hn:.0f} writes); the outbox adds {h50 - b50:+.2f} ms at the median")
PY
  stop_nginx
  kill "$server"
  wait "$server" 2>/dev/null || true
}

bench_backend SQLite "sqlite://$WORK/bench.db"
if psql "$PG_ADMIN_URL" -Atc 'select 1' >/dev/null 2>&1; then
  psql "$PG_ADMIN_URL" -qc 'DROP DATABASE IF EXISTS masthead_bench_webhooks WITH (FORCE)' -c 'CREATE DATABASE masthead_bench_webhooks' >/dev/null
  bench_backend PostgreSQL "${PG_ADMIN_URL%/*}/masthead_bench_webhooks"
  psql "$PG_ADMIN_URL" -qc 'DROP DATABASE IF EXISTS masthead_bench_webhooks WITH (FORCE)' >/dev/null
else
  echo "== PostgreSQL not reachable at $PG_ADMIN_URL: skipped"
fi
