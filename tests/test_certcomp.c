/*
 * test_certcomp.c - compressed certificates (RFC 8879) through the TLS
 * handshake layer's public entry point, tls_handshake_feed: a TLS 1.3
 * ClientHello (with or without compress_certificate) and ServerHello in
 * the clear, the key handed over, then the server's flight as plaintext
 * handshake messages, as QUIC's CRYPTO stream will deliver them (over
 * TCP the record layer decrypts and calls the same function).
 *
 * The compressed streams are made here: zlib with compress2, zstd with
 * ZSTD_compress (both libraries certsentry links already), brotli with
 * the small encoder below that writes uncompressed meta-blocks (RFC 7932
 * §9.2), because Debian's decoder library comes without the encoder.
 * Real brotli/zlib/zstd output from a TLS stack is tests/t_certcomp.sh's.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <zlib.h>
#include <zstd.h>

#include "core/cs_limits.h"
#include "core/stats.h"
#include "analyser/tls.h"

static struct cs_limits lim;
static const uint8_t secret[32] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };

/* ---- byte buffers ------------------------------------------------------- */

struct bb {
	uint8_t *d;
	size_t n, cap;
};

static struct bb *bb_new(size_t cap)
{
	struct bb *b = calloc(1, sizeof *b);

	assert_non_null(b);
	b->d = malloc(cap);
	assert_non_null(b->d);
	b->cap = cap;
	return b;
}

static void bb_free(struct bb *b)
{
	free(b->d);
	free(b);
}

static void put(struct bb *b, const void *p, size_t n)
{
	assert_true(n <= b->cap - b->n);
	memcpy(b->d + b->n, p, n);
	b->n += n;
}

static void put8(struct bb *b, unsigned v)
{
	uint8_t x = (uint8_t)v;

	put(b, &x, 1);
}

static void put16(struct bb *b, unsigned v)
{
	put8(b, v >> 8);
	put8(b, v);
}

static void put24(struct bb *b, size_t v)
{
	put8(b, (unsigned)(v >> 16));
	put8(b, (unsigned)(v >> 8));
	put8(b, (unsigned)v);
}

/* A handshake message: type, 3-byte length, body. */
static void put_msg(struct bb *b, unsigned type, const uint8_t *body, size_t n)
{
	put8(b, type);
	put24(b, n);
	put(b, body, n);
}

/* ---- the handshake around the certificate ------------------------------- */

/* TLS 1.3 ClientHello body (RFC 8446 §4.1.2): TLS_AES_128_GCM_SHA256,
 * supported_versions 1.3, and compress_certificate listing algs when
 * n_algs > 0 (RFC 8879 §3). */
static void put_client_hello(struct bb *m, const uint16_t *algs, size_t n_algs)
{
	struct bb *body = bb_new(512), *ext = bb_new(256);
	uint8_t random[32];

	memset(random, 0xc1, sizeof random);
	put16(ext, 43);               /* supported_versions */
	put16(ext, 3);
	put8(ext, 2);
	put16(ext, 0x0304);
	if (n_algs) {
		put16(ext, 27);       /* compress_certificate */
		put16(ext, 1 + 2 * n_algs);
		put8(ext, (unsigned)(2 * n_algs));
		for (size_t i = 0; i < n_algs; i++)
			put16(ext, algs[i]);
	}
	put16(body, 0x0303);
	put(body, random, sizeof random);
	put8(body, 0);                /* session id */
	put16(body, 2);
	put16(body, 0x1301);
	put8(body, 1);                /* compression methods: null */
	put8(body, 0);
	put16(body, ext->n);
	put(body, ext->d, ext->n);
	put_msg(m, 1, body->d, body->n);
	bb_free(body);
	bb_free(ext);
}

