#include "bookstate.h"

#include "log.h"
#include "replop.h"

#include <inttypes.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct bookstate_user {
    int64_t id;
    char key[REPL_NAME_MAX + REPL_ADDR_MAX + 2];   /* "name\taddress" */
};

static int bookstate_user_cmp(const void *a, const void *b)
{
    return strcmp(((const struct bookstate_user *)a)->key,
                  ((const struct bookstate_user *)b)->key);
}

static int bookstate_id_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void bookstate_user_key(char *key, size_t len, const char *name, const char *address)
{
    snprintf(key, len, "%s\t%s", name, address);
}

static int64_t bookstate_user_id(const struct bookstate *s, const char *name, const char *address)
{
    struct bookstate_user probe;
    bookstate_user_key(probe.key, sizeof probe.key, name, address);
    struct bookstate_user **found = tfind(&probe, &s->known_users, bookstate_user_cmp);
    return found ? (*found)->id : 0;
}

static void bookstate_add_user(void *ctx, int64_t id, const char *name, const char *address)
{
    struct bookstate *s = ctx;
    struct bookstate_user *u = calloc(1, sizeof *u);
    if (!u)
        return;
    u->id = id;
    bookstate_user_key(u->key, sizeof u->key, name, address);
    struct bookstate_user **slot = tsearch(u, &s->known_users, bookstate_user_cmp);
    if (!slot || *slot != u)
        free(u);
}

static void bookstate_serve_user(struct bookstate *s, int64_t user_id)
{
    int64_t *id = malloc(sizeof *id);
    if (!id)
        return;
    *id = user_id;
    int64_t **slot = tsearch(id, &s->session_users, bookstate_id_cmp);
    if (slot && *slot == id)
        s->users++;
    else
        free(id);
}

static void bookstate_drop_oldest(struct bookstate *s)
{
    struct bookstate_old *o = &s->old[--s->nold];
    s->old_keys -= o->keys.count;
    keymap_free(&o->keys);
}

/* Ended sessions whose keys are past their time, or beyond the limits, are forgotten,
 * the oldest first. */
static void bookstate_expire(struct bookstate *s)
{
    while (s->nold > 0 && (s->old_keys > BOOKSTATE_OLD_KEYS ||
                           s->old[s->nold - 1].ended_us + BOOKSTATE_KEY_MEMORY_US < s->log_time_us))
        bookstate_drop_oldest(s);
}

static void bookstate_forget_old(struct bookstate *s)
{
    while (s->nold > 0)
        bookstate_drop_oldest(s);
}

/* The keys of the session that ends go with the ended ones (a session without any key
 * takes no place among them, so new sessions alone push none out). */
static void bookstate_retire_keys(struct bookstate *s, int64_t ended_us)
{
    if (s->session == 0 || s->keys.count == 0) {
        keymap_clear(&s->keys);
        return;
    }
    if (s->nold == BOOKSTATE_OLD_SESSIONS)
        bookstate_drop_oldest(s);
    memmove(&s->old[1], &s->old[0], (size_t)s->nold * sizeof s->old[0]);
    s->old[0] = (struct bookstate_old){s->session, ended_us, s->keys};
    s->nold++;
    s->old_keys += s->keys.count;
    keymap_init(&s->keys);
    bookstate_expire(s);
}

static void bookstate_new_session(struct bookstate *s, int64_t session)
{
    catalogue_new_session(&s->cat);
    tdestroy(s->session_users, free);
    s->session_users = NULL;
    s->session = session;
    s->session_closed = false;
    s->users = 0;
    memset(s->by_server, 0, sizeof s->by_server);
}

/* The key's entry, in the current session or a remembered ended one (*session: which). */
static const struct keymap_entry *bookstate_find_key(const struct bookstate *s,
                                                     const unsigned char *key, int64_t *session)
{
    const struct keymap_entry *k = keymap_find(&s->keys, key);
    *session = s->session;
    for (int i = 0; !k && i < s->nold; i++) {
        k = keymap_find(&s->old[i].keys, key);
        *session = s->old[i].session;
    }
    return k;
}

