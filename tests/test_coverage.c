/*
 * test_coverage.c - the coverage table (include/verdict/coverage.h): one
 * row per owner and protected asset whatever the ways it was matched,
 * approved and alerting apart, the rows with unchecked handshakes first,
 * the summary's lines and its one-line key fact, and the row limit.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "verdict/coverage.h"

/* What fn printed for c, as one string (owned by the caller).  Through a
 * temporary file: a memstream's buffer makes GCC see a local escape. */
static char *printed(void (*fn)(struct coverage *, FILE *), struct coverage *c)
{
	FILE *f = tmpfile();
	char *text;
	long len;

	assert_non_null(f);
	fn(c, f);
	len = ftell(f);
	assert_true(len >= 0);
	text = calloc(1, (size_t)len + 1);
	assert_non_null(text);
	rewind(f);
	assert_int_equal(fread(text, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	return text;
}

/* Where needle is in text; -1 when it is not. */
static long offset(const char *text, const char *needle)
{
	const char *p = strstr(text, needle);

	return p ? (long)(p - text) : -1;
}

/* coverage_print_fact's owners, for printed() */
static size_t g_fact_owners;

static void fact(struct coverage *c, FILE *f)
{
	coverage_print_fact(c, g_fact_owners, f);
}

static char *fact_of(struct coverage *c, size_t owners)
{
	g_fact_owners = owners;
	return printed(fact, c);
}

/* Names, words and groups come from one table: every class has them, and
 * the keys are snake_case. */
static void test_classes(void **state)
{
	(void)state;
	for (int k = 0; k < COV_N; k++) {
		const char *n = coverage_class_name((enum coverage_class)k);

		assert_true(strlen(n) > 0);
		assert_int_equal(strspn(n, "abcdefghijklmnopqrstuvwxyz0123456789_"), strlen(n));
		assert_true(strlen(coverage_class_text((enum coverage_class)k)) > 0);
		/* every reason for not checking says what to do */
		if (coverage_unchecked((enum coverage_class)k))
			assert_true(strlen(coverage_class_hint((enum coverage_class)k)) > 0);
	}
	assert_int_equal(coverage_group_of(COV_APPROVED), COV_G_APPROVED);
	assert_int_equal(coverage_group_of(COV_ALERTING), COV_G_ALERTING);
	assert_int_equal(coverage_group_of(COV_FP_CHANGED), COV_G_ALERTING);
	assert_int_equal(coverage_group_of(COV_FINGERPRINT), COV_G_FINGERPRINT);
	assert_true(coverage_unchecked(COV_TLS13_NO_KEYLOG));
	assert_true(coverage_unchecked(COV_GAP));
	assert_false(coverage_unchecked(COV_ALERTING));
	assert_int_equal(coverage_match_of("san-ip:1.1.1.1"), COV_M_SAN_IP);
	assert_int_equal(coverage_match_of("sni:x"), COV_M_SNI);
	assert_int_equal(coverage_match_of("ip:1.1.1.1"), COV_M_IP);
	assert_int_equal(coverage_match_of("cn:x"), COV_M_CN);
	assert_int_equal(coverage_match_of("san-dns:x"), COV_M_SAN_DNS);
	assert_int_equal(coverage_match_of("what:x"), -1);
	assert_string_equal(coverage_match_name(COV_M_SAN_DNS), "san_dns");
}

/* One row an asset, however matched; approved and alerting apart. */
static void test_one_row_per_asset(void **state)
{
	struct coverage *c = coverage_new();
	struct coverage_row rows[4];
	uint64_t dropped;

	(void)state;
	assert_non_null(c);
	coverage_count(c, "cf", "ip", "1.1.1.1", COV_APPROVED,
	               1u << COV_M_IP | 1u << COV_M_SAN_IP | 1u << COV_M_CN);
	coverage_count(c, "cf", "ip", "1.1.1.1", COV_ALERTING, 1u << COV_M_SAN_IP);
	assert_int_equal(coverage_rows(c, rows, 4, &dropped), 1);
	assert_int_equal(dropped, 0);
	assert_string_equal(rows[0].type, "ip");
	assert_string_equal(rows[0].asset, "1.1.1.1");
	assert_int_equal(coverage_row_total(&rows[0]), 2);
	assert_int_equal(coverage_row_group(&rows[0], COV_G_APPROVED), 1);
	assert_int_equal(coverage_row_group(&rows[0], COV_G_ALERTING), 1);
	assert_int_equal(rows[0].by_match[COV_M_SAN_IP], 2);
	assert_int_equal(rows[0].by_match[COV_M_IP], 1);
	assert_int_equal(rows[0].by_match[COV_M_SNI], 0);
	/* the same entry under another type is another asset */
	coverage_count(c, "cf", "name", "1.1.1.1", COV_APPROVED, 1u << COV_M_SNI);
	assert_int_equal(coverage_rows(c, rows, 4, &dropped), 2);
	coverage_free(c);
}

/* Rows with unchecked handshakes first, most first; then by name. */
static void test_order_and_lines(void **state)
{
	struct coverage *c = coverage_new();
	char *text;
	long a, b, d;

	(void)state;
	coverage_count(c, "a", "ip", "10.0.0.1", COV_APPROVED, 1u << COV_M_IP);
	coverage_count(c, "b", "name", "x.example", COV_TLS13_NO_KEYLOG, 1u << COV_M_SNI);
	coverage_count(c, "c", "ip", "10.0.0.0/8", COV_GAP, 1u << COV_M_IP);
	coverage_count(c, "c", "ip", "10.0.0.0/8", COV_TLS13_NO_KEYLOG, 1u << COV_M_IP);
	coverage_count(c, "c", "ip", "10.0.0.0/8", COV_TLS13_NO_KEYLOG, 1u << COV_M_IP);
	coverage_count(c, "c", "ip", "10.0.0.0/8", COV_ALERTING, 1u << COV_M_IP);
	text = printed(coverage_print, c);
	d = offset(text, "  coverage: c ip 10.0.0.0/8: 4 handshakes: not checked 3 (TLS 1.3 "
	                 "without a key log 2, gap in the stream 1), approved 0, alerting 1, "
	                 "fingerprint only 0\n");
	b = offset(text, "  coverage: b name x.example: 1 handshake: not checked 1 (TLS 1.3 "
	                 "without a key log 1), approved 0, alerting 0, fingerprint only 0\n");
	a = offset(text, "  coverage: a ip 10.0.0.1: 1 handshake: approved 1, alerting 0, "
	                 "fingerprint only 0, not checked 0\n");
	assert_true(d >= 0 && d < b && b < a);
	free(text);
	coverage_free(c);
}

/* The key fact counts handshakes, once each, and names the main reason's
 * remedy; all checked says so; no owner, nothing. */
static void test_fact(void **state)
{
	struct coverage *c = coverage_new();
	char *text;

	(void)state;
	text = fact_of(c, 0);
	assert_string_equal(text, "");
	free(text);
	text = fact_of(c, 1);
	assert_non_null(strstr(text, "no handshake at a protected asset was seen"));
	free(text);
	coverage_handshake(c, COV_APPROVED);
	coverage_handshake(c, COV_ALERTING);
	text = fact_of(c, 1);
	assert_string_equal(text, "  all 2 handshakes at protected assets were checked: approved 1, "
	                          "alerting 1, fingerprint only 0\n");
	free(text);
	for (int i = 0; i < 4; i++)
		coverage_handshake(c, COV_TLS13_NO_KEYLOG);
	coverage_handshake(c, COV_GAP);
	coverage_handshake(c, COV_FINGERPRINT);
	text = fact_of(c, 1);
	assert_non_null(strstr(text, "  5 of 8 handshakes at protected assets went unchecked: TLS 1.3 "
	                             "without a key log 4, gap in the stream 1; give --keylog FILE"));
	/* one line */
	assert_ptr_equal(strchr(text, '\n'), text + strlen(text) - 1);
	free(text);
	coverage_free(c);
}

/* Past COVERAGE_MAX_ROWS rows a handshake is counted as dropped, and said. */
static void test_row_limit(void **state)
{
	struct coverage *c = coverage_new();
	char asset[32], *text;
	uint64_t dropped;

	(void)state;
	for (unsigned i = 0; i < COVERAGE_MAX_ROWS + 3; i++) {
		snprintf(asset, sizeof(asset), "10.%u.%u.%u", i >> 16, (i >> 8) & 255, i & 255);
		coverage_count(c, "o", "ip", asset, COV_APPROVED, 1u << COV_M_IP);
	}
	assert_int_equal(coverage_rows(c, NULL, 0, &dropped), COVERAGE_MAX_ROWS);
	assert_int_equal(dropped, 3);
	text = printed(coverage_print, c);
	assert_non_null(strstr(text, "  coverage: 3 handshakes not counted (more than 4096 owner "
	                             "and asset rows)\n"));
	free(text);
	coverage_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classes),
		cmocka_unit_test(test_one_row_per_asset),
		cmocka_unit_test(test_order_and_lines),
		cmocka_unit_test(test_fact),
		cmocka_unit_test(test_row_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
