/*
 * test_ct_tile.c - sensor/ct/tile.c: tlog-tiles paths and widths, and a
 * data tile of x509 and precert TileLeaf entries (C2SP static-ct-api)
 * built byte by byte here, read back whole and cut at every byte.
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

#include "ct/tile.h"

static void path_is(int level, uint64_t index, unsigned width, const char *want)
{
	char out[100];

	assert_int_equal(ct_tile_path(level, index, width, out, sizeof out), 0);
	assert_string_equal(out, want);
	/* one byte short of room: refused */
	assert_int_equal(ct_tile_path(level, index, width, out, strlen(want)), -1);
	assert_int_equal(ct_tile_path(level, index, width, out, strlen(want) + 1), 0);
}

static void paths(void **state)
{
	char out[100];

	(void)state;
	path_is(0, 0, 256, "tile/0/000");
	path_is(0, 1, 256, "tile/0/001");
	path_is(1, 255, 256, "tile/1/255");
	path_is(2, 256, 256, "tile/2/256");
	path_is(0, 1000, 256, "tile/0/x001/000");
	path_is(0, 1234067, 256, "tile/0/x001/x234/067");
	path_is(-1, 1234067, 256, "tile/data/x001/x234/067");
	path_is(0, (uint64_t)1 << 40, 256, "tile/0/x001/x099/x511/x627/776");
	path_is(-1, 5, 17, "tile/data/005.p/17");
	path_is(3, 1000, 1, "tile/3/x001/000.p/1");
	path_is(0, UINT64_MAX, 255, "tile/0/x018/x446/x744/x073/x709/x551/615.p/255");
	assert_int_equal(ct_tile_path(0, 0, 0, out, sizeof out), -1);
	assert_int_equal(ct_tile_path(0, 0, 257, out, sizeof out), -1);
	assert_int_equal(ct_tile_path(-2, 0, 256, out, sizeof out), -1);
	assert_int_equal(ct_tile_path(8, 0, 256, out, sizeof out), -1);
	assert_int_equal(ct_tile_path(0, 0, 256, out, 0), -1);
}

static void widths(void **state)
{
	(void)state;
	/* C2SP static-ct-api's example: a tree of 70,000 */
	assert_int_equal(ct_tile_width(70000, 0, 272), 256);
	assert_int_equal(ct_tile_width(70000, 0, 273), 112);
	assert_int_equal(ct_tile_width(70000, 0, 274), 0);
	assert_int_equal(ct_tile_width(70000, 1, 0), 256);
	assert_int_equal(ct_tile_width(70000, 1, 1), 17);
	assert_int_equal(ct_tile_width(70000, 2, 0), 1);
	assert_int_equal(ct_tile_width(70000, 3, 0), 0);
	/* "a tree of size 256: a full level 0 tile and a partial level 1 tile of width 1" */
	assert_int_equal(ct_tile_width(256, 0, 0), 256);
	assert_int_equal(ct_tile_width(256, 0, 1), 0);
	assert_int_equal(ct_tile_width(256, 1, 0), 1);
	assert_int_equal(ct_tile_width(0, 0, 0), 0);
	assert_int_equal(ct_tile_width(UINT64_MAX, 0, UINT64_MAX), 0);
	assert_int_equal(ct_tile_width(UINT64_MAX, 0, UINT64_MAX / 256 - 1), 256);
	assert_int_equal(ct_tile_width(UINT64_MAX, 0, UINT64_MAX / 256), 255);
	assert_int_equal(ct_tile_width(UINT64_MAX, 7, 0), 255);
	assert_int_equal(ct_tile_width(UINT64_MAX, 8, 0), 0);
}

/* ---- a data tile built by hand ------------------------------------------------- */

struct w {
	uint8_t b[8192];
	size_t n;
};

static void put(struct w *w, uint64_t v, int bytes)
{
	for (int i = bytes - 1; i >= 0; i--)
		w->b[w->n++] = (uint8_t)(v >> (8 * i));
}

static void put_bytes(struct w *w, const void *p, size_t n)
{
	memcpy(w->b + w->n, p, n);
	w->n += n;
}

struct built {
	size_t start, te_end, end;
	size_t cert_off, cert_len;
	uint64_t index;
	int precert;
	size_t n_chain;
};

/* One TileLeaf: timestamp, type, cert(s), extensions (an unknown one and
 * leaf_index), the chain. */
