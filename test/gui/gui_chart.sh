#!/usr/bin/env bash
# The synchronisation chart in the time server's window and the own-offset histories,
# read from the pixels (TM=2, the whole system behind the windows):
# - after N rounds the chart shows, for each node, one marker per round the clock DB
#   says it was corrected in (markers are squares of exactly the node's colour; the
#   node table shows that colour beside the node's name);
# - app server 1's clock moved 3 hours by hand (a CLOCK.ADJUST command: clockctl adjust),
#   the next round steps it back: that round's marker is beyond the -1 h line, and the
#   corrections of the last rounds are within the +/-1 ms lines: both readable on one
#   axis;
# - app server 2 killed (-9) for some rounds and started again: its series has a gap as
#   wide as the rounds it was skipped in, with no line across it, while app server 1's
#   has none;
# - app server 1's window and a client's window show their own offset, one marker per
#   correction of their clock: the first (their start-up step, hours) far from the zero
#   line, the last ones within the +/-1 ms lines;
# - the time server's window, its chart drawn, idles under 5 % of a core.
source "$(dirname "$0")/lib.sh"

export TM=2
SKIP_ROUNDS=${SKIP_ROUNDS:-4}
start_servers
ts_pid=$(part_pid_of time_server)
wait_window "$ts_pid" "the time server" >/dev/null
wait_drawn "$WIN_TIME_SERVER" "the time server"
wait_until "two rounds with both app servers synchronised" 30 rounds_at_least 2 2
start_client_window 1 chart-reader
park_mouse

max_round() { sql "SELECT coalesce(max(id), 0) FROM sync_round"; }
node_id_of() { sql "SELECT id FROM node WHERE name = '$1'"; }
app1_id=$(node_id_of app1)
app2_id=$(node_id_of app2)
[[ -n $app1_id && -n $app2_id ]] || fail "app1 and app2 are not both in the clock DB's node table"
# Rounds in the chart (the last TS_PLOT_SLOTS up to R) in which node ID was corrected.
applied_in_chart() {
    sql "SELECT count(*) FROM node_sync WHERE node_id = $1 AND outcome = 'applied'
         AND round_id > $2 - $TS_PLOT_SLOTS AND round_id <= $2"
}
wait_next_round() {
    local r
    r=$(max_round)
    wait_until "the round after $r" 10 bash -c "(( \$(psql -X -At -h '$CLUSTER_DIR/run' -p $PGPORT -U postgres -d clock -c 'SELECT coalesce(max(id), 0) FROM sync_round') > $r ))"
}
# chart_shot NAME: the time server's window just after a round was recorded (the next one
# is TM later: what the window shows is that round's); sets ROUND and SHOT, and PLOT
# (the chart's plot).
chart_shot() {
    local r
    wait_next_round
    ROUND=$(max_round)
    SHOT=$TEST_TMP/$1.png
    sleep 0.3
    win_shot "$SHOT" "$WIN_TIME_SERVER"
    r=$(max_round)
    ((r == ROUND)) || { log "a round came during the picture: again"; chart_shot "$1"; return; }
    PLOT=$TEST_TMP/$1-plot.png
    crop "$SHOT" "$TS_CHART_PLOT" "$PLOT"
}

# ---- The colours: each node's swatch in the table, one per node, from the palette -------
chart_shot first
row=0
declare -A color_of
for name in $(sql "SELECT name FROM node ORDER BY id"); do
    c=$(pixel_color "$SHOT" "$(ts_swatch_at "$row")")
    color_of[$name]=$c
    found=0
    for p in "${NODE_COLORS[@]}"; do [[ $p == "$c" ]] && found=1; done
    ((found)) || fail "row $row ($name) of the nodes' table shows no chart colour beside its name (pixel $c)"
    row=$((row + 1))
done
[[ ${color_of[app1]} != "${color_of[app2]}" ]] || fail "app1 and app2 have the same colour ${color_of[app1]}"
pass "the nodes' table shows each node's chart colour: app1 ${color_of[app1]}, app2 ${color_of[app2]}"

