#!/usr/bin/env bash
# Spanish: the whole system started with LANG=es_MX.UTF-8.
# - The end of a session in a client window, in Spanish: test/gui/gui_session_end.sh as
#   it is (the dialog "Se repartieron todos los libros", its buttons "Nueva sesión",
#   which opens one in both books DBs, and "Salir", which ends the client), found and
#   clicked on the Spanish dialog.
# - The windows' titles name their process and instance in Spanish.
# - The client's terminal output: the summary of a session over, a new session and a
#   book, in Spanish with 24-hour times; the dialogue's prompt and its keys ([s] salir);
#   --json stays as it is (keys in English, for scripts).
# - What stays English: the log lines, and the clock DB's reasons (a node killed: the
#   C library's own "Connection refused" too, whose Spanish catalogue is installed here).
# - The language without the locale generated, and from LANGUAGE; anything else English.
# - po/: every marked text is in po/bibliotime.pot and es.po translates all of it.
export LANG=es_MX.UTF-8
unset LANGUAGE LC_ALL LC_MESSAGES
source "$(dirname "$0")/gui_session_end.sh"

# ---- Titles -----------------------------------------------------------------------------
title_of() { xdotool getwindowname "$(window_of "$1")"; }
t=$(title_of "$(part_pid_of time_server)")
[[ $t == "Bibliotime: servidor de tiempo" ]] || fail "the time server's window is titled \"$t\""
for n in 1 2; do
    a=$(title_of "$(part_pid_of "app$n")")
    [[ $a == "Bibliotime: servidor de aplicación $n" ]] || fail "app server $n's window is titled \"$a\""
done
pass "titles: \"$t\", \"$a\" (and app server 1's)"

# ---- The client in a terminal --------------------------------------------------------------
client_cli() { "$BIN_DIR/client" --headless --instance 1 --name terminal-es "$@"; }
rc=0
out=$(client_cli --request 2>"$TEST_TMP/cli.err") || rc=$?
# The session the window ended with "Salir" is over: exit 3 and its summary.
((rc == 3)) || fail "client --request after the session ended: exit $rc, 3 expected ($out)"
[[ $out == "Se repartieron todos los libros: la sesión "*" entregó 15 de 15 libros (servidor 1: "*") a "*" usuarios." ]] ||
    fail "the summary of a session over is not in Spanish: $out"
pass "client --request, session over: $out"
out=$(client_cli --new-session 2>>"$TEST_TMP/cli.err") || fail "client --new-session: exit $? ($out)"
[[ $out == "La sesión "*" está abierta con 15 libros (se abrió una nueva sesión; "*")." ]] ||
    fail "a new session is not said in Spanish: $out"
pass "client --new-session: $out"
out=$(client_cli --request 2>>"$TEST_TMP/cli.err") || fail "client --request: exit $? ($out)"
[[ $out =~ ^[0-9]{13}\ \".*\"\ de\ .*\ \([0-9]+\),\ sesión\ [0-9]+,\ pedido\ [0-9]+,\ servidor\ 1\ a\ las\ ([0-2][0-9]):[0-5][0-9]:[0-5][0-9]\.[0-9]{6}$ ]] ||
    fail "a book is not said in Spanish with a 24-hour time: $out"
((10#${BASH_REMATCH[1]} <= 23)) || fail "not a 24-hour time: $out"
pass "client --request: $out"
out=$(client_cli --request --json 2>>"$TEST_TMP/cli.err") || fail "client --request --json: exit $? ($out)"
[[ $out == '{"isbn":"'*'","title":"'*'"author":"'*'"session":'*'"served_at":"'*'"again":false,"answered_by":1}' ]] ||
    fail "--json changed with the language: $out"
pass "client --request --json is the same in Spanish: $out"
# The dialogue, in a terminal (script gives it one): Enter asks, "s" quits.
out=$(printf '\ns\n' | script -qec "$BIN_DIR/client --headless --instance 1 --name dialogo-es --deadline 5" /dev/null 2>&1) ||
    fail "the client's dialogue ended with status $?: $out"
out=${out//$'\r'/}
[[ $out == *"[Enter] pedir un libro, [s] salir: "*", sesión "*", pedido "*" a las "* ]] ||
    fail "the dialogue is not in Spanish: $out"
pass "the terminal dialogue in Spanish, \"s\" (salir) quits: $(grep -m1 -o '\[Enter\][^:]*:' <<<"$out")"

# ---- What stays English ----------------------------------------------------------------------
grep -q 'request: book ' "$TEST_TMP/client1.log" || fail "the client window's log lines are not English"
grep -q 'over: exit' "$TEST_TMP/client1.log" || fail "no \"over: exit\" log line"
app2_id=$(sql "SELECT id FROM node WHERE name = 'app2'")
kill -9 "$(part_pid_of app2)"
skipped() { [[ -n $(sql "SELECT 1 FROM node_sync WHERE node_id = $app2_id AND outcome = 'skipped' LIMIT 1") ]]; }
wait_until "a round skipping app2" 40 skipped
reason=$(sql "SELECT reason FROM node_sync WHERE node_id = $app2_id AND outcome = 'skipped' ORDER BY round_id DESC LIMIT 1")
[[ $reason == "unreachable: "* ]] || fail "the clock DB's reason is not English: $reason"
[[ $reason == *[Rr]efused* || $reason == *"not registered"* || $reason == *"timed out"* ]] ||
    fail "the clock DB's reason holds no English system error: $reason"
pass "log lines and the clock DB stay English with LANG=$LANG: \"$reason\""
cluster start app2 >/dev/null

# ---- Which language -----------------------------------------------------------------------
name_err() { { env -u LANGUAGE -u LC_ALL -u LC_MESSAGES "$@" "$BIN_DIR/client" --name "" --request 2>&1 || true; } | tail -1; }
es="client: --name: de 1 a"
en="client: --name: 1 to"
for case in "LANG=es_AR.UTF-8:$es" "LANG=es:$es" "LANG=C LANGUAGE=es:en:$es" "LANG=es_MX.UTF-8 LANGUAGE=en:$en" \
    "LANG=fr_FR.UTF-8:$en" "LANG=C.UTF-8:$en" "LANG=:$en"; do
    vars=${case%%:client*}
    want=${case#"$vars":}
    # shellcheck disable=SC2086 # the words are the variables
    got=$(name_err $vars)
    [[ $got == "$want"* ]] || fail "with $vars: \"$got\", expected \"$want...\""
done
pass "es_AR (no locale generated), es, LANGUAGE=es give Spanish; LANGUAGE=en, fr_FR, C.UTF-8, none give English"

# ---- The catalogues -------------------------------------------------------------------------
out=$(make -s -C "$ROOT" -f po/po.mk po-check 2>&1) || fail "po-check: $out"
pass "$out"
