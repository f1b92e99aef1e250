/*
 * inputs.c - the captures of a file run, checked and listed before the
 * first packet is read (see include/run/inputs.h).
 *
 * A directory's capture files: names ending .pcap, .pcapng or .cap, and
 * any other regular file whose first four bytes are a capture magic
 * (tcpdump -w names files as it likes; a rotated file has a suffix);
 * hidden files and subdirectories are skipped.  Name order (strcmp): the
 * order tcpdump -G and -C rotation names sort in.
 *
 * Owns: the names it makes, through the options' pool.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "core/buf.h"
#include "run/inputs.h"

#define MAGIC_PCAP_US   0xa1b2c3d4u   /* libpcap, microseconds */
#define MAGIC_PCAP_NS   0xa1b23c4du   /* libpcap, nanoseconds */
#define MAGIC_PCAPNG    0x0a0d0d0au   /* pcapng Section Header Block type */

int inputs_is_capture_magic(const uint8_t *p, size_t len)
{
	struct buf b;
	uint32_t le, be;

	buf_init(&b, p, len);
	if (buf_le32(&b, &le) < 0)
		return 0;
	buf_init(&b, p, len);
	if (buf_be32(&b, &be) < 0)
		return 0;
	return le == MAGIC_PCAP_US || le == MAGIC_PCAP_NS || be == MAGIC_PCAP_US ||
	       be == MAGIC_PCAP_NS || le == MAGIC_PCAPNG;
}

static int has_suffix(const char *name, const char *suf)
{
	size_t n = strlen(name), s = strlen(suf);

	return n > s && strcmp(name + n - s, suf) == 0;
}

/* A directory entry worth reading: 1 yes, 0 no. */
static int is_capture_file(const char *path, const char *name)
{
	uint8_t magic[4];
	struct stat st;
	ssize_t got;
	int fd;

	if (name[0] == '.' || stat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return 0;
	if (has_suffix(name, ".pcap") || has_suffix(name, ".pcapng") || has_suffix(name, ".cap"))
		return 1;
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return 0;
	got = read(fd, magic, sizeof(magic));
	close(fd);
	return got == (ssize_t)sizeof(magic) && inputs_is_capture_magic(magic, sizeof(magic));
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static char *join(const char *dir, const char *name)
{
	size_t n = strlen(dir);
	char *p = malloc(n + strlen(name) + 2);   /* the caller's */

	if (p)
		sprintf(p, "%s%s%s", dir, n && dir[n - 1] == '/' ? "" : "/", name);
	return p;
}

/* The capture files of dir, sorted, into names[] (each malloc'd, the
 * caller's).  The count, or -1 said. */
static long list_dir(const char *dir, char ***names)
{
	DIR *d = opendir(dir);
	const struct dirent *e;
	size_t n = 0, cap = 0, seen = 0;
	char **v = NULL;

	*names = NULL;
	if (!d) {
		fprintf(stderr, "certsentry: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	while ((e = readdir(d))) {
		char *path;

		if (++seen > INPUTS_MAX_DIR_ENTRIES) {
			fprintf(stderr, "certsentry: %s: more than %u entries "
			        "(INPUTS_MAX_DIR_ENTRIES): name its files instead\n", dir,
			        INPUTS_MAX_DIR_ENTRIES);
			goto err;
		}
		if (!(path = join(dir, e->d_name)))
			goto nomem;
		if (!is_capture_file(path, e->d_name)) {
			free(path);
			continue;
		}
		if (n == cap) {
			char **nv = realloc(v, (cap = cap ? 2 * cap : 16) * sizeof(*nv));

			if (!nv) {
				free(path);
				goto nomem;
			}
			v = nv;
		}
		v[n++] = path;
	}
	closedir(d);
	if (n > 1)   /* v is NULL for an empty directory: qsort's argument must not be */
		qsort(v, n, sizeof(*v), cmp_name);
	*names = v;
	return (long)n;
nomem:
	fprintf(stderr, "certsentry: %s: out of memory\n", dir);
err:
	closedir(d);
	while (n)
		free(v[--n]);
	free(v);
	return -1;
}

/* One named input: readable now (a FIFO or a device is only looked up:
 * opening it could block or consume it).  0, or -1 said. */
static int check_file(const char *path, const struct stat *st)
{
	int fd;

	if (!S_ISREG(st->st_mode))
		return 0;
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "certsentry: %s: %s\n", path, strerror(errno));
		return -1;
	}
	close(fd);
	return 0;
}

/* A directory's files into out[] at *n.  0, or -1 said. */
static int add_dir(struct options *o, const char *dir, const char **out, size_t *n)
{
	char **names;
	long k = list_dir(dir, &names);
	int rc = 0;

	if (k < 0)
		return -1;
	if (k == 0) {
		fprintf(stderr, "certsentry: %s: no capture file in the directory (.pcap, "
		        ".pcapng, .cap, or a pcap or pcapng magic)\n", dir);
		rc = -1;
	}
	for (long i = 0; i < k; i++) {
		if (rc == 0 && *n >= MAX_INPUTS) {
			fprintf(stderr, "certsentry: %s: more than %d inputs in all (MAX_INPUTS)\n",
			        dir, MAX_INPUTS);
			rc = -1;
		}
		if (rc < 0) {
			free(names[i]);
			continue;
		}
		out[(*n)++] = names[i];
		if (options_keep(o, names[i]) < 0) {   /* the pool owns it now */
			fprintf(stderr, "certsentry: out of memory\n");
			rc = -1;
		}
	}
	free(names);
	return rc;
}

int inputs_prepare(struct options *o)
{
	static const char *out[MAX_INPUTS];   /* the new list, copied back */
	size_t n = 0;
	int rc = 0;

	for (size_t i = 0; i < o->n_inputs; i++) {
		const char *p = o->inputs[i];
		struct stat st;

		if (strcmp(p, "-") == 0) {
			out[n++] = p;
			continue;
		}
		if (stat(p, &st) < 0) {
			fprintf(stderr, "certsentry: %s: %s\n", p, strerror(errno));
			rc = -1;
		} else if (S_ISDIR(st.st_mode)) {
			if (add_dir(o, p, out, &n) < 0)
				rc = -1;
		} else if (check_file(p, &st) < 0) {
			rc = -1;
		} else if (n < MAX_INPUTS) {
			out[n++] = p;
		}
	}
	if (rc == 0) {
		memcpy(o->inputs, out, n * sizeof(out[0]));
		o->n_inputs = n;
	}
	return rc;
}