static void bookstate_take(struct bookstate *s, int book_id, int server, int64_t user_id,
                           int64_t seq)
{
    catalogue_take(&s->cat, book_id);
    s->cat.taken_seq[book_id] = seq;
    if (server >= 1 && server < BOOKSTATE_SERVERS)
        s->by_server[server]++;
    bookstate_serve_user(s, user_id);
}

/* The key's entry; NULL (logged) only without memory, and then the key is not kept:
 * a retry of it could take a second book, so say it loudly. */
static struct keymap_entry *bookstate_key_put(struct keymap *keys, const unsigned char *key,
                                              const char *user)
{
    struct keymap_entry *k = keymap_put(keys, key);
    if (!k)
        log_error("state", "out of memory keeping a request key");
    else
        k->user = keymap_user(user);
    return k;
}

int bookstate_init(struct bookstate *s, int instance, struct bookdb *db, char *why, size_t len)
{
    memset(s, 0, sizeof *s);
    s->instance = instance;
    keymap_init(&s->keys);
    return catalogue_load(&s->cat, db->conn, why, len);
}

void bookstate_free(struct bookstate *s)
{
    catalogue_free(&s->cat);
    tdestroy(s->known_users, free);
    tdestroy(s->session_users, free);
    s->known_users = s->session_users = NULL;
    keymap_free(&s->keys);
    bookstate_forget_old(s);
}

/* ---- loading from the books DB: read without the lock, install under it ---- */

static int bookstate_push_take(struct bookstate_image *im, const struct bookdb_request *q)
{
    if (im->ntakes == im->takes_cap) {
        size_t cap = im->takes_cap ? im->takes_cap * 2 : 1024;
        struct bookstate_take *t = realloc(im->takes, cap * sizeof *t);
        if (!t)
            return -1;
        im->takes = t;
        im->takes_cap = cap;
    }
    im->takes[im->ntakes++] = (struct bookstate_take){q->id, q->user_id, q->book_id, q->server,
                                                     q->released};
    return 0;
}

struct bookstate_reader {
    struct bookstate_image *im;
    struct keymap *keys;
    bool current;              /* the current session: its books are taken too */
    bool failed;
};

static void bookstate_read_request(void *ctx, const struct bookdb_request *q)
{
    struct bookstate_reader *r = ctx;
    if (r->current && bookstate_push_take(r->im, q) < 0)
        r->failed = true;
    struct keymap_entry *k = bookstate_key_put(r->keys, q->key, q->user);
    if (!k) {
        r->failed = true;
        return;
    }
    k->book_id = q->released ? 0 : q->book_id;
    k->seq = q->id;
    k->origin = (int16_t)q->server;
    k->released = q->released;
}

static void bookstate_read_dead_key(void *ctx, const unsigned char *key, const char *user)
{
    struct bookstate_reader *r = ctx;
    struct keymap_entry *k = bookstate_key_put(r->keys, key, user);
    if (k)
        k->released = true;
    else
        r->failed = true;
}

static int bookstate_read_keys(struct bookstate_image *im, struct bookdb *db, int64_t session,
                               struct keymap *keys, bool current, char *why, size_t len)
{
    struct bookstate_reader r = {im, keys, current, false};
    if (bookdb_each_request(db, session, bookstate_read_request, &r, why, len) < 0 ||
        bookdb_each_dead_key(db, session, bookstate_read_dead_key, &r, why, len) < 0)
        return -1;
    if (r.failed)
        snprintf(why, len, "out of memory loading the keys of session %" PRId64, session);
    return r.failed ? -1 : 0;
}

static void bookstate_read_ended(void *ctx, int64_t session, int64_t ended_us)
{
    struct bookstate_image *im = ctx;
    if (im->nold < BOOKSTATE_OLD_SESSIONS) {
        im->old[im->nold] = (struct bookstate_old){session, ended_us, {0}};
        keymap_init(&im->old[im->nold].keys);
        im->nold++;
    }
}

static void bookstate_read_user(void *ctx, int64_t id, const char *name, const char *address)
{
    struct bookstate_image *im = ctx;
    struct bookstate tmp = {.known_users = im->known_users};
    bookstate_add_user(&tmp, id, name, address);
    im->known_users = tmp.known_users;
}

