# shellcheck shell=bash
# scripts/lib/cluster-rpc.sh: rpcbind and the RPC servers of scripts/cluster (sourced by
# it): replication, time_server, app1..appN.

# The programs a server part registers; it answers when all of them answer.
rpc_progs() {
    case $1 in
        replication) echo "$REPL_PROG" ;;
        time_server) echo "$TIME_PROG" ;;
        app[0-9]*) local n=${1#app}; echo "$((CLOCK_BASE + n)) $((BOOK_BASE + n))" ;;
    esac
}

# The version a program is served at: REPL and BOOK are at 2 (rpc/*.x), TIME and CLOCK at 1.
prog_version() {
    if (($1 == REPL_PROG || ($1 > BOOK_BASE && $1 <= BOOK_BASE + 255))); then echo 2; else echo 1; fi
}
rpcbind_answers() { timeout 5 rpcinfo -p localhost >/dev/null 2>&1; }
rpc_registered() { timeout 5 rpcinfo -p localhost 2>/dev/null | awk -v p="$1" -v v="$(prog_version "$1")" '$1 == p && $2 == v { f = 1 } END { exit !f }'; }
rpc_answers() { timeout 5 rpcinfo -T tcp localhost "$1" "$(prog_version "$1")" >/dev/null 2>&1; }

rpc_part_answers() {
    local prog
    for prog in $(rpc_progs "$1"); do
        rpc_answers "$prog" || return 1
    done
}

# The programs of a server part that do not answer (empty for other parts).
rpc_unanswered() {
    local prog missing=()
    for prog in $(rpc_progs "$1"); do
        rpc_answers "$prog" || missing+=("$prog")
    done
    echo "${missing[*]:-}"
}

# ---------------------------------------------------------------- rpcbind
start_rpcbind() {
    local pid
    if pid=$(part_pid rpcbind); then
        if rpcbind_answers; then echo "rpcbind: already running (pid $pid)"; return 0; fi
        wait_ready rpcbind "$pid" || return 1
        echo "rpcbind: running (pid $pid)"; return 0
    fi
    rm -f "$(pidfile rpcbind)"
    if rpcbind_answers; then
        echo "rpcbind: already answering, not started by this script (left alone)"
        return 0
    fi
    ((IS_ROOT)) || die "rpcbind: not running, and only root can start it (sudo $0 start rpcbind)"
    launch rpcbind rpcbind -f
    pid=$LAUNCHED_PID
    if ! wait_ready rpcbind "$pid"; then
        stop_pid_part rpcbind >/dev/null 2>&1 || true
        return 1
    fi
    echo "rpcbind: started (pid $pid)"
}

stop_rpcbind() {
    if [[ ! -f $(pidfile rpcbind) ]]; then
        if rpcbind_answers; then
            echo "rpcbind: not started by this script (left running)"
        else
            echo "rpcbind: not running"
        fi
        return 0
    fi
    stop_pid_part rpcbind
}

# ---------------------------------------------------------------- RPC servers
# The --db connection string of a database of this cluster, as the daemon's own role
# (peer authentication: the daemon user may take these roles and no other).
db_role() {
    case $1 in
        clock) echo bibliotime_time ;;
        replication) echo bibliotime_repl ;;
        books*) echo "bibliotime_app${1#books}" ;;
    esac
}
db_conninfo() { echo "host=$RUN_DIR port=$PGPORT user=$(db_role "$1") dbname=$1"; }

