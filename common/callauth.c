#include "callauth.h"

#include "log.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#define CALLAUTH_PROBES 16

struct callauth_seen {
    uint64_t sender;
    uint64_t counter;
    int64_t used_ns;    /* 0: free slot */
};

static pthread_mutex_t callauth_lock = PTHREAD_MUTEX_INITIALIZER;
static struct keyring callauth_keys;
static bool callauth_on;
static struct callauth_seen callauth_table[CALLAUTH_SENDERS];
static atomic_long callauth_refused[CALLAUTH_NOT_LOCAL + 1];

static int64_t callauth_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t callauth_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

uint64_t callauth_random64(void)
{
    uint64_t v = 0;
    if (getrandom(&v, sizeof v, 0) != (ssize_t)sizeof v)
        v = (uint64_t)callauth_now_us() * 0x9e3779b97f4a7c15ULL ^ (uint64_t)callauth_mono_ns();
    return v;
}

void callauth_use(const struct keyring *keys)
{
    pthread_mutex_lock(&callauth_lock);
    keyring_clear(&callauth_keys);
    callauth_on = keys && keys->n > 0;
    if (callauth_on)
        callauth_keys = *keys;
    memset(callauth_table, 0, sizeof callauth_table);
    pthread_mutex_unlock(&callauth_lock);
}

int callauth_use_file(const char *path, char *why, size_t len)
{
    struct keyring keys;
    if (keyring_load(&keys, path, why, len) < 0)
        return -1;
    callauth_use(&keys);
    keyring_clear(&keys);
    return 0;
}

bool callauth_enabled(void)
{
    pthread_mutex_lock(&callauth_lock);
    bool on = callauth_on;
    pthread_mutex_unlock(&callauth_lock);
    return on;
}

void callauth_sender_init(struct callauth_sender *s)
{
    s->id = callauth_random64();
    s->counter = 0;
}

/* HMAC-SHA-256 of prog, vers, proc and the arguments (auth's MAC zero) into mac. */
static int callauth_mac(const struct keyring_key *k, rpcprog_t prog, rpcvers_t vers,
                        rpcproc_t proc, xdrproc_t xargs, void *args,
                        unsigned char mac[CALL_MAC_LEN])
{
    unsigned long size = xdr_sizeof(xargs, args);
    if (size == 0 || size > 16 * 1024 * 1024)
        return -1;
    size_t total = (size_t)size + 12;
    char *buf = malloc(total);
    if (!buf)
        return -1;
    XDR x;
    xdrmem_create(&x, buf, (u_int)total, XDR_ENCODE);
    u_int p = (u_int)prog, v = (u_int)vers, c = (u_int)proc;
    bool ok = xdr_u_int(&x, &p) && xdr_u_int(&x, &v) && xdr_u_int(&x, &c) && xargs(&x, args);
    size_t used = xdr_getpos(&x);
    xdr_destroy(&x);
    unsigned int mac_len = 0;
    ok = ok && HMAC(EVP_sha256(), k->key, (int)k->len, (const unsigned char *)buf, used, mac,
                    &mac_len) != NULL && mac_len == CALL_MAC_LEN;
    free(buf);
    return ok ? 0 : -1;
}

int callauth_sign(struct callauth_sender *s, rpcprog_t prog, rpcvers_t vers, rpcproc_t proc,
                  xdrproc_t xargs, void *args, call_auth *auth)
{
    uint64_t now = (uint64_t)callauth_now_us();
    s->counter = s->counter + 1 > now ? s->counter + 1 : now;
    memset(auth, 0, sizeof *auth);
    auth->sender = s->id;
    auth->counter = s->counter;
    pthread_mutex_lock(&callauth_lock);
    struct keyring_key k = callauth_on ? callauth_keys.key[0] : (struct keyring_key){0};
    bool on = callauth_on;
    pthread_mutex_unlock(&callauth_lock);
    if (!on)
        return 0;
    auth->key_id = k.id;
    unsigned char mac[CALL_MAC_LEN];
    int rc = callauth_mac(&k, prog, vers, proc, xargs, args, mac);
    memcpy(auth->mac, mac, sizeof mac);
    OPENSSL_cleanse(&k, sizeof k);
    return rc;
}

