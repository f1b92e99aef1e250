/*
 * fuzz_ct_tile.c - libFuzzer target for static-ct-api tiles
 * (sensor/ct/tile.c).
 *
 * Input: [level][width][index: 8 bytes] then a data tile.  The first ten
 * bytes make a ct_tile_path and a ct_tile_width; the rest is read entry by
 * entry with ct_tile_next to its end or its first error.
 * Checks: a path is refused only for a level or width out of range, and
 * one given is NUL-terminated within its room; a width is at most 256;
 * every entry read moves the offset forward, and each of its views (the
 * TimestampedEntry, the certificate, the fingerprints) lies inside the
 * tile and is readable (ASan); its leaf hash is computed; an error says
 * why.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ct/tile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int inside(const uint8_t *p, size_t n, const uint8_t *buf, size_t len)
{
	return p >= buf && (size_t)(p - buf) <= len && n <= len - (size_t)(p - buf);
}

static void paths(const uint8_t *d)
{
	char out[80];
	int level = (int)(d[0] % 10) - 1;   /* -1..8: one past each end */
	unsigned width = d[1] == 0 ? 256u : (d[1] == 255 ? 257u : d[1]);
	uint64_t index = 0;
	int rc;

	for (int i = 0; i < 8; i++)
		index = index << 8 | d[2 + i];
	rc = ct_tile_path(level, index, width, out, sizeof out);
	if ((rc == 0) != (level >= -1 && level <= 7 && width >= 1 && width <= 256))
		abort();
	if (rc == 0 && memchr(out, '\0', sizeof out) == NULL)
		abort();
	/* a small room must be refused, not overrun */
	(void)ct_tile_path(level, index, width, out, (size_t)(d[1] % 24));
	if (ct_tile_width(index, (unsigned)(d[0] % 9), index >> (d[1] % 64)) > CT_TILE_WIDTH)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ct_tile_entry e;
	uint8_t h[CT_HASH_LEN];
	char err[200];
	size_t off = 0, prev;
	int rc;

	if (size < 10)
		return 0;
	paths(data);
	data += 10;
	size -= 10;
	for (;;) {
		prev = off;
		err[0] = '\0';
		rc = ct_tile_next(data, size, &off, &e, err, sizeof err);
		if (rc == 1) {
			if (off != size)
				abort();
			break;
		}
		if (rc == -1) {
			if (err[0] == '\0' || off != prev)
				abort();
			break;
		}
		if (rc != 0 || off <= prev || off > size)
			abort();
		if (!inside(e.te, e.te_len, data + prev, off - prev) ||
		    !inside(e.cert, e.cert_len, data + prev, off - prev) || e.cert_len == 0 ||
		    e.n_chain > CT_TILE_MAX_CHAIN ||
		    (e.n_chain && !inside(e.fingerprints, e.n_chain * CT_HASH_LEN, data + prev,
		                          off - prev)))
			abort();
		if (e.has_leaf_index && e.leaf_index >> 40)
			abort();
		ct_tile_leaf_hash(&e, h);
	}
	return 0;
}
