#include "handout.h"

#include "log.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HANDOUT_CALL(p) ((struct handout_call *)((char *)(p) - offsetof(struct handout_call, pending)))

/* ---- answers ---- */

/* On the loop thread: the answer goes out (if its caller still waits) and the call ends. */
static void handout_send(void *arg)
{
    struct handout_call *c = arg;
    if (c->kind == HANDOUT_REQUEST)
        rpcdefer_reply(c->call, (xdrproc_t)xdr_book_reply, &c->book);
    else if (c->kind == HANDOUT_RESTART)
        rpcdefer_reply(c->call, (xdrproc_t)xdr_session_reply, &c->restart);
    else
        rpcdefer_reply(c->call, (xdrproc_t)xdr_release_reply, &c->release);
    atomic_fetch_sub(&c->h->in_flight, 1);
    free(c);
}

/* Any thread: the answer is ready. */
static void handout_done(struct handout_call *c)
{
    if (rpcdefer_post(handout_send, c) < 0) {
        log_error("book", "out of memory posting an answer");
        atomic_fetch_sub(&c->h->in_flight, 1);
        free(c); /* its call is dropped at shutdown */
    }
}

static void handout_error(struct handout_call *c, book_status st, const char *fmt, const char *why)
{
    snprintf(c->message, sizeof c->message, fmt, why);
    switch (c->kind) {
    case HANDOUT_REQUEST:
        c->book.status = st;
        c->book.book_reply_u.message = c->message;
        break;
    case HANDOUT_RESTART:
        c->restart.status = st;
        c->restart.message = c->message;
        break;
    case HANDOUT_RELEASE:
        c->release.status = st;
        c->release.outcome = RELEASE_NOTHING;
        c->release.message = c->message;
        break;
    }
}

/* Under the replica's lock: the answer with book_id (its claim: request_id, appended
 * through app server origin). */
static void handout_book(struct handout_call *c, int book_id, int64_t session, int64_t claim,
                         int origin, bool again)
{
    const struct catalogue_book *b = catalogue_by_id(&c->h->replica->state.cat, book_id);
    if (!b) {
        handout_error(c, BOOK_ERR_INTERNAL, "%s", "the book of this request is not in the catalogue");
        return;
    }
    c->book.status = BOOK_OK;
    book_info *bi = &c->book.book_reply_u.book;
    snprintf(c->isbn, sizeof c->isbn, "%s", b->isbn);
    snprintf(c->title, sizeof c->title, "%s", b->title);
    snprintf(c->author, sizeof c->author, "%s", b->author);
    bi->isbn = c->isbn;
    bi->title = c->title;
    bi->author = c->author;
    bi->year = b->year;
    bi->session = session;
    bi->request_id = claim;
    bi->server = origin;
    bi->server_time_us = clock_read(c->h->clock);
    bi->again = again;
}

/* Under the replica's lock: every book of the session is handed out. */
static void handout_over(struct handout_call *c)
{
    struct handout *h = c->h;
    const struct bookstate *s = &h->replica->state;
    c->book.status = BOOK_SESSION_OVER;
    session_summary *sum = &c->book.book_reply_u.summary;
    sum->session = s->session;
    sum->books_total = (int)s->cat.count;
    sum->handed_out = bookstate_handed_out(s);
    u_int n = 0;
    for (int i = 1; i < BOOKSTATE_SERVERS && n < BOOK_SERVERS_MAX; i++)
        if (s->by_server[i] > 0)
            c->by_server[n++] = (server_count){i, s->by_server[i]};
    sum->by_server.by_server_len = n;
    sum->by_server.by_server_val = c->by_server;
    sum->users = s->users;
    sum->server_time_us = clock_read(h->clock);
    /* Record that the session is complete (applying it twice changes nothing): once,
     * and again a second later if it still is not applied (its SETQUERY may have failed). */
    int64_t now = clock_mono_ns();
    if (!s->session_closed && s->session != 0 &&
        (h->close_queued != s->session || now - h->close_queued_ns > 1000000000LL)) {
        repl_op op = {.kind = OP_SESSION_CLOSE};
        op.repl_op_u.session_close.session = s->session;
        if (replica_append(h->replica, &op, NULL, 0)) {
            h->close_queued = s->session;
            h->close_queued_ns = now;
        }
    }
}

static const char *const handout_released_text =
    "this request was given up (its key was released): ask again with a new one";
static const char *const handout_other_user_text = "this key belongs to another user's request";

/* ---- book requests ---- */

static void handout_claim_applied(struct replica_pending *p, const struct bookstate_outcome *o);
static void handout_failed(struct replica_pending *p, int rc, const char *why);

/* Under the replica's lock: claims a random free book for the request, or answers. True
 * if answered (c is to be sent). */
