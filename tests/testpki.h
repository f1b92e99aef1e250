/*
 * testpki.h - for the unit tests: a certificate of the committed test PKI
 * (pcaps/pki/NAME.pem, read from the top directory, where tests/run_tests.sh
 * runs) as DER.  Header-only, so that each test still links only the
 * modules it exercises.
 */
#ifndef CS_TESTPKI_H
#define CS_TESTPKI_H

#include <stdio.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "analyser/tls.h"

/* The DER of the first certificate in path, OPENSSL_malloc'd into *der
 * (the caller frees it with OPENSSL_free); its length, or -1 with the
 * reason on standard error. */
static inline int testpki_der(const char *path, unsigned char **der)
{
	FILE *f = fopen(path, "r");
	X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
	int n;

	*der = NULL;
	n = x ? i2d_X509(x, der) : -1;
	if (f)
		fclose(f);
	X509_free(x);
	if (n <= 0) {
		fprintf(stderr, "cannot read %s\n", path);
		return -1;
	}
	return n;
}

/* The certificates of paths[0..n) as DER views (out[i].data is
 * OpenSSL's: OPENSSL_free it).  0, or -1 when one cannot be read. */
static inline int testpki_load(const char *const *paths, size_t n, struct tls_cert *out)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char *d;
		int len = testpki_der(paths[i], &d);

		if (len <= 0)
			return -1;
		out[i].data = d;
		out[i].len = (size_t)len;
	}
	return 0;
}

#endif
