/*
 * decode.c - from a captured frame to a TCP segment.
 *
 * Link layers: Ethernet (802.1Q / 802.1ad / QinQ, PPPoE session, MPLS),
 * Linux cooked v1 and v2, raw IP, BSD loopback (DLT_NULL and DLT_LOOP).
 * Network: IPv4 (fragments counted and skipped), IPv6 with extension
 * headers; tunnels GRE, ERSPAN types I, II and III (over GRE), VXLAN,
 * Geneve and IP-in-IP (inner flow inspected).
 * Transport: TCP.  Checksums are not checked: captures taken on
 * a host with checksum offload carry bad checksums on every sent packet.
 *
 * Must not: keep state between frames (defrag.c holds fragments, flow.c flows) or allocate.
 */
#include <string.h>

#include "core/buf.h"
#include "capture/decode.h"
#include "core/stats.h"

#define ETH_P_IPV4   0x0800
#define ETH_P_IPV6   0x86dd
#define ETH_P_8021Q  0x8100
#define ETH_P_8021AD 0x88a8
#define ETH_P_QINQ1  0x9100
#define ETH_P_PPPOES 0x8864
#define ETH_P_MPLS   0x8847
#define ETH_P_MPLSM  0x8848

#define PPP_IPV4     0x0021
#define PPP_IPV6     0x0057

#define IPPROTO_TCP_ 6
#define IPPROTO_UDP_ 17
#define IPPROTO_GRE_ 47

#define UDP_HDR_LEN  8
#define UDP_VXLAN    4789   /* RFC 7348 */
#define UDP_GENEVE   6081   /* RFC 8926 */
#define ETH_P_TEB    0x6558 /* transparent Ethernet bridging */

/* GRE flags and version, RFC 2784 §2 with the K and S bits of RFC 2890 §2
 * and the R bit of RFC 1701. */
#define GRE_F_CSUM   0x8000
#define GRE_F_ROUTE  0x4000
#define GRE_F_KEY    0x2000
#define GRE_F_SEQ    0x1000
#define GRE_VERSION  0x0007

/* ERSPAN, draft-foschiano-erspan-03: GRE protocol types and the header's
 * version nibble (type II carries version 1, type III version 2). */
#define GRE_P_ERSPAN   0x88be /* types I and II */
#define GRE_P_ERSPAN3  0x22eb /* type III */
#define ERSPAN_V_II    1
#define ERSPAN_V_III   2
#define ERSPAN_FT_ETH  0      /* type III frame type: Ethernet frame */
#define ERSPAN_FT_IP   2      /* ... IP packet */

int decode_linktype_supported(int dlt)
{
	switch (dlt) {
	case CS_DLT_NULL: case CS_DLT_EN10MB: case CS_DLT_RAW: case CS_DLT_RAW_BSD:
	case CS_DLT_RAW_LT: case CS_DLT_LOOP: case CS_DLT_LINUX_SLL:
	case CS_DLT_IPV4: case CS_DLT_IPV6: case CS_DLT_LINUX_SLL2:
		return 1;
	default:
		return 0;
	}
}

static enum decode_result decode_err(void)
{
	g_stats.decode_err++;
	return DECODE_ERR;
}

static enum decode_result decode_skip(void)
{
	g_stats.decode_unsupported++;
	return DECODE_SKIP;
}

/* TCP header, RFC 9293 §3.1.  b covers exactly the IP payload. */
static enum decode_result decode_tcp(struct buf *b, struct pkt *out)
{
	out->l4 = buf_ptr(b);
	out->l4_len = buf_left(b);
	uint8_t off_byte, flags;
	uint16_t win, sport, dport;
	uint32_t seq, ack;
	size_t hlen;

	if (buf_be16(b, &sport) < 0 || buf_be16(b, &dport) < 0 ||
	    buf_be32(b, &seq) < 0 || buf_be32(b, &ack) < 0 ||
	    buf_u8(b, &off_byte) < 0 || buf_u8(b, &flags) < 0 ||
	    buf_be16(b, &win) < 0)
		return decode_err();
	hlen = (size_t)(off_byte >> 4) * 4;
	if (hlen < 20)
		return decode_err();
	/* 16 bytes read so far; options run to hlen. */
	if (buf_skip(b, hlen - 16) < 0)
		return decode_err();
	out->sport = sport;
	out->dport = dport;
	out->proto = IPPROTO_TCP_;
	out->seq = seq;
	out->ack = ack;
	out->flags = flags;
	out->win = win;
	out->payload = buf_ptr(b);
	out->payload_len = buf_left(b);
	g_stats.tcp++;
	return DECODE_TCP;
}

