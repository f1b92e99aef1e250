/*
 * fingerprint.c - TLS 1.3 server fingerprints and their baseline file (the
 * contract is include/fingerprint.h).
 *
 * Endpoints sit in one array (owned pointers, in the order learned or
 * loaded); two open-addressing indexes find one by (address, port, SNI)
 * and by (port, SNI) for an address not seen before (anycast).  A shape
 * keeps its flight bytes as a running mean and sum of squares (Welford),
 * so learning costs the same for the millionth handshake as the first.
 *
 * The baseline file is input like any other: each line is read into a
 * bounded buffer, split into key=value fields, every value checked, and
 * a bad line is "FILE:LINE: reason", never half-loaded.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "buf.h"
#include "fingerprint.h"

#define FP_VERSION      1
#define FP_MAGIC        "certsentry-baseline"
#define SLOTS_MIN       64u
#define SNI_MAX         256u
#define HELLO_MAX       48u
#define NO_INDEX        0xffffffffu

struct fp_shape {
	char hello[HELLO_MAX];        /* ServerHello extension types, "43-51" */
	unsigned records;
	struct fp_synack sa;          /* ttl 0: none seen */
	uint64_t count;
	double mean, m2;              /* flight bytes: Welford's running moments */
	uint64_t min, max;
	unsigned lmin, lmax;          /* the largest record */
	uint16_t ciphers[FP_MAX_CHOICES], groups[FP_MAX_CHOICES];
	size_t n_ciphers, n_groups;
};

struct fp_endpoint {
	int family;
	uint8_t ip[16];
	uint16_t port;
	char sni[SNI_MAX];            /* "" for none */
	struct fp_shape shape[FP_MAX_SHAPES];
	size_t n;
};

struct fp_baseline {
	pthread_mutex_t lock;         /* learning */
	unsigned tolerance;
	struct fp_endpoint **ep;      /* owned array of owned endpoints */
	size_t n, cap;
	uint32_t *exact, *by_sni;     /* owned; index into ep, NO_INDEX empty; at
	                                 most half full */
	size_t n_slots;               /* a power of two */
};

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

