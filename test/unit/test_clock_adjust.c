/* Unit tests for common/clock.c: adjustments (slew, step or slew, range), stop, resume
 * and set, and the snapshot of the state. */
#include "clock_fixture.h"

/* ---- Slew ---- */

static void test_negative_slew_never_runs_backwards(void **state)
{
    (void)state;
    const int64_t delta = -900000;
    /* The slew also crosses midnight, where a naive comparison would see a jump back. */
    const int64_t start = hms(23, 59, 55);
    struct clock c;
    make_clock(&c, 0, false, start);
    sync_clock(&c, T0);
    enum clock_policy p;
    assert_int_equal(clock_adjust_at(&c, delta, T0, &p), CLOCK_OK);
    assert_int_equal(p, CLOCK_POLICY_SLEW);

    const double rate = CLOCK_DEFAULT_MAX_SLEW_RATE;
    const int64_t duration_us = (int64_t)ceil((double)-delta / rate);
    int64_t prev = clock_read_at(&c, T0);
    for (int64_t ms = 1; ms * 1000 <= duration_us + 1000; ms++) {
        int64_t now = clock_read_at(&c, T0 + ms * NS_PER_MS);
        int64_t step = clock_wrap_delta(now - prev);
        assert_true(step >= 0);
        /* While slewing, one real millisecond shows between (1 - rate) ms and 1 ms. */
        assert_in_range(step, (int64_t)floor(1000 * (1 - rate)), 1000);
        prev = now;
    }

    struct clock_state s;
    clock_snapshot_at(&c, T0 + (duration_us - 1000) * NS_PER_US, &s);
    assert_true(s.slewing);
    clock_snapshot_at(&c, T0 + duration_us * NS_PER_US, &s);
    assert_false(s.slewing);
    assert_int_equal(s.time_us, clock_wrap_time(start + duration_us + delta));
    clock_destroy(&c);
}

static void test_slew_absorbed_at_max_rate(void **state)
{
    (void)state;
    const int64_t start = hms(8, 0, 0);
    struct clock c;
    make_clock(&c, 0, false, start);
    sync_clock(&c, T0);
    assert_int_equal(clock_adjust_at(&c, 500000, T0, NULL), CLOCK_OK);
    /* After one second only 8.3 % of it is absorbed, the rest still pending. */
    int64_t absorbed = clock_read_at(&c, T0 + NS_PER_S) - (start + US_PER_S);
    assert_in_range(absorbed, 82999, 83000);
    struct clock_state s;
    clock_snapshot_at(&c, T0 + NS_PER_S, &s);
    assert_in_range(s.slew_left_us, 500000 - 83001, 500000 - 82999);
    clock_destroy(&c);
}

static void test_new_slew_replaces_pending_slew(void **state)
{
    (void)state;
    const int64_t start = hms(8, 0, 0);
    struct clock c;
    make_clock(&c, 0, false, start);
    sync_clock(&c, T0);
    assert_int_equal(clock_adjust_at(&c, 500000, T0, NULL), CLOCK_OK);
    /* The second delta was measured on the displayed time: it is all that is left to do. */
    assert_int_equal(clock_adjust_at(&c, 100000, T0 + NS_PER_S, NULL), CLOCK_OK);
    int64_t later = T0 + 10 * NS_PER_S;
    assert_in_range(clock_read_at(&c, later) - (start + 10 * US_PER_S), 183000 - 1, 183000 + 1);
    clock_destroy(&c);
}

/* ---- Step or slew ---- */

static void test_first_adjustment_steps_even_if_small(void **state)
{
    (void)state;
    struct clock c;
    make_clock(&c, 0, true, hms(9, 0, 0));
    enum clock_policy p;
    assert_int_equal(clock_adjust_at(&c, 10, T0, &p), CLOCK_OK);
    assert_int_equal(p, CLOCK_POLICY_STEP);
    assert_int_equal(clock_read_at(&c, T0), hms(9, 0, 0) + 10);
    clock_destroy(&c);
}

