/* Unit tests for common/sntp.c: the packet codec, timestamp conversion, server names,
 * and the client against a real UDP responder thread on loopback whose misbehaviour
 * (silence, forged originate, kiss-of-death, ...) each test chooses. */
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

static int64_t mono_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static int64_t real_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

/* CLOCK_REALTIME at a past monotonic instant. */
static int64_t real_us_at(int64_t mono)
{
    int64_t r = real_us(), m = mono_ns();
    return r - (m - mono) / 1000;
}

static void sleep_ms(int ms)
{
    struct timespec t = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * MS_NS};
    while (nanosleep(&t, &t) != 0 && errno == EINTR) {
    }
}

/* A UDP socket bound to an ephemeral loopback port; *port gets its number. */
static int bind_loopback(int family, char port[16])
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

static struct sntp_server server_at(const char *host, const char *port)
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

static void responder_defaults(struct responder *r)
{
    memset(r, 0, sizeof *r);
    r->stratum = 2;
    r->mode = SNTP_MODE_SERVER;
    r->version = 4;
    r->reference_id = 0x4c4f434cu; /* "LOCL" */
}

static uint64_t responder_now(const struct responder *r)
{
    return sntp_ts_from_unix_us(real_us() + r->offset_us);
}

static void responder_send(struct responder *r, const struct sntp_packet *p,
                           const struct sockaddr_storage *to, socklen_t tolen)
{
    uint8_t out[SNTP_PACKET_LEN];
    sntp_encode(p, out);
    sendto(r->fd, out, sizeof out, 0, (const struct sockaddr *)to, tolen);
}

