/* regress: a weighted least-squares line through a clock's offset samples, with the two
 * checks that keep it honest on noisy, drifting data (after chrony's regress.c):
 *  - a runs test on the signs of the residuals: too few runs means the line does not
 *    fit the older samples (the frequency changed), so the oldest are dropped;
 *  - rejection of outliers: residuals far beyond the robust spread of the others.
 * Pure arithmetic, no state. Points go oldest first; x is usually seconds relative to
 * the newest point, y microseconds, sigma the point's relative uncertainty. */
#ifndef BT_REGRESS_H
#define BT_REGRESS_H

#include <stdbool.h>
#include <stddef.h>

#define REGRESS_MAX 64

struct regress_point {
    double x, y;
    double sigma; /* > 0: weight 1/sigma^2 */
};

struct regress_fit {
    size_t first;               /* oldest point kept (the ones before failed the runs test) */
    size_t used;                /* points in the fit: kept and not outliers */
    bool outlier[REGRESS_MAX];  /* per input point */
    bool have_slope;            /* false: slope fixed by the caller, or too few points */
    double a, b;                /* y = a + b * x */
    double x_mean, sum_w, sxx;  /* for the standard errors */
    double scale2;              /* residual variance per unit weight (>= floor) */
};

/* Fits y = a + b x. With fixed_slope not NULL, or fewer than 3 usable points, the slope
 * is not estimated: b = *fixed_slope (0 if NULL) and only a is fitted. min_keep: the
 * runs test never drops below this many points. Returns the number of points used
 * (0: no point). */
size_t regress_fit(const struct regress_point *p, size_t n, size_t min_keep,
                   const double *fixed_slope, struct regress_fit *out);
/* The line's value at x and its standard error there. */
double regress_at(const struct regress_fit *f, double x);
double regress_sd_at(const struct regress_fit *f, double x);
/* Standard error of the slope (a large value when the slope was not fitted). */
double regress_sd_slope(const struct regress_fit *f);
/* Wald-Wolfowitz: true when n signs (true = positive) have fewer runs than random noise
 * gives in 99 % of cases; n < 8 always passes. */
bool regress_too_few_runs(const bool *positive, size_t n);

#endif
