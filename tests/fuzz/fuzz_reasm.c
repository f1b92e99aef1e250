/*
 * fuzz_reasm.c - libFuzzer target for TCP reassembly (sensor/transport/tcp/reasm.c).
 *
 * Input: an 8-byte header, then segment operations on the two directions
 * of one flow (sharing one struct reasm_mem, as a flow does):
 *
 *   header  [0] limits: bits 0-2 max_ooo_segs - 1 (1..8), bits 3-6 flow
 *               memcap in 256-byte steps (256..4096), bit 7 a total memcap
 *               smaller than the flow memcap
 *           [1] bit 0/1: direction 0/1 started (else it stays idle and
 *               must ignore everything), bits 2-7 seed of the stream bytes
 *           [2..5] ISN of direction 0 (big-endian); direction 1 uses its
 *               bitwise complement
 *           [6..7] reserved
 *   op      [kind][off hi][off lo][len] then len data bytes (fewer if the
 *           input ends), where kind is
 *             bit 0    direction
 *             bits 1-2 0: seq = start + off, 1: seq = next_seq + off,
 *                      2: seq = next_seq - off, 3: control (see below)
 *             bit 3    "consistent": the bytes are f(stream offset), not
 *                      taken from the input
 *             bit 4    len *= 64, bytes generated (consistent or a fill)
 *             bit 5    off <<= 12
 *             bit 6    afterwards consume up to len pending bytes
 *             bit 7    a tentative copy (bad checksum): reasm_add_tentative
 *           control ops: bit 4 set: reasm_stop; bit 5 set: the receiver
 *           acknowledges next_seq + off (reasm_ack); else consume off bytes
 *
 * After every op the invariants are checked, abort() on a violation:
 * the pending view lies in the buffer; early segments are sorted, after
 * next_seq, at most max_ooo_segs; memory accounting matches the buffers
 * and stays under the caps; bytes already delivered never change; while a
 * direction is active its in-order length is exactly the contiguous
 * coverage of the segments given (none is dropped without stopping it);
 * when every segment of a direction was consistent its stream is f() and
 * no overlap is flagged as different.  Tentative copies: sorted, at or
 * after next_seq, at most max_ooo_segs, charged like early segments; the
 * in-order length lies between the valid segments' contiguous coverage
 * and that of valid and tentative ones together; and wherever a valid
 * copy of a byte had arrived before the byte was delivered, the byte is
 * the valid copy's (when every valid segment was consistent): a tentative
 * copy never wins over a valid one.  After reasm_free of both, the flow
 * holds 0 bytes and g_stats.mem_in_use is back to 0.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/cs_limits.h"
#include "transport/reasm.h"
#include "core/stats.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HDR_LEN   8
#define OP_LEN    4
#define BIG_MUL   64u
#define COVER_MAX 65536u   /* stream offsets tracked by the model */

struct model {
	uint32_t start;            /* sequence number of stream offset 0 */
	int started;
	int consistent;            /* every segment so far came from f() */
	int vconsistent;           /* every valid (non-tentative) one did */
	int tentative;             /* a tentative copy was given */
	uint8_t seed;
	uint8_t cover[COVER_MAX / 8];
	uint8_t tcover[COVER_MAX / 8]; /* valid or tentative */
	uint8_t seen[COVER_MAX];   /* copy of buf[0..seen_len) */
	size_t seen_len;
};

/* f(): the stream bytes of "consistent" segments, periodic in 2^16 (more
 * than any window the model tracks), from a table so that a segment is one
 * memcpy and a check one memcmp. */
#define TAB_LEN (2 * COVER_MAX + 255 * BIG_MUL)
static uint8_t tab[TAB_LEN];

static void tab_init(void)
{
	for (uint32_t i = 0; i < TAB_LEN; i++) {
		uint32_t x = (i & 0xffff) * 2654435761u;

		tab[i] = (uint8_t)(x >> 24 ^ x >> 11 ^ x);
	}
}

static const uint8_t *stream_at(uint8_t seed, uint32_t off)
{
	return tab + ((off + seed * 251u) & 0xffff);
}

static void mark(uint8_t *cover, int64_t from, int64_t to)
{
	if (from < 0)
		from = 0;
	if (to > (int64_t)COVER_MAX)
		to = COVER_MAX;
	for (; from < to && from % 8; from++)
		cover[from / 8] |= (uint8_t)(1u << (from % 8));
	for (; from < to && to % 8; to--)
		cover[(to - 1) / 8] |= (uint8_t)(1u << ((to - 1) % 8));
	if (from < to)
		memset(cover + from / 8, 0xff, (size_t)(to - from) / 8);
}

static int covered(const uint8_t *cover, size_t i)
{
	return (cover[i / 8] >> (i % 8)) & 1;
}

