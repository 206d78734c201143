/* puller: the client's side of Cristian's algorithm in its classic direction: every TM
 * the client reads its app server's clock (CLOCK.GETHOUR, k probes, smallest round trip)
 * and corrects its own clock. Runs on its own thread with its own client handle. */
#ifndef CL_PULLER_H
#define CL_PULLER_H

#include "clock.h"
#include "worker.h"

#include <rpc/rpc.h>

struct puller_config {
    struct clock *clock;
    const char *server;
    unsigned long prog;
    int tm_ms;
    int probes;
    int rpc_timeout_ms;
};

struct puller {
    struct puller_config cfg;
    struct worker worker;
    CLIENT *clnt;
    unsigned failures;
};

int puller_start(struct puller *p, const struct puller_config *cfg);
void puller_stop(struct puller *p);

#endif
