#!/usr/bin/env bash
# Generates the typed client from openapi/openapi.json, type-checks the flow against it
# (`tsc --noEmit`: a drift in the document breaks the build), then runs the flow against a live
# server on a fresh SQLite database.
#
#   examples/typescript/run.sh
set -euo pipefail
cd "$(dirname "$0")"
ROOT="$(cd ../.. && pwd)"
PORT="${PORT:-18096}"
WORK="$(mktemp -d /tmp/masthead-typescript.XXXXXX)"
trap 'jobs -p | xargs -r kill 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"' EXIT

npm ci --no-audit --no-fund --loglevel=error
npm run --silent generate
npm run --silent check
npm run --silent build

(cd "$ROOT" && cargo build --quiet)
BIN="$ROOT/target/debug/masthead"
export DATABASE_URL="sqlite://$WORK/example.db" MASTHEAD_LOG=warn
EMAIL="editor@example.com"
PASSWORD="a long example passphrase"
"$BIN" migrate >/dev/null
printf '%s\n' "$PASSWORD" | "$BIN" users add --email "$EMAIL" --name "Eddie Editor" --role editor --password-stdin >/dev/null
MASTHEAD_ADDR="127.0.0.1:$PORT" MASTHEAD_JWT_SECRET="typescript-example-secret-typescript-example" "$BIN" serve &
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done

MASTHEAD_URL="http://127.0.0.1:$PORT" MASTHEAD_EMAIL="$EMAIL" MASTHEAD_PASSWORD="$PASSWORD" npm run --silent flow
