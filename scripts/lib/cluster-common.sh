# shellcheck shell=bash
# scripts/lib/cluster-common.sh: helpers of scripts/cluster (sourced by it; uses its
# configuration): pid files, logs, readiness checks, starting and stopping a process,
# the lock, status.

now_ms() { local t=${EPOCHREALTIME/./}; echo $((10#$t / 1000)); }
to_ms() { awk -v s="$1" 'BEGIN { printf "%d", s * 1000 }'; }

pidfile() { echo "$RUN_DIR/$1.pid"; }

# The executable name a part runs (ps comm), used to refuse signalling a reused pid.
part_comm() {
    case $1 in
        rpcbind) echo rpcbind ;;
        postgres) echo postgres ;;
        chronyd) echo chronyd ;;
        replication) echo replication_server ;;
        time_server) echo time_server ;;
        app[0-9]*) echo app_server ;;
    esac
}

# True if PID is a live process (a zombie counts as ended; PLATFORM.md).
pid_alive() {
    local st
    st=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
    [[ -n $st && $st != Z* ]]
}

# Pid of the part if its pid file names a live process running the expected program.
part_pid() {
    local part=$1 f pid comm want
    f=$(pidfile "$part")
    [[ -r $f ]] || return 1
    read -r pid <"$f" 2>/dev/null || return 1
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    pid_alive "$pid" || return 1
    comm=$(ps -o comm= -p "$pid" 2>/dev/null) || return 1
    # The kernel keeps 15 characters of the name (replication_server -> replication_ser).
    want=$(part_comm "$part")
    [[ $comm == "${want:0:15}" ]] || return 1
    echo "$pid"
}

# The real "does it answer" check of a part.
part_answers() {
    case $1 in
        rpcbind) rpcbind_answers ;;
        postgres) pg_answers ;;
        chronyd) chronyd_answers ;;
        *) rpc_part_answers "$1" ;;
    esac
}

# The last 20 lines the part wrote since it was started (the whole log if unknown).
show_log() {
    local log=$LOG_DIR/$1.log pos=0
    [[ -r $RUN_DIR/$1.logpos ]] && read -r pos <"$RUN_DIR/$1.logpos" 2>/dev/null
    [[ $pos =~ ^[0-9]+$ ]] || pos=0
    if [[ -s $log ]] && (($(stat -c %s "$log") > pos)); then
        echo "---- last 20 lines of $log" >&2
        tail -c +"$((pos + 1))" "$log" | tail -n 20 >&2
        echo "----" >&2
    else
        echo "(no output in $log)" >&2
    fi
}

# Run a command with every file descriptor above 2 closed, so that a daemon it leaves
# behind does not hold the caller's pipes open.
close_fds_exec() {
    local fd n
    for fd in /proc/self/fd/*; do
        n=${fd##*/}
        if ((n > 2)); then eval "exec $n>&-" 2>/dev/null || true; fi
    done
    exec "$@"
}

# Start a daemon in the background in its own session, stdin from /dev/null, output
# appended to its log; record its pid and where its log started.
launch() {
    local part=$1 log pid
    shift
    log=$LOG_DIR/$part.log
    touch "$log"
    stat -c %s "$log" >"$RUN_DIR/$part.logpos"
    # A non-interactive bash does not make background jobs process-group leaders, so
    # setsid execs in place (no fork) and $! is the daemon's pid.
    (close_fds_exec setsid "$@") </dev/null >>"$log" 2>&1 &
    pid=$!
    echo "$pid" >"$(pidfile "$part")"
    # shellcheck disable=SC2034 # read by the start_* functions
    LAUNCHED_PID=$pid
}

# Poll the part's real check every 50 ms until it answers; fail if the process dies or
# the deadline passes. PID may be empty (no process to watch).
wait_ready() {
    local part=$1 pid=${2:-} deadline missing
    deadline=$(($(now_ms) + $(to_ms "$READY_TIMEOUT")))
    while :; do
        if part_answers "$part"; then return 0; fi
        if [[ -n $pid ]] && ! pid_alive "$pid"; then
            echo "cluster: $part (pid $pid) exited during start-up" >&2
            show_log "$part"
            return 1
        fi
        if (($(now_ms) >= deadline)); then
            missing=$(rpc_unanswered "$part")
            echo "cluster: $part did not answer within ${READY_TIMEOUT} s${missing:+ (no answer from program $missing)}" >&2
            show_log "$part"
            return 1
        fi
        sleep 0.05
    done
}

# SIGTERM, wait up to STOP_TIMEOUT s (zombie = gone), then SIGKILL. Returns 1 if SIGKILL
# was needed.
terminate() {
    local pid=$1 deadline
    kill -TERM "$pid" 2>/dev/null || return 0
    deadline=$(($(now_ms) + $(to_ms "$STOP_TIMEOUT")))
    while pid_alive "$pid"; do
        if (($(now_ms) >= deadline)); then
            kill -KILL "$pid" 2>/dev/null || true
            deadline=$(($(now_ms) + 5000))
            while pid_alive "$pid" && (($(now_ms) < deadline)); do sleep 0.05; done
            return 1
        fi
        sleep 0.05
    done
    return 0
}

# Stop a part recorded in its pid file. Prints what happened; returns 1 on a problem.
stop_pid_part() {
    local part=$1 pid f rc=0
    f=$(pidfile "$part")
    if ! pid=$(part_pid "$part"); then
        if [[ -f $f ]]; then
            rm -f "$f"
            echo "$part: not running (stale pid file removed)"
        else
            echo "$part: not running"
        fi
        return 0
    fi
    if terminate "$pid"; then
        echo "$part: stopped (pid $pid)"
    else
        echo "$part: did not exit within ${STOP_TIMEOUT} s of SIGTERM, killed (pid $pid)"
        rc=1
    fi
    rm -f "$f"
    return $rc
}

