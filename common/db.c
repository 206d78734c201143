#include "db.h"

#include "log.h"

#include <stdio.h>
#include <string.h>

/* libpq's messages end in a newline and may span lines: make them one log line. */
static const char *db_one_line(char *buf, size_t len, const char *msg)
{
    snprintf(buf, len, "%s", msg);
    size_t n = strlen(buf);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
        buf[--n] = '\0';
    for (char *p = buf; *p; p++)
        if (*p == '\n')
            *p = ' ';
    return buf;
}

const char *db_error(PGconn *conn, char *buf, size_t len)
{
    return db_one_line(buf, len, conn ? PQerrorMessage(conn) : "no connection");
}

PGconn *db_connect(const char *conninfo, char *err, size_t errlen)
{
    /* Our defaults come first: what conninfo says (expanded in place) overrides them. */
    const char *const keys[] = {"connect_timeout", "options", "dbname", NULL};
    const char *const values[] = {"5", "-c statement_timeout=5000", conninfo, NULL};
    PGconn *conn = PQconnectdbParams(keys, values, 1);
    if (PQstatus(conn) != CONNECTION_OK) {
        char why[512];
        snprintf(err, errlen, "connecting to '%s': %s", conninfo, db_error(conn, why, sizeof why));
        PQfinish(conn);
        return NULL;
    }
    return conn;
}

int db_prepare(PGconn *conn, const char *name, const char *sql, int nparams)
{
    PGresult *res = PQprepare(conn, name, sql, nparams, NULL);
    int rc = 0;
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        char why[512];
        log_error("db", "preparing %s: %s", name,
                  db_one_line(why, sizeof why, PQresultErrorMessage(res)));
        rc = -1;
    }
    PQclear(res);
    return rc;
}

PGresult *db_run(PGconn *conn, const char *what, const char *stmt, int nparams,
                 const char *const *params)
{
    PGresult *res = PQexecPrepared(conn, stmt, nparams, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(res);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
        return res;
    char why[512];
    const char *msg = PQresultErrorMessage(res);
    if (msg && *msg)
        db_one_line(why, sizeof why, msg);
    else
        db_error(conn, why, sizeof why);
    log_error("db", "%s: %s", what, why);
    PQclear(res);
    return NULL;
}

int db_run_command(PGconn *conn, const char *what, const char *stmt, int nparams,
                   const char *const *params)
{
    PGresult *res = db_run(conn, what, stmt, nparams, params);
    if (!res)
        return -1;
    PQclear(res);
    return 0;
}

static int db_simple(PGconn *conn, const char *what, const char *sql)
{
    PGresult *res = PQexecParams(conn, sql, 0, NULL, NULL, NULL, NULL, 0);
    int rc = 0;
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        char why[512];
        log_error("db", "%s (%s): %s", what, sql, db_error(conn, why, sizeof why));
        rc = -1;
    }
    PQclear(res);
    return rc;
}

int db_begin(PGconn *conn, const char *what)
{
    return db_simple(conn, what, "BEGIN");
}

int db_commit(PGconn *conn, const char *what)
{
    return db_simple(conn, what, "COMMIT");
}

void db_rollback(PGconn *conn, const char *what)
{
    if (PQtransactionStatus(conn) != PQTRANS_IDLE)
        db_simple(conn, what, "ROLLBACK");
}
