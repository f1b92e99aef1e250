/*
 * x509.c - certificate fields as certsentry reports them (see include/x509/x509.h).
 *
 * OpenSSL parses; this file only turns what it found into the strings EVE
 * wants.  A certificate that OpenSSL rejects is still reported by SHA-256
 * with the reason, because an unparsable leaf at a protected endpoint is
 * itself worth an alert.
 *
 * Must not: verify signatures or match names (policy.c does).
 */
#include <arpa/inet.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "core/digest.h"
#include "x509/x509.h"

/* Suricata's one-line form: "C=US, O=Example, CN=host".  XN_FLAG_ONELINE
 * without the spaces around '='; its RFC 2253 string flags escape control
 * characters and NUL bytes (\00), so a name can never be cut short, and
 * non-ASCII bytes are escaped too, so the result is always printable ASCII
 * and safe for any JSON writer. */
#define X509_NAME_FLAGS (XN_FLAG_ONELINE & ~XN_FLAG_SPC_EQ)

static void set_error(struct x509_info *xi, const char *what)
{
	unsigned long e = ERR_peek_last_error();
	char ossl[96];

	if (e != 0) {
		ERR_error_string_n(e, ossl, sizeof(ossl));
		snprintf(xi->error, sizeof(xi->error), "%s: %s", what, ossl);
	} else {
		snprintf(xi->error, sizeof(xi->error), "%s", what);
	}
	ERR_clear_error();
}

/* Copy n bytes into a new C string, stopping at the first NUL: the string
 * is never read past n.  Returns NULL when out of memory.  Caller owns. */
static char *dup_bytes(const unsigned char *p, size_t n)
{
	const unsigned char *nul;
	char *s;

	/* An empty name or string may come with no data pointer at all. */
	if (n == 0 || p == NULL)
		return strdup("");
	nul = memchr(p, 0, n);
	if (nul != NULL)
		n = (size_t)(nul - p);
	s = malloc(n + 1);
	if (s == NULL)
		return NULL;
	memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

/* Print a name with flags into a new string (caller owns), or NULL. */
static char *name_string(const X509_NAME *name, unsigned long flags)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data = NULL, *s = NULL;
	long n;

	if (bio == NULL)
		goto out;
	if (X509_NAME_print_ex(bio, name, 0, flags) < 0)
		goto out;
	n = BIO_get_mem_data(bio, &data);
	if (n < 0)
		goto out;
	/* The escaping flags leave no NUL inside, so this copies it all. */
	s = dup_bytes((const unsigned char *)data, (size_t)n);
out:
	BIO_free(bio);
	return s;
}

/* First commonName as UTF-8 (BMPString etc. converted), up to its first
 * NUL.  NULL when there is none; -1 on allocation failure. */
static int get_cn(const X509 *x, char **out)
{
	const X509_NAME *name = X509_get_subject_name(x);
	int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
	unsigned char *utf8 = NULL;
	int n;

	*out = NULL;
	if (i < 0)
		return 0;
	n = ASN1_STRING_to_UTF8(&utf8,
	                        X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)));
	if (n < 0)
		return 0; /* undecodable string type: treated as no CN */
	*out = dup_bytes(utf8, (size_t)n);
	OPENSSL_free(utf8);
	return *out != NULL ? 0 : -1;
}

/* The serial's DER content octets in upper-case hex with colons, as
 * Suricata prints them (including a leading 00 and two's complement for
 * negative serials, which some broken CAs issue). */
static char *get_serial(const X509 *x)
{
	unsigned char *der = NULL;
	const unsigned char *p;
	char *s = NULL;
	long clen;
	int tag, cls, n;

	n = i2d_ASN1_INTEGER(X509_get0_serialNumber(x), &der);
	if (n <= 0)
		return NULL;
	p = der;
	if (ASN1_get_object(&p, &clen, &tag, &cls, n) & 0x80)
		goto out;
	if (clen <= 0 || clen > (long)(n - (p - der)))
		goto out;
	/* 3 chars per byte, the last one's colon becomes the NUL; owned by
	 * the caller (x509_info_free). */
	s = malloc((size_t)clen * 3);
	if (s == NULL)
		goto out;
	digest_hex(p, (size_t)clen, s, ':', 1);
out:
	OPENSSL_free(der);
	return s;
}

