#!/usr/bin/env bash
# "Restart" on an app server's window starts a new session: one more session in both
# books DBs, the same current session on both, and the previous one no longer current
# (a book handed out before is free again). Clicked on app server 1, then on app server 2.
source "$(dirname "$0")/lib.sh"

export TM=10
start_servers
for n in 1 2; do
    pid=$(part_pid_of "app$n")
    wait_window "$pid" "app server $n" >/dev/null
    wait_drawn "$(app_win "$n")" "app server $n"
done
# A session with a book handed out, so that the restart has something to replace.
"$BIN_DIR/client" --headless --instance 1 --name before-restart --request \
    >"$TEST_TMP/request.out" 2>"$TEST_TMP/request.log" </dev/null ||
    fail "a first book could not be requested: $(cat "$TEST_TMP/request.out" "$TEST_TMP/request.log")"
wait_caught_up
park_mouse

sessions() { bsql "$1" "SELECT count(*) FROM session"; }
current() { bsql "$1" "SELECT max(id) FROM session"; }
free_now() { bsql "$1" "SELECT count(*) FROM free_books"; }

for n in 1 2; do
    before1=$(sessions 1) before2=$(sessions 2) old=$(current 1)
    ((before1 == before2)) || fail "books1 has $before1 sessions, books2 $before2 before the click"
    clicks=$(part_log "app$n" | grep -c 'Restart clicked' || true)
    click "$(app_win "$n")" "$APP_RESTART"
    park_mouse
    wait_until "app server $n logging the click" 5 \
        bash -c "(( \$(tail -c +\$((\$(cat '$CLUSTER_DIR/run/app$n.logpos') + 1)) '$CLUSTER_DIR/log/app$n.log' | grep -c 'Restart clicked') > $clicks ))"
    more() { (($(sessions 1) == before1 + 1)) && (($(sessions 2) == before1 + 1)); }
    wait_until "one more session in both books DBs" 15 more
    wait_caught_up
    new1=$(current 1) new2=$(current 2)
    [[ $new1 == "$new2" ]] || fail "current session: $new1 in books1, $new2 in books2"
    ((new1 > old)) || fail "the current session ($new1) is not newer than the one before ($old)"
    prev=$(bsql 1 "SELECT previous FROM session WHERE id = $new1")
    [[ $prev == "$old" ]] || fail "session $new1 replaced $prev, not the current session $old"
    total=$(bsql 1 "SELECT count(*) FROM book")
    for m in 1 2; do
        f=$(free_now "$m")
        ((f == total)) || fail "books$m: $f of $total books free in the new session $new1"
    done
    pass "Restart on app server $n: session $new1 (after $old) in both books DBs ($before1 -> $((before1 + 1)) sessions), all $total books free"
done
books_same "after both restarts"
