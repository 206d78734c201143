#include "puller.h"

#include "clockrpc.h"
#include "log.h"
#include "rpcclient.h"
#include "time_rpc.h"

#include <inttypes.h>
#include <string.h>
#include <time.h>

static int puller_pull(struct puller *p);

static void puller_drop(struct puller *p)
{
    if (p->clnt)
        clnt_destroy(p->clnt);
    p->clnt = NULL;
}

static void puller_tried(struct puller *p)
{
    pthread_mutex_lock(&p->lock);
    p->tried = true;
    pthread_cond_broadcast(&p->first_done);
    pthread_mutex_unlock(&p->lock);
}

static int puller_job(void *arg)
{
    struct puller *p = arg;
    int wait = puller_pull(p);
    puller_tried(p);
    return wait;
}

bool puller_wait_first(struct puller *p, int timeout_ms)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    int64_t ns = until.tv_nsec + (int64_t)timeout_ms * 1000000;
    until.tv_sec += (time_t)(ns / 1000000000);
    until.tv_nsec = (long)(ns % 1000000000);
    pthread_mutex_lock(&p->lock);
    while (!p->tried && pthread_cond_timedwait(&p->first_done, &p->lock, &until) == 0)
        ;
    pthread_mutex_unlock(&p->lock);
    struct clock_state st;
    clock_snapshot(p->cfg.clock, &st);
    return st.synchronised;
}

/* One pull from the server in use. false (err filled) if its clock did not answer. */
static bool puller_pull_one(struct puller *p, char *err, size_t errlen)
{
    int64_t delta = 0;
    struct clock_correction corr;
    struct clockrpc_probe probe;
    int want = failover_list_in_use(p->cfg.servers);
    const struct failover_server *s = &p->cfg.servers->server[want];
    if (want != p->server) {
        /* After a failed pull it is the puller's own move, already warned about. */
        if (p->failures == 0)
            log_info("sync", "following the clock of app server %d at %s (was app server %d)",
                     s->instance, s->host, p->cfg.servers->server[p->server].instance);
        puller_drop(p);
        p->server = want;
    }
    if (rpcclient_closed_by_peer(p->clnt))
        puller_drop(p);
    if (!p->clnt)
        p->clnt = rpcclient_create(s->host, CLOCK_PROG + (rpcprog_t)s->instance, CLOCK_V1, "udp",
                                   p->cfg.rpc_timeout_ms, err, errlen);
    if (p->clnt && clockrpc_pull(p->cfg.clock, p->clnt, CLOCKRPC_CLOCK, &p->cfg.plan, &delta,
                                 &corr, &probe, err, errlen) == 0) {
        log_info("sync", "offset to app server %d at %s %+" PRId64 " us +/-%" PRId64 " us (%d "
                 "probes, rtt %" PRId64 " us), %s of %+" PRId64 " us, frequency %+.3f ppm",
                 s->instance, s->host, delta, probe.est.error_bound_us, probe.answered,
                 probe.est.rtt_us, clock_policy_name(corr.policy), corr.applied_us,
                 corr.freq_corr_ppm);
        return true;
    }
    if (p->failures++ % 10 == 0)
        log_warn("sync", "cannot read the clock of app server %d at %s: %s", s->instance,
                 s->host, err);
    /* A failed call may leave the connection broken: start afresh next time. */
    puller_drop(p);
    return false;
}

/* The server in use, or, if its clock does not answer, the next ones in turn: a server
 * whose clock is gone cannot hand out books either, and the first request should not go
 * out unsynchronised because the first server of the list is down. The move is a
 * compare-and-swap, so an answer the requests got meanwhile wins. */
static int puller_pull(struct puller *p)
{
    char err[300];
    int n = p->cfg.servers->count;
    for (int k = 0; k < n; k++) {
        if (puller_pull_one(p, err, sizeof err)) {
            p->failures = 0;
            return p->cfg.tm_ms;
        }
        if (k + 1 == n || worker_stopping(&p->worker) ||
            !failover_list_move(p->cfg.servers, p->server, (p->server + 1) % n))
            break;
    }
    return p->cfg.tm_ms;
}

int puller_start(struct puller *p, const struct puller_config *cfg)
{
    memset(p, 0, sizeof *p);
    p->cfg = *cfg;
    pthread_mutex_init(&p->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    /* A wall clock stepped meanwhile must not shorten or stretch the wait. */
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&p->first_done, &attr);
    pthread_condattr_destroy(&attr);
    p->server = failover_list_in_use(cfg->servers);
    return worker_start(&p->worker, puller_job, p, 0);
}

void puller_follow(struct puller *p)
{
    worker_wake(&p->worker);
}

void puller_stop(struct puller *p)
{
    worker_stop(&p->worker);
    puller_drop(p);
    pthread_cond_destroy(&p->first_done);
    pthread_mutex_destroy(&p->lock);
}
