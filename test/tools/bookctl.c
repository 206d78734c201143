/* bookctl: the test suite's hands on the BOOK and REPL programs.
 *
 *   bookctl status   --instance N [--host H]
 *   bookctl request  --instance N (--name NAME | --name-len L) [--client-time-us T]
 *                    [--key HEX] [--attempt K] [--host H]
 *   bookctl release  --instance N --name NAME --key HEX [--session S] [--host H]
 *   bookctl restart  --instance N --seen S [--name NAME | --name-len L] [--host H]
 *   bookctl race     --seen S [--name NAME] [--host H]
 *   bookctl setquery --op user|open|claim|close|release|kind:K [--origin O] [--session S]
 *                    [--isbn X] [--name U] [--address A] [--client-time-us T]
 *                    [--server-time-us T] [--key HEX] [--repeat N] [--host H]
 *   bookctl getquery [--after N] [--max M] [--wait-ms W] [--host H]
 *   (setquery and getquery: --key-file F signs the call with its first key, --key-id N
 *   claims key N instead, --bad-mac flips a bit of its MAC, --twice sends it twice)
 *   bookctl raw      --port P --mode random|record|partial|huge|badargs [--bytes N]
 *                    [--prog P --proc N] [--hold-ms MS] [--host ADDR]
 *
 * request/restart send names without the .x bound (like clockctl join), so an oversize
 * name reaches the server and must be refused there; request --key sends any number of
 * bytes (default: 16 random ones) and prints key=HEX, so a test can retry with it.
 * race: RESTART_SESSION(seen S) on app servers 1 and 2 at the same moment (two threads,
 * each connected first, released by one barrier); one line per server.
 * setquery: one SETQUERY; kind:K sends an operation whose union arm K does not exist;
 * --repeat N puts the operation N times in the call (up to one more than allowed).
 * raw: a TCP connection to a port with bytes no RPC client would send:
 *   random   N random bytes (the first four read as a record mark),
 *   record   one complete record (last-fragment mark, length N) of random bytes,
 *   partial  a record mark announcing N+1000 bytes, then only N random bytes,
 *   huge     a record mark announcing 2^31-1 bytes, then N random bytes,
 *   badargs  a well-formed CALL of prog/version/proc whose arguments are N random bytes;
 * then prints "sent N bytes" and waits up to --hold-ms for the server: prints what it
 * did (closed the connection, replied, or nothing) and closes.
 * Output: key=value lines. Exit status: 0 done and status OK, 3 the server answered with
 * another status, 1 RPC or connection failure, 2 usage. */
#include "book_rpc.h"
#include "callauth.h"
#include "replication_rpc.h"
#include "rpcclient.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define TIMEOUT_MS 15000

struct args {
    const char *cmd, *host, *name, *op, *isbn, *address, *mode;
    long instance, name_len, origin, max, wait_ms, port, bytes, hold_ms, proc, attempt, repeat;
    unsigned long prog;
    int64_t seen, session, after, client_time_us, server_time_us;
    unsigned char key[64];
    int key_len;            /* -1: none given */
    const char *key_file;   /* setquery, getquery: sign (callauth) */
    long key_id;            /* claim this key ID instead */
    bool bad_mac, twice;    /* spoil the MAC; send the signed call twice */
};

/* Signs a REPL call as the options say (and spoils it as they say); a call that cannot
 * be encoded (over a bound, on purpose) goes unsigned. */
static void sign_call(const struct args *a, rpcproc_t proc, xdrproc_t xargs, void *args,
                      call_auth *auth)
{
    struct callauth_sender sender;
    callauth_sender_init(&sender);
    if (callauth_sign(&sender, REPL_PROG, REPL_V2, proc, xargs, args, auth) < 0)
        memset(auth, 0, sizeof *auth);
    if (a->key_id > 0)
        auth->key_id = (unsigned)a->key_id;
    if (a->bad_mac)
        auth->mac[0] ^= 1;
}

/* --key HEX into a->key; -1 if it is not hex of at most 64 bytes. */
static int parse_key(struct args *a, const char *hex)
{
    size_t n = strlen(hex);
    if (n % 2 || n / 2 > sizeof a->key)
        return -1;
    for (size_t i = 0; i < n / 2; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1)
            return -1;
        a->key[i] = (unsigned char)v;
    }
    a->key_len = (int)(n / 2);
    return 0;
}

