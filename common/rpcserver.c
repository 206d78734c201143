#include "rpcserver.h"

#include "allow.h"
#include "clock.h"
#include "log.h"
#include "rpcdefer.h"
#include "rpcclient.h"
#include "rpcconn.h"

#include <errno.h>
#include <fcntl.h>
#include <netconfig.h>
#include <poll.h>
#include <rpc/rpc_com.h>
#include <rpc/rpcb_clnt.h>
#include <signal.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RPCSERVER_MAX_REG 8
#define RPCSERVER_MAX_SIG 8

struct rpcserver_reg {
    rpcprog_t prog;
    rpcvers_t vers;
    rpcserver_dispatch_fn fn;
    SVCXPRT *xprt[2];
};

static struct rpcserver_reg rpcserver_regs[RPCSERVER_MAX_REG];
static size_t rpcserver_nregs;
static const char *const rpcserver_netids[2] = {"tcp", "udp"};

static int rpcserver_pipe[2] = {-1, -1};
static volatile sig_atomic_t rpcserver_stop_flag;
static struct {
    int sig;
    void (*fn)(void *);
    void *arg;
} rpcserver_sigs[RPCSERVER_MAX_SIG];
static size_t rpcserver_nsigs;
static int rpcserver_tick_ms = -1;
static void (*rpcserver_tick_fn)(void *);
static void *rpcserver_tick_arg;

/* A registration whose owner is gone refuses TCP connections; one that answers the
 * null procedure, or merely accepts, belongs to a live process. */
static bool rpcserver_owner_alive(rpcprog_t prog, rpcvers_t vers)
{
    char err[300];
    CLIENT *c = rpcclient_create("localhost", prog, vers, "tcp", 1000, err, sizeof err);
    if (!c)
        return strstr(err, "refused") == NULL && strstr(err, "not registered") == NULL;
    struct timeval call_tv = {0, 500000};
    enum clnt_stat st = clnt_call(c, NULLPROC, (xdrproc_t)rpcserver_xdr_void, NULL,
                                  (xdrproc_t)rpcserver_xdr_void, NULL, call_tv);
    clnt_destroy(c);
    return st != RPC_CANTSEND && st != RPC_CANTRECV && st != RPC_SYSTEMERROR;
}

/* Without a record bound libtirpc reads a TCP record with blocking reads: a peer that
 * sends half a request would hold the only RPC thread for its 35 s read timeout. With
 * one, connections are read non-blocking and records larger than this are refused. */
#define RPCSERVER_MAX_RECORD 65536

static SVCXPRT *rpcserver_create_xprt(const char *netid, char *err, size_t errlen)
{
    int maxrec = RPCSERVER_MAX_RECORD;
    rpc_control(RPC_SVC_CONNMAXREC_SET, &maxrec);
    struct netconfig *nconf = getnetconfigent(netid);
    if (!nconf) {
        snprintf(err, errlen, "no netconfig entry for %s", netid);
        return NULL;
    }
    SVCXPRT *x = svc_tli_create(RPC_ANYFD, nconf, NULL, 0, 0);
    freenetconfigent(nconf);
    if (!x) {
        snprintf(err, errlen, "cannot create %s transport", netid);
        return NULL;
    }
    if (rpcconn_add(x->xp_fd, x) < 0) {
        snprintf(err, errlen, "cannot watch the %s transport", netid);
        svc_destroy(x);
        return NULL;
    }
    return x;
}

/* Every call passes here first, so a call held on a connection (rpcdefer) learns that
 * its caller has moved on. */
static void rpcserver_trampoline(struct svc_req *rq, SVCXPRT *x)
{
    rpcdefer_note_call(x);
    for (size_t i = 0; i < rpcserver_nregs; i++)
        if (rpcserver_regs[i].prog == rq->rq_prog) {
            rpcserver_regs[i].fn(rq, x);
            return;
        }
    svcerr_noprog(x);
}

static bool rpcserver_reg_one(SVCXPRT *x, rpcprog_t prog, rpcvers_t vers, const char *netid)
{
    struct netconfig *nconf = getnetconfigent(netid);
    bool ok = nconf && svc_reg(x, prog, vers, rpcserver_trampoline, nconf);
    if (nconf)
        freenetconfigent(nconf);
    return ok;
}

