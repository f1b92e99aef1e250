/*
 * merkle.c - the Merkle tree of a CT log (see include/ct/merkle.h):
 * RFC 6962 section 2.1 / RFC 9162 section 2.1 hashes, compact ranges,
 * consistency proofs checked (RFC 9162 2.1.4.2) and built (2.1.4.1).
 *
 * Must not: fetch anything, allocate per leaf.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "ct/merkle.h"
#include "ct_int.h"

/* ---- hashing ------------------------------------------------------------ */

/* OpenSSL 3 looks an implicit EVP_sha256() up in its provider tables on
 * every init; fetched once, and with one context per thread reused for
 * every hash, a leaf costs its SHA-256 and no malloc (the follower hashes
 * tens of thousands of leaves a second). */
static EVP_MD *sha256_md;                 /* owned for the process' life */
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;
static _Thread_local EVP_MD_CTX *tls_ctx; /* one a thread, never freed: a
                                             few hundred bytes a thread */

static void sha256_fetch(void)
{
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

/* A hash context that cannot be made is an allocation failure at
 * start-up, not bad input: abort. */
void ct_sha256_3(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
                     const uint8_t *c, size_t clen, uint8_t out[CT_HASH_LEN])
{
	unsigned int n = 0;

	pthread_once(&sha256_once, sha256_fetch);
	if (!tls_ctx)
		tls_ctx = EVP_MD_CTX_new();
	if (!tls_ctx || !sha256_md || EVP_DigestInit_ex2(tls_ctx, sha256_md, NULL) != 1 ||
	    (alen && EVP_DigestUpdate(tls_ctx, a, alen) != 1) ||
	    (blen && EVP_DigestUpdate(tls_ctx, b, blen) != 1) ||
	    (clen && EVP_DigestUpdate(tls_ctx, c, clen) != 1) ||
	    EVP_DigestFinal_ex(tls_ctx, out, &n) != 1 || n != CT_HASH_LEN) {
		fputs("certsentry: ct: SHA-256 is not available\n", stderr);
		abort();
	}
}

void ct_leaf_hash(const uint8_t *leaf, size_t len, uint8_t out[CT_HASH_LEN])
{
	static const uint8_t zero = 0x00;   /* RFC 6962 2.1: leaf prefix */

	ct_sha256_3(&zero, 1, leaf, len, NULL, 0, out);
}

void ct_node_hash(const uint8_t left[CT_HASH_LEN], const uint8_t right[CT_HASH_LEN],
                  uint8_t out[CT_HASH_LEN])
{
	static const uint8_t one = 0x01;    /* RFC 6962 2.1: node prefix */

	ct_sha256_3(&one, 1, left, CT_HASH_LEN, right, CT_HASH_LEN, out);
}

/* ---- compact range ------------------------------------------------------ */

void ct_frontier_init(struct ct_frontier *f)
{
	memset(f, 0, sizeof *f);
}

/* Appending leaf s merges one subtree per trailing 1 bit of s: those are
 * the subtrees of the same size as the one the new leaf completes. */
void ct_frontier_append(struct ct_frontier *f, const uint8_t leaf_hash[CT_HASH_LEN])
{
	uint8_t cur[CT_HASH_LEN];

	memcpy(cur, leaf_hash, CT_HASH_LEN);
	for (uint64_t t = f->size; (t & 1) && f->n > 0; t >>= 1) {
		f->n--;
		ct_node_hash(f->h[f->n], cur, cur);
	}
	memcpy(f->h[f->n], cur, CT_HASH_LEN);
	f->n++;
	f->size++;
}

/* RFC 6962 2.1: MTH splits at the largest power of two below the size,
 * so the root is the right fold of the perfect subtrees, largest first. */
static void fold_right(const uint8_t (*h)[CT_HASH_LEN], unsigned n, uint8_t out[CT_HASH_LEN])
{
	uint8_t r[CT_HASH_LEN];

	memcpy(r, h[n - 1], CT_HASH_LEN);
	for (unsigned i = n - 1; i-- > 0;)
		ct_node_hash(h[i], r, r);
	memcpy(out, r, CT_HASH_LEN);
}

void ct_frontier_root(const struct ct_frontier *f, uint8_t out[CT_HASH_LEN])
{
	if (f->n == 0) {
		ct_sha256_3(NULL, 0, NULL, 0, NULL, 0, out);   /* RFC 6962 2.1: MTH({}) */
		return;
	}
	fold_right((const uint8_t (*)[CT_HASH_LEN])f->h, f->n, out);
}

/* ---- consistency: checking ---------------------------------------------- */

static int is_pow2(uint64_t x)
{
	return x && !(x & (x - 1));
}

static unsigned popcount64(uint64_t x)
{
	return (unsigned)__builtin_popcountll(x);
}

static int fail(char *err, size_t errlen, const char *msg)
{
	if (errlen)
		snprintf(err, errlen, "%s", msg);
	return -1;
}

/* The trivial cases of ct_consistency_verify: m == 0 or m == n.  1 when
 * not trivial, else its result. */
static int verify_trivial(uint64_t m, const uint8_t *old_root, uint64_t n,
                          const uint8_t new_root[CT_HASH_LEN], size_t k,
                          struct ct_frontier *frontier_out, char *err, size_t errlen)
{
	if (m > n)
		return fail(err, errlen, "the old tree is larger than the new one");
	if (m != 0 && m != n)
		return 1;
	if (k != 0) {
		snprintf(err, errlen, "the proof has %zu nodes where 0 are needed (m %s n)", k,
		         m == 0 ? "0," : "==");
		return -1;
	}
	if (m == 0) {
		if (frontier_out)
			ct_frontier_init(frontier_out);
		return 0;
	}
	/* m == n: an empty proof holds no subtree hashes to recover. */
	if (frontier_out)
		return fail(err, errlen, "the trees have the same size: no frontier to recover");
	if (!old_root)
		return fail(err, errlen, "the trees have the same size and the old root is not known");
	if (memcmp(old_root, new_root, CT_HASH_LEN) != 0)
		return fail(err, errlen, "the trees have the same size and different roots");
	return 0;
}

/* The largest power of two strictly below x (x >= 2). */
static uint64_t split_of(uint64_t x)
{
	return (uint64_t)1 << (63 - __builtin_clzll(x - 1));
}

/* The number of nodes PROOF(m, n) has, 0 < m < n: RFC 9162 2.1.4.1's
 * SUBPROOF recursion counted (one node a step, one more at the end
 * unless the old tree is a whole subtree).  Counting first lets a wrong
 * length be said as such rather than as a root that does not match. */
static size_t proof_len(uint64_t m, uint64_t n)
{
	uint64_t lo = 0, hi = n, mm = m;
	size_t k = 0;
	int whole = 1;

	while (mm != hi - lo) {
		uint64_t split = split_of(hi - lo);

		if (mm <= split) {
			hi = lo + split;
		} else {
			lo += split;
			mm -= split;
			whole = 0;
		}
		k++;
	}
	return k + (whole ? 0 : 1);
}

int ct_consistency_verify(uint64_t m, const uint8_t *old_root, uint64_t n,
                          const uint8_t new_root[CT_HASH_LEN],
                          const uint8_t (*proof)[CT_HASH_LEN], size_t k,
                          struct ct_frontier *frontier_out, char *err, size_t errlen)
{
	uint8_t fr[CT_HASH_LEN], sr[CT_HASH_LEN];
	uint8_t left[64][CT_HASH_LEN];      /* the old tree's subtrees, smallest first */
	unsigned nleft = 0;
	uint64_t fn, sn;
	size_t want, i;
	int rc;

	if (errlen)
		err[0] = '\0';
	rc = verify_trivial(m, old_root, n, new_root, k, frontier_out, err, errlen);
	if (rc != 1)
		return rc;
	if (!old_root && is_pow2(m))
		return fail(err, errlen, "the old size is a power of two and its root is not known: "
		                         "the proof does not hold the old tree");
	want = proof_len(m, n);
	if (k != want) {
		snprintf(err, errlen, "the proof has %zu nodes where %zu are needed", k, want);
		return -1;
	}
	/* RFC 9162 2.1.4.2 step 2: a power-of-two old tree is its own first node. */
	if (is_pow2(m)) {
		memcpy(fr, old_root, CT_HASH_LEN);
		i = 0;
	} else {
		memcpy(fr, proof[0], CT_HASH_LEN);
		i = 1;
	}
	memcpy(sr, fr, CT_HASH_LEN);
	memcpy(left[nleft++], fr, CT_HASH_LEN);
	fn = m - 1;
	sn = n - 1;
	while (fn & 1) {
		fn >>= 1;
		sn >>= 1;
	}
	for (; i < k; i++) {
		if (sn == 0)   /* cannot happen after the count, kept as the RFC's check */
			return fail(err, errlen, "the proof is longer than the trees allow");
		if ((fn & 1) || fn == sn) {
			/* a left sibling: a subtree of the old tree too */
			ct_node_hash(proof[i], fr, fr);
			ct_node_hash(proof[i], sr, sr);
			if (nleft >= 64)
				return fail(err, errlen, "the proof holds more old subtrees than 64");
			memcpy(left[nleft++], proof[i], CT_HASH_LEN);
			while (!(fn & 1) && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else {
			ct_node_hash(sr, proof[i], sr);
		}
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0)
		return fail(err, errlen, "the proof is shorter than the trees need");
	if (old_root && memcmp(fr, old_root, CT_HASH_LEN) != 0)
		return fail(err, errlen, "the old root does not match the proof");
	if (memcmp(sr, new_root, CT_HASH_LEN) != 0)
		return fail(err, errlen, "the new root does not match the proof");
	if (frontier_out) {
		if (nleft != popcount64(m))
			return fail(err, errlen, "the proof does not hold the old tree's subtrees");
		frontier_out->size = m;
		frontier_out->n = nleft;
		for (unsigned j = 0; j < nleft; j++)
			memcpy(frontier_out->h[j], left[nleft - 1 - j], CT_HASH_LEN);
	}
	return 0;
}

uint64_t ct_start_size(uint64_t m)
{
	if (m <= 2)
		return 0;
	return is_pow2(m) ? m - 1 : m;
}

/* ---- consistency: building ---------------------------------------------- */

/* A builder's running state: a node that said "not yet" is remembered and
 * the walk goes on, so one build names every missing tile to the
 * callback, and the caller fetches them all before building again. */
struct build {
	ct_node_fn node;
	void *ctx;
	int missing;
	char *err;
	size_t errlen;
};

/* The perfect subtree [lo, lo + 2^level).  0, or -1. */
static int get_node(struct build *b, unsigned level, uint64_t lo, uint8_t out[CT_HASH_LEN])
{
	int rc = b->node(b->ctx, level, lo >> level, out, b->err, b->errlen);

	if (rc == 1) {
		b->missing = 1;
		memset(out, 0, CT_HASH_LEN);
		return 0;
	}
	if (rc != 0) {
		if (b->errlen && b->err[0] == '\0')
			snprintf(b->err, b->errlen, "the node at level %u, index %llu: unreadable",
			         level, (unsigned long long)(lo >> level));
		return -1;
	}
	return 0;
}

/* MTH(D[lo:hi]), lo < hi, lo aligned to the largest power of two in
 * hi - lo (true of every range the RFC's recursion makes): the right fold
 * of the perfect subtrees of hi - lo's binary decomposition. */
static int mth_range(struct build *b, uint64_t lo, uint64_t hi, uint8_t out[CT_HASH_LEN])
{
	uint8_t parts[64][CT_HASH_LEN];
	unsigned n = 0;
	uint64_t size = hi - lo;

	for (int bit = 63; bit >= 0; bit--) {
		uint64_t piece = (uint64_t)1 << bit;

		if (!(size & piece))
			continue;
		if (get_node(b, (unsigned)bit, lo, parts[n]) < 0)
			return -1;
		n++;
		lo += piece;
	}
	fold_right((const uint8_t (*)[CT_HASH_LEN])parts, n, out);
	return 0;
}

int ct_consistency_build(uint64_t m, uint64_t n, ct_node_fn node, void *ctx,
                         uint8_t (*proof)[CT_HASH_LEN], size_t *k, char *err, size_t errlen)
{
	struct build b = { node, ctx, 0, err, errlen };
	uint64_t sib_lo[64], sib_hi[64];    /* the siblings, outermost first */
	unsigned nsib = 0;
	uint64_t lo = 0, hi = n, mm = m;    /* SUBPROOF(mm, D[lo:hi], whole) */
	int whole = 1;
	size_t out = 0;

	if (errlen)
		err[0] = '\0';
	*k = 0;
	if (m == 0 || m >= n)
		return fail(err, errlen, "a proof is built only for 0 < m < n");
	/* RFC 9162 2.1.4.1 SUBPROOF, unrolled: each step keeps one side and
	 * notes the other as a proof node; the nodes come out innermost first. */
	while (mm != hi - lo) {
		uint64_t split = split_of(hi - lo);

		if (nsib >= 64)
			return fail(err, errlen, "the proof is deeper than 64 levels");
		if (mm <= split) {
			sib_lo[nsib] = lo + split;
			sib_hi[nsib] = hi;
			hi = lo + split;
		} else {
			sib_lo[nsib] = lo;
			sib_hi[nsib] = lo + split;
			lo += split;
			mm -= split;
			whole = 0;
		}
		nsib++;
	}
	if (!whole) {
		if (mth_range(&b, lo, hi, proof[out]) < 0)
			return -1;
		out++;
	}
	while (nsib-- > 0) {
		if (out >= CT_PROOF_MAX)
			return fail(err, errlen, "the proof is longer than CT_PROOF_MAX");
		if (mth_range(&b, sib_lo[nsib], sib_hi[nsib], proof[out]) < 0)
			return -1;
		out++;
	}
	if (b.missing)
		return 1;
	*k = out;
	return 0;
}

int ct_root_build(uint64_t n, ct_node_fn node, void *ctx, uint8_t out[CT_HASH_LEN],
                  char *err, size_t errlen)
{
	struct build b = { node, ctx, 0, err, errlen };

	if (errlen)
		err[0] = '\0';
	if (n == 0)
		return fail(err, errlen, "a root is built only for a tree of at least one leaf");
	if (mth_range(&b, 0, n, out) < 0)
		return -1;
	return b.missing ? 1 : 0;
}
