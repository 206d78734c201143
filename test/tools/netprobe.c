/* netprobe: echo servers and probes to check and measure a (linkem-emulated) network path.
 *
 *   netprobe udp-echo --port P              echo every datagram, until SIGTERM/SIGINT
 *   netprobe tcp-echo --port P              echo every byte of every connection, likewise
 *   netprobe udp --host H --port P [--count N] [--interval-ms MS] [--size BYTES]
 *                [--timeout-ms MS]
 *       one datagram at a time, each waiting for its echo or the timeout; prints
 *       sent=N received=N lost=N rtt_min_us=X rtt_p50_us=X rtt_p99_us=X rtt_max_us=X
 *       (over the replies; "-" with none). Exit 0 when at least one came back.
 *       Defaults: --count 10, --size 64, --timeout-ms 1000, --interval-ms 0 (the time
 *       from one send to the next; 0: the next as soon as the echo is in).
 *   netprobe tcp --host H --port P --bytes N [--timeout-ms MS]
 *       sends N pseudo-random bytes while reading the echo and checks each one; prints
 *       bytes=N ok=1 seconds=X. Exit 0 only if all N came back identical; --timeout-ms
 *       (default 10000) bounds the connect and any stretch without progress.
 * Hosts are numeric IPv4. Exit status: 0 done, 1 failure, 2 usage. */
#include "options.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONN 64
#define CHUNK 65536
#define PROBE_MAGIC 0x6e657470u     /* "netp": tells our replies from stray datagrams */

struct args {
    const char *host;
    long port, count, size;
    double interval_ms, timeout_ms;
    int64_t bytes;
};

static volatile sig_atomic_t g_stop;
static sigset_t g_wait_mask;    /* the mask inside ppoll: termination signals let through */

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

/* SIGTERM/SIGINT are only taken inside ppoll, so none slips between a check and a wait. */
static void catch_signals(void)
{
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigprocmask(SIG_BLOCK, &block, &g_wait_mask);
    sigdelset(&g_wait_mask, SIGTERM);
    sigdelset(&g_wait_mask, SIGINT);
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
}

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ppoll until the absolute monotonic deadline (-1: none); 0 on timeout, -1 on a signal. */
static int wait_for(struct pollfd *p, nfds_t n, int64_t deadline)
{
    struct timespec ts, *tsp = NULL;
    if (deadline >= 0) {
        int64_t left = deadline - mono_ns();
        if (left < 0)
            left = 0;
        ts = (struct timespec){(time_t)(left / 1000000000), (long)(left % 1000000000)};
        tsp = &ts;
    }
    int r = ppoll(p, n, tsp, &g_wait_mask);
    if (r < 0 && errno != EINTR) {
        fprintf(stderr, "netprobe: ppoll: %s\n", strerror(errno));
        exit(1);
    }
    return r < 0 ? -1 : r;
}

static int server_socket(int type, long port)
{
    int fd = socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                              .sin_addr.s_addr = htonl(INADDR_ANY)};
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &(int){1}, sizeof(int)) < 0 ||
        bind(fd, (struct sockaddr *)&sin, sizeof sin) < 0 ||
        (type == SOCK_STREAM && listen(fd, 64) < 0)) {
        fprintf(stderr, "netprobe: listening on port %ld: %s\n", port, strerror(errno));
        exit(1);
    }
    return fd;
}

static int udp_echo(const struct args *a)
{
    int fd = server_socket(SOCK_DGRAM, a->port);
    static unsigned char buf[CHUNK];
    struct pollfd p = {.fd = fd, .events = POLLIN};
    while (!g_stop) {
        if (wait_for(&p, 1, -1) <= 0)
            continue;
        for (;;) {
            struct sockaddr_in from;
            socklen_t fl = sizeof from;
            ssize_t n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
            if (n < 0)
                break;      /* EAGAIN, or an ICMP error left by an earlier reply */
            sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&from, fl);
        }
    }
    close(fd);
    return 0;
}

struct conn {
    int fd;
    bool eof;
    size_t len, off;            /* bytes read and not yet echoed: buf[off, len) */
    unsigned char buf[CHUNK];
};

static void conn_close(struct conn *c)
{
    close(c->fd);
    c->fd = -1;
}

