/* clockrpc: a clock over RPC: what GETHOUR returns, Cristian probes of a remote clock
 * (TIME or CLOCK program), and pulling one's own clock to a remote one. */
#ifndef BT_CLOCKRPC_H
#define BT_CLOCKRPC_H

#include "clock.h"
#include "cristian.h"
#include "probe.h"
#include "time_rpc.h"

#include <stdbool.h>
#include <stddef.h>

enum clockrpc_program { CLOCKRPC_TIME, CLOCKRPC_CLOCK };

struct clockrpc_probe {
    struct cristian_round est; /* offset = remote - local */
    struct clock_measurement m;/* of the remote against local (probe_measurement) */
    clock_reading reading;     /* the reading of the min-RTT probe */
    int answered;              /* probes that got a reply */
    int lost;                  /* probes lost after the first answered */
    int64_t rtt_min_us, rtt_max_us;
};

void clockrpc_reading(struct clock *c, clock_reading *out);
void clockrpc_reading_at(struct clock *c, int64_t mono_ns, clock_reading *out);
/* A reading off the wire is sane: a time within a day, slews and bounds within 12 h.
 * A probe or reply that is not counts as failed. */
bool clockrpc_reading_sane(const clock_reading *r);
/* What a remote clock's reading says of it, as the reference of a measurement. */
void clockrpc_reference(const clock_reading *r, struct clock_reference *out);
/* The coordinator's ADJUST for a measurement (round, and how long ago it was taken);
 * clocksvc_measurement is its other end. */
void clockrpc_adjust_args(const struct clock_measurement *m, uint64_t round, adjust_args *out);
enum time_policy clockrpc_policy(enum clock_policy p);
const char *clockrpc_status_text(time_status st);

/* A round of GETHOUR probes on c (probe.h; a UDP handle, so a lost probe costs only
 * its short wait) measured from the clock local (NULL: the monotonic clock). Returns
 * 0, or -1 with the reason in err when no probe answered. */
int clockrpc_probe(CLIENT *c, enum clockrpc_program which, const struct probe_plan *plan,
                   struct clock *local, struct clockrpc_probe *out, char *err, size_t errlen);

/* Cristian with one exchange that carried the remote's reading (JOIN's reply): the
 * remote's target (time shown + its slew) at the midpoint of send_ns..recv_ns corrects
 * own, bounded by half the round trip. Sets *delta_us and *bound_us; returns
 * clock_correct_at's result, CLOCK_ERR_RANGE for a reading that is not sane. */
enum clock_error clockrpc_correct_once(struct clock *own, const clock_reading *r, int64_t send_ns,
                                       int64_t recv_ns, int64_t *delta_us, int64_t *bound_us,
                                       struct clock_correction *out);

/* Cristian in the classic direction: probe the remote clock and correct `own` with the
 * measurement (clock_correct). Returns 0 (delta and correction filled), or -1 with the
 * reason in err (unreachable, remote clock stopped, own clock stopped). */
int clockrpc_pull(struct clock *own, CLIENT *c, enum clockrpc_program which,
                  const struct probe_plan *plan, int64_t *delta_us,
                  struct clock_correction *corr, struct clockrpc_probe *probe, char *err,
                  size_t errlen);

#endif
