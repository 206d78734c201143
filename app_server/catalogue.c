#include "catalogue.h"

#include "db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct catalogue *catalogue_sorting;

static int catalogue_cmp_isbn(const void *a, const void *b)
{
    const struct catalogue_book *x = &catalogue_sorting->book[*(const int *)a - 1];
    const struct catalogue_book *y = &catalogue_sorting->book[*(const int *)b - 1];
    return strcmp(x->isbn, y->isbn);
}

static int catalogue_alloc(struct catalogue *c, size_t n)
{
    c->count = n;
    c->book = calloc(n ? n : 1, sizeof *c->book);
    c->by_isbn = calloc(n ? n : 1, sizeof *c->by_isbn);
    c->taken = calloc(n + 1, sizeof *c->taken);
    c->taken_seq = calloc(n + 1, sizeof *c->taken_seq);
    c->free_ids = calloc(n ? n : 1, sizeof *c->free_ids);
    c->free_pos = calloc(n + 1, sizeof *c->free_pos);
    return c->book && c->by_isbn && c->taken && c->taken_seq && c->free_ids && c->free_pos ? 0 : -1;
}

int catalogue_load(struct catalogue *c, PGconn *conn, char *why, size_t len)
{
    memset(c, 0, sizeof *c);
    PGresult *res = PQexecParams(conn, "SELECT id, isbn, title, author, year FROM book ORDER BY id",
                                 0, NULL, NULL, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        char e[300];
        snprintf(why, len, "reading the catalogue: %s", db_error(conn, e, sizeof e));
        PQclear(res);
        return -1;
    }
    size_t n = (size_t)PQntuples(res);
    int rc = catalogue_alloc(c, n);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        struct catalogue_book *b = &c->book[i];
        b->id = atoi(PQgetvalue(res, (int)i, 0));
        snprintf(b->isbn, sizeof b->isbn, "%s", PQgetvalue(res, (int)i, 1));
        b->title = strdup(PQgetvalue(res, (int)i, 2));
        b->author = strdup(PQgetvalue(res, (int)i, 3));
        b->year = atoi(PQgetvalue(res, (int)i, 4));
        c->by_isbn[i] = b->id;
        if (b->id != (int)i + 1) {
            snprintf(why, len, "book ids must be 1..%zu in order (found %d at %zu)", n, b->id, i + 1);
            rc = -1;
        } else if (!b->title || !b->author) {
            snprintf(why, len, "out of memory");
            rc = -1;
        }
    }
    PQclear(res);
    if (rc == 0 && n == 0) {
        snprintf(why, len, "the catalogue is empty (load one with db/load-catalogue)");
        rc = -1;
    }
    if (rc < 0) {
        catalogue_free(c);
        return -1;
    }
    catalogue_sorting = c;
    qsort(c->by_isbn, n, sizeof *c->by_isbn, catalogue_cmp_isbn);
    catalogue_new_session(c);
    return 0;
}

void catalogue_free(struct catalogue *c)
{
    for (size_t i = 0; c->book && i < c->count; i++) {
        free(c->book[i].title);
        free(c->book[i].author);
    }
    free(c->book);
    free(c->by_isbn);
    free(c->taken);
    free(c->taken_seq);
    free(c->free_ids);
    free(c->free_pos);
    memset(c, 0, sizeof *c);
}

const struct catalogue_book *catalogue_by_id(const struct catalogue *c, int id)
{
    return id >= 1 && (size_t)id <= c->count ? &c->book[id - 1] : NULL;
}

const struct catalogue_book *catalogue_by_isbn(const struct catalogue *c, const char *isbn)
{
    size_t lo = 0, hi = c->count;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const struct catalogue_book *b = &c->book[c->by_isbn[mid] - 1];
        int cmp = strcmp(b->isbn, isbn);
        if (cmp == 0)
            return b;
        if (cmp < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

void catalogue_new_session(struct catalogue *c)
{
    for (size_t i = 0; i < c->count; i++) {
        c->free_ids[i] = (int)i + 1;
        c->free_pos[i + 1] = (long)i;
        c->taken[i + 1] = false;
        c->taken_seq[i + 1] = 0;
    }
    c->nfree = c->count;
    c->ntaken = 0;
}

static void catalogue_remove_free(struct catalogue *c, int id)
{
    long pos = c->free_pos[id];
    if (pos < 0)
        return;
    int last = c->free_ids[--c->nfree];
    c->free_ids[pos] = last;
    c->free_pos[last] = pos;
    c->free_pos[id] = -1;
}

int catalogue_reserve_random(struct catalogue *c)
{
    if (c->nfree == 0)
        return 0;
    int id = c->free_ids[(size_t)random() % c->nfree];
    catalogue_remove_free(c, id);
    return id;
}

void catalogue_unreserve(struct catalogue *c, int id)
{
    if (id < 1 || (size_t)id > c->count || c->taken[id] || c->free_pos[id] >= 0)
        return;
    c->free_pos[id] = (long)c->nfree;
    c->free_ids[c->nfree++] = id;
}

bool catalogue_take(struct catalogue *c, int id)
{
    if (id < 1 || (size_t)id > c->count || c->taken[id])
        return false;
    c->taken[id] = true;
    c->ntaken++;
    catalogue_remove_free(c, id);
    return true;
}

void catalogue_release(struct catalogue *c, int id)
{
    if (id < 1 || (size_t)id > c->count || !c->taken[id])
        return;
    c->taken[id] = false;
    c->taken_seq[id] = 0;
    c->ntaken--;
    catalogue_unreserve(c, id);
}
