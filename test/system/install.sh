#!/usr/bin/env bash
# `make install DESTDIR=...` as an operator would use it, against the test cluster:
# - every file in its place, each program answering --version under its installed name;
# - the installed replication server, time server and two app servers start from config
#   files in DESTDIR/etc/bibliotime (the shipped ones with the site's lines changed: the
#   database, the key file, the user), run as the daemon user, the time server keeps both
#   app servers' clocks, and the installed client, from the shipped client.conf
#   untouched, gets a book;
# - the installed db/load-catalogue finds the installed checker and covers;
# - `man -l` renders every page without a warning, and every option of --help is in it;
# - `systemd-analyze verify` accepts the units (copies whose ExecStart points into
#   DESTDIR, MANPATH at its man pages so Documentation= resolves too);
# - `make uninstall DESTDIR=...` leaves nothing but the config files changed here.
# The install build has no sanitizers (it is the build an operator installs).
source "$(dirname "$0")/lib.sh"

DEST=$TEST_TMP/dest
prefix=/usr/local
sbin=$DEST$prefix/sbin bin=$DEST$prefix/bin share=$DEST$prefix/share/bibliotime
conf=$DEST/etc/bibliotime
SCRATCH_DB=install_check
INSTALLED_PIDS=()

# Whatever happens: the installed daemons stopped (waited for, their registrations
# gone), the scratch database dropped, DESTDIR removed (the logs stay on failure).
cleanup_install() {
    local pid n
    for pid in "${INSTALLED_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${INSTALLED_PIDS[@]}"; do
        for ((n = 0; n < 100; n++)); do
            kill -0 "$pid" 2>/dev/null || break
            [[ $(ps -o stat= -p "$pid" 2>/dev/null) == Z* ]] && break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
    done
    sql "DROP DATABASE IF EXISTS $SCRATCH_DB" >/dev/null 2>&1 || true
    rm -rf "$DEST"
}
trap 'rc=$?; cleanup_install; (exit $rc); finish' EXIT

# ---- make install ----
make -C "$ROOT" -j3 install DESTDIR="$DEST" >"$TEST_TMP/install.log" 2>&1 ||
    fail "make install DESTDIR=$DEST: $(tail -5 "$TEST_TMP/install.log")"
expected=(
    "$sbin"/bibliotime-{time,app,replication}-server "$bin/bibliotime-client"
    "$DEST$prefix/libexec/bibliotime/catalogue"
    "$DEST$prefix"/share/man/man8/bibliotime-{time,app,replication}-server.8
    "$DEST$prefix/share/man/man1/bibliotime-client.1"
    "$share"/db/{setup,load-catalogue,books.sql,clock.sql,replication.sql,grants.sql,catalogue.tsv}
    "$share/rpc.names" "$share/keygen"
    "$DEST$prefix"/lib/systemd/system/bibliotime-{time-server,replication-server,app-server@}.service
    "$conf"/{time-server,replication-server,app-server-1,app-server-2,client}.conf
)
for f in "${expected[@]}"; do [[ -f $f ]] || fail "make install did not install $f"; done
covers=$(find "$share/images" -name '*.png' | wc -l)
((covers == $(find "$ROOT/images" -name '*.png' | wc -l))) || fail "$covers covers installed"
installed=$(find "$DEST" -type f | wc -l)
pass "make install DESTDIR: $installed files, among them the ${#expected[@]} expected and $covers covers"

for p in "$sbin"/bibliotime-{time,app,replication}-server "$bin/bibliotime-client"; do
    v=$("$p" --config /dev/null --version) || fail "$p --version failed"
    [[ $v == "$(basename "$p") (Bibliotime) "[0-9]* ]] || fail "$p --version: $v"
    "$p" --config /dev/null --help | grep -q "default /etc/bibliotime/NAME.conf if it exists" ||
        fail "$p --help does not name /etc/bibliotime/NAME.conf (built without BT_CONFIG_DIR?)"
done
pass "each installed program answers --version under its name ($v) and reads /etc/bibliotime/NAME.conf by default"

