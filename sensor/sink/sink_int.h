/*
 * sink_int.h - the inside of an output: what a sink is (struct output_sink),
 * what every sink shares (struct output, the queue's lines, a few
 * helpers), and the registry that names them (sink.c).  Private to
 * sensor/sink/: the rest of certsentry sees only include/sink/sink.h
 * (tests/test_output.c reads it to test the sinks white-box).
 *
 * A sink is one file, sensor/sink/sink_NAME.c, defining one
 * `const struct output_sink sink_NAME` (or several, as sink_file.c for
 * file and stdout), plus its line in sink.c's SINKS list.  The Makefile
 * builds every sensor/sink/sink_*.c.  The sink keeps its own state in
 * o->priv and takes its own options (struct sink_option): options.c and
 * --help reach them through the registry.
 */
#ifndef CS_SINK_INT_H
#define CS_SINK_INT_H

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

#include "sink/sink.h"

/* At most this many queued lines go to a sink's write_batch at once (the
 * results array lives on the stack of the queue's drain). */
#define SINK_BATCH_MAX 256u

/* What a sink's write did with one line (the line plus its '\n'). */
#define OUTPUT_SINK_OK     0   /* all of it written */
#define OUTPUT_SINK_AGAIN  1   /* not (all) taken now: consumer gone or busy; keep it */
#define OUTPUT_SINK_ERR  (-1)  /* this line can never be written (counted) */

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
 * sockets, syslog, Redis): output_close's last attempt (one more connect
 * whatever the interval, then a short wait for a consumer that is there
 * but busy), and optionally a way to write many queued lines in one go.
 * A sink without one (file, stdout) never returns OUTPUT_SINK_AGAIN, so
 * nothing of it is ever queued. */
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

/* An option of a sink on the command line (--redis-key KEY).  parse
 * checks arg and puts it into the sink's settings, cfg (the sink's own
 * struct of output_sink.cfg_size bytes, zeroed first: 0 means the
 * default): 0, or -1 with why set ("list, rpush, ..."; said as
 * "--NAME: WHY").  It keeps views (arg outlives the open) and allocates
 * nothing: output_opts_set runs it on a scratch cfg to check the
 * argument when the option is read. */
struct sink_option {
	const char *name;              /* without "--" */
	int has_arg;                   /* 1: takes an argument (getopt's required_argument) */
	int (*parse)(void *cfg, const char *arg, char *why, size_t whylen);
};

/* One table per sink.  write() continues a line at *off (bytes of line +
 * '\n' already taken; only a stream socket stops part-way) and advances
 * it; reopen() is logrotate for a file and a reconnect for a socket. */
struct output_sink {
	const char *name;              /* --output-type NAME */
	const char *alias;             /* another name for it (Suricata's), or NULL */
	int unlisted;                  /* not named in --help's --output-type line */
	/* Without a path (no -o, or "-"): */
	const char *default_path;      /* the path used instead (syslog: /dev/log), */
	const char *no_path_sink;      /* ... or the sink used instead (file: stdout), */
	const char *no_path_error;     /* ... or "needs ..." (said as "NAME output needs ..."); */
	int no_target;                 /* ... all NULL: none needed; no_target: never used */
	int rotates;                   /* a file at the path, reopened after rotation
	                                  (output_reopen_path) */
	/* open: 0, or -1 with o->why (else errno) set; nothing left to close.
	 * o->cfg holds the options (see sink_option) while it runs; open
	 * copies what it keeps into o->priv. */
	int (*open)(struct output *o, const char *arg);
	int (*write)(struct output *o, const char *line, size_t len, size_t *off, int is_alert);
	int (*reopen)(struct output *o);
	void (*close)(struct output *o);
	const struct sink_link *link;  /* NULL: the consumer is never away */
	const struct sink_option *options;  /* ended by a NULL name; NULL: none */
	size_t cfg_size;               /* bytes of the options' struct (0: none) */
	void (*help)(FILE *f);         /* the options' --help lines, or NULL */
};

