/* booker: the client window's background work. A thread with its own client handle
 * performs REQUEST_BOOK and RESTART_SESSION when the window asks, and STATUS about
 * every 2 s while idle (so the window knows whether its app server answers), and
 * publishes what came back under a mutex. The UI thread never makes an RPC: it posts a
 * command and copies the published view every frame. Every reply that carries the
 * server's time of day corrects the client's clock (Cristian). */
#ifndef CL_BOOKER_H
#define CL_BOOKER_H

#include "clock.h"
#include "worker.h"

#include <pthread.h>
#include <rpc/rpc.h>
#include <stdbool.h>
#include <stdint.h>

#define BOOKER_POLL_MS 2000
/* A book request waits for its claim to go through the replication log. */
#define BOOKER_REQUEST_TIMEOUT_MS 10000

struct booker_config {
    struct clock *clock;
    const char *server;
    unsigned long prog;         /* BOOK program of the app server */
    const char *name;           /* who asks */
    int rpc_timeout_ms;         /* connecting and STATUS */
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
    int books_total, handed_out, by_server1, by_server2, users;
};

/* What the window shows; the booker's copy is guarded by its mutex. */
struct booker_view {
    enum booker_cmd busy;       /* the command posted or in flight; IDLE: none */
    bool reachable;             /* the last call (of any kind) was answered */
    bool known;                 /* a call was made: reachable means something */
    char unreachable[200];      /* why not, when !reachable */
    /* The outcome of the last command the server answered: "" or a message. */
    char result[200];
    bool result_error;
    bool have_book;
    struct booker_book book;
    uint64_t sessions_over;     /* SESSION_OVER replies so far: a new one opens the dialog */
    struct booker_summary over; /* the last one */
    /* From the last STATUS answered. */
    bool have_status;
    int64_t session;
    int books_total, books_left;
    bool database_ok, replication_ok;
};

struct booker {
    struct booker_config cfg;
    struct worker worker;
    CLIENT *clnt;               /* the booker thread's only */
    pthread_mutex_t lock;       /* guards view, cmd, seen, fd, stopping */
    struct booker_view view;
    int64_t seen;               /* RESTART_SESSION's seen_session */
    int fd;                     /* clnt's socket, so booker_stop can cut a call short */
    bool stopping;
};

/* Starts the thread; the first STATUS goes out at once. Returns 0 or an errno. */
int booker_start(struct booker *b, const struct booker_config *cfg);
/* Cuts a call in flight short (its socket is shut down) and joins the thread. */
void booker_stop(struct booker *b);

/* Posts a command; false if one is already posted or in flight. */
bool booker_request(struct booker *b);
/* A new session replacing seen_session (the one that ended): if several clients ask at
 * once, one new session opens. */
bool booker_restart(struct booker *b, int64_t seen_session);

void booker_view(struct booker *b, struct booker_view *out);

#endif
