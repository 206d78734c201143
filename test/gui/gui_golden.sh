#!/usr/bin/env bash
# Golden images: each window in a fixed state, in English and in Spanish (LANG=C.UTF-8,
# then LANG=es_MX.UTF-8: every process of the system started again in that language),
# compared with test/gui/golden/LANG/NAME.png, so that a layout regression, or a text
# that grew in translation and no longer fits, shows as a difference (the current
# picture, the golden one and a diff stay in the test's folder on failure).
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
#   the client's face the dialog leaves visible): it shows the running time of day, which changes
#   every second, and whether that clock is synchronised or slewing, which depends on how
#   the rounds fell; the face itself is covered by the widget layer's unit tests;
# - the time server's UTC lines: the offset and round trip measured against chronyd;
# - the plot of the time server's chart (round 1's UTC offset) and those of the app
#   server's and the client's offset histories, with their last value: the offsets of
#   random clocks (test/gui/gui_chart.sh checks what they draw);
# - the client's request number (the end of its "ISBN ... session 1, request N" line): a
#   log sequence number, which depends on how the app servers' start-up entries fell;
# - the client's "served at HH:MM:SS" line: the app server's clock at the request (in
#   the dialog picture only what the dialog box leaves visible of these).
# Compared with `compare -metric AE -fuzz 2%`; up to GOLDEN_TOLERANCE (default 20) pixels
# may differ. `UPDATE_GOLDEN=1 test/run-all gui gui_golden` rewrites the golden images
# (GOLDEN_LANGS="es" for one language only).
# Also checked: each window's title names its process and instance in its language, F12
# writes the same pixels as the screen shows (--screenshot), and the screenshot written
# when the window closes shows the dialog it closed with.
source "$(dirname "$0")/lib.sh"

TOLERANCE=${GOLDEN_TOLERANCE:-20}
UPDATE=${UPDATE_GOLDEN:-0}
LANGS=${GOLDEN_LANGS:-en es}

# Masked regions, "X Y W H" relative to the window (from the window code).
TS_MASKS=("$TS_FACE" "$TS_UTC_VALUE" "$TS_CHART_PLOT")
APP_MASKS=("$APP_FACE" "$APP_HISTORY_PLOT" "$APP_HISTORY_VALUE")
# The request number after "ISBN 9780142437247 · session 1, request " (277 px of small
# text from x 10; in Spanish "... sesión 1, pedido ", 265 px).
declare -A CLIENT_REQUEST_NO=([en]="286 252 24 17" [es]="274 252 24 17")
# Under the dialog only what its box leaves visible (its place depends on the language).
END_UNDER=("$CLIENT_FACE" "286 252 24 17" "274 252 24 17" "$CLIENT_SERVED_LINE" "$CLIENT_HISTORY_PLOT"
    "$CLIENT_HISTORY_VALUE")
COLOR_DIALOG_BORDER="rgb(90,96,110)"   # common/ui/ui_widgets.c: the dialog box's border

# outside_box "BX BY BW BH" "X Y W H"...: the parts of each rectangle outside the box, one a line.
outside_box() {
    local bx by bw bh r x y w h
    read -r bx by bw bh <<<"$1"
    shift
    for r in "$@"; do
        read -r x y w h <<<"$r"
        local x2=$((x + w)) y2=$((y + h)) bx2=$((bx + bw)) by2=$((by + bh))
        ((y < by)) && echo "$x $y $w $(((y2 < by ? y2 : by) - y))"
        ((y2 > by2)) && { local t=$((y > by2 ? y : by2)); echo "$x $t $w $((y2 - t))"; }
        local my=$((y > by ? y : by)) my2=$((y2 < by2 ? y2 : by2))
        if ((my2 > my)); then
            ((x < bx)) && echo "$x $my $(((x2 < bx ? x2 : bx) - x)) $((my2 - my))"
            ((x2 > bx2)) && { local t=$((x > bx2 ? x : bx2)); echo "$t $my $((x2 - t)) $((my2 - my))"; }
        fi
    done
}
# END_MASKS from where the dialog box is on the screen now.
end_masks() {
    local f=$TEST_TMP/dialog-box.png w h x y
    win_shot "$f" "$WIN_CLIENT1"
    read -r w h x y <<<"$(bbox_of_color "$f" "$COLOR_DIALOG_BORDER")"
    ((w > 100 && h > 100)) || return 1
    mapfile -t END_MASKS < <(outside_box "$x $y $w $h" "${END_UNDER[@]}")
}

