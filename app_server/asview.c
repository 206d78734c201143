#include "asview.h"

#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ASVIEW_STATUS_MS 150     /* the window draws about 10 frames a second */
#define ASVIEW_RETRY_MS 2000     /* a cover that could not be read */
#define ASVIEW_IDLE_MS 60000     /* nothing to read: woken when the last book changes */

static int asview_status_job(void *arg)
{
    struct asview *v = arg;
    struct asview_snapshot s;
    memset(&s, 0, sizeof s);
    s.ready = v->ready();
    if (s.ready) {
        replica_status(v->replica, &s.st);
        /* The catalogue is guarded by the replica's lock (it is rebuilt on a reload). */
        pthread_mutex_lock(&v->replica->lock);
        const struct catalogue_book *b = catalogue_by_id(&v->replica->state.cat, s.st.last_book_id);
        if (b) {
            snprintf(s.title, sizeof s.title, "%s", b->title ? b->title : "");
            snprintf(s.author, sizeof s.author, "%s", b->author ? b->author : "");
        }
        pthread_mutex_unlock(&v->replica->lock);
    }
    pthread_mutex_lock(&v->lock);
    v->snap = s;
    bool changed = s.ready && s.st.last_book_id != v->wanted;
    if (changed) {
        v->wanted = s.st.last_book_id;
        v->cover_error[0] = '\0';
    }
    pthread_mutex_unlock(&v->lock);
    if (changed)
        worker_wake(&v->cover_worker);
    return ASVIEW_STATUS_MS;
}

static struct asview_cover *asview_find(struct asview *v, int book_id)
{
    for (size_t i = 0; i < ASVIEW_COVERS; i++)
        if (book_id > 0 && v->cover[i].book_id == book_id)
            return &v->cover[i];
    return NULL;
}

static int asview_cover_job(void *arg)
{
    struct asview *v = arg;
    pthread_mutex_lock(&v->lock);
    int id = v->wanted;
    bool known = id <= 0 || asview_find(v, id) != NULL;
    pthread_mutex_unlock(&v->lock);
    if (known)
        return ASVIEW_IDLE_MS;

    char why[300] = "";
    bool ok;
    if (!v->db_opened) {
        v->db_opened = true;
        ok = bookdb_open(&v->db, v->conninfo, why, sizeof why) == 0;
    } else {
        ok = bookdb_ready(&v->db, why, sizeof why);
    }
    unsigned char *png = NULL;
    size_t len = 0;
    if (ok) {
        png = bookdb_cover(&v->db, id, &len);
        /* NULL is either "no cover" or a failed query: a ping tells them apart. */
        if (!png && !bookdb_ping(&v->db, why, sizeof why))
            ok = false;
    }
    pthread_mutex_lock(&v->lock);
    if (ok) {
        struct asview_cover *c = &v->cover[v->next_slot];
        v->next_slot = (v->next_slot + 1) % ASVIEW_COVERS;
        free(c->png);
        *c = (struct asview_cover){.book_id = id, .missing = png == NULL, .png = png, .len = len};
        if (v->wanted == id)
            v->cover_error[0] = '\0';
    } else if (v->wanted == id) {
        snprintf(v->cover_error, sizeof v->cover_error, "%s", why);
    }
    pthread_mutex_unlock(&v->lock);
    if (!ok)
        log_debug("window", "cover of book %d: %s", id, why);
    return ok ? 0 : ASVIEW_RETRY_MS;
}

int asview_start(struct asview *v, struct replica *replica, bool (*ready)(void),
                 const char *db_conninfo)
{
    memset(v, 0, sizeof *v);
    v->replica = replica;
    v->ready = ready;
    snprintf(v->conninfo, sizeof v->conninfo, "%s", db_conninfo ? db_conninfo : "");
    pthread_mutex_init(&v->lock, NULL);
    int rc = worker_start(&v->cover_worker, asview_cover_job, v, ASVIEW_IDLE_MS);
    if (rc == 0) {
        rc = worker_start(&v->status_worker, asview_status_job, v, 0);
        if (rc != 0)
            worker_stop(&v->cover_worker);
    }
    if (rc != 0)
        pthread_mutex_destroy(&v->lock);
    return rc;
}

void asview_stop(struct asview *v)
{
    worker_stop(&v->status_worker);
    worker_stop(&v->cover_worker);
    if (v->db_opened)
        bookdb_close(&v->db);
    for (size_t i = 0; i < ASVIEW_COVERS; i++)
        free(v->cover[i].png);
    pthread_mutex_destroy(&v->lock);
}

void asview_get(struct asview *v, struct asview_snapshot *out)
{
    pthread_mutex_lock(&v->lock);
    *out = v->snap;
    pthread_mutex_unlock(&v->lock);
}

int asview_cover(struct asview *v, int book_id, unsigned char **png, size_t *len, char *why,
                 size_t whylen)
{
    *png = NULL;
    *len = 0;
    why[0] = '\0';
    int rc = 0;
    pthread_mutex_lock(&v->lock);
    const struct asview_cover *c = asview_find(v, book_id);
    if (c) {
        rc = 1;
        if (!c->missing && (*png = malloc(c->len ? c->len : 1))) {
            memcpy(*png, c->png, c->len);
            *len = c->len;
        }
    } else if (book_id == v->wanted && v->cover_error[0]) {
        snprintf(why, whylen, "%s", v->cover_error);
        rc = -1;
    }
    pthread_mutex_unlock(&v->lock);
    return rc;
}
