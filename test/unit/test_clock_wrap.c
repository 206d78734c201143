/* Unit tests for common/clock.c: the 24-hour day (midnight wrap of reads, steps and
 * deltas), the random start, and the text form (format, parse, policy names). */
#include "clock_fixture.h"

/* ---- Day wrap ---- */

static void test_read_wraps_forward_at_midnight(void **state)
{
    (void)state;
    struct clock c;
    make_clock(&c, 0, false, hms(23, 59, 59) + 900000);
    assert_int_equal(clock_read_at(&c, T0 + 99 * NS_PER_MS), CLOCK_DAY_US - 1000);
    assert_int_equal(clock_read_at(&c, T0 + 100 * NS_PER_MS), 0);
    assert_int_equal(clock_read_at(&c, T0 + 200 * NS_PER_MS), 100000);
    clock_destroy(&c);
}

static void test_read_wraps_backward_at_midnight(void **state)
{
    (void)state;
    struct clock c;
    make_clock(&c, 0, false, 100000);
    /* A reading stamped before the last change extrapolates backwards over midnight. */
    assert_int_equal(clock_read_at(&c, T0 - 200 * NS_PER_MS), hms(23, 59, 59) + 900000);
    clock_destroy(&c);
}

static void test_step_backward_across_midnight(void **state)
{
    (void)state;
    struct clock c;
    make_clock(&c, 0, false, 500000);
    assert_int_equal(clock_adjust_at(&c, -US_PER_S, T0, NULL), CLOCK_OK);
    assert_int_equal(clock_read_at(&c, T0), hms(23, 59, 59) + 500000);
    clock_destroy(&c);
}

static void test_step_forward_across_midnight(void **state)
{
    (void)state;
    struct clock c;
    make_clock(&c, 0, false, hms(23, 59, 59));
    assert_int_equal(clock_adjust_at(&c, 2 * US_PER_S, T0, NULL), CLOCK_OK);
    assert_int_equal(clock_read_at(&c, T0), hms(0, 0, 1));
    clock_destroy(&c);
}

static void test_delta_forward_over_midnight(void **state)
{
    (void)state;
    assert_int_equal(clock_wrap_delta(hms(0, 0, 1) - hms(23, 59, 59)), 2 * US_PER_S);
}

static void test_delta_backward_over_midnight(void **state)
{
    (void)state;
    assert_int_equal(clock_wrap_delta(hms(23, 59, 59) - hms(0, 0, 1)), -2 * US_PER_S);
}

static void test_delta_half_day_is_positive(void **state)
{
    (void)state;
    assert_int_equal(clock_wrap_delta(CLOCK_HALF_DAY_US), CLOCK_HALF_DAY_US);
    assert_int_equal(clock_wrap_delta(-CLOCK_HALF_DAY_US), CLOCK_HALF_DAY_US);
    assert_int_equal(clock_wrap_delta(CLOCK_HALF_DAY_US + 1), -CLOCK_HALF_DAY_US + 1);
    assert_int_equal(clock_wrap_delta(-CLOCK_HALF_DAY_US + 1), -CLOCK_HALF_DAY_US + 1);
    assert_int_equal(clock_wrap_delta(CLOCK_DAY_US + 5), 5);
}

static void test_wrap_time_into_day(void **state)
{
    (void)state;
    assert_int_equal(clock_wrap_time(-1), CLOCK_DAY_US - 1);
    assert_int_equal(clock_wrap_time(CLOCK_DAY_US), 0);
    assert_int_equal(clock_wrap_time(2 * CLOCK_DAY_US + 5), 5);
    assert_int_equal(clock_wrap_time(-3 * CLOCK_DAY_US), 0);
}

/* ---- Random start ---- */

static void test_random_drift_magnitude_and_sign(void **state)
{
    (void)state;
    srandom(12345);
    int positive = 0, negative = 0;
    for (int i = 0; i < 1000; i++) {
        double d = clock_random_drift_ppm(200);
        assert_true(fabs(d) >= 100.0 && fabs(d) <= 200.0);
        positive += d > 0;
        negative += d < 0;
    }
    assert_true(positive > 300 && negative > 300);
}

