#include "book_service.h"

#include "book_rpc.h"
#include "clockrpc.h"
#include "handout.h"
#include "log.h"
#include "replop.h"
#include "rpcdefer.h"
#include "rpcserver.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BOOK_SERVICE_MAX_WORKERS 64

enum booksvc_kind { BOOKSVC_REQUEST, BOOKSVC_RESTART, BOOKSVC_RELEASE };

static const char *const booksvc_proc[] = {"REQUEST_BOOK", "RESTART_SESSION", "RELEASE_BOOK"};

struct booksvc_job {
    enum booksvc_kind kind;
    struct rpcdefer *call;
    char user[BOOK_NAME_MAX];
    char address[64];
    int64_t client_time_us;
    int64_t session;            /* RESTART: the one seen to end; RELEASE: the request's */
    unsigned char key[BOOK_KEY_LEN];
    int attempt;
    int64_t deadline_ns;
    struct handout_result request;
    struct handout_restart restart;
    struct handout_release release;
    struct booksvc_job *next;
};

static struct book_service_config booksvc_cfg;
static pthread_mutex_t booksvc_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t booksvc_cond = PTHREAD_COND_INITIALIZER;
static struct booksvc_job *booksvc_head, *booksvc_tail;
static size_t booksvc_queued;
static bool booksvc_stopping;
static pthread_t booksvc_threads[BOOK_SERVICE_MAX_WORKERS];
static int booksvc_nthreads;

/* On the loop thread: the worker's reply goes out on the held call. */
static void booksvc_send(void *arg)
{
    struct booksvc_job *j = arg;
    if (j->kind == BOOKSVC_REQUEST)
        rpcdefer_reply(j->call, (xdrproc_t)xdr_book_reply, &j->request.reply);
    else if (j->kind == BOOKSVC_RESTART)
        rpcdefer_reply(j->call, (xdrproc_t)xdr_session_reply, &j->restart.reply);
    else
        rpcdefer_reply(j->call, (xdrproc_t)xdr_release_reply, &j->release.reply);
    free(j);
}

static void booksvc_drop(void *arg)
{
    struct booksvc_job *j = arg;
    rpcdefer_drop(j->call);
    free(j);
}

static void *booksvc_worker(void *arg)
{
    (void)arg;
    struct handout_ctx h = {.replica = booksvc_cfg.replica, .clock = booksvc_cfg.clock,
                            .instance = booksvc_cfg.instance};
    replclient_init(&h.repl, booksvc_cfg.repl_host, booksvc_cfg.rpc_timeout_ms);
    snprintf(h.db.conninfo, sizeof h.db.conninfo, "%s", booksvc_cfg.db_conninfo);
    /* Connect now rather than on the first request: a backend takes a few ms to start. */
    char why[300];
    if (!bookdb_ready(&h.db, why, sizeof why))
        log_warn("book", "worker: %s; trying again at its first request", why);
    for (;;) {
        pthread_mutex_lock(&booksvc_lock);
        while (!booksvc_head && !booksvc_stopping)
            pthread_cond_wait(&booksvc_cond, &booksvc_lock);
        struct booksvc_job *j = booksvc_head;
        if (j) {
            booksvc_head = j->next;
            if (!booksvc_head)
                booksvc_tail = NULL;
            booksvc_queued--;
        }
        pthread_mutex_unlock(&booksvc_lock);
        if (!j)
            break;
        if (j->kind != BOOKSVC_RELEASE && (rpcdefer_gone(j->call) || clock_mono_ns() > j->deadline_ns)) {
            /* Its caller gave up: claiming a book now would give it to nobody. (A
             * release goes through anyway: its caller wants the book freed.) */
            rpcdefer_post(booksvc_drop, j);
            continue;
        }
        if (j->kind == BOOKSVC_REQUEST) {
            struct handout_ask a = {.user = j->user, .address = j->address,
                                    .client_time_us = j->client_time_us, .attempt = j->attempt};
            memcpy(a.key, j->key, sizeof a.key);
            handout_request(&h, &a, j->deadline_ns, &j->request);
        } else if (j->kind == BOOKSVC_RESTART) {
            handout_restart(&h, j->user, j->session, j->deadline_ns, &j->restart);
        } else {
            handout_release(&h, j->user, j->key, j->session, j->deadline_ns, &j->release);
        }
        if (rpcdefer_post(booksvc_send, j) < 0)
            log_error("book", "out of memory posting a reply");
    }
    replclient_close(&h.repl);
    bookdb_close(&h.db);
    return NULL;
}

