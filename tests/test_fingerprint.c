/*
 * test_fingerprint.c - unit tests for TLS 1.3 server fingerprints
 * (sensor/verdict/fingerprint.c): the SYN-ACK's shape from real header bytes,
 * matching within and past the tolerance, the largest record on its own,
 * several shapes per endpoint and the one replaced when full, another
 * address with the same port and SNI (anycast), the file's round trip,
 * and every truncation of a SYN-ACK.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "verdict/fingerprint.h"

/* A Linux SYN-ACK as tcpdump showed it on loopback: IPv4 TTL 64, then the
 * TCP header with MSS 65495, SACK permitted, timestamps, NOP, wscale 7. */
static const uint8_t syn_ack_ip[20] = {
	0x45, 0x00, 0x00, 0x3c, 0x00, 0x00, 0x40, 0x00, 0x40, 0x06, 0x3c, 0xba,
	0x7f, 0x00, 0x00, 0x01, 0x7f, 0x00, 0x00, 0x01,
};
static const uint8_t syn_ack_tcp[40] = {
	0x03, 0x55, 0xa0, 0x06, 0x8a, 0x3b, 0x51, 0x6f, 0x6d, 0x3f, 0x56, 0x5a, 0xa0, 0x12,
	0xff, 0xcb, 0xfe, 0x30, 0x00, 0x00, 0x02, 0x04, 0xff, 0xd7, 0x04, 0x02, 0x08, 0x0a,
	0x2c, 0x0f, 0x55, 0x4c, 0x2c, 0x0f, 0x55, 0x4c, 0x01, 0x03, 0x03, 0x07,
};

static void test_synack(void **state)
{
	struct fp_synack sa;
	char opts[16];
	uint8_t ip6[40] = { 0x60, 0, 0, 0, 0, 40, 6, 120 };

	(void)state;
	assert_int_equal(fp_synack_parse(4, syn_ack_ip, 20, syn_ack_tcp, 40, &sa), 0);
	assert_int_equal(sa.ttl, 64);
	assert_int_equal(sa.mss, 65495);
	assert_int_equal(sa.wscale, 7);
	assert_int_equal(sa.win, 65483);
	fp_synack_opts(sa.opts, opts);
	assert_string_equal(opts, "M,S,T,N,W");
	/* IPv6 hop limit 120: a 128 stack */
	assert_int_equal(fp_synack_parse(6, ip6, 40, syn_ack_tcp, 40, &sa), 0);
	assert_int_equal(sa.ttl, 128);
	/* every truncation: refused or read, never past the end */
	for (size_t n = 0; n < 40; n++) {
		uint8_t *cut = malloc(n ? n : 1);

		memcpy(cut, syn_ack_tcp, n);
		if (fp_synack_parse(4, syn_ack_ip, 20, cut, n, &sa) == 0)
			assert_true(n >= 40);
		free(cut);
	}
	assert_int_equal(fp_synack_parse(4, syn_ack_ip, 8, syn_ack_tcp, 40, &sa), -1);
}

static struct fp_obs obs(unsigned records, uint64_t bytes, unsigned largest, const char *ja3s)
{
	struct fp_obs o;

	memset(&o, 0, sizeof o);
	o.family = 4;
	o.ip[0] = 1, o.ip[1] = 1, o.ip[2] = 1, o.ip[3] = 1;
	o.port = 853;
	o.sni = "cloudflare-dns.com";
	o.ja3s = ja3s;
	o.cipher = 0x1302;
	o.group = 29;
	o.records = records;
	o.bytes = bytes;
	o.largest = largest;
	o.synack.ttl = 64;
	o.synack.mss = 1460;
	o.synack.wscale = 7;
	return o;
}

static enum fp_outcome check(const struct fp_baseline *b, struct fp_obs o)
{
	struct fp_result r;

	fp_check(b, &o, &r);
	return r.outcome;
}

