#!/usr/bin/env bash
# `make run`'s script from a clone inside a 0700 folder, as root (where root clones to:
# its home is 0700 on Debian): it says in one line where the running system's files go
# instead, runs headless (rounds reach the clock DB, a client gets a book), and stops
# cleanly on SIGTERM (what Ctrl-C does to it), leaving nothing running. The clone is of this checkout's HEAD; its
# programs are the ones under test (BIN_DIR).
source "$(dirname "$0")/lib.sh"

if ((EUID != 0)); then
    log "not root: a folder closed to other users only matters to root (skipped)"
    exit 0
fi
closed=$(mktemp -d /tmp/bibliotime-closed.XXXXXX)
chmod 700 "$closed"
clone=$closed/bibliotime
git clone -q "$ROOT" "$clone" || fail "git clone of $ROOT"
RUN_PGPORT=55441 RUN_NTP=11141
run_env=(env -u CLUSTER_DIR -u DISPLAY -u APP_SERVERS TM=1 PGPORT=$RUN_PGPORT NTP_PORT=$RUN_NTP
         UTC_SERVER=127.0.0.1:$RUN_NTP BIN_DIR="$BIN_DIR")
cleanup_clone() {
    local dir
    dir=$("${run_env[@]}" "$clone/scripts/cluster" env | sed -n 's/^export PGHOST=\(.*\)\/run PGPORT.*/\1/p')
    "${run_env[@]}" "$clone/scripts/cluster" stop >/dev/null 2>&1 || true
    [[ $dir == /var/tmp/bibliotime-* ]] && rm -rf "$dir"
    rm -rf "$closed"
}
trap 'rc=$?; cleanup_clone; (exit $rc); finish' EXIT

"${run_env[@]}" "$clone/scripts/run" >"$TEST_TMP/run.log" 2>&1 &
run=$!
EXTRA_PIDS+=("$run")
started() { grep -q '^client2: started' "$TEST_TMP/run.log"; }
wait_until "scripts/run from the 0700 folder started the system" 90 started
grep -q "^run: $closed is closed to other users (mode 700), so the running system's files go to /var/tmp/bibliotime-bibliotime-" \
    "$TEST_TMP/run.log" || fail "no line saying where the files went: $(head -3 "$TEST_TMP/run.log")"
pass "$(grep '^run: /' "$TEST_TMP/run.log")"

eval "$("${run_env[@]}" "$clone/scripts/cluster" env | grep '^export PGHOST')"
[[ $PGHOST == /var/tmp/bibliotime-bibliotime-*/run ]] || fail "scripts/cluster env gives PGHOST=$PGHOST"
rounds() { (($(psql -X -At -d clock -c "SELECT count(*) FROM sync_round" 2>/dev/null || echo 0) >= 2)); }
wait_until "two rounds in the clock DB" 30 rounds
out=$("$BIN_DIR/client" --headless --server localhost:1 --server localhost:2 --name visitor --request --json) ||
    fail "the client got no book: $out"
[[ $out == '{"isbn":'* ]] || fail "the client printed: $out"
pass "rounds in the clock DB at PGHOST=$PGHOST, and a book: $out"

# A background job starts with SIGINT ignored: SIGTERM, which scripts/run handles alike.
kill -TERM "$run"
rc=0
wait "$run" || rc=$?
EXTRA_PIDS=()
((rc == 0 || rc == 143)) || fail "scripts/run ended with status $rc after SIGTERM: $(tail -3 "$TEST_TMP/run.log")"
status=$("${run_env[@]}" "$clone/scripts/cluster" status 2>&1 || true)
if grep -qE ' [0-9]+ +answers' <<<"$status"; then fail "still running after Ctrl-C: $status"; fi
pass "SIGTERM (as Ctrl-C) stopped it cleanly (status $rc), nothing of it left running"
