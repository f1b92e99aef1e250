/*
 * replay.c - run a libFuzzer harness without libFuzzer: each input named on
 * the command line (a directory stands for every regular file in it, in
 * name order) goes through LLVMFuzzerTestOneInput once.  Built with the
 * ordinary compiler by "make test" (build/replay/fuzz_NAME), so that every
 * crash a fuzzer ever found stays a regression test.  A crash kills the
 * process: that is the failure signal.  Prints "ok replay NAME FILE" per
 * input, "not ok replay NAME FILE: reason" for an unreadable one.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Optional in a harness. */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static const char *prog = "fuzz";

/* The whole file in an exactly sized allocation, as libFuzzer passes it
 * (so a read past the end is one byte past a heap block). */
static int read_all(const char *path, uint8_t **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL, *nb;
	size_t cap = 0, n = 0, got;

	if (!f)
		return -1;
	for (;;) {
		if (n == cap) {
			cap = cap ? 2 * cap : 65536;
			nb = realloc(buf, cap);
			if (!nb)
				goto fail;
			buf = nb;
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(f))
		goto fail;
	fclose(f);
	nb = malloc(n ? n : 1);
	if (!nb) {
		free(buf);
		return -1;
	}
	if (n)
		memcpy(nb, buf, n);
	free(buf);
	*out = nb;
	*len = n;
	return 0;
fail:
	free(buf);
	fclose(f);
	return -1;
}

static int run_file(const char *path)
{
	uint8_t *data;
	size_t len;

	if (read_all(path, &data, &len) < 0) {
		printf("not ok replay %s %s: %s\n", prog, path, strerror(errno));
		return 1;
	}
	LLVMFuzzerTestOneInput(data, len);
	free(data);
	printf("ok replay %s %s\n", prog, path);
	fflush(stdout);
	return 0;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL, **nn;
	size_t n = 0;
	int rc = 0;

	if (!d) {
		printf("not ok replay %s %s: %s\n", prog, dir, strerror(errno));
		return 1;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		nn = realloc(names, (n + 1) * sizeof *names);
		if (!nn || !(nn[n] = strdup(e->d_name))) {
			names = nn ? nn : names;
			rc = 1;
			break;
		}
		names = nn;
		n++;
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof *names, cmp_name);
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(dir) + strlen(names[i]) + 2;
		char *path = malloc(len);
		struct stat st;

		if (path) {
			snprintf(path, len, "%s/%s", dir, names[i]);
			if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
				rc |= run_file(path);
		} else {
			rc = 1;
		}
		free(path);
		free(names[i]);
	}
	free(names);
	return rc;
}

int main(int argc, char **argv)
{
	struct stat st;
	int rc = 0;

	if (argc > 0 && argv[0]) {
		const char *slash = strrchr(argv[0], '/');

		prog = slash ? slash + 1 : argv[0];
	}
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc; i++) {
		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
			rc |= run_dir(argv[i]);
		else
			rc |= run_file(argv[i]);
	}
	return rc;
}
