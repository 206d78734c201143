/* asview: what the app server's window shows of the replica, gathered off the UI
 * thread so a slow or unreachable books DB never freezes the window.
 *
 * A status thread copies replica_status() and the title of the last book handed out
 * (the replica's lock can be held across DB work); a cover thread reads that book's
 * cover over the window's own books DB connection (bookdb_cover) and keeps the last
 * covers it read, per book id. The window only copies what these threads left. */
#ifndef AS_ASVIEW_H
#define AS_ASVIEW_H

#include "bookdb.h"
#include "replica.h"
#include "worker.h"

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#define ASVIEW_COVERS 16

struct asview_snapshot {
    bool ready;                 /* the book side is up: st and title are valid */
    struct replica_status st;
    char title[256];            /* of st.last_book_id; "" when none */
    char author[128];
};

struct asview_cover {
    int book_id;                /* 0: slot unused */
    bool missing;               /* the book has no cover */
    unsigned char *png;
    size_t len;
};

struct asview {
    struct replica *replica;
    bool (*ready)(void);
    char conninfo[512];
    struct bookdb db;           /* the cover thread's own connection */
    bool db_opened;
    pthread_mutex_t lock;       /* everything below */
    struct asview_snapshot snap;
    int wanted;                 /* the book whose cover the window wants */
    char cover_error[300];      /* why the wanted cover could not be read, "" if none */
    struct asview_cover cover[ASVIEW_COVERS];
    size_t next_slot;
    struct worker status_worker, cover_worker;
};

/* Starts both threads. 0, or an errno. */
int asview_start(struct asview *v, struct replica *replica, bool (*ready)(void),
                 const char *db_conninfo);
void asview_stop(struct asview *v);

void asview_get(struct asview *v, struct asview_snapshot *out);

/* The cover of book_id: 1 when known (*png is a malloc'd copy the caller frees, NULL
 * when the book has no cover), 0 while it is being read, -1 when it could not be read
 * (why filled; it is tried again). */
int asview_cover(struct asview *v, int book_id, unsigned char **png, size_t *len, char *why,
                 size_t whylen);

#endif
