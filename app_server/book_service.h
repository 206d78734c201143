/* book_service: the BOOK program, version 2 (REQUEST_BOOK, RESTART_SESSION, STATUS,
 * RELEASE_BOOK) over TCP.
 * The RPC loop never waits on the log: it checks the arguments, holds the call
 * (rpcdefer) and hands it to handout, which answers it once its entry is applied (the
 * answer is posted back to the loop). STATUS is answered at once from the replica. */
#ifndef AS_BOOK_SERVICE_H
#define AS_BOOK_SERVICE_H

#include "allow.h"
#include "book_rpc.h"
#include "clock.h"
#include "replica.h"

#include <stddef.h>
#include <stdint.h>

/* The procedures with arguments (the order of the tables in book_service.c). */
enum book_service_proc { BOOK_SERVICE_REQUEST, BOOK_SERVICE_RESTART, BOOK_SERVICE_RELEASE };

struct book_service_config {
    struct replica *replica;
    struct clock *clock;
    int instance;
    struct allow_list clients;  /* who may ask for and release books; empty: anyone */
};

/* Registers BOOK_PROG + instance (on the loop's thread). 0, or -1 with err. */
int book_service_start(const struct book_service_config *cfg, char *err, size_t errlen);

/* The checks on a decoded call's arguments, once its caller is let in: the key (NULL:
 * the call has none) is 16 bytes (copied to key_out), the attempt 1..10^6 and the client
 * time -1 or within a day (REQUEST only), the user 1..63 bytes of UTF-8 text, the session
 * not negative. BOOK_OK, or BOOK_ERR_BADARG with msg. No state: the dispatcher and the
 * fuzz target call the same. */
book_status book_service_check_args(enum book_service_proc proc, const char *user,
                                    const book_key *key, int attempt, int64_t client_time_us,
                                    int64_t session, unsigned char key_out[BOOK_KEY_LEN],
                                    char *msg, size_t len);

#endif
