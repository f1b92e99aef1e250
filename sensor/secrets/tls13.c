/*
 * tls13.c - TLS 1.3 key schedule and record protection with OpenSSL's
 * HMAC and EVP AEAD (the contract is include/secrets/tls13.h).
 *
 * Only what a passive reader with a traffic secret needs: the secret
 * comes from a key log, so no part of the key exchange is redone here.
 * The ciphers are fetched once per process (pthread_once: live capture
 * runs several workers) instead of at every record; each direction's keys
 * own one cipher context, reused for each record.
 *
 * Must not: parse handshake messages (tls_msg.c does) or read key
 * logs (keylog.c).
 */
#include <pthread.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "core/buf.h"
#include "secrets/tls13.h"

#define REC_HDR_LEN      5u
#define CT_APPDATA       23u
#define LABEL_PREFIX     "tls13 "
/* RFC 8446 §7.1: HkdfLabel.label is <7..255> bytes, "tls13 " included. */
#define LABEL_MAX        255u
#define CONTEXT_MAX      255u
/* HkdfLabel: uint16 length, label<7..255>, context<0..255>, plus the
 * counter byte of HKDF-Expand's T(1) (RFC 5869 §2.3). */
#define HKDF_INFO_MAX    (2u + 1u + LABEL_MAX + 1u + CONTEXT_MAX + 1u)

struct suite_def {
	uint16_t id;
	const char *name;
	const char *cipher;      /* OpenSSL's algorithm name */
	size_t key_len;
	size_t hash_len;
};

/* RFC 8446 §B.4. */
static const struct suite_def suites[] = {
	{ 0x1301, "TLS_AES_128_GCM_SHA256", "AES-128-GCM", 16, 32 },
	{ 0x1302, "TLS_AES_256_GCM_SHA384", "AES-256-GCM", 32, 48 },
	{ 0x1303, "TLS_CHACHA20_POLY1305_SHA256", "ChaCha20-Poly1305", 32, 32 },
};
#define N_SUITES (sizeof suites / sizeof suites[0])

static EVP_CIPHER *fetched[N_SUITES];   /* process-wide, never freed */
static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;

static void fetch_ciphers(void)
{
	for (size_t i = 0; i < N_SUITES; i++)
		fetched[i] = EVP_CIPHER_fetch(NULL, suites[i].cipher, NULL);
}

static const struct suite_def *suite_find(uint16_t suite, size_t *idx)
{
	for (size_t i = 0; i < N_SUITES; i++)
		if (suites[i].id == suite) {
			*idx = i;
			return &suites[i];
		}
	return NULL;
}

int tls13_suite_supported(uint16_t suite, size_t *secret_len)
{
	size_t i;
	const struct suite_def *s = suite_find(suite, &i);

	if (!s)
		return 0;
	*secret_len = s->hash_len;
	return 1;
}

const char *tls13_suite_name(uint16_t suite)
{
	size_t i;
	const struct suite_def *s = suite_find(suite, &i);

	if (s)
		return s->name;
	if (suite == 0x1304)
		return "TLS_AES_128_CCM_SHA256";
	if (suite == 0x1305)
		return "TLS_AES_128_CCM_8_SHA256";
	return NULL;
}

/* The hash of a TLS 1.3 suite by its output length: SHA-256 or SHA-384
 * (RFC 8446 §B.4); NULL for any other. */
static const EVP_MD *hkdf_md(size_t hash_len)
{
	return hash_len == 32 ? EVP_sha256() : hash_len == 48 ? EVP_sha384() : NULL;
}

int tls13_expand_label(size_t hash_len, const uint8_t *secret, const char *label,
                       const uint8_t *context, size_t context_len, uint8_t *out,
                       size_t out_len)
{
	uint8_t info[HKDF_INFO_MAX], t1[EVP_MAX_MD_SIZE];
	size_t label_len = strlen(LABEL_PREFIX) + strlen(label), n = 0;
	unsigned t1_len = 0;
	const EVP_MD *md = hkdf_md(hash_len);

	if (!md)
		return -1;
	/* One HMAC block is all a key or an iv needs: T(1) is hash_len
	 * bytes, and RFC 5869 §2.3 cuts it to out_len. */
	if (out_len == 0 || out_len > hash_len || label_len > LABEL_MAX ||
	    context_len > CONTEXT_MAX)
		return -1;
	info[n++] = (uint8_t)(out_len >> 8);
	info[n++] = (uint8_t)out_len;
	info[n++] = (uint8_t)label_len;
	memcpy(info + n, LABEL_PREFIX, strlen(LABEL_PREFIX));
	n += strlen(LABEL_PREFIX);
	memcpy(info + n, label, strlen(label));
	n += strlen(label);
	info[n++] = (uint8_t)context_len;
	if (context_len)
		memcpy(info + n, context, context_len);
	n += context_len;
	info[n++] = 0x01;   /* HKDF-Expand's counter for T(1) */
	if (!HMAC(md, secret, (int)hash_len, info, n, t1, &t1_len) || t1_len != hash_len)
		return -1;
	memcpy(out, t1, out_len);
	OPENSSL_cleanse(t1, sizeof t1);
	return 0;
}

int tls13_hkdf_extract(size_t hash_len, const uint8_t *salt, size_t salt_len,
                       const uint8_t *ikm, size_t ikm_len, uint8_t *out)
{
	unsigned out_len = 0;
	const EVP_MD *md = hkdf_md(hash_len);
	/* HMAC with a zero-length key or message is legal, but OpenSSL wants
	 * a non-NULL pointer for it. */
	static const uint8_t empty[1];

	if (!md)
		return -1;
	if (salt_len > INT32_MAX)
		return -1;
	if (!HMAC(md, salt_len ? salt : empty, (int)salt_len, ikm_len ? ikm : empty, ikm_len,
	          out, &out_len) || out_len != hash_len)
		return -1;
	return 0;
}

