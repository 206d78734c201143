#!/usr/bin/env bash
# A client window listing app servers 1 and 2 while app server 1 is killed: "Request
# book" still gets a book, from app server 2, and the window says why: its status line
# names the server that failed and the one asked ("app server 1 unreachable, asked app
# server 2", logged with the book), or, if its STATUS poll found app server 1 gone first,
# that it moved ("now using app server 2"); its clock then syncs with app server 2. The
# book is in both books DBs; once app server 1 is back the window goes back to it.
source "$(dirname "$0")/lib.sh"

export TM=10
start_servers
start_client_window 1 gui-failover --server localhost:2
grep -q 'app servers localhost:1, localhost:2' "$TEST_TMP/client1.log" ||
    fail "the client window does not list both app servers: $(grep 'open at' "$TEST_TMP/client1.log")"
park_mouse
shot "$TEST_TMP/before.png"
wcrop "$TEST_TMP/before.png" "$WIN_CLIENT1" "$CLIENT_BOOK" "$TEST_TMP/book-before.png"

pid1=$(part_pid_of app1)
kill -KILL "$pid1"
gone() { ! pid_alive "$pid1"; }
wait_until "app server 1 (pid $pid1) gone" 10 gone
click "$WIN_CLIENT1" "$CLIENT_REQUEST"
park_mouse
wait_until "the client logging the book it got" 20 grep -q 'request: book ' "$TEST_TMP/client1.log"
line=$(grep 'request: book ' "$TEST_TMP/client1.log" | head -1)
[[ $line == *"from app server 2 "* ]] || fail "the book did not come from app server 2: $line"
if [[ $line == *"app server 1 unreachable, asked app server 2"* ]]; then
    pass "the click got a book from app server 2 and says why: ${line#*request: }"
elif grep -q 'now using app server 2 (was app server 1)' "$TEST_TMP/client1.log"; then
    pass "the window's poll moved to app server 2 before the click, which got its book there: ${line#*request: }"
else
    fail "the book came from app server 2 but nothing says app server 1 failed: $line"
fi
# The clock follows the server in use.
synced2() { grep -q 'sync: offset to app server 2' "$TEST_TMP/client1.log"; }
wait_until "the client's clock syncing with app server 2" 15 synced2
pass "the client's clock follows: $(grep 'sync: offset to app server 2' "$TEST_TMP/client1.log" | head -1 | sed 's/.*client sync: //')"
wait_region_change "$WIN_CLIENT1" "$CLIENT_BOOK" "$TEST_TMP/book-before.png" 10 500
pass "the window shows the book ($(ae "$TEST_TMP/book-before.png" "$REGION_NOW") pixels of its book region changed)"

isbn=$(sed -E 's/.*request: book ([0-9]+) .*/\1/' <<<"$line")
cluster start app1 >/dev/null
wait_caught_up
for n in 1 2; do
    got=$(bsql "$n" "SELECT count(*) FROM request q JOIN library_user u ON u.id = q.user_id
                     WHERE q.isbn = '$isbn' AND u.name = 'gui-failover' AND q.server = 2")
    ((got == 1)) || fail "books$n holds $got requests of $isbn by gui-failover from server 2"
done
pass "the book ($isbn, handed out by app server 2) is in books1 and books2"
back() { grep -q 'now using app server 1' "$TEST_TMP/client1.log"; }
wait_until "the window going back to app server 1" 30 back
pass "app server 1 back: the window uses it again ($(grep 'now using app server 1' "$TEST_TMP/client1.log" | tail -1 | sed 's/.*window: //'))"
books_same "after the failover"
stop_extras
