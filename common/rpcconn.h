/* rpcconn: the RPC server's descriptors and connections.
 *
 * libtirpc's own loop polls every descriptor it knows at every call, so each idle
 * connection makes every call dearer, and nothing bounds how many a peer keeps open.
 * Here the loop waits with epoll: only ready descriptors come back, and each is served
 * with svc_getreq_common(). A connection libtirpc has just accepted is found in its
 * svc_pollfd table (the only place libtirpc's public interface shows it), counted
 * against its peer's cap and the process's cap, and stamped whenever it is ready;
 * past a cap, or idle too long with no call held on it (rpcdefer), it is shut down, and
 * libtirpc then destroys it the usual way when it reads the end of the stream.
 * Loop thread only. */
#ifndef BT_RPCCONN_H
#define BT_RPCCONN_H

#include <rpc/rpc.h>
#include <stdbool.h>
#include <stdint.h>

struct rpcconn_limits {
    int per_peer; /* connections one address may hold open */
    int total;    /* all connections (kept under libtirpc's own reaping threshold) */
    int idle_s;   /* a connection without input this long is closed */
};

#define RPCCONN_PER_PEER 256
#define RPCCONN_TOTAL 4096
#define RPCCONN_IDLE_S 120

/* Raises the descriptor limit to its maximum (libtirpc sizes its tables from it when it
 * makes its first transport) and makes the epoll set. Call before any transport. */
int rpcconn_init(void);
/* Replaces the defaults (0 keeps a field); the total is lowered to what the descriptor
 * limit allows. */
void rpcconn_set_limits(const struct rpcconn_limits *l);

/* A transport of ours (TCP listener or UDP), or the loop's wake-up pipe (x NULL). */
int rpcconn_add(int fd, SVCXPRT *x);
/* Stops watching a transport of ours before it is destroyed. */
void rpcconn_remove(int fd);

/* Waits up to timeout_ms (-1: no limit) and serves what is ready; *woken is set when
 * wake_fd was ready. Returns -1 on an epoll error (logged), else 0. */
int rpcconn_serve(int timeout_ms, int wake_fd, bool *woken);
/* Shuts connections idle past the limit; cheap to call often (works once a second). */
void rpcconn_sweep(void);
void rpcconn_shutdown(void);

#endif
