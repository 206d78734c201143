#include "repl_service.h"

#include "clock.h"
#include "log.h"
#include "replop.h"
#include "rpcdefer.h"
#include "rpcserver.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REPL_TICK_MS 20

struct repl_pending_set {
    struct rpcdefer *call;
    int64_t seq;
};

struct repl_waiter {
    struct rpcdefer *call;
    int64_t after;
    int max;
    int64_t deadline_ns;
    struct repl_waiter *next;
};

static struct repl_service_config repl_cfg;
static struct repl_pending_set repl_sets[REPLOG_STAGE_MAX];
static size_t repl_nsets;
static struct repl_waiter *repl_waiters;

static bool repl_allowed(struct svc_req *rq, char *who, size_t len)
{
    struct sockaddr_storage ss;
    return rpcserver_caller(rq, &ss, who, len) == 0 &&
           allow_match(&repl_cfg.allow, (struct sockaddr *)&ss);
}

/* Sends entries after `after` (none if there are none yet) on call. */
static void repl_answer_get(struct rpcdefer *call, int64_t after, int max)
{
    static repl_entry entries[REPL_BATCH_MAX];
    char why[REPL_MESSAGE_MAX] = "";
    getquery_reply rep;
    memset(&rep, 0, sizeof rep);
    int n = replog_read(repl_cfg.log, after, max, entries, why, sizeof why);
    rep.status = n < 0 ? REPL_ERR_STORAGE : REPL_OK;
    rep.message = why;
    rep.last_seq = repl_cfg.log->last_seq;
    rep.entries.entries_len = n < 0 ? 0 : (u_int)n;
    rep.entries.entries_val = entries;
    if (n < 0)
        log_warn("getquery", "after %" PRId64 ": %s", after, why);
    rpcdefer_reply(call, (xdrproc_t)xdr_getquery_reply, &rep);
    for (int i = 0; i < n; i++)
        replop_free(&entries[i].op);
}

static void repl_answer_waiters(bool expired_only)
{
    int64_t now = clock_mono_ns();
    struct repl_waiter **p = &repl_waiters;
    while (*p) {
        struct repl_waiter *w = *p;
        bool due = !rpcdefer_alive(w->call) || now >= w->deadline_ns ||
                   (!expired_only && w->after < repl_cfg.log->last_seq);
        if (!due) {
            p = &w->next;
            continue;
        }
        *p = w->next;
        if (rpcdefer_alive(w->call))
            repl_answer_get(w->call, w->after, w->max);
        else
            rpcdefer_drop(w->call);
        free(w);
    }
}

static void repl_reply_set(struct rpcdefer *call, repl_status st, int64_t seq, const char *msg)
{
    setquery_reply rep = {st, seq, (char *)msg};
    rpcdefer_reply(call, (xdrproc_t)xdr_setquery_reply, &rep);
}

/* Posted once per loop pass that staged something: one commit for all of them. */
static void repl_flush(void *unused)
{
    (void)unused;
    char why[REPL_MESSAGE_MAX] = "";
    int rc = replog_flush(repl_cfg.log, why, sizeof why);
    if (rc < 0)
        log_error("setquery", "%zu entries not stored: %s", repl_nsets, why);
    /* The appliers first: a request is answered only once its claim is applied, so
     * the appliers' long polls are on every request's path, the SETQUERY replies less. */
    if (rc == 0)
        repl_answer_waiters(false);
    for (size_t i = 0; i < repl_nsets; i++)
        repl_reply_set(repl_sets[i].call, rc == 0 ? REPL_OK : REPL_ERR_STORAGE,
                       rc == 0 ? repl_sets[i].seq : 0, rc == 0 ? "stored" : why);
    repl_nsets = 0;
}

repl_status repl_service_check_setquery(const setquery_args *a, char *why, size_t len)
{
    if (a->origin < 1 || a->origin > 255) {
        snprintf(why, len, "SETQUERY refused: origin %d outside 1..255", a->origin);
        return REPL_ERR_BADARG;
    }
    u_int n = a->ops.ops_len;
    if (n == 0) {
        snprintf(why, len, "SETQUERY refused: no operation");
        return REPL_ERR_BADARG;
    }
    for (u_int i = 0; i < n; i++) {
        char one[REPL_MESSAGE_MAX];
        if (replop_check(&a->ops.ops_val[i], one, sizeof one)) {
            if (n == 1)
                snprintf(why, len, "%s", one);
            else
                snprintf(why, len, "operation %u of %u: %s", i + 1, n, one);
            return REPL_ERR_BADARG;
        }
    }
    return REPL_OK;
}

repl_status repl_service_check_getquery(const getquery_args *a, char *why, size_t len)
{
    if (a->after_seq < 0 || a->max < 1 || a->max > REPL_BATCH_MAX || a->wait_ms < 0 ||
        a->wait_ms > REPL_WAIT_MAX_MS) {
        snprintf(why, len, "GETQUERY refused: after >= 0, max 1..%d, wait_ms 0..%d",
                 REPL_BATCH_MAX, REPL_WAIT_MAX_MS);
        return REPL_ERR_BADARG;
    }
    return REPL_OK;
}

/* Checks every operation of a SETQUERY before staging any: all of them or none. */
static repl_status repl_check_ops(const setquery_args *a, char *why, size_t len)
{
    repl_status st = repl_service_check_setquery(a, why, len);
    if (st != REPL_OK)
        return st;
    if (repl_cfg.log->nstaged + a->ops.ops_len > REPLOG_STAGE_MAX) {
        snprintf(why, len, "too many entries waiting to be stored, try again");
        return REPL_ERR_STORAGE;
    }
    return REPL_OK;
}

