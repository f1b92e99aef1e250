/*
 * test_judge.c - the judge (judge.h): an approved chain, an unapproved
 * one, a chain for no owner, the stream-mismatch twins, the trust grade
 * asked once per distinct chain when the chain cache keeps it, and the
 * severity of each verdict.  The committed test PKI and rules
 * (pcaps/pki, pcaps/test.rules) are read from the top directory, where
 * tests/run_tests.sh runs.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "core/stats.h"
#include "transport/reasm.h"
#include "verdict/chaincache.h"
#include "verdict/judge.h"
#include "testpki.h"

enum { APPROVED_LEAF, APPROVED_ISSUING, ROGUE_LEAF, ROGUE_ROOT, EXAMPLE_LEAF, N_PEM };
static const char *const pem_files[N_PEM] = {
	"pcaps/pki/approved-leaf.pem", "pcaps/pki/approved-issuing.pem",
	"pcaps/pki/rogue-leaf.pem", "pcaps/pki/rogue-root.pem",
	"pcaps/pki/example-leaf.pem",
};
static struct tls_cert der[N_PEM];     /* OPENSSL_malloc'd; freed in teardown */
static struct policy *pol;             /* owned; freed in teardown */
static struct trust_stores *stores;    /* owned; "rogue" trusts the rogue root */
static const uint8_t cf_ip[16] = { 1, 1, 1, 1 };

static int setup(void **state)
{
	const char *spec = "rogue=pcaps/pki/rogue-root.pem";
	char err[512];

	(void)state;
	if (testpki_load(pem_files, N_PEM, der) < 0)
		return -1;
	pol = policy_load("pcaps/test.rules", err, sizeof(err));
	stores = trust_load(&spec, 1, err, sizeof(err));
	if (!pol || !stores) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_PEM; i++)
		OPENSSL_free(der[i].data);
	policy_free(pol);
	trust_free(stores);
	return 0;
}

/* A handshake to 1.1.1.1 (cloudflare-dns protects it) presenting chain. */
static void input_at_cf(struct judge_input *in, const struct tls_cert *chain, size_t n)
{
	memset(in, 0, sizeof(*in));
	in->family = AF_INET;
	in->server_ip = cf_ip;
	in->hs = POLICY_HS_CHAIN;
	in->der = chain;
	in->n = n;
}

static const struct policy_result *result_of(const struct judge_verdicts *v, const char *owner)
{
	for (size_t i = 0; i < v->n_res; i++)
		if (strcmp(v->res[i].owner, owner) == 0)
			return &v->res[i];
	return NULL;
}

static void test_approved(void **state)
{
	const struct judge j = { pol, stores, NULL };
	struct tls_cert chain[2] = { der[APPROVED_LEAF], der[APPROVED_ISSUING] };
	struct policy_result res[8];
	struct judge_verdicts v;
	struct judge_input in;

	(void)state;
	assert_int_equal(judge_max_results(pol), 4);   /* two owners, each with a twin */
	input_at_cf(&in, chain, 2);
	assert_int_equal(judge_run(&j, &in, res, judge_max_results(pol), &v), 0);
	assert_int_equal(v.n_res, 1);
	assert_string_equal(v.res[0].owner, "cloudflare-dns");
	assert_int_equal(v.res[0].verdict, VERDICT_APPROVED);
	assert_false(v.alert);
	assert_null(v.trust);                          /* nobody alerts: not graded */
	/* The chain view: the DER as given, parsed here, and its key. */
	assert_ptr_equal(v.chain.der, chain);
	assert_int_equal(v.chain.n, 2);
	assert_non_null(v.chain.certs);
	assert_true(v.chain.certs[0].parsed && v.chain.certs[1].parsed);
	assert_non_null(v.chain.sha256);
	assert_int_equal(strlen(v.chain.sha256), 64);
	judge_release(&v);
	assert_null(v.owned);

	/* An input that writes only alerts gets no key for an approved chain. */
	in.alerts_only = 1;
	assert_int_equal(judge_run(&j, &in, res, judge_max_results(pol), &v), 0);
	assert_int_equal(v.res[0].verdict, VERDICT_APPROVED);
	assert_null(v.chain.sha256);
	judge_release(&v);
}

