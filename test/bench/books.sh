#!/usr/bin/env bash
# Book service: throughput, latency, replication lag and memory under load, against
# references measured in the same run on the same machine.
# Load: bookload, CLIENTS (32) threads, each a client as bin/client is one (a 128-bit key
# per request kept across its tries, the list of every app server from its own on,
# retries with backoff), REQUEST_BOOK in a loop, a RESTART_SESSION whenever a session
# runs out, on a catalogue of 20,000 books in fresh books DBs, while STATUS is sampled on
# every server every ~0.5 ms for the replication lag (an entry applied on one server to
# applied on the last; resolution = the sampling interval, printed).
# 1. The load for BENCH_SECONDS (60) on two app servers, with the kernel's autogroup
#    scheduling off (what a database host runs; as root this run turns it off and puts
#    the setting back), then again with the machine's own setting (Debian's default:
#    autogroup on). References, each BENCH_REF_SECONDS (20) with the app servers idle:
#    `pgbench -N` with the same number of clients on the same PostgreSQL cluster (a
#    scratch database, dropped after), under each setting; a loop of NULLPROC calls to
#    BOOK (one client: the RPC round trip). Peak RSS (VmHWM) of each app server.
#    Targets: requests/s >= 1.2 x pgbench tps, latency p99 <= 10 ms, lag p99 <= 5 ms,
#    RSS < 50 MB; with autogroup on, p99 <= 20 ms and lag p99 <= 20 ms.
# 2. Outage: the same load for 30 s with app server 2 killed (-9) at 10 s and started
#    again at 20 s: requests failed (target 0), p99 of the requests started meanwhile.
# 3. Scaling: requests/s and p99 with 1, 2 and 3 app servers, each with 32 and 128
#    clients, BENCH_SCALE_SECONDS (15) each.
# BENCH_AUTOGROUP=keep measures part 1 under the machine's setting only (and 2, 3 too).
# Raw outputs: $CLUSTER_DIR/bench-books-*.txt.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd -P)
cd "$ROOT"
source "$ROOT/scripts/lib/var-dir.sh"
var_dir "$ROOT"
export BIN_DIR=$ROOT/bin CLUSTER_DIR=$VAR_DIR/bench
export PGPORT=${BENCH_PGPORT:-55434} NTP_PORT=${BENCH_NTP_PORT:-11125}
export UTC_SERVER=127.0.0.1:$NTP_PORT
LOAD_SECONDS=${BENCH_SECONDS:-60}
REF_SECONDS=${BENCH_REF_SECONDS:-20}
SCALE_SECONDS=${BENCH_SCALE_SECONDS:-15}
OUTAGE_SECONDS=30
CLIENTS=32
BOOKS=20000
BOOKLOAD=$ROOT/build/release/test/bookload
SCRATCH_DB=bench_pgbench
RUN_DIR=$CLUSTER_DIR/run

tmp=$(mktemp -d)
export CATALOGUE=$tmp/catalogue.tsv
pg() {
    PGOPTIONS='--client-min-messages=warning' \
        psql -X -q -At -h "$RUN_DIR" -p "$PGPORT" -U postgres "$@"
}
AUTOGROUP=/proc/sys/kernel/sched_autogroup_enabled
autogroup_was=""
[[ -r $AUTOGROUP ]] && autogroup_was=$(cat "$AUTOGROUP")
set_autogroup() { [[ -w $AUTOGROUP ]] && echo "$1" >"$AUTOGROUP" 2>/dev/null; }
cleanup() {
    pg -d postgres -c "DROP DATABASE IF EXISTS $SCRATCH_DB" >/dev/null 2>&1 || true
    APP_SERVERS=3 scripts/cluster stop >/dev/null 2>&1 || true
    [[ -z $autogroup_was ]] || set_autogroup "$autogroup_was" || true
    rm -rf "$tmp"
}
trap cleanup EXIT
die() { echo "bench books: $*" >&2; exit 1; }
get() { sed -n "s/.*\\b$2=\\([^ ]*\\).*/\\1/p" <<<"$1" | head -1; }
# verdict VALUE OP LIMIT: "met" or "MISSED"
verdict() { awk -v v="$1" -v l="$3" -v op="$2" 'BEGIN {
    ok = (op == ">=") ? v >= l : (op == "<=") ? v <= l : v < l; print ok ? "met" : "MISSED" }'; }
