/* probe: one round of Cristian probes of a remote clock, with as many probes as pay.
 * On a steady link min_probes (4) are as good as more: their round trips agree. When
 * the round trips scatter (jitter), every further probe can tighten the intersection
 * of cristian_combine, so probing goes on up to max_probes, within a time budget. If
 * the first probe fails, the peer is unreachable and the round ends there; a later one
 * that fails was lost on the way (the probes go over UDP, as NTP's do): the next goes
 * out after a short wait (a few of the round trips seen), and only three lost in a row
 * end the round, keeping what answered. The transport is a callback, so the daemons
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
    int timeout_ms;     /* the first probe's timeout (the later ones get less) */
};

#define PROBE_LOST_IN_A_ROW 3
/* A lost probe's wait: this many of the largest round trip seen, at least the floor. */
#define PROBE_LOST_RTTS 4
#define PROBE_LOST_FLOOR_MS 20

/* Probe number i, waiting at most timeout_ms: fill send_ns, recv_ns (monotonic) and
 * remote_us, the remote clock's target (time shown + what it still slews in). Returns
 * 0, or -1 with the reason in err. */
typedef int (*probe_call_fn)(void *ctx, int i, int timeout_ms, struct cristian_probe *p,
                             char *err, size_t errlen);

struct probe_result {
    struct cristian_round est;
    int answered;
    int lost;           /* probes that failed after the first answered */
    int64_t rtt_min_us, rtt_max_us;
};

void probe_plan_default(struct probe_plan *plan, int min_probes, int64_t budget_ns,
                        int timeout_ms);
/* Runs a round. local: the clock the offset is measured from (NULL: the monotonic
 * clock itself, for tools). probes: room for plan->max_probes. Returns 0, or -1 with
 * the reason in err when no probe answered. */
int probe_round(const struct probe_plan *plan, struct clock *local, probe_call_fn call,
                void *ctx, struct cristian_probe *probes, struct probe_result *out, char *err,
                size_t errlen);

/* The measurement a round gives the remote clock against the local one (the
 * coordinator's correction for a node): local - remote, both targets, with what the
 * local clock says of itself as the reference (clock_reference: what it still slews,
 * its own corrections, its claim). A coordinator slewing a correction of its own (UTC
 * moved) so takes its nodes with it instead of having them chase it a round behind,
 * and they follow its clock, not the points it is corrected to. age_us is 0: the
 * caller sets it when it sends the measurement. */
void probe_measurement(const struct probe_result *r, struct clock *local,
                       struct clock_measurement *m);

#endif