static void print_key(const char *what, const unsigned char *k, int n)
{
    printf(" %s=", what);
    for (int i = 0; i < n; i++)
        printf("%02x", k[i]);
}

static int usage(void)
{
    fprintf(stderr, "usage: bookctl status|request|release|restart|race|setquery|getquery|raw [options]"
                    " (see the source)\n");
    return 2;
}

static const char *book_status_name(book_status s)
{
    switch (s) {
    case BOOK_OK: return "OK";
    case BOOK_SESSION_OVER: return "SESSION_OVER";
    case BOOK_ERR_BADARG: return "BADARG";
    case BOOK_ERR_REPLICATION: return "REPLICATION";
    case BOOK_ERR_DATABASE: return "DATABASE";
    case BOOK_ERR_BUSY: return "BUSY";
    case BOOK_ERR_INTERNAL: return "INTERNAL";
    case BOOK_ERR_KEY: return "KEY";
    case BOOK_ERR_RELEASED: return "RELEASED";
    case BOOK_ERR_DENIED: return "DENIED";
    }
    return "UNKNOWN";
}

static const char *repl_status_name(repl_status s)
{
    switch (s) {
    case REPL_OK: return "OK";
    case REPL_ERR_DENIED: return "DENIED";
    case REPL_ERR_BADARG: return "BADARG";
    case REPL_ERR_STORAGE: return "STORAGE";
    case REPL_ERR_AUTH: return "AUTH";
    }
    return "UNKNOWN";
}

static CLIENT *connect_prog(const char *host, unsigned long prog)
{
    char err[300];
    /* BOOK and REPL are both at version 2 (book.x, replication.x). */
    CLIENT *c = rpcclient_create(host, prog, 2, "tcp", TIMEOUT_MS, err, sizeof err);
    if (!c)
        printf("rpc_error=%s\n", err);
    return c;
}

static struct timeval timeout(void)
{
    return (struct timeval){TIMEOUT_MS / 1000, (TIMEOUT_MS % 1000) * 1000};
}

/* The user name: --name, or --name-len bytes of 'x'. */
static char *make_name(const struct args *a)
{
    if (a->name)
        return strdup(a->name);
    char *s = calloc((size_t)(a->name_len > 0 ? a->name_len : 0) + 1, 1);
    if (s && a->name_len > 0)
        memset(s, 'x', (size_t)a->name_len);
    return s;
}

/* ---- BOOK ---- */

static bool_t xdr_book_request_unbounded(XDR *x, book_request *r)
{
    return xdr_string(x, &r->user, ~0u) && xdr_int64_t(x, &r->client_time_us) &&
           xdr_bytes(x, &r->key.book_key_val, &r->key.book_key_len, ~0u) &&
           xdr_int(x, &r->attempt);
}

static bool_t xdr_restart_args_unbounded(XDR *x, restart_args *r)
{
    return xdr_string(x, &r->user, ~0u) && xdr_int64_t(x, &r->seen_session);
}

static int cmd_status(const struct args *a)
{
    CLIENT *c = connect_prog(a->host, BOOK_PROG + (unsigned long)a->instance);
    if (!c)
        return 1;
    status_reply r;
    memset(&r, 0, sizeof r);
    enum clnt_stat st = status_2(NULL, &r, c);
    int rc = 0;
    if (st != RPC_SUCCESS) {
        printf("rpc_error=%s\n", clnt_sperrno(st));
        rc = 1;
    } else {
        printf("session=%" PRId64 " books_total=%d books_left=%d applied_seq=%" PRId64
               " server=%d database_ok=%d replication_ok=%d clock_running=%d"
               " clock_synchronised=%d\n", (int64_t)r.session, r.books_total, r.books_left,
               (int64_t)r.applied_seq, r.server, r.database_ok, r.replication_ok, r.clock_running,
               r.clock_synchronised);
    }
    clnt_destroy(c);
    return rc;
}

