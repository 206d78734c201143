/* nodes: the table of joined nodes, shared by the RPC thread (JOIN) and the round
 * thread (probing, results). Everything is copied in and out under one mutex. */
#ifndef TS_NODES_H
#define TS_NODES_H

#include "clock.h"

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NODES_MAX 64
#define NODES_NAME_LEN 64
#define NODES_HOST_LEN 256

enum node_state { NODE_NEW = 0, NODE_SYNCHRONISED, NODE_SKIPPED };

struct node_info {
    char name[NODES_NAME_LEN];
    char host[NODES_HOST_LEN];     /* where to call its CLOCK program */
    char address[64];              /* numeric address it joined from */
    unsigned long prog, vers;
    uint64_t joins;                /* increases with every JOIN: the round thread reconnects */
    /* Last round's outcome, for the log and the window. */
    enum node_state state;
    char reason[200];
    int64_t last_delta_us, last_rtt_us;
    enum clock_policy last_policy;
    int unreachable_rounds;        /* in a row; reset by any answer */
    int64_t unreachable_since_ns;  /* monotonic, of the first of them */
};

struct nodes {
    pthread_mutex_t lock;
    size_t count;
    struct node_info node[NODES_MAX];
};

void nodes_init(struct nodes *t);
void nodes_destroy(struct nodes *t);
/* Adds or updates the node called name. Returns its index, or -1 when the table is full. */
int nodes_join(struct nodes *t, const char *name, const char *host, const char *address,
               unsigned long prog, unsigned long vers);
/* A node known from the clock DB, not (yet) joined: probed like a joined one. */
int nodes_restore(struct nodes *t, const char *name, const char *host, const char *address,
                  unsigned long prog, unsigned long vers);
/* Copies the table; returns the number of nodes. */
size_t nodes_copy(struct nodes *t, struct node_info *out, size_t max);
/* reachable: false when the node did not answer at all (not: refused, stopped). */
void nodes_set_result(struct nodes *t, const char *name, enum node_state state,
                      const char *reason, int64_t delta_us, int64_t rtt_us,
                      enum clock_policy policy, bool reachable);
/* A node that has not answered for at least `rounds` rounds in a row and `min_ns` is
 * gone (a node that comes back joins again): removed from the table, its name copied
 * to name (len bytes). Returns 1 if one was removed (call again for the next), else 0. */
int nodes_expire_one(struct nodes *t, int rounds, int64_t min_ns, int64_t now_ns, char *name,
                     size_t len);

#endif
