/* joiner: announces this node to the time server with TIME.JOIN and sets the clock from
 * the reply (Cristian over the JOIN's round trip). Retries every second until the time
 * server answers, and joins again when no correction arrived for three rounds (the
 * time server restarted and forgot us). Runs on its own thread. */
#ifndef AS_JOINER_H
#define AS_JOINER_H

#include "clock.h"
#include "worker.h"

#include <stdbool.h>
#include <stdint.h>

struct joiner_config {
    struct clock *clock;
    const char *time_server;   /* host of the TIME program */
    const char *name;          /* this node's name */
    const char *advertise;     /* host the time server should call; "" = our address */
    unsigned long prog;        /* our CLOCK program number */
    int rpc_timeout_ms;
};

struct joiner {
    struct joiner_config cfg;
    struct worker worker;
    bool joined;
    int64_t joined_ns;
    int tm_ms;
    unsigned failures;
};

int joiner_start(struct joiner *j, const struct joiner_config *cfg);
void joiner_stop(struct joiner *j);

#endif
