#include "bookdb.h"

#include "clock.h"
#include "db.h"
#include "pgarray.h"

#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name, *sql;
    int nparams;
} bookdb_sql[] = {
    {"state", "SELECT applied_seq, coalesce(c.id, 0), log_time_us, coalesce(c.closed_at IS NOT NULL, false) "
              "FROM replica_state LEFT JOIN (SELECT id, closed_at FROM session ORDER BY id DESC LIMIT 1) c "
              "ON true", 0},
    /* A session ends with the SESSION_OPEN of the next one. */
    /* ... and is remembered only if it had a key: a request or a key released unused. */
    {"ended", "SELECT s.id, n.opened_log_us FROM session s JOIN session n ON n.previous = s.id "
              "WHERE n.opened_log_us >= $1 AND (EXISTS (SELECT 1 FROM request q WHERE q.session_id = s.id) "
              "OR EXISTS (SELECT 1 FROM book_release r WHERE r.session_id = s.id "
              "AND r.outcome = 'nothing held')) ORDER BY n.id DESC LIMIT $2", 2},
    {"last_own", "SELECT q.book_id, u.name FROM request q JOIN library_user u ON u.id = q.user_id "
                 "WHERE q.server = $1 ORDER BY q.id DESC LIMIT 1", 1},
    {"requests", "SELECT q.id, q.book_id, q.server, q.user_id, u.name, encode(q.request_key, 'hex'), "
                 "q.released_at IS NOT NULL FROM request q JOIN library_user u ON u.id = q.user_id "
                 "WHERE q.session_id = $1", 1},
    {"dead_keys", "SELECT encode(request_key, 'hex'), user_name FROM book_release "
                  "WHERE session_id = $1 AND outcome = 'nothing held'", 1},
    {"users", "SELECT id, name, host(address) FROM library_user", 0},
    {"apply", "SELECT apply_entries($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, "
              "$14, $15, $16, $17, $18)", 18},
    {"cover", "SELECT cover FROM book WHERE id = $1 AND cover IS NOT NULL", 1},
};

static int bookdb_prepare(PGconn *conn)
{
    for (size_t i = 0; i < sizeof bookdb_sql / sizeof bookdb_sql[0]; i++)
        if (db_prepare(conn, bookdb_sql[i].name, bookdb_sql[i].sql, bookdb_sql[i].nparams) < 0)
            return -1;
    /* Safe to lose on a crash: see bookdb.h. */
    PGresult *res = PQexecParams(conn, "SET synchronous_commit = off", 0, NULL, NULL, NULL, NULL, 0);
    int rc = PQresultStatus(res) == PGRES_COMMAND_OK ? 0 : -1;
    PQclear(res);
    return rc;
}

int bookdb_open(struct bookdb *db, const char *conninfo, char *why, size_t len)
{
    memset(db, 0, sizeof *db);
    snprintf(db->conninfo, sizeof db->conninfo, "%s", conninfo);
    return bookdb_ready(db, why, len) ? 0 : -1;
}

void bookdb_close(struct bookdb *db)
{
    if (db->conn)
        PQfinish(db->conn);
    db->conn = NULL;
}

bool bookdb_ready(struct bookdb *db, char *why, size_t len)
{
    if (db->conn && PQstatus(db->conn) == CONNECTION_OK)
        return true;
    bookdb_close(db);
    char err[400];
    db->conn = db_connect(db->conninfo, err, sizeof err);
    if (db->conn && bookdb_prepare(db->conn) < 0) {
        snprintf(err, sizeof err, "the database lacks the schema of db/books.sql (load it; "
                                  "scripts/cluster reset-data does for its cluster)");
        bookdb_close(db);
    }
    if (!db->conn)
        snprintf(why, len, "books DB unavailable: %s", err);
    return db->conn != NULL;
}

