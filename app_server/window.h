/* window: an app server's window: its clock with "Modify", a "Restart" button (a new
 * session), the cover of the last book it handed out (empty at start; decoded from the
 * DB's bytes), the title and user of that request, the session number and the books
 * left. Runs on the main thread until closed; DB and RPC work happen off it. */
#ifndef AS_WINDOW_H
#define AS_WINDOW_H

#include "clock.h"
#include "replica.h"

struct as_window_config {
    struct clock *clock;
    struct replica *replica;    /* usable once ready() says so */
    bool (*ready)(void);        /* the book side is up (catalogue loaded, log caught up) */
    int instance;
    const char *repl_host;      /* for "Restart": SESSION_OPEN goes through the log */
    const char *db_conninfo;    /* to read covers */
    int rpc_timeout_ms;
    int x, y;
    const char *screenshot;
};

int as_window_run(const struct as_window_config *cfg, char *err, size_t errlen);

#endif