# ---- N rounds, N markers per node ---------------------------------------------------------
for n in app1 app2; do
    id=$(node_id_of "$n")
    want=$(applied_in_chart "$id" "$ROUND")
    got=$(markers "$PLOT" "${color_of[$n]}" | wc -l)
    ((got == want)) || fail "after round $ROUND the chart shows $got markers of $n, the clock DB $want corrected rounds"
    pass "after round $ROUND: $got markers of $n, one per round it was corrected in ($want)"
done

# ---- A step of hours, then corrections of microseconds, on one axis --------------------
out=$(clockctl adjust --prog "$APP1_PROG" --delta-us 10800000000) || fail "clockctl adjust app1 by +3 h: $out"
log "app server 1 moved by +3 h by hand: $out"
step_round() {
    sql "SELECT round_id FROM node_sync WHERE node_id = $app1_id AND outcome = 'applied'
         AND policy = 'step' AND delta_us < -10000000000 ORDER BY round_id DESC LIMIT 1"
}
wait_until "a round stepping app1 back by about 3 h" 15 bash -c "[[ -n \$(psql -X -At -h '$CLUSTER_DIR/run' -p $PGPORT -U postgres -d clock -c \"SELECT 1 FROM node_sync WHERE node_id = $app1_id AND policy = 'step' AND delta_us < -10000000000\") ]]"
stepped=$(step_round)
pass "round $stepped stepped app1 by $(($(sql "SELECT delta_us FROM node_sync WHERE node_id = $app1_id AND round_id = $stepped") / 1000000)) s"

# ---- app server 2 killed for a few rounds, then started again ------------------------------
for _ in 1 2 3; do wait_next_round; done
kill -9 "$(part_pid_of app2)"
killed_at=$(max_round)
log "app server 2 killed after round $killed_at"
skipped_rounds() {
    sql "SELECT count(*) FROM node_sync WHERE node_id = $app2_id AND outcome = 'skipped' AND round_id > $killed_at"
}
enough_skipped() { (($(skipped_rounds) >= SKIP_ROUNDS)); }
wait_until "$SKIP_ROUNDS rounds skipping app2" 30 enough_skipped
cluster start app2 >/dev/null
wait_window "$(part_pid_of app2)" "app server 2" >/dev/null
back_round() {
    sql "SELECT coalesce(min(round_id), 0) FROM node_sync WHERE node_id = $app2_id AND outcome = 'applied' AND round_id > $killed_at"
}
applied_since_back() {
    sql "SELECT count(*) FROM node_sync WHERE node_id = $app2_id AND outcome = 'applied' AND round_id > $killed_at"
}
back_enough() { (($(applied_since_back) >= 4)); }
wait_until "app2 corrected in 4 rounds after its restart" 40 back_enough
missing=$(sql "SELECT $(back_round) - $killed_at - 1")
pass "app2 was missing from rounds $((killed_at + 1)) to $(($(back_round) - 1)) ($missing rounds: $(skipped_rounds | head -1) skipped with a reason, the rest before it joined again)"

