/*
 * test_config.c - the configuration file's syntax (run/config.h) and the
 * capture magics -r DIR picks files by (run/inputs.h): a valid file with
 * every form (comments, blank lines, quotes, escapes, '#' inside a word,
 * CRLF), the exact minimum, every truncation of a valid file (each cut is
 * a valid file or one error with its line, never a crash or a read past
 * the end), a line at and one byte over CONFIG_MAX_LINE, a giant name,
 * binary bytes, each syntax error with its line, the callback's refusal
 * passed on, and config_read's FILE:LINE on a real file.
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

#include "run/config.h"
#include "run/inputs.h"

#define MAX_SEEN 32

struct seen {
	size_t n;
	char name[MAX_SEEN][CONFIG_MAX_NAME + 1];
	char value[MAX_SEEN][CONFIG_MAX_LINE + 1];
	unsigned line[MAX_SEEN];
	const char *refuse;     /* a name the callback refuses */
};

static int collect(void *ctx, const char *name, const char *value, unsigned line, char *why,
                   size_t whylen)
{
	struct seen *s = ctx;

	if (s->refuse && strcmp(name, s->refuse) == 0) {
		snprintf(why, whylen, "refused %s", name);
		return -1;
	}
	assert_true(s->n < MAX_SEEN);
	assert_true(strlen(name) <= CONFIG_MAX_NAME);
	assert_true(strlen(value) <= CONFIG_MAX_LINE);
	strcpy(s->name[s->n], name);
	strcpy(s->value[s->n], value);
	s->line[s->n++] = line;
	return 0;
}

static int parse(const char *text, size_t len, struct seen *s, unsigned *line, char *why)
{
	memset(s->name, 0, sizeof(s->name));
	s->n = 0;
	return config_parse((const uint8_t *)text, len, collect, s, line, why, 256);
}

static const char k_valid[] =
	"# comment\n"
	"\n"
	"   rules = /etc/x.rules   # trailing comment\r\n"
	"read=a.pcap\n"
	"read = \"with space#.pcap\"  # quoted\n"
	"output = eve#1.json\n"
	"bpf = \"\"\n"
	"quote = \"a \\\"b\\\" \\\\c\"\n"
	"\tquiet\t=\tyes";

static void test_valid(void **state)
{
	struct seen s = { 0 };
	unsigned line;
	char why[256];

	(void)state;
	assert_int_equal(parse(k_valid, strlen(k_valid), &s, &line, why), 0);
	assert_int_equal(s.n, 7);
	assert_string_equal(s.name[0], "rules");
	assert_string_equal(s.value[0], "/etc/x.rules");
	assert_int_equal(s.line[0], 3);
	assert_string_equal(s.value[1], "a.pcap");
	assert_string_equal(s.value[2], "with space#.pcap");
	assert_string_equal(s.value[3], "eve#1.json");
	assert_string_equal(s.value[4], "");
	assert_string_equal(s.value[5], "a \"b\" \\c");
	assert_string_equal(s.name[6], "quiet");
	assert_string_equal(s.value[6], "yes");
	assert_int_equal(s.line[6], 9);
}

