/*
 * test_policy.c - who is concerned by a handshake and whether its chain is
 * approved.  The PKI is made at run time with OpenSSL (EC P-256 keys, to be
 * fast) and written to a temporary directory with the rules files.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "core/digest.h"
#include "verdict/policy.h"
#include "verdict/reason.h"
#include "x509/x509.h"

/* ---- test PKI --------------------------------------------------------- */

struct ent {
	EVP_PKEY *key;
	X509 *cert;
};

struct spec {
	const char *subject;        /* "C=HR,O=Fina,CN=Fina RDC 2020" */
	const struct ent *issuer;   /* NULL: self-signed */
	const char *issuer_name;    /* forge the issuer DN; NULL: issuer's subject */
	EVP_PKEY *sign_key;         /* forge the signer; NULL: the issuer's key */
	int ca;
	const char *san;            /* "DNS:a,IP:1.1.1.1" */
	const char *not_before;     /* "YYYYMMDDHHMMSSZ"; NULL: 2024-01-01 */
	const char *not_after;      /* NULL: 2034-01-01 */
	const EVP_MD *md;           /* NULL: SHA-256 */
	const char *cps;            /* a certificatePolicies CPS URI; NULL: none */
};

static char g_dir[64];

static X509_NAME *name_from(const char *s)
{
	X509_NAME *n = X509_NAME_new();
	char buf[256], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", s);
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(t, '=');

		assert_non_null(eq);
		*eq = '\0';
		assert_int_equal(X509_NAME_add_entry_by_txt(n, t, MBSTRING_UTF8,
		                                            (unsigned char *)eq + 1, -1, -1, 0), 1);
	}
	return n;
}

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;

	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	assert_non_null(ext);
	assert_int_equal(X509_add_ext(x, ext, -1), 1);
	X509_EXTENSION_free(ext);
}

/* certificatePolicies with one policy (the CA/B Forum's DV) qualified by
 * a CPS URI (RFC 5280 §4.2.1.4), as public CAs write it. */
static void add_cps(X509 *x, const char *url)
{
	CERTIFICATEPOLICIES *pols = sk_POLICYINFO_new_null();
	POLICYINFO *pi = POLICYINFO_new();
	POLICYQUALINFO *q = POLICYQUALINFO_new();

	assert_non_null(pols);
	assert_non_null(pi);
	assert_non_null(q);
	pi->policyid = OBJ_txt2obj("2.23.140.1.2.1", 1);
	q->pqualid = OBJ_nid2obj(NID_id_qt_cps);
	q->d.cpsuri = ASN1_IA5STRING_new();
	assert_int_equal(ASN1_STRING_set(q->d.cpsuri, url, (int)strlen(url)), 1);
	pi->qualifiers = sk_POLICYQUALINFO_new_null();
	assert_true(sk_POLICYQUALINFO_push(pi->qualifiers, q) > 0);
	assert_true(sk_POLICYINFO_push(pols, pi) > 0);
	assert_int_equal(X509_add1_ext_i2d(x, NID_certificate_policies, pols, 0, 0), 1);
	CERTIFICATEPOLICIES_free(pols);
}

static void make(struct ent *e, const struct spec *s)
{
	static long serial = 1000;
	X509_NAME *subj = name_from(s->subject), *iss;
	X509 *x = X509_new();

	e->key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	assert_non_null(e->key);
	iss = s->issuer_name ? name_from(s->issuer_name) :
	      s->issuer ? X509_NAME_dup(X509_get_subject_name(s->issuer->cert)) :
	                  X509_NAME_dup(subj);
	X509_set_version(x, X509_VERSION_3);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
	X509_set_subject_name(x, subj);
	X509_set_issuer_name(x, iss);
	ASN1_TIME_set_string_X509(X509_getm_notBefore(x),
	                          s->not_before ? s->not_before : "20240101000000Z");
	ASN1_TIME_set_string_X509(X509_getm_notAfter(x),
	                          s->not_after ? s->not_after : "20340101000000Z");
	X509_set_pubkey(x, e->key);
	if (s->ca)
		add_ext(x, NULL, NID_basic_constraints, "critical,CA:TRUE");
	if (s->san)
		add_ext(x, NULL, NID_subject_alt_name, s->san);
	if (s->cps)
		add_cps(x, s->cps);
	assert_true(X509_sign(x, s->sign_key ? s->sign_key :
	                         s->issuer ? s->issuer->key : e->key,
	                      s->md ? s->md : EVP_sha256()) > 0);
	X509_NAME_free(subj);
	X509_NAME_free(iss);
	e->cert = x;
}

static void ent_free(struct ent *e)
{
	X509_free(e->cert);
	EVP_PKEY_free(e->key);
	memset(e, 0, sizeof(*e));
}

static void write_pem(const char *file, X509 *const *certs, size_t n)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", g_dir, file);
	f = fopen(path, "w");
	assert_non_null(f);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(PEM_write_X509(f, certs[i]), 1);
	fclose(f);
}

static void spki_hex(X509 *x, char out[65])
{
	unsigned char *der = NULL;
	uint8_t md[32];
	int n = i2d_PUBKEY(X509_get0_pubkey(x), &der);

	assert_true(n > 0);
	digest_sha256(der, (size_t)n, md);
	digest_hex(md, 32, out, 0, 0);
	OPENSSL_free(der);
}

static struct policy *load(const char *text)
{
	char path[256], err[512];
	struct policy *p;
	FILE *f;

