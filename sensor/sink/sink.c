/*
 * sink.c - where EVE lines go (see include/sink/sink.h): the registry of
 * sinks (SINKS below; each sink is its own file, sensor/sink/sink_*.c,
 * see sink_int.h), their options, the queue that holds lines a consumer
 * cannot take yet, delivery accounting, and opening and closing an
 * output.  It must not know what a line says (the EVE builders are
 * output.c) nor what any one sink does.
 *
 * Slow or absent consumers.  The sensor never stops reading packets to
 * wait for a socket or Redis consumer, and never loses an alert without
 * saying so.  How each sink treats its consumer is said at the top of
 * its file:
 *
 *  - file, stdout (sink_file.c): a write blocks as any write does; a
 *    failed one is tried once more, then is a write error (output_err).
 *  - unix_dgram, unix_stream (sink_unix.c), syslog (sink_syslog.c): sends
 *    never block; a line the socket cannot take (consumer gone or busy)
 *    waits in the queue below, and the consumer is connected to again at
 *    most once per OUTPUT_RECONNECT_MS.
 *  - redis (sink_redis.c): one command a line with short timeouts; away,
 *    lines wait in the queue, tried again with a back-off; the queue
 *    goes out pipelined (sink_link.write_batch).
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
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "sink_int.h"
#include "core/jsonw.h"
#include "core/stats.h"

/* ---- the registry ----------------------------------------------------- */

/* Every sink, one line each, in the order --help shows them (their
 * options too): a new sink is its file (sensor/sink/sink_NAME.c, built
 * by the Makefile's wildcard) and its line here. */
#define SINKS \
	SINK(sink_file) \
	SINK(sink_stdout) \
	SINK(sink_syslog) \
	SINK(sink_unix_dgram) \
	SINK(sink_unix_stream) \
	SINK(sink_redis)

#define SINK(s) extern const struct output_sink s;
SINKS
#undef SINK
#define SINK(s) &s,
static const struct output_sink *const registry[] = { SINKS };
#undef SINK
#define N_SINKS (sizeof(registry) / sizeof(registry[0]))

static const struct output_sink *sink_find(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < N_SINKS; i++)
		if (strcasecmp(registry[i]->name, name) == 0 ||
		    (registry[i]->alias && strcasecmp(registry[i]->alias, name) == 0))
			return registry[i];
	return NULL;
}

int output_type_parse(const char *s, const char **name)
{
	const struct output_sink *k = sink_find(s);

	if (!k)
		return -1;
	*name = k->name;
	return 0;
}

void output_type_names(char *buf, size_t cap, int help)
{
	size_t n = 0, listed = 0, k = 0;

	for (size_t i = 0; i < N_SINKS; i++)
		listed += !registry[i]->unlisted;
	buf[0] = '\0';
	for (size_t i = 0; i < N_SINKS && n < cap; i++) {
		const char *sep = k == 0 ? "" : help || k + 1 < listed ? ", " : " or ";
		int w;

		if (registry[i]->unlisted)
			continue;
		w = snprintf(buf + n, cap - n, "%s%s%s", sep, registry[i]->name,
		             help && k == 0 ? " (default)" : "");
		if (w < 0)
			return;
		n += (size_t)w;
		k++;
	}
}

/* The sink's option called name, or NULL. */
static const struct sink_option *option_of(const struct output_sink *k, const char *name)
{
	for (const struct sink_option *p = k->options; p && p->name; p++)
		if (strcmp(p->name, name) == 0)
			return p;
	return NULL;
}

const char *output_option_name(size_t i, int *has_arg)
{
	for (size_t s = 0; s < N_SINKS; s++)
		for (const struct sink_option *p = registry[s]->options; p && p->name; p++)
			if (i-- == 0) {
				*has_arg = p->has_arg;
				return p->name;
			}
	return NULL;
}

/* arg into cfg, the settings of the option's sink.  0, or -1 with err
 * set ("--NAME: why"). */
static int option_apply(const struct sink_option *p, void *cfg, const char *arg, char *err,
                        size_t errlen)
{
	char why[160] = "";

	if (p->parse(cfg, arg, why, sizeof(why)) == 0)
		return 0;
	snprintf(err, errlen, "--%s: %s", p->name, why[0] ? why : "bad argument");
	return -1;
}

