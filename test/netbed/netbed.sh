#!/usr/bin/env bash
# shellcheck disable=SC2015 # `a && b || _nb_die ...`: die if either fails, as meant
# test/netbed/netbed.sh: a test bed where every Bibliotime process runs on a "host" of its
# own: one Linux network namespace per host, joined by a bridge in a switch namespace,
# some hosts behind a userspace link emulator (linkem; this kernel has no netem).
#
# Sourced, it gives the functions below (each runs in a subshell of its own: an error
# prints "netbed: ..." and returns non-zero, it never exits the caller's shell).
# Executed, it is a CLI: `netbed.sh help` lists the commands.
#
#   netbed_up / netbed_down [--purge] / netbed_status      the whole bed
#   netbed_exec HOST CMD...           run CMD in HOST (foreground; every fd passed through)
#   netbed_spawn HOST NAME CMD...     run CMD in HOST as a daemon: log/NAME.log, pids/NAME.pid
#   netbed_stop NAME...               SIGTERM, up to NETBED_STOP_TIMEOUT s, then SIGKILL
#   netbed_pid NAME / netbed_log NAME pid of a running daemon / its output since its start
#   netbed_addr HOST / netbed_ns HOST / netbed_hosts
#   netbed_psql [PSQL ARGS...]        psql as the postgres OS user inside db, unix socket
#   netbed_link HOST [LINKEM OPTS...] restart HOST's link emulator with these options
#   netbed_link_stats HOST            its per-direction stats now (SIGUSR1)
#   netbed_unplug HOST / netbed_plug HOST   the host's switch port down / up
#   netbed_probe FROM HOST [TIMEOUT]  does a TCP SYN from FROM (a host or "sw") get an answer
#   netbed_rtt FROM HOST [N]          N TCP connect round trips FROM -> HOST, in ms
#   netbed_chrony_client HOST NAME SERVER [POLL] / netbed_chrony_tracking NAME /
#   netbed_chronyc NAME CMD...        a reference chronyd on a host, and chronyc for it
#   netbed_chrony_error NAME          its error now: NTP clock - kernel clock, s
#
# Layout (nothing is created in the root namespace: no veth, no bridge, no address):
#   ${P}sw        bridge br0 (10.77.0.1/24, the switch's own probe address) with one
#                 port per host, named port-HOST
#   ${P}HOST      lo, eth0 10.77.0.X/24, no default route; direct hosts: eth0 is the peer
#                 of ${P}sw:port-HOST
#   ${P}l-HOST    hosts listed in NETBED_LINKS: HOST:eth0 <-> ha, sw <-> ${P}sw:port-HOST,
#                 `linkem --a ha --b sw` relays between them ("ab" = host -> network)
# Every process of a host also gets a mount namespace of its own where /run is
# $NETBED_DIR/hosts/HOST/run and /etc/hosts is $NETBED_DIR/hosts/HOST/hosts (rpcbind and
# libtirpc meet on /run/rpcbind.sock, which network namespaces do not separate).
# Daemons: rpcbind on time, repl, app1, app2, app3; PostgreSQL 15 on db (10.77.0.2:5432);
# chronyd on utc (NTP on 10.77.0.3:123, serving the kernel clock, -x). PostgreSQL's socket
# is in the db host's /run/postgresql, where Debian's libpq looks by default.
#
# Environment
#   NETBED_DIR      state, logs, data (default <repo>/var/netbed, or under /var/tmp when
#                   the checkout is closed to other users; not under /run)
#   NETBED_PREFIX   namespace name prefix (default bt-)
#   NETBED_HOSTS    hosts to create (default: db utc time repl app1 app2 cli)
#   NETBED_LINKS    hosts behind a link emulator (default: app1; "" for none)
#   NETBED_RELAY    auto (default: linkem if built, else a plain bridge, with a warning),
#                   linkem (required), bridge (never linkem)
#   TOOLS           where linkem is (default <repo>/build/san/test)
#   NETBED_READY_TIMEOUT  s to wait for a part to answer (default 20)
#   NETBED_STOP_TIMEOUT   s between SIGTERM and SIGKILL (default 10)
#   NETBED_LOCK_TIMEOUT   s to wait for another up/down/link in the same dir (default 120)

# ------------------------------------------------------------------ configuration
_NB_SELF=$(realpath -- "${BASH_SOURCE[0]}")
_NB_REPO=$(cd "$(dirname "$_NB_SELF")/../.." && pwd -P)
# shellcheck source=../../scripts/lib/var-dir.sh
source "$_NB_REPO/scripts/lib/var-dir.sh"
var_dir "$_NB_REPO" # <repo>/var, or /var/tmp/... for a checkout closed to other users
NETBED_ALL_HOSTS=(db utc time repl app1 app2 app3 cli)
NETBED_RPC_HOSTS=(time repl app1 app2 app3)
_NB_PG_BIN=/usr/lib/postgresql/15/bin
_NB_PG_PORT=5432
_NB_SUBNET=10.77.0.0/24
_NB_SW_ADDR=10.77.0.1
_NB_PROBE_PORT=9
# The mount namespace of a host's process: /etc/hosts first (its path may not be under
# the new /run), then /run. $0 = a label, $1 = run folder, $2 = hosts file.
# shellcheck disable=SC2016 # expanded by sh -c
_NB_MOUNT_SH='mount --bind "$2" /etc/hosts && mount --bind "$1" /run && shift 2 && exec "$@"'

# Computed afresh by every public function, so the caller may change the variables.
_nb_config() {
    NB_DIR=$(realpath -m -- "${NETBED_DIR:-$VAR_DIR/netbed}")
    NB_PREFIX=${NETBED_PREFIX-bt-}
    read -r -a NB_HOSTS <<<"${NETBED_HOSTS:-db utc time repl app1 app2 cli}"
    read -r -a NB_LINKS <<<"${NETBED_LINKS-app1}"
    NB_RELAY=${NETBED_RELAY:-auto}
    NB_TOOLS=$(realpath -m -- "${TOOLS:-$_NB_REPO/build/san/test}")
    NB_LINKEM=$NB_TOOLS/linkem
    NB_READY=${NETBED_READY_TIMEOUT:-20}
    NB_STOPT=${NETBED_STOP_TIMEOUT:-10}
    NB_LOCKT=${NETBED_LOCK_TIMEOUT:-120}
    NB_PIDS=$NB_DIR/pids
    NB_LOG=$NB_DIR/log
    NB_STATE=$NB_DIR/state
    NB_LINKDIR=$NB_DIR/links
    NB_CHRONY=$NB_DIR/chrony
    NB_SW=${NB_PREFIX}sw
    NB_PG_DIR=$NB_DIR/hosts/db/pg
    # Debian's own socket folder (/run/postgresql inside the db host), so psql and libpq
    # on that host find the server without -h, as on a real database host.
    NB_PG_SOCK=$NB_DIR/hosts/db/run/postgresql
    NB_UTC_DIR=$NB_DIR/hosts/utc/chrony
}

