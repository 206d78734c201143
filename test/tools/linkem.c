/* linkem: a userspace link emulator, because this kernel has no sch_netem (see usage()).
 * Relays Ethernet frames between two interfaces of this namespace (ends of veth pairs)
 * with AF_PACKET sockets. Direction "ab" takes frames received on A out of B, "ba" the
 * reverse. Per direction a frame is lost with probability loss, else it leaves at
 * max(arrival + delay +/- uniform jitter [+ spike with probability spike-prob],
 * previous departure of that direction): frames never overtake each other, as on a real
 * link, where jitter comes from queues (and TCP suffers from reordering).
 *
 * Frames travel with their virtio_net_hdr (PACKET_VNET_HDR): veth hands us GSO
 * super-frames with partial checksums, which the kernel can only finish on send if it
 * is told what they are.
 *
 * Stats (SIGUSR1 and at exit, to --stats-file appended or stderr), one line per direction:
 *   linkem ab frames=N lost=N overflow=N late_p50_us=X late_p99_us=X late_max_us=X
 * late = send instant - scheduled departure: what the emulator adds by itself.
 * Exit status: 0 stopped by SIGTERM/SIGINT, 1 runtime failure, 2 usage. */
#include "options.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/if_packet.h>
#include <linux/virtio_net.h>
#include <math.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define VNET_LEN ((uint32_t)sizeof(struct virtio_net_hdr))
/* A GSO super-frame carries up to 64 KiB of IP, plus the link header and VLAN tags. */
#define MAXFRAME (VNET_LEN + 65536u + 64u)
#define QSLOTS 16384u
#define QBYTES (16u << 20)     /* 256 super-frames or ~11000 full-size frames a direction */
#define HIST_US 10000          /* late histogram: 1 us buckets, the last one catches all */
#define RECV_BATCH 64          /* frames taken from one socket before looking at the clock */
#define MAX_MS 60000.0
#define EARLY_MAX 200000       /* ns: the most a timed wake-up is brought forward */
#define EARLY_STEP 1000        /* ns: how fast that estimate follows the timer */
#define EARLY_UP 99            /* up 99 steps when late, down 1 when not: its 99th percentile */

struct slot {
    uint32_t off, len;
    int64_t depart;            /* CLOCK_MONOTONIC ns */
};

struct dir {
    const char *name;
    int out;                   /* index of the interface it sends on */
    int64_t delay, jitter, spike;       /* ns */
    double loss, spike_prob;
    uint64_t rng[4];
    unsigned char *buf;
    struct slot *slots;
    uint32_t first, count, head;
    int64_t last_depart;
    uint64_t frames, lost, overflow, truncated, send_errors;
    int last_errno;
    uint64_t hist[HIST_US + 1];
    int64_t late_max;
};

struct iface {
    const char *name;
    int index, fd;
};

static volatile sig_atomic_t g_stop, g_dump;
static unsigned char g_scratch[MAXFRAME];

static void on_signal(int sig)
{
    if (sig == SIGUSR1)
        g_dump = 1;
    else
        g_stop = 1;
}

static int64_t now_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* xoshiro256**, seeded through splitmix64: fast, and the same seed replays a run. */
static uint64_t splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static double uniform(uint64_t s[4])
{
    uint64_t r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return (double)(r >> 11) * 0x1p-53;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: linkem --a IFACE --b IFACE [--delay MS] [--jitter MS] [--loss P]\n"
            "              [--spike-prob P] [--spike MS] [--delay-ab MS] [--delay-ba MS]\n"
            "              [--jitter-ab MS] [--jitter-ba MS] [--loss-ab P] [--loss-ba P]\n"
            "              [--spike-prob-ab P] [--spike-prob-ba P] [--spike-ab MS] [--spike-ba MS]\n"
            "              [--seed N] [--stats-file FILE] [--realtime] [--help]\n"
            "Relays frames between A and B (ab: received on A, sent on B; ba: the reverse).\n"
            "MS: milliseconds with decimals (0 to %g); P: probability 0 to 1. The symmetric\n"
            "options set both directions, -ab/-ba ones override them. Jitter is uniform +/- MS;\n"
            "a spike adds MS to a frame with probability P; frames never overtake each other.\n"
            "SIGUSR1 (and exit) prints per direction: frames lost overflow late_p50/p99/max_us.\n",
            MAX_MS);
}

