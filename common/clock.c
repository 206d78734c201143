#include "clock.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

/* Below one microsecond a slew is invisible: the clock shows whole microseconds. */
#define CLOCK_SLEW_VISIBLE_US 1.0

/* ---- Pure helpers (no clock, no lock) ---- */

void clock_config_default(struct clock_config *cfg)
{
    cfg->drift_ppm = 0.0;
    cfg->step_threshold_us = CLOCK_DEFAULT_STEP_THRESHOLD_US;
    cfg->max_slew_rate = CLOCK_DEFAULT_MAX_SLEW_RATE;
    cfg->freq_correction = true;
}

static double clock_random_unit(void)
{
    return (double)random() / 2147483647.0;
}

double clock_random_drift_ppm(double max_ppm)
{
    /* At least half the maximum, so a demo never starts with a clock that barely drifts. */
    double max = fabs(max_ppm);
    double magnitude = max / 2.0 + clock_random_unit() * (max / 2.0);
    return (random() & 0x40000) ? magnitude : -magnitude;
}

int64_t clock_random_time_of_day(void)
{
    /* random() gives 31 bits; a day needs 37, so combine two draws (bias ~2^-25). */
    uint64_t r = ((uint64_t)random() << 31) | (uint64_t)random();
    return (int64_t)(r % (uint64_t)CLOCK_DAY_US);
}

int64_t clock_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * INT64_C(1000000000) + ts.tv_nsec;
}

int64_t clock_wrap_time(int64_t time_us)
{
    int64_t r = time_us % CLOCK_DAY_US;
    return r < 0 ? r + CLOCK_DAY_US : r;
}

int64_t clock_wrap_delta(int64_t delta_us)
{
    int64_t r = clock_wrap_time(delta_us);
    return r > CLOCK_HALF_DAY_US ? r - CLOCK_DAY_US : r;
}

static double clock_wrap_double(double t_us)
{
    double r = fmod(t_us, (double)CLOCK_DAY_US);
    if (r < 0)
        r += (double)CLOCK_DAY_US;
    /* Adding a day to a tiny negative remainder can round up to exactly one day. */
    return r >= (double)CLOCK_DAY_US ? 0.0 : r;
}

static int64_t clock_whole_us(double t_us)
{
    return clock_wrap_time((int64_t)floor(t_us));
}

void clock_format(int64_t time_us, bool micro, char *buf, size_t len)
{
    int64_t t = clock_wrap_time(time_us);
    int64_t s = t / 1000000;
    int h = (int)(s / 3600), m = (int)(s / 60 % 60), sec = (int)(s % 60);
    if (micro)
        snprintf(buf, len, "%02d:%02d:%02d.%06d", h, m, sec, (int)(t % 1000000));
    else
        snprintf(buf, len, "%02d:%02d:%02d", h, m, sec);
}

static bool clock_is_digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

/* Exactly two digits, at most max; advances *p. */
static bool clock_parse_field(const char **p, int max, int64_t *out)
{
    const char *s = *p;
    if (!clock_is_digit(s[0]) || !clock_is_digit(s[1]))
        return false;
    *out = (s[0] - '0') * 10 + (s[1] - '0');
    *p = s + 2;
    return *out <= max;
}

/* ".d..." with 1 to 9 digits (nanoseconds at most); digits past microseconds are dropped. */
static bool clock_parse_frac(const char *s, int64_t *out_us)
{
    int64_t us = 0;
    int n = 0;
    for (; clock_is_digit(s[n]); n++) {
        if (n >= 9)
            return false;
        if (n < 6)
            us = us * 10 + (s[n] - '0');
    }
    if (n == 0 || s[n] != '\0')
        return false;
    for (int i = n; i < 6; i++)
        us *= 10;
    *out_us = us;
    return true;
}

