/*
 * sink.c - where EVE lines go (see include/output.h): the sinks (file,
 * stdout, syslog, Unix sockets; Redis in out_redis.c), the queue that holds
 * lines a consumer cannot take yet, and opening and closing an output.
 * It must not know what a line says: the EVE builders are output.c.
 *
 * Slow or absent consumers.  The sensor never stops reading packets to
 * wait for a socket or Redis consumer, and never loses an alert without
 * saying so:
 *
 *  - file, stdout: a write blocks as any write does (the kernel buffers);
 *    a failed write (full disk, I/O error) is tried once more, then counted
 *    in output_err (exit status 2) and any part of the line already written
 *    is cut off again, so the file stays one object a line.
 *  - syslog: one syslog(3) message a line; the syslog daemon owns delivery.
 *  - unix_dgram, unix_stream: sends never block (MSG_DONTWAIT; MSG_NOSIGNAL,
 *    so a consumer that dies cannot kill the sensor with SIGPIPE).  A line
 *    the socket cannot take - the consumer is gone (ECONNREFUSED, ENOENT,
 *    EPIPE, ...) or busy (EAGAIN, ENOBUFS: a full datagram queue or stream
 *    buffer) - waits in the queue below.  A gone consumer is reconnected at
 *    most once per OUTPUT_RECONNECT_MS (1 s), tried when the next line is
 *    written or output_flush is called.  A line a datagram socket can never
 *    carry (EMSGSIZE) is a write error.
 *  - redis (out_redis.c): one command a line (LPUSH, RPUSH, PUBLISH or
 *    XADD) with short connect and command timeouts.  A server that is
 *    away, refuses us (AUTH) or cannot take writes now (LOADING, OOM, ...)
 *    is away: lines wait in the queue and it is tried again with a back-off
 *    from OUTPUT_RECONNECT_MS doubling to OUTPUT_REDIS_BACKOFF_MAX_MS; in
 *    between, a write costs nothing.  The queue goes out pipelined
 *    (sink_link.write_batch).  An error reply about one line (WRONGTYPE)
 *    is a write error.
 *
 * The queue, for the sinks with a sink_link: at most OUTPUT_QUEUE_MAX_LINES
 * (1024) lines and OUTPUT_QUEUE_MAX_BYTES (4 MiB); once a line waits, every
 * later line queues behind it, so lines always arrive whole and in order,
 * and the queue is written first when the consumer is back.  When the
 * queue is full, a new non-alert line is dropped (output_dropped); a new
 * alert takes the place of the oldest queued non-alert (which is dropped
 * and counted); when the queue holds only alerts, the new alert is written
 * to standard error, prefixed "certsentry: undelivered alert (queue full): ",
 * and counted in output_alerts_stderr - never blocked on, never silently
 * lost.  At exit the queue is written if the consumer takes it within
 * OUTPUT_CLOSE_WAIT_MS (2 s); what remains goes the same way (non-alerts
 * dropped and counted, alerts to standard error).  Lines the kernel (or
 * Redis) had already accepted when a consumer died are lost with it.
 *
 * Counters (stats.h): output_err, output_retries, output_queued,
 * output_queue_peak, output_dropped, output_alerts_stderr,
 * output_disconnects, output_reconnects.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>


#include "output.h"
#include "sink.h"
#include "stats.h"

uint64_t sink_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Send line + '\n' from *off on.  Returns 0 when all of it is written,
 * else -1 with errno (EAGAIN only from a socket: files wait). */
