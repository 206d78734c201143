#include "rpcclient.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <rpc/pmap_prot.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Why not clnt_create_timed(): libtirpc 1.3.3 leaks a struct netbuf on every rpcbind
 * address-cache hit inside it (LeakSanitizer shows it from the second lookup of a host
 * on), and a daemon that reconnects to its peers every round would pile them up. So the
 * lookup is done here: the port from rpcbind's portmapper procedure over a TCP
 * connection of our own, then clnttcp_create/clntudp_create. IPv4, like the portmapper. */

static int rpcclient_resolve(const char *host, struct sockaddr_in *out, char *err, size_t errlen)
{
    struct addrinfo hints = {.ai_family = AF_INET}, *res = NULL;
    int rc = getaddrinfo(host, NULL, &hints, &res);
    if (rc != 0 || !res) {
        snprintf(err, errlen, "%s: cannot resolve: %s", host, gai_strerror(rc));
        return -1;
    }
    memcpy(out, res->ai_addr, sizeof *out);
    freeaddrinfo(res);
    return 0;
}

/* A TCP connection that gives up after timeout_ms instead of the kernel's minutes. */
static int rpcclient_connect(const struct sockaddr_in *sin, int timeout_ms, char *why, size_t len)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        snprintf(why, len, "socket: %s", strerror(errno));
        return -1;
    }
    int rc = connect(fd, (const struct sockaddr *)sin, sizeof *sin);
    if (rc < 0 && errno == EINPROGRESS) {
        struct pollfd p = {fd, POLLOUT, 0};
        rc = poll(&p, 1, timeout_ms);
        int soerr = 0;
        socklen_t sl = sizeof soerr;
        if (rc == 0)
            errno = ETIMEDOUT;
        else if (rc > 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr)
            errno = soerr;
        rc = (rc > 0 && soerr == 0) ? 0 : -1;
    }
    if (rc < 0) {
        snprintf(why, len, "%s", strerror(errno));
        close(fd);
        return -1;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    return fd;
}

static CLIENT *rpcclient_tcp(struct sockaddr_in *sin, rpcprog_t prog, rpcvers_t vers,
                             int timeout_ms, char *why, size_t len)
{
    int fd = rpcclient_connect(sin, timeout_ms, why, len);
    if (fd < 0)
        return NULL;
    CLIENT *c = clnttcp_create(sin, prog, vers, &fd, 0, 0);
    if (!c) {
        snprintf(why, len, "%s", clnt_spcreateerror("clnttcp_create"));
        close(fd);
        return NULL;
    }
    clnt_control(c, CLSET_FD_CLOSE, NULL);
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    clnt_control(c, CLSET_TIMEOUT, (char *)&tv);
    return c;
}

/* The port rpcbind has for prog/vers/proto on that host: >0, 0 not registered, -1 error. */
static int rpcclient_getport(const struct sockaddr_in *host, rpcprog_t prog, rpcvers_t vers,
                             int proto, int timeout_ms, char *why, size_t len)
{
    struct sockaddr_in pm = *host;
    pm.sin_port = htons(PMAPPORT);
    char sub[200];
    CLIENT *c = rpcclient_tcp(&pm, PMAPPROG, PMAPVERS, timeout_ms, sub, sizeof sub);
    if (!c) {
        snprintf(why, len, "rpcbind unreachable: %s", sub);
        return -1;
    }
    struct pmap parms = {prog, vers, (u_long)proto, 0};
    u_long port = 0;
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    enum clnt_stat st = clnt_call(c, PMAPPROC_GETPORT, (xdrproc_t)xdr_pmap, (char *)&parms,
                                  (xdrproc_t)xdr_u_long, (char *)&port, tv);
    clnt_destroy(c);
    if (st != RPC_SUCCESS) {
        snprintf(why, len, "rpcbind: %s", clnt_sperrno(st));
        return -1;
    }
    return (int)port;
}

CLIENT *rpcclient_create(const char *host, rpcprog_t prog, rpcvers_t vers, const char *netid,
                         int timeout_ms, char *err, size_t errlen)
{
    struct sockaddr_in sin;
    char why[240];
    bool udp = strcmp(netid, "udp") == 0;
    if (rpcclient_resolve(host, &sin, err, errlen) < 0)
        return NULL;
    int port = rpcclient_getport(&sin, prog, vers, udp ? IPPROTO_UDP : IPPROTO_TCP, timeout_ms,
                                 why, sizeof why);
    if (port <= 0) {
        snprintf(err, errlen, "%s program %lu version %lu: %s", host, (unsigned long)prog,
                 (unsigned long)vers, port == 0 ? "not registered with rpcbind" : why);
        return NULL;
    }
    sin.sin_port = htons((uint16_t)port);
    CLIENT *c = NULL;
    if (udp) {
        struct timeval retry = {0, timeout_ms < 200 ? timeout_ms * 500 : 100000};
        int sock = RPC_ANYSOCK;
        c = clntudp_create(&sin, prog, vers, retry, &sock);
        if (!c)
            snprintf(why, sizeof why, "%s", clnt_spcreateerror("clntudp_create"));
        else {
            struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
            clnt_control(c, CLSET_TIMEOUT, (char *)&tv);
        }
    } else {
        c = rpcclient_tcp(&sin, prog, vers, timeout_ms, why, sizeof why);
    }
    if (!c)
        snprintf(err, errlen, "%s program %lu port %d: %s", host, (unsigned long)prog, port, why);
    return c;
}

bool rpcclient_closed_by_peer(CLIENT *c)
{
    int fd;
    if (!c || !clnt_control(c, CLGET_FD, (char *)&fd))
        return false;
    struct pollfd p = {.fd = fd, .events = POLLIN | POLLRDHUP};
    return poll(&p, 1, 0) > 0;
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
