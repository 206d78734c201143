#!/usr/bin/env bash
# Golden images: each window in a fixed state, compared with test/gui/golden/NAME.png, so
# that a layout regression shows as a difference (the current picture, the golden one and
# a diff stay in the test's folder on failure).
#   time_server.png          the time server before any node joined (round 1 done, TM 3600 s)
#   app_server.png           app server 1 after handing out the only book: cover, title, user
#   client.png               client 1 showing that book
#   client_session_end.png   client 1 with the end-of-session dialog open
# The state is fixed by a one-book catalogue (the first of db/catalogue.tsv: the book, its
# cover and the request's numbers are always the same), TM=3600 (one round at start, then
# none), fixed names, and the mouse parked where it hovers over nothing.
#
# What is masked (painted magenta in both pictures) and why:
# - every clock face (time server, app server, client; in the dialog picture the part of
#   the client's face above the dialog): it shows the running time of day, which changes
#   every second, and whether that clock is synchronised or slewing, which depends on how
#   the rounds fell; the face itself is covered by the widget layer's unit tests;
# - the time server's UTC line: the offset and round trip measured against chronyd;
# - the client's "served at HH:MM:SS" line: the app server's clock at the request (its
#   lower part shows under the dialog too).
# Compared with `compare -metric AE -fuzz 2%`; up to GOLDEN_TOLERANCE (default 20) pixels
# may differ. `UPDATE_GOLDEN=1 test/run-all gui gui_golden` rewrites the golden images.
# Also checked: F12 writes the same pixels as the screen shows (--screenshot), and the
# screenshot written when the window closes shows the dialog it closed with.
source "$(dirname "$0")/lib.sh"

TOLERANCE=${GOLDEN_TOLERANCE:-20}
UPDATE=${UPDATE_GOLDEN:-0}
mkdir -p "$GOLDEN_DIR"

# Masked regions, "X Y W H" relative to the window (from the window code).
CLIENT_FACE_ABOVE_DIALOG="10 8 300 81"  # the face rows the dialog box does not cover

# apply_masks IN OUT "X Y W H"...
apply_masks() {
    local in=$1 out=$2 r
    shift 2
    cp "$in" "$out"
    for r in "$@"; do mask "$out" "$r" "$out"; done
}
# stable_shot OUT WIN MASKS...: the window (masked) once two pictures 0.4 s apart agree.
stable_shot() {
    local out=$1 win=$2 prev=$TEST_TMP/stable-prev.png raw=$TEST_TMP/stable-raw.png
    shift 2
    local deadline=$((SECONDS + 10))
    win_shot "$raw" "$win"
    apply_masks "$raw" "$prev" "$@"
    while :; do
        sleep 0.4
        win_shot "$raw" "$win"
        apply_masks "$raw" "$out" "$@"
        (($(ae "$prev" "$out") == 0)) && return 0
        ((SECONDS < deadline)) || fail "the window at $win did not settle within 10 s"
        cp "$out" "$prev"
    done
}
# golden NAME WIN MASKS...: the window now against golden/NAME.png (or rewrites it).
golden() {
    local name=$1 win=$2 cur=$TEST_TMP/$1.png gold=$GOLDEN_DIR/$1.png n deadline
    shift 2
    park_mouse
    deadline=$((SECONDS + 5))
    while :; do
        stable_shot "$cur" "$win" "$@"
        if [[ $UPDATE == 1 ]]; then
            cp "$cur" "$gold"
            pass "$name: golden image rewritten ($gold)"
            return
        fi
        [[ -f $gold ]] || fail "$name: no golden image $gold (UPDATE_GOLDEN=1 test/run-all gui gui_golden writes it)"
        n=$(ae "$gold" "$cur" 2%)
        if ((n <= TOLERANCE)); then
            pass "$name: matches its golden image ($n pixels differ by more than 2%, tolerance $TOLERANCE)"
            return
        fi
        # A state still on its way (a reply, a cover loading): look again for a while.
        ((SECONDS < deadline)) || break
        sleep 0.5
    done
    compare -fuzz 2% "$gold" "$cur" "png:$TEST_TMP/$name-diff.png" 2>/dev/null || true
    fail "$name: $n pixels differ from $gold by more than 2% (tolerance $TOLERANCE); see $TEST_TMP/$name.png and $name-diff.png"
}

