#include "handout.h"

#include "log.h"
#include "replop.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define HANDOUT_RESERVED_WAIT_MS 100
#define HANDOUT_DB_FRESH_MS 20

static int handout_left_ms(int64_t deadline_ns)
{
    int64_t left = (deadline_ns - clock_mono_ns()) / 1000000;
    return left < 0 ? 0 : left > 60000 ? 60000 : (int)left;
}

static void handout_error(struct handout_result *out, book_status st, const char *fmt,
                          const char *why)
{
    out->reply.status = st;
    snprintf(out->message, sizeof out->message, fmt, why);
    out->reply.book_reply_u.message = out->message;
}

/* Why the log could not be followed: the replication server or this server's DB. */
static void handout_unavailable(struct handout_ctx *h, struct handout_result *out)
{
    struct replica_status s;
    replica_status(h->replica, &s);
    if (!s.db_ok)
        handout_error(out, BOOK_ERR_DATABASE, "books database unavailable, try again (%s)", s.db_error);
    else if (!s.repl_ok)
        handout_error(out, BOOK_ERR_REPLICATION, "replication unavailable, try again (%s)", s.repl_error);
    else
        handout_error(out, BOOK_ERR_BUSY, "%s", "the log is slow to come back, try again");
}

static void handout_over(struct handout_ctx *h, const struct replica_status *s,
                         struct handout_result *out)
{
    out->reply.status = BOOK_SESSION_OVER;
    session_summary *sum = &out->reply.book_reply_u.summary;
    sum->session = s->session;
    sum->books_total = s->books_total;
    sum->handed_out = s->handed_out;
    u_int n = 0;
    for (int i = 1; i < REPLICA_SERVERS && n < BOOK_SERVERS_MAX; i++)
        if (s->by_server[i] > 0)
            out->by_server[n++] = (server_count){i, s->by_server[i]};
    sum->by_server.by_server_len = n;
    sum->by_server.by_server_val = out->by_server;
    sum->users = s->users;
    sum->server_time_us = clock_read(h->clock);
    if (s->session_closed || s->session == 0)
        return;
    /* Record once that the session is complete (applying it twice changes nothing). */
    repl_op op = {.kind = OP_SESSION_CLOSE};
    op.repl_op_u.session_close.session = s->session;
    int64_t seq;
    char why[300];
    if (replclient_append(&h->repl, h->instance, &op, &seq, why, sizeof why) < 0)
        log_warn("handout", "recording the end of session %" PRId64 ": %s", s->session, why);
}

static void handout_book(struct handout_ctx *h, int book_id, int64_t session, int64_t seq,
                         bool again, struct handout_result *out)
{
    const struct catalogue_book *b = catalogue_by_id(&h->replica->cat, book_id);
    out->reply.status = BOOK_OK;
    book_info *bi = &out->reply.book_reply_u.book;
    snprintf(out->isbn, sizeof out->isbn, "%s", b->isbn);
    snprintf(out->title, sizeof out->title, "%s", b->title);
    snprintf(out->author, sizeof out->author, "%s", b->author);
    bi->isbn = out->isbn;
    bi->title = out->title;
    bi->author = out->author;
    bi->year = b->year;
    bi->session = session;
    bi->request_id = seq;
    bi->server = h->instance;
    bi->server_time_us = clock_read(h->clock);
    bi->again = again;
}

/* The user is registered once per server view; the claim carries it anyway. */
static void handout_see_user(struct handout_ctx *h, const char *user, const char *address)
{
    if (replica_user_known(h->replica, user, address))
        return;
    repl_op op = {.kind = OP_USER_SEEN};
    op.repl_op_u.user_seen.name = (char *)user;
    op.repl_op_u.user_seen.address = (char *)address;
    int64_t seq;
    char why[300];
    if (replclient_append(&h->repl, h->instance, &op, &seq, why, sizeof why) < 0)
        log_warn("handout", "registering user %s: %s", user, why);
}

/* Follows the log to its end (what the replication server holds now). 0, or -1. */
static int handout_catch_up(struct handout_ctx *h, int64_t deadline_ns)
{
    int64_t last;
    char why[300];
    if (replclient_last_seq(&h->repl, &last, why, sizeof why) < 0)
        return -1;
    return replica_wait(h->replica, last, handout_left_ms(deadline_ns));
}

/* What the request's key already holds, as applied: 1 answered (out filled: its book,
 * or why not), 0 a new key. */
static int handout_known_key(struct handout_ctx *h, const struct handout_ask *a,
                             struct handout_result *out)
{
    int book_id;
    int64_t taker, session;
    switch (replica_key(h->replica, a->key, a->user, &book_id, &taker, &session)) {
    case REPLICA_HELD:
        handout_book(h, book_id, session, taker, true, out);
        return 1;
    case REPLICA_GIVEN_UP:
        handout_error(out, BOOK_ERR_RELEASED, "%s", "this request was given up (its key was "
                      "released): ask again with a new one");
        return 1;
    case REPLICA_OTHER_USER:
        handout_error(out, BOOK_ERR_KEY, "%s", "this key belongs to another user's request");
        return 1;
    default:
        return 0;
    }
}

