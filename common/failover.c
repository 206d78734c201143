#include "failover.h"

#include "book_rpc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

_Static_assert(FAILOVER_KEY_LEN == BOOK_KEY_LEN, "a key is rpc/book.x's book_key");

void failover_list_init(struct failover_list *l)
{
    memset(l, 0, sizeof *l);
    atomic_init(&l->in_use, 0);
}

int failover_list_add(struct failover_list *l, const char *arg, char *err, size_t errlen)
{
    if (l->count >= FAILOVER_MAX_SERVERS) {
        snprintf(err, errlen, "--server '%s': at most %d app servers", arg, FAILOVER_MAX_SERVERS);
        return -1;
    }
    const char *colon = strrchr(arg, ':');
    size_t hostlen = colon ? (size_t)(colon - arg) : strlen(arg);
    long instance = 0;
    if (colon) {
        char *end;
        errno = 0;
        instance = strtol(colon + 1, &end, 10);
        /* strtol takes " 2" and "+2": the instance is digits only. */
        if (errno || end == colon + 1 || *end || colon[1] < '0' || colon[1] > '9' ||
            instance < 1 || instance > 255) {
            snprintf(err, errlen, "--server '%s': the instance after ':' must be a whole number "
                     "from 1 to 255", arg);
            return -1;
        }
    }
    if (hostlen == 0) {
        snprintf(err, errlen, "--server '%s': the host is empty", arg);
        return -1;
    }
    if (hostlen >= FAILOVER_HOST_MAX) {
        snprintf(err, errlen, "--server: a host of %zu bytes (at most %d)", hostlen,
                 FAILOVER_HOST_MAX - 1);
        return -1;
    }
    struct failover_server *s = &l->server[l->count++];
    memcpy(s->host, arg, hostlen);
    s->host[hostlen] = '\0';
    s->instance = (int)instance;
    return 0;
}

int failover_list_finish(struct failover_list *l, int default_instance, char *err,
                         size_t errlen)
{
    if (default_instance < 1 || default_instance > 255) {
        snprintf(err, errlen, "--instance: %d is not from 1 to 255", default_instance);
        return -1;
    }
    if (l->count == 0) {
        snprintf(l->server[0].host, sizeof l->server[0].host, "localhost");
        l->count = 1;
    }
    for (int i = 0; i < l->count; i++)
        if (l->server[i].instance == 0)
            l->server[i].instance = default_instance;
    for (int i = 0; i < l->count; i++)
        for (int j = 0; j < i; j++)
            if (l->server[i].instance == l->server[j].instance &&
                strcmp(l->server[i].host, l->server[j].host) == 0) {
                snprintf(err, errlen, "--server: %s:%d is listed twice", l->server[i].host,
                         l->server[i].instance);
                return -1;
            }
    atomic_store(&l->in_use, 0);
    return 0;
}

int failover_list_in_use(struct failover_list *l)
{
    int i = atomic_load(&l->in_use);
    return i >= 0 && i < l->count ? i : 0;
}

bool failover_list_use(struct failover_list *l, int i)
{
    if (i < 0 || i >= l->count)
        return false;
    return atomic_exchange(&l->in_use, i) != i;
}

bool failover_list_move(struct failover_list *l, int from, int to)
{
    if (to < 0 || to >= l->count)
        return false;
    return atomic_compare_exchange_strong(&l->in_use, &from, to);
}

void failover_server_name(const struct failover_list *l, int i, char *buf, size_t len)
{
    const struct failover_server *s = &l->server[i];
    bool shared = false;
    for (int j = 0; j < l->count; j++)
        shared = shared || (j != i && l->server[j].instance == s->instance);
    if (shared)
        snprintf(buf, len, "app server %d at %s", s->instance, s->host);
    else
        snprintf(buf, len, "app server %d", s->instance);
}

int failover_key_new(unsigned char key[FAILOVER_KEY_LEN], char *err, size_t errlen)
{
    size_t got = 0;
    while (got < FAILOVER_KEY_LEN) {
        ssize_t n = getrandom(key + got, FAILOVER_KEY_LEN - got, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snprintf(err, errlen, "a request key from getrandom: %s", strerror(errno));
            return -1;
        }
        got += (size_t)n;
    }
    return 0;
}

