# Shared by the GUI tests (test/gui/*.sh): sourced, never run. The system tests' helpers
# (test/system/lib.sh: start_servers, sql, wait_until, part_log, the books helpers) plus
# what driving the windows needs: where each window is and where its buttons are (read
# from the window code), clicks and keys with xdotool, screenshots of the root window
# (xwd) cut to a region, pixel comparisons (ImageMagick compare -metric AE) and a clean
# close through WM_DELETE_WINDOW. test/run-all gui starts the Xvfb and sets DISPLAY.
# shellcheck shell=bash source-path=SCRIPTDIR
# shellcheck disable=SC2034  # the layout constants are for the tests that source this
source "$(dirname "${BASH_SOURCE[0]}")/../system/lib.sh"

[[ -n ${DISPLAY:-} ]] || fail "no DISPLAY: run the GUI tests through test/run-all gui"
xdpyinfo >/dev/null 2>&1 || fail "display $DISPLAY does not answer"
# scripts/cluster opens the windows of the time server and the app servers.
export WINDOWS=1
GUI_DIR=$ROOT/test/gui
GOLDEN_DIR=$GUI_DIR/golden

# ---- Where the windows are (scripts/lib/cluster-rpc.sh and scripts/run) -----------------
# "X Y W H" of each window on the 1280x800 screen.
WIN_TIME_SERVER="0 0 640 400"
WIN_APP1="0 400 640 400"
WIN_APP2="640 400 640 400"
WIN_CLIENT1="640 0 320 400"
WIN_CLIENT2="960 0 320 400"
client_win() { if (($1 == 1)); then echo "$WIN_CLIENT1"; else echo "$WIN_CLIENT2"; fi; }
app_win() { if (($1 == 1)); then echo "$WIN_APP1"; else echo "$WIN_APP2"; fi; }

# ---- Where things are inside a window ("X Y" centres, "X Y W H" regions) ----------------
# common/ui/clock_panel.c lays out a panel rect r: face {r.x, r.y, r.w, r.h-42}, Modify
# 120x34 centred at the bottom, OK and Cancel 120x34 either side of the centre, 14 apart
# (narrower in a panel under 254 wide: (r.w-14)/2 each).
# client/window.c: panel {10,8,300,150}, "Request book" {10,164,300,34}, the last book
# {10,206,300,80} (its fourth line "served at ..." at y 270), the offset history
# {10,290,300,52}, status lines from y 344.
CLIENT_MODIFY="160 141"
CLIENT_OK="93 141"
CLIENT_CANCEL="227 141"
CLIENT_REQUEST="160 181"
CLIENT_FACE="10 8 300 108"
CLIENT_BOOK="10 206 300 80"
CLIENT_SERVED_LINE="10 269 300 18"   # "served at HH:MM:SS by app server N"
CLIENT_HISTORY="10 290 300 52"
CLIENT_HISTORY_PLOT="114 293 192 46"  # ui_chart's compact plot: x + 104, y + 3, w - 108, h - 6
CLIENT_HISTORY_VALUE="16 309 98 20"   # the last offset, under "Offset"
# app_server/window.c: panel {10,10,460,170}, cover {480,10,150,225}, Restart {10,190,130,34},
# the offset history {480,262,150,112}.
APP_MODIFY="240 163"
APP_OK="173 163"
APP_CANCEL="307 163"
APP_RESTART="75 207"
APP_FACE="10 10 460 128"
APP_PANEL="10 10 460 170"
APP_COVER="480 10 150 225"
APP_HISTORY="480 262 150 112"
APP_HISTORY_PLOT="514 282 112 89"     # ui_chart small: x + 34, y + 20, w - 38, h - 23
APP_HISTORY_VALUE="550 263 76 18"     # the last offset, right-aligned at the top (at most 70 wide)
# time_server/window.c: panel {10,10,250,150} (Modify 118x34 at 76,126), the round line at
# y 166, two UTC lines from y 185 (source; offset and round trip), the chart
# {270,10,360,208}, the nodes' table {10,226,620,152}.
TS_MODIFY="135 143"
TS_FACE="10 10 250 108"
TS_UTC_VALUE="10 185 250 34"
TS_CHART="270 10 360 208"
TS_CHART_PLOT="316 30 310 167"        # ui_chart: x + 46, y + 20, w - 50, h - 20 - 18 - 3
# Inside that plot (its own coordinates): the zero line and the +/-1 ms and +/-1 h lines
# (7.27 px a decade of the symmetric-log axis), the newest slot's column and the spacing
# of the slots (37 slots fit; TM=2 s asks for 151, TM=10 s for 31: then 10 px apart).
TS_PLOT_Y0=83 TS_PLOT_Y_1MS=22 TS_PLOT_Y_1H=70 TS_PLOT_SLOTS=37 TS_PLOT_SPACING=8
# The swatch of row N (0, 1...) of the nodes' table: x 21, y 265 + 25 N (header 27, rows 25).
ts_swatch_at() { echo "21 $((265 + 25 * $1))"; }
# The colours nodes get, in the order of their first round (time_server/chart.c), and the
# colour of the own-offset histories' markers (common/ui/offset_history.c).
NODE_COLORS=("rgb(31,119,180)" "rgb(255,127,14)" "rgb(44,160,44)" "rgb(148,103,189)")
COLOR_HISTORY="rgb(31,119,180)"
# The histories' plots (their own coordinates): the zero line and how far +/-1 ms is.
APP_PLOT_Y0=44 APP_PLOT_Y_1MS=11 APP_PLOT_Y_1S=23 APP_HISTORY_SLOTS=20
CLIENT_PLOT_Y0=23 CLIENT_PLOT_Y_1MS=8 CLIENT_PLOT_Y_1S=16 CLIENT_HISTORY_SLOTS=30
# Colours of common/ui (exact: the software renderer draws them unblended).
COLOR_BUTTON="rgb(226,230,238)"      # a button's normal fill
COLOR_CANVAS="rgb(232,234,238)"      # the empty image canvas
COLOR_STOPPED="rgb(180,32,32)"       # a clock stopped for setting by hand
# A spot where the mouse hovers over nothing: near the time server window's bottom right
# corner (hover changes how a button looks, so pictures are taken with the mouse there).
PARK="630 395"

