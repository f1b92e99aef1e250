/*
 * sink_redis.c - the Redis sink (--output-type redis): one command a line,
 * through hiredis's synchronous API.  Only this file includes hiredis.
 * Its options: --redis-mode, --redis-key, --redis-auth, --redis-maxlen
 * (redis_options below).
 *
 * Modes, as Suricata's eve-log redis output, plus streams:
 *   list, lpush     LPUSH KEY LINE   (consumers BRPOP: oldest first)
 *   rpush           RPUSH KEY LINE
 *   channel, publish  PUBLISH KEY LINE  (only subscribers present at that
 *                   moment receive it; Redis keeps nothing)
 *   stream          XADD KEY MAXLEN ~ N * event LINE  (consumer groups;
 *                   "~": Redis trims whole nodes, so a stream may hold a
 *                   little more than N entries)
 * LINE is the EVE object without its '\n', passed binary-safe (%b).
 *
 * Target (-o): HOST[:PORT] (PORT 6379 unless given; an IPv6 address as
 * [ADDR]:PORT, or bare without a port), or a Unix socket path starting
 * with '/' or "unix:".  A host name is resolved at every connect by
 * getaddrinfo, which hiredis does not time-limit: prefer an address or a
 * socket when the resolver may hang.
 *
 * Never slowing the packets.  Every command runs with REDIS_COMMAND_TIMEOUT_MS
 * and every connect with REDIS_CONNECT_TIMEOUT_MS, so a hung server costs
 * one such wait, not a stall.  A server that is away (connect refused,
 * connection lost, a timeout), that refuses us (AUTH, NOAUTH) or that cannot
 * take writes now (LOADING, OOM, READONLY, MISCONF, ...) is away: the
 * connection is dropped, the line waits in sink.c's queue, and the next
 * attempt comes after o->reconnect_ms, doubling after each attempt the
 * server answers nothing on, up to REDIS_BACKOFF_MAX_MS, and back
 * to o->reconnect_ms once it answers.  In between, write returns
 * OUTPUT_SINK_AGAIN at once without touching the network.  An outage is
 * counted once in output_disconnects, when a server that took lines (or
 * refused AUTH at start) goes; the line that ends it counts
 * output_reconnects.  A server not up at start is no disconnect (as for
 * the sockets), but open says so on standard error; a refusal is said
 * once until a line is taken again.  An error reply about the line itself
 * (WRONGTYPE: the key holds something else) is that line's write error
 * (output_err; the first is said on standard error).
 *
 * The queue goes out pipelined (write_batch): every command appended,
 * then the replies read, one round trip for up to SINK_BATCH_MAX lines.
 *
 * Delivery is at least once: a command whose reply is lost with the
 * connection (or timed out) is sent again after reconnecting, and Redis
 * may have executed it.
 *
 * SIGPIPE: hiredis writes with write(2), and a server gone away raises
 * SIGPIPE, whose default action ends the process (reading files, main
 * does not ignore it).  Rather than change the process's dispositions, the
 * calling thread keeps SIGPIPE blocked while hiredis runs and takes away
 * any it raised (as libpq does); write(2) then fails with EPIPE and
 * hiredis reports a connection error.
 *
 * Must not: build EVE lines (output.c does).
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "core/fileio.h"
#include "sink_int.h"
#include "core/stats.h"

#define REDIS_DEF_PORT    6379
#define REDIS_DEF_MAXLEN  100000u
#define REDIS_BACKOFF_MAX_MS 30000u   /* reconnect back-off ceiling */
/* --redis-auth FILE: its first line, at most this long (a password file
 * is small: anything larger is not one). */
#define REDIS_AUTH_MAX    510u
#define REDIS_AUTH_FILE_MAX (64u * 1024u)

/* A connect (TCP handshake, or a Unix socket's backlog) and a command
 * (send and reply) each wait at most this long: a hung server must not
 * hold packet processing (and, live, every worker behind the output lock)
 * for longer.  A healthy local server answers in well under 1 ms. */
#define REDIS_CONNECT_TIMEOUT_MS 200u
#define REDIS_COMMAND_TIMEOUT_MS 200u
/* A DNS name is at most 253 characters (RFC 1035 §2.3.4). */
#define REDIS_HOST_MAX 255u

struct redis_target {
	int is_unix;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char host[REDIS_HOST_MAX + 1];
	int port;
};