int clock_parse(const char *text, int64_t *time_us)
{
    int64_t h, m, s, frac = 0;
    const char *p = text;
    if (p == NULL || !clock_parse_field(&p, 23, &h) || *p++ != ':' ||
        !clock_parse_field(&p, 59, &m) || *p++ != ':' || !clock_parse_field(&p, 59, &s))
        return -1;
    if (*p == '.' ? !clock_parse_frac(p + 1, &frac) : *p != '\0')
        return -1;
    *time_us = ((h * 60 + m) * 60 + s) * 1000000 + frac;
    return 0;
}

const char *clock_policy_name(enum clock_policy p)
{
    switch (p) {
    case CLOCK_POLICY_NONE: return "none";
    case CLOCK_POLICY_STEP: return "step";
    case CLOCK_POLICY_SLEW: return "slew";
    }
    return "unknown";
}

/* ---- The timeline (callers hold the lock) ---- */

static double clock_dt_us(const struct clock *c, int64_t mono_ns)
{
    return (double)(mono_ns - c->mono_base_ns) / 1000.0;
}

/* The part of the pending slew absorbed dt_us after the last rebase. Before the rebase
 * (a reading stamped earlier than the last change) nothing was absorbed yet. */
static double clock_slew_done(const struct clock *c, double dt_us)
{
    if (dt_us <= 0)
        return 0.0;
    double limit = c->cfg.max_slew_rate * dt_us;
    double size = fmin(fabs(c->slew_left_us), limit);
    return c->slew_left_us < 0 ? -size : size;
}

static double clock_rate(const struct clock *c)
{
    return 1.0 + c->cfg.drift_ppm * 1e-6 + c->freq_corr;
}

static double clock_value(const struct clock *c, int64_t mono_ns)
{
    double dt = clock_dt_us(c, mono_ns);
    return clock_wrap_double(c->base_us + dt * clock_rate(c) + clock_slew_done(c, dt));
}

static double clock_slew_pending(const struct clock *c, int64_t mono_ns)
{
    return c->slew_left_us - clock_slew_done(c, clock_dt_us(c, mono_ns));
}

/* The uncorrected oscillator (see struct clock). */
static double clock_raw(const struct clock *c, int64_t mono_ns)
{
    return c->raw_start_us + (double)(mono_ns - c->raw_mono_ns) / 1000.0 * (1.0 + c->cfg.drift_ppm * 1e-6);
}

/* Restarts the formula at mono_ns, so a change of rate or base applies only from now. */
static void clock_rebase(struct clock *c, int64_t mono_ns)
{
    double value = clock_value(c, mono_ns);
    c->slew_left_us = clock_slew_pending(c, mono_ns);
    c->base_us = value;
    c->mono_base_ns = mono_ns;
}

static int64_t clock_shown(const struct clock *c, int64_t mono_ns)
{
    return c->running ? clock_whole_us(clock_value(c, mono_ns)) : c->frozen_us;
}

/* ---- Lifecycle and reading ---- */

void clock_init_at(struct clock *c, const struct clock_config *cfg, int64_t start_us, int64_t mono_ns)
{
    *c = (struct clock){0};
    pthread_mutex_init(&c->lock, NULL);
    if (cfg != NULL)
        c->cfg = *cfg;
    else
        clock_config_default(&c->cfg);
    c->mono_base_ns = mono_ns;
    c->base_us = (double)clock_wrap_time(start_us);
    c->running = true;
    c->last_policy = CLOCK_POLICY_NONE;
    c->raw_start_us = c->base_us;
    c->raw_mono_ns = mono_ns;
    discipline_init(&c->disc);
    /* Only equality matters: another process, or another clock of the same one. */
    static _Atomic uint64_t clock_count;
    c->epoch = ((uint64_t)getpid() << 40) ^ ((uint64_t)time(NULL) << 16) ^
               (uint64_t)atomic_fetch_add(&clock_count, 1) ^ (uint64_t)(mono_ns & 0xffff);
    if (c->epoch == 0)
        c->epoch = 1;
}

void clock_init(struct clock *c, const struct clock_config *cfg, int64_t start_us)
{
    clock_init_at(c, cfg, start_us, clock_mono_ns());
}