static void repl_setquery(struct svc_req *rq, SVCXPRT *x, setquery_args *a)
{
    char who[64], why[REPL_MESSAGE_MAX];
    struct rpcdefer *call = rpcdefer_hold(x);
    if (!call) {
        svcerr_systemerr(x);
        return;
    }
    int64_t first = -1;
    repl_status st = REPL_OK;
    if (!repl_allowed(rq, who, sizeof who)) {
        st = REPL_ERR_DENIED;
        snprintf(why, sizeof why, "SETQUERY refused: caller %s is not in --allow", who);
    } else if (!rpcserver_authentic(rq, (xdrproc_t)xdr_setquery_args, a, &a->auth, "SETQUERY",
                                    why, sizeof why)) {
        st = REPL_ERR_AUTH;
    } else if ((st = repl_check_ops(a, why, sizeof why)) == REPL_OK) {
        size_t before = repl_cfg.log->nstaged;
        for (u_int i = 0; i < a->ops.ops_len && st == REPL_OK; i++) {
            int64_t seq = replog_stage(repl_cfg.log, a->origin, &a->ops.ops_val[i], why, sizeof why);
            if (seq < 0)
                st = REPL_ERR_STORAGE;
            else if (i == 0)
                first = seq;
        }
        if (st != REPL_OK)
            replog_unstage(repl_cfg.log, before);
    }
    if (st != REPL_OK) {
        if (st != REPL_ERR_AUTH) /* logged, with a limit, by rpcserver_authentic */
            log_warn("setquery", "from %s: %s", who, why);
        repl_reply_set(call, st, 0, why);
        return;
    }
    if (repl_nsets == 0)
        rpcdefer_post(repl_flush, NULL);
    repl_sets[repl_nsets].call = call;
    repl_sets[repl_nsets].seq = first;
    repl_nsets++;
}

static void repl_getquery(struct svc_req *rq, SVCXPRT *x, getquery_args *a)
{
    char who[64], why[REPL_MESSAGE_MAX] = "";
    struct rpcdefer *call = rpcdefer_hold(x);
    if (!call) {
        svcerr_systemerr(x);
        return;
    }
    repl_status st = REPL_OK;
    if (!repl_allowed(rq, who, sizeof who)) {
        st = REPL_ERR_DENIED;
        snprintf(why, sizeof why, "GETQUERY refused: caller %s is not in --allow", who);
    } else if (!rpcserver_authentic(rq, (xdrproc_t)xdr_getquery_args, a, &a->auth, "GETQUERY",
                                    why, sizeof why)) {
        st = REPL_ERR_AUTH;
    } else {
        st = repl_service_check_getquery(a, why, sizeof why);
    }
    if (st != REPL_OK) {
        if (st != REPL_ERR_AUTH)
            log_warn("getquery", "from %s: %s", who, why);
        getquery_reply rep = {st, why, repl_cfg.log->last_seq, {0, NULL}};
        rpcdefer_reply(call, (xdrproc_t)xdr_getquery_reply, &rep);
        return;
    }
    if (a->after_seq < repl_cfg.log->last_seq || a->wait_ms == 0) {
        repl_answer_get(call, a->after_seq, a->max);
        return;
    }
    struct repl_waiter *w = calloc(1, sizeof *w);
    if (!w) {
        repl_answer_get(call, a->after_seq, a->max);
        return;
    }
    w->call = call;
    w->after = a->after_seq;
    w->max = a->max;
    w->deadline_ns = clock_mono_ns() + (int64_t)a->wait_ms * 1000000;
    w->next = repl_waiters;
    repl_waiters = w;
}

static void repl_dispatch(struct svc_req *rq, SVCXPRT *x)
{
    switch (rq->rq_proc) {
    case NULLPROC:
        svc_sendreply(x, (xdrproc_t)rpcserver_xdr_void, NULL);
        return;
    case SETQUERY: {
        setquery_args a;
        if (!rpcserver_decode(x, (xdrproc_t)xdr_setquery_args, &a, sizeof a, "setquery"))
            return;
        repl_setquery(rq, x, &a);
        svc_freeargs(x, (xdrproc_t)xdr_setquery_args, (char *)&a);
        return;
    }
    case GETQUERY: {
        getquery_args a;
        if (!rpcserver_decode(x, (xdrproc_t)xdr_getquery_args, &a, sizeof a, "getquery"))
            return;
        repl_getquery(rq, x, &a);
        svc_freeargs(x, (xdrproc_t)xdr_getquery_args, (char *)&a);
        return;
    }
    default:
        svcerr_noproc(x);
    }
}

static void repl_tick(void *unused)
{
    (void)unused;
    repl_answer_waiters(true);
}

int repl_service_start(const struct repl_service_config *cfg, char *err, size_t errlen)
{
    repl_cfg = *cfg;
    rpcserver_set_tick(REPL_TICK_MS, repl_tick, NULL);
    return rpcserver_register(REPL_PROG, REPL_V2, RPCSERVER_TCP, repl_dispatch, err, errlen);
}

void repl_service_stop(void)
{
    if (repl_nsets > 0)
        repl_flush(NULL);
    while (repl_waiters) {
        struct repl_waiter *w = repl_waiters;
        repl_waiters = w->next;
        if (rpcdefer_alive(w->call))
            repl_answer_get(w->call, w->after, w->max);
        else
            rpcdefer_drop(w->call);
        free(w);
    }
}