/* "YYYY-MM-DDTHH:MM:SS" into out[20]; "" when unreadable or the year is
 * outside 1000..2999 (keeps the field fixed-width and sane for JSON). */
static void format_time(const ASN1_TIME *t, char out[20])
{
	struct tm tm;
	int year;

	out[0] = '\0';
	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return;
	year = tm.tm_year + 1900;
	if (year < 1000 || year > 2999)
		return;
	/* The bounds keep every field to its width, so 19 chars + NUL. */
	snprintf(out, 20, "%04u-%02u-%02uT%02u:%02u:%02u", (unsigned)year % 10000u,
	         (unsigned)(tm.tm_mon + 1) % 100u, (unsigned)tm.tm_mday % 100u,
	         (unsigned)tm.tm_hour % 100u, (unsigned)tm.tm_min % 100u,
	         (unsigned)tm.tm_sec % 100u);
}

static int grow(void **arr, size_t n, size_t elem)
{
	void *p = realloc(*arr, (n + 1) * elem);

	if (p == NULL)
		return -1;
	*arr = p;
	return 0;
}

static int add_san_dns(struct x509_info *xi, const ASN1_IA5STRING *s)
{
	char *name;

	if (grow((void **)&xi->san_dns, xi->n_san_dns, sizeof(*xi->san_dns)) < 0)
		return -1;
	/* A name with an embedded NUL ("bank.com\0.evil.com") is kept up to
	 * the NUL: the prefix is what a C-string client would see, and for a
	 * detector matching more is the safe side. */
	name = dup_bytes(ASN1_STRING_get0_data(s), (size_t)ASN1_STRING_length(s));
	if (name == NULL)
		return -1;
	xi->san_dns[xi->n_san_dns++] = name;
	return 0;
}

static int add_san_ip(struct x509_info *xi, const ASN1_OCTET_STRING *s)
{
	int len = ASN1_STRING_length(s);
	char text[INET6_ADDRSTRLEN];
	struct x509_ip ip;
	char *str;

	/* RFC 5280 §4.2.1.6: 4 or 16 octets; other lengths (name-constraint
	 * style address+mask) say nothing about one address and are skipped. */
	if (len != 4 && len != 16)
		return 0;
	memset(&ip, 0, sizeof(ip));
	ip.family = len == 4 ? AF_INET : AF_INET6;
	memcpy(ip.addr, ASN1_STRING_get0_data(s), (size_t)len);
	if (inet_ntop(ip.family, ip.addr, text, sizeof(text)) == NULL)
		return 0;
	if (grow((void **)&xi->san_ip, xi->n_san_ip, sizeof(*xi->san_ip)) < 0 ||
	    grow((void **)&xi->san_ip_str, xi->n_san_ip, sizeof(*xi->san_ip_str)) < 0)
		return -1;
	str = strdup(text);
	if (str == NULL)
		return -1;
	xi->san_ip[xi->n_san_ip] = ip;
	xi->san_ip_str[xi->n_san_ip++] = str;
	return 0;
}

static int get_sans(const X509 *x, struct x509_info *xi)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	int ret = 0;

	/* NULL: no SAN, or one OpenSSL could not decode; either way none. */
	if (gens == NULL) {
		ERR_clear_error();
		return 0;
	}
	for (int i = 0; i < sk_GENERAL_NAME_num(gens) && ret == 0; i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);

		if (g->type == GEN_DNS)
			ret = add_san_dns(xi, g->d.dNSName);
		else if (g->type == GEN_IPADD)
			ret = add_san_ip(xi, g->d.iPAddress);
	}
	GENERAL_NAMES_free(gens);
	return ret;
}

