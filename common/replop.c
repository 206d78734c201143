#include "replop.h"

#include "clock.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

const char *replop_kind_name(repl_kind kind)
{
    switch (kind) {
    case OP_USER_SEEN:
        return "USER_SEEN";
    case OP_SESSION_OPEN:
        return "SESSION_OPEN";
    case OP_BOOK_CLAIM:
        return "BOOK_CLAIM";
    case OP_SESSION_CLOSE:
        return "SESSION_CLOSE";
    case OP_BOOK_RELEASE:
        return "BOOK_RELEASE";
    }
    return "UNKNOWN";
}

bool replop_isbn_valid(const char *isbn)
{
    if (!isbn || strlen(isbn) != 13)
        return false;
    int sum = 0;
    for (int i = 0; i < 13; i++) {
        if (isbn[i] < '0' || isbn[i] > '9')
            return false;
        sum += (isbn[i] - '0') * (i % 2 ? 3 : 1);
    }
    return sum % 10 == 0;
}

/* Length of the UTF-8 sequence at p (1..4), or 0 if it is not valid UTF-8: the
 * databases are UTF-8 and would refuse the name, failing a whole group commit. */
static size_t replop_utf8_len(const unsigned char *p)
{
    if (p[0] < 0x80)
        return 1;
    size_t n = (p[0] & 0xe0) == 0xc0 ? 2 : (p[0] & 0xf0) == 0xe0 ? 3 : (p[0] & 0xf8) == 0xf0 ? 4 : 0;
    if (n == 0 || (n == 2 && p[0] < 0xc2) || (n == 4 && p[0] > 0xf4))
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    if ((n == 3 && p[0] == 0xe0 && p[1] < 0xa0) || (n == 3 && p[0] == 0xed && p[1] > 0x9f) ||
        (n == 4 && p[0] == 0xf0 && p[1] < 0x90) || (n == 4 && p[0] == 0xf4 && p[1] > 0x8f))
        return 0; /* overlong forms and surrogates */
    return n;
}

bool replop_name_valid(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n >= REPL_NAME_MAX)
        return false;
    for (const unsigned char *p = (const unsigned char *)name; *p;) {
        size_t k = replop_utf8_len(p);
        if (k == 0 || *p < 0x20 || *p == 0x7f)
            return false;
        p += k;
    }
    return true;
}

static bool replop_address_valid(const char *a)
{
    unsigned char buf[16];
    return a && (inet_pton(AF_INET, a, buf) == 1 || inet_pton(AF_INET6, a, buf) == 1);
}

static bool replop_time_valid(int64_t t)
{
    return t >= 0 && t < CLOCK_DAY_US;
}

const char *replop_check(const repl_op *op, char *why, size_t len)
{
    switch (op->kind) {
    case OP_USER_SEEN: {
        const op_user_seen *u = &op->repl_op_u.user_seen;
        if (!replop_name_valid(u->name))
            snprintf(why, len, "USER_SEEN: user name must be 1 to %d bytes of UTF-8 text", REPL_NAME_MAX - 1);
        else if (!replop_address_valid(u->address))
            snprintf(why, len, "USER_SEEN: '%s' is not a numeric address", u->address);
        else
            return NULL;
        return why;
    }
    case OP_SESSION_OPEN:
        if (op->repl_op_u.session_open.prev_session < 0) {
            snprintf(why, len, "SESSION_OPEN: negative previous session");
            return why;
        }
        return NULL;
    case OP_BOOK_CLAIM: {
        const op_book_claim *c = &op->repl_op_u.book_claim;
        if (c->session <= 0)
            snprintf(why, len, "BOOK_CLAIM: session must be positive");
        else if (!replop_isbn_valid(c->isbn))
            snprintf(why, len, "BOOK_CLAIM: '%s' is not a valid ISBN-13", c->isbn);
        else if (!replop_name_valid(c->user))
            snprintf(why, len, "BOOK_CLAIM: user name must be 1 to %d bytes of UTF-8 text", REPL_NAME_MAX - 1);
        else if (!replop_address_valid(c->address))
            snprintf(why, len, "BOOK_CLAIM: '%s' is not a numeric address", c->address);
        else if (c->client_time_us != -1 && !replop_time_valid(c->client_time_us))
            snprintf(why, len, "BOOK_CLAIM: client time outside a day");
        else if (!replop_time_valid(c->server_time_us))
            snprintf(why, len, "BOOK_CLAIM: server time outside a day");
        else
            return NULL;
        return why;
    }
    case OP_SESSION_CLOSE:
        if (op->repl_op_u.session_close.session <= 0) {
            snprintf(why, len, "SESSION_CLOSE: session must be positive");
            return why;
        }
        return NULL;
    case OP_BOOK_RELEASE: {
        const op_book_release *r = &op->repl_op_u.book_release;
        if (r->session < 0)
            snprintf(why, len, "BOOK_RELEASE: negative session");
        else if (!replop_name_valid(r->user))
            snprintf(why, len, "BOOK_RELEASE: user name must be 1 to %d bytes of UTF-8 text", REPL_NAME_MAX - 1);
        else
            return NULL;
        return why;
    }
    }
    snprintf(why, len, "unknown operation kind %d", (int)op->kind);
    return why;
}

int replop_encode(const repl_op *op, char *buf, size_t len)
{
    XDR x;
    xdrmem_create(&x, buf, (u_int)len, XDR_ENCODE);
    int n = xdr_repl_op(&x, (repl_op *)op) ? (int)xdr_getpos(&x) : -1;
    xdr_destroy(&x);
    return n;
}

int replop_decode(const char *buf, size_t len, repl_op *op)
{
    memset(op, 0, sizeof *op);
    XDR x;
    xdrmem_create(&x, (char *)buf, (u_int)len, XDR_DECODE);
    bool ok = xdr_repl_op(&x, op);
    xdr_destroy(&x);
    if (!ok) {
        replop_free(op);
        return -1;
    }
    return 0;
}

void replop_free(repl_op *op)
{
    xdr_free((xdrproc_t)xdr_repl_op, (char *)op);
    memset(op, 0, sizeof *op);
}

int replop_copy(const repl_op *src, repl_op *dst)
{
    char buf[1024];
    int n = replop_encode(src, buf, sizeof buf);
    return n < 0 ? -1 : replop_decode(buf, (size_t)n, dst);
}
