/*
 * follow.c - CT logs followed live (ctfollow.h): one thread, every log a
 * small state machine, libcurl's multi interface underneath (cthttp.h).
 *
 * A log's life, each step taken only when the one before it verified:
 *   1. a head (get-sth / checkpoint), its signature checked with the
 *      log's key from the list;
 *   2. proved consistent with the head verified before it (RFC 6962
 *      get-sth-consistency, or a proof built from the log's hash tiles);
 *   3. entries read in batches (--ct-batch) after the verified frontier,
 *      pages in parallel (--ct-parallel) within the rate (--ct-rate);
 *      each entry hashed as it arrives;
 *   4. the batch proved to belong to the head: its computed root is the
 *      head's, or a consistency proof from the batch's end to the head
 *      verifies against the root computed here;
 *   5. only then its entries judged (the --ct-json judge), the frontier
 *      moved and the state saved.
 * A failure at 1, 2 or 4 is the log's own alert, with the evidence, and
 * the log is no longer followed; every other log goes on.  A failed
 * request is asked again after a back-off (429: after Retry-After).
 * SIGTERM stops between steps: a batch not yet proved is dropped unjudged,
 * so a restart from the state file neither repeats nor loses an entry.
 */
#define _XOPEN_SOURCE 700   /* strptime */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/digest.h"
#include "core/fileio.h"
#include "core/stats.h"
#include "event/eve_stats.h"
#include "event/metrics.h"
#include "event/output.h"
#include "run/ctfollow.h"
#include "run/ctjson.h"
#include "run/ctlog.h"
#include "run/options.h"

#include "cthttp.h"
#include "follow_int.h"

static volatile sig_atomic_t stop_sig, hup_sig;

static void on_stop(int sig)
{
	stop_sig = sig;
}