enum handout_claim { CLAIM_WON, CLAIM_LOST, CLAIM_DONE };

/* Appends a claim for book_id and follows the log until it is applied. DONE: out is
 * the answer (an error, or the book the key held already). */
static enum handout_claim handout_claim(struct handout_ctx *h, const struct handout_ask *a,
                                        int book_id, int64_t session, int64_t deadline_ns,
                                        int64_t *seq, struct handout_result *out)
{
    const struct catalogue_book *b = catalogue_by_id(&h->replica->cat, book_id);
    repl_op op = {.kind = OP_BOOK_CLAIM};
    op_book_claim *c = &op.repl_op_u.book_claim;
    c->session = session;
    c->isbn = (char *)b->isbn;
    c->user = (char *)a->user;
    c->address = (char *)a->address;
    c->client_time_us = a->client_time_us;
    c->server_time_us = clock_read(h->clock);
    memcpy(c->key, a->key, sizeof c->key);
    char why[300];
    int rc = replclient_append(&h->repl, h->instance, &op, seq, why, sizeof why);
    if (rc == -1) {
        /* The claim may be stored though its answer was lost: the key says, once the log
         * is followed to its end. */
        replica_unreserve(h->replica, book_id);
        if (handout_catch_up(h, deadline_ns) == 0 && handout_known_key(h, a, out))
            return CLAIM_DONE;
        handout_error(out, BOOK_ERR_REPLICATION, "replication unavailable, try again (%s)", why);
        log_warn("handout", "claim for %s: %s", b->isbn, why);
        return CLAIM_DONE;
    }
    if (rc < 0) {
        replica_unreserve(h->replica, book_id);
        handout_error(out, BOOK_ERR_INTERNAL, "the replication server refused the claim: %s", why);
        return CLAIM_DONE;
    }
    if (replica_wait(h->replica, *seq, handout_left_ms(deadline_ns)) < 0) {
        handout_unavailable(h, out);
        return CLAIM_DONE;
    }
    int got;
    int64_t taker;
    switch (replica_outcome(h->replica, *seq, &got, &taker)) {
    case REPLICA_WON:
        return CLAIM_WON;
    case REPLICA_HELD:
        /* Another try of this request got there first; this claim took nothing. */
        replica_unreserve(h->replica, book_id);
        handout_book(h, got, session, taker, true, out);
        return CLAIM_DONE;
    case REPLICA_GIVEN_UP:
        replica_unreserve(h->replica, book_id);
        handout_error(out, BOOK_ERR_RELEASED, "%s", "this request was given up (its key was "
                      "released): ask again with a new one");
        return CLAIM_DONE;
    default:
        return CLAIM_LOST;
    }
}

void handout_request(struct handout_ctx *h, const struct handout_ask *a, int64_t deadline_ns,
                     struct handout_result *out)
{
    memset(out, 0, sizeof *out);
    struct replica_status s;
    replica_status(h->replica, &s);
    if (!s.db_ok || !s.repl_ok) {
        handout_unavailable(h, out);
        return;
    }
    /* A retry: what became of the earlier tries, on any server, once the log is followed
     * to its end. A first try has a key nobody has seen; if it lied, applying still
     * gives the key one book at most. */
    if (handout_known_key(h, a, out))
        return;
    if (a->attempt > 1) {
        if (handout_catch_up(h, deadline_ns) < 0) {
            handout_unavailable(h, out);
            return;
        }
        if (handout_known_key(h, a, out))
            return;
    }
    /* A claim appended while this server's DB is down would be applied only later, for a
     * user told to try again: make sure the DB is up first. A ping costs a round trip
     * per request; under load it is enough that the applier heard from the DB within
     * the last few ms and that this worker's own idle connection was not ended (a DB
     * that stops ends its connections, which shows at once as readable or hung up).
     * Otherwise (idle, or something is odd) ask the DB. */
    char why[300];
    bool db_up = replica_db_answered_within(h->replica, HANDOUT_DB_FRESH_MS) &&
                 bookdb_quiet(&h->db);
    if (!db_up && !bookdb_ping(&h->db, why, sizeof why)) {
        handout_error(out, BOOK_ERR_DATABASE, "books database unavailable, try again (%s)", why);
        log_warn("handout", "request of %s refused: %s", a->user, why);
        return;
    }
    handout_see_user(h, a->user, a->address);
    for (int attempt = 0; attempt < HANDOUT_MAX_TRIES && handout_left_ms(deadline_ns) > 0;) {
        int64_t session, seq;
        int book_id = replica_reserve(h->replica, &session);
        if (book_id == 0) {
            replica_status(h->replica, &s);
            if (s.handed_out >= s.books_total) {
                handout_over(h, &s, out);
                return;
            }
            /* The last books are reserved by requests in flight: see how they end. */
            replica_wait(h->replica, s.applied_seq + 1, HANDOUT_RESERVED_WAIT_MS);
            continue;
        }
        attempt++;
        switch (handout_claim(h, a, book_id, session, deadline_ns, &seq, out)) {
        case CLAIM_WON:
            handout_book(h, book_id, session, seq, false, out);
            return;
        case CLAIM_DONE:
            return;
        case CLAIM_LOST:
            log_debug("handout", "claim %" PRId64 " lost; trying another book", seq);
        }
    }
    handout_error(out, BOOK_ERR_BUSY, "%s", "no book could be claimed in time; try again");
}

