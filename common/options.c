#include "options.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>



int options_long(const char *name, const char *text, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || end == text || *end != '\0' || v < min || v > max) {
        fprintf(stderr, "%s: --%s: '%s' is not a whole number from %ld to %ld\n",
                program_invocation_short_name, name, text, min, max);
        return -1;
    }
    *out = v;
    return 0;
}

int options_double(const char *name, const char *text, double min, double max, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || end == text || *end != '\0' || !isfinite(v) || v < min || v > max) {
        fprintf(stderr, "%s: --%s: '%s' is not a number from %g to %g\n",
                program_invocation_short_name, name, text, min, max);
        return -1;
    }
    *out = v;
    return 0;
}

int options_seconds_us(const char *name, const char *text, double min_s, double max_s, int64_t *out)
{
    double s;
    if (options_double(name, text, min_s, max_s, &s) < 0)
        return -1;
    *out = (int64_t)llround(s * 1e6);
    return 0;
}
