/*
 * engine.c - drives each packet through the pipeline (see include/engine.h).
 *
 * Flow life (DESIGN.md): handshake -> decided -> closed.  While a flow is
 * in the handshake phase it owns a struct flow_hs (reassembly buffers,
 * TLS state, nDPI state).  At the decision everything is reported and the
 * flow_hs freed, so a decided flow's packets cost one table look-up and a
 * few counters: no copy, no allocation, no parsing.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>

#include "buf.h"
#include "chaincache.h"
#include "classify.h"
#include "coverage.h"
#include "decode.h"
#include "defrag.h"
#include "digest.h"
#include "engine.h"
#include "fingerprint.h"
#include "flow.h"
#include "keylog.h"
#include "reasm.h"
#include "stats.h"
#include "tls.h"
#include "x509.h"

struct alert_count {
	char *owner;           /* owned copy */
	enum verdict verdict;
	uint64_t n;
};

struct engine {
	struct engine_opts o;
	struct flow_table *ft;        /* owned */
	struct defrag *df;            /* owned */
	struct classify_ctx *ndpi;    /* owned; NULL with no_ndpi */
	struct chain_cache *cc;       /* owned */
	const char *source;           /* not owned */
	uint64_t now;
	uint64_t next_feed_tick;      /* packet time of the next output_feed_tick */
	int keep_packets;             /* --evidence: handshake packets kept */
	uint64_t alerts;
	struct alert_count *ac;       /* owned array */
	size_t n_ac;
	struct policy_result *res;    /* owned: one slot per owner, reused */
	size_t max_res;
	uint64_t ck_valid, ck_invalid;/* checksums checked (CHECKSUM_AUTO) */
	TAILQ_HEAD(, flow_hs) closing;/* flows in their close grace, oldest first */
	uint64_t keylog_read_ts;      /* last keylog_refresh, packet time */
};

/* What a flow record and a handshake state cost against --memcap: their
 * size plus the allocator's own bookkeeping. */
#define MALLOC_OVERHEAD 32u
#define FLOW_CHARGE     (sizeof(struct flow) + MALLOC_OVERHEAD)
/* Flows evicted at most to make room for one new flow or handshake. */
#define EVICT_BURST     64
/* Room made under --memcap, beyond what is allocated at once, before a
 * handshake starts or a segment of it is reassembled: the next buffer
 * growth and nDPI's per-flow state (its TLS dissector's message buffer),
 * so that when the memcap is full the oldest flows are evicted rather
 * than the new handshake starved of its next buffer. */
#define ENGINE_HS_HEADROOM 8192u

static size_t hs_charge(const struct engine *e)
{
	return sizeof(struct flow_hs) + MALLOC_OVERHEAD +
	       (e->ndpi ? classify_flow_size() + 2 * MALLOC_OVERHEAD : 0);
}

/* Are TLS 1.3 flights measured (a baseline to compare with, or one to
 * learn)? */
static int fingerprinting(const struct engine *e)
{
	return e->o.baseline != NULL || e->o.learn != NULL;
}

static int port_inspected(const struct engine *e, uint16_t port)
{
	return e->o.port_map[port >> 3] & (1u << (port & 7));
}

struct engine *engine_new(const struct engine_opts *o, char *err, size_t errlen)
{
	struct engine *e = calloc(1, sizeof(*e));   /* owned by the caller */
	uint8_t seed[16];

	if (!e)
		goto nomem;
	e->o = *o;
	e->keep_packets = output_feed_wants_packets(o->feed);
	TAILQ_INIT(&e->closing);
	if (getrandom(seed, sizeof(seed), 0) != (ssize_t)sizeof(seed)) {
		snprintf(err, errlen, "getrandom failed");
		free(e);
		return NULL;
	}
	e->ft = flow_table_new(o->lim, seed);
	if (!e->ft)
		goto nomem;
	seed[0] ^= 0x5a;   /* a different key for the fragment table */
	e->df = defrag_new(o->lim, seed);
	if (!e->df)
		goto nomem;
	e->cc = chain_cache_new(o->lim->chain_cache, 0);
	if (!e->cc)
		goto nomem;
	if (engine_set_policy(e, o->pol) < 0)
		goto nomem;
	if (!o->no_ndpi) {
		e->ndpi = classify_new();
		if (!e->ndpi) {
			snprintf(err, errlen, "nDPI initialisation failed");
			engine_free(e);
			return NULL;
		}
	}
	return e;
nomem:
	snprintf(err, errlen, "out of memory");
	engine_free(e);
	return NULL;
}

void engine_set_source(struct engine *e, const char *name)
{
	e->source = name;
}

uint64_t engine_alert_count(const struct engine *e)
{
	return e->alerts;
}

size_t engine_alert_table(const struct engine *e, struct eve_alert_count *out, size_t max)
{
	size_t n = e->n_ac < max ? e->n_ac : max;

	if (!out)
		return e->n_ac;
	for (size_t i = 0; i < n; i++) {
		out[i].owner = e->ac[i].owner;
		out[i].verdict = e->ac[i].verdict;
		out[i].n = e->ac[i].n;
	}
	return n;
}

int engine_alert_copy(const struct engine *e, struct eve_alert_count **out, size_t *n)
{
	size_t bytes = e->n_ac * sizeof(**out);
	char *s;

	*out = NULL;
	*n = 0;
	if (e->n_ac == 0)
		return 0;
	for (size_t i = 0; i < e->n_ac; i++)
		bytes += strlen(e->ac[i].owner) + 1;
	*out = malloc(bytes);
	if (!*out)
		return -1;
	*n = engine_alert_table(e, *out, e->n_ac);
	s = (char *)(*out + *n);
	for (size_t i = 0; i < *n; i++) {   /* the names moved into the block */
		size_t len = strlen((*out)[i].owner) + 1;

		memcpy(s, (*out)[i].owner, len);
		(*out)[i].owner = s;
		s += len;
	}
	return 0;
}

