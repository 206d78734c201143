/* puller: the client's side of Cristian's algorithm in its classic direction: every TM
 * the client reads the clock of the app server in use (CLOCK.GETHOUR, k probes, smallest
 * round trip) and corrects its own clock. Runs on its own thread with its own client
 * handle; when the requests move to another server it reconnects to that one's clock,
 * and when the clock of the server in use does not answer it moves on to the next. */
#ifndef CL_PULLER_H
#define CL_PULLER_H

#include "clock.h"
#include "failover.h"
#include "probe.h"
#include "worker.h"

#include <pthread.h>
#include <rpc/rpc.h>
#include <stdbool.h>

struct puller_config {
    struct clock *clock;
    struct failover_list *servers;  /* its in_use says whose clock to read */
    int tm_ms;
    struct probe_plan plan;
    int rpc_timeout_ms;
};

struct puller {
    struct puller_config cfg;
    struct worker worker;
    CLIENT *clnt;
    int server;           /* the server clnt reads (the puller thread's only) */
    unsigned failures;
    pthread_mutex_t lock;
    pthread_cond_t first_done;
    bool tried;           /* the first pull has finished, well or not */
};

int puller_start(struct puller *p, const struct puller_config *cfg);
/* Waits until the first pull has finished (at most timeout_ms): a request should not go
 * out with the clock's random start time. True if the clock is synchronised then. */
bool puller_wait_first(struct puller *p, int timeout_ms);
/* Any thread: the server in use changed; the next pull (now) reads its clock. */
void puller_follow(struct puller *p);
void puller_stop(struct puller *p);

#endif
