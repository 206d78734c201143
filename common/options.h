/* options: strict parsing of command-line numbers, so "--tm 1O" is an error, not 1. */
#ifndef BT_OPTIONS_H
#define BT_OPTIONS_H

#include <stdint.h>

/* Each returns 0, or -1 after printing "PROGRAM: --NAME: why" to stderr. */
int options_long(const char *name, const char *text, long min, long max, long *out);
int options_double(const char *name, const char *text, double min, double max, double *out);
/* Seconds with an optional fraction ("10", "0.5") into microseconds. */
int options_seconds_us(const char *name, const char *text, double min_s, double max_s, int64_t *out);

#endif
