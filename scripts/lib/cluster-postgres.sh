# shellcheck shell=bash
# scripts/lib/cluster-postgres.sh: the PostgreSQL part of scripts/cluster (sourced by it):
# the private cluster, its databases with their schema and catalogue, reset-data.

# As root, the PostgreSQL commands run as the owner of the data folder (postgres for a
# new one: initdb refuses root); as anybody else, directly.
PG_OWNER=postgres
if ((IS_ROOT)) && [[ -d $PG_DIR ]]; then
    PG_OWNER=$(stat -c %U "$PG_DIR")
fi

as_pg() {
    if ((IS_ROOT)); then
        (close_fds_exec runuser -u "$PG_OWNER" -- "$@")
    else
        (close_fds_exec "$@")
    fi
}

pg_answers() { timeout 5 "$PG_BIN/pg_isready" -q -h "$RUN_DIR" -p "$PGPORT" -U postgres -d postgres >/dev/null 2>&1; }

psql_q() {
    # psql as postgres through the socket (trust); notices silenced.
    PGOPTIONS='--client-min-messages=warning' timeout 120 "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 \
        -h "$RUN_DIR" -p "$PGPORT" -U postgres "$@"
}

# The schema file of a database.
db_schema() {
    case $1 in
        clock) echo "$REPO/db/clock.sql" ;;
        books[0-9]*) echo "$REPO/db/books.sql" ;;
        replication) echo "$REPO/db/replication.sql" ;;
    esac
}

rel() { echo "${1#"$REPO"/}"; }

join_by() { local sep=$1 out=$2 x; shift 2; for x in "$@"; do out+=$sep$x; done; echo "$out"; }

# Drop DB, quietly: used after a failed load, so that the next start creates it afresh.
drop_quietly() { psql_q -d postgres -c "DROP DATABASE IF EXISTS \"$1\"" >/dev/null 2>&1 || true; }

# Run db/load-catalogue DB $CATALOGUE against this cluster; CATALOGUE_SUMMARY = the last
# line it printed. On failure, print its output and return 1.
load_catalogue() {
    local db=$1 out
    if ! out=$(PGHOST=$RUN_DIR PGPORT=$PGPORT PGUSER=postgres \
            PGOPTIONS='--client-min-messages=warning' \
            timeout 900 "$LOAD_CATALOGUE" "$db" "$CATALOGUE" </dev/null); then
        echo "cluster: postgres: $(rel "$LOAD_CATALOGUE") $db $CATALOGUE failed${out:+; it printed:}" >&2
        [[ -n $out ]] && printf '%s\n' "$out" >&2
        return 1
    fi
    CATALOGUE_SUMMARY=$(printf '%s\n' "$out" | awk 'NF { l = $0 } END { print l }')
}

# Create database DB and load its schema (and, into a books DB, the catalogue) if the
# files exist (reset-data checks beforehand that they do). Sets DB_LOADED (schema file,
# catalogue) and CATALOGUE_SUMMARY (the loader's line, or why no catalogue was loaded).
# On failure, drops DB again, prints why and returns 1.
make_database() {
    local db=$1 file
    file=$(db_schema "$db")
    DB_LOADED="" CATALOGUE_SUMMARY=""
    if ! psql_q -d postgres -c "CREATE DATABASE \"$db\""; then
        echo "cluster: postgres: cannot create database $db" >&2
        return 1
    fi
    [[ -f $file ]] || return 0
    if ! psql_q -d "$db" -f "$file"; then
        drop_quietly "$db"
        echo "cluster: postgres: loading $file into $db failed (database dropped again)" >&2
        return 1
    fi
    DB_LOADED=$(rel "$file")
    case $db in books[0-9]*) ;; *) return 0 ;; esac
    if [[ ! -x $LOAD_CATALOGUE ]]; then
        CATALOGUE_SUMMARY="no catalogue ($(rel "$LOAD_CATALOGUE") not found)"
        echo "cluster: postgres: warning: $db created without a catalogue: $LOAD_CATALOGUE not found" >&2
        return 0
    fi
    if ! load_catalogue "$db"; then
        drop_quietly "$db"
        echo "cluster: postgres: loading the catalogue into $db failed (database dropped again)" >&2
        return 1
    fi
    DB_LOADED="$DB_LOADED + $(rel "$CATALOGUE")"
}

