/* Unit tests for common/clock.c. Every expectation is worked out from the clock model
 * (DESIGN.md section 3): t = base + dt * (1 + drift + freq_corr) + bounded slew. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"

#define US_PER_S INT64_C(1000000)
#define NS_PER_US INT64_C(1000)
#define NS_PER_MS INT64_C(1000000)
#define NS_PER_S INT64_C(1000000000)
/* A non-zero monotonic origin: 0 means "no adjustment yet" in last_adjust_ns. */
#define T0 (1000 * NS_PER_S)

static int64_t hms(int h, int m, int s)
{
    return ((int64_t)h * 3600 + m * 60 + s) * US_PER_S;
}

static void make_clock(struct clock *c, double drift_ppm, bool freq, int64_t start_us)
{
    struct clock_config cfg;
    clock_config_default(&cfg);
    cfg.drift_ppm = drift_ppm;
    cfg.freq_correction = freq;
    clock_init_at(c, &cfg, start_us, T0);
}

/* The first adjustment always steps; a zero step synchronises without moving the clock. */
static void sync_clock(struct clock *c, int64_t mono_ns)
{
    enum clock_policy p;
    assert_int_equal(clock_adjust_at(c, 0, mono_ns, &p), CLOCK_OK);
    assert_int_equal(p, CLOCK_POLICY_STEP);
}

static void assert_state_equal(const struct clock_state *a, const struct clock_state *b)
{
    assert_int_equal(a->time_us, b->time_us);
    assert_int_equal(a->running, b->running);
    assert_int_equal(a->synchronised, b->synchronised);
    assert_int_equal(a->slew_left_us, b->slew_left_us);
    assert_int_equal(a->adjustments, b->adjustments);
    assert_int_equal(a->last_policy, b->last_policy);
    assert_int_equal(a->last_delta_us, b->last_delta_us);
    assert_true(a->freq_corr_ppm == b->freq_corr_ppm);
}

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
    sync_clock(&c, T0);
    assert_int_equal(clock_adjust_at(&c, -1000, T0 + 10 * NS_PER_S, NULL), CLOCK_OK);
    struct clock_state before, after;
    clock_snapshot_at(&c, T0 + 10 * NS_PER_S, &before);
    assert_true(clock_set_at(&c, hms(12, 0, 0), T0 + 11 * NS_PER_S) == CLOCK_OK);
    clock_snapshot_at(&c, T0 + 11 * NS_PER_S, &after);
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

/* ---- Frequency correction ---- */

/* A perfect reference: hms(10,0,0) at T0, ticking exactly with the monotonic clock. */
static int64_t reference_at(int64_t mono_ns)
{
    return clock_wrap_time(hms(10, 0, 0) + (mono_ns - T0) / NS_PER_US);
}

static int64_t offset_at(struct clock *c, int64_t mono_ns)
{
    return clock_wrap_delta(reference_at(mono_ns) - clock_read_at(c, mono_ns));
}

/* Adjusts by the exact offset every 10 s, as a coordinator with zero RTT would. */
static void run_rounds(struct clock *c, int rounds)
{
    for (int k = 1; k <= rounds; k++) {
        int64_t now = T0 + k * 10 * NS_PER_S;
        assert_int_equal(clock_adjust_at(c, offset_at(c, now), now, NULL), CLOCK_OK);
    }
}

static void test_freq_correction_converges_on_drift(void **state)
{
    (void)state;
    struct clock c;
    make_clock(&c, 150, true, hms(9, 59, 57));
    run_rounds(&c, 4);
    struct clock_state s;
    clock_snapshot_at(&c, T0 + 40 * NS_PER_S, &s);
    assert_true(fabs(s.freq_corr_ppm + 150) < 1.0);
    /* Between rounds, not just right after one, the clock now stays close. */
    assert_true(llabs(offset_at(&c, T0 + 50 * NS_PER_S)) < 20);
    clock_destroy(&c);
}

static void test_without_freq_correction_offset_regrows(void **state)
{
    (void)state;
    struct clock c;
    make_clock(&c, 150, false, hms(9, 59, 57));
    run_rounds(&c, 3);
    /* A clock 150 ppm fast is 1500 us ahead 10 s after every correction. */
    assert_in_range(-offset_at(&c, T0 + 40 * NS_PER_S), 1498, 1502);
    struct clock_state s;
    clock_snapshot_at(&c, T0 + 40 * NS_PER_S, &s);
    assert_true(s.freq_corr_ppm == 0.0);
    clock_destroy(&c);
}

static void test_freq_update_uses_half_gain_after_first(void **state)
{
    (void)state;
    struct clock c;
    make_clock(&c, 100, true, hms(9, 59, 57));
    run_rounds(&c, 2); /* a step, then a first estimate of -100 ppm at full gain */
    /* The reference jumps 200 us ahead: over 10 s that reads as a 20 ppm rate error, of
     * which half is taken. */
    int64_t now = T0 + 30 * NS_PER_S;
    assert_int_equal(clock_adjust_at(&c, offset_at(&c, now) + 200, now, NULL), CLOCK_OK);
    struct clock_state s;
    clock_snapshot_at(&c, now, &s);
    assert_true(fabs(s.freq_corr_ppm - (-100 + 10)) < 0.3);
    clock_destroy(&c);
}

static void test_freq_correction_clamped(void **state)
{
    (void)state;
    struct clock c;
    make_clock(&c, 5000, true, hms(9, 59, 57));
    run_rounds(&c, 2); /* 5000 ppm: 50 ms in 10 s, still a slew */
    struct clock_state s;
    clock_snapshot_at(&c, T0 + 20 * NS_PER_S, &s);
    assert_int_equal(s.last_policy, CLOCK_POLICY_SLEW);
    assert_true(fabs(s.freq_corr_ppm + CLOCK_MAX_FREQ_CORR_PPM) < 1e-6);
    clock_destroy(&c);
}