# expect_title PID WHAT TITLE: the window's title (what a window manager shows) is TITLE.
expect_title() {
    local w t
    w=$(window_of "$1") || fail "$2: no window"
    t=$(xdotool getwindowname "$w")
    [[ $t == "$3" ]] || fail "$LANG_CODE: the window of $2 is titled \"$t\", not \"$3\""
    pass "$LANG_CODE: the window of $2 is titled \"$t\""
}

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
# golden NAME WIN MASKS...: the window now against golden/$LANG_CODE/NAME.png (or rewrites it).
golden() {
    local name=$1 win=$2 cur=$TEST_TMP/$LANG_CODE-$1.png gold=$GOLDEN_DIR/$LANG_CODE/$1.png n deadline
    shift 2
    mkdir -p "$GOLDEN_DIR/$LANG_CODE"
    park_mouse
    deadline=$((SECONDS + 5))
    while :; do
        stable_shot "$cur" "$win" "$@"
        if [[ $UPDATE == 1 ]]; then
            cp "$cur" "$gold"
            pass "$LANG_CODE $name: golden image rewritten ($gold)"
            return
        fi
        [[ -f $gold ]] || fail "$LANG_CODE $name: no golden image $gold (UPDATE_GOLDEN=1 test/run-all gui gui_golden writes it)"
        n=$(ae "$gold" "$cur" 2%)
        if ((n <= TOLERANCE)); then
            pass "$LANG_CODE $name: matches its golden image ($n pixels differ by more than 2%, tolerance $TOLERANCE)"
            return
        fi
        # A state still on its way (a reply, a cover loading): look again for a while.
        ((SECONDS < deadline)) || break
        sleep 0.5
    done
    compare -fuzz 2% "$gold" "$cur" "png:$TEST_TMP/$LANG_CODE-$name-diff.png" 2>/dev/null || true
    fail "$LANG_CODE $name: $n pixels differ from $gold by more than 2% (tolerance $TOLERANCE); see $TEST_TMP/$LANG_CODE-$name.png and $LANG_CODE-$name-diff.png"
}

# ---- The system, with one book, in each language ------------------------------------------
catalogue=$TEST_TMP/one-book.tsv
grep -v '^#' "$ROOT/db/catalogue.tsv" | grep -v '^$' | head -1 >"$catalogue"
isbn=$(cut -f1 "$catalogue")
export CATALOGUE=$catalogue TM=3600

