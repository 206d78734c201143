/* replysync: Cristian's algorithm with the server time a book reply carried (every
 * REQUEST_BOOK reply, a book or a session summary, holds the app server's time of day).
 * Shared by the headless requests and the window's booker. */
#ifndef CL_REPLYSYNC_H
#define CL_REPLYSYNC_H

#include "clock.h"

#include <stdint.h>

/* send_ns/recv_ns: monotonic instants around the call; server_us: the time it carried. */
void replysync_apply(struct clock *clk, int64_t server_us, int64_t send_ns, int64_t recv_ns);
/* The client_time_us a request carries: the clock's time once it has been synchronised,
 * -1 (not given) before, so no request row stores a random start time. */
int64_t replysync_request_time(struct clock *clk);

#endif
