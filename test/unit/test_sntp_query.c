/* Unit tests for common/sntp.c: the client against a real UDP responder thread on
 * loopback whose misbehaviour (silence, forged originate, kiss-of-death, ...) each test
 * chooses (sntp_fixture.h). */
#include "sntp_fixture.h"

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
    return cmocka_run_group_tests_name("sntp_query", tests, NULL, NULL);
}
