/*
 * sink.h - the inside of an output, shared by sink.c (file, stdout, syslog,
 * Unix sockets, the queue) and the sinks in their own files (out_redis.c).
 * Nothing outside the output stage includes it: the rest of certsentry
 * sees only output.h.
 */
#ifndef CS_SINK_H
#define CS_SINK_H

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

#include "output.h"

/* At most this many queued lines go to a sink's write_batch at once (the
 * results array lives on the stack of the queue's drain). */
#define SINK_BATCH_MAX 256u

/* One line a consumer could not take yet.  Owned by the queue; freed when
 * written or dropped. */
struct oq_line {
	struct oq_line *next;
	size_t len;            /* of data, without the '\n' */
	size_t off;            /* bytes of data + '\n' the current connection took */
	int is_alert;
	char data[];
};

/* What the queue needs of a sink whose consumer can be away (the Unix
 * sockets, Redis), beside its struct output_sink: output_close's last
 * attempt (one more connect whatever the interval, then a short wait for
 * a consumer that is there but busy), and optionally a way to write many
 * queued lines in one go.  A sink without one (file, stdout, syslog)
 * never returns OUTPUT_SINK_AGAIN, so nothing of it is ever queued. */
struct sink_link {
	int (*up)(const struct output *o);           /* connected now */
	int (*connect)(struct output *o);            /* try now: 0, or -1 (away) */
	void (*wait)(struct output *o, unsigned ms); /* until it may take more */
	/* NULL: one write() a line.  Else write lines first.. (at most max of
	 * them, following ->next), setting rc[i] to OUTPUT_SINK_OK or
	 * OUTPUT_SINK_ERR for each line done, in order; returns how many are
	 * done.  Fewer than offered: the rest wait (as OUTPUT_SINK_AGAIN). */
	size_t (*write_batch)(struct output *o, struct oq_line *first, size_t max, int *rc);
};

struct output {
	/* Live-capture workers share one output: every line, flush and
	 * reopen goes through this lock, so lines never interleave. */
	pthread_mutex_t lock;
	const struct output_sink *sink;
	const struct sink_link *link;   /* NULL: the sink's consumer is never away */
	enum output_type type;
	FILE *fp;              /* stdout, for the stdio buffer only */
	int fd;                /* file or socket; -1 while a socket is down */
	char *path;            /* owned copy, for reopen and reconnect */
	int tls_chain;
	int syslog_facility, syslog_alert_level;
	/* Set only while sink->open runs (the options a sink reads at open,
	 * NULL otherwise): open copies what it keeps. */
	const struct output_opts *opts;
	/* A sink's open() that fails may say why here (else errno does). */
	char why[160];
	/* consumers that can be away */
	struct oq_line *q_head, *q_tail;
	size_t q_lines, q_bytes;
	size_t q_max_lines, q_max_bytes;
	uint64_t reconnect_ms, last_attempt_ms;
	int connected_once;
	void *priv;            /* a sink's own state (out_redis.c), owned by it */
	int stdout_closed;     /* see output_opts */
	struct output_delivery dl;   /* under lock */
	char last_error[128];  /* a sink's write error, for dl.last_error */
};

/* Monotonic milliseconds, for reconnect intervals. */
uint64_t sink_now_ms(void);

/* The Redis sink (out_redis.c). */
extern const struct output_sink sink_redis;
extern const struct sink_link sink_redis_link;

#endif
