/* bookload: the books benchmark's load generator (test/bench/books.sh).
 *
 *   bookload --servers 1,2 --clients C --seconds S --catalogue-size N [--host H]
 *            [--timeout-ms MS] [--deadline-ms MS] [--window FROM_MS:TO_MS]
 *            [--lag-interval-ms MS] [--no-lag] [--trace PREFIX]
 *   bookload --null-rpc S [--servers 1] [--clients C] [--host H]
 *
 * Load: C threads, each a client as bin/client is one: user load-NN, a list of every
 * server of --servers in turn from its own (thread i starts on server i mod n), and for
 * every request a fresh 128-bit key kept across its tries, tried on the server in use,
 * then the next ones, with the client's backoff (client/failover.c), each try at most
 * --timeout-ms (2500), the whole request at most --deadline-ms (10000); a server that
 * answered becomes the one in use. A request given up at its deadline is "failed" and,
 * if a try may have taken a book, its key is released. The latency of a request runs
 * from its first try to the answer (CLOCK_MONOTONIC). On SESSION_OVER the first thread
 * to see a session end calls RESTART_SESSION with that session; the others wait for that
 * restart to finish and retry, so the load never stops.
 * --window FROM:TO also reports the requests that started from FROM to TO ms after the
 * start (the books benchmark's outage).
 * Beside them a lag sampler polls STATUS on every server back to back, at most every
 * --lag-interval-ms (0.5), and notes for each applied_seq the moment (middle of the STATUS
 * call) it was first seen on each server. The replication lag of an entry is the spread
 * of its first-seen moments over the servers: its resolution is the sampling interval (a
 * full pass over the servers under load), printed as lag_interval_ms. Once the load
 * stops, the sampler goes on (up to 10 s) until every server has applied the last entry,
 * so that the entries of the last calls are measured too.
 * Before the run, STATUS must report --catalogue-size books on every server.
 * --trace PREFIX writes every book (PREFIX.calls) and every entry's first-seen times
 * (PREFIX.lag), in ms since the start, for a closer look.
 *
 * Null RPC (--null-rpc S): C threads (default 1; thread i on server i mod the number of
 * servers) call NULLPROC of BOOK in a loop for S seconds: the cost of a bare RPC round
 * trip on this machine.
 *
 * Output: key=value lines on stdout (percentiles by nearest rank over the requests that
 * ended within the S seconds; requests counts books handed out only). Exit status: 0
 * done, 1 cannot connect, the catalogue size differs or no book was handed out, 2 usage. */
#include "book_rpc.h"
#include "clock.h"
#include "failover.h"
#include "rpcclient.h"
#include "rpcserver.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BL_MAX_SERVERS 8
#define BL_MAX_CLIENTS 1024
#define BL_NSTATUS 10 /* BOOK_OK .. BOOK_ERR_DENIED */
#define BL_DRAIN_NS (10 * 1000000000LL)

struct bl_args {
    const char *host, *trace;
    int servers[BL_MAX_SERVERS];
    int nservers;
    long clients, seconds, catalogue, null_seconds, timeout_ms, deadline_ms;
    long window_from_ms, window_to_ms; /* --window: -1 if none */
    double lag_interval_ms;
    bool clients_given, no_lag;
};

/* A growable array of int64 samples. */
struct bl_vec {
    int64_t *v;
    size_t n, cap;
};

static int bl_push(struct bl_vec *s, int64_t x)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 4096;
        int64_t *v = realloc(s->v, cap * sizeof *v);
        if (!v)
            return -1;
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = x;
    return 0;
}

struct bl_worker {
    pthread_t thread;
    int index, instance;           /* instance: the worker's first server */
    struct failover_list list;     /* every server, its own first */
    CLIENT *clnt[BL_MAX_SERVERS];  /* kept connections, by index in list */
    uint32_t rng;
    struct bl_vec lat_ns;          /* answered requests: first try's start to the answer */
    struct bl_vec start_ns;        /* their starts (for --window and --trace) */
    struct bl_vec server_of;       /* the index in bl.servers of the server that answered */
    struct bl_vec failed_ns;       /* starts of requests that reached the deadline */
    long status_count[BL_NSTATUS]; /* answers by status (BOOK_OK included) */
    long per_server[BL_MAX_SERVERS]; /* books, by the index of bl.servers that handed them */
    long tries, retried, failovers, try_failures, released, release_failures;
    long restarts, restarts_new, restart_failures, reconnects;
    char last_error[256];
};

static struct bl_args bl;
static int64_t bl_start_ns;
static _Atomic int64_t bl_end_ns; /* set once every thread is connected */
static atomic_bool bl_stop;      /* the load stops */
static atomic_bool bl_lag_drain; /* the load has stopped: the sampler ends once caught up */
static pthread_barrier_t bl_barrier;

/* Restarts: one per ended session. */
static pthread_mutex_t bl_restart_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t bl_restart_cond = PTHREAD_COND_INITIALIZER;
static int64_t bl_restart_session; /* the last ended session a restart was claimed for */
static bool bl_restart_running;

