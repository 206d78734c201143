#include "syncsim.h"

#include "clock.h"
#include "clockrpc.h"
#include "clocksvc.h"
#include "cristian.h"
#include "probe.h"
#include "sntp.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NS_PER_MS INT64_C(1000000)
/* What a GETHOUR costs the node, and the gap between two probes on the coordinator. */
#define SIM_SERVICE_NS 5000
#define SIM_GAP_NS 10000
/* TCP's minimum retransmission timeout (Linux): a lost ADJUST or JOIN frame is late,
 * not lost. */
#define SIM_TCP_RTO_NS (200 * NS_PER_MS)
/* A lost frame: the call gives up after the time server's RPC timeout. */
#define SIM_TIMEOUT_NS (500 * NS_PER_MS)
/* UTC's time of day at virtual time zero (any value; 23:59:40 crosses midnight). */
#define SIM_UTC_START_US (INT64_C(1700000000000000) + INT64_C(86380) * 1000000)

struct sim {
    const struct syncsim_scenario *sc;
    uint64_t rng;
    int64_t now;            /* virtual monotonic time, ns */
    int64_t next_sample;
    struct clock ref, node;
    int round;
    bool counting;          /* accuracy */
    bool checking;          /* the claimed bound */
    bool joined;
    double *err;            /* |node - coordinator| samples */
    size_t n, cap;
    double err_sum;
    double *ref_err;        /* |coordinator - UTC| samples */
    size_t nref, ref_cap;
    struct syncsim_stats *st;
};

