#include "dbwriter.h"

#include "clock.h"
#include "log.h"
#include "replclient.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void dbwriter_free_batches(struct dbwriter_batch *b)
{
    while (b) {
        struct dbwriter_batch *next = b->next;
        replclient_free(&b->rep);
        free(b->rows);
        free(b);
        b = next;
    }
}

static void dbwriter_wait_ms(struct dbwriter *w, int ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_nsec += (long)ms * 1000000L;
    ts.tv_sec += ts.tv_nsec / 1000000000L;
    ts.tv_nsec %= 1000000000L;
    pthread_cond_timedwait(&w->cond, &w->lock, &ts);
}

/* Under the lock: the health the writer reports, logged when it changes. */
static void dbwriter_health(struct dbwriter *w, bool ok, const char *why)
{
    if (ok != w->ok) {
        if (ok)
            log_info("dbwriter", "books DB answers again (written up to entry %" PRId64 ")",
                     w->written_seq);
        else
            log_error("dbwriter", "%s", why);
    }
    w->ok = ok;
    snprintf(w->why, sizeof w->why, "%s", ok ? "" : why);
}

/* Where the DB is after a failed write (it may have taken the write and lost the
 * answer, or lost earlier writes in a crash). -1 if it does not answer. */
static int64_t dbwriter_db_position(struct dbwriter *w, char *why, size_t len)
{
    struct bookdb_state s;
    if (!bookdb_ready(&w->db, why, len) || bookdb_state(&w->db, &s, why, len) < 0)
        return -1;
    return s.applied_seq;
}

/* Writes the taken batches, skipping what the DB already holds. Returns 0 when all
 * are written, -1 on a failure (retry later), -2 on a gap (the DB is behind the first
 * entry). Runs without the lock: only this thread touches w->db. */
static int dbwriter_write(struct dbwriter *w, struct dbwriter_batch *taken, int64_t *pos,
                          char *why, size_t len)
{
    int total = 0;
    for (struct dbwriter_batch *b = taken; b; b = b->next)
        total += b->n;
    struct bookdb_entry *rows = malloc((size_t)total * sizeof *rows);
    if (!rows) {
        snprintf(why, len, "out of memory for %d rows", total);
        return -1;
    }
    int n = 0;
    for (struct dbwriter_batch *b = taken; b; b = b->next)
        for (int i = 0; i < b->n; i++)
            if (b->rows[i].seq > *pos)
                rows[n++] = b->rows[i];
    int rc = 0;
    if (n > 0 && rows[0].seq != *pos + 1) {
        snprintf(why, len, "the books DB is at entry %" PRId64 ", behind entry %" PRId64
                 " (it lost entries in a crash)", *pos, rows[0].seq);
        rc = -2;
    } else if (n > 0 && bookdb_ready(&w->db, why, len) &&
               bookdb_apply(&w->db, rows, n, why, len) == n) {
        *pos = rows[n - 1].seq;
        w->writes++;
        w->entries += n;
    } else if (n > 0) {
        rc = -1;
    }
    free(rows);
    return rc;
}

