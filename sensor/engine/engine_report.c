/*
 * engine_report.c - the verdict and the event of one handshake: its chain
 * parsed (or found in the chain cache), the policy asked, coverage and
 * fingerprints counted, the stream-mismatch results added, the trust
 * stores' grade, then output_handshake.  Must not: touch the flow table
 * or the reassembly (engine.c, engine_tcp.c own them).
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>

#include "core/buf.h"
#include "verdict/chaincache.h"
#include "analyser/classify.h"
#include "verdict/coverage.h"
#include "capture/decode.h"
#include "capture/defrag.h"
#include "core/digest.h"
#include "engine_int.h"
#include "verdict/fingerprint.h"
#include "flow/flow.h"
#include "secrets/keylog.h"
#include "transport/reasm.h"
#include "core/stats.h"
#include "analyser/tls.h"
#include "x509/x509.h"

static void count_alert(struct engine *e, const char *owner, enum verdict v)
{
	struct alert_count *n;

	e->alerts++;
	g_stats.alerts++;
	for (size_t i = 0; i < e->n_ac; i++)
		if (e->ac[i].verdict == v && strcmp(e->ac[i].owner, owner) == 0) {
			e->ac[i].n++;
			return;
		}
	n = realloc(e->ac, (e->n_ac + 1) * sizeof(*n));
	if (!n)
		return;   /* the alert itself was written; only the tally is short */
	e->ac = n;
	e->ac[e->n_ac].owner = strdup(owner);
	if (!e->ac[e->n_ac].owner)
		return;
	e->ac[e->n_ac].verdict = v;
	e->ac[e->n_ac].n = 1;
	e->n_ac++;
}

static enum policy_hs hs_kind(const struct tls_session *t)
{
	switch (t->decision) {
	case TLS_DEC_CERTS:   return POLICY_HS_CHAIN;
	case TLS_DEC_TLS13:   return POLICY_HS_ENCRYPTED;
	case TLS_DEC_RESUMED:
	case TLS_DEC_NO_CERT: return POLICY_HS_RESUMED;
	default:              return POLICY_HS_INCOMPLETE;
	}
}

static void count_handshake(const struct tls_session *t, enum policy_hs kind)
{
	if (t->sh_seen)
		g_stats.hs_by_version[tls_version_index(t->version)]++;
	if (t->t13_outcome == T13_DECRYPTED && kind == POLICY_HS_CHAIN)
		g_stats.hs_tls13_decrypted++;
	if (kind == POLICY_HS_ENCRYPTED)
		g_stats.hs_tls13++;
	else if (kind == POLICY_HS_RESUMED)
		g_stats.hs_resumed++;
	else if (kind == POLICY_HS_INCOMPLETE)
		g_stats.hs_incomplete++;
}

static void fill_event(const struct engine *e, const struct flow *f, struct hs_event *ev)
{
	int cs = f->client < 0 ? 0 : f->client;

	memset(ev, 0, sizeof(*ev));
	ev->ts_us = f->hs && f->hs->confirming ? f->hs->decided_ts : e->now;
	ev->flow_id = flow_id(f);
	ev->family = f->key.family;
	ev->client_ip = f->key.addr[cs];
	ev->server_ip = f->key.addr[!cs];
	ev->client_port = f->key.port[cs];
	ev->server_port = f->key.port[!cs];
	ev->vlan = f->key.vlan;
	ev->n_vlan = f->key.n_vlan;
	ev->capture_file = e->source;
}

/* The handshake bytes were seen twice with different content (DESIGN:
 * "Reassembly"): every owner concerned gets a second result saying so,
 * whatever the verdict on the copy that was verified.  res has room for
 * n more.  Returns how many were added. */
static size_t add_mismatch(struct policy_result *res, size_t n, unsigned diff)
{
	for (size_t i = 0; i < n; i++) {
		struct policy_result *m = &res[n + i];
		const char *what = res[i].n_matched ? res[i].matched[0] : "endpoint";

		*m = res[i];
		m->verdict = VERDICT_STREAM_MISMATCH;
		m->anchor[0] = '\0';
		m->anchor_cert = -1;
		if (diff & REASM_DIFF_RETRANS)
			snprintf(m->reason, sizeof(m->reason),
			         "A retransmission of the TLS handshake with protected %.96s (owner "
			         "%.64s) carried different bytes from the first copy, which is the one "
			         "verified: the client may have accepted another certificate; treat as "
			         "an active attack on the path and capture the traffic at the client.",
			         what, res[i].owner);
		else
			snprintf(m->reason, sizeof(m->reason),
			         "A segment with a bad TCP checksum carried different bytes of the TLS "
			         "handshake with protected %.96s (owner %.64s) from the valid copy, "
			         "which is the one verified: a decoy injected for the sensor (the "
			         "client's TCP drops it) or a copy damaged on the way to the sensor; "
			         "treat as an attack on the path until the capture path is ruled out.",
			         what, res[i].owner);
	}
	return n;
}

