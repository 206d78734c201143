/* Unit tests for a round of probes: cristian_combine (intersection of the probes'
 * intervals, its bound), probe_round (how many probes), and regress (the line the
 * discipline fits: slope, outliers, the runs test). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "cristian.h"
#include "probe.h"
#include "regress.h"

#define NS_PER_US INT64_C(1000)
#define DAY CLOCK_DAY_US

/* A probe sent at send_us (local clock = monotonic) whose request took up_us and reply
 * down_us; the remote clock is offset_us ahead. */
static struct cristian_probe exchange(int64_t send_us, int64_t up_us, int64_t down_us,
                                      int64_t offset_us)
{
    return (struct cristian_probe){
        .ok = true,
        .send_ns = send_us * NS_PER_US,
        .recv_ns = (send_us + up_us + down_us) * NS_PER_US,
        .remote_us = clock_wrap_time(send_us + up_us + offset_us),
        .local_send_us = clock_wrap_time(send_us),
        .local_recv_us = clock_wrap_time(send_us + up_us + down_us),
    };
}

static uint64_t lcg(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return *s >> 33;
}

/* The request went out fast in one probe, the reply came back fast in another: the
 * intersection uses both, so it beats the best single probe. */
static void test_combine_uses_each_direction_best(void **state)
{
    (void)state;
    const int64_t t = 36000000000, off = 1234;
    struct cristian_probe p[3] = {
        exchange(t, 4000, 6000, off),           /* fast request, slow reply */
        exchange(t + 20000, 6000, 4000, off),   /* slow request, fast reply */
        exchange(t + 40000, 5500, 5500, off),   /* neither */
    };
    struct cristian_round r;
    assert_int_equal(cristian_combine(p, 3, &r), 0);
    assert_true(llabs(r.offset_us - off) <= 1);
    /* Every single probe claims +/-5 ms; together +/-4 ms (plus the drift allowance). */
    assert_in_range(r.error_bound_us, 4000, 4100);
    assert_int_equal(r.probes, 3);
}

static void test_combine_spike_does_not_move_estimate(void **state)
{
    (void)state;
    const int64_t t = 1000000, off = -777;
    struct cristian_probe p[4] = {
        exchange(t, 100, 100, off), exchange(t + 1000, 100, 100, off),
        exchange(t + 2000, 50000, 100, off), exchange(t + 60000, 100, 50000, off)};
    struct cristian_round a, b;
    assert_int_equal(cristian_combine(p, 2, &a), 0);
    assert_int_equal(cristian_combine(p, 4, &b), 0);
    assert_int_equal(a.offset_us, b.offset_us);
    assert_true(llabs(b.offset_us - off) <= 1);
}

/* Random delays, a random offset, clocks drifting apart within the allowed rate: the
 * bound always holds. */
static void test_combine_bound_always_holds(void **state)
{
    (void)state;
    uint64_t seed = 99;
    for (int trial = 0; trial < 2000; trial++) {
        int64_t off = (int64_t)(lcg(&seed) % 2000000) - 1000000;
        /* Any rate difference up to the allowance itself. */
        double rate = ((double)(lcg(&seed) % 8001) - 4000) * 1e-6;
        int n = 1 + (int)(lcg(&seed) % 32);
        int64_t t0 = (int64_t)(lcg(&seed) % (uint64_t)DAY), t = t0;
        struct cristian_probe p[32];
        for (int i = 0; i < n; i++) {
            int64_t up = 50 + (int64_t)(lcg(&seed) % 5000), down = 50 + (int64_t)(lcg(&seed) % 5000);
            p[i] = exchange(t, up, down, off + (int64_t)(rate * (double)(t - t0 + up)));
            t += up + down + (int64_t)(lcg(&seed) % 100);
        }
        struct cristian_round r;
        assert_int_equal(cristian_combine(p, (size_t)n, &r), 0);
        const struct cristian_probe *b = &p[r.best];
        int64_t truth = off + (int64_t)(rate * (double)(b->recv_ns / NS_PER_US - t0));
        assert_true(llabs(clock_wrap_delta(r.offset_us - truth)) <= r.error_bound_us + 1);
    }
}

static void test_combine_across_midnight(void **state)
{
    (void)state;
    struct cristian_probe p[2] = {exchange(DAY - 3000, 1000, 1200, 500),
                                  exchange(DAY - 500, 1100, 1000, 500)};
    struct cristian_round r;
    assert_int_equal(cristian_combine(p, 2, &r), 0);
    assert_true(llabs(r.offset_us - 500) <= 100);
    assert_true(r.remote_at_recv_us >= 0 && r.remote_at_recv_us < DAY);
}

