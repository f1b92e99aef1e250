/*
 * merkle.h - the Merkle tree of a CT log (RFC 6962 section 2.1, RFC 9162
 * section 2.1): leaf and node hashes, the compact range of a tree's first
 * entries, and consistency proofs, checked and (from a log's hash tiles,
 * C2SP tlog-tiles) built.
 *
 * A monitor holds, for each log, the compact range ("frontier") of the
 * entries it has read and verified: the roots of the perfect subtrees of
 * [0, size), largest first - at most 64 hashes whatever the size.
 * Appending a leaf hash costs O(1) amortised; the root of [0, size) is
 * folded from the frontier.  A batch of entries read after a verified
 * frontier is proved to belong to a signed head of size N by a
 * consistency proof from the batch's end to N checked against the root
 * the monitor computed itself (ct_consistency_verify): a log cannot show
 * the monitor entries other than those in the tree it signed.
 *
 * Must not: fetch anything, or know about JSON or tiles' paths.
 */
#ifndef CS_CT_MERKLE_H
#define CS_CT_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#define CT_HASH_LEN 32
/* Nodes a consistency proof between two trees of at most 2^64 leaves can
 * hold (RFC 9162 2.1.4: at most about 2 log2 n); a longer one is refused. */
#define CT_PROOF_MAX 130

/* SHA-256(0x00 || leaf): the hash of a MerkleTreeLeaf. */
void ct_leaf_hash(const uint8_t *leaf, size_t len, uint8_t out[CT_HASH_LEN]);
/* SHA-256(0x01 || left || right). */
void ct_node_hash(const uint8_t left[CT_HASH_LEN], const uint8_t right[CT_HASH_LEN],
                  uint8_t out[CT_HASH_LEN]);

/* The compact range of [0, size): h[i] is the root of the i-th perfect
 * subtree of size's binary decomposition, largest first (n = popcount). */
struct ct_frontier {
	uint64_t size;
	unsigned n;
	uint8_t h[64][CT_HASH_LEN];
};

void ct_frontier_init(struct ct_frontier *f);
/* The next leaf, by its hash (ct_leaf_hash). */
void ct_frontier_append(struct ct_frontier *f, const uint8_t leaf_hash[CT_HASH_LEN]);
/* The root of [0, f->size); of the empty tree, SHA-256 of nothing. */
void ct_frontier_root(const struct ct_frontier *f, uint8_t out[CT_HASH_LEN]);

/* RFC 9162 section 2.1.4.2: is the tree of size n with root new_root an
 * extension of the tree of size m with root old_root?  proof[0..k) is the
 * log's consistency proof (RFC 6962 get-sth-consistency, or one built
 * from tiles).  0 <= m <= n.  m == n: the proof must be empty and the
 * roots equal; m == 0: the proof must be empty (every tree extends the
 * empty one).  0 when consistent, -1 with the reason in err ("the proof
 * has 5 nodes where 7 are needed", "the old root does not match").
 *
 * old_root NULL: the old root is not known (a monitor that starts at
 * entry m of a log it has not read before); only new_root is checked, and
 * m must not be a power of two (the proof then leaves out the old tree's
 * one subtree; ct_start_size says where to start instead).  In every
 * case, when frontier_out is not NULL it receives the frontier of [0, m)
 * the proof holds, bound to new_root: a monitor continues from it (for
 * 0 < m < n; m == 0 gives the empty frontier, and m == n with a frontier
 * asked for is an error: an empty proof holds no subtree). */
int ct_consistency_verify(uint64_t m, const uint8_t *old_root, uint64_t n,
                          const uint8_t new_root[CT_HASH_LEN],
                          const uint8_t (*proof)[CT_HASH_LEN], size_t k,
                          struct ct_frontier *frontier_out, char *err, size_t errlen);

/* Where to start verifying for a monitor asked to start at entry m of a
 * log whose tree it has not read: m itself, or, when m is a power of two
 * greater than 2, m - 1 (entries [start, m) are then read for their
 * hashes only); 0 for m <= 2. */
uint64_t ct_start_size(uint64_t m);

/* The hash of the perfect subtree at (level, index): the leaves
 * [index << level, (index + 1) << level).  0 with out filled; 1 when the
 * source does not have it yet (a tile not fetched: the caller fetches it
 * and builds again); -1 with err set on a hard error. */
typedef int (*ct_node_fn)(void *ctx, unsigned level, uint64_t index,
                          uint8_t out[CT_HASH_LEN], char *err, size_t errlen);

/* The consistency proof PROOF(m, D[n]) of RFC 9162 section 2.1.4.1, built
 * from perfect-subtree hashes (a tiled log serves no proofs: they are
 * computed from its hash tiles, C2SP tlog-tiles).  0 < m < n.  proof has
 * room for CT_PROOF_MAX nodes (a proof has at most 65).  0 with
 * proof[0..*k) filled, 1 when node() said 1 (nothing else is valid; the
 * walk still asks for every other node, so one build names every missing
 * tile), -1 with err. */
int ct_consistency_build(uint64_t m, uint64_t n, ct_node_fn node, void *ctx,
                         uint8_t (*proof)[CT_HASH_LEN], size_t *k, char *err, size_t errlen);

/* The root of the tree of size n (n > 0) from perfect-subtree hashes, the
 * same way: 0, 1 (a node missing), or -1. */
int ct_root_build(uint64_t n, ct_node_fn node, void *ctx, uint8_t out[CT_HASH_LEN],
                  char *err, size_t errlen);

#endif
