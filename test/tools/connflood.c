/* connflood: holds many idle TCP connections open to an RPC server, as a careless or
 * hostile peer would, and measures what that does to another caller.
 *
 *   connflood --prog P [--vers V] [--host H] [--from ADDR] --count N [--probe K] [--hold]
 *             [--closed-within SEC]
 *
 * Opens N connections to program P's TCP port on H (default 127.0.0.1) from the local
 * address ADDR (e.g. 127.0.0.2: another peer than the callers on 127.0.0.1), sends
 * nothing on them, then makes one null call from the default address: the server takes
 * connections in order, so once it answers, it has seen all N. Prints
 *   opened=N held=H refused=R
 * (refused: connections the server closed). With --probe K, K null calls on one
 * connection and K calls each on a new connection are timed before the flood and with
 * it held, and the medians and p99s are printed with the ratios flood/idle. With --hold
 * the connections stay open until standard input closes or SIGTERM. With --closed-within
 * SEC, waits up to SEC for the server to close the connections it held (an idle
 * timeout) and prints closed_later=N after_ms=MS. Exit 0 when done (with
 * --closed-within: when all were closed in time), 1 on a failure, 2 on a usage error. */
#include "options.h"
#include "rpcclient.h"
#include "rpcserver.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <rpc/pmap_clnt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static bool null_call(CLIENT *c)
{
    struct timeval tv = {5, 0};
    return clnt_call(c, NULLPROC, (xdrproc_t)rpcserver_xdr_void, NULL,
                     (xdrproc_t)rpcserver_xdr_void, NULL, tv) == RPC_SUCCESS;
}

struct timing {
    double p50_us, p99_us;
};

/* K null calls, one connection for all (kept) or one each (fresh). */
static int probe(const char *host, rpcprog_t prog, rpcvers_t vers, long k, bool fresh,
                 struct timing *t)
{
    int64_t *us = calloc((size_t)k, sizeof *us);
    char err[300];
    CLIENT *c = NULL;
    if (!us)
        return -1;
    for (long i = 0; i < k; i++) {
        int64_t t0 = now_ns();
        if (!c && !(c = rpcclient_create(host, prog, vers, "tcp", 5000, err, sizeof err))) {
            fprintf(stderr, "connflood: probe: %s\n", err);
            free(us);
            return -1;
        }
        if (!null_call(c)) {
            fprintf(stderr, "connflood: probe: the null call failed\n");
            clnt_destroy(c);
            free(us);
            return -1;
        }
        if (fresh) {
            clnt_destroy(c);
            c = NULL;
        }
        us[i] = (now_ns() - t0) / 1000;
    }
    if (c)
        clnt_destroy(c);
    qsort(us, (size_t)k, sizeof *us, cmp_i64);
    t->p50_us = (double)us[k / 2];
    t->p99_us = (double)us[(k * 99) / 100 < k ? (k * 99) / 100 : k - 1];
    free(us);
    return 0;
}

static int connect_from(const struct sockaddr_in *to, const struct sockaddr_in *from)
{
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return -1;
    struct timeval tv = {5, 0};
    setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if ((from && bind(s, (const struct sockaddr *)from, sizeof *from) < 0) ||
        connect(s, (const struct sockaddr *)to, sizeof *to) < 0) {
        int e = errno;
        close(s);
        errno = e;
        return -1;
    }
    return s;
}

/* Connections the server has closed (its end of the stream has arrived). */
static long closed_count(const int *fds, long n)
{
    long closed = 0;
    for (long i = 0; i < n; i++) {
        struct pollfd p = {.fd = fds[i], .events = POLLRDHUP};
        if (poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)))
            closed++;
    }
    return closed;
}