static void test_adjustment_above_threshold_steps(void **state)
{
    (void)state;
    struct clock c;
    make_clock(&c, 0, true, hms(9, 0, 0));
    sync_clock(&c, T0);
    enum clock_policy p;
    assert_int_equal(clock_adjust_at(&c, -(US_PER_S + 1), T0, &p), CLOCK_OK);
    assert_int_equal(p, CLOCK_POLICY_STEP);
    assert_int_equal(clock_read_at(&c, T0), hms(8, 59, 59) - 1);
    clock_destroy(&c);
}

static void test_adjustment_below_threshold_slews(void **state)
{
    (void)state;
    struct clock c;
    make_clock(&c, 0, true, hms(9, 0, 0));
    sync_clock(&c, T0);
    enum clock_policy p;
    assert_int_equal(clock_adjust_at(&c, -500000, T0, &p), CLOCK_OK);
    assert_int_equal(p, CLOCK_POLICY_SLEW);
    /* A slew changes the rate, not the time shown right now. */
    struct clock_state s;
    clock_snapshot_at(&c, T0, &s);
    assert_int_equal(s.time_us, hms(9, 0, 0));
    assert_true(s.slewing);
    assert_int_equal(s.slew_left_us, -500000);
    clock_destroy(&c);
}

static void test_adjustment_at_threshold_slews(void **state)
{
    (void)state;
    struct clock c;
    make_clock(&c, 0, true, hms(9, 0, 0));
    sync_clock(&c, T0);
    enum clock_policy p;
    assert_int_equal(clock_adjust_at(&c, CLOCK_DEFAULT_STEP_THRESHOLD_US, T0, &p), CLOCK_OK);
    assert_int_equal(p, CLOCK_POLICY_SLEW);
    clock_destroy(&c);
}

/* ---- Range ---- */

static void test_adjust_beyond_half_day_refused(void **state)
{
    (void)state;
    static const int64_t bad[] = {25 * 3600 * US_PER_S, CLOCK_HALF_DAY_US + 1,
                                  -CLOCK_HALF_DAY_US, -25 * 3600 * US_PER_S};
    struct clock c;
    make_clock(&c, 0, true, hms(9, 0, 0));
    struct clock_state before, after;
    clock_snapshot_at(&c, T0, &before);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        enum clock_policy p = CLOCK_POLICY_SLEW;
        assert_int_equal(clock_adjust_at(&c, bad[i], T0, &p), CLOCK_ERR_RANGE);
        assert_int_equal(p, CLOCK_POLICY_NONE);
    }
    clock_snapshot_at(&c, T0, &after);
    assert_state_equal(&before, &after);
    /* Refused adjustments do not count as the first one: the next still steps. */
    enum clock_policy p;
    assert_int_equal(clock_adjust_at(&c, 10, T0, &p), CLOCK_OK);
    assert_int_equal(p, CLOCK_POLICY_STEP);
    clock_destroy(&c);
}

static void test_adjust_of_half_day_accepted(void **state)
{
    (void)state;
    struct clock c;
    make_clock(&c, 0, true, hms(9, 0, 0));
    assert_int_equal(clock_adjust_at(&c, CLOCK_HALF_DAY_US, T0, NULL), CLOCK_OK);
    assert_int_equal(clock_read_at(&c, T0), hms(21, 0, 0));
    clock_destroy(&c);
}

/* ---- Stop, resume, set ---- */

static void test_stopped_clock_shows_frozen_value(void **state)
{
    (void)state;
    struct clock c;
    make_clock(&c, 0, true, hms(9, 0, 0));
    clock_stop_at(&c, T0 + NS_PER_S);
    assert_int_equal(clock_read_at(&c, T0 + 5 * NS_PER_S), hms(9, 0, 1));
    /* A second "Modify" keeps the time the person is looking at. */
    clock_stop_at(&c, T0 + 7 * NS_PER_S);
    struct clock_state s;
    clock_snapshot_at(&c, T0 + 9 * NS_PER_S, &s);
    assert_int_equal(s.time_us, hms(9, 0, 1));
    assert_false(s.running);
    clock_destroy(&c);
}

