/*
 * sink_syslog.c - the syslog sink (--output-type syslog), as Suricata's
 * filetype syslog: the JSON object is the message, at --syslog-facility
 * (local5), alerts at --syslog-level (warning), other events at info.
 *
 * Sent by hand to the log socket (/dev/log, or -o PATH) as an RFC 3164
 * datagram, the form syslog(3) itself sends, rather than through
 * syslog(3): that call returns nothing, so a missing or full log socket
 * would lose every event without a word.  Here the socket is a consumer
 * like any other (sink_unix.c): away, lines queue and it is connected to
 * again; a line it refuses is counted.  A syslog daemon may cut long
 * messages (rsyslog at 8 KB by default), and an alert carries its chain:
 * prefer a socket or a file for alerts.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "sink_int.h"

#define SYSLOG_PATH "/dev/log"      /* without -o */

/* The options (o->cfg while open runs) and, copied, o->priv (owned by
 * the output; freed in syslog_close).  0: the default. */
struct syslog_cfg {
	int facility;       /* LOG_LOCAL5 (Suricata's default; LOG_KERN is not for programs) */
	int alert_level;    /* priority of alerts: LOG_WARNING (other events are LOG_INFO) */
};

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

/* ---- options --------------------------------------------------------- */

static int opt_facility(void *cfg, const char *arg, char *why, size_t whylen)
{
	int *v = &((struct syslog_cfg *)cfg)->facility;

	return sink_words(output_syslog_facility_parse(arg, v), "user, daemon or local0..local7",
	                  why, whylen);
}

static int opt_level(void *cfg, const char *arg, char *why, size_t whylen)
{
	int *v = &((struct syslog_cfg *)cfg)->alert_level;

	return sink_words(output_syslog_level_parse(arg, v), "a syslog level name", why, whylen);
}

static const struct sink_option syslog_options[] = {
	{ "syslog-facility", 1, opt_facility },
	{ "syslog-level", 1, opt_level },
	{ NULL, 0, NULL }
};

static void syslog_help(FILE *f)
{
	fputs("      --syslog-facility F, --syslog-level L  for --output-type syslog\n"
	      "                         (local5; alerts at warning)\n", f);
}

/* ---- the sink -------------------------------------------------------- */

static int syslog_open(struct output *o, const char *arg)
{
	const struct syslog_cfg *cfg = o->cfg;
	struct syslog_cfg *s = malloc(sizeof(*s));   /* o->priv; freed in syslog_close */

	(void)arg;
	if (!s) {
		errno = ENOMEM;
		return -1;
	}
	s->facility = cfg->facility ? cfg->facility : LOG_LOCAL5;
	s->alert_level = cfg->alert_level ? cfg->alert_level : LOG_WARNING;
	o->priv = s;
	if (sink_unix_open(o, SOCK_DGRAM) < 0) {
		free(s);
		o->priv = NULL;
		return -1;
	}
	return 0;
}

static int syslog_write(struct output *o, const char *line, size_t len, size_t *off,
                        int is_alert)
{
	const struct syslog_cfg *s = o->priv;
	char hdr[64];
	struct iovec iov[2];
	struct msghdr mh;
	struct tm tm;
	time_t now = time(NULL);
	int pri = s->facility | (is_alert ? s->alert_level : LOG_INFO);
	int hl;

	if (o->fd < 0) {
		if (sink_now_ms() - o->last_attempt_ms < o->reconnect_ms ||
		    sink_unix_connect(o, SOCK_DGRAM) < 0)
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
		return sink_unix_failed(o, off);
	}
	*off = len + 1;
	return OUTPUT_SINK_OK;
}

static int syslog_reopen(struct output *o)
{
	return sink_unix_reopen(o, SOCK_DGRAM);
}

static void syslog_close(struct output *o)
{
	sink_unix_down(o);
	free(o->priv);
	o->priv = NULL;
}

const struct output_sink sink_syslog = {
	.name = "syslog", .default_path = SYSLOG_PATH,
	.open = syslog_open, .write = syslog_write, .reopen = syslog_reopen,
	.close = syslog_close, .link = &sink_unix_link,
	.options = syslog_options, .cfg_size = sizeof(struct syslog_cfg), .help = syslog_help,
};
