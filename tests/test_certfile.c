/*
 * test_certfile.c - splitting certificate files (certfile_parse): DER one
 * after another, PEM among other blocks, and every limit and malformation
 * an error with its reason and no certificate left allocated.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "run/certfile.h"
#include "testpki.h"

static unsigned char *leaf, *root;
static int leaf_len, root_len;

static int setup(void **state)
{
	(void)state;
	leaf_len = testpki_der("pcaps/pki/rogue-leaf.pem", &leaf);
	root_len = testpki_der("pcaps/pki/rogue-root.pem", &root);
	return leaf_len > 0 && root_len > 0 ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	OPENSSL_free(leaf);
	OPENSSL_free(root);
	return 0;
}

static uint8_t *two_der(size_t *len)
{
	uint8_t *b = malloc((size_t)leaf_len + (size_t)root_len);

	memcpy(b, leaf, (size_t)leaf_len);
	memcpy(b + leaf_len, root, (size_t)root_len);
	*len = (size_t)leaf_len + (size_t)root_len;
	return b;
}

static void test_der_chain(void **state)
{
	struct tls_cert c[4];
	char err[256];
	size_t len, n;
	uint8_t *b = two_der(&len);

	(void)state;
	assert_int_equal(certfile_parse(b, len, 4, 65536, c, &n, err, sizeof err), 0);
	assert_int_equal(n, 2);
	assert_int_equal(c[0].len, (size_t)leaf_len);
	assert_memory_equal(c[0].data, leaf, (size_t)leaf_len);
	assert_memory_equal(c[1].data, root, (size_t)root_len);
	certfile_free_certs(c, n);
	/* limits: a chain over max_certs, a certificate over max_cert_size */
	assert_int_equal(certfile_parse(b, len, 1, 65536, c, &n, err, sizeof err), -1);
	assert_int_equal(n, 0);
	assert_string_equal(err, "more than 1 certificates (--max-certs)");
	assert_int_equal(certfile_parse(b, len, 4, 100, c, &n, err, sizeof err), -1);
	assert_non_null(strstr(err, "over --max-cert-size 100"));
	/* trailing bytes, a cut certificate */
	assert_int_equal(certfile_parse(b, len - 1, 4, 65536, c, &n, err, sizeof err), -1);
	assert_non_null(strstr(err, "bytes after certificate 1"));
	assert_int_equal(certfile_parse(b, 10, 4, 65536, c, &n, err, sizeof err), -1);
	assert_string_equal(err, "not PEM, and not a DER certificate");
	free(b);
}

static void test_der_lengths(void **state)
{
	/* long form lengths: 5 bytes (over 4 GB), indefinite, past the end */
	static const uint8_t big[] = { 0x30, 0x85, 1, 0, 0, 0, 0 };
	static const uint8_t indef[] = { 0x30, 0x80, 0, 0 };
	static const uint8_t past[] = { 0x30, 0x84, 0xFF, 0xFF, 0xFF, 0xF0, 0 };
	static const uint8_t shortlen[] = { 0x30, 0x82, 0x01 };
	struct tls_cert c[2];
	char err[256];
	size_t n;

	(void)state;
	assert_int_equal(certfile_parse(big, sizeof big, 2, 65536, c, &n, err, sizeof err), -1);
	assert_int_equal(certfile_parse(indef, sizeof indef, 2, 65536, c, &n, err, sizeof err), -1);
	assert_int_equal(certfile_parse(past, sizeof past, 2, 65536, c, &n, err, sizeof err), -1);
	assert_int_equal(certfile_parse(shortlen, sizeof shortlen, 2, 65536, c, &n, err, sizeof err), -1);
	assert_int_equal(certfile_parse((const uint8_t *)"", 0, 2, 65536, c, &n, err, sizeof err), -1);
	assert_string_equal(err, "empty file");
}

static void test_pem(void **state)
{
	FILE *f = fopen("pcaps/pki/rogue-leaf.pem", "r");
	char pem[16384], err[256], *p;
	struct tls_cert c[4];
	size_t n, len;

	(void)state;
	assert_non_null(f);
	p = pem + sprintf(pem, "Certificate:\n    Data: text openssl x509 -text writes\n"
	                       "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49\n"
	                       "-----END PRIVATE KEY-----\n");
	len = fread(p, 1, sizeof(pem) - (size_t)(p - pem) - 1, f);
	fclose(f);
	len += (size_t)(p - pem);
	assert_int_equal(certfile_parse((uint8_t *)pem, len, 4, 65536, c, &n, err, sizeof err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(c[0].len, (size_t)leaf_len);
	assert_memory_equal(c[0].data, leaf, (size_t)leaf_len);
	certfile_free_certs(c, n);
	/* a broken block after a good one */
	strcpy(pem + len, "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n");
	assert_int_equal(certfile_parse((uint8_t *)pem, strlen(pem), 4, 65536, c, &n, err,
	                                sizeof err), -1);
	assert_int_equal(n, 0);
	assert_string_equal(err, "malformed PEM block after certificate 1");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_der_chain),
		cmocka_unit_test(test_der_lengths),
		cmocka_unit_test(test_pem),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
