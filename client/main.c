/* client: a library client. Keeps its clock with its app server's (Cristian, pulled
 * every TM). The book requests arrive with the books issue. */
#include "clock.h"
#include "clocksvc.h"
#include "cristian.h"
#include "log.h"
#include "options.h"
#include "proc.h"
#include "puller.h"
#include "rpcserver.h"
#include "time_rpc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { OPT_SERVER = PROC_OPT_FIRST_FREE, OPT_INSTANCE, OPT_TM, OPT_PROBES, OPT_CLOCK_PROGRAM };

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: client [OPTION]...\n"
            "A Bibliotime client. Keeps its clock with its app server's clock by pulling\n"
            "CLOCK.GETHOUR every TM seconds (Cristian's algorithm).\n\n"
            "  --server HOST           host of the app server (default localhost)\n"
            "  --instance N            app server instance, 1..255 (default 1)\n"
            "  --tm SEC                seconds between synchronisations (default 10)\n"
            "  --probes K              GETHOUR probes per synchronisation (default 4)\n"
            "  --clock-program NUM     also serve this clock read-only as CLOCK at program NUM\n"
            "                          (0x40000000-0x5fffffff), so probes and tests can\n"
            "                          read it over RPC (default: serve nothing)\n\n%s",
            proc_common_help);
}

struct client_options {
    struct proc_options proc;
    const char *server;
    long instance;
    int tm_ms;
    long probes;
    long clock_program;
};

static const struct option own_options[] = {
    {"server", required_argument, NULL, OPT_SERVER},
    {"instance", required_argument, NULL, OPT_INSTANCE},
    {"tm", required_argument, NULL, OPT_TM},
    {"probes", required_argument, NULL, OPT_PROBES},
    {"clock-program", required_argument, NULL, OPT_CLOCK_PROGRAM},
    {NULL, 0, NULL, 0},
};

static int own_option(int opt, const char *arg, void *ctx)
{
    struct client_options *o = ctx;
    int64_t us;
    switch (opt) {
    case OPT_SERVER:
        o->server = arg;
        break;
    case OPT_INSTANCE:
        if (options_long("instance", arg, 1, 255, &o->instance) < 0)
            return -1;
        break;
    case OPT_TM:
        if (options_seconds_us("tm", arg, 0.1, 3600, &us) < 0)
            return -1;
        o->tm_ms = (int)(us / 1000);
        break;
    case OPT_PROBES:
        if (options_long("probes", arg, 1, CRISTIAN_MAX_PROBES, &o->probes) < 0)
            return -1;
        break;
    case OPT_CLOCK_PROGRAM:
        if (options_long("clock-program", arg, 0x40000000L, 0x5fffffffL, &o->clock_program) < 0)
            return -1;
        break;
    }
    return 0;
}

static int parse_args(int argc, char **argv, struct client_options *o)
{
    return proc_parse(argc, argv, &o->proc, own_options, own_option, o, usage);
}

int main(int argc, char **argv)
{
    struct client_options o = {.server = "localhost", .instance = 1, .tm_ms = 10000,
                               .probes = CRISTIAN_DEFAULT_PROBES};
    proc_options_default(&o.proc);
    int rc = parse_args(argc, argv, &o);
    if (rc >= 0)
        return rc;
    proc_options_finish(&o.proc, "client");
    proc_window_note(&o.proc);

    struct clock clk;
    char err[400];
    proc_clock_init(&o.proc, &clk);
    rc = 1;
    if (rpcserver_init_signals() < 0)
        goto out;
    if (o.clock_program) {
        struct clocksvc_config csc = {
            .clock = &clk, .allow = o.proc.allow,
            .adjust_refusal = "a client takes its time from its app server, not corrections"};
        if (clocksvc_start(&csc, (unsigned long)o.clock_program, err, sizeof err) < 0) {
            log_error("rpc", "registering the read-only CLOCK: %s", err);
            goto out;
        }
    }
    struct puller puller;
    /* A call must give up well before the next pull is due. */
    int timeout_ms = o.proc.rpc_timeout_ms < o.tm_ms / 4 ? o.proc.rpc_timeout_ms : o.tm_ms / 4;
    struct puller_config pc = {&clk, o.server, CLOCK_PROG + (unsigned long)o.instance, o.tm_ms,
                               (int)o.probes, timeout_ms};
    int err_no = puller_start(&puller, &pc);
    if (err_no != 0) {
        log_error("sync", "starting the sync thread: %s", strerror(err_no));
        goto out_rpc;
    }
    log_info("main", "following the clock of %s instance %ld every %d ms", o.server, o.instance,
             o.tm_ms);
    rpcserver_loop();
    log_info("main", "stopping");
    puller_stop(&puller);
    rc = 0;
out_rpc:
    rpcserver_unregister_all();
out:
    clock_destroy(&clk);
    return rc;
}
