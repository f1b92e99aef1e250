/*
 * sink.h - where EVE lines go, and what became of each: an output opened
 * on one sink (file, stdout, syslog, Unix sockets, Redis: the registry in
 * sink.c), lines written whole, queued while a consumer is away, and
 * counted found / delivered / lost by reason (output_delivery).  A sink
 * knows lines, not events: event/output.h builds them.  The plug-in
 * interface a sink implements is private to this folder (sink_int.h).
 */
#ifndef CS_SINK_H
#define CS_SINK_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
struct output;

/* Where the lines go: a sink, named as Suricata's eve-log "filetype"
 * ("file" or "regular", "stdout", "syslog", "unix_dgram", "unix_stream",
 * "redis"): whatever sink.c's registry holds.  Each sink is one file
 * (sensor/sink/sink_*.c, see sink_int.h) with its own options. */

/* Slow or absent socket consumers (see the comment at the top of
 * sink.c).  Each can be changed in output_opts; 0 there means these. */
#define OUTPUT_QUEUE_MAX_LINES   1024u               /* lines held while a socket cannot take them */
#define OUTPUT_QUEUE_MAX_BYTES   (4u * 1024u * 1024u) /* ... and their bytes */
#define OUTPUT_RECONNECT_MS      1000u               /* at most one connect attempt per interval */
#define OUTPUT_CLOSE_WAIT_MS     2000u               /* at exit, queued lines wait this long for a consumer */
#define OUTPUT_FINAL_RETRY_MS    100u                /* ... which is connected to again this often */
/* The sensor's name in every event (EVE "host", --sensor-name): at most
 * this many bytes, as a DNS name is at most 255 bytes (RFC 1035 §2.3.4). */
#define OUTPUT_HOST_MAX          255u



/* The sinks' own options given (--redis-key KEY, ...), in order: a
 * sink reads those it declares when it opens. */
#define OUTPUT_MAX_SETTINGS 32
struct output_setting {
	const char *name;                 /* without "--" */
	const char *arg;                  /* NULL for an option without one */
};

struct output_opts {
	const char *type;                 /* a sink's name (output_type_parse); NULL: "file" */
	const char *path;                 /* file, socket or server; NULL or "-": none
	                                     ("file" then writes to standard output) */
	int tls_chain;                    /* include tls.chain in tls events too */
	/* Who wrote the event and how its flow is named across sensors: EVE
	 * options that travel with the output, as tls_chain does. */
	const char *sensor_name;          /* EVE "host": NULL the machine's host
	                                     name (gethostname), "" none */
	unsigned community_id_seed;       /* EVE "community_id" seed, 0..65535 */
	int stdout_closed;                /* the process started with fd 1 closed (main.c
	                                     put /dev/null there so no file takes it):
	                                     every line to stdout is a write error */
	size_t queue_max_lines;           /* 0: OUTPUT_QUEUE_MAX_LINES */
	size_t queue_max_bytes;           /* 0: OUTPUT_QUEUE_MAX_BYTES */
	unsigned reconnect_ms;            /* 0: OUTPUT_RECONNECT_MS */
	struct output_setting set[OUTPUT_MAX_SETTINGS];   /* views (argv) */
	size_t n_set;
};

/* A sink's name or alias (case does not matter) into its name ("regular"
 * gives "file").  0, or -1 with *name untouched. */
int output_type_parse(const char *s, const char **name);
/* The listed sinks' names: "file (default), syslog, ..." for --help
 * (help 1), "file, syslog, ... or redis" for an error (help 0). */
void output_type_names(char *buf, size_t cap, int help);
/* The i-th option a sink takes (its name; *has_arg: takes an argument),
 * NULL past the last: what options.c hands to getopt. */
const char *output_option_name(size_t i, int *has_arg);
/* --NAME ARG, an option some sink declares: checked now, then kept in
 * opts for the sink's open.  0, or -1 with err set (the words it takes;
 * unknown option; too many). */
int output_opts_set(struct output_opts *opts, const char *name, const char *arg, char *err,
                    size_t errlen);
/* The sinks' options in --help, each sink's lines in registry order. */
void output_options_help(FILE *f);
/* The file opts would append to and reopen after rotation, or NULL (a
 * socket, a server, standard output). */
