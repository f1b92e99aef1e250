/*
 * test_ct_merkle.c - sensor/ct/merkle.c against the RFC 6962 section 2.1
 * definitions written out naively here (MTH and PROOF as recursions over
 * the leaf data), for every 0 <= m <= n <= 70, and against the published
 * reference roots of the eight-leaf tree.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/sha.h>
#include <openssl/evp.h>

#include "ct/merkle.h"

#define MAX_N 70

/* ---- the naive reference (RFC 6962 2.1, 2.1.2) ----------------------------- */

static uint8_t leaves[MAX_N][8];
static size_t leaf_len[MAX_N];

static void sha(const uint8_t *a, size_t alen, uint8_t out[32])
{
	unsigned int n;

	assert_int_equal(EVP_Digest(a, alen, out, &n, EVP_sha256(), NULL), 1);
}

static uint64_t k_of(uint64_t n)   /* largest power of two < n */
{
	uint64_t k = 1;

	while (k * 2 < n)
		k *= 2;
	return k;
}

/* MTH(D[lo:hi]) */
static void mth(const uint8_t (*d)[8], const size_t *dl, uint64_t lo, uint64_t hi,
                uint8_t out[32])
{
	uint8_t buf[65];

	if (hi == lo) {
		sha(NULL, 0, out);
		return;
	}
	if (hi - lo == 1) {
		buf[0] = 0;
		memcpy(buf + 1, d[lo], dl[lo]);
		sha(buf, 1 + dl[lo], out);
		return;
	}
	uint64_t k = k_of(hi - lo);
	buf[0] = 1;
	mth(d, dl, lo, lo + k, buf + 1);
	mth(d, dl, lo + k, hi, buf + 33);
	sha(buf, 65, out);
}

/* SUBPROOF(m, D[lo:hi], b), appending to p. */
static void subproof(uint64_t m, uint64_t lo, uint64_t hi, int b, uint8_t (*p)[32], size_t *k)
{
	uint64_t n = hi - lo;

	if (m == n) {
		if (!b)
			mth((const uint8_t (*)[8])leaves, leaf_len, lo, hi, p[(*k)++]);
		return;
	}
	uint64_t split = k_of(n);
	if (m <= split) {
		subproof(m, lo, lo + split, b, p, k);
		mth((const uint8_t (*)[8])leaves, leaf_len, lo + split, hi, p[(*k)++]);
	} else {
		subproof(m - split, lo + split, hi, 0, p, k);
		mth((const uint8_t (*)[8])leaves, leaf_len, lo, lo + split, p[(*k)++]);
	}
}

static void root_of(uint64_t n, uint8_t out[32])
{
	mth((const uint8_t (*)[8])leaves, leaf_len, 0, n, out);
}

static int setup_leaves(void **state)
{
	(void)state;
	for (size_t i = 0; i < MAX_N; i++) {
		leaf_len[i] = i % 7;   /* lengths 0..6, the empty leaf among them */
		for (size_t j = 0; j < leaf_len[i]; j++)
			leaves[i][j] = (uint8_t)(i * 31 + j);
	}
	return 0;
}

/* The perfect-subtree callback over the naive tree; counts calls and can
 * play a source that lacks one node. */
struct src {
	unsigned calls;
	int missing_level;     /* -1: none missing */
	uint64_t missing_index;
	int hard_error;
};

static int node_cb(void *ctx, unsigned level, uint64_t index, uint8_t out[32], char *err,
                   size_t errlen)
{
	struct src *s = ctx;
	uint64_t lo = index << level, hi = (index + 1) << level;

	s->calls++;
	if (hi > MAX_N)
		fail_msg("node (%u, %llu) is past the tree", level, (unsigned long long)index);
	if (s->hard_error) {
		snprintf(err, errlen, "hard");
		return -1;
	}
	if (s->missing_level == (int)level && s->missing_index == index)
		return 1;
	mth((const uint8_t (*)[8])leaves, leaf_len, lo, hi, out);
	return 0;
}

/* ---- tests ------------------------------------------------------------------ */

static void hex_to(const char *hex, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++)
		assert_int_equal(sscanf(hex + 2 * i, "%2hhx", &out[i]), 1);
}

/* Published roots of the trees of the first 1..8 reference inputs: the
 * Certificate Transparency reference implementation's test data
 * (transparency-dev/merkle testonly/constants.go, formerly
 * certificate-transparency-go merkletree tests). */
