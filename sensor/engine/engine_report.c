/*
 * engine_report.c - the event of one handshake: the endpoint and the TLS
 * session read, the fingerprint checked, the judge asked (judge.h: chain,
 * policy, stream-mismatch twins, trust), then what only the network has -
 * coverage, fingerprint learning, nDPI, the alert tally per owner - and
 * output_handshake.  Must not: touch the flow table or the reassembly
 * (engine.c, engine_tcp.c own them), or judge a chain itself.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>

#include "core/buf.h"
#include "analyser/classify.h"
#include "verdict/coverage.h"
#include "capture/decode.h"
#include "capture/defrag.h"
#include "engine_int.h"
#include "verdict/fingerprint.h"
#include "flow/flow.h"
#include "secrets/keylog.h"
#include "transport/reasm.h"
#include "core/stats.h"
#include "analyser/tls.h"
#include "verdict/judge.h"
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

static void fill_endpoint(const struct engine *e, const struct flow *f, struct ev_endpoint *ep)
{
	int cs = f->client < 0 ? 0 : f->client;

	memset(ep, 0, sizeof(*ep));
	ep->flow_id = flow_id(f);
	ep->family = f->key.family;
	ep->client_ip = f->key.addr[cs];
	ep->server_ip = f->key.addr[!cs];
	ep->client_port = f->key.port[cs];
	ep->server_port = f->key.port[!cs];
	ep->vlan = f->key.vlan;
	ep->n_vlan = f->key.n_vlan;
	ep->capture_file = e->source;
	ep->in_iface = f->iface < e->n_ifaces ? e->ifaces[f->iface] : NULL;
}

/* Why a handshake that ended before its certificates was not checked:
 * what stopped the parser, else what ended the flow (its note). */
static enum coverage_class incomplete_class(const struct flow_hs *hs,
                                            const struct tls_session *t, const char *note)
{
	if (t->t13_outcome == T13_AUTH_FAIL || t->t13_outcome == T13_FAILED)
		return COV_DECRYPT_FAILED;
	if (t->decision == TLS_DEC_LIMIT || note == engine_note_limit ||
	    note == engine_note_evicted || engine_quic_limited(hs))
		return COV_LIMIT;
	if (note == engine_note_gap)
		return COV_GAP;
	if (t->decision == TLS_DEC_ERROR || t->decision == TLS_DEC_NOT_TLS)
		return COV_MALFORMED;
	return COV_TRUNCATED;
}

/* A TLS 1.3 (or QUIC) handshake whose certificates stayed encrypted. */
static enum coverage_class encrypted_class(const struct flow_hs *hs,
                                           const struct tls_session *t,
                                           const struct fp_result *fp)
{
	if (fp && fp->outcome == FP_MATCH)
		return COV_FINGERPRINT;
	if (fp && fp->outcome == FP_CHANGED)
		return COV_FP_CHANGED;
	switch (t->t13_outcome) {
	case T13_NO_KEY:            return COV_NO_KEY;
	case T13_NO_RANDOM:         return COV_MIDSTREAM;
	case T13_UNSUPPORTED:       return COV_UNSUPPORTED;
	case T13_AUTH_FAIL:
	case T13_FAILED:            return COV_DECRYPT_FAILED;
	case T13_DECOMPRESS_FAILED: return COV_MALFORMED;
	case T13_PSK:               return COV_RESUMED;
	default:
		return engine_quic_flow(hs) ? COV_QUIC_NO_KEYLOG : COV_TLS13_NO_KEYLOG;
	}
}

/* How far one handshake was checked for one owner (coverage.h): alerting
 * says whether the owner's verdicts on it alert. */
static enum coverage_class coverage_of(const struct flow_hs *hs, const struct tls_session *t,
                                       enum policy_hs kind, const struct fp_result *fp,
                                       const char *note, int alerting)
{
	switch (kind) {
	case POLICY_HS_CHAIN:
		return alerting ? COV_ALERTING : COV_APPROVED;
	case POLICY_HS_RESUMED:
		return COV_RESUMED;
	case POLICY_HS_ENCRYPTED:
		return encrypted_class(hs, t, fp);
	case POLICY_HS_INCOMPLETE:
	default:
		return incomplete_class(hs, t, note);
	}
}

