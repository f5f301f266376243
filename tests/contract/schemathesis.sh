#!/usr/bin/env bash
# Fuzzes the live API against openapi/openapi.json with Schemathesis: every operation, all checks
# (Schemathesis' default; `--checks all` would override schemathesis.toml's one narrowing),
# with an editor's (admin's) token, including the stateful (links) phase. Zero failures or exit 1;
# each failure prints the request that reproduces it.
#
#   tests/contract/schemathesis.sh                 # debug build, SQLite with demo content
#   MAX_EXAMPLES=100 tests/contract/schemathesis.sh
#
# Installs Schemathesis (tests/contract/requirements.txt) into target/contract-venv on first use.
set -euo pipefail
cd "$(dirname "$0")/../.."

PORT="${PORT:-18095}"
WORK="$(mktemp -d /tmp/masthead-schemathesis.XXXXXX)"
VENV="target/contract-venv"
trap 'jobs -p | xargs -r kill 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"' EXIT

if [ ! -x "$VENV/bin/schemathesis" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q -r tests/contract/requirements.txt
fi

cargo build --quiet
BIN="target/debug/masthead"
export DATABASE_URL="sqlite://$WORK/contract.db" MASTHEAD_LOG=warn
"$BIN" demo --articles 200 >/dev/null
# Webhooks may name loopback receivers (the SSRF opt-in), so that valid examples are accepted. A
# site address and small sitemap parts: the sitemap is an index, and its parts exist.
MASTHEAD_ADDR="127.0.0.1:$PORT" MASTHEAD_JWT_SECRET="contract-secret-contract-secret-contract" \
  MASTHEAD_WEBHOOK_ALLOW_PRIVATE=true MASTHEAD_SITE_URL=https://www.example.com MASTHEAD_SITEMAP_PART_URLS=100 \
  "$BIN" serve &
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done

TOKEN=$(curl -sf -X POST "http://127.0.0.1:$PORT/api/v1/auth/login" -H 'Content-Type: application/json' \
  -d '{"email": "ada.lovelace@demo.masthead", "password": "demo-password-0"}' |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')

# One worker: with two, Hypothesis describing its strategies in threads on Python 3.11 can crash in
# `ast.parse` ("AST constructor recursion depth mismatch"), a tool error that would fail CI at random.
"$VENV/bin/schemathesis" --config-file tests/contract/schemathesis.toml run \
  "http://127.0.0.1:$PORT/openapi.json" \
  --header "Authorization: Bearer $TOKEN" \
  ${MAX_EXAMPLES:+--max-examples "$MAX_EXAMPLES"} \
  --workers 1 \
  --seed "${SEED:-1}" \
  --no-color