static struct fp_endpoint *ep_get(struct fp_baseline *b, int family, const uint8_t *ip,
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

static double shape_sd(const struct fp_shape *s)
{
	return s->count > 1 ? sqrt(s->m2 / (double)(s->count - 1)) : 0.0;
}

static double shape_tol(const struct fp_baseline *b, const struct fp_shape *s)
{
	double t = 4.0 * shape_sd(s);

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
	e = ep_get(b, o->family, o->ip, o->port, sni);
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

/* ---- the file ---------------------------------------------------------------- */

static void list_str(const uint16_t *v, size_t n, int hex, char *out, size_t len)
{
	size_t o = 0;

	out[0] = '\0';
	for (size_t i = 0; i < n && o < len; i++)
		o += (size_t)snprintf(out + o, len - o, hex ? "%s%04x" : "%s%u", i ? "," : "",
		                      (unsigned)v[i]);
	if (n == 0)
		snprintf(out, len, "-");
}

static void endpoint_str(const struct fp_endpoint *e, char *out, size_t len)
{
	char ip[INET6_ADDRSTRLEN];

	inet_ntop(e->family == 4 ? AF_INET : AF_INET6, e->ip, ip, sizeof ip);
	snprintf(out, len, e->family == 4 ? "%s:%u" : "[%s]:%u", ip, e->port);
}

int fp_save(const struct fp_baseline *b, const char *path, char *err, size_t errlen)
{
	char tmp[4096], ep[80], ciphers[64], groups[64], sa[64], opts[16];
	FILE *f;

	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		return -1;
	}
	fprintf(f, "# TLS 1.3 server fingerprints of protected endpoints, learned by certsentry "
	        "--learn\n# (README \"Fingerprints\"): one shape a line.\n%s %d\n", FP_MAGIC,
	        FP_VERSION);
	for (size_t i = 0; i < b->n; i++) {
		const struct fp_endpoint *e = b->ep[i];

		endpoint_str(e, ep, sizeof ep);
		for (size_t k = 0; k < e->n; k++) {
			const struct fp_shape *s = &e->shape[k];

			list_str(s->ciphers, s->n_ciphers, 1, ciphers, sizeof ciphers);
			list_str(s->groups, s->n_groups, 0, groups, sizeof groups);
			fp_synack_opts(s->sa.opts, opts);
			if (s->sa.ttl)
				snprintf(sa, sizeof sa, "%u/%u/%d/%u/%s", s->sa.ttl, s->sa.mss,
				         s->sa.wscale == 0xff ? -1 : s->sa.wscale, s->sa.win, opts);
			else
				snprintf(sa, sizeof sa, "-");
			fprintf(f, "shape endpoint=%s sni=%s count=%llu hello=%s records=%u bytes=%.1f "
			        "sd=%.1f min=%llu max=%llu largest=%u-%u synack=%s ciphers=%s "
			        "groups=%s\n", ep, e->sni[0] ? e->sni : "-",
			        (unsigned long long)s->count, s->hello[0] ? s->hello : "-",
			        s->records, s->mean, shape_sd(s), (unsigned long long)s->min,
			        (unsigned long long)s->max, s->lmin, s->lmax, sa, ciphers, groups);
		}
	}
	if (fflush(f) != 0 || ferror(f)) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		fclose(f);
		return -1;
	}
	fclose(f);
	if (rename(tmp, path) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* A decimal number in [0, max], the whole string. */
static int num(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s[0] || s[0] == '-' || s[0] == '+')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return -1;
	*out = v;
	return 0;
}

static int real(const char *s, double *out)
{
	char *end;

	if (!s[0])
		return -1;
	errno = 0;
	*out = strtod(s, &end);
	return errno || *end || !isfinite(*out) || *out < 0 ? -1 : 0;
}

static int parse_endpoint(const char *s, int *family, uint8_t ip[16], uint16_t *port)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon;
	uint64_t p;
	size_t n;

	memset(ip, 0, 16);
	if (s[0] == '[') {
		colon = strstr(s, "]:");
		if (!colon)
			return -1;
		n = (size_t)(colon - s - 1);
		s++;
		colon++;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return -1;
		n = (size_t)(colon - s);
	}
	if (n == 0 || n >= sizeof host)
		return -1;
	memcpy(host, s, n);
	host[n] = '\0';
	if (inet_pton(AF_INET, host, ip) == 1)
		*family = 4;
	else if (inet_pton(AF_INET6, host, ip) == 1)
		*family = 6;
	else
		return -1;
	if (num(colon + 1, 65535, &p) < 0 || p == 0)
		return -1;
	*port = (uint16_t)p;
	return 0;
}

/* "1302,1301" (hex) or "29,23" (decimal), or "-". */
static int parse_list(const char *s, int hex, uint16_t *out, size_t *n)
{
	char copy[128], *tok, *save = NULL;

	*n = 0;
	if (strcmp(s, "-") == 0)
		return 0;
	if (strlen(s) >= sizeof copy)
		return -1;
	strcpy(copy, s);
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *end;
		unsigned long v;

		if (*n >= FP_MAX_CHOICES || !tok[0])
			return -1;
		errno = 0;
		v = strtoul(tok, &end, hex ? 16 : 10);
		if (errno || *end || v > 0xffff)
			return -1;
		out[(*n)++] = (uint16_t)v;
	}
	return 0;
}

/* "1097-1120": two numbers up to 2^20, the first not above the second. */
static int parse_range(const char *s, unsigned *lo, unsigned *hi)
{
	char copy[32], *dash;
	uint64_t a, b;

	if (strlen(s) >= sizeof copy)
		return -1;
	strcpy(copy, s);
	dash = strchr(copy, '-');
	if (!dash)
		return -1;
	*dash = '\0';
	if (num(copy, 1u << 20, &a) < 0 || num(dash + 1, 1u << 20, &b) < 0 || a > b)
		return -1;
	*lo = (unsigned)a;
	*hi = (unsigned)b;
	return 0;
}

static int opts_code(char c)
{
	const char *names = "?ENMWSTX", *p = strchr(names, c);

	return c && p && p != names ? (int)(p - names) : -1;
}

