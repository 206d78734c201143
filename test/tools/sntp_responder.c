/* sntp_responder: a tiny SNTP server for the system tests and the benchmark.
 *
 *   sntp_responder --listen ADDR:PORT --offset-us N [--stratum S] [--kiss] [--unsync]
 *
 * Answers every mode-3 request with "now + N us" (CLOCK_REALTIME), so a test knows the
 * exact UTC the time server should converge to. PORT may be 0: the line
 * "sntp_responder: listening on ADDR:PORT" names the port actually bound, and is
 * printed only once the socket is bound, so a test can wait for it. SIGTERM or SIGINT
 * ends it with status 0. */
#include "sntp.h"

#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RESP_NAME "sntp_responder"
#define RESP_PRECISION (-20) /* about 1 us, what CLOCK_REALTIME gives */

struct resp_opts {
    char host[256];
    char port[16];
    int64_t offset_us;
    int stratum;
    bool kiss;
    bool unsync;
    bool silent;
};

static volatile sig_atomic_t resp_stop;

static void resp_on_signal(int sig)
{
    (void)sig;
    resp_stop = 1;
}

static void resp_usage(FILE *f)
{
    fprintf(f,
            "usage: " RESP_NAME " --listen ADDR:PORT [--offset-us N] [--stratum S] [--kiss] "
            "[--unsync]\n"
            "  --listen ADDR:PORT  UDP address to serve; [V6]:PORT for IPv6, PORT 0 = any\n"
            "  --offset-us N       answer CLOCK_REALTIME + N microseconds (default 0)\n"
            "  --stratum S         stratum to announce, 0-255 (default 2; 0 = kiss-of-death,\n"
            "                      16 and up = unsynchronised)\n"
            "  --kiss              answer with kiss-of-death (stratum 0, code RATE)\n"
            "  --unsync            answer with leap indicator 3 (not synchronised)\n"
            "  --silent            read requests and never answer (a server that hangs)\n"
            "  --help              show this and exit\n"
            "Prints \"" RESP_NAME ": listening on ADDR:PORT\" once bound; SIGTERM/SIGINT stop it.\n");
}

__attribute__((format(printf, 1, 2)))
static int resp_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, RESP_NAME ": ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n(try --help)\n");
    va_end(ap);
    return -1;
}

/* Like sntp_parse_server, but the port is mandatory and may be 0 (any free port). */
static int resp_parse_listen(const char *spec, struct resp_opts *o)
{
    const char *colon = strrchr(spec, ':');
    if (colon == NULL || colon[1] == '\0')
        return resp_fail("--listen \"%s\": expected ADDR:PORT", spec);
    const char *host = spec;
    size_t hlen = (size_t)(colon - spec);
    if (hlen >= 2 && host[0] == '[' && host[hlen - 1] == ']') {
        host++;
        hlen -= 2;
    }
    if (hlen == 0 || hlen >= sizeof o->host)
        return resp_fail("--listen \"%s\": bad address", spec);
    char *end;
    errno = 0;
    unsigned long port = strtoul(colon + 1, &end, 10);
    if (*end != '\0' || errno != 0 || port > 65535 || colon[1] < '0' || colon[1] > '9')
        return resp_fail("--listen \"%s\": port must be a number 0-65535", spec);
    memcpy(o->host, host, hlen);
    o->host[hlen] = '\0';
    snprintf(o->port, sizeof o->port, "%lu", port);
    return 0;
}

static int resp_parse_int(const char *opt, const char *s, long long lo, long long hi,
                          long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (s[0] == '\0' || *end != '\0' || errno != 0 || v < lo || v > hi) {
        return resp_fail("%s \"%s\": expected an integer in %lld..%lld", opt, s, lo, hi);
    }
    *out = v;
    return 0;
}

