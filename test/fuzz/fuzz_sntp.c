/* fuzz_sntp: an SNTP reply as the time server takes it (common/sntp.c): decoded,
 * matched against the request's nonce, checked (sntp_check_reply), made a sample and a
 * result (sntp_fill_sample, as sntp_query does) and applied to a clock (sntp_correct).
 * The reply checks are static in sntp.c, so this file compiles sntp.c into itself: the
 * very code the client runs, not a copy (libcommon's sntp.o is then not linked). */
#include "../../common/sntp.c"

#include "fuzzlib.h"

/* The request's transmit timestamp: a reply must echo it as its originate. */
#define FUZZ_NONCE UINT64_C(0xed6b1c8a40000000)
#define FUZZ_T1_NS INT64_C(5000000000)
#define FUZZ_RTT_NS INT64_C(350000)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    if (n > SNTP_RECV_BUF)
        n = SNTP_RECV_BUF; /* what one recv() takes of a longer datagram */
    struct sntp_packet r;
    if (sntp_decode(data, n, &r) != 0 || r.originate_ts != FUZZ_NONCE)
        return 0;
    char err[256] = "";
    struct sntp_query_ctx q = {.fd = -1, .name = "fuzz:123", .timeout_ms = 1000, .err = err,
                               .errlen = sizeof err};
    if (sntp_check_reply(&q, &r) != SNTP_PROBE_OK)
        return 0;
    struct sntp_sample s;
    sntp_fill_sample(&r, FUZZ_T1_NS, FUZZ_T1_NS + FUZZ_RTT_NS, &s);
    struct sntp_result res = {.utc_us = s.utc_us, .recv_ns = s.recv_ns,
                              .rtt_us = s.delay_ns / 1000, .stratum = s.stratum};
    struct clock c;
    struct clock_config cfg;
    clock_config_default(&cfg);
    clock_init_at(&c, &cfg, 43200000000LL, FUZZ_T1_NS);
    int64_t delta;
    struct clock_correction corr;
    sntp_correct(&c, &res, &delta, &corr);
    clock_destroy(&c);
    return 0;
}

static void fuzz_reply_seed(const char *name, int leap, int version, int mode, int stratum,
                            uint64_t receive, uint64_t transmit, size_t extra)
{
    struct sntp_packet p = {.leap = (uint8_t)leap, .version = (uint8_t)version,
                            .mode = (uint8_t)mode, .stratum = (uint8_t)stratum, .poll = 6,
                            .precision = -20, .root_delay = 0x00000123,
                            .root_dispersion = 0x00000456, .reference_id = 0x7f000001,
                            .reference_ts = transmit - (UINT64_C(64) << 32),
                            .originate_ts = FUZZ_NONCE, .receive_ts = receive,
                            .transmit_ts = transmit};
    uint8_t buf[SNTP_PACKET_LEN + 64] = {0};
    sntp_encode(&p, buf);
    fuzzlib_seed(name, buf, SNTP_PACKET_LEN + extra);
}

void fuzz_seeds(void)
{
    uint64_t t = sntp_ts_from_unix_us(1767225600123456LL);
    fuzz_reply_seed("reply-v4", 0, 4, SNTP_MODE_SERVER, 2, t, t + 4295, 0);
    fuzz_reply_seed("reply-v3-broadcast", 0, 3, SNTP_MODE_BROADCAST, 8, 0, t, 0);
    fuzz_reply_seed("reply-with-mac", 0, 4, SNTP_MODE_SERVER, 3, t, t + 1, 20);
    fuzz_reply_seed("reply-kiss", 3, 4, SNTP_MODE_SERVER, 0, t, t, 0);
    fuzz_reply_seed("reply-unsynchronised", 3, 4, SNTP_MODE_SERVER, 16, t, t, 0);
    fuzz_reply_seed("reply-era1", 0, 4, SNTP_MODE_SERVER, 1,
                    sntp_ts_from_unix_us(2500000000000000LL),
                    sntp_ts_from_unix_us(2500000000000100LL), 0);
}