/* The remote clock stepped between two probes: the intervals do not meet; the best
 * probe alone answers, with a bound that is never negative. */
static void test_combine_remote_jump_falls_back(void **state)
{
    (void)state;
    struct cristian_probe p[2] = {exchange(1000000, 100, 100, 0), exchange(1010000, 120, 120, 500000)};
    struct cristian_round r;
    assert_int_equal(cristian_combine(p, 2, &r), 0);
    assert_int_equal(r.probes, 1);
    assert_true(r.error_bound_us >= 100 && r.error_bound_us < 200);
    assert_true(llabs(r.offset_us) <= 1);
}

/* The local clock was set back by hand during a probe: that probe is not used. */
static void test_combine_ignores_local_clock_set_back(void **state)
{
    (void)state;
    struct cristian_probe p[2] = {exchange(1000000, 50, 50, 700), exchange(1010000, 200, 200, 700)};
    p[0].local_recv_us = p[0].local_send_us - 3600000000LL;
    struct cristian_round r;
    assert_int_equal(cristian_combine(p, 2, &r), 0);
    assert_int_equal(r.best, 1);
    assert_int_equal(r.probes, 1);
    assert_true(r.error_bound_us >= 0);
    assert_true(llabs(r.offset_us - 700) <= 1);
    p[1].local_recv_us = p[1].local_send_us - 10;
    assert_int_equal(cristian_combine(p, 2, &r), -1);
}

/* ---- probe_round ---- */

struct fake_link {
    int64_t now_us;
    int64_t jitter_us;
    int calls;
    int fail_at, fail_from;
    int last_timeout_ms;
};

static int fake_call(void *ctx, int i, int timeout_ms, struct cristian_probe *p, char *err,
                     size_t errlen)
{
    struct fake_link *l = ctx;
    l->calls++;
    l->last_timeout_ms = timeout_ms;
    if (i == l->fail_at || (l->fail_from > 0 && i >= l->fail_from)) {
        snprintf(err, errlen, "timed out");
        p->send_ns = l->now_us * NS_PER_US;
        l->now_us += (int64_t)timeout_ms * 1000;
        return -1;
    }
    /* Alternating round trips: 20 us, 20 + jitter. */
    int64_t up = 10 + (i % 2 ? l->jitter_us : 0), down = 10;
    p->send_ns = l->now_us * NS_PER_US;
    p->remote_us = l->now_us + up;
    l->now_us += up + down;
    p->recv_ns = l->now_us * NS_PER_US;
    l->now_us += 5;
    return 0;
}

static void test_probe_round_steady_link_uses_min(void **state)
{
    (void)state;
    struct probe_plan plan;
    probe_plan_default(&plan, 4, 0, 500);
    struct fake_link l = {.now_us = 1000, .jitter_us = 10, .fail_at = -1, .fail_from = -1};
    struct cristian_probe probes[CRISTIAN_MAX_PROBES];
    struct probe_result r;
    char err[64];
    assert_int_equal(probe_round(&plan, NULL, fake_call, &l, probes, &r, err, sizeof err), 0);
    assert_int_equal(r.answered, 4);
}

static void test_probe_round_jitter_uses_max(void **state)
{
    (void)state;
    struct probe_plan plan;
    probe_plan_default(&plan, 4, 0, 500);
    struct fake_link l = {.now_us = 1000, .jitter_us = 500, .fail_at = -1, .fail_from = -1};
    struct cristian_probe probes[CRISTIAN_MAX_PROBES];
    struct probe_result r;
    char err[64];
    assert_int_equal(probe_round(&plan, NULL, fake_call, &l, probes, &r, err, sizeof err), 0);
    assert_int_equal(r.answered, PROBE_DEFAULT_MAX);
    /* ... but not past the budget. */
    plan.budget_ns = 2000 * NS_PER_US;
    l = (struct fake_link){.now_us = 1000, .jitter_us = 500, .fail_at = -1, .fail_from = -1};
    assert_int_equal(probe_round(&plan, NULL, fake_call, &l, probes, &r, err, sizeof err), 0);
    assert_true(r.answered < 10);
}

/* A lost probe costs a short wait and the round goes on; the first failing means the
 * peer is unreachable; three lost in a row end the round with what answered. */