static bool booksvc_enqueue(struct booksvc_job *j)
{
    pthread_mutex_lock(&booksvc_lock);
    bool ok = booksvc_queued < BOOK_SERVICE_MAX_QUEUED && !booksvc_stopping;
    if (ok) {
        if (booksvc_tail)
            booksvc_tail->next = j;
        else
            booksvc_head = j;
        booksvc_tail = j;
        booksvc_queued++;
        pthread_cond_signal(&booksvc_cond);
    }
    pthread_mutex_unlock(&booksvc_lock);
    return ok;
}

static void booksvc_refuse(SVCXPRT *x, enum booksvc_kind kind, book_status st, const char *msg)
{
    log_warn("book", "%s refused: %s", booksvc_proc[kind], msg);
    if (kind == BOOKSVC_REQUEST) {
        book_reply rep = {.status = st};
        rep.book_reply_u.message = (char *)msg;
        svc_sendreply(x, (xdrproc_t)xdr_book_reply, (char *)&rep);
    } else if (kind == BOOKSVC_RESTART) {
        session_reply rep = {st, (char *)msg, 0, 0};
        svc_sendreply(x, (xdrproc_t)xdr_session_reply, (char *)&rep);
    } else {
        release_reply rep = {st, RELEASE_NOTHING, (char *)msg};
        svc_sendreply(x, (xdrproc_t)xdr_release_reply, (char *)&rep);
    }
}

/* The key as the client sent it: 16 bytes, or a clear refusal. */
static bool booksvc_key(struct booksvc_job *j, const book_key *k, char *msg, size_t len)
{
    if (k->book_key_len != BOOK_KEY_LEN) {
        snprintf(msg, len, "a request key is %d bytes, not %u", BOOK_KEY_LEN, k->book_key_len);
        return false;
    }
    memcpy(j->key, k->book_key_val, BOOK_KEY_LEN);
    return true;
}

/* Checks the caller's name and queues the job; answers at once if it cannot. */
static void booksvc_submit(struct svc_req *rq, SVCXPRT *x, struct booksvc_job *j, const char *user,
                           const book_key *key)
{
    struct sockaddr_storage ss;
    char msg[BOOK_MESSAGE_MAX];
    bool have_caller = rpcserver_caller(rq, &ss, j->address, sizeof j->address) == 0;
    if (have_caller && booksvc_cfg.clients.n > 0 &&
        !allow_match(&booksvc_cfg.clients, (struct sockaddr *)&ss)) {
        snprintf(msg, sizeof msg, "%s refused: caller %s is not in --clients", booksvc_proc[j->kind],
                 j->address);
        booksvc_refuse(x, j->kind, BOOK_ERR_DENIED, msg);
    } else if (key && !booksvc_key(j, key, msg, sizeof msg)) {
        booksvc_refuse(x, j->kind, BOOK_ERR_BADARG, msg);
    } else if (j->kind == BOOKSVC_REQUEST && (j->attempt < 1 || j->attempt > 1000000)) {
        booksvc_refuse(x, j->kind, BOOK_ERR_BADARG, "attempt must be 1 (the first try) or more");
    } else if (!replop_name_valid(user)) {
        snprintf(msg, sizeof msg, "user name must be 1 to %d bytes of UTF-8 text", BOOK_NAME_MAX - 1);
        booksvc_refuse(x, j->kind, BOOK_ERR_BADARG, msg);
    } else if (j->kind == BOOKSVC_REQUEST && j->client_time_us != -1 &&
               (j->client_time_us < 0 || j->client_time_us >= CLOCK_DAY_US)) {
        booksvc_refuse(x, j->kind, BOOK_ERR_BADARG, "client time must be -1 or within a day");
    } else if (j->session < 0) {
        booksvc_refuse(x, j->kind, BOOK_ERR_BADARG, "session numbers are not negative");
    } else if (!have_caller) {
        booksvc_refuse(x, j->kind, BOOK_ERR_INTERNAL, "caller address unknown");
    } else if (!(j->call = rpcdefer_hold(x))) {
        booksvc_refuse(x, j->kind, BOOK_ERR_INTERNAL, "this transport cannot wait for the log");
    } else {
        snprintf(j->user, sizeof j->user, "%s", user);
        if (booksvc_enqueue(j))
            return;
        rpcdefer_drop(j->call);
        booksvc_refuse(x, j->kind, BOOK_ERR_BUSY, "too many requests waiting, try again");
    }
    free(j);
}

