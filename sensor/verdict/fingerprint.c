/*
 * fingerprint.c - TLS 1.3 server fingerprints (the contract is
 * include/verdict/fingerprint.h): the baseline's endpoints and shapes, learning,
 * checking a handshake, the SYN-ACK.  The baseline file is fp_file.c;
 * what the two share sensor/verdict/fp_int.h.  Must not: read or write files.
 *
 * Endpoints sit in one array (owned pointers, in the order learned or
 * loaded); two open-addressing indexes find one by (address, port, SNI)
 * and by (port, SNI) for an address not seen before (anycast).  A shape
 * keeps its flight bytes as a running mean and sum of squares (Welford),
 * so learning costs the same for the millionth handshake as the first.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/buf.h"
#include "verdict/fingerprint.h"
#include "fp_int.h"

/* ---- endpoints --------------------------------------------------------------- */

static uint32_t fnv(uint32_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 16777619u;
	return h;
}

static uint32_t key_hash(int family, const uint8_t *ip, uint16_t port, const char *sni, int exact)
{
	uint32_t h = 2166136261u;

	if (exact) {
		h = fnv(h, &family, sizeof family);
		h = fnv(h, ip, 16);
	}
	h = fnv(h, &port, sizeof port);
	return fnv(h, sni, strlen(sni));
}

static int ep_is(const struct fp_endpoint *e, int family, const uint8_t *ip, uint16_t port,
                 const char *sni, int exact)
{
	if (e->port != port || strcmp(e->sni, sni) != 0)
		return 0;
	return !exact || (e->family == family && memcmp(e->ip, ip, 16) == 0);
}

/* The slot of the endpoint with this key in idx, or the empty one where
 * it would go. */
static size_t ep_slot(const struct fp_baseline *b, const uint32_t *idx, int family,
                      const uint8_t *ip, uint16_t port, const char *sni, int exact)
{
	size_t i = key_hash(family, ip, port, sni, exact) & (b->n_slots - 1);

	while (idx[i] != NO_INDEX && !ep_is(b->ep[idx[i]], family, ip, port, sni, exact))
		i = (i + 1) & (b->n_slots - 1);
	return i;
}

/* Both indexes at n_slots, rebuilt from ep.  0 or -1 (the old ones stay). */
static int ep_rehash(struct fp_baseline *b, size_t n_slots)
{
	uint32_t *exact = malloc(n_slots * sizeof *exact);    /* owned by b */
	uint32_t *by_sni = malloc(n_slots * sizeof *by_sni);  /* owned by b */

	if (!exact || !by_sni) {
		free(exact);
		free(by_sni);
		return -1;
	}
	free(b->exact);
	free(b->by_sni);
	b->exact = exact;
	b->by_sni = by_sni;
	b->n_slots = n_slots;
	memset(exact, 0xff, n_slots * sizeof *exact);
	memset(by_sni, 0xff, n_slots * sizeof *by_sni);
	for (size_t k = 0; k < b->n; k++) {
		const struct fp_endpoint *e = b->ep[k];
		size_t i = ep_slot(b, b->exact, e->family, e->ip, e->port, e->sni, 1);
		size_t j = ep_slot(b, b->by_sni, e->family, e->ip, e->port, e->sni, 0);

		b->exact[i] = (uint32_t)k;
		if (b->by_sni[j] == NO_INDEX)
			b->by_sni[j] = (uint32_t)k;
	}
	return 0;
}

static struct fp_endpoint *ep_find(const struct fp_baseline *b, int family, const uint8_t *ip,
                                   uint16_t port, const char *sni, int exact)
{
	const uint32_t *idx = exact ? b->exact : b->by_sni;
	size_t i;

	if (b->n == 0)
		return NULL;
	i = ep_slot(b, idx, family, ip, port, sni, exact);
	return idx[i] == NO_INDEX ? NULL : b->ep[idx[i]];
}