/* TLS 1.3 ServerHello body (RFC 8446 §4.1.3). */
static void put_server_hello(struct bb *m)
{
	struct bb *body = bb_new(256);
	uint8_t random[32], key[32];

	memset(random, 0x5e, sizeof random);
	memset(key, 0x77, sizeof key);
	put16(body, 0x0303);
	put(body, random, sizeof random);
	put8(body, 0);
	put16(body, 0x1301);
	put8(body, 0);
	put16(body, 6 + 40);
	put16(body, 43);              /* supported_versions: 1.3 */
	put16(body, 2);
	put16(body, 0x0304);
	put16(body, 51);              /* key_share: x25519 */
	put16(body, 36);
	put16(body, 0x001d);
	put16(body, 32);
	put(body, key, sizeof key);
	put_msg(m, 2, body->d, body->n);
	bb_free(body);
}

/* A session fed both hellos and the key: it reads the server's flight as
 * plaintext handshake messages from here on. */
static void session_keyed(struct tls_session *s, const uint16_t *algs, size_t n_algs)
{
	struct bb *c = bb_new(1024), *sv = bb_new(1024);

	tls_session_init(s, &lim);
	s->t13_follow = 1;
	put_client_hello(c, algs, n_algs);
	put_server_hello(sv);
	assert_int_equal(tls_handshake_feed(s, TLS_CLIENT, c->d, c->n), TLS_MORE);
	assert_int_equal(tls_handshake_feed(s, TLS_SERVER, sv->d, sv->n), TLS_MORE);
	assert_int_equal(s->t13, TLS13_NEED_KEY);
	assert_int_equal(tls_tls13_key(s, secret, sizeof secret), TLS_MORE);
	assert_int_equal(s->t13, TLS13_KEYED);
	/* EncryptedExtensions, empty (RFC 8446 §4.3.1) */
	assert_int_equal(tls_handshake_feed(s, TLS_SERVER, (const uint8_t[]){ 8, 0, 0, 2, 0, 0 }, 6),
	                 TLS_MORE);
	bb_free(c);
	bb_free(sv);
}

static const uint16_t all_algs[] = { 1, 2, 3 };

/* A TLS 1.3 Certificate body (RFC 8446 §4.4.2) of two stand-in
 * certificates (the parser keeps DER unparsed; x509 reads it later): an
 * empty context, then (cert_data, empty extensions) entries. */
#define CERT1_LEN 700u
#define CERT2_LEN 450u
static struct bb *cert_body(void)
{
	struct bb *b = bb_new(2048);

	put8(b, 0);
	put24(b, (3 + CERT1_LEN + 2) + (3 + CERT2_LEN + 2));
	put24(b, CERT1_LEN);
	for (unsigned i = 0; i < CERT1_LEN; i++)
		put8(b, 0x30 + i % 7);
	put16(b, 0);
	put24(b, CERT2_LEN);
	for (unsigned i = 0; i < CERT2_LEN; i++)
		put8(b, 0x80 + i % 13);
	put16(b, 0);
	return b;
}

/* ---- compressors -------------------------------------------------------- */

/* LSB-first bit writer for brotli (RFC 7932 §2). */
struct bits {
	struct bb *b;
	unsigned acc, n;
};

static void bits_put(struct bits *w, unsigned v, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		w->acc |= ((v >> i) & 1u) << w->n;
		if (++w->n == 8) {
			put8(w->b, w->acc);
			w->acc = w->n = 0;
		}
	}
}

static void bits_align(struct bits *w)
{
	if (w->n)
		bits_put(w, 0, 8 - w->n);
}

/* Brotli stream of uncompressed meta-blocks (RFC 7932 §9.2): WBITS 16
 * (one 0 bit) or wbits 18..24; each meta-block ISLAST 0, MNIBBLES 4
 * (MLEN <= 65536), MLEN-1, ISUNCOMPRESSED 1, padding, the bytes; then an
 * empty last meta-block (ISLAST 1, ISLASTEMPTY 1).  claim, if non-zero,
 * replaces the first meta-block's MLEN (the bytes written stay n). */
