#include "replica.h"

#include "clock.h"
#include "log.h"
#include "replop.h"

#include <errno.h>
#include <inttypes.h>
#include <search.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define REPLICA_BATCH 512
#define REPLICA_WAIT_MS 1000
#define REPLICA_RETRY_MS 200

struct replica_user {
    int64_t id;
    char key[REPL_NAME_MAX + REPL_ADDR_MAX + 2];   /* "name\taddress" */
};

static int replica_user_cmp(const void *a, const void *b)
{
    return strcmp(((const struct replica_user *)a)->key, ((const struct replica_user *)b)->key);
}

static int replica_id_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void replica_user_key(char *key, size_t len, const char *name, const char *address)
{
    snprintf(key, len, "%s\t%s", name, address);
}

static int64_t replica_user_id(struct replica *r, const char *name, const char *address)
{
    struct replica_user probe;
    replica_user_key(probe.key, sizeof probe.key, name, address);
    struct replica_user **found = tfind(&probe, &r->users, replica_user_cmp);
    return found ? (*found)->id : 0;
}

static void replica_add_user(void *ctx, int64_t id, const char *name, const char *address)
{
    struct replica *r = ctx;
    struct replica_user *u = calloc(1, sizeof *u);
    if (!u)
        return;
    u->id = id;
    replica_user_key(u->key, sizeof u->key, name, address);
    struct replica_user **slot = tsearch(u, &r->users, replica_user_cmp);
    if (!slot || *slot != u)
        free(u);
}

static void replica_serve_user(struct replica *r, int64_t user_id)
{
    int64_t *id = malloc(sizeof *id);
    if (!id)
        return;
    *id = user_id;
    int64_t **slot = tsearch(id, &r->session_users, replica_id_cmp);
    if (slot && *slot == id)
        r->st.users++;
    else
        free(id);
}

static void replica_new_session(struct replica *r, int64_t session)
{
    catalogue_new_session(&r->cat);
    keymap_clear(&r->keys);
    tdestroy(r->session_users, free);
    r->session_users = NULL;
    r->st.session = session;
    r->st.session_closed = false;
    r->st.users = 0;
    memset(r->st.by_server, 0, sizeof r->st.by_server);
}

static void replica_take(struct replica *r, int book_id, int server, int64_t user_id)
{
    catalogue_take(&r->cat, book_id);
    if (server >= 1 && server < REPLICA_SERVERS)
        r->st.by_server[server]++;
    replica_serve_user(r, user_id);
}

/* The key's entry; NULL (logged) only without memory, and then the key is not kept:
 * a retry of it could take a second book, so say it loudly. */
static struct keymap_entry *replica_key_put(struct replica *r, const unsigned char *key)
{
    struct keymap_entry *k = keymap_put(&r->keys, key);
    if (!k)
        log_error("replica", "out of memory keeping a request key");
    return k;
}

static void replica_load_request(void *ctx, const struct bookdb_request *q)
{
    struct replica *r = ctx;
    if (!q->released)
        replica_take(r, q->book_id, q->server, q->user_id);
    struct keymap_entry *k = replica_key_put(r, q->key);
    if (k) {
        k->book_id = q->released ? 0 : q->book_id;
        k->seq = q->id;
        k->origin = q->server;
        k->released = q->released;
        snprintf(k->user, sizeof k->user, "%s", q->user);
    }
    if (!q->released)
        r->cat.taken_seq[q->book_id] = q->id;
}

static void replica_load_dead_key(void *ctx, const unsigned char *key, const char *user)
{
    struct keymap_entry *k = replica_key_put(ctx, key);
    if (k) {
        k->released = true;
        snprintf(k->user, sizeof k->user, "%s", user);
    }
}

/* ---- applying one entry: decide on memory, write the DB, then change memory ---- */

struct replica_decision {
    bool applies;      /* changes the state (a winning claim, an opening session ...) */
    enum replica_result result;   /* claims and releases */
    int book_id;
    int64_t user_id;
    bool new_user;
    int64_t release_of;           /* a release that frees: the claim it frees */
    int free_origin;              /* ... and the server that had handed it out */
    int64_t taker;                /* HELD: the claim that took the key's book */
};