static void test_unapproved(void **state)
{
	const struct judge j = { pol, stores, NULL };
	struct tls_cert chain[2] = { der[ROGUE_LEAF], der[ROGUE_ROOT] };
	const struct policy_result *r;
	struct policy_result res[8];
	struct judge_verdicts v;
	struct judge_input in;

	(void)state;
	input_at_cf(&in, chain, 2);
	assert_int_equal(judge_run(&j, &in, res, judge_max_results(pol), &v), 0);
	r = result_of(&v, "cloudflare-dns");
	assert_non_null(r);
	assert_int_equal(r->verdict, VERDICT_UNAPPROVED_ISSUER);
	assert_true(v.alert);
	/* Graded: the rogue root is in the loaded store "rogue". */
	assert_non_null(v.trust);
	assert_int_equal(v.trust->cls, TRUST_PUBLIC);
	assert_int_equal(v.trust->n_hits, 1);
	assert_string_equal(v.trust->hits[0].store, "rogue");
	assert_int_equal(verdict_severity(r->verdict, v.trust), VERDICT_SEV_CRITICAL);
	judge_release(&v);

	/* Without packets (a certificate file): no endpoint, only the leaf's
	 * names (SAN IP 1.1.1.1) make it cloudflare-dns's. */
	memset(&in, 0, sizeof(in));
	in.hs = POLICY_HS_CHAIN;
	in.der = chain;
	in.n = 2;
	assert_int_equal(judge_run(&j, &in, res, judge_max_results(pol), &v), 0);
	judge_release(&v);
	in.alerts_only = 1;
	assert_int_equal(judge_run(&j, &in, res, judge_max_results(pol), &v), 0);
	r = result_of(&v, "cloudflare-dns");
	assert_non_null(r);
	assert_int_equal(r->verdict, VERDICT_UNAPPROVED_ISSUER);
	assert_non_null(v.chain.sha256);               /* its alert names the chain */
	judge_release(&v);
}

/* The reason ends with what to do, by the grade the judge gave: a public
 * CA's chain (the store "rogue" trusts the rogue root) gets Certificate
 * Transparency and the CA's problem reporting address, the same chain
 * under a store that does not trust it gets the interception point, and
 * with no store loaded both are said.  No OpenSSL words in any. */
static void test_reason_by_trust(void **state)
{
	const char *spec = "other=pcaps/pki/approved-root.pem";
	struct tls_cert chain[2] = { der[ROGUE_LEAF], der[ROGUE_ROOT] };
	struct trust_stores *other;
	const struct policy_result *r;
	struct policy_result res[8];
	struct judge_verdicts v;
	struct judge_input in;
	char err[256];

	(void)state;
	other = trust_load(&spec, 1, err, sizeof(err));
	assert_non_null(other);
	input_at_cf(&in, chain, 2);
	{
		const struct judge j = { pol, stores, NULL };

		assert_int_equal(judge_run(&j, &in, res, judge_max_results(pol), &v), 0);
		r = result_of(&v, "cloudflare-dns");
		assert_non_null(strstr(r->reason, "A public root store (rogue) trusts its CA"));
		assert_non_null(strstr(r->reason, "Certificate Transparency"));
		/* The test PKI's certificates carry no CPS. */
		assert_non_null(strstr(r->reason, "problem reporting address (listed in CCADB)."));
		assert_null(strstr(r->reason, "interception"));
		judge_release(&v);
	}
	{
		const struct judge j = { pol, other, NULL };

		assert_int_equal(judge_run(&j, &in, res, judge_max_results(pol), &v), 0);
		r = result_of(&v, "cloudflare-dns");
		assert_int_equal(v.trust->cls, TRUST_PRIVATE);
		assert_non_null(strstr(r->reason, "No public root store trusts its CA: find the "
		                                  "interception point on the path"));
		assert_null(strstr(r->reason, "Transparency"));
		judge_release(&v);
	}
	{
		const struct judge j = { pol, NULL, NULL };

		assert_int_equal(judge_run(&j, &in, res, judge_max_results(pol), &v), 0);
		r = result_of(&v, "cloudflare-dns");
		assert_non_null(strstr(r->reason, "No root store was loaded"));
		assert_null(strstr(r->reason, "certificate chain"));
		judge_release(&v);
	}
	trust_free(other);
}

