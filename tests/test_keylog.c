/*
 * test_keylog.c - unit tests for the NSS key log reader (sensor/secrets/keylog.c):
 * the line grammar, what is ignored and what is malformed, the same
 * random given twice, a log that grows while it is read (a half-written
 * last line), a log replaced by a shorter one, and a table that grows
 * past its first sizes without losing an entry.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "secrets/keylog.h"

#define SHTS "SERVER_HANDSHAKE_TRAFFIC_SECRET"

/* random i: i big-endian in its first 4 bytes, then a fixed pattern
 * (randoms that share 28 bytes: only the hash tells them apart). */
static void mk_random(unsigned i, uint8_t r[32])
{
	for (size_t k = 0; k < 32; k++)
		r[k] = (uint8_t)(k * 37);
	r[0] = (uint8_t)(i >> 24);
	r[1] = (uint8_t)(i >> 16);
	r[2] = (uint8_t)(i >> 8);
	r[3] = (uint8_t)i;
}

static void hex(const uint8_t *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
}

/* "SHTS <random i> <secret of len bytes, each b>" */
static void line(char *out, size_t cap, unsigned i, uint8_t b, size_t len)
{
	uint8_t r[32], s[48];
	char rh[65], sh[97];

	mk_random(i, r);
	memset(s, b, len);
	hex(r, 32, rh);
	hex(s, len, sh);
	snprintf(out, cap, SHTS " %s %s\n", rh, sh);
}

static void assert_found(struct keylog *kl, unsigned i, uint8_t b, size_t len)
{
	uint8_t r[32], s[48], want[48];
	size_t n = 0;

	mk_random(i, r);
	memset(want, b, len);
	assert_int_equal(keylog_find(kl, r, s, &n), 1);
	assert_int_equal(n, len);
	assert_memory_equal(s, want, len);
}

static void assert_missing(struct keylog *kl, unsigned i)
{
	uint8_t r[32], s[48];
	size_t n = 0;

	mk_random(i, r);
	assert_int_equal(keylog_find(kl, r, s, &n), 0);
}

static void test_grammar(void **state)
{
	struct keylog *kl = keylog_new();
	struct keylog_counts c;
	char text[4096], l1[256], l2[256];
	size_t n;

	(void)state;
	line(l1, sizeof l1, 1, 0x11, 32);
	line(l2, sizeof l2, 2, 0x22, 48);
	l2[strlen(l2) - 1] = '\0';   /* the last line without its newline */
	n = (size_t)snprintf(text, sizeof text,
	    "# comment\n"
	    "\n"
	    "   \t \r\n"
	    "CLIENT_RANDOM 0011 2233\n"                       /* TLS 1.2: ignored */
	    "CLIENT_TRAFFIC_SECRET_0 %064d %064d\n"           /* another label */
	    SHTS " 00\n"                                      /* two fields: malformed */
	    SHTS " %062d %064d\n"                             /* short random */
	    SHTS " %064d %062d\n"                             /* 31-byte secret */
	    SHTS " %064d %064dzz\n"                           /* not hex */
	    SHTS " %064d %064d extra\n"                       /* four fields */
	    "%s"
	    "%s",
	    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, l1, l2);
	assert_int_equal(keylog_add_text(kl, (const uint8_t *)text, n), 2);
	assert_found(kl, 1, 0x11, 32);
	assert_found(kl, 2, 0x22, 48);
	assert_missing(kl, 3);
	keylog_counts(kl, &c);
	assert_int_equal(c.lines, 12);
	assert_int_equal(c.entries, 2);
	assert_int_equal(c.malformed, 5);
	assert_int_equal(c.lookups, 3);
	assert_int_equal(c.hits, 2);
	/* CRLF line endings; the same random again: the later secret wins. */
	line(l1, sizeof l1, 1, 0x33, 32);
	strcpy(l1 + strlen(l1) - 1, "\r\n");
	assert_int_equal(keylog_add_text(kl, (const uint8_t *)l1, strlen(l1)), 0);
	assert_found(kl, 1, 0x33, 32);
	keylog_counts(kl, &c);
	assert_int_equal(c.replaced, 1);
	keylog_free(kl);
}

/* A line longer than KEYLOG_MAX_LINE is one malformed line, wherever the
 * reads cut it; the next line is read. */
static void test_overlong_line(void **state)
{
	struct keylog *kl = keylog_new();
	struct keylog_counts c;
	size_t big = 3 * KEYLOG_MAX_LINE;
	char *text = malloc(big + 256);
	size_t n;

	(void)state;
	memset(text, 'A', big);
	text[big] = '\n';
	line(text + big + 1, 256, 7, 0x77, 32);
	n = strlen(text);
	assert_int_equal(keylog_add_text(kl, (const uint8_t *)text, n), 1);
	assert_found(kl, 7, 0x77, 32);
	keylog_counts(kl, &c);
	assert_int_equal(c.malformed, 1);
	assert_int_equal(c.lines, 2);
	free(text);
	keylog_free(kl);
}

/* A file that grows: a half-written line waits for its end; a file that
 * is replaced by a shorter one is read from its start. */