static int cmd_request(const struct args *a)
{
    CLIENT *c = connect_prog(a->host, BOOK_PROG + (unsigned long)a->instance);
    if (!c)
        return 1;
    char *name = make_name(a);
    book_request req = {name, a->client_time_us, {(u_int)a->key_len, (char *)a->key}, (int)a->attempt};
    book_reply r;
    memset(&r, 0, sizeof r);
    enum clnt_stat st = clnt_call(c, REQUEST_BOOK, (xdrproc_t)xdr_book_request_unbounded,
                                  (char *)&req, (xdrproc_t)xdr_book_reply, (char *)&r, timeout());
    int rc;
    if (st != RPC_SUCCESS) {
        printf("rpc_error=%s\n", clnt_sperrno(st));
        rc = 1;
    } else {
        printf("status=%s", book_status_name(r.status));
        print_key("key", a->key, a->key_len);
        if (r.status == BOOK_OK) {
            const book_info *b = &r.book_reply_u.book;
            printf(" isbn=%s session=%" PRId64 " request=%" PRId64 " server=%d again=%d\n", b->isbn,
                   (int64_t)b->session, (int64_t)b->request_id, b->server, b->again);
        } else if (r.status == BOOK_SESSION_OVER) {
            const session_summary *s = &r.book_reply_u.summary;
            printf(" session=%" PRId64 " books_total=%d handed_out=%d by_server=", (int64_t)s->session,
                   s->books_total, s->handed_out);
            for (u_int i = 0; i < s->by_server.by_server_len; i++)
                printf("%s%d:%d", i ? "," : "", s->by_server.by_server_val[i].server,
                       s->by_server.by_server_val[i].books);
            printf("\n");
        } else {
            printf(" message=%s\n", r.book_reply_u.message);
        }
        rc = r.status == BOOK_OK ? 0 : 3;
        xdr_free((xdrproc_t)xdr_book_reply, (char *)&r);
    }
    free(name);
    clnt_destroy(c);
    return rc;
}

static const char *release_outcome_name(release_outcome o)
{
    switch (o) {
    case RELEASE_FREED: return "freed";
    case RELEASE_NOTHING: return "nothing";
    case RELEASE_ALREADY: return "already";
    case RELEASE_SESSION_OVER: return "session_over";
    }
    return "unknown";
}

static int cmd_release(const struct args *a)
{
    CLIENT *c = connect_prog(a->host, BOOK_PROG + (unsigned long)a->instance);
    if (!c)
        return 1;
    release_args ra = {(char *)a->name, {(u_int)a->key_len, (char *)a->key}, a->session};
    release_reply r;
    memset(&r, 0, sizeof r);
    enum clnt_stat st = release_book_2(&ra, &r, c);
    int rc;
    if (st != RPC_SUCCESS) {
        printf("rpc_error=%s\n", clnt_sperrno(st));
        rc = 1;
    } else {
        printf("status=%s outcome=%s message=%s\n", book_status_name(r.status),
               r.status == BOOK_OK ? release_outcome_name(r.outcome) : "-", r.message);
        rc = r.status == BOOK_OK ? 0 : 3;
        xdr_free((xdrproc_t)xdr_release_reply, (char *)&r);
    }
    clnt_destroy(c);
    return rc;
}

static int restart_on(CLIENT *c, const char *name, int64_t seen, char *line, size_t len)
{
    restart_args req = {(char *)name, seen};
    session_reply r;
    memset(&r, 0, sizeof r);
    enum clnt_stat st = clnt_call(c, RESTART_SESSION, (xdrproc_t)xdr_restart_args_unbounded,
                                  (char *)&req, (xdrproc_t)xdr_session_reply, (char *)&r, timeout());
    if (st != RPC_SUCCESS) {
        snprintf(line, len, "rpc_error=%s", clnt_sperrno(st));
        return 1;
    }
    snprintf(line, len, "status=%s session=%" PRId64 " books_left=%d message=%s",
             book_status_name(r.status), (int64_t)r.session, r.books_left, r.message);
    int rc = r.status == BOOK_OK ? 0 : 3;
    xdr_free((xdrproc_t)xdr_session_reply, (char *)&r);
    return rc;
}

static int cmd_restart(const struct args *a)
{
    CLIENT *c = connect_prog(a->host, BOOK_PROG + (unsigned long)a->instance);
    if (!c)
        return 1;
    char *name = make_name(a);
    char line[512];
    int rc = restart_on(c, name, a->seen, line, sizeof line);
    printf("%s\n", line);
    free(name);
    clnt_destroy(c);
    return rc;
}

