/* replog: the replication log, stored in the replication DB (db/replication.sql) with
 * its newest entries also kept in memory so GETQUERY is served without a query.
 * Entries are staged, then stored together by one statement (group commit): a
 * staged entry is acknowledged only after that commit. Sequence numbers come from the
 * stored log (max + 1), so a restart neither loses nor renumbers an entry. Used only
 * on the RPC loop's thread. */
#ifndef RS_REPLOG_H
#define RS_REPLOG_H

#include "replication_rpc.h"

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define REPLOG_RING 65536      /* entries kept in memory */
#define REPLOG_STAGE_MAX 4096  /* entries in one group commit */
#define REPLOG_OP_MAX 1024     /* bytes of one encoded operation */

struct replog_item {
    int64_t seq;
    int origin;
    int64_t appended_at_us;
    uint16_t len;
    char *bytes;               /* the operation as XDR */
};

struct replog_staged {
    struct replog_item item;
    repl_kind kind;
    char session[24], isbn[16], user[REPL_NAME_MAX];
    char key[2 + 2 * REPL_KEY_LEN + 1];   /* "\x" + hex, a bytea's text form */
    bool has_session, has_isbn, has_user, has_key;
};

struct replog {
    char conninfo[512];
    PGconn *conn;
    int64_t last_seq;          /* newest stored entry */
    int64_t ring_first;        /* oldest entry in the ring (ring empty: last_seq + 1) */
    struct replog_item *ring;  /* REPLOG_RING slots, index seq % REPLOG_RING */
    size_t nstaged;
    struct replog_staged *staged;
};

int replog_open(struct replog *l, const char *conninfo, char *err, size_t errlen);
void replog_close(struct replog *l);
/* Stages op; returns its sequence number, or -1 with why (stage full, storage down). */
int64_t replog_stage(struct replog *l, int origin, const repl_op *op, char *why, size_t len);
/* Drops the entries staged after the first `keep` (a SETQUERY that failed half-way). */
void replog_unstage(struct replog *l, size_t keep);
/* Stores every staged entry in one transaction (one statement). 0: all stored; -1: none
 * stored (why). */
int replog_flush(struct replog *l, char *why, size_t len);
/* Up to max entries after `after` into out (each op freed by the caller with
 * replop_free). Returns the count, or -1 with why (storage down, damaged entry). */
int replog_read(struct replog *l, int64_t after, int max, repl_entry *out, char *why, size_t len);

#endif
