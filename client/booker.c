#include "booker.h"

#include "book_rpc.h"
#include "log.h"
#include "replysync.h"
#include "rpcclient.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

/* Threads: the window posts commands (booker_request/booker_restart) and reads the view;
 * the worker thread owns the CLIENT handle and is the only one making calls. Everything
 * they share (view, seen, fd, stopping) is under b->lock, held only to copy, never
 * across a call. booker_stop shuts the handle's socket down so a call that waits for a
 * hung server ends at once instead of after its timeout. */

static void booker_drop(struct booker *b)
{
    pthread_mutex_lock(&b->lock);
    b->fd = -1;
    pthread_mutex_unlock(&b->lock);
    if (b->clnt)
        clnt_destroy(b->clnt);
    b->clnt = NULL;
}

/* A connection, made if there is none. false with the reason in err. */
static bool booker_connect(struct booker *b, char *err, size_t len)
{
    pthread_mutex_lock(&b->lock);
    bool stopping = b->stopping;
    pthread_mutex_unlock(&b->lock);
    if (stopping) {
        /* booker_stop shut the socket down: no reconnecting now. */
        snprintf(err, len, "stopping");
        return false;
    }
    if (b->clnt && rpcclient_closed_by_peer(b->clnt))
        booker_drop(b); /* the app server restarted since the last call */
    if (b->clnt)
        return true;
    b->clnt = rpcclient_create(b->cfg.server, b->cfg.prog, BOOK_V1, "tcp", b->cfg.rpc_timeout_ms,
                               err, len);
    if (!b->clnt)
        return false;
    int fd = -1;
    clnt_control(b->clnt, CLGET_FD, (char *)&fd);
    pthread_mutex_lock(&b->lock);
    b->fd = fd;
    stopping = b->stopping;
    pthread_mutex_unlock(&b->lock);
    if (stopping) {
        snprintf(err, len, "stopping");
        booker_drop(b);
        return false;
    }
    return true;
}

static void booker_timeout(struct booker *b, int ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    clnt_control(b->clnt, CLSET_TIMEOUT, (char *)&tv);
}

/* Under the lock: whether the server answers, logged when it changes. */
static void booker_reach_locked(struct booker *b, const char *why)
{
    if (!why) {
        if (!b->view.reachable && b->view.known)
            log_info("window", "app server %s answers again", b->cfg.server);
        b->view.reachable = true;
        b->view.known = true;
        b->view.unreachable[0] = '\0';
        return;
    }
    if (b->view.reachable || !b->view.known)
        log_warn("window", "app server unreachable: %s", why);
    b->view.reachable = false;
    b->view.known = true;
    snprintf(b->view.unreachable, sizeof b->view.unreachable, "%s", why);
}

static void booker_result_locked(struct booker *b, bool error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void booker_result_locked(struct booker *b, bool error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b->view.result, sizeof b->view.result, fmt, ap);
    va_end(ap);
    b->view.result_error = error;
}

static const char *booker_refusal(book_status st, const char *message)
{
    switch (st) {
    case BOOK_ERR_REPLICATION:
        return "replication unavailable, try again";
    case BOOK_ERR_DATABASE:
        return "books database unavailable";
    case BOOK_ERR_BUSY:
        return "the server is busy, try again";
    default:
        return message && *message ? message : "the server refused";
    }
}

static void booker_copy_book(struct booker_book *d, const book_info *s)
{
    snprintf(d->isbn, sizeof d->isbn, "%s", s->isbn ? s->isbn : "");
    snprintf(d->title, sizeof d->title, "%s", s->title ? s->title : "");
    snprintf(d->author, sizeof d->author, "%s", s->author ? s->author : "");
    d->year = s->year;
    d->session = s->session;
    d->request_id = s->request_id;
    d->server = s->server;
    d->server_time_us = s->server_time_us;
}

