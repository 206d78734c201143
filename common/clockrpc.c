#include "clockrpc.h"

#include "rpcclient.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void clockrpc_reading(struct clock *c, clock_reading *out)
{
    struct clock_state s;
    clock_snapshot(c, &s);
    memset(out, 0, sizeof *out);
    out->time_us = s.time_us;
    out->running = s.running;
    out->synchronised = s.synchronised;
    out->freq_corr_ppb = (quad_t)llround(s.freq_corr_ppm * 1000.0);
    out->slew_left_us = s.slew_left_us;
    out->error_bound_us = s.error_bound_us;
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

static int clockrpc_probe_one(void *ctx, int i, struct cristian_probe *p, char *err, size_t errlen)
{
    struct clockrpc_call *call = ctx;
    clock_reading *r = &call->readings[i];
    memset(r, 0, sizeof *r);
    p->send_ns = clock_mono_ns();
    enum clnt_stat st = clockrpc_gethour(call->c, call->which, r);
    p->recv_ns = clock_mono_ns();
    if (st != RPC_SUCCESS) {
        rpcclient_error(call->c, st, "GETHOUR", err, errlen);
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
    out->answered = res.answered;
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
    /* Targets against targets; the remote's own slew is followed, not stepped. */
    struct clock_measurement m = {
        .delta_us = probe->est.offset_us,
        .bound_us = probe->est.error_bound_us > 0 ? probe->est.error_bound_us : 1,
        .reference_slew_us = probe->reading.slew_left_us,
        .spread_us = probe->est.spread_us};
    *delta_us = m.delta_us;
    enum clock_error e = clock_correct_at(own, &m, probe->est.recv_ns, corr);
    if (e == CLOCK_ERR_STOPPED) {
        snprintf(err, errlen, "own clock is being set by hand");
        return -1;
    }
    if (e != CLOCK_OK) {
        snprintf(err, errlen, "correction %lld us refused", (long long)*delta_us);
        return -1;
    }
    return 0;
}
