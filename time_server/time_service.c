#include "time_service.h"

#include "clockrpc.h"
#include "log.h"
#include "rpcserver.h"

#include <stdio.h>
#include <string.h>

static struct time_service_config ts_cfg;

static bool time_service_chars_ok(const char *s, const char *extra)
{
    for (; *s; s++) {
        char ch = *s;
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || strchr(extra, ch) != NULL;
        if (!ok)
            return false;
    }
    return true;
}

const char *time_service_check_join(const char *name, const char *host, unsigned long prog,
                                    unsigned long vers, char *why, size_t len)
{
    size_t nlen = name ? strlen(name) : 0;
    if (nlen == 0)
        snprintf(why, len, "empty node name");
    else if (nlen >= TIME_NAME_MAX)
        snprintf(why, len, "node name too long: %zu bytes, at most %d", nlen, TIME_NAME_MAX - 1);
    else if (!time_service_chars_ok(name, "._-"))
        snprintf(why, len, "node name may hold only letters, digits, '.', '_' and '-'");
    else if (host && !time_service_chars_ok(host, ".:-_"))
        snprintf(why, len, "host must be a host name or a numeric address");
    else if (prog < 0x20000000UL || prog > 0x5fffffffUL)
        snprintf(why, len, "program %lu outside the user and transient ranges", prog);
    else if (vers != CLOCK_V1)
        snprintf(why, len, "CLOCK version %lu not supported (only %d)", vers, CLOCK_V1);
    else
        return NULL;
    return why;
}

static void time_service_join(struct svc_req *rq, join_args *a, join_reply *rep,
                              char *msg, size_t msglen)
{
    struct sockaddr_storage ss;
    char who[64], why[160];
    rep->node_id = -1;
    rep->tm_ms = (u_int)ts_cfg.tm_ms;
    if (rpcserver_caller(rq, &ss, who, sizeof who) < 0 ||
        !allow_match(&ts_cfg.allow, (struct sockaddr *)&ss)) {
        rep->status = TIME_ERR_DENIED;
        snprintf(msg, msglen, "JOIN refused: caller %s is not in --allow", who);
    } else if (!rpcserver_authentic(rq, (xdrproc_t)xdr_join_args, a, &a->auth, "JOIN", msg, msglen)) {
        rep->status = TIME_ERR_AUTH;
    } else if (time_service_check_join(a->name, a->host, a->prognum, a->versnum, why,
                                       sizeof why)) {
        rep->status = TIME_ERR_BADARG;
        snprintf(msg, msglen, "JOIN refused: %s", why);
    } else {
        const char *host = a->host && a->host[0] ? a->host : who;
        int id = nodes_join(ts_cfg.nodes, a->name, host, who, a->prognum, a->versnum);
        if (id < 0) {
            rep->status = TIME_ERR_INTERNAL;
            snprintf(msg, msglen, "JOIN refused: node table full (%d nodes)", NODES_MAX);
        } else {
            rep->status = TIME_OK;
            rep->node_id = id + 1;
            snprintf(msg, msglen, "joined %s at %s program %u", a->name, host, a->prognum);
        }
    }
    if (rep->status != TIME_ERR_AUTH) /* logged, with a limit, by rpcserver_authentic */
        log_msg(rep->status == TIME_OK ? LOG_LEVEL_INFO : LOG_LEVEL_WARN, "join", "from %s: %s",
                who, msg);
    rep->message = msg;
    /* Read last: the joining node sets its clock from this reading with Cristian. */
    clockrpc_reading(ts_cfg.clock, &rep->reference);
}

static void time_service_dispatch(struct svc_req *rq, SVCXPRT *x)
{
    switch (rq->rq_proc) {
    case NULLPROC:
        svc_sendreply(x, (xdrproc_t)rpcserver_xdr_void, NULL);
        return;
    case TIME_GETHOUR: {
        clock_reading r;
        clockrpc_reading(ts_cfg.clock, &r);
        svc_sendreply(x, (xdrproc_t)xdr_clock_reading, (char *)&r);
        return;
    }
    case TIME_JOIN: {
        join_args a;
        if (!rpcserver_decode(x, (xdrproc_t)xdr_join_args, &a, sizeof a, "join"))
            return;
        join_reply rep;
        char msg[TIME_MESSAGE_MAX];
        memset(&rep, 0, sizeof rep);
        time_service_join(rq, &a, &rep, msg, sizeof msg);
        svc_sendreply(x, (xdrproc_t)xdr_join_reply, (char *)&rep);
        svc_freeargs(x, (xdrproc_t)xdr_join_args, (char *)&a);
        return;
    }
    default:
        svcerr_noproc(x);
    }
}

int time_service_start(const struct time_service_config *cfg, char *err, size_t errlen)
{
    ts_cfg = *cfg;
    return rpcserver_register(TIME_PROG, TIME_V1, RPCSERVER_TCP | RPCSERVER_UDP,
                              time_service_dispatch, err, errlen);
}