_nb_err() { echo "netbed: $*" >&2; }
_nb_die() { echo "netbed: $*" >&2; exit 1; }
_nb_now_ms() { local t=${EPOCHREALTIME/./}; echo $((10#$t / 1000)); }
_nb_ms() { awk -v s="$1" 'BEGIN { printf "%d", s * 1000 }'; }

_nb_in() { local x=$1 y; shift; for y in "$@"; do [[ $x == "$y" ]] && return 0; done; return 1; }
_nb_is_host() { _nb_in "$1" "${NETBED_ALL_HOSTS[@]}"; }
_nb_is_rpc_host() { _nb_in "$1" "${NETBED_RPC_HOSTS[@]}"; }
_nb_selected() { _nb_in "$1" "${NB_HOSTS[@]}"; }
_nb_has_link() { _nb_in "$1" "${NB_LINKS[@]}"; }

netbed_addr() {
    case ${1:-} in
        db) echo 10.77.0.2 ;; utc) echo 10.77.0.3 ;; time) echo 10.77.0.4 ;;
        repl) echo 10.77.0.5 ;; app1) echo 10.77.0.11 ;; app2) echo 10.77.0.12 ;;
        app3) echo 10.77.0.13 ;; cli) echo 10.77.0.21 ;; sw) echo "$_NB_SW_ADDR" ;;
        *) echo "netbed: unknown host '${1:-}' (hosts: ${NETBED_ALL_HOSTS[*]})" >&2; return 1 ;;
    esac
}

netbed_ns() {
    local NB_PREFIX=${NETBED_PREFIX-bt-}
    case ${1:-} in
        sw) echo "${NB_PREFIX}sw" ;;
        l-*) _nb_is_host "${1#l-}" || { echo "netbed: unknown host '${1#l-}'" >&2; return 1; }
             echo "$NB_PREFIX$1" ;;
        *) _nb_is_host "${1:-}" || { echo "netbed: unknown host '${1:-}' (hosts: ${NETBED_ALL_HOSTS[*]})" >&2; return 1; }
           echo "$NB_PREFIX$1" ;;
    esac
}

netbed_hosts() ( _nb_config; echo "${NB_HOSTS[*]}" )

_nb_ns_exists() { [[ -e /run/netns/$1 ]]; }
_nb_recorded() { [[ -f $NB_DIR/namespaces ]] && grep -qxF -- "$1" "$NB_DIR/namespaces"; }

