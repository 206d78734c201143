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

# The connection strings of a daemon started by hand, as its own role (as scripts/cluster
# starts them), and the options that make it sign and run as the daemon user.
books_db() { echo "host=$CLUSTER_DIR/run port=$PGPORT user=bibliotime_app$1 dbname=books$1"; }
clock_db() { echo "host=$CLUSTER_DIR/run port=$PGPORT user=bibliotime_time dbname=clock"; }
# The user scripts/cluster runs the daemons as (started by root), asked once.
DAEMON_USER=$(eval "$("$ROOT/scripts/cluster" env)" && echo "$BIBLIOTIME_USER")
daemon_args() {
    printf -- '--key-file\n%s\n' "$CLUSTER_DIR/bibliotime.keys"
    if ((EUID == 0)); then printf -- '--user\n%s\n' "$DAEMON_USER"; fi
}

TEST_NAME=$(basename "$0" .sh)
TEST_TMP=$(mktemp -d "/tmp/bibliotime-$TEST_NAME.XXXXXX")
# Daemons started by root run as the daemon user and write their screenshots here.
if ((EUID == 0)); then
    chgrp "$(id -gn "$DAEMON_USER")" "$TEST_TMP"
    chmod 770 "$TEST_TMP"
fi
EXTRA_PIDS=()
# shellcheck source=../lib/checks.sh
source "$ROOT/test/lib/checks.sh"

cluster() { "$ROOT/scripts/cluster" "$@"; }

sql() { psql -X -q -At -v ON_ERROR_STOP=1 -h "$CLUSTER_DIR/run" -p "$PGPORT" -U postgres -d "${DB:-clock}" -c "$1"; }

# The cluster's key file (scripts/cluster makes it): the tools sign their control calls
# with it, as the daemons do. clockctl_unsigned/bookctl_unsigned call without it.
KEY_FILE=$CLUSTER_DIR/bibliotime.keys
key_args() { [[ -r $KEY_FILE ]] && printf -- '--key-file\n%s\n' "$KEY_FILE"; return 0; }
clockctl() { local k; mapfile -t k < <(key_args); "$TOOLS/clockctl" "$@" ${k[@]+"${k[@]}"}; }
clockctl_unsigned() { "$TOOLS/clockctl" "$@"; }


# The value of KEY in "key=value ..." output.
field() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<<"$2"; }

abs() { local v=$1; echo "${v#-}"; }

# What PART (time_server, app1, app2) logged since scripts/cluster started it.
part_log() {
    local pos=0
    read -r pos <"$CLUSTER_DIR/run/$1.logpos" || fail "$1 is not running"
    tail -c +$((pos + 1)) "$CLUSTER_DIR/log/$1.log"
}

# The app servers of this test: APP_SERVERS (default 2) for scripts/cluster too.
export APP_SERVERS=${APP_SERVERS:-2}
APP_PARTS=()
for ((_n = 1; _n <= APP_SERVERS; _n++)); do APP_PARTS+=("app$_n"); done
SERVERS=$(seq 1 "$APP_SERVERS")

# Starts the replication server, the coordinator and the app servers on a fresh clock
# DB, fresh books DBs holding $CATALOGUE (default: the 15 books) and an empty log.
start_servers() {
    cluster stop "${APP_PARTS[@]}" time_server replication >/dev/null
    sql "TRUNCATE node_sync, sync_round, node RESTART IDENTITY CASCADE"
    cluster reset-data >/dev/null
    cluster start replication time_server "${APP_PARTS[@]}" >/dev/null
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
        cluster stop "${APP_PARTS[@]}" time_server replication >/dev/null || rc=$?
    else
        log "logs of this test: $TEST_TMP and $CLUSTER_DIR/log"
        cluster stop "${APP_PARTS[@]}" time_server replication >/dev/null || true
    fi
    ((rc != 0)) || rm -rf "$TEST_TMP"
    ((rc == 0)) && log "passed ($CHECKS checks)" || log "FAILED"
    exit "$rc"
}
trap finish EXIT

