/*
 * tile.h - the tiles of a static-ct-api log (C2SP static-ct-api and
 * tlog-tiles): paths, hash tiles and data tiles.
 *
 * A hash tile at level L, index N holds up to 256 hashes: the nodes at
 * tree level 8L with indexes [256N, 256N + width).  A data tile holds
 * the entries [256N, 256N + width) as TileLeaf structures:
 *   TimestampedEntry timestamped_entry;         (RFC 6962 section 3.4)
 *   precert_entry only: ASN.1Cert pre_certificate<1..2^24-1>;
 *   Fingerprint certificate_chain<0..2^16-1>;  (SHA-256 of each issuer,
 *                                                 fetched from issuer/HEX)
 * The TimestampedEntry's extensions carry leaf_index (type 0, a 40-bit
 * index), which must equal the entry's place in the tree.
 *
 * Must not: fetch anything.
 */
#ifndef CS_CT_TILE_H
#define CS_CT_TILE_H

#include <stddef.h>
#include <stdint.h>

#include "ct/merkle.h"

#define CT_TILE_WIDTH 256u
/* Bytes of a data tile read at most (256 entries of a few KB each). */
#define CT_TILE_MAX_BYTES (16u * 1024u * 1024u)
/* Issuer fingerprints one entry may name. */
#define CT_TILE_MAX_CHAIN 16u

/* The path of a tile under the log's monitoring prefix:
 * "tile/L/x001/x234/067" (level 0 <= L <= 7: a tree of 2^64 leaves has
 * no higher tile), "tile/data/..." (level -1), with ".p/W" when width <
 * 256.  0, or -1 when it does not fit cap or level or width (1..256) is
 * out of range. */
int ct_tile_path(int level, uint64_t index, unsigned width, char *out, size_t cap);

/* Nodes at tree level 8 * tile_level that a tree of `size` leaves has
 * complete in tile `index`: 0..256 (0: the tile does not exist yet). */
unsigned ct_tile_width(uint64_t size, unsigned tile_level, uint64_t index);

/* One TileLeaf, views into the tile. */
struct ct_tile_entry {
	uint64_t timestamp_ms;
	int precert;                     /* precert_entry (1) or x509_entry (0) */
	const uint8_t *te;               /* the TimestampedEntry, whole */
	size_t te_len;
	const uint8_t *cert;             /* x509: the certificate; precert: the
	                                    pre_certificate (signed, poisoned) */
	size_t cert_len;
	const uint8_t *fingerprints;     /* n_chain * 32 bytes: the issuers, leaf's first */
	size_t n_chain;
	int has_leaf_index;
	uint64_t leaf_index;             /* the leaf_index extension */
};

/* The entry at buf[*off..len): 0 with *e filled and *off past it, 1 at
 * the end of the tile (*off == len), -1 with err ("the entry at byte 4711
 * of the tile: certificate_chain runs past the end"; the entry's number is
 * the caller's count) and *off left where it was.  The views in *e point
 * into buf.  A tile longer than CT_TILE_MAX_BYTES is refused. */
int ct_tile_next(const uint8_t *buf, size_t len, size_t *off, struct ct_tile_entry *e,
                 char *err, size_t errlen);

/* SHA-256(0x00 || MerkleTreeLeaf) of an entry: the MerkleTreeLeaf is
 * version v1 (0), leaf_type timestamped_entry (0), then the
 * TimestampedEntry. */
void ct_tile_leaf_hash(const struct ct_tile_entry *e, uint8_t out[CT_HASH_LEN]);

#endif