bool bookdb_ping(struct bookdb *db, char *why, size_t len)
{
    /* A connection ended by the server fails only when used: then try a new one once. */
    for (int attempt = 0; attempt < 2; attempt++) {
        if (!bookdb_ready(db, why, len))
            return false;
        PGresult *res = PQexecParams(db->conn, "SELECT 1", 0, NULL, NULL, NULL, NULL, 0);
        bool ok = PQresultStatus(res) == PGRES_TUPLES_OK;
        PQclear(res);
        if (ok)
            return true;
        char e[300];
        snprintf(why, len, "books DB unavailable: %s", db_error(db->conn, e, sizeof e));
        bookdb_close(db);
    }
    return false;
}

bool bookdb_quiet(struct bookdb *db)
{
    if (!db->conn || PQstatus(db->conn) != CONNECTION_OK || PQsocket(db->conn) < 0)
        return false;
    struct pollfd p = {.fd = PQsocket(db->conn), .events = POLLIN | POLLRDHUP};
    return poll(&p, 1, 0) == 0;
}

static PGresult *bookdb_run(struct bookdb *db, const char *stmt, int n, const char *const *p,
                            char *why, size_t len)
{
    PGresult *res = db_run(db->conn, stmt, stmt, n, p);
    if (!res) {
        char e[300];
        snprintf(why, len, "books DB: %s: %s", stmt, db_error(db->conn, e, sizeof e));
    }
    return res;
}

int bookdb_state(struct bookdb *db, struct bookdb_state *st, char *why, size_t len)
{
    PGresult *res = bookdb_run(db, "state", 0, NULL, why, len);
    if (!res)
        return -1;
    int rc = PQntuples(res) == 1 ? 0 : -1;
    if (rc == 0) {
        sscanf(PQgetvalue(res, 0, 0), "%" SCNd64, &st->applied_seq);
        sscanf(PQgetvalue(res, 0, 1), "%" SCNd64, &st->session);
        sscanf(PQgetvalue(res, 0, 2), "%" SCNd64, &st->log_time_us);
        st->session_closed = PQgetvalue(res, 0, 3)[0] == 't';
    } else {
        snprintf(why, len, "books DB: replica_state has no row");
    }
    PQclear(res);
    return rc;
}

/* A key from its hex text (encode(key, 'hex')): 0, or -1 if it is not 16 bytes. */
static int bookdb_key(const char *hex, unsigned char *key)
{
    if (strlen(hex) != 32)
        return -1;
    for (int i = 0; i < 16; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1)
            return -1;
        key[i] = (unsigned char)v;
    }
    return 0;
}

int bookdb_each_request(struct bookdb *db, int64_t session,
                        void (*fn)(void *ctx, const struct bookdb_request *q),
                        void *ctx, char *why, size_t len)
{
    char s[24];
    snprintf(s, sizeof s, "%" PRId64, session);
    const char *p[1] = {s};
    PGresult *res = bookdb_run(db, "requests", 1, p, why, len);
    if (!res)
        return -1;
    int rc = 0;
    for (int i = 0; i < PQntuples(res) && rc == 0; i++) {
        struct bookdb_request q = {.book_id = atoi(PQgetvalue(res, i, 1)),
                                   .server = atoi(PQgetvalue(res, i, 2)),
                                   .user = PQgetvalue(res, i, 4),
                                   .released = PQgetvalue(res, i, 6)[0] == 't'};
        sscanf(PQgetvalue(res, i, 0), "%" SCNd64, &q.id);
        sscanf(PQgetvalue(res, i, 3), "%" SCNd64, &q.user_id);
        if (bookdb_key(PQgetvalue(res, i, 5), q.key) < 0) {
            snprintf(why, len, "books DB: request %" PRId64 " has a malformed key", q.id);
            rc = -1;
        } else {
            fn(ctx, &q);
        }
    }
    PQclear(res);
    return rc;
}

