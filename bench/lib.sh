# What the benchmark scripts share; sourced by them (from the repository's root).

# need COMMAND PACKAGE: installs PACKAGE with apt-get when COMMAND is missing (as root), or stops.
need() {
  command -v "$1" >/dev/null && return
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get install -y -q "$2" >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q "$2" >/dev/null; }
  fi
  command -v "$1" >/dev/null || { echo "bench: $1 is needed (apt-get install $2)" >&2; exit 1; }
}

# release_binary: MASTHEAD_BIN as given, else the release binary, built now.
release_binary() {
  if [ -z "${MASTHEAD_BIN:-}" ]; then
    echo "== building the release binary"
    cargo build --release --quiet
    MASTHEAD_BIN="$PWD/target/release/masthead"
  fi
}

# wait_ready PORT: until the server on 127.0.0.1:PORT is ready (10 s at most).
wait_ready() {
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$1/readyz" >/dev/null && return; sleep 0.1; done
}
