/*
 * test_output.c - the EVE sinks: file (and logrotate), stdout, syslog,
 * unix_dgram and unix_stream, and what happens when a socket consumer is
 * slow or gone: the queue, its limits, reconnecting, and alerts that are
 * never dropped silently.  Every listener is a local AF_UNIX socket in a
 * mkdtemp directory.
 *
 * Redis: the mode names and targets; against a redis-server started here
 * on a socket in the same directory (skipped without /usr/bin/redis-server):
 * lines in order, a server killed and started again (lines queue, counted,
 * and arrive in order after the back-off), WRONGTYPE as a line's write
 * error, output_close's last attempt; against a small forked server that
 * answers every command with one error reply: a refusal (AUTH) said and
 * counted once with the back-off doubling, LOADING keeping lines queued.
 *
 * syslog: the sink sends RFC 3164 datagrams to a log socket itself (so that
 * a missing one is counted, not silent); here the log socket is a datagram
 * socket the test binds, and each message's priority, tag and body are
 * read back.
 */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <hiredis/hiredis.h>

#include "event/output.h"
#include "verdict/policy.h"
#include "../sensor/sink/sink_int.h"   /* sink_now_ms: the sinks white-box */
#include "core/stats.h"
#include "analyser/tls.h"
#include "verdict/judge.h"

/* DEPS_test_output does not link classify.o (nDPI); output.c names these
 * for the "ndpi" object, which no test here sets.  Weak, so that adding
 * classify to the test's modules simply overrides them. */
__attribute__((weak)) const char *classify_risk_name(unsigned bit)
{
	(void)bit;
	return NULL;
}

__attribute__((weak)) const char *classify_risk_severity(unsigned bit)
{
	(void)bit;
	return NULL;
}


/* ---- helpers ------------------------------------------------------------- */

static char g_dir[64];

static void path_in(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", g_dir, name);
}

/* A sink's option (--NAME ARG) into opts, as options.c gives it. */
static struct output_opts *with(struct output_opts *opts, const char *name, const char *arg)
{
	char err[256];

	if (output_opts_set(opts, name, arg, err, sizeof(err)) < 0)
		fail_msg("%s %s: %s", name, arg, err);
	return opts;
}

/* --redis-auth takes a file: one holding this first line, in the test's
 * directory; its path goes into path. */
static const char *auth_file(char *path, size_t n, const char *name, const char *line)
{
	FILE *f;

	path_in(path, n, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "%s\n", line);
	fclose(f);
	return path;
}

static int group_setup(void **state)
{
	(void)state;
	snprintf(g_dir, sizeof(g_dir), "/tmp/cs_output_XXXXXX");
	if (!mkdtemp(g_dir))
		return -1;
	/* A consumer that dies must not kill the sensor: keep the default
	 * action, so a send without MSG_NOSIGNAL ends this test program. */
	signal(SIGPIPE, SIG_DFL);
	return 0;
}

static int group_teardown(void **state)
{
	DIR *d = opendir(g_dir);
	struct dirent *de;
	char p[512];

	(void)state;
	if (!d)
		return -1;
	while ((de = readdir(d)) != NULL) {     /* the tests make no subdirectories */
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", g_dir, de->d_name);
		unlink(p);
	}
	closedir(d);
	return rmdir(g_dir);
}

static int setup(void **state)
{
	(void)state;
	memset(&g_stats, 0, sizeof(g_stats));
	return 0;
}

static struct output *open_or_fail(const struct output_opts *opts)
{
	char err[256] = "";
	struct output *o = output_open(opts, err, sizeof(err));

