/*
 * pcapng.c - certsentry's own pcapng block reader (part of the capture
 * module: include/capture/capture.h; what it shares with capture.c and mapped.c
 * is sensor/capture/capture_int.h).
 *
 * A pcapng input -- a file, a pipe or standard input alike -- is read
 * here, not by libpcap: libpcap skips Decryption Secrets Blocks (the TLS
 * key logs editcap embeds), and a scan for them ahead of the packets can
 * neither read a pipe nor keep what it found when the file is damaged
 * further on.  The reader hands each DSB's secrets over in stream order,
 * as the pcapng draft means them (a DSB precedes the packets it opens),
 * and stops at the first damaged block with its byte offset, after
 * returning every packet before it.  What libpcap does with a pcapng
 * file it does too: SHB in either byte order, version 1, IDB link type,
 * snaplen, if_tsresol and if_tsoffset, EPB, SPB and the obsolete Packet
 * Block, other blocks skipped, a packet block before any IDB or an IDB of
 * another link type than the first refused.
 *
 * The stream is hostile: every length is checked before it is used,
 * through include/core/buf.h, a block is read into memory only as its bytes
 * arrive (PCAPNG_GROW), and one longer than CS_PCAPNG_MAX_BLOCK is
 * damage, counted.
 *
 * Must not: include pcap.h (capture.c is libpcap's one file), open a
 * path or choose a reader (capture.c), decode a frame (decode.c) or know
 * about flows.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "capture_int.h"
#include "core/cs_limits.h"
#include "core/stats.h"

/* draft-ietf-opsawg-pcapng §4 (blocks), §4.1 (SHB), §4.2 (IDB), §4.3
 * (EPB), §4.4 (SPB), §4.7 (DSB), Appendix A (the obsolete Packet Block). */
#define PCAPNG_SHB          0x0A0D0D0Au
#define PCAPNG_IDB          0x00000001u
#define PCAPNG_PB           0x00000002u
#define PCAPNG_SPB          0x00000003u
#define PCAPNG_EPB          0x00000006u
#define PCAPNG_DSB          0x0000000Au
#define PCAPNG_BOM          0x1A2B3C4Du
#define PCAPNG_TLS_KEYLOG   0x544c534bu   /* "TLSK" */
#define PCAPNG_BLOCK_MIN    12u           /* type, two lengths */
#define PCAPNG_SHB_MIN      28u           /* ... BOM, version, section length */
#define PCAPNG_OPT_TSRESOL  9u
#define PCAPNG_OPT_TSOFFSET 14u
/* Bytes read from the stream at a time into a block whose length says
 * more: a damaged length does not allocate 16 MB for a file of 100 bytes. */
#define PCAPNG_GROW         (64u * 1024u)

struct pcapng_if {
	int dlt;              /* the DLT_ value (for the first interface: c->dlt) */
	uint32_t snaplen;     /* 1..CAPTURE_MAX_SNAPLEN */
	int pow2;             /* if_tsresol: a power of 2 (else of 10) */
	uint8_t exp;          /* ... its exponent */
	int64_t offset;       /* if_tsoffset, seconds */
};

/* The reader's state (c->ng; see the top of the file). */
struct pcapng {
	FILE *f;              /* owned */
	uint64_t off;         /* bytes of the stream consumed: the next block's offset */
	int be;               /* the section's byte order */
	uint8_t *blk;         /* owned: the current block (frames point into it) */
	size_t cap;
	struct pcapng_if *ifs;   /* owned: this section's interfaces */
	size_t n_ifs;
	int have_dlt;         /* an IDB was read: c->dlt is the file's link type */
};

