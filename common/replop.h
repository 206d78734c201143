/* replop: the replication log's operations (rpc/replication.x): checking one before it
 * is stored or applied, naming it, and its XDR bytes as stored in the log table. */
#ifndef BT_REPLOP_H
#define BT_REPLOP_H

#include "replication_rpc.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* NULL when op is well formed, else why not (written into why). */
const char *replop_check(const repl_op *op, char *why, size_t len);
const char *replop_kind_name(repl_kind kind);
/* 13 digits with a valid ISBN-13 check digit. */
bool replop_isbn_valid(const char *isbn);
/* 1..63 bytes of valid UTF-8 without control characters. */
bool replop_name_valid(const char *name);

/* The operation as XDR bytes: returns the length, or -1 if it does not fit in len. */
int replop_encode(const repl_op *op, char *buf, size_t len);
/* Decodes XDR bytes into op (free with replop_free). Returns 0 or -1. */
int replop_decode(const char *buf, size_t len, repl_op *op);
void replop_free(repl_op *op);
/* A deep copy (free with replop_free). Returns 0 or -1. */
int replop_copy(const repl_op *src, repl_op *dst);

#endif