	if (!o)
		fail_msg("output_open: %s", err);
	return o;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = calloc(1, (size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return buf;
}

/* Line i of a test, optionally padded to about pad bytes. */
static char *mkline(int i, size_t pad)
{
	char *s = malloc(pad + 64);
	int n;

	assert_non_null(s);
	n = snprintf(s, 64, "{\"n\":%d,\"pad\":\"", i);
	memset(s + n, 'a' + i % 26, pad);
	strcpy(s + n + pad, "\"}");
	return s;
}

static void put(struct output *o, int i, size_t pad, int is_alert, int want)
{
	char *s = mkline(i, pad);

	assert_int_equal(output_write_line(o, s, strlen(s), is_alert), want);
	free(s);
}

static int dgram_listener(const char *path)
{
	struct sockaddr_un sa;
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);

	assert_true(fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	unlink(path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static int stream_listener(const char *path)
{
	struct sockaddr_un sa;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	unlink(path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 4), 0);
	return fd;
}

static int accept_wait(int lfd)
{
	struct pollfd p = { .fd = lfd, .events = POLLIN };

	assert_int_equal(poll(&p, 1, 2000), 1);
	return accept(lfd, NULL, NULL);
}

/* Receive datagrams until n arrived or 3 s passed, flushing the output in
 * between so that queued lines move.  Checks each is line first+k, whole,
 * with its '\n'. */
static void dgram_expect(int fd, struct output *o, int first, int n, size_t pad)
{
	size_t cap = pad + 256;
	char *buf = malloc(cap);
	int got = 0;
	time_t until = time(NULL) + 3;

	assert_non_null(buf);
	while (got < n && time(NULL) <= until) {
		ssize_t r;

		if (o)
			output_flush(o);
		r = recv(fd, buf, cap, MSG_DONTWAIT);
		if (r < 0) {
			struct pollfd p = { .fd = fd, .events = POLLIN };

			assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
			poll(&p, 1, 10);
			continue;
		} else {
			char *want = mkline(first + got, pad);
			size_t wl = strlen(want);

			assert_int_equal((size_t)r, wl + 1);
			assert_memory_equal(buf, want, wl);
			assert_int_equal(buf[wl], '\n');
			free(want);
			got++;
		}
	}
	assert_int_equal(got, n);
	assert_int_equal(recv(fd, buf, cap, MSG_DONTWAIT), -1);  /* nothing more */
	free(buf);
}

/* Read a stream until it holds n lines or 3 s passed (flushing the output
 * in between); check they are lines first.. whole and in order.  Line k is
 * padded to pads[k], or to pad when pads is NULL. */
static void stream_expect(int fd, struct output *o, int first, int n, size_t pad,
                          const size_t *pads)
{
	size_t cap = 1, have = 0;
	char *buf, *p;
	time_t until = time(NULL) + 3;
	int lines = 0;

	for (int i = 0; i < n; i++)
		cap += (pads ? pads[i] : pad) + 64;
	buf = calloc(1, cap);
	assert_non_null(buf);
	while (lines < n && time(NULL) <= until) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		ssize_t r;

		if (o)
			output_flush(o);
		if (poll(&pf, 1, 10) <= 0)
			continue;
		r = read(fd, buf + have, cap - 1 - have);
		assert_true(r > 0);
		for (ssize_t i = 0; i < r; i++)
			lines += buf[have + (size_t)i] == '\n';
		have += (size_t)r;
	}
	assert_int_equal(lines, n);
	p = buf;
	for (int i = 0; i < n; i++) {
		char *want = mkline(first + i, pads ? pads[i] : pad);
		size_t wl = strlen(want);

		assert_memory_equal(p, want, wl);
		assert_int_equal(p[wl], '\n');
		p += wl + 1;
		free(want);
	}
	assert_int_equal((size_t)(p - buf), have);
	free(buf);
}

/* Standard error into a file while f runs. */
struct captured {
	int saved;
	char path[128];
};

static void capture_stderr(struct captured *c, const char *name)
{
	int fd;

	path_in(c->path, sizeof(c->path), name);
	fflush(stderr);
	c->saved = dup(2);
	fd = open(c->path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0 && c->saved >= 0);
	dup2(fd, 2);
	close(fd);
}

static char *release_stderr(struct captured *c)
{
	char *s;

	fflush(stderr);
	dup2(c->saved, 2);
	close(c->saved);
	s = slurp(c->path);
	unlink(c->path);
	return s;
}

static size_t count_str(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

/* ---- parsing options ----------------------------------------------------- */

static void test_type_parse(void **state)
{
	static const struct { const char *s; const char *t; } ok[] = {
		{ "file", "file" }, { "regular", "file" },
		{ "stdout", "stdout" }, { "syslog", "syslog" },
		{ "unix_dgram", "unix_dgram" }, { "unix_stream", "unix_stream" },
		{ "redis", "redis" }, { "Redis", "redis" },
	};
	static const char *bad[] = { "", "unix", "unix-dgram", "redis:", "files", " file", NULL };
	static const char untouched[] = "99";
	const char *t;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		t = untouched;
		assert_int_equal(output_type_parse(ok[i].s, &t), 0);
		assert_string_equal(t, ok[i].t);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		t = untouched;
		assert_int_equal(output_type_parse(bad[i], &t), -1);
		assert_ptr_equal(t, untouched);   /* untouched */
	}
}

static void test_syslog_names(void **state)
{
	int v = -7;

	(void)state;
	assert_int_equal(output_syslog_facility_parse("local0", &v), 0);
	assert_int_equal(v, LOG_LOCAL0);
	assert_int_equal(output_syslog_facility_parse("local7", &v), 0);
	assert_int_equal(v, LOG_LOCAL7);
	assert_int_equal(output_syslog_facility_parse("daemon", &v), 0);
	assert_int_equal(v, LOG_DAEMON);
	v = -7;
	assert_int_equal(output_syslog_facility_parse("local8", &v), -1);
	assert_int_equal(output_syslog_facility_parse("kern", &v), -1);
	assert_int_equal(v, -7);
	assert_int_equal(output_syslog_level_parse("warning", &v), 0);
	assert_int_equal(v, LOG_WARNING);
	assert_int_equal(output_syslog_level_parse("Info", &v), 0);   /* Suricata's spelling */
	assert_int_equal(v, LOG_INFO);
	assert_int_equal(output_syslog_level_parse("err", &v), 0);
	assert_int_equal(v, LOG_ERR);
	v = -7;
	assert_int_equal(output_syslog_level_parse("loud", &v), -1);
	assert_int_equal(v, -7);
}

static void sl_recv(int fd, int *prio, char *msg, size_t cap);

/* The sinks' registry: the names --output-type takes and --help shows,
 * the options the sinks declare (what options.c gives getopt), each
 * checked when it is given, and a sink reading only its own. */
static void test_sink_registry(void **state)
{
	static const char *const want[] = {
		"syslog-facility", "syslog-level", "redis-mode", "redis-key", "redis-auth",
		"redis-maxlen", NULL
	};
	struct output_opts opts;
	struct output *o;
	char buf[256], path[128], lpath[128];
	const char *name;
	size_t i;
	int has_arg = -1, fd, prio;

	(void)state;
	output_type_names(buf, sizeof(buf), 1);
	assert_string_equal(buf, "file (default), syslog, unix_dgram, unix_stream, redis");
	output_type_names(buf, sizeof(buf), 0);
	assert_string_equal(buf, "file, syslog, unix_dgram, unix_stream or redis");
	for (i = 0; (name = output_option_name(i, &has_arg)); i++) {
		assert_non_null(want[i]);
		assert_string_equal(name, want[i]);
		assert_int_equal(has_arg, 1);
	}
	assert_null(want[i]);

	memset(&opts, 0, sizeof(opts));
	buf[0] = '\0';
	assert_int_equal(output_opts_set(&opts, "redis-mode", "lifo", buf, sizeof(buf)), -1);
	assert_string_equal(buf, "--redis-mode: list, lpush, rpush, channel, publish or stream");
	assert_int_equal(output_opts_set(&opts, "redis-maxlen", "0", buf, sizeof(buf)), -1);
	assert_string_equal(buf, "--redis-maxlen: '0' is not a number in 1..1099511627776");
	assert_int_equal(output_opts_set(&opts, "syslog-level", "loud", buf, sizeof(buf)), -1);
	assert_string_equal(buf, "--syslog-level: a syslog level name");
	assert_int_equal(output_opts_set(&opts, "tls-chain", NULL, buf, sizeof(buf)), -1);
	assert_string_equal(buf, "--tls-chain: no output takes this option");
	assert_int_equal(opts.n_set, 0);   /* nothing kept of a refused one */

	/* A file output ignores the others' options; a syslog output reads
	 * its own, the last one given winning, and no Redis one. */
	with(&opts, "redis-key", "");
	with(&opts, "syslog-level", "debug");
	with(&opts, "syslog-level", "crit");
	opts.type = "file";
	path_in(path, sizeof(path), "registry.json");
	opts.path = path;
	o = open_or_fail(&opts);
	output_close(o);
	assert_string_equal(output_reopen_path(&opts), path);
	path_in(lpath, sizeof(lpath), "registry.sock");
	fd = dgram_listener(lpath);
	opts.type = "syslog";
	opts.path = lpath;
	assert_null(output_reopen_path(&opts));
	o = open_or_fail(&opts);
	assert_int_equal(output_write_line(o, "{}", 2, 1), 0);
	output_close(o);
	sl_recv(fd, &prio, buf, sizeof(buf));
	assert_int_equal(prio, LOG_LOCAL5 | LOG_CRIT);
	close(fd);
	unlink(lpath);
}

static void test_open_errors(void **state)
{
	struct output_opts opts;
	char err[256], path[200], lpath[128];
	int lfd;

	(void)state;
	memset(&opts, 0, sizeof(opts));
	opts.type = "unix_stream";
	err[0] = '\0';
	assert_null(output_open(&opts, err, sizeof(err)));
	assert_non_null(strstr(err, "needs a socket path"));

	memset(path, 'x', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	opts.path = path;
	opts.type = "unix_dgram";
	err[0] = '\0';
	assert_null(output_open(&opts, err, sizeof(err)));
	assert_non_null(strstr(err, "too long"));

	/* a datagram sink pointed at a stream listener: wrong type, said now */
	path_in(lpath, sizeof(lpath), "stream.sock");
	lfd = stream_listener(lpath);
	opts.path = lpath;
	err[0] = '\0';
	assert_null(output_open(&opts, err, sizeof(err)));
	assert_non_null(strstr(err, "cannot open unix_dgram output"));
	close(lfd);
	unlink(lpath);

	/* an unwritable file, as before */
	opts.type = "file";
	opts.path = "/nonexistent-dir/eve.json";
	err[0] = '\0';
	assert_null(output_open(&opts, err, sizeof(err)));
	assert_string_equal(err, "/nonexistent-dir/eve.json: cannot open output: "
	                         "No such file or directory");
}

/* The sensor's identity travels with the output: the host name by
 * default, --sensor-name as given (bounded, UTF-8), '' for none; the
 * Community ID seed in 0..65535. */
static void test_identity(void **state)
{
	struct output_opts opts;
	struct output *o;
	char err[256], want[OUTPUT_HOST_MAX + 2], big[OUTPUT_HOST_MAX + 2];

	(void)state;
	memset(&opts, 0, sizeof(opts));
	opts.path = "/dev/null";
	o = open_or_fail(&opts);
	assert_int_equal(gethostname(want, sizeof(want) - 1), 0);
	want[sizeof(want) - 1] = '\0';
	assert_non_null(output_host(o));
	assert_string_equal(output_host(o), want);
	assert_int_equal(output_community_id_seed(o), 0);
	output_close(o);

	opts.sensor_name = "tap-1 \xc3\xa9";    /* UTF-8 is kept as it is */
	opts.community_id_seed = 65535;
	o = open_or_fail(&opts);
	assert_string_equal(output_host(o), "tap-1 \xc3\xa9");
	assert_int_equal(output_community_id_seed(o), 65535);
	output_close(o);

	opts.sensor_name = "";                   /* none */
	o = open_or_fail(&opts);
	assert_null(output_host(o));
	output_close(o);

	memset(big, 'a', sizeof(big) - 1);       /* one byte over */
	big[sizeof(big) - 1] = '\0';
	opts.sensor_name = big;
	assert_null(output_open(&opts, err, sizeof(err)));
	assert_non_null(strstr(err, "--sensor-name: 256 bytes, at most 255"));
	big[OUTPUT_HOST_MAX] = '\0';            /* exactly the limit */
	o = open_or_fail(&opts);
	assert_int_equal(strlen(output_host(o)), OUTPUT_HOST_MAX);
	output_close(o);

	opts.sensor_name = "bad \xff";
	assert_null(output_open(&opts, err, sizeof(err)));
	assert_non_null(strstr(err, "not valid UTF-8"));
	opts.sensor_name = NULL;
	opts.community_id_seed = 65536;
	assert_null(output_open(&opts, err, sizeof(err)));
	assert_non_null(strstr(err, "--community-id-seed"));
}

/* ---- file and stdout ----------------------------------------------------- */

static void test_file_lines(void **state)
{
	struct output_opts opts;
	struct output *o;
	char path[128], *s;

	(void)state;
	path_in(path, sizeof(path), "eve.json");
	memset(&opts, 0, sizeof(opts));
	opts.path = path;
	o = open_or_fail(&opts);
	assert_int_equal(output_write_line(o, "{\"a\":1}", 7, 0), 0);
	assert_int_equal(output_write_line(o, "{\"b\":2}", 7, 1), 0);
	/* flushed per line: visible before close */
	s = slurp(path);
	assert_string_equal(s, "{\"a\":1}\n{\"b\":2}\n");
	free(s);
	output_close(o);
	assert_int_equal(g_stats.events, 2);
	assert_int_equal(g_stats.output_err, 0);
	assert_int_equal(g_stats.output_queued, 0);

	/* appended, never truncated */
	o = open_or_fail(&opts);
	assert_int_equal(output_write_line(o, "{}", 2, 0), 0);
	output_close(o);
	s = slurp(path);
	assert_string_equal(s, "{\"a\":1}\n{\"b\":2}\n{}\n");
	free(s);
	unlink(path);
}

static void test_file_reopen(void **state)
{
	struct output *o;
	char path[128], old[128], *s;

	(void)state;
	path_in(path, sizeof(path), "rot.json");
	path_in(old, sizeof(old), "rot.json.1");
	o = open_or_fail(&(struct output_opts){ .type = "file", .path = path });
	assert_int_equal(output_write_line(o, "{\"n\":1}", 7, 0), 0);
	assert_int_equal(rename(path, old), 0);
	/* until reopened, lines follow the renamed file */
	assert_int_equal(output_write_line(o, "{\"n\":2}", 7, 0), 0);
	assert_int_equal(output_reopen(o), 0);
	assert_int_equal(output_write_line(o, "{\"n\":3}", 7, 1), 0);
	output_close(o);
	s = slurp(old);
	assert_string_equal(s, "{\"n\":1}\n{\"n\":2}\n");
	free(s);
	s = slurp(path);
	assert_string_equal(s, "{\"n\":3}\n");
	free(s);
	unlink(path);
	unlink(old);
}

static void test_stdout(void **state)
{
	struct output_opts opts;
	struct output *o;
	char path[128], *s;
	int saved, fd;

	(void)state;
	path_in(path, sizeof(path), "stdout.json");
	fflush(stdout);
	saved = dup(1);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(saved >= 0 && fd >= 0);
	dup2(fd, 1);
	close(fd);
	memset(&opts, 0, sizeof(opts));
	opts.path = "-";
	o = open_or_fail(&opts);
	assert_int_equal(output_write_line(o, "{\"x\":\"y\"}", 9, 0), 0);
	opts.path = NULL;
	output_close(o);
	o = open_or_fail(&opts);
	assert_int_equal(output_write_line(o, "{}", 2, 1), 0);
	output_close(o);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	s = slurp(path);
	assert_string_equal(s, "{\"x\":\"y\"}\n{}\n");
	free(s);
	unlink(path);
	assert_int_equal(g_stats.events, 2);
}

/* A full disk: the write is tried twice, counted, and an alert that could
 * not be written goes to standard error. */
static void test_file_full(void **state)
{
	struct output *o;
	struct captured c;
	char *err;

	(void)state;
	if (access("/dev/full", W_OK) != 0)
		skip();
	o = open_or_fail(&(struct output_opts){ .path = "/dev/full" });
	capture_stderr(&c, "full.err");
	assert_int_equal(output_write_line(o, "{\"n\":1}", 7, 0), -1);
	assert_int_equal(output_write_line(o, "{\"n\":2}", 7, 1), -1);
	err = release_stderr(&c);
	output_close(o);
	assert_int_equal(g_stats.output_err, 2);
	assert_int_equal(g_stats.output_retries, 2);
	assert_int_equal(g_stats.events, 0);
	assert_int_equal(g_stats.output_queued, 0);   /* files do not queue */
	assert_string_equal(err, "certsentry: undelivered alert (write error): {\"n\":2}\n");
	free(err);
}

/* ---- syslog -------------------------------------------------------------- */

/* One syslog datagram from the test's log socket: its priority and the
 * message after "certsentry[PID]: " (NUL-terminated in msg). */
static void sl_recv(int fd, int *prio, char *msg, size_t cap)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char buf[16384], tag[64];
	const char *body;
	ssize_t n;

	assert_int_equal(poll(&p, 1, 2000), 1);
	n = recv(fd, buf, sizeof(buf) - 1, 0);
	assert_true(n > 0);
	buf[n] = 0;
	assert_int_equal(sscanf(buf, "<%d>", prio), 1);
	snprintf(tag, sizeof(tag), " certsentry[%ld]: ", (long)getpid());
	body = strstr(buf, tag);
	assert_non_null(body);
	/* "<PRI>Mmm dd hh:mm:ss ", as syslog(3) writes it */
	assert_int_equal(body - strchr(buf, '>') - 1, 15);
	snprintf(msg, cap, "%s", body + strlen(tag));
}

static void test_syslog(void **state)
{
	struct output_opts opts;
	struct output *o;
	struct output_delivery dl;
	char path[128], msg[8192];
	int fd, prio;

	(void)state;
	path_in(path, sizeof(path), "log.sock");
	fd = dgram_listener(path);
	memset(&opts, 0, sizeof(opts));
	opts.type = "syslog";
	opts.path = path;
	o = open_or_fail(&opts);
	assert_int_equal(output_write_line(o, "{\"event_type\":\"tls\"}", 20, 0), 0);
	assert_int_equal(output_write_line(o, "{\"event_type\":\"alert\"}", 22, 1), 0);
	output_close(o);
	sl_recv(fd, &prio, msg, sizeof(msg));
	assert_int_equal(prio, LOG_LOCAL5 | LOG_INFO);          /* the default facility */
	assert_string_equal(msg, "{\"event_type\":\"tls\"}");     /* no '\n' */
	sl_recv(fd, &prio, msg, sizeof(msg));
	assert_int_equal(prio, LOG_LOCAL5 | LOG_WARNING);
	assert_string_equal(msg, "{\"event_type\":\"alert\"}");
	assert_int_equal(g_stats.events, 2);

	/* configured facility and alert level; a length bounds the message */
	with(&opts, "syslog-facility", "local3");
	with(&opts, "syslog-level", "err");
	o = open_or_fail(&opts);
	assert_int_equal(output_write_line(o, "{\"a\":1}trailing", 7, 1), 0);
	assert_int_equal(output_write_line(o, "{}", 2, 0), 0);
	output_close(o);
	sl_recv(fd, &prio, msg, sizeof(msg));
	assert_int_equal(prio, LOG_LOCAL3 | LOG_ERR);
	assert_string_equal(msg, "{\"a\":1}");
	sl_recv(fd, &prio, msg, sizeof(msg));
	assert_int_equal(prio, LOG_LOCAL3 | LOG_INFO);

	/* the log socket gone: lines queue, and at the end each one is
	 * counted as undelivered; the alert reaches stderr */
	close(fd);
	unlink(path);
	o = open_or_fail(&opts);
	assert_int_equal(output_write_line(o, "{\"n\":1}", 7, 0), 0);
	assert_int_equal(output_write_line(o, "{\"n\":2}", 7, 1), 0);
	output_finish(o);
	output_delivery(o, &dl);
	output_close(o);
	assert_int_equal(dl.found[0], 1);
	assert_int_equal(dl.found[1], 1);
	assert_int_equal(dl.delivered[0] + dl.delivered[1], 0);
	assert_int_equal(dl.lost[OUTPUT_LOSS_AT_EXIT][0], 1);
	assert_int_equal(dl.lost[OUTPUT_LOSS_AT_EXIT][1], 1);
	assert_int_equal(dl.alerts_stderr, 1);
	assert_int_equal(output_undelivered(&dl), 2);
	assert_true(dl.drain_ms >= OUTPUT_CLOSE_WAIT_MS);
}

/* output_handshake marks its alert lines as alerts (syslog priority). */
static void test_handshake_alert_priority(void **state)
{
	struct output *o;
	struct tls_session t;
	struct policy_result res[2];
	struct judge_verdicts v;
	struct chain_view chain;
	struct ev_endpoint ep;
	struct ev_tls tl;
	struct hs_event ev;
	uint8_t cip[16] = { 192, 0, 2, 1 }, sip[16] = { 1, 1, 1, 1 };
	char path[128], msg[8192];
	int fd, prio;

	(void)state;
	memset(&t, 0, sizeof(t));
	memset(res, 0, sizeof(res));
	memset(&v, 0, sizeof(v));
	memset(&chain, 0, sizeof(chain));
	memset(&ep, 0, sizeof(ep));
	memset(&tl, 0, sizeof(tl));
	memset(&ev, 0, sizeof(ev));
	res[0].owner = "cloudflare-dns";
	res[0].verdict = VERDICT_UNAPPROVED_ISSUER;
	snprintf(res[0].reason, sizeof(res[0].reason), "issued by an unapproved CA");
	res[1].owner = "other";
	res[1].verdict = VERDICT_APPROVED;
	v.res = res;
	v.n_res = 2;
	v.alert = 1;
	ep.flow_id = 42;
	ep.family = 4;
	ep.client_ip = cip;
	ep.server_ip = sip;
	ep.client_port = 50000;
	ep.server_port = 853;
	tl.session = &t;
	tl.hs = POLICY_HS_CHAIN;
	ev.ts_us = 1706781600123456ull;
	ev.endpoint = &ep;
	ev.chain = &chain;
	ev.verdicts = &v;
	ev.tls = &tl;
	path_in(path, sizeof(path), "log2.sock");
	fd = dgram_listener(path);
	o = open_or_fail(&(struct output_opts){ .type = "syslog", .path = path });
	assert_int_equal(output_handshake(o, NULL, &ev), 1);
	output_close(o);
	sl_recv(fd, &prio, msg, sizeof(msg));
	assert_int_equal(prio, LOG_LOCAL5 | LOG_INFO);
	assert_non_null(strstr(msg, "\"event_type\":\"tls\""));
	/* The tls event has every owner's verdict. */
	assert_non_null(strstr(msg, "\"owners\":[{\"owner\":\"cloudflare-dns\""));
	assert_non_null(strstr(msg, "{\"owner\":\"other\",\"matched\":[],\"verdict\":\"approved\""));
	sl_recv(fd, &prio, msg, sizeof(msg));
	assert_int_equal(prio, LOG_LOCAL5 | LOG_WARNING);
	assert_non_null(strstr(msg, "\"event_type\":\"alert\""));
	assert_non_null(strstr(msg, "\"signature_id\":2900003"));
	/* The alert says its owner, verdict and reason once, at the top of
	 * its certsentry object: no owners[] copy, no other owner. */
	assert_null(strstr(msg, "\"owners\""));
	assert_null(strstr(msg, "\"other\""));
	assert_non_null(strstr(msg, "\"owner\":\"cloudflare-dns\",\"matched\":[],"
	                            "\"verdict\":\"unapproved-issuer\","
	                            "\"reason\":\"issued by an unapproved CA\""));
	{
		const char *first = strstr(msg, "\"verdict\"");

		assert_non_null(first);
		assert_null(strstr(first + 1, "\"verdict\""));
		assert_null(strstr(strstr(msg, "\"reason\"") + 1, "\"reason\""));
		assert_null(strstr(strstr(msg, "\"owner\"") + 1, "\"owner\""));
	}
	close(fd);
}

/* ---- unix_dgram ---------------------------------------------------------- */

static void test_dgram_lines(void **state)
{
	struct output *o;
	char path[128];
	int fd;

	(void)state;
	path_in(path, sizeof(path), "dgram.sock");
	fd = dgram_listener(path);
	o = open_or_fail(&(struct output_opts){ .type = "unix_dgram", .path = path });
	for (int i = 0; i < 8; i++)
		put(o, i, 10, i % 3 == 0, 0);
	dgram_expect(fd, NULL, 0, 8, 10);   /* all there without a flush */
	assert_int_equal(output_pending(o), 0);
	assert_int_equal(g_stats.events, 8);
	assert_int_equal(g_stats.output_queued, 0);
	output_close(o);
	close(fd);
	unlink(path);
}

/* A receiver that does not read: the datagram queue fills (EAGAIN), lines
 * wait in ours, and all arrive in order once it reads. */
static void test_dgram_busy(void **state)
{
	struct output *o;
	char path[128];
	int fd, n = 300;

	(void)state;
	path_in(path, sizeof(path), "busy.sock");
	fd = dgram_listener(path);
	o = open_or_fail(&(struct output_opts){ .type = "unix_dgram", .path = path });
	for (int i = 0; i < n; i++)
		put(o, i, 2000, 0, 0);   /* 600 KB: more than any socket buffer */
	assert_true(g_stats.output_queued > 0);
	assert_true(output_pending(o) > 0);
	assert_int_equal(g_stats.output_disconnects, 0);   /* busy is not gone */
	dgram_expect(fd, o, 0, n, 2000);
	assert_int_equal(output_pending(o), 0);
	assert_int_equal(g_stats.output_dropped, 0);
	assert_int_equal(g_stats.events, (uint64_t)n);
	output_close(o);
	close(fd);
	unlink(path);
}

/* The receiver goes away and comes back at the same path. */
static void test_dgram_reconnect(void **state)
{
	struct output *o;
	char path[128];
	int fd;

	(void)state;
	path_in(path, sizeof(path), "re.sock");
	fd = dgram_listener(path);
	o = open_or_fail(&(struct output_opts){
		.type = "unix_dgram",
		.path = path,
		.reconnect_ms = 200,
	});
	put(o, 0, 5, 0, 0);
	dgram_expect(fd, NULL, 0, 1, 5);
	close(fd);
	unlink(path);
	for (int i = 1; i <= 5; i++)
		put(o, i, 5, i == 3, 0);
	assert_int_equal(output_pending(o), 5);
	assert_int_equal(g_stats.output_disconnects, 1);
	assert_int_equal(g_stats.output_reconnects, 0);
	fd = dgram_listener(path);
	/* within the interval nothing is tried */
	put(o, 6, 5, 0, 0);
	assert_int_equal(output_pending(o), 6);
	sleep_ms(250);
	put(o, 7, 5, 0, 0);
	assert_int_equal(output_pending(o), 0);
	assert_int_equal(g_stats.output_reconnects, 1);
	dgram_expect(fd, NULL, 1, 7, 5);
	assert_int_equal(g_stats.output_dropped, 0);
	assert_int_equal(g_stats.events, 8);
	output_close(o);
	close(fd);
	unlink(path);
}

/* A line no datagram can carry is a write error; the next one still goes.
 * An alert that fails so is also written to standard error. */
static void test_dgram_too_big(void **state)
{
	struct output *o;
	struct captured c;
	char path[128], *err;
	int fd;

	(void)state;
	path_in(path, sizeof(path), "big.sock");
	fd = dgram_listener(path);
	o = open_or_fail(&(struct output_opts){ .type = "unix_dgram", .path = path });
	capture_stderr(&c, "big.err");
	put(o, 0, 1 << 20, 0, -1);
	put(o, 1, 1 << 20, 1, -1);
	err = release_stderr(&c);
	put(o, 2, 10, 0, 0);
	dgram_expect(fd, NULL, 2, 1, 10);
	assert_int_equal(g_stats.output_err, 2);
	assert_int_equal(g_stats.output_alerts_stderr, 1);
	assert_int_equal(count_str(err, "certsentry: undelivered alert (write error): {\"n\":1,"), 1);
	assert_int_equal(count_str(err, "{\"n\":0,"), 0);
	free(err);
	output_close(o);
	close(fd);
	unlink(path);
}

/* ---- unix_stream --------------------------------------------------------- */

static void test_stream_reconnect(void **state)
{
	struct output *o;
	char path[128];
	int lfd, cfd;

	(void)state;
	path_in(path, sizeof(path), "stream.sock");
	lfd = stream_listener(path);
	o = open_or_fail(&(struct output_opts){
		.type = "unix_stream",
		.path = path,
		.reconnect_ms = 200,
	});
	cfd = accept_wait(lfd);
	assert_true(cfd >= 0);
	for (int i = 0; i < 10; i++)
		put(o, i, 20, i == 4, 0);
	stream_expect(cfd, NULL, 0, 10, 20, NULL);
	assert_int_equal(g_stats.events, 10);

	/* consumer dies: EPIPE (no SIGPIPE), lines queue */
	close(cfd);
	close(lfd);
	unlink(path);
	for (int i = 10; i < 15; i++)
		put(o, i, 20, 0, 0);
	assert_int_equal(output_pending(o), 5);
	assert_int_equal(g_stats.output_disconnects, 1);
	assert_int_equal(g_stats.output_queued, 5);

	/* it comes back: reconnect after the interval, queue first, in order */
	lfd = stream_listener(path);
	sleep_ms(250);
	put(o, 15, 20, 1, 0);
	assert_int_equal(output_pending(o), 0);
	assert_int_equal(g_stats.output_reconnects, 1);
	cfd = accept_wait(lfd);
	assert_true(cfd >= 0);
	stream_expect(cfd, NULL, 10, 6, 20, NULL);
	assert_int_equal(g_stats.events, 16);
	assert_int_equal(g_stats.output_dropped, 0);
	output_close(o);
	close(cfd);
	close(lfd);
	unlink(path);
}

/* Lines larger than the socket buffer go part by part, never interleaved
 * with other lines, and arrive whole. */
static void test_stream_partial(void **state)
{
	struct output *o;
	char path[128];
	int lfd, cfd;
	size_t pad = 300 * 1024;
	const size_t pads[4] = { pad, 10, pad, 10 };

	(void)state;
	path_in(path, sizeof(path), "part.sock");
	lfd = stream_listener(path);
	o = open_or_fail(&(struct output_opts){ .type = "unix_stream", .path = path });
	cfd = accept_wait(lfd);
	assert_true(cfd >= 0);
	put(o, 0, pad, 0, 0);
	put(o, 1, 10, 1, 0);
	put(o, 2, pad, 0, 0);
	put(o, 3, 10, 0, 0);
	/* the first line did not fit in the socket buffer: its rest and
	 * everything after it wait */
	assert_int_equal(output_pending(o), 4);
	assert_int_equal(g_stats.output_queued, 4);
	assert_int_equal(g_stats.events, 0);
	stream_expect(cfd, o, 0, 4, 0, pads);
	assert_int_equal(output_pending(o), 0);
	assert_int_equal(g_stats.events, 4);
	assert_int_equal(g_stats.output_disconnects, 0);
	output_close(o);
	close(cfd);
	close(lfd);
	unlink(path);
}

/* A line part-sent is never dropped for an alert: half an object would
 * stay in the stream.  The alert goes to standard error instead. */
static void test_stream_partial_kept(void **state)
{
	struct output *o;
	struct captured c;
	char path[128], *err;
	int lfd, cfd;
	const size_t pads[2] = { 300 * 1024, 10 };

	(void)state;
	path_in(path, sizeof(path), "kept.sock");
	lfd = stream_listener(path);
	o = open_or_fail(&(struct output_opts){
		.type = "unix_stream",
		.path = path,
		.queue_max_lines = 2,
	});
	cfd = accept_wait(lfd);
	assert_true(cfd >= 0);
	capture_stderr(&c, "kept.err");
	put(o, 0, pads[0], 0, 0);   /* part-sent, its rest queued */
	put(o, 1, pads[1], 1, 0);
	put(o, 2, 10, 1, 1);        /* full; the only non-alert is part-sent */
	err = release_stderr(&c);
	assert_int_equal(g_stats.output_dropped, 0);
	assert_int_equal(g_stats.output_alerts_stderr, 1);
	assert_int_equal(count_str(err, "(queue full): {\"n\":2,"), 1);
	free(err);
	stream_expect(cfd, o, 0, 2, 0, pads);
	output_close(o);
	close(cfd);
	close(lfd);
	unlink(path);
}

/* The consumer dies in the middle of a line: the new connection gets the
 * whole line again, not its rest. */
static void test_stream_cut_line(void **state)
{
	struct output *o;
	char path[128];
	int lfd, cfd;
	const size_t pads[2] = { 300 * 1024, 10 };

	(void)state;
	path_in(path, sizeof(path), "cut.sock");
	lfd = stream_listener(path);
	o = open_or_fail(&(struct output_opts){
		.type = "unix_stream",
		.path = path,
		.reconnect_ms = 100,
	});
	cfd = accept_wait(lfd);
	assert_true(cfd >= 0);
	put(o, 0, pads[0], 1, 0);
	assert_int_equal(output_pending(o), 1);
	close(cfd);                  /* unread part is lost with it */
	close(lfd);
	unlink(path);
	put(o, 1, pads[1], 0, 0);
	assert_int_equal(g_stats.output_disconnects, 1);
	assert_int_equal(output_pending(o), 2);
	lfd = stream_listener(path);
	sleep_ms(150);
	output_flush(o);
	assert_int_equal(g_stats.output_reconnects, 1);
	cfd = accept_wait(lfd);
	assert_true(cfd >= 0);
	stream_expect(cfd, o, 0, 2, 0, pads);
	output_close(o);
	close(cfd);
	close(lfd);
	unlink(path);
}

/* ---- the queue's limits -------------------------------------------------- */

/* No consumer at start: open still works, lines queue; four lines at most.
 * Non-alerts go first, alerts take their place, and an alert that finds
 * only alerts goes to standard error. */
static void test_queue_overflow(void **state)
{
	struct output *o;
	struct captured c;
	char path[128], *err;
	int fd;

	(void)state;
	path_in(path, sizeof(path), "late.sock");
	o = open_or_fail(&(struct output_opts){
		.type = "unix_dgram",
		.path = path,
		.queue_max_lines = 4,
		.reconnect_ms = 20,
	});
	capture_stderr(&c, "overflow.err");
	put(o, 1, 5, 0, 0);     /* n1 */
	put(o, 2, 5, 0, 0);     /* n2 */
	put(o, 3, 5, 1, 0);     /* a3 */
	put(o, 4, 5, 0, 0);     /* n4: full now */
	put(o, 5, 5, 0, 1);     /* non-alert, full: dropped */
	assert_int_equal(g_stats.output_dropped, 1);
	put(o, 6, 5, 1, 0);     /* alert: n1 makes room */
	put(o, 7, 5, 1, 0);     /* n2 */
	put(o, 8, 5, 1, 0);     /* n4 */
	assert_int_equal(g_stats.output_dropped, 4);
	assert_int_equal(output_pending(o), 4);
	put(o, 9, 5, 1, 1);     /* only alerts queued: to stderr */
	put(o, 10, 5, 0, 1);    /* non-alert: dropped */
	err = release_stderr(&c);
	assert_int_equal(g_stats.output_dropped, 5);
	assert_int_equal(g_stats.output_alerts_stderr, 1);
	assert_int_equal(g_stats.output_queue_peak, 4);
	assert_int_equal(g_stats.events, 0);
	assert_int_equal(count_str(err, "certsentry: undelivered alert (queue full): {\"n\":9,"), 1);
	assert_int_equal(count_str(err, "\n"), 1);   /* nothing else on stderr */
	free(err);

	/* the consumer appears: the alerts arrive, oldest first */
	fd = dgram_listener(path);
	sleep_ms(40);
	assert_int_equal(output_flush(o), 0);
	assert_int_equal(g_stats.output_reconnects, 0);   /* first connection */
	{
		char buf[256];

		for (int want = 3; want <= 8; want++) {
			char *l;
			ssize_t r;

			if (want == 4 || want == 5)
				continue;
			r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
			l = mkline(want, 5);
			assert_int_equal((size_t)r, strlen(l) + 1);
			assert_memory_equal(buf, l, strlen(l));
			free(l);
		}
		assert_int_equal(recv(fd, buf, sizeof(buf), MSG_DONTWAIT), -1);
	}
	assert_int_equal(g_stats.events, 4);
	output_close(o);
	close(fd);
	unlink(path);
}

/* The byte limit: a line larger than the whole queue cannot wait. */
static void test_queue_bytes(void **state)
{
	struct output *o;
	struct captured c;
	char path[128], *err;

	(void)state;
	path_in(path, sizeof(path), "bytes.sock");
	o = open_or_fail(&(struct output_opts){
		.type = "unix_stream",
		.path = path,
		.queue_max_bytes = 200,
	});
	capture_stderr(&c, "bytes.err");
	put(o, 1, 150, 0, 0);          /* 165 bytes: fits */
	put(o, 2, 150, 0, 1);          /* would make 330: dropped */
	put(o, 3, 10, 1, 0);           /* small alert: fits beside it */
	put(o, 4, 150, 1, 0);          /* alert: n1 leaves for it */
	put(o, 5, 300, 1, 1);          /* larger than the queue: stderr */
	assert_int_equal(output_pending(o), 2);
	assert_int_equal(g_stats.output_dropped, 2);
	assert_int_equal(g_stats.output_alerts_stderr, 1);

	/* at exit, with nobody listening: alerts to stderr, the rest counted */
	output_close(o);
	err = release_stderr(&c);
	assert_int_equal(count_str(err, "(queue full): {\"n\":5,"), 1);
	assert_int_equal(count_str(err, "(consumer away at exit): {\"n\":3,"), 1);
	assert_int_equal(count_str(err, "(consumer away at exit): {\"n\":4,"), 1);
	assert_int_equal(count_str(err, "\n"), 3);
	assert_int_equal(g_stats.output_alerts_stderr, 3);
	assert_int_equal(g_stats.output_dropped, 2);
	free(err);
}

/* output_close delivers what is queued when the consumer is back, even
 * within the reconnect interval. */
static void test_close_flushes(void **state)
{
	struct output *o;
	char path[128];
	int fd;

	(void)state;
	path_in(path, sizeof(path), "close.sock");
	o = open_or_fail(&(struct output_opts){
		.type = "unix_dgram",
		.path = path,
	});     /* default interval: 1 s */
	for (int i = 0; i < 3; i++)
		put(o, i, 5, i == 1, 0);
	fd = dgram_listener(path);
	assert_int_equal(output_flush(o), 3);   /* too soon to reconnect */
	output_close(o);
	dgram_expect(fd, NULL, 0, 3, 5);
	assert_int_equal(g_stats.events, 3);
	assert_int_equal(g_stats.output_dropped + g_stats.output_alerts_stderr, 0);
	close(fd);
	unlink(path);
}

/* output_reopen on a socket reconnects at once. */
static void test_socket_reopen(void **state)
{
	struct output *o;
	char path[128];
	int fd;

	(void)state;
	path_in(path, sizeof(path), "hup.sock");
	o = open_or_fail(&(struct output_opts){ .type = "unix_dgram", .path = path });
	put(o, 0, 5, 0, 0);
	put(o, 1, 5, 0, 0);
	fd = dgram_listener(path);
	assert_int_equal(output_reopen(o), 0);
	assert_int_equal(output_pending(o), 0);
	put(o, 2, 5, 0, 0);
	dgram_expect(fd, NULL, 0, 3, 5);
	output_close(o);
	close(fd);
	unlink(path);
}

/* ---- redis --------------------------------------------------------------- */

#define REDIS_SERVER "/usr/bin/redis-server"

static void test_redis_mode_parse(void **state)
{
	static const struct { const char *s; enum output_redis_mode m; } ok[] = {
		{ "list", OUTPUT_REDIS_LPUSH }, { "LPUSH", OUTPUT_REDIS_LPUSH },
		{ "rpush", OUTPUT_REDIS_RPUSH }, { "channel", OUTPUT_REDIS_PUBLISH },
		{ "Publish", OUTPUT_REDIS_PUBLISH }, { "stream", OUTPUT_REDIS_XADD },
	};
	static const char *bad[] = { "", "lists", "xadd", "pub", " list", NULL };
	enum output_redis_mode m;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		m = (enum output_redis_mode)99;
		assert_int_equal(output_redis_mode_parse(ok[i].s, &m), 0);
		assert_int_equal(m, ok[i].m);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		m = (enum output_redis_mode)99;
		assert_int_equal(output_redis_mode_parse(bad[i], &m), -1);
		assert_int_equal(m, 99);   /* untouched */
	}
}

/* Targets that can never work are refused at open, saying why; a server
 * that is not there is not an error. */
static void test_redis_open_errors(void **state)
{
	static const struct { const char *target, *why; } bad[] = {
		{ "localhost:0", "bad port \"0\"" }, { "localhost:65536", "bad port" },
		{ "localhost:", "bad port \"\"" }, { "localhost:6x", "bad port" },
		{ ":6379", "no host" }, { "[::1", "expected [IPV6-ADDRESS]" },
		{ "[::1]x", "expected [IPV6-ADDRESS]" }, { "[]:6379", "no host" },
		{ "unix:", "no socket path" },
	};
	struct output_opts opts;
	struct output *o;
	struct captured c;
	char err[512], path[200], *e;

	(void)state;
	memset(&opts, 0, sizeof(opts));
	opts.type = "redis";
	err[0] = '\0';
	assert_null(output_open(&opts, err, sizeof(err)));
	assert_non_null(strstr(err, "redis output needs -o HOST[:PORT]"));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		opts.path = bad[i].target;
		err[0] = '\0';
		assert_null(output_open(&opts, err, sizeof(err)));
		if (!strstr(err, "cannot open redis output: ") || !strstr(err, bad[i].why))
			fail_msg("%s: \"%s\"", bad[i].target, err);
	}
	memset(path, 'x', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	opts.path = path;
	assert_null(output_open(&opts, err, sizeof(err)));
	assert_non_null(strstr(err, "socket path too long (at most 107 bytes)"));
	opts.path = "127.0.0.1:1";
	with(&opts, "redis-key", "");
	assert_null(output_open(&opts, err, sizeof(err)));
	assert_non_null(strstr(err, "empty --redis-key"));
	opts.n_set = 0;
	with(&opts, "redis-auth", auth_file(path, sizeof(path), "empty.pw", ""));
	assert_null(output_open(&opts, err, sizeof(err)));
	assert_non_null(strstr(err, "empty password"));
	opts.n_set = 0;

	/* well-formed, nobody there: open works, says so once, lines queue */
	path_in(path, sizeof(path), "nobody.sock");
	capture_stderr(&c, "nobody.err");
	for (int i = 0; i < 4; i++) {
		static const char *fmt[] = { "unix:%s", "%s", "[::1]:1", "::1" };

		snprintf(err, sizeof(err), fmt[i], path);
		opts.path = err;
		o = open_or_fail(&opts);
		put(o, i, 5, 0, 0);
		assert_int_equal(output_pending(o), 1);
		output_close(o);
	}
	e = release_stderr(&c);
	assert_int_equal(count_str(e, "lines wait until it is up\n"), 4);
	assert_int_equal(count_str(e, "No such file or directory"), 2);
	assert_int_equal(count_str(e, "\n"), 4);
	assert_int_equal(g_stats.output_dropped, 4);      /* at exit, nobody came */
	assert_int_equal(g_stats.output_disconnects, 0);  /* never there: not gone */
	free(e);
}

/* A redis-server of our own on DIR/NAME; its pid, or 0 (then the test
 * skips: no redis-server on this machine). */
static pid_t redis_start(const char *sock)
{
	pid_t pid;

	if (access(REDIS_SERVER, X_OK) != 0)
		return 0;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);

