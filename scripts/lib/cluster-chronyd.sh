# shellcheck shell=bash
# scripts/lib/cluster-chronyd.sh: the chronyd part of scripts/cluster (sourced by it): a
# UTC (NTP) server on loopback that never touches the system clock.

chronyd_answers() { [[ -S $CHRONY_SOCK ]] && timeout 5 chronyc -h "$CHRONY_SOCK" tracking >/dev/null 2>&1; }

# chronyd refuses to run as non-root: without root, with no PART named and UTC_SERVER
# set, the cluster goes without it.
chronyd_skipped() { ((!IS_ROOT)) && [[ -n $UTC_SERVER_SET && $EXPLICIT_PARTS == 0 ]]; }

write_chrony_conf() {
    cat >"$CHRONY_CONF" <<CONF
# Written by scripts/cluster: a UTC (NTP) server on loopback for Bibliotime.
port $NTP_PORT
bindaddress 127.0.0.1
local stratum 8
allow 127.0.0.1
cmdport 0
bindcmdaddress $CHRONY_SOCK
pidfile $CHRONY_DIR/chronyd.pid
driftfile $CHRONY_DIR/drift
CONF
}

start_chronyd() {
    local pid
    if pid=$(part_pid chronyd); then
        wait_ready chronyd "$pid" || return 1
        echo "chronyd: already running (pid $pid)"; return 0
    fi
    rm -f "$(pidfile chronyd)"
    if ((!IS_ROOT)); then
        if chronyd_skipped; then
            echo "chronyd: skipped (not root; UTC_SERVER=$UTC_SERVER)"
            return 0
        fi
        die "chronyd: refuses to run as non-root; start it as root (sudo $0 start chronyd) or set UTC_SERVER and leave chronyd out"
    fi
    check_socket_len "$CHRONY_DIR/chronyc.4194304.sock"
    command -v chronyd >/dev/null || die "chronyd: not installed (scripts/deps)"
    if ss -Hlun "sport = :$NTP_PORT" 2>/dev/null | grep -q .; then
        die "chronyd: UDP port $NTP_PORT is already in use (another cluster? set NTP_PORT)"
    fi
    # chronyd drops privileges to _chrony and insists on this folder's owner and mode.
    install -d -o _chrony -g _chrony -m 770 "$CHRONY_DIR"
    chown _chrony:_chrony "$CHRONY_DIR"
    chmod 770 "$CHRONY_DIR"
    check_traversable _chrony "$CHRONY_DIR"
    rm -f "$CHRONY_SOCK"
    write_chrony_conf
    launch chronyd chronyd -d -x -f "$CHRONY_CONF"
    pid=$LAUNCHED_PID
    if ! wait_ready chronyd "$pid"; then
        stop_pid_part chronyd >/dev/null 2>&1 || true
        return 1
    fi
    echo "chronyd: started (pid $pid), NTP on 127.0.0.1:$NTP_PORT"
}

stop_chronyd() {
    local rc=0
    stop_pid_part chronyd || rc=1
    rm -f "$CHRONY_SOCK" 2>/dev/null || true
    return $rc
}
