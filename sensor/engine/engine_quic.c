/*
 * engine_quic.c - the QUIC transport's way through the engine: a UDP
 * datagram finds its flow (a new one only for a client's Initial), the
 * QUIC packet layer (transport/quic) opens what it can and hands out the
 * CRYPTO streams in order, and the TLS analyser reads them as it reads
 * TCP's stream: the ClientHello and ServerHello from the Initial packets,
 * which anyone can open (RFC 9001 §5.2), the server's certificates from
 * its Handshake packets once a key log gives their secret (engine_tls.c
 * looks it up, engine_quic_keyed installs it).  Without the secret the
 * server's Handshake packets are only measured, for the fingerprint, as a
 * TLS 1.3 flight over TCP is.
 *
 * A QUIC handshake is decided, as over TCP, when its certificates are
 * read, or when it is clear they will not be: the analyser says so, or
 * the client sends a short-header (1-RTT) packet, which it does only once
 * it has the server's whole flight (flight_over), or a CONNECTION_CLOSE
 * comes, or the flow ends.  After the certificates are read the report
 * waits for that same sign from the client (hs->confirming), so that a
 * copy of the server's CRYPTO data sent again is still compared with the
 * one judged (QUIC_DIFF, reported as a stream mismatch).
 *
 * Must not: parse QUIC or TLS bytes (transport/quic and the analyser
 * do), judge or write output (engine_report.c).
 */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "analyser/tls.h"
#include "capture/decode.h"
#include "core/stats.h"
#include "engine_int.h"
#include "flow/flow.h"
#include "transport/quic.h"

/* RFC 9000 §14.1: a client's datagrams carrying Initial packets are at
 * least 1200 bytes (padded), which tells a client's Initial from a
 * server's; RFC 9369 §3.2: version 2's long header types. */
#define QUIC_MIN_CLIENT_DGRAM 1200u
#define QUIC_V1 0x00000001u
#define QUIC_V2 0x6b3343cfu

/* Server datagrams held while a TLS 1.3 handshake waits for its key log
 * secret on live capture (--keylog-wait): at most this many bytes, then
 * the rest is only counted (the flight will not be read whole). */
#define QUIC_HELD_MAX (64u * 1024u)

/* The QUIC side of a flow in its handshake phase.  Owned by the flow's
 * flow_hs (hs->quic), freed with it (engine_quic_free). */
struct engine_quic {
	struct quic_conn conn;
	struct engine *e;          /* not owned: for the CRYPTO callback */
	struct flow *f;            /* not owned: the flow this belongs to */
	uint8_t *held;             /* server datagrams waiting for keys: each a
	                              4-byte length then its bytes; owned */
	size_t held_len, held_cap;
	int keyed;                 /* Handshake keys installed */
	uint64_t opened;           /* Initial and Handshake packets opened */
	uint64_t auth_failed;      /* packets that failed authentication */
	int in_datagram;           /* inside quic_datagram: a refeed waits */
	int refeed_due;            /* keys came while in_datagram: refeed after */
	int refeeding;             /* the held datagrams are being read again */
};

int engine_quic_flow(const struct flow_hs *hs)
{
	return hs->quic != NULL;
}

void engine_quic_free(struct flow_hs *hs)
{
	struct engine_quic *q = hs->quic;

	if (!q)
		return;
	quic_conn_free(&q->conn);
	stats_mem_sub(q->held_cap + sizeof(*q));
	free(q->held);
	free(q);
	hs->quic = NULL;
}

uint32_t engine_quic_version(const struct flow_hs *hs)
{
	return hs->quic ? quic_conn_version(&hs->quic->conn) : 0;
}

void engine_quic_counts(const struct flow_hs *hs, uint64_t *opened, uint64_t *auth_failed)
{
	*opened = hs->quic ? hs->quic->opened : 0;
	*auth_failed = hs->quic ? hs->quic->auth_failed : 0;
}

unsigned engine_quic_mismatch(const struct flow_hs *hs)
{
	unsigned diff = 0;

	if (!hs->quic)
		return 0;
	for (int s = 0; s < QUIC_SPACE_N; s++)
		for (int d = 0; d < QUIC_DIR_N; d++)
			diff |= quic_crypto_stream(&hs->quic->conn, (enum quic_dir)d,
			                           (enum quic_space)s)->diff;
	return diff ? REASM_DIFF_RETRANS : 0u;
}

/* A CRYPTO stream stopped or refused data at a limit (quic_crypto_max,
 * quic_crypto_gap, the held pieces, the memcap): what ended its handshake
 * early, for the coverage. */
