/* bookconn: a client's calls to its app servers (REQUEST_BOOK, RELEASE_BOOK,
 * RESTART_SESSION, STATUS), each walking the server list with failover_run: a try on
 * the server in use first, then the next ones, with the same request key throughout.
 * One kept connection per server, replaced after a failed call (a late reply would wait
 * on it). Used by one thread at a time (the headless client's, or the window's booker);
 * only bookconn_cut may be called from another. Every reply that carries the server's
 * time corrects the client's clock (Cristian, client/replysync.c). */
#ifndef CL_BOOKCONN_H
#define CL_BOOKCONN_H

#include "book_rpc.h"
#include "clock.h"
#include "failover.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct bookconn_config {
    struct failover_list *list;
    struct clock *clock;
    const char *name;           /* who asks */
    int connect_timeout_ms;     /* --rpc-timeout-ms: connecting, and each STATUS */
    int try_timeout_ms;         /* --try-timeout */
    int deadline_ms;            /* --deadline: a request or a new session, all tries */
    int release_ms;             /* a release, every server it tries */
    /* Optional: true once the process is told to stop (a request then gives up). */
    bool (*stopping)(void *ctx);
    /* Optional: the server in use changed (the puller follows it). */
    void (*follow)(void *ctx, int server);
    void *ctx;
};

struct bookconn {
    struct bookconn_config cfg;
    CLIENT *clnt[FAILOVER_MAX_SERVERS];
    uint32_t rng;               /* the backoff's jitter (xorshift) */
    pthread_mutex_t lock;       /* guards fd and cut */
    pthread_cond_t cut_cond;
    int fd;                     /* the socket of the call in flight, for bookconn_cut */
    bool cut;
};

int bookconn_init(struct bookconn *c, const struct bookconn_config *cfg);
void bookconn_destroy(struct bookconn *c);
/* Any thread: the call in flight ends at once (its socket is shut down), so does a
 * backoff, and the request gives up (releasing its key). Later calls fail at once. */
void bookconn_cut(struct bookconn *c);

/* How a given-up key was released. */
struct bookconn_release {
    bool tried;                 /* a book may have been held, so a release went out */
    bool released;              /* a server answered it (outcome, message) */
    int server;                 /* that server's index */
    release_outcome outcome;
    char message[BOOK_MESSAGE_MAX];
    struct failover_outcome fo;
};

struct bookconn_book {
    char key_hex[FAILOVER_KEY_HEX];
    struct failover_outcome fo;
    bool have_reply;            /* the last try was answered (a book, the end, a refusal) */
    book_reply reply;           /* then its answer */
    int64_t send_ns, recv_ns;   /* around the answered call */
    struct bookconn_release release;
};

/* One book request with a fresh key, until an answer, a final refusal, the deadline or
 * a cut; given up with a book maybe held, it releases the key. A SESSION_OVER after
 * tries that may have claimed releases it too, so a late claim takes nothing. -1 (with
 * why in err) only if no key could be made. Free *out with bookconn_book_free. */
int bookconn_request(struct bookconn *c, struct bookconn_book *out, char *err, size_t errlen);
void bookconn_book_free(struct bookconn_book *b);
/* "the book it held is free again" and so on, for an answered release. */
const char *bookconn_release_text(release_outcome o);

struct bookconn_session {
    struct failover_outcome fo;
    bool answered;              /* a RESTART_SESSION reply: status, message, session, ... */
    book_status status;
    char message[BOOK_MESSAGE_MAX];
    int64_t seen;               /* the session it replaced (asked by STATUS if 0 was given) */
    int64_t session;
    int books_left;
    int server;
};

/* RESTART_SESSION replacing seen (0: the current one, from the first server's STATUS).
 * Safe to retry on another server: a new session opens only if seen is still current. */
void bookconn_restart(struct bookconn *c, int64_t seen, struct bookconn_session *out);

struct bookconn_status {
    struct failover_outcome fo;
    bool answered;
    status_reply reply;         /* plain numbers: nothing to free */
    int server;
};

/* STATUS from `first` on, at most max_tries tries (0: until the deadline). */
void bookconn_status(struct bookconn *c, int first, int max_tries, struct bookconn_status *out);

#endif
