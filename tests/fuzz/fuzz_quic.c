/*
 * fuzz_quic.c - libFuzzer target for the QUIC packet path
 * (sensor/transport/quic/quic.c: headers, header protection, packet
 * numbers, frames, CRYPTO placement, Retry, Version Negotiation).
 *
 * A fuzzer cannot forge an AEAD tag, so the harness seals what it is
 * given with fixed keys (the Initial keys of a fixed DCID, a fixed
 * handshake secret) and applies header protection (tests/fuzz/quicbuild.h):
 * the input describes packets, and the frame parser behind the decryption
 * is what gets explored.  Raw records put bytes on the wire unprotected
 * (forged packets, Retry, Version Negotiation, short headers, garbage).
 *
 * Input:
 *   [0]    bits 0: version 2 (else 1); 1-2 the handshake suite (0x1301,
 *          0x1302, 0x1303, 0x1301); 3: handshake keys installed by the
 *          callback when the server's Initial bytes arrive (else at the
 *          start); 4-5 limits (default; gap 512 / max 4096; gap 64 /
 *          max 1024; flow memcap 8 KiB); 6: CRYPTO data of built packets
 *          generated from (op, offset) ("consistent"; raw records are
 *          then left out)
 *   then records: [kind] [pn] [len_hi] [len_lo] + len bytes (the last
 *          record takes what is left)
 *     kind bits 0-1: 0 raw bytes, 1 Initial, 2 Handshake, 3 0-RTT;
 *          2-3: packet number length - 1; 4: the client's DCID is the
 *          server's CID (as after the server's first Initial); 6: the
 *          datagram ends after this record; 7: sent by the server
 *     built packets: the bytes are frames, or in consistent mode triples
 *          [off_hi][off_lo][len] that become CRYPTO frames of generated
 *          bytes
 *
 * Checks (abort() on a violation), after every datagram: as many packet
 * results as packets read, never more than CS_QUIC_MAX_COALESCED; every
 * stream within its limits (held pieces sorted, apart, above the in-order
 * point, inside the buffer; in-order point within quic_crypto_max;
 * consumed within it); memory charged equals the buffers and stays within
 * the flow memcap; in consistent mode no copy differs and the in-order
 * bytes are the generated ones; the connection's first packet, when it
 * is a built client Initial to the fixed DCID at the start of its
 * datagram and has a payload (a 4-byte packet number and no frames
 * leave none, which is malformed), opens with its exact packet number
 * (the Initial keys anyone derives are the builder's); after quic_conn_free nothing is charged.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/cs_limits.h"
#include "core/stats.h"
#include "secrets/quic_keys.h"
#include "transport/quic.h"
#include "quicbuild.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define DGRAM_MAX 4096u

static const uint8_t client_dcid[8] = { 0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08 };
static const uint8_t server_cid[5] = { 0x5e, 0x71, 0x0c, 0x1d, 0x99 };
static const uint8_t client_cid[3] = { 0xc1, 0x1e, 0x77 };

static const uint8_t hs_secret[48] = {
	0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x10, 0x32, 0x54, 0x76,
	0x98, 0xba, 0xdc, 0xfe, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
	0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x00, 0x0f, 0x1e, 0x2d, 0x3c,
	0x4b, 0x5a, 0x69, 0x78, 0x87, 0x96, 0xa5, 0xb4, 0xc3, 0xd2, 0xe1, 0xf0,
};

static const uint16_t suites[4] = { 0x1301, 0x1302, 0x1303, 0x1301 };
static const size_t secret_lens[4] = { 32, 48, 32, 32 };

struct harness {
	uint16_t suite;
	size_t secret_len;
	int install_late;
};

static uint8_t gen_byte(unsigned stream, uint64_t off)
{
	return (uint8_t)(off * 197u + (off >> 9) + stream * 29u);
}

static void on_crypto(void *arg, struct quic_conn *c, enum quic_dir dir, enum quic_space sp)
{
	struct harness *h = arg;
	const uint8_t *p;
	size_t n = quic_crypto_pending(c, dir, sp, &p);

	/* Reading what is pending must stay inside the stream. */
	if (n && (!p || p < c->crypto[sp][dir].buf ||
	          p + n > c->crypto[sp][dir].buf + c->crypto[sp][dir].cap))
		abort();
	quic_crypto_consume(c, dir, sp, n / 2);
	if (h->install_late && dir == QUIC_DIR_SERVER && sp == QUIC_SPACE_INITIAL &&
	    quic_conn_set_keys(c, QUIC_SPACE_HANDSHAKE, QUIC_DIR_SERVER, h->suite, hs_secret,
	                       h->secret_len) < 0)
		abort();
}