int engine_quic_limited(const struct flow_hs *hs)
{
	if (!hs->quic)
		return 0;
	for (int s = 0; s < QUIC_SPACE_N; s++)
		for (int d = 0; d < QUIC_DIR_N; d++) {
			const struct quic_crypto *st = quic_crypto_stream(&hs->quic->conn,
			                                                  (enum quic_dir)d,
			                                                  (enum quic_space)s);

			if (st->state == QUIC_CRYPTO_STOPPED || st->gap_refused)
				return 1;
		}
	return 0;
}

/* ---- the CRYPTO streams into the analyser ------------------------------ */

/* New in-order bytes of a stream (quic_crypto_fn): the Initial streams and
 * the server's Handshake stream go to the TLS session; the client's
 * Handshake stream (its Finished) is only a sign that the server's flight
 * is over.  After a ServerHello a TLS 1.3 session wants its key, looked up
 * at once so that a Handshake packet coalesced behind the Initial opens. */
static void on_crypto(void *arg, struct quic_conn *c, enum quic_dir dir, enum quic_space space)
{
	struct engine_quic *q = arg;
	struct flow_hs *hs = q->f->hs;
	struct tls_session *t = engine_tls(hs);
	const uint8_t *p;
	size_t n = quic_crypto_pending(c, dir, space, &p);

	if (n == 0)
		return;
	if (!t || t->decision != TLS_UNDECIDED || (space == QUIC_SPACE_HANDSHAKE &&
	                                            dir == QUIC_DIR_CLIENT)) {
		quic_crypto_consume(c, dir, space, n);
		return;
	}
	tls_handshake_feed(t, dir == QUIC_DIR_CLIENT ? TLS_CLIENT : TLS_SERVER, p, n);
	quic_crypto_consume(c, dir, space, n);
	if (t->decision == TLS_UNDECIDED && t->t13 == TLS13_NEED_KEY && !q->refeeding)
		engine_tls_fed(q->e, q->f);
}

/* ---- held datagrams ------------------------------------------------------ */

/* Keep a server datagram that carried Handshake packets not yet opened
 * (their key may come later on live capture).  Bounded by QUIC_HELD_MAX a
 * flow and by --memcap, as every buffer of a flow's handshake is: a
 * datagram not kept is counted (quic_held_limit, or the memcap's). */
static void hold(struct engine_quic *q, const uint8_t *buf, size_t len)
{
	size_t need = q->held_len + 4 + len;

	if (need > QUIC_HELD_MAX) {
		g_stats.quic_held_limit++;
		return;
	}
	if (need > q->held_cap) {
		size_t cap = q->held_cap ? q->held_cap : 4096;
		uint8_t *nb;

		while (cap < need)
			cap *= 2;
		if (cap > QUIC_HELD_MAX)
			cap = QUIC_HELD_MAX;
		if (g_stats.mem_in_use + (cap - q->held_cap) > q->e->o.lim->total_memcap) {
			g_stats.reasm_total_memcap++;
			return;
		}
		nb = realloc(q->held, cap);   /* owned by q; engine_quic_free */
		if (!nb) {
			g_stats.quic_held_limit++;
			return;
		}
		stats_mem_add(cap - q->held_cap);
		q->held = nb;
		q->held_cap = cap;
	}
	q->held[q->held_len] = (uint8_t)(len >> 24);
	q->held[q->held_len + 1] = (uint8_t)(len >> 16);
	q->held[q->held_len + 2] = (uint8_t)(len >> 8);
	q->held[q->held_len + 3] = (uint8_t)len;
	memcpy(q->held + q->held_len + 4, buf, len);
	q->held_len += 4 + len;
}

/* The held datagrams read again, now that the keys are there (the packet
 * layer opens each packet again; CRYPTO data already held compares equal). */
static void refeed(struct engine_quic *q)
{
	size_t off = 0;

	q->refeeding = 1;
	while (off + 4 <= q->held_len) {
		size_t len = (size_t)q->held[off] << 24 | (size_t)q->held[off + 1] << 16 |
		             (size_t)q->held[off + 2] << 8 | q->held[off + 3];

		if (len > q->held_len - off - 4)
			break;
		q->in_datagram = 1;
		quic_datagram(&q->conn, QUIC_DIR_SERVER, q->held + off + 4, len, NULL);
		q->in_datagram = 0;
		off += 4 + len;
	}
	q->refeeding = 0;
	stats_mem_sub(q->held_cap);
	free(q->held);
	q->held = NULL;
	q->held_len = q->held_cap = 0;
}