static void brotli_stored(struct bb *out, const uint8_t *p, size_t n, unsigned wbits,
                          size_t claim, unsigned nibbles)
{
	struct bits w = { out, 0, 0 };

	if (wbits == 16)
		bits_put(&w, 0, 1);
	else {
		bits_put(&w, 1, 1);
		bits_put(&w, wbits - 17, 3);
	}
	for (size_t off = 0; off < n;) {
		size_t len = n - off < 65536 ? n - off : 65536;
		size_t mlen = claim && off == 0 ? claim : len;

		bits_put(&w, 0, 1);                   /* ISLAST */
		bits_put(&w, nibbles - 4, 2);         /* MNIBBLES */
		bits_put(&w, (unsigned)(mlen - 1), nibbles * 4);
		bits_put(&w, 1, 1);                   /* ISUNCOMPRESSED */
		bits_align(&w);
		put(out, p + off, len);
		off += len;
	}
	bits_put(&w, 1, 1);                           /* ISLAST */
	bits_put(&w, 1, 1);                           /* ISLASTEMPTY */
	bits_align(&w);
}

static struct bb *compress_with(uint16_t alg, const uint8_t *p, size_t n)
{
	struct bb *out = bb_new(n + n / 2 + 1024);
	uLongf zn = (uLongf)out->cap;
	size_t r;

	switch (alg) {
	case 1:
		assert_int_equal(compress2(out->d, &zn, p, (uLong)n, 9), Z_OK);
		out->n = zn;
		break;
	case 2:
		brotli_stored(out, p, n, 16, 0, 4);
		break;
	case 3:
		r = ZSTD_compress(out->d, out->cap, p, n, 3);
		assert_false(ZSTD_isError(r));
		out->n = r;
		break;
	default:
		fail();
	}
	return out;
}

/* CompressedCertificate message (RFC 8879 §4), header included. */
static struct bb *cc_msg(uint16_t alg, size_t ulen, const uint8_t *comp, size_t clen)
{
	struct bb *body = bb_new(clen + 16), *m = bb_new(clen + 32);

	put16(body, alg);
	put24(body, ulen);
	put24(body, clen);
	put(body, comp, clen);
	put_msg(m, 25, body->d, body->n);
	bb_free(body);
	return m;
}

/* Feed a message in pieces of chunk bytes; TLS_DECIDED must come with the
 * last piece and not before. */
static int feed_msg(struct tls_session *s, const struct bb *m, size_t chunk)
{
	int rc = TLS_MORE;

	for (size_t off = 0; off < m->n; off += chunk) {
		size_t k = m->n - off < chunk ? m->n - off : chunk;

		assert_int_equal(rc, TLS_MORE);
		rc = tls_handshake_feed(s, TLS_SERVER, m->d + off, k);
	}
	return rc;
}

/* The certificates of a session equal those of the plain body. */
static void assert_certs(const struct tls_session *s)
{
	struct bb *plain = cert_body();

	assert_int_equal(s->n_certs, 2);
	assert_int_equal(s->certs[0].len, CERT1_LEN);
	assert_int_equal(s->certs[1].len, CERT2_LEN);
	assert_memory_equal(s->certs[0].data, plain->d + 1 + 3 + 3, CERT1_LEN);
	assert_memory_equal(s->certs[1].data, plain->d + 1 + 3 + 3 + CERT1_LEN + 2 + 3, CERT2_LEN);
	bb_free(plain);
}

/* One failure: decided as why, outcome decompression-failed, no
 * certificate kept, the error naming note; counter went up by one. */
static void assert_failed(struct tls_session *s, enum tls_decision why, const char *note,
                          const uint64_t *counter, uint64_t before)
{
	assert_int_equal(s->decision, why);
	assert_int_equal(s->t13_outcome, T13_DECOMPRESS_FAILED);
	assert_int_equal(s->n_certs, 0);
	assert_non_null(strstr(s->error, note));
	assert_int_equal(*counter, before + 1);
	assert_string_equal(tls13_outcome_name(s->t13_outcome), "decompression-failed");
}