const char *output_reopen_path(const struct output_opts *opts);

/* Delivery: every line offered to an output is delivered or counted as
 * undelivered with its reason, per sink; the summary and the exit status
 * read these (output_delivery), after output_finish has drained. */
enum output_loss {
	OUTPUT_LOSS_WRITE_ERROR = 0,  /* refused for good: full disk, closed stdout, EPIPE,
	                                 a Redis error reply, a datagram too large */
	OUTPUT_LOSS_QUEUE_FULL,       /* the consumer was away or slow and the queue full */
	OUTPUT_LOSS_NO_MEMORY,        /* the line could not be built or queued */
	OUTPUT_LOSS_AT_EXIT,          /* still queued when the drain bound ran out */
	OUTPUT_LOSS_COUNT
};

struct output_delivery {
	const char *sink;                      /* "file", "stdout", "redis", ... */
	char target[128];                      /* path, host or socket ("" for stdout) */
	uint64_t found[2];                     /* lines offered: [0] events, [1] alerts */
	uint64_t delivered[2];                 /* taken by the sink (kernel, daemon, server) */
	uint64_t lost[OUTPUT_LOSS_COUNT][2];   /* undelivered, by reason */
	uint64_t alerts_stderr;                /* undelivered alerts written to stderr instead */
	uint64_t pending[2];                   /* queued now (none once finished) */
	char last_error[128];                  /* the last write error, said in the summary */
	unsigned drain_ms, drain_limit_ms;     /* what output_finish waited, and its bound */
	int finished;
};

/* A copy of o's delivery counts. */
void output_delivery(struct output *o, struct output_delivery *out);
/* Lines found but not delivered: every loss reason, and what is still
 * queued. */
uint64_t output_undelivered(const struct output_delivery *d);
/* Of those, the alerts. */
uint64_t output_undelivered_alerts(const struct output_delivery *d);
/* One or two summary lines ("  output: ..."). */
void output_delivery_print(const struct output_delivery *d, FILE *f);
/* Count a line that was found but never reached the sink (it could not
 * be built). */
void output_count_lost(struct output *o, int is_alert, enum output_loss why);
/* The end of a run: write what is queued, waiting at most
 * OUTPUT_CLOSE_WAIT_MS for a consumer that is away (reconnecting while
 * the bound runs) or busy; what still cannot be written is counted as
 * undelivered at exit, alerts going to standard error.  Idempotent;
 * output_close calls it too. */
void output_finish(struct output *o);

/* NULL with err set when the output cannot be opened.  A socket whose
 * consumer is not there yet is not an error: lines queue until it is. */
struct output *output_open(const struct output_opts *opts, char *err, size_t errlen);
/* output_finish, then the sink closed and o freed. */
void output_close(struct output *o);
/* File: reopen the path (logrotate).  Socket: reconnect now and flush the
 * queue.  Syslog, stdout: nothing.  0, or -1 (the old file stays open). */
int output_reopen(struct output *o);

/* One JSON object, without its '\n', through the sink, the queue and the
 * counters.  is_alert selects the syslog priority and the queue rule.
 * Returns 0 when the line was written or queued; 1 when it was not but
 * this was counted: a non-alert dropped (output_dropped) or an alert
 * written to standard error instead (output_alerts_stderr); -1 on a write
 * error (output_err; an alert also goes to standard error). */
int output_write_line(struct output *o, const char *line, size_t len, int is_alert);

/* Try again to write queued lines (reconnecting if the interval allows):
 * call it now and then when events are rare.  Returns the lines still
 * queued. */
size_t output_flush(struct output *o);
/* Lines queued now. */
size_t output_pending(const struct output *o);
/* --tls-chain: an EVE option that travels with the output it was given
 * for (output_opts.tls_chain), so that event/ can ask it. */
int output_tls_chain(const struct output *o);
/* --sensor-name: the "host" of every event, or NULL for none ("" given,
 * or a machine without a host name). */
const char *output_host(const struct output *o);
/* --community-id-seed. */
uint16_t output_community_id_seed(const struct output *o);

#endif
