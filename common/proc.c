#include "proc.h"

#include "callauth.h"
#include "config.h"
#include "log.h"
#include "options.h"
#include "privdrop.h"
#include "rpcconn.h"
#include "rpcserver.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef BT_VERSION
#define BT_VERSION "1.0"
#endif

/* Installed programs are built with the folder of their config files (make install). */
#ifndef BT_CONFIG_DIR
#define BT_CONFIG_DIR ""
#define PROC_CONFIG_DEFAULT_HELP ""
#else
#define PROC_CONFIG_DEFAULT_HELP \
    ";\n                          default " BT_CONFIG_DIR "/NAME.conf if it exists"
#endif

const char proc_common_help[] =
    "Clock and common options:\n"
    "  --drift-ppm PPM         largest simulated drift of this clock (default 200);\n"
    "                          the drift is random, between PPM/2 and PPM, either sign\n"
    "  --step-threshold SEC    step corrections larger than this, slew smaller (default 1)\n"
    "  --no-freq-correction    do not estimate and correct the drift\n"
    "  --start-time HH:MM:SS   start the clock here instead of at a random time\n"
    "  --seed N                seed for the random start and drift (default: time and pid)\n"
    "  --allow ADDR[/BITS]     peer allowed to change this process's state; repeatable\n"
    "                          (default 127.0.0.0/8 and ::1)\n"
    "  --rpc-timeout-ms MS     timeout of every RPC this process makes (default 500)\n"
    "  --headless              no window (also when there is no display)\n"
    "  --position X,Y          where the window goes on the screen\n"
    "  --screenshot FILE       write the window as a PNG when F12 is pressed and when\n"
    "                          it closes\n"
    "  --key-file FILE         the keys that sign the control calls (JOIN, ADJUST,\n"
    "                          SETQUERY, GETQUERY), chrony's format: \"ID SHA256 HEX:...\"\n"
    "                          lines, mode 0600; without it nothing is signed and\n"
    "                          control calls are taken from loopback only\n"
    "  --user NAME             started as root: become NAME right after reading the key\n"
    "                          file, before opening anything else\n"
    "  --max-peer-connections N  TCP connections one address may hold open (default 256);\n"
    "                          past it, and past 4096 in all, connections are refused\n"
    "  --idle-timeout SEC      close a connection that sent nothing this long (default\n"
    "                          120), unless a call on it is waiting for its answer\n"
    "  --config FILE           options from FILE, one a line: \"name value\" (a long\n"
    "                          option without its dashes), # comments; the command\n"
    "                          line wins" PROC_CONFIG_DEFAULT_HELP "\n"
    "  --log-level LEVEL       debug, info, warn or error (default info)\n"
    "  --version               the program's name and version\n"
    "  -h, --help              this text\n";

void proc_options_default(struct proc_options *o)
{
    *o = (struct proc_options){0};
    o->log_level = LOG_LEVEL_INFO;
    o->drift_max_ppm = CLOCK_DEFAULT_DRIFT_PPM;
    o->step_threshold_us = CLOCK_DEFAULT_STEP_THRESHOLD_US;
    o->freq_correction = true;
    o->rpc_timeout_ms = 500;
    allow_init(&o->allow);
}