row() { printf '%-44s %12s   %-10s %s\n' "$@"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

[[ -x $BOOKLOAD ]] || die "$BOOKLOAD missing: make all tools"
db/gen-catalogue "$BOOKS" >"$CATALOGUE"
scripts/cluster start rpcbind postgres chronyd >/dev/null

# fresh N: the replication server, the time server and app servers 1..N on fresh DBs.
fresh() {
    APP_SERVERS=3 scripts/cluster stop app3 app2 app1 time_server replication >/dev/null
    APP_SERVERS=$1 scripts/cluster reset-data >/dev/null
    local parts=(replication time_server) n
    for ((n = 1; n <= $1; n++)); do parts+=("app$n"); done
    APP_SERVERS=$1 scripts/cluster start "${parts[@]}" >/dev/null
}
servers_list() { seq -s, 1 "$1"; }
# load NAME SERVERS CLIENTS SECONDS [bookload options]: one run into bench-books-NAME.txt.
load() {
    local name=$1 n=$2 c=$3 s=$4 out=$CLUSTER_DIR/bench-books-$1.txt
    shift 4
    "$BOOKLOAD" --servers "$(servers_list "$n")" --clients "$c" --seconds "$s" \
        --catalogue-size "$BOOKS" "$@" >"$out" || die "bookload ($name) failed (see $out)"
    LOAD=$(cat "$out")
}
rss() {
    local pid kb
    pid=$(cat "$RUN_DIR/app$1.pid")
    kb=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status") || die "app$1 (pid $pid) is gone"
    awk -v k="$kb" 'BEGIN { printf "%.1f", k / 1024 }'
}
pgbench_tps() {
    local out=$CLUSTER_DIR/bench-books-pgbench-$1.txt tps
    pg -d postgres -c "DROP DATABASE IF EXISTS $SCRATCH_DB" -c "CREATE DATABASE $SCRATCH_DB"
    pgbench -h "$RUN_DIR" -p "$PGPORT" -U postgres -i -q "$SCRATCH_DB" >/dev/null 2>&1 ||
        die "pgbench -i failed"
    pgbench -h "$RUN_DIR" -p "$PGPORT" -U postgres -N -c "$CLIENTS" -j 2 -T "$REF_SECONDS" \
        "$SCRATCH_DB" >"$out" 2>&1 || die "pgbench failed (see $out)"
    pg -d postgres -c "DROP DATABASE $SCRATCH_DB"
    tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$out" | head -1)
    [[ -n $tps ]] || die "no tps in pgbench's output (see $out)"
    printf '%.1f' "$tps"
}

# ---- 1. the load, under both scheduler settings ----
settings=()
if [[ ${BENCH_AUTOGROUP:-} == keep || ! -r $AUTOGROUP ]]; then
    settings=(keep)
elif [[ $autogroup_was == 0 ]]; then
    settings=(off)
elif set_autogroup 0; then
    set_autogroup "$autogroup_was"
    settings=(off on)
else
    settings=(keep)
fi
for setting in "${settings[@]}"; do
    case $setting in
    off) set_autogroup 0; label="autogroup off"; p99_max=10 lag_max=5 ;;
    on) set_autogroup 1; label="autogroup on (Debian's default)"; p99_max=20 lag_max=20 ;;
    keep)
        label="the machine's setting ($([[ -r $AUTOGROUP ]] && { [[ $(cat "$AUTOGROUP") == 1 ]] && echo "autogroup on" || echo "autogroup off"; } || echo "no autogroup"))"
        [[ -r $AUTOGROUP && $(cat "$AUTOGROUP") == 1 ]] && { p99_max=20; lag_max=20; } || { p99_max=10; lag_max=5; } ;;
    esac
    fresh 2
    load "load-$setting" 2 "$CLIENTS" "$LOAD_SECONDS"
    main=$LOAD
    rss1=$(rss 1) rss2=$(rss 2)
    scripts/cluster status app1 app2 >/dev/null || die "an app server stopped answering during the load"
    null=""
    if [[ $setting != on ]]; then
        "$BOOKLOAD" --null-rpc "$REF_SECONDS" --servers 1 >"$CLUSTER_DIR/bench-books-null.txt" ||
            die "null-RPC loop failed"
        null=$(cat "$CLUSTER_DIR/bench-books-null.txt")
    fi
    tps=$(pgbench_tps "$setting")
    rate=$(get "$main" rate_per_s)
    echo "books, $label: $CLIENTS clients over app servers 1 and 2 (keys, failover lists), catalogue $BOOKS, ${LOAD_SECONDS} s; references ${REF_SECONDS} s each; $(nproc) CPUs"
    row metric value target verdict
    row "requests/s" "$rate" "" ""
    row "pgbench -N tps ($CLIENTS clients)" "$tps" "" ""
    row "our rate / pgbench tps" "$(ratio "$rate" "$tps")" ">= 1.2" "$(verdict "$(ratio "$rate" "$tps")" ">=" 1.2)"
    row "latency p50 (ms)" "$(get "$main" p50_ms)" "" ""
    row "latency p99 (ms)" "$(get "$main" p99_ms)" "<= $p99_max" "$(verdict "$(get "$main" p99_ms)" "<=" "$p99_max")"
    row "replication lag p50 (ms)" "$(get "$main" lag_p50_ms)" "" ""
    row "replication lag p99 (ms)" "$(get "$main" lag_p99_ms)" "<= $lag_max" "$(verdict "$(get "$main" lag_p99_ms)" "<=" "$lag_max")"
    row "app1 peak RSS (MB)" "$rss1" "< 50" "$(verdict "$rss1" "<" 50)"
    row "app2 peak RSS (MB)" "$rss2" "< 50" "$(verdict "$rss2" "<" 50)"
    row "requests failed" "$(get "$main" failed)" "0" "$(verdict "$(get "$main" failed)" "<=" 0)"
    if [[ -n $null ]]; then
        row "null RPC calls/s (1 client)" "$(get "$null" null_rate_per_s)" "" ""
        row "null RPC p50 (ms)" "$(get "$null" null_p50_ms)" "" ""
    fi
    echo "requests $(get "$main" requests), tries $(get "$main" tries), retried $(get "$main" retried)," \
        "session restarts $(get "$main" restarts), latency max $(get "$main" max_ms) ms;" \
        "lag over $(get "$main" lag_entries) log entries, max $(get "$main" lag_max_ms) ms," \
        "resolution $(get "$main" lag_interval_ms) ms (STATUS round trip p99 $(get "$main" status_rtt_p99_ms) ms)"
    echo
