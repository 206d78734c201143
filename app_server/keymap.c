#include "keymap.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

void keymap_free(struct keymap *m)
{
    free(m->slot);
    keymap_init(m);
}

void keymap_clear(struct keymap *m)
{
    if (m->slot)
        memset(m->slot, 0, m->cap * sizeof *m->slot);
    m->count = 0;
}

/* The slot of a key: all 16 bytes mixed with a secret drawn at start-up, so keys a
 * client chose to share their first bytes do not pile up in one run of slots. (Only the
 * table's layout depends on it, never what applying the log decides.) */
static uint64_t keymap_seed[2];
static pthread_once_t keymap_seeded = PTHREAD_ONCE_INIT;

static void keymap_seed_init(void)
{
    if (getrandom(keymap_seed, sizeof keymap_seed, 0) != (ssize_t)sizeof keymap_seed) {
        keymap_seed[0] = 0x9e3779b97f4a7c15ULL ^ (uint64_t)time(NULL);
        keymap_seed[1] = 0xc2b2ae3d27d4eb4fULL ^ (uint64_t)getpid();
    }
}

static uint64_t keymap_mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    return x ^ (x >> 33);
}

void keymap_init(struct keymap *m)
{
    pthread_once(&keymap_seeded, keymap_seed_init);
    memset(m, 0, sizeof *m);
}

static size_t keymap_hash(const unsigned char *key)
{
    uint64_t a, b;
    memcpy(&a, key, sizeof a);
    memcpy(&b, key + 8, sizeof b);
    return (size_t)(keymap_mix(a ^ keymap_seed[0]) ^ keymap_mix(b ^ keymap_seed[1] ^ a));
}

static struct keymap_entry *keymap_probe(struct keymap_entry *slot, size_t cap,
                                         const unsigned char *key)
{
    for (size_t i = keymap_hash(key) & (cap - 1);; i = (i + 1) & (cap - 1))
        if (!slot[i].used || memcmp(slot[i].key, key, KEYMAP_KEY_LEN) == 0)
            return &slot[i];
}

struct keymap_entry *keymap_find(const struct keymap *m, const unsigned char *key)
{
    if (m->cap == 0)
        return NULL;
    struct keymap_entry *e = keymap_probe(m->slot, m->cap, key);
    return e->used ? e : NULL;
}

/* Keeps the table at most three quarters full: a probe stays short (a few slots), and
 * the keys of the ended sessions the server remembers stay small. */
static int keymap_grow(struct keymap *m)
{
    size_t cap = m->cap ? m->cap * 2 : 256;
    struct keymap_entry *slot = calloc(cap, sizeof *slot);
    if (!slot)
        return -1;
    for (size_t i = 0; i < m->cap; i++)
        if (m->slot[i].used)
            *keymap_probe(slot, cap, m->slot[i].key) = m->slot[i];
    free(m->slot);
    m->slot = slot;
    m->cap = cap;
    return 0;
}

struct keymap_entry *keymap_put(struct keymap *m, const unsigned char *key)
{
    struct keymap_entry *e = keymap_find(m, key);
    if (e)
        return e;
    if ((m->count + 1) * 4 > m->cap * 3 && keymap_grow(m) < 0)
        return NULL;
    e = keymap_probe(m->slot, m->cap, key);
    memset(e, 0, sizeof *e);
    e->used = true;
    memcpy(e->key, key, KEYMAP_KEY_LEN);
    m->count++;
    return e;
}

uint64_t keymap_user(const char *name)
{
    uint64_t h = 14695981039346656037ULL;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    return h;
}
