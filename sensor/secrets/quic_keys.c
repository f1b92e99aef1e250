/*
 * quic_keys.c - QUIC packet protection with OpenSSL (the contract is
 * include/secrets/quic_keys.h).
 *
 * The key schedule is TLS 1.3's HKDF-Expand-Label (tls13.c): QUIC's
 * labels are TLS 1.3 labels ("tls13 " + "quic key"), RFC 9001 §5.1.  The
 * ciphers are fetched once per process (pthread_once: live capture runs
 * several workers); each key set keys its two contexts once and reuses
 * them for every packet.
 *
 * Must not: parse packets (transport/quic/quic.c does) or read key logs.
 */
#include <pthread.h>
#include <string.h>

#include <openssl/evp.h>

#include "secrets/quic_keys.h"
#include "secrets/tls13.h"

#define INITIAL_SUITE  0x1301u   /* RFC 9001 §5.2: Initial packets use AES-128-GCM */
#define INITIAL_SECRET 32u       /* ... and SHA-256 */

struct suite_def {
	uint16_t id;
	const char *aead;        /* OpenSSL's algorithm names */
	const char *hp;
	size_t key_len;
	size_t hash_len;
};

/* RFC 9001 §5.3 and §5.4.3-5.4.4: the AEAD and the header protection of
 * each TLS 1.3 suite QUIC uses (CCM is left out, as in tls13.c). */
static const struct suite_def suites[] = {
	{ 0x1301, "AES-128-GCM", "AES-128-ECB", 16, 32 },
	{ 0x1302, "AES-256-GCM", "AES-256-ECB", 32, 48 },
	{ 0x1303, "ChaCha20-Poly1305", "ChaCha20", 32, 32 },
};
#define N_SUITES (sizeof suites / sizeof suites[0])

static EVP_CIPHER *fetched_aead[N_SUITES];   /* process-wide, never freed */
static EVP_CIPHER *fetched_hp[N_SUITES];
static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;

static void fetch_ciphers(void)
{
	for (size_t i = 0; i < N_SUITES; i++) {
		fetched_aead[i] = EVP_CIPHER_fetch(NULL, suites[i].aead, NULL);
		fetched_hp[i] = EVP_CIPHER_fetch(NULL, suites[i].hp, NULL);
	}
}

struct version_def {
	uint32_t version;
	uint8_t salt[20];
	const char *key, *iv, *hp;
	uint8_t retry_key[16];
	uint8_t retry_nonce[QUIC_IV_LEN];
};

static const struct version_def versions[] = {
	/* RFC 9001 §5.2, §5.1, §5.8 */
	{ QUIC_V1,
	  { 0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
	    0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a },
	  "quic key", "quic iv", "quic hp",
	  { 0xbe, 0x0c, 0x69, 0x0b, 0x9f, 0x66, 0x57, 0x5a,
	    0x1d, 0x76, 0x6b, 0x54, 0xe3, 0x68, 0xc8, 0x4e },
	  { 0x46, 0x15, 0x99, 0xd3, 0x5d, 0x63, 0x2b, 0xf2, 0x23, 0x98, 0x25, 0xbb } },
	/* RFC 9369 §3.3.1-3.3.3 */
	{ QUIC_V2,
	  { 0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93,
	    0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9 },
	  "quicv2 key", "quicv2 iv", "quicv2 hp",
	  { 0x8f, 0xb4, 0xb0, 0x1b, 0x56, 0xac, 0x48, 0xe2,
	    0x60, 0xfb, 0xcb, 0xce, 0xad, 0x7c, 0xcc, 0x92 },
	  { 0xd8, 0x69, 0x69, 0xbc, 0x2d, 0x7c, 0x6d, 0x99, 0x90, 0xef, 0xb0, 0x4a } },
};

static const struct version_def *version_find(uint32_t version)
{
	for (size_t i = 0; i < sizeof versions / sizeof versions[0]; i++)
		if (versions[i].version == version)
			return &versions[i];
	return NULL;
}

int quic_version_supported(uint32_t version)
{
	return version_find(version) != NULL;
}

int quic_initial_secrets(uint32_t version, const uint8_t *dcid, size_t dcid_len,
                         uint8_t client[32], uint8_t server[32])
{
	const struct version_def *v = version_find(version);
	uint8_t initial[INITIAL_SECRET];
	int rc = -1;

	if (!v || dcid_len > QUIC_MAX_CID)
		return -1;
	if (tls13_hkdf_extract(INITIAL_SECRET, v->salt, sizeof v->salt, dcid, dcid_len,
	                       initial) < 0)
		goto out;
	/* RFC 9001 §5.2: the "client in"/"server in" labels are the same in
	 * v2 (RFC 9369 §3.3.2 changes only the quic* labels). */
	if (tls13_expand_label(INITIAL_SECRET, initial, "client in", NULL, 0, client,
	                       INITIAL_SECRET) < 0 ||
	    tls13_expand_label(INITIAL_SECRET, initial, "server in", NULL, 0, server,
	                       INITIAL_SECRET) < 0)
		goto out;
	rc = 0;
out:
	OPENSSL_cleanse(initial, sizeof initial);
	return rc;
}