struct fp_endpoint *fp_ep_get(struct fp_baseline *b, int family, const uint8_t *ip,
                                  uint16_t port, const char *sni)
{
	struct fp_endpoint *e = ep_find(b, family, ip, port, sni, 1);
	size_t i, j;

	if (e || b->n >= FP_MAX_ENDPOINTS)
		return e;
	if (2 * (b->n + 1) > b->n_slots &&
	    ep_rehash(b, b->n_slots ? 2 * b->n_slots : SLOTS_MIN) < 0)
		return NULL;
	if (b->n == b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 64;
		struct fp_endpoint **n = realloc(b->ep, cap * sizeof *n);   /* owned by b */

		if (!n)
			return NULL;
		b->ep = n;
		b->cap = cap;
	}
	e = calloc(1, sizeof *e);   /* owned by b; fp_free */
	if (!e)
		return NULL;
	e->family = family;
	memcpy(e->ip, ip, 16);
	e->port = port;
	snprintf(e->sni, sizeof e->sni, "%s", sni);
	i = ep_slot(b, b->exact, family, ip, port, e->sni, 1);
	j = ep_slot(b, b->by_sni, family, ip, port, e->sni, 0);
	b->ep[b->n] = e;
	b->exact[i] = (uint32_t)b->n;
	if (b->by_sni[j] == NO_INDEX)
		b->by_sni[j] = (uint32_t)b->n;
	b->n++;
	return e;
}

struct fp_baseline *fp_new(unsigned tolerance)
{
	struct fp_baseline *b = calloc(1, sizeof *b);   /* owned by the caller */

	if (!b)
		return NULL;
	b->tolerance = tolerance;
	if (pthread_mutex_init(&b->lock, NULL) != 0) {
		free(b);
		return NULL;
	}
	return b;
}

void fp_free(struct fp_baseline *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->n; i++)
		free(b->ep[i]);
	free(b->ep);
	free(b->exact);
	free(b->by_sni);
	pthread_mutex_destroy(&b->lock);
	free(b);
}

size_t fp_endpoints(const struct fp_baseline *b)
{
	return b->n;
}

void fp_endpoint_at(const struct fp_baseline *b, size_t i, int *family, const uint8_t **ip,
                    uint16_t *port, const char **sni, size_t *shapes)
{
	const struct fp_endpoint *e = b->ep[i];

	*family = e->family;
	*ip = e->ip;
	*port = e->port;
	*sni = e->sni;
	*shapes = e->n;
}

size_t fp_shapes(const struct fp_baseline *b)
{
	size_t n = 0;

	for (size_t i = 0; i < b->n; i++)
		n += b->ep[i]->n;
	return n;
}

/* ---- shapes ------------------------------------------------------------------ */

/* The third field of a JA3S string, "771,4866,43-51": the extension types
 * in order ("" when there are none). */
static void hello_of(const char *ja3s, char out[HELLO_MAX])
{
	const char *p = ja3s ? strchr(ja3s, ',') : NULL;

	p = p ? strchr(p + 1, ',') : NULL;
	snprintf(out, HELLO_MAX, "%s", p ? p + 1 : "");
}

double fp_shape_sd(const struct fp_shape *s)
{
	return s->count > 1 ? sqrt(s->m2 / (double)(s->count - 1)) : 0.0;
}

static double shape_tol(const struct fp_baseline *b, const struct fp_shape *s)
{
	double t = 4.0 * fp_shape_sd(s);

	return t > b->tolerance ? t : (double)b->tolerance;
}

/* SYN-ACKs agree on what does not depend on the client; one not seen on
 * either side is not compared. */
static int synack_agrees(const struct fp_synack *a, const struct fp_synack *b)
{
	if (a->ttl == 0 || b->ttl == 0)
		return 1;
	return a->ttl == b->ttl && a->mss == b->mss && a->wscale == b->wscale;
}

static int bytes_fit(const struct fp_baseline *b, const struct fp_shape *s, uint64_t bytes)
{
	double tol = shape_tol(b, s), x = (double)bytes;

	return x >= (double)s->min - tol && x <= (double)s->max + tol;
}