done
[[ -z $autogroup_was ]] || set_autogroup "$autogroup_was" || true
[[ ${settings[0]} == keep ]] || set_autogroup 0 || true

# ---- 2. an outage of app server 2 ----
fresh 2
pid2=$(cat "$RUN_DIR/app2.pid")
"$BOOKLOAD" --servers 1,2 --clients "$CLIENTS" --seconds "$OUTAGE_SECONDS" --catalogue-size "$BOOKS" \
    --no-lag --window 10000:20000 >"$CLUSTER_DIR/bench-books-outage.txt" &
loadpid=$!
# The load's own clock starts once its threads are connected; its STATUS check comes
# first, so 10 s from now is within its first tenth of a second of 10 s.
sleep 10 # the outage's schedule, not a readiness check
kill -KILL "$pid2"
sleep 10 # the outage lasts 10 s
scripts/cluster start app2 >/dev/null
wait "$loadpid" || die "bookload (outage) failed (see $CLUSTER_DIR/bench-books-outage.txt)"
out=$(cat "$CLUSTER_DIR/bench-books-outage.txt")
echo "books, outage: $CLIENTS clients over app servers 1 and 2 for ${OUTAGE_SECONDS} s, app server 2 killed (-9) at 10 s and started again at 20 s"
row metric value target verdict
row "requests failed" "$(get "$out" failed)" "0" "$(verdict "$(get "$out" failed)" "<=" 0)"
row "requests/s over the 30 s" "$(get "$out" rate_per_s)" "" ""
row "requests started during the outage" "$(get "$out" window_requests)" "" ""
row "  failed" "$(get "$out" window_failed)" "0" "$(verdict "$(get "$out" window_failed)" "<=" 0)"
row "  latency p99 (ms)" "$(get "$out" window_p99_ms)" "" ""
row "  latency max (ms)" "$(get "$out" window_max_ms)" "" ""
row "latency p99 over the 30 s (ms)" "$(get "$out" p99_ms)" "" ""
echo "tries $(get "$out" tries), retried $(get "$out" retried), failovers $(get "$out" failovers), keys released $(get "$out" released)"
echo

# ---- 3. how the cost grows ----
echo "books, scaling: ${SCALE_SECONDS} s each, catalogue $BOOKS"
printf '%-12s %-8s %12s %10s %10s\n' "app servers" clients "requests/s" "p50 (ms)" "p99 (ms)"
for n in 1 2 3; do
    for c in 32 128; do
        fresh "$n"
        load "scale-$n-$c" "$n" "$c" "$SCALE_SECONDS" --no-lag
        printf '%-12s %-8s %12s %10s %10s\n' "$n" "$c" "$(get "$LOAD" rate_per_s)" \
            "$(get "$LOAD" p50_ms)" "$(get "$LOAD" p99_ms)"
    done
done
