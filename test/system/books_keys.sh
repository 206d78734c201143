#!/usr/bin/env bash
# Request keys and releases, driven over RPC with bookctl on the 15-book catalogue:
# - a retry of a key on the other server while the first attempt's claim is in the log
#   (appended straight to the replication server) returns that claim's book, marked
#   again, and takes no second one; so does a retry on the first server;
# - a released key's book is free again and handed out again in the same session;
#   releasing twice, releasing an unknown key and releasing a key of an ended session
#   change nothing and say so; a DBA sees the release in request and book_release;
# - bad input: a key of the wrong length, a retry with the same key under another user
#   name (refused, clear error, nothing appended), RELEASE_BOOK and REQUEST_BOOK from an
#   address the server's --clients does not admit.
source "$(dirname "$0")/lib.sh"

export TM=1
start_servers

entries() { log_max_seq; }
held() { bsql 1 "SELECT count(*) FROM request WHERE released_at IS NULL AND session_id = $1"; }
key_of() { field key "$1"; }
expect() {
    local what=$1 want=$2 rc=0 out
    shift 2
    out=$("$@" 2>&1) || rc=$?
    [[ $out == *"$want"* ]] || fail "$what: expected '$want', got exit $rc: $out"
    pass "$what: $out"
    OUT=$out
}
s=$(book_status 1 session)

# ---- a retry on the other server while the first try's claim is in the log ----
isbn=$(bsql 1 "SELECT isbn FROM free_books ORDER BY id LIMIT 1")
key=00112233445566778899aabbccddeeff
expect "the first try's claim appended through server 1" "status=OK" \
    bookctl setquery --op claim --origin 1 --session "$s" --isbn "$isbn" --name erin --key "$key"
claim=$(field seq "$OUT")
expect "the retry on server 2 with the same key" "isbn=$isbn session=$s request=$claim server=1 again=1" \
    bookctl request --instance 2 --name erin --key "$key" --attempt 2
expect "another retry on server 1" "isbn=$isbn session=$s request=$claim server=1 again=1" \
    bookctl request --instance 1 --name erin --key "$key" --attempt 3
wait_caught_up 10
rows=$(bsql 1 "SELECT count(*) FROM request WHERE request_key = '\\x$key'")
((rows == 1)) || fail "the key holds $rows request rows, expected 1"
pass "the key holds one book (request $claim) whichever server the retries went to"

# ---- bad input ----
before=$(entries)
for bytes in 0 15 17 64; do
    hex=$(head -c "$bytes" /dev/urandom | od -An -tx1 | tr -d ' \n')
    expect "a key of $bytes bytes" "status=BADARG key=$hex message=a request key is 16 bytes, not $bytes" \
        bookctl request --instance 1 --name erin --key "$hex"
done
expect "a retry with erin's key under another name" \
    "status=KEY key=$key message=this key belongs to another user's request" \
    bookctl request --instance 2 --name mallory --key "$key" --attempt 2
expect "a release of erin's key by another name" \
    "status=KEY outcome=- message=this key belongs to another user's request: nothing changed" \
    bookctl release --instance 1 --name mallory --key "$key"
wait_caught_up 10
rows=$(bsql 1 "SELECT count(*) FROM request WHERE request_key = '\\x$key' AND released_at IS NULL")
((rows == 1)) || fail "erin's request was touched by mallory's release"
logged=$(rsql "SELECT count(*) FROM log WHERE seq > $before AND kind = 'BOOK_CLAIM'")
((logged == 0)) || fail "the refused requests appended $logged claims"
pass "wrong key lengths and another user's key: refused, no claim appended, erin's book still hers"

# ---- releases ----
left=$(book_status 1 books_left)
expect "request of a book by fred" "status=OK" bookctl request --instance 1 --name fred
fkey=$(key_of "$OUT") fisbn=$(field isbn "$OUT") freq=$(field request "$OUT")
expect "fred gives it up: released" "status=OK outcome=freed message=released: its book is free again" \
    bookctl release --instance 2 --name fred --key "$fkey"
wait_caught_up 10
((left == $(book_status 1 books_left) && left == $(book_status 2 books_left))) ||
    fail "after the release books_left is $(book_status 1 books_left)/$(book_status 2 books_left), expected $left on both"
