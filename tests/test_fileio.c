/*
 * test_fileio.c - files read as configuration and files written whole
 * (fileio.h): an atomic write replaces the file and leaves nothing beside
 * it; a write that fails (the fill says so, the disk refuses a byte, the
 * directory is not there) leaves the old file as it was and no
 * temporary; a FIFO, /dev/zero, a directory and standard input (unless
 * allowed) are refused at once, without blocking; the size bound holds;
 * read_all gives the whole file, NUL-terminated; the writability probe
 * leaves nothing behind.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/fileio.h"

static char g_dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(g_dir, sizeof(g_dir), "/tmp/test_fileio.XXXXXX");
	return mkdtemp(g_dir) ? 0 : -1;
}

static int teardown(void **state)
{
	DIR *d = opendir(g_dir);
	struct dirent *e;
	char p[512];

	(void)state;
	while (d && (e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			snprintf(p, sizeof(p), "%s/%s", g_dir, e->d_name);
			if (unlink(p) < 0)
				rmdir(p);
		}
	if (d)
		closedir(d);
	rmdir(g_dir);
	return 0;
}

static void path_of(char *out, size_t len, const char *name)
{
	snprintf(out, len, "%s/%s", g_dir, name);
}

/* Entries of the test directory (without . and ..). */
static int entries(void)
{
	DIR *d = opendir(g_dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static void put_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void assert_file(const char *path, const char *want)
{
	uint8_t *buf;
	size_t len;
	char err[256];

	assert_int_equal(fileio_read_all(path, 0, &buf, &len, err, sizeof(err)), 0);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(buf, want, len);
	free(buf);
}

/* ---- writing ------------------------------------------------------------ */

static int fill_text(FILE *f, void *ctx, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	return fputs(ctx, f) < 0 ? -1 : 0;
}

static int fill_fails(FILE *f, void *ctx, char *err, size_t errlen)
{
	fputs(ctx, f);   /* half a file, then the fill gives up */
	snprintf(err, errlen, "the fill gave up");
	return -1;
}

static int fill_fails_silently(FILE *f, void *ctx, char *err, size_t errlen)
{
	(void)f;
	(void)ctx;
	(void)err;
	(void)errlen;
	return -1;
}

/* More than RLIMIT_FSIZE lets through: the write error is on the stream
 * only (the fill itself says nothing). */
static int fill_big(FILE *f, void *ctx, char *err, size_t errlen)
{
	char block[4096];

	(void)ctx;
	(void)err;
	(void)errlen;
	memset(block, 'x', sizeof(block));
	for (int i = 0; i < 64; i++)
		fwrite(block, 1, sizeof(block), f);
	return 0;
}

static void test_write_replaces(void **state)
{
	char path[256], err[512];
	struct stat st;
	mode_t old = umask(022);

	(void)state;
	path_of(path, sizeof(path), "state");
	put_file(path, "old contents\n");
	assert_int_equal(fileio_write_atomic(path, 0600, fill_text, "new\n", err, sizeof(err)), 0);
	assert_file(path, "new\n");
	assert_int_equal(entries(), 1);   /* no temporary beside it */
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* a new file, from memory; an empty one too */
	path_of(path, sizeof(path), "metrics.prom");
	assert_int_equal(fileio_write_atomic_buf(path, 0644, "a 1\n", 4, err, sizeof(err)), 0);
	assert_file(path, "a 1\n");
	assert_int_equal(fileio_write_atomic_buf(path, 0644, "", 0, err, sizeof(err)), 0);
	assert_file(path, "");
	assert_int_equal(entries(), 2);
	umask(old);
}

static void test_write_failure_keeps_old(void **state)
{
	char path[256], err[512];
	struct rlimit rl, saved;

	(void)state;
	path_of(path, sizeof(path), "state");
	put_file(path, "old contents\n");
	/* the fill fails, with its reason */
	assert_int_equal(fileio_write_atomic(path, 0644, fill_fails, "half", err, sizeof(err)), -1);
	assert_string_equal(err, "the fill gave up");
	assert_file(path, "old contents\n");
	assert_int_equal(entries(), 1);
	/* the fill fails without a reason: one is given, naming the file */
	err[0] = 0;
	assert_int_equal(fileio_write_atomic(path, 0644, fill_fails_silently, NULL, err,
	                                     sizeof(err)), -1);
	assert_non_null(strstr(err, path));
	assert_file(path, "old contents\n");
	assert_int_equal(entries(), 1);
	/* the disk refuses bytes (EFBIG past RLIMIT_FSIZE, as ENOSPC on a
	 * full file system): caught on the stream */
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &saved), 0);
	signal(SIGXFSZ, SIG_IGN);
	rl = saved;
	rl.rlim_cur = 10000;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &rl), 0);
	assert_int_equal(fileio_write_atomic(path, 0644, fill_big, NULL, err, sizeof(err)), -1);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &saved), 0);
	signal(SIGXFSZ, SIG_DFL);
	assert_non_null(strstr(err, "write failed"));
	assert_file(path, "old contents\n");
	assert_int_equal(entries(), 1);
	/* a directory that is not there */
	path_of(path, sizeof(path), "no-such-dir/state");
	assert_int_equal(fileio_write_atomic_buf(path, 0644, "x", 1, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no-such-dir/state"));
	assert_non_null(strstr(err, "No such file or directory"));
	/* a "directory" that is a file */
	path_of(path, sizeof(path), "state/inside");
	assert_int_equal(fileio_write_atomic_buf(path, 0644, "x", 1, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "Not a directory"));
	assert_int_equal(entries(), 1);
}

/* ---- reading ------------------------------------------------------------ */

static void test_open_refuses_what_blocks(void **state)
{
	char path[256], err[512];
	FILE *f;

	(void)state;
	/* a FIFO with no writer: an error at once, not a wait */
	path_of(path, sizeof(path), "fifo");
	assert_int_equal(mkfifo(path, 0600), 0);
	alarm(5);   /* a hang fails the test instead of holding it */
	assert_null(fileio_open_regular(path, 0, 0, err, sizeof(err)));
	assert_non_null(strstr(err, "a FIFO"));
	assert_non_null(strstr(err, path));
	assert_int_equal(fileio_read_all(path, 0, &(uint8_t *){ NULL }, &(size_t){ 0 }, err,
	                                 sizeof(err)), -1);
	alarm(0);
	unlink(path);
	/* a device that never ends */
	assert_null(fileio_open_regular("/dev/zero", 0, 0, err, sizeof(err)));
	assert_non_null(strstr(err, "/dev/zero: a character device"));
	/* a directory */
	assert_null(fileio_open_regular(g_dir, 0, 0, err, sizeof(err)));
	assert_non_null(strstr(err, "a directory"));
	/* missing */
	path_of(path, sizeof(path), "missing");
	assert_null(fileio_open_regular(path, 0, 0, err, sizeof(err)));
	assert_non_null(strstr(err, "No such file or directory"));
	/* standard input only where allowed */
	assert_null(fileio_open_regular("-", 0, 0, err, sizeof(err)));
	assert_non_null(strstr(err, "standard input"));
	f = fileio_open_regular("-", 0, 1, err, sizeof(err));
	assert_ptr_equal(f, stdin);
	/* a regular file: read as it is */
	path_of(path, sizeof(path), "rules");
	put_file(path, "owner x\n");
	f = fileio_open_regular(path, 0, 0, err, sizeof(err));
	assert_non_null(f);
	assert_int_equal(fgetc(f), 'o');
	fclose(f);
}

static void test_size_bound(void **state)
{
	char path[256], err[512];
	uint8_t *buf;
	size_t len;
	FILE *f;

	(void)state;
	path_of(path, sizeof(path), "hundred");
	f = fopen(path, "w");
	assert_non_null(f);
	for (int i = 0; i < 100; i++)
		fputc('a' + i % 26, f);
	fclose(f);
	assert_null(fileio_open_regular(path, 99, 0, err, sizeof(err)));
	assert_non_null(strstr(err, "100 bytes, more than the 99 allowed"));
	f = fileio_open_regular(path, 100, 0, err, sizeof(err));
	assert_non_null(f);
	fclose(f);
	assert_int_equal(fileio_read_all(path, 99, &buf, &len, err, sizeof(err)), -1);
	assert_null(buf);
	assert_int_equal(fileio_read_all(path, 100, &buf, &len, err, sizeof(err)), 0);
	assert_int_equal(len, 100);
	free(buf);
}

static void test_read_all(void **state)
{
	char path[256], err[512];
	uint8_t *buf;
	size_t len, big = 300000;   /* past the first buffers: the growth */
	FILE *f;

	(void)state;
	path_of(path, sizeof(path), "empty");
	put_file(path, "");
	assert_int_equal(fileio_read_all(path, 0, &buf, &len, err, sizeof(err)), 0);
	assert_non_null(buf);
	assert_int_equal(len, 0);
	assert_int_equal(buf[0], 0);
	free(buf);
	path_of(path, sizeof(path), "big");
	f = fopen(path, "w");
	assert_non_null(f);
	for (size_t i = 0; i < big; i++)
		fputc((int)(i * 7 % 251), f);   /* NUL bytes included */
	fclose(f);
	assert_int_equal(fileio_read_all(path, 0, &buf, &len, err, sizeof(err)), 0);
	assert_int_equal(len, big);
	for (size_t i = 0; i < big; i++)
		if (buf[i] != (uint8_t)(i * 7 % 251))
			fail_msg("byte %zu differs", i);
	assert_int_equal(buf[len], 0);   /* NUL-terminated for text readers */
	free(buf);
}

static void test_writable_dir(void **state)
{
	char path[256], err[512];

	(void)state;
	assert_int_equal(fileio_check_writable_dir(g_dir, err, sizeof(err)), 0);
	path_of(path, sizeof(path), "state-to-be");
	assert_int_equal(fileio_check_writable_dir(path, err, sizeof(err)), 0);
	assert_int_equal(entries(), 0);   /* the probe is gone */
	path_of(path, sizeof(path), "no-such-dir/state");
	assert_int_equal(fileio_check_writable_dir(path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no-such-dir"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_write_replaces, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_failure_keeps_old, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_refuses_what_blocks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_size_bound, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_all, setup, teardown),
		cmocka_unit_test_setup_teardown(test_writable_dir, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
