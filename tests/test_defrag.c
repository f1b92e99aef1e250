/*
 * test_defrag.c - IP fragment reassembly: order, overlaps (first copy
 * wins), IPv6, timeouts and every limit.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "capture/defrag.h"
#include "core/stats.h"

static struct cs_limits lim;
static const uint8_t seed[16] = { 1, 2, 3 };
static uint8_t payload[3000];

/* An IPv4 fragment of payload[off, off+len) of datagram id. */
static void frag4(struct pkt *p, uint8_t hdr[20], uint16_t id, uint16_t off,
                  size_t len, int more, const uint8_t *data)
{
	memset(p, 0, sizeof(*p));
	memset(hdr, 0, 20);
	hdr[0] = 0x45;
	hdr[9] = 6;
	p->family = 4;
	memcpy(p->src, "\x0a\0\0\x01", 4);
	memcpy(p->dst, "\x01\x01\x01\x01", 4);
	p->frag.id = id;
	p->frag.proto = 6;
	p->frag.offset = off;
	p->frag.more = more;
	p->frag.hdr = hdr;
	p->frag.hdr_len = 20;
	p->frag.data = data ? data : payload + off;
	p->frag.len = len;
}

static int setup(void **state)
{
	(void)state;
	memset(&g_stats, 0, sizeof(g_stats));
	cs_limits_default(&lim);
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 7 + 3);
	return 0;
}

static void test_in_order_and_reverse(void **state)
{
	struct defrag *d = defrag_new(&lim, seed);
	uint8_t hdr[20];
	struct pkt p;
	const uint8_t *out;
	size_t len = 0;

	(void)state;
	/* reverse order: the last fragment first */
	frag4(&p, hdr, 7, 2000, 1000, 0, NULL);
	assert_null(defrag_add(d, &p, 1, &len));
	frag4(&p, hdr, 7, 1000, 1000, 1, NULL);
	assert_null(defrag_add(d, &p, 2, &len));
	frag4(&p, hdr, 7, 0, 1000, 1, NULL);
	out = defrag_add(d, &p, 3, &len);
	assert_non_null(out);
	assert_int_equal(len, 20 + 3000);
	assert_int_equal(out[2] << 8 | out[3], 3020);   /* total length */
	assert_int_equal(out[6] | out[7], 0);            /* no fragment bits */
	assert_memory_equal(out + 20, payload, 3000);
	assert_int_equal(g_stats.frag_reassembled, 1);
	defrag_free(d);
}

static void test_overlap_first_copy_wins(void **state)
{
	struct defrag *d = defrag_new(&lim, seed);
	uint8_t hdr[20], other[1000];
	struct pkt p;
	const uint8_t *out;
	size_t len = 0;

	(void)state;
	memset(other, 0xee, sizeof(other));
	frag4(&p, hdr, 9, 0, 1000, 1, NULL);
	assert_null(defrag_add(d, &p, 1, &len));
	/* a second copy of [504, 1504) with different bytes */
	frag4(&p, hdr, 9, 504, 1000, 1, other);
	assert_null(defrag_add(d, &p, 2, &len));
	frag4(&p, hdr, 9, 1000, 2000, 0, NULL);
	out = defrag_add(d, &p, 3, &len);
	assert_non_null(out);
	/* the first copies stand: [0,1000) from the first, [1000,1504) from
	 * the 0xee copy, which came before the third fragment */
	assert_memory_equal(out + 20, payload, 1000);
	assert_memory_equal(out + 20 + 1000, other + 496, 504);
	assert_memory_equal(out + 20 + 1504, payload + 1504, 1496);
	assert_int_equal(g_stats.frag_overlap, 1);
	defrag_free(d);
}

