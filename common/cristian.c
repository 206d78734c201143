#include "cristian.h"

#include "clock.h"

#include <limits.h>

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
