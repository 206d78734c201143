#!/usr/bin/env bash
# Config files (--config): a good one starts a daemon with its options (the command line
# winning over it); a bad one (an unknown option, a missing value, a value out of range,
# a file that does not exist) stops the program before it starts, naming the file, the
# line and the fault, and nothing registers.
source "$(dirname "$0")/lib.sh"

export TM=1
start_servers

expect_refused() {
    local what=$1 want=$2 file=$3 rc=0 out
    out=$("$BIN_DIR/app_server" --config "$file" 2>&1) || rc=$?
    ((rc == 2)) && [[ $out == *"$want"* ]] || fail "$what: expected exit 2 and '$want', got exit $rc: $out"
    pass "$what: $(tr '\n' ' ' <<<"$out")"
}
cfg=$TEST_TMP/app3.conf
write() { printf '%s\n' "$@" >"$cfg"; }

write "# app server 3" "headless" "instance 3" "speed 9"
expect_refused "an unknown option" "$cfg line 4: unknown option 'speed' (see --help)" "$cfg"
write "headless" "instance"
expect_refused "a missing value" "$cfg line 2: instance needs a value" "$cfg"
write "headless" "" "instance 3" "rpc-timeout-ms 5"
expect_refused "a value out of range" "(that is $cfg line 4)" "$cfg"
expect_refused "a file that does not exist" "--config: $TEST_TMP/none.conf: No such file or directory" \
    "$TEST_TMP/none.conf"
rpcinfo -p localhost | grep -qE "^ *$((CLOCK_BASE + 3)) " && fail "a refused app server 3 registered"
pass "none of them registered"

# A good file: the replication server
# is stopped and started again from a file, --log-level on the command line winning.
cluster stop replication >/dev/null
mapfile -t dargs < <(daemon_args)
{
    echo "# the replication server of this test"
    echo "headless"
    echo "db \"host=$CLUSTER_DIR/run port=$PGPORT user=bibliotime_repl dbname=replication\""
    echo "log-level debug"
    printf '%s %s\n' "${dargs[0]#--}" "${dargs[1]}"
    [[ ${#dargs[@]} -lt 4 ]] || printf '%s %s\n' "${dargs[2]#--}" "${dargs[3]}"
} >"$cfg"
"$BIN_DIR/replication_server" --config "$cfg" --log-level warn >"$TEST_TMP/repl.log" 2>&1 </dev/null &
EXTRA_PIDS+=($!)
wait_until "the replication server started from its file" 20 rpcinfo -T tcp localhost "$REPL_PROG" 2
out=$(bookctl getquery --max 1)
[[ $out == status=OK* ]] || fail "GETQUERY to the replication server started from a file: $out"
grep -q ' INFO ' "$TEST_TMP/repl.log" && fail "--log-level warn on the command line did not win over the file's debug"
pass "a replication server from its config file serves GETQUERY ($out); the command line's --log-level won"
stop_extras
