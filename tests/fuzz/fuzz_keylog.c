/*
 * fuzz_keylog.c - libFuzzer target for the NSS key log reader
 * (sensor/secrets/keylog.c).
 *
 * Input: [0] bits 0-6: how the text is cut into keylog_add_text calls (0:
 * whole, else pieces of up to that * 8 bytes: lines split across calls
 * are read as two lines, which is the contract for separate texts), bit
 * 7: the file check below; then the text.
 * Afterwards every run of 64 hex digits in the text is looked up as a
 * client random, and each secret found must have a length the format
 * allows.  When [0] is 0x80, the same text is also written to a file
 * and read with keylog_add_file (not final: the half-written last line
 * waits) and keylog_refresh: the file path must find every random the
 * whole-text path found.  (Only then: the file's system calls would
 * otherwise be most of the run.)
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "secrets/keylog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int hexval(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
		return (c | 0x20) - 'a' + 10;
	return -1;
}

/* Every run of exactly 64 hex digits in the text is a random to look up
 * (the client randoms the lines name); a found secret must have a length
 * the format allows, and other (the same text read from a file) must
 * find the same. */
static void lookups(struct keylog *kl, struct keylog *other, const uint8_t *d, size_t n)
{
	uint8_t r[TLS13_RANDOM_LEN], s[TLS13_MAX_SECRET], s2[TLS13_MAX_SECRET];
	size_t len, len2, run = 0;

	for (size_t i = 0; i <= n; i++) {
		if (i < n && hexval(d[i]) >= 0) {
			run++;
			continue;
		}
		if (run == 2 * TLS13_RANDOM_LEN) {
			const uint8_t *h = d + i - run;

			for (size_t k = 0; k < TLS13_RANDOM_LEN; k++)
				r[k] = (uint8_t)(hexval(h[2 * k]) << 4 | hexval(h[2 * k + 1]));
			if (keylog_find(kl, r, s, &len)) {
				if (len != 32 && len != 48)
					abort();
				if (other && (!keylog_find(other, r, s2, &len2) || len2 != len ||
				              memcmp(s, s2, len) != 0))
					abort();
			}
		}
		run = 0;
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
	piece = (size_t)(data[0] & 0x7f) * 8;
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
	if (data[0] != 0x80) {
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
