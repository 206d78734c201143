#include "bookconn.h"

#include "i18n.h"
#include "log.h"
#include "replysync.h"
#include "rpcclient.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>

/* Threads: everything but bookconn_cut runs on the one thread that owns the handle; cut
 * shuts down the socket of the call in flight (published in fd under lock) and wakes a
 * backoff (cut_cond). A release runs after a cut on purpose (the window is closing while
 * a request is out), so a release is never cancelled: its own budget bounds it. */

/* How long a backoff sleeps before looking at --stopping (a signal) again. */
#define BOOKCONN_WAIT_SLICE_MS 50

/* The context of one failover_run: the connection set and what the call is about. */
struct bookconn_call {
    struct bookconn *c;
    bool releasing;
    const unsigned char *key;
    int64_t session;            /* RELEASE_BOOK's session, RESTART_SESSION's seen */
    struct bookconn_book *book;
    struct bookconn_release *rel;
    struct bookconn_session *ses;
    struct bookconn_status *st;
};

static void bookconn_drop(struct bookconn *c, int i)
{
    if (c->clnt[i])
        clnt_destroy(c->clnt[i]);
    c->clnt[i] = NULL;
}

static int64_t bookconn_now_ms(void *ctx)
{
    (void)ctx;
    return clock_mono_ns() / 1000000;
}

static bool bookconn_cancelled(void *ctx)
{
    struct bookconn_call *k = ctx;
    struct bookconn *c = k->c;
    if (k->releasing)
        return false;
    pthread_mutex_lock(&c->lock);
    bool cut = c->cut;
    pthread_mutex_unlock(&c->lock);
    return cut || (c->cfg.stopping && c->cfg.stopping(c->cfg.ctx));
}

static bool bookconn_wait(void *ctx, int ms)
{
    struct bookconn_call *k = ctx;
    struct bookconn *c = k->c;
    int64_t end = clock_mono_ns() + (int64_t)ms * 1000000;
    for (;;) {
        if (bookconn_cancelled(k))
            return false;
        int64_t now = clock_mono_ns();
        if (now >= end)
            return true;
        int64_t slice = end - now < BOOKCONN_WAIT_SLICE_MS * INT64_C(1000000)
                            ? end - now : BOOKCONN_WAIT_SLICE_MS * INT64_C(1000000);
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        int64_t ns = ts.tv_nsec + slice;
        ts.tv_sec += (time_t)(ns / 1000000000);
        ts.tv_nsec = (long)(ns % 1000000000);
        pthread_mutex_lock(&c->lock);
        if (!c->cut || k->releasing)
            pthread_cond_timedwait(&c->cut_cond, &c->lock, &ts);
        pthread_mutex_unlock(&c->lock);
    }
}

static uint32_t bookconn_random(void *ctx)
{
    struct bookconn *c = ((struct bookconn_call *)ctx)->c;
    uint32_t x = c->rng;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return c->rng = x;
}

static void bookconn_follow(struct bookconn *c, int i)
{
    if (failover_list_use(c->cfg.list, i) && c->cfg.follow)
        c->cfg.follow(c->cfg.ctx, i);
}

/* Server i's connection, made if there is none, within a third of the try's budget
 * (the rpcbind lookup and the connection may each take that long). */
static bool bookconn_connect(struct bookconn_call *k, int i, int budget_ms, struct failover_try *t)
{
    struct bookconn *c = k->c;
    if (c->clnt[i] && rpcclient_closed_by_peer(c->clnt[i]))
        bookconn_drop(c, i); /* the server restarted since the last call */
    if (c->clnt[i])
        return true;
    const struct failover_server *s = &c->cfg.list->server[i];
    int ms = budget_ms / 3 < c->cfg.connect_timeout_ms ? budget_ms / 3 : c->cfg.connect_timeout_ms;
    c->clnt[i] = rpcclient_create(s->host, BOOK_PROG + (rpcprog_t)s->instance, BOOK_V2, "tcp",
                                  ms > 0 ? ms : 1, t->why, sizeof t->why);
    if (c->clnt[i])
        return true;
    t->kind = FAILOVER_UNREACHABLE;
    t->brief = "unreachable";
    t->maybe_held = false;
    return false;
}