static uint64_t sim_next(struct sim *s)
{
    /* splitmix64: small, seeded, the same on every machine. */
    uint64_t z = (s->rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double sim_unit(struct sim *s)
{
    return (double)(sim_next(s) >> 11) / 9007199254740992.0;
}

/* The delay of one frame, or -1 if it is lost. */
static int64_t sim_delay(struct sim *s, const struct syncsim_link *l)
{
    if (l->loss > 0 && sim_unit(s) < l->loss)
        return -1;
    double ms = l->delay_ms + l->jitter_ms * (2 * sim_unit(s) - 1);
    if (l->spike_prob > 0 && sim_unit(s) < l->spike_prob)
        ms += l->spike_ms;
    return ms > 0 ? (int64_t)(ms * 1e6) : 0;
}

static int64_t sim_utc_us(const struct sim *s, int64_t t)
{
    int64_t step = s->sc->utc_step_round > 0 &&
                           t >= (int64_t)s->sc->utc_step_round * s->sc->tm_ms * NS_PER_MS
                       ? s->sc->utc_step_us : 0;
    return SIM_UTC_START_US + t / 1000 + step;
}

static void sim_push(double **v, size_t *n, size_t *cap, double x)
{
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 1024;
        *v = realloc(*v, *cap * sizeof **v);
    }
    (*v)[(*n)++] = x;
}

/* Truth samples up to (not including) t, then time moves to t. */
static void sim_advance(struct sim *s, int64_t t)
{
    while (s->next_sample < t) {
        int64_t g = s->next_sample;
        s->next_sample += (int64_t)s->sc->sample_ms * NS_PER_MS;
        if (!s->joined || (!s->counting && !s->checking))
            continue;
        double e = (double)clock_wrap_delta(clock_read_at(&s->node, g) - clock_read_at(&s->ref, g));
        if (s->checking) {
            struct clock_state ns;
            clock_snapshot_at(&s->node, g, &ns);
            s->st->bound_samples++;
            if (ns.error_bound_us < 0) {
                s->st->unclaimed++;
            } else {
                double margin = (double)ns.error_bound_us - fabs(e);
                if (margin < 0)
                    s->st->bound_violations++;
                if (margin < s->st->min_margin_us)
                    s->st->min_margin_us = margin;
            }
        }
        if (!s->counting)
            continue;
        sim_push(&s->err, &s->n, &s->cap, fabs(e));
        s->err_sum += e;
        double u = (double)clock_wrap_delta(clock_read_at(&s->ref, g) -
                                            clock_wrap_time(sim_utc_us(s, g)));
        sim_push(&s->ref_err, &s->nref, &s->ref_cap, fabs(u));
    }
    if (t > s->now)
        s->now = t;
}

/* The time server's SNTP query: four exchanges, the fastest kept (sntp_query). */
static void sim_follow_utc(struct sim *s)
{
    struct sntp_result best = {0};
    int good = 0;
    for (int i = 0; i < 4; i++) {
        int64_t d1 = sim_delay(s, &s->sc->utc), d2 = sim_delay(s, &s->sc->utc);
        int64_t send = s->now;
        if (d1 < 0 || d2 < 0) {
            sim_advance(s, send + 250 * NS_PER_MS);
            continue;
        }
        int64_t server_utc = sim_utc_us(s, send + d1);
        sim_advance(s, send + d1 + d2);
        int64_t rtt = (d1 + d2) / 1000;
        if (good == 0 || rtt < best.rtt_us)
            best = (struct sntp_result){.utc_us = server_utc + rtt / 2, .recv_ns = s->now,
                                        .rtt_us = rtt};
        good++;
    }
    int64_t delta;
    struct clock_correction corr;
    if (good > 0)
        sntp_correct(&s->ref, &best, &delta, &corr);
}

static int sim_probe(void *ctx, int i, int timeout_ms, struct cristian_probe *p, char *err,
                     size_t errlen)
{
    (void)i;
    struct sim *s = ctx;
    sim_advance(s, s->now + SIM_GAP_NS);
    p->send_ns = s->now;
    int64_t d1 = sim_delay(s, &s->sc->down), d2 = sim_delay(s, &s->sc->up);
    if (d1 < 0 || d2 < 0 || d1 + d2 > (int64_t)timeout_ms * NS_PER_MS) {
        sim_advance(s, p->send_ns + (int64_t)timeout_ms * NS_PER_MS);
        snprintf(err, errlen, "GETHOUR: timed out");
        return -1;
    }
    sim_advance(s, p->send_ns + d1);
    p->remote_us = clock_target_at(&s->node, s->now);
    sim_advance(s, s->now + SIM_SERVICE_NS + d2);
    p->recv_ns = s->now;
    return 0;
}

/* JOIN: the node sets its clock from the coordinator's reading, as joiner.c does. */
static void sim_join(struct sim *s)
{
    int64_t d1 = sim_delay(s, &s->sc->up), d2 = sim_delay(s, &s->sc->down);
    while (d1 < 0)
        d1 = sim_delay(s, &s->sc->up) + SIM_TCP_RTO_NS;
    while (d2 < 0)
        d2 = sim_delay(s, &s->sc->down) + SIM_TCP_RTO_NS;
    int64_t send = s->now, delta, bound;
    sim_advance(s, send + d1);
    clock_reading r;
    clockrpc_reading_at(&s->ref, s->now, &r);
    sim_advance(s, s->now + d2);
    clockrpc_correct_once(&s->node, &r, send, s->now, &delta, &bound, NULL);
    s->joined = true;
}

/* One node's part of a round, as rounds_sync_node and clocksvc do it. */
static void sim_sync_node(struct sim *s, struct syncsim_stats *st)
{
    struct probe_plan plan;
    probe_plan_default(&plan, s->sc->min_probes ? s->sc->min_probes : PROBE_DEFAULT_MIN,
                       (int64_t)s->sc->tm_ms * NS_PER_MS / 8, (int)(SIM_TIMEOUT_NS / NS_PER_MS));
    if (s->sc->max_probes)
        plan.max_probes = s->sc->max_probes;
    struct cristian_probe probes[CRISTIAN_MAX_PROBES];
    struct probe_result res;
    char err[100];
    if (probe_round(&plan, &s->ref, sim_probe, s, probes, &res, err, sizeof err) < 0)
        return;
    struct clock_measurement m;
    probe_measurement(&res, &s->ref, &m);
    int64_t measured = res.est.recv_ns;
    if (getenv("SYNCSIM_TRACE")) {
        int64_t tb = res.est.recv_ns;
        int64_t truth = clock_wrap_delta(clock_target_at(&s->ref, tb) - clock_target_at(&s->node, tb));
        printf("  measured %+lld truth %+lld err %+lld bound %lld spread %lld probes %d\n", (long long)m.delta_us,
               (long long)truth, (long long)(m.delta_us - truth), (long long)m.bound_us, (long long)m.spread_us, res.answered);
    }
    /* ADJUST goes over TCP: a lost frame comes again after the retransmission timeout. */
    int64_t d1 = sim_delay(s, &s->sc->down);
    while (d1 < 0)
        d1 = sim_delay(s, &s->sc->down) + SIM_TCP_RTO_NS;
    /* The ADJUST leaves now and is taken as clocksvc takes it. */
    m.age_us = (s->now - measured) / 1000;
    adjust_args a;
    clockrpc_adjust_args(&m, (uint64_t)s->round, &a);
    sim_advance(s, s->now + d1);
    struct clock_measurement got;
    char why[160];
    if (clocksvc_measurement(&a, &got, why, sizeof why) < 0) {
        fprintf(stderr, "syncsim: ADJUST refused: %s\n", why);
        return;
    }
    struct clock_correction corr;
    enum clock_error ce = clock_correct_at(&s->node, &got, s->now, &corr);
    if (getenv("SYNCSIM_TRACE"))
        printf("  applied %lld (%d) samples %d reset %d freq %.2f bound %lld err %d\n", (long long)corr.applied_us, corr.policy, corr.samples, corr.reset, corr.freq_corr_ppm, (long long)corr.error_bound_us, ce);
    if (corr.reset)
        st->resets++;
    sim_advance(s, s->now + SIM_SERVICE_NS + (int64_t)(s->sc->up.delay_ms * 1e6));
    if (s->counting) {
        st->mean_probes += res.answered;
        st->mean_bound_us += (double)m.bound_us;
        if (st->rtt_min_us == 0 || res.est.rtt_us < st->rtt_min_us)
            st->rtt_min_us = (double)res.est.rtt_us;
    }
}

static double sim_rate_err(struct sim *s)
{
    struct clock_state n, r;
    clock_snapshot_at(&s->node, s->now, &n);
    clock_snapshot_at(&s->ref, s->now, &r);
    return (n.drift_ppm + n.freq_corr_ppm) - (r.drift_ppm + r.freq_corr_ppm);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double pct(double *v, size_t n, double q)
{
    if (n == 0)
        return 0;
    size_t i = (size_t)ceil(q * (double)n);
    return v[i > 0 ? (i > n ? n - 1 : i - 1) : 0];
}

int syncsim_run(const struct syncsim_scenario *sc, int warmup, int skip_from, int skip_to,
                struct syncsim_stats *out)
{
    if (sc->rounds < 1 || sc->tm_ms < 100)
        return -1;
    struct syncsim_scenario scen = *sc;
    if (scen.sample_ms <= 0)
        scen.sample_ms = 100;
    struct sim s = {.sc = &scen, .rng = sc->seed, .st = out};
    memset(out, 0, sizeof *out);
    out->min_margin_us = 1e18;
    struct clock_config cfg;
    clock_config_default(&cfg);
    cfg.freq_correction = sc->freq_correction && !sc->ref_no_freq_correction;
    cfg.drift_ppm = sc->ref_drift_ppm;
    clock_init_at(&s.ref, &cfg, clock_wrap_time((int64_t)(sim_next(&s) % 86400000000ULL)), 0);
    struct clock_config ncfg = cfg;
    ncfg.freq_correction = sc->freq_correction;
    ncfg.drift_ppm = sc->node_drift_ppm;
    clock_init_at(&s.node, &ncfg, clock_wrap_time((int64_t)(sim_next(&s) % 86400000000ULL)), 0);
    int rounds_counted = 0;
    for (s.round = 0; s.round < sc->rounds; s.round++) {
        bool skipped = s.round >= skip_from && s.round <= skip_to;
        s.counting = s.round >= warmup && !skipped;
        s.checking = !skipped;
        int64_t at = (int64_t)s.round * sc->tm_ms * NS_PER_MS;
        if (s.round == 1 && sc->join_gap_ms > 0)
            at = (int64_t)sc->join_gap_ms * NS_PER_MS;
        else if (s.round > 0 && sc->join_gap_ms > 0)
            at = (int64_t)sc->join_gap_ms * NS_PER_MS + (int64_t)(s.round - 1) * sc->tm_ms * NS_PER_MS;
        sim_advance(&s, at);
        if (sc->ref_restart_round > 0 && s.round == sc->ref_restart_round) {
            /* A new time server process: another clock, another drift, nothing learnt. */
            clock_destroy(&s.ref);
            cfg.drift_ppm = sc->ref_restart_drift_ppm;
            clock_init_at(&s.ref, &cfg, clock_wrap_time((int64_t)(sim_next(&s) % 86400000000ULL)), s.now);
        }
        if (s.round == 0 || s.round == sc->ref_restart_round) {
            /* The time server's start-up burst (rounds.c, sntp.h). */
            for (int b = 0; b < SNTP_STARTUP_BURST; b++) {
                sim_follow_utc(&s);
                sim_advance(&s, s.now + SNTP_BURST_INTERVAL_MS * NS_PER_MS);
            }
        }
        sim_follow_utc(&s);
        if (s.round == 0)
            sim_join(&s);
        else
            sim_sync_node(&s, out);
        if (s.counting)
            rounds_counted++;
        if (s.round == 10)
            out->freq_err_ppm_at10 = sim_rate_err(&s);
        if (getenv("SYNCSIM_TRACE")) {
            struct clock_state ns;
            clock_snapshot_at(&s.node, s.now, &ns);
            printf("round %3d node-ref %+9lld us ref-utc %+9lld us rate err %+8.2f ppm bound %lld samples %d\n",
                   s.round,
                   (long long)clock_wrap_delta(clock_read_at(&s.node, s.now) - clock_read_at(&s.ref, s.now)),
                   (long long)clock_wrap_delta(clock_read_at(&s.ref, s.now) - clock_wrap_time(sim_utc_us(&s, s.now))),
                   sim_rate_err(&s), (long long)ns.error_bound_us, ns.samples);
        }
        if (s.round >= warmup)
            out->max_freq_err_ppm = fmax(out->max_freq_err_ppm, fabs(sim_rate_err(&s)));
    }
    sim_advance(&s, s.now + (int64_t)sc->tm_ms * NS_PER_MS);
    qsort(s.err, s.n, sizeof *s.err, cmp_double);
    qsort(s.ref_err, s.nref, sizeof *s.ref_err, cmp_double);
    out->samples = s.n;
    out->p50_us = pct(s.err, s.n, 0.5);
    out->p99_us = pct(s.err, s.n, 0.99);
    out->max_us = s.n ? s.err[s.n - 1] : 0;
    out->mean_us = s.n ? s.err_sum / (double)s.n : 0;
    out->ref_utc_p99_us = pct(s.ref_err, s.nref, 0.99);
    if (out->min_margin_us > 1e17)
        out->min_margin_us = 0;
    if (rounds_counted > 0) {
        out->mean_probes /= rounds_counted;
        out->mean_bound_us /= rounds_counted;
    }
    free(s.err);
    free(s.ref_err);
    clock_destroy(&s.ref);
    clock_destroy(&s.node);
    return 0;
}

void syncsim_print(const struct syncsim_scenario *sc, const struct syncsim_stats *st)
{
    printf("%-22s p50 %7.1f p99 %7.1f max %7.1f mean %+8.1f us | bound viol %zu/%zu min margin %8.1f"
           " | freq@10 %+7.2f max %6.2f ppm | probes %4.1f bound %8.1f rtt %7.1f | utc p99 %6.1f"
           " resets %d\n",
           sc->name, st->p50_us, st->p99_us, st->max_us, st->mean_us, st->bound_violations,
           st->bound_samples,
           st->min_margin_us, st->freq_err_ppm_at10, st->max_freq_err_ppm, st->mean_probes,
           st->mean_bound_us, st->rtt_min_us, st->ref_utc_p99_us, st->resets);
}