static void check(const struct quic_conn *c, const struct cs_limits *lim, int consistent)
{
	size_t caps = 0;

	for (unsigned sp = 0; sp < QUIC_SPACE_N; sp++)
		for (unsigned d = 0; d < QUIC_DIR_N; d++) {
			const struct quic_crypto *s = &c->crypto[sp][d];
			uint64_t prev = s->contig;

			caps += s->cap;
			if (s->consumed > s->contig || s->contig > s->cap ||
			    s->contig > lim->quic_crypto_max || s->n_held > CS_QUIC_CRYPTO_RANGES)
				abort();
			for (unsigned k = 0; k < s->n_held; k++) {
				/* Apart: a piece starts after a byte not held. */
				if (s->held[k].lo <= prev || s->held[k].hi <= s->held[k].lo ||
				    s->held[k].hi > s->cap)
					abort();
				prev = s->held[k].hi;
			}
			if (consistent) {
				if (s->diff)
					abort();
				for (uint64_t o = 0; o < s->contig; o++)
					if (s->buf[o] != gen_byte(sp * 2 + d, o))
						abort();
			}
		}
	if (c->flow_bytes != caps || g_stats.mem_in_use != caps || caps > lim->flow_memcap)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t dgram[DGRAM_MAX], frames[DGRAM_MAX];
	/* The sender's keys, made once (an input costs no key schedule):
	 * Initial keys of both versions (the connection may see either after
	 * negotiation) and handshake keys per version and suite.  Held for
	 * the process's life. */
	static struct quic_keys ini[2][2], hks[2][4];
	static int keys_made;
	struct quic_keys *hkp;
	struct quic_dgram_result res;
	struct harness h;
	struct cs_limits lim;
	struct quic_conn c;
	size_t i = 1, dlen = 0;
	int first_ci = 0;          /* the datagram starts with a built client Initial to client_dcid */
	uint64_t first_pn = 0;
	uint32_t version;
	int consistent, dir = -1;

	if (size < 1)
		return 0;
	memset(&g_stats, 0, sizeof g_stats);
	version = (data[0] & 1) ? QUIC_V2 : QUIC_V1;
	h.suite = suites[(data[0] >> 1) & 3];
	h.secret_len = secret_lens[(data[0] >> 1) & 3];
	h.install_late = !!(data[0] & 0x08);
	consistent = !!(data[0] & 0x40);
	cs_limits_default(&lim);
	switch ((data[0] >> 4) & 3) {
	case 1: lim.quic_crypto_gap = 512; lim.quic_crypto_max = 4096; break;
	case 2: lim.quic_crypto_gap = 64; lim.quic_crypto_max = 1024; break;
	case 3: lim.flow_memcap = 8192; break;
	default: break;
	}
	if (!keys_made) {
		for (int v = 0; v < 2; v++) {
			if (quic_keys_initial(&ini[v][0], &ini[v][1], v ? QUIC_V2 : QUIC_V1,
			                      client_dcid, sizeof client_dcid) < 0)
				abort();
			for (int su = 0; su < 4; su++)
				if (quic_keys_init(&hks[v][su], v ? QUIC_V2 : QUIC_V1, suites[su],
				                   hs_secret, secret_lens[su]) < 0)
					abort();
		}
		keys_made = 1;
	}
	hkp = &hks[version == QUIC_V2][(data[0] >> 1) & 3];
	quic_conn_init(&c, &lim, on_crypto, &h);
	if (!h.install_late &&
	    quic_conn_set_keys(&c, QUIC_SPACE_HANDSHAKE, QUIC_DIR_SERVER, h.suite, hs_secret,
	                       h.secret_len) < 0)
		abort();

	while (i < size) {
		uint8_t kind = data[i];
		int rdir = kind >> 7, end_dgram;
		unsigned type = kind & 3u, pn_len = ((kind >> 2) & 3u) + 1;
		uint64_t pn;
		size_t len, fl = 0, n = 0;
		const uint8_t *rec;

		if (size - i < 4) {
			len = 0;
			pn = 0;
			i = size;
			rec = data + size;
		} else {
			pn = data[i + 1];
			len = (size_t)data[i + 2] << 8 | data[i + 3];
			i += 4;
			if (len > size - i)
				len = size - i;
			rec = data + i;
			i += len;
		}
		end_dgram = (kind & 0x40) || i >= size;
		/* A datagram has one sender: a record of the other one starts a
		 * new datagram. */
		if (dir >= 0 && rdir != dir && dlen > 0) {
			quic_datagram(&c, (enum quic_dir)dir, dgram, dlen, &res);
			check(&c, &lim, consistent);
			dlen = 0;
			first_ci = 0;
		}
		dir = rdir;
		if (type == 0) {
			/* In consistent mode raw bytes stay off the wire: a real
			 * packet among them (the RFC 9001 client Initial uses the
			 * same DCID) would bring CRYPTO bytes of its own. */
			n = len < DGRAM_MAX - dlen ? len : DGRAM_MAX - dlen;
			if (consistent)
				n = 0;
			memcpy(dgram + dlen, rec, n);
		} else {
			struct quic_keys *k;
			const uint8_t *dc, *sc;
			size_t dl, sl;

			if (consistent) {
				/* Triples become CRYPTO frames of generated bytes. */
				unsigned sp = type == 2 ? 1u : 0u;

				for (size_t t = 0; t + 3 <= len; t += 3) {
					uint64_t off = (uint64_t)rec[t] << 8 | rec[t + 1];
					size_t clen = rec[t + 2];
					uint8_t tmp[256];

					for (size_t j = 0; j < clen; j++)
						tmp[j] = gen_byte(sp * 2 + (unsigned)rdir, off + j);
					n = qb_crypto(frames + fl, sizeof frames - fl, off, tmp, clen);
					if (!n)
						break;
					fl += n;
				}
			} else {
				fl = len < sizeof frames ? len : sizeof frames;
				memcpy(frames, rec, fl);
			}
			k = type == 2 ? hkp : &ini[version == QUIC_V2][rdir];
			if (rdir) {
				dc = client_cid;
				dl = sizeof client_cid;
				sc = server_cid;
				sl = sizeof server_cid;
			} else {
				dc = (kind & 0x10) ? server_cid : client_dcid;
				dl = (kind & 0x10) ? sizeof server_cid : sizeof client_dcid;
				sc = client_cid;
				sl = sizeof client_cid;
			}
			n = qb_long(dgram + dlen, DGRAM_MAX - dlen, k, version,
			            type == 3 ? 1u : type == 2 ? 2u : 0u, dc, dl, sc, sl, pn, pn_len,
			            frames, fl);
			/* With a 4-byte packet number and no frames the payload is
			 * empty, which RFC 9000 §12.4 forbids: that one must not open. */
			if (n && dlen == 0 && type == 1 && !rdir && !(kind & 0x10) && !c.have_dcid &&
			    (fl > 0 || pn_len < 4)) {
				first_ci = 1;
				first_pn = pn;
			}
		}
		dlen += n;
		if (end_dgram && dlen > 0) {
			int got = quic_datagram(&c, (enum quic_dir)dir, dgram, dlen, &res);

			if (got < 0 || (unsigned)got != res.n_pkts || res.n_pkts > CS_QUIC_MAX_COALESCED)
				abort();
			for (unsigned p = 0; p < res.n_pkts; p++)
				if (res.pkts[p].len == 0 || res.pkts[p].len > dlen)
					abort();
			if (first_ci && (res.n_pkts < 1 || res.pkts[0].opened != 1 ||
			                 res.pkts[0].pn != first_pn))
				abort();
			check(&c, &lim, consistent);
			dlen = 0;
			first_ci = 0;
		}
	}
	quic_conn_free(&c);
	if (g_stats.mem_in_use != 0)
		abort();
	return 0;
}