chart_shot later
((ROUND - TS_PLOT_SLOTS < killed_at - 2)) || fail "too many rounds: the gap has left the chart (round $ROUND)"
mapfile -t m1 < <(markers "$PLOT" "${color_of[app1]}")
mapfile -t m2 < <(markers "$PLOT" "${color_of[app2]}")
for n in app1 app2; do
    id=$(node_id_of "$n")
    want=$(applied_in_chart "$id" "$ROUND")
    if [[ $n == app1 ]]; then got=${#m1[@]}; else got=${#m2[@]}; fi
    ((got == want)) || fail "after round $ROUND the chart shows $got markers of $n, the clock DB $want corrected rounds"
    pass "after round $ROUND: $got markers of $n, one per corrected round"
done

# The widest gap between two markers of a series, in pixels, and where.
widest_gap() {
    local prev="" x y best=0 at=0
    for m in "$@"; do
        read -r x y <<<"$m"
        if [[ -n $prev ]] && ((x - prev > best)); then best=$((x - prev)) at=$prev; fi
        prev=$x
    done
    echo "$best $at"
}
read -r gap1 _ <<<"$(widest_gap "${m1[@]}")"
read -r gap2 gap2_at <<<"$(widest_gap "${m2[@]}")"
want_gap=$(((missing + 1) * TS_PLOT_SPACING))
((gap1 <= TS_PLOT_SPACING + 1)) || fail "app1's series has a gap of $gap1 px (it was never skipped)"
((gap2 >= want_gap - 2 && gap2 <= want_gap + missing + 3)) ||
    fail "app2's widest gap is $gap2 px, expected about $want_gap ($missing rounds missing, $TS_PLOT_SPACING px a round)"
# No line across the gap: none of app2's tint in the columns between its two markers.
# ui_chart_tint: 60 % of the colour over white, per channel (c * 3 + 255 * 2) / 5.
IFS='(,)' read -r _ cr cg cb <<<"${color_of[app2]}"
tint="rgb($(((cr * 3 + 510) / 5)),$(((cg * 3 + 510) / 5)),$(((cb * 3 + 510) / 5)))"
crop "$PLOT" "$((gap2_at + 4)) 0 $((gap2 - 8)) $(identify -format %h "$PLOT")" "$TEST_TMP/gap.png"
n_tint=$(count_color "$TEST_TMP/gap.png" "$tint")
((n_tint == 0)) || fail "app2's line ($tint) crosses its gap ($n_tint pixels)"
pass "app2's series has a gap of $gap2 px where it was missing ($missing rounds, $TS_PLOT_SPACING px a round), no line across it; app1's widest step is $gap1 px"

# The step beyond -1 h, the last corrections within +/-1 ms.
step_slot=$((TS_PLOT_SLOTS - 1 - (ROUND - stepped)))
far=0 near=0 last_ys=()
for m in "${m1[@]}"; do
    read -r x y <<<"$m"
    yi=${y%.*}
    ((yi >= TS_PLOT_Y0 + TS_PLOT_Y_1H)) && far=$((far + 1))
    last_ys+=("$yi")
done
((far == 1)) || fail "app1 has $far markers beyond the -1 h line (the step of round $stepped: 1 expected)"
n=${#last_ys[@]}
for ((i = n - 4; i < n; i++)); do
    d=$((last_ys[i] - TS_PLOT_Y0))
    d=${d#-}
    ((d <= TS_PLOT_Y_1MS)) || fail "app1's marker $((i + 1)) of $n is $d px from the zero line (beyond +/-1 ms: $TS_PLOT_Y_1MS px)"
done
pass "app1: the 3 h step of round $stepped beyond the -1 h line (slot $step_slot), its last 4 corrections within +/-1 ms of zero"

# ---- The own-offset histories -------------------------------------------------------------
# history_check WHAT SHOT_WIN PLOT_RECT Y0 Y_1MS Y_1S MIN: at least MIN markers, the first
# beyond +/-1 s (the start-up step), the last 3 within +/-1 ms.
history_check() {
    local what=$1 win=$2 rect=$3 y0=$4 y1ms=$5 y1s=$6 min=$7 f=$TEST_TMP/hist.$RANDOM.png ms d i
    win_shot "$f" "$win"
    crop "$f" "$rect" "$f.plot.png"
    mapfile -t ms < <(markers "$f.plot.png" "$COLOR_HISTORY")
    ((${#ms[@]} >= min)) || fail "$what's offset history shows ${#ms[@]} markers (at least $min expected)"
    HIST_N=${#ms[@]}
    read -r _ y <<<"${ms[0]}"
    d=$((${y%.*} - y0))
    d=${d#-}
    HIST_FIRST=$d
    for ((i = ${#ms[@]} - 3; i < ${#ms[@]}; i++)); do
        read -r _ y <<<"${ms[i]}"
        d=$((${y%.*} - y0))
        d=${d#-}
        ((d <= y1ms)) || fail "$what's offset history: marker $((i + 1)) is $d px from zero (beyond +/-1 ms: $y1ms px)"
    done
    ((HIST_FIRST >= y1s)) || HIST_FIRST_NEAR=1
}
# app server 1: its JOIN (hours), the rounds, the +3 h by hand and the step back; the
# history keeps the last APP_HISTORY_SLOTS.
adjusts=$(($(sql "SELECT count(*) FROM node_sync WHERE node_id = $app1_id AND outcome = 'applied'") + 2))
want=$((adjusts < APP_HISTORY_SLOTS ? adjusts : APP_HISTORY_SLOTS))
HIST_FIRST_NEAR=0
history_check "app server 1" "$WIN_APP1" "$APP_HISTORY_PLOT" "$APP_PLOT_Y0" "$APP_PLOT_Y_1MS" "$APP_PLOT_Y_1S" "$((want - 1))"
((HIST_N >= want - 1 && HIST_N <= want)) || fail "app server 1's history shows $HIST_N markers, $want corrections expected"
pass "app server 1's own offset: $HIST_N markers for its last $want corrections, the last 3 within +/-1 ms"
# The client: its first pull steps it from a random time of day (hours), then one every TM.
HIST_FIRST_NEAR=0
history_check "client 1" "$WIN_CLIENT1" "$CLIENT_HISTORY_PLOT" "$CLIENT_PLOT_Y0" "$CLIENT_PLOT_Y_1MS" "$CLIENT_PLOT_Y_1S" 5
if ((HIST_N < CLIENT_HISTORY_SLOTS)); then
    ((HIST_FIRST_NEAR == 0)) || fail "client 1's first correction (its start-up step) is only $HIST_FIRST px from zero"
    pass "client 1's own offset: $HIST_N markers, the first (its start-up step) $HIST_FIRST px from zero (beyond +/-1 s), the last 3 within +/-1 ms"
else
    pass "client 1's own offset: $HIST_N markers (its start-up step has scrolled out), the last 3 within +/-1 ms"
fi

# ---- Idle CPU with the chart full --------------------------------------------------------
# The window is the process's main thread (proc_serve: RPC on a thread of its own, rounds
# on another): its own ticks are what the chart costs; the whole process, rounds every
# TM s included, is logged beside it.
hz=$(getconf CLK_TCK)
win_ticks() { awk '{ print $14 + $15 }' "/proc/$1/task/$1/stat"; }
t0=$(cpu_ticks "$ts_pid") w0=$(win_ticks "$ts_pid") s0=$(date +%s%N)
sleep "${IDLE_S:-10}" # the measurement's span
ticks=$(($(cpu_ticks "$ts_pid") - t0)) wticks=$(($(win_ticks "$ts_pid") - w0)) s1=$(date +%s%N)
pct=$(awk -v t="$ticks" -v hz="$hz" -v ns="$((s1 - s0))" 'BEGIN { printf "%.2f", 100 * t / hz / (ns / 1e9) }')
wpct=$(awk -v t="$wticks" -v hz="$hz" -v ns="$((s1 - s0))" 'BEGIN { printf "%.2f", 100 * t / hz / (ns / 1e9) }')
log "idle CPU of the time server's window thread, its chart showing $(markers "$PLOT" "${color_of[app1]}" | wc -l) + $(markers "$PLOT" "${color_of[app2]}" | wc -l) markers with their bands and the UTC offset: $wpct % of one core; the whole process with rounds every $TM s: $pct % (ASan build)"
awk -v p="$wpct" 'BEGIN { exit !(p < 5) }' || fail "the time server's window used $wpct % of a core (limit 5 %)"
pass "the time server's window with its chart drawn: $wpct % of one core (the whole process, rounds every $TM s included: $pct %)"
no_sanitizer_reports