static void reference_roots(void **state)
{
	static const char *in[8] = { "", "00", "10", "2021", "3031", "40414243",
	                             "5051525354555657", "606162636465666768696a6b6c6d6e6f" };
	static const char *roots[9] = {
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
		"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
		"aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
		"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
		"4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
		"76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
		"ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
		"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
	};
	struct ct_frontier f;
	uint8_t got[32], want[32], data[16], lh[32];

	(void)state;
	ct_frontier_init(&f);
	for (int n = 0; n <= 8; n++) {
		if (n > 0) {
			size_t len = strlen(in[n - 1]) / 2;

			hex_to(in[n - 1], data, len);
			ct_leaf_hash(data, len, lh);
			ct_frontier_append(&f, lh);
		}
		ct_frontier_root(&f, got);
		hex_to(roots[n], want, 32);
		assert_memory_equal(got, want, 32);
	}
}

static void frontier_matches_mth(void **state)
{
	struct ct_frontier f;
	uint8_t got[32], want[32], lh[32];

	(void)state;
	ct_frontier_init(&f);
	for (uint64_t n = 0; n <= MAX_N; n++) {
		if (n > 0) {
			ct_leaf_hash(leaves[n - 1], leaf_len[n - 1], lh);
			ct_frontier_append(&f, lh);
		}
		assert_int_equal(f.size, n);
		assert_int_equal(f.n, __builtin_popcountll(n));
		ct_frontier_root(&f, got);
		root_of(n, want);
		assert_memory_equal(got, want, 32);
	}
}

/* The frontier of [0, m), built leaf by leaf. */
static void frontier_of(uint64_t m, struct ct_frontier *f)
{
	uint8_t lh[32];

	ct_frontier_init(f);
	for (uint64_t i = 0; i < m; i++) {
		ct_leaf_hash(leaves[i], leaf_len[i], lh);
		ct_frontier_append(f, lh);
	}
}

static int is_pow2(uint64_t x)
{
	return x && !(x & (x - 1));
}

static void check_rejections(uint64_t m, uint64_t n, const uint8_t old[32],
                             const uint8_t neu[32], uint8_t (*p)[32], size_t k)
{
	char err[200];
	uint8_t bad[32];
	uint8_t longer[CT_PROOF_MAX + 1][32];

	for (size_t i = 0; i < k; i++)
		for (int bit = 0; bit < 256; bit += 37) {
			p[i][bit / 8] ^= (uint8_t)(1u << (bit % 8));
			if (ct_consistency_verify(m, old, n, neu, (const uint8_t (*)[32])p, k, NULL,
			                          err, sizeof err) == 0)
				fail_msg("m %llu n %llu: node %zu with bit %d flipped accepted",
				         (unsigned long long)m, (unsigned long long)n, i, bit);
			p[i][bit / 8] ^= (uint8_t)(1u << (bit % 8));
		}
	memcpy(bad, old, 32);
	bad[5] ^= 0x40;
	assert_int_equal(ct_consistency_verify(m, bad, n, neu, (const uint8_t (*)[32])p, k, NULL,
	                                       err, sizeof err), -1);
	/* a power-of-two old tree is the proof's first node: the new root fails */
	assert_non_null(strstr(err, is_pow2(m) ? "new root" : "old root"));
	memcpy(bad, neu, 32);
	bad[31] ^= 1;
	assert_int_equal(ct_consistency_verify(m, old, n, bad, (const uint8_t (*)[32])p, k, NULL,
	                                       err, sizeof err), -1);
	if (k > 0) {
		assert_int_equal(ct_consistency_verify(m, old, n, neu, (const uint8_t (*)[32])p, k - 1,
		                                       NULL, err, sizeof err), -1);
		assert_non_null(strstr(err, "nodes where"));
	}
	memcpy(longer, p, k * 32);
	memset(longer[k], 0xab, 32);
	assert_int_equal(ct_consistency_verify(m, old, n, neu, (const uint8_t (*)[32])longer,
	                                       k + 1, NULL, err, sizeof err), -1);
	/* the trees swapped */
	if (m < n)
		assert_int_equal(ct_consistency_verify(n, neu, m, old, (const uint8_t (*)[32])p, k,
		                                       NULL, err, sizeof err), -1);
}