/* o->priv; owned by the output, freed in redis_close. */
struct redis_out {
	redisContext *c;          /* NULL while away; owned, redisFree */
	struct redis_target t;
	enum output_redis_mode mode;
	char *key;                /* owned */
	char *auth;               /* owned; wiped before it is freed */
	unsigned long maxlen;
	uint64_t wait_ms;         /* before the next attempt, from o->last_attempt_ms */
	uint64_t answered;        /* commands this connection answered */
	int outage;               /* away since the last answered line (counted) */
	int refused_said;         /* a refusal said, until a line is answered */
	int err_said;             /* the first line error said */
	char last_err[128];       /* why the last connect failed, for open's warning */
};

/* The options (o->cfg while redis_open runs; views into argv).  0 or
 * NULL: the default. */
struct redis_cfg {
	enum output_redis_mode mode;   /* --redis-mode: LPUSH */
	const char *key;               /* --redis-key: OUTPUT_REDIS_DEF_KEY */
	const char *auth_file;         /* --redis-auth FILE: no AUTH */
	unsigned long maxlen;          /* --redis-maxlen: REDIS_DEF_MAXLEN */
};

/* ---- mode names ------------------------------------------------------ */

int output_redis_mode_parse(const char *s, enum output_redis_mode *out)
{
	static const struct {
		const char *name;
		enum output_redis_mode mode;
	} modes[] = {
		{ "list", OUTPUT_REDIS_LPUSH }, { "lpush", OUTPUT_REDIS_LPUSH },
		{ "rpush", OUTPUT_REDIS_RPUSH },
		{ "channel", OUTPUT_REDIS_PUBLISH }, { "publish", OUTPUT_REDIS_PUBLISH },
		{ "stream", OUTPUT_REDIS_XADD },
	};

	if (!s)
		return -1;
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (strcasecmp(s, modes[i].name) == 0) {
			*out = modes[i].mode;
			return 0;
		}
	return -1;
}

/* ---- options --------------------------------------------------------- */

static int opt_mode(void *cfg, const char *arg, char *why, size_t whylen)
{
	enum output_redis_mode *v = &((struct redis_cfg *)cfg)->mode;

	return sink_words(output_redis_mode_parse(arg, v),
	                  "list, lpush, rpush, channel, publish or stream", why, whylen);
}

/* Checked at open (an empty key says "empty --redis-key" there). */
static int opt_key(void *cfg, const char *arg, char *why, size_t whylen)
{
	(void)why;
	(void)whylen;
	((struct redis_cfg *)cfg)->key = arg;
	return 0;
}

/* Read at open, as root, before privileges are dropped. */
static int opt_auth(void *cfg, const char *arg, char *why, size_t whylen)
{
	(void)why;
	(void)whylen;
	((struct redis_cfg *)cfg)->auth_file = arg;
	return 0;
}

static int opt_maxlen(void *cfg, const char *arg, char *why, size_t whylen)
{
	uint64_t v;

	if (sink_parse_number(arg, 1, 1ull << 40, &v, why, whylen) < 0)
		return -1;
	((struct redis_cfg *)cfg)->maxlen = (unsigned long)v;
	return 0;
}

static const struct sink_option redis_options[] = {
	{ "redis-mode", 1, opt_mode },
	{ "redis-key", 1, opt_key },
	{ "redis-auth", 1, opt_auth },
	{ "redis-maxlen", 1, opt_maxlen },
	{ NULL, 0, NULL }
};

static void redis_help(FILE *f)
{
	fprintf(f,
"      --redis-mode M     list (LPUSH, default), rpush, channel (PUBLISH) or\n"
"                         stream (XADD key MAXLEN ~ N * event LINE)\n"
"      --redis-key KEY    list, channel or stream name (" OUTPUT_REDIS_DEF_KEY ")\n"
"      --redis-auth FILE  AUTH with the password in FILE (first line)\n"
"      --redis-maxlen N   stream mode: MAXLEN ~ N (%lu)\n", (unsigned long)REDIS_DEF_MAXLEN);
}

static const char *mode_command(enum output_redis_mode m)
{
	switch (m) {
	case OUTPUT_REDIS_RPUSH: return "RPUSH";
	case OUTPUT_REDIS_PUBLISH: return "PUBLISH";
	case OUTPUT_REDIS_XADD: return "XADD";
	default: return "LPUSH";
	}
}

/* ---- the target ------------------------------------------------------ */

/* Decimal 1..65535, nothing else. */
static int port_parse(const char *s, int *out)
{
	long v = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
		if (v > 65535)
			return -1;
	}
	if (v == 0)
		return -1;
	*out = (int)v;
	return 0;
}

