/* sntp: a Simple Network Time Protocol client (RFC 4330) and the packet codec that
 * the client and the test suite's responder share. */
#ifndef BT_SNTP_H
#define BT_SNTP_H

#include "clock.h"

#include <stddef.h>
#include <stdint.h>

#define SNTP_PACKET_LEN 48
#define SNTP_DEFAULT_PORT "123"
#define SNTP_MAX_SERVERS 8
/* Seconds from 1900-01-01 (NTP era 0) to 1970-01-01. */
#define SNTP_UNIX_EPOCH_OFFSET UINT64_C(2208988800)

enum sntp_mode { SNTP_MODE_CLIENT = 3, SNTP_MODE_SERVER = 4, SNTP_MODE_BROADCAST = 5 };

struct sntp_packet {
    uint8_t leap;        /* LI, 2 bits; 3 = not synchronised */
    uint8_t version;     /* VN, 3 bits */
    uint8_t mode;        /* 3 bits */
    uint8_t stratum;     /* 0 = kiss-of-death */
    int8_t poll;
    int8_t precision;
    uint32_t root_delay;
    uint32_t root_dispersion;
    uint32_t reference_id;
    uint64_t reference_ts; /* NTP 64-bit timestamps: 32.32 fixed point seconds since 1900 */
    uint64_t originate_ts;
    uint64_t receive_ts;
    uint64_t transmit_ts;
};

struct sntp_server {
    char host[256];
    char port[16];
};

struct sntp_result {
    int64_t utc_us;     /* UTC (microseconds since 1970) estimated at recv_ns */
    int64_t recv_ns;    /* monotonic instant of the chosen reply */
    int64_t rtt_us;     /* round trip less the server's processing time */
    int stratum;
    char server[280];   /* "host:port" that answered */
};

void sntp_encode(const struct sntp_packet *p, uint8_t buf[SNTP_PACKET_LEN]);
/* Returns 0, or -1 if len is shorter than a packet. */
int sntp_decode(const uint8_t *buf, size_t len, struct sntp_packet *p);

uint64_t sntp_ts_from_unix_us(int64_t unix_us);
int64_t sntp_ts_to_unix_us(uint64_t ts);

/* "HOST", "HOST:PORT", "[V6]:PORT"; returns 0, or -1 with a message in err. */
int sntp_parse_server(const char *spec, struct sntp_server *out, char *err, size_t errlen);

/* Asks one server `probes` times (each waiting at most timeout_ms) and keeps the reply
 * with the smallest delay. Returns 0, or -1 with "why" in err (timeout, bad reply,
 * kiss-of-death, unsynchronised server, name not found). */
int sntp_query(const struct sntp_server *server, int probes, int timeout_ms,
               struct sntp_result *out, char *err, size_t errlen);
/* A clock that starts following UTC takes this many extra measurements this far apart
 * first, so that it knows its frequency (three samples over a second) before anyone
 * follows it: a restarted time server does not drift from its nodes by its whole
 * simulated drift for a round. */
#define SNTP_STARTUP_BURST 3
#define SNTP_BURST_INTERVAL_MS 500

/* Corrects clock c with a result (the time server following UTC): the measurement is
 * UTC's time of day minus the clock's target at recv_ns, bounded by half the round trip (the
 * reply's transmit time was read within it). Sets *delta_us; returns clock_correct_at's
 * result. */
enum clock_error sntp_correct(struct clock *c, const struct sntp_result *r, int64_t *delta_us,
                              struct clock_correction *out);
/* Tries the servers in order; the first that answers wins. err lists every failure. */
int sntp_query_any(const struct sntp_server *servers, size_t n, int probes, int timeout_ms,
                   struct sntp_result *out, char *err, size_t errlen);

#endif