/* REQUEST_BOOK. false (err filled) if the call failed; the command is over either way. */
static bool booker_do_request(struct booker *b, char *err, size_t len)
{
    book_request a = {(char *)b->cfg.name, replysync_request_time(b->cfg.clock)};
    book_reply rep;
    memset(&rep, 0, sizeof rep);
    booker_timeout(b, BOOKER_REQUEST_TIMEOUT_MS);
    int64_t send_ns = clock_mono_ns();
    enum clnt_stat st = request_book_1(&a, &rep, b->clnt);
    int64_t recv_ns = clock_mono_ns();
    if (st != RPC_SUCCESS) {
        rpcclient_error(b->clnt, st, "REQUEST_BOOK", err, len);
        pthread_mutex_lock(&b->lock);
        b->view.busy = BOOKER_IDLE;
        pthread_mutex_unlock(&b->lock);
        return false;
    }
    if (rep.status == BOOK_OK) {
        const book_info *bk = &rep.book_reply_u.book;
        replysync_apply(b->cfg.clock, bk->server_time_us, send_ns, recv_ns);
        log_info("request", "book %s \"%s\" session %" PRId64 " request %" PRId64, bk->isbn,
                 bk->title, (int64_t)bk->session, (int64_t)bk->request_id);
    } else if (rep.status == BOOK_SESSION_OVER) {
        const session_summary *s = &rep.book_reply_u.summary;
        replysync_apply(b->cfg.clock, s->server_time_us, send_ns, recv_ns);
        log_info("request", "session %" PRId64 " over: %d of %d books handed out", (int64_t)s->session,
                 s->handed_out, s->books_total);
    } else {
        log_warn("request", "REQUEST_BOOK refused: %s", rep.book_reply_u.message);
    }
    pthread_mutex_lock(&b->lock);
    booker_reach_locked(b, NULL);
    if (rep.status == BOOK_OK) {
        booker_copy_book(&b->view.book, &rep.book_reply_u.book);
        b->view.have_book = true;
        booker_result_locked(b, false, "%s", "");
    } else if (rep.status == BOOK_SESSION_OVER) {
        const session_summary *s = &rep.book_reply_u.summary;
        b->view.over = (struct booker_summary){s->session, s->books_total, s->handed_out,
                                               s->by_server1, s->by_server2, s->users};
        b->view.sessions_over++;
        booker_result_locked(b, false, "all books of session %" PRId64 " have been handed out",
                             (int64_t)s->session);
    } else {
        booker_result_locked(b, true, "%s", booker_refusal(rep.status, rep.book_reply_u.message));
    }
    b->view.busy = BOOKER_IDLE;
    pthread_mutex_unlock(&b->lock);
    xdr_free((xdrproc_t)xdr_book_reply, (char *)&rep);
    return true;
}

static bool booker_do_restart(struct booker *b, int64_t seen, char *err, size_t len)
{
    restart_args a = {(char *)b->cfg.name, seen};
    session_reply rep;
    memset(&rep, 0, sizeof rep);
    booker_timeout(b, BOOKER_REQUEST_TIMEOUT_MS);
    enum clnt_stat st = restart_session_1(&a, &rep, b->clnt);
    if (st != RPC_SUCCESS) {
        rpcclient_error(b->clnt, st, "RESTART_SESSION", err, len);
        pthread_mutex_lock(&b->lock);
        b->view.busy = BOOKER_IDLE;
        pthread_mutex_unlock(&b->lock);
        return false;
    }
    if (rep.status == BOOK_OK)
        log_info("request", "new session: session %" PRId64 " is open with %d books (after %" PRId64
                 ")", (int64_t)rep.session, rep.books_left, seen);
    else
        log_warn("request", "RESTART_SESSION refused: %s", rep.message);
    pthread_mutex_lock(&b->lock);
    booker_reach_locked(b, NULL);
    if (rep.status == BOOK_OK)
        booker_result_locked(b, false, "session %" PRId64 " is open with %d books",
                             (int64_t)rep.session, rep.books_left);
    else
        booker_result_locked(b, true, "%s", booker_refusal(rep.status, rep.message));
    b->view.busy = BOOKER_IDLE;
    pthread_mutex_unlock(&b->lock);
    xdr_free((xdrproc_t)xdr_session_reply, (char *)&rep);
    return true;
}