void handout_release(struct handout_ctx *h, const char *user, const unsigned char *key,
                     int64_t session, int64_t deadline_ns, struct handout_release *out)
{
    memset(out, 0, sizeof *out);
    out->reply.message = out->message;
    repl_op op = {.kind = OP_BOOK_RELEASE};
    op_book_release *r = &op.repl_op_u.book_release;
    r->session = session;
    r->user = (char *)user;
    memcpy(r->key, key, sizeof r->key);
    int64_t seq;
    char why[300];
    int rc = replclient_append(&h->repl, h->instance, &op, &seq, why, sizeof why);
    if (rc < 0) {
        out->reply.status = rc == -1 ? BOOK_ERR_REPLICATION : BOOK_ERR_INTERNAL;
        snprintf(out->message, sizeof out->message,
                 rc == -1 ? "replication unavailable, try again (%s)" : "refused: %s", why);
        return;
    }
    if (replica_wait(h->replica, seq, handout_left_ms(deadline_ns)) < 0) {
        struct handout_result tmp;
        handout_unavailable(h, &tmp);
        out->reply.status = tmp.reply.status;
        snprintf(out->message, sizeof out->message, "%s", tmp.message);
        return;
    }
    int book_id;
    int64_t taker;
    static const struct {
        enum replica_result result;
        release_outcome outcome;
        const char *text;
    } said[] = {
        {REPLICA_FREED, RELEASE_FREED, "released: its book is free again"},
        {REPLICA_NOTHING, RELEASE_NOTHING, "released: it held no book, and now never will"},
        {REPLICA_ALREADY, RELEASE_ALREADY, "already released: nothing changed"},
        {REPLICA_SESSION_OVER, RELEASE_SESSION_OVER, "that session is over: nothing changed"},
    };
    enum replica_result res = replica_outcome(h->replica, seq, &book_id, &taker);
    for (size_t i = 0; i < sizeof said / sizeof said[0]; i++)
        if (said[i].result == res) {
            out->reply.status = BOOK_OK;
            out->reply.outcome = said[i].outcome;
            snprintf(out->message, sizeof out->message, "%s", said[i].text);
            log_info("release", "%s released a key (entry %" PRId64 "): %s", user, seq, said[i].text);
            return;
        }
    out->reply.status = res == REPLICA_OTHER_USER ? BOOK_ERR_KEY : BOOK_ERR_INTERNAL;
    snprintf(out->message, sizeof out->message, "%s",
             res == REPLICA_OTHER_USER ? "this key belongs to another user's request: nothing changed"
                                       : "the release's outcome is unknown");
}

void handout_restart(struct handout_ctx *h, const char *user, int64_t seen_session,
                     int64_t deadline_ns, struct handout_restart *out)
{
    memset(out, 0, sizeof *out);
    struct replica_status s;
    replica_status(h->replica, &s);
    repl_op op = {.kind = OP_SESSION_OPEN};
    op.repl_op_u.session_open.prev_session = seen_session > 0 ? seen_session : s.session;
    int64_t seq;
    char why[300];
    out->reply.message = out->message;
    int rc = replclient_append(&h->repl, h->instance, &op, &seq, why, sizeof why);
    if (rc < 0) {
        out->reply.status = rc == -1 ? BOOK_ERR_REPLICATION : BOOK_ERR_INTERNAL;
        snprintf(out->message, sizeof out->message, rc == -1 ? "replication unavailable, try again (%s)"
                                                             : "refused: %s", why);
        return;
    }
    if (replica_wait(h->replica, seq, handout_left_ms(deadline_ns)) < 0) {
        struct handout_result tmp;
        handout_unavailable(h, &tmp);
        out->reply.status = tmp.reply.status;
        snprintf(out->message, sizeof out->message, "%s", tmp.message);
        return;
    }
    replica_status(h->replica, &s);
    out->reply.status = BOOK_OK;
    out->reply.session = s.session;
    out->reply.books_left = s.books_left;
    snprintf(out->message, sizeof out->message, "%s",
             s.session == seq ? "new session opened" : "a new session was already opened");
    log_info("session", "%s asked for a new session after %" PRId64 ": session %" PRId64 " (%s)",
             user, op.repl_op_u.session_open.prev_session, s.session, out->message);
}
