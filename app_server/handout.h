/* handout: handing out a book, releasing one and restarting a session, run by the book
 * service's worker threads (each with its own replication client). A request picks a
 * random free book in the local view, appends BOOK_CLAIM with the request's key, waits
 * until the log is applied up to its claim, and answers only then: a book given out has
 * been claimed in the log first. A claim lost to another server makes it try another
 * book; a claim whose key already held a book (an earlier try of the same request, on
 * any server) answers with that book. A retry (attempt > 1) first follows the log to its
 * end, so a claim of the same key in flight through another server is seen before a new
 * one is appended. */
#ifndef AS_HANDOUT_H
#define AS_HANDOUT_H

#include "book_rpc.h"
#include "clock.h"
#include "replclient.h"
#include "replica.h"

#define HANDOUT_MAX_TRIES 32
/* A request is answered within this time of its arrival, well inside the client's
 * 10 s call timeout, so a late answer never reaches a caller that gave up. */
#define HANDOUT_DEADLINE_MS 6000

struct handout_ctx {
    struct replica *replica;
    struct clock *clock;
    int instance;
    struct replclient repl;     /* this worker's own */
    struct bookdb db;           /* this worker's own, only to check the DB answers */
};

/* Fills rep (strings point into buffers owned by rep's caller via the out parameters). */
struct handout_result {
    book_reply reply;
    char isbn[16], title[BOOK_TITLE_MAX], author[BOOK_AUTHOR_MAX], message[BOOK_MESSAGE_MAX];
    server_count by_server[BOOK_SERVERS_MAX];
};

/* One REQUEST_BOOK, checked by the book service. */
struct handout_ask {
    const char *user, *address;
    int64_t client_time_us;
    unsigned char key[16];
    int attempt;
};

void handout_request(struct handout_ctx *h, const struct handout_ask *a, int64_t deadline_ns,
                     struct handout_result *out);

struct handout_release {
    release_reply reply;
    char message[BOOK_MESSAGE_MAX];
};

/* RELEASE_BOOK: appends BOOK_RELEASE and answers with what applying it did. */
void handout_release(struct handout_ctx *h, const char *user, const unsigned char *key,
                     int64_t session, int64_t deadline_ns, struct handout_release *out);

struct handout_restart {
    session_reply reply;
    char message[BOOK_MESSAGE_MAX];
};

void handout_restart(struct handout_ctx *h, const char *user, int64_t seen_session,
                     int64_t deadline_ns, struct handout_restart *out);

#endif
