#include "replog.h"

#include "db.h"
#include "log.h"
#include "pgarray.h"
#include "replop.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const replog_sql[][2] = {
    {"last_seq", "SELECT coalesce(max(seq), 0) FROM log"},
    /* A whole group in one statement, so one round trip: a column per array. */
    {"insert",
     "INSERT INTO log (seq, origin, kind, payload, session, isbn, user_name, request_key, "
     "appended_at) "
     "SELECT e.seq, e.origin, e.kind, e.payload, e.session, e.isbn, e.user_name, e.request_key, "
     "'epoch'::timestamptz + e.at_us * interval '1 microsecond' "
     "FROM unnest($1::bigint[], $2::integer[], $3::text[], $4::bytea[], $5::bigint[], "
     "$6::text[], $7::text[], $8::bytea[], $9::bigint[]) "
     "AS e(seq, origin, kind, payload, session, isbn, user_name, request_key, at_us) "
     "ORDER BY e.seq"},
    {"read",
     "SELECT seq, origin, (extract(epoch FROM appended_at) * 1000000)::bigint, payload "
     "FROM log WHERE seq > $1 ORDER BY seq LIMIT $2"},
};

static int replog_connect(struct replog *l, char *err, size_t errlen)
{
    static const int nparams[] = {0, 9, 2};
    l->conn = db_connect(l->conninfo, err, errlen);
    if (!l->conn)
        return -1;
    for (size_t i = 0; i < sizeof replog_sql / sizeof replog_sql[0]; i++)
        if (db_prepare(l->conn, replog_sql[i][0], replog_sql[i][1], nparams[i]) < 0) {
            snprintf(err, errlen, "replication DB lacks the schema of db/replication.sql");
            PQfinish(l->conn);
            l->conn = NULL;
            return -1;
        }
    PGresult *res = db_run(l->conn, "reading the last sequence number", "last_seq", 0, NULL);
    if (!res) {
        snprintf(err, errlen, "cannot read the log's last sequence number");
        PQfinish(l->conn);
        l->conn = NULL;
        return -1;
    }
    int64_t last = 0;
    sscanf(PQgetvalue(res, 0, 0), "%" SCNd64, &last);
    PQclear(res);
    if (last != l->last_seq && l->last_seq != 0)
        log_warn("log", "stored log ends at %" PRId64 ", memory said %" PRId64, last, l->last_seq);
    if (last != l->last_seq) {
        /* The ring no longer matches what is stored: start it afresh. */
        l->last_seq = last;
        l->ring_first = last + 1;
    }
    return 0;
}

/* Usable connection, reconnecting once if it broke. */
static bool replog_ready(struct replog *l, char *why, size_t len)
{
    if (l->conn && PQstatus(l->conn) == CONNECTION_OK)
        return true;
    if (l->conn)
        PQfinish(l->conn);
    l->conn = NULL;
    char err[400];
    if (replog_connect(l, err, sizeof err) < 0) {
        snprintf(why, len, "replication DB unavailable: %s", err);
        return false;
    }
    log_info("log", "replication DB reconnected; log ends at %" PRId64, l->last_seq);
    return true;
}

int replog_open(struct replog *l, const char *conninfo, char *err, size_t errlen)
{
    memset(l, 0, sizeof *l);
    snprintf(l->conninfo, sizeof l->conninfo, "%s", conninfo);
    l->ring_first = 1;
    l->ring = calloc(REPLOG_RING, sizeof *l->ring);
    l->staged = calloc(REPLOG_STAGE_MAX, sizeof *l->staged);
    if (!l->ring || !l->staged) {
        snprintf(err, errlen, "out of memory");
        replog_close(l);
        return -1;
    }
    if (replog_connect(l, err, errlen) < 0) {
        replog_close(l);
        return -1;
    }
    return 0;
}

void replog_close(struct replog *l)
{
    if (l->ring)
        for (size_t i = 0; i < REPLOG_RING; i++)
            free(l->ring[i].bytes);
    for (size_t i = 0; l->staged && i < l->nstaged; i++)
        free(l->staged[i].item.bytes);
    free(l->ring);
    free(l->staged);
    if (l->conn)
        PQfinish(l->conn);
    memset(l, 0, sizeof *l);
}

