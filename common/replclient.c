#include "replclient.h"

#include "callauth.h"
#include "rpcclient.h"

#include <stdio.h>
#include <string.h>

void replclient_init(struct replclient *rc, const char *host, int timeout_ms)
{
    memset(rc, 0, sizeof *rc);
    snprintf(rc->host, sizeof rc->host, "%s", host);
    callauth_sender_init(&rc->sender);
    rc->timeout_ms = timeout_ms;
}

void replclient_close(struct replclient *rc)
{
    if (rc->clnt)
        clnt_destroy(rc->clnt);
    rc->clnt = NULL;
}

static CLIENT *replclient_handle(struct replclient *rc, char *why, size_t len)
{
    if (rc->clnt && rpcclient_closed_by_peer(rc->clnt))
        replclient_close(rc);
    if (!rc->clnt)
        rc->clnt = rpcclient_create(rc->host, REPL_PROG, REPL_V2, "tcp", rc->timeout_ms, why, len);
    return rc->clnt;
}

int replclient_append_many(struct replclient *rc, int origin, repl_op *ops, unsigned n,
                           int64_t *seq, char *why, size_t len)
{
    CLIENT *c = replclient_handle(rc, why, len);
    if (!c)
        return -1;
    setquery_args a = {.origin = origin, .ops = {n, ops}};
    if (callauth_sign(&rc->sender, REPL_PROG, REPL_V2, SETQUERY, (xdrproc_t)xdr_setquery_args, &a,
                      &a.auth) < 0) {
        snprintf(why, len, "SETQUERY: the operations could not be signed");
        return -2;
    }
    setquery_reply rep;
    memset(&rep, 0, sizeof rep);
    enum clnt_stat st = setquery_2(&a, &rep, c);
    int rc_ = 0;
    if (st != RPC_SUCCESS) {
        rpcclient_error(c, st, "SETQUERY", why, len);
        /* The reply may still come on this connection: never reuse it. */
        replclient_close(rc);
        rc_ = -1;
    } else if (rep.status != REPL_OK) {
        snprintf(why, len, "%s", rep.message ? rep.message : "refused");
        rc_ = rep.status == REPL_ERR_STORAGE ? -1 : -2;
    } else {
        *seq = rep.seq;
    }
    xdr_free((xdrproc_t)xdr_setquery_reply, (char *)&rep);
    return rc_;
}

int replclient_append(struct replclient *rc, int origin, const repl_op *op, int64_t *seq,
                      char *why, size_t len)
{
    repl_op one = *op;
    return replclient_append_many(rc, origin, &one, 1, seq, why, len);
}

int replclient_fetch(struct replclient *rc, int64_t after, int max, int wait_ms,
                     getquery_reply *rep, char *why, size_t len)
{
    CLIENT *c = replclient_handle(rc, why, len);
    if (!c)
        return -1;
    /* The call may take the whole wait: give it that on top of the usual timeout. */
    int total_ms = wait_ms + rc->timeout_ms;
    struct timeval tv = {total_ms / 1000, (total_ms % 1000) * 1000};
    clnt_control(c, CLSET_TIMEOUT, (char *)&tv);
    getquery_args a = {.after_seq = after, .max = max, .wait_ms = wait_ms};
    if (callauth_sign(&rc->sender, REPL_PROG, REPL_V2, GETQUERY, (xdrproc_t)xdr_getquery_args, &a,
                      &a.auth) < 0) {
        snprintf(why, len, "GETQUERY: the call could not be signed");
        return -1;
    }
    memset(rep, 0, sizeof *rep);
    enum clnt_stat st = getquery_2(&a, rep, c);
    if (st != RPC_SUCCESS) {
        rpcclient_error(c, st, "GETQUERY", why, len);
        replclient_close(rc);
        xdr_free((xdrproc_t)xdr_getquery_reply, (char *)rep);
        return -1;
    }
    if (rep->status != REPL_OK) {
        snprintf(why, len, "%s", rep->message ? rep->message : "refused");
        xdr_free((xdrproc_t)xdr_getquery_reply, (char *)rep);
        return -1;
    }
    return 0;
}

int replclient_last_seq(struct replclient *rc, int64_t *last, char *why, size_t len)
{
    getquery_reply rep;
    /* Nothing lies after INT64_MAX: the reply comes at once with last_seq only. */
    if (replclient_fetch(rc, INT64_MAX, 1, 0, &rep, why, len) < 0)
        return -1;
    *last = rep.last_seq;
    replclient_free(&rep);
    return 0;
}

void replclient_free(getquery_reply *rep)
{
    xdr_free((xdrproc_t)xdr_getquery_reply, (char *)rep);
}
