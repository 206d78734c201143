#include "replica.h"

#include "clock.h"
#include "log.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define REPLICA_BATCH REPL_BATCH_MAX
#define REPLICA_WAIT_MS 1000
#define REPLICA_RETRY_MS 200
#define REPLICA_FULL_WAIT_MS 20
/* 9999-12-31T23:59:59.999999Z: the last log time taken as one. */
#define REPLICA_LOG_TIME_MAX_US INT64_C(253402300799999999)

/* ---- the pendings ---- */

static struct replica_pending **replica_bucket(struct replica *r, int64_t seq)
{
    return &r->bucket[(uint64_t)seq % REPLICA_PENDING_BUCKETS];
}

/* Under the lock: the pending of entry seq, taken out of the table (NULL: none). */
static struct replica_pending *replica_take(struct replica *r, int64_t seq)
{
    for (struct replica_pending **pp = replica_bucket(r, seq); *pp; pp = &(*pp)->next)
        if ((*pp)->seq == seq) {
            struct replica_pending *p = *pp;
            *pp = p->next;
            p->next = NULL;
            r->pending--;
            return p;
        }
    return NULL;
}

/* Under the lock: p's entry is seq. Settled at once if it is applied already. */
static void replica_expect(struct replica *r, int64_t seq, struct replica_pending *p)
{
    p->seq = seq;
    if (seq <= r->state.applied_seq) {
        struct bookstate_outcome o;
        if (bookstate_outcome(&r->state, seq, &o))
            p->applied(p, &o);
        else
            p->failed(p, 0, "its entry was applied too long ago to be remembered");
        return;
    }
    struct replica_pending **b = replica_bucket(r, seq);
    p->next = *b;
    *b = p;
    r->pending++;
}

static void replica_wake_starved(struct replica *r);

/* The appender's report on a batch (its thread). */
static void replica_appended(void *ctx, const struct appender_item *items, int n, int rc,
                             int64_t first_seq, const char *why)
{
    struct replica *r = ctx;
    pthread_mutex_lock(&r->lock);
    for (int i = 0; i < n; i++) {
        struct replica_pending *p = items[i].owner;
        if (!p)
            continue;
        if (rc == 0)
            replica_expect(r, first_seq + i, p);
        else
            p->failed(p, rc, why);
    }
    /* A failed claim put its book back: whoever waits for a free book looks again. */
    if (rc != 0 && r->starved)
        replica_wake_starved(r);
    if (rc == 0 || rc == -1) {
        bool ok = rc == 0;
        if (ok != r->repl_ok)
            log_info("replica", "replication %s%s%s", ok ? "ok" : "down", ok ? "" : ": ", ok ? "" : why);
        r->repl_ok = ok;
        snprintf(r->repl_error, sizeof r->repl_error, "%s", ok ? "" : why);
    }
    pthread_mutex_unlock(&r->lock);
}

bool replica_append(struct replica *r, const repl_op *op, struct replica_pending *p,
                    int64_t deadline_ns)
{
    if (p)
        p->seq = 0;
    return appender_submit(&r->appender, op, p, deadline_ns);
}

void replica_wait_book(struct replica *r, struct replica_pending *p)
{
    p->seq = 0;
    p->next = r->starved;
    r->starved = p;
    r->pending++;
}

/* Under the lock: those waiting for a free book look again. */
static void replica_wake_starved(struct replica *r)
{
    struct replica_pending *p = r->starved;
    r->starved = NULL;
    while (p) {
        struct replica_pending *next = p->next;
        p->next = NULL;
        r->pending--;
        p->applied(p, NULL);
        p = next;
    }
}

/* Under the lock: takes out every pending for which expired(p) is true, into a list. */
static struct replica_pending *replica_take_if(struct replica *r,
                                               bool (*expired)(const struct replica_pending *, int64_t),
                                               int64_t now)
{
    struct replica_pending *out = NULL;
    for (int i = 0; i <= REPLICA_PENDING_BUCKETS; i++) {
        struct replica_pending **pp = i < REPLICA_PENDING_BUCKETS ? &r->bucket[i] : &r->starved;
        while (*pp) {
            struct replica_pending *p = *pp;
            if (expired(p, now)) {
                *pp = p->next;
                p->next = out;
                out = p;
                r->pending--;
            } else {
                pp = &p->next;
            }
        }
    }
    return out;
}

