/*
 * test_decode.c - decode_packet(): link layers, IPv4, IPv6, TCP and the
 * tunnels (GRE, ERSPAN types I-III, VXLAN, Geneve).
 *
 * Frames are assembled byte by byte with the helpers below, so every
 * field's expected value is known.  Truncated frames are copied into a
 * buffer of exactly the truncated size so that valgrind (or ASan) sees any
 * read past the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "capture/decode.h"
#include "core/stats.h"

/* ---- frame builder ------------------------------------------------------ */

struct fb {
	uint8_t b[4096];
	size_t n;
};

static void put8(struct fb *f, uint8_t v)
{
	assert_true(f->n < sizeof(f->b));
	f->b[f->n++] = v;
}

static void put16(struct fb *f, uint16_t v)
{
	put8(f, (uint8_t)(v >> 8));
	put8(f, (uint8_t)v);
}

static void put32(struct fb *f, uint32_t v)
{
	put16(f, (uint16_t)(v >> 16));
	put16(f, (uint16_t)v);
}

static void put32le(struct fb *f, uint32_t v)
{
	put8(f, (uint8_t)v);
	put8(f, (uint8_t)(v >> 8));
	put8(f, (uint8_t)(v >> 16));
	put8(f, (uint8_t)(v >> 24));
}

static void putn(struct fb *f, const void *p, size_t n)
{
	assert_true(n <= sizeof(f->b) - f->n);
	memcpy(f->b + f->n, p, n);
	f->n += n;
}

static void set16(struct fb *f, size_t off, uint16_t v)
{
	f->b[off] = (uint8_t)(v >> 8);
	f->b[off + 1] = (uint8_t)v;
}