/* The parameters as given, so that -ab/-ba win over the symmetric ones in any order. */
enum { P_DELAY, P_JITTER, P_LOSS, P_SPIKE_PROB, P_SPIKE, P_COUNT };
static const char *const p_name[P_COUNT] = {"delay", "jitter", "loss", "spike-prob", "spike"};

struct config {
    const char *a, *b, *stats_file;
    double val[3][P_COUNT];    /* [0] symmetric, [1] ab, [2] ba */
    bool set[3][P_COUNT];
    long seed;
    bool have_seed, realtime;
};

static int parse_args(int argc, char **argv, struct config *c)
{
    enum { O_A = 256, O_B, O_SEED, O_STATS, O_RT, O_HELP, O_PARAM = 512 };
    struct option opts[6 + 3 * P_COUNT + 1] = {
        {"a", required_argument, NULL, O_A},          {"b", required_argument, NULL, O_B},
        {"seed", required_argument, NULL, O_SEED},    {"stats-file", required_argument, NULL, O_STATS},
        {"realtime", no_argument, NULL, O_RT},        {"help", no_argument, NULL, O_HELP}};
    static char names[3][P_COUNT][24];
    int n = 6;
    for (int v = 0; v < 3; v++)
        for (int p = 0; p < P_COUNT; p++) {
            snprintf(names[v][p], sizeof names[v][p], "%s%s", p_name[p],
                     v == 0 ? "" : v == 1 ? "-ab" : "-ba");
            opts[n++] = (struct option){names[v][p], required_argument, NULL,
                                        O_PARAM + v * P_COUNT + p};
        }
    opts[n] = (struct option){0};

    int ch;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (ch >= O_PARAM) {
            int v = (ch - O_PARAM) / P_COUNT, p = (ch - O_PARAM) % P_COUNT;
            bool prob = p == P_LOSS || p == P_SPIKE_PROB;
            if (options_double(names[v][p], optarg, 0, prob ? 1 : MAX_MS, &c->val[v][p]) < 0)
                return 2;
            c->set[v][p] = true;
            continue;
        }
        switch (ch) {
        case O_A: c->a = optarg; break;
        case O_B: c->b = optarg; break;
        case O_STATS: c->stats_file = optarg; break;
        case O_RT: c->realtime = true; break;
        case O_HELP: usage(stdout); exit(0);
        case O_SEED:
            if (options_long("seed", optarg, 0, LONG_MAX, &c->seed) < 0)
                return 2;
            c->have_seed = true;
            break;
        default:
            fprintf(stderr, "linkem: %s: %s\n", argv[optind - 1],
                    optopt ? "needs a value" : "unknown option");
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "linkem: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (!c->a || !c->b || !*c->a || !*c->b) {
        fprintf(stderr, "linkem: --a and --b (the two interfaces) are required\n");
        usage(stderr);
        return 2;
    }
    if (strcmp(c->a, c->b) == 0) {
        fprintf(stderr, "linkem: --a and --b are both '%s': they must differ\n", c->a);
        return 2;
    }
    return 0;
}

static void setup_dir(struct dir *d, const struct config *c, int v, uint64_t seed)
{
    double p[P_COUNT];
    for (int i = 0; i < P_COUNT; i++)
        p[i] = c->set[v][i] ? c->val[v][i] : c->val[0][i];
    d->delay = llround(p[P_DELAY] * 1e6);
    d->jitter = llround(p[P_JITTER] * 1e6);
    d->spike = llround(p[P_SPIKE] * 1e6);
    d->loss = p[P_LOSS];
    d->spike_prob = p[P_SPIKE_PROB];
    /* One generator per direction: traffic in one does not change the draws of the other. */
    uint64_t x = seed ^ ((uint64_t)v * 0xd1b54a32d192ed03u);
    for (int i = 0; i < 4; i++)
        d->rng[i] = splitmix(&x);
    d->buf = malloc(QBYTES);
    d->slots = calloc(QSLOTS, sizeof *d->slots);
    if (!d->buf || !d->slots) {
        fprintf(stderr, "linkem: queue of direction %s: out of memory\n", d->name);
        exit(1);
    }
}