static void test_freq_ignores_pending_slew(void **state)
{
    (void)state;
    const int64_t start = hms(9, 0, 0);
    struct clock c;
    make_clock(&c, 0, true, start);
    sync_clock(&c, T0);
    /* Too soon after the step for a rate estimate. */
    assert_int_equal(clock_adjust_at(&c, -100000, T0 + 100 * NS_PER_MS, NULL), CLOCK_OK);
    /* 0.6 s later, 49.8 ms of it absorbed: the reference still sees the rest, which is
     * not a rate error. */
    int64_t now = T0 + 700 * NS_PER_MS;
    int64_t truth = start + 700000 - 100000;
    assert_int_equal(clock_adjust_at(&c, truth - clock_read_at(&c, now), now, NULL), CLOCK_OK);
    struct clock_state s;
    clock_snapshot_at(&c, now, &s);
    assert_true(fabs(s.freq_corr_ppm) < 5.0);
    clock_destroy(&c);
}

static void test_freq_skipped_for_short_interval(void **state)
{
    (void)state;
    struct clock c;
    make_clock(&c, 0, true, hms(9, 0, 0));
    sync_clock(&c, T0);
    assert_int_equal(clock_adjust_at(&c, -1000, T0 + 400 * NS_PER_MS, NULL), CLOCK_OK);
    struct clock_state s;
    clock_snapshot_at(&c, T0 + 400 * NS_PER_MS, &s);
    assert_true(s.freq_corr_ppm == 0.0);
    clock_destroy(&c);
}

static void test_freq_not_updated_by_step(void **state)
{
    (void)state;
    struct clock c;
    make_clock(&c, 0, true, hms(9, 0, 0));
    sync_clock(&c, T0);
    enum clock_policy p;
    assert_int_equal(clock_adjust_at(&c, 2 * US_PER_S, T0 + 10 * NS_PER_S, &p), CLOCK_OK);
    assert_int_equal(p, CLOCK_POLICY_STEP);
    struct clock_state s;
    clock_snapshot_at(&c, T0 + 10 * NS_PER_S, &s);
    assert_true(s.freq_corr_ppm == 0.0);
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

/* ---- Real time and threads ---- */

static void test_mono_ns_advances(void **state)
{
    (void)state;
    int64_t a = clock_mono_ns();
    int64_t b = clock_mono_ns();
    assert_true(a > 0);
    assert_true(b >= a);
}

static void test_plain_variants_follow_monotonic_time(void **state)
{
    (void)state;
    struct clock c;
    clock_init(&c, NULL, hms(9, 0, 0));
    int64_t t = clock_read(&c);
    assert_in_range(t, hms(9, 0, 0), hms(9, 0, 1));
    assert_int_equal(clock_adjust(&c, US_PER_S, NULL), CLOCK_OK);
    clock_stop(&c);
    struct clock_state s;
    clock_snapshot(&c, &s);
    assert_false(s.running);
    assert_in_range(s.time_us, hms(9, 0, 1), hms(9, 0, 2));
    clock_resume(&c);
    assert_int_equal(clock_set(&c, hms(3, 0, 0)), CLOCK_OK);
    assert_in_range(clock_read(&c), hms(3, 0, 0), hms(3, 0, 1));
    clock_destroy(&c);
}

#define THREADS 4
#define ADJUSTS_PER_THREAD 2000

static void *adjust_many(void *arg)
{
    struct clock *c = arg;
    struct clock_state s;
    for (int i = 0; i < ADJUSTS_PER_THREAD; i++) {
        clock_adjust(c, (i % 2) ? 10 : -10, NULL);
        clock_snapshot(c, &s);
    }
    return NULL;
}

static void test_concurrent_adjustments_all_counted(void **state)
{
    (void)state;
    struct clock c;
    clock_init(&c, NULL, hms(9, 0, 0));
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, adjust_many, &c), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    struct clock_state s;
    clock_snapshot(&c, &s);
    assert_int_equal(s.adjustments, THREADS * ADJUSTS_PER_THREAD);
    clock_destroy(&c);
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
        cmocka_unit_test(test_freq_correction_converges_on_drift),
        cmocka_unit_test(test_without_freq_correction_offset_regrows),
        cmocka_unit_test(test_freq_update_uses_half_gain_after_first),
        cmocka_unit_test(test_freq_correction_clamped),
        cmocka_unit_test(test_freq_ignores_pending_slew),
        cmocka_unit_test(test_freq_skipped_for_short_interval),
        cmocka_unit_test(test_freq_not_updated_by_step),
        cmocka_unit_test(test_snapshot_reports_state),
        cmocka_unit_test(test_random_drift_magnitude_and_sign),
        cmocka_unit_test(test_random_time_of_day_covers_day),
        cmocka_unit_test(test_format_plain_and_micro),
        cmocka_unit_test(test_parse_format_round_trip),
        cmocka_unit_test(test_parse_fraction_and_plain),
        cmocka_unit_test(test_parse_rejects_out_of_range),
        cmocka_unit_test(test_parse_rejects_malformed),
        cmocka_unit_test(test_policy_names),
        cmocka_unit_test(test_mono_ns_advances),
        cmocka_unit_test(test_plain_variants_follow_monotonic_time),
        cmocka_unit_test(test_concurrent_adjustments_all_counted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
