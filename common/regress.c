#include "regress.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A standard error that is not known (no degree of freedom left). */
#define REGRESS_UNKNOWN_SD 1e18
/* Outliers: beyond this many robust standard deviations (MAD * 1.4826), at most a
 * quarter of the points, and only with enough points for the spread to mean something. */
#define REGRESS_OUTLIER_Z 4.0
#define REGRESS_OUTLIER_MIN_POINTS 6
/* Never an outlier within this many of its own sigmas, however tight the others are. */
#define REGRESS_OUTLIER_MIN_Z 3.0
/* Residuals far below the points' sigmas carry no sign worth testing (a line that
 * fits better than the points claim): the runs test needs them at least this large. */
#define REGRESS_RUNS_MIN_SCALE 0.25

static void regress_solve(const struct regress_point *p, size_t n, const double *fixed_slope,
                          struct regress_fit *f)
{
    double sw = 0, swx = 0, swy = 0;
    size_t used = 0;
    for (size_t i = f->first; i < n; i++) {
        if (f->outlier[i])
            continue;
        double w = 1.0 / (p[i].sigma * p[i].sigma);
        sw += w;
        swx += w * p[i].x;
        swy += w * p[i].y;
        used++;
    }
    f->used = used;
    f->sum_w = sw;
    if (used == 0)
        return;
    f->x_mean = swx / sw;
    double y_mean = swy / sw, sxx = 0, sxy = 0;
    for (size_t i = f->first; i < n; i++) {
        if (f->outlier[i])
            continue;
        double w = 1.0 / (p[i].sigma * p[i].sigma), dx = p[i].x - f->x_mean;
        sxx += w * dx * dx;
        sxy += w * dx * (p[i].y - y_mean);
    }
    f->sxx = sxx;
    f->have_slope = fixed_slope == NULL && used >= 2 && sxx > 0;
    f->b = f->have_slope ? sxy / sxx : (fixed_slope ? *fixed_slope : 0.0);
    f->a = y_mean - f->b * f->x_mean;
    double swr2 = 0;
    for (size_t i = f->first; i < n; i++) {
        if (f->outlier[i])
            continue;
        double r = p[i].y - regress_at(f, p[i].x);
        swr2 += r * r / (p[i].sigma * p[i].sigma);
    }
    size_t dof = used - (f->have_slope ? 2 : 1);
    f->scale2 = dof > 0 ? swr2 / (double)dof : -1.0;
}

static int regress_cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

/* Marks the worst points as outliers; true if any was marked. */
static bool regress_mark_outliers(const struct regress_point *p, size_t n, struct regress_fit *f)
{
    if (f->used < REGRESS_OUTLIER_MIN_POINTS)
        return false;
    double z[REGRESS_MAX], sorted[REGRESS_MAX];
    size_t m = 0;
    for (size_t i = f->first; i < n; i++) {
        z[i] = fabs(p[i].y - regress_at(f, p[i].x)) / p[i].sigma;
        if (!f->outlier[i])
            sorted[m++] = z[i];
    }
    qsort(sorted, m, sizeof sorted[0], regress_cmp_double);
    double mad = m % 2 ? sorted[m / 2] : (sorted[m / 2 - 1] + sorted[m / 2]) / 2;
    double limit = fmax(REGRESS_OUTLIER_Z * 1.4826 * mad, REGRESS_OUTLIER_MIN_Z);
    size_t budget = m / 4, marked = 0;
    /* Worst first, so the budget goes to the points that are furthest out. */
    for (size_t k = m; k-- > 0 && marked < budget && sorted[k] > limit;) {
        for (size_t i = f->first; i < n; i++) {
            if (!f->outlier[i] && z[i] == sorted[k]) {
                f->outlier[i] = true;
                marked++;
                break;
            }
        }
    }
    return marked > 0;
}

bool regress_too_few_runs(const bool *positive, size_t n)
{
    if (n < 8)
        return false;
    double n1 = 0, n2 = 0, runs = 1;
    for (size_t i = 0; i < n; i++) {
        if (positive[i])
            n1++;
        else
            n2++;
        if (i > 0 && positive[i] != positive[i - 1])
            runs++;
    }
    if (n1 == 0 || n2 == 0)
        return true;
    double nn = (double)n, mean = 2 * n1 * n2 / nn + 1;
    double var = 2 * n1 * n2 * (2 * n1 * n2 - nn) / (nn * nn * (nn - 1));
    /* One-sided 1 %: z = 2.33. */
    return runs < mean - 2.33 * sqrt(var);
}

static bool regress_runs_fail(const struct regress_point *p, size_t n, const struct regress_fit *f)
{
    if (f->scale2 < REGRESS_RUNS_MIN_SCALE * REGRESS_RUNS_MIN_SCALE)
        return false;
    bool sign[REGRESS_MAX];
    size_t m = 0;
    for (size_t i = f->first; i < n; i++)
        if (!f->outlier[i])
            sign[m++] = p[i].y - regress_at(f, p[i].x) >= 0;
    return regress_too_few_runs(sign, m);
}

size_t regress_fit(const struct regress_point *p, size_t n, size_t min_keep,
                   const double *fixed_slope, struct regress_fit *out)
{
    memset(out, 0, sizeof *out);
    if (n > REGRESS_MAX) {
        /* Keep the newest. */
        p += n - REGRESS_MAX;
        n = REGRESS_MAX;
    }
    if (min_keep < 3)
        min_keep = 3;
    for (;;) {
        memset(out->outlier, 0, sizeof out->outlier);
        regress_solve(p, n, fixed_slope, out);
        if (regress_mark_outliers(p, n, out))
            regress_solve(p, n, fixed_slope, out);
        size_t kept = n - out->first;
        if (kept <= min_keep || !regress_runs_fail(p, n, out))
            break;
        size_t drop = kept / 4 ? kept / 4 : 1;
        out->first += kept - drop < min_keep ? kept - min_keep : drop;
    }
    return out->used;
}

double regress_at(const struct regress_fit *f, double x)
{
    return f->a + f->b * x;
}

double regress_sd_at(const struct regress_fit *f, double x)
{
    if (f->used == 0 || f->scale2 < 0)
        return REGRESS_UNKNOWN_SD;
    double v = 1.0 / f->sum_w;
    if (f->have_slope)
        v += (x - f->x_mean) * (x - f->x_mean) / f->sxx;
    return sqrt(f->scale2 * v);
}

double regress_sd_slope(const struct regress_fit *f)
{
    if (!f->have_slope || f->scale2 < 0)
        return REGRESS_UNKNOWN_SD;
    return sqrt(f->scale2 / f->sxx);
}
