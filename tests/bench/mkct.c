/*
 * mkct.c - a big CT log for make bench (issue 16): get-entries answers of
 * real, signed certificates, never committed.
 *
 *   mkct DIR [--entries N] [--issuers N] [--protected PERMILLE] [--page N]
 *
 * Writes into DIR:
 *   ct.json           N (100,000) entries as get-entries answers of --page
 *                     (1,000) entries each, written one after another with
 *                     no newline between them, as a loop of curl calls
 *                     leaves them;
 *   ct.rules          an owner protecting 192.0.2.53 and dns.bench.test,
 *                     approving approved-root.pem;
 *   approved-root.pem the approved root.
 * PKI: two roots (approved, and another "public" one), --issuers (1,000)
 * issuing CAs, one in ten under the approved root; every key EC P-256.
 * Entry k: x509_entry when k is even, precert_entry (RFC 6962 section 3.1:
 * the pre-certificate with the poison extension in extra_data, its
 * TBSCertificate without it in leaf_input) when odd; issued by issuing CA
 * k * 7919 mod issuers.  --protected (10 a thousand) name the protected IP
 * or name: issued by the CA the entry falls on, so about nine in ten of
 * them are rogue.  The rest name h<k>.site<k % 5000>.example.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/pem.h>

#define LEAF_KEYS 16

struct ca {
	X509 *cert;
	EVP_PKEY *key;
	unsigned char *der;
	int der_len;
	unsigned char spki_hash[32];
};

static void die(const char *what)
{
	fprintf(stderr, "mkct: %s failed\n", what);
	exit(2);
}

static EVP_PKEY *ec_key(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");

	if (!k)
		die("EVP_EC_gen");
	return k;
}

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *e;

	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (!e || !X509_add_ext(x, e, -1))
		die(value);
	X509_EXTENSION_free(e);
}

/* A certificate for subject CN=cn with key, signed by issuer (NULL: self). */
static X509 *make_cert(const char *o, const char *cn, EVP_PKEY *key, const struct ca *issuer,
                       long serial)
{
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();

	if (!x || !name)
		die("X509_new");
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
	X509_gmtime_adj(X509_getm_notBefore(x), -86400);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 90);
	if (o)
		X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)o, -1, -1, 0);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_subject_name(x, name);
	X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer->cert) : name);
	X509_set_pubkey(x, key);
	X509_NAME_free(name);
	return x;
}

static void sign(X509 *x, EVP_PKEY *key)
{
	if (X509_sign(x, key, EVP_sha256()) <= 0)
		die("X509_sign");
}

static void finish_ca(struct ca *c)
{
	unsigned char *spki = NULL;
	int n;

	c->der = NULL;
	c->der_len = i2d_X509(c->cert, &c->der);
	n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(c->cert), &spki);
	if (c->der_len <= 0 || n <= 0)
		die("i2d");
	EVP_Digest(spki, (size_t)n, c->spki_hash, NULL, EVP_sha256(), NULL);
	OPENSSL_free(spki);
}

static void make_root(struct ca *c, const char *o, const char *cn)
{
	c->key = ec_key();
	c->cert = make_cert(o, cn, c->key, NULL, 1);
	add_ext(c->cert, c->cert, NID_basic_constraints, "critical,CA:TRUE");
	add_ext(c->cert, c->cert, NID_subject_key_identifier, "hash");
	sign(c->cert, c->key);
	finish_ca(c);
}