static void test_random_time_of_day_covers_day(void **state)
{
    (void)state;
    srandom(54321);
    int quarters[4] = {0};
    for (int i = 0; i < 1000; i++) {
        int64_t t = clock_random_time_of_day();
        assert_true(t >= 0 && t < CLOCK_DAY_US);
        quarters[t / (CLOCK_DAY_US / 4)]++;
    }
    for (int q = 0; q < 4; q++)
        assert_true(quarters[q] > 150);
}

/* ---- Text ---- */

static void test_format_plain_and_micro(void **state)
{
    (void)state;
    char buf[16];
    clock_format(hms(1, 2, 3) + 45, false, buf, 9);
    assert_string_equal(buf, "01:02:03");
    clock_format(hms(1, 2, 3) + 45, true, buf, sizeof buf);
    assert_string_equal(buf, "01:02:03.000045");
    clock_format(CLOCK_DAY_US + 1, true, buf, sizeof buf);
    assert_string_equal(buf, "00:00:00.000001");
    clock_format(-1, false, buf, sizeof buf);
    assert_string_equal(buf, "23:59:59");
}

static void test_parse_format_round_trip(void **state)
{
    (void)state;
    static const int64_t values[] = {0, 1, 45296789012, CLOCK_DAY_US - 1};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        char buf[16];
        int64_t back = -1;
        clock_format(values[i], true, buf, sizeof buf);
        assert_int_equal(clock_parse(buf, &back), 0);
        assert_int_equal(back, values[i]);
    }
}

static void test_parse_fraction_and_plain(void **state)
{
    (void)state;
    int64_t t = -1;
    assert_int_equal(clock_parse("12:34:56", &t), 0);
    assert_int_equal(t, hms(12, 34, 56));
    assert_int_equal(clock_parse("12:34:56.5", &t), 0);
    assert_int_equal(t, hms(12, 34, 56) + 500000);
    assert_int_equal(clock_parse("00:00:00.123456789", &t), 0);
    assert_int_equal(t, 123456);
}

static void test_parse_rejects_out_of_range(void **state)
{
    (void)state;
    static const char *const bad[] = {"24:00:00", "23:60:00", "23:59:60", "25:61:00", "99:99:99"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t t = 7;
        assert_int_equal(clock_parse(bad[i], &t), -1);
        assert_int_equal(t, 7);
    }
}

static void test_parse_rejects_malformed(void **state)
{
    (void)state;
    static const char *const bad[] = {"1:2:3x",   "12:00:00x", "12:00:00.",   " 12:00:00",
                                      "12:00",    "",          "12-00-00",    "12:00:00.1x",
                                      "-1:00:00", "12:0a:00",  "12:00:00 ",   "+1:00:00"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t t = 7;
        assert_int_equal(clock_parse(bad[i], &t), -1);
        assert_int_equal(t, 7);
    }
    assert_int_equal(clock_parse(NULL, NULL), -1);
}

static void test_policy_names(void **state)
{
    (void)state;
    assert_string_equal(clock_policy_name(CLOCK_POLICY_NONE), "none");
    assert_string_equal(clock_policy_name(CLOCK_POLICY_STEP), "step");
    assert_string_equal(clock_policy_name(CLOCK_POLICY_SLEW), "slew");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_wraps_forward_at_midnight),
        cmocka_unit_test(test_read_wraps_backward_at_midnight),
        cmocka_unit_test(test_step_backward_across_midnight),
        cmocka_unit_test(test_step_forward_across_midnight),
        cmocka_unit_test(test_delta_forward_over_midnight),
        cmocka_unit_test(test_delta_backward_over_midnight),
        cmocka_unit_test(test_delta_half_day_is_positive),
        cmocka_unit_test(test_wrap_time_into_day),
        cmocka_unit_test(test_random_drift_magnitude_and_sign),
        cmocka_unit_test(test_random_time_of_day_covers_day),
        cmocka_unit_test(test_format_plain_and_micro),
        cmocka_unit_test(test_parse_format_round_trip),
        cmocka_unit_test(test_parse_fraction_and_plain),
        cmocka_unit_test(test_parse_rejects_out_of_range),
        cmocka_unit_test(test_parse_rejects_malformed),
        cmocka_unit_test(test_policy_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