static void usage(FILE *f)
{
    fputs("usage: connflood --prog P [--vers V] [--host H] [--from ADDR] --count N [--probe K]\n"
          "                 [--hold] [--closed-within SEC]\n", f);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"prog", required_argument, NULL, 'p'}, {"vers", required_argument, NULL, 'v'},
        {"host", required_argument, NULL, 'H'}, {"from", required_argument, NULL, 'f'},
        {"count", required_argument, NULL, 'n'}, {"probe", required_argument, NULL, 'k'},
        {"hold", no_argument, NULL, 'o'},       {"help", no_argument, NULL, 'h'},
        {"closed-within", required_argument, NULL, 'c'},
        {NULL, 0, NULL, 0}};
    long prog = 0, vers = 1, count = -1, k = 0, within = -1;
    const char *host = "127.0.0.1", *from = NULL;
    bool hold = false;
    int opt;
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        int r = 0;
        switch (opt) {
        case 'p': r = options_long("prog", optarg, 1, 0xffffffffL, &prog); break;
        case 'v': r = options_long("vers", optarg, 1, 0xffffffffL, &vers); break;
        case 'H': host = optarg; break;
        case 'f': from = optarg; break;
        case 'n': r = options_long("count", optarg, 0, 1000000, &count); break;
        case 'k': r = options_long("probe", optarg, 1, 1000000, &k); break;
        case 'o': hold = true; break;
        case 'c': r = options_long("closed-within", optarg, 0, 3600, &within); break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
        if (r < 0)
            return 2;
    }
    if (!prog || count < 0 || optind != argc) {
        usage(stderr);
        return 2;
    }
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        if ((long)rl.rlim_cur < count + 64) {
            fprintf(stderr, "connflood: %ld connections need more descriptors than the %ld allowed\n",
                    count, (long)rl.rlim_cur);
            return 1;
        }
    }
    signal(SIGPIPE, SIG_IGN);
    struct sockaddr_in to = {.sin_family = AF_INET}, src = {.sin_family = AF_INET};
    if (inet_pton(AF_INET, host, &to.sin_addr) != 1 ||
        (from && inet_pton(AF_INET, from, &src.sin_addr) != 1)) {
        fprintf(stderr, "connflood: --host and --from take numeric IPv4 addresses\n");
        return 2;
    }
    u_short port = pmap_getport(&to, (rpcprog_t)prog, (rpcvers_t)vers, IPPROTO_TCP);
    if (!port) {
        fprintf(stderr, "connflood: program %ld version %ld is not registered over TCP on %s\n",
                prog, vers, host);
        return 1;
    }
    to.sin_port = htons(port);

    struct timing idle_kept, idle_fresh, flood_kept, flood_fresh;
    if (k && (probe(host, (rpcprog_t)prog, (rpcvers_t)vers, k, false, &idle_kept) < 0 ||
              probe(host, (rpcprog_t)prog, (rpcvers_t)vers, k, true, &idle_fresh) < 0))
        return 1;

    int *fds = calloc((size_t)count + 1, sizeof *fds);
    if (!fds)
        return 1;
    long opened = 0;
    for (; opened < count; opened++) {
        fds[opened] = connect_from(&to, from ? &src : NULL);
        if (fds[opened] < 0) {
            fprintf(stderr, "connflood: connection %ld: %s\n", opened + 1, strerror(errno));
            break;
        }
    }
    char err[300];
    CLIENT *sync = rpcclient_create(host, (rpcprog_t)prog, (rpcvers_t)vers, "tcp", 5000, err, sizeof err);
    if (!sync || !null_call(sync)) {
        fprintf(stderr, "connflood: the server does not answer after the flood: %s\n",
                sync ? "null call failed" : err);
        return 1;
    }
    clnt_destroy(sync);
    long refused = closed_count(fds, opened);
    printf("opened=%ld held=%ld refused=%ld", opened, opened - refused, refused);
    if (k) {
        if (probe(host, (rpcprog_t)prog, (rpcvers_t)vers, k, false, &flood_kept) < 0 ||
            probe(host, (rpcprog_t)prog, (rpcvers_t)vers, k, true, &flood_fresh) < 0)
            return 1;
        printf(" kept_p50_us=%.0f/%.0f kept_p99_us=%.0f/%.0f new_p50_us=%.0f/%.0f "
               "new_p99_us=%.0f/%.0f kept_ratio=%.2f new_ratio=%.2f",
               idle_kept.p50_us, flood_kept.p50_us, idle_kept.p99_us, flood_kept.p99_us,
               idle_fresh.p50_us, flood_fresh.p50_us, idle_fresh.p99_us, flood_fresh.p99_us,
               flood_kept.p50_us / (idle_kept.p50_us > 0 ? idle_kept.p50_us : 1),
               flood_fresh.p50_us / (idle_fresh.p50_us > 0 ? idle_fresh.p50_us : 1));
    }
    printf("\n");
    fflush(stdout);
    bool all_closed = true;
    if (within >= 0) {
        int64_t t0 = now_ns(), deadline = t0 + within * 1000000000LL;
        long closed;
        while ((closed = closed_count(fds, opened)) < opened && now_ns() < deadline)
            poll(NULL, 0, 50);
        printf("closed_later=%ld after_ms=%lld\n", closed - refused,
               (long long)((now_ns() - t0) / 1000000));
        fflush(stdout);
        all_closed = closed == opened;
    }
    if (hold) {
        char buf[256];
        while (read(0, buf, sizeof buf) > 0) {
        }
    }
    for (long i = 0; i < opened; i++)
        close(fds[i]);
    free(fds);
    return opened == count && all_closed ? 0 : 1;
}
