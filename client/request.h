/* request: asking an app server for books (REQUEST_BOOK, RESTART_SESSION), headless:
 * one line per book on stdout, or a terminal dialogue. Every reply carries the
 * server's time of day, and the client corrects its clock with it (Cristian). */
#ifndef CL_REQUEST_H
#define CL_REQUEST_H

#include "clock.h"

#include <stdbool.h>

/* Exit statuses of `client --request`, documented in --help. */
enum request_exit {
    REQUEST_EXIT_OK = 0,            /* every book asked for was received */
    REQUEST_EXIT_FAILED = 1,        /* the server could not be reached */
    REQUEST_EXIT_USAGE = 2,
    REQUEST_EXIT_SESSION_OVER = 3,  /* the session ran out of books */
    REQUEST_EXIT_REFUSED = 4        /* the server answered with an error */
};

struct request_options {
    const char *server;
    unsigned long prog;             /* BOOK program of the server */
    const char *name;
    long count;
    bool json;
    bool new_session;
    long seen_session;              /* 0: the server's current session */
    int timeout_ms;
};

/* --request [--count K]: asks K times. Returns an exit status. */
int request_batch(const struct request_options *o, struct clock *clk);
/* --new-session: asks for a new session. */
int request_new_session(const struct request_options *o, struct clock *clk);
/* In a terminal: Enter asks for a book; at the end of a session, exit or new session. */
int request_interactive(const struct request_options *o, struct clock *clk);

#endif