/* ---- tests -------------------------------------------------------------- */

static int setup(void **state)
{
	(void)state;
	cs_limits_default(&lim);
	return 0;
}

/* Each algorithm: the chain read equals the one an uncompressed
 * Certificate carries, whole, byte by byte and in odd pieces. */
static void test_each_algorithm(void **state)
{
	static const char *const names[] = { "zlib", "brotli", "zstd" };
	static const size_t chunks[] = { SIZE_MAX, 1, 7, 333 };
	struct bb *plain = cert_body(), *whole = bb_new(4096);
	struct tls_session s;

	(void)state;
	/* the uncompressed twin */
	session_keyed(&s, all_algs, 3);
	put_msg(whole, 11, plain->d, plain->n);
	assert_int_equal(feed_msg(&s, whole, whole->n), TLS_DECIDED);
	assert_int_equal(s.decision, TLS_DEC_CERTS);
	assert_int_equal(s.certcomp_alg, 0);
	assert_certs(&s);
	tls_session_free(&s);

	for (uint16_t alg = 1; alg <= 3; alg++) {
		struct bb *comp = compress_with(alg, plain->d, plain->n);
		struct bb *m = cc_msg(alg, plain->n, comp->d, comp->n);

		for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++) {
			uint64_t before = g_stats.tls_certcomp[alg - 1];
			uint64_t mem = g_stats.mem_in_use;

			session_keyed(&s, all_algs, 3);
			assert_int_equal(feed_msg(&s, m, chunks[i] < m->n ? chunks[i] : m->n),
			                 TLS_DECIDED);
			assert_int_equal(s.decision, TLS_DEC_CERTS);
			assert_int_equal(s.t13_outcome, T13_DECRYPTED);
			assert_int_equal(s.certcomp_alg, alg);
			assert_string_equal(tls_certcomp_name(alg), names[alg - 1]);
			assert_int_equal(g_stats.tls_certcomp[alg - 1], before + 1);
			assert_int_equal(g_stats.mem_in_use, mem);  /* the buffer given back */
			assert_certs(&s);
			tls_session_free(&s);
		}
		bb_free(comp);
		bb_free(m);
	}
	bb_free(plain);
	bb_free(whole);
}

/* Over QUIC the transport opens the Handshake packets and the session is
 * keyed without record keys (tls_quic_keyed): a CompressedCertificate in
 * the CRYPTO stream is read as over TCP, for each algorithm. */
static void test_quic_keyed(void **state)
{
	struct bb *plain = cert_body();
	struct bb *c = bb_new(1024), *sv = bb_new(1024);

	(void)state;
	put_client_hello(c, all_algs, 3);
	put_server_hello(sv);
	for (uint16_t alg = 1; alg <= 3; alg++) {
		struct bb *comp = compress_with(alg, plain->d, plain->n);
		struct bb *m = cc_msg(alg, plain->n, comp->d, comp->n);
		struct tls_session s;

		tls_session_init(&s, &lim);
		s.t13_follow = 1;
		assert_int_equal(tls_handshake_feed(&s, TLS_CLIENT, c->d, c->n), TLS_MORE);
		assert_int_equal(tls_handshake_feed(&s, TLS_SERVER, sv->d, sv->n), TLS_MORE);
		assert_int_equal(s.t13, TLS13_NEED_KEY);
		assert_int_equal(tls_quic_keyed(&s), TLS_MORE);
		assert_int_equal(s.t13, TLS13_KEYED);
		assert_null(s.keys);                 /* no record keys: QUIC opened it */
		assert_int_equal(tls_handshake_feed(&s, TLS_SERVER,
		                                    (const uint8_t[]){ 8, 0, 0, 2, 0, 0 }, 6), TLS_MORE);
		assert_int_equal(feed_msg(&s, m, 5), TLS_DECIDED);
		assert_int_equal(s.decision, TLS_DEC_CERTS);
		assert_int_equal(s.certcomp_alg, alg);
		assert_certs(&s);
		tls_session_free(&s);
		bb_free(comp);
		bb_free(m);
	}
	bb_free(plain);
	bb_free(c);
	bb_free(sv);
}