/* Returns 0 to serve, 1 after --help, -1 on a bad command line. */
static int resp_parse_args(int argc, char **argv, struct resp_opts *o)
{
    static const struct option longopts[] = {
        {"listen", required_argument, NULL, 'l'}, {"offset-us", required_argument, NULL, 'o'},
        {"stratum", required_argument, NULL, 's'}, {"kiss", no_argument, NULL, 'k'},
        {"unsync", no_argument, NULL, 'u'},       {"help", no_argument, NULL, 'h'},
        {"silent", no_argument, NULL, 'S'},
        {NULL, 0, NULL, 0}};
    memset(o, 0, sizeof *o);
    o->stratum = 2;
    bool have_listen = false;
    long long v;
    int c;
    while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        switch (c) {
        case 'l':
            if (resp_parse_listen(optarg, o) != 0)
                return -1;
            have_listen = true;
            break;
        case 'o':
            /* +/- 100 years keeps every answer inside the NTP era the client decodes. */
            if (resp_parse_int("--offset-us", optarg, -INT64_C(3155760000000000),
                               INT64_C(3155760000000000), &v) != 0)
                return -1;
            o->offset_us = v;
            break;
        case 's':
            if (resp_parse_int("--stratum", optarg, 0, 255, &v) != 0)
                return -1;
            o->stratum = (int)v;
            break;
        case 'k': o->kiss = true; break;
        case 'u': o->unsync = true; break;
        case 'S': o->silent = true; break;
        case 'h': resp_usage(stdout); return 1;
        case ':':
            return resp_fail("option \"%s\" needs a value", argv[optind - 1]);
        default:
            return resp_fail("unknown option \"%s\"", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return resp_fail("unexpected argument \"%s\"", argv[optind]);
    if (!have_listen)
        return resp_fail("%s", "--listen ADDR:PORT is required");
    return 0;
}

static int resp_bind(const struct resp_opts *o)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    hints.ai_flags = AI_PASSIVE;
    int rc = getaddrinfo(o->host, o->port, &hints, &res);
    if (rc != 0) {
        fprintf(stderr, RESP_NAME ": cannot resolve %s: %s\n", o->host, gai_strerror(rc));
        return -1;
    }
    int fd = -1, saved = 0;
    for (struct addrinfo *ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd >= 0 && bind(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
            saved = errno;
            close(fd);
            fd = -1;
        } else if (fd < 0) {
            saved = errno;
        }
    }
    freeaddrinfo(res);
    if (fd < 0)
        fprintf(stderr, RESP_NAME ": cannot bind %s:%s: %s\n", o->host, o->port,
                strerror(saved));
    return fd;
}

static void resp_announce(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    char host[NI_MAXHOST] = "?", port[NI_MAXSERV] = "?";
    if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
        getnameinfo((struct sockaddr *)&ss, len, host, sizeof host, port, sizeof port,
                    NI_NUMERICHOST | NI_NUMERICSERV);
    if (ss.ss_family == AF_INET6)
        printf(RESP_NAME ": listening on [%s]:%s\n", host, port);
    else
        printf(RESP_NAME ": listening on %s:%s\n", host, port);
    fflush(stdout);
}

static uint64_t resp_now_ts(int64_t offset_us)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    int64_t us = (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
    return sntp_ts_from_unix_us(us + offset_us);
}

static void resp_fill_reply(const struct resp_opts *o, const struct sntp_packet *req,
                            uint64_t recv_ts, struct sntp_packet *rep)
{
    memset(rep, 0, sizeof *rep);
    rep->leap = o->unsync ? 3 : 0;
    rep->version = req->version; /* RFC 4330 section 5: copy the client's version */
    rep->mode = SNTP_MODE_SERVER;
    bool kiss = o->kiss || o->stratum == 0;
    rep->stratum = kiss ? 0 : (uint8_t)o->stratum;
    rep->poll = req->poll;
    rep->precision = RESP_PRECISION;
    rep->reference_id = kiss ? 0x52415445u /* "RATE" */ : 0x4c4f434cu /* "LOCL" */;
    rep->reference_ts = recv_ts;
    rep->originate_ts = req->transmit_ts;
    rep->receive_ts = recv_ts;
    rep->transmit_ts = resp_now_ts(o->offset_us);
}

/* Answers one datagram; anything but a client request is dropped silently. */
static void resp_serve_one(int fd, const struct resp_opts *o)
{
    uint8_t buf[1024];
    struct sockaddr_storage from;
    socklen_t flen = sizeof from;
    ssize_t n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &flen);
    uint64_t recv_ts = resp_now_ts(o->offset_us);
    struct sntp_packet req, rep;
    if (n < 0 || o->silent || sntp_decode(buf, (size_t)n, &req) != 0)
        return;
    if (req.mode != SNTP_MODE_CLIENT || req.version < 1 || req.version > 4)
        return;
    resp_fill_reply(o, &req, recv_ts, &rep);
    uint8_t out[SNTP_PACKET_LEN];
    sntp_encode(&rep, out);
    if (sendto(fd, out, sizeof out, 0, (struct sockaddr *)&from, flen) < 0)
        fprintf(stderr, RESP_NAME ": sendto: %s\n", strerror(errno));
}

/* Signals stay blocked except inside ppoll, so a SIGTERM between the check of
 * resp_stop and the wait cannot be lost. */
static int resp_serve(int fd, const struct resp_opts *o, const sigset_t *waitmask)
{
    while (!resp_stop) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int n = ppoll(&pfd, 1, NULL, waitmask);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            fprintf(stderr, RESP_NAME ": poll: %s\n", strerror(errno));
            return -1;
        }
        resp_serve_one(fd, o);
    }
    return 0;
}

static void resp_signals(sigset_t *waitmask)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = resp_on_signal; /* no SA_RESTART: ppoll must return */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigprocmask(SIG_BLOCK, &block, waitmask);
    sigdelset(waitmask, SIGTERM);
    sigdelset(waitmask, SIGINT);
}

int main(int argc, char **argv)
{
    struct resp_opts o;
    int rc = resp_parse_args(argc, argv, &o);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    sigset_t waitmask;
    resp_signals(&waitmask);
    int fd = resp_bind(&o);
    if (fd < 0)
        return 1;
    resp_announce(fd);
    rc = resp_serve(fd, &o, &waitmask);
    close(fd);
    return rc == 0 ? 0 : 1;
}