# ---- The system, with one book ------------------------------------------------------------
catalogue=$TEST_TMP/one-book.tsv
grep -v '^#' "$ROOT/db/catalogue.tsv" | grep -v '^$' | head -1 >"$catalogue"
isbn=$(cut -f1 "$catalogue")
export CATALOGUE=$catalogue TM=3600
cluster stop app1 app2 time_server replication >/dev/null
sql "TRUNCATE node_sync, sync_round, node RESTART IDENTITY CASCADE"
cluster reset-data >/dev/null
cluster start replication time_server >/dev/null
ts_pid=$(part_pid_of time_server)
wait_window "$ts_pid" "the time server" >/dev/null
wait_drawn "$WIN_TIME_SERVER" "the time server"
wait_until "round 1" 20 bash -c "(( \$(psql -X -At -h '$CLUSTER_DIR/run' -p $PGPORT -U postgres -d clock -c 'SELECT count(*) FROM sync_round') >= 1 ))"
golden time_server "$WIN_TIME_SERVER" "$TS_FACE" "$TS_UTC_VALUE"

cluster start app1 app2 >/dev/null
for n in 1 2; do
    wait_window "$(part_pid_of "app$n")" "app server $n" >/dev/null
    wait_drawn "$(app_win "$n")" "app server $n"
done
start_client_window 1 golden-reader
wait_caught_up
win_shot "$TEST_TMP/app1-before.png" "$WIN_APP1"
crop "$TEST_TMP/app1-before.png" "$APP_COVER" "$TEST_TMP/cover-before.png"
click "$WIN_CLIENT1" "$CLIENT_REQUEST"
park_mouse
wait_until "the client getting book $isbn" 15 grep -q "request: book $isbn " "$TEST_TMP/client1.log"
wait_region_change "$WIN_APP1" "$APP_COVER" "$TEST_TMP/cover-before.png" 10 10000
wait_caught_up
golden app_server "$WIN_APP1" "$APP_FACE"
golden client "$WIN_CLIENT1" "$CLIENT_FACE" "$CLIENT_SERVED_LINE"

# F12: the --screenshot PNG holds what the screen shows (the face masked: it ticks between).
shots=$(count_in_log "$TEST_TMP/client1.log" 'screenshot written')
keys_to "$CLIENT_WID" F12
park_mouse
more_shots() { (($(count_in_log "$TEST_TMP/client1.log" 'screenshot written') > $1)); }
wait_until "the client's F12 screenshot" 10 more_shots "$shots"
apply_masks "$TEST_TMP/client1.png" "$TEST_TMP/f12.png" "$CLIENT_FACE" "$CLIENT_SERVED_LINE"
n=$(ae "$TEST_TMP/client.png" "$TEST_TMP/f12.png")
((n == 0)) || fail "the client's F12 screenshot differs from the screen in $n pixels"
pass "the client's F12 screenshot (--screenshot) is pixel for pixel what the screen shows"

# The end of the session: the next click gets SESSION_OVER and opens the dialog.
click "$WIN_CLIENT1" "$CLIENT_REQUEST"
park_mouse
wait_until "SESSION_OVER for the second click" 15 grep -q 'request: session [0-9]* over' "$TEST_TMP/client1.log"
golden client_session_end "$WIN_CLIENT1" "$CLIENT_FACE_ABOVE_DIALOG" "$CLIENT_SERVED_LINE"

# F12 with the dialog open (the dialog is modal: it must not swallow the screenshot key).
shots=$(count_in_log "$TEST_TMP/client1.log" 'screenshot written')
keys_to "$CLIENT_WID" F12
park_mouse
f12_ok=0
deadline=$((SECONDS + 3))
while ((SECONDS < deadline)); do
    if more_shots "$shots"; then f12_ok=1; break; fi
    sleep 0.1
done
if ((f12_ok)); then
    pass "F12 with the dialog open writes the screenshot"
else
    fail_later "F12 with the end-of-session dialog open wrote no screenshot (no new \"screenshot written\" in the client's log within 3 s)"
fi

# Closing the window writes the screenshot once more: the dialog it closed with.
shots=$(count_in_log "$TEST_TMP/client1.log" 'screenshot written')
wm_close "$CLIENT_WID"
deadline=$((SECONDS + 15))
while pid_alive "$CLIENT_PID"; do
    ((SECONDS < deadline)) || fail "the client still runs 15 s after its window was closed"
    sleep 0.1
done
rc=0
wait "$CLIENT_PID" || rc=$?
forget_pid "$CLIENT_PID"
((rc == 0)) || fail "the client exited with status $rc after its window was closed"
more_shots "$shots" || fail "no screenshot written when the client's window closed"
apply_masks "$TEST_TMP/client1.png" "$TEST_TMP/at-close.png" "$CLIENT_FACE_ABOVE_DIALOG" "$CLIENT_SERVED_LINE"
n=$(ae "$TEST_TMP/client_session_end.png" "$TEST_TMP/at-close.png" 2%)
((n <= TOLERANCE)) || fail "the screenshot written at close differs from the dialog on the screen in $n pixels"
pass "the screenshot written at close shows the dialog ($n pixels differ by more than 2%)"
no_sanitizer_reports
failed_later_checks
