/* clockctl: the test suite's and benchmark's hands on the clock RPCs.
 *
 *   clockctl gethour --prog P [--host H]
 *   clockctl offset  --prog P [--host H] [--ref-prog P] [--ref-host H] [--probes K]
 *                    [--count N --interval-ms MS]
 *   clockctl utc     [--prog P] [--host H] [--probes K]
 *   clockctl adjust  --prog P --delta-us D [--host H] [--bind ADDR] [SIGNING]
 *   clockctl join    --name NAME | --name-len N  [--host H] [--join-prog P] [SIGNING]
 *
 * SIGNING: --key-file F signs the call with its first key (callauth); --key-id N claims
 * key N instead; --bad-mac flips a bit of the MAC; --twice sends the same signed call a
 * second time (a replay) and prints both answers.
 *
 * offset: an independent probe: min-RTT GETHOUR on the node and on the reference (TIME
 * by default), both estimated at the same monotonic instant; prints node - reference.
 * With --count it samples repeatedly and prints p50/p99/max of |offset| and the RTT.
 * utc: the clock of prog (TIME by default) minus the machine's UTC time of day.
 * join: sends names without the .x bound, so an oversize name reaches the server.
 * Exit status: 0 done, 3 the server refused (status != TIME_OK), 1 RPC failure, 2 usage. */
#include "callauth.h"
#include "clock.h"
#include "clockrpc.h"
#include "rpcclient.h"
#include "time_rpc.h"

#include <arpa/inet.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <netinet/in.h>
#include <rpc/pmap_clnt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct args {
    const char *cmd, *host, *ref_host, *bind, *name;
    unsigned long prog, ref_prog, join_prog;
    long probes, count, interval_ms, name_len;
    int64_t delta_us;
    bool have_delta;
    const char *key_file;
    long key_id;
    bool bad_mac, twice;
};

/* Signs a call as the options say (and spoils it as they say). */
static int sign_call(const struct args *a, rpcprog_t prog, rpcproc_t proc, xdrproc_t xargs,
                     void *args, call_auth *auth)
{
    struct callauth_sender sender;
    callauth_sender_init(&sender);
    if (callauth_sign(&sender, prog, 1, proc, xargs, args, auth) < 0)
        return -1;
    if (a->key_id > 0)
        auth->key_id = (unsigned)a->key_id;
    if (a->bad_mac)
        auth->mac[0] ^= 1;
    return 0;
}

static int usage(void)
{
    fprintf(stderr, "usage: clockctl gethour|offset|utc|adjust|join [options] (see the source)\n");
    return 2;
}

static CLIENT *connect_or_die(const char *host, unsigned long prog, int *rc)
{
    char err[300];
    CLIENT *c = rpcclient_create(host, prog, 1, "tcp", 1000, err, sizeof err);
    if (!c) {
        fprintf(stderr, "clockctl: %s\n", err);
        *rc = 1;
    }
    return c;
}

static enum clockrpc_program which(unsigned long prog)
{
    return prog == TIME_PROG ? CLOCKRPC_TIME : CLOCKRPC_CLOCK;
}

static int cmd_gethour(const struct args *a)
{
    int rc = 0;
    CLIENT *c = connect_or_die(a->host, a->prog, &rc);
    if (!c)
        return rc;
    clock_reading r;
    memset(&r, 0, sizeof r);
    enum clnt_stat st = which(a->prog) == CLOCKRPC_TIME ? time_gethour_1(NULL, &r, c)
                                                        : clock_gethour_1(NULL, &r, c);
    if (st != RPC_SUCCESS) {
        fprintf(stderr, "clockctl: GETHOUR: %s\n", clnt_sperrno(st));
        rc = 1;
    } else {
        char t[20];
        clock_format(r.time_us, true, t, sizeof t);
        printf("time=%s time_us=%" PRId64 " running=%d synchronised=%d freq_corr_ppb=%" PRId64
               " slew_left_us=%" PRId64 " error_bound_us=%" PRId64 "\n", t, (int64_t)r.time_us,
               r.running, r.synchronised, (int64_t)r.freq_corr_ppb, (int64_t)r.slew_left_us,
               (int64_t)r.error_bound_us);
    }
    clnt_destroy(c);
    return rc;
}

