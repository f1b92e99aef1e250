/*
 * output.c - EVE JSON writer (see include/output.h).  The only file that
 * includes jansson.
 *
 * Slow or absent consumers.  The sensor never stops reading packets to
 * wait for a socket consumer, and never loses an alert without saying so:
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
 *    buffer) - waits in a queue of at most OUTPUT_QUEUE_MAX_LINES (1024)
 *    lines and OUTPUT_QUEUE_MAX_BYTES (4 MiB), and every later line queues
 *    behind it, so lines always arrive whole and in order.  A gone consumer
 *    is reconnected at most once per OUTPUT_RECONNECT_MS (1 s), tried when
 *    the next line is written or output_flush is called; the queue is then
 *    written first.  When the queue is full, a new non-alert line is
 *    dropped (output_dropped); a new alert takes the place of the oldest
 *    queued non-alert (which is dropped and counted); when the queue holds
 *    only alerts, the new alert is written to standard error, prefixed
 *    "certsentry: undelivered alert (queue full): ", and counted in
 *    output_alerts_stderr - never blocked on, never silently lost.  At exit
 *    the queue is written if the consumer takes it within
 *    OUTPUT_CLOSE_WAIT_MS (2 s); what remains goes the same way (non-alerts
 *    dropped and counted, alerts to standard error).  Lines the kernel had
 *    already accepted when a consumer died are lost with it.  A line a
 *    datagram socket can never carry (EMSGSIZE) is a write error.
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

#include <jansson.h>

#include "digest.h"
#include "output.h"
#include "stats.h"

/* One line a socket could not take yet.  Owned by the queue; freed when
 * written or dropped. */
struct oq_line {
	struct oq_line *next;
	size_t len;            /* of data, without the '\n' */
	size_t off;            /* bytes of data + '\n' the current connection took */
	int is_alert;
	char data[];
};

struct output {
	/* Live-capture workers share one output: every line, flush and
	 * reopen goes through this lock, so lines never interleave. */
	pthread_mutex_t lock;
	const struct output_sink *sink;
	enum output_type type;
	FILE *fp;              /* stdout, for the stdio buffer only */
	int fd;                /* file or socket; -1 while a socket is down */
	char *path;            /* owned copy, for reopen and reconnect */
	int tls_chain;
	int syslog_facility, syslog_alert_level;
	/* socket consumers */
	struct oq_line *q_head, *q_tail;
	size_t q_lines, q_bytes;
	size_t q_max_lines, q_max_bytes;
	uint64_t reconnect_ms, last_attempt_ms;
	int connected_once;
};

static uint64_t now_ms(void)
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
	o->last_attempt_ms = now_ms();
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
		if (now_ms() - o->last_attempt_ms < o->reconnect_ms || sock_connect(o) < 0)
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