static bool replica_past_deadline(const struct replica_pending *p, int64_t now)
{
    return now > p->deadline_ns;
}

static bool replica_any(const struct replica_pending *p, int64_t now)
{
    (void)p;
    (void)now;
    return true;
}

static void replica_fail_all(struct replica_pending *p, int rc, const char *why)
{
    while (p) {
        struct replica_pending *next = p->next;
        p->next = NULL;
        p->failed(p, rc, why);
        p = next;
    }
}

void replica_sweep(struct replica *r)
{
    pthread_mutex_lock(&r->lock);
    if (r->pending > 0) {
        struct replica_pending *late = replica_take_if(r, replica_past_deadline, clock_mono_ns());
        replica_fail_all(late, 0, r->repl_ok ? "its entry is slow to come back from the log"
                                             : r->repl_error);
        /* Their books went back. */
        if (late && r->starved)
            replica_wake_starved(r);
    }
    pthread_mutex_unlock(&r->lock);
}

/* ---- applying ---- */

static void replica_set_repl(struct replica *r, bool ok, const char *why)
{
    pthread_mutex_lock(&r->lock);
    if (ok != r->repl_ok) {
        if (ok)
            log_info("replica", "replication ok");
        else
            log_error("replica", "replication unavailable: %s", why);
    }
    r->repl_ok = ok;
    snprintf(r->repl_error, sizeof r->repl_error, "%s", ok ? "" : why);
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->lock);
}

/* Applies a fetched batch in memory, entry by entry (each decision depends on the ones
 * before), settles the requests waiting for these entries, and hands the batch to the
 * DB writer. */
static int replica_apply(struct replica *r, getquery_reply *rep)
{
    int n = (int)rep->entries.entries_len;
    const repl_entry *e = rep->entries.entries_val;
    struct bookdb_entry *rows = calloc((size_t)n, sizeof *rows);
    if (!rows) {
        replclient_free(rep);
        replica_set_repl(r, false, "out of memory applying entries");
        return -1;
    }
    pthread_mutex_lock(&r->lock);
    for (int i = 0; i < n; i++) {
        struct bookstate_outcome o;
        bookstate_apply(&r->state, &e[i], &o, &rows[i]);
        struct replica_pending *p = e[i].origin == r->instance ? replica_take(r, e[i].seq) : NULL;
        if (p)
            p->applied(p, &o);
    }
    if (r->starved)
        replica_wake_starved(r);
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->lock);
    int64_t last = e[n - 1].seq;
    dbwriter_push(&r->writer, rep, rows, n); /* rep (and e) are the writer's now */
    log_debug("apply", "%d entries applied up to %" PRId64, n, last);
    return n;
}

/* The DB lost entries the writer no longer has: memory goes back to what the DB holds
 * and the log is applied again from there (deterministically, so to the same state:
 * the requests already answered keep their books). */
static int replica_reload(struct replica *r, char *why, size_t len)
{
    /* The DB is read without the lock (requests go on meanwhile), then installed. */
    struct bookstate_image im;
    if (!bookdb_ready(&r->db, why, len) || bookstate_read(&r->db, r->instance, &im, why, len) < 0)
        return -1;
    pthread_mutex_lock(&r->lock);
    bookstate_install(&r->state, &im);
    int64_t at = r->state.applied_seq;
    if (r->starved)
        replica_wake_starved(r);
    pthread_mutex_unlock(&r->lock);
    dbwriter_reset(&r->writer, at);
    log_info("replica", "state reloaded from the books DB at entry %" PRId64, at);
    return 0;
}

