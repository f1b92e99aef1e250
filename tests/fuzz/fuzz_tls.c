/*
 * fuzz_tls.c - libFuzzer target for the streaming TLS handshake parser
 * (sensor/analyser/tls/tls.c).
 *
 * Input:
 *   [0]    limits: bits 0-1 max_hs_msg (1 MB, 16 KB, 1 KB, 64), bits 2-3
 *          max_certs (16, 3, 1, 0), bits 4-5 max_cert_size (512 KB, 4 KB,
 *          300, 16)
 *   [1]    seed of the split points
 *   [2]    largest piece: 1 + [2] bytes (0xff: 256)
 *   [3..4] length of the client stream (big-endian), then the client
 *          stream, then the server stream (the rest).
 *
 * Three sessions parse the same bytes:
 *   A  pieces alternating between client and server, as a capture
 *      interleaves them (explores cross-direction states);
 *   B  the client stream whole, then the server stream whole;
 *   C  the client stream in A's pieces, then the server stream in A's
 *      pieces.
 * B and C see the same bytes in the same cross-direction order, so they
 * must agree on everything the later stages read (split equivalence,
 * STYLE.md "Tests"); A must keep every structural invariant.
 *
 * The same streams are then read as bare handshake messages, as a QUIC
 * CRYPTO stream carries them (tls_handshake_feed, no records): D whole,
 * E in pieces; they must agree as B and C do.  And the analyser's probe
 * and role (tls_analyser.c) look at both streams: a start they report
 * lies inside the bytes given.  Any violation is an abort().
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/cs_limits.h"
#include "analyser/tls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HDR_LEN 5

struct splitter {
	uint32_t state;
	size_t max;
};

static size_t next_piece(struct splitter *sp, size_t left)
{
	size_t n;

	sp->state = sp->state * 1103515245u + 12345u;
	n = 1 + (size_t)(sp->state >> 16) % sp->max;
	return n < left ? n : left;
}

static void check_session(const struct tls_session *s, const struct cs_limits *lim)
{
	if ((unsigned)s->decision > TLS_DEC_LIMIT)
		abort();
	if (s->n_certs > lim->max_certs || (s->n_certs && !s->certs))
		abort();
	for (size_t i = 0; i < s->n_certs; i++)
		if (!s->certs[i].data || s->certs[i].len == 0 ||
		    s->certs[i].len > lim->max_cert_size)
			abort();
	if (memchr(s->sni, 0, sizeof s->sni) == NULL || strlen(s->sni) > TLS_MAX_SNI)
		abort();
	if (s->n_alpn > TLS_MAX_ALPN || s->n_ch_versions > TLS_MAX_VERSIONS)
		abort();
	for (size_t i = 0; i < s->n_alpn; i++)
		if (memchr(s->alpn[i], 0, sizeof s->alpn[i]) == NULL || s->alpn[i][0] == '\0')
			abort();
	if (memchr(s->server_alpn, 0, sizeof s->server_alpn) == NULL ||
	    memchr(s->error, 0, sizeof s->error) == NULL)
		abort();
	if (s->ch_sid_len > 32 || s->sh_sid_len > 32)
		abort();
	if ((s->ja3 && strlen(s->ja3_md5) != 32) || (s->ja3s && strlen(s->ja3s_md5) != 32))
		abort();
	for (int d = 0; d < 2; d++) {
		const struct tls_dirstate *ds = &s->dir[d];

		if (ds->hdr_len > 5 || ds->msg_len > ds->msg_cap ||
		    ds->msg_cap > lim->max_hs_msg + 4 || (ds->msg_cap && !ds->msg))
			abort();
		if (ds->msg_need && ds->msg_len > ds->msg_need)
			abort();
		/* A decided session keeps no message buffers. */
		if (s->decision != TLS_UNDECIDED && ds->msg)
			abort();
	}
	if (s->decision == TLS_DEC_RESUMED && !s->resumed)
		abort();
}

