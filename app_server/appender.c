#include "appender.h"

#include "clock.h"
#include "log.h"
#include "replop.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void appender_free_copies(struct appender_item *items, int n)
{
    for (int i = 0; i < n; i++)
        if (items[i].copied)
            replop_free(&items[i].op);
}

static void *appender_main(void *arg)
{
    struct appender_sender *me = arg;
    struct appender *a = me->a;
    struct appender_item batch[REPL_APPEND_MAX];
    repl_op ops[REPL_APPEND_MAX];
    for (;;) {
        pthread_mutex_lock(&a->lock);
        while (a->count == 0 && !a->stop)
            pthread_cond_wait(&a->cond, &a->lock);
        int n = a->count < REPL_APPEND_MAX ? a->count : REPL_APPEND_MAX;
        for (int i = 0; i < n; i++)
            batch[i] = a->queue[(a->head + i) % APPENDER_MAX_QUEUED];
        a->head = (a->head + n) % APPENDER_MAX_QUEUED;
        a->count -= n;
        bool stop = a->stop;
        /* More than one batch waits: the other sender takes the next one. */
        if (a->count > 0)
            pthread_cond_signal(&a->cond);
        pthread_mutex_unlock(&a->lock);
        if (stop) {
            if (n == 0)
                break;
            a->done(a->ctx, batch, n, -3, 0, "the server is stopping");
            appender_free_copies(batch, n);
            continue;
        }
        /* Those whose deadline passed while they waited are not sent (their callers
         * have their answer by now); the others go out in queue order. */
        int64_t now = clock_mono_ns();
        int late = 0, m = 0;
        struct appender_item lapsed[REPL_APPEND_MAX];
        for (int i = 0; i < n; i++) {
            if (batch[i].deadline_ns && now > batch[i].deadline_ns)
                lapsed[late++] = batch[i];
            else
                batch[m++] = batch[i];
        }
        if (late > 0) {
            a->done(a->ctx, lapsed, late, -4, 0, "queued too long, not sent");
            appender_free_copies(lapsed, late);
        }
        n = m;
        if (n == 0)
            continue;
        for (int i = 0; i < n; i++)
            ops[i] = batch[i].op;
        int64_t first = 0;
        char why[300] = "";
        int rc = replclient_append_many(&me->repl, a->instance, ops, (unsigned)n, &first, why,
                                        sizeof why);
        if (rc == 0) {
            pthread_mutex_lock(&a->lock);
            a->batches++;
            a->appended += n;
            pthread_mutex_unlock(&a->lock);
        } else {
            log_warn("append", "%d operation%s not appended: %s", n, n == 1 ? "" : "s", why);
        }
        a->done(a->ctx, batch, n, rc, first, why);
        appender_free_copies(batch, n);
    }
    return NULL;
}

int appender_start(struct appender *a, const char *repl_host, int instance, int rpc_timeout_ms,
                   appender_done_fn done, void *ctx, char *why, size_t len)
{
    memset(a, 0, sizeof *a);
    a->instance = instance;
    a->done = done;
    a->ctx = ctx;
    a->queue = calloc(APPENDER_MAX_QUEUED, sizeof *a->queue);
    if (!a->queue) {
        snprintf(why, len, "out of memory for the append queue");
        return -1;
    }
    pthread_mutex_init(&a->lock, NULL);
    pthread_cond_init(&a->cond, NULL);
    a->initialised = true;
    for (int i = 0; i < APPENDER_SENDERS; i++) {
        struct appender_sender *s = &a->sender[i];
        s->a = a;
        replclient_init(&s->repl, repl_host, rpc_timeout_ms);
        int rc = pthread_create(&s->thread, NULL, appender_main, s);
        if (rc != 0) {
            snprintf(why, len, "starting the appender: %s", strerror(rc));
            appender_stop(a);
            return -1;
        }
        s->started = true;
    }
    return 0;
}

void appender_stop(struct appender *a)
{
    if (!a->initialised)
        return;
    pthread_mutex_lock(&a->lock);
    a->stop = true;
    pthread_cond_broadcast(&a->cond);
    pthread_mutex_unlock(&a->lock);
    for (int i = 0; i < APPENDER_SENDERS; i++) {
        struct appender_sender *s = &a->sender[i];
        if (s->started)
            pthread_join(s->thread, NULL);
        s->started = false;
        replclient_close(&s->repl);
    }
    pthread_cond_destroy(&a->cond);
    pthread_mutex_destroy(&a->lock);
    free(a->queue);
    a->queue = NULL;
    a->initialised = false;
}

bool appender_submit(struct appender *a, const repl_op *op, void *owner, int64_t deadline_ns)
{
    struct appender_item it = {*op, owner, deadline_ns, false};
    if (!owner) {
        if (replop_copy(op, &it.op) < 0)
            return false;
        it.copied = true;
    }
    pthread_mutex_lock(&a->lock);
    bool ok = !a->stop && a->count < APPENDER_MAX_QUEUED;
    if (ok) {
        a->queue[(a->head + a->count) % APPENDER_MAX_QUEUED] = it;
        if (a->count++ == 0)
            pthread_cond_signal(&a->cond);
    }
    pthread_mutex_unlock(&a->lock);
    if (!ok && it.copied)
        replop_free(&it.op);
    return ok;
}
