/*
 * output.c - EVE JSON writer (see include/output.h).  Lines are built with
 * jsonw.c, the output stage's own JSON writer (why: include/jsonw.h).
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


#include "digest.h"
#include "jsonw.h"
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

/* A string member only when there is something to say (as Suricata
 * leaves out empty fields). */
static void opt_str(struct jsonw *w, const char *k, const char *v)
{
	if (v && *v)
		jw_str(w, k, v);
}

static void str_array(struct jsonw *w, const char *k, char *const *v, size_t n)
{
	jw_arr(w, k);
	for (size_t i = 0; i < n; i++)
		jw_str(w, NULL, v[i]);
	jw_end(w);
}

/* ---- objects -------------------------------------------------------- */

static void chain_array(struct jsonw *w, const struct tls_session *t)
{
	jw_arr(w, "chain");
	for (size_t i = 0; i < t->n_certs; i++)
		jw_b64(w, NULL, t->certs[i].data, t->certs[i].len);
	jw_end(w);
}

static void ja_obj(struct jsonw *w, const char *k, const char *hash, const char *str)
{
	jw_obj(w, k);
	jw_str(w, "hash", hash);
	jw_str(w, "string", str);
	jw_end(w);
}

static void tls_obj(struct jsonw *w, const struct hs_event *ev, int with_chain)
{
	const struct tls_session *t = ev->tls;
	const struct x509_info *leaf = ev->n_certs ? &ev->certs[0] : NULL;

	jw_obj(w, "tls");
	if (leaf && leaf->parsed) {
		opt_str(w, "subject", leaf->subject);
		opt_str(w, "issuerdn", leaf->issuer);
		opt_str(w, "serial", leaf->serial);
		opt_str(w, "fingerprint", leaf->sha1);
		opt_str(w, "notbefore", leaf->notbefore);
		opt_str(w, "notafter", leaf->notafter);
		if (leaf->n_san_dns + leaf->n_san_ip) {
			jw_arr(w, "subjectaltname");
			for (size_t i = 0; i < leaf->n_san_dns; i++)
				jw_str(w, NULL, leaf->san_dns[i]);
			for (size_t i = 0; i < leaf->n_san_ip; i++)
				jw_str(w, NULL, leaf->san_ip_str[i]);
			jw_end(w);
		}
	}
	opt_str(w, "sni", t->sni);
	jw_str(w, "version", tls_version_name(t->sh_seen ? t->version : 0));
	jw_bool(w, "session_resumed", t->resumed);
	if (t->ch_seen && t->ja3)
		ja_obj(w, "ja3", t->ja3_md5, t->ja3);
	if (t->sh_seen && t->ja3s)
		ja_obj(w, "ja3s", t->ja3s_md5, t->ja3s);
	if (t->n_alpn) {
		jw_arr(w, "client_alpns");
		for (size_t i = 0; i < t->n_alpn; i++)
			jw_str(w, NULL, t->alpn[i]);
		jw_end(w);
	}
	if (t->server_alpn[0]) {
		jw_arr(w, "server_alpns");
		jw_str(w, NULL, t->server_alpn);
		jw_end(w);
	}
	if (t->ch_seen) {
		jw_obj(w, "client_handshake");
		jw_str(w, "version", tls_version_name(t->ch_version));
		jw_end(w);
	}
	if (t->sh_seen) {
		jw_obj(w, "server_handshake");
		jw_str(w, "version", tls_version_name(t->sh_legacy_version));
		jw_int(w, "cipher", t->cipher);
		jw_end(w);
	}
	if (with_chain && t->n_certs)
		chain_array(w, t);
	jw_end(w);
}

