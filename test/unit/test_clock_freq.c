/* Unit tests for common/clock.c: the frequency correction estimated from successive
 * adjustments, and the real-time variants, also from several threads. */
#include "clock_fixture.h"

#include <pthread.h>

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
        cmocka_unit_test(test_freq_correction_converges_on_drift),
        cmocka_unit_test(test_without_freq_correction_offset_regrows),
        cmocka_unit_test(test_freq_update_uses_half_gain_after_first),
        cmocka_unit_test(test_freq_correction_clamped),
        cmocka_unit_test(test_freq_ignores_pending_slew),
        cmocka_unit_test(test_freq_skipped_for_short_interval),
        cmocka_unit_test(test_freq_not_updated_by_step),
        cmocka_unit_test(test_mono_ns_advances),
        cmocka_unit_test(test_plain_variants_follow_monotonic_time),
        cmocka_unit_test(test_concurrent_adjustments_all_counted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