static void rpcserver_destroy_xprt(SVCXPRT *x)
{
    rpcconn_remove(x->xp_fd);
    svc_destroy(x);
}

static void rpcserver_drop(struct rpcserver_reg *r)
{
    svc_unreg(r->prog, r->vers);
    for (int i = 0; i < 2; i++)
        if (r->xprt[i])
            rpcserver_destroy_xprt(r->xprt[i]);
}

int rpcserver_register(rpcprog_t prog, rpcvers_t vers, unsigned netids,
                       rpcserver_dispatch_fn fn, char *err, size_t errlen)
{
    if (rpcserver_nregs == RPCSERVER_MAX_REG) {
        snprintf(err, errlen, "too many registrations");
        return -1;
    }
    struct rpcserver_reg r = {prog, vers, fn, {NULL, NULL}};
    int registered = 0;
    for (int i = 0; i < 2; i++, registered++) {
        if (!(netids & (i == 0 ? RPCSERVER_TCP : RPCSERVER_UDP)))
            continue;
        r.xprt[i] = rpcserver_create_xprt(rpcserver_netids[i], err, errlen);
        if (!r.xprt[i])
            goto fail;
        if (rpcserver_reg_one(r.xprt[i], prog, vers, rpcserver_netids[i]))
            continue;
        if (i == 0 && !rpcserver_owner_alive(prog, vers)) {
            log_warn("rpc", "program %lu version %lu: removing a registration left by a process "
                     "that no longer answers", (unsigned long)prog, (unsigned long)vers);
            rpcb_unset(prog, vers, NULL);
            if (rpcserver_reg_one(r.xprt[i], prog, vers, rpcserver_netids[i]))
                continue;
        }
        snprintf(err, errlen,
                 "program %lu (0x%lx) version %lu is already registered with rpcbind over %s "
                 "by a running process (rpcinfo -p shows it; is this instance already running?)",
                 (unsigned long)prog, (unsigned long)prog, (unsigned long)vers,
                 rpcserver_netids[i]);
        goto fail;
    }
    rpcserver_regs[rpcserver_nregs++] = r;
    return 0;
fail:
    /* Only undo our own TCP registration; the UDP one (or all of them, when TCP failed)
     * belongs to another process. */
    if (registered > 0) {
        struct netconfig *tcp = getnetconfigent("tcp");
        if (tcp) {
            rpcb_unset(prog, vers, tcp);
            freenetconfigent(tcp);
        }
    }
    for (int i = 0; i < 2; i++)
        if (r.xprt[i])
            rpcserver_destroy_xprt(r.xprt[i]);
    return -1;
}

void rpcserver_unregister_all(void)
{
    rpcdefer_shutdown();
    while (rpcserver_nregs > 0)
        rpcserver_drop(&rpcserver_regs[--rpcserver_nregs]);
    rpcconn_shutdown();
}

static void rpcserver_signal_handler(int sig)
{
    int saved = errno;
    if (sig == SIGTERM || sig == SIGINT)
        rpcserver_stop_flag = 1;
    unsigned char b = (unsigned char)sig;
    if (write(rpcserver_pipe[1], &b, 1) < 0) {
        /* The pipe is full: the loop is already awake and will see the flag. */
    }
    errno = saved;
}

void rpcserver_wake(void)
{
    /* 0 is no signal: it only wakes the loop, which then runs the posted work. */
    rpcserver_signal_handler(0);
}

static int rpcserver_catch(int sig)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = rpcserver_signal_handler;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    return sigaction(sig, &sa, NULL);
}

