/*
 * test_certnames.c - the DER name walker (sensor/x509/certnames.c): the names
 * OpenSSL puts in a certificate are the names it walks; what it cannot be
 * sure of (a BMPString commonName, a constructed SAN name, bytes cut or
 * added) is "not sure", never a guess.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "x509/certnames.h"

struct seen {
	char text[1024];
	int stop_at;   /* stop after this many names (0: never) */
	int n;
};

static int record(void *arg, enum certname_kind kind, const uint8_t *p, size_t len)
{
	struct seen *s = arg;
	size_t o = strlen(s->text);

	if (kind == CERTNAME_IP) {
		o += (size_t)snprintf(s->text + o, sizeof(s->text) - o, "ip:");
		for (size_t i = 0; i < len; i++)
			o += (size_t)snprintf(s->text + o, sizeof(s->text) - o, "%02x", p[i]);
		snprintf(s->text + o, sizeof(s->text) - o, ",");
	} else {
		snprintf(s->text + o, sizeof(s->text) - o, "%s:%.*s,", kind == CERTNAME_CN ? "cn" : "dns",
		         (int)len, (const char *)p);
	}
	return ++s->n == s->stop_at;
}

/* A self-signed EC certificate: subject CN cn (as type, V_ASN1_UTF8STRING
 * or V_ASN1_BMPSTRING), O=x, and a subjectAltName san (NULL: none). */
static unsigned char *make(const char *cn, int type, const char *san, int *len)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();
	unsigned char *der = NULL;

	assert_non_null(k);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
	X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC, (const unsigned char *)"x", -1, -1, 0);
	if (type == V_ASN1_BMPSTRING) {
		ASN1_STRING *s = ASN1_STRING_type_new(V_ASN1_BMPSTRING);
		unsigned char bmp[64];
		size_t l = strlen(cn);

		for (size_t i = 0; i < l; i++) {
			bmp[2 * i] = 0;
			bmp[2 * i + 1] = (unsigned char)cn[i];
		}
		ASN1_STRING_set(s, bmp, (int)(2 * l));
		X509_NAME_add_entry_by_NID(n, NID_commonName, V_ASN1_BMPSTRING, s->data, s->length, -1, 0);
		ASN1_STRING_free(s);
	} else {
		X509_NAME_add_entry_by_NID(n, NID_commonName, MBSTRING_ASC, (const unsigned char *)cn,
		                           -1, -1, 0);
	}
	X509_set_subject_name(x, n);
	X509_set_issuer_name(x, n);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, k);
	if (san) {
		X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, san);

		assert_non_null(e);
		X509_add_ext(x, e, -1);
		X509_EXTENSION_free(e);
	}
	assert_true(X509_sign(x, k, EVP_sha256()) > 0);
	*len = i2d_X509(x, &der);
	assert_true(*len > 0);
	X509_NAME_free(n);
	X509_free(x);
	EVP_PKEY_free(k);
	return der;
}

static void names_as_openssl_writes_them(void **state)
{
	int len;
	unsigned char *der = make("1.1.1.1", V_ASN1_UTF8STRING,
	                          "DNS:one.one.one.one,IP:1.1.1.1,email:a@b.example,DNS:*.x.example,"
	                          "IP:2606:4700:4700::1111", &len);
	struct seen s = { "", 0, 0 };

	(void)state;
	assert_int_equal(certnames_walk(der, (size_t)len, record, &s), 0);
	assert_string_equal(s.text, "cn:1.1.1.1,dns:one.one.one.one,ip:01010101,dns:*.x.example,"
	                            "ip:26064700470000000000000000001111,");
	/* stopped by the callback */
	memset(&s, 0, sizeof(s));
	s.stop_at = 2;
	assert_int_equal(certnames_walk(der, (size_t)len, record, &s), 1);
	assert_int_equal(s.n, 2);
	OPENSSL_free(der);
}

static void no_san(void **state)
{
	int len;
	unsigned char *der = make("www.example.org", V_ASN1_UTF8STRING, NULL, &len);
	struct seen s = { "", 0, 0 };

	(void)state;
	assert_int_equal(certnames_walk(der, (size_t)len, record, &s), 0);
	assert_string_equal(s.text, "cn:www.example.org,");
	OPENSSL_free(der);
}

static void not_sure(void **state)
{
	int blen, len;
	unsigned char *bmp = make("1.1.1.1", V_ASN1_BMPSTRING, NULL, &blen);
	unsigned char *der = make("a.example", V_ASN1_UTF8STRING, "DNS:a.example", &len);
	unsigned char *more = malloc((size_t)len + 1);
	struct seen s = { "", 0, 0 };

	(void)state;
	/* BMPString: OpenSSL converts it, so the walker does not guess */
	assert_int_equal(certnames_walk(bmp, (size_t)blen, record, &s), -1);
	/* every cut of a certificate, and one byte more */
	for (int cut = 0; cut < len; cut++)
		assert_int_equal(certnames_walk(der, (size_t)cut, record, &s), -1);
	assert_non_null(more);
	memcpy(more, der, (size_t)len);
	more[len] = 0;
	assert_int_equal(certnames_walk(more, (size_t)len + 1, record, &s), -1);
	free(more);
	OPENSSL_free(bmp);
	OPENSSL_free(der);
}

static void constructed_san_name(void **state)
{
	int len;
	unsigned char *der = make("a.example", V_ASN1_UTF8STRING, "DNS:a.example", &len);
	struct seen s = { "", 0, 0 };
	int found = 0;

	(void)state;
	/* [2] primitive 0x82 made constructed 0xA2: BER OpenSSL may read */
	for (int i = 0; i + 1 < len; i++)
		if (der[i] == 0x82 && der[i + 1] == 9 && memcmp(der + i + 2, "a.example", 9) == 0) {
			der[i] = 0xA2;
			found = 1;
		}
	assert_true(found);
	assert_int_equal(certnames_walk(der, (size_t)len, record, &s), -1);
	OPENSSL_free(der);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(names_as_openssl_writes_them),
		cmocka_unit_test(no_san),
		cmocka_unit_test(not_sure),
		cmocka_unit_test(constructed_san_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
