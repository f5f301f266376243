# What the benchmark scripts share; sourced by them (from the repository's root).

# need COMMAND PACKAGE: installs PACKAGE with apt-get when COMMAND is missing (as root), or stops.
need() {
  command -v "$1" >/dev/null && return
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get install -y -q "$2" >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q "$2" >/dev/null; }
  fi
  command -v "$1" >/dev/null || { echo "bench: $1 is needed (apt-get install $2)" >&2; exit 1; }
}
