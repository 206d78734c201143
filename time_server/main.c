/* time_server: the coordinator. Takes UTC from an SNTP server, and every TM seconds
 * reads every joined node's clock, corrects it with Cristian's algorithm and records
 * the round in the clock DB. Serves TIME (JOIN, GETHOUR). */
#include "clock.h"
#include "clockdb.h"
#include "cristian.h"
#include "i18n.h"
#include "log.h"
#include "nodes.h"
#include "options.h"
#include "probe.h"
#include "proc.h"
#include "rounds.h"
#include "rpcserver.h"
#include "time_service.h"
#include "window.h"
#include "time_rpc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { OPT_TM = PROC_OPT_FIRST_FREE, OPT_UTC, OPT_DB, OPT_PROBES, OPT_MAX_PROBES, OPT_UTC_TIMEOUT };

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: %s [OPTION]...\n"
            "The Bibliotime time server (coordinator): follows a UTC source over SNTP and\n"
            "keeps every joined node's clock with Cristian's algorithm. Serves TIME\n"
            "(program %u) and records every round in the clock DB.\n\n"
            "  --tm SEC                seconds between rounds (default 10)\n"
            "  --utc-server HOST[:PORT]\n"
            "                          SNTP server (port 123 by default); repeatable, tried\n"
            "                          in order; none: the coordinator keeps its own clock\n"
            "  --utc-timeout-ms MS     wait per SNTP probe (default 250; 4 probes per server)\n"
            "  --db CONNINFO           libpq connection string of the clock DB\n"
            "                          (default \"dbname=clock\"; PGHOST, PGPORT... apply)\n"
            "  --probes K              GETHOUR probes per node per round on a steady link\n"
            "                          (default 4)\n"
            "  --max-probes K          at most this many when the round trips scatter by more\n"
            "                          than 50 us (default 32, within TM/8 per node)\n"
            "  --allow ADDR[/BITS]     who may JOIN (default loopback)\n\n%s",
            program_invocation_short_name, TIME_PROG, proc_common_help);
}

struct ts_options {
    struct proc_options proc;
    int tm_ms;
    int probes, max_probes;
    int utc_timeout_ms;
    const char *db;
    struct sntp_server utc[SNTP_MAX_SERVERS];
    size_t nutc;
};

static const struct option own_options[] = {
    {"tm", required_argument, NULL, OPT_TM},
    {"utc-server", required_argument, NULL, OPT_UTC},
    {"utc-timeout-ms", required_argument, NULL, OPT_UTC_TIMEOUT},
    {"db", required_argument, NULL, OPT_DB},
    {"probes", required_argument, NULL, OPT_PROBES},
    {"max-probes", required_argument, NULL, OPT_MAX_PROBES},
    {NULL, 0, NULL, 0},
};

static int own_option(int opt, const char *arg, void *ctx)
{
    struct ts_options *o = ctx;
    long v;
    int64_t us;
    char err[200];
    switch (opt) {
    case OPT_TM:
        if (options_seconds_us("tm", arg, 0.1, 3600, &us) < 0)
            return -1;
        o->tm_ms = (int)(us / 1000);
        break;
    case OPT_UTC:
        if (o->nutc == SNTP_MAX_SERVERS) {
            fprintf(stderr, "%s: at most %d --utc-server\n", program_invocation_short_name, SNTP_MAX_SERVERS);
            return -1;
        }
        if (sntp_parse_server(arg, &o->utc[o->nutc], err, sizeof err) < 0) {
            fprintf(stderr, "%s: --utc-server: %s\n", program_invocation_short_name, err);
            return -1;
        }
        o->nutc++;
        break;
    case OPT_UTC_TIMEOUT:
        if (options_long("utc-timeout-ms", arg, 10, 10000, &v) < 0)
            return -1;
        o->utc_timeout_ms = (int)v;
        break;
    case OPT_DB:
        o->db = arg;
        break;
    case OPT_PROBES:
        if (options_long("probes", arg, 1, CRISTIAN_MAX_PROBES, &v) < 0)
            return -1;
        o->probes = (int)v;
        break;
    case OPT_MAX_PROBES:
        if (options_long("max-probes", arg, 1, CRISTIAN_MAX_PROBES, &v) < 0)
            return -1;
        o->max_probes = (int)v;
        break;
    }
    return 0;
}

