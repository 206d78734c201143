/* replica: this app server's copy of the shared state, kept by applying the
 * replication log in order (state-machine replication). One applier thread fetches
 * entries with GETQUERY (long poll) and applies each one to the books DB (bookdb) and
 * then to memory (the catalogue's free and taken books, the current session, users).
 * Applying is deterministic, so every app server reaches the same state: the first claim
 * of a (session, book) wins unless its key already holds a book (then it takes none:
 * a retried request is served once) or was released; a release frees the book its key
 * holds; SESSION_OPEN applies only if its previous session is still the current one.
 * Request handlers wait here until their own entry is applied. */
#ifndef AS_REPLICA_H
#define AS_REPLICA_H

#include "bookdb.h"
#include "catalogue.h"
#include "keymap.h"
#include "replclient.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define REPLICA_OUTCOMES 65536
#define REPLICA_WAITERS 96
#define REPLICA_SERVERS 256    /* instances 1..255 */

/* A thread waiting for one entry: woken when that entry is applied, not at every entry. */
struct replica_waiter {
    bool used;
    int64_t seq;
    pthread_cond_t cond;
};

/* What applying a BOOK_CLAIM or BOOK_RELEASE did. */
enum replica_result {
    REPLICA_UNKNOWN = -1,   /* not applied (yet), or forgotten */
    REPLICA_WON,            /* the claim took its book */
    REPLICA_LOST,           /* the book was taken (or the session changed): try another */
    REPLICA_HELD,           /* the key already held a book: that one, no second */
    REPLICA_GIVEN_UP,       /* the key was released: no book for it any more */
    REPLICA_FREED,          /* the release freed the key's book */
    REPLICA_NOTHING,        /* the key held nothing: it never will */
    REPLICA_ALREADY,        /* released before */
    REPLICA_SESSION_OVER,   /* the release was for a session that is over */
    REPLICA_OTHER_USER      /* the key belongs to another user's request: nothing done */
};

struct replica_outcome {
    int64_t seq;
    enum replica_result result;
    int book_id;            /* the claim's book (HELD: the key's) */
    int64_t taker;          /* HELD: the claim that took it */
};

struct replica_status {
    int64_t applied_seq;
    int64_t session;
    int books_total, books_left, handed_out;
    int by_server[REPLICA_SERVERS]; /* [n]: books held from app server n this session */
    int users;                 /* distinct users served in the session */
    bool db_ok, repl_ok;
    char db_error[256], repl_error[256];
    bool session_closed;       /* SESSION_CLOSE applied for the current session */
    int last_book_id;          /* last book this server handed out, 0: none yet */
    char last_user[64];
};

struct replica {
    struct bookdb db;
    struct catalogue cat;
    struct replclient repl;
    int instance;
    pthread_t thread;
    bool started, stop;
    bool reload;               /* applier only: memory must be rebuilt from the DB */
    pthread_mutex_t lock;      /* everything below, and cat */
    pthread_cond_t cond;       /* health changed, stop, or an entry for fallback waiters */
    struct replica_waiter waiter[REPLICA_WAITERS];
    int fallback_waiters;      /* waiting on cond because every waiter slot was taken */
    struct replica_status st;
    void *users;               /* tsearch tree of known users (name, address) -> id */
    void *session_users;       /* tsearch tree of user ids served this session */
    struct keymap keys;        /* the current session's request keys */
    struct replica_outcome outcome[REPLICA_OUTCOMES];
    _Atomic int64_t db_answered_ns; /* CLOCK_MONOTONIC of the applier's last good DB reply */
};

/* Loads the books DB's state and catches up with the log (retrying until the
 * replication server answers or stopping() says so), so the server serves a current view.
 * Then starts the applier thread. Returns 0, or -1 with why. */
int replica_start(struct replica *r, const char *db_conninfo, const char *repl_host,
                  int instance, int rpc_timeout_ms, bool (*stopping)(void), char *why, size_t len);
void replica_stop(struct replica *r);

void replica_status(struct replica *r, struct replica_status *out);
/* Did the books DB answer the applier within the last max_age_ms? */
bool replica_db_answered_within(struct replica *r, int max_age_ms);
/* Waits until the entry seq is applied. 0, or -1 after timeout_ms. */
int replica_wait(struct replica *r, int64_t seq, int timeout_ms);
/* The outcome of entry seq (a claim or a release) once applied; book_id and taker for
 * WON (the entry itself) and HELD (the key's book and the claim that took it). */
enum replica_result replica_outcome(struct replica *r, int64_t seq, int *book_id, int64_t *taker);
/* What key holds in the current session as applied so far: REPLICA_HELD (book_id, the
 * claim that took it, *session), REPLICA_GIVEN_UP, REPLICA_OTHER_USER (it is another
 * user's request), or REPLICA_UNKNOWN (a new key, as far as applied). */
enum replica_result replica_key(struct replica *r, const unsigned char *key, const char *user,
                                int *book_id, int64_t *taker, int64_t *session);
/* Reserves a random free book of the current session: its id (0: none left). */
int replica_reserve(struct replica *r, int64_t *session);
void replica_unreserve(struct replica *r, int book_id);
/* True if (name, address) has been applied as a user. */
bool replica_user_known(struct replica *r, const char *name, const char *address);

#endif