static const uint8_t MAC_DST[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
static const uint8_t MAC_SRC[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };
static const uint8_t IP4_SRC[4] = { 192, 0, 2, 10 };
static const uint8_t IP4_DST[4] = { 198, 51, 100, 20 };
static const uint8_t IP6_SRC[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
                                     0, 0, 0, 0, 0, 0, 0x12, 0x34 };
static const uint8_t IP6_DST[16] = { 0x20, 0x01, 0x0d, 0xb8, 0xff, 0xee, 0, 0,
                                     0, 0, 0, 0, 0, 0, 0x56, 0x78 };
static const char PAYLOAD[] = "\x16\x03\x01\x00\x05hello";   /* 10 bytes */
#define PAYLOAD_LEN (sizeof(PAYLOAD) - 1)

#define SPORT 49152
#define DPORT 443
#define SEQ   0x11223344u
#define ACK   0x8899aabbu
#define WIN   0xfedcu

static void eth(struct fb *f, uint16_t type)
{
	putn(f, MAC_DST, 6);
	putn(f, MAC_SRC, 6);
	put16(f, type);
}

static void vlan_tag(struct fb *f, uint16_t tci, uint16_t type)
{
	put16(f, tci);
	put16(f, type);
}

/* IPv4 header with IHL ihl (options filled with NOP); total length is
 * patched by ip4_end.  Returns the header's offset. */
static size_t ip4_begin(struct fb *f, unsigned ihl, uint16_t frag, uint8_t proto)
{
	size_t off = f->n;

	put8(f, (uint8_t)(0x40 | ihl));
	put8(f, 0);
	put16(f, 0);          /* total length, patched */
	put16(f, 0x1234);     /* id */
	put16(f, frag);
	put8(f, 64);
	put8(f, proto);
	put16(f, 0);          /* checksum: not checked */
	putn(f, IP4_SRC, 4);
	putn(f, IP4_DST, 4);
	for (unsigned i = 5; i < ihl; i++)
		put32(f, 0x01010101);
	return off;
}

static void ip4_end(struct fb *f, size_t off)
{
	set16(f, off + 2, (uint16_t)(f->n - off));
}

static size_t ip6_begin(struct fb *f, uint8_t nh)
{
	size_t off = f->n;

	put32(f, 0x60000000);
	put16(f, 0);          /* payload length, patched */
	put8(f, nh);
	put8(f, 64);
	putn(f, IP6_SRC, 16);
	putn(f, IP6_DST, 16);
	return off;
}

static void ip6_end(struct fb *f, size_t off)
{
	set16(f, off + 4, (uint16_t)(f->n - off - 40));
}

/* Generic extension header of 8 * (len8 + 1) bytes. */
static void ip6_ext(struct fb *f, uint8_t nh, uint8_t len8)
{
	put8(f, nh);
	put8(f, len8);
	for (size_t i = 0; i < (size_t)len8 * 8 + 6; i++)
		put8(f, 0);
}

/* TCP header with doff 32-bit words (options as NOPs), then payload. */
static size_t tcp_doff(struct fb *f, unsigned doff, const void *pl, size_t pl_len)
{
	size_t off = f->n;

	put16(f, SPORT);
	put16(f, DPORT);
	put32(f, SEQ);
	put32(f, ACK);
	put8(f, (uint8_t)(doff << 4));
	put8(f, TH_PSH | TH_ACK);
	put16(f, WIN);
	put16(f, 0);          /* checksum */
	put16(f, 0);          /* urgent */
	for (unsigned i = 5; i < doff; i++)
		put32(f, 0x01010101);
	putn(f, pl, pl_len);
	return off;
}

static size_t tcp(struct fb *f)
{
	return tcp_doff(f, 5, PAYLOAD, PAYLOAD_LEN);
}

/* A complete IPv4/TCP packet (no link layer); returns the IP offset. */
static size_t ip4_tcp(struct fb *f)
{
	size_t ip = ip4_begin(f, 5, 0x4000 /* DF */, 6);

	tcp(f);
	ip4_end(f, ip);
	return ip;
}

static size_t ip6_tcp(struct fb *f)
{
	size_t ip = ip6_begin(f, 6);

	tcp(f);
	ip6_end(f, ip);
	return ip;
}

static int reset_stats(void **state)
{
	(void)state;
	memset(&g_stats, 0, sizeof(g_stats));
	return 0;
}

/* The TCP fields every helper-built segment carries. */
static void assert_tcp_common(const struct pkt *p)
{
	assert_int_equal(p->sport, SPORT);
	assert_int_equal(p->dport, DPORT);
	assert_int_equal(p->proto, 6);   /* IPPROTO_TCP */
	assert_int_equal(p->seq, SEQ);
	assert_int_equal(p->ack, ACK);
	assert_int_equal(p->flags, TH_PSH | TH_ACK);
	assert_int_equal(p->win, WIN);
}

static void assert_v4_addrs(const struct pkt *p)
{
	static const uint8_t zero[12];

	assert_int_equal(p->family, 4);
	assert_memory_equal(p->src, IP4_SRC, 4);
	assert_memory_equal(p->dst, IP4_DST, 4);
	assert_memory_equal(p->src + 4, zero, 12);
	assert_memory_equal(p->dst + 4, zero, 12);
}

/* Decode f, expecting a TCP segment whose IP header starts at ip_off and
 * whose payload is PAYLOAD at the end of the frame. */
static void assert_decodes_payload(int dlt, struct fb *f, size_t ip_off, int family)
{
	struct pkt p;

	memset(&p, 0xa5, sizeof(p));
	assert_int_equal(decode_packet(dlt, f->b, f->n, &p), DECODE_TCP);
	assert_int_equal(p.family, family);
	if (family == 4) {
		assert_v4_addrs(&p);
	} else {
		assert_memory_equal(p.src, IP6_SRC, 16);
		assert_memory_equal(p.dst, IP6_DST, 16);
	}
	assert_tcp_common(&p);
	assert_ptr_equal(p.l3, f->b + ip_off);
	assert_int_equal(p.l3_len, f->n - ip_off);
	assert_ptr_equal(p.payload, f->b + f->n - PAYLOAD_LEN);
	assert_int_equal(p.payload_len, PAYLOAD_LEN);
	assert_memory_equal(p.payload, PAYLOAD, PAYLOAD_LEN);
	assert_int_equal(p.truncated, 0);
}

/* ---- valid frames ------------------------------------------------------- */

static void test_eth_ipv4_tcp_every_field(void **state)
{
	struct fb f = { .n = 0 };
	struct pkt p;
	size_t ip, th;

	(void)state;
	eth(&f, 0x0800);
	ip = ip4_begin(&f, 5, 0x4000, 6);
	th = tcp_doff(&f, 8, PAYLOAD, PAYLOAD_LEN);   /* 12 bytes of options */
	ip4_end(&f, ip);
	assert_int_equal(f.n, 14 + 20 + 32 + PAYLOAD_LEN);

	memset(&p, 0xa5, sizeof(p));
	p.ts_us = 1234567890123456ull;
	assert_int_equal(decode_packet(CS_DLT_EN10MB, f.b, f.n, &p), DECODE_TCP);
	assert_int_equal(p.ts_us, 1234567890123456ull);   /* kept across the call */
	assert_int_equal(p.n_vlan, 0);
	assert_int_equal(p.vlan[0], 0);
	assert_int_equal(p.vlan[1], 0);
	assert_v4_addrs(&p);
	assert_tcp_common(&p);
	assert_ptr_equal(p.l3, f.b + 14);
	assert_int_equal(p.l3_len, 20 + 32 + PAYLOAD_LEN);
	assert_ptr_equal(p.payload, f.b + th + 32);
	assert_int_equal(p.payload_len, PAYLOAD_LEN);
	assert_memory_equal(p.payload, PAYLOAD, PAYLOAD_LEN);
	assert_int_equal(p.truncated, 0);
	assert_int_equal(g_stats.ipv4, 1);
	assert_int_equal(g_stats.tcp, 1);
	assert_int_equal(g_stats.decode_err, 0);
	assert_int_equal(g_stats.decode_unsupported, 0);
	assert_int_equal(g_stats.ipv4_frag, 0);
}

static void test_eth_ipv4_tcp_flags(void **state)
{
	struct fb f = { .n = 0 };
	struct pkt p;
	size_t ip, th;

	(void)state;
	eth(&f, 0x0800);
	ip = ip4_begin(&f, 5, 0, 6);
	th = tcp_doff(&f, 5, "", 0);
	f.b[th + 13] = TH_SYN | TH_ACK | TH_FIN | TH_RST;
	ip4_end(&f, ip);
	assert_int_equal(decode_packet(CS_DLT_EN10MB, f.b, f.n, &p), DECODE_TCP);
	assert_int_equal(p.flags, TH_SYN | TH_ACK | TH_FIN | TH_RST);
}

/* The exact minimum: Ethernet + 20-byte IPv4 + 20-byte TCP, no payload. */
static void test_eth_ipv4_tcp_minimum(void **state)
{
	struct fb f = { .n = 0 };
	struct pkt p;
	size_t ip;
	uint8_t *exact;

	(void)state;
	eth(&f, 0x0800);
	ip = ip4_begin(&f, 5, 0, 6);
	tcp_doff(&f, 5, "", 0);
	ip4_end(&f, ip);
	assert_int_equal(f.n, 54);
	exact = malloc(f.n);
	assert_non_null(exact);
	memcpy(exact, f.b, f.n);
	assert_int_equal(decode_packet(CS_DLT_EN10MB, exact, f.n, &p), DECODE_TCP);
	assert_int_equal(p.payload_len, 0);
	assert_ptr_equal(p.payload, exact + 54);
	assert_int_equal(p.l3_len, 40);
	assert_int_equal(p.truncated, 0);
	free(exact);
}

static void test_eth_padding_excluded(void **state)
{
	struct fb f = { .n = 0 };
	struct pkt p;
	size_t ip;

	(void)state;
	eth(&f, 0x0800);
	ip = ip4_begin(&f, 5, 0, 6);
	tcp_doff(&f, 5, "ab", 2);
	ip4_end(&f, ip);
	assert_int_equal(f.n, 56);
	while (f.n < 60)      /* minimum Ethernet frame: 4 bytes of padding */
		put8(&f, 0xee);
	assert_int_equal(decode_packet(CS_DLT_EN10MB, f.b, f.n, &p), DECODE_TCP);
	assert_int_equal(p.payload_len, 2);
	assert_memory_equal(p.payload, "ab", 2);
	assert_int_equal(p.l3_len, 42);
	assert_int_equal(p.truncated, 0);

	/* An IPv6 packet padded likewise: cut at the payload length. */
	f.n = 0;
	eth(&f, 0x86dd);
	ip = ip6_begin(&f, 6);
	tcp_doff(&f, 5, "xyz", 3);
	ip6_end(&f, ip);
	put32(&f, 0xeeeeeeee);
	assert_int_equal(decode_packet(CS_DLT_EN10MB, f.b, f.n, &p), DECODE_TCP);
	assert_int_equal(p.payload_len, 3);
	assert_memory_equal(p.payload, "xyz", 3);
	assert_int_equal(p.l3_len, 40 + 23);
	assert_int_equal(p.truncated, 0);
}

static void test_ipv4_options(void **state)
{
	struct fb f = { .n = 0 };
	size_t ip;

	(void)state;
	eth(&f, 0x0800);
	ip = ip4_begin(&f, 7, 0, 6);   /* 8 bytes of options */
	tcp(&f);
	ip4_end(&f, ip);
	assert_decodes_payload(CS_DLT_EN10MB, &f, ip, 4);
}

static void test_vlan_8021q(void **state)
{
	struct fb f = { .n = 0 };
	struct pkt p;
	size_t ip;

	(void)state;
	eth(&f, 0x8100);
	vlan_tag(&f, 0xa000 | 100, 0x0800);   /* PCP 5, VID 100 */
	ip = ip4_tcp(&f);
	assert_decodes_payload(CS_DLT_EN10MB, &f, ip, 4);
	assert_int_equal(decode_packet(CS_DLT_EN10MB, f.b, f.n, &p), DECODE_TCP);
	assert_int_equal(p.n_vlan, 1);
	assert_int_equal(p.vlan[0], 100);
	assert_int_equal(p.vlan[1], 0);
	assert_int_equal(g_stats.vlan, 2);
}

static void test_vlan_qinq(void **state)
{
	struct fb f = { .n = 0 };
	struct pkt p;
	size_t ip;

	(void)state;
	eth(&f, 0x88a8);
	vlan_tag(&f, 0x1000 | 200, 0x8100);   /* DEI set on the outer tag */
	vlan_tag(&f, 300, 0x0800);
	ip = ip4_tcp(&f);
	assert_decodes_payload(CS_DLT_EN10MB, &f, ip, 4);
	assert_int_equal(decode_packet(CS_DLT_EN10MB, f.b, f.n, &p), DECODE_TCP);
	assert_int_equal(p.n_vlan, 2);
	assert_int_equal(p.vlan[0], 200);
	assert_int_equal(p.vlan[1], 300);

	/* The older 0x9100 outer tag, over IPv6. */
	f.n = 0;
	eth(&f, 0x9100);
	vlan_tag(&f, 4095, 0x8100);
	vlan_tag(&f, 1, 0x86dd);
	ip = ip6_tcp(&f);
	assert_decodes_payload(CS_DLT_EN10MB, &f, ip, 6);
	assert_int_equal(decode_packet(CS_DLT_EN10MB, f.b, f.n, &p), DECODE_TCP);
	assert_int_equal(p.n_vlan, 2);
	assert_int_equal(p.vlan[0], 4095);
	assert_int_equal(p.vlan[1], 1);
}

/* decode.h: "DECODE_MAX_VLAN 2 - 802.1Q and QinQ; deeper stacks are
 * skipped".  A third tag must not be dropped silently: two flows that
 * differ only in it would share one flow key. */
static void test_vlan_three_tags_skipped(void **state)
{
	struct fb f = { .n = 0 };
	struct pkt p;

	(void)state;
	eth(&f, 0x88a8);
	vlan_tag(&f, 10, 0x8100);
	vlan_tag(&f, 20, 0x8100);
	vlan_tag(&f, 30, 0x0800);
	ip4_tcp(&f);
	assert_int_equal(decode_packet(CS_DLT_EN10MB, f.b, f.n, &p), DECODE_SKIP);
}

static void test_ipv6_ext_headers(void **state)
{
	struct fb f = { .n = 0 };
	struct pkt p;
	size_t ip;

	(void)state;
	eth(&f, 0x86dd);
	ip = ip6_begin(&f, 0);        /* hop-by-hop */
	ip6_ext(&f, 60, 0);           /* 8 bytes, next: destination options */
	ip6_ext(&f, 6, 1);            /* 16 bytes, next: TCP */
	tcp(&f);
	ip6_end(&f, ip);
	assert_int_equal(f.n, 14 + 40 + 8 + 16 + 20 + PAYLOAD_LEN);
	assert_decodes_payload(CS_DLT_EN10MB, &f, ip, 6);
	assert_int_equal(decode_packet(CS_DLT_EN10MB, f.b, f.n, &p), DECODE_TCP);
	assert_int_equal(p.l3_len, 40 + 8 + 16 + 20 + PAYLOAD_LEN);
	assert_int_equal(g_stats.ipv6, 2);
	assert_int_equal(g_stats.tcp, 2);
}

static void test_ipv6_routing_and_ah(void **state)
{
	struct fb f = { .n = 0 };
	size_t ip;

	(void)state;
	eth(&f, 0x86dd);
	ip = ip6_begin(&f, 43);       /* routing, 24 bytes */
	ip6_ext(&f, 51, 2);
	/* AH, RFC 4302 §2.2: length 4 -> (4 + 2) * 4 = 24 bytes */
	put8(&f, 6);
	put8(&f, 4);
	for (int i = 0; i < 22; i++)
		put8(&f, 0xaa);
	tcp(&f);
	ip6_end(&f, ip);
	assert_decodes_payload(CS_DLT_EN10MB, &f, ip, 6);
}

static void test_ipv6_fragment(void **state)
{
	struct fb f = { .n = 0 };
	struct pkt p;
	size_t ip;

	(void)state;
	eth(&f, 0x86dd);
	ip = ip6_begin(&f, 0);
	ip6_ext(&f, 44, 0);
	/* Fragment header, RFC 8200 §4.5: offset 0, M set. */
	put8(&f, 6);
	put8(&f, 0);
	put16(&f, 0x0001);
	put32(&f, 0xdeadbeef);
	tcp(&f);
	ip6_end(&f, ip);
	assert_int_equal(decode_packet(CS_DLT_EN10MB, f.b, f.n, &p), DECODE_FRAG);
	assert_int_equal(g_stats.tcp, 0);
	assert_int_equal(g_stats.ipv6_frag, 1);
	assert_int_equal(p.frag.id, 0xdeadbeef);
	assert_int_equal(p.frag.proto, 6);
	assert_int_equal(p.frag.offset, 0);
	assert_int_equal(p.frag.more, 1);
	assert_int_equal(p.frag.hdr_len, 40);
}

static void test_ipv6_too_many_ext_headers(void **state)
{
	struct fb f = { .n = 0 };
	struct pkt p;
	size_t ip;

	(void)state;
	eth(&f, 0x86dd);
	ip = ip6_begin(&f, 60);
	for (int i = 0; i < DECODE_MAX_IP6_EXT + 1; i++)
		ip6_ext(&f, i < DECODE_MAX_IP6_EXT ? 60 : 6, 0);
	tcp(&f);
	ip6_end(&f, ip);
	assert_int_equal(decode_packet(CS_DLT_EN10MB, f.b, f.n, &p), DECODE_SKIP);
	assert_int_equal(g_stats.tcp, 0);
}

static void ipv4_frag_case(uint16_t frag, int expect)
{
	struct fb f = { .n = 0 };
	struct pkt p;
	size_t ip;

	eth(&f, 0x0800);
	ip = ip4_begin(&f, 5, frag, 6);
	tcp(&f);
	ip4_end(&f, ip);
	assert_int_equal(decode_packet(CS_DLT_EN10MB, f.b, f.n, &p), expect);
	if (expect == DECODE_FRAG) {
		/* handed to defrag: offset in bytes, the IP payload as data */
		assert_int_equal(p.frag.offset, (frag & 0x1fff) * 8);
		assert_int_equal(p.frag.more, (frag & 0x2000) != 0);
		assert_int_equal(p.frag.proto, 6);
		assert_ptr_equal(p.frag.hdr, f.b + ip);
		assert_int_equal(p.frag.hdr_len, 20);
		assert_ptr_equal(p.frag.data, f.b + ip + 20);
		assert_int_equal(p.frag.len, f.n - ip - 20);
	}
}

static void test_ipv4_fragments(void **state)
{
	(void)state;
	ipv4_frag_case(0x2000, DECODE_FRAG);          /* MF, offset 0 */
	assert_int_equal(g_stats.ipv4_frag, 1);
	ipv4_frag_case(0x0001, DECODE_FRAG);          /* last fragment, offset 8 */
	assert_int_equal(g_stats.ipv4_frag, 2);
	ipv4_frag_case(0x1fff, DECODE_FRAG);          /* largest offset */
	assert_int_equal(g_stats.ipv4_frag, 3);
	ipv4_frag_case(0x6000, DECODE_FRAG);          /* DF and MF */
	assert_int_equal(g_stats.ipv4_frag, 4);
	ipv4_frag_case(0x4000, DECODE_TCP);           /* DF only: whole */
	ipv4_frag_case(0x8000, DECODE_TCP);           /* reserved bit only */
	assert_int_equal(g_stats.ipv4_frag, 4);
	assert_int_equal(g_stats.tcp, 2);
	assert_int_equal(g_stats.decode_unsupported, 0);
}

static void test_linux_sll(void **state)
{
	struct fb f = { .n = 0 };
	size_t ip;

	(void)state;
	put16(&f, 0);            /* packet type: to us */
	put16(&f, 1);            /* ARPHRD_ETHER */
	put16(&f, 6);
	putn(&f, MAC_SRC, 6);
	put16(&f, 0);            /* address padding to 8 */
	put16(&f, 0x0800);
	assert_int_equal(f.n, 16);
	ip = ip4_tcp(&f);
	assert_decodes_payload(CS_DLT_LINUX_SLL, &f, ip, 4);

	f.n = 0;
	for (int i = 0; i < 14; i++)
		put8(&f, 0);
	put16(&f, 0x86dd);
	ip = ip6_tcp(&f);
	assert_decodes_payload(CS_DLT_LINUX_SLL, &f, ip, 6);
}

static void test_linux_sll2(void **state)
{
	struct fb f = { .n = 0 };
	struct pkt p;
	size_t ip;

	(void)state;
	put16(&f, 0x0800);       /* protocol */
	put16(&f, 0);            /* reserved */
	put32(&f, 3);            /* interface index */
	put16(&f, 1);            /* ARPHRD_ETHER */
	put8(&f, 4);             /* outgoing */
	put8(&f, 6);
	putn(&f, MAC_SRC, 6);
	put16(&f, 0);
	assert_int_equal(f.n, 20);
	ip = ip4_tcp(&f);
	assert_decodes_payload(CS_DLT_LINUX_SLL2, &f, ip, 4);

	/* SLL2 carrying an 802.1Q tag as its protocol. */
	f.n = 0;
	put16(&f, 0x8100);
	for (int i = 0; i < 18; i++)
		put8(&f, 0);
	vlan_tag(&f, 42, 0x86dd);
	ip = ip6_tcp(&f);
	assert_decodes_payload(CS_DLT_LINUX_SLL2, &f, ip, 6);
	assert_int_equal(decode_packet(CS_DLT_LINUX_SLL2, f.b, f.n, &p), DECODE_TCP);
	assert_int_equal(p.n_vlan, 1);
	assert_int_equal(p.vlan[0], 42);
}

static void test_dlt_null(void **state)
{
	static const uint32_t v6fam[] = { 24, 28, 30 };
	struct fb f = { .n = 0 };
	struct pkt p;
	size_t ip;

	(void)state;
	put32le(&f, 2);          /* AF_INET, host (little-endian) order */
	ip = ip4_tcp(&f);
	assert_decodes_payload(CS_DLT_NULL, &f, ip, 4);

	for (size_t i = 0; i < 3; i++) {
		f.n = 0;
		put32le(&f, v6fam[i]);
		ip = ip6_tcp(&f);
		assert_decodes_payload(CS_DLT_NULL, &f, ip, 6);
	}

	/* Written on a big-endian host: the family is byte-swapped. */
	f.n = 0;
	put32(&f, 2);
	ip = ip4_tcp(&f);
	assert_decodes_payload(CS_DLT_NULL, &f, ip, 4);
	f.n = 0;
	put32(&f, 30);
	ip = ip6_tcp(&f);
	assert_decodes_payload(CS_DLT_NULL, &f, ip, 6);

	/* AF_UNIX (1) is nothing for us. */
	f.n = 0;
	put32le(&f, 1);
	ip4_tcp(&f);
	assert_int_equal(decode_packet(CS_DLT_NULL, f.b, f.n, &p), DECODE_SKIP);
}

static void test_dlt_loop(void **state)
{
	struct fb f = { .n = 0 };
	struct pkt p;
	size_t ip;

	(void)state;
	put32(&f, 2);            /* network order */
	ip = ip4_tcp(&f);
	assert_decodes_payload(CS_DLT_LOOP, &f, ip, 4);

	f.n = 0;
	put32(&f, 30);
	ip = ip6_tcp(&f);
	assert_decodes_payload(CS_DLT_LOOP, &f, ip, 6);

	/* Little-endian 2 read in network order is 0x02000000: not a family. */
	f.n = 0;
	put32le(&f, 2);
	ip4_tcp(&f);
	assert_int_equal(decode_packet(CS_DLT_LOOP, f.b, f.n, &p), DECODE_SKIP);
}

static void test_raw_ip(void **state)
{
	static const int dlts[] = { CS_DLT_RAW, CS_DLT_RAW_LT, CS_DLT_RAW_BSD };
	struct fb f = { .n = 0 };
	struct pkt p;

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		f.n = 0;
		ip4_tcp(&f);
		assert_decodes_payload(dlts[i], &f, 0, 4);
		f.n = 0;
		ip6_tcp(&f);
		assert_decodes_payload(dlts[i], &f, 0, 6);
	}
	f.n = 0;
	ip4_tcp(&f);
	assert_decodes_payload(CS_DLT_IPV4, &f, 0, 4);
	f.n = 0;
	ip6_tcp(&f);
	assert_decodes_payload(CS_DLT_IPV6, &f, 0, 6);

	/* Version nibble 5: not IP. */
	f.n = 0;
	ip4_tcp(&f);
	f.b[0] = 0x55;
	assert_int_equal(decode_packet(CS_DLT_RAW, f.b, f.n, &p), DECODE_SKIP);
	/* Empty raw frame. */
	assert_int_equal(decode_packet(CS_DLT_RAW, f.b, 0, &p), DECODE_ERR);
}