static void cert_obj(struct jsonw *w, const struct x509_info *x)
{
	jw_obj(w, NULL);
	jw_str(w, "sha256", x->sha256);
	jw_int(w, "size", (int64_t)x->der_len);
	if (!x->parsed) {
		jw_str(w, "parse_error", x->error);
		jw_end(w);
		return;
	}
	opt_str(w, "subject", x->subject);
	opt_str(w, "issuer", x->issuer);
	opt_str(w, "serial", x->serial);
	jw_str(w, "sha1", x->sha1);
	jw_str(w, "spki_sha256", x->spki_sha256);
	opt_str(w, "notbefore", x->notbefore);
	opt_str(w, "notafter", x->notafter);
	str_array(w, "san_dns", x->san_dns, x->n_san_dns);
	str_array(w, "san_ip", x->san_ip_str, x->n_san_ip);
	opt_str(w, "key_type", x->key_type);
	jw_int(w, "key_bits", x->key_bits);
	opt_str(w, "sig_alg", x->sig_alg);
	jw_bool(w, "is_ca", x->is_ca);
	jw_bool(w, "self_issued", x->self_issued);
	jw_bool(w, "weak", x->weak);
	jw_end(w);
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

static void matched_array(struct jsonw *w, const struct policy_result *r)
{
	jw_arr(w, "matched");
	for (size_t i = 0; i < r->n_matched; i++)
		jw_str(w, NULL, r->matched[i]);
	jw_end(w);
}

static void result_obj(struct jsonw *w, const struct policy_result *r)
{
	jw_obj(w, NULL);
	jw_str(w, "owner", r->owner);
	matched_array(w, r);
	jw_str(w, "verdict", verdict_name(r->verdict));
	opt_str(w, "anchor", r->anchor);
	jw_str(w, "reason", r->reason);
	jw_end(w);
}

/* The "certsentry" object; left open for the alert's own members. */
static void certsentry_open(struct jsonw *w, const struct hs_event *ev)
{
	const struct tls_session *t = ev->tls;

	jw_obj(w, "certsentry");
	jw_str(w, "handshake", hs_name(ev->hs));
	if (ev->hs == POLICY_HS_ENCRYPTED)
		jw_bool(w, "certificates_encrypted", 1);
	opt_str(w, "note", ev->hs_note);
	if (t->t13_outcome != T13_NONE) {
		/* How the TLS 1.3 certificates were, or were not, read. */
		jw_obj(w, "tls13");
		jw_str(w, "certificates", tls13_outcome_name(t->t13_outcome));
		jw_int(w, "records_decrypted", t->t13_records);
		if (t->hrr)
			jw_bool(w, "hello_retry_request", 1);
		if (t->flight_records) {
			jw_obj(w, "flight");
			jw_int(w, "records", t->flight_records);
			jw_int(w, "bytes", (int64_t)t->flight_bytes);
			jw_end(w);
		}
		if (ev->fp)
			jw_str(w, "fingerprint", ev->fp->outcome == FP_MATCH ? "matched" :
			       ev->fp->outcome == FP_CHANGED ? "changed" : "no-baseline");
		jw_end(w);
	}
	if (ev->stream_mismatch)
		jw_bool(w, "stream_mismatch", 1);
	/* Acknowledged by the receiver, but with a bad TCP checksum here: the
	 * chain is what the client got, read from damaged copies. */
	if (ev->bad_checksum_bytes)
		jw_int(w, "bad_checksum_bytes", (int64_t)ev->bad_checksum_bytes);
	/* supported_versions (RFC 8446 §4.2.1) lists them; an older client
	 * offers everything up to its legacy_version. */
	jw_arr(w, "versions_offered");
	for (size_t i = 0; i < t->n_ch_versions; i++)
		jw_str(w, NULL, tls_version_name(t->ch_versions[i]));
	if (t->n_ch_versions == 0 && t->ch_seen)
		jw_str(w, NULL, tls_version_name(t->ch_version));
	jw_end(w);
	if (t->certs_dropped)
		jw_int(w, "certificates_dropped", (int64_t)t->certs_dropped);
	jw_arr(w, "certificates");
	for (size_t i = 0; i < ev->n_certs; i++)
		cert_obj(w, &ev->certs[i]);
	jw_end(w);
	jw_arr(w, "owners");
	for (size_t i = 0; i < ev->n_res; i++)
		result_obj(w, &ev->res[i]);
	jw_end(w);
}

static void ndpi_obj(struct jsonw *w, const struct classify_result *n)
{
	jw_obj(w, "ndpi");
	jw_str(w, "proto", n->proto);
	jw_str(w, "proto_id", n->proto_id);
	jw_str(w, "category", n->category);
	jw_obj(w, "flow_risk");
	for (unsigned bit = 1; bit < 64; bit++) {
		const char *name = classify_risk_name(bit);
		char key[8];

		if (!(n->risk & (1ULL << bit)) || !name)
			continue;
		snprintf(key, sizeof(key), "%u", bit);
		jw_obj(w, key);
		jw_str(w, "risk", name);
		opt_str(w, "severity", classify_risk_severity(bit));
		jw_end(w);
	}
	jw_end(w);
	jw_end(w);
}

/* Opens the event and writes the common top-level fields of every event. */
static void base_open(struct jsonw *w, const struct hs_event *ev, const char *type)
{
	char ts[OUTPUT_TS_LEN], ip[INET6_ADDRSTRLEN];

	jw_obj(w, NULL);
	output_format_ts(ev->ts_us, ts);
	jw_str(w, "timestamp", ts);
	jw_int(w, "flow_id", (int64_t)ev->flow_id);
	if (ev->capture_file)
		jw_str(w, "pcap_filename", ev->capture_file);
	jw_str(w, "event_type", type);
	if (ev->n_vlan > 0) {
		jw_arr(w, "vlan");
		for (int i = 0; i < ev->n_vlan; i++)
			jw_int(w, NULL, ev->vlan[i]);
		jw_end(w);
	}
	fmt_ip(ev->family, ev->client_ip, ip);
	jw_str(w, "src_ip", ip);
	jw_int(w, "src_port", ev->client_port);
	fmt_ip(ev->family, ev->server_ip, ip);
	jw_str(w, "dest_ip", ip);
	jw_int(w, "dest_port", ev->server_port);
	jw_str(w, "proto", "TCP");
	jw_str(w, "app_proto", "tls");
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
	case VERDICT_FINGERPRINT_CHANGED:
		return "CERTSENTRY TLS 1.3 server fingerprint departs from its baseline";
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
	case VERDICT_FINGERPRINT_CHANGED:   /* evidence, below a verified verdict */
		return 2;
	default:
		return 3;
	}
}

