/* book_service: the BOOK program, version 2 (REQUEST_BOOK, RESTART_SESSION, STATUS,
 * RELEASE_BOOK) over TCP.
 * The RPC loop never waits on the log: it checks the arguments, holds the call
 * (rpcdefer) and queues it for a pool of worker threads (handout), which post the
 * finished reply back to the loop. STATUS is answered at once from the replica. */
#ifndef AS_BOOK_SERVICE_H
#define AS_BOOK_SERVICE_H

#include "allow.h"
#include "clock.h"
#include "replica.h"

#include <stddef.h>

#define BOOK_SERVICE_MAX_QUEUED 4096

struct book_service_config {
    struct replica *replica;
    struct clock *clock;
    int instance;
    const char *repl_host;
    const char *db_conninfo;
    int rpc_timeout_ms;
    int workers;
    struct allow_list clients;  /* who may ask for and release books; empty: anyone */
};

/* Starts the workers and registers BOOK_PROG + instance. 0, or -1 with err. */
int book_service_start(const struct book_service_config *cfg, char *err, size_t errlen);
/* Stops the workers (calls in progress finish and are answered; queued ones dropped). */
void book_service_stop(void);

#endif
