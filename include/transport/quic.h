/*
 * quic.h - the QUIC packet layer of one connection, as a passive reader
 * sees it (RFC 9000, 9001; RFC 9369 for version 2): UDP datagrams in,
 * CRYPTO stream bytes out, in order, per packet number space and
 * direction.  The engine calls it; the TLS handshake parser reads what it
 * hands out (tls_handshake_feed), as it reads TCP's reassembled stream.
 *
 * What it reads:
 *   - long headers (Initial, 0-RTT, Handshake, Retry, Version
 *     Negotiation) of versions 1 and 2 (whose type bits differ, RFC 9369
 *     §3.2), several coalesced in one datagram (their Length fields), at
 *     most CS_QUIC_MAX_COALESCED a datagram; a short header is recognised
 *     and skipped (1-RTT is never read), as are 0-RTT packets;
 *   - Initial packets with keys anyone derives from the client's first
 *     Destination Connection ID (RFC 9001 §5.2); Handshake packets with
 *     keys the caller installs from a key log's handshake traffic secrets
 *     (quic_conn_set_keys); header protection removed and the full packet
 *     number recovered from the largest one opened in that space (RFC
 *     9000 Appendix A.3); a packet that fails authentication is counted
 *     and never parsed;
 *   - frames: PADDING, PING, ACK (0x02, 0x03), CRYPTO, CONNECTION_CLOSE
 *     (0x1c, 0x1d); any other frame is not allowed in Initial and
 *     Handshake packets (RFC 9000 §12.4, Table 3): the packet's frames
 *     stop there, counted as malformed;
 *   - Retry: its integrity tag checked (RFC 9001 §5.8) with the DCID the
 *     client used; a valid one re-derives the Initial keys from the
 *     Retry's Source Connection ID and restarts the Initial streams;
 *   - Version Negotiation: the client's next Initial in another version
 *     (with the same or a new DCID) restarts the connection there;
 *     compatible negotiation (RFC 9369 §4: the server answers a v1
 *     Initial in v2) derives the other version's keys from the same DCID.
 *
 * CRYPTO streams: data is placed by offset across packets and datagrams
 * in any order.  Every byte is held from offset 0 while the handshake is
 * read, so that a copy arriving again (a retransmission, an overlap) is
 * compared with the one held: the first copy wins, a different one is
 * counted and flagged (QUIC_DIFF, as TCP's REASM_DIFF_RETRANS: an
 * attacker may show the sensor one certificate and the client another).
 * Limits (include/core/cs_limits.h), each counted when hit: data past
 * quic_crypto_gap bytes ahead of the in-order point is refused; a stream
 * reaching beyond quic_crypto_max bytes stops; a frame that would leave
 * more than CS_QUIC_CRYPTO_RANGES pieces held apart is refused.  Stream
 * memory is charged to the flow and total memcaps like TCP reassembly's
 * (--flow-memcap, --memcap; the same counters).
 *
 * Ownership: the caller owns struct quic_conn (in the flow's handshake
 * state); quic_conn_init takes nothing, the streams' buffers and the key
 * sets' cipher contexts are allocated as they are needed and owned by the
 * connection until quic_conn_free.  A datagram is a const view for one
 * call; nothing keeps a pointer into it.  Opening a packet uses a
 * per-thread scratch buffer: no allocation per packet.
 *
 * Feeding the same datagram twice is harmless (its packets open again,
 * their CRYPTO data compares equal): a caller that waits for a key log
 * may keep Handshake datagrams and feed them again once the keys exist.
 *
 * Counters: g_stats.quic_* (stats_def.h).
 */
#ifndef CS_QUIC_H
#define CS_QUIC_H

#include <stddef.h>
#include <stdint.h>

#include "core/cs_limits.h"
#include "secrets/quic_keys.h"

/* A datagram's payload is at most 65527 bytes (UDP over IPv6 without
 * jumbograms); RFC 9000 §14 needs 1200. */
