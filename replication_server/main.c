/* replication_server: the sequenced log both app servers apply in the same order
 * (REPL: SETQUERY appends a typed operation, GETQUERY fetches entries after a
 * position). Owns the replication DB. */
#include "log.h"
#include "proc.h"
#include "repl_service.h"
#include "replication_rpc.h"
#include "replog.h"
#include "rpcserver.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

enum { OPT_DB = PROC_OPT_FIRST_FREE };

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: %s [OPTION]...\n"
            "The Bibliotime replication server: a sequenced log of typed operations that\n"
            "both app servers apply in the same order. Serves REPL (program %u, TCP):\n"
            "SETQUERY appends an operation once it is stored durably, GETQUERY returns the\n"
            "entries after a position, waiting up to wait_ms for new ones.\n\n"
            "  --db CONNINFO           libpq connection string of the replication DB\n"
            "                          (default \"dbname=replication\"; PGHOST... apply)\n"
            "  --allow ADDR[/BITS]     who may append and read (default loopback)\n\n%s",
            program_invocation_short_name, REPL_PROG, proc_common_help);
}

struct rs_options {
    struct proc_options proc;
    const char *db;
};

static const struct option own_options[] = {
    {"db", required_argument, NULL, OPT_DB},
    {NULL, 0, NULL, 0},
};

static int own_option(int opt, const char *arg, void *ctx)
{
    struct rs_options *o = ctx;
    if (opt == OPT_DB)
        o->db = arg;
    return 0;
}

int main(int argc, char **argv)
{
    struct rs_options o = {.db = "dbname=replication"};
    proc_options_default(&o.proc);
    int rc = proc_parse(argc, argv, &o.proc, own_options, own_option, &o, usage);
    if (rc >= 0)
        return rc;
    if (proc_options_finish(&o.proc, "replication_server") < 0)
        return 1;
    proc_say_keys(&o.proc);

    static struct replog replog;
    char err[600];
    if (replog_open(&replog, o.db, err, sizeof err) < 0) {
        log_error("log", "opening the log: %s", err);
        return 1;
    }
    rc = 1;
    if (rpcserver_init_signals() < 0)
        goto out;
    struct repl_service_config cfg = {&replog, o.proc.allow};
    if (repl_service_start(&cfg, err, sizeof err) < 0) {
        log_error("rpc", "registering REPL: %s", err);
        goto out;
    }
    log_info("main", "serving REPL program %u version %u over TCP; the log ends at %lld",
             REPL_PROG, REPL_V2, (long long)replog.last_seq);
    rpcserver_loop();
    log_info("main", "stopping");
    repl_service_stop();
    rc = 0;
    rpcserver_unregister_all();
out:
    replog_close(&replog);
    return rc;
}
