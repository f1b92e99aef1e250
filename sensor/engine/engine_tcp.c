/*
 * engine_tcp.c - the TCP transport: a segment's way through the engine:
 * the flow looked up or started (room made under --memcap), roles
 * learned, checksums judged, segments reassembled, the analyser's start
 * found in the stream (its probe) and the stream fed to it, connection
 * end and reuse.  Must not: read protocol bytes (the analyser does,
 * through analyser.h), judge a chain or write output (engine_report.c).
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
#include "transport/reasm.h"
#include "core/stats.h"
#include "x509/x509.h"

/* ---- finding the analyser's start in a stream ------------------------- */

/* The flow's analyser is found: its state is initialised in place (in
 * hs's own allocation, released by hs_free). */
static void analyser_start(struct engine *e, struct flow_hs *hs, const struct analyser *an)
{
	hs->an = an;
	an->init(hs->an_state, e->o.lim, hs->an_flags);
}

/* Skip bytes of direction d until an analyser's protocol starts: the
 * flow's own once it has one, else each registered one, the first to
 * say yes taking the flow.  Returns 1 started, 0 need more, -1 give up
 * (every analyser said no, or max_prehs_bytes skipped). */
static int find_start(struct engine *e, struct flow *f, enum an_dir d)
{
	struct flow_hs *hs = f->hs;
	const struct analyser *const *an = hs->an ? &hs->an : engine_analysers;
	size_t n_an = hs->an ? 1 : engine_n_analysers;
	const uint8_t *p;
	size_t n = reasm_pending(&hs->rd[d], &p), drop = SIZE_MAX;
	unsigned flags = (hs->skipped[d] == 0 ? AN_PROBE_FIRST : 0u) |
	                 (hs->rd[d].syn_seen ? AN_PROBE_OPENED : 0u);

	for (size_t i = 0; i < n_an; i++) {
		size_t skip = 0;
		int r = an[i]->probe(p, n, d, flags, &skip);

		if (r == AN_PROBE_YES) {
			reasm_consume(&hs->rd[d], skip);
			hs->skipped[d] += skip;
			hs->started[d] = 1;
			if (!hs->an)
				analyser_start(e, hs, an[i]);
			return 1;
		}
		/* Only what no analyser may still start at is dropped. */
		if (r == AN_PROBE_MORE && skip < drop)
			drop = skip;
	}
	if (drop == SIZE_MAX)
		return -1;
	if (drop > 0) {
		reasm_consume(&hs->rd[d], drop);
		hs->skipped[d] += drop;
	}
	if (hs->skipped[d] > e->o.lim->max_prehs_bytes) {
		g_stats.prehs_limit++;
		return -1;
	}
	return 0;
}

/* Hand the in-order bytes of direction d to the flow's analyser. */
static int feed(struct engine *e, struct flow *f, enum an_dir d)
{
	struct flow_hs *hs = f->hs;
	const uint8_t *p;
	size_t n;
	int rc;

	if (!hs->started[d]) {
		rc = find_start(e, f, d);
		if (rc < 0) {
			/* The client's bytes may not be the protocol's while the
			 * server's are: its answer was parsed, so go on with it. */
			if (d == AN_SERVER || !hs->an || !(hs->an->seen(hs->an_state) & AN_SEEN_SERVER))
				return -1;
			return 0;
		}
		if (rc == 0)
			return 0;
	}
	n = reasm_pending(&hs->rd[d], &p);
	if (n == 0)
		return 0;
	rc = hs->an->feed(hs->an_state, d, p, n);
	reasm_consume(&hs->rd[d], n);
	if (rc == AN_MORE && engine_tls_fed(e, f))
		rc = AN_DECIDED;
	/* The client direction is read only while the analyser wants it
	 * (TLS: until its ClientHello is parsed). */
	if (d == AN_CLIENT && !hs->an->wants(hs->an_state, AN_CLIENT))
		reasm_stop(&hs->rd[AN_CLIENT], &hs->mem);
	return rc == AN_DECIDED ? 1 : 0;
}

/* ---- per packet ------------------------------------------------------- */

/* Which key side is the client?  The SYN says; without one, an analyser
 * that recognises who sent the payload (TLS: a ClientHello or
 * ServerHello record), else the side on an inspected port is the server,
 * else the higher port is the client. */
static void learn_roles(const struct engine *e, struct flow *f, const struct pkt *p, int side)
{
	int s_insp, d_insp;

	if (f->client >= 0)
		return;
	if (p->flags & TH_SYN) {
		f->client = (int8_t)((p->flags & TH_ACK) ? !side : side);
		return;
	}
	for (size_t i = 0; p->payload_len > 0 && i < engine_n_analysers; i++) {
		int r = engine_analysers[i]->role(p->payload, p->payload_len);

		if (r >= 0) {
			f->client = (int8_t)(r == AN_CLIENT ? side : !side);
			return;
		}
	}
	s_insp = port_inspected(e, p->sport);
	d_insp = port_inspected(e, p->dport);
	if (s_insp != d_insp)
		f->client = (int8_t)(d_insp ? side : !side);
	else if (p->payload_len > 0)
		f->client = (int8_t)(p->sport > p->dport ? side : !side);
}