static struct booksvc_job *booksvc_job(SVCXPRT *x, enum booksvc_kind kind)
{
    struct booksvc_job *j = calloc(1, sizeof *j);
    if (j) {
        j->kind = kind;
        j->deadline_ns = clock_mono_ns() + (int64_t)HANDOUT_DEADLINE_MS * 1000000;
    }
    else
        booksvc_refuse(x, kind, BOOK_ERR_INTERNAL, "out of memory");
    return j;
}

static void booksvc_status(SVCXPRT *x)
{
    struct replica_status s;
    replica_status(booksvc_cfg.replica, &s);
    struct clock_state c;
    clock_snapshot(booksvc_cfg.clock, &c);
    status_reply rep = {s.session, s.books_total, s.books_left, s.applied_seq, booksvc_cfg.instance,
                        s.db_ok, s.repl_ok, c.time_us, c.running, c.synchronised};

    svc_sendreply(x, (xdrproc_t)xdr_status_reply, (char *)&rep);
}

static void booksvc_dispatch(struct svc_req *rq, SVCXPRT *x)
{
    switch (rq->rq_proc) {
    case NULLPROC:
        svc_sendreply(x, (xdrproc_t)rpcserver_xdr_void, NULL);
        return;
    case STATUS:
        booksvc_status(x);
        return;
    case REQUEST_BOOK: {
        book_request a;
        if (!rpcserver_decode(x, (xdrproc_t)xdr_book_request, &a, sizeof a, "REQUEST_BOOK"))
            return;
        struct booksvc_job *j = booksvc_job(x, BOOKSVC_REQUEST);
        if (j) {
            j->client_time_us = a.client_time_us;
            j->attempt = a.attempt;
            booksvc_submit(rq, x, j, a.user, &a.key);
        }
        svc_freeargs(x, (xdrproc_t)xdr_book_request, (char *)&a);
        return;
    }
    case RELEASE_BOOK: {
        release_args a;
        if (!rpcserver_decode(x, (xdrproc_t)xdr_release_args, &a, sizeof a, "RELEASE_BOOK"))
            return;
        struct booksvc_job *j = booksvc_job(x, BOOKSVC_RELEASE);
        if (j) {
            j->session = a.session;
            booksvc_submit(rq, x, j, a.user, &a.key);
        }
        svc_freeargs(x, (xdrproc_t)xdr_release_args, (char *)&a);
        return;
    }
    case RESTART_SESSION: {
        restart_args a;
        if (!rpcserver_decode(x, (xdrproc_t)xdr_restart_args, &a, sizeof a, "RESTART_SESSION"))
            return;
        struct booksvc_job *j = booksvc_job(x, BOOKSVC_RESTART);
        if (j) {
            j->session = a.seen_session;
            booksvc_submit(rq, x, j, a.user, NULL);
        }
        svc_freeargs(x, (xdrproc_t)xdr_restart_args, (char *)&a);
        return;
    }
    default:
        svcerr_noproc(x);
    }
}

int book_service_start(const struct book_service_config *cfg, char *err, size_t errlen)
{
    booksvc_cfg = *cfg;
    int n = cfg->workers < 1 ? 1 : cfg->workers > BOOK_SERVICE_MAX_WORKERS ? BOOK_SERVICE_MAX_WORKERS : cfg->workers;
    for (booksvc_nthreads = 0; booksvc_nthreads < n; booksvc_nthreads++) {
        int rc = pthread_create(&booksvc_threads[booksvc_nthreads], NULL, booksvc_worker, NULL);
        if (rc != 0) {
            snprintf(err, errlen, "starting worker %d: %s", booksvc_nthreads, strerror(rc));
            book_service_stop();
            return -1;
        }
    }
    if (rpcserver_register(BOOK_PROG + (unsigned long)cfg->instance, BOOK_V2, RPCSERVER_TCP,
                           booksvc_dispatch, err, errlen) < 0) {
        book_service_stop();
        return -1;
    }
    return 0;
}

void book_service_stop(void)
{
    pthread_mutex_lock(&booksvc_lock);
    booksvc_stopping = true;
    struct booksvc_job *j = booksvc_head;
    booksvc_head = booksvc_tail = NULL;
    booksvc_queued = 0;
    pthread_cond_broadcast(&booksvc_cond);
    pthread_mutex_unlock(&booksvc_lock);
    while (j) {
        struct booksvc_job *next = j->next;
        rpcdefer_drop(j->call);
        free(j);
        j = next;
    }
    for (int i = 0; i < booksvc_nthreads; i++)
        pthread_join(booksvc_threads[i], NULL);
    booksvc_nthreads = 0;
}
