/* Unit tests for common/sntp.c: the packet codec, timestamp conversion and server
 * names. */
#include "sntp_fixture.h"

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
    };
    return cmocka_run_group_tests_name("sntp_codec", tests, NULL, NULL);
}
