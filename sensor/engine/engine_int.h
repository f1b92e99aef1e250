/*
 * engine_int.h - what the engine's files share (sensor/engine/engine.c,
 * engine_tcp.c, engine_tls.c, engine_report.c) and nothing else includes:
 * the engine itself, its memcap charges, its tables of analysers, and the
 * steps one file hands to another.  The contract with the rest of
 * certsentry is include/engine/engine.h.
 */
#ifndef CS_ENGINE_INT_H
#define CS_ENGINE_INT_H

#include <stdalign.h>
#include <stddef.h>
#include <sys/queue.h>

#include "analyser/analyser.h"
#include "verdict/chaincache.h"
#include "analyser/classify.h"
#include "capture/defrag.h"
#include "engine/engine.h"
#include "flow/flow.h"
#include "analyser/tls.h"
#include "event/evidence.h"
#include "transport/reasm.h"

/* Everything only needed until the handshake is decided; allocated at the
 * flow's first data segment (a SYN flood costs flow records only) and
 * freed at the decision (a decided flow costs its record only).  Owned by
 * struct flow (f->hs).  One allocation of e->hs_size bytes: the
 * analyser's state lives at its end (an_state), so an inspected flow
 * costs one malloc whichever analyser it turns out to carry. */
struct flow_hs {
	struct reasm_mem mem;
	struct reasm_dir rd[2];         /* by an_dir: client, server */
	size_t skipped[2];              /* bytes skipped before that start */
	/* The flow's analyser, NULL until a probe found its protocol in
	 * either direction (then an_state is initialised, and released with
	 * hs); an_flags (below) are its init flags, fixed when the flow
	 * started. */
	const struct analyser *an;
	struct classify_flow *cf;       /* owned; NULL once frozen */
	unsigned cf_pkts;
	/* After the Certificate is parsed (confirming, below) the report
	 * waits until the client acknowledges the server's bytes up to
	 * confirm_seq: until then a retransmission of them is still
	 * compared with the copy verified. */
	uint32_t confirm_seq;
	uint64_t decided_ts;
	uint64_t key_wait_since;        /* TLS 1.3: waiting for the key log since */
	/* A believed RST or FIN ended the connection before its handshake
	 * was decided: bytes already in flight are still read until
	 * closing_since + close_grace (DESIGN "Bad checksums, RST and FIN"),
	 * the flow sitting meanwhile on the engine's list of closing flows. */
	uint64_t closing_since;         /* 0: not closing */
	TAILQ_ENTRY(flow_hs) closing;
	struct flow *flow;              /* the flow that owns this state */
	uint16_t win[2];                /* by an_dir: last window advertised */
	/* Small fields together, so that the analyser's state starts at a
	 * multiple of 16 (max_align_t) without padding before it. */
	uint8_t started[2];             /* by an_dir: the analyser's start found */
	uint8_t confirming;             /* waiting for confirm_seq (above) */
	uint8_t an_flags;               /* AN_FOLLOW_* for an->init */
	struct evidence_log pkts;       /* --evidence: the packets so far */
	struct engine_quic *quic;       /* owned: a QUIC flow's connection
	                                   (engine_quic.c); NULL over TCP */
	/* The analyser's state: an->state_size bytes, room for the largest
	 * registered (e->hs_size). */
	alignas(max_align_t) unsigned char an_state[];
};

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
	const char *const *ifaces;    /* live: views (engine_set_ifaces); NULL for files */
	size_t n_ifaces;
	uint8_t iface;                /* of the packet being handled: index into ifaces */
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
	size_t hs_size;               /* a struct flow_hs with the largest analyser state */
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

static inline size_t hs_charge(const struct engine *e)
{
	return e->hs_size + MALLOC_OVERHEAD +
	       (e->ndpi ? classify_flow_size() + 2 * MALLOC_OVERHEAD : 0);
}

/* Are TLS 1.3 flights measured (a baseline to compare with, or one to
 * learn)? */
static inline int fingerprinting(const struct engine *e)
{
	return e->o.baseline != NULL || e->o.learn != NULL;
}

/* Is the port one of those inspected (--ports)? */
static inline int port_inspected(const struct engine *e, uint16_t port)
{
	return engine_port_inspected(&e->o, port);
}

/* ---- engine.c: the tables, the end of a flow's handshake phase ---- */

/* The analysers a stream transport probes for, in the order tried (the
 * registration line is in engine.c). */
extern const struct analyser *const engine_analysers[];
extern const size_t engine_n_analysers;


