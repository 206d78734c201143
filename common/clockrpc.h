/* clockrpc: a clock over RPC: what GETHOUR returns, Cristian probes of a remote clock
 * (TIME or CLOCK program), and pulling one's own clock to a remote one. */
#ifndef BT_CLOCKRPC_H
#define BT_CLOCKRPC_H

#include "clock.h"
#include "cristian.h"
#include "time_rpc.h"

#include <stddef.h>

enum clockrpc_program { CLOCKRPC_TIME, CLOCKRPC_CLOCK };

struct clockrpc_probe {
    struct cristian_estimate est;
    clock_reading reading;  /* the reading of the min-RTT probe */
    int answered;           /* probes that got a reply */
};

void clockrpc_reading(struct clock *c, clock_reading *out);
enum time_policy clockrpc_policy(enum clock_policy p);
const char *clockrpc_status_text(time_status st);

/* k GETHOUR calls on c; keeps the one with the smallest round trip. Returns 0, or -1
 * with the reason in err when no probe answered. */
int clockrpc_probe(CLIENT *c, enum clockrpc_program which, int k, struct clockrpc_probe *out,
                   char *err, size_t errlen);

/* Cristian in the classic direction: probe the remote clock and adjust `own` by the
 * difference. Returns 0 (delta and policy filled), or -1 with the reason in err
 * (unreachable, remote clock stopped, own clock stopped). */
int clockrpc_pull(struct clock *own, CLIENT *c, enum clockrpc_program which, int k,
                  int64_t *delta_us, enum clock_policy *policy, struct clockrpc_probe *probe,
                  char *err, size_t errlen);

#endif