static int largest_fits(const struct fp_shape *s, unsigned largest)
{
	return largest + FP_LARGEST_TOLERANCE >= s->lmin && largest <= s->lmax + FP_LARGEST_TOLERANCE;
}

static int shape_matches(const struct fp_baseline *b, const struct fp_shape *s,
                         const char *hello, const struct fp_obs *o)
{
	return strcmp(s->hello, hello) == 0 && s->records == o->records &&
	       synack_agrees(&s->sa, &o->synack) && bytes_fit(b, s, o->bytes) &&
	       largest_fits(s, o->largest);
}

static void choice_add(uint16_t *list, size_t *n, uint16_t v)
{
	for (size_t i = 0; i < *n; i++)
		if (list[i] == v)
			return;
	if (*n < FP_MAX_CHOICES)
		list[(*n)++] = v;
}

static int choice_has(const uint16_t *list, size_t n, uint16_t v)
{
	for (size_t i = 0; i < n; i++)
		if (list[i] == v)
			return 1;
	return 0;
}

static void shape_add(struct fp_shape *s, const struct fp_obs *o)
{
	double x = (double)o->bytes, d;

	if (s->count == 0 || o->bytes < s->min)
		s->min = o->bytes;
	if (s->count == 0 || o->bytes > s->max)
		s->max = o->bytes;
	if (s->count == 0 || o->largest < s->lmin)
		s->lmin = o->largest;
	if (s->count == 0 || o->largest > s->lmax)
		s->lmax = o->largest;
	s->count++;
	d = x - s->mean;
	s->mean += d / (double)s->count;
	s->m2 += d * (x - s->mean);
	if (s->sa.ttl == 0)
		s->sa = o->synack;
	choice_add(s->ciphers, &s->n_ciphers, o->cipher);
	choice_add(s->groups, &s->n_groups, o->group);
}

static void obs_sni(const struct fp_obs *o, char out[SNI_MAX])
{
	snprintf(out, SNI_MAX, "%s", o->sni ? o->sni : "");
}

void fp_learn(struct fp_baseline *b, const struct fp_obs *o)
{
	char hello[HELLO_MAX], sni[SNI_MAX];
	struct fp_endpoint *e;
	struct fp_shape *s = NULL;

	hello_of(o->ja3s, hello);
	obs_sni(o, sni);
	pthread_mutex_lock(&b->lock);
	e = fp_ep_get(b, o->family, o->ip, o->port, sni);
	if (!e)
		goto out;
	for (size_t i = 0; i < e->n && !s; i++)
		if (shape_matches(b, &e->shape[i], hello, o))
			s = &e->shape[i];
	if (!s) {
		size_t k = e->n;

		if (e->n == FP_MAX_SHAPES) {
			/* Full: the shape seen least gives way. */
			k = 0;
			for (size_t i = 1; i < e->n; i++)
				if (e->shape[i].count < e->shape[k].count)
					k = i;
		} else {
			e->n++;
		}
		s = &e->shape[k];
		memset(s, 0, sizeof *s);
		memcpy(s->hello, hello, sizeof s->hello);
		s->records = o->records;
		s->sa = o->synack;
	}
	shape_add(s, o);
out:
	pthread_mutex_unlock(&b->lock);
}

/* ---- checking ------------------------------------------------------------------ */

/* 1234567 as "1,234,567". */
static void grouped(uint64_t v, char out[32])
{
	char digits[24];
	int n = snprintf(digits, sizeof digits, "%llu", (unsigned long long)v), o = 0;

	for (int i = 0; i < n; i++) {
		if (i > 0 && (n - i) % 3 == 0)
			out[o++] = ',';
		out[o++] = digits[i];
	}
	out[o] = '\0';
}