static const char *const bl_status_key[BL_NSTATUS] = {
    "ok", "session_over", "err_badarg", "err_replication", "err_database", "err_busy",
    "err_internal", "err_key", "err_released", "err_denied"};

static int usage(void)
{
    fprintf(stderr,
            "usage: bookload --servers 1,2 --clients C --seconds S --catalogue-size N [--host H]\n"
            "                [--timeout-ms MS] [--deadline-ms MS] [--window FROM_MS:TO_MS]\n"
            "                [--lag-interval-ms MS] [--no-lag] [--trace PREFIX]\n"
            "       bookload --null-rpc S [--servers N] [--clients C] [--host H]\n");
    return 2;
}

static int64_t bl_now(void)
{
    return clock_mono_ns();
}

static void bl_sleep_ns(int64_t ns)
{
    struct timespec ts = {(time_t)(ns / 1000000000), (long)(ns % 1000000000)};
    nanosleep(&ts, NULL);
}

static CLIENT *bl_connect(int instance, int timeout_ms, char *err, size_t len)
{
    return rpcclient_create(bl.host, BOOK_PROG + (unsigned long)instance, BOOK_V2, "tcp",
                            timeout_ms, err, len);
}

static int cmp64(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
    return (a > b) - (a < b);
}

/* Nearest rank on a sorted array; 0 if empty. */
static int64_t pct(const struct bl_vec *s, double q)
{
    if (s->n == 0)
        return 0;
    long i = (long)ceil(q * (double)s->n) - 1;
    return s->v[i < 0 ? 0 : ((size_t)i >= s->n ? (long)s->n - 1 : i)];
}

static double ms(int64_t ns)
{
    return (double)ns / 1e6;
}

/* ---- the load ---- */

/* Called with the session that ended: restarts it once, or waits for whoever does.
 * Returns false if the connection must not be used again (the call failed). */
static bool bl_session_over(struct bl_worker *w, CLIENT *c, int64_t session, const char *user)
{
    pthread_mutex_lock(&bl_restart_lock);
    if (session > bl_restart_session) {
        int64_t before = bl_restart_session;
        bl_restart_session = session;
        bl_restart_running = true;
        pthread_mutex_unlock(&bl_restart_lock);
        restart_args a = {(char *)user, session};
        session_reply rep;
        memset(&rep, 0, sizeof rep);
        enum clnt_stat st = restart_session_2(&a, &rep, c);
        bool ok = st == RPC_SUCCESS && rep.status == BOOK_OK;
        if (ok) {
            w->restarts++;
            if (rep.session > session)
                w->restarts_new++;
        } else {
            w->restart_failures++;
            snprintf(w->last_error, sizeof w->last_error, "RESTART_SESSION: %s",
                     st != RPC_SUCCESS ? clnt_sperrno(st) : rep.message ? rep.message : "?");
        }
        if (st == RPC_SUCCESS)
            xdr_free((xdrproc_t)xdr_session_reply, (char *)&rep);
        pthread_mutex_lock(&bl_restart_lock);
        if (!ok && bl_restart_session == session)
            bl_restart_session = before; /* let the next one try */
        bl_restart_running = false;
        pthread_cond_broadcast(&bl_restart_cond);
        pthread_mutex_unlock(&bl_restart_lock);
        if (st != RPC_SUCCESS)
            bl_sleep_ns(10 * 1000000);
        return st == RPC_SUCCESS;
    }
    /* Someone restarts (or restarted) this session: wait for it, then retry. */
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 1;
    while (bl_restart_running && !atomic_load(&bl_stop))
        if (pthread_cond_timedwait(&bl_restart_cond, &bl_restart_lock, &until) == ETIMEDOUT)
            break;
    pthread_mutex_unlock(&bl_restart_lock);
    /* The new session may not be applied on this server yet: a short pause, not a spin
     * (every SESSION_OVER reply costs the server a log append). */
    bl_sleep_ns(200 * 1000);
    return true;
}

/* ---- one request, tried on the servers in turn (client/failover.c, as the client) ---- */

struct bl_call {
    struct bl_worker *w;
    book_request *req;
    book_reply *rep;     /* the answer of the last try, if it answered */
    bool answered;
};

static int64_t bl_ops_now_ms(void *ctx)
{
    (void)ctx;
    return bl_now() / 1000000;
}

static bool bl_ops_wait_ms(void *ctx, int ms)
{
    (void)ctx;
    bl_sleep_ns((int64_t)ms * 1000000);
    return !atomic_load(&bl_stop);
}

static bool bl_ops_cancelled(void *ctx)
{
    (void)ctx;
    return atomic_load(&bl_stop);
}

static uint32_t bl_ops_random(void *ctx)
{
    struct bl_call *k = ctx;
    uint32_t x = k->w->rng;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return k->w->rng = x;
}