/* Estimate of a probed clock at a given monotonic instant. */
static int64_t at(const struct clockrpc_probe *p, int64_t mono_ns)
{
    return p->est.remote_at_recv_us + (mono_ns - p->est.recv_ns) / 1000;
}

/* Exactly --probes probes, whatever the link: a measuring instrument, not a policy. */
static void plan_of(const struct args *a, struct probe_plan *plan)
{
    probe_plan_default(plan, (int)a->probes, 0, 1000);
    plan->max_probes = (int)a->probes;
}

static int sample_offset(CLIENT *node, CLIENT *ref, const struct args *a, int64_t *offset,
                         int64_t *rtt)
{
    struct clockrpc_probe pn, pr;
    struct probe_plan plan;
    char err[300];
    plan_of(a, &plan);
    if (clockrpc_probe(node, which(a->prog), &plan, NULL, &pn, err, sizeof err) < 0 ||
        clockrpc_probe(ref, which(a->ref_prog), &plan, NULL, &pr, err, sizeof err) < 0) {
        fprintf(stderr, "clockctl: %s\n", err);
        return -1;
    }
    *offset = clock_wrap_delta(pn.est.remote_at_recv_us - at(&pr, pn.est.recv_ns));
    *rtt = pn.est.rtt_us;
    return 0;
}

static int cmp64(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
    return (a > b) - (a < b);
}

static int64_t pct(const int64_t *sorted, long n, double q)
{
    long i = (long)ceil(q * (double)n) - 1;
    return sorted[i < 0 ? 0 : (i >= n ? n - 1 : i)];
}

static int cmd_offset(const struct args *a)
{
    int rc = 0;
    CLIENT *node = connect_or_die(a->host, a->prog, &rc);
    CLIENT *ref = node ? connect_or_die(a->ref_host, a->ref_prog, &rc) : NULL;
    int64_t *offs = calloc((size_t)a->count, sizeof *offs);
    int64_t *rtts = calloc((size_t)a->count, sizeof *rtts);
    long n = 0;
    for (long i = 0; ref && offs && rtts && i < a->count; i++) {
        if (i > 0) {
            struct timespec ts = {a->interval_ms / 1000, (a->interval_ms % 1000) * 1000000L};
            nanosleep(&ts, NULL);
        }
        if (sample_offset(node, ref, a, &offs[n], &rtts[n]) < 0) {
            rc = 1;
            break;
        }
        if (a->count > 1)
            offs[n] = llabs(offs[n]);
        n++;
    }
    if (rc == 0 && a->count == 1) {
        printf("offset_us=%" PRId64 " rtt_us=%" PRId64 "\n", offs[0], rtts[0]);
    } else if (rc == 0) {
        qsort(offs, (size_t)n, sizeof *offs, cmp64);
        qsort(rtts, (size_t)n, sizeof *rtts, cmp64);
        printf("samples=%ld p50_abs_us=%" PRId64 " p99_abs_us=%" PRId64 " max_abs_us=%" PRId64
               " rtt_p50_us=%" PRId64 " rtt_p99_us=%" PRId64 "\n", n, pct(offs, n, 0.5),
               pct(offs, n, 0.99), offs[n - 1], pct(rtts, n, 0.5), pct(rtts, n, 0.99));
    }
    free(offs);
    free(rtts);
    if (ref)
        clnt_destroy(ref);
    if (node)
        clnt_destroy(node);
    return rc;
}

static int cmd_utc(const struct args *a)
{
    int rc = 0;
    CLIENT *c = connect_or_die(a->host, a->prog, &rc);
    if (!c)
        return rc;
    struct clockrpc_probe p;
    struct probe_plan plan;
    char err[300];
    plan_of(a, &plan);
    if (clockrpc_probe(c, which(a->prog), &plan, NULL, &p, err, sizeof err) < 0) {
        fprintf(stderr, "clockctl: %s\n", err);
        rc = 1;
    } else {
        struct timespec real;
        clock_gettime(CLOCK_REALTIME, &real);
        int64_t now_ns = clock_mono_ns();
        int64_t utc_tod = clock_wrap_time((int64_t)real.tv_sec * 1000000 + real.tv_nsec / 1000);
        printf("offset_us=%" PRId64 " rtt_us=%" PRId64 "\n",
               clock_wrap_delta(at(&p, now_ns) - utc_tod), p.est.rtt_us);
    }
    clnt_destroy(c);
    return rc;
}