struct racer {
    const struct args *a;
    int instance;
    CLIENT *c;
    pthread_barrier_t *barrier;
    char line[512];
    int rc;
    int64_t sent_ns;
};

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void *racer_main(void *arg)
{
    struct racer *r = arg;
    pthread_barrier_wait(r->barrier);
    r->sent_ns = mono_ns();
    r->rc = restart_on(r->c, r->a->name ? r->a->name : "racer", r->a->seen, r->line,
                       sizeof r->line);
    return NULL;
}

static int cmd_race(const struct args *a)
{
    struct racer r[2];
    pthread_barrier_t barrier;
    pthread_t t[2];
    memset(r, 0, sizeof r);
    for (int i = 0; i < 2; i++) {
        r[i].a = a;
        r[i].instance = i + 1;
        r[i].barrier = &barrier;
        r[i].c = connect_prog(a->host, BOOK_PROG + (unsigned long)(i + 1));
        if (!r[i].c) {
            if (i == 1)
                clnt_destroy(r[0].c);
            return 1;
        }
    }
    pthread_barrier_init(&barrier, NULL, 2);
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, racer_main, &r[i]);
    int rc = 0;
    for (int i = 0; i < 2; i++) {
        pthread_join(t[i], NULL);
        clnt_destroy(r[i].c);
        if (r[i].rc > rc)
            rc = r[i].rc;
    }
    pthread_barrier_destroy(&barrier);
    for (int i = 0; i < 2; i++)
        printf("instance=%d %s\n", i + 1, r[i].line);
    int64_t apart = r[0].sent_ns - r[1].sent_ns;
    printf("apart_us=%" PRId64 "\n", (apart < 0 ? -apart : apart) / 1000);
    return rc;
}

/* ---- REPL ---- */

/* SETQUERY whose operation has a union arm that does not exist: origin, kind, nothing. */
struct raw_kind {
    call_auth auth;
    int origin, count, kind;
};

/* setquery_args with one operation of kind k and no body. */
static bool_t xdr_setquery_raw_kind(XDR *x, struct raw_kind *k)
{
    return xdr_call_auth(x, &k->auth) && xdr_int(x, &k->origin) && xdr_int(x, &k->count) &&
           xdr_int(x, &k->kind);
}

static int cmd_setquery(const struct args *a)
{
    setquery_args sa;
    memset(&sa, 0, sizeof sa);
    sa.origin = (int)a->origin;
    char *name = make_name(a);
    struct raw_kind raw = {.origin = (int)a->origin, .count = 1};
    bool is_raw = false;
    repl_op ops[REPL_APPEND_MAX + 1];
    repl_op *op = &ops[0];
    memset(op, 0, sizeof *op);
    if (strcmp(a->op, "user") == 0) {
        op->kind = OP_USER_SEEN;
        op->repl_op_u.user_seen.name = name;
        op->repl_op_u.user_seen.address = (char *)a->address;
    } else if (strcmp(a->op, "open") == 0) {
        op->kind = OP_SESSION_OPEN;
        op->repl_op_u.session_open.prev_session = a->session;
    } else if (strcmp(a->op, "claim") == 0) {
        op->kind = OP_BOOK_CLAIM;
        op_book_claim *c = &op->repl_op_u.book_claim;
        c->session = a->session;
        c->isbn = (char *)(a->isbn ? a->isbn : "");
        c->user = name;
        c->address = (char *)a->address;
        c->client_time_us = a->client_time_us;
        c->server_time_us = a->server_time_us;
        memcpy(c->key, a->key, sizeof c->key);
    } else if (strcmp(a->op, "release") == 0) {
        op->kind = OP_BOOK_RELEASE;
        op->repl_op_u.book_release.session = a->session;
        op->repl_op_u.book_release.user = name;
        memcpy(op->repl_op_u.book_release.key, a->key, sizeof op->repl_op_u.book_release.key);
    } else if (strcmp(a->op, "close") == 0) {
        op->kind = OP_SESSION_CLOSE;
        op->repl_op_u.session_close.session = a->session;
    } else if (strncmp(a->op, "kind:", 5) == 0) {
        raw.kind = atoi(a->op + 5);
        is_raw = true;
    } else {
        free(name);
        return usage();
    }
    /* --repeat N: the same operation N times in one call (N may exceed the limit). */
    for (long i = 1; i < a->repeat; i++)
        ops[i] = ops[0];
    sa.ops.ops_len = (u_int)a->repeat;
    sa.ops.ops_val = ops;
    if (!is_raw)
        sign_call(a, SETQUERY, (xdrproc_t)xdr_setquery_args, &sa, &sa.auth);
    CLIENT *c = connect_prog(a->host, REPL_PROG);
    if (!c) {
        free(name);
        return 1;
    }
    int rc = 0;
    for (int n = 0; n < (a->twice ? 2 : 1); n++) {
        setquery_reply r;
        memset(&r, 0, sizeof r);
        enum clnt_stat st = is_raw
            ? clnt_call(c, SETQUERY, (xdrproc_t)xdr_setquery_raw_kind, (char *)&raw,
                        (xdrproc_t)xdr_setquery_reply, (char *)&r, timeout())
            : clnt_call(c, SETQUERY, (xdrproc_t)xdr_setquery_args, (char *)&sa,
                        (xdrproc_t)xdr_setquery_reply, (char *)&r, timeout());
        if (st != RPC_SUCCESS) {
            printf("rpc_error=%s\n", clnt_sperrno(st));
            rc = 1;
        } else {
            printf("status=%s seq=%" PRId64 " message=%s\n", repl_status_name(r.status),
                   (int64_t)r.seq, r.message);
            rc = r.status == REPL_OK ? 0 : 3;
            xdr_free((xdrproc_t)xdr_setquery_reply, (char *)&r);
        }
    }
    free(name);
    clnt_destroy(c);
    return rc;
}

