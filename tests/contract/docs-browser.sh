#!/usr/bin/env bash
# Runs tests/contract/docs-browser.mjs: /docs in headless Chromium against a live server on SQLite
# with demo content, every other host blocked. Needs Debian's chromium (installed with apt-get
# when missing and running as root; playwright-core's own browser downloads are not used).
set -euo pipefail
cd "$(dirname "$0")"
ROOT="$(cd ../.. && pwd)"
PORT="${PORT:-18097}"
WORK="$(mktemp -d /tmp/masthead-docs.XXXXXX)"
trap 'jobs -p | xargs -r kill 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"' EXIT

if ! command -v chromium >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get install -y -q chromium >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }
  fi
  command -v chromium >/dev/null || { echo "docs-browser: chromium is needed (apt-get install chromium)" >&2; exit 1; }
fi
[ -d node_modules/playwright-core ] || npm ci --no-audit --no-fund --loglevel=error

(cd "$ROOT" && cargo build --quiet)
BIN="$ROOT/target/debug/masthead"
export DATABASE_URL="sqlite://$WORK/docs.db" MASTHEAD_LOG=warn
"$BIN" demo --articles 30 >/dev/null
MASTHEAD_ADDR="127.0.0.1:$PORT" MASTHEAD_JWT_SECRET="docs-browser-secret-docs-browser-secret" "$BIN" serve &
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done

MASTHEAD_URL="http://127.0.0.1:$PORT" CHROMIUM="$(command -v chromium)" node docs-browser.mjs