static void on_hup(int sig)
{
	(void)sig;
	hup_sig = 1;
}

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void say(const struct flog *L, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(const struct flog *L, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%scertsentry: ct: %s: %s\n", L->F->o->progress ? "\r\033[K" : "",
	        L->d.name, msg);
}

/* ---- requests ------------------------------------------------------------ */

enum fkind { K_HEAD, K_PROOF, K_ENTRIES, K_DATA_TILE, K_HASH_TILE, K_ISSUER, K_PROBE };

struct freq {
	struct flog *L;
	enum fkind kind;
	enum fwant purpose;   /* K_PROOF */
	uint64_t a, b;        /* K_ENTRIES [a, b); K_PROOF (a, b); tiles: index a, width b */
	unsigned level;       /* K_HASH_TILE */
	uint8_t fp[CT_HASH_LEN];   /* K_ISSUER: its fingerprint (the table may grow meanwhile) */
};

static void on_done(const struct cth_result *r);

/* GET path under the log's URL.  0, or -1 (out of memory: the log backs off). */
static int request(struct flog *L, const char *path, size_t max, struct freq *q)
{
	char url[2048];
	struct freq *copy = malloc(sizeof(*copy));   /* freed by on_done */

	if (!copy)
		return -1;
	*copy = *q;
	copy->L = L;
	snprintf(url, sizeof(url), "%s%s", L->d.url, path);
	if (cth_get(L->F->http, url, max, on_done, copy) < 0) {
		free(copy);
		return -1;
	}
	L->requests++;
	g_stats.ct_requests++;
	if (L->F->o->rate)
		L->next_req_at = (L->next_req_at > mono() ? L->next_req_at : mono()) +
		                 1.0 / L->F->o->rate;
	return 0;
}

static int may_request(const struct flog *L, double now)
{
	return now >= L->next_at && now >= L->next_req_at;
}

/* A request that failed: back off (Retry-After when the log said), and
 * under --ct-once give up after CTF_ONCE_MAX_FAILURES in a row. */
static void failed(struct flog *L, const struct cth_result *r, const char *what)
{
	double wait;

	L->errors++;
	L->failures++;
	if (r && r->status == 429) {
		L->rate_limited++;
		g_stats.ct_rate_limited++;
	} else {
		g_stats.ct_http_errors++;
	}
	L->backoff_s = L->backoff_s ? L->backoff_s * 2 : 1;
	if (L->backoff_s > CTF_MAX_BACKOFF_S)
		L->backoff_s = CTF_MAX_BACKOFF_S;
	wait = L->backoff_s;
	if (r && r->retry_after_s)
		wait = r->retry_after_s > CTF_MAX_RETRY_AFTER_S ? CTF_MAX_RETRY_AFTER_S :
		       (double)r->retry_after_s;
	if (L->next_at < mono() + wait)
		L->next_at = mono() + wait;
	if (r && r->status)
		say(L, "%s: HTTP %ld%s; asked again in %.0f s", what, r->status,
		    r->status == 429 ? " (rate limited)" : "", wait);
	else if (r && r->err[0])
		say(L, "%s: %s; asked again in %.0f s", what, r->err, wait);
	else
		say(L, "%s; asked again in %.0f s", what, wait);
	if (L->F->o->once && L->failures >= CTF_ONCE_MAX_FAILURES) {
		say(L, "given up after %u failed requests in a row", L->failures);
		L->unreachable = 1;
	}
}

static void succeeded(struct flog *L)
{
	L->failures = 0;
	L->backoff_s = 0;
}

/* ---- the log's own alerts ------------------------------------------------ */

static void head_ev(struct ev_ct_head *e, const struct ct_head *h)
{
	e->size = h->size;
	e->timestamp_ms = h->timestamp_ms;
	e->root = h->root;
	e->sig = h->sig;
	e->sig_len = h->sig_len;
}

/* Raise the alert and stop following the log. */
static void misbehaved(struct flog *L, enum ev_ct_problem p, const char *detail,
                       const struct ct_head *h1, const struct ct_head *h2,
                       const uint8_t (*proof)[CT_HASH_LEN], size_t k)
{
	struct ev_ct_head heads[2];
	struct ev_ct_log_alert a;
	uint8_t root[CT_HASH_LEN];

	memset(&a, 0, sizeof(a));
	a.ts_us = wall_us();
	a.problem = p;
	a.name = L->d.name;
	a.url = L->d.url;
	a.operator_name = L->d.operator_name;
	a.log_id = L->d.log_id;
	a.api = L->api_name;
	a.detail = detail;
	if (h1)
		head_ev(&heads[a.n_heads++], h1);
	if (h2)
		head_ev(&heads[a.n_heads++], h2);
	a.heads = heads;
	a.proof = proof;
	a.n_proof = k;
	a.checkpoint = L->evidence;
	if (p == EV_CT_NOT_IN_TREE) {
		a.has_range = 1;
		a.range_lo = L->lo;
		a.range_hi = L->hi;
		a.computed_size = L->bfr.size;
	}
	if (p == EV_CT_NOT_IN_TREE) {
		ct_frontier_root(&L->bfr, root);
		a.computed_root = root;
	}
	if (output_ct_log_alert(L->F->c->out, &a) < 0)
		L->F->t->errors++;
	L->F->t->log_alerts++;
	g_stats.ct_log_alerts++;
	L->failed = 1;
	say(L, "%s: %s; this log is no longer followed", output_ct_problem_name(p), detail);
}

/* ---- heads ---------------------------------------------------------------- */

static void ask_head(struct flog *L)
{
	struct freq q = { .kind = K_HEAD };

	if (request(L, L->d.api == CT_API_STATIC ? "checkpoint" : "ct/v1/get-sth",
	            CT_HEAD_MAX_BYTES, &q) < 0)
		failed(L, NULL, "head");
	else
		L->busy = 1;
}

static void ask_proof(struct flog *L, enum fwant purpose, uint64_t m, uint64_t n);

/* A new head, its signature verified: the first one, or one to prove
 * consistent with the last. */
static void head_arrived(struct flog *L, const struct ct_head *h)
{
	char why[256];
	const struct ct_log_desc *d = &L->d;

	L->heads++;
	if (!L->have_head) {
		if (d->has_final && h->size == d->final_size &&
		    memcmp(h->root, d->final_root, CT_HASH_LEN) != 0) {
			struct ct_head fin = { .size = d->final_size, .timestamp_ms = 0 };

			memcpy(fin.root, d->final_root, CT_HASH_LEN);
			misbehaved(L, EV_CT_INCONSISTENT, "the head's root is not the final tree head "
			           "the log list states for this read-only log", &fin, h, NULL, 0);
			return;
		}
		L->head = *h;
		L->have_head = 1;
		g_stats.ct_heads_verified++;
		L->F->state_dirty = 1;
		return;
	}
	if (h->size < L->head.size) {
		snprintf(why, sizeof(why), "tree size %" PRIu64 " after a signed %" PRIu64, h->size,
		         L->head.size);
		misbehaved(L, EV_CT_SHRANK, why, &L->head, h, NULL, 0);
		return;
	}
	if (h->size == L->head.size) {
		if (memcmp(h->root, L->head.root, CT_HASH_LEN) != 0)
			misbehaved(L, EV_CT_INCONSISTENT, "two signed heads of the same size with "
			           "different roots", &L->head, h, NULL, 0);
		/* else: nothing new (a newer timestamp on the same tree) */
		return;
	}
	L->cand = *h;
	ask_proof(L, W_HEAD_PROOF, L->head.size, h->size);
}

/* Is a checkpoint's error its signature's (the log's word against
 * itself), not its form's? */
static int checkpoint_sig_error(const char *err)
{
	return strstr(err, "does not verify") || strstr(err, "no signature line by");
}

static void got_head(struct flog *L, const struct cth_result *r)
{
	struct ct_head h;
	char err[256];

	if (L->d.api == CT_API_STATIC) {
		if (ct_checkpoint_verify(r->body, r->len, L->d.origin, L->d.key_der, L->d.key_len,
		                         L->d.key, &h, err, sizeof(err)) < 0) {
			if (checkpoint_sig_error(err)) {
				char *text = malloc(r->len + 1);   /* the evidence; freed here */

				if (text) {
					memcpy(text, r->body, r->len);
					text[r->len] = '\0';
				}
				L->evidence = text;
				misbehaved(L, EV_CT_BAD_SIGNATURE, err, NULL, NULL, NULL, 0);
				L->evidence = NULL;
				free(text);
			} else
				failed(L, NULL, err);
			return;
		}
	} else {
		if (ct_sth_parse(r->body, r->len, &h, err, sizeof(err)) < 0) {
			failed(L, NULL, err);   /* not a head: a bad answer, asked again */
			return;
		}
		if (ct_head_verify(&h, L->d.key, err, sizeof(err)) < 0) {
			misbehaved(L, EV_CT_BAD_SIGNATURE, err, NULL, &h, NULL, 0);
			return;
		}
	}
	succeeded(L);
	head_arrived(L, &h);
	L->next_poll_at = mono() + L->F->o->poll_s;
}

/* ---- proofs ---------------------------------------------------------------- */

/* Fold count (a power of two) hashes into the root of their perfect subtree. */
static void fold(const uint8_t *h, uint64_t count, uint8_t out[CT_HASH_LEN])
{
	uint8_t tmp[128][CT_HASH_LEN];

	if (count == 1) {
		memcpy(out, h, CT_HASH_LEN);
		return;
	}
	for (uint64_t i = 0; i < count / 2; i++)
		ct_node_hash(h + 64 * i, h + 64 * i + 32, tmp[i]);
	for (count /= 2; count > 1; count /= 2)
		for (uint64_t i = 0; i < count / 2; i++)
			ct_node_hash(tmp[2 * i], tmp[2 * i + 1], tmp[i]);
	memcpy(out, tmp[0], CT_HASH_LEN);
}

static struct ftile *tile_find(struct flog *L, unsigned level, uint64_t index, unsigned need)
{
	for (unsigned i = 0; i < CTF_TILE_CACHE; i++) {
		struct ftile *t = &L->cache[i];

		if (t->used && t->level == level && t->index == index && t->width >= need) {
			t->last_use = ++L->use_clock;
			return t;
		}
	}
	return NULL;
}

static void tile_keep(struct flog *L, unsigned level, uint64_t index, unsigned width,
                      uint8_t *hashes)
{
	struct ftile *t = &L->cache[0];

	for (unsigned i = 0; i < CTF_TILE_CACHE; i++) {
		struct ftile *c = &L->cache[i];

		if (c->used && c->level == level && c->index == index) {
			t = c;   /* a wider copy of the same tile replaces the narrower */
			break;
		}
		if (!c->used || c->last_use < t->last_use)
			t = c;
	}
	free(t->hashes);
	t->used = 1;
	t->level = level;
	t->index = index;
	t->width = width;
	t->hashes = hashes;
	t->last_use = ++L->use_clock;
}

/* ct_node_fn over the hash tiles of the tree of size L->tree_for_nodes. */
static int tile_node(void *ctx, unsigned level, uint64_t index, uint8_t out[CT_HASH_LEN],
                     char *err, size_t errlen)
{
	struct flog *L = ctx;
	unsigned tl = level / 8, r = level % 8;
	uint64_t first = index << r, count = (uint64_t)1 << r, t = first / CT_TILE_WIDTH;
	unsigned off = (unsigned)(first % CT_TILE_WIDTH);
	unsigned w = ct_tile_width(L->tree_for_nodes, tl, t);
	struct ftile *ft;

	if (level >= 64 || off + count > w) {
		snprintf(err, errlen, "node (%u, %" PRIu64 ") is not complete in a tree of %" PRIu64,
		         level, index, L->tree_for_nodes);
		return -1;
	}
	ft = tile_find(L, tl, t, (unsigned)(off + count));
	if (!ft) {
		L->miss_valid = 1;
		L->miss_level = tl;
		L->miss_index = t;
		L->miss_width = w;
		return 1;
	}
	fold(ft->hashes + (size_t)off * CT_HASH_LEN, count, out);
	return 0;
}

static void ask_hash_tile(struct flog *L)
{
	struct freq q = { .kind = K_HASH_TILE, .a = L->miss_index, .b = L->miss_width,
	                  .level = L->miss_level };
	char path[128];

	ct_tile_path((int)L->miss_level, L->miss_index, L->miss_width, path, sizeof(path));
	if (request(L, path, (size_t)CT_TILE_WIDTH * CT_HASH_LEN, &q) < 0)
		failed(L, NULL, "hash tile");
	else
		L->busy = 1;
}

static void proof_arrived(struct flog *L, enum fwant purpose, const uint8_t (*proof)[CT_HASH_LEN],
                          size_t k);

/* The proof (m, n) for purpose: asked of an RFC 6962 log; built from the
 * tiles of a static one (asking for the tile it lacks, then again). */
static void ask_proof(struct flog *L, enum fwant purpose, uint64_t m, uint64_t n)
{
	L->want = purpose;
	if (L->d.api == CT_API_STATIC) {
		uint8_t proof[CT_PROOF_MAX][CT_HASH_LEN];
		size_t k = 0;
		char err[256];
		int rc;

		L->tree_for_nodes = n;
		L->miss_valid = 0;
		rc = m == 0 || m == n ? 0 :
		     ct_consistency_build(m, n, tile_node, L, proof, &k, err, sizeof(err));
		if (rc == 1) {
			if (may_request(L, mono()))
				ask_hash_tile(L);
			return;   /* step() asks again when the tile is in */
		}
		if (rc < 0) {
			misbehaved(L, EV_CT_INCONSISTENT, err, &L->head,
			           purpose == W_HEAD_PROOF ? &L->cand : NULL, NULL, 0);
			return;
		}
		proof_arrived(L, purpose, (const uint8_t (*)[CT_HASH_LEN])proof, k);
		return;
	}
	if (m == 0 || m == n) {
		proof_arrived(L, purpose, NULL, 0);
		return;
	}
	if (!may_request(L, mono()))
		return;
	char path[128];
	struct freq q = { .kind = K_PROOF, .purpose = purpose, .a = m, .b = n };

	snprintf(path, sizeof(path), "ct/v1/get-sth-consistency?first=%" PRIu64 "&second=%" PRIu64,
	         m, n);
	if (request(L, path, CT_HEAD_MAX_BYTES, &q) < 0)
		failed(L, NULL, "consistency proof");
	else
		L->busy = 1;
}

static void batch_commit(struct flog *L);
static void batch_free(struct flog *L);

static void proof_arrived(struct flog *L, enum fwant purpose, const uint8_t (*proof)[CT_HASH_LEN],
                          size_t k)
{
	struct ct_frontier fr;
	uint8_t root[CT_HASH_LEN];
	char err[256], why[512];

	L->want = W_NONE;
	switch (purpose) {
	case W_HEAD_PROOF:
		if (ct_consistency_verify(L->head.size, L->head.root, L->cand.size, L->cand.root, proof,
		                          k, &fr, err, sizeof(err)) < 0) {
			snprintf(why, sizeof(why), "no consistency between tree sizes %" PRIu64 " and %"
			         PRIu64 ": %s", L->head.size, L->cand.size, err);
			misbehaved(L, EV_CT_INCONSISTENT, why, &L->head, &L->cand, proof, k);
			return;
		}
		if (!L->fr_known && L->fr_target == L->head.size && L->started) {
			L->fr = fr;
			L->fr_known = 1;
		}
		L->head = L->cand;
		g_stats.ct_heads_verified++;
		L->F->state_dirty = 1;
		return;
	case W_START_PROOF:
		if (ct_consistency_verify(L->start_size, NULL, L->head.size, L->head.root, proof, k,
		                          &fr, err, sizeof(err)) < 0) {
			snprintf(why, sizeof(why), "the proof from tree size %" PRIu64 " to the signed %"
			         PRIu64 " does not verify: %s", L->start_size, L->head.size, err);
			misbehaved(L, EV_CT_INCONSISTENT, why, &L->head, NULL, proof, k);
			return;
		}
		L->fr = fr;
		L->fr_known = 1;
		return;
	case W_BATCH_PROOF:
		ct_frontier_root(&L->bfr, root);
		if (ct_consistency_verify(L->hi, root, L->head.size, L->head.root, proof, k, NULL, err,
		                          sizeof(err)) < 0) {
			snprintf(why, sizeof(why), "entries %" PRIu64 "-%" PRIu64 " as served do not hash "
			         "into the signed tree of size %" PRIu64 ": %s", L->lo, L->hi - 1,
			         L->head.size, err);
			misbehaved(L, EV_CT_NOT_IN_TREE, why, &L->head, NULL, proof, k);
			batch_free(L);
			return;
		}
		batch_commit(L);
		return;
	default:
		return;
	}
}

static void got_proof(struct flog *L, const struct freq *q, const struct cth_result *r)
{
	uint8_t proof[CT_PROOF_MAX][CT_HASH_LEN];
	size_t k = 0;
	char err[256];

	if (ct_proof_parse(r->body, r->len, proof, CT_PROOF_MAX, &k, err, sizeof(err)) < 0) {
		failed(L, NULL, err);
		return;
	}
	succeeded(L);
	proof_arrived(L, q->purpose, (const uint8_t (*)[CT_HASH_LEN])proof, k);
}

static void got_hash_tile(struct flog *L, const struct freq *q, struct cth_result *r)
{
	if (r->len != q->b * CT_HASH_LEN) {
		char why[128];

		snprintf(why, sizeof(why), "hash tile %u/%" PRIu64 ": %zu bytes for %" PRIu64
		         " hashes", q->level, q->a, r->len, q->b);
		failed(L, NULL, why);
		return;
	}
	succeeded(L);
	tile_keep(L, q->level, q->a, (unsigned)q->b, r->body);
	r->body = NULL;   /* kept */
}

/* ---- --ct-from DATE: the first entry logged then ------------------------- */

/* A log's timestamps are in its entries only: a binary search over
 * [0, head) asks one entry (or, static, one data tile) a step, about 31
 * requests for a log of two billion.  Timestamps are nearly ordered (a
 * log merges within its MMD), so the entry found is where the log's
 * history crosses the date, within a day. */
static void ask_probe(struct flog *L)
{
	uint64_t mid = L->s_lo + (L->s_hi - L->s_lo) / 2;
	struct freq q = { .kind = K_PROBE, .a = mid };
	char path[160];

	if (L->d.api == CT_API_STATIC) {
		uint64_t t = mid / CT_TILE_WIDTH;

		q.b = ct_tile_width(L->head.size, 0, t);
		ct_tile_path(-1, t, (unsigned)q.b, path, sizeof(path));
	} else {
		snprintf(path, sizeof(path), "ct/v1/get-entries?start=%" PRIu64 "&end=%" PRIu64, mid,
		         mid);
	}
	if (request(L, path, CTF_MAX_PAGE_BYTES, &q) < 0)
		failed(L, NULL, "out of memory");
	else
		L->busy = 1;
}

struct probe_ctx {
	uint64_t ts;
	int found;
};

static int on_probe_entry(void *arg, const struct ctj_entry *e)
{
	struct probe_ctx *p = arg;
	uint8_t *leaf = NULL;
	long n;

	if (p->found || !e->is_object || !e->leaf)
		return 1;
	n = ctlog_b64_decode(e->leaf, e->leaf_len, &leaf);
	if (n >= 10) {   /* version, leaf_type, then the timestamp */
		p->ts = 0;
		for (int i = 2; i < 10; i++)
			p->ts = p->ts << 8 | leaf[i];
		p->found = 1;
	}
	free(leaf);
	return p->found ? 0 : 1;
}

static void got_probe(struct flog *L, const struct freq *q, const struct cth_result *r)
{
	struct probe_ctx p = { 0, 0 };
	char err[200];

	if (L->d.api == CT_API_STATIC) {
		struct ct_tile_entry e;
		size_t off = 0;
		uint64_t want = q->a % CT_TILE_WIDTH;

		for (uint64_t i = 0; i <= want; i++)
			if (ct_tile_next(r->body, r->len, &off, &e, err, sizeof(err)) != 0)
				break;
			else if (i == want)
				p.ts = e.timestamp_ms, p.found = 1;
	} else {
		ctj_parse((const char *)r->body, r->len, on_probe_entry, &p, err, sizeof(err));
	}
	if (!p.found) {
		failed(L, NULL, "--ct-from: an entry without a timestamp");
		return;
	}
	succeeded(L);
	if (p.ts < L->from_ms)
		L->s_lo = q->a + 1;
	else
		L->s_hi = q->a;
}

/* ---- where to start ------------------------------------------------------- */

/* Settle where the log is read from, once its first head is verified:
 * the state's frontier; --ct-from INDEX (the frontier of the entries
 * before it proved from the head); or the head itself (only new entries;
 * the next head's proof gives the frontier). */
static void start(struct flog *L)
{
	uint64_t m;

	L->started = 1;
	if (L->fr_known)
		return;   /* from the state file */
	if (L->from == UINT64_MAX) {
		L->judge_from = L->head.size;
		L->fr_target = L->head.size;
		if (L->head.size == 0) {
			ct_frontier_init(&L->fr);
			L->fr_known = 1;
		}
		return;
	}
	m = L->from < L->head.size ? L->from : L->head.size;
	L->judge_from = m;
	L->start_size = ct_start_size(m);
	if (L->start_size == 0) {
		ct_frontier_init(&L->fr);
		L->fr_known = 1;
		return;
	}
	if (L->start_size == L->head.size) {
		L->fr_target = L->head.size;
		return;
	}
	ask_proof(L, W_START_PROOF, L->start_size, L->head.size);
}

/* ---- batches ---------------------------------------------------------------- */

static void slot_clear(struct fslot *s)
{
	free(s->leaf);
	free(s->extra);
	free(s->cert);
	free(s->fps);
	memset(s, 0, sizeof(*s));
}

static void batch_free(struct flog *L)
{
	for (uint64_t i = 0; L->slots && i < L->hi - L->lo; i++)
		slot_clear(&L->slots[i]);
	free(L->slots);
	L->slots = NULL;
	L->in_batch = 0;
	L->n_holes = 0;
	L->filled = 0;
}

static void batch_begin(struct flog *L)
{
	uint64_t lo = L->fr.size, hi = lo + L->F->o->batch;

	if (hi > L->head.size)
		hi = L->head.size;
	if (L->d.api == CT_API_STATIC && hi < L->head.size) {
		/* end on a tile's edge: no partial tile but the log's last */
		uint64_t edge = hi / CT_TILE_WIDTH * CT_TILE_WIDTH;

		hi = edge > lo ? edge : (lo / CT_TILE_WIDTH + 1) * CT_TILE_WIDTH;
		if (hi > L->head.size)
			hi = L->head.size;
	}
	L->slots = calloc(hi - lo, sizeof(*L->slots));   /* owned: batch_free */
	if (!L->slots) {
		failed(L, NULL, "out of memory for a batch");
		return;
	}
	L->lo = lo;
	L->hi = hi;
	L->next_req = L->d.api == CT_API_STATIC ? lo / CT_TILE_WIDTH : lo;
	L->filled = 0;
	L->n_holes = 0;
	L->issuers_ready = 0;
	L->in_batch = 1;
	if (!L->page)
		L->page = 1024;
}

/* A get-entries answer for [a, b): every entry decoded and hashed into
 * its slot; fewer than asked is how a log says its page size. */
struct page_ctx {
	struct flog *L;
	uint64_t idx, end;
	char err[200];
};

static int on_page_entry(void *arg, const struct ctj_entry *e)
{
	struct page_ctx *p = arg;
	struct fslot *s;
	long ll, el;

	if (p->idx >= p->end) {
		snprintf(p->err, sizeof(p->err), "more entries than asked");
		return 1;
	}
	s = &p->L->slots[p->idx - p->L->lo];
	if (!e->is_object || !e->leaf || !e->extra || e->duplicate) {
		snprintf(p->err, sizeof(p->err), "entry %" PRIu64 ": not an object with leaf_input "
		         "and extra_data", p->idx);
		return 1;
	}
	ll = ctlog_b64_decode(e->leaf, e->leaf_len, &s->leaf);
	el = ctlog_b64_decode(e->extra, e->extra_len, &s->extra);
	if (ll < 0 || el < 0) {
		free(s->leaf);
		free(s->extra);
		s->leaf = s->extra = NULL;
		snprintf(p->err, sizeof(p->err), "entry %" PRIu64 ": not base64", p->idx);
		return 1;
	}
	s->leaf_len = (size_t)ll;
	s->extra_len = (size_t)el;
	ct_leaf_hash(s->leaf, s->leaf_len, s->hash);
	s->have = 1;
	/* before --ct-from: hashed only; names for no owner: counted only */
	if (p->idx < p->L->judge_from ||
	    (s->passed = ct_entry_for_no_owner(p->L->F->c, s->leaf, s->leaf_len, s->extra,
	                                       s->extra_len))) {
		free(s->leaf);
		free(s->extra);
		s->leaf = s->extra = NULL;
	}
	p->idx++;
	return 0;
}

static void hole(struct flog *L, uint64_t a, uint64_t b)
{
	if (L->n_holes < CTF_MAX_HOLES) {
		L->holes[L->n_holes][0] = a;
		L->holes[L->n_holes][1] = b;
		L->n_holes++;
	}
}

static void got_entries(struct flog *L, const struct freq *q, const struct cth_result *r)
{
	struct page_ctx p = { L, q->a, q->b, "" };
	char jerr[160];
	uint64_t got;

	if (ctj_parse((const char *)r->body, r->len, on_page_entry, &p, jerr, sizeof(jerr)) < 0 &&
	    !p.err[0])
		snprintf(p.err, sizeof(p.err), "not JSON: %s", jerr);
	got = p.idx - q->a;
	if (p.err[0] || got == 0) {
		/* what was read before the damage counts; the rest is asked again */
		L->filled += got;
		hole(L, p.idx, q->b);
		failed(L, NULL, p.err[0] ? p.err : "get-entries: no entries");
		return;
	}
	succeeded(L);
	L->filled += got;
	if (p.idx < q->b) {
		if (got < L->page)
			L->page = (unsigned)got;   /* the log's page size */
		hole(L, p.idx, q->b);
	}
}

/* ---- static-ct-api data tiles ----------------------------------------- */

static struct fissuer *issuer_slot(struct flog *L, const uint8_t fp[CT_HASH_LEN], int add)
{
	size_t mask, i;

	if (add && (L->iss_n + 1) * 2 > L->iss_cap) {
		size_t cap = L->iss_cap ? L->iss_cap * 2 : 256;
		struct fissuer *n = calloc(cap, sizeof(*n));   /* owned by L */

		if (!n || L->iss_n >= CTF_MAX_ISSUERS) {
			free(n);
			return NULL;
		}
		for (size_t j = 0; j < L->iss_cap; j++) {
			if (!L->iss[j].asked)
				continue;
			for (i = (size_t)L->iss[j].fp[0] << 8 | L->iss[j].fp[1];; i++)
				if (!n[i & (cap - 1)].asked) {
					n[i & (cap - 1)] = L->iss[j];
					break;
				}
		}
		free(L->iss);
		L->iss = n;
		L->iss_cap = cap;
	}
	if (!L->iss_cap)
		return NULL;
	mask = L->iss_cap - 1;
	for (i = (size_t)fp[0] << 8 | fp[1];; i++) {
		struct fissuer *s = &L->iss[i & mask];

		if (!s->asked) {
			if (!add)
				return NULL;
			memcpy(s->fp, fp, CT_HASH_LEN);
			s->asked = 1;
			L->iss_n++;
			return s;
		}
		if (memcmp(s->fp, fp, CT_HASH_LEN) == 0)
			return s;
	}
}

/* An entry of a data tile into its slot: hashed; kept (copied out of the
 * tile) only when it may concern an owner.  0, or -1 out of memory. */
static int tile_slot(struct flog *L, uint64_t idx, const struct ct_tile_entry *e)
{
	struct fslot *s = &L->slots[idx - L->lo];

	ct_tile_leaf_hash(e, s->hash);
	s->have = 1;
	if (idx < L->judge_from ||
	    (s->passed = certfile_for_no_owner(L->F->c, e->cert, e->cert_len)))
		return 0;
	s->ts_ms = e->timestamp_ms;
	s->precert = e->precert;
	s->cert_len = e->cert_len;
	s->n_chain = e->n_chain;
	s->cert = malloc(e->cert_len);   /* owned by the slot: slot_clear */
	s->fps = malloc(e->n_chain ? e->n_chain * CT_HASH_LEN : 1);
	if (!s->cert || !s->fps)
		return -1;
	memcpy(s->cert, e->cert, e->cert_len);
	if (e->n_chain)
		memcpy(s->fps, e->fingerprints, e->n_chain * CT_HASH_LEN);
	return 0;
}

static void got_data_tile(struct flog *L, const struct freq *q, struct cth_result *r)
{
	uint64_t base = q->a * CT_TILE_WIDTH, idx = base;
	size_t off = 0;
	char err[256], why[400];
	struct ct_tile_entry e;
	int rc;

	while ((rc = ct_tile_next(r->body, r->len, &off, &e, err, sizeof(err))) == 0 &&
	       idx < base + q->b) {
		if (!e.has_leaf_index || e.leaf_index != idx) {
			snprintf(err, sizeof(err), "entry %" PRIu64 " carries leaf_index %" PRIu64, idx,
			         e.leaf_index);
			rc = -1;
			break;
		}
		if (idx >= L->lo && idx < L->hi && tile_slot(L, idx, &e) < 0) {
			snprintf(err, sizeof(err), "out of memory");
			rc = -1;
			break;
		}
		idx++;
	}
	if (rc < 0 || idx != base + q->b) {
		for (uint64_t i = base; i < base + q->b; i++)
			if (i >= L->lo && i < L->hi)
				slot_clear(&L->slots[i - L->lo]);
		snprintf(why, sizeof(why), "data tile %" PRIu64 ": %s", q->a,
		         rc < 0 ? err : "fewer entries than its width");
		hole(L, q->a, q->a + 1);
		failed(L, NULL, why);
		return;
	}
	succeeded(L);
	for (uint64_t i = base; i < base + q->b; i++)
		if (i >= L->lo && i < L->hi)
			L->filled++;
}

static void got_issuer(struct flog *L, const struct freq *q, struct cth_result *r)
{
	struct fissuer *s = issuer_slot(L, q->fp, 0);
	uint8_t h[CT_HASH_LEN];

	if (!s)
		return;   /* not reached: a slot is never taken back */
	s->inflight = 0;
	digest_sha256(r->body, r->len, h);
	if (memcmp(h, s->fp, CT_HASH_LEN) != 0) {
		failed(L, NULL, "an issuer certificate that is not the one its fingerprint names");
		return;
	}
	succeeded(L);
	s->der = r->body;
	s->len = r->len;
	r->body = NULL;
}

/* Every issuer the batch's entries name: here (1), or asked for (0). */
static int issuers_here(struct flog *L, double now)
{
	int ready = 1;

	for (uint64_t i = 0; i < L->hi - L->lo; i++) {
		const struct fslot *e = &L->slots[i];

		for (size_t j = 0; e->cert && j < e->n_chain; j++) {
			const uint8_t *fp = e->fps + j * CT_HASH_LEN;
			struct fissuer *s = issuer_slot(L, fp, 1);
			char hex[2 * CT_HASH_LEN + 1], path[128];

			if (!s) {
				failed(L, NULL, "too many issuers (CTF_MAX_ISSUERS)");
				return 0;
			}
			if (s->der)
				continue;
			ready = 0;
			if (s->inflight)
				continue;
			if (!may_request(L, now) || L->inflight + L->iss_waiting >= L->F->o->parallel)
				continue;
			digest_hex(fp, CT_HASH_LEN, hex, 0, 0);
			snprintf(path, sizeof(path), "issuer/%s", hex);
			struct freq q = { .kind = K_ISSUER };

			memcpy(q.fp, fp, CT_HASH_LEN);

			if (request(L, path, CTF_MAX_ISSUER_BYTES, &q) == 0) {
				s->inflight = 1;
				L->iss_waiting++;
			}
		}
	}
	return ready;
}

/* ---- the batch: asked, proved, judged ----------------------------------- */

static void fetch_more(struct flog *L, double now)
{
	char path[160];

	while (L->inflight < L->F->o->parallel && may_request(L, now)) {
		struct freq q = { .kind = L->d.api == CT_API_STATIC ? K_DATA_TILE : K_ENTRIES };
		uint64_t a, b;

		if (L->n_holes) {
			a = L->holes[L->n_holes - 1][0];
			b = L->holes[L->n_holes - 1][1];
			L->n_holes--;
		} else if (L->d.api == CT_API_STATIC ? L->next_req * CT_TILE_WIDTH < L->hi :
		           L->next_req < L->hi) {
			a = L->next_req;
			b = L->d.api == CT_API_STATIC ? a + 1 : a + L->page;
			if (L->d.api != CT_API_STATIC && b > L->hi)
				b = L->hi;
			L->next_req = b;
		} else {
			return;
		}
		if (L->d.api == CT_API_STATIC) {
			unsigned w = ct_tile_width(L->head.size, 0, a);

			q.a = a;
			q.b = w;
			ct_tile_path(-1, a, w, path, sizeof(path));
		} else {
			q.a = a;
			q.b = b;
			snprintf(path, sizeof(path), "ct/v1/get-entries?start=%" PRIu64 "&end=%" PRIu64, a,
			         b - 1);
		}
		if (request(L, path, CTF_MAX_PAGE_BYTES, &q) < 0) {
			hole(L, a, b);
			failed(L, NULL, "out of memory");
			return;
		}
		L->inflight++;
	}
}

/* Every entry of the batch is here: hash it onto the frontier and prove
 * it to the head. */
static void batch_complete(struct flog *L)
{
	uint8_t root[CT_HASH_LEN];

	L->bfr = L->fr;
	for (uint64_t i = 0; i < L->hi - L->lo; i++)
		ct_frontier_append(&L->bfr, L->slots[i].hash);
	if (L->hi == L->head.size) {
		ct_frontier_root(&L->bfr, root);
		if (memcmp(root, L->head.root, CT_HASH_LEN) != 0) {
			char why[256];

			snprintf(why, sizeof(why), "entries %" PRIu64 "-%" PRIu64 " as served do not "
			         "hash to the signed root of tree size %" PRIu64, L->lo, L->hi - 1,
			         L->head.size);
			misbehaved(L, EV_CT_NOT_IN_TREE, why, &L->head, NULL, NULL, 0);
			batch_free(L);
			return;
		}
		batch_commit(L);
		return;
	}
	ask_proof(L, W_BATCH_PROOF, L->hi, L->head.size);
}

static void judge_static(struct flog *L, const struct ct_source *src, uint64_t idx,
                         const struct fslot *e)
{
	struct certfile_ctx *c = L->F->c;
	struct tls_cert der[CT_TILE_MAX_CHAIN + 1];
	size_t n = 0;

	/* views: the certificate in its slot, the issuers in the cache */
	der[n].data = e->cert;
	der[n++].len = e->cert_len;
	for (size_t j = 0; j < e->n_chain && n < c->max_certs && n <= CT_TILE_MAX_CHAIN; j++) {
		struct fissuer *s = issuer_slot(L, e->fps + j * CT_HASH_LEN, 0);

		if (!s || !s->der)
			break;
		der[n].data = s->der;
		der[n++].len = s->len;
	}
	if (ct_judge_certs(c, src, idx, e->ts_ms, e->precert, der, n) < 0)
		L->F->t->errors++;
}

static void batch_commit(struct flog *L)
{
	struct certfile_ctx *c = L->F->c;
	const struct ct_source src = { L->d.url, L->d.name, L->d.url, NULL };
	uint64_t alerts = c->alerts;

	for (uint64_t i = L->lo > L->judge_from ? L->lo : L->judge_from; i < L->hi; i++) {
		struct fslot *s = &L->slots[i - L->lo];

		if (s->passed) {
			/* its names for no owner: what certfile_judge_der counts */
			c->files++;
			c->chains++;
			c->by_names++;
		} else if (L->d.api == CT_API_STATIC)
			judge_static(L, &src, i, s);
		else if (ct_judge_entry(c, &src, i, s->leaf, s->leaf_len, s->extra, s->extra_len) < 0)
			L->F->t->errors++;
		L->entries++;
		g_stats.ct_entries++;
	}
	L->F->t->alerts += c->alerts - alerts;
	L->fr = L->bfr;
	batch_free(L);
	L->F->state_dirty = 1;
}

/* ---- the answers ------------------------------------------------------------ */

/* An issuer's request ended, whatever its outcome. */
static void issuer_done(struct flog *L, const struct freq *q)
{
	struct fissuer *s = issuer_slot(L, q->fp, 0);

	L->iss_waiting--;
	if (s)
		s->inflight = 0;
}

static void on_done(const struct cth_result *res)
{
	struct cth_result r = *res;
	struct freq *q = r.arg;
	struct flog *L = q->L;
	char what[64];

	if (q->kind == K_ENTRIES || q->kind == K_DATA_TILE)
		L->inflight--;
	else if (q->kind != K_ISSUER)
		L->busy = 0;
	if (L->removed || L->failed || (L->unreachable && L->F->o->once)) {
		if (q->kind == K_ISSUER)
			issuer_done(L, q);
		goto out;
	}
	if (r.status != 200) {
		snprintf(what, sizeof(what), "%s", q->kind == K_HEAD ? "head" : q->kind == K_PROOF ?
		         "consistency proof" : q->kind == K_ENTRIES ? "get-entries" :
		         q->kind == K_DATA_TILE ? "data tile" : q->kind == K_HASH_TILE ? "hash tile" :
		         q->kind == K_PROBE ? "--ct-from search" : "issuer");
		if (q->kind == K_ENTRIES || q->kind == K_DATA_TILE)
			hole(L, q->a, q->kind == K_DATA_TILE ? q->a + 1 : q->b);
		if (q->kind == K_ISSUER)
			issuer_done(L, q);
		failed(L, &r, what);
		goto out;
	}
	switch (q->kind) {
	case K_HEAD:
		got_head(L, &r);
		break;
	case K_PROOF:
		got_proof(L, q, &r);
		break;
	case K_ENTRIES:
		got_entries(L, q, &r);
		break;
	case K_DATA_TILE:
		got_data_tile(L, q, &r);
		break;
	case K_HASH_TILE:
		got_hash_tile(L, q, &r);
		break;
	case K_ISSUER:
		issuer_done(L, q);
		got_issuer(L, q, &r);
		break;
	case K_PROBE:
		got_probe(L, q, &r);
		break;
	}
out:
	free(r.body);
	free(q);
}

/* ---- one log's next step ------------------------------------------------- */

static int caught_up(const struct flog *L)
{
	return L->have_head && L->started && L->fr_known && L->fr.size >= L->head.size;
}

static void step(struct flog *L, double now)
{
	const struct ctfollow_opts *o = L->F->o;

	if (L->removed || L->failed || L->done || L->unreachable || L->busy)
		return;
	if (L->want != W_NONE) {
		if (now >= L->next_at)
			ask_proof(L, L->want, L->want == W_HEAD_PROOF ? L->head.size :
			          L->want == W_START_PROOF ? L->start_size : L->hi,
			          L->want == W_HEAD_PROOF ? L->cand.size : L->head.size);
		return;
	}
	if (L->in_batch) {
		if (L->filled < L->hi - L->lo || L->n_holes) {
			fetch_more(L, now);
			return;
		}
		if (L->inflight)
			return;
		if (L->d.api == CT_API_STATIC && !L->issuers_ready &&
		    !(L->issuers_ready = issuers_here(L, now)))
			return;
		batch_complete(L);
		return;
	}
	if (!may_request(L, now))
		return;
	if (!L->have_head) {
		ask_head(L);
		return;
	}
	if (!L->started && !L->fr_known && L->from_ms != UINT64_MAX) {
		/* --ct-from DATE: search, then start at what was found */
		if (!L->searching) {
			L->searching = 1;
			L->s_lo = 0;
			L->s_hi = L->head.size;
		}
		if (L->s_lo < L->s_hi) {
			ask_probe(L);
			return;
		}
		L->from = L->s_lo;
		L->from_ms = UINT64_MAX;
		L->searching = 0;
		say(L, "--ct-from %s: entry %" PRIu64 " of %" PRIu64, o->from, L->from, L->head.size);
	}
	if (!L->started) {
		start(L);
		return;
	}
	if (L->fr_known && L->fr.size < L->head.size) {
		batch_begin(L);
		return;
	}
	/* caught up with the head verified, or waiting for the next head to
	 * learn the frontier */
	if (o->once && (caught_up(L) || !L->fr_known)) {
		L->done = 1;
		return;
	}
	if (now >= L->next_poll_at)
		ask_head(L);
}

/* ---- the logs ----------------------------------------------------------------- */

static void log_release(struct flog *L)
{
	batch_free(L);
	for (unsigned i = 0; i < CTF_TILE_CACHE; i++)
		free(L->cache[i].hashes);
	for (size_t i = 0; i < L->iss_cap; i++)
		free(L->iss[i].der);
	free(L->iss);
	free(L->d.name);
	free(L->d.operator_name);
	free(L->d.url);
	free(L->d.origin);
	free(L->d.key_der);
	EVP_PKEY_free(L->d.key);
}

static void warn_list(void *ctx, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "certsentry: --ct-follow %s\n", msg);
}

