#include "clockrpc.h"

#include "rpcclient.h"

#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

void clockrpc_reading(struct clock *c, clock_reading *out)
{
    clockrpc_reading_at(c, clock_mono_ns(), out);
}

void clockrpc_reading_at(struct clock *c, int64_t mono_ns, clock_reading *out)
{
    struct clock_state s;
    clock_snapshot_at(c, mono_ns, &s);
    memset(out, 0, sizeof *out);
    out->time_us = s.time_us;
    out->running = s.running;
    out->synchronised = s.synchronised;
    out->freq_corr_ppb = (quad_t)llround(s.freq_corr_ppm * 1000.0);
    out->slew_left_us = s.slew_left_us;
    out->error_bound_us = s.error_bound_us;
    out->bound_growth_ppb = (quad_t)llround(s.bound_growth_ppm * 1000.0);
    out->corrections_us = s.corrections_us;
    out->epoch = s.epoch;
}

bool clockrpc_reading_sane(const clock_reading *r)
{
    return r->time_us >= 0 && r->time_us < CLOCK_DAY_US && clock_within(r->slew_left_us, CLOCK_HALF_DAY_US) &&
           r->error_bound_us >= -1 && r->error_bound_us <= CLOCK_HALF_DAY_US &&
           r->bound_growth_ppb >= 0 && r->bound_growth_ppb <= INT64_C(1000000000) &&
           clock_within(r->corrections_us, CLOCK_HALF_DAY_US) && clock_within(r->freq_corr_ppb, INT64_C(1000000000));
}

void clockrpc_reference(const clock_reading *r, struct clock_reference *out)
{
    *out = (struct clock_reference){
        .slew_us = r->slew_left_us,
        .corrections_us = r->corrections_us,
        .freq_ppm = (double)r->freq_corr_ppb / 1000.0,
        .epoch = r->epoch,
        .bound_us = r->error_bound_us,
        .growth_ppm = (double)r->bound_growth_ppb / 1000.0,
    };
}

void clockrpc_adjust_args(const struct clock_measurement *m, uint64_t round, adjust_args *out)
{
    memset(out, 0, sizeof *out);
    out->delta_us = m->delta_us;
    out->round_id = round;
    out->error_bound_us = m->bound_us > 0 ? m->bound_us : 1;
    out->spread_us = m->spread_us;
    out->age_us = m->age_us;
    out->reference.slew_left_us = m->ref.slew_us;
    out->reference.corrections_us = m->ref.corrections_us;
    out->reference.freq_corr_ppb = (quad_t)llround(m->ref.freq_ppm * 1000.0);
    out->reference.epoch = m->ref.epoch;
    out->reference.error_bound_us = m->ref.bound_us;
    out->reference.bound_growth_ppb = (quad_t)llround(m->ref.growth_ppm * 1000.0);
    out->reference.running = true;
}

enum time_policy clockrpc_policy(enum clock_policy p)
{
    switch (p) {
    case CLOCK_POLICY_STEP:
        return TIME_POLICY_STEP;
    case CLOCK_POLICY_SLEW:
        return TIME_POLICY_SLEW;
    default:
        return TIME_POLICY_NONE;
    }
}

const char *clockrpc_status_text(time_status st)
{
    switch (st) {
    case TIME_OK:
        return "ok";
    case TIME_ERR_RANGE:
        return "out of range";
    case TIME_ERR_DENIED:
        return "not allowed";
    case TIME_ERR_STOPPED:
        return "clock being set by hand";
    case TIME_ERR_BADARG:
        return "bad argument";
    case TIME_ERR_INTERNAL:
        return "internal error";
    case TIME_ERR_AUTH:
        return "not authenticated";
    }
    return "unknown status";
}

static enum clnt_stat clockrpc_gethour(CLIENT *c, enum clockrpc_program which, clock_reading *r)
{
    return which == CLOCKRPC_TIME ? time_gethour_1(NULL, r, c) : clock_gethour_1(NULL, r, c);
}

struct clockrpc_call {
    CLIENT *c;
    enum clockrpc_program which;
    clock_reading readings[CRISTIAN_MAX_PROBES];
};

static void clockrpc_timeout(CLIENT *c, int ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    clnt_control(c, CLSET_TIMEOUT, (char *)&tv);
    /* A UDP handle would resend within the call; a lost probe is just lost. */
    clnt_control(c, CLSET_RETRY_TIMEOUT, (char *)&tv);
}