static int unix_target(const char *p, struct redis_target *t, char *why, size_t whylen)
{
	size_t n = strlen(p);

	if (n == 0) {
		snprintf(why, whylen, "no socket path after \"unix:\"");
		return -1;
	}
	if (n >= sizeof(t->path)) {
		snprintf(why, whylen, "socket path too long (at most %zu bytes)",
		         sizeof(t->path) - 1);
		return -1;
	}
	memcpy(t->path, p, n + 1);
	t->is_unix = 1;
	return 0;
}

/* HOST[:PORT], [IPV6]:PORT, a bare IPv6 address, /PATH or unix:PATH. */
static int target_parse(const char *s, struct redis_target *t, char *why, size_t whylen)
{
	const char *host = s, *port = NULL;
	size_t hlen;

	memset(t, 0, sizeof(*t));
	if (s[0] == '/')
		return unix_target(s, t, why, whylen);
	if (strncmp(s, "unix:", 5) == 0)
		return unix_target(s + 5, t, why, whylen);
	t->port = REDIS_DEF_PORT;
	if (s[0] == '[') {
		const char *end = strchr(s, ']');

		if (!end || (end[1] && end[1] != ':')) {
			snprintf(why, whylen, "expected [IPV6-ADDRESS] or [IPV6-ADDRESS]:PORT");
			return -1;
		}
		host = s + 1;
		hlen = (size_t)(end - host);
		port = end[1] ? end + 2 : NULL;
	} else {
		const char *colon = strchr(s, ':');

		/* two colons or more: a bare IPv6 address, no port */
		if (colon && !strchr(colon + 1, ':'))
			port = colon + 1;
		hlen = port ? (size_t)(colon - s) : strlen(s);
	}
	if (hlen == 0) {
		snprintf(why, whylen, "no host name or address");
		return -1;
	}
	if (hlen > REDIS_HOST_MAX) {
		snprintf(why, whylen, "host name too long (at most %u characters)", REDIS_HOST_MAX);
		return -1;
	}
	memcpy(t->host, host, hlen);
	t->host[hlen] = '\0';
	if (port && port_parse(port, &t->port) < 0) {
		snprintf(why, whylen, "bad port \"%s\" (1..65535)", port);
		return -1;
	}
	return 0;
}

/* ---- SIGPIPE kept off (see the top of the file) ---------------------- */

struct pipe_guard {
	sigset_t old;
	int was_pending;      /* someone else's SIGPIPE: left alone */
};

static void pipe_block(struct pipe_guard *g)
{
	sigset_t s, pending;

	sigemptyset(&s);
	sigaddset(&s, SIGPIPE);
	sigemptyset(&pending);
	(void)sigpending(&pending);
	g->was_pending = sigismember(&pending, SIGPIPE) == 1;
	pthread_sigmask(SIG_BLOCK, &s, &g->old);
}

static void pipe_unblock(struct pipe_guard *g)
{
	if (!g->was_pending) {
		sigset_t s, pending;
		struct timespec zero = { 0, 0 };

		sigemptyset(&s);
		sigaddset(&s, SIGPIPE);
		sigemptyset(&pending);
		if (sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1)
			(void)sigtimedwait(&s, NULL, &zero);
	}
	pthread_sigmask(SIG_SETMASK, &g->old, NULL);
}

/* ---- connection state ------------------------------------------------ */

static struct timeval ms_tv(unsigned ms)
{
	struct timeval tv = { (time_t)(ms / 1000u), (suseconds_t)((ms % 1000u) * 1000u) };

	return tv;
}

/* The back-off never exceeds the ceiling, unless the base interval does. */
static uint64_t backoff_cap(const struct output *o)
{
	return o->reconnect_ms > REDIS_BACKOFF_MAX_MS ? o->reconnect_ms
	                                                     : REDIS_BACKOFF_MAX_MS;
}

/* Away from now on: the connection (if any) is dropped and the next
 * attempt waits.  An attempt the server answered nothing on doubles the
 * wait; a connection that took commands starts it again from the base. */
static void redis_away(struct output *o)
{
	struct redis_out *r = o->priv;

	if (r->c)
		redisFree(r->c);
	r->c = NULL;
	if (r->answered)
		r->wait_ms = o->reconnect_ms;
	else if (r->wait_ms < backoff_cap(o) / 2)
		r->wait_ms *= 2;
	else
		r->wait_ms = backoff_cap(o);
	r->answered = 0;
	o->last_attempt_ms = sink_now_ms();
}

