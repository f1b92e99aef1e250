/*
 * test_x509.c - certificate fields, and hostile DER: trailing bytes,
 * garbage, every truncation, a giant length.  Certificates are made at run
 * time with OpenSSL.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "core/digest.h"
#include "x509/x509.h"

/* ---- certificate builder ------------------------------------------------ */

struct cert {
	EVP_PKEY *key;
	X509 *x;
	unsigned char *der;  /* OPENSSL_malloc'ed */
	int len;
};

static EVP_PKEY *g_ec; /* one key serves every EC certificate here */

static void add_entry(X509_NAME *n, const char *field, const char *value, int len)
{
	assert_int_equal(X509_NAME_add_entry_by_txt(n, field, MBSTRING_UTF8,
	                                            (const unsigned char *)value, len, -1, 0), 1);
}

static void add_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;

	X509V3_set_ctx(&ctx, NULL, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	assert_non_null(ext);
	assert_int_equal(X509_add_ext(x, ext, -1), 1);
	X509_EXTENSION_free(ext);
}

/* A self-signed certificate with the standard subject below; the caller
 * adjusts it and calls finish(). */
static void start(struct cert *c, EVP_PKEY *key)
{
	X509_NAME *n = X509_NAME_new();

	memset(c, 0, sizeof(*c));
	c->key = key;
	c->x = X509_new();
	X509_set_version(c->x, X509_VERSION_3);
	ASN1_INTEGER_set(X509_get_serialNumber(c->x), 0x0A1B2C);
	add_entry(n, "C", "US", -1);
	add_entry(n, "ST", "California", -1);
	add_entry(n, "O", "Example", -1);
	add_entry(n, "CN", "www.example.com", -1);
	X509_set_subject_name(c->x, n);
	X509_set_issuer_name(c->x, n);
	X509_NAME_free(n);
	ASN1_TIME_set_string_X509(X509_getm_notBefore(c->x), "20240201000000Z");
	ASN1_TIME_set_string_X509(X509_getm_notAfter(c->x), "20500101120000Z");
	X509_set_pubkey(c->x, key);
}

static void finish(struct cert *c, const EVP_MD *md)
{
	assert_true(X509_sign(c->x, c->key, md) > 0);
	c->len = i2d_X509(c->x, &c->der);
	assert_true(c->len > 0);
}

static void cert_free(struct cert *c)
{
	X509_free(c->x);
	OPENSSL_free(c->der);
	if (c->key != g_ec)
		EVP_PKEY_free(c->key);
	memset(c, 0, sizeof(*c));
}

static void parse_ok(const struct cert *c, struct x509_info *xi)
{
	if (x509_parse(c->der, (size_t)c->len, xi) != 0)
		fail_msg("parse failed: %s", xi->error);
	assert_int_equal(xi->parsed, 1);
}

static int setup(void **state)
{
	(void)state;
	g_ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	return g_ec ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	EVP_PKEY_free(g_ec);
	return 0;
}

/* ---- fields --------------------------------------------------------------- */

