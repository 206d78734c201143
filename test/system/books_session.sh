#!/usr/bin/env bash
# One session by hand: 15 requests spread over both app servers give each of the 15
# books of db/catalogue.tsv exactly once; the 16th gets SESSION_OVER (exit 3 and the
# summary); --new-session opens a new session that gives all 15 again. Both books DBs
# hold the same rows, and the request rows are exactly what the clients printed; every
# one-shot client synchronised its clock before asking (client_time near server_time).
source "$(dirname "$0")/lib.sh"

export TM=1
start_servers

grep -v '^#' "$ROOT/db/catalogue.tsv" | grep -v '^$' | cut -f1 | sort >"$TEST_TMP/catalogue.isbn"
books=$(wc -l <"$TEST_TMP/catalogue.isbn")
((books == 15)) || fail "db/catalogue.tsv has $books books, expected 15"

# ask OUT INSTANCE NAME: one book; the client must exit 0 and print one JSON line.
ask() {
    local out=$1 inst=$2 name=$3 rc=0 line
    line=$("$BIN_DIR/client" --headless --instance "$inst" --name "$name" --request --json \
        2>>"$TEST_TMP/client.log") || rc=$?
    ((rc == 0)) || fail "request by $name on server $inst: exit $rc ($line; $(tail -1 "$TEST_TMP/client.log"))"
    [[ $line == '{"isbn":"'*'"server":'"$inst"',"served_at":'* ]] || fail "request by $name on server $inst printed '$line'"
    echo "$line" >>"$out"
}

# A whole session: 15 requests alternating between servers 1 and 2.
# Checks that they gave the 15 books once each, in one session; prints that session.
one_session() {
    local out=$1 i sessions
    for i in $(seq 1 15); do
        ask "$out" $((2 - i % 2)) "reader$i"
    done
    printed_books "$out" >"$out.tsv"
    cut -f3 "$out.tsv" | sort >"$out.isbn"
    cmp -s "$out.isbn" "$TEST_TMP/catalogue.isbn" ||
        fail "15 requests did not give each book once: $(sort "$out.isbn" | uniq -d | head -3 | tr '\n' ' ')missing $(comm -13 "$out.isbn" "$TEST_TMP/catalogue.isbn" | tr '\n' ' ')"
    sessions=$(cut -f2 "$out.tsv" | sort -u)
    [[ $(wc -l <<<"$sessions") == 1 ]] || fail "15 books came from several sessions: $sessions"
    SESSION=$sessions
}

one_session "$TEST_TMP/session1.out"
s1=$SESSION
by1=$(awk -F'\t' '$4 == 1' "$TEST_TMP/session1.out.tsv" | wc -l)
by2=$(awk -F'\t' '$4 == 2' "$TEST_TMP/session1.out.tsv" | wc -l)
((by1 == 8 && by2 == 7)) || fail "servers handed out $by1 and $by2 books, expected 8 and 7"
reqs=$(cut -f1 "$TEST_TMP/session1.out.tsv" | sort -u | wc -l)
((reqs == 15)) || fail "15 books carry only $reqs distinct request ids"
pass "15 requests over both servers gave each of the 15 books once (session $s1, server 1: $by1, server 2: $by2, 15 request ids)"

# The 16th (server 2) and a 17th (server 1): SESSION_OVER with the summary, exit 3.
for inst in 2 1; do
    rc=0
    out=$("$BIN_DIR/client" --headless --instance "$inst" --name reader16 --request --json 2>&1) || rc=$?
    ((rc == 3)) || fail "request after the last book on server $inst: exit $rc, expected 3 ($out)"
    want="{\"session_over\":$s1,\"books\":15,\"handed_out\":15,\"by_server\":{\"1\":8,\"2\":7},\"users\":15}"
    [[ $out == "$want" ]] || fail "SESSION_OVER summary on server $inst: '$out', expected '$want'"
    pass "request after the last book on server $inst: exit 3 and the summary $out"
done
left1=$(book_status 1 books_left)
left2=$(book_status 2 books_left)
((left1 == 0 && left2 == 0)) || fail "STATUS after the session: books_left $left1 and $left2, expected 0"

