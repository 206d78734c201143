/* window: a client's window: its clock with "Modify", a "Request book" button, the last
 * book as text (title, author, year, ISBN, the time it was served), and at the end of
 * a session a dialog "All books have been handed out" with "Exit" and "New session".
 * Requests run on a thread of their own, so the window never freezes; while the server
 * is down the window says so. */
#ifndef CL_WINDOW_H
#define CL_WINDOW_H

#include "clock.h"

struct cl_window_config {
    struct clock *clock;
    const char *server;
    unsigned long book_prog;
    const char *name;
    int rpc_timeout_ms;
    int x, y;
    const char *screenshot;
};

int cl_window_run(const struct cl_window_config *cfg, char *err, size_t errlen);

#endif
