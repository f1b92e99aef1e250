/*
 * live.c - the sensor on interfaces (see include/run/live.h).
 *
 * Workers: each owns an engine (flow table, defragmenter, nDPI) and one
 * libpcap handle per interface; with several workers the handles of an
 * interface join one PACKET_FANOUT group hashing on the flow, so both
 * directions of a connection reach the same worker and the packet path
 * takes no lock.  Each worker's handles are non-blocking and polled
 * together, so a quiet interface never delays another.
 *
 * The main thread handles signals (the handlers only set flags), reloads
 * (the rules load on a thread of their own, see reloader_main), stats and
 * the pidfile.  What it shares with a worker goes through the
 * worker's mutex, taken once per poll round, never per packet: a copy of
 * the counters and alert tally, the kernel counters, and a policy to swap
 * in.  Output lines from several threads are serialised by output.c.
 *
 * Must not: inspect packets itself (each worker's engine does).
 */
#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "capture/capture.h"
#include "capture/decode.h"
#include "core/fileio.h"
#include "run/live.h"
#include "run/workers.h"
#include "run/privs.h"
#include "event/metrics.h"
#include "core/stats.h"

#define LIVE_POLL_MS        200   /* longest wait before flags are looked at */
#define LIVE_BURST          256   /* packets read from one handle per turn */
#define LIVE_MAX_ALERT_ROWS 1024  /* owner/verdict pairs per worker in stats */
#define LIVE_SWAP_WAIT_MS   5000  /* longest wait for workers to take a policy */

static volatile sig_atomic_t g_stop, g_reload;
static atomic_int g_quit;         /* tells the workers to stop */
static int g_syslog;
static uint64_t g_started_us;

struct worker {
	pthread_t th;
	unsigned idx;
	struct engine *e;                        /* owned */
	struct capture *caps[LIVE_MAX_IFACES];   /* owned */
	const char *names[LIVE_MAX_IFACES];
	int dlt[LIVE_MAX_IFACES];
	struct pollfd pfd[LIVE_MAX_IFACES];
	size_t n;
	pthread_mutex_t lock;                    /* guards what follows */
	struct worker_tally tally;               /* rows: a view of rows[] below */
	struct eve_alert_count rows[LIVE_MAX_ALERT_ROWS];
	const struct policy *pending;            /* to swap in; NULL: none */
	int failed;
};

static void on_stop(int sig)
{
	(void)sig;
	g_stop = 1;
}

static void on_hup(int sig)
{
	(void)sig;
	g_reload = 1;
}