static void consistency_every_pair(void **state)
{
	uint8_t want[CT_PROOF_MAX][32], got[CT_PROOF_MAX][32];
	uint8_t old[32], neu[32];
	struct ct_frontier fr, ref;
	char err[200];
	size_t kw, kg;
	unsigned checked = 0;

	(void)state;
	for (uint64_t n = 1; n <= MAX_N; n++)
		for (uint64_t m = 0; m <= n; m++) {
			struct src s = { 0, -1, 0, 0 };

			root_of(m, old);
			root_of(n, neu);
			kw = 0;
			if (m > 0 && m < n)
				subproof(m, 0, n, 1, want, &kw);
			if (m > 0 && m < n) {
				assert_int_equal(ct_consistency_build(m, n, node_cb, &s, got, &kg, err,
				                                      sizeof err), 0);
				assert_int_equal(kg, kw);
				assert_memory_equal(got, want, kw * 32);
			}
			if (ct_consistency_verify(m, old, n, neu, (const uint8_t (*)[32])want, kw,
			                          NULL, err, sizeof err) != 0)
				fail_msg("m %llu n %llu: %s", (unsigned long long)m,
				         (unsigned long long)n, err);
			/* the frontier recovered, with and without the old root */
			if (m > 0 && m < n) {
				frontier_of(m, &ref);
				memset(&fr, 0x55, sizeof fr);
				assert_int_equal(ct_consistency_verify(m, old, n, neu,
				                                       (const uint8_t (*)[32])want, kw,
				                                       &fr, err, sizeof err), 0);
				assert_int_equal(fr.size, m);
				assert_int_equal(fr.n, ref.n);
				assert_memory_equal(fr.h, ref.h, ref.n * 32);
				if (!is_pow2(m)) {
					memset(&fr, 0x55, sizeof fr);
					assert_int_equal(ct_consistency_verify(m, NULL, n, neu,
					                                       (const uint8_t (*)[32])want,
					                                       kw, &fr, err, sizeof err), 0);
					assert_memory_equal(fr.h, ref.h, ref.n * 32);
				} else {
					assert_int_equal(ct_consistency_verify(m, NULL, n, neu,
					                                       (const uint8_t (*)[32])want,
					                                       kw, &fr, err, sizeof err), -1);
				}
			}
			if (m > 0 && m < n)
				check_rejections(m, n, old, neu, want, kw);
			checked++;
		}
	print_message("  %u (m, n) pairs checked\n", checked);
	assert_int_equal(checked, MAX_N * (MAX_N + 3) / 2);
}

static void trivial_cases(void **state)
{
	uint8_t a[32], b[32], p[1][32] = { { 0 } };
	struct ct_frontier fr;
	char err[200];

	(void)state;
	root_of(5, a);
	root_of(6, b);
	assert_int_equal(ct_consistency_verify(5, a, 5, a, NULL, 0, NULL, err, sizeof err), 0);
	assert_int_equal(ct_consistency_verify(5, a, 5, b, NULL, 0, NULL, err, sizeof err), -1);
	assert_int_equal(ct_consistency_verify(5, a, 5, a, (const uint8_t (*)[32])p, 1, NULL, err,
	                                       sizeof err), -1);
	assert_int_equal(ct_consistency_verify(0, NULL, 6, b, NULL, 0, &fr, err, sizeof err), 0);
	assert_int_equal(fr.size, 0);
	assert_int_equal(ct_consistency_verify(0, NULL, 6, b, (const uint8_t (*)[32])p, 1, NULL,
	                                       err, sizeof err), -1);
	assert_int_equal(ct_consistency_verify(7, a, 6, b, NULL, 0, NULL, err, sizeof err), -1);
	assert_non_null(strstr(err, "larger"));
	assert_int_equal(ct_consistency_build(6, 6, node_cb, NULL, p, &(size_t){ 0 }, err,
	                                      sizeof err), -1);
	assert_int_equal(ct_consistency_build(0, 6, node_cb, NULL, p, &(size_t){ 0 }, err,
	                                      sizeof err), -1);
}

static void start_size(void **state)
{
	(void)state;
	assert_int_equal(ct_start_size(0), 0);
	assert_int_equal(ct_start_size(1), 0);
	assert_int_equal(ct_start_size(2), 0);
	assert_int_equal(ct_start_size(3), 3);
	assert_int_equal(ct_start_size(4), 3);
	assert_int_equal(ct_start_size(5), 5);
	assert_int_equal(ct_start_size(1024), 1023);
	assert_int_equal(ct_start_size((uint64_t)1 << 40), ((uint64_t)1 << 40) - 1);
	for (uint64_t m = 3; m < 200; m++)
		assert_false(is_pow2(ct_start_size(m)));
}