/* The worker's kept connection to server i of its list, made (or remade) if needed. */
static CLIENT *bl_conn(struct bl_worker *w, int i, int timeout_ms, struct failover_try *t)
{
    CLIENT *c = w->clnt[i];
    if (c && rpcclient_closed_by_peer(c)) {
        clnt_destroy(c);
        c = w->clnt[i] = NULL;
    }
    if (!c) {
        c = w->clnt[i] = bl_connect(w->list.server[i].instance, timeout_ms, t->why,
                                    sizeof t->why);
        if (!c) {
            t->kind = FAILOVER_UNREACHABLE;
            t->brief = "unreachable";
            return NULL;
        }
        w->reconnects++;
    }
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    clnt_control(c, CLSET_TIMEOUT, (char *)&tv);
    return c;
}

static void bl_drop_conn(struct bl_worker *w, int i)
{
    if (w->clnt[i])
        clnt_destroy(w->clnt[i]); /* a late reply must not be taken for the next call's */
    w->clnt[i] = NULL;
}

static void bl_ops_request(void *ctx, int i, int attempt, int timeout_ms, struct failover_try *t)
{
    struct bl_call *k = ctx;
    struct bl_worker *w = k->w;
    w->tries++;
    CLIENT *c = bl_conn(w, i, timeout_ms, t);
    if (!c) {
        w->try_failures++;
        return;
    }
    k->req->attempt = attempt;
    memset(k->rep, 0, sizeof *k->rep);
    enum clnt_stat st = request_book_2(k->req, k->rep, c);
    if (st != RPC_SUCCESS) {
        failover_classify_rpc(st, t);
        rpcclient_error(c, st, "REQUEST_BOOK", t->why, sizeof t->why);
        bl_drop_conn(w, i);
        w->try_failures++;
        return;
    }
    failover_classify_status(k->rep->status, t);
    if (t->kind == FAILOVER_ANSWERED || t->kind == FAILOVER_REFUSED) {
        k->answered = true;
        return;
    }
    snprintf(t->why, sizeof t->why, "REQUEST_BOOK: %s",
             k->rep->book_reply_u.message ? k->rep->book_reply_u.message : t->brief);
    xdr_free((xdrproc_t)xdr_book_reply, (char *)k->rep);
    w->try_failures++;
}

/* A given-up key that may hold a book: one RELEASE_BOOK try per server until one answers. */
static void bl_release(struct bl_worker *w, const char *user, book_key *key)
{
    for (int n = 0; n < w->list.count; n++) {
        int i = (failover_list_in_use(&w->list) + n) % w->list.count;
        struct failover_try t;
        memset(&t, 0, sizeof t);
        CLIENT *c = bl_conn(w, i, (int)bl.timeout_ms, &t);
        if (!c)
            continue;
        release_args a = {(char *)user, *key, 0};
        release_reply rep;
        memset(&rep, 0, sizeof rep);
        enum clnt_stat st = release_book_2(&a, &rep, c);
        if (st != RPC_SUCCESS) {
            bl_drop_conn(w, i);
            continue;
        }
        bool ok = rep.status == BOOK_OK;
        xdr_free((xdrproc_t)xdr_release_reply, (char *)&rep);
        if (ok) {
            w->released++;
            return;
        }
    }
    w->release_failures++;
}

static int bl_server_index(int instance)
{
    for (int s = 0; s < bl.nservers; s++)
        if (bl.servers[s] == instance)
            return s;
    return -1;
}

static void *bl_load_thread(void *arg)
{
    struct bl_worker *w = arg;
    char user[BOOK_NAME_MAX];
    snprintf(user, sizeof user, "load-%02d", w->index);
    const struct failover_policy policy = {.deadline_ms = (int)bl.deadline_ms,
                                           .try_timeout_ms = (int)bl.timeout_ms};
    pthread_barrier_wait(&bl_barrier);
    while (!atomic_load(&bl_stop)) {
        unsigned char key[FAILOVER_KEY_LEN];
        if (failover_key_new(key, w->last_error, sizeof w->last_error) < 0)
            break;
        book_request req = {user, -1, {FAILOVER_KEY_LEN, (char *)key}, 1};
        book_reply rep;
        struct bl_call call = {w, &req, &rep, false};
        const struct failover_ops ops = {bl_ops_now_ms, bl_ops_wait_ms, bl_ops_cancelled,
                                         bl_ops_random, bl_ops_request, &call};
        struct failover_outcome out;
        int64_t t0 = bl_now();
        failover_run(&w->list, failover_list_in_use(&w->list), &policy, &ops, &out);
        int64_t t1 = bl_now();
        if (t1 > atomic_load(&bl_end_ns) || out.end == FAILOVER_END_CANCELLED) {
            /* ended after the window: not counted */
            if (call.answered)
                xdr_free((xdrproc_t)xdr_book_reply, (char *)&rep);
            break;
        }
        if (out.tries > 1)
            w->retried++;
        if (!call.answered) { /* the deadline passed */
            bl_push(&w->failed_ns, t0);
            failover_reasons_text(&w->list, &out, w->last_error, sizeof w->last_error);
            if (failover_must_release(&out))
                bl_release(w, user, &req.key);
            continue;
        }
        if (failover_list_use(&w->list, out.server))
            w->failovers++;
        if (rep.status >= 0 && rep.status < BL_NSTATUS)
            w->status_count[rep.status]++;
        if (rep.status == BOOK_OK) {
            bl_push(&w->lat_ns, t1 - t0);
            bl_push(&w->start_ns, t0);
            int s = bl_server_index(rep.book_reply_u.book.server);
            bl_push(&w->server_of, s);
            if (s >= 0)
                w->per_server[s]++;
        } else if (rep.status == BOOK_SESSION_OVER) {
            int64_t session = rep.book_reply_u.summary.session;
            xdr_free((xdrproc_t)xdr_book_reply, (char *)&rep);
            struct failover_try t;
            memset(&t, 0, sizeof t);
            CLIENT *c = bl_conn(w, out.server, (int)bl.timeout_ms, &t);
            if (c && !bl_session_over(w, c, session, user))
                bl_drop_conn(w, out.server);
            continue;
        } else {
            snprintf(w->last_error, sizeof w->last_error, "REQUEST_BOOK: status %d: %s",
                     rep.status, rep.book_reply_u.message ? rep.book_reply_u.message : "");
        }
        xdr_free((xdrproc_t)xdr_book_reply, (char *)&rep);
    }
    for (int i = 0; i < w->list.count; i++)
        bl_drop_conn(w, i);
    return NULL;
}

