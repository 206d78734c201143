/* syncsim: the clock synchronisation of the daemons, driven in virtual time (after
 * chrony's test/simulation). The coordinator's clock follows a simulated UTC source
 * (sntp_correct), probes a node over a simulated link every TM (probe_round, the same
 * plan as the time server's), and the node takes the correction as clocksvc does
 * (clock_correct_at). Only the transport is simulated: no thread, no sleep, seeded, so
 * a scenario of many minutes runs in milliseconds and always gives the same figures.
 * The truth is free here: both clocks are read at the same virtual instant. */
#ifndef BT_SYNCSIM_H
#define BT_SYNCSIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One direction of a link. */
struct syncsim_link {
    double delay_ms;    /* fixed part */
    double jitter_ms;   /* uniform +/- */
    double spike_prob;  /* a frame gets spike_ms more */
    double spike_ms;
    double loss;        /* a frame is lost: the probe times out */
};

struct syncsim_scenario {
    const char *name;
    uint64_t seed;
    int rounds;
    int tm_ms;
    struct syncsim_link down, up;   /* coordinator -> node, node -> coordinator */
    struct syncsim_link utc;        /* coordinator <-> UTC source, each way */
    double node_drift_ppm, ref_drift_ppm;
    bool freq_correction;           /* of both clocks ... */
    bool ref_no_freq_correction;    /* ... but the coordinator's (--no-freq-correction) */
    int ref_restart_round;          /* the coordinator restarts then (new clock, drift
                                       ref_restart_drift_ppm); 0: never */
    double ref_restart_drift_ppm;
    int join_gap_ms;                /* the first round this long after the JOIN (default TM) */
    int min_probes, max_probes;     /* 0: the time server's defaults */
    int utc_step_round;             /* from this round on UTC is utc_step_us later; 0: never */
    int64_t utc_step_us;
    int sample_ms;                  /* truth sampled this often (default 100) */
};

struct syncsim_stats {
    size_t samples;                 /* truth samples after the warm-up */
    double p50_us, p99_us, max_us;  /* |node - coordinator| */
    double mean_us;                 /* signed mean (an asymmetric link shows here) */
    /* The claimed bound is checked in every sample from the JOIN on (not only after the
     * warm-up), but for the rounds skipped: */
    size_t bound_samples;
    size_t bound_violations;        /* samples outside the bound the node claimed then */
    size_t unclaimed;               /* samples with no claim (not synchronised) */
    double min_margin_us;           /* smallest claimed bound - |offset| */
    double freq_err_ppm_at10;       /* node rate - coordinator rate after round 10 */
    double max_freq_err_ppm;        /* largest |that| after the warm-up */
    double mean_probes, mean_bound_us, rtt_min_us;
    double ref_utc_p99_us;          /* |coordinator - UTC| after the warm-up */
    int resets;                     /* histories the node dropped (reference moved) */
};

/* Runs a scenario; accuracy counts from round `warmup` on, the bound from the JOIN on;
 * both leave out rounds skip_from..skip_to (e.g. the round of a UTC step, when the node
 * cannot know yet). Returns 0, -1 on a bad scenario. */
int syncsim_run(const struct syncsim_scenario *sc, int warmup, int skip_from, int skip_to,
                struct syncsim_stats *out);
void syncsim_print(const struct syncsim_scenario *sc, const struct syncsim_stats *st);

#endif