/* Only an algorithm the ClientHello offered (RFC 8879 §4): another one,
 * or any when the extension was absent, is malformed and counted. */
static void test_not_offered(void **state)
{
	static const uint16_t brotli_only[] = { 2 };
	static const uint16_t odd[] = { 0x4001, 3 };
	struct bb *plain = cert_body();
	struct tls_session s;

	(void)state;
	for (int k = 0; k < 4; k++) {
		uint16_t alg = k == 3 ? 0x4001 : 1;
		struct bb *comp = compress_with(1, plain->d, plain->n);
		struct bb *m = cc_msg(alg, plain->n, comp->d, comp->n);
		uint64_t before = g_stats.tls_certcomp_not_offered;
		uint64_t err = g_stats.tls_parse_err;

		if (k == 0)
			session_keyed(&s, brotli_only, 1);
		else if (k == 1)
			session_keyed(&s, NULL, 0);        /* no extension */
		else
			session_keyed(&s, odd, 2);         /* offered values kept: 3 only */
		assert_int_equal(feed_msg(&s, m, m->n), TLS_DECIDED);
		assert_failed(&s, TLS_DEC_ERROR, "not offered", &g_stats.tls_certcomp_not_offered,
		              before);
		assert_int_equal(g_stats.tls_parse_err, err + 1);
		assert_int_equal(s.certcomp_alg, alg);
		assert_string_equal(s.error, k == 3 ?
		        "CompressedCertificate (unknown): algorithm 16385 not offered in the ClientHello" :
		        "CompressedCertificate (zlib): algorithm 1 not offered in the ClientHello");
		tls_session_free(&s);
		bb_free(comp);
		bb_free(m);
	}
	/* what the ClientHello offered is kept as bits */
	session_keyed(&s, odd, 2);
	assert_int_equal(s.ch_certcomp, 1u << 3);
	tls_session_free(&s);
	session_keyed(&s, all_algs, 3);
	assert_int_equal(s.ch_certcomp, 1u << 1 | 1u << 2 | 1u << 3);
	tls_session_free(&s);
	bb_free(plain);
}

/* uncompressed_length one more or one less than the stream holds: a
 * length mismatch, counted, for every algorithm. */
static void test_length_mismatch(void **state)
{
	struct bb *plain = cert_body();
	struct tls_session s;

	(void)state;
	for (uint16_t alg = 1; alg <= 3; alg++) {
		struct bb *comp = compress_with(alg, plain->d, plain->n);

		for (int delta = -1; delta <= 1; delta += 2) {
			struct bb *m = cc_msg(alg, (size_t)((long)plain->n + delta), comp->d, comp->n);
			uint64_t before = g_stats.tls_certcomp_length;

			session_keyed(&s, all_algs, 3);
			assert_int_equal(feed_msg(&s, m, m->n), TLS_DECIDED);
			assert_failed(&s, TLS_DEC_ERROR, delta < 0 ? "longer than uncompressed_length" :
			              "shorter than uncompressed_length", &g_stats.tls_certcomp_length,
			              before);
			tls_session_free(&s);
			bb_free(m);
		}
		bb_free(comp);
	}
	bb_free(plain);
}

/* Bombs.  Declared over max_hs_msg: refused before any allocation.
 * Declared small, expanding far more: stopped at the declared length
 * (only that much is ever allocated).  A brotli stream that asks for a 16
 * MiB ring buffer to expand 100 bytes: refused by the decompressor's
 * memory budget. */
