/*
 * common.h - what tests/certcomp/server.c and client.c share: the three
 * RFC 8879 algorithms with Debian's zlib, brotli and zstd, in the shape
 * BoringSSL's SSL_CTX_add_cert_compression_alg wants.  Built only by
 * tests/mkcertcomp.sh, against android-libboringssl-dev (headers in
 * /usr/include/android, libraries in /usr/lib/x86_64-linux-gnu/android);
 * never by the Makefile, and never linked into certsentry.
 */
#ifndef CERTCOMP_COMMON_H
#define CERTCOMP_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <brotli/decode.h>
#include <brotli/encode.h>
#include <openssl/ssl.h>
#include <zlib.h>
#include <zstd.h>

/* RFC 8879 §3 */
enum { ALG_ZLIB = 1, ALG_BROTLI = 2, ALG_ZSTD = 3 };

static inline int alg_by_name(const char *s)
{
	if (strcmp(s, "zlib") == 0)
		return ALG_ZLIB;
	if (strcmp(s, "brotli") == 0)
		return ALG_BROTLI;
	if (strcmp(s, "zstd") == 0)
		return ALG_ZSTD;
	return -1;
}

/* Compression: the worst case bound of each library reserved in the CBB,
 * then the bytes written counted. */
static int comp_zlib(SSL *ssl, CBB *out, const uint8_t *in, size_t in_len)
{
	uLongf n = compressBound((uLong)in_len);
	uint8_t *p;

	(void)ssl;
	if (!CBB_reserve(out, &p, n) || compress2(p, &n, in, (uLong)in_len, 9) != Z_OK)
		return 0;
	return CBB_did_write(out, n);
}

static int comp_brotli(SSL *ssl, CBB *out, const uint8_t *in, size_t in_len)
{
	size_t n = BrotliEncoderMaxCompressedSize(in_len);
	uint8_t *p;

	(void)ssl;
	if (n == 0 || !CBB_reserve(out, &p, n) ||
	    !BrotliEncoderCompress(BROTLI_DEFAULT_QUALITY, BROTLI_DEFAULT_WINDOW,
	                           BROTLI_MODE_GENERIC, in_len, in, &n, p))
		return 0;
	return CBB_did_write(out, n);
}

static int comp_zstd(SSL *ssl, CBB *out, const uint8_t *in, size_t in_len)
{
	size_t n = ZSTD_compressBound(in_len);
	uint8_t *p;

	(void)ssl;
	if (!CBB_reserve(out, &p, n))
		return 0;
	n = ZSTD_compress(p, n, in, in_len, 19);
	if (ZSTD_isError(n))
		return 0;
	return CBB_did_write(out, n);
}

/* Decompression: exactly uncompressed_len bytes, else failure (RFC 8879
 * §4), into a buffer BoringSSL takes over. */
static int decomp(int alg, CRYPTO_BUFFER **out, size_t ulen, const uint8_t *in, size_t in_len)
{
	uint8_t *p;
	CRYPTO_BUFFER *b = CRYPTO_BUFFER_alloc(&p, ulen);
	int ok = 0;

	if (!b)
		return 0;
	if (alg == ALG_ZLIB) {
		uLongf n = (uLongf)ulen;

		ok = uncompress(p, &n, in, (uLong)in_len) == Z_OK && n == ulen;
	} else if (alg == ALG_BROTLI) {
		size_t n = ulen;

		ok = BrotliDecoderDecompress(in_len, in, &n, p) == BROTLI_DECODER_RESULT_SUCCESS &&
		     n == ulen;
	} else if (alg == ALG_ZSTD) {
		size_t n = ZSTD_decompress(p, ulen, in, in_len);

		ok = !ZSTD_isError(n) && n == ulen;
	}
	if (!ok) {
		CRYPTO_BUFFER_free(b);
		return 0;
	}
	*out = b;
	return 1;
}

static int dec_zlib(SSL *s, CRYPTO_BUFFER **o, size_t u, const uint8_t *i, size_t n)
{
	(void)s;
	return decomp(ALG_ZLIB, o, u, i, n);
}

static int dec_brotli(SSL *s, CRYPTO_BUFFER **o, size_t u, const uint8_t *i, size_t n)
{
	(void)s;
	return decomp(ALG_BROTLI, o, u, i, n);
}

static int dec_zstd(SSL *s, CRYPTO_BUFFER **o, size_t u, const uint8_t *i, size_t n)
{
	(void)s;
	return decomp(ALG_ZSTD, o, u, i, n);
}

/* Register alg on ctx: compression for a server, decompression for a
 * client (which is what makes it offer the algorithm). */
static inline int alg_add(SSL_CTX *ctx, int alg, int server)
{
	static ssl_cert_compression_func_t const comp[] = { NULL, comp_zlib, comp_brotli, comp_zstd };
	static ssl_cert_decompression_func_t const dec[] = { NULL, dec_zlib, dec_brotli, dec_zstd };

	if (alg < 1 || alg > 3)
		return 0;
	return SSL_CTX_add_cert_compression_alg(ctx, (uint16_t)alg, server ? comp[alg] : NULL,
	                                        server ? NULL : dec[alg]);
}

static inline int version_by_name(const char *s)
{
	return strcmp(s, "1.2") == 0 ? TLS1_2_VERSION : strcmp(s, "1.3") == 0 ? TLS1_3_VERSION : -1;
}

#endif