static void get_key(X509 *x, struct x509_info *xi)
{
	EVP_PKEY *pk = X509_get0_pubkey(x);
	ASN1_OBJECT *alg = NULL;
	const char *name = NULL;

	if (pk == NULL) {
		/* A key type OpenSSL cannot load: report its algorithm OID. */
		ERR_clear_error();
		X509_PUBKEY_get0_param(&alg, NULL, NULL, NULL,
		                       X509_get_X509_PUBKEY(x));
		if (alg == NULL || OBJ_obj2txt(xi->key_type, sizeof(xi->key_type), alg, 0) < 0)
			snprintf(xi->key_type, sizeof(xi->key_type), "unknown");
		return;
	}
	switch (EVP_PKEY_get_base_id(pk)) {
	case EVP_PKEY_RSA:     name = "RSA"; break;
	case EVP_PKEY_RSA_PSS: name = "RSA-PSS"; break;
	case EVP_PKEY_EC:      name = "EC"; break;
	case EVP_PKEY_ED25519: name = "Ed25519"; break;
	case EVP_PKEY_ED448:   name = "Ed448"; break;
	case EVP_PKEY_DSA:     name = "DSA"; break;
	default:               name = EVP_PKEY_get0_type_name(pk); break;
	}
	snprintf(xi->key_type, sizeof(xi->key_type), "%s", name ? name : "unknown");
	xi->key_bits = EVP_PKEY_get_bits(pk);
}

static void get_sig(const X509 *x, struct x509_info *xi)
{
	int nid = X509_get_signature_nid(x);
	int mdnid = NID_undef, pknid = NID_undef;
	const X509_ALGOR *alg = NULL;
	const ASN1_OBJECT *obj = NULL;

	if (nid != NID_undef) {
		snprintf(xi->sig_alg, sizeof(xi->sig_alg), "%s", OBJ_nid2ln(nid));
	} else {
		X509_get0_signature(NULL, &alg, x);
		X509_ALGOR_get0(&obj, NULL, NULL, alg);
		if (obj == NULL || OBJ_obj2txt(xi->sig_alg, sizeof(xi->sig_alg), obj, 0) < 0)
			snprintf(xi->sig_alg, sizeof(xi->sig_alg), "unknown");
	}
	if (nid != NID_undef && OBJ_find_sigid_algs(nid, &mdnid, &pknid) &&
	    (mdnid == NID_md5 || mdnid == NID_sha1 || mdnid == NID_md4 || mdnid == NID_md2))
		xi->weak = 1;
	if ((strcmp(xi->key_type, "RSA") == 0 || strcmp(xi->key_type, "RSA-PSS") == 0 ||
	     strcmp(xi->key_type, "DSA") == 0) && xi->key_bits < 2048)
		xi->weak = 1;
}

static void get_hashes(X509 *x, const uint8_t *der, size_t len, struct x509_info *xi)
{
	uint8_t md[DIGEST_SHA256_LEN];
	unsigned char *spki = NULL;
	int n;

	digest_sha1(der, len, md);
	digest_hex(md, DIGEST_SHA1_LEN, xi->sha1, ':', 0);
	n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &spki);
	if (n > 0) {
		digest_sha256(spki, (size_t)n, md);
		digest_hex(md, DIGEST_SHA256_LEN, xi->spki_sha256, 0, 0);
	}
	OPENSSL_free(spki);
}

/* Fill every field from a parsed certificate; -1 when one cannot be made. */
static int get_fields(X509 *x, const uint8_t *der, size_t len, struct x509_info *xi)
{
	const X509_NAME *subj = X509_get_subject_name(x);
	const X509_NAME *iss = X509_get_issuer_name(x);

	get_hashes(x, der, len, xi);
	xi->subject = name_string(subj, X509_NAME_FLAGS);
	xi->issuer = name_string(iss, X509_NAME_FLAGS);
	xi->subject_rfc2253 = name_string(subj, XN_FLAG_RFC2253);
	xi->issuer_rfc2253 = name_string(iss, XN_FLAG_RFC2253);
	xi->serial = get_serial(x);
	if (!xi->subject || !xi->issuer || !xi->subject_rfc2253 ||
	    !xi->issuer_rfc2253 || !xi->serial)
		return -1;
	if (get_cn(x, &xi->cn) < 0 || get_sans(x, xi) < 0)
		return -1;
	format_time(X509_get0_notBefore(x), xi->notbefore);
	format_time(X509_get0_notAfter(x), xi->notafter);
	get_key(x, xi);
	get_sig(x, xi);
	xi->is_ca = (X509_get_extension_flags(x) & EXFLAG_CA) != 0;
	xi->self_issued = X509_NAME_cmp(subj, iss) == 0;
	return 0;
}