static void sockopt(int fd, int level, int opt, int val, const char *what, const char *ifname,
                    bool must)
{
    if (setsockopt(fd, level, opt, &val, sizeof val) == 0)
        return;
    fprintf(stderr, "linkem: %s on %s: %s%s\n", what, ifname, strerror(errno),
            must ? "" : " (continuing without it)");
    if (must)
        exit(1);
}

static void open_iface(struct iface *f)
{
    f->index = (int)if_nametoindex(f->name);
    if (f->index == 0) {
        fprintf(stderr, "linkem: interface %s: %s (in this network namespace)\n", f->name,
                errno == ENODEV ? "no such interface" : strerror(errno));
        exit(1);
    }
    /* Protocol 0 until bound: an unbound ETH_P_ALL socket sees every interface's frames. */
    f->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
    if (f->fd < 0) {
        fprintf(stderr, "linkem: AF_PACKET socket for %s: %s%s\n", f->name, strerror(errno),
                errno == EPERM ? " (run as root: raw sockets need CAP_NET_RAW)" : "");
        exit(1);
    }
    int one = 1;
    if (setsockopt(f->fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof one) < 0) {
        fprintf(stderr, "linkem: PACKET_VNET_HDR on %s: %s: without it GSO super-frames and "
                "partial checksums cannot be relayed; disable offloads on both veth pairs "
                "(ethtool -K DEV tso off gso off gro off tx off, at both ends)\n",
                f->name, strerror(errno));
        exit(1);
    }
    /* Our own sends on this interface would otherwise come back as input: a loop. */
    sockopt(f->fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, 1, "PACKET_IGNORE_OUTGOING", f->name,
            false);
    /* Hand frames straight to veth: a qdisc only adds latency and another queue. */
    sockopt(f->fd, SOL_PACKET, PACKET_QDISC_BYPASS, 1, "PACKET_QDISC_BYPASS", f->name, false);
    /* The kernel's arrival stamp: delays count from arrival, not from our wake-up. */
    sockopt(f->fd, SOL_SOCKET, SO_TIMESTAMPNS, 1, "SO_TIMESTAMPNS", f->name, false);
    /* Room for bursts while we are busy sending: a kernel drop would go uncounted. */
    sockopt(f->fd, SOL_SOCKET, SO_RCVBUFFORCE, 8 << 20, "SO_RCVBUFFORCE", f->name, false);
    sockopt(f->fd, SOL_SOCKET, SO_SNDBUFFORCE, 8 << 20, "SO_SNDBUFFORCE", f->name, false);

    struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL),
                              .sll_ifindex = f->index};
    if (bind(f->fd, (struct sockaddr *)&sll, sizeof sll) < 0) {
        fprintf(stderr, "linkem: bind to %s: %s\n", f->name, strerror(errno));
        exit(1);
    }
    struct packet_mreq mr = {.mr_ifindex = f->index, .mr_type = PACKET_MR_PROMISC};
    if (setsockopt(f->fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof mr) < 0) {
        fprintf(stderr, "linkem: promiscuous mode on %s: %s\n", f->name, strerror(errno));
        exit(1);
    }
    struct ifreq ifr = {0};
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", f->name);
    if (ioctl(f->fd, SIOCGIFFLAGS, &ifr) == 0 && !(ifr.ifr_flags & IFF_UP))
        fprintf(stderr, "linkem: warning: interface %s is down: nothing will pass until it "
                "is up\n", f->name);
}

/* Contiguous room for one frame of up to MAXFRAME bytes at the head of the ring. */
static unsigned char *reserve(struct dir *d, uint32_t *off)
{
    if (d->count == QSLOTS)
        return NULL;
    if (d->count == 0)
        d->head = 0;
    uint32_t tail = d->slots[d->first].off;
    if (d->count == 0 || d->head > tail) {       /* used: [tail, head) */
        if (QBYTES - d->head >= MAXFRAME)
            *off = d->head;
        else if (d->count > 0 && tail >= MAXFRAME)
            *off = 0;
        else
            return NULL;
    } else if (tail - d->head >= MAXFRAME) {     /* wrapped, used: [tail, end) + [0, head) */
        *off = d->head;
    } else {
        return NULL;
    }
    return d->buf + *off;
}