int tls13_keys_init(struct tls13_keys *k, uint16_t suite, const uint8_t *secret,
                    size_t secret_len)
{
	const struct suite_def *s;
	size_t idx;

	memset(k, 0, sizeof *k);
	s = suite_find(suite, &idx);
	if (!s || secret_len != s->hash_len)
		return -1;
	pthread_once(&fetch_once, fetch_ciphers);
	if (!fetched[idx])
		return -1;
	if (tls13_expand_label(s->hash_len, secret, "key", NULL, 0, k->key, s->key_len) < 0 ||
	    tls13_expand_label(s->hash_len, secret, "iv", NULL, 0, k->iv, TLS13_IV_LEN) < 0)
		return -1;
	k->ctx = EVP_CIPHER_CTX_new();   /* owned by k; tls13_keys_free */
	if (!k->ctx)
		return -1;
	k->suite = suite;
	k->cipher = fetched[idx];
	k->key_len = s->key_len;
	return 0;
}

void tls13_keys_free(struct tls13_keys *k)
{
	EVP_CIPHER_CTX_free(k->ctx);
	OPENSSL_cleanse(k->key, sizeof k->key);
	k->ctx = NULL;
}

/* RFC 8446 §5.3: the 64-bit sequence number, left-padded to iv_length,
 * XORed with the iv. */
static void record_nonce(const struct tls13_keys *k, uint8_t nonce[TLS13_IV_LEN])
{
	memcpy(nonce, k->iv, TLS13_IV_LEN);
	for (size_t i = 0; i < 8; i++)
		nonce[TLS13_IV_LEN - 1 - i] ^= (uint8_t)(k->seq >> (8 * i));
}

/* One AEAD operation on k's context: enc 1 seals, 0 opens.  in and out
 * are len bytes; tag is read (open) or written (seal).  0 or -1. */
static int aead(struct tls13_keys *k, int enc, const uint8_t hdr[REC_HDR_LEN],
                const uint8_t *in, size_t len, uint8_t *out, uint8_t tag[TLS13_TAG_LEN])
{
	EVP_CIPHER_CTX *ctx = k->ctx;
	uint8_t nonce[TLS13_IV_LEN];
	int n = 0, fin = 0;

	record_nonce(k, nonce);
	if (!EVP_CipherInit_ex2(ctx, k->cipher, k->key, nonce, enc, NULL) ||
	    !EVP_CipherUpdate(ctx, NULL, &n, hdr, (int)REC_HDR_LEN))
		return -1;
	if (len > 0 && !EVP_CipherUpdate(ctx, out, &n, in, (int)len))
		return -1;
	if (!enc && !EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, TLS13_TAG_LEN, tag))
		return -1;
	if (EVP_CipherFinal_ex(ctx, out + n, &fin) <= 0)
		return -1;
	if (enc && !EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, TLS13_TAG_LEN, tag))
		return -1;
	return 0;
}

int tls13_open(struct tls13_keys *k, const uint8_t hdr[REC_HDR_LEN], const uint8_t *ct,
               size_t len, uint8_t *out, size_t cap, uint8_t *type)
{
	uint8_t tag[TLS13_TAG_LEN];
	size_t n;

	if (!k->ctx)
		return TLS13_ERR_INTERNAL;
	if (len < TLS13_TAG_LEN + 1 || len > TLS13_MAX_CIPHERTEXT)
		return TLS13_ERR_FORMAT;
	n = len - TLS13_TAG_LEN;
	if (n > cap)
		return TLS13_ERR_INTERNAL;
	memcpy(tag, ct + n, TLS13_TAG_LEN);
	if (aead(k, 0, hdr, ct, n, out, tag) < 0)
		return TLS13_ERR_AUTH;
	k->seq++;
	/* RFC 8446 §5.4: the content type is the last non-zero byte; all
	 * zeros is an unexpected_message. */
	while (n > 0 && out[n - 1] == 0)
		n--;
	if (n == 0)
		return TLS13_ERR_FORMAT;
	*type = out[n - 1];
	return (int)(n - 1);
}

int tls13_seal(struct tls13_keys *k, uint8_t type, const uint8_t *plain, size_t len,
               size_t pad, uint8_t *out, size_t cap)
{
	size_t inner = len + 1 + pad, total = REC_HDR_LEN + inner + TLS13_TAG_LEN;

	if (!k->ctx || inner + TLS13_TAG_LEN > TLS13_MAX_CIPHERTEXT || total > cap)
		return -1;
	out[0] = CT_APPDATA;          /* opaque_type, §5.2 */
	out[1] = 0x03;                /* legacy_record_version 0x0303 */
	out[2] = 0x03;
	out[3] = (uint8_t)((inner + TLS13_TAG_LEN) >> 8);
	out[4] = (uint8_t)(inner + TLS13_TAG_LEN);
	/* The plaintext is assembled in place, then encrypted in place. */
	memmove(out + REC_HDR_LEN, plain, len);
	out[REC_HDR_LEN + len] = type;
	memset(out + REC_HDR_LEN + len + 1, 0, pad);
	if (aead(k, 1, out, out + REC_HDR_LEN, inner, out + REC_HDR_LEN,
	         out + REC_HDR_LEN + inner) < 0)
		return -1;
	k->seq++;
	return (int)total;
}
