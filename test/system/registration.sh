#!/usr/bin/env bash
# Registration with rpcbind: the time server, the replication server and both app
# servers show in rpcinfo -p; a second process with the same instance exits with a clear
# message and the first keeps serving; SIGTERM leaves nothing registered.
source "$(dirname "$0")/lib.sh"

export TM=1
start_servers
table=$(rpcinfo -p localhost)
for prog in "$TIME_PROG" "$APP1_PROG" "$APP2_PROG"; do
    for proto in tcp udp; do
        grep -qE "^ *$prog +1 +$proto " <<<"$table" || fail "program $prog over $proto missing from rpcinfo -p"
    done
done
pass "time server and both app servers' clocks registered over TCP and UDP"
for prog in "$REPL_PROG" "$BOOK1_PROG" "$BOOK2_PROG"; do
    grep -qE "^ *$prog +2 +tcp " <<<"$table" || fail "program $prog version 2 over tcp missing from rpcinfo -p"
done
pass "replication server and both book services registered over TCP, version 2"
# A caller of the old version 1 gets a version mismatch naming the version served.
for prog in "$REPL_PROG" "$BOOK1_PROG"; do
    rc=0
    out=$(rpcinfo -T tcp localhost "$prog" 1 2>&1) || rc=$?
    ((rc != 0)) && [[ $out == *"Program/version mismatch; low version = 2, high version = 2"* ]] ||
        fail "a version 1 call to program $prog: exit $rc: $out"
done
pass "a version 1 call to REPL or BOOK: $out"

set +e
out=$("$BIN_DIR/app_server" --headless --instance 1 --time-server localhost --db "$(books_db 1)" $(daemon_args) 2>&1)
rc=$?
set -e
((rc != 0)) || fail "a second app server with instance 1 started"
[[ $out == *"is already registered with rpcbind"*"already running?"* ]] || fail "unclear message: $out"
pass "a second instance 1 exits ($rc) saying: $(grep -o 'program [0-9]* .*' <<<"$out" | head -1)"
clockctl gethour --prog "$APP1_PROG" >/dev/null || fail "the first app1 stopped answering"
[[ $(cat "/proc/$(cat "$CLUSTER_DIR/run/app1.pid")/comm") == app_server ]] || fail "the first app1 is gone"
pass "the first app1 keeps serving"

set +e
out=$("$BIN_DIR/time_server" --headless --db "$(clock_db)" $(daemon_args) 2>&1)
rc=$?
set -e
((rc != 0)) && [[ $out == *"already registered"* ]] || fail "a second time server: rc $rc, $out"
pass "a second time server is refused too"

# kill -9 leaves the registration behind; a new app1 finds nobody answering behind it,
# removes it, says so, and serves.
kill -KILL "$(cat "$CLUSTER_DIR/run/app1.pid")"
rpcinfo -p localhost | grep -qE "^ *$APP1_PROG " || fail "kill -9 removed the registration (expected it left behind)"
"$BIN_DIR/app_server" --headless --instance 1 --time-server localhost --db "$(books_db 1)" \
    $(daemon_args) >"$TEST_TMP/app1-again.log" 2>&1 </dev/null &
EXTRA_PIDS+=($!)
wait_until "the new app1 serving" 20 clockctl gethour --prog "$APP1_PROG"
wait_until "the new app1 serving books" 20 rpcinfo -T tcp localhost "$BOOK1_PROG" 2
grep -q 'removing a registration left by a process that no longer answers' "$TEST_TMP/app1-again.log" ||
    fail "the new app1 did not report the stale registration"
pass "a registration left by kill -9 is removed by the next app1, which serves"
stop_extras
rpcinfo -p localhost | grep -qE "^ *($APP1_PROG|$BOOK1_PROG) " && fail "the new app1 left its registration after SIGTERM"
pass "the new app1 unregistered on SIGTERM"

# SIGTERM straight to the processes (scripts/cluster stop would clean up after them).
pids=()
for part in time_server app2 replication; do
    pid=$(cat "$CLUSTER_DIR/run/$part.pid")
    kill -TERM "$pid"
    pids+=("$pid")
done
gone() {
    local pid
    for pid in "${pids[@]}"; do
        [[ $(ps -o stat= -p "$pid" 2>/dev/null) == Z* || -z $(ps -o stat= -p "$pid" 2>/dev/null) ]] || return 1
    done
}
wait_until "time server and app2 ending on SIGTERM" 15 gone
table=$(rpcinfo -p localhost)
for prog in "$TIME_PROG" "$APP2_PROG" "$BOOK2_PROG" "$REPL_PROG"; do
    ! grep -qE "^ *$prog " <<<"$table" || fail "program $prog still registered after SIGTERM"
done
pass "SIGTERM leaves nothing registered"
