/* clocksvc: the CLOCK program (GETHOUR, ADJUST) that every adjustable node serves.
 * One per process; its dispatch runs on the rpcserver loop's thread. */
#ifndef BT_CLOCKSVC_H
#define BT_CLOCKSVC_H

#include "allow.h"
#include "clock.h"
#include "time_rpc.h"

#include <rpc/rpc.h>
#include <stdbool.h>
#include <stdint.h>

struct clocksvc_config {
    struct clock *clock;
    struct allow_list allow;   /* who may ADJUST */
    /* NULL: ADJUST accepted from allowed peers. Otherwise every ADJUST is refused
     * with this reason (a client pulls its time itself and takes no corrections). */
    const char *adjust_refusal;
};

/* What an ADJUST's arguments measure, checked: 0, or -1 with why (a field out of range,
 * a slew larger than the correction it is part of). */
int clocksvc_measurement(const adjust_args *a, struct clock_measurement *m, char *why,
                         size_t len);
/* Registers CLOCK at prog (CLOCK_PROG + instance). Returns 0 or -1 (err filled). */
int clocksvc_start(const struct clocksvc_config *cfg, rpcprog_t prog, char *err, size_t errlen);
/* Monotonic instant of the last GETHOUR or ADJUST from an allowed peer (0: none yet):
 * how a node tells that the time server still knows it, even while its clock is
 * stopped by hand and every round only reads it. */
int64_t clocksvc_last_contact_ns(void);

#endif