# ---- Input ------------------------------------------------------------------------------
# move_to X Y: the pointer to (X, Y) on the screen, once it is there. (xdotool's --sync
# waits for the pointer to move, up to 15 s when it is already there: not asked then.)
move_to() {
    local at
    at=$(xdotool getmouselocation 2>/dev/null | sed -E 's/^x:([0-9]+) y:([0-9]+) .*/\1 \2/')
    [[ $at == "$1 $2" ]] && return 0
    xdotool mousemove --sync "$1" "$2"
}
# click "WX WY W H" "RX RY": a left click at (RX, RY) inside the window at (WX, WY).
click() {
    local wx wy rx ry
    read -r wx wy _ <<<"$1"
    read -r rx ry <<<"$2"
    move_to $((wx + rx)) $((wy + ry))
    xdotool click 1
}
park_mouse() {
    local x y
    read -r x y <<<"$PARK"
    move_to "$x" "$y"
}
# The X window of a process (SDL sets _NET_WM_PID), once it is mapped.
window_of() {
    local pid=$1 w
    w=$(xdotool search --onlyvisible --pid "$pid" 2>/dev/null | head -1) || return 1
    [[ -n $w ]] && echo "$w"
}
wait_window() {
    local pid=$1 what=$2 deadline=$((SECONDS + ${3:-20})) w
    until w=$(window_of "$pid"); do
        ((SECONDS < deadline)) || fail "timed out waiting for the window of $what (pid $pid)"
        pid_alive "$pid" || fail "$what (pid $pid) ended before showing its window"
        sleep 0.1
    done
    echo "$w"
}
# Keys to a window (its keyboard focus first; there is no window manager to give it).
keys_to() {
    local w=$1
    shift
    xdotool windowfocus --sync "$w" 2>/dev/null || xdotool windowfocus "$w"
    xdotool key --delay 60 "$@"
}
# A person closing the window: WM_DELETE_WINDOW, what a window manager sends for the
# close button (xdotool windowclose destroys the window instead, an X error for SDL, and
# this xdotool has no windowquit). A few lines of Xlib (libx11-dev comes with libsdl2-dev),
# built once into $CLUSTER_DIR/gui-tools.
WM_CLOSE=$CLUSTER_DIR/gui-tools/wm_close
wm_close() {
    if [[ ! -x $WM_CLOSE || $WM_CLOSE -ot ${BASH_SOURCE[0]} ]]; then
        mkdir -p "$(dirname "$WM_CLOSE")"
        cc -std=c11 -Wall -Werror -o "$WM_CLOSE.tmp" -x c - -lX11 <<'EOF_C' || fail "cannot build $WM_CLOSE"
#include <X11/Xlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: wm_close WINDOW\n");
        return 2;
    }
    Display *d = XOpenDisplay(NULL);
    if (!d) {
        fprintf(stderr, "wm_close: cannot open the display\n");
        return 1;
    }
    Window w = (Window)strtoul(argv[1], NULL, 0);
    XEvent ev;
    memset(&ev, 0, sizeof ev);
    ev.xclient.type = ClientMessage;
    ev.xclient.window = w;
    ev.xclient.message_type = XInternAtom(d, "WM_PROTOCOLS", False);
    ev.xclient.format = 32;
    ev.xclient.data.l[0] = (long)XInternAtom(d, "WM_DELETE_WINDOW", False);
    ev.xclient.data.l[1] = CurrentTime;
    Status ok = XSendEvent(d, w, False, NoEventMask, &ev);
    XCloseDisplay(d);
    return ok ? 0 : 1;
}
EOF_C
        mv "$WM_CLOSE.tmp" "$WM_CLOSE"
    fi
    "$WM_CLOSE" "$1" || fail "WM_DELETE_WINDOW to window $1 failed"
}