void clock_destroy(struct clock *c)
{
    pthread_mutex_destroy(&c->lock);
}

int64_t clock_read_at(struct clock *c, int64_t mono_ns)
{
    pthread_mutex_lock(&c->lock);
    int64_t t = clock_shown(c, mono_ns);
    pthread_mutex_unlock(&c->lock);
    return t;
}

int64_t clock_read(struct clock *c)
{
    return clock_read_at(c, clock_mono_ns());
}

int64_t clock_target_at(struct clock *c, int64_t mono_ns)
{
    pthread_mutex_lock(&c->lock);
    int64_t t = c->running ? clock_whole_us(clock_value(c, mono_ns) + clock_slew_pending(c, mono_ns))
                           : c->frozen_us;
    pthread_mutex_unlock(&c->lock);
    return t;
}

void clock_snapshot_at(struct clock *c, int64_t mono_ns, struct clock_state *out)
{
    pthread_mutex_lock(&c->lock);
    double pending = clock_slew_pending(c, mono_ns);
    *out = (struct clock_state){
        .time_us = clock_shown(c, mono_ns),
        .running = c->running,
        .synchronised = c->synchronised,
        .slewing = fabs(pending) >= CLOCK_SLEW_VISIBLE_US,
        .drift_ppm = c->cfg.drift_ppm,
        .freq_corr_ppm = c->freq_corr * 1e6,
        .slew_left_us = (int64_t)llround(pending),
        .adjustments = c->adjustments,
        .last_policy = c->last_policy,
        .last_delta_us = c->last_delta_us,
        .last_applied_us = c->last_applied_us,
        .error_bound_us = -1,
        .freq_sd_ppm = c->disc.freq_sd_ppm,
        .samples = (int)c->disc.n,
        .last_adjust_ns = c->last_adjust_ns,
        .bound_growth_ppm = c->disc.have_claim ? c->disc.claim_growth_ppm : 0.0,
        .corrections_us = clock_wrap_delta((int64_t)llround(
            clock_value(c, mono_ns) + pending - clock_wrap_double(clock_raw(c, mono_ns)))),
        .epoch = c->epoch,
    };
    /* What is still to be slewed in is still off, on top of the claim (a reference that
     * slews too, started first and slews as fast, so is never further ahead). */
    double claim = discipline_claim_at(&c->disc, mono_ns);
    if (c->running && c->synchronised && claim >= 0)
        out->error_bound_us = (int64_t)ceil(claim + fabs(pending));
    pthread_mutex_unlock(&c->lock);
}

void clock_snapshot(struct clock *c, struct clock_state *out)
{
    clock_snapshot_at(c, clock_mono_ns(), out);
}

/* ---- Adjusting ---- */

static enum clock_error clock_check_adjust(const struct clock *c, int64_t delta_us)
{
    if (!c->running)
        return CLOCK_ERR_STOPPED;
    if (delta_us > CLOCK_HALF_DAY_US || delta_us <= -CLOCK_HALF_DAY_US)
        return CLOCK_ERR_RANGE;
    return CLOCK_OK;
}

static enum clock_policy clock_choose(const struct clock *c, int64_t delta_us)
{
    /* Unsynchronised, the clock may be anywhere: slewing hours would take days. */
    if (!c->synchronised || !clock_within(delta_us, c->cfg.step_threshold_us))
        return CLOCK_POLICY_STEP;
    return CLOCK_POLICY_SLEW;
}

/* Moves the target by correction_us. The shown time must end where the reference's
 * will: it keeps slewing what the reference still slews (follow_us, at most a step's
 * worth), and whatever else separates the two shown times is stepped when it is more
 * than the threshold (or the clock is not synchronised), else slewed with the rest. */
