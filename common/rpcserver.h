/* rpcserver: registration with rpcbind that refuses duplicates, and the daemon loop.
 *
 * libtirpc's server side is not thread-safe: every svc_* call stays on the thread that
 * runs rpcserver_loop(). The loop polls the RPC descriptors plus a self-pipe that signal
 * handlers write to, so SIGTERM/SIGINT end it promptly whichever thread took the signal,
 * and other signals (SIGUSR1, ...) run their handlers on the loop's thread. */
#ifndef BT_RPCSERVER_H
#define BT_RPCSERVER_H

#include "callauth.h"

#include <rpc/rpc.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

typedef void (*rpcserver_dispatch_fn)(struct svc_req *, SVCXPRT *);

#define RPCSERVER_TCP 1u
#define RPCSERVER_UDP 2u

/* Registers prog/vers over the transports in `netids` (RPCSERVER_TCP | RPCSERVER_UDP).
 * A registration left behind by a process that
 * no longer answers (killed with -9) is removed and logged; a live owner makes this
 * fail with a message naming the program. Returns 0 or -1 (err filled). */
int rpcserver_register(rpcprog_t prog, rpcvers_t vers, unsigned netids,
                       rpcserver_dispatch_fn fn, char *err, size_t errlen);
/* Removes every registration this process made (rpcb_unset) and closes its transports. */
void rpcserver_unregister_all(void);

/* SIGTERM and SIGINT stop the loop; SIGPIPE is ignored. Call before starting threads. */
int rpcserver_init_signals(void);
/* Runs fn(arg) on the loop's thread when sig arrives. */
int rpcserver_on_signal(int sig, void (*fn)(void *), void *arg);
void rpcserver_request_stop(void);
/* Any thread: makes the loop run its posted work (rpcdefer) now. */
void rpcserver_wake(void);
bool rpcserver_stopping(void);

/* Runs fn(arg) on the loop's thread about every tick_ms (for timeouts of held calls). */
void rpcserver_set_tick(int tick_ms, void (*fn)(void *), void *arg);

/* Serves until stopped (SIGTERM/SIGINT or rpcserver_request_stop()); runs the work other
 * threads post with rpcdefer_post(). */
void rpcserver_loop(void);

/* Decodes the call's arguments into args (zeroed first). On failure answers "cannot
 * decode", logs it under `what`, frees what was decoded and returns false. After
 * success the caller frees them with svc_freeargs once the reply is sent. */
bool rpcserver_decode(SVCXPRT *x, xdrproc_t xargs, void *args, size_t size, const char *what);

/* xdr_void with the argument list xdrproc_t expects (libtirpc declares it with none). */
bool_t rpcserver_xdr_void(XDR *xdrs, void *unused);

/* The caller's address (numeric) for logs and --allow checks; returns -1 if unknown. */
int rpcserver_caller(struct svc_req *rq, struct sockaddr_storage *out, char *text, size_t len);
/* The call's MAC (callauth_check for this call's program, version and procedure and its
 * caller). True if it passes; otherwise why is "what: reason (N refused so)" and the
 * refusal is logged (at most a few lines a second; the count says how many). */
bool rpcserver_authentic(struct svc_req *rq, xdrproc_t xargs, void *args, call_auth *auth,
                         const char *what, char *why, size_t len);
/* Has the caller of the call being dispatched on x closed its side of the connection
 * already (a client that gave up on a call this server read late, after a freeze)? */
bool rpcserver_caller_hung_up(SVCXPRT *x);

#endif
