#include "discipline.h"

#include "regress.h"

#include <math.h>
#include <string.h>

#define DISCIPLINE_DAY_US 86400000000.0
/* The runs test never trims the window below this many samples. */
#define DISCIPLINE_MIN_KEEP 4
/* A sample's weight comes from how much its bound exceeds the window's best: the best
 * bound is mostly the link's fixed delay, the same in every round, so it says nothing
 * about a sample's error; what a round adds to it (jitter, a spike) does. The floor
 * keeps equal rounds equal and no weight infinite. */
#define DISCIPLINE_SIGMA_FLOOR_US 1.0
#define DISCIPLINE_SIGMA_FLOOR_FRACTION 0.01
/* Standard errors become "at most" by this factor. */
#define DISCIPLINE_SD_FACTOR 3.0

static double discipline_wrap(double v)
{
    v = fmod(v, DISCIPLINE_DAY_US);
    if (v > DISCIPLINE_DAY_US / 2)
        v -= DISCIPLINE_DAY_US;
    else if (v <= -DISCIPLINE_DAY_US / 2)
        v += DISCIPLINE_DAY_US;
    return v;
}

void discipline_init(struct discipline *d)
{
    memset(d, 0, sizeof *d);
}

/* A frequency needs three samples over at least this long: two samples milliseconds
 * apart (a JOIN and the first round) give a slope of pure noise. */
#define DISCIPLINE_MIN_SLOPE_SAMPLES 3
#define DISCIPLINE_MIN_SLOPE_SPAN_NS INT64_C(1000000000)

static bool discipline_slope_allowed(const struct discipline *d)
{
    return d->n >= DISCIPLINE_MIN_SLOPE_SAMPLES &&
           d->s[d->n - 1].mono_ns - d->s[0].mono_ns >= DISCIPLINE_MIN_SLOPE_SPAN_NS;
}

static void discipline_fit(const struct discipline *d, int64_t now_ns, struct regress_fit *f)
{
    struct regress_point p[DISCIPLINE_MAX_SAMPLES];
    double smin = d->s[0].spread_us;
    for (size_t i = 1; i < d->n; i++)
        smin = fmin(smin, d->s[i].spread_us);
    double floor = DISCIPLINE_SIGMA_FLOOR_US + DISCIPLINE_SIGMA_FLOOR_FRACTION * smin;
    for (size_t i = 0; i < d->n; i++) {
        p[i].x = (double)(d->s[i].mono_ns - now_ns) / 1e9;
        p[i].y = d->s[i].y_us;
        p[i].sigma = floor + (d->s[i].spread_us - smin) + d->s[i].rate_us;
    }
    /* Without enough samples for a slope, the known frequency carries the older ones to
     * now; with none known, an older sample says nothing about now (the clock drifted
     * since by an unknown rate): the newest alone. */
    if (discipline_slope_allowed(d))
        regress_fit(p, d->n, DISCIPLINE_MIN_KEEP, NULL, f);
    else if (d->have_freq)
        regress_fit(p, d->n, DISCIPLINE_MIN_KEEP, &d->freq_ppm, f);
    else
        regress_fit(p + d->n - 1, 1, DISCIPLINE_MIN_KEEP, &(double){0.0}, f);
}

static void discipline_push(struct discipline *d, const struct discipline_sample *s)
{
    if (d->n == DISCIPLINE_MAX_SAMPLES) {
        memmove(&d->s[0], &d->s[1], (DISCIPLINE_MAX_SAMPLES - 1) * sizeof d->s[0]);
        d->n--;
    }
    d->s[d->n++] = *s;
}

/* How fast the offset may grow from now on, in ppm: the frequency's uncertainty, the
 * part of the frequency the clock does not run at (correction off, or beyond its
 * limit), what the reference's own claim grows by, plus a margin for the reference
 * changing its rate. */
static double discipline_growth(const struct discipline *d, const struct regress_fit *f,
                                const struct discipline_input *in)
{
    double err = DISCIPLINE_UNKNOWN_FREQ_PPM;
    if (f->have_slope) {
        const struct discipline_sample *old = &d->s[f->first], *new = &d->s[d->n - 1];
        double span_s = (double)(new->mono_ns - old->mono_ns) / 1e9;
        /* Two samples bound the slope by their bounds over the time between them. */
        if (span_s > 0)
            err = fmin(err, (old->bound_us + new->bound_us) / span_s);
        if (f->used > 2)
            err = fmin(err, DISCIPLINE_SD_FACTOR * regress_sd_slope(f));
    }
    double run = 0.0;
    if (d->have_freq) {
        double want = d->freq_ppm + in->ref_freq_ppm;
        double applied = in->freq_applied ? fmax(-in->freq_limit_ppm, fmin(in->freq_limit_ppm, want)) : 0.0;
        run = fabs(want - applied);
    }
    return err + run + fmax(0.0, in->ref_growth_ppm) + DISCIPLINE_FREQ_MARGIN_PPM;
}

