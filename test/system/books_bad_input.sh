#!/usr/bin/env bash
# Bad input to the book service and the replication server: a clear error, nothing
# written, and the process keeps serving the next good request.
# - user names: oversize (100 bytes, beyond the XDR bound of 64: undecodable), empty,
#   64 bytes, control characters; from bookctl (no bound on the wire) and from the client;
# - garbage bytes straight to the TCP ports of BOOK1, BOOK2, REPL, CLOCK1 and TIME (random
#   bytes, a random record, a record mark announcing 2 GB, a half-sent record held open,
#   a well-formed call with garbage arguments) and to the UDP ports of CLOCK1 and TIME;
# - SETQUERY with malformed operations (an invalid ISBN, ...) and an unknown union arm:
#   REPL_ERR_BADARG or a decode error, the log unchanged;
# - books2 "stopped" (connections refused, its sessions terminated): requests to app
#   server 2 alone get a clear error about the books database (exit 4 at the client's
#   deadline) while app server 1 serves; once the database is back, app server 2 catches
#   up and serves, both DBs are identical, and no book is recorded for a user who was
#   refused every time.
source "$(dirname "$0")/lib.sh"

export TM=1
"$ROOT/db/gen-catalogue" 300 >"$TEST_TMP/catalogue.tsv"
export CATALOGUE=$TEST_TMP/catalogue.tsv
start_servers

pids_before="$(cat "$CLUSTER_DIR"/run/{replication,time_server,app1,app2}.pid | tr '\n' ' ')"
good=0
# A good request on app server N: a book (exit 0).
good_request() {
    local rc=0 out
    good=$((good + 1))
    out=$("$BIN_DIR/client" --headless --instance "$1" --name "good$good" --request --json \
        2>>"$TEST_TMP/good.log") || rc=$?
    ((rc == 0)) && [[ $out == '{"isbn":'* ]] || fail "${2:-}: good request to app server $1: exit $rc ($out; $(tail -1 "$TEST_TMP/good.log"))"
    echo "$out" >>"$TEST_TMP/good.out"
}
entries() { rsql "SELECT count(*) || '/' || coalesce(max(seq), 0) FROM log"; }

# ---- user names ----
log0=$(entries)
# refused_name WHAT EXPECT COMMAND...: COMMAND must fail and print EXPECT.
refused_name() {
    local what=$1 expect=$2 rc=0 out
    shift 2
    out=$("$@" 2>&1) || rc=$?
    ((rc != 0)) || fail "$what accepted (exit 0): $out"
    [[ $out == *"$expect"* ]] || fail "$what: expected '$expect', got exit $rc: $out"
    pass "$what refused, exit $rc: ${out:0:110}"
}
long64=$(printf 'n%.0s' $(seq 1 64))
long100=$(printf 'o%.0s' $(seq 1 100))
for inst in 1 2; do
    refused_name "REQUEST_BOOK with a 100-byte name (XDR bound 64) on server $inst" \
        "rpc_error=RPC: Server can't decode arguments" bookctl request --instance $inst --name-len 100
    refused_name "REQUEST_BOOK with a 100000-byte name on server $inst" \
        "rpc_error=RPC: Server can't decode arguments" bookctl request --instance $inst --name-len 100000
    good_request $inst "after an oversize name"
    refused_name "REQUEST_BOOK with an empty name on server $inst" \
        "message=user name must be 1 to 63 bytes of UTF-8 text" bookctl request --instance $inst --name ""
    refused_name "REQUEST_BOOK with a 64-byte name on server $inst" \
        "message=user name must be 1 to 63 bytes of UTF-8 text" bookctl request --instance $inst --name-len 64
    refused_name "REQUEST_BOOK with a control character in the name on server $inst" \
        "status=BADARG" bookctl request --instance $inst --name $'bad\001name'
    refused_name "RESTART_SESSION with a 100-byte name on server $inst" \
        "rpc_error=RPC: Server can't decode arguments" bookctl restart --instance $inst --name-len 100
    refused_name "RESTART_SESSION with an empty name on server $inst" \
        "status=BADARG" bookctl restart --instance $inst --name ""
    good_request $inst "after bad names"