static void test_minimum(void **state)
{
	struct seen s = { 0 };
	unsigned line;
	char why[256];

	(void)state;
	assert_int_equal(parse("a=b", 3, &s, &line, why), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.name[0], "a");
	assert_string_equal(s.value[0], "b");
	assert_int_equal(parse("", 0, &s, &line, why), 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(parse("\n", 1, &s, &line, why), 0);
	assert_int_equal(s.n, 0);
}

/* Every prefix of the valid file, each copied to a buffer of exactly its
 * length (ASan sees a read past it): parsed, or one error with a line. */
static void test_truncations(void **state)
{
	size_t len = strlen(k_valid);

	(void)state;
	for (size_t cut = 0; cut <= len; cut++) {
		char *p = malloc(cut ? cut : 1);
		struct seen s = { 0 };
		unsigned line = 0;
		char why[256] = "";
		int rc;

		assert_non_null(p);
		memcpy(p, k_valid, cut);
		rc = parse(p, cut, &s, &line, why);
		if (rc < 0) {
			assert_true(line >= 1 && line <= 9);
			assert_true(why[0] != '\0');
		}
		free(p);
	}
}

static void test_line_limit(void **state)
{
	size_t n = CONFIG_MAX_LINE + 1;
	char *p = malloc(n + 1);
	struct seen s = { 0 };
	unsigned line;
	char why[256];

	(void)state;
	assert_non_null(p);
	memcpy(p, "v = ", 4);
	memset(p + 4, 'x', n - 4);
	/* exactly CONFIG_MAX_LINE bytes: taken */
	assert_int_equal(parse(p, CONFIG_MAX_LINE, &s, &line, why), 0);
	assert_int_equal(strlen(s.value[0]), CONFIG_MAX_LINE - 4);
	/* one more: refused on line 1, naming the limit */
	assert_int_equal(parse(p, n, &s, &line, why), -1);
	assert_int_equal(line, 1);
	assert_non_null(strstr(why, "line longer than 4096 bytes"));
	/* a giant name */
	memset(p, 'a', n);
	assert_int_equal(parse(p, CONFIG_MAX_NAME + 10, &s, &line, why), -1);
	assert_non_null(strstr(why, "name longer than"));
	free(p);
}

static void error_at(const char *text, unsigned want_line, const char *want)
{
	struct seen s = { 0 };
	unsigned line = 0;
	char why[256] = "";

	s.refuse = "refuse";
	assert_int_equal(parse(text, strlen(text), &s, &line, why), -1);
	assert_int_equal(line, want_line);
	if (!strstr(why, want))
		fail_msg("'%s': got '%s', want '%s'", text, why, want);
}

static void test_errors(void **state)
{
	(void)state;
	error_at("a = b\nno equals here\n", 2, "expected '='");
	error_at("a =\n", 1, "has no value");
	error_at("a = # only a comment\n", 1, "has no value");
	error_at("a = \"open\n", 1, "no closing quote");
	error_at("a = \"x\" tail\n", 1, "text after the closing quote");
	error_at("a = \"x\\n\"\n", 1, "are escapes");
	error_at("= b\n", 1, "expected 'name = value'");
	error_at("Name = b\n", 1, "expected 'name = value'");
	error_at("a = b\x01\n", 1, "not text: byte 0x01 at column 6");
	error_at("#\n#\na = \x7f\n", 3, "not text: byte 0x7f");
	error_at("a = b\n\nrefuse = x\n", 3, "refused refuse");
	{
		static const char nul[] = "a = b\0c\n";
		struct seen s = { 0 };
		unsigned line;
		char why[256];

		assert_int_equal(parse(nul, sizeof(nul) - 1, &s, &line, why), -1);
		assert_non_null(strstr(why, "byte 0x00"));
	}
}

static void test_read(void **state)
{
	char path[] = "/tmp/test_config.XXXXXX", err[512];
	struct seen s = { 0 };
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "a = 1\nb 2\n", 10), 10);
	close(fd);
	assert_int_equal(config_read(path, collect, &s, err, sizeof(err)), -1);
	assert_true(strncmp(err, path, strlen(path)) == 0);
	assert_non_null(strstr(err, ":2: expected '='"));
	unlink(path);
	assert_int_equal(config_read(path, collect, &s, err, sizeof(err)), -1);
	assert_non_null(strstr(err, path));
	assert_int_equal(config_read("/dev/zero", collect, &s, err, sizeof(err)), -1);
}

static void test_magic(void **state)
{
	static const uint8_t le_us[] = { 0xd4, 0xc3, 0xb2, 0xa1 }, be_us[] = { 0xa1, 0xb2, 0xc3, 0xd4 },
	                     le_ns[] = { 0x4d, 0x3c, 0xb2, 0xa1 }, be_ns[] = { 0xa1, 0xb2, 0x3c, 0x4d },
	                     ng[] = { 0x0a, 0x0d, 0x0d, 0x0a }, text[] = { 'a', 'b', 'c', 'd' };

	(void)state;
	assert_true(inputs_is_capture_magic(le_us, 4));
	assert_true(inputs_is_capture_magic(be_us, 4));
	assert_true(inputs_is_capture_magic(le_ns, 4));
	assert_true(inputs_is_capture_magic(be_ns, 4));
	assert_true(inputs_is_capture_magic(ng, 4));
	assert_false(inputs_is_capture_magic(text, 4));
	for (size_t n = 0; n < 4; n++)
		assert_false(inputs_is_capture_magic(le_us, n));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_minimum),
		cmocka_unit_test(test_truncations),
		cmocka_unit_test(test_line_limit),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_read),
		cmocka_unit_test(test_magic),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