static int str_eq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

/* Everything later stages read from a session (error strings excepted:
 * they quote the bytes seen so far, which depend on the split). */
static void compare(const struct tls_session *a, const struct tls_session *b)
{
	if (a->decision != b->decision || a->n_certs != b->n_certs ||
	    a->certs_dropped != b->certs_dropped || strcmp(a->sni, b->sni) != 0 ||
	    a->ch_seen != b->ch_seen || a->sh_seen != b->sh_seen ||
	    a->ch_sslv2 != b->ch_sslv2 || a->version != b->version ||
	    a->cipher != b->cipher || a->resumed != b->resumed ||
	    a->n_alpn != b->n_alpn || strcmp(a->server_alpn, b->server_alpn) != 0 ||
	    a->client_cert_seen != b->client_cert_seen ||
	    !str_eq(a->ja3, b->ja3) || !str_eq(a->ja3s, b->ja3s))
		abort();
	for (size_t i = 0; i < a->n_certs; i++)
		if (a->certs[i].len != b->certs[i].len ||
		    memcmp(a->certs[i].data, b->certs[i].data, a->certs[i].len) != 0)
			abort();
	for (size_t i = 0; i < a->n_alpn; i++)
		if (strcmp(a->alpn[i], b->alpn[i]) != 0)
			abort();
}

/* tls_feed on a copy of the piece in its own allocation, so that a read
 * past the piece is caught rather than landing in the next one. */
static int feed_copy(struct tls_session *s, enum tls_dir d, const uint8_t *p, size_t n)
{
	uint8_t *copy = malloc(n ? n : 1);
	int rc;

	if (!copy)
		abort();
	memcpy(copy, p, n);
	rc = tls_feed(s, d, copy, n);
	free(copy);
	return rc;
}

/* The same for tls_handshake_feed (bare handshake messages). */
static int hs_feed_copy(struct tls_session *s, enum tls_dir d, const uint8_t *p, size_t n)
{
	uint8_t *copy = malloc(n ? n : 1);
	int rc;

	if (!copy)
		abort();
	memcpy(copy, p, n);
	rc = tls_handshake_feed(s, d, copy, n);
	free(copy);
	return rc;
}

/* Feed one direction's bytes in pieces until it ends or the session is
 * decided; the contract is that tls_feed is not called after that.  With
 * bare, the bytes are handshake messages (tls_handshake_feed). */
