/*
 * test_chaincache.c - the chain cache: a chain is parsed once, found again
 * by its bytes only, evicted oldest first, emptied on a policy change.
 * Certificates are the committed test PKI (pcaps/pki), read from the top
 * directory (tests/run_tests.sh runs there).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "verdict/chaincache.h"
#include "testpki.h"
#include "core/stats.h"


#define N_PEM 4
static const char *const pem_files[N_PEM] = {
	"pcaps/pki/approved-leaf.pem", "pcaps/pki/approved-issuing.pem",
	"pcaps/pki/rogue-leaf.pem", "pcaps/pki/rogue-root.pem",
};
static struct tls_cert der[N_PEM];

static int setup(void **state)
{
	(void)state;
	if (testpki_load(pem_files, N_PEM, der) < 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_PEM; i++)
		OPENSSL_free(der[i].data);
	return 0;
}

static void test_parsed_once_then_hit(void **state)
{
	struct chain_cache *c = chain_cache_new(8, 2);
	struct tls_cert chain[2] = { der[0], der[1] };
	struct chain_entry *e1, *e2;

	(void)state;
	memset(&g_stats, 0, sizeof(g_stats));
	assert_non_null(c);
	e1 = chain_cache_get(c, chain, 2);
	assert_non_null(e1);
	assert_int_equal(e1->n_certs, 2);
	assert_true(e1->certs[0].parsed && e1->certs[1].parsed);
	assert_non_null(strstr(e1->certs[1].subject, "Approved Issuing CA"));
	assert_non_null(e1->memo);
	assert_int_equal(g_stats.chain_cache_misses, 1);
	/* A memo written through the first look-up is there on the second. */
	e1->memo[1].done = 1;
	e1->memo[1].verdict = VERDICT_SELF_SIGNED;
	e2 = chain_cache_get(c, chain, 2);
	assert_ptr_equal(e1, e2);
	assert_int_equal(e2->memo[1].verdict, VERDICT_SELF_SIGNED);
	assert_int_equal(g_stats.chain_cache_hits, 1);
	chain_cache_free(c);
}

/* Only the bytes decide: another order, a subset, one byte changed or a
 * different length are different chains. */
static void test_key_is_the_bytes(void **state)
{
	struct chain_cache *c = chain_cache_new(16, 1);
	struct tls_cert ab[2] = { der[0], der[1] }, ba[2] = { der[1], der[0] };
	struct tls_cert a[1] = { der[0] }, mod[2];
	uint8_t *copy = malloc(der[0].len);
	struct chain_entry *e_ab, *e_ba, *e_a, *e_mod, *e_short;

	(void)state;
	assert_non_null(c);
	assert_non_null(copy);
	memcpy(copy, der[0].data, der[0].len);
	copy[der[0].len - 1] ^= 1;                 /* a signature bit */
	mod[0].data = copy;
	mod[0].len = der[0].len;
	mod[1] = der[1];
	memset(&g_stats, 0, sizeof(g_stats));
	e_ab = chain_cache_get(c, ab, 2);
	e_ba = chain_cache_get(c, ba, 2);
	e_a = chain_cache_get(c, a, 1);
	e_mod = chain_cache_get(c, mod, 2);
	mod[0].len--;                              /* same prefix, shorter */
	e_short = chain_cache_get(c, mod, 2);
	assert_non_null(e_ab);
	assert_true(e_ab != e_ba && e_ab != e_a && e_ab != e_mod && e_mod != e_short);
	assert_int_equal(g_stats.chain_cache_misses, 5);
	assert_int_equal(g_stats.chain_cache_hits, 0);
	assert_false(e_short->certs[0].parsed);    /* kept, even unparsable */
	assert_ptr_equal(chain_cache_get(c, ab, 2), e_ab);
	chain_cache_free(c);
	free(copy);
}

static void test_lru_eviction(void **state)
{
	struct chain_cache *c = chain_cache_new(2, 1);
	struct tls_cert c1[1] = { der[0] }, c2[1] = { der[1] }, c3[1] = { der[2] };

	(void)state;
	assert_non_null(c);
	memset(&g_stats, 0, sizeof(g_stats));
	chain_cache_get(c, c1, 1);
	chain_cache_get(c, c2, 1);
	chain_cache_get(c, c1, 1);                 /* c1 now the most recent */
	chain_cache_get(c, c3, 1);                 /* evicts c2 */
	assert_int_equal(g_stats.chain_cache_evictions, 1);
	assert_int_equal(g_stats.chain_cache_hits, 1);
	chain_cache_get(c, c1, 1);
	chain_cache_get(c, c3, 1);
	assert_int_equal(g_stats.chain_cache_hits, 3);
	chain_cache_get(c, c2, 1);                 /* gone: parsed again */
	assert_int_equal(g_stats.chain_cache_misses, 4);
	assert_int_equal(g_stats.chain_cache_evictions, 2);
	chain_cache_free(c);
}

/* A new policy empties the cache: memos were results under the old one. */
static void test_reset(void **state)
{
	struct chain_cache *c = chain_cache_new(4, 1);
	struct tls_cert c1[2] = { der[2], der[3] };
	struct chain_entry *e;

	(void)state;
	assert_non_null(c);
	memset(&g_stats, 0, sizeof(g_stats));
	e = chain_cache_get(c, c1, 2);
	assert_non_null(e);
	e->memo[0].done = 1;
	chain_cache_reset(c, 3);
	e = chain_cache_get(c, c1, 2);
	assert_non_null(e);
	assert_int_equal(g_stats.chain_cache_misses, 2);
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(e->memo[i].done, 0);
	chain_cache_free(c);
}

static void test_disabled_and_empty(void **state)
{
	struct chain_cache *c = chain_cache_new(0, 1);
	struct tls_cert c1[1] = { der[0] };

	(void)state;
	assert_non_null(c);
	assert_null(chain_cache_get(c, c1, 1));    /* --chain-cache 0 */
	chain_cache_free(c);
	c = chain_cache_new(4, 0);
	assert_non_null(c);
	assert_null(chain_cache_get(c, c1, 0));    /* no certificates */
	assert_non_null(chain_cache_get(c, c1, 1));/* no owners: no memo */
	chain_cache_free(c);
	chain_cache_free(NULL);
}

/* Longer than the key's stack buffer: hashed through the heap. */
static void test_long_chain(void **state)
{
	struct chain_cache *c = chain_cache_new(4, 1);
	struct tls_cert many[40];
	struct chain_entry *e;

	(void)state;
	assert_non_null(c);
	for (size_t i = 0; i < 40; i++)
		many[i] = der[i % N_PEM];
	e = chain_cache_get(c, many, 40);
	assert_non_null(e);
	assert_int_equal(e->n_certs, 40);
	assert_ptr_equal(chain_cache_get(c, many, 40), e);
	assert_true(chain_cache_get(c, many, 39) != e);
	chain_cache_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parsed_once_then_hit),
		cmocka_unit_test(test_key_is_the_bytes),
		cmocka_unit_test(test_lru_eviction),
		cmocka_unit_test(test_reset),
		cmocka_unit_test(test_disabled_and_empty),
		cmocka_unit_test(test_long_chain),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