void bookstate_image_free(struct bookstate_image *im)
{
    tdestroy(im->known_users, free);
    keymap_free(&im->keys);
    for (int i = 0; i < im->nold; i++)
        keymap_free(&im->old[i].keys);
    free(im->takes);
    memset(im, 0, sizeof *im);
}

int bookstate_read(struct bookdb *db, int instance, struct bookstate_image *im, char *why,
                   size_t len)
{
    memset(im, 0, sizeof *im);
    keymap_init(&im->keys);
    int rc = -1;
    if (bookdb_state(db, &im->db, why, len) < 0 ||
        bookdb_last_own(db, instance, &im->last_book_id, im->last_user, sizeof im->last_user,
                        why, len) < 0 ||
        bookdb_each_user(db, bookstate_read_user, im, why, len) < 0)
        goto out;
    if (im->db.session &&
        bookstate_read_keys(im, db, im->db.session, &im->keys, true, why, len) < 0)
        goto out;
    /* The same ended sessions as memory kept while applying (bookstate_expire). */
    if (bookdb_each_ended_session(db, im->db.log_time_us - BOOKSTATE_KEY_MEMORY_US,
                                  BOOKSTATE_OLD_SESSIONS, bookstate_read_ended, im, why, len) < 0)
        goto out;
    for (int i = 0; i < im->nold; i++)
        if (bookstate_read_keys(im, db, im->old[i].session, &im->old[i].keys, false, why, len) < 0)
            goto out;
    rc = 0;
out:
    if (rc < 0)
        bookstate_image_free(im);
    return rc;
}

void bookstate_install(struct bookstate *s, struct bookstate_image *im)
{
    tdestroy(s->known_users, free);
    s->known_users = im->known_users;
    keymap_free(&s->keys);
    s->keys = im->keys;
    bookstate_forget_old(s);
    for (int i = 0; i < im->nold; i++) {
        s->old[i] = im->old[i];
        s->old_keys += im->old[i].keys.count;
    }
    s->nold = im->nold;
    s->applied_seq = im->db.applied_seq;
    s->log_time_us = im->db.log_time_us;
    s->last_book_id = im->last_book_id;
    snprintf(s->last_user, sizeof s->last_user, "%s", im->last_user);
    memset(s->outcome, 0, sizeof s->outcome);
    bookstate_new_session(s, im->db.session);
    s->session_closed = im->db.session_closed;
    for (size_t i = 0; i < im->ntakes; i++) {
        const struct bookstate_take *t = &im->takes[i];
        /* Everyone handed a book in the session counts, released since or not. */
        bookstate_serve_user(s, t->user_id);
        if (!t->released)
            bookstate_take(s, t->book_id, t->server, t->user_id, t->seq);
    }
    bookstate_expire(s);
    free(im->takes);
    memset(im, 0, sizeof *im);
}

/* ---- applying one entry: decide on memory, then change memory ---- */

struct bookstate_decision {
    bool applies;      /* changes the state (a winning claim, an opening session ...) */
    enum bookstate_result result;   /* claims and releases */
    int book_id;
    int64_t user_id;
    bool new_user;
    int64_t release_of;             /* a release that frees: the claim it frees */
    int free_origin;                /* ... and the server that had handed it out */
    int64_t taker;                  /* HELD: the claim that took the key's book */
    int64_t held_session;           /* HELD: the session it was handed out in */
    int held_origin;                /* HELD: the server that handed it out */
};

static const char *bookstate_release_outcome(enum bookstate_result r)
{
    switch (r) {
    case BOOKSTATE_FREED: return "freed";
    case BOOKSTATE_NOTHING: return "nothing held";
    case BOOKSTATE_ALREADY: return "already released";
    case BOOKSTATE_SESSION_OVER: return "session over";
    default: return "other user";
    }
}