int output_opts_set(struct output_opts *opts, const char *name, const char *arg, char *err,
                    size_t errlen)
{
	for (size_t s = 0; s < N_SINKS; s++) {
		const struct sink_option *p = option_of(registry[s], name);
		void *scratch;
		int rc;

		if (!p)
			continue;
		/* checked now, so that a bad word is said before anything opens */
		scratch = calloc(1, registry[s]->cfg_size ? registry[s]->cfg_size : 1);  /* freed below */
		if (!scratch) {
			snprintf(err, errlen, "--%s: out of memory", name);
			return -1;
		}
		rc = option_apply(p, scratch, arg, err, errlen);
		free(scratch);
		if (rc < 0)
			return -1;
		if (opts->n_set >= OUTPUT_MAX_SETTINGS) {
			snprintf(err, errlen, "--%s: at most %u output options", name,
			         OUTPUT_MAX_SETTINGS);
			return -1;
		}
		opts->set[opts->n_set].name = p->name;
		opts->set[opts->n_set++].arg = arg;
		return 0;
	}
	snprintf(err, errlen, "--%s: no output takes this option", name);
	return -1;
}

void output_options_help(FILE *f)
{
	for (size_t i = 0; i < N_SINKS; i++)
		if (registry[i]->help)
			registry[i]->help(f);
}

/* No path: nothing, or "-". */
static int no_path(const char *path)
{
	return !path || !*path || strcmp(path, "-") == 0;
}

const char *output_reopen_path(const struct output_opts *opts)
{
	const struct output_sink *k = sink_find(opts->type ? opts->type : "file");

	return k && k->rotates && !no_path(opts->path) ? opts->path : NULL;
}

/* ---- for the sinks ----------------------------------------------------- */

int sink_words(int rc, const char *say, char *why, size_t whylen)
{
	if (rc == 0)
		return 0;
	snprintf(why, whylen, "%s", say);
	return -1;
}

uint64_t sink_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int sink_parse_number(const char *arg, uint64_t min, uint64_t max, uint64_t *out, char *why,
                      size_t whylen)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = arg ? strtoull(arg, &end, 10) : 0;
	if (!arg || errno || end == arg || *end || arg[0] == '-' || v < min || v > max) {
		snprintf(why, whylen, "'%s' is not a number in %" PRIu64 "..%" PRIu64,
		         arg ? arg : "", min, max);
		return -1;
	}
	*out = v;
	return 0;
}

/* EAGAIN only from a socket: files wait. */
int sink_fd_send(int fd, const char *line, size_t len, size_t *off, int sock)
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

/* ---- the queue ------------------------------------------------------ */

static const char *const loss_name[OUTPUT_LOSS_COUNT] = {
	"write error", "queue full", "out of memory", "consumer away at exit"
};

/* The counters of a line that will not be delivered, by reason. */
static void count_loss(struct output *o, int is_alert, enum output_loss why)
{
	o->dl.lost[why][is_alert != 0]++;
	if (why == OUTPUT_LOSS_WRITE_ERROR)
		g_stats.output_err++;
	else if (!is_alert)
		g_stats.output_dropped++;
}

/* A line that will not be delivered: counted by reason, and an alert
 * goes to stderr so that a person or journald still sees it.  Under
 * o->lock (or alone, at the end). */
