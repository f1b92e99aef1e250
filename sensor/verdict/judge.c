/*
 * judge.c - chain -> policy -> stream-mismatch twins -> trust grade, for
 * every input (see include/verdict/judge.h), and the severity of an
 * alert.  Must not: write events, count coverage or learn fingerprints
 * (the engine's), touch flows or files.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/digest.h"
#include "transport/reasm.h"
#include "verdict/chaincache.h"
#include "verdict/judge.h"
#include "verdict/reason.h"
#include "x509/x509.h"

size_t judge_max_results(const struct policy *pol)
{
	return pol ? 2 * policy_owner_count(pol) : 0;
}

/* The handshake bytes were seen twice with different content (DESIGN:
 * "Reassembly"): every owner concerned gets a second result saying so,
 * whatever the verdict on the copy that was verified.  res has room for
 * n more.  Returns how many were added. */
static size_t add_mismatch(struct policy_result *res, size_t n, unsigned diff)
{
	for (size_t i = 0; i < n; i++) {
		struct policy_result *m = &res[n + i];
		char what[192];

		reason_target(&res[i], what, sizeof(what));
		*m = res[i];
		m->verdict = VERDICT_STREAM_MISMATCH;
		m->anchor[0] = '\0';
		m->anchor_cert = -1;
		if (diff & REASM_DIFF_RETRANS)
			snprintf(m->reason, sizeof(m->reason),
			         "A retransmission of the TLS handshake of a certificate %s (owner "
			         "%.64s) carried different bytes from the first copy, which is the one "
			         "verified: the client may have accepted another certificate; treat as "
			         "an active attack on the path and capture the traffic at the client.",
			         what, res[i].owner);
		else
			snprintf(m->reason, sizeof(m->reason),
			         "A segment with a bad TCP checksum carried different bytes of the TLS "
			         "handshake of a certificate %s (owner %.64s) from the valid copy, "
			         "which is the one verified: a decoy injected for the sensor (the "
			         "client's TCP drops it) or a copy damaged on the way to the sensor; "
			         "treat as an attack on the path until the capture path is ruled out.",
			         what, res[i].owner);
	}
	return n;
}

/* The chain parsed (the caller's, the cache's, or parsed here: owned by
 * out until judge_release).  0, or -1 out of memory. */
static int judge_chain(const struct judge *j, const struct judge_input *in,
                       struct judge_verdicts *out)
{
	out->chain.der = in->der;
	out->chain.n = in->n;
	if (in->n == 0)
		return 0;
	if (in->certs) {
		out->chain.certs = in->certs;
	} else {
		out->ce = chain_cache_get(j->cc, in->der, in->n);
		out->chain.certs = out->ce ? out->ce->certs :
		                   (out->owned = chain_parse(in->der, in->n));
		if (!out->chain.certs)
			return -1;
	}
	return 0;
}

/* The chain's key in hex into out->chain.sha256: the cache entry's, or
 * hashed now. */
static void judge_chain_key(const struct judge_input *in, struct judge_verdicts *out)
{
	uint8_t key[32];

	if (in->n == 0)
		return;
	if (out->ce)
		memcpy(key, out->ce->key, sizeof(key));
	if (out->ce || chain_cache_key(in->der, in->n, key) == 0) {
		digest_hex(key, sizeof(key), out->sha_hex, 0, 0);
		out->chain.sha256 = out->sha_hex;
	}
}

/* The policy's results into res: one per owner concerned. */
static size_t judge_policy(const struct judge *j, const struct judge_input *in,
                           const struct judge_verdicts *v, struct policy_result *res,
                           size_t max)
{
	struct policy_input pin;

	if (!j->pol)
		return 0;
	memset(&pin, 0, sizeof(pin));
	pin.family = in->family;
	if (in->server_ip)
		memcpy(pin.server_ip, in->server_ip, sizeof(pin.server_ip));
	pin.sni = in->sni;
	pin.hs = in->hs;
	pin.note = in->note;
	pin.fp = in->fp;
	pin.certs = v->chain.certs;
	pin.n_certs = v->chain.n;
	pin.memo = v->ce ? v->ce->memo : NULL;
	return policy_evaluate(j->pol, &pin, res, max);
}

int judge_run(const struct judge *j, const struct judge_input *in, struct policy_result *res,
              size_t max_res, struct judge_verdicts *out)
{
	memset(out, 0, sizeof(*out));
	if (judge_chain(j, in, out) < 0)
		return -1;
	out->res = res;
	/* Half the room, so that each result can get its twin. */
	out->n_res = judge_policy(j, in, out, res, max_res / 2);
	if (in->stream_mismatch)
		out->n_res += add_mismatch(res, out->n_res, in->stream_mismatch);
	for (size_t i = 0; i < out->n_res; i++)
		if (verdict_is_alert(res[i].verdict))
			out->alert = 1;
	if (out->alert || !in->alerts_only)
		judge_chain_key(in, out);
	if (out->alert && out->chain.certs) {
		/* Graded once per distinct chain: the grade is kept with it in
		 * the cache (trust_classify reads a memo already done). */
		struct trust_memo *tm = out->ce ? &out->ce->trust : &out->trust_local;

		trust_classify(j->trust, out->chain.certs, out->chain.n, tm);
		out->trust = tm;
		/* What to do depends on the grade: the reasons end with it. */
		for (size_t i = 0; i < out->n_res; i++)
			reason_advise(&res[i], out->chain.certs, out->chain.n, tm,
			              trust_count(j->trust));
	}
	return 0;
}

void judge_release(struct judge_verdicts *v)
{
	chain_free(v->owned, v->chain.n);
	v->owned = NULL;
	v->ce = NULL;
	v->chain.certs = NULL;
}

/* ---- severity -------------------------------------------------------- */

/* Suricata's numbers (1 is the most urgent) and ET's signature_severity
 * words.  A chain verdict is graded by who else would trust the chain
 * (DESIGN.md "Feeds"): a public root program's CA misissued for the owner
 * (Critical), a CA no loaded program trusts - an interception proxy, a
 * private CA - (Major), nothing verifies it - self-signed, issuer not
 * sent, broken signature - (Minor).  A forged issuer impersonates an
 * approved CA: active interception, never below Major.  What could not be
 * verified (unverified handshake, a fingerprint) is Minor: evidence, not
 * proof. */
int verdict_is_chain(enum verdict v)
{
	return v == VERDICT_SELF_SIGNED || v == VERDICT_FORGED_ISSUER ||
	       v == VERDICT_UNAPPROVED_ISSUER || v == VERDICT_UNVERIFIABLE_CHAIN;
}

int verdict_severity(enum verdict v, const struct trust_memo *t)
{
	int sev;

	if (v == VERDICT_STREAM_MISMATCH)
		return VERDICT_SEV_MAJOR;
	if (!verdict_is_chain(v))
		return VERDICT_SEV_MINOR;
	switch (t ? (enum trust_class)t->cls : TRUST_UNKNOWN) {
	case TRUST_PUBLIC:  sev = VERDICT_SEV_CRITICAL; break;
	case TRUST_PRIVATE: sev = VERDICT_SEV_MAJOR; break;
	default:            sev = VERDICT_SEV_MINOR; break;
	}
	if (v == VERDICT_FORGED_ISSUER && sev > VERDICT_SEV_MAJOR)
		sev = VERDICT_SEV_MAJOR;
	return sev;
}
