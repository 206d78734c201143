/* window: the time server's window: its clock with "Modify", the UTC source with its
 * last offset and round trip, the table of joined nodes (name, address, last delta,
 * round trip, step or slew, state), the round count and TM. Reads the clock, the node
 * table and the rounds' status; runs on the main thread until the window is closed. */
#ifndef TS_WINDOW_H
#define TS_WINDOW_H

#include "clock.h"
#include "nodes.h"
#include "rounds.h"

struct ts_window_config {
    struct clock *clock;
    struct nodes *nodes;
    struct rounds *rounds;
    int x, y;                   /* position on the screen */
    const char *screenshot;     /* PNG written on F12 and when the window closes; NULL: none */
};

/* Returns 0 when the window was closed (or the process is stopping), -1 if it could not
 * be opened (err filled: the caller runs headless). */
int ts_window_run(const struct ts_window_config *cfg, char *err, size_t errlen);

#endif
