#!/usr/bin/env bash
# Idle windows cost little, and closing a window ends its process cleanly.
# - Idle CPU: with the whole system up (TM=10) and nobody touching anything, each window
#   process's CPU time (utime + stime from /proc/PID/stat) over 20 s, as a percentage of
#   one core. The client's must be under 5 % (the issue's bound for an idle window); the
#   servers' figures (which include their RPC and DB work) are printed, and held to the
#   same bound.
# - F12 writes the --screenshot PNG (a picture of the window's size).
# - Closing the window the way a window manager's close button does (WM_DELETE_WINDOW)
#   ends the client (exit 0), app server 2 and the time server: "stopping" in their logs,
#   no sanitizer report, and their RPC programs no longer in rpcbind.
# - A client started without --clock-program (it serves no RPC at all) closes the same way.
source "$(dirname "$0")/lib.sh"

export TM=10
IDLE_S=${IDLE_S:-20}
export TIME_SERVER_ARGS="--screenshot $TEST_TMP/time_server.png"
export APP2_ARGS="--screenshot $TEST_TMP/app2.png"
start_servers
ts_pid=$(part_pid_of time_server)
app1_pid=$(part_pid_of app1)
app2_pid=$(part_pid_of app2)
ts_wid=$(wait_window "$ts_pid" "the time server")
wait_window "$app1_pid" "app server 1" >/dev/null
app2_wid=$(wait_window "$app2_pid" "app server 2")
start_client_window 1 idle-reader
client_wid=$CLIENT_WID
park_mouse
sleep 2   # start-up work (joins, first rounds, catching up) out of the measure

# ---- Idle CPU ---------------------------------------------------------------------------
hz=$(getconf CLK_TCK)
declare -A t0
names=(client time_server app1 app2)
declare -A pid_of=([client]=$CLIENT_PID [time_server]=$ts_pid [app1]=$app1_pid [app2]=$app2_pid)
start_ns=$(date +%s%N)
for n in "${names[@]}"; do t0[$n]=$(cpu_ticks "${pid_of[$n]}"); done
sleep "$IDLE_S"
elapsed_ns=$(($(date +%s%N) - start_ns))
over=()
for n in "${names[@]}"; do
    ticks=$(($(cpu_ticks "${pid_of[$n]}") - t0[$n]))
    pct=$(awk -v t="$ticks" -v hz="$hz" -v ns="$elapsed_ns" 'BEGIN { printf "%.2f", 100 * t / hz / (ns / 1e9) }')
    log "idle CPU of the $n window process over $((elapsed_ns / 1000000)) ms: $pct % of one core ($ticks ticks at $hz Hz, ASan build)"
    awk -v p="$pct" 'BEGIN { exit !(p < 5) }' || over+=("$n $pct %")