/* Does owner's result i alert, itself or by a stream-mismatch twin (the
 * judge puts a twin after the owner's result it copies)? */
static int owner_alerts(const struct policy_result *res, size_t n, size_t i)
{
	if (verdict_is_alert(res[i].verdict))
		return 1;
	for (size_t j = 0; j < n; j++)
		if (res[j].verdict == VERDICT_STREAM_MISMATCH && res[j].owner == res[i].owner)
			return 1;
	return 0;
}

/* By text: an entry written twice in the rules is one asset, as it is
 * one coverage row. */
static int same_asset(const struct policy_asset *x, const struct policy_asset *y)
{
	return x->entry && y->entry && strcmp(x->entry, y->entry) == 0 &&
	       strcmp(x->type, y->type) == 0;
}

/* The ways one result matched one asset (1 << COV_M_*): the matches
 * whose entry is that asset's. */
static unsigned asset_matches(const struct policy_result *r, size_t a)
{
	unsigned bits = 0;

	for (size_t m = 0; m < r->n_matched; m++) {
		int kind = coverage_match_of(r->matched[m]);

		if (kind >= 0 && same_asset(&r->asset[m], &r->asset[a]))
			bits |= 1u << kind;
	}
	return bits;
}

/* Is asset a of r the first match of its entry (so counted once)? */
static int asset_first(const struct policy_result *r, size_t a)
{
	for (size_t m = 0; m < a; m++)
		if (same_asset(&r->asset[m], &r->asset[a]))
			return 0;
	return 1;
}

/* Every owner concerned, under every protected entry it matched, once
 * per entry; and the handshake once for the run (alerting when any
 * owner's is). */
static void count_coverage(struct engine *e, const struct flow_hs *hs,
                           const struct tls_session *t, enum policy_hs kind,
                           const struct fp_result *fp, const char *note,
                           const struct policy_result *res, size_t n)
{
	enum coverage_class worst = COV_N;

	if (!e->o.coverage)
		return;
	for (size_t i = 0; i < n; i++) {
		enum coverage_class cls;

		if (res[i].verdict == VERDICT_STREAM_MISMATCH)
			continue;   /* the second result of one handshake */
		cls = coverage_of(hs, t, kind, fp, note, owner_alerts(res, n, i));
		if (worst == COV_N || cls == COV_ALERTING || cls == COV_FP_CHANGED)
			worst = cls;
		for (size_t a = 0; a < res[i].n_matched; a++)
			if (res[i].asset[a].entry && asset_first(&res[i], a))
				coverage_count(e->o.coverage, res[i].owner, res[i].asset[a].type,
				               res[i].asset[a].entry, cls, asset_matches(&res[i], a));
	}
	if (worst != COV_N)
		coverage_handshake(e->o.coverage, worst);
}

/* A TLS 1.3 handshake whose certificates were not read, as the
 * fingerprint sees it. */