static void synack_str(const struct fp_synack *sa, char *out, size_t len)
{
	char opts[16];

	if (sa->ttl == 0) {
		snprintf(out, len, "none");
		return;
	}
	fp_synack_opts(sa->opts, opts);
	snprintf(out, len, "TTL %u, MSS %u, wscale %d, window %u, options %s", sa->ttl, sa->mss,
	         sa->wscale == 0xff ? -1 : sa->wscale, sa->win, opts);
}

/* The shape most like o: the same extension order and record count
 * first, then the same order, then the most seen. */
static const struct fp_shape *nearest(const struct fp_endpoint *e, const char *hello,
                                      const struct fp_obs *o)
{
	const struct fp_shape *best = &e->shape[0];
	int best_score = -1;

	for (size_t i = 0; i < e->n; i++) {
		const struct fp_shape *s = &e->shape[i];
		int score = (strcmp(s->hello, hello) == 0) * 4 + (s->records == o->records) * 2 +
		            synack_agrees(&s->sa, &o->synack);

		if (score > best_score || (score == best_score && s->count > best->count)) {
			best = s;
			best_score = score;
		}
	}
	return best;
}

/* "what changed and by how much" against shape s. */
static void describe_change(const struct fp_baseline *b, const struct fp_endpoint *e,
                            const struct fp_shape *s, const char *hello,
                            const struct fp_obs *o, struct fp_result *r)
{
	char got[32], mean[32], lo[32], hi[32], sa_now[96], sa_then[96], same[128] = "";
	size_t n;

	grouped(o->bytes, got);
	grouped((uint64_t)(s->mean + 0.5), mean);
	grouped(s->min, lo);
	grouped(s->max, hi);
	n = (size_t)snprintf(r->what, sizeof r->what,
	    "server encrypted flight %u records, %s bytes; baseline %u records, %s +/- %.0f "
	    "bytes (%s-%s, %llu handshakes, %zu shape%s); largest record %u bytes, baseline "
	    "%u-%u",
	    o->records, got, s->records, mean, shape_tol(b, s), lo, hi,
	    (unsigned long long)s->count, e->n, e->n == 1 ? "" : "s", o->largest, s->lmin,
	    s->lmax);
	if (strcmp(s->hello, hello) != 0)
		n += (size_t)snprintf(r->what + n, sizeof r->what - n,
		                      "; ServerHello extensions %s, baseline %s", hello, s->hello);
	else
		snprintf(same, sizeof same, "ServerHello extensions");
	if (!synack_agrees(&s->sa, &o->synack)) {
		synack_str(&o->synack, sa_now, sizeof sa_now);
		synack_str(&s->sa, sa_then, sizeof sa_then);
		n += (size_t)snprintf(r->what + n, sizeof r->what - n, "; SYN-ACK %s, baseline %s",
		                      sa_now, sa_then);
	} else {
		size_t k = strlen(same);

		snprintf(same + k, sizeof same - k, "%sSYN-ACK", k ? ", " : "");
	}
	if (n < sizeof r->what)
		snprintf(r->what + n, sizeof r->what - n, "%s%s%s; cipher 0x%04x%s, key share %u%s",
		         same[0] ? "; " : "", same, same[0] ? " unchanged" : "", o->cipher,
		         choice_has(s->ciphers, s->n_ciphers, o->cipher) ? " as in the baseline" :
		                                                          " (the client's choice)",
		         o->group,
		         choice_has(s->groups, s->n_groups, o->group) ? " as in the baseline" :
		                                                      " (the client's choice)");
}