double discipline_claim_at(const struct discipline *d, int64_t mono_ns)
{
    if (!d->have_claim)
        return -1.0;
    double dt_us = (double)(mono_ns - d->claim_mono_ns) / 1000.0;
    return d->claim_us + (dt_us > 0 ? dt_us * d->claim_growth_ppm * 1e-6 : 0.0);
}

void discipline_drop_claim(struct discipline *d)
{
    d->have_claim = false;
}

void discipline_add(struct discipline *d, const struct discipline_input *in,
                    struct discipline_result *out)
{
    memset(out, 0, sizeof *out);
    /* The reference's own corrections since the last sample are announced moves; a
     * reference that restarted (another epoch) or says nothing cannot be followed so. */
    bool same_ref = in->ref_epoch == d->ref_epoch, announced = same_ref && in->ref_epoch != 0;
    /* What the reference moved by itself since the last sample, beyond running at the
     * rate it said then (which this clock runs at too). */
    double moved = announced ? discipline_wrap(in->ref_corrections_us - d->ref_corrections_us) -
                                   d->ref_freq_ppm * 1e-6 * (double)(in->mono_ns - d->ref_mono_ns) / 1000.0
                             : 0.0;
    double net = in->ref_epoch != 0 ? in->ref_corrections_us : 0.0;
    double rate_unc = d->have_claim && d->n > 0 ? d->claim_growth_ppm : DISCIPLINE_UNKNOWN_FREQ_PPM;
    /* A measurement taken a while ago: the clocks may have drifted apart since. */
    double bound = in->bound_us + fmax(0.0, in->age_us) * rate_unc * 1e-6;
    double y = discipline_wrap(in->y_us - net);
    if (d->n > 0)
        y = d->s[d->n - 1].y_us + discipline_wrap(y - d->s[d->n - 1].y_us);
    /* Both the claim and the measurement's bound are honest, so a measurement further
     * from the announced move than the two together means the reference itself moved
     * unannounced; so does another epoch. */
    double claim = discipline_claim_at(d, in->mono_ns);
    bool contradicts = claim >= 0 && fabs(in->delta_us - moved) > claim + bound + 1.0;
    if (d->n > 0 && (contradicts || !same_ref)) {
        d->n = 0;
        d->resets++;
        out->reset = true;
        y = discipline_wrap(in->y_us - net);
        /* Another reference clock: another oscillator, so the slope learnt means nothing
         * for it; but the rate this clock ran at (slope + the old reference's rate
         * correction) was right, and stays the best guess against the new one. */
        if (!same_ref && d->have_freq)
            d->freq_ppm += d->ref_freq_ppm - in->ref_freq_ppm;
    }
    d->ref_epoch = in->ref_epoch;
    d->ref_corrections_us = in->ref_corrections_us;
    d->ref_freq_ppm = in->ref_freq_ppm;
    d->ref_mono_ns = in->mono_ns;
    /* A round's probes span some time, over which the estimate assumed the two clocks
     * ran at one rate; the bound allows for the largest difference (the part of it above
     * the spread). Scaled by how well this clock knew its rate then, that is how far
     * the estimate may be off because it did not: large in the first rounds, nothing
     * once the frequency is known. */
    double spread = in->spread_us > 0 ? in->spread_us : in->bound_us;
    struct discipline_sample smp = {
        .mono_ns = in->mono_ns, .y_us = y, .bound_us = bound, .spread_us = spread,
        .rate_us = fmax(0.0, bound - spread) * fmin(1.0, rate_unc / DISCIPLINE_UNKNOWN_FREQ_PPM)};
    discipline_push(d, &smp);
    struct regress_fit f;
    discipline_fit(d, in->mono_ns, &f);
    if (f.have_slope) {
        d->have_freq = true;
        d->freq_ppm = f.b;
        d->freq_sd_ppm = regress_sd_slope(&f);
    }
    /* The line's offset now, in place of the measurement's. */
    out->correction_us = in->delta_us - (y - regress_at(&f, 0.0));
    out->reference_moved_us = out->reset ? 0.0 : moved;
    out->have_freq = d->have_freq;
    out->freq_ppm = d->freq_ppm + in->ref_freq_ppm;
    out->freq_sd_ppm = d->freq_sd_ppm;
    out->samples = f.used;
    d->have_claim = true;
    d->claim_mono_ns = in->mono_ns;
    d->claim_us = bound + fabs(in->delta_us - out->correction_us) + fmax(0.0, in->ref_bound_us);
    d->claim_growth_ppm = discipline_growth(d, &f, in);
    out->bound_us = d->claim_us;
}
