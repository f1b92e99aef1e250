/*
 * test_reason.c - the shared words of a reason (reason.h): OpenSSL's
 * verify errors in certsentry's words (every code, none of OpenSSL's
 * strings), what was matched ("for" and "presented at"), the advice by
 * trust class, and the CPS address read from certificates that someone
 * else wrote (hostile URLs left out).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "verdict/reason.h"
#include "x509/x509.h"

/* ---- verify errors -------------------------------------------------------- */

/* No code, known or not, gives OpenSSL's string or any text of it. */
static void test_verify_words_never_openssl(void **state)
{
	(void)state;
	for (int code = 0; code < 256; code++) {
		const char *ours = reason_verify_words(code);
		const char *theirs = X509_verify_cert_error_string(code);

		assert_non_null(ours);
		assert_true(strlen(ours) > 10 && strlen(ours) < 80);
		if (strstr(ours, theirs) != NULL || strstr(theirs, ours) != NULL)
			fail_msg("code %d: '%s' is OpenSSL's '%s'", code, ours, theirs);
	}
}

static void test_verify_words_table(void **state)
{
	static const struct {
		int code;
		const char *words;
	} cases[] = {
		{ X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN,
		  "the chain ends at a root this owner has not approved" },
		{ X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY,
		  "the chain ends at a CA whose issuer was neither sent nor approved" },
		{ X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE,
		  "the leaf's issuer was neither sent nor approved" },
		{ X509_V_ERR_CERT_SIGNATURE_FAILURE, "a signature on the path does not verify" },
		{ X509_V_ERR_INVALID_CA, "a certificate that signs another on the path is not a CA" },
		{ X509_V_ERR_OUT_OF_MEM, "memory ran out while verifying" },
		/* Not in the table (time is never checked): the general words. */
		{ X509_V_ERR_CERT_HAS_EXPIRED, "no path to an approved CA or pin could be built" },
		{ -1, "no path to an approved CA or pin could be built" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_string_equal(reason_verify_words(cases[i].code), cases[i].words);
}

/* ---- what was matched -------------------------------------------------------- */

static void result(struct policy_result *r, enum verdict v, const char *const *m, size_t n)
{
	memset(r, 0, sizeof(*r));
	r->owner = "o";
	r->verdict = v;
	r->anchor_cert = -1;
	for (size_t i = 0; i < n; i++)
		snprintf(r->matched[r->n_matched++], sizeof(r->matched[0]), "%s", m[i]);
}

static void test_target(void **state)
{
	static const struct {
		const char *m[3];
		size_t n;
		const char *target, *endpoint;
	} cases[] = {
		/* The issue's case: a certificate for 1.1.1.1 served at 1.0.0.1. */
		{ { "ip:1.0.0.1", "san-ip:1.1.1.1", "cn:1.1.1.1" }, 3,
		  "for protected 1.1.1.1, presented at protected 1.0.0.1", "1.0.0.1" },
		{ { "ip:1.1.1.1", "san-ip:1.1.1.1" }, 2,
		  "for protected 1.1.1.1, presented there", "1.1.1.1" },
		{ { "san-dns:a.example.com" }, 1, "for protected a.example.com", "a.example.com" },
		{ { "sni:one.one.one.one" }, 1, "presented at protected one.one.one.one",
		  "one.one.one.one" },
		{ { "cn:x.example", "sni:y.example" }, 2,
		  "for protected x.example, presented at protected y.example", "y.example" },
		{ { NULL }, 0, "presented at protected endpoint", "endpoint" },
	};
	struct policy_result r;
	char out[192], tiny[8];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		result(&r, VERDICT_SELF_SIGNED, cases[i].m, cases[i].n);
		assert_int_equal(reason_target(&r, out, sizeof(out)), strlen(cases[i].target));
		assert_string_equal(out, cases[i].target);
		assert_string_equal(reason_endpoint(&r), cases[i].endpoint);
	}
	/* Cut to the room given, always terminated. */
	result(&r, VERDICT_SELF_SIGNED, cases[0].m, 3);
	assert_int_equal(reason_target(&r, tiny, sizeof(tiny)), 7);
	assert_string_equal(tiny, "for pro");
}

/* ---- certificates with a CPS --------------------------------------------- */

static EVP_PKEY *g_key;

/* url NULL: no certificatePolicies.  Signed by issuer (NULL: itself). */
static X509 *cert(const char *cn, X509 *issuer, const char *url, int len)
{
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();

	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0);
	X509_set_version(x, X509_VERSION_3);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_set_subject_name(x, n);
	X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : n);
	X509_NAME_free(n);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, g_key);
	if (url) {
		CERTIFICATEPOLICIES *pols = sk_POLICYINFO_new_null();
		POLICYINFO *pi = POLICYINFO_new();
		POLICYQUALINFO *q = POLICYQUALINFO_new();

		pi->policyid = OBJ_txt2obj("2.23.140.1.2.1", 1);
		q->pqualid = OBJ_nid2obj(NID_id_qt_cps);
		q->d.cpsuri = ASN1_IA5STRING_new();
		ASN1_STRING_set(q->d.cpsuri, url, len < 0 ? (int)strlen(url) : len);
		pi->qualifiers = sk_POLICYQUALINFO_new_null();
		sk_POLICYQUALINFO_push(pi->qualifiers, q);
		sk_POLICYINFO_push(pols, pi);
		assert_int_equal(X509_add1_ext_i2d(x, NID_certificate_policies, pols, 0, 0), 1);
		CERTIFICATEPOLICIES_free(pols);
	}
	X509_sign(x, g_key, EVP_sha256());
	return x;
}

