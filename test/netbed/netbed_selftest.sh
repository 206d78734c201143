#!/usr/bin/env bash
# test/netbed/netbed_selftest.sh: brings the test bed up, checks that it is what it says
# (separate hosts with their own rpcbind and /run, names, no way out, PostgreSQL, chrony,
# a pulled link, an emulated delay), brings it down and checks that nothing is left.
# As root. Prints "ok N - ..." per check and "N passed, M failed" at the end; stops at the
# first failure (after bringing the bed down). Its own NETBED_DIR and NETBED_PREFIX
# (var/netbed-selftest, bts-), so it leaves a bed of the default prefix alone.
# The delay check needs linkem ($TOOLS/linkem, `make SAN=1 tools`); without it, skipped.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
source "$ROOT/scripts/lib/var-dir.sh"
var_dir "$ROOT"
export NETBED_DIR=${NETBED_SELFTEST_DIR:-$VAR_DIR/netbed-selftest}
export NETBED_PREFIX=${NETBED_SELFTEST_PREFIX:-bts-}
unset NETBED_HOSTS NETBED_LINKS NETBED_RELAY
export TOOLS=${TOOLS:-$ROOT/build/san/test}
# shellcheck source-path=SCRIPTDIR source=netbed.sh
source "$ROOT/test/netbed/netbed.sh"
# The caller's PostgreSQL settings (test/run-all's loopback cluster) are not the bed's.
unset PGHOST PGPORT PGUSER PGDATABASE PGPASSFILE

N=0 PASSED=0 SKIPPED=0 UP=0 T_START=$SECONDS
WORK=$NETBED_DIR/selftest
PROG=1315075072          # 0x4e627400: a transient program number for the registration check

ok() { N=$((N + 1)) PASSED=$((PASSED + 1)); echo "ok $N - $*"; }
skip() { N=$((N + 1)) SKIPPED=$((SKIPPED + 1)); echo "ok $N - # SKIP $*"; }
summary() { echo "$PASSED passed, $1 failed$( ((SKIPPED)) && echo ", $SKIPPED skipped")"; }
note() { echo "# $*"; }
fail() {
    N=$((N + 1))
    echo "not ok $N - $1"
    shift
    local line
    for line in "$@"; do echo "#   $line"; done
    if ((UP)); then
        echo "# bringing the bed down (logs kept in $NETBED_DIR/log)"
        netbed_down 2>&1 | sed 's/^/#   /'
    fi
    summary 1
    exit 1
}