_nb_check_config() {
    local h
    [[ $NB_PREFIX =~ ^[A-Za-z0-9_.-]+$ ]] || _nb_die "NETBED_PREFIX '$NB_PREFIX' must be letters, digits, _ . - (not empty)"
    ((${#NB_HOSTS[@]})) || _nb_die "NETBED_HOSTS selects no host"
    for h in "${NB_HOSTS[@]}" "${NB_LINKS[@]}"; do
        _nb_is_host "$h" || _nb_die "unknown host '$h' in NETBED_HOSTS/NETBED_LINKS (hosts: ${NETBED_ALL_HOSTS[*]})"
    done
    case $NB_DIR/ in
        /run/*|/var/run/*) _nb_die "NETBED_DIR must not be under /run (every host mounts its own /run): $NB_DIR" ;;
    esac
    case $NB_RELAY in auto|linkem|bridge) ;; *) _nb_die "NETBED_RELAY must be auto, linkem or bridge (not '$NB_RELAY')" ;; esac
}

_nb_need_root() { ((EUID == 0)) || _nb_die "must run as root (network namespaces, mounts, runuser)"; }

_nb_need_cmds() {
    local c missing=()
    for c in "$@"; do
        case $c in
            /*) [[ -x $c ]] || missing+=("$c") ;;
            *) command -v "$c" >/dev/null 2>&1 || missing+=("$c") ;;
        esac
    done
    ((${#missing[@]} == 0)) || _nb_die "missing command(s): ${missing[*]} (scripts/deps installs iproute2, util-linux, rpcbind, chrony, postgresql-15)"
}

_nb_sock_ok() {
    (($(printf %s "$1" | wc -c) <= 107)) || _nb_die "unix socket path longer than 107 bytes: $1 (choose a shorter NETBED_DIR)"
}

# ------------------------------------------------------------------ lock
# One up, down or link at a time per NETBED_DIR. Daemons never inherit the lock's fd
# (_nb_close_fds), so it is released when the (sub)shell holding it ends.
_nb_lock() {
    local f=$NB_DIR/.lock holder
    mkdir -p "$NB_DIR" || _nb_die "cannot create $NB_DIR"
    exec {_NB_LOCK_FD}>>"$f" || _nb_die "cannot open $f"
    if ! flock -n "$_NB_LOCK_FD"; then
        holder=$(cat "$f.holder" 2>/dev/null || true)
        echo "netbed: waiting for ${holder:-another netbed} (lock $f)" >&2
        flock -w "$NB_LOCKT" "$_NB_LOCK_FD" || _nb_die "another netbed (${holder:-unknown}) holds $f for more than ${NB_LOCKT} s"
    fi
    echo "pid $BASHPID: ${_NB_CMD:-netbed}" >"$f.holder"
}

# ------------------------------------------------------------------ processes
_nb_close_fds() {
    local fd n
    for fd in /proc/self/fd/*; do
        n=${fd##*/}
        if ((n > 2)); then eval "exec $n>&-" 2>/dev/null || true; fi
    done
}

# Field 22 of /proc/PID/stat (start time in clock ticks): tells a reused pid apart.
_nb_starttime() {
    local s f
    read -r s 2>/dev/null <"/proc/$1/stat" || return 1
    s=${s##*) }
    read -r -a f <<<"$s"
    echo "${f[19]}"
}

# True while PID runs; a zombie counts as ended (PID 1 reaps late here).
_nb_alive() {
    local s
    [[ $1 =~ ^[0-9]+$ ]] || return 1
    read -r s 2>/dev/null <"/proc/$1/stat" || return 1
    s=${s##*) }
    [[ -n $s && ${s:0:1} != Z && ${s:0:1} != X ]]
}

# Pid of daemon NAME if it still runs (same pid, same start time, not a zombie).
_nb_pid() {
    local name=$1 pid start=""
    [[ -r $NB_PIDS/$name.pid ]] || return 1
    read -r pid <"$NB_PIDS/$name.pid" 2>/dev/null || return 1
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    _nb_alive "$pid" || return 1
    start=$(sed -n 's/^start=//p' "$NB_PIDS/$name.info" 2>/dev/null)
    if [[ -n $start && $start != "$(_nb_starttime "$pid")" ]]; then return 1; fi
    echo "$pid"
}

_nb_info() { sed -n "s/^$2=//p" "$NB_PIDS/$1.info" 2>/dev/null; }

# The command line that runs CMD... inside HOST (sw and l-HOST: network namespace only).
_nb_wrap() {
    local host=$1 ns
    shift
    ns=$(netbed_ns "$host") || return 1
    _nb_ns_exists "$ns" || { _nb_err "host $host is not up (no namespace $ns)"; return 1; }
    case $host in
        sw|l-*) _NB_WRAPPED=(ip netns exec "$ns" "$@") ;;
        *) _NB_WRAPPED=(ip netns exec "$ns" unshare -m --propagation private
                        sh -c "$_NB_MOUNT_SH" "netbed-$host" "$NB_DIR/hosts/$host/run"
                        "$NB_DIR/hosts/$host/hosts" "$@") ;;
    esac
}

# Start CMD... in HOST as daemon NAME: own session, stdin /dev/null, fds > 2 closed,
# output appended to log/NAME.log. Every step execs, so $! is the daemon's pid.
_nb_launch() {
    local host=$1 name=$2 pid log pos
    shift 2
    [[ $name =~ ^[A-Za-z0-9_.@-]+$ ]] || { _nb_err "bad daemon name '$name' (letters, digits, _ . @ -)"; return 1; }
    if pid=$(_nb_pid "$name"); then _nb_err "$name already runs (pid $pid)"; return 1; fi
    _nb_wrap "$host" "$@" || return 1
    mkdir -p "$NB_PIDS" "$NB_LOG" || return 1
    log=$NB_LOG/$name.log
    touch "$log" || return 1
    pos=$(stat -c %s "$log")
    (_nb_close_fds; exec setsid "${_NB_WRAPPED[@]}") </dev/null >>"$log" 2>&1 &
    pid=$!
    echo "$pid" >"$NB_PIDS/$name.pid"
    printf 'host=%s\nstart=%s\nlogpos=%s\ncmd=%s\n' "$host" "$(_nb_starttime "$pid")" "$pos" "$*" \
        >"$NB_PIDS/$name.info"
    _NB_LAUNCHED=$pid
}

# Stop daemons: SIGTERM to all, wait (zombie = ended) up to NB_STOPT s, then SIGKILL.
# One line per daemon; returns 1 if one had to be killed.
_nb_stop_names() {
    local name pid rc=0 deadline
    local -a names=() pids=()
    for name in "$@"; do
        if pid=$(_nb_pid "$name"); then
            kill -TERM "$pid" 2>/dev/null || true
            names+=("$name") pids+=("$pid")
        elif [[ -f $NB_PIDS/$name.pid ]]; then
            echo "$name: not running"
            rm -f "$NB_PIDS/$name.pid" "$NB_PIDS/$name.info"
        else
            echo "$name: not running (no pid file)"
        fi
    done
    deadline=$(($(_nb_now_ms) + $(_nb_ms "$NB_STOPT")))
    local i left
    while :; do
        left=0
        for i in "${!pids[@]}"; do _nb_alive "${pids[i]}" && left=1; done
        ((left)) || break
        (($(_nb_now_ms) < deadline)) || break
        sleep 0.05
    done
    for i in "${!pids[@]}"; do
        if _nb_alive "${pids[i]}"; then
            kill -KILL "${pids[i]}" 2>/dev/null || true
            echo "${names[i]}: did not end within ${NB_STOPT} s of SIGTERM, killed (pid ${pids[i]})"
            rc=1
        else
            echo "${names[i]}: stopped (pid ${pids[i]})"
        fi
        rm -f "$NB_PIDS/${names[i]}.pid" "$NB_PIDS/${names[i]}.info"
    done
    return $rc
}

netbed_exec() (
    _nb_config
    [[ $# -ge 2 ]] || _nb_die "usage: netbed_exec HOST CMD..."
    _nb_wrap "$@" || exit 1
    exec "${_NB_WRAPPED[@]}"
)

netbed_spawn() (
    _nb_config
    [[ $# -ge 3 ]] || _nb_die "usage: netbed_spawn HOST NAME CMD..."
    _nb_launch "$@" || exit 1
    echo "$_NB_LAUNCHED"
)

netbed_stop() (
    _nb_config
    [[ $# -ge 1 ]] || _nb_die "usage: netbed_stop NAME..."
    _nb_stop_names "$@"
)

netbed_pid() ( _nb_config; _nb_pid "${1:?usage: netbed_pid NAME}" )

netbed_log() (
    _nb_config
    local name=${1:?usage: netbed_log NAME} pos
    [[ -f $NB_LOG/$name.log ]] || _nb_die "no log $NB_LOG/$name.log"
    pos=$(_nb_info "$name" logpos)
    [[ $pos =~ ^[0-9]+$ ]] || pos=0
    tail -c +$((pos + 1)) "$NB_LOG/$name.log"
)

# ------------------------------------------------------------------ probes
# One TCP SYN from namespace NS (or host) to ADDR:9: an answer (RST: refused, or an
# accept) means frames pass both ways; silence until TIMEOUT s, or unreachable, means not.
# shellcheck disable=SC2016 # $0 $1 are bash -c's
_nb_probe_once() {
    local from=$1 addr=$2 t=$3 out rc
    if [[ $from == sw || $from == l-* ]]; then
        out=$(nsenter --net="/run/netns/$(netbed_ns "$from")" timeout -k 1 "$t" \
              bash -c ': 3<>"/dev/tcp/$0/$1"' "$addr" "$_NB_PROBE_PORT" 2>&1)
    else
        out=$(netbed_exec "$from" timeout -k 1 "$t" bash -c ': 3<>"/dev/tcp/$0/$1"' "$addr" "$_NB_PROBE_PORT" 2>&1)
    fi
    rc=$?
    ((rc == 0)) || [[ $out == *"Connection refused"* ]]
}

# Poll until a probe FROM -> HOST passes or TIMEOUT s pass; each try waits longer.
# Returns 2 at once if PID (the relay, optional) exits.
_nb_wait_probe() {
    local from=$1 host=$2 timeout=${3:-$NB_READY} pid=${4:-} addr deadline t=0.3
    addr=$(netbed_addr "$host") || return 1
    deadline=$(($(_nb_now_ms) + $(_nb_ms "$timeout")))
    while :; do
        _nb_probe_once "$from" "$addr" "$t" && return 0
        if [[ -n $pid ]] && ! _nb_alive "$pid"; then return 2; fi
        (($(_nb_now_ms) < deadline)) || return 1
        case $t in 0.3) t=0.6 ;; 0.6) t=1 ;; *) t=2 ;; esac
        sleep 0.02
    done
}

netbed_probe() (
    _nb_config
    local from=${1:?usage: netbed_probe FROM HOST [TIMEOUT_S]} host=${2:?usage: netbed_probe FROM HOST [TIMEOUT_S]}
    _nb_probe_once "$from" "$(netbed_addr "$host")" "${3:-1}"
)

# N round trips of a TCP connect (SYN -> RST/SYN-ACK) FROM -> HOST, in ms, one a line.
netbed_rtt() (
    _nb_config
    local from=${1:?usage: netbed_rtt FROM HOST [N]} host=${2:?usage: netbed_rtt FROM HOST [N]} n=${3:-5} addr
    addr=$(netbed_addr "$host") || exit 1
    # shellcheck disable=SC2016
    local script='for ((i = 0; i < $2; i++)); do
        t0=$EPOCHREALTIME; { : 3<>"/dev/tcp/$0/$1"; } 2>/dev/null; t1=$EPOCHREALTIME
        echo $(( (10#${t1/./} - 10#${t0/./}) )); done'
    if [[ $from == sw || $from == l-* ]]; then
        nsenter --net="/run/netns/$(netbed_ns "$from")" timeout -k 1 30 bash -c "$script" "$addr" "$_NB_PROBE_PORT" "$n"
    else
        netbed_exec "$from" timeout -k 1 30 bash -c "$script" "$addr" "$_NB_PROBE_PORT" "$n"
    fi | awk '{ printf "%.3f\n", $1 / 1000 }'
)

# Poll CMD... every 50 ms until it succeeds; 1 if PID (may be empty) dies or TIMEOUT passes.
_nb_poll() {
    local timeout=$1 pid=$2 deadline
    shift 2
    deadline=$(($(_nb_now_ms) + $(_nb_ms "$timeout")))
    while :; do
        "$@" >/dev/null 2>&1 && return 0
        if [[ -n $pid ]] && ! _nb_alive "$pid"; then return 2; fi
        (($(_nb_now_ms) < deadline)) || return 1
        sleep 0.05
    done
}

_nb_show_log() {
    local name=$1 log=$NB_LOG/$1.log pos
    pos=$(_nb_info "$name" logpos)
    [[ $pos =~ ^[0-9]+$ ]] || pos=0
    if [[ -s $log ]]; then
        echo "---- last lines of $log" >&2
        tail -c +$((pos + 1)) "$log" | tail -n 15 >&2
        echo "----" >&2
    fi
}

# ------------------------------------------------------------------ network
_nb_ns_add() {
    local ns=$1
    if _nb_ns_exists "$ns"; then
        _nb_recorded "$ns" && return 0
        _nb_die "namespace $ns exists but this netbed ($NB_DIR) did not create it (another NETBED_DIR with prefix '$NB_PREFIX'?)"
    fi
    ip netns add "$ns" || _nb_die "ip netns add $ns failed"
    echo "$ns" >>"$NB_DIR/namespaces"
    ip -n "$ns" link set lo up || _nb_die "$ns: lo up failed"
    # No IPv6 on the bed's interfaces (lo keeps ::1): no router solicitations, DAD or MLD
    # frames through the emulated links.
    ip netns exec "$ns" sh -c 'echo 1 >/proc/sys/net/ipv6/conf/default/disable_ipv6' 2>/dev/null || true
}

_nb_link_exists() { ip -n "$1" link show dev "$2" >/dev/null 2>&1; }

# NS DEV ADDR/LEN: add the address unless DEV has it already.
_nb_ensure_addr() {
    ip -n "$1" -4 -o addr show dev "$2" 2>/dev/null | grep -q " ${3%/*}/" && return 0
    ip -n "$1" addr add "$3" dev "$2" || _nb_die "$1: cannot add $3 to $2"
}

_nb_switch_up() {
    _nb_ns_add "$NB_SW"
    if ! _nb_link_exists "$NB_SW" br0; then
        ip -n "$NB_SW" link add br0 type bridge stp_state 0 forward_delay 0 ||
            _nb_die "$NB_SW: cannot create bridge br0"
    fi
    _nb_ensure_addr "$NB_SW" br0 "$_NB_SW_ADDR/24"
    ip -n "$NB_SW" link set br0 up || _nb_die "$NB_SW: br0 up failed"
}

_nb_write_hosts() {
    local file=$1 h
    {
        echo "# written by test/netbed/netbed.sh"
        echo "127.0.0.1 localhost"
        echo "::1 localhost ip6-localhost ip6-loopback"
        for h in "${NETBED_ALL_HOSTS[@]}"; do echo "$(netbed_addr "$h") $h"; done
    } >"$file.tmp" && mv -f "$file.tmp" "$file"
}

_nb_host_net_up() {
    local h=$1 ns=$NB_PREFIX$1 mode want addr ln=${NB_PREFIX}l-$1
    want=direct
    _nb_has_link "$h" && want="link"
    mode=$(cat "$NB_STATE/$h.mode" 2>/dev/null || true)
    if [[ -n $mode && $mode != "$want" ]] && _nb_ns_exists "$ns"; then
        _nb_die "$h is up as a $mode host but NETBED_LINKS asks for $want: netbed down first"
    fi
    mkdir -p "$NB_DIR/hosts/$h/run" && chmod 755 "$NB_DIR/hosts/$h" "$NB_DIR/hosts/$h/run"
    _nb_write_hosts "$NB_DIR/hosts/$h/hosts" || _nb_die "cannot write $NB_DIR/hosts/$h/hosts"
    _nb_ns_add "$ns"
    addr=$(netbed_addr "$h")
    if ! _nb_link_exists "$ns" eth0; then
        if [[ $want == direct ]]; then
            ip link add eth0 netns "$ns" type veth peer name "port-$h" netns "$NB_SW" ||
                _nb_die "$h: cannot create veth eth0 <-> $NB_SW:port-$h"
        else
            _nb_ns_add "$ln"
            ip link add eth0 netns "$ns" type veth peer name ha netns "$ln" ||
                _nb_die "$h: cannot create veth eth0 <-> $ln:ha"
        fi
    fi
    _nb_ensure_addr "$ns" eth0 "$addr/24"
    if [[ $want == link ]]; then
        _nb_ns_add "$ln"
        if ! _nb_link_exists "$ln" sw; then
            ip link add sw netns "$ln" type veth peer name "port-$h" netns "$NB_SW" ||
                _nb_die "$h: cannot create veth $ln:sw <-> $NB_SW:port-$h"
        fi
        ip -n "$ln" link set ha up && ip -n "$ln" link set sw up || _nb_die "$ln: link up failed"
    fi
    ip -n "$NB_SW" link set "port-$h" master br0 || _nb_die "$h: cannot attach port-$h to br0"
    ip -n "$NB_SW" link set "port-$h" up || _nb_die "$h: port-$h up failed"
    ip -n "$ns" link set eth0 up || _nb_die "$h: eth0 up failed"
    echo "$want" >"$NB_STATE/$h.mode"
}

# The relay of a link host: linkem with OPTS (recorded), or a bridge when linkem is not
# built and NETBED_RELAY allows it.
_nb_relay_start() {
    local h=$1 ln=${NB_PREFIX}l-$1 use
    shift
    use=$NB_RELAY
    if [[ $use == auto ]]; then
        if [[ -x $NB_LINKEM ]]; then use=linkem; else use=bridge; fi
    fi
    local why="linkem not built at $NB_LINKEM (make SAN=1 tools)"
    [[ $NB_RELAY == bridge ]] && why="NETBED_RELAY=bridge"
    if [[ $use == bridge && $# -gt 0 ]]; then
        _nb_die "link $h: options ($*) need linkem; $why"
    fi
    if [[ $use == linkem ]]; then
        [[ -x $NB_LINKEM ]] || _nb_die "linkem not built: $NB_LINKEM (make SAN=1 tools, or NETBED_RELAY=bridge)"
        if _nb_link_exists "$ln" relay; then ip -n "$ln" link del relay || _nb_die "$ln: cannot remove bridge relay"; fi
        mkdir -p "$NB_LINKDIR"
        printf '%s\n' "$*" >"$NB_LINKDIR/$h.opts"
        _nb_launch "l-$h" "linkem-$h" "$NB_LINKEM" --a ha --b sw "$@" --stats-file "$NB_LINKDIR/$h.stats" || exit 1
        echo "linkem" >"$NB_STATE/$h.relay"
    else
        if ! _nb_link_exists "$ln" relay; then
            ip -n "$ln" link add relay type bridge stp_state 0 forward_delay 0 &&
                ip -n "$ln" link set ha master relay && ip -n "$ln" link set sw master relay &&
                ip -n "$ln" link set relay up || _nb_die "$ln: bridge relay failed"
        fi
        echo "bridge" >"$NB_STATE/$h.relay"
        echo "(bridge)" >"$NB_LINKDIR/$h.opts"
        echo "netbed: warning: $h's link is a plain bridge: $why" >&2
    fi
}

# At up: a link host's relay runs (a bridge relay is replaced by linkem once it is built).
_nb_relay_ensure() {
    local h=$1
    _nb_pid "linkem-$h" >/dev/null && return 0
    if [[ $(cat "$NB_STATE/$h.relay" 2>/dev/null) == bridge ]] && _nb_link_exists "${NB_PREFIX}l-$h" relay; then
        [[ $NB_RELAY != bridge && -x $NB_LINKEM ]] || return 0
    fi
    _nb_relay_start "$h"
}

# ------------------------------------------------------------------ daemons
_nb_rpcbind_answers() { netbed_exec "$1" timeout -k 1 5 rpcinfo -p 127.0.0.1 >/dev/null 2>&1; }

_nb_other_host() {
    local h
    for h in time app1 app2 app3 repl utc cli; do
        [[ $h != "$1" ]] && _nb_ns_exists "$NB_PREFIX$h" && { echo "$h"; return 0; }
    done
    echo "$1"
}

_nb_pg_answers() {
    netbed_exec "$(_nb_other_host db)" timeout -k 1 5 "$_NB_PG_BIN/pg_isready" -q -h "$(netbed_addr db)" -p "$_NB_PG_PORT" >/dev/null 2>&1
}

_nb_chronyc() { local dir=$1; shift; timeout -k 1 5 chronyc -h "$dir/chronyd.sock" "$@"; }
_nb_chrony_answers() { [[ -S $1/chronyd.sock ]] && _nb_chronyc "$1" tracking >/dev/null 2>&1; }

_nb_check_traversable() {
    local user=$1 dir=$2 d="" part
    local IFS=/
    for part in $dir; do
        [[ -z $part ]] && continue
        d=$d/$part
        runuser -u "$user" -- test -x "$d" 2>/dev/null ||
            _nb_die "user $user cannot enter $d: chmod o+x it, or choose a NETBED_DIR whose parents are traversable"
    done
}

_nb_rpcbind_start() {
    local h=$1 pid
    if pid=$(_nb_pid "rpcbind-$h"); then return 0; fi
    rm -f "$NB_DIR/hosts/$h/run/rpcbind.sock" "$NB_DIR/hosts/$h/run/rpcbind.lock"
    _nb_launch "$h" "rpcbind-$h" rpcbind -f || exit 1
}

_nb_pg_start() {
    local log=$NB_LOG/postgres.log
    _nb_sock_ok "$NB_PG_SOCK/.s.PGSQL.$_NB_PG_PORT.lock"
    mkdir -p "$NB_LOG" "$NB_PG_SOCK" && touch "$log" && chown postgres: "$log" "$NB_PG_SOCK" || _nb_die "postgres: cannot prepare $log, $NB_PG_SOCK"
    _nb_check_traversable postgres "$NB_PG_SOCK"
    _nb_pg_pid >/dev/null && return 0
    # pg.initialised is written once initdb and the configuration are complete: an up
    # interrupted during initdb starts over.
    if [[ ! -f $NB_DIR/hosts/db/pg.initialised ]]; then
        rm -rf "$NB_PG_DIR" && mkdir -p "$NB_PG_DIR" && chmod 700 "$NB_PG_DIR" && chown postgres: "$NB_PG_DIR" ||
            _nb_die "postgres: cannot create $NB_PG_DIR"
        if ! (_nb_close_fds; exec runuser -u postgres -- "$_NB_PG_BIN/initdb" -D "$NB_PG_DIR" -U postgres -N \
                -E UTF8 --locale=C.UTF-8 --auth-local=peer --auth-host=scram-sha-256) >>"$log" 2>&1 </dev/null; then
            tail -n 15 "$log" >&2
            _nb_die "postgres: initdb failed (log $log)"
        fi
        cat >"$NB_PG_DIR/pg_hba.conf" <<EOF
# written by test/netbed/netbed.sh
# TYPE  DATABASE USER     ADDRESS        METHOD
local   all      postgres                peer
host    all      all      $_NB_SUBNET  scram-sha-256
EOF
        cat >>"$NB_PG_DIR/postgresql.conf" <<EOF

# ---- written by test/netbed/netbed.sh
listen_addresses = '$(netbed_addr db)'
port = $_NB_PG_PORT
unix_socket_directories = '$NB_PG_SOCK'
password_encryption = scram-sha-256
EOF
        chown postgres: "$NB_PG_DIR/pg_hba.conf" "$NB_PG_DIR/postgresql.conf"
        date -u +%FT%TZ >"$NB_DIR/hosts/db/pg.initialised"
    fi
    # -W: do not wait here; _nb_up waits for pg_isready from another host.
    _nb_wrap db runuser -u postgres -- "$_NB_PG_BIN/pg_ctl" -D "$NB_PG_DIR" -l "$log" -W start || exit 1
    if ! (_nb_close_fds; exec "${_NB_WRAPPED[@]}") </dev/null >>"$log" 2>&1; then
        tail -n 15 "$log" >&2
        _nb_die "postgres: pg_ctl start failed (log $log)"
    fi
    # The postmaster writes its pid file at once; no pid file within 5 s: it failed.
    _nb_poll 5 "" _nb_pg_pid || { tail -n 15 "$log" >&2; _nb_die "postgres did not start (log $log)"; }
}

_nb_pg_pid() {
    local pid
    pid=$(head -n 1 "$NB_PG_DIR/postmaster.pid" 2>/dev/null) || return 1
    [[ $pid =~ ^[0-9]+$ ]] && _nb_alive "$pid" && echo "$pid"
}

_nb_pg_stop() {
    local pid
    [[ -f $NB_PG_DIR/PG_VERSION ]] || return 0
    pid=$(_nb_pg_pid) || { echo "postgres: not running"; return 0; }
    if runuser -u postgres -- "$_NB_PG_BIN/pg_ctl" -D "$NB_PG_DIR" -m fast -w -t "$NB_STOPT" stop >/dev/null 2>&1; then
        echo "postgres: stopped (pid $pid)"
        return 0
    fi
    runuser -u postgres -- "$_NB_PG_BIN/pg_ctl" -D "$NB_PG_DIR" -m immediate -w -t 10 stop >/dev/null 2>&1 || true
    echo "postgres: fast shutdown timed out, stopped with -m immediate (pid $pid)"
    return 1
}

# A chronyd folder: _chrony must own it (chronyd drops privileges and checks it).
_nb_chrony_dir() {
    local dir=$1
    _nb_sock_ok "$dir/chronyc.4194304.sock"
    install -d -o _chrony -g _chrony -m 770 "$dir" && chown _chrony:_chrony "$dir" && chmod 770 "$dir" ||
        _nb_die "cannot create $dir for _chrony"
    _nb_check_traversable _chrony "$dir"
    rm -f "$dir/chronyd.sock" "$dir/chronyd.pid"
}

_nb_utc_start() {
    local dir=$NB_UTC_DIR
    if _nb_pid chronyd-utc >/dev/null; then return 0; fi
    _nb_chrony_dir "$dir"
    cat >"$dir/chrony.conf" <<EOF
# written by test/netbed/netbed.sh: the UTC (NTP) server of the bed, serving the kernel
# clock every namespace shares; -x: never touches it.
port 123
bindaddress $(netbed_addr utc)
local stratum 8
allow $_NB_SUBNET
cmdport 0
bindcmdaddress $dir/chronyd.sock
pidfile $dir/chronyd.pid
EOF
    _nb_launch utc chronyd-utc chronyd -4 -d -x -f "$dir/chrony.conf" || exit 1
}

# ------------------------------------------------------------------ up / down / status
_nb_up() {
    local h t0 ms pid rc fail=0
    t0=$(_nb_now_ms)
    _nb_need_root
    _nb_check_config
    local cmds=(ip unshare nsenter flock mount runuser setsid timeout ps awk)
    _nb_selected db && cmds+=("$_NB_PG_BIN/postgres" "$_NB_PG_BIN/initdb" "$_NB_PG_BIN/pg_ctl" "$_NB_PG_BIN/pg_isready")
    _nb_selected utc && cmds+=(chronyd chronyc)
    for h in "${NB_HOSTS[@]}"; do _nb_is_rpc_host "$h" && { cmds+=(rpcbind rpcinfo); break; }; done
    _nb_need_cmds "${cmds[@]}"
    # Unix socket paths (sun_path: 107 bytes), before anything is created.
    _nb_selected db && _nb_sock_ok "$NB_PG_SOCK/.s.PGSQL.$_NB_PG_PORT.lock"
    _nb_selected utc && _nb_sock_ok "$NB_UTC_DIR/chronyc.4194304.sock"
    mkdir -p "$NB_DIR" "$NB_PIDS" "$NB_LOG" "$NB_STATE" "$NB_LINKDIR" "$NB_DIR/hosts" || _nb_die "cannot create $NB_DIR"
    chmod o+x "$NB_DIR" "$NB_DIR/hosts" "$NB_LOG"
    touch "$NB_DIR/namespaces"

    _nb_switch_up
    for h in "${NB_HOSTS[@]}"; do _nb_host_net_up "$h"; done

    # Daemons: start everything, then wait for all of it.
    for h in "${NB_HOSTS[@]}"; do
        _nb_has_link "$h" && _nb_relay_ensure "$h"
    done
    for h in "${NB_HOSTS[@]}"; do
        _nb_is_rpc_host "$h" && _nb_rpcbind_start "$h"
    done
    _nb_selected utc && _nb_utc_start
    _nb_selected db && _nb_pg_start

    for h in "${NB_HOSTS[@]}"; do
        if _nb_has_link "$h"; then
            pid=$(_nb_pid "linkem-$h") || pid=""
            _nb_wait_probe sw "$h" "$NB_READY" "$pid"; rc=$?
            if ((rc)); then
                _nb_err "$h: $( ((rc == 2)) && echo "linkem exited" || echo "no frames pass its link within ${NB_READY} s (probe from the switch)")"
                [[ -n $pid ]] && _nb_show_log "linkem-$h"
                fail=1
            fi
        else
            _nb_wait_probe sw "$h" || { _nb_err "$h: unreachable from the switch within ${NB_READY} s"; fail=1; }
        fi
    done
    for h in "${NB_HOSTS[@]}"; do
        _nb_is_rpc_host "$h" || continue
        pid=$(_nb_pid "rpcbind-$h") || pid=""
        _nb_poll "$NB_READY" "$pid" _nb_rpcbind_answers "$h"; rc=$?
        if ((rc)); then
            _nb_err "rpcbind on $h $( ((rc == 2)) && echo "exited" || echo "did not answer rpcinfo -p 127.0.0.1 within ${NB_READY} s")"
            _nb_show_log "rpcbind-$h"; fail=1
        fi
    done
    if _nb_selected utc; then
        pid=$(_nb_pid chronyd-utc) || pid=""
        _nb_poll "$NB_READY" "$pid" _nb_chrony_answers "$NB_UTC_DIR"; rc=$?
        if ((rc)); then
            _nb_err "chronyd on utc $( ((rc == 2)) && echo "exited" || echo "did not answer chronyc tracking within ${NB_READY} s")"
            _nb_show_log chronyd-utc; fail=1
        fi
    fi
    if _nb_selected db; then
        pid=$(_nb_pg_pid) || pid=""
        _nb_poll "$NB_READY" "$pid" _nb_pg_answers; rc=$?
        if ((rc)); then
            _nb_err "postgres $( ((rc == 2)) && echo exited || echo "did not answer pg_isready -h $(netbed_addr db) from $(_nb_other_host db) within ${NB_READY} s")"
            tail -n 15 "$NB_LOG/postgres.log" >&2; fail=1
        else
            _nb_pg_pid >"$NB_PIDS/postgres.pid" || true
        fi
    fi
    ((fail)) && _nb_die "up failed (what started is still up: netbed down stops it)"
    ms=$(($(_nb_now_ms) - t0))
    local linked=()
    for h in "${NB_HOSTS[@]}"; do _nb_has_link "$h" && linked+=("$h"); done
    echo "netbed: up in $((ms / 1000)).$(printf %03d $((ms % 1000))) s: ${NB_HOSTS[*]}${linked[*]:+ (links: ${linked[*]})}"
}

netbed_up() ( _NB_CMD="up"; _nb_config; _nb_need_root; _nb_lock; _nb_up )

_nb_down() {
    local rc=0 name f ns pids pid chrony=() users=() rpcb=() links=() t0 ms
    t0=$(_nb_now_ms)
    _nb_need_root
    # Daemons by kind: the caller's first, chronyds, then rpcbinds and links last.
    if [[ -d $NB_PIDS ]]; then
        for f in "$NB_PIDS"/*.pid; do
            [[ -e $f ]] || continue
            name=$(basename "$f" .pid)
            case $name in
                postgres) ;;
                rpcbind-*) rpcb+=("$name") ;;
                linkem-*) links+=("$name") ;;
                chronyd-utc) chrony+=("$name") ;;
                *) if [[ -d $NB_CHRONY/$name ]]; then chrony+=("$name"); else users+=("$name"); fi ;;
            esac
        done
    fi
    ((${#users[@]})) && { _nb_stop_names "${users[@]}" || rc=1; }
    ((${#chrony[@]})) && { _nb_stop_names "${chrony[@]}" || rc=1; }
    _nb_pg_stop || rc=1
    rm -f "$NB_PIDS/postgres.pid"
    ((${#rpcb[@]})) && { _nb_stop_names "${rpcb[@]}" || rc=1; }
    ((${#links[@]})) && { _nb_stop_names "${links[@]}" || rc=1; }
    # Anything else still in a namespace this netbed created was started in it through
    # netbed_exec: end it too, by pid, so that the namespace really goes.
    if [[ -f $NB_DIR/namespaces ]]; then
        local left=()
        while read -r ns; do
            [[ -n $ns ]] && _nb_ns_exists "$ns" || continue
            for pid in $(ip netns pids "$ns" 2>/dev/null); do
                [[ $pid == "$$" || $pid == "$BASHPID" ]] && continue
                echo "leftover process in $ns: pid $pid ($(ps -o args= -p "$pid" 2>/dev/null | cut -c1-60)), SIGTERM"
                kill -TERM "$pid" 2>/dev/null && left+=("$pid")
            done
        done <"$NB_DIR/namespaces"
        if ((${#left[@]})); then
            local deadline i alive
            deadline=$(($(_nb_now_ms) + $(_nb_ms "$NB_STOPT")))
            while :; do
                alive=0
                for i in "${left[@]}"; do _nb_alive "$i" && alive=1; done
                ((alive)) && (($(_nb_now_ms) < deadline)) || break
                sleep 0.05
            done
            for i in "${left[@]}"; do
                _nb_alive "$i" && { kill -KILL "$i" 2>/dev/null; echo "pid $i: killed"; rc=1; }
            done
        fi
        # Namespaces, in reverse order of creation.
        local nss=()
        mapfile -t nss < <(tac "$NB_DIR/namespaces")
        for ns in "${nss[@]}"; do
            [[ -n $ns ]] || continue
            if _nb_ns_exists "$ns"; then
                if ip netns del "$ns"; then echo "namespace $ns: deleted"; else echo "namespace $ns: ip netns del failed"; rc=1; fi
            fi
        done
        # Keep in the record only what could not be deleted (the next down tries again).
        local keep=()
        for ns in "${nss[@]}"; do [[ -n $ns ]] && _nb_ns_exists "$ns" && keep+=("$ns"); done
        if ((${#keep[@]})); then printf '%s\n' "${keep[@]}" >"$NB_DIR/namespaces"; else rm -f "$NB_DIR/namespaces"; fi
    fi
    rm -rf "$NB_STATE" "$NB_LINKDIR"/*.opts
    local h
    for h in "${NETBED_ALL_HOSTS[@]}"; do
        [[ -d $NB_DIR/hosts/$h/run ]] && find "$NB_DIR/hosts/$h/run" -mindepth 1 -delete 2>/dev/null
    done
    [[ -d $NB_DIR/hosts/utc/chrony ]] && rm -f "$NB_DIR/hosts/utc/chrony/chronyd.sock" "$NB_DIR/hosts/utc/chrony/chronyd.pid"
    if [[ ${1:-} == --purge ]]; then
        rm -rf "$NB_DIR/hosts" "$NB_CHRONY" "$NB_LOG" "$NB_PIDS" "$NB_LINKDIR" "$NB_DIR/.lock.holder"
        echo "purged $NB_DIR (PostgreSQL data, chrony folders, logs)"
    fi
    ms=$(($(_nb_now_ms) - t0))
    echo "netbed: down in $((ms / 1000)).$(printf %03d $((ms % 1000))) s"
    return $rc
}

netbed_down() (
    _NB_CMD="down"; _nb_config
    case ${1:-} in ""|--purge) ;; *) _nb_die "usage: netbed_down [--purge]" ;; esac
    _nb_need_root
    [[ -d $NB_DIR ]] || { echo "netbed: nothing in $NB_DIR"; exit 0; }
    _nb_lock
    _nb_down "$@"
)

netbed_status() (
    _nb_config
    local h ns mode port state rc=0 name pid f what host
    echo "netbed: $NB_DIR (prefix '$NB_PREFIX')"
    if [[ ! -s $NB_DIR/namespaces ]]; then echo "nothing is up"; exit 1; fi
    printf '%-6s %-12s %-12s %-8s %-6s %s\n' HOST NAMESPACE ADDRESS LINK PORT RELAY
    for h in "${NETBED_ALL_HOSTS[@]}"; do
        ns=$NB_PREFIX$h
        _nb_ns_exists "$ns" || continue
        mode=$(cat "$NB_STATE/$h.mode" 2>/dev/null || echo '?')
        port=$(ip -n "$NB_SW" -o link show dev "port-$h" 2>/dev/null)
        port=${port#*<}; port=${port%%>*}
        if [[ -z $port ]]; then state=none; elif [[ ,$port, == *,UP,* ]]; then state=up; else state=down; fi
        what=-
        if [[ $mode == link ]]; then
            if [[ $(cat "$NB_STATE/$h.relay" 2>/dev/null) == bridge ]]; then what="bridge (no linkem)"
            elif pid=$(_nb_pid "linkem-$h"); then
                what=$(cat "$NB_LINKDIR/$h.opts" 2>/dev/null)
                what="linkem pid $pid: ${what:-(no options)}"
            else what="linkem NOT RUNNING"; rc=1; fi
        fi
        printf '%-6s %-12s %-12s %-8s %-6s %s\n' "$h" "$ns" "$(netbed_addr "$h")" "$mode" "$state" "$what"
    done
    printf '%-16s %-6s %-8s %s\n' DAEMON HOST PID STATE
    for f in "$NB_PIDS"/*.pid; do
        [[ -e $f ]] || continue
        name=$(basename "$f" .pid)
        [[ $name == postgres ]] && continue
        host=$(_nb_info "$name" host)
        if pid=$(_nb_pid "$name"); then
            state=running
            case $name in
                rpcbind-*) if _nb_rpcbind_answers "${name#rpcbind-}"; then state=answers; else state="not answering"; rc=1; fi ;;
                chronyd-utc) if _nb_chrony_answers "$NB_UTC_DIR"; then state=answers; else state="not answering"; rc=1; fi ;;
                *) [[ -d $NB_CHRONY/$name ]] && { if _nb_chrony_answers "$NB_CHRONY/$name"; then state=answers; else state="not answering"; rc=1; fi; } ;;
            esac
        else
            pid=- state="not running"; rc=1
        fi
        printf '%-16s %-6s %-8s %s\n' "$name" "$host" "$pid" "$state"
    done
    if [[ -f $NB_PG_DIR/PG_VERSION ]]; then
        if pid=$(_nb_pg_pid); then
            if _nb_pg_answers; then state=answers; else state="not answering"; rc=1; fi
        else pid=- state="not running"; _nb_ns_exists "${NB_PREFIX}db" && rc=1; fi
        printf '%-16s %-6s %-8s %s\n' postgres db "$pid" "$state"
    fi
    exit $rc
)

# ------------------------------------------------------------------ links
_nb_need_link_host() {
    local h=$1
    _nb_is_host "$h" || _nb_die "unknown host '$h'"
    _nb_ns_exists "${NB_PREFIX}l-$h" || _nb_die "$h has no emulated link (NETBED_LINKS when it was brought up: $(cat "$NB_STATE"/*.mode 2>/dev/null | paste -sd' ' -))"
}

netbed_link() (
    _NB_CMD="link $*"; _nb_config; _nb_need_root
    local wait=1
    [[ ${1:-} == --no-wait ]] && { wait=0; shift; }
    local h=${1:-}
    [[ -n $h ]] || _nb_die "usage: netbed_link [--no-wait] HOST [LINKEM OPTIONS...]"
    shift
    _nb_need_link_host "$h"
    _nb_lock
    if [[ -f $NB_PIDS/linkem-$h.pid ]]; then _nb_stop_names "linkem-$h" >/dev/null || true; fi
    _nb_relay_start "$h" "$@"
    local pid rc
    pid=$(_nb_pid "linkem-$h") || pid=""
    if ((wait)); then
        _nb_wait_probe sw "$h" "$NB_READY" "$pid"; rc=$?
        if ((rc)); then
            [[ -n $pid ]] && _nb_show_log "linkem-$h"
            ((rc == 2)) && _nb_die "link $h: linkem exited${*:+ (options: $*)}"
            _nb_die "link $h: no frames pass within ${NB_READY} s${*:+ with $*}"
        fi
    elif [[ -n $pid ]]; then
        _nb_alive "$pid" || { _nb_show_log "linkem-$h"; _nb_die "link $h: linkem exited"; }
    fi
    echo "link $h: ${pid:+linkem pid }${pid:-bridge relay}${*:+, $*}"
)

# Ask HOST's linkem for its stats (SIGUSR1) and print the lines it appended.
netbed_link_stats() (
    _nb_config
    local h=${1:?usage: netbed_link_stats HOST} pid f size deadline
    pid=$(_nb_pid "linkem-$h") || _nb_die "no linkem runs for $h"
    f=$NB_LINKDIR/$h.stats
    size=$(stat -c %s "$f" 2>/dev/null || echo 0)
    kill -USR1 "$pid" || _nb_die "cannot signal linkem-$h (pid $pid)"
    deadline=$(($(_nb_now_ms) + 5000))
    # Both directions: wait for the "ba" line that follows the "ab" one.
    until tail -c +$((size + 1)) "$f" 2>/dev/null | grep -q 'linkem ba'; do
        (($(_nb_now_ms) < deadline)) || _nb_die "linkem-$h wrote no stats to $f within 5 s"
        sleep 0.02
    done
    tail -c +$((size + 1)) "$f"
)

netbed_unplug() (
    _nb_config; _nb_need_root
    local h=${1:?usage: netbed_unplug HOST}
    _nb_is_host "$h" || _nb_die "unknown host '$h'"
    ip -n "$NB_SW" link set "port-$h" down || _nb_die "unplug $h: no port-$h in $NB_SW"
)

netbed_plug() (
    _nb_config; _nb_need_root
    local wait=1
    [[ ${1:-} == --no-wait ]] && { wait=0; shift; }
    local h=${1:?usage: netbed_plug [--no-wait] HOST}
    _nb_is_host "$h" || _nb_die "unknown host '$h'"
    ip -n "$NB_SW" link set "port-$h" up || _nb_die "plug $h: no port-$h in $NB_SW"
    if ((wait)); then
        _nb_wait_probe sw "$h" || _nb_die "plug $h: still unreachable after ${NB_READY} s"
    fi
)

# ------------------------------------------------------------------ PostgreSQL
netbed_psql() (
    _nb_config
    # From /: the caller's folder may be closed to postgres (psql would say so).
    _nb_wrap db runuser -u postgres -- env --chdir=/ "$_NB_PG_BIN/psql" -X -h "$NB_PG_SOCK" -p "$_NB_PG_PORT" -U postgres "$@" || exit 1
    exec "${_NB_WRAPPED[@]}"
)

# ------------------------------------------------------------------ chrony references
netbed_chrony_client() (
    _nb_config; _nb_need_root
    local h=${1:-} name=${2:-} server=${3:-} poll=${4:-1} dir pid rc
    [[ -n $h && -n $name && -n $server ]] || _nb_die "usage: netbed_chrony_client HOST NAME SERVER_ADDR [POLL]"
    [[ $poll =~ ^-?[0-9]+$ ]] || _nb_die "POLL must be an integer (log2 s), not '$poll'"
    _nb_need_cmds chronyd chronyc
    case $name in rpcbind-*|linkem-*|chronyd-utc|postgres) _nb_die "name $name is reserved" ;; esac
    dir=$NB_CHRONY/$name
    _nb_pid "$name" >/dev/null && _nb_die "$name already runs (pid $(_nb_pid "$name"))"
    mkdir -p "$NB_CHRONY" && chmod o+x "$NB_CHRONY"
    _nb_chrony_dir "$dir"
    cat >"$dir/chrony.conf" <<EOF
# written by test/netbed/netbed.sh: a reference chrony client on $h ("chrony on the same
# link"); -x: it never touches the kernel clock, so "System time" in its tracking is its
# own error (every namespace shares that one clock).
server $server iburst minpoll $poll maxpoll $poll
port 0
cmdport 0
bindcmdaddress $dir/chronyd.sock
pidfile $dir/chronyd.pid
logdir $dir
log measurements statistics tracking
EOF
    rm -f "$dir"/*.log
    _nb_launch "$h" "$name" chronyd -4 -d -x -f "$dir/chrony.conf" || exit 1
    pid=$_NB_LAUNCHED
    _nb_poll "$NB_READY" "$pid" _nb_chrony_answers "$dir"; rc=$?
    if ((rc)); then
        _nb_show_log "$name"
        _nb_die "chrony client $name on $h $( ((rc == 2)) && echo exited || echo "did not answer within ${NB_READY} s")"
    fi
    echo "$pid"
)

netbed_chronyc() (
    _nb_config
    local name=${1:?usage: netbed_chronyc NAME CHRONYC-COMMAND...}
    shift
    local dir=$NB_CHRONY/$name
    [[ $name == chronyd-utc || $name == utc ]] && dir=$NB_UTC_DIR
    [[ -S $dir/chronyd.sock ]] || _nb_die "no chronyd $name (no socket $dir/chronyd.sock)"
    _nb_chronyc "$dir" "$@"
)

netbed_chrony_tracking() { netbed_chronyc "${1:?usage: netbed_chrony_tracking NAME}" tracking; }

# chrony's error now, in seconds: its NTP clock minus the true time. With -x chronyd never
# corrects the kernel clock, which every namespace shares and the server serves, so
# "System time: X seconds slow of NTP time" (NTP clock = kernel + X) is an error of +X,
# "fast" one of -X. Fails while it is not synchronised.
netbed_chrony_error() (
    local out
    out=$(netbed_chronyc "${1:?usage: netbed_chrony_error NAME}" tracking) || exit 1
    grep -q '^Leap status *: Not synchronised' <<<"$out" && { echo "netbed: $1 is not synchronised" >&2; exit 1; }
    awk '/^System time/ { v = $4; if ($6 == "fast") v = -v; printf "%+.9f\n", v; f = 1 } END { exit !f }' <<<"$out"
)

# ------------------------------------------------------------------ CLI
_nb_usage() {
    cat <<'EOF'
usage: test/netbed/netbed.sh COMMAND [ARGS]   (as root; `source` it for the functions)
  up                         create the selected hosts, links and daemons; returns when all answer
  down [--purge]             stop what it started, delete its namespaces (--purge: also data, logs)
  status                     namespaces, links, daemons; exit 0 only if all run and answer
  exec HOST CMD...           run CMD inside HOST (sw, l-HOST: network namespace only)
  spawn HOST NAME CMD...     run CMD inside HOST as daemon NAME (prints its pid)
  stop NAME...               stop daemons (SIGTERM, then SIGKILL after NETBED_STOP_TIMEOUT s)
  pid NAME | log NAME        pid of a running daemon | its output since it was started
  addr HOST | ns HOST | hosts
  psql [ARGS...]             psql as postgres inside db (unix socket, peer)
  link [--no-wait] HOST [LINKEM OPTIONS...]   restart HOST's linkem with these options
  link-stats HOST            linkem's per-direction stats now (SIGUSR1)
  unplug HOST | plug [--no-wait] HOST         HOST's switch port down | up
  probe FROM HOST [TIMEOUT]  exit 0 if a TCP SYN from FROM (a host or sw) to HOST is answered
  rtt FROM HOST [N]          N TCP connect round trips, ms
  chrony-client HOST NAME SERVER [POLL]   a reference chronyd (-x) in HOST (poll 2^POLL s, default 1)
  chrony-tracking NAME | chronyc NAME CMD...
  chrony-error NAME          its error now, s (NTP clock - kernel clock: +X for "X slow")
Hosts: db utc time repl app1 app2 app3 cli. Environment: see the head of this file.
EOF
}

_nb_main() {
    set -o pipefail
    local cmd=${1:-help}
    shift || true
    case $cmd in
        up) netbed_up "$@" ;;
        down) netbed_down "$@" ;;
        status) netbed_status "$@" ;;
        exec) netbed_exec "$@" ;;
        spawn) netbed_spawn "$@" ;;
        stop) netbed_stop "$@" ;;
        pid) netbed_pid "$@" ;;
        log) netbed_log "$@" ;;
        addr) netbed_addr "$@" ;;
        ns) netbed_ns "$@" ;;
        hosts) netbed_hosts ;;
        psql) netbed_psql "$@" ;;
        link) netbed_link "$@" ;;
        link-stats) netbed_link_stats "$@" ;;
        unplug) netbed_unplug "$@" ;;
        plug) netbed_plug "$@" ;;
        probe) netbed_probe "$@" ;;
        rtt) netbed_rtt "$@" ;;
        chrony-client) netbed_chrony_client "$@" ;;
        chrony-tracking) netbed_chrony_tracking "$@" ;;
        chrony-error) netbed_chrony_error "$@" ;;
        chronyc) netbed_chronyc "$@" ;;
        help|-h|--help) _nb_usage ;;
        *) echo "netbed: unknown command '$cmd'" >&2; _nb_usage >&2; return 2 ;;
    esac
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
    _nb_main "$@"
    exit $?
fi