done
part_log app1 | grep -q 'REQUEST_BOOK: undecodable arguments' || fail "app1 did not log the undecodable REQUEST_BOOK"
part_log app2 | grep -q 'REQUEST_BOOK refused: user name must be' || fail "app2 did not log the refused name"
pass "both app servers logged the undecodable and the refused calls"

# The client checks the name itself: an empty, a 64-byte and a 100-byte name are usage
# errors about the name (exit 2), not "server could not be reached".
refused_name "client --name ''" "client: --name: 1 to 63 bytes of UTF-8 text" \
    "$BIN_DIR/client" --headless --instance 1 --name "" --request --json
refused_name "client with a 64-byte name" "client: --name: 1 to 63 bytes of UTF-8 text" \
    "$BIN_DIR/client" --headless --instance 2 --name "$long64" --request --json
rc=0
out=$("$BIN_DIR/client" --headless --instance 1 --name "$long100" --request --json 2>&1) || rc=$?
if ((rc == 2 || rc == 4)) && [[ $out == *name* && $out != *'{"isbn"'* ]]; then
    pass "client with a 100-byte name refused, exit $rc: $out"
else
    fail_later "client with a 100-byte name: exit $rc ('$out'); expected a clear refusal of the name (exit 2 bad usage or 4 refused)"
