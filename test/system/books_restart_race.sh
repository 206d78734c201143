#!/usr/bin/env bash
# Two RESTART_SESSION at the same moment on different app servers, both having seen the
# same session: exactly one new session (the session table grows by exactly one in both
# DBs) and both callers are told the same current session. First over RPC (bookctl race:
# both calls released by one barrier, seen_session given), then with two
# `client --new-session` started together. A restart that saw an old session opens none.
source "$(dirname "$0")/lib.sh"

export TM=1
ROUNDS=5 CLIENT_ROUNDS=8
start_servers

sessions() { bsql "$1" "SELECT count(*) FROM session"; }
same_session() {
    [[ $(book_status 1 session) == "$(book_status 2 session)" ]] && caught_up 1 && caught_up 2
}

# ---- over RPC: RESTART_SESSION(seen S) on both servers at once ----
for r in $(seq 1 $ROUNDS); do
    wait_until "both app servers in the same session" 10 same_session
    s=$(book_status 1 session)
    before=$(sessions 1)
    rc=0
    out=$(bookctl race --seen "$s" --name "racer$r") || rc=$?
    ((rc == 0)) || fail "round $r: RESTART_SESSION race: exit $rc: $out"
    n1=$(sed -n 's/^instance=1 .* session=\([0-9]*\) .*/\1/p' <<<"$out")
    n2=$(sed -n 's/^instance=2 .* session=\([0-9]*\) .*/\1/p' <<<"$out")
    apart=$(field apart_us "$out")
    [[ -n $n1 && $n1 == "$n2" ]] && ((n1 > s)) ||
        fail "round $r: after session $s the two servers answered sessions '$n1' and '$n2': $out"
    wait_caught_up 10
    for n in 1 2; do
        after=$(sessions "$n")
        ((after == before + 1)) || fail "round $r: books$n holds $after sessions after the race, expected $((before + 1))"
    done
    prev=$(bsql 1 "SELECT previous FROM session WHERE id = $n1")
    ((prev == s)) || fail "round $r: session $n1 follows $prev, expected $s"
    msgs=$(sed -n 's/^instance=\([12]\) .*message=\(.*\)/\1: \2/p' <<<"$out" | tr '\n' ';')
    pass "round $r: RESTART_SESSION(seen $s) on both servers ${apart} us apart: one new session $n1 (sessions $before -> $after; $msgs)"
done
books_same "after $ROUNDS races"

# A restart that saw an older session opens nothing.
s=$(book_status 1 session)
old=$(bsql 1 "SELECT previous FROM session WHERE id = $s")
before=$(sessions 1)
rc=0
out=$(bookctl restart --instance 2 --seen "$old" --name late) || rc=$?
((rc == 0)) && [[ $(field session "$out") == "$s" ]] || fail "late restart after $old: exit $rc: $out"
wait_caught_up 10
after=$(sessions 2)
((after == before)) || fail "a restart that saw session $old changed the session count $before -> $after"
pass "RESTART_SESSION that saw session $old (current $s) opens none: $out"

# ---- two clients: `client --new-session` started together ----
for r in $(seq 1 $CLIENT_ROUNDS); do
    wait_until "both app servers in the same session" 10 same_session
    s=$(book_status 1 session)
    before=$(sessions 1)
    # Each says which session it saw end, as a client does after SESSION_OVER.
    "$BIN_DIR/client" --headless --instance 1 --name "twin$r" --new-session --seen-session "$s" --json \
        >"$TEST_TMP/twin1.$r.out" 2>"$TEST_TMP/twin1.$r.log" &
    p1=$!
    "$BIN_DIR/client" --headless --instance 2 --name "twin$r" --new-session --seen-session "$s" --json \
        >"$TEST_TMP/twin2.$r.out" 2>"$TEST_TMP/twin2.$r.log" &
    p2=$!
    rc1=0 rc2=0
    wait "$p1" || rc1=$?
    wait "$p2" || rc2=$?
    o1=$(cat "$TEST_TMP/twin1.$r.out") o2=$(cat "$TEST_TMP/twin2.$r.out")
    ((rc1 == 0 && rc2 == 0)) || fail "two --new-session: exit $rc1 and $rc2 ($o1 / $o2)"
    wait_caught_up 10
    after1=$(sessions 1) after2=$(sessions 2)
    c1=$(sed -n 's/^{"session":\([0-9]*\),.*/\1/p' <<<"$o1")
    c2=$(sed -n 's/^{"session":\([0-9]*\),.*/\1/p' <<<"$o2")
    if ((after1 == before + 1 && after2 == before + 1)) && [[ -n $c1 && $c1 == "$c2" ]]; then
        pass "round $r: two clients asking --new-session together after session $s: one new session $c1 ($o1 / $o2)"
    else
        fail_later "round $r: two clients that saw session $s and asked --new-session together made $((after1 - before)) new sessions (books2: $((after2 - before))); they report '$o1' and '$o2'"
    fi
done
books_same "after the client races"
no_sanitizer_reports
failed_later_checks
