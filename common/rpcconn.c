#include "rpcconn.h"

#include "allow.h"
#include "clock.h"
#include "log.h"
#include "rpcdefer.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

enum rpcconn_kind { RPCCONN_FREE, RPCCONN_OURS, RPCCONN_LISTENER, RPCCONN_CONN };

/* Indexed by descriptor. */
struct rpcconn_slot {
    uint8_t kind;
    bool doomed;      /* shut down; libtirpc destroys it at its next read */
    uint32_t gen;     /* told apart from a later use of the same descriptor */
    int pollfd_index; /* where libtirpc keeps it in svc_pollfd */
    int peer;         /* index in rpcconn_peers, -1 for none */
    int64_t last_ns;
};

/* Open connections per peer address: open addressing, rebuilt without the peers that
 * have none left when it fills. */
#define RPCCONN_PEER_SLOTS 16384
struct rpcconn_peer {
    uint8_t used, len;
    uint8_t addr[16];
    int open;
};

static int rpcconn_epoll = -1;
static struct rpcconn_slot *rpcconn_slots;
static int rpcconn_nslots;
static struct rpcconn_peer *rpcconn_peers;
static int rpcconn_peers_used;
static int rpcconn_open;
static uint64_t rpcconn_refused;
static struct rpcconn_limits rpcconn_lim = {RPCCONN_PER_PEER, RPCCONN_TOTAL, RPCCONN_IDLE_S};
static int rpcconn_fd_limit = 1024;
static int64_t rpcconn_swept_ns;

/* libtirpc reaps connections behind its owner's back (no destroy operation) once 4/5 of
 * the descriptor table is in use; staying under 7/10 keeps it from ever doing so. */
static int rpcconn_total_allowed(int wanted)
{
    int room = rpcconn_fd_limit / 10 * 7 - 32;
    if (room < 16)
        room = 16;
    return wanted < room ? wanted : room;
}

int rpcconn_init(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        if (rl.rlim_cur < rl.rlim_max) {
            rl.rlim_cur = rl.rlim_max;
            setrlimit(RLIMIT_NOFILE, &rl);
            getrlimit(RLIMIT_NOFILE, &rl);
        }
        rpcconn_fd_limit = rl.rlim_cur > 1 << 20 ? 1 << 20 : (int)rl.rlim_cur;
    }
    rpcconn_lim.total = rpcconn_total_allowed(rpcconn_lim.total);
    rpcconn_epoll = epoll_create1(EPOLL_CLOEXEC);
    if (rpcconn_epoll < 0) {
        log_error("rpc loop", "epoll_create1: %s", strerror(errno));
        return -1;
    }
    rpcconn_peers = calloc(RPCCONN_PEER_SLOTS, sizeof *rpcconn_peers);
    if (!rpcconn_peers) {
        log_error("rpc loop", "out of memory for the connection table");
        return -1;
    }
    return 0;
}

void rpcconn_set_limits(const struct rpcconn_limits *l)
{
    if (l->per_peer > 0)
        rpcconn_lim.per_peer = l->per_peer;
    if (l->total > 0)
        rpcconn_lim.total = rpcconn_total_allowed(l->total);
    if (l->idle_s > 0)
        rpcconn_lim.idle_s = l->idle_s;
}

static struct rpcconn_slot *rpcconn_slot(int fd)
{
    if (fd < 0)
        return NULL;
    if (fd >= rpcconn_nslots) {
        int n = rpcconn_nslots ? rpcconn_nslots : 256;
        while (n <= fd)
            n *= 2;
        struct rpcconn_slot *grown = realloc(rpcconn_slots, sizeof *grown * (size_t)n);
        if (!grown)
            return NULL;
        memset(grown + rpcconn_nslots, 0, sizeof *grown * (size_t)(n - rpcconn_nslots));
        rpcconn_slots = grown;
        rpcconn_nslots = n;
    }
    return &rpcconn_slots[fd];
}

static int rpcconn_watch(int fd, struct rpcconn_slot *s)
{
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP,
                             .data.u64 = (uint64_t)(uint32_t)fd | (uint64_t)s->gen << 32};
    if (epoll_ctl(rpcconn_epoll, EPOLL_CTL_ADD, fd, &ev) == 0)
        return 0;
    log_error("rpc loop", "epoll_ctl add descriptor %d: %s", fd, strerror(errno));
    return -1;
}

int rpcconn_add(int fd, SVCXPRT *x)
{
    struct rpcconn_slot *s = rpcconn_slot(fd);
    if (!s)
        return -1;
    int type = 0;
    socklen_t len = sizeof type;
    bool listener = x && getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 &&
                    type == SOCK_STREAM;
    s->kind = listener ? RPCCONN_LISTENER : RPCCONN_OURS;
    s->gen++;
    s->peer = -1;
    return rpcconn_watch(fd, s);
}

void rpcconn_remove(int fd)
{
    struct rpcconn_slot *s = rpcconn_slot(fd);
    if (!s || s->kind == RPCCONN_FREE)
        return;
    epoll_ctl(rpcconn_epoll, EPOLL_CTL_DEL, fd, NULL);
    s->kind = RPCCONN_FREE;
}