/* Every owner may be concerned by one handshake: two result slots each (its
 * verdict, and a stream mismatch), so no owner's result is cut off. */
int engine_set_policy(struct engine *e, const struct policy *pol)
{
	size_t max = pol ? 2 * policy_owner_count(pol) : 0;
	struct policy_result *res = NULL;

	if (max) {
		res = calloc(max, sizeof(*res));
		if (!res)
			return -1;
	}
	free(e->res);
	e->res = res;
	e->max_res = max;
	e->o.pol = pol;
	/* Memos are results under the old policy. */
	chain_cache_reset(e->cc, pol ? policy_owner_count(pol) : 0);
	return 0;
}

void engine_print_alerts(const struct engine *e, FILE *f)
{
	for (size_t i = 0; i < e->n_ac; i++)
		fprintf(f, "  alerts: %s %s %llu\n", e->ac[i].owner,
		        verdict_name(e->ac[i].verdict), (unsigned long long)e->ac[i].n);
}

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

/* ---- handshake end ---------------------------------------------------- */

static int tls13_flight_end(struct engine *e, struct flow *f);

static void hs_free(struct engine *e, struct flow *f)
{
	struct flow_hs *hs = f->hs;

	if (!hs)
		return;
	if (hs->closing_since)
		TAILQ_REMOVE(&e->closing, hs, closing);
	stats_mem_sub(hs_charge(e));
	reasm_free(&hs->rd[0], &hs->mem);
	reasm_free(&hs->rd[1], &hs->mem);
	tls_session_free(&hs->tls);
	classify_flow_free(hs->cf);
	evidence_log_free(&hs->pkts);
	free(hs);
	f->hs = NULL;
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

/* The verdict for one handshake: parse the chain (or find it in the
 * chain cache), ask the policy, write. */
static void report(struct engine *e, struct flow *f, const char *note)
{
	struct flow_hs *hs = f->hs;
	const struct tls_session *t = &hs->tls;
	struct chain_entry *ce = NULL;
	struct x509_info *certs = NULL;
	struct policy_result *res = e->res;
	struct policy_input in;
	struct classify_result ndpi;
	struct hs_event ev;
	struct fp_obs obs;
	struct fp_result fp, *fpp = NULL;
	struct trust_memo trust_local;
	char chain_hex[2 * 32 + 1];
	uint8_t key[32];
	size_t n_res = 0;
	int n, fp_on;

	memset(&ndpi, 0, sizeof(ndpi));   /* valid = 0: no nDPI object */
	fill_event(e, f, &ev);
	ev.tls = t;
	ev.hs = hs_kind(t);
	ev.hs_note = note ? note : (t->error[0] ? t->error : NULL);
	ev.stream_mismatch = hs->rd[0].overlap_diff | hs->rd[1].overlap_diff;
	ev.bad_checksum_bytes = hs->rd[0].tent_used + hs->rd[1].tent_used;
	count_handshake(t, ev.hs);
	if (t->n_certs) {
		ce = chain_cache_get(e->cc, t->certs, t->n_certs);
		certs = ce ? ce->certs : chain_parse(t->certs, t->n_certs);
		if (!certs)
			return;
		for (size_t i = 0; i < t->n_certs; i++) {
			g_stats.certs_seen++;
			if (!certs[i].parsed)
				g_stats.certs_unparsable++;
		}
		if (ce)
			memcpy(key, ce->key, sizeof(key));
		if (ce || chain_cache_key(t->certs, t->n_certs, key) == 0) {
			digest_hex(key, sizeof(key), chain_hex, 0, 0);
			ev.chain_sha256 = chain_hex;
		}
	}
	ev.certs = certs;
	ev.n_certs = t->n_certs;
	fp_on = fingerprinting(e) && fp_applies(t, ev.hs);
	if (fp_on) {
		fp_observe(f, &ev, &obs);
		if (e->o.baseline) {
			fp_check(e->o.baseline, &obs, &fp);
			fpp = &fp;
			if (fp.outcome == FP_MATCH)
				g_stats.fp_match++;
			else if (fp.outcome == FP_CHANGED)
				g_stats.fp_changed++;
			else
				g_stats.fp_no_baseline++;
		}
	}
	if (e->o.pol) {
		memset(&in, 0, sizeof(in));
		in.family = ev.family == 4 ? AF_INET : AF_INET6;
		memcpy(in.server_ip, ev.server_ip, 16);
		in.sni = t->sni[0] ? t->sni : NULL;
		in.hs = ev.hs;
		in.note = ev.hs_note;
		in.fp = fpp;
		in.certs = certs;
		in.n_certs = ev.n_certs;
		in.memo = ce ? ce->memo : NULL;
		n_res = policy_evaluate(e->o.pol, &in, res, e->max_res / 2);
		count_coverage(e, t, ev.hs, fpp, res, n_res);
		if (fp_on && e->o.learn)
			fp_learn_protected(e, &obs, res, n_res);
		if (ev.stream_mismatch)
			n_res += add_mismatch(res, n_res, ev.stream_mismatch);
	}
	ev.res = res;
	ev.n_res = n_res;
	ev.fp = fpp;
	if (certs && any_alert(res, n_res)) {
		/* Graded once per distinct chain (kept with it in the cache). */
		struct trust_memo *tm = ce ? &ce->trust : &trust_local;

		if (!ce)
			trust_local.done = 0;
		trust_classify(e->o.trust, certs, ev.n_certs, tm);
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
		for (size_t i = 0; i < n_res; i++)
			if (verdict_is_alert(res[i].verdict))
				count_alert(e, res[i].owner, res[i].verdict);
	if (!ce)
		chain_free(certs, ev.n_certs);
}

/* Did the server send bytes the sensor could not read in order (a gap, or
 * a limit that stopped its direction)? */
static int server_unread(const struct flow_hs *hs)
{
	const struct reasm_dir *rd = &hs->rd[TLS_SERVER];

	return reasm_has_hole(rd) || rd->state == REASM_STOPPED;
}

/* The report of a parsed chain, deferred until now (see flow_hs). */
static void confirm_done(struct engine *e, struct flow *f)
{
	report(e, f, NULL);
	f->state = FLOW_DECIDED;
	hs_free(e, f);
}

/* End the handshake phase of f: report it if it was TLS, then free.  A
 * ClientHello whose answer the sensor lost is reported too (incomplete):
 * an attacker must not escape by making the sensor miss the server's
 * flight.  One that was never answered is not (a scan, a dead server). */
static void decide(struct engine *e, struct flow *f, const char *note)
{
	const struct tls_session *t = &f->hs->tls;

	if (t->decision == TLS_DEC_CERTS && !note) {
		/* Wait for the client's acknowledgement (DESIGN: "Overlaps"). */
		f->hs->confirming = 1;
		f->hs->confirm_seq = f->hs->rd[TLS_SERVER].next_seq;
		f->hs->decided_ts = e->now;
		reasm_stop(&f->hs->rd[TLS_CLIENT], &f->hs->mem);
		return;
	}
	if (t->sh_seen || t->decision == TLS_DEC_CERTS ||
	    (t->ch_seen && server_unread(f->hs))) {
		report(e, f, note);
		f->state = FLOW_DECIDED;
	} else {
		f->state = FLOW_IGNORED;
	}
	hs_free(e, f);
}

/* Flow end (FIN/RST, idle, eviction, end of input) during the handshake. */
static void decide_at_end(struct engine *e, struct flow *f, const char *why)
{
	struct flow_hs *hs = f->hs;
	const char *note = why;

	if (!hs)
		return;
	if (hs->confirming) {
		confirm_done(e, f);
		return;
	}
	/* The last chance for a waiting TLS 1.3 handshake's secret, or the
	 * end of a flight measured for its fingerprint. */
	if (tls13_flight_end(e, f)) {
		if (hs->tls.decision == TLS_DEC_CERTS)
			confirm_done(e, f);
		else
			decide(e, f, NULL);
		return;
	}
	if (reasm_has_hole(&hs->rd[TLS_SERVER]) || reasm_has_hole(&hs->rd[TLS_CLIENT])) {
		g_stats.reasm_gap++;
		note = "gap in the stream: handshake incomplete";
	}
	decide(e, f, note);
}

static void flow_release(struct engine *e, struct flow *f, const char *why)
{
	decide_at_end(e, f, why);
	g_stats.flows_active--;
	g_stats.flows_closed++;
	stats_mem_sub(FLOW_CHARGE);
	free(f);
}

static void expire(struct engine *e)
{
	uint64_t grace = (uint64_t)e->o.lim->close_grace_ms * 1000;
	struct flow_hs *hs;
	struct flow *f;

	/* Closing flows, in the order they closed: the first still in its
	 * grace ends the walk. */
	while ((hs = TAILQ_FIRST(&e->closing)) != NULL && e->now - hs->closing_since >= grace) {
		f = hs->flow;
		flow_unlink(e->ft, f);
		flow_release(e, f, "connection closed before the handshake completed");
	}
	while ((f = flow_pop_idle(e->ft, e->now)) != NULL) {
		g_stats.flows_timeout++;
		flow_release(e, f, "flow timed out before the handshake completed");
	}
	/* Alert windows close on packet time; look about once a second. */
	if (e->o.feed && e->now >= e->next_feed_tick) {
		output_feed_tick(e->o.out, e->o.feed, e->now);
		e->next_feed_tick = e->now + 1000000u;
	}
}

void engine_tick(struct engine *e, uint64_t now_us)
{
	if (now_us > e->now)
		e->now = now_us;
	expire(e);
	defrag_expire(e->df, e->now);
}

void engine_advance(struct engine *e, uint64_t now_us)
{
	if (now_us > e->now)
		e->now = now_us;
	expire(e);
}

void engine_flush(struct engine *e)
{
	struct flow *f;

	while ((f = flow_pop_idle(e->ft, UINT64_MAX)) != NULL)
		flow_release(e, f, "capture ended before the handshake completed");
}

void engine_free(struct engine *e)
{
	if (!e)
		return;
	if (e->ft) {
		engine_flush(e);
		flow_table_free(e->ft);
	}
	classify_free(e->ndpi);
	defrag_free(e->df);
	chain_cache_free(e->cc);
	for (size_t i = 0; i < e->n_ac; i++)
		free(e->ac[i].owner);
	free(e->ac);
	free(e->res);
	free(e);
}

/* ---- finding the TLS start in a stream ---------------------------------- */

/* A handshake record carrying a ClientHello (client) or ServerHello
 * (server) at p: 0x16 0x03 0x00-0x04, a sane length, then the message
 * type.  Used to pick up TLS after STARTTLS, proxies or a mid-stream start. */
static int hs_record_at(const uint8_t *p, size_t n, enum tls_dir d)
{
	uint16_t rlen;

	if (n < 6 || p[0] != 22 || p[1] != 3 || p[2] > 4)
		return 0;
	if (buf_peek_be16(p, n, 3, &rlen) < 0 || rlen < 4 || rlen > TLS_MAX_RECORD_LEN)
		return 0;
	return p[5] == (d == TLS_CLIENT ? 1 : 2);
}

/* Skip bytes until TLS starts.  Returns 1 started, 0 need more, -1 give up. */
static int find_start(struct engine *e, struct flow *f, enum tls_dir d)
{
	struct flow_hs *hs = f->hs;
	const uint8_t *p;
	size_t n = reasm_pending(&hs->rd[d], &p), i;

	if (hs->skipped[d] == 0 && n > 0) {
		int r = tls_plausible_start(p, n);

		if (r < 0)
			return 0;
		if (r == 1 && (p[0] == 22 || (p[0] & 0x80))) {
			hs->started[d] = 1;
			return 1;
		}
		/* A stream that opens with application data, ChangeCipherSpec
		 * or a heartbeat is past its handshake: picked up mid-stream,
		 * or (SYN seen) encrypted from its first byte, which no TLS
		 * peer accepts.  No handshake will come: drop the flow now
		 * rather than buffer max_prehs_bytes of it.  An alert may open
		 * a server's answer (a refused ClientHello), so after a SYN it
		 * still searches, as for a STARTTLS preamble. */
		if (r == 1 && (!hs->rd[d].syn_seen || p[0] != 21))
			return -1;
	}
	for (i = 0; i + 6 <= n; i++)
		if (hs_record_at(p + i, n - i, d)) {
			reasm_consume(&hs->rd[d], i);
			hs->skipped[d] += i;
			hs->started[d] = 1;
			return 1;
		}
	/* Keep the last 5 bytes: a record header may straddle segments. */
	if (n > 5) {
		reasm_consume(&hs->rd[d], n - 5);
		hs->skipped[d] += n - 5;
	}
	if (hs->skipped[d] > e->o.lim->max_prehs_bytes) {
		g_stats.prehs_limit++;
		return -1;
	}
	return 0;
}

/* No secret for a TLS 1.3 handshake: decided, its certificates unread,
 * and why. */
static void tls13_unread(struct engine *e, struct flow *f)
{
	struct flow_hs *hs = f->hs;
	char note[128];

	if (!e->o.keylog) {
		tls_tls13_no_key(&hs->tls, T13_NOT_READ, NULL);
		return;
	}
	g_stats.tls13_no_key++;
	if (hs->key_wait_since)
		snprintf(note, sizeof(note), "TLS 1.3: no key log secret for this ClientHello "
		         "random (waited %llu ms)",
		         (unsigned long long)((e->now - hs->key_wait_since) / 1000));
	else
		snprintf(note, sizeof(note), "TLS 1.3: no key log secret for this ClientHello random");
	tls_tls13_no_key(&hs->tls, T13_NO_KEY, note);
}

/* A TLS 1.3 handshake waits for the server handshake traffic secret of
 * its ClientHello random.  Files: their key logs are complete, so the
 * look-up is final.  Live: the log may still be growing (a browser
 * appends as it connects), so a miss waits up to keylog_wait_us of packet
 * time, re-reading the files at most every ENGINE_KEYLOG_REFRESH_US;
 * final (the flow ends) makes it the last look.  With no secret and
 * fingerprints on, the flight goes on being measured (TLS13_COLLECT)
 * until the client's second flight ends it (tls13_flight_end).
 * Returns 1 decided. */
static int tls13_key(struct engine *e, struct flow *f, int final)
{
	struct flow_hs *hs = f->hs;
	struct tls_session *t = &hs->tls;
	uint8_t secret[TLS13_MAX_SECRET];
	size_t len = 0;
	int found = e->o.keylog && keylog_find(e->o.keylog, t->ch_random, secret, &len), rc;

	if (!found && e->o.keylog && e->o.keylog_wait_us > 0 && keylog_files(e->o.keylog) > 0) {
		if (hs->key_wait_since == 0)
			hs->key_wait_since = e->now ? e->now : 1;
		if (final || e->now - hs->key_wait_since >= e->o.keylog_wait_us ||
		    e->now - e->keylog_read_ts >= ENGINE_KEYLOG_REFRESH_US) {
			e->keylog_read_ts = e->now;
			keylog_refresh(e->o.keylog);
			found = keylog_find(e->o.keylog, t->ch_random, secret, &len);
		}
		if (!found && !final && e->now - hs->key_wait_since < e->o.keylog_wait_us)
			return 0;
	}
	if (!found) {
		if (fingerprinting(e) && !final) {
			tls_tls13_collect(t);
			return 0;
		}
		tls13_unread(e, f);
		return 1;
	}
	rc = tls_tls13_key(t, secret, len);
	memset(secret, 0, sizeof(secret));
	return rc == TLS_DECIDED;
}

/* The server's TLS 1.3 flight is over (the client spoke again, or the
 * flow ends): a last look for the secret, else decided unread, with the
 * flight measured for the fingerprint.  Returns 1 decided. */
static int tls13_flight_end(struct engine *e, struct flow *f)
{
	struct tls_session *t = &f->hs->tls;

	if (t->decision != TLS_UNDECIDED)
		return 0;
	if (t->t13 == TLS13_NEED_KEY)
		return tls13_key(e, f, 1);
	if (t->t13 != TLS13_COLLECT)
		return 0;
	tls13_unread(e, f);
	return 1;
}

/* Hand the in-order bytes of direction d to the TLS parser. */
static int feed(struct engine *e, struct flow *f, enum tls_dir d)
{
	struct flow_hs *hs = f->hs;
	const uint8_t *p;
	size_t n;
	int rc;

	if (!hs->started[d]) {
		rc = find_start(e, f, d);
		if (rc < 0) {
			if (d == TLS_SERVER || !hs->tls.sh_seen)
				return -1;
			return 0;
		}
		if (rc == 0)
			return 0;
	}
	n = reasm_pending(&hs->rd[d], &p);
	if (n == 0)
		return 0;
	rc = tls_feed(&hs->tls, d, p, n);
	reasm_consume(&hs->rd[d], n);
	if (rc == TLS_MORE && hs->tls.t13 == TLS13_NEED_KEY && tls13_key(e, f, 0))
		rc = TLS_DECIDED;
	/* The client direction is read only until its ClientHello is parsed. */
	if (d == TLS_CLIENT && hs->tls.dir[TLS_CLIENT].done)
		reasm_stop(&hs->rd[TLS_CLIENT], &hs->mem);
	return rc == TLS_DECIDED ? 1 : 0;
}

/* ---- per packet ------------------------------------------------------- */

/* Which key side is the client?  The SYN says; without one, the server is
 * the side on an inspected port, else the sender of a ServerHello, else
 * the lower port. */
static void learn_roles(const struct engine *e, struct flow *f, const struct pkt *p, int side)
{
	int s_insp, d_insp;

	if (f->client >= 0)
		return;
	if (p->flags & TH_SYN) {
		f->client = (int8_t)((p->flags & TH_ACK) ? !side : side);
		return;
	}
	if (p->payload_len >= 6 && hs_record_at(p->payload, p->payload_len, TLS_CLIENT)) {
		f->client = (int8_t)side;
		return;
	}
	if (p->payload_len >= 6 && hs_record_at(p->payload, p->payload_len, TLS_SERVER)) {
		f->client = (int8_t)!side;
		return;
	}
	s_insp = port_inspected(e, p->sport);
	d_insp = port_inspected(e, p->dport);
	if (s_insp != d_insp)
		f->client = (int8_t)(d_insp ? side : !side);
	else if (p->payload_len > 0)
		f->client = (int8_t)(p->sport > p->dport ? side : !side);
}

/* Evict the oldest flows (never keep) until the table has a free slot
 * (with slot) and need more bytes fit under --memcap.  0 when there is
 * room; the caller counts a refusal that costs something. */
static int make_room(struct engine *e, size_t need, const struct flow *keep, int slot)
{
	const struct cs_limits *lim = e->o.lim;

	for (int i = 0; i < EVICT_BURST; i++) {
		struct flow *old = flow_oldest(e->ft);

		if ((!slot || !flow_table_full(e->ft)) && g_stats.mem_in_use + need <= lim->total_memcap)
			return 0;
		if (!old || old == keep)
			break;
		flow_unlink(e->ft, old);
		g_stats.flows_evicted++;
		flow_release(e, old, "flow evicted (flow table or memcap full) before the handshake completed");
	}
	if ((!slot || !flow_table_full(e->ft)) && g_stats.mem_in_use + need <= lim->total_memcap)
		return 0;
	return -1;
}

/* Allocate the handshake state of f at its first data segment p (from key
 * side `side`), and start the streams whose SYN was seen.  When the server
 * sent SYN-ACKs with different initial sequence numbers, the client's
 * acknowledgement on p says which one it took. */
static int start_flow(struct engine *e, struct flow *f, const struct pkt *p, int side)
{
	struct flow_hs *hs;

	if (make_room(e, hs_charge(e) + ENGINE_HS_HEADROOM, f, 0) < 0) {
		g_stats.reasm_total_memcap++;
		return -1;
	}
	hs = calloc(1, sizeof(*hs));   /* owned by f; hs_free */
	if (!hs)
		return -1;
	stats_mem_add(hs_charge(e));
	hs->mem.lim = e->o.lim;
	hs->flow = f;
	reasm_init(&hs->rd[0]);
	reasm_init(&hs->rd[1]);
	tls_session_init(&hs->tls, e->o.lim);
	hs->tls.t13_follow = e->o.keylog != NULL || fingerprinting(e);
	if (e->ndpi)
		hs->cf = classify_flow_new();
	if ((f->sides & FLOW_ISN_MULTI) && side == f->client && (p->flags & TH_ACK) &&
	    f->isn_next[!side] != p->ack) {
		g_stats.tcp_synack_isn_switch++;
		f->isn_next[!side] = p->ack;
	}
	for (int s = 0; s < 2; s++) {
		struct reasm_dir *rd;

		if (!(f->syn_side_seen & (1u << s)) || f->client < 0)
			continue;
		rd = &hs->rd[s == f->client ? TLS_CLIENT : TLS_SERVER];
		reasm_start(rd, f->isn_next[s]);
		rd->syn_seen = 1;
	}
	f->hs = hs;
	return 0;
}

static struct flow *get_flow(struct engine *e, const struct pkt *p, int *side)
{
	/* Only a SYN or a segment with data opens a flow: the last ACK of a
	 * closed connection, or a stray RST, must not create an entry. */
	int create = (p->flags & TH_SYN) || p->payload_len > 0;
	struct flow *f;
	int created;

	f = flow_lookup(e->ft, p, 0, side, &created);
	if (f || !create)
		return f;
	if (make_room(e, FLOW_CHARGE, NULL, 1) < 0) {
		g_stats.reasm_total_memcap++;
		return NULL;
	}
	f = flow_lookup(e->ft, p, 1, side, &created);
	if (!f)
		return NULL;
	stats_mem_add(FLOW_CHARGE);
	g_stats.flows_total++;
	g_stats.flows_active++;
	f->state = FLOW_HANDSHAKE;
	return f;
}

/* The SYN-ACK's shape, for the fingerprint (fingerprint.h). */
static void remember_synack(struct flow *f, const struct pkt *p)
{
	struct fp_synack sa;

	if (fp_synack_parse(p->family, p->l3, p->l3_len, p->l4, p->l4_len, &sa) < 0)
		return;
	f->sa_ttl = sa.ttl;
	f->sa_wscale = sa.wscale;
	f->sa_mss = sa.mss;
	f->sa_win = sa.win;
	f->sa_opts = sa.opts;
}

/* What a segment's TCP checksum says about it. */
enum ck {
	CK_VALID = 0,   /* checked, right */
	CK_TRUSTED,     /* not checked (off, cut short) or bad but trusted (offload) */
	CK_BAD,         /* bad: its bytes are tentative, its flags not believed */
};

/* Check p's checksum (only for segments that can change a flow's state:
 * decided flows stay on the fast path but for their SYN, FIN and RST). */
static enum ck checksum_check(struct engine *e, const struct pkt *p)
{
	int ok;

	if (e->o.checksum == CHECKSUM_NO)
		return CK_TRUSTED;
	ok = decode_tcp_checksum_ok(p);
	if (ok < 0)
		return CK_TRUSTED;   /* cut short by the snap length: cannot tell */
	if (ok) {
		e->ck_valid++;
		return CK_VALID;
	}
	e->ck_invalid++;
	g_stats.tcp_invalid_checksum++;
	if (e->o.checksum == CHECKSUM_AUTO && e->ck_invalid >= e->ck_valid)
		return CK_TRUSTED;   /* most checksums are bad: offload, not forgery */
	g_stats.tcp_checksum_ignored++;
	return CK_BAD;
}

/* Are p's flags and acknowledgement to be believed?  A bad checksum from a
 * side that has sent valid ones is a forgery or damage; from a side that
 * never has, it is the capture host's own offloaded traffic. */
static int believed(const struct flow *f, int side, enum ck ck)
{
	return ck != CK_BAD || !(f->sides & FLOW_CK_OK(side));
}

/* A segment of a flow whose chain is parsed but not yet reported: server
 * bytes are still reassembled (so retransmissions are compared), and the
 * client's acknowledgement of them ends the wait. */
static void confirm_segment(struct engine *e, struct flow *f, const struct pkt *p, int side,
                            enum ck ck)
{
	struct flow_hs *hs = f->hs;

	if (side != f->client) {
		if (p->payload_len == 0 || !seq_lt(p->seq, hs->confirm_seq))
			return;
		if (ck == CK_BAD)
			reasm_add_tentative(&hs->rd[TLS_SERVER], &hs->mem, p->seq, p->payload,
			                    p->payload_len);
		else if (reasm_add(&hs->rd[TLS_SERVER], &hs->mem, p->seq, p->payload,
		                   p->payload_len) != REASM_OK)
			confirm_done(e, f);
		return;
	}
	if ((p->flags & TH_ACK) && believed(f, side, ck) && seq_leq(hs->confirm_seq, p->ack))
		confirm_done(e, f);
}

/* Show nDPI one more packet of a flow in its handshake phase. */
static void classify_segment(struct engine *e, struct flow_hs *hs, const struct pkt *p)
{
	if (hs->cf && hs->cf_pkts < e->o.lim->ndpi_packets) {
		hs->cf_pkts++;
		classify_packet(e->ndpi, hs->cf, p->l3, p->l3_len, p->ts_us);
	}
}

/* A SYN or SYN-ACK of a flow in its handshake phase: roles, initial
 * sequence numbers and window scales are remembered in the flow record
 * (the handshake state waits for data, so a SYN flood costs records only).
 * A SYN-ACK whose ISN differs from an earlier one's replaces it and marks
 * the flow: the client's first data segment will say which it took. */
static void syn_segment(struct engine *e, struct flow *f, const struct pkt *p, int side)
{
	struct fp_synack sa;

	learn_roles(e, f, p, side);
	if ((p->flags & TH_ACK) && fingerprinting(e) && f->sa_ttl == 0)
		remember_synack(f, p);
	if (!(f->syn_side_seen & (1u << side))) {
		f->syn_side_seen |= (uint8_t)(1u << side);
		f->isn_next[side] = p->seq + 1;
		if (fp_synack_parse(p->family, p->l3, p->l3_len, p->l4, p->l4_len, &sa) == 0 &&
		    sa.wscale != 0xff)
			f->wscale[side] = sa.wscale > 14 ? 14 : sa.wscale;   /* RFC 7323 §2.3 */
		return;
	}
	if (f->isn_next[side] == p->seq + 1 || !(p->flags & TH_ACK))
		return;   /* a retransmission; a new SYN is new_connection's */
	g_stats.tcp_synack_isn_differ++;
	f->sides |= FLOW_ISN_MULTI;
	if (f->hs) {
		/* Data came already: restart the server's stream only while it
		 * has carried nothing. */
		struct reasm_dir *rd = &f->hs->rd[TLS_SERVER];

		if (rd->state != REASM_ACTIVE || rd->len || reasm_has_hole(rd) ||
		    reasm_has_tentative(rd))
			return;
		reasm_start(rd, p->seq + 1);
	}
	f->isn_next[side] = p->seq + 1;
}

/* Deliver what a believed acknowledgement shows the peer of `side` got
 * from tentative (bad-checksum) copies, and parse it.  1: decided. */
static int ack_segment(struct engine *e, struct flow *f, const struct pkt *p, int side)
{
	struct flow_hs *hs = f->hs;
	enum tls_dir peer = side == f->client ? TLS_SERVER : TLS_CLIENT;
	long n;
	int rc;

	if (!(p->flags & TH_ACK) || !reasm_has_tentative(&hs->rd[peer]))
		return 0;
	n = reasm_ack(&hs->rd[peer], &hs->mem, p->ack);
	if (n == 0)
		return 0;
	if (n < 0) {
		decide(e, f, "reassembly limit reached: handshake incomplete");
		return 1;
	}
	rc = feed(e, f, peer);
	if (rc == 0)
		return 0;
	if (rc < 0)
		g_stats.tls_not_tls++;
	decide(e, f, NULL);
	return 1;
}

/* Reassemble and parse one segment of a flow in its handshake phase.
 * Returns 1 when the handshake got decided. */
static int handshake_segment(struct engine *e, struct flow *f, const struct pkt *p, int side,
                             enum ck ck)
{
	struct flow_hs *hs = f->hs;
	int trust = believed(f, side, ck);
	enum tls_dir d;
	struct reasm_dir *rd;
	int rc;

	if (p->flags & TH_SYN) {
		if (trust)
			syn_segment(e, f, p, side);
		return 0;
	}
	if (p->payload_len == 0 && !hs)
		return 0;
	if (!hs) {
		learn_roles(e, f, p, side);
		if (f->client < 0)
			return 0;
		if (start_flow(e, f, p, side) < 0) {
			f->state = FLOW_IGNORED;
			return 1;
		}
		hs = f->hs;
	}
	/* The handshake state exists only once the roles are known. */
	d = side == f->client ? TLS_CLIENT : TLS_SERVER;
	if (e->keep_packets)
		evidence_log_add(&hs->pkts, p->ts_us, p->l3, p->l3_len, EVIDENCE_DEF_FLOW_BYTES,
		                 e->o.lim->total_memcap);
	if (trust) {
		hs->win[d] = p->win;
		if (!hs->confirming && ack_segment(e, f, p, side))
			return 1;
	}
	if (hs->confirming) {
		if (ck != CK_BAD)
			classify_segment(e, hs, p);
		confirm_segment(e, f, p, side, ck);
		return 0;
	}
	/* A TLS 1.3 handshake waiting for its key log secret: any packet
	 * of the flow is a moment to look again (live capture).  The
	 * client's data after the server's 1.3 flight (its Finished) ends
	 * the flight a fingerprint measures. */
	if ((hs->tls.t13 == TLS13_NEED_KEY && e->o.keylog_wait_us > 0 && tls13_key(e, f, 0)) ||
	    (d == TLS_CLIENT && p->payload_len > 0 && ck != CK_BAD && fingerprinting(e) &&
	     hs->tls.flight_records > 0 && tls13_flight_end(e, f))) {
		decide(e, f, NULL);
		return 1;
	}
	rd = &hs->rd[d];
	if (p->payload_len == 0 || rd->state == REASM_STOPPED) {
		if (ck != CK_BAD)
			classify_segment(e, hs, p);
		return 0;
	}
	(void)make_room(e, 2 * p->payload_len + ENGINE_HS_HEADROOM, f, 0);
	if (ck == CK_BAD) {
		/* Kept aside; only a valid copy or the receiver's
		 * acknowledgement brings these bytes in (reasm.h).  A stream
		 * is never started at an untrusted segment. */
		reasm_add_tentative(rd, &hs->mem, p->seq, p->payload, p->payload_len);
		return 0;
	}
	if (rd->state == REASM_IDLE) {
		/* A capture that starts mid-connection: take this segment as
		 * the start of the stream (DESIGN "Flow life"). */
		g_stats.midstream_pickups++;
		reasm_start(rd, p->seq);
	}
	if (reasm_add(rd, &hs->mem, p->seq, p->payload, p->payload_len) != REASM_OK) {
		decide(e, f, "reassembly limit reached: handshake incomplete");
		return 1;
	}
	rc = feed(e, f, d);
	if (rc < 0) {
		g_stats.tls_not_tls++;
		decide(e, f, NULL);
		return 1;
	}
	/* After feed: a flow dropped as carrying no handshake never costs
	 * nDPI anything (a span port is full of them). */
	classify_segment(e, hs, p);
	if (rc > 0) {
		decide(e, f, NULL);
		return 1;
	}
	return 0;
}

/* ---- connection end and reuse ------------------------------------------ */

/* Is the sequence number of p's RST or FIN inside the window the receiver
 * offered (RFC 9293 §3.10.7, RFC 5961 §3)?  Only an undecided flow keeps
 * the numbers to tell; for a direction never seen, nothing contradicts it. */
static int end_in_window(const struct flow *f, const struct pkt *p, int side)
{
	const struct flow_hs *hs = f->hs;
	enum tls_dir d;
	const struct reasm_dir *rd;
	uint32_t seq = p->seq, win;
	uint8_t ws;

	if (!hs || f->client < 0)
		return 1;
	d = side == f->client ? TLS_CLIENT : TLS_SERVER;
	rd = &hs->rd[d];
	if (rd->state == REASM_IDLE)
		return 1;
	if (p->flags & TH_FIN)
		seq += (uint32_t)p->payload_len;   /* the FIN follows its data */
	/* Scaled by the receiver's window scale when both SYNs carried one
	 * (RFC 7323 §2.2), else the largest scale, so as never to refuse a
	 * real end: the window is a bound, not a guess. */
	ws = f->wscale[!side] != FLOW_WSCALE_NONE && f->wscale[side] != FLOW_WSCALE_NONE ?
	     f->wscale[!side] : 14;
	win = hs->win[!d] ? (uint32_t)hs->win[!d] << ws : (uint32_t)65535 << 14;
	return seq_diff(seq, rd->next_seq) >= 0 && (uint32_t)seq_diff(seq, rd->next_seq) <= win;
}

/* A RST or FIN of f from `side`: believed only with a valid checksum (or
 * from a side whose checksums are all bad) and in the window.  A believed
 * RST, or the second believed FIN, closes the connection: a decided flow
 * is freed at once, an undecided one enters its grace (1: freed). */
static int connection_end(struct engine *e, struct flow *f, const struct pkt *p, int side,
                          enum ck ck)
{
	struct flow_hs *hs = f->hs;

	if (!believed(f, side, ck) || !end_in_window(f, p, side)) {
		g_stats.tcp_end_ignored++;
		return 0;
	}
	if (p->flags & TH_FIN)
		f->sides |= (uint8_t)FLOW_FIN(side);
	if (!(p->flags & TH_RST) && (f->sides & (FLOW_FIN(0) | FLOW_FIN(1))) !=
	    (FLOW_FIN(0) | FLOW_FIN(1)))
		return 0;
	f->sides |= FLOW_CLOSED;
	if (f->state == FLOW_HANDSHAKE && hs && !hs->confirming) {
		if (!hs->closing_since) {
			hs->closing_since = e->now ? e->now : 1;
			TAILQ_INSERT_TAIL(&e->closing, hs, closing);
			g_stats.flows_close_grace++;
		}
		return 0;
	}
	flow_unlink(e->ft, f);
	flow_release(e, f, "connection closed before the handshake completed");
	return 1;
}

/* A SYN with a new initial sequence number on a 4-tuple in the table: a
 * new connection when the old one is decided, closing or never carried
 * data (port reuse); the old one is finished and reported first.  In the
 * middle of an undecided handshake it is not believed: an injected SYN
 * must not make the sensor forget a handshake.  1: f was released. */
static int new_connection(struct engine *e, struct flow *f, const struct pkt *p, int side,
                          enum ck ck)
{
	if (!(f->syn_side_seen & (1u << side)) || f->isn_next[side] == p->seq + 1)
		return 0;
	if (!believed(f, side, ck))
		return 0;
	if (f->state == FLOW_HANDSHAKE && f->hs && !f->hs->closing_since &&
	    !(f->sides & (FLOW_FIN(0) | FLOW_FIN(1)))) {
		g_stats.tcp_syn_ignored++;
		return 0;
	}
	g_stats.tcp_port_reuse++;
	flow_unlink(e->ft, f);
	flow_release(e, f, "connection closed before the handshake completed");
	return 1;
}

enum decode_result engine_decode(int dlt, const uint8_t *frame, size_t caplen, uint64_t ts_us,
                                 struct pkt *p)
{
	g_stats.pkts++;
	g_stats.bytes += caplen;
	p->ts_us = ts_us;
	return decode_packet(dlt, frame, caplen, p);
}

void engine_packet(struct engine *e, int dlt, const uint8_t *frame, size_t caplen,
                   uint64_t ts_us)
{
	struct pkt p;
	enum decode_result rc = engine_decode(dlt, frame, caplen, ts_us, &p);

	if (rc == DECODE_TCP || rc == DECODE_FRAG)
		engine_decoded(e, rc, &p);
}

void engine_decoded(struct engine *e, enum decode_result rc, struct pkt *p)
{
	uint64_t ts_us = p->ts_us;
	struct flow *f;
	enum ck ck = CK_TRUSTED;
	int side;

	if (rc == DECODE_FRAG) {
		size_t len;
		const uint8_t *ip = defrag_add(e->df, p, ts_us, &len);

		if (!ip)
			return;
		rc = decode_reassembled(ip, len, p);
	}
	if (rc != DECODE_TCP)
		return;
	if (ts_us > e->now)
		e->now = ts_us;
	expire(e);
	if (!e->o.any_port && !port_inspected(e, p->sport) && !port_inspected(e, p->dport))
		return;
	f = get_flow(e, p, &side);
	if (!f)
		return;
	/* Decided flows stay on the fast path: only their SYN, FIN and RST
	 * have their checksum checked. */
	if (f->state == FLOW_HANDSHAKE || (p->flags & (TH_SYN | TH_FIN | TH_RST))) {
		ck = checksum_check(e, p);
		if (ck == CK_VALID)
			f->sides |= (uint8_t)FLOW_CK_OK(side);
	}
	if ((p->flags & (TH_SYN | TH_ACK)) == TH_SYN && new_connection(e, f, p, side, ck)) {
		f = get_flow(e, p, &side);
		if (!f)
			return;
		if (ck == CK_VALID)
			f->sides |= (uint8_t)FLOW_CK_OK(side);
	}
	f->pkts[side]++;
	f->bytes[side] += p->payload_len;
	flow_touch(e->ft, f, ts_us);
	if (f->state == FLOW_HANDSHAKE)
		handshake_segment(e, f, p, side, ck);
	if ((p->flags & (TH_FIN | TH_RST)) && connection_end(e, f, p, side, ck))
		return;
	/* Decided in its grace: nothing left to wait for. */
	if ((f->sides & FLOW_CLOSED) && f->state != FLOW_HANDSHAKE) {
		flow_unlink(e->ft, f);
		flow_release(e, f, NULL);
	}
}