void failover_key_hex(const unsigned char key[FAILOVER_KEY_LEN], char out[FAILOVER_KEY_HEX])
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < FAILOVER_KEY_LEN; i++) {
        out[2 * i] = digits[key[i] >> 4];
        out[2 * i + 1] = digits[key[i] & 15];
    }
    out[2 * FAILOVER_KEY_LEN] = '\0';
}

int failover_backoff_ms(int retry, uint32_t r)
{
    int64_t base = FAILOVER_BACKOFF_FIRST_MS;
    for (int i = 1; i < retry && base < FAILOVER_BACKOFF_MAX_MS; i++)
        base *= 2;
    if (base > FAILOVER_BACKOFF_MAX_MS)
        base = FAILOVER_BACKOFF_MAX_MS;
    /* base/2 + base * r/2^32: from half to one and a half times base, never 1.5 x base. */
    return (int)(base / 2 + (base * (int64_t)r >> 32));
}

void failover_classify_status(int status, struct failover_try *t)
{
    t->maybe_held = false;
    switch (status) {
    case BOOK_OK:
    case BOOK_SESSION_OVER:
        t->kind = FAILOVER_ANSWERED;
        t->brief = "answered";
        return;
    /* Another server may serve while this one's replication, database or workers are
     * short; the claim may still be in the log, so the key may hold a book. */
    case BOOK_ERR_BUSY:
        t->brief = "busy";
        break;
    case BOOK_ERR_REPLICATION:
        t->brief = "replication unavailable";
        break;
    case BOOK_ERR_DATABASE:
        t->brief = "books database unavailable";
        break;
    /* Any server would say the same (the name, the key, the address), and nothing was
     * taken for the key. */
    case BOOK_ERR_BADARG:
        t->kind = FAILOVER_REFUSED;
        t->brief = "refused the request";
        return;
    case BOOK_ERR_KEY:
        t->kind = FAILOVER_REFUSED;
        t->brief = "the key is another user's";
        return;
    case BOOK_ERR_RELEASED:
        t->kind = FAILOVER_REFUSED;
        t->brief = "the request was released";
        return;
    case BOOK_ERR_DENIED:
        t->kind = FAILOVER_REFUSED;
        t->brief = "refused this client's address";
        return;
    default:
        /* An internal error may have come after the claim went through. */
        t->kind = FAILOVER_REFUSED;
        t->maybe_held = true;
        t->brief = status == BOOK_ERR_INTERNAL ? "internal error" : "unknown status";
        return;
    }
    t->kind = FAILOVER_AGAIN;
    t->maybe_held = true;
}

void failover_classify_rpc(enum clnt_stat st, struct failover_try *t)
{
    /* The call went out (or may have): the server may be working on it still. */
    t->maybe_held = true;
    switch (st) {
    case RPC_TIMEDOUT:
        t->kind = FAILOVER_TIMEOUT;
        t->brief = "timed out";
        break;
    case RPC_CANTSEND:
    case RPC_CANTRECV:
        t->kind = FAILOVER_LOST;
        t->brief = "connection lost";
        break;
    default:
        t->kind = FAILOVER_LOST;
        t->brief = "failed";
    }
}

static void failover_record(struct failover_outcome *out, int server, const struct failover_try *t)
{
    struct failover_server_log *s = &out->per[server];
    s->tries++;
    out->server = server;
    out->maybe_held = out->maybe_held || t->maybe_held;
    if (t->kind != FAILOVER_UNREACHABLE && t->kind != FAILOVER_TIMEOUT && t->kind != FAILOVER_LOST)
        out->any_answer = true;
    if (t->kind == FAILOVER_ANSWERED || t->kind == FAILOVER_REFUSED)
        return;
    s->failed++;
    s->brief = t->brief ? t->brief : "failed";
    snprintf(s->why, sizeof s->why, "%s", t->why);
}