	snprintf(path, sizeof(path), "%s/t.rules", g_dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	p = policy_load(path, err, sizeof(err));
	if (p == NULL)
		fail_msg("%s", err);
	return p;
}

/* ---- the fixtures: a genuine PKI and several attackers ------------------ */

static struct ent root, inter, leaf, fina_root, fina_leaf, selfsigned, forged_leaf,
	icpt_ca, icpt_leaf, fake_inter, fake_inter_leaf, old_inter, old_leaf, sha1_leaf,
	leaf_as_ca_victim, other_leaf;

#define LEAF_SAN "DNS:one.one.one.one,IP:1.1.1.1,IP:2606:4700:4700::1111"

static int setup(void **state)
{
	(void)state;
	snprintf(g_dir, sizeof(g_dir), "/tmp/cs-policy-XXXXXX");
	if (mkdtemp(g_dir) == NULL)
		return -1;
	make(&root, &(struct spec){ .subject = "C=US,O=Good Trust,CN=Good Root", .ca = 1 });
	make(&inter, &(struct spec){ .subject = "C=US,O=Good Trust,CN=Good Intermediate",
	                             .issuer = &root, .ca = 1 });
	make(&leaf, &(struct spec){ .subject = "CN=one.one.one.one", .issuer = &inter,
	                            .san = LEAF_SAN });
	/* The motivating case: a CA trusted by browsers, not by the owner. */
	make(&fina_root, &(struct spec){ .subject = "C=HR,O=Financijska agencija,CN=Fina RDC 2020",
	                                 .ca = 1 });
	make(&fina_leaf, &(struct spec){ .subject = "CN=1.1.1.1", .issuer = &fina_root,
	                                 .san = "IP:1.1.1.1" });
	make(&selfsigned, &(struct spec){ .subject = "CN=1.1.1.1" });
	/* Names the genuine intermediate as issuer, signed by another key. */
	make(&forged_leaf, &(struct spec){ .subject = "CN=one.one.one.one", .issuer = &inter,
	                                   .sign_key = fina_root.key, .san = LEAF_SAN });
	make(&icpt_ca, &(struct spec){ .subject = "CN=Interceptor CA", .ca = 1 });
	make(&icpt_leaf, &(struct spec){ .subject = "CN=one.one.one.one", .issuer = &icpt_ca,
	                                 .san = LEAF_SAN });
	/* A fake "Good Intermediate" claiming the genuine root. */
	make(&fake_inter, &(struct spec){ .subject = "C=US,O=Good Trust,CN=Good Intermediate",
	                                  .issuer = &root, .sign_key = icpt_ca.key, .ca = 1 });
	make(&fake_inter_leaf, &(struct spec){ .subject = "CN=one.one.one.one",
	                                       .issuer = &fake_inter, .san = LEAF_SAN });
	make(&old_inter, &(struct spec){ .subject = "CN=Good Old Intermediate", .issuer = &root,
	                                 .ca = 1, .not_before = "20000101000000Z",
	                                 .not_after = "20050101000000Z" });
	make(&old_leaf, &(struct spec){ .subject = "CN=one.one.one.one", .issuer = &old_inter,
	                                .san = LEAF_SAN, .not_before = "20010101000000Z",
	                                .not_after = "20020101000000Z" });
	make(&sha1_leaf, &(struct spec){ .subject = "CN=one.one.one.one", .issuer = &inter,
	                                 .san = LEAF_SAN, .md = EVP_sha1() });
	/* A genuine non-CA leaf used as a CA: basicConstraints must stop it. */
	make(&other_leaf, &(struct spec){ .subject = "CN=attacker.example", .issuer = &inter,
	                                  .san = "DNS:attacker.example" });
	make(&leaf_as_ca_victim, &(struct spec){ .subject = "CN=one.one.one.one",
	                                         .issuer = &other_leaf, .san = LEAF_SAN });
	write_pem("root.pem", &root.cert, 1);
	write_pem("inter.pem", &inter.cert, 1);
	write_pem("fina.pem", &fina_root.cert, 1);
	return 0;
}

static int teardown(void **state)
{
	struct ent *all[] = { &root, &inter, &leaf, &fina_root, &fina_leaf, &selfsigned,
	                      &forged_leaf, &icpt_ca, &icpt_leaf, &fake_inter, &fake_inter_leaf,
	                      &old_inter, &old_leaf, &sha1_leaf, &leaf_as_ca_victim,
	                      &other_leaf };
	char cmd[128];

	(void)state;
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		ent_free(all[i]);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g_dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* ---- evaluation helper -------------------------------------------------- */

#define MAXR 4

struct eval {
	struct policy_result r[MAXR];
	size_t n;
};

/* The chain cache's memo (struct policy_memo) must never change a result:
 * evaluate again with an empty memo (filling it), then with the filled
 * one (reading it), and compare both byte for byte with ev.  Every test
 * below goes through here, so each verdict path is checked this way. */
static void check_memo(const struct policy *p, struct policy_input *in,
                       const struct eval *ev)
{
	struct policy_memo memo[8];
	struct eval fill, reuse;

	assert_true(policy_owner_count(p) <= 8);
	memset(memo, 0, sizeof(memo));
	in->memo = memo;
	fill.n = policy_evaluate(p, in, fill.r, MAXR);
	reuse.n = policy_evaluate(p, in, reuse.r, MAXR);
	in->memo = NULL;
	assert_int_equal(fill.n, ev->n);
	assert_int_equal(reuse.n, ev->n);
	for (size_t i = 0; i < ev->n; i++) {
		assert_memory_equal(&fill.r[i], &ev->r[i], sizeof(ev->r[i]));
		assert_memory_equal(&reuse.r[i], &ev->r[i], sizeof(ev->r[i]));
	}
}

/* Evaluate a chain given as X509s (DER round trip through x509_parse, as
 * the engine does). */
static void eval_hs(struct eval *ev, const struct policy *p, const char *ip,
                    const char *sni, enum policy_hs hs, X509 *const *chain, size_t n)
{
	struct x509_info infos[8];
	struct policy_input in;

	assert_true(n <= 8);
	memset(&in, 0, sizeof(in));
	in.family = strchr(ip, ':') ? AF_INET6 : AF_INET;
	assert_int_equal(inet_pton(in.family, ip, in.server_ip), 1);
	in.sni = sni;
	in.hs = hs;
	for (size_t i = 0; i < n; i++) {
		unsigned char *der = NULL;
		int len = i2d_X509(chain[i], &der);

		assert_true(len > 0);
		assert_int_equal(x509_parse(der, (size_t)len, &infos[i]), 0);
		OPENSSL_free(der);
	}
	in.certs = n ? infos : NULL;
	in.n_certs = n;
	ev->n = policy_evaluate(p, &in, ev->r, MAXR);
	check_memo(p, &in, ev);
	for (size_t i = 0; i < n; i++)
		x509_info_free(&infos[i]);
}

static void eval_chain(struct eval *ev, const struct policy *p, const char *ip,
                       X509 *const *chain, size_t n)
{
	eval_hs(ev, p, ip, NULL, POLICY_HS_CHAIN, chain, n);
}

static int has_match(const struct policy_result *r, const char *m)
{
	for (size_t i = 0; i < r->n_matched; i++)
		if (strcmp(r->matched[i], m) == 0)
			return 1;
	return 0;
}

static void assert_one(const struct eval *ev, enum verdict v)
{
	assert_int_equal(ev->n, 1);
	if (ev->r[0].verdict != v)
		fail_msg("verdict %s, expected %s: %s", verdict_name(ev->r[0].verdict),
		         verdict_name(v), ev->r[0].reason);
}

#define CF_RULES(approve) \
	"owner cloudflare-dns   # the protected service\n" \
	"protect ip 1.1.1.1 1.0.0.0/24 2606:4700:4700::/48\n" \
	"protect name one.one.one.one *.cloudflare-dns.com\n" \
	approve "\n"

/* ---- approval ------------------------------------------------------------ */

static void test_approved_chain(void **state)
{
	struct policy *p = load(CF_RULES("approve ca root.pem"));
	X509 *chain[] = { leaf.cert, inter.cert };
	X509 *full[] = { leaf.cert, inter.cert, root.cert };
	X509 *shuffled[] = { leaf.cert, root.cert, inter.cert };
	struct eval ev;

	(void)state;
	eval_chain(&ev, p, "1.1.1.1", chain, 2);
	assert_one(&ev, VERDICT_APPROVED);
	assert_string_equal(ev.r[0].owner, "cloudflare-dns");
	assert_string_equal(ev.r[0].anchor, "C=US, O=Good Trust, CN=Good Root");
	assert_int_equal(ev.r[0].anchor_cert, -1);
	assert_string_equal(ev.r[0].matched[0], "ip:1.1.1.1");
	assert_true(has_match(&ev.r[0], "san-ip:1.1.1.1"));
	assert_true(has_match(&ev.r[0], "san-dns:one.one.one.one"));
	assert_true(has_match(&ev.r[0], "cn:one.one.one.one"));
	assert_false(verdict_is_alert(ev.r[0].verdict));
	assert_non_null(strstr(ev.r[0].reason, "approved"));

	/* The root sent too, and any order: the anchor is the sent root. */
	eval_chain(&ev, p, "1.1.1.1", full, 3);
	assert_one(&ev, VERDICT_APPROVED);
	assert_int_equal(ev.r[0].anchor_cert, 2);
	eval_chain(&ev, p, "1.1.1.1", shuffled, 3);
	assert_one(&ev, VERDICT_APPROVED);
	policy_free(p);
}

static void test_approved_via_intermediate(void **state)
{
	struct policy *p = load(CF_RULES("approve ca inter.pem"));
	X509 *chain[] = { leaf.cert, inter.cert };
	X509 *leaf_only[] = { leaf.cert };
	struct eval ev;

	(void)state;
	/* The approved intermediate is an anchor without its root. */
	eval_chain(&ev, p, "1.1.1.1", chain, 2);
	assert_one(&ev, VERDICT_APPROVED);
	assert_string_equal(ev.r[0].anchor, "C=US, O=Good Trust, CN=Good Intermediate");
	assert_int_equal(ev.r[0].anchor_cert, 1);
	/* Leaf alone, issued directly by the approved CA. */
	eval_chain(&ev, p, "1.1.1.1", leaf_only, 1);
	assert_one(&ev, VERDICT_APPROVED);
	assert_int_equal(ev.r[0].anchor_cert, -1);
	policy_free(p);
}

static void test_leaf_only_missing_intermediate(void **state)
{
	struct policy *p = load(CF_RULES("approve ca root.pem"));
	X509 *leaf_only[] = { leaf.cert };
	struct eval ev;

	(void)state;
	/* No path can be built from what was sent: not approved. */
	eval_chain(&ev, p, "1.1.1.1", leaf_only, 1);
	assert_one(&ev, VERDICT_UNAPPROVED_ISSUER);
	policy_free(p);
}

static void test_spki_pin_intermediate(void **state)
{
	char rules[512], hex[65];
	X509 *chain[] = { leaf.cert, inter.cert };
	X509 *leaf_only[] = { leaf.cert };
	struct policy *p;
	struct eval ev;

	(void)state;
	spki_hex(inter.cert, hex);
	snprintf(rules, sizeof(rules), CF_RULES("approve spki sha256:%s"), hex);
	p = load(rules);
	eval_chain(&ev, p, "1.1.1.1", chain, 2);
	assert_one(&ev, VERDICT_APPROVED);
	assert_int_equal(ev.r[0].anchor_cert, 1);
	assert_true(strncmp(ev.r[0].anchor, "spki:", 5) == 0);
	assert_string_equal(ev.r[0].anchor + 5, hex);
	/* A pin covers only certificates that are presented. */
	eval_chain(&ev, p, "1.1.1.1", leaf_only, 1);
	assert_one(&ev, VERDICT_UNAPPROVED_ISSUER);
	policy_free(p);
}

static void test_spki_pin_leaf(void **state)
{
	char rules[512], b64[64];
	unsigned char *der = NULL;
	uint8_t md[32];
	X509 *chain[] = { leaf.cert, inter.cert };
	X509 *other[] = { sha1_leaf.cert, inter.cert };
	struct policy *p;
	struct eval ev;
	int n = i2d_PUBKEY(X509_get0_pubkey(leaf.cert), &der);

	(void)state;
	digest_sha256(der, (size_t)n, md);
	OPENSSL_free(der);
	/* The HPKP form of the pin. */
	assert_int_equal(EVP_EncodeBlock((unsigned char *)b64, md, 32), 44);
	snprintf(rules, sizeof(rules), CF_RULES("approve spki sha256/%s"), b64);
	p = load(rules);
	eval_chain(&ev, p, "1.1.1.1", chain, 2);
	assert_one(&ev, VERDICT_APPROVED);
	assert_int_equal(ev.r[0].anchor_cert, 0);
	/* Another leaf from the same CA has another key: not pinned. */
	eval_chain(&ev, p, "1.1.1.1", other, 2);
	assert_one(&ev, VERDICT_UNAPPROVED_ISSUER);
	policy_free(p);
}

static void test_expired_genuine_approved(void **state)
{
	struct policy *p = load(CF_RULES("approve ca root.pem"));
	X509 *chain[] = { old_leaf.cert, old_inter.cert };
	struct eval ev;

	(void)state;
	eval_chain(&ev, p, "1.1.1.1", chain, 2);
	assert_one(&ev, VERDICT_APPROVED);
	policy_free(p);
}

static void test_sha1_genuine_approved(void **state)
{
	struct policy *p = load(CF_RULES("approve ca root.pem"));
	X509 *chain[] = { sha1_leaf.cert, inter.cert };
	struct eval ev;

	(void)state;
	eval_chain(&ev, p, "1.1.1.1", chain, 2);
	assert_one(&ev, VERDICT_APPROVED);
	policy_free(p);
}

static void test_leaf_that_is_approved_ca(void **state)
{
	struct policy *p = load(CF_RULES("approve ca inter.pem"));
	X509 *chain[] = { inter.cert };
	struct eval ev;

	(void)state;
	/* Odd but harmless: the approved certificate itself is presented. */
	eval_hs(&ev, p, "1.1.1.1", NULL, POLICY_HS_CHAIN, chain, 1);
	assert_one(&ev, VERDICT_APPROVED);
	assert_int_equal(ev.r[0].anchor_cert, 0);
	policy_free(p);
}

/* ---- attacks --------------------------------------------------------------- */

static void test_fina_unapproved_issuer(void **state)
{
	struct policy *p = load(CF_RULES("approve ca root.pem"));
	X509 *chain[] = { fina_leaf.cert, fina_root.cert };
	struct eval ev;

	(void)state;
	/* Seen anywhere, not only at 1.1.1.1: the certificate is for it. */
	eval_chain(&ev, p, "192.0.2.7", chain, 2);
	assert_one(&ev, VERDICT_UNAPPROVED_ISSUER);
	assert_int_equal(ev.r[0].n_matched, 2);
	assert_string_equal(ev.r[0].matched[0], "san-ip:1.1.1.1");
	assert_string_equal(ev.r[0].matched[1], "cn:1.1.1.1");
	assert_true(verdict_is_alert(ev.r[0].verdict));
	assert_string_equal(ev.r[0].anchor, "");
	assert_int_equal(ev.r[0].anchor_cert, -1);
	assert_non_null(strstr(ev.r[0].reason, "Fina RDC 2020"));
	assert_non_null(strstr(ev.r[0].reason, "owner cloudflare-dns"));
	/* The certificate names it; it was served elsewhere. */
	assert_non_null(strstr(ev.r[0].reason, "'CN=1.1.1.1' for protected 1.1.1.1 (owner "));
	/* certsentry's words for the failed path, not OpenSSL's; the advice
	 * needs the trust grade, which the judge adds (test_judge). */
	assert_non_null(strstr(ev.r[0].reason, "(the chain ends at a root this owner has not "
	                                       "approved)."));
	assert_null(strstr(ev.r[0].reason, "certificate chain"));
	assert_null(strstr(ev.r[0].reason, "Certificate Transparency"));
	policy_free(p);
}

/* The longest reason: every quoted name past its cut (subject, issuer,
 * the matches, a 64-byte owner), the longest verify words, and the
 * longest advice (a public CA with a CPS address at its limit) still fit
 * and end with what to do. */
static void test_reason_fits(void **state)
{
	char subj[256], rules[512], url[REASON_MAX_URL], sni[120], owner[65];
	struct policy *p;
	struct ent ca, e;
	struct eval ev;
	struct x509_info infos[2];
	struct trust_memo pub;
	X509 *chain[2];
	const char *tail = "report it to the CA's problem reporting address (given in its CPS, ";

	(void)state;
	memset(owner, 'o', 64);
	owner[64] = '\0';
	snprintf(rules, sizeof(rules), "owner %s\nprotect ip 1.1.1.1\nprotect zone example.com\n"
	         "approve ca root.pem\n", owner);
	p = load(rules);
	snprintf(subj, sizeof(subj), "OU=%060d,OU=%060d,OU=%060d,CN=Long CA", 4, 5, 6);
	make(&ca, &(struct spec){ .subject = subj, .ca = 1 });
	snprintf(subj, sizeof(subj), "OU=%060d,OU=%060d,OU=%060d,CN=1.1.1.1", 1, 2, 3);
	snprintf(url, sizeof(url), "https://%0118d", 7);          /* 126 bytes */
	make(&e, &(struct spec){ .subject = subj, .issuer = &ca, .cps = url,
	                         .san = "DNS:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."
	                                "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.example.com" });
	chain[0] = e.cert;
	chain[1] = ca.cert;
	snprintf(sni, sizeof(sni), "%0100d.example.com", 8);
	eval_hs(&ev, p, "1.1.1.1", sni, POLICY_HS_CHAIN, chain, 2);
	assert_one(&ev, VERDICT_UNAPPROVED_ISSUER);
	assert_non_null(strstr(ev.r[0].reason, ", presented at protected 1.1.1.1 (owner "));
	memset(&pub, 0, sizeof(pub));
	pub.done = 1;
	pub.cls = TRUST_PUBLIC;
	pub.n_hits = 1;
	memset(pub.hits[0].store, 's', TRUST_NAME_MAX - 1);
	for (size_t i = 0; i < 2; i++) {
		unsigned char *der = NULL;
		int len = i2d_X509(chain[i], &der);

		assert_int_equal(x509_parse(der, (size_t)len, &infos[i]), 0);
		OPENSSL_free(der);
	}
	reason_advise(&ev.r[0], infos, 2, &pub, 1);
	assert_true(strlen(ev.r[0].reason) < sizeof(ev.r[0].reason) - 1);
	assert_non_null(strstr(ev.r[0].reason, tail));
	assert_memory_equal(ev.r[0].reason + strlen(ev.r[0].reason) - strlen(url) - 2, url,
	                    strlen(url));
	assert_string_equal(ev.r[0].reason + strlen(ev.r[0].reason) - 2, ").");
	for (size_t i = 0; i < 2; i++)
		x509_info_free(&infos[i]);
	ent_free(&e);
	ent_free(&ca);
	policy_free(p);
}

static void test_self_signed_interceptor(void **state)
{
	struct policy *p = load(CF_RULES("approve ca root.pem"));
	X509 *chain[] = { selfsigned.cert };
	struct eval ev;

	(void)state;
	eval_chain(&ev, p, "1.0.0.1", chain, 1);
	assert_one(&ev, VERDICT_SELF_SIGNED);
	assert_string_equal(ev.r[0].matched[0], "ip:1.0.0.1");
	assert_true(has_match(&ev.r[0], "cn:1.1.1.1"));
	/* Named for one protected address, served at another: both said, each
	 * for what it is. */
	assert_string_equal(ev.r[0].reason, "Self-signed certificate 'CN=1.1.1.1' for protected "
	                    "1.1.1.1, presented at protected 1.0.0.1 (owner cloudflare-dns).");
	/* Each match names the protected entry it hit, as the rules wrote
	 * it: the asset coverage counts under. */
	assert_string_equal(ev.r[0].asset[0].type, "ip");
	assert_string_equal(ev.r[0].asset[0].entry, "1.0.0.0/24");
	for (size_t i = 0; i < ev.r[0].n_matched; i++)
		if (strcmp(ev.r[0].matched[i], "cn:1.1.1.1") == 0) {
			assert_string_equal(ev.r[0].asset[i].type, "ip");
			assert_string_equal(ev.r[0].asset[i].entry, "1.1.1.1");
		}
	/* Served where it is for. */
	eval_chain(&ev, p, "1.1.1.1", chain, 1);
	assert_string_equal(ev.r[0].reason, "Self-signed certificate 'CN=1.1.1.1' for protected "
	                    "1.1.1.1, presented there (owner cloudflare-dns).");
	policy_free(p);
}

static void test_forged_issuer(void **state)
{
	struct policy *p = load(CF_RULES("approve ca inter.pem"));
	X509 *chain[] = { forged_leaf.cert, inter.cert };
	struct eval ev;

	(void)state;
	eval_chain(&ev, p, "1.1.1.1", chain, 2);
	assert_one(&ev, VERDICT_FORGED_ISSUER);
	assert_non_null(strstr(ev.r[0].reason, "CN=Good Intermediate"));
	policy_free(p);
}

static void test_forged_intermediate(void **state)
{
	struct policy *p = load(CF_RULES("approve ca root.pem"));
	X509 *chain[] = { fake_inter_leaf.cert, fake_inter.cert };
	struct eval ev;

	(void)state;
	/* The leaf is signed by the fake intermediate, whose claim to the
	 * approved root is false. */
	eval_chain(&ev, p, "1.1.1.1", chain, 2);
	assert_one(&ev, VERDICT_FORGED_ISSUER);
	assert_non_null(strstr(ev.r[0].reason, "CN=Good Root"));
	policy_free(p);
}

static void test_interceptor_appends_real_intermediate(void **state)
{
	char rules[512], hex[65];
	struct policy *p = load(CF_RULES("approve ca inter.pem"));
	X509 *chain[] = { icpt_leaf.cert, icpt_ca.cert, inter.cert };
	X509 *chain2[] = { icpt_leaf.cert, inter.cert };
	struct eval ev;

	(void)state;
	eval_chain(&ev, p, "1.1.1.1", chain, 3);
	assert_one(&ev, VERDICT_UNAPPROVED_ISSUER);
	assert_non_null(strstr(ev.r[0].reason, "Interceptor CA"));
	eval_chain(&ev, p, "1.1.1.1", chain2, 2);
	assert_one(&ev, VERDICT_UNAPPROVED_ISSUER);
	policy_free(p);

	/* Same with the intermediate pinned instead of approved. */
	spki_hex(inter.cert, hex);
	snprintf(rules, sizeof(rules), CF_RULES("approve spki sha256:%s"), hex);
	p = load(rules);
	eval_chain(&ev, p, "1.1.1.1", chain, 3);
	assert_one(&ev, VERDICT_UNAPPROVED_ISSUER);
	policy_free(p);
}

static void test_leaf_key_used_as_ca(void **state)
{
	struct policy *p = load(CF_RULES("approve ca root.pem"));
	X509 *chain[] = { leaf_as_ca_victim.cert, other_leaf.cert, inter.cert };
	struct eval ev;

	(void)state;
	/* Every signature verifies, but other_leaf is not a CA. */
	eval_chain(&ev, p, "1.1.1.1", chain, 3);
	assert_one(&ev, VERDICT_UNAPPROVED_ISSUER);
	policy_free(p);
}

static void test_unverifiable(void **state)
{
	struct policy *p = load(CF_RULES("approve ca root.pem"));
	struct x509_info bad;
	struct policy_input in;
	struct policy_result r[MAXR];
	static const uint8_t garbage[] = { 0x30, 0x03, 0x02, 0x01, 0x00 };

	(void)state;
	x509_parse(garbage, sizeof(garbage), &bad);
	memset(&in, 0, sizeof(in));
	in.family = AF_INET;
	inet_pton(AF_INET, "1.1.1.1", in.server_ip);
	in.hs = POLICY_HS_CHAIN;
	in.certs = &bad;
	in.n_certs = 1;
	assert_int_equal(policy_evaluate(p, &in, r, MAXR), 1);
	assert_int_equal(r[0].verdict, VERDICT_UNVERIFIABLE_CHAIN);
	assert_non_null(strstr(r[0].reason, bad.sha256));
	/* An empty Certificate message. */
	in.certs = NULL;
	in.n_certs = 0;
	assert_int_equal(policy_evaluate(p, &in, r, MAXR), 1);
	assert_int_equal(r[0].verdict, VERDICT_UNVERIFIABLE_CHAIN);
	assert_true(verdict_is_alert(r[0].verdict));
	/* Unparsable leaf at an unprotected endpoint: nothing to say. */
	inet_pton(AF_INET, "192.0.2.1", in.server_ip);
	in.certs = &bad;
	in.n_certs = 1;
	assert_int_equal(policy_evaluate(p, &in, r, MAXR), 0);
	x509_info_free(&bad);
	policy_free(p);
}

/* ---- what is protected ----------------------------------------------------- */

/* One leaf with the given SAN from the approved intermediate; returns
 * the verdict count at an unprotected address with no SNI. */
static size_t eval_san(const struct policy *p, const char *san, const char *cn,
                       struct eval *ev)
{
	struct ent e;
	char subj[128];
	X509 *chain[2];

	snprintf(subj, sizeof(subj), "CN=%s", cn);
	make(&e, &(struct spec){ .subject = subj, .issuer = &inter, .san = san });
	chain[0] = e.cert;
	chain[1] = inter.cert;
	eval_chain(ev, p, "192.0.2.1", chain, 2);
	ent_free(&e);
	return ev->n;
}

static void test_wildcards(void **state)
{
	struct policy *p = load("owner w\n"
	                        "protect name *.cloudflare-dns.com www.example.com "
	                        "*.wild.example Exact.Example.ORG.\n"
	                        "approve ca root.pem\n");
	struct eval ev;

	(void)state;
	/* Protected wildcard, certificate name inside it. */
	assert_int_equal(eval_san(p, "DNS:a.cloudflare-dns.com", "x", &ev), 1);
	assert_string_equal(ev.r[0].matched[0], "san-dns:a.cloudflare-dns.com");
	assert_string_equal(ev.r[0].asset[0].type, "name");
	assert_string_equal(ev.r[0].asset[0].entry, "*.cloudflare-dns.com");
	assert_int_equal(ev.r[0].verdict, VERDICT_APPROVED);
	/* Exactly one label. */
	assert_int_equal(eval_san(p, "DNS:a.b.cloudflare-dns.com", "x", &ev), 0);
	assert_int_equal(eval_san(p, "DNS:cloudflare-dns.com", "x", &ev), 0);
	/* Certificate wildcard covering a protected name. */
	assert_int_equal(eval_san(p, "DNS:*.example.com", "x", &ev), 1);
	assert_string_equal(ev.r[0].matched[0], "san-dns:*.example.com");
	assert_string_equal(ev.r[0].asset[0].entry, "www.example.com");
	assert_int_equal(eval_san(p, "DNS:*.com", "x", &ev), 0);
	/* Wildcard against the same wildcard. */
	assert_int_equal(eval_san(p, "DNS:*.wild.example", "x", &ev), 1);
	/* A wildcard that is not a whole label never matches. */
	assert_int_equal(eval_san(p, "DNS:w*.example.com", "x", &ev), 0);
	/* Case and trailing dot, in the rules and in the certificate. */
	assert_int_equal(eval_san(p, "DNS:EXACT.example.org.", "x", &ev), 1);
	/* Any byte may sit in the wildcard's label: it is escaped. */
	assert_int_equal(eval_san(p, "DNS:unrelated.example", "caf\xc3\xa9.cloudflare-dns.com", &ev), 1);
	assert_string_equal(ev.r[0].matched[0], "cn:caf\\xc3\\xa9.cloudflare-dns.com");
	/* CN only. */
	assert_int_equal(eval_san(p, "DNS:unrelated.example", "WWW.EXAMPLE.COM", &ev), 1);
	assert_string_equal(ev.r[0].matched[0], "cn:WWW.EXAMPLE.COM");
	assert_string_equal(ev.r[0].asset[0].type, "name");
	assert_string_equal(ev.r[0].asset[0].entry, "www.example.com");
	policy_free(p);
}

/* "protect zone": the apex and every name below it, at any depth, for
 * SAN dNSNames (wildcards inside the zone too), the CN and the SNI; a
 * name that merely ends with the zone's letters is outside it. */
static void test_zone(void **state)
{
	struct policy *p = load("owner z\n"
	                        "protect zone Example.COM.\n"
	                        "approve ca root.pem\n");
	X509 *chain[] = { icpt_leaf.cert, icpt_ca.cert };
	struct eval ev;

	(void)state;
	assert_int_equal(eval_san(p, "DNS:example.com", "x", &ev), 1);
	assert_string_equal(ev.r[0].matched[0], "san-dns:example.com");
	assert_int_equal(eval_san(p, "DNS:a.example.com", "x", &ev), 1);
	assert_int_equal(eval_san(p, "DNS:a.b.c.EXAMPLE.com.", "x", &ev), 1);
	/* Wildcards whose names lie in the zone, at any depth. */
	assert_int_equal(eval_san(p, "DNS:*.example.com", "x", &ev), 1);
	assert_int_equal(eval_san(p, "DNS:*.b.example.com", "x", &ev), 1);
	/* A certificate wildcard one label above covers the apex itself. */
	assert_int_equal(eval_san(p, "DNS:*.com", "x", &ev), 1);
	assert_string_equal(ev.r[0].matched[0], "san-dns:*.com");
	/* Outside: the letters without the dot, another parent, the parent. */
	assert_int_equal(eval_san(p, "DNS:notexample.com", "x", &ev), 0);
	assert_int_equal(eval_san(p, "DNS:a.notexample.com", "x", &ev), 0);
	assert_int_equal(eval_san(p, "DNS:example.com.evil", "x", &ev), 0);
	assert_int_equal(eval_san(p, "DNS:com", "x", &ev), 0);
	assert_int_equal(eval_san(p, "DNS:*.notexample.com", "x", &ev), 0);
	assert_int_equal(eval_san(p, "DNS:*.org", "x", &ev), 0);
	/* The CN as a name. */
	assert_int_equal(eval_san(p, "DNS:unrelated.example", "deep.a.example.com", &ev), 1);
	assert_string_equal(ev.r[0].matched[0], "cn:deep.a.example.com");
	/* The SNI: the endpoint is protected whatever the leaf names. */
	eval_hs(&ev, p, "192.0.2.1", "x.y.Example.com", POLICY_HS_CHAIN, chain, 2);
	assert_one(&ev, VERDICT_UNAPPROVED_ISSUER);
	assert_string_equal(ev.r[0].matched[0], "sni:x.y.Example.com");
	eval_hs(&ev, p, "192.0.2.1", "notexample.com", POLICY_HS_CHAIN, chain, 2);
	assert_int_equal(ev.n, 0);
	policy_free(p);
}

static void test_sni(void **state)
{
	struct policy *p = load(CF_RULES("approve ca root.pem"));
	X509 *chain[] = { icpt_leaf.cert, icpt_ca.cert };
	X509 *unrelated[] = { other_leaf.cert, inter.cert };
	struct eval ev;

	(void)state;
	eval_hs(&ev, p, "192.0.2.1", "Security.CloudFlare-DNS.com.", POLICY_HS_CHAIN, chain, 2);
	assert_one(&ev, VERDICT_UNAPPROVED_ISSUER);
	assert_string_equal(ev.r[0].matched[0], "sni:Security.CloudFlare-DNS.com.");
	assert_string_equal(ev.r[0].asset[0].type, "name");
	assert_string_equal(ev.r[0].asset[0].entry, "*.cloudflare-dns.com");
	eval_hs(&ev, p, "192.0.2.1", "a\x01\\.cloudflare-dns.com", POLICY_HS_CHAIN, chain, 2);
	assert_one(&ev, VERDICT_UNAPPROVED_ISSUER);
	assert_string_equal(ev.r[0].matched[0], "sni:a\\x01\\x5c.cloudflare-dns.com");
	/* The endpoint concerns the owner even when the leaf names
	 * something else; the genuine chain still approves. */
	eval_hs(&ev, p, "192.0.2.1", "one.one.one.one", POLICY_HS_CHAIN, unrelated, 2);
	assert_one(&ev, VERDICT_APPROVED);
	assert_int_equal(ev.r[0].n_matched, 1);
	policy_free(p);
}

static void test_ipv4_mapped_server(void **state)
{
	struct policy *p = load(CF_RULES("approve ca root.pem"));
	X509 *chain[] = { selfsigned.cert };
	struct eval ev;

	(void)state;
	eval_chain(&ev, p, "::ffff:1.0.0.9", chain, 1);
	assert_one(&ev, VERDICT_SELF_SIGNED);
	assert_string_equal(ev.r[0].matched[0], "ip:1.0.0.9");
	policy_free(p);
}

static void test_cidr_boundaries(void **state)
{
	struct policy *p = load("owner c\n"
	                        "protect ip 10.0.0.64/26 2001:db8::/126 192.0.2.0/24 0.0.0.0/32\n"
	                        "protect ip ::ffff:198.51.100.0/120\n"
	                        "approve ca root.pem\n");
	static const struct {
		const char *ip;
		int in;
	} cases[] = {
		{ "10.0.0.63", 0 }, { "10.0.0.64", 1 }, { "10.0.0.127", 1 }, { "10.0.0.128", 0 },
		{ "2001:db8::", 1 }, { "2001:db8::3", 1 }, { "2001:db8::4", 0 },
		{ "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", 0 },
		{ "192.0.1.255", 0 }, { "192.0.2.0", 1 }, { "192.0.2.255", 1 }, { "192.0.3.0", 0 },
		{ "0.0.0.0", 1 }, { "0.0.0.1", 0 },
		{ "198.51.100.200", 1 }, { "::ffff:198.51.100.1", 1 }, { "198.51.101.0", 0 },
		{ "::ffff:10.0.0.64", 1 }, { "::10.0.0.64", 0 },
	};
	X509 *chain[] = { selfsigned.cert };
	struct eval ev;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		eval_chain(&ev, p, cases[i].ip, chain, 1);
		if (ev.n != (size_t)cases[i].in)
			fail_msg("%s: %zu results, expected %d", cases[i].ip, ev.n, cases[i].in);
	}
	policy_free(p);
}

static void test_san_ipv6_and_match_cap(void **state)
{
	struct policy *p = load(CF_RULES("approve ca root.pem"));
	struct eval ev;
	char san[512] = "";

	(void)state;
	assert_int_equal(eval_san(p, "IP:2606:4700:4700:0:0:0:0:1001", "x", &ev), 1);
	assert_string_equal(ev.r[0].matched[0], "san-ip:2606:4700:4700::1001");
	/* Twelve protected addresses: the list stops at POLICY_MAX_MATCH. */
	for (int i = 0; i < 12; i++)
		snprintf(san + strlen(san), sizeof(san) - strlen(san), "%sIP:1.0.0.%d",
		         i ? "," : "", i);
	assert_int_equal(eval_san(p, san, "x", &ev), 1);
	assert_int_equal(ev.r[0].n_matched, POLICY_MAX_MATCH);
	assert_string_equal(ev.r[0].matched[POLICY_MAX_MATCH - 1], "san-ip:1.0.0.7");
	policy_free(p);
}

static void test_unprotected_nothing(void **state)
{
	struct policy *p = load(CF_RULES("approve ca root.pem"));
	X509 *chain[] = { other_leaf.cert, inter.cert };
	struct eval ev;

	(void)state;
	eval_hs(&ev, p, "192.0.2.1", "attacker.example", POLICY_HS_CHAIN, chain, 2);
	assert_int_equal(ev.n, 0);
	eval_hs(&ev, p, "192.0.2.1", "attacker.example", POLICY_HS_ENCRYPTED, NULL, 0);
	assert_int_equal(ev.n, 0);
	eval_hs(&ev, p, "192.0.2.1", NULL, POLICY_HS_INCOMPLETE, NULL, 0);
	assert_int_equal(ev.n, 0);
	policy_free(p);
}

static void test_no_chain_handshakes(void **state)
{
	struct policy *p = load(CF_RULES("approve ca root.pem"));
	X509 *chain[] = { fina_leaf.cert };
	struct eval ev;

	(void)state;
	eval_hs(&ev, p, "1.1.1.1", NULL, POLICY_HS_ENCRYPTED, NULL, 0);
	assert_one(&ev, VERDICT_NOT_VISIBLE);
	assert_false(verdict_is_alert(ev.r[0].verdict));
	assert_non_null(strstr(ev.r[0].reason, "TLS 1.3"));
	eval_hs(&ev, p, "192.0.2.1", "one.one.one.one", POLICY_HS_RESUMED, NULL, 0);
	assert_one(&ev, VERDICT_NOT_VISIBLE);
	assert_string_equal(ev.r[0].matched[0], "sni:one.one.one.one");
	eval_hs(&ev, p, "1.1.1.1", NULL, POLICY_HS_INCOMPLETE, NULL, 0);
	assert_one(&ev, VERDICT_UNVERIFIED_HANDSHAKE);
	assert_true(verdict_is_alert(ev.r[0].verdict));
	/* Certificates are not looked at when the handshake has no chain. */
	eval_hs(&ev, p, "192.0.2.1", NULL, POLICY_HS_INCOMPLETE, chain, 1);
	assert_int_equal(ev.n, 0);
	policy_free(p);
}

static void test_two_owners_independent(void **state)
{
	struct policy *p = load(CF_RULES("approve ca root.pem")
	                        "owner fina-customer\n"
	                        "protect ip 1.1.1.1\n"
	                        "approve ca fina.pem\n"
	                        "owner bystander\n"
	                        "protect name example.net\n"
	                        "approve ca fina.pem\n");
	X509 *fina[] = { fina_leaf.cert, fina_root.cert };
	X509 *good[] = { leaf.cert, inter.cert };
	struct eval ev;

	(void)state;
	assert_int_equal(policy_owner_count(p), 3);
	eval_chain(&ev, p, "1.1.1.1", fina, 2);
	assert_int_equal(ev.n, 2);
	assert_string_equal(ev.r[0].owner, "cloudflare-dns");
	assert_int_equal(ev.r[0].verdict, VERDICT_UNAPPROVED_ISSUER);
	assert_string_equal(ev.r[1].owner, "fina-customer");
	assert_int_equal(ev.r[1].verdict, VERDICT_APPROVED);
	assert_int_equal(ev.r[1].anchor_cert, 1);
	eval_chain(&ev, p, "1.1.1.1", good, 2);
	assert_int_equal(ev.n, 2);
	assert_int_equal(ev.r[0].verdict, VERDICT_APPROVED);
	assert_int_equal(ev.r[1].verdict, VERDICT_UNAPPROVED_ISSUER);
	policy_free(p);
}

static void test_max_results(void **state)
{
	struct policy *p = load(CF_RULES("approve ca root.pem")
	                        "owner second\nprotect ip 1.1.1.1\napprove ca root.pem\n");
	struct policy_input in;
	struct policy_result r[1];

	(void)state;
	memset(&in, 0, sizeof(in));
	in.family = AF_INET;
	inet_pton(AF_INET, "1.1.1.1", in.server_ip);
	in.hs = POLICY_HS_ENCRYPTED;
	assert_int_equal(policy_evaluate(p, &in, r, 1), 1);
	assert_int_equal(policy_evaluate(p, &in, r, 0), 0);
	policy_free(p);
}

static void test_verdict_names(void **state)
{
	static const char *const names[VERDICT_COUNT] = {
		"approved", "self-signed", "forged-issuer", "unapproved-issuer",
		"unverifiable-chain", "unverified-handshake", "not-visible",
		"stream-mismatch", "fingerprint-changed",
	};
	static const int alert[VERDICT_COUNT] = { 0, 1, 1, 1, 1, 1, 0, 1, 1 };

	(void)state;
	for (int v = 0; v < VERDICT_COUNT; v++) {
		assert_string_equal(verdict_name((enum verdict)v), names[v]);
		assert_int_equal(verdict_is_alert((enum verdict)v), alert[v]);
	}
	assert_string_equal(verdict_name(VERDICT_COUNT), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_approved_chain),
		cmocka_unit_test(test_approved_via_intermediate),
		cmocka_unit_test(test_leaf_only_missing_intermediate),
		cmocka_unit_test(test_spki_pin_intermediate),
		cmocka_unit_test(test_spki_pin_leaf),
		cmocka_unit_test(test_expired_genuine_approved),
		cmocka_unit_test(test_sha1_genuine_approved),
		cmocka_unit_test(test_leaf_that_is_approved_ca),
		cmocka_unit_test(test_fina_unapproved_issuer),
		cmocka_unit_test(test_reason_fits),
		cmocka_unit_test(test_self_signed_interceptor),
		cmocka_unit_test(test_forged_issuer),
		cmocka_unit_test(test_forged_intermediate),
		cmocka_unit_test(test_interceptor_appends_real_intermediate),
		cmocka_unit_test(test_leaf_key_used_as_ca),
		cmocka_unit_test(test_unverifiable),
		cmocka_unit_test(test_wildcards),
		cmocka_unit_test(test_zone),
		cmocka_unit_test(test_sni),
		cmocka_unit_test(test_ipv4_mapped_server),
		cmocka_unit_test(test_cidr_boundaries),
		cmocka_unit_test(test_san_ipv6_and_match_cap),
		cmocka_unit_test(test_unprotected_nothing),
		cmocka_unit_test(test_no_chain_handshakes),
		cmocka_unit_test(test_two_owners_independent),
		cmocka_unit_test(test_max_results),
		cmocka_unit_test(test_verdict_names),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
