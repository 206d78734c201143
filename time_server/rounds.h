/* rounds: the coordinator's synchronisation round, every TM on its own thread:
 * follow the UTC source, then for every joined node probe CLOCK.GETHOUR k times, keep
 * the smallest round trip, send CLOCK.ADJUST with Cristian's delta, record the round.
 * The thread owns its RPC client handles and the DB connection, so the RPC loop
 * (JOIN, GETHOUR) never waits on a slow node or database. */
#ifndef TS_ROUNDS_H
#define TS_ROUNDS_H

#include "callauth.h"
#include "clock.h"
#include "clockdb.h"
#include "nodes.h"
#include "probe.h"
#include "sntp.h"
#include "worker.h"

#include <pthread.h>
#include <rpc/rpc.h>
#include <stdbool.h>

struct rounds_config {
    struct clock *clock;
    struct nodes *nodes;
    struct clockdb *db;
    int tm_ms;
    struct probe_plan plan;     /* GETHOUR probes per node per round */
    int rpc_timeout_ms;
    struct sntp_server utc[SNTP_MAX_SERVERS];
    size_t nutc;
    int utc_timeout_ms;     /* per SNTP probe */
    int64_t first_round;
};

struct rounds_peer {
    char name[NODES_NAME_LEN];
    uint64_t joins;
    CLIENT *clnt;   /* TCP: ADJUST, which must not be lost nor sent twice */
    CLIENT *udp;    /* UDP: the GETHOUR probes, a lost one costs only its short wait */
    rpcprog_t prog; /* its CLOCK program, which its ADJUSTs are signed for */
    rpcvers_t vers;
    struct callauth_sender sender; /* one per TCP connection */
};

/* What a window shows of the rounds: read with rounds_status(). */
struct rounds_status {
    int64_t last_round;          /* 0 before the first round */
    int tm_ms;
    bool utc_ok;
    char utc_source[280];
    int64_t utc_offset_us, utc_rtt_us;
    char utc_error[512];
};

struct rounds {
    pthread_mutex_t status_lock;
    struct rounds_status status;
    struct rounds_config cfg;
    struct worker worker;
    int64_t next_id;
    int burst_left;             /* start-up UTC measurements still to take */
    size_t npeers;
    struct rounds_peer peer[NODES_MAX];
    struct clockdb_round rec;   /* reused every round: it is large */
    struct node_info nodes[NODES_MAX]; /* this round's copy of the table */
};

int rounds_start(struct rounds *r, const struct rounds_config *cfg);
void rounds_stop(struct rounds *r);
void rounds_status(struct rounds *r, struct rounds_status *out);

#endif