int ctfollow_parse_from(const char *s, uint64_t *index, uint64_t *date_ms, char *err,
                        size_t errlen)
{
	struct tm tm;
	const char *end;
	char *e;
	unsigned long long v;
	time_t t;

	*index = *date_ms = UINT64_MAX;
	if (!s)
		return 0;
	if (s[0] >= '0' && s[0] <= '9' && !strchr(s, '-')) {
		errno = 0;
		v = strtoull(s, &e, 10);
		if (errno || *e || v > UINT64_MAX / 2) {
			snprintf(err, errlen, "'%s' is not an entry index", s);
			return -1;
		}
		*index = v;
		return 0;
	}
	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%d", &tm);
	if (end && *end == 'T')
		end = strptime(end + 1, "%H:%M:%SZ", &tm);
	if (!end || *end || tm.tm_year < 70) {
		snprintf(err, errlen, "'%s' is neither an entry index nor a date "
		         "(YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ)", s);
		return -1;
	}
	t = timegm(&tm);
	if (t < 0) {
		snprintf(err, errlen, "'%s' is not a date after 1970", s);
		return -1;
	}
	*date_ms = (uint64_t)t * 1000u;
	return 0;
}

/* Read the list and add the logs it follows that are not followed yet
 * (a reload keeps what it has of the others, and drops those gone).
 * 0, or -1 (said) when the list cannot be read at all. */
