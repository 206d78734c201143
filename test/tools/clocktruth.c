/* clocktruth: the true offset between clocks on different simulated hosts.
 *
 *   clocktruth --ref NAME=NETNS:PROG --clock NAME=NETNS:PROG [--clock ...]
 *              [--count N] [--interval-ms MS] [--probes K] [--samples FILE]
 *
 * Every network namespace of the test bed shares the machine's one kernel clock, so
 * each clock is read over its own host's loopback (no link, no jitter: a round trip of
 * tens of microseconds) and paired with CLOCK_REALTIME at the midpoint of the call:
 * clock - realtime. A node's true offset from the reference is its (clock - realtime)
 * minus the reference's. The handles are made inside each namespace (setns, so root),
 * then all used from here.
 *
 * A reading is only known to within half its loopback round trip (the clock was read
 * somewhere inside the call), so each offset carries that uncertainty, the two
 * readings' halves added.
 *
 * Prints per clock: samples=N p50_abs_us= p99_abs_us= max_abs_us= mean_us=
 * bound_violations= (|offset| above the bound the node claimed in that reading by more
 * than the offset's own uncertainty) strict_violations= (above it at all)
 * min_margin_us= unclaimed= truth_unc_p50_us= freq_ppb= (the clock's last rate
 * correction). --samples writes "unix_us name offset_us claimed_bound_us uncertainty_us"
 * lines. Exit 0, 1 on an RPC failure, 2 on bad usage. */
#include "clock.h"
#include "rpcclient.h"
#include "time_rpc.h"

#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_CLOCKS 8
#define MAX_SAMPLES 100000

struct tclock {
    char name[32], netns[64];
    unsigned long prog;
    CLIENT *c;
    int64_t *abs;        /* |offset| samples (not for the reference) */
    double sum;
    int64_t *unc;        /* the truth's own uncertainty per sample */
    long n, violations, strict, unclaimed;
    double min_margin;
    int64_t freq_ppb;
};

static int parse_clock(const char *arg, struct tclock *t)
{
    const char *eq = strchr(arg, '='), *colon = eq ? strrchr(eq, ':') : NULL;
    if (!eq || !colon || eq == arg || colon == eq + 1 || (size_t)(eq - arg) >= sizeof t->name ||
        (size_t)(colon - eq - 1) >= sizeof t->netns)
        return -1;
    memset(t, 0, sizeof *t);
    memcpy(t->name, arg, (size_t)(eq - arg));
    memcpy(t->netns, eq + 1, (size_t)(colon - eq - 1));
    t->prog = strtoul(colon + 1, NULL, 0);
    t->min_margin = 1e18;
    return t->prog ? 0 : -1;
}

/* A handle made inside the clock's network namespace: its socket stays there. */
static int connect_in(struct tclock *t, int home_fd)
{
    char path[128], err[300];
    snprintf(path, sizeof path, "/run/netns/%s", t->netns);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || setns(fd, CLONE_NEWNET) < 0) {
        fprintf(stderr, "clocktruth: entering %s: %m (root, and ip netns add %s?)\n", path, t->netns);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    t->c = rpcclient_create("127.0.0.1", t->prog, CLOCK_V1, "tcp", 1000, err, sizeof err);
    if (setns(home_fd, CLONE_NEWNET) < 0) {
        fprintf(stderr, "clocktruth: back to the first namespace: %m\n");
        return -1;
    }
    if (!t->c) {
        fprintf(stderr, "clocktruth: %s in %s: %s\n", t->name, t->netns, err);
        return -1;
    }
    return 0;
}

static int64_t realtime_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* clock - realtime at the midpoint of the fastest of k calls; the reading returned. */
static int read_clock(struct tclock *t, bool is_time, int k, double *value, int64_t *mid_us,
                      int64_t *half_rtt_us, clock_reading *out)
{
    int64_t best_rtt = INT64_MAX;
    for (int i = 0; i < k; i++) {
        clock_reading r;
        memset(&r, 0, sizeof r);
        int64_t a = realtime_us();
        enum clnt_stat st = is_time ? time_gethour_1(NULL, &r, t->c) : clock_gethour_1(NULL, &r, t->c);
        int64_t b = realtime_us();
        if (st != RPC_SUCCESS) {
            char err[300];
            rpcclient_error(t->c, st, "GETHOUR", err, sizeof err);
            fprintf(stderr, "clocktruth: %s: %s\n", t->name, err);
            return -1;
        }
        if (b - a < best_rtt) {
            best_rtt = b - a;
            *mid_us = a + (b - a) / 2;
            *value = (double)clock_wrap_delta(r.time_us - clock_wrap_time(*mid_us));
            *out = r;
            *half_rtt_us = (best_rtt + 1) / 2;
        }
    }
    return 0;
}

static int cmp64(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
    return (a > b) - (a < b);
}

static int64_t pct(const int64_t *v, long n, double q)
{
    long i = (long)ceil(q * (double)n) - 1;
    return n ? v[i < 0 ? 0 : (i >= n ? n - 1 : i)] : 0;
}

