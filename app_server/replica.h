/* replica: this app server's copy of the shared state, kept by applying the replication
 * log in order (state-machine replication; the rules are bookstate's).
 *
 * Three threads keep it, and none of them is a request's: the applier fetches entries
 * with GETQUERY (long poll), applies each batch in memory and settles the requests
 * waiting for its entries; the books DB writer (dbwriter) then writes the batch, off the
 * requests' path; the appender (appender) sends the requests' operations to the
 * replication server, many per SETQUERY. A request is answered once its own entry is
 * applied in memory: every book handed out has been claimed in the durable log first,
 * and the books DB follows within a write.
 *
 * A request waits as a replica_pending: queued with its operation (replica_append), then
 * kept under its entry's number until the applier reaches it. Its callbacks run under
 * the replica's lock, on the thread that settles it, and must not block. */
#ifndef AS_REPLICA_H
#define AS_REPLICA_H

#include "appender.h"
#include "bookdb.h"
#include "bookstate.h"
#include "dbwriter.h"
#include "replclient.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define REPLICA_SERVERS BOOKSTATE_SERVERS
#define REPLICA_PENDING_BUCKETS 4096

struct replica_pending {
    int64_t seq;                /* its entry once appended, 0 before */
    int64_t deadline_ns;        /* CLOCK_MONOTONIC: given up after this */
    /* Its entry was applied (o), or, for one waiting for a free book (replica_wait_book),
     * something was applied (o NULL): look again. The pending is no longer the
     * replica's; the callback may queue it again. */
    void (*applied)(struct replica_pending *p, const struct bookstate_outcome *o);
    /* It will not be settled: rc -1 the append failed or its answer was lost (the
     * operation may be in the log), -2 the replication server refused it, -3 the server
     * stops, -4 its deadline passed before it was sent (not in the log), 0 its deadline
     * passed (its entry, if appended, is still to be applied). */
    void (*failed)(struct replica_pending *p, int rc, const char *why);
    struct replica_pending *next;
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
    int64_t db_seq;            /* the books DB's position (written by the writer) */
};

struct replica {
    struct bookstate state;    /* under lock */
    struct bookdb db;          /* the applier's: loading memory from the DB */
    struct replclient repl;    /* the applier's: GETQUERY */
    struct dbwriter writer;
    struct appender appender;
    int instance;
    pthread_t thread;
    bool started, stop;
    pthread_mutex_t lock;      /* state, the pendings, health */
    pthread_cond_t cond;       /* an entry applied, health changed, or stop */
    struct replica_pending *bucket[REPLICA_PENDING_BUCKETS]; /* by seq */
    struct replica_pending *starved;  /* waiting for a free book */
    int pending;               /* in the buckets and starved */
    bool repl_ok;
    char repl_error[256];
};

/* Loads the books DB's state and catches up with the log (retrying until the
 * replication server answers or stopping() says so), so the server serves a current
 * view; then starts the applier, the writer and the appender. 0, or -1 with why. */
int replica_start(struct replica *r, const char *db_conninfo, const char *repl_host,
                  int instance, int rpc_timeout_ms, bool (*stopping)(void), char *why, size_t len);
/* Stops the threads; the pendings still waiting fail with rc -3. */
void replica_stop(struct replica *r);

void replica_status(struct replica *r, struct replica_status *out);
/* Waits until entry seq is applied. 0, or -1 after timeout_ms. */
int replica_wait(struct replica *r, int64_t seq, int timeout_ms);

/* The state, for reading and reserving books: between replica_lock and replica_unlock. */
void replica_lock(struct replica *r);
void replica_unlock(struct replica *r);
/* Under the lock: queues op for the log; p (NULL: nobody waits) is settled when the
 * entry is applied. An op still queued at deadline_ns (CLOCK_MONOTONIC; 0: none) is not
 * sent: p fails with rc -4. False (p untouched) if the queue is full or stopping. */
bool replica_append(struct replica *r, const repl_op *op, struct replica_pending *p,
                    int64_t deadline_ns);
/* Under the lock: p is called back (applied, o NULL) after the next applied batch. */
void replica_wait_book(struct replica *r, struct replica_pending *p);
/* Any thread, not under the lock: fails the pendings whose deadline has passed. */
void replica_sweep(struct replica *r);

/* The checks on a fetched batch before any entry is applied: the log does not end
 * before applied, the entries are applied + 1, + 2 ... without a gap, and each was
 * stored at a time within 1970..9999. 0, or -1 with why. No state: the applier and the
 * fuzz target call the same. */
int replica_check_batch(const getquery_reply *rep, int64_t applied, char *why, size_t len);

#endif