int bookdb_each_dead_key(struct bookdb *db, int64_t session,
                         void (*fn)(void *ctx, const unsigned char *key, const char *user),
                         void *ctx, char *why, size_t len)
{
    char s[24];
    snprintf(s, sizeof s, "%" PRId64, session);
    const char *p[1] = {s};
    PGresult *res = bookdb_run(db, "dead_keys", 1, p, why, len);
    if (!res)
        return -1;
    int rc = 0;
    for (int i = 0; i < PQntuples(res) && rc == 0; i++) {
        unsigned char key[16];
        if (bookdb_key(PQgetvalue(res, i, 0), key) < 0) {
            snprintf(why, len, "books DB: a released key is malformed");
            rc = -1;
        } else {
            fn(ctx, key, PQgetvalue(res, i, 1));
        }
    }
    PQclear(res);
    return rc;
}

int bookdb_last_own(struct bookdb *db, int instance, int *book_id, char *user, size_t user_len,
                    char *why, size_t len)
{
    char a[16];
    snprintf(a, sizeof a, "%d", instance);
    const char *p[1] = {a};
    PGresult *res = bookdb_run(db, "last_own", 1, p, why, len);
    if (!res)
        return -1;
    *book_id = 0;
    user[0] = '\0';
    if (PQntuples(res) == 1) {
        *book_id = atoi(PQgetvalue(res, 0, 0));
        snprintf(user, user_len, "%s", PQgetvalue(res, 0, 1));
    }
    PQclear(res);
    return 0;
}

int bookdb_each_ended_session(struct bookdb *db, int64_t since_us, int max,
                              void (*fn)(void *ctx, int64_t session, int64_t ended_us),
                              void *ctx, char *why, size_t len)
{
    char a[24], b[16];
    snprintf(a, sizeof a, "%" PRId64, since_us);
    snprintf(b, sizeof b, "%d", max);
    const char *p[2] = {a, b};
    PGresult *res = bookdb_run(db, "ended", 2, p, why, len);
    if (!res)
        return -1;
    for (int i = 0; i < PQntuples(res); i++) {
        int64_t id = 0, ended = 0;
        sscanf(PQgetvalue(res, i, 0), "%" SCNd64, &id);
        sscanf(PQgetvalue(res, i, 1), "%" SCNd64, &ended);
        fn(ctx, id, ended);
    }
    PQclear(res);
    return 0;
}

int bookdb_each_user(struct bookdb *db,
                     void (*fn)(void *ctx, int64_t id, const char *name, const char *address),
                     void *ctx, char *why, size_t len)
{
    PGresult *res = bookdb_run(db, "users", 0, NULL, why, len);
    if (!res)
        return -1;
    for (int i = 0; i < PQntuples(res); i++) {
        int64_t id = 0;
        sscanf(PQgetvalue(res, i, 0), "%" SCNd64, &id);
        fn(ctx, id, PQgetvalue(res, i, 1), PQgetvalue(res, i, 2));
    }
    PQclear(res);
    return 0;
}

static const char *bookdb_i64(char *buf, size_t len, int64_t v)
{
    snprintf(buf, len, "%" PRId64, v);
    return buf;
}

static const char *bookdb_time(char *buf, size_t len, int64_t us)
{
    if (us < 0)
        return NULL;
    clock_format(us, true, buf, len);
    return buf;
}

/* apply_entries()'s arrays after its first parameter, in its order. */
enum { BA_KIND, BA_APPLIES, BA_AT, BA_ORIGIN, BA_SESSION, BA_PREV, BA_USER_ID, BA_NEW_USER,
       BA_NAME, BA_ADDRESS, BA_BOOK_ID, BA_ISBN, BA_CLIENT_TIME, BA_SERVER_TIME, BA_KEY,
       BA_RELEASE_OF, BA_OUTCOME, BA_COUNT };

