#!/usr/bin/env bash
# Faults under load, as a real deployment meets them: 32 client loops (`client --request
# --count 5 --json`, a new session on exit 3), each listing both app servers (half of
# them app server 1 first, half app server 2), on a catalogue of 400, from before the
# first fault to after the last, while one process after another is killed with -9 and started again: app server
# 2, the replication server, the time server, app server 1, the PostgreSQL postmaster;
# then each of them is frozen (SIGSTOP) for 3 s. The next fault comes once every request
# that was out during the last has ended (a request meets one fault, not two in a row
# that add up past its deadline). After the load:
# - no book twice in a session, the books DBs identical, every printed book in both;
# - no request row that no client printed, except those its client released;
# - no request failed: while one app server was down the clients asked the other, and
#   an outage of the log (replication server or PostgreSQL) shorter than the clients'
#   deadline (10 s) delayed requests, it did not fail them;
# - a restarted app server served only once it had caught up with the log; the log has
#   no gap; a request sent while the log was down got "replication unavailable";
# - a quick restart of the replication server while the app servers are idle: every
#   request after it is served at its first try (no kept connection to the old one is
#   used).
# The counts are printed: books, sessions, tries, retries that found their book, releases.
source "$(dirname "$0")/lib.sh"

export TM=1
BOOKS=400 CLIENTS=32 COUNT=5 FREEZE_SECONDS=3
"$ROOT/db/gen-catalogue" "$BOOKS" >"$TEST_TMP/catalogue.tsv"
export CATALOGUE=$TEST_TMP/catalogue.tsv
start_servers

gone() { ! kill -0 "$1" 2>/dev/null || [[ $(ps -o stat= -p "$1") == Z* ]]; }
all_gone() { local p; for p in "$@"; do gone "$p" || return 1; done; }
part_pid() { cat "$CLUSTER_DIR/run/$1.pid"; }
postmaster_pid() { head -n 1 "$CLUSTER_DIR/pg/postmaster.pid"; }

# fault_loop SERVERS NAME OUT: client runs until $LOAD/stop exists; each run's start, end and exit
# status go to OUT.rc; on exit 3 the loop opens a new session (its line to OUT.new).
fault_loop() {
    local servers=$1 name=$2 out=$3 rc t0 list
    mapfile -t list < <(server_args "$servers")
    while [[ ! -e $LOAD/stop ]]; do
        t0=$EPOCHREALTIME rc=0
        "$BIN_DIR/client" --headless "${list[@]}" --name "$name" --request --count "$COUNT" \
            --json >>"$out" 2>>"$out.log" </dev/null || rc=$?
        echo "$t0 $EPOCHREALTIME $rc" >>"$out.rc"
        case $rc in
        0) ;;
        3)
            t0=$EPOCHREALTIME rc=0
            "$BIN_DIR/client" --headless "${list[@]}" --name "$name" --new-session --json \
                >>"$out.new" 2>>"$out.log" </dev/null || rc=$?
            echo "$t0 $EPOCHREALTIME new-session $rc" >>"$out.rc" ;;
        *) sleep 0.05 ;;
        esac
    done
}

# Progress: the log grows by N entries (the load goes on after a fault).
grown() { (($(log_max_seq) >= $1)); }
progress() {
    local want=$(($(log_max_seq) + ${1:-100}))
    wait_until "the load going on after: $2 (log entry $want)" 40 grown "$want"
}
# After a fault: every request that was out while it lasted has ended (each client has
# begun a run since), so that each fault is one a request's deadline rides out alone,
# not the tail of the one before.
settled() {
    local f
    for f in "$LOAD"/c*.out.rc; do
        awk -v t="$1" '$1 > t { found = 1 } END { exit !found }' "$f" || return 1
    done
}
settle() { wait_until "every request out during $2 ended" 30 settled "$1"; }
FAULTS=()
note() { FAULTS+=("$(awk -v t="$EPOCHREALTIME" -v t0="$T0" -v w="$1" 'BEGIN { printf "%.1f s %s", t - t0, w }')"); }