/* ---------------------------------------------------------------- peers */

static int rpcconn_peer_key(int fd, uint8_t addr[16], uint8_t *len, struct sockaddr_storage *ss)
{
    socklen_t sl = sizeof *ss;
    if (getpeername(fd, (struct sockaddr *)ss, &sl) < 0)
        return -1;
    if (ss->ss_family == AF_INET) {
        memcpy(addr, &((struct sockaddr_in *)ss)->sin_addr, 4);
        *len = 4;
    } else if (ss->ss_family == AF_INET6) {
        memcpy(addr, &((struct sockaddr_in6 *)ss)->sin6_addr, 16);
        *len = 16;
    } else {
        *len = 0;
    }
    return 0;
}

static uint32_t rpcconn_hash(const uint8_t *addr, uint8_t len)
{
    uint32_t h = 2166136261u;
    for (uint8_t i = 0; i < len; i++)
        h = (h ^ addr[i]) * 16777619u;
    return h;
}

static int rpcconn_peer_find(const uint8_t *addr, uint8_t len, bool add);

static void rpcconn_peers_rebuild(void)
{
    struct rpcconn_peer *old = rpcconn_peers;
    struct rpcconn_peer *fresh = calloc(RPCCONN_PEER_SLOTS, sizeof *fresh);
    if (!fresh)
        return;
    /* Slots name their peer by its index here: map old indices to new ones. */
    int *moved = malloc(sizeof *moved * RPCCONN_PEER_SLOTS);
    if (!moved) {
        free(fresh);
        return;
    }
    rpcconn_peers = fresh;
    rpcconn_peers_used = 0;
    for (int i = 0; i < RPCCONN_PEER_SLOTS; i++) {
        moved[i] = -1;
        if (old[i].used && old[i].open > 0) {
            moved[i] = rpcconn_peer_find(old[i].addr, old[i].len, true);
            rpcconn_peers[moved[i]].open = old[i].open;
        }
    }
    for (int fd = 0; fd < rpcconn_nslots; fd++)
        if (rpcconn_slots[fd].kind == RPCCONN_CONN && rpcconn_slots[fd].peer >= 0)
            rpcconn_slots[fd].peer = moved[rpcconn_slots[fd].peer];
    free(moved);
    free(old);
}

static int rpcconn_peer_find(const uint8_t *addr, uint8_t len, bool add)
{
    uint32_t mask = RPCCONN_PEER_SLOTS - 1;
    for (uint32_t i = rpcconn_hash(addr, len) & mask;; i = (i + 1) & mask) {
        struct rpcconn_peer *p = &rpcconn_peers[i];
        if (p->used && p->len == len && memcmp(p->addr, addr, len) == 0)
            return (int)i;
        if (!p->used) {
            if (!add)
                return -1;
            p->used = 1;
            p->len = len;
            memcpy(p->addr, addr, len);
            p->open = 0;
            rpcconn_peers_used++;
            return (int)i;
        }
    }
}

/* The peer's entry, made if new. The table holds at most RPCCONN_TOTAL peers with
 * connections, a quarter of its slots, so a rebuild always makes room. */
static int rpcconn_peer_get(const uint8_t *addr, uint8_t len)
{
    int i = rpcconn_peer_find(addr, len, false);
    if (i >= 0)
        return i;
    if (rpcconn_peers_used >= RPCCONN_PEER_SLOTS / 2)
        rpcconn_peers_rebuild();
    if (rpcconn_peers_used >= RPCCONN_PEER_SLOTS - 1)
        return -1;
    return rpcconn_peer_find(addr, len, true);
}

/* ---------------------------------------------------------------- connections */

static void rpcconn_refuse_log(const struct sockaddr_storage *ss, const char *why)
{
    static struct log_rate rate;
    if (!log_rate_ok(&rate, 3))
        return;
    char who[64];
    allow_format((const struct sockaddr *)ss, who, sizeof who);
    log_warn("rpc", "connection from %s refused: %s (%llu refused so far)", who, why,
             (unsigned long long)rpcconn_refused);
}

static void rpcconn_doom(int fd, struct rpcconn_slot *s)
{
    if (s->doomed)
        return;
    s->doomed = true;
    /* libtirpc sees the end of the stream at its next read and destroys the transport
     * itself, releasing all it keeps for it. */
    shutdown(fd, SHUT_RDWR);
}

