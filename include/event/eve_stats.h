/*
 * eve_stats.h - the EVE "stats" event, in Suricata's counter names where
 * Suricata has one (stats.capture.kernel_packets, stats.decoder.pkts,
 * stats.flow.active, stats.tcp.reassembly_gap, ...) and certsentry's own
 * in the top-level "certsentry" object.  Which counter goes where is
 * defined with the counter (stats_def.h).  Part of the output stage: with
 * output.c the only user of the JSON writer (jsonw.h).
 */
#ifndef CS_EVE_STATS_H
#define CS_EVE_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "verdict/coverage.h"
#include "verdict/policy.h"
#include "core/stats.h"

/* The longest key of a path of stats_def.h, plus one: an object's key is
 * copied out of its path to be written. */
#define EVE_STATS_KEY_MAX 64

struct eve_alert_count {
	const char *owner;
	enum verdict verdict;
	uint64_t n;
};

struct output_delivery;

/* A CT log followed (--ct-follow): where it is, for the stats event's
 * certsentry.ct_logs[] and the metrics file.  Views. */
struct eve_ct_log {
	const char *name, *url, *state;   /* state: "following", "caught-up",
	                                     "misbehaved", "unreachable", "waiting" */
	uint64_t position;                /* entries read and proved */
	uint64_t head_size;               /* the last head verified */
	uint64_t head_timestamp_ms;
	uint64_t entries;                 /* judged this run */
	double entries_per_s;
	uint64_t requests, failures, rate_limited;
};

struct eve_stats_input {
	uint64_t ts_us;                   /* wall clock of the event */
	uint64_t uptime_s;
	int have_kernel;                  /* live capture: kernel counters valid */
	uint64_t kernel_packets, kernel_drops, kernel_ifdrops;
	const struct cs_stats *st;
	const struct eve_alert_count *alerts;
	size_t n_alerts;
	struct coverage *cov;             /* may be NULL */
	const struct output_delivery *dl; /* the output's delivery so far; may be NULL */
	const char *host;                 /* the sensor's name (output_host); NULL: none */
	const struct eve_ct_log *ct_logs; /* --ct-follow's logs, or NULL */
	size_t n_ct_logs;
};

/* One EVE line (no newline), malloc'd: the caller frees it.  NULL when out
 * of memory. */
char *eve_stats_line(const struct eve_stats_input *in);

#endif