static enum decode_result decode_ip_any(const uint8_t *p, size_t len, struct pkt *out);
static enum decode_result decode_ether(struct buf *b, struct pkt *out);
static enum decode_result decode_ethertype(uint16_t type, struct buf *b, struct pkt *out);

/* Tunnels nest: each level is counted so a packet of nothing but tunnel
 * headers cannot recurse without bound. */
static int tunnel_enter(struct pkt *out)
{
	if (out->depth >= DECODE_MAX_TUNNEL)
		return -1;
	out->depth++;
	out->n_vlan = 0;   /* the inner flow's VLANs are the ones that count */
	g_stats.tunnel++;
	return 0;
}

/* Inner payload of a tunnel, by Ethernet protocol type. */
static enum decode_result decode_inner(uint16_t type, struct buf *b, struct pkt *out)
{
	if (tunnel_enter(out) < 0)
		return decode_skip();
	if (type == ETH_P_TEB)
		return decode_ether(b, out);
	return decode_ethertype(type, b, out);
}

/* An IP packet, v4 or v6 by its version nibble, as a tunnel's payload. */
static enum decode_result decode_inner_ip(struct buf *b, struct pkt *out)
{
	if (tunnel_enter(out) < 0)
		return decode_skip();
	return decode_ip_any(buf_ptr(b), buf_left(b), out);
}

/* VXLAN, RFC 7348 §5: 8-byte header (flags, reserved, VNI, reserved),
 * then an Ethernet frame. */
static enum decode_result decode_vxlan(struct buf *b, struct pkt *out)
{
	g_stats.vxlan++;
	if (buf_skip(b, 8) < 0)
		return decode_err();
	return decode_inner(ETH_P_TEB, b, out);
}

/* Geneve, RFC 8926 §3.4: version and option length (4-byte words), flags,
 * protocol type, VNI and reserved, then the options. */
static enum decode_result decode_geneve(struct buf *b, struct pkt *out)
{
	uint16_t proto;
	uint8_t optlen;

	g_stats.geneve++;
	if (buf_u8(b, &optlen) < 0 || buf_skip(b, 1) < 0 ||
	    buf_be16(b, &proto) < 0 || buf_skip(b, 4) < 0 ||
	    buf_skip(b, (size_t)(optlen & 0x3f) * 4) < 0)
		return decode_err();
	return decode_inner(proto, b, out);
}

/* UDP, RFC 768: a carrier of VXLAN and Geneve (their inner packet is
 * what is decoded), else a datagram for the engine (QUIC).  The payload
 * is what the UDP length says, cut to what was captured (truncated then
 * says so): Ethernet padding after a short datagram is not payload. */
static enum decode_result decode_udp(struct buf *b, struct pkt *out)
{
	const uint8_t *hdr = buf_ptr(b);
	size_t avail = buf_left(b);
	uint16_t sport, dport, ulen;

	if (buf_be16(b, &sport) < 0 || buf_be16(b, &dport) < 0 ||
	    buf_be16(b, &ulen) < 0 || buf_skip(b, 2) < 0)
		return decode_err();
	if (dport == UDP_VXLAN)
		return decode_vxlan(b, out);
	if (dport == UDP_GENEVE)
		return decode_geneve(b, out);
	if (ulen < UDP_HDR_LEN)
		return decode_err();
	g_stats.udp++;
	out->sport = sport;
	out->dport = dport;
	out->proto = IPPROTO_UDP_;
	out->seq = out->ack = 0;
	out->flags = 0;
	out->win = 0;
	out->l4 = hdr;
	out->l4_len = ulen < avail ? ulen : avail;
	out->payload = buf_ptr(b);
	out->payload_len = out->l4_len - UDP_HDR_LEN;
	if (ulen > avail)
		out->truncated = 1;
	return DECODE_UDP;
}

