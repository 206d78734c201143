/* catalogue: the books of the catalogue in memory, and which are still free in the
 * current session. Picking a random free book is O(1) whatever the size of the
 * catalogue and however empty the session: the free books are kept in an array with
 * each book's position in it, so a pick is one random index and a removal one swap.
 * Not thread-safe: the replica's lock guards it. */
#ifndef AS_CATALOGUE_H
#define AS_CATALOGUE_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct catalogue_book {
    int id;                 /* book.id: 1..count */
    char isbn[14];
    char *title;
    char *author;
    int year;
};

struct catalogue {
    size_t count;
    struct catalogue_book *book;   /* index id - 1 */
    int *by_isbn;                  /* ids sorted by isbn */
    /* Current session: taken[id] once its claim is applied; free_ids holds the books
     * neither taken nor reserved by a request in flight. */
    bool *taken;
    int64_t *taken_seq;            /* the claim that took it (0: loaded from the DB) */
    int *free_ids;
    size_t nfree;
    long *free_pos;                /* position of id in free_ids, -1 if not there */
    size_t ntaken;
};

/* Loads every book (without covers) from the books DB. Returns 0, or -1 with why. */
int catalogue_load(struct catalogue *c, PGconn *conn, char *why, size_t len);
void catalogue_free(struct catalogue *c);
const struct catalogue_book *catalogue_by_id(const struct catalogue *c, int id);
const struct catalogue_book *catalogue_by_isbn(const struct catalogue *c, const char *isbn);

/* A new session: every book free, none taken. */
void catalogue_new_session(struct catalogue *c);
/* Takes a random free book out of the free set (reserving it); 0 if none is free. */
int catalogue_reserve_random(struct catalogue *c);
/* Gives back a reservation whose claim never reached the log. */
void catalogue_unreserve(struct catalogue *c, int id);
/* The claim for id was applied: taken for the rest of the session. Returns false if
 * it was taken already (the claim loses). */
bool catalogue_take(struct catalogue *c, int id);
/* Its request was released: free again in this session. */
void catalogue_release(struct catalogue *c, int id);

#endif