static void make_issuer(struct ca *c, const struct ca *root, int i)
{
	char cn[64];

	snprintf(cn, sizeof(cn), "Bench Issuing CA %d", i);
	c->key = ec_key();
	c->cert = make_cert("Bench CAs", cn, c->key, root, 1000 + i);
	add_ext(c->cert, root->cert, NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
	add_ext(c->cert, root->cert, NID_subject_key_identifier, "hash");
	add_ext(c->cert, root->cert, NID_authority_key_identifier, "keyid");
	sign(c->cert, root->key);
	finish_ca(c);
}

/* The CT poison extension (RFC 6962 section 3.1): critical, ASN.1 NULL. */
static void add_poison(X509 *x)
{
	static const unsigned char null_der[] = { 0x05, 0x00 };
	ASN1_OBJECT *oid = OBJ_txt2obj("1.3.6.1.4.1.11129.2.4.3", 1);
	ASN1_OCTET_STRING *v = ASN1_OCTET_STRING_new();
	X509_EXTENSION *e;

	if (!oid || !v || !ASN1_OCTET_STRING_set(v, null_der, sizeof(null_der)))
		die("poison");
	e = X509_EXTENSION_create_by_OBJ(NULL, oid, 1, v);
	if (!e || !X509_add_ext(x, e, -1))
		die("poison");
	X509_EXTENSION_free(e);
	ASN1_OCTET_STRING_free(v);
	ASN1_OBJECT_free(oid);
}

/* ---- the TLS encoding and base64 ---------------------------------------- */

struct out {
	unsigned char *p;
	size_t n, cap;
};

static void put(struct out *o, const void *p, size_t n)
{
	if (o->n + n > o->cap) {
		o->cap = (o->n + n) * 2;
		o->p = realloc(o->p, o->cap);
		if (!o->p)
			die("realloc");
	}
	memcpy(o->p + o->n, p, n);
	o->n += n;
}

static void put_n(struct out *o, unsigned long v, int bytes)
{
	unsigned char b[8];

	for (int i = 0; i < bytes; i++)
		b[i] = (unsigned char)(v >> (8 * (bytes - 1 - i)));
	put(o, b, (size_t)bytes);
}

static void put_b64(FILE *f, const struct out *o)
{
	unsigned char *t = malloc(o->n / 3 * 4 + 8);

	if (!t)
		die("malloc");
	EVP_EncodeBlock(t, o->p, (int)o->n);
	fputs((char *)t, f);
	free(t);
}

static unsigned char *der_of(X509 *x, int *len)
{
	unsigned char *d = NULL;

	*len = i2d_X509(x, &d);
	if (*len <= 0)
		die("i2d_X509");
	return d;
}

static void write_entry(FILE *f, long k, EVP_PKEY *leaf_key, const struct ca *iss,
                        const struct ca *root, int protect)
{
	struct out leaf = { 0 }, extra = { 0 }, chain = { 0 };
	char cn[96], san[128];
	int precert = k & 1, dlen, tlen;
	unsigned char *der, *tbs = NULL;
	X509 *x;

	if (protect)
		snprintf(san, sizeof(san), k % 4 < 2 ? "IP:192.0.2.53" : "DNS:dns.bench.test");
	else
		snprintf(san, sizeof(san), "DNS:h%ld.site%ld.example", k, k % 5000);
	snprintf(cn, sizeof(cn), "%s", san + (san[0] == 'I' ? 3 : 4));
	x = make_cert(NULL, cn, leaf_key, iss, 100000 + k);
	add_ext(x, iss->cert, NID_subject_alt_name, san);
	add_ext(x, iss->cert, NID_basic_constraints, "CA:FALSE");
	add_ext(x, iss->cert, NID_authority_key_identifier, "keyid");
	if (precert)
		add_poison(x);
	sign(x, iss->key);
	der = der_of(x, &dlen);
	put_n(&leaf, 0, 1);                       /* v1 */
	put_n(&leaf, 0, 1);                       /* timestamped_entry */
	put_n(&leaf, 1706781600000UL + (unsigned long)k, 8);
	put_n(&leaf, (unsigned long)precert, 2);
	put_n(&chain, (unsigned long)iss->der_len, 3);
	put(&chain, iss->der, (size_t)iss->der_len);
	put_n(&chain, (unsigned long)root->der_len, 3);
	put(&chain, root->der, (size_t)root->der_len);
	if (precert) {
		/* the TBSCertificate the log signs: the poison extension removed */
		X509_EXTENSION_free(X509_delete_ext(x, X509_get_ext_count(x) - 1));
		tlen = i2d_re_X509_tbs(x, &tbs);
		if (tlen <= 0)
			die("i2d_re_X509_tbs");
		put(&leaf, iss->spki_hash, 32);
		put_n(&leaf, (unsigned long)tlen, 3);
		put(&leaf, tbs, (size_t)tlen);
		put_n(&extra, (unsigned long)dlen, 3);
		put(&extra, der, (size_t)dlen);
		OPENSSL_free(tbs);
	} else {
		put_n(&leaf, (unsigned long)dlen, 3);
		put(&leaf, der, (size_t)dlen);
	}
	put_n(&leaf, 0, 2);                       /* no CT extensions */
	put_n(&extra, chain.n, 3);
	put(&extra, chain.p, chain.n);
	fputs("{\"leaf_input\":\"", f);
	put_b64(f, &leaf);
	fputs("\",\"extra_data\":\"", f);
	put_b64(f, &extra);
	fputs("\"}", f);
	OPENSSL_free(der);
	X509_free(x);
	free(leaf.p);
	free(extra.p);
	free(chain.p);
}

static FILE *open_in(const char *dir, const char *name)
{
	char p[4096];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "w");
	if (!f)
		die(p);
	return f;
}

