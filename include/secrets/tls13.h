/*
 * tls13.h - reading the server's encrypted TLS 1.3 handshake with a
 * secret from a key log: key schedule (RFC 8446 §7.1, §7.3) and record
 * protection (§5.2, §5.3).  The only module besides x509.c that includes
 * OpenSSL; nothing here parses handshake messages (tls.c does, on the
 * plaintext this returns).
 *
 * Suites: TLS_AES_128_GCM_SHA256 (0x1301), TLS_AES_256_GCM_SHA384
 * (0x1302), TLS_CHACHA20_POLY1305_SHA256 (0x1303).  The CCM suites
 * (0x1304, 0x1305), which no mainstream client offers by default, are
 * reported as unsupported.
 */
#ifndef CS_TLS13_H
#define CS_TLS13_H

#include <stddef.h>
#include <stdint.h>

#define TLS13_MAX_SECRET   48u   /* SHA-384's output: the largest traffic secret */
#define TLS13_MAX_KEY      32u
#define TLS13_IV_LEN       12u   /* RFC 8446 §5.3: iv_length is 12 for every suite */
#define TLS13_TAG_LEN      16u   /* every supported AEAD's tag */
#define TLS13_RANDOM_LEN   32u
/* RFC 8446 §5.2: TLSCiphertext.length is at most 2^14 + 256. */
#define TLS13_MAX_CIPHERTEXT (16384u + 256u)

/* tls13_open() results other than a plaintext length. */
#define TLS13_ERR_AUTH     (-1)  /* the tag did not verify: wrong key or altered record */
#define TLS13_ERR_FORMAT   (-2)  /* shorter than a tag, longer than 2^14+256, or no
                                    content type (all-zero plaintext, §5.4) */
#define TLS13_ERR_INTERNAL (-3)  /* OpenSSL failed (out of memory) */

/* The keys for one direction's records.  Owned by whoever holds the
 * struct; tls13_keys_free releases the cipher context. */
struct tls13_keys {
	uint16_t suite;
	const void *cipher;           /* EVP_CIPHER, fetched once per process */
	void *ctx;                    /* EVP_CIPHER_CTX, owned */
	uint8_t key[TLS13_MAX_KEY];
	size_t key_len;
	uint8_t iv[TLS13_IV_LEN];
	uint64_t seq;                 /* next record's sequence number (§5.3) */
};

/* 1 when certsentry decrypts this suite, with the length of its hash (the
 * length of its traffic secrets) in *secret_len; 0 otherwise. */
int tls13_suite_supported(uint16_t suite, size_t *secret_len);
/* "TLS_AES_128_GCM_SHA256", ... or NULL for a suite not in RFC 8446 §B.4. */
const char *tls13_suite_name(uint16_t suite);

/* Keys from a traffic secret (RFC 8446 §7.3): key = HKDF-Expand-Label(
 * secret, "key", "", key_length), iv = HKDF-Expand-Label(secret, "iv", "",
 * 12), with the suite's hash.  The secret's length must be the hash's.
 * 0, or -1 (unsupported suite, wrong secret length, out of memory). */
int tls13_keys_init(struct tls13_keys *k, uint16_t suite, const uint8_t *secret,
                    size_t secret_len);
void tls13_keys_free(struct tls13_keys *k);

/* HKDF-Expand-Label (RFC 8446 §7.1) with SHA-256 (hash_len 32) or SHA-384
 * (48): out_len <= hash_len bytes.  0 or -1.  For tests. */
int tls13_expand_label(size_t hash_len, const uint8_t *secret, const char *label,
                       const uint8_t *context, size_t context_len, uint8_t *out,
                       size_t out_len);

/* HKDF-Extract (RFC 5869 §2.2) with SHA-256 (hash_len 32) or SHA-384
 * (48): out = HMAC-Hash(salt, ikm), hash_len bytes.  0 or -1.  QUIC's
 * Initial secret is HKDF-Extract(version salt, client's first DCID) (RFC
 * 9001 §5.2); TLS 1.3's own schedule is not redone here (the key log
 * gives its secrets). */
int tls13_hkdf_extract(size_t hash_len, const uint8_t *salt, size_t salt_len,
                       const uint8_t *ikm, size_t ikm_len, uint8_t *out);

/* Decrypt one record (RFC 8446 §5.2): hdr is its 5-byte header (the
 * additional data), ct its payload (ciphertext and tag).  On success the
 * inner plaintext, without its content type and zero padding, is in
 * out[0..return), its type in *type, and the sequence number advances.
 * out needs len - TLS13_TAG_LEN bytes.  On failure a TLS13_ERR_* value;
 * the sequence number stays (the record is not counted as read). */
int tls13_open(struct tls13_keys *k, const uint8_t hdr[5], const uint8_t *ct, size_t len,
               uint8_t *out, size_t cap, uint8_t *type);

/* The other direction, for the tests and the fuzz harness that make
 * encrypted records: plaintext + type byte + pad zero bytes, sealed into
 * out (a 5-byte header, then ciphertext and tag).  Returns the record's
 * length, or -1. */
int tls13_seal(struct tls13_keys *k, uint8_t type, const uint8_t *plain, size_t len,
               size_t pad, uint8_t *out, size_t cap);

#endif