static bool booker_do_status(struct booker *b, char *err, size_t len)
{
    status_reply rep;
    memset(&rep, 0, sizeof rep);
    booker_timeout(b, b->cfg.rpc_timeout_ms);
    enum clnt_stat st = status_1(NULL, &rep, b->clnt);
    if (st != RPC_SUCCESS) {
        rpcclient_error(b->clnt, st, "STATUS", err, len);
        return false;
    }
    pthread_mutex_lock(&b->lock);
    booker_reach_locked(b, NULL);
    b->view.have_status = true;
    b->view.session = rep.session;
    b->view.books_total = rep.books_total;
    b->view.books_left = rep.books_left;
    b->view.database_ok = rep.database_ok;
    b->view.replication_ok = rep.replication_ok;
    pthread_mutex_unlock(&b->lock);
    xdr_free((xdrproc_t)xdr_status_reply, (char *)&rep);
    return true;
}

/* One run: the command posted if any, then a STATUS (books left after it, or the poll). */
static int booker_job(void *arg)
{
    struct booker *b = arg;
    pthread_mutex_lock(&b->lock);
    enum booker_cmd cmd = b->view.busy;
    int64_t seen = b->seen;
    bool stopping = b->stopping;
    pthread_mutex_unlock(&b->lock);
    if (stopping)
        return BOOKER_POLL_MS;
    char err[240];
    bool ok = booker_connect(b, err, sizeof err);
    if (ok && cmd == BOOKER_REQUEST)
        ok = booker_do_request(b, err, sizeof err);
    else if (ok && cmd == BOOKER_RESTART)
        ok = booker_do_restart(b, seen, err, sizeof err);
    else if (!ok && cmd != BOOKER_IDLE) {
        pthread_mutex_lock(&b->lock);
        b->view.busy = BOOKER_IDLE;
        pthread_mutex_unlock(&b->lock);
    }
    if (ok)
        ok = booker_do_status(b, err, sizeof err);
    if (!ok) {
        pthread_mutex_lock(&b->lock);
        booker_reach_locked(b, err);
        pthread_mutex_unlock(&b->lock);
        /* A failed call may leave the connection broken: start afresh next time. */
        booker_drop(b);
    }
    return BOOKER_POLL_MS;
}

int booker_start(struct booker *b, const struct booker_config *cfg)
{
    memset(b, 0, sizeof *b);
    b->cfg = *cfg;
    b->fd = -1;
    pthread_mutex_init(&b->lock, NULL);
    int rc = worker_start(&b->worker, booker_job, b, 0);
    if (rc != 0)
        pthread_mutex_destroy(&b->lock);
    return rc;
}

void booker_stop(struct booker *b)
{
    pthread_mutex_lock(&b->lock);
    b->stopping = true;
    if (b->fd >= 0)
        shutdown(b->fd, SHUT_RDWR);
    pthread_mutex_unlock(&b->lock);
    worker_stop(&b->worker);
    booker_drop(b);
    pthread_mutex_destroy(&b->lock);
}

static bool booker_post(struct booker *b, enum booker_cmd cmd, int64_t seen)
{
    pthread_mutex_lock(&b->lock);
    bool posted = b->view.busy == BOOKER_IDLE && !b->stopping;
    if (posted) {
        b->view.busy = cmd;
        b->seen = seen;
        b->view.result[0] = '\0';
        b->view.result_error = false;
    }
    pthread_mutex_unlock(&b->lock);
    if (posted)
        worker_wake(&b->worker);
    return posted;
}

bool booker_request(struct booker *b)
{
    return booker_post(b, BOOKER_REQUEST, 0);
}

bool booker_restart(struct booker *b, int64_t seen_session)
{
    return booker_post(b, BOOKER_RESTART, seen_session);
}

void booker_view(struct booker *b, struct booker_view *out)
{
    pthread_mutex_lock(&b->lock);
    *out = b->view;
    pthread_mutex_unlock(&b->lock);
}