/* ---- the lag sampler ---- */

struct bl_lag {
    pthread_t thread;
    CLIENT *c[BL_MAX_SERVERS];
    int64_t base_seq[BL_MAX_SERVERS]; /* applied before the sampler's first pass */
    int64_t last_seq[BL_MAX_SERVERS];
    struct bl_vec first_seen[BL_MAX_SERVERS]; /* index: seq - base_seq[0] - 1 */
    int64_t base;
    long passes, failures;
    int64_t first_pass_ns, last_pass_ns;
    struct bl_vec rtt_ns; /* STATUS round trips under load: the error of "seen at" */
    char last_error[256];
};

static struct bl_lag lag;

/* first_seen[s].v[k] is when seq base + 1 + k was first seen on server s. */
static void bl_lag_note(int s, int64_t seq, int64_t at)
{
    struct bl_vec *v = &lag.first_seen[s];
    if (seq <= lag.base)
        return;
    while ((int64_t)v->n < seq - lag.base)
        if (bl_push(v, at) < 0)
            return;
}

static int bl_status(int s, status_reply *rep, int64_t *mid)
{
    memset(rep, 0, sizeof *rep);
    int64_t t0 = bl_now();
    enum clnt_stat st = status_2(NULL, rep, lag.c[s]);
    int64_t t1 = bl_now();
    *mid = t0 + (t1 - t0) / 2;
    if (st == RPC_SUCCESS && !atomic_load(&bl_lag_drain))
        bl_push(&lag.rtt_ns, t1 - t0);
    if (st != RPC_SUCCESS) {
        rpcclient_error(lag.c[s], st, "STATUS", lag.last_error, sizeof lag.last_error);
        return -1;
    }
    return 0;
}

static void *bl_lag_thread(void *arg)
{
    (void)arg;
    int64_t period = (int64_t)(bl.lag_interval_ms * 1e6);
    int64_t next = bl_now();
    pthread_barrier_wait(&bl_barrier);
    int64_t drain_until = 0;
    for (;;) {
        if (atomic_load(&bl_lag_drain)) {
            /* Follow the entries of the last calls until every server has applied them. */
            int64_t lo = lag.last_seq[0], hi = lo;
            for (int s = 1; s < bl.nservers; s++) {
                lo = lag.last_seq[s] < lo ? lag.last_seq[s] : lo;
                hi = lag.last_seq[s] > hi ? lag.last_seq[s] : hi;
            }
            if (!drain_until)
                drain_until = bl_now() + BL_DRAIN_NS;
            if (lo == hi || bl_now() > drain_until)
                break;
        }
        bool ok = true;
        for (int s = 0; s < bl.nservers; s++) {
            status_reply rep;
            int64_t mid;
            if (!lag.c[s] || bl_status(s, &rep, &mid) < 0) {
                ok = false;
                lag.failures++;
                if (lag.c[s])
                    clnt_destroy(lag.c[s]);
                char err[300];
                lag.c[s] = bl_connect(bl.servers[s], (int)bl.timeout_ms, err, sizeof err);
                continue;
            }
            if (rep.applied_seq > lag.last_seq[s]) {
                lag.last_seq[s] = rep.applied_seq;
                bl_lag_note(s, rep.applied_seq, mid);
            }
        }
        if (ok && !atomic_load(&bl_lag_drain)) { /* the interval under load */
            int64_t now = bl_now();
            if (lag.passes++ == 0)
                lag.first_pass_ns = now;
            lag.last_pass_ns = now;
        }
        next += period;
        int64_t now = bl_now();
        if (next > now)
            bl_sleep_ns(next - now);
        else
            next = now;
    }
    return NULL;
}