static void pppoe_hdr(struct fb *f, uint16_t ppp_proto)
{
	put8(f, 0x11);           /* version 1, type 1 */
	put8(f, 0x00);           /* code: session data */
	put16(f, 0x4a3b);        /* session id */
	put16(f, 0);             /* length, not used */
	put16(f, ppp_proto);
}

static void test_pppoe(void **state)
{
	struct fb f = { .n = 0 };
	struct pkt p;
	size_t ip;

	(void)state;
	eth(&f, 0x8864);
	pppoe_hdr(&f, 0x0021);
	ip = ip4_tcp(&f);
	assert_decodes_payload(CS_DLT_EN10MB, &f, ip, 4);
	assert_int_equal(g_stats.pppoe, 1);

	f.n = 0;
	eth(&f, 0x8864);
	pppoe_hdr(&f, 0x0057);
	ip = ip6_tcp(&f);
	assert_decodes_payload(CS_DLT_EN10MB, &f, ip, 6);

	f.n = 0;
	eth(&f, 0x8864);
	pppoe_hdr(&f, 0xc021);   /* LCP */
	ip4_tcp(&f);
	assert_int_equal(decode_packet(CS_DLT_EN10MB, f.b, f.n, &p), DECODE_SKIP);
}

static void test_mpls(void **state)
{
	struct fb f = { .n = 0 };
	struct pkt p;
	size_t ip;

	(void)state;
	eth(&f, 0x8847);
	put32(&f, (16u << 12) | 64);             /* label 16, not bottom */
	put32(&f, (17u << 12) | 0x100 | 64);     /* label 17, bottom of stack */
	ip = ip4_tcp(&f);
	assert_decodes_payload(CS_DLT_EN10MB, &f, ip, 4);
	assert_int_equal(g_stats.mpls, 1);

	/* Multicast MPLS, IPv6 under one label. */
	f.n = 0;
	eth(&f, 0x8848);
	put32(&f, (2u << 12) | 0x100 | 1);
	ip = ip6_tcp(&f);
	assert_decodes_payload(CS_DLT_EN10MB, &f, ip, 6);

	/* PPPoE is not under MPLS, but MPLS under a VLAN is. */
	f.n = 0;
	eth(&f, 0x8100);
	vlan_tag(&f, 7, 0x8847);
	put32(&f, (99u << 12) | 0x100 | 64);
	ip = ip4_tcp(&f);
	assert_decodes_payload(CS_DLT_EN10MB, &f, ip, 4);

	/* More labels than DECODE_MAX_MPLS without bottom of stack. */
	f.n = 0;
	eth(&f, 0x8847);
	for (int i = 0; i < DECODE_MAX_MPLS; i++)
		put32(&f, (100u << 12) | 64);
	put32(&f, (101u << 12) | 0x100 | 64);
	ip4_tcp(&f);
	assert_int_equal(decode_packet(CS_DLT_EN10MB, f.b, f.n, &p), DECODE_SKIP);
}

