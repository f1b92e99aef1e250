/*
 * fuzz_baseline.c - libFuzzer target for the fingerprint baseline parser
 * (sensor/verdict/fingerprint.c).
 *
 * Input: [0] bit 0: check the round trip (below), then the text of a
 * baseline file.  A text that loads must give shapes and endpoints within
 * the limits, survive a check and a learn of a made-up handshake at each
 * endpoint, and, with bit 0, be written by fp_save and read back to the
 * same number of endpoints and shapes (what certsentry writes it must
 * read).  A text that does not load must say why, as FILE:LINE.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "verdict/fingerprint.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void exercise(struct fp_baseline *b)
{
	for (size_t i = 0; i < fp_endpoints(b) && i < 8; i++) {
		struct fp_obs o;
		struct fp_result r;
		const uint8_t *ip;
		const char *sni;
		size_t shapes;

		memset(&o, 0, sizeof o);
		fp_endpoint_at(b, i, &o.family, &ip, &o.port, &sni, &shapes);
		if (shapes == 0 || shapes > FP_MAX_SHAPES)
			abort();
		memcpy(o.ip, ip, 16);
		o.sni = sni[0] ? sni : NULL;
		o.ja3s = "771,4866,43-51";
		o.records = 4;
		o.bytes = 1284;
		o.largest = 1097;
		fp_check(b, &o, &r);
		if (r.outcome == FP_NO_BASELINE || memchr(r.what, 0, sizeof r.what) == NULL)
			abort();
		fp_learn(b, &o);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fp_baseline *b, *c;
	char err[1024], path[64];
	size_t eps, shapes;

	if (size < 1)
		return 0;
	b = fp_new(FP_DEF_TOLERANCE);
	if (!b)
		abort();
	err[0] = '\0';
	if (fp_parse_text(b, "f", (const char *)data + 1, size - 1, err, sizeof err) < 0) {
		if (strncmp(err, "f:", 2) != 0)
			abort();
		fp_free(b);
		return 0;
	}
	if (fp_endpoints(b) > FP_MAX_ENDPOINTS || fp_shapes(b) > fp_endpoints(b) * FP_MAX_SHAPES)
		abort();
	exercise(b);
	if (data[0] & 1) {
		eps = fp_endpoints(b);
		shapes = fp_shapes(b);
		snprintf(path, sizeof path, "%s/fuzz_baseline.%d",
		         getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (int)getpid());
		if (fp_save(b, path, err, sizeof err) < 0)
			abort();
		c = fp_new(FP_DEF_TOLERANCE);
		if (!c || fp_load(c, path, err, sizeof err) < 0 || fp_endpoints(c) != eps ||
		    fp_shapes(c) != shapes)
			abort();
		unlink(path);
		fp_free(c);
	}
	fp_free(b);
	return 0;
}
