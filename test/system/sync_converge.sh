#!/usr/bin/env bash
# Clocks started hours apart converge across midnight: the coordinator's UTC source (an
# SNTP responder) is set so the coordinator reaches midnight a few seconds in, one app
# server starts just past midnight and one client just before it. After 3 rounds every
# app server and every client is within 5 ms of the coordinator, read over RPC; the
# clock DB holds one sync_round row per round and one node_sync row per node per round.
source "$(dirname "$0")/lib.sh"

export TM=1
DAY_US=86400000000
now_us=$(date +%s%6N)
offset_us=$(((86396000000 - now_us % DAY_US + DAY_US) % DAY_US))   # UTC + offset = 23:59:56
RESP_PORT=$((NTP_PORT + 102))
"$TOOLS/sntp_responder" --listen "127.0.0.1:$RESP_PORT" --offset-us "$offset_us" \
    >"$TEST_TMP/responder.log" 2>&1 </dev/null &
EXTRA_PIDS+=($!)
wait_until "the SNTP responder listening" 10 grep -q 'listening on' "$TEST_TMP/responder.log"

export UTC_SERVER="127.0.0.1:$RESP_PORT"
export TIME_SERVER_ARGS="--start-time 12:00:00"
export APP1_ARGS="--start-time 00:00:03"
export APP2_ARGS="--start-time 05:30:00"
start_servers
start_client 1 "$CLIENT1_PROG" --start-time 18:00:00
start_client 2 "$CLIENT2_PROG" --start-time 23:59:59

past_midnight() {
    [[ $(sql "SELECT count(*) FROM sync_round WHERE reference_time < '00:01'") -ge 2 ]] &&
        rounds_at_least 2 3
}
wait_until "3 rounds with both app servers synchronised, 2 of them past midnight" 30 past_midnight
crossed=$(sql "SELECT bool_or(reference_time > '23:59') AND bool_or(reference_time < '00:01') FROM sync_round")
[[ $crossed == t ]] || fail "the coordinator's rounds did not cross midnight"
pass "the coordinator's rounds crossed midnight"
# The clients pull every TM; give them one pull after the third round.
first=$(sql "SELECT max(round_id) FROM node_sync")
wait_until "one more round" 10 bash -c "(( \$(psql -X -At -h '$CLUSTER_DIR/run' -p $PGPORT -U postgres -d clock -c 'SELECT max(id) FROM sync_round') > $first ))"

for target in "app1:$APP1_PROG" "app2:$APP2_PROG" "client1:$CLIENT1_PROG" "client2:$CLIENT2_PROG"; do
    name=${target%%:*} prog=${target#*:}
    out=$(clockctl offset --prog "$prog") || fail "offset of $name: $out"
    off=$(field offset_us "$out")
    (($(abs "$off") < 5000)) || fail "$name is $off us from the coordinator (limit 5000)"
    pass "$name within 5 ms of the coordinator ($off us, rtt $(field rtt_us "$out") us)"
done

rounds=$(sql "SELECT count(*) FROM sync_round")
span=$(sql "SELECT max(id) - min(id) + 1 FROM sync_round")
# Rounds the time server logged, up to the last one stored (a round logs first, commits last).
last_stored=$(sql "SELECT max(id) FROM sync_round")
logged=$(part_log time_server | grep -oE ' utc: round [0-9]+' | awk -v m="$last_stored" '$3 <= m' | wc -l)
((rounds == span)) || fail "sync_round has $rounds rows for $span round numbers"
((rounds == logged)) || fail "sync_round has $rounds rows, the time server logged $logged rounds"
((rounds >= 4)) || fail "only $rounds rounds recorded"
pass "one sync_round row per round the time server logged ($rounds, numbered without gaps)"

bad=$(sql "SELECT count(*) FROM sync_round r
           WHERE r.id > (SELECT min(round_id) FROM node_sync s GROUP BY round_id HAVING count(*) = 2 ORDER BY 1 LIMIT 1)
             AND (SELECT count(*) FROM node_sync s WHERE s.round_id = r.id) <> 2")
((bad == 0)) || fail "$bad rounds after both nodes joined lack a node_sync row per node"
dups=$(sql "SELECT count(*) FROM (SELECT round_id, node_id FROM node_sync GROUP BY 1, 2 HAVING count(*) > 1) d")
((dups == 0)) || fail "duplicate node_sync rows"
pass "one node_sync row per node per round"

view=$(sql "SELECT count(*) FROM sync_report WHERE nodes_applied = 2 AND max_abs_delta_us IS NOT NULL")
((view >= 3)) || fail "sync_report shows $view complete rounds"
pass "sync_report answers per round ($view rounds with both nodes)"
stop_extras