int proc_option(struct proc_options *o, int opt, const char *arg)
{
    long v;
    char err[200];
    switch (opt) {
    case PROC_OPT_DRIFT:
        return options_double("drift-ppm", arg, 0, CLOCK_MAX_FREQ_CORR_PPM, &o->drift_max_ppm) < 0 ? -1 : 1;
    case PROC_OPT_STEP:
        return options_seconds_us("step-threshold", arg, 0.000001, 43200, &o->step_threshold_us) < 0 ? -1 : 1;
    case PROC_OPT_NO_FREQ:
        o->freq_correction = false;
        return 1;
    case PROC_OPT_START:
        if (clock_parse(arg, &o->start_us) < 0) {
            fprintf(stderr, "%s: --start-time: '%s' is not HH:MM:SS (00-23:00-59:00-59)\n",
                    program_invocation_short_name, arg);
            return -1;
        }
        o->have_start = true;
        return 1;
    case PROC_OPT_SEED:
        if (options_long("seed", arg, 0, 0x7fffffffL, &v) < 0)
            return -1;
        o->seed = (unsigned long)v;
        o->have_seed = true;
        return 1;
    case PROC_OPT_HEADLESS:
        o->headless = true;
        return 1;
    case PROC_OPT_LOG_LEVEL:
        o->log_level_given = true;
        if ((o->log_level = log_parse_level(arg)) < 0) {
            fprintf(stderr, "%s: --log-level: '%s' is not debug, info, warn or error\n",
                    program_invocation_short_name, arg);
            return -1;
        }
        return 1;
    case PROC_OPT_ALLOW:
        if (allow_add(&o->allow, arg, err, sizeof err) < 0) {
            fprintf(stderr, "%s: --allow: %s\n", program_invocation_short_name, err);
            return -1;
        }
        return 1;
    case PROC_OPT_SCREENSHOT:
        o->screenshot = arg;
        return 1;
    case PROC_OPT_KEY_FILE:
        o->key_file = arg;
        return 1;
    case PROC_OPT_USER:
        o->user = arg;
        return 1;
    case PROC_OPT_CONFIG:
        return 1; /* read before the options, by proc_parse */
    case PROC_OPT_PEER_CONNS:
        if (options_long("max-peer-connections", arg, 1, 65536, &v) < 0)
            return -1;
        o->peer_conns = (int)v;
        return 1;
    case PROC_OPT_IDLE:
        if (options_long("idle-timeout", arg, 1, 86400, &v) < 0)
            return -1;
        o->idle_s = (int)v;
        return 1;
    case PROC_OPT_POSITION:
        if (sscanf(arg, "%d,%d", &o->x, &o->y) != 2 || o->x < 0 || o->y < 0 || o->x > 16384 ||
            o->y > 16384) {
            fprintf(stderr, "%s: --position: '%s' is not X,Y (two numbers from 0)\n",
                    program_invocation_short_name, arg);
            return -1;
        }
        return 1;
    case PROC_OPT_RPC_TIMEOUT:
        if (options_long("rpc-timeout-ms", arg, 10, 60000, &v) < 0)
            return -1;
        o->rpc_timeout_ms = (int)v;
        return 1;
    default:
        return 0;
    }
}

#define PROC_MAX_OPTIONS 48

/* --config FILE or --config=FILE on the command line, else NULL. */
static const char *proc_config_path(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            break;
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            return argv[i + 1];
        if (strncmp(argv[i], "--config=", 9) == 0)
            return argv[i] + 9;
    }
    return NULL;
}

