#include "pgarray.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void pgarray_init(struct pgarray *a)
{
    memset(a, 0, sizeof *a);
}

/* Room for `more` bytes and the closing "}\0". */
static bool pgarray_reserve(struct pgarray *a, size_t more)
{
    if (a->failed)
        return false;
    size_t need = a->len + more + 2;
    if (need <= a->cap)
        return true;
    size_t cap = a->cap ? a->cap : 256;
    while (cap < need)
        cap *= 2;
    char *buf = realloc(a->buf, cap);
    if (!buf) {
        a->failed = true;
        return false;
    }
    a->buf = buf;
    a->cap = cap;
    return true;
}

static void pgarray_put(struct pgarray *a, char c)
{
    a->buf[a->len++] = c;
}

void pgarray_add(struct pgarray *a, const char *text)
{
    /* Worst case: every byte escaped, plus quotes and the separator. */
    size_t n = text ? strlen(text) : 4;
    if (!pgarray_reserve(a, 2 * n + 3))
        return;
    pgarray_put(a, a->count++ ? ',' : '{');
    if (!text) {
        memcpy(a->buf + a->len, "NULL", 4);
        a->len += 4;
        return;
    }
    pgarray_put(a, '"');
    for (const char *p = text; *p; p++) {
        if (*p == '"' || *p == '\\')
            pgarray_put(a, '\\');
        pgarray_put(a, *p);
    }
    pgarray_put(a, '"');
}

void pgarray_add_i64(struct pgarray *a, int64_t v)
{
    char s[24];
    snprintf(s, sizeof s, "%" PRId64, v);
    pgarray_add(a, s);
}

void pgarray_add_bool(struct pgarray *a, bool v)
{
    pgarray_add(a, v ? "t" : "f");
}

const char *pgarray_text(struct pgarray *a)
{
    if (!pgarray_reserve(a, 0))
        return NULL;
    if (a->count == 0) {
        memcpy(a->buf, "{}", 3);
        return a->buf;
    }
    a->buf[a->len] = '}';
    a->buf[a->len + 1] = '\0';
    return a->buf;
}

void pgarray_free(struct pgarray *a)
{
    free(a->buf);
    pgarray_init(a);
}
