/*
 * test_ctjson.c - the get-entries JSON reader (sensor/run/ctjson.c) accepts
 * what jansson accepts and hands out the strings jansson decodes: fixed
 * cases, then 200,000 mutations of real-shaped answers checked against
 * jansson (the reader certsentry used before, the reference here).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>

#include "run/ctjson.h"

#define MAX_GOT 16

struct got {
	size_t n;
	int is_object[MAX_GOT], duplicate[MAX_GOT];
	char *leaf[MAX_GOT], *extra[MAX_GOT];
	size_t leaf_len[MAX_GOT], extra_len[MAX_GOT];
};

static char *dup_n(const char *p, size_t n)
{
	char *s = malloc(n + 1);

	assert_non_null(s);
	if (n)
		memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

static int collect(void *arg, const struct ctj_entry *e)
{
	struct got *g = arg;

	if (g->n == MAX_GOT)
		return 0;
	g->is_object[g->n] = e->is_object;
	g->duplicate[g->n] = e->duplicate;
	g->leaf[g->n] = e->leaf ? dup_n(e->leaf, e->leaf_len) : NULL;
	g->extra[g->n] = e->extra ? dup_n(e->extra, e->extra_len) : NULL;
	g->leaf_len[g->n] = e->leaf_len;
	g->extra_len[g->n] = e->extra_len;
	g->n++;
	return 0;
}

static void got_free(struct got *g)
{
	for (size_t i = 0; i < g->n; i++) {
		free(g->leaf[i]);
		free(g->extra[i]);
	}
	memset(g, 0, sizeof(*g));
}

static int parse(const char *s, size_t len, struct got *g, char *err, size_t errlen)
{
	memset(g, 0, sizeof(*g));
	return ctj_parse(s, len, collect, g, err, errlen);
}

static void fixed_valid(void **state)
{
	struct got g;
	char err[200];
	const char *page = " {\"entries\": [{\"leaf_input\": \"AAAA\", \"extra_data\": \"BB\\/C\"},"
	                   " {\"extra_data\": \"x\", \"leaf_input\": 5, \"other\": [1, -2.5e+3, true,"
	                   " null, {\"a\": {}}]}], \"more\": \"\\u00e9\\ud83d\\ude00\"}\n";

	(void)state;
	assert_int_equal(parse(page, strlen(page), &g, err, sizeof(err)), 0);
	assert_int_equal(g.n, 2);
	assert_string_equal(g.leaf[0], "AAAA");
	assert_string_equal(g.extra[0], "BB/C");   /* "\/" unescaped */
	assert_null(g.leaf[1]);                     /* a number: not a string */
	assert_string_equal(g.extra[1], "x");
	got_free(&g);
	/* an entry alone; a key spelt with an escape is still the key */
	const char *one = "{\"leaf\\u005finput\":\"QQ==\",\"extra_data\":\"\"}";
	assert_int_equal(parse(one, strlen(one), &g, err, sizeof(err)), 0);
	assert_int_equal(g.n, 1);
	assert_true(g.is_object[0]);
	assert_string_equal(g.leaf[0], "QQ==");
	assert_string_equal(g.extra[0], "");
	got_free(&g);
	/* a twice-given member is the entry's fault, not the answer's */
	const char *dup = "{\"entries\":[{\"leaf_input\":\"a\",\"leaf_input\":\"b\",\"extra_data\":\"c\"},"
	                  "{\"leaf_input\":\"d\",\"extra_data\":\"e\"}]}";
	assert_int_equal(parse(dup, strlen(dup), &g, err, sizeof(err)), 0);
	assert_int_equal(g.n, 2);
	assert_true(g.duplicate[0]);
	assert_false(g.duplicate[1]);
	got_free(&g);
	/* not an object: one entry that says so */
	assert_int_equal(parse("[1,2]", 5, &g, err, sizeof(err)), 0);
	assert_int_equal(g.n, 1);
	assert_false(g.is_object[0]);
	got_free(&g);
}

static void fixed_invalid(void **state)
{
	static const char *const bad[] = {
		"", "{", "{\"a\":1,}", "[1,]", "{\"a\" 1}", "{\"a\":01}", "{\"a\":-}", "{\"a\":1.}",
		"{\"a\":1e}", "{\"a\":tru}", "{\"a\":\"\\x\"}", "{\"a\":\"\\ud800\"}",
		"{\"a\":\"\\udc00\"}", "{\"a\":\"\\u0000\"}", "{\"a\":\"\\u12\"}", "{\"a\":\"\x01\"}",
		"{\"a\":\"\xc3\"}", "{\"a\":\"\xed\xa0\x80\"}", "{\"a\":\"\xc0\xaf\"}", "{\"a\":\"x}",
		"{} {}", "{\"entries\":[],\"entries\":[]}", "{'a':1}", "{\"a\":1}x",
	};
	struct got g;
	char err[200];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = parse(bad[i], strlen(bad[i]), &g, err, sizeof(err));

		if (rc != -1 || err[0] == '\0')
			fail_msg("accepted: %s", bad[i]);
		got_free(&g);
	}
}

static void depth_bounded(void **state)
{
	char doc[2 * (CTJ_MAX_DEPTH + 2) + 1];
	struct got g;
	char err[200];
	size_t d;

	(void)state;
	for (d = CTJ_MAX_DEPTH; d <= CTJ_MAX_DEPTH + 1; d++) {
		memset(doc, '[', d);
		memset(doc + d, ']', d);
		assert_int_equal(parse(doc, 2 * d, &g, err, sizeof(err)), d <= CTJ_MAX_DEPTH ? 0 : -1);
		got_free(&g);
	}
	assert_non_null(strstr(err, "nested too deep"));
}

