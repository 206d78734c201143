#include "booker.h"

#include "book_rpc.h"
#include "i18n.h"
#include "log.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Threads: the window posts commands (booker_request/booker_restart) and reads the view;
 * the worker thread is the only one making calls (through b->conn). Everything they
 * share (view, seen, stopping) is under b->lock, held only to copy, never across a call.
 * booker_stop cuts b->conn, so a call that waits for a hung server ends at once instead
 * of after its timeout, and a request out gives up and releases its key. */

/* Under the lock: whether a server answers, logged when it changes. */
static void booker_reach_locked(struct booker *b, const char *why)
{
    if (!why) {
        if (!b->view.reachable && b->view.known)
            log_info("window", "an app server answers again");
        b->view.reachable = true;
        b->view.known = true;
        b->view.unreachable[0] = '\0';
        return;
    }
    if (b->view.reachable || !b->view.known)
        log_warn("window", "no app server answers: %s", why);
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
        return _("replication unavailable, try again");
    case BOOK_ERR_DATABASE:
        return _("books database unavailable");
    case BOOK_ERR_BUSY:
        return _("the server is busy, try again");
    default:
        return message && *message ? message : _("the server refused");
    }
}

/* Why no server answered: one server's own reason whole (as the window always showed
 * it), several servers' in brief. */