static const char *replica_release_outcome(enum replica_result r)
{
    switch (r) {
    case REPLICA_FREED: return "freed";
    case REPLICA_NOTHING: return "nothing held";
    case REPLICA_ALREADY: return "already released";
    case REPLICA_SESSION_OVER: return "session over";
    default: return "other user";
    }
}

static void replica_decide_claim(struct replica *r, const repl_entry *e, struct replica_decision *d)
{
    const op_book_claim *c = &e->op.repl_op_u.book_claim;
    const struct catalogue_book *b = catalogue_by_isbn(&r->cat, c->isbn);
    const struct keymap_entry *k = keymap_find(&r->keys, (const unsigned char *)c->key);
    d->book_id = b ? b->id : 0;
    if (c->session != r->st.session || !b) {
        d->result = REPLICA_LOST;
    } else if (k && k->released) {
        d->result = REPLICA_GIVEN_UP;
    } else if (k && k->book_id) {
        /* A retry of a request already served: no second book, the first one again. */
        d->result = REPLICA_HELD;
        d->book_id = k->book_id;
        d->taker = k->seq;
    } else {
        d->result = r->cat.taken[b->id] ? REPLICA_LOST : REPLICA_WON;
    }
    d->applies = d->result == REPLICA_WON;
    d->user_id = replica_user_id(r, c->user, c->address);
    d->new_user = d->user_id == 0;
    if (d->new_user)
        d->user_id = e->seq;
}

static void replica_decide_release(struct replica *r, const repl_op *op, struct replica_decision *d)
{
    const op_book_release *rel = &op->repl_op_u.book_release;
    const struct keymap_entry *k = keymap_find(&r->keys, (const unsigned char *)rel->key);
    if (rel->session != 0 && rel->session != r->st.session)
        d->result = REPLICA_SESSION_OVER;
    else if (r->st.session == 0)
        d->result = REPLICA_SESSION_OVER;
    else if (k && strcmp(k->user, rel->user) != 0)
        d->result = REPLICA_OTHER_USER;
    else if (k && k->released)
        d->result = REPLICA_ALREADY;
    else if (k && k->book_id) {
        d->result = REPLICA_FREED;
        d->book_id = k->book_id;
        d->release_of = k->seq;
        d->free_origin = k->origin;
    } else {
        d->result = REPLICA_NOTHING;
    }
    d->applies = d->result == REPLICA_FREED || d->result == REPLICA_NOTHING;
}

static void replica_decide(struct replica *r, const repl_entry *e, struct replica_decision *d)
{
    memset(d, 0, sizeof *d);
    d->result = REPLICA_UNKNOWN;
    const repl_op *op = &e->op;
    switch (op->kind) {
    case OP_USER_SEEN:
        d->new_user = replica_user_id(r, op->repl_op_u.user_seen.name,
                                      op->repl_op_u.user_seen.address) == 0;
        d->applies = d->new_user;
        break;
    case OP_SESSION_OPEN:
        d->applies = op->repl_op_u.session_open.prev_session == r->st.session;
        break;
    case OP_BOOK_CLAIM:
        replica_decide_claim(r, e, d);
        break;
    case OP_SESSION_CLOSE:
        d->applies = op->repl_op_u.session_close.session == r->st.session;
        break;
    case OP_BOOK_RELEASE:
        replica_decide_release(r, op, d);
        break;
    }
}

