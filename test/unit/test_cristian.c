/* Unit tests for common/cristian.c: min-RTT selection, remote + RTT/2, error bound,
 * and the wrapped delta the coordinator sends. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "clock.h"
#include "cristian.h"

#define US_PER_S INT64_C(1000000)
#define NS_PER_US INT64_C(1000)

static int64_t hms(int h, int m, int s)
{
    return ((int64_t)h * 3600 + m * 60 + s) * US_PER_S;
}

/* A probe sent at send_us whose reply took rtt_us to come back. */
static struct cristian_probe probe(bool ok, int64_t send_us, int64_t rtt_us, int64_t remote_us)
{
    return (struct cristian_probe){
        .ok = ok,
        .send_ns = send_us * NS_PER_US,
        .recv_ns = (send_us + rtt_us) * NS_PER_US,
        .remote_us = remote_us,
    };
}

/* ---- Picking the probe ---- */

static void test_pick_smallest_rtt(void **state)
{
    (void)state;
    const struct cristian_probe p[] = {
        probe(true, 1000, 300, 0),
        probe(true, 2000, 120, 0),
        probe(true, 3000, 450, 0),
        probe(true, 4000, 121, 0),
    };
    assert_int_equal(cristian_pick(p, 4), 1);
}

static void test_pick_tie_keeps_first(void **state)
{
    (void)state;
    const struct cristian_probe p[] = {
        probe(true, 1000, 300, 0),
        probe(true, 2000, 100, 0),
        probe(true, 3000, 100, 0),
    };
    assert_int_equal(cristian_pick(p, 3), 1);
}

static void test_pick_ignores_failed_probes(void **state)
{
    (void)state;
    /* A failed call has meaningless instants, however short they look. */
    const struct cristian_probe p[] = {
        probe(false, 1000, 1, 0),
        probe(true, 2000, 500, 0),
        probe(false, 3000, 2, 0),
        probe(true, 4000, 400, 0),
    };
    assert_int_equal(cristian_pick(p, 4), 3);
}

static void test_pick_ignores_reply_before_request(void **state)
{
    (void)state;
    const struct cristian_probe p[] = {
        probe(true, 1000, -50, 0),
        probe(true, 2000, 500, 0),
    };
    assert_int_equal(cristian_pick(p, 2), 1);
}

static void test_pick_none_succeeded(void **state)
{
    (void)state;
    const struct cristian_probe p[] = {
        probe(false, 1000, 100, 0),
        probe(false, 2000, 100, 0),
    };
    assert_int_equal(cristian_pick(p, 2), -1);
    assert_int_equal(cristian_pick(p, 0), -1);
    assert_int_equal(cristian_pick(NULL, 0), -1);
}

static void test_pick_only_looks_at_n_probes(void **state)
{
    (void)state;
    const struct cristian_probe p[] = {
        probe(true, 1000, 300, 0),
        probe(true, 2000, 100, 0),
    };
    assert_int_equal(cristian_pick(p, 1), 0);
}

/* ---- The estimate ---- */

static void test_estimate_adds_half_rtt(void **state)
{
    (void)state;
    const struct cristian_probe p[] = {
        probe(true, 1000, 900, hms(9, 0, 0)),
        probe(true, 5000, 400, hms(10, 0, 0)),
    };
    struct cristian_estimate e;
    assert_int_equal(cristian_estimate(p, 2, 0, &e), 0);
    assert_int_equal(e.probe_index, 1);
    assert_int_equal(e.rtt_us, 400);
    assert_int_equal(e.recv_ns, p[1].recv_ns);
    /* The server read its clock, on average, half a round trip before the reply arrived. */
    assert_int_equal(e.remote_at_recv_us, hms(10, 0, 0) + 200);
}

static void test_estimate_rtt_rounds_down_to_us(void **state)
{
    (void)state;
    struct cristian_probe p = {.ok = true, .send_ns = 1000, .recv_ns = 1000 + 1999, .remote_us = 0};
    struct cristian_estimate e;
    assert_int_equal(cristian_estimate(&p, 1, 0, &e), 0);
    assert_int_equal(e.rtt_us, 1);
    assert_int_equal(e.remote_at_recv_us, 0);
}