static int load_list(struct follow *F, int reload)
{
	struct ct_log_list list;
	uint8_t *buf = NULL;
	size_t len = 0;
	char err[512];
	uint64_t from = UINT64_MAX, from_ms = UINT64_MAX;

	if (fileio_read_all(F->o->loglist, CT_LOGLIST_MAX_BYTES, &buf, &len, err, sizeof(err)) < 0) {
		fprintf(stderr, "certsentry: --ct-follow %s\n", err);
		return -1;
	}
	if (ct_loglist_parse(buf, len, F->o->loglist, warn_list, NULL, &list, err, sizeof(err)) < 0) {
		fprintf(stderr, "certsentry: --ct-follow %s\n", err);
		free(buf);
		return -1;
	}
	free(buf);
	if (ctfollow_parse_from(F->o->from, &from, &from_ms, err, sizeof(err)) < 0)
		from = from_ms = UINT64_MAX;   /* checked with the options already */
	for (size_t i = 0; i < F->n; i++)
		F->logs[i]->removed = 1;
	for (size_t i = 0; i < list.n; i++) {
		struct ct_log_desc *d = &list.logs[i];
		struct flog *L = NULL;

		if (!ct_log_followed(d)) {
			if (!F->o->quiet && !reload)
				fprintf(stderr, "certsentry: ct: %s: %s, not followed\n", d->name,
				        ct_log_state_name(d->state));
			continue;
		}
		for (size_t j = 0; j < F->n; j++)
			if (memcmp(F->logs[j]->d.log_id, d->log_id, CT_HASH_LEN) == 0 &&
			    F->logs[j]->d.api == d->api)
				L = F->logs[j];
		if (L) {
			L->removed = 0;
			continue;
		}
		if (F->n == F->cap) {
			size_t cap = F->cap ? F->cap * 2 : 16;
			struct flog **n = realloc(F->logs, cap * sizeof(*n));

			if (!n)
				break;
			F->logs = n;
			F->cap = cap;
		}
		L = calloc(1, sizeof(*L));   /* owned by F */
		if (!L)
			break;
		L->F = F;
		L->d = *d;
		memset(d, 0, sizeof(*d));   /* moved: the list frees nothing of it */
		L->api_name = L->d.api == CT_API_STATIC ? "static-ct-api" : "rfc6962";
		L->from = from;
		L->from_ms = from_ms;
		F->logs[F->n++] = L;
	}
	ct_loglist_free(&list);
	return 0;
}