int engine_quic_keyed(struct engine *e, struct flow *f, struct tls_session *t,
                      const uint8_t *secret, size_t len)
{
	struct engine_quic *q = f->hs->quic;

	(void)e;
	if (quic_conn_set_keys(&q->conn, QUIC_SPACE_HANDSHAKE, QUIC_DIR_SERVER, t->cipher, secret,
	                       len) < 0) {
		tls_tls13_no_key(t, T13_FAILED, "QUIC: Handshake keys could not be made from the "
		                 "key log secret");
		return TLS_DECIDED;
	}
	q->keyed = 1;
	if (tls_quic_keyed(t) == TLS_DECIDED)
		return TLS_DECIDED;
	/* Not from inside the packet layer (a CRYPTO callback): it is not
	 * reentrant, so the held datagrams wait until the current one is
	 * read (handshake_datagram). */
	if (q->held_len && q->in_datagram)
		q->refeed_due = 1;
	else if (q->held_len)
		refeed(q);
	return t->decision != TLS_UNDECIDED ? TLS_DECIDED : TLS_MORE;
}

/* ---- a datagram's way ---------------------------------------------------- */

/* Could this datagram open a QUIC connection: a long header Initial of
 * version 1 or 2, in a client-sized datagram?  Only such a datagram makes
 * a flow: the rest of a span port's UDP costs this test. */
static int client_initial(const struct pkt *p)
{
	const uint8_t *b = p->payload;
	uint32_t v;
	unsigned type;

	if (p->payload_len < QUIC_MIN_CLIENT_DGRAM || (b[0] & 0xc0) != 0xc0)
		return 0;
	v = (uint32_t)b[1] << 24 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 8 | b[4];
	type = (b[0] >> 4) & 3u;
	if (v != QUIC_V1 && v != QUIC_V2) {
		/* Another version (a draft, a grease one, Google's): its keys
		 * are not RFC 9001's or 9369's.  Counted, not guessed at; a
		 * Version Negotiation may bring the client back in v1. */
		if (v != 0)
			g_stats.quic_pkt_unsupported++;
		return 0;
	}
	return (v == QUIC_V1 && type == 0) || (v == QUIC_V2 && type == 1);
}

static struct flow *get_flow(struct engine *e, const struct pkt *p, int *side)
{
	struct flow *f;
	int created;

	f = flow_lookup(e->ft, p, 0, side, &created);
	if (f || !client_initial(p))
		return f;
	/* A server's port sent it: the client's Initial was missed, and
	 * with it the DCID the Initial keys come from. */
	if (!e->o.any_port && port_inspected(e, p->sport) && !port_inspected(e, p->dport))
		return NULL;
	f = engine_flow_new(e, p, side);
	if (!f)
		return NULL;
	g_stats.quic_flows++;
	f->client = (int8_t)*side;
	return f;
}

/* The handshake state of a new QUIC flow: flow_hs (with the TLS
 * analyser's state) and the QUIC connection.  Owned by f; hs_free. */
static int start_flow(struct engine *e, struct flow *f)
{
	struct engine_quic *q;
	struct flow_hs *hs;

	if (engine_make_room(e, hs_charge(e) + sizeof(*q) + ENGINE_HS_HEADROOM, f, 0) < 0) {
		g_stats.reasm_total_memcap++;
		return -1;
	}
	hs = calloc(1, e->hs_size);
	q = calloc(1, sizeof(*q));
	if (!hs || !q) {
		free(hs);
		free(q);
		return -1;
	}
	stats_mem_add(hs_charge(e) + sizeof(*q));
	hs->mem.lim = e->o.lim;
	hs->flow = f;
	reasm_init(&hs->rd[0]);
	reasm_init(&hs->rd[1]);
	hs->an_flags = engine_have_keylog(e) || fingerprinting(e) ? AN_FOLLOW_ENCRYPTED : 0u;
	hs->an = &analyser_tls;
	hs->an->init(hs->an_state, e->o.lim, hs->an_flags);
	hs->started[AN_CLIENT] = hs->started[AN_SERVER] = 1;
	if (e->ndpi)
		hs->cf = classify_flow_new();
	q->e = e;
	q->f = f;
	quic_conn_init(&q->conn, e->o.lim, on_crypto, q);
	hs->quic = q;
	f->hs = hs;
	return 0;
}

/* Is the server's flight over?  The client sends 1-RTT (short header)
 * packets only once it has the whole flight and sent its Finished; its
 * Handshake packets are no sign (it acknowledges the server's as they
 * come), nor are the server's own 1-RTT packets (0.5-RTT data may follow
 * its flight before the client has it all).  A CONNECTION_CLOSE ends it
 * too. */
static int flight_over(enum quic_dir dir, const struct quic_dgram_result *r)
{
	return (r->events & QUIC_EV_CLOSE) || (dir == QUIC_DIR_CLIENT && (r->events & QUIC_EV_SHORT));
}

/* The server's Handshake packets not opened: measured as a TLS 1.3 flight
 * over TCP is (tls_flight_count), and held while a key may still come.
 * One too short for more than an ACK or a PING is not measured, as a TCP
 * segment without payload is not: whether a client's PING draws one
 * before its Finished (Chromium's does from ngtcp2) is timing, and would
 * split one server's fingerprint in two. */
