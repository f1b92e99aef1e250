/*
 * live.h - the sensor on interfaces: capture from each -i with one or more
 * worker threads, hand the packets to each worker's own engine, and behave
 * as a daemon should (SIGHUP reloads the rules atomically and reopens the
 * output, SIGTERM/SIGINT flush and stop, stats every N seconds, privileges
 * dropped once the capture is open).
 */
#ifndef CS_LIVE_H
#define CS_LIVE_H

#include <stddef.h>
#include <stdint.h>

#include "engine/engine.h"
#include "event/eve_stats.h"
#include "event/output.h"
#include "verdict/policy.h"

#define LIVE_MAX_IFACES  16
#define LIVE_MAX_WORKERS 64

/* What a SIGHUP may change besides the rules' contents: the settings a
 * re-read configuration file may change at run time (options.c decides
 * which; each is read only by the main thread, so no worker sees it
 * change under it). */
struct live_reconf {
	const char *rules;          /* rules path (stable until live_run returns) */
	unsigned stats_interval;    /* seconds */
};

struct live_opts {
	const char *ifaces[LIVE_MAX_IFACES];
	size_t n_ifaces;
	const char *bpf;            /* NULL: the default for the inspected ports */
	const char *default_bpf;    /* built by main from --ports / --any-port */
	int snaplen;
	int buffer_mb;
	unsigned workers;           /* threads; > 1 shares each interface by
	                               PACKET_FANOUT on the flow hash */
	unsigned stats_interval;    /* seconds; 0: only at exit */
	const char *rules;          /* reloaded on SIGHUP; NULL: none */
	const char *user;           /* drop to this user after opening; NULL: stay */
	const char *pidfile;        /* NULL: none */
	/* SIGHUP: re-read the configuration file into *rc (0), or -1 (said:
	 * *rc unchanged).  NULL: there is no configuration file. */
	int (*reconfigure)(void *ctx, struct live_reconf *rc);
	void *reconfigure_ctx;
};

/* What a live run saw, summed over its workers at stop, for the summary
 * that main prints once the output has drained.  Owner names are copies
 * (the engines that counted them are gone by then): live_totals_release. */
struct live_totals {
	struct cs_stats st;
	struct eve_alert_count rows[LIVE_MAX_WORKERS * 16];
	size_t n_rows;
	uint64_t alerts;
};
void live_totals_release(struct live_totals *t);

/* Runs until SIGTERM/SIGINT.  Each worker gets an engine made from eo (its
 * policy is swapped on SIGHUP: *pol is the one in force, which the caller
 * frees at the end).  tot (may be NULL) receives the totals at stop.
 * Returns 0, or -1 when an interface cannot be opened or privileges
 * cannot be dropped (message on stderr/syslog). */
int live_run(const struct live_opts *lo, const struct engine_opts *eo,
             struct policy **pol, struct live_totals *tot);

/* Diagnostics: standard error, or syslog once live_use_syslog(1). */
void live_use_syslog(int on);
void live_diag(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Write one EVE stats line (when eve_line), stamped with the wall clock,
 * and the --metrics file when one is set.  kernel: packet, drop and
 * interface-drop counters, or NULL (reading files). */
struct coverage;
void live_write_stats(struct output *out, struct coverage *cov, const struct cs_stats *st,
                      const struct eve_alert_count *alerts, size_t n_alerts,
                      const uint64_t kernel[3], int eve_line);

#endif
