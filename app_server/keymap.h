/* keymap: the request keys of the current session, as applied from the log. A key holds
 * the book its first winning claim took (later claims with it take none), or it was
 * released (its book, if any, is free again, and no claim with it takes one any more).
 * An open-addressing hash table on the key's first bytes (keys are 128 random bits, so
 * they hash themselves); it grows as the session's requests do and is cleared with the
 * session. Not thread-safe: the replica's lock guards it. */
#ifndef AS_KEYMAP_H
#define AS_KEYMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KEYMAP_KEY_LEN 16

struct keymap_entry {
    unsigned char key[KEYMAP_KEY_LEN];
    int64_t seq;                 /* the claim that took it (0: none) */
    uint64_t user;               /* whose request it is: keymap_user(name) */
    int32_t book_id;             /* the book it holds (0: none) */
    int16_t origin;              /* the app server that handed the book out */
    bool used, released;
};

struct keymap {
    struct keymap_entry *slot;
    size_t cap, count;           /* cap a power of two, or 0 */
};

void keymap_init(struct keymap *m);
void keymap_free(struct keymap *m);
void keymap_clear(struct keymap *m);
/* The key's entry, or NULL. */
struct keymap_entry *keymap_find(const struct keymap *m, const unsigned char *key);
/* The key's entry, added (zeroed but for the key) if new; NULL only without memory. */
struct keymap_entry *keymap_put(struct keymap *m, const unsigned char *key);
/* A user name as a key keeps it (64-bit FNV-1a: only a check that a retry or release is
 * its request's user, against mistakes; the key itself is the secret). */
uint64_t keymap_user(const char *name);

#endif
