/* app_server: one of the two application servers. Hands out the books of the shared
 * session (BOOK at BOOK_PROG + instance), keeping its books DB consistent with the other
 * server's through the replication log; its clock is kept by the time server (CLOCK at
 * CLOCK_PROG + instance, TIME.JOIN at start-up). */
#include "book_rpc.h"
#include "book_service.h"
#include "clock.h"
#include "clocksvc.h"
#include "i18n.h"
#include "replica.h"
#include "replop.h"
#include "rpcdefer.h"
#include "joiner.h"
#include "log.h"
#include "options.h"
#include "proc.h"
#include "rpcserver.h"
#include "time_rpc.h"
#include "window.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define APP_MAX_INSTANCE 255

enum {
    OPT_INSTANCE = PROC_OPT_FIRST_FREE,
    OPT_NAME,
    OPT_TIME_SERVER,
    OPT_ADVERTISE,
    OPT_DB,
    OPT_REPLICATION,
    OPT_WORKERS,
    OPT_CLIENTS
};

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: %s [OPTION]...\n"
            "A Bibliotime application server. Hands out the books of the shared session\n"
            "(BOOK at program %u + instance, TCP), consistent with the other server through\n"
            "the replication server, and serves CLOCK at program %u + instance so the time\n"
            "server keeps its clock (it joins the time server at start-up).\n\n"
            "  --instance N            1..%d (default 1)\n"
            "  --db CONNINFO           libpq connection string of this server's books DB\n"
            "                          (default \"dbname=booksN\"; PGHOST, PGPORT... apply)\n"
            "  --replication HOST      where the replication server runs (default localhost)\n"
            "  --name NAME             node name given to the time server (default appN)\n"
            "  --time-server HOST      where the time server runs (default localhost)\n"
            "  --advertise HOST        host the time server should call back (default: the\n"
            "                          address our JOIN comes from)\n"
            "  --allow ADDR[/BITS]     who may ADJUST this clock (default loopback)\n"
            "  --clients ADDR[/BITS]   who may ask for and release books; repeatable\n"
            "                          (default: anyone; a book request is anonymous, its\n"
            "                          key is what makes a retry or a release its own)\n\n"
            "Signals: SIGUSR1 stops the clock as \"Modify\" does, SIGUSR2 resumes it;\n"
            "SIGTERM/SIGINT end the server and remove its registration.\n\n%s",
            program_invocation_short_name, BOOK_PROG, CLOCK_PROG, APP_MAX_INSTANCE, proc_common_help);
}

struct app_options {
    struct proc_options proc;
    long instance;
    char name[64];
    const char *time_server;
    const char *advertise;
    char db[256];
    const char *replication;
    struct allow_list clients;
};