now_ms() { local t=${EPOCHREALTIME/./}; echo $((10#$t / 1000)); }

# until_ok TIMEOUT_S CMD...: poll CMD every 50 ms until it succeeds; 1 on timeout.
until_ok() {
    local deadline=$(($(now_ms) + $1 * 1000))
    shift
    until "$@" >/dev/null 2>&1; do
        (($(now_ms) < deadline)) || return 1
        sleep 0.05
    done
}

alive() {
    local s
    read -r s 2>/dev/null <"/proc/$1/stat" || return 1
    s=${s##*) }
    [[ ${s:0:1} != Z && ${s:0:1} != X ]]
}

prefix_namespaces() { ip netns list 2>/dev/null | awk -v p="$NETBED_PREFIX" 'index($1, p) == 1 { print $1 }'; }
root_links() { ip -o link show | awk -F': ' '{ print $2 }' | sort | paste -sd' ' -; }
root_addrs() { ip -o addr show | awk '{ print $2, $4 }' | sort | paste -sd' ' -; }

min_of() { sort -n | head -n 1; }

[[ $EUID == 0 ]] || { echo "netbed_selftest: must run as root"; echo "0 passed, 1 failed"; exit 1; }

# ------------------------------------------------------------------ before
netbed_down --purge >/dev/null 2>&1 || true
remaining=$(prefix_namespaces)
[[ -z $remaining ]] || fail "no namespace with prefix $NETBED_PREFIX before the test" "found: $remaining (another bed? set NETBED_SELFTEST_PREFIX)"
ROOT_LINKS=$(root_links) ROOT_ADDRS=$(root_addrs)

# A tiny ONC RPC server (libtirpc, as the project's servers): registers PROG v1 over TCP
# with the rpcbind of the host it runs on, answers NULL, unregisters on SIGTERM.
mkdir -p "$WORK"
cat >"$WORK/rpcreg.c" <<'EOF'
#include <rpc/rpc.h>
#include <rpc/pmap_clnt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
static unsigned long prog;
static void dispatch(struct svc_req *rq, SVCXPRT *x)
{
    if (rq->rq_proc == NULLPROC) svc_sendreply(x, (xdrproc_t)xdr_void, NULL);
    else svcerr_noproc(x);
}
static void bye(int sig) { (void)sig; svc_unregister(prog, 1); _exit(0); }
int main(int argc, char **argv)
{
    prog = strtoul(argc > 1 ? argv[1] : "0", NULL, 10);
    SVCXPRT *x = svctcp_create(RPC_ANYSOCK, 0, 0);
    if (!x) { fprintf(stderr, "rpcreg: svctcp_create failed\n"); return 1; }
    svc_unregister(prog, 1);
    if (!svc_register(x, prog, 1, dispatch, IPPROTO_TCP)) { fprintf(stderr, "rpcreg: svc_register failed\n"); return 1; }
    signal(SIGTERM, bye);
    fprintf(stderr, "rpcreg: program %lu registered\n", prog);
    svc_run();
    return 1;
}
EOF
# shellcheck disable=SC2046
gcc -O1 -o "$WORK/rpcreg" "$WORK/rpcreg.c" $(pkg-config --cflags --libs libtirpc) 2>"$WORK/gcc.log" ||
    fail "compile the registration check server" "$(cat "$WORK/gcc.log")"

# ------------------------------------------------------------------ up
t0=$(now_ms)
UP=1
out=$(netbed_up 2>&1) || fail "netbed up" "$out"
UP_MS=$(($(now_ms) - t0))
ok "netbed up in $((UP_MS / 1000)).$(printf %03d $((UP_MS % 1000))) s ($(netbed_hosts); link: app1)"
[[ $out == *warning* ]] && note "$out"

HOSTS=(db utc time repl app1 app2 cli)
RPC_HOSTS=(time repl app1 app2)
for h in "${HOSTS[@]}"; do
    [[ -e /run/netns/$NETBED_PREFIX$h ]] || fail "namespace of $h" "no /run/netns/$NETBED_PREFIX$h"
    a=$(ip -n "$NETBED_PREFIX$h" -4 -o addr show dev eth0 | awk '{ print $4 }')
    [[ $a == "$(netbed_addr "$h")/24" ]] || fail "address of $h" "eth0 has '$a', want $(netbed_addr "$h")/24"
done
[[ -e /run/netns/${NETBED_PREFIX}sw && -e /run/netns/${NETBED_PREFIX}l-app1 ]] || fail "switch and link namespaces" "missing"
[[ -e /run/netns/${NETBED_PREFIX}app3 ]] && fail "app3 is not selected by default" "namespace exists"
ok "one namespace per host with eth0 at its address, plus ${NETBED_PREFIX}sw and ${NETBED_PREFIX}l-app1"

[[ $(root_links) == "$ROOT_LINKS" && $(root_addrs) == "$ROOT_ADDRS" ]] ||
    fail "the root namespace is untouched" "links before: $ROOT_LINKS" "links now: $(root_links)"
ok "nothing added to the root namespace (links and addresses unchanged)"

# ------------------------------------------------------------------ rpcbind per host
declare -A RB_PID RB_INODE
for h in "${RPC_HOSTS[@]}"; do
    out=$(netbed_exec "$h" timeout -k 1 5 rpcinfo -p 127.0.0.1 2>&1) || fail "rpcbind answers inside $h" "$out"
    RB_PID[$h]=$(netbed_pid "rpcbind-$h") || fail "rpcbind-$h has a pid" "no running rpcbind-$h"
    [[ $(cat "/proc/${RB_PID[$h]}/comm") == rpcbind ]] || fail "pid file of rpcbind-$h names rpcbind itself" "comm: $(cat "/proc/${RB_PID[$h]}/comm")"
    RB_INODE[$h]=$(netbed_exec "$h" stat -c %i /run/rpcbind.sock) || fail "/run/rpcbind.sock inside $h" "missing"
done
[[ $(printf '%s\n' "${RB_PID[@]}" | sort -u | wc -l) == "${#RPC_HOSTS[@]}" &&
   $(printf '%s\n' "${RB_INODE[@]}" | sort -u | wc -l) == "${#RPC_HOSTS[@]}" ]] ||
    fail "one rpcbind and one /run/rpcbind.sock per host" "pids: ${RB_PID[*]}" "socket inodes: ${RB_INODE[*]}"
for h in db utc cli; do
    netbed_exec "$h" test -e /run/rpcbind.sock && fail "no rpcbind on $h" "$h has /run/rpcbind.sock"
done
ok "rpcbind answers inside ${RPC_HOSTS[*]}: one process and one /run/rpcbind.sock each (pid file = rpcbind's pid); none on db, utc, cli"

pid=$(netbed_spawn app1 selftest-rpc "$WORK/rpcreg" "$PROG") || fail "spawn an RPC server on app1" "$pid"
registered() { netbed_exec "$1" timeout -k 1 5 rpcinfo -p 127.0.0.1 | awk -v p="$PROG" '$1 == p { f = 1 } END { exit !f }'; }
until_ok 10 registered app1 || fail "program $PROG registered with app1's rpcbind" "$(netbed_log selftest-rpc)"
registered app2 && fail "registration on app1 is not seen on app2" "app2's rpcinfo -p lists $PROG"
registered time && fail "registration on app1 is not seen on time" "time's rpcinfo -p lists $PROG"
out=$(netbed_exec time timeout -k 1 5 rpcinfo -T tcp app1 "$PROG" 1 2>&1) || fail "RPC call from time to app1 by name" "$out"
netbed_exec time timeout -k 1 5 rpcinfo -T tcp app2 "$PROG" 1 >/dev/null 2>&1 && fail "program $PROG is not served by app2" "rpcinfo -T tcp app2 answered"
ok "a server registered on app1 is listed by app1's rpcbind only, and time calls it as app1 ($out)"

[[ $(cat "/proc/$pid/comm") == rpcreg ]] || fail "netbed_spawn records the daemon's own pid" "pid $pid is $(cat "/proc/$pid/comm")"
[[ $(readlink "/proc/$pid/fd/0") == /dev/null ]] || fail "a spawned daemon reads /dev/null" "fd 0: $(readlink "/proc/$pid/fd/0")"
[[ $(readlink "/proc/$pid/fd/1") == "$NETBED_DIR/log/selftest-rpc.log" ]] || fail "a spawned daemon writes its log" "fd 1: $(readlink "/proc/$pid/fd/1")"
fds=$(for f in /proc/"$pid"/fd/*; do n=${f##*/}; ((n > 2)) && readlink "$f"; done | grep -v '^socket:' | paste -sd' ' -)
[[ -z $fds ]] || fail "a spawned daemon holds no fd of its caller" "fds > 2: $fds"
[[ $(netbed_exec app1 readlink -f /run) == /run && $(netbed_exec app1 ls /run) == *rpcbind.sock* ]] || fail "/run inside app1" "$(netbed_exec app1 ls -la /run)"
out=$(netbed_stop selftest-rpc) || fail "netbed_stop of a server that ends on SIGTERM returns 0" "$out"
alive "$pid" && fail "netbed_stop ended the server" "pid $pid still runs"
registered app1 && fail "the server unregistered on SIGTERM" "still listed"
ok "netbed_spawn: pid of the real process, stdin /dev/null, output to its log, no inherited fd; netbed_stop: $out"

pid=$(netbed_spawn time selftest-stubborn sh -c 'trap "" TERM; exec sleep 60') || fail "spawn a process that ignores SIGTERM" "$pid"
comm_is() { [[ $(cat "/proc/$1/comm" 2>/dev/null) == "$2" ]]; }
until_ok 5 comm_is "$pid" sleep || fail "the stubborn process runs" "comm: $(cat "/proc/$pid/comm" 2>/dev/null)"
out=$(NETBED_STOP_TIMEOUT=1 netbed_stop selftest-stubborn) && fail "netbed_stop returns non-zero when it had to kill" "$out"
gone() { ! alive "$1"; }
until_ok 5 gone "$pid" || fail "the stubborn process is gone" "pid $pid still runs"
ok "netbed_stop of a process ignoring SIGTERM: SIGKILL after NETBED_STOP_TIMEOUT, non-zero ($out)"

# ------------------------------------------------------------------ names, no way out
out=$(netbed_exec time timeout -k 1 5 /usr/lib/postgresql/15/bin/pg_isready -h db -p 5432 2>&1) || fail "pg_isready -h db from time" "$out"
out2=$(netbed_exec time timeout -k 1 5 rpcinfo -p app1 2>&1) || fail "rpcinfo -p app1 from time" "$out2"
for h in "${HOSTS[@]}"; do
    a=$(netbed_exec cli getent hosts "$h" | awk '{ print $1 }')
    [[ $a == "$(netbed_addr "$h")" ]] || fail "cli resolves $h" "getent hosts $h: '$a'"
done
ok "hosts reach each other by name: $out; rpcinfo -p app1 from time; every name resolves on cli"

for h in "${HOSTS[@]}"; do
    r=$(ip -n "$NETBED_PREFIX$h" route show default)
    [[ -z $r ]] || fail "no default route on $h" "$r"
    out=$(netbed_exec "$h" ip route get 8.8.8.8 2>&1) && fail "$h cannot route outside" "ip route get 8.8.8.8: $out"
    # A connect outside fails at once (ENETUNREACH: nothing is sent).
    netbed_exec "$h" timeout -k 1 2 bash -c ': 3<>/dev/tcp/192.0.2.1/80' 2>/dev/null && fail "$h cannot connect outside" "connect to 192.0.2.1:80 succeeded"
done
out=$(ip -n "${NETBED_PREFIX}sw" route show default)
[[ -z $out ]] || fail "no default route in the switch" "$out"
ok "no host reaches outside: no default route, ip route get 8.8.8.8 fails, connect gets ENETUNREACH"

# ------------------------------------------------------------------ PostgreSQL
out=$(netbed_psql -Atc "SELECT current_user || ' ' || current_setting('password_encryption') || ' ' || current_setting('listen_addresses')" 2>&1)
[[ $out == "postgres scram-sha-256 10.77.0.2" ]] || fail "netbed_psql as postgres over the unix socket" "$out"
out=$(netbed_exec time env -u PGPASSWORD /usr/lib/postgresql/15/bin/psql -X -w -h db -U postgres -c 'SELECT 1' 2>&1) &&
    fail "a TCP connection needs a password (scram-sha-256)" "connected: $out"
[[ $out == *"password"* ]] || fail "a TCP connection is refused for want of a password" "$out"
out=$(netbed_exec time /usr/lib/postgresql/15/bin/psql -X -w -h "$NETBED_DIR/hosts/db/run/postgresql" -U postgres -c 'SELECT 1' 2>&1) &&
    fail "only the postgres OS user gets in over the socket (peer)" "root connected as postgres: $out"
[[ $out == *"Peer authentication failed"* || $out == *"no pg_hba.conf entry"* ]] || fail "root is refused over the socket as postgres" "$out"
ok "PostgreSQL on db: netbed_psql as the postgres OS user (peer; root refused), a TCP login from time needs a scram-sha-256 password"

# ------------------------------------------------------------------ chrony
out=$(netbed_exec time timeout -k 1 10 chronyd -Q -t 5 "server utc iburst maxsamples 1" 2>&1) ||
    fail "chronyd on utc answers an NTP query from time (chronyd -Q)" "$out"
wrong=$(sed -n 's/.*System clock wrong by \([-+0-9.e]*\) seconds.*/\1/p' <<<"$out")
[[ -n $wrong ]] || fail "chronyd -Q reports an offset" "$out"
awk -v w="$wrong" 'BEGIN { exit !(w < 0.01 && w > -0.01) }' || fail "utc serves the kernel clock (offset < 10 ms)" "offset $wrong s"
ok "chronyd on utc answers an NTP query from time: offset $wrong s against the shared kernel clock"

stats_frames() { netbed_link_stats app1 | awk '/linkem ab/ { for (i = 1; i <= NF; i++) if ($i ~ /^frames=/) { sub("frames=", "", $i); print $i } }'; }
HAVE_LINKEM=0
if [[ -n $(netbed_pid linkem-app1 2>/dev/null) ]]; then HAVE_LINKEM=1; f0=$(stats_frames); fi
pid=$(netbed_chrony_client app1 ref-app1 utc 1) || fail "a chrony client on app1" "$pid"
reach() { netbed_chronyc ref-app1 sources | awk '$1 ~ /^\^/ && $2 == "10.77.0.3" && $5 != "0" { f = 1 } END { exit !f }'; }
synced() { netbed_chrony_tracking ref-app1 | grep -q '^Reference ID *: 0A4D0003'; }
until_ok 15 reach || fail "the chrony client on app1 gets a sample from utc" "$(netbed_chronyc ref-app1 sources 2>&1)"
until_ok 20 synced || fail "the chrony client on app1 synchronises to utc" "$(netbed_chrony_tracking ref-app1 2>&1)"
tracking=$(netbed_chrony_tracking ref-app1)
if ((HAVE_LINKEM)); then
    f1=$(stats_frames)
    ((f1 > f0)) || fail "the chrony client's requests cross app1's link" "linkem ab frames before $f0, after $f1"
    via="through linkem (ab frames $f0 -> $f1)"
else
    via="through a plain bridge relay (linkem not built)"
fi
err=$(netbed_chrony_error ref-app1) || fail "netbed_chrony_error ref-app1" "$tracking"
ok "chrony client on app1 synchronised to utc $via; its error $err s ($(grep '^System time' <<<"$tracking" | tr -s ' '))"

# ------------------------------------------------------------------ a pulled link
netbed_probe time app1 2 || fail "app1 reachable from time before unplugging" "probe failed"
netbed_unplug app1 || fail "netbed unplug app1" ""
netbed_probe time app1 1 && fail "app1 unreachable from time once unplugged" "a SYN was answered"
netbed_exec time timeout -k 1 3 rpcinfo -p app1 >/dev/null 2>&1 && fail "rpcinfo -p app1 fails once unplugged" "it answered"
netbed_probe time app2 1 || fail "app2 still reachable while app1 is unplugged" "probe failed"
t0=$(now_ms)
out=$(netbed_plug app1 2>&1) || fail "netbed plug app1" "$out"
out=$(netbed_exec time timeout -k 1 5 rpcinfo -p app1 2>&1) || fail "rpcinfo -p app1 works again once plugged" "$out"
ok "netbed unplug app1: unreachable from time (app2 still reachable); netbed plug app1: back in $(($(now_ms) - t0)) ms"

# ------------------------------------------------------------------ emulated delay
if ((HAVE_LINKEM)); then
    base=$(netbed_rtt time app1 5 | min_of)
    awk -v r="$base" 'BEGIN { exit !(r < 10) }' || fail "round trip time<->app1 through a plain linkem is < 10 ms" "min $base ms"
    out=$(netbed_link app1 --delay 5 2>&1) || fail "netbed link app1 --delay 5" "$out"
    rtts=$(netbed_rtt time app1 5 | paste -sd' ' -)
    slow=$(tr ' ' '\n' <<<"$rtts" | min_of)
    awk -v r="$slow" 'BEGIN { exit !(r >= 10 && r < 100) }' || fail "round trips time<->app1 >= 10 ms with --delay 5" "rtt ms: $rtts"
    other=$(netbed_rtt time app2 3 | min_of)
    awk -v r="$other" 'BEGIN { exit !(r < 10) }' || fail "time<->app2 is not delayed" "min $other ms"
    out=$(netbed_link app1 2>&1) || fail "netbed link app1 (plain relay again)" "$out"
    back=$(netbed_rtt time app1 5 | min_of)
    awk -v r="$back" 'BEGIN { exit !(r < 10) }' || fail "round trip back under 10 ms without options" "min $back ms"
    ok "netbed link app1 --delay 5: round trips time<->app1 min $slow ms (before $base ms, after $back ms; time<->app2 $other ms)"
else
    skip "netbed link app1 --delay 5 (linkem not built at $TOOLS/linkem: make SAN=1 tools)"
fi

# ------------------------------------------------------------------ status, idempotence, lock
out=$(netbed_status 2>&1) || fail "netbed status exits 0 when everything answers" "$out"
for want in "rpcbind-app1" "chronyd-utc" "postgres" "ref-app1"; do
    grep -q "^$want .*answers" <<<"$out" || fail "netbed status lists $want as answering" "$out"
done
ok "netbed status: every daemon answers"

pids_before=$(cat "$NETBED_DIR"/pids/*.pid | sort | paste -sd' ' -)
t0=$(now_ms)
out=$(netbed_up 2>&1) || fail "a second netbed up" "$out"
again=$(($(now_ms) - t0))
pids_after=$(cat "$NETBED_DIR"/pids/*.pid | sort | paste -sd' ' -)
[[ $pids_before == "$pids_after" ]] || fail "a second up restarts nothing" "before: $pids_before" "after: $pids_after"
ok "a second netbed up restarts nothing and returns in $again ms"

exec {lockfd}>>"$NETBED_DIR/.lock"
flock -n "$lockfd" || fail "take the bed's lock" "flock failed"
t0=$(now_ms)
out=$(NETBED_LOCK_TIMEOUT=1 netbed_up 2>&1) && fail "netbed up waits for the lock" "it ran: $out"
[[ $out == *"holds"* ]] || fail "netbed up says who holds the lock" "$out"
exec {lockfd}>&-
ok "netbed up refuses to run while another holds the lock ($(($(now_ms) - t0)) ms with NETBED_LOCK_TIMEOUT=1)"

# ------------------------------------------------------------------ down
started=()
for f in "$NETBED_DIR"/pids/*.pid; do started+=("$(cat "$f")"); done
pg=$(head -n 1 "$NETBED_DIR/hosts/db/pg/postmaster.pid")
started+=("$pg")
t0=$(now_ms)
out=$(netbed_down 2>&1) || fail "netbed down" "$out"
DOWN_MS=$(($(now_ms) - t0))
UP=0
remaining=$(prefix_namespaces)
[[ -z $remaining ]] || fail "no namespace with prefix $NETBED_PREFIX after down" "left: $remaining"
for p in "${started[@]}"; do
    alive "$p" && fail "every process the bed started has ended" "pid $p ($(cat "/proc/$p/comm")) still runs"
done
[[ $(root_links) == "$ROOT_LINKS" ]] || fail "root namespace unchanged after down" "$(root_links)"
ok "netbed down in $((DOWN_MS / 1000)).$(printf %03d $((DOWN_MS % 1000))) s: no namespace $NETBED_PREFIX*, none of the ${#started[@]} processes it started runs"

# ------------------------------------------------------------------ down after a partial up
UP=1
setsid bash "$ROOT/test/netbed/netbed.sh" up >"$WORK/partial.log" 2>&1 &
up_pid=$!
until_ok 20 test -e "$NETBED_DIR/pids/rpcbind-time.pid" || fail "a partial up gets as far as rpcbind" "$(cat "$WORK/partial.log")"
kill -KILL -- "-$up_pid" 2>/dev/null
wait "$up_pid" 2>/dev/null
ns_partial=$(prefix_namespaces | wc -l)
started=()
for f in "$NETBED_DIR"/pids/*.pid; do [[ -e $f ]] && started+=("$(cat "$f")"); done
[[ -f $NETBED_DIR/hosts/db/pg/postmaster.pid ]] && started+=("$(head -n 1 "$NETBED_DIR/hosts/db/pg/postmaster.pid")")
out=$(netbed_down 2>&1) || fail "netbed down after an interrupted up" "$out"
UP=0
remaining=$(prefix_namespaces)
[[ -z $remaining ]] || fail "no namespace left after down of a partial up" "left: $remaining"
for p in "${started[@]}"; do
    alive "$p" && fail "no process left after down of a partial up" "pid $p ($(cat "/proc/$p/comm")) still runs"
done
ok "netbed up killed half-way ($ns_partial namespaces, ${#started[@]} daemons): netbed down leaves nothing"

netbed_down --purge >/dev/null 2>&1 || true
rm -rf "$WORK"
[[ -z ${NETBED_SELFTEST_DIR:-} ]] && rm -rf "$NETBED_DIR"
note "total $((SECONDS - T_START)) s"
summary 0