		dup2(fd, 1);
		dup2(fd, 2);
		execl(REDIS_SERVER, REDIS_SERVER, "--port", "0", "--unixsocket", sock, "--dir", g_dir,
		      "--save", "", "--appendonly", "no", "--daemonize", "no", (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 300; i++) {
		redisContext *c = redisConnectUnix(sock);
		int up = c && !c->err;

		redisFree(c);
		if (up)
			return pid;
		sleep_ms(10);
	}
	fail_msg("redis-server did not come up on %s", sock);
	return 0;
}

static void redis_kill(pid_t pid, const char *sock)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	unlink(sock);
}

/* LRANGE key 0 -1 is lines first.. of pad, in order. */
static void redis_expect(const char *sock, const char *key, int first, int n, size_t pad)
{
	redisContext *c = redisConnectUnix(sock);
	redisReply *r;

	assert_true(c && !c->err);
	r = redisCommand(c, "LRANGE %s 0 -1", key);
	assert_non_null(r);
	assert_int_equal(r->type, REDIS_REPLY_ARRAY);
	assert_int_equal(r->elements, (size_t)n);
	for (int i = 0; i < n; i++) {
		char *want = mkline(first + i, pad);

		assert_int_equal(r->element[i]->len, strlen(want));   /* no '\n' */
		assert_memory_equal(r->element[i]->str, want, strlen(want));
		free(want);
	}
	freeReplyObject(r);
	redisFree(c);
}

