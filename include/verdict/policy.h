/*
 * policy.h - owners, what they protect, which CAs they approve, and the
 * verdict on one handshake.  The rules grammar is loaded by rules.c into
 * the opaque struct policy; policy.c decides.
 *
 * Approval is cryptographic: a chain is approved only when every signature
 * from the leaf up to one of the owner's approved CA certificates or pinned
 * SPKIs verifies.  Dates, purpose, EKU and name constraints never decide.
 */
#ifndef CS_POLICY_H
#define CS_POLICY_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "x509/certnames.h"
#include "verdict/fingerprint.h"
#include "x509/x509.h"

enum verdict {
	VERDICT_APPROVED = 0,
	VERDICT_SELF_SIGNED,
	VERDICT_FORGED_ISSUER,
	VERDICT_UNAPPROVED_ISSUER,
	VERDICT_UNVERIFIABLE_CHAIN,
	VERDICT_UNVERIFIED_HANDSHAKE, /* protected endpoint, handshake ended
	                                 (gap, limit, error) before the chain */
	VERDICT_NOT_VISIBLE,          /* TLS 1.3 or resumed: no chain on the
	                                 wire; reported, not alerted */
	VERDICT_STREAM_MISMATCH,      /* a retransmission of the handshake bytes
	                                 differed from the copy verified (set by
	                                 the engine, not by policy_evaluate) */
	VERDICT_FINGERPRINT_CHANGED,  /* TLS 1.3 not read, and its shape departs
	                                 from the endpoint's baseline: evidence,
	                                 not proof */
	VERDICT_COUNT
};

/* "approved", "self-signed", "forged-issuer", "unapproved-issuer",
 * "unverifiable-chain", "unverified-handshake", "not-visible",
 * "stream-mismatch", "fingerprint-changed" */
const char *verdict_name(enum verdict v);
/* Is this verdict an alert? */
int verdict_is_alert(enum verdict v);

enum policy_hs {
	POLICY_HS_CHAIN,      /* a Certificate message was seen */
	POLICY_HS_ENCRYPTED,  /* TLS 1.3: certificates encrypted */
	POLICY_HS_RESUMED,    /* resumed / no certificate by design */
	POLICY_HS_INCOMPLETE, /* ended before the Certificate message */
};

/* What checking one chain for one owner found (the signature checks, the
 * expensive part), kept per distinct chain by the chain cache
 * (chaincache.h) so that a chain seen again is not checked again.  All
 * zero = not checked yet.  Only meaningful with the certificates and the
 * policy it was filled with. */
struct policy_memo {
	uint8_t done;
	uint8_t verdict;               /* approved, self-signed, forged- or unapproved-issuer */
	int16_t anchor_cert;           /* as policy_result.anchor_cert */
	int16_t forged;                /* index in certs of a forged-issuer cert, else -1 */
	int16_t claimed;               /* index in the owner's CAs it claims, else -1 */
	int verify_error;              /* X509_V_ERR_* of the failed path */
	char anchor[256];
};

struct policy_input {
	int family;                    /* AF_INET / AF_INET6 of server_ip */
	uint8_t server_ip[16];
	const char *sni;               /* NULL when none */
	enum policy_hs hs;
	const char *note;              /* why the handshake has no chain, or NULL */
	const struct fp_result *fp;    /* TLS 1.3 not read: its fingerprint against
	                                  the baseline, or NULL (none loaded) */
	const struct x509_info *certs; /* chain as sent, leaf first; may be n=0 */
	size_t n_certs;
	struct policy_memo *memo;      /* NULL, or policy_owner_count() slots for
	                                  this chain: read and filled */
};

#define POLICY_MAX_MATCH 8

/* The protected entry a match hit, as the rules file wrote it: the unit a
 * SOC reads coverage by (one "protect ip 1.0.0.0/24" is one asset, however
 * many addresses, SNIs and certificate names matched it). */
struct policy_asset {
	const char *type;              /* "ip" or "name": the protect keyword */
	const char *entry;             /* "1.0.0.0/24", "*.example.com": a view
	                                  into the policy, valid while it is */
};

struct policy_result {
	const char *owner;             /* view into the policy */
	char matched[POLICY_MAX_MATCH][96]; /* "ip:1.1.1.1", "sni:x", "san-ip:1.1.1.1",
	                                       "san-dns:x", "cn:x" */
	struct policy_asset asset[POLICY_MAX_MATCH]; /* what matched[i] hit */
	size_t n_matched;
	enum verdict verdict;
	int anchor_cert;               /* index in certs of the approved anchor
	                                  when it was sent, else -1 */
	char anchor[256];              /* approved anchor: subject or "spki:..." */
	/* What was found and what to do: policy.c writes the facts, the judge
	 * adds the advice by trust class (reason.h).  Room for the longest of
	 * each with every quoted name at its cut (tests/test_reason.c). */
	char reason[1024];
};

struct policy;

/* Load a rules file, or every *.rules file of a directory (sorted by name).
 * On error returns NULL and writes "FILE:LINE: reason" into err. */
struct policy *policy_load(const char *path, char *err, size_t errlen);
/* The same, giving up (NULL, "PATH:0: loading cancelled") as soon as
 * *cancel is non-zero: a reload on a thread of its own (live.c) must not
 * hold up a stop.  Checked once a line and once a certificate. */
struct policy *policy_load_cancellable(const char *path, const atomic_int *cancel, char *err,
                                       size_t errlen);
void policy_free(struct policy *p);

/* Evaluate one handshake against every owner.  Fills at most max results,
 * one per owner concerned (connection to a protected endpoint, or a
 * certificate of the chain for a protected asset), and returns how many. */
size_t policy_evaluate(const struct policy *p, const struct policy_input *in,
                       struct policy_result *out, size_t max);

size_t policy_owner_count(const struct policy *p);

/* Could a leaf with this name (certnames_walk's kind and bytes) concern
 * any owner, by the matching policy_evaluate does on a parsed leaf (SAN
 * iPAddress, SAN dNSName, commonName as address or name)?  1 or 0.  Only
 * the leaf's names: the endpoint is not asked (no connection offline). */
int policy_leaf_name_concerns(const struct policy *p, enum certname_kind kind,
                              const uint8_t *v, size_t len);
/* Human summary of what was loaded, for --check-rules. */
void policy_summary(const struct policy *p, FILE *f);
/* For --check-rules: per owner and protected asset, how its handshakes
 * will be checked with these options (a key log given or not, the
 * baseline's endpoints for it). */
void policy_coverage_plan(const struct policy *p, int keylog, const struct fp_baseline *b,
                          FILE *f);

#endif