# replication, time_server, app1..appN
start_rpc_server() {
    local part=$1 pid prog exe argv
    if pid=$(part_pid "$part"); then
        wait_ready "$part" "$pid" || return 1
        echo "$part: already running (pid $pid)"; return 0
    fi
    rm -f "$(pidfile "$part")"
    rpcbind_answers || die "$part: rpcbind does not answer (start rpcbind first)"
    for prog in $(rpc_progs "$part"); do
        if rpc_registered "$prog"; then
            if rpc_answers "$prog"; then
                die "$part: program $prog is already served by a process this script did not start (another cluster?)"
            fi
            # Left behind by a killed process: clear it, or the new server cannot register.
            timeout 5 rpcinfo -d "$prog" "$(prog_version "$prog")" >/dev/null 2>&1 || true
        fi
    done
    # WINDOWS=1: the time server and app servers open their windows, placed without
    # overlapping on a 1280x800 screen (clients go top right, see scripts/run).
    local face=(--headless)
    if [[ ${WINDOWS:-0} == 1 ]]; then
        case $part in
            time_server) face=(--position 0,0) ;;
            app1) face=(--position 0,400) ;;
            app2) face=(--position 640,400) ;;
            # A third and further servers cascade over the middle of the screen.
            app*) face=(--position "$((320 + 40 * (${part#app} - 3))),$((380 - 30 * (${part#app} - 3)))") ;;
        esac
    fi
    case $part in
        replication)
            exe=$BIN_DIR/replication_server
            argv=(--headless --db "$(db_conninfo replication)"
                  ${REPLICATION_ARGV[@]+"${REPLICATION_ARGV[@]}"}) ;;
        time_server)
            exe=$BIN_DIR/time_server
            argv=("${face[@]}" --tm "$TM" --drift-ppm "$DRIFT_PPM" --utc-server "$UTC_SERVER"
                  --db "$(db_conninfo clock)"
                  ${TIME_SERVER_ARGV[@]+"${TIME_SERVER_ARGV[@]}"}) ;;
        app*)
            local n=${part#app} extra own="APP${part#app}_ARGS"
            exe=$BIN_DIR/app_server
            read -r -a extra <<<"${!own:-}"
            argv=("${face[@]}" --instance "$n" --time-server localhost --drift-ppm "$DRIFT_PPM"
                  --db "$(db_conninfo "books$n")" --replication localhost
                  ${APP_SERVER_ARGV[@]+"${APP_SERVER_ARGV[@]}"} ${extra[@]+"${extra[@]}"}) ;;
    esac
    [[ -x $exe ]] || die "$part: $exe not found or not executable (build it: make, or set BIN_DIR)"
    # Every daemon signs its control calls with the cluster's keys and, started by root,
    # becomes the daemon user once it has read them.
    argv+=(--key-file "$KEY_FILE")
    ((IS_ROOT)) && argv+=(--user "$DAEMON_USER")
    launch "$part" "$exe" "${argv[@]}"
    pid=$LAUNCHED_PID
    if ! wait_ready "$part" "$pid"; then
        stop_pid_part "$part" >/dev/null 2>&1 || true
        for prog in $(rpc_progs "$part"); do
            unregister "$prog" >/dev/null 2>&1 || true
        done
        return 1
    fi
    echo "$part: started (pid $pid)"
}

# Remove PROG's registration if it is still there. With "stale-only", only if nothing
# answers on it (it may belong to a server this script did not start).
unregister() {
    local prog=$1 mode=${2:-}
    rpcbind_answers || return 0
    if rpc_registered "$prog"; then
        if [[ $mode == stale-only ]] && rpc_answers "$prog"; then
            echo "  program $prog is served by a process this script did not start (left alone)"
            return 0
        fi
        timeout 5 rpcinfo -d "$prog" "$(prog_version "$prog")" >/dev/null 2>&1 || true
        if rpc_registered "$prog"; then
            echo "cluster: program $prog is still registered in rpcbind (rpcinfo -d $prog $(prog_version "$prog") failed)" >&2
            return 1
        fi
        echo "  removed stale rpcbind registration of program $prog"
    fi
}

stop_rpc_server() {
    local part=$1 rc=0 mode="" prog
    part_pid "$part" >/dev/null || mode=stale-only
    stop_pid_part "$part" || rc=1
    for prog in $(rpc_progs "$part"); do
        unregister "$prog" $mode || rc=1
    done
    check_sanitizers "$part" || rc=1
    return $rc
}
