/* The synchronisation of the daemons in virtual time (test/sim/syncsim.c: the same
 * probe rounds, estimator and discipline as the time server and its nodes; only the
 * network is simulated). Every scenario runs three seeds, asserts its accuracy (after
 * 10 rounds), and that no truth sample from the JOIN on falls outside the bound the
 * node claimed for it. TM = 2 s, as in the benchmarks, unless a scenario says. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "probe.h"
#include "syncsim.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define SEEDS 3
#define WARMUP 10

static const struct syncsim_link lan = {.delay_ms = 0.010, .jitter_ms = 0.0025};
static const struct syncsim_link jittery = {.delay_ms = 5, .jitter_ms = 1};

static struct syncsim_scenario base(const char *name, struct syncsim_link link)
{
    return (struct syncsim_scenario){
        .name = name, .seed = 1, .rounds = 150, .tm_ms = 2000, .down = link, .up = link,
        .utc = {.delay_ms = 0.015, .jitter_ms = 0.003}, .node_drift_ppm = -150,
        .ref_drift_ppm = 120, .freq_correction = true};
}

/* Runs sc over SEEDS seeds; the worst figures land in *worst. */
static void run_seeds(struct syncsim_scenario sc, int skip_from, int skip_to,
                      struct syncsim_stats *worst)
{
    memset(worst, 0, sizeof *worst);
    worst->min_margin_us = 1e18;
    for (int i = 0; i < SEEDS; i++, sc.seed += 1000) {
        struct syncsim_stats st;
        assert_int_equal(syncsim_run(&sc, WARMUP, skip_from, skip_to, &st), 0);
        syncsim_print(&sc, &st);
        assert_true(st.samples > 1000);
        worst->p50_us = fmax(worst->p50_us, st.p50_us);
        worst->p99_us = fmax(worst->p99_us, st.p99_us);
        worst->max_us = fmax(worst->max_us, st.max_us);
        worst->mean_us = fabs(st.mean_us) > fabs(worst->mean_us) ? st.mean_us : worst->mean_us;
        assert_true(st.bound_samples >= st.samples);
        worst->bound_violations += st.bound_violations;
        worst->unclaimed += st.unclaimed;
        worst->min_margin_us = fmin(worst->min_margin_us, st.min_margin_us);
        worst->freq_err_ppm_at10 = fmax(worst->freq_err_ppm_at10, fabs(st.freq_err_ppm_at10));
        worst->max_freq_err_ppm = fmax(worst->max_freq_err_ppm, st.max_freq_err_ppm);
        worst->mean_probes = i == 0 ? st.mean_probes : fmin(worst->mean_probes, st.mean_probes);
        worst->ref_utc_p99_us = fmax(worst->ref_utc_p99_us, st.ref_utc_p99_us);
    }
}

static void assert_bound_held(const struct syncsim_stats *w)
{
    assert_int_equal(w->bound_violations, 0);
    assert_int_equal(w->unclaimed, 0);
    assert_true(w->min_margin_us >= 0);
}

static void test_loopback_like(void **state)
{
    (void)state;
    struct syncsim_stats w;
    run_seeds(base("loopback 10+/-2.5 us", lan), 0, -1, &w);
    assert_true(w.p99_us <= 10);
    assert_true(w.freq_err_ppm_at10 <= 1);
    /* A steady link gets the steady-link count, no more. */
    assert_true(w.mean_probes <= PROBE_DEFAULT_MIN + 0.5);
    assert_bound_held(&w);
}

static void test_symmetric_jitter(void **state)
{
    (void)state;
    struct syncsim_stats w;
    run_seeds(base("5 +/- 1 ms each way", jittery), 0, -1, &w);
    assert_true(w.p50_us <= 60);
    assert_true(w.p99_us <= 250);
    assert_true(w.freq_err_ppm_at10 <= 5);
    assert_true(w.mean_probes > 2 * PROBE_DEFAULT_MIN);
    assert_bound_held(&w);
}

static void test_spikes(void **state)
{
    (void)state;
    struct syncsim_scenario sc = base("1 % spikes of +50 ms", jittery);
    sc.down.spike_prob = sc.up.spike_prob = 0.01;
    sc.down.spike_ms = sc.up.spike_ms = 50;
    struct syncsim_stats w;
    run_seeds(sc, 0, -1, &w);
    assert_true(w.p50_us <= 60);
    assert_true(w.p99_us <= 250);
    assert_bound_held(&w);
}

static void test_loss(void **state)
{
    (void)state;
    struct syncsim_scenario sc = base("5 % loss", jittery);
    sc.down.loss = sc.up.loss = 0.05;
    struct syncsim_stats w;
    run_seeds(sc, 0, -1, &w);
    assert_true(w.p99_us <= 250);
    assert_bound_held(&w);
}

/* 10 ms one way, none the other: no two-way method can see it. The error is half the
 * asymmetry, and the bound (half the round trip) still holds. */
static void test_asymmetry_stays_within_bound(void **state)
{
    (void)state;
    struct syncsim_scenario sc = base("asymmetric 10/0 ms", lan);
    sc.down.delay_ms = 10;
    struct syncsim_stats w;
    run_seeds(sc, 0, -1, &w);
    assert_true(fabs(fabs(w.mean_us) - 5000) < 100);
    assert_bound_held(&w);
}