/* "64/1460/7/65160/M,S,T,N,W" or "-". */
static int parse_synack(const char *s, struct fp_synack *sa)
{
	char copy[96], *f[5], *save = NULL;
	uint64_t v[4];
	long ws;
	int k = 0;

	memset(sa, 0, sizeof *sa);
	if (strcmp(s, "-") == 0)
		return 0;
	if (strlen(s) >= sizeof copy)
		return -1;
	strcpy(copy, s);
	for (char *tok = strtok_r(copy, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
		if (k == 5)
			return -1;
		f[k++] = tok;
	}
	if (k != 5 || num(f[0], 255, &v[0]) < 0 || num(f[1], 65535, &v[1]) < 0 ||
	    num(f[3], 65535, &v[3]) < 0)
		return -1;
	if (strcmp(f[2], "-1") == 0)
		ws = 0xff;
	else if (num(f[2], 14, &v[2]) == 0)
		ws = (long)v[2];
	else
		return -1;
	if (v[0] != 32 && v[0] != 64 && v[0] != 128 && v[0] != 255)
		return -1;
	sa->ttl = (uint8_t)v[0];
	sa->mss = (uint16_t)v[1];
	sa->wscale = (uint8_t)ws;
	sa->win = (uint16_t)v[3];
	if (strcmp(f[4], "-") == 0)
		return 0;
	k = 0;
	for (const char *p = f[4]; *p; p++) {
		int c;

		if (*p == ',')
			continue;
		c = opts_code(*p);
		if (c < 0 || k == 8 || (p[1] && p[1] != ','))
			return -1;
		sa->opts |= (uint32_t)c << (4 * k++);
	}
	return 0;
}

/* The fields of one shape line.  Returns NULL, or why not. */
static const char *parse_shape(struct fp_baseline *b, char *line)
{
	static const char *const keys[] = { "endpoint", "sni", "count", "hello", "records", "bytes",
	                                    "sd", "min", "max", "synack", "ciphers", "groups",
	                                    "largest" };
	enum { N_KEYS = sizeof keys / sizeof keys[0] };
	const char *val[N_KEYS] = { NULL };
	char *tok, *save = NULL;
	struct fp_shape s;
	struct fp_endpoint *e;
	uint8_t ip[16];
	uint16_t port;
	uint64_t v;
	double sd;
	int family;

	tok = strtok_r(line, " \t", &save);   /* "shape" */
	for (tok = strtok_r(NULL, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		char *eq = strchr(tok, '=');
		size_t k;

		if (!eq)
			return "a field without '='";
		*eq = '\0';
		for (k = 0; k < N_KEYS && strcmp(keys[k], tok) != 0; k++)
			;
		if (k == N_KEYS)
			return "unknown field";
		if (val[k])
			return "a field given twice";
		val[k] = eq + 1;
	}
	for (size_t k = 0; k < N_KEYS; k++)
		if (!val[k])
			return "a field is missing (endpoint sni count hello records bytes sd min max "
			       "largest synack ciphers groups)";
	memset(&s, 0, sizeof s);
	if (parse_endpoint(val[0], &family, ip, &port) < 0)
		return "bad endpoint (ADDRESS:PORT or [IPv6]:PORT)";
	if (strlen(val[1]) >= SNI_MAX)
		return "sni too long";
	if (num(val[2], UINT64_MAX, &s.count) < 0 || s.count == 0)
		return "bad count";
	if (strlen(val[3]) >= HELLO_MAX)
		return "hello too long";
	snprintf(s.hello, sizeof s.hello, "%s", strcmp(val[3], "-") == 0 ? "" : val[3]);
	if (num(val[4], 1u << 20, &v) < 0)
		return "bad records";
	s.records = (unsigned)v;
	if (real(val[5], &s.mean) < 0 || real(val[6], &sd) < 0)
		return "bad bytes or sd";
	if (num(val[7], UINT64_MAX, &s.min) < 0 || num(val[8], UINT64_MAX, &s.max) < 0 ||
	    s.min > s.max || s.mean < (double)s.min || s.mean > (double)s.max)
		return "bad min or max (min <= bytes <= max)";
	s.m2 = sd * sd * (double)(s.count > 1 ? s.count - 1 : 0);
	if (parse_synack(val[9], &s.sa) < 0)
		return "bad synack (TTL/MSS/WSCALE/WINDOW/OPTIONS or -)";
	if (parse_list(val[10], 1, s.ciphers, &s.n_ciphers) < 0 ||
	    parse_list(val[11], 0, s.groups, &s.n_groups) < 0)
		return "bad ciphers or groups";
	if (parse_range(val[12], &s.lmin, &s.lmax) < 0)
		return "bad largest (MIN-MAX)";
	e = ep_get(b, family, ip, port, strcmp(val[1], "-") == 0 ? "" : val[1]);
	if (!e)
		return "too many endpoints, or out of memory";
	if (e->n == FP_MAX_SHAPES)
		return "too many shapes for one endpoint";
	e->shape[e->n++] = s;
	return NULL;
}

/* One line of a baseline, without its newline (it may be changed).
 * Returns NULL, or why it is wrong. */
static const char *load_line(struct fp_baseline *b, char *line, int *have_magic)
{
	size_t n = strlen(line);
	char *p = line;
	uint64_t v;

	while (n > 0 && line[n - 1] == '\r')
		line[--n] = '\0';
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0' || *p == '#')
		return NULL;
	if (!*have_magic) {
		*have_magic = 1;
		if (strncmp(p, FP_MAGIC " ", strlen(FP_MAGIC) + 1) != 0)
			return "not a certsentry baseline (its first line is \"" FP_MAGIC " 1\")";
		if (num(p + strlen(FP_MAGIC) + 1, 1000, &v) < 0 || v != FP_VERSION)
			return "unsupported baseline version (this certsentry reads version 1)";
		return NULL;
	}
	if (strncmp(p, "shape ", 6) == 0 || strncmp(p, "shape\t", 6) == 0)
		return parse_shape(b, p);
	return "unknown line (expected \"shape ...\")";
}

int fp_parse_text(struct fp_baseline *b, const char *name, const char *text, size_t len,
                  char *err, size_t errlen)
{
	char line[FP_MAX_LINE + 1];
	unsigned lineno = 0;
	int have_magic = 0;
	size_t off = 0;

	while (off < len) {
		const char *nl = memchr(text + off, '\n', len - off), *why;
		size_t n = nl ? (size_t)(nl - (text + off)) : len - off;

		lineno++;
		if (n > FP_MAX_LINE) {
			snprintf(err, errlen, "%s:%u: line longer than %u bytes", name, lineno,
			         FP_MAX_LINE);
			return -1;
		}
		memcpy(line, text + off, n);
		line[n] = '\0';
		off += n + (nl != NULL);
		if (memchr(line, '\0', n) != NULL) {
			snprintf(err, errlen, "%s:%u: a NUL byte", name, lineno);
			return -1;
		}
		why = load_line(b, line, &have_magic);
		if (why) {
			snprintf(err, errlen, "%s:%u: %s", name, lineno, why);
			return -1;
		}
	}
	if (!have_magic) {
		snprintf(err, errlen, "%s: empty, not a certsentry baseline", name);
		return -1;
	}
	return 0;
}

int fp_load(struct fp_baseline *b, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char *text = NULL;
	size_t len = 0, cap = 0;
	int rc = -1;

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	for (;;) {
		size_t got;

		if (cap - len < 65536) {
			char *t;

			if (cap > FP_MAX_FILE) {
				snprintf(err, errlen, "%s: larger than %u bytes", path, FP_MAX_FILE);
				goto out;
			}
			t = realloc(text, cap + 65536);   /* freed here */
			if (!t) {
				snprintf(err, errlen, "%s: out of memory", path);
				goto out;
			}
			text = t;
			cap += 65536;
		}
		got = fread(text + len, 1, cap - len, f);
		len += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	rc = fp_parse_text(b, path, text, len, err, errlen);
out:
	free(text);
	fclose(f);
	return rc;
}