fi
log1=$(entries)
named=$(bsql 1 "SELECT count(*) FROM library_user WHERE name NOT LIKE 'good%'")
((named == 0)) || fail "bad names left $named users in books1"
# Only the good requests wrote: one USER_SEEN and one BOOK_CLAIM each.
n0=${log0%/*} n1=${log1%/*}
((n1 - n0 == 2 * good)) || fail "the log grew by $((n1 - n0)) entries for $good good requests and the bad names ($log0 -> $log1)"
pass "bad names wrote nothing: the log grew only by the $good good requests ($log0 -> $log1 entries/last seq), no user with a bad name"

# ---- garbage bytes to each RPC port ----
port_of() { rpcinfo -p localhost | awk -v p="$1" -v t="$2" '$1 == p && $3 == t {print $4; exit}'; }
# good_call NAME: the next good request to that program.
good_call() {
    local out
    case $1 in
    BOOK1) good_request 1 "after garbage" ;;
    BOOK2) good_request 2 "after garbage" ;;
    REPL)
        out=$(bookctl getquery --after 0 --max 1 --wait-ms 0) && [[ $out == status=OK*entries=1* ]] ||
            fail "REPL after garbage: $out" ;;
    CLOCK1) clockctl gethour --prog "$APP1_PROG" >/dev/null || fail "CLOCK1 stopped answering after garbage" ;;
    TIME) clockctl gethour --prog "$TIME_PROG" >/dev/null || fail "TIME stopped answering after garbage" ;;
    esac
}
declare -A PROG=([BOOK1]=$BOOK1_PROG [BOOK2]=$BOOK2_PROG [REPL]=$REPL_PROG [CLOCK1]=$APP1_PROG [TIME]=$TIME_PROG)
# A procedure with arguments, and how many garbage bytes make them undecodable (ADJUST
# takes two hypers, which any 16 bytes decode to: 3 bytes are too few).
declare -A ARGPROC=([BOOK1]=1 [BOOK2]=1 [REPL]=1 [CLOCK1]=2 [TIME]=1)
declare -A ARGBYTES=([BOOK1]=300 [BOOK2]=300 [REPL]=300 [CLOCK1]=3 [TIME]=300)
for name in BOOK1 BOOK2 REPL CLOCK1 TIME; do
    prog=${PROG[$name]}
    port=$(port_of "$prog" tcp)
    [[ -n $port ]] || fail "$name ($prog) has no TCP port in rpcinfo -p"
    outcomes=()
    for spec in random:1 random:3 random:100 random:5000 record:200 record:70000 huge:100 huge:0; do
        mode=${spec%:*} bytes=${spec#*:}
        out=$(bookctl raw --host 127.0.0.1 --port "$port" --mode "$mode" --bytes "$bytes" --hold-ms 500) ||
            fail "$name: could not send $spec: $out"
        outcomes+=("$spec: $(sed -n 's/^outcome=\(.*\) after_ms=\([0-9]*\).*/\1 (\2 ms)/p' <<<"$out")")
        good_call "$name"
    done
    # A well-formed call with garbage arguments: GARBAGE_ARGS (accept_stat 4).
    out=$(bookctl raw --host 127.0.0.1 --port "$port" --mode badargs --bytes "${ARGBYTES[$name]}" \
        --prog "$prog" --proc "${ARGPROC[$name]}" --hold-ms 2000)
    [[ $out == *"accept_stat=4"* ]] || fail "$name: a call with garbage arguments got: $out"
    good_call "$name"
    # A record announced but only half sent, held open: others are served meanwhile.
    bookctl raw --host 127.0.0.1 --port "$port" --mode partial --bytes 50 --hold-ms 1500 \
        >"$TEST_TMP/partial.$name" &
    hold=$!
    EXTRA_PIDS+=("$hold")
    sent() { grep -q '^sent' "$TEST_TMP/partial.$name"; }
    wait_until "the half record sent to $name" 10 sent
    good_call "$name"
    still_open() { ! grep -q '^outcome=' "$TEST_TMP/partial.$name"; }
    still_open || fail "$name: the half-sent connection ended before the good call: $(cat "$TEST_TMP/partial.$name")"
    wait "$hold" || fail "bookctl raw partial to $name failed: $(cat "$TEST_TMP/partial.$name")"
    EXTRA_PIDS=()
    pass "$name (port $port): garbage refused and the next good call served: $(IFS=';'; echo "${outcomes[*]}"); garbage args: GARBAGE_ARGS; half record held open: others served meanwhile"
done
for name in CLOCK1 TIME; do
    port=$(port_of "${PROG[$name]}" udp)
    [[ -n $port ]] || continue
    for bytes in 1 7 100 1400 60000; do
        head -c "$bytes" /dev/urandom >"/dev/udp/127.0.0.1/$port" 2>/dev/null || true
    done
    good_call "$name"
    pass "$name (UDP port $port): 5 datagrams of random bytes (1 to 60000 bytes), then served"
done
pids_after="$(cat "$CLUSTER_DIR"/run/{replication,time_server,app1,app2}.pid | tr '\n' ' ')"
[[ $pids_after == "$pids_before" ]] || fail "servers were restarted: pids $pids_before -> $pids_after"
for part in replication time_server app1 app2; do
    kill -0 "$(cat "$CLUSTER_DIR/run/$part.pid")" || fail "$part died"
done
cluster status replication time_server app1 app2 >/dev/null || fail "not every server answers: $(cluster status)"
pass "every server still runs (same pids $pids_after) and answers"

# ---- SETQUERY with malformed operations ----
before=$(entries)
refused_op() {
    local what=$1 expect=$2 rc=0 out
    shift 2
    out=$(bookctl setquery "$@") || rc=$?
    ((rc != 0)) && [[ $out == *"$expect"* ]] || fail "SETQUERY $what: exit $rc: $out (expected '$expect')"
    pass "SETQUERY $what refused: $out"
}
s=$(book_status 1 session)
refused_op "BOOK_CLAIM with an invalid ISBN" "status=BADARG seq=0 message=BOOK_CLAIM: '9780000000010' is not a valid ISBN-13" \
    --op claim --session "$s" --isbn 9780000000010 --name mallory
refused_op "BOOK_CLAIM with a 12-digit ISBN" "status=BADARG" --op claim --session "$s" --isbn 978000000001 --name mallory
refused_op "BOOK_CLAIM in session 0" "status=BADARG" --op claim --session 0 --isbn 9780000000019 --name mallory
refused_op "BOOK_CLAIM with a server time beyond a day" "status=BADARG" --op claim --session "$s" \
    --isbn 9780000000019 --name mallory --server-time-us 86400000000
refused_op "BOOK_CLAIM with an empty user" "status=BADARG" --op claim --session "$s" --isbn 9780000000019 --name ""
refused_op "USER_SEEN with a host name for an address" "status=BADARG" --op user --name mallory --address localhost
refused_op "SESSION_OPEN with a negative previous session" "status=BADARG" --op open --session -1
refused_op "SESSION_CLOSE of session 0" "status=BADARG" --op close --session 0
refused_op "from origin 0" "status=BADARG" --op close --session "$s" --origin 0
refused_op "with an unknown operation (union arm 99)" "rpc_error=RPC: Server can't decode arguments" --op kind:99
for spec in "--max 0" "--max 513" "--wait-ms 10001" "--wait-ms -1" "--after -1"; do
    rc=0
    # shellcheck disable=SC2086
    out=$(bookctl getquery $spec) || rc=$?
    ((rc == 3)) && [[ $out == status=BADARG*"GETQUERY refused"* ]] || fail "GETQUERY $spec: exit $rc: $out"
done
pass "GETQUERY with max 0 or 513, wait_ms 10001 or -1, after -1: each refused with REPL_ERR_BADARG (${out#*message=})"
good_call REPL
after=$(entries)
[[ $after == "$before" ]] || fail "malformed SETQUERYs changed the log: $before -> $after entries/last seq"
mallory=$(rsql "SELECT count(*) FROM log WHERE user_name = 'mallory'")
((mallory == 0)) || fail "the log holds $mallory entries of the malformed SETQUERYs"
pass "the log is unchanged by the malformed SETQUERYs ($after entries/last seq) and REPL still serves"

# ---- books2 stopped ----
wait_caught_up 10
DB=postgres sql "ALTER DATABASE books2 ALLOW_CONNECTIONS false"
killed=$(DB=postgres sql "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = 'books2'")
# The DB is off the requests' path: app server 2 learns that it is gone at its writer's
# next write or idle check (within a second), and from then on refuses.
db_down() { [[ $(book_status 2 database_ok) == 0 ]]; }
wait_until "app server 2 reporting its DB down in STATUS" 10 db_down
for i in 1 2 3; do
    t=$SECONDS rc=0
    out=$("$BIN_DIR/client" --headless --instance 2 --name dbdown --request --json --deadline 1 \
        2>"$TEST_TMP/dbdown.$i.log") || rc=$?
    err=$(cat "$TEST_TMP/dbdown.$i.log")
    ((rc == 4)) && [[ -z $out ]] && grep -Eqi 'books (DB|database)' <<<"$err" ||
        fail "request $i to app server 2 with books2 down: exit $rc, stdout '$out', stderr '$err'"
    pass "request $i to app server 2 with books2 down ($killed backends ended): exit 4 in $((SECONDS - t)) s: ${err:0:120}"
done
good_request 1 "while books2 is down"
pass "app server 2 answers STATUS with database_ok=0; app server 1 still serves"

DB=postgres sql "ALTER DATABASE books2 ALLOW_CONNECTIONS true"
db_up() { [[ $(book_status 2 database_ok) == 1 ]]; }
wait_until "app server 2 reporting its DB back" 20 db_up
wait_caught_up 20
good_request 2 "after books2 came back"
wait_caught_up 10
pass "books2 back: app server 2 caught up (applied_seq $(book_status 2 applied_seq)) and serves again"
books_same "after books2 was down"
books_no_duplicates "after books2 was down"
printed_in_dbs "good requests" "$TEST_TMP/good.out"
pass "no book twice; the $PRINTED_TOTAL books of the good requests are in both DBs"
# A user refused every time holds no book.
dbdown=$(bsql 1 "SELECT count(*) FROM request q JOIN library_user u ON u.id = q.user_id WHERE u.name = 'dbdown'")
if ((dbdown == 0)); then
    pass "nothing half written: no book recorded for the user refused while books2 was down"
else
    fail_later "nothing half written: user dbdown was refused 3 times (books2 down) but both DBs record $dbdown book(s) handed out to it: $(bsql 1 "SELECT string_agg('request ' || q.id || ' ' || q.isbn || ' server ' || q.server, '; ') FROM request q JOIN library_user u ON u.id = q.user_id WHERE u.name = 'dbdown'")"
fi
no_sanitizer_reports
failed_later_checks
