#!/usr/bin/env bash
# Crashes under load (32 clients on both app servers, a catalogue of 1500):
# 1. kill -9 of app server 2, then `scripts/cluster start app2`: it catches up with the
#    log before it serves again; the session still hands out every book once, both
#    books DBs identical, every book a client printed in both.
# 2. kill -9 of the replication server, then start it again: requests meanwhile get
#    "replication unavailable, try again" (exit 4); no acknowledged entry is lost (every
#    book a client printed is a BOOK_CLAIM of the log and a row of both DBs, the log has
#    no gap) and the checks above hold.
# 3. a quick restart of the replication server while the app servers are idle: every
#    worker still holds a connection to the old one, and the next requests on all of
#    them are served (none fails on a connection the old server closed).
source "$(dirname "$0")/lib.sh"

export TM=1
BOOKS=1500 CLIENTS=32 COUNT=5 KILL_AT=400
"$ROOT/db/gen-catalogue" "$BOOKS" >"$TEST_TMP/catalogue.tsv"
export CATALOGUE=$TEST_TMP/catalogue.tsv
start_servers

gone() { ! kill -0 "$1" 2>/dev/null || [[ $(ps -o stat= -p "$1") == Z* ]]; }
handed_out() { bsql 1 "SELECT count(*) FROM request WHERE session_id = $1"; }
at_least() { (($(handed_out "$1") >= $2)); }

# Opens a new session through app server N and waits until both servers are in it;
# sets SESSION.
new_session() {
    local rc=0 out
    out=$("$BIN_DIR/client" --headless --instance "$1" --name opener --new-session --json 2>&1) || rc=$?
    ((rc == 0)) || fail "--new-session: exit $rc ($out)"
    SESSION=$(sed -n 's/^{"session":\([0-9]*\),.*/\1/p' <<<"$out")
    in_session() { [[ $(book_status 1 session) == "$SESSION" && $(book_status 2 session) == "$SESSION" ]]; }
    wait_until "both app servers in session $SESSION" 10 in_session
}
# Starts the client loops of session phase NAME (16 per server) into TEST_TMP/NAME.
start_load() {
    local i
    LOAD_DIR=$TEST_TMP/$1
    LOAD_PIDS=()
    mkdir -p "$LOAD_DIR"
    for i in $(seq 1 $CLIENTS); do
        books_client_loop $((i % 2 + 1)) "reader$i" "$COUNT" "$LOAD_DIR/c$i.out" &
        LOAD_PIDS+=($!)
        EXTRA_PIDS+=($!)
    done
}
# Waits for every loop to end with SESSION_OVER.
end_load() {
    local p bad=0
    for p in "${LOAD_PIDS[@]}"; do wait "$p" || bad=$((bad + 1)); done
    EXTRA_PIDS=()
    ((bad == 0)) || fail "$1: $bad client loops did not end with SESSION_OVER ($(rc_counts "$LOAD_DIR"/*.rc))"
}
# The checks after a crash, for session S.
check_session() {
    local what=$1 s=$2 n got lines uniq
    wait_caught_up 30
    for n in 1 2; do
        got=$(bsql "$n" "SELECT count(*) || ' ' || count(DISTINCT isbn) FROM request WHERE session_id = $s")
        [[ $got == "$BOOKS $BOOKS" ]] || fail "$what: books$n: session $s has '$got' requests/distinct books, expected $BOOKS $BOOKS"
    done
    books_no_duplicates "$what"
    printed_books "$LOAD_DIR"/c*.out >"$LOAD_DIR/printed.tsv"
    lines=$(wc -l <"$LOAD_DIR/printed.tsv")
    uniq=$(cut -f3 "$LOAD_DIR/printed.tsv" | sort -u | wc -l)
    ((lines == uniq)) || fail "$what: clients printed $lines books but only $uniq distinct ISBNs"
    pass "$what: session $s handed out all $BOOKS books once in both DBs; clients printed $lines of them, none twice (exit statuses $(rc_counts "$LOAD_DIR"/*.rc))"
    books_same "$what"
    printed_in_dbs "$what" "$LOAD_DIR"/c*.out
    pass "$what: all $PRINTED_TOTAL books the clients printed are in both DBs (id, session, ISBN, server)"
}
# unprinted_before WHAT S SEQ SERVER: the request rows of session S that no client
# printed can only be claims already in the log at the crash (seq <= SEQ), made through
# SERVER (1, 2 or "any"): their clients lost the answer in the crash. Every claim made
# after it reached its client.
unprinted_before() {
    local what=$1 s=$2 seq=$3 server=$4 rows late by
    bsql 1 "COPY (SELECT id, session_id, isbn, server FROM request WHERE session_id = $s) TO STDOUT" |
        sort | comm -23 - "$LOAD_DIR/printed.tsv" >"$LOAD_DIR/unprinted.tsv"
    rows=$(wc -l <"$LOAD_DIR/unprinted.tsv")
    late=$(awk -F'\t' -v q="$seq" -v sv="$server" '$1 > q || (sv != "any" && $4 != sv)' "$LOAD_DIR/unprinted.tsv" | wc -l)
    ((late == 0)) || fail "$what: $late request rows no client printed are not claims of server $server stored before the crash (seq <= $seq): $(head -3 "$LOAD_DIR/unprinted.tsv" | tr '\t\n' ' ;')"
    [[ $server == any ]] && by="" || by=" through server $server"
    local detail=""
    ((rows == 0)) || detail=" ($(tr '\t\n' ' ;' <"$LOAD_DIR/unprinted.tsv" | head -c 200))"
    pass "$what: $rows request rows no client printed$detail, all claims$by stored before the crash (seq <= $seq)"
}