static int64_t replog_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* The readable columns a DBA sees next to the XDR payload. */
static void replog_readable(struct replog_staged *s, const repl_op *op)
{
    int64_t session = 0;
    s->kind = op->kind;
    switch (op->kind) {
    case OP_USER_SEEN:
        snprintf(s->user, sizeof s->user, "%s", op->repl_op_u.user_seen.name);
        s->has_user = true;
        return;
    case OP_SESSION_OPEN:
        session = op->repl_op_u.session_open.prev_session;
        break;
    case OP_BOOK_CLAIM:
        session = op->repl_op_u.book_claim.session;
        snprintf(s->isbn, sizeof s->isbn, "%s", op->repl_op_u.book_claim.isbn);
        snprintf(s->user, sizeof s->user, "%s", op->repl_op_u.book_claim.user);
        s->has_isbn = s->has_user = true;
        break;
    case OP_SESSION_CLOSE:
        session = op->repl_op_u.session_close.session;
        break;
    case OP_BOOK_RELEASE:
        session = op->repl_op_u.book_release.session;
        snprintf(s->user, sizeof s->user, "%s", op->repl_op_u.book_release.user);
        s->has_user = true;
        break;
    }
    const char *key = op->kind == OP_BOOK_CLAIM ? op->repl_op_u.book_claim.key
                      : op->kind == OP_BOOK_RELEASE ? op->repl_op_u.book_release.key : NULL;
    if (key) {
        strcpy(s->key, "\\x");
        for (int i = 0; i < REPL_KEY_LEN; i++)
            sprintf(s->key + 2 + i * 2, "%02x", (unsigned char)key[i]);
        s->has_key = true;
    }
    s->has_session = session > 0;
    snprintf(s->session, sizeof s->session, "%" PRId64, session);
}

int64_t replog_stage(struct replog *l, int origin, const repl_op *op, char *why, size_t len)
{
    if (l->nstaged == REPLOG_STAGE_MAX) {
        snprintf(why, len, "too many entries waiting to be stored");
        return -1;
    }
    if (!replog_ready(l, why, len))
        return -1;
    char buf[REPLOG_OP_MAX];
    int n = replop_encode(op, buf, sizeof buf);
    struct replog_staged *s = &l->staged[l->nstaged];
    memset(s, 0, sizeof *s);
    if (n < 0 || !(s->item.bytes = malloc((size_t)n))) {
        snprintf(why, len, "cannot encode the operation");
        return -1;
    }
    memcpy(s->item.bytes, buf, (size_t)n);
    s->item.len = (uint16_t)n;
    s->item.seq = l->last_seq + (int64_t)l->nstaged + 1;
    s->item.origin = origin;
    s->item.appended_at_us = replog_now_us();
    replog_readable(s, op);
    l->nstaged++;
    return s->item.seq;
}

void replog_unstage(struct replog *l, size_t keep)
{
    while (l->nstaged > keep)
        free(l->staged[--l->nstaged].item.bytes);
}

enum { RL_SEQ, RL_ORIGIN, RL_KIND, RL_PAYLOAD, RL_SESSION, RL_ISBN, RL_USER, RL_KEY, RL_AT, RL_COUNT };

static void replog_add_row(struct pgarray *a, const struct replog_staged *s, char *hex)
{
    strcpy(hex, "\\x");
    for (size_t i = 0; i < s->item.len; i++)
        sprintf(hex + 2 + i * 2, "%02x", (unsigned char)s->item.bytes[i]);
    pgarray_add_i64(&a[RL_SEQ], s->item.seq);
    pgarray_add_i64(&a[RL_ORIGIN], s->item.origin);
    pgarray_add(&a[RL_KIND], replop_kind_name(s->kind));
    pgarray_add(&a[RL_PAYLOAD], hex);
    pgarray_add(&a[RL_SESSION], s->has_session ? s->session : NULL);
    pgarray_add(&a[RL_ISBN], s->has_isbn ? s->isbn : NULL);
    pgarray_add(&a[RL_USER], s->has_user ? s->user : NULL);
    pgarray_add(&a[RL_KEY], s->has_key ? s->key : NULL);
    pgarray_add_i64(&a[RL_AT], s->item.appended_at_us);
}

/* Stores the staged entries with one statement (one transaction, committed
 * synchronously as the replication DB is). 0, or -1 when nothing was stored. */