# run_lang CODE: the whole sequence with every process started in that language.
run_lang() {
    LANG_CODE=$1
    unset LANGUAGE LC_ALL LC_MESSAGES
    case $LANG_CODE in
    es) export LANG=es_MX.UTF-8 ;;
    *) export LANG=C.UTF-8 ;;
    esac
    log "---- $LANG_CODE (LANG=$LANG) ----"
    local ts_title app_title client_title
    if [[ $LANG_CODE == es ]]; then
        ts_title="Bibliotime: servidor de tiempo" app_title="Bibliotime: servidor de aplicación 1"
        client_title="Bibliotime: cliente golden-reader (servidor de aplicación 1)"
    else
        ts_title="Bibliotime: time server" app_title="Bibliotime: app server 1"
        client_title="Bibliotime: client golden-reader (app server 1)"
    fi
    cluster stop app1 app2 time_server replication >/dev/null
    sql "TRUNCATE node_sync, sync_round, node RESTART IDENTITY CASCADE"
    cluster reset-data >/dev/null
    cluster start replication time_server >/dev/null
    ts_pid=$(part_pid_of time_server)
    wait_window "$ts_pid" "the time server" >/dev/null
    wait_drawn "$WIN_TIME_SERVER" "the time server"
    wait_until "round 1" 20 bash -c "(( \$(psql -X -At -h '$CLUSTER_DIR/run' -p $PGPORT -U postgres -d clock -c 'SELECT count(*) FROM sync_round') >= 1 ))"
    golden time_server "$WIN_TIME_SERVER" "${TS_MASKS[@]}"
    expect_title "$ts_pid" "the time server" "$ts_title"

    cluster start app1 app2 >/dev/null
    for n in 1 2; do
        wait_window "$(part_pid_of "app$n")" "app server $n" >/dev/null
        wait_drawn "$(app_win "$n")" "app server $n"
    done
    start_client_window 1 golden-reader
    wait_caught_up
    win_shot "$TEST_TMP/app1-before.png" "$WIN_APP1"
    crop "$TEST_TMP/app1-before.png" "$APP_COVER" "$TEST_TMP/cover-before.png"
    local before
    before=$(count_in_log "$TEST_TMP/client1.log" "request: book $isbn ")
    click "$WIN_CLIENT1" "$CLIENT_REQUEST"
    park_mouse
    wait_until "the client getting book $isbn" 15 \
        bash -c "(( \$(grep -c 'request: book $isbn ' '$TEST_TMP/client1.log') > $before ))"
    wait_region_change "$WIN_APP1" "$APP_COVER" "$TEST_TMP/cover-before.png" 10 10000
    wait_caught_up
    CLIENT_MASKS=("$CLIENT_FACE" "${CLIENT_REQUEST_NO[$LANG_CODE]}" "$CLIENT_SERVED_LINE"
        "$CLIENT_HISTORY_PLOT" "$CLIENT_HISTORY_VALUE")
    golden app_server "$WIN_APP1" "${APP_MASKS[@]}"
    golden client "$WIN_CLIENT1" "${CLIENT_MASKS[@]}"
    expect_title "$(part_pid_of app1)" "app server 1" "$app_title"
    expect_title "$CLIENT_PID" "the client" "$client_title"

    # F12: the --screenshot PNG holds what the screen shows (the face masked: it ticks between).
    local shots n f12_ok deadline rc
    shots=$(count_in_log "$TEST_TMP/client1.log" 'screenshot written')
    keys_to "$CLIENT_WID" F12
    park_mouse
    wait_until "the client's F12 screenshot" 10 more_shots "$shots"
    apply_masks "$TEST_TMP/client1.png" "$TEST_TMP/f12.png" "${CLIENT_MASKS[@]}"
    n=$(ae "$TEST_TMP/$LANG_CODE-client.png" "$TEST_TMP/f12.png")
    ((n == 0)) || fail "$LANG_CODE: the client's F12 screenshot differs from the screen in $n pixels"
    pass "$LANG_CODE: the client's F12 screenshot (--screenshot) is pixel for pixel what the screen shows"

    # The end of the session: the next click gets SESSION_OVER and opens the dialog.
    before=$(count_in_log "$TEST_TMP/client1.log" 'request: session [0-9]* over')
    click "$WIN_CLIENT1" "$CLIENT_REQUEST"
    park_mouse
    wait_until "SESSION_OVER for the second click" 15 \
        bash -c "(( \$(grep -c 'request: session [0-9]* over' '$TEST_TMP/client1.log') > $before ))"
    park_mouse
    wait_until "$LANG_CODE: the end-of-session dialog drawn" 5 end_masks
    golden client_session_end "$WIN_CLIENT1" "${END_MASKS[@]}"

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
        pass "$LANG_CODE: F12 with the dialog open writes the screenshot"
    else
        fail_later "$LANG_CODE: F12 with the end-of-session dialog open wrote no screenshot (no new \"screenshot written\" in the client's log within 3 s)"
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
    apply_masks "$TEST_TMP/client1.png" "$TEST_TMP/at-close.png" "${END_MASKS[@]}"
    n=$(ae "$TEST_TMP/$LANG_CODE-client_session_end.png" "$TEST_TMP/at-close.png" 2%)
    ((n <= TOLERANCE)) || fail "$LANG_CODE: the screenshot written at close differs from the dialog on the screen in $n pixels"
    pass "$LANG_CODE: the screenshot written at close shows the dialog ($n pixels differ by more than 2%)"
    mv "$TEST_TMP/client1.log" "$TEST_TMP/client1-$LANG_CODE.log"
}
more_shots() { (($(count_in_log "$TEST_TMP/client1.log" 'screenshot written') > $1)); }

for l in $LANGS; do run_lang "$l"; done
no_sanitizer_reports
failed_later_checks
