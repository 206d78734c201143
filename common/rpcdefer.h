/* rpcdefer: replies sent after the dispatch function has returned.
 *
 * libtirpc's server side runs on one thread (rpcserver_loop). A call that must wait
 * (GETQUERY's long poll, SETQUERY until its entry is stored, REQUEST_BOOK until its
 * claim is applied) is held: the dispatch function returns at once, the loop goes on
 * serving other callers, and the reply is sent later, still on the loop's thread.
 * This works over TCP: a connection's reply takes the xid of the last call read on it,
 * and a client handle sends its next call on the connection only after this reply (or
 * after giving up, which this module detects: a new call on the connection, or the
 * connection closing, makes the held call dead and its reply is dropped).
 * Other threads hand work back to the loop with rpcdefer_post(). */
#ifndef BT_RPCDEFER_H
#define BT_RPCDEFER_H

#include <rpc/rpc.h>
#include <stdbool.h>

struct rpcdefer;

/* Holds the call being dispatched on x. NULL when x cannot carry a late reply (UDP). */
struct rpcdefer *rpcdefer_hold(SVCXPRT *x);
/* Loop thread only: sends the reply if the caller still waits for it, then frees d. */
void rpcdefer_reply(struct rpcdefer *d, xdrproc_t xres, void *res);
/* Loop thread only: false once the caller has gone or moved on. */
bool rpcdefer_alive(const struct rpcdefer *d);
/* Any thread: true once the caller has gone or moved on (no reply will reach it). */
bool rpcdefer_gone(struct rpcdefer *d);
/* Loop thread only: frees d without replying. */
void rpcdefer_drop(struct rpcdefer *d);

/* Any thread: runs fn(arg) on the loop's thread soon (wakes the loop). Returns -1 when
 * out of memory. */
int rpcdefer_post(void (*fn)(void *arg), void *arg);

/* For rpcserver: a new call arrived on x (held calls on x are dead) / run posted work. */
void rpcdefer_note_call(SVCXPRT *x);
void rpcdefer_run_posted(void);
/* For rpcconn: is a call held on the connection with this descriptor? */
bool rpcdefer_holds_fd(int fd);
/* Frees what is still posted or held at shutdown. */
void rpcdefer_shutdown(void);

#endif
