/* probe: one round of Cristian probes of a remote clock, with as many probes as pay.
 * On a steady link min_probes (4) are as good as more: their round trips agree. When
 * the round trips scatter (jitter), every further probe can tighten the intersection
 * of cristian_combine, so probing goes on up to max_probes, within a time budget. A
 * failed probe ends the round (a peer that timed out once would time out again and
 * hold the round), keeping what answered. The transport is a callback, so the daemons
 * (RPC) and the simulation (virtual time) run the same code. */
#ifndef BT_PROBE_H
#define BT_PROBE_H

#include "clock.h"
#include "cristian.h"

#include <stddef.h>
#include <stdint.h>

#define PROBE_DEFAULT_MIN 4
#define PROBE_DEFAULT_MAX 32
/* Round trips spreading more than this are jitter worth probing through. */
#define PROBE_DEFAULT_JITTER_US 50

struct probe_plan {
    int min_probes;
    int max_probes;     /* <= CRISTIAN_MAX_PROBES */
    int64_t jitter_us;
    int64_t budget_ns;  /* no probe starts once the round has run this long; 0: none */
};

/* Probe number i: fill send_ns, recv_ns (monotonic) and remote_us, the remote clock's
 * target (time shown + what it still slews in). Returns 0, or -1 with the reason in
 * err. */
typedef int (*probe_call_fn)(void *ctx, int i, struct cristian_probe *p, char *err,
                             size_t errlen);

struct probe_result {
    struct cristian_round est;
    int answered;
    int64_t rtt_min_us, rtt_max_us;
};

void probe_plan_default(struct probe_plan *plan, int min_probes, int64_t budget_ns);
/* Runs a round. local: the clock the offset is measured from (NULL: the monotonic
 * clock itself, for tools). probes: room for plan->max_probes. Returns 0, or -1 with
 * the reason in err when no probe answered. */
int probe_round(const struct probe_plan *plan, struct clock *local, probe_call_fn call,
                void *ctx, struct cristian_probe *probes, struct probe_result *out, char *err,
                size_t errlen);

/* The measurement a round gives the remote clock against the local one (the
 * coordinator's correction for a node): local - remote, both targets, with what the
 * local clock still slews in as the part the remote slews along. A coordinator slewing
 * a correction of its own (UTC moved) so takes its nodes with it instead of having
 * them chase it a round behind, and their measurements stay on one line. */
void probe_measurement(const struct probe_result *r, struct clock *local,
                       struct clock_measurement *m);

#endif
