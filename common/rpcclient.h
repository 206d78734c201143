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
/* Is a kept handle's connection closed by the server (it restarted, or was killed)?
 * Between calls nothing may arrive on it, so readable or hung up means closed. Check
 * before reusing a handle: a call sent on such a connection fails, and a call that
 * changes something (SETQUERY, REQUEST_BOOK) cannot just be sent again. */
bool rpcclient_closed_by_peer(CLIENT *c);
/* "what failed: why" for a failed call on c. */
void rpcclient_error(CLIENT *c, enum clnt_stat st, const char *what, char *err, size_t errlen);

#endif