static void info(X509 *x, struct x509_info *out)
{
	unsigned char *der = NULL;
	int len = i2d_X509(x, &der);

	assert_true(len > 0);
	assert_int_equal(x509_parse(der, (size_t)len, out), 0);
	OPENSSL_free(der);
	X509_free(x);
}

static int cps_of_leaf(const char *url, int len, char out[REASON_MAX_URL])
{
	struct x509_info xi;
	int found;

	info(cert("leaf", NULL, url, len), &xi);
	found = reason_cps_uri(&xi, 1, out);
	x509_info_free(&xi);
	return found;
}

static void test_cps(void **state)
{
	char out[REASON_MAX_URL], longest[REASON_MAX_URL + 1];
	struct x509_info chain[3];
	X509 *ca, *other;

	(void)state;
	assert_int_equal(cps_of_leaf("https://pki.example/cps", -1, out), 1);
	assert_string_equal(out, "https://pki.example/cps");
	assert_int_equal(cps_of_leaf("http://pki.example/cps", -1, out), 1);
	/* 127 bytes fit, 128 do not: a URL is left out, never cut. */
	snprintf(longest, sizeof(longest), "https://%0119d", 0);
	assert_int_equal(cps_of_leaf(longest, 127, out), 1);
	assert_int_equal(strlen(out), 127);
	assert_int_equal(cps_of_leaf(longest, 128, out), 0);
	/* What a person must not be sent to, or what would break a sentence. */
	assert_int_equal(cps_of_leaf("ftp://pki.example/cps", -1, out), 0);
	assert_int_equal(cps_of_leaf("javascript:alert(1)", -1, out), 0);
	assert_int_equal(cps_of_leaf("https://", -1, out), 0);
	assert_int_equal(cps_of_leaf("https://a b", -1, out), 0);
	assert_int_equal(cps_of_leaf("https://a\"b", -1, out), 0);
	assert_int_equal(cps_of_leaf("https://a\nb", -1, out), 0);
	assert_int_equal(cps_of_leaf("https://a\\b", -1, out), 0);
	assert_int_equal(cps_of_leaf("https://caf\xc3\xa9", -1, out), 0);
	assert_int_equal(cps_of_leaf("https://a\0evil", 12, out), 0);
	assert_int_equal(cps_of_leaf(NULL, 0, out), 0);
	/* Not in the leaf: the issuer's, when the server sent it, and only
	 * the issuer's (another certificate of the chain says nothing). */
	ca = cert("ca", NULL, "https://ca.example/cps", -1);
	other = cert("other", NULL, "https://other.example/cps", -1);
	info(cert("leaf", ca, NULL, 0), &chain[0]);
	info(other, &chain[1]);
	info(ca, &chain[2]);
	assert_int_equal(reason_cps_uri(chain, 3, out), 1);
	assert_string_equal(out, "https://ca.example/cps");
	assert_int_equal(reason_cps_uri(chain, 2, out), 0);
	for (size_t i = 0; i < 3; i++)
		x509_info_free(&chain[i]);
	assert_int_equal(reason_cps_uri(chain, 0, out), 0);
}

/* ---- the advice by trust class --------------------------------------------- */

static struct trust_memo memo(enum trust_class c)
{
	struct trust_memo t;

	memset(&t, 0, sizeof(t));
	t.done = 1;
	t.cls = (uint8_t)c;
	if (c == TRUST_PUBLIC) {
		t.n_hits = 1;
		snprintf(t.hits[0].store, sizeof(t.hits[0].store), "mozilla");
	}
	return t;
}