static void test_bomb(void **state)
{
	size_t big = 2 * lim.max_hs_msg;
	uint8_t *zeros = calloc(1, big);
	struct bb *comp, *m;
	struct tls_session s;
	uint64_t before, limit_hits;

	(void)state;
	assert_non_null(zeros);
	comp = compress_with(1, zeros, big);
	assert_true(comp->n < 8192);   /* a bomb: a few KB for 2 MiB */

	/* declared as what it is: over the limit */
	m = cc_msg(1, big, comp->d, comp->n);
	session_keyed(&s, all_algs, 3);
	before = g_stats.tls_certcomp_bomb;
	limit_hits = g_stats.tls_hs_too_big;
	g_stats.mem_peak = g_stats.mem_in_use;
	assert_int_equal(feed_msg(&s, m, m->n), TLS_DECIDED);
	assert_failed(&s, TLS_DEC_LIMIT, "exceeds max_hs_msg", &g_stats.tls_certcomp_bomb, before);
	assert_int_equal(g_stats.tls_hs_too_big, limit_hits + 1);
	assert_int_equal(g_stats.mem_peak, g_stats.mem_in_use);   /* nothing allocated */
	tls_session_free(&s);
	bb_free(m);

	/* declared small: 1000 bytes allocated, the rest never made */
	m = cc_msg(1, 1000, comp->d, comp->n);
	session_keyed(&s, all_algs, 3);
	before = g_stats.tls_certcomp_length;
	g_stats.mem_peak = g_stats.mem_in_use;
	assert_int_equal(feed_msg(&s, m, m->n), TLS_DECIDED);
	assert_failed(&s, TLS_DEC_ERROR, "longer than", &g_stats.tls_certcomp_length, before);
	assert_int_equal(g_stats.mem_peak, g_stats.mem_in_use + 1000);
	tls_session_free(&s);
	bb_free(m);

	/* declared exactly at the limit: still stopped there */
	m = cc_msg(1, lim.max_hs_msg, comp->d, comp->n);
	session_keyed(&s, all_algs, 3);
	before = g_stats.tls_certcomp_length;
	assert_int_equal(feed_msg(&s, m, m->n), TLS_DECIDED);
	assert_failed(&s, TLS_DEC_ERROR, "longer than", &g_stats.tls_certcomp_length, before);
	tls_session_free(&s);
	bb_free(m);
	bb_free(comp);

	/* the same with brotli and zstd, declared small (the test's brotli
	 * stores, so its stream must fit a handshake message) */
	for (uint16_t alg = 2; alg <= 3; alg++) {
		comp = compress_with(alg, zeros, alg == 2 ? 4000 : big);
		m = cc_msg(alg, 1000, comp->d, comp->n);
		session_keyed(&s, all_algs, 3);
		before = g_stats.tls_certcomp_length;
		assert_int_equal(feed_msg(&s, m, m->n), TLS_DECIDED);
		assert_failed(&s, TLS_DEC_ERROR, "longer than", &g_stats.tls_certcomp_length, before);
		tls_session_free(&s);
		bb_free(m);
		bb_free(comp);
	}

	/* brotli: window 2^24 and a first meta-block claiming 2^24 bytes,
	 * 100 bytes sent, 100 declared */
	comp = bb_new(1024);
	brotli_stored(comp, zeros, 100, 24, (size_t)1 << 24, 6);
	m = cc_msg(2, 100, comp->d, comp->n);
	session_keyed(&s, all_algs, 3);
	before = g_stats.tls_certcomp_bomb;
	assert_int_equal(feed_msg(&s, m, m->n), TLS_DECIDED);
	assert_failed(&s, TLS_DEC_LIMIT, "memory over its budget", &g_stats.tls_certcomp_bomb,
	              before);
	tls_session_free(&s);
	bb_free(m);
	bb_free(comp);
	free(zeros);
}