/* Gives the call what is left of the try and publishes its socket for bookconn_cut.
 * false (t filled) if nothing is left or the connection set was cut: nothing was sent. */
static bool bookconn_arm(struct bookconn_call *k, int i, int64_t t0_ms, int budget_ms,
                         struct failover_try *t)
{
    struct bookconn *c = k->c;
    int64_t left = budget_ms - (bookconn_now_ms(NULL) - t0_ms);
    t->kind = FAILOVER_UNREACHABLE;
    t->brief = "unreachable";
    t->maybe_held = false;
    if (left <= 0) {
        snprintf(t->why, sizeof t->why, "connecting took the whole try (%d ms)", budget_ms);
        return false;
    }
    struct timeval tv = {(time_t)(left / 1000), (suseconds_t)(left % 1000) * 1000};
    clnt_control(c->clnt[i], CLSET_TIMEOUT, (char *)&tv);
    int fd = -1;
    clnt_control(c->clnt[i], CLGET_FD, (char *)&fd);
    pthread_mutex_lock(&c->lock);
    bool cut = c->cut && !k->releasing;
    if (!cut && !k->releasing)
        c->fd = fd;
    pthread_mutex_unlock(&c->lock);
    if (cut) {
        snprintf(t->why, sizeof t->why, "stopping");
        return false;
    }
    return true;
}

static void bookconn_disarm(struct bookconn *c)
{
    pthread_mutex_lock(&c->lock);
    c->fd = -1;
    pthread_mutex_unlock(&c->lock);
}

/* A failed call: why, what it means, and a fresh connection next time. */
static void bookconn_failed(struct bookconn *c, int i, enum clnt_stat st, const char *what,
                            struct failover_try *t)
{
    rpcclient_error(c->clnt[i], st, what, t->why, sizeof t->why);
    failover_classify_rpc(st, t);
    bookconn_drop(c, i);
}

static void bookconn_log_try(const struct bookconn *c, const char *what, int i, int attempt,
                             const struct failover_try *t)
{
    if (t->kind == FAILOVER_ANSWERED)
        return;
    const struct failover_server *s = &c->cfg.list->server[i];
    log_info("request", "%s try %d on app server %d at %s: %s: %s", what, attempt, s->instance,
             s->host, t->brief ? t->brief : "failed", t->why);
}

/* Every try begins so: connected to server i and its timer armed, or why not logged. */
static bool bookconn_start_try(struct bookconn_call *k, const char *what, int i, int attempt,
                               int budget_ms, struct failover_try *t)
{
    int64_t t0 = bookconn_now_ms(NULL);
    if (bookconn_connect(k, i, budget_ms, t) && bookconn_arm(k, i, t0, budget_ms, t))
        return true;
    bookconn_log_try(k->c, what, i, attempt, t);
    return false;
}

