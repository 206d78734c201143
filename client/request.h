/* request: asking the app servers for books (REQUEST_BOOK, RESTART_SESSION), headless:
 * one line per book on stdout, or a terminal dialogue. Every request walks the server
 * list with one key (client/bookconn.c); every reply carries the server's time of day,
 * and the client corrects its clock with it (Cristian). */
#ifndef CL_REQUEST_H
#define CL_REQUEST_H

#include "clock.h"
#include "failover.h"

#include <stdbool.h>

/* Exit statuses of `client --request`, documented in --help. */
enum request_exit {
    REQUEST_EXIT_OK = 0,            /* every book asked for was received */
    REQUEST_EXIT_FAILED = 1,        /* no server answered within the deadline */
    REQUEST_EXIT_USAGE = 2,
    REQUEST_EXIT_SESSION_OVER = 3,  /* the session ran out of books */
    REQUEST_EXIT_REFUSED = 4        /* refused finally, or only "try again" till the deadline */
};

/* How long giving up may spend releasing a key, every server together. */
#define REQUEST_RELEASE_MS 3000

struct request_options {
    struct failover_list *servers;
    const char *name;
    long count;
    bool json;
    long seen_session;              /* 0: the server's current session */
    int connect_timeout_ms;         /* --rpc-timeout-ms */
    int try_timeout_ms;             /* --try-timeout */
    int deadline_ms;                /* --deadline */
    void (*follow)(void *ctx, int server);  /* the server in use changed */
    void *follow_ctx;
};

/* --request [--count K]: asks K times. Returns an exit status. */
int request_batch(const struct request_options *o, struct clock *clk);
/* --new-session: asks for a new session. */
int request_new_session(const struct request_options *o, struct clock *clk);
/* In a terminal: Enter asks for a book; at the end of a session, exit or new session. */
int request_interactive(const struct request_options *o, struct clock *clk);

#endif