static void line_lost(struct output *o, const char *line, size_t len, int is_alert,
                      enum output_loss why)
{
	count_loss(o, is_alert, why);
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
	count_loss(o, is_alert, why);
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

/* Undelivered lines of one kind: [0] events, [1] alerts. */
static uint64_t undelivered_of(const struct output_delivery *d, int alerts)
{
	uint64_t n = d->pending[alerts];

	for (int r = 0; r < OUTPUT_LOSS_COUNT; r++)
		n += d->lost[r][alerts];
	return n;
}

uint64_t output_undelivered(const struct output_delivery *d)
{
	return undelivered_of(d, 0) + undelivered_of(d, 1);
}

uint64_t output_undelivered_alerts(const struct output_delivery *d)
{
	return undelivered_of(d, 1);
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

/* The sink's options from opts->set, into a fresh cfg (calloc'd; owned
 * by the caller, output_open, which frees it once the sink's open has
 * copied what it keeps): NULL with err set. */
static void *sink_cfg(const struct output_sink *k, const struct output_opts *opts, char *err,
                      size_t errlen)
{
	void *cfg = calloc(1, k->cfg_size ? k->cfg_size : 1);

	if (!cfg) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	/* Options of other sinks are not this output's: ignored, as a
	 * --redis-key with a file output always was. */
	for (size_t i = 0; i < opts->n_set && i < OUTPUT_MAX_SETTINGS; i++) {
		const struct sink_option *p = option_of(k, opts->set[i].name);

		if (p && option_apply(p, cfg, opts->set[i].arg, err, errlen) < 0) {
			free(cfg);
			return NULL;
		}
	}
	return cfg;
}

/* The sink for opts, and the path it is opened with (*path): what it
 * needs of a path checked.  NULL with err set. */
static const struct output_sink *choose_sink(const struct output_opts *opts, const char **path,
                                             char *err, size_t errlen)
{
	const struct output_sink *k = sink_find(opts->type ? opts->type : "file");

	if (!k) {
		snprintf(err, errlen, "unknown output type %s", opts->type);
		return NULL;
	}
	*path = opts->path;
	if (!no_path(*path) && !k->no_target)
		return k;
	*path = NULL;
	if (k->default_path)
		*path = k->default_path;
	else if (k->no_path_sink)
		k = sink_find(k->no_path_sink);
	else if (k->no_path_error) {
		snprintf(err, errlen, "%s output %s", k->name, k->no_path_error);
		return NULL;
	}
	if (!k)
		snprintf(err, errlen, "no sink for output type %s", opts->type);
	return k;
}

int output_tls_chain(const struct output *o)
{
	return o->tls_chain;
}

const char *output_host(const struct output *o)
{
	return o->host[0] ? o->host : NULL;
}

uint16_t output_community_id_seed(const struct output *o)
{
	return o->cid_seed;
}

/* The sensor's name: --sensor-name as given (bounded, UTF-8, so that the
 * name written is the name given), else the machine's host name, as
 * Suricata's sensor-name defaults to it.  0, or -1 with err set. */
static int identity_init(struct output *o, const struct output_opts *opts, char *err,
                         size_t errlen)
{
	const char *name = opts->sensor_name;

	if (opts->community_id_seed > UINT16_MAX) {
		snprintf(err, errlen, "--community-id-seed: %u is not in 0..65535",
		         opts->community_id_seed);
		return -1;
	}
	o->cid_seed = (uint16_t)opts->community_id_seed;
	if (name) {
		size_t n = strlen(name);

		if (n > OUTPUT_HOST_MAX) {
			snprintf(err, errlen, "--sensor-name: %zu bytes, at most %u", n,
			         OUTPUT_HOST_MAX);
			return -1;
		}
		if (!jsonw_utf8_valid((const unsigned char *)name, n)) {
			snprintf(err, errlen, "--sensor-name: not valid UTF-8");
			return -1;
		}
		memcpy(o->host, name, n + 1);
		return 0;
	}
	/* POSIX leaves a truncated name's NUL unspecified: one more byte
	 * than gethostname may fill, and set. */
	if (gethostname(o->host, sizeof(o->host) - 1) < 0) {
		snprintf(err, errlen, "cannot read the host name (%s): give --sensor-name",
		         strerror(errno));
		return -1;
	}
	o->host[sizeof(o->host) - 1] = '\0';
	return 0;
}

struct output *output_open(const struct output_opts *opts, char *err, size_t errlen)
{
	struct output *o = calloc(1, sizeof(*o));   /* owned by the caller */
	const char *path = NULL;
	void *cfg = NULL;
	int rc;

	if (!o) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&o->lock, NULL);
	o->fd = -1;
	o->tls_chain = opts->tls_chain;
	if (identity_init(o, opts, err, errlen) < 0)
		goto err;
	o->stdout_closed = opts->stdout_closed;
	o->q_max_lines = opts->queue_max_lines ? opts->queue_max_lines : OUTPUT_QUEUE_MAX_LINES;
	o->q_max_bytes = opts->queue_max_bytes ? opts->queue_max_bytes : OUTPUT_QUEUE_MAX_BYTES;
	o->reconnect_ms = opts->reconnect_ms ? opts->reconnect_ms : OUTPUT_RECONNECT_MS;
	o->sink = choose_sink(opts, &path, err, errlen);
	if (!o->sink)
		goto err;
	o->link = o->sink->link;
	if (path) {
		o->path = strdup(path);   /* owned by o; freed in output_close */
		if (!o->path) {
			snprintf(err, errlen, "out of memory");
			goto err;
		}
	}
	cfg = sink_cfg(o->sink, opts, err, errlen);
	if (!cfg)
		goto err;
	/* A sink's open() that fails has nothing left to close. */
	o->cfg = cfg;
	o->opts = opts;
	rc = o->sink->open(o, path);
	o->cfg = NULL;
	o->opts = NULL;
	free(cfg);
	if (rc < 0) {
		const char *why = o->why[0] ? o->why : strerror(errno);

		/* a consumer that can be away says which output it is */
		if (!o->link)
			snprintf(err, errlen, "%s: cannot open output: %s", path ? path : "-", why);
		else
			snprintf(err, errlen, "%s: cannot open %s output: %s", path ? path : "-",
			         o->sink->name, why);
		goto err;
	}
	o->dl.sink = o->sink->name;
	snprintf(o->dl.target, sizeof(o->dl.target), "%s", o->path ? o->path : "");
	o->dl.drain_limit_ms = OUTPUT_CLOSE_WAIT_MS;
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
