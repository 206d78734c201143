/* booker: the client window's background work. A thread performs REQUEST_BOOK and
 * RESTART_SESSION when the window asks, failing over between the app servers of the
 * list like the headless client (client/bookconn.c), and STATUS about every 2 s while
 * idle (so the window knows whether the server in use answers), and publishes what came
 * back under a mutex. The UI thread never makes an RPC: it posts a command and copies
 * the published view every frame. Stopping with a request out releases its key. */
#ifndef CL_BOOKER_H
#define CL_BOOKER_H

#include "bookconn.h"
#include "clock.h"
#include "failover.h"
#include "worker.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define BOOKER_POLL_MS 2000
/* Closing the window with a request out waits this long at most for its release. */
#define BOOKER_RELEASE_MS 1000
/* Away from the first server of the list, every this many polls ask it first again. */
#define BOOKER_PREFER_EVERY 5

struct booker_config {
    struct clock *clock;
    struct failover_list *servers;
    const char *name;           /* who asks */
    int rpc_timeout_ms;         /* connecting and STATUS */
    int try_timeout_ms;         /* one try of a request */
    int deadline_ms;            /* a request, all tries */
    void (*follow)(void *ctx, int server);  /* the server in use changed */
    void *follow_ctx;
};

enum booker_cmd { BOOKER_IDLE = 0, BOOKER_REQUEST, BOOKER_RESTART };

/* The book as the window shows it (copied out of the XDR reply). */
struct booker_book {
    char isbn[16];
    char title[256];
    char author[128];
    int year;
    int64_t session;
    int64_t request_id;
    int server;
    int64_t server_time_us;
};

struct booker_summary {
    int64_t session;
    int books_total, handed_out, users;
    char by_server[160];        /* "server 1: 8, server 2: 7" */
};

/* What the window shows; the booker's copy is guarded by its mutex. */
struct booker_view {
    enum booker_cmd busy;       /* the command posted or in flight; IDLE: none */
    bool reachable;             /* the last call (of any kind) was answered */
    bool known;                 /* a call was made: reachable means something */
    char unreachable[300];      /* why not, when !reachable */
    /* The outcome of the last command, or a failover ("app server 1 unreachable,
     * asked app server 2"): "" or a message. */
    char result[300];
    bool result_error;
    bool have_book;
    struct booker_book book;
    uint64_t sessions_over;     /* SESSION_OVER replies so far: a new one opens the dialog */
    struct booker_summary over; /* the last one */
    /* From the last STATUS answered. */
    bool have_status;
    int status_server;          /* the instance that answered it */
    int64_t session;
    int books_total, books_left;
    bool database_ok, replication_ok;
};

struct booker {
    struct booker_config cfg;
    struct worker worker;
    struct bookconn conn;       /* the booker thread's, but for bookconn_cut */
    pthread_mutex_t lock;       /* guards view, seen, stopping */
    struct booker_view view;
    int64_t seen;               /* RESTART_SESSION's seen_session */
    bool stopping;
    unsigned polls_away;        /* polls since the first server was last asked (thread's) */
};

/* Starts the thread; the first STATUS goes out at once. Returns 0 or an errno. */
int booker_start(struct booker *b, const struct booker_config *cfg);
/* Cuts a call in flight short (its socket is shut down), releases the key of a request
 * that was out (at most BOOKER_RELEASE_MS) and joins the thread. */
void booker_stop(struct booker *b);

/* Posts a command; false if one is already posted or in flight. */
bool booker_request(struct booker *b);
/* A new session replacing seen_session (the one that ended): if several clients ask at
 * once, one new session opens. */
bool booker_restart(struct booker *b, int64_t seen_session);

void booker_view(struct booker *b, struct booker_view *out);

#endif
