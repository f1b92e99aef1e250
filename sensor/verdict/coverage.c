/*
 * coverage.c - per owner and asset, what was checked (see
 * include/verdict/coverage.h).
 *
 * Rows live in one array in the order first seen, and are handed out
 * sorted, those with unchecked handshakes first (the same order whatever
 * the workers); an open-addressing index of 2 * COVERAGE_MAX_ROWS slots
 * finds a row by the FNV-1a hash of its owner, type and asset.  The names
 * come from the policy (the entries as the rules wrote them), not the
 * wire; the hash need not be keyed.
 *
 * Must not: decide a verdict (policy.c does).
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
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
	uint64_t hs[COV_N];          /* handshakes, each once (coverage_handshake) */
};

/* What to do when a key log was missing: the same for TLS 1.3 and QUIC. */
#define ADVICE_NO_KEYLOG "give --keylog FILE (the clients' SSLKEYLOGFILE) to read their " \
	"certificates, or --baseline FILE to compare fingerprints"

/* One table for the names, words and hints of the classes, so that the
 * summary, EVE and metrics cannot drift apart. */
static const struct {
	const char *name, *text, *hint;
	enum coverage_group group;
} CLASSES[COV_N] = {
	[COV_APPROVED] = { "approved", "approved", NULL, COV_G_APPROVED },
	[COV_ALERTING] = { "alerting", "alerting", NULL, COV_G_ALERTING },
	[COV_FINGERPRINT] = { "fingerprint", "fingerprint matched", NULL, COV_G_FINGERPRINT },
	[COV_FP_CHANGED] = { "fingerprint_changed", "fingerprint changed", NULL,
	                     COV_G_ALERTING },
	[COV_TLS13_NO_KEYLOG] = { "tls13_no_keylog", "TLS 1.3 without a key log",
	                          ADVICE_NO_KEYLOG,
	                          COV_G_UNCHECKED },
	[COV_QUIC_NO_KEYLOG] = { "quic_no_keylog", "QUIC without a key log",
	                         ADVICE_NO_KEYLOG,
	                         COV_G_UNCHECKED },
	[COV_NO_KEY] = { "no_key", "no secret in the key log",
	                 "the key logs given lack these sessions: log every client that "
	                 "connects to the protected assets", COV_G_UNCHECKED },
	[COV_MIDSTREAM] = { "midstream", "TLS 1.3 without its ClientHello",
	                    "the capture began after the handshake started: let it run "
	                    "before the clients connect", COV_G_UNCHECKED },
	[COV_DECRYPT_FAILED] = { "decryption_failed", "decryption failed",
	                         "the key log's secrets did not open the records: check that "
	                         "the key log belongs to this capture", COV_G_UNCHECKED },
	[COV_UNSUPPORTED] = { "unsupported_suite", "TLS 1.3 suite not read",
	                      "the server chose a cipher suite certsentry does not decrypt "
	                      "(CCM)", COV_G_UNCHECKED },
	[COV_RESUMED] = { "resumed", "resumed without a certificate",
	                  "resumed sessions send no certificate: their first, full handshake "
	                  "is the one to see", COV_G_UNCHECKED },
	[COV_GAP] = { "gap", "gap in the stream",
	              "packets were lost before certsentry: see kernel_drops in the stats "
	              "event, --buffer-size, and the span port's own drops", COV_G_UNCHECKED },
	[COV_TRUNCATED] = { "truncated", "ended before the certificate",
	                    "the connection, or the capture, ended before the server's "
	                    "certificate came", COV_G_UNCHECKED },
	[COV_LIMIT] = { "limit", "a limit ended inspection",
	                "the limits line names the limit hit: raise its option",
	                COV_G_UNCHECKED },
	[COV_MALFORMED] = { "malformed", "malformed handshake",
	                    "the handshake's bytes were not valid TLS: capture it and look",
	                    COV_G_UNCHECKED },
};

static const char *const MATCHES[COV_M_N] = {
	[COV_M_IP] = "ip", [COV_M_SNI] = "sni", [COV_M_SAN_IP] = "san_ip",
	[COV_M_SAN_DNS] = "san_dns", [COV_M_CN] = "cn",
};

const char *coverage_class_name(enum coverage_class c)
{
	return (unsigned)c < COV_N ? CLASSES[c].name : "unknown";
}

const char *coverage_class_text(enum coverage_class c)
{
	return (unsigned)c < COV_N ? CLASSES[c].text : "unknown";
}