static void rpcconn_adopt(int fd, int index, int64_t now)
{
    struct rpcconn_slot *s = rpcconn_slot(fd);
    if (!s)
        return;
    s->kind = RPCCONN_CONN;
    s->doomed = false;
    s->gen++;
    s->pollfd_index = index;
    s->peer = -1;
    s->last_ns = now;
    rpcconn_open++;
    struct sockaddr_storage ss;
    uint8_t addr[16], len;
    memset(&ss, 0, sizeof ss);
    if (rpcconn_peer_key(fd, addr, &len, &ss) == 0)
        s->peer = rpcconn_peer_get(addr, len);
    if (s->peer >= 0)
        rpcconn_peers[s->peer].open++;
    if (rpcconn_watch(fd, s) < 0) {
        rpcconn_doom(fd, s);
        return;
    }
    char why[120];
    if (s->peer >= 0 && rpcconn_peers[s->peer].open > rpcconn_lim.per_peer)
        snprintf(why, sizeof why, "it has %d open, at most %d a peer",
                 rpcconn_peers[s->peer].open - 1, rpcconn_lim.per_peer);
    else if (rpcconn_open > rpcconn_lim.total)
        snprintf(why, sizeof why, "%d connections open, at most %d", rpcconn_open - 1,
                 rpcconn_lim.total);
    else
        return;
    rpcconn_refused++;
    rpcconn_refuse_log(&ss, why);
    rpcconn_doom(fd, s);
}

static void rpcconn_forget(struct rpcconn_slot *s)
{
    if (s->peer >= 0 && rpcconn_peers[s->peer].open > 0)
        rpcconn_peers[s->peer].open--;
    s->kind = RPCCONN_FREE;
    s->peer = -1;
    rpcconn_open--;
}

/* Still libtirpc's? A destroyed transport's svc_pollfd entry is set to -1 in place. */
static bool rpcconn_alive(int fd, const struct rpcconn_slot *s)
{
    return s->pollfd_index < svc_max_pollfd && svc_pollfd[s->pollfd_index].fd == fd;
}

/* The connections libtirpc accepted that are not known yet (an accept adds one). */
static void rpcconn_find_new(void)
{
    int64_t now = clock_mono_ns();
    for (int i = 0; i < svc_max_pollfd; i++) {
        int fd = svc_pollfd[i].fd;
        if (fd < 0)
            continue;
        struct rpcconn_slot *s = rpcconn_slot(fd);
        if (!s)
            continue;
        /* A connection destroyed unseen whose descriptor came back at another entry. */
        if (s->kind == RPCCONN_CONN && s->pollfd_index != i && !rpcconn_alive(fd, s))
            rpcconn_forget(s);
        if (s->kind == RPCCONN_FREE)
            rpcconn_adopt(fd, i, now);
    }
}

int rpcconn_serve(int timeout_ms, int wake_fd, bool *woken)
{
    struct epoll_event ev[128];
    int n = epoll_wait(rpcconn_epoll, ev, 128, timeout_ms);
    *woken = false;
    if (n < 0) {
        if (errno == EINTR)
            return 0;
        log_error("rpc loop", "epoll_wait: %s", strerror(errno));
        return -1;
    }
    int64_t now = n > 0 ? clock_mono_ns() : 0;
    for (int i = 0; i < n; i++) {
        int fd = (int)(uint32_t)ev[i].data.u64;
        uint32_t gen = (uint32_t)(ev[i].data.u64 >> 32);
        if (fd == wake_fd) {
            *woken = true;
            continue;
        }
        struct rpcconn_slot *s = rpcconn_slot(fd);
        /* An event for a descriptor closed (or reused) by an earlier one of this batch. */
        if (!s || s->kind == RPCCONN_FREE || s->gen != gen)
            continue;
        if (s->kind == RPCCONN_CONN) {
            if (!rpcconn_alive(fd, s)) {
                rpcconn_forget(s);
                continue;
            }
            s->last_ns = now;
            svc_getreq_common(fd);
            if (!rpcconn_alive(fd, s))
                rpcconn_forget(s);
        } else {
            svc_getreq_common(fd);
            if (s->kind == RPCCONN_LISTENER)
                rpcconn_find_new();
        }
    }
    return 0;
}

void rpcconn_sweep(void)
{
    int64_t now = clock_mono_ns();
    if (now - rpcconn_swept_ns < 1000000000LL)
        return;
    rpcconn_swept_ns = now;
    int64_t idle_ns = (int64_t)rpcconn_lim.idle_s * 1000000000LL;
    int closed = 0;
    for (int fd = 0; fd < rpcconn_nslots; fd++) {
        struct rpcconn_slot *s = &rpcconn_slots[fd];
        if (s->kind != RPCCONN_CONN)
            continue;
        if (!rpcconn_alive(fd, s)) {
            rpcconn_forget(s);
            continue;
        }
        if (!s->doomed && now - s->last_ns > idle_ns && !rpcdefer_holds_fd(fd)) {
            rpcconn_doom(fd, s);
            closed++;
        }
    }
    if (closed)
        log_debug("rpc", "closed %d connections idle for %d s", closed, rpcconn_lim.idle_s);
}

void rpcconn_shutdown(void)
{
    if (rpcconn_epoll >= 0)
        close(rpcconn_epoll);
    rpcconn_epoll = -1;
    free(rpcconn_slots);
    rpcconn_slots = NULL;
    rpcconn_nslots = 0;
    free(rpcconn_peers);
    rpcconn_peers = NULL;
}
