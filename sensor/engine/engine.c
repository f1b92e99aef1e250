/*
 * engine.c - drives each packet through the pipeline (see
 * include/engine/engine.h): packet -> flow -> transport -> analyser ->
 * report.  Here: the engine's life, its two tables (transports by IP
 * protocol, analysers), a packet's way to its transport, its alert tally,
 * and the end of a flow's handshake phase.  The TCP transport (flows,
 * reassembly, finding and feeding the analyser's stream) is
 * engine_tcp.c; what the engine must still know of TLS engine_tls.c; the
 * verdict and the event of a handshake engine_report.c; what they share
 * engine_int.h.  Must not: parse protocol bytes (decode, reasm and the
 * analysers do) or format output.
 *
 * Flow life (DESIGN.md): handshake -> decided -> closed.  While a flow is
 * in the handshake phase it owns a struct flow_hs (reassembly buffers,
 * the analyser's state, nDPI state).  At the decision everything is
 * reported and the flow_hs freed, so a decided flow's packets cost one
 * table look-up and a few counters: no copy, no allocation, no parsing.
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

/* ---- the tables -------------------------------------------------------- */

/* The analysers, in the order a stream transport probes for them.  A new
 * one is its folder under sensor/analyser/ and a line here. */
const struct analyser *const engine_analysers[] = { &analyser_tls };
const size_t engine_n_analysers = sizeof(engine_analysers) / sizeof(engine_analysers[0]);

/* The transports, by IP protocol: a decoded packet of a protocol not
 * here is not inspected.  A new one is its entry function (its folder
 * under sensor/transport/ for what needs no engine) and a line here. */
struct engine_transport {
	uint8_t proto;
	void (*packet)(struct engine *e, struct pkt *p);
};

static const struct engine_transport TRANSPORTS[] = {
	{ IPPROTO_TCP, engine_tcp_packet },
	{ IPPROTO_UDP, engine_quic_packet },
};

/* A struct flow_hs with room for the largest analyser state. */
static size_t hs_size(void)
{
	size_t max = 0;

	for (size_t i = 0; i < engine_n_analysers; i++)
		if (engine_analysers[i]->state_size > max)
			max = engine_analysers[i]->state_size;
	return sizeof(struct flow_hs) + max;
}

struct engine *engine_new(const struct engine_opts *o, char *err, size_t errlen)
{
	struct engine *e = calloc(1, sizeof(*e));   /* owned by the caller */
	uint8_t seed[16];

