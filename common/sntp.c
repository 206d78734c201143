/* sntp: RFC 4330 client and packet codec (DESIGN.md section 3, "UTC").
 *
 * One query = one fresh UDP socket, connect()ed to the server so the kernel drops
 * datagrams from anyone else and reports ICMP "port unreachable" as ECONNREFUSED.
 * Each probe sends a request whose transmit timestamp (CLOCK_REALTIME) doubles as a
 * nonce: only a reply echoing it as originate counts, anything else is ignored until
 * the probe's deadline. Round trips are measured on CLOCK_MONOTONIC so a stepped
 * system clock cannot distort them. */
#include "sntp.h"

#include "log.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define SNTP_NS_PER_S INT64_C(1000000000)
#define SNTP_US_PER_S INT64_C(1000000)
#define SNTP_FRAC_ONE (UINT64_C(1) << 32)
/* Replies may carry extension fields or a MAC after the 48 bytes; read them whole so
 * one long datagram is not mistaken for two. */
#define SNTP_RECV_BUF 1024

/* ---- packet codec ------------------------------------------------------------ */

static void sntp_put32(uint8_t *b, uint32_t v)
{
    b[0] = (uint8_t)(v >> 24);
    b[1] = (uint8_t)(v >> 16);
    b[2] = (uint8_t)(v >> 8);
    b[3] = (uint8_t)v;
}

static void sntp_put64(uint8_t *b, uint64_t v)
{
    sntp_put32(b, (uint32_t)(v >> 32));
    sntp_put32(b + 4, (uint32_t)v);
}

static uint32_t sntp_get32(const uint8_t *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static uint64_t sntp_get64(const uint8_t *b)
{
    return (uint64_t)sntp_get32(b) << 32 | sntp_get32(b + 4);
}

void sntp_encode(const struct sntp_packet *p, uint8_t buf[SNTP_PACKET_LEN])
{
    buf[0] = (uint8_t)((p->leap & 3u) << 6 | (p->version & 7u) << 3 | (p->mode & 7u));
    buf[1] = p->stratum;
    buf[2] = (uint8_t)p->poll;
    buf[3] = (uint8_t)p->precision;
    sntp_put32(buf + 4, p->root_delay);
    sntp_put32(buf + 8, p->root_dispersion);
    sntp_put32(buf + 12, p->reference_id);
    sntp_put64(buf + 16, p->reference_ts);
    sntp_put64(buf + 24, p->originate_ts);
    sntp_put64(buf + 32, p->receive_ts);
    sntp_put64(buf + 40, p->transmit_ts);
}

int sntp_decode(const uint8_t *buf, size_t len, struct sntp_packet *p)
{
    if (buf == NULL || len < SNTP_PACKET_LEN)
        return -1;
    p->leap = buf[0] >> 6;
    p->version = (buf[0] >> 3) & 7u;
    p->mode = buf[0] & 7u;
    p->stratum = buf[1];
    p->poll = (int8_t)buf[2];
    p->precision = (int8_t)buf[3];
    p->root_delay = sntp_get32(buf + 4);
    p->root_dispersion = sntp_get32(buf + 8);
    p->reference_id = sntp_get32(buf + 12);
    p->reference_ts = sntp_get64(buf + 16);
    p->originate_ts = sntp_get64(buf + 24);
    p->receive_ts = sntp_get64(buf + 32);
    p->transmit_ts = sntp_get64(buf + 40);
    return 0;
}

/* ---- timestamps -------------------------------------------------------------- */

/* Floor division, so instants before 1970 get a non-negative sub-second part. */
static int64_t sntp_floor_div(int64_t a, int64_t b, int64_t *rem)
{
    int64_t q = a / b, r = a % b;
    if (r < 0) {
        q--;
        r += b;
    }
    *rem = r;
    return q;
}

/* Seconds are taken modulo 2^32: RFC 4330 section 3 maps 1968-2036 onto era 0 and
 * 2036-2104 onto era 1 sharing the same 32-bit field (see sntp_ts_to_unix_us). */
static uint64_t sntp_ts_make(int64_t unix_s, uint64_t frac)
{
    uint32_t secs = (uint32_t)((uint64_t)unix_s + SNTP_UNIX_EPOCH_OFFSET);
    return (uint64_t)secs << 32 | frac;
}

uint64_t sntp_ts_from_unix_us(int64_t unix_us)
{
    int64_t us;
    int64_t s = sntp_floor_div(unix_us, SNTP_US_PER_S, &us);
    /* Round to nearest: us < 10^6, so the result stays below 2^32 and never carries. */
    uint64_t frac = ((uint64_t)us * SNTP_FRAC_ONE + SNTP_US_PER_S / 2) / SNTP_US_PER_S;
    return sntp_ts_make(s, frac);
}

static uint64_t sntp_ts_from_timespec(const struct timespec *t)
{
    uint64_t frac = ((uint64_t)t->tv_nsec * SNTP_FRAC_ONE + SNTP_NS_PER_S / 2) / SNTP_NS_PER_S;
    return sntp_ts_make((int64_t)t->tv_sec, frac);
}

int64_t sntp_ts_to_unix_us(uint64_t ts)
{
    uint64_t secs = ts >> 32;
    /* RFC 4330 section 3: with the top bit clear the time is in era 1 (from 2036). */
    if ((secs & 0x80000000u) == 0)
        secs += SNTP_FRAC_ONE;
    uint64_t frac = ts & 0xffffffffu;
    int64_t us = (int64_t)((frac * SNTP_US_PER_S + SNTP_FRAC_ONE / 2) >> 32);
    return ((int64_t)secs - (int64_t)SNTP_UNIX_EPOCH_OFFSET) * SNTP_US_PER_S + us;
}

/* a - b in nanoseconds, for two timestamps of one server taken close together. */
static int64_t sntp_ts_diff_ns(uint64_t a, uint64_t b)
{
    int64_t d = (int64_t)(a - b);
    int64_t secs = d >> 32; /* arithmetic shift: floor, so frac below is >= 0 */
    uint64_t frac = (uint64_t)d & 0xffffffffu;
    return secs * SNTP_NS_PER_S + (int64_t)((frac * SNTP_NS_PER_S + SNTP_FRAC_ONE / 2) >> 32);
}

/* ---- errors ------------------------------------------------------------------ */

__attribute__((format(printf, 3, 4)))
static void sntp_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (err == NULL || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* ---- server names ------------------------------------------------------------ */

/* Digits only, 1..65535; rewritten in canonical form so "0123" becomes "123". */
static int sntp_parse_port(const char *s, size_t len, char out[16], const char **why)
{
    if (len == 0) {
        *why = "missing port after ':'";
        return -1;
    }
    unsigned long v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            *why = "port is not a number";
            return -1;
        }
        v = v * 10 + (unsigned long)(s[i] - '0');
        if (v > 65535) {
            *why = "port out of range 1-65535";
            return -1;
        }
    }
    if (v == 0) {
        *why = "port out of range 1-65535";
        return -1;
    }
    snprintf(out, 16, "%lu", v);
    return 0;
}