static void test_probe_round_losses(void **state)
{
    (void)state;
    struct probe_plan plan;
    probe_plan_default(&plan, 4, 0, 500);
    struct fake_link l = {.now_us = 1000, .fail_at = 2, .fail_from = -1};
    struct cristian_probe probes[CRISTIAN_MAX_PROBES];
    struct probe_result r;
    char err[64];
    assert_int_equal(probe_round(&plan, NULL, fake_call, &l, probes, &r, err, sizeof err), 0);
    assert_int_equal(r.answered, 4);
    assert_int_equal(r.lost, 1);
    assert_int_equal(l.calls, 5);
    assert_int_equal(l.last_timeout_ms, PROBE_LOST_FLOOR_MS);
    l = (struct fake_link){.now_us = 1000, .fail_at = 0, .fail_from = -1};
    assert_int_equal(probe_round(&plan, NULL, fake_call, &l, probes, &r, err, sizeof err), -1);
    assert_string_equal(err, "timed out");
    assert_int_equal(l.calls, 1);
    assert_int_equal(l.last_timeout_ms, 500);
    l = (struct fake_link){.now_us = 1000, .fail_at = -1, .fail_from = 2};
    assert_int_equal(probe_round(&plan, NULL, fake_call, &l, probes, &r, err, sizeof err), 0);
    assert_int_equal(r.answered, 2);
    assert_int_equal(l.calls, 2 + PROBE_LOST_IN_A_ROW);
}

/* ---- regress ---- */

static void test_regress_recovers_line(void **state)
{
    (void)state;
    struct regress_point p[20];
    for (int i = 0; i < 20; i++)
        p[i] = (struct regress_point){.x = i - 19.0, .y = 50 + 3.0 * (i - 19.0), .sigma = 1};
    struct regress_fit f;
    assert_int_equal(regress_fit(p, 20, 4, NULL, &f), 20);
    assert_true(fabs(f.a - 50) < 1e-9 && fabs(f.b - 3) < 1e-9);
    double fixed = 1.0;
    regress_fit(p, 20, 4, &fixed, &f);
    assert_false(f.have_slope);
    assert_true(f.b == 1.0);
}

static void test_regress_rejects_outlier(void **state)
{
    (void)state;
    struct regress_point p[16];
    uint64_t seed = 5;
    for (int i = 0; i < 16; i++)
        p[i] = (struct regress_point){.x = i, .y = 2.0 * i + (double)(lcg(&seed) % 5) - 2, .sigma = 1};
    p[7].y += 400;
    struct regress_fit f;
    regress_fit(p, 16, 4, NULL, &f);
    assert_true(f.outlier[7]);
    assert_int_equal(f.used, 15);
    assert_true(fabs(f.b - 2.0) < 0.3);
}

/* The slope changed halfway: the runs test drops the old half. */
static void test_regress_runs_test_trims_old_points(void **state)
{
    (void)state;
    struct regress_point p[32];
    uint64_t seed = 11;
    for (int i = 0; i < 32; i++) {
        double x = i - 31.0;
        double y = i < 16 ? 10.0 * (x + 16) : 0.0;
        p[i] = (struct regress_point){.x = x, .y = y + ((double)(lcg(&seed) % 3) - 1) * 0.1, .sigma = 1};
    }
    struct regress_fit f;
    regress_fit(p, 32, 4, NULL, &f);
    assert_true(f.first >= 12);
    assert_true(fabs(f.b) < 0.5);
    bool alternate[10] = {1, 0, 1, 0, 1, 0, 1, 0, 1, 0}, block[10] = {1, 1, 1, 1, 1, 0, 0, 0, 0, 0};
    assert_false(regress_too_few_runs(alternate, 10));
    assert_true(regress_too_few_runs(block, 10));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_combine_uses_each_direction_best),
        cmocka_unit_test(test_combine_spike_does_not_move_estimate),
        cmocka_unit_test(test_combine_bound_always_holds),
        cmocka_unit_test(test_combine_across_midnight),
        cmocka_unit_test(test_combine_remote_jump_falls_back),
        cmocka_unit_test(test_combine_ignores_local_clock_set_back),
        cmocka_unit_test(test_probe_round_steady_link_uses_min),
        cmocka_unit_test(test_probe_round_jitter_uses_max),
        cmocka_unit_test(test_probe_round_losses),
        cmocka_unit_test(test_regress_recovers_line),
        cmocka_unit_test(test_regress_rejects_outlier),
        cmocka_unit_test(test_regress_runs_test_trims_old_points),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
