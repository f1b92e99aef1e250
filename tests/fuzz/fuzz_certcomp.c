/*
 * fuzz_certcomp.c - libFuzzer target for compressed certificates (RFC
 * 8879): the CompressedCertificate message, the three decompressors
 * behind it (sensor/analyser/tls/tls_certcomp.c: zlib, brotli, zstd) and
 * the Certificate parser the result goes to, through the public entry
 * point tls_handshake_feed, as a TLS 1.3 server's decrypted flight (over
 * TCP after tls13.c, over QUIC after its packet protection).
 *
 * Input:
 *   [0]    bits 0-2 the algorithms the ClientHello offers (zlib, brotli,
 *          zstd); bits 3-4 max_hs_msg (1 MB, 16 KB, 1 KB, 64); bit 5 the
 *          rest is the message body as is (its own lengths, to explore
 *          the framing), else the harness frames it
 *   [1]    seed of the split points
 *   [2..3] algorithm, [4..6] uncompressed_length, then the compressed
 *          stream (compressed_length is its length)
 *
 * The message is fed whole and in seeded pieces: the two sessions must
 * agree (split equivalence).  Invariants: decided (certificates, error or
 * limit), certificates only from an offered algorithm and within the
 * limits, the memcap gauge back where it was.  A violation aborts.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/cs_limits.h"
#include "core/stats.h"
#include "analyser/tls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Largest message the harness builds: max_hs_msg's largest choice. */
#define MSG_MAX (1024u * 1024u + 4u)

static const uint8_t secret[32] = { 0x42 };

/* ClientHello (TLS 1.3, TLS_AES_128_GCM_SHA256) offering the algorithms
 * of bits 0-2, and a 1.3 ServerHello: plaintext handshake messages. */
static size_t hellos(uint8_t *ch, uint8_t *sh, unsigned offer)
{
	static const uint8_t ch_head[] = {
		1, 0, 0, 0,                       /* type, length: patched */
		3, 3,
	};
	static const uint8_t ch_mid[] = {
		0, 0, 2, 0x13, 0x01, 1, 0,        /* sid, suites, compression */
	};
	static const uint8_t sh_msg[] = {
		2, 0, 0, 86, 3, 3,
		0x5e, 0x5e, 0x5e, 0x5e, 0x5e, 0x5e, 0x5e, 0x5e, 0x5e, 0x5e, 0x5e, 0x5e, 0x5e, 0x5e,
		0x5e, 0x5e, 0x5e, 0x5e, 0x5e, 0x5e, 0x5e, 0x5e, 0x5e, 0x5e, 0x5e, 0x5e, 0x5e, 0x5e,
		0x5e, 0x5e, 0x5e, 0x5e,
		0, 0x13, 0x01, 0, 0, 46,
		0, 43, 0, 2, 3, 4,
		0, 51, 0, 36, 0, 0x1d, 0, 32,
		7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
		7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
	};
	size_t n = 0, ext_at, n_algs = 0;

	memcpy(ch, ch_head, sizeof ch_head);
	n = sizeof ch_head;
	memset(ch + n, 0xc1, 32);
	n += 32;
	memcpy(ch + n, ch_mid, sizeof ch_mid);
	n += sizeof ch_mid;
	ext_at = n;
	n += 2;
	memcpy(ch + n, (const uint8_t[]){ 0, 43, 0, 3, 2, 3, 4 }, 7);
	n += 7;
	for (unsigned a = 1; a <= 3; a++)
		n_algs += (offer >> (a - 1)) & 1u;
	if (n_algs) {
		ch[n++] = 0;
		ch[n++] = 27;
		ch[n++] = 0;
		ch[n++] = (uint8_t)(1 + 2 * n_algs);
		ch[n++] = (uint8_t)(2 * n_algs);
		for (unsigned a = 1; a <= 3; a++)
			if ((offer >> (a - 1)) & 1u) {
				ch[n++] = 0;
				ch[n++] = (uint8_t)a;
			}
	}
	ch[ext_at] = (uint8_t)((n - ext_at - 2) >> 8);
	ch[ext_at + 1] = (uint8_t)(n - ext_at - 2);
	ch[3] = (uint8_t)(n - 4);   /* under 256 */
	memcpy(sh, sh_msg, sizeof sh_msg);
	return n;
}