static void bookdb_add_entry(struct pgarray *a, const struct bookdb_entry *e)
{
    bool claim = strcmp(e->kind, "BOOK_CLAIM") == 0;
    char t[24];
    pgarray_add(&a[BA_KIND], e->kind);
    pgarray_add_bool(&a[BA_APPLIES], e->applies);
    pgarray_add_i64(&a[BA_AT], e->at_us);
    pgarray_add_i64(&a[BA_ORIGIN], e->origin);
    pgarray_add_i64(&a[BA_SESSION], e->session);
    pgarray_add_i64(&a[BA_PREV], e->prev);
    pgarray_add_i64(&a[BA_USER_ID], e->user_id);
    pgarray_add_bool(&a[BA_NEW_USER], e->new_user);
    pgarray_add(&a[BA_NAME], e->name);
    pgarray_add(&a[BA_ADDRESS], e->address);
    if (claim)
        pgarray_add_i64(&a[BA_BOOK_ID], e->book_id);
    else
        pgarray_add(&a[BA_BOOK_ID], NULL);
    pgarray_add(&a[BA_ISBN], e->isbn);
    pgarray_add(&a[BA_CLIENT_TIME], claim ? bookdb_time(t, sizeof t, e->client_time_us) : NULL);
    pgarray_add(&a[BA_SERVER_TIME], claim ? bookdb_time(t, sizeof t, e->server_time_us) : NULL);
    char hex[2 + 32 + 1] = "\\x";
    for (int i = 0; e->key && i < 16; i++)
        sprintf(hex + 2 + 2 * i, "%02x", e->key[i]);
    pgarray_add(&a[BA_KEY], e->key ? hex : NULL);
    pgarray_add_i64(&a[BA_RELEASE_OF], e->release_of);
    pgarray_add(&a[BA_OUTCOME], e->outcome);
}

int bookdb_apply(struct bookdb *db, const struct bookdb_entry *e, int n, char *why, size_t len)
{
    if (n <= 0)
        return 0;
    for (int i = 1; i < n; i++)
        if (e[i].seq != e[0].seq + i) { /* apply_entries() numbers them from the first */
            snprintf(why, len, "books DB: entry %" PRId64 " after %" PRId64 " in one batch",
                     e[i].seq, e[i - 1].seq);
            return 0;
        }
    struct pgarray a[BA_COUNT];
    for (int k = 0; k < BA_COUNT; k++)
        pgarray_init(&a[k]);
    for (int i = 0; i < n; i++)
        bookdb_add_entry(a, &e[i]);
    char first[24];
    const char *p[1 + BA_COUNT] = {bookdb_i64(first, sizeof first, e[0].seq)};
    bool built = true;
    for (int k = 0; k < BA_COUNT; k++)
        built = (p[1 + k] = pgarray_text(&a[k])) != NULL && built;
    int applied = 0;
    if (!built) {
        snprintf(why, len, "books DB: out of memory for %d entries", n);
    } else {
        PGresult *res = bookdb_run(db, "apply", 1 + BA_COUNT, p, why, len);
        if (res) {
            applied = n;
            PQclear(res);
        }
    }
    for (int k = 0; k < BA_COUNT; k++)
        pgarray_free(&a[k]);
    return applied;
}

unsigned char *bookdb_cover(struct bookdb *db, int book_id, size_t *len)
{
    char b[16], why[200];
    snprintf(b, sizeof b, "%d", book_id);
    const char *p[1] = {b};
    PGresult *res = bookdb_run(db, "cover", 1, p, why, sizeof why);
    unsigned char *out = NULL;
    *len = 0;
    if (res && PQntuples(res) == 1) {
        size_t n = 0;
        unsigned char *raw = PQunescapeBytea((const unsigned char *)PQgetvalue(res, 0, 0), &n);
        if (raw && (out = malloc(n ? n : 1))) {
            memcpy(out, raw, n);
            *len = n;
        }
        PQfreemem(raw);
    }
    if (res)
        PQclear(res);
    return out;
}
