/* appender: this app server's SETQUERYs. Request handlers queue an operation (with
 * whatever it belongs to); one thread sends everything queued in one SETQUERY of up to
 * REPL_APPEND_MAX operations, then reports the entry numbers, or the failure, of the
 * whole batch. APPENDER_SENDERS calls are in flight at most, and while they are out the
 * next batch gathers, so under load a round trip to the replication server and its
 * commit carry many requests, and quietly a request waits for no one. Batches sent at
 * once may be stored in either order (the requests in them do not depend on each
 * other). */
#ifndef AS_APPENDER_H
#define AS_APPENDER_H

#include "replclient.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define APPENDER_MAX_QUEUED 8192
/* Calls in flight at once, each on its own connection: while one waits for the
 * replication server's commit, the next batch goes out. */
#define APPENDER_SENDERS 2

struct appender_item {
    repl_op op;             /* with an owner, its strings must live until done() */
    void *owner;            /* handed back to done(); NULL: nobody waits, the op is a copy */
    int64_t deadline_ns;    /* CLOCK_MONOTONIC: not sent after this (0: no deadline) */
    bool copied;
};

/* Called on the appender's thread for each batch sent: rc 0, the operations are entries
 * first_seq, first_seq + 1, ...; rc -1, the replication server could not be reached or
 * could not store them, or its answer was lost (they may be stored); rc -2, refused (not
 * stored); rc -3, the appender stops (not sent); rc -4, their deadline passed while they
 * were queued (not sent). */
typedef void (*appender_done_fn)(void *ctx, const struct appender_item *items, int n, int rc,
                                 int64_t first_seq, const char *why);

struct appender_sender {
    struct appender *a;
    struct replclient repl;
    pthread_t thread;
    bool started;
};

struct appender {
    struct appender_sender sender[APPENDER_SENDERS];
    int instance;
    appender_done_fn done;
    void *ctx;
    bool initialised, stop;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct appender_item *queue;    /* APPENDER_MAX_QUEUED slots, a ring */
    int head, count;
    long batches, appended;         /* calls and operations sent with success */
};

int appender_start(struct appender *a, const char *repl_host, int instance, int rpc_timeout_ms,
                   appender_done_fn done, void *ctx, char *why, size_t len);
/* Reports whatever is still queued with rc -3, then stops. */
void appender_stop(struct appender *a);
/* Queues one operation (copied if owner is NULL: nobody keeps its strings alive), to be
 * sent before deadline_ns (0: whenever). False if the queue is full, the appender stops
 * or the copy found no memory. */
bool appender_submit(struct appender *a, const repl_op *op, void *owner, int64_t deadline_ns);

#endif