int replica_check_batch(const getquery_reply *rep, int64_t applied, char *why, size_t len)
{
    if (rep->last_seq < applied) {
        /* Seqs would be reused: claims could match outcomes of another log. */
        snprintf(why, len, "the log ends at %" PRId64 ", before this server's entry %" PRId64
                 " (was the replication DB reset without the books DBs?)", (int64_t)rep->last_seq,
                 applied);
        return -1;
    }
    int n = (int)rep->entries.entries_len;
    for (int i = 0; i < n; i++) {
        const repl_entry *e = &rep->entries.entries_val[i];
        if (e->seq != applied + 1 + i) {
            snprintf(why, len, "log entry %" PRId64 " came after %" PRId64, e->seq, applied + i);
            return -1;
        }
        /* The replication server stamps its clock; a time no clock shows is a broken
         * log (or reply), and applying would add to it: the ended sessions' key memory
         * counts in log time (found by test/fuzz/fuzz_getquery). */
        if (e->appended_at_us < 0 || e->appended_at_us > REPLICA_LOG_TIME_MAX_US) {
            snprintf(why, len, "log entry %" PRId64 " was stored at %" PRId64 " us since 1970, "
                     "outside 1970..9999", e->seq, (int64_t)e->appended_at_us);
            return -1;
        }
    }
    return 0;
}

/* One fetch-and-apply pass. Returns the number applied, or -1 after a failure. */
static int replica_pass(struct replica *r, int wait_ms)
{
    char why[400];
    if (dbwriter_gap(&r->writer) && replica_reload(r, why, sizeof why) < 0) {
        log_warn("replica", "reloading from the books DB: %s", why);
        return -1;
    }
    if (dbwriter_full(&r->writer)) {
        /* The DB is far behind (or down): memory waits for it. */
        struct timespec ts = {0, REPLICA_FULL_WAIT_MS * 1000000L};
        nanosleep(&ts, NULL);
        return 0;
    }
    pthread_mutex_lock(&r->lock);
    int64_t applied = r->state.applied_seq;
    pthread_mutex_unlock(&r->lock);
    getquery_reply rep;
    if (replclient_fetch(&r->repl, applied, REPLICA_BATCH, wait_ms, &rep, why, sizeof why) < 0) {
        replica_set_repl(r, false, why);
        return -1;
    }
    if (replica_check_batch(&rep, applied, why, sizeof why) < 0) {
        replclient_free(&rep);
        replica_set_repl(r, false, why);
        return -1;
    }
    int n = (int)rep.entries.entries_len;
    replica_set_repl(r, true, "");
    if (n == 0) {
        replclient_free(&rep);
        return 0;
    }
    return replica_apply(r, &rep);
}

static bool replica_sleep(struct replica *r, int ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_nsec += (long)ms * 1000000L;
    ts.tv_sec += ts.tv_nsec / 1000000000L;
    ts.tv_nsec %= 1000000000L;
    pthread_mutex_lock(&r->lock);
    while (!r->stop && pthread_cond_timedwait(&r->cond, &r->lock, &ts) != ETIMEDOUT)
        ;
    bool stop = r->stop;
    pthread_mutex_unlock(&r->lock);
    return stop;
}

static void *replica_main(void *arg)
{
    struct replica *r = arg;
    for (;;) {
        pthread_mutex_lock(&r->lock);
        bool stop = r->stop;
        pthread_mutex_unlock(&r->lock);
        if (stop)
            break;
        if (replica_pass(r, REPLICA_WAIT_MS) < 0 && replica_sleep(r, REPLICA_RETRY_MS))
            break;
    }
    return NULL;
}

/* ---- start-up ---- */

static int replica_catch_up(struct replica *r, bool (*stopping)(void), char *why, size_t len)
{
    unsigned failures = 0;
    while (!stopping()) {
        int n = replica_pass(r, 0);
        if (n == 0 && !dbwriter_full(&r->writer))
            return 0;
        if (n >= 0) {
            failures = 0;
            continue;
        }
        if (failures++ % 25 == 0) {
            char db_why[300];
            dbwriter_ok(&r->writer, db_why, sizeof db_why);
            log_warn("replica", "catching up at entry %" PRId64 ": %s%s%s; retrying",
                     r->state.applied_seq, r->repl_error, db_why[0] ? "; " : "", db_why);
        }
        struct timespec ts = {0, REPLICA_RETRY_MS * 1000000L};
        nanosleep(&ts, NULL);
    }
    snprintf(why, len, "stopped while catching up with the log");
    return -1;
}