done
if ((${#over[@]})); then
    fail "idle CPU at or above 5 % of one core: ${over[*]}"
fi
pass "idle windows under 5 % of one core each (client, time server, app servers; see above)"

# ---- F12 and closing ----------------------------------------------------------------------
# f12 WID PNG LOG_COMMAND...: F12 to the window, then the PNG it writes (window-sized);
# prints its size.
shots_of() { "$@" | grep -c 'screenshot written' || true; }
more_shots() {
    local before=$1
    shift
    (($(shots_of "$@") > before))
}
f12() {
    local wid=$1 png=$2 w h before
    shift 2
    before=$(shots_of "$@")
    rm -f "$png"
    keys_to "$wid" F12
    park_mouse
    wait_until "the screenshot logged after F12" 10 more_shots "$before" "$@"
    [[ -s $png ]] || fail "F12: no $png"
    read -r w h <<<"$(identify -format '%w %h' "$png")"
    echo "${w}x${h}"
}
size=$(f12 "$client_wid" "$TEST_TMP/client1.png" cat "$TEST_TMP/client1.log")
[[ $size == 320x400 ]] || fail "the client's F12 screenshot is $size, not 320x400"
size=$(f12 "$app2_wid" "$TEST_TMP/app2.png" part_log app2)
[[ $size == 640x400 ]] || fail "app server 2's F12 screenshot is $size, not 640x400"
size=$(f12 "$ts_wid" "$TEST_TMP/time_server.png" part_log time_server)
[[ $size == 640x400 ]] || fail "the time server's F12 screenshot is $size, not 640x400"
pass "F12 writes the --screenshot PNG of the client (320x400), app server 2 and the time server (640x400)"

# wait_gone PID WHAT: the process ended (a zombie counts: PLATFORM.md).
wait_gone() {
    local deadline=$((SECONDS + 15))
    while pid_alive "$1"; do
        ((SECONDS < deadline)) || fail "$2 (pid $1) still runs 15 s after its window was closed"
        sleep 0.1
    done
}
no_reports() {
    if grep -qE 'AddressSanitizer|LeakSanitizer|runtime error' <<<"$2"; then
        fail "$1: sanitizer report: $(grep -m3 -E 'AddressSanitizer|LeakSanitizer|runtime error' <<<"$2")"
    fi
}

shots=$(count_in_log "$TEST_TMP/client1.log" 'screenshot written')
wm_close "$client_wid"
wait_gone "$CLIENT_PID" "the client"
rc=0
wait "$CLIENT_PID" || rc=$?
forget_pid "$CLIENT_PID"
((rc == 0)) || fail "the client exited with status $rc after its window was closed: $(tail -5 "$TEST_TMP/client1.log")"
grep -q 'window: closed' "$TEST_TMP/client1.log" || fail "the client did not log its window closing"
no_reports "the client" "$(cat "$TEST_TMP/client1.log")"
(($(count_in_log "$TEST_TMP/client1.log" 'screenshot written') > shots)) ||
    fail "the client wrote no --screenshot when its window closed"
registered "$CLIENT1_PROG" && fail "the client's clock program $CLIENT1_PROG is still registered"
pass "closing the client's window: exit 0, screenshot written, no sanitizer report, program $CLIENT1_PROG unregistered"

# close_server PART PID WID PROGRAMS...
close_server() {
    local part=$1 pid=$2 wid=$3 prog out
    shift 3
    wm_close "$wid"
    wait_gone "$pid" "$part"
    out=$(part_log "$part")
    grep -q 'main: stopping' <<<"$out" || fail "$part did not log \"stopping\" after its window closed: $(tail -3 <<<"$out")"
    no_reports "$part" "$out"
    for prog in "$@"; do
        ! registered "$prog" || fail "$part's program $prog is still registered after its window closed"
    done
    pass "closing $part's window ends it: \"stopping\" logged, no sanitizer report, programs $* unregistered"
}
close_server app2 "$app2_pid" "$app2_wid" "$APP2_PROG" "$BOOK2_PROG"
close_server time_server "$ts_pid" "$ts_wid" "$TIME_PROG"

# ---- A client serving no RPC ----------------------------------------------------------------
read -r x y _ <<<"$WIN_CLIENT2"
"$BIN_DIR/client" --position "$x,$y" --name plain --server localhost --instance 1 --tm 10 \
    >"$TEST_TMP/plain.log" 2>&1 </dev/null &
plain=$!
EXTRA_PIDS+=("$plain")
deadline=$((SECONDS + 20))
until wid=$(window_of "$plain"); do
    pid_alive "$plain" || break
    ((SECONDS < deadline)) || fail "the plain client showed no window within 20 s"
    sleep 0.1
done
if pid_alive "$plain"; then
    sleep 1
    wm_close "$wid"
    wait_gone "$plain" "the plain client"
fi
rc=0
wait "$plain" || rc=$?
forget_pid "$plain"
if ((rc != 0)) || grep -qE 'AddressSanitizer|LeakSanitizer|runtime error' "$TEST_TMP/plain.log"; then
    fail_later "a client without --clock-program: exit $rc; $(grep -m2 -E 'AddressSanitizer|LeakSanitizer|runtime error' "$TEST_TMP/plain.log" || tail -2 "$TEST_TMP/plain.log")"
else
    pass "a client without --clock-program: its window closed, exit 0, no sanitizer report"
fi
failed_later_checks