static void bookstate_decide_claim(const struct bookstate *s, const repl_entry *e,
                                   struct bookstate_decision *d)
{
    const op_book_claim *c = &e->op.repl_op_u.book_claim;
    const struct catalogue_book *b = catalogue_by_isbn(&s->cat, c->isbn);
    int64_t key_session;
    const struct keymap_entry *k = bookstate_find_key(s, (const unsigned char *)c->key, &key_session);
    d->book_id = b ? b->id : 0;
    if (k && k->user != keymap_user(c->user)) {
        d->result = BOOKSTATE_OTHER_USER;
    } else if (k && k->released) {
        d->result = BOOKSTATE_GIVEN_UP;
    } else if (k && k->book_id) {
        /* A retry of a request already served (in this session or one that ended since
         * its first try): no second book, the first one again. */
        d->result = BOOKSTATE_HELD;
        d->book_id = k->book_id;
        d->taker = k->seq;
        d->held_session = key_session;
        d->held_origin = k->origin;
    } else if (c->session != s->session || !b) {
        d->result = BOOKSTATE_LOST;
    } else {
        d->result = s->cat.taken[b->id] ? BOOKSTATE_LOST : BOOKSTATE_WON;
    }
    d->applies = d->result == BOOKSTATE_WON;
    d->user_id = bookstate_user_id(s, c->user, c->address);
    d->new_user = d->user_id == 0;
    if (d->new_user)
        d->user_id = e->seq;
}

static void bookstate_decide_release(const struct bookstate *s, const repl_op *op,
                                     struct bookstate_decision *d)
{
    const op_book_release *rel = &op->repl_op_u.book_release;
    int64_t key_session;
    const struct keymap_entry *k = bookstate_find_key(s, (const unsigned char *)rel->key, &key_session);
    if ((rel->session != 0 && rel->session != s->session) || s->session == 0 ||
        (k && key_session != s->session))
        d->result = BOOKSTATE_SESSION_OVER;
    else if (k && k->user != keymap_user(rel->user))
        d->result = BOOKSTATE_OTHER_USER;
    else if (k && k->released)
        d->result = BOOKSTATE_ALREADY;
    else if (k && k->book_id) {
        d->result = BOOKSTATE_FREED;
        d->book_id = k->book_id;
        d->release_of = k->seq;
        d->free_origin = k->origin;
    } else {
        d->result = BOOKSTATE_NOTHING;
    }
    d->applies = d->result == BOOKSTATE_FREED || d->result == BOOKSTATE_NOTHING;
}

static void bookstate_decide(const struct bookstate *s, const repl_entry *e,
                             struct bookstate_decision *d)
{
    memset(d, 0, sizeof *d);
    d->result = BOOKSTATE_UNKNOWN;
    const repl_op *op = &e->op;
    switch (op->kind) {
    case OP_USER_SEEN:
        d->new_user = bookstate_user_id(s, op->repl_op_u.user_seen.name,
                                        op->repl_op_u.user_seen.address) == 0;
        d->applies = d->new_user;
        break;
    case OP_SESSION_OPEN:
        d->applies = op->repl_op_u.session_open.prev_session == s->session;
        break;
    case OP_BOOK_CLAIM:
        bookstate_decide_claim(s, e, d);
        break;
    case OP_SESSION_CLOSE:
        d->applies = op->repl_op_u.session_close.session == s->session;
        break;
    case OP_BOOK_RELEASE:
        bookstate_decide_release(s, op, d);
        break;
    }
}

static void bookstate_db_entry(const repl_entry *e, const struct bookstate_decision *d,
                               int64_t current_session, struct bookdb_entry *out)
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
        /* Recorded whatever its outcome, under the session that was current when it was
         * applied (NULL before the first: a release may name any session). */
        be.session = current_session;
        be.name = op->repl_op_u.book_release.user;
        be.key = (const unsigned char *)op->repl_op_u.book_release.key;
        be.release_of = d->release_of;
        be.outcome = bookstate_release_outcome(d->result);
        break;
    }
    *out = be;
}

static void bookstate_remember_claim(struct bookstate *s, const repl_entry *e,
                                     const struct bookstate_decision *d)
{
    const op_book_claim *c = &e->op.repl_op_u.book_claim;
    if (d->new_user)
        bookstate_add_user(s, d->user_id, c->user, c->address);
    bookstate_take(s, d->book_id, e->origin, d->user_id, e->seq);
    struct keymap_entry *k = bookstate_key_put(&s->keys, (const unsigned char *)c->key, c->user);
    if (k) {
        k->book_id = d->book_id;
        k->seq = e->seq;
        k->origin = e->origin;
    }
    if (e->origin == s->instance) {
        s->last_book_id = d->book_id;
        snprintf(s->last_user, sizeof s->last_user, "%s", c->user);
    }
}

