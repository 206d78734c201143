/* cristian: the arithmetic of Cristian's algorithm, free of I/O.
 * A probe is one request/reply: monotonic send and receive instants and the remote
 * time of day it carried. Keep the probe with the smallest round trip; the remote time
 * at the receive instant is estimated as remote + rtt/2, with an error bound of
 * +/-(rtt/2 - min_one_way). */
#ifndef BT_CRISTIAN_H
#define BT_CRISTIAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CRISTIAN_DEFAULT_PROBES 4
#define CRISTIAN_MAX_PROBES 64

struct cristian_probe {
    bool ok;            /* false: the call failed, ignore this probe */
    int64_t send_ns;    /* monotonic, before the request */
    int64_t recv_ns;    /* monotonic, after the reply */
    int64_t remote_us;  /* remote time of day carried by the reply */
};

struct cristian_estimate {
    int64_t rtt_us;
    int64_t recv_ns;          /* monotonic instant the estimate refers to */
    int64_t remote_at_recv_us;/* remote + rtt/2, wrapped into a day */
    int64_t error_bound_us;   /* rtt/2 - min_one_way, never negative */
    size_t probe_index;
};

/* Index of the successful probe with the smallest round trip, or -1 if none succeeded. */
int cristian_pick(const struct cristian_probe *probes, size_t n);
/* Estimate from the min-RTT probe; returns -1 if no probe succeeded. */
int cristian_estimate(const struct cristian_probe *probes, size_t n, int64_t min_one_way_us,
                      struct cristian_estimate *out);
/* reference - estimate, wrapped into (-12 h, +12 h]: what the remote clock must add. */
int64_t cristian_delta(int64_t reference_us, int64_t estimate_us);

#endif