db_exists() { [[ $(psql_q -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$1'") == 1 ]]; }

create_databases() {
    local db created=()
    for db in "${DATABASES[@]}"; do
        if db_exists "$db"; then
            # A clock DB from an older db/clock.sql gains what is new, rows kept.
            if [[ $db == clock && -f $REPO/db/clock-upgrade.sql ]] &&
                ! psql_q -d clock -f "$REPO/db/clock-upgrade.sql"; then
                die "postgres: upgrading the clock DB with db/clock-upgrade.sql failed"
            fi
            continue
        fi
        if [[ $db == books[0-9]* && -x $LOAD_CATALOGUE && -f $(db_schema "$db") && ! -r $CATALOGUE ]]; then
            die "postgres: catalogue $CATALOGUE not found, needed to create $db (set CATALOGUE)"
        fi
        make_database "$db" || die "postgres: database $db not created"
        created+=("$db${DB_LOADED:+ ($DB_LOADED)}")
    done
    CREATED_DBS=${created[*]:-}
}

start_postgres() {
    local pid how log=$LOG_DIR/postgres.log
    check_socket_len "$RUN_DIR/.s.PGSQL.$PGPORT.lock"
    [[ -x $PG_BIN/pg_ctl ]] || die "postgres: $PG_BIN/pg_ctl not found (scripts/deps installs postgresql-15)"
    touch "$log"
    if ((IS_ROOT)); then
        [[ $PG_OWNER != root ]] || die "postgres: $PG_DIR belongs to root, and PostgreSQL refuses to run as root (chown -R postgres: $PG_DIR)"
        chown "$PG_OWNER:" "$log"
        chown "$PG_OWNER:$DAEMON_GROUP" "$RUN_DIR"
        check_traversable "$PG_OWNER" "$RUN_DIR"
    fi
    if [[ ! -f $PG_DIR/PG_VERSION ]]; then
        mkdir -p "$PG_DIR"
        chmod 700 "$PG_DIR"
        ((IS_ROOT)) && chown "$PG_OWNER:" "$PG_DIR"
        if ! as_pg "$PG_BIN/initdb" -D "$PG_DIR" -A trust -U postgres -N -E UTF8 --locale=C.UTF-8 >>"$log" 2>&1; then
            show_log postgres
            die "postgres: initdb failed"
        fi
        how="initialised and started"
    else
        how="started"
    fi
    # Left by a postmaster that was killed (dead, or a zombie nobody reaped, which pg_ctl
    # status takes for alive): pg_ctl start -w would take its "ready" for the new
    # server's. (PostgreSQL itself refuses to start while a backend of the old one
    # still holds its shared memory.)
    pid=$(head -n 1 "$PG_DIR/postmaster.pid" 2>/dev/null || true)
    if [[ $pid =~ ^[0-9]+$ ]] && ! pid_alive "$pid"; then
        # PostgreSQL also takes a zombie's pid in its socket's lock file for a live
        # postmaster: wait for it to be reaped.
        local deadline=$(($(now_ms) + 10000))
        while [[ -n $(ps -o stat= -p "$pid" 2>/dev/null) ]] && (($(now_ms) < deadline)); do
            sleep 0.05
        done
        [[ -z $(ps -o stat= -p "$pid" 2>/dev/null) ]] ||
            die "postgres: the old postmaster (pid $pid) is a zombie nobody reaps; its parent must wait for it"
        rm -f "$PG_DIR/postmaster.pid"
        how="$how after a crash (stale postmaster.pid of pid $pid removed)"
    fi
    write_auth_config
    if as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR" status >/dev/null 2>&1; then
        how="already running"
        psql_q -d postgres -tAc "SELECT pg_reload_conf()" >/dev/null ||
            die "postgres: cannot reload pg_hba.conf"
    else
        if ! as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR" -l "$log" -w -t "${READY_TIMEOUT%.*}" \
                -o "-k $RUN_DIR -p $PGPORT -c listen_addresses=''" start >/dev/null 2>&1; then
            echo "cluster: postgres: pg_ctl start failed" >&2
            show_log postgres
            return 1
        fi
    fi
    pid=$(head -n 1 "$PG_DIR/postmaster.pid" 2>/dev/null || true)
    [[ $pid =~ ^[0-9]+$ ]] || { show_log postgres; die "postgres: no pid in $PG_DIR/postmaster.pid"; }
    echo "$pid" >"$(pidfile postgres)"
    wait_ready postgres "$pid" || return 1
    CREATED_DBS=""
    create_databases
    grant_roles
    echo "postgres: $how (pid $pid)${CREATED_DBS:+, created databases: $CREATED_DBS}"
}

stop_postgres() {
    local pid
    rm -f "$(pidfile postgres)"
    if [[ ! -f $PG_DIR/PG_VERSION ]] || ! as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR" status >/dev/null 2>&1; then
        echo "postgres: not running"
        return 0
    fi
    pid=$(head -n 1 "$PG_DIR/postmaster.pid" 2>/dev/null || true)
    if as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR" -m fast -w -t "${STOP_TIMEOUT%.*}" stop >/dev/null 2>&1; then
        echo "postgres: stopped (pid $pid)"
        return 0
    fi
    as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR" -m immediate -w -t 10 stop >/dev/null 2>&1 || true
    echo "postgres: fast shutdown timed out, stopped with -m immediate (pid $pid)"
    return 1
}

# Who may connect, and as which role: only over the socket (no TCP), with peer
# authentication. The person who runs the cluster (root or its owner) is the superuser
# postgres; the daemon user may take the daemons' roles, nothing else. Written at every
# start, so an older cluster (trust) is closed too.
write_auth_config() {
    local ident=$PG_DIR/pg_ident.conf hba=$PG_DIR/pg_hba.conf n tmp
    tmp=$(mktemp "$PG_DIR/.auth.XXXXXX")
    {
        echo "# Written by scripts/cluster at every start."
        echo "bibliotime  root  postgres"
        echo "bibliotime  $PG_OWNER  postgres"
        [[ $RUNNER == root || $RUNNER == "$PG_OWNER" ]] || echo "bibliotime  $RUNNER  postgres"
        for r in bibliotime_time bibliotime_repl; do echo "bibliotime  $DAEMON_USER  $r"; done
        for ((n = 1; n <= 16; n++)); do echo "bibliotime  $DAEMON_USER  bibliotime_app$n"; done
    } >"$tmp"
    chmod 600 "$tmp"
    ((IS_ROOT)) && chown "$PG_OWNER:" "$tmp"
    mv "$tmp" "$ident"
    tmp=$(mktemp "$PG_DIR/.auth.XXXXXX")
    {
        echo "# Written by scripts/cluster at every start: the socket only, peer authentication,"
        echo "# the users of pg_ident.conf's map bibliotime."
        echo "local  all  all  peer  map=bibliotime"
    } >"$tmp"
    chmod 600 "$tmp"
    ((IS_ROOT)) && chown "$PG_OWNER:" "$tmp"
    mv "$tmp" "$hba"
}

# The daemons' roles (no password: peer authentication) with only their rights
# (db/grants.sql) in the databases that exist.
grant_roles() {
    local r db
    for r in bibliotime_time bibliotime_repl $(for db in "${BOOKS_DBS[@]}"; do echo "bibliotime_app${db#books}"; done); do
        psql_q -d postgres -v role="$r" >/dev/null <<'SQL' || die "postgres: cannot create role $r"
SELECT NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'role') AS missing \gset
\if :missing
  CREATE ROLE :"role" LOGIN;
\endif
SQL
    done
    db_exists clock && psql_q -d clock -v role_time=bibliotime_time -f "$REPO/db/grants.sql" >/dev/null
    db_exists replication && psql_q -d replication -v role_repl=bibliotime_repl -f "$REPO/db/grants.sql" >/dev/null
    for db in "${BOOKS_DBS[@]}"; do
        db_exists "$db" && psql_q -d "$db" -v role_app="bibliotime_app${db#books}" -f "$REPO/db/grants.sql" >/dev/null
    done
    return 0
}

# ---------------------------------------------------------------- reset-data

reset_data() {
    local part pid prog db d busy=() answering conns in_list
    local RESET_DATABASES=("${BOOKS_DBS[@]}" replication)
    pg_answers || die "reset-data: postgres does not answer (scripts/cluster start postgres)"
    for part in replication "${APP_PARTS[@]}"; do
        if pid=$(part_pid "$part"); then
            busy+=("$part (pid $pid)")
            continue
        fi
        answering=()
        for prog in $(rpc_progs "$part"); do
            rpc_answers "$prog" && answering+=("$prog")
        done
        ((${#answering[@]})) && busy+=("$part (program ${answering[*]} answers; not started by this script)")
    done
    if ((${#busy[@]})); then
        die "reset-data: refused while running: $(join_by ', ' "${busy[@]}"); stop them first (scripts/cluster stop replication ${APP_PARTS[*]})"
    fi
    in_list="'$(join_by "', '" "${RESET_DATABASES[@]}")'"
    # A server stopped a moment ago leaves its backends to end on their own: give them
    # a few seconds before taking a connection for someone else's.
    local deadline=$(($(now_ms) + 5000))
    while :; do
        conns=$(psql_q -d postgres -tAc "SELECT string_agg(format('%s: pid %s%s', datname, pid,
                    CASE WHEN application_name <> '' THEN ' ' || application_name ELSE '' END), '; ')
                FROM pg_stat_activity WHERE datname IN ($in_list)") \
            || die "reset-data: cannot query pg_stat_activity"
        [[ -n $conns && $(now_ms) -lt $deadline ]] || break
        sleep 0.05
    done
    [[ -z $conns ]] || die "reset-data: refused: connections to the databases ($conns); end them first"
    for db in "${RESET_DATABASES[@]}"; do
        [[ -f $(db_schema "$db") ]] || die "reset-data: $(db_schema "$db") not found"
    done
    [[ -x $LOAD_CATALOGUE ]] || die "reset-data: $LOAD_CATALOGUE not found or not executable"
    [[ -r $CATALOGUE ]] || die "reset-data: catalogue $CATALOGUE not found (set CATALOGUE)"
    for db in "${RESET_DATABASES[@]}"; do
        psql_q -d postgres -c "DROP DATABASE IF EXISTS \"$db\"" || die "reset-data: cannot drop $db"
        if ! make_database "$db"; then
            # All or none: the next start (or reset-data) creates them alike.
            for d in "${RESET_DATABASES[@]}"; do drop_quietly "$d"; done
            die "reset-data: $db not recreated; $(join_by ', ' "${RESET_DATABASES[@]}") dropped (the next start creates them afresh)"
        fi
        echo "$db: recreated with $DB_LOADED${CATALOGUE_SUMMARY:+; $CATALOGUE_SUMMARY}"
    done
    grant_roles
}