static bool callauth_loopback(const struct sockaddr *sa)
{
    if (!sa)
        return false;
    if (sa->sa_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        if (IN6_IS_ADDR_LOOPBACK(a))
            return true;
        return IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127;
    }
    return false;
}

/* Under the lock: true if (sender, counter) is new, and remembers it. */
static bool callauth_fresh(uint64_t sender, uint64_t counter)
{
    int64_t now_ns = callauth_mono_ns();
    size_t base = (size_t)(sender % CALLAUTH_SENDERS);
    struct callauth_seen *oldest = NULL;
    for (int i = 0; i < CALLAUTH_PROBES; i++) {
        struct callauth_seen *e = &callauth_table[(base + (size_t)i) % CALLAUTH_SENDERS];
        if (e->used_ns && e->sender == sender) {
            if (counter <= e->counter)
                return false;
            e->counter = counter;
            e->used_ns = now_ns;
            return true;
        }
        if (!oldest || e->used_ns < oldest->used_ns)
            oldest = e;
    }
    /* A sender not (or no longer) known: its counter starts at its time. */
    int64_t now_us = callauth_now_us();
    int64_t off = (int64_t)counter - now_us;
    if (off > CALLAUTH_WINDOW_US || off < -CALLAUTH_WINDOW_US)
        return false;
    *oldest = (struct callauth_seen){sender, counter, now_ns};
    return true;
}

static const char *const callauth_what[] = {
    "ok", "not signed", "signed with a key not in the key file", "wrong MAC",
    "replayed (its counter was seen, or it is over 60 s from this machine's time)",
    "not from loopback, and this process has no key file",
};

enum callauth_verdict callauth_check(rpcprog_t prog, rpcvers_t vers, rpcproc_t proc,
                                     xdrproc_t xargs, void *args, call_auth *auth,
                                     const struct sockaddr *caller, char *why, size_t len)
{
    enum callauth_verdict v = CALLAUTH_OK;
    pthread_mutex_lock(&callauth_lock);
    bool on = callauth_on;
    const struct keyring_key *k = on ? keyring_find(&callauth_keys, auth->key_id) : NULL;
    struct keyring_key key = k ? *k : (struct keyring_key){0};
    pthread_mutex_unlock(&callauth_lock);
    if (!on) {
        v = callauth_loopback(caller) ? CALLAUTH_OK : CALLAUTH_NOT_LOCAL;
    } else if (auth->key_id == 0) {
        v = CALLAUTH_UNSIGNED;
    } else if (!k) {
        v = CALLAUTH_UNKNOWN_KEY;
    } else {
        unsigned char got[CALL_MAC_LEN], want[CALL_MAC_LEN];
        memcpy(got, auth->mac, sizeof got);
        memset(auth->mac, 0, sizeof auth->mac);
        int rc = callauth_mac(&key, prog, vers, proc, xargs, args, want);
        memcpy(auth->mac, got, sizeof got);
        if (rc < 0 || CRYPTO_memcmp(got, want, sizeof got) != 0) {
            v = CALLAUTH_BAD_MAC;
        } else {
            pthread_mutex_lock(&callauth_lock);
            bool fresh = callauth_fresh(auth->sender, auth->counter);
            pthread_mutex_unlock(&callauth_lock);
            v = fresh ? CALLAUTH_OK : CALLAUTH_REPLAY;
        }
    }
    OPENSSL_cleanse(&key, sizeof key);
    if (v != CALLAUTH_OK) {
        long n = atomic_fetch_add(&callauth_refused[v], 1) + 1;
        snprintf(why, len, "%s (key %u; %ld refused so)", callauth_what[v], auth->key_id, n);
    }
    return v;
}
