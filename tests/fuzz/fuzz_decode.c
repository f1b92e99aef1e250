/*
 * fuzz_decode.c - libFuzzer target for decode_packet() (sensor/capture/decode.c).
 *
 * Input: one byte choosing the link type (an index into the list of link
 * types decode_linktype_supported() accepts, modulo its length), then the
 * frame.  A frame of any shape must give TCP, SKIP or ERR, and a TCP
 * result must point into the frame; a violated invariant is an abort(),
 * which libFuzzer reports as a crash.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "capture/decode.h"
#include "core/stats.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const int dlts[] = {
	CS_DLT_NULL, CS_DLT_EN10MB, CS_DLT_RAW, CS_DLT_RAW_BSD, CS_DLT_RAW_LT,
	CS_DLT_LOOP, CS_DLT_LINUX_SLL, CS_DLT_IPV4, CS_DLT_IPV6, CS_DLT_LINUX_SLL2,
};
#define N_DLTS (sizeof dlts / sizeof dlts[0])

/* [p, p+n) lies within [base, base+len). */
static int inside(const uint8_t *p, size_t n, const uint8_t *base, size_t len)
{
	if (p == NULL)
		return 0;
	if (p < base || (size_t)(p - base) > len)
		return 0;
	return n <= len - (size_t)(p - base);
}

/* A TCP segment or UDP datagram: every view inside the frame and inside
 * the views that hold it, the header at least its minimum size (TCP 20,
 * UDP 8, exactly). */
static void check_l4(const struct pkt *p, enum decode_result r, const uint8_t *frame, size_t len)
{
	volatile uint8_t sink = 0;

	if (p->family != 4 && p->family != 6)
		abort();
	if (p->n_vlan > DECODE_MAX_VLAN || p->depth > DECODE_MAX_TUNNEL)
		abort();
	if (!inside(p->payload, p->payload_len, frame, len))
		abort();
	if (!inside(p->l3, p->l3_len, frame, len))
		abort();
	/* The payload belongs to the (innermost) IP packet it came in. */
	if (!inside(p->payload, p->payload_len, p->l3, p->l3_len))
		abort();
	if (!inside(p->l4, p->l4_len, p->l3, p->l3_len) ||
	    !inside(p->payload, p->payload_len, p->l4, p->l4_len) ||
	    (r == DECODE_TCP && (size_t)(p->payload - p->l4) < 20) ||
	    (r == DECODE_UDP && ((size_t)(p->payload - p->l4) != 8 || p->proto != 17)) ||
	    (r == DECODE_TCP && p->proto != 6))
		abort();
	/* Touch every byte: ASan sees any view that reaches past the frame. */
	for (size_t i = 0; i < p->payload_len; i++)
		sink ^= p->payload[i];
	for (size_t i = 0; i < p->l3_len; i++)
		sink ^= p->l3[i];
	(void)sink;
	if (r != DECODE_TCP)
		return;
	switch (decode_tcp_checksum_ok(p)) {
	case -1: case 0: case 1:
		break;
	default:
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pkt p, q;
	const uint8_t *frame;
	size_t len;
	uint64_t tcp_before, udp_before;
	int dlt;
	enum decode_result r, r2;

	if (size < 1)
		return 0;
	dlt = dlts[data[0] % N_DLTS];
	if (!decode_linktype_supported(dlt))
		abort();
	frame = data + 1;
	len = size - 1;

	memset(&p, 0x5a, sizeof p);   /* garbage a decoder must overwrite */
	p.ts_us = 1234567;
	tcp_before = g_stats.tcp;
	udp_before = g_stats.udp;
	r = decode_packet(dlt, frame, len, &p);
	if (r != DECODE_TCP && r != DECODE_UDP && r != DECODE_SKIP && r != DECODE_ERR &&
	    r != DECODE_FRAG)
		abort();
	if (p.ts_us != 1234567)
		abort();
	if ((r == DECODE_TCP) != (g_stats.tcp == tcp_before + 1) ||
	    (r == DECODE_UDP) != (g_stats.udp == udp_before + 1))
		abort();
	if (r == DECODE_TCP || r == DECODE_UDP)
		check_l4(&p, r, frame, len);

	/* Decoding is a pure function of the frame. */
	memset(&q, 0, sizeof q);
	q.ts_us = 1234567;
	r2 = decode_packet(dlt, frame, len, &q);
	if (r2 != r)
		abort();
	if ((r == DECODE_TCP || r == DECODE_UDP) &&
	    (q.payload != p.payload || q.payload_len != p.payload_len || q.seq != p.seq ||
	     q.ack != p.ack || q.flags != p.flags || q.sport != p.sport || q.dport != p.dport ||
	     q.family != p.family || memcmp(q.src, p.src, 16) != 0 ||
	     memcmp(q.dst, p.dst, 16) != 0 || q.n_vlan != p.n_vlan ||
	     memcmp(q.vlan, p.vlan, sizeof q.vlan) != 0 || q.truncated != p.truncated))
		abort();
	return 0;
}
