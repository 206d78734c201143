#!/usr/bin/env bash
# Bad input gets a clear error, changes nothing, and the process keeps serving:
# an ADJUST beyond 24 h, JOINs with an empty, a too long and an oversize name, an
# ADJUST from an address not in --allow.
source "$(dirname "$0")/lib.sh"

export TM=1
export APP_SERVER_ARGS="--allow 127.0.0.1"
start_servers
wait_until "2 rounds with both app servers synchronised" 30 rounds_at_least 2 2

offset_of() { field offset_us "$(clockctl offset --prog "$1")"; }

# A correction larger than a day.
before=$(offset_of "$APP1_PROG")
set +e
out=$(clockctl adjust --prog "$APP1_PROG" --delta-us 90000000000)
rc=$?
set -e
((rc == 3)) || fail "ADJUST of 25 h: exit $rc ($out), expected a refusal"
[[ $out == *"status=out of range"*"outside +/-12 h"* ]] || fail "ADJUST of 25 h: unclear reply '$out'"
after=$(offset_of "$APP1_PROG")
(($(abs $((after - before))) < 1000)) || fail "clock moved from $before to $after us by a refused ADJUST"
pass "ADJUST of 25 h refused ($out), clock unchanged ($before -> $after us)"

# An ADJUST from 127.0.0.2, not in --allow 127.0.0.1.
before=$(offset_of "$APP2_PROG")
set +e
out=$(clockctl adjust --host 127.0.0.1 --bind 127.0.0.2 --prog "$APP2_PROG" --delta-us 5000000)
rc=$?
set -e
((rc == 3)) || fail "ADJUST from 127.0.0.2: exit $rc ($out), expected a refusal"
[[ $out == *"status=not allowed"*"127.0.0.2 is not in --allow"* ]] || fail "unclear refusal '$out'"
after=$(offset_of "$APP2_PROG")
(($(abs $((after - before))) < 1000)) || fail "clock moved from $before to $after us"
pass "ADJUST from a peer not allowed refused ($out), clock unchanged"
part_log app2 | grep -q 'caller 127.0.0.2 is not in --allow' || fail "app2 did not log the refusal"
pass "the refusal is in app2's log with the caller's address"

nodes_before=$(sql "SELECT count(*) FROM node")
join_refused() {
    local expect=$1
    shift
    set +e
    out=$(clockctl join "$@")
    rc=$?
    set -e
    ((rc != 0)) || fail "JOIN $* accepted: $out"
    [[ $out == *"$expect"* ]] || fail "JOIN $*: expected '$expect', got '$out'"
    pass "JOIN $* refused: $out"
}
join_refused "empty node name" --name ""
join_refused "node name too long: 64 bytes, at most 63" --name-len 64
join_refused "rpc_error=RPC: Server can't decode arguments" --name-len 100000
join_refused "node name may hold only" --name "bad name;"
last=$(sql "SELECT max(id) FROM sync_round")
next_round() { (($(sql "SELECT coalesce(max(round_id), 0) FROM node_sync") > last)); }
wait_until "a round after the bad JOINs" 10 next_round
nodes_after=$(sql "SELECT count(*) FROM node")
((nodes_after == nodes_before)) || fail "bad JOINs changed the node table ($nodes_before -> $nodes_after)"
pass "bad JOINs left the node table as it was ($nodes_after nodes)"

# Everyone still serves.
for prog in "$TIME_PROG" "$APP1_PROG" "$APP2_PROG"; do
    clockctl gethour --prog "$prog" >/dev/null || fail "program $prog stopped answering"
done
pass "time server and both app servers still serve"