void fp_check(const struct fp_baseline *b, const struct fp_obs *o, struct fp_result *r)
{
	char hello[HELLO_MAX], sni[SNI_MAX], got[32];
	const struct fp_endpoint *e;
	const struct fp_shape *s;

	memset(r, 0, sizeof *r);
	hello_of(o->ja3s, hello);
	obs_sni(o, sni);
	e = ep_find(b, o->family, o->ip, o->port, sni, 1);
	if (!e && sni[0])
		e = ep_find(b, o->family, o->ip, o->port, sni, 0);
	if (!e || e->n == 0) {
		r->outcome = FP_NO_BASELINE;
		snprintf(r->what, sizeof r->what, "no baseline for this endpoint");
		return;
	}
	for (size_t i = 0; i < e->n; i++)
		if (shape_matches(b, &e->shape[i], hello, o)) {
			s = &e->shape[i];
			grouped(o->bytes, got);
			r->outcome = FP_MATCH;
			r->shape_count = s->count;
			snprintf(r->what, sizeof r->what, "fingerprint matches its baseline: %u records, "
			         "%s bytes, a shape seen in %llu handshakes", o->records, got,
			         (unsigned long long)s->count);
			return;
		}
	s = nearest(e, hello, o);
	r->outcome = FP_CHANGED;
	r->shape_count = s->count;
	describe_change(b, e, s, hello, o, r);
}

/* ---- the SYN-ACK --------------------------------------------------------------- */

static uint8_t ttl_class(uint8_t ttl)
{
	return ttl <= 32 ? 32 : ttl <= 64 ? 64 : ttl <= 128 ? 128 : 255;
}

static unsigned opt_code(uint8_t kind)
{
	switch (kind) {
	case 0: return 1;
	case 1: return 2;
	case 2: return 3;
	case 3: return 4;
	case 4: return 5;
	case 8: return 6;
	default: return 7;
	}
}

void fp_synack_opts(uint32_t opts, char out[16])
{
	static const char names[] = "?ENMWSTX";
	size_t n = 0;

	for (int i = 0; i < 8 && (opts >> (4 * i)) & 0xf; i++) {
		if (n)
			out[n++] = ',';
		out[n++] = names[(opts >> (4 * i)) & 0x7];
	}
	if (n == 0)
		out[n++] = '-';
	out[n] = '\0';
}

/* TCP options, RFC 9293 §3.1: kinds 0 (end) and 1 (no-op) are one byte,
 * the others kind, length, data. */
static void synack_options(struct buf opts, struct fp_synack *out)
{
	int k = 0;
	uint8_t kind, len;
	uint16_t mss = 0;

	while (buf_u8(&opts, &kind) == 0 && k < 8) {
		out->opts |= (uint32_t)opt_code(kind) << (4 * k++);
		if (kind == 0)
			break;
		if (kind == 1)
			continue;
		if (buf_u8(&opts, &len) < 0 || len < 2 || buf_left(&opts) < (size_t)len - 2)
			break;
		if (kind == 2 && len == 4 && buf_peek_be16(buf_ptr(&opts), buf_left(&opts), 0, &mss) == 0)
			out->mss = mss;
		if (kind == 3 && len == 3)
			out->wscale = buf_ptr(&opts)[0];
		buf_skip(&opts, (size_t)len - 2);
	}
}

int fp_synack_parse(int ip_family, const uint8_t *l3, size_t l3_len, const uint8_t *l4,
                    size_t l4_len, struct fp_synack *out)
{
	struct buf ip, tcp, opts;
	uint8_t ttl, off;
	uint16_t win;

	memset(out, 0, sizeof *out);
	out->wscale = 0xff;
	buf_init(&ip, l3, l3_len);
	buf_init(&tcp, l4, l4_len);
	/* IPv4 TTL at byte 8, IPv6 hop limit at byte 7. */
	if (buf_skip(&ip, ip_family == 4 ? 8 : 7) < 0 || buf_u8(&ip, &ttl) < 0)
		return -1;
	if (buf_skip(&tcp, 12) < 0 || buf_u8(&tcp, &off) < 0 || buf_skip(&tcp, 1) < 0 ||
	    buf_be16(&tcp, &win) < 0 || buf_skip(&tcp, 4) < 0)
		return -1;
	off = (uint8_t)((off >> 4) * 4);
	if (off < 20 || buf_sub(&tcp, (size_t)off - 20, &opts) < 0)
		return -1;
	out->ttl = ttl_class(ttl);
	out->win = win;
	synack_options(opts, out);
	return 0;
}