# ---- the installed daemons from their config files ----
user=
((EUID == 0)) && user=$(eval "$("$ROOT/scripts/cluster" env)"; echo "$BIBLIOTIME_USER")
# site FILE DB [EXTRA LINE...]: the shipped file with this site's database, key file and
# user (no user line when not root), the rest of it as shipped.
site() {
    local file=$1 db=$2
    shift 2
    local tmp=$file.tmp
    sed -e "s|^db .*|db $db|" -e "s|^key-file .*|key-file $KEY_FILE|" \
        -e "$([[ -n $user ]] && echo "s|^user .*|user $user|" || echo '/^user /d')" "$file" >"$tmp"
    grep -q "^db $db\$" "$tmp" || fail "$file has no db line to change"
    printf '%s\n' "$@" >>"$tmp"
    mv "$tmp" "$file"
}
site "$conf/replication-server.conf" "host=$CLUSTER_DIR/run port=$PGPORT user=bibliotime_repl dbname=replication"
site "$conf/time-server.conf" "$(clock_db)" "tm 1" "utc-server $UTC_SERVER"
for n in 1 2; do site "$conf/app-server-$n.conf" "$(books_db "$n")"; done

cluster stop "${APP_PARTS[@]}" time_server replication >/dev/null
sql "TRUNCATE node_sync, sync_round, node RESTART IDENTITY CASCADE"
cluster reset-data >/dev/null

# start_installed NAME LOG PROG VERS ARGS...: an installed daemon in the background,
# ready once PROG answers over TCP.
start_installed() {
    local name=$1 log=$2 prog=$3 vers=$4
    shift 4
    "$@" >"$TEST_TMP/$log.log" 2>&1 </dev/null &
    INSTALLED_PIDS+=($!)
    local pid=$!
    local deadline=$((SECONDS + 30))
    until rpcinfo -T tcp localhost "$prog" "$vers" >/dev/null 2>&1; do
        kill -0 "$pid" 2>/dev/null || fail "$name exited: $(tail -3 "$TEST_TMP/$log.log")"
        ((SECONDS < deadline)) || fail "$name not serving program $prog after 30 s: $(tail -3 "$TEST_TMP/$log.log")"
        sleep 0.05
    done
}
start_installed "the installed replication server" repl "$REPL_PROG" 2 \
    "$sbin/bibliotime-replication-server" --headless --config "$conf/replication-server.conf"
start_installed "the installed time server" time "$TIME_PROG" 1 \
    "$sbin/bibliotime-time-server" --headless --config "$conf/time-server.conf"
for n in 1 2; do
    start_installed "installed app server $n" "app$n" "$((BOOK_BASE + n))" 2 \
        "$sbin/bibliotime-app-server" --headless --config "$conf/app-server-$n.conf"
done
if [[ -n $user ]]; then
    for pid in "${INSTALLED_PIDS[@]}"; do
        u=$(ps -o user= -p "$pid" | tr -d ' ')
        [[ $u == "$user" ]] || fail "installed daemon $pid runs as '$u', not $user"
    done
    pass "the installed replication server, time server and app servers 1 and 2 serve from their config files, as $user"
else
    pass "the installed replication server, time server and app servers 1 and 2 serve from their config files"
fi
wait_until "the installed time server synchronising both app servers" 30 rounds_at_least 2 1
pass "the installed time server synchronised both installed app servers in $(applied_rounds 2) round(s) (clock DB)"

# The shipped client.conf, untouched: servers localhost:1 and localhost:2.
out=$("$bin/bibliotime-client" --config "$conf/client.conf" --headless --request --json \
    --name installer 2>"$TEST_TMP/client.log") || fail "the installed client: exit $?: $out $(tail -3 "$TEST_TMP/client.log")"
isbn=$(sed -n 's/^{"isbn":"\([0-9]*\)".*/\1/p' <<<"$out")
[[ -n $isbn ]] || fail "the installed client printed no book: $out"
wait_caught_up
(($(bsql 2 "SELECT count(*) FROM request WHERE isbn = '$isbn'") == 1)) ||
    fail "book $isbn is not a request in books2"
pass "the installed client, from the shipped client.conf, got book $isbn (in both books DBs)"

for pid in "${INSTALLED_PIDS[@]}"; do
    kill -TERM "$pid"
    rc=0
    wait "$pid" || rc=$?
    ((rc == 0)) || fail "installed daemon $pid exited with status $rc after SIGTERM"
done
INSTALLED_PIDS=()
for prog in "$REPL_PROG" "$TIME_PROG" "$((BOOK_BASE + 1))" "$((BOOK_BASE + 2))"; do
    rpcinfo -T tcp localhost "$prog" >/dev/null 2>&1 && fail "program $prog still registered after SIGTERM"
done
pass "the installed daemons stop on SIGTERM with status 0, their registrations gone"

