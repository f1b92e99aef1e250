/*
 * test_jsonw.c - the EVE JSON writer writes what jansson's
 * json_dumps(JSON_COMPACT | JSON_PRESERVE_ORDER) writes for the same
 * values (jansson is the reference here, and was the writer before), on
 * hostile strings too; misuse and errors give no text, never a broken
 * line.
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

#include "core/jsonw.h"

/* What output.c did with jansson for an attacker string: json_string(),
 * and when jansson refuses it (not UTF-8) every byte >= 0x80 as '?'. */
static json_t *ref_str(const char *s)
{
	json_t *j = json_string(s);
	char *copy;
	size_t n;

	if (j)
		return j;
	n = strlen(s);
	copy = malloc(n + 1);
	assert_non_null(copy);
	for (size_t i = 0; i < n; i++)
		copy[i] = (unsigned char)s[i] < 0x80 ? s[i] : '?';
	copy[n] = '\0';
	j = json_string(copy);
	free(copy);
	assert_non_null(j);
	return j;
}

static char *ref_dump(json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);

	json_decref(v);
	assert_non_null(s);
	return s;
}

/* {"k":s,"a":[s]} both ways; they must be the same bytes. */
static void check_string(const char *s)
{
	struct jsonw w;
	json_t *o = json_object(), *a = json_array();
	const char *got;
	char *want;
	size_t len;

	json_object_set_new(o, "k", ref_str(s));
	json_array_append_new(a, ref_str(s));
	json_object_set_new(o, "a", a);
	want = ref_dump(o);

	jw_init(&w);
	jw_obj(&w, NULL);
	jw_str(&w, "k", s);
	jw_arr(&w, "a");
	jw_str(&w, NULL, s);
	jw_end(&w);
	jw_end(&w);
	got = jw_text(&w, &len);
	assert_non_null(got);
	assert_string_equal(got, want);
	assert_int_equal(len, strlen(want));
	free(want);
	jw_free(&w);
}

static void strings_fixed(void **state)
{
	static const char *const cases[] = {
		"", "plain", "C=US, O=Cloudflare, CN=cloudflare-dns.com", "quote\"back\\slash",
		"/slash/", "\x01\x02\x08\x09\x0a\x0b\x0c\x0d\x1b\x1f\x7f", "tab\tnl\ncr\r",
		"caf\xc3\xa9", "\xe2\x82\xac euro", "\xf0\x9f\x94\x92 lock", "\xf4\x8f\xbf\xbf",
		"\xc3", "\xc3(", "\x80", "\xbf", "\xc0\x80", "\xc1\xbf", "\xe0\x80\x80",
		"\xe0\x9f\xbf", "\xed\xa0\x80", "\xed\xbf\xbf", "\xf0\x80\x80\x80", "\xf0\x8f\xbf\xbf",
		"\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xff", "\xfe\xff", "ok\xe2\x82",
		"mixed \xc3\xa9 and \xff bad", "\xe2\x82\xac\xc3\xa9\"\n",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_string(cases[i]);
}

/* xorshift64*: the same strings on every run. */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

/* 20,000 strings from pieces a certificate name can hold: ASCII, control
 * bytes, escapes, valid 2/3/4-byte UTF-8 and every kind of broken one;
 * one in four long (up to 60 pieces and runs of plain text), so that what
 * needs escaping falls at every place of the writer's 8-byte words. */
static void strings_random(void **state)
{
	static const char *const pieces[] = {
		"a", "Z", " ", "\"", "\\", "/", "\x01", "\x1f", "\n", "\x7f", "\xc3\xa9",
		"\xe2\x82\xac", "\xf0\x9f\x94\x92", "\x80", "\xc3", "\xe2\x82", "\xf0\x9f\x94",
		"\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xff", "\xef\xbb\xbf",
	};
	const size_t n_pieces = sizeof(pieces) / sizeof(pieces[0]);
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	static const char plain[] = "CN=resolver.example.net, O=Example";
	char s[4096];   /* 60 pieces of at most 34 bytes, then 8 */

	(void)state;
	for (int t = 0; t < 20000; t++) {
		int long_one = rnd(&seed) % 4 == 0;
		size_t len = 0, n = (size_t)(rnd(&seed) % (long_one ? 60 : 12));

		for (size_t i = 0; i < n; i++) {
			const char *p = pieces[rnd(&seed) % n_pieces];
			size_t pl = strlen(p);

			if (long_one && rnd(&seed) % 2) {   /* a run of plain text */
				p = plain;
				pl = 1 + (size_t)(rnd(&seed) % (sizeof(plain) - 1));
			}
			memcpy(s + len, p, pl);
			len += pl;
		}
		/* Sometimes raw random bytes (no NUL: a C string). */
		if (rnd(&seed) % 4 == 0)
			for (size_t i = 0; i < 8; i++)
				s[len++] = (char)(1 + rnd(&seed) % 255);
		s[len] = '\0';
		check_string(s);
	}
}

/* Every value kind, nesting, empty containers, in one event-shaped line. */
static void values_and_nesting(void **state)
{
	struct jsonw w;
	json_t *o = json_object(), *inner = json_object(), *a = json_array();
	char *want;

	(void)state;
	json_object_set_new(o, "i0", json_integer(0));
	json_object_set_new(o, "imax", json_integer(INT64_MAX));
	json_object_set_new(o, "imin", json_integer(INT64_MIN));
	json_object_set_new(o, "neg", json_integer(-42));
	json_object_set_new(o, "t", json_true());
	json_object_set_new(o, "f", json_false());
	json_object_set_new(o, "n", json_null());
	json_object_set_new(o, "eo", json_object());
	json_object_set_new(o, "ea", json_array());
	json_array_append_new(a, json_integer(7));
	json_array_append_new(a, json_string("x"));
	json_array_append_new(a, json_object());
	json_array_append_new(a, json_null());
	json_object_set_new(inner, "a", a);
	json_object_set_new(o, "inner", inner);
	json_object_set_new(o, "15", json_string("numeric key"));
	want = ref_dump(o);

	jw_init(&w);
	jw_obj(&w, NULL);
	jw_int(&w, "i0", 0);
	jw_int(&w, "imax", INT64_MAX);
	jw_int(&w, "imin", INT64_MIN);
	jw_int(&w, "neg", -42);
	jw_bool(&w, "t", 1);
	jw_bool(&w, "f", 0);
	jw_null(&w, "n");
	jw_obj(&w, "eo");
	jw_end(&w);
	jw_arr(&w, "ea");
	jw_end(&w);
	jw_obj(&w, "inner");
	jw_arr(&w, "a");
	jw_int(&w, NULL, 7);
	jw_str(&w, NULL, "x");
	jw_obj(&w, NULL);
	jw_end(&w);
	jw_str(&w, NULL, NULL);
	jw_end(&w);
	jw_end(&w);
	jw_str(&w, "15", "numeric key");
	jw_end(&w);
	assert_non_null(jw_text(&w, NULL));
	assert_string_equal(jw_text(&w, NULL), want);
	free(want);

	/* reset: a second line in the same writer */
	jw_reset(&w);
	jw_arr(&w, NULL);
	jw_end(&w);
	assert_string_equal(jw_text(&w, NULL), "[]");
	jw_free(&w);
}

/* RFC 4648 §10 test vectors, and a DER-sized one against a reference. */
static void base64(void **state)
{
	static const char *const in[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
	static const char *const out[] = {
		"[\"\"]", "[\"Zg==\"]", "[\"Zm8=\"]", "[\"Zm9v\"]", "[\"Zm9vYg==\"]",
		"[\"Zm9vYmE=\"]", "[\"Zm9vYmFy\"]",
	};
	uint8_t big[3000];
	struct jsonw w;
	const char *t;
	size_t len;

	(void)state;
	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		jw_init(&w);
		jw_arr(&w, NULL);
		jw_b64(&w, NULL, (const uint8_t *)in[i], strlen(in[i]));
		jw_end(&w);
		assert_string_equal(jw_text(&w, NULL), out[i]);
		jw_free(&w);
	}
	/* 3000 bytes: 4000 characters, every 6-bit value, grows past nothing */
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7 + 3);
	jw_init(&w);
	jw_obj(&w, NULL);
	jw_b64(&w, "c", big, sizeof(big));
	jw_end(&w);
	t = jw_text(&w, &len);
	assert_non_null(t);
	assert_int_equal(len, 4000 + 8);     /* {"c":"..."} */
	assert_memory_equal(t, "{\"c\":\"AwoRGB8mLTQ7", 18);
	jw_free(&w);
}