static const struct option own_options[] = {
    {"instance", required_argument, NULL, OPT_INSTANCE},
    {"name", required_argument, NULL, OPT_NAME},
    {"time-server", required_argument, NULL, OPT_TIME_SERVER},
    {"advertise", required_argument, NULL, OPT_ADVERTISE},
    {"db", required_argument, NULL, OPT_DB},
    {"replication", required_argument, NULL, OPT_REPLICATION},
    {"clients", required_argument, NULL, OPT_CLIENTS},
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
            fprintf(stderr, "%s: --name: 1 to %zu bytes\n", program_invocation_short_name, sizeof o->name - 1);
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
    case OPT_DB:
        snprintf(o->db, sizeof o->db, "%s", arg);
        break;
    case OPT_REPLICATION:
        o->replication = arg;
        break;
    case OPT_CLIENTS: {
        char why[200];
        if (allow_add(&o->clients, arg, why, sizeof why) < 0) {
            fprintf(stderr, "%s: --clients: %s\n", program_invocation_short_name, why);
            return -1;
        }
        break;
    }
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
    if (!o->db[0])
        snprintf(o->db, sizeof o->db, "dbname=books%ld", o->instance);
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

/* The book side starts on its own thread: catching up with the log may wait for the
 * replication server, and meanwhile the loop already serves CLOCK. BOOK is registered
 * from the loop's thread once the view is current. */
struct app_books {
    struct replica replica;
    struct book_service_config cfg;
    const char *db, *repl_host;
    int rpc_timeout_ms;
    pthread_t thread;
    bool started, replica_up, serving;
};

static atomic_bool app_books_ready;

static bool app_books_up(void)
{
    return atomic_load(&app_books_ready);
}

static int app_window(void *ctx, char *err, size_t errlen)
{
    return as_window_run(ctx, err, errlen);
}

static void app_books_serve(void *arg)
{
    struct app_books *b = arg;
    char err[400];
    if (rpcserver_stopping())
        return; /* run by the shutdown's last pass: too late to start serving */
    if (book_service_start(&b->cfg, err, sizeof err) < 0) {
        log_error("rpc", "registering BOOK: %s", err);
        rpcserver_request_stop();
        return;
    }
    b->serving = true;
    atomic_store(&app_books_ready, true);
    log_info("main", "serving BOOK program %lu over TCP", BOOK_PROG + (unsigned long)b->cfg.instance);
}

/* No session yet (a fresh log): open the first one; if both servers do, one wins. */
static int app_books_first_session(struct app_books *b, char *why, size_t len)
{
    struct replica_status s;
    replica_status(&b->replica, &s);
    if (s.session != 0)
        return 0;
    struct replclient rc;
    replclient_init(&rc, b->repl_host, b->rpc_timeout_ms);
    repl_op op = {.kind = OP_SESSION_OPEN};
    op.repl_op_u.session_open.prev_session = 0;
    int64_t seq = 0;
    int ret = replclient_append(&rc, b->cfg.instance, &op, &seq, why, len);
    replclient_close(&rc);
    if (ret == 0 && replica_wait(&b->replica, seq, 5000) < 0) {
        snprintf(why, len, "the first session (log entry %" PRId64 ") was not applied "
                 "within 5 s: see the replica's errors above", seq);
        ret = -1;
    }
    return ret;
}

static void *app_books_main(void *arg)
{
    struct app_books *b = arg;
    char why[400];
    if (replica_start(&b->replica, b->db, b->repl_host, b->cfg.instance,
                      b->rpc_timeout_ms, rpcserver_stopping, why, sizeof why) < 0 ||
        app_books_first_session(b, why, sizeof why) < 0) {
        if (!rpcserver_stopping())
            log_error("books", "cannot serve books: %s", why);
        replica_stop(&b->replica);
        rpcserver_request_stop();
        return NULL;
    }
    b->replica_up = true;
    if (rpcdefer_post(app_books_serve, b) < 0)
        rpcserver_request_stop();
    return NULL;
}

int main(int argc, char **argv)
{
    i18n_init();
    struct app_options o = {.instance = 1, .time_server = "localhost", .advertise = "",
                            .replication = "localhost"};
    proc_options_default(&o.proc);
    int rc = parse_args(argc, argv, &o);
    if (rc >= 0)
        return rc;
    if (proc_options_finish(&o.proc, o.name) < 0)
        return 1;
    proc_say_keys(&o.proc);

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
    static struct app_books books;
    books.db = o.db;
    books.repl_host = o.replication;
    books.rpc_timeout_ms = o.proc.rpc_timeout_ms;
    books.cfg = (struct book_service_config){&books.replica, &clk, (int)o.instance, o.clients};
    err_no = pthread_create(&books.thread, NULL, app_books_main, &books);
    if (err_no != 0) {
        log_error("books", "starting the book service: %s", strerror(err_no));
        joiner_stop(&joiner);
        goto out_rpc;
    }
    struct as_window_config wc = {&clk, &books.replica, app_books_up, (int)o.instance,
                                  o.replication, o.db, o.proc.rpc_timeout_ms, o.proc.x, o.proc.y,
                                  o.proc.screenshot};
    proc_serve(&o.proc, app_window, &wc);
    log_info("main", "stopping");
    pthread_join(books.thread, NULL);
    if (books.replica_up)
        replica_stop(&books.replica);
    joiner_stop(&joiner);
    rc = 0;
out_rpc:
    rpcserver_unregister_all();
out:
    clock_destroy(&clk);
    return rc;
}
