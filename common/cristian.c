#include "cristian.h"

#include "clock.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>

/* A reply received before its request was sent is not a measurement (a caller mixed up
 * its instants); letting it win the minimum would make the error bound meaningless. */
static bool cristian_usable(const struct cristian_probe *p)
{
    return p->ok && p->recv_ns >= p->send_ns;
}

int cristian_pick(const struct cristian_probe *probes, size_t n)
{
    int best = -1;
    if (probes == NULL)
        return -1;
    for (size_t i = 0; i < n && i < (size_t)INT_MAX; i++) {
        if (!cristian_usable(&probes[i]))
            continue;
        /* Strictly smaller: on a tie the earlier probe stays. */
        if (best < 0 || probes[i].recv_ns - probes[i].send_ns <
                            probes[best].recv_ns - probes[best].send_ns)
            best = (int)i;
    }
    return best;
}

int cristian_estimate(const struct cristian_probe *probes, size_t n, int64_t min_one_way_us,
                      struct cristian_estimate *out)
{
    int i = cristian_pick(probes, n);
    if (i < 0)
        return -1;
    const struct cristian_probe *p = &probes[i];
    int64_t rtt_us = (p->recv_ns - p->send_ns) / 1000;
    int64_t half_us = rtt_us / 2;
    int64_t bound_us = half_us - min_one_way_us;
    *out = (struct cristian_estimate){
        .rtt_us = rtt_us,
        .recv_ns = p->recv_ns,
        .remote_at_recv_us = clock_wrap_time(p->remote_us + half_us),
        .error_bound_us = bound_us > 0 ? bound_us : 0,
        .probe_index = (size_t)i,
    };
    return 0;
}

int64_t cristian_delta(int64_t reference_us, int64_t estimate_us)
{
    return clock_wrap_delta(reference_us - estimate_us);
}

/* How far the offset may move in dt_ns: the largest rate difference. */
static double cristian_allowance(int64_t dt_ns)
{
    return (double)llabs(dt_ns) / 1000.0 * CRISTIAN_MAX_RATE_PPM * 1e-6;
}

/* The local clock's readings around a probe agree with the monotonic clock (within its
 * largest rate error): a clock set by hand or stepped between them makes the probe's
 * interval meaningless. */
static bool cristian_local_consistent(const struct cristian_probe *p)
{
    int64_t mono_us = (p->recv_ns - p->send_ns) / 1000;
    int64_t local_us = clock_wrap_delta(p->local_recv_us - p->local_send_us);
    return local_us >= 0 && llabs(local_us - mono_us) <= mono_us / 100 + 2;
}

int cristian_combine(const struct cristian_probe *probes, size_t n, struct cristian_round *out)
{
    int best = -1;
    for (size_t i = 0; i < n && i < (size_t)INT_MAX; i++)
        if (cristian_usable(&probes[i]) && cristian_local_consistent(&probes[i]) &&
            (best < 0 || probes[i].recv_ns - probes[i].send_ns <
                             probes[best].recv_ns - probes[best].send_ns))
            best = (int)i;
    if (best < 0)
        return -1;
    const struct cristian_probe *b = &probes[best];
    /* Every edge relative to the best probe's lower edge, so the sums stay small and
     * never meet midnight. */
    int64_t base = clock_wrap_delta(b->remote_us - b->local_recv_us);
    double lo = -INFINITY, hi = INFINITY, lo_w = -INFINITY, hi_w = INFINITY;
    int used = 0;
    for (size_t i = 0; i < n; i++) {
        const struct cristian_probe *p = &probes[i];
        if (!cristian_usable(p) || !cristian_local_consistent(p))
            continue;
        double low = (double)clock_wrap_delta(p->remote_us - p->local_recv_us - base);
        double high = (double)clock_wrap_delta(p->remote_us - p->local_send_us - base);
        int64_t far = llabs(b->recv_ns - p->send_ns) > llabs(b->recv_ns - p->recv_ns)
                          ? b->recv_ns - p->send_ns : b->recv_ns - p->recv_ns;
        double w = cristian_allowance(far);
        lo = fmax(lo, low);
        hi = fmin(hi, high);
        lo_w = fmax(lo_w, low - w);
        hi_w = fmin(hi_w, high + w);
        used++;
    }
    double est, bound, spread;
    if (lo_w > hi_w) {
        /* Inconsistent: the remote clock jumped during the round. The best probe alone,
         * with its own allowance (its local readings agree, checked above). */
        double high = (double)clock_wrap_delta(b->local_recv_us - b->local_send_us);
        est = high / 2;
        bound = spread = high / 2 + cristian_allowance(b->recv_ns - b->send_ns);
        used = 1;
    } else {
        est = lo <= hi ? (lo + hi) / 2 : (lo_w + hi_w) / 2;
        bound = fmax(est - lo_w, hi_w - est);
        spread = lo <= hi ? (hi - lo) / 2 : bound;
    }
    int64_t off = clock_wrap_delta(base + (int64_t)llround(est));
    *out = (struct cristian_round){
        .probes = used,
        .best = (size_t)best,
        .rtt_us = (b->recv_ns - b->send_ns) / 1000,
        .recv_ns = b->recv_ns,
        .local_at_recv_us = b->local_recv_us,
        .remote_at_recv_us = clock_wrap_time(b->local_recv_us + off),
        .offset_us = off,
        .error_bound_us = (int64_t)ceil(bound),
        .spread_us = (int64_t)ceil(spread),
    };
    return 0;
}