void live_use_syslog(int on)
{
	g_syslog = on;
	if (on)
		openlog("certsentry", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void live_diag(int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (g_syslog) {
		vsyslog(prio, fmt, ap);
	} else {
		fputs("certsentry: ", stderr);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	}
	va_end(ap);
}

static uint64_t wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void live_write_stats(struct output *out, struct coverage *cov, const struct cs_stats *st,
                      const struct eve_alert_count *alerts, size_t n_alerts,
                      const uint64_t kernel[3], int eve_line)
{
	struct eve_stats_input in;
	struct output_delivery dl;
	uint64_t now = wall_us();
	char *line;

	memset(&in, 0, sizeof(in));
	in.ts_us = now;
	in.uptime_s = g_started_us && now > g_started_us ? (now - g_started_us) / 1000000u : 0;
	if (kernel) {
		in.have_kernel = 1;
		in.kernel_packets = kernel[0];
		in.kernel_drops = kernel[1];
		in.kernel_ifdrops = kernel[2];
	}
	in.st = st;
	in.alerts = alerts;
	in.n_alerts = n_alerts;
	in.cov = cov;
	output_delivery(out, &dl);
	in.dl = &dl;
	in.host = output_host(out);
	if (eve_line) {
		line = eve_stats_line(&in);   /* owned here */
		if (!line || output_write_line(out, line, strlen(line), 0) < 0)
			live_diag(LOG_ERR, "cannot write the stats event");
		free(line);
	}
	if (metrics_path()) {
		char err[512];

		if (metrics_write(&in, err, sizeof(err)) < 0)
			live_diag(LOG_ERR, "%s", err);
	}
}

/* ---- workers ------------------------------------------------------------ */

static void publish(struct worker *w)
{
	uint64_t k[3] = { 0, 0, 0 };

	for (size_t i = 0; i < w->n; i++) {
		uint64_t p, d, f;

		if (capture_kernel_stats(w->caps[i], &p, &d, &f) == 0) {
			k[0] += p;
			k[1] += d;
			k[2] += f;
		}
	}
	pthread_mutex_lock(&w->lock);
	w->tally.st = g_stats;
	w->tally.n_rows = engine_alert_table(w->e, w->rows, LIVE_MAX_ALERT_ROWS);
	w->tally.rows = w->rows;
	memcpy(w->tally.kernel, k, sizeof(k));
	if (w->pending) {
		if (engine_set_policy(w->e, w->pending) < 0)
			live_diag(LOG_ERR, "worker %u: out of memory: old policy kept", w->idx);
		w->pending = NULL;
	}
	pthread_mutex_unlock(&w->lock);
}

/* Read up to LIVE_BURST packets of one handle.  -1: it failed. */
static int drain(struct worker *w, size_t i)
{
	const uint8_t *frame;
	size_t caplen;
	uint64_t ts;

	engine_set_iface(w->e, i);   /* EVE in_iface of the flows these packets open */
	for (int k = 0; k < LIVE_BURST; k++) {
		int rc = capture_next(w->caps[i], &frame, &caplen, &ts);

		if (rc == 1) {
			engine_packet(w->e, w->dlt[i], frame, caplen, ts);
			continue;
		}
		if (rc == -1) {
			live_diag(LOG_ERR, "%s: %s", w->names[i], capture_error(w->caps[i]));
			return -1;
		}
		break;
	}
	return 0;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	while (!atomic_load(&g_quit)) {
		int n = poll(w->pfd, (nfds_t)w->n, LIVE_POLL_MS);

		if (n < 0 && errno != EINTR) {
			live_diag(LOG_ERR, "worker %u: poll: %s", w->idx, strerror(errno));
			w->failed = 1;
			break;
		}
		for (size_t i = 0; n > 0 && i < w->n; i++)
			if ((w->pfd[i].revents & POLLIN) && drain(w, i) < 0)
				w->failed = 1;
		engine_tick(w->e, wall_us());
		publish(w);
		if (w->failed)
			break;
	}
	engine_flush(w->e);
	publish(w);
	return NULL;
}

static int open_worker(const struct live_opts *lo, struct worker *w, int group)
{
	struct capture_live_opts co;
	char err[512];

	memset(&co, 0, sizeof(co));
	co.bpf = lo->bpf ? lo->bpf : lo->default_bpf;
	co.snaplen = lo->snaplen;
	co.buffer_mb = lo->buffer_mb;
	co.promisc = 1;
	for (size_t i = 0; i < lo->n_ifaces; i++) {
		co.iface = lo->ifaces[i];
		co.fanout_group = lo->workers > 1 ? group + (int)i : 0;
		w->names[i] = lo->ifaces[i];
		w->caps[i] = capture_open_live(&co, err, sizeof(err));
		if (!w->caps[i]) {
			live_diag(LOG_ERR, "%s", err);
			return -1;
		}
		w->n = i + 1;
		w->dlt[i] = capture_datalink(w->caps[i]);
		if (!decode_linktype_supported(w->dlt[i])) {
			live_diag(LOG_ERR, "%s: unsupported link type %d (%s)", lo->ifaces[i],
			          w->dlt[i], capture_datalink_name(w->caps[i]));
			return -1;
		}
		w->pfd[i].fd = capture_pollable_fd(w->caps[i]);
		w->pfd[i].events = POLLIN;
		if (w->pfd[i].fd < 0) {
			live_diag(LOG_ERR, "%s: cannot poll the capture", lo->ifaces[i]);
			return -1;
		}
	}
	return 0;
}

static void close_worker(struct worker *w)
{
	for (size_t i = 0; i < w->n; i++)
		capture_close(w->caps[i]);
	engine_free(w->e);
	pthread_mutex_destroy(&w->lock);
}

/* ---- the main thread ------------------------------------------------------ */

/* Atomically (fileio): a reader never sees an empty or half-written
 * pidfile. */
static int write_pidfile(const char *path, char *err, size_t errlen)
{
	char pid[32];
	int n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());

	return fileio_write_atomic_buf(path, 0644, pid, (size_t)n, err, errlen);
}

static void install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_hup;
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

/* Hand np to every worker and wait until each has taken it: only then may
 * the old policy be freed.  -1 when a worker did not (it keeps np pending
 * and the old policy must stay allocated). */
static int swap_policy(struct worker *ws, unsigned n, const struct policy *np)
{
	for (unsigned i = 0; i < n; i++) {
		pthread_mutex_lock(&ws[i].lock);
		ws[i].pending = np;
		pthread_mutex_unlock(&ws[i].lock);
	}
	for (int waited = 0; waited < LIVE_SWAP_WAIT_MS; waited += 10) {
		unsigned done = 0;

		for (unsigned i = 0; i < n; i++) {
			pthread_mutex_lock(&ws[i].lock);
			done += ws[i].pending == NULL;
			pthread_mutex_unlock(&ws[i].lock);
		}
		if (done == n)
			return 0;
		poll(NULL, 0, 10);
	}
	return -1;
}

/* ---- the rules reload ---------------------------------------------------- */

/* policy_load verifies every approved CA file and may take seconds on
 * big bundles: on the main thread it would stop the stats timer and the
 * output's flushing for as long.  It runs on a thread of its own; the
 * main thread only asks for a load (SIGHUP) and swaps in what came out
 * (reload_collect).  A SIGHUP during a load asks for one more load after
 * it, however many arrive: the rules read last are the rules on disk. */
struct reloader {
	pthread_t th;
	int running;                 /* th started, to be joined */
	pthread_mutex_t lock;        /* guards what follows */
	pthread_cond_t cond;
	int requested;               /* a load asked for and not yet begun */
	const char *path;            /* the rules to load (a SIGHUP may change it: a
	                                re-read configuration file); stable storage */
	const char *loaded;          /* the path of done */
	int busy;                    /* a load is running */
	int quit;
	struct policy *done;         /* a load's result not yet swapped in;
	                                owned here until reload_collect takes it */
	char err[1024];              /* a load's failure, not yet said; "" none */
	double secs;                 /* how long that load took */
};

static struct reloader g_rl = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.cond = PTHREAD_COND_INITIALIZER,
};
static atomic_int g_rl_cancel;   /* stop: a running load gives up */

