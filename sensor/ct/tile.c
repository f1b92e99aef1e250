/*
 * tile.c - static-ct-api tiles (C2SP static-ct-api, tlog-tiles): paths,
 * widths and data tiles' TileLeaf entries; see include/ct/tile.h.
 *
 * Must not: fetch anything; read a byte of a tile but through core/buf.h.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "ct/tile.h"
#include "ct_int.h"

/* RFC 6962 3.4: LogEntryType */
#define ENTRY_X509    0
#define ENTRY_PRECERT 1
/* C2SP static-ct-api "SCT Extension": leaf_index, a uint40 */
#define EXT_LEAF_INDEX     0
#define LEAF_INDEX_LEN     5
#define ISSUER_KEY_HASH_LEN 32
/* tlog-tiles: a hash tile at level L holds nodes of tree level 8L; a
 * tree of 2^64 leaves has none above tile level 7 */
#define TILE_MAX_LEVEL 7
#define TILE_LEVEL_BITS 8

/* ---- paths ------------------------------------------------------------------ */

/* tlog-tiles: the index in 3-digit groups, all but the last with 'x'. */
static int put_index(uint64_t index, char *out, size_t cap, size_t *off)
{
	unsigned groups[7];   /* 2^64 has 20 digits: 7 groups */
	int n = 0, w;

	do {
		groups[n++] = (unsigned)(index % 1000);
		index /= 1000;
	} while (index > 0);
	while (n-- > 0) {
		w = snprintf(out + *off, cap - *off, n > 0 ? "x%03u/" : "%03u", groups[n]);
		if (w < 0 || (size_t)w >= cap - *off)
			return -1;
		*off += (size_t)w;
	}
	return 0;
}

int ct_tile_path(int level, uint64_t index, unsigned width, char *out, size_t cap)
{
	size_t off = 0;
	int w;

	if (cap == 0 || level < -1 || level > TILE_MAX_LEVEL || width == 0 ||
	    width > CT_TILE_WIDTH)
		return -1;
	if (level < 0)
		w = snprintf(out, cap, "tile/data/");
	else
		w = snprintf(out, cap, "tile/%d/", level);
	if (w < 0 || (size_t)w >= cap)
		return -1;
	off = (size_t)w;
	if (put_index(index, out, cap, &off) < 0)
		return -1;
	if (width < CT_TILE_WIDTH) {
		w = snprintf(out + off, cap - off, ".p/%u", width);
		if (w < 0 || (size_t)w >= cap - off)
			return -1;
	}
	return 0;
}

unsigned ct_tile_width(uint64_t size, unsigned tile_level, uint64_t index)
{
	uint64_t nodes, first;

	if (tile_level > TILE_MAX_LEVEL)
		return 0;
	nodes = size >> (tile_level * TILE_LEVEL_BITS);   /* complete nodes at that level */
	if (index > (nodes / CT_TILE_WIDTH))
		return 0;
	first = index * CT_TILE_WIDTH;
	if (nodes - first >= CT_TILE_WIDTH)
		return CT_TILE_WIDTH;
	return (unsigned)(nodes - first);
}

/* ---- data tiles ------------------------------------------------------------- */

static int entry_fail(char *err, size_t errlen, size_t at, const char *what)
{
	if (errlen)
		snprintf(err, errlen, "the entry at byte %zu of the tile: %s", at, what);
	return -1;
}

/* An opaque<1..2^24-1> (ASN.1Cert, TBSCertificate): a view. */
static int read_cert(struct buf *b, const uint8_t **p, size_t *len)
{
	uint32_t n;

	if (buf_be24(b, &n) < 0 || n == 0 || buf_bytes(b, n, p) < 0)
		return -1;
	*len = n;
	return 0;
}

/* CtExtensions (C2SP static-ct-api): (uint8 type, opaque<0..2^16-1>)
 * pairs; leaf_index is type 0 of exactly 5 bytes, at most once.  NULL,
 * or what was wrong. */