static void test_redis_lines(void **state)
{
	struct output *o;
	char sock[128];
	pid_t pid;

	(void)state;
	path_in(sock, sizeof(sock), "redis-lines.sock");
	pid = redis_start(sock);
	if (!pid)
		skip();
	o = open_or_fail(with(with(&(struct output_opts){ .type = "redis", .path = sock },
	                           "redis-mode", "rpush"), "redis-key", "cs:lines"));
	for (int i = 0; i < 20; i++)
		put(o, i, (size_t)i * 100, i % 3 == 0, 0);
	assert_int_equal(output_pending(o), 0);
	assert_int_equal(g_stats.events, 20);
	assert_int_equal(g_stats.output_queued, 0);
	output_close(o);
	{
		redisContext *c = redisConnectUnix(sock);
		redisReply *r = redisCommand(c, "LRANGE cs:lines 0 -1");

		assert_int_equal(r->elements, 20);
		for (int i = 0; i < 20; i++) {
			char *want = mkline(i, (size_t)i * 100);

			assert_int_equal(r->element[i]->len, strlen(want));
			assert_memory_equal(r->element[i]->str, want, strlen(want));
			free(want);
		}
		freeReplyObject(r);
		redisFree(c);
	}
	redis_kill(pid, sock);
}

/* The server is killed and started again: no SIGPIPE (the default action
 * is kept here), lines queue without a wait, one disconnect, and after
 * the back-off one reconnect and every line in order. */