static void feed_pieces(struct tls_session *s, enum tls_dir d, const uint8_t *p, size_t n,
                        struct splitter *sp, int bare)
{
	while (n > 0 && s->decision == TLS_UNDECIDED) {
		size_t k = next_piece(sp, n);
		int rc = bare ? hs_feed_copy(s, d, p, k) : feed_copy(s, d, p, k);

		if (rc != TLS_MORE && rc != TLS_DECIDED)
			abort();
		if ((rc == TLS_DECIDED) != (s->decision != TLS_UNDECIDED))
			abort();
		p += k;
		n -= k;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t hs_max[4] = { CS_DEF_MAX_HS_MSG, 16384, 1024, 64 };
	static const size_t certs_max[4] = { CS_DEF_MAX_CERTS, 3, 1, 0 };
	static const size_t cert_size[4] = { CS_DEF_MAX_CERT_SIZE, 4096, 300, 16 };
	struct tls_session a, b, c;
	struct splitter sp, spc, sps;
	struct cs_limits lim;
	const uint8_t *cli, *srv;
	size_t clen, slen, ci = 0, si = 0;

	if (size < HDR_LEN)
		return 0;
	cs_limits_default(&lim);
	lim.max_hs_msg = hs_max[data[0] & 3];
	lim.max_certs = certs_max[data[0] >> 2 & 3];
	lim.max_cert_size = cert_size[data[0] >> 4 & 3];
	sp.state = data[1];
	sp.max = (size_t)data[2] + 1;
	clen = (size_t)data[3] << 8 | data[4];
	if (clen > size - HDR_LEN)
		clen = size - HDR_LEN;
	cli = data + HDR_LEN;
	srv = cli + clen;
	slen = size - HDR_LEN - clen;

	/* A: alternating pieces. */
	tls_session_init(&a, &lim);
	for (unsigned round = 0; (ci < clen || si < slen) && a.decision == TLS_UNDECIDED; round++) {
		if (ci < clen) {
			size_t k = next_piece(&sp, clen - ci);

			feed_copy(&a, TLS_CLIENT, cli + ci, k);
			ci += k;
		}
		if (si < slen && a.decision == TLS_UNDECIDED) {
			size_t k = next_piece(&sp, slen - si);

			feed_copy(&a, TLS_SERVER, srv + si, k);
			si += k;
		}
		if (round % 8 == 0)
			check_session(&a, &lim);
	}
	check_session(&a, &lim);
	if (tls_plausible_start(cli, clen) < -1 || tls_plausible_start(srv, slen) > 1)
		abort();

	/* B: whole streams. */
	tls_session_init(&b, &lim);
	if (clen)
		tls_feed(&b, TLS_CLIENT, cli, clen);
	if (slen && b.decision == TLS_UNDECIDED)
		tls_feed(&b, TLS_SERVER, srv, slen);
	check_session(&b, &lim);

	/* C: each stream in pieces, client first. */
	spc.state = sps.state = data[1];
	spc.max = sps.max = sp.max;
	tls_session_init(&c, &lim);
	feed_pieces(&c, TLS_CLIENT, cli, clen, &spc, 0);
	feed_pieces(&c, TLS_SERVER, srv, slen, &sps, 0);
	check_session(&c, &lim);
	compare(&b, &c);
	tls_session_free(&b);
	tls_session_free(&c);

	/* D: bare messages, whole streams; E: the same in pieces. */
	tls_session_init(&b, &lim);
	if (clen)
		hs_feed_copy(&b, TLS_CLIENT, cli, clen);
	if (slen && b.decision == TLS_UNDECIDED)
		hs_feed_copy(&b, TLS_SERVER, srv, slen);
	check_session(&b, &lim);
	spc.state = sps.state = data[1];
	tls_session_init(&c, &lim);
	feed_pieces(&c, TLS_CLIENT, cli, clen, &spc, 1);
	feed_pieces(&c, TLS_SERVER, srv, slen, &sps, 1);
	check_session(&c, &lim);
	compare(&b, &c);

	/* The analyser's view of the streams' starts. */
	for (unsigned flags = 0; flags < 4; flags++) {
		size_t skip = 99;
		int r = analyser_tls.probe(cli, clen, AN_CLIENT, flags, &skip);

		if (r < AN_PROBE_NO || r > AN_PROBE_YES || (r != AN_PROBE_NO && skip > clen) ||
		    /* found by search, not by the first byte: a hello record */
		    (r == AN_PROBE_YES && !(flags & AN_PROBE_FIRST) &&
		     analyser_tls.probe(cli + skip, clen - skip, AN_CLIENT, 0, &skip) != AN_PROBE_YES))
			abort();
		r = analyser_tls.probe(srv, slen, AN_SERVER, flags, &skip);
		if (r < AN_PROBE_NO || r > AN_PROBE_YES || (r != AN_PROBE_NO && skip > slen))
			abort();
	}
	if (analyser_tls.role(cli, clen) < -1 || analyser_tls.role(cli, clen) > AN_SERVER)
		abort();

	tls_session_free(&a);
	tls_session_free(&b);
	tls_session_free(&c);
	/* Freed sessions hold nothing. */
	if (a.certs || a.ja3 || a.ja3s || a.dir[0].msg || a.dir[1].msg)
		abort();
	return 0;
}