int main(int argc, char **argv)
{
	long entries = 100000, issuers = 1000, permille = 10, page = 1000, protected = 0;
	struct ca approved, public_root, *iss;
	EVP_PKEY *leaf_keys[LEAF_KEYS];
	const char *dir;
	FILE *f;

	if (argc < 2) {
		fprintf(stderr, "usage: mkct DIR [--entries N] [--issuers N] [--protected PERMILLE] "
		        "[--page N]\n");
		return 2;
	}
	dir = argv[1];
	for (int i = 2; i + 1 < argc; i += 2) {
		long v = strtol(argv[i + 1], NULL, 10);

		if (strcmp(argv[i], "--entries") == 0) entries = v;
		else if (strcmp(argv[i], "--issuers") == 0) issuers = v;
		else if (strcmp(argv[i], "--protected") == 0) permille = v;
		else if (strcmp(argv[i], "--page") == 0) page = v;
		else { fprintf(stderr, "mkct: unknown %s\n", argv[i]); return 2; }
	}
	if (entries < 1 || issuers < 1 || page < 1 || permille < 0 || permille > 1000)
		die("arguments");
	make_root(&approved, "Bench Approved", "Bench Approved Root");
	make_root(&public_root, "Bench Public", "Bench Public Root");
	iss = calloc((size_t)issuers, sizeof(*iss));
	if (!iss)
		die("calloc");
	for (long i = 0; i < issuers; i++)
		make_issuer(&iss[i], i % 10 == 0 ? &approved : &public_root, (int)i);
	for (int i = 0; i < LEAF_KEYS; i++)
		leaf_keys[i] = ec_key();

	f = open_in(dir, "approved-root.pem");
	PEM_write_X509(f, approved.cert);
	fclose(f);
	f = open_in(dir, "ct.rules");
	fputs("# make bench: the owner of the generated CT log (tests/bench/mkct.c)\n"
	      "owner bench\nprotect ip 192.0.2.53\nprotect name dns.bench.test\n"
	      "approve ca approved-root.pem\n", f);
	fclose(f);
	f = open_in(dir, "ct.json");
	for (long k = 0; k < entries; k++) {
		long i = (long)((unsigned long)k * 7919u % (unsigned long)issuers);
		int protect = (k * 7 % 1000) < permille;

		if (k % page == 0)
			fputs("{\"entries\":[", f);
		else
			fputc(',', f);
		write_entry(f, k, leaf_keys[k % LEAF_KEYS], &iss[i],
		            i % 10 == 0 ? &approved : &public_root, protect);
		protected += protect;
		if (k % page == page - 1 || k == entries - 1)
			fputs("]}", f);
	}
	if (fclose(f) != 0)
		die("writing ct.json");
	printf("%ld entries (%ld naming the protected IP or name), %ld issuing CAs, "
	       "get-entries pages of %ld\n", entries, protected, issuers, page);
	return 0;
}