static int sntp_set_host(const char *s, size_t len, struct sntp_server *out, const char **why)
{
    if (len == 0) {
        *why = "empty host";
        return -1;
    }
    if (len >= sizeof out->host) {
        *why = "host name too long (at most 255 characters)";
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= ' ' || c == 127 || c == '[' || c == ']' || c == '/') {
            *why = "invalid character in host";
            return -1;
        }
    }
    memcpy(out->host, s, len);
    out->host[len] = '\0';
    return 0;
}

/* "[V6]" or "[V6]:PORT". */
static int sntp_parse_bracketed(const char *spec, struct sntp_server *out, const char **why)
{
    const char *close = strchr(spec, ']');
    if (close == NULL) {
        *why = "missing ']' after IPv6 address";
        return -1;
    }
    if (sntp_set_host(spec + 1, (size_t)(close - spec - 1), out, why) != 0)
        return -1;
    if (close[1] == '\0')
        return 0;
    if (close[1] != ':') {
        *why = "expected ':PORT' after ']'";
        return -1;
    }
    return sntp_parse_port(close + 2, strlen(close + 2), out->port, why);
}

static int sntp_parse_plain(const char *spec, struct sntp_server *out, const char **why)
{
    const char *colon = strchr(spec, ':');
    /* Two or more colons: a bare IPv6 address, which cannot carry a port unbracketed. */
    if (colon == NULL || strchr(colon + 1, ':') != NULL)
        return sntp_set_host(spec, strlen(spec), out, why);
    if (sntp_set_host(spec, (size_t)(colon - spec), out, why) != 0)
        return -1;
    return sntp_parse_port(colon + 1, strlen(colon + 1), out->port, why);
}

