#include "fuzzlib.h"

#include "callauth.h"
#include "keyring.h"
#include "log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The test key (FUZZLIB_KEY_ID): the receiver's key file, so a call claiming it has its
 * MAC computed and compared. Never a key of any real key file. */
static const char fuzzlib_key_file[] =
    "# the fuzz targets' test key\n"
    "7 SHA256 HEX:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n";

static const char *fuzzlib_seed_dir;
static int fuzzlib_seed_errors;

void fuzzlib_init(void)
{
    /* Nothing below error: the servers' refusals are what the inputs provoke. */
    log_init("fuzz", (enum log_level)(LOG_LEVEL_ERROR + 1));
    struct keyring ring;
    char why[200];
    if (keyring_parse(&ring, fuzzlib_key_file, sizeof fuzzlib_key_file - 1, why, sizeof why) < 0) {
        fprintf(stderr, "fuzzlib: the test key: %s\n", why);
        exit(1);
    }
    callauth_use(&ring);
    keyring_clear(&ring);
    fuzzlib_seed_dir = getenv("FUZZ_SEED_DIR");
    if (fuzzlib_seed_dir && *fuzzlib_seed_dir) {
        fuzz_seeds();
        exit(fuzzlib_seed_errors ? 1 : 0);
    }
}

/* libFuzzer's start-up hook, the same for every target. */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzzlib_init();
    return 0;
}

bool fuzzlib_decode(xdrproc_t xargs, const uint8_t *data, size_t n, void *args, size_t size)
{
    memset(args, 0, size);
    XDR x;
    xdrmem_create(&x, (char *)data, (u_int)n, XDR_DECODE);
    bool ok = xargs(&x, args);
    xdr_destroy(&x);
    if (!ok)
        fuzzlib_free(xargs, args);
    return ok;
}

void fuzzlib_free(xdrproc_t xargs, void *args)
{
    xdr_free(xargs, (char *)args);
}

bool fuzzlib_authentic(rpcprog_t prog, rpcvers_t vers, rpcproc_t proc, xdrproc_t xargs,
                       void *args, call_auth *auth)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(1023)};
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    char why[200];
    return callauth_check(prog, vers, proc, xargs, args, auth, (struct sockaddr *)&sin, why,
                          sizeof why) == CALLAUTH_OK;
}

void fuzzlib_claim(call_auth *auth)
{
    memset(auth, 0, sizeof *auth);
    auth->key_id = FUZZLIB_KEY_ID;
    auth->sender = UINT64_C(0x0123456789abcdef);
    auth->counter = UINT64_C(1767225600000000);
}

void fuzzlib_seed(const char *name, const void *data, size_t n)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", fuzzlib_seed_dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, n, f) != n || fclose(f) != 0) {
        fprintf(stderr, "fuzzlib: writing seed %s: %s\n", path, strerror(errno));
        fuzzlib_seed_errors++;
    }
}

void fuzzlib_seed_xdr(const char *name, const void *prefix, size_t plen, xdrproc_t xargs,
                      void *args)
{
    static char buf[256 * 1024];
    if (plen > sizeof buf) {
        fuzzlib_seed_errors++;
        return;
    }
    if (plen)
        memcpy(buf, prefix, plen);
    XDR x;
    xdrmem_create(&x, buf + plen, (u_int)(sizeof buf - plen), XDR_ENCODE);
    bool ok = xargs(&x, args);
    size_t used = xdr_getpos(&x);
    xdr_destroy(&x);
    if (!ok) {
        fprintf(stderr, "fuzzlib: encoding seed %s failed\n", name);
        fuzzlib_seed_errors++;
        return;
    }
    fuzzlib_seed(name, buf, plen + used);
}