static void test_adjust_refused_while_stopped(void **state)
{
    (void)state;
    struct clock c;
    make_clock(&c, 0, true, hms(9, 0, 0));
    clock_stop_at(&c, T0);
    struct clock_state before, after;
    clock_snapshot_at(&c, T0 + NS_PER_S, &before);
    enum clock_policy p = CLOCK_POLICY_STEP;
    assert_int_equal(clock_adjust_at(&c, 3 * US_PER_S, T0 + NS_PER_S, &p), CLOCK_ERR_STOPPED);
    assert_int_equal(p, CLOCK_POLICY_NONE);
    clock_snapshot_at(&c, T0 + NS_PER_S, &after);
    assert_state_equal(&before, &after);
    clock_resume_at(&c, T0 + 2 * NS_PER_S);
    assert_int_equal(clock_read_at(&c, T0 + 2 * NS_PER_S), hms(9, 0, 2));
    clock_destroy(&c);
}

static void test_resume_continues_timeline(void **state)
{
    (void)state;
    struct clock c;
    make_clock(&c, 0, true, hms(9, 0, 0));
    clock_stop_at(&c, T0 + NS_PER_S);
    clock_resume_at(&c, T0 + 4 * NS_PER_S);
    /* "Cancel": as if never stopped, so the 3 s spent frozen are not lost. */
    struct clock_state s;
    clock_snapshot_at(&c, T0 + 5 * NS_PER_S, &s);
    assert_int_equal(s.time_us, hms(9, 0, 5));
    assert_true(s.running);
    clock_destroy(&c);
}

static void test_set_runs_from_value(void **state)
{
    (void)state;
    struct clock c;
    make_clock(&c, 0, true, hms(9, 0, 0));
    sync_clock(&c, T0);
    clock_stop_at(&c, T0 + NS_PER_S);
    assert_int_equal(clock_set_at(&c, hms(12, 0, 0), T0 + 30 * NS_PER_S), CLOCK_OK);
    struct clock_state s;
    clock_snapshot_at(&c, T0 + 31 * NS_PER_S, &s);
    assert_int_equal(s.time_us, hms(12, 0, 1));
    assert_true(s.running);
    assert_false(s.synchronised);
    clock_destroy(&c);
}

static void test_adjust_after_set_steps(void **state)
{
    (void)state;
    struct clock c;
    make_clock(&c, 0, true, hms(9, 0, 0));
    sync_clock(&c, T0);
    assert_int_equal(clock_adjust_at(&c, 200000, T0, NULL), CLOCK_OK);
    assert_int_equal(clock_set_at(&c, hms(12, 0, 0), T0 + NS_PER_S), CLOCK_OK);
    enum clock_policy p;
    assert_int_equal(clock_adjust_at(&c, 10, T0 + 11 * NS_PER_S, &p), CLOCK_OK);
    assert_int_equal(p, CLOCK_POLICY_STEP);
    /* The set also dropped the slew that was pending before it. */
    assert_int_equal(clock_read_at(&c, T0 + 20 * NS_PER_S), hms(12, 0, 19) + 10);
    clock_destroy(&c);
}

static void test_set_keeps_frequency_correction(void **state)
{
    (void)state;
    struct clock c;
    make_clock(&c, 100, true, hms(9, 0, 0));
    /* Three exact measurements 10 s apart (a frequency needs three): the clock runs
     * 1000 us fast in 10 s. */
    for (int k = 0; k < 3; k++) {
        struct clock_measurement m = {.delta_us = k == 0 ? 0 : -1000, .bound_us = 5};
        assert_int_equal(clock_correct_at(&c, &m, T0 + k * 10 * NS_PER_S, NULL), CLOCK_OK);
    }
    struct clock_state before, after;
    clock_snapshot_at(&c, T0 + 20 * NS_PER_S, &before);
    assert_true(clock_set_at(&c, hms(12, 0, 0), T0 + 21 * NS_PER_S) == CLOCK_OK);
    clock_snapshot_at(&c, T0 + 21 * NS_PER_S, &after);
    /* The hardware drift did not change because a person moved the hands. */
    assert_true(after.freq_corr_ppm == before.freq_corr_ppm);
    assert_true(fabs(after.freq_corr_ppm + 100) < 0.5);
    clock_destroy(&c);
}