static int replog_insert(struct replog *l)
{
    struct pgarray a[RL_COUNT];
    for (int k = 0; k < RL_COUNT; k++)
        pgarray_init(&a[k]);
    char *hex = malloc(REPLOG_OP_MAX * 2 + 3);
    for (size_t i = 0; hex && i < l->nstaged; i++)
        replog_add_row(a, &l->staged[i], hex);
    const char *p[RL_COUNT];
    bool built = hex != NULL;
    for (int k = 0; k < RL_COUNT; k++)
        built = (p[k] = pgarray_text(&a[k])) != NULL && built;
    int rc = built ? db_run_command(l->conn, "storing log entries", "insert", RL_COUNT, p) : -1;
    for (int k = 0; k < RL_COUNT; k++)
        pgarray_free(&a[k]);
    free(hex);
    return rc;
}

static void replog_to_ring(struct replog *l, struct replog_item *it)
{
    struct replog_item *slot = &l->ring[it->seq % REPLOG_RING];
    free(slot->bytes);
    *slot = *it;
    it->bytes = NULL;
    if (it->seq - l->ring_first >= REPLOG_RING)
        l->ring_first = it->seq - REPLOG_RING + 1;
}

int replog_flush(struct replog *l, char *why, size_t len)
{
    if (l->nstaged == 0)
        return 0;
    bool ok = replog_insert(l) == 0;
    if (ok) {
        for (size_t i = 0; i < l->nstaged; i++)
            replog_to_ring(l, &l->staged[i].item);
        l->last_seq += (int64_t)l->nstaged;
    } else {
        snprintf(why, len, "replication DB could not store %zu entries", l->nstaged);
        for (size_t i = 0; i < l->nstaged; i++)
            free(l->staged[i].item.bytes);
        /* Whatever happened to the connection, make the next stage check it again. */
        if (PQstatus(l->conn) != CONNECTION_OK) {
            PQfinish(l->conn);
            l->conn = NULL;
        }
    }
    l->nstaged = 0;
    return ok ? 0 : -1;
}

static int replog_entry(const struct replog_item *it, repl_entry *e)
{
    e->seq = it->seq;
    e->origin = it->origin;
    e->appended_at_us = it->appended_at_us;
    return replop_decode(it->bytes, it->len, &e->op);
}

static int replog_read_db(struct replog *l, int64_t after, int max, repl_entry *out, char *why,
                          size_t len)
{
    if (!replog_ready(l, why, len))
        return -1;
    char a[24], m[16];
    snprintf(a, sizeof a, "%" PRId64, after);
    snprintf(m, sizeof m, "%d", max);
    const char *p[2] = {a, m};
    PGresult *res = db_run(l->conn, "reading log entries", "read", 2, p);
    if (!res) {
        snprintf(why, len, "replication DB could not read the log");
        return -1;
    }
    int n = PQntuples(res), got = 0;
    for (int i = 0; i < n; i++) {
        struct replog_item it = {0};
        size_t blen = 0;
        sscanf(PQgetvalue(res, i, 0), "%" SCNd64, &it.seq);
        it.origin = atoi(PQgetvalue(res, i, 1));
        sscanf(PQgetvalue(res, i, 2), "%" SCNd64, &it.appended_at_us);
        unsigned char *bytes = PQunescapeBytea((const unsigned char *)PQgetvalue(res, i, 3), &blen);
        it.bytes = (char *)bytes;
        it.len = (uint16_t)blen;
        int rc = bytes ? replog_entry(&it, &out[got]) : -1;
        PQfreemem(bytes);
        if (rc < 0) {
            snprintf(why, len, "log entry %" PRId64 " is damaged", it.seq);
            if (got == 0)
                got = -1;
            break;
        }
        got++;
    }
    PQclear(res);
    return got;
}

int replog_read(struct replog *l, int64_t after, int max, repl_entry *out, char *why, size_t len)
{
    if (after >= l->last_seq || max <= 0)
        return 0;
    if (after + 1 < l->ring_first)
        return replog_read_db(l, after, max, out, why, len);
    int got = 0;
    for (int64_t seq = after + 1; seq <= l->last_seq && got < max; seq++) {
        if (replog_entry(&l->ring[seq % REPLOG_RING], &out[got]) < 0) {
            snprintf(why, len, "log entry %" PRId64 " could not be decoded", seq);
            return got > 0 ? got : -1;
        }
        got++;
    }
    return got;
}