static void add_entry(struct w *w, struct built *e, int precert, uint64_t index,
                      size_t n_chain)
{
	static const char cert[] = "0\x82-a certificate's DER, not parsed here";
	static const char tbs[] = "0\x82-a TBSCertificate";
	static const char pre[] = "0\x82-the pre_certificate, signed and poisoned";
	uint8_t ikh[32], fp[32];

	e->start = w->n;
	e->precert = precert;
	e->index = index;
	e->n_chain = n_chain;
	put(w, 1733580000000ull + index, 8);
	put(w, (uint64_t)precert, 2);
	if (!precert) {
		put(w, sizeof cert, 3);
		e->cert_off = w->n;
		e->cert_len = sizeof cert;
		put_bytes(w, cert, sizeof cert);
	} else {
		memset(ikh, 0x11, sizeof ikh);
		put_bytes(w, ikh, sizeof ikh);
		put(w, sizeof tbs, 3);
		put_bytes(w, tbs, sizeof tbs);
	}
	put(w, 3 + 2 + 3 + 5, 2);   /* extensions */
	put(w, 7, 1);               /* an unknown type, passed over */
	put(w, 2, 2);
	put(w, 0xbeef, 2);
	put(w, 0, 1);               /* leaf_index */
	put(w, 5, 2);
	put(w, index, 5);
	e->te_end = w->n;
	if (precert) {
		put(w, sizeof pre, 3);
		e->cert_off = w->n;
		e->cert_len = sizeof pre;
		put_bytes(w, pre, sizeof pre);
	}
	put(w, 32 * n_chain, 2);
	for (size_t i = 0; i < n_chain; i++) {
		memset(fp, (int)(0xa0 + i), sizeof fp);
		put_bytes(w, fp, sizeof fp);
	}
	e->end = w->n;
}

static struct w tile;
static struct built ents[4];

static int build_tile(void **state)
{
	(void)state;
	tile.n = 0;
	add_entry(&tile, &ents[0], 0, 256, 1);
	add_entry(&tile, &ents[1], 1, 257, 2);
	add_entry(&tile, &ents[2], 0, (uint64_t)1 << 39, 0);
	add_entry(&tile, &ents[3], 1, 0xffffffffffull, CT_TILE_MAX_CHAIN);
	return 0;
}

static void tile_reads_back(void **state)
{
	struct ct_tile_entry e;
	size_t off = 0;
	char err[200];
	uint8_t got[32], want[32], mtl[4096];

	(void)state;
	for (int i = 0; i < 4; i++) {
		const struct built *b = &ents[i];

		assert_int_equal(ct_tile_next(tile.b, tile.n, &off, &e, err, sizeof err), 0);
		assert_int_equal(off, b->end);
		assert_int_equal(e.timestamp_ms, 1733580000000ull + b->index);
		assert_int_equal(e.precert, b->precert);
		assert_ptr_equal(e.te, tile.b + b->start);
		assert_int_equal(e.te_len, b->te_end - b->start);
		assert_ptr_equal(e.cert, tile.b + b->cert_off);
		assert_int_equal(e.cert_len, b->cert_len);
		assert_int_equal(e.n_chain, b->n_chain);
		for (size_t j = 0; j < e.n_chain; j++)
			assert_int_equal(e.fingerprints[32 * j + 5], 0xa0 + j);
		assert_true(e.has_leaf_index);
		assert_int_equal(e.leaf_index, b->index);
		/* SHA-256(0x00 || MerkleTreeLeaf(v1, timestamped_entry, te)) */
		mtl[0] = 0;
		mtl[1] = 0;
		mtl[2] = 0;
		memcpy(mtl + 3, tile.b + b->start, e.te_len);
		SHA256(mtl, 3 + e.te_len, want);
		ct_tile_leaf_hash(&e, got);
		assert_memory_equal(got, want, 32);
	}
	assert_int_equal(ct_tile_next(tile.b, tile.n, &off, &e, err, sizeof err), 1);
	off = tile.n + 1;
	assert_int_equal(ct_tile_next(tile.b, tile.n, &off, &e, err, sizeof err), -1);
}

/* Every cut of the tile: the entries before the cut read, the one cut
 * through refused with the place said, never a read past the cut (ASan
 * runs this too, with each cut copied to its own allocation). */
