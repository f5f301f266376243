#!/usr/bin/env bash
# Masthead's fault suite against the release binary (see tests/faults/faults.py for the scenarios).
#
#   tests/faults/run.sh                              # every scenario, SQLite and PostgreSQL
#   FAULTS=bomb,throttle tests/faults/run.sh         # a subset
#   FAULT_BACKENDS=sqlite tests/faults/run.sh        # one backend
#   MASTHEAD_BIN=path/to/masthead tests/faults/run.sh   # an existing binary, no build
#
# PostgreSQL: MASTHEAD_TEST_POSTGRES_URL (default postgres://root@127.0.0.1:5432/postgres), a role
# that may create databases; each scenario gets a fresh database, dropped afterwards. Needs
# python3 (standard library only), the brotli CLI and psql (installed with apt-get when missing and
# running as root). Prints one PASS/FAIL line per check; exits 1 when any check failed.
set -euo pipefail
cd "$(dirname "$0")/../.."

need() {
  command -v "$1" >/dev/null && return
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get install -y -q "$2" >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q "$2" >/dev/null; }
  fi
  command -v "$1" >/dev/null || { echo "faults: $1 is needed (apt-get install $2)" >&2; exit 1; }
}
need python3 python3
need brotli brotli
need psql postgresql-client
need pg_isready postgresql-client
# The operations scenario: promtool checks the metrics, and a real Prometheus scrapes them.
need promtool prometheus
need prometheus prometheus

export MASTHEAD_TEST_POSTGRES_URL="${MASTHEAD_TEST_POSTGRES_URL:-postgres://root@127.0.0.1:5432/postgres}"

if [ -z "${MASTHEAD_BIN:-}" ]; then
  echo "== building the release binary"
  cargo build --release --locked --quiet
  MASTHEAD_BIN="$PWD/target/release/masthead"
fi
export MASTHEAD_BIN

# PostgreSQL is started when it is local and down, as .ci/run does; if it stays unreachable, the
# PostgreSQL checks fail (they are not skipped: FAULT_BACKENDS=sqlite is the way to leave them out).
if [[ ",${FAULT_BACKENDS:-postgres}," == *,postgres,* ]] && ! pg_isready -q -d "$MASTHEAD_TEST_POSTGRES_URL"; then
  if [ "$(id -u)" = 0 ] && command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
    for _ in $(seq 1 30); do
      pg_isready -q -d "$MASTHEAD_TEST_POSTGRES_URL" && break
      sleep 1
    done
  fi
fi

# exec: signals reach the suite directly, and its own clean-up (servers, proxy, databases,
# temporary files) runs on Ctrl-C and SIGTERM as on a normal exit.
exec python3 -B tests/faults/faults.py