int proc_parse(int argc, char **argv, struct proc_options *o, const struct option *own_opts,
               proc_own_option_fn own, void *ctx, void (*usage)(FILE *))
{
    static const struct option common[] = {PROC_LONG_OPTIONS};
    struct option all[PROC_MAX_OPTIONS];
    size_t n = sizeof common / sizeof common[0];
    memcpy(all, common, sizeof common);
    for (size_t i = 0; own_opts[i].name && n < PROC_MAX_OPTIONS - 1; i++)
        all[n++] = own_opts[i];
    memset(&all[n], 0, sizeof all[n]);
    /* The options' values may be kept as pointers: the merged list lives as long as
     * the process. */
    static struct config_argv merged;
    char why[400];
    const char *path = proc_config_path(argc, argv);
    bool explicit = path != NULL;
    char fallback[300];
    if (!path && BT_CONFIG_DIR[0]) {
        const char *name = program_invocation_short_name;
        if (strncmp(name, "bibliotime-", 11) == 0)
            name += 11;
        snprintf(fallback, sizeof fallback, "%s/%s.conf", BT_CONFIG_DIR, name);
        path = fallback;
    }
    if (path) {
        if (config_merge(path, explicit, all, argc, argv, &merged, why, sizeof why) < 0) {
            fprintf(stderr, "%s: --config: %s\n", program_invocation_short_name, why);
            return 2;
        }
        argc = merged.argc;
        argv = merged.argv;
    }
    int opt, at = optind;
    while ((opt = getopt_long(argc, argv, "h", all, NULL)) != -1) {
        int line = path ? config_line_of(&merged, at) : 0;
        at = optind;
        int r = proc_option(o, opt, optarg);
        if (r < 0 || (r == 0 && opt != 'h' && opt != '?' && opt != PROC_OPT_VERSION &&
                      own(opt, optarg, ctx) < 0)) {
            if (line)
                fprintf(stderr, "%s: (that is %s line %d)\n", program_invocation_short_name,
                        path, line);
            return 2;
        }
        if (r > 0)
            continue;
        if (opt == 'h') {
            usage(stdout);
            return 0;
        }
        if (opt == PROC_OPT_VERSION) {
            printf("%s (Bibliotime) %s\n", program_invocation_short_name, BT_VERSION);
            return 0;
        }
        if (opt == '?') {
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "%s: unexpected argument '%s' (see --help)\n",
                program_invocation_short_name, argv[optind]);
        return 2;
    }
    return -1;
}

int proc_options_finish(struct proc_options *o, const char *program)
{
    log_init(program, (enum log_level)o->log_level);
    if (!o->have_seed) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        o->seed = (unsigned long)ts.tv_nsec ^ ((unsigned long)getpid() << 16);
    }
    srandom((unsigned)o->seed);
    if (o->allow.n == 0)
        allow_add_loopback(&o->allow);
    rpcconn_set_limits(&(struct rpcconn_limits){.per_peer = o->peer_conns, .idle_s = o->idle_s});
    char why[400];
    if (o->key_file && callauth_use_file(o->key_file, why, sizeof why) < 0) {
        fprintf(stderr, "%s: --key-file: %s\n", program, why);
        return -1;
    }
    if (o->user && privdrop_to(o->user, why, sizeof why) < 0) {
        fprintf(stderr, "%s: --user: %s\n", program, why);
        return -1;
    }
    return 0;
}

void proc_say_keys(const struct proc_options *o)
{
    if (o->key_file)
        log_info("keys", "control calls are signed and checked with the keys of %s", o->key_file);
    else
        log_warn("keys", "no --key-file: control calls are not signed, and this process takes "
                 "them from loopback only");
    if (o->user)
        log_info("main", "running as user %s", o->user);
}

void proc_clock_init(const struct proc_options *o, struct clock *c)
{
    struct clock_config cfg;
    clock_config_default(&cfg);
    cfg.drift_ppm = clock_random_drift_ppm(o->drift_max_ppm);
    cfg.step_threshold_us = o->step_threshold_us;
    cfg.freq_correction = o->freq_correction;
    int64_t start = o->have_start ? o->start_us : clock_random_time_of_day();
    clock_init(c, &cfg, start);
    char text[16];
    clock_format(start, false, text, sizeof text);
    log_info("clock", "starts at %s, drift %+.1f ppm, step above %.6f s, frequency correction %s",
             text, cfg.drift_ppm, (double)cfg.step_threshold_us / 1e6,
             cfg.freq_correction ? "on" : "off");
}

static void *proc_loop_thread(void *unused)
{
    (void)unused;
    rpcserver_loop();
    return NULL;
}

int proc_serve(const struct proc_options *o, proc_window_fn window, void *ctx)
{
    pthread_t loop;
    if (o->headless || !window || pthread_create(&loop, NULL, proc_loop_thread, NULL) != 0) {
        rpcserver_loop();
        return 0;
    }
    char err[300];
    int rc = window(ctx, err, sizeof err);
    if (rc < 0)
        log_warn("window", "%s; running headless", err);
    else
        rpcserver_request_stop();
    pthread_join(loop, NULL);
    return rc < 0 ? 0 : 1;
}