static void booker_why(const struct booker *b, const struct failover_outcome *o, char *buf,
                       size_t len)
{
    if (b->cfg.servers->count == 1 && o->per[0].why[0])
        snprintf(buf, len, "%s", o->per[0].why);
    else
        failover_failed_text(b->cfg.servers, o, buf, len);
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

static void booker_copy_summary(struct booker_summary *d, const session_summary *s)
{
    d->session = s->session;
    d->books_total = s->books_total;
    d->handed_out = s->handed_out;
    d->users = s->users;
    size_t at = 0;
    d->by_server[0] = '\0';
    for (u_int i = 0; i < s->by_server.by_server_len && at < sizeof d->by_server; i++)
        at += (size_t)snprintf(d->by_server + at, sizeof d->by_server - at, _("%sserver %d: %d"),
                               i ? ", " : "", s->by_server.by_server_val[i].server,
                               s->by_server.by_server_val[i].books);
}

static void booker_log_release(const struct booker *b, const struct bookconn_book *r)
{
    char name[FAILOVER_HOST_MAX + 32];
    if (!r->release.tried)
        return;
    if (r->release.released) {
        failover_server_name(b->cfg.servers, r->release.server, name, sizeof name);
        log_info("request", "request %s released on %s: %s", r->key_hex, name,
                 bookconn_release_text(r->release.outcome));
    } else {
        log_warn("request", "request %s could not be released: %s", r->key_hex,
                 r->release.message[0] ? r->release.message : "no app server answered");
    }
}

/* REQUEST_BOOK through the list, then what the window shows of it. */
static void booker_do_request(struct booker *b)
{
    struct bookconn_book r;
    char err[300], via[300], why[300];
    if (bookconn_request(&b->conn, &r, err, sizeof err) < 0) {
        log_error("request", "%s", err);
        pthread_mutex_lock(&b->lock);
        booker_result_locked(b, true, "%s", err);
        b->view.busy = BOOKER_IDLE;
        pthread_mutex_unlock(&b->lock);
        return;
    }
    failover_via_text(b->cfg.servers, &r.fo, via, sizeof via);
    booker_why(b, &r.fo, why, sizeof why);
    const char *released = r.release.tried && r.release.released ? _(" (request released)") : "";
    if (r.fo.end == FAILOVER_END_ANSWERED && r.reply.status == BOOK_OK) {
        const book_info *bk = &r.reply.book_reply_u.book;
        log_info("request", "book %s \"%s\" session %" PRId64 " request %" PRId64 " from app "
                 "server %d after %d %s%s%s", bk->isbn, bk->title, (int64_t)bk->session,
                 (int64_t)bk->request_id, bk->server, r.fo.tries, r.fo.tries == 1 ? "try" : "tries",
                 via[0] ? ": " : "", via);
    } else if (r.fo.end == FAILOVER_END_ANSWERED) {
        const session_summary *s = &r.reply.book_reply_u.summary;
        log_info("request", "session %" PRId64 " over: %d of %d books handed out",
                 (int64_t)s->session, s->handed_out, s->books_total);
    } else if (r.fo.end == FAILOVER_END_REFUSED) {
        log_warn("request", "REQUEST_BOOK refused: %s", r.reply.book_reply_u.message);
    } else {
        log_warn("request", "request given up after %d %s: %s", r.fo.tries,
                 r.fo.tries == 1 ? "try" : "tries", why);
    }
    booker_log_release(b, &r);
    pthread_mutex_lock(&b->lock);
    switch (r.fo.end) {
    case FAILOVER_END_ANSWERED:
        booker_reach_locked(b, NULL);
        if (r.reply.status == BOOK_OK) {
            booker_copy_book(&b->view.book, &r.reply.book_reply_u.book);
            b->view.have_book = true;
            booker_result_locked(b, false, "%s", via);
        } else {
            booker_copy_summary(&b->view.over, &r.reply.book_reply_u.summary);
            b->view.sessions_over++;
            booker_result_locked(b, false, _("all books of session %lld have been handed out"),
                                 (long long)r.reply.book_reply_u.summary.session);
        }
        break;
    case FAILOVER_END_REFUSED:
        booker_reach_locked(b, NULL);
        booker_result_locked(b, true, "%s",
                             booker_refusal(r.reply.status, r.reply.book_reply_u.message));
        break;
    case FAILOVER_END_DEADLINE:
        if (r.fo.any_answer) {
            booker_reach_locked(b, NULL);
            booker_result_locked(b, true, _("no book in time: %s%s"), why, released);
        } else {
            booker_reach_locked(b, why);
            booker_result_locked(b, true, _("no app server answered%s"), released);
        }
        break;
    case FAILOVER_END_CANCELLED:
        break; /* the window is closing */
    }
    b->view.busy = BOOKER_IDLE;
    pthread_mutex_unlock(&b->lock);
    bookconn_book_free(&r);
}

static void booker_do_restart(struct booker *b, int64_t seen)
{
    struct bookconn_session s;
    bookconn_restart(&b->conn, seen, &s);
    char why[300], via[300];
    booker_why(b, &s.fo, why, sizeof why);
    failover_via_text(b->cfg.servers, &s.fo, via, sizeof via);
    if (s.fo.end == FAILOVER_END_ANSWERED)
        log_info("request", "new session: session %" PRId64 " is open with %d books (after %" PRId64
                 ")", s.session, s.books_left, s.seen);
    else if (s.answered)
        log_warn("request", "RESTART_SESSION refused: %s", s.message);
    else
        log_warn("request", "RESTART_SESSION given up after %d %s: %s", s.fo.tries,
                 s.fo.tries == 1 ? "try" : "tries", why);
    pthread_mutex_lock(&b->lock);
    if (s.fo.end == FAILOVER_END_ANSWERED) {
        booker_reach_locked(b, NULL);
        booker_result_locked(b, false,
                             ngettext("session %lld is open with %d book%s%s",
                                      "session %lld is open with %d books%s%s",
                                      (unsigned long)s.books_left),
                             (long long)s.session, s.books_left, via[0] ? "; " : "", via);
    } else if (s.answered) {
        booker_reach_locked(b, NULL);
        booker_result_locked(b, true, "%s", booker_refusal(s.status, s.message));
    } else if (s.fo.end != FAILOVER_END_CANCELLED) {
        if (!s.fo.any_answer)
            booker_reach_locked(b, why);
        booker_result_locked(b, true, _("no new session: %s"), why);
    }
    b->view.busy = BOOKER_IDLE;
    pthread_mutex_unlock(&b->lock);
}

/* A server's name as failover_server_name writes it (English: the log shows it), in the
 * window's language: "app server 2", "app server 2 at HOST". */
static void booker_ui_name(const char *en, char *buf, size_t len)
{
    int n = 0, at = 0;
    if (sscanf(en, "app server %d at %n", &n, &at) == 1 && at > 0)
        snprintf(buf, len, _("app server %d at %s"), n, en + at);
    else if (sscanf(en, "app server %d%n", &n, &at) == 1 && en[at] == '\0')
        snprintf(buf, len, _("app server %d"), n);
    else
        snprintf(buf, len, "%s", en);
}

/* STATUS of the server in use (or, now and then, of the first one, to go back to it);
 * if it does not answer, of the others in turn. */
static void booker_do_status(struct booker *b)
{
    struct failover_list *l = b->cfg.servers;
    int before = failover_list_in_use(l), first = before;
    if (before != 0 && ++b->polls_away >= BOOKER_PREFER_EVERY) {
        b->polls_away = 0;
        first = 0;
    }
    struct bookconn_status st;
    bookconn_status(&b->conn, first, l->count, &st);
    int after = failover_list_in_use(l);
    char why[300], from[FAILOVER_HOST_MAX + 32], to[FAILOVER_HOST_MAX + 32];
    booker_why(b, &st.fo, why, sizeof why);
    failover_server_name(l, before, from, sizeof from);
    failover_server_name(l, after, to, sizeof to);
    if (after != before)
        log_info("window", "now using %s (was %s)", to, from);
    pthread_mutex_lock(&b->lock);
    if (st.answered) {
        booker_reach_locked(b, NULL);
        b->view.have_status = true;
        b->view.status_server = l->server[st.server].instance;
        b->view.session = st.reply.session;
        b->view.books_total = st.reply.books_total;
        b->view.books_left = st.reply.books_left;
        b->view.database_ok = st.reply.database_ok;
        b->view.replication_ok = st.reply.replication_ok;
        char ui_from[sizeof from + 32], ui_to[sizeof to + 32];
        booker_ui_name(from, ui_from, sizeof ui_from);
        booker_ui_name(to, ui_to, sizeof ui_to);
        if (after != before && after == 0)
            booker_result_locked(b, false, _("back to %s"), ui_to);
        else if (after != before)
            booker_result_locked(b, false, _("%s unreachable, using %s"), ui_from, ui_to);
    } else if (st.fo.end != FAILOVER_END_CANCELLED) {
        booker_reach_locked(b, why);
    }
    pthread_mutex_unlock(&b->lock);
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
    if (cmd == BOOKER_REQUEST)
        booker_do_request(b);
    else if (cmd == BOOKER_RESTART)
        booker_do_restart(b, seen);
    pthread_mutex_lock(&b->lock);
    stopping = b->stopping;
    pthread_mutex_unlock(&b->lock);
    if (!stopping)
        booker_do_status(b);
    return BOOKER_POLL_MS;
}

int booker_start(struct booker *b, const struct booker_config *cfg)
{
    memset(b, 0, sizeof *b);
    b->cfg = *cfg;
    struct bookconn_config cc = {
        .list = cfg->servers, .clock = cfg->clock, .name = cfg->name,
        .connect_timeout_ms = cfg->rpc_timeout_ms, .try_timeout_ms = cfg->try_timeout_ms,
        .deadline_ms = cfg->deadline_ms, .release_ms = BOOKER_RELEASE_MS,
        .follow = cfg->follow, .ctx = cfg->follow_ctx};
    int rc = bookconn_init(&b->conn, &cc);
    if (rc != 0)
        return rc;
    pthread_mutex_init(&b->lock, NULL);
    rc = worker_start(&b->worker, booker_job, b, 0);
    if (rc != 0) {
        pthread_mutex_destroy(&b->lock);
        bookconn_destroy(&b->conn);
    }
    return rc;
}

void booker_stop(struct booker *b)
{
    pthread_mutex_lock(&b->lock);
    b->stopping = true;
    pthread_mutex_unlock(&b->lock);
    bookconn_cut(&b->conn);
    worker_stop(&b->worker);
    bookconn_destroy(&b->conn);
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
