/*
 * defrag.c - IP fragment reassembly (see include/capture/defrag.h).
 *
 * Owns the datagrams being rebuilt, bounded by --max-frag-datagrams,
 * --frag-timeout and --frag-memcap.  Must not: look past the IP header.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "capture/defrag.h"
#include "core/digest.h"
#include "core/stats.h"

#define DEFRAG_BUCKETS  4096u       /* power of two */
#define DEFRAG_MAX_DGRAM 65535u     /* IP payload of a datagram */
#define DEFRAG_MAX_HDR  60u         /* IPv4 header with options; IPv6 uses 40 */

struct piece {
	struct piece *next;          /* arrival order */
	uint16_t off, len;
	uint8_t data[];
};

struct dgram {
	struct dgram *hnext;
	TAILQ_ENTRY(dgram) age;      /* the table's age list, oldest first */
	uint64_t hash;
	uint8_t family, proto;
	uint8_t src[16], dst[16];
	uint32_t id;
	uint64_t first_us;
	uint8_t hdr[DEFRAG_MAX_HDR]; /* header of the offset-0 fragment */
	size_t hdr_len;
	uint32_t total;              /* payload length, known from the last fragment */
	int have_last;
	struct piece *pieces, **tail;/* owned, freed in dgram_free */
	size_t n_pieces, bytes;
};

struct defrag {
	const struct cs_limits *lim; /* not owned */
	uint8_t key[16];
	struct dgram *buckets[DEFRAG_BUCKETS];
	TAILQ_HEAD(dgram_age, dgram) age;   /* oldest first */
	size_t count, bytes;
	uint8_t out[DEFRAG_MAX_HDR + DEFRAG_MAX_DGRAM]; /* the rebuilt datagram */
};

struct defrag *defrag_new(const struct cs_limits *lim, const uint8_t seed[16])
{
	struct defrag *d = calloc(1, sizeof(*d));   /* owned by the caller */

	if (!d)
		return NULL;
	d->lim = lim;
	TAILQ_INIT(&d->age);
	memcpy(d->key, seed, sizeof(d->key));
	return d;
}

static void unlink_dgram(struct defrag *d, struct dgram *g)
{
	struct dgram **pp = &d->buckets[g->hash & (DEFRAG_BUCKETS - 1)];

	while (*pp && *pp != g)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = g->hnext;
	TAILQ_REMOVE(&d->age, g, age);
	d->count--;
}

static void dgram_free(struct defrag *d, struct dgram *g)
{
	struct piece *p, *n;

	unlink_dgram(d, g);
	for (p = g->pieces; p; p = n) {
		n = p->next;
		free(p);
	}
	d->bytes -= g->bytes;
	free(g);
}

void defrag_free(struct defrag *d)
{
	if (!d)
		return;
	while (!TAILQ_EMPTY(&d->age))
		dgram_free(d, TAILQ_FIRST(&d->age));
	free(d);
}

void defrag_expire(struct defrag *d, uint64_t now_us)
{
	uint64_t max = (uint64_t)d->lim->frag_timeout * 1000000u;
	struct dgram *g;

	while ((g = TAILQ_FIRST(&d->age)) && now_us > g->first_us && now_us - g->first_us > max) {
		g_stats.frag_timeout++;
		dgram_free(d, g);
	}
}

/* The datagram's key: family, protocol, addresses, id. */
struct dkey {
	uint8_t family, proto, pad[2];
	uint32_t id;
	uint8_t src[16], dst[16];
};

static struct dgram *find(struct defrag *d, const struct pkt *p, uint64_t now_us)
{
	struct dkey k;
	struct dgram *g;
	uint64_t h;

	memset(&k, 0, sizeof(k));
	k.family = p->family;
	k.proto = p->frag.proto;
	k.id = p->frag.id;
	memcpy(k.src, p->src, sizeof(k.src));
	memcpy(k.dst, p->dst, sizeof(k.dst));
	h = digest_siphash(d->key, &k, sizeof(k));
	for (g = d->buckets[h & (DEFRAG_BUCKETS - 1)]; g; g = g->hnext)
		if (g->hash == h && g->family == k.family && g->proto == k.proto &&
		    g->id == k.id && memcmp(g->src, k.src, 16) == 0 &&
		    memcmp(g->dst, k.dst, 16) == 0)
			return g;
	if (d->count >= d->lim->max_frag_dgrams) {
		g_stats.frag_limit++;
		dgram_free(d, TAILQ_FIRST(&d->age));
	}
	g = calloc(1, sizeof(*g));   /* owned by the table; dgram_free */
	if (!g)
		return NULL;
	g->hash = h;
	g->family = k.family;
	g->proto = k.proto;
	g->id = k.id;
	memcpy(g->src, k.src, 16);
	memcpy(g->dst, k.dst, 16);
	g->first_us = now_us;
	g->tail = &g->pieces;
	g->hnext = d->buckets[h & (DEFRAG_BUCKETS - 1)];
	d->buckets[h & (DEFRAG_BUCKETS - 1)] = g;
	TAILQ_INSERT_TAIL(&d->age, g, age);
	d->count++;
	return g;
}