/* The server was taking lines and is gone or refuses us now: one outage,
 * counted once (output_disconnects) however many attempts it lasts; the
 * line that ends it counts output_reconnects (redis_answered). */
static void redis_gone(struct output *o)
{
	struct redis_out *r = o->priv;

	if (!r->outage)
		g_stats.output_disconnects++;
	r->outage = 1;
	redis_away(o);
}

/* Not there (yet): no connection was made, nothing to count. */
static void redis_absent(struct output *o, const redisContext *c)
{
	struct redis_out *r = o->priv;

	snprintf(r->last_err, sizeof(r->last_err), "%s",
	         c && c->errstr[0] ? c->errstr : "out of memory");
	r->outage = 1;
	redis_away(o);
}

/* The server is there but will not take lines (AUTH failed, NOAUTH,
 * LOADING, ...): said once until a line is delivered again. */
static void redis_refused(struct output *o, const char *what, const char *msg)
{
	struct redis_out *r = o->priv;

	if (!r->refused_said)
		fprintf(stderr, "certsentry: redis %s: %s refused: %s; lines wait until it is "
		        "accepted\n", o->path, what, msg);
	r->refused_said = 1;
	r->answered = 0;           /* refused: this attempt took nothing */
	redis_gone(o);
}

/* The server answered a line (taken, or an error about that line). */
static void redis_answered(struct output *o)
{
	struct redis_out *r = o->priv;

	if (r->outage && o->connected_once)
		g_stats.output_reconnects++;
	r->outage = 0;
	r->refused_said = 0;
	r->answered++;
	r->wait_ms = o->reconnect_ms;
	o->connected_once = 1;
}

/* Replies about the server rather than the line: the line is not at
 * fault and waits.  Prefixes of Redis's error replies. */
static int reply_is_refusal(const redisReply *rep)
{
	static const char *const away[] = {
		"NOAUTH", "WRONGPASS", "NOPERM", "LOADING", "BUSY", "MASTERDOWN", "READONLY",
		"MISCONF", "OOM", "TRYAGAIN", "CLUSTERDOWN", "ERR max number of clients",
	};

	for (size_t i = 0; i < sizeof(away) / sizeof(away[0]); i++)
		if (strncmp(rep->str, away[i], strlen(away[i])) == 0)
			return 1;
	return 0;
}

/* 0: authenticated (or no password); -1: away, already handled. */
static int redis_auth(struct output *o, redisContext *c)
{
	struct redis_out *r = o->priv;
	redisReply *rep;

	if (!r->auth)
		return 0;
	rep = redisCommand(c, "AUTH %s", r->auth);
	if (!rep) {
		redis_absent(o, c);
		redisFree(c);
		return -1;
	}
	if (rep->type == REDIS_REPLY_ERROR) {
		redisFree(c);
		redis_refused(o, "AUTH", rep->str);
		freeReplyObject(rep);
		return -1;
	}
	freeReplyObject(rep);
	return 0;
}

/* Connect (and AUTH) now.  0, or -1 with the server away and the next
 * attempt scheduled.  With SIGPIPE blocked (pipe_block). */
static int redis_connect(struct output *o)
{
	struct redis_out *r = o->priv;
	redisContext *c;

	if (r->t.is_unix)
		c = redisConnectUnixWithTimeout(r->t.path, ms_tv(REDIS_CONNECT_TIMEOUT_MS));
	else
		c = redisConnectWithTimeout(r->t.host, r->t.port, ms_tv(REDIS_CONNECT_TIMEOUT_MS));
	if (!c || c->err || redisSetTimeout(c, ms_tv(REDIS_COMMAND_TIMEOUT_MS)) != REDIS_OK) {
		redis_absent(o, c);
		if (c)
			redisFree(c);
		return -1;
	}
	if (redis_auth(o, c) < 0)
		return -1;
	r->c = c;
	r->answered = 0;
	return 0;
}

/* Connected, or connected now if the back-off allows. */
static int redis_ready(struct output *o)
{
	struct redis_out *r = o->priv;

	if (r->c)
		return 1;
	if (sink_now_ms() - o->last_attempt_ms < r->wait_ms)
		return 0;
	return redis_connect(o) == 0;
}

/* ---- lines ----------------------------------------------------------- */