int ctfollow_check_list(const char *path, FILE *out)
{
	struct ct_log_list list;
	uint8_t *buf = NULL;
	size_t len = 0, followed = 0;
	char err[512];

	if (fileio_read_all(path, CT_LOGLIST_MAX_BYTES, &buf, &len, err, sizeof(err)) < 0) {
		fprintf(stderr, "certsentry: --ct-follow %s\n", err);
		return -1;
	}
	if (ct_loglist_parse(buf, len, path, warn_list, NULL, &list, err, sizeof(err)) < 0) {
		fprintf(stderr, "certsentry: --ct-follow %s\n", err);
		free(buf);
		return -1;
	}
	free(buf);
	for (size_t i = 0; i < list.n; i++)
		followed += ct_log_followed(&list.logs[i]) != 0;
	fprintf(out, "log list %s: %zu logs, %zu followed, %" PRIu64 " refused\n", path, list.n,
	        followed, list.refused);
	ct_loglist_free(&list);
	return followed ? 0 : -1;
}

/* ---- progress, stats ---------------------------------------------------------- */

static void progress_line(struct follow *F, double now, int final)
{
	uint64_t judged = 0, lag = 0;
	double rate = 0;
	size_t active = 0;

	for (size_t i = 0; i < F->n; i++) {
		struct flog *L = F->logs[i];

		if (L->removed)
			continue;
		if (now - L->rate_mark_t >= 1.0) {
			L->rate = (double)(L->entries - L->rate_mark_entries) / (now - L->rate_mark_t);
			L->rate_mark_entries = L->entries;
			L->rate_mark_t = now;
		}
		judged += L->entries;
		rate += L->rate;
		if (L->have_head && L->fr_known && L->head.size > L->fr.size)
			lag += L->head.size - L->fr.size;
		active += !L->failed && !L->unreachable;
	}
	if (F->o->progress)
		fprintf(stderr, "\r\033[Kcertsentry: ct: %zu logs, %" PRIu64 " entries judged (%.0f/s), "
		        "%" PRIu64 " behind, %" PRIu64 " alerts%s", active, judged, rate, lag,
		        F->t->alerts + F->t->log_alerts, final ? "\n" : "");
}

