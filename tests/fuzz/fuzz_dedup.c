/*
 * fuzz_dedup.c - libFuzzer target for the alert windows' state file
 * (--state FILE, sensor/event/dedup.c), which a restart reads and anyone with
 * write access to the directory could have edited.
 *
 * Input: the text of a state file.  One that loads must stay within the
 * table's limit, take a sighting of a made-up alert, close its windows,
 * and be written by dedup_save and read back to the same number of
 * entries (what certsentry writes it must read).  One that does not load
 * must say why as FILE:LINE: reason, or FILE: reason.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "event/dedup.h"

/* Small, so that the limit is reached by inputs a fuzzer finds. */
#define FUZZ_MAX_KEYS 16u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void count_report(void *ctx, const struct dedup_report *r)
{
	size_t *n = ctx;

	if (r->count == 0 || r->new_since > r->count || !r->owner)
		abort();
	(*n)++;
}

static void file_of(char *path, size_t len, const char *what)
{
	snprintf(path, len, "%s/fuzz_dedup.%s.%d", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
	         what, (int)getpid());
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t ip[16] = { 1, 1, 1, 1 }, cip[16] = { 203, 0, 113, 7 };
	char in[128], out[128], err[1024];
	struct dedup *d, *e;
	struct dedup_alert a;
	size_t n, reports = 0;
	FILE *f;

	file_of(in, sizeof in, "in");
	file_of(out, sizeof out, "out");
	f = fopen(in, "wb");
	if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
		abort();
	d = dedup_new(3600000000ull, FUZZ_MAX_KEYS);
	if (!d)
		abort();
	err[0] = '\0';
	if (dedup_load(d, in, err, sizeof err) < 0) {
		if (strncmp(err, in, strlen(in)) != 0 || err[strlen(in)] != ':')
			abort();
		dedup_free(d);
		unlink(in);
		return 0;
	}
	unlink(in);
	if (dedup_size(d) > FUZZ_MAX_KEYS)
		abort();
	memset(&a, 0, sizeof a);
	a.ts_us = 1706781600000000ull;
	a.owner = "o";
	a.verdict = VERDICT_UNAPPROVED_ISSUER;
	a.chain_sha256 = "";
	a.family = 4;
	a.server_ip = ip;
	a.server_port = 443;
	a.client_ip = cip;
	a.client_port = 20000;
	a.severity = 1;
	dedup_see(d, &a, count_report, &reports);
	if (dedup_size(d) > FUZZ_MAX_KEYS)
		abort();
	n = dedup_size(d);
	if (dedup_save(d, out, err, sizeof err) < 0)
		abort();
	e = dedup_new(3600000000ull, FUZZ_MAX_KEYS);
	if (!e || dedup_load(e, out, err, sizeof err) < 0 || dedup_size(e) != n)
		abort();
	unlink(out);
	dedup_final(e, 0, count_report, &reports);
	dedup_expire(d, UINT64_MAX, count_report, &reports);
	if (dedup_size(d) != 0)
		abort();
	dedup_free(e);
	dedup_free(d);
	return 0;
}