int sntp_parse_server(const char *spec, struct sntp_server *out, char *err, size_t errlen)
{
    const char *why = NULL;
    if (spec == NULL || spec[0] == '\0') {
        sntp_err(err, errlen, "utc server \"\": empty server name");
        return -1;
    }
    struct sntp_server s;
    memset(&s, 0, sizeof s);
    snprintf(s.port, sizeof s.port, "%s", SNTP_DEFAULT_PORT);
    int rc = spec[0] == '['
        ? sntp_parse_bracketed(spec, &s, &why)
        : sntp_parse_plain(spec, &s, &why);
    if (rc != 0) {
        sntp_err(err, errlen, "utc server \"%.80s%s\": %s", spec,
                 strlen(spec) > 80 ? "..." : "", why);
        return -1;
    }
    *out = s;
    return 0;
}

static void sntp_server_name(const struct sntp_server *s, char *buf, size_t len)
{
    if (strchr(s->host, ':') != NULL)
        snprintf(buf, len, "[%s]:%s", s->host, s->port);
    else
        snprintf(buf, len, "%s:%s", s->host, s->port);
}

/* ---- one query ----------------------------------------------------------------- */

static int64_t sntp_mono_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * SNTP_NS_PER_S + t.tv_nsec;
}

/* State shared by the probes of one query. */
struct sntp_query_ctx {
    int fd;
    const char *name;     /* "host:port", for messages */
    int timeout_ms;
    uint64_t last_nonce;  /* two probes must never share a nonce */
    char *err;
    size_t errlen;
};

/* A probe ends in one of these. FATAL stops the whole query: the server said not to
 * use it (kiss-of-death) or cannot give the time (unsynchronised). */
enum sntp_probe_status { SNTP_PROBE_OK, SNTP_PROBE_FAIL, SNTP_PROBE_FATAL, SNTP_PROBE_NETERR };

struct sntp_sample {
    int64_t recv_ns;
    int64_t delay_ns;
    int64_t utc_us;
    int stratum;
};

static uint64_t sntp_next_nonce(struct sntp_query_ctx *q)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    uint64_t ts = sntp_ts_from_timespec(&now);
    if (ts <= q->last_nonce)
        ts = q->last_nonce + 1;
    q->last_nonce = ts;
    return ts;
}

static enum sntp_probe_status sntp_send_request(struct sntp_query_ctx *q, uint64_t nonce)
{
    struct sntp_packet req;
    memset(&req, 0, sizeof req);
    req.version = 4;
    req.mode = SNTP_MODE_CLIENT;
    req.transmit_ts = nonce;
    uint8_t buf[SNTP_PACKET_LEN];
    sntp_encode(&req, buf);
    if (send(q->fd, buf, sizeof buf, 0) != (ssize_t)sizeof buf) {
        sntp_err(q->err, q->errlen, "sntp %s: send: %s", q->name, strerror(errno));
        return SNTP_PROBE_NETERR;
    }
    return SNTP_PROBE_OK;
}

static void sntp_kiss_code(uint32_t id, char code[5])
{
    for (int i = 0; i < 4; i++) {
        char c = (char)(id >> (24 - 8 * i));
        code[i] = (c >= 0x20 && c < 0x7f) ? c : '?';
    }
    code[4] = '\0';
}

/* Checks a reply that carries our nonce (RFC 4330 section 5, client operations). */
static enum sntp_probe_status sntp_check_reply(struct sntp_query_ctx *q,
                                               const struct sntp_packet *r)
{
    if (r->mode != SNTP_MODE_SERVER && r->mode != SNTP_MODE_BROADCAST) {
        sntp_err(q->err, q->errlen, "sntp %s: invalid reply (mode %u)", q->name, r->mode);
        return SNTP_PROBE_FAIL;
    }
    if (r->version < 1 || r->version > 4) {
        sntp_err(q->err, q->errlen, "sntp %s: invalid reply (version %u)", q->name, r->version);
        return SNTP_PROBE_FAIL;
    }
    if (r->stratum == 0) {
        char code[5];
        sntp_kiss_code(r->reference_id, code);
        sntp_err(q->err, q->errlen, "sntp %s: kiss-of-death (code %s)", q->name, code);
        return SNTP_PROBE_FATAL;
    }
    if (r->leap == 3 || r->stratum > 15) {
        sntp_err(q->err, q->errlen, "sntp %s: server not synchronised (leap %u, stratum %u)",
                 q->name, r->leap, r->stratum);
        return SNTP_PROBE_FATAL;
    }
    if (r->transmit_ts == 0) {
        sntp_err(q->err, q->errlen, "sntp %s: invalid reply (transmit timestamp is zero)",
                 q->name);
        return SNTP_PROBE_FAIL;
    }
    return SNTP_PROBE_OK;
}