/* ERSPAN type II header, draft-foschiano-erspan-03 "ERSPAN Type II":
 * Ver|VLAN, COS|En|T|Session ID, Reserved|Index (8 bytes), then the
 * mirrored Ethernet frame.  The version word is already read. */
static enum decode_result decode_erspan2(struct buf *b, struct pkt *out)
{
	if (buf_skip(b, 6) < 0)
		return decode_err();
	return decode_inner(ETH_P_TEB, b, out);
}

/* ERSPAN type III header, draft-foschiano-erspan-03 "ERSPAN Type III":
 * Ver|VLAN, COS|BSO|T|Session ID, Timestamp, SGT, P|FT|Hw ID|D|Gra|O
 * (12 bytes); O set adds an 8-byte platform-specific subheader.  FT says
 * whether an Ethernet frame or an IP packet follows.  The version word is
 * already read. */
static enum decode_result decode_erspan3(struct buf *b, struct pkt *out)
{
	uint16_t last;
	unsigned ft;

	if (buf_skip(b, 8) < 0 || buf_be16(b, &last) < 0)
		return decode_err();
	if ((last & 0x0001) && buf_skip(b, 8) < 0)
		return decode_err();
	ft = (last >> 10) & 0x1f;
	if (ft == ERSPAN_FT_ETH)
		return decode_inner(ETH_P_TEB, b, out);
	if (ft == ERSPAN_FT_IP)
		return decode_inner_ip(b, out);
	return decode_skip();
}

/* ERSPAN, the GRE payload of protocol 0x88be or 0x22eb.  Type I
 * (Linux's erspan_ver 0) has no ERSPAN header: the mirrored frame follows
 * the 4-byte GRE header directly.  0x88be is type I without the GRE S bit
 * and type II with it; 0x22eb always has a header.  Where there is one,
 * its version nibble, not the GRE type, says how long it is (both as
 * Wireshark's packet-erspan.c decides). */
static enum decode_result decode_erspan(uint16_t proto, uint16_t gre_flags,
                                        struct buf *b, struct pkt *out)
{
	uint16_t ver_vlan;

	g_stats.erspan++;
	if (proto == GRE_P_ERSPAN && !(gre_flags & GRE_F_SEQ))
		return decode_inner(ETH_P_TEB, b, out);
	if (buf_be16(b, &ver_vlan) < 0)
		return decode_err();
	switch (ver_vlan >> 12) {
	case ERSPAN_V_II:
		return decode_erspan2(b, out);
	case ERSPAN_V_III:
		return decode_erspan3(b, out);
	default:
		return decode_skip();
	}
}

/* GRE, RFC 2784 §2 / RFC 2890 §2: optional checksum, key and sequence
 * words, then the payload by protocol type. */
static enum decode_result decode_gre(struct buf *b, struct pkt *out)
{
	uint16_t flags, proto;

	g_stats.gre++;
	if (buf_be16(b, &flags) < 0 || buf_be16(b, &proto) < 0)
		return decode_err();
	/* Version 1 (PPTP, RFC 2637) is not carried here; RFC 1701 source
	 * routing would put routing entries before the payload. */
	if ((flags & GRE_VERSION) != 0 || (flags & GRE_F_ROUTE) != 0)
		return decode_skip();
	if (((flags & GRE_F_CSUM) && buf_skip(b, 4) < 0) ||
	    ((flags & GRE_F_KEY) && buf_skip(b, 4) < 0) ||
	    ((flags & GRE_F_SEQ) && buf_skip(b, 4) < 0))
		return decode_err();
	if (proto == GRE_P_ERSPAN || proto == GRE_P_ERSPAN3)
		return decode_erspan(proto, flags, b, out);
	return decode_inner(proto, b, out);
}

/* The transport of an IP packet whose payload is b. */
static enum decode_result decode_l4(uint8_t proto, struct buf *b, struct pkt *out)
{
	switch (proto) {
	case IPPROTO_TCP_:
		return decode_tcp(b, out);
	case IPPROTO_UDP_:
		return decode_udp(b, out);
	case IPPROTO_GRE_:
		return decode_gre(b, out);
	case 4:   /* IPv4 in IP */
	case 41:  /* IPv6 in IP */
		return decode_inner_ip(b, out);
	default:
		return decode_skip();
	}
}

