/*
 * test_capture.c - unit tests for the capture file readers
 * (sensor/capture/capture.c, mapped.c, pcapng.c), the pcapng block reader above all: a valid
 * file in both byte orders with its Decryption Secrets Block handed over
 * in stream order and its timestamps at any resolution; every truncation
 * point (frames up to the damage, then an error naming the byte, never a
 * crash); a giant block length (refused at the limit, counted); blocks in
 * the wrong place; --bpf on files (and a filter that does not compile).
 */
#define _GNU_SOURCE   /* memfd_create */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include "capture/capture.h"
#include "core/stats.h"

/* ---- building pcapng ------------------------------------------------------ */

struct out {
	uint8_t b[8192];
	size_t n;
	int be;
};

static void put(struct out *o, const void *p, size_t n)
{
	assert_true(n <= sizeof(o->b) - o->n);
	memcpy(o->b + o->n, p, n);
	o->n += n;
}

static void u16(struct out *o, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(o->be ? v >> 8 : v), (uint8_t)(o->be ? v : v >> 8) };

	put(o, b, 2);
}

static void u32(struct out *o, uint32_t v)
{
	uint8_t b[4];

	for (int i = 0; i < 4; i++)
		b[o->be ? 3 - i : i] = (uint8_t)(v >> (8 * i));
	put(o, b, 4);
}

/* A block: type, length, body (padded), length. */
static void block(struct out *o, uint32_t type, const struct out *body)
{
	size_t pad = (4 - body->n % 4) % 4;
	static const uint8_t zero[4];

	u32(o, type);
	u32(o, (uint32_t)(body->n + pad + 12));
	put(o, body->b, body->n);
	put(o, zero, pad);
	u32(o, (uint32_t)(body->n + pad + 12));
}

static void shb(struct out *o)
{
	struct out b = { .be = o->be };

	u32(&b, 0x1A2B3C4Du);
	u16(&b, 1);
	u16(&b, 0);
	u32(&b, 0xffffffffu);
	u32(&b, 0xffffffffu);
	block(o, 0x0A0D0D0Au, &b);
}

/* An IDB; tsresol < 0: none (microseconds). */
static void idb(struct out *o, uint16_t linktype, int tsresol)
{
	struct out b = { .be = o->be };

	u16(&b, linktype);
	u16(&b, 0);
	u32(&b, 65535);
	if (tsresol >= 0) {
		uint8_t r[4] = { (uint8_t)tsresol, 0, 0, 0 };

		u16(&b, 9);
		u16(&b, 1);
		put(&b, r, 4);
		u16(&b, 0);
		u16(&b, 0);
	}
	block(o, 1, &b);
}

static void dsb(struct out *o, const char *text)
{
	struct out b = { .be = o->be };

	u32(&b, 0x544c534bu);
	u32(&b, (uint32_t)strlen(text));
	put(&b, text, strlen(text));
	block(o, 10, &b);
}

/* An Ethernet/IPv4/TCP frame to port dport, 54 bytes. */
static void frame(uint8_t f[54], uint16_t dport)
{
	memset(f, 0, 54);
	f[12] = 0x08;
	f[14] = 0x45;
	f[17] = 40;
	f[22] = 64;
	f[23] = 6;
	f[36] = (uint8_t)(dport >> 8);
	f[37] = (uint8_t)dport;
	f[46] = 0x50;
}

static void epb(struct out *o, uint64_t ts, uint16_t dport)
{
	struct out b = { .be = o->be };
	uint8_t f[54];

	frame(f, dport);
	u32(&b, 0);
	u32(&b, (uint32_t)(ts >> 32));
	u32(&b, (uint32_t)ts);
	u32(&b, 54);
	u32(&b, 60);
	put(&b, f, 54);
	block(o, 6, &b);
}

/* ---- reading ---------------------------------------------------------------- */

struct got {
	size_t secrets;        /* DSBs handed over */
	size_t frames_at_dsb;  /* frames read when the last one came */
	size_t frames;
	char text[256];
};

static void on_secrets(void *ctx, const uint8_t *s, size_t len)
{
	struct got *g = ctx;

	g->secrets++;
	g->frames_at_dsb = g->frames;
	snprintf(g->text, sizeof(g->text), "%.*s", (int)len, (const char *)s);
}

/* Read bytes as a file (stream: "-") or as a named file; the frames'
 * timestamps in ts[].  Returns what the last capture_next said, or -9
 * when the open failed (err set). */