/* Arrival instant of a received frame on CLOCK_MONOTONIC, from the kernel's stamp. */
static int64_t arrival(struct msghdr *m, int64_t mono, int64_t real_minus_mono)
{
    for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_TIMESTAMPNS)
            continue;
        struct timespec ts;
        memcpy(&ts, CMSG_DATA(c), sizeof ts);
        int64_t t = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec - real_minus_mono;
        /* A stamp from another clock or a stepped wall clock: our own reading is better. */
        if (t <= mono && mono - t < 1000000000)
            return t;
    }
    return mono;
}

static void enqueue(struct dir *d, uint32_t off, uint32_t len, int64_t arrived)
{
    if (uniform(d->rng) < d->loss) {
        d->lost++;
        return;
    }
    int64_t delay = d->delay;
    if (d->jitter > 0)
        delay += llround((2 * uniform(d->rng) - 1) * (double)d->jitter);
    if (d->spike_prob > 0 && uniform(d->rng) < d->spike_prob)
        delay += d->spike;
    int64_t depart = arrived + (delay > 0 ? delay : 0);
    if (depart < d->last_depart)
        depart = d->last_depart;
    d->last_depart = depart;
    struct slot *s = &d->slots[(d->first + d->count) % QSLOTS];
    *s = (struct slot){off, len, depart};
    d->count++;
    d->head = off + ((len + 15u) & ~15u);
}

/* Takes what socket in has waiting (a batch at most, so the other direction is served). */
static void drain(struct dir *d, const struct iface *in)
{
    char ctrl[CMSG_SPACE(sizeof(struct timespec)) + 64];
    int64_t mono = now_ns(CLOCK_MONOTONIC);
    int64_t real_minus_mono = now_ns(CLOCK_REALTIME) - mono;
    for (int i = 0; i < RECV_BATCH; i++) {
        uint32_t off = 0;
        unsigned char *p = reserve(d, &off);
        bool full = p == NULL;
        struct sockaddr_ll from;
        struct iovec iov = {full ? g_scratch : p, MAXFRAME};
        struct msghdr m = {.msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &iov,
                           .msg_iovlen = 1, .msg_control = ctrl, .msg_controllen = sizeof ctrl};
        ssize_t n = recvmsg(in->fd, &m, MSG_DONTWAIT | MSG_TRUNC);
        if (n < 0) {
            /* ENETDOWN: the interface went down; frames will come when it is up again. */
            if (errno == EAGAIN || errno == EINTR || errno == ENETDOWN)
                return;
            fprintf(stderr, "linkem: receive on %s: %s\n", in->name, strerror(errno));
            exit(1);
        }
        /* Our own sends, if PACKET_IGNORE_OUTGOING was refused; and runts, which a veth
         * never delivers, are not worth a counter. */
        if (from.sll_pkttype == PACKET_OUTGOING || (size_t)n < VNET_LEN + ETH_HLEN)
            continue;
        d->frames++;
        if ((size_t)n > MAXFRAME) {
            if (d->truncated++ == 0)
                fprintf(stderr, "linkem: %s: dropping a frame of %zd bytes: larger than the "
                        "%u this relay takes (counted as overflow)\n", d->name, n, MAXFRAME);
            d->overflow++;
            continue;
        }
        if (full) {
            d->overflow++;
            continue;
        }
        mono = now_ns(CLOCK_MONOTONIC);
        enqueue(d, off, (uint32_t)n, arrival(&m, mono, real_minus_mono));
    }
}