static int ng_fail(struct capture *c, uint64_t at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Damage: said once, with the block's offset; the reader stays at -1. */
static int ng_fail(struct capture *c, uint64_t at, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(c->err, sizeof(c->err), "pcapng block at byte %llu: ",
	                 (unsigned long long)at);

	va_start(ap, fmt);
	if (n > 0 && (size_t)n < sizeof(c->err))
		vsnprintf(c->err + n, sizeof(c->err) - (size_t)n, fmt, ap);
	va_end(ap);
	c->failed = 1;
	return -1;
}

/* Exactly n bytes of the stream into c->ng->blk at off, growing the
 * buffer as bytes arrive.  0, or -1 with *got the bytes there were. */
static int ng_read(struct pcapng *ng, size_t off, size_t n, size_t *got)
{
	size_t done = 0;

	while (done < n) {
		size_t want = n - done, r;

		if (want > PCAPNG_GROW)
			want = PCAPNG_GROW;
		if (off + done + want > ng->cap) {
			size_t cap = ng->cap ? ng->cap : PCAPNG_GROW;
			uint8_t *b;

			while (cap < off + done + want)
				cap *= 2;
			b = realloc(ng->blk, cap);   /* owned by ng; ng_free */
			if (!b)
				break;
			ng->blk = b;
			ng->cap = cap;
		}
		r = fread(ng->blk + off + done, 1, want, ng->f);
		done += r;
		if (r < want)
			break;
	}
	*got = done;
	ng->off += done;
	return done == n ? 0 : -1;
}

static void ng_free(struct pcapng *ng)
{
	if (!ng)
		return;
	if (ng->f)
		fclose(ng->f);
	free(ng->blk);
	free(ng->ifs);
	free(ng);
}

/* The DLT_ value of a LINKTYPE_ value (libpcap's linktype_to_dlt for the
 * link types decode.c reads; the others are equal below 104, or unread). */
static int ng_dlt(uint16_t linktype)
{
	int dlt = capture_linktype_dlt(linktype, 0);

	return dlt >= 0 ? dlt : linktype;
}

/* The options of an IDB: if_tsresol and if_tsoffset. */
static int ng_if_options(struct capture *c, struct buf *b, struct pcapng_if *ifc, uint64_t at)
{
	const int be = c->ng->be;

	while (buf_left(b) >= 4) {
		uint16_t code, len;
		const uint8_t *v;
		struct buf vb;

		if (rd16(b, be, &code) < 0 || rd16(b, be, &len) < 0)
			break;
		if (code == 0)
			return 0;   /* opt_endofopt */
		if (buf_bytes(b, len, &v) < 0 || buf_skip(b, (4u - (len & 3u)) & 3u) < 0)
			return ng_fail(c, at, "Interface Description Block option %u longer than the "
			               "block", code);
		buf_init(&vb, v, len);
		if (code == PCAPNG_OPT_TSRESOL) {
			uint8_t r;

			if (len != 1 || buf_u8(&vb, &r) < 0)
				return ng_fail(c, at, "if_tsresol of %u bytes", len);
			ifc->pow2 = (r & 0x80) != 0;
			ifc->exp = r & 0x7f;
			/* libpcap refuses what a 64-bit count cannot hold. */
			if ((ifc->pow2 && ifc->exp > 63) || (!ifc->pow2 && ifc->exp > 19))
				return ng_fail(c, at, "if_tsresol %u out of range", r);
		} else if (code == PCAPNG_OPT_TSOFFSET) {
			uint32_t hi, lo;

			if (len != 8 || rd32(&vb, be, &hi) < 0 || rd32(&vb, be, &lo) < 0)
				return ng_fail(c, at, "if_tsoffset of %u bytes", len);
			ifc->offset = (int64_t)((uint64_t)hi << 32 | lo);
		}
	}
	return 0;
}

static int ng_idb(struct capture *c, struct buf *b, uint64_t at)
{
	struct pcapng *ng = c->ng;
	struct pcapng_if ifc = { 0, 0, 0, 6, 0 };
	uint16_t linktype, reserved;
	uint32_t snaplen;

	if (rd16(b, ng->be, &linktype) < 0 || rd16(b, ng->be, &reserved) < 0 ||
	    rd32(b, ng->be, &snaplen) < 0)
		return ng_fail(c, at, "Interface Description Block too short");
	if (ng_if_options(c, b, &ifc, at) < 0)
		return -1;
	ifc.dlt = ng_dlt(linktype);
	/* libpcap takes a snaplen of 0 or beyond its maximum as the maximum. */
	ifc.snaplen = snaplen == 0 || snaplen > CAPTURE_MAX_SNAPLEN ? CAPTURE_MAX_SNAPLEN : snaplen;
	if (ng->have_dlt && ifc.dlt != c->dlt)
		return ng_fail(c, at, "an interface has link type %u, the first had another "
		               "(one link type a file)", linktype);
	if (ng->n_ifs >= CS_PCAPNG_MAX_IFACES) {
		g_stats.capture_block_limit++;
		return ng_fail(c, at, "more than %u interfaces in a section", CS_PCAPNG_MAX_IFACES);
	}
	if (!ng->ifs) {
		ng->ifs = calloc(CS_PCAPNG_MAX_IFACES, sizeof(*ng->ifs));   /* owned by ng */
		if (!ng->ifs)
			return ng_fail(c, at, "out of memory");
	}
	ng->ifs[ng->n_ifs++] = ifc;
	if (!ng->have_dlt) {
		c->dlt = ifc.dlt;
		c->snaplen = ifc.snaplen;
		ng->have_dlt = 1;
	}
	return 0;
}

/* A packet's time in microseconds: units of the interface's resolution,
 * cut down as libpcap's nanoseconds are cut by capture_next. */
static uint64_t ng_time(const struct pcapng_if *ifc, uint64_t t)
{
	uint64_t units = 1, sec, frac, us;

	if (ifc->pow2) {
		sec = ifc->exp >= 64 ? 0 : t >> ifc->exp;
		frac = t - (sec << ifc->exp);
		us = (uint64_t)(((unsigned __int128)frac * 1000000u) >> ifc->exp);
	} else {
		for (unsigned i = 0; i < ifc->exp; i++)
			units *= 10;
		sec = t / units;
		frac = t % units;
		us = units >= 1000000u ? frac / (units / 1000000u) : frac * (1000000u / units);
	}
	return (sec + (uint64_t)ifc->offset) * 1000000u + us;
}

/* The SHB starting a section: its byte order, its version. */
static int ng_shb(struct capture *c, uint64_t at)
{
	struct pcapng *ng = c->ng;
	struct buf b;
	uint16_t major, minor;

	/* After the type, the length and the byte-order magic. */
	buf_init(&b, ng->blk + 12, 4);
	if (rd16(&b, ng->be, &major) < 0 || rd16(&b, ng->be, &minor) < 0)
		abort();   /* a bug: the block is at least PCAPNG_SHB_MIN bytes */
	if (major != 1)
		return ng_fail(c, at, "unsupported pcapng version %u.%u", major, minor);
	/* A new section: interfaces are numbered anew. */
	ng->n_ifs = 0;
	return 0;
}

/* The next block into ng->blk: 1 (*type, its *len bytes), 0 at the end
 * of the stream between blocks, -1 on damage. */
static int ng_block(struct capture *c, uint32_t *type, uint32_t *len, uint64_t *at)
{
	struct pcapng *ng = c->ng;
	uint32_t total, trailer, bom;
	size_t got;
	struct buf b;

	*at = ng->off;
	if (ng_read(ng, 0, 8, &got) < 0) {
		if (got == 0 && !ferror(ng->f))
			return 0;
		if (ferror(ng->f))
			return ng_fail(c, *at, "read error: %s", strerror(errno));
		return ng_fail(c, *at, "cut short: 8 header bytes wanted, %zu left", got);
	}
	buf_init(&b, ng->blk, 8);
	(void)rd32(&b, ng->be, type);
	/* The SHB's type reads the same in either byte order; the section's
	 * order is in its magic, which follows the length. */
	if (*type == PCAPNG_SHB) {
		if (ng_read(ng, 8, 4, &got) < 0)
			return ng_fail(c, *at, "cut short in a Section Header Block");
		buf_init(&b, ng->blk + 8, 4);
		(void)buf_be32(&b, &bom);
		if (bom == PCAPNG_BOM)
			ng->be = 1;
		else if (bom == 0x4D3C2B1Au)
			ng->be = 0;
		else
			return ng_fail(c, *at, "bad byte-order magic 0x%08x", bom);
	}
	buf_init(&b, ng->blk + 4, 4);
	(void)rd32(&b, ng->be, &total);
	if (total < PCAPNG_BLOCK_MIN || total % 4 != 0 ||
	    (*type == PCAPNG_SHB && total < PCAPNG_SHB_MIN))
		return ng_fail(c, *at, "bad block length %u", total);
	if (total > CS_PCAPNG_MAX_BLOCK) {
		g_stats.capture_block_limit++;
		return ng_fail(c, *at, "block length %u over the limit of %u bytes", total,
		               CS_PCAPNG_MAX_BLOCK);
	}
	{
		size_t have = *type == PCAPNG_SHB ? 12 : 8;

		if (ng_read(ng, have, total - have, &got) < 0) {
			if (ferror(ng->f))
				return ng_fail(c, *at, "read error: %s", strerror(errno));
			return ng_fail(c, *at, "cut short: block of %u bytes, %zu there", total,
			               have + got);
		}
	}
	buf_init(&b, ng->blk + total - 4, 4);
	(void)rd32(&b, ng->be, &trailer);
	if (trailer != total)
		return ng_fail(c, *at, "block length %u at its start, %u at its end", total,
		               trailer);
	*len = total;
	if (*type == PCAPNG_SHB)
		return ng_shb(c, *at) < 0 ? -1 : 1;
	return 1;
}

/* A DSB: its TLS key log to the caller. */
static int ng_dsb(struct capture *c, struct buf *b, uint64_t at)
{
	uint32_t stype, slen;
	const uint8_t *sec;

	if (rd32(b, c->ng->be, &stype) < 0 || rd32(b, c->ng->be, &slen) < 0 ||
	    buf_bytes(b, slen, &sec) < 0)
		return ng_fail(c, at, "malformed Decryption Secrets Block");
	/* SSH, WireGuard, ZigBee... secrets: not ours. */
	if (stype == PCAPNG_TLS_KEYLOG && c->secrets)
		c->secrets(c->secrets_ctx, sec, slen);
	return 0;
}

/* Blocks up to the next packet: 1 and the frame (a view into the block,
 * valid until the next call), 0 at the end, -1 on damage.  first: the
 * open, which stops at the first IDB instead. */
static int ng_next(struct capture *c, const uint8_t **frame, size_t *caplen, uint32_t *wirelen,
                   uint64_t *ts_us, int first)
{
	struct pcapng *ng = c->ng;

	if (c->failed)
		return -1;
	for (;;) {
		uint32_t type = 0, len = 0, ifid = 0, hi = 0, lo = 0, cap, wire;
		uint16_t id16, drops;
		uint64_t at;
		struct buf b;
		const struct pcapng_if *ifc;
		const uint8_t *data;
		int rc;

		if (c->broken)
			return 0;
		rc = ng_block(c, &type, &len, &at);
		if (rc <= 0)
			return rc;
		buf_init(&b, ng->blk + 8, len - PCAPNG_BLOCK_MIN);
		switch (type) {
		case PCAPNG_SHB:
			continue;
		case PCAPNG_IDB:
			if (ng_idb(c, &b, at) < 0)
				return -1;
			if (first)
				return 1;
			continue;
		case PCAPNG_DSB:
			if (ng_dsb(c, &b, at) < 0)
				return -1;
			continue;
		case PCAPNG_EPB:
			if (rd32(&b, ng->be, &ifid) < 0 || rd32(&b, ng->be, &hi) < 0 ||
			    rd32(&b, ng->be, &lo) < 0 || rd32(&b, ng->be, &cap) < 0 ||
			    rd32(&b, ng->be, &wire) < 0)
				return ng_fail(c, at, "Enhanced Packet Block too short");
			break;
		case PCAPNG_PB:
			if (rd16(&b, ng->be, &id16) < 0 || rd16(&b, ng->be, &drops) < 0 ||
			    rd32(&b, ng->be, &hi) < 0 || rd32(&b, ng->be, &lo) < 0 ||
			    rd32(&b, ng->be, &cap) < 0 || rd32(&b, ng->be, &wire) < 0)
				return ng_fail(c, at, "Packet Block too short");
			ifid = id16;
			break;
		case PCAPNG_SPB:
			if (rd32(&b, ng->be, &wire) < 0)
				return ng_fail(c, at, "Simple Packet Block too short");
			/* The captured length is what the block holds, up to the
			 * original length. */
			cap = buf_left(&b) < wire ? (uint32_t)buf_left(&b) : wire;
			break;
		default:
			continue;   /* statistics, name resolution, custom...: not ours */
		}
		if (first)
			return ng_fail(c, at, "a packet before any Interface Description Block");
		if (ifid >= ng->n_ifs)
			return ng_fail(c, at, "packet of interface %u, but %zu described", ifid,
			               ng->n_ifs);
		ifc = &ng->ifs[ifid];
		if (cap > CAPTURE_MAX_SNAPLEN)
			return ng_fail(c, at, "invalid packet capture length %u, bigger than maximum "
			               "of %u", cap, CAPTURE_MAX_SNAPLEN);
		if (buf_bytes(&b, cap, &data) < 0)
			return ng_fail(c, at, "captured length %u longer than the block", cap);
		if (type == PCAPNG_SPB && cap > ifc->snaplen)
			cap = ifc->snaplen;
		c->count++;
		*frame = data;
		*caplen = cap;
		*wirelen = wire;
		*ts_us = ng_time(ifc, (uint64_t)hi << 32 | lo);
		return 1;
	}
}

int pcapng_open(struct capture *c, FILE *f)
{
	c->ng = calloc(1, sizeof(*c->ng));   /* owned by c; pcapng_close */
	if (!c->ng) {
		fclose(f);
		return -1;
	}
	c->ng->f = f;
	return 0;
}

int pcapng_first(struct capture *c)
{
	const uint8_t *frame;
	size_t caplen;
	uint32_t wire;
	uint64_t ts;

	return ng_next(c, &frame, &caplen, &wire, &ts, 1);
}

int pcapng_next(struct capture *c, const uint8_t **frame, size_t *caplen, uint32_t *wirelen,
                uint64_t *ts_us)
{
	return ng_next(c, frame, caplen, wirelen, ts_us, 0);
}

void pcapng_close(struct capture *c)
{
	ng_free(c->ng);
	c->ng = NULL;
}