static void *dbwriter_main(void *arg)
{
    struct dbwriter *w = arg;
    char why[400];
    pthread_mutex_lock(&w->lock);
    while (!w->stop) {
        if (!w->head || w->gap) {
            dbwriter_wait_ms(w, DBWRITER_PING_MS);
            if (!w->head && !w->stop) {
                /* Idle: make sure the DB still answers, so STATUS tells the truth. */
                pthread_mutex_unlock(&w->lock);
                bool ok = bookdb_ping(&w->db, why, sizeof why);
                pthread_mutex_lock(&w->lock);
                dbwriter_health(w, ok, why);
            }
            continue;
        }
        int64_t since = clock_mono_ns() - w->last_write_ns;
        if (w->queued < DBWRITER_GATHER_ENTRIES && since < (int64_t)DBWRITER_GATHER_MS * 1000000) {
            dbwriter_wait_ms(w, (int)((DBWRITER_GATHER_MS * 1000000LL - since) / 1000000) + 1);
            if (w->queued < DBWRITER_GATHER_ENTRIES &&
                clock_mono_ns() - w->last_write_ns < (int64_t)DBWRITER_GATHER_MS * 1000000)
                continue;
        }
        w->last_write_ns = clock_mono_ns();
        struct dbwriter_batch *taken = w->head;
        w->head = w->tail = NULL;
        w->queued = 0;
        w->busy = true;
        int64_t pos = w->written_seq;
        pthread_mutex_unlock(&w->lock);

        int rc;
        while ((rc = dbwriter_write(w, taken, &pos, why, sizeof why)) == -1) {
            pthread_mutex_lock(&w->lock);
            dbwriter_health(w, false, why);
            dbwriter_wait_ms(w, DBWRITER_RETRY_MS);
            bool stop = w->stop;
            pthread_mutex_unlock(&w->lock);
            if (stop)
                break;
            int64_t at = dbwriter_db_position(w, why, sizeof why);
            if (at >= 0)
                pos = at;
        }
        dbwriter_free_batches(taken);
        pthread_mutex_lock(&w->lock);
        w->busy = false;
        if (rc == 0) {
            w->written_seq = pos;
            dbwriter_health(w, true, "");
        } else if (rc == -2) {
            /* What the DB lost is not queued any more: memory goes back to the DB. */
            log_warn("dbwriter", "%s: memory is rebuilt from the DB", why);
            w->gap = true;
            w->written_seq = pos;
            dbwriter_free_batches(w->head);
            w->head = w->tail = NULL;
            w->queued = 0;
        }
        pthread_cond_broadcast(&w->cond);
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

int dbwriter_start(struct dbwriter *w, const char *conninfo, int64_t db_seq, char *why, size_t len)
{
    memset(w, 0, sizeof *w);
    w->written_seq = db_seq;
    w->ok = true;
    pthread_mutex_init(&w->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&w->cond, &attr);
    pthread_condattr_destroy(&attr);
    snprintf(w->db.conninfo, sizeof w->db.conninfo, "%s", conninfo);
    char err[400];
    if (!bookdb_ready(&w->db, err, sizeof err))
        dbwriter_health(w, false, err);
    int rc = pthread_create(&w->thread, NULL, dbwriter_main, w);
    if (rc != 0) {
        snprintf(why, len, "starting the books DB writer: %s", strerror(rc));
        bookdb_close(&w->db);
        return -1;
    }
    w->started = true;
    return 0;
}

void dbwriter_stop(struct dbwriter *w)
{
    if (!w->started)
        return;
    pthread_mutex_lock(&w->lock);
    w->stop = true;
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    w->started = false;
    /* What is still queued is in the log: the next start writes it. */
    dbwriter_free_batches(w->head);
    w->head = w->tail = NULL;
    bookdb_close(&w->db);
    pthread_cond_destroy(&w->cond);
    pthread_mutex_destroy(&w->lock);
}

void dbwriter_push(struct dbwriter *w, getquery_reply *rep, struct bookdb_entry *rows, int n)
{
    struct dbwriter_batch *b = calloc(1, sizeof *b);
    pthread_mutex_lock(&w->lock);
    if (!b || w->gap || w->stop) {
        /* Dropped: if it was needed, the writer finds the DB behind and asks for a
         * reload, which applies it again from the log. */
        pthread_mutex_unlock(&w->lock);
        replclient_free(rep);
        free(rows);
        free(b);
        return;
    }
    b->rep = *rep;
    memset(rep, 0, sizeof *rep);
    b->rows = rows;
    b->n = n;
    if (w->tail)
        w->tail->next = b;
    else
        w->head = b;
    w->tail = b;
    w->queued += n;
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->lock);
}

bool dbwriter_full(struct dbwriter *w)
{
    pthread_mutex_lock(&w->lock);
    bool full = w->queued >= DBWRITER_MAX_QUEUED;
    pthread_mutex_unlock(&w->lock);
    return full;
}

bool dbwriter_gap(struct dbwriter *w)
{
    pthread_mutex_lock(&w->lock);
    bool gap = w->gap;
    pthread_mutex_unlock(&w->lock);
    return gap;
}

void dbwriter_reset(struct dbwriter *w, int64_t db_seq)
{
    pthread_mutex_lock(&w->lock);
    while (w->busy)
        pthread_cond_wait(&w->cond, &w->lock);
    dbwriter_free_batches(w->head);
    w->head = w->tail = NULL;
    w->queued = 0;
    w->gap = false;
    w->written_seq = db_seq;
    pthread_mutex_unlock(&w->lock);
}

bool dbwriter_ok(struct dbwriter *w, char *why, size_t len)
{
    pthread_mutex_lock(&w->lock);
    bool ok = w->ok;
    snprintf(why, len, "%s", w->why);
    pthread_mutex_unlock(&w->lock);
    return ok;
}