int replica_start(struct replica *r, const char *db_conninfo, const char *repl_host,
                  int instance, int rpc_timeout_ms, bool (*stopping)(void), char *why, size_t len)
{
    memset(r, 0, sizeof *r);
    r->instance = instance;
    r->repl_ok = true;
    pthread_mutex_init(&r->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&r->cond, &attr);
    pthread_condattr_destroy(&attr);
    replclient_init(&r->repl, repl_host, rpc_timeout_ms);
    struct bookstate_image im;
    if (bookdb_open(&r->db, db_conninfo, why, len) < 0 ||
        bookstate_init(&r->state, instance, &r->db, why, len) < 0 ||
        bookstate_read(&r->db, instance, &im, why, len) < 0)
        return -1;
    bookstate_install(&r->state, &im);
    log_info("replica", "books DB at entry %" PRId64 ", session %" PRId64 ", %zu books; catching up",
             r->state.applied_seq, r->state.session, r->state.cat.count);
    if (dbwriter_start(&r->writer, db_conninfo, r->state.applied_seq, why, len) < 0)
        return -1;
    if (appender_start(&r->appender, repl_host, instance, rpc_timeout_ms, replica_appended, r,
                       why, len) < 0 ||
        replica_catch_up(r, stopping, why, len) < 0)
        return -1;
    int rc = pthread_create(&r->thread, NULL, replica_main, r);
    if (rc != 0) {
        snprintf(why, len, "starting the applier: %s", strerror(rc));
        return -1;
    }
    r->started = true;
    return 0;
}

void replica_stop(struct replica *r)
{
    pthread_mutex_lock(&r->lock);
    r->stop = true;
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->lock);
    if (r->started)
        pthread_join(r->thread, NULL);
    r->started = false;
    /* The appender reports what it still holds (rc -3), which takes the lock. */
    appender_stop(&r->appender);
    pthread_mutex_lock(&r->lock);
    replica_fail_all(replica_take_if(r, replica_any, 0), -3, "the server is stopping");
    pthread_mutex_unlock(&r->lock);
    dbwriter_stop(&r->writer);
    replclient_close(&r->repl);
    bookdb_close(&r->db);
    bookstate_free(&r->state);
    pthread_cond_destroy(&r->cond);
    pthread_mutex_destroy(&r->lock);
}

/* ---- what the rest of the server uses ---- */

void replica_status(struct replica *r, struct replica_status *out)
{
    memset(out, 0, sizeof *out);
    char db_why[400];
    out->db_ok = dbwriter_ok(&r->writer, db_why, sizeof db_why);
    snprintf(out->db_error, sizeof out->db_error, "%s", db_why);
    pthread_mutex_lock(&r->writer.lock);
    out->db_seq = r->writer.written_seq;
    pthread_mutex_unlock(&r->writer.lock);
    pthread_mutex_lock(&r->lock);
    const struct bookstate *s = &r->state;
    out->applied_seq = s->applied_seq;
    out->session = s->session;
    out->books_total = (int)s->cat.count;
    out->handed_out = bookstate_handed_out(s);
    out->books_left = out->books_total - out->handed_out;
    memcpy(out->by_server, s->by_server, sizeof out->by_server);
    out->users = s->users;
    out->repl_ok = r->repl_ok;
    snprintf(out->repl_error, sizeof out->repl_error, "%s", r->repl_error);
    out->session_closed = s->session_closed;
    out->last_book_id = s->last_book_id;
    snprintf(out->last_user, sizeof out->last_user, "%s", s->last_user);
    pthread_mutex_unlock(&r->lock);
}

int replica_wait(struct replica *r, int64_t seq, int timeout_ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += timeout_ms / 1000;
    ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    ts.tv_sec += ts.tv_nsec / 1000000000L;
    ts.tv_nsec %= 1000000000L;
    int rc = 0;
    pthread_mutex_lock(&r->lock);
    while (r->state.applied_seq < seq && !r->stop && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&r->cond, &r->lock, &ts);
    bool done = r->state.applied_seq >= seq;
    pthread_mutex_unlock(&r->lock);
    return done ? 0 : -1;
}

void replica_lock(struct replica *r)
{
    pthread_mutex_lock(&r->lock);
}

void replica_unlock(struct replica *r)
{
    pthread_mutex_unlock(&r->lock);
}
