#include "rpcdefer.h"

#include "log.h"
#include "rpcserver.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct rpcdefer {
    SVCXPRT *xprt;          /* NULL once dead (loop thread only) */
    atomic_bool gone;       /* the same, for other threads */
    struct rpcdefer *next;
};

struct rpcdefer_job {
    void (*fn)(void *);
    void *arg;
    struct rpcdefer_job *next;
};

/* Loop-thread state: held calls and the wrapped transport operations. */
static struct rpcdefer *rpcdefer_held;
static struct xp_ops rpcdefer_ops;
static const struct xp_ops *rpcdefer_orig_ops;

/* Posted work, from any thread. */
static pthread_mutex_t rpcdefer_lock = PTHREAD_MUTEX_INITIALIZER;
static struct rpcdefer_job *rpcdefer_head, *rpcdefer_tail;

static void rpcdefer_kill(SVCXPRT *x)
{
    for (struct rpcdefer *d = rpcdefer_held; d; d = d->next)
        if (d->xprt == x) {
            d->xprt = NULL;
            atomic_store(&d->gone, true);
        }
}

/* Connection transports are destroyed by libtirpc when the peer closes: the held calls
 * on them must not be answered through a freed transport. */
static void rpcdefer_destroy(SVCXPRT *x)
{
    rpcdefer_kill(x);
    rpcdefer_orig_ops->xp_destroy(x);
}

static bool rpcdefer_is_stream(SVCXPRT *x)
{
    int type = 0;
    socklen_t len = sizeof type;
    return getsockopt(x->xp_fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type == SOCK_STREAM;
}

static bool rpcdefer_watch(SVCXPRT *x)
{
    if (x->xp_ops == &rpcdefer_ops)
        return true;
    if (!rpcdefer_orig_ops) {
        rpcdefer_orig_ops = x->xp_ops;
        rpcdefer_ops = *x->xp_ops;
        rpcdefer_ops.xp_destroy = rpcdefer_destroy;
    }
    if (x->xp_ops != rpcdefer_orig_ops)
        return false;
    x->xp_ops = &rpcdefer_ops;
    return true;
}

struct rpcdefer *rpcdefer_hold(SVCXPRT *x)
{
    if (!rpcdefer_is_stream(x) || !rpcdefer_watch(x))
        return NULL;
    struct rpcdefer *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->xprt = x;
    d->next = rpcdefer_held;
    rpcdefer_held = d;
    return d;
}

bool rpcdefer_alive(const struct rpcdefer *d)
{
    return d->xprt != NULL;
}

bool rpcdefer_gone(struct rpcdefer *d)
{
    return atomic_load(&d->gone);
}

void rpcdefer_drop(struct rpcdefer *d)
{
    for (struct rpcdefer **p = &rpcdefer_held; *p; p = &(*p)->next)
        if (*p == d) {
            *p = d->next;
            break;
        }
    free(d);
}

void rpcdefer_reply(struct rpcdefer *d, xdrproc_t xres, void *res)
{
    if (d->xprt && !svc_sendreply(d->xprt, xres, res))
        log_warn("rpc", "sending a held reply failed");
    rpcdefer_drop(d);
}

bool rpcdefer_holds_fd(int fd)
{
    for (struct rpcdefer *d = rpcdefer_held; d; d = d->next)
        if (d->xprt && d->xprt->xp_fd == fd)
            return true;
    return false;
}

void rpcdefer_note_call(SVCXPRT *x)
{
    rpcdefer_kill(x);
}

int rpcdefer_post(void (*fn)(void *arg), void *arg)
{
    struct rpcdefer_job *j = malloc(sizeof *j);
    if (!j)
        return -1;
    j->fn = fn;
    j->arg = arg;
    j->next = NULL;
    pthread_mutex_lock(&rpcdefer_lock);
    bool was_empty = !rpcdefer_tail;
    if (rpcdefer_tail)
        rpcdefer_tail->next = j;
    else
        rpcdefer_head = j;
    rpcdefer_tail = j;
    pthread_mutex_unlock(&rpcdefer_lock);
    /* A queue that was not empty has its wake-up on the way already: the loop takes the
     * whole queue after it wakes, so one write per batch of posts is enough. */
    if (was_empty)
        rpcserver_wake();
    return 0;
}

void rpcdefer_run_posted(void)
{
    pthread_mutex_lock(&rpcdefer_lock);
    struct rpcdefer_job *j = rpcdefer_head;
    rpcdefer_head = rpcdefer_tail = NULL;
    pthread_mutex_unlock(&rpcdefer_lock);
    while (j) {
        struct rpcdefer_job *next = j->next;
        j->fn(j->arg);
        free(j);
        j = next;
    }
}

void rpcdefer_shutdown(void)
{
    rpcdefer_run_posted();
    while (rpcdefer_held)
        rpcdefer_drop(rpcdefer_held);
}