static int bl_lag_start(char *err, size_t len)
{
    for (int s = 0; s < bl.nservers; s++) {
        if (!(lag.c[s] = bl_connect(bl.servers[s], (int)bl.timeout_ms, err, len)))
            return -1;
        status_reply rep;
        int64_t mid;
        if (bl_status(s, &rep, &mid) < 0) {
            snprintf(err, len, "%s", lag.last_error);
            return -1;
        }
        if (rep.books_total != bl.catalogue) {
            snprintf(err, len, "server %d has %d books, not --catalogue-size %ld",
                     bl.servers[s], rep.books_total, bl.catalogue);
            return -1;
        }
        lag.last_seq[s] = lag.base_seq[s] = rep.applied_seq;
        if (s == 0 || rep.applied_seq > lag.base)
            lag.base = rep.applied_seq;
    }
    /* Only entries applied after every server's first answer are compared. */
    for (int s = 0; s < bl.nservers; s++)
        lag.last_seq[s] = lag.base > lag.last_seq[s] ? lag.base : lag.last_seq[s];
    return 0;
}

static void bl_lag_report(void)
{
    struct bl_vec lags = {0};
    long later[BL_MAX_SERVERS] = {0}; /* entries each server applied last */
    size_t n = lag.first_seen[0].n;
    for (int s = 1; s < bl.nservers; s++)
        n = lag.first_seen[s].n < n ? lag.first_seen[s].n : n;
    for (size_t k = 0; bl.nservers > 1 && k < n; k++) {
        int64_t lo = lag.first_seen[0].v[k], hi = lo;
        int last = 0;
        for (int s = 1; s < bl.nservers; s++) {
            int64_t t = lag.first_seen[s].v[k];
            lo = t < lo ? t : lo;
            if (t > hi) {
                hi = t;
                last = s;
            }
        }
        if (hi > lo)
            later[last]++;
        bl_push(&lags, hi - lo);
    }
    qsort(lags.v, lags.n, sizeof *lags.v, cmp64);
    double interval = lag.passes > 1 ? ms(lag.last_pass_ns - lag.first_pass_ns) /
                                           (double)(lag.passes - 1)
                                     : 0;
    qsort(lag.rtt_ns.v, lag.rtt_ns.n, sizeof *lag.rtt_ns.v, cmp64);
    printf("lag_entries=%zu lag_p50_ms=%.3f lag_p99_ms=%.3f lag_max_ms=%.3f "
           "lag_interval_ms=%.3f lag_polls=%ld lag_poll_failures=%ld "
           "status_rtt_p50_ms=%.3f status_rtt_p99_ms=%.3f\n",
           lags.n, ms(pct(&lags, 0.5)), ms(pct(&lags, 0.99)),
           lags.n ? ms(lags.v[lags.n - 1]) : 0.0, interval, lag.passes, lag.failures,
           ms(pct(&lag.rtt_ns, 0.5)), ms(pct(&lag.rtt_ns, 0.99)));
    for (int s = 0; s < bl.nservers && bl.nservers > 1; s++)
        printf("%slag_later_on_server%d=%ld", s ? " " : "", bl.servers[s], later[s]);
    if (bl.nservers > 1)
        printf("\n");
    printf("# lag: per log entry, |first seen applied on server %d - on server %d| from "
           "STATUS polls; resolution = the sampling interval lag_interval_ms\n",
           bl.servers[bl.nservers > 1 ? 1 : 0], bl.servers[0]);
    if (lag.failures && lag.last_error[0])
        fprintf(stderr, "bookload: lag sampler: last error: %s\n", lag.last_error);
    free(lags.v);
    free(lag.rtt_ns.v);
}

/* --trace PREFIX: PREFIX.calls "end_ms server latency_ms" per book handed out and
 * PREFIX.lag "seq first_seen_ms..." per entry (ms since the start of the load). */
static void bl_write_trace(const struct bl_worker *w)
{
    char path[4096];
    snprintf(path, sizeof path, "%s.calls", bl.trace);
    FILE *f = fopen(path, "w");
    for (long i = 0; f && i < bl.clients; i++)
        for (size_t k = 0; k < w[i].lat_ns.n; k++) {
            int64_t s = w[i].server_of.v[k];
            fprintf(f, "%.3f %d %.3f\n", ms(w[i].start_ns.v[k] + w[i].lat_ns.v[k] - bl_start_ns),
                    s >= 0 ? bl.servers[s] : 0, ms(w[i].lat_ns.v[k]));
        }
    if (f)
        fclose(f);
    snprintf(path, sizeof path, "%s.lag", bl.trace);
    f = bl.no_lag ? NULL : fopen(path, "w");
    size_t n = lag.first_seen[0].n;
    for (int s = 1; s < bl.nservers; s++)
        n = lag.first_seen[s].n < n ? lag.first_seen[s].n : n;
    for (size_t k = 0; f && k < n; k++) {
        fprintf(f, "%" PRId64, lag.base + 1 + (int64_t)k);
        for (int s = 0; s < bl.nservers; s++)
            fprintf(f, " %.3f", ms(lag.first_seen[s].v[k] - bl_start_ns));
        fprintf(f, "\n");
    }
    if (f)
        fclose(f);
}