int rpcserver_init_signals(void)
{
    if (rpcconn_init() < 0)
        return -1;
    if (pipe2(rpcserver_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
        log_error("signals", "pipe: %s", strerror(errno));
        return -1;
    }
    if (rpcconn_add(rpcserver_pipe[0], NULL) < 0)
        return -1;
    signal(SIGPIPE, SIG_IGN);
    if (rpcserver_catch(SIGTERM) < 0 || rpcserver_catch(SIGINT) < 0) {
        log_error("signals", "sigaction: %s", strerror(errno));
        return -1;
    }
    return 0;
}

int rpcserver_on_signal(int sig, void (*fn)(void *), void *arg)
{
    if (rpcserver_nsigs == RPCSERVER_MAX_SIG || rpcserver_catch(sig) < 0)
        return -1;
    rpcserver_sigs[rpcserver_nsigs].sig = sig;
    rpcserver_sigs[rpcserver_nsigs].fn = fn;
    rpcserver_sigs[rpcserver_nsigs].arg = arg;
    rpcserver_nsigs++;
    return 0;
}

void rpcserver_request_stop(void)
{
    rpcserver_signal_handler(SIGTERM);
}

bool rpcserver_stopping(void)
{
    return rpcserver_stop_flag != 0;
}

static void rpcserver_drain_signals(void)
{
    unsigned char buf[64];
    ssize_t n;
    while ((n = read(rpcserver_pipe[0], buf, sizeof buf)) > 0)
        for (ssize_t i = 0; i < n; i++)
            for (size_t k = 0; k < rpcserver_nsigs; k++)
                if (rpcserver_sigs[k].sig == buf[i])
                    rpcserver_sigs[k].fn(rpcserver_sigs[k].arg);
}

void rpcserver_set_tick(int tick_ms, void (*fn)(void *), void *arg)
{
    rpcserver_tick_ms = tick_ms;
    rpcserver_tick_fn = fn;
    rpcserver_tick_arg = arg;
}

void rpcserver_loop(void)
{
    while (!rpcserver_stop_flag) {
        bool woken;
        if (rpcconn_serve(rpcserver_tick_ms, rpcserver_pipe[0], &woken) < 0)
            break;
        if (woken)
            rpcserver_drain_signals();
        rpcdefer_run_posted();
        if (rpcserver_tick_fn)
            rpcserver_tick_fn(rpcserver_tick_arg);
        rpcconn_sweep();
    }
}

bool rpcserver_decode(SVCXPRT *x, xdrproc_t xargs, void *args, size_t size, const char *what)
{
    memset(args, 0, size);
    if (svc_getargs(x, xargs, args))
        return true;
    log_warn(what, "undecodable arguments (a string over its bound, or an unknown operation?)");
    svcerr_decode(x);
    svc_freeargs(x, xargs, args);
    return false;
}

bool_t rpcserver_xdr_void(XDR *xdrs, void *unused)
{
    (void)xdrs;
    (void)unused;
    return TRUE;
}

bool rpcserver_authentic(struct svc_req *rq, xdrproc_t xargs, void *args, call_auth *auth,
                         const char *what, char *why, size_t len)
{
    struct sockaddr_storage ss;
    char who[64];
    bool known = rpcserver_caller(rq, &ss, who, sizeof who) == 0;
    char reason[200];
    if (callauth_check(rq->rq_prog, rq->rq_vers, rq->rq_proc, xargs, args, auth,
                       known ? (struct sockaddr *)&ss : NULL, reason, sizeof reason) == CALLAUTH_OK)
        return true;
    snprintf(why, len, "%s refused: %s", what, reason);
    static struct log_rate rate;
    if (log_rate_ok(&rate, 5))
        log_warn("auth", "from %s: %s", who, why);
    return false;
}

bool rpcserver_caller_hung_up(SVCXPRT *x)
{
    if (x->xp_fd < 0)
        return false;
    struct pollfd p = {.fd = x->xp_fd, .events = POLLRDHUP};
    return poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

int rpcserver_caller(struct svc_req *rq, struct sockaddr_storage *out, char *text, size_t len)
{
    struct netbuf *nb = svc_getrpccaller(rq->rq_xprt);
    if (!nb || !nb->buf || nb->len == 0 || nb->len > sizeof *out) {
        snprintf(text, len, "(unknown caller)");
        return -1;
    }
    memset(out, 0, sizeof *out);
    memcpy(out, nb->buf, nb->len);
    allow_format((const struct sockaddr *)out, text, len);
    return 0;
}