static void test_fields(void **state)
{
	struct cert c;
	struct x509_info xi;
	uint8_t md[32];
	char hex[65], sha1[60];
	unsigned char *spki = NULL;
	int n;

	(void)state;
	start(&c, g_ec);
	add_ext(c.x, NID_basic_constraints, "critical,CA:TRUE");
	add_ext(c.x, NID_subject_alt_name,
	        "DNS:www.example.com,DNS:*.Example.com,IP:192.0.2.1,IP:2001:db8::1,"
	        "email:x@example.com");
	finish(&c, EVP_sha256());
	parse_ok(&c, &xi);

	assert_string_equal(xi.subject, "C=US, ST=California, O=Example, CN=www.example.com");
	assert_string_equal(xi.issuer, xi.subject);
	assert_string_equal(xi.subject_rfc2253, "CN=www.example.com,O=Example,ST=California,C=US");
	assert_string_equal(xi.issuer_rfc2253, xi.subject_rfc2253);
	assert_string_equal(xi.cn, "www.example.com");
	assert_string_equal(xi.serial, "0A:1B:2C");
	assert_string_equal(xi.notbefore, "2024-02-01T00:00:00");
	/* 2050 and later are GeneralizedTime (RFC 5280 §4.1.2.5). */
	assert_string_equal(xi.notafter, "2050-01-01T12:00:00");
	assert_int_equal(xi.n_san_dns, 2);
	assert_string_equal(xi.san_dns[0], "www.example.com");
	assert_string_equal(xi.san_dns[1], "*.Example.com");
	assert_int_equal(xi.n_san_ip, 2);
	assert_int_equal(xi.san_ip[0].family, AF_INET);
	assert_memory_equal(xi.san_ip[0].addr, "\xc0\x00\x02\x01", 4);
	assert_string_equal(xi.san_ip_str[0], "192.0.2.1");
	assert_int_equal(xi.san_ip[1].family, AF_INET6);
	assert_string_equal(xi.san_ip_str[1], "2001:db8::1");
	assert_string_equal(xi.key_type, "EC");
	assert_int_equal(xi.key_bits, 256);
	assert_string_equal(xi.sig_alg, "ecdsa-with-SHA256");
	assert_int_equal(xi.is_ca, 1);
	assert_int_equal(xi.self_issued, 1);
	assert_int_equal(xi.weak, 0);
	assert_non_null(xi.x509);
	assert_int_equal(xi.der_len, (size_t)c.len);

	/* Hashes computed independently of x509.c. */
	digest_sha256(c.der, (size_t)c.len, md);
	digest_hex(md, 32, hex, 0, 0);
	assert_string_equal(xi.sha256, hex);
	digest_sha1(c.der, (size_t)c.len, md);
	digest_hex(md, 20, sha1, ':', 0);
	assert_string_equal(xi.sha1, sha1);
	assert_int_equal(strlen(xi.sha1), 59);
	n = i2d_PUBKEY(g_ec, &spki);
	assert_true(n > 0);
	digest_sha256(spki, (size_t)n, md);
	digest_hex(md, 32, hex, 0, 0);
	OPENSSL_free(spki);
	assert_string_equal(xi.spki_sha256, hex);

	x509_info_free(&xi);
	cert_free(&c);
}

static void serial_case(long v, const char *bn_hex, const char *want)
{
	struct cert c;
	struct x509_info xi;
	BIGNUM *bn = NULL;

	start(&c, g_ec);
	if (bn_hex != NULL) {
		assert_true(BN_hex2bn(&bn, bn_hex) > 0);
		assert_non_null(BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(c.x)));
		BN_free(bn);
	} else {
		ASN1_INTEGER_set(X509_get_serialNumber(c.x), v);
	}
	finish(&c, EVP_sha256());
	parse_ok(&c, &xi);
	assert_string_equal(xi.serial, want);
	x509_info_free(&xi);
	cert_free(&c);
}

static void test_serials(void **state)
{
	(void)state;
	/* The DER content octets, as Suricata prints them. */
	serial_case(0, NULL, "00");
	serial_case(1, NULL, "01");
	serial_case(0x80, NULL, "00:80");
	serial_case(-1, NULL, "FF");
	serial_case(-129, NULL, "FF:7F");
	serial_case(0, "0123456789ABCDEF0123456789ABCDEF01234567",
	            "01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67");
}

static void time_case(const char *set, const char *want)
{
	struct cert c;
	struct x509_info xi;

	start(&c, g_ec);
	assert_int_equal(ASN1_TIME_set_string(X509_getm_notBefore(c.x), set), 1);
	finish(&c, EVP_sha256());
	parse_ok(&c, &xi);
	assert_string_equal(xi.notbefore, want);
	x509_info_free(&xi);
	cert_free(&c);
}

static void test_times(void **state)
{
	(void)state;
	time_case("491231235959Z", "2049-12-31T23:59:59");      /* UTCTime */
	time_case("500101000000Z", "1950-01-01T00:00:00");      /* UTCTime, 19xx */
	time_case("19600229120000Z", "1960-02-29T12:00:00");    /* before 1970 */
	time_case("29991231235959Z", "2999-12-31T23:59:59");
	time_case("30000101000000Z", "");                       /* out of range */
	time_case("09990101000000Z", "");
}

static void test_name_escaping(void **state)
{
	struct cert c;
	struct x509_info xi;
	X509_NAME *n = X509_NAME_new();

	(void)state;
	start(&c, g_ec);
	/* A NUL inside the CN must not cut the subject short, and control
	 * characters and separators are escaped. */
	add_entry(n, "O", "A, B\n", -1);
	add_entry(n, "CN", "bank.example\0.evil.example", 26);
	X509_set_subject_name(c.x, n);
	X509_NAME_free(n);
	add_ext(c.x, NID_basic_constraints, "CA:FALSE");
	finish(&c, EVP_sha256());
	parse_ok(&c, &xi);
	assert_string_equal(xi.subject, "O=\"A, B\\0A\", CN=bank.example\\00.evil.example");
	assert_string_equal(xi.cn, "bank.example");
	assert_int_equal(xi.self_issued, 0);
	assert_int_equal(xi.is_ca, 0);
	x509_info_free(&xi);
	cert_free(&c);
}