static void bookconn_try_request(void *ctx, int i, int attempt, int budget_ms, struct failover_try *t)
{
    struct bookconn_call *k = ctx;
    struct bookconn *c = k->c;
    if (!bookconn_start_try(k, "REQUEST_BOOK", i, attempt, budget_ms, t))
        return;
    book_request a;
    memset(&a, 0, sizeof a);
    a.user = (char *)c->cfg.name;
    a.client_time_us = replysync_request_time(c->cfg.clock);
    a.key.book_key_len = FAILOVER_KEY_LEN;
    a.key.book_key_val = (char *)k->key;
    a.attempt = attempt;
    book_reply rep;
    memset(&rep, 0, sizeof rep);
    int64_t send_ns = clock_mono_ns();
    enum clnt_stat st = request_book_2(&a, &rep, c->clnt[i]);
    int64_t recv_ns = clock_mono_ns();
    bookconn_disarm(c);
    if (st != RPC_SUCCESS) {
        bookconn_failed(c, i, st, "REQUEST_BOOK", t);
        xdr_free((xdrproc_t)xdr_book_reply, (char *)&rep);
        bookconn_log_try(c, "REQUEST_BOOK", i, attempt, t);
        return;
    }
    failover_classify_status(rep.status, t);
    if (t->kind != FAILOVER_ANSWERED)
        snprintf(t->why, sizeof t->why, "REQUEST_BOOK: %s",
                 rep.book_reply_u.message && *rep.book_reply_u.message ? rep.book_reply_u.message
                                                                       : t->brief);
    bookconn_log_try(c, "REQUEST_BOOK", i, attempt, t);
    if (t->kind != FAILOVER_ANSWERED && t->kind != FAILOVER_REFUSED) {
        xdr_free((xdrproc_t)xdr_book_reply, (char *)&rep);
        return;
    }
    /* The last try: its answer is the request's. */
    k->book->reply = rep;
    k->book->have_reply = true;
    k->book->send_ns = send_ns;
    k->book->recv_ns = recv_ns;
    if (t->kind == FAILOVER_ANSWERED) {
        int64_t server_us = rep.status == BOOK_OK ? rep.book_reply_u.book.server_time_us
                                                  : rep.book_reply_u.summary.server_time_us;
        replysync_apply(c->cfg.clock, server_us, send_ns, recv_ns);
        bookconn_follow(c, i);
    }
}

static void bookconn_try_release(void *ctx, int i, int attempt, int budget_ms, struct failover_try *t)
{
    struct bookconn_call *k = ctx;
    struct bookconn *c = k->c;
    if (!bookconn_start_try(k, "RELEASE_BOOK", i, attempt, budget_ms, t))
        return;
    release_args a;
    memset(&a, 0, sizeof a);
    a.user = (char *)c->cfg.name;
    a.key.book_key_len = FAILOVER_KEY_LEN;
    a.key.book_key_val = (char *)k->key;
    a.session = k->session;
    release_reply rep;
    memset(&rep, 0, sizeof rep);
    enum clnt_stat st = release_book_2(&a, &rep, c->clnt[i]);
    if (st != RPC_SUCCESS) {
        bookconn_failed(c, i, st, "RELEASE_BOOK", t);
    } else {
        failover_classify_status(rep.status, t);
        /* --clients is each server's own: another one may take the release. */
        if (rep.status == BOOK_ERR_DENIED)
            t->kind = FAILOVER_AGAIN;
        snprintf(t->why, sizeof t->why, "RELEASE_BOOK: %s",
                 rep.message && *rep.message ? rep.message : t->brief);
        if (t->kind == FAILOVER_ANSWERED) {
            k->rel->released = true;
            k->rel->server = i;
            k->rel->outcome = rep.outcome;
            snprintf(k->rel->message, sizeof k->rel->message, "%s", rep.message ? rep.message : "");
        } else if (t->kind == FAILOVER_REFUSED) {
            snprintf(k->rel->message, sizeof k->rel->message, "%s", t->why);
        }
    }
    xdr_free((xdrproc_t)xdr_release_reply, (char *)&rep);
    bookconn_log_try(c, "RELEASE_BOOK", i, attempt, t);
}