static size_t covered_prefix(const uint8_t *cover)
{
	size_t i = 0;

	while (i < COVER_MAX / 8 && cover[i] == 0xff)
		i++;
	i *= 8;
	while (i < COVER_MAX && covered(cover, i))
		i++;
	return i;
}

static size_t list_bytes(const struct reasm_seg *s)
{
	size_t n = 0;

	for (; s; s = s->next)
		n += sizeof(*s) + s->cap;
	return n;
}

static size_t ooo_bytes(const struct reasm_dir *d)
{
	return list_bytes(d->ooo) + list_bytes(d->tent);
}

/* Tentative copies: sorted, none before next_seq, within the limit. */
static void check_tent(const struct reasm_dir *d, const struct cs_limits *lim)
{
	const struct reasm_seg *prev = NULL;
	size_t n = 0;

	for (const struct reasm_seg *s = d->tent; s; s = s->next) {
		if (s->len == 0 || s->len > s->cap || seq_lt(s->seq, d->next_seq))
			abort();
		if (prev && !seq_leq(prev->seq, s->seq))
			abort();
		prev = s;
		n++;
	}
	if (n != d->n_tent || n > lim->max_ooo_segs)
		abort();
}

static void check_dir(const struct reasm_dir *d, struct model *md, const struct cs_limits *lim)
{
	const struct reasm_seg *prev = NULL;
	const uint8_t *p;
	size_t pending, n = 0;

	if (d->consumed > d->len || d->len > d->cap)
		abort();
	if ((d->buf == NULL) != (d->cap == 0))
		abort();
	pending = reasm_pending(d, &p);
	if (pending != d->len - d->consumed)
		abort();
	if (d->buf && (p < d->buf || p + pending > d->buf + d->len))
		abort();
	for (const struct reasm_seg *s = d->ooo; s; s = s->next) {
		if (s->len == 0 || !seq_lt(d->next_seq, s->seq))
			abort();
		if (prev && !seq_leq(prev->seq, s->seq))
			abort();
		prev = s;
		n++;
	}
	if (n != d->n_ooo || n > lim->max_ooo_segs)
		abort();
	check_tent(d, lim);
	if ((uint32_t)(d->next_seq - d->base_seq) != d->len && d->state == REASM_ACTIVE)
		abort();

	switch (d->state) {
	case REASM_IDLE:
		if (md->started || d->buf || d->len || d->n_ooo || d->n_tent)
			abort();
		break;
	case REASM_STOPPED:
		if (d->buf || d->len || d->cap || d->consumed || d->n_ooo || d->ooo || d->tent)
			abort();
		break;
	case REASM_ACTIVE:
		if (!md->started || d->base_seq != md->start || d->len > COVER_MAX)
			abort();
		/* Nothing delivered is ever replaced: the first copy wins. */
		if (md->seen_len > d->len ||
		    (md->seen_len && memcmp(md->seen, d->buf, md->seen_len) != 0))
			abort();
		/* No segment is lost while the direction is active; tentative
		 * bytes fill holes only. */
		if (!md->tentative ? d->len != covered_prefix(md->cover) :
		    d->len < covered_prefix(md->cover) || d->len > covered_prefix(md->tcover))
			abort();
		/* A byte a valid copy had brought is the valid copy's. */
		if (md->vconsistent && md->tentative)
			for (size_t i = md->seen_len; i < d->len; i++)
				if (covered(md->cover, i) && d->buf[i] != *stream_at(md->seed, (uint32_t)i))
					abort();
		if (md->consistent) {
			if (d->overlap_diff)
				abort();
			if (d->len > md->seen_len &&
			    memcmp(d->buf + md->seen_len, stream_at(md->seed, (uint32_t)md->seen_len),
			           d->len - md->seen_len) != 0)
				abort();
		}
		if (d->len > md->seen_len)
			memcpy(md->seen + md->seen_len, d->buf + md->seen_len, d->len - md->seen_len);
		md->seen_len = d->len;
		break;
	default:
		abort();
	}
}

