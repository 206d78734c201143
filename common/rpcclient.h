/* rpcclient: client handles with explicit timeouts (never rpcgen's 25 s default) and
 * readable errors. A handle is used by one thread at a time. */
#ifndef BT_RPCCLIENT_H
#define BT_RPCCLIENT_H

#include <rpc/rpc.h>
#include <stdbool.h>
#include <stddef.h>

/* Looks prog/vers up through rpcbind on host and connects over netid ("tcp"/"udp").
 * Returns NULL with "host: why" in err. */
CLIENT *rpcclient_create(const char *host, rpcprog_t prog, rpcvers_t vers, const char *netid,
                         int timeout_ms, char *err, size_t errlen);
/* Should a kept handle be replaced before its next call? Between calls nothing should
 * arrive on its connection: readable or hung up means the server closed it (it
 * restarted, or was killed), or a late reply to a call that timed out waits there.
 * Either way the connection is no good. Check before reusing a handle: a call sent on
 * a closed connection fails, and a call that changes something (SETQUERY,
 * REQUEST_BOOK) cannot just be sent again. */
bool rpcclient_closed_by_peer(CLIENT *c);
/* "what failed: why" for a failed call on c. */
void rpcclient_error(CLIENT *c, enum clnt_stat st, const char *what, char *err, size_t errlen);

#endif
