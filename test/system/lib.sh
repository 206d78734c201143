# Shared by the system tests: sourced, never run. Each test starts the parts it needs
# through scripts/cluster (rpcbind, PostgreSQL and chronyd are left running by
# test/run-all between tests) and checks what the system does over RPC and in the DB.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
export BIN_DIR=${BIN_DIR:-$ROOT/build/san/bin}
TOOLS=${TOOLS:-$ROOT/build/san/test}
export CLUSTER_DIR=${CLUSTER_DIR:-$ROOT/var/test}
export PGPORT=${PGPORT:-55432}
export NTP_PORT=${NTP_PORT:-11123}
export READY_TIMEOUT=${READY_TIMEOUT:-30}

TIME_PROG=723189760     # 0x2b1b0000
CLOCK_BASE=723190016    # 0x2b1b0100
APP1_PROG=$((CLOCK_BASE + 1))
APP2_PROG=$((CLOCK_BASE + 2))
CLIENT1_PROG=1073741825 # 0x40000001, a transient number for a client's read-only clock
CLIENT2_PROG=1073741826
REPL_PROG=723190272     # 0x2b1b0200
BOOK_BASE=723190528     # 0x2b1b0300
BOOK1_PROG=$((BOOK_BASE + 1))
BOOK2_PROG=$((BOOK_BASE + 2))

books_db() { echo "host=$CLUSTER_DIR/run port=$PGPORT user=postgres dbname=books$1"; }

TEST_NAME=$(basename "$0" .sh)
TEST_TMP=$(mktemp -d "/tmp/bibliotime-$TEST_NAME.XXXXXX")
CHECKS=0
EXTRA_PIDS=()

log() { printf '[%s] %s\n' "$TEST_NAME" "$*"; }
fail() {
    printf '[%s] FAIL: %s\n' "$TEST_NAME" "$*" >&2
    exit 1
}
pass() {
    CHECKS=$((CHECKS + 1))
    printf '[%s] ok %d - %s\n' "$TEST_NAME" "$CHECKS" "$*"
}

cluster() { "$ROOT/scripts/cluster" "$@"; }

sql() { psql -X -q -At -v ON_ERROR_STOP=1 -h "$CLUSTER_DIR/run" -p "$PGPORT" -U postgres -d "${DB:-clock}" -c "$1"; }

clockctl() { "$TOOLS/clockctl" "$@"; }

# wait_until DESCRIPTION TIMEOUT_S COMMAND...: polls COMMAND (every 50 ms) until it
# succeeds; fails the test with DESCRIPTION when TIMEOUT_S passes first.
wait_until() {
    local what=$1 timeout=$2
    shift 2
    local deadline=$((SECONDS + timeout))
    until "$@" >/dev/null 2>&1; do
        ((SECONDS < deadline)) || fail "timed out after ${timeout}s waiting for: $what"
        sleep 0.05
    done
}

# The value of KEY in "key=value ..." output.
field() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<<"$2"; }

abs() { local v=$1; echo "${v#-}"; }

# What PART (time_server, app1, app2) logged since scripts/cluster started it.
part_log() {
    local pos=0
    read -r pos <"$CLUSTER_DIR/run/$1.logpos" || fail "$1 is not running"
    tail -c +$((pos + 1)) "$CLUSTER_DIR/log/$1.log"
}

# Starts the replication server, the coordinator and both app servers on a fresh clock
# DB, fresh books DBs holding $CATALOGUE (default: the 15 books) and an empty log.
start_servers() {
    cluster stop app1 app2 time_server replication >/dev/null
    sql "TRUNCATE node_sync, sync_round, node RESTART IDENTITY CASCADE"
    cluster reset-data >/dev/null
    cluster start replication time_server app1 app2 >/dev/null
}

# Rounds in which every one of N nodes was synchronised.
applied_rounds() {
    sql "SELECT count(*) FROM (SELECT round_id FROM node_sync WHERE outcome = 'applied'
         GROUP BY round_id HAVING count(*) = $1) r"
}
rounds_at_least() { (($(applied_rounds "$1") >= $2)); }

# Starts a headless client that serves its clock read-only at PROG; logs to TEST_TMP.
start_client() {
    local instance=$1 prog=$2
    shift 2
    "$BIN_DIR/client" --headless --server localhost --instance "$instance" --tm "${TM:-1}" \
        --clock-program "$prog" "$@" >"$TEST_TMP/client$instance.log" 2>&1 </dev/null &
    EXTRA_PIDS+=($!)
    wait_until "client $instance serving its clock" 20 rpcinfo -T tcp localhost "$prog" 1
}

# Ends the extra processes this test started; a sanitizer report in their logs fails it.
stop_extras() {
    local pid rc=0
    for pid in "${EXTRA_PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null || continue
        wait "$pid" || rc=$?
        ((rc == 0)) || fail "process $pid exited with status $rc after SIGTERM"
    done
    EXTRA_PIDS=()
    if grep -lE 'AddressSanitizer|LeakSanitizer|runtime error' "$TEST_TMP"/*.log 2>/dev/null; then
        fail "sanitizer report in the logs above"
    fi
}

finish() {
    local rc=$?
    trap - EXIT
    for pid in "${EXTRA_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    if ((rc == 0)); then
        cluster stop app1 app2 time_server replication >/dev/null || rc=$?
    else
        log "logs of this test: $TEST_TMP and $CLUSTER_DIR/log"
        cluster stop app1 app2 time_server replication >/dev/null || true
    fi
    ((rc != 0)) || rm -rf "$TEST_TMP"
    ((rc == 0)) && log "passed ($CHECKS checks)" || log "FAILED"
    exit "$rc"
}
trap finish EXIT