#define QUIC_MAX_DATAGRAM  65527u
/* RFC 9000 §16: variable-length integers are below 2^62. */
#define QUIC_VARINT_MAX    ((UINT64_C(1) << 62) - 1)

/* Parse errors (negative returns of the parsers below). */
#define QUIC_E_TRUNC   (-1)   /* a field runs past the end */
#define QUIC_E_FORMAT  (-2)   /* a field's value is impossible */

enum quic_ptype {
	QUIC_PT_INITIAL = 0,
	QUIC_PT_0RTT,
	QUIC_PT_HANDSHAKE,
	QUIC_PT_RETRY,
	QUIC_PT_VN,          /* Version Negotiation: version 0 */
	QUIC_PT_SHORT,       /* 1-RTT: not read */
	QUIC_PT_UNKNOWN,     /* a long header of a version not read: skipped */
};

enum quic_space {
	QUIC_SPACE_INITIAL = 0,
	QUIC_SPACE_HANDSHAKE,
	QUIC_SPACE_N,
};

/* Who sent a datagram: the caller knows (the flow's roles). */
enum quic_dir {
	QUIC_DIR_CLIENT = 0,
	QUIC_DIR_SERVER,
	QUIC_DIR_N,
};

/* One packet's header, as views into the datagram. */
struct quic_hdr {
	enum quic_ptype type;
	uint8_t first;             /* first byte, still protected */
	uint32_t version;          /* 0 for a short header */
	const uint8_t *dcid;       /* short header: NULL (its length is not on the wire) */
	size_t dcid_len;
	const uint8_t *scid;
	size_t scid_len;
	const uint8_t *token;      /* Initial: its token; Retry: the Retry Token */
	size_t token_len;
	const uint8_t *retry_tag;  /* Retry: its 16-byte integrity tag */
	const uint8_t *versions;   /* Version Negotiation: the list, 4 bytes each */
	size_t versions_len;
	size_t pn_off;             /* Initial, 0-RTT, Handshake: where the packet number starts */
	size_t len;                /* the packet's bytes in the datagram */
};

/* A variable-length integer (RFC 9000 §16).  Returns its encoded length
 * (1, 2, 4, 8) or QUIC_E_TRUNC. */
int quic_varint(const uint8_t *buf, size_t len, uint64_t *v);

/* One packet's header at the start of buf (the rest of the datagram).
 * Returns the packet's length (> 0; a short header takes the rest of the
 * datagram), or QUIC_E_TRUNC / QUIC_E_FORMAT (a Length past the end of
 * the datagram is QUIC_E_TRUNC; a fixed bit of 0, a CID longer than 20
 * bytes for v1/v2, an empty Version Negotiation list are QUIC_E_FORMAT). */
int quic_parse_header(const uint8_t *buf, size_t len, struct quic_hdr *h);

/* RFC 9000 Appendix A.3: the full packet number from its truncated
 * pn_nbits-bit encoding and the largest opened in its space (have_largest
 * 0: none yet). */
uint64_t quic_decode_pn(uint64_t largest, int have_largest, uint64_t truncated,
                        unsigned pn_nbits);

/* Flags of a CRYPTO stream (quic_crypto.diff). */
#define QUIC_DIFF          1u   /* a copy differed from the bytes held */

enum quic_crypto_state {
	QUIC_CRYPTO_ACTIVE = 0,
	QUIC_CRYPTO_STOPPED,       /* quic_crypto_max, or the memcap: no more data taken */
};

struct quic_range {
	uint64_t lo, hi;           /* [lo, hi) */
};

/* One CRYPTO stream (a direction, a packet number space). */
struct quic_crypto {
	enum quic_crypto_state state;
	uint8_t *buf;              /* bytes [0, cap) of the stream; owned, quic_conn_free */
	size_t cap;
	uint64_t contig;           /* every byte below is held: the in-order point */
	uint64_t consumed;         /* bytes handed to the caller (quic_crypto_consume) */
	struct quic_range held[CS_QUIC_CRYPTO_RANGES];  /* above contig, sorted, apart */
	unsigned n_held;
	unsigned diff;             /* QUIC_DIFF */
	uint64_t gap_refused;      /* frames refused by the limits (also in g_stats) */
};

