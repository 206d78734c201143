#include "probe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void probe_plan_default(struct probe_plan *plan, int min_probes, int64_t budget_ns,
                        int timeout_ms)
{
    plan->min_probes = min_probes;
    plan->max_probes = min_probes > PROBE_DEFAULT_MAX ? min_probes : PROBE_DEFAULT_MAX;
    plan->jitter_us = PROBE_DEFAULT_JITTER_US;
    plan->budget_ns = budget_ns;
    plan->timeout_ms = timeout_ms;
}

static int64_t probe_local_us(struct clock *local, int64_t mono_ns)
{
    return local ? clock_target_at(local, mono_ns) : clock_wrap_time(mono_ns / 1000);
}

static bool probe_more(const struct probe_plan *plan, const struct probe_result *r,
                       int64_t elapsed_ns)
{
    if (r->answered >= plan->max_probes || r->answered + r->lost >= CRISTIAN_MAX_PROBES)
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
    int n = 0, in_a_row = 0;
    int64_t first_ns = 0, last_ns = 0;
    snprintf(err, errlen, "no probe sent");
    while (probe_more(plan, out, n ? last_ns - first_ns : 0)) {
        struct cristian_probe *p = &probes[n];
        memset(p, 0, sizeof *p);
        int timeout = plan->timeout_ms > 0 ? plan->timeout_ms : 1000;
        if (out->answered > 0) {
            int64_t lost_ms = out->rtt_max_us * PROBE_LOST_RTTS / 1000;
            timeout = (int)(lost_ms < PROBE_LOST_FLOOR_MS ? PROBE_LOST_FLOOR_MS
                            : lost_ms < timeout ? lost_ms : timeout);
        }
        int rc = call(ctx, n, timeout, p, err, errlen);
        if (n == 0)
            first_ns = p->send_ns;
        last_ns = p->recv_ns > p->send_ns ? p->recv_ns : p->send_ns + (int64_t)timeout * 1000000;
        p->ok = rc == 0;
        n++;
        if (rc != 0) {
            /* The first: unreachable. Later ones: lost, unless three in a row. */
            if (out->answered == 0 || ++in_a_row >= PROBE_LOST_IN_A_ROW)
                break;
            out->lost++;
            continue;
        }
        in_a_row = 0;
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
    memset(m, 0, sizeof *m);
    if (local) {
        struct clock_state st;
        clock_snapshot_at(local, r->est.recv_ns, &st);
        clock_reference_of(&st, &m->ref);
    }
    m->delta_us = clock_wrap_delta(-r->est.offset_us);
    m->bound_us = r->est.error_bound_us > 0 ? r->est.error_bound_us : 1;
    m->spread_us = r->est.spread_us > 0 ? r->est.spread_us : 1;
}