static void check_all(const struct reasm_dir d[2], struct model md[2], const struct reasm_mem *m)
{
	const struct cs_limits *lim = m->lim;
	size_t total = 0;

	for (int i = 0; i < 2; i++) {
		check_dir(&d[i], &md[i], lim);
		total += d[i].cap + ooo_bytes(&d[i]);
	}
	if (m->flow_bytes != total || m->flow_bytes > lim->flow_memcap)
		abort();
	/* This flow is the only user of the global gauge. */
	if (g_stats.mem_in_use != m->flow_bytes || g_stats.mem_in_use > lim->total_memcap)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t gen[255 * BIG_MUL];
	static struct model md[2];
	struct cs_limits lim;
	struct reasm_mem mem;
	struct reasm_dir d[2];
	uint32_t isn;
	size_t pos = HDR_LEN;

	if (size < HDR_LEN)
		return 0;
	if (!tab[1])
		tab_init();
	if (g_stats.mem_in_use != 0)
		abort();
	cs_limits_default(&lim);
	lim.max_ooo_segs = (size_t)(data[0] & 7) + 1;
	lim.flow_memcap = ((size_t)(data[0] >> 3 & 15) + 1) * 256;
	if (data[0] & 0x80)
		lim.total_memcap = lim.flow_memcap / 2;
	mem.lim = &lim;
	mem.flow_bytes = 0;
	isn = (uint32_t)data[2] << 24 | (uint32_t)data[3] << 16 | (uint32_t)data[4] << 8 | data[5];

	for (int i = 0; i < 2; i++) {
		/* md[i].seen is only read up to seen_len: no need to clear it. */
		memset(md[i].cover, 0, sizeof md[i].cover);
		md[i].seen_len = 0;
		md[i].started = 0;
		md[i].consistent = 1;
		md[i].vconsistent = 1;
		md[i].tentative = 0;
		memset(md[i].tcover, 0, sizeof md[i].tcover);
		md[i].seed = (uint8_t)((data[1] >> 2) + 97 * i);
		md[i].start = i ? ~isn : isn;
		reasm_init(&d[i]);
		if (data[1] & (1u << i)) {
			reasm_start(&d[i], md[i].start);
			md[i].started = 1;
		}
	}
	check_all(d, md, &mem);

	while (size - pos >= OP_LEN) {
		uint8_t kind = data[pos];
		uint32_t off = (uint32_t)data[pos + 1] << 8 | data[pos + 2];
		size_t len = data[pos + 3];
		int dir = kind & 1, base = kind >> 1 & 3;
		struct reasm_dir *rd = &d[dir];
		struct model *mdl = &md[dir];
		const uint8_t *bytes;
		uint32_t seq;
		enum reasm_result rr;
		const uint8_t *p;

		pos += OP_LEN;
		if (base == 3) {
			if (kind & 0x10) {
				reasm_stop(rd, &mem);
			} else if (kind & 0x20) {
				long got = reasm_ack(rd, &mem, rd->next_seq + off);

				if (got < 0 && rd->state != REASM_STOPPED)
					abort();
				if (got > 0 && got > (long)off)
					abort();
			} else {
				size_t n = reasm_pending(rd, &p);

				reasm_consume(rd, off < n ? off : n);
			}
			check_all(d, md, &mem);
			continue;
		}
		if (kind & 0x20)
			off <<= 12;
		seq = base == 0 ? mdl->start + off :
		      base == 1 ? rd->next_seq + off : rd->next_seq - off;
		if (kind & 0x10)
			len *= BIG_MUL;
		if (kind & 0x08) {
			bytes = stream_at(mdl->seed, seq - mdl->start);
		} else if (kind & 0x10) {
			memset(gen, (int)(off & 0xff), len);
			bytes = gen;
		} else {
			if (len > size - pos)
				len = size - pos;
			bytes = data + pos;
			pos += len;
		}
		if (!(kind & 0x08))
			mdl->consistent = 0;
		if (kind & 0x80) {
			int64_t rel = (int64_t)(int32_t)(seq - mdl->start);

			mdl->tentative = 1;
			reasm_add_tentative(rd, &mem, seq, bytes, len);
			if (rd->state == REASM_ACTIVE && len > 0)
				mark(mdl->tcover, rel, rel + (int64_t)len);
			check_all(d, md, &mem);
			continue;
		}
		if (!(kind & 0x08))
			mdl->vconsistent = 0;

		rr = reasm_add(rd, &mem, seq, bytes, len);
		if (rr != REASM_OK && rr != REASM_LIMIT)
			abort();
		if (rr == REASM_LIMIT && rd->state != REASM_STOPPED)
			abort();
		if (rd->state == REASM_ACTIVE && len > 0) {
			int64_t rel = (int64_t)(int32_t)(seq - mdl->start);

			mark(mdl->cover, rel, rel + (int64_t)len);
			mark(mdl->tcover, rel, rel + (int64_t)len);
		}
		if (kind & 0x40) {
			size_t n = reasm_pending(rd, &p);

			reasm_consume(rd, len < n ? len : n);
		}
		check_all(d, md, &mem);
	}

	reasm_free(&d[0], &mem);
	reasm_free(&d[1], &mem);
	if (mem.flow_bytes != 0 || g_stats.mem_in_use != 0)
		abort();
	if (d[0].buf || d[1].buf || d[0].ooo || d[1].ooo || d[0].tent || d[1].tent)
		abort();
	return 0;
}
