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
#include <inttypes.h>
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
	/* Closed at start: fd 1 now holds /dev/null (main.c), which would
	 * swallow every line.  -1 makes each write fail, so that each is
	 * counted as undelivered and alerts reach stderr. */
	o->fd = o->stdout_closed ? -1 : STDOUT_FILENO;
	if (o->stdout_closed)
		snprintf(o->last_error, sizeof(o->last_error), "standard output was closed at start");
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
	int type = o->type == OUTPUT_UNIX_STREAM ? SOCK_STREAM : SOCK_DGRAM;
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

/* What a failed send means (errno): busy or gone (keep the line), or a
 * line that can never go. */
static int sock_failed(struct output *o, size_t *off)
{
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
	return sock_failed(o, off);
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

/* ---- syslog --------------------------------------------------------- */

/* As Suricata's filetype syslog: the JSON object is the message.  Sent by
 * hand to the log socket (/dev/log, or -o PATH) as an RFC 3164 datagram,
 * the form syslog(3) itself sends, rather than through syslog(3): that
 * call returns nothing, so a missing or full log socket would lose every
 * event without a word.  Here the socket is a consumer like any other:
 * away, lines queue and it is connected to again; a line it refuses is
 * counted.  A syslog daemon may cut long messages (rsyslog at 8 KB by
 * default), and an alert carries its chain: prefer a socket or a file
 * for alerts. */
static int syslog_write(struct output *o, const char *line, size_t len, size_t *off,
                        int is_alert)
{
	char hdr[64];
	struct iovec iov[2];
	struct msghdr mh;
	struct tm tm;
	time_t now = time(NULL);
	int pri = o->syslog_facility | (is_alert ? o->syslog_alert_level : LOG_INFO);
	int hl;

	if (o->fd < 0) {
		if (sink_now_ms() - o->last_attempt_ms < o->reconnect_ms || sock_connect(o) < 0)
			return OUTPUT_SINK_AGAIN;
	}
	localtime_r(&now, &tm);
	hl = snprintf(hdr, sizeof(hdr), "<%d>", pri);
	hl += (int)strftime(hdr + hl, sizeof(hdr) - (size_t)hl, "%b %e %H:%M:%S ", &tm);
	hl += snprintf(hdr + hl, sizeof(hdr) - (size_t)hl, "certsentry[%ld]: ", (long)getpid());
	iov[0].iov_base = hdr;
	iov[0].iov_len = (size_t)hl;
	iov[1].iov_base = (char *)line;
	iov[1].iov_len = len;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = iov;
	mh.msg_iovlen = 2;
	while (sendmsg(o->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
		if (errno == EINTR)
			continue;
		return sock_failed(o, off);
	}
	*off = len + 1;
	return OUTPUT_SINK_OK;
}

static const struct sink_link sock_link = { sock_up, sock_connect, sock_wait, NULL };

static const struct output_sink sink_file = {
	"file", file_open, file_write, file_reopen, file_close
};
static const struct output_sink sink_stdout = {
	"stdout", stdout_open, file_write, nothing_reopen, stdout_close
};
static const struct output_sink sink_syslog = {
	"syslog", sock_open, syslog_write, sock_reopen, sock_down
};
static const struct output_sink sink_unix_dgram = {
	"unix_dgram", sock_open, sock_write, sock_reopen, sock_down
};
static const struct output_sink sink_unix_stream = {
	"unix_stream", sock_open, sock_write, sock_reopen, sock_down
};

/* ---- the queue ------------------------------------------------------ */

static const char *const loss_name[OUTPUT_LOSS_COUNT] = {
	"write error", "queue full", "out of memory", "consumer away at exit"
};

/* A line that will not be delivered: counted by reason, and an alert
 * goes to stderr so that a person or journald still sees it.  Under
 * o->lock (or alone, at the end). */
static void line_lost(struct output *o, const char *line, size_t len, int is_alert,
                      enum output_loss why)
{
	o->dl.lost[why][is_alert != 0]++;
	if (why == OUTPUT_LOSS_WRITE_ERROR)
		g_stats.output_err++;
	else if (!is_alert)
		g_stats.output_dropped++;
	if (!is_alert)
		return;
	o->dl.alerts_stderr++;
	g_stats.output_alerts_stderr++;
	fprintf(stderr, "certsentry: undelivered alert (%s): ", loss_name[why]);
	fwrite(line, 1, len, stderr);
	fputc('\n', stderr);
}

/* The reason a sink gave for its last write error, for the summary. */
static void note_error(struct output *o, int err)
{
	if (o->last_error[0]) {
		snprintf(o->dl.last_error, sizeof(o->dl.last_error), "%s", o->last_error);
		o->last_error[0] = 0;
	} else if (err) {
		snprintf(o->dl.last_error, sizeof(o->dl.last_error), "%s", strerror(err));
	}
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
		line_lost(o, l->data, l->len, 0, OUTPUT_LOSS_QUEUE_FULL);
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
			line_lost(o, line, len, is_alert, OUTPUT_LOSS_QUEUE_FULL);
			return 1;
		}
		while (oq_full(o, o->q_lines, o->q_bytes, len))
			oq_drop_one(o);
	}
	l = malloc(sizeof(*l) + len);   /* owned by the queue */
	if (!l) {
		line_lost(o, line, len, is_alert, OUTPUT_LOSS_NO_MEMORY);
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

static int line_failed(struct output *o, const char *line, size_t len, int is_alert)
{
	note_error(o, errno);
	line_lost(o, line, len, is_alert, OUTPUT_LOSS_WRITE_ERROR);
	return -1;
}

/* A queued line the sink is done with: written or failed (counted). */
static void oq_done(struct output *o, int rc)
{
	struct oq_line *l = o->q_head;

	oq_unlink(o, NULL, l);
	if (rc == OUTPUT_SINK_OK) {
		g_stats.events++;
		o->dl.delivered[l->is_alert != 0]++;
	} else {
		line_failed(o, l->data, l->len, l->is_alert);
	}
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

	o->dl.found[is_alert != 0]++;
	if (o->q_head)
		oq_drain(o);
	if (o->q_head)
		return oq_push(o, line, len, 0, is_alert);
	errno = 0;
	rc = o->sink->write(o, line, len, &off, is_alert);
	if (rc == OUTPUT_SINK_OK) {
		g_stats.events++;
		o->dl.delivered[is_alert != 0]++;
		return 0;
	}
	if (rc == OUTPUT_SINK_ERR)
		return line_failed(o, line, len, is_alert);
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

/* At exit: until the bound runs out, connect again whenever the
 * consumer is away (a Redis server restarting, a socket reader coming
 * back) and write while it takes lines; then what remains is counted as
 * undelivered at exit.  Under o->lock. */
static void oq_final(struct output *o)
{
	uint64_t start = sink_now_ms(), until = start + OUTPUT_CLOSE_WAIT_MS;

	o->dl.drain_limit_ms = OUTPUT_CLOSE_WAIT_MS;
	if (!o->q_head || !o->link)
		return;
	for (;;) {
		uint64_t now;

		if (!o->link->up(o))
			(void)o->link->connect(o);
		if (o->link->up(o))
			oq_drain(o);
		now = sink_now_ms();
		if (!o->q_head || now >= until)
			break;
		if (o->link->up(o))
			o->link->wait(o, (unsigned)(until - now));
		else
			(void)poll(NULL, 0, (int)(until - now < OUTPUT_FINAL_RETRY_MS ? until - now
			                                                          : OUTPUT_FINAL_RETRY_MS));
	}
	o->dl.drain_ms = (unsigned)(sink_now_ms() - start);
	while (o->q_head) {
		struct oq_line *l = o->q_head;

		oq_unlink(o, NULL, l);
		line_lost(o, l->data, l->len, l->is_alert, OUTPUT_LOSS_AT_EXIT);
		free(l);
	}
}

void output_finish(struct output *o)
{
	pthread_mutex_lock(&o->lock);
	if (!o->dl.finished) {
		oq_final(o);
		o->dl.finished = 1;
	}
	pthread_mutex_unlock(&o->lock);
}

void output_count_lost(struct output *o, int is_alert, enum output_loss why)
{
	pthread_mutex_lock(&o->lock);
	o->dl.found[is_alert != 0]++;
	o->dl.lost[why][is_alert != 0]++;
	if (!is_alert)
		g_stats.output_dropped++;
	pthread_mutex_unlock(&o->lock);
}

void output_delivery(struct output *o, struct output_delivery *out)
{
	pthread_mutex_lock(&o->lock);
	*out = o->dl;
	out->pending[0] = out->pending[1] = 0;
	for (const struct oq_line *l = o->q_head; l; l = l->next)
		out->pending[l->is_alert != 0]++;
	pthread_mutex_unlock(&o->lock);
}

uint64_t output_undelivered(const struct output_delivery *d)
{
	uint64_t n = d->pending[0] + d->pending[1];

	for (int r = 0; r < OUTPUT_LOSS_COUNT; r++)
		n += d->lost[r][0] + d->lost[r][1];
	return n;
}

void output_delivery_print(const struct output_delivery *d, FILE *f)
{
	uint64_t lost = output_undelivered(d);

	/* The target only when something went wrong there: the line stays
	 * the same for runs that differ only in where they write. */
	if (!lost) {
		fprintf(f, "  output: %s: %" PRIu64 " events found (%" PRIu64 " alerts), all "
		        "delivered\n", d->sink, d->found[0] + d->found[1], d->found[1]);
		return;
	}
	fprintf(f, "  output: %s%s%s: %" PRIu64 " events found (%" PRIu64 " alerts), %" PRIu64
	        " delivered (%" PRIu64 " alerts), %" PRIu64 " undelivered",
	        d->sink, d->target[0] ? " " : "", d->target, d->found[0] + d->found[1],
	        d->found[1], d->delivered[0] + d->delivered[1], d->delivered[1], lost);
	fprintf(f, " (");
	for (int r = 0, first = 1; r < OUTPUT_LOSS_COUNT; r++) {
		if (!(d->lost[r][0] + d->lost[r][1]))
			continue;
		fprintf(f, "%s%s %" PRIu64 ", %" PRIu64 " of them alerts", first ? "" : "; ",
		        loss_name[r], d->lost[r][0] + d->lost[r][1], d->lost[r][1]);
		first = 0;
	}
	if (d->pending[0] + d->pending[1])
		fprintf(f, "; still queued %" PRIu64, d->pending[0] + d->pending[1]);
	fprintf(f, ")");
	if (d->alerts_stderr)
		fprintf(f, ", alerts written to stderr instead %" PRIu64, d->alerts_stderr);
	if (d->last_error[0])
		fprintf(f, "; last error: %s", d->last_error);
	if (d->lost[OUTPUT_LOSS_AT_EXIT][0] + d->lost[OUTPUT_LOSS_AT_EXIT][1])
		fprintf(f, "; waited %u ms of at most %u for the consumer at exit", d->drain_ms,
		        d->drain_limit_ms);
	fputc('\n', f);
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
		o->link = &sock_link;
		if (strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
			snprintf(err, errlen, "%s: socket path too long", path);
			return -1;
		}
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

	if (opts->type == OUTPUT_SYSLOG && no_path) {
		path = OUTPUT_SYSLOG_PATH;
		no_path = 0;
	}

	if (!o) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&o->lock, NULL);
	o->fd = -1;
	o->type = opts->type;
	o->tls_chain = opts->tls_chain;
	o->stdout_closed = opts->stdout_closed;
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
	o->dl.sink = o->sink->name;
	snprintf(o->dl.target, sizeof(o->dl.target), "%s", o->path ? o->path : "");
	o->dl.drain_limit_ms = OUTPUT_CLOSE_WAIT_MS;
	/* Redis says so itself (out_redis.c). */
	if (o->link && !o->link->up(o) && o->type != OUTPUT_REDIS)
		fprintf(stderr, "certsentry: %s output %s: no consumer there yet (%s): events "
		        "queue (at most %zu lines, %zu bytes) and are counted as undelivered if "
		        "none comes\n", o->sink->name, o->path, strerror(errno), o->q_max_lines,
		        o->q_max_bytes);
	if (o->stdout_closed)
		fprintf(stderr, "certsentry: standard output is closed: no event can be delivered "
		        "(alerts go to stderr; exit status 2)\n");
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
	output_finish(o);  /* nothing to do for a sink without a sink_link */
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