# A new session: a new id, and all 15 books again.
rc=0
out=$("$BIN_DIR/client" --headless --instance 1 --name reader1 --new-session --json 2>&1) || rc=$?
((rc == 0)) || fail "--new-session: exit $rc ($out)"
s2=$(sed -n 's/^{"session":\([0-9]*\),"books_left":15}$/\1/p' <<<"$out")
[[ -n $s2 ]] && ((s2 > s1)) || fail "--new-session printed '$out', expected a session after $s1 with 15 books"
pass "--new-session opened session $s2 after $s1 ($out)"
session_seen_by_2() { [[ $(book_status 2 session) == "$s2" ]]; }
wait_until "app server 2 in session $s2" 10 session_seen_by_2

one_session "$TEST_TMP/session2.out"
[[ $SESSION == "$s2" ]] || fail "the 15 books after --new-session came from session $SESSION, not $s2"
pass "session $s2 gave each of the 15 books once again"

# The books DBs.
wait_caught_up 10
books_same "two sessions by hand"
books_no_duplicates "two sessions by hand"
printed_books "$TEST_TMP"/session[12].out >"$TEST_TMP/printed_all.tsv"
for n in 1 2; do
    db_books "$n" >"$TEST_TMP/db$n.tsv"
    cmp -s "$TEST_TMP/printed_all.tsv" "$TEST_TMP/db$n.tsv" ||
        fail "books$n request rows differ from what the clients printed: $(diff "$TEST_TMP/printed_all.tsv" "$TEST_TMP/db$n.tsv" | head -4 | tr '\t\n' ' ;')"
done
pass "request rows of both DBs are exactly the 30 books the clients printed (id, session, ISBN, server)"

got=$(bsql 1 "SELECT string_agg(id || ':' || coalesce(previous::text, '-') || ':' ||
                     (closed_at IS NOT NULL)::text, ' ' ORDER BY id) FROM session")
[[ $got == "$s1:-:true $s2:$s1:false" ]] ||
    fail "session table: '$got', expected '$s1:-:true $s2:$s1:false' (id:previous:closed)"
users=$(bsql 1 "SELECT count(*) FROM library_user WHERE name LIKE 'reader%' AND address = '127.0.0.1'")
((users == 16)) || fail "library_user holds $users readers, expected 16 (reader1..reader16)"
pass "sessions $s1 (closed) and $s2 (open, previous $s1); 16 users from 127.0.0.1 (reader16 only got SESSION_OVER)"

# Every one-shot client synchronised before its request: client_time is its synchronised
# clock (its random start time would be hours off), within a second of the server's time
# (both read modulo 24 h; a request's own latency, a lost claim's retry included, is far
# less).
far=$(bsql 1 "SELECT count(*) FILTER (WHERE client_time IS NULL),
                     count(*) FILTER (WHERE abs(mod(mod((extract(epoch FROM server_time) -
                         extract(epoch FROM client_time))::numeric, 86400) + 129600, 86400) - 43200) > 1),
                     count(*),
                     round(max(abs(mod(mod((extract(epoch FROM server_time) -
                         extract(epoch FROM client_time))::numeric, 86400) + 129600, 86400) - 43200)) * 1000, 1)
              FROM request")
IFS='|' read -r unset_ far_off all worst_ms <<<"$far"
((unset_ == 0 && far_off == 0)) ||
    fail "of $all requests, $unset_ stored no client time and $far_off one more than 1 s from the server's (clients must sync before their first request)"
pass "all $all one-shot requests stored a synchronised client_time (at most $worst_ms ms from server_time)"

# A name with every character that means something in an SQL array or string literal
# (the applier passes batches as arrays) reaches both DBs unchanged.
odd='Ñusta "Ana" O'\''Brien\, {NULL}'
rc=0
out=$("$BIN_DIR/client" --headless --instance 2 --name "$odd" --new-session --json 2>&1) || rc=$?
((rc == 0)) || fail "--new-session by '$odd': exit $rc ($out)"
ask "$TEST_TMP/odd.out" 2 "$odd"
wait_caught_up 10
books_same "a user name with quotes, a backslash and braces"
for n in 1 2; do
    got=$(bsql "$n" "SELECT u.name FROM request q JOIN library_user u ON u.id = q.user_id
                     ORDER BY q.id DESC LIMIT 1")
    [[ $got == "$odd" ]] || fail "books$n stored the user of the last request as '$got', expected '$odd'"
done
got=$(rsql "SELECT user_name FROM log WHERE kind = 'BOOK_CLAIM' ORDER BY seq DESC LIMIT 1")
[[ $got == "$odd" ]] || fail "the replication log's last claim names '$got', expected '$odd'"
pass "the user name '$odd' is stored unchanged in the replication log and both books DBs"
no_sanitizer_reports
