#!/usr/bin/env bash
# The README's "Each process on its own host", command for command, on separate hosts:
# network namespaces with a private /run (rpcbind) each, PostgreSQL on db, chronyd on utc,
# app1 behind the link emulator (test/netbed/netbed.sh). The commands are read out of
# README.md (readme_commands), only TM shortened. Checks: the roles db/setup made are all
# the daemons use; each host's rpcbind holds only its own programs, reachable from the
# others; rounds in the clock DB with the nodes' real addresses; books from both servers
# to a client host and identical books DBs; app1's link pulled (skipped as unreachable,
# app2 still serving) and restored (synchronised and serving again); a restarted time
# server synchronising both nodes in its first round, from its node table.
source "$(dirname "$0")/lib.sh"

export NETBED_DIR=${NETBED_DIR:-$VAR_DIR/netbed-test} NETBED_PREFIX=${NETBED_PREFIX:-btt-}
export TM=1
TIME_PROG=723189760 REPL_PROG=723190272
CLOCK1=$((723190016 + 1)) CLOCK2=$((723190016 + 2)) BOOK1=$((723190528 + 1)) BOOK2=$((723190528 + 2))
trap netbed_finish EXIT

netbed_down --purge >/dev/null 2>&1 || true
netbed_up >"$TEST_TMP/up.log" 2>&1 || { cat "$TEST_TMP/up.log" >&2; fail "netbed up"; }
pass "hosts up: $(netbed_hosts), app1 behind linkem"

readme_commands >"$TEST_TMP/commands"
(($(wc -l <"$TEST_TMP/commands") >= 7)) || fail "README gave only $(wc -l <"$TEST_TMP/commands") multi-host commands: $(cat "$TEST_TMP/commands")"
cmd_on() { readme_cmd "$@"; }

# ---- the database host
mkdir -p "$(host_etc db)"
setup=$(cmd_on db db/setup)
[[ -n $setup ]] || fail "no db/setup command for db in the README"
run_on db "$setup" >"$TEST_TMP/setup.log" 2>&1 || { cat "$TEST_TMP/setup.log" >&2; fail "on db: $setup"; }
all=$(host_etc db)/all.pgpass
[[ $(stat -c %a "$all") == 600 ]] || fail "$all is mode $(stat -c %a "$all"), not 600"
readme_split_passfile
pass "db/setup as the README prints it: databases and roles, passfile mode 600, one line per daemon host"

# ---- keys and the daemon user, as the README says (one /etc/passwd for all hosts here)
readme_keys_and_user
keys=$(host_etc time)/bibliotime.keys
[[ $(stat -c %a "$keys") == 600 ]] || fail "$keys is mode $(stat -c %a "$keys"), not 600"
for h in repl app1 app2; do
    cmp -s "$keys" "$(host_etc "$h")/bibliotime.keys" && [[ $(stat -c %a "$(host_etc "$h")/bibliotime.keys") == 600 ]] ||
        fail "the key file on $h is not the one of time, mode 600"
done
pass "scripts/keygen made $keys (mode 600), copied to repl, app1 and app2; passfiles the daemon user's"

# ---- the daemons, in the README's order
for spec in repl:replication_server:repl time:time_server:time app1:app_server:app1 app2:app_server:app2; do
    IFS=: read -r h prog name <<<"$spec"
    c=$(cmd_on "$h" "$prog")
    [[ -n $c ]] || fail "no $prog command for $h in the README"
    spawn_on "$h" "$name" "$c"
done
wait_until "REPL on repl, from cli" 30 rpc_answers cli repl "$REPL_PROG" 2
wait_until "TIME on time, from cli" 30 rpc_answers cli time "$TIME_PROG"
wait_until "BOOK 1 on app1, from cli" 30 rpc_answers cli app1 "$BOOK1" 2
wait_until "BOOK 2 on app2, from cli" 30 rpc_answers cli app2 "$BOOK2" 2
pass "every daemon answers from the client host over the network"
for name in repl time app1 app2; do
    user=$(ps -o user= -p "$(netbed_pid "$name")" | tr -d ' ')
    [[ $user == bibliotime ]] || fail "$name runs as '$user', not bibliotime"
