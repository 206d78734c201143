/* failover: what a client does when an app server does not serve it. The list of app
 * servers (--server HOST[:INSTANCE], in order of preference), request keys, the backoff
 * between tries and the retry loop that walks the list until an answer or the deadline.
 * No RPC here: a try is a function the caller passes in, and so are the clock, the
 * waiting and the randomness, so the unit test drives the loop in virtual time. The
 * headless client and the window's booker share it (through client/bookconn.c). */
#ifndef CL_FAILOVER_H
#define CL_FAILOVER_H

#include <rpc/rpc.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FAILOVER_MAX_SERVERS 16
#define FAILOVER_HOST_MAX 256
#define FAILOVER_KEY_LEN 16     /* BOOK_KEY_LEN of rpc/book.x */
#define FAILOVER_KEY_HEX (2 * FAILOVER_KEY_LEN + 1)

#define FAILOVER_BACKOFF_FIRST_MS 50
#define FAILOVER_BACKOFF_MAX_MS 1000

struct failover_server {
    char host[FAILOVER_HOST_MAX];
    int instance;               /* 0 until failover_list_finish: --instance's */
};

/* Parsed once on the main thread, then read by every thread; only in_use changes. */
struct failover_list {
    struct failover_server server[FAILOVER_MAX_SERVERS];
    int count;
    /* The server the last answer came from: where a request starts and whose clock the
     * puller reads. Written by the thread that makes the requests, read by the puller. */
    atomic_int in_use;
};

void failover_list_init(struct failover_list *l);
/* One --server: "HOST" or "HOST:INSTANCE". -1 with "why" in err (no program prefix). */
int failover_list_add(struct failover_list *l, const char *arg, char *err, size_t errlen);
/* After the options: a server given without an instance takes default_instance; no
 * --server at all means localhost. Refuses a server listed twice. 0 or -1 (err). */
int failover_list_finish(struct failover_list *l, int default_instance, char *err,
                         size_t errlen);
int failover_list_in_use(struct failover_list *l);
/* Makes server i the one in use; true if that changed it. */
bool failover_list_use(struct failover_list *l, int i);
/* Server `from` in use becomes server `to`, unless another thread moved it meanwhile
 * (then false). */
bool failover_list_move(struct failover_list *l, int from, int to);
/* "app server 2" or, when two listed servers share an instance, "app server 2 at HOST". */
void failover_server_name(const struct failover_list *l, int i, char *buf, size_t len);

/* A fresh key from getrandom(2). 0, or -1 with "why" in err. */
int failover_key_new(unsigned char key[FAILOVER_KEY_LEN], char *err, size_t errlen);
void failover_key_hex(const unsigned char key[FAILOVER_KEY_LEN], char out[FAILOVER_KEY_HEX]);

/* The wait before retry number `retry` (1: between the first and the second try): 50 ms
 * doubling up to 1 s, times a factor from 0.5 to 1.5 drawn from r (uniform 32 bits), so
 * clients that lost the same server do not come back in step. */
int failover_backoff_ms(int retry, uint32_t r);

/* What one try came to. */
enum failover_kind {
    FAILOVER_ANSWERED,          /* a final answer (a book, the session's end, a release) */
    FAILOVER_REFUSED,           /* a final refusal: no other server would say otherwise */
    FAILOVER_AGAIN,             /* "try again" (busy, replication or database down) */
    FAILOVER_UNREACHABLE,       /* no connection: the server never saw the call */
    FAILOVER_TIMEOUT,           /* sent, no answer within the try's time */
    FAILOVER_LOST,              /* the connection broke, or the reply made no sense */
};

#define FAILOVER_WHY_MAX 300

struct failover_try {
    enum failover_kind kind;
    /* The server may have taken a book for the key (the call reached it and did not say
     * what the key holds), so giving up must release the key. */
    bool maybe_held;
    const char *brief;          /* "unreachable", "timed out", "busy", ... (static) */
    char why[FAILOVER_WHY_MAX]; /* the full reason, "what failed: why" */
};

/* A reply's status (book_status) as a try's outcome; why is left to the caller. */
void failover_classify_status(int status, struct failover_try *t);
/* A failed call (not a failed connection: that is FAILOVER_UNREACHABLE). */
void failover_classify_rpc(enum clnt_stat st, struct failover_try *t);

struct failover_ops {
    int64_t (*now_ms)(void *ctx);                   /* a monotonic clock */
    /* Waits ms; false if the request was cancelled meanwhile (then at once). */
    bool (*wait_ms)(void *ctx, int ms);
    bool (*cancelled)(void *ctx);
    uint32_t (*random)(void *ctx);
    /* One try on server `server` (an index), `attempt` counting from 1 across servers,
     * with at most timeout_ms for connecting and the call together. Fills *t. */
    void (*attempt)(void *ctx, int server, int attempt, int timeout_ms, struct failover_try *t);
    void *ctx;
};

struct failover_policy {
    int deadline_ms;            /* from the loop's start: no try begins or lasts past it */
    int try_timeout_ms;         /* each try's own limit */
    int max_tries;              /* 0: as many as the deadline allows */
};

enum failover_end {
    FAILOVER_END_ANSWERED,      /* the last try answered */
    FAILOVER_END_REFUSED,       /* the last try was refused, finally */
    FAILOVER_END_DEADLINE,      /* no try fits before the deadline, or max_tries reached */
    FAILOVER_END_CANCELLED,
};

/* The tries on one server that did not answer (the last one's reason). */
struct failover_server_log {
    int tries;                  /* every try there, answered or not */
    int failed;
    const char *brief;
    char why[FAILOVER_WHY_MAX];
};

struct failover_outcome {
    enum failover_end end;
    int server;                 /* the server of the last try (-1: none made) */
    int tries;
    bool any_answer;            /* some server answered, if only "try again" */
    bool maybe_held;            /* some try may have left a book with the key */
    int64_t elapsed_ms;
    struct failover_server_log per[FAILOVER_MAX_SERVERS];
};

/* Tries the servers from `first` on, wrapping, with a backoff between tries, until a try
 * answers or is refused finally, the deadline (or max_tries) is reached, or the caller
 * cancels. */
void failover_run(const struct failover_list *l, int first, const struct failover_policy *p,
                  const struct failover_ops *ops, struct failover_outcome *out);

/* Whether ending this way must release the key: a book may be held for it and no
 * answer said which. */
bool failover_must_release(const struct failover_outcome *o);

/* "2 tries: app server 1 unreachable" for the servers whose tries failed ("" after a
 * single try). */
void failover_tries_text(const struct failover_list *l, const struct failover_outcome *o,
                         char *buf, size_t len);
/* "app server 1 unreachable, app server 2 timed out": the servers whose tries failed. */
void failover_failed_text(const struct failover_list *l, const struct failover_outcome *o,
                          char *buf, size_t len);
/* After an answer that took several tries: "app server 1 unreachable, asked app server
 * 2", or "app server 2 answered at try 3" if only it was tried ("" after one try). */
void failover_via_text(const struct failover_list *l, const struct failover_outcome *o,
                       char *buf, size_t len);
/* Every server whose tries failed and why: "app server 1 at localhost: why; ...". */
void failover_reasons_text(const struct failover_list *l, const struct failover_outcome *o,
                           char *buf, size_t len);

#endif
