/* Unit tests for common/clock.c with common/discipline.c: what a clock does with
 * measurements (frequency, noise, moves of the reference, its claimed bound), and the
 * real-time variants, also from several threads. */
#include "clock_fixture.h"

#include <pthread.h>

/* ---- Frequency correction (the discipline, common/discipline.c) ---- */

/* A perfect reference: hms(10,0,0) at T0, ticking exactly with the monotonic clock. */
static int64_t reference_at(int64_t mono_ns)
{
    return clock_wrap_time(hms(10, 0, 0) + (mono_ns - T0) / NS_PER_US);
}

static int64_t offset_at(struct clock *c, int64_t mono_ns)
{
    return clock_wrap_delta(reference_at(mono_ns) - clock_read_at(c, mono_ns));
}

/* A measurement of the offset now, off by noise_us, claiming bound_us. */
static enum clock_error measure(struct clock *c, int64_t now, int64_t noise_us, int64_t bound_us,
                                struct clock_correction *out)
{
    struct clock_measurement m = {.delta_us = offset_at(c, now) + noise_us, .bound_us = bound_us};
    return clock_correct_at(c, &m, now, out);
}

/* Deterministic noise, uniform in [-amp, amp]. */
static int64_t noise(uint64_t *seed, int64_t amp)
{
    *seed = *seed * 6364136223846793005ULL + 1442695040888963407ULL;
    return (int64_t)((*seed >> 33) % (uint64_t)(2 * amp + 1)) - amp;
}

/* Exact measurements every 10 s, as a coordinator with zero RTT would give. */
static void run_rounds(struct clock *c, int rounds)
{
    for (int k = 1; k <= rounds; k++)
        assert_int_equal(measure(c, T0 + k * 10 * NS_PER_S, 0, 5, NULL), CLOCK_OK);
}

static void test_freq_correction_converges_on_drift(void **state)
{
    (void)state;
    struct clock c;
    make_clock(&c, 150, true, hms(9, 59, 57));
    run_rounds(&c, 4);
    struct clock_state s;
    clock_snapshot_at(&c, T0 + 40 * NS_PER_S, &s);
    assert_true(fabs(s.freq_corr_ppm + 150) < 0.5);
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
    assert_in_range(-offset_at(&c, T0 + 40 * NS_PER_S), 1495, 1505);
    struct clock_state s;
    clock_snapshot_at(&c, T0 + 40 * NS_PER_S, &s);
    assert_true(s.freq_corr_ppm == 0.0);
    clock_destroy(&c);
}

/* Taking the rate from two successive noisy deltas swings it by 2 * noise / TM
 * (+/-10 ppm here); the line through many rounds does not. */
static void test_jitter_does_not_swing_the_frequency(void **state)
{
    (void)state;
    struct clock c;
    make_clock(&c, -116, true, hms(9, 59, 57));
    uint64_t seed = 42;
    double lo = 1e9, hi = -1e9;
    for (int k = 1; k <= 30; k++) {
        struct clock_correction corr;
        assert_int_equal(measure(&c, T0 + k * 10 * NS_PER_S, noise(&seed, 50), 60, &corr), CLOCK_OK);
        if (k >= 10) {
            lo = fmin(lo, corr.freq_corr_ppm);
            hi = fmax(hi, corr.freq_corr_ppm);
        }
    }
    assert_true(lo > 116 - 3 && hi < 116 + 3);
    assert_true(hi - lo < 3);
    /* and the offset between rounds stays within the noise, not the drift. */
    assert_true(llabs(offset_at(&c, T0 + 305 * NS_PER_S)) < 40);
    clock_destroy(&c);
}

/* A measurement far from the line but honest about it (a spike: large bound) moves the
 * clock by a little, not by what it measured. */
static void test_wide_measurement_moves_clock_little(void **state)
{
    (void)state;
    struct clock c;
    make_clock(&c, 50, true, hms(9, 59, 57));
    uint64_t seed = 7;
    for (int k = 1; k <= 12; k++)
        assert_int_equal(measure(&c, T0 + k * 10 * NS_PER_S, noise(&seed, 5), 10, NULL), CLOCK_OK);
    struct clock_correction corr;
    int64_t now = T0 + 130 * NS_PER_S;
    assert_int_equal(measure(&c, now, 3000, 4000, &corr), CLOCK_OK);
    assert_false(corr.reset);
    assert_true(llabs(corr.applied_us) < 100);
    assert_true(llabs(offset_at(&c, now + NS_PER_S)) < 100);
    clock_destroy(&c);
}

/* A measurement that contradicts both the clock's claim and its own bound means the
 * reference moved: the history goes and the clock follows at once. */
