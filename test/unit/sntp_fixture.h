/* Shared fixture for the common/sntp.c unit tests (test_sntp_*.c): time helpers,
 * loopback sockets, and a real UDP responder thread on loopback whose misbehaviour
 * (silence, forged originate, kiss-of-death, ...) each test chooses.
 * Each test file is its own binary, so everything here is static inline. */
#ifndef SNTP_FIXTURE_H
#define SNTP_FIXTURE_H

#include "sntp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#define MS_NS INT64_C(1000000)
#define OFFSET_3H25_US (INT64_C(3600000000) * 3 + INT64_C(60000000) * 25)
/* Tests where the responder sleeps: an oversleep on one side of the exchange is an
 * asymmetry the client cannot see (Cristian's +/- delay/2), and on a loaded machine
 * it reaches a few ms. Still far below the 25-50 ms a wrong formula would give. */
#define SLEEPY_TOLERANCE_US 10000

/* ---- helpers ------------------------------------------------------------------- */

static inline int64_t mono_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static inline int64_t real_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

/* CLOCK_REALTIME at a past monotonic instant. */
static inline int64_t real_us_at(int64_t mono)
{
    int64_t r = real_us(), m = mono_ns();
    return r - (m - mono) / 1000;
}

static inline void sleep_ms(int ms)
{
    struct timespec t = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * MS_NS};
    while (nanosleep(&t, &t) != 0 && errno == EINTR) {
    }
}

/* A UDP socket bound to an ephemeral loopback port; *port gets its number. */
static inline int bind_loopback(int family, char port[16])
{
    int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t len;
    if (family == AF_INET6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        a->sin6_addr = in6addr_loopback;
        len = sizeof *a;
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        len = sizeof *a;
    }
    if (bind(fd, (struct sockaddr *)&ss, len) != 0 ||
        getsockname(fd, (struct sockaddr *)&ss, &len) != 0) {
        close(fd);
        return -1;
    }
    uint16_t p = family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                    : ((struct sockaddr_in *)&ss)->sin_port;
    snprintf(port, 16, "%u", ntohs(p));
    return fd;
}

static inline struct sntp_server server_at(const char *host, const char *port)
{
    struct sntp_server s;
    memset(&s, 0, sizeof s);
    snprintf(s.host, sizeof s.host, "%s", host);
    snprintf(s.port, sizeof s.port, "%s", port);
    return s;
}

/* ---- a configurable responder thread ------------------------------------------ */

struct responder {
    /* what to answer (set before responder_start) */
    int64_t offset_us;
    uint8_t leap, stratum, mode, version;
    uint32_t reference_id;
    bool zero_transmit;
    bool wrong_originate;     /* answer with originate + 1 ... */
    bool then_right;          /* ... and then with the right one */
    bool short_first;         /* send a 20-byte datagram before the answer */
    int first_net_delay_ms;   /* sleep before the receive timestamp, first request only */
    int proc_ms;              /* sleep between receive and transmit timestamps */
    int net_delay_ms;         /* sleep before receive and after transmit: a slow link */
    bool silent;
    /* run state */
    int fd;
    char port[16];
    pthread_t thread;
    atomic_bool stop;
    atomic_int requests;
};

static inline void responder_defaults(struct responder *r)
{
    memset(r, 0, sizeof *r);
    r->stratum = 2;
    r->mode = SNTP_MODE_SERVER;
    r->version = 4;
    r->reference_id = 0x4c4f434cu; /* "LOCL" */
}

static inline uint64_t responder_now(const struct responder *r)
{
    return sntp_ts_from_unix_us(real_us() + r->offset_us);
}

static inline void responder_send(struct responder *r, const struct sntp_packet *p,
                                  const struct sockaddr_storage *to, socklen_t tolen)
{
    uint8_t out[SNTP_PACKET_LEN];
    sntp_encode(p, out);
    sendto(r->fd, out, sizeof out, 0, (const struct sockaddr *)to, tolen);
}

static inline void responder_answer(struct responder *r, const struct sntp_packet *req,
                                    const struct sockaddr_storage *from, socklen_t flen)
{
    int n = atomic_fetch_add(&r->requests, 1);
    if (n == 0 && r->first_net_delay_ms > 0)
        sleep_ms(r->first_net_delay_ms);
    if (r->net_delay_ms > 0)
        sleep_ms(r->net_delay_ms);
    struct sntp_packet p;
    memset(&p, 0, sizeof p);
    p.leap = r->leap;
    p.version = r->version;
    p.mode = r->mode;
    p.stratum = r->stratum;
    p.precision = -20;
    p.reference_id = r->reference_id;
    p.receive_ts = responder_now(r);
    p.reference_ts = p.receive_ts;
    p.originate_ts = req->transmit_ts;
    if (r->proc_ms > 0)
        sleep_ms(r->proc_ms);
    p.transmit_ts = r->zero_transmit ? 0 : responder_now(r);
    if (r->net_delay_ms > 0)
        sleep_ms(r->net_delay_ms);
    if (r->short_first)
        sendto(r->fd, "not an sntp packet!!", 20, 0, (const struct sockaddr *)from, flen);
    if (r->wrong_originate) {
        struct sntp_packet bad = p;
        bad.originate_ts++;
        responder_send(r, &bad, from, flen);
        if (!r->then_right)
            return;
    }
    responder_send(r, &p, from, flen);
}

static inline void *responder_main(void *arg)
{
    struct responder *r = arg;
    while (!atomic_load(&r->stop)) {
        struct pollfd pfd = {.fd = r->fd, .events = POLLIN};
        if (poll(&pfd, 1, 20) <= 0)
            continue;
        uint8_t buf[512];
        struct sockaddr_storage from;
        socklen_t flen = sizeof from;
        ssize_t n = recvfrom(r->fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &flen);
        struct sntp_packet req;
        if (n < 0 || sntp_decode(buf, (size_t)n, &req) != 0 || req.mode != SNTP_MODE_CLIENT)
            continue;
        if (r->silent) {
            atomic_fetch_add(&r->requests, 1);
            continue;
        }
        responder_answer(r, &req, &from, flen);
    }
    return NULL;
}

static inline void responder_start(struct responder *r, int family)
{
    r->fd = bind_loopback(family, r->port);
    assert_true(r->fd >= 0);
    atomic_store(&r->stop, false);
    atomic_store(&r->requests, 0);
    assert_int_equal(pthread_create(&r->thread, NULL, responder_main, r), 0);
}

static inline void responder_stop(struct responder *r)
{
    atomic_store(&r->stop, true);
    pthread_join(r->thread, NULL);
    close(r->fd);
}

/* Runs one query against a responder configured by the caller. */
static inline int query_responder(struct responder *r, int probes, int timeout_ms,
                                  struct sntp_result *res, char *err, size_t errlen)
{
    responder_start(r, AF_INET);
    struct sntp_server s = server_at("127.0.0.1", r->port);
    int rc = sntp_query(&s, probes, timeout_ms, res, err, errlen);
    responder_stop(r);
    return rc;
}

#endif
