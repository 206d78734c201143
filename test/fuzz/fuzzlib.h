/* fuzzlib: what the libFuzzer targets in test/fuzz share: decoding a call's arguments
 * the way the servers do, checking its call_auth with a fixed test key, and writing
 * the seed corpus.
 *
 * Seeds: every target defines fuzz_seeds(), which builds valid (and a few almost valid)
 * inputs and hands each to fuzzlib_seed. Run with FUZZ_SEED_DIR=DIR, a target writes
 * them into DIR and exits instead of fuzzing (test/fuzz/gen-corpus). */
#ifndef FZ_FUZZLIB_H
#define FZ_FUZZLIB_H

#include "auth_rpc.h"

#include <rpc/rpc.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The target's seeds (defined by each target). */
void fuzz_seeds(void);

/* From LLVMFuzzerInitialize (fuzzlib.c defines it for every target): logging off, the test key in use; writes the seeds and
 * exits if FUZZ_SEED_DIR is set. */
void fuzzlib_init(void);

/* Decodes n bytes with xargs into args (size bytes, zeroed first), as svc_getargs does
 * from a call's record: true, or false with whatever was decoded already freed (as
 * rpcserver_decode does). */
bool fuzzlib_decode(xdrproc_t xargs, const uint8_t *data, size_t n, void *args, size_t size);
void fuzzlib_free(xdrproc_t xargs, void *args);

/* callauth_check as rpcserver_authentic runs it, for a caller on loopback. */
bool fuzzlib_authentic(rpcprog_t prog, rpcvers_t vers, rpcproc_t proc, xdrproc_t xargs,
                       void *args, call_auth *auth);
/* A call_auth claiming the test key, with a fixed sender and counter and a MAC of zeros:
 * seeds stay the same from one generation to the next (a right MAC would need the
 * sender's clock), and the receiver still computes the MAC to compare. */
#define FUZZLIB_KEY_ID 7
void fuzzlib_claim(call_auth *auth);

/* Seeds: writes bytes as DIR/name. */
void fuzzlib_seed(const char *name, const void *data, size_t n);
/* Encodes args with xargs after prefix (plen bytes, may be 0) and writes the result as
 * a seed. */
void fuzzlib_seed_xdr(const char *name, const void *prefix, size_t plen, xdrproc_t xargs,
                      void *args);

#endif