/* A UDP datagram is the engine's (QUIC): ports, protocol and payload as
 * the UDP length says, Ethernet padding left out; a UDP length that runs
 * past the capture is cut and marked truncated, one below the header is
 * malformed.  ARP is skipped. */
static void test_udp_and_others(void **state)
{
	struct fb f = { .n = 0 };
	struct pkt p;
	size_t ip;

	(void)state;
	eth(&f, 0x0800);
	ip = ip4_begin(&f, 5, 0, 17);
	put16(&f, 5353);
	put16(&f, 443);
	put16(&f, 12);
	put16(&f, 0);
	put32(&f, 0x01020304);
	ip4_end(&f, ip);
	for (int i = 0; i < 6; i++)
		put8(&f, 0);                    /* Ethernet padding, not payload */
	assert_int_equal(decode_packet(CS_DLT_EN10MB, f.b, f.n, &p), DECODE_UDP);
	assert_int_equal(p.proto, 17);
	assert_int_equal(p.sport, 5353);
	assert_int_equal(p.dport, 443);
	assert_int_equal(p.payload_len, 4);
	assert_int_equal(p.payload[0], 1);
	assert_int_equal(p.payload[3], 4);
	assert_int_equal(p.l4_len, 12);
	assert_int_equal(g_stats.udp, 1);
	assert_int_equal(g_stats.decode_unsupported, 0);

	/* UDP over IPv6, no payload. */
	f.n = 0;
	eth(&f, 0x86dd);
	ip = ip6_begin(&f, 17);
	put16(&f, 5353);
	put16(&f, 853);
	put16(&f, 8);
	put16(&f, 0);
	ip6_end(&f, ip);
	assert_int_equal(decode_packet(CS_DLT_EN10MB, f.b, f.n, &p), DECODE_UDP);
	assert_int_equal(p.dport, 853);
	assert_int_equal(p.payload_len, 0);

	/* A UDP length past what was captured: cut, truncated. */
	f.n = 0;
	eth(&f, 0x0800);
	ip = ip4_begin(&f, 5, 0, 17);
	put16(&f, 5353);
	put16(&f, 443);
	put16(&f, 1200);
	put16(&f, 0);
	put32(&f, 0x01020304);
	ip4_end(&f, ip);
	assert_int_equal(decode_packet(CS_DLT_EN10MB, f.b, f.n, &p), DECODE_UDP);
	assert_int_equal(p.payload_len, 4);
	assert_true(p.truncated);

	/* A UDP length below its own header. */
	f.n = 0;
	eth(&f, 0x0800);
	ip = ip4_begin(&f, 5, 0, 17);
	put16(&f, 5353);
	put16(&f, 443);
	put16(&f, 7);
	put16(&f, 0);
	ip4_end(&f, ip);
	assert_int_equal(decode_packet(CS_DLT_EN10MB, f.b, f.n, &p), DECODE_ERR);
	assert_int_equal(g_stats.decode_err, 1);

	/* ARP. */
	f.n = 0;
	eth(&f, 0x0806);
	for (int i = 0; i < 28; i++)
		put8(&f, 0);
	assert_int_equal(decode_packet(CS_DLT_EN10MB, f.b, f.n, &p), DECODE_SKIP);
	assert_int_equal(g_stats.decode_unsupported, 1);
	assert_int_equal(g_stats.tcp, 0);
	assert_int_equal(g_stats.udp, 3);
}

static void test_unknown_linktype(void **state)
{
	struct fb f = { .n = 0 };
	struct pkt p;

	(void)state;
	eth(&f, 0x0800);
	ip4_tcp(&f);
	assert_int_equal(decode_packet(147 /* DLT_USER0 */, f.b, f.n, &p), DECODE_SKIP);
	assert_int_equal(decode_packet(-1, f.b, f.n, &p), DECODE_SKIP);
	assert_int_equal(g_stats.decode_unsupported, 2);
	assert_int_equal(g_stats.decode_err, 0);
	assert_false(decode_linktype_supported(147));
	assert_false(decode_linktype_supported(-1));
	assert_false(decode_linktype_supported(105));   /* 802.11 */
	assert_true(decode_linktype_supported(CS_DLT_EN10MB));
	assert_true(decode_linktype_supported(CS_DLT_NULL));
	assert_true(decode_linktype_supported(CS_DLT_LOOP));
	assert_true(decode_linktype_supported(CS_DLT_RAW));
	assert_true(decode_linktype_supported(CS_DLT_RAW_LT));
	assert_true(decode_linktype_supported(CS_DLT_LINUX_SLL));
	assert_true(decode_linktype_supported(CS_DLT_LINUX_SLL2));
	assert_true(decode_linktype_supported(CS_DLT_IPV4));
	assert_true(decode_linktype_supported(CS_DLT_IPV6));
}

/* ---- truncation --------------------------------------------------------- */

/* Decode every prefix of f, each copied to a buffer of exactly that size.
 * Prefixes shorter than hdr_len (all headers up to the TCP payload) are
 * errors; longer ones are TCP segments with the payload cut to the bytes
 * captured, flagged truncated. */