/* IPv4, RFC 791.  The captured bytes may be fewer than the total length
 * (snap length) or more (Ethernet padding): the payload is cut to both. */
static enum decode_result decode_ipv4(const uint8_t *p, size_t len, struct pkt *out)
{
	struct buf b, ip;
	uint8_t vihl, proto, ttl, tos;
	uint16_t tot, id, frag;
	size_t hlen, avail;
	const uint8_t *addr;

	buf_init(&b, p, len);
	if (buf_u8(&b, &vihl) < 0 || (vihl >> 4) != 4)
		return decode_err();
	hlen = (size_t)(vihl & 0xf) * 4;
	if (hlen < 20 || buf_u8(&b, &tos) < 0 || buf_be16(&b, &tot) < 0 ||
	    buf_be16(&b, &id) < 0 || buf_be16(&b, &frag) < 0 ||
	    buf_u8(&b, &ttl) < 0 || buf_u8(&b, &proto) < 0 || buf_skip(&b, 2) < 0)
		return decode_err();
	if (tot < hlen)
		return decode_err();
	avail = len < tot ? len : tot;
	out->truncated = len < tot;
	if (hlen > avail)
		return decode_err();
	g_stats.ipv4++;
	out->family = 4;
	if (buf_bytes(&b, 4, &addr) < 0)
		return decode_err();
	memcpy(out->src, addr, 4);
	if (buf_bytes(&b, 4, &addr) < 0)
		return decode_err();
	memcpy(out->dst, addr, 4);
	out->l3 = p;
	out->l3_len = avail;
	if ((frag & 0x3fff) != 0) {
		/* More fragments, or a non-zero offset: for defrag. */
		g_stats.ipv4_frag++;
		out->frag.id = id;
		out->frag.proto = proto;
		out->frag.offset = (uint16_t)((frag & 0x1fff) * 8);
		out->frag.more = (frag & 0x2000) != 0;
		out->frag.hdr = p;
		out->frag.hdr_len = hlen;
		out->frag.data = p + hlen;
		out->frag.len = avail - hlen;
		return DECODE_FRAG;
	}
	buf_init(&ip, p + hlen, avail - hlen);
	return decode_l4(proto, &ip, out);
}

/* An IPv6 fragment header at b.  The datagram is rebuilt behind the fixed
 * header alone: the extension headers before the fragment header say
 * nothing certsentry needs. */
static enum decode_result decode_ipv6_frag(const uint8_t *ip, struct buf *b, struct pkt *out)
{
	uint8_t nh, rsv;
	uint16_t offm;
	uint32_t id;

	if (buf_u8(b, &nh) < 0 || buf_u8(b, &rsv) < 0 || buf_be16(b, &offm) < 0 ||
	    buf_be32(b, &id) < 0)
		return decode_err();
	g_stats.ipv6_frag++;
	out->frag.id = id;
	out->frag.proto = nh;
	out->frag.offset = offm & 0xfff8;
	out->frag.more = offm & 1;
	out->frag.hdr = ip;
	out->frag.hdr_len = 40;
	out->frag.data = buf_ptr(b);
	out->frag.len = buf_left(b);
	return DECODE_FRAG;
}

/* IPv6, RFC 8200, walking extension headers (§4) to TCP. */
static enum decode_result decode_ipv6(const uint8_t *p, size_t len, struct pkt *out)
{
	struct buf b, pl;
	uint32_t vtf;
	uint16_t plen;
	uint8_t nh, hop, ext_nh, ext_len;
	const uint8_t *addr;
	size_t avail;