static void bookstate_remember_release(struct bookstate *s, const repl_entry *e,
                                       const struct bookstate_decision *d)
{
    const op_book_release *rel = &e->op.repl_op_u.book_release;
    struct keymap_entry *k = bookstate_key_put(&s->keys, (const unsigned char *)rel->key, rel->user);
    if (k) {
        k->released = true;
        k->book_id = 0;
    }
    if (d->result == BOOKSTATE_FREED) {
        catalogue_release(&s->cat, d->book_id);
        if (d->free_origin >= 1 && d->free_origin < BOOKSTATE_SERVERS)
            s->by_server[d->free_origin]--;
    }
}

void bookstate_apply(struct bookstate *s, const repl_entry *e, struct bookstate_outcome *out,
                     struct bookdb_entry *db)
{
    struct bookstate_decision d;
    bookstate_decide(s, e, &d);
    bookstate_db_entry(e, &d, s->session, db);
    const repl_op *op = &e->op;
    if (d.applies) {
        switch (op->kind) {
        case OP_USER_SEEN:
            bookstate_add_user(s, e->seq, op->repl_op_u.user_seen.name,
                               op->repl_op_u.user_seen.address);
            break;
        case OP_SESSION_OPEN:
            /* Ended at the latest log time so far: the order of ended sessions and
             * their times agree even if the replication server's clock stepped back. */
            bookstate_retire_keys(s, e->appended_at_us > s->log_time_us ? e->appended_at_us
                                                                        : s->log_time_us);
            bookstate_new_session(s, e->seq);
            break;
        case OP_SESSION_CLOSE:
            s->session_closed = true;
            break;
        case OP_BOOK_CLAIM:
            bookstate_remember_claim(s, e, &d);
            break;
        case OP_BOOK_RELEASE:
            bookstate_remember_release(s, e, &d);
            break;
        }
    }
    s->applied_seq = e->seq;
    if (e->appended_at_us > s->log_time_us)
        s->log_time_us = e->appended_at_us;
    bookstate_expire(s);
    struct bookstate_outcome o = {.seq = e->seq, .kind = op->kind, .result = d.result,
                                  .book_id = d.book_id,
                                  .taker = d.result == BOOKSTATE_WON ? e->seq : d.taker,
                                  .origin = d.result == BOOKSTATE_HELD ? d.held_origin : e->origin,
                                  .session = d.result == BOOKSTATE_HELD ? d.held_session
                                                                        : s->session};
    s->outcome[e->seq % BOOKSTATE_OUTCOMES] = o;
    *out = o;
}

bool bookstate_outcome(const struct bookstate *s, int64_t seq, struct bookstate_outcome *out)
{
    const struct bookstate_outcome *o = &s->outcome[seq % BOOKSTATE_OUTCOMES];
    if (o->seq != seq || seq > s->applied_seq)
        return false;
    *out = *o;
    return true;
}

enum bookstate_result bookstate_key(const struct bookstate *s, const unsigned char *key,
                                    const char *user, int *book_id, int64_t *taker,
                                    int64_t *session, int *origin)
{
    const struct keymap_entry *k = bookstate_find_key(s, key, session);
    *book_id = k ? k->book_id : 0;
    *taker = k ? k->seq : 0;
    *origin = k ? k->origin : 0;
    if (!k)
        return BOOKSTATE_UNKNOWN;
    if (k->user != keymap_user(user))
        return BOOKSTATE_OTHER_USER;
    if (k->released)
        return BOOKSTATE_GIVEN_UP;
    return k->book_id ? BOOKSTATE_HELD : BOOKSTATE_UNKNOWN;
}

bool bookstate_user_known(const struct bookstate *s, const char *name, const char *address)
{
    return bookstate_user_id(s, name, address) != 0;
}

int bookstate_reserve(struct bookstate *s)
{
    return catalogue_reserve_random(&s->cat);
}

void bookstate_unreserve(struct bookstate *s, int book_id)
{
    catalogue_unreserve(&s->cat, book_id);
}

int bookstate_handed_out(const struct bookstate *s)
{
    return (int)s->cat.ntaken;
}
