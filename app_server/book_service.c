#include "book_service.h"

#include "book_rpc.h"
#include "clockrpc.h"
#include "handout.h"
#include "log.h"
#include "replop.h"
#include "rpcdefer.h"
#include "rpcserver.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BOOKSVC_SWEEP_MS 50

static const char *const booksvc_proc[] = {"REQUEST_BOOK", "RESTART_SESSION", "RELEASE_BOOK"};
static const enum handout_kind booksvc_handout_kind[] = {HANDOUT_REQUEST, HANDOUT_RESTART,
                                                         HANDOUT_RELEASE};

static struct book_service_config booksvc_cfg;
static struct handout booksvc_handout;
static int64_t booksvc_swept_ns;

static void booksvc_refuse(SVCXPRT *x, enum book_service_proc kind, book_status st,
                           const char *msg)
{
    log_warn("book", "%s refused: %s", booksvc_proc[kind], msg);
    if (kind == BOOK_SERVICE_REQUEST) {
        book_reply rep = {.status = st};
        rep.book_reply_u.message = (char *)msg;
        svc_sendreply(x, (xdrproc_t)xdr_book_reply, (char *)&rep);
    } else if (kind == BOOK_SERVICE_RESTART) {
        session_reply rep = {st, (char *)msg, 0, 0};
        svc_sendreply(x, (xdrproc_t)xdr_session_reply, (char *)&rep);
    } else {
        release_reply rep = {st, RELEASE_NOTHING, (char *)msg};
        svc_sendreply(x, (xdrproc_t)xdr_release_reply, (char *)&rep);
    }
}

book_status book_service_check_args(enum book_service_proc proc, const char *user,
                                    const book_key *key, int attempt, int64_t client_time_us,
                                    int64_t session, unsigned char key_out[BOOK_KEY_LEN],
                                    char *msg, size_t len)
{
    if (key && key->book_key_len != BOOK_KEY_LEN)
        snprintf(msg, len, "a request key is %d bytes, not %u", BOOK_KEY_LEN, key->book_key_len);
    else if (proc == BOOK_SERVICE_REQUEST && (attempt < 1 || attempt > 1000000))
        snprintf(msg, len, "attempt must be 1 (the first try) or more");
    else if (!replop_name_valid(user))
        snprintf(msg, len, "user name must be 1 to %d bytes of UTF-8 text", BOOK_NAME_MAX - 1);
    else if (proc == BOOK_SERVICE_REQUEST && client_time_us != -1 &&
             (client_time_us < 0 || client_time_us >= CLOCK_DAY_US))
        snprintf(msg, len, "client time must be -1 or within a day");
    else if (session < 0)
        snprintf(msg, len, "session numbers are not negative");
    else {
        if (key)
            memcpy(key_out, key->book_key_val, BOOK_KEY_LEN);
        return BOOK_OK;
    }
    return BOOK_ERR_BADARG;
}

/* Checks the caller and the arguments and hands the call to handout; answers at once
 * if it cannot. */
