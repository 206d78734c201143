/* restarter: the app server window's "Restart" button: appends SESSION_OPEN (previous
 * session = the one the window showed) to the replication log on its own thread, waits
 * until the replica has applied it, and leaves a message for the window. */
#ifndef AS_RESTARTER_H
#define AS_RESTARTER_H

#include "replclient.h"
#include "replica.h"
#include "worker.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct restarter {
    struct replica *replica;
    int instance;
    struct replclient repl;     /* used by the thread only */
    pthread_mutex_t lock;       /* everything below */
    bool pending, busy, failed;
    int64_t prev;
    char message[120];          /* short, beside the button */
    char detail[400];           /* why it failed, "" if it did not */
    int64_t message_ns;         /* monotonic time the message was set */
    struct worker worker;
};

int restarter_start(struct restarter *r, struct replica *replica, int instance,
                    const char *repl_host, int rpc_timeout_ms);
void restarter_stop(struct restarter *r);
/* Asks for a new session after prev. False while the previous request is in progress. */
bool restarter_request(struct restarter *r, int64_t prev);

struct restarter_state {
    bool busy, failed;
    char message[120];          /* "" when there is nothing to say */
    char detail[400];           /* why it failed; "" if it did not */
    int64_t age_ms;             /* how long ago the message was set */
};
void restarter_state(struct restarter *r, struct restarter_state *out);

#endif
