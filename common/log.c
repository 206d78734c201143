#include "log.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static const char *log_program = "bibliotime";
static enum log_level log_min = LOG_LEVEL_INFO;

static const char *const log_names[] = {"DEBUG", "INFO", "WARN", "ERROR"};

void log_init(const char *program, enum log_level min_level)
{
    log_program = program;
    log_min = min_level;
    /* Line-buffer stderr so lines from daemons reach their log files whole and at once. */
    setvbuf(stderr, NULL, _IOLBF, 0);
}

int log_parse_level(const char *name)
{
    for (int i = 0; i < 4; i++)
        if (strcasecmp(name, log_names[i]) == 0)
            return i;
    if (strcasecmp(name, "warning") == 0)
        return LOG_LEVEL_WARN;
    return -1;
}

void log_vmsg(enum log_level level, const char *context, const char *fmt, va_list ap)
{
    if (level < log_min)
        return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    char text[1024];
    vsnprintf(text, sizeof text, fmt, ap);
    fprintf(stderr, "%s.%03ldZ %-5s %s %s: %s\n", stamp, ts.tv_nsec / 1000000L,
            log_names[level], log_program, context, text);
}

void log_msg(enum log_level level, const char *context, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vmsg(level, context, fmt, ap);
    va_end(ap);
}

bool log_rate_ok(struct log_rate *r, int burst)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
    if (now - r->window_ns > 1000000000LL) {
        r->window_ns = now;
        r->in_window = 0;
    }
    return r->in_window++ < burst;
}