static void test_redis_restart(void **state)
{
	struct output *o;
	char sock[128];
	pid_t pid;
	uint64_t t0;

	(void)state;
	path_in(sock, sizeof(sock), "redis-re.sock");
	pid = redis_start(sock);
	if (!pid)
		skip();
	o = open_or_fail(with(&(struct output_opts){
		.type = "redis", .path = sock, .reconnect_ms = 300,
	}, "redis-mode", "rpush"));
	for (int i = 0; i < 3; i++)
		put(o, i, 50, 0, 0);
	redis_expect(sock, OUTPUT_REDIS_DEF_KEY, 0, 3, 50);
	redis_kill(pid, sock);
	t0 = sink_now_ms();
	for (int i = 3; i < 403; i++)
		put(o, i, 50, i == 7, 0);
	assert_true(sink_now_ms() - t0 < 150);   /* away: no wait a line */
	assert_int_equal(output_pending(o), 400);
	assert_int_equal(g_stats.output_disconnects, 1);
	assert_int_equal(g_stats.output_queued, 400);
	pid = redis_start(sock);
	assert_int_equal(output_flush(o), 400);   /* back-off not over */
	assert_int_equal(g_stats.output_reconnects, 0);
	sleep_ms(350);
	put(o, 403, 50, 0, 0);                    /* the queue first: pipelined */
	assert_int_equal(output_pending(o), 0);
	assert_int_equal(g_stats.output_reconnects, 1);
	assert_int_equal(g_stats.output_disconnects, 1);
	assert_int_equal(g_stats.output_dropped, 0);
	assert_int_equal(g_stats.events, 404);
	redis_expect(sock, OUTPUT_REDIS_DEF_KEY, 3, 401, 50);
	output_close(o);
	redis_kill(pid, sock);
}