static void test_match_and_tolerance(void **state)
{
	struct fp_baseline *b = fp_new(FP_DEF_TOLERANCE);
	struct fp_obs o = obs(4, 1284, 1097, "771,4866,43-51");
	struct fp_result r;

	(void)state;
	assert_int_equal(check(b, o), FP_NO_BASELINE);
	for (int i = 0; i < 5; i++)
		fp_learn(b, &o);
	assert_int_equal(fp_endpoints(b), 1);
	assert_int_equal(fp_shapes(b), 1);
	assert_int_equal(check(b, o), FP_MATCH);
	/* within the byte tolerance, the same largest record */
	assert_int_equal(check(b, obs(4, 1284 + FP_DEF_TOLERANCE, 1097, "771,4866,43-51")), FP_MATCH);
	assert_int_equal(check(b, obs(4, 1284 - FP_DEF_TOLERANCE, 1097 - FP_LARGEST_TOLERANCE,
	                              "771,4866,43-51")), FP_MATCH);
	/* past it, another largest record, another record count, another
	 * extension order, another SYN-ACK */
	assert_int_equal(check(b, obs(4, 1284 + FP_DEF_TOLERANCE + 1, 1097, "771,4866,43-51")),
	                 FP_CHANGED);
	assert_int_equal(check(b, obs(4, 1284, 1097 + FP_LARGEST_TOLERANCE + 1, "771,4866,43-51")),
	                 FP_CHANGED);
	assert_int_equal(check(b, obs(3, 1284, 1097, "771,4866,43-51")), FP_CHANGED);
	assert_int_equal(check(b, obs(4, 1284, 1097, "771,4866,51-43")), FP_CHANGED);
	o.synack.ttl = 128;
	assert_int_equal(check(b, o), FP_CHANGED);
	/* no SYN-ACK seen (mid-stream): not compared */
	o.synack.ttl = 0;
	assert_int_equal(check(b, o), FP_MATCH);
	/* the client's choices are not compared */
	o.cipher = 0x1301;
	o.group = 23;
	fp_check(b, &o, &r);
	assert_int_equal(r.outcome, FP_MATCH);
	o = obs(4, 2139, 1766, "771,4866,43-51");
	fp_check(b, &o, &r);
	assert_int_equal(r.outcome, FP_CHANGED);
	assert_non_null(strstr(r.what, "server encrypted flight 4 records, 2,139 bytes"));
	assert_non_null(strstr(r.what, "baseline 4 records, 1,284 +/- 64 bytes"));
	assert_non_null(strstr(r.what, "largest record 1766 bytes, baseline 1097-1097"));
	assert_non_null(strstr(r.what, "ServerHello extensions, SYN-ACK unchanged"));
	/* anycast: another address, the same port and SNI */
	o = obs(4, 1284, 1097, "771,4866,43-51");
	o.ip[3] = 2;
	assert_int_equal(check(b, o), FP_MATCH);
	o.sni = NULL;
	assert_int_equal(check(b, o), FP_NO_BASELINE);
	fp_free(b);
}

/* Several shapes (two certificates), each with its count; when full, the
 * least seen gives way; the file's round trip keeps them all. */
static void test_shapes_and_file(void **state)
{
	char path[] = "/tmp/test_fp.XXXXXX", err[256];
	struct fp_baseline *b = fp_new(FP_DEF_TOLERANCE), *c = fp_new(FP_DEF_TOLERANCE);
	struct fp_obs rsa = obs(4, 2139, 1766, "771,4866,43-51");
	struct fp_obs ec = obs(4, 1284, 1097, "771,4866,43-51");
	int fd = mkstemp(path);

	(void)state;
	close(fd);
	fp_learn(b, &rsa);
	fp_learn(b, &ec);
	fp_learn(b, &ec);
	assert_int_equal(fp_shapes(b), 2);
	assert_int_equal(check(b, rsa), FP_MATCH);
	assert_int_equal(check(b, ec), FP_MATCH);
	for (unsigned i = 0; i < FP_MAX_SHAPES; i++) {
		struct fp_obs o = obs(5 + i, 1000, 900, "771,4866,43-51");

		fp_learn(b, &o);
	}
	assert_int_equal(fp_shapes(b), FP_MAX_SHAPES);
	assert_int_equal(check(b, ec), FP_MATCH);   /* seen twice: kept */
	assert_int_equal(fp_save(b, path, err, sizeof err), 0);
	assert_int_equal(fp_load(c, path, err, sizeof err), 0);
	assert_int_equal(fp_endpoints(c), 1);
	assert_int_equal(fp_shapes(c), FP_MAX_SHAPES);
	assert_int_equal(check(c, ec), FP_MATCH);
	assert_int_equal(check(c, obs(4, 5000, 4000, "771,4866,43-51")), FP_CHANGED);
	unlink(path);
	fp_free(b);
	fp_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_synack),
		cmocka_unit_test(test_match_and_tolerance),
		cmocka_unit_test(test_shapes_and_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