static void test_large_drift(void **state)
{
    (void)state;
    struct syncsim_scenario sc = base("drift +500 ppm, LAN", lan);
    sc.node_drift_ppm = 500;
    struct syncsim_stats w;
    run_seeds(sc, 0, -1, &w);
    assert_true(w.p99_us <= 10);
    assert_bound_held(&w);
    sc = base("drift -500 ppm, jitter", jittery);
    sc.node_drift_ppm = -500;
    run_seeds(sc, 0, -1, &w);
    assert_true(w.p99_us <= 250);
    assert_true(w.max_freq_err_ppm <= 10);
    assert_bound_held(&w);
}

/* UTC steps by 1 s at round 50: the coordinator slews it in (12 s at 8.3 %) and takes
 * its node along. Accuracy counts from the round after it is absorbed; the bound holds
 * throughout but in the round of the step itself, when the node cannot know yet. */
static void test_utc_steps_one_second(void **state)
{
    (void)state;
    struct syncsim_scenario sc = base("UTC steps by 1 s, LAN", lan);
    sc.utc_step_round = 50;
    sc.utc_step_us = 1000000;
    struct syncsim_stats w;
    run_seeds(sc, 50, 50, &w);
    assert_bound_held(&w);
    run_seeds(sc, 50, 57, &w);
    assert_true(w.p99_us <= 20);
    assert_true(w.ref_utc_p99_us <= 10);
}

/* A UTC source 0.5 +/- 0.5 ms away: the coordinator's own corrections are large and
 * noisy, and its nodes follow its clock through them (announced moves), within the
 * bound, which includes what the coordinator claims on itself. */
static void test_noisy_utc_link(void **state)
{
    (void)state;
    struct syncsim_scenario sc = base("UTC 0.5 +/- 0.5 ms away", lan);
    sc.utc = (struct syncsim_link){.delay_ms = 0.5, .jitter_ms = 0.5};
    struct syncsim_stats w;
    run_seeds(sc, 0, -1, &w);
    assert_true(w.p99_us <= 10);
    assert_bound_held(&w);
}

/* A coordinator with --no-freq-correction drifts 200 ppm between its corrections; its
 * nodes drift with it, not with UTC. TM = 10 s: 2 ms a round. */
static void test_coordinator_without_frequency_correction(void **state)
{
    (void)state;
    struct syncsim_scenario sc = base("coordinator --no-freq", lan);
    sc.ref_no_freq_correction = true;
    sc.ref_drift_ppm = 200;
    sc.tm_ms = 10000;
    sc.rounds = 60;
    struct syncsim_stats w;
    run_seeds(sc, 0, -1, &w);
    assert_true(w.p99_us <= 10);
    assert_bound_held(&w);
}

/* The time server restarts at round 30 (another clock, another drift, nothing learnt):
 * its start-up burst learns its frequency before its first round, and the nodes are
 * within 1 ms of it from that round on (TM = 10 s). Only the restart itself is
 * skipped: until its first UTC step the new clock is anywhere. */
static void test_coordinator_restart(void **state)
{
    (void)state;
    struct syncsim_scenario sc = base("time server restart", lan);
    sc.tm_ms = 10000;
    sc.rounds = 60;
    sc.ref_restart_round = 30;
    sc.ref_restart_drift_ppm = -200;
    struct syncsim_stats w;
    run_seeds(sc, 30, 30, &w);
    assert_true(w.max_us <= 1000);
    assert_bound_held(&w);
}

/* The first round a few milliseconds after the JOIN: two samples that close together
 * must not make a frequency. */
static void test_round_right_after_join(void **state)
{
    (void)state;
    struct syncsim_scenario sc = base("round 5 ms after JOIN", lan);
    sc.join_gap_ms = 5;
    struct syncsim_stats w;
    run_seeds(sc, 0, -1, &w);
    assert_true(w.p99_us <= 10);
    assert_bound_held(&w);
}

static void test_same_seed_same_figures(void **state)
{
    (void)state;
    struct syncsim_scenario sc = base("repeat", jittery);
    struct syncsim_stats a, b;
    assert_int_equal(syncsim_run(&sc, WARMUP, 0, -1, &a), 0);
    assert_int_equal(syncsim_run(&sc, WARMUP, 0, -1, &b), 0);
    assert_true(a.p99_us == b.p99_us && a.mean_us == b.mean_us && a.samples == b.samples);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loopback_like),
        cmocka_unit_test(test_symmetric_jitter),
        cmocka_unit_test(test_spikes),
        cmocka_unit_test(test_loss),
        cmocka_unit_test(test_asymmetry_stays_within_bound),
        cmocka_unit_test(test_large_drift),
        cmocka_unit_test(test_utc_steps_one_second),
        cmocka_unit_test(test_noisy_utc_link),
        cmocka_unit_test(test_coordinator_without_frequency_correction),
        cmocka_unit_test(test_coordinator_restart),
        cmocka_unit_test(test_round_right_after_join),
        cmocka_unit_test(test_same_seed_same_figures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
