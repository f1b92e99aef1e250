/*
 * pki.h - a test PKI for the harnesses that need certificates
 * (fuzz_rules, fuzz_chain, fuzz_engine), made with the OpenSSL API.
 *
 * Keys are Ed25519 from a fixed seed, so keys and signatures, and so the
 * certificates, are the same in every run: a crash input replays exactly.
 * Every function aborts on failure: a harness that cannot set itself up is
 * broken, not fuzzing.
 */
#ifndef CS_FUZZ_TEST_PKI_H
#define CS_FUZZ_TEST_PKI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

/* The Ed25519 key whose seed is 32 bytes of tag; EVP_PKEY_free. */
EVP_PKEY *fz_key(uint8_t tag);

/* A certificate for key, signed by signer as issuer (NULL: self-signed),
 * subject O=certsentry fuzz, CN=cn, valid 2024-2034.  version 2 (X.509
 * v3): basicConstraints (critical; CA:TRUE with a subject key identifier
 * when ca, else CA:FALSE with names fuzz.example, one.one.one.one,
 * 192.0.2.1 and 1.1.1.1); version 0 (v1): no extension.  X509_free. */
X509 *fz_cert(EVP_PKEY *key, EVP_PKEY *signer, X509 *issuer, const char *cn, int ca,
              long serial, int version);

/* x's DER bytes; OPENSSL_free. */
uint8_t *fz_der(X509 *x, size_t *len);

/* dir/name holding a, then b when not NULL, in PEM. */
void fz_write_pem(const char *dir, const char *name, X509 *a, X509 *b);

/* The hex SHA-256 of k's SubjectPublicKeyInfo: a rules file's pin. */
void fz_spki_hex(EVP_PKEY *k, char hex[65]);

/* When run from the top directory (make test, tests/fuzz/run.sh), an
 * owner "test-pki" written to f that approves the committed test CAs of
 * pcaps/pki as pcaps/test.rules does, so chains in seeds taken from
 * pcaps/ can be approved too.  0 when pcaps/pki is not there. */
int fz_add_test_pki(FILE *f);

#endif
