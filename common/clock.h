/* clock: the software clock every process shows (DESIGN.md section 3).
 *
 * A time of day in microseconds, 0 <= t < CLOCK_DAY_US, computed and never ticked:
 *   t = base + (mono - mono_base) * (1 + drift + freq_corr) + slew part
 * where the slew part absorbs a pending correction at a bounded rate so the time shown
 * never runs backwards. Every operation has an _at variant taking the monotonic instant
 * explicitly (for unit tests and for reading "at the moment a reply arrived"); the plain
 * variants use clock_mono_ns(). All functions are thread-safe (one mutex per clock), so
 * an RPC thread, a sync thread and a window can share one clock. */
#ifndef BT_CLOCK_H
#define BT_CLOCK_H

#include "discipline.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#define CLOCK_DAY_US INT64_C(86400000000)
#define CLOCK_HALF_DAY_US (CLOCK_DAY_US / 2)
#define CLOCK_DEFAULT_STEP_THRESHOLD_US INT64_C(1000000)
#define CLOCK_DEFAULT_MAX_SLEW_RATE 0.083 /* chrony's maxslewrate, 83 333 ppm */
#define CLOCK_DEFAULT_DRIFT_PPM 200.0
#define CLOCK_MAX_FREQ_CORR_PPM 1000.0

enum clock_policy { CLOCK_POLICY_NONE = 0, CLOCK_POLICY_STEP = 1, CLOCK_POLICY_SLEW = 2 };

enum clock_error {
    CLOCK_OK = 0,
    CLOCK_ERR_STOPPED = 1, /* the clock is being set by hand */
    CLOCK_ERR_RANGE = 2,   /* correction outside (-12 h, +12 h] or time outside a day */
};

struct clock_config {
    double drift_ppm;           /* simulated hardware rate error of this clock */
    int64_t step_threshold_us;  /* step above this |delta|, slew below */
    double max_slew_rate;       /* fraction of real time, e.g. 0.083 */
    bool freq_correction;       /* correct the rate by the frequency the discipline estimates */
};

struct clock {
    pthread_mutex_t lock;
    struct clock_config cfg;
    int64_t mono_base_ns;   /* monotonic instant of the last rebase */
    double base_us;         /* time of day at mono_base_ns, in [0, CLOCK_DAY_US) */
    double freq_corr;       /* estimated rate correction, fraction (not ppm) */
    double slew_left_us;    /* signed correction not yet absorbed at mono_base_ns */
    bool running;           /* false while a person sets it by hand */
    bool synchronised;      /* adjusted at least once since start or manual set */
    uint64_t adjustments;   /* accepted adjustments since start */
    int64_t last_adjust_ns; /* monotonic instant of the last accepted adjustment, 0: none */
    enum clock_policy last_policy;
    int64_t last_delta_us;  /* the last measured (or commanded) correction */
    int64_t last_applied_us;/* what was applied of it */
    int64_t frozen_us;      /* time shown while stopped (running == false) */
    /* The raw clock, what this clock shows with no correction at all (the oscillator):
     * raw_start_us + (mono - raw_mono_ns) * (1 + drift), not wrapped. */
    double raw_start_us;
    int64_t raw_mono_ns;
    struct discipline disc;
    uint64_t epoch;         /* this clock, not another one of an earlier process */
};

/* What a window or an RPC reply shows. */
struct clock_state {
    int64_t time_us;        /* time of day, [0, CLOCK_DAY_US) */
    bool running;
    bool synchronised;
    bool slewing;           /* a slew is still being absorbed */
    double drift_ppm;
    double freq_corr_ppm;
    int64_t slew_left_us;
    uint64_t adjustments;
    enum clock_policy last_policy;
    int64_t last_delta_us;
    int64_t last_applied_us;
    int64_t error_bound_us; /* claimed |offset| from the reference now; -1: no claim */
    double bound_growth_ppm;/* how fast the claim grows */
    double freq_sd_ppm;     /* standard error of the frequency estimate */
    int64_t corrections_us; /* target - oscillator (every correction and the rate
                               correction, summed), into +/-12 h */
    uint64_t epoch;
    int samples;            /* measurements in the discipline's line */
    int64_t last_adjust_ns; /* monotonic instant of the last adjustment, 0: none */
};

/* What a measurement did (clock_correct). */
struct clock_correction {
    enum clock_policy policy;
    int64_t applied_us;     /* what was added to the clock (step or slew) */
    double freq_corr_ppm;   /* rate correction it runs at from now */
    int64_t error_bound_us; /* claimed |offset| right after */
    int samples;            /* measurements in the line */
    bool reset;             /* the measurement showed the reference had moved */
};

/* Defaults: drift 0, threshold 1 s, max slew 8.3 %, frequency correction on. */
void clock_config_default(struct clock_config *cfg);
/* A random drift whose size is between max_ppm/2 and max_ppm, either sign, so
 * synchronisation always has work to do (random(3); seed it once per process). */
double clock_random_drift_ppm(double max_ppm);
/* A uniformly random time of day. */
int64_t clock_random_time_of_day(void);