/* Sends every frame of d whose departure has come. */
static void send_due(struct dir *d, const struct iface *out)
{
    while (d->count > 0) {
        struct slot *s = &d->slots[d->first];
        int64_t now = now_ns(CLOCK_MONOTONIC);
        if (s->depart > now)
            return;
        unsigned char *f = d->buf + s->off;
        /* The frame's own EtherType, so the kernel parses it right (GSO needs that). */
        uint16_t proto;
        memcpy(&proto, f + VNET_LEN + 12, sizeof proto);
        struct sockaddr_ll to = {.sll_family = AF_PACKET, .sll_protocol = proto,
                                 .sll_ifindex = out->index};
        int64_t late = now - s->depart, us = late / 1000;
        d->hist[us < HIST_US ? us : HIST_US]++;
        d->late_max = late > d->late_max ? late : d->late_max;
        if (sendto(out->fd, f, s->len, 0, (struct sockaddr *)&to, sizeof to) < 0) {
            if (errno == EINTR)
                continue;
            if (d->send_errors++ == 0 || errno != d->last_errno)
                fprintf(stderr, "linkem: %s: send on %s: %s (frame of %u bytes dropped; "
                        "further such errors are only counted)\n", d->name, out->name,
                        strerror(errno), s->len - VNET_LEN);
            d->last_errno = errno;
        }
        d->first = (d->first + 1) % QSLOTS;
        d->count--;
    }
}

static int64_t percentile(const struct dir *d, double q)
{
    uint64_t n = 0;
    for (int i = 0; i <= HIST_US; i++)
        n += d->hist[i];
    if (n == 0)
        return 0;
    uint64_t rank = (uint64_t)ceil(q * (double)n), seen = 0;
    if (rank == 0)
        rank = 1;
    for (int i = 0; i <= HIST_US; i++)
        if ((seen += d->hist[i]) >= rank)
            return i;
    return HIST_US;
}

static void dump_stats(const struct dir *dirs, const char *file)
{
    char out[512];
    int len = 0;
    for (int i = 0; i < 2; i++) {
        const struct dir *d = &dirs[i];
        len += snprintf(out + len, sizeof out - (size_t)len,
                        "linkem %s frames=%" PRIu64 " lost=%" PRIu64 " overflow=%" PRIu64
                        " late_p50_us=%" PRId64 " late_p99_us=%" PRId64 " late_max_us=%" PRId64 "\n",
                        d->name, d->frames, d->lost, d->overflow, percentile(d, 0.5),
                        percentile(d, 0.99), d->late_max / 1000);
    }
    int fd = 2;
    if (file) {
        fd = open(file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd < 0) {
            fprintf(stderr, "linkem: stats file %s: %s (writing to stderr)\n", file,
                    strerror(errno));
            fd = 2;
        }
    }
    /* One write, so a reader polling the file sees both lines or neither. */
    if (write(fd, out, (size_t)len) != len)
        fprintf(stderr, "linkem: writing stats: %s\n", strerror(errno));
    if (fd != 2)
        close(fd);
}

/* A running estimate of a high percentile of the timer's lateness (a stochastic quantile
 * tracker), bounded: every microsecond of it is spent polling instead of sleeping. */
static int64_t track_wake_latency(int64_t est, int64_t sample)
{
    est += sample > est ? EARLY_UP * EARLY_STEP : -EARLY_STEP;
    return est < 0 ? 0 : est > EARLY_MAX ? EARLY_MAX : est;
}

static void go_realtime(void)
{
    struct sched_param sp = {.sched_priority = 50};
    if (sched_setscheduler(0, SCHED_FIFO, &sp) < 0)
        fprintf(stderr, "linkem: warning: SCHED_FIFO refused: %s (continuing at normal "
                "priority)\n", strerror(errno));
    /* A page fault in the send path would show up as lateness. */
    if (mlockall(MCL_CURRENT | MCL_FUTURE) < 0)
        fprintf(stderr, "linkem: warning: mlockall: %s (continuing)\n", strerror(errno));
}

