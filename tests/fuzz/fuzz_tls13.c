/*
 * fuzz_tls13.c - libFuzzer target for the TLS 1.3 decryption path
 * (sensor/analyser/tls/tls.c's encrypted flight, sensor/secrets/tls13.c's record layer).
 *
 * A fuzzer cannot forge an AEAD tag, so the harness seals what it is
 * given with a fixed secret: the input describes the plaintext, and the
 * parser behind the decryption is what gets explored.
 *
 * Input:
 *   [0]    bits 0-1 suite (0x1301, 0x1302, 0x1303, 0x1301); bit 2 a
 *          HelloRetryRequest first; bit 3 the compatibility CCS; bit 4 the
 *          key handed over only after every byte (held records); bits 5-6
 *          max_hs_msg (1 MB, 16 KB, 1 KB, 64)
 *   [1]    seed of the split points
 *   then records: [type] [pad] [len_hi] [len_lo] and len plaintext bytes
 *          (the last record takes what is left), each sealed with
 *          content type [type] and [pad] zero bytes of padding; a type
 *          byte of 0xff puts the next len bytes on the wire unsealed (a
 *          forged record: it must fail authentication).
 *
 * The same bytes are fed whole and in pieces: the two sessions must agree
 * (split equivalence), and every invariant holds.  A violation aborts.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/cs_limits.h"
#include "analyser/tls.h"
#include "secrets/tls13.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Bytes of the server's stream built from one input (a 16 KB input
 * could describe far more: what does not fit is left off). */
#define WIRE_MAX (128u * 1024u)

static const uint8_t secret[48] = {
	0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x10, 0x32, 0x54, 0x76,
	0x98, 0xba, 0xdc, 0xfe, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
	0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x00, 0x0f, 0x1e, 0x2d, 0x3c,
	0x4b, 0x5a, 0x69, 0x78, 0x87, 0x96, 0xa5, 0xb4, 0xc3, 0xd2, 0xe1, 0xf0,
};

static const uint8_t hrr_random[32] = {
	0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8,
	0x91, 0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8,
	0x33, 0x9c,
};

struct wire {
	uint8_t *d;
	size_t n;
};

static void put(struct wire *w, const void *p, size_t n)
{
	if (n > WIRE_MAX - w->n)
		return;
	memcpy(w->d + w->n, p, n);
	w->n += n;
}

/* A ClientHello record: version, random, empty session id, one suite,
 * null compression, supported_versions 1.3. */
static void client_hello(struct wire *w)
{
	static const uint8_t ch[] = {
		0x16, 0x03, 0x01, 0x00, 0x33, 0x01, 0x00, 0x00, 0x2f, 0x03, 0x03,
		1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20,
		21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32,
		0x00, 0x00, 0x02, 0x13, 0x01, 0x01, 0x00, 0x00, 0x07, 0x00, 0x2b, 0x00,
		0x03, 0x02, 0x03, 0x04,
	};

	put(w, ch, sizeof ch);
}

/* A ServerHello record with supported_versions 1.3 and the suite. */
static void server_hello(struct wire *w, uint16_t suite, int hrr)
{
	uint8_t sh[] = {
		0x16, 0x03, 0x03, 0x00, 0x2e, 0x02, 0x00, 0x00, 0x2a, 0x03, 0x03,
		0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22,
		0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22,
		0x22, 0x22, 0x22, 0x22, 0x22, 0x22,
		0x00, (uint8_t)(suite >> 8), (uint8_t)suite, 0x00, 0x00, 0x06, 0x00, 0x2b, 0x00,
		0x02, 0x03, 0x04,
	};

	if (hrr)
		memcpy(sh + 11, hrr_random, 32);
	put(w, sh, sizeof sh);
}

static void build(const uint8_t *data, size_t size, uint16_t suite, size_t secret_len,
                  struct wire *w)
{
	static const uint8_t ccs[] = { 0x14, 0x03, 0x03, 0x00, 0x01, 0x01 };
	static uint8_t rec[5 + TLS13_MAX_CIPHERTEXT];
	struct tls13_keys k;
	size_t off = 2;