static const char *log_state(const struct flog *L)
{
	return L->failed ? "misbehaved" : L->unreachable ? "unreachable" :
	       !L->have_head || !L->fr_known ? "waiting" :
	       L->fr.size >= L->head.size ? "caught-up" : "following";
}

/* The stats event (--stats-interval) and the metrics file (--metrics):
 * the counters, and where each log is. */
static void write_stats(struct follow *F, uint64_t started_us)
{
	struct eve_ct_log *logs = calloc(F->n ? F->n : 1, sizeof(*logs));   /* freed here */
	struct eve_stats_input in;
	struct output_delivery dl;
	uint64_t now = wall_us();
	size_t n = 0;
	char *line, err[512];

	if (!logs)
		return;
	for (size_t i = 0; i < F->n; i++) {
		const struct flog *L = F->logs[i];

		if (L->removed)
			continue;
		logs[n].name = L->d.name;
		logs[n].url = L->d.url;
		logs[n].state = log_state(L);
		logs[n].position = L->fr_known ? L->fr.size : 0;
		logs[n].head_size = L->have_head ? L->head.size : 0;
		logs[n].head_timestamp_ms = L->have_head ? L->head.timestamp_ms : 0;
		logs[n].entries = L->entries;
		logs[n].entries_per_s = L->rate;
		logs[n].requests = L->requests;
		logs[n].failures = L->errors;
		logs[n].rate_limited = L->rate_limited;
		n++;
	}
	memset(&in, 0, sizeof(in));
	in.ts_us = now;
	in.uptime_s = (now - started_us) / 1000000u;
	in.st = &g_stats;
	output_delivery(F->c->out, &dl);
	in.dl = &dl;
	in.host = output_host(F->c->out);
	in.ct_logs = logs;
	in.n_ct_logs = n;
	if (F->o->stats_set) {
		line = eve_stats_line(&in);   /* owned here */
		if (!line || output_write_line(F->c->out, line, strlen(line), 0) < 0)
			fprintf(stderr, "certsentry: cannot write the stats event\n");
		free(line);
	}
	if (metrics_path() && metrics_write(&in, err, sizeof(err)) < 0)
		fprintf(stderr, "certsentry: %s\n", err);
	free(logs);
}