int main(int argc, char **argv)
{
    static struct config cfg;
    int rc = parse_args(argc, argv, &cfg);
    if (rc)
        return rc;
    uint64_t seed = cfg.have_seed ? (uint64_t)cfg.seed
                                  : (uint64_t)now_ns(CLOCK_REALTIME) ^ ((uint64_t)getpid() << 40);

    /* The default 50 us slack would be added to every timed departure. */
    if (prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL) < 0)
        fprintf(stderr, "linkem: warning: PR_SET_TIMERSLACK: %s\n", strerror(errno));
    if (cfg.realtime)
        go_realtime();

    static struct iface ifs[2];
    ifs[0].name = cfg.a;
    ifs[1].name = cfg.b;
    open_iface(&ifs[0]);
    open_iface(&ifs[1]);

    static struct dir dirs[2];
    dirs[0].name = "ab", dirs[0].out = 1;
    dirs[1].name = "ba", dirs[1].out = 0;
    setup_dir(&dirs[0], &cfg, 1, seed);
    setup_dir(&dirs[1], &cfg, 2, seed);

    /* Signals are taken only inside ppoll, so none is lost between a check and a sleep. */
    static const int sigs[] = {SIGTERM, SIGINT, SIGUSR1};
    sigset_t block, wait_mask;
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&block);
    sigemptyset(&sa.sa_mask);
    for (int i = 0; i < 3; i++)
        sigaddset(&block, sigs[i]);
    sigprocmask(SIG_BLOCK, &block, &wait_mask);
    for (int i = 0; i < 3; i++) {
        sigdelset(&wait_mask, sigs[i]);
        sigaction(sigs[i], &sa, NULL);
    }

    fprintf(stderr, "linkem: relaying %s <-> %s, seed %" PRIu64 "\n", cfg.a, cfg.b, seed);
    int64_t early = EARLY_MAX / 2;
    struct pollfd pfd[2] = {{.fd = ifs[0].fd, .events = POLLIN}, {.fd = ifs[1].fd, .events = POLLIN}};
    while (!g_stop) {
        if (g_dump) {
            g_dump = 0;
            dump_stats(dirs, cfg.stats_file);
        }
        int64_t next = INT64_MAX;
        for (int i = 0; i < 2; i++)
            if (dirs[i].count > 0 && dirs[i].slots[dirs[i].first].depart < next)
                next = dirs[i].slots[dirs[i].first].depart;
        /* A timer wake-up on a VM comes 50-100 us late (a halted vCPU is slow to resume),
         * so sleep until about that much before the departure and poll from there. */
        struct timespec ts, *tsp = NULL;
        int64_t wake = INT64_MAX;
        if (next != INT64_MAX) {
            int64_t now = now_ns(CLOCK_MONOTONIC), wait = next - now - early;
            if (wait <= 0)
                wait = 0;
            else
                wake = now + wait;
            ts = (struct timespec){(time_t)(wait / 1000000000), (long)(wait % 1000000000)};
            tsp = &ts;
        }
        int r = ppoll(pfd, 2, tsp, &wait_mask);
        if (r < 0 && errno != EINTR) {
            fprintf(stderr, "linkem: ppoll: %s\n", strerror(errno));
            return 1;
        }
        if (r == 0 && wake != INT64_MAX)
            early = track_wake_latency(early, now_ns(CLOCK_MONOTONIC) - wake);
        for (int i = 0; i < 2; i++) {
            if (pfd[i].revents & POLLERR) {
                /* Reading SO_ERROR clears it: ppoll would otherwise spin on it. */
                int err = 0;
                socklen_t el = sizeof err;
                getsockopt(pfd[i].fd, SOL_SOCKET, SO_ERROR, &err, &el);
                if (if_nametoindex(ifs[i].name) != (unsigned)ifs[i].index) {
                    fprintf(stderr, "linkem: interface %s: gone (%s)\n", ifs[i].name,
                            strerror(err));
                    rc = 1;
                    g_stop = 1;
                }
            }
            if ((pfd[i].revents & POLLIN) && !g_stop)
                drain(&dirs[i], &ifs[i]);
        }
        for (int i = 0; i < 2; i++)
            send_due(&dirs[i], &ifs[dirs[i].out]);
    }
    dump_stats(dirs, cfg.stats_file);
    for (int i = 0; i < 2; i++) {
        if (dirs[i].send_errors)
            fprintf(stderr, "linkem: %s: %" PRIu64 " frames could not be sent (last: %s)\n",
                    dirs[i].name, dirs[i].send_errors, strerror(dirs[i].last_errno));
        free(dirs[i].buf);
        free(dirs[i].slots);
        close(ifs[i].fd);
    }
    return rc;
}