/* End the handshake phase of f: report it if it was TLS, then free. */
void engine_decide(struct engine *e, struct flow *f, const char *note);
/* Notes of a handshake ended early that the coverage tells apart (by
 * address: engine_report compares the pointer); any other note is a
 * connection or capture that ended first. */
extern const char engine_note_gap[], engine_note_limit[], engine_note_evicted[];
/* The report of a parsed chain, deferred until the client's
 * acknowledgement (see flow_hs), then the flow decided. */
void engine_confirm_done(struct engine *e, struct flow *f);
/* The flow's end (its handshake decided at last), then freed. */
void engine_flow_release(struct engine *e, struct flow *f, const char *why);
/* Closing flows past their grace, idle flows, alert windows. */
void engine_expire(struct engine *e);

/* ---- engine_tcp.c: the TCP transport ---- */

/* Evict the oldest flows (never keep) until the table has a free slot
 * (with slot) and need more bytes fit under --memcap.  0 when there is
 * room. */
int engine_make_room(struct engine *e, size_t need, const struct flow *keep, int slot);
/* A new flow for p (room made under --memcap, counted), in its handshake
 * phase; *side is the key side of p's sender.  NULL when there is no room. */
struct flow *engine_flow_new(struct engine *e, const struct pkt *p, int *side);

/* A decoded TCP segment (p->proto IPPROTO_TCP) on an inspected port. */
void engine_tcp_packet(struct engine *e, struct pkt *p);

/* ---- engine_tls.c: what the engine must still know of TLS ----
 *
 * TLS 1.3 certificates are read only with the server handshake traffic
 * secret from a key log, which the engine looks up: the log is shared by
 * every engine, a live one waits for it on packet time, and the secret
 * goes into the evidence file (event stage), none of which the analyser
 * stage may reach.  A flow whose analyser is not TLS passes through these
 * unchanged (they return 0). */

/* The flow's TLS session, or NULL when its analyser is not TLS (or not
 * found yet).  Also what engine_report reads. */
static inline struct tls_session *engine_tls(struct flow_hs *hs)
{
	return hs && hs->an == &analyser_tls ? (struct tls_session *)(void *)hs->an_state : NULL;
}

/* After the analyser was fed and wants more: a TLS 1.3 handshake that
 * now waits for its secret looks it up.  1 when that decided f. */
int engine_tls_fed(struct engine *e, struct flow *f);
/* Any packet of f in its handshake phase, d its direction,
 * data the packet carries trusted payload: a moment to look again for a
 * waiting secret (live capture), and the client's data after the
 * server's 1.3 flight ends the flight a fingerprint measures.  1 when
 * that decided f. */
int engine_tls_packet(struct engine *e, struct flow *f, enum an_dir d, int data);
/* The last chance for a waiting TLS 1.3 handshake's secret, or the end
 * of a flight measured for its fingerprint: 1 when it decided f. */
int engine_tls13_flight_end(struct engine *e, struct flow *f);
/* Are TLS 1.3 secrets to be looked for (a key log that holds some)? */
int engine_have_keylog(const struct engine *e);

/* ---- engine_quic.c: the QUIC transport ---- */

/* A UDP datagram on an inspected port (engine_port_wanted). */
void engine_quic_packet(struct engine *e, struct pkt *p);
/* Is hs a QUIC flow's?  Its connection's version, and the CRYPTO
 * streams' mismatch as REASM_DIFF_* bits, for the report. */
int engine_quic_flow(const struct flow_hs *hs);
uint32_t engine_quic_version(const struct flow_hs *hs);
void engine_quic_counts(const struct flow_hs *hs, uint64_t *opened, uint64_t *auth_failed);
unsigned engine_quic_mismatch(const struct flow_hs *hs);
/* Did a limit stop one of hs's CRYPTO streams? */
int engine_quic_limited(const struct flow_hs *hs);
/* The key log's server handshake traffic secret of a QUIC flow's TLS
 * session: its Handshake packets open from now on (engine_tls.c calls it
 * where TCP's session takes the secret).  TLS_MORE or TLS_DECIDED. */
int engine_quic_keyed(struct engine *e, struct flow *f, struct tls_session *t,
                      const uint8_t *secret, size_t len);
void engine_quic_free(struct flow_hs *hs);

/* ---- engine_report.c ---- */

/* The verdict for one handshake: parse the chain (or find it in the
 * chain cache), ask the policy, write. */
void engine_report(struct engine *e, struct flow *f, const char *note);

#endif