const char *coverage_class_hint(enum coverage_class c)
{
	return (unsigned)c < COV_N && CLASSES[c].hint ? CLASSES[c].hint : "";
}

enum coverage_group coverage_group_of(enum coverage_class c)
{
	return (unsigned)c < COV_N ? CLASSES[c].group : COV_G_UNCHECKED;
}

const char *coverage_group_name(enum coverage_group g)
{
	static const char *const names[COV_G_N] = {
		"approved", "alerting", "fingerprint_only", "not_checked"
	};

	return (unsigned)g < COV_G_N ? names[g] : "unknown";
}

int coverage_unchecked(enum coverage_class c)
{
	return coverage_group_of(c) == COV_G_UNCHECKED;
}

const char *coverage_match_name(enum coverage_match m)
{
	return (unsigned)m < COV_M_N ? MATCHES[m] : "unknown";
}

/* policy.c writes the kinds with '-' ("san-ip:"); the names here are
 * their snake_case keys. */
int coverage_match_of(const char *matched)
{
	static const char *const kinds[COV_M_N] = {
		[COV_M_IP] = "ip:", [COV_M_SNI] = "sni:", [COV_M_SAN_IP] = "san-ip:",
		[COV_M_SAN_DNS] = "san-dns:", [COV_M_CN] = "cn:",
	};

	for (int m = 0; m < COV_M_N; m++)
		if (strncmp(matched, kinds[m], strlen(kinds[m])) == 0)
			return m;
	return -1;
}

uint64_t coverage_row_group(const struct coverage_row *r, enum coverage_group g)
{
	uint64_t n = 0;

	for (int k = 0; k < COV_N; k++)
		if (CLASSES[k].group == g)
			n += r->n[k];
	return n;
}

