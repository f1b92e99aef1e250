/*
 * fuzz_quiccrypto.c - libFuzzer target for QUIC CRYPTO stream reassembly
 * (quic_crypto_add in sensor/transport/quic/quic.c), against a model.
 *
 * Input:
 *   [0]    bits 0-1 gap window (256, 1024, 4096, 65536); bits 2-3 stream
 *          byte limit (2048, 8192, 32768, 131072); bit 4 a flow memcap of
 *          8 KiB; bit 5 every piece's bytes from a fixed function of the
 *          offset ("consistent"), else from the input
 *   then ops: [kind] [off_hi] [off_lo] [len]
 *          kind bits 0-1 the stream (direction, space); bit 2 the offset
 *          shifted left 4; bit 3 the length times 32; bit 4 the offset
 *          relative to the in-order point; bit 5 consume what is pending;
 *          bit 6 an offset near 2^62 (must be refused without wrapping);
 *          non-consistent data follows the op (len bytes, or what is left)
 *
 * The model: a byte map per stream of what was accepted and the first copy
 * of each byte.  After every op (abort() on a difference): the in-order
 * point is the first byte not accepted; the held pieces are exactly the
 * accepted runs above it, sorted and apart, at most CS_QUIC_CRYPTO_RANGES;
 * the bytes held are the first copies; the QUIC_DIFF flag is set exactly
 * when an accepted piece brought a byte that differed; consistent data
 * never differs; the memory charged is the streams' capacity, within the
 * caps, and back to 0 after quic_conn_free.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/cs_limits.h"
#include "core/stats.h"
#include "transport/quic.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MODEL_MAX (131072u + 1u)

struct model {
	uint8_t got[MODEL_MAX];     /* 1: accepted */
	uint8_t notgot[MODEL_MAX];  /* its complement, so that memchr finds both edges */
	uint8_t byte[MODEL_MAX];    /* the first copy */
	uint64_t hi;                /* above every accepted byte */
	int diff;
	int stopped;
};

static struct model models[4];

static uint8_t fixed(unsigned stream, uint64_t off)
{
	return (uint8_t)(off * 131u + (off >> 7) + stream * 17u);
}

/* The first position in [pos, hi) where map holds 0, or hi. */
static uint64_t find0(const uint8_t *map, uint64_t pos, uint64_t hi)
{
	const uint8_t *q = pos < hi ? memchr(map + pos, 0, (size_t)(hi - pos)) : NULL;

	return q ? (uint64_t)(q - map) : hi;
}