# ---- Helpers of the book tests (test/system/books_*.sh) -------------------------------
bookctl() { local k; mapfile -t k < <(key_args); "$TOOLS/bookctl" "$@" ${k[@]+"${k[@]}"}; }
bookctl_unsigned() { "$TOOLS/bookctl" "$@"; }

# bsql N QUERY: a query on books N; rsql QUERY: on the replication DB.
bsql() { DB=books$1 sql "$2"; }
rsql() { DB=replication sql "$1"; }

log_max_seq() { rsql "SELECT coalesce(max(seq), 0) FROM log"; }

# A field of app server N's STATUS (session, books_left, applied_seq, database_ok ...).
book_status() { field "$2" "$(bookctl status --instance "$1")"; }

# True when app server N (STATUS, over RPC) and its books DB have applied the whole log.
caught_up() {
    local want got
    want=$(log_max_seq)
    got=$(book_status "$1" applied_seq) || return 1
    [[ $got == "$want" ]] && [[ $(bsql "$1" "SELECT applied_seq FROM replica_state") == "$want" ]]
}
wait_caught_up() {
    local n
    for n in $SERVERS; do
        wait_until "app server $n applying the whole log" "${1:-30}" caught_up "$n"
    done
}

# books_dump N DIR: sorted dumps of book, library_user, session, request and
# book_release of books N into DIR/booksN.TABLE (replica_state is the server's own and
# left out).
books_dump() {
    local t
    for t in book library_user session request book_release; do
        bsql "$1" "COPY (SELECT * FROM $t ORDER BY 1) TO STDOUT" >"$2/books$1.$t"
    done
}

# books_same WHAT: every books DB dumped and compared with books1 table by table; fails
# the test on any difference, else passes with the row counts.
books_same() {
    local d=$TEST_TMP/dump.$RANDOM t n counts=""
    mkdir -p "$d"
    for n in $SERVERS; do books_dump "$n" "$d"; done
    for t in book library_user session request book_release; do
        for n in $SERVERS; do
            cmp -s "$d/books1.$t" "$d/books$n.$t" ||
                fail "$1: table $t differs between books1 and books$n: $(diff "$d/books1.$t" "$d/books$n.$t" | head -5 | cut -c1-200)"
        done
        counts+=" $t=$(wc -l <"$d/books1.$t")"
    done
    pass "$1: the $APP_SERVERS books DBs identical row for row (${counts# })"
}

# No book twice in a session, in any DB (the unique constraint is checked as data too):
# requests that still hold their book.
books_no_duplicates() {
    local n dup
    for n in $SERVERS; do
        dup=$(bsql "$n" "SELECT count(*) FROM (SELECT 1 FROM request WHERE released_at IS NULL
                          GROUP BY session_id, isbn HAVING count(*) > 1) d")
        ((dup == 0)) || fail "$1: books$n holds $dup books handed out twice in a session"
    done
}

# The books a client printed with --json, one "request<TAB>session<TAB>isbn<TAB>server"
# line each, sorted (files given as arguments).
printed_books() {
    cat "$@" | sed -n 's/^{"isbn":"\([0-9]*\)".*,"session":\([0-9]*\),"request":\([0-9]*\),"server":\([0-9]*\),.*/\3\t\2\t\1\t\4/p' |
        sort
}
db_books() {
    bsql "$1" "COPY (SELECT id, session_id, isbn, server FROM request) TO STDOUT" | sort
}

