/* allow: which peers may change this process's state (ADJUST, JOIN): addresses with an
 * optional prefix length, IPv4 and IPv6 (IPv4-mapped IPv6 callers match IPv4 entries). */
#ifndef BT_ALLOW_H
#define BT_ALLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#define ALLOW_MAX 16

struct allow_entry {
    int family;              /* AF_INET or AF_INET6 */
    unsigned char addr[16];
    int bits;
};

struct allow_list {
    size_t n;
    struct allow_entry entry[ALLOW_MAX];
};

void allow_init(struct allow_list *l);
/* "ADDR" or "ADDR/BITS"; returns 0, or -1 with the reason in err. */
int allow_add(struct allow_list *l, const char *spec, char *err, size_t errlen);
/* 127.0.0.0/8 and ::1: the default when no --allow is given. */
void allow_add_loopback(struct allow_list *l);
bool allow_match(const struct allow_list *l, const struct sockaddr *sa);
/* Numeric text of an address, for logs and replies. */
void allow_format(const struct sockaddr *sa, char *buf, size_t len);

#endif