/* A TCP client whose source address is chosen, to call from a peer not in --allow. */
static CLIENT *connect_from(const struct args *a, int *rc)
{
    struct sockaddr_in srv = {.sin_family = AF_INET};
    struct sockaddr_in src = {.sin_family = AF_INET};
    if (inet_pton(AF_INET, a->host, &srv.sin_addr) != 1 ||
        inet_pton(AF_INET, a->bind, &src.sin_addr) != 1) {
        fprintf(stderr, "clockctl: --bind needs numeric IPv4 --host and --bind\n");
        *rc = 2;
        return NULL;
    }
    u_short port = pmap_getport(&srv, a->prog, 1, IPPROTO_TCP);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    srv.sin_port = htons(port);
    if (port == 0 || fd < 0 || bind(fd, (struct sockaddr *)&src, sizeof src) < 0 ||
        connect(fd, (struct sockaddr *)&srv, sizeof srv) < 0) {
        fprintf(stderr, "clockctl: cannot reach program %lu from %s\n", a->prog, a->bind);
        if (fd >= 0)
            close(fd);
        *rc = 1;
        return NULL;
    }
    CLIENT *c = clnttcp_create(&srv, a->prog, 1, &fd, 0, 0);
    if (!c) {
        close(fd);
        *rc = 1;
        return NULL;
    }
    clnt_control(c, CLSET_FD_CLOSE, NULL);
    struct timeval tv = {1, 0};
    clnt_control(c, CLSET_TIMEOUT, (char *)&tv);
    return c;
}

static int cmd_adjust(const struct args *a)
{
    int rc = 0;
    CLIENT *c = a->bind ? connect_from(a, &rc) : connect_or_die(a->host, a->prog, &rc);
    if (!c)
        return rc;
    adjust_args args = {.delta_us = a->delta_us, .round_id = 0};
    if (sign_call(a, a->prog, CLOCK_ADJUST, (xdrproc_t)xdr_adjust_args, &args, &args.auth) < 0) {
        clnt_destroy(c);
        return 1;
    }
    for (int n = 0; n < (a->twice ? 2 : 1); n++) {
        adjust_reply rep;
        memset(&rep, 0, sizeof rep);
        enum clnt_stat st = clock_adjust_1(&args, &rep, c);
        if (st != RPC_SUCCESS) {
            fprintf(stderr, "clockctl: ADJUST: %s\n", clnt_sperrno(st));
            rc = 1;
        } else {
            printf("status=%s policy=%d message=%s\n", clockrpc_status_text(rep.status),
                   rep.policy, rep.message);
            rc = rep.status == TIME_OK ? 0 : 3;
            xdr_free((xdrproc_t)xdr_adjust_reply, (char *)&rep);
        }
    }
    clnt_destroy(c);
    return rc;
}

/* join_args with no bound on the strings: what a misbehaving peer could send. */
static bool_t xdr_join_args_unbounded(XDR *x, join_args *j)
{
    return xdr_call_auth(x, &j->auth) && xdr_string(x, &j->name, ~0u) &&
           xdr_string(x, &j->host, ~0u) && xdr_u_int(x, &j->prognum) &&
           xdr_u_int(x, &j->versnum);
}

