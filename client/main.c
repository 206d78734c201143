/* client: a library client. Asks its app servers for books (headless: one line per
 * book, or a terminal dialogue), failing over between them (--server, repeatable), and
 * keeps its clock with the server's in use (Cristian, with every reply and pulled every
 * TM). */
#include "clock.h"
#include "clocksvc.h"
#include "cristian.h"
#include "failover.h"
#include "i18n.h"
#include "log.h"
#include "options.h"
#include "proc.h"
#include "probe.h"
#include "puller.h"
#include "replop.h"
#include "request.h"
#include "book_rpc.h"
#include "rpcserver.h"
#include "time_rpc.h"
#include "window.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum {
    OPT_SERVER = PROC_OPT_FIRST_FREE,
    OPT_INSTANCE,
    OPT_TM,
    OPT_PROBES,
    OPT_CLOCK_PROGRAM,
    OPT_NAME,
    OPT_REQUEST,
    OPT_COUNT,
    OPT_JSON,
    OPT_NEW_SESSION,
    OPT_SEEN_SESSION,
    OPT_DEADLINE,
    OPT_TRY_TIMEOUT
};

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: %s [OPTION]...\n"
            "A Bibliotime client. Asks its app servers for books, and keeps its clock with\n"
            "the server's in use (Cristian's algorithm, with every reply and every TM s).\n"
            "In a terminal it asks: Enter requests a book; when every book is gone, exit or\n"
            "start a new session. Otherwise it only keeps its clock, unless told:\n\n"
            "  --name NAME             who asks (default: $USER)\n"
            "  --request               ask for a book and print it on one line\n"
            "  --count K               with --request: ask K times (default 1)\n"
            "  --json                  print books as JSON objects, one per line\n"
            "  --new-session           ask for a new session (after the last book); if\n"
            "                          several ask at once, one new session opens\n"
            "  --seen-session S        with --new-session: the session you saw end\n"
            "                          (default: the server's current one)\n"
            "Exit status with --request: 0 every book received, 3 the session ran out of\n"
            "books (a summary is printed), 4 refused (a final error, or only \"try again\"\n"
            "answers until the deadline), 1 no app server answered within the deadline,\n"
            "2 bad usage.\n\n"
            "  --server HOST[:N]       an app server: its host and instance N (default:\n"
            "                          --instance). Repeat it to list several, in order of\n"
            "                          preference, at most %d (default localhost)\n"
            "  --instance N            instance of a --server without :N, 1..255 (default 1)\n"
            "  --deadline SEC          a request gives up after SEC seconds, all tries\n"
            "                          together, 0.1..60 (default 10); it then releases its\n"
            "                          key (app servers remember a key 60 s after its\n"
            "                          session ended, so a retry always finds its book)\n"
            "  --try-timeout SEC       how long one try waits for its server (default 2.5)\n"
            "A request that times out, loses its connection or is told \"try again\" is\n"
            "retried with the same key on the next server in the list (wrapping), after\n"
            "50 ms doubling up to 1 s (+/-50 %% jitter). It starts on the server the last\n"
            "answer came from, and the clock follows that server.\n\n"
            "  --tm SEC                seconds between synchronisations (default 10)\n"
            "  --probes K              GETHOUR probes per synchronisation (default 4)\n"
            "  --clock-program NUM     also serve this clock read-only as CLOCK at program NUM\n"
            "                          (0x40000000-0x5fffffff), so probes and tests can\n"
            "                          read it over RPC (default: serve nothing)\n\n%s",
            program_invocation_short_name, FAILOVER_MAX_SERVERS, proc_common_help);
}

struct client_options {
    struct proc_options proc;
    struct failover_list servers;
    long instance;
    int deadline_ms;
    int try_timeout_ms;
    int tm_ms;
    long probes;
    long clock_program;
    const char *name;
    bool request;
    long count;
    bool json;
    bool new_session;
    long seen_session;
};

static const struct option own_options[] = {
    {"server", required_argument, NULL, OPT_SERVER},
    {"instance", required_argument, NULL, OPT_INSTANCE},
    {"tm", required_argument, NULL, OPT_TM},
    {"probes", required_argument, NULL, OPT_PROBES},
    {"clock-program", required_argument, NULL, OPT_CLOCK_PROGRAM},
    {"name", required_argument, NULL, OPT_NAME},
    {"request", no_argument, NULL, OPT_REQUEST},
    {"count", required_argument, NULL, OPT_COUNT},
    {"json", no_argument, NULL, OPT_JSON},
    {"new-session", no_argument, NULL, OPT_NEW_SESSION},
    {"seen-session", required_argument, NULL, OPT_SEEN_SESSION},
    {"deadline", required_argument, NULL, OPT_DEADLINE},
    {"try-timeout", required_argument, NULL, OPT_TRY_TIMEOUT},
    {NULL, 0, NULL, 0},
};

