#!/usr/bin/env bash
# Starts an S3-compatible server (moto, from PyPI) on loopback with an empty bucket, for the media
# tests against S3, and prints the variables that point the tests at it:
#
#   eval "$(tests/s3-server.sh)"     # then: cargo test
#
# The server runs in the background until the shell that started it exits (or `kill $S3_SERVER_PID`).
# Installs moto (tests/contract/requirements.txt) into target/contract-venv on first use.
set -euo pipefail
cd "$(dirname "$0")/.."

PORT="${S3_PORT:-19100}"
BUCKET="masthead-test"
VENV="target/contract-venv"
if [ ! -x "$VENV/bin/moto_server" ]; then
  [ -x "$VENV/bin/pip" ] || python3 -m venv "$VENV" >&2
  "$VENV/bin/pip" install -q -r tests/contract/requirements.txt >&2
fi
"$VENV/bin/moto_server" -H 127.0.0.1 -p "$PORT" >target/s3-server.log 2>&1 &
PID=$!
for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$PORT/" && break; sleep 0.1; done
# moto takes unsigned requests: the bucket is made with a plain PUT.
curl -sf -X PUT "http://127.0.0.1:$PORT/$BUCKET" -o /dev/null
cat <<VARS
export S3_SERVER_PID=$PID
export MASTHEAD_TEST_S3_BUCKET=$BUCKET
export AWS_ENDPOINT=http://127.0.0.1:$PORT
export AWS_ALLOW_HTTP=true
export AWS_ACCESS_KEY_ID=masthead-test
export AWS_SECRET_ACCESS_KEY=masthead-test
export AWS_REGION=us-east-1
VARS