	buf_init(&b, p, len);
	if (buf_be32(&b, &vtf) < 0 || (vtf >> 28) != 6 ||
	    buf_be16(&b, &plen) < 0 || buf_u8(&b, &nh) < 0 || buf_u8(&b, &hop) < 0)
		return decode_err();
	if (buf_bytes(&b, 16, &addr) < 0)
		return decode_err();
	memcpy(out->src, addr, 16);
	if (buf_bytes(&b, 16, &addr) < 0)
		return decode_err();
	memcpy(out->dst, addr, 16);
	g_stats.ipv6++;
	out->family = 6;
	avail = buf_left(&b) < plen ? buf_left(&b) : plen;
	out->truncated = buf_left(&b) < plen;
	out->l3 = p;
	out->l3_len = 40 + avail;
	buf_init(&pl, buf_ptr(&b), avail);
	for (int i = 0; i < DECODE_MAX_IP6_EXT; i++) {
		switch (nh) {
		case 0:   /* hop-by-hop */
		case 43:  /* routing */
		case 60:  /* destination options */
			if (buf_u8(&pl, &ext_nh) < 0 || buf_u8(&pl, &ext_len) < 0 ||
			    buf_skip(&pl, (size_t)ext_len * 8 + 6) < 0)
				return decode_err();
			nh = ext_nh;
			break;
		case 51:  /* AH, RFC 4302: length in 4-byte units minus 2 */
			if (buf_u8(&pl, &ext_nh) < 0 || buf_u8(&pl, &ext_len) < 0 ||
			    buf_skip(&pl, ((size_t)ext_len + 2) * 4 - 2) < 0)
				return decode_err();
			nh = ext_nh;
			break;
		case 44:  /* fragment, RFC 8200 §4.5: for defrag */
			return decode_ipv6_frag(p, &pl, out);
		default:
			return decode_l4(nh, &pl, out);
		}
	}
	return decode_skip();
}

static enum decode_result decode_ip_any(const uint8_t *p, size_t len, struct pkt *out)
{
	if (len < 1)
		return decode_err();
	switch (p[0] >> 4) {
	case 4:
		return decode_ipv4(p, len, out);
	case 6:
		return decode_ipv6(p, len, out);
	default:
		return decode_skip();
	}
}

/* MPLS, RFC 3032: labels until bottom of stack, then IP by version nibble. */
static enum decode_result decode_mpls(struct buf *b, struct pkt *out)
{
	uint32_t label;

	g_stats.mpls++;
	for (int i = 0; i < DECODE_MAX_MPLS; i++) {
		if (buf_be32(b, &label) < 0)
			return decode_err();
		if (label & 0x100)
			return decode_ip_any(buf_ptr(b), buf_left(b), out);
	}
	return decode_skip();
}

/* PPPoE session stage, RFC 2516 §4: 6-byte header then a PPP protocol. */
static enum decode_result decode_pppoe(struct buf *b, struct pkt *out)
{
	uint16_t proto;

	g_stats.pppoe++;
	if (buf_skip(b, 6) < 0 || buf_be16(b, &proto) < 0)
		return decode_err();
	if (proto == PPP_IPV4)
		return decode_ipv4(buf_ptr(b), buf_left(b), out);
	if (proto == PPP_IPV6)
		return decode_ipv6(buf_ptr(b), buf_left(b), out);
	return decode_skip();
}

static enum decode_result decode_ethertype(uint16_t type, struct buf *b, struct pkt *out)
{
	uint16_t tci;

	/* VLAN tags are consumed in a loop rather than by recursion so a
	 * frame of nothing but tags cannot go deep. */
	while (type == ETH_P_8021Q || type == ETH_P_8021AD || type == ETH_P_QINQ1) {
		if (buf_be16(b, &tci) < 0 || buf_be16(b, &type) < 0)
			return decode_err();
		/* A deeper stack would merge flows that differ only in the
		 * tags beyond the key: skip the frame instead. */
		if (out->n_vlan >= DECODE_MAX_VLAN)
			return decode_skip();
		out->vlan[out->n_vlan++] = tci & 0x0fff;
		g_stats.vlan++;
	}
	switch (type) {
	case ETH_P_IPV4:
		return decode_ipv4(buf_ptr(b), buf_left(b), out);
	case ETH_P_IPV6:
		return decode_ipv6(buf_ptr(b), buf_left(b), out);
	case ETH_P_PPPOES:
		return decode_pppoe(b, out);
	case ETH_P_MPLS:
	case ETH_P_MPLSM:
		return decode_mpls(b, out);
	default:
		return decode_skip();
	}
}