static const char *read_extensions(struct buf *ext, struct ct_tile_entry *e)
{
	while (buf_left(ext) > 0) {
		uint8_t type;
		uint16_t n;
		const uint8_t *d;

		if (buf_u8(ext, &type) < 0 || buf_be16(ext, &n) < 0 || buf_bytes(ext, n, &d) < 0)
			return "an extension runs past the extensions";
		if (type != EXT_LEAF_INDEX)
			continue;
		if (e->has_leaf_index)
			return "leaf_index twice";
		if (n != LEAF_INDEX_LEN)
			return "leaf_index is not 5 bytes";
		e->leaf_index = 0;
		for (int i = 0; i < LEAF_INDEX_LEN; i++)
			e->leaf_index = e->leaf_index << 8 | d[i];
		e->has_leaf_index = 1;
	}
	return NULL;
}

/* The TimestampedEntry (RFC 6962 3.4).  NULL, or what was wrong. */
static const char *read_timestamped_entry(struct buf *b, struct ct_tile_entry *e)
{
	uint32_t hi, lo;
	uint16_t type, ext_len;
	const uint8_t *p;
	struct buf ext;

	if (buf_be32(b, &hi) < 0 || buf_be32(b, &lo) < 0)
		return "the timestamp runs past the end";
	e->timestamp_ms = (uint64_t)hi << 32 | lo;
	if (buf_be16(b, &type) < 0)
		return "entry_type runs past the end";
	if (type == ENTRY_X509) {
		if (read_cert(b, &e->cert, &e->cert_len) < 0)
			return "the certificate is empty or runs past the end";
	} else if (type == ENTRY_PRECERT) {
		e->precert = 1;
		if (buf_bytes(b, ISSUER_KEY_HASH_LEN, &p) < 0)
			return "issuer_key_hash runs past the end";
		if (read_cert(b, &p, &(size_t){ 0 }) < 0)
			return "the TBSCertificate is empty or runs past the end";
	} else {
		return "entry_type is neither x509 (0) nor precert (1)";
	}
	if (buf_be16(b, &ext_len) < 0 || buf_sub(b, ext_len, &ext) < 0)
		return "the extensions run past the end";
	return read_extensions(&ext, e);
}

int ct_tile_next(const uint8_t *buf, size_t len, size_t *off, struct ct_tile_entry *e,
                 char *err, size_t errlen)
{
	struct buf b;
	uint16_t chain_len;
	const char *why;
	size_t start = *off;

	if (errlen)
		err[0] = '\0';
	memset(e, 0, sizeof *e);
	if (len > CT_TILE_MAX_BYTES)
		return entry_fail(err, errlen, start, "the tile is larger than CT_TILE_MAX_BYTES");
	if (start > len)
		return entry_fail(err, errlen, start, "the offset is past the tile");
	if (start == len)
		return 1;
	buf_init(&b, buf + start, len - start);
	why = read_timestamped_entry(&b, e);
	if (why)
		return entry_fail(err, errlen, start, why);
	e->te = buf + start;
	e->te_len = b.off;
	/* static-ct-api: a precert's TileLeaf carries the pre_certificate */
	if (e->precert && read_cert(&b, &e->cert, &e->cert_len) < 0)
		return entry_fail(err, errlen, start,
		                  "pre_certificate is empty or runs past the end");
	if (buf_be16(&b, &chain_len) < 0 || buf_bytes(&b, chain_len, &e->fingerprints) < 0)
		return entry_fail(err, errlen, start, "certificate_chain runs past the end");
	if (chain_len % CT_HASH_LEN != 0)
		return entry_fail(err, errlen, start,
		                  "certificate_chain is not a whole number of fingerprints");
	e->n_chain = chain_len / CT_HASH_LEN;
	if (e->n_chain > CT_TILE_MAX_CHAIN)
		return entry_fail(err, errlen, start,
		                  "certificate_chain names more than CT_TILE_MAX_CHAIN issuers");
	if (e->n_chain == 0)
		e->fingerprints = NULL;
	*off = start + b.off;
	return 0;
}

void ct_tile_leaf_hash(const struct ct_tile_entry *e, uint8_t out[CT_HASH_LEN])
{
	/* RFC 6962 2.1 leaf prefix, then MerkleTreeLeaf version v1 (0) and
	 * leaf_type timestamped_entry (0) */
	static const uint8_t prefix[3] = { 0x00, 0x00, 0x00 };

	ct_sha256_3(prefix, sizeof prefix, e->te, e->te_len, NULL, 0, out);
}
