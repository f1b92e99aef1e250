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
	void *priv;            /* a sink's own state (out_redis.c), owned by it */
};

/* The Redis sink (out_redis.c). */
extern const struct output_sink sink_redis;

#endif