/* A chain nobody protects, at an endpoint nobody protects. */
static void test_no_owner(void **state)
{
	static const uint8_t other_ip[16] = { 203, 0, 113, 9 };
	const struct judge j = { pol, stores, NULL };
	struct tls_cert chain[1] = { der[EXAMPLE_LEAF] };
	struct policy_result res[8];
	struct judge_verdicts v;
	struct judge_input in;

	(void)state;
	input_at_cf(&in, chain, 1);
	in.server_ip = other_ip;
	in.sni = "www.example.org";
	assert_int_equal(judge_run(&j, &in, res, judge_max_results(pol), &v), 0);
	assert_int_equal(v.n_res, 0);
	assert_false(v.alert);
	assert_null(v.trust);
	assert_non_null(v.chain.sha256);               /* the tls event still names it */
	judge_release(&v);

	/* No policy at all: nothing protected, nothing evaluated. */
	{
		const struct judge none = { NULL, stores, NULL };

		assert_int_equal(judge_max_results(NULL), 0);
		assert_int_equal(judge_run(&none, &in, NULL, 0, &v), 0);
		assert_int_equal(v.n_res, 0);
		judge_release(&v);
	}
}

/* A handshake whose bytes differed between copies: each owner's result
 * gets a stream-mismatch twin, an alert even when the chain is approved,
 * and the chain is then graded. */
static void test_stream_mismatch(void **state)
{
	const struct judge j = { pol, stores, NULL };
	struct tls_cert chain[2] = { der[APPROVED_LEAF], der[APPROVED_ISSUING] };
	struct policy_result res[8];
	struct judge_verdicts v;
	struct judge_input in;

	(void)state;
	input_at_cf(&in, chain, 2);
	in.stream_mismatch = REASM_DIFF_RETRANS;
	assert_int_equal(judge_run(&j, &in, res, judge_max_results(pol), &v), 0);
	assert_int_equal(v.n_res, 2);
	assert_int_equal(v.res[0].verdict, VERDICT_APPROVED);
	assert_int_equal(v.res[1].verdict, VERDICT_STREAM_MISMATCH);
	assert_string_equal(v.res[1].owner, "cloudflare-dns");
	assert_non_null(strstr(v.res[1].reason, "retransmission"));
	assert_true(v.alert);
	assert_non_null(v.trust);
	assert_int_equal(verdict_severity(VERDICT_STREAM_MISMATCH, v.trust), VERDICT_SEV_MAJOR);
	judge_release(&v);
}

/* With a chain cache the chain is parsed once and graded once: a second
 * handshake with the same bytes reads the grade kept with the entry. */