static void truncate_all(int dlt, const struct fb *f, size_t hdr_len)
{
	struct pkt p;
	uint64_t err0 = g_stats.decode_err;

	for (size_t len = 0; len < f->n; len++) {
		uint8_t *cut = malloc(len ? len : 1);
		enum decode_result r;

		assert_non_null(cut);
		memcpy(cut, f->b, len);
		r = decode_packet(dlt, cut, len, &p);
		if (r == DECODE_TCP) {
			assert_true(p.payload >= cut);
			assert_true(p.payload_len <= len);
			assert_true(p.payload + p.payload_len <= cut + len);
			assert_true(p.l3 >= cut && p.l3 + p.l3_len <= cut + len);
		}
		if (len < hdr_len) {
			assert_int_equal(r, DECODE_ERR);
		} else {
			assert_int_equal(r, DECODE_TCP);
			assert_ptr_equal(p.payload, cut + hdr_len);
			assert_int_equal(p.payload_len, len - hdr_len);
			assert_int_equal(p.truncated, 1);
		}
		free(cut);
	}
	assert_int_equal(g_stats.decode_err - err0, hdr_len);
}

static void test_truncation_eth_ipv4(void **state)
{
	struct fb f = { .n = 0 };
	size_t ip;

	(void)state;
	eth(&f, 0x0800);
	ip = ip4_begin(&f, 6, 0, 6);
	tcp_doff(&f, 7, PAYLOAD, PAYLOAD_LEN);
	ip4_end(&f, ip);
	truncate_all(CS_DLT_EN10MB, &f, 14 + 24 + 28);
}

static void test_truncation_eth_ipv6_ext(void **state)
{
	struct fb f = { .n = 0 };
	size_t ip;

	(void)state;
	eth(&f, 0x86dd);
	ip = ip6_begin(&f, 0);
	ip6_ext(&f, 60, 1);
	ip6_ext(&f, 6, 0);
	tcp(&f);
	ip6_end(&f, ip);
	truncate_all(CS_DLT_EN10MB, &f, 14 + 40 + 16 + 8 + 20);
}

static void test_truncation_qinq(void **state)
{
	struct fb f = { .n = 0 };

	(void)state;
	eth(&f, 0x88a8);
	vlan_tag(&f, 1, 0x8100);
	vlan_tag(&f, 2, 0x0800);
	ip4_tcp(&f);
	truncate_all(CS_DLT_EN10MB, &f, 14 + 8 + 20 + 20);
}

static void test_truncation_pppoe_mpls(void **state)
{
	struct fb f = { .n = 0 };

	(void)state;
	eth(&f, 0x8864);
	pppoe_hdr(&f, 0x0057);
	ip6_tcp(&f);
	truncate_all(CS_DLT_EN10MB, &f, 14 + 8 + 40 + 20);

	f.n = 0;
	eth(&f, 0x8847);
	put32(&f, (16u << 12) | 64);
	put32(&f, (17u << 12) | 0x100 | 64);
	ip4_tcp(&f);
	truncate_all(CS_DLT_EN10MB, &f, 14 + 8 + 20 + 20);
}

static void test_truncation_cooked_loop_raw(void **state)
{
	struct fb f = { .n = 0 };

	(void)state;
	for (int i = 0; i < 14; i++)
		put8(&f, 0);
	put16(&f, 0x0800);
	ip4_tcp(&f);
	truncate_all(CS_DLT_LINUX_SLL, &f, 16 + 40);

	f.n = 0;
	put16(&f, 0x86dd);
	for (int i = 0; i < 18; i++)
		put8(&f, 0);
	ip6_tcp(&f);
	truncate_all(CS_DLT_LINUX_SLL2, &f, 20 + 60);

	f.n = 0;
	put32le(&f, 2);
	ip4_tcp(&f);
	truncate_all(CS_DLT_NULL, &f, 4 + 40);

	f.n = 0;
	put32(&f, 30);
	ip6_tcp(&f);
	truncate_all(CS_DLT_LOOP, &f, 4 + 60);

	f.n = 0;
	ip4_tcp(&f);
	truncate_all(CS_DLT_RAW, &f, 40);
}

/* ---- inconsistent and giant lengths ------------------------------------- */

static void test_ipv4_ihl_below_5(void **state)
{
	struct fb f = { .n = 0 };
	struct pkt p;
	size_t ip;

	(void)state;
	for (unsigned ihl = 0; ihl < 5; ihl++) {
		f.n = 0;
		eth(&f, 0x0800);
		ip = ip4_tcp(&f);
		f.b[ip] = (uint8_t)(0x40 | ihl);
		assert_int_equal(decode_packet(CS_DLT_EN10MB, f.b, f.n, &p), DECODE_ERR);
	}
	assert_int_equal(g_stats.decode_err, 5);
	assert_int_equal(g_stats.tcp, 0);
}

static void test_ipv4_total_below_ihl(void **state)
{
	struct fb f = { .n = 0 };
	struct pkt p;
	size_t ip;

	(void)state;
	eth(&f, 0x0800);
	ip = ip4_begin(&f, 6, 0, 6);
	tcp(&f);
	ip4_end(&f, ip);
	set16(&f, ip + 2, 23);   /* one less than the 24-byte header */
	assert_int_equal(decode_packet(CS_DLT_EN10MB, f.b, f.n, &p), DECODE_ERR);
	set16(&f, ip + 2, 0);
	assert_int_equal(decode_packet(CS_DLT_EN10MB, f.b, f.n, &p), DECODE_ERR);
	/* Total length = header only: no room for TCP. */
	set16(&f, ip + 2, 24);
	assert_int_equal(decode_packet(CS_DLT_EN10MB, f.b, f.n, &p), DECODE_ERR);
	/* IHL larger than the captured bytes. */
	f.b[ip] = 0x4f;          /* 60 bytes */
	set16(&f, ip + 2, 60);
	assert_int_equal(decode_packet(CS_DLT_EN10MB, f.b, 14 + 59, &p), DECODE_ERR);
	assert_int_equal(g_stats.decode_err, 4);
	assert_int_equal(g_stats.tcp, 0);
}

static void test_ipv4_wrong_version(void **state)
{
	struct fb f = { .n = 0 };
	struct pkt p;
	size_t ip;

	(void)state;
	eth(&f, 0x0800);
	ip = ip4_tcp(&f);
	f.b[ip] = 0x65;          /* ethertype says IPv4, header says 6 */
	assert_int_equal(decode_packet(CS_DLT_EN10MB, f.b, f.n, &p), DECODE_ERR);
	f.n = 0;
	eth(&f, 0x86dd);
	ip = ip6_tcp(&f);
	f.b[ip] = 0x45;
	assert_int_equal(decode_packet(CS_DLT_EN10MB, f.b, f.n, &p), DECODE_ERR);
	assert_int_equal(g_stats.decode_err, 2);
}

static void test_tcp_doff_below_5(void **state)
{
	struct fb f = { .n = 0 };
	struct pkt p;
	size_t ip, th;

	(void)state;
	for (unsigned doff = 0; doff < 5; doff++) {
		f.n = 0;
		eth(&f, 0x0800);
		ip = ip4_begin(&f, 5, 0, 6);
		th = tcp(&f);
		ip4_end(&f, ip);
		f.b[th + 12] = (uint8_t)(doff << 4);
		assert_int_equal(decode_packet(CS_DLT_EN10MB, f.b, f.n, &p), DECODE_ERR);
	}
	assert_int_equal(g_stats.decode_err, 5);
	assert_int_equal(g_stats.tcp, 0);
}

static void test_tcp_doff_beyond_packet(void **state)
{
	struct fb f = { .n = 0 };
	struct pkt p;
	size_t ip, th;

	(void)state;
	eth(&f, 0x0800);
	ip = ip4_begin(&f, 5, 0, 6);
	th = tcp_doff(&f, 5, "0123456789abcdefghijklmnopq", 27);   /* 47 bytes */
	ip4_end(&f, ip);
	f.b[th + 12] = 0xc0;     /* 48 bytes of header: one past the IP payload */
	assert_int_equal(decode_packet(CS_DLT_EN10MB, f.b, f.n, &p), DECODE_ERR);
	f.b[th + 12] = 0xf0;     /* 60 */
	assert_int_equal(decode_packet(CS_DLT_EN10MB, f.b, f.n, &p), DECODE_ERR);
	/* Exactly the IP payload would be 47: 44 fits and leaves 3 bytes. */
	f.b[th + 12] = 0xb0;
	assert_int_equal(decode_packet(CS_DLT_EN10MB, f.b, f.n, &p), DECODE_TCP);
	assert_int_equal(p.payload_len, 3);
	assert_memory_equal(p.payload, "opq", 3);

	/* The header would fit in the frame, but only thanks to Ethernet
	 * padding beyond the IP total length: still an error. */
	f.n = 0;
	eth(&f, 0x0800);
	ip = ip4_begin(&f, 5, 0, 6);
	th = tcp_doff(&f, 5, "", 0);
	ip4_end(&f, ip);
	for (int i = 0; i < 8; i++)
		put8(&f, 0);
	f.b[th + 12] = 0x70;     /* 28 bytes, IP payload is 20 */
	assert_int_equal(decode_packet(CS_DLT_EN10MB, f.b, f.n, &p), DECODE_ERR);
	assert_int_equal(g_stats.decode_err, 3);
}