static void test_bad_strings(void **state)
{
	struct cert c;
	struct x509_info xi;
	X509_NAME *n = X509_NAME_new();
	unsigned char *p;

	(void)state;
	start(&c, g_ec);
	/* Non-ASCII is escaped byte by byte: the subject stays ASCII; the CN
	 * field keeps the UTF-8. */
	add_entry(n, "CN", "caf\xc3\xa9", -1);
	assert_int_equal(X509_set_subject_name(c.x, n), 1);
	X509_NAME_free(n);
	finish(&c, EVP_sha256());
	parse_ok(&c, &xi);
	assert_string_equal(xi.subject, "CN=caf\\C3\\A9");
	assert_string_equal(xi.cn, "caf\xc3\xa9");
	x509_info_free(&xi);
	cert_free(&c);

	/* A BMPString of odd length cannot be decoded: OpenSSL refuses the
	 * certificate (its name canonicalisation fails), and it is reported
	 * by hash.  OpenSSL will not build one, so patch the tag of "abc". */
	n = X509_NAME_new();
	start(&c, g_ec);
	add_entry(n, "CN", "abc", -1);
	assert_int_equal(X509_set_subject_name(c.x, n), 1);
	X509_NAME_free(n);
	finish(&c, EVP_sha256());
	p = NULL;
	for (int i = 1; i + 4 <= c.len && p == NULL; i++)
		if (memcmp(c.der + i, "\x03" "abc", 4) == 0)
			p = c.der + i;
	assert_non_null(p);
	p[-1] = V_ASN1_BMPSTRING;
	assert_int_equal(x509_parse(c.der, (size_t)c.len, &xi), -1);
	assert_int_equal(xi.parsed, 0);
	assert_true(xi.error[0] != '\0');
	x509_info_free(&xi);
	cert_free(&c);
}

/* SAN entries built by hand: a dNSName with a NUL, an iPAddress of the
 * 8-byte name-constraint form, and valid ones around them. */
static void add_raw_san(X509 *x)
{
	GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
	static const struct {
		int type;
		const char *data;
		int len;
	} e[] = {
		{ GEN_DNS, "good.example\0.evil.example", 26 },
		{ GEN_IPADD, "\x0a\x00\x00\x00\xff\x00\x00\x00", 8 },
		{ GEN_IPADD, "\x01\x01\x01\x01", 4 },
		{ GEN_DNS, "", 0 },
	};

	for (size_t i = 0; i < sizeof(e) / sizeof(e[0]); i++) {
		GENERAL_NAME *g = GENERAL_NAME_new();
		ASN1_STRING *s = ASN1_STRING_type_new(e[i].type == GEN_DNS ? V_ASN1_IA5STRING :
		                                                            V_ASN1_OCTET_STRING);

		assert_int_equal(ASN1_STRING_set(s, e[i].data, e[i].len), 1);
		GENERAL_NAME_set0_value(g, e[i].type, s);
		sk_GENERAL_NAME_push(gens, g);
	}
	assert_int_equal(X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, 0), 1);
	GENERAL_NAMES_free(gens);
}

static void test_san_edge_cases(void **state)
{
	struct cert c;
	struct x509_info xi;

	(void)state;
	start(&c, g_ec);
	add_raw_san(c.x);
	finish(&c, EVP_sha256());
	parse_ok(&c, &xi);
	assert_int_equal(xi.n_san_dns, 2);
	assert_string_equal(xi.san_dns[0], "good.example");
	assert_string_equal(xi.san_dns[1], "");
	assert_int_equal(xi.n_san_ip, 1);
	assert_string_equal(xi.san_ip_str[0], "1.1.1.1");
	x509_info_free(&xi);
	cert_free(&c);
}

static void test_key_types(void **state)
{
	struct cert c;
	struct x509_info xi;

	(void)state;
	/* RSA 1024 with SHA-1: weak twice over. */
	start(&c, EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024));
	finish(&c, EVP_sha1());
	parse_ok(&c, &xi);
	assert_string_equal(xi.key_type, "RSA");
	assert_int_equal(xi.key_bits, 1024);
	assert_string_equal(xi.sig_alg, "sha1WithRSAEncryption");
	assert_int_equal(xi.weak, 1);
	x509_info_free(&xi);
	cert_free(&c);

	start(&c, EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"));
	finish(&c, NULL);
	parse_ok(&c, &xi);
	assert_string_equal(xi.key_type, "Ed25519");
	assert_string_equal(xi.sig_alg, "ED25519");
	assert_int_equal(xi.weak, 0);
	x509_info_free(&xi);
	cert_free(&c);

	/* ECDSA with SHA-1 is weak by its digest alone. */
	start(&c, g_ec);
	finish(&c, EVP_sha1());
	parse_ok(&c, &xi);
	assert_string_equal(xi.sig_alg, "ecdsa-with-SHA1");
	assert_int_equal(xi.weak, 1);
	x509_info_free(&xi);
	cert_free(&c);
}

