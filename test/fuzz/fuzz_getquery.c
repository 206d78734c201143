/* fuzz_getquery: a GETQUERY reply as an app server's applier takes it
 * (app_server/replica.c, common/replclient.c): the first 4 bytes are the position the
 * server has applied (big-endian), the rest the reply's XDR. Decoded, its status read
 * as replclient_fetch does, checked with replica_check_batch, and, if that passes,
 * applied entry by entry to a state with a four-book catalogue (bookstate_apply), as
 * the applier does before the books DB writer gets the rows. */
#include "bookstate.h"
#include "fuzzlib.h"
#include "replica.h"
#include "replication_rpc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_BOOKS 4

static const char fuzz_isbn[FUZZ_BOOKS][14] = {"9780060850524", "9780141439518",
                                               "9780142437247", "9780451524935"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);

/* What catalogue_load makes of a books DB holding these four books (ISBNs in order). */
static int fuzz_catalogue(struct catalogue *c)
{
    size_t n = FUZZ_BOOKS;
    c->count = n;
    c->book = calloc(n, sizeof *c->book);
    c->by_isbn = calloc(n, sizeof *c->by_isbn);
    c->taken = calloc(n + 1, sizeof *c->taken);
    c->taken_seq = calloc(n + 1, sizeof *c->taken_seq);
    c->free_ids = calloc(n, sizeof *c->free_ids);
    c->free_pos = calloc(n + 1, sizeof *c->free_pos);
    if (!c->book || !c->by_isbn || !c->taken || !c->taken_seq || !c->free_ids || !c->free_pos)
        return -1;
    for (size_t i = 0; i < n; i++) {
        struct catalogue_book *b = &c->book[i];
        b->id = (int)i + 1;
        memcpy(b->isbn, fuzz_isbn[i], sizeof b->isbn);
        b->title = strdup("A Title");
        b->author = strdup("An Author");
        b->year = 1900 + (int)i;
        c->by_isbn[i] = b->id;
        if (!b->title || !b->author)
            return -1;
    }
    catalogue_new_session(c);
    return 0;
}

static void fuzz_apply(getquery_reply *rep, int64_t applied)
{
    static struct bookstate s;
    memset(&s, 0, sizeof s);
    s.instance = 1;
    keymap_init(&s.keys);
    if (fuzz_catalogue(&s.cat) < 0) {
        bookstate_free(&s);
        return;
    }
    s.applied_seq = applied;
    for (u_int i = 0; i < rep->entries.entries_len; i++) {
        struct bookstate_outcome o;
        struct bookdb_entry row;
        bookstate_apply(&s, &rep->entries.entries_val[i], &o, &row);
        bookstate_outcome(&s, o.seq, &o);
    }
    bookstate_free(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    if (n < 4)
        return 0;
    int64_t applied = (int64_t)((uint32_t)data[0] << 24 | (uint32_t)data[1] << 16 |
                                (uint32_t)data[2] << 8 | data[3]);
    getquery_reply rep;
    if (!fuzzlib_decode((xdrproc_t)xdr_getquery_reply, data + 4, n - 4, &rep, sizeof rep))
        return 0;
    char why[400];
    if (rep.status != REPL_OK)
        snprintf(why, sizeof why, "%s", rep.message ? rep.message : "refused");
    else if (replica_check_batch(&rep, applied, why, sizeof why) == 0)
        fuzz_apply(&rep, applied);
    fuzzlib_free((xdrproc_t)xdr_getquery_reply, &rep);
    return 0;
}

/* ---- seeds ---- */

static void fuzz_entry(repl_entry *e, int64_t seq, int origin, repl_kind kind)
{
    memset(e, 0, sizeof *e);
    e->seq = seq;
    e->origin = origin;
    e->appended_at_us = 1767225600000000LL + seq * 1000;
    e->op.kind = kind;
}

void fuzz_seeds(void)
{
    static repl_entry e[8];
    static const repl_key k1 = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    static const repl_key k2 = {16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1};
    fuzz_entry(&e[0], 1, 1, OP_SESSION_OPEN);
    fuzz_entry(&e[1], 2, 1, OP_USER_SEEN);
    e[1].op.repl_op_u.user_seen = (op_user_seen){"alice", "127.0.0.1"};
    fuzz_entry(&e[2], 3, 1, OP_BOOK_CLAIM);
    e[2].op.repl_op_u.book_claim = (op_book_claim){.session = 1, .isbn = (char *)fuzz_isbn[2],
                                                   .user = "alice", .address = "127.0.0.1",
                                                   .client_time_us = -1,
                                                   .server_time_us = 3600000000LL};
    memcpy(e[2].op.repl_op_u.book_claim.key, k1, sizeof k1);
    fuzz_entry(&e[3], 4, 2, OP_BOOK_CLAIM);
    e[3].op.repl_op_u.book_claim = (op_book_claim){.session = 1, .isbn = (char *)fuzz_isbn[2],
                                                   .user = "bob", .address = "::1",
                                                   .client_time_us = 1000,
                                                   .server_time_us = 3600001000LL};
    memcpy(e[3].op.repl_op_u.book_claim.key, k2, sizeof k2);
    fuzz_entry(&e[4], 5, 1, OP_BOOK_RELEASE);
    e[4].op.repl_op_u.book_release = (op_book_release){.session = 1, .user = "alice"};
    memcpy(e[4].op.repl_op_u.book_release.key, k1, sizeof k1);
    fuzz_entry(&e[5], 6, 2, OP_BOOK_CLAIM);
    e[5].op.repl_op_u.book_claim = e[2].op.repl_op_u.book_claim;
    fuzz_entry(&e[6], 7, 2, OP_SESSION_CLOSE);
    e[6].op.repl_op_u.session_close.session = 1;
    fuzz_entry(&e[7], 8, 1, OP_SESSION_OPEN);
    e[7].op.repl_op_u.session_open.prev_session = 1;

    const uint8_t from0[4] = {0, 0, 0, 0}, from4[4] = {0, 0, 0, 4};
    getquery_reply all = {REPL_OK, "", 8, {8, e}};
    fuzzlib_seed_xdr("batch-session", from0, 4, (xdrproc_t)xdr_getquery_reply, &all);
    getquery_reply tail = {REPL_OK, "", 8, {4, e + 4}};
    fuzzlib_seed_xdr("batch-tail", from4, 4, (xdrproc_t)xdr_getquery_reply, &tail);
    getquery_reply none = {REPL_OK, "", 4, {0, NULL}};
    fuzzlib_seed_xdr("batch-empty", from4, 4, (xdrproc_t)xdr_getquery_reply, &none);
    getquery_reply gap = {REPL_OK, "", 8, {4, e + 4}};
    fuzzlib_seed_xdr("batch-gap", from0, 4, (xdrproc_t)xdr_getquery_reply, &gap);
    getquery_reply refused = {REPL_ERR_AUTH, "GETQUERY refused: wrong MAC", 0, {0, NULL}};
    fuzzlib_seed_xdr("refused", from0, 4, (xdrproc_t)xdr_getquery_reply, &refused);
}