int main(int argc, char **argv)
{
    struct tclock ref, clocks[MAX_CLOCKS];
    int nclocks = 0, probes = 5;
    long count = 100, interval_ms = 100;
    bool have_ref = false;
    const char *samples = NULL;
    static const struct option opts[] = {
        {"ref", 1, NULL, 'r'}, {"clock", 1, NULL, 'c'}, {"count", 1, NULL, 'n'},
        {"interval-ms", 1, NULL, 'i'}, {"probes", 1, NULL, 'k'}, {"samples", 1, NULL, 's'},
        {NULL, 0, NULL, 0}};
    int opt;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (opt) {
        case 'r':
            if (parse_clock(optarg, &ref) < 0)
                goto usage;
            have_ref = true;
            break;
        case 'c':
            if (nclocks == MAX_CLOCKS || parse_clock(optarg, &clocks[nclocks]) < 0)
                goto usage;
            nclocks++;
            break;
        case 'n': count = strtol(optarg, NULL, 10); break;
        case 'i': interval_ms = strtol(optarg, NULL, 10); break;
        case 'k': probes = (int)strtol(optarg, NULL, 10); break;
        case 's': samples = optarg; break;
        default: goto usage;
        }
    }
    if (!have_ref || nclocks == 0 || count < 1 || count > MAX_SAMPLES || interval_ms < 0 ||
        probes < 1 || probes > 64 || optind != argc)
        goto usage;
    int home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    if (home < 0 || connect_in(&ref, home) < 0)
        return 1;
    for (int i = 0; i < nclocks; i++) {
        if (connect_in(&clocks[i], home) < 0)
            return 1;
        clocks[i].abs = calloc((size_t)count, sizeof *clocks[i].abs);
        clocks[i].unc = calloc((size_t)count, sizeof *clocks[i].unc);
    }
    FILE *out = samples ? fopen(samples, "w") : NULL;
    if (samples && !out) {
        fprintf(stderr, "clocktruth: %s: %m\n", samples);
        return 1;
    }
    int rc = 0;
    bool ref_is_time = ref.prog == TIME_PROG;
    for (long s = 0; s < count && rc == 0; s++) {
        if (s > 0) {
            struct timespec ts = {interval_ms / 1000, (interval_ms % 1000) * 1000000L};
            nanosleep(&ts, NULL);
        }
        double rv, v;
        int64_t mid, nmid, ru, nu;
        clock_reading r, nr;
        if (read_clock(&ref, ref_is_time, probes, &rv, &mid, &ru, &r) < 0) {
            rc = 1;
            break;
        }
        for (int i = 0; i < nclocks; i++) {
            struct tclock *t = &clocks[i];
            if (read_clock(t, t->prog == TIME_PROG, probes, &v, &nmid, &nu, &nr) < 0) {
                rc = 1;
                break;
            }
            int64_t off = (int64_t)llround(v - rv), unc = ru + nu;
            t->unc[t->n] = unc;
            t->abs[t->n++] = llabs(off);
            t->sum += (double)off;
            t->freq_ppb = nr.freq_corr_ppb;
            if (nr.error_bound_us < 0) {
                t->unclaimed++;
            } else {
                double margin = (double)nr.error_bound_us - (double)llabs(off);
                t->strict += margin < 0;
                t->violations += margin + (double)unc < 0;
                t->min_margin = fmin(t->min_margin, margin);
            }
            if (out)
                fprintf(out, "%" PRId64 " %s %" PRId64 " %" PRId64 " %" PRId64 "\n", nmid, t->name,
                        off, (int64_t)nr.error_bound_us, unc);
        }
    }
    if (out)
        fclose(out);
    for (int i = 0; i < nclocks; i++) {
        struct tclock *t = &clocks[i];
        qsort(t->abs, (size_t)t->n, sizeof *t->abs, cmp64);
        qsort(t->unc, (size_t)t->n, sizeof *t->unc, cmp64);
        printf("clock=%s samples=%ld p50_abs_us=%" PRId64 " p99_abs_us=%" PRId64
               " max_abs_us=%" PRId64 " mean_us=%.1f bound_violations=%ld strict_violations=%ld"
               " min_margin_us=%.0f unclaimed=%ld truth_unc_p50_us=%" PRId64 " freq_ppb=%" PRId64 "\n",
               t->name, t->n, pct(t->abs, t->n, 0.5), pct(t->abs, t->n, 0.99),
               t->n ? t->abs[t->n - 1] : 0, t->n ? t->sum / (double)t->n : 0.0, t->violations,
               t->strict, t->min_margin > 1e17 ? -1.0 : t->min_margin, t->unclaimed,
               pct(t->unc, t->n, 0.5), t->freq_ppb);
        free(t->abs);
        free(t->unc);
        clnt_destroy(t->c);
    }
    clnt_destroy(ref.c);
    close(home);
    return rc;
usage:
    fprintf(stderr, "usage: clocktruth --ref NAME=NETNS:PROG --clock NAME=NETNS:PROG... "
                    "[--count N] [--interval-ms MS] [--probes K] [--samples FILE]\n");
    return 2;
}