/* Monotonic time in nanoseconds (CLOCK_MONOTONIC). */
int64_t clock_mono_ns(void);

void clock_init_at(struct clock *c, const struct clock_config *cfg, int64_t start_us, int64_t mono_ns);
void clock_init(struct clock *c, const struct clock_config *cfg, int64_t start_us);
void clock_destroy(struct clock *c);

/* Time of day at the given monotonic instant (frozen value while stopped). */
int64_t clock_read_at(struct clock *c, int64_t mono_ns);
int64_t clock_read(struct clock *c);
/* Where the clock is heading: the time shown plus the correction it still slews in.
 * It moves at the clock's rate even while the shown time slews, so two clocks are
 * compared by their targets (measurements are target minus target). */
int64_t clock_target_at(struct clock *c, int64_t mono_ns);
void clock_snapshot_at(struct clock *c, int64_t mono_ns, struct clock_state *out);
void clock_snapshot(struct clock *c, struct clock_state *out);

/* What a reference says of itself with a measurement (all zero: nothing known). */
struct clock_reference {
    /* What it still slews in (part of its target, not of its shown time yet): this
     * clock slews that part along, never steps it, so it moves with its reference
     * rather than ahead of it. */
    int64_t slew_us;
    /* Its target minus its oscillator (all its corrections, its rate correction
     * included), its rate correction, and which clock it is: a follower fits the
     * reference's oscillator, whose rate never changes, and follows the reference's own
     * corrections (to UTC) as announced moves, not as drift. epoch 0: says nothing. */
    int64_t corrections_us;
    double freq_ppm;
    uint64_t epoch;
    /* The bound it claims on itself, and its growth: it may move by that much when it
     * next corrects itself, so this clock's claim against it includes it. <= 0: none. */
    int64_t bound_us;
    double growth_ppm;
};

/* A measurement of this clock against its reference. */
struct clock_measurement {
    int64_t delta_us;       /* reference - this clock, both targets (clock_target_at);
                               |delta| <= 12 h */
    int64_t bound_us;       /* the true value lies within delta +/- bound; > 0 */
    /* How good the measurement was, for weighing it against others (cristian_round's
     * spread_us); 0: the bound says it. */
    int64_t spread_us;
    int64_t age_us;         /* how long ago it was taken (>= 0) */
    struct clock_reference ref;
};
/* The reference part of a measurement, from the reference's own state. */
void clock_reference_of(const struct clock_state *s, struct clock_reference *out);

/* Takes a measurement at mono_ns. The discipline (discipline.h) decides what to apply
 * and the frequency; the correction steps when it exceeds the threshold or the clock is
 * not synchronised, otherwise slews. On error the clock is unchanged. out may be NULL. */
enum clock_error clock_correct_at(struct clock *c, const struct clock_measurement *m,
                                  int64_t mono_ns, struct clock_correction *out);
enum clock_error clock_correct(struct clock *c, const struct clock_measurement *m,
                               struct clock_correction *out);
/* A command, not a measurement (an operator's "move it by delta"): applied whole, step
 * or slew by the same rules; the frequency and the measurements are kept, the claimed
 * bound is dropped. *policy (may be NULL) receives what was applied. */
enum clock_error clock_adjust_at(struct clock *c, int64_t delta_us, int64_t mono_ns,
                                 enum clock_policy *policy);
enum clock_error clock_adjust(struct clock *c, int64_t delta_us, enum clock_policy *policy);

/* "Modify": freezes the displayed time; GETHOUR reports running = false, ADJUST is refused. */
void clock_stop_at(struct clock *c, int64_t mono_ns);
void clock_stop(struct clock *c);
/* "Cancel": resumes as if it had never been stopped. */
void clock_resume_at(struct clock *c, int64_t mono_ns);
void clock_resume(struct clock *c);
/* "OK": runs from the given time of day; the next adjustment steps (a person moved it). */
enum clock_error clock_set_at(struct clock *c, int64_t time_us, int64_t mono_ns);
enum clock_error clock_set(struct clock *c, int64_t time_us);

/* A difference of two times of day, wrapped into (-12 h, +12 h]. */
int64_t clock_wrap_delta(int64_t delta_us);
/* Any microsecond count wrapped into [0, CLOCK_DAY_US). */
int64_t clock_wrap_time(int64_t time_us);
/* "HH:MM:SS" (len >= 9) or, with micro, "HH:MM:SS.uuuuuu" (len >= 16). */
void clock_format(int64_t time_us, bool micro, char *buf, size_t len);
/* Parses "HH:MM:SS[.frac]" (00..23, 00..59, 00..59); returns -1 if invalid. */
int clock_parse(const char *text, int64_t *time_us);
const char *clock_policy_name(enum clock_policy p);

/* |v| <= limit for any v (llabs(INT64_MIN) is undefined, and a peer may send it). */
static inline bool clock_within(int64_t v, int64_t limit)
{
    return v >= -limit && v <= limit;
}

#endif