static void alert_obj(struct jsonw *w, const struct policy_result *r)
{
	jw_obj(w, "alert");
	jw_str(w, "action", "allowed");
	jw_int(w, "gid", 1);
	jw_int(w, "signature_id", output_sid(r->verdict));
	jw_int(w, "rev", 1);
	jw_str(w, "signature", verdict_signature(r->verdict));
	jw_str(w, "category", "Misissued or intercepting TLS certificate");
	jw_int(w, "severity", verdict_severity(r->verdict));
	jw_end(w);
}

/* 0 written or queued, 1 dropped or on stderr (counted), -1 error. */
static int emit(struct output *o, const struct jsonw *w, int is_alert)
{
	size_t len;
	const char *line = jw_text(w, &len);

	if (!line) {
		g_stats.output_err++;
		return -1;
	}
	return output_write_line(o, line, len, is_alert);
}

int output_handshake(struct output *o, const struct hs_event *ev)
{
	/* About 8 KB on the stack: most lines are built without an allocation. */
	struct jsonw w;
	int alerts = 0, failed = 0;

	jw_init(&w);
	base_open(&w, ev, "tls");
	tls_obj(&w, ev, o->tls_chain);
	if (ev->ndpi && ev->ndpi->valid)
		ndpi_obj(&w, ev->ndpi);
	certsentry_open(&w, ev);
	jw_end(&w);                     /* certsentry */
	jw_end(&w);                     /* the event */
	if (emit(o, &w, 0) < 0)
		failed = 1;
	for (size_t i = 0; i < ev->n_res; i++) {
		const struct policy_result *r = &ev->res[i];

		if (!verdict_is_alert(r->verdict))
			continue;
		jw_reset(&w);
		base_open(&w, ev, "alert");
		alert_obj(&w, r);
		tls_obj(&w, ev, 1);
		if (ev->ndpi && ev->ndpi->valid)
			ndpi_obj(&w, ev->ndpi);
		certsentry_open(&w, ev);
		jw_str(&w, "owner", r->owner);
		matched_array(&w, r);
		jw_str(&w, "verdict", verdict_name(r->verdict));
		jw_str(&w, "reason", r->reason);
		jw_end(&w);
		jw_end(&w);
		if (emit(o, &w, 1) < 0)
			failed = 1;
		else
			alerts++;
	}
	jw_free(&w);
	return failed ? -1 : alerts;
}