static void save_state(struct follow *F)
{
	char err[512];

	if (!F->o->state_path || !F->state_dirty)
		return;
	if (ctstate_save(F, err, sizeof(err)) < 0) {
		fprintf(stderr, "certsentry: --ct-state %s\n", err);
		F->t->errors++;
		return;
	}
	F->state_dirty = 0;
	F->state_saved_at = mono();
}

static void reload(struct follow *F, struct policy **pol)
{
	const char *rules = F->o->rules;
	char err[1024];

	/* after logrotate moved the file: a new one at the same path */
	if (output_reopen(F->c->out) < 0)
		fprintf(stderr, "certsentry: SIGHUP: the output could not be reopened; the old one "
		        "is kept\n");

	if (F->o->reconfigure && F->o->reconfigure(F->o->reconfigure_ctx, &rules) < 0)
		fprintf(stderr, "certsentry: SIGHUP: the configuration file kept as it was\n");
	if (rules) {
		struct policy *np = policy_load(rules, err, sizeof(err));

		if (!np) {
			fprintf(stderr, "%s\ncertsentry: SIGHUP: the rules in force kept\n", err);
		} else {
			policy_free(*pol);
			*pol = np;
			F->c->pol = np;
			fprintf(stderr, "certsentry: SIGHUP: rules %s reloaded\n", rules);
		}
	}
	if (load_list(F, 1) < 0)
		fprintf(stderr, "certsentry: SIGHUP: the log list in force kept\n");
	else
		fprintf(stderr, "certsentry: SIGHUP: log list %s reloaded\n", F->o->loglist);
}