static int own_option(int opt, const char *arg, void *ctx)
{
    struct client_options *o = ctx;
    int64_t us;
    char err[FAILOVER_HOST_MAX + 100];
    switch (opt) {
    case OPT_SERVER:
        if (failover_list_add(&o->servers, arg, err, sizeof err) < 0) {
            fprintf(stderr, "client: %s\n", err);
            return -1;
        }
        break;
    case OPT_DEADLINE:
        if (options_seconds_us("deadline", arg, 0.1, 60, &us) < 0)
            return -1;
        o->deadline_ms = (int)(us / 1000);
        break;
    case OPT_TRY_TIMEOUT:
        if (options_seconds_us("try-timeout", arg, 0.05, 600, &us) < 0)
            return -1;
        o->try_timeout_ms = (int)(us / 1000);
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
    case OPT_NAME:
        o->name = arg;
        break;
    case OPT_REQUEST:
        o->request = true;
        break;
    case OPT_COUNT:
        if (options_long("count", arg, 1, 100000000, &o->count) < 0)
            return -1;
        break;
    case OPT_JSON:
        o->json = true;
        break;
    case OPT_NEW_SESSION:
        o->new_session = true;
        break;
    case OPT_SEEN_SESSION:
        if (options_long("seen-session", arg, 1, 0x7fffffffffffffffL, &o->seen_session) < 0)
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

static int cl_window(void *ctx, char *err, size_t errlen)
{
    return cl_window_run(ctx, err, errlen);
}

static void *client_loop(void *arg)
{
    (void)arg;
    rpcserver_loop();
    return NULL;
}

/* The requests' answers move the server in use: the clock follows it. */
static void client_follow(void *ctx, int server)
{
    (void)server;
    puller_follow(ctx);
}

/* The book part on the main thread; the RPC loop (if a clock is served) on another. */
static int client_books(struct client_options *o, struct clock *clk, struct puller *puller)
{
    pthread_t loop;
    bool looping = o->clock_program && pthread_create(&loop, NULL, client_loop, NULL) == 0;
    struct request_options ro = {
        .servers = &o->servers, .name = o->name, .count = o->count, .json = o->json,
        .seen_session = o->seen_session, .connect_timeout_ms = o->proc.rpc_timeout_ms,
        .try_timeout_ms = o->try_timeout_ms, .deadline_ms = o->deadline_ms,
        .follow = client_follow, .follow_ctx = puller};
    int rc;
    if (o->new_session)
        rc = request_new_session(&ro, clk);
    else if (o->request)
        rc = request_batch(&ro, clk);
    else
        rc = request_interactive(&ro, clk);
    if (looping) {
        rpcserver_request_stop();
        pthread_join(loop, NULL);
    }
    return rc;
}

int main(int argc, char **argv)
{
    i18n_init();
    /* Static: the threads read the server list until main returns. */
    static struct client_options o = {.instance = 1, .tm_ms = 10000, .probes = PROBE_DEFAULT_MIN,
                                      .count = 1, .deadline_ms = 10000, .try_timeout_ms = 2500};
    failover_list_init(&o.servers);
    proc_options_default(&o.proc);
    int rc = parse_args(argc, argv, &o);
    if (rc >= 0)
        return rc;
    char err[400];
    if (failover_list_finish(&o.servers, (int)o.instance, err, sizeof err) < 0) {
        fprintf(stderr, "client: %s\n", err);
        return REQUEST_EXIT_USAGE;
    }
    if (!o.name)
        o.name = getenv("USER") && *getenv("USER") ? getenv("USER") : "guest";
    if (!replop_name_valid(o.name)) {
        fprintf(stderr, _("client: --name: 1 to %d bytes of UTF-8 text without control characters\n"),
                BOOK_NAME_MAX - 1);
        return REQUEST_EXIT_USAGE;
    }
    /* The window when there is a display to show it on; else the terminal dialogue in a
     * terminal; else only the clock. --request and --new-session never open one. */
    bool cli = o.request || o.new_session;
    const char *display = getenv("DISPLAY"), *driver = getenv("SDL_VIDEODRIVER");
    bool window = !cli && !o.proc.headless && ((display && *display) || (driver && *driver));
    bool books = cli || (!window && isatty(STDIN_FILENO));
    /* A person at a terminal wants books on stdout, not the clock's diary on stderr. */
    if (books && !o.proc.log_level_given)
        o.proc.log_level = LOG_LEVEL_WARN;
    if (proc_options_finish(&o.proc, "client") < 0)
        return 1;
    struct clock clk;
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
    struct puller_config pc = {.clock = &clk, .servers = &o.servers, .tm_ms = o.tm_ms,
                               .rpc_timeout_ms = timeout_ms};
    probe_plan_default(&pc.plan, (int)o.probes, (int64_t)o.tm_ms * 1000000 / 8, timeout_ms);
    int err_no = puller_start(&puller, &pc);
    if (err_no != 0) {
        log_error("sync", "starting the sync thread: %s", strerror(err_no));
        goto out_rpc;
    }
    if (books) {
        /* The first request waits for the first pull (a few round trips), so its row
         * stores a synchronised client time; past the wait it says "not given". */
        if (!puller_wait_first(&puller, 4 * timeout_ms + 1000))
            log_warn("sync", "clock not synchronised yet: requests carry no client time");
        rc = client_books(&o, &clk, &puller);
        puller_stop(&puller);
        goto out_rpc;
    }
    log_info("main", "following the clock of app server %d at %s every %d ms",
             o.servers.server[0].instance, o.servers.server[0].host, o.tm_ms);
    struct cl_window_config wc = {
        .clock = &clk, .servers = &o.servers, .name = o.name,
        .rpc_timeout_ms = o.proc.rpc_timeout_ms, .try_timeout_ms = o.try_timeout_ms,
        .deadline_ms = o.deadline_ms, .follow = client_follow, .follow_ctx = &puller,
        .x = o.proc.x, .y = o.proc.y, .screenshot = o.proc.screenshot};
    if (!window)
        o.proc.headless = true;
    proc_serve(&o.proc, cl_window, &wc);
    log_info("main", "stopping");
    puller_stop(&puller);
    rc = 0;
out_rpc:
    rpcserver_unregister_all();
out:
    clock_destroy(&clk);
    return rc;
}