done
pass "every daemon runs as bibliotime"

# ---- registration: one rpcbind per host
progs() { netbed_exec "$1" timeout -k 1 5 rpcinfo -p 127.0.0.1 | awk 'NR > 1 { print $1 }' | sort -u | tr '\n' ' '; }
p1=$(progs app1) p2=$(progs app2) pt=$(progs time)
[[ " $p1 " == *" $CLOCK1 "* && " $p1 " == *" $BOOK1 "* && " $p1 " != *" $CLOCK2 "* && " $p1 " != *" $TIME_PROG "* ]] ||
    fail "app1's rpcbind holds: $p1"
[[ " $p2 " == *" $CLOCK2 "* && " $p2 " != *" $CLOCK1 "* ]] || fail "app2's rpcbind holds: $p2"
[[ " $pt " == *" $TIME_PROG "* && " $pt " != *" $CLOCK1 "* ]] || fail "time's rpcbind holds: $pt"
remote=$(netbed_exec cli timeout -k 1 5 rpcinfo -p app1 | awk -v p="$CLOCK1" '$1 == p' | wc -l)
((remote >= 2)) || fail "rpcinfo -p app1 from cli does not list CLOCK 1 over TCP and UDP"
pass "each host's rpcbind holds only its own programs (app1: $p1; app2: $p2), and rpcinfo -p app1 works from cli"