# Sanitizer reports in the part's log since this script started it (NAME.logpos holds
# the log's size at that moment; no such file: nothing started since the last stop).
check_sanitizers() {
    local part=$1 log=$LOG_DIR/$1.log pos=""
    [[ -f $log && -r $RUN_DIR/$part.logpos ]] || return 0
    read -r pos <"$RUN_DIR/$part.logpos" 2>/dev/null || true
    [[ $pos =~ ^[0-9]+$ ]] || pos=0
    if tail -c +"$((pos + 1))" "$log" | grep -qE 'AddressSanitizer|LeakSanitizer|runtime error'; then
        echo "cluster: $part: sanitizer report in $log:" >&2
        tail -c +"$((pos + 1))" "$log" | tail -n 40 >&2
        return 1
    fi
}

# Every folder from / down to DIR must be traversable by USER; report the first that is not.
check_traversable() {
    local user=$1 dir=$2 d=""
    local IFS=/ part
    for part in $dir; do
        [[ -z $part ]] && continue
        d=$d/$part
        if ! runuser -u "$user" -- test -x "$d" 2>/dev/null; then
            IFS=' '
            die "user $user cannot enter $d (outside the cluster folder, so left alone): chmod o+x $d, or choose a CLUSTER_DIR whose parents are traversable"
        fi
    done
}

check_socket_len() {
    # sun_path holds 107 bytes; chronyc adds its own socket next to chronyd's.
    (($(printf %s "$1" | wc -c) <= 100)) || die "socket path too long for a unix socket: $1 (use a shorter CLUSTER_DIR)"
}

make_dirs() {
    mkdir -p "$CLUSTER_DIR" "$RUN_DIR" "$LOG_DIR"
    if ((IS_ROOT)); then
        # postgres (and _chrony) must be able to enter the cluster folder. The socket
        # folder is PostgreSQL's door: the daemons' group may pass, nobody else.
        chmod o+x "$CLUSTER_DIR" "$LOG_DIR"
        chgrp "$DAEMON_GROUP" "$RUN_DIR"
        chmod 750 "$RUN_DIR"
    else
        chmod 700 "$RUN_DIR"
    fi
}

# One start, stop or reset-data at a time per cluster folder. Daemons do not inherit the
# lock's fd (close_fds_exec), so it is released when this script ends.
lock() {
    local f=$CLUSTER_DIR/.lock
    exec 9>>"$f"
    flock -w 120 9 || die "another scripts/cluster start/stop/reset-data holds $f"
}

status_part() {
    local part=$1 pid="-" state missing
    if [[ $part == chronyd ]] && chronyd_skipped && ! part_answers chronyd; then
        printf '%-12s %-8s %s\n' "$part" "-" "not used (not root; UTC_SERVER=$UTC_SERVER)"
        return 0
    fi
    case $part in
        postgres)
            if [[ -f $PG_DIR/postmaster.pid ]]; then
                pid=$(head -n 1 "$PG_DIR/postmaster.pid" 2>/dev/null || echo -)
                pid_alive "$pid" 2>/dev/null || pid="-"
            fi ;;
        *)
            pid=$(part_pid "$part") || pid="-" ;;
    esac
    if part_answers "$part"; then
        state="answers"
        [[ $pid == - ]] && state="answers (not started by this script)"
    elif [[ $pid == - ]]; then
        state="not running"
    else
        state="not answering"
        missing=$(rpc_unanswered "$part")
        [[ -n $missing ]] && state="$state (program $missing)"
    fi
    printf '%-12s %-8s %s\n' "$part" "$pid" "$state"
    [[ $state == answers* ]]
}

# ---------------------------------------------------------------- daemon user and keys
# Started by root, the daemons run as DAEMON_USER: BIBLIOTIME_USER if set, else the
# person behind sudo (who owns the display for the windows), else the system user
# bibliotime, created when missing. Started by anyone else, as that user.
daemon_user_init() {
    if ((IS_ROOT)); then
        DAEMON_USER=${BIBLIOTIME_USER:-}
        if [[ -z $DAEMON_USER && -n ${SUDO_USER:-} && $SUDO_USER != root ]]; then
            DAEMON_USER=$SUDO_USER
        fi
        DAEMON_USER=${DAEMON_USER:-bibliotime}
        if ! id -u "$DAEMON_USER" >/dev/null 2>&1; then
            [[ $DAEMON_USER == bibliotime ]] || die "BIBLIOTIME_USER=$DAEMON_USER: no such user"
            useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin \
                bibliotime 2>/dev/null || id -u bibliotime >/dev/null 2>&1 ||
                die "cannot create the system user bibliotime (useradd --system bibliotime)"
            echo "cluster: created the system user bibliotime, which the daemons run as"
        fi
        [[ $(id -u "$DAEMON_USER") != 0 ]] || die "the daemon user must not be root (BIBLIOTIME_USER)"
    else
        DAEMON_USER=$(id -un)
    fi
    DAEMON_GROUP=$(id -gn "$DAEMON_USER")
    RUNNER=$(id -un)
}

# The cluster's key file: one random HMAC-SHA-256 key, readable by its owner only (root,
# or the user who runs the cluster). Made once (scripts/keygen); kept across starts.
ensure_key_file() {
    [[ -f $KEY_FILE ]] && return 0
    "$REPO/scripts/keygen" "$KEY_FILE" >/dev/null || die "cannot make the key file $KEY_FILE"
    echo "cluster: made the key file $KEY_FILE (mode 0600)"
}
