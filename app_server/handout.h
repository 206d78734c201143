/* handout: what REQUEST_BOOK, RELEASE_BOOK and RESTART_SESSION do, as requests that
 * wait for the log without a thread of their own.
 *
 * A book request with a key that already holds a book (applied so far) gets that book
 * at once. Otherwise it reserves a random free book of the local view and queues a
 * BOOK_CLAIM with its key (replica_append); when the claim is applied, it answers: the
 * book if the claim won, the key's book if an earlier try of the same request (on any
 * server) got one first, or, if the book went to someone else, it claims another. So a
 * retry needs no round trip of its own to learn what its earlier tries did: its claim
 * is applied after everything before it in the log, and the key settles it. A release
 * queues BOOK_RELEASE, a new session SESSION_OPEN, and each answers with what applying
 * it did. Every answer goes out on the RPC loop's thread (rpcdefer_post). A server
 * whose books DB the writer finds down refuses book requests ("try again": the client
 * asks another server), so what a server hands out is in its DB within a write. */
#ifndef AS_HANDOUT_H
#define AS_HANDOUT_H

#include "book_rpc.h"
#include "clock.h"
#include "replica.h"
#include "rpcdefer.h"

#include <stdatomic.h>

#define HANDOUT_MAX_TRIES 32
/* A request is answered ("try again" at worst) within this time of its arrival, inside
 * the client's time for one try (2.5 s), so the client hears why before it moves on. */
#define HANDOUT_DEADLINE_MS 2000
#define HANDOUT_MAX_IN_FLIGHT 4096

struct handout {
    struct replica *replica;
    struct clock *clock;
    int instance;
    int64_t close_queued;       /* the session whose SESSION_CLOSE was queued (replica lock) */
    int64_t close_queued_ns;    /* ... when */
    atomic_int in_flight;
};

enum handout_kind { HANDOUT_REQUEST, HANDOUT_RESTART, HANDOUT_RELEASE };

/* One call, from its arrival to its answer. Filled by the book service, then owned by
 * handout (handout_start), which answers it and frees it. */
struct handout_call {
    struct replica_pending pending;
    struct handout *h;
    enum handout_kind kind;
    struct rpcdefer *call;
    char user[BOOK_NAME_MAX];
    char address[64];
    int64_t client_time_us;
    int64_t session;            /* RESTART: the one seen to end; RELEASE: the request's */
    unsigned char key[BOOK_KEY_LEN];
    int attempt;
    int book_id;                /* REQUEST: the book reserved for the claim in flight */
    int tries;                  /* REQUEST: claims made */
    repl_op op;                 /* the operation in flight (its strings point here) */
    /* The answer. */
    book_reply book;
    session_reply restart;
    release_reply release;
    char isbn[16], title[BOOK_TITLE_MAX], author[BOOK_AUTHOR_MAX], message[BOOK_MESSAGE_MAX];
    server_count by_server[BOOK_SERVERS_MAX];
};

void handout_init(struct handout *h, struct replica *replica, struct clock *clock, int instance);
/* Loop thread: takes the call (its arguments checked) and answers it, now or later.
 * False (nothing taken) if too many are in flight. */
bool handout_start(struct handout_call *c);

#endif
