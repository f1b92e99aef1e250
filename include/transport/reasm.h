/*
 * reasm.h - TCP reassembly of one direction, until the handshake is decided.
 *
 * In-order bytes are appended to one contiguous buffer owned by the
 * direction; segments that arrive early wait in a bounded, sorted list.
 * The whole handshake phase stays buffered (bounded by the flow memcap) so
 * that a retransmission can be compared with the copy already delivered:
 * the first copy wins, and a later copy with different bytes is counted
 * (an attacker may show the sensor one certificate and the client another).
 * All sequence arithmetic wraps at 2^32 (RFC 9293 §3.4).
 *
 * A segment whose TCP checksum is bad is neither trusted nor thrown away
 * (DESIGN "Bad checksums"): it waits, as a tentative copy of its bytes, in
 * a second bounded list.  A valid copy of the same bytes replaces it,
 * whichever came first (bytes that differ are flagged, as for a
 * retransmission); when the receiver acknowledges past the in-order edge
 * and no valid copy came, the tentative bytes are delivered and counted:
 * the receiver evidently got these bytes, and the capture mangled its copy
 * (a NIC, GRO, a hand-edited test capture).  A decoy that an attacker
 * injects with a bad checksum, which the client's TCP drops, therefore
 * never wins over the real segment.
 */
#ifndef CS_REASM_H
#define CS_REASM_H

#include <stddef.h>
#include <stdint.h>

#include "core/cs_limits.h"

static inline int32_t seq_diff(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b);
}

static inline int seq_lt(uint32_t a, uint32_t b)
{
	return seq_diff(a, b) < 0;
}

static inline int seq_leq(uint32_t a, uint32_t b)
{
	return seq_diff(a, b) <= 0;
}

struct reasm_seg {
	struct reasm_seg *next;
	uint32_t seq;
	uint32_t len;
	uint32_t cap;             /* bytes allocated in data (len may shrink) */
	uint8_t data[];
};

/* Bits of reasm_dir.overlap_diff: which copy differed from which. */
#define REASM_DIFF_RETRANS   1u   /* a valid retransmission, first copy kept */
#define REASM_DIFF_TENTATIVE 2u   /* a bad-checksum copy, valid copy kept */

enum reasm_state {
	REASM_IDLE = 0,   /* start not known yet */
	REASM_ACTIVE,
	REASM_STOPPED,    /* limit hit or gap: inspection of this direction over */
};

struct reasm_dir {
	enum reasm_state state;
	uint32_t next_seq;        /* next byte expected */
	uint32_t base_seq;        /* sequence number of buf[0] */
	uint8_t *buf;             /* in-order bytes; owned, freed in reasm_free */
	size_t len, cap;
	size_t consumed;          /* bytes of buf handed to the consumer */
	struct reasm_seg *ooo;    /* early segments, sorted by seq; owned */
	size_t n_ooo;
	struct reasm_seg *tent;   /* bad-checksum copies past next_seq, sorted; owned */
	size_t n_tent;
	uint64_t tent_used;       /* bytes delivered from tentative copies */
	int syn_seen;
	int fin_seen;
	unsigned overlap_diff;    /* REASM_DIFF_*: a copy differed from the kept one */
};

/* Memory shared by both directions of a flow, checked against the caps. */
struct reasm_mem {
	const struct cs_limits *lim;  /* not owned */
	size_t flow_bytes;            /* both directions of one flow */
};

enum reasm_result {
	REASM_OK = 0,
	REASM_LIMIT = -1,   /* a cap was hit: direction stopped (counted) */
};

void reasm_init(struct reasm_dir *d);
/* Release every buffer; memory returned to m. */
void reasm_free(struct reasm_dir *d, struct reasm_mem *m);
/* Drop buffered bytes (direction no longer inspected) but keep the state. */
void reasm_stop(struct reasm_dir *d, struct reasm_mem *m);

/* The first byte of the stream has sequence number seq (ISN + 1 after a
 * SYN, or a mid-stream pick-up). */
void reasm_start(struct reasm_dir *d, uint32_t seq);

/* Add one segment's payload.  Overlaps, retransmissions and early
 * segments are handled; limits are counted in g_stats. */
enum reasm_result reasm_add(struct reasm_dir *d, struct reasm_mem *m,
                            uint32_t seq, const uint8_t *data, size_t len);

/* Keep a segment whose checksum is bad as a tentative copy of its bytes
 * (bounded by max_ooo_segs and the memcaps like early segments; past a
 * limit it is dropped and counted, the direction goes on). */
void reasm_add_tentative(struct reasm_dir *d, struct reasm_mem *m,
                         uint32_t seq, const uint8_t *data, size_t len);

/* The receiver acknowledged every byte before ack: tentative bytes at the
 * in-order edge that it has evidently received are delivered.  Returns
 * the number of bytes delivered (0: nothing new), or -1 when a cap was
 * hit (the direction is stopped, counted). */
long reasm_ack(struct reasm_dir *d, struct reasm_mem *m, uint32_t ack);

static inline int reasm_has_tentative(const struct reasm_dir *d)
{
	return d->n_tent > 0;
}

/* Bytes delivered in order but not yet consumed. */
static inline size_t reasm_pending(const struct reasm_dir *d, const uint8_t **p)
{
	*p = d->buf ? d->buf + d->consumed : NULL;
	return d->len - d->consumed;
}

static inline void reasm_consume(struct reasm_dir *d, size_t n)
{
	d->consumed += n;
}

/* Are there early segments still waiting for a hole to be filled? */
static inline int reasm_has_hole(const struct reasm_dir *d)
{
	return d->n_ooo > 0;
}

#endif
