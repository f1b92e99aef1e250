/*
 * x509.h - certificate fields, parsed by OpenSSL.  The only module (with
 * policy.c for chain verification) that touches OpenSSL's X509 API.
 */
#ifndef CS_X509_H
#define CS_X509_H

#include <stddef.h>
#include <stdint.h>

struct x509_ip {
	int family;             /* AF_INET or AF_INET6 */
	uint8_t addr[16];
};

/* Everything certsentry reports about one certificate.  All pointers are
 * owned by the struct and freed by x509_info_free(). */
struct x509_info {
	int parsed;              /* 0: OpenSSL could not parse the DER */
	char error[128];         /* why, when !parsed */
	size_t der_len;
	char sha256[65];         /* lower-case hex, no separator: always set */
	char sha1[60];           /* lower-case hex with colons (Suricata's fingerprint) */
	char spki_sha256[65];    /* lower-case hex of SHA-256 over the DER SubjectPublicKeyInfo */
	char *subject;           /* "C=US, O=Example, CN=www.example.com" as Suricata prints */
	char *issuer;
	char *subject_rfc2253;   /* RFC 2253 form, as openssl -nameopt RFC2253 */
	char *issuer_rfc2253;
	char *cn;                /* first commonName, or NULL */
	char *serial;            /* upper-case hex bytes with colons: "0A:1B:..." */
	char notbefore[20];      /* "2024-02-01T00:00:00" UTC; "" if unreadable */
	char notafter[20];
	char **san_dns;          /* dNSName entries, in certificate order */
	size_t n_san_dns;
	struct x509_ip *san_ip;  /* iPAddress entries (4 or 16 bytes only) */
	char **san_ip_str;       /* the same, printed (inet_ntop form) */
	size_t n_san_ip;
	char key_type[16];       /* "RSA", "EC", "Ed25519", "DSA", ... */
	int key_bits;
	char sig_alg[48];        /* e.g. "sha256WithRSAEncryption" */
	int is_ca;               /* basicConstraints cA */
	int self_issued;         /* subject == issuer */
	int weak;                /* SHA-1/MD5 signature or RSA < 2048 bits */
	void *x509;              /* X509 *, owned; NULL when !parsed */
};

/* Parse one DER certificate; the DER must be exactly len bytes (trailing
 * bytes are an error).  Returns 0 when parsed, -1 when not; in both cases
 * der_len and sha256 are set and x509_info_free must be called. */
int x509_parse(const uint8_t *der, size_t len, struct x509_info *out);
void x509_info_free(struct x509_info *xi);

/* The verify callback of every chain verification (policy.c,
 * truststore.c): signatures, issuer look-up and basicConstraints decide;
 * purpose, policies and name constraints are reported elsewhere, not
 * decided on (DESIGN.md).  An X509_STORE_CTX verify_cb. */
struct x509_store_ctx_st;
int x509_verify_cb(int ok, struct x509_store_ctx_st *ctx);

#endif