static void keyed(struct tls_session *s, const struct cs_limits *lim, unsigned offer)
{
	uint8_t ch[128], sh[128];
	size_t n = hellos(ch, sh, offer);

	tls_session_init(s, lim);
	s->t13_follow = 1;
	tls_handshake_feed(s, TLS_CLIENT, ch, n);
	tls_handshake_feed(s, TLS_SERVER, sh, 90);
	if (s->t13 != TLS13_NEED_KEY || tls_tls13_key(s, secret, sizeof secret) != TLS_MORE ||
	    s->t13 != TLS13_KEYED)
		abort();
}

static void check(const struct tls_session *s, const struct cs_limits *lim, unsigned offer)
{
	if (s->decision != TLS_DEC_CERTS && s->decision != TLS_DEC_ERROR &&
	    s->decision != TLS_DEC_LIMIT)
		abort();
	if (s->dir[TLS_SERVER].msg || s->keys)
		abort();   /* a decided session holds no buffer */
	if (s->decision == TLS_DEC_CERTS &&
	    (s->certcomp_alg < 1 || s->certcomp_alg > 3 || !((offer >> (s->certcomp_alg - 1)) & 1u) ||
	     s->t13_outcome != T13_DECRYPTED))
		abort();
	if (s->n_certs && s->t13_outcome != T13_DECRYPTED && s->t13_outcome != T13_FAILED)
		abort();
	if (s->n_certs > lim->max_certs)
		abort();
	for (size_t i = 0; i < s->n_certs; i++)
		if (s->certs[i].len == 0 || s->certs[i].len > lim->max_cert_size)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t hs_max[] = { 1024u * 1024u, 16u * 1024u, 1024u, 64u };
	struct tls_session whole, split;
	struct cs_limits lim;
	uint8_t *msg;
	size_t n = 0, body;
	uint64_t mem = g_stats.mem_in_use;
	unsigned offer, seed;

	if (size < 7)
		return 0;
	offer = data[0] & 7u;
	seed = data[1];
	cs_limits_default(&lim);
	body = (data[0] & 0x20) ? size - 2 : size - 2 + 3;
	if (body > MSG_MAX - 4)
		return 0;
	msg = malloc(4 + body);   /* the harness's; freed below */
	if (!msg)
		return 0;
	msg[n++] = 25;
	msg[n++] = (uint8_t)(body >> 16);
	msg[n++] = (uint8_t)(body >> 8);
	msg[n++] = (uint8_t)body;
	if (data[0] & 0x20) {
		memcpy(msg + n, data + 2, size - 2);
		n += size - 2;
	} else {
		size_t clen = size - 7;

		memcpy(msg + n, data + 2, 5);
		n += 5;
		msg[n++] = (uint8_t)(clen >> 16);
		msg[n++] = (uint8_t)(clen >> 8);
		msg[n++] = (uint8_t)clen;
		memcpy(msg + n, data + 7, clen);
		n += clen;
	}

	/* The hellos under the default limits (a 64-byte max_hs_msg would
	 * refuse the ClientHello), the flight under the input's: the session
	 * reads lim at each message. */
	keyed(&whole, &lim, offer);
	keyed(&split, &lim, offer);
	lim.max_hs_msg = hs_max[(data[0] >> 3) & 3u];
	tls_handshake_feed(&whole, TLS_SERVER, msg, n);
	for (size_t off = 0; off < n;) {
		size_t k = 1 + (seed * 131u + off * 7u) % 257u;
		uint8_t *piece;

		if (k > n - off)
			k = n - off;
		piece = malloc(k);   /* its own block: an over-read is caught */
		if (!piece)
			abort();
		memcpy(piece, msg + off, k);
		tls_handshake_feed(&split, TLS_SERVER, piece, k);
		free(piece);
		off += k;
	}
	check(&whole, &lim, offer);
	check(&split, &lim, offer);
	if (whole.decision != split.decision || whole.t13_outcome != split.t13_outcome ||
	    whole.certcomp_alg != split.certcomp_alg || whole.n_certs != split.n_certs ||
	    strcmp(whole.error, split.error) != 0)
		abort();
	for (size_t i = 0; i < whole.n_certs; i++)
		if (whole.certs[i].len != split.certs[i].len ||
		    memcmp(whole.certs[i].data, split.certs[i].data, whole.certs[i].len) != 0)
			abort();
	tls_session_free(&whole);
	tls_session_free(&split);
	free(msg);
	if (g_stats.mem_in_use != mem)
		abort();
	return 0;
}
