#include "replysync.h"

#include "cristian.h"
#include "log.h"

#include <inttypes.h>

void replysync_apply(struct clock *clk, int64_t server_us, int64_t send_ns, int64_t recv_ns)
{
    struct cristian_probe p = {true, send_ns, recv_ns, server_us};
    struct cristian_estimate est;
    if (cristian_estimate(&p, 1, 0, &est) < 0)
        return;
    int64_t delta = cristian_delta(est.remote_at_recv_us, clock_read_at(clk, recv_ns));
    enum clock_policy policy;
    if (clock_adjust(clk, delta, &policy) == CLOCK_OK)
        log_debug("sync", "offset to the server %+" PRId64 " us (rtt %" PRId64 " us), %s", delta,
                  est.rtt_us, clock_policy_name(policy));
}
