#include "rounds.h"

#include "clockrpc.h"
#include "log.h"
#include "rpcclient.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static void rounds_sync_utc(struct rounds *r, struct clockdb_round *rec)
{
    rec->before_us = clock_read(r->cfg.clock);
    if (r->cfg.nutc == 0) {
        snprintf(rec->utc_error, sizeof rec->utc_error, "no --utc-server given");
        return;
    }
    struct sntp_result res;
    if (sntp_query_any(r->cfg.utc, r->cfg.nutc, 4, r->cfg.utc_timeout_ms, &res, rec->utc_error,
                       sizeof rec->utc_error) < 0) {
        log_warn("utc", "round %" PRId64 ": no UTC source answered, keeping own clock: %s",
                 rec->id, rec->utc_error);
        return;
    }
    int64_t delta;
    struct clock_correction corr;
    if (sntp_correct(r->cfg.clock, &res, &delta, &corr) != CLOCK_OK) {
        snprintf(rec->utc_error, sizeof rec->utc_error,
                 "own clock is being set by hand; UTC offset %" PRId64 " us not applied", delta);
        log_warn("utc", "round %" PRId64 ": %s", rec->id, rec->utc_error);
        return;
    }
    rec->utc_ok = true;
    snprintf(rec->utc_source, sizeof rec->utc_source, "%s", res.server);
    rec->utc_offset_us = delta;
    rec->utc_rtt_us = res.rtt_us;
    rec->utc_policy = corr.policy;
    rec->utc_applied_us = corr.applied_us;
    log_info("utc", "round %" PRId64 ": %s offset %+" PRId64 " us, rtt %" PRId64 " us, %s of %+"
             PRId64 " us, frequency %+.3f ppm", rec->id, res.server, delta, res.rtt_us,
             clock_policy_name(corr.policy), corr.applied_us, corr.freq_corr_ppm);
}

static struct rounds_peer *rounds_peer(struct rounds *r, const struct node_info *n)
{
    for (size_t i = 0; i < r->npeers; i++)
        if (strcmp(r->peer[i].name, n->name) == 0)
            return &r->peer[i];
    struct rounds_peer *p = &r->peer[r->npeers++];
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s", n->name);
    return p;
}

static void rounds_drop_client(struct rounds_peer *p)
{
    if (p->clnt)
        clnt_destroy(p->clnt);
    if (p->udp)
        clnt_destroy(p->udp);
    p->clnt = p->udp = NULL;
}

static void rounds_skip(struct clockdb_sync *s, const char *fmt, const char *why)
{
    s->applied = false;
    snprintf(s->reason, sizeof s->reason, fmt, why);
}

static void rounds_adjust(struct rounds_peer *peer, int64_t round, struct clockdb_sync *s,
                          struct clock_measurement *m, int64_t measured_ns)
{
    /* The node learns how old the measurement is, and allows for its drift since. */
    m->age_us = (clock_mono_ns() - measured_ns) / 1000;
    adjust_args a;
    clockrpc_adjust_args(m, (uint64_t)round, &a);
    char err[200];
    if (callauth_sign(&peer->sender, peer->prog, peer->vers, CLOCK_ADJUST,
                      (xdrproc_t)xdr_adjust_args, &a, &a.auth) < 0) {
        rounds_skip(s, "%s", "the correction could not be signed");
        return;
    }
    adjust_reply rep;
    memset(&rep, 0, sizeof rep);
    enum clnt_stat st = clock_adjust_1(&a, &rep, peer->clnt);
    if (st != RPC_SUCCESS) {
        rpcclient_error(peer->clnt, st, "ADJUST", err, sizeof err);
        rounds_skip(s, "unreachable: %s", err);
        rounds_drop_client(peer);
    } else if (rep.status != TIME_OK) {
        rounds_skip(s, "correction refused: %s", rep.message ? rep.message : "");
    } else {
        s->applied = true;
        s->policy = rep.policy == TIME_POLICY_STEP ? CLOCK_POLICY_STEP : CLOCK_POLICY_SLEW;
        s->applied_us = rep.applied_us;
        s->freq_ppb = rep.after.freq_corr_ppb;
        s->node_bound_us = rep.after.error_bound_us;
    }
    xdr_free((xdrproc_t)xdr_adjust_reply, (char *)&rep);
}

