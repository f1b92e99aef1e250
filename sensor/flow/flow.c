/*
 * flow.c - the flow table (see include/flow/flow.h).
 *
 * Owns the flow records and their idle list (the table holds the
 * flows).  Must not: look at payload or free a flow's handshake state
 * (engine.c does).
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core/digest.h"
#include "flow/flow.h"
#include "core/stats.h"

/* A span port keeps a million flows: at this size they fit in 256 MB
 * with the table (tests/bench, --flows). */
_Static_assert(sizeof(struct flow) <= 160, "struct flow grew: check the 1M-flow budget");
/* 152 is what malloc serves from a 160-byte chunk (flow.h); one byte
 * more costs 16 a flow. */
_Static_assert(sizeof(void *) != 8 || sizeof(struct flow) <= 152,
               "struct flow grew past its malloc chunk: find padding (flow.h)");

struct flow_table {
	struct flow **buckets;   /* owned */
	size_t mask;
	size_t count, max;
	unsigned timeout_s;
	TAILQ_HEAD(flow_lru, flow) lru;   /* least recently seen first */
	uint8_t key[16];         /* SipHash key */
};

struct flow_table *flow_table_new(const struct cs_limits *lim, const uint8_t seed[16])
{
	struct flow_table *t = calloc(1, sizeof(*t));  /* owned by the caller */
	size_t n = 1024;

	if (!t)
		return NULL;
	while (n < lim->max_flows && n < ((size_t)1 << 30))
		n <<= 1;
	t->buckets = calloc(n, sizeof(*t->buckets));
	if (!t->buckets) {
		free(t);
		return NULL;
	}
	TAILQ_INIT(&t->lru);
	t->mask = n - 1;
	t->max = lim->max_flows;
	t->timeout_s = lim->flow_timeout;
	memcpy(t->key, seed, sizeof(t->key));
	return t;
}

void flow_table_free(struct flow_table *t)
{
	if (!t)
		return;
	free(t->buckets);
	free(t);
}

static int endpoint_cmp(const struct pkt *p)
{
	size_t alen = p->family == 4 ? 4 : 16;
	int c = memcmp(p->src, p->dst, alen);

	if (c != 0)
		return c;
	return (int)p->sport - (int)p->dport;
}

/* Canonical key: the lower (address, port) is side 0. */
static int make_key(const struct pkt *p, struct flow_key *k)
{
	int swap = endpoint_cmp(p) > 0;

	memset(k, 0, sizeof(*k));
	k->family = p->family;
	k->proto = p->proto;
	k->n_vlan = p->n_vlan;
	memcpy(k->vlan, p->vlan, sizeof(k->vlan));
	memcpy(k->addr[swap], p->src, 16);
	memcpy(k->addr[!swap], p->dst, 16);
	k->port[swap] = p->sport;
	k->port[!swap] = p->dport;
	return swap;   /* the sender's side */
}

/* SipHash of the key's meaningful bytes: an IPv4 key hashes 20 bytes, not
 * the 44 of its IPv6-sized slots (this runs for every packet). */
static uint64_t key_hash(const struct flow_table *t, const struct flow_key *k)
{
	uint8_t b[sizeof(*k)];
	size_t n = offsetof(struct flow_key, addr), alen = k->family == 4 ? 4 : 16;

	memcpy(b, k, n);            /* family, proto, VLANs, ports (padding zeroed) */
	memcpy(b + n, k->addr[0], alen);
	memcpy(b + n + alen, k->addr[1], alen);
	return digest_siphash(t->key, b, n + 2 * alen);
}

struct flow *flow_lookup(struct flow_table *t, const struct pkt *p, int create,
                         int *side, int *created)
{
	struct flow_key k;
	struct flow *f;
	uint64_t h;
	size_t b;

	*side = make_key(p, &k);
	*created = 0;
	h = key_hash(t, &k);
	b = (size_t)h & t->mask;
	for (f = t->buckets[b]; f; f = f->hnext)
		if (f->hash == h && memcmp(&f->key, &k, sizeof(k)) == 0)
			return f;
	if (!create || t->count >= t->max)
		return NULL;
	f = calloc(1, sizeof(*f));   /* owned by the table until unlinked */
	if (!f)
		return NULL;
	f->key = k;
	f->hash = h;
	f->client = -1;
	f->wscale[0] = f->wscale[1] = FLOW_WSCALE_NONE;
	f->first_ts = f->last_ts = p->ts_us;
	f->hnext = t->buckets[b];
	t->buckets[b] = f;
	TAILQ_INSERT_TAIL(&t->lru, f, lru);
	t->count++;
	*created = 1;
	return f;
}

void flow_touch(struct flow_table *t, struct flow *f, uint64_t ts)
{
	if (ts > f->last_ts)
		f->last_ts = ts;
	if (TAILQ_NEXT(f, lru)) {
		TAILQ_REMOVE(&t->lru, f, lru);
		TAILQ_INSERT_TAIL(&t->lru, f, lru);
	}
}

int flow_table_full(const struct flow_table *t)
{
	return t->count >= t->max;
}

size_t flow_table_count(const struct flow_table *t)
{
	return t->count;
}

void flow_unlink(struct flow_table *t, struct flow *f)
{
	struct flow **pp = &t->buckets[(size_t)f->hash & t->mask];

	while (*pp && *pp != f)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = f->hnext;
	TAILQ_REMOVE(&t->lru, f, lru);
	t->count--;
}

struct flow *flow_oldest(const struct flow_table *t)
{
	return TAILQ_FIRST(&t->lru);
}

struct flow *flow_pop_idle(struct flow_table *t, uint64_t now)
{
	struct flow *f = TAILQ_FIRST(&t->lru);

	if (!f)
		return NULL;
	if (now != UINT64_MAX &&
	    (now < f->last_ts || now - f->last_ts <= (uint64_t)t->timeout_s * 1000000u))
		return NULL;
	flow_unlink(t, f);
	return f;
}
