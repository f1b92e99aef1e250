/*
 * sink_file.c - the file and stdout sinks (--output-type file, the
 * default; stdout): one EVE object a line, appended.
 *
 * A write blocks as any write does (the kernel buffers); a failed write
 * (full disk, I/O error, EPIPE) is tried once more, then is that line's
 * write error (output_err, exit status 2), and any part of the line
 * already written to a file is cut off again, so the file stays one
 * object a line.  The consumer is never "away", so nothing of these is
 * ever queued (no sink_link).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "sink_int.h"
#include "core/stats.h"

static int file_open(struct output *o, const char *arg)
{
	o->fd = open(arg, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
	return o->fd >= 0 ? 0 : -1;
}

/* One line to o->fd; on a file (not standard output, which may be a
 * file someone else appends to) a part written is cut off again. */
static int fd_write(struct output *o, const char *line, size_t len, size_t *off, int cut)
{
	if (sink_fd_send(o->fd, line, len, off, 0) == 0)
		return OUTPUT_SINK_OK;
	g_stats.output_retries++;
	if (sink_fd_send(o->fd, line, len, off, 0) == 0)
		return OUTPUT_SINK_OK;
	/* Cut the part written, so the next line does not continue it. */
	if (*off > 0 && cut) {
		off_t end = lseek(o->fd, 0, SEEK_CUR);

		if (end >= (off_t)*off && ftruncate(o->fd, end - (off_t)*off) == 0)
			*off = 0;
	}
	return OUTPUT_SINK_ERR;
}

static int file_write(struct output *o, const char *line, size_t len, size_t *off,
                      int is_alert)
{
	(void)is_alert;
	return fd_write(o, line, len, off, 1);
}

/* logrotate: the old file was renamed; start a new one at the path. */
static int file_reopen(struct output *o)
{
	int fd = open(o->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);

	if (fd < 0)
		return -1;
	close(o->fd);
	o->fd = fd;
	return 0;
}

static void file_close(struct output *o)
{
	if (o->fd >= 0)
		close(o->fd);
	o->fd = -1;
}

static int stdout_open(struct output *o, const char *arg)
{
	(void)arg;
	/* Closed at start: fd 1 now holds /dev/null (main.c), which would
	 * swallow every line.  -1 makes each write fail, so that each is
	 * counted as undelivered and alerts reach stderr. */
	o->fd = o->stdout_closed ? -1 : STDOUT_FILENO;
	if (o->stdout_closed)
		snprintf(o->last_error, sizeof(o->last_error), "standard output was closed at start");
	return 0;
}

static int stdout_write(struct output *o, const char *line, size_t len, size_t *off,
                        int is_alert)
{
	(void)is_alert;
	fflush(stdout);   /* whatever stdio still holds goes first */
	return fd_write(o, line, len, off, 0);
}

static int stdout_reopen(struct output *o)
{
	(void)o;
	return 0;
}

static void stdout_close(struct output *o)
{
	fflush(stdout);
	o->fd = -1;
}

const struct output_sink sink_file = {
	.name = "file", .alias = "regular", .no_path_sink = "stdout", .rotates = 1,
	.open = file_open, .write = file_write, .reopen = file_reopen, .close = file_close,
};

/* Named in --help through "file" without -o. */
const struct output_sink sink_stdout = {
	.name = "stdout", .unlisted = 1, .no_target = 1,
	.open = stdout_open, .write = stdout_write, .reopen = stdout_reopen,
	.close = stdout_close,
};
