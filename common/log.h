/* log: one line per event, "TIME LEVEL program context: message", to stderr.
 * Thread-safe (one fprintf per line). */
#ifndef BT_LOG_H
#define BT_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

enum log_level { LOG_LEVEL_DEBUG = 0, LOG_LEVEL_INFO, LOG_LEVEL_WARN, LOG_LEVEL_ERROR };

void log_init(const char *program, enum log_level min_level);
/* Parses "debug", "info", "warn" or "error"; returns -1 on anything else. */
int log_parse_level(const char *name);

void log_msg(enum log_level level, const char *context, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void log_vmsg(enum log_level level, const char *context, const char *fmt, va_list ap);

/* A flood of one kind of event must not become a flood of lines: true while fewer than
 * `burst` lines were let through this second from the place that owns r. */
struct log_rate {
    int64_t window_ns;
    int in_window;
};
bool log_rate_ok(struct log_rate *r, int burst);

#define log_debug(ctx, ...) log_msg(LOG_LEVEL_DEBUG, ctx, __VA_ARGS__)
#define log_info(ctx, ...) log_msg(LOG_LEVEL_INFO, ctx, __VA_ARGS__)
#define log_warn(ctx, ...) log_msg(LOG_LEVEL_WARN, ctx, __VA_ARGS__)
#define log_error(ctx, ...) log_msg(LOG_LEVEL_ERROR, ctx, __VA_ARGS__)

#endif
