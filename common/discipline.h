/* discipline: what a clock does with measurements of its offset against a reference
 * (DESIGN.md section 3, README "How the clocks are kept").
 *
 * A measurement says "the reference is delta ahead of you, +/- bound". Applying every
 * delta whole chases the noise of the link, and a frequency taken from two successive
 * deltas amplifies it. So a clock keeps its last measurements as samples of
 *     y = reference - raw clock
 * where the raw clock is the clock with no correction at all (the oscillator, here
 * start + monotonic time * (1 + drift)). Corrections do not move y, so a sample stays
 * valid whatever was applied since, and a line fitted through the samples (regress:
 * weighted by the measurements' bounds, outliers rejected, a window that shrinks when
 * the frequency changes) gives both the offset now and the frequency: the correction
 * applied is the line's offset, not the last measurement, and the rate correction is
 * the line's slope.
 *
 * The reference corrects itself too (the coordinator follows UTC): it says with each
 * measurement how far its target is from its own oscillator and at what rate it runs,
 * and the samples are kept as *reference oscillator - raw clock*: two oscillators,
 * whose rates never change, so the line is straight whatever either side corrects,
 * and the clock runs at the line's slope plus the reference's rate correction. The
 * reference's own corrections are followed as announced moves, not taken for drift.
 *
 * A measurement further from zero (net of the reference's own moves) than the clock's
 * claim and the measurement's bound together means the reference moved unannounced
 * (it was set by hand, or restarted: its epoch changed): the history is dropped and
 * the clock follows the new measurement.
 *
 * The clock also claims a bound on its offset from the reference: the last
 * measurement's bound plus how far the applied correction was from it plus what the
 * reference claims on itself (it may move by that much when it next corrects itself),
 * growing with time by what the frequency may still be wrong. Pure arithmetic on a
 * struct; the clock module holds the lock. */
#ifndef BT_DISCIPLINE_H
#define BT_DISCIPLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DISCIPLINE_MAX_SAMPLES 32
/* Growth of the claimed bound while the frequency is unknown: the largest rate
 * difference between two clocks (CRISTIAN_MAX_RATE_PPM: drift and correction are each
 * bounded by 1000 ppm, on both sides). */
#define DISCIPLINE_UNKNOWN_FREQ_PPM 4000.0
/* Added to the estimate's own uncertainty: the reference also changes its rate as it
 * follows UTC, and the line cannot know in advance. */
#define DISCIPLINE_FREQ_MARGIN_PPM 10.0

struct discipline_sample {
    int64_t mono_ns;
    double y_us;        /* reference's oscillator - raw clock (unwrapped) */
    double bound_us;    /* the measurement's +/- bound */
    double spread_us;   /* its quality figure (what weighs it) */
    double rate_us;     /* what this clock's rate uncertainty then could add to it */
};

struct discipline {
    struct discipline_sample s[DISCIPLINE_MAX_SAMPLES];
    size_t n;                /* oldest first */
    bool have_freq;
    double freq_ppm;         /* reference's oscillator rate - raw rate: the line's slope */
    double freq_sd_ppm;      /* its standard error */
    bool have_claim;
    int64_t claim_mono_ns;
    double claim_us;         /* claimed |offset| at claim_mono_ns */
    double claim_growth_ppm; /* how fast the claim grows */
    uint64_t resets;         /* histories dropped because the reference moved */
    uint64_t ref_epoch;      /* the reference of the samples, and what it said last */
    double ref_corrections_us, ref_freq_ppm;
    int64_t ref_mono_ns;
};

struct discipline_input {
    int64_t mono_ns;
    double y_us;          /* reference - raw clock at mono_ns, wrapped into +/-12 h */
    double delta_us;      /* reference - this clock (targets): the measurement */
    double bound_us;      /* its honest bound, > 0 */
    double spread_us;     /* how good it was, for its weight (> 0) */
    double age_us;        /* how long ago it was taken */
    /* What the reference says of itself (clock_reference): epoch 0 means it says
     * nothing, and its moves cannot be told from its drift. */
    uint64_t ref_epoch;
    double ref_corrections_us;
    double ref_freq_ppm;
    double ref_bound_us;  /* <= 0: none */
    double ref_growth_ppm;
    bool freq_applied;    /* the clock runs at the frequency found (correction on) */
    double freq_limit_ppm;/* ... but at most this much of it */
};

struct discipline_result {
    double correction_us; /* add this to the clock's target now */
    double reference_moved_us; /* of which the reference's own announced moves */
    bool have_freq;
    double freq_ppm;      /* the rate correction to run at, when have_freq: the line's
                             slope plus the reference's own rate correction */
    double freq_sd_ppm;
    bool reset;           /* this measurement dropped the history */
    size_t samples;       /* in the line */
    double bound_us;      /* claimed |offset| right after the correction */
};

void discipline_init(struct discipline *d);
/* Takes a measurement; says what to apply. */
void discipline_add(struct discipline *d, const struct discipline_input *in,
                    struct discipline_result *out);
/* The claimed |offset| at mono_ns; -1 when there is no claim. */
double discipline_claim_at(const struct discipline *d, int64_t mono_ns);
/* Forget the claim (the clock was set by hand or moved by a command). */
void discipline_drop_claim(struct discipline *d);

#endif
