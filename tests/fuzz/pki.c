/*
 * pki.c - the harnesses' test PKI (see pki.h).
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "core/digest.h"
#include "pki.h"

EVP_PKEY *fz_key(uint8_t tag)
{
	uint8_t seed[32];
	EVP_PKEY *k;

	memset(seed, tag, sizeof seed);
	k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, sizeof seed);
	if (!k)
		abort();
	return k;
}

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	ext = X509V3_EXT_nconf_nid(NULL, &ctx, nid, value);
	if (!ext)
		abort();
	if (!X509_add_ext(x, ext, -1))
		abort();
	X509_EXTENSION_free(ext);
}

X509 *fz_cert(EVP_PKEY *key, EVP_PKEY *signer, X509 *issuer, const char *cn, int ca,
              long serial, int version)
{
	X509 *x = X509_new();   /* owned by the caller */
	X509 *by;
	X509_NAME *name;

	if (!x)
		abort();
	by = issuer ? issuer : x;
	X509_set_version(x, version);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
	ASN1_TIME_set_string(X509_getm_notBefore(x), "20240101000000Z");
	ASN1_TIME_set_string(X509_getm_notAfter(x), "20340101000000Z");
	X509_set_pubkey(x, key);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
	                           (const unsigned char *)"certsentry fuzz", -1, -1, 0);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(by));
	if (version > 0 && ca) {
		add_ext(x, by, NID_basic_constraints, "critical,CA:TRUE");
		add_ext(x, by, NID_subject_key_identifier, "hash");
	} else if (version > 0) {
		add_ext(x, by, NID_basic_constraints, "critical,CA:FALSE");
		add_ext(x, by, NID_subject_alt_name,
		        "DNS:fuzz.example,DNS:one.one.one.one,IP:192.0.2.1,IP:1.1.1.1");
	}
	if (!X509_sign(x, signer, NULL))
		abort();
	return x;
}

uint8_t *fz_der(X509 *x, size_t *len)
{
	unsigned char *der = NULL;   /* owned by the caller */
	int n = i2d_X509(x, &der);

	if (n <= 0)
		abort();
	*len = (size_t)n;
	return der;
}

void fz_write_pem(const char *dir, const char *name, X509 *a, X509 *b)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f || !PEM_write_X509(f, a) || (b && !PEM_write_X509(f, b)) || fclose(f) != 0)
		abort();
}

void fz_spki_hex(EVP_PKEY *k, char hex[65])
{
	unsigned char *der = NULL;
	uint8_t md[DIGEST_SHA256_LEN];
	int n = i2d_PUBKEY(k, &der);

	if (n <= 0)
		abort();
	digest_sha256(der, (size_t)n, md);
	digest_hex(md, sizeof md, hex, 0, 0);
	OPENSSL_free(der);
}

int fz_add_test_pki(FILE *f)
{
	char root_path[PATH_MAX], iss_path[PATH_MAX], pin_path[PATH_MAX], hex[65];
	FILE *pf;
	X509 *x;

	if (!realpath("pcaps/pki/approved-root.pem", root_path) ||
	    !realpath("pcaps/pki/approved-issuing.pem", iss_path) ||
	    !realpath("pcaps/pki/pinned-issuing.pem", pin_path))
		return 0;
	pf = fopen(pin_path, "r");
	if (!pf)
		return 0;
	x = PEM_read_X509(pf, NULL, NULL, NULL);
	fclose(pf);
	if (!x)
		return 0;
	fz_spki_hex(X509_get0_pubkey(x), hex);
	X509_free(x);
	fprintf(f, "owner test-pki\n"
	           "protect ip 192.0.2.1 1.1.1.1 1.0.0.0/24 2606:4700:4700::1111 192.0.2.80\n"
	           "protect name cloudflare-dns.com *.cloudflare-dns.com one.one.one.one\n"
	           "protect name api.example.net\n"
	           "approve ca %s\napprove ca %s\napprove spki sha256:%s\n",
	        root_path, iss_path, hex);
	return 1;
}
