/* bookdb: this app server's books DB (db/books.sql), written only by the replica's
 * applier. Log entries are applied in batches of consecutive entries, each batch in one
 * transaction that also moves replica_state.applied_seq from the entry before it to its
 * last entry, so every entry is applied exactly once, also across a crash. The
 * transactions commit asynchronously (synchronous_commit off): after a crash the last
 * few may be missing, together with their replica_state move, and are applied again
 * from the durable log. */
#ifndef AS_BOOKDB_H
#define AS_BOOKDB_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bookdb {
    char conninfo[512];
    PGconn *conn;
};

/* What the applier needs to start from. */
struct bookdb_state {
    int64_t applied_seq;
    int64_t session;        /* current session, 0: none */
    int64_t log_time_us;    /* the latest log time applied */
    bool session_closed;    /* SESSION_CLOSE applied for the current session */
};

int bookdb_open(struct bookdb *db, const char *conninfo, char *why, size_t len);
void bookdb_close(struct bookdb *db);
/* Reconnects if the connection broke; false with why when the DB is down. */
bool bookdb_ready(struct bookdb *db, char *why, size_t len);
/* Is the DB answering right now? A connection whose server went away still says OK
 * until it is used, so this runs a query. */
bool bookdb_ping(struct bookdb *db, char *why, size_t len);
/* Is the connection open with nothing arriving on it? An idle connection becomes
 * readable or hung up when the server ends it (the DB stopped or restarted): a check
 * without a round trip, for a connection not in use by another thread. */
bool bookdb_quiet(struct bookdb *db);
int bookdb_state(struct bookdb *db, struct bookdb_state *st, char *why, size_t len);

/* A request of a session as the applier rebuilds its memory from it. */
struct bookdb_request {
    int64_t id;
    int book_id;
    int server;
    int64_t user_id;
    const char *user;
    unsigned char key[16];
    bool released;
};

/* Calls fn for every request of the session, released ones included. */
int bookdb_each_request(struct bookdb *db, int64_t session,
                        void (*fn)(void *ctx, const struct bookdb_request *q),
                        void *ctx, char *why, size_t len);
/* Calls fn for every key released in the session while it held no book (it never will). */
int bookdb_each_dead_key(struct bookdb *db, int64_t session,
                         void (*fn)(void *ctx, const unsigned char *key, const char *user),
                         void *ctx, char *why, size_t len);
/* The book app server instance handed out last (0: none yet) and to whom. */
int bookdb_last_own(struct bookdb *db, int instance, int *book_id, char *user, size_t user_len,
                    char *why, size_t len);
/* Calls fn for the sessions that ended (the next one opened: session.opened_log_us) at
 * log time since_us or later, the latest first, at most max of them. */
int bookdb_each_ended_session(struct bookdb *db, int64_t since_us, int max,
                              void (*fn)(void *ctx, int64_t session, int64_t ended_us),
                              void *ctx, char *why, size_t len);
/* Calls fn for every user (id, name, address). */
int bookdb_each_user(struct bookdb *db,
                     void (*fn)(void *ctx, int64_t id, const char *name, const char *address),
                     void *ctx, char *why, size_t len);

/* One log entry as db/books.sql's apply_entries() takes it (one array element each). */
struct bookdb_entry {
    int64_t seq;
    const char *kind;          /* "USER_SEEN", "SESSION_OPEN", "BOOK_CLAIM", "SESSION_CLOSE",
                                  "BOOK_RELEASE" */
    bool applies;              /* the entry changes the state (decided from the log) */
    int64_t at_us;             /* the entry's time, microseconds since 1970 */
    int origin;
    int64_t session, prev;
    int64_t user_id;
    bool new_user;
    const char *name, *address;
    int book_id;
    const char *isbn;
    int64_t client_time_us, server_time_us;   /* -1: none */
    const unsigned char *key;  /* BOOK_CLAIM, BOOK_RELEASE: the request's (16 bytes) */
    int64_t release_of;        /* BOOK_RELEASE: the request it frees, 0: none */
    const char *outcome;       /* BOOK_RELEASE: book_release.outcome */
};

/* Applies n consecutive entries (e[0].seq on) in one transaction and one round trip:
 * replica_state moves from e[0].seq - 1 to e[n - 1].seq with them. Returns n, or 0 with
 * why when nothing was applied. */
int bookdb_apply(struct bookdb *db, const struct bookdb_entry *e, int n, char *why, size_t len);
/* The cover of a book (PNG bytes, malloc'd) for the window; NULL if none. */
unsigned char *bookdb_cover(struct bookdb *db, int book_id, size_t *len);

#endif