static void replica_db_entry(const repl_entry *e, const struct replica_decision *d,
                             struct bookdb_entry *out)
{
    const repl_op *op = &e->op;
    struct bookdb_entry be = {.seq = e->seq, .kind = replop_kind_name(op->kind),
                              .applies = d->applies, .at_us = e->appended_at_us,
                              .origin = e->origin, .user_id = d->user_id,
                              .new_user = d->new_user, .client_time_us = -1,
                              .server_time_us = -1};
    switch (op->kind) {
    case OP_USER_SEEN:
        be.name = op->repl_op_u.user_seen.name;
        be.address = op->repl_op_u.user_seen.address;
        break;
    case OP_SESSION_OPEN:
        be.prev = op->repl_op_u.session_open.prev_session;
        break;
    case OP_BOOK_CLAIM:
        be.session = op->repl_op_u.book_claim.session;
        be.name = op->repl_op_u.book_claim.user;
        be.address = op->repl_op_u.book_claim.address;
        be.book_id = d->book_id;
        be.isbn = op->repl_op_u.book_claim.isbn;
        be.client_time_us = op->repl_op_u.book_claim.client_time_us;
        be.server_time_us = op->repl_op_u.book_claim.server_time_us;
        be.key = (const unsigned char *)op->repl_op_u.book_claim.key;
        break;
    case OP_SESSION_CLOSE:
        be.session = op->repl_op_u.session_close.session;
        break;
    case OP_BOOK_RELEASE:
        /* Recorded whatever its outcome, under the session it met (a DBA sees them all). */
        be.session = op->repl_op_u.book_release.session ? op->repl_op_u.book_release.session : 0;
        be.name = op->repl_op_u.book_release.user;
        be.key = (const unsigned char *)op->repl_op_u.book_release.key;
        be.release_of = d->release_of;
        be.outcome = replica_release_outcome(d->result);
        break;
    }
    *out = be;
}

static void replica_remember(struct replica *r, const repl_entry *e, const struct replica_decision *d)
{
    const repl_op *op = &e->op;
    if (op->kind == OP_USER_SEEN && d->new_user)
        replica_add_user(r, e->seq, op->repl_op_u.user_seen.name, op->repl_op_u.user_seen.address);
    if (op->kind == OP_SESSION_OPEN && d->applies)
        replica_new_session(r, e->seq);
    if (op->kind == OP_SESSION_CLOSE && d->applies)
        r->st.session_closed = true;
    if (op->kind == OP_BOOK_CLAIM && d->applies) {
        const op_book_claim *c = &op->repl_op_u.book_claim;
        if (d->new_user)
            replica_add_user(r, d->user_id, c->user, c->address);
        replica_take(r, d->book_id, e->origin, d->user_id);
        r->cat.taken_seq[d->book_id] = e->seq;
        struct keymap_entry *k = replica_key_put(r, (const unsigned char *)c->key);
        if (k) {
            k->book_id = d->book_id;
            k->seq = e->seq;
            k->origin = e->origin;
            snprintf(k->user, sizeof k->user, "%s", c->user);
        }
        if (e->origin == r->instance) {
            r->st.last_book_id = d->book_id;
            snprintf(r->st.last_user, sizeof r->st.last_user, "%s", c->user);
        }
    }
    if (op->kind == OP_BOOK_RELEASE && d->applies) {
        const op_book_release *rel = &op->repl_op_u.book_release;
        struct keymap_entry *k = replica_key_put(r, (const unsigned char *)rel->key);
        if (k) {
            k->released = true;
            k->book_id = 0;
            snprintf(k->user, sizeof k->user, "%s", rel->user);
        }
        if (d->result == REPLICA_FREED) {
            catalogue_release(&r->cat, d->book_id);
            if (d->free_origin >= 1 && d->free_origin < REPLICA_SERVERS)
                r->st.by_server[d->free_origin]--;
        }
    }
    if (op->kind == OP_BOOK_CLAIM || op->kind == OP_BOOK_RELEASE) {
        struct replica_outcome *o = &r->outcome[e->seq % REPLICA_OUTCOMES];
        *o = (struct replica_outcome){.seq = e->seq, .result = d->result, .book_id = d->book_id,
                                      .taker = d->result == REPLICA_WON ? e->seq : d->taker};
    }
}

/* Under the lock: wakes the waiters whose entry is applied (all of them with `all`). */
static void replica_wake(struct replica *r, bool all)
{
    for (int i = 0; i < REPLICA_WAITERS; i++)
        if (r->waiter[i].used && (all || r->waiter[i].seq <= r->st.applied_seq))
            pthread_cond_signal(&r->waiter[i].cond);
    if (all || r->fallback_waiters > 0)
        pthread_cond_broadcast(&r->cond);
}

