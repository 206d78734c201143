/* callauth: signing and checking the control calls (JOIN, ADJUST, SETQUERY, GETQUERY),
 * rpc/auth.x. The MAC is HMAC-SHA-256 (OpenSSL's libcrypto) over the program, version
 * and procedure numbers and the XDR of the arguments with mac all zero. A call is
 * refused if it is not signed while this process has keys, if its key is not in the key
 * file, if its MAC is wrong, or if it is a replay: its counter is not above the last one
 * seen from its sender, or, for a sender not seen yet (or forgotten: the most recent
 * CALLAUTH_SENDERS are kept), it is more than CALLAUTH_WINDOW_US from this machine's time.
 *
 * Without a key file nothing is signed, and a receiver takes control calls from
 * loopback only (callauth_check says so for others). Thread-safe. */
#ifndef BT_CALLAUTH_H
#define BT_CALLAUTH_H

#include "auth_rpc.h"
#include "keyring.h"

#include <rpc/rpc.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#define CALLAUTH_WINDOW_US (60LL * 1000000)
#define CALLAUTH_SENDERS 4096

/* The process's keys (copied); NULL: none (sign nothing, accept loopback only). */
void callauth_use(const struct keyring *keys);
/* Loads a key file (keyring_load) and uses its keys; -1 with why filled if it cannot. */
int callauth_use_file(const char *path, char *why, size_t len);
bool callauth_enabled(void);

/* One sender: a connection or UDP handle, used by one thread at a time. */
struct callauth_sender {
    uint64_t id;
    uint64_t counter;
};
void callauth_sender_init(struct callauth_sender *s);

/* Fills auth (the first member of args) for a call of prog/vers/proc with these
 * arguments: the key ID, the sender, the next counter, the MAC. Without keys, key ID 0.
 * 0, or -1 if the arguments cannot be encoded. */
int callauth_sign(struct callauth_sender *s, rpcprog_t prog, rpcvers_t vers, rpcproc_t proc,
                  xdrproc_t xargs, void *args, call_auth *auth);

enum callauth_verdict {
    CALLAUTH_OK,
    CALLAUTH_UNSIGNED,      /* this process has keys; the call is not signed */
    CALLAUTH_UNKNOWN_KEY,
    CALLAUTH_BAD_MAC,
    CALLAUTH_REPLAY,        /* counter not above the last, or too far from now */
    CALLAUTH_NOT_LOCAL,     /* no keys here, and the caller is not on loopback */
};

/* Checks a decoded call. why: "what failed: why" with a count of such refusals. */
enum callauth_verdict callauth_check(rpcprog_t prog, rpcvers_t vers, rpcproc_t proc,
                                     xdrproc_t xargs, void *args, call_auth *auth,
                                     const struct sockaddr *caller, char *why, size_t len);

/* A random 64-bit number from getrandom(2) (a sender's ID, a nonce). */
uint64_t callauth_random64(void);

#endif
