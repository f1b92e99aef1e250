/*
 * decode.h - link, network and transport headers of one captured frame.
 *
 * decode_packet() reads a frame through include/core/buf.h accessors and fills
 * a struct pkt whose pointers are views into the frame: valid only for the
 * current call chain (DESIGN: nothing keeps a pointer into a packet).
 */
#ifndef CS_DECODE_H
#define CS_DECODE_H

#include <stddef.h>
#include <stdint.h>

/* Link types, as libpcap's DLT_* values (not including pcap.h here). */
#define CS_DLT_NULL        0
#define CS_DLT_EN10MB      1
#define CS_DLT_RAW         12   /* Linux value of DLT_RAW */
#define CS_DLT_RAW_BSD     14
#define CS_DLT_RAW_LT      101  /* LINKTYPE_RAW as written in files */
#define CS_DLT_LOOP        108
#define CS_DLT_LINUX_SLL   113
#define CS_DLT_IPV4        228
#define CS_DLT_IPV6        229
#define CS_DLT_LINUX_SLL2  276

#define DECODE_MAX_VLAN    2    /* 802.1Q and QinQ; frames with more tags are skipped */
#define DECODE_MAX_MPLS    8    /* labels before giving up */
#define DECODE_MAX_IP6_EXT 8    /* IPv6 extension headers before giving up */
#define DECODE_MAX_TUNNEL  3    /* nested GRE / ERSPAN / VXLAN / Geneve / IP-in-IP */

#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_PSH 0x08
#define TH_ACK 0x10

/* One IP fragment, as decode_packet() found it (DECODE_FRAG). */
struct pkt_frag {
	uint32_t id;                /* IPv4 identification or IPv6 fragment id */
	uint8_t proto;              /* protocol / next header of the datagram */
	uint16_t offset;            /* bytes */
	int more;                   /* MF set */
	const uint8_t *hdr;         /* IPv4 header, or the IPv6 fixed header; view */
	size_t hdr_len;
	const uint8_t *data;        /* fragment payload; view */
	size_t len;
};

struct pkt {
	uint64_t ts_us;             /* capture time, microseconds since the epoch */
	uint16_t vlan[DECODE_MAX_VLAN];
	uint8_t n_vlan;
	uint8_t family;             /* 4 or 6 */
	uint8_t src[16], dst[16];   /* IPv4 in the first 4 bytes */
	uint16_t sport, dport;
	/* The transport, as the IP protocol number (IPPROTO_TCP: 6): part of
	 * the flow key, and what the engine's transport table is looked up
	 * by.  In what was padding before seq: struct pkt stays 176 bytes. */
	uint8_t proto;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t win;
	const uint8_t *l3;          /* IP header, for nDPI; view */
	size_t l3_len;
	const uint8_t *l4;          /* TCP or UDP header and payload; view */
	size_t l4_len;
	const uint8_t *payload;     /* TCP or UDP payload; view */
	size_t payload_len;
	int truncated;              /* captured fewer bytes than the IP length says */
	struct pkt_frag frag;       /* valid for DECODE_FRAG */
	uint8_t depth;              /* tunnel levels entered */
};

enum decode_result {
	DECODE_TCP = 0,     /* a TCP segment, *out filled (proto IPPROTO_TCP) */
	DECODE_SKIP = 1,    /* fine, but nothing for us (ARP, ICMP, ...) */
	DECODE_ERR = -1,    /* malformed or truncated headers (counted) */
	DECODE_FRAG = 2,    /* an IP fragment, out->frag filled: see defrag.h */
	DECODE_UDP = 3,     /* a UDP datagram (not a tunnel), *out filled (proto
	                       IPPROTO_UDP; seq, ack, flags, win 0; l4 the UDP
	                       header, payload its data) */
};

/* TCP checksum of a decoded segment (RFC 9293 §3.1, pseudo-header of RFC
 * 791 / RFC 8200 §8.1): 1 valid, 0 invalid, -1 cannot tell (the capture
 * cut the segment short). */
int decode_tcp_checksum_ok(const struct pkt *p);

/* Is this link type one decode_packet() understands? */
int decode_linktype_supported(int dlt);

enum decode_result decode_packet(int dlt, const uint8_t *frame, size_t caplen,
                                 struct pkt *out);

/* Decode a datagram rebuilt by defrag (starting at its IP header), keeping
 * out's time stamp and VLAN ids. */
enum decode_result decode_reassembled(const uint8_t *ip, size_t len, struct pkt *out);

#endif