/* A stream cut at every point (the message's lengths telling the truth
 * about what is there): never read, never a crash; and one with a byte
 * after its end. */
static void test_truncated(void **state)
{
	struct bb *plain = cert_body();
	struct tls_session s;

	(void)state;
	for (uint16_t alg = 1; alg <= 3; alg++) {
		struct bb *comp = compress_with(alg, plain->d, plain->n);

		for (size_t k = 0; k < comp->n; k++) {
			struct bb *m = cc_msg(alg, plain->n, comp->d, k);
			uint64_t corrupt = g_stats.tls_certcomp_corrupt;

			session_keyed(&s, all_algs, 3);
			assert_int_equal(feed_msg(&s, m, m->n), TLS_DECIDED);
			assert_int_equal(s.decision, TLS_DEC_ERROR);
			assert_int_equal(s.t13_outcome, T13_DECOMPRESS_FAILED);
			assert_int_equal(s.n_certs, 0);
			assert_int_equal(g_stats.tls_certcomp_corrupt, corrupt + 1);
			tls_session_free(&s);
			bb_free(m);
		}
		/* a byte after the stream */
		comp->d[comp->n++] = 0;
		{
			struct bb *m = cc_msg(alg, plain->n, comp->d, comp->n);
			uint64_t corrupt = g_stats.tls_certcomp_corrupt;

			session_keyed(&s, all_algs, 3);
			assert_int_equal(feed_msg(&s, m, m->n), TLS_DECIDED);
			assert_failed(&s, TLS_DEC_ERROR, "bytes after the stream",
			              &g_stats.tls_certcomp_corrupt, corrupt);
			tls_session_free(&s);
			bb_free(m);
		}
		bb_free(comp);
	}
	bb_free(plain);
}

/* The message's own framing: every cut of a whole message handed over
 * as it is (waits for more), lengths that disagree, a too-short
 * uncompressed_length. */
static void test_framing(void **state)
{
	struct bb *plain = cert_body();
	struct bb *comp = compress_with(3, plain->d, plain->n);
	struct bb *m = cc_msg(3, plain->n, comp->d, comp->n);
	struct tls_session s;
	uint64_t before;

	(void)state;
	/* a prefix of the message: waiting, nothing decided */
	for (size_t k = 1; k < m->n; k++) {
		session_keyed(&s, all_algs, 3);
		assert_int_equal(tls_handshake_feed(&s, TLS_SERVER, m->d, k), TLS_MORE);
		assert_int_equal(s.decision, TLS_UNDECIDED);
		tls_session_free(&s);
	}
	/* compressed length one more / one less than the message holds; the
	 * message length adjusted so that only the inner length lies */
	for (int delta = -1; delta <= 1; delta += 2) {
		struct bb *bad = bb_new(m->n);

		put(bad, m->d, m->n);
		bad->d[4 + 2 + 3 + 2] = (uint8_t)(bad->d[4 + 2 + 3 + 2] + delta);
		before = g_stats.tls_certcomp_corrupt;
		session_keyed(&s, all_algs, 3);
		assert_int_equal(feed_msg(&s, bad, bad->n), TLS_DECIDED);
		assert_failed(&s, TLS_DEC_ERROR, "malformed message", &g_stats.tls_certcomp_corrupt,
		              before);
		tls_session_free(&s);
		bb_free(bad);
	}
	/* a body shorter than the fixed fields */
	{
		static const uint8_t tiny[] = { 25, 0, 0, 4, 0, 3, 0, 0 };
		struct bb t = { (uint8_t *)tiny, sizeof tiny, sizeof tiny };

		before = g_stats.tls_certcomp_corrupt;
		session_keyed(&s, all_algs, 3);
		assert_int_equal(feed_msg(&s, &t, t.n), TLS_DECIDED);
		assert_failed(&s, TLS_DEC_ERROR, "malformed message", &g_stats.tls_certcomp_corrupt,
		              before);
		tls_session_free(&s);
	}
	/* uncompressed_length under a Certificate's 4 bytes */
	bb_free(m);
	m = cc_msg(3, 3, comp->d, comp->n);
	before = g_stats.tls_certcomp_length;
	session_keyed(&s, all_algs, 3);
	assert_int_equal(feed_msg(&s, m, m->n), TLS_DECIDED);
	assert_failed(&s, TLS_DEC_ERROR, "is no Certificate", &g_stats.tls_certcomp_length, before);
	tls_session_free(&s);
	/* decompressed fine, but not a Certificate inside: the Certificate
	 * parser's verdict, as for an uncompressed one */
	{
		/* an empty list, then a byte too many */
		static const uint8_t junk[] = { 0, 0, 0, 0, 7 };
		struct bb *jc = compress_with(1, junk, sizeof junk);
		struct bb *jm = cc_msg(1, sizeof junk, jc->d, jc->n);

		session_keyed(&s, all_algs, 3);
		assert_int_equal(feed_msg(&s, jm, jm->n), TLS_DECIDED);
		assert_int_equal(s.decision, TLS_DEC_ERROR);
		assert_int_equal(s.t13_outcome, T13_FAILED);
		assert_string_equal(s.error, "malformed Certificate");
		tls_session_free(&s);
		bb_free(jc);
		bb_free(jm);
	}
	bb_free(m);
	bb_free(comp);
	bb_free(plain);
}

