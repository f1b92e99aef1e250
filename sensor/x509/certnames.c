/*
 * certnames.c - the names of a certificate from its DER (certnames.h).
 *
 * Owns: a strict, bounds-checked DER reader for the few paths of a
 * Certificate that name what it is for.  Must not touch: OpenSSL, the
 * policy (the caller matches the names), or any allocation.  Every
 * length is checked against what encloses it before use; anything this
 * reader does not fully understand returns -1 ("not sure"), never a guess.
 */
#include <string.h>

#include "x509/certnames.h"

/* One TLV: tag, and its value's bounds. */
struct der {
	uint8_t tag;
	const uint8_t *val;
	size_t len;
};

/* Read the TLV at *p (left bytes there), advance past it.  -1 on a high
 * tag number, an indefinite or over-4-byte length, or a value past left. */
static int der_next(const uint8_t **p, size_t *left, struct der *d)
{
	const uint8_t *q = *p;
	size_t n = *left, hdr = 2, v;

	if (n < 2 || (q[0] & 0x1Fu) == 0x1Fu)
		return -1;
	d->tag = q[0];
	v = q[1];
	if (v & 0x80u) {
		size_t k = v & 0x7Fu;

		if (k == 0 || k > 4 || n - 2 < k)
			return -1;
		v = 0;
		for (size_t i = 0; i < k; i++)
			v = v << 8 | q[2 + i];
		hdr += k;
	}
	if (v > n - hdr)
		return -1;
	d->val = q + hdr;
	d->len = v;
	*p = q + hdr + v;
	*left = n - hdr - v;
	return 0;
}

/* The next TLV must have this tag. */
static int der_expect(const uint8_t **p, size_t *left, uint8_t tag, struct der *d)
{
	return der_next(p, left, d) < 0 || d->tag != tag ? -1 : 0;
}

static const uint8_t OID_CN[] = { 0x55, 0x04, 0x03 };    /* 2.5.4.3 */
static const uint8_t OID_SAN[] = { 0x55, 0x1D, 0x11 };   /* 2.5.29.17 */

static int is_oid(const struct der *d, const uint8_t *oid, size_t n)
{
	return d->tag == 0x06 && d->len == n && memcmp(d->val, oid, n) == 0;
}

/* A commonName OpenSSL's ASN1_STRING_to_UTF8 would hand on unchanged:
 * UTF8String, PrintableString, TeletexString or IA5String of ASCII bytes.
 * Other types (BMPString, UniversalString) or non-ASCII bytes are
 * converted there, so they are "not sure" here. */
static int cn_is_plain(const struct der *v)
{
	if (v->tag != 0x0C && v->tag != 0x13 && v->tag != 0x14 && v->tag != 0x16)
		return 0;
	for (size_t i = 0; i < v->len; i++)
		if (v->val[i] & 0x80u)
			return 0;
	return 1;
}

/* Name ::= SEQUENCE OF RelativeDistinguishedName (SET OF
 * AttributeTypeAndValue ::= SEQUENCE { type OID, value ANY }). */
static int walk_subject(const struct der *name, certname_fn fn, void *arg)
{
	const uint8_t *p = name->val;
	size_t left = name->len;

	while (left) {
		struct der rdn, atv, type, value;
		const uint8_t *q;
		size_t ql;

		if (der_expect(&p, &left, 0x31, &rdn) < 0)
			return -1;
		q = rdn.val;
		ql = rdn.len;
		while (ql) {
			const uint8_t *a;
			size_t al;

			if (der_expect(&q, &ql, 0x30, &atv) < 0)
				return -1;
			a = atv.val;
			al = atv.len;
			if (der_expect(&a, &al, 0x06, &type) < 0 || der_next(&a, &al, &value) < 0 ||
			    al != 0)
				return -1;
			if (!is_oid(&type, OID_CN, sizeof(OID_CN)))
				continue;
			if (!cn_is_plain(&value))
				return -1;
			if (fn(arg, CERTNAME_CN, value.val, value.len))
				return 1;
		}
	}
	return 0;
}