static void responder_answer(struct responder *r, const struct sntp_packet *req,
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

static void *responder_main(void *arg)
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

static void responder_start(struct responder *r, int family)
{
    r->fd = bind_loopback(family, r->port);
    assert_true(r->fd >= 0);
    atomic_store(&r->stop, false);
    atomic_store(&r->requests, 0);
    assert_int_equal(pthread_create(&r->thread, NULL, responder_main, r), 0);
}

static void responder_stop(struct responder *r)
{
    atomic_store(&r->stop, true);
    pthread_join(r->thread, NULL);
    close(r->fd);
}

/* Runs one query against a responder configured by the caller. */
static int query_responder(struct responder *r, int probes, int timeout_ms,
                           struct sntp_result *res, char *err, size_t errlen)
{
    responder_start(r, AF_INET);
    struct sntp_server s = server_at("127.0.0.1", r->port);
    int rc = sntp_query(&s, probes, timeout_ms, res, err, errlen);
    responder_stop(r);
    return rc;
}

/* ---- codec --------------------------------------------------------------------- */

static void test_codec_roundtrip(void **state)
{
    (void)state;
    struct sntp_packet p = {
        .leap = 2, .version = 3, .mode = 5, .stratum = 15, .poll = -6, .precision = -29,
        .root_delay = 0x01020304u, .root_dispersion = 0xfffefdfcu, .reference_id = 0x47505300u,
        .reference_ts = UINT64_C(0x1112131415161718), .originate_ts = UINT64_C(0x2122232425262728),
        .receive_ts = UINT64_C(0x3132333435363738), .transmit_ts = UINT64_C(0xf1f2f3f4f5f6f7f8)};
    uint8_t buf[SNTP_PACKET_LEN];
    sntp_encode(&p, buf);
    struct sntp_packet q;
    memset(&q, 0xaa, sizeof q);
    assert_int_equal(sntp_decode(buf, sizeof buf, &q), 0);
    assert_int_equal(q.leap, 2);
    assert_int_equal(q.version, 3);
    assert_int_equal(q.mode, 5);
    assert_int_equal(q.stratum, 15);
    assert_int_equal(q.poll, -6);
    assert_int_equal(q.precision, -29);
    assert_int_equal(q.root_delay, p.root_delay);
    assert_int_equal(q.root_dispersion, p.root_dispersion);
    assert_int_equal(q.reference_id, p.reference_id);
    assert_int_equal(q.reference_ts, p.reference_ts);
    assert_int_equal(q.originate_ts, p.originate_ts);
    assert_int_equal(q.receive_ts, p.receive_ts);
    assert_int_equal(q.transmit_ts, p.transmit_ts);
}

static const uint8_t known_vector[SNTP_PACKET_LEN] = {
    0x24, 0x01, 0x03, 0xec,                         /* LI 0, VN 4, mode 4; stratum 1; poll 3; precision -20 */
    0x00, 0x00, 0x01, 0x02,                         /* root delay */
    0x00, 0x00, 0x03, 0x04,                         /* root dispersion */
    'G', 'P', 'S', 0,                               /* reference id */
    0x83, 0xaa, 0x7e, 0x80, 0x00, 0x00, 0x00, 0x00, /* reference: unix 0 */
    0xe3, 0x00, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00, /* originate */
    0xe3, 0x00, 0x00, 0x01, 0x40, 0x00, 0x00, 0x00, /* receive */
    0xe3, 0x00, 0x00, 0x01, 0xc0, 0x00, 0x00, 0x00, /* transmit */
};

static void test_codec_known_vector(void **state)
{
    (void)state;
    struct sntp_packet p;
    assert_int_equal(sntp_decode(known_vector, sizeof known_vector, &p), 0);
    assert_int_equal(p.leap, 0);
    assert_int_equal(p.version, 4);
    assert_int_equal(p.mode, SNTP_MODE_SERVER);
    assert_int_equal(p.stratum, 1);
    assert_int_equal(p.poll, 3);
    assert_int_equal(p.precision, -20);
    assert_int_equal(p.root_delay, 0x102);
    assert_int_equal(p.root_dispersion, 0x304);
    assert_int_equal(p.reference_id, 0x47505300u);
    assert_int_equal(p.reference_ts, SNTP_UNIX_EPOCH_OFFSET << 32);
    assert_int_equal(p.originate_ts, UINT64_C(0xe300000080000000));
    assert_int_equal(p.receive_ts, UINT64_C(0xe300000140000000));
    assert_int_equal(p.transmit_ts, UINT64_C(0xe3000001c0000000));
    assert_int_equal(sntp_ts_to_unix_us(p.transmit_ts) - sntp_ts_to_unix_us(p.receive_ts), 500000);
    uint8_t again[SNTP_PACKET_LEN];
    sntp_encode(&p, again);
    assert_memory_equal(again, known_vector, SNTP_PACKET_LEN);
}

static void test_codec_first_byte(void **state)
{
    (void)state;
    uint8_t buf[SNTP_PACKET_LEN] = {0xe3}; /* LI 3, VN 4, mode 3 */
    struct sntp_packet p;
    assert_int_equal(sntp_decode(buf, sizeof buf, &p), 0);
    assert_int_equal(p.leap, 3);
    assert_int_equal(p.version, 4);
    assert_int_equal(p.mode, SNTP_MODE_CLIENT);
    struct sntp_packet req = {.version = 4, .mode = SNTP_MODE_CLIENT};
    sntp_encode(&req, buf);
    assert_int_equal(buf[0], 0x23);
    /* Out-of-range field values are masked, never spilled into the neighbours. */
    struct sntp_packet wide = {.leap = 0xff, .version = 0xf8 | 1, .mode = 0xf8 | 2};
    sntp_encode(&wide, buf);
    assert_int_equal(buf[0], 0xca);
}

static void test_codec_short(void **state)
{
    (void)state;
    struct sntp_packet p;
    assert_int_equal(sntp_decode(known_vector, SNTP_PACKET_LEN - 1, &p), -1);
    assert_int_equal(sntp_decode(known_vector, 0, &p), -1);
    /* Trailing extension fields or a MAC do not matter. */
    uint8_t longer[68] = {0};
    memcpy(longer, known_vector, SNTP_PACKET_LEN);
    assert_int_equal(sntp_decode(longer, sizeof longer, &p), 0);
    assert_int_equal(p.stratum, 1);
}

/* ---- timestamps ---------------------------------------------------------------- */

static void test_ts_epoch(void **state)
{
    (void)state;
    assert_int_equal(sntp_ts_from_unix_us(0), UINT64_C(2208988800) << 32);
    assert_int_equal(sntp_ts_to_unix_us(UINT64_C(2208988800) << 32), 0);
    assert_int_equal(sntp_ts_from_unix_us(500000), (UINT64_C(2208988800) << 32) | 0x80000000u);
    assert_int_equal(sntp_ts_from_unix_us(1000000), UINT64_C(2208988801) << 32);
}

static void test_ts_fractions(void **state)
{
    (void)state;
    uint64_t base = SNTP_UNIX_EPOCH_OFFSET << 32;
    assert_int_equal(sntp_ts_to_unix_us(base | 0x40000000u), 250000);
    assert_int_equal(sntp_ts_to_unix_us(base | 0xc0000000u), 750000);
    assert_int_equal(sntp_ts_to_unix_us(base | 1u), 0);                 /* 0.23 ns */
    assert_int_equal(sntp_ts_to_unix_us(base | 0xffffffffu), 1000000);  /* rounds up */
    assert_int_equal(sntp_ts_to_unix_us(base | 0x000010c7u), 1);        /* 1.0000076 us */
    assert_int_equal(sntp_ts_to_unix_us(base | 0x00000863u), 0);        /* 0.49989 us */
    assert_int_equal(sntp_ts_to_unix_us(base | 0x00000864u), 1);        /* 0.50012 us */
    /* 1 us = 4294.967296 units: rounded to nearest, not truncated. */
    assert_int_equal(sntp_ts_from_unix_us(1) & 0xffffffffu, 4295);
    assert_int_equal(sntp_ts_from_unix_us(999999) & 0xffffffffu, 4294963001u);
}

static void test_ts_roundtrip(void **state)
{
    (void)state;
    const int64_t fixed[] = {0, 1, 999999, 1000001, -1, -1000000, -999999,
                             INT64_C(1700000000123456), INT64_C(2085978495999999),
                             INT64_C(2085978496000000) /* 2036-02-07, era 1 starts */,
                             INT64_C(4102444800000001) /* 2100 */};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        assert_int_equal(sntp_ts_to_unix_us(sntp_ts_from_unix_us(fixed[i])), fixed[i]);
    /* Every microsecond of one second, then spot checks 1970-2100 (xorshift). */
    for (int64_t us = 0; us < 1000000; us++)
        assert_int_equal(sntp_ts_to_unix_us(sntp_ts_from_unix_us(us)), us);
    uint64_t x = 88172645463325252u;
    for (int i = 0; i < 100000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        int64_t us = (int64_t)(x % UINT64_C(4102444800000000));
        assert_int_equal(sntp_ts_to_unix_us(sntp_ts_from_unix_us(us)), us);
    }
}

/* ---- server names -------------------------------------------------------------- */

static void expect_server(const char *spec, const char *host, const char *port)
{
    struct sntp_server s;
    char err[256] = "";
    int rc = sntp_parse_server(spec, &s, err, sizeof err);
    if (rc != 0)
        fail_msg("\"%s\" rejected: %s", spec, err);
    assert_string_equal(s.host, host);
    assert_string_equal(s.port, port);
}

static void expect_bad_server(const char *spec, const char *why)
{
    struct sntp_server s = server_at("untouched", "1");
    char err[256] = "";
    assert_int_equal(sntp_parse_server(spec, &s, err, sizeof err), -1);
    if (strstr(err, why) == NULL)
        fail_msg("\"%s\": message \"%s\" lacks \"%s\"", spec ? spec : "(null)", err, why);
    assert_string_equal(s.host, "untouched");
}

static void test_parse_server_valid(void **state)
{
    (void)state;
    expect_server("pool.ntp.org", "pool.ntp.org", "123");
    expect_server("127.0.0.1:11123", "127.0.0.1", "11123");
    expect_server("localhost:1", "localhost", "1");
    expect_server("h:65535", "h", "65535");
    expect_server("h:0123", "h", "123");
    expect_server("[::1]:11123", "::1", "11123");
    expect_server("[::1]", "::1", "123");
    expect_server("[fe80::1%lo]:9", "fe80::1%lo", "9");
    expect_server("::1", "::1", "123"); /* bare IPv6: no port possible */
    char host[256];
    memset(host, 'a', 255);
    host[255] = '\0';
    expect_server(host, host, "123");
}

static void test_parse_server_invalid(void **state)
{
    (void)state;
    expect_bad_server(NULL, "empty");
    expect_bad_server("", "empty");
    expect_bad_server(":123", "empty host");
    expect_bad_server("[]:123", "empty host");
    expect_bad_server("host:", "missing port");
    expect_bad_server("host:abc", "not a number");
    expect_bad_server("host:12a", "not a number");
    expect_bad_server("host:-1", "not a number");
    expect_bad_server("host:0", "out of range");
    expect_bad_server("host:65536", "out of range");
    expect_bad_server("host:99999999999999999999999", "out of range");
    expect_bad_server("[::1", "missing ']'");
    expect_bad_server("[::1]x", "after ']'");
    expect_bad_server("[::1]:", "missing port");
    expect_bad_server("ho st:1", "invalid character");
    char host[300];
    memset(host, 'a', 256);
    strcpy(host + 256, ":123");
    expect_bad_server(host, "too long");
    /* The message names the culprit. */
    struct sntp_server s;
    char err[256];
    assert_int_equal(sntp_parse_server("ntp.example:0", &s, err, sizeof err), -1);
    assert_non_null(strstr(err, "ntp.example:0"));
    /* A tiny or missing buffer is not written past. */
    char tiny[4] = "zzz";
    assert_int_equal(sntp_parse_server("host:0", &s, tiny, sizeof tiny), -1);
    assert_int_equal(strlen(tiny), 3);
    assert_int_equal(sntp_parse_server("host:0", &s, NULL, 0), -1);
}

/* ---- queries ------------------------------------------------------------------- */

static void test_query_offset(void **state)
{
    (void)state;
    struct responder r;
    responder_defaults(&r);
    r.offset_us = OFFSET_3H25_US;
    struct sntp_result res;
    char err[512] = "";
    assert_int_equal(query_responder(&r, 1, 1000, &res, err, sizeof err), 0);
    int64_t got = res.utc_us - real_us_at(res.recv_ns);
    if (llabs(got - OFFSET_3H25_US) > 2000)
        fail_msg("offset %lld us, expected %lld +/- 2000", (long long)got,
                 (long long)OFFSET_3H25_US);
    assert_true(res.rtt_us >= 0 && res.rtt_us < 100000);
    assert_int_equal(res.stratum, 2);
    char want[64];
    snprintf(want, sizeof want, "127.0.0.1:%s", r.port);
    assert_string_equal(res.server, want);
    assert_true(res.recv_ns <= mono_ns());
    assert_int_equal(atomic_load(&r.requests), 1);
}

/* A server a year behind works as well. */
static void test_query_negative_offset(void **state)
{
    (void)state;
    struct responder r;
    responder_defaults(&r);
    r.offset_us = -INT64_C(86400000000) * 365;
    struct sntp_result res;
    char err[512] = "";
    assert_int_equal(query_responder(&r, 2, 1000, &res, err, sizeof err), 0);
    int64_t got = res.utc_us - real_us_at(res.recv_ns);
    assert_true(llabs(got - r.offset_us) <= 2000);
}

/* Of several probes the one with the smallest delay wins: the first one is held up
 * 40 ms "in the network" (before the server's receive timestamp). */
static void test_query_keeps_smallest_delay(void **state)
{
    (void)state;
    struct responder r;
    responder_defaults(&r);
    r.offset_us = 1234567;
    r.first_net_delay_ms = 40;
    struct sntp_result res;
    char err[512] = "";
    assert_int_equal(query_responder(&r, 4, 1000, &res, err, sizeof err), 0);
    assert_int_equal(atomic_load(&r.requests), 4);
    assert_true(res.rtt_us < 20000);
    assert_true(llabs(res.utc_us - real_us_at(res.recv_ns) - r.offset_us) <= 2000);
}

/* Time the server spends between its receive and transmit timestamps is not delay. */
static void test_query_excludes_processing_time(void **state)
{
    (void)state;
    struct responder r;
    responder_defaults(&r);
    r.offset_us = OFFSET_3H25_US;
    r.proc_ms = 50;
    struct sntp_result res;
    char err[512] = "";
    int64_t t0 = mono_ns();
    assert_int_equal(query_responder(&r, 1, 1000, &res, err, sizeof err), 0);
    assert_true(mono_ns() - t0 >= 50 * MS_NS);
    assert_true(res.rtt_us < 20000);
    assert_true(llabs(res.utc_us - real_us_at(res.recv_ns) - r.offset_us) <= SLEEPY_TOLERANCE_US);
}

/* A slow symmetric link (30 ms each way): the answer has aged by half the delay when it
 * arrives, and the estimate must add exactly that. */
static void test_query_adds_half_delay(void **state)
{
    (void)state;
    struct responder r;
    responder_defaults(&r);
    r.offset_us = OFFSET_3H25_US;
    r.net_delay_ms = 30;
    struct sntp_result res;
    char err[512] = "";
    assert_int_equal(query_responder(&r, 1, 1000, &res, err, sizeof err), 0);
    assert_true(res.rtt_us >= 60000 && res.rtt_us < 200000);
    int64_t got = res.utc_us - real_us_at(res.recv_ns);
    if (llabs(got - OFFSET_3H25_US) > SLEEPY_TOLERANCE_US)
        fail_msg("offset %lld us, expected %lld +/- %d", (long long)got,
                 (long long)OFFSET_3H25_US, SLEEPY_TOLERANCE_US);
}

static void expect_query_error(struct responder *r, int probes, int timeout_ms,
                               const char *why)
{
    struct sntp_result res;
    char err[512] = "";
    assert_int_equal(query_responder(r, probes, timeout_ms, &res, err, sizeof err), -1);
    if (strstr(err, why) == NULL)
        fail_msg("message \"%s\" lacks \"%s\"", err, why);
    char prefix[64];
    snprintf(prefix, sizeof prefix, "sntp 127.0.0.1:%s: ", r->port);
    assert_memory_equal(err, prefix, strlen(prefix));
}

static void test_query_timeout(void **state)
{
    (void)state;
    struct responder r;
    responder_defaults(&r);
    r.silent = true;
    int64_t t0 = mono_ns();
    expect_query_error(&r, 1, 100, "no reply within 100 ms");
    int64_t took = mono_ns() - t0;
    assert_true(took >= 100 * MS_NS && took < 600 * MS_NS);
    assert_int_equal(atomic_load(&r.requests), 1);
}

static void test_query_timeout_every_probe(void **state)
{
    (void)state;
    struct responder r;
    responder_defaults(&r);
    r.silent = true;
    int64_t t0 = mono_ns();
    expect_query_error(&r, 3, 100, "no reply within 100 ms");
    assert_true(mono_ns() - t0 >= 300 * MS_NS);
    assert_int_equal(atomic_load(&r.requests), 3);
}

static void test_query_wrong_originate_ignored(void **state)
{
    (void)state;
    struct responder r;
    responder_defaults(&r);
    r.wrong_originate = true;
    expect_query_error(&r, 1, 100, "no reply within 100 ms");
}

/* A forged reply or junk does not end the wait: the real answer still counts. */
static void test_query_keeps_waiting_after_junk(void **state)
{
    (void)state;
    struct responder r;
    responder_defaults(&r);
    r.offset_us = OFFSET_3H25_US;
    r.wrong_originate = true;
    r.then_right = true;
    r.short_first = true;
    struct sntp_result res;
    char err[512] = "";
    assert_int_equal(query_responder(&r, 1, 1000, &res, err, sizeof err), 0);
    assert_true(llabs(res.utc_us - real_us_at(res.recv_ns) - r.offset_us) <= 2000);
}

static void test_query_kiss_of_death(void **state)
{
    (void)state;
    struct responder r;
    responder_defaults(&r);
    r.stratum = 0;
    r.reference_id = 0x52415445u; /* "RATE" */
    expect_query_error(&r, 3, 1000, "kiss-of-death (code RATE)");
    assert_int_equal(atomic_load(&r.requests), 1); /* told to stop: no more probes */
}

static void test_query_unsynchronised(void **state)
{
    (void)state;
    struct responder r;
    responder_defaults(&r);
    r.leap = 3;
    expect_query_error(&r, 2, 1000, "server not synchronised");
    responder_defaults(&r);
    r.stratum = 16;
    expect_query_error(&r, 1, 1000, "server not synchronised");
}

static void test_query_invalid_replies(void **state)
{
    (void)state;
    struct responder r;
    responder_defaults(&r);
    r.zero_transmit = true;
    expect_query_error(&r, 1, 1000, "invalid reply (transmit timestamp is zero)");
    responder_defaults(&r);
    r.mode = SNTP_MODE_CLIENT;
    expect_query_error(&r, 1, 1000, "invalid reply (mode 3)");
    responder_defaults(&r);
    r.version = 0;
    expect_query_error(&r, 1, 1000, "invalid reply (version 0)");
    responder_defaults(&r);
    r.version = 5;
    expect_query_error(&r, 1, 1000, "invalid reply (version 5)");
}

/* Mode 5 (broadcast) and old versions are accepted as RFC 4330 allows. */
static void test_query_accepts_v3_and_broadcast(void **state)
{
    (void)state;
    struct responder r;
    responder_defaults(&r);
    r.version = 3;
    r.mode = SNTP_MODE_BROADCAST;
    struct sntp_result res;
    char err[512] = "";
    assert_int_equal(query_responder(&r, 1, 1000, &res, err, sizeof err), 0);
}

static void test_query_refused(void **state)
{
    (void)state;
    char port[16];
    int fd = bind_loopback(AF_INET, port);
    assert_true(fd >= 0);
    close(fd); /* nobody listens there now: ICMP port unreachable */
    struct sntp_server s = server_at("127.0.0.1", port);
    struct sntp_result res;
    char err[512] = "";
    int64_t t0 = mono_ns();
    assert_int_equal(sntp_query(&s, 3, 1000, &res, err, sizeof err), -1);
    assert_true(mono_ns() - t0 < 500 * MS_NS);
    assert_non_null(strstr(err, "Connection refused"));
}

static void test_query_unresolvable(void **state)
{
    (void)state;
    struct sntp_server s = server_at("no-such-host.invalid", "123");
    struct sntp_result res;
    char err[512] = "";
    assert_int_equal(sntp_query(&s, 1, 100, &res, err, sizeof err), -1);
    assert_non_null(strstr(err, "sntp no-such-host.invalid:123: cannot resolve"));
}

static void test_query_bad_arguments(void **state)
{
    (void)state;
    struct sntp_server s = server_at("127.0.0.1", "123");
    struct sntp_result res;
    char err[512] = "";
    assert_int_equal(sntp_query(&s, 0, 100, &res, err, sizeof err), -1);
    assert_non_null(strstr(err, "bad arguments"));
    assert_int_equal(sntp_query(&s, 1, 0, &res, err, sizeof err), -1);
}

static void test_query_ipv6(void **state)
{
    (void)state;
    struct responder r;
    responder_defaults(&r);
    r.offset_us = OFFSET_3H25_US;
    r.fd = bind_loopback(AF_INET6, r.port);
    if (r.fd < 0)
        skip(); /* no IPv6 loopback here */
    close(r.fd);
    responder_start(&r, AF_INET6);
    char spec[64];
    snprintf(spec, sizeof spec, "[::1]:%s", r.port);
    struct sntp_server s;
    char err[512] = "";
    assert_int_equal(sntp_parse_server(spec, &s, err, sizeof err), 0);
    struct sntp_result res;
    int rc = sntp_query(&s, 2, 1000, &res, err, sizeof err);
    responder_stop(&r);
    if (rc != 0)
        fail_msg("%s", err);
    assert_string_equal(res.server, spec);
    assert_true(llabs(res.utc_us - real_us_at(res.recv_ns) - r.offset_us) <= 2000);
}

/* A refused port and a silent one, then a live one: the live one answers and the
 * message still lists both failures. */
static void test_query_any_falls_through(void **state)
{
    (void)state;
    char dead_port[16], silent_port[16];
    int dead = bind_loopback(AF_INET, dead_port);
    assert_true(dead >= 0);
    close(dead);
    int silent = bind_loopback(AF_INET, silent_port);
    assert_true(silent >= 0);
    struct responder r;
    responder_defaults(&r);
    r.offset_us = OFFSET_3H25_US;
    responder_start(&r, AF_INET);
    struct sntp_server servers[3] = {server_at("127.0.0.1", dead_port),
                                     server_at("127.0.0.1", silent_port),
                                     server_at("127.0.0.1", r.port)};
    struct sntp_result res;
    char err[1024] = "";
    int rc = sntp_query_any(servers, 3, 1, 100, &res, err, sizeof err);
    responder_stop(&r);
    close(silent);
    assert_int_equal(rc, 0);
    char want[64];
    snprintf(want, sizeof want, "127.0.0.1:%s", r.port);
    assert_string_equal(res.server, want);
    assert_true(llabs(res.utc_us - real_us_at(res.recv_ns) - r.offset_us) <= 2000);
    assert_non_null(strstr(err, "Connection refused; "));
    assert_non_null(strstr(err, "no reply within 100 ms"));
}

static void test_query_any_all_fail(void **state)
{
    (void)state;
    char silent_port[16];
    int silent = bind_loopback(AF_INET, silent_port);
    assert_true(silent >= 0);
    struct sntp_server servers[2] = {server_at("no-such-host.invalid", "123"),
                                     server_at("127.0.0.1", silent_port)};
    struct sntp_result res;
    char err[1024] = "";
    int rc = sntp_query_any(servers, 2, 1, 100, &res, err, sizeof err);
    close(silent);
    assert_int_equal(rc, -1);
    char want[256];
    snprintf(want, sizeof want, "; sntp 127.0.0.1:%s: no reply within 100 ms", silent_port);
    assert_non_null(strstr(err, "sntp no-such-host.invalid:123: cannot resolve"));
    assert_non_null(strstr(err, want));
    assert_int_equal(sntp_query_any(servers, 0, 1, 100, &res, err, sizeof err), -1);
    assert_non_null(strstr(err, "no utc server"));
    /* A small buffer truncates but stays terminated. */
    char small[24];
    assert_int_equal(sntp_query_any(servers, 2, 1, 50, &res, small, sizeof small), -1);
    assert_true(strlen(small) < sizeof small);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_codec_roundtrip),
        cmocka_unit_test(test_codec_known_vector),
        cmocka_unit_test(test_codec_first_byte),
        cmocka_unit_test(test_codec_short),
        cmocka_unit_test(test_ts_epoch),
        cmocka_unit_test(test_ts_fractions),
        cmocka_unit_test(test_ts_roundtrip),
        cmocka_unit_test(test_parse_server_valid),
        cmocka_unit_test(test_parse_server_invalid),
        cmocka_unit_test(test_query_offset),
        cmocka_unit_test(test_query_negative_offset),
        cmocka_unit_test(test_query_keeps_smallest_delay),
        cmocka_unit_test(test_query_excludes_processing_time),
        cmocka_unit_test(test_query_adds_half_delay),
        cmocka_unit_test(test_query_timeout),
        cmocka_unit_test(test_query_timeout_every_probe),
        cmocka_unit_test(test_query_wrong_originate_ignored),
        cmocka_unit_test(test_query_keeps_waiting_after_junk),
        cmocka_unit_test(test_query_kiss_of_death),
        cmocka_unit_test(test_query_unsynchronised),
        cmocka_unit_test(test_query_invalid_replies),
        cmocka_unit_test(test_query_accepts_v3_and_broadcast),
        cmocka_unit_test(test_query_refused),
        cmocka_unit_test(test_query_unresolvable),
        cmocka_unit_test(test_query_bad_arguments),
        cmocka_unit_test(test_query_ipv6),
        cmocka_unit_test(test_query_any_falls_through),
        cmocka_unit_test(test_query_any_all_fail),
    };
    return cmocka_run_group_tests_name("sntp", tests, NULL, NULL);
}