/* The advice given to verdict v under class c (stores loaded: nstores),
 * for a leaf with a CPS address or none. */
static void advise(enum verdict v, enum trust_class c, size_t nstores, const char *cps,
                   char *out, size_t n)
{
	static const char *const m[] = { "ip:1.1.1.1", "san-ip:1.1.1.1" };
	struct trust_memo t = memo(c);
	struct policy_result r;
	struct x509_info leaf;

	result(&r, v, m, 2);
	snprintf(r.reason, sizeof(r.reason), "Facts.");
	info(cert("leaf", NULL, cps, -1), &leaf);
	reason_advise(&r, &leaf, 1, c == TRUST_UNKNOWN ? NULL : &t, nstores);
	x509_info_free(&leaf);
	snprintf(out, n, "%s", r.reason);
}

static void test_advice(void **state)
{
	char s[1024];

	(void)state;
	/* Public: CT, revocation, the CA's problem reporting address. */
	advise(VERDICT_UNAPPROVED_ISSUER, TRUST_PUBLIC, 1, "https://ca.example/cps", s, sizeof(s));
	assert_string_equal(s, "Facts. A public root store (mozilla) trusts its CA, so clients "
	                       "accept it: check Certificate Transparency for it and other "
	                       "certificates for the asset, ask the CA to revoke it, and report "
	                       "it to the CA's problem reporting address (given in its CPS, "
	                       "https://ca.example/cps).");
	/* No address in the certificates: where every public CA's is listed. */
	advise(VERDICT_UNAPPROVED_ISSUER, TRUST_PUBLIC, 1, NULL, s, sizeof(s));
	assert_non_null(strstr(s, "problem reporting address (listed in CCADB)."));
	advise(VERDICT_FORGED_ISSUER, TRUST_PUBLIC, 1, NULL, s, sizeof(s));
	assert_non_null(strstr(s, "Certificate Transparency"));
	/* Private (an interception box): the path, and no CT. */
	advise(VERDICT_UNAPPROVED_ISSUER, TRUST_PRIVATE, 1, "https://ca.example/cps", s, sizeof(s));
	assert_string_equal(s, "Facts. No public root store trusts its CA: find the interception "
	                       "point on the path that presented it (a TLS proxy, a middlebox, or "
	                       "an endpoint agent whose CA the client installed).");
	advise(VERDICT_FORGED_ISSUER, TRUST_PRIVATE, 1, NULL, s, sizeof(s));
	assert_null(strstr(s, "Transparency"));
	assert_non_null(strstr(s, "interception point"));
	/* Self-signed: the same as private, whatever a store says. */
	for (enum trust_class c = TRUST_UNKNOWN; c <= TRUST_NONE; c++) {
		advise(VERDICT_SELF_SIGNED, c, 1, "https://ca.example/cps", s, sizeof(s));
		assert_string_equal(s, "Facts. No CA vouches for it: find the interception point on "
		                       "the path that presented it (a TLS proxy, a middlebox or an "
		                       "endpoint agent), or a misconfigured server.");
	}
	/* Who issued it cannot be told: both, and why. */
	advise(VERDICT_UNAPPROVED_ISSUER, TRUST_NONE, 1, NULL, s, sizeof(s));
	assert_non_null(strstr(s, "Facts. Its issuer was not sent, so a public CA cannot be told "
	                          "from a private one. If the CA is public, check Certificate "
	                          "Transparency"));
	advise(VERDICT_UNAPPROVED_ISSUER, TRUST_PRIVATE, 0, NULL, s, sizeof(s));
	assert_non_null(strstr(s, "Facts. No root store was loaded to tell a public CA from a "
	                          "private one. If the CA is public"));
	advise(VERDICT_UNAPPROVED_ISSUER, TRUST_UNKNOWN, 1, NULL, s, sizeof(s));
	assert_non_null(strstr(s, "No root store was loaded"));
	/* Other verdicts carry their own advice. */
	for (enum verdict v = VERDICT_APPROVED; v < VERDICT_COUNT; v++) {
		if (v == VERDICT_SELF_SIGNED || v == VERDICT_FORGED_ISSUER ||
		    v == VERDICT_UNAPPROVED_ISSUER)
			continue;
		advise(v, TRUST_PUBLIC, 1, NULL, s, sizeof(s));
		assert_string_equal(s, "Facts.");
	}
}

static int setup(void **state)
{
	(void)state;
	g_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	return g_key ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	EVP_PKEY_free(g_key);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verify_words_never_openssl),
		cmocka_unit_test(test_verify_words_table),
		cmocka_unit_test(test_target),
		cmocka_unit_test(test_cps),
		cmocka_unit_test(test_advice),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