static int parse_args(int argc, char **argv, struct ts_options *o)
{
    int rc = proc_parse(argc, argv, &o->proc, own_options, own_option, o, usage);
    if (rc < 0 && o->max_probes == 0)
        o->max_probes = o->probes > PROBE_DEFAULT_MAX ? o->probes : PROBE_DEFAULT_MAX;
    if (rc < 0 && o->max_probes < o->probes) {
        fprintf(stderr, "%s: --max-probes %d is below --probes %d\n", program_invocation_short_name, o->max_probes,
                o->probes);
        return 2;
    }
    return rc;
}

static int ts_window(void *ctx, char *err, size_t errlen)
{
    return ts_window_run(ctx, err, errlen);
}

int main(int argc, char **argv)
{
    i18n_init();
    struct ts_options o = {.tm_ms = 10000, .probes = PROBE_DEFAULT_MIN,
                           .utc_timeout_ms = 250, .db = "dbname=clock"};
    proc_options_default(&o.proc);
    int rc = parse_args(argc, argv, &o);
    if (rc >= 0)
        return rc;
    if (proc_options_finish(&o.proc, "time_server") < 0)
        return 1;
    proc_say_keys(&o.proc);
    if (o.nutc == 0)
        log_warn("utc", "no --utc-server: the coordinator keeps its own clock");

    struct clock clk;
    struct nodes nodes;
    struct clockdb db;
    struct rounds rounds;
    char err[600];
    int64_t first_round = 1;
    proc_clock_init(&o.proc, &clk);
    nodes_init(&nodes);
    rc = 1;
    if (clockdb_open(&db, o.db, &first_round, err, sizeof err) < 0) {
        log_error("clock db", "%s", err);
        goto out_nodes;
    }
    int known = clockdb_known_nodes(&db, &nodes);
    if (known > 0)
        log_info("main", "%d node(s) seen in the last hour are in the clock DB: probing them "
                 "from the first round", known);
    if (rpcserver_init_signals() < 0)
        goto out_db;
    struct time_service_config tsc = {&clk, &nodes, o.proc.allow, o.tm_ms};
    if (time_service_start(&tsc, err, sizeof err) < 0) {
        log_error("rpc", "registering TIME: %s", err);
        goto out_db;
    }
    struct rounds_config rc_cfg = {
        .clock = &clk, .nodes = &nodes, .db = &db, .tm_ms = o.tm_ms,
        .rpc_timeout_ms = o.proc.rpc_timeout_ms < o.tm_ms / 4 ? o.proc.rpc_timeout_ms : o.tm_ms / 4,
        .nutc = o.nutc, .utc_timeout_ms = o.utc_timeout_ms, .first_round = first_round};
    memcpy(rc_cfg.utc, o.utc, sizeof o.utc);
    probe_plan_default(&rc_cfg.plan, o.probes, (int64_t)o.tm_ms * 1000000 / 8, rc_cfg.rpc_timeout_ms);
    rc_cfg.plan.max_probes = o.max_probes;
    int err_no = rounds_start(&rounds, &rc_cfg);
    if (err_no != 0) {
        log_error("rounds", "starting the round thread: %s", strerror(err_no));
        goto out_rpc;
    }
    log_info("main", "serving TIME program %u version %u; a round every %d ms from round %lld",
             TIME_PROG, TIME_V1, o.tm_ms, (long long)first_round);
    struct ts_window_config wc = {&clk, &nodes, &rounds, o.proc.x, o.proc.y, o.proc.screenshot};
    proc_serve(&o.proc, ts_window, &wc);
    log_info("main", "stopping");
    rounds_stop(&rounds);
    rc = 0;
out_rpc:
    rpcserver_unregister_all();
out_db:
    clockdb_close(&db);
out_nodes:
    nodes_destroy(&nodes);
    clock_destroy(&clk);
    return rc;
}