int quic_keys_init(struct quic_keys *k, uint32_t version, uint16_t suite,
                   const uint8_t *secret, size_t secret_len)
{
	const struct version_def *v = version_find(version);
	const struct suite_def *s = NULL;
	size_t idx = 0;

	k->ready = 0;
	for (size_t i = 0; i < N_SUITES; i++)
		if (suites[i].id == suite) {
			s = &suites[i];
			idx = i;
		}
	if (!v || !s || secret_len != s->hash_len)
		return -1;
	pthread_once(&fetch_once, fetch_ciphers);
	if (!fetched_aead[idx] || !fetched_hp[idx])
		return -1;
	if (tls13_expand_label(s->hash_len, secret, v->key, NULL, 0, k->key, s->key_len) < 0 ||
	    tls13_expand_label(s->hash_len, secret, v->iv, NULL, 0, k->iv, QUIC_IV_LEN) < 0 ||
	    tls13_expand_label(s->hash_len, secret, v->hp, NULL, 0, k->hp_key, s->key_len) < 0)
		return -1;
	/* Owned by k until quic_keys_free; a second init reuses them. */
	if (!k->aead_ctx && !(k->aead_ctx = EVP_CIPHER_CTX_new()))
		return -1;
	if (!k->hp_ctx && !(k->hp_ctx = EVP_CIPHER_CTX_new()))
		return -1;
	/* Header protection is keyed once.  AES-ECB without padding encrypts
	 * each 16-byte sample on its own; ChaCha20 takes its counter and nonce
	 * from each sample (quic_hp_mask). */
	if (!EVP_EncryptInit_ex2(k->hp_ctx, fetched_hp[idx], k->hp_key, NULL, NULL))
		return -1;
	if (suite != 0x1303)
		EVP_CIPHER_CTX_set_padding(k->hp_ctx, 0);
	k->version = version;
	k->suite = suite;
	k->aead = fetched_aead[idx];
	k->hp = fetched_hp[idx];
	k->key_len = s->key_len;
	k->ready = 1;
	return 0;
}

int quic_keys_initial(struct quic_keys *client, struct quic_keys *server, uint32_t version,
                      const uint8_t *dcid, size_t dcid_len)
{
	uint8_t cs[INITIAL_SECRET], ss[INITIAL_SECRET];
	int rc = -1;

	if (quic_initial_secrets(version, dcid, dcid_len, cs, ss) < 0)
		goto out;
	if (quic_keys_init(client, version, INITIAL_SUITE, cs, sizeof cs) < 0 ||
	    quic_keys_init(server, version, INITIAL_SUITE, ss, sizeof ss) < 0)
		goto out;
	rc = 0;
out:
	OPENSSL_cleanse(cs, sizeof cs);
	OPENSSL_cleanse(ss, sizeof ss);
	return rc;
}

void quic_keys_free(struct quic_keys *k)
{
	EVP_CIPHER_CTX_free(k->aead_ctx);
	EVP_CIPHER_CTX_free(k->hp_ctx);
	OPENSSL_cleanse(k, sizeof *k);
}

int quic_hp_mask(struct quic_keys *k, const uint8_t sample[QUIC_HP_SAMPLE_LEN],
                 uint8_t mask[QUIC_HP_MASK_LEN])
{
	static const uint8_t zeros[QUIC_HP_MASK_LEN];
	uint8_t block[QUIC_HP_SAMPLE_LEN];
	int n = 0;

	if (!k->ready)
		return -1;
	if (k->suite == 0x1303) {
		/* §5.4.4: OpenSSL's ChaCha20 iv is the 32-bit little-endian
		 * counter then the 96-bit nonce, exactly the sample's layout. */
		if (!EVP_EncryptInit_ex2(k->hp_ctx, NULL, NULL, sample, NULL) ||
		    !EVP_EncryptUpdate(k->hp_ctx, mask, &n, zeros, (int)QUIC_HP_MASK_LEN) ||
		    n != (int)QUIC_HP_MASK_LEN)
			return -1;
		return 0;
	}
	/* §5.4.3: mask = AES-ECB(hp_key, sample)[0..4]. */
	if (!EVP_EncryptUpdate(k->hp_ctx, block, &n, sample, (int)QUIC_HP_SAMPLE_LEN) ||
	    n != (int)QUIC_HP_SAMPLE_LEN)
		return -1;
	memcpy(mask, block, QUIC_HP_MASK_LEN);
	return 0;
}

