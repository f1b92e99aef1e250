/*
 * ct_int.h - shared by the files of sensor/ct/ only: base64 as CT logs,
 * checkpoints and log lists write it.
 */
#ifndef CS_CT_INT_H
#define CS_CT_INT_H

#include <stddef.h>
#include <stdint.h>

/* Standard base64 (RFC 4648 section 4) of in[0..len) into out[0..cap):
 * padded, no whitespace, the unused bits of the last character zero (one
 * encoding per value, so two spellings cannot name one key or root).
 * The number of bytes written, or -1: not base64, or more than cap. */
long ct_b64_decode(const char *in, size_t len, uint8_t *out, size_t cap);

/* SHA-256(a || b || c) without copying the parts together, with the
 * calling thread's reused context (merkle.c): the hashing of every leaf
 * and node. */
void ct_sha256_3(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
                 const uint8_t *c, size_t clen, uint8_t out[32]);

#endif
