/* book_service: the BOOK program, version 2 (REQUEST_BOOK, RESTART_SESSION, STATUS,
 * RELEASE_BOOK) over TCP.
 * The RPC loop never waits on the log: it checks the arguments, holds the call
 * (rpcdefer) and hands it to handout, which answers it once its entry is applied (the
 * answer is posted back to the loop). STATUS is answered at once from the replica. */
#ifndef AS_BOOK_SERVICE_H
#define AS_BOOK_SERVICE_H

#include "allow.h"
#include "clock.h"
#include "replica.h"

#include <stddef.h>

struct book_service_config {
    struct replica *replica;
    struct clock *clock;
    int instance;
    struct allow_list clients;  /* who may ask for and release books; empty: anyone */
};

/* Registers BOOK_PROG + instance (on the loop's thread). 0, or -1 with err. */
int book_service_start(const struct book_service_config *cfg, char *err, size_t errlen);

#endif