static void test_estimate_wraps_at_midnight(void **state)
{
    (void)state;
    const struct cristian_probe p = probe(true, 1000, 600, CLOCK_DAY_US - 100);
    struct cristian_estimate e;
    assert_int_equal(cristian_estimate(&p, 1, 0, &e), 0);
    assert_int_equal(e.remote_at_recv_us, 200);
}

static void test_estimate_error_bound(void **state)
{
    (void)state;
    const struct cristian_probe p = probe(true, 1000, 400, hms(10, 0, 0));
    struct cristian_estimate e;
    assert_int_equal(cristian_estimate(&p, 1, 0, &e), 0);
    assert_int_equal(e.error_bound_us, 200);
    assert_int_equal(cristian_estimate(&p, 1, 30, &e), 0);
    assert_int_equal(e.error_bound_us, 170);
}

static void test_estimate_error_bound_never_negative(void **state)
{
    (void)state;
    /* A minimum one-way delay above rtt/2 is a wrong guess, not a negative uncertainty. */
    const struct cristian_probe p = probe(true, 1000, 40, hms(10, 0, 0));
    struct cristian_estimate e;
    assert_int_equal(cristian_estimate(&p, 1, 50, &e), 0);
    assert_int_equal(e.error_bound_us, 0);
}

static void test_estimate_none_succeeded(void **state)
{
    (void)state;
    const struct cristian_probe p[] = {
        probe(false, 1000, 100, hms(10, 0, 0)),
        probe(false, 2000, 100, hms(10, 0, 0)),
    };
    struct cristian_estimate e;
    memset(&e, 0x5a, sizeof e);
    struct cristian_estimate untouched = e;
    assert_int_equal(cristian_estimate(p, 2, 0, &e), -1);
    assert_memory_equal(&e, &untouched, sizeof e);
}

/* ---- The delta ---- */

static void test_delta_is_reference_minus_estimate(void **state)
{
    (void)state;
    assert_int_equal(cristian_delta(hms(10, 0, 5), hms(10, 0, 0)), 5 * US_PER_S);
    assert_int_equal(cristian_delta(hms(10, 0, 0), hms(10, 0, 5)), -5 * US_PER_S);
}

static void test_delta_wraps_over_midnight(void **state)
{
    (void)state;
    assert_int_equal(cristian_delta(hms(0, 0, 1), hms(23, 59, 59)), 2 * US_PER_S);
    assert_int_equal(cristian_delta(hms(23, 59, 59), hms(0, 0, 1)), -2 * US_PER_S);
    assert_int_equal(cristian_delta(hms(18, 0, 0), hms(6, 0, 0)), CLOCK_HALF_DAY_US);
    assert_int_equal(cristian_delta(hms(6, 0, 0), hms(18, 0, 0)), CLOCK_HALF_DAY_US);
}

static void test_delta_corrects_a_node_clock(void **state)
{
    (void)state;
    /* End to end: a node 3 s ahead, observed through a 2 ms round trip. The node's
     * clock read 10:00:03.000000 at the midpoint of the exchange. */
    const int64_t reference_at_recv = hms(10, 0, 0) + 1000;
    const struct cristian_probe p = probe(true, 50000, 2000, hms(10, 0, 3));
    struct cristian_estimate e;
    assert_int_equal(cristian_estimate(&p, 1, 0, &e), 0);
    assert_int_equal(cristian_delta(reference_at_recv, e.remote_at_recv_us), -3 * US_PER_S);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pick_smallest_rtt),
        cmocka_unit_test(test_pick_tie_keeps_first),
        cmocka_unit_test(test_pick_ignores_failed_probes),
        cmocka_unit_test(test_pick_ignores_reply_before_request),
        cmocka_unit_test(test_pick_none_succeeded),
        cmocka_unit_test(test_pick_only_looks_at_n_probes),
        cmocka_unit_test(test_estimate_adds_half_rtt),
        cmocka_unit_test(test_estimate_rtt_rounds_down_to_us),
        cmocka_unit_test(test_estimate_wraps_at_midnight),
        cmocka_unit_test(test_estimate_error_bound),
        cmocka_unit_test(test_estimate_error_bound_never_negative),
        cmocka_unit_test(test_estimate_none_succeeded),
        cmocka_unit_test(test_delta_is_reference_minus_estimate),
        cmocka_unit_test(test_delta_wraps_over_midnight),
        cmocka_unit_test(test_delta_corrects_a_node_clock),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