static int cmd_getquery(const struct args *a)
{
    CLIENT *c = connect_prog(a->host, REPL_PROG);
    if (!c)
        return 1;
    getquery_args ga = {.after_seq = a->after, .max = (int)a->max, .wait_ms = (int)a->wait_ms};
    sign_call(a, GETQUERY, (xdrproc_t)xdr_getquery_args, &ga, &ga.auth);
    getquery_reply r;
    memset(&r, 0, sizeof r);
    enum clnt_stat st = clnt_call(c, GETQUERY, (xdrproc_t)xdr_getquery_args, (char *)&ga,
                                  (xdrproc_t)xdr_getquery_reply, (char *)&r, timeout());
    int rc;
    if (st != RPC_SUCCESS) {
        printf("rpc_error=%s\n", clnt_sperrno(st));
        rc = 1;
    } else {
        u_int n = r.entries.entries_len;
        printf("status=%s last_seq=%" PRId64 " entries=%u first=%" PRId64 " last=%" PRId64
               " message=%s\n", repl_status_name(r.status), (int64_t)r.last_seq, n,
               n ? (int64_t)r.entries.entries_val[0].seq : 0,
               n ? (int64_t)r.entries.entries_val[n - 1].seq : 0, r.message);
        rc = r.status == REPL_OK ? 0 : 3;
        xdr_free((xdrproc_t)xdr_getquery_reply, (char *)&r);
    }
    clnt_destroy(c);
    return rc;
}

/* ---- raw bytes ---- */

static void put32(unsigned char *p, uint32_t v)
{
    v = htonl(v);
    memcpy(p, &v, 4);
}

static void fill_random(unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(random() & 0xff);
}