static void clock_follow(struct clock *c, double correction_us, double follow_us, int64_t mono_ns,
                         enum clock_policy *policy)
{
    double limit = (double)c->cfg.step_threshold_us;
    double follow = fmax(-limit, fmin(limit, follow_us));
    clock_rebase(c, mono_ns);
    double own = correction_us + c->slew_left_us - follow;
    *policy = clock_choose(c, (int64_t)llround(own));
    if (*policy == CLOCK_POLICY_STEP) {
        c->base_us = clock_wrap_double(c->base_us + own);
        c->slew_left_us = follow;
    } else {
        c->slew_left_us += correction_us;
    }
}

static void clock_note(struct clock *c, int64_t delta_us, double applied_us, enum clock_policy p)
{
    c->adjustments++;
    c->synchronised = true;
    c->last_policy = p;
    c->last_delta_us = delta_us;
    c->last_applied_us = (int64_t)llround(applied_us);
}

/* A measurement's own fields make sense: hostile or broken peers get a range error. */
static bool clock_measurement_sane(const struct clock_measurement *m)
{
    const struct clock_reference *r = &m->ref;
    return m->bound_us >= 0 && m->bound_us <= CLOCK_HALF_DAY_US && m->spread_us >= 0 &&
           m->spread_us <= CLOCK_HALF_DAY_US && m->age_us >= 0 && m->age_us <= CLOCK_DAY_US &&
           clock_within(r->slew_us, CLOCK_HALF_DAY_US) && clock_within(r->corrections_us, CLOCK_HALF_DAY_US) &&
           fabs(r->freq_ppm) <= 1e6 && r->bound_us <= CLOCK_HALF_DAY_US &&
           r->growth_ppm >= 0 && r->growth_ppm <= 1e6;
}

void clock_reference_of(const struct clock_state *s, struct clock_reference *out)
{
    *out = (struct clock_reference){
        .slew_us = s->slew_left_us,
        .corrections_us = s->corrections_us,
        .freq_ppm = s->freq_corr_ppm,
        .epoch = s->epoch,
        .bound_us = s->error_bound_us,
        .growth_ppm = s->bound_growth_ppm,
    };
}

enum clock_error clock_correct_at(struct clock *c, const struct clock_measurement *m,
                                  int64_t mono_ns, struct clock_correction *out)
{
    struct clock_correction res = {.policy = CLOCK_POLICY_NONE, .error_bound_us = -1};
    int64_t delta_us = m->delta_us, bound_us = m->bound_us;
    pthread_mutex_lock(&c->lock);
    enum clock_error err = clock_check_adjust(c, delta_us);
    if (err == CLOCK_OK && !clock_measurement_sane(m))
        err = CLOCK_ERR_RANGE;
    if (err == CLOCK_OK) {
        double target = clock_value(c, mono_ns) + clock_slew_pending(c, mono_ns);
        struct discipline_input in = {
            .mono_ns = mono_ns,
            .y_us = target + (double)delta_us - clock_wrap_double(clock_raw(c, mono_ns)),
            .delta_us = (double)delta_us,
            /* A bound of zero would weigh without limit; a microsecond is the resolution. */
            .bound_us = bound_us > 0 ? (double)bound_us : 1.0,
            .spread_us = m->spread_us > 0 ? (double)m->spread_us : (bound_us > 0 ? (double)bound_us : 1.0),
            .age_us = (double)m->age_us,
            .ref_epoch = m->ref.epoch,
            .ref_corrections_us = (double)m->ref.corrections_us,
            .ref_freq_ppm = m->ref.freq_ppm,
            .ref_bound_us = (double)m->ref.bound_us,
            .ref_growth_ppm = m->ref.growth_ppm,
            .freq_applied = c->cfg.freq_correction,
            .freq_limit_ppm = CLOCK_MAX_FREQ_CORR_PPM,
        };
        struct discipline_result d;
        discipline_add(&c->disc, &in, &d);
        clock_follow(c, d.correction_us, (double)m->ref.slew_us, mono_ns, &res.policy);
        if (c->cfg.freq_correction && d.have_freq) {
            double max = CLOCK_MAX_FREQ_CORR_PPM;
            c->freq_corr = fmax(-max, fmin(max, d.freq_ppm)) * 1e-6;
        }
        clock_note(c, delta_us, d.correction_us, res.policy);
        c->last_adjust_ns = mono_ns;
        res.applied_us = c->last_applied_us;
        res.freq_corr_ppm = c->freq_corr * 1e6;
        res.error_bound_us = (int64_t)ceil(d.bound_us);
        res.samples = (int)d.samples;
        res.reset = d.reset;
    }
    pthread_mutex_unlock(&c->lock);
    if (out != NULL)
        *out = res;
    return err;
}