static int redis_append(struct redis_out *r, const char *line, size_t len)
{
	switch (r->mode) {
	case OUTPUT_REDIS_RPUSH:
		return redisAppendCommand(r->c, "RPUSH %s %b", r->key, line, len);
	case OUTPUT_REDIS_PUBLISH:
		return redisAppendCommand(r->c, "PUBLISH %s %b", r->key, line, len);
	case OUTPUT_REDIS_XADD:
		return redisAppendCommand(r->c, "XADD %s MAXLEN ~ %lu * event %b", r->key,
		                          r->maxlen, line, len);
	default:
		return redisAppendCommand(r->c, "LPUSH %s %b", r->key, line, len);
	}
}

/* The reply to the oldest command sent: OUTPUT_SINK_OK, OUTPUT_SINK_ERR
 * (this line), or OUTPUT_SINK_AGAIN with the server away. */
static int redis_reply(struct output *o)
{
	struct redis_out *r = o->priv;
	redisReply *rep = NULL;
	int rc = OUTPUT_SINK_OK;

	if (redisGetReply(r->c, (void **)&rep) != REDIS_OK || !rep) {
		redis_gone(o);
		return OUTPUT_SINK_AGAIN;
	}
	if (rep->type == REDIS_REPLY_ERROR && reply_is_refusal(rep)) {
		redis_refused(o, mode_command(r->mode), rep->str);
		rc = OUTPUT_SINK_AGAIN;
	} else if (rep->type == REDIS_REPLY_ERROR) {
		if (!r->err_said)
			fprintf(stderr, "certsentry: redis %s: %s %s: %s (the line is a write "
			        "error; later ones are counted only)\n", o->path,
			        mode_command(r->mode), r->key, rep->str);
		r->err_said = 1;
		redis_answered(o);
		rc = OUTPUT_SINK_ERR;
	} else {
		redis_answered(o);
	}
	freeReplyObject(rep);
	return rc;
}

static int redis_write(struct output *o, const char *line, size_t len, size_t *off,
                       int is_alert)
{
	struct redis_out *r = o->priv;
	struct pipe_guard g;
	int rc = OUTPUT_SINK_AGAIN;

	(void)is_alert;
	pipe_block(&g);
	if (redis_ready(o)) {
		if (redis_append(r, line, len) != REDIS_OK)
			redis_gone(o);         /* hiredis out of memory: the context is spent */
		else
			rc = redis_reply(o);
	}
	pipe_unblock(&g);
	if (rc == OUTPUT_SINK_OK)
		*off = len + 1;          /* a command is all or nothing: never part-way */
	return rc;
}

/* The queue, pipelined: every command appended, then the replies read. */
static size_t redis_write_batch(struct output *o, struct oq_line *first, size_t max, int *rc)
{
	struct redis_out *r = o->priv;
	struct pipe_guard g;
	size_t sent = 0, done = 0;

	pipe_block(&g);
	if (!redis_ready(o))
		goto out;
	for (const struct oq_line *l = first; l && sent < max; l = l->next, sent++)
		if (redis_append(r, l->data, l->len) != REDIS_OK) {
			redis_gone(o);
			goto out;
		}
	while (done < sent) {
		int k = redis_reply(o);

		if (k == OUTPUT_SINK_AGAIN)
			break;               /* the rest are sent again later */
		rc[done++] = k;
	}
out:
	pipe_unblock(&g);
	return done;
}

/* ---- the sink -------------------------------------------------------- */

static void redis_free(struct redis_out *r)
{
	if (!r)
		return;
	if (r->c)
		redisFree(r->c);
	if (r->auth) {
		explicit_bzero(r->auth, strlen(r->auth));
		free(r->auth);
	}
	free(r->key);
	free(r);
}

/* --redis-auth FILE's first line into out (cap bytes): 0, or -1 with
 * o->why set.  A regular file only: a FIFO would hold the start for its
 * writer. */
static int read_auth(struct output *o, const char *path, char *out, size_t cap)
{
	static const char pre[] = "--redis-auth ";
	FILE *f;
	size_t n;

	/* fileio's reason ("PATH: ...") goes after the option's name */
	memcpy(o->why, pre, sizeof(pre));
	f = fileio_open_regular(path, REDIS_AUTH_FILE_MAX, 0, o->why + sizeof(pre) - 1,
	                        sizeof(o->why) - (sizeof(pre) - 1));
	if (!f)
		return -1;
	o->why[0] = '\0';
	if (!fgets(out, (int)cap, f)) {
		fclose(f);
		snprintf(o->why, sizeof(o->why), "--redis-auth %s: empty", path);
		return -1;
	}
	fclose(f);
	n = strcspn(out, "\r\n");
	if (n == cap - 1) {
		explicit_bzero(out, cap);
		snprintf(o->why, sizeof(o->why), "--redis-auth %s: password longer than %zu bytes",
		         path, cap - 2);
		return -1;
	}
	out[n] = 0;
	return 0;
}

