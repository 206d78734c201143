/* proc: what every Bibliotime program shares on its command line (clock, logging,
 * --allow, --headless) and how it sets up its clock from those options. */
#ifndef BT_PROC_H
#define BT_PROC_H

#include "allow.h"
#include "clock.h"

#include <getopt.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdint.h>

enum {
    PROC_OPT_DRIFT = 1000,
    PROC_OPT_STEP,
    PROC_OPT_NO_FREQ,
    PROC_OPT_START,
    PROC_OPT_SEED,
    PROC_OPT_HEADLESS,
    PROC_OPT_LOG_LEVEL,
    PROC_OPT_ALLOW,
    PROC_OPT_RPC_TIMEOUT,
    PROC_OPT_SCREENSHOT,
    PROC_OPT_POSITION,
    PROC_OPT_KEY_FILE,
    PROC_OPT_USER,
    PROC_OPT_PEER_CONNS,
    PROC_OPT_IDLE,
    PROC_OPT_CONFIG,
    PROC_OPT_VERSION,
    PROC_OPT_FIRST_FREE /* programs number their own options from here */
};

#define PROC_LONG_OPTIONS                                               \
    {"drift-ppm", required_argument, NULL, PROC_OPT_DRIFT},             \
    {"step-threshold", required_argument, NULL, PROC_OPT_STEP},         \
    {"no-freq-correction", no_argument, NULL, PROC_OPT_NO_FREQ},        \
    {"start-time", required_argument, NULL, PROC_OPT_START},            \
    {"seed", required_argument, NULL, PROC_OPT_SEED},                   \
    {"headless", no_argument, NULL, PROC_OPT_HEADLESS},                 \
    {"log-level", required_argument, NULL, PROC_OPT_LOG_LEVEL},         \
    {"allow", required_argument, NULL, PROC_OPT_ALLOW},                 \
    {"rpc-timeout-ms", required_argument, NULL, PROC_OPT_RPC_TIMEOUT},  \
    {"screenshot", required_argument, NULL, PROC_OPT_SCREENSHOT},       \
    {"position", required_argument, NULL, PROC_OPT_POSITION},           \
    {"key-file", required_argument, NULL, PROC_OPT_KEY_FILE},           \
    {"user", required_argument, NULL, PROC_OPT_USER},                   \
    {"max-peer-connections", required_argument, NULL, PROC_OPT_PEER_CONNS}, \
    {"idle-timeout", required_argument, NULL, PROC_OPT_IDLE},           \
    {"config", required_argument, NULL, PROC_OPT_CONFIG},               \
    {"version", no_argument, NULL, PROC_OPT_VERSION},                   \
    {"help", no_argument, NULL, 'h'}

/* The help text of the shared options. */
extern const char proc_common_help[];

struct proc_options {
    bool headless;
    int log_level;
    bool log_level_given;
    double drift_max_ppm;
    int64_t step_threshold_us;
    bool freq_correction;
    bool have_start;
    int64_t start_us;
    bool have_seed;
    unsigned long seed;
    struct allow_list allow;
    int rpc_timeout_ms;
    const char *screenshot;     /* --screenshot FILE */
    int x, y;                   /* --position X,Y of the window */
    const char *key_file;       /* --key-file: the keys of the control calls */
    const char *user;           /* --user: who to become after start-up */
    int peer_conns;             /* --max-peer-connections */
    int idle_s;                 /* --idle-timeout */
};

void proc_options_default(struct proc_options *o);
/* Handles a shared option: 1 if it was one, 0 if not, -1 on a bad value (printed). */
int proc_option(struct proc_options *o, int opt, const char *arg);

/* A program's own option: 0 when taken, -1 on a bad value (already printed). */
typedef int (*proc_own_option_fn)(int opt, const char *arg, void *ctx);

/* Parses the command line: the shared options and the program's own (own_opts ends
 * with a zero entry). Returns -1 to go on, 0 after --help, 2 on a usage error. */
int proc_parse(int argc, char **argv, struct proc_options *o, const struct option *own_opts,
               proc_own_option_fn own, void *ctx, void (*usage)(FILE *));
/* After parsing: logging, the random seed, the default --allow (loopback), the key file
 * (callauth), then --user. 0, or -1 (printed) if the keys cannot be read or the user
 * cannot be taken: the program exits. */
int proc_options_finish(struct proc_options *o, const char *program);
/* A daemon that takes control calls says at start-up how it checks them. */
void proc_say_keys(const struct proc_options *o);
/* A clock that starts at --start-time or a random time, with a random drift up to
 * --drift-ppm; logged. */
void proc_clock_init(const struct proc_options *o, struct clock *c);
/* A window: runs on the calling thread until closed; 0, or -1 with err if it could not
 * be opened. */
typedef int (*proc_window_fn)(void *ctx, char *err, size_t errlen);

/* Serves RPC until the process is told to stop. With a window (not --headless), the
 * window runs on this thread (SDL wants the main thread) and the RPC loop on another;
 * closing the window stops the process. No display: says so and serves headless.
 * Returns 1 if a window ran, 0 if headless. */
int proc_serve(const struct proc_options *o, proc_window_fn window, void *ctx);

#endif
