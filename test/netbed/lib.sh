# Shared by the tests and benchmarks on separate hosts (test/netbed/*.sh but netbed.sh,
# test/bench/netsync.sh): sourced, never run. Brings netbed.sh's functions, the checks'
# output, and the README's multi-host commands as data (readme_commands), so a test runs
# exactly what the README prints.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
export BIN_DIR=${BIN_DIR:-$ROOT/build/san/bin}
export TOOLS=${TOOLS:-$ROOT/build/san/test}
# shellcheck source=netbed.sh
source "$ROOT/test/netbed/netbed.sh" # sets VAR_DIR (scripts/lib/var-dir.sh)

# A host of the bed is a machine of its own: nothing of the caller's PostgreSQL or
# cluster settings (test/run-all's loopback cluster) applies there.
unset PGHOST PGPORT PGUSER PGDATABASE PGPASSFILE CLUSTER_DIR UTC_SERVER NTP_PORT

TEST_NAME=$(basename "$0" .sh)
TEST_TMP=$(mktemp -d "/tmp/bibliotime-$TEST_NAME.XXXXXX")
chmod 755 "$TEST_TMP"
DAEMONS=()
# shellcheck source=../lib/checks.sh
source "$ROOT/test/lib/checks.sh"


# The hosts' own /etc/bibliotime: the README's paths there are the host's files. Under
# /tmp, so the daemon user can reach its passfile wherever the checkout lies.
host_etc() { echo "$TEST_TMP/hosts/$1/etc/bibliotime"; }

# readme_commands: the commands of README.md's "Each process on its own host", one line
# each, "HOST<TAB>COMMAND", in the order printed: the fenced blocks whose first line is
# "# on HOST", continuation lines joined. /etc/bibliotime/ becomes that host's own
# folder (one machine, one /etc), and "--tm 10" becomes --tm $TM when TM is set (a test
# has no time for 10 s rounds); nothing else is changed.
readme_commands() {
    awk -v tm="${TM:-}" '
        /^## Each process on its own host/ { in_section = 1; next }
        in_section && /^## / { exit }
        !in_section { next }
        /^```/ { if (in_block) { in_block = 0; host = "" } else { in_block = 1; first = 1 }; next }
        !in_block { next }
        first { first = 0; if ($0 ~ /^# on [a-z0-9]+$/) { host = $3 }; next }
        host == "" { next }
        {
            line = $0
            if (line ~ /\\$/) { sub(/\\$/, "", line); cont = cont line; next }
            line = cont line; cont = ""
            gsub(/^ +| +$/, "", line); gsub(/  +/, " ", line)
            if (tm != "") gsub(/--tm 10( |$)/, "--tm " tm " ", line)
            print host "\t" line
        }' "$ROOT/README.md" |
        while IFS=$'\t' read -r host cmd; do
            printf '%s\t%s\n' "$host" "${cmd//\/etc\/bibliotime\//$(host_etc "$host")/}"
        done
}

# readme_cmd HOST PREFIX: the README's first command for HOST that starts with PREFIX
# (readme_commands must have written $TEST_TMP/commands).
readme_cmd() { awk -F'\t' -v h="$1" -v p="$2" '$1 == h && index($2, p) == 1 { print $2; exit }' "$TEST_TMP/commands"; }

# readme_split_passfile: each daemon host's line of db's all.pgpass as its own pgpass.
readme_split_passfile() {
    local pair h db
    for pair in time:clock repl:replication app1:books1 app2:books2; do
        h=${pair%%:*} db=${pair#*:}
        mkdir -p "$(host_etc "$h")"
        (umask 077; grep ":$db:" "$(host_etc db)/all.pgpass" >"$(host_etc "$h")/pgpass") ||
            fail "no $db line in $(host_etc db)/all.pgpass"
    done
}

# readme_keys_and_user: as the README says, the daemon user (one /etc/passwd for all
# hosts here), the key file made on time by the README's command and copied to the
# other daemon hosts, and each passfile given to the daemon user.
readme_keys_and_user() {
    local keygen h
    id -u bibliotime >/dev/null 2>&1 ||
        useradd --system --no-create-home --shell /usr/sbin/nologin bibliotime
    keygen=$(readme_cmd time scripts/keygen)
    [[ -n $keygen ]] || fail "no scripts/keygen command for time in the README"
    run_on time "$keygen" >"$TEST_TMP/keygen.log" 2>&1 ||
        { cat "$TEST_TMP/keygen.log" >&2; fail "on time: $keygen"; }
    for h in repl app1 app2; do cp -p "$(host_etc time)/bibliotime.keys" "$(host_etc "$h")/"; done
    for h in time repl app1 app2; do chown bibliotime "$(host_etc "$h")/pgpass"; done
}

# run_on HOST COMMAND: a README command in the foreground on HOST, from the checkout,
# with the programs on the PATH.
run_on() {
    netbed_exec "$1" bash -c "cd '$ROOT' && PATH='$BIN_DIR':\$PATH && $2"
}

# spawn_on HOST NAME COMMAND: a README daemon command on HOST (netbed_spawn; the pid is
# the daemon's own: bash execs it).
spawn_on() {
    netbed_spawn "$1" "$2" bash -c "cd '$ROOT' && PATH='$BIN_DIR':\$PATH && exec $3" >/dev/null
    DAEMONS+=("$2")
}

# rpc_answers FROM HOST PROG: the program answers a NULL call over TCP from FROM.
rpc_answers() { netbed_exec "$1" timeout -k 1 5 rpcinfo -T tcp "$2" "$3" "${4:-1}" >/dev/null 2>&1; }

# psql on the db host as its administrator: -At, one query.
dbq() { netbed_psql -q -At -v ON_ERROR_STOP=1 -d "$1" -c "$2"; }

# Sanitizer reports in the daemons' logs: printed, and a non-zero status.
sanitizer_reports() {
    local n f bad=()
    for n in "${DAEMONS[@]}"; do
        f=$NETBED_DIR/log/$n.log
        [[ -f $f ]] && grep -qE 'AddressSanitizer|LeakSanitizer|runtime error' "$f" && bad+=("$f")
    done
    ((${#bad[@]} == 0)) && return 0
    printf '[%s] FAIL: sanitizer report in %s\n' "$TEST_NAME" "${bad[*]}" >&2
    return 1
}

# At exit: the daemons (SIGTERM, their exit checked by the sanitizer scan), then the bed.
netbed_finish() {
    local rc=$?
    trap - EXIT
    if ((${#DAEMONS[@]})) && ! netbed_stop "${DAEMONS[@]}" >/dev/null 2>&1; then
        printf '[%s] FAIL: a daemon did not end within its stop timeout of SIGTERM\n' "$TEST_NAME" >&2
        rc=1
    fi
    sanitizer_reports || rc=1
    if ((rc != 0)); then
        log "logs of this test: $TEST_TMP and $NETBED_DIR/log"
        netbed_down >/dev/null 2>&1 || true
    else
        netbed_down --purge >/dev/null 2>&1 || rc=$?
        rm -rf "$TEST_TMP"
    fi
    ((rc == 0)) && log "passed ($CHECKS checks)" || log "FAILED"
    exit "$rc"
}