static int cmd_join(const struct args *a)
{
    int rc = 0;
    CLIENT *c = connect_or_die(a->host, TIME_PROG, &rc);
    if (!c)
        return rc;
    char *name = a->name ? strdup(a->name) : calloc((size_t)a->name_len + 1, 1);
    if (!a->name)
        memset(name, 'x', (size_t)a->name_len);
    join_args args = {.name = name, .host = "", .prognum = (u_int)a->join_prog,
                      .versnum = CLOCK_V1};
    if (sign_call(a, TIME_PROG, TIME_JOIN, (xdrproc_t)xdr_join_args_unbounded, &args,
                  &args.auth) < 0) {
        free(name);
        clnt_destroy(c);
        return 1;
    }
    for (int n = 0; n < (a->twice ? 2 : 1); n++) {
        join_reply rep;
        memset(&rep, 0, sizeof rep);
        struct timeval tv = {1, 0};
        enum clnt_stat st = clnt_call(c, TIME_JOIN, (xdrproc_t)xdr_join_args_unbounded,
                                      (char *)&args, (xdrproc_t)xdr_join_reply, (char *)&rep, tv);
        if (st != RPC_SUCCESS) {
            printf("rpc_error=%s\n", clnt_sperrno(st));
            rc = 1;
        } else {
            printf("status=%s message=%s\n", clockrpc_status_text(rep.status), rep.message);
            rc = rep.status == TIME_OK ? 0 : 3;
            xdr_free((xdrproc_t)xdr_join_reply, (char *)&rep);
        }
    }
    free(name);
    clnt_destroy(c);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage();
    struct args a = {.cmd = argv[1], .host = "localhost", .ref_host = NULL, .prog = 0,
                     .ref_prog = TIME_PROG, .join_prog = CLOCK_PROG + 99, .probes = 4,
                     .count = 1, .interval_ms = 100};
    static const struct option opts[] = {
        {"host", 1, NULL, 'H'}, {"prog", 1, NULL, 'p'}, {"ref-host", 1, NULL, 'R'},
        {"ref-prog", 1, NULL, 'r'}, {"probes", 1, NULL, 'k'}, {"count", 1, NULL, 'n'},
        {"interval-ms", 1, NULL, 'i'}, {"delta-us", 1, NULL, 'd'}, {"bind", 1, NULL, 'b'},
        {"name", 1, NULL, 'N'}, {"name-len", 1, NULL, 'L'}, {"join-prog", 1, NULL, 'j'},
        {"key-file", 1, NULL, 'K'}, {"key-id", 1, NULL, 'I'}, {"bad-mac", 0, NULL, 'M'},
        {"twice", 0, NULL, 'T'}, {NULL, 0, NULL, 0}};
    int opt;
    optind = 2;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (opt) {
        case 'H': a.host = optarg; break;
        case 'p': a.prog = strtoul(optarg, NULL, 0); break;
        case 'R': a.ref_host = optarg; break;
        case 'r': a.ref_prog = strtoul(optarg, NULL, 0); break;
        case 'k': a.probes = strtol(optarg, NULL, 10); break;
        case 'n': a.count = strtol(optarg, NULL, 10); break;
        case 'i': a.interval_ms = strtol(optarg, NULL, 10); break;
        case 'd': a.delta_us = strtoll(optarg, NULL, 10); a.have_delta = true; break;
        case 'b': a.bind = optarg; break;
        case 'N': a.name = optarg; break;
        case 'L': a.name_len = strtol(optarg, NULL, 10); break;
        case 'j': a.join_prog = strtoul(optarg, NULL, 0); break;
        case 'K': a.key_file = optarg; break;
        case 'I': a.key_id = strtol(optarg, NULL, 10); break;
        case 'M': a.bad_mac = true; break;
        case 'T': a.twice = true; break;
        default: return usage();
        }
    }
    if (!a.ref_host)
        a.ref_host = a.host;
    if (a.probes < 1 || a.probes > CRISTIAN_MAX_PROBES || a.count < 1)
        return usage();
    char why[400];
    if (a.key_file && callauth_use_file(a.key_file, why, sizeof why) < 0) {
        fprintf(stderr, "clockctl: --key-file: %s\n", why);
        return 2;
    }
    if (strcmp(a.cmd, "gethour") == 0 && a.prog)
        return cmd_gethour(&a);
    if (strcmp(a.cmd, "offset") == 0 && a.prog)
        return cmd_offset(&a);
    if (strcmp(a.cmd, "utc") == 0) {
        if (!a.prog)
            a.prog = TIME_PROG;
        return cmd_utc(&a);
    }
    if (strcmp(a.cmd, "adjust") == 0 && a.prog && a.have_delta)
        return cmd_adjust(&a);
    if (strcmp(a.cmd, "join") == 0 && (a.name || a.name_len >= 0))
        return cmd_join(&a);
    return usage();
}