/* GeneralNames ::= SEQUENCE OF GeneralName; dNSName [2] IA5String and
 * iPAddress [7] OCTET STRING, both implicit and primitive. */
static int walk_san(const struct der *octets, certname_fn fn, void *arg)
{
	const uint8_t *p = octets->val;
	size_t left = octets->len;
	struct der seq, gn;

	if (der_expect(&p, &left, 0x30, &seq) < 0 || left != 0)
		return -1;
	p = seq.val;
	left = seq.len;
	while (left) {
		/* a constructed [2] or [7] is BER OpenSSL may read as a name */
		if (der_next(&p, &left, &gn) < 0 || gn.tag == 0xA2 || gn.tag == 0xA7)
			return -1;
		if (gn.tag == 0x82 && fn(arg, CERTNAME_DNS, gn.val, gn.len))
			return 1;
		if (gn.tag == 0x87 && fn(arg, CERTNAME_IP, gn.val, gn.len))
			return 1;
	}
	return 0;
}

/* [3] EXPLICIT Extensions ::= SEQUENCE OF Extension ::= SEQUENCE {
 * extnID OID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }.
 * Every subjectAltName is walked: more than one is not valid, and what
 * OpenSSL makes of it is not this reader's to guess. */
static int walk_extensions(const struct der *exts, certname_fn fn, void *arg)
{
	const uint8_t *p = exts->val;
	size_t left = exts->len;
	struct der seq, ext, id, v;
	int rc;

	if (der_expect(&p, &left, 0x30, &seq) < 0 || left != 0)
		return -1;
	p = seq.val;
	left = seq.len;
	while (left) {
		const uint8_t *e;
		size_t el;

		if (der_expect(&p, &left, 0x30, &ext) < 0)
			return -1;
		e = ext.val;
		el = ext.len;
		if (der_expect(&e, &el, 0x06, &id) < 0 || der_next(&e, &el, &v) < 0)
			return -1;
		if (v.tag == 0x01 && der_next(&e, &el, &v) < 0)
			return -1;
		if (v.tag != 0x04 || el != 0)
			return -1;
		if (is_oid(&id, OID_SAN, sizeof(OID_SAN)) && (rc = walk_san(&v, fn, arg)) != 0)
			return rc;
	}
	return 0;
}

int certnames_walk(const uint8_t *der, size_t len, certname_fn fn, void *arg)
{
	const uint8_t *p = der, *t;
	size_t left = len, tl;
	struct der cert, tbs, f, subject;
	int rc;

	/* Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm,
	 * signatureValue }, exactly len bytes as x509_parse wants. */
	if (der_expect(&p, &left, 0x30, &cert) < 0 || left != 0)
		return -1;
	p = cert.val;
	left = cert.len;
	if (der_expect(&p, &left, 0x30, &tbs) < 0)
		return -1;
	t = tbs.val;
	tl = tbs.len;
	/* [0] version, serialNumber, signature, issuer, validity */
	if (der_next(&t, &tl, &f) < 0)
		return -1;
	if (f.tag == 0xA0 && der_next(&t, &tl, &f) < 0)
		return -1;
	if (f.tag != 0x02 || der_expect(&t, &tl, 0x30, &f) < 0 ||
	    der_expect(&t, &tl, 0x30, &f) < 0 || der_expect(&t, &tl, 0x30, &f) < 0 ||
	    der_expect(&t, &tl, 0x30, &subject) < 0 || der_expect(&t, &tl, 0x30, &f) < 0)
		return -1;
	if ((rc = walk_subject(&subject, fn, arg)) != 0)
		return rc;
	/* [1] issuerUniqueID, [2] subjectUniqueID, [3] extensions */
	while (tl) {
		if (der_next(&t, &tl, &f) < 0)
			return -1;
		if (f.tag == 0xA3) {
			if ((rc = walk_extensions(&f, fn, arg)) != 0)
				return rc;
		} else if (f.tag != 0x81 && f.tag != 0x82) {
			return -1;
		}
	}
	return 0;
}