static double mono_secs(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *reloader_main(void *arg)
{
	struct reloader *rl = &g_rl;
	char err[sizeof(rl->err)];

	(void)arg;   /* the path comes from rl, under its lock: a SIGHUP may change it */

	pthread_mutex_lock(&rl->lock);
	for (;;) {
		struct policy *np;
		const char *rules;
		double t0;

		/* A result waits for the main thread before the next load
		 * begins, so each load's outcome is said, in order. */
		while (!rl->quit && (!rl->requested || rl->done || rl->err[0]))
			pthread_cond_wait(&rl->cond, &rl->lock);
		if (rl->quit)
			break;
		rl->requested = 0;
		rl->busy = 1;
		rules = rl->path;
		pthread_mutex_unlock(&rl->lock);
		t0 = mono_secs();
		err[0] = '\0';
		np = policy_load_cancellable(rules, &g_rl_cancel, err, sizeof(err));
		pthread_mutex_lock(&rl->lock);
		rl->busy = 0;
		rl->secs = mono_secs() - t0;
		if (np) {
			rl->done = np;
			rl->loaded = rules;
		} else {
			snprintf(rl->err, sizeof(rl->err), "%s", err[0] ? err : "unknown error");
		}
	}
	pthread_mutex_unlock(&rl->lock);
	return NULL;
}

/* Start the reload thread (once there are rules: at start, or when a
 * re-read configuration file names them).  Signals stay with the main
 * thread. */
static int reloader_start(const char *rules)
{
	sigset_t all, old;
	int rc;

	if (!rules || g_rl.running)
		return 0;
	g_rl.path = rules;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(&g_rl.th, NULL, reloader_main, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		live_diag(LOG_ERR, "cannot start the rules reload thread: %s", strerror(rc));
		return -1;
	}
	g_rl.running = 1;
	return 0;
}

/* Stop it: a load under way gives up (its rules were never in force). */
static void reloader_stop(void)
{
	if (!g_rl.running)
		return;
	atomic_store(&g_rl_cancel, 1);
	pthread_mutex_lock(&g_rl.lock);
	g_rl.quit = 1;
	pthread_cond_signal(&g_rl.cond);
	pthread_mutex_unlock(&g_rl.lock);
	pthread_join(g_rl.th, NULL);
	g_rl.running = 0;
	policy_free(g_rl.done);
	g_rl.done = NULL;
}

/* SIGHUP: the output is reopened now, on this thread (logrotate waits for
 * it); the configuration file, if any, is read again (cur: the settings
 * it may change at run time); the rules are loaded by the reload thread
 * and replace the old only if they load completely (reload_collect). */
static void reload(const struct live_opts *lo, struct output *out, struct live_reconf *cur)
{
	g_reload = 0;
	if (output_reopen(out) < 0)
		live_diag(LOG_ERR, "SIGHUP: cannot reopen the output: %s", strerror(errno));
	if (lo->reconfigure) {
		struct live_reconf rc = *cur;

		if (lo->reconfigure(lo->reconfigure_ctx, &rc) == 0)
			*cur = rc;
	}
	if (!cur->rules || reloader_start(cur->rules) < 0 || !g_rl.running)
		return;
	pthread_mutex_lock(&g_rl.lock);
	if (g_rl.busy)
		live_diag(LOG_INFO, "SIGHUP: a rules reload is under way; %s after it",
		          g_rl.requested ? "the one already asked for follows" :
		          "one more follows");
	g_rl.path = cur->rules;
	g_rl.requested = 1;
	pthread_cond_signal(&g_rl.cond);
	pthread_mutex_unlock(&g_rl.lock);
}

/* A finished load, if any: swap the new policy in, or say why not. */
static void reload_collect(struct worker *ws, unsigned n, struct policy **pol)
{
	char err[sizeof(g_rl.err)];
	struct policy *np;
	const char *path;
	double secs;

	if (!g_rl.running)
		return;
	pthread_mutex_lock(&g_rl.lock);
	np = g_rl.done;            /* owned by *pol once in force */
	g_rl.done = NULL;
	memcpy(err, g_rl.err, sizeof(err));
	g_rl.err[0] = '\0';
	secs = g_rl.secs;
	path = g_rl.loaded;
	if (np || err[0])
		pthread_cond_signal(&g_rl.cond);   /* a next load may begin */
	pthread_mutex_unlock(&g_rl.lock);
	if (err[0])
		live_diag(LOG_ERR, "SIGHUP: rules not reloaded, the old policy stays: %s", err);
	if (!np)
		return;
	if (swap_policy(ws, n, np) < 0) {
		/* A stuck worker still holds the old one: leak it rather than
		 * free what may be in use. */
		live_diag(LOG_ERR, "SIGHUP: a worker did not take the new rules in time");
		*pol = np;
		return;
	}
	policy_free(*pol);
	*pol = np;
	live_diag(LOG_INFO, "SIGHUP: rules reloaded from %s (%zu owners, %.1f s)", path,
	          policy_owner_count(np), secs);
}

/* The totals at stop keep their own copies of the owner names. */
static void totals_keep(struct live_totals *tot, const struct cs_stats *sum,
                        const struct eve_alert_count *rows, size_t n_rows)
{
	tot->st = *sum;
	tot->n_rows = 0;
	tot->alerts = 0;
	for (size_t i = 0; i < n_rows && tot->n_rows < sizeof(tot->rows) / sizeof(tot->rows[0]);
	     i++) {
		char *owner = strdup(rows[i].owner);   /* owned by tot: live_totals_release */

		tot->alerts += rows[i].n;
		if (!owner)
			continue;
		tot->rows[tot->n_rows] = rows[i];
		tot->rows[tot->n_rows++].owner = owner;
	}
	/* Rows past the table still count in the total. */
	if (sum->alerts > tot->alerts)
		tot->alerts = sum->alerts;
}

void live_totals_release(struct live_totals *t)
{
	for (size_t i = 0; i < t->n_rows; i++)
		free((char *)t->rows[i].owner);
	t->n_rows = 0;
}

/* Sum of every worker's published counters, then one stats line; at stop
 * (tot not NULL) the totals for the summary too. */
static void write_stats(struct worker *ws, unsigned n, struct output *out, struct coverage *cov,
                        struct live_totals *tot)
{
	static struct eve_alert_count rows[LIVE_MAX_WORKERS * 16];
	struct worker_sum sum;

	workers_sum_init(&sum, rows, sizeof(rows) / sizeof(rows[0]));
	for (unsigned i = 0; i < n; i++) {
		pthread_mutex_lock(&ws[i].lock);
		workers_add(&sum, &ws[i].tally);
		pthread_mutex_unlock(&ws[i].lock);
	}
	live_write_stats(out, cov, &sum.st, rows, sum.n_rows, sum.kernel, 1);
	if (tot)
		totals_keep(tot, &sum.st, rows, sum.n_rows);
}

int live_run(const struct live_opts *lo, const struct engine_opts *eo,
             struct policy **pol, struct live_totals *tot)
{
	static struct worker ws[LIVE_MAX_WORKERS];
	unsigned started = 0, n = lo->workers ? lo->workers : 1;
	int group = (int)(getpid() & 0x7fff), rc = 0;
	uint64_t last_stats;
	char err[512];
	/* What a SIGHUP may change (the configuration file re-read). */
	struct live_reconf cur = { lo->rules, lo->stats_interval };

	if (n > LIVE_MAX_WORKERS)
		n = LIVE_MAX_WORKERS;
	g_started_us = last_stats = wall_us();
	install_signals();
	for (unsigned i = 0; i < n; i++) {
		struct engine_opts o = *eo;

		ws[i].idx = i;
		pthread_mutex_init(&ws[i].lock, NULL);
		o.pol = *pol;
		ws[i].e = engine_new(&o, err, sizeof(err));
		if (!ws[i].e) {
			live_diag(LOG_ERR, "worker %u: %s", i, err);
			n = i + 1;
			rc = -1;
			goto out;
		}
		if (open_worker(lo, &ws[i], group) < 0) {
			n = i + 1;
			rc = -1;
			goto out;
		}
		engine_set_ifaces(ws[i].e, ws[i].names, ws[i].n);
	}
	if (lo->pidfile && write_pidfile(lo->pidfile, err, sizeof(err)) != 0)
		live_diag(LOG_WARNING, "--pidfile %s", err);
	/* Root is given up once the capture is open (it needed root, nothing
	 * after does), before a worker parses a packet. */
	if (lo->user && privs_drop(lo->user, err, sizeof(err)) < 0) {
		live_diag(LOG_ERR, "%s", err);
		rc = -1;
		goto out;
	}
	for (; started < n; started++)
		if (pthread_create(&ws[started].th, NULL, worker_main, &ws[started]) != 0) {
			live_diag(LOG_ERR, "cannot start worker %u", started);
			g_stop = 1;
			rc = -1;
			break;
		}
	if (!g_stop && reloader_start(cur.rules) < 0) {
		g_stop = 1;
		rc = -1;
	}
	live_diag(LOG_INFO, "capturing on %zu interface(s) with %u worker(s)", lo->n_ifaces, n);
	while (!g_stop) {
		int failed = 0;

		poll(NULL, 0, LIVE_POLL_MS);
		if (g_reload)
			reload(lo, eo->out, &cur);
		reload_collect(ws, started, pol);
		/* Lines queued for a socket consumer that was away move on
		 * even when no new event comes. */
		output_flush(eo->out);
		if (cur.stats_interval && wall_us() - last_stats >= cur.stats_interval * 1000000ull) {
			last_stats = wall_us();
			write_stats(ws, started, eo->out, eo->coverage, NULL);
		}
		for (unsigned i = 0; i < started; i++)
			failed |= ws[i].failed;
		if (failed) {
			rc = -1;
			break;
		}
	}
	reloader_stop();
	atomic_store(&g_quit, 1);
	for (unsigned i = 0; i < started; i++)
		pthread_join(ws[i].th, NULL);
	write_stats(ws, started, eo->out, eo->coverage, tot);
	live_diag(LOG_INFO, "stopped");
out:
	for (unsigned i = 0; i < n; i++)
		close_worker(&ws[i]);
	if (lo->pidfile)
		unlink(lo->pidfile);
	return rc;
}
