#include "allow.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void allow_init(struct allow_list *l)
{
    memset(l, 0, sizeof *l);
}

int allow_add(struct allow_list *l, const char *spec, char *err, size_t errlen)
{
    if (l->n == ALLOW_MAX) {
        snprintf(err, errlen, "too many --allow entries (at most %d)", ALLOW_MAX);
        return -1;
    }
    char addr[64];
    const char *slash = strchr(spec, '/');
    size_t alen = slash ? (size_t)(slash - spec) : strlen(spec);
    if (alen == 0 || alen >= sizeof addr) {
        snprintf(err, errlen, "'%s' is not an address", spec);
        return -1;
    }
    memcpy(addr, spec, alen);
    addr[alen] = '\0';
    struct allow_entry *e = &l->entry[l->n];
    memset(e, 0, sizeof *e);
    int maxbits;
    if (inet_pton(AF_INET, addr, e->addr) == 1) {
        e->family = AF_INET;
        maxbits = 32;
    } else if (inet_pton(AF_INET6, addr, e->addr) == 1) {
        e->family = AF_INET6;
        maxbits = 128;
    } else {
        snprintf(err, errlen, "'%s' is not a numeric IPv4 or IPv6 address", addr);
        return -1;
    }
    e->bits = maxbits;
    if (slash) {
        char *end;
        long bits = strtol(slash + 1, &end, 10);
        if (slash[1] == '\0' || *end != '\0' || bits < 0 || bits > maxbits) {
            snprintf(err, errlen, "'%s': prefix length must be 0..%d", spec, maxbits);
            return -1;
        }
        e->bits = (int)bits;
    }
    l->n++;
    return 0;
}

void allow_add_loopback(struct allow_list *l)
{
    char err[128];
    allow_add(l, "127.0.0.0/8", err, sizeof err);
    allow_add(l, "::1", err, sizeof err);
}

static bool allow_prefix_equal(const unsigned char *a, const unsigned char *b, int bits)
{
    int whole = bits / 8, rest = bits % 8;
    if (memcmp(a, b, (size_t)whole) != 0)
        return false;
    if (rest == 0)
        return true;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (a[whole] & mask) == (b[whole] & mask);
}

bool allow_match(const struct allow_list *l, const struct sockaddr *sa)
{
    unsigned char v4[4], v6[16];
    bool has4 = false, has6 = false;
    if (sa->sa_family == AF_INET) {
        memcpy(v4, &((const struct sockaddr_in *)sa)->sin_addr, 4);
        has4 = true;
    } else if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        memcpy(v6, a6, 16);
        has6 = true;
        if (IN6_IS_ADDR_V4MAPPED(a6)) {
            memcpy(v4, v6 + 12, 4);
            has4 = true;
        }
    }
    for (size_t i = 0; i < l->n; i++) {
        const struct allow_entry *e = &l->entry[i];
        if (e->family == AF_INET && has4 && allow_prefix_equal(e->addr, v4, e->bits))
            return true;
        if (e->family == AF_INET6 && has6 && allow_prefix_equal(e->addr, v6, e->bits))
            return true;
    }
    return false;
}

void allow_format(const struct sockaddr *sa, char *buf, size_t len)
{
    const void *src = NULL;
    if (sa->sa_family == AF_INET)
        src = &((const struct sockaddr_in *)sa)->sin_addr;
    else if (sa->sa_family == AF_INET6)
        src = &((const struct sockaddr_in6 *)sa)->sin6_addr;
    if (!src || !inet_ntop(sa->sa_family, src, buf, (socklen_t)len))
        snprintf(buf, len, "(unknown address family %d)", sa->sa_family);
}