/* §5.3: the 62-bit packet number, left-padded to 12 bytes, XOR the iv. */
static void packet_nonce(const struct quic_keys *k, uint64_t pn, uint8_t nonce[QUIC_IV_LEN])
{
	memcpy(nonce, k->iv, QUIC_IV_LEN);
	for (size_t i = 0; i < 8; i++)
		nonce[QUIC_IV_LEN - 1 - i] ^= (uint8_t)(pn >> (8 * i));
}

/* One AEAD operation on k's context: enc 1 seals, 0 opens; tag read
 * (open) or written (seal).  0 or -1. */
static int aead(struct quic_keys *k, int enc, uint64_t pn, const uint8_t *hdr, size_t hdr_len,
                const uint8_t *in, size_t len, uint8_t *out, uint8_t tag[QUIC_TAG_LEN])
{
	EVP_CIPHER_CTX *ctx = k->aead_ctx;
	uint8_t nonce[QUIC_IV_LEN];
	int n = 0, fin = 0;

	/* EVP takes int lengths: a UDP datagram is far below INT_MAX, but
	 * the contract is checked, not assumed. */
	if (hdr_len > INT32_MAX || len > INT32_MAX)
		return -1;
	packet_nonce(k, pn, nonce);
	if (!EVP_CipherInit_ex2(ctx, k->aead, k->key, nonce, enc, NULL) ||
	    !EVP_CipherUpdate(ctx, NULL, &n, hdr, (int)hdr_len))
		return -1;
	if (len > 0 && !EVP_CipherUpdate(ctx, out, &n, in, (int)len))
		return -1;
	if (!enc && !EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, QUIC_TAG_LEN, tag))
		return -1;
	if (EVP_CipherFinal_ex(ctx, out + n, &fin) <= 0)
		return -1;
	if (enc && !EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, QUIC_TAG_LEN, tag))
		return -1;
	return 0;
}

int quic_open(struct quic_keys *k, uint64_t pn, const uint8_t *hdr, size_t hdr_len,
              const uint8_t *ct, size_t ct_len, uint8_t *out, size_t cap)
{
	uint8_t tag[QUIC_TAG_LEN];
	size_t n;

	if (!k->ready)
		return QUIC_KEYS_ERR_INTERNAL;
	if (ct_len <= QUIC_TAG_LEN)
		return QUIC_KEYS_ERR_FORMAT;
	n = ct_len - QUIC_TAG_LEN;
	if (n > cap || n > INT32_MAX)
		return QUIC_KEYS_ERR_INTERNAL;
	memcpy(tag, ct + n, QUIC_TAG_LEN);
	if (aead(k, 0, pn, hdr, hdr_len, ct, n, out, tag) < 0)
		return QUIC_KEYS_ERR_AUTH;
	return (int)n;
}

int quic_seal(struct quic_keys *k, uint64_t pn, const uint8_t *hdr, size_t hdr_len,
              const uint8_t *plain, size_t plain_len, uint8_t *out, size_t cap)
{
	if (!k->ready || plain_len > cap || cap - plain_len < QUIC_TAG_LEN ||
	    plain_len > INT32_MAX - QUIC_TAG_LEN)
		return -1;
	if (aead(k, 1, pn, hdr, hdr_len, plain, plain_len, out, out + plain_len) < 0)
		return -1;
	return (int)(plain_len + QUIC_TAG_LEN);
}

int quic_retry_tag(uint32_t version, const uint8_t *odcid, size_t odcid_len,
                   const uint8_t *retry, size_t retry_len, uint8_t tag[QUIC_TAG_LEN])
{
	const struct version_def *v = version_find(version);
	EVP_CIPHER_CTX *ctx = NULL;
	uint8_t odcid_len8 = (uint8_t)odcid_len;
	int n = 0, rc = -1;
	uint8_t none[1];

	if (!v || odcid_len > QUIC_MAX_CID || retry_len > INT32_MAX)
		return -1;
	pthread_once(&fetch_once, fetch_ciphers);
	if (!fetched_aead[0])
		return -1;
	/* A context for this call only, freed below: a Retry comes at most
	 * once per connection attempt, so it does not cost a context in
	 * every connection's state. */
	ctx = EVP_CIPHER_CTX_new();
	if (!ctx)
		return -1;
	/* The pseudo-packet (Figure 8) is the AAD, given in three pieces;
	 * the plaintext is empty. */
	if (!EVP_EncryptInit_ex2(ctx, fetched_aead[0], v->retry_key, v->retry_nonce, NULL) ||
	    !EVP_EncryptUpdate(ctx, NULL, &n, &odcid_len8, 1) ||
	    (odcid_len && !EVP_EncryptUpdate(ctx, NULL, &n, odcid, (int)odcid_len)) ||
	    (retry_len && !EVP_EncryptUpdate(ctx, NULL, &n, retry, (int)retry_len)) ||
	    EVP_EncryptFinal_ex(ctx, none, &n) <= 0 ||
	    !EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, QUIC_TAG_LEN, tag))
		goto out;
	rc = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}
