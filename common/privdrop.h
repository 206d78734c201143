/* privdrop: a daemon started as root becomes an unprivileged user (--user NAME, as
 * chronyd's -u): its groups, group and user are that user's, for good, before it opens
 * a socket, a database or a window. Nothing in Bibliotime needs root. */
#ifndef BT_PRIVDROP_H
#define BT_PRIVDROP_H

#include <stddef.h>

/* Becomes user (if root), or checks that this is already user. 0, or -1 with why. */
int privdrop_to(const char *user, char *why, size_t len);

#endif