# printed_in_dbs WHAT FILE...: every book the clients printed is a request row with the
# same id, session, ISBN and server in every books DB (and, with LOG=1, a BOOK_CLAIM of
# the log with that seq, session and ISBN). Sets PRINTED_TOTAL.
printed_in_dbs() {
    local what=$1 n missing total
    shift
    printed_books "$@" >"$TEST_TMP/printed.tsv"
    total=$(wc -l <"$TEST_TMP/printed.tsv")
    for n in $SERVERS; do
        db_books "$n" >"$TEST_TMP/db$n.tsv"
        missing=$(comm -23 "$TEST_TMP/printed.tsv" "$TEST_TMP/db$n.tsv" | wc -l)
        ((missing == 0)) || fail "$what: $missing of $total printed books not in books$n, e.g. $(comm -23 "$TEST_TMP/printed.tsv" "$TEST_TMP/db$n.tsv" | head -3 | tr '\t\n' ' ;')"
    done
    if [[ ${LOG:-0} == 1 ]]; then
        rsql "COPY (SELECT seq, session, isbn FROM log WHERE kind = 'BOOK_CLAIM') TO STDOUT" |
            sort >"$TEST_TMP/log.tsv"
        missing=$(cut -f1-3 "$TEST_TMP/printed.tsv" | sort | comm -23 - "$TEST_TMP/log.tsv" | wc -l)
        ((missing == 0)) || fail "$what: $missing of $total printed books have no BOOK_CLAIM in the log"
    fi
    PRINTED_TOTAL=$total
}

# server_args "2 1": --server localhost:2 --server localhost:1 (a client's list).
server_args() {
    local n
    for n in $1; do printf -- '--server\nlocalhost:%s\n' "$n"; done
}
# preference I: the app servers in turn from server (I mod APP_SERVERS) + 1, e.g. "2 3 1".
preference() {
    local first=$(($1 % APP_SERVERS)) k out=""
    for ((k = 0; k < APP_SERVERS; k++)); do out+="$(((first + k) % APP_SERVERS + 1)) "; done
    echo "${out% }"
}

# books_client_loop SERVERS NAME COUNT OUT: asks the app servers SERVERS ("1", or a list
# in order of preference, "2 1") for books with `client --request --count COUNT --json`
# again and again until SESSION_OVER (exit 3). Books and summaries go to OUT, stderr to
# OUT.log, one exit status a line to OUT.rc. Exit 1 (unreachable) and 4 (refused) are
# retried after a pause (a back-off, not a readiness check). Gives up with status 9
# after BOOKS_LOOP_TIMEOUT seconds (default 120).
books_client_loop() {
    local servers=$1 name=$2 count=$3 out=$4 rc list
    local deadline=$((SECONDS + ${BOOKS_LOOP_TIMEOUT:-120}))
    mapfile -t list < <(server_args "$servers")
    while ((SECONDS < deadline)); do
        if "$BIN_DIR/client" --headless "${list[@]}" --name "$name" --request \
            --count "$count" --json >>"$out" 2>>"$out.log" </dev/null; then
            rc=0
        else
            rc=$?
        fi
        echo "$rc" >>"$out.rc"
        case $rc in
        0) ;;
        3) return 0 ;;
        1 | 4) sleep 0.05 ;;
        *) return "$rc" ;;
        esac
    done
    return 9
}

# Exit statuses the loops saw, "status:count ..." over the given .rc files.
rc_counts() { cat "$@" 2>/dev/null | sort -n | uniq -c | awk '{printf "%s%s:%s", (NR > 1 ? " " : ""), $2, $1}'; }

# A sanitizer report in what the clients and tools of this test wrote fails it.
no_sanitizer_reports() {
    if grep -lE 'AddressSanitizer|LeakSanitizer|runtime error' "$TEST_TMP"/*.log 2>/dev/null; then
        fail "sanitizer report in the client logs above"
    fi
}
# fail_later MESSAGE: a failed check after which the rest of the test still means
# something: reported at once, and the test fails at its end (failed_later_checks).
FAILED_LATER=()
fail_later() {
    printf '[%s] FAIL: %s\n' "$TEST_NAME" "$*" >&2
    FAILED_LATER+=("$*")
}
failed_later_checks() {
    ((${#FAILED_LATER[@]} == 0)) || fail "${#FAILED_LATER[@]} check(s) failed above"
}
# ---- end of the book tests' helpers ---------------------------------------------------