/* Bits of struct quic_dgram_result.events and quic_conn.events. */
#define QUIC_EV_INITIAL_KEYS  0x001u   /* Initial keys derived (first Initial, Retry, new version) */
#define QUIC_EV_RETRY         0x002u   /* a valid Retry: Initial streams restarted */
#define QUIC_EV_VN            0x004u   /* a Version Negotiation packet */
#define QUIC_EV_RESTART       0x008u   /* the client restarted in another version */
#define QUIC_EV_CLOSE         0x010u   /* a CONNECTION_CLOSE was opened */
#define QUIC_EV_CRYPTO        0x020u   /* new in-order CRYPTO bytes */
#define QUIC_EV_NO_KEY        0x040u   /* a packet waited for keys the connection lacks */
#define QUIC_EV_AUTH_FAIL     0x080u   /* a packet failed authentication */
#define QUIC_EV_MALFORMED     0x100u   /* a header or frame was malformed */
#define QUIC_EV_SHORT         0x200u   /* a short header packet (1-RTT: the handshake is over) */

/* One packet of a datagram, for fingerprints (count and sizes of the
 * server's Handshake packets without keys) and tests. */
struct quic_pkt_info {
	enum quic_ptype type;
	uint32_t version;
	size_t len;                /* bytes in the datagram */
	size_t protected_len;      /* Initial, 0-RTT, Handshake: the Length field (packet
	                            * number, frames, AEAD tag); 0 for the others */
	int opened;                /* 1 opened, 0 not tried (no key, not read), -1 failed */
	uint64_t pn;               /* when opened */
};

/* The largest Length (packet number, frames, tag) of a packet that can hold
 * no more than an ACK, a PING or PADDING: 4 bytes of packet number at most
 * (RFC 9000 §17.1) and the 16-byte AEAD tag (RFC 9001 §5.3) leave it under
 * 16 bytes of frames, while a server's Finished alone takes 40 (a CRYPTO
 * frame's header and 36 bytes).  A short CRYPTO piece can hide under it
 * too, but the same server sends the same pieces every time: what this
 * bound takes out is what timing puts in (an ACK answering a PING). */
#define QUIC_CONTROL_ONLY_MAX 35u

/* Is this packet, seen without its key, too short to carry handshake
 * data (see QUIC_CONTROL_ONLY_MAX)?  1 or 0; 0 for a packet whose length
 * is not its own (a short header) or that has no Length field. */
int quic_pkt_control_only(const struct quic_pkt_info *pi);

struct quic_dgram_result {
	unsigned events;           /* QUIC_EV_* of this datagram */
	unsigned n_pkts;
	struct quic_pkt_info pkts[CS_QUIC_MAX_COALESCED];
};

struct quic_conn;

/* Called after each packet that added in-order bytes to a stream, before
 * the next coalesced packet is read: the callback may consume them and
 * install keys (the ServerHello in an Initial names the suite that opens
 * the Handshake packet right behind it in the same datagram). */
typedef void (*quic_crypto_fn)(void *arg, struct quic_conn *c, enum quic_dir dir,
                               enum quic_space space);