static int tcp_echo(const struct args *a)
{
    int lfd = server_socket(SOCK_STREAM, a->port);
    static struct conn conns[MAX_CONN];
    for (int i = 0; i < MAX_CONN; i++)
        conns[i].fd = -1;
    while (!g_stop) {
        struct pollfd p[MAX_CONN + 1];
        int map[MAX_CONN + 1], n = 0, free_slot = -1;
        for (int i = 0; i < MAX_CONN; i++) {
            struct conn *c = &conns[i];
            if (c->fd < 0) {
                free_slot = i;
                continue;
            }
            /* Read only once the last read is echoed: the peer's own window pushes back. */
            p[n] = (struct pollfd){.fd = c->fd, .events = c->off < c->len ? POLLOUT : POLLIN};
            map[n++] = i;
        }
        if (free_slot >= 0) {
            p[n] = (struct pollfd){.fd = lfd, .events = POLLIN};
            map[n++] = -1;
        }
        if (wait_for(p, (nfds_t)n, -1) <= 0)
            continue;
        for (int k = 0; k < n; k++) {
            if (!p[k].revents)
                continue;
            if (map[k] < 0) {
                int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (fd >= 0)
                    conns[free_slot] = (struct conn){.fd = fd};
                continue;
            }
            struct conn *c = &conns[map[k]];
            if (c->off < c->len) {
                ssize_t w = send(c->fd, c->buf + c->off, c->len - c->off, MSG_NOSIGNAL);
                if (w < 0 && errno != EAGAIN && errno != EINTR) {
                    conn_close(c);
                    continue;
                }
                c->off += w > 0 ? (size_t)w : 0;
            } else {
                ssize_t r = recv(c->fd, c->buf, sizeof c->buf, 0);
                if (r < 0 && errno != EAGAIN && errno != EINTR) {
                    conn_close(c);
                    continue;
                }
                c->eof = r == 0;
                c->off = 0;
                c->len = r > 0 ? (size_t)r : 0;
            }
            if (c->eof && c->off == c->len)
                conn_close(c);
        }
    }
    for (int i = 0; i < MAX_CONN; i++)
        if (conns[i].fd >= 0)
            close(conns[i].fd);
    close(lfd);
    return 0;
}

static struct sockaddr_in target(const struct args *a)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)a->port)};
    if (inet_pton(AF_INET, a->host, &sin.sin_addr) != 1) {
        fprintf(stderr, "netprobe: --host: '%s' is not a numeric IPv4 address\n", a->host);
        exit(2);
    }
    return sin;
}

static int cmp64(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
    return (a > b) - (a < b);
}

static int64_t pct(const int64_t *sorted, long n, double q)
{
    long i = (long)ceil(q * (double)n) - 1;
    return sorted[i < 0 ? 0 : (i >= n ? n - 1 : i)];
}

static int udp_probe(const struct args *a)
{
    struct sockaddr_in to = target(a);
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&to, sizeof to) < 0) {
        fprintf(stderr, "netprobe: UDP socket to %s:%ld: %s\n", a->host, a->port, strerror(errno));
        return 1;
    }
    int64_t *rtt = calloc((size_t)a->count, sizeof *rtt);
    unsigned char *out = calloc(1, (size_t)a->size), in[CHUNK];
    if (!rtt || !out) {
        fprintf(stderr, "netprobe: %ld probes: out of memory\n", a->count);
        return 1;
    }
    int64_t interval = llround(a->interval_ms * 1e6), timeout = llround(a->timeout_ms * 1e6);
    int64_t last_send = 0;
    long sent = 0, got = 0;
    for (long i = 0; i < a->count && !g_stop; i++) {
        if (i > 0 && interval > 0) {
            int64_t at = last_send + interval;
            struct timespec ts = {(time_t)(at / 1000000000), (long)(at % 1000000000)};
            while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
                ;
        }
        uint32_t hdr[2] = {PROBE_MAGIC, (uint32_t)i};
        memcpy(out, hdr, sizeof hdr);
        last_send = mono_ns();
        if (send(fd, out, (size_t)a->size, 0) < 0) {
            /* ECONNREFUSED: an ICMP error from an earlier probe; this one is simply lost. */
            if (errno != ECONNREFUSED && errno != EAGAIN) {
                fprintf(stderr, "netprobe: send to %s:%ld: %s\n", a->host, a->port,
                        strerror(errno));
                break;
            }
        }
        sent++;
        int64_t deadline = last_send + timeout;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        while (!g_stop && wait_for(&p, 1, deadline) != 0) {
            ssize_t n = recv(fd, in, sizeof in, 0);
            int64_t now = mono_ns();
            uint32_t back[2];
            if (n < (ssize_t)sizeof back)
                continue;   /* EAGAIN, ICMP error or a runt: keep waiting */
            memcpy(back, in, sizeof back);
            if (back[0] == PROBE_MAGIC && back[1] == (uint32_t)i) {
                rtt[got++] = now - last_send;
                break;
            }
            /* A late echo of an earlier probe: counted lost already, ignored. */
        }
    }
    printf("sent=%ld received=%ld lost=%ld", sent, got, sent - got);
    if (got > 0) {
        qsort(rtt, (size_t)got, sizeof *rtt, cmp64);
        printf(" rtt_min_us=%" PRId64 " rtt_p50_us=%" PRId64 " rtt_p99_us=%" PRId64
               " rtt_max_us=%" PRId64 "\n", rtt[0] / 1000, pct(rtt, got, 0.5) / 1000,
               pct(rtt, got, 0.99) / 1000, rtt[got - 1] / 1000);
    } else {
        printf(" rtt_min_us=- rtt_p50_us=- rtt_p99_us=- rtt_max_us=-\n");
    }
    free(rtt);
    free(out);
    close(fd);
    return got > 0 ? 0 : 1;
}