/* How far one handshake was checked (coverage.h). */
static enum coverage_class coverage_of(const struct tls_session *t, enum policy_hs hs,
                                       const struct fp_result *fp)
{
	if (hs == POLICY_HS_ENCRYPTED && fp && fp->outcome != FP_NO_BASELINE)
		return COV_FINGERPRINT;
	switch (hs) {
	case POLICY_HS_CHAIN:
		return t->t13_outcome != T13_NONE ? COV_VERIFIED_TLS13 : COV_VERIFIED;
	case POLICY_HS_RESUMED:
		return COV_RESUMED;
	case POLICY_HS_ENCRYPTED:
		switch (t->t13_outcome) {
		case T13_NO_KEY:      return COV_NO_KEY;
		case T13_NO_RANDOM:   return COV_MIDSTREAM;
		case T13_UNSUPPORTED:
		case T13_COMPRESSED:  return COV_UNSUPPORTED;
		case T13_AUTH_FAIL:
		case T13_FAILED:      return COV_DECRYPT_FAILED;
		default:              return COV_NO_KEYLOG;
		}
	case POLICY_HS_INCOMPLETE:
	default:
		return t->t13_outcome == T13_AUTH_FAIL || t->t13_outcome == T13_FAILED ?
		       COV_DECRYPT_FAILED : COV_INCOMPLETE;
	}
}

/* Every owner concerned, under every asset it matched. */
static void count_coverage(struct engine *e, const struct tls_session *t, enum policy_hs hs,
                           const struct fp_result *fp, const struct policy_result *res,
                           size_t n)
{
	enum coverage_class cls = coverage_of(t, hs, fp);

	if (!e->o.coverage)
		return;
	for (size_t i = 0; i < n; i++) {
		if (res[i].verdict == VERDICT_STREAM_MISMATCH)
			continue;   /* the second result of one handshake */
		for (size_t m = 0; m < res[i].n_matched; m++)
			coverage_count(e->o.coverage, res[i].owner, res[i].matched[m], cls);
	}
}

/* A TLS 1.3 handshake whose certificates were not read, as the
 * fingerprint sees it. */
static void fp_observe(const struct flow *f, const struct hs_event *ev, struct fp_obs *o)
{
	const struct tls_session *t = ev->tls;

	memset(o, 0, sizeof(*o));
	o->family = ev->family;
	memcpy(o->ip, ev->server_ip, 16);
	o->port = ev->server_port;
	o->sni = t->sni[0] ? t->sni : NULL;
	o->ja3s = t->ja3s;
	o->cipher = t->cipher;
	o->group = t->sh_group;
	o->records = t->flight_records;
	o->bytes = t->flight_bytes;
	o->largest = t->flight_largest;
	o->synack.ttl = f->sa_ttl;
	o->synack.wscale = f->sa_wscale;
	o->synack.mss = f->sa_mss;
	o->synack.win = f->sa_win;
	o->synack.opts = f->sa_opts;
}

/* Only a full TLS 1.3 handshake whose flight was seen has a fingerprint. */
static int fp_applies(const struct tls_session *t, enum policy_hs hs)
{
	return hs == POLICY_HS_ENCRYPTED && t->version == 0x0304 && t->flight_records > 0 &&
	       (t->t13_outcome == T13_NO_KEY || t->t13_outcome == T13_NOT_READ);
}

/* Learn the handshake's shape when an owner protects its endpoint (the
 * server address or the SNI: what --baseline will be asked about). */
static void fp_learn_protected(struct engine *e, const struct fp_obs *o,
                               const struct policy_result *res, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (size_t m = 0; m < res[i].n_matched; m++)
			if (strncmp(res[i].matched[m], "ip:", 3) == 0 ||
			    strncmp(res[i].matched[m], "sni:", 4) == 0) {
				fp_learn(e->o.learn, o);
				g_stats.fp_learned++;
				return;
			}
}

static int any_alert(const struct policy_result *res, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (verdict_is_alert(res[i].verdict))
			return 1;
	return 0;
}

/* What a report holds while it is made: the chain and its cache entry,
 * the fingerprint seen and its check. */
struct report_ctx {
	struct chain_entry *ce;           /* the chain cache's, or NULL */
	struct x509_info *certs;          /* ce->certs, or parsed here (freed by report) */
	char chain_hex[2 * 32 + 1];
	struct fp_obs obs;
	struct fp_result fp;
	int fp_on;
};

/* The chain of t, from the chain cache or parsed now, into ev: 0, or -1
 * when it could not be parsed (out of memory). */
static int report_chain(struct engine *e, const struct tls_session *t, struct report_ctx *rc,
                        struct hs_event *ev)
{
	uint8_t key[32];