/* engine_int.h.  The caller counts a refusal that costs something. */
int engine_make_room(struct engine *e, size_t need, const struct flow *keep, int slot)
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
		engine_flow_release(e, old, engine_note_evicted);
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

	if (engine_make_room(e, hs_charge(e) + ENGINE_HS_HEADROOM, f, 0) < 0) {
		g_stats.reasm_total_memcap++;
		return -1;
	}
	/* One allocation with room for the largest analyser state (the
	 * analyser is not known yet: find_start picks it).  Owned by f;
	 * freed in hs_free. */
	hs = calloc(1, e->hs_size);
	if (!hs)
		return -1;
	stats_mem_add(hs_charge(e));
	hs->mem.lim = e->o.lim;
	hs->flow = f;
	reasm_init(&hs->rd[0]);
	reasm_init(&hs->rd[1]);
	/* Decided now, as the flow starts, not when its analyser is found:
	 * a key log that pcapng inputs fill meanwhile does not change it. */
	hs->an_flags = engine_have_keylog(e) || fingerprinting(e) ? AN_FOLLOW_ENCRYPTED : 0u;
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
		rd = &hs->rd[s == f->client ? AN_CLIENT : AN_SERVER];
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
	return engine_flow_new(e, p, side);
}

struct flow *engine_flow_new(struct engine *e, const struct pkt *p, int *side)
{
	struct flow *f;
	int created;

	if (engine_make_room(e, FLOW_CHARGE, NULL, 1) < 0) {
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
	f->iface = e->iface;
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
		g_stats.tcp_valid_checksum++;
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
			reasm_add_tentative(&hs->rd[AN_SERVER], &hs->mem, p->seq, p->payload,
			                    p->payload_len);
		else if (reasm_add(&hs->rd[AN_SERVER], &hs->mem, p->seq, p->payload,
		                   p->payload_len) != REASM_OK)
			engine_confirm_done(e, f);
		return;
	}
	if ((p->flags & TH_ACK) && believed(f, side, ck) && seq_leq(hs->confirm_seq, p->ack))
		engine_confirm_done(e, f);
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
		struct reasm_dir *rd = &f->hs->rd[AN_SERVER];

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
	enum an_dir peer = side == f->client ? AN_SERVER : AN_CLIENT;
	long n;
	int rc;

	if (!(p->flags & TH_ACK) || !reasm_has_tentative(&hs->rd[peer]))
		return 0;
	n = reasm_ack(&hs->rd[peer], &hs->mem, p->ack);
	if (n == 0)
		return 0;
	if (n < 0) {
		engine_decide(e, f, engine_note_limit);
		return 1;
	}
	rc = feed(e, f, peer);
	if (rc == 0)
		return 0;
	if (rc < 0)
		g_stats.tls_not_tls++;
	engine_decide(e, f, NULL);
	return 1;
}

/* A segment of the handshake's data in direction d: reassembled, the
 * stream fed to the analyser.  1 when the flow was decided. */
static int data_segment(struct engine *e, struct flow *f, const struct pkt *p, enum an_dir d,
                        enum ck ck)
{
	struct flow_hs *hs = f->hs;
	struct reasm_dir *rd;
	int rc;

	rd = &hs->rd[d];
	if (p->payload_len == 0 || rd->state == REASM_STOPPED) {
		if (ck != CK_BAD)
			classify_segment(e, hs, p);
		return 0;
	}
	(void)engine_make_room(e, 2 * p->payload_len + ENGINE_HS_HEADROOM, f, 0);
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
		engine_decide(e, f, engine_note_limit);
		return 1;
	}
	rc = feed(e, f, d);
	if (rc < 0) {
		g_stats.tls_not_tls++;
		engine_decide(e, f, NULL);
		return 1;
	}
	/* After feed: a flow dropped as carrying no handshake never costs
	 * nDPI anything (a span port is full of them). */
	classify_segment(e, hs, p);
	if (rc > 0) {
		engine_decide(e, f, NULL);
		return 1;
	}
	return 0;
}

static int handshake_segment(struct engine *e, struct flow *f, const struct pkt *p, int side,
                             enum ck ck)
{
	struct flow_hs *hs = f->hs;
	int trust = believed(f, side, ck);
	enum an_dir d;

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
	d = side == f->client ? AN_CLIENT : AN_SERVER;
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
	if (engine_tls_packet(e, f, d, p->payload_len > 0 && ck != CK_BAD)) {
		engine_decide(e, f, NULL);
		return 1;
	}
	return data_segment(e, f, p, d, ck);
}

/* ---- connection end and reuse ------------------------------------------ */

/* Is the sequence number of p's RST or FIN inside the window the receiver
 * offered (RFC 9293 §3.10.7, RFC 5961 §3)?  Only an undecided flow keeps
 * the numbers to tell; for a direction never seen, nothing contradicts it. */
static int end_in_window(const struct flow *f, const struct pkt *p, int side)
{
	const struct flow_hs *hs = f->hs;
	enum an_dir d;
	const struct reasm_dir *rd;
	uint32_t seq = p->seq, win;
	uint8_t ws;

	if (!hs || f->client < 0)
		return 1;
	d = side == f->client ? AN_CLIENT : AN_SERVER;
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
	engine_flow_release(e, f, "connection closed before the handshake completed");
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
	engine_flow_release(e, f, "connection closed before the handshake completed");
	return 1;
}

/* ---- the transport's entry ------------------------------------------- */

void engine_tcp_packet(struct engine *e, struct pkt *p)
{
	uint64_t ts_us = p->ts_us;
	struct flow *f;
	enum ck ck = CK_TRUSTED;
	int side;

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
		engine_flow_release(e, f, NULL);
	}
}