/* Byte k of the stream: a hash of its index, so sender and checker need no shared state. */
static unsigned char stream_byte(uint64_t seed, int64_t k)
{
    uint64_t z = seed + (uint64_t)(k >> 3) * 0x9e3779b97f4a7c15u;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    z ^= z >> 31;
    return (unsigned char)(z >> ((k & 7) * 8));
}

static int tcp_probe(const struct args *a)
{
    struct sockaddr_in to = target(a);
    int64_t idle = llround(a->timeout_ms * 1e6), start = mono_ns();
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 || (connect(fd, (struct sockaddr *)&to, sizeof to) < 0 && errno != EINPROGRESS)) {
        fprintf(stderr, "netprobe: connect to %s:%ld: %s\n", a->host, a->port, strerror(errno));
        return 1;
    }
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    int err = 0;
    socklen_t el = sizeof err;
    if (wait_for(&p, 1, start + idle) <= 0 ||
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0 || err) {
        fprintf(stderr, "netprobe: connect to %s:%ld: %s\n", a->host, a->port,
                err ? strerror(err) : g_stop ? "interrupted" : "timed out");
        return 1;
    }
    uint64_t seed = (uint64_t)start ^ ((uint64_t)getpid() << 32);
    static unsigned char sbuf[CHUNK], rbuf[CHUNK];
    int64_t sent = 0, recvd = 0, last_progress = mono_ns();
    size_t soff = 0, slen = 0;
    int rc = 1;
    while (recvd < a->bytes && !g_stop) {
        p.events = POLLIN | (sent < a->bytes ? POLLOUT : 0);
        int r = wait_for(&p, 1, last_progress + idle);
        if (r == 0) {
            fprintf(stderr, "netprobe: no progress for %.0f ms (sent %" PRId64 ", got back %"
                    PRId64 " of %" PRId64 " bytes)\n", a->timeout_ms, sent, recvd, a->bytes);
            goto out;
        }
        if (r < 0)
            continue;
        if ((p.revents & POLLOUT) && sent < a->bytes) {
            if (soff == slen) {
                int64_t left = a->bytes - (sent + (int64_t)slen - (int64_t)soff);
                slen = left < CHUNK ? (size_t)left : CHUNK;
                for (size_t i = 0; i < slen; i++)
                    sbuf[i] = stream_byte(seed, sent + (int64_t)i);
                soff = 0;
            }
            ssize_t w = send(fd, sbuf + soff, slen - soff, MSG_NOSIGNAL);
            if (w < 0 && errno != EAGAIN && errno != EINTR) {
                fprintf(stderr, "netprobe: send: %s\n", strerror(errno));
                goto out;
            }
            if (w > 0) {
                soff += (size_t)w;
                sent += w;
                last_progress = mono_ns();
                if (sent == a->bytes)
                    shutdown(fd, SHUT_WR);      /* lets the echo server close when done */
            }
        }
        if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t n = recv(fd, rbuf, sizeof rbuf, 0);
            if (n < 0 && errno != EAGAIN && errno != EINTR) {
                fprintf(stderr, "netprobe: receive: %s\n", strerror(errno));
                goto out;
            }
            if (n == 0) {
                fprintf(stderr, "netprobe: connection closed after %" PRId64 " of %" PRId64
                        " bytes\n", recvd, a->bytes);
                goto out;
            }
            for (ssize_t i = 0; i < n; i++)
                if (recvd + i >= sent || rbuf[i] != stream_byte(seed, recvd + i)) {
                    fprintf(stderr, "netprobe: byte %" PRId64 " came back wrong (0x%02x)\n",
                            recvd + i, rbuf[i]);
                    goto out;
                }
            if (n > 0) {
                recvd += n;
                last_progress = mono_ns();
            }
        }
    }
    rc = recvd == a->bytes ? 0 : 1;