LOAD=$TEST_TMP/load
mkdir -p "$LOAD"
T0=$EPOCHREALTIME
pids=()
for i in $(seq 1 $CLIENTS); do
    fault_loop "$(preference "$i")" "reader$i" "$LOAD/c$i.out" &
    pids+=($!)
    EXTRA_PIDS+=($!)
done
progress 200 "the start"

# ---- kill -9 and start again, one process after another ----
many_left() { (($(book_status 1 books_left) >= 150)); }
for part in app2 replication time_server app1; do
    # The probe below needs a book to ask for: kill the log early in a session.
    [[ $part != replication ]] || wait_until "a session with books left" 20 many_left
    pid=$(part_pid "$part")
    kill -KILL "$pid"
    wait_until "$part (pid $pid) gone" 10 gone "$pid"
    log_at_kill=$(log_max_seq)
    note "$part killed"
    if [[ $part == replication ]]; then
        rc=0
        out=$("$BIN_DIR/client" --headless --server localhost:1 --server localhost:2 --name prober \
            --request --json --deadline 0.5 2>"$TEST_TMP/probe.log") || rc=$?
        err=$(cat "$TEST_TMP/probe.log")
        if ((rc == 3)); then
            # The session ran out meanwhile: answered from memory, no entry needed.
            pass "a request while the replication server is down: the session had just ended, answered without the log ($out)"
        else
            ((rc == 1 || rc == 4)) && [[ -z $out && $err == *"replication unavailable"* ]] ||
                fail "a request while the replication server is down: exit $rc, stdout '$out', stderr '$err'"
            pass "a request while the replication server is down (deadline 0.5 s): exit $rc, '${err:0:100}...'"
        fi
        grew=$(log_max_seq)
        ((grew == log_at_kill)) || fail "the log grew from $log_at_kill to $grew while the replication server was down"
    fi
    log_at_start=$(log_max_seq)
    cluster start "$part" >/dev/null
    note "$part started"
    if [[ $part == app* ]]; then
        n=${part#app}
        at=$(book_status "$n" applied_seq)
        ((at >= log_at_start)) || fail "$part serves again at entry $at although the log held $log_at_start when it started"
        pass "$part killed and restarted: it served only once caught up (STATUS at entry $at, the log held $log_at_start at its start)"
    fi
    settle "$EPOCHREALTIME" "$part killed and started again"
    progress 150 "$part killed and started again"
done

# The postmaster: its backends end on their own when it is gone; then a fresh start
# (crash recovery).
pm=$(postmaster_pid)
mapfile -t backends < <(pgrep -P "$pm")
kill -KILL "$pm"
wait_until "the postmaster (pid $pm) and its ${#backends[@]} processes gone" 30 all_gone "$pm" "${backends[@]}"
note "postgres killed"
cluster start postgres >/dev/null
note "postgres started"
settle "$EPOCHREALTIME" "the postmaster's restart"
progress 150 "the postmaster killed and started again"

# ---- frozen for 3 s, one after another ----
for part in replication app2 app1 time_server postgres; do
    if [[ $part == postgres ]]; then
        pm=$(postmaster_pid)
        mapfile -t frozen < <(echo "$pm"; pgrep -P "$pm")
    else
        frozen=("$(part_pid "$part")")
    fi
    kill -STOP "${frozen[@]}"
    note "$part frozen"
    sleep "$FREEZE_SECONDS" # the fault itself: frozen this long
    kill -CONT "${frozen[@]}"
    note "$part thawed"
    settle "$EPOCHREALTIME" "$part's freeze"
    progress 150 "$part frozen for $FREEZE_SECONDS s"
done
pass "faults: $(IFS=';'; echo "${FAULTS[*]}")"
touch "$LOAD/stop" # the load ends with the faults, however long they took

for p in "${pids[@]}"; do wait "$p" || fail "a client loop ended with status $?"; done
EXTRA_PIDS=()

# ---- what the load saw ----
cat "$LOAD"/c*.out.rc >"$TEST_TMP/runs"
runs=$(grep -vc new-session "$TEST_TMP/runs")
failed=$(awk '$3 != "new-session" && $3 != 0 && $3 != 3' "$TEST_TMP/runs" | wc -l)
failed_new=$(awk '$3 == "new-session" && $4 != 0' "$TEST_TMP/runs" | wc -l)
if ((failed + failed_new > 0)); then
    fail "$failed of $runs client runs failed and $failed_new new sessions: $(awk '$3 != 0 && $3 != 3 && !($3 == "new-session" && $4 == 0)' "$TEST_TMP/runs" | head -5 | tr '\n' ';') $(grep -h 'client:' "$LOAD"/*.log | head -3 | cut -c1-300)"
fi
wait_caught_up 60
books_no_duplicates "after the faults"
books_same "after the faults"
printed_in_dbs "after the faults" "$LOAD"/c*.out
printed=$PRINTED_TOTAL
# Request rows that nobody printed: only released ones.
bsql 1 "COPY (SELECT id, session_id, isbn, server FROM request WHERE released_at IS NULL) TO STDOUT" |
    sort | comm -23 - "$TEST_TMP/printed.tsv" >"$TEST_TMP/stray.tsv"
stray=$(wc -l <"$TEST_TMP/stray.tsv")
((stray == 0)) || fail "$stray books held by requests no client printed nor released: $(head -3 "$TEST_TMP/stray.tsv" | tr '\t\n' ' ;')"
released=$(bsql 1 "SELECT count(*) FROM request WHERE released_at IS NOT NULL")
stored=$(bsql 1 "SELECT count(*) FROM request")
sessions=$(bsql 1 "SELECT count(*) FROM session")
retried=$(grep -h '^{"isbn"' "$LOAD"/c*.out | grep -vc '"tries":1,' || true)
again=$(grep -h '^{"isbn"' "$LOAD"/c*.out | grep -c '"again":true' || true)
gave_up=$( (grep -h 'released request' "$LOAD"/*.log || true) | wc -l)
read -r n lo hi <<<"$(rsql "SELECT count(*) || ' ' || coalesce(min(seq), 0) || ' ' || coalesce(max(seq), 0) FROM log")"
((n == hi && lo == 1)) || fail "the log has gaps: $n entries from $lo to $hi"
pass "no request failed in $runs client runs of $COUNT; $printed books printed in $sessions sessions, all in both DBs; $stored request rows: every one printed or released ($released released, $gave_up releases by clients that gave up); $retried books took more than one try, $again of them found by a retry that their key held already; the log holds entries 1..$hi without a gap"

# ---- a quick restart of the replication server while the app servers are idle ----
cluster stop replication >/dev/null
cluster start replication >/dev/null
new=$("$BIN_DIR/client" --headless --server localhost:1 --name opener --new-session --json) ||
    fail "--new-session after the quick restart: $new"
burst=()
for i in $(seq 1 $CLIENTS); do
    mapfile -t list < <(server_args "$(preference "$i")")
    "$BIN_DIR/client" --headless "${list[@]}" --name "burst$i" --request --count 2 --json \
        >"$TEST_TMP/burst$i.out" 2>"$TEST_TMP/burst$i.log" &
    burst+=($!)
done
bad=0
for p in "${burst[@]}"; do wait "$p" || bad=$((bad + 1)); done
((bad == 0)) || fail "$bad clients failed after the quick restart: $(cat "$TEST_TMP"/burst*.log | head -3)"
late=$(cat "$TEST_TMP"/burst*.out | grep -vc '"tries":1,' || true)
((late == 0)) || fail "$late requests after the quick restart needed more than one try: $(cat "$TEST_TMP"/burst*.out | grep -v '"tries":1,' | head -2)"
pass "after a quick restart of the replication server: $((CLIENTS * 2)) requests on both servers, each served at its first try"
no_sanitizer_reports
