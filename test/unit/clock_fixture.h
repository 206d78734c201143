/* Shared fixture for the common/clock.c unit tests (test_clock_*.c). Every expectation is
 * worked out from the clock model (DESIGN.md section 3):
 * t = base + dt * (1 + drift + freq_corr) + bounded slew.
 * Each test file is its own binary, so everything here is static inline. */
#ifndef CLOCK_FIXTURE_H
#define CLOCK_FIXTURE_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"

#define US_PER_S INT64_C(1000000)
#define NS_PER_US INT64_C(1000)
#define NS_PER_MS INT64_C(1000000)
#define NS_PER_S INT64_C(1000000000)
/* A non-zero monotonic origin: 0 means "no adjustment yet" in last_adjust_ns. */
#define T0 (1000 * NS_PER_S)

static inline int64_t hms(int h, int m, int s)
{
    return ((int64_t)h * 3600 + m * 60 + s) * US_PER_S;
}

static inline void make_clock(struct clock *c, double drift_ppm, bool freq, int64_t start_us)
{
    struct clock_config cfg;
    clock_config_default(&cfg);
    cfg.drift_ppm = drift_ppm;
    cfg.freq_correction = freq;
    clock_init_at(c, &cfg, start_us, T0);
}

/* The first adjustment always steps; a zero step synchronises without moving the clock. */
static inline void sync_clock(struct clock *c, int64_t mono_ns)
{
    enum clock_policy p;
    assert_int_equal(clock_adjust_at(c, 0, mono_ns, &p), CLOCK_OK);
    assert_int_equal(p, CLOCK_POLICY_STEP);
}

static inline void assert_state_equal(const struct clock_state *a, const struct clock_state *b)
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

#endif