static void test_reference_move_resets_and_is_followed(void **state)
{
    (void)state;
    struct clock c;
    make_clock(&c, 50, true, hms(9, 59, 57));
    run_rounds(&c, 8);
    struct clock_correction corr;
    struct clock_measurement m = {.delta_us = offset_at(&c, T0 + 90 * NS_PER_S) + 5000, .bound_us = 10};
    assert_int_equal(clock_correct_at(&c, &m, T0 + 90 * NS_PER_S, &corr), CLOCK_OK);
    assert_true(corr.reset);
    assert_int_equal(corr.samples, 1);
    assert_in_range(corr.applied_us, 4990, 5010);
    /* The frequency learnt before the move stays. */
    assert_true(fabs(corr.freq_corr_ppm + 50) < 0.5);
    clock_destroy(&c);
}

static void test_freq_correction_clamped(void **state)
{
    (void)state;
    struct clock c;
    make_clock(&c, 1500, true, hms(9, 59, 57));
    run_rounds(&c, 3); /* 1500 ppm: 15 ms in 10 s, still a slew */
    struct clock_state s;
    clock_snapshot_at(&c, T0 + 30 * NS_PER_S, &s);
    assert_int_equal(s.last_policy, CLOCK_POLICY_SLEW);
    assert_true(fabs(s.freq_corr_ppm + CLOCK_MAX_FREQ_CORR_PPM) < 1e-6);
    /* It still drifts by what the limit cuts off (500 ppm), and its claim says so. */
    struct clock_state later;
    clock_snapshot_at(&c, T0 + 40 * NS_PER_S, &later);
    int64_t off = llabs(offset_at(&c, T0 + 40 * NS_PER_S));
    assert_true(off > 4000);
    assert_true(off <= later.error_bound_us);
    clock_destroy(&c);
}

static void test_claimed_bound_starts_at_measurement_and_grows(void **state)
{
    (void)state;
    struct clock c;
    make_clock(&c, 80, true, hms(9, 59, 57));
    run_rounds(&c, 6);
    struct clock_state now, later;
    clock_snapshot_at(&c, T0 + 60 * NS_PER_S + NS_PER_MS, &now);
    clock_snapshot_at(&c, T0 + 70 * NS_PER_S, &later);
    assert_in_range(now.error_bound_us, 5, 8);
    assert_true(later.error_bound_us > now.error_bound_us);
    /* ... and it holds. */
    assert_true(llabs(offset_at(&c, T0 + 70 * NS_PER_S)) <= later.error_bound_us);
    clock_destroy(&c);
}

/* A command (clockctl adjust) moves the clock whole, keeps the frequency, drops the
 * claim: nobody measured where it now is. */
static void test_command_keeps_frequency_drops_claim(void **state)
{
    (void)state;
    struct clock c;
    make_clock(&c, 80, true, hms(9, 59, 57));
    run_rounds(&c, 5);
    enum clock_policy p;
    assert_int_equal(clock_adjust_at(&c, 3 * US_PER_S, T0 + 55 * NS_PER_S, &p), CLOCK_OK);
    assert_int_equal(p, CLOCK_POLICY_STEP);
    struct clock_state s;
    clock_snapshot_at(&c, T0 + 55 * NS_PER_S, &s);
    assert_true(fabs(s.freq_corr_ppm + 80) < 0.5);
    assert_int_equal(s.error_bound_us, -1);
    /* The next measurement takes it back: the history is about the oscillator. */
    struct clock_correction corr;
    assert_int_equal(measure(&c, T0 + 60 * NS_PER_S, 0, 5, &corr), CLOCK_OK);
    assert_false(corr.reset);
    assert_true(llabs(offset_at(&c, T0 + 60 * NS_PER_S)) < 5);
    clock_destroy(&c);
}

/* The reference is slewing 2 s in: this clock slews along and does not step ahead. */
static void test_reference_slew_is_followed_not_stepped(void **state)
{
    (void)state;
    struct clock c;
    make_clock(&c, 0, true, hms(9, 59, 57));
    run_rounds(&c, 3);
    int64_t now = T0 + 40 * NS_PER_S;
    struct clock_measurement m = {.delta_us = offset_at(&c, now) + 2 * US_PER_S, .bound_us = 5,
                                  .ref = {.slew_us = 2 * US_PER_S}};
    struct clock_correction corr;
    assert_int_equal(clock_correct_at(&c, &m, now, &corr), CLOCK_OK);
    assert_int_equal(corr.policy, CLOCK_POLICY_SLEW);
    /* One second later it has slewed 8.3 % of it, as its reference did. */
    assert_in_range(-offset_at(&c, now + NS_PER_S), 83000 - 10, 83000 + 10);
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
        cmocka_unit_test(test_jitter_does_not_swing_the_frequency),
        cmocka_unit_test(test_wide_measurement_moves_clock_little),
        cmocka_unit_test(test_reference_move_resets_and_is_followed),
        cmocka_unit_test(test_freq_correction_clamped),
        cmocka_unit_test(test_claimed_bound_starts_at_measurement_and_grows),
        cmocka_unit_test(test_command_keeps_frequency_drops_claim),
        cmocka_unit_test(test_reference_slew_is_followed_not_stepped),
        cmocka_unit_test(test_mono_ns_advances),
        cmocka_unit_test(test_plain_variants_follow_monotonic_time),
        cmocka_unit_test(test_concurrent_adjustments_all_counted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
