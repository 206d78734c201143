#!/usr/bin/env bash
# A node that stops answering is skipped with the reason in its row while rounds go on
# for the others; started again, it rejoins and converges. A clock being set by hand
# (SIGUSR1 = "Modify") is skipped too, and synchronised again once it runs (SIGUSR2).
# A restarted time server gets both app servers back.
source "$(dirname "$0")/lib.sh"

export TM=1
start_servers
wait_until "2 rounds with both app servers synchronised" 30 rounds_at_least 2 2

pid2=$(cat "$CLUSTER_DIR/run/app2.pid")
kill -KILL "$pid2"
last=$(sql "SELECT max(id) FROM sync_round")
skipped_after() {
    (($(sql "SELECT count(*) FROM node_sync s JOIN node n ON n.id = s.node_id
             WHERE n.name = '$1' AND s.outcome = 'skipped' AND s.round_id > $last") >= 2))
}
wait_until "two rounds skipping the killed app2" 20 skipped_after app2
reason=$(sql "SELECT s.reason FROM node_sync s JOIN node n ON n.id = s.node_id
              WHERE n.name = 'app2' AND s.outcome = 'skipped' ORDER BY s.round_id DESC LIMIT 1")
[[ $reason == unreachable:* ]] || fail "app2 skipped for '$reason', expected 'unreachable: ...'"
pass "killed app2 is skipped and its row says why ($reason)"

app1_ok=$(sql "SELECT count(*) FROM node_sync s JOIN node n ON n.id = s.node_id
               WHERE n.name = 'app1' AND s.outcome = 'applied' AND s.round_id > $last")
((app1_ok >= 2)) || fail "app1 was synchronised in only $app1_ok rounds while app2 was down"
pass "rounds go on for app1 while app2 is down ($app1_ok rounds applied)"

# Start it again.
cluster start app2 >/dev/null
last=$(sql "SELECT max(id) FROM sync_round")
applied_after() {
    (($(sql "SELECT count(*) FROM node_sync s JOIN node n ON n.id = s.node_id
             WHERE n.name = '$1' AND s.outcome = 'applied' AND s.round_id > $last") >= 2))
}
wait_until "restarted app2 synchronised in 2 rounds" 20 applied_after app2
out=$(clockctl offset --prog "$APP2_PROG") || fail "offset of app2: $out"
off=$(field offset_us "$out")
(($(abs "$off") < 5000)) || fail "restarted app2 is $off us from the coordinator"
pass "restarted app2 rejoined and converged ($off us)"

# "Modify": the clock stops; the coordinator skips it and says why.
kill -USR1 "$(cat "$CLUSTER_DIR/run/app1.pid")"
wait_until "app1 reporting a stopped clock" 10 bash -c "'$TOOLS/clockctl' gethour --prog $APP1_PROG | grep -q running=0"
last=$(sql "SELECT max(id) FROM sync_round")
wait_until "a round skipping app1" 10 skipped_after app1
reason=$(sql "SELECT s.reason FROM node_sync s JOIN node n ON n.id = s.node_id
              WHERE n.name = 'app1' AND s.round_id > $last ORDER BY s.round_id DESC LIMIT 1")
[[ $reason == "clock being set by hand" ]] || fail "app1 skipped for '$reason'"
pass "a clock being set by hand is skipped ($reason)"

kill -USR2 "$(cat "$CLUSTER_DIR/run/app1.pid")"
last=$(sql "SELECT max(id) FROM sync_round")
wait_until "app1 synchronised again" 10 applied_after app1
out=$(clockctl offset --prog "$APP1_PROG")
off=$(field offset_us "$out")
(($(abs "$off") < 5000)) || fail "resumed app1 is $off us from the coordinator"
pass "resumed app1 is synchronised again ($off us)"

# The time server restarts (with a new random clock): both app servers join it again
# (after three TM without a correction at the latest) and follow its clock.
cluster stop time_server >/dev/null
cluster start time_server >/dev/null
last=$(sql "SELECT max(id) FROM sync_round")
for n in app1 app2; do
    wait_until "$n synchronised in 2 rounds of the restarted time server" 30 applied_after "$n"
done
offs=""
for prog in "$APP1_PROG" "$APP2_PROG"; do
    out=$(clockctl offset --prog "$prog") || fail "offset of program $prog: $out"
    off=$(field offset_us "$out")
    (($(abs "$off") < 5000)) || fail "program $prog is $off us from the restarted time server"
    offs+=" $off"
done
pass "after a time server restart both app servers are synchronised again (offsets${offs} us)"
