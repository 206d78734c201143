#!/usr/bin/env bash
# The end of a session in a client window. 14 of the 15 books go to another client
# (headless), the window's click gets the 15th, its next click gets SESSION_OVER and the
# dialog "All books have been handed out" opens; "New session" starts one (one more
# session in both books DBs). All 15 handed out again, the dialog again, and "Exit" ends
# the client: exit status 0, no sanitizer report, its clock's registration gone.
source "$(dirname "$0")/lib.sh"

export TM=10
start_servers
start_client_window 1 gui-last
wait_caught_up
park_mouse
LOG=$TEST_TMP/client1.log

# The two buttons of the dialog ("Exit", "New session"): the only pixels of a button's
# normal fill on the dimmed window. Sets EXIT_AT and NEW_AT ("X Y" in the window).
find_dialog_buttons() {
    local f=$TEST_TMP/dialog.$RANDOM.png w h x y
    win_shot "$f" "$WIN_CLIENT1"
    read -r w h x y <<<"$(bbox_of_color "$f" "$COLOR_BUTTON")"
    # Two buttons side by side, 34 high, each at least 110 wide, inside the window (the
    # fill is what lies inside a button's 1-pixel border: 32 high).
    ((h >= 30 && h <= 34 && w >= 230 && w <= 300)) || return 1
    # Nothing else of that colour: the "Request book" button behind is dimmed.
    [[ $(count_color "$f" "$COLOR_BUTTON") -gt 3000 ]] || return 1
    EXIT_AT="$((x + 54)) $((y + h / 2))"
    NEW_AT="$((x + w - 54)) $((y + h / 2))"
    DIALOG_SHOT=$f
}

# hand_out_all SESSION_LABEL: 14 books to another client, the 15th and SESSION_OVER by clicks.
hand_out_all() {
    local books overs
    "$BIN_DIR/client" --headless --instance 1 --name other-reader --request --count 14 \
        >>"$TEST_TMP/other.out" 2>>"$TEST_TMP/other.log" </dev/null ||
        fail "$1: 14 books for the other reader: exit $? ($(tail -2 "$TEST_TMP/other.log"))"
    wait_caught_up
    books=$(count_in_log "$LOG" 'request: book ')
    click "$WIN_CLIENT1" "$CLIENT_REQUEST"
    park_mouse
    wait_until "$1: the 15th book by the click" 15 \
        bash -c "(( \$(grep -c 'request: book ' '$LOG') > $books ))"
    pass "$1: the click got the 15th book: $(grep 'request: book ' "$LOG" | tail -1 | sed 's/.*request: //')"
    win_shot "$TEST_TMP/before-over.png" "$WIN_CLIENT1"
    overs=$(count_in_log "$LOG" 'request: session [0-9]* over')
    # The button is enabled again once the booker is idle; a click meanwhile is ignored.
    sleep 0.3
    click "$WIN_CLIENT1" "$CLIENT_REQUEST"
    park_mouse
    wait_until "$1: SESSION_OVER for the next click" 15 \
        bash -c "(( \$(grep -c 'request: session [0-9]* over' '$LOG') > $overs ))"
    wait_until "$1: the end-of-session dialog drawn" 5 find_dialog_buttons
    changed=$(ae "$TEST_TMP/before-over.png" "$DIALOG_SHOT")
    ((changed > 50000)) || fail "$1: the window changed in only $changed pixels with the dialog open"
    pass "$1: the end-of-session dialog is open ($changed of 128000 pixels changed; Exit at $EXIT_AT, New session at $NEW_AT)"
}

sessions() { bsql "$1" "SELECT count(*) FROM session"; }

hand_out_all "session 1"
s1=$(sessions 1)
[[ $s1 == "$(sessions 2)" ]] || fail "books1 and books2 disagree on the number of sessions"
click "$WIN_CLIENT1" "$NEW_AT"
park_mouse
wait_until "the client asking for a new session" 10 grep -q 'asking for a new session' "$LOG"
wait_until "the new session opened" 15 grep -q 'request: new session: session' "$LOG"
more() { (($(sessions 1) == s1 + 1)) && (($(sessions 2) == s1 + 1)); }
wait_until "one more session in both books DBs" 15 more
wait_caught_up
pass "\"New session\": $(grep 'request: new session' "$LOG" | tail -1 | sed 's/.*request: //'); books1 and books2 hold $((s1 + 1)) sessions"
find_dialog_buttons && fail "the dialog is still open after \"New session\""
pass "the dialog closed"
books_same "after the new session"

hand_out_all "session 2"
click "$WIN_CLIENT1" "$EXIT_AT"
park_mouse
deadline=$((SECONDS + 15))
while pid_alive "$CLIENT_PID"; do
    ((SECONDS < deadline)) || fail "the client still runs 15 s after \"Exit\""
    sleep 0.1
done
rc=0
wait "$CLIENT_PID" || rc=$?
forget_pid "$CLIENT_PID"
((rc == 0)) || fail "the client exited with status $rc after \"Exit\" (log: $(tail -5 "$LOG"))"
grep -q 'over: exit' "$LOG" || fail "the client did not log the \"Exit\" answer"
if grep -qE 'AddressSanitizer|LeakSanitizer|runtime error' "$LOG"; then
    fail "sanitizer report in the client's log: $(grep -m3 -E 'AddressSanitizer|LeakSanitizer|runtime error' "$LOG")"
fi
registered "$CLIENT1_PROG" && fail "the client's clock program $CLIENT1_PROG is still registered after Exit"
pass "\"Exit\" ended the client: exit 0, no sanitizer report, its clock program unregistered"
no_sanitizer_reports
