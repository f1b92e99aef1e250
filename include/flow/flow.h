/*
 * flow.h - the flow table: one entry per connection, keyed by the
 * transport (IP protocol), both addresses, both ports and the VLAN ids,
 * ordered so that both directions share one entry.  The hash is SipHash-2-4 with a key drawn at start-up,
 * so an attacker cannot aim packets at one bucket.
 *
 * Flows sit on an LRU list ordered by last packet time: the head is the
 * oldest idle flow, which is what idle expiry and eviction take.
 */
#ifndef CS_FLOW_H
#define CS_FLOW_H

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include "capture/decode.h"
#include "core/cs_limits.h"

enum flow_state {
	FLOW_HANDSHAKE = 0,  /* reassembling, parsing */
	FLOW_DECIDED,        /* reported or given up: packets only counted */
	FLOW_IGNORED,        /* never inspected (port, not TLS) */
};

struct flow_hs;   /* the engine's state of a flow being inspected (engine_int.h) */

struct flow_key {
	uint8_t family;
	uint8_t proto;       /* IP protocol: a UDP flow never meets a TCP one */
	uint8_t n_vlan;
	uint16_t vlan[DECODE_MAX_VLAN];
	uint16_t port[2];
	uint8_t addr[2][16];
};


/* Bits of flow.sides, by key side s (0/1). */
#define FLOW_FIN(s)      (1u << (s))         /* a believed FIN from side s */
#define FLOW_CK_OK(s)    (4u << (s))         /* side s sent a valid TCP checksum */
#define FLOW_ISN_MULTI   16u                 /* SYN-ACKs with different ISNs seen */
#define FLOW_CLOSED      32u                 /* a believed RST, or both FINs */

/* Window scale of a side's SYN not seen (or no option): flow.wscale. */
#define FLOW_WSCALE_NONE 0xffu

/* One per connection, for the connection's whole life: a span port holds
 * a million of them, so every byte counts (152 bytes on x86-64, which
 * malloc serves from the same 160-byte chunk as 144; the nDPI result
 * lives in flow_hs, used only at the decision).  The SYN-ACK's shape
 * (fingerprint.h) is kept split, sa_ttl and sa_wscale in what was
 * padding at the end (the key's proto took a byte of the head's), so
 * that the record does not grow into the next chunk.  Packet
 * counts are 32 bits, as Suricata's: they are statistics only. */
struct flow {
	struct flow_key key;
	uint8_t state;                  /* enum flow_state */
	int8_t client;                  /* key side (0/1) of the client, -1 unknown */
	uint8_t syn_side_seen;          /* bit per key side: SYN seen */
	uint8_t sides;                  /* FLOW_FIN, FLOW_CK_OK, FLOW_ISN_MULTI, FLOW_CLOSED */
	uint64_t hash;                  /* also the EVE flow_id: flow_id() */
	struct flow *hnext;             /* bucket chain */
	TAILQ_ENTRY(flow) lru;          /* the table's LRU list, oldest first */
	uint64_t first_ts, last_ts;     /* microseconds */
	uint32_t isn_next[2];           /* by key side: sequence after its SYN */
	uint32_t pkts[2];               /* by key side */
	uint64_t bytes[2];              /* by key side */
	struct flow_hs *hs;             /* owned (engine_int.h); NULL once decided */
	uint16_t sa_mss, sa_win;
	uint32_t sa_opts;
	uint8_t wscale[2];              /* by key side: its SYN's window scale, or NONE */
	uint8_t sa_ttl;                 /* SYN-ACK: initial TTL class, 0 none seen */
	uint8_t sa_wscale;
	uint8_t iface;                  /* live: the interface its first packet was
	                                   read on (engine_set_iface), for EVE in_iface */
};

/* EVE flow_id: the keyed hash cut to 53 bits (exact in a JSON double). */
static inline uint64_t flow_id(const struct flow *f)
{
	return f->hash & ((1ULL << 53) - 1);
}

struct flow_table;

/* NULL on allocation failure.  max_flows from lim; seed for SipHash. */
struct flow_table *flow_table_new(const struct cs_limits *lim, const uint8_t seed[16]);
/* Frees the table; every flow must have been removed (flow_pop_oldest). */
void flow_table_free(struct flow_table *t);

/* Find the flow of p; *side is the key side (0/1) of p's sender.  With
 * create, a missing flow is added unless the table is full (then NULL:
 * the caller evicts and retries). */
struct flow *flow_lookup(struct flow_table *t, const struct pkt *p, int create,
                         int *side, int *created);

/* Mark activity: moves f to the LRU tail. */
void flow_touch(struct flow_table *t, struct flow *f, uint64_t ts);

int flow_table_full(const struct flow_table *t);
size_t flow_table_count(const struct flow_table *t);

/* The oldest flow if it has been idle longer than the timeout at now
 * (or unconditionally when now == UINT64_MAX), unlinked from the table;
 * else NULL.  The caller finishes and frees it. */
struct flow *flow_pop_idle(struct flow_table *t, uint64_t now);
/* The least recently active flow, still linked; NULL when empty. */
struct flow *flow_oldest(const struct flow_table *t);
/* Unlink f (the caller frees it). */
void flow_unlink(struct flow_table *t, struct flow *f);

#endif