struct output {
	/* Live-capture workers share one output: every line, flush and
	 * reopen goes through this lock, so lines never interleave. */
	pthread_mutex_t lock;
	const struct output_sink *sink;
	const struct sink_link *link;   /* sink->link: NULL, never away */
	int fd;                /* file or socket; -1 while a socket is down */
	char *path;            /* owned copy, for reopen and reconnect; NULL: none */
	int tls_chain;         /* an EVE option (output.c), not a sink's */
	char host[OUTPUT_HOST_MAX + 1];   /* EVE option: "" writes no host */
	uint16_t cid_seed;     /* EVE option: the Community ID seed */
	int stdout_closed;     /* see output_opts */
	/* Set only while sink->open runs (NULL otherwise): the sink's options
	 * (its cfg struct) and the generic ones.  open copies what it keeps. */
	const void *cfg;
	const struct output_opts *opts;
	/* A sink's open() that fails may say why here (else errno does). */
	char why[160];
	/* consumers that can be away */
	struct oq_line *q_head, *q_tail;
	size_t q_lines, q_bytes;
	size_t q_max_lines, q_max_bytes;
	uint64_t reconnect_ms, last_attempt_ms;
	int connected_once;
	void *priv;            /* the sink's own state, owned by it (freed in its close) */
	struct output_delivery dl;   /* under lock */
	char last_error[128];  /* a sink's write error, for dl.last_error */
};

/* ---- for the sinks (sink.c) ----------------------------------------- */

/* Monotonic milliseconds, for reconnect intervals. */
uint64_t sink_now_ms(void);
/* Send line + '\n' from *off on, to a file (sock 0: writev, waiting out
 * a non-blocking descriptor) or a socket (sendmsg, never blocking, never
 * SIGPIPE).  0 when all of it is written, else -1 with errno. */
int sink_fd_send(int fd, const char *line, size_t len, size_t *off, int sock);
/* A decimal number in min..max for an option: 0, or -1 with why set
 * ("'x' is not a number in 1..5"). */
int sink_parse_number(const char *arg, uint64_t min, uint64_t max, uint64_t *out, char *why,
                      size_t whylen);

/* An option's parse that looked a word up: rc 0 gives 0; else why is
 * set to the words it takes (say) and -1 returned. */
int sink_words(int rc, const char *say, char *why, size_t whylen);

/* An AF_UNIX consumer (sink_unix.c), for the sinks that write to one
 * (unix_dgram, unix_stream, syslog): connect now (sock_type SOCK_DGRAM
 * or SOCK_STREAM; 0, or -1 with errno), close, what a failed send means
 * (OUTPUT_SINK_AGAIN or OUTPUT_SINK_ERR, from errno), an open that takes
 * an absent consumer as "not yet" (saying so), and its sink_link. */
int sink_unix_connect(struct output *o, int sock_type);
void sink_unix_down(struct output *o);
int sink_unix_failed(struct output *o, size_t *off);
int sink_unix_open(struct output *o, int sock_type);
int sink_unix_reopen(struct output *o, int sock_type);
extern const struct sink_link sink_unix_link;

/* ---- the sinks' own names, checked by tests/test_output.c ----------- */

/* sink_syslog.c: "user", "daemon", "local0".."local7"; "emerg".."debug"
 * (syslog(3) level names, and Suricata's).  0, or -1 with *out untouched. */
int output_syslog_facility_parse(const char *s, int *out);
int output_syslog_level_parse(const char *s, int *out);

/* sink_redis.c: how a line goes into Redis, as Suricata's eve-log redis
 * "mode", plus streams. */
enum output_redis_mode {
	OUTPUT_REDIS_LPUSH = 0,   /* "list" or "lpush" (Suricata's default) */
	OUTPUT_REDIS_RPUSH,       /* "rpush" */
	OUTPUT_REDIS_PUBLISH,     /* "channel" or "publish" */
	OUTPUT_REDIS_XADD,        /* "stream": XADD key MAXLEN ~ N * event LINE */
};
#define OUTPUT_REDIS_DEF_KEY     "certsentry"
/* "list", "lpush", "rpush", "channel", "publish", "stream": 0, or -1. */
int output_redis_mode_parse(const char *s, enum output_redis_mode *out);

#endif