static void test_ipv6_giant_payload_length(void **state)
{
	struct fb f = { .n = 0 };
	struct pkt p;
	size_t ip;

	(void)state;
	eth(&f, 0x86dd);
	ip = ip6_tcp(&f);
	set16(&f, ip + 4, 0xffff);
	assert_int_equal(decode_packet(CS_DLT_EN10MB, f.b, f.n, &p), DECODE_TCP);
	assert_int_equal(p.truncated, 1);
	assert_ptr_equal(p.payload, f.b + f.n - PAYLOAD_LEN);
	assert_int_equal(p.payload_len, PAYLOAD_LEN);
	assert_ptr_equal(p.l3, f.b + ip);
	assert_int_equal(p.l3_len, f.n - ip);

	/* IPv4 with total length 0xffff likewise. */
	f.n = 0;
	eth(&f, 0x0800);
	ip = ip4_tcp(&f);
	set16(&f, ip + 2, 0xffff);
	assert_int_equal(decode_packet(CS_DLT_EN10MB, f.b, f.n, &p), DECODE_TCP);
	assert_int_equal(p.truncated, 1);
	assert_ptr_equal(p.payload, f.b + f.n - PAYLOAD_LEN);
	assert_int_equal(p.payload_len, PAYLOAD_LEN);
	assert_int_equal(p.l3_len, f.n - ip);

	/* IPv6 payload length 0 (a jumbogram without its option): no TCP. */
	f.n = 0;
	eth(&f, 0x86dd);
	ip = ip6_tcp(&f);
	set16(&f, ip + 4, 0);
	assert_int_equal(decode_packet(CS_DLT_EN10MB, f.b, f.n, &p), DECODE_ERR);
}

static void test_ipv6_ext_header_beyond_payload(void **state)
{
	struct fb f = { .n = 0 };
	struct pkt p;
	size_t ip;

	(void)state;
	eth(&f, 0x86dd);
	ip = ip6_begin(&f, 60);
	put8(&f, 6);
	put8(&f, 255);           /* 2048 bytes claimed */
	for (int i = 0; i < 6; i++)
		put8(&f, 0);
	tcp(&f);
	ip6_end(&f, ip);
	assert_int_equal(decode_packet(CS_DLT_EN10MB, f.b, f.n, &p), DECODE_ERR);
	assert_int_equal(g_stats.decode_err, 1);
	assert_int_equal(g_stats.tcp, 0);
}

/* Nothing but VLAN tags: an error, no deep recursion. */
static void test_vlan_only_tags(void **state)
{
	struct fb f = { .n = 0 };
	struct pkt p;

	(void)state;
	eth(&f, 0x8100);
	while (f.n + 4 <= 1500)
		vlan_tag(&f, 5, 0x8100);
	/* Skipped at the third tag: no loop over the rest of the frame. */
	assert_int_equal(decode_packet(CS_DLT_EN10MB, f.b, f.n, &p), DECODE_SKIP);
	assert_int_equal(g_stats.vlan, DECODE_MAX_VLAN);
}

/* ---- tunnels: GRE, ERSPAN, VXLAN, Geneve -------------------------------- */

/* The outer packet goes from a switch to a collector; the segment inside
 * is IP4_SRC -> IP4_DST, and only those may be reported. */
static const uint8_t OUTER_SRC[4] = { 10, 0, 0, 1 };
static const uint8_t OUTER_DST[4] = { 10, 0, 0, 2 };

enum encap {
	E_GRE_IP,       /* GRE, RFC 2784, protocol 0x0800: an IP packet follows */
	E_GRE_TEB,      /* GRE with checksum, key and sequence, 0x6558 */
	E_ERSPAN1,      /* GRE 0x88be without S: the frame directly */
	E_ERSPAN2,      /* GRE+S 0x88be, 8-byte ERSPAN header version 1 */
	E_ERSPAN3,      /* GRE+S 0x22eb, 12-byte header version 2, O clear */
	E_ERSPAN3_SUB,  /* ... O set: 8-byte platform subheader */
	E_ERSPAN3_IP,   /* ... frame type 2: an IP packet follows */
	E_VXLAN,        /* UDP 4789 */
	E_GENEVE,       /* UDP 6081, 0x6558, one 8-byte option */
	E_COUNT
};

static int encap_carries_ip(enum encap e)
{
	return e == E_GRE_IP || e == E_ERSPAN3_IP;
}

static void gre_hdr(struct fb *f, uint16_t flags, uint16_t proto)
{
	put16(f, flags);
	put16(f, proto);
	if (flags & 0x8000)
		put32(f, 0xabcd0000);   /* checksum and reserved1: not checked */
	if (flags & 0x2000)
		put32(f, 0x0000002a);   /* key */
	if (flags & 0x1000)
		put32(f, 0x01020304);   /* sequence number */
}

/* ERSPAN type II header: version 1, VLAN 0, En 3, session 7, index 1. */
static void erspan2_hdr(struct fb *f)
{
	put16(f, 0x1000);
	put16(f, 0x1807);
	put32(f, 0x00000001);
}

/* ERSPAN type III header: version 2, session 7, a time stamp, SGT 0,
 * then P|FT|Hw ID|D|Gra|O with frame type ft and hardware id 1. */
static void erspan3_hdr(struct fb *f, unsigned ft, int o)
{
	put16(f, 0x2000);
	put16(f, 0x0007);
	put32(f, 0x5eedf00d);
	put16(f, 0);
	put16(f, (uint16_t)(((ft & 0x1f) << 10) | (1u << 4) | (o ? 1u : 0u)));
	if (o) {
		put32(f, (7u << 26) | 0x12);   /* platform ID 7, source index */
		put32(f, 0x00000001);          /* upper time stamp */
	}
}

static void udp_hdr(struct fb *f, uint16_t dport)
{
	put16(f, 49152);
	put16(f, dport);
	put16(f, 0);            /* length: not used */
	put16(f, 0);            /* checksum zero, RFC 7348 §5 */
}

/* An outer IPv4 header (switch -> collector) and the encapsulation e;
 * returns the IPv4 offset for ip4_end once the frame is complete. */
static size_t encap_hdr(struct fb *f, enum encap e)
{
	int udp = e == E_VXLAN || e == E_GENEVE;
	size_t ip = ip4_begin(f, 5, 0x4000, udp ? 17 : 47);

	memcpy(f->b + ip + 12, OUTER_SRC, 4);
	memcpy(f->b + ip + 16, OUTER_DST, 4);
	switch (e) {
	case E_GRE_IP:
		gre_hdr(f, 0, 0x0800);
		break;
	case E_GRE_TEB:
		gre_hdr(f, 0xb000, 0x6558);
		break;
	case E_ERSPAN1:
		gre_hdr(f, 0, 0x88be);
		break;
	case E_ERSPAN2:
		gre_hdr(f, 0x1000, 0x88be);
		erspan2_hdr(f);
		break;
	case E_ERSPAN3:
	case E_ERSPAN3_SUB:
	case E_ERSPAN3_IP:
		gre_hdr(f, 0x1000, 0x22eb);
		erspan3_hdr(f, e == E_ERSPAN3_IP ? 2 : 0, e == E_ERSPAN3_SUB);
		break;
	case E_VXLAN:
		udp_hdr(f, 4789);
		put32(f, 0x08000000);   /* I flag */
		put32(f, 5001u << 8);   /* VNI */
		break;
	case E_GENEVE:
		udp_hdr(f, 6081);
		put8(f, 2);             /* version 0, option length 2 words */
		put8(f, 0);
		put16(f, 0x6558);
		put32(f, 5001u << 8);
		put16(f, 0xfff0);       /* option class (experimental) */
		put8(f, 0x01);          /* type, not critical */
		put8(f, 1);             /* 1 word of data */
		put32(f, 0xc0ffee00);
		break;
	default:
		fail();
	}
	return ip;
}

/* Ethernet, then the encapsulations of stack (outermost first), each
 * followed by an Ethernet frame or an IP packet as it carries, then the
 * TCP segment.  Returns the innermost IP header's offset. */
static size_t build_encap(struct fb *f, const enum encap *stack, size_t n)
{
	size_t outer[8], ip;

	assert_true(n <= 8);
	eth(f, 0x0800);
	for (size_t i = 0; i < n; i++) {
		outer[i] = encap_hdr(f, stack[i]);
		if (!encap_carries_ip(stack[i]))
			eth(f, 0x0800);
	}
	ip = ip4_tcp(f);
	for (size_t i = 0; i < n; i++)
		ip4_end(f, outer[i]);
	return ip;
}

