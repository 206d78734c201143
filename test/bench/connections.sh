#!/usr/bin/env bash
# Idle connections: what peers holding TCP connections open to app server 2's BOOK port
# (sending nothing) cost a caller on another address. Reference, in the same run: the
# same calls with no idle connection. Calls: CONN_PROBES (2000) null calls to BOOK on
# one kept connection, and as many on a new connection each (connect, call, close).
#   A. one peer (127.0.0.2) opens 10,000 connections: it keeps its cap (256), the rest
#      is refused and logged;
#   B. 15 peers (127.0.1.1-15) hold 256 each: 3840, near the process's cap (4096).
# Target: p50 with the connections held <= 2 x the reference (kept and new).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd -P)
cd "$ROOT"
source "$ROOT/scripts/lib/var-dir.sh"
var_dir "$ROOT"
export BIN_DIR=$ROOT/bin CLUSTER_DIR=$VAR_DIR/bench-conn
export PGPORT=${BENCH_CONN_PGPORT:-55435} NTP_PORT=${BENCH_CONN_NTP_PORT:-11126}
export UTC_SERVER=127.0.0.1:$NTP_PORT APP_SERVERS=2
FLOOD=$ROOT/build/release/test/connflood
PROBES=${CONN_PROBES:-2000}
BOOK2_PROG=$((0x2b1b0302))
tmp=$(mktemp -d)
holders=()
cleanup() {
    local p
    for p in "${holders[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    scripts/cluster stop >/dev/null 2>&1 || true
    rm -rf "$tmp"
}
trap cleanup EXIT
die() { echo "bench connections: $*" >&2; exit 1; }
get() { sed -n "s/.*\\b$2=\\([^ ]*\\).*/\\1/p" <<<"$1" | head -1; }
# A probe's figure before the flood (connflood prints "before/with" pairs): us.
us() { get "$1" "$2" | cut -d/ -f1; }
verdict() { awk -v v="$1" -v l="$2" 'BEGIN { print (v <= l) ? "met" : "MISSED" }'; }
row() { printf '%-52s %14s   %s\n' "$@"; }

[[ -x $FLOOD ]] || die "$FLOOD missing: make all tools"
scripts/cluster start rpcbind postgres chronyd >/dev/null
scripts/cluster reset-data >/dev/null
scripts/cluster start >/dev/null

# hold N FROM: a connflood holding N connections from FROM until the end; its report
# line in $tmp/hold-FROM.out once they are all open.
hold() {
    local fifo=$tmp/fifo-$2
    mkfifo "$fifo"
    "$FLOOD" --prog "$BOOK2_PROG" --vers 2 --from "$2" --count "$1" --hold <"$fifo" \
        >"$tmp/hold-$2.out" 2>&1 &
    holders+=($!)
    exec {fd}>"$fifo"
    HOLD_FDS+=("$fd")
    local deadline=$((SECONDS + 60))
    until grep -q opened= "$tmp/hold-$2.out"; do
        kill -0 "${holders[-1]}" 2>/dev/null || die "connflood from $2 failed: $(cat "$tmp/hold-$2.out")"
        ((SECONDS < deadline)) || die "connflood from $2 did not open its connections in 60 s"
        sleep 0.1
    done
}
release_all() {
    local fd p
    for fd in "${HOLD_FDS[@]}"; do exec {fd}>&-; done
    for p in "${holders[@]}"; do wait "$p" || true; done
    HOLD_FDS=() holders=()
}
HOLD_FDS=()
probe() { "$FLOOD" --prog "$BOOK2_PROG" --vers 2 --count 0 --probe "$PROBES"; }

probe >/dev/null # warm-up: the first calls of a fresh server are slower
ref=$(probe)
printf '\nIdle connections to app server 2 (BOOK), %s null calls per figure, p50 (p99) in us\n\n' "$PROBES"
row "reference, no idle connection: kept / new" \
    "$(us "$ref" kept_p50_us) / $(us "$ref" new_p50_us)" ""
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
report() {
    local label=$1 out=$2 kept new
    kept=$(ratio "$(us "$out" kept_p50_us)" "$(us "$ref" kept_p50_us)")
    new=$(ratio "$(us "$out" new_p50_us)" "$(us "$ref" new_p50_us)")
    row "$label: kept p50 (p99)" "$(us "$out" kept_p50_us) ($(us "$out" kept_p99_us))" ""
    row "  ratio to the reference (target <= 2)" "$kept x" "$(verdict "$kept" 2)"
    row "$label: new connection p50 (p99)" "$(us "$out" new_p50_us) ($(us "$out" new_p99_us))" ""
    row "  ratio to the reference (target <= 2)" "$new x" "$(verdict "$new" 2)"
}

# A: one peer, 10,000 connections.
hold 10000 127.0.0.2
a=$(cat "$tmp/hold-127.0.0.2.out")
row "A. 10,000 from 127.0.0.2: held / refused" "$(get "$a" held) / $(get "$a" refused)" ""
grep -q 'connection from 127.0.0.2 refused' "$CLUSTER_DIR/log/app2.log" || die "app2 did not log the refused peer"
report "A. with them held" "$(probe)"
release_all

# B: 15 peers at their cap, 3840 in all.
for i in $(seq 1 15); do hold 256 "127.0.1.$i"; done
held=0
for i in $(seq 1 15); do held=$((held + $(get "$(cat "$tmp/hold-127.0.1.$i.out")" held))); done
row "B. 15 peers x 256: held" "$held" ""
report "B. with them held" "$(probe)"
release_all
again=$(probe)
row "reference again, after: kept / new" \
    "$(us "$again" kept_p50_us) / $(us "$again" new_p50_us)" ""
echo