/* The latencies of the books handed out, sorted: by server index `server` (-1: all) and,
 * if from_ns < to_ns, only of requests that started in [from_ns, to_ns). */
static void bl_gather(const struct bl_worker *w, int server, int64_t from_ns, int64_t to_ns,
                      struct bl_vec *out)
{
    for (long i = 0; i < bl.clients; i++)
        for (size_t k = 0; k < w[i].lat_ns.n; k++) {
            if (server >= 0 && w[i].server_of.v[k] != server)
                continue;
            int64_t t = w[i].start_ns.v[k];
            if (from_ns < to_ns && (t < from_ns || t >= to_ns))
                continue;
            bl_push(out, w[i].lat_ns.v[k]);
        }
    qsort(out->v, out->n, sizeof *out->v, cmp64);
}

static long bl_failed_between(const struct bl_worker *w, int64_t from_ns, int64_t to_ns)
{
    long n = 0;
    for (long i = 0; i < bl.clients; i++)
        for (size_t k = 0; k < w[i].failed_ns.n; k++)
            n += w[i].failed_ns.v[k] >= from_ns && w[i].failed_ns.v[k] < to_ns;
    return n;
}

static void bl_report(const struct bl_worker *w)
{
    struct bl_vec all = {0};
    long by_status[BL_NSTATUS] = {0}, per_server[BL_MAX_SERVERS] = {0};
    long failed = 0, tries = 0, retried = 0, failovers = 0, try_failures = 0, released = 0,
         release_failures = 0, restarts = 0, restarts_new = 0, restart_failures = 0,
         reconnects = 0;
    const char *last_error = NULL;
    for (long i = 0; i < bl.clients; i++) {
        for (int s = 0; s < BL_NSTATUS; s++)
            by_status[s] += w[i].status_count[s];
        for (int s = 0; s < bl.nservers; s++)
            per_server[s] += w[i].per_server[s];
        failed += (long)w[i].failed_ns.n;
        tries += w[i].tries;
        retried += w[i].retried;
        failovers += w[i].failovers;
        try_failures += w[i].try_failures;
        released += w[i].released;
        release_failures += w[i].release_failures;
        restarts += w[i].restarts;
        restarts_new += w[i].restarts_new;
        restart_failures += w[i].restart_failures;
        reconnects += w[i].reconnects;
        if (w[i].last_error[0])
            last_error = w[i].last_error;
    }
    bl_gather(w, -1, 0, 0, &all);
    long refused = restart_failures;
    for (int s = BOOK_ERR_BADARG; s < BL_NSTATUS; s++)
        refused += by_status[s];
    double secs = (double)bl.seconds;
    printf("requests=%zu rate_per_s=%.1f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f failed=%ld "
           "errors=%ld restarts=%ld seconds=%ld clients=%ld\n",
           all.n, (double)all.n / secs, ms(pct(&all, 0.5)), ms(pct(&all, 0.99)),
           all.n ? ms(all.v[all.n - 1]) : 0.0, failed, refused + failed, restarts, bl.seconds,
           bl.clients);
    printf("tries=%ld retried=%ld failovers=%ld try_failures=%ld released=%ld "
           "release_failures=%ld\n",
           tries, retried, failovers, try_failures, released, release_failures);
    for (int s = 0; s < bl.nservers; s++) {
        struct bl_vec one = {0};
        bl_gather(w, s, 0, 0, &one);
        printf("%sserver%d_requests=%ld server%d_p50_ms=%.3f server%d_p99_ms=%.3f", s ? " " : "",
               bl.servers[s], per_server[s], bl.servers[s], ms(pct(&one, 0.5)), bl.servers[s],
               ms(pct(&one, 0.99)));
        free(one.v);
    }
    printf("\n");
    if (bl.window_from_ms >= 0) {
        int64_t from = bl_start_ns + bl.window_from_ms * 1000000,
                to = bl_start_ns + bl.window_to_ms * 1000000;
        struct bl_vec win = {0};
        bl_gather(w, -1, from, to, &win);
        printf("window_from_ms=%ld window_to_ms=%ld window_requests=%zu window_failed=%ld "
               "window_p50_ms=%.3f window_p99_ms=%.3f window_max_ms=%.3f\n",
               bl.window_from_ms, bl.window_to_ms, win.n, bl_failed_between(w, from, to),
               ms(pct(&win, 0.5)), ms(pct(&win, 0.99)), win.n ? ms(win.v[win.n - 1]) : 0.0);
        free(win.v);
    }
    for (int s = 1; s < BL_NSTATUS; s++)
        printf("%s=%ld ", bl_status_key[s], by_status[s]);
    printf("restart_failures=%ld new_sessions=%ld reconnects=%ld\n", restart_failures,
           restarts_new, reconnects);
    if (!bl.no_lag)
        bl_lag_report();
    if (bl.trace)
        bl_write_trace(w);
    if ((refused || failed) && last_error)
        fprintf(stderr, "bookload: last error: %s\n", last_error);
    free(all.v);
}

