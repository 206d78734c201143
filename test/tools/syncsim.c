/* syncsim: runs the synchronisation simulation (test/sim/syncsim.c) for one scenario
 * given on the command line and prints its figures: for exploring the algorithm. The
 * scenarios that must hold are in test/unit/test_sync_sim.c.
 *   syncsim [--delay MS] [--jitter MS] [--asym-up MS] [--spike-prob P --spike MS]
 *           [--loss P] [--drift PPM] [--tm MS] [--rounds N] [--seed N] [--no-freq]
 *           [--min-probes K] [--max-probes K] [--utc-step-us US --utc-step-round N]
 *           [--utc-delay MS --utc-jitter MS] [--ref-no-freq] [--ref-drift PPM]
 *           [--ref-restart-round N --ref-restart-drift PPM] [--join-gap-ms MS]
 *           [--warmup N] [--seeds N] */
#include "syncsim.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    struct syncsim_scenario sc = {
        .name = "cli", .seed = 1, .rounds = 100, .tm_ms = 2000,
        .down = {.delay_ms = 0.01}, .up = {.delay_ms = 0.01},
        .utc = {.delay_ms = 0.015, .jitter_ms = 0.003},
        .node_drift_ppm = -150, .ref_drift_ppm = 120, .freq_correction = true};
    int warmup = 10, seeds = 1;
    static const struct option opts[] = {
        {"delay", 1, NULL, 'd'}, {"jitter", 1, NULL, 'j'}, {"asym-up", 1, NULL, 'a'},
        {"spike-prob", 1, NULL, 'p'}, {"spike", 1, NULL, 's'}, {"loss", 1, NULL, 'l'},
        {"drift", 1, NULL, 'D'}, {"tm", 1, NULL, 't'}, {"rounds", 1, NULL, 'r'},
        {"seed", 1, NULL, 'S'}, {"no-freq", 0, NULL, 'n'}, {"min-probes", 1, NULL, 'k'},
        {"max-probes", 1, NULL, 'K'}, {"utc-step-us", 1, NULL, 'u'},
        {"utc-step-round", 1, NULL, 'U'}, {"warmup", 1, NULL, 'w'}, {"seeds", 1, NULL, 'N'},
        {"utc-delay", 1, NULL, 'x'}, {"utc-jitter", 1, NULL, 'y'}, {"ref-no-freq", 0, NULL, 'f'},
        {"ref-drift", 1, NULL, 'R'}, {"ref-restart-round", 1, NULL, 'q'},
        {"ref-restart-drift", 1, NULL, 'Q'}, {"join-gap-ms", 1, NULL, 'g'},
        {NULL, 0, NULL, 0}};
    int opt;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        double v = optarg ? atof(optarg) : 0;
        switch (opt) {
        case 'd': sc.down.delay_ms = sc.up.delay_ms = v; break;
        case 'j': sc.down.jitter_ms = sc.up.jitter_ms = v; break;
        case 'a': sc.up.delay_ms = v; break;
        case 'p': sc.down.spike_prob = sc.up.spike_prob = v; break;
        case 's': sc.down.spike_ms = sc.up.spike_ms = v; break;
        case 'l': sc.down.loss = sc.up.loss = v; break;
        case 'D': sc.node_drift_ppm = v; break;
        case 't': sc.tm_ms = (int)v; break;
        case 'r': sc.rounds = (int)v; break;
        case 'S': sc.seed = (uint64_t)v; break;
        case 'n': sc.freq_correction = false; break;
        case 'k': sc.min_probes = (int)v; break;
        case 'K': sc.max_probes = (int)v; break;
        case 'u': sc.utc_step_us = (int64_t)v; break;
        case 'U': sc.utc_step_round = (int)v; break;
        case 'w': warmup = (int)v; break;
        case 'N': seeds = (int)v; break;
        case 'x': sc.utc.delay_ms = v; break;
        case 'y': sc.utc.jitter_ms = v; break;
        case 'f': sc.ref_no_freq_correction = true; break;
        case 'R': sc.ref_drift_ppm = v; break;
        case 'q': sc.ref_restart_round = (int)v; break;
        case 'Q': sc.ref_restart_drift_ppm = v; break;
        case 'g': sc.join_gap_ms = (int)v; break;
        default: fprintf(stderr, "usage: see test/tools/syncsim.c\n"); return 2;
        }
    }
    for (int i = 0; i < seeds; i++) {
        struct syncsim_stats st;
        if (syncsim_run(&sc, warmup, 0, -1, &st) < 0)
            return 2;
        syncsim_print(&sc, &st);
        sc.seed++;
    }
    return 0;
}