enum clock_error clock_correct(struct clock *c, const struct clock_measurement *m,
                               struct clock_correction *out)
{
    return clock_correct_at(c, m, clock_mono_ns(), out);
}

enum clock_error clock_adjust_at(struct clock *c, int64_t delta_us, int64_t mono_ns,
                                 enum clock_policy *policy)
{
    pthread_mutex_lock(&c->lock);
    enum clock_error err = clock_check_adjust(c, delta_us);
    enum clock_policy applied = CLOCK_POLICY_NONE;
    if (err == CLOCK_OK) {
        applied = clock_choose(c, delta_us);
        /* A command is relative to the time shown: what was still to slew is dropped. */
        clock_rebase(c, mono_ns);
        if (applied == CLOCK_POLICY_STEP)
            c->base_us = clock_wrap_double(c->base_us + (double)delta_us);
        c->slew_left_us = applied == CLOCK_POLICY_STEP ? 0.0 : (double)delta_us;
        clock_note(c, delta_us, (double)delta_us, applied);
        c->last_adjust_ns = mono_ns;
        /* Whatever the clock claimed no longer holds after a move nobody measured. */
        discipline_drop_claim(&c->disc);
    }
    pthread_mutex_unlock(&c->lock);
    if (policy != NULL)
        *policy = applied;
    return err;
}

enum clock_error clock_adjust(struct clock *c, int64_t delta_us, enum clock_policy *policy)
{
    return clock_adjust_at(c, delta_us, clock_mono_ns(), policy);
}

/* ---- Setting by hand ---- */

void clock_stop_at(struct clock *c, int64_t mono_ns)
{
    pthread_mutex_lock(&c->lock);
    /* A second "Modify" must not replace the time the person is looking at. */
    if (c->running) {
        c->frozen_us = clock_shown(c, mono_ns);
        c->running = false;
    }
    pthread_mutex_unlock(&c->lock);
}

void clock_stop(struct clock *c)
{
    clock_stop_at(c, clock_mono_ns());
}

void clock_resume_at(struct clock *c, int64_t mono_ns)
{
    (void)mono_ns; /* the timeline never stopped underneath, so nothing to rebase */
    pthread_mutex_lock(&c->lock);
    c->running = true;
    pthread_mutex_unlock(&c->lock);
}

void clock_resume(struct clock *c)
{
    clock_resume_at(c, clock_mono_ns());
}

enum clock_error clock_set_at(struct clock *c, int64_t time_us, int64_t mono_ns)
{
    if (time_us < 0 || time_us >= CLOCK_DAY_US)
        return CLOCK_ERR_RANGE;
    pthread_mutex_lock(&c->lock);
    c->base_us = (double)time_us;
    c->mono_base_ns = mono_ns;
    c->slew_left_us = 0.0;
    c->running = true;
    /* The person's value is not a measurement: the next adjustment steps, and no rate
     * estimate may span the jump. freq_corr stays, the hardware drift did not change. */
    c->synchronised = false;
    c->last_adjust_ns = 0;
    /* The measurements stay: they relate the reference to the raw clock, which the
     * person did not move. The claim goes. */
    discipline_drop_claim(&c->disc);
    pthread_mutex_unlock(&c->lock);
    return CLOCK_OK;
}

enum clock_error clock_set(struct clock *c, int64_t time_us)
{
    return clock_set_at(c, time_us, clock_mono_ns());
}
