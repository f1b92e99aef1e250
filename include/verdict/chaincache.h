/*
 * chaincache.h - the decisions about certificate chains already seen.
 *
 * On a span port the same few thousand chains arrive millions of times.
 * Parsing a certificate with OpenSSL 3 costs tens of microseconds (its key
 * goes through the provider decoders) and verifying a chain a signature
 * check per link, so each distinct chain is parsed once and checked once
 * per owner; later handshakes presenting the same bytes reuse the result.
 *
 * The key is the SHA-256 of the chain as sent (each certificate's length
 * and DER, in order): a chain differing in one byte is a different chain.
 * Only bytes decide an entry, never names, so the cache cannot be steered
 * into approving a chain it has not verified.  What depends on the
 * connection (server address, SNI: which owners are concerned, the reason
 * text) is still worked out per handshake by policy_evaluate; only the
 * owner-by-chain verification results are memoised (struct policy_memo).
 *
 * One cache per engine (worker): no lock.  Bounded by max_entries
 * (--chain-cache; 0 disables it), least recently used evicted first;
 * hits, misses and evictions are counted in g_stats.
 */
#ifndef CS_CHAINCACHE_H
#define CS_CHAINCACHE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include "verdict/policy.h"
#include "analyser/tls.h"
#include "verdict/truststore.h"
#include "x509/x509.h"

struct chain_entry {
	uint8_t key[32];
	size_t n_certs;
	struct x509_info *certs;      /* owned array of n_certs, parsed */
	struct policy_memo *memo;     /* owned; one slot per owner */
	struct trust_memo trust;      /* who else trusts it (truststore.h) */
	struct chain_entry *hnext;    /* bucket chain */
	TAILQ_ENTRY(chain_entry) lru; /* the cache's LRU list, oldest first */
};

struct chain_cache;

/* n_owners: slots of each entry's memo (policy_owner_count).  NULL on
 * allocation failure. */
struct chain_cache *chain_cache_new(size_t max_entries, size_t n_owners);
void chain_cache_free(struct chain_cache *c);

/* The policy changed: drop every entry (memos belong to the old policy)
 * and size new memos for n_owners. */
void chain_cache_reset(struct chain_cache *c, size_t n_owners);

/* The chain's key, which EVE calls its SHA-256 (chain_sha256): SHA-256
 * over the certificates' SHA-256s, in order.  0, or -1 out of memory. */
int chain_cache_key(const struct tls_cert *certs, size_t n, uint8_t key[32]);

/* certs[0..n) parsed, outside the cache (also what an entry holds): an
 * owned array for chain_free; NULL on allocation failure. */
struct x509_info *chain_parse(const struct tls_cert *certs, size_t n);
void chain_free(struct x509_info *chain, size_t n);

/* The parsed chain of certs[0..n), from the cache or parsed now and kept.
 * NULL when n == 0, when the cache is disabled, or on allocation failure:
 * the caller then parses the chain itself.  The entry stays valid until
 * the next call (it may be evicted by the one after). */
struct chain_entry *chain_cache_get(struct chain_cache *c, const struct tls_cert *certs,
                                    size_t n);

#endif
