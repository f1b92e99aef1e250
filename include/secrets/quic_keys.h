/*
 * quic_keys.h - QUIC packet protection keys (RFC 9001 §5; RFC 9369 §3.3
 * for version 2): Initial secrets from the client's first Destination
 * Connection ID, keys from a TLS handshake traffic secret (a key log's),
 * header protection (§5.4) and the AEAD that opens a packet (§5.3), and
 * the Retry integrity tag (§5.8).
 *
 * Beside tls13.c (whose HKDF this uses) and, like it, one of the few
 * modules that include OpenSSL.  Nothing here parses a packet: the QUIC
 * transport (transport/quic.h) finds the header, the sample and the
 * ciphertext and hands them over.
 *
 * Ownership: a struct quic_keys owns two OpenSSL cipher contexts (the
 * AEAD's and header protection's), made by the first quic_keys_init and
 * reused by later ones on the same struct (a new DCID after a Retry, a
 * new version after Version Negotiation) and for every packet: nothing
 * here allocates per packet.  quic_keys_free releases them.
 */
#ifndef CS_QUIC_KEYS_H
#define CS_QUIC_KEYS_H

#include <stddef.h>
#include <stdint.h>

#define QUIC_V1            0x00000001u   /* RFC 9000 */
#define QUIC_V2            0x6b3343cfu   /* RFC 9369 §3.1 */

#define QUIC_MAX_CID       20u   /* RFC 9000 §17.2: a v1 connection ID is <= 20 bytes */
#define QUIC_KEY_MAX       32u
#define QUIC_IV_LEN        12u   /* every supported AEAD's nonce */
#define QUIC_TAG_LEN       16u   /* every supported AEAD's tag; the Retry tag too */
#define QUIC_HP_SAMPLE_LEN 16u   /* RFC 9001 §5.4.2 */
#define QUIC_HP_MASK_LEN   5u    /* one byte for the first byte, four for the packet number */
#define QUIC_SECRET_MAX    48u   /* SHA-384's output */
/* RFC 9000 §16: packet numbers are below 2^62. */
#define QUIC_PN_MAX        ((UINT64_C(1) << 62) - 1)

/* quic_open() results other than a plaintext length. */
#define QUIC_KEYS_ERR_AUTH     (-1)  /* the tag did not verify */
#define QUIC_KEYS_ERR_FORMAT   (-2)  /* no room for a tag, or an empty payload */
#define QUIC_KEYS_ERR_INTERNAL (-3)  /* no keys, buffer too small, OpenSSL failed */

struct quic_keys {
	int ready;                    /* keys derived: the contexts are keyed */
	uint32_t version;             /* whose labels derived them */
	uint16_t suite;               /* TLS cipher suite (0x1301..0x1303) */
	const void *aead;             /* EVP_CIPHER, fetched once per process */
	const void *hp;               /* EVP_CIPHER for header protection */
	void *aead_ctx;               /* EVP_CIPHER_CTX, owned; quic_keys_free */
	void *hp_ctx;                 /* EVP_CIPHER_CTX, owned; quic_keys_free */
	uint8_t key[QUIC_KEY_MAX];
	size_t key_len;
	uint8_t iv[QUIC_IV_LEN];
	uint8_t hp_key[QUIC_KEY_MAX];
};

/* 1 for QUIC_V1 and QUIC_V2 (the versions whose Initial salt and labels
 * are known), 0 otherwise. */
int quic_version_supported(uint32_t version);

/* RFC 9001 §5.2: initial_secret = HKDF-Extract(salt, dcid); the client's
 * and the server's Initial secrets ("client in", "server in", 32 bytes).
 * 0, or -1 (unsupported version, DCID longer than 20 bytes). */
int quic_initial_secrets(uint32_t version, const uint8_t *dcid, size_t dcid_len,
                         uint8_t client[32], uint8_t server[32]);

/* Keys for one direction and one packet number space from a secret: key,
 * iv and hp with the version's labels ("quic key"/"quic iv"/"quic hp",
 * or "quicv2 ..."; §5.1), zero-length context, with the suite's hash.
 * The secret's length must be the suite's hash length.  The contexts of
 * an earlier call on k are reused.  0, or -1 (k is then not ready). */
int quic_keys_init(struct quic_keys *k, uint32_t version, uint16_t suite,
                   const uint8_t *secret, size_t secret_len);

/* Both directions' Initial keys (AES-128-GCM, §5.2). 0 or -1. */
int quic_keys_initial(struct quic_keys *client, struct quic_keys *server, uint32_t version,
                      const uint8_t *dcid, size_t dcid_len);

/* Release the contexts and wipe the keys; k may be all zeros. */
void quic_keys_free(struct quic_keys *k);

/* §5.4.3 / §5.4.4: the 5-byte mask from a 16-byte sample (AES-ECB, or
 * ChaCha20 with counter = sample[0..3] little-endian and nonce =
 * sample[4..15]).  0 or -1. */
int quic_hp_mask(struct quic_keys *k, const uint8_t sample[QUIC_HP_SAMPLE_LEN],
                 uint8_t mask[QUIC_HP_MASK_LEN]);

/* §5.3: open a payload.  hdr is the unprotected header (the AAD), ct the
 * ciphertext followed by its tag; nonce = iv XOR the full packet number.
 * The plaintext (ct_len - 16 bytes) goes to out.  Returns its length (> 0:
 * a packet carries at least one frame, RFC 9000 §12.4) or QUIC_KEYS_ERR_*. */
int quic_open(struct quic_keys *k, uint64_t pn, const uint8_t *hdr, size_t hdr_len,
              const uint8_t *ct, size_t ct_len, uint8_t *out, size_t cap);

/* The other direction, for the tests and fuzz harnesses that build
 * packets: plain sealed to out (plain_len + 16 bytes).  out may equal
 * plain.  Returns the sealed length or -1. */
int quic_seal(struct quic_keys *k, uint64_t pn, const uint8_t *hdr, size_t hdr_len,
              const uint8_t *plain, size_t plain_len, uint8_t *out, size_t cap);

/* §5.8: the Retry integrity tag over the pseudo-packet (ODCID length,
 * ODCID, then the Retry packet without its tag), with the version's fixed
 * key and nonce (RFC 9369 §3.3.3 for v2).  0 or -1. */
int quic_retry_tag(uint32_t version, const uint8_t *odcid, size_t odcid_len,
                   const uint8_t *retry, size_t retry_len, uint8_t tag[QUIC_TAG_LEN]);

#endif
