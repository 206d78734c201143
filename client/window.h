/* window: a client's window: its clock with "Modify", a "Request book" button, the last
 * book as text (title, author, year, ISBN, the time it was served), and at the end of
 * a session a dialog "All books have been handed out" with "Exit" and "New session".
 * Requests run on a thread of their own, so the window never freezes; they fail over
 * between the app servers of the list, and the status line says so. */
#ifndef CL_WINDOW_H
#define CL_WINDOW_H

#include "clock.h"
#include "failover.h"

struct cl_window_config {
    struct clock *clock;
    struct failover_list *servers;
    const char *name;
    int rpc_timeout_ms;         /* connecting and STATUS */
    int try_timeout_ms;         /* one try of a request */
    int deadline_ms;            /* a request, all tries */
    void (*follow)(void *ctx, int server);  /* the server in use changed */
    void *follow_ctx;
    int x, y;
    const char *screenshot;
};

int cl_window_run(const struct cl_window_config *cfg, char *err, size_t errlen);

#endif
