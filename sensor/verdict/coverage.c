/*
 * coverage.c - per owner and asset, what was checked (see
 * include/verdict/coverage.h).
 *
 * Rows live in one array in the order first seen, and are handed out
 * sorted by owner and asset (the same order whatever the workers); an
 * open-addressing index of 2 * COVERAGE_MAX_ROWS slots finds
 * a row by the FNV-1a hash of its owner and asset.  The names come from
 * the policy, not the wire, except an SNI, which is bounded by the
 * policy's match (a protected name); the hash need not be keyed.
 *
 * Must not: decide a verdict (policy.c does).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "verdict/coverage.h"

#define N_SLOTS (2u * COVERAGE_MAX_ROWS)

struct coverage {
	pthread_mutex_t lock;
	struct coverage_row *rows;   /* owned; grows to COVERAGE_MAX_ROWS */
	size_t n, cap;
	uint16_t slot[N_SLOTS];      /* row index + 1; 0 empty */
	uint64_t dropped;
};

const char *coverage_class_name(enum coverage_class c)
{
	static const char *const names[COV_N] = {
		[COV_VERIFIED] = "verified",
		[COV_VERIFIED_TLS13] = "verified_tls13",
		[COV_FINGERPRINT] = "fingerprint",
		[COV_RESUMED] = "resumed",
		[COV_MIDSTREAM] = "midstream",
		[COV_NO_KEYLOG] = "no_keylog",
		[COV_NO_KEY] = "no_key",
		[COV_DECRYPT_FAILED] = "decryption_failed",
		[COV_UNSUPPORTED] = "unsupported",
		[COV_INCOMPLETE] = "incomplete",
	};

	return (unsigned)c < COV_N ? names[c] : "unknown";
}

int coverage_unchecked(enum coverage_class c)
{
	return c != COV_VERIFIED && c != COV_VERIFIED_TLS13 && c != COV_FINGERPRINT;
}

struct coverage *coverage_new(void)
{
	struct coverage *c = calloc(1, sizeof *c);   /* owned by the caller */

	if (c && pthread_mutex_init(&c->lock, NULL) != 0) {
		free(c);
		return NULL;
	}
	return c;
}

void coverage_free(struct coverage *c)
{
	if (!c)
		return;
	pthread_mutex_destroy(&c->lock);
	free(c->rows);
	free(c);
}

static uint32_t name_hash(const char *owner, const char *asset)
{
	uint32_t h = 2166136261u;

	for (const char *p = owner; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	h = (h ^ 0xff) * 16777619u;
	for (const char *p = asset; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	return h;
}

/* The row of (owner, asset), made if there is room; NULL otherwise.
 * Called with the lock held.  Names longer than a row holds are cut, and
 * compared as cut. */
static struct coverage_row *row_get(struct coverage *c, const char *owner, const char *asset)
{
	char o[sizeof c->rows->owner], a[sizeof c->rows->asset];
	size_t i;

	snprintf(o, sizeof o, "%s", owner);
	snprintf(a, sizeof a, "%s", asset);
	for (i = name_hash(o, a) % N_SLOTS; c->slot[i] != 0; i = (i + 1) % N_SLOTS) {
		struct coverage_row *r = &c->rows[c->slot[i] - 1];

		if (strcmp(r->owner, o) == 0 && strcmp(r->asset, a) == 0)
			return r;
	}
	if (c->n >= COVERAGE_MAX_ROWS)
		return NULL;
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 16;
		struct coverage_row *nr = realloc(c->rows, cap * sizeof *nr);   /* owned by c */

		if (!nr)
			return NULL;
		c->rows = nr;
		c->cap = cap;
	}
	memset(&c->rows[c->n], 0, sizeof c->rows[c->n]);
	memcpy(c->rows[c->n].owner, o, sizeof o);
	memcpy(c->rows[c->n].asset, a, sizeof a);
	c->slot[i] = (uint16_t)++c->n;
	return &c->rows[c->n - 1];
}

void coverage_count(struct coverage *c, const char *owner, const char *asset,
                    enum coverage_class cls)
{
	struct coverage_row *r;

	if (!c || (unsigned)cls >= COV_N)
		return;
	pthread_mutex_lock(&c->lock);
	r = row_get(c, owner, asset);
	if (r)
		r->n[cls]++;
	else
		c->dropped++;
	pthread_mutex_unlock(&c->lock);
}

static int row_cmp(const void *a, const void *b)
{
	const struct coverage_row *x = a, *y = b;
	int r = strcmp(x->owner, y->owner);

	return r ? r : strcmp(x->asset, y->asset);
}

size_t coverage_rows(struct coverage *c, struct coverage_row *out, size_t max,
                     uint64_t *dropped)
{
	size_t n;

	if (!c) {
		*dropped = 0;
		return 0;
	}
	pthread_mutex_lock(&c->lock);
	n = c->n;
	if (out && max)
		memcpy(out, c->rows, (n < max ? n : max) * sizeof *out);
	*dropped = c->dropped;
	pthread_mutex_unlock(&c->lock);
	/* Sorted: several workers meet the rows in different orders. */
	if (out && max)
		qsort(out, n < max ? n : max, sizeof *out, row_cmp);
	return n;
}

void coverage_print(struct coverage *c, FILE *f)
{
	struct coverage_row *rows;
	uint64_t dropped;
	size_t n = coverage_rows(c, NULL, 0, &dropped);

	if (n == 0)
		return;
	rows = malloc(n * sizeof *rows);   /* freed here */
	if (!rows)
		return;
	n = coverage_rows(c, rows, n, &dropped);
	for (size_t i = 0; i < n; i++) {
		const struct coverage_row *r = &rows[i];
		uint64_t unchecked = 0;
		int first = 1;

		for (int k = 0; k < COV_N; k++)
			if (coverage_unchecked((enum coverage_class)k))
				unchecked += r->n[k];
		fprintf(f, "  coverage: %s %s: verified %llu (TLS 1.3 decrypted %llu), fingerprint "
		        "only %llu, not checked %llu", r->owner, r->asset,
		        (unsigned long long)(r->n[COV_VERIFIED] + r->n[COV_VERIFIED_TLS13]),
		        (unsigned long long)r->n[COV_VERIFIED_TLS13],
		        (unsigned long long)r->n[COV_FINGERPRINT], (unsigned long long)unchecked);
		for (int k = 0; k < COV_N; k++) {
			if (!coverage_unchecked((enum coverage_class)k) || r->n[k] == 0)
				continue;
			fprintf(f, "%s%s %llu", first ? " (" : ", ",
			        coverage_class_name((enum coverage_class)k), (unsigned long long)r->n[k]);
			first = 0;
		}
		fprintf(f, "%s\n", first ? "" : ")");
	}
	if (dropped)
		fprintf(f, "  coverage: %llu handshakes not counted (more than %u owner and asset "
		        "rows)\n", (unsigned long long)dropped, COVERAGE_MAX_ROWS);
	free(rows);
}
