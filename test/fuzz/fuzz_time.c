/* fuzz_time: TIME.JOIN's arguments as the time server takes them (time_service.c):
 * decoded from the call's bytes, call_auth checked, then time_service_check_join. */
#include "fuzzlib.h"
#include "time_rpc.h"
#include "time_service.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    join_args a;
    if (!fuzzlib_decode((xdrproc_t)xdr_join_args, data, n, &a, sizeof a))
        return 0;
    /* Both whatever the MAC says: the dispatcher checks the arguments only after it, but
     * neither may fail on any input. */
    fuzzlib_authentic(TIME_PROG, TIME_V1, TIME_JOIN, (xdrproc_t)xdr_join_args, &a, &a.auth);
    char why[160];
    time_service_check_join(a.name, a.host, a.prognum, a.versnum, why, sizeof why);
    fuzzlib_free((xdrproc_t)xdr_join_args, &a);
    return 0;
}

static void fuzz_join_seed(const char *name, char *node, char *host, unsigned prog,
                           unsigned vers, bool claim)
{
    join_args a;
    memset(&a, 0, sizeof a);
    a.name = node;
    a.host = host;
    a.prognum = prog;
    a.versnum = vers;
    if (claim)
        fuzzlib_claim(&a.auth);
    fuzzlib_seed_xdr(name, NULL, 0, (xdrproc_t)xdr_join_args, &a);
}

void fuzz_seeds(void)
{
    fuzz_join_seed("join-app1", "app1", "", CLOCK_PROG + 1, CLOCK_V1, true);
    fuzz_join_seed("join-host", "client-7.lab", "10.77.0.11", CLOCK_PROG + 2, CLOCK_V1, true);
    fuzz_join_seed("join-v6", "app_2", "fe80::1", 0x40000000, CLOCK_V1, false);
    fuzz_join_seed("join-bad-name", "app 1;", "host", CLOCK_PROG, CLOCK_V1, false);
    fuzz_join_seed("join-bad-prog", "app1", "", 17, 9, false);
}