static void server_unopened(struct engine *e, struct engine_quic *q, struct tls_session *t,
                            const struct pkt *p, const struct quic_dgram_result *r)
{
	int unopened = 0;

	for (unsigned i = 0; i < r->n_pkts; i++)
		if (r->pkts[i].type == QUIC_PT_HANDSHAKE && r->pkts[i].opened != 1) {
			unopened = 1;
			if (t->t13 != TLS13_COLLECT && t->t13 != TLS13_NEED_KEY)
				continue;
			if (quic_pkt_control_only(&r->pkts[i]))
				g_stats.quic_flight_control_only++;
			else
				tls_flight_count(t, r->pkts[i].len);
		}
	if (unopened && !q->keyed && t->t13 == TLS13_NEED_KEY && e->o.keylog_wait_us > 0)
		hold(q, p->payload, p->payload_len);
}

static void handshake_datagram(struct engine *e, struct flow *f, const struct pkt *p,
                               enum quic_dir dir)
{
	struct flow_hs *hs = f->hs;
	struct engine_quic *q = hs->quic;
	struct tls_session *t = engine_tls(hs);
	struct quic_dgram_result r;

	if (e->keep_packets)
		evidence_log_add(&hs->pkts, p->ts_us, p->l3, p->l3_len, EVIDENCE_DEF_FLOW_BYTES,
		                 e->o.lim->total_memcap);
	if (hs->cf && hs->cf_pkts < e->o.lim->ndpi_packets) {
		hs->cf_pkts++;
		classify_packet(e->ndpi, hs->cf, p->l3, p->l3_len, p->ts_us);
	}
	memset(&r, 0, sizeof(r));
	q->in_datagram = 1;
	quic_datagram(&q->conn, dir, p->payload, p->payload_len, &r);
	q->in_datagram = 0;
	for (unsigned i = 0; i < r.n_pkts; i++) {
		q->opened += r.pkts[i].opened == 1;
		q->auth_failed += r.pkts[i].opened == -1;
	}
	if (q->refeed_due) {
		q->refeed_due = 0;
		refeed(q);
	}
	if (dir == QUIC_DIR_SERVER && t)
		server_unopened(e, q, t, p, &r);
	if (engine_tls_packet(e, f, dir == QUIC_DIR_CLIENT ? AN_CLIENT : AN_SERVER, 0))
		goto decide;
	if (hs->confirming) {
		if (flight_over(dir, &r))
			engine_confirm_done(e, f);
		return;
	}
	if (hs->an->decided(hs->an_state) != AN_UNDECIDED)
		goto decide;
	if (flight_over(dir, &r) && t && t->sh_seen) {
		/* Live, a secret may still be appended to the key log: the
		 * flight's datagrams are held, and the wait (engine_tls.c)
		 * ends it, not the client's 1-RTT packets. */
		if (t->t13 == TLS13_NEED_KEY && e->o.keylog_wait_us > 0 && hs->key_wait_since &&
		    e->now - hs->key_wait_since < e->o.keylog_wait_us)
			return;
		engine_tls13_flight_end(e, f);
		goto decide;
	}
	return;
decide:
	if (hs->an->decided(hs->an_state) == AN_DONE_ON_SERVER && !flight_over(dir, &r)) {
		/* Wait for the client's sign (see the top of the file). */
		hs->confirming = 1;
		hs->decided_ts = e->now;
		return;
	}
	if (hs->an->decided(hs->an_state) == AN_DONE_ON_SERVER)
		engine_confirm_done(e, f);
	else
		engine_decide(e, f, NULL);
}

/* A datagram no flow took.  A Version Negotiation answering a client's
 * Initial in a version not read (no flow was made for it: RFC 9000 §6.1,
 * the client then starts again in one that is) is counted as one inside a
 * flow is: the negotiation is seen, not silently dropped. */
static void flowless(const struct pkt *p)
{
	struct quic_hdr h;

	if (quic_parse_header(p->payload, p->payload_len, &h) > 0 && h.type == QUIC_PT_VN)
		g_stats.quic_vn++;
}

void engine_quic_packet(struct engine *e, struct pkt *p)
{
	struct flow *f;
	int side;

	if (p->payload_len == 0)
		return;
	f = get_flow(e, p, &side);
	if (!f) {
		flowless(p);
		return;
	}
	f->pkts[side]++;
	f->bytes[side] += p->payload_len;
	flow_touch(e->ft, f, p->ts_us);
	if (f->state != FLOW_HANDSHAKE)
		return;   /* decided: a table look-up and two counters */
	if (!f->hs && start_flow(e, f) < 0) {
		f->state = FLOW_IGNORED;
		return;
	}
	handshake_datagram(e, f, p, side == f->client ? QUIC_DIR_CLIENT : QUIC_DIR_SERVER);
}