static void test_growing_file(void **state)
{
	char path[] = "/tmp/test_keylog.XXXXXX", l[256], err[256];
	struct keylog *kl = keylog_new();
	int fd = mkstemp(path);
	FILE *f;

	(void)state;
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	line(l, sizeof l, 1, 0x11, 32);
	fputs(l, f);
	line(l, sizeof l, 2, 0x22, 32);
	fwrite(l, 1, 40, f);          /* half of line 2 */
	fflush(f);
	assert_int_equal(keylog_add_file(kl, path, 0, err, sizeof err), 0);
	assert_found(kl, 1, 0x11, 32);
	assert_missing(kl, 2);
	assert_int_equal(keylog_refresh(kl), 0);
	fputs(l + 40, f);             /* the rest of line 2 */
	line(l, sizeof l, 3, 0x33, 48);
	fputs(l, f);
	fflush(f);
	assert_int_equal(keylog_refresh(kl), 2);
	assert_found(kl, 2, 0x22, 32);
	assert_found(kl, 3, 0x33, 48);
	assert_int_equal(keylog_refresh(kl), 0);
	/* Rotated: a new, shorter file under the same name. */
	fclose(f);
	f = fopen(path, "w");
	line(l, sizeof l, 4, 0x44, 32);
	fputs(l, f);
	fclose(f);
	assert_int_equal(keylog_refresh(kl), 1);
	assert_found(kl, 4, 0x44, 32);
	assert_found(kl, 1, 0x11, 32);   /* what was read stays */
	/* final: a last line without its newline is taken at once. */
	f = fopen(path, "a");
	line(l, sizeof l, 5, 0x55, 32);
	l[strlen(l) - 1] = '\0';
	fputs(l, f);
	fclose(f);
	keylog_free(kl);
	kl = keylog_new();
	assert_int_equal(keylog_add_file(kl, path, 1, err, sizeof err), 0);
	assert_found(kl, 5, 0x55, 32);
	assert_int_equal(keylog_files(kl), 1);
	unlink(path);
	assert_int_equal(keylog_add_file(kl, path, 1, err, sizeof err), -1);
	assert_non_null(strstr(err, "No such file"));
	keylog_free(kl);
}

/* Not a regular file: refused at once, with what it is (a device would
 * stream forever, a FIFO block). */
static void test_not_regular(void **state)
{
	char dir[] = "/tmp/test_keylog.XXXXXX", fifo[64], err[256];
	struct keylog *kl = keylog_new();

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(keylog_add_file(kl, "/dev/zero", 1, err, sizeof err), -1);
	assert_non_null(strstr(err, "/dev/zero: a character device"));
	snprintf(fifo, sizeof fifo, "%s/fifo", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(keylog_add_file(kl, fifo, 0, err, sizeof err), -1);
	assert_non_null(strstr(err, "a FIFO"));
	assert_int_equal(keylog_add_file(kl, dir, 0, err, sizeof err), -1);
	assert_non_null(strstr(err, "a directory"));
	assert_int_equal(keylog_files(kl), 0);
	assert_true(keylog_empty(kl));
	unlink(fifo);
	rmdir(dir);
	keylog_free(kl);
}

/* Damage in the middle of a file: the lines around it count, and the
 * report names how many lines were malformed and the first one. */
static void test_damaged_file_report(void **state)
{
	char path[] = "/tmp/test_keylog.XXXXXX", l[256], err[256], *rep = NULL;
	struct keylog *kl = keylog_new();
	struct keylog_counts c;
	int fd = mkstemp(path);
	size_t replen = 0;
	FILE *f, *out;

	(void)state;
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	line(l, sizeof l, 1, 0x11, 32);
	fputs(l, f);                                   /* line 1 */
	fputs("# comment\n", f);                       /* line 2 */
	fwrite("\0\1\2garbage\0\n", 1, 13, f);          /* line 3: malformed */
	for (int i = 0; i < 3000; i++)                 /* line 4: overlong */
		fputc('x', f);
	fputc('\n', f);
	line(l, sizeof l, 2, 0x22, 48);
	fputs(l, f);                                   /* line 5 */
	fputs(SHTS " 00 11\n", f);                     /* line 6: malformed */
	fclose(f);
	assert_int_equal(keylog_add_file(kl, path, 1, err, sizeof err), 0);
	assert_found(kl, 1, 0x11, 32);
	assert_found(kl, 2, 0x22, 48);
	keylog_counts(kl, &c);
	assert_int_equal(c.malformed, 3);
	assert_int_equal(c.over_limit, 0);
	out = open_memstream(&rep, &replen);
	keylog_report(kl, out);
	fclose(out);
	assert_non_null(strstr(rep, ": 3 malformed lines, first at line 3\n"));
	assert_non_null(strstr(rep, path));
	free(rep);
	/* A clean log says nothing. */
	keylog_free(kl);
	kl = keylog_new();
	f = fopen(path, "w");
	fputs(l, f);
	fclose(f);
	assert_int_equal(keylog_add_file(kl, path, 1, err, sizeof err), 0);
	rep = NULL;
	out = open_memstream(&rep, &replen);
	keylog_report(kl, out);
	fclose(out);
	assert_int_equal(replen, 0);
	free(rep);
	unlink(path);
	keylog_free(kl);
}

/* 100,000 entries: every one found after the table grew many times. */
static void test_many_entries(void **state)
{
	struct keylog *kl = keylog_new();
	const unsigned n = 100000;
	char *text = malloc((size_t)n * 200), *p = text;
	struct keylog_counts c;

	(void)state;
	for (unsigned i = 0; i < n; i++) {
		line(p, 200, i, (uint8_t)i, 32);
		p += strlen(p);
	}
	assert_int_equal(keylog_add_text(kl, (const uint8_t *)text, (size_t)(p - text)), n);
	for (unsigned i = 0; i < n; i += 997)
		assert_found(kl, i, (uint8_t)i, 32);
	assert_missing(kl, n + 5);
	keylog_counts(kl, &c);
	assert_int_equal(c.entries, n);
	assert_int_equal(c.replaced, 0);
	free(text);
	keylog_free(kl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grammar),
		cmocka_unit_test(test_overlong_line),
		cmocka_unit_test(test_growing_file),
		cmocka_unit_test(test_many_entries),
		cmocka_unit_test(test_not_regular),
		cmocka_unit_test(test_damaged_file_report),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
