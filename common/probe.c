#include "probe.h"

#include <stdio.h>
#include <string.h>

void probe_plan_default(struct probe_plan *plan, int min_probes, int64_t budget_ns)
{
    plan->min_probes = min_probes;
    plan->max_probes = min_probes > PROBE_DEFAULT_MAX ? min_probes : PROBE_DEFAULT_MAX;
    plan->jitter_us = PROBE_DEFAULT_JITTER_US;
    plan->budget_ns = budget_ns;
}

static int64_t probe_local_us(struct clock *local, int64_t mono_ns)
{
    return local ? clock_target_at(local, mono_ns) : clock_wrap_time(mono_ns / 1000);
}

static bool probe_more(const struct probe_plan *plan, const struct probe_result *r,
                       int64_t elapsed_ns)
{
    if (r->answered >= plan->max_probes)
        return false;
    if (plan->budget_ns > 0 && elapsed_ns >= plan->budget_ns)
        return r->answered < 1;
    if (r->answered < plan->min_probes)
        return true;
    return r->rtt_max_us - r->rtt_min_us > plan->jitter_us;
}

int probe_round(const struct probe_plan *plan, struct clock *local, probe_call_fn call,
                void *ctx, struct cristian_probe *probes, struct probe_result *out, char *err,
                size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (plan->min_probes < 1 || plan->max_probes < plan->min_probes ||
        plan->max_probes > CRISTIAN_MAX_PROBES) {
        snprintf(err, errlen, "probe count %d..%d outside 1..%d", plan->min_probes,
                 plan->max_probes, CRISTIAN_MAX_PROBES);
        return -1;
    }
    int n = 0;
    int64_t first_ns = 0;
    snprintf(err, errlen, "no probe sent");
    while (probe_more(plan, out, n ? probes[n - 1].recv_ns - first_ns : 0)) {
        struct cristian_probe *p = &probes[n];
        memset(p, 0, sizeof *p);
        int rc = call(ctx, n, p, err, errlen);
        if (n == 0)
            first_ns = p->send_ns;
        p->ok = rc == 0;
        n++;
        if (rc != 0)
            break;
        p->local_send_us = probe_local_us(local, p->send_ns);
        p->local_recv_us = probe_local_us(local, p->recv_ns);
        int64_t rtt = (p->recv_ns - p->send_ns) / 1000;
        if (out->answered == 0 || rtt < out->rtt_min_us)
            out->rtt_min_us = rtt;
        if (out->answered == 0 || rtt > out->rtt_max_us)
            out->rtt_max_us = rtt;
        out->answered++;
    }
    if (out->answered == 0 || cristian_combine(probes, (size_t)n, &out->est) < 0)
        return -1;
    return 0;
}

void probe_measurement(const struct probe_result *r, struct clock *local,
                       struct clock_measurement *m)
{
    int64_t slew = 0;
    if (local) {
        struct clock_state st;
        clock_snapshot_at(local, r->est.recv_ns, &st);
        slew = st.slew_left_us;
    }
    m->delta_us = clock_wrap_delta(-r->est.offset_us);
    m->bound_us = r->est.error_bound_us > 0 ? r->est.error_bound_us : 1;
    m->reference_slew_us = slew;
    m->spread_us = r->est.spread_us > 0 ? r->est.spread_us : 1;
}
