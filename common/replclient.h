/* replclient: an app server's calls to the replication server, one handle per thread
 * (libtirpc serialises calls per handle), reconnecting after a failure; every call
 * signed (callauth) as this handle's sender. */
#ifndef BT_REPLCLIENT_H
#define BT_REPLCLIENT_H

#include "callauth.h"
#include "replication_rpc.h"

#include <stddef.h>
#include <stdint.h>

struct replclient {
    char host[256];
    int timeout_ms;
    CLIENT *clnt;
    struct callauth_sender sender;  /* signs its SETQUERYs and GETQUERYs */
};

void replclient_init(struct replclient *rc, const char *host, int timeout_ms);
void replclient_close(struct replclient *rc);
/* SETQUERY of n operations (1..REPL_APPEND_MAX), stored as consecutive entries from
 * *first_seq on. 0: stored. -1: the replication server could not be reached or could
 * not store them, or the answer was lost (they may be stored) (why); -2: it refused
 * them, nothing stored (why). */
int replclient_append_many(struct replclient *rc, int origin, repl_op *ops, unsigned n,
                           int64_t *first_seq, char *why, size_t len);
/* SETQUERY of one operation: its entry in *seq. Returns as replclient_append_many. */
int replclient_append(struct replclient *rc, int origin, const repl_op *op, int64_t *seq,
                      char *why, size_t len);
/* GETQUERY, waiting up to wait_ms for an entry. 0: rep filled (free it with
 * replclient_free); -1: why. */
int replclient_fetch(struct replclient *rc, int64_t after, int max, int wait_ms,
                     getquery_reply *rep, char *why, size_t len);
void replclient_free(getquery_reply *rep);
/* The log's newest sequence number: 0, or -1 with why. */
int replclient_last_seq(struct replclient *rc, int64_t *last, char *why, size_t len);

#endif