/* delay = (t4 - t1) - (t3 - t2), held within [0, t4 - t1]: a server whose clock runs a
 * little fast or slow can report more processing time than the whole round trip, and
 * a negative delay would move the estimate the wrong way. */
static void sntp_fill_sample(const struct sntp_packet *r, int64_t t1_ns, int64_t t4_ns,
                             struct sntp_sample *s)
{
    int64_t rtt_ns = t4_ns - t1_ns;
    int64_t proc_ns = r->receive_ts != 0 ? sntp_ts_diff_ns(r->transmit_ts, r->receive_ts) : 0;
    if (proc_ns < 0)
        proc_ns = 0;
    if (proc_ns > rtt_ns)
        proc_ns = rtt_ns;
    s->recv_ns = t4_ns;
    s->delay_ns = rtt_ns - proc_ns;
    s->utc_us = sntp_ts_to_unix_us(r->transmit_ts) + s->delay_ns / 2000;
    s->stratum = r->stratum;
}

/* Waits up to the deadline for one datagram; returns its length, 0 on timeout. */
static ssize_t sntp_wait_datagram(struct sntp_query_ctx *q, int64_t deadline_ns,
                                  uint8_t *buf, size_t len, int64_t *t4_ns)
{
    for (;;) {
        int64_t left_ns = deadline_ns - sntp_mono_ns();
        if (left_ns <= 0)
            return 0;
        struct pollfd pfd = {.fd = q->fd, .events = POLLIN};
        int n = poll(&pfd, 1, (int)((left_ns + 999999) / 1000000));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            sntp_err(q->err, q->errlen, "sntp %s: poll: %s", q->name, strerror(errno));
            return -1;
        }
        if (n == 0)
            continue; /* rounding: re-check the deadline */
        ssize_t got = recv(q->fd, buf, len, 0);
        *t4_ns = sntp_mono_ns();
        if (got >= 0)
            return got;
        if (errno == EINTR || errno == EAGAIN)
            continue;
        sntp_err(q->err, q->errlen, "sntp %s: receive: %s", q->name, strerror(errno));
        return -1;
    }
}

static enum sntp_probe_status sntp_probe(struct sntp_query_ctx *q, struct sntp_sample *out)
{
    uint64_t nonce = sntp_next_nonce(q);
    int64_t t1_ns = sntp_mono_ns();
    if (sntp_send_request(q, nonce) != SNTP_PROBE_OK)
        return SNTP_PROBE_NETERR;
    int64_t deadline_ns = t1_ns + (int64_t)q->timeout_ms * 1000000;
    for (;;) {
        uint8_t buf[SNTP_RECV_BUF];
        int64_t t4_ns = 0;
        ssize_t got = sntp_wait_datagram(q, deadline_ns, buf, sizeof buf, &t4_ns);
        if (got < 0)
            return SNTP_PROBE_NETERR;
        if (got == 0) {
            sntp_err(q->err, q->errlen, "sntp %s: no reply within %d ms", q->name, q->timeout_ms);
            return SNTP_PROBE_FAIL;
        }
        struct sntp_packet r;
        /* Short datagrams and stale or forged replies: ignore, keep waiting. */
        if (sntp_decode(buf, (size_t)got, &r) != 0 || r.originate_ts != nonce) {
            log_debug("sntp", "%s: ignoring a %zd-byte datagram that does not answer this "
                      "request", q->name, got);
            continue;
        }
        enum sntp_probe_status st = sntp_check_reply(q, &r);
        if (st == SNTP_PROBE_OK)
            sntp_fill_sample(&r, t1_ns, t4_ns, out);
        return st;
    }
}

/* Runs the probes on a connected socket. Returns the number of good samples (best in
 * *best), or -1 after a fatal reply; *status tells why there are none. */
static int sntp_run_probes(struct sntp_query_ctx *q, int probes, struct sntp_sample *best,
                           enum sntp_probe_status *status)
{
    int good = 0;
    *status = SNTP_PROBE_FAIL;
    for (int i = 0; i < probes; i++) {
        struct sntp_sample s;
        enum sntp_probe_status st = sntp_probe(q, &s);
        if (st == SNTP_PROBE_FATAL) {
            *status = st;
            return -1;
        }
        if (st == SNTP_PROBE_NETERR) {
            /* The socket is unusable; keep what earlier probes already gave. */
            *status = good > 0 ? SNTP_PROBE_OK : st;
            return good;
        }
        if (st != SNTP_PROBE_OK)
            continue;
        if (good == 0 || s.delay_ns < best->delay_ns)
            *best = s;
        good++;
    }
    if (good > 0)
        *status = SNTP_PROBE_OK;
    return good;
}