static bool handout_claim_next(struct handout_call *c)
{
    struct handout *h = c->h;
    struct bookstate *s = &h->replica->state;
    c->pending.applied = handout_claim_applied;
    c->pending.failed = handout_failed;
    if (c->tries >= HANDOUT_MAX_TRIES) {
        handout_error(c, BOOK_ERR_BUSY, "%s", "no book could be claimed in time; try again");
        return true;
    }
    int book_id = bookstate_reserve(s);
    if (book_id == 0) {
        if (bookstate_handed_out(s) >= (int)s->cat.count) {
            handout_over(c);
            return true;
        }
        /* The last books are reserved by requests in flight: see how they end. */
        replica_wait_book(h->replica, &c->pending);
        return false;
    }
    c->book_id = book_id;
    c->tries++;
    c->op = (repl_op){.kind = OP_BOOK_CLAIM};
    op_book_claim *cl = &c->op.repl_op_u.book_claim;
    cl->session = s->session;
    cl->isbn = (char *)catalogue_by_id(&s->cat, book_id)->isbn;
    cl->user = c->user;
    cl->address = c->address;
    cl->client_time_us = c->client_time_us;
    cl->server_time_us = clock_read(h->clock);
    memcpy(cl->key, c->key, sizeof cl->key);
    if (!replica_append(h->replica, &c->op, &c->pending, c->pending.deadline_ns)) {
        bookstate_unreserve(s, book_id);
        c->book_id = 0;
        handout_error(c, BOOK_ERR_BUSY, "%s", "too many requests waiting, try again");
        return true;
    }
    return false;
}

static void handout_claim_applied(struct replica_pending *p, const struct bookstate_outcome *o)
{
    struct handout_call *c = HANDOUT_CALL(p);
    struct bookstate *s = &c->h->replica->state;
    if (!o) { /* woken while waiting for a free book */
        if (handout_claim_next(c))
            handout_done(c);
        return;
    }
    /* Taken (by this claim or another) it stays taken; otherwise it is free again. */
    bookstate_unreserve(s, c->book_id);
    c->book_id = 0;
    switch (o->result) {
    case BOOKSTATE_WON:
        handout_book(c, o->book_id, o->session, o->seq, o->origin, false);
        break;
    case BOOKSTATE_HELD:
        /* Another try of this request got there first; this claim took nothing. */
        handout_book(c, o->book_id, o->session, o->taker, o->origin, true);
        break;
    case BOOKSTATE_GIVEN_UP:
        handout_error(c, BOOK_ERR_RELEASED, "%s", handout_released_text);
        break;
    case BOOKSTATE_OTHER_USER:
        handout_error(c, BOOK_ERR_KEY, "%s", handout_other_user_text);
        break;
    default:
        /* The book went to someone else first (or the session changed): another one. */
        log_debug("handout", "claim %" PRId64 " lost; trying another book", o->seq);
        if (!handout_claim_next(c))
            return;
    }
    handout_done(c);
}

/* Under the replica's lock, for every kind: the operation will not be settled. */
static void handout_failed(struct replica_pending *p, int rc, const char *why)
{
    struct handout_call *c = HANDOUT_CALL(p);
    if (c->book_id) {
        /* Not appended, not known to be, or nobody waits for its outcome any more: free
         * again. If the claim is in the log, applying it takes the book back from the
         * free ones when it wins (and a claim of it made meanwhile loses and retries). */
        bookstate_unreserve(&c->h->replica->state, c->book_id);
    }
    c->book_id = 0;
    if (rc == -2)
        handout_error(c, BOOK_ERR_INTERNAL, "the replication server refused the operation: %s", why);
    else if (rc == -4)
        handout_error(c, BOOK_ERR_BUSY, "no answer from the log in time (%s), try again", why);
    else if (rc == 0)
        handout_error(c, BOOK_ERR_BUSY, "no answer from the log in time (%s), try again", why);
    else
        handout_error(c, BOOK_ERR_REPLICATION, "replication unavailable, try again (%s)", why);
    handout_done(c);
}

/* Under the replica's lock. True if answered at once. */
static bool handout_request(struct handout_call *c)
{
    int book_id;
    int64_t taker, session;
    int origin;
    const struct bookstate *s = &c->h->replica->state;
    switch (bookstate_key(s, c->key, c->user, &book_id, &taker, &session, &origin)) {
    case BOOKSTATE_HELD:
        handout_book(c, book_id, session, taker, origin, true);
        return true;
    case BOOKSTATE_GIVEN_UP:
        handout_error(c, BOOK_ERR_RELEASED, "%s", handout_released_text);
        return true;
    case BOOKSTATE_OTHER_USER:
        handout_error(c, BOOK_ERR_KEY, "%s", handout_other_user_text);
        return true;
    default:
        break;
    }
    if (!bookstate_user_known(s, c->user, c->address)) {
        /* Recorded as soon as seen, even if the session has no book left for them (a
         * claim would record them too, applied a moment later). */
        repl_op op = {.kind = OP_USER_SEEN};
        op.repl_op_u.user_seen.name = c->user;
        op.repl_op_u.user_seen.address = c->address;
        replica_append(c->h->replica, &op, NULL, 0);
    }
    return handout_claim_next(c);
}