static void test_ipv6(void **state)
{
	struct defrag *d = defrag_new(&lim, seed);
	uint8_t hdr[40] = { 0x60 };
	struct pkt p;
	const uint8_t *out;
	size_t len = 0;

	(void)state;
	memset(&p, 0, sizeof(p));
	p.family = 6;
	p.src[15] = 1;
	p.dst[15] = 2;
	p.frag.id = 0xdeadbeef;
	p.frag.proto = 6;
	p.frag.hdr = hdr;
	p.frag.hdr_len = 40;
	p.frag.more = 1;
	p.frag.data = payload;
	p.frag.len = 1232;
	assert_null(defrag_add(d, &p, 1, &len));
	p.frag.more = 0;
	p.frag.offset = 1232;
	p.frag.data = payload + 1232;
	p.frag.len = 100;
	out = defrag_add(d, &p, 2, &len);
	assert_non_null(out);
	assert_int_equal(len, 40 + 1332);
	assert_int_equal(out[4] << 8 | out[5], 1332);   /* payload length */
	assert_int_equal(out[6], 6);                     /* next header: TCP */
	assert_memory_equal(out + 40, payload, 1332);
	defrag_free(d);
}

static void test_timeout_and_limits(void **state)
{
	struct defrag *d;
	uint8_t hdr[20];
	struct pkt p;
	size_t len = 0;

	(void)state;
	lim.max_frag_dgrams = 2;
	lim.frag_timeout = 30;
	d = defrag_new(&lim, seed);
	frag4(&p, hdr, 1, 0, 8, 1, NULL);
	assert_null(defrag_add(d, &p, 1000000, &len));
	frag4(&p, hdr, 2, 0, 8, 1, NULL);
	assert_null(defrag_add(d, &p, 1000000, &len));
	frag4(&p, hdr, 3, 0, 8, 1, NULL);     /* third datagram: the oldest goes */
	assert_null(defrag_add(d, &p, 1000000, &len));
	assert_int_equal(g_stats.frag_limit, 1);
	/* 31 s later both remaining datagrams have timed out */
	defrag_expire(d, 32000001);
	assert_int_equal(g_stats.frag_timeout, 2);
	/* a fragment reaching past 64 KB, and a non-last one not a multiple of 8 */
	frag4(&p, hdr, 4, 65000, 1000, 0, NULL);
	assert_null(defrag_add(d, &p, 32000002, &len));
	frag4(&p, hdr, 5, 0, 7, 1, NULL);
	assert_null(defrag_add(d, &p, 32000002, &len));
	assert_int_equal(g_stats.frag_bad, 2);
	/* two different ends for one datagram */
	frag4(&p, hdr, 6, 8, 8, 0, NULL);
	assert_null(defrag_add(d, &p, 32000003, &len));
	frag4(&p, hdr, 6, 16, 8, 0, NULL);
	assert_null(defrag_add(d, &p, 32000003, &len));
	assert_int_equal(g_stats.frag_bad, 3);
	/* memcap */
	lim.frag_memcap = 100;
	frag4(&p, hdr, 7, 0, 200, 1, NULL);
	assert_null(defrag_add(d, &p, 32000004, &len));
	assert_int_equal(g_stats.frag_limit, 2);
	defrag_free(d);
}

static void test_piece_limit(void **state)
{
	struct defrag *d = defrag_new(&lim, seed);
	uint8_t hdr[20];
	struct pkt p;
	size_t len = 0;

	(void)state;
	/* the same 8 bytes again and again never complete and are capped */
	for (unsigned i = 0; i < CS_DEF_MAX_FRAG_PIECES + 1; i++) {
		frag4(&p, hdr, 11, 8, 8, 1, NULL);
		assert_null(defrag_add(d, &p, 1, &len));
	}
	assert_int_equal(g_stats.frag_limit, 1);
	defrag_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_in_order_and_reverse, setup),
		cmocka_unit_test_setup(test_overlap_first_copy_wins, setup),
		cmocka_unit_test_setup(test_ipv6, setup),
		cmocka_unit_test_setup(test_timeout_and_limits, setup),
		cmocka_unit_test_setup(test_piece_limit, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