void failover_run(const struct failover_list *l, int first, const struct failover_policy *p,
                  const struct failover_ops *ops, struct failover_outcome *out)
{
    memset(out, 0, sizeof *out);
    out->server = -1;
    void *ctx = ops->ctx;
    int64_t start = ops->now_ms(ctx), deadline = start + p->deadline_ms;
    int i = first >= 0 && first < l->count ? first : 0;
    for (;;) {
        if (ops->cancelled(ctx)) {
            out->end = FAILOVER_END_CANCELLED;
            break;
        }
        int64_t left = deadline - ops->now_ms(ctx);
        if (left <= 0 || (p->max_tries > 0 && out->tries >= p->max_tries)) {
            out->end = FAILOVER_END_DEADLINE;
            break;
        }
        int timeout = p->try_timeout_ms < left ? p->try_timeout_ms : (int)left;
        struct failover_try t;
        memset(&t, 0, sizeof t);
        out->tries++;
        ops->attempt(ctx, i, out->tries, timeout, &t);
        failover_record(out, i, &t);
        if (t.kind == FAILOVER_ANSWERED || t.kind == FAILOVER_REFUSED) {
            out->end = t.kind == FAILOVER_ANSWERED ? FAILOVER_END_ANSWERED : FAILOVER_END_REFUSED;
            break;
        }
        if (p->max_tries > 0 && out->tries >= p->max_tries) {
            out->end = FAILOVER_END_DEADLINE;
            break;
        }
        /* A wait that reaches the deadline leaves no time for a try: give up now. */
        int wait = failover_backoff_ms(out->tries, ops->random(ctx));
        if (ops->now_ms(ctx) + wait >= deadline) {
            out->end = FAILOVER_END_DEADLINE;
            break;
        }
        if (!ops->wait_ms(ctx, wait)) {
            out->end = FAILOVER_END_CANCELLED;
            break;
        }
        i = (i + 1) % l->count;
    }
    out->elapsed_ms = ops->now_ms(ctx) - start;
}

bool failover_must_release(const struct failover_outcome *o)
{
    return o->end != FAILOVER_END_ANSWERED && o->maybe_held;
}

/* Appends printf text to buf (cut at its end). */
static void failover_append(char *buf, size_t len, size_t *at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void failover_append(char *buf, size_t len, size_t *at, const char *fmt, ...)
{
    if (*at >= len)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *at, len - *at, fmt, ap);
    va_end(ap);
    if (n > 0)
        *at += (size_t)n;
}

/* "app server 1 unreachable, app server 3 busy (2 times)", skipping server `except`. */
static void failover_failed_list(const struct failover_list *l, const struct failover_outcome *o,
                                 int except, char *buf, size_t len, size_t *at)
{
    const char *sep = "";
    for (int i = 0; i < l->count; i++) {
        const struct failover_server_log *s = &o->per[i];
        if (s->failed == 0 || i == except)
            continue;
        char name[FAILOVER_HOST_MAX + 32];
        failover_server_name(l, i, name, sizeof name);
        failover_append(buf, len, at, "%s%s %s", sep, name, s->brief);
        if (s->failed > 1)
            failover_append(buf, len, at, " (%d times)", s->failed);
        sep = ", ";
    }
}

void failover_failed_text(const struct failover_list *l, const struct failover_outcome *o,
                          char *buf, size_t len)
{
    size_t at = 0;
    if (len)
        buf[0] = '\0';
    failover_failed_list(l, o, -1, buf, len, &at);
}

void failover_tries_text(const struct failover_list *l, const struct failover_outcome *o,
                         char *buf, size_t len)
{
    size_t at = 0;
    if (len)
        buf[0] = '\0';
    if (o->tries <= 1)
        return;
    failover_append(buf, len, &at, "%d tries: ", o->tries);
    failover_failed_list(l, o, -1, buf, len, &at);
}

void failover_via_text(const struct failover_list *l, const struct failover_outcome *o,
                       char *buf, size_t len)
{
    size_t at = 0;
    if (len)
        buf[0] = '\0';
    if (o->tries <= 1 || o->server < 0)
        return;
    char name[FAILOVER_HOST_MAX + 32];
    failover_server_name(l, o->server, name, sizeof name);
    failover_failed_list(l, o, o->server, buf, len, &at);
    if (at > 0)
        failover_append(buf, len, &at, ", asked %s", name);
    else
        failover_append(buf, len, &at, "%s answered at try %d", name, o->tries);
}

void failover_reasons_text(const struct failover_list *l, const struct failover_outcome *o,
                           char *buf, size_t len)
{
    size_t at = 0;
    if (len)
        buf[0] = '\0';
    const char *sep = "";
    for (int i = 0; i < l->count; i++) {
        const struct failover_server_log *s = &o->per[i];
        if (s->failed == 0)
            continue;
        failover_append(buf, len, &at, "%sapp server %d at %s: %s", sep, l->server[i].instance,
                        l->server[i].host, s->why[0] ? s->why : s->brief);
        if (s->failed > 1)
            failover_append(buf, len, &at, " (%d tries)", s->failed);
        sep = "; ";
    }
}