static void root_build(void **state)
{
	uint8_t got[32], want[32], proof[CT_PROOF_MAX][32];
	char err[200];
	size_t k;

	(void)state;
	for (uint64_t n = 1; n <= MAX_N; n++) {
		struct src s = { 0, -1, 0, 0 };

		assert_int_equal(ct_root_build(n, node_cb, &s, got, err, sizeof err), 0);
		root_of(n, want);
		assert_memory_equal(got, want, 32);
		assert_int_equal(s.calls, __builtin_popcountll(n));
	}
	assert_int_equal(ct_root_build(0, node_cb, NULL, got, err, sizeof err), -1);

	/* a missing node: 1, and every other node still asked for */
	struct src miss = { 0, 2, 16, 0 };   /* [64, 68) */
	assert_int_equal(ct_root_build(70, node_cb, &miss, got, err, sizeof err), 1);
	assert_int_equal(miss.calls, 3);
	assert_int_equal(ct_consistency_build(33, 70, node_cb, &miss, proof, &k, err, sizeof err),
	                 1);
	miss = (struct src){ 0, 6, 0, 0 };   /* [0, 64) */
	assert_int_equal(ct_consistency_build(33, 70, node_cb, &miss, proof, &k, err, sizeof err),
	                 0);   /* PROOF(33, 70) does not need [0, 64) whole */
	assert_int_equal(ct_consistency_build(65, 70, node_cb, &miss, proof, &k, err, sizeof err),
	                 1);
	struct src hard = { 0, -1, 0, 1 };
	assert_int_equal(ct_root_build(70, node_cb, &hard, got, err, sizeof err), -1);
	assert_string_equal(err, "hard");
	assert_int_equal(ct_consistency_build(33, 70, node_cb, &hard, proof, &k, err, sizeof err),
	                 -1);
}

/* Big trees: a tree whose leaves are all the empty string, so the
 * perfect subtree at level L is Z[L] = H(Z[L-1] || Z[L-1]) and sizes near
 * 2^64 cost 64 hashes; the proof and the frontier's bookkeeping are what
 * is checked there. */
static uint8_t zlevel[64][32];

static int fake_cb(void *ctx, unsigned level, uint64_t index, uint8_t out[32], char *err,
                   size_t errlen)
{
	(void)ctx;
	(void)index;
	(void)err;
	(void)errlen;
	assert_true(level < 64);
	memcpy(out, zlevel[level], 32);
	return 0;
}

static void huge_sizes(void **state)
{
	static const uint64_t ms[] = { 3, 1000, ((uint64_t)1 << 40) + 12345,
	                               ((uint64_t)1 << 62) + 1 };
	uint8_t proof[CT_PROOF_MAX][32], root[32];
	struct ct_frontier fr;
	char err[200];
	size_t k;

	(void)state;
	ct_leaf_hash(NULL, 0, zlevel[0]);
	for (int l = 1; l < 64; l++)
		ct_node_hash(zlevel[l - 1], zlevel[l - 1], zlevel[l]);
	for (size_t i = 0; i < sizeof ms / sizeof ms[0]; i++) {
		uint64_t m = ms[i], n = UINT64_MAX - 7;
		uint8_t old[32], fold[32];

		assert_int_equal(ct_consistency_build(m, n, fake_cb, NULL, proof, &k, err, sizeof err),
		                 0);
		assert_true(k <= CT_PROOF_MAX);
		assert_int_equal(ct_root_build(n, fake_cb, NULL, root, err, sizeof err), 0);
		if (ct_consistency_verify(m, NULL, n, root, (const uint8_t (*)[32])proof, k, &fr, err,
		                          sizeof err) != 0)
			fail_msg("m %llu: %s", (unsigned long long)m, err);
		assert_int_equal(fr.n, __builtin_popcountll(m));
		assert_int_equal(ct_root_build(m, fake_cb, NULL, old, err, sizeof err), 0);
		ct_frontier_root(&fr, fold);
		assert_memory_equal(fold, old, 32);
		assert_int_equal(ct_consistency_verify(m, old, n, root, (const uint8_t (*)[32])proof,
		                                       k, NULL, err, sizeof err), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(reference_roots),
		cmocka_unit_test(frontier_matches_mth),
		cmocka_unit_test(consistency_every_pair),
		cmocka_unit_test(trivial_cases),
		cmocka_unit_test(start_size),
		cmocka_unit_test(root_build),
		cmocka_unit_test(huge_sizes),
	};

	return cmocka_run_group_tests(tests, setup_leaves, NULL);
}
