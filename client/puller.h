/* puller: the client's side of Cristian's algorithm in its classic direction: every TM
 * the client reads its app server's clock (CLOCK.GETHOUR, k probes, smallest round trip)
 * and corrects its own clock. Runs on its own thread with its own client handle. */
#ifndef CL_PULLER_H
#define CL_PULLER_H

#include "clock.h"
#include "probe.h"
#include "worker.h"

#include <pthread.h>
#include <rpc/rpc.h>
#include <stdbool.h>

struct puller_config {
    struct clock *clock;
    const char *server;
    unsigned long prog;
    int tm_ms;
    struct probe_plan plan;
    int rpc_timeout_ms;
};

struct puller {
    struct puller_config cfg;
    struct worker worker;
    CLIENT *clnt;
    unsigned failures;
    pthread_mutex_t lock;
    pthread_cond_t first_done;
    bool tried;           /* the first pull has finished, well or not */
};

int puller_start(struct puller *p, const struct puller_config *cfg);
/* Waits until the first pull has finished (at most timeout_ms): a request should not go
 * out with the clock's random start time. True if the clock is synchronised then. */
bool puller_wait_first(struct puller *p, int timeout_ms);
void puller_stop(struct puller *p);

#endif
