#include "keyring.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KEYRING_FILE_MAX 65536

static int keyring_hex(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* One key line split into its three words: 0, or -1 with why. */
static int keyring_line(struct keyring *r, char *words[3], char *why, size_t len)
{
    char *end;
    errno = 0;
    unsigned long id = strtoul(words[0], &end, 10);
    if (errno || *end || words[0][0] < '1' || words[0][0] > '9' || id > 0xffffffffUL) {
        snprintf(why, len, "'%s' is not a key ID (1 to 4294967295)", words[0]);
        return -1;
    }
    if (strcmp(words[1], "SHA256") != 0) {
        snprintf(why, len, "algorithm '%s': only SHA256 (HMAC-SHA-256) is known", words[1]);
        return -1;
    }
    if (keyring_find(r, (uint32_t)id)) {
        snprintf(why, len, "key ID %lu twice", id);
        return -1;
    }
    if (r->n == KEYRING_MAX) {
        snprintf(why, len, "more than %d keys", KEYRING_MAX);
        return -1;
    }
    struct keyring_key k = {.id = (uint32_t)id};
    const char *v = words[2];
    if (strncmp(v, "HEX:", 4) == 0) {
        v += 4;
        size_t n = strlen(v);
        if (n % 2 || n / 2 > KEYRING_KEY_MAX) {
            snprintf(why, len, "key %lu: an even number of hex digits, at most %d bytes", id,
                     KEYRING_KEY_MAX);
            return -1;
        }
        for (size_t i = 0; i < n / 2; i++) {
            int hi = keyring_hex(v[2 * i]), lo = keyring_hex(v[2 * i + 1]);
            if (hi < 0 || lo < 0) {
                snprintf(why, len, "key %lu: '%c%c' is not hex", id, v[2 * i], v[2 * i + 1]);
                return -1;
            }
            k.key[i] = (unsigned char)(hi << 4 | lo);
        }
        k.len = n / 2;
    } else {
        k.len = strlen(v);
        if (k.len > KEYRING_KEY_MAX) {
            snprintf(why, len, "key %lu: longer than %d bytes", id, KEYRING_KEY_MAX);
            return -1;
        }
        memcpy(k.key, v, k.len);
    }
    if (k.len < KEYRING_KEY_MIN) {
        snprintf(why, len, "key %lu: %zu bytes, at least %d are needed", id, k.len, KEYRING_KEY_MIN);
        return -1;
    }
    r->key[r->n++] = k;
    return 0;
}

int keyring_parse(struct keyring *r, const char *text, size_t n, char *why, size_t len)
{
    memset(r, 0, sizeof *r);
    char *copy = malloc(n + 1);
    if (!copy) {
        snprintf(why, len, "out of memory");
        return -1;
    }
    memcpy(copy, text, n);
    copy[n] = '\0';
    int rc = 0, lineno = 0;
    char *save = NULL;
    for (char *line = copy; line && rc == 0; line = save) {
        save = strchr(line, '\n');
        if (save)
            *save++ = '\0';
        lineno++;
        /* A CR (a file written on another system) is taken as a space. */
        for (char *c = line; *c; c++)
            if (*c == '\r')
                *c = ' ';
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *words[4] = {NULL, NULL, NULL, NULL};
        int nw = 0;
        char *ws = NULL;
        for (char *w = strtok_r(line, " \t", &ws); w; w = strtok_r(NULL, " \t", &ws))
            if (nw < 4)
                words[nw++] = w;
            else
                nw++;
        if (nw == 0)
            continue;
        char one[200];
        if (nw != 3) {
            snprintf(why, len, "line %d: %d words, a key is \"ID SHA256 KEY\"", lineno, nw);
            rc = -1;
        } else if (keyring_line(r, words, one, sizeof one) < 0) {
            snprintf(why, len, "line %d: %s", lineno, one);
            rc = -1;
        }
    }
    memset(copy, 0, n);
    free(copy);
    if (rc == 0 && r->n == 0) {
        snprintf(why, len, "no key in it");
        rc = -1;
    }
    if (rc < 0)
        keyring_clear(r);
    return rc;
}

int keyring_load(struct keyring *r, const char *path, char *why, size_t len)
{
    memset(r, 0, sizeof *r);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(why, len, "%s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        snprintf(why, len, "%s: not a regular file", path);
        close(fd);
        return -1;
    }
    if (st.st_mode & (S_IRWXG | S_IRWXO)) {
        snprintf(why, len, "%s: mode %04o lets others read or change the keys; it must be 0600 "
                 "(chmod 600 %s)", path, (unsigned)(st.st_mode & 07777), path);
        close(fd);
        return -1;
    }
    if (st.st_size > KEYRING_FILE_MAX) {
        snprintf(why, len, "%s: larger than %d bytes", path, KEYRING_FILE_MAX);
        close(fd);
        return -1;
    }
    char buf[KEYRING_FILE_MAX];
    ssize_t n = read(fd, buf, sizeof buf);
    int saved = errno;
    close(fd);
    if (n < 0) {
        snprintf(why, len, "%s: %s", path, strerror(saved));
        return -1;
    }
    char sub[300];
    int rc = keyring_parse(r, buf, (size_t)n, sub, sizeof sub);
    memset(buf, 0, (size_t)n);
    if (rc < 0)
        snprintf(why, len, "%s: %s", path, sub);
    return rc;
}

const struct keyring_key *keyring_find(const struct keyring *r, uint32_t id)
{
    for (int i = 0; i < r->n; i++)
        if (r->key[i].id == id)
            return &r->key[i];
    return NULL;
}

void keyring_clear(struct keyring *r)
{
    volatile unsigned char *p = (volatile unsigned char *)r;
    for (size_t i = 0; i < sizeof *r; i++)
        p[i] = 0;
}