/* Garbage as the stream of each algorithm: corrupt, counted. */
static void test_garbage(void **state)
{
	uint8_t junk[600];
	struct tls_session s;
	uint32_t x = 2463534242u;

	(void)state;
	for (size_t i = 0; i < sizeof junk; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		junk[i] = (uint8_t)x;
	}
	for (uint16_t alg = 1; alg <= 3; alg++) {
		struct bb *m = cc_msg(alg, 5000, junk, sizeof junk);
		uint64_t before = g_stats.tls_certcomp_corrupt;

		session_keyed(&s, all_algs, 3);
		assert_int_equal(feed_msg(&s, m, m->n), TLS_DECIDED);
		assert_failed(&s, TLS_DEC_ERROR, "CompressedCertificate", &g_stats.tls_certcomp_corrupt,
		              before);
		tls_session_free(&s);
		bb_free(m);
	}
}

/* compress_certificate malformed in the ClientHello: the hello is
 * malformed (as for any bad extension), the server side still read. */
static void test_bad_extension(void **state)
{
	static const uint16_t one[] = { 1 };
	struct bb *c = bb_new(1024);
	struct tls_session s;
	uint64_t err = g_stats.tls_parse_err;
	size_t at;

	(void)state;
	put_client_hello(c, one, 1);
	/* the list length (its extension is the last: length byte, one
	 * 2-byte value) claims a byte more than the extension holds */
	at = c->n - 3;
	assert_int_equal(c->d[at], 2);
	c->d[at] = 3;
	tls_session_init(&s, &lim);
	assert_int_equal(tls_handshake_feed(&s, TLS_CLIENT, c->d, c->n), TLS_MORE);
	assert_int_equal(g_stats.tls_parse_err, err + 1);
	assert_string_equal(s.error, "malformed ClientHello");
	assert_int_equal(s.dir[TLS_CLIENT].done, 1);
	tls_session_free(&s);
	bb_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_each_algorithm, setup),
		cmocka_unit_test_setup(test_quic_keyed, setup),
		cmocka_unit_test_setup(test_not_offered, setup),
		cmocka_unit_test_setup(test_length_mismatch, setup),
		cmocka_unit_test_setup(test_bomb, setup),
		cmocka_unit_test_setup(test_truncated, setup),
		cmocka_unit_test_setup(test_framing, setup),
		cmocka_unit_test_setup(test_garbage, setup),
		cmocka_unit_test_setup(test_bad_extension, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
