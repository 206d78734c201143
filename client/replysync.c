#include "replysync.h"

#include "cristian.h"
#include "log.h"

#include <inttypes.h>

/* A book reply's round trip includes the wait for the replication log, so its bound
 * is milliseconds where a GETHOUR round has microseconds. It sets a clock that has no
 * better source yet (not synchronised, or nothing heard for a minute), and otherwise
 * stays out of the discipline's window. */
#define REPLYSYNC_STALE_NS (INT64_C(60) * 1000000000)

void replysync_apply(struct clock *clk, int64_t server_us, int64_t send_ns, int64_t recv_ns)
{
    struct clock_state st;
    clock_snapshot_at(clk, recv_ns, &st);
    if (st.synchronised && recv_ns - st.last_adjust_ns < REPLYSYNC_STALE_NS)
        return;
    struct cristian_probe p = {.ok = true, .send_ns = send_ns, .recv_ns = recv_ns,
                              .remote_us = server_us};
    struct cristian_estimate est;
    if (cristian_estimate(&p, 1, 0, &est) < 0)
        return;
    int64_t delta = cristian_delta(est.remote_at_recv_us, clock_target_at(clk, recv_ns));
    struct clock_measurement m = {.delta_us = delta,
                                  .bound_us = est.error_bound_us > 0 ? est.error_bound_us : 1};
    struct clock_correction corr;
    if (clock_correct_at(clk, &m, recv_ns, &corr) == CLOCK_OK)
        log_debug("sync", "offset to the server %+" PRId64 " us +/-%" PRId64 " us, %s", delta,
                  est.error_bound_us, clock_policy_name(corr.policy));
}

int64_t replysync_request_time(struct clock *clk)
{
    struct clock_state st;
    clock_snapshot(clk, &st);
    return st.synchronised && st.running ? st.time_us : -1;
}
