#include "rpcclient.h"

#include <stdio.h>
#include <string.h>

static void rpcclient_chomp(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' '))
        s[--n] = '\0';
}

CLIENT *rpcclient_create(const char *host, rpcprog_t prog, rpcvers_t vers, const char *netid,
                         int timeout_ms, char *err, size_t errlen)
{
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    CLIENT *c = clnt_create_timed(host, prog, vers, netid, &tv);
    if (!c) {
        snprintf(err, errlen, "%s program %lu: %s", host, (unsigned long)prog,
                 clnt_spcreateerror("cannot connect"));
        rpcclient_chomp(err);
        return NULL;
    }
    clnt_control(c, CLSET_TIMEOUT, (char *)&tv);
    if (strcmp(netid, "udp") == 0) {
        struct timeval retry = {0, 100000};
        if (timeout_ms < 200)
            retry.tv_usec = timeout_ms * 500;
        clnt_control(c, CLSET_RETRY_TIMEOUT, (char *)&retry);
    }
    return c;
}

void rpcclient_error(CLIENT *c, enum clnt_stat st, const char *what, char *err, size_t errlen)
{
    struct rpc_err e;
    clnt_geterr(c, &e);
    if (e.re_status == RPC_SYSTEMERROR || st == RPC_CANTSEND || st == RPC_CANTRECV)
        snprintf(err, errlen, "%s: %s (%s)", what, clnt_sperrno(st), strerror(e.re_errno));
    else
        snprintf(err, errlen, "%s: %s", what, clnt_sperrno(st));
}
