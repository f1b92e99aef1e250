/*
 * sink_unix.c - the Unix socket sinks (--output-type unix_dgram: one
 * datagram a line to a bound AF_UNIX socket; unix_stream: '\n'-ended
 * lines on a connected one), and the AF_UNIX consumer they share with
 * the syslog sink (sink_int.h: sink_unix_*).
 *
 * Sends never block (MSG_DONTWAIT; MSG_NOSIGNAL, so a consumer that dies
 * cannot kill the sensor with SIGPIPE).  A line the socket cannot take -
 * the consumer is gone (ECONNREFUSED, ENOENT, EPIPE, ...) or busy
 * (EAGAIN, ENOBUFS: a full datagram queue or stream buffer) - waits in
 * sink.c's queue.  A gone consumer is reconnected at most once per
 * o->reconnect_ms (OUTPUT_RECONNECT_MS, 1 s), tried when the next line is
 * written or output_flush is called.  A line a datagram socket can never
 * carry (EMSGSIZE) is a write error.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "sink_int.h"
#include "core/stats.h"

void sink_unix_down(struct output *o)
{
	if (o->fd >= 0)
		close(o->fd);
	o->fd = -1;
}

/* Connect now.  Non-blocking, so a listener with a full backlog is
 * EAGAIN, not a wait.  -1 with errno when the consumer is not there. */
int sink_unix_connect(struct output *o, int sock_type)
{
	struct sockaddr_un sa;
	int fd, e;

	sink_unix_down(o);
	o->last_attempt_ms = sink_now_ms();
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, o->path, strlen(o->path) + 1);   /* length checked at open */
	fd = socket(AF_UNIX, sock_type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
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

/* The consumer not listening yet is no error: lines queue until it is.
 * Anything else (no permission, a listener of the other socket type:
 * EPROTOTYPE) is a configuration error. */
int sink_unix_open(struct output *o, int sock_type)
{
	if (strlen(o->path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		snprintf(o->why, sizeof(o->why), "socket path too long (at most %zu bytes)",
		         sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
		return -1;
	}
	if (sink_unix_connect(o, sock_type) == 0)
		return 0;
	if (errno != ENOENT && errno != ECONNREFUSED && errno != EAGAIN)
		return -1;
	fprintf(stderr, "certsentry: %s output %s: no consumer there yet (%s): events queue (at "
	        "most %zu lines, %zu bytes) and are counted as undelivered if none comes\n",
	        o->sink->name, o->path, strerror(errno), o->q_max_lines, o->q_max_bytes);
	return 0;
}

int sink_unix_reopen(struct output *o, int sock_type)
{
	if (sink_unix_connect(o, sock_type) == 0)
		return 0;
	return errno == ENOENT || errno == ECONNREFUSED || errno == EAGAIN ? 0 : -1;
}

/* What a failed send means (errno): busy or gone (keep the line), or a
 * line that can never go. */
int sink_unix_failed(struct output *o, size_t *off)
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
		sink_unix_down(o);
		g_stats.output_disconnects++;
		*off = 0;
		return OUTPUT_SINK_AGAIN;
	}
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

/* ---- unix_dgram, unix_stream ----------------------------------------- */

extern const struct output_sink sink_unix_stream;

static int sock_type(const struct output *o)
{
	return o->sink == &sink_unix_stream ? SOCK_STREAM : SOCK_DGRAM;
}

static int sock_connect(struct output *o)
{
	return sink_unix_connect(o, sock_type(o));
}

const struct sink_link sink_unix_link = { sock_up, sock_connect, sock_wait, NULL };

static int sock_open(struct output *o, const char *arg)
{
	(void)arg;
	return sink_unix_open(o, sock_type(o));
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
	if (sink_fd_send(o->fd, line, len, off, 1) == 0)
		return OUTPUT_SINK_OK;
	return sink_unix_failed(o, off);
}

static int sock_reopen(struct output *o)
{
	return sink_unix_reopen(o, sock_type(o));
}

const struct output_sink sink_unix_dgram = {
	.name = "unix_dgram", .no_path_error = "needs a socket path",
	.open = sock_open, .write = sock_write, .reopen = sock_reopen, .close = sink_unix_down,
	.link = &sink_unix_link,
};

const struct output_sink sink_unix_stream = {
	.name = "unix_stream", .no_path_error = "needs a socket path",
	.open = sock_open, .write = sock_write, .reopen = sock_reopen, .close = sink_unix_down,
	.link = &sink_unix_link,
};
