#include "bookdb.h"

#include "clock.h"
#include "db.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BOOKDB_TS(n) "'epoch'::timestamptz + $" #n "::bigint * interval '1 microsecond'"

static const struct {
    const char *name, *sql;
    int nparams;
} bookdb_sql[] = {
    {"state", "SELECT applied_seq, coalesce((SELECT max(id) FROM session), 0) FROM replica_state", 0},
    {"requests", "SELECT book_id, server, user_id FROM request WHERE session_id = $1", 1},
    {"users", "SELECT id, name, host(address) FROM library_user", 0},
    {"advance", "UPDATE replica_state SET applied_seq = $1, applied_at = now() "
                "WHERE applied_seq = $1::bigint - 1", 1},
    {"add_user", "INSERT INTO library_user (id, name, address, first_seen) "
                 "VALUES ($1, $2, $3, " BOOKDB_TS(4) ") ON CONFLICT (name, address) DO NOTHING", 4},
    {"open_session", "INSERT INTO session (id, previous, opened_at, opened_by) "
                     "VALUES ($1, nullif($2::bigint, 0), " BOOKDB_TS(3) ", $4)", 4},
    {"close_session", "UPDATE session SET closed_at = " BOOKDB_TS(2) " "
                      "WHERE id = $1 AND closed_at IS NULL", 2},
    {"add_request", "INSERT INTO request (id, session_id, user_id, book_id, isbn, server, "
                    "client_time, server_time, requested_at) VALUES ($1, $2, $3, $4, $5, $6, "
                    "$7, $8, " BOOKDB_TS(9) ")", 9},
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
        snprintf(err, sizeof err, "the database lacks the schema of db/books.sql");
        bookdb_close(db);
    }
    if (!db->conn)
        snprintf(why, len, "books DB unavailable: %s", err);
    return db->conn != NULL;
}

bool bookdb_ping(struct bookdb *db, char *why, size_t len)
{
    if (!bookdb_ready(db, why, len))
        return false;
    PGresult *res = PQexecParams(db->conn, "SELECT 1", 0, NULL, NULL, NULL, NULL, 0);
    bool ok = PQresultStatus(res) == PGRES_TUPLES_OK;
    PQclear(res);
    if (!ok) {
        char e[300];
        snprintf(why, len, "books DB unavailable: %s", db_error(db->conn, e, sizeof e));
        bookdb_close(db);
    }
    return ok;
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

static int bookdb_command(struct bookdb *db, const char *stmt, int n, const char *const *p,
                          char *why, size_t len)
{
    PGresult *res = bookdb_run(db, stmt, n, p, why, len);
    if (!res)
        return -1;
    PQclear(res);
    return 0;
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
    } else {
        snprintf(why, len, "books DB: replica_state has no row");
    }
    PQclear(res);
    return rc;
}

int bookdb_each_request(struct bookdb *db, int64_t session,
                        void (*fn)(void *ctx, int book_id, int server, int64_t user_id),
                        void *ctx, char *why, size_t len)
{
    char s[24];
    snprintf(s, sizeof s, "%" PRId64, session);
    const char *p[1] = {s};
    PGresult *res = bookdb_run(db, "requests", 1, p, why, len);
    if (!res)
        return -1;
    for (int i = 0; i < PQntuples(res); i++) {
        int64_t user = 0;
        sscanf(PQgetvalue(res, i, 2), "%" SCNd64, &user);
        fn(ctx, atoi(PQgetvalue(res, i, 0)), atoi(PQgetvalue(res, i, 1)), user);
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

static int bookdb_simple(struct bookdb *db, const char *sql, char *why, size_t len)
{
    PGresult *res = PQexecParams(db->conn, sql, 0, NULL, NULL, NULL, NULL, 0);
    int rc = PQresultStatus(res) == PGRES_COMMAND_OK ? 0 : -1;
    if (rc < 0) {
        char e[300];
        snprintf(why, len, "books DB: %s: %s", sql, db_error(db->conn, e, sizeof e));
    }
    PQclear(res);
    return rc;
}

int bookdb_begin(struct bookdb *db, char *why, size_t len)
{
    return bookdb_simple(db, "BEGIN", why, len);
}

void bookdb_rollback(struct bookdb *db)
{
    char why[200];
    if (db->conn && PQtransactionStatus(db->conn) != PQTRANS_IDLE)
        bookdb_simple(db, "ROLLBACK", why, sizeof why);
}

int bookdb_commit(struct bookdb *db, int64_t seq, char *why, size_t len)
{
    char s[24];
    snprintf(s, sizeof s, "%" PRId64, seq);
    const char *p[1] = {s};
    PGresult *res = bookdb_run(db, "advance", 1, p, why, len);
    if (!res)
        return -1;
    bool moved = strcmp(PQcmdTuples(res), "1") == 0;
    PQclear(res);
    if (!moved) {
        snprintf(why, len, "books DB: replica_state is not at entry %" PRId64 " - 1", seq);
        return -1;
    }
    return bookdb_simple(db, "COMMIT", why, len);
}

int bookdb_add_user(struct bookdb *db, int64_t id, const char *name, const char *address,
                    int64_t at_us, char *why, size_t len)
{
    char i[24], at[24];
    snprintf(i, sizeof i, "%" PRId64, id);
    snprintf(at, sizeof at, "%" PRId64, at_us);
    const char *p[4] = {i, name, address, at};
    return bookdb_command(db, "add_user", 4, p, why, len);
}

int bookdb_open_session(struct bookdb *db, int64_t id, int64_t prev, int origin,
                        int64_t at_us, char *why, size_t len)
{
    char i[24], pr[24], at[24], o[16];
    snprintf(i, sizeof i, "%" PRId64, id);
    snprintf(pr, sizeof pr, "%" PRId64, prev);
    snprintf(at, sizeof at, "%" PRId64, at_us);
    snprintf(o, sizeof o, "%d", origin);
    const char *p[4] = {i, pr, at, o};
    if (bookdb_command(db, "open_session", 4, p, why, len) < 0)
        return -1;
    return prev > 0 ? bookdb_close_session(db, prev, at_us, why, len) : 0;
}

int bookdb_close_session(struct bookdb *db, int64_t id, int64_t at_us, char *why, size_t len)
{
    char i[24], at[24];
    snprintf(i, sizeof i, "%" PRId64, id);
    snprintf(at, sizeof at, "%" PRId64, at_us);
    const char *p[2] = {i, at};
    return bookdb_command(db, "close_session", 2, p, why, len);
}

int bookdb_add_request(struct bookdb *db, int64_t id, int64_t session, int64_t user_id,
                       int book_id, const char *isbn, int server, int64_t client_time_us,
                       int64_t server_time_us, int64_t at_us, char *why, size_t len)
{
    char i[24], s[24], u[24], b[16], sv[16], ct[24], st[24], at[24];
    snprintf(i, sizeof i, "%" PRId64, id);
    snprintf(s, sizeof s, "%" PRId64, session);
    snprintf(u, sizeof u, "%" PRId64, user_id);
    snprintf(b, sizeof b, "%d", book_id);
    snprintf(sv, sizeof sv, "%d", server);
    clock_format(client_time_us, true, ct, sizeof ct);
    clock_format(server_time_us, true, st, sizeof st);
    snprintf(at, sizeof at, "%" PRId64, at_us);
    const char *p[9] = {i, s, u, b, isbn, sv, client_time_us >= 0 ? ct : NULL, st, at};
    return bookdb_command(db, "add_request", 9, p, why, len);
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
