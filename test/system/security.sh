#!/usr/bin/env bash
# Who may change what, with the cluster's keys on:
# - every daemon runs as an unprivileged user, not root;
# - another local user (nobody, as a student sharing the lab machine) cannot reach the
#   databases, and its ADJUST, JOIN, SETQUERY and GETQUERY (it cannot read the key
#   file) are refused: the clock, the node table and the log stay as they were;
# - a captured valid ADJUST or SETQUERY sent again, a wrong MAC and an unknown key id
#   are refused with their reason, and counted in the log line;
# - a key file others may read (mode 0644) stops a daemon at start-up, saying why;
# - one peer opening 400 idle connections to a BOOK port keeps the per-peer cap (256),
#   the rest is refused and logged, and a book request from another address is served
#   meanwhile; a connection idle past --idle-timeout is closed.
source "$(dirname "$0")/lib.sh"

export TM=1
start_servers
wait_until "app1 and app2 synchronised in a round" 30 rounds_at_least 2 1

# ---- no root ----
for part in time_server app1 app2 replication; do
    pid=$(cat "$CLUSTER_DIR/run/$part.pid")
    user=$(ps -o user= -p "$pid" | tr -d ' ')
    [[ -n $user && $user != root ]] || fail "$part (pid $pid) runs as '${user:-?}'"
    uid=$(awk '/^Uid:/ {print $2 $3 $4 $5}' "/proc/$pid/status")
    [[ $uid != *0000* ]] || fail "$part keeps a root uid ($uid)"
done
pass "time_server, app1, app2 and replication run as $user (real, effective, saved uid not 0)"

# ---- replays, wrong MACs, unknown keys ----
clock_us() { field time_us "$(clockctl gethour --prog "$1")"; }
expect_refused() {
    local what=$1 want=$2 rc=0 out
    shift 2
    out=$("$@" 2>&1) || rc=$?
    ((rc != 0)) && [[ $out == *"$want"* ]] || fail "$what: expected a refusal '$want', got exit $rc: $out"
    OUT=$out
}
before=$(clock_us "$APP1_PROG")
expect_refused "a replayed ADJUST" "replayed" \
    clockctl adjust --prog "$APP1_PROG" --delta-us 2000 --twice
[[ $(head -1 <<<"${OUT,,}") == status=ok* ]] || fail "the first, valid ADJUST was not applied: $OUT"
pass "a captured ADJUST sent again is refused: $(tail -1 <<<"$OUT")"
expect_refused "an ADJUST with a wrong MAC" "wrong MAC" \
    clockctl adjust --prog "$APP1_PROG" --delta-us 3600000000 --bad-mac
pass "an ADJUST with a wrong MAC is refused: $OUT"
expect_refused "an ADJUST under key 99" "signed with a key not in the key file (key 99" \
    clockctl adjust --prog "$APP1_PROG" --delta-us 3600000000 --key-id 99
pass "an ADJUST under an unknown key id is refused: $OUT"
after=$(clock_us "$APP1_PROG")
d=$(((after - before) / 1000000))
((d >= 0 && d < 60)) || fail "app1's clock moved by $d s across the refused ADJUSTs"
pass "app1's clock did not take the refused hour (moved ${d} s in the meantime)"
part_log app1 | grep -qE 'auth.*ADJUST refused: replayed.*1 refused so' ||
    fail "app1 did not log the replayed ADJUST with its count"
pass "app1 logged the refusals with their counts"

seq0=$(log_max_seq)
s=$(book_status 1 session)
expect_refused "a replayed SETQUERY" "replayed" \
    bookctl setquery --op user --origin 1 --session "$s" --name replayer --twice
[[ $(head -1 <<<"${OUT,,}") == status=ok* ]] || fail "the first SETQUERY was not appended: $OUT"
expect_refused "a SETQUERY with a wrong MAC" "wrong MAC" \
    bookctl setquery --op user --origin 1 --session "$s" --name forger --bad-mac
expect_refused "a GETQUERY under key 99" "key not in the key file" bookctl getquery --key-id 99
(($(log_max_seq) == seq0 + 1)) || fail "the log went from $seq0 to $(log_max_seq), expected one entry"
pass "SETQUERY replayed or with a wrong MAC and GETQUERY under an unknown key: refused; one entry appended"