# ---- Pictures ---------------------------------------------------------------------------
# shot OUT.png: the whole screen as it is now.
shot() { xwd -root -silent | convert xwd:- "png:$1"; }
# crop IN "X Y W H" OUT: a region of a picture.
crop() {
    local x y w h
    read -r x y w h <<<"$2"
    convert "$1" -crop "${w}x${h}+${x}+${y}" +repage "png:$3"
}
# wcrop IN "WIN" "X Y W H" OUT: a region given relative to a window.
wcrop() {
    local wx wy x y w h
    read -r wx wy _ <<<"$2"
    read -r x y w h <<<"$3"
    crop "$1" "$((wx + x)) $((wy + y)) $w $h" "$4"
}
# win_shot OUT "WIN": the window as it is on the screen now.
win_shot() {
    local s=$TEST_TMP/screen.$RANDOM.png
    shot "$s"
    crop "$s" "$2" "$1"
    rm -f "$s"
}
# mask IN "X Y W H" OUT: the region painted magenta (left out of a comparison).
mask() {
    local x y w h
    read -r x y w h <<<"$2"
    convert "$1" -fill magenta -draw "rectangle $x,$y,$((x + w - 1)),$((y + h - 1))" "png:$3"
}
# ae A B [FUZZ]: how many pixels differ (ImageMagick AE), FUZZ e.g. 2%.
ae() {
    local out
    out=$(compare -metric AE ${3:+-fuzz "$3"} "$1" "$2" null: 2>&1) || true
    [[ $out =~ ^[0-9.e+]+$ ]] || fail "compare $1 $2: $out"
    printf '%.0f\n' "$out"
}
# count_color IN COLOR: pixels of exactly that colour.
count_color() {
    convert "$1" -alpha off -fill black +opaque "$2" -fill white -opaque "$2" \
        -format '%[fx:round(mean*w*h)]' info:
}
colors_in() { convert "$1" -format '%k' info:; }
# bbox_of_color IN COLOR: "W H X Y" of the smallest box holding every pixel of COLOR.
bbox_of_color() {
    convert "$1" -alpha off -fill black +opaque "$2" -fill white -opaque "$2" \
        -bordercolor black -border 1 -format '%@' info: |
        sed -E 's/^([0-9]+)x([0-9]+)\+([0-9]+)\+([0-9]+)$/\1 \2 \3 \4/' |
        awk '{ print $1, $2, $3 - 1, $4 - 1 }'
}
# markers IN COLOR: the markers of that exact colour in a picture of a chart's plot
# (common/ui/ui_chart.c draws a series' markers, and only those, in its colour: lines are
# a tint, bands translucent), as runs of columns holding the colour: one line per marker,
# "X Y" (its middle column and its mean row), left to right.
markers() {
    convert "$1" -alpha off -fill black +opaque "$2" -fill white -opaque "$2" -depth 8 txt:- |
        awk -F'[,: ]+' '
            NR > 1 && /#FFFFFF/ { n[$1]++; sy[$1] += $2; if ($1 > max) max = $1; any = 1 }
            END {
                if (!any) exit
                start = -1
                for (x = 0; x <= max + 1; x++) {
                    if (x in n) {
                        if (start < 0) { start = x; c = 0; s = 0 }
                        c += n[x]; s += sy[x]
                    } else if (start >= 0) {
                        printf "%d %.1f\n", (start + x - 1) / 2, s / c
                        start = -1
                    }
                }
            }'
}
# pixel_color IN "X Y": the colour of one pixel, as "rgb(R,G,B)".
pixel_color() {
    local x y
    read -r x y <<<"$2"
    convert "$1" -crop "1x1+$x+$y" +repage -depth 8 -format 'rgb(%[fx:int(255*r+.5)],%[fx:int(255*g+.5)],%[fx:int(255*b+.5)])' info:
}

