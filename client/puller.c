#include "puller.h"

#include "clockrpc.h"
#include "log.h"
#include "rpcclient.h"
#include "time_rpc.h"

#include <inttypes.h>
#include <string.h>

static void puller_drop(struct puller *p)
{
    if (p->clnt)
        clnt_destroy(p->clnt);
    p->clnt = NULL;
}

static int puller_job(void *arg)
{
    struct puller *p = arg;
    char err[300];
    int64_t delta = 0;
    enum clock_policy policy = CLOCK_POLICY_NONE;
    struct clockrpc_probe probe;
    if (rpcclient_closed_by_peer(p->clnt))
        puller_drop(p);
    if (!p->clnt)
        p->clnt = rpcclient_create(p->cfg.server, p->cfg.prog, CLOCK_V1, "tcp", p->cfg.rpc_timeout_ms,
                                   err, sizeof err);
    if (p->clnt && clockrpc_pull(p->cfg.clock, p->clnt, CLOCKRPC_CLOCK, p->cfg.probes, &delta,
                                 &policy, &probe, err, sizeof err) == 0) {
        log_info("sync", "offset to %s %+" PRId64 " us (rtt %" PRId64 " us, +/-%" PRId64
                 " us), %s", p->cfg.server, delta, probe.est.rtt_us, probe.est.error_bound_us,
                 clock_policy_name(policy));
        p->failures = 0;
        return p->cfg.tm_ms;
    }
    if (p->failures++ % 10 == 0)
        log_warn("sync", "cannot read the clock of %s program %lu: %s", p->cfg.server,
                 p->cfg.prog, err);
    /* A failed call may leave the connection broken: start afresh next time. */
    puller_drop(p);
    return p->cfg.tm_ms;
}

int puller_start(struct puller *p, const struct puller_config *cfg)
{
    memset(p, 0, sizeof *p);
    p->cfg = *cfg;
    return worker_start(&p->worker, puller_job, p, 0);
}

void puller_stop(struct puller *p)
{
    worker_stop(&p->worker);
    puller_drop(p);
}