	server_hello(w, suite, 0);
	if (data[0] & 8)
		put(w, ccs, sizeof ccs);
	if (tls13_keys_init(&k, suite, secret, secret_len) < 0)
		abort();
	while (off + 4 <= size) {
		uint8_t type = data[off], pad = data[off + 1];
		size_t len = (size_t)data[off + 2] << 8 | data[off + 3];
		int n;

		off += 4;
		if (len > size - off)
			len = size - off;
		if (type == 0xff) {
			put(w, data + off, len);
		} else {
			if (len > 16384)
				len = 16384;
			n = tls13_seal(&k, type, data + off, len, pad, rec, sizeof rec);
			if (n > 0)
				put(w, rec, (size_t)n);
		}
		off += len;
	}
	tls13_keys_free(&k);
}

static void check(const struct tls_session *s, const struct cs_limits *lim)
{
	if ((unsigned)s->decision > TLS_DEC_LIMIT || (unsigned)s->t13_outcome > T13_FAILED)
		abort();
	if (s->n_certs > lim->max_certs || (s->n_certs && !s->certs))
		abort();
	for (size_t i = 0; i < s->n_certs; i++)
		if (!s->certs[i].data || s->certs[i].len == 0 || s->certs[i].len > lim->max_cert_size)
			abort();
	/* Certificates only from a decrypted Certificate message. */
	if (s->n_certs && s->t13_outcome != T13_DECRYPTED && s->t13_outcome != T13_FAILED)
		abort();
	if (s->decision != TLS_UNDECIDED && (s->rec || s->pend || s->keys || s->mem_charged))
		abort();
	if (s->pend_len > s->pend_cap || s->pend_len > lim->max_hs_msg)
		abort();
	if (memchr(s->error, 0, sizeof s->error) == NULL)
		abort();
}

/* Feed in pieces (piece 0: whole), handing the secret over at the
 * ServerHello or at the end. */
static void run(struct tls_session *s, const struct cs_limits *lim, const struct wire *cli,
                const struct wire *srv, uint32_t seed, int late, size_t secret_len)
{
	size_t off = 0;

	tls_session_init(s, lim);
	s->t13_follow = 1;
	tls_feed(s, TLS_CLIENT, cli->d, cli->n);
	while (off < srv->n && s->decision == TLS_UNDECIDED) {
		size_t n = srv->n - off;

		if (seed) {
			seed = seed * 1103515245u + 12345u;
			n = 1 + (size_t)(seed >> 16) % 300;
			if (n > srv->n - off)
				n = srv->n - off;
		}
		tls_feed(s, TLS_SERVER, srv->d + off, n);
		off += n;
		if (!late && s->t13 == TLS13_NEED_KEY)
			tls_tls13_key(s, secret, secret_len);
		check(s, lim);
	}
	if (s->t13 == TLS13_NEED_KEY && s->decision == TLS_UNDECIDED)
		tls_tls13_key(s, secret, secret_len);
	check(s, lim);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint16_t suites[] = { 0x1301, 0x1302, 0x1303, 0x1301 };
	static const size_t max_hs[] = { 1u << 20, 16384, 1024, 64 };
	static const uint8_t ccs[] = { 0x14, 0x03, 0x03, 0x00, 0x01, 0x01 };
	static uint8_t cli_buf[1024], srv_buf[WIRE_MAX];
	struct wire cli = { 0 }, srv = { 0 };
	struct tls_session a, b;
	struct cs_limits lim;
	uint16_t suite;
	size_t secret_len;

	if (size < 2)
		return 0;
	cs_limits_default(&lim);
	lim.max_hs_msg = max_hs[(data[0] >> 5) & 3];
	suite = suites[data[0] & 3];
	tls13_suite_supported(suite, &secret_len);
	cli.d = cli_buf;
	srv.d = srv_buf;
	client_hello(&cli);
	if (data[0] & 4) {
		server_hello(&srv, suite, 1);
		put(&srv, ccs, sizeof ccs);
	}
	build(data, size, suite, secret_len, &srv);
	run(&a, &lim, &cli, &srv, 0, data[0] & 16, secret_len);
	run(&b, &lim, &cli, &srv, data[1] | 1u, data[0] & 16, secret_len);
	if (a.decision != b.decision || a.n_certs != b.n_certs || a.t13_outcome != b.t13_outcome ||
	    a.t13_records != b.t13_records || a.certs_dropped != b.certs_dropped)
		abort();
	for (size_t i = 0; i < a.n_certs; i++)
		if (a.certs[i].len != b.certs[i].len ||
		    memcmp(a.certs[i].data, b.certs[i].data, a.certs[i].len) != 0)
			abort();
	tls_session_free(&a);
	tls_session_free(&b);
	return 0;
}