static void bookconn_try_restart(void *ctx, int i, int attempt, int budget_ms, struct failover_try *t)
{
    struct bookconn_call *k = ctx;
    struct bookconn *c = k->c;
    if (!bookconn_start_try(k, "RESTART_SESSION", i, attempt, budget_ms, t))
        return;
    restart_args a = {(char *)c->cfg.name, k->session};
    session_reply rep;
    memset(&rep, 0, sizeof rep);
    enum clnt_stat st = restart_session_2(&a, &rep, c->clnt[i]);
    bookconn_disarm(c);
    if (st != RPC_SUCCESS) {
        bookconn_failed(c, i, st, "RESTART_SESSION", t);
    } else {
        failover_classify_status(rep.status, t);
        t->maybe_held = false; /* no key: a restart holds no book */
        snprintf(t->why, sizeof t->why, "RESTART_SESSION: %s",
                 rep.message && *rep.message ? rep.message : t->brief);
        if (t->kind == FAILOVER_ANSWERED || t->kind == FAILOVER_REFUSED) {
            struct bookconn_session *s = k->ses;
            s->answered = true;
            s->status = rep.status;
            snprintf(s->message, sizeof s->message, "%s", rep.message ? rep.message : "");
            s->session = rep.session;
            s->books_left = rep.books_left;
            s->server = i;
        }
        if (t->kind == FAILOVER_ANSWERED)
            bookconn_follow(c, i);
    }
    xdr_free((xdrproc_t)xdr_session_reply, (char *)&rep);
    bookconn_log_try(c, "RESTART_SESSION", i, attempt, t);
}

static void bookconn_try_status(void *ctx, int i, int attempt, int budget_ms, struct failover_try *t)
{
    struct bookconn_call *k = ctx;
    struct bookconn *c = k->c;
    if (!bookconn_start_try(k, "STATUS", i, attempt, budget_ms, t))
        return;
    status_reply rep;
    memset(&rep, 0, sizeof rep);
    enum clnt_stat st = status_2(NULL, &rep, c->clnt[i]);
    bookconn_disarm(c);
    if (st != RPC_SUCCESS) {
        bookconn_failed(c, i, st, "STATUS", t);
        bookconn_log_try(c, "STATUS", i, attempt, t);
        return;
    }
    t->kind = FAILOVER_ANSWERED;
    t->maybe_held = false;
    t->brief = "answered";
    k->st->answered = true;
    k->st->reply = rep;
    k->st->server = i;
    /* Only a server that can hand out books is worth moving the requests to. */
    if (rep.database_ok && rep.replication_ok)
        bookconn_follow(c, i);
}

static const struct failover_ops bookconn_ops_base = {
    .now_ms = bookconn_now_ms,
    .wait_ms = bookconn_wait,
    .cancelled = bookconn_cancelled,
    .random = bookconn_random,
};

static void bookconn_run(struct bookconn_call *k, int first, const struct failover_policy *p,
                         void (*attempt)(void *, int, int, int, struct failover_try *),
                         struct failover_outcome *out)
{
    struct failover_ops ops = bookconn_ops_base;
    ops.attempt = attempt;
    ops.ctx = k;
    failover_run(k->c->cfg.list, first, p, &ops, out);
}

/* Releases key on the servers in the list's order until one answers, within release_ms. */
static void bookconn_release_key(struct bookconn *c, const unsigned char *key, int64_t session,
                                 struct bookconn_release *rel)
{
    memset(rel, 0, sizeof *rel);
    rel->tried = true;
    rel->server = -1;
    struct bookconn_call k = {.c = c, .releasing = true, .key = key, .session = session, .rel = rel};
    /* Two tries fit even if the first server hangs. */
    struct failover_policy p = {c->cfg.release_ms, c->cfg.release_ms / 2 > 50 ? c->cfg.release_ms / 2 : 50, 0};
    bookconn_run(&k, 0, &p, bookconn_try_release, &rel->fo);
}

int bookconn_request(struct bookconn *c, struct bookconn_book *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    unsigned char key[FAILOVER_KEY_LEN];
    if (failover_key_new(key, err, errlen) < 0)
        return -1;
    failover_key_hex(key, out->key_hex);
    struct bookconn_call k = {.c = c, .key = key, .book = out};
    struct failover_policy p = {c->cfg.deadline_ms, c->cfg.try_timeout_ms, 0};
    bookconn_run(&k, failover_list_in_use(c->cfg.list), &p, bookconn_try_request, &out->fo);
    bool over = out->have_reply && out->reply.status == BOOK_SESSION_OVER;
    if (failover_must_release(&out->fo)) {
        bookconn_release_key(c, key, 0, &out->release);
    } else if (over && out->fo.maybe_held) {
        /* An earlier try may still claim in that session (a book released meanwhile). */
        bookconn_release_key(c, key, out->reply.book_reply_u.summary.session, &out->release);
    }
    return 0;
}

