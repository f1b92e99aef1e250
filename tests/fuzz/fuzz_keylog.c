/*
 * fuzz_keylog.c - libFuzzer target for the NSS key log reader
 * (sensor/keylog.c).
 *
 * Input: [0] how the text is cut into keylog_add_text calls (0: whole,
 * else pieces of up to [0] * 8 bytes: lines split across calls are read
 * as two lines, which is the contract for separate texts), then the text.
 * Afterwards every 32-byte window of the input is looked up, and each
 * secret found must have a length the format allows.  When [0] is 0, the
 * same text is also written to a file and read with keylog_add_file (not
 * final: the half-written last line waits) and keylog_refresh: the file
 * path must find every random the whole-text path found.  (Only then:
 * the file's system calls would otherwise be most of the run.)
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "keylog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void lookups(struct keylog *kl, struct keylog *other, const uint8_t *d, size_t n)
{
	uint8_t s[TLS13_MAX_SECRET], s2[TLS13_MAX_SECRET];
	size_t len, len2;

	for (size_t i = 0; i + TLS13_RANDOM_LEN <= n; i++) {
		if (!keylog_find(kl, d + i, s, &len))
			continue;
		if (len != 32 && len != 48)
			abort();
		if (other && (!keylog_find(other, d + i, s2, &len2) || len2 != len ||
		              memcmp(s, s2, len) != 0))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct keylog *whole, *file;
	struct keylog_counts c;
	char path[64], err[256];
	const uint8_t *text;
	size_t n, piece;
	FILE *f;

	if (size < 1)
		return 0;
	piece = (size_t)data[0] * 8;
	text = data + 1;
	n = size - 1;
	whole = keylog_new();
	file = keylog_new();
	if (!whole || !file)
		abort();
	if (piece == 0) {
		keylog_add_text(whole, text, n);
	} else {
		for (size_t off = 0; off < n; off += piece)
			keylog_add_text(whole, text + off, n - off < piece ? n - off : piece);
	}
	keylog_counts(whole, &c);
	if (c.malformed > c.lines || c.entries > c.lines)
		abort();
	if (piece != 0) {
		lookups(whole, NULL, data, size);
		keylog_free(whole);
		keylog_free(file);
		return 0;
	}

	snprintf(path, sizeof path, "%s/fuzz_keylog.%d", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
	         (int)getpid());
	f = fopen(path, "wb");
	if (!f)
		abort();
	fwrite(text, 1, n, f);
	fputc('\n', f);     /* complete the last line, so both paths read it */
	fclose(f);
	if (keylog_add_file(file, path, 0, err, sizeof err) < 0)
		abort();
	keylog_refresh(file);
	unlink(path);
	lookups(whole, file, data, size);
	keylog_free(whole);
	keylog_free(file);
	return 0;
}
