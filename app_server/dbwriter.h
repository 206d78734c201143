/* dbwriter: writes the applied log entries to this server's books DB, off the requests'
 * path. The applier hands over each batch it applied in memory (the GETQUERY reply that
 * owns the entries' strings, and their rows); the writer's thread writes everything
 * queued in one transaction (bookdb_apply), so under load one write carries many
 * batches. Memory is ahead of the DB by what is queued: the log is durable, so an entry
 * answered from memory and lost by the DB (a crash of this server, or of the DB with
 * its asynchronous commits) is written again from the log (see replica.c).
 * A write that fails is retried from wherever the DB then is; if the DB lost entries
 * that are no longer queued, the writer asks for a reload (dbwriter_gap). */
#ifndef AS_DBWRITER_H
#define AS_DBWRITER_H

#include "bookdb.h"
#include "replication_rpc.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define DBWRITER_MAX_QUEUED 16384   /* entries; beyond, the applier waits */
#define DBWRITER_RETRY_MS 200
#define DBWRITER_PING_MS 1000       /* an idle writer checks the DB this often */
/* Writes start at most this often: a write costs the DB a fixed share (the statement,
 * the transaction) besides its rows, so under load it pays to let a few batches gather.
 * The DB trails memory by about this much; nobody waits for it. */
#define DBWRITER_GATHER_MS 5
#define DBWRITER_GATHER_ENTRIES 256 /* ... unless this many are queued already */

struct dbwriter_batch {
    getquery_reply rep;             /* owns what the rows point to */
    struct bookdb_entry *rows;
    int n;
    struct dbwriter_batch *next;
};

struct dbwriter {
    struct bookdb db;
    pthread_t thread;
    bool started, stop, busy, gap;
    pthread_mutex_t lock;
    pthread_cond_t cond;            /* work, stop, or the writer went idle */
    struct dbwriter_batch *head, *tail;
    int queued;                     /* entries in the queue */
    int64_t written_seq;            /* the DB's position, as last written or read */
    bool ok;                        /* the DB took the last write or ping */
    char why[400];
    long writes, entries;           /* transactions and entries written */
    int64_t last_write_ns;          /* CLOCK_MONOTONIC start of the last write */
};

/* Connects (retrying is the writer's job: a DB down now is only reported) and starts
 * the thread, the DB expected at entry db_seq. 0, or -1 with why. */
int dbwriter_start(struct dbwriter *w, const char *conninfo, int64_t db_seq, char *why, size_t len);
void dbwriter_stop(struct dbwriter *w);
/* Queues a batch (its rows consecutive, after what is queued). Takes rep (moved out of
 * *rep) and rows (malloc'd) in any case. */
void dbwriter_push(struct dbwriter *w, getquery_reply *rep, struct bookdb_entry *rows, int n);
/* Too much queued: the applier should wait before applying more. */
bool dbwriter_full(struct dbwriter *w);
/* The DB lost entries no longer queued: memory must be rebuilt from the DB. */
bool dbwriter_gap(struct dbwriter *w);
/* After memory was rebuilt from the DB at db_seq: drops the queue, clears the gap.
 * Waits for a write in progress to end first. */
void dbwriter_reset(struct dbwriter *w, int64_t db_seq);
/* The DB's health as the writer last saw it. */
bool dbwriter_ok(struct dbwriter *w, char *why, size_t len);

#endif