/* jansson's view of the same text: accepted or not, and the entries'
 * strings.  -1: a difference that is by design (see the caller). */
static int reference(const char *s, size_t len, struct got *g)
{
	json_error_t je;
	json_t *v = json_loadb(s, len, JSON_DECODE_ANY, &je), *entries;
	size_t n;

	memset(g, 0, sizeof(*g));
	if (!v)
		return strstr(je.text, "too big") || strstr(je.text, "overflow") ||
		       strstr(je.text, "maximum parsing depth") ? -2 : -1;
	entries = json_is_object(v) ? json_object_get(v, "entries") : NULL;
	n = json_is_array(entries) ? json_array_size(entries) : 1;
	for (size_t i = 0; i < n && g->n < MAX_GOT; i++) {
		json_t *e = json_is_array(entries) ? json_array_get(entries, i) : v;
		json_t *l = json_object_get(e, "leaf_input"), *x = json_object_get(e, "extra_data");

		g->is_object[g->n] = json_is_object(e);
		g->leaf[g->n] = json_is_string(l) ? dup_n(json_string_value(l), json_string_length(l)) : NULL;
		g->extra[g->n] = json_is_string(x) ? dup_n(json_string_value(x), json_string_length(x)) : NULL;
		g->n++;
	}
	json_decref(v);
	return 0;
}

static int same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static void against_jansson(void **state)
{
	static const char *const seeds[] = {
		"{\"entries\":[{\"leaf_input\":\"AAAAAAFjXf8=\",\"extra_data\":\"AAAA\"},"
		"{\"leaf_input\":\"QUJD\",\"extra_data\":\"\"}]}",
		"{\"leaf_input\":\"AAAA\",\"extra_data\":\"BB\\/C\\u0041\"}",
		"{\"entries\": [\n  {\"leaf_input\": \"x\", \"n\": [1, 2.5, -0, 1e3, true, false, null]}\n]}",
		"{\"k\\u00e9\":\"\xc3\xa9\\ud83d\\ude00\",\"entries\":{\"leaf_input\":\"a\"}}",
	};
	struct got a, b;
	char err[200], buf[512];
	unsigned seed = 16;
	size_t agreed = 0, by_design = 0;

	(void)state;
	for (int it = 0; it < 200000; it++) {
		const char *s0 = seeds[it % 4];
		size_t n = strlen(s0), k;
		int ra, rb;

		memcpy(buf, s0, n);
		/* one to three mutations: a byte changed, inserted or dropped */
		for (int m = 0, nm = 1 + (int)(rand_r(&seed) % 3); m < nm && n > 1; m++) {
			static const char pick[] = "{}[]\":,\\u0123456789eE.-+ \n\tatrfnl\xc3\xa9\x80\xff\x00";

			k = rand_r(&seed) % n;
			switch (rand_r(&seed) % 3) {
			case 0:
				buf[k] = pick[rand_r(&seed) % (sizeof(pick) - 1)];
				break;
			case 1:
				if (n + 1 < sizeof(buf)) {
					memmove(buf + k + 1, buf + k, n - k);
					buf[k] = pick[rand_r(&seed) % (sizeof(pick) - 1)];
					n++;
				}
				break;
			default:
				memmove(buf + k, buf + k + 1, n - k - 1);
				n--;
			}
		}
		rb = reference(buf, n, &b);
		ra = parse(buf, n, &a, err, sizeof(err));
		if (rb == -2 || (ra == -1 && strstr(err, "duplicate key")) ||
		    (ra == -1 && rb == 0 && memchr(buf, 0, n))) {
			/* huge numbers (RFC 8259 allows them), "entries" twice, a NUL
			 * byte outside strings (jansson passes over some) */
			by_design++;
		} else if ((ra == 0) != (rb == 0)) {
			char shown[4 * sizeof(buf) + 1];
			size_t o = 0;

			for (size_t i = 0; i < n; i++)
				o += (size_t)snprintf(shown + o, sizeof(shown) - o,
				                      (unsigned char)buf[i] >= 0x20 && (unsigned char)buf[i] < 0x7f
				                      ? "%c" : "\\x%02x", (unsigned char)buf[i]);
			fail_msg("ctjson %s, jansson %s: %s (%s)", ra == 0 ? "accepts" : "refuses",
			         rb == 0 ? "accepts" : "refuses", shown, err);
		} else if (ra == 0) {
			if (a.n != b.n)
				fail_msg("%zu entries, jansson %zu", a.n, b.n);
			for (size_t i = 0; i < a.n; i++)
				if (!a.duplicate[i] && (a.is_object[i] != b.is_object[i] ||
				                        !same_str(a.leaf[i], b.leaf[i]) ||
				                        !same_str(a.extra[i], b.extra[i])))
					fail_msg("entry %zu differs", i);
			agreed++;
		}
		got_free(&a);
		got_free(&b);
	}
	print_message("  %zu accepted by both alike, %zu differences by design\n", agreed, by_design);
	assert_true(agreed > 1000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fixed_valid),
		cmocka_unit_test(fixed_invalid),
		cmocka_unit_test(depth_bounded),
		cmocka_unit_test(against_jansson),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
