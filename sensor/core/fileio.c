/*
 * fileio.c - regular files read with bounds, files written atomically and
 * durably (see include/core/fileio.h).
 *
 * Owns: nothing beyond a call; every FILE and buffer it returns belongs
 * to the caller.
 * Must not: know what the files hold, print (errors go back in err).
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fileio.h"

#define FILEIO_PATH_MAX 4096

static const char *kind_of(mode_t m)
{
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISSOCK(m))
		return "a socket";
	if (S_ISCHR(m))
		return "a character device";
	if (S_ISBLK(m))
		return "a block device";
	if (S_ISDIR(m))
		return "a directory";
	return "not a regular file";
}

FILE *fileio_open_regular(const char *path, uint64_t max_bytes, int allow_stdin, char *err,
                          size_t errlen)
{
	struct stat st;
	FILE *f;
	int fd, fl;

	if (strcmp(path, "-") == 0) {
		if (allow_stdin)
			return stdin;
		snprintf(err, errlen, "-: standard input is not accepted here");
		return NULL;
	}
	/* O_NONBLOCK: a FIFO put in the file's place between a stat and
	 * the open must not hold us until a writer comes. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	if (S_ISDIR(st.st_mode)) {
		/* Not a hang, only the wrong kind of path: no "could block". */
		snprintf(err, errlen, "%s: a directory, not a regular file", path);
		close(fd);
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: %s, not a regular file (refused: it could block or "
		         "never end)", path, kind_of(st.st_mode));
		close(fd);
		return NULL;
	}
	if (max_bytes && (uint64_t)st.st_size > max_bytes) {
		snprintf(err, errlen, "%s: %lld bytes, more than the %llu allowed", path,
		         (long long)st.st_size, (unsigned long long)max_bytes);
		close(fd);
		return NULL;
	}
	/* Back to blocking reads: a regular file never blocks anyway, and
	 * stdio treats EAGAIN as an error. */
	fl = fcntl(fd, F_GETFL);
	if (fl >= 0)
		(void)fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	f = fdopen(fd, "rb");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
	}
	return f;
}

int fileio_read_all(const char *path, uint64_t max_bytes, uint8_t **out, size_t *len,
                    char *err, size_t errlen)
{
	FILE *f = fileio_open_regular(path, max_bytes, 0, err, errlen);
	uint8_t *buf = NULL, *nb;
	size_t n = 0, cap = 0, got;

	*out = NULL;
	*len = 0;
	if (!f)
		return -1;
	/* Read to the end rather than trusting st_size: a file may grow
	 * between the stat and the read; the bound still holds. */
	for (;;) {
		if (cap - n < 4097) {
			size_t ncap = cap ? cap * 2 : 65536;

			nb = realloc(buf, ncap);   /* owned here; handed to *out */
			if (!nb) {
				snprintf(err, errlen, "%s: out of memory", path);
				goto err;
			}
			buf = nb;
			cap = ncap;
		}
		got = fread(buf + n, 1, cap - n - 1, f);
		n += got;
		if (max_bytes && n > max_bytes) {
			snprintf(err, errlen, "%s: more than the %llu bytes allowed", path,
			         (unsigned long long)max_bytes);
			goto err;
		}
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: read error: %s", path, strerror(errno));
		goto err;
	}
	fclose(f);
	buf[n] = 0;
	*out = buf;
	*len = n;
	return 0;
err:
	fclose(f);
	free(buf);
	return -1;
}

/* The directory of path, for fsync after a rename.  dir must hold
 * FILEIO_PATH_MAX bytes. */
static int dir_of(const char *path, char *dir)
{
	char copy[FILEIO_PATH_MAX];

	if (strlen(path) >= sizeof(copy))
		return -1;
	strcpy(copy, path);
	snprintf(dir, FILEIO_PATH_MAX, "%s", dirname(copy));
	return 0;
}

/* A rename is durable only once its directory is on disk. */
static int sync_dir(const char *path)
{
	char dir[FILEIO_PATH_MAX];
	int fd, rc;

	if (dir_of(path, dir) < 0)
		return -1;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	rc = fsync(fd);
	/* Some file systems (tmpfs, some FUSE) refuse fsync on a
	 * directory: nothing more can be done there. */
	if (rc < 0 && (errno == EINVAL || errno == EROFS))
		rc = 0;
	close(fd);
	return rc;
}

int fileio_write_atomic(const char *path, unsigned mode, fileio_fill_fn fill, void *ctx,
                        char *err, size_t errlen)
{
	char tmp[FILEIO_PATH_MAX];
	FILE *f;
	int fd, saved;

	/* The pid keeps two processes writing the same state apart. */
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >=
	    sizeof(tmp)) {
		snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, (mode_t)mode);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		return -1;
	}
	f = fdopen(fd, "wb");
	if (!f) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	err[0] = 0;
	if (fill(f, ctx, err, errlen) < 0) {
		if (!err[0])
			snprintf(err, errlen, "%s: write failed", tmp);
		goto fail;
	}
	if (fflush(f) != 0 || ferror(f)) {
		snprintf(err, errlen, "%s: write failed: %s", tmp, strerror(errno));
		goto fail;
	}
	if (fsync(fileno(f)) != 0) {
		snprintf(err, errlen, "%s: fsync: %s", tmp, strerror(errno));
		goto fail;
	}
	if (fclose(f) != 0) {
		f = NULL;
		snprintf(err, errlen, "%s: write failed: %s", tmp, strerror(errno));
		goto fail;
	}
	f = NULL;
	if (rename(tmp, path) < 0) {
		snprintf(err, errlen, "%s: rename: %s", path, strerror(errno));
		goto fail;
	}
	if (sync_dir(path) < 0) {
		/* The file is in place; only its durability is in doubt. */
		snprintf(err, errlen, "%s: fsync of its directory: %s", path, strerror(errno));
		return -1;
	}
	return 0;
fail:
	saved = errno;
	if (f)
		fclose(f);
	unlink(tmp);
	errno = saved;
	return -1;
}

struct membuf {
	const void *data;
	size_t len;
};

static int fill_buf(FILE *f, void *ctx, char *err, size_t errlen)
{
	const struct membuf *m = ctx;

	(void)err;
	(void)errlen;
	return m->len && fwrite(m->data, 1, m->len, f) != m->len ? -1 : 0;
}

int fileio_write_atomic_buf(const char *path, unsigned mode, const void *data, size_t len,
                            char *err, size_t errlen)
{
	struct membuf m = { data, len };

	return fileio_write_atomic(path, mode, fill_buf, &m, err, errlen);
}

int fileio_check_writable_dir(const char *path, char *err, size_t errlen)
{
	char dir[FILEIO_PATH_MAX], probe[FILEIO_PATH_MAX + 64];
	struct stat st;
	int fd;

	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		if (strlen(path) >= sizeof(dir)) {
			snprintf(err, errlen, "%s: path too long", path);
			return -1;
		}
		strcpy(dir, path);
	} else if (dir_of(path, dir) < 0) {
		snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	snprintf(probe, sizeof(probe), "%s/.certsentry-probe.%ld", dir, (long)getpid());
	fd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "%s: cannot write in %s: %s", path, dir, strerror(errno));
		return -1;
	}
	close(fd);
	unlink(probe);
	return 0;
}