static int read_all(const uint8_t *p, size_t n, int stream, const char *bpf, struct got *g,
                    uint64_t *ts, char *err, size_t errlen, struct capture **keep)
{
	struct capture_file_opts o = { bpf, on_secrets, g };
	int fd = memfd_create("test_capture", MFD_CLOEXEC), rc;
	struct capture *c;
	const uint8_t *f;
	size_t caplen;
	uint64_t t;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, p, n), (ssize_t)n);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	memset(g, 0, sizeof(*g));
	err[0] = 0;
	c = capture_open_fd(fd, stream ? "-" : "test.pcapng", &o, err, errlen);
	if (!c)
		return -9;
	while ((rc = capture_next(c, &f, &caplen, &t)) == 1) {
		assert_int_equal(caplen, 54);
		if (ts && g->frames < 8)
			ts[g->frames] = t;
		g->frames++;
	}
	if (rc < 0)
		snprintf(err, errlen, "%s", capture_error(c));
	if (keep)
		*keep = c;
	else
		capture_close(c);
	return rc;
}

static void make_valid(struct out *o, int be)
{
	memset(o, 0, sizeof(*o));
	o->be = be;
	shb(o);
	idb(o, 1, 9);                           /* nanoseconds */
	dsb(o, "SERVER_HANDSHAKE_TRAFFIC_SECRET aa bb\n");
	epb(o, 1700000000123456789ull, 443);
	epb(o, 1700000001000000999ull, 443);
	epb(o, 1700000002000000000ull, 9);
}

static void test_valid(void **state)
{
	struct out o;
	struct got g;
	uint64_t ts[8];
	char err[256];

	(void)state;
	for (int be = 0; be < 2; be++) {
		for (int stream = 0; stream < 2; stream++) {
			make_valid(&o, be);
			assert_int_equal(read_all(o.b, o.n, stream, NULL, &g, ts, err, sizeof(err),
			                          NULL), 0);
			assert_int_equal(g.frames, 3);
			assert_int_equal(g.secrets, 1);
			assert_int_equal(g.frames_at_dsb, 0);   /* before the packets */
			assert_string_equal(g.text, "SERVER_HANDSHAKE_TRAFFIC_SECRET aa bb\n");
			/* Nanoseconds cut down to microseconds. */
			assert_int_equal(ts[0], 1700000000123456ull);
			assert_int_equal(ts[1], 1700000001000000ull);
		}
	}
}

static void test_resolutions(void **state)
{
	struct out o = { .be = 0 };
	struct got g;
	uint64_t ts[8];
	char err[256];

	(void)state;
	shb(&o);
	idb(&o, 1, -1);          /* default: microseconds */
	idb(&o, 1, 3);           /* milliseconds */
	idb(&o, 1, 0x80 | 10);   /* 2^-10 s */
	epb(&o, 5000001, 443);
	{
		struct out b = { .be = 0 };
		uint8_t f[54];

		frame(f, 443);
		u32(&b, 1);   /* interface 1: ms */
		u32(&b, 0);
		u32(&b, 1500);
		u32(&b, 54);
		u32(&b, 54);
		put(&b, f, 54);
		block(&o, 6, &b);
		b.n = 0;
		u32(&b, 2);   /* interface 2: 1/1024 s */
		u32(&b, 0);
		u32(&b, 3 * 1024 + 512);
		u32(&b, 54);
		u32(&b, 54);
		put(&b, f, 54);
		block(&o, 6, &b);
	}
	assert_int_equal(read_all(o.b, o.n, 0, NULL, &g, ts, err, sizeof(err), NULL), 0);
	assert_int_equal(g.frames, 3);
	assert_int_equal(ts[0], 5000001ull);
	assert_int_equal(ts[1], 1500000ull);
	assert_int_equal(ts[2], 3500000ull);
}

/* Every truncation point: the frames whose blocks are whole, the
 * secrets if their block is whole, then an error naming a byte offset
 * (or a clean end exactly between blocks); never a crash. */
