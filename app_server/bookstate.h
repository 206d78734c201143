/* bookstate: the state every app server derives from the replication log, in memory:
 * the catalogue's free and taken books in the current session, the session, the users,
 * the request keys, and what each claim and release came to. Applying an entry is
 * deterministic (it depends only on the entries before it), so every server reaches
 * the same state: the first claim of a (session, book) wins unless its key already
 * holds a book (then it takes none: a retried request is served once) or was released;
 * a release frees the book its key holds; SESSION_OPEN applies only if its previous
 * session is still the current one. Applying also says what to write to the books DB
 * (bookdb_entry), so the DB follows memory entry for entry. Not thread-safe: the
 * replica's lock guards it. */
#ifndef AS_BOOKSTATE_H
#define AS_BOOKSTATE_H

#include "bookdb.h"
#include "catalogue.h"
#include "keymap.h"
#include "replication_rpc.h"

#include <stdbool.h>
#include <stdint.h>

#define BOOKSTATE_OUTCOMES 16384   /* entries whose outcome is remembered */
#define BOOKSTATE_SERVERS 256  /* instances 1..255 */
/* A retry may come after its request's session ended (a client's deadline is at most
 * 60 s): the keys of an ended session are remembered this long of log time after it
 * ended, for at most this many ended sessions and keys (the oldest session goes first),
 * so memory stays bounded (about 100 bytes a key). Every server counts alike: log time,
 * log order. */
#define BOOKSTATE_KEY_MEMORY_US (60LL * 1000000)
#define BOOKSTATE_OLD_SESSIONS 256
#define BOOKSTATE_OLD_KEYS 131072

/* What applying a BOOK_CLAIM or BOOK_RELEASE did. */
enum bookstate_result {
    BOOKSTATE_UNKNOWN = -1, /* not applied (yet), or forgotten */
    BOOKSTATE_WON,          /* the claim took its book */
    BOOKSTATE_LOST,         /* the book was taken (or the session changed): try another */
    BOOKSTATE_HELD,         /* the key already held a book: that one, no second */
    BOOKSTATE_GIVEN_UP,     /* the key was released: no book for it any more */
    BOOKSTATE_FREED,        /* the release freed the key's book */
    BOOKSTATE_NOTHING,      /* the key held nothing: it never will */
    BOOKSTATE_ALREADY,      /* released before */
    BOOKSTATE_SESSION_OVER, /* the release was for a session that is over */
    BOOKSTATE_OTHER_USER    /* the key belongs to another user's request: nothing done */
};

/* What an entry came to once applied. */
struct bookstate_outcome {
    int64_t seq;
    repl_kind kind;
    enum bookstate_result result;   /* claims and releases */
    int book_id;                    /* WON: the claim's book; HELD: the key's */
    int64_t taker;                  /* WON, HELD: the claim that took the book */
    int origin;                     /* WON, HELD: the app server that handed it out */
    int64_t session;                /* the current session after the entry; HELD: the
                                       session the key's book was handed out in */
};

/* The keys of a session that ended. */
struct bookstate_old {
    int64_t session;
    int64_t ended_us;               /* log time of the SESSION_OPEN that ended it */
    struct keymap keys;
};

struct bookstate {
    struct catalogue cat;
    int64_t applied_seq;
    int64_t session;                /* current session, 0: none */
    bool session_closed;            /* SESSION_CLOSE applied for it */
    int by_server[BOOKSTATE_SERVERS]; /* [n]: books held from app server n this session */
    int users;                      /* distinct users served in the session */
    int instance;                   /* this app server */
    int last_book_id;               /* the last book this server handed out, 0: none */
    char last_user[64];             /* ... and to whom */
    void *known_users;              /* tsearch tree (name, address) -> id */
    void *session_users;            /* tsearch tree of user ids served this session */
    struct keymap keys;             /* the current session's request keys */
    struct bookstate_old old[BOOKSTATE_OLD_SESSIONS]; /* the latest ended first */
    int nold;
    size_t old_keys;                /* keys in old[] */
    int64_t log_time_us;            /* the latest log time applied */
    struct bookstate_outcome outcome[BOOKSTATE_OUTCOMES]; /* index seq % BOOKSTATE_OUTCOMES */
};

/* Loads the catalogue (without covers) from the books DB. 0, or -1 with why. */
int bookstate_init(struct bookstate *s, int instance, struct bookdb *db, char *why, size_t len);
void bookstate_free(struct bookstate *s);

/* What the books DB holds, read without the replica's lock (bookstate_read), then made
 * the state in one go under it (bookstate_install): the position, the session, the
 * users, the keys of the current session and of the ended ones still remembered. */
struct bookstate_take {
    int64_t seq, user_id;
    int book_id, server;
    bool released;
};
struct bookstate_image {
    struct bookdb_state db;
    int last_book_id;
    char last_user[64];
    void *known_users;
    struct keymap keys;
    struct bookstate_take *takes;   /* the current session's requests */
    size_t ntakes, takes_cap;
    struct bookstate_old old[BOOKSTATE_OLD_SESSIONS];
    int nold;
};
int bookstate_read(struct bookdb *db, int instance, struct bookstate_image *im, char *why,
                   size_t len);
/* Replaces the state with the image (the catalogue stays); takes what the image holds. */
void bookstate_install(struct bookstate *s, struct bookstate_image *im);
void bookstate_image_free(struct bookstate_image *im);

/* Applies entry e (the one after applied_seq), fills *out with what it came to and *db
 * with its row for the books DB (pointing into e: keep e until the row is written). */
void bookstate_apply(struct bookstate *s, const repl_entry *e, struct bookstate_outcome *out,
                     struct bookdb_entry *db);
/* The outcome of entry seq if it is still remembered (false otherwise). */
bool bookstate_outcome(const struct bookstate *s, int64_t seq, struct bookstate_outcome *out);

/* What key holds so far, in the current session or an ended one still remembered:
 * BOOKSTATE_HELD (*book_id, *taker, the *session it was handed out in, by *origin),
 * BOOKSTATE_GIVEN_UP, BOOKSTATE_OTHER_USER (another user's request), or
 * BOOKSTATE_UNKNOWN (a new key, as far as applied). */
enum bookstate_result bookstate_key(const struct bookstate *s, const unsigned char *key,
                                    const char *user, int *book_id, int64_t *taker,
                                    int64_t *session, int *origin);
/* Has (name, address) been applied as a user? */
bool bookstate_user_known(const struct bookstate *s, const char *name, const char *address);
/* Reserves a random free book of the current session: its id (0: none left). */
int bookstate_reserve(struct bookstate *s);
void bookstate_unreserve(struct bookstate *s, int book_id);
int bookstate_handed_out(const struct bookstate *s);

#endif
