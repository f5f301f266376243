#!/usr/bin/env bash
# Verifies a Masthead webhook delivery (Standard Webhooks signature) with openssl alone.
#
#   verify-signature.sh SECRET WEBHOOK_ID WEBHOOK_TIMESTAMP 'WEBHOOK_SIGNATURE' < body.json
#
# SECRET is the `whsec_…` shown when the webhook was made (or rotated); the other three are the
# request's `webhook-id`, `webhook-timestamp` and `webhook-signature` headers; the body is the raw
# request body, byte for byte (do not re-serialise the JSON). Exits 0 when one of the signatures is
# right and the timestamp is within five minutes of now (replays of old deliveries are refused).
set -euo pipefail
secret="$1" id="$2" timestamp="$3" signatures="$4"
tolerance=300

now=$(date +%s)
if (( timestamp < now - tolerance || timestamp > now + tolerance )); then
  echo "timestamp $timestamp is more than $tolerance s away from now" >&2
  exit 1
fi
# The key is the base64 after `whsec_`; HMAC-SHA256 over "id.timestamp.body", base64-encoded.
key_hex=$(printf '%s' "${secret#whsec_}" | base64 -d | od -An -vtx1 | tr -d ' \n')
expected=$( { printf '%s.%s.' "$id" "$timestamp"; cat; } |
  openssl dgst -sha256 -mac HMAC -macopt "hexkey:$key_hex" -binary | base64)
# Several signatures (`v1,a v1,b`) while an old secret is still valid after a rotation.
for signature in $signatures; do
  if [[ "$signature" == "v1,$expected" ]]; then
    echo "valid"
    exit 0
  fi
done
echo "no signature matches" >&2
exit 1
