/* clockdb: the time server's record of every round in the clock DB (db/clock.sql).
 * Used by the round thread only. A round is written in one transaction: either the
 * round and all its node rows are there, or none of them. */
#ifndef TS_CLOCKDB_H
#define TS_CLOCKDB_H

#include "clock.h"
#include "nodes.h"

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

struct clockdb_sync {
    const struct node_info *node;
    bool applied;
    char reason[256];        /* why skipped */
    bool have_reading;       /* the node answered GETHOUR */
    int64_t node_time_us, rtt_us, rtt_max_us, estimate_us, reference_us, delta_us, error_bound_us;
    enum clock_policy policy;
    int probes;
    /* From the node's ADJUST reply: */
    int64_t applied_us, freq_ppb, node_bound_us;

};

struct clockdb_round {
    int64_t id;
    struct timespec started;     /* CLOCK_REALTIME */
    int tm_ms;
    int64_t before_us, reference_us;
    bool utc_ok;
    char utc_source[280];
    int64_t utc_offset_us, utc_rtt_us;
    enum clock_policy utc_policy;
    int64_t utc_applied_us;
    char utc_error[512];
    size_t n;
    struct clockdb_sync sync[NODES_MAX];
};

struct clockdb {
    char conninfo[512];
    PGconn *conn;
};

/* Connects and prepares; *next_round receives the round number after the last stored. */
int clockdb_open(struct clockdb *db, const char *conninfo, int64_t *next_round,
                 char *err, size_t errlen);
/* Puts the nodes seen in the last hour into the table (nodes_restore), so a restarted
 * time server probes them in its first round. Returns how many, or -1 (logged). */
int clockdb_known_nodes(struct clockdb *db, struct nodes *nodes);
/* Writes a round; reconnects first if the connection broke. Returns 0 or -1 (logged). */
int clockdb_record(struct clockdb *db, const struct clockdb_round *r);
void clockdb_close(struct clockdb *db);

#endif
