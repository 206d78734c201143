/* fuzz_clock: CLOCK.ADJUST's arguments as every node takes them (common/clocksvc.c):
 * decoded from the call's bytes, call_auth checked, then clocksvc_measurement. */
#include "clocksvc.h"
#include "fuzzlib.h"
#include "time_rpc.h"

#include <stdlib.h>
#include <string.h>

/* What clocksvc_measurement promises of a measurement it lets through: every field
 * within its range (clock.h), so the discipline computes with sane numbers. */
static void fuzz_check_measurement(const struct clock_measurement *m)
{
    const struct clock_reference *r = &m->ref;
    if (m->bound_us < 0 || m->bound_us > CLOCK_HALF_DAY_US || m->spread_us < 0 ||
        m->spread_us > CLOCK_HALF_DAY_US || m->age_us < 0 || m->age_us > CLOCK_DAY_US ||
        r->slew_us < -CLOCK_HALF_DAY_US || r->slew_us > CLOCK_HALF_DAY_US ||
        r->corrections_us < -CLOCK_HALF_DAY_US || r->corrections_us > CLOCK_HALF_DAY_US ||
        !(r->freq_ppm >= -1e6 && r->freq_ppm <= 1e6) || r->bound_us < -1 ||
        r->bound_us > CLOCK_HALF_DAY_US || !(r->growth_ppm >= 0 && r->growth_ppm <= 1e6))
        abort();
    /* ... and applying it, as the dispatcher then does, to a clock at a fixed instant. */
    struct clock c;
    struct clock_config cfg;
    clock_config_default(&cfg);
    clock_init_at(&c, &cfg, 43200000000LL, INT64_C(5000000000));
    struct clock_correction corr;
    if (m->bound_us > 0)
        clock_correct_at(&c, m, INT64_C(5000000000), &corr);
    else
        clock_adjust_at(&c, m->delta_us, INT64_C(5000000000), &corr.policy);
    clock_destroy(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    adjust_args a;
    if (!fuzzlib_decode((xdrproc_t)xdr_adjust_args, data, n, &a, sizeof a))
        return 0;
    fuzzlib_authentic(CLOCK_PROG, CLOCK_V1, CLOCK_ADJUST, (xdrproc_t)xdr_adjust_args, &a,
                      &a.auth);
    struct clock_measurement m;
    char why[160];
    if (clocksvc_measurement(&a, &m, why, sizeof why) == 0)
        fuzz_check_measurement(&m);
    fuzzlib_free((xdrproc_t)xdr_adjust_args, &a);
    return 0;
}

static void fuzz_adjust_seed(const char *name, int64_t delta, int64_t bound, int64_t spread,
                             int64_t age, int64_t ref_slew, int64_t ref_bound)
{
    adjust_args a;
    memset(&a, 0, sizeof a);
    a.delta_us = delta;
    a.round_id = 42;
    a.error_bound_us = bound;
    a.spread_us = spread;
    a.age_us = age;
    a.reference = (clock_reading){.time_us = 45296000000, .running = TRUE,
                                  .synchronised = TRUE, .freq_corr_ppb = -12000,
                                  .slew_left_us = ref_slew, .error_bound_us = ref_bound,
                                  .bound_growth_ppb = 10000, .corrections_us = 1234,
                                  .epoch = 0x1122334455667788ULL};
    fuzzlib_claim(&a.auth);
    fuzzlib_seed_xdr(name, NULL, 0, (xdrproc_t)xdr_adjust_args, &a);
}

void fuzz_seeds(void)
{
    fuzz_adjust_seed("adjust-measure", 1500, 120, 60, 2000, 0, 50);
    fuzz_adjust_seed("adjust-command", -3600000000LL, 0, 0, 0, 0, -1);
    fuzz_adjust_seed("adjust-slewing-ref", 250, 40, 20, 100, -800000, 30);
    fuzz_adjust_seed("adjust-bad-bound", 10, -5, 0, 0, 0, 0);
    fuzz_adjust_seed("adjust-half-day", 43200000000LL, 43200000000LL, 0, 86400000000LL, 0, 0);
}
