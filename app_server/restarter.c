#include "restarter.h"

#include "clock.h"
#include "log.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define RESTARTER_APPLY_WAIT_MS 5000  /* how long to wait for the replica to apply it */
#define RESTARTER_IDLE_MS 60000       /* nothing to do: woken by a request */

static void restarter_say(struct restarter *r, bool failed, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void restarter_say(struct restarter *r, bool failed, const char *fmt, ...)
{
    char msg[sizeof r->message];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&r->lock);
    snprintf(r->message, sizeof r->message, "%s", msg);
    r->failed = failed;
    r->message_ns = clock_mono_ns();
    pthread_mutex_unlock(&r->lock);
    if (failed)
        log_warn("window", "restart: %s", msg);
    else
        log_info("window", "restart: %s", msg);
}

static int restarter_job(void *arg)
{
    struct restarter *r = arg;
    pthread_mutex_lock(&r->lock);
    bool go = r->pending;
    int64_t prev = r->prev;
    r->pending = false;
    pthread_mutex_unlock(&r->lock);
    if (!go)
        return RESTARTER_IDLE_MS;

    repl_op op = {.kind = OP_SESSION_OPEN};
    op.repl_op_u.session_open.prev_session = prev;
    int64_t seq = 0;
    char why[300];
    int rc = replclient_append(&r->repl, r->instance, &op, &seq, why, sizeof why);
    if (rc == -1) {
        restarter_say(r, true, "replication server unreachable: %s", why);
    } else if (rc < 0) {
        restarter_say(r, true, "new session refused: %s", why);
    } else {
        /* Wait in short steps so closing the window is not held up. */
        int64_t end = clock_mono_ns() + (int64_t)RESTARTER_APPLY_WAIT_MS * 1000000;
        bool applied = false;
        while (!applied && !worker_stopping(&r->worker) && clock_mono_ns() < end)
            applied = replica_wait(r->replica, seq, 200) == 0;
        struct replica_status s;
        replica_status(r->replica, &s);
        if (!applied)
            restarter_say(r, true, "session %" PRId64 " asked for, not applied yet%s", seq,
                          s.db_ok ? "" : " (books DB unreachable)");
        else if (s.session == seq)
            restarter_say(r, false, "new session opened (session %" PRId64 ")", seq);
        else
            restarter_say(r, false, "a new session had already been opened (session %" PRId64 ")",
                          s.session);
    }
    pthread_mutex_lock(&r->lock);
    r->busy = false;
    pthread_mutex_unlock(&r->lock);
    return RESTARTER_IDLE_MS;
}

int restarter_start(struct restarter *r, struct replica *replica, int instance,
                    const char *repl_host, int rpc_timeout_ms)
{
    memset(r, 0, sizeof *r);
    r->replica = replica;
    r->instance = instance;
    replclient_init(&r->repl, repl_host ? repl_host : "localhost", rpc_timeout_ms);
    pthread_mutex_init(&r->lock, NULL);
    int rc = worker_start(&r->worker, restarter_job, r, RESTARTER_IDLE_MS);
    if (rc != 0) {
        pthread_mutex_destroy(&r->lock);
        replclient_close(&r->repl);
    }
    return rc;
}

void restarter_stop(struct restarter *r)
{
    worker_stop(&r->worker);
    replclient_close(&r->repl);
    pthread_mutex_destroy(&r->lock);
}

bool restarter_request(struct restarter *r, int64_t prev)
{
    pthread_mutex_lock(&r->lock);
    bool ok = !r->busy;
    if (ok) {
        r->busy = r->pending = true;
        r->prev = prev;
        r->failed = false;
        snprintf(r->message, sizeof r->message, "opening a new session...");
        r->message_ns = clock_mono_ns();
    }
    pthread_mutex_unlock(&r->lock);
    if (ok)
        worker_wake(&r->worker);
    return ok;
}

void restarter_state(struct restarter *r, struct restarter_state *out)
{
    pthread_mutex_lock(&r->lock);
    out->busy = r->busy;
    out->failed = r->failed;
    snprintf(out->message, sizeof out->message, "%s", r->message);
    out->age_ms = r->message[0] ? (clock_mono_ns() - r->message_ns) / 1000000 : 0;
    pthread_mutex_unlock(&r->lock);
}