out:
    printf("bytes=%" PRId64 " ok=%d seconds=%.3f\n", recvd, rc == 0,
           (double)(mono_ns() - start) / 1e9);
    close(fd);
    return rc;
}

static int usage(void)
{
    fprintf(stderr, "usage: netprobe udp-echo|tcp-echo --port P\n"
                    "       netprobe udp --host H --port P [--count N] [--interval-ms MS]"
                    " [--size BYTES] [--timeout-ms MS]\n"
                    "       netprobe tcp --host H --port P --bytes N [--timeout-ms MS]\n");
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage();
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage();
        return 0;
    }
    const char *cmd = argv[1];
    bool server = strcmp(cmd, "udp-echo") == 0 || strcmp(cmd, "tcp-echo") == 0;
    bool udp = strcmp(cmd, "udp") == 0, tcp = strcmp(cmd, "tcp") == 0;
    if (!server && !udp && !tcp) {
        fprintf(stderr, "netprobe: unknown command '%s'\n", cmd);
        return usage();
    }
    struct args a = {.count = 10, .size = 64, .timeout_ms = -1, .bytes = -1};
    static const struct option opts[] = {
        {"host", required_argument, NULL, 'H'},     {"port", required_argument, NULL, 'p'},
        {"count", required_argument, NULL, 'c'},    {"interval-ms", required_argument, NULL, 'i'},
        {"size", required_argument, NULL, 's'},     {"timeout-ms", required_argument, NULL, 't'},
        {"bytes", required_argument, NULL, 'b'},    {NULL, 0, NULL, 0}};
    int ch;
    long bytes = 0;
    opterr = 0;
    while ((ch = getopt_long(argc - 1, argv + 1, "", opts, NULL)) != -1) {
        int bad = 0;
        switch (ch) {
        case 'H': a.host = optarg; break;
        case 'p': bad = options_long("port", optarg, 1, 65535, &a.port); break;
        case 'c': bad = options_long("count", optarg, 1, 10000000, &a.count); break;
        case 'i': bad = options_double("interval-ms", optarg, 0, 3600e3, &a.interval_ms); break;
        case 's': bad = options_long("size", optarg, 8, 65507, &a.size); break;
        case 't': bad = options_double("timeout-ms", optarg, 1, 3600e3, &a.timeout_ms); break;
        case 'b': bad = options_long("bytes", optarg, 1, 1L << 40, &bytes); a.bytes = bytes; break;
        default:
            fprintf(stderr, "netprobe: %s: %s\n", argv[optind],
                    optopt ? "needs a value" : "unknown option");
            return usage();
        }
        if (bad)
            return 2;
    }
    if (optind + 1 < argc) {
        fprintf(stderr, "netprobe: unexpected argument '%s'\n", argv[optind + 1]);
        return usage();
    }
    if (a.port == 0 || (!server && !a.host) || (tcp && a.bytes < 0)) {
        fprintf(stderr, "netprobe: %s needs --port%s%s\n", cmd, server ? "" : " and --host",
                tcp ? " and --bytes" : "");
        return 2;
    }
    if (a.timeout_ms < 0)
        a.timeout_ms = tcp ? 10000 : 1000;
    catch_signals();
    if (strcmp(cmd, "udp-echo") == 0)
        return udp_echo(&a);
    if (strcmp(cmd, "tcp-echo") == 0)
        return tcp_echo(&a);
    return udp ? udp_probe(&a) : tcp_probe(&a);
}
