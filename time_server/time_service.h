/* time_service: the TIME program (JOIN, GETHOUR) served by the coordinator. */
#ifndef TS_TIME_SERVICE_H
#define TS_TIME_SERVICE_H

#include "allow.h"
#include "clock.h"
#include "nodes.h"

#include <stddef.h>

struct time_service_config {
    struct clock *clock;
    struct nodes *nodes;
    struct allow_list allow;   /* who may JOIN */
    int tm_ms;
};

int time_service_start(const struct time_service_config *cfg, char *err, size_t errlen);

/* Checks a JOIN: name 1..63 of [A-Za-z0-9._-], host empty or a host name/address,
 * program in the user or transient range, version CLOCK_V1. Returns NULL or the reason. */
const char *time_service_check_join(const char *name, const char *host, unsigned long prog,
                                    unsigned long vers, char *why, size_t len);

#endif
