#include "clocksvc.h"

#include "clockrpc.h"
#include "log.h"
#include "rpcserver.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct clocksvc_config clocksvc_cfg;
static _Atomic int64_t clocksvc_last_ns;

int64_t clocksvc_last_contact_ns(void)
{
    return atomic_load(&clocksvc_last_ns);
}

/* Is the caller in --allow? Records the contact when it is. */
static bool clocksvc_allowed(struct svc_req *rq, char *who, size_t len)
{
    struct sockaddr_storage ss;
    if (rpcserver_caller(rq, &ss, who, len) < 0 ||
        !allow_match(&clocksvc_cfg.allow, (struct sockaddr *)&ss))
        return false;
    atomic_store(&clocksvc_last_ns, clock_mono_ns());
    return true;
}

int clocksvc_measurement(const adjust_args *a, struct clock_measurement *m, char *why,
                         size_t len)
{
    const clock_reading *r = &a->reference;
    if (a->error_bound_us < 0 || a->error_bound_us > CLOCK_HALF_DAY_US)
        snprintf(why, len, "error bound %lld us is outside 0..12 h", (long long)a->error_bound_us);
    else if (a->spread_us < 0 || a->spread_us > CLOCK_HALF_DAY_US)
        snprintf(why, len, "spread %lld us is outside 0..12 h", (long long)a->spread_us);
    else if (a->age_us < 0 || a->age_us > CLOCK_DAY_US)
        snprintf(why, len, "age %lld us is outside 0..24 h", (long long)a->age_us);
    else if (!clockrpc_reading_sane(r))
        snprintf(why, len, "the coordinator's own reading (slew, bound, growth, corrections) is "
                 "out of range");
    else {
        *m = (struct clock_measurement){.delta_us = a->delta_us, .bound_us = a->error_bound_us,
                                        .spread_us = a->spread_us, .age_us = a->age_us};
        clockrpc_reference(r, &m->ref);
        return 0;
    }
    return -1;
}

static void clocksvc_adjust(struct svc_req *rq, adjust_args *a, adjust_reply *rep,
                            char *msg, size_t msglen)
{
    char who[64], why[160];
    struct clock_measurement m;
    rep->policy = TIME_POLICY_NONE;
    if (!clocksvc_allowed(rq, who, sizeof who)) {
        rep->status = TIME_ERR_DENIED;
        snprintf(msg, msglen, "ADJUST refused: caller %s is not in --allow", who);
    } else if (!rpcserver_authentic(rq, (xdrproc_t)xdr_adjust_args, a, &a->auth, "ADJUST", msg,
                                    msglen)) {
        rep->status = TIME_ERR_AUTH;
    } else if (clocksvc_cfg.adjust_refusal) {
        rep->status = TIME_ERR_DENIED;
        snprintf(msg, msglen, "ADJUST refused: %s", clocksvc_cfg.adjust_refusal);
    } else if (clocksvc_measurement(a, &m, why, sizeof why) < 0) {
        rep->status = TIME_ERR_BADARG;
        snprintf(msg, msglen, "ADJUST refused: %s", why);
    } else {
        /* A bound makes it a measurement for the discipline; none, a command. */
        struct clock_correction corr = {.policy = CLOCK_POLICY_NONE, .applied_us = a->delta_us};
        enum clock_error e = a->error_bound_us > 0
                                 ? clock_correct(clocksvc_cfg.clock, &m, &corr)
                                 : clock_adjust(clocksvc_cfg.clock, a->delta_us, &corr.policy);
        rep->policy = clockrpc_policy(corr.policy);
        rep->applied_us = corr.applied_us;
        if (e == CLOCK_OK && a->error_bound_us > 0) {
            rep->status = TIME_OK;
            snprintf(msg, msglen, "%s of %lld us applied (measured %+lld +/- %lld us, %d samples, "
                     "frequency %+.3f ppm)", clock_policy_name(corr.policy),
                     (long long)corr.applied_us, (long long)a->delta_us,
                     (long long)a->error_bound_us, corr.samples, corr.freq_corr_ppm);
        } else if (e == CLOCK_OK) {
            rep->status = TIME_OK;
            snprintf(msg, msglen, "%s of %lld us applied", clock_policy_name(corr.policy),
                     (long long)a->delta_us);
        } else if (e == CLOCK_ERR_STOPPED) {
            rep->status = TIME_ERR_STOPPED;
            snprintf(msg, msglen, "ADJUST refused: the clock is being set by hand");
        } else {
            rep->status = TIME_ERR_RANGE;
            snprintf(msg, msglen, "ADJUST refused: correction %lld us is outside +/-12 h",
                     (long long)a->delta_us);
        }
    }
    if (rep->status != TIME_ERR_AUTH) /* logged, with a limit, by rpcserver_authentic */
        log_msg(rep->status == TIME_OK ? LOG_LEVEL_DEBUG : LOG_LEVEL_WARN, "clock adjust",
                "round %llu from %s: %s", (unsigned long long)a->round_id, who, msg);
    rep->message = msg;
    clockrpc_reading(clocksvc_cfg.clock, &rep->after);
}

static void clocksvc_dispatch(struct svc_req *rq, SVCXPRT *x)
{
    switch (rq->rq_proc) {
    case NULLPROC:
        svc_sendreply(x, (xdrproc_t)rpcserver_xdr_void, NULL);
        return;
    case CLOCK_GETHOUR: {
        char who[64];
        clocksvc_allowed(rq, who, sizeof who);
        clock_reading r;
        clockrpc_reading(clocksvc_cfg.clock, &r);
        svc_sendreply(x, (xdrproc_t)xdr_clock_reading, (char *)&r);
        return;
    }
    case CLOCK_ADJUST: {
        adjust_args a;
        if (!rpcserver_decode(x, (xdrproc_t)xdr_adjust_args, &a, sizeof a, "clock adjust"))
            return;
        adjust_reply rep;
        char msg[TIME_MESSAGE_MAX];
        memset(&rep, 0, sizeof rep);
        clocksvc_adjust(rq, &a, &rep, msg, sizeof msg);
        svc_sendreply(x, (xdrproc_t)xdr_adjust_reply, (char *)&rep);
        svc_freeargs(x, (xdrproc_t)xdr_adjust_args, (char *)&a);
        return;
    }
    default:
        svcerr_noproc(x);
    }
}

int clocksvc_start(const struct clocksvc_config *cfg, rpcprog_t prog, char *err, size_t errlen)
{
    clocksvc_cfg = *cfg;
    return rpcserver_register(prog, CLOCK_V1, RPCSERVER_TCP | RPCSERVER_UDP, clocksvc_dispatch,
                              err, errlen);
}