	if (t->n_certs) {
		rc->ce = chain_cache_get(e->cc, t->certs, t->n_certs);
		rc->certs = rc->ce ? rc->ce->certs : chain_parse(t->certs, t->n_certs);
		if (!rc->certs)
			return -1;
		for (size_t i = 0; i < t->n_certs; i++) {
			g_stats.certs_seen++;
			if (!rc->certs[i].parsed)
				g_stats.certs_unparsable++;
		}
		if (rc->ce)
			memcpy(key, rc->ce->key, sizeof(key));
		if (rc->ce || chain_cache_key(t->certs, t->n_certs, key) == 0) {
			digest_hex(key, sizeof(key), rc->chain_hex, 0, 0);
			ev->chain_sha256 = rc->chain_hex;
		}
	}
	ev->certs = rc->certs;
	ev->n_certs = t->n_certs;
	return 0;
}

/* A TLS 1.3 flight's shape, checked against the baseline (if any). */
static void report_fingerprint(struct engine *e, const struct flow *f, struct report_ctx *rc,
                               struct hs_event *ev)
{
	rc->fp_on = fingerprinting(e) && fp_applies(ev->tls, ev->hs);
	if (!rc->fp_on)
		return;
	fp_observe(f, ev, &rc->obs);
	if (!e->o.baseline)
		return;
	fp_check(e->o.baseline, &rc->obs, &rc->fp);
	ev->fp = &rc->fp;
	if (rc->fp.outcome == FP_MATCH)
		g_stats.fp_match++;
	else if (rc->fp.outcome == FP_CHANGED)
		g_stats.fp_changed++;
	else
		g_stats.fp_no_baseline++;
}

/* The policy's results for the handshake into e->res: how many. */
static size_t report_policy(struct engine *e, const struct report_ctx *rc,
                            const struct hs_event *ev)
{
	const struct tls_session *t = ev->tls;
	struct policy_result *res = e->res;
	struct policy_input in;
	size_t n_res;

	if (!e->o.pol)
		return 0;
	memset(&in, 0, sizeof(in));
	in.family = ev->family == 4 ? AF_INET : AF_INET6;
	memcpy(in.server_ip, ev->server_ip, 16);
	in.sni = t->sni[0] ? t->sni : NULL;
	in.hs = ev->hs;
	in.note = ev->hs_note;
	in.fp = ev->fp;
	in.certs = rc->certs;
	in.n_certs = ev->n_certs;
	in.memo = rc->ce ? rc->ce->memo : NULL;
	n_res = policy_evaluate(e->o.pol, &in, res, e->max_res / 2);
	count_coverage(e, t, ev->hs, ev->fp, res, n_res);
	if (rc->fp_on && e->o.learn)
		fp_learn_protected(e, &rc->obs, res, n_res);
	if (ev->stream_mismatch)
		n_res += add_mismatch(res, n_res, ev->stream_mismatch);
	return n_res;
}

void engine_report(struct engine *e, struct flow *f, const char *note)
{
	struct flow_hs *hs = f->hs;
	const struct tls_session *t = engine_tls(hs);
	struct policy_result *res = e->res;
	struct classify_result ndpi;
	struct trust_memo trust_local;
	struct report_ctx rc;
	struct hs_event ev;
	int n;

	memset(&ndpi, 0, sizeof(ndpi));   /* valid = 0: no nDPI object */
	memset(&rc, 0, sizeof(rc));
	fill_event(e, f, &ev);
	ev.tls = t;
	ev.hs = hs_kind(t);
	ev.hs_note = note ? note : (t->error[0] ? t->error : NULL);
	ev.stream_mismatch = hs->rd[0].overlap_diff | hs->rd[1].overlap_diff;
	ev.bad_checksum_bytes = hs->rd[0].tent_used + hs->rd[1].tent_used;
	count_handshake(t, ev.hs);
	if (report_chain(e, t, &rc, &ev) < 0)
		return;
	report_fingerprint(e, f, &rc, &ev);
	ev.n_res = report_policy(e, &rc, &ev);
	ev.res = res;
	if (rc.certs && any_alert(res, ev.n_res)) {
		/* Graded once per distinct chain (kept with it in the cache). */
		struct trust_memo *tm = rc.ce ? &rc.ce->trust : &trust_local;

		if (!rc.ce)
			trust_local.done = 0;
		trust_classify(e->o.trust, rc.certs, ev.n_certs, tm);
		ev.trust = tm;
	}
	if (hs->cf && e->ndpi) {
		classify_finish(e->ndpi, hs->cf, &ndpi);
		classify_flow_free(hs->cf);
		hs->cf = NULL;
	}
	ev.ndpi = &ndpi;
	ev.pkts = hs->pkts.n ? &hs->pkts : NULL;
	n = output_handshake(e->o.out, e->o.feed, &ev);
	if (n > 0)
		for (size_t i = 0; i < ev.n_res; i++)
			if (verdict_is_alert(res[i].verdict))
				count_alert(e, res[i].owner, res[i].verdict);
	if (!rc.ce)
		chain_free(rc.certs, ev.n_certs);
}
