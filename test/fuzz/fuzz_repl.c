/* fuzz_repl: the replication server's decoders (replication_server/repl_service.c and
 * replog.c). The first byte chooses: 0 SETQUERY's arguments (decoded, call_auth checked,
 * repl_service_check_setquery), 1 GETQUERY's (the same with
 * repl_service_check_getquery), 2 an operation as stored in the log table (replop_decode,
 * replop_check: what GETQUERY reads back). */
#include "fuzzlib.h"
#include "replication_rpc.h"
#include "replop.h"
#include "repl_service.h"

#include <string.h>

enum { FUZZ_SETQUERY, FUZZ_GETQUERY, FUZZ_STORED, FUZZ_REPL_KINDS };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);

static void fuzz_setquery(const uint8_t *data, size_t n)
{
    setquery_args a;
    if (!fuzzlib_decode((xdrproc_t)xdr_setquery_args, data, n, &a, sizeof a))
        return;
    fuzzlib_authentic(REPL_PROG, REPL_V2, SETQUERY, (xdrproc_t)xdr_setquery_args, &a, &a.auth);
    char why[REPL_MESSAGE_MAX];
    repl_service_check_setquery(&a, why, sizeof why);
    fuzzlib_free((xdrproc_t)xdr_setquery_args, &a);
}

static void fuzz_getquery(const uint8_t *data, size_t n)
{
    getquery_args a;
    if (!fuzzlib_decode((xdrproc_t)xdr_getquery_args, data, n, &a, sizeof a))
        return;
    fuzzlib_authentic(REPL_PROG, REPL_V2, GETQUERY, (xdrproc_t)xdr_getquery_args, &a, &a.auth);
    char why[REPL_MESSAGE_MAX];
    repl_service_check_getquery(&a, why, sizeof why);
    fuzzlib_free((xdrproc_t)xdr_getquery_args, &a);
}

static void fuzz_stored(const uint8_t *data, size_t n)
{
    repl_op op;
    if (replop_decode((const char *)data, n, &op) < 0)
        return;
    char why[REPL_MESSAGE_MAX];
    replop_check(&op, why, sizeof why);
    replop_kind_name(op.kind);
    replop_free(&op);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    if (n == 0)
        return 0;
    switch (data[0] % FUZZ_REPL_KINDS) {
    case FUZZ_SETQUERY: fuzz_setquery(data + 1, n - 1); break;
    case FUZZ_GETQUERY: fuzz_getquery(data + 1, n - 1); break;
    case FUZZ_STORED: fuzz_stored(data + 1, n - 1); break;
    }
    return 0;
}

/* ---- seeds ---- */

static repl_key fuzz_key = {0x5e, 0xed, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14};

static void fuzz_ops(repl_op ops[5])
{
    memset(ops, 0, 5 * sizeof ops[0]);
    ops[0].kind = OP_USER_SEEN;
    ops[0].repl_op_u.user_seen = (op_user_seen){"alice", "127.0.0.1"};
    ops[1].kind = OP_SESSION_OPEN;
    ops[1].repl_op_u.session_open.prev_session = 3;
    ops[2].kind = OP_BOOK_CLAIM;
    op_book_claim *c = &ops[2].repl_op_u.book_claim;
    *c = (op_book_claim){.session = 4, .isbn = "9780142437247", .user = "Zoë",
                         .address = "::1", .client_time_us = -1, .server_time_us = 3600000000};
    memcpy(c->key, fuzz_key, sizeof c->key);
    ops[3].kind = OP_SESSION_CLOSE;
    ops[3].repl_op_u.session_close.session = 4;
    ops[4].kind = OP_BOOK_RELEASE;
    ops[4].repl_op_u.book_release = (op_book_release){.session = 0, .user = "alice"};
    memcpy(ops[4].repl_op_u.book_release.key, fuzz_key, sizeof fuzz_key);
}

void fuzz_seeds(void)
{
    static const char names[5][32] = {"user-seen", "session-open", "book-claim",
                                      "session-close", "book-release"};
    repl_op ops[5];
    fuzz_ops(ops);
    const uint8_t set = FUZZ_SETQUERY, get = FUZZ_GETQUERY, stored = FUZZ_STORED;
    char name[64];
    for (int i = 0; i < 5; i++) {
        setquery_args a = {.origin = 1 + i % 2, .ops = {1, &ops[i]}};
        fuzzlib_claim(&a.auth);
        snprintf(name, sizeof name, "setquery-%s", names[i]);
        fuzzlib_seed_xdr(name, &set, 1, (xdrproc_t)xdr_setquery_args, &a);
        snprintf(name, sizeof name, "stored-%s", names[i]);
        fuzzlib_seed_xdr(name, &stored, 1, (xdrproc_t)xdr_repl_op, &ops[i]);
    }
    setquery_args all = {.origin = 2, .ops = {5, ops}};
    fuzzlib_claim(&all.auth);
    fuzzlib_seed_xdr("setquery-five", &set, 1, (xdrproc_t)xdr_setquery_args, &all);
    getquery_args g = {.after_seq = 41, .max = REPL_BATCH_MAX, .wait_ms = 1000};
    fuzzlib_claim(&g.auth);
    fuzzlib_seed_xdr("getquery", &get, 1, (xdrproc_t)xdr_getquery_args, &g);
    getquery_args last = {.after_seq = INT64_MAX, .max = 1, .wait_ms = 0};
    fuzzlib_seed_xdr("getquery-last", &get, 1, (xdrproc_t)xdr_getquery_args, &last);
}