/* ---- hostile DER ---------------------------------------------------------- */

static void test_trailing_bytes(void **state)
{
	struct cert c;
	struct x509_info xi;
	uint8_t *buf, md[32];
	char hex[65];

	(void)state;
	start(&c, g_ec);
	finish(&c, EVP_sha256());
	buf = malloc((size_t)c.len + 1);
	memcpy(buf, c.der, (size_t)c.len);
	buf[c.len] = 0;
	assert_int_equal(x509_parse(buf, (size_t)c.len + 1, &xi), -1);
	assert_int_equal(xi.parsed, 0);
	assert_null(xi.x509);
	assert_null(xi.subject);
	assert_int_equal(xi.der_len, (size_t)c.len + 1);
	assert_non_null(strstr(xi.error, "trailing"));
	/* The hash covers the bytes as sent, trailing byte included. */
	digest_sha256(buf, (size_t)c.len + 1, md);
	digest_hex(md, 32, hex, 0, 0);
	assert_string_equal(xi.sha256, hex);
	x509_info_free(&xi);
	free(buf);
	cert_free(&c);
}

static void test_garbage(void **state)
{
	static const uint8_t garbage[] = "this is not a certificate";
	static const uint8_t empty[1];
	struct x509_info xi;

	(void)state;
	assert_int_equal(x509_parse(garbage, sizeof(garbage) - 1, &xi), -1);
	assert_int_equal(xi.parsed, 0);
	assert_int_equal(strlen(xi.sha256), 64);
	assert_true(xi.error[0] != '\0');
	x509_info_free(&xi);

	assert_int_equal(x509_parse(empty, 0, &xi), -1);
	assert_string_equal(xi.sha256,
	                    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	assert_string_equal(xi.error, "empty certificate");
	x509_info_free(&xi);
}

static void test_every_truncation(void **state)
{
	struct cert c;
	struct x509_info xi;

	(void)state;
	start(&c, g_ec);
	add_ext(c.x, NID_subject_alt_name, "DNS:a.example,IP:1.1.1.1");
	finish(&c, EVP_sha256());
	/* Each prefix in its own allocation, so a read past it is caught by
	 * valgrind or ASan. */
	for (int len = 0; len < c.len; len++) {
		uint8_t *p = malloc(len ? (size_t)len : 1);

		memcpy(p, c.der, (size_t)len);
		assert_int_equal(x509_parse(p, (size_t)len, &xi), -1);
		assert_int_equal(xi.parsed, 0);
		assert_int_equal(xi.der_len, (size_t)len);
		x509_info_free(&xi);
		free(p);
	}
	cert_free(&c);
}

static void test_giant_length(void **state)
{
	/* SEQUENCE claiming 2^31-1 bytes, with a few behind it. */
	static const uint8_t giant[] = { 0x30, 0x84, 0x7f, 0xff, 0xff, 0xff, 0x30, 0x00 };
	struct x509_info xi;

	(void)state;
	assert_int_equal(x509_parse(giant, sizeof(giant), &xi), -1);
	assert_int_equal(xi.parsed, 0);
	x509_info_free(&xi);
}

static void test_free_zeroes(void **state)
{
	struct cert c;
	struct x509_info xi, zero;

	(void)state;
	memset(&zero, 0, sizeof(zero));
	start(&c, g_ec);
	finish(&c, EVP_sha256());
	parse_ok(&c, &xi);
	x509_info_free(&xi);
	assert_memory_equal(&xi, &zero, sizeof(xi));
	x509_info_free(&xi); /* a second free is harmless */
	cert_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_serials),
		cmocka_unit_test(test_times),
		cmocka_unit_test(test_name_escaping),
		cmocka_unit_test(test_bad_strings),
		cmocka_unit_test(test_san_edge_cases),
		cmocka_unit_test(test_key_types),
		cmocka_unit_test(test_trailing_bytes),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_every_truncation),
		cmocka_unit_test(test_giant_length),
		cmocka_unit_test(test_free_zeroes),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
