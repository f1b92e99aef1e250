/*
 * fileio.h - files certsentry reads as configuration (rules, CA files,
 * key logs, baselines, state) and files it writes whole (state, metrics,
 * evidence, baselines), with the two rules every such file follows:
 *
 *  - Reading never hangs: only a regular file is opened (a FIFO, socket or
 *    device gets a clear error instead of blocking for a writer or
 *    streaming forever), opened O_NONBLOCK so that even a FIFO swapped in
 *    between the check and the open cannot block, and read with a size
 *    bound.
 *  - Writing is atomic and durable: a temporary file beside the target is
 *    written, flushed to disk (fsync), renamed over the target, and the
 *    directory is flushed too, so a power cut leaves the old file or the
 *    new one, never a mix or an empty file.  The temporary is removed on
 *    every failure.
 *
 * Must not: know what the files hold.
 */
#ifndef CS_FILEIO_H
#define CS_FILEIO_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Open path for reading (binary).  path must name a regular file (after
 * symlinks); "-" is standard input only when allow_stdin.  A file larger
 * than max_bytes (0: no bound) is refused.  NULL with err set to
 * "PATH: reason" otherwise.  The caller owns the FILE and fcloses it. */
FILE *fileio_open_regular(const char *path, uint64_t max_bytes, int allow_stdin, char *err,
                          size_t errlen);

/* Read a whole regular file into memory (NUL-terminated for text
 * readers; *len does not count the NUL).  Same checks as
 * fileio_open_regular.  0 with *out owned by the caller (free), or -1
 * with err set. */
int fileio_read_all(const char *path, uint64_t max_bytes, uint8_t **out, size_t *len,
                    char *err, size_t errlen);

/* Fill a file through a FILE* and put it in place atomically and
 * durably.  fill returns 0 on success or -1 (it may set err); a write
 * error on the stream is caught too.  mode: the new file's permissions
 * (e.g. 0644; the umask applies).  0, or -1 with err "PATH: reason" and
 * no temporary left behind. */
typedef int (*fileio_fill_fn)(FILE *f, void *ctx, char *err, size_t errlen);
int fileio_write_atomic(const char *path, unsigned mode, fileio_fill_fn fill, void *ctx,
                        char *err, size_t errlen);

/* The same for bytes already in memory. */
int fileio_write_atomic_buf(const char *path, unsigned mode, const void *data, size_t len,
                            char *err, size_t errlen);

/* Can the process write a file in path's directory (create, then
 * rename over path)?  path may name the directory itself (an existing
 * directory is taken as such).  Checked with a real create and unlink of a probe
 * file, since access(2) answers for the real, not the effective, user.
 * 0, or -1 with err "PATH: reason". */
int fileio_check_writable_dir(const char *path, char *err, size_t errlen);

#endif
