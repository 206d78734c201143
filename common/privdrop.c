#include "privdrop.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

int privdrop_to(const char *user, char *why, size_t len)
{
    struct passwd pw, *found = NULL;
    char buf[4096];
    int rc = getpwnam_r(user, &pw, buf, sizeof buf, &found);
    if (rc != 0 || !found) {
        snprintf(why, len, "user %s: %s", user, rc ? strerror(rc) : "no such user");
        return -1;
    }
    if (geteuid() != 0) {
        if (geteuid() == pw.pw_uid)
            return 0;
        snprintf(why, len, "becoming user %s needs root (this process runs as uid %u)", user,
                 (unsigned)geteuid());
        return -1;
    }
    if (pw.pw_uid == 0) {
        snprintf(why, len, "user %s is root: give an unprivileged user", user);
        return -1;
    }
    if (initgroups(pw.pw_name, pw.pw_gid) < 0 || setgid(pw.pw_gid) < 0 || setuid(pw.pw_uid) < 0) {
        snprintf(why, len, "becoming user %s: %s", user, strerror(errno));
        return -1;
    }
    /* For good: no way back to root, and nothing executed may gain privileges. */
    if (setuid(0) == 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
        snprintf(why, len, "user %s: root could be regained", user);
        return -1;
    }
    return 0;
}
