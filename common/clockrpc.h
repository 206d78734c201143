/* clockrpc: a clock over RPC: what GETHOUR returns, Cristian probes of a remote clock
 * (TIME or CLOCK program), and pulling one's own clock to a remote one. */
#ifndef BT_CLOCKRPC_H
#define BT_CLOCKRPC_H

#include "clock.h"
#include "cristian.h"
#include "probe.h"
#include "time_rpc.h"

#include <stddef.h>

enum clockrpc_program { CLOCKRPC_TIME, CLOCKRPC_CLOCK };

struct clockrpc_probe {
    struct cristian_round est; /* offset = remote - local */
    struct clock_measurement m;/* of the remote against local (probe_measurement) */
    clock_reading reading;     /* the reading of the min-RTT probe */
    int answered;              /* probes that got a reply */
    int64_t rtt_min_us, rtt_max_us;
};

void clockrpc_reading(struct clock *c, clock_reading *out);
enum time_policy clockrpc_policy(enum clock_policy p);
const char *clockrpc_status_text(time_status st);

/* A round of GETHOUR probes on c (probe.h) measured from the clock local (NULL: the
 * monotonic clock). Returns 0, or -1 with the reason in err when no probe answered. */
int clockrpc_probe(CLIENT *c, enum clockrpc_program which, const struct probe_plan *plan,
                   struct clock *local, struct clockrpc_probe *out, char *err, size_t errlen);

/* Cristian in the classic direction: probe the remote clock and correct `own` with the
 * measurement (clock_correct). Returns 0 (delta and correction filled), or -1 with the
 * reason in err (unreachable, remote clock stopped, own clock stopped). */
int clockrpc_pull(struct clock *own, CLIENT *c, enum clockrpc_program which,
                  const struct probe_plan *plan, int64_t *delta_us,
                  struct clock_correction *corr, struct clockrpc_probe *probe, char *err,
                  size_t errlen);

#endif
