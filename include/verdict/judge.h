/*
 * judge.h - the one place where a chain (or a handshake without one)
 * becomes verdicts, for every input: the engine's handshakes, certificate
 * files (--certs) and CT log entries (--ct-json).
 *
 * The sequence, once: the chain parsed (or found in the chain cache, with
 * its memos), the policy asked for every owner, a stream-mismatch twin per
 * owner when the transport saw two copies of the handshake differ, then -
 * only when some owner alerts, since only alerts carry it - who else would
 * trust the chain, graded once per distinct chain (the cache keeps the
 * grade).  What only the network has (coverage, fingerprint learning, nDPI,
 * the alert tally) stays with the engine, which reads the verdicts.
 *
 * The severity of an alert is a policy decision too (DESIGN.md "Feeds"):
 * verdict_severity, asked by the EVE writer.
 */
#ifndef CS_JUDGE_H
#define CS_JUDGE_H

#include <stddef.h>
#include <stdint.h>

#include "verdict/policy.h"
#include "verdict/truststore.h"

struct chain_cache;
struct chain_entry;
struct fp_result;
struct tls_cert;
struct x509_info;

/* What the judge decides with; views, shared by all the judge's calls. */
struct judge {
	const struct policy *pol;          /* NULL: nothing is protected */
	const struct trust_stores *trust;  /* NULL: graded by the chain alone */
	struct chain_cache *cc;            /* NULL: no chain kept between calls */
};

/* One handshake, or one chain without packets.  Views. */
struct judge_input {
	/* The endpoint, when there is one: family AF_INET or AF_INET6 and the
	 * server's address (16 bytes, IPv4 in the first 4); family 0 for an
	 * input without packets (only the leaf's names can then concern an
	 * owner). */
	int family;
	const uint8_t *server_ip;
	const char *sni;                   /* NULL when none */
	enum policy_hs hs;
	const char *note;                  /* why the handshake has no chain, or NULL */
	const struct fp_result *fp;        /* TLS 1.3 not read: its fingerprint check, or NULL */
	unsigned stream_mismatch;          /* REASM_DIFF_* (reasm.h): a copy differed */
	const struct tls_cert *der;        /* the chain as sent, leaf first; n may be 0 */
	size_t n;
	/* der already parsed by the caller (n of them: certfile keeps parsed
	 * issuers of its own), or NULL: the judge parses, through the chain
	 * cache when there is one. */
	const struct x509_info *certs;
	/* Only alerts will be written (files, CT): the chain's SHA-256, which
	 * only events use, is then worked out only when some owner alerts. */
	int alerts_only;
};

/* A chain as the event writes it: the bytes and what was read from them.
 * Views, valid until judge_release. */
struct chain_view {
	const struct tls_cert *der;        /* as sent: tls.chain and the evidence PEM */
	size_t n;
	const struct x509_info *certs;     /* n parsed, or NULL when n == 0 */
	const char *sha256;                /* chain_cache_key in hex; NULL: no chain
	                                      (or alerts_only and nobody alerts) */
};

/* The judge's answer. */
struct judge_verdicts {
	struct chain_view chain;
	struct policy_result *res;         /* the caller's array (judge_run's res) */
	size_t n_res;                      /* one per owner concerned, then the twins */
	int alert;                         /* some result is an alert */
	const struct trust_memo *trust;    /* who else trusts the chain; NULL: not
	                                      graded (nobody alerts, or no chain) */
	/* The judge's own, for judge_release. */
	struct chain_entry *ce;            /* the cache's entry, or NULL */
	struct x509_info *owned;           /* parsed here outside the cache, or NULL */
	struct trust_memo trust_local;     /* the grade when there is no entry */
	char sha_hex[2 * 32 + 1];
};

/* Results an array must have room for under pol: each owner concerned,
 * and its stream-mismatch twin.  0 when pol is NULL. */
size_t judge_max_results(const struct policy *pol);

/* Judge in into out, the results written to res[0..max_res) (at most
 * judge_max_results(j->pol) of them are used; with fewer slots the policy
 * fills half and the twins the rest).  0; or -1 when the chain could not
 * be parsed (out of memory): then nothing is to be released.  The cache
 * entry in out stays valid until the next chain_cache_get on j->cc:
 * release before judging again. */
int judge_run(const struct judge *j, const struct judge_input *in, struct policy_result *res,
              size_t max_res, struct judge_verdicts *out);
/* Frees what judge_run parsed outside the cache; out's views end here. */
void judge_release(struct judge_verdicts *v);

/* Suricata's alert.severity (1 is the most urgent) of a verdict, given who
 * else trusts its chain (t may be NULL): see judge.c. */
#define VERDICT_SEV_CRITICAL 1
#define VERDICT_SEV_MAJOR    2
#define VERDICT_SEV_MINOR    3
int verdict_severity(enum verdict v, const struct trust_memo *t);
/* Is v a verdict on the chain itself (then graded by who else trusts it)? */
int verdict_is_chain(enum verdict v);

#endif