static void every_truncation(void **state)
{
	(void)state;
	for (size_t cut = 0; cut < tile.n; cut++) {
		uint8_t *copy = malloc(cut ? cut : 1);
		struct ct_tile_entry e;
		size_t off = 0;
		char err[200];
		int rc, whole = 0;

		assert_non_null(copy);
		memcpy(copy, tile.b, cut);
		while ((rc = ct_tile_next(copy, cut, &off, &e, err, sizeof err)) == 0)
			whole++;
		int ends_at_entry = 0;
		for (int i = 0; i < 4; i++)
			ends_at_entry |= ents[i].end == cut;
		if (cut == 0 || ends_at_entry) {
			assert_int_equal(rc, 1);
		} else {
			assert_int_equal(rc, -1);
			assert_non_null(strstr(err, "the entry at byte"));
		}
		assert_true(whole <= 4);
		free(copy);
	}
}

static void bad_entries(void **state)
{
	struct w w;
	struct built b;
	struct ct_tile_entry e;
	size_t off;
	char err[200];

	(void)state;
#define EXPECT_BAD(what)                                                                   \
	do {                                                                               \
		off = 0;                                                                   \
		assert_int_equal(ct_tile_next(w.b, w.n, &off, &e, err, sizeof err), -1);   \
		assert_non_null(strstr(err, what));                                        \
	} while (0)
	/* an entry type 2 */
	w.n = 0;
	add_entry(&w, &b, 0, 1, 0);
	w.b[9] = 2;
	EXPECT_BAD("entry_type");
	/* an extension longer than the extensions */
	w.n = 0;
	add_entry(&w, &b, 0, 1, 0);
	w.b[b.te_end - 7] = 4;
	EXPECT_BAD("runs past the extensions");
	/* leaf_index of 4 bytes */
	w.n = 0;
	put(&w, 1, 8);
	put(&w, 0, 2);
	put(&w, 1, 3);
	put(&w, 0x30, 1);
	put(&w, 7, 2);
	put(&w, 0, 1);
	put(&w, 4, 2);
	put(&w, 9, 4);
	put(&w, 0, 2);
	EXPECT_BAD("not 5 bytes");
	/* a chain of 33 bytes */
	w.n = 0;
	add_entry(&w, &b, 0, 1, 1);
	w.b[w.n - 33] = 33;
	w.b[w.n++] = 0;
	EXPECT_BAD("whole number");
	/* 17 fingerprints */
	w.n = 0;
	add_entry(&w, &b, 0, 1, CT_TILE_MAX_CHAIN + 1);
	EXPECT_BAD("CT_TILE_MAX_CHAIN");
	/* an empty certificate */
	w.n = 0;
	put(&w, 1, 8);
	put(&w, 0, 2);
	put(&w, 0, 3);
	put(&w, 0, 2);
	put(&w, 0, 2);
	EXPECT_BAD("empty");
	/* a giant length field */
	w.n = 0;
	put(&w, 1, 8);
	put(&w, 0, 2);
	put(&w, 0xffffff, 3);
	put(&w, 0, 2);
	EXPECT_BAD("runs past");
	/* leaf_index twice */
	w.n = 0;
	put(&w, 1, 8);
	put(&w, 0, 2);
	put(&w, 1, 3);
	put(&w, 0x30, 1);
	put(&w, 16, 2);
	for (int i = 0; i < 2; i++) {
		put(&w, 0, 1);
		put(&w, 5, 2);
		put(&w, 9, 5);
	}
	put(&w, 0, 2);
	EXPECT_BAD("twice");
	/* the minimum: no extensions, no chain, a one-byte certificate */
	w.n = 0;
	put(&w, 1, 8);
	put(&w, 0, 2);
	put(&w, 1, 3);
	put(&w, 0x30, 1);
	put(&w, 0, 2);
	put(&w, 0, 2);
	off = 0;
	assert_int_equal(ct_tile_next(w.b, w.n, &off, &e, err, sizeof err), 0);
	assert_false(e.has_leaf_index);
	assert_int_equal(e.n_chain, 0);
	assert_int_equal(off, w.n);
#undef EXPECT_BAD
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(paths),
		cmocka_unit_test(widths),
		cmocka_unit_test_setup(tile_reads_back, build_tile),
		cmocka_unit_test_setup(every_truncation, build_tile),
		cmocka_unit_test(bad_entries),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