int x509_parse(const uint8_t *der, size_t len, struct x509_info *out)
{
	uint8_t md[DIGEST_SHA256_LEN];
	const unsigned char *p = der;
	X509 *x = NULL;

	memset(out, 0, sizeof(*out));
	out->der_len = len;
	digest_sha256(der, len, md);
	digest_hex(md, DIGEST_SHA256_LEN, out->sha256, 0, 0);
	/* Errors left by others must not end up in this certificate's. */
	ERR_clear_error();

	if (len == 0 || len > LONG_MAX) {
		set_error(out, len == 0 ? "empty certificate" : "certificate too large");
		goto err;
	}
	/* Owned by out (x509_info_free) once parsed. */
	x = d2i_X509(NULL, &p, (long)len);
	if (x == NULL) {
		set_error(out, "DER parse failed");
		goto err;
	}
	/* The DER must be exactly one certificate: bytes after it could
	 * carry something the client sees and the sensor would not. */
	if ((size_t)(p - der) != len) {
		snprintf(out->error, sizeof(out->error), "%zu trailing bytes after certificate",
		         len - (size_t)(p - der));
		goto err;
	}
	if (get_fields(x, der, len, out) < 0) {
		/* Out of memory, or a name OpenSSL cannot print (its d2i has
		 * already rejected the undecodable string types).  Drop the
		 * partial fields but keep what is always reported. */
		x509_info_free(out);
		out->der_len = len;
		digest_hex(md, DIGEST_SHA256_LEN, out->sha256, 0, 0);
		set_error(out, "cannot extract certificate fields");
		goto err;
	}
	ERR_clear_error();
	out->x509 = x;
	out->parsed = 1;
	return 0;
err:
	/* Counted by the caller (certs_unparsable), which also counts the
	 * certificates seen. */
	X509_free(x);
	return -1;
}

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void x509_info_free(struct x509_info *xi)
{
	free(xi->subject);
	free(xi->issuer);
	free(xi->subject_rfc2253);
	free(xi->issuer_rfc2253);
	free(xi->cn);
	free(xi->serial);
	free_strv(xi->san_dns, xi->n_san_dns);
	free_strv(xi->san_ip_str, xi->n_san_ip);
	free(xi->san_ip);
	X509_free(xi->x509);
	memset(xi, 0, sizeof(*xi));
}

/* Errors that are reported elsewhere, not decided on (DESIGN.md).  Every
 * other error fails: bad signatures, missing issuers, a non-CA issuer. */
int x509_verify_cb(int ok, X509_STORE_CTX *ctx)
{
	if (ok)
		return 1;
	switch (X509_STORE_CTX_get_error(ctx)) {
	case X509_V_ERR_INVALID_PURPOSE:
	case X509_V_ERR_UNHANDLED_CRITICAL_EXTENSION:
	case X509_V_ERR_PERMITTED_VIOLATION:
	case X509_V_ERR_EXCLUDED_VIOLATION:
	case X509_V_ERR_SUBTREE_MINMAX:
	case X509_V_ERR_UNSUPPORTED_CONSTRAINT_TYPE:
	case X509_V_ERR_UNSUPPORTED_CONSTRAINT_SYNTAX:
	case X509_V_ERR_UNSUPPORTED_NAME_SYNTAX:
	case X509_V_ERR_INVALID_POLICY_EXTENSION:
	case X509_V_ERR_NO_EXPLICIT_POLICY:
		return 1;
	default:
		return 0;
	}
}