static void booksvc_submit(struct svc_req *rq, SVCXPRT *x, enum book_service_proc kind,
                           struct handout_call *j, const char *user, const book_key *key)
{
    struct sockaddr_storage ss;
    char msg[BOOK_MESSAGE_MAX];
    bool have_caller = rpcserver_caller(rq, &ss, j->address, sizeof j->address) == 0;
    if (have_caller && booksvc_cfg.clients.n > 0 &&
        !allow_match(&booksvc_cfg.clients, (struct sockaddr *)&ss)) {
        snprintf(msg, sizeof msg, "%s refused: caller %s is not in --clients", booksvc_proc[kind],
                 j->address);
        booksvc_refuse(x, kind, BOOK_ERR_DENIED, msg);
    } else if (book_service_check_args(kind, user, key, j->attempt, j->client_time_us,
                                       j->session, j->key, msg, sizeof msg) != BOOK_OK) {
        booksvc_refuse(x, kind, BOOK_ERR_BADARG, msg);
    } else if (!have_caller) {
        booksvc_refuse(x, kind, BOOK_ERR_INTERNAL, "caller address unknown");
    } else if (kind == BOOK_SERVICE_REQUEST && rpcserver_caller_hung_up(x)) {
        /* Read late (this server was frozen): its caller gave up and tries elsewhere, so
         * a claim now would take a book for nobody. No answer: nobody would read it.
         * (A release still goes through: its caller wants the book freed.) */
        log_info("book", "REQUEST_BOOK from %s dropped: the caller hung up before it was read",
                 j->address);
    } else if (!(j->call = rpcdefer_hold(x))) {
        booksvc_refuse(x, kind, BOOK_ERR_INTERNAL, "this transport cannot wait for the log");
    } else {
        snprintf(j->user, sizeof j->user, "%s", user);
        if (handout_start(j))
            return;
        rpcdefer_drop(j->call);
        booksvc_refuse(x, kind, BOOK_ERR_BUSY, "too many requests waiting, try again");
    }
    free(j);
}

static struct handout_call *booksvc_call(SVCXPRT *x, enum book_service_proc kind)
{
    struct handout_call *j = calloc(1, sizeof *j);
    if (j) {
        j->h = &booksvc_handout;
        j->kind = booksvc_handout_kind[kind];
    } else {
        booksvc_refuse(x, kind, BOOK_ERR_INTERNAL, "out of memory");
    }
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
        struct handout_call *j = booksvc_call(x, BOOK_SERVICE_REQUEST);
        if (j) {
            j->client_time_us = a.client_time_us;
            j->attempt = a.attempt;
            booksvc_submit(rq, x, BOOK_SERVICE_REQUEST, j, a.user, &a.key);
        }
        svc_freeargs(x, (xdrproc_t)xdr_book_request, (char *)&a);
        return;
    }
    case RELEASE_BOOK: {
        release_args a;
        if (!rpcserver_decode(x, (xdrproc_t)xdr_release_args, &a, sizeof a, "RELEASE_BOOK"))
            return;
        struct handout_call *j = booksvc_call(x, BOOK_SERVICE_RELEASE);
        if (j) {
            j->session = a.session;
            booksvc_submit(rq, x, BOOK_SERVICE_RELEASE, j, a.user, &a.key);
        }
        svc_freeargs(x, (xdrproc_t)xdr_release_args, (char *)&a);
        return;
    }
    case RESTART_SESSION: {
        restart_args a;
        if (!rpcserver_decode(x, (xdrproc_t)xdr_restart_args, &a, sizeof a, "RESTART_SESSION"))
            return;
        struct handout_call *j = booksvc_call(x, BOOK_SERVICE_RESTART);
        if (j) {
            j->session = a.seen_session;
            booksvc_submit(rq, x, BOOK_SERVICE_RESTART, j, a.user, NULL);
        }
        svc_freeargs(x, (xdrproc_t)xdr_restart_args, (char *)&a);
        return;
    }
    default:
        svcerr_noproc(x);
    }
}

/* Every pass of the loop: the requests whose deadline passed get their answer. */
static void booksvc_tick(void *unused)
{
    (void)unused;
    int64_t now = clock_mono_ns();
    if (now - booksvc_swept_ns < (int64_t)BOOKSVC_SWEEP_MS * 1000000)
        return;
    booksvc_swept_ns = now;
    replica_sweep(booksvc_cfg.replica);
}

int book_service_start(const struct book_service_config *cfg, char *err, size_t errlen)
{
    booksvc_cfg = *cfg;
    handout_init(&booksvc_handout, cfg->replica, cfg->clock, cfg->instance);
    rpcserver_set_tick(BOOKSVC_SWEEP_MS, booksvc_tick, NULL);
    return rpcserver_register(BOOK_PROG + (unsigned long)cfg->instance, BOOK_V2, RPCSERVER_TCP,
                              booksvc_dispatch, err, errlen);
}