uint64_t coverage_row_total(const struct coverage_row *r)
{
	uint64_t n = 0;

	for (int k = 0; k < COV_N; k++)
		n += r->n[k];
	return n;
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

/* FNV-1a over the owner, type and asset, 0xff between them. */
static uint32_t name_hash(const char *owner, const char *type, const char *asset)
{
	const char *parts[3] = { owner, type, asset };
	uint32_t h = 2166136261u;

	for (int k = 0; k < 3; k++) {
		for (const char *p = parts[k]; *p; p++)
			h = (h ^ (uint8_t)*p) * 16777619u;
		h = (h ^ 0xff) * 16777619u;
	}
	return h;
}

/* The row of (owner, type, asset), made if there is room; NULL otherwise.
 * Called with the lock held.  Names longer than a row holds are cut, and
 * compared as cut. */
static struct coverage_row *row_get(struct coverage *c, const char *owner, const char *type,
                                    const char *asset)
{
	char o[sizeof c->rows->owner], t[sizeof c->rows->type], a[sizeof c->rows->asset];
	size_t i;

	snprintf(o, sizeof o, "%s", owner);
	snprintf(t, sizeof t, "%s", type);
	snprintf(a, sizeof a, "%s", asset);
	for (i = name_hash(o, t, a) % N_SLOTS; c->slot[i] != 0; i = (i + 1) % N_SLOTS) {
		struct coverage_row *r = &c->rows[c->slot[i] - 1];

		if (strcmp(r->owner, o) == 0 && strcmp(r->type, t) == 0 && strcmp(r->asset, a) == 0)
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
	memcpy(c->rows[c->n].type, t, sizeof t);
	memcpy(c->rows[c->n].asset, a, sizeof a);
	c->slot[i] = (uint16_t)++c->n;
	return &c->rows[c->n - 1];
}

void coverage_count(struct coverage *c, const char *owner, const char *type,
                    const char *asset, enum coverage_class cls, unsigned match_bits)
{
	struct coverage_row *r;

	if (!c || (unsigned)cls >= COV_N)
		return;
	pthread_mutex_lock(&c->lock);
	r = row_get(c, owner, type, asset);
	if (r) {
		r->n[cls]++;
		for (int m = 0; m < COV_M_N; m++)
			if (match_bits & (1u << m))
				r->by_match[m]++;
	} else {
		c->dropped++;
	}
	pthread_mutex_unlock(&c->lock);
}

void coverage_handshake(struct coverage *c, enum coverage_class cls)
{
	if (!c || (unsigned)cls >= COV_N)
		return;
	pthread_mutex_lock(&c->lock);
	c->hs[cls]++;
	pthread_mutex_unlock(&c->lock);
}

void coverage_totals(struct coverage *c, uint64_t out[COV_N])
{
	memset(out, 0, COV_N * sizeof(*out));
	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	memcpy(out, c->hs, sizeof(c->hs));
	pthread_mutex_unlock(&c->lock);
}

/* Unchecked handshakes first, most first (the assets a SOC must act on);
 * then by name, so that the order does not depend on which worker met a
 * row first. */
static int row_cmp(const void *a, const void *b)
{
	const struct coverage_row *x = a, *y = b;
	uint64_t ux = coverage_row_group(x, COV_G_UNCHECKED);
	uint64_t uy = coverage_row_group(y, COV_G_UNCHECKED);
	int r;

	if (ux != uy)
		return ux > uy ? -1 : 1;
	if ((r = strcmp(x->owner, y->owner)) != 0)
		return r;
	if ((r = strcmp(x->type, y->type)) != 0)
		return r;
	return strcmp(x->asset, y->asset);
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
	if (out && max)
		qsort(out, n < max ? n : max, sizeof *out, row_cmp);
	return n;
}

/* The reasons for not checking that have a count, largest first, as
 * "text N, text N"; returns the largest (COV_N when none): its hint is
 * the one the summary gives. */
static enum coverage_class print_reasons(const uint64_t n[COV_N], FILE *f)
{
	enum coverage_class order[COV_N], top = COV_N;
	size_t k = 0;

	for (int c = 0; c < COV_N; c++)
		if (coverage_unchecked((enum coverage_class)c) && n[c])
			order[k++] = (enum coverage_class)c;
	/* A handful of classes: insertion sort by count, stable. */
	for (size_t i = 1; i < k; i++)
		for (size_t j = i; j > 0 && n[order[j]] > n[order[j - 1]]; j--) {
			enum coverage_class t = order[j];

			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	for (size_t i = 0; i < k; i++)
		fprintf(f, "%s%s %" PRIu64, i ? ", " : "", coverage_class_text(order[i]),
		        n[order[i]]);
	if (k)
		top = order[0];
	return top;
}

void coverage_print_fact(struct coverage *c, size_t owners, FILE *f)
{
	uint64_t n[COV_N], g[COV_G_N] = { 0 }, total = 0;
	enum coverage_class top;

	coverage_totals(c, n);
	for (int k = 0; k < COV_N; k++) {
		g[coverage_group_of((enum coverage_class)k)] += n[k];
		total += n[k];
	}
	if (!c || owners == 0)
		return;
	if (total == 0) {
		fprintf(f, "  no handshake at a protected asset was seen: check that the capture "
		        "sees the assets' traffic and that --ports has their ports\n");
		return;
	}
	if (g[COV_G_UNCHECKED] == 0) {
		fprintf(f, "  all %" PRIu64 " handshake%s at protected assets %s checked: approved %"
		        PRIu64 ", alerting %" PRIu64 ", fingerprint only %" PRIu64 "\n", total,
		        total == 1 ? "" : "s", total == 1 ? "was" : "were", g[COV_G_APPROVED], g[COV_G_ALERTING], g[COV_G_FINGERPRINT]);
		return;
	}
	fprintf(f, "  %" PRIu64 " of %" PRIu64 " handshake%s at protected assets went unchecked: ",
	        g[COV_G_UNCHECKED], total, total == 1 ? "" : "s");
	top = print_reasons(n, f);
	fprintf(f, "; %s\n", coverage_class_hint(top));
}

static void print_row(const struct coverage_row *r, FILE *f)
{
	uint64_t unchecked = coverage_row_group(r, COV_G_UNCHECKED);

	uint64_t total = coverage_row_total(r);

	fprintf(f, "  coverage: %s %s %s: %" PRIu64 " handshake%s: ", r->owner, r->type, r->asset,
	        total, total == 1 ? "" : "s");
	if (unchecked) {
		fprintf(f, "not checked %" PRIu64 " (", unchecked);
		print_reasons(r->n, f);
		fprintf(f, "), ");
	}
	fprintf(f, "approved %" PRIu64 ", alerting %" PRIu64 ", fingerprint only %" PRIu64 "%s\n",
	        coverage_row_group(r, COV_G_APPROVED), coverage_row_group(r, COV_G_ALERTING),
	        coverage_row_group(r, COV_G_FINGERPRINT), unchecked ? "" : ", not checked 0");
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
	for (size_t i = 0; i < n; i++)
		print_row(&rows[i], f);
	if (dropped)
		fprintf(f, "  coverage: %" PRIu64 " handshakes not counted (more than %u owner and "
		        "asset rows)\n", dropped, COVERAGE_MAX_ROWS);
	free(rows);
}