/* Write queued lines in order until the sink stops taking them. */
static void oq_drain(struct output *o)
{
	while (o->q_head) {
		struct oq_line *l = o->q_head;
		int rc = o->sink->write(o, l->data, l->len, &l->off, l->is_alert);

		if (rc == OUTPUT_SINK_AGAIN)
			return;
		oq_unlink(o, NULL, l);
		if (rc == OUTPUT_SINK_OK)
			g_stats.events++;
		else
			line_failed(l->data, l->len, l->is_alert);
		free(l);
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
	uint64_t until = now_ms() + OUTPUT_CLOSE_WAIT_MS;

	if (!o->q_head)
		return;
	if (o->fd < 0)
		(void)sock_connect(o);
	for (;;) {
		uint64_t now;
		struct pollfd pfd;

		oq_drain(o);
		now = now_ms();
		if (!o->q_head || o->fd < 0 || now >= until)
			break;
		pfd.fd = o->fd;
		pfd.events = POLLOUT;
		pfd.revents = 0;
		(void)poll(&pfd, 1, (int)(until - now));
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

struct output *output_open(const struct output_opts *opts, char *err, size_t errlen)
{
	struct output *o = calloc(1, sizeof(*o));   /* owned by the caller */
	const char *path = opts->path;

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
		if (no_path) {
			snprintf(err, errlen, "%s output needs a socket path", o->sink->name);
			goto err;
		}
		if (strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
			snprintf(err, errlen, "%s: socket path too long (at most %zu bytes)", path,
			         sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
			goto err;
		}
		break;
	default:
		snprintf(err, errlen, "unknown output type %d", (int)o->type);
		goto err;
	}
	if (o->sink == &sink_file || o->sink == &sink_unix_dgram ||
	    o->sink == &sink_unix_stream) {
		o->path = strdup(path);
		if (!o->path) {
			snprintf(err, errlen, "out of memory");
			goto err;
		}
	}
	if (o->sink->open(o, path) < 0) {
		if (o->sink == &sink_file || o->sink == &sink_stdout)
			snprintf(err, errlen, "%s: cannot open output: %s", path ? path : "-",
			         strerror(errno));
		else
			snprintf(err, errlen, "%s: cannot open %s output: %s", path ? path : "-",
			         o->sink->name, strerror(errno));
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
	if (o->type == OUTPUT_UNIX_DGRAM || o->type == OUTPUT_UNIX_STREAM)
		oq_final(o);
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

/* ---- field formatting ---------------------------------------------- */

void output_format_ts(uint64_t ts_us, char out[OUTPUT_TS_LEN])
{
	time_t sec = (time_t)(ts_us / 1000000u);
	struct tm tm;

	gmtime_r(&sec, &tm);
	snprintf(out, OUTPUT_TS_LEN, "%04d-%02d-%02dT%02d:%02d:%02d.%06u+0000",
	         tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
	         tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned)(ts_us % 1000000u));
}

static void fmt_ip(int family, const uint8_t *a, char out[INET6_ADDRSTRLEN])
{
	if (!inet_ntop(family == 4 ? AF_INET : AF_INET6, a, out, INET6_ADDRSTRLEN))
		snprintf(out, INET6_ADDRSTRLEN, "?");
}

static char *b64(const uint8_t *in, size_t len)
{
	static const char tbl[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t olen = 4 * ((len + 2) / 3), o = 0, i;
	char *out = malloc(olen + 1);   /* owned by the caller */

	if (!out)
		return NULL;
	for (i = 0; i + 3 <= len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];

		out[o++] = tbl[v >> 18];
		out[o++] = tbl[(v >> 12) & 63];
		out[o++] = tbl[(v >> 6) & 63];
		out[o++] = tbl[v & 63];
	}
	if (i < len) {
		uint32_t v = (uint32_t)in[i] << 16;

		if (i + 1 < len)
			v |= (uint32_t)in[i + 1] << 8;
		out[o++] = tbl[v >> 18];
		out[o++] = tbl[(v >> 12) & 63];
		out[o++] = i + 1 < len ? tbl[(v >> 6) & 63] : '=';
		out[o++] = '=';
	}
	out[o] = '\0';
	return out;
}

/* jansson rejects invalid UTF-8; certificate strings are attacker bytes.
 * Replace every byte that is not part of valid UTF-8 with '?'. */
static json_t *jstr(const char *s)
{
	json_t *j;
	char *copy;
	size_t n;

	if (!s)
		return json_null();
	j = json_string(s);
	if (j)
		return j;
	n = strlen(s);
	copy = malloc(n + 1);
	if (!copy)
		return json_null();
	for (size_t i = 0; i < n; i++)
		copy[i] = (unsigned char)s[i] < 0x80 ? s[i] : '?';
	copy[n] = '\0';
	j = json_string(copy);
	free(copy);
	return j ? j : json_null();
}

static void set_str(json_t *o, const char *k, const char *v)
{
	if (v && *v)
		json_object_set_new(o, k, jstr(v));
}

static json_t *str_array(char *const *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, jstr(v[i]));
	return a;
}

/* ---- objects -------------------------------------------------------- */

static json_t *chain_array(const struct tls_session *t)
{
	json_t *a = json_array();

	for (size_t i = 0; i < t->n_certs; i++) {
		char *s = b64(t->certs[i].data, t->certs[i].len);

		json_array_append_new(a, s ? json_string(s) : json_null());
		free(s);
	}
	return a;
}

static json_t *ja_obj(const char *hash, const char *str)
{
	json_t *o = json_object();

	json_object_set_new(o, "hash", json_string(hash));
	json_object_set_new(o, "string", jstr(str));
	return o;
}

static json_t *tls_obj(const struct hs_event *ev, int with_chain)
{
	const struct tls_session *t = ev->tls;
	const struct x509_info *leaf = ev->n_certs ? &ev->certs[0] : NULL;
	json_t *o = json_object();

	if (leaf && leaf->parsed) {
		json_t *san = json_array();

		set_str(o, "subject", leaf->subject);
		set_str(o, "issuerdn", leaf->issuer);
		set_str(o, "serial", leaf->serial);
		set_str(o, "fingerprint", leaf->sha1);
		set_str(o, "notbefore", leaf->notbefore);
		set_str(o, "notafter", leaf->notafter);
		for (size_t i = 0; i < leaf->n_san_dns; i++)
			json_array_append_new(san, jstr(leaf->san_dns[i]));
		for (size_t i = 0; i < leaf->n_san_ip; i++)
			json_array_append_new(san, jstr(leaf->san_ip_str[i]));
		if (json_array_size(san))
			json_object_set_new(o, "subjectaltname", san);
		else
			json_decref(san);
	}
	set_str(o, "sni", t->sni);
	json_object_set_new(o, "version",
	                    json_string(tls_version_name(t->sh_seen ? t->version : 0)));
	json_object_set_new(o, "session_resumed", json_boolean(t->resumed));
	if (t->ch_seen && t->ja3)
		json_object_set_new(o, "ja3", ja_obj(t->ja3_md5, t->ja3));
	if (t->sh_seen && t->ja3s)
		json_object_set_new(o, "ja3s", ja_obj(t->ja3s_md5, t->ja3s));
	if (t->n_alpn) {
		json_t *a = json_array();

		for (size_t i = 0; i < t->n_alpn; i++)
			json_array_append_new(a, jstr(t->alpn[i]));
		json_object_set_new(o, "client_alpns", a);
	}
	if (t->server_alpn[0]) {
		json_t *a = json_array();

		json_array_append_new(a, jstr(t->server_alpn));
		json_object_set_new(o, "server_alpns", a);
	}
	if (t->ch_seen) {
		json_t *ch = json_object();

		json_object_set_new(ch, "version", json_string(tls_version_name(t->ch_version)));
		json_object_set_new(o, "client_handshake", ch);
	}
	if (t->sh_seen) {
		json_t *sh = json_object();

		json_object_set_new(sh, "version",
		                    json_string(tls_version_name(t->sh_legacy_version)));
		json_object_set_new(sh, "cipher", json_integer(t->cipher));
		json_object_set_new(o, "server_handshake", sh);
	}
	if (with_chain && t->n_certs)
		json_object_set_new(o, "chain", chain_array(t));
	return o;
}

static json_t *cert_obj(const struct x509_info *x)
{
	json_t *o = json_object();
	json_t *ips = json_array();

	json_object_set_new(o, "sha256", json_string(x->sha256));
	json_object_set_new(o, "size", json_integer((json_int_t)x->der_len));
	if (!x->parsed) {
		json_object_set_new(o, "parse_error", jstr(x->error));
		json_decref(ips);
		return o;
	}
	set_str(o, "subject", x->subject);
	set_str(o, "issuer", x->issuer);
	set_str(o, "serial", x->serial);
	json_object_set_new(o, "sha1", json_string(x->sha1));
	json_object_set_new(o, "spki_sha256", json_string(x->spki_sha256));
	set_str(o, "notbefore", x->notbefore);
	set_str(o, "notafter", x->notafter);
	json_object_set_new(o, "san_dns", str_array(x->san_dns, x->n_san_dns));
	for (size_t i = 0; i < x->n_san_ip; i++)
		json_array_append_new(ips, jstr(x->san_ip_str[i]));
	json_object_set_new(o, "san_ip", ips);
	set_str(o, "key_type", x->key_type);
	json_object_set_new(o, "key_bits", json_integer(x->key_bits));
	set_str(o, "sig_alg", x->sig_alg);
	json_object_set_new(o, "is_ca", json_boolean(x->is_ca));
	json_object_set_new(o, "self_issued", json_boolean(x->self_issued));
	json_object_set_new(o, "weak", json_boolean(x->weak));
	return o;
}

static const char *hs_name(enum policy_hs hs)
{
	switch (hs) {
	case POLICY_HS_CHAIN:      return "certificate";
	case POLICY_HS_ENCRYPTED:  return "encrypted";
	case POLICY_HS_RESUMED:    return "resumed";
	case POLICY_HS_INCOMPLETE: return "incomplete";
	}
	return "unknown";
}

static json_t *matched_array(const struct policy_result *r)
{
	json_t *m = json_array();

	for (size_t i = 0; i < r->n_matched; i++)
		json_array_append_new(m, jstr(r->matched[i]));
	return m;
}

static json_t *result_obj(const struct policy_result *r)
{
	json_t *o = json_object();

	json_object_set_new(o, "owner", jstr(r->owner));
	json_object_set_new(o, "matched", matched_array(r));
	json_object_set_new(o, "verdict", json_string(verdict_name(r->verdict)));
	set_str(o, "anchor", r->anchor);
	json_object_set_new(o, "reason", jstr(r->reason));
	return o;
}

static json_t *certsentry_obj(const struct hs_event *ev)
{
	const struct tls_session *t = ev->tls;
	json_t *o = json_object();
	json_t *certs = json_array(), *owners = json_array(), *vers = json_array();

	json_object_set_new(o, "handshake", json_string(hs_name(ev->hs)));
	if (ev->hs == POLICY_HS_ENCRYPTED)
		json_object_set_new(o, "certificates_encrypted", json_true());
	set_str(o, "note", ev->hs_note);
	if (ev->stream_mismatch)
		json_object_set_new(o, "stream_mismatch", json_true());
	/* supported_versions (RFC 8446 §4.2.1) lists them; an older client
	 * offers everything up to its legacy_version. */
	for (size_t i = 0; i < t->n_ch_versions; i++)
		json_array_append_new(vers, json_string(tls_version_name(t->ch_versions[i])));
	if (t->n_ch_versions == 0 && t->ch_seen)
		json_array_append_new(vers, json_string(tls_version_name(t->ch_version)));
	json_object_set_new(o, "versions_offered", vers);
	if (t->certs_dropped)
		json_object_set_new(o, "certificates_dropped",
		                    json_integer((json_int_t)t->certs_dropped));
	for (size_t i = 0; i < ev->n_certs; i++)
		json_array_append_new(certs, cert_obj(&ev->certs[i]));
	json_object_set_new(o, "certificates", certs);
	for (size_t i = 0; i < ev->n_res; i++)
		json_array_append_new(owners, result_obj(&ev->res[i]));
	json_object_set_new(o, "owners", owners);
	return o;
}

static json_t *ndpi_obj(const struct classify_result *n)
{
	json_t *o = json_object(), *risks = json_object();

	json_object_set_new(o, "proto", jstr(n->proto));
	json_object_set_new(o, "proto_id", jstr(n->proto_id));
	json_object_set_new(o, "category", jstr(n->category));
	for (unsigned bit = 1; bit < 64; bit++) {
		const char *name = classify_risk_name(bit);
		char key[8];
		json_t *r;

		if (!(n->risk & (1ULL << bit)) || !name)
			continue;
		r = json_object();
		json_object_set_new(r, "risk", jstr(name));
		set_str(r, "severity", classify_risk_severity(bit));
		snprintf(key, sizeof(key), "%u", bit);
		json_object_set_new(risks, key, r);
	}
	json_object_set_new(o, "flow_risk", risks);
	return o;
}

/* Common top-level fields of every event. */
static json_t *base_obj(const struct hs_event *ev, const char *type)
{
	json_t *o = json_object();
	char ts[OUTPUT_TS_LEN], ip[INET6_ADDRSTRLEN];

	output_format_ts(ev->ts_us, ts);
	json_object_set_new(o, "timestamp", json_string(ts));
	json_object_set_new(o, "flow_id", json_integer((json_int_t)ev->flow_id));
	if (ev->capture_file)
		json_object_set_new(o, "pcap_filename", jstr(ev->capture_file));
	json_object_set_new(o, "event_type", json_string(type));
	if (ev->n_vlan > 0) {
		json_t *v = json_array();

		for (int i = 0; i < ev->n_vlan; i++)
			json_array_append_new(v, json_integer(ev->vlan[i]));
		json_object_set_new(o, "vlan", v);
	}
	fmt_ip(ev->family, ev->client_ip, ip);
	json_object_set_new(o, "src_ip", json_string(ip));
	json_object_set_new(o, "src_port", json_integer(ev->client_port));
	fmt_ip(ev->family, ev->server_ip, ip);
	json_object_set_new(o, "dest_ip", json_string(ip));
	json_object_set_new(o, "dest_port", json_integer(ev->server_port));
	json_object_set_new(o, "proto", json_string("TCP"));
	json_object_set_new(o, "app_proto", json_string("tls"));
	return o;
}

static const char *verdict_signature(enum verdict v)
{
	switch (v) {
	case VERDICT_SELF_SIGNED:
		return "CERTSENTRY self-signed certificate for a protected asset or endpoint";
	case VERDICT_FORGED_ISSUER:
		return "CERTSENTRY forged issuer: certificate names an approved CA that did not sign it";
	case VERDICT_UNAPPROVED_ISSUER:
		return "CERTSENTRY certificate for a protected asset issued by an unapproved CA";
	case VERDICT_UNVERIFIABLE_CHAIN:
		return "CERTSENTRY unverifiable certificate chain for a protected asset";
	case VERDICT_UNVERIFIED_HANDSHAKE:
		return "CERTSENTRY handshake at a protected endpoint could not be verified";
	case VERDICT_STREAM_MISMATCH:
		return "CERTSENTRY handshake bytes retransmitted with different content";
	default:
		return "CERTSENTRY certificate policy violation";
	}
}

int output_sid(enum verdict v)
{
	return OUTPUT_SID_BASE + (int)v;
}

static int verdict_severity(enum verdict v)
{
	switch (v) {
	case VERDICT_SELF_SIGNED:
	case VERDICT_FORGED_ISSUER:
	case VERDICT_UNAPPROVED_ISSUER:
	case VERDICT_STREAM_MISMATCH:
		return 1;
	case VERDICT_UNVERIFIABLE_CHAIN:
		return 2;
	default:
		return 3;
	}
}

static json_t *alert_obj(const struct policy_result *r)
{
	json_t *o = json_object();

	json_object_set_new(o, "action", json_string("allowed"));
	json_object_set_new(o, "gid", json_integer(1));
	json_object_set_new(o, "signature_id", json_integer(output_sid(r->verdict)));
	json_object_set_new(o, "rev", json_integer(1));
	json_object_set_new(o, "signature", json_string(verdict_signature(r->verdict)));
	json_object_set_new(o, "category", json_string("Misissued or intercepting TLS certificate"));
	json_object_set_new(o, "severity", json_integer(verdict_severity(r->verdict)));
	return o;
}

/* 0 written or queued, 1 dropped or on stderr (counted), -1 error. */
static int emit(struct output *o, json_t *ev, int is_alert)
{
	char *line = json_dumps(ev, JSON_COMPACT | JSON_PRESERVE_ORDER);
	int rc;

	json_decref(ev);
	if (!line) {
		g_stats.output_err++;
		return -1;
	}
	rc = output_write_line(o, line, strlen(line), is_alert);
	free(line);
	return rc;
}

int output_handshake(struct output *o, const struct hs_event *ev)
{
	json_t *e;
	int alerts = 0, failed = 0;

	e = base_obj(ev, "tls");
	json_object_set_new(e, "tls", tls_obj(ev, o->tls_chain));
	if (ev->ndpi && ev->ndpi->valid)
		json_object_set_new(e, "ndpi", ndpi_obj(ev->ndpi));
	json_object_set_new(e, "certsentry", certsentry_obj(ev));
	if (emit(o, e, 0) < 0)
		failed = 1;
	for (size_t i = 0; i < ev->n_res; i++) {
		const struct policy_result *r = &ev->res[i];
		json_t *cs;

		if (!verdict_is_alert(r->verdict))
			continue;
		e = base_obj(ev, "alert");
		json_object_set_new(e, "alert", alert_obj(r));
		json_object_set_new(e, "tls", tls_obj(ev, 1));
		if (ev->ndpi && ev->ndpi->valid)
			json_object_set_new(e, "ndpi", ndpi_obj(ev->ndpi));
		cs = certsentry_obj(ev);
		json_object_set_new(cs, "owner", jstr(r->owner));
		json_object_set_new(cs, "matched", matched_array(r));
		json_object_set_new(cs, "verdict", json_string(verdict_name(r->verdict)));
		json_object_set_new(cs, "reason", jstr(r->reason));
		json_object_set_new(e, "certsentry", cs);
		if (emit(o, e, 1) < 0)
			failed = 1;
		else
			alerts++;
	}
	return failed ? -1 : alerts;
}
