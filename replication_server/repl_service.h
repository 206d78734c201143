/* repl_service: the REPL program (SETQUERY, GETQUERY) over TCP.
 * SETQUERY is held until its entry is stored: every SETQUERY read in one pass of the
 * loop is stored in one transaction, then all of them are answered. GETQUERY with
 * nothing new is held until an entry is stored or wait_ms passes (long poll). */
#ifndef RS_REPL_SERVICE_H
#define RS_REPL_SERVICE_H

#include "allow.h"
#include "replog.h"

#include <stddef.h>

struct repl_service_config {
    struct replog *log;
    struct allow_list allow;   /* who may append and read */
};

int repl_service_start(const struct repl_service_config *cfg, char *err, size_t errlen);
/* Replies to whatever is still held (shutdown). */
void repl_service_stop(void);

/* The checks on a decoded call's arguments, before anything is staged or read (no
 * state: the dispatcher and the fuzz target call the same). REPL_OK, or
 * REPL_ERR_BADARG with why. */
repl_status repl_service_check_setquery(const setquery_args *a, char *why, size_t len);
repl_status repl_service_check_getquery(const getquery_args *a, char *why, size_t len);

#endif