/* The options, copied (they are views), the password read and wiped
 * from the stack once copied. */
static int redis_settings(struct output *o, struct redis_out *r)
{
	const struct redis_cfg *cfg = o->cfg;
	const char *key = cfg->key ? cfg->key : OUTPUT_REDIS_DEF_KEY;
	char pw[REDIS_AUTH_MAX + 2] = "";
	int rc = -1;

	if (!*key) {
		snprintf(o->why, sizeof(o->why), "empty --redis-key");
		return -1;
	}
	if (cfg->auth_file && read_auth(o, cfg->auth_file, pw, sizeof(pw)) < 0)
		return -1;
	if (cfg->auth_file && !*pw) {
		snprintf(o->why, sizeof(o->why), "empty password for AUTH (--redis-auth)");
		goto out;
	}
	if ((unsigned)cfg->mode > OUTPUT_REDIS_XADD) {
		snprintf(o->why, sizeof(o->why), "unknown redis mode %d", (int)cfg->mode);
		goto out;
	}
	r->mode = cfg->mode;
	r->maxlen = cfg->maxlen ? cfg->maxlen : REDIS_DEF_MAXLEN;
	r->key = strdup(key);
	r->auth = cfg->auth_file ? strdup(pw) : NULL;
	if (!r->key || (cfg->auth_file && !r->auth)) {
		snprintf(o->why, sizeof(o->why), "out of memory");
		goto out;
	}
	rc = 0;
out:
	explicit_bzero(pw, sizeof(pw));
	return rc;
}

/* A server not up yet is not an error (lines queue, as for the sockets);
 * a target or options that can never work are. */
static int redis_open(struct output *o, const char *arg)
{
	struct redis_out *r = calloc(1, sizeof(*r));   /* o->priv; freed in redis_close */
	struct pipe_guard g;

	if (!r) {
		errno = ENOMEM;
		return -1;
	}
	if (target_parse(arg, &r->t, o->why, sizeof(o->why)) < 0 || redis_settings(o, r) < 0) {
		redis_free(r);
		errno = EINVAL;
		return -1;
	}
	o->priv = r;
	r->wait_ms = o->reconnect_ms;
	pipe_block(&g);
	if (redis_connect(o) < 0) {
		r->wait_ms = o->reconnect_ms;    /* the first retry after the base interval */
		if (!r->refused_said)
			fprintf(stderr, "certsentry: redis %s: %s; lines wait until it is up\n",
			        o->path, r->last_err);
	}
	pipe_unblock(&g);
	return 0;
}

/* SIGHUP: away, try now; connected, keep the connection. */
static int redis_reopen(struct output *o)
{
	struct redis_out *r = o->priv;
	struct pipe_guard g;

	if (r->c)
		return 0;
	pipe_block(&g);
	(void)redis_connect(o);
	pipe_unblock(&g);
	return 0;
}

static void redis_close(struct output *o)
{
	redis_free(o->priv);
	o->priv = NULL;
}

/* ---- what the queue needs (sink_int.h) ----------------------------------- */

static int redis_up(const struct output *o)
{
	const struct redis_out *r = o->priv;

	return r && r->c;
}

/* output_close: one more attempt, whatever the back-off. */
static int redis_connect_now(struct output *o)
{
	struct pipe_guard g;
	int rc;

	pipe_block(&g);
	rc = redis_connect(o);
	pipe_unblock(&g);
	return rc;
}

/* A connected server answers or times out within each command: there is
 * no "busy" to wait out beyond the socket taking bytes again. */
static void redis_wait(struct output *o, unsigned ms)
{
	const struct redis_out *r = o->priv;
	struct pollfd pfd = { .fd = r->c ? r->c->fd : -1, .events = POLLOUT };

	(void)poll(&pfd, 1, ms > INT_MAX ? INT_MAX : (int)ms);
}

static const struct sink_link redis_link = {
	redis_up, redis_connect_now, redis_wait, redis_write_batch
};

const struct output_sink sink_redis = {
	.name = "redis", .no_path_error = "needs -o HOST[:PORT] or a Unix socket path",
	.open = redis_open, .write = redis_write, .reopen = redis_reopen, .close = redis_close,
	.link = &redis_link, .options = redis_options, .cfg_size = sizeof(struct redis_cfg),
	.help = redis_help,
};