static size_t build_one(struct fb *f, enum encap e)
{
	return build_encap(f, &e, 1);
}

/* Decodes to the inner segment, one tunnel level deep. */
static void assert_inner(struct fb *f, size_t ip, uint8_t depth)
{
	struct pkt p;

	assert_decodes_payload(CS_DLT_EN10MB, f, ip, 4);
	assert_int_equal(decode_packet(CS_DLT_EN10MB, f->b, f->n, &p), DECODE_TCP);
	assert_int_equal(p.depth, depth);
	assert_int_equal(p.n_vlan, 0);
}

static void test_gre(void **state)
{
	struct fb f = { .n = 0 };
	struct pkt p;
	size_t ip, ip6;

	(void)state;
	ip = build_one(&f, E_GRE_IP);
	assert_int_equal(ip, 14 + 20 + 4);
	assert_inner(&f, ip, 1);
	assert_int_equal(g_stats.gre, 2);
	assert_int_equal(g_stats.tunnel, 2);
	assert_int_equal(g_stats.ipv4, 4);      /* outer and inner, twice */
	assert_int_equal(g_stats.erspan, 0);

	/* Checksum, key and sequence (RFC 2890), transparent Ethernet. */
	f.n = 0;
	ip = build_one(&f, E_GRE_TEB);
	assert_int_equal(ip, 14 + 20 + 16 + 14);
	assert_inner(&f, ip, 1);

	/* Over IPv6, carrying IPv6 (protocol 0x86dd). */
	f.n = 0;
	eth(&f, 0x86dd);
	ip6 = ip6_begin(&f, 47);
	gre_hdr(&f, 0x2000, 0x86dd);
	ip = ip6_tcp(&f);
	ip6_end(&f, ip6);
	assert_decodes_payload(CS_DLT_EN10MB, &f, ip, 6);

	/* Version 1 (PPTP) and RFC 1701 routing are not decoded. */
	memset(&g_stats, 0, sizeof(g_stats));
	f.n = 0;
	ip = build_one(&f, E_GRE_IP);
	f.b[14 + 20 + 1] |= 0x01;
	assert_int_equal(decode_packet(CS_DLT_EN10MB, f.b, f.n, &p), DECODE_SKIP);
	f.b[14 + 20 + 1] &= 0xf8;
	f.b[14 + 20] |= 0x40;
	assert_int_equal(decode_packet(CS_DLT_EN10MB, f.b, f.n, &p), DECODE_SKIP);
	assert_int_equal(g_stats.decode_unsupported, 2);
	assert_int_equal(g_stats.decode_err, 0);
	assert_int_equal(g_stats.tcp, 0);
	assert_int_equal(g_stats.tunnel, 0);

	/* An unknown protocol inside GRE is skipped, one level in. */
	f.b[14 + 20] &= 0xbf;
	set16(&f, 14 + 20 + 2, 0x880b);   /* PPP */
	assert_int_equal(decode_packet(CS_DLT_EN10MB, f.b, f.n, &p), DECODE_SKIP);
	assert_int_equal(g_stats.tunnel, 1);
}

/* Type I: no ERSPAN header, told from type II by the GRE S bit. */
static void test_erspan_type1(void **state)
{
	struct fb f = { .n = 0 };
	size_t ip, outer;

	(void)state;
	ip = build_one(&f, E_ERSPAN1);
	assert_int_equal(ip, 14 + 20 + 4 + 14);
	assert_inner(&f, ip, 1);
	assert_int_equal(g_stats.gre, 2);
	assert_int_equal(g_stats.erspan, 2);
	assert_int_equal(g_stats.tunnel, 2);

	/* A key but no sequence number: still type I. */
	f.n = 0;
	eth(&f, 0x0800);
	outer = encap_hdr(&f, E_GRE_IP);
	f.n = outer + 20;
	gre_hdr(&f, 0x2000, 0x88be);
	eth(&f, 0x0800);
	ip = ip4_tcp(&f);
	ip4_end(&f, outer);
	assert_inner(&f, ip, 1);
}

static void test_erspan_type2(void **state)
{
	struct fb f = { .n = 0 };
	struct pkt p;
	size_t ip, outer;

	(void)state;
	ip = build_one(&f, E_ERSPAN2);
	assert_int_equal(ip, 14 + 20 + 8 + 8 + 14);
	assert_inner(&f, ip, 1);
	assert_int_equal(g_stats.erspan, 2);

	/* The mirrored frame keeps its 802.1Q tag (En 3): its VLAN is the
	 * flow's; a tag on the outer frame is not. */
	f.n = 0;
	eth(&f, 0x8100);
	vlan_tag(&f, 55, 0x0800);
	outer = encap_hdr(&f, E_ERSPAN2);
	eth(&f, 0x8100);
	vlan_tag(&f, 321, 0x0800);
	ip = ip4_tcp(&f);
	ip4_end(&f, outer);
	assert_decodes_payload(CS_DLT_EN10MB, &f, ip, 4);
	assert_int_equal(decode_packet(CS_DLT_EN10MB, f.b, f.n, &p), DECODE_TCP);
	assert_int_equal(p.n_vlan, 1);
	assert_int_equal(p.vlan[0], 321);

	/* IPv6 inside the mirrored frame. */
	f.n = 0;
	eth(&f, 0x0800);
	outer = encap_hdr(&f, E_ERSPAN2);
	eth(&f, 0x86dd);
	ip = ip6_tcp(&f);
	ip4_end(&f, outer);
	assert_decodes_payload(CS_DLT_EN10MB, &f, ip, 6);
}

static void test_erspan_type3(void **state)
{
	struct fb f = { .n = 0 };
	size_t ip, outer;

	(void)state;
	ip = build_one(&f, E_ERSPAN3);
	assert_int_equal(ip, 14 + 20 + 8 + 12 + 14);
	assert_inner(&f, ip, 1);

	f.n = 0;
	ip = build_one(&f, E_ERSPAN3_SUB);
	assert_int_equal(ip, 14 + 20 + 8 + 12 + 8 + 14);
	assert_inner(&f, ip, 1);

	/* Frame type 2: an IP packet, no Ethernet header. */
	f.n = 0;
	ip = build_one(&f, E_ERSPAN3_IP);
	assert_int_equal(ip, 14 + 20 + 8 + 12);
	assert_inner(&f, ip, 1);

	f.n = 0;
	eth(&f, 0x0800);
	outer = encap_hdr(&f, E_ERSPAN3_IP);
	ip = ip6_tcp(&f);
	ip4_end(&f, outer);
	assert_decodes_payload(CS_DLT_EN10MB, &f, ip, 6);
	assert_int_equal(g_stats.erspan, 7);
	assert_int_equal(g_stats.decode_err, 0);
}

/* Where there is an ERSPAN header, its version says how long it is,
 * whatever the GRE protocol (as Wireshark reads it); unknown versions and
 * frame types are skipped, not guessed at. */
static void test_erspan_version_decides(void **state)
{
	struct fb f = { .n = 0 };
	struct pkt p;
	size_t ip, ver, last;

	(void)state;
	/* 0x22eb with a version 1 header: 8 bytes. */
	ip = build_one(&f, E_ERSPAN2);
	set16(&f, 14 + 20 + 2, 0x22eb);
	assert_inner(&f, ip, 1);

	/* 0x88be (S set) with a version 2 header: 12 bytes. */
	f.n = 0;
	ip = build_one(&f, E_ERSPAN3);
	set16(&f, 14 + 20 + 2, 0x88be);
	assert_inner(&f, ip, 1);

	memset(&g_stats, 0, sizeof(g_stats));
	ver = 14 + 20 + 8;
	last = ver + 10;
	for (unsigned v = 0; v < 16; v++) {
		if (v == 1 || v == 2)
			continue;
		f.b[ver] = (uint8_t)(v << 4);
		assert_int_equal(decode_packet(CS_DLT_EN10MB, f.b, f.n, &p), DECODE_SKIP);
	}
	assert_int_equal(g_stats.decode_unsupported, 14);
	f.b[ver] = 0x20;
	for (unsigned ft = 0; ft < 32; ft++) {
		set16(&f, last, (uint16_t)(ft << 10));
		assert_int_equal(decode_packet(CS_DLT_EN10MB, f.b, f.n, &p),
		                 ft == 0 ? DECODE_TCP : DECODE_SKIP);
	}
	/* ft 2 is IP: the Ethernet header is read as IP, version 0: skipped */
	assert_int_equal(g_stats.decode_unsupported, 14 + 31);
	assert_int_equal(g_stats.decode_err, 0);
	assert_int_equal(g_stats.tcp, 1);
}