static void fp_observe(const struct flow *f, const struct tls_session *t,
                       const struct ev_endpoint *ep, struct fp_obs *o)
{
	memset(o, 0, sizeof(*o));
	o->family = ep->family;
	memcpy(o->ip, ep->server_ip, 16);
	o->port = ep->server_port;
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

/* The chain's certificates, counted as seen (the network's counters:
 * files and CT count their own). */
static void count_certs(const struct chain_view *c)
{
	for (size_t i = 0; i < c->n; i++) {
		g_stats.certs_seen++;
		if (!c->certs[i].parsed)
			g_stats.certs_unparsable++;
	}
}

/* What a report holds of the fingerprint: the flight seen and its check. */
struct report_fp {
	struct fp_obs obs;
	struct fp_result fp;
	int on;                           /* the flight has a fingerprint */
	int checked;                      /* fp holds a check against the baseline */
};

/* A TLS 1.3 flight's shape, checked against the baseline (if any). */
static void report_fingerprint(struct engine *e, const struct flow *f,
                               const struct tls_session *t, const struct ev_endpoint *ep,
                               enum policy_hs hs, struct report_fp *rf)
{
	rf->on = fingerprinting(e) && fp_applies(t, hs);
	if (!rf->on)
		return;
	fp_observe(f, t, ep, &rf->obs);
	if (!e->o.baseline)
		return;
	fp_check(e->o.baseline, &rf->obs, &rf->fp);
	rf->checked = 1;
	if (rf->fp.outcome == FP_MATCH)
		g_stats.fp_match++;
	else if (rf->fp.outcome == FP_CHANGED)
		g_stats.fp_changed++;
	else
		g_stats.fp_no_baseline++;
}

/* The judge's input for a handshake: its endpoint, what the parser found
 * and the transport saw, and the chain as sent. */
static void judge_input_of(const struct tls_session *t, const struct ev_endpoint *ep,
                           const struct ev_tls *tl, struct judge_input *in)
{
	memset(in, 0, sizeof(*in));
	in->family = ep->family == 4 ? AF_INET : AF_INET6;
	in->server_ip = ep->server_ip;
	in->sni = t->sni[0] ? t->sni : NULL;
	in->hs = tl->hs;
	in->note = tl->hs_note;
	in->fp = tl->fp;
	in->stream_mismatch = tl->stream_mismatch;
	in->der = t->certs;
	in->n = t->n_certs;
}

/* Everything the engine adds around the judge: the handshake counted, the
 * fingerprint checked, the judge asked, coverage counted and the
 * fingerprint learnt, nDPI finished, the event written and the alerts
 * tallied per owner. */
void engine_report(struct engine *e, struct flow *f, const char *note)
{
	struct flow_hs *hs = f->hs;
	/* The one read of the analyser's state: the rest takes t. */
	const struct tls_session *t = engine_tls(hs);
	const struct judge j = { e->o.pol, e->o.trust, e->cc };
	struct classify_result ndpi;
	struct judge_verdicts v;
	struct judge_input in;
	struct ev_endpoint ep;
	struct report_fp rf;
	struct ev_tls tl;
	struct ev_quic qv;
	struct hs_event ev;
	int n;

	memset(&ndpi, 0, sizeof(ndpi));   /* valid = 0: no nDPI object */
	memset(&rf, 0, sizeof(rf));
	memset(&tl, 0, sizeof(tl));
	fill_endpoint(e, f, &ep);
	tl.session = t;
	tl.hs = hs_kind(t);
	tl.hs_note = note ? note : (t->error[0] ? t->error : NULL);
	tl.stream_mismatch = hs->rd[0].overlap_diff | hs->rd[1].overlap_diff |
	                     engine_quic_mismatch(hs);
	tl.bad_checksum_bytes = hs->rd[0].tent_used + hs->rd[1].tent_used;
	count_handshake(t, tl.hs);
	report_fingerprint(e, f, t, &ep, tl.hs, &rf);
	tl.fp = rf.checked ? &rf.fp : NULL;
	judge_input_of(t, &ep, &tl, &in);
	if (judge_run(&j, &in, e->res, e->max_res, &v) < 0)
		return;   /* out of memory parsing the chain: nothing judged */
	count_certs(&v.chain);
	/* Coverage and learning look at the owners' own results, not at the
	 * stream-mismatch twins (count_coverage passes them over, and a twin
	 * matches what its owner's result matched). */
	count_coverage(e, hs, t, tl.hs, tl.fp, tl.hs_note, v.res, v.n_res);
	if (rf.on && e->o.learn)
		fp_learn_protected(e, &rf.obs, v.res, v.n_res);
	if (hs->cf && e->ndpi) {
		classify_finish(e->ndpi, hs->cf, &ndpi);
		classify_flow_free(hs->cf);
		hs->cf = NULL;
	}
	tl.ndpi = &ndpi;
	tl.pkts = hs->pkts.n ? &hs->pkts : NULL;
	memset(&ev, 0, sizeof(ev));
	ev.ts_us = hs->confirming ? hs->decided_ts : e->now;
	ev.endpoint = &ep;
	ev.chain = &v.chain;
	ev.verdicts = &v;
	ev.tls = &tl;
	if (engine_quic_flow(hs)) {
		memset(&qv, 0, sizeof(qv));
		qv.version = engine_quic_version(hs);
		engine_quic_counts(hs, &qv.opened, &qv.auth_failed);
		ev.quic = &qv;
	}
	n = output_handshake(e->o.out, e->o.feed, &ev);
	if (n > 0)
		for (size_t i = 0; i < v.n_res; i++)
			if (verdict_is_alert(v.res[i].verdict))
				count_alert(e, v.res[i].owner, v.res[i].verdict);
	judge_release(&v);
}
