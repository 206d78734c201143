#!/usr/bin/env bash
# Clocks started hours apart (one at 23:59:59) converge: after 3 rounds every app server
# and every client is within 5 ms of the coordinator, read over RPC; the clock DB holds
# one sync_round row per round and one node_sync row per node per round.
source "$(dirname "$0")/lib.sh"

export TM=1
export TIME_SERVER_ARGS="--start-time 12:00:00"
export APP1_ARGS="--start-time 23:59:59"
export APP2_ARGS="--start-time 05:30:00"
start_servers

# The clients start hours away too, one a second after midnight.
start_client 1 "$CLIENT1_PROG" --start-time 18:00:00
start_client 2 "$CLIENT2_PROG" --start-time 00:00:01

wait_until "3 rounds with both app servers synchronised" 30 rounds_at_least 2 3
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
logged=$(grep -c ' utc: round \| no UTC source answered' "$CLUSTER_DIR/log/time_server.log" || true)
((rounds == span)) || fail "sync_round has $rounds rows for $span round numbers"
((rounds >= 4)) || fail "only $rounds rounds recorded"
pass "one sync_round row per round ($rounds rounds, numbered without gaps)"

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