static void test_vxlan_geneve(void **state)
{
	struct fb f = { .n = 0 };
	struct pkt p;
	size_t ip;

	(void)state;
	ip = build_one(&f, E_VXLAN);
	assert_int_equal(ip, 14 + 20 + 8 + 8 + 14);
	assert_inner(&f, ip, 1);
	assert_int_equal(g_stats.vxlan, 2);

	f.n = 0;
	ip = build_one(&f, E_GENEVE);
	assert_int_equal(ip, 14 + 20 + 8 + 8 + 8 + 14);
	assert_inner(&f, ip, 1);
	assert_int_equal(g_stats.geneve, 2);
	assert_int_equal(g_stats.gre, 0);
	assert_int_equal(g_stats.tunnel, 4);

	/* A giant option length (63 words) runs past the packet. */
	f.b[14 + 20 + 8] = 0x3f;
	assert_int_equal(decode_packet(CS_DLT_EN10MB, f.b, f.n, &p), DECODE_ERR);
	assert_int_equal(g_stats.decode_err, 1);
}

/* Every prefix of every encapsulation: an error up to the end of the
 * innermost TCP header, then a segment flagged truncated. */
static void test_truncation_tunnels(void **state)
{
	static const enum encap two[] = { E_GENEVE, E_ERSPAN3_SUB };
	struct fb f;

	(void)state;
	for (int e = 0; e < E_COUNT; e++) {
		f.n = 0;
		build_one(&f, (enum encap)e);
		truncate_all(CS_DLT_EN10MB, &f, f.n - PAYLOAD_LEN);
	}
	/* Two levels: ERSPAN III with a subheader inside Geneve. */
	f.n = 0;
	build_encap(&f, two, 2);
	truncate_all(CS_DLT_EN10MB, &f, f.n - PAYLOAD_LEN);
}

/* An ERSPAN III O flag promising a subheader that is not there, and a
 * GRE header promising optional words that are not there. */
static void test_tunnel_headers_beyond_packet(void **state)
{
	struct fb f = { .n = 0 };
	struct pkt p;
	size_t outer;

	(void)state;
	eth(&f, 0x0800);
	outer = encap_hdr(&f, E_ERSPAN3);
	f.b[f.n - 1] |= 0x01;   /* O set, 4 bytes left */
	put32(&f, 0);
	ip4_end(&f, outer);
	assert_int_equal(decode_packet(CS_DLT_EN10MB, f.b, f.n, &p), DECODE_ERR);

	f.n = 0;
	eth(&f, 0x0800);
	outer = ip4_begin(&f, 5, 0, 47);
	put16(&f, 0xb000);      /* C, K and S: 12 more bytes, 8 present */
	put16(&f, 0x6558);
	put32(&f, 0);
	put32(&f, 0);
	ip4_end(&f, outer);
	assert_int_equal(decode_packet(CS_DLT_EN10MB, f.b, f.n, &p), DECODE_ERR);
	assert_int_equal(g_stats.decode_err, 2);
	assert_int_equal(g_stats.tcp, 0);
}

/* DECODE_MAX_TUNNEL levels decode; one more is skipped, for every kind,
 * and so is a frame of nothing but tunnel headers. */
static void test_tunnel_nesting_limit(void **state)
{
	static const enum encap mixed[] = { E_GRE_IP, E_ERSPAN2, E_VXLAN };
	enum encap stack[DECODE_MAX_TUNNEL + 1];
	size_t outer[64], n = 0, ip;
	struct fb f;
	struct pkt p;

	(void)state;
	for (int e = 0; e < E_COUNT; e++) {
		for (int i = 0; i <= DECODE_MAX_TUNNEL; i++)
			stack[i] = (enum encap)e;
		f.n = 0;
		ip = build_encap(&f, stack, DECODE_MAX_TUNNEL);
		assert_inner(&f, ip, DECODE_MAX_TUNNEL);
		f.n = 0;
		build_encap(&f, stack, DECODE_MAX_TUNNEL + 1);
		memset(&g_stats, 0, sizeof(g_stats));
		assert_int_equal(decode_packet(CS_DLT_EN10MB, f.b, f.n, &p), DECODE_SKIP);
		assert_int_equal(g_stats.tunnel, DECODE_MAX_TUNNEL);
		assert_int_equal(g_stats.tcp, 0);
	}

	/* Mixed: GRE, then ERSPAN II, then VXLAN. */
	f.n = 0;
	ip = build_encap(&f, mixed, 3);
	assert_inner(&f, ip, 3);

	/* ERSPAN type I in itself until the frame ends: the limit stops it. */
	f.n = 0;
	eth(&f, 0x0800);
	while (n < 64 && f.n + 20 + 4 + 14 <= sizeof(f.b)) {
		outer[n++] = encap_hdr(&f, E_ERSPAN1);
		eth(&f, 0x0800);
	}
	assert_true(n > DECODE_MAX_TUNNEL + 1);
	for (size_t i = 0; i < n; i++)
		ip4_end(&f, outer[i]);
	memset(&g_stats, 0, sizeof(g_stats));
	decode_packet(CS_DLT_EN10MB, f.b, f.n, &p);
	assert_int_equal(g_stats.tunnel, DECODE_MAX_TUNNEL);
	assert_int_equal(g_stats.erspan, DECODE_MAX_TUNNEL + 1);
	assert_int_equal(g_stats.tcp, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_eth_ipv4_tcp_every_field, reset_stats),
		cmocka_unit_test_setup(test_eth_ipv4_tcp_flags, reset_stats),
		cmocka_unit_test_setup(test_eth_ipv4_tcp_minimum, reset_stats),
		cmocka_unit_test_setup(test_eth_padding_excluded, reset_stats),
		cmocka_unit_test_setup(test_ipv4_options, reset_stats),
		cmocka_unit_test_setup(test_vlan_8021q, reset_stats),
		cmocka_unit_test_setup(test_vlan_qinq, reset_stats),
		cmocka_unit_test_setup(test_vlan_three_tags_skipped, reset_stats),
		cmocka_unit_test_setup(test_ipv6_ext_headers, reset_stats),
		cmocka_unit_test_setup(test_ipv6_routing_and_ah, reset_stats),
		cmocka_unit_test_setup(test_ipv6_fragment, reset_stats),
		cmocka_unit_test_setup(test_ipv6_too_many_ext_headers, reset_stats),
		cmocka_unit_test_setup(test_ipv4_fragments, reset_stats),
		cmocka_unit_test_setup(test_linux_sll, reset_stats),
		cmocka_unit_test_setup(test_linux_sll2, reset_stats),
		cmocka_unit_test_setup(test_dlt_null, reset_stats),
		cmocka_unit_test_setup(test_dlt_loop, reset_stats),
		cmocka_unit_test_setup(test_raw_ip, reset_stats),
		cmocka_unit_test_setup(test_pppoe, reset_stats),
		cmocka_unit_test_setup(test_mpls, reset_stats),
		cmocka_unit_test_setup(test_udp_and_others, reset_stats),
		cmocka_unit_test_setup(test_unknown_linktype, reset_stats),
		cmocka_unit_test_setup(test_truncation_eth_ipv4, reset_stats),
		cmocka_unit_test_setup(test_truncation_eth_ipv6_ext, reset_stats),
		cmocka_unit_test_setup(test_truncation_qinq, reset_stats),
		cmocka_unit_test_setup(test_truncation_pppoe_mpls, reset_stats),
		cmocka_unit_test_setup(test_truncation_cooked_loop_raw, reset_stats),
		cmocka_unit_test_setup(test_ipv4_ihl_below_5, reset_stats),
		cmocka_unit_test_setup(test_ipv4_total_below_ihl, reset_stats),
		cmocka_unit_test_setup(test_ipv4_wrong_version, reset_stats),
		cmocka_unit_test_setup(test_tcp_doff_below_5, reset_stats),
		cmocka_unit_test_setup(test_tcp_doff_beyond_packet, reset_stats),
		cmocka_unit_test_setup(test_ipv6_giant_payload_length, reset_stats),
		cmocka_unit_test_setup(test_ipv6_ext_header_beyond_payload, reset_stats),
		cmocka_unit_test_setup(test_vlan_only_tags, reset_stats),
		cmocka_unit_test_setup(test_gre, reset_stats),
		cmocka_unit_test_setup(test_erspan_type1, reset_stats),
		cmocka_unit_test_setup(test_erspan_type2, reset_stats),
		cmocka_unit_test_setup(test_erspan_type3, reset_stats),
		cmocka_unit_test_setup(test_erspan_version_decides, reset_stats),
		cmocka_unit_test_setup(test_vxlan_geneve, reset_stats),
		cmocka_unit_test_setup(test_truncation_tunnels, reset_stats),
		cmocka_unit_test_setup(test_tunnel_headers_beyond_packet, reset_stats),
		cmocka_unit_test_setup(test_tunnel_nesting_limit, reset_stats),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
