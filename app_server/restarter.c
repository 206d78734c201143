#include "restarter.h"

#include "clock.h"
#include "log.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define RESTARTER_APPLY_WAIT_MS 5000  /* how long to wait for the replica to apply it */
#define RESTARTER_IDLE_MS 60000       /* nothing to do: woken by a request */

static void restarter_say(struct restarter *r, bool failed, const char *message,
                          const char *detail)
{
    pthread_mutex_lock(&r->lock);
    snprintf(r->message, sizeof r->message, "%s", message);
    snprintf(r->detail, sizeof r->detail, "%s", detail ? detail : "");
    r->failed = failed;
    r->message_ns = clock_mono_ns();
    pthread_mutex_unlock(&r->lock);
    if (failed)
        log_warn("window", "restart: %s: %s", message, detail ? detail : "");
    else
        log_info("window", "restart: %s", message);
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
    char msg[120];
    if (rc == -1) {
        restarter_say(r, true, "failed: replication log unavailable", why);
    } else if (rc < 0) {
        restarter_say(r, true, "failed: refused by the replication server", why);
    } else {
        /* Wait in short steps so closing the window is not held up. */
        int64_t end = clock_mono_ns() + (int64_t)RESTARTER_APPLY_WAIT_MS * 1000000;
        bool applied = false;
        while (!applied && !worker_stopping(&r->worker) && clock_mono_ns() < end)
            applied = replica_wait(r->replica, seq, 200) == 0;
        struct replica_status s;
        replica_status(r->replica, &s);
        if (!applied) {
            snprintf(msg, sizeof msg, "session %" PRId64 " not applied yet", seq);
            snprintf(why, sizeof why,
                     "the log has entry %" PRId64 ", this server applied up to %" PRId64 "%s%s", seq,
                     s.applied_seq, s.db_ok ? "" : "; ", s.db_ok ? "" : s.db_error);
            restarter_say(r, true, msg, why);
        } else if (s.session == seq) {
            snprintf(msg, sizeof msg, "new session opened (session %" PRId64 ")", seq);
            restarter_say(r, false, msg, NULL);
        } else {
            snprintf(msg, sizeof msg, "already renewed: session %" PRId64, s.session);
            restarter_say(r, false, msg, NULL);
        }
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
        r->detail[0] = '\0';
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
    snprintf(out->detail, sizeof out->detail, "%s", r->detail);
    out->age_ms = r->message[0] ? (clock_mono_ns() - r->message_ns) / 1000000 : 0;
    pthread_mutex_unlock(&r->lock);
}