/* Lines far beyond the inline buffer: every byte escaped (6x growth). */
static void grows_beyond_inline(void **state)
{
	size_t n = 100000;
	char *s = malloc(n + 1);

	(void)state;
	assert_non_null(s);
	for (size_t i = 0; i < n; i++)
		s[i] = (char)(1 + i % 31);        /* control bytes: \u00XX or \n ... */
	s[n] = '\0';
	check_string(s);
	for (size_t i = 0; i < n; i++)
		s[i] = (char)"\xc3\xa9"[i % 2];
	check_string(s);
	free(s);
}

/* Misuse never yields text: it would be a broken line. */
static void misuse_gives_no_text(void **state)
{
	struct jsonw w;

	(void)state;
	jw_init(&w);
	assert_null(jw_text(&w, NULL));          /* nothing written */
	jw_obj(&w, NULL);
	assert_null(jw_text(&w, NULL));          /* still open */
	jw_str(&w, NULL, "no key in an object");
	jw_end(&w);
	assert_null(jw_text(&w, NULL));          /* error is sticky */

	jw_reset(&w);
	jw_arr(&w, NULL);
	jw_int(&w, "key in an array", 1);
	jw_end(&w);
	assert_null(jw_text(&w, NULL));

	jw_reset(&w);
	jw_obj(&w, NULL);
	jw_end(&w);
	jw_end(&w);                              /* one end too many */
	assert_null(jw_text(&w, NULL));

	jw_reset(&w);
	jw_obj(&w, NULL);
	jw_end(&w);
	jw_obj(&w, NULL);                        /* a second top-level value */
	jw_end(&w);
	assert_null(jw_text(&w, NULL));

	jw_reset(&w);
	jw_str(&w, "top-level key", "x");
	assert_null(jw_text(&w, NULL));

	/* JSONW_MAX_DEPTH levels work, one more does not */
	jw_reset(&w);
	for (int i = 0; i < JSONW_MAX_DEPTH; i++)
		jw_arr(&w, NULL);
	for (int i = 0; i < JSONW_MAX_DEPTH; i++)
		jw_end(&w);
	assert_non_null(jw_text(&w, NULL));
	jw_reset(&w);
	for (int i = 0; i <= JSONW_MAX_DEPTH; i++)
		jw_arr(&w, NULL);
	for (int i = 0; i <= JSONW_MAX_DEPTH; i++)
		jw_end(&w);
	assert_null(jw_text(&w, NULL));
	jw_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(strings_fixed),
		cmocka_unit_test(strings_random),
		cmocka_unit_test(values_and_nesting),
		cmocka_unit_test(base64),
		cmocka_unit_test(grows_beyond_inline),
		cmocka_unit_test(misuse_gives_no_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
