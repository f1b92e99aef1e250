/*
 * digest.c - thin wrapper over OpenSSL EVP digests (see include/core/digest.h).
 * Must not: keep state.
 */
#include <pthread.h>
#include <string.h>

#include <openssl/evp.h>

#include "core/digest.h"

/* OpenSSL 3 looks EVP_md5() & co. up in its provider tables, under a
 * lock, on every EVP_Digest call; fetched once here, a digest costs only
 * its own work (JA3 and the chain cache key run one per handshake). */
static EVP_MD *fetched[3];          /* owned for the process' life */
static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;

static void fetch_all(void)
{
	fetched[0] = EVP_MD_fetch(NULL, "MD5", NULL);
	fetched[1] = EVP_MD_fetch(NULL, "SHA1", NULL);
	fetched[2] = EVP_MD_fetch(NULL, "SHA256", NULL);
}

/* The fetched digest i, or the implicit one when fetching failed. */
static const EVP_MD *md_of(int i, const EVP_MD *fallback)
{
	pthread_once(&fetch_once, fetch_all);
	return fetched[i] ? fetched[i] : fallback;
}

static void digest_any(const EVP_MD *md, const void *data, size_t len, uint8_t *out)
{
	unsigned int n = 0;

	/* EVP_Digest only fails on allocation failure; a zero digest then
	 * is better than an abort in a sensor. */
	if (EVP_Digest(data, len, out, &n, md, NULL) != 1)
		for (size_t i = 0; i < (size_t)EVP_MD_get_size(md); i++)
			out[i] = 0;
}

void digest_md5(const void *data, size_t len, uint8_t out[DIGEST_MD5_LEN])
{
	digest_any(md_of(0, EVP_md5()), data, len, out);
}

void digest_sha1(const void *data, size_t len, uint8_t out[DIGEST_SHA1_LEN])
{
	digest_any(md_of(1, EVP_sha1()), data, len, out);
}

void digest_sha256(const void *data, size_t len, uint8_t out[DIGEST_SHA256_LEN])
{
	digest_any(md_of(2, EVP_sha256()), data, len, out);
}

void digest_hex(const uint8_t *in, size_t n, char *out, char sep, int upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		if (sep && i > 0)
			out[o++] = sep;
		out[o++] = digits[in[i] >> 4];
		out[o++] = digits[in[i] & 0xf];
	}
	out[o] = '\0';
}

/* SipHash-2-4 (Aumasson and Bernstein, 2012) over a short key. */
#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND do { \
	v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32); \
	v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2; \
	v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0; \
	v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32); \
} while (0)

/* Called once per 8 key bytes of every packet's flow look-up: one load
 * on a little-endian machine, byte by byte elsewhere. */
static inline uint64_t le64(const uint8_t *p)
{
	uint64_t v;

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	memcpy(&v, p, sizeof(v));
#else
	v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
#endif
	return v;
}

uint64_t digest_siphash(const uint8_t key[16], const void *data, size_t len)
{
	const uint8_t *in = data;
	uint64_t k0 = le64(key), k1 = le64(key + 8);
	uint64_t v0 = 0x736f6d6570736575ULL ^ k0, v1 = 0x646f72616e646f6dULL ^ k1;
	uint64_t v2 = 0x6c7967656e657261ULL ^ k0, v3 = 0x7465646279746573ULL ^ k1;
	uint64_t m, b = (uint64_t)len << 56;
	size_t i, tail = len & 7;

	for (i = 0; i + 8 <= len; i += 8) {
		m = le64(in + i);
		v3 ^= m;
		SIPROUND; SIPROUND;
		v0 ^= m;
	}
	for (size_t j = 0; j < tail; j++)
		b |= (uint64_t)in[i + j] << (8 * j);
	v3 ^= b;
	SIPROUND; SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND; SIPROUND; SIPROUND; SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

int digest_b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}