/* ---- releases and new sessions ---- */

static void handout_release_applied(struct replica_pending *p, const struct bookstate_outcome *o)
{
    struct handout_call *c = HANDOUT_CALL(p);
    static const struct {
        enum bookstate_result result;
        release_outcome outcome;
        const char *text;
    } said[] = {
        {BOOKSTATE_FREED, RELEASE_FREED, "released: its book is free again"},
        {BOOKSTATE_NOTHING, RELEASE_NOTHING, "released: it held no book, and now never will"},
        {BOOKSTATE_ALREADY, RELEASE_ALREADY, "already released: nothing changed"},
        {BOOKSTATE_SESSION_OVER, RELEASE_SESSION_OVER, "that session is over: nothing changed"},
    };
    for (size_t i = 0; o && i < sizeof said / sizeof said[0]; i++)
        if (said[i].result == o->result) {
            c->release.status = BOOK_OK;
            c->release.outcome = said[i].outcome;
            snprintf(c->message, sizeof c->message, "%s", said[i].text);
            c->release.message = c->message;
            log_info("release", "%s released a key (entry %" PRId64 "): %s", c->user, o->seq,
                     said[i].text);
            handout_done(c);
            return;
        }
    if (o && o->result == BOOKSTATE_OTHER_USER)
        handout_error(c, BOOK_ERR_KEY, "%s: nothing changed", handout_other_user_text);
    else
        handout_error(c, BOOK_ERR_INTERNAL, "%s", "the release's outcome is unknown");
    handout_done(c);
}

static void handout_restart_applied(struct replica_pending *p, const struct bookstate_outcome *o)
{
    struct handout_call *c = HANDOUT_CALL(p);
    const struct bookstate *s = &c->h->replica->state;
    c->restart.status = BOOK_OK;
    c->restart.session = o ? o->session : s->session;
    c->restart.books_left = (int)s->cat.count - bookstate_handed_out(s);
    snprintf(c->message, sizeof c->message, "%s",
             o && o->session == o->seq ? "new session opened" : "a new session was already opened");
    c->restart.message = c->message;
    log_info("session", "%s asked for a new session after %" PRId64 ": session %" PRId64 " (%s)",
             c->user, c->op.repl_op_u.session_open.prev_session, c->restart.session, c->message);
    handout_done(c);
}

/* Under the replica's lock: queues the call's operation; true if answered at once. */
static bool handout_queue(struct handout_call *c)
{
    if (replica_append(c->h->replica, &c->op, &c->pending, c->pending.deadline_ns))
        return false;
    handout_error(c, BOOK_ERR_BUSY, "%s", "too many requests waiting, try again");
    return true;
}

/* ---- the entry point ---- */

void handout_init(struct handout *h, struct replica *replica, struct clock *clock, int instance)
{
    memset(h, 0, sizeof *h);
    h->replica = replica;
    h->clock = clock;
    h->instance = instance;
    atomic_init(&h->in_flight, 0);
}

bool handout_start(struct handout_call *c)
{
    struct handout *h = c->h;
    if (atomic_fetch_add(&h->in_flight, 1) >= HANDOUT_MAX_IN_FLIGHT) {
        atomic_fetch_sub(&h->in_flight, 1);
        return false;
    }
    c->pending.deadline_ns = clock_mono_ns() + (int64_t)HANDOUT_DEADLINE_MS * 1000000;
    c->pending.failed = handout_failed;
    /* The books DB is not on a request's path, but a server whose DB is down hands out
     * nothing its DB would not show: the client asks another server. (Releases and new
     * sessions go through: their entries wait in memory and the log.) */
    char why[300];
    if (c->kind == HANDOUT_REQUEST && !dbwriter_ok(&h->replica->writer, why, sizeof why)) {
        handout_error(c, BOOK_ERR_DATABASE, "books database unavailable, try again (%s)", why);
        handout_send(c);
        return true;
    }
    bool now;
    replica_lock(h->replica);
    switch (c->kind) {
    case HANDOUT_REQUEST:
        now = handout_request(c);
        break;
    case HANDOUT_RELEASE:
        c->op = (repl_op){.kind = OP_BOOK_RELEASE};
        c->op.repl_op_u.book_release.session = c->session;
        c->op.repl_op_u.book_release.user = c->user;
        memcpy(c->op.repl_op_u.book_release.key, c->key, sizeof c->key);
        c->pending.applied = handout_release_applied;
        now = handout_queue(c);
        break;
    default:
        c->op = (repl_op){.kind = OP_SESSION_OPEN};
        c->op.repl_op_u.session_open.prev_session =
            c->session > 0 ? c->session : h->replica->state.session;
        c->pending.applied = handout_restart_applied;
        now = handout_queue(c);
        break;
    }
    replica_unlock(h->replica);
    if (now)
        handout_send(c);
    return true;
}