static void test_trust_graded_once(void **state)
{
	struct chain_cache *cc = chain_cache_new(8, policy_owner_count(pol));
	const struct judge j = { pol, stores, cc };
	struct tls_cert chain[2] = { der[ROGUE_LEAF], der[ROGUE_ROOT] };
	struct policy_result res[8];
	struct judge_verdicts v;
	struct judge_input in;
	struct chain_entry *ce;

	(void)state;
	assert_non_null(cc);
	memset(&g_stats, 0, sizeof(g_stats));
	input_at_cf(&in, chain, 2);
	assert_int_equal(judge_run(&j, &in, res, judge_max_results(pol), &v), 0);
	ce = v.ce;
	assert_non_null(ce);
	assert_null(v.owned);                          /* the cache owns the parse */
	assert_ptr_equal(v.chain.certs, ce->certs);
	assert_ptr_equal(v.trust, &ce->trust);
	assert_int_equal(ce->trust.cls, TRUST_PUBLIC);
	assert_int_equal(g_stats.chain_cache_misses, 1);
	judge_release(&v);

	/* Mark the kept grade: were the chain graded again, the mark would be
	 * overwritten by TRUST_PUBLIC. */
	ce->trust.cls = TRUST_PRIVATE;
	assert_int_equal(judge_run(&j, &in, res, judge_max_results(pol), &v), 0);
	assert_ptr_equal(v.ce, ce);
	assert_int_equal(g_stats.chain_cache_hits, 1);
	assert_ptr_equal(v.trust, &ce->trust);
	assert_int_equal(v.trust->cls, TRUST_PRIVATE);
	/* The chain's key is the entry's. */
	assert_non_null(v.chain.sha256);
	assert_true(result_of(&v, "cloudflare-dns") != NULL);
	judge_release(&v);

	/* Without the cache each handshake is graded afresh. */
	{
		const struct judge nocache = { pol, stores, NULL };

		assert_int_equal(judge_run(&nocache, &in, res, judge_max_results(pol), &v), 0);
		assert_ptr_equal(v.trust, &v.trust_local);
		assert_int_equal(v.trust->cls, TRUST_PUBLIC);
		judge_release(&v);
	}
	chain_cache_free(cc);
}

static void test_severity(void **state)
{
	struct trust_memo pub, priv, none;

	(void)state;
	memset(&pub, 0, sizeof(pub));
	memset(&priv, 0, sizeof(priv));
	memset(&none, 0, sizeof(none));
	pub.done = priv.done = none.done = 1;
	pub.cls = TRUST_PUBLIC;
	priv.cls = TRUST_PRIVATE;
	none.cls = TRUST_NONE;
	/* A chain verdict is graded by who else trusts the chain. */
	assert_int_equal(verdict_severity(VERDICT_UNAPPROVED_ISSUER, &pub), VERDICT_SEV_CRITICAL);
	assert_int_equal(verdict_severity(VERDICT_UNAPPROVED_ISSUER, &priv), VERDICT_SEV_MAJOR);
	assert_int_equal(verdict_severity(VERDICT_UNAPPROVED_ISSUER, &none), VERDICT_SEV_MINOR);
	assert_int_equal(verdict_severity(VERDICT_SELF_SIGNED, NULL), VERDICT_SEV_MINOR);
	assert_int_equal(verdict_severity(VERDICT_UNVERIFIABLE_CHAIN, &pub), VERDICT_SEV_CRITICAL);
	/* A forged issuer is never below Major. */
	assert_int_equal(verdict_severity(VERDICT_FORGED_ISSUER, &none), VERDICT_SEV_MAJOR);
	assert_int_equal(verdict_severity(VERDICT_FORGED_ISSUER, NULL), VERDICT_SEV_MAJOR);
	assert_int_equal(verdict_severity(VERDICT_FORGED_ISSUER, &pub), VERDICT_SEV_CRITICAL);
	/* Evidence, not proof; and a stream mismatch is Major. */
	assert_int_equal(verdict_severity(VERDICT_UNVERIFIED_HANDSHAKE, &pub), VERDICT_SEV_MINOR);
	assert_int_equal(verdict_severity(VERDICT_FINGERPRINT_CHANGED, NULL), VERDICT_SEV_MINOR);
	assert_int_equal(verdict_severity(VERDICT_STREAM_MISMATCH, NULL), VERDICT_SEV_MAJOR);
	assert_true(verdict_is_chain(VERDICT_SELF_SIGNED));
	assert_false(verdict_is_chain(VERDICT_STREAM_MISMATCH));
	assert_false(verdict_is_chain(VERDICT_APPROVED));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_approved),
		cmocka_unit_test(test_unapproved),
		cmocka_unit_test(test_no_owner),
		cmocka_unit_test(test_stream_mismatch),
		cmocka_unit_test(test_trust_graded_once),
		cmocka_unit_test(test_reason_by_trust),
		cmocka_unit_test(test_severity),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
