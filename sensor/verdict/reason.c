/*
 * reason.c - the shared words of a verdict's reason (see
 * include/verdict/reason.h): matches, verify errors, and the advice by
 * trust class.  OpenSSL only to read a certificate's policies (the CPS
 * address) and to name verify errors by their constants.  Must not: decide
 * a verdict (policy.c) or grade trust (truststore.c).
 */
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "verdict/reason.h"

/* ---- verify errors in certsentry's words --------------------------------- */

/* The errors a failed path can end with under policy.c's verification
 * (time, purpose, policies and name constraints are not checked; auth
 * level 0).  OpenSSL's strings ("self-signed certificate in certificate
 * chain") describe a browser's view; these say what it means for an
 * owner's approval. */
static const struct {
	int err;
	const char *words;
} VERIFY_WORDS[] = {
	{ X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN,
	  "the chain ends at a root this owner has not approved" },
	{ X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY,
	  "the chain ends at a CA whose issuer was neither sent nor approved" },
	{ X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT,
	  "the issuer of a certificate on the path was not sent" },
	{ X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE,
	  "the leaf's issuer was neither sent nor approved" },
	{ X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT,
	  "the leaf is self-signed and not approved" },
	{ X509_V_ERR_CERT_SIGNATURE_FAILURE,
	  "a signature on the path does not verify" },
	{ X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE,
	  "a signature on the path cannot be read" },
	{ X509_V_ERR_UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY,
	  "an issuer's public key cannot be read" },
	{ X509_V_ERR_INVALID_CA,
	  "a certificate that signs another on the path is not a CA" },
	{ X509_V_ERR_PATH_LENGTH_EXCEEDED,
	  "the path is longer than a CA's path length constraint allows" },
	{ X509_V_ERR_KEYUSAGE_NO_CERTSIGN,
	  "an issuer's key usage does not allow signing certificates" },
	{ X509_V_ERR_CERT_CHAIN_TOO_LONG,
	  "the path is too long to verify" },
	{ X509_V_ERR_AKID_SKID_MISMATCH,
	  "an issuer's key identifier does not match the certificate it signs" },
	{ X509_V_ERR_AKID_ISSUER_SERIAL_MISMATCH,
	  "an issuer's name and serial do not match the certificate it signs" },
	{ X509_V_ERR_CERT_UNTRUSTED,
	  "a certificate on the path is marked as not trusted" },
	{ X509_V_ERR_CERT_REJECTED,
	  "a certificate on the path is marked as rejected" },
	{ X509_V_ERR_EC_KEY_EXPLICIT_PARAMS,
	  "a key on the path has explicit curve parameters" },
	{ X509_V_ERR_OUT_OF_MEM,
	  "memory ran out while verifying" },
};

const char *reason_verify_words(int x509_verify_error)
{
	for (size_t i = 0; i < sizeof(VERIFY_WORDS) / sizeof(VERIFY_WORDS[0]); i++)
		if (VERIFY_WORDS[i].err == x509_verify_error)
			return VERIFY_WORDS[i].words;
	return "no path to an approved CA or pin could be built";
}

/* ---- what was matched ------------------------------------------------------ */

/* Endpoint matches are "ip:" and "sni:" (policy.c's match_endpoint); the
 * others name what the certificate is for. */
static int is_endpoint(const char *m)
{
	return strncmp(m, "ip:", 3) == 0 || strncmp(m, "sni:", 4) == 0;
}

static const char *value(const char *m)
{
	const char *colon = strchr(m, ':');

	return colon != NULL ? colon + 1 : m;
}

/* The value of r's first match of the kind wanted (endpoint or not), or
 * NULL. */
static const char *first(const struct policy_result *r, int endpoint)
{
	for (size_t i = 0; i < r->n_matched; i++)
		if (is_endpoint(r->matched[i]) == endpoint)
			return value(r->matched[i]);
	return NULL;
}

const char *reason_endpoint(const struct policy_result *r)
{
	const char *e = first(r, 1);

	if (e == NULL && r->n_matched > 0)
		e = value(r->matched[0]);
	return e != NULL ? e : "endpoint";
}

size_t reason_target(const struct policy_result *r, char *out, size_t n)
{
	const char *asset = first(r, 0), *at = first(r, 1);
	int len;

	if (asset != NULL && at != NULL && strcmp(asset, at) == 0)
		len = snprintf(out, n, "for protected %.64s, presented there", asset);
	else if (asset != NULL && at != NULL)
		len = snprintf(out, n, "for protected %.64s, presented at protected %.64s", asset, at);
	else if (asset != NULL)
		len = snprintf(out, n, "for protected %.64s", asset);
	else
		len = snprintf(out, n, "presented at protected %.64s", at != NULL ? at : "endpoint");
	if (len < 0) {
		out[0] = '\0';
		return 0;
	}
	return (size_t)len < n ? (size_t)len : n - 1;
}

/* ---- the CA's problem reporting address ---------------------------------- */

/* An http(s) URL of printable ASCII, no space or quote, fitting out: the
 * certificate was written by whoever issued it, and the URL goes into a
 * sentence a person may open. */