/* An error reply about one line is that line's write error; the next
 * line goes as usual.  A failed alert also goes to standard error. */
static void test_redis_wrongtype(void **state)
{
	struct output *o;
	struct captured c;
	char sock[128], *err;
	redisContext *rc;
	pid_t pid;

	(void)state;
	path_in(sock, sizeof(sock), "redis-wt.sock");
	pid = redis_start(sock);
	if (!pid)
		skip();
	rc = redisConnectUnix(sock);
	freeReplyObject(redisCommand(rc, "SET cs:wt not-a-list"));
	o = open_or_fail(with(&(struct output_opts){ .type = "redis", .path = sock },
	                      "redis-key", "cs:wt"));
	capture_stderr(&c, "wt.err");
	put(o, 0, 5, 0, -1);
	put(o, 1, 5, 1, -1);
	err = release_stderr(&c);
	assert_int_equal(g_stats.output_err, 2);
	assert_int_equal(g_stats.output_alerts_stderr, 1);
	assert_int_equal(g_stats.output_disconnects, 0);    /* the server is fine */
	assert_int_equal(count_str(err, ": LPUSH cs:wt: WRONGTYPE"), 1);   /* said once */
	assert_int_equal(count_str(err, "undelivered alert (write error): {\"n\":1,"), 1);
	assert_int_equal(count_str(err, "\n"), 2);
	free(err);
	freeReplyObject(redisCommand(rc, "DEL cs:wt"));
	put(o, 2, 5, 0, 0);
	redis_expect(sock, "cs:wt", 2, 1, 5);
	output_close(o);
	redisFree(rc);
	redis_kill(pid, sock);
}

