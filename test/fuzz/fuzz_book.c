/* fuzz_book: the BOOK program's arguments as an app server takes them
 * (app_server/book_service.c). The first byte chooses the procedure: 0 REQUEST_BOOK,
 * 1 RESTART_SESSION, 2 RELEASE_BOOK; the rest is decoded as its arguments and checked
 * with book_service_check_args, as the dispatcher does. (BOOK calls carry no call_auth.) */
#include "book_rpc.h"
#include "book_service.h"
#include "fuzzlib.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);

static void fuzz_request(const uint8_t *data, size_t n)
{
    book_request a;
    if (!fuzzlib_decode((xdrproc_t)xdr_book_request, data, n, &a, sizeof a))
        return;
    unsigned char key[BOOK_KEY_LEN];
    char msg[BOOK_MESSAGE_MAX];
    book_service_check_args(BOOK_SERVICE_REQUEST, a.user, &a.key, a.attempt, a.client_time_us, 0,
                            key, msg, sizeof msg);
    fuzzlib_free((xdrproc_t)xdr_book_request, &a);
}

static void fuzz_restart(const uint8_t *data, size_t n)
{
    restart_args a;
    if (!fuzzlib_decode((xdrproc_t)xdr_restart_args, data, n, &a, sizeof a))
        return;
    unsigned char key[BOOK_KEY_LEN];
    char msg[BOOK_MESSAGE_MAX];
    book_service_check_args(BOOK_SERVICE_RESTART, a.user, NULL, 0, 0, a.seen_session, key, msg,
                            sizeof msg);
    fuzzlib_free((xdrproc_t)xdr_restart_args, &a);
}

static void fuzz_release(const uint8_t *data, size_t n)
{
    release_args a;
    if (!fuzzlib_decode((xdrproc_t)xdr_release_args, data, n, &a, sizeof a))
        return;
    unsigned char key[BOOK_KEY_LEN];
    char msg[BOOK_MESSAGE_MAX];
    book_service_check_args(BOOK_SERVICE_RELEASE, a.user, &a.key, 0, 0, a.session, key, msg,
                            sizeof msg);
    fuzzlib_free((xdrproc_t)xdr_release_args, &a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    if (n == 0)
        return 0;
    switch (data[0] % 3) {
    case BOOK_SERVICE_REQUEST: fuzz_request(data + 1, n - 1); break;
    case BOOK_SERVICE_RESTART: fuzz_restart(data + 1, n - 1); break;
    case BOOK_SERVICE_RELEASE: fuzz_release(data + 1, n - 1); break;
    }
    return 0;
}

void fuzz_seeds(void)
{
    static char key[BOOK_KEY_LEN] = "0123456789abcdef";
    const uint8_t req = BOOK_SERVICE_REQUEST, rst = BOOK_SERVICE_RESTART,
                  rel = BOOK_SERVICE_RELEASE;
    book_request r = {"alice", -1, {BOOK_KEY_LEN, key}, 1};
    fuzzlib_seed_xdr("request", &req, 1, (xdrproc_t)xdr_book_request, &r);
    book_request r2 = {"Zoë Ñúñez", 45296000000, {BOOK_KEY_LEN, key}, 3};
    fuzzlib_seed_xdr("request-retry", &req, 1, (xdrproc_t)xdr_book_request, &r2);
    book_request r3 = {"bob", -1, {8, key}, 1};
    fuzzlib_seed_xdr("request-short-key", &req, 1, (xdrproc_t)xdr_book_request, &r3);
    restart_args s = {"alice", 0};
    fuzzlib_seed_xdr("restart", &rst, 1, (xdrproc_t)xdr_restart_args, &s);
    restart_args s2 = {"window", 12345};
    fuzzlib_seed_xdr("restart-seen", &rst, 1, (xdrproc_t)xdr_restart_args, &s2);
    release_args l = {"alice", {BOOK_KEY_LEN, key}, 0};
    fuzzlib_seed_xdr("release", &rel, 1, (xdrproc_t)xdr_release_args, &l);
    release_args l2 = {"alice", {BOOK_KEY_LEN, key}, 77};
    fuzzlib_seed_xdr("release-session", &rel, 1, (xdrproc_t)xdr_release_args, &l2);
}
