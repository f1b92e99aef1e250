/*
 * reason.h - the words of a verdict's reason (policy_result.reason) that
 * are certsentry's own and shared: what was matched ("for protected X",
 * "presented at protected Y"), why a path was not built (OpenSSL's verify
 * errors in certsentry's words: no OpenSSL phrasing reaches an event), and
 * what to do, which depends on who else trusts the chain (truststore.h):
 * a public CA's certificate is a matter for Certificate Transparency, the
 * CA and its problem reporting address; a private CA's or a self-signed
 * one is an interception point on the path to be found.
 *
 * policy.c writes the facts of a reason; the judge, once the chain is
 * graded, adds the advice (reason_advise).
 */
#ifndef CS_REASON_H
#define CS_REASON_H

#include <stddef.h>

#include "verdict/policy.h"
#include "verdict/truststore.h"

/* A URL read from a certificate, as written into a reason: longer ones
 * are left out rather than cut into another address. */
#define REASON_MAX_URL 128

/* X509_V_ERR_* of a failed path in certsentry's words ("the chain ends at
 * a root this owner has not approved"): one table, never NULL, never
 * OpenSSL's own string. */
const char *reason_verify_words(int x509_verify_error);

/* What r matched, for a sentence: "for protected A" (the certificate
 * names A: SAN or CN), "presented at protected E" (the server's address
 * or SNI is E), or both: "for protected A, presented at protected E"
 * (", presented there" when E is A).  Each value cut to 64 bytes.
 * Returns strlen(out); out always terminated (n > 0). */
size_t reason_target(const struct policy_result *r, char *out, size_t n);

/* The first match of r at the endpoint (ip, sni), else its first match,
 * else "endpoint": the value only ("1.1.1.1" of "ip:1.1.1.1"). */
const char *reason_endpoint(const struct policy_result *r);

/* Appends to r->reason what to do about a chain verdict (self-signed,
 * forged-issuer, unapproved-issuer; any other verdict is left alone),
 * given who else trusts the chain: t (NULL: not graded) and stores, the
 * number of root stores loaded (0: a public CA cannot be told from a
 * private one).  certs[0..n) is the chain as sent, leaf first: a public
 * CA's CPS address is read from it. */
void reason_advise(struct policy_result *r, const struct x509_info *certs, size_t n,
                   const struct trust_memo *t, size_t stores);

/* The CPS URI (RFC 5280 §4.2.1.4 id-qt-cps) of the leaf's certificate
 * policies, else of the presented certificate that issued the leaf: where
 * a public CA publishes its problem reporting address (CA/Browser Forum
 * Baseline Requirements §1.5.2, §4.9.3).  Only an http(s) URL of
 * printable ASCII under REASON_MAX_URL bytes.  1 with out filled, or 0. */
int reason_cps_uri(const struct x509_info *certs, size_t n, char out[REASON_MAX_URL]);

#endif