# ---- 1. kill -9 of app server 2 under load ----
s1=$(book_status 1 session)
start_load app2_crash
wait_until "$KILL_AT books handed out in session $s1" 60 at_least "$s1" $KILL_AT
pid=$(cat "$CLUSTER_DIR/run/app2.pid")
kill -KILL "$pid"
wait_until "app server 2 (pid $pid) gone" 10 gone "$pid"
at_kill=$(handed_out "$s1")
log_at_kill1=$(log_max_seq)
applied2=$(bsql 2 "SELECT applied_seq FROM replica_state")
more_than() { (($(log_max_seq) > $1)); }
wait_until "the log growing past entry $applied2 while app2 is down" 30 more_than "$applied2"
log_at_start=$(log_max_seq)
cluster start app2 >/dev/null
status2=$(book_status 2 applied_seq)
((status2 >= log_at_start)) ||
    fail "app2 serves again at entry $status2 although the log held $log_at_start when it started"
part_log app2 | grep -q "books DB at entry $applied2, session $s1" ||
    fail "app2's log does not say it started from entry $applied2: $(part_log app2 | grep 'books DB at' | tail -1)"
pass "app2 killed with $at_kill books handed out; restarted from entry $applied2 of its DB, it served only after catching up (STATUS at $status2, the log held $log_at_start at its start)"
end_load "app2 crash"
check_session "app2 crash" "$s1"
unprinted_before "app2 crash" "$s1" "$log_at_kill1" 2

# ---- 2. kill -9 of the replication server under load ----
new_session 1
s2=$SESSION
start_load repl_crash
wait_until "$KILL_AT books handed out in session $s2" 60 at_least "$s2" $KILL_AT
pid=$(cat "$CLUSTER_DIR/run/replication.pid")
kill -KILL "$pid"
wait_until "replication server (pid $pid) gone" 10 gone "$pid"
log_at_kill=$(log_max_seq)

# Requests while it is down: a clear error, on both servers.
for inst in 1 2; do
    rc=0
    out=$("$BIN_DIR/client" --headless --instance "$inst" --name prober --request --json \
        2>"$TEST_TMP/probe$inst.log") || rc=$?
    err=$(cat "$TEST_TMP/probe$inst.log")
    ((rc == 4)) && [[ -z $out && $err == *"replication unavailable, try again"* ]] ||
        fail "request to app server $inst while the replication server is down: exit $rc, stdout '$out', stderr '$err'"
    pass "request to app server $inst while the replication server is down: exit 4, '${err:0:90}...'"
done
# Let the loaded clients meet the outage too.
refused() { (($(cat "$LOAD_DIR"/*.rc 2>/dev/null | grep -c '^4$') >= 16)); }
wait_until "the loaded clients refused 16 times" 20 refused
grew=$(log_max_seq)
((grew == log_at_kill)) || fail "the log grew from $log_at_kill to $grew while the replication server was down"

cluster start replication >/dev/null
end_load "replication crash"
# What the loaded clients were told while it was down.
refusals=$(grep -h 'the server refused' "$LOAD_DIR"/*.log | sed 's/ (.*//' | sort | uniq -c | sed 's/^ *//' | tr '\n' ';')
unclear=$(grep -h 'the server refused' "$LOAD_DIR"/*.log | grep -vc 'try again' || true)
((unclear == 0)) || fail "$unclear refusals during the outage without 'try again': $refusals"
pass "loaded clients during the outage: $refusals"
LOG=1 check_session "replication crash" "$s2"
unprinted_before "replication crash" "$s2" "$log_at_kill" any
gaps=$(rsql "SELECT count(*) || ' ' || coalesce(min(seq), 0) || ' ' || coalesce(max(seq), 0) FROM log")
read -r n lo hi <<<"$gaps"
((n == hi && lo == 1)) || fail "the log has gaps after the crash: $n entries from $lo to $hi"
pass "every printed book is a BOOK_CLAIM of the log with its seq; the log holds entries 1..$hi without a gap (it held $log_at_kill at the kill)"

# ---- 3. a quick restart of the replication server while the app servers are idle ----
new_session 2
# CLIENTS at once, each asking twice: every worker of both servers takes part. Prints
# the exit statuses that were not 0.
burst() {
    local i pids=() bad=""
    for i in $(seq 1 $CLIENTS); do
        "$BIN_DIR/client" --headless --instance $((i % 2 + 1)) --name "reader$i" --request \
            --count 2 >/dev/null 2>>"$TEST_TMP/$1.log" </dev/null &
        pids+=($!)
    done
    for i in "${pids[@]}"; do wait "$i" || bad+=" $?"; done
    echo "$bad"
}
bad=$(burst burst_before)
[[ -z $bad ]] || fail "$CLIENTS clients before the restart: exit statuses$bad ($(tail -1 "$TEST_TMP/burst_before.log"))"
cluster stop replication >/dev/null
cluster start replication >/dev/null
repl_back() { [[ $(book_status 1 replication_ok) == 1 && $(book_status 2 replication_ok) == 1 ]]; }
wait_until "both app servers reach the restarted replication server" 10 repl_back
bad=$(burst burst_after)
[[ -z $bad ]] || fail "$CLIENTS clients after a quick replication server restart: exit statuses$bad ($(grep -m1 refused "$TEST_TMP/burst_after.log"))"
pass "after a quick restart of the replication server, $CLIENTS clients x 2 requests over every worker of both servers were all served"
no_sanitizer_reports