static void check(const struct quic_conn *c, const struct cs_limits *lim, int consistent)
{
	size_t caps = 0;

	for (unsigned st = 0; st < 4; st++) {
		const struct quic_crypto *s = quic_crypto_stream(c, (enum quic_dir)(st & 1),
		                                                 (enum quic_space)(st >> 1));
		const struct model *m = &models[st];
		uint64_t contig = find0(m->got, 0, m->hi), pos;
		unsigned k = 0;

		caps += s->cap;
		if (s->contig != contig || s->consumed > s->contig || s->contig > s->cap ||
		    s->contig > lim->quic_crypto_max)
			abort();
		if (s->n_held > CS_QUIC_CRYPTO_RANGES)
			abort();
		if (contig && memcmp(s->buf, m->byte, (size_t)contig) != 0)
			abort();
		/* The held pieces are exactly the accepted runs above contig,
		 * holding the first copies. */
		pos = contig;
		for (;;) {
			uint64_t lo = find0(m->notgot, pos, m->hi);

			if (lo >= m->hi)
				break;
			pos = find0(m->got, lo, m->hi);
			if (k >= s->n_held || s->held[k].lo != lo || s->held[k].hi != pos ||
			    s->held[k].hi > s->cap ||
			    memcmp(s->buf + lo, m->byte + lo, (size_t)(pos - lo)) != 0)
				abort();
			k++;
		}
		if (k != s->n_held)
			abort();
		if (!!(s->diff & QUIC_DIFF) != m->diff)
			abort();
		if (consistent && m->diff)
			abort();
		if ((s->state == QUIC_CRYPTO_STOPPED) != m->stopped)
			abort();
	}
	if (c->flow_bytes != caps || g_stats.mem_in_use != caps || caps > lim->flow_memcap)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t gaps[4] = { 256, 1024, 4096, 65536 };
	static const size_t maxes[4] = { 2048, 8192, 32768, 131072 };
	static uint8_t gen[8192];
	struct cs_limits lim;
	struct quic_conn c;
	size_t i = 1;
	int consistent;

	if (size < 1)
		return 0;
	memset(&g_stats, 0, sizeof g_stats);
	for (unsigned st = 0; st < 4; st++) {
		memset(models[st].got, 0, sizeof models[st].got);
		memset(models[st].notgot, 1, sizeof models[st].notgot);
		models[st].hi = 0;
		models[st].diff = 0;
		models[st].stopped = 0;
	}
	cs_limits_default(&lim);
	lim.quic_crypto_gap = gaps[data[0] & 3];
	lim.quic_crypto_max = maxes[(data[0] >> 2) & 3];
	if (data[0] & 0x10)
		lim.flow_memcap = 8192;
	consistent = !!(data[0] & 0x20);
	quic_conn_init(&c, &lim, NULL, NULL);
	while (size - i >= 4) {
		uint8_t kind = data[i];
		unsigned st = kind & 3u;
		enum quic_dir dir = (enum quic_dir)(st & 1);
		enum quic_space sp = (enum quic_space)(st >> 1);
		const struct quic_crypto *s = quic_crypto_stream(&c, dir, sp);
		struct model *m = &models[st];
		uint64_t off = (uint64_t)data[i + 1] << 8 | data[i + 2];
		size_t len = data[i + 3];
		const uint8_t *bytes;
		uint64_t caps_hit, before;
		long rc;

		i += 4;
		if (kind & 0x04)
			off <<= 4;
		if (kind & 0x08)
			len *= 32;
		if (kind & 0x10)
			off += s->contig;
		if (kind & 0x40) {
			/* Near the varint limit: refused without wrapping; a
			 * piece that still ends below 2^62 is past the byte limit
			 * and stops the stream. */
			uint64_t o = QUIC_VARINT_MAX - off;

			if (quic_crypto_add(&c, dir, sp, o, gen, len + 2) != -1)
				abort();
			if (len + 2 <= QUIC_VARINT_MAX - o)
				m->stopped = 1;
			check(&c, &lim, consistent);
			continue;
		}
		if (len > sizeof gen)
			len = sizeof gen;
		if (consistent) {
			for (size_t j = 0; j < len; j++)
				gen[j] = fixed(st, off + j);
			bytes = gen;
		} else {
			if (len > size - i)
				len = size - i;
			/* A copy in its own allocation, so an over-read is caught. */
			memcpy(gen, data + i, len);
			bytes = gen;
			i += len;
		}
		caps_hit = g_stats.reasm_flow_memcap + g_stats.reasm_total_memcap;
		before = s->contig;
		rc = quic_crypto_add(&c, dir, sp, off, bytes, len);
		/* The stream stops when a piece reaches past its byte limit or
		 * cannot be held within the memcaps; nothing else stops it. */
		if (rc < 0 && len > 0 && off + len > before &&
		    (off + len > lim.quic_crypto_max ||
		     g_stats.reasm_flow_memcap + g_stats.reasm_total_memcap != caps_hit))
			m->stopped = 1;
		if (rc >= 0 && len > 0) {
			if (off + len > lim.quic_crypto_max || m->stopped)
				abort();   /* accepted beyond quic_crypto_max, or after a stop */
			if (off + len > m->hi)
				m->hi = off + len;
			for (size_t j = 0; j < len; j++) {
				if (m->got[off + j]) {
					if (m->byte[off + j] != bytes[j])
						m->diff = 1;
				} else {
					m->got[off + j] = 1;
					m->notgot[off + j] = 0;
					m->byte[off + j] = bytes[j];
				}
			}
		}
		if (kind & 0x20) {
			const uint8_t *p;
			size_t n = quic_crypto_pending(&c, dir, sp, &p);

			if (n && (!p || p < s->buf || p + n > s->buf + s->cap))
				abort();
			quic_crypto_consume(&c, dir, sp, n);
		}
		check(&c, &lim, consistent);
	}
	quic_conn_free(&c);
	if (g_stats.mem_in_use != 0)
		abort();
	return 0;
}