/* Applies a fetched batch: decides and changes memory entry by entry (each decision
 * depends on the ones before), writes the batch in one transaction and one round trip,
 * then publishes the position the DB reached and wakes the requests waiting for it. If
 * the DB did not take it, memory is ahead of the DB: the next pass rebuilds memory from
 * the DB (r->reload) and applies the batch again. Returns how many were applied. */
static int replica_apply(struct replica *r, const repl_entry *e, int n, char *why, size_t len)
{
    struct bookdb_entry *be = calloc((size_t)n, sizeof *be);
    if (!be) {
        snprintf(why, len, "out of memory");
        return 0;
    }
    pthread_mutex_lock(&r->lock);
    for (int i = 0; i < n; i++) {
        struct replica_decision d;
        replica_decide(r, &e[i], &d);
        replica_remember(r, &e[i], &d);
        replica_db_entry(&e[i], &d, &be[i]);
    }
    pthread_mutex_unlock(&r->lock);
    int done = bookdb_apply(&r->db, be, n, why, len);
    free(be);
    pthread_mutex_lock(&r->lock);
    if (done > 0)
        r->st.applied_seq = e[done - 1].seq;
    replica_wake(r, false);
    pthread_mutex_unlock(&r->lock);
    if (done < n)
        r->reload = true;
    log_debug("apply", "%d of %d entries applied up to %" PRId64, done, n, r->st.applied_seq);
    return done;
}

/* ---- the applier loop ---- */

static void replica_set_health(struct replica *r, bool db_ok, const char *db_why, bool repl_ok,
                               const char *repl_why)
{
    pthread_mutex_lock(&r->lock);
    if (r->st.db_ok != db_ok || r->st.repl_ok != repl_ok) {
        if (!db_ok && r->st.db_ok)
            log_error("replica", "%s", db_why);
        if (!repl_ok && r->st.repl_ok)
            log_error("replica", "replication unavailable: %s", repl_why);
        if ((db_ok && !r->st.db_ok) || (repl_ok && !r->st.repl_ok))
            log_info("replica", "database %s, replication %s", db_ok ? "ok" : "down",
                     repl_ok ? "ok" : "down");
    }
    r->st.db_ok = db_ok;
    r->st.repl_ok = repl_ok;
    snprintf(r->st.db_error, sizeof r->st.db_error, "%s", db_ok ? "" : db_why);
    snprintf(r->st.repl_error, sizeof r->st.repl_error, "%s", repl_ok ? "" : repl_why);
    replica_wake(r, true);
    pthread_mutex_unlock(&r->lock);
}

static int replica_load_state(struct replica *r, char *why, size_t len);