/* output_close makes one more attempt whatever the back-off. */
static void test_redis_close_flushes(void **state)
{
	struct output *o;
	struct captured c;
	char sock[128], *err;
	pid_t pid;

	(void)state;
	path_in(sock, sizeof(sock), "redis-late.sock");
	if (access(REDIS_SERVER, X_OK) != 0)
		skip();
	capture_stderr(&c, "late.err");
	o = open_or_fail(with(&(struct output_opts){ .type = "redis", .path = sock },
	                      "redis-mode", "rpush"));     /* default back-off: 1 s */
	err = release_stderr(&c);
	assert_int_equal(count_str(err, "lines wait until it is up"), 1);
	free(err);
	for (int i = 0; i < 5; i++)
		put(o, i, 5, i == 2, 0);
	pid = redis_start(sock);
	assert_int_equal(output_flush(o), 5);   /* too soon */
	output_close(o);
	redis_expect(sock, OUTPUT_REDIS_DEF_KEY, 0, 5, 5);
	assert_int_equal(g_stats.events, 5);
	assert_int_equal(g_stats.output_reconnects, 0);   /* the first connection */
	assert_int_equal(g_stats.output_dropped + g_stats.output_alerts_stderr, 0);
	redis_kill(pid, sock);
}

/* A server that answers every command with one reply and counts the
 * connections it accepted (written to *count_fd when ctl_fd closes). */
