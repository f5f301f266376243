#!/usr/bin/env bash
# The Dockerfile, built unchanged and run: Debian's podman (with runc) builds the image, which then
# serves on SQLite (a data directory on a volume) and on PostgreSQL. For each: the server starts as
# user 10001, `masthead users add` works through the image, an admin logs in, writes and publishes
# an article that a public read then finds, and `podman stop` (SIGTERM) ends it with status 0
# within its 10 s.
#
# This machine reaches no public image registry, so the two base images the Dockerfile names are
# made here (see ../shared/NOTES.md): `debian:bookworm-slim` by debootstrap from the Debian mirror
# apt uses, and `rust:1.95-slim-bookworm` as that plus this machine's Rust toolchain. A machine
# that can pull them uses the real ones (set CONTAINER_PULL=1).
#
#   tests/container/run.sh
#   PG_ADMIN_URL=postgres://root@127.0.0.1:5432/postgres tests/container/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

PORT="${PORT:-18095}"
PG_ADMIN_URL="${PG_ADMIN_URL:-postgres://root@127.0.0.1:5432/postgres}"
IMAGE=localhost/masthead-ci
WORK="$(mktemp -d /tmp/masthead-container.XXXXXX)"
DB="masthead_container_$$"
cleanup() {
  podman rm -f masthead-ci-sqlite masthead-ci-postgres >/dev/null 2>&1 || true
  psql "$PG_ADMIN_URL" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
  # The build stage's layers (about 3 GB), kept by nothing once the image is made.
  podman image prune -f >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

if ! command -v podman >/dev/null || ! command -v runc >/dev/null || ! command -v debootstrap >/dev/null; then
  echo "== installing podman, runc and debootstrap"
  apt-get install -y -q podman runc debootstrap >/dev/null ||
    { apt-get update -q >/dev/null && apt-get install -y -q podman runc debootstrap >/dev/null; }
fi
# crun (podman's default) refuses this machine's cgroups and rlimits; runc and cgroupfs work.
cat >"$WORK/containers.conf" <<'CONF'
[containers]
default_ulimits = []
[engine]
cgroup_manager = "cgroupfs"
CONF
export CONTAINERS_CONF="$WORK/containers.conf"
podman() { command podman --runtime runc "$@"; }

if [ "${CONTAINER_PULL:-0}" != 1 ]; then
  if ! podman image exists docker.io/library/debian:bookworm-slim; then
    echo "== base image debian:bookworm-slim (debootstrap)"
    mirror=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
    debootstrap --variant=minbase bookworm "$WORK/rootfs" "${mirror:-http://deb.debian.org/debian}" >/dev/null
    tar -C "$WORK/rootfs" -c . | podman import --quiet - docker.io/library/debian:bookworm-slim >/dev/null
    rm -rf "$WORK/rootfs"
  fi
  if ! podman image exists docker.io/library/rust:1.95-slim-bookworm; then
    echo "== base image rust:1.95-slim-bookworm (this machine's toolchain on debian:bookworm-slim)"
    toolchain="$(rustc --print sysroot)"
    mkdir -p "$WORK/rust/toolchain"
    # The compiler and standard library; not the documentation.
    cp -a "$toolchain/bin" "$toolchain/lib" "$toolchain/libexec" "$WORK/rust/toolchain/"
    # Inside a container crates.io is trusted through this machine's CA bundle.
    cp /etc/ssl/certs/ca-certificates.crt "$WORK/rust/host-ca.crt"
    cat >"$WORK/rust/Containerfile" <<'RUST'
FROM docker.io/library/debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY toolchain /usr/local/rust
COPY host-ca.crt /usr/local/share/host-ca.crt
ENV PATH=/usr/local/rust/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    CARGO_HOME=/usr/local/cargo \
    CARGO_HTTP_CAINFO=/usr/local/share/host-ca.crt
RUST
    podman build --quiet --pull=never --isolation chroot -t docker.io/library/rust:1.95-slim-bookworm "$WORK/rust" >/dev/null
    rm -rf "$WORK/rust"
  fi
fi

echo "== podman build (the Dockerfile, unchanged)"
pull=--pull=never
[ "${CONTAINER_PULL:-0}" = 1 ] && pull=--pull=missing
started=$(date +%s)
podman build --quiet "$pull" --isolation chroot -t "$IMAGE" . >/dev/null
echo "built in $(($(date +%s) - started)) s; $(podman image inspect --format '{{.Size}}' "$IMAGE" | awk '{ printf "%.1f MB", $1 / 1e6 }')"

SECRET="container-check-secret-container-check-secret"
PASSWORD="container-check-password"

# check NAME DATABASE_URL [podman run options…]: serve from the image and drive it.
check() {
  local name="$1" url="$2"
  shift 2
  echo "== $name"
  # One left by a run that was killed.
  podman rm -f "masthead-ci-$name" >/dev/null 2>&1 || true
  local run=(--network host -e "MASTHEAD_JWT_SECRET=$SECRET" -e "MASTHEAD_ADDR=127.0.0.1:$PORT" "$@")
  [ -n "$url" ] && run+=(-e "DATABASE_URL=$url")
  echo "$PASSWORD" | podman run --rm -i "${run[@]}" "$IMAGE" users add --email admin@container.test \
    --name Admin --role admin --password-stdin >/dev/null
  podman run -d --name "masthead-ci-$name" "${run[@]}" "$IMAGE" >/dev/null
  local base="http://127.0.0.1:$PORT"
  for _ in $(seq 1 100); do curl -sf "$base/readyz" >/dev/null && break; sleep 0.1; done
  curl -sf "$base/readyz" >/dev/null || { podman logs "masthead-ci-$name" >&2; exit 1; }
  local pid uid
  pid=$(podman inspect --format '{{.State.Pid}}' "masthead-ci-$name")
  uid=$(awk '/^Uid:/ { print $2 }' "/proc/$pid/status")
  [ "$uid" = 10001 ] || { echo "the server runs as $uid, not 10001" >&2; exit 1; }
  python3 - "$base/api/v1" "$PASSWORD" <<'PY'
import json, sys, urllib.request
base, password = sys.argv[1], sys.argv[2]
def call(method, path, body=None, token=None):
    request = urllib.request.Request(base + path, method=method, data=json.dumps(body).encode() if body is not None else None)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(request, timeout=10) as answer:
        return answer.status, answer.headers, json.load(answer)
_, _, login = call("POST", "/auth/login", {"email": "admin@container.test", "password": password})
token = login["access_token"]
status, _, created = call("POST", "/admin/articles", {"title": "From a container", "body_markdown": "*Hello.*"}, token)
assert status == 201, status
call("POST", "/admin/articles/%d/publish" % created["data"]["id"], None, token)
status, headers, article = call("GET", "/articles/from-a-container")
assert status == 200 and "<em>Hello.</em>" in article["data"]["body_html"], article
assert headers.get("Content-Type", "").startswith("application/json"), dict(headers)
print("served a published article as user 10001")
PY
  started=$(date +%s)
  podman stop -t 10 "masthead-ci-$name" >/dev/null
  local stopped=$(($(date +%s) - started)) code
  code=$(podman inspect --format '{{.State.ExitCode}}' "masthead-ci-$name")
  [ "$code" = 0 ] || { podman logs "masthead-ci-$name" >&2; echo "exit status $code after SIGTERM" >&2; exit 1; }
  echo "stopped by SIGTERM in ${stopped} s, exit status 0"
  podman rm "masthead-ci-$name" >/dev/null
}

# SQLite on a volume the image's user owns.
mkdir -p "$WORK/data"
chown 10001:10001 "$WORK/data"
check sqlite "" -v "$WORK/data:/data"
[ "$(stat -c %u "$WORK/data/masthead.db")" = 10001 ] || { echo "the database is not the image user's" >&2; exit 1; }

psql "$PG_ADMIN_URL" -qc "CREATE DATABASE $DB"
check postgres "${PG_ADMIN_URL%/*}/$DB"