/* One fetch-and-apply pass. Returns the number applied, or -1 after a failure. */
static int replica_pass(struct replica *r, int wait_ms)
{
    char why[400];
    if (!bookdb_ready(&r->db, why, sizeof why)) {
        replica_set_health(r, false, why, r->st.repl_ok, "");
        return -1;
    }
    if (r->reload) {
        if (replica_load_state(r, why, sizeof why) < 0) {
            replica_set_health(r, false, why, r->st.repl_ok, "");
            return -1;
        }
        r->reload = false;
        log_info("replica", "state reloaded from the books DB at entry %" PRId64, r->st.applied_seq);
    }
    getquery_reply rep;
    if (replclient_fetch(&r->repl, r->st.applied_seq, REPLICA_BATCH, wait_ms, &rep, why,
                         sizeof why) < 0) {
        /* Say what is down: the replication server, and the DB too if it is. */
        char db_why[400] = "";
        bool db_ok = bookdb_ping(&r->db, db_why, sizeof db_why);
        replica_set_health(r, db_ok, db_why, false, why);
        return -1;
    }
    if (rep.last_seq < r->st.applied_seq) {
        /* Seqs would be reused: claims could match outcomes of another log. */
        snprintf(why, sizeof why, "the log ends at %" PRId64 ", before this server's entry %" PRId64
                 " (was the replication DB reset without the books DBs?)", (int64_t)rep.last_seq,
                 r->st.applied_seq);
        replclient_free(&rep);
        replica_set_health(r, true, "", false, why);
        return -1;
    }
    int n = (int)rep.entries.entries_len;
    for (int i = 0; i < n; i++) {
        const repl_entry *e = &rep.entries.entries_val[i];
        if (e->seq != r->st.applied_seq + 1 + i) {
            snprintf(why, sizeof why, "log entry %" PRId64 " came after %" PRId64, e->seq,
                     r->st.applied_seq + i);
            replclient_free(&rep);
            replica_set_health(r, true, "", false, why);
            return -1;
        }
    }
    int applied = n > 0 ? replica_apply(r, rep.entries.entries_val, n, why, sizeof why) : 0;
    bool db_ok = applied == n;
    replclient_free(&rep);
    /* An idle pass touched no table: make sure the DB still answers, so STATUS and the
     * requests learn within a pass that it went away. */
    if (db_ok && applied == 0 && !bookdb_ping(&r->db, why, sizeof why))
        db_ok = false;
    if (db_ok)
        atomic_store(&r->db_answered_ns, clock_mono_ns());
    replica_set_health(r, db_ok, why, true, "");
    return db_ok ? applied : -1;
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

/* Memory from what the books DB holds: its position, session, takers and users.
 * Called at start-up and after a failed apply: with asynchronous commits the DB may
 * have lost its last entries (or kept one whose COMMIT reply was lost), so memory
 * follows the DB and the log is applied again from the DB's position. */
static int replica_load_state(struct replica *r, char *why, size_t len)
{
    struct bookdb_state s;
    if (bookdb_state(&r->db, &s, why, len) < 0)
        return -1;
    pthread_mutex_lock(&r->lock);
    tdestroy(r->users, free);
    r->users = NULL;
    r->st.applied_seq = s.applied_seq;
    replica_new_session(r, s.session);
    int rc = bookdb_each_user(&r->db, replica_add_user, r, why, len) == 0 &&
                     (!s.session ||
                      (bookdb_each_request(&r->db, s.session, replica_load_request, r, why, len) == 0 &&
                       bookdb_each_dead_key(&r->db, s.session, replica_load_dead_key, r, why, len) == 0))
                 ? 0
                 : -1;
    replica_wake(r, true);
    pthread_mutex_unlock(&r->lock);
    return rc;
}

static int replica_load(struct replica *r, char *why, size_t len)
{
    if (catalogue_load(&r->cat, r->db.conn, why, len) < 0)
        return -1;
    r->st.books_total = (int)r->cat.count;
    return replica_load_state(r, why, len);
}

static int replica_catch_up(struct replica *r, bool (*stopping)(void), char *why, size_t len)
{
    unsigned failures = 0;
    int n;
    while (!stopping()) {
        n = replica_pass(r, 0);
        if (n == 0)
            return 0;
        if (n > 0) {
            failures = 0;
            continue;
        }
        if (failures++ % 25 == 0)
            log_warn("replica", "catching up at entry %" PRId64 ": %s%s; retrying",
                     r->st.applied_seq, r->st.db_error, r->st.repl_error);
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
    r->st.db_ok = r->st.repl_ok = true;
    pthread_mutex_init(&r->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&r->cond, &attr);
    for (int i = 0; i < REPLICA_WAITERS; i++)
        pthread_cond_init(&r->waiter[i].cond, &attr);
    pthread_condattr_destroy(&attr);
    replclient_init(&r->repl, repl_host, rpc_timeout_ms);
    if (bookdb_open(&r->db, db_conninfo, why, len) < 0 || replica_load(r, why, len) < 0)
        return -1;
    log_info("replica", "books DB at entry %" PRId64 ", session %" PRId64 ", %zu books; catching up",
             r->st.applied_seq, r->st.session, r->cat.count);
    if (replica_catch_up(r, stopping, why, len) < 0)
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
    replica_wake(r, true);
    pthread_mutex_unlock(&r->lock);
    if (r->started)
        pthread_join(r->thread, NULL);
    r->started = false;
    replclient_close(&r->repl);
    bookdb_close(&r->db);
    catalogue_free(&r->cat);
    tdestroy(r->users, free);
    tdestroy(r->session_users, free);
    r->users = r->session_users = NULL;
    keymap_free(&r->keys);
    pthread_cond_destroy(&r->cond);
    for (int i = 0; i < REPLICA_WAITERS; i++)
        pthread_cond_destroy(&r->waiter[i].cond);
    pthread_mutex_destroy(&r->lock);
}

/* ---- what request handlers use ---- */

void replica_status(struct replica *r, struct replica_status *out)
{
    pthread_mutex_lock(&r->lock);
    *out = r->st;
    out->books_left = (int)(r->cat.count - r->cat.ntaken);
    out->handed_out = (int)r->cat.ntaken;
    pthread_mutex_unlock(&r->lock);
}

bool replica_db_answered_within(struct replica *r, int max_age_ms)
{
    int64_t at = atomic_load(&r->db_answered_ns);
    return at > 0 && clock_mono_ns() - at <= (int64_t)max_age_ms * 1000000;
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
    struct replica_waiter *w = NULL;
    for (int i = 0; i < REPLICA_WAITERS && !w; i++)
        if (!r->waiter[i].used)
            w = &r->waiter[i];
    if (w) {
        w->used = true;
        w->seq = seq;
    } else {
        r->fallback_waiters++;
    }
    pthread_cond_t *cond = w ? &w->cond : &r->cond;
    while (r->st.applied_seq < seq && !r->stop && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(cond, &r->lock, &ts);
    if (w)
        w->used = false;
    else
        r->fallback_waiters--;
    bool done = r->st.applied_seq >= seq;
    pthread_mutex_unlock(&r->lock);
    return done ? 0 : -1;
}

enum replica_result replica_outcome(struct replica *r, int64_t seq, int *book_id, int64_t *taker)
{
    pthread_mutex_lock(&r->lock);
    const struct replica_outcome *o = &r->outcome[seq % REPLICA_OUTCOMES];
    enum replica_result rc = o->seq == seq ? o->result : REPLICA_UNKNOWN;
    *book_id = o->book_id;
    *taker = o->taker;
    pthread_mutex_unlock(&r->lock);
    return rc;
}

enum replica_result replica_key(struct replica *r, const unsigned char *key, const char *user,
                                int *book_id, int64_t *taker, int64_t *session)
{
    pthread_mutex_lock(&r->lock);
    const struct keymap_entry *k = keymap_find(&r->keys, key);
    enum replica_result rc = !k                              ? REPLICA_UNKNOWN
                             : strcmp(k->user, user) != 0    ? REPLICA_OTHER_USER
                             : k->released                   ? REPLICA_GIVEN_UP
                             : k->book_id                    ? REPLICA_HELD
                                                             : REPLICA_UNKNOWN;
    *book_id = k ? k->book_id : 0;
    *taker = k ? k->seq : 0;
    *session = r->st.session;
    pthread_mutex_unlock(&r->lock);
    return rc;
}

int replica_reserve(struct replica *r, int64_t *session)
{
    pthread_mutex_lock(&r->lock);
    int id = catalogue_reserve_random(&r->cat);
    *session = r->st.session;
    pthread_mutex_unlock(&r->lock);
    return id;
}

void replica_unreserve(struct replica *r, int book_id)
{
    pthread_mutex_lock(&r->lock);
    catalogue_unreserve(&r->cat, book_id);
    pthread_mutex_unlock(&r->lock);
}

bool replica_user_known(struct replica *r, const char *name, const char *address)
{
    pthread_mutex_lock(&r->lock);
    bool known = replica_user_id(r, name, address) != 0;
    pthread_mutex_unlock(&r->lock);
    return known;
}