static int cmd_raw(const struct args *a)
{
    size_t n = (size_t)a->bytes;
    size_t cap = n + 64;
    unsigned char *buf = calloc(cap, 1);
    if (!buf)
        return 1;
    size_t len = 0;
    if (strcmp(a->mode, "random") == 0) {
        fill_random(buf, n);
        len = n;
    } else if (strcmp(a->mode, "record") == 0) {
        put32(buf, 0x80000000u | (uint32_t)n);
        fill_random(buf + 4, n);
        len = n + 4;
    } else if (strcmp(a->mode, "partial") == 0) {
        put32(buf, 0x80000000u | (uint32_t)(n + 1000));
        fill_random(buf + 4, n);
        len = n + 4;
    } else if (strcmp(a->mode, "huge") == 0) {
        put32(buf, 0xffffffffu);
        fill_random(buf + 4, n);
        len = n + 4;
    } else if (strcmp(a->mode, "badargs") == 0) {
        /* xid, CALL, rpcvers 2, prog, vers, proc, AUTH_NONE cred and verifier. TIME and
         * CLOCK are at version 1, REPL and BOOK at version 2. */
        uint32_t vers = a->prog >= REPL_PROG ? 2 : 1;
        uint32_t hdr[10] = {0x62616421u, 0, 2, (uint32_t)a->prog, vers, (uint32_t)a->proc, 0, 0, 0, 0};
        put32(buf, 0x80000000u | (uint32_t)(sizeof hdr + n));
        for (int i = 0; i < 10; i++)
            put32(buf + 4 + 4 * i, hdr[i]);
        /* Arguments: a string length far beyond any bound, then noise. */
        if (n >= 4) {
            put32(buf + 4 + sizeof hdr, 0xfffffff0u);
            fill_random(buf + 8 + sizeof hdr, n - 4);
        }
        len = 4 + sizeof hdr + n;
    } else {
        free(buf);
        return usage();
    }
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)a->port)};
    if (inet_pton(AF_INET, a->host, &sin.sin_addr) != 1) {
        fprintf(stderr, "bookctl: raw needs a numeric IPv4 --host\n");
        free(buf);
        return 2;
    }
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof sin) < 0) {
        printf("connect_error=%s\n", strerror(errno));
        if (fd >= 0)
            close(fd);
        free(buf);
        return 1;
    }
    size_t sent = 0;
    while (sent < len) {
        ssize_t w = send(fd, buf + sent, len - sent, MSG_NOSIGNAL);
        if (w <= 0)
            break;
        sent += (size_t)w;
    }
    free(buf);
    printf("sent %zu bytes\n", sent);
    fflush(stdout);
    /* What does the server do: close, reply, or wait? */
    int64_t start = mono_ns(), deadline = start + (int64_t)a->hold_ms * 1000000;
    unsigned char rep[512];
    size_t got = 0;
    const char *outcome = "no reply, connection still open";
    for (;;) {
        int64_t left_ms = (deadline - mono_ns()) / 1000000;
        if (left_ms <= 0)
            break;
        struct pollfd p = {fd, POLLIN, 0};
        int pr = poll(&p, 1, (int)left_ms);
        if (pr <= 0)
            continue;
        ssize_t r = recv(fd, rep + got, sizeof rep - got, 0);
        if (r < 0) {
            outcome = "connection reset by the server";
            break;
        }
        if (r == 0) {
            outcome = got ? "replied, then closed the connection" : "closed the connection";
            break;
        }
        got += (size_t)r;
        outcome = "replied";
        if (got >= 28 || got == sizeof rep)
            break;
    }
    int64_t after_ms = (mono_ns() - start) / 1000000;
    printf("outcome=%s after_ms=%" PRId64 " reply_bytes=%zu", outcome, after_ms, got);
    /* A reply: mark, xid, REPLY(1), MSG_ACCEPTED(0), verifier (flavor, length 0), accept_stat. */
    if (got >= 28) {
        uint32_t v[7];
        memcpy(v, rep, sizeof v);
        printf(" msg_type=%u reply_stat=%u accept_stat=%u", ntohl(v[2]), ntohl(v[3]), ntohl(v[6]));
    }
    printf("\n");
    close(fd);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage();
    struct args a = {.cmd = argv[1], .host = "localhost", .instance = 0, .name_len = -1,
                     .origin = 1, .max = REPL_BATCH_MAX, .address = "127.0.0.1", .op = "",
                     .mode = "random", .bytes = 64, .hold_ms = 1000, .client_time_us = -1,
                     .server_time_us = 43200000000LL, .session = 1, .attempt = 1, .repeat = 1,
                     .key_len = -1};
    static const struct option opts[] = {
        {"host", 1, NULL, 'H'}, {"instance", 1, NULL, 'i'}, {"name", 1, NULL, 'N'},
        {"name-len", 1, NULL, 'L'}, {"seen", 1, NULL, 's'}, {"client-time-us", 1, NULL, 'c'},
        {"server-time-us", 1, NULL, 'T'}, {"op", 1, NULL, 'o'}, {"origin", 1, NULL, 'O'},
        {"session", 1, NULL, 'S'}, {"isbn", 1, NULL, 'I'}, {"address", 1, NULL, 'A'},
        {"after", 1, NULL, 'a'}, {"max", 1, NULL, 'm'}, {"wait-ms", 1, NULL, 'w'},
        {"port", 1, NULL, 'P'}, {"mode", 1, NULL, 'M'}, {"bytes", 1, NULL, 'b'},
        {"prog", 1, NULL, 'p'}, {"proc", 1, NULL, 'r'}, {"hold-ms", 1, NULL, 'h'},
        {"key", 1, NULL, 'k'}, {"attempt", 1, NULL, 't'}, {"repeat", 1, NULL, 'R'},
        {"key-file", 1, NULL, 'F'}, {"key-id", 1, NULL, 'D'}, {"bad-mac", 0, NULL, 'B'},
        {"twice", 0, NULL, 'W'},
        {NULL, 0, NULL, 0}};
    int opt;
    optind = 2;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (opt) {
        case 'H': a.host = optarg; break;
        case 'i': a.instance = strtol(optarg, NULL, 10); break;
        case 'N': a.name = optarg; break;
        case 'L': a.name_len = strtol(optarg, NULL, 10); break;
        case 's': a.seen = strtoll(optarg, NULL, 10); break;
        case 'c': a.client_time_us = strtoll(optarg, NULL, 10); break;
        case 'T': a.server_time_us = strtoll(optarg, NULL, 10); break;
        case 'o': a.op = optarg; break;
        case 'O': a.origin = strtol(optarg, NULL, 10); break;
        case 'S': a.session = strtoll(optarg, NULL, 10); break;
        case 'I': a.isbn = optarg; break;
        case 'A': a.address = optarg; break;
        case 'a': a.after = strtoll(optarg, NULL, 10); break;
        case 'm': a.max = strtol(optarg, NULL, 10); break;
        case 'w': a.wait_ms = strtol(optarg, NULL, 10); break;
        case 'P': a.port = strtol(optarg, NULL, 10); break;
        case 'M': a.mode = optarg; break;
        case 'b': a.bytes = strtol(optarg, NULL, 10); break;
        case 'p': a.prog = strtoul(optarg, NULL, 0); break;
        case 'r': a.proc = strtol(optarg, NULL, 10); break;
        case 'h': a.hold_ms = strtol(optarg, NULL, 10); break;
        case 'k':
            if (parse_key(&a, optarg) < 0)
                return usage();
            break;
        case 't': a.attempt = strtol(optarg, NULL, 10); break;
        case 'F': a.key_file = optarg; break;
        case 'D': a.key_id = strtol(optarg, NULL, 10); break;
        case 'B': a.bad_mac = true; break;
        case 'W': a.twice = true; break;
        case 'R':
            a.repeat = strtol(optarg, NULL, 10);
            if (a.repeat < 1 || a.repeat > REPL_APPEND_MAX + 1)
                return usage();
            break;
        default: return usage();
        }
    }
    srandom((unsigned)(mono_ns() ^ getpid()));
    if (a.key_len < 0) {
        /* A fresh request's key, as a client makes one. */
        for (int i = 0; i < 16; i++)
            a.key[i] = (unsigned char)random();
        a.key_len = 16;
    }
    bool named = a.name || a.name_len >= 0;
    if (strcmp(a.cmd, "status") == 0 && a.instance > 0)
        return cmd_status(&a);
    if (strcmp(a.cmd, "request") == 0 && a.instance > 0 && named)
        return cmd_request(&a);
    if (strcmp(a.cmd, "release") == 0 && a.instance > 0 && a.name)
        return cmd_release(&a);
    if (strcmp(a.cmd, "restart") == 0 && a.instance > 0) {
        if (!named)
            a.name = "bookctl";
        return cmd_restart(&a);
    }
    char why[400];
    if (a.key_file && callauth_use_file(a.key_file, why, sizeof why) < 0) {
        fprintf(stderr, "bookctl: --key-file: %s\n", why);
        return 2;
    }
    if (strcmp(a.cmd, "race") == 0)
        return cmd_race(&a);
    if (strcmp(a.cmd, "setquery") == 0 && a.op[0]) {
        if (!named)
            a.name = "bookctl";
        return cmd_setquery(&a);
    }
    if (strcmp(a.cmd, "getquery") == 0)
        return cmd_getquery(&a);
    if (strcmp(a.cmd, "raw") == 0 && a.port > 0 && a.bytes >= 0 && a.bytes <= (1 << 24))
        return cmd_raw(&a);
    return usage();
}
