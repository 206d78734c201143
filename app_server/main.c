/* app_server: one of the two application servers. Its clock is kept by the time server
 * (it serves CLOCK at CLOCK_PROG + instance and joins TIME at start-up). The book
 * service arrives with the books issue. */
#include "clock.h"
#include "clocksvc.h"
#include "joiner.h"
#include "log.h"
#include "options.h"
#include "proc.h"
#include "rpcserver.h"
#include "time_rpc.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define APP_MAX_INSTANCE 255

enum { OPT_INSTANCE = PROC_OPT_FIRST_FREE, OPT_NAME, OPT_TIME_SERVER, OPT_ADVERTISE };

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: app_server [OPTION]...\n"
            "A Bibliotime application server. Serves CLOCK at program %u + instance and\n"
            "lets the time server keep its clock (it joins the time server at start-up).\n\n"
            "  --instance N            1..%d (default 1): CLOCK program %u + N\n"
            "  --name NAME             node name given to the time server (default appN)\n"
            "  --time-server HOST      where the time server runs (default localhost)\n"
            "  --advertise HOST        host the time server should call back (default: the\n"
            "                          address our JOIN comes from)\n"
            "  --allow ADDR[/BITS]     who may ADJUST this clock (default loopback)\n\n"
            "Signals: SIGUSR1 stops the clock as \"Modify\" does, SIGUSR2 resumes it;\n"
            "SIGTERM/SIGINT end the server and remove its registration.\n\n%s",
            CLOCK_PROG, APP_MAX_INSTANCE, CLOCK_PROG, proc_common_help);
}

struct app_options {
    struct proc_options proc;
    long instance;
    char name[64];
    const char *time_server;
    const char *advertise;
};

static const struct option own_options[] = {
    {"instance", required_argument, NULL, OPT_INSTANCE},
    {"name", required_argument, NULL, OPT_NAME},
    {"time-server", required_argument, NULL, OPT_TIME_SERVER},
    {"advertise", required_argument, NULL, OPT_ADVERTISE},
    {NULL, 0, NULL, 0},
};

static int own_option(int opt, const char *arg, void *ctx)
{
    struct app_options *o = ctx;
    switch (opt) {
    case OPT_INSTANCE:
        if (options_long("instance", arg, 1, APP_MAX_INSTANCE, &o->instance) < 0)
            return -1;
        break;
    case OPT_NAME:
        if (strlen(arg) == 0 || strlen(arg) >= sizeof o->name) {
            fprintf(stderr, "app_server: --name: 1 to %zu bytes\n", sizeof o->name - 1);
            return -1;
        }
        snprintf(o->name, sizeof o->name, "%s", arg);
        break;
    case OPT_TIME_SERVER:
        o->time_server = arg;
        break;
    case OPT_ADVERTISE:
        o->advertise = arg;
        break;
    }
    return 0;
}

static int parse_args(int argc, char **argv, struct app_options *o)
{
    int rc = proc_parse(argc, argv, &o->proc, own_options, own_option, o, usage);
    if (rc >= 0)
        return rc;
    if (!o->name[0])
        snprintf(o->name, sizeof o->name, "app%ld", o->instance);
    return -1;
}

static void app_modify(void *arg)
{
    clock_stop(arg);
    log_info("clock", "stopped for setting by hand (SIGUSR1); SIGUSR2 resumes it");
}

static void app_resume(void *arg)
{
    clock_resume(arg);
    log_info("clock", "resumed (SIGUSR2)");
}

int main(int argc, char **argv)
{
    struct app_options o = {.instance = 1, .time_server = "localhost", .advertise = ""};
    proc_options_default(&o.proc);
    int rc = parse_args(argc, argv, &o);
    if (rc >= 0)
        return rc;
    proc_options_finish(&o.proc, o.name);
    proc_window_note(&o.proc);

    struct clock clk;
    char err[400];
    unsigned long prog = CLOCK_PROG + (unsigned long)o.instance;
    proc_clock_init(&o.proc, &clk);
    rc = 1;
    if (rpcserver_init_signals() < 0)
        goto out;
    if (rpcserver_on_signal(SIGUSR1, app_modify, &clk) < 0 ||
        rpcserver_on_signal(SIGUSR2, app_resume, &clk) < 0) {
        log_error("signals", "installing SIGUSR1/SIGUSR2 handlers: %s", strerror(errno));
        goto out;
    }
    struct clocksvc_config csc = {.clock = &clk, .allow = o.proc.allow};
    if (clocksvc_start(&csc, prog, err, sizeof err) < 0) {
        log_error("rpc", "registering CLOCK for instance %ld: %s", o.instance, err);
        goto out;
    }
    struct joiner joiner;
    struct joiner_config jc = {&clk, o.time_server, o.name, o.advertise, prog,
                               o.proc.rpc_timeout_ms};
    int err_no = joiner_start(&joiner, &jc);
    if (err_no != 0) {
        log_error("join", "starting the join thread: %s", strerror(err_no));
        goto out_rpc;
    }
    log_info("main", "serving CLOCK program %lu version %d (instance %ld)", prog, CLOCK_V1,
             o.instance);
    rpcserver_loop();
    log_info("main", "stopping");
    joiner_stop(&joiner);
    rc = 0;
out_rpc:
    rpcserver_unregister_all();
out:
    clock_destroy(&clk);
    return rc;
}