# ---- the roles
roles=$(dbq postgres "SELECT string_agg(DISTINCT usename, ' ' ORDER BY usename) FROM pg_stat_activity
                     WHERE datname IN ('clock', 'replication', 'books1', 'books2') AND pid <> pg_backend_pid()")
[[ $roles == "bibliotime_app1 bibliotime_app2 bibliotime_repl bibliotime_time" ]] ||
    fail "the daemons connect as '$roles', expected their own four roles"
super=$(dbq postgres "SELECT count(*) FROM pg_roles WHERE rolname LIKE 'bibliotime_%' AND (rolsuper OR rolcreatedb OR rolcreaterole)")
((super == 0)) || fail "$super bibliotime roles have superuser, createdb or createrole"
pw=$(cut -d: -f5 "$(host_etc app1)/pgpass")
denied=$(netbed_exec app1 env PGPASSWORD="$pw" \
    psql -X -At -h db -U bibliotime_app1 -d clock -c 'SELECT 1' 2>&1 || true)
[[ $denied == *"permission denied for database"* ]] || fail "app1's role reached the clock DB: $denied"
pass "daemons connect as their own roles ($roles), none privileged; app1's role is refused by the clock DB"

# ---- rounds with the nodes' real addresses
applied() { dbq clock "SELECT count(*) FROM (SELECT round_id FROM node_sync WHERE outcome = 'applied'
                       GROUP BY round_id HAVING count(*) = 2) r"; }
three_rounds() { (($(applied) >= 3)); }
wait_until "3 rounds with both app servers applied" 40 three_rounds
addrs=$(dbq clock "SELECT string_agg(name || '=' || host(address), ' ' ORDER BY name) FROM node")
[[ $addrs == "app1=10.77.0.11 app2=10.77.0.12" ]] || fail "the clock DB's node table holds '$addrs'"
worst=$(dbq clock "SELECT max(abs(delta_us)) FROM node_sync WHERE outcome = 'applied' AND round_id = (SELECT max(round_id) FROM node_sync)")
((worst < 5000)) || fail "last round's largest correction is $worst us"
pass "rounds in the clock DB with both nodes at their real addresses ($addrs), last round within ${worst} us"

# ---- books from both servers to the client host
ask() {
    local c out
    c=$(awk -F'\t' -v n="$1" '$1 == "cli" && $2 ~ /^client / { if (++i == n) { print $2; exit } }' "$TEST_TMP/commands")
    [[ -n $c ]] || fail "no client command number $1 for cli in the README"
    out=$(run_on cli "$c" 2>>"$TEST_TMP/client.log") || fail "on cli: $c: exit $? ($(tail -2 "$TEST_TMP/client.log"))"
    [[ $out == '{"isbn":'*'"server":'"$2"',"served_at":'* ]] || fail "on cli: $c printed '$out'"
    echo "$out" >>"$TEST_TMP/books.json"
}
ask 1 1
ask 2 2
books_identical() {
    local n t
    for t in book library_user session request; do
        for n in 1 2; do dbq "books$n" "COPY (SELECT * FROM $t ORDER BY id) TO STDOUT" >"$TEST_TMP/b$n.$t"; done
        cmp -s "$TEST_TMP/b1.$t" "$TEST_TMP/b2.$t" || return 1
    done
}
caught_up() {
    local seq
    seq=$(dbq replication "SELECT coalesce(max(seq), 0) FROM log")
    [[ $(dbq books1 "SELECT applied_seq FROM replica_state") == "$seq" &&
       $(dbq books2 "SELECT applied_seq FROM replica_state") == "$seq" ]]
}
wait_until "both books DBs applying the whole log" 20 caught_up
books_identical || fail "books1 and books2 differ after two requests"
pass "the README's client commands got a book from app1 and from app2 on the client host; books DBs identical"

# ---- app1's link pulled and restored
skipped_round() {
    [[ $(dbq clock "SELECT count(*) FROM node_sync s JOIN node n ON n.id = s.node_id
                    WHERE n.name = 'app1' AND s.outcome = 'skipped' AND s.reason LIKE 'unreachable%'
                      AND s.round_id > $1") -gt 0 ]]
}
last=$(dbq clock "SELECT max(id) FROM sync_round")
netbed_unplug app1
wait_until "a round skipping app1 as unreachable" 30 skipped_round "$last"
ask 2 2
pass "app1 unplugged: skipped as unreachable in the clock DB, app2 still serves the client"
last=$(dbq clock "SELECT max(id) FROM sync_round")
netbed_plug app1
app1_back() {
    [[ $(dbq clock "SELECT count(*) FROM node_sync s JOIN node n ON n.id = s.node_id
                    WHERE n.name = 'app1' AND s.outcome = 'applied' AND s.round_id > $last") -ge 2 ]]
}
wait_until "app1 synchronised again after its link came back" 40 app1_back
wait_until "BOOK 1 on app1 answers again" 20 rpc_answers cli app1 "$BOOK1" 2
ask 1 1
wait_until "both books DBs applying the whole log" 20 caught_up
books_identical || fail "books1 and books2 differ after the link came back"
pass "app1 plugged back: synchronised in the clock DB, serves books again, books DBs identical"

# ---- a restarted time server: both nodes from its first round
netbed_stop time >/dev/null
last=$(dbq clock "SELECT max(id) FROM sync_round")
spawn_on time time "$(cmd_on time time_server)"
first_round() { [[ $(dbq clock "SELECT count(*) FROM sync_round WHERE id > $last") -ge 1 ]]; }
wait_until "the restarted time server's first round" 30 first_round
first=$((last + 1))
got=$(dbq clock "SELECT string_agg(n.name || ':' || s.outcome || ':' || coalesce(abs(s.delta_us)::text, '-'), ' ' ORDER BY n.name)
                 FROM node_sync s JOIN node n ON n.id = s.node_id WHERE s.round_id = $first")
[[ $got =~ ^app1:applied:([0-9]+)\ app2:applied:([0-9]+)$ ]] || fail "the restarted time server's first round ($first): '$got'"
((BASH_REMATCH[1] < 1000 && BASH_REMATCH[2] < 1000)) || fail "first round after the restart: $got (more than 1 ms)"
pass "a restarted time server synchronised both nodes in its first round from its node table ($got us)"
