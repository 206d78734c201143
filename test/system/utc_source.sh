#!/usr/bin/env bash
# The coordinator follows its UTC source: an SNTP responder serving UTC offset by a
# known amount pulls the coordinator's clock to that offset; with chronyd as the source
# the coordinator is within 5 ms of the machine's UTC. With no source answering it keeps
# its own clock and says so in the log and in the clock DB (utc_source = 'none'); with
# several sources the first that answers is used.
source "$(dirname "$0")/lib.sh"

export TM=1
OFFSET_US=12307500000       # +3 h 25 min 7.5 s
RESP_PORT=$((NTP_PORT + 100))
DEAD_PORT=$((NTP_PORT + 101))   # nothing listens here: refused at once
SILENT_PORT=$((NTP_PORT + 103)) # reads requests, never answers: a timeout

"$TOOLS/sntp_responder" --listen "127.0.0.1:$RESP_PORT" --offset-us "$OFFSET_US" \
    >"$TEST_TMP/responder.log" 2>&1 </dev/null &
EXTRA_PIDS+=($!)
wait_until "the SNTP responder listening" 10 grep -q 'listening on' "$TEST_TMP/responder.log"
"$TOOLS/sntp_responder" --listen "127.0.0.1:$SILENT_PORT" --silent \
    >"$TEST_TMP/silent.log" 2>&1 </dev/null &
EXTRA_PIDS+=($!)
wait_until "the silent SNTP server listening" 10 grep -q 'listening on' "$TEST_TMP/silent.log"

utc_rounds_from() {
    (($(sql "SELECT count(*) FROM sync_round WHERE utc_source = '$1'") >= $2))
}
utc_offset() { field offset_us "$(clockctl utc)"; }

# Three sources: one refuses, one never answers, the third serves UTC + 3 h 25 min 7.5 s.
export UTC_SERVER="127.0.0.1:$DEAD_PORT"
export TIME_SERVER_ARGS="--utc-server 127.0.0.1:$SILENT_PORT --utc-server 127.0.0.1:$RESP_PORT --utc-timeout-ms 50"
start_servers
wait_until "3 rounds taking UTC from the responder" 30 utc_rounds_from "127.0.0.1:$RESP_PORT" 3
off=$(utc_offset)
diff=$((off - OFFSET_US))
(($(abs "$diff") < 5000)) || fail "coordinator is $off us from UTC, expected $OFFSET_US +/- 5000"
pass "coordinator follows the offset source: $off us from UTC (expected $OFFSET_US, error $diff us)"
other=$(sql "SELECT count(*) FROM sync_round WHERE utc_source <> '127.0.0.1:$RESP_PORT'")
((other == 0)) || fail "$other rounds took UTC from elsewhere than the third source"
pass "a refusing and a silent source are passed over for the third in every round"
out=$(clockctl offset --prog "$APP1_PROG")
off=$(field offset_us "$out")
(($(abs "$off") < 5000)) || fail "app1 is $off us from the coordinator"
pass "app servers follow the coordinator to the new time ($off us)"

# chronyd (the machine's UTC) as the only source.
export UTC_SERVER="127.0.0.1:$NTP_PORT" TIME_SERVER_ARGS=""
start_servers
wait_until "3 rounds taking UTC from chronyd" 30 utc_rounds_from "127.0.0.1:$NTP_PORT" 3
off=$(utc_offset)
(($(abs "$off") < 5000)) || fail "coordinator is $off us from the machine's UTC with chronyd"
pass "with chronyd as source the coordinator is $off us from the machine's UTC"

# No source answers: own clock, said in the log and in the rows.
export UTC_SERVER="127.0.0.1:$DEAD_PORT" TIME_SERVER_ARGS="--utc-server 127.0.0.1:$SILENT_PORT --utc-timeout-ms 50"
start_servers
wait_until "2 rounds without a UTC source" 20 utc_rounds_from none 2
err=$(sql "SELECT utc_error FROM sync_round WHERE utc_source = 'none' ORDER BY id DESC LIMIT 1")
[[ $err == *"127.0.0.1:$DEAD_PORT"*"127.0.0.1:$SILENT_PORT: no reply within 50 ms"* ]] ||
    fail "utc_error does not say why each source failed: '$err'"
pass "rounds without UTC are recorded as utc_source = 'none' ($err)"
part_log time_server | grep -q 'no UTC source answered, keeping own clock' ||
    fail "the time server did not log that it keeps its own clock"
pass "the time server logs that it keeps its own clock"
wait_until "2 rounds with both app servers synchronised" 20 rounds_at_least 2 2
pass "rounds go on for the nodes without UTC"
stop_extras
