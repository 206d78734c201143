#!/usr/bin/env bash
# CLIENTS (32) concurrent clients over APP_SERVERS (2) app servers (each client lists
# them all, its own first) on a catalogue of 500, SESSIONS (3) sessions back to back: no
# book twice in a session (clients' output and every DB), every session hands out all
# 500, the books DBs identical row for row, every book a client printed in every DB
# (and every request row a book some client printed). books_three.sh runs it with three
# app servers.
source "$(dirname "$0")/lib.sh"

export TM=1
BOOKS=500 CLIENTS=${CLIENTS:-32} COUNT=${COUNT:-8} SESSIONS=${SESSIONS:-3}
"$ROOT/db/gen-catalogue" "$BOOKS" >"$TEST_TMP/catalogue.tsv"
export CATALOGUE=$TEST_TMP/catalogue.tsv
start_servers

sessions=()
t0=$SECONDS
for k in $(seq 1 "$SESSIONS"); do
    if ((k > 1)); then
        # One client asks for the next session, on alternating servers.
        rc=0
        out=$("$BIN_DIR/client" --headless --instance $((k % APP_SERVERS + 1)) --name opener --new-session \
            --json 2>&1) || rc=$?
        ((rc == 0)) || fail "--new-session after session ${sessions[-1]}: exit $rc ($out)"
        s=$(sed -n "s/^{\"session\":\([0-9]*\),\"books_left\":$BOOKS}\$/\1/p" <<<"$out")
        [[ -n $s ]] && ((s > ${sessions[-1]})) || fail "--new-session printed '$out'"
    else
        s=$(book_status 1 session)
    fi
    in_session() {
        local n
        for n in $SERVERS; do [[ $(book_status "$n" session) == "$s" ]] || return 1; done
    }
    wait_until "the $APP_SERVERS app servers in session $s" 10 in_session
    sessions+=("$s")

    dir=$TEST_TMP/s$k
    mkdir -p "$dir"
    pids=()
    ts=$SECONDS
    for i in $(seq 1 $CLIENTS); do
        books_client_loop "$(preference "$i")" "reader$i" "$COUNT" "$dir/c$i.out" &
        pids+=($!)
        EXTRA_PIDS+=($!)
    done
    bad=0
    for p in "${pids[@]}"; do wait "$p" || bad=$((bad + 1)); done
    ((bad == 0)) || fail "session $s: $bad client loops did not end with SESSION_OVER ($(rc_counts "$dir"/*.rc))"
    EXTRA_PIDS=()

    # The clients' view: 500 books, none twice, all in this session; 32 summaries.
    printed_books "$dir"/c*.out >"$dir/printed.tsv"
    lines=$(wc -l <"$dir/printed.tsv")
    uniq_isbn=$(cut -f3 "$dir/printed.tsv" | sort -u | wc -l)
    other=$(awk -F'\t' -v s="$s" '$2 != s' "$dir/printed.tsv" | wc -l)
    ((lines == BOOKS && uniq_isbn == BOOKS && other == 0)) ||
        fail "session $s: clients printed $lines books, $uniq_isbn distinct ISBNs, $other from another session (expected $BOOKS, $BOOKS, 0); twice: $(cut -f3 "$dir/printed.tsv" | sort | uniq -d | head -3 | tr '\n' ' ')"
    overs=$(grep -h '^{"session_over":' "$dir"/c*.out | grep -c "^{\"session_over\":$s,\"books\":$BOOKS," || true)
    ((overs == CLIENTS)) || fail "session $s: $overs of $CLIENTS clients got the SESSION_OVER summary of session $s"
    by=$(cut -f4 "$dir/printed.tsv" | sort -n | uniq -c | awk '{ printf "%sserver %s: %s", (NR > 1 ? ", " : ""), $2, $1 }')
    pass "session $s: $CLIENTS clients got $lines books, each of the $BOOKS once ($by), then SESSION_OVER; $((SECONDS - ts)) s; exit statuses $(rc_counts "$dir"/*.rc)"
done

wait_caught_up 30
for s in "${sessions[@]}"; do
    for n in $SERVERS; do
        got=$(bsql "$n" "SELECT count(*) || ' ' || count(DISTINCT isbn) FROM request WHERE session_id = $s")
        [[ $got == "$BOOKS $BOOKS" ]] || fail "books$n: session $s has '$got' requests/distinct books, expected $BOOKS $BOOKS"
    done
done
books_no_duplicates "$SESSIONS sessions"
pass "every DB: each of sessions ${sessions[*]} handed out $BOOKS distinct books, none twice"
books_same "$SESSIONS sessions"
# A session is closed (SESSION_CLOSE: every book handed out) only after its last claim.
for s in "${sessions[@]}"; do
    got=$(bsql 1 "SELECT (s.closed_at IS NOT NULL)::text || ' ' || coalesce((s.closed_at >= max(q.requested_at))::text, 'null')
                  FROM session s JOIN request q ON q.session_id = s.id WHERE s.id = $s GROUP BY s.closed_at")
    first_close=$(rsql "SELECT coalesce(min(seq), 0) FROM log WHERE kind = 'SESSION_CLOSE' AND session = $s")
    last_claim=$(bsql 1 "SELECT max(id) FROM request WHERE session_id = $s")
    [[ $got == "true true" ]] && ((first_close > last_claim)) ||
        fail "session $s: closed '$got' (closed, closed after its last request); first SESSION_CLOSE at seq $first_close, last claim at $last_claim"
done
pass "sessions ${sessions[*]} each closed after their last claim"

printed_in_dbs "$SESSIONS sessions" "$TEST_TMP"/s*/c*.out
pass "all $PRINTED_TOTAL books the clients printed are in every DB with their request id, session, ISBN and server"
db_books 1 >"$TEST_TMP/db1.tsv"
extra=$(comm -13 "$TEST_TMP/printed.tsv" "$TEST_TMP/db1.tsv" | wc -l)
((extra == 0)) || fail "$extra request rows are books no client printed, e.g. $(comm -13 "$TEST_TMP/printed.tsv" "$TEST_TMP/db1.tsv" | head -2 | tr '\t\n' ' ;')"
pass "no request row without a client that received it ($(wc -l <"$TEST_TMP/db1.tsv") rows); $((SECONDS - t0)) s for $SESSIONS sessions"
no_sanitizer_reports
