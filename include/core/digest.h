/*
 * digest.h - message digests and hex formatting.  Wraps OpenSSL's EVP so
 * that modules without X.509 business (tls for JA3, flow for the chain
 * cache key) need not include OpenSSL themselves.
 */
#ifndef CS_DIGEST_H
#define CS_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#define DIGEST_MD5_LEN    16
#define DIGEST_SHA1_LEN   20
#define DIGEST_SHA256_LEN 32

void digest_md5(const void *data, size_t len, uint8_t out[DIGEST_MD5_LEN]);
void digest_sha1(const void *data, size_t len, uint8_t out[DIGEST_SHA1_LEN]);
void digest_sha256(const void *data, size_t len, uint8_t out[DIGEST_SHA256_LEN]);

/* SipHash-2-4 of data under a 16-byte key: the keyed hash of the flow
 * and fragment tables, so an attacker cannot aim at one bucket. */
uint64_t digest_siphash(const uint8_t key[16], const void *data, size_t len);

/* The value of a base64 character (RFC 4648 section 4's alphabet), or
 * -1: what every base64 reader here (rules' pins, CT logs' answers)
 * decodes with. */
int digest_b64_value(unsigned char c);

/* Hex of n bytes into out (needs 2n+1 bytes, or 3n with a separator).
 * sep 0 for none; upper for upper-case digits. */
void digest_hex(const uint8_t *in, size_t n, char *out, char sep, int upper);

#endif
