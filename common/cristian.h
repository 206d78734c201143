/* cristian: the arithmetic of Cristian's algorithm, free of I/O.
 * A probe is one request/reply: monotonic send and receive instants and the remote
 * time of day it carried. The classic estimate keeps the probe with the smallest round
 * trip: the remote time at the receive instant is remote + rtt/2, with an error bound
 * of +/-(rtt/2 - min_one_way) (cristian_estimate).
 *
 * cristian_combine uses every probe of a round. Each says: the remote clock was read
 * somewhere between the request leaving and the reply arriving, so the offset
 * (remote - local) lies in [remote - local at receive, remote - local at send]. Every
 * interval holds the truth, so their intersection does too: its lower edge comes from
 * the probe whose reply came back fastest, its upper edge from the probe whose request
 * went out fastest, which need not be the same probe. On a jittery link that is much
 * tighter than any single probe, spikes only widen intervals (they cannot move the
 * intersection), and the bound stays a bound, not a statistic. Between probes the two
 * clocks may drift apart, so each interval is widened by the largest rate difference
 * over its distance from the reference instant; the estimate itself assumes none.
 * Readings should be where each clock is heading (clock_target_at: the time shown plus
 * what it still slews in), which moves at the clock's rate even while it slews. */
#ifndef BT_CRISTIAN_H
#define BT_CRISTIAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CRISTIAN_MAX_PROBES 64

/* Largest rate difference between two of our clocks: simulated drift and frequency
 * correction are each bounded by 1000 ppm, on both sides. */
#define CRISTIAN_MAX_RATE_PPM 4000.0

struct cristian_probe {
    bool ok;            /* false: the call failed, ignore this probe */
    int64_t send_ns;    /* monotonic, before the request */
    int64_t recv_ns;    /* monotonic, after the reply */
    int64_t remote_us;  /* remote time of day carried by the reply */
    /* For cristian_combine: the local clock at send_ns and recv_ns */
    int64_t local_send_us, local_recv_us;
};

/* A round of probes combined. */
struct cristian_round {
    int probes;               /* usable probes */
    size_t best;              /* the probe with the smallest round trip */
    int64_t rtt_us;           /* its round trip */
    int64_t recv_ns;          /* the instant the estimate is for: best's receive */
    int64_t local_at_recv_us; /* the local clock then */
    int64_t remote_at_recv_us;/* the remote clock then, estimated */
    int64_t offset_us;        /* remote - local, wrapped into (-12 h, +12 h] */
    int64_t error_bound_us;   /* |true offset - offset_us| <= this */
    int64_t spread_us;        /* half the width of the plain intersection (no rate
                                 allowance): how far this round's fastest probes were
                                 from the link's floor, i.e. how good the round was */
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
/* All usable probes of a round (their local_* fields filled). Returns -1 if none is
 * usable. */
int cristian_combine(const struct cristian_probe *probes, size_t n, struct cristian_round *out);
/* reference - estimate, wrapped into (-12 h, +12 h]: what the remote clock must add. */
int64_t cristian_delta(int64_t reference_us, int64_t estimate_us);

#endif
