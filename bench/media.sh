#!/usr/bin/env bash
# Media benchmark, on SQLite with the local store (the database is not what image work costs):
#
#   bench/media.sh
#   DURATION=20 bench/media.sh
#
# 1. **Serving a variant.** wrk (2 threads, 32 connections, DURATION seconds) on a 640-pixel WebP
#    variant from /media, then on nginx serving the same bytes from a file; the ratio is the figure
#    (target: at least half of nginx).
# 2. **Processing a 24-megapixel JPEG upload.** A 6000 × 4000 photo-like JPEG (made with Pillow in
#    target/bench-venv) uploaded three times; the median of curl's total time, over loopback.
# 3. **Memory.** The server's peak resident memory (VmHWM) at rest, then after four such uploads sent
#    at once (MASTHEAD_MEDIA_CONCURRENCY=2: two are worked on, two wait their turn).
# 4. **Reads during uploads.** wrk on an article by slug for DURATION seconds idle, then while four
#    clients upload 24-megapixel JPEGs one after another without pause; the ratio is the figure
#    (target: at least 80 %).
# Needs wrk and nginx (installed with apt-get when missing and running as root).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION="${DURATION:-10}"
PORT="${PORT:-18092}"
NGINX_PORT="${NGINX_PORT:-18093}"
WORK="$(mktemp -d /tmp/masthead-bench-media.XXXXXX)"
stop_nginx() { [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null; rm -f "$WORK/nginx.pid"; }
trap 'jobs -p | xargs -r kill 2>/dev/null; wait 2>/dev/null; stop_nginx; rm -rf "$WORK"' EXIT

# shellcheck source=bench/lib.sh
source bench/lib.sh
need wrk wrk
need nginx nginx-light

VENV="target/bench-venv"
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import PIL' 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q 'pillow==11.3.0'
fi
echo "== a 24-megapixel JPEG"
"$VENV/bin/python" - "$WORK/photo.jpg" <<'PY'
import random, sys
from PIL import Image, ImageFilter
# A photo's worth of detail: smooth gradients with fine noise, so the JPEG is as large as a
# camera's (several MB), not a flat image that compresses to nothing.
width, height = 6000, 4000
small = Image.new("RGB", (600, 400))
small.putdata([(x * 255 // 600, y * 255 // 400, (x * y) % 256) for y in range(400) for x in range(600)])
image = small.resize((width, height), Image.BICUBIC)
noise = Image.effect_noise((width, height), 40).convert("RGB")
Image.blend(image, noise, 0.25).filter(ImageFilter.SMOOTH).save(sys.argv[1], quality=90)
PY
ls -l "$WORK/photo.jpg" | awk '{printf "   %.1f MB\n", $5 / 1048576}'

echo "== building the release binary"
cargo build --release --quiet
BIN="$PWD/target/release/masthead"

export DATABASE_URL="sqlite://$WORK/bench.db" MASTHEAD_LOG=warn
"$BIN" demo --articles 200 >/dev/null
MASTHEAD_ADDR="127.0.0.1:$PORT" MASTHEAD_JWT_SECRET="media-bench-secret-media-bench-secret-media" \
  MASTHEAD_MEDIA_CONCURRENCY=2 "$BIN" serve &
SERVER=$!
wait_ready "$PORT"
base="http://127.0.0.1:$PORT"
TOKEN=$(curl -sf -X POST "$base/api/v1/auth/login" -H 'Content-Type: application/json' \
  -d '{"email": "ada.lovelace@demo.masthead", "password": "demo-password-0"}' |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')
upload() { curl -sf -o "${2:-/dev/null}" -w '%{time_total}\n' -X POST "$base/api/v1/admin/media" \
  -H "Authorization: Bearer $TOKEN" -F "file=@$1" -F 'alt=Benchmark photo'; }
peak_kib() { awk '/VmHWM/ {print $2}' "/proc/$SERVER/status"; }
# wrk's rate, refusing a run that had error answers (wrk counts them in its rate).
rate() {
  local report
  report=$(wrk -t2 -c32 -d"${DURATION}s" "$1" 2>&1)
  if grep -q 'Non-2xx' <<<"$report"; then echo "bench: error answers from $1" >&2; echo "$report" >&2; exit 1; fi
  awk '/Requests\/sec/ {print $2}' <<<"$report"
}

echo "== memory at rest"
REST_KIB=$(peak_kib)

echo "== processing a 24-megapixel JPEG upload (3 runs)"
TIMES=()
for run in 1 2 3; do TIMES+=("$(upload "$WORK/photo.jpg" "$WORK/upload-$run.json")"); done
UPLOAD_S=$(printf '%s\n' "${TIMES[@]}" | sort -n | sed -n 2p)

echo "== peak memory, four uploads at once"
UPLOADERS=()
for _ in 1 2 3 4; do upload "$WORK/photo.jpg" >/dev/null & UPLOADERS+=($!); done
for pid in "${UPLOADERS[@]}"; do wait "$pid" || { echo "bench: an upload failed" >&2; exit 1; }; done
PEAK_KIB=$(peak_kib)

echo "== a variant against nginx (${DURATION} s each)"
VARIANT_URL=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["data"]["variants"][1]["webp_url"])' "$WORK/upload-1.json")
mkdir -p "$WORK/static"
curl -sf "$VARIANT_URL" -o "$WORK/static/variant.webp"
# nginx's workers run as another user: they must be able to read the file.
chmod a+rx "$WORK" "$WORK/static"
chmod a+r "$WORK/static/variant.webp"
cat > "$WORK/nginx.conf" <<EOF
worker_processes 1;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  types { image/webp webp; }
  server { listen 127.0.0.1:$NGINX_PORT; root $WORK/static; }
}
EOF
nginx -c "$WORK/nginx.conf"
VARIANT_RATE=$(rate "$VARIANT_URL")
NGINX_RATE=$(rate "http://127.0.0.1:$NGINX_PORT/variant.webp")
stop_nginx

echo "== article reads, idle and during uploads (${DURATION} s each)"
SLUG=$(curl -sf "$base/api/v1/articles?per_page=1" | python3 -c 'import json, sys; print(json.load(sys.stdin)["data"][0]["slug"])')
ARTICLE="$base/api/v1/articles/$SLUG"
IDLE_RATE=$(rate "$ARTICLE")
library_size() { curl -sf "$base/api/v1/admin/media?per_page=1" -H "Authorization: Bearer $TOKEN" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["meta"]["total"])'; }
BEFORE=$(library_size)
touch "$WORK/uploading"
UPLOADERS=()
for _ in 1 2 3 4; do
  (while [ -f "$WORK/uploading" ]; do upload "$WORK/photo.jpg" >/dev/null || true; done) &
  UPLOADERS+=($!)
done
sleep 1
BUSY_RATE=$(rate "$ARTICLE")
DURING=$(( $(library_size) - BEFORE ))
rm -f "$WORK/uploading"
wait "${UPLOADERS[@]}" 2>/dev/null || true

python3 - "$VARIANT_RATE" "$NGINX_RATE" "$UPLOAD_S" "$REST_KIB" "$PEAK_KIB" "$IDLE_RATE" "$BUSY_RATE" "$(stat -c %s "$WORK/static/variant.webp")" "$DURING" <<'PY'
import sys
variant, nginx, upload, rest, peak, idle, busy, size, during = map(float, sys.argv[1:])
print()
print(f"| measure | figure | target |")
print(f"|---|---:|---|")
print(f"| 640-px WebP variant ({size / 1024:.0f} KiB) from /media | {variant:,.0f} req/s = {variant / nginx:.2f} × nginx ({nginx:,.0f} req/s) | ≥ 0.5 × nginx |")
print(f"| 24-megapixel JPEG upload, processed and stored (median of 3) | {upload:.2f} s | |")
print(f"| peak resident memory: at rest / after four such uploads at once | {rest / 1024:.0f} MiB / {peak / 1024:.0f} MiB | bounded by MASTHEAD_MEDIA_CONCURRENCY=2 |")
print(f"| article reads while four clients upload without pause ({during:.0f} uploads done meanwhile) | {busy:,.0f} req/s = {busy / idle:.2f} × idle ({idle:,.0f} req/s) | ≥ 0.8 × idle |")
PY
