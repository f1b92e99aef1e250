/*
 * test_reasm.c - one direction of TCP reassembly.
 *
 * The central check is split equivalence (STYLE.md, "Tests"): one source
 * stream, delivered whole, byte by byte, in fixed pieces, in reverse and
 * shuffled with duplicates, must leave the same bytes in buf.  Memory
 * accounting is checked against the exact sizes the module charges.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/cs_limits.h"
#include "transport/reasm.h"
#include "core/stats.h"

#define STREAM_LEN 3000
#define S0 0x10000000u          /* stream start of most tests */

static struct cs_limits lim;
static struct reasm_mem mem;
static struct reasm_dir d;
static uint8_t src[STREAM_LEN];

static uint32_t rng_state;

static uint32_t rng(void)
{
	/* xorshift32: deterministic, so a failure reproduces */
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

static int setup(void **state)
{
	(void)state;
	memset(&g_stats, 0, sizeof(g_stats));
	cs_limits_default(&lim);
	mem.lim = &lim;
	mem.flow_bytes = 0;
	reasm_init(&d);
	rng_state = 0x9e3779b9u;
	for (size_t i = 0; i < STREAM_LEN; i++)
		src[i] = (uint8_t)(rng() >> 7);
	return 0;
}

/* Every test ends with all memory returned. */
static int teardown(void **state)
{
	(void)state;
	reasm_free(&d, &mem);
	assert_null(d.buf);
	assert_null(d.ooo);
	assert_int_equal(d.n_ooo, 0);
	assert_null(d.tent);
	assert_int_equal(d.n_tent, 0);
	assert_int_equal(mem.flow_bytes, 0);
	assert_int_equal(g_stats.mem_in_use, 0);
	return 0;
}

/* Add src[off, off+len) at its sequence number relative to start. */
static enum reasm_result feed(uint32_t start, size_t off, size_t len)
{
	return reasm_add(&d, &mem, start + (uint32_t)off, src + off, len);
}

static void feed_ok(uint32_t start, size_t off, size_t len)
{
	assert_int_equal(feed(start, off, len), REASM_OK);
}

/* The direction holds exactly src[0, n) and nothing waits. */
static void assert_stream(uint32_t start, size_t n)
{
	const uint8_t *p;

	assert_int_equal(d.state, REASM_ACTIVE);
	assert_int_equal(d.len, n);
	assert_non_null(d.buf);
	assert_memory_equal(d.buf, src, n);
	assert_int_equal(d.next_seq, start + (uint32_t)n);
	assert_int_equal(d.base_seq, start);
	assert_int_equal(d.n_ooo, 0);
	assert_null(d.ooo);
	assert_false(reasm_has_hole(&d));
	assert_int_equal(d.overlap_diff, 0);
	assert_int_equal(reasm_pending(&d, &p), n);
	assert_ptr_equal(p, d.buf);
}

/* flow_bytes is exactly the buffer capacity plus every queued segment. */
static void assert_accounting(uint64_t in_use_start)
{
	size_t want = d.cap;

	for (const struct reasm_seg *s = d.ooo; s; s = s->next)
		want += sizeof(*s) + s->len;
	assert_int_equal(mem.flow_bytes, want);
	assert_int_equal(g_stats.mem_in_use, in_use_start + want);
	assert_true(d.cap >= d.len);
	assert_true(mem.flow_bytes <= lim.flow_memcap);
}

/* ---- in order ----------------------------------------------------------- */

static void test_in_order_concatenates(void **state)
{
	(void)state;
	reasm_start(&d, S0);
	assert_int_equal(d.state, REASM_ACTIVE);
	assert_int_equal(d.next_seq, S0);
	feed_ok(S0, 0, 3);
	assert_int_equal(d.len, 3);
	feed_ok(S0, 3, 4);
	feed_ok(S0, 7, 1);
	feed_ok(S0, 8, 992);
	assert_stream(S0, 1000);
	assert_int_equal(g_stats.reasm_overlap, 0);
	assert_int_equal(g_stats.reasm_retrans, 0);
	assert_int_equal(g_stats.reasm_ooo_queued, 0);
	assert_accounting(0);
}

static void test_not_started_and_empty(void **state)
{
	const uint8_t *p;

	(void)state;
	/* IDLE: nothing is taken. */
	assert_int_equal(feed(S0, 0, 100), REASM_OK);
	assert_int_equal(d.state, REASM_IDLE);
	assert_null(d.buf);
	assert_int_equal(d.len, 0);
	assert_int_equal(mem.flow_bytes, 0);
	assert_int_equal(reasm_pending(&d, &p), 0);
	assert_null(p);

	reasm_start(&d, S0);
	assert_int_equal(reasm_add(&d, &mem, S0, src, 0), REASM_OK);
	assert_int_equal(reasm_add(&d, &mem, S0 + 5, src, 0), REASM_OK);
	assert_null(d.buf);
	assert_int_equal(d.n_ooo, 0);
	assert_int_equal(d.next_seq, S0);
	assert_int_equal(mem.flow_bytes, 0);
}

/* ---- split equivalence -------------------------------------------------- */

static void test_split_whole(void **state)
{
	(void)state;
	reasm_start(&d, S0);
	feed_ok(S0, 0, STREAM_LEN);
	assert_stream(S0, STREAM_LEN);
	assert_accounting(0);
}

static void test_split_byte_by_byte(void **state)
{
	(void)state;
	reasm_start(&d, S0);
	for (size_t i = 0; i < STREAM_LEN; i++)
		feed_ok(S0, i, 1);
	assert_stream(S0, STREAM_LEN);
	assert_int_equal(g_stats.reasm_ooo_queued, 0);
	assert_accounting(0);
}

static void test_split_7_byte_segments(void **state)
{
	(void)state;
	reasm_start(&d, S0);
	for (size_t i = 0; i < STREAM_LEN; i += 7)
		feed_ok(S0, i, STREAM_LEN - i < 7 ? STREAM_LEN - i : 7);
	assert_stream(S0, STREAM_LEN);
	assert_accounting(0);
}

/* Cut [0, n) at random into pieces of 1..maxseg bytes. */
static size_t cut_random(size_t n, size_t maxseg, size_t *off, size_t *len)
{
	size_t k = 0;

	for (size_t o = 0; o < n; k++) {
		size_t l = 1 + rng() % maxseg;

		if (l > n - o)
			l = n - o;
		off[k] = o;
		len[k] = l;
		o += l;
	}
	return k;
}

static void test_split_random_reverse(void **state)
{
	static size_t off[STREAM_LEN], len[STREAM_LEN];
	size_t k;

	(void)state;
	lim.max_ooo_segs = STREAM_LEN;
	reasm_start(&d, S0);
	k = cut_random(STREAM_LEN, 200, off, len);
	assert_true(k > 10);
	for (size_t i = k; i-- > 1;) {
		feed_ok(S0, off[i], len[i]);
		assert_int_equal(d.len, 0);
		assert_true(reasm_has_hole(&d));
		assert_int_equal(d.n_ooo, k - i);
		assert_accounting(0);
	}
	feed_ok(S0, off[0], len[0]);
	assert_stream(S0, STREAM_LEN);
	assert_int_equal(g_stats.reasm_ooo_queued, k - 1);
	assert_int_equal(g_stats.reasm_overlap, 0);
	assert_accounting(0);
}

static void shuffle(size_t *off, size_t *len, size_t k)
{
	for (size_t i = k; i > 1; i--) {
		size_t j = rng() % i, t;

		t = off[i - 1]; off[i - 1] = off[j]; off[j] = t;
		t = len[i - 1]; len[i - 1] = len[j]; len[j] = t;
	}
}

/* A random cover of the stream, every piece twice, plus random pieces that
 * straddle the cover's cuts, all in random order. */
static void shuffled_with_duplicates(uint32_t start, size_t n, uint32_t seed)
{
	static size_t off[4 * STREAM_LEN], len[4 * STREAM_LEN];
	size_t k;

	rng_state = seed;
	k = cut_random(n, 64, off, len);
	for (size_t i = 0, k0 = k; i < k0; i++) {
		off[k] = off[i];
		len[k++] = len[i];
	}
	for (int i = 0; i < 100; i++) {
		off[k] = rng() % n;
		len[k] = 1 + rng() % 300;
		if (len[k] > n - off[k])
			len[k] = n - off[k];
		k++;
	}
	shuffle(off, len, k);
	for (size_t i = 0; i < k; i++)
		feed_ok(start, off[i], len[i]);
}

static void test_split_shuffled_duplicates(void **state)
{
	(void)state;
	lim.max_ooo_segs = 4 * STREAM_LEN;
	for (uint32_t seed = 1; seed <= 40; seed++) {
		reasm_init(&d);
		reasm_start(&d, S0);
		shuffled_with_duplicates(S0, STREAM_LEN, seed * 2654435761u);
		assert_stream(S0, STREAM_LEN);
		assert_accounting(0);
		reasm_free(&d, &mem);
		assert_int_equal(mem.flow_bytes, 0);
	}
	assert_true(g_stats.reasm_overlap > 0);
	assert_true(g_stats.reasm_retrans > 0);
	assert_int_equal(g_stats.reasm_overlap_diff, 0);
	assert_int_equal(g_stats.reasm_ooo_limit, 0);
	assert_int_equal(g_stats.reasm_flow_memcap, 0);
}

/* ---- overlaps ----------------------------------------------------------- */

static void test_retrans_identical(void **state)
{
	(void)state;
	reasm_start(&d, S0);
	feed_ok(S0, 0, 100);
	feed_ok(S0, 20, 30);
	feed_ok(S0, 0, 100);
	assert_stream(S0, 100);
	assert_int_equal(g_stats.reasm_overlap, 2);
	assert_int_equal(g_stats.reasm_retrans, 2);
	assert_int_equal(g_stats.reasm_overlap_diff, 0);
	assert_int_equal(d.overlap_diff, 0);
}

static void test_retrans_different_first_copy_kept(void **state)
{
	uint8_t other[30];

	(void)state;
	for (size_t i = 0; i < sizeof(other); i++)
		other[i] = (uint8_t)~src[20 + i];
	reasm_start(&d, S0);
	feed_ok(S0, 0, 100);
	assert_int_equal(reasm_add(&d, &mem, S0 + 20, other, sizeof(other)), REASM_OK);
	assert_int_equal(g_stats.reasm_overlap, 1);
	assert_int_equal(g_stats.reasm_overlap_diff, 1);
	assert_int_equal(g_stats.reasm_retrans, 1);
	assert_int_equal(d.overlap_diff, 1);
	assert_int_equal(d.len, 100);
	assert_memory_equal(d.buf, src, 100);   /* the first copy */

	/* Only the last byte differs: still seen. */
	memcpy(other, src + 70, 30);
	other[29] ^= 1;
	assert_int_equal(reasm_add(&d, &mem, S0 + 70, other, 30), REASM_OK);
	assert_int_equal(g_stats.reasm_overlap_diff, 2);
	assert_memory_equal(d.buf, src, 100);
}

static void test_partial_overlap_appends_new_bytes(void **state)
{
	uint8_t seg[100];

	(void)state;
	reasm_start(&d, S0);
	feed_ok(S0, 0, 100);
	feed_ok(S0, 50, 100);               /* [50,150): 50 old, 50 new */
	assert_stream(S0, 150);
	assert_int_equal(g_stats.reasm_overlap, 1);
	assert_int_equal(g_stats.reasm_overlap_diff, 0);
	assert_int_equal(g_stats.reasm_retrans, 0);

	/* [140,240) whose 10 old bytes differ: old kept, new appended. */
	memcpy(seg, src + 140, 100);
	memset(seg, 0, 10);
	seg[0] = (uint8_t)~src[140];
	assert_int_equal(reasm_add(&d, &mem, S0 + 140, seg, 100), REASM_OK);
	assert_int_equal(d.len, 240);
	assert_memory_equal(d.buf, src, 240);
	assert_int_equal(g_stats.reasm_overlap_diff, 1);
	assert_int_equal(d.overlap_diff, 1);
	assert_int_equal(d.next_seq, S0 + 240);
}

/* Bytes before the stream start (an old retransmission that reaches into
 * the stream) contribute only their bytes from the start on. */
static void test_overlap_before_stream_start(void **state)
{
	static uint8_t seg[60];

	(void)state;
	memset(seg, 0x77, 10);
	memcpy(seg + 10, src, 50);
	reasm_start(&d, S0);
	assert_int_equal(reasm_add(&d, &mem, S0 - 10, seg, sizeof(seg)), REASM_OK);
	assert_stream(S0, 50);
	/* Entirely before the start: ignored. */
	assert_int_equal(reasm_add(&d, &mem, S0 - 10, seg, 10), REASM_OK);
	assert_stream(S0, 50);
	assert_int_equal(g_stats.reasm_overlap_diff, 0);
}

/* Two early copies of one range: the first to arrive is delivered. */
static void test_ooo_duplicates_first_copy_kept(void **state)
{
	uint8_t other[100];

	(void)state;
	for (size_t i = 0; i < sizeof(other); i++)
		other[i] = (uint8_t)(src[100 + i] ^ 0x5a);
	reasm_start(&d, S0);
	feed_ok(S0, 100, 100);
	assert_int_equal(reasm_add(&d, &mem, S0 + 100, other, 100), REASM_OK);
	assert_int_equal(d.n_ooo, 2);
	assert_int_equal(g_stats.reasm_overlap_diff, 0);   /* not compared yet */
	feed_ok(S0, 0, 100);
	assert_int_equal(d.len, 200);
	assert_memory_equal(d.buf, src, 200);
	assert_int_equal(d.n_ooo, 0);
	assert_int_equal(g_stats.reasm_overlap_diff, 1);
	assert_int_equal(d.overlap_diff, 1);
	assert_int_equal(g_stats.reasm_ooo_queued, 2);
}

/* ---- sequence wrap ------------------------------------------------------ */

#define WRAP_START 0xffffff00u
#define WRAP_LEN   1000

static void test_wrap_in_order(void **state)
{
	(void)state;
	reasm_start(&d, WRAP_START);
	for (size_t i = 0; i < WRAP_LEN; i += 100)
		feed_ok(WRAP_START, i, 100);
	assert_stream(WRAP_START, WRAP_LEN);
	assert_int_equal(d.next_seq, 0x2e8u);
}

static void test_wrap_out_of_order(void **state)
{
	(void)state;
	reasm_start(&d, WRAP_START);
	/* The part after the wrap first, then the part before it. */
	feed_ok(WRAP_START, 600, 400);
	feed_ok(WRAP_START, 256, 344);      /* starts exactly at sequence 0 */
	feed_ok(WRAP_START, 200, 100);      /* straddles the wrap */
	assert_int_equal(d.len, 0);
	assert_int_equal(d.n_ooo, 3);
	assert_int_equal(d.ooo->seq, WRAP_START + 200);   /* sorted across 2^32 */
	assert_int_equal(d.ooo->next->seq, 0u);
	assert_int_equal(d.ooo->next->next->seq, 600u - 256u);
	feed_ok(WRAP_START, 0, 200);
	assert_stream(WRAP_START, WRAP_LEN);
	assert_int_equal(g_stats.reasm_overlap, 1);        /* [256,300) twice */
	assert_int_equal(g_stats.reasm_overlap_diff, 0);
}

static void test_wrap_shuffled(void **state)
{
	(void)state;
	lim.max_ooo_segs = 4 * STREAM_LEN;
	for (uint32_t seed = 1; seed <= 20; seed++) {
		reasm_init(&d);
		reasm_start(&d, WRAP_START);
		shuffled_with_duplicates(WRAP_START, WRAP_LEN, seed * 40503u);
		assert_stream(WRAP_START, WRAP_LEN);
		reasm_free(&d, &mem);
	}
	assert_int_equal(g_stats.reasm_overlap_diff, 0);
}

static void test_seq_helpers_wrap(void **state)
{
	(void)state;
	assert_true(seq_lt(0xfffffff0u, 0x10u));
	assert_false(seq_lt(0x10u, 0xfffffff0u));
	assert_int_equal(seq_diff(0x10u, 0xfffffff0u), 0x20);
	assert_int_equal(seq_diff(0xfffffff0u, 0x10u), -0x20);
	assert_false(seq_lt(5u, 5u));
	assert_true(seq_leq(5u, 5u));
	assert_true(seq_leq(0xffffffffu, 0u));
	assert_false(seq_leq(0u, 0xffffffffu));
	assert_int_equal(seq_diff(0u, 0xffffffffu), 1);
	assert_int_equal(seq_diff(0x7fffffffu, 0u), INT32_MAX);
	assert_int_equal(seq_diff(0x80000000u, 0u), INT32_MIN);
	assert_true(seq_lt(0u, 0x7fffffffu));
	assert_false(seq_lt(0u, 0x80000001u));   /* more than 2^31 ahead = behind */
}

/* ---- limits ------------------------------------------------------------- */

static void test_ooo_segment_limit(void **state)
{
	(void)state;
	lim.max_ooo_segs = 4;
	reasm_start(&d, S0);
	feed_ok(S0, 0, 10);
	for (size_t i = 1; i <= 4; i++)
		feed_ok(S0, 10 + 20 * i, 5);
	assert_int_equal(d.n_ooo, 4);
	assert_int_equal(g_stats.reasm_ooo_limit, 0);
	assert_int_equal(feed(S0, 200, 5), REASM_LIMIT);
	assert_int_equal(d.state, REASM_STOPPED);
	assert_int_equal(g_stats.reasm_ooo_limit, 1);
	assert_int_equal(d.n_ooo, 0);
	assert_null(d.buf);
	assert_int_equal(d.len, 0);
	assert_int_equal(mem.flow_bytes, 0);
	assert_int_equal(g_stats.mem_in_use, 0);
	/* Stopped: later segments are ignored, nothing allocated. */
	assert_int_equal(feed(S0, 10, 10), REASM_OK);
	assert_null(d.buf);
	assert_int_equal(g_stats.reasm_ooo_limit, 1);
}

static void test_flow_memcap_exact_then_over(void **state)
{
	(void)state;
	lim.flow_memcap = 4096;
	reasm_start(&d, S0);
	feed_ok(S0, 0, 2048);
	feed_ok(S0, 2048, 952);
	feed_ok(S0, 3000, 0);
	/* 4096 bytes in all fit exactly (the source is only 3000 long). */
	assert_int_equal(reasm_add(&d, &mem, S0 + 3000, src, 1096), REASM_OK);
	assert_int_equal(d.len, 4096);
	assert_int_equal(mem.flow_bytes, 4096);
	assert_int_equal(g_stats.reasm_flow_memcap, 0);
	assert_int_equal(reasm_add(&d, &mem, S0 + 4096, src, 1), REASM_LIMIT);
	assert_int_equal(d.state, REASM_STOPPED);
	assert_int_equal(g_stats.reasm_flow_memcap, 1);
	assert_int_equal(mem.flow_bytes, 0);
	assert_int_equal(g_stats.mem_in_use, 0);
	assert_null(d.buf);
}

/* The memcap covers both directions of the flow together. */
static void test_flow_memcap_shared_by_directions(void **state)
{
	struct reasm_dir other;

	(void)state;
	lim.flow_memcap = 4096;
	reasm_init(&other);
	reasm_start(&other, 7);
	reasm_start(&d, S0);
	feed_ok(S0, 0, 2048);
	assert_int_equal(reasm_add(&other, &mem, 7, src, 2048), REASM_OK);
	assert_int_equal(mem.flow_bytes, 4096);
	assert_int_equal(feed(S0, 2048, 1), REASM_LIMIT);
	assert_int_equal(g_stats.reasm_flow_memcap, 1);
	assert_int_equal(d.state, REASM_STOPPED);
	assert_int_equal(other.state, REASM_ACTIVE);
	assert_int_equal(mem.flow_bytes, 2048);
	assert_memory_equal(other.buf, src, 2048);
	reasm_free(&other, &mem);
	assert_int_equal(other.state, REASM_ACTIVE);   /* free keeps the state */
}

static void test_total_memcap(void **state)
{
	(void)state;
	lim.total_memcap = 3000;
	reasm_start(&d, S0);
	feed_ok(S0, 0, 2000);
	assert_int_equal(feed(S0, 2000, 100), REASM_LIMIT);
	assert_int_equal(g_stats.reasm_total_memcap, 1);
	assert_int_equal(g_stats.reasm_flow_memcap, 0);
	assert_int_equal(d.state, REASM_STOPPED);
}

static void test_segment_far_beyond(void **state)
{
	(void)state;
	lim.flow_memcap = 65536;
	reasm_start(&d, S0);
	/* Exactly flow_memcap ahead is still queued... */
	assert_int_equal(reasm_add(&d, &mem, S0 + 65536, src, 10), REASM_OK);
	assert_int_equal(d.n_ooo, 1);
	assert_int_equal(g_stats.reasm_flow_memcap, 0);
	/* ...one more is not. */
	assert_int_equal(reasm_add(&d, &mem, S0 + 65537, src, 10), REASM_LIMIT);
	assert_int_equal(g_stats.reasm_flow_memcap, 1);
	assert_int_equal(d.state, REASM_STOPPED);
	assert_int_equal(mem.flow_bytes, 0);
}

static void test_segment_far_beyond_default_cap(void **state)
{
	(void)state;
	reasm_start(&d, S0);
	assert_int_equal(reasm_add(&d, &mem, S0 + CS_DEF_FLOW_MEMCAP + 1000, src, 10),
	                 REASM_LIMIT);
	assert_int_equal(g_stats.reasm_flow_memcap, 1);
	assert_int_equal(d.state, REASM_STOPPED);
}

/* A length no TCP segment can have: refused and, like every limit,
 * counted (reasm.h: "REASM_LIMIT - a cap was hit: direction stopped
 * (counted)").  The data pointer is never read for such a length. */
static void test_giant_length_counted(void **state)
{
	uint64_t before;

	(void)state;
	reasm_start(&d, S0);
	feed_ok(S0, 0, 10);
	before = g_stats.reasm_flow_memcap + g_stats.reasm_total_memcap +
	         g_stats.reasm_ooo_limit;
	assert_int_equal(reasm_add(&d, &mem, S0 + 10, src, (size_t)UINT32_MAX), REASM_LIMIT);
	assert_int_equal(d.state, REASM_STOPPED);
	assert_int_equal(mem.flow_bytes, 0);
	assert_int_equal(g_stats.reasm_flow_memcap + g_stats.reasm_total_memcap +
	                 g_stats.reasm_ooo_limit, before + 1);
}

/* Split equivalence under a memcap: a 3000-byte stream fits a 4096-byte
 * flow memcap when it arrives in order, so it must also fit when its two
 * halves arrive in reverse order. */
static void test_memcap_split_equivalence(void **state)
{
	(void)state;
	lim.flow_memcap = 4096;
	reasm_start(&d, S0);
	feed_ok(S0, 0, STREAM_LEN);
	assert_stream(S0, STREAM_LEN);
	reasm_free(&d, &mem);

	reasm_init(&d);
	reasm_start(&d, S0);
	feed_ok(S0, 1500, 1500);
	assert_int_equal(feed(S0, 0, 1500), REASM_OK);
	assert_int_equal(g_stats.reasm_flow_memcap, 0);
	assert_stream(S0, STREAM_LEN);
}

/* ---- accounting and the consumer side ----------------------------------- */

static void test_memory_accounting(void **state)
{
	struct reasm_dir other;
	const uint64_t start = 123456;

	(void)state;
	g_stats.mem_in_use = start;
	g_stats.mem_peak = start;
	reasm_init(&other);
	reasm_start(&other, 0);
	reasm_start(&d, S0);

	feed_ok(S0, 0, 100);
	assert_int_equal(d.cap, 2048);
	assert_accounting(start);
	feed_ok(S0, 500, 300);
	feed_ok(S0, 200, 100);
	assert_int_equal(mem.flow_bytes,
	                 2048 + 2 * sizeof(struct reasm_seg) + 300 + 100);
	assert_accounting(start);
	feed_ok(S0, 100, 2500);             /* fills the hole, grows to 4096 */
	assert_int_equal(d.n_ooo, 0);
	assert_int_equal(d.cap, 4096);
	assert_int_equal(mem.flow_bytes, 4096);
	assert_int_equal(g_stats.mem_in_use, start + 4096);
	assert_true(g_stats.mem_peak >= start + 4096);

	assert_int_equal(reasm_add(&other, &mem, 0, src, 10), REASM_OK);
	assert_int_equal(mem.flow_bytes, 4096 + 2048);

	reasm_free(&d, &mem);
	assert_int_equal(mem.flow_bytes, 2048);
	reasm_free(&other, &mem);
	assert_int_equal(mem.flow_bytes, 0);
	assert_int_equal(g_stats.mem_in_use, start);
	g_stats.mem_in_use = 0;       /* for the teardown check */
}

static void test_free_with_queued_segments(void **state)
{
	(void)state;
	reasm_start(&d, S0);
	feed_ok(S0, 0, 10);
	feed_ok(S0, 100, 10);
	feed_ok(S0, 50, 10);
	assert_int_equal(d.n_ooo, 2);
	reasm_free(&d, &mem);
	assert_int_equal(d.state, REASM_ACTIVE);
	assert_int_equal(mem.flow_bytes, 0);
	assert_int_equal(g_stats.mem_in_use, 0);
	assert_null(d.ooo);
}

static void test_stop_drops_bytes(void **state)
{
	(void)state;
	reasm_start(&d, S0);
	feed_ok(S0, 0, 10);
	feed_ok(S0, 100, 10);
	reasm_stop(&d, &mem);
	assert_int_equal(d.state, REASM_STOPPED);
	assert_null(d.buf);
	assert_int_equal(d.len, 0);
	assert_int_equal(d.n_ooo, 0);
	assert_int_equal(mem.flow_bytes, 0);
	assert_int_equal(feed(S0, 10, 10), REASM_OK);
	assert_null(d.buf);
}

static void test_pending_consume(void **state)
{
	const uint8_t *p;

	(void)state;
	reasm_start(&d, S0);
	feed_ok(S0, 0, 10);
	assert_int_equal(reasm_pending(&d, &p), 10);
	assert_ptr_equal(p, d.buf);
	reasm_consume(&d, 4);
	assert_int_equal(reasm_pending(&d, &p), 6);
	assert_ptr_equal(p, d.buf + 4);
	assert_memory_equal(p, src + 4, 6);
	feed_ok(S0, 10, 5);
	assert_int_equal(reasm_pending(&d, &p), 11);
	assert_memory_equal(p, src + 4, 11);
	reasm_consume(&d, 11);
	assert_int_equal(reasm_pending(&d, &p), 0);
	assert_ptr_equal(p, d.buf + 15);
	/* An early segment is not pending until the hole is filled. */
	feed_ok(S0, 20, 5);
	assert_int_equal(reasm_pending(&d, &p), 0);
	feed_ok(S0, 15, 5);
	assert_int_equal(reasm_pending(&d, &p), 10);
	assert_memory_equal(p, src + 15, 10);
	/* Consumed bytes are still compared against retransmissions. */
	reasm_consume(&d, 10);
	feed_ok(S0, 0, 25);
	assert_int_equal(g_stats.reasm_overlap_diff, 0);
	assert_int_equal(reasm_pending(&d, &p), 0);
}

static void test_has_hole(void **state)
{
	(void)state;
	reasm_start(&d, S0);
	assert_false(reasm_has_hole(&d));
	feed_ok(S0, 10, 10);
	assert_true(reasm_has_hole(&d));
	assert_int_equal(d.len, 0);
	feed_ok(S0, 0, 5);
	assert_true(reasm_has_hole(&d));
	assert_int_equal(d.len, 5);
	feed_ok(S0, 5, 5);
	assert_false(reasm_has_hole(&d));
	assert_stream(S0, 20);
	/* A hole filled by an overlapping segment. */
	feed_ok(S0, 30, 10);
	assert_true(reasm_has_hole(&d));
	feed_ok(S0, 15, 20);
	assert_false(reasm_has_hole(&d));
	assert_stream(S0, 40);
}

/* ---- tentative (bad-checksum) copies ------------------------------------- */

/* Add a tentative copy of src[off, off+len), with byte `flip` (relative to
 * off; -1 none) inverted. */
static void tent(uint32_t start, size_t off, size_t len, long flip)
{
	uint8_t b[STREAM_LEN];

	memcpy(b, src + off, len);
	if (flip >= 0)
		b[flip] ^= 0xff;
	reasm_add_tentative(&d, &mem, start + (uint32_t)off, b, len);
}

static void test_tentative_not_delivered_alone(void **state)
{
	(void)state;
	reasm_start(&d, S0);
	feed_ok(S0, 0, 100);
	tent(S0, 100, 200, -1);
	assert_int_equal(d.len, 100);
	assert_int_equal(d.n_tent, 1);
	assert_true(reasm_has_tentative(&d));
	/* An acknowledgement short of the edge brings nothing. */
	assert_int_equal(reasm_ack(&d, &mem, S0 + 100), 0);
	assert_int_equal(d.len, 100);
	reasm_free(&d, &mem);
	assert_int_equal(mem.flow_bytes, 0);
	assert_int_equal(d.n_tent, 0);
}

static void test_tentative_used_when_acked(void **state)
{
	(void)state;
	reasm_start(&d, S0);
	feed_ok(S0, 0, 100);
	tent(S0, 100, 200, -1);
	feed_ok(S0, 300, 50);            /* a valid early segment after it */
	assert_int_equal(reasm_ack(&d, &mem, S0 + 200), 100);
	assert_int_equal(d.len, 200);
	assert_int_equal(d.tent_used, 100);
	assert_int_equal(d.n_tent, 1);   /* its other half waits */
	assert_int_equal(reasm_ack(&d, &mem, S0 + 350), 100);
	assert_stream(S0, 350);
	assert_int_equal(d.tent_used, 200);
	assert_int_equal(d.n_tent, 0);
	assert_int_equal(g_stats.reasm_tentative_used, 1);
	assert_int_equal(g_stats.reasm_tentative_diff, 0);
}

/* The valid copy wins whichever came first; differing bytes are flagged
 * as a tentative difference, never as a retransmission's. */
static void test_valid_copy_wins_after(void **state)
{
	(void)state;
	reasm_start(&d, S0);
	tent(S0, 0, 100, 40);
	feed_ok(S0, 0, 100);
	assert_int_equal(d.n_tent, 0);
	assert_memory_equal(d.buf, src, 100);
	assert_int_equal(d.overlap_diff, REASM_DIFF_TENTATIVE);
	assert_int_equal(g_stats.reasm_tentative_diff, 1);
	assert_int_equal(g_stats.reasm_tentative_replaced, 1);
	assert_int_equal(g_stats.reasm_overlap_diff, 0);
	assert_int_equal(d.tent_used, 0);
}

static void test_valid_copy_wins_before(void **state)
{
	(void)state;
	reasm_start(&d, S0);
	feed_ok(S0, 0, 100);
	tent(S0, 0, 100, 99);
	assert_int_equal(d.n_tent, 0);
	assert_memory_equal(d.buf, src, 100);
	assert_int_equal(d.overlap_diff, REASM_DIFF_TENTATIVE);
	/* The same bytes again, unchanged: replaced, no difference. */
	g_stats.reasm_tentative_diff = 0;
	tent(S0, 50, 50, -1);
	assert_int_equal(g_stats.reasm_tentative_diff, 0);
	assert_int_equal(g_stats.reasm_tentative_replaced, 2);
}

/* A decoy sits where a valid early segment also waits: acknowledged, the
 * valid bytes are used where they exist, the decoy's only in the hole. */
static void test_valid_early_segment_beats_tentative(void **state)
{
	(void)state;
	reasm_start(&d, S0);
	feed_ok(S0, 0, 10);
	tent(S0, 10, 100, 60);           /* differs at stream byte 70 */
	feed_ok(S0, 50, 100);            /* valid copy of [50, 150) */
	assert_int_equal(reasm_ack(&d, &mem, S0 + 150), 40);
	assert_int_equal(d.tent_used, 40);
	assert_int_equal(d.overlap_diff, REASM_DIFF_TENTATIVE);
	assert_int_equal(d.n_tent, 0);
	d.overlap_diff = 0;
	assert_stream(S0, 150);
}

/* Split equivalence with tentative copies: every segment of the stream
 * sent once damaged (bad checksum) and, for most, once valid, in shuffled
 * order, with acknowledgements at random points: the bytes are the
 * source's wherever a valid copy came before the acknowledgement. */
static void test_tentative_shuffled(void **state)
{
	enum { N = 60 };
	size_t off[N], len[N];
	int order[2 * N];

	(void)state;
	reasm_start(&d, S0);
	for (int i = 0; i < N; i++) {
		off[i] = (size_t)i * (STREAM_LEN / N);
		len[i] = STREAM_LEN / N;
	}
	for (int i = 0; i < 2 * N; i++)
		order[i] = i;
	for (int i = 2 * N - 1; i > 0; i--) {
		int j = (int)(rng() % (uint32_t)(i + 1)), t = order[i];

		order[i] = order[j];
		order[j] = t;
	}
	for (int k = 0; k < 2 * N; k++) {
		int i = order[k] % N;

		if (order[k] >= N)
			tent(S0, off[i], len[i], -1);   /* identical damaged copy */
		else
			feed_ok(S0, off[i], len[i]);
		if (rng() % 8 == 0)
			assert_true(reasm_ack(&d, &mem, S0 + (uint32_t)(rng() % STREAM_LEN)) >= 0);
	}
	assert_true(reasm_ack(&d, &mem, S0 + STREAM_LEN) >= 0);
	assert_stream(S0, STREAM_LEN);
	assert_int_equal(d.n_tent, 0);
	assert_int_equal(g_stats.reasm_tentative_diff, 0);
}

static void test_tentative_limits(void **state)
{
	(void)state;
	lim.max_ooo_segs = 2;
	reasm_start(&d, S0);
	tent(S0, 10, 10, -1);
	tent(S0, 30, 10, -1);
	tent(S0, 50, 10, -1);
	assert_int_equal(d.n_tent, 2);
	assert_int_equal(g_stats.reasm_tentative_dropped, 1);
	/* Far beyond the flow memcap: never kept. */
	reasm_add_tentative(&d, &mem, S0 + (uint32_t)lim.flow_memcap + 100, src, 10);
	assert_int_equal(g_stats.reasm_tentative_dropped, 2);
	/* Not started: nothing kept, nothing counted as kept. */
	reasm_free(&d, &mem);
	reasm_init(&d);
	reasm_add_tentative(&d, &mem, S0, src, 10);
	assert_int_equal(d.n_tent, 0);
	assert_int_equal(mem.flow_bytes, 0);
}

static void test_tentative_wraps(void **state)
{
	const uint32_t start = 0xffffff00u;

	(void)state;
	reasm_start(&d, start);
	tent(start, 0, 1000, -1);        /* crosses 2^32 */
	assert_int_equal(reasm_ack(&d, &mem, start + 600), 600);
	assert_int_equal(reasm_ack(&d, &mem, start + 1000), 400);
	assert_stream(start, 1000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_in_order_concatenates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_started_and_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_split_whole, setup, teardown),
		cmocka_unit_test_setup_teardown(test_split_byte_by_byte, setup, teardown),
		cmocka_unit_test_setup_teardown(test_split_7_byte_segments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_split_random_reverse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_split_shuffled_duplicates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retrans_identical, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retrans_different_first_copy_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_partial_overlap_appends_new_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overlap_before_stream_start, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ooo_duplicates_first_copy_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrap_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrap_out_of_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrap_shuffled, setup, teardown),
		cmocka_unit_test_setup_teardown(test_seq_helpers_wrap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ooo_segment_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flow_memcap_exact_then_over, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flow_memcap_shared_by_directions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_total_memcap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_segment_far_beyond, setup, teardown),
		cmocka_unit_test_setup_teardown(test_segment_far_beyond_default_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_giant_length_counted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_memcap_split_equivalence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_memory_accounting, setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_with_queued_segments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_drops_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pending_consume, setup, teardown),
		cmocka_unit_test_setup_teardown(test_has_hole, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tentative_not_delivered_alone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tentative_used_when_acked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_valid_copy_wins_after, setup, teardown),
		cmocka_unit_test_setup_teardown(test_valid_copy_wins_before, setup, teardown),
		cmocka_unit_test_setup_teardown(test_valid_early_segment_beats_tentative, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tentative_shuffled, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tentative_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tentative_wraps, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