static int sntp_open_connected(const struct addrinfo *ai, const char *name, char *err,
                               size_t errlen)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
        sntp_err(err, errlen, "sntp %s: socket: %s", name, strerror(errno));
        return -1;
    }
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        sntp_err(err, errlen, "sntp %s: connect: %s", name, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

static struct addrinfo *sntp_resolve(const struct sntp_server *server, const char *name,
                                     char *err, size_t errlen)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    hints.ai_protocol = IPPROTO_UDP;
    int rc = getaddrinfo(server->host, server->port, &hints, &res);
    if (rc != 0) {
        sntp_err(err, errlen, "sntp %s: cannot resolve: %s", name,
                 rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
        return NULL;
    }
    return res;
}

/* Tries each address in turn, but moves on only after a socket error (such as
 * "connection refused" from a host name that also resolves to an unserved ::1): after a
 * timeout or a verdict from the server, another address would only double the wait. */
static int sntp_query_addrs(const struct addrinfo *res, struct sntp_query_ctx *q, int probes,
                            struct sntp_sample *best)
{
    for (const struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        q->fd = sntp_open_connected(ai, q->name, q->err, q->errlen);
        if (q->fd < 0)
            continue;
        enum sntp_probe_status st;
        int good = sntp_run_probes(q, probes, best, &st);
        close(q->fd);
        q->fd = -1;
        if (good > 0)
            return 0;
        if (st != SNTP_PROBE_NETERR)
            return -1;
    }
    return -1;
}

int sntp_query(const struct sntp_server *server, int probes, int timeout_ms,
               struct sntp_result *out, char *err, size_t errlen)
{
    char name[sizeof out->server];
    sntp_server_name(server, name, sizeof name);
    if (probes < 1 || timeout_ms < 1) {
        sntp_err(err, errlen, "sntp %s: bad arguments (probes %d, timeout %d ms)", name,
                 probes, timeout_ms);
        return -1;
    }
    struct addrinfo *res = sntp_resolve(server, name, err, errlen);
    if (res == NULL)
        return -1;
    struct sntp_query_ctx q = {.fd = -1, .name = name, .timeout_ms = timeout_ms,
                               .err = err, .errlen = errlen};
    struct sntp_sample best = {0};
    int rc = sntp_query_addrs(res, &q, probes, &best);
    freeaddrinfo(res);
    if (rc != 0)
        return -1;
    out->utc_us = best.utc_us;
    out->recv_ns = best.recv_ns;
    out->rtt_us = best.delay_ns / 1000;
    out->stratum = best.stratum;
    snprintf(out->server, sizeof out->server, "%s", name);
    return 0;
}

/* Appends "; why" (or just "why" the first time) to err, truncating silently. */
static void sntp_err_append(char *err, size_t errlen, const char *why)
{
    if (err == NULL || errlen == 0)
        return;
    size_t used = strnlen(err, errlen);
    if (used + 1 >= errlen)
        return;
    snprintf(err + used, errlen - used, "%s%s", used > 0 ? "; " : "", why);
}

int sntp_query_any(const struct sntp_server *servers, size_t n, int probes, int timeout_ms,
                   struct sntp_result *out, char *err, size_t errlen)
{
    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (n == 0) {
        sntp_err(err, errlen, "sntp: no utc server configured");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        char why[512] = "";
        if (sntp_query(&servers[i], probes, timeout_ms, out, why, sizeof why) == 0)
            return 0;
        sntp_err_append(err, errlen, why);
    }
    return -1;
}

enum clock_error sntp_correct(struct clock *c, const struct sntp_result *r, int64_t *delta_us,
                              struct clock_correction *out)
{
    int64_t mine = clock_target_at(c, r->recv_ns);
    *delta_us = clock_wrap_delta(clock_wrap_time(r->utc_us) - mine);
    struct clock_measurement m = {.delta_us = *delta_us, .bound_us = r->rtt_us / 2 > 0 ? r->rtt_us / 2 : 1};
    return clock_correct_at(c, &m, r->recv_ns, out);
}