static int bl_run_load(void)
{
    char err[300];
    if (!bl.no_lag && bl_lag_start(err, sizeof err) < 0) {
        fprintf(stderr, "bookload: %s\n", err);
        return 1;
    }
    struct bl_worker *w = calloc((size_t)bl.clients, sizeof *w);
    if (!w)
        return 1;
    pthread_barrier_init(&bl_barrier, NULL, (unsigned)bl.clients + 1 + (bl.no_lag ? 0 : 1));
    for (long i = 0; i < bl.clients; i++) {
        /* Worker i starts on server i mod n and fails over to the next ones in turn. */
        w[i].index = (int)i + 1;
        w[i].instance = bl.servers[i % bl.nservers];
        w[i].rng = 2654435761u * (uint32_t)(i + 1);
        failover_list_init(&w[i].list);
        for (int k = 0; k < bl.nservers; k++) {
            char arg[FAILOVER_HOST_MAX + 16];
            snprintf(arg, sizeof arg, "%s:%d", bl.host,
                     bl.servers[((int)i + k) % bl.nservers]);
            if (failover_list_add(&w[i].list, arg, err, sizeof err) < 0) {
                fprintf(stderr, "bookload: %s\n", err);
                free(w);
                return 1;
            }
        }
        if (failover_list_finish(&w[i].list, 1, err, sizeof err) < 0) {
            fprintf(stderr, "bookload: %s\n", err);
            free(w);
            return 1;
        }
    }
    for (long i = 0; i < bl.clients; i++)
        pthread_create(&w[i].thread, NULL, bl_load_thread, &w[i]);
    if (!bl.no_lag)
        pthread_create(&lag.thread, NULL, bl_lag_thread, NULL);
    atomic_store(&bl_end_ns, INT64_MAX);
    pthread_barrier_wait(&bl_barrier);
    bl_start_ns = bl_now();
    atomic_store(&bl_end_ns, bl_start_ns + bl.seconds * 1000000000LL);
    bl_sleep_ns(atomic_load(&bl_end_ns) - bl_now());
    atomic_store(&bl_stop, true);
    pthread_mutex_lock(&bl_restart_lock);
    pthread_cond_broadcast(&bl_restart_cond);
    pthread_mutex_unlock(&bl_restart_lock);
    for (long i = 0; i < bl.clients; i++)
        pthread_join(w[i].thread, NULL);
    atomic_store(&bl_lag_drain, true);
    if (!bl.no_lag)
        pthread_join(lag.thread, NULL);

    bl_report(w);
    size_t handed = 0;
    for (long i = 0; i < bl.clients; i++) {
        handed += w[i].lat_ns.n;
        free(w[i].lat_ns.v);
        free(w[i].start_ns.v);
        free(w[i].server_of.v);
        free(w[i].failed_ns.v);
    }
    free(w);
    return handed == 0 ? 1 : 0;
}

/* ---- null RPC ---- */

static void *bl_null_thread(void *arg)
{
    struct bl_worker *w = arg;
    char err[300];
    CLIENT *c = bl_connect(w->instance, (int)bl.timeout_ms, err, sizeof err);
    if (!c)
        snprintf(w->last_error, sizeof w->last_error, "%s", err);
    pthread_barrier_wait(&bl_barrier);
    struct timeval tv = {bl.timeout_ms / 1000, (bl.timeout_ms % 1000) * 1000};
    while (c && !atomic_load(&bl_stop)) {
        int64_t t0 = bl_now();
        enum clnt_stat st = clnt_call(c, NULLPROC, (xdrproc_t)rpcserver_xdr_void, NULL,
                                      (xdrproc_t)rpcserver_xdr_void, NULL, tv);
        int64_t t1 = bl_now();
        if (t1 > atomic_load(&bl_end_ns))
            break;
        if (st != RPC_SUCCESS) {
            w->try_failures++;
            rpcclient_error(c, st, "NULLPROC", w->last_error, sizeof w->last_error);
            clnt_destroy(c);
            c = bl_connect(w->instance, (int)bl.timeout_ms, err, sizeof err);
            continue;
        }
        bl_push(&w->lat_ns, t1 - t0);
    }
    if (c)
        clnt_destroy(c);
    return NULL;
}

