/* keyring: the keys that sign the control calls, from a key file in chrony's style:
 *
 *   # comment
 *   ID SHA256 HEX:<hex digits>      (or ID SHA256 <text>)
 *
 * ID from 1 to 4294967295, the key 16 to 64 bytes. A file that its group or others may
 * read or write is refused (as chronyd refuses a world-readable key file), so is a
 * line that is not a key. A process signs with the first key of its file and accepts
 * any key of it (a new key goes first, the old one stays until every host has both). */
#ifndef BT_KEYRING_H
#define BT_KEYRING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KEYRING_MAX 16
#define KEYRING_KEY_MIN 16
#define KEYRING_KEY_MAX 64

struct keyring_key {
    uint32_t id;
    unsigned char key[KEYRING_KEY_MAX];
    size_t len;
};

struct keyring {
    struct keyring_key key[KEYRING_MAX];
    int n;
};

/* Reads path into r. 0, or -1 with "path: line N: why" (or the file's mode) in why. */
int keyring_load(struct keyring *r, const char *path, char *why, size_t len);
/* Parses a key file's text (no mode check; also the fuzz target's entry). */
int keyring_parse(struct keyring *r, const char *text, size_t n, char *why, size_t len);
const struct keyring_key *keyring_find(const struct keyring *r, uint32_t id);
/* Wipes the key bytes. */
void keyring_clear(struct keyring *r);

#endif