struct quic_conn {
	const struct cs_limits *lim;  /* not owned */
	uint32_t version;             /* of the client's Initial keys; 0 before the first */
	uint32_t negotiated;          /* of the server's first packet opened; 0 before */
	uint32_t vn_from;             /* the version a Version Negotiation refused, or 0 */
	uint8_t odcid[QUIC_MAX_CID];  /* the client's first DCID (RFC 9000 §7.3) */
	size_t odcid_len;
	uint8_t dcid[QUIC_MAX_CID];   /* the DCID the Initial keys come from */
	size_t dcid_len;
	int have_dcid;
	int retried;                  /* a valid Retry came (one is accepted, §17.2.5.2) */
	/* Keys per space and sender; Initial keys per version (compatible
	 * negotiation: the server may answer in the other version). */
	struct quic_keys keys[QUIC_SPACE_N][QUIC_DIR_N];
	/* Handshake space: the secret and suite each sender's keys come
	 * from (quic_conn_set_keys), kept so that keys of the other version
	 * can be derived when the packets use it.  Wiped in quic_conn_free. */
	uint8_t secret[QUIC_SPACE_N][QUIC_DIR_N][QUIC_SECRET_MAX];
	size_t secret_len[QUIC_SPACE_N][QUIC_DIR_N];
	uint16_t suite[QUIC_SPACE_N][QUIC_DIR_N];
	uint64_t largest_pn[QUIC_SPACE_N][QUIC_DIR_N];
	uint8_t have_pn[QUIC_SPACE_N][QUIC_DIR_N];
	struct quic_crypto crypto[QUIC_SPACE_N][QUIC_DIR_N];
	size_t flow_bytes;            /* stream memory charged to the memcaps */
	unsigned events;              /* QUIC_EV_* since quic_conn_init */
	uint64_t close_error;         /* the first CONNECTION_CLOSE's error code */
	quic_crypto_fn on_crypto;     /* may be NULL */
	void *on_crypto_arg;
};

void quic_conn_init(struct quic_conn *c, const struct cs_limits *lim, quic_crypto_fn on_crypto,
                    void *arg);

/* The connection's version: the one the server answered in (RFC 9368
 * §2.3: with compatible negotiation the server's first Initial is in the
 * negotiated version, which may differ from the client's first), else
 * the client's; 0 before any Initial. */
static inline uint32_t quic_conn_version(const struct quic_conn *c)
{
	return c->negotiated ? c->negotiated : c->version;
}
/* Release the streams and key contexts; memory returned to the memcaps. */
void quic_conn_free(struct quic_conn *c);

/* Read one UDP datagram's payload sent by dir.  res (may be NULL) gets
 * what it held.  Returns the number of packets read (0: nothing QUIC,
 * the first header did not parse). */
int quic_datagram(struct quic_conn *c, enum quic_dir dir, const uint8_t *buf, size_t len,
                  struct quic_dgram_result *res);

/* Keys for a space and sender from a TLS traffic secret (a key log's
 * SERVER_HANDSHAKE_TRAFFIC_SECRET: QUIC_SPACE_HANDSHAKE, QUIC_DIR_SERVER)
 * and the suite the ServerHello chose.  The secret is copied; keys are
 * derived with the labels of the version each packet carries.  0, or -1
 * (the Initial space, whose keys come from the DCID; an unsupported
 * suite; a secret whose length is not the suite's hash's). */
int quic_conn_set_keys(struct quic_conn *c, enum quic_space space, enum quic_dir dir,
                       uint16_t suite, const uint8_t *secret, size_t secret_len);

/* In-order CRYPTO bytes not yet consumed (a view into the stream, valid
 * until the next call on c). */
size_t quic_crypto_pending(const struct quic_conn *c, enum quic_dir dir, enum quic_space space,
                           const uint8_t **p);
void quic_crypto_consume(struct quic_conn *c, enum quic_dir dir, enum quic_space space,
                         size_t n);

/* The stream itself (flags, state), for the caller's report. */
static inline const struct quic_crypto *quic_crypto_stream(const struct quic_conn *c,
                                                           enum quic_dir dir,
                                                           enum quic_space space)
{
	return &c->crypto[space][dir];
}

/* Place data at offset off of a stream: the reassembly on its own, for
 * tests and the fuzz harness (quic_datagram calls it for each CRYPTO
 * frame).  Returns the new in-order bytes (0: none), or -1 when the data
 * was refused by a limit (counted). */
long quic_crypto_add(struct quic_conn *c, enum quic_dir dir, enum quic_space space, uint64_t off,
                     const uint8_t *data, size_t len);

#endif
