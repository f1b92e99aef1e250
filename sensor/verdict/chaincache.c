/*
 * chaincache.c - parsed chains and their verification results, by the
 * SHA-256 of their bytes (see include/verdict/chaincache.h).
 *
 * A small chained hash table (buckets = next power of two >= 2 x the
 * entries) plus an LRU list.  The key is a cryptographic digest of what
 * the attacker sends, so it is also the bucket hash: nobody can aim many
 * chains at one bucket without breaking SHA-256.
 *
 * Must not: judge a chain (policy.c does).
 */
#include <stdlib.h>
#include <string.h>

#include "verdict/chaincache.h"
#include "core/digest.h"
#include "core/stats.h"

/* Chains longer than this are hashed through a heap buffer. */
#define KEY_STACK_CERTS 16

struct chain_cache {
	struct chain_entry **buckets;  /* owned array */
	size_t mask;
	size_t max_entries, n_entries;
	size_t n_owners;               /* slots per memo */
	TAILQ_HEAD(chain_lru, chain_entry) lru;   /* least recently used first */
};

struct chain_cache *chain_cache_new(size_t max_entries, size_t n_owners)
{
	struct chain_cache *c = calloc(1, sizeof(*c));   /* freed by chain_cache_free */
	size_t nb = 16;

	if (!c)
		return NULL;
	while (nb < 2 * max_entries && nb < ((size_t)1 << 30))
		nb <<= 1;
	c->buckets = calloc(nb, sizeof(*c->buckets));
	if (!c->buckets) {
		free(c);
		return NULL;
	}
	TAILQ_INIT(&c->lru);
	c->mask = nb - 1;
	c->max_entries = max_entries;
	c->n_owners = n_owners;
	return c;
}

struct x509_info *chain_parse(const struct tls_cert *certs, size_t n)
{
	struct x509_info *chain = calloc(n, sizeof(*chain));   /* chain_free */

	if (!chain)
		return NULL;
	for (size_t i = 0; i < n; i++)
		x509_parse(certs[i].data, certs[i].len, &chain[i]);
	return chain;
}

void chain_free(struct x509_info *chain, size_t n)
{
	if (!chain)
		return;
	for (size_t i = 0; i < n; i++)
		x509_info_free(&chain[i]);
	free(chain);
}

static void entry_free(struct chain_entry *e)
{
	chain_free(e->certs, e->n_certs);
	free(e->memo);
	free(e);
}

static size_t bucket_of(const struct chain_cache *c, const uint8_t key[32])
{
	uint64_t h;

	memcpy(&h, key, sizeof(h));
	return (size_t)h & c->mask;
}

static void remove_entry(struct chain_cache *c, struct chain_entry *e)
{
	struct chain_entry **pp = &c->buckets[bucket_of(c, e->key)];

	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	TAILQ_REMOVE(&c->lru, e, lru);
	c->n_entries--;
	entry_free(e);
}

void chain_cache_reset(struct chain_cache *c, size_t n_owners)
{
	while (!TAILQ_EMPTY(&c->lru))
		remove_entry(c, TAILQ_FIRST(&c->lru));
	c->n_owners = n_owners;
}

void chain_cache_free(struct chain_cache *c)
{
	if (!c)
		return;
	chain_cache_reset(c, 0);
	free(c->buckets);
	free(c);
}

/* SHA-256 over the certificates' own SHA-256s, in order: no two different
 * chains (order, count or bytes) share it. */
int chain_cache_key(const struct tls_cert *certs, size_t n, uint8_t key[32])
{
	uint8_t stack[KEY_STACK_CERTS * DIGEST_SHA256_LEN] = { 0 };
	uint8_t *buf = stack;

	if (n > KEY_STACK_CERTS) {
		buf = malloc(n * DIGEST_SHA256_LEN);   /* freed below */
		if (!buf)
			return -1;
	}
	for (size_t i = 0; i < n; i++)
		digest_sha256(certs[i].data, certs[i].len, buf + i * DIGEST_SHA256_LEN);
	digest_sha256(buf, n * DIGEST_SHA256_LEN, key);
	if (buf != stack)
		free(buf);
	return 0;
}

static struct chain_entry *lookup(struct chain_cache *c, const uint8_t key[32])
{
	struct chain_entry *e = c->buckets[bucket_of(c, key)];

	while (e && memcmp(e->key, key, 32) != 0)
		e = e->hnext;
	return e;
}

/* A new entry holding the parsed chain; NULL on allocation failure. */
static struct chain_entry *make_entry(const struct chain_cache *c, const uint8_t key[32],
                                      const struct tls_cert *certs, size_t n)
{
	struct chain_entry *e = calloc(1, sizeof(*e));   /* owned by the cache */

	if (!e)
		return NULL;
	e->certs = chain_parse(certs, n);
	e->memo = c->n_owners ? calloc(c->n_owners, sizeof(*e->memo)) : NULL;
	if (!e->certs || (c->n_owners && !e->memo)) {
		chain_free(e->certs, n);
		free(e->memo);
		free(e);
		return NULL;
	}
	memcpy(e->key, key, 32);
	e->n_certs = n;
	return e;
}

struct chain_entry *chain_cache_get(struct chain_cache *c, const struct tls_cert *certs,
                                    size_t n)
{
	uint8_t key[32];
	struct chain_entry *e;
	size_t b;

	if (!c || c->max_entries == 0 || n == 0 || chain_cache_key(certs, n, key) < 0)
		return NULL;
	e = lookup(c, key);
	if (e) {
		g_stats.chain_cache_hits++;
		TAILQ_REMOVE(&c->lru, e, lru);
		TAILQ_INSERT_TAIL(&c->lru, e, lru);
		return e;
	}
	g_stats.chain_cache_misses++;
	e = make_entry(c, key, certs, n);
	if (!e)
		return NULL;
	if (c->n_entries >= c->max_entries) {
		g_stats.chain_cache_evictions++;
		remove_entry(c, TAILQ_FIRST(&c->lru));
	}
	b = bucket_of(c, key);
	e->hnext = c->buckets[b];
	c->buckets[b] = e;
	TAILQ_INSERT_TAIL(&c->lru, e, lru);
	c->n_entries++;
	return e;
}
