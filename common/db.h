/* db: libpq with every result checked and cleared, errors logged as "what: why". */
#ifndef BT_DB_H
#define BT_DB_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

/* Connects with a 5 s connect timeout and a 5 s statement timeout (unless conninfo sets
 * them), so a hung database cannot hold a thread; NULL with the reason in err. */
PGconn *db_connect(const char *conninfo, char *err, size_t errlen);
/* Prepares a statement; returns 0 or -1 (logged). */
int db_prepare(PGconn *conn, const char *name, const char *sql, int nparams);
/* Runs a prepared statement. Returns the result when it succeeded (the caller clears it),
 * or NULL after logging "what: why". */
PGresult *db_run(PGconn *conn, const char *what, const char *stmt, int nparams,
                 const char *const *params);
/* The same for statements whose result is not needed: 0 or -1. */
int db_run_command(PGconn *conn, const char *what, const char *stmt, int nparams,
                   const char *const *params);
/* BEGIN / COMMIT / ROLLBACK: 0 or -1 (logged). */
int db_begin(PGconn *conn, const char *what);
int db_commit(PGconn *conn, const char *what);
void db_rollback(PGconn *conn, const char *what);
/* The last error of the connection, one line. */
const char *db_error(PGconn *conn, char *buf, size_t len);

#endif