static void rounds_sync_node(struct rounds *r, int64_t round, const struct node_info *n,
                             struct clockdb_sync *s)
{
    memset(s, 0, sizeof *s);
    s->node = n;
    struct rounds_peer *peer = rounds_peer(r, n);
    char err[200];
    if (peer->joins != n->joins || rpcclient_closed_by_peer(peer->clnt) ||
        rpcclient_closed_by_peer(peer->udp))
        rounds_drop_client(peer);
    peer->joins = n->joins;
    if (!peer->udp)
        peer->udp = rpcclient_create(n->host, n->prog, n->vers, "udp", r->cfg.rpc_timeout_ms,
                                     err, sizeof err);
    if (peer->udp && !peer->clnt) {
        peer->clnt = rpcclient_create(n->host, n->prog, n->vers, "tcp", r->cfg.rpc_timeout_ms,
                                      err, sizeof err);
        peer->prog = n->prog;
        peer->vers = n->vers;
        callauth_sender_init(&peer->sender);
    }
    if (!peer->clnt || !peer->udp) {
        rounds_skip(s, "unreachable: %s", err);
        rounds_drop_client(peer);
        return;
    }
    /* A frozen reference would step every node to it, and measures nothing. */
    struct clock_state own;
    clock_snapshot(r->cfg.clock, &own);
    if (!own.running) {
        rounds_skip(s, "%s", "the coordinator's clock is being set by hand");
        return;
    }
    struct clockrpc_probe p;
    if (clockrpc_probe(peer->udp, CLOCKRPC_CLOCK, &r->cfg.plan, r->cfg.clock, &p, err,
                       sizeof err) < 0) {
        rounds_skip(s, "unreachable: %s", err);
        rounds_drop_client(peer);
        return;
    }
    s->probes = p.answered;
    s->have_reading = true;
    s->node_time_us = p.reading.time_us;
    s->rtt_us = p.est.rtt_us;
    s->rtt_max_us = p.rtt_max_us;
    s->estimate_us = p.est.remote_at_recv_us;
    s->error_bound_us = p.est.error_bound_us;
    s->delta_us = p.m.delta_us;
    s->reference_us = clock_wrap_time(s->estimate_us + s->delta_us);
    if (!p.reading.running) {
        rounds_skip(s, "%s", "clock being set by hand");
        return;
    }
    rounds_adjust(peer, round, s, &p.m, p.est.recv_ns);
}

static void rounds_report(struct rounds *r, const struct clockdb_sync *s)
{
    const struct node_info *n = s->node;
    if (s->applied) {
        nodes_set_result(r->cfg.nodes, n->name, NODE_SYNCHRONISED, "synchronised", s->delta_us,
                         s->rtt_us, s->policy, true);
        log_info("round", "round %" PRId64 ": %s delta %+" PRId64 " us +/-%" PRId64
                 " us (%d probes, rtt %" PRId64 "-%" PRId64 " us), %s of %+" PRId64
                 " us, frequency %+.3f ppm", r->rec.id, n->name, s->delta_us, s->error_bound_us,
                 s->probes, s->rtt_us, s->rtt_max_us, clock_policy_name(s->policy),
                 s->applied_us, (double)s->freq_ppb / 1000.0);
    } else {
        nodes_set_result(r->cfg.nodes, n->name, NODE_SKIPPED, s->reason, 0, s->rtt_us,
                         CLOCK_POLICY_NONE, s->have_reading);
        log_warn("round", "round %" PRId64 ": %s skipped: %s", r->rec.id, n->name, s->reason);
    }
}

/* A node gone for good costs every round a timeout and would never leave the table:
 * forgotten after ROUNDS_FORGET_ROUNDS rounds and ROUNDS_FORGET_S seconds without an
 * answer. One that comes back joins again (its joiner notices the silence). */
#define ROUNDS_FORGET_ROUNDS 30
#define ROUNDS_FORGET_S 300