static int fd_send(int fd, const char *line, size_t len, size_t *off, int sock)
{
	while (*off < len + 1) {
		struct iovec iov[2];
		struct msghdr mh;
		int n_iov = 0;
		ssize_t n;

		if (*off < len) {
			iov[n_iov].iov_base = (char *)line + *off;
			iov[n_iov++].iov_len = len - *off;
		}
		iov[n_iov].iov_base = (char *)"\n";
		iov[n_iov++].iov_len = 1;
		if (sock) {
			memset(&mh, 0, sizeof(mh));
			mh.msg_iov = iov;
			mh.msg_iovlen = (size_t)n_iov;
			n = sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		} else {
			n = writev(fd, iov, n_iov);
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && !sock && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			/* a non-blocking stdout inherited from the shell: block */
			struct pollfd pfd = { .fd = fd, .events = POLLOUT };

			(void)poll(&pfd, 1, -1);
			continue;
		}
		if (n < 0)
			return -1;
		if (n == 0) {
			errno = EIO;
			return -1;
		}
		*off += (size_t)n;
	}
	return 0;
}

/* ---- file and stdout ------------------------------------------------ */

static int file_open(struct output *o, const char *arg)
{
	o->fd = open(arg, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
	return o->fd >= 0 ? 0 : -1;
}

static int file_write(struct output *o, const char *line, size_t len, size_t *off,
                      int is_alert)
{
	(void)is_alert;
	if (o->fp)
		fflush(o->fp);   /* whatever stdio still holds goes first */
	if (fd_send(o->fd, line, len, off, 0) == 0)
		return OUTPUT_SINK_OK;
	g_stats.output_retries++;
	if (fd_send(o->fd, line, len, off, 0) == 0)
		return OUTPUT_SINK_OK;
	/* Cut the part written, so the next line does not continue it.  Not
	 * on stdout: it may be a file someone else appends to. */
	if (*off > 0 && !o->fp) {
		off_t end = lseek(o->fd, 0, SEEK_CUR);

		if (end >= (off_t)*off && ftruncate(o->fd, end - (off_t)*off) == 0)
			*off = 0;
	}
	return OUTPUT_SINK_ERR;
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
	o->fp = stdout;
	o->fd = STDOUT_FILENO;
	return 0;
}

static int nothing_reopen(struct output *o)
{
	(void)o;
	return 0;
}

static void stdout_close(struct output *o)
{
	fflush(o->fp);
	o->fp = NULL;
	o->fd = -1;
}

/* ---- syslog --------------------------------------------------------- */

/* As Suricata's filetype syslog: the JSON object is the message.  A
 * syslog daemon may cut long messages (rsyslog at 8 KB by default), and
 * an alert carries its chain: prefer a socket or a file for alerts.
 * openlog() is process-wide (live.c opens it too, for diagnostics), so
 * every message names its facility itself. */
static int syslog_open(struct output *o, const char *arg)
{
	(void)arg;
	openlog("certsentry", LOG_NDELAY, o->syslog_facility);
	return 0;
}

static int syslog_write(struct output *o, const char *line, size_t len, size_t *off,
                        int is_alert)
{
	syslog(o->syslog_facility | (is_alert ? o->syslog_alert_level : LOG_INFO), "%.*s",
	       len > INT_MAX ? INT_MAX : (int)len, line);
	*off = len + 1;
	return OUTPUT_SINK_OK;
}

static void syslog_close(struct output *o)
{
	(void)o;
	closelog();
}

/* ---- unix sockets --------------------------------------------------- */

static void sock_down(struct output *o)
{
	if (o->fd >= 0)
		close(o->fd);
	o->fd = -1;
}

/* Connect now.  Non-blocking, so a listener with a full backlog is
 * EAGAIN, not a wait.  -1 with errno when the consumer is not there. */
static int sock_connect(struct output *o)
{
	struct sockaddr_un sa;
	int type = o->type == OUTPUT_UNIX_DGRAM ? SOCK_DGRAM : SOCK_STREAM;
	int fd, e;

	sock_down(o);
	o->last_attempt_ms = sink_now_ms();
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, o->path, strlen(o->path) + 1);   /* length checked at open */
	fd = socket(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	o->fd = fd;
	/* a line the old connection cut off is sent whole on the new one */
	if (o->q_head)
		o->q_head->off = 0;
	if (o->connected_once)
		g_stats.output_reconnects++;
	o->connected_once = 1;
	return 0;
}

static int sock_open(struct output *o, const char *arg)
{
	(void)arg;
	if (sock_connect(o) == 0)
		return 0;
	/* Not listening yet: lines queue until it is.  Anything else (no
	 * permission, a listener of the other socket type: EPROTOTYPE) is a
	 * configuration error. */
	return errno == ENOENT || errno == ECONNREFUSED || errno == EAGAIN ? 0 : -1;
}

static int sock_write(struct output *o, const char *line, size_t len, size_t *off,
                      int is_alert)
{
	(void)is_alert;
	if (o->fd < 0) {
		if (sink_now_ms() - o->last_attempt_ms < o->reconnect_ms || sock_connect(o) < 0)
			return OUTPUT_SINK_AGAIN;
		*off = 0;
	}
	if (fd_send(o->fd, line, len, off, 1) == 0)
		return OUTPUT_SINK_OK;
	switch (errno) {
	case EAGAIN:
#if EWOULDBLOCK != EAGAIN
	case EWOULDBLOCK:
#endif
	case ENOBUFS:
	case ENOMEM:
		return OUTPUT_SINK_AGAIN;       /* busy: keep the connection */
	case EMSGSIZE:
		return OUTPUT_SINK_ERR;         /* larger than a datagram can be */
	default:
		/* ECONNREFUSED, EPIPE, ECONNRESET, ENOTCONN: gone */
		sock_down(o);
		g_stats.output_disconnects++;
		*off = 0;
		return OUTPUT_SINK_AGAIN;
	}
}

static int sock_reopen(struct output *o)
{
	if (sock_connect(o) == 0)
		return 0;
	return errno == ENOENT || errno == ECONNREFUSED || errno == EAGAIN ? 0 : -1;
}

static int sock_up(const struct output *o)
{
	return o->fd >= 0;
}

/* At exit: a connected consumer that was busy may have room again. */
static void sock_wait(struct output *o, unsigned ms)
{
	struct pollfd pfd = { .fd = o->fd, .events = POLLOUT };

	(void)poll(&pfd, 1, ms > INT_MAX ? INT_MAX : (int)ms);
}

static const struct sink_link sock_link = { sock_up, sock_connect, sock_wait, NULL };

static const struct output_sink sink_file = {
	"file", file_open, file_write, file_reopen, file_close
};
static const struct output_sink sink_stdout = {
	"stdout", stdout_open, file_write, nothing_reopen, stdout_close
};
static const struct output_sink sink_syslog = {
	"syslog", syslog_open, syslog_write, nothing_reopen, syslog_close
};
static const struct output_sink sink_unix_dgram = {
	"unix_dgram", sock_open, sock_write, sock_reopen, sock_down
};
static const struct output_sink sink_unix_stream = {
	"unix_stream", sock_open, sock_write, sock_reopen, sock_down
};

/* ---- the queue ------------------------------------------------------ */

/* A line that will not be written: counted, and an alert goes to stderr
 * so that a person or journald still sees it. */
static void line_lost(const char *line, size_t len, int is_alert, const char *why)
{
	if (!is_alert) {
		g_stats.output_dropped++;
		return;
	}
	g_stats.output_alerts_stderr++;
	fprintf(stderr, "certsentry: undelivered alert (%s): ", why);
	fwrite(line, 1, len, stderr);
	fputc('\n', stderr);
}

static void oq_unlink(struct output *o, struct oq_line *prev, struct oq_line *l)
{
	if (prev)
		prev->next = l->next;
	else
		o->q_head = l->next;
	if (o->q_tail == l)
		o->q_tail = prev;
	o->q_lines--;
	o->q_bytes -= l->len;
}

/* A line part-sent on the live connection must be finished first. */
static int oq_pinned(const struct output *o, const struct oq_line *l)
{
	return l == o->q_head && l->off > 0;
}

static int oq_full(const struct output *o, size_t lines, size_t bytes, size_t len)
{
	return lines >= o->q_max_lines || bytes > o->q_max_bytes ||
	       len > o->q_max_bytes - bytes;
}

/* Would the line fit if every droppable non-alert were dropped? */
static int oq_fits_alert(const struct output *o, size_t len)
{
	size_t lines = o->q_lines, bytes = o->q_bytes;

	for (const struct oq_line *l = o->q_head; l; l = l->next)
		if (!l->is_alert && !oq_pinned(o, l)) {
			lines--;
			bytes -= l->len;
		}
	return !oq_full(o, lines, bytes, len);
}

/* Drop the oldest queued non-alert. */
static void oq_drop_one(struct output *o)
{
	struct oq_line *prev = NULL;

	for (struct oq_line *l = o->q_head; l; prev = l, l = l->next) {
		if (l->is_alert || oq_pinned(o, l))
			continue;
		oq_unlink(o, prev, l);
		line_lost(l->data, l->len, 0, "queue full");
		free(l);
		return;
	}
}

/* 0 queued, 1 dropped or sent to stderr (counted). */
static int oq_push(struct output *o, const char *line, size_t len, size_t off, int is_alert)
{
	struct oq_line *l;

	/* A line part-sent is always kept: dropping its rest would leave
	 * half an object in the stream. */
	if (off == 0 && oq_full(o, o->q_lines, o->q_bytes, len)) {
		if (!is_alert || !oq_fits_alert(o, len)) {
			line_lost(line, len, is_alert, "queue full");
			return 1;
		}
		while (oq_full(o, o->q_lines, o->q_bytes, len))
			oq_drop_one(o);
	}
	l = malloc(sizeof(*l) + len);   /* owned by the queue */
	if (!l) {
		line_lost(line, len, is_alert, "out of memory");
		return 1;
	}
	memcpy(l->data, line, len);
	l->len = len;
	l->off = off;
	l->is_alert = is_alert;
	l->next = NULL;
	if (o->q_tail)
		o->q_tail->next = l;
	else
		o->q_head = l;
	o->q_tail = l;
	o->q_lines++;
	o->q_bytes += len;
	g_stats.output_queued++;
	if (o->q_lines > g_stats.output_queue_peak)
		g_stats.output_queue_peak = o->q_lines;
	return 0;
}

static int line_failed(const char *line, size_t len, int is_alert)
{
	g_stats.output_err++;
	if (is_alert) {
		g_stats.output_alerts_stderr++;
		fprintf(stderr, "certsentry: undelivered alert (write error): ");
		fwrite(line, 1, len, stderr);
		fputc('\n', stderr);
	}
	return -1;
}

/* A queued line the sink is done with: written or failed (counted). */
static void oq_done(struct output *o, int rc)
{
	struct oq_line *l = o->q_head;

	oq_unlink(o, NULL, l);
	if (rc == OUTPUT_SINK_OK)
		g_stats.events++;
	else
		line_failed(l->data, l->len, l->is_alert);
	free(l);
}

/* The queue through a sink that takes many lines at once (Redis: one
 * round trip for all, not one a line). */
static void oq_drain_batch(struct output *o)
{
	int rc[SINK_BATCH_MAX];

	while (o->q_head) {
		size_t want = o->q_lines < SINK_BATCH_MAX ? o->q_lines : SINK_BATCH_MAX;
		size_t n = o->link->write_batch(o, o->q_head, want, rc);

		for (size_t i = 0; i < n && i < want; i++)
			oq_done(o, rc[i]);
		if (n < want)
			return;
	}
}

/* Write queued lines in order until the sink stops taking them. */
static void oq_drain(struct output *o)
{
	if (o->link && o->link->write_batch) {
		oq_drain_batch(o);
		return;
	}
	while (o->q_head) {
		struct oq_line *l = o->q_head;
		int rc = o->sink->write(o, l->data, l->len, &l->off, l->is_alert);

		if (rc == OUTPUT_SINK_AGAIN)
			return;
		oq_done(o, rc);
	}
}

static int write_line(struct output *o, const char *line, size_t len, int is_alert)
{
	size_t off = 0;
	int rc;

	if (o->q_head)
		oq_drain(o);
	if (o->q_head)
		return oq_push(o, line, len, 0, is_alert);
	rc = o->sink->write(o, line, len, &off, is_alert);
	if (rc == OUTPUT_SINK_OK) {
		g_stats.events++;
		return 0;
	}
	if (rc == OUTPUT_SINK_ERR)
		return line_failed(line, len, is_alert);
	return oq_push(o, line, len, off, is_alert);
}

int output_write_line(struct output *o, const char *line, size_t len, int is_alert)
{
	int rc;

	pthread_mutex_lock(&o->lock);
	rc = write_line(o, line, len, is_alert);
	pthread_mutex_unlock(&o->lock);
	return rc;
}

size_t output_flush(struct output *o)
{
	size_t n;

	pthread_mutex_lock(&o->lock);
	oq_drain(o);
	n = o->q_lines;
	pthread_mutex_unlock(&o->lock);
	return n;
}

size_t output_pending(const struct output *o)
{
	return o->q_lines;
}

/* At exit: one more connect whatever the interval, then wait a little
 * for a live consumer to take the rest. */
static void oq_final(struct output *o)
{
	uint64_t until = sink_now_ms() + OUTPUT_CLOSE_WAIT_MS;

	if (!o->q_head || !o->link)
		return;
	if (!o->link->up(o))
		(void)o->link->connect(o);
	for (;;) {
		uint64_t now;

		oq_drain(o);
		now = sink_now_ms();
		if (!o->q_head || !o->link->up(o) || now >= until)
			break;
		o->link->wait(o, (unsigned)(until - now));
	}
	while (o->q_head) {
		struct oq_line *l = o->q_head;

		oq_unlink(o, NULL, l);
		line_lost(l->data, l->len, l->is_alert, "consumer gone at exit");
		free(l);
	}
}

/* ---- opening -------------------------------------------------------- */

struct name_val {
	const char *name;
	int val;
};

static int lookup(const struct name_val *t, const char *s, int *out)
{
	if (!s)
		return -1;
	for (; t->name; t++)
		if (strcasecmp(t->name, s) == 0) {
			*out = t->val;
			return 0;
		}
	return -1;
}

int output_type_parse(const char *s, enum output_type *out)
{
	static const struct name_val types[] = {
		{ "file", OUTPUT_FILE }, { "regular", OUTPUT_FILE },
		{ "stdout", OUTPUT_STDOUT }, { "syslog", OUTPUT_SYSLOG },
		{ "unix_dgram", OUTPUT_UNIX_DGRAM }, { "unix_stream", OUTPUT_UNIX_STREAM },
		{ "redis", OUTPUT_REDIS },
		{ NULL, 0 }
	};
	int v;

	if (lookup(types, s, &v) < 0)
		return -1;
	*out = (enum output_type)v;
	return 0;
}

int output_syslog_facility_parse(const char *s, int *out)
{
	static const struct name_val fac[] = {
		{ "user", LOG_USER }, { "daemon", LOG_DAEMON },
		{ "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 }, { "local2", LOG_LOCAL2 },
		{ "local3", LOG_LOCAL3 }, { "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 },
		{ "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 }, { NULL, 0 }
	};

	return lookup(fac, s, out);
}

/* syslog(3) names, and Suricata's ("Warning", "Info") */
int output_syslog_level_parse(const char *s, int *out)
{
	static const struct name_val lvl[] = {
		{ "emerg", LOG_EMERG }, { "emergency", LOG_EMERG }, { "alert", LOG_ALERT },
		{ "crit", LOG_CRIT }, { "critical", LOG_CRIT }, { "err", LOG_ERR },
		{ "error", LOG_ERR }, { "warning", LOG_WARNING }, { "warn", LOG_WARNING },
		{ "notice", LOG_NOTICE }, { "info", LOG_INFO }, { "debug", LOG_DEBUG },
		{ NULL, 0 }
	};

	return lookup(lvl, s, out);
}

/* The sink (and link) for o->type, checking what it needs of path:
 * 0, or -1 with the reason in err. */
static int choose_sink(struct output *o, const char *path, int no_path, char *err,
                       size_t errlen)
{
	switch (o->type) {
	case OUTPUT_FILE:
		if (no_path) {
			o->type = OUTPUT_STDOUT;
			o->sink = &sink_stdout;
		} else {
			o->sink = &sink_file;
		}
		break;
	case OUTPUT_STDOUT:
		o->sink = &sink_stdout;
		break;
	case OUTPUT_SYSLOG:
		o->sink = &sink_syslog;
		break;
	case OUTPUT_UNIX_DGRAM:
	case OUTPUT_UNIX_STREAM:
		o->sink = o->type == OUTPUT_UNIX_DGRAM ? &sink_unix_dgram : &sink_unix_stream;
		o->link = &sock_link;
		if (no_path) {
			snprintf(err, errlen, "%s output needs a socket path", o->sink->name);
			return -1;
		}
		if (strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
			snprintf(err, errlen, "%s: socket path too long (at most %zu bytes)", path,
			         sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
			return -1;
		}
		break;
	case OUTPUT_REDIS:
		/* the target (HOST[:PORT], a socket path) is checked by its open */
		o->sink = &sink_redis;
		o->link = &sink_redis_link;
		if (no_path) {
			snprintf(err, errlen, "redis output needs -o HOST[:PORT] or a Unix socket "
			         "path");
			return -1;
		}
		break;
	default:
		snprintf(err, errlen, "unknown output type %d", (int)o->type);
		return -1;
	}
	return 0;
}

struct output *output_open(const struct output_opts *opts, char *err, size_t errlen)
{
	struct output *o = calloc(1, sizeof(*o));   /* owned by the caller */
	const char *path = opts->path;
	int rc;
	int no_path = !path || !*path || strcmp(path, "-") == 0;

	if (!o) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&o->lock, NULL);
	o->fd = -1;
	o->type = opts->type;
	o->tls_chain = opts->tls_chain;
	o->syslog_facility = opts->syslog_facility ? opts->syslog_facility : LOG_LOCAL5;
	o->syslog_alert_level = opts->syslog_alert_level ? opts->syslog_alert_level
	                                                 : LOG_WARNING;
	o->q_max_lines = opts->queue_max_lines ? opts->queue_max_lines : OUTPUT_QUEUE_MAX_LINES;
	o->q_max_bytes = opts->queue_max_bytes ? opts->queue_max_bytes : OUTPUT_QUEUE_MAX_BYTES;
	o->reconnect_ms = opts->reconnect_ms ? opts->reconnect_ms : OUTPUT_RECONNECT_MS;
	if (choose_sink(o, path, no_path, err, errlen) < 0)
		goto err;
	if (o->sink == &sink_file || o->link) {
		o->path = strdup(path);
		if (!o->path) {
			snprintf(err, errlen, "out of memory");
			goto err;
		}
	}
	/* A sink's open() that fails has nothing left to close. */
	o->opts = opts;
	rc = o->sink->open(o, path);
	o->opts = NULL;
	if (rc < 0) {
		const char *why = o->why[0] ? o->why : strerror(errno);

		if (o->sink == &sink_file || o->sink == &sink_stdout)
			snprintf(err, errlen, "%s: cannot open output: %s", path ? path : "-", why);
		else
			snprintf(err, errlen, "%s: cannot open %s output: %s", path ? path : "-",
			         o->sink->name, why);
		goto err;
	}
	return o;
err:
	pthread_mutex_destroy(&o->lock);
	free(o->path);
	free(o);
	return NULL;
}

void output_close(struct output *o)
{
	if (!o)
		return;
	oq_final(o);       /* nothing to do for a sink without a sink_link */
	o->sink->close(o);
	pthread_mutex_destroy(&o->lock);
	free(o->path);
	free(o);
}

int output_reopen(struct output *o)
{
	int rc;

	pthread_mutex_lock(&o->lock);
	rc = o->sink->reopen(o);
	oq_drain(o);
	pthread_mutex_unlock(&o->lock);
	return rc;
}