# ---- another local user ----
if ((EUID == 0)); then
    other=nobody
    # The tools, where nobody can run them (the clone may sit in a 0700 folder).
    obin=$(mktemp -d /tmp/bibliotime-other.XXXXXX)
    cp "$TOOLS/clockctl" "$TOOLS/bookctl" "$obin/"
    chmod 755 "$obin" "$obin"/*
    as_other() { runuser -u "$other" -- "$@"; }
    for db in clock books1 replication; do
        for role in postgres bibliotime_app1 bibliotime_time "$other"; do
            if out=$(as_other psql -X -At -h "$CLUSTER_DIR/run" -p "$PGPORT" -U "$role" -d "$db" \
                    -c "SELECT 1" 2>&1); then
                rm -rf "$obin"
                fail "$other connected to $db as $role"
            fi
        done
    done
    pass "$other cannot connect to clock, books1 or replication as postgres, a daemon's role or itself ($(head -1 <<<"$out"))"
    as_other test -r "$KEY_FILE" && fail "$other can read the key file"
    nodes=$(sql "SELECT count(*) FROM node")
    seq0=$(log_max_seq)
    before=$(clock_us "$APP2_PROG")
    expect_refused "ADJUST by $other" "not signed" \
        as_other "$obin/clockctl" adjust --prog "$APP2_PROG" --delta-us 3600000000
    expect_refused "JOIN by $other" "not signed" as_other "$obin/clockctl" join --name intruder
    expect_refused "SETQUERY by $other" "not signed" \
        as_other "$obin/bookctl" setquery --op claim --origin 1 --session "$s" \
        --isbn "$(bsql 1 "SELECT isbn FROM free_books ORDER BY id LIMIT 1")" --name madeup
    expect_refused "GETQUERY by $other" "not signed" as_other "$obin/bookctl" getquery
    rm -rf "$obin"
    after=$(clock_us "$APP2_PROG")
    d=$(((after - before) / 1000000))
    ((d >= 0 && d < 60)) || fail "app2's clock moved by $d s after $other's ADJUST"
    (($(sql "SELECT count(*) FROM node") == nodes)) || fail "$other's JOIN changed the node table"
    (($(log_max_seq) == seq0)) || fail "$other's SETQUERY appended to the log"
    pass "$other's ADJUST, JOIN, SETQUERY and GETQUERY are refused (not signed); clock, nodes and log unchanged"
else
    log "not root: the other-user checks need runuser (skipped)"
fi

# ---- a key file others may read ----
loose=$TEST_TMP/loose.keys
cp "$KEY_FILE" "$loose"
chmod 644 "$loose"
rc=0
out=$("$BIN_DIR/app_server" --headless --instance 3 --time-server localhost --db "$(books_db 1)" \
    --key-file "$loose" 2>&1) || rc=$?
((rc != 0)) && [[ $out == *"mode 0644 lets others read or change the keys; it must be 0600"* ]] ||
    fail "an app server with a 0644 key file: exit $rc: $out"
rpcinfo -p localhost | grep -qE "^ *$((CLOCK_BASE + 3)) " && fail "it registered anyway"
pass "a daemon given a 0644 key file does not start: $(tail -1 <<<"$out")"

# ---- idle connections ----
out=$("$TOOLS/connflood" --prog "$BOOK2_PROG" --vers 2 --from 127.0.0.2 --count 400)
[[ $out == "opened=400 held=256 refused=144" ]] || fail "400 connections from 127.0.0.2: $out"
pass "400 idle connections from one peer: $out"
part_log app2 | grep -q 'connection from 127.0.0.2 refused: it has 256 open, at most 256 a peer' ||
    fail "app2 did not log the refused connections"
pass "app2 logged the refused peer"
mkfifo "$TEST_TMP/hold"
"$TOOLS/connflood" --prog "$BOOK2_PROG" --vers 2 --from 127.0.0.2 --count 300 --hold \
    <"$TEST_TMP/hold" >"$TEST_TMP/flood.out" 2>&1 &
flood=$!
exec 7>"$TEST_TMP/hold"
wait_until "the flood in place" 30 grep -q opened= "$TEST_TMP/flood.out"
out=$(bookctl request --instance 2 --name bystander)
[[ $out == status=OK* ]] || fail "a book request from 127.0.0.1 during the flood: $out"
pass "with 256 connections held by 127.0.0.2, a request from 127.0.0.1 is served: $out"
exec 7>&-
wait "$flood" || true

cluster stop app2 >/dev/null
APP_SERVER_ARGS="--idle-timeout 2" cluster start app2 >/dev/null
out=$("$TOOLS/connflood" --prog "$BOOK2_PROG" --vers 2 --from 127.0.0.2 --count 5 --closed-within 20) ||
    fail "connections idle past --idle-timeout 2 were not closed: $out"
[[ $out == *"held=5 refused=0"*"closed_later=5"* ]] || fail "idle connections: $out"
pass "connections idle past --idle-timeout 2 are closed: $(tr '\n' ' ' <<<"$out")"