# ---- the installed db/load-catalogue ----
sql "DROP DATABASE IF EXISTS $SCRATCH_DB" >/dev/null 2>&1
sql "CREATE DATABASE $SCRATCH_DB"
DB=$SCRATCH_DB sql "$(cat "$share/db/books.sql")" >/dev/null
out=$(env -u BIN_DIR PGHOST="$CLUSTER_DIR/run" PGPORT="$PGPORT" PGUSER=postgres \
    "$share/db/load-catalogue" "$SCRATCH_DB" 2>&1) || fail "the installed load-catalogue: $out"
[[ $out == "loaded 15 books (15 covers) into $SCRATCH_DB" ]] || fail "the installed load-catalogue: $out"
pass "the installed load-catalogue finds its checker in libexec and the installed covers: $out"
sql "DROP DATABASE $SCRATCH_DB"

# ---- man pages ----
export MANWIDTH=80
for page in "$DEST$prefix"/share/man/man*/*; do
    name=$(basename "$page"); name=${name%.*}
    warnings=$(man --warnings -l "$page" 2>&1 >/dev/null)
    [[ -z $warnings ]] || fail "man -l $page: $warnings"
    text=$(man -l "$page" 2>/dev/null)
    for s in NAME SYNOPSIS DESCRIPTION "RPC PROGRAMS" "EXIT STATUS" FILES EXAMPLES "SEE ALSO"; do
        grep -qx "$s" <<<"$text" || fail "$name($page): no $s section"
    done
    prog=$sbin/$name
    [[ -x $prog ]] || prog=$bin/$name
    # man renders a hyphen of an option as U+2010 where it breaks a line: compare unbroken.
    flat=$(MANWIDTH=1000 man -l "$page" 2>/dev/null)
    for opt in $("$prog" --config /dev/null --help | grep -oE '^ +--[a-z-]+' | tr -d ' ' | sort -u); do
        grep -qe "$opt" <<<"$flat" || fail "$name: option $opt of --help is not in its man page"
    done
done
pass "man -l renders the 4 pages without a warning; each has its sections and every option of its --help"

# ---- systemd units ----
units=$TEST_TMP/units
mkdir -p "$units"
for u in "$DEST$prefix"/lib/systemd/system/*.service; do
    grep -q '^Restart=on-failure$' "$u" || fail "$(basename "$u"): no Restart=on-failure"
    grep -qE '^After=.*\brpcbind\.service\b' "$u" || fail "$(basename "$u"): not After=rpcbind.service"
    grep -qE '^Wants=.*\brpcbind\.service\b' "$u" || fail "$(basename "$u"): no Wants=rpcbind.service"
    grep -qE '^After=.*\bpostgresql\.service\b' "$u" || fail "$(basename "$u"): not After=postgresql.service"
    grep -qE '^(Wants|Requires)=.*postgresql' "$u" && fail "$(basename "$u") pulls PostgreSQL in"
    sed "s|$prefix/sbin/|$sbin/|g" "$u" >"$units/$(basename "$u")"
done
grep -q -- '--config /etc/bibliotime/app-server-%i.conf --instance %i' "$units/bibliotime-app-server@.service" ||
    fail "the app server unit does not take app-server-%i.conf and instance %i"
ln -s bibliotime-app-server@.service "$units/bibliotime-app-server@1.service"
out=$(cd "$units" && MANPATH=$DEST$prefix/share/man: systemd-analyze verify \
    "$units/bibliotime-time-server.service" "$units/bibliotime-replication-server.service" \
    "$units/bibliotime-app-server@1.service" 2>&1) || fail "systemd-analyze verify: $out"
# It says what it finds wrong but exits 0 for much of it (a bad Restart= value...).
[[ -z $out ]] || fail "systemd-analyze verify: $out"
pass "systemd-analyze verify accepts the 3 units (app server as instance @1), their man pages found"

# ---- make uninstall ----
make -C "$ROOT" uninstall DESTDIR="$DEST" >"$TEST_TMP/uninstall.log" 2>&1 ||
    fail "make uninstall DESTDIR=$DEST: $(tail -5 "$TEST_TMP/uninstall.log")"
left=$(cd "$DEST" && find . -type f | sort | tr '\n' ' ')
want="./etc/bibliotime/app-server-1.conf ./etc/bibliotime/app-server-2.conf ./etc/bibliotime/replication-server.conf ./etc/bibliotime/time-server.conf "
[[ $left == "$want" ]] || fail "after make uninstall: left '$left', expected the 4 changed config files only"
(($(grep -c 'make uninstall: kept' "$TEST_TMP/uninstall.log") == 4)) ||
    fail "make uninstall did not say which config files it kept: $(cat "$TEST_TMP/uninstall.log")"
pass "make uninstall removed the $((installed - 4)) other files (the unchanged client.conf too) and kept the 4 changed config files, saying so"
