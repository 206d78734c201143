#include "joiner.h"

#include "callauth.h"
#include "clocksvc.h"
#include "clockrpc.h"
#include "log.h"
#include "rpcclient.h"
#include "time_rpc.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define JOINER_RETRY_MS 1000

/* True when the time server has not read or corrected us for three of its rounds. */
static bool joiner_forgotten(struct joiner *j)
{
    int64_t last = clocksvc_last_contact_ns();
    if (last < j->joined_ns)
        last = j->joined_ns;
    return clock_mono_ns() - last > (int64_t)3 * j->tm_ms * 1000000;
}

static void joiner_set_clock(struct joiner *j, const join_reply *rep, int64_t send_ns,
                             int64_t recv_ns)
{
    int64_t delta = 0, bound = 0;
    struct clock_correction corr;
    enum clock_error e = clockrpc_correct_once(j->cfg.clock, &rep->reference, send_ns, recv_ns,
                                               &delta, &bound, &corr);
    if (e == CLOCK_OK)
        log_info("join", "clock set from the time server: %+" PRId64 " us +/-%" PRId64
                 " us (%s of %+" PRId64 " us, rtt %" PRId64 " us)", delta, bound,
                 clock_policy_name(corr.policy), corr.applied_us, (recv_ns - send_ns) / 1000);
    else if (e == CLOCK_ERR_STOPPED)
        log_warn("join", "clock not set from the time server: it is being set by hand");
    else
        log_warn("join", "clock not set from the time server: its reading is out of range");
}

static int joiner_try(struct joiner *j, char *err, size_t errlen)
{
    CLIENT *c = rpcclient_create(j->cfg.time_server, TIME_PROG, TIME_V1, "tcp",
                                 j->cfg.rpc_timeout_ms, err, errlen);
    if (!c)
        return -1;
    join_args a = {.name = (char *)j->cfg.name, .host = (char *)j->cfg.advertise,
                   .prognum = (u_int)j->cfg.prog, .versnum = CLOCK_V1};
    /* Each connection is a sender of its own. */
    struct callauth_sender sender;
    callauth_sender_init(&sender);
    if (callauth_sign(&sender, TIME_PROG, TIME_V1, TIME_JOIN, (xdrproc_t)xdr_join_args, &a,
                      &a.auth) < 0) {
        snprintf(err, errlen, "JOIN could not be signed");
        clnt_destroy(c);
        return -1;
    }
    join_reply rep;
    memset(&rep, 0, sizeof rep);
    int64_t send_ns = clock_mono_ns();
    enum clnt_stat st = time_join_1(&a, &rep, c);
    int64_t recv_ns = clock_mono_ns();
    int rc = -1;
    if (st != RPC_SUCCESS) {
        rpcclient_error(c, st, "JOIN", err, errlen);
    } else if (rep.status != TIME_OK) {
        snprintf(err, errlen, "%s", rep.message ? rep.message : "refused");
    } else if (!rep.reference.running) {
        snprintf(err, errlen, "the time server's clock is being set by hand");
    } else {
        j->tm_ms = rep.tm_ms > 0 ? (int)rep.tm_ms : 10000;
        joiner_set_clock(j, &rep, send_ns, recv_ns);
        log_info("join", "%s (node %" PRId64 ", rounds every %d ms)", rep.message,
                 (int64_t)rep.node_id, j->tm_ms);
        rc = 0;
    }
    /* Safe on a zeroed or half-decoded reply too. */
    xdr_free((xdrproc_t)xdr_join_reply, (char *)&rep);
    clnt_destroy(c);
    return rc;
}

static int joiner_job(void *arg)
{
    struct joiner *j = arg;
    if (j->joined && !joiner_forgotten(j))
        return j->tm_ms;
    if (j->joined)
        log_warn("join", "no correction from the time server for three rounds; joining again");
    char err[300];
    if (joiner_try(j, err, sizeof err) == 0) {
        j->joined = true;
        j->joined_ns = clock_mono_ns();
        j->failures = 0;
        return j->tm_ms;
    }
    j->joined = false;
    /* Say it the first time and then every 30 s, not every second. */
    if (j->failures++ % 30 == 0)
        log_warn("join", "time server %s not joined yet, retrying every %d ms: %s",
                 j->cfg.time_server, JOINER_RETRY_MS, err);
    return JOINER_RETRY_MS;
}

int joiner_start(struct joiner *j, const struct joiner_config *cfg)
{
    memset(j, 0, sizeof *j);
    j->cfg = *cfg;
    j->tm_ms = 10000;
    return worker_start(&j->worker, joiner_job, j, 0);
}

void joiner_stop(struct joiner *j)
{
    worker_stop(&j->worker);
}