static int clockrpc_probe_one(void *ctx, int i, int timeout_ms, struct cristian_probe *p,
                              char *err, size_t errlen)
{
    struct clockrpc_call *call = ctx;
    clock_reading *r = &call->readings[i];
    clockrpc_timeout(call->c, timeout_ms);
    memset(r, 0, sizeof *r);
    p->send_ns = clock_mono_ns();
    enum clnt_stat st = clockrpc_gethour(call->c, call->which, r);
    p->recv_ns = clock_mono_ns();
    if (st != RPC_SUCCESS) {
        rpcclient_error(call->c, st, "GETHOUR", err, errlen);
        return -1;
    }
    if (!clockrpc_reading_sane(r)) {
        snprintf(err, errlen, "GETHOUR: the reply is out of range (time %lld us, slew %lld us)",
                 (long long)r->time_us, (long long)r->slew_left_us);
        return -1;
    }
    p->remote_us = clock_wrap_time(r->time_us + r->slew_left_us);
    return 0;
}

int clockrpc_probe(CLIENT *c, enum clockrpc_program which, const struct probe_plan *plan,
                   struct clock *local, struct clockrpc_probe *out, char *err, size_t errlen)
{
    struct clockrpc_call call = {.c = c, .which = which};
    struct cristian_probe probes[CRISTIAN_MAX_PROBES];
    struct probe_result res;
    memset(out, 0, sizeof *out);
    int rc = probe_round(plan, local, clockrpc_probe_one, &call, probes, &res, err, errlen);
    clockrpc_timeout(c, plan->timeout_ms > 0 ? plan->timeout_ms : 1000);
    out->answered = res.answered;
    out->lost = res.lost;
    if (rc < 0)
        return -1;
    out->est = res.est;
    out->reading = call.readings[res.est.best];
    probe_measurement(&res, local, &out->m);
    out->rtt_min_us = res.rtt_min_us;
    out->rtt_max_us = res.rtt_max_us;
    return 0;
}

int clockrpc_pull(struct clock *own, CLIENT *c, enum clockrpc_program which,
                  const struct probe_plan *plan, int64_t *delta_us,
                  struct clock_correction *corr, struct clockrpc_probe *probe, char *err,
                  size_t errlen)
{
    struct clock_state mine;
    clock_snapshot(own, &mine);
    if (!mine.running) {
        snprintf(err, errlen, "own clock is being set by hand");
        return -1;
    }
    if (clockrpc_probe(c, which, plan, own, probe, err, errlen) < 0)
        return -1;
    if (!probe->reading.running) {
        snprintf(err, errlen, "the remote clock is being set by hand");
        return -1;
    }
    /* Targets against targets; what the remote says of itself comes along. */
    struct clock_measurement m = {
        .delta_us = probe->est.offset_us,
        .bound_us = probe->est.error_bound_us > 0 ? probe->est.error_bound_us : 1,
        .spread_us = probe->est.spread_us};
    clockrpc_reference(&probe->reading, &m.ref);
    *delta_us = m.delta_us;
    enum clock_error e = clock_correct_at(own, &m, probe->est.recv_ns, corr);
    if (e == CLOCK_ERR_STOPPED) {
        snprintf(err, errlen, "own clock is being set by hand");
        return -1;
    }
    if (e != CLOCK_OK) {
        snprintf(err, errlen, "correction %lld us +/- %lld us refused: out of range",
                 (long long)*delta_us, (long long)m.bound_us);
        return -1;
    }
    return 0;
}

enum clock_error clockrpc_correct_once(struct clock *own, const clock_reading *r, int64_t send_ns,
                                       int64_t recv_ns, int64_t *delta_us, int64_t *bound_us,
                                       struct clock_correction *out)
{
    if (!clockrpc_reading_sane(r))
        return CLOCK_ERR_RANGE;
    struct cristian_probe p = {.ok = true, .send_ns = send_ns, .recv_ns = recv_ns,
                               .remote_us = clock_wrap_time(r->time_us + r->slew_left_us)};
    struct cristian_estimate est;
    if (cristian_estimate(&p, 1, 0, &est) < 0)
        return CLOCK_ERR_RANGE;
    *delta_us = cristian_delta(est.remote_at_recv_us, clock_target_at(own, recv_ns));
    *bound_us = est.error_bound_us > 0 ? est.error_bound_us : 1;
    struct clock_measurement m = {.delta_us = *delta_us, .bound_us = *bound_us};
    clockrpc_reference(r, &m.ref);
    return clock_correct_at(own, &m, recv_ns, out);
}