static int url_copy(const ASN1_IA5STRING *s, char out[REASON_MAX_URL])
{
	const unsigned char *d = s->data;
	size_t n = s->length > 0 ? (size_t)s->length : 0;

	if (n == 0 || n >= REASON_MAX_URL)
		return 0;
	if (!(n > 7 && memcmp(d, "http://", 7) == 0) && !(n > 8 && memcmp(d, "https://", 8) == 0))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (d[i] <= 0x20 || d[i] >= 0x7f || d[i] == '"' || d[i] == '\\')
			return 0;
	memcpy(out, d, n);
	out[n] = '\0';
	return 1;
}

static int cps_of(X509 *x, char out[REASON_MAX_URL])
{
	/* Decoded here, freed below. */
	CERTIFICATEPOLICIES *pol = X509_get_ext_d2i(x, NID_certificate_policies, NULL, NULL);
	int found = 0;

	for (int i = 0; pol != NULL && !found && i < sk_POLICYINFO_num(pol); i++) {
		POLICYINFO *pi = sk_POLICYINFO_value(pol, i);

		for (int j = 0; pi->qualifiers != NULL && !found &&
		                j < sk_POLICYQUALINFO_num(pi->qualifiers); j++) {
			POLICYQUALINFO *q = sk_POLICYQUALINFO_value(pi->qualifiers, j);

			if (OBJ_obj2nid(q->pqualid) == NID_id_qt_cps && q->d.cpsuri != NULL)
				found = url_copy(q->d.cpsuri, out);
		}
	}
	CERTIFICATEPOLICIES_free(pol);
	ERR_clear_error();
	return found;
}

int reason_cps_uri(const struct x509_info *certs, size_t n, char out[REASON_MAX_URL])
{
	if (n == 0 || !certs[0].parsed)
		return 0;
	if (cps_of(certs[0].x509, out))
		return 1;
	/* The leaf's issuer, when it was sent: its certificate's policies are
	 * the same CA's (an intermediate's CPS is its operator's). */
	for (size_t i = 1; i < n; i++)
		if (certs[i].parsed && X509_check_issued(certs[i].x509, certs[0].x509) == X509_V_OK)
			return cps_of(certs[i].x509, out);
	return 0;
}

/* ---- what to do -------------------------------------------------------------- */

static void append(struct policy_result *r, const char *text)
{
	size_t l = strlen(r->reason);

	snprintf(r->reason + l, sizeof(r->reason) - l, " %s", text);
}

/* A public CA issued it: CT, revocation, the CA's problem report.  The
 * address itself is in the CA's CPS (never in a certificate); CCADB lists
 * every public CA's. */
static void advise_public(struct policy_result *r, const struct x509_info *certs, size_t n,
                          const struct trust_memo *t)
{
	char cps[REASON_MAX_URL], where[REASON_MAX_URL + 48], text[512];

	if (reason_cps_uri(certs, n, cps))
		snprintf(where, sizeof(where), "given in its CPS, %s", cps);
	else
		snprintf(where, sizeof(where), "listed in CCADB");
	snprintf(text, sizeof(text),
	         "A public root store (%.32s) trusts its CA, so clients accept it: check "
	         "Certificate Transparency for it and other certificates for the asset, ask the "
	         "CA to revoke it, and report it to the CA's problem reporting address (%s).",
	         t->n_hits ? t->hits[0].store : "loaded", where);
	append(r, text);
}

/* When who issued it cannot be told. */
#define EITHER "If the CA is public, check Certificate Transparency and ask it to revoke " \
               "the certificate; if not, find the interception point on the path (a TLS " \
               "proxy, a middlebox or an endpoint agent)."

void reason_advise(struct policy_result *r, const struct x509_info *certs, size_t n,
                   const struct trust_memo *t, size_t stores)
{
	enum trust_class c = t ? (enum trust_class)t->cls : TRUST_UNKNOWN;

	if (r->verdict != VERDICT_SELF_SIGNED && r->verdict != VERDICT_FORGED_ISSUER &&
	    r->verdict != VERDICT_UNAPPROVED_ISSUER)
		return;
	/* Self-signed: no CA at all, whatever a store says of the key. */
	if (r->verdict == VERDICT_SELF_SIGNED)
		append(r, "No CA vouches for it: find the interception point on the path that "
		          "presented it (a TLS proxy, a middlebox or an endpoint agent), or a "
		          "misconfigured server.");
	else if (c == TRUST_PUBLIC)
		advise_public(r, certs, n, t);
	else if (stores == 0 || c == TRUST_UNKNOWN)
		/* Without a root store a public CA looks private: say both. */
		append(r, "No root store was loaded to tell a public CA from a private one. " EITHER);
	else if (c == TRUST_NONE)
		/* The leaf's issuer was not sent (or its signature fails): a
		 * public CA's leaf sent without its intermediate looks the same. */
		append(r, "Its issuer was not sent, so a public CA cannot be told from a private "
		          "one. " EITHER);
	else
		append(r, "No public root store trusts its CA: find the interception point on the "
		          "path that presented it (a TLS proxy, a middlebox, or an endpoint agent "
		          "whose CA the client installed).");
}