void bookconn_book_free(struct bookconn_book *b)
{
    if (b->have_reply)
        xdr_free((xdrproc_t)xdr_book_reply, (char *)&b->reply);
    b->have_reply = false;
}

/* English (the log shows it); the terminal translates it (N_ marks it for po/). */
const char *bookconn_release_text(release_outcome o)
{
    switch (o) {
    case RELEASE_FREED:
        return N_("the book it held is free again");
    case RELEASE_NOTHING:
        return N_("it held no book, and now never will");
    case RELEASE_ALREADY:
        return N_("it was released already (an earlier try of this release went through)");
    case RELEASE_SESSION_OVER:
        return N_("its session is over");
    }
    return N_("released");
}

void bookconn_restart(struct bookconn *c, int64_t seen, struct bookconn_session *out)
{
    memset(out, 0, sizeof *out);
    out->server = -1;
    int64_t start = bookconn_now_ms(NULL);
    int first = failover_list_in_use(c->cfg.list);
    if (seen <= 0) {
        /* Name the session to replace, so that a retry (or several clients at once)
         * opens one new session: the first server that answers says which. */
        struct bookconn_status st;
        bookconn_status(c, 0, 0, &st);
        if (!st.answered) {
            out->fo = st.fo;
            return;
        }
        seen = st.reply.session;
        first = st.server;
    }
    out->seen = seen;
    int64_t left = c->cfg.deadline_ms - (bookconn_now_ms(NULL) - start);
    struct bookconn_call k = {.c = c, .session = seen, .ses = out};
    struct failover_policy p = {left > 0 ? (int)left : 0, c->cfg.try_timeout_ms, 0};
    bookconn_run(&k, first, &p, bookconn_try_restart, &out->fo);
}

void bookconn_status(struct bookconn *c, int first, int max_tries, struct bookconn_status *out)
{
    memset(out, 0, sizeof *out);
    out->server = -1;
    struct bookconn_call k = {.c = c, .st = out};
    /* A STATUS waits for nothing on the server: the connection's own timeout, twice
     * over for the rpcbind lookup. */
    struct failover_policy p = {c->cfg.deadline_ms, 2 * c->cfg.connect_timeout_ms, max_tries};
    bookconn_run(&k, first, &p, bookconn_try_status, &out->fo);
}

int bookconn_init(struct bookconn *c, const struct bookconn_config *cfg)
{
    memset(c, 0, sizeof *c);
    c->cfg = *cfg;
    c->fd = -1;
    if (getrandom(&c->rng, sizeof c->rng, 0) != (ssize_t)sizeof c->rng || c->rng == 0)
        c->rng = (uint32_t)clock_mono_ns() | 1u;
    int rc = pthread_mutex_init(&c->lock, NULL);
    if (rc != 0)
        return rc;
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    /* A wall clock stepped meanwhile must not shorten or stretch a backoff. */
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    rc = pthread_cond_init(&c->cut_cond, &attr);
    pthread_condattr_destroy(&attr);
    if (rc != 0)
        pthread_mutex_destroy(&c->lock);
    return rc;
}

void bookconn_destroy(struct bookconn *c)
{
    for (int i = 0; i < FAILOVER_MAX_SERVERS; i++)
        bookconn_drop(c, i);
    pthread_cond_destroy(&c->cut_cond);
    pthread_mutex_destroy(&c->lock);
}

void bookconn_cut(struct bookconn *c)
{
    pthread_mutex_lock(&c->lock);
    c->cut = true;
    if (c->fd >= 0)
        shutdown(c->fd, SHUT_RDWR);
    pthread_cond_broadcast(&c->cut_cond);
    pthread_mutex_unlock(&c->lock);
}