# A window is drawn once it is not all black (Xvfb shows a new window black).
window_drawn() {
    local f=$TEST_TMP/drawn.$RANDOM.png m
    win_shot "$f" "$1"
    m=$(convert "$f" -format '%[fx:mean]' info:)
    rm -f "$f"
    awk -v m="$m" 'BEGIN { exit !(m > 0.5) }'
}
wait_drawn() { wait_until "the window of $2 drawn" "${3:-20}" window_drawn "$1"; }
# wait_region_change "WIN" "X Y W H" BEFORE.png TIMEOUT MIN_PIXELS: until that region of
# the screen differs from BEFORE in at least MIN_PIXELS pixels; the new crop in $REGION_NOW.
region_changed() {
    REGION_NOW=$TEST_TMP/region.$RANDOM.png
    local s=$TEST_TMP/screen.$RANDOM.png
    shot "$s"
    wcrop "$s" "$1" "$2" "$REGION_NOW"
    rm -f "$s"
    (($(ae "$3" "$REGION_NOW") >= $4))
}
wait_region_change() {
    local deadline=$((SECONDS + $4))
    until region_changed "$1" "$2" "$3" "$5"; do
        ((SECONDS < deadline)) || fail "timed out after $4 s: region $2 of the window at $1 did not change"
        sleep 0.1
    done
}

# ---- Processes --------------------------------------------------------------------------
# start_client_window INSTANCE NAME [ARGS...]: a client with its window at its place (client
# 1 at 640,0, client 2 at 960,0), serving its clock read-only (CLIENTn_PROG, as scripts/run
# does), --screenshot $TEST_TMP/clientN.png, log $TEST_TMP/clientN.log. Sets CLIENT_PID and
# CLIENT_WID once the window is drawn.
start_client_window() {
    local n=$1 name=$2 prog x y
    shift 2
    prog=$CLIENT1_PROG
    ((n == 1)) || prog=$CLIENT2_PROG
    read -r x y _ <<<"$(client_win "$n")"
    "$BIN_DIR/client" --position "$x,$y" --screenshot "$TEST_TMP/client$n.png" --name "$name" \
        --server localhost --instance "$n" --tm "${TM:-10}" --clock-program "$prog" "$@" \
        >"$TEST_TMP/client$n.log" 2>&1 </dev/null &
    CLIENT_PID=$!
    EXTRA_PIDS+=("$CLIENT_PID")
    CLIENT_WID=$(wait_window "$CLIENT_PID" "client $n")
    wait_drawn "$(client_win "$n")" "client $n"
    wait_until "client $n serving its clock" 20 rpcinfo -T tcp localhost "$prog" 1
}
# The pid of a part scripts/cluster started (time_server, app1, app2).
part_pid_of() { cat "$CLUSTER_DIR/run/$1.pid"; }
pid_alive() {
    local st
    st=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
    [[ -n $st && $st != Z* ]]
}
# Drops a pid from EXTRA_PIDS (it ended on its own).
forget_pid() {
    local p keep=()
    for p in "${EXTRA_PIDS[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
    EXTRA_PIDS=(${keep[@]+"${keep[@]}"})
}
# CPU time of a process in clock ticks (utime + stime, /proc/PID/stat fields 14 and 15).
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
registered() { rpcinfo -p localhost 2>/dev/null | awk -v p="$1" '$1 == p { f = 1 } END { exit !f }'; }
count_in_log() { grep -c -- "$2" "$1" 2>/dev/null || true; }

# On failure, the screen as it was goes into the test's folder (kept on failure).
# GUI_KEEP=1 keeps a copy of the test's folder (pictures, logs) in var/test/gui-keep/.
gui_finish() {
    local rc=$?
    if [[ -n ${GUI_KEEP:-} ]]; then
        rm -rf "$CLUSTER_DIR/gui-keep/$TEST_NAME"
        mkdir -p "$CLUSTER_DIR/gui-keep"
        cp -r "$TEST_TMP" "$CLUSTER_DIR/gui-keep/$TEST_NAME" 2>/dev/null || true
    fi
    if ((rc != 0)); then
        shot "$TEST_TMP/screen-at-failure.png" 2>/dev/null || true
        _gui_rc() { return "$1"; }
        _gui_rc "$rc" || finish
    else
        true
        finish
    fi
}
trap gui_finish EXIT
