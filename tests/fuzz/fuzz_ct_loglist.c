/*
 * fuzz_ct_loglist.c - libFuzzer target for log lists (sensor/ct/loglist.c):
 * Chrome's log_list.json v3 and the text form, told apart by the first
 * non-blank byte as in use.
 *
 * Input: the list's bytes (seeds of both forms, with real keys, from
 * tests/fuzz/seeds.py).
 * Checks: a list that is refused says why and holds nothing; one that is
 * read holds at most CT_LOGLIST_MAX_LOGS logs, each with a parsed key whose
 * SHA-256 is its log id, a URL ending in '/', an origin for a static log
 * and a name; every refused entry was said through the warning callback,
 * and nothing is left after ct_loglist_free (LeakSanitizer).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "ct/loglist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void on_warn(void *ctx, const char *msg)
{
	(*(uint64_t *)ctx)++;
	if (strlen(msg) == 0)
		abort();
}

static void check_log(const struct ct_log_desc *d)
{
	uint8_t id[CT_HASH_LEN];
	size_t ul;

	if (!d->key || !d->key_der || !d->name || !d->url)
		abort();
	SHA256(d->key_der, d->key_len, id);
	if (memcmp(id, d->log_id, CT_HASH_LEN) != 0)
		abort();
	ul = strlen(d->url);
	if (ul == 0 || d->url[ul - 1] != '/')
		abort();
	if ((d->api == CT_API_STATIC) != (d->origin != NULL))
		abort();
	(void)ct_log_followed(d);
	if (!ct_log_state_name(d->state))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ct_log_list l;
	uint64_t warned = 0;
	char err[300];
	int rc;

	err[0] = '\0';
	rc = ct_loglist_parse(data, size, "fuzz", on_warn, &warned, &l, err, sizeof err);
	if (rc == -1) {
		if (err[0] == '\0' || l.n != 0 || l.logs)
			abort();
		return 0;
	}
	if (rc != 0 || l.n > CT_LOGLIST_MAX_LOGS || warned != l.refused)
		abort();
	for (size_t i = 0; i < l.n; i++)
		check_log(&l.logs[i]);
	ct_loglist_free(&l);
	return 0;
}
