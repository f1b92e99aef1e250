/*
 * fuzz_ct.c - libFuzzer target for the CT entry decoders (sensor/run/ctlog.c:
 * --ct-json): MerkleTreeLeaf and extra_data.
 *
 * Input: [0] bits 0-3: the most certificates (1 + n), bit 4: the entry
 * type for extra_data; [1..2] big-endian: where leaf_input ends and
 * extra_data starts.  A leaf that decodes must point inside the input; a
 * chain that decodes must give at most the limit, each certificate inside
 * the size limit; one that does not must say why and keep nothing.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "run/ctlog.h"

#define FUZZ_MAX_CERT 65536u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int inside(const uint8_t *p, size_t n, const uint8_t *buf, size_t len)
{
	return p >= buf && n <= len && p - buf <= (ptrdiff_t)(len - n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tls_cert c[17];
	struct ct_leaf l;
	char err[256];
	const uint8_t *leaf, *extra;
	size_t split, n = 99, max, leaf_len, extra_len;

	if (size < 3)
		return 0;
	max = 1 + (data[0] & 15u);
	split = (size_t)data[1] << 8 | data[2];
	leaf = data + 3;
	leaf_len = split < size - 3 ? split : size - 3;
	extra = leaf + leaf_len;
	extra_len = size - 3 - leaf_len;
	if (ct_leaf_decode(leaf, leaf_len, &l, err, sizeof err) == 0) {
		if (l.type == CT_X509_ENTRY && !inside(l.cert, l.cert_len, leaf, leaf_len))
			abort();
		if (l.type == CT_PRECERT_ENTRY && (!inside(l.issuer_key_hash, 32, leaf, leaf_len) ||
		                                   !inside(l.tbs, l.tbs_len, leaf, leaf_len)))
			abort();
	} else if (err[0] == '\0') {
		abort();
	}
	err[0] = '\0';
	if (ct_extra_decode(data[0] & 16u ? CT_PRECERT_ENTRY : CT_X509_ENTRY, extra, extra_len, max,
	                    FUZZ_MAX_CERT, c, &n, err, sizeof err) < 0) {
		if (n != 0 || err[0] == '\0')
			abort();
		return 0;
	}
	if (n > max)
		abort();
	for (size_t i = 0; i < n; i++)
		if (c[i].len == 0 || c[i].len > FUZZ_MAX_CERT || c[i].len > extra_len)
			abort();
	certfile_free_certs(c, n);
	return 0;
}
