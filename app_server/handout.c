#include "handout.h"

#include "log.h"
#include "replop.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static void handout_error(struct handout_result *out, book_status st, const char *fmt,
                          const char *why)
{
    out->reply.status = st;
    snprintf(out->message, sizeof out->message, fmt, why);
    out->reply.book_reply_u.message = out->message;
}

/* Appends op; on failure fills out with the error for the client. */
static int handout_append(struct handout_ctx *h, const repl_op *op, int64_t *seq,
                          book_status *st, char *msg, size_t len)
{
    char why[300];
    int rc = replclient_append(&h->repl, h->instance, op, seq, why, sizeof why);
    if (rc == 0)
        return 0;
    *st = rc == -1 ? BOOK_ERR_REPLICATION : BOOK_ERR_INTERNAL;
    snprintf(msg, len, rc == -1 ? "replication unavailable, try again (%s)" : "refused: %s", why);
    log_warn("handout", "%s", msg);
    return -1;
}

static void handout_over(struct handout_ctx *h, struct handout_result *out)
{
    struct replica_status s;
    replica_status(h->replica, &s);
    out->reply.status = BOOK_SESSION_OVER;
    session_summary *sum = &out->reply.book_reply_u.summary;
    sum->session = s.session;
    sum->books_total = s.books_total;
    sum->handed_out = s.handed_out;
    sum->by_server1 = s.by_server[1];
    sum->by_server2 = s.by_server[2];
    sum->users = s.users;
    sum->server_time_us = clock_read(h->clock);
    /* Record that the session is complete; applying it twice changes nothing. */
    repl_op op = {.kind = OP_SESSION_CLOSE};
    op.repl_op_u.session_close.session = s.session;
    int64_t seq;
    char why[300];
    if (s.session > 0 && replclient_append(&h->repl, h->instance, &op, &seq, why, sizeof why) < 0)
        log_warn("handout", "recording the end of session %" PRId64 ": %s", s.session, why);
}

static void handout_book(struct handout_ctx *h, int book_id, int64_t session, int64_t seq,
                         struct handout_result *out)
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

void handout_request(struct handout_ctx *h, const char *user, const char *address,
                     int64_t client_time_us, struct handout_result *out)
{
    memset(out, 0, sizeof *out);
    struct replica_status s;
    replica_status(h->replica, &s);
    if (!s.db_ok) {
        handout_error(out, BOOK_ERR_DATABASE, "books database unavailable, try again (%s)", s.db_error);
        return;
    }
    handout_see_user(h, user, address);
    for (int attempt = 0; attempt < HANDOUT_MAX_TRIES; attempt++) {
        int64_t session;
        int book_id = replica_reserve(h->replica, &session);
        if (book_id == 0) {
            handout_over(h, out);
            return;
        }
        const struct catalogue_book *b = catalogue_by_id(&h->replica->cat, book_id);
        repl_op op = {.kind = OP_BOOK_CLAIM};
        op_book_claim *c = &op.repl_op_u.book_claim;
        c->session = session;
        c->isbn = (char *)b->isbn;
        c->user = (char *)user;
        c->address = (char *)address;
        c->client_time_us = client_time_us;
        c->server_time_us = clock_read(h->clock);
        int64_t seq;
        book_status st;
        if (handout_append(h, &op, &seq, &st, out->message, sizeof out->message) < 0) {
            replica_unreserve(h->replica, book_id);
            out->reply.status = st;
            out->reply.book_reply_u.message = out->message;
            return;
        }
        if (replica_wait(h->replica, seq, HANDOUT_APPLY_TIMEOUT_MS) < 0) {
            replica_status(h->replica, &s);
            handout_error(out, BOOK_ERR_DATABASE,
                          "the claim could not be applied yet, try again (%s)",
                          s.db_ok ? s.repl_error : s.db_error);
            return;
        }
        int won_id;
        if (replica_claim_outcome(h->replica, seq, &won_id) == 1) {
            handout_book(h, won_id, session, seq, out);
            return;
        }
        log_debug("handout", "claim %" PRId64 " for %s lost; trying another book", seq, b->isbn);
    }
    handout_error(out, BOOK_ERR_BUSY, "%s", "every book tried was taken first; try again");
}

void handout_restart(struct handout_ctx *h, const char *user, int64_t seen_session,
                     struct handout_restart *out)
{
    memset(out, 0, sizeof *out);
    struct replica_status s;
    replica_status(h->replica, &s);
    repl_op op = {.kind = OP_SESSION_OPEN};
    op.repl_op_u.session_open.prev_session = seen_session > 0 ? seen_session : s.session;
    int64_t seq;
    book_status st;
    out->reply.message = out->message;
    if (handout_append(h, &op, &seq, &st, out->message, sizeof out->message) < 0) {
        out->reply.status = st;
        return;
    }
    if (replica_wait(h->replica, seq, HANDOUT_APPLY_TIMEOUT_MS) < 0) {
        out->reply.status = BOOK_ERR_DATABASE;
        snprintf(out->message, sizeof out->message, "the new session could not be applied yet");
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