struct fake {
	pid_t pid;
	int ctl, res;
};

static void fake_serve(int lfd, int ctl, int res, const char *reply)
{
	unsigned n = 0;

	for (;;) {
		struct pollfd p[2] = { { .fd = lfd, .events = POLLIN }, { .fd = ctl, .events = POLLIN } };
		char buf[4096];
		int cfd;

		if (poll(p, 2, -1) < 0)
			continue;
		if (p[1].revents)
			break;
		cfd = accept(lfd, NULL, NULL);
		if (cfd < 0)
			continue;
		n++;
		{
			struct pollfd q = { .fd = cfd, .events = POLLIN };

			if (poll(&q, 1, 1000) == 1 && read(cfd, buf, sizeof(buf)) > 0 &&
			    write(cfd, reply, strlen(reply)) < 0)
				n += 0;    /* the client left: nothing to do */
		}
		close(cfd);
	}
	if (write(res, &n, sizeof(n)) != sizeof(n))
		_exit(1);
	_exit(0);
}

static struct fake fake_start(const char *sock, const char *reply)
{
	struct fake f;
	int ctl[2], res[2], lfd = stream_listener(sock);

	assert_int_equal(pipe(ctl), 0);
	assert_int_equal(pipe(res), 0);
	f.pid = fork();
	assert_true(f.pid >= 0);
	if (f.pid == 0) {
		close(ctl[1]);
		close(res[0]);
		fake_serve(lfd, ctl[0], res[1], reply);
	}
	close(lfd);
	close(ctl[0]);
	close(res[1]);
	f.ctl = ctl[1];
	f.res = res[0];
	return f;
}

static unsigned fake_stop(struct fake *f, const char *sock)
{
	unsigned n = 0;

	close(f->ctl);
	assert_int_equal(read(f->res, &n, sizeof(n)), (ssize_t)sizeof(n));
	close(f->res);
	waitpid(f->pid, NULL, 0);
	unlink(sock);
	return n;
}

/* AUTH refused: said once, counted once, the line waits; the attempts
 * back off 50, 100, 200, 400, 800 ms (6 in 1.6 s where a fixed interval
 * would make 30). */
static void test_redis_auth_refused(void **state)
{
	struct output *o;
	struct captured c;
	char sock[128], pw[128], *err;
	struct fake f;
	unsigned n;
	uint64_t t0;

	(void)state;
	path_in(sock, sizeof(sock), "fake-auth.sock");
	f = fake_start(sock, "-WRONGPASS invalid username-password pair\r\n");
	capture_stderr(&c, "auth.err");
	t0 = sink_now_ms();
	o = open_or_fail(with(&(struct output_opts){
		.type = "redis", .path = sock, .reconnect_ms = 50,
	}, "redis-auth", auth_file(pw, sizeof(pw), "nope.pw", "nope")));
	put(o, 0, 5, 1, 0);
	while (sink_now_ms() - t0 < 1600) {
		assert_int_equal(output_flush(o), 1);
		sleep_ms(5);
	}
	n = fake_stop(&f, sock);
	output_close(o);     /* nobody there now: the alert to stderr */
	err = release_stderr(&c);
	if (n < 5 || n > 7)
		fail_msg("%u connection attempts in 1.6 s (want 6)", n);
	assert_int_equal(count_str(err, "AUTH refused: WRONGPASS"), 1);
	assert_int_equal(count_str(err, "undelivered alert (consumer away at exit): {\"n\":0,"), 1);
	assert_int_equal(count_str(err, "\n"), 2);
	assert_int_equal(g_stats.output_disconnects, 1);
	assert_int_equal(g_stats.output_reconnects, 0);
	assert_int_equal(g_stats.output_alerts_stderr, 1);
	free(err);
}

/* LOADING (a server reading its data set) is the server's state, not the
 * line's: the line waits, nothing is an error. */
static void test_redis_loading(void **state)
{
	struct output *o;
	struct captured c;
	char sock[128], *err;
	struct fake f;

	(void)state;
	path_in(sock, sizeof(sock), "fake-load.sock");
	f = fake_start(sock, "-LOADING Redis is loading the dataset in memory\r\n");
	capture_stderr(&c, "load.err");
	o = open_or_fail(&(struct output_opts){
		.type = "redis", .path = sock, .reconnect_ms = 20,
	});
	put(o, 0, 5, 0, 0);
	put(o, 1, 5, 1, 0);
	sleep_ms(30);
	assert_int_equal(output_flush(o), 2);
	(void)fake_stop(&f, sock);
	err = release_stderr(&c);
	assert_int_equal(count_str(err, "LPUSH refused: LOADING"), 1);
	assert_int_equal(count_str(err, "\n"), 1);
	assert_int_equal(g_stats.output_err, 0);
	assert_int_equal(g_stats.output_queued, 2);
	free(err);
	capture_stderr(&c, "load2.err");
	output_close(o);
	free(release_stderr(&c));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_type_parse, setup),
		cmocka_unit_test_setup(test_syslog_names, setup),
		cmocka_unit_test_setup(test_sink_registry, setup),
		cmocka_unit_test_setup(test_open_errors, setup),
		cmocka_unit_test_setup(test_identity, setup),
		cmocka_unit_test_setup(test_file_lines, setup),
		cmocka_unit_test_setup(test_file_reopen, setup),
		cmocka_unit_test_setup(test_stdout, setup),
		cmocka_unit_test_setup(test_file_full, setup),
		cmocka_unit_test_setup(test_syslog, setup),
		cmocka_unit_test_setup(test_handshake_alert_priority, setup),
		cmocka_unit_test_setup(test_dgram_lines, setup),
		cmocka_unit_test_setup(test_dgram_busy, setup),
		cmocka_unit_test_setup(test_dgram_reconnect, setup),
		cmocka_unit_test_setup(test_dgram_too_big, setup),
		cmocka_unit_test_setup(test_stream_reconnect, setup),
		cmocka_unit_test_setup(test_stream_partial, setup),
		cmocka_unit_test_setup(test_stream_partial_kept, setup),
		cmocka_unit_test_setup(test_stream_cut_line, setup),
		cmocka_unit_test_setup(test_queue_overflow, setup),
		cmocka_unit_test_setup(test_queue_bytes, setup),
		cmocka_unit_test_setup(test_close_flushes, setup),
		cmocka_unit_test_setup(test_socket_reopen, setup),
		cmocka_unit_test_setup(test_redis_mode_parse, setup),
		cmocka_unit_test_setup(test_redis_open_errors, setup),
		cmocka_unit_test_setup(test_redis_lines, setup),
		cmocka_unit_test_setup(test_redis_restart, setup),
		cmocka_unit_test_setup(test_redis_wrongtype, setup),
		cmocka_unit_test_setup(test_redis_close_flushes, setup),
		cmocka_unit_test_setup(test_redis_auth_refused, setup),
		cmocka_unit_test_setup(test_redis_loading, setup),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
