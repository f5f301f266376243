#!/usr/bin/env bash
# Webhook signatures checked by code nobody on this project wrote: a release server sends real
# deliveries (publication, an edit, a ping, after a secret rotation) to a receiver that verifies
# each with the reference `standardwebhooks` library (PyPI); then the shell example
# (examples/webhooks/verify-signature.sh) verifies one with openssl. Any invalid or missing
# delivery fails the run.
set -euo pipefail
cd "$(dirname "$0")/../.."

PORT="${PORT:-18096}" RECEIVER_PORT="${RECEIVER_PORT:-18097}"
WORK="$(mktemp -d /tmp/masthead-webhooks.XXXXXX)"
VENV="target/contract-venv"
trap 'jobs -p | xargs -r kill 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"' EXIT

if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import standardwebhooks' 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q -r tests/contract/requirements.txt
fi

cargo build --release --quiet
BIN="target/release/masthead"
export DATABASE_URL="sqlite://$WORK/webhooks.db" MASTHEAD_LOG=warn
"$BIN" demo --articles 3 >/dev/null
echo "whsec_AAAA" > "$WORK/secret"
"$VENV/bin/python" tests/contract/webhook_receiver.py "$RECEIVER_PORT" "$WORK/secret" "$WORK/received.jsonl" &
# The receiver is on loopback: private receivers must be allowed for this run.
MASTHEAD_ADDR="127.0.0.1:$PORT" MASTHEAD_JWT_SECRET="webhooks-secret-webhooks-secret-webhooks" \
  MASTHEAD_WEBHOOK_ALLOW_PRIVATE=true MASTHEAD_WEBHOOK_POLL_MS=100 "$BIN" serve &
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done

api="http://127.0.0.1:$PORT/api/v1"
json() { python3 -c "import json, sys; print(json.load(sys.stdin)$1)"; }
TOKEN=$(curl -sf -X POST "$api/auth/login" -H 'Content-Type: application/json' \
  -d '{"email": "ada.lovelace@demo.masthead", "password": "demo-password-0"}' | json '["access_token"]')
call() { curl -sf -X "$1" "$api$2" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' ${3:+-d "$3"}; }

hook=$(call POST /admin/webhooks "{\"url\": \"http://127.0.0.1:$RECEIVER_PORT/hook\", \"events\": [\"*\"]}")
hook_id=$(echo "$hook" | json '["data"]["id"]')
echo "$hook" | json '["data"]["secret"]' > "$WORK/secret"

article=$(call POST /admin/articles '{"title": "Signed and delivered", "body_markdown": "Hello, *receivers*."}' | json '["data"]["id"]')
call POST "/admin/articles/$article/publish" >/dev/null
call PATCH "/admin/articles/$article" '{"title": "Signed, sealed and delivered"}' >/dev/null
call POST "/admin/webhooks/$hook_id/test" >/dev/null
expected=3

wait_for() {
  for _ in $(seq 1 100); do
    [ "$(wc -l < "$WORK/received.jsonl" 2>/dev/null || echo 0)" -ge "$1" ] && return 0
    sleep 0.1
  done
  echo "expected $1 deliveries, got $(wc -l < "$WORK/received.jsonl" 2>/dev/null || echo 0)" >&2
  exit 1
}
wait_for "$expected"

# After a rotation the receiver knows only the new secret; deliveries carry both signatures.
call POST "/admin/webhooks/$hook_id/rotate-secret" | json '["data"]["secret"]' > "$WORK/secret"
call POST "/admin/webhooks/$hook_id/test" >/dev/null
expected=$((expected + 1))
wait_for "$expected"

echo "Deliveries as the reference library judged them:"
python3 - "$WORK/received.jsonl" <<'PY'
import json, sys
lines = [json.loads(line) for line in open(sys.argv[1])]
for line in lines:
    print(f"  {line['event']:<20} {line['verdict']}")
events = sorted(line["event"] for line in lines)
assert events == ["article.published", "article.updated", "ping", "ping"], events
assert all(line["verdict"] == "valid" for line in lines), "a delivery failed verification"
PY

echo "The shell example verifies the last delivery:"
last=$(tail -n 1 "$WORK/received.jsonl")
field() { echo "$last" | json "[\"$1\"]"; }
field body | base64 -d | examples/webhooks/verify-signature.sh "$(cat "$WORK/secret")" "$(field id)" "$(field timestamp)" "$(field signature)"
# And refuses a tampered body.
if { field body | base64 -d; echo -n " "; } | examples/webhooks/verify-signature.sh "$(cat "$WORK/secret")" "$(field id)" "$(field timestamp)" "$(field signature)" 2>/dev/null; then
  echo "a tampered body verified" >&2
  exit 1
fi
echo "webhook signatures: OK"
