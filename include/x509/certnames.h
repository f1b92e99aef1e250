/*
 * certnames.h - the names a certificate is for, read straight from its DER
 * without OpenSSL (x509 stage).
 *
 * Why: OpenSSL 3 spends ~0.3 ms decoding one certificate (its key decoder
 * look-ups), and a CT log holds millions of certificates for no owner of
 * the rules.  This walker reads only what the policy matches a leaf by
 * (policy.c match_leaf: subject commonName, SAN dNSName and iPAddress), so
 * that a certificate that names nothing protected is passed over without
 * parsing.  It answers "sure" only for DER it reads completely; anything
 * else (indefinite lengths, high tag numbers, a commonName in a string
 * type OpenSSL would convert, trailing bytes) is "not sure", and the
 * caller takes the full path.  It must not decide anything itself.
 */
#ifndef CS_CERTNAMES_H
#define CS_CERTNAMES_H

#include <stddef.h>
#include <stdint.h>

enum certname_kind {
	CERTNAME_CN,      /* a subject commonName (ASCII bytes) */
	CERTNAME_DNS,     /* a SAN dNSName (raw IA5String bytes) */
	CERTNAME_IP       /* a SAN iPAddress (any length; 4 or 16 mean one) */
};

/* Called for each name; nonzero stops the walk. p[0..len) is a view into
 * the certificate: not NUL-terminated, may hold NUL bytes. */
typedef int (*certname_fn)(void *arg, enum certname_kind kind, const uint8_t *p, size_t len);

/* Walk the Certificate der[0..len): every subject commonName, then every
 * subjectAltName extension's dNSName and iPAddress.  0 when the whole
 * certificate was walked, 1 when fn stopped it, -1 when the DER is not
 * one this walker reads with certainty (the names then are unknown). */
int certnames_walk(const uint8_t *der, size_t len, certname_fn fn, void *arg);

#endif