static enum decode_result decode_ether(struct buf *b, struct pkt *out)
{
	uint16_t type;

	if (buf_skip(b, 12) < 0 || buf_be16(b, &type) < 0)
		return decode_err();
	return decode_ethertype(type, b, out);
}

/* Linux cooked v1: 16 bytes, protocol in the last two. */
static enum decode_result decode_sll(struct buf *b, struct pkt *out)
{
	uint16_t type;

	if (buf_skip(b, 14) < 0 || buf_be16(b, &type) < 0)
		return decode_err();
	return decode_ethertype(type, b, out);
}

/* Linux cooked v2: 20 bytes, protocol first. */
static enum decode_result decode_sll2(struct buf *b, struct pkt *out)
{
	uint16_t type;

	if (buf_be16(b, &type) < 0 || buf_skip(b, 18) < 0)
		return decode_err();
	return decode_ethertype(type, b, out);
}

/* BSD loopback: a 4-byte address family, host order for DLT_NULL and
 * network order for DLT_LOOP; IPv6 is 24, 28 or 30 depending on the BSD. */
static enum decode_result decode_loop(struct buf *b, struct pkt *out, int dlt)
{
	uint32_t fam;

	if (dlt == CS_DLT_LOOP ? buf_be32(b, &fam) < 0 : buf_le32(b, &fam) < 0)
		return decode_err();
	if (dlt == CS_DLT_NULL && fam > 0xffff) /* written on a big-endian host */
		fam = (fam >> 24) | ((fam >> 8) & 0xff00);
	if (fam == 2)
		return decode_ipv4(buf_ptr(b), buf_left(b), out);
	if (fam == 24 || fam == 28 || fam == 30)
		return decode_ipv6(buf_ptr(b), buf_left(b), out);
	return decode_skip();
}

enum decode_result decode_reassembled(const uint8_t *ip, size_t len, struct pkt *out)
{
	struct pkt keep = *out;
	enum decode_result r;

	memset(out, 0, sizeof(*out));
	out->ts_us = keep.ts_us;
	out->n_vlan = keep.n_vlan;
	memcpy(out->vlan, keep.vlan, sizeof(out->vlan));
	out->depth = keep.depth;
	r = decode_ip_any(ip, len, out);
	/* A rebuilt datagram carries no fragment flags; should it still say
	 * fragment, it is malformed, not a loop. */
	return r == DECODE_FRAG ? decode_err() : r;
}

enum decode_result decode_packet(int dlt, const uint8_t *frame, size_t caplen,
                                 struct pkt *out)
{
	struct buf b;
	uint64_t ts = out->ts_us;

	memset(out, 0, sizeof(*out));
	out->ts_us = ts;
	buf_init(&b, frame, caplen);
	switch (dlt) {
	case CS_DLT_EN10MB:
		return decode_ether(&b, out);
	case CS_DLT_LINUX_SLL:
		return decode_sll(&b, out);
	case CS_DLT_LINUX_SLL2:
		return decode_sll2(&b, out);
	case CS_DLT_NULL:
	case CS_DLT_LOOP:
		return decode_loop(&b, out, dlt);
	case CS_DLT_RAW:
	case CS_DLT_RAW_BSD:
	case CS_DLT_RAW_LT:
		return decode_ip_any(frame, caplen, out);
	case CS_DLT_IPV4:
		return decode_ipv4(frame, caplen, out);
	case CS_DLT_IPV6:
		return decode_ipv6(frame, caplen, out);
	default:
		return decode_skip();
	}
}

/* One's complement sum of 16-bit words (RFC 1071). */
static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (i < n)
		sum += (uint32_t)p[i] << 8;
	return sum;
}

int decode_tcp_checksum_ok(const struct pkt *p)
{
	size_t alen = p->family == 4 ? 4 : 16;
	uint32_t sum = 0;

	if (p->truncated || !p->l4 || p->l4_len < 20 || p->l4_len > 0xffff)
		return -1;
	sum = csum_add(sum, p->src, alen);
	sum = csum_add(sum, p->dst, alen);
	sum += IPPROTO_TCP_;
	sum += (uint32_t)p->l4_len;
	sum = csum_add(sum, p->l4, p->l4_len);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff;
}