static int all_done(const struct follow *F)
{
	for (size_t i = 0; i < F->n; i++) {
		const struct flog *L = F->logs[i];

		if (!L->removed && !L->failed && !L->done && !L->unreachable)
			return 0;
	}
	return 1;
}

int ctfollow_run(const struct ctfollow_opts *o, struct certfile_ctx *c, struct policy **pol,
                 struct ctfollow_totals *t)
{
	struct follow F;
	struct cth_opts ho;
	struct sigaction sa;
	char err[512];
	double last_progress = 0, last_stats;
	uint64_t started_us = wall_us();
	int rc = 0;

	memset(&F, 0, sizeof(F));
	memset(t, 0, sizeof(*t));
	F.o = o;
	F.c = c;
	F.t = t;
	snprintf(F.ua, sizeof(F.ua), "certsentry/%s (CT monitor)", CS_VERSION);
	if (load_list(&F, 0) < 0)
		return -1;
	if (F.n == 0) {
		fprintf(stderr, "certsentry: --ct-follow %s: no log to follow\n", o->loglist);
		free(F.logs);
		return -1;
	}
	if (o->state_path && ctstate_load(&F) < 0) {
		rc = -1;
		goto out;
	}
	memset(&ho, 0, sizeof(ho));
	ho.ca_file = o->ca_file;
	ho.user_agent = F.ua;
	ho.max_conns = o->parallel;
	ho.drop = free;   /* a struct freq of a request dropped at the end */
	if (!(F.http = cth_new(&ho, err, sizeof(err)))) {
		fprintf(stderr, "certsentry: --ct-follow: %s\n", err);
		rc = -1;
		goto out;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_hup;
	sigaction(SIGHUP, &sa, NULL);
	last_stats = mono();
	while (!stop_sig) {
		double now = mono();

		if (hup_sig) {
			hup_sig = 0;
			reload(&F, pol);
		}
		for (size_t i = 0; i < F.n; i++)
			step(F.logs[i], now);
		save_state(&F);
		if (now - last_progress >= 1.0) {
			progress_line(&F, now, 0);
			last_progress = now;
		}
		if (o->stats_interval && now - last_stats >= o->stats_interval &&
		    (o->stats_set || metrics_path())) {
			write_stats(&F, started_us);
			last_stats = now;
		}
		if (o->once && all_done(&F) && !cth_running(F.http))
			break;
		cth_run(F.http, 100);
	}
	progress_line(&F, mono(), 1);
	if (o->stats_set || metrics_path())
		write_stats(&F, started_us);
out:
	save_state(&F);
	cth_free(F.http);
	for (size_t i = 0; i < F.n; i++) {
		struct flog *L = F.logs[i];

		t->logs += !L->removed;
		t->logs_failed += L->failed;
		t->logs_unreachable += L->unreachable;
		t->entries += L->entries;
		log_release(L);
		free(L);
	}
	free(F.logs);
	return rc;
}