static void test_set_out_of_range_refused(void **state)
{
    (void)state;
    struct clock c;
    make_clock(&c, 0, true, hms(9, 0, 0));
    clock_stop_at(&c, T0);
    assert_int_equal(clock_set_at(&c, -1, T0 + NS_PER_S), CLOCK_ERR_RANGE);
    assert_int_equal(clock_set_at(&c, CLOCK_DAY_US, T0 + NS_PER_S), CLOCK_ERR_RANGE);
    struct clock_state s;
    clock_snapshot_at(&c, T0 + 2 * NS_PER_S, &s);
    assert_false(s.running);
    assert_int_equal(s.time_us, hms(9, 0, 0));
    clock_destroy(&c);
}

/* ---- Snapshot ---- */

static void test_snapshot_reports_state(void **state)
{
    (void)state;
    struct clock c;
    make_clock(&c, 42, false, hms(9, 0, 0));
    struct clock_state s;
    clock_snapshot_at(&c, T0, &s);
    assert_false(s.synchronised);
    assert_int_equal(s.adjustments, 0);
    assert_int_equal(s.last_policy, CLOCK_POLICY_NONE);
    assert_int_equal(clock_adjust_at(&c, 5, T0, NULL), CLOCK_OK);
    assert_int_equal(clock_adjust_at(&c, -300000, T0 + NS_PER_S, NULL), CLOCK_OK);
    clock_snapshot_at(&c, T0 + NS_PER_S, &s);
    assert_in_range(s.time_us, hms(9, 0, 1) + 5 + 42 - 1, hms(9, 0, 1) + 5 + 42);
    assert_true(s.running);
    assert_true(s.synchronised);
    assert_true(s.slewing);
    assert_true(s.drift_ppm == 42.0);
    assert_int_equal(s.slew_left_us, -300000);
    assert_int_equal(s.adjustments, 2);
    assert_int_equal(s.last_policy, CLOCK_POLICY_SLEW);
    assert_int_equal(s.last_delta_us, -300000);
    clock_snapshot_at(&c, T0 + 5 * NS_PER_S, &s); /* 300 ms / 8.3 % = 3.6 s */
    assert_false(s.slewing);
    assert_int_equal(s.slew_left_us, 0);
    clock_destroy(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_negative_slew_never_runs_backwards),
        cmocka_unit_test(test_slew_absorbed_at_max_rate),
        cmocka_unit_test(test_new_slew_replaces_pending_slew),
        cmocka_unit_test(test_first_adjustment_steps_even_if_small),
        cmocka_unit_test(test_adjustment_above_threshold_steps),
        cmocka_unit_test(test_adjustment_below_threshold_slews),
        cmocka_unit_test(test_adjustment_at_threshold_slews),
        cmocka_unit_test(test_adjust_beyond_half_day_refused),
        cmocka_unit_test(test_adjust_of_half_day_accepted),
        cmocka_unit_test(test_stopped_clock_shows_frozen_value),
        cmocka_unit_test(test_adjust_refused_while_stopped),
        cmocka_unit_test(test_resume_continues_timeline),
        cmocka_unit_test(test_set_runs_from_value),
        cmocka_unit_test(test_adjust_after_set_steps),
        cmocka_unit_test(test_set_keeps_frequency_correction),
        cmocka_unit_test(test_set_out_of_range_refused),
        cmocka_unit_test(test_snapshot_reports_state),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