static int bl_run_null(void)
{
    struct bl_worker *w = calloc((size_t)bl.clients, sizeof *w);
    if (!w)
        return 1;
    pthread_barrier_init(&bl_barrier, NULL, (unsigned)bl.clients + 1);
    atomic_store(&bl_end_ns, INT64_MAX);
    for (long i = 0; i < bl.clients; i++) {
        w[i].index = (int)i + 1;
        w[i].instance = bl.servers[i % bl.nservers];
        pthread_create(&w[i].thread, NULL, bl_null_thread, &w[i]);
    }
    pthread_barrier_wait(&bl_barrier);
    bl_start_ns = bl_now();
    atomic_store(&bl_end_ns, bl_start_ns + bl.null_seconds * 1000000000LL);
    bl_sleep_ns(atomic_load(&bl_end_ns) - bl_now());
    atomic_store(&bl_stop, true);
    struct bl_vec all = {0};
    long failures = 0;
    const char *last_error = NULL;
    for (long i = 0; i < bl.clients; i++) {
        pthread_join(w[i].thread, NULL);
        for (size_t k = 0; k < w[i].lat_ns.n; k++)
            bl_push(&all, w[i].lat_ns.v[k]);
        failures += w[i].try_failures;
        if (w[i].last_error[0])
            last_error = w[i].last_error;
    }
    qsort(all.v, all.n, sizeof *all.v, cmp64);
    printf("null_calls=%zu null_rate_per_s=%.1f null_p50_ms=%.4f null_p99_ms=%.4f "
           "null_clients=%ld null_failures=%ld\n",
           all.n, (double)all.n / (double)bl.null_seconds, ms(pct(&all, 0.5)),
           ms(pct(&all, 0.99)), bl.clients, failures);
    if (last_error)
        fprintf(stderr, "bookload: %s\n", last_error);
    int rc = all.n == 0 ? 1 : 0;
    for (long i = 0; i < bl.clients; i++)
        free(w[i].lat_ns.v);
    free(w);
    free(all.v);
    return rc;
}

static int parse_servers(const char *s)
{
    bl.nservers = 0;
    char *copy = strdup(s), *save = NULL;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        char *end;
        long n = strtol(t, &end, 10);
        if (*end || n < 1 || n > 255 || bl.nservers == BL_MAX_SERVERS) {
            free(copy);
            return -1;
        }
        bl.servers[bl.nservers++] = (int)n;
    }
    free(copy);
    return bl.nservers > 0 ? 0 : -1;
}

static bool parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || end == s || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

int main(int argc, char **argv)
{
    bl = (struct bl_args){.host = "localhost", .servers = {1, 2}, .nservers = 2, .clients = 32,
                          .seconds = 0, .catalogue = -1, .timeout_ms = 2500,
                          .deadline_ms = 10000, .window_from_ms = -1, .window_to_ms = -1,
                          .lag_interval_ms = 0.5};
    static const struct option opts[] = {
        {"servers", 1, NULL, 's'}, {"clients", 1, NULL, 'c'}, {"seconds", 1, NULL, 'S'},
        {"catalogue-size", 1, NULL, 'n'}, {"host", 1, NULL, 'H'}, {"null-rpc", 1, NULL, 'N'},
        {"timeout-ms", 1, NULL, 't'}, {"lag-interval-ms", 1, NULL, 'i'},
        {"no-lag", 0, NULL, 'L'}, {"trace", 1, NULL, 'T'}, {"help", 0, NULL, 'h'},
        {"deadline-ms", 1, NULL, 'D'}, {"window", 1, NULL, 'W'},
        {NULL, 0, NULL, 0}};
    int opt;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        bool ok = true;
        switch (opt) {
        case 's': ok = parse_servers(optarg) == 0; break;
        case 'c':
            ok = parse_long(optarg, 1, BL_MAX_CLIENTS, &bl.clients);
            bl.clients_given = true;
            break;
        case 'S': ok = parse_long(optarg, 1, 86400, &bl.seconds); break;
        case 'n': ok = parse_long(optarg, 1, 1000000, &bl.catalogue); break;
        case 'H': bl.host = optarg; break;
        case 'N': ok = parse_long(optarg, 1, 86400, &bl.null_seconds); break;
        case 't': ok = parse_long(optarg, 1, 600000, &bl.timeout_ms); break;
        case 'i': {
            char *end;
            bl.lag_interval_ms = strtod(optarg, &end);
            ok = !*end && bl.lag_interval_ms >= 0 && bl.lag_interval_ms <= 1000;
            break;
        }
        case 'L': bl.no_lag = true; break;
        case 'D': ok = parse_long(optarg, 1, 600000, &bl.deadline_ms); break;
        case 'W': {
            char *end;
            errno = 0;
            bl.window_from_ms = strtol(optarg, &end, 10);
            ok = !errno && end != optarg && *end == ':' && bl.window_from_ms >= 0;
            if (ok) {
                char *colon = end;
                bl.window_to_ms = strtol(colon + 1, &end, 10);
                ok = !errno && end != colon + 1 && !*end && bl.window_to_ms > bl.window_from_ms;
            }
            break;
        }
        case 'T': bl.trace = optarg; break;
        default: return usage();
        }
        if (!ok)
            return usage();
    }
    if (optind != argc)
        return usage();
    if (bl.null_seconds) {
        if (!bl.clients_given)
            bl.clients = 1;
        return bl_run_null();
    }
    if (bl.seconds < 1 || bl.catalogue < 1)
        return usage();
    return bl_run_load();
}