static void rounds_forget(struct rounds *r)
{
    char name[NODES_NAME_LEN];
    while (nodes_expire_one(r->cfg.nodes, ROUNDS_FORGET_ROUNDS, (int64_t)ROUNDS_FORGET_S * 1000000000,
                            clock_mono_ns(), name, sizeof name)) {
        log_warn("round", "forgetting node %s: no answer for %d rounds and %d s (it joins again "
                 "when it comes back)", name, ROUNDS_FORGET_ROUNDS, ROUNDS_FORGET_S);
        for (size_t i = 0; i < r->npeers; i++)
            if (strcmp(r->peer[i].name, name) == 0) {
                rounds_drop_client(&r->peer[i]);
                r->peer[i] = r->peer[--r->npeers];
                break;
            }
    }
}

static void rounds_publish(struct rounds *r, const struct clockdb_round *rec)
{
    pthread_mutex_lock(&r->status_lock);
    struct rounds_status *st = &r->status;
    st->last_round = rec->id;
    st->tm_ms = r->cfg.tm_ms;
    st->utc_ok = rec->utc_ok;
    snprintf(st->utc_source, sizeof st->utc_source, "%s", rec->utc_ok ? rec->utc_source : "none");
    st->utc_offset_us = rec->utc_offset_us;
    st->utc_rtt_us = rec->utc_rtt_us;
    snprintf(st->utc_error, sizeof st->utc_error, "%s", rec->utc_ok ? "" : rec->utc_error);
    pthread_mutex_unlock(&r->status_lock);
}

void rounds_status(struct rounds *r, struct rounds_status *out)
{
    pthread_mutex_lock(&r->status_lock);
    *out = r->status;
    pthread_mutex_unlock(&r->status_lock);
}

/* One of the start-up burst's UTC measurements (sntp.h): no round, no DB row. */
static void rounds_burst(struct rounds *r)
{
    struct sntp_result res;
    char why[512];
    int64_t delta;
    struct clock_correction corr;
    if (sntp_query_any(r->cfg.utc, r->cfg.nutc, 4, r->cfg.utc_timeout_ms, &res, why, sizeof why) == 0 &&
        sntp_correct(r->cfg.clock, &res, &delta, &corr) == CLOCK_OK)
        log_debug("utc", "start-up: %s offset %+" PRId64 " us, %s of %+" PRId64 " us", res.server,
                  delta, clock_policy_name(corr.policy), corr.applied_us);
}

static int rounds_job(void *arg)
{
    struct rounds *r = arg;
    if (r->burst_left > 0) {
        r->burst_left--;
        rounds_burst(r);
        return SNTP_BURST_INTERVAL_MS;
    }
    int64_t t0 = clock_mono_ns();
    struct clockdb_round *rec = &r->rec;
    memset(rec, 0, sizeof *rec);
    rec->id = r->next_id++;
    rec->tm_ms = r->cfg.tm_ms;
    clock_gettime(CLOCK_REALTIME, &rec->started);
    rounds_sync_utc(r, rec);
    rec->reference_us = clock_read(r->cfg.clock);
    rec->n = nodes_copy(r->cfg.nodes, r->nodes, NODES_MAX);
    for (size_t i = 0; i < rec->n; i++) {
        rounds_sync_node(r, rec->id, &r->nodes[i], &rec->sync[i]);
        rounds_report(r, &rec->sync[i]);
    }
    rounds_publish(r, rec);
    rounds_forget(r);
    clockdb_record(r->cfg.db, rec);
    int elapsed_ms = (int)((clock_mono_ns() - t0) / 1000000);
    return r->cfg.tm_ms > elapsed_ms ? r->cfg.tm_ms - elapsed_ms : 0;
}

int rounds_start(struct rounds *r, const struct rounds_config *cfg)
{
    memset(r, 0, sizeof *r);
    r->cfg = *cfg;
    r->next_id = cfg->first_round;
    r->burst_left = cfg->nutc > 0 ? SNTP_STARTUP_BURST : 0;
    pthread_mutex_init(&r->status_lock, NULL);
    r->status.tm_ms = cfg->tm_ms;
    return worker_start(&r->worker, rounds_job, r, 0);
}

void rounds_stop(struct rounds *r)
{
    worker_stop(&r->worker);
    for (size_t i = 0; i < r->npeers; i++)
        rounds_drop_client(&r->peer[i]);
    pthread_mutex_destroy(&r->status_lock);
}
