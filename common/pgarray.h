/* pgarray: PostgreSQL array literals ("{...}") built element by element, to pass a whole
 * batch of rows as a few text parameters of one PQexecParams call (the statement
 * unnest()s them). Elements are always double-quoted with '"' and '\' escaped, so any
 * text survives; a NULL element is written as NULL. After an allocation failure the
 * array stays failed and pgarray_text() returns NULL. */
#ifndef BT_PGARRAY_H
#define BT_PGARRAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pgarray {
    char *buf;
    size_t len, cap;
    int count;
    bool failed;
};

void pgarray_init(struct pgarray *a);
/* Appends text as one element; NULL appends an SQL NULL. */
void pgarray_add(struct pgarray *a, const char *text);
void pgarray_add_i64(struct pgarray *a, int64_t v);
void pgarray_add_bool(struct pgarray *a, bool v);
/* The literal, valid until the next add or pgarray_free; NULL after a failure. */
const char *pgarray_text(struct pgarray *a);
void pgarray_free(struct pgarray *a);

#endif