got=$(bsql 2 "SELECT released_at IS NOT NULL, released_by > id FROM request WHERE id = $freq")
[[ $got == "t|t" ]] || fail "request $freq after its release: released_at, released_by '$got'"
got=$(bsql 1 "SELECT outcome || ' ' || request_id FROM book_release WHERE request_key = '\\x$fkey'")
[[ $got == "freed $freq" ]] || fail "book_release of fred's key: '$got'"
pass "the book is free again on both servers (books_left $left); a DBA sees request $freq released and book_release 'freed $freq'"

state() { echo "$(book_status 1 books_left) $(bsql 1 "SELECT count(*) || '/' || count(released_at) FROM request")"; }
before=$(state)
expect "releasing it twice" "status=OK outcome=already message=already released: nothing changed" \
    bookctl release --instance 1 --name fred --key "$fkey"
expect "releasing an unknown key" "status=OK outcome=nothing message=released: it held no book, and now never will" \
    bookctl release --instance 2 --name fred --key ffeeddccbbaa99887766554433221100
wait_caught_up 10
[[ $(state) == "$before" ]] || fail "releasing twice or an unknown key changed books_left or the requests: $before -> $(state)"
expect "a request with the released key" "status=RELEASED" \
    bookctl request --instance 2 --name fred --key "$fkey" --attempt 2
# A release naming a session that does not exist: nothing changes, and every server goes
# on writing its books DB (the release is recorded under the current session).
expect "a release naming session 999999" "status=OK outcome=session_over" \
    bookctl release --instance 1 --name fred --key "$fkey" --session 999999
wait_caught_up 10
[[ $(book_status 1 database_ok) == 1 && $(book_status 2 database_ok) == 1 ]] ||
    fail "after a release naming session 999999 a books DB is not ok: $(bookctl status --instance 1) / $(bookctl status --instance 2)"
# A key released unused is remembered across a restart (read back from the books DB).
dead=ffeeddccbbaa99887766554433221100
cluster stop app2 >/dev/null
cluster start app2 >/dev/null
expect "after app server 2 restarted, a request with the key released unused" "status=RELEASED" \
    bookctl request --instance 2 --name fred --key "$dead" --attempt 2
pass "releasing twice and an unknown key changed nothing (books_left, requests/released: $before); the released key gets no book any more"

# The released book goes to someone in this session: take every free book.
n=0
while [[ $(book_status 1 books_left) -gt 0 ]] && ((n < 20)); do
    bookctl request --instance $((n % 2 + 1)) --name "taker$n" >>"$TEST_TMP/takers.out" || true
    n=$((n + 1))
done
wait_caught_up 10
again=$(bsql 1 "SELECT count(*) FROM request WHERE session_id = $s AND isbn = '$fisbn'")
((again == 2)) || fail "the released book $fisbn was handed out $again times in session $s, expected twice (released, then again)"
(($(held "$s") == $(book_status 1 books_total))) || fail "session $s holds $(held "$s") books"
pass "the released book $fisbn went out again in session $s (held: $(held "$s") of $(book_status 1 books_total))"
books_no_duplicates "after the releases"

expect "a new session" "status=OK" bookctl restart --instance 1 --seen "$s"
wait_caught_up 10
before=$(state)
expect "releasing a key of the ended session" \
    "status=OK outcome=session_over message=that session is over: nothing changed" \
    bookctl release --instance 2 --name erin --key "$key" --session "$s"
wait_caught_up 10
[[ $(state) == "$before" ]] || fail "a release in an ended session changed something: $before -> $(state)"
pass "a release of a key of the ended session changed nothing"
books_same "after the releases"

# ---- an address --clients does not admit ----
cluster stop app2 >/dev/null
APP2_ARGS="--clients 192.0.2.0/24" cluster start app2 >/dev/null
before=$(entries)
expect "RELEASE_BOOK from 127.0.0.1 to a server admitting 192.0.2.0/24" \
    "status=DENIED outcome=- message=RELEASE_BOOK refused: caller 127.0.0.1 is not in --clients" \
    bookctl release --instance 2 --name fred --key "$fkey"
expect "REQUEST_BOOK from 127.0.0.1 to it" "status=DENIED" bookctl request --instance 2 --name fred
[[ $(entries) == "$before" ]] || fail "refused callers appended entries: $before -> $(entries)"
part_log app2 | grep -q 'RELEASE_BOOK refused: caller 127.0.0.1 is not in --clients' ||
    fail "app2 did not log the refused release"
pass "an address not in --clients: refused, logged, nothing appended"
cluster stop app2 >/dev/null
cluster start app2 >/dev/null
no_sanitizer_reports