static void test_every_truncation(void **state)
{
	struct out o;
	struct got g;
	char err[256];
	size_t ends[8], n_ends = 0, off = 0;

	(void)state;
	make_valid(&o, 0);
	while (off < o.n) {   /* block ends, from their length fields */
		uint32_t len = (uint32_t)o.b[off + 4] | (uint32_t)o.b[off + 5] << 8 |
		               (uint32_t)o.b[off + 6] << 16 | (uint32_t)o.b[off + 7] << 24;

		off += len;
		ends[n_ends++] = off;
	}
	assert_int_equal(n_ends, 6);
	for (size_t cut = 0; cut < o.n; cut++) {
		for (int stream = 0; stream < 2; stream++) {
			int rc = read_all(o.b, cut, stream, NULL, &g, NULL, err, sizeof(err), NULL);
			size_t whole = 0;

			while (whole < n_ends && ends[whole] <= cut)
				whole++;
			if (whole < 2) {
				/* No IDB yet: the open fails, and says why. */
				assert_int_equal(rc, -9);
				assert_true(err[0] != 0);
				continue;
			}
			assert_int_equal(g.secrets, whole >= 3 ? 1u : 0u);
			assert_int_equal(g.frames, whole > 3 ? whole - 3 : 0);
			if (cut == ends[whole - 1]) {
				assert_int_equal(rc, 0);
			} else {
				char want[64];

				assert_int_equal(rc, -1);
				snprintf(want, sizeof(want), "pcapng block at byte %zu: ", ends[whole - 1]);
				assert_non_null(strstr(err, want));
			}
		}
	}
}

static void test_damaged_blocks(void **state)
{
	struct out o;
	struct got g;
	char err[256];
	uint64_t before = g_stats.capture_block_limit;
	size_t at;

	(void)state;
	/* A giant length on the second packet's block: the first is read. */
	make_valid(&o, 0);
	at = o.n - 2 * 88;
	o.b[at + 4] = 0;
	o.b[at + 5] = 0;
	o.b[at + 6] = 0;
	o.b[at + 7] = 0x40;   /* 1 GB */
	assert_int_equal(read_all(o.b, o.n, 1, NULL, &g, NULL, err, sizeof(err), NULL), -1);
	assert_int_equal(g.frames, 1);
	assert_non_null(strstr(err, "over the limit"));
	assert_int_equal(g_stats.capture_block_limit, before + 1);
	/* The trailing length differs from the leading one. */
	make_valid(&o, 0);
	o.b[o.n - 4] ^= 4;
	assert_int_equal(read_all(o.b, o.n, 0, NULL, &g, NULL, err, sizeof(err), NULL), -1);
	assert_int_equal(g.frames, 2);
	assert_non_null(strstr(err, "at its end"));
	/* A packet before any IDB. */
	memset(&o, 0, sizeof(o));
	shb(&o);
	epb(&o, 1, 443);
	assert_int_equal(read_all(o.b, o.n, 0, NULL, &g, NULL, err, sizeof(err), NULL), -9);
	assert_non_null(strstr(err, "before any Interface Description Block"));
	/* A packet of an interface never described. */
	memset(&o, 0, sizeof(o));
	shb(&o);
	idb(&o, 1, -1);
	epb(&o, 1, 443);
	o.b[o.n - 88 + 8] = 7;
	assert_int_equal(read_all(o.b, o.n, 0, NULL, &g, NULL, err, sizeof(err), NULL), -1);
	assert_non_null(strstr(err, "interface 7"));
	/* A second interface of another link type. */
	memset(&o, 0, sizeof(o));
	shb(&o);
	idb(&o, 1, -1);
	epb(&o, 1, 443);
	idb(&o, 101, -1);
	epb(&o, 2, 443);
	assert_int_equal(read_all(o.b, o.n, 0, NULL, &g, NULL, err, sizeof(err), NULL), -1);
	assert_int_equal(g.frames, 1);
	assert_non_null(strstr(err, "link type 101"));
	/* A bad byte-order magic. */
	make_valid(&o, 0);
	o.b[8] = 0x55;
	assert_int_equal(read_all(o.b, o.n, 0, NULL, &g, NULL, err, sizeof(err), NULL), -9);
	assert_non_null(strstr(err, "byte-order magic"));
}

static void test_bpf(void **state)
{
	struct out o;
	struct got g;
	char err[256];
	struct capture *c = NULL;

	(void)state;
	assert_int_equal(capture_bpf_check("tcp port 443", err, sizeof(err)), 0);
	assert_int_equal(capture_bpf_check("garbage(((", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "syntax error"));
	make_valid(&o, 0);
	assert_int_equal(read_all(o.b, o.n, 0, "tcp port 443", &g, NULL, err, sizeof(err), &c), 0);
	assert_int_equal(g.frames, 2);
	assert_int_equal(capture_filtered(c), 1);
	assert_int_equal(capture_count(c), 3);
	capture_close(c);
	assert_int_equal(read_all(o.b, o.n, 1, "udp", &g, NULL, err, sizeof(err), NULL), 0);
	assert_int_equal(g.frames, 0);
	assert_int_equal(g.secrets, 1);   /* filters packets, not secrets */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_resolutions),
		cmocka_unit_test(test_every_truncation),
		cmocka_unit_test(test_damaged_blocks),
		cmocka_unit_test(test_bpf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
