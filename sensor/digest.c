/* digest.c - thin wrapper over OpenSSL EVP digests (see include/digest.h). */
#include <openssl/evp.h>

#include "digest.h"

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
	digest_any(EVP_md5(), data, len, out);
}

void digest_sha1(const void *data, size_t len, uint8_t out[DIGEST_SHA1_LEN])
{
	digest_any(EVP_sha1(), data, len, out);
}

void digest_sha256(const void *data, size_t len, uint8_t out[DIGEST_SHA256_LEN])
{
	digest_any(EVP_sha256(), data, len, out);
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