/* Is [0, total) covered?  Counts overlaps on the way. */
static int complete(const struct dgram *g, int *overlap)
{
	uint32_t off[CS_DEF_MAX_FRAG_PIECES];
	uint32_t end[CS_DEF_MAX_FRAG_PIECES];
	size_t n = 0;
	uint32_t reach = 0;

	*overlap = 0;
	for (const struct piece *p = g->pieces; p && n < CS_DEF_MAX_FRAG_PIECES; p = p->next) {
		size_t i = n++;

		/* insertion sort by offset: n is small */
		while (i > 0 && off[i - 1] > p->off) {
			off[i] = off[i - 1];
			end[i] = end[i - 1];
			i--;
		}
		off[i] = p->off;
		end[i] = (uint32_t)p->off + p->len;
	}
	for (size_t i = 0; i < n; i++) {
		if (off[i] > reach)
			return 0;
		if (off[i] < reach)
			*overlap = 1;
		if (end[i] > reach)
			reach = end[i];
	}
	return g->have_last && g->hdr_len > 0 && reach >= g->total;
}

/* Write the whole datagram to d->out: the pieces latest first, so that the
 * first copy of every byte is the one left standing. */
static size_t rebuild(struct defrag *d, const struct dgram *g)
{
	const struct piece *stack[CS_DEF_MAX_FRAG_PIECES];
	size_t n = 0, len = g->hdr_len + g->total;
	uint8_t *pl = d->out + g->hdr_len;

	for (const struct piece *p = g->pieces; p && n < CS_DEF_MAX_FRAG_PIECES; p = p->next)
		stack[n++] = p;
	while (n > 0) {
		const struct piece *p = stack[--n];
		size_t take = p->off >= g->total ? 0 : g->total - p->off;

		if (take > p->len)
			take = p->len;
		memcpy(pl + p->off, p->data, take);
	}
	memcpy(d->out, g->hdr, g->hdr_len);
	if (g->family == 4) {
		/* total length, and no more fragment bits; the header checksum
		 * is not looked at */
		d->out[2] = (uint8_t)(len >> 8);
		d->out[3] = (uint8_t)len;
		d->out[6] = 0;
		d->out[7] = 0;
	} else {
		/* payload length and next header of the fixed header */
		d->out[4] = (uint8_t)(g->total >> 8);
		d->out[5] = (uint8_t)g->total;
		d->out[6] = g->proto;
	}
	return len;
}

const uint8_t *defrag_add(struct defrag *d, const struct pkt *p, uint64_t now_us,
                          size_t *len)
{
	const struct pkt_frag *fr = &p->frag;
	struct dgram *g;
	struct piece *pc;
	uint32_t end = (uint32_t)fr->offset + (uint32_t)fr->len;
	int overlap;

	defrag_expire(d, now_us);
	if (end > DEFRAG_MAX_DGRAM || fr->hdr_len > DEFRAG_MAX_HDR ||
	    (fr->more && fr->len % 8 != 0)) {
		g_stats.frag_bad++;
		return NULL;
	}
	if (fr->len > d->lim->frag_memcap || d->bytes > d->lim->frag_memcap - fr->len) {
		g_stats.frag_limit++;
		return NULL;
	}
	g = find(d, p, now_us);
	if (!g)
		return NULL;
	if (g->n_pieces >= CS_DEF_MAX_FRAG_PIECES) {
		g_stats.frag_limit++;
		dgram_free(d, g);
		return NULL;
	}
	if (!fr->more) {
		/* Two different ends: the datagram cannot be trusted. */
		if (g->have_last && g->total != end) {
			g_stats.frag_bad++;
			dgram_free(d, g);
			return NULL;
		}
		g->have_last = 1;
		g->total = end;
	}
	if (fr->offset == 0 && g->hdr_len == 0) {
		memcpy(g->hdr, fr->hdr, fr->hdr_len);
		g->hdr_len = fr->hdr_len;
	}
	pc = malloc(sizeof(*pc) + fr->len);   /* owned by g; dgram_free */
	if (!pc)
		return NULL;
	pc->next = NULL;
	pc->off = fr->offset;
	pc->len = (uint16_t)fr->len;
	memcpy(pc->data, fr->data, fr->len);
	*g->tail = pc;
	g->tail = &pc->next;
	g->n_pieces++;
	g->bytes += fr->len;
	d->bytes += fr->len;
	if (!complete(g, &overlap))
		return NULL;
	if (overlap)
		g_stats.frag_overlap++;
	*len = rebuild(d, g);
	g_stats.frag_reassembled++;
	dgram_free(d, g);
	return d->out;
}