	if (!e)
		goto nomem;
	e->o = *o;
	e->hs_size = hs_size();
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

void engine_set_ifaces(struct engine *e, const char *const *names, size_t n)
{
	e->ifaces = names;
	e->n_ifaces = n < ENGINE_MAX_IFACES ? n : ENGINE_MAX_IFACES;
}

void engine_set_iface(struct engine *e, size_t i)
{
	e->iface = i < e->n_ifaces ? (uint8_t)i : 0;
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

/* ---- handshake end ---------------------------------------------------- */

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
	if (hs->an)
		hs->an->free(hs->an_state);
	classify_flow_free(hs->cf);
	evidence_log_free(&hs->pkts);
	engine_quic_free(hs);
	free(hs);
	f->hs = NULL;
}

/* Did the server send bytes the sensor could not read in order (a gap, or
 * a limit that stopped its direction)? */
static int server_unread(const struct flow_hs *hs)
{
	const struct reasm_dir *rd = &hs->rd[AN_SERVER];

	return reasm_has_hole(rd) || rd->state == REASM_STOPPED;
}

/* The report of a handshake.  engine_report reads a TLS session: until
 * the judge takes its per-protocol part from any analyser, the flows of
 * another analyser are decided without a report. */
static void report(struct engine *e, struct flow *f, const char *note)
{
	if (engine_tls(f->hs))
		engine_report(e, f, note);
}

/* The report of a parsed chain, deferred until now (see flow_hs). */
void engine_confirm_done(struct engine *e, struct flow *f)
{
	report(e, f, NULL);
	f->state = FLOW_DECIDED;
	hs_free(e, f);
}

/* The notes engine_report tells apart (engine_int.h). */
const char engine_note_gap[] = "gap in the stream: handshake incomplete";
const char engine_note_limit[] = "reassembly limit reached: handshake incomplete";
const char engine_note_evicted[] =
	"flow evicted (flow table or memcap full) before the handshake completed";

/* End the handshake phase of f: report it if its analyser found its
 * protocol, then free.  A client's opening (a ClientHello) whose answer
 * the sensor lost is reported too (incomplete): an attacker must not
 * escape by making the sensor miss the server's flight.  One that was
 * never answered is not (a scan, a dead server). */
void engine_decide(struct engine *e, struct flow *f, const char *note)
{
	struct flow_hs *hs = f->hs;
	enum an_decided dec = hs->an ? hs->an->decided(hs->an_state) : AN_UNDECIDED;
	unsigned seen = hs->an ? hs->an->seen(hs->an_state) : 0u;

	if (dec == AN_DONE_ON_SERVER && !note) {
		/* Wait for the client's acknowledgement (DESIGN: "Overlaps"). */
		hs->confirming = 1;
		hs->confirm_seq = hs->rd[AN_SERVER].next_seq;
		hs->decided_ts = e->now;
		reasm_stop(&hs->rd[AN_CLIENT], &hs->mem);
		return;
	}
	if ((seen & AN_SEEN_SERVER) || dec == AN_DONE_ON_SERVER ||
	    ((seen & AN_SEEN_CLIENT) && server_unread(hs))) {
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
		engine_confirm_done(e, f);
		return;
	}
	/* The last chance for a waiting TLS 1.3 handshake's secret, or the
	 * end of a flight measured for its fingerprint. */
	if (engine_tls13_flight_end(e, f)) {
		if (hs->an->decided(hs->an_state) == AN_DONE_ON_SERVER)
			engine_confirm_done(e, f);
		else
			engine_decide(e, f, NULL);
		return;
	}
	if (reasm_has_hole(&hs->rd[AN_SERVER]) || reasm_has_hole(&hs->rd[AN_CLIENT])) {
		g_stats.reasm_gap++;
		note = engine_note_gap;
	}
	engine_decide(e, f, note);
}

void engine_flow_release(struct engine *e, struct flow *f, const char *why)
{
	decide_at_end(e, f, why);
	g_stats.flows_active--;
	g_stats.flows_closed++;
	stats_mem_sub(FLOW_CHARGE);
	free(f);
}

void engine_expire(struct engine *e)
{
	uint64_t grace = (uint64_t)e->o.lim->close_grace_ms * 1000;
	struct flow_hs *hs;
	struct flow *f;

	/* Closing flows, in the order they closed: the first still in its
	 * grace ends the walk. */
	while ((hs = TAILQ_FIRST(&e->closing)) != NULL && e->now - hs->closing_since >= grace) {
		f = hs->flow;
		flow_unlink(e->ft, f);
		engine_flow_release(e, f, "connection closed before the handshake completed");
	}
	while ((f = flow_pop_idle(e->ft, e->now)) != NULL) {
		g_stats.flows_timeout++;
		engine_flow_release(e, f, "flow timed out before the handshake completed");
	}
	/* Alert windows close on packet time; look about once a second. */
	if (e->o.feed && e->now >= e->next_feed_tick) {
		output_feed_tick(e->o.out, e->o.feed, e->now);
		e->next_feed_tick = e->now + 1000000u;
	}
}

/* ---- a packet's way to its transport ----------------------------------- */

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

	if (rc == DECODE_TCP || rc == DECODE_FRAG || rc == DECODE_UDP)
		engine_decoded(e, rc, &p);
}

void engine_decoded(struct engine *e, enum decode_result rc, struct pkt *p)
{
	uint64_t ts_us = p->ts_us;
	int wanted;

	if (rc == DECODE_FRAG) {
		size_t len;
		const uint8_t *ip = defrag_add(e->df, p, ts_us, &len);

		if (!ip)
			return;
		rc = decode_reassembled(ip, len, p);
	}
	if (rc != DECODE_TCP && rc != DECODE_UDP)
		return;
	wanted = engine_port_wanted(&e->o, p);
	if (rc == DECODE_UDP && !wanted)
		return;   /* before the clock moves: as the dispatcher drops it */
	if (ts_us > e->now)
		e->now = ts_us;
	engine_expire(e);
	if (!wanted)
		return;
	for (size_t i = 0; i < sizeof(TRANSPORTS) / sizeof(TRANSPORTS[0]); i++)
		if (TRANSPORTS[i].proto == p->proto) {
			TRANSPORTS[i].packet(e, p);
			return;
		}
}

void engine_tick(struct engine *e, uint64_t now_us)
{
	if (now_us > e->now)
		e->now = now_us;
	engine_expire(e);
	defrag_expire(e->df, e->now);
}

void engine_advance(struct engine *e, uint64_t now_us)
{
	if (now_us > e->now)
		e->now = now_us;
	engine_expire(e);
}

void engine_flush(struct engine *e)
{
	struct flow *f;

	while ((f = flow_pop_idle(e->ft, UINT64_MAX)) != NULL)
		engine_flow_release(e, f, "capture ended before the handshake completed");
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

