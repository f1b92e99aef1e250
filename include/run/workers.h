/*
 * workers.h - what a worker thread's engine leaves for the thread that
 * sums the workers, for both run modes that have workers: live capture
 * (live.c, one engine a worker, every interface's socket in a fanout
 * group) and capture files read with --workers (dispatch.c, a reader and
 * its rings).  Each worker keeps a tally (its counters, its alerts by
 * owner and verdict, the kernel's counters of its sockets); the summing
 * thread adds the tallies into one (workers_add), which the stats event,
 * the metrics and the summary read as they would one engine's.
 */
#ifndef CS_WORKERS_H
#define CS_WORKERS_H

#include <stddef.h>
#include <stdint.h>

#include "core/stats.h"
#include "event/eve_stats.h"

/* One worker's, as it last kept them.  rows is a view: live.c's point
 * into the worker's own table (owner names into its engine, which lives
 * until the sum is read), dispatch.c's into the copy its worker made
 * before freeing its engine (engine_alert_copy). */
struct worker_tally {
	struct cs_stats st;                      /* its thread's g_stats */
	const struct eve_alert_count *rows;      /* not owned */
	size_t n_rows;
	uint64_t kernel[3];                      /* live: packets, drops, interface drops */
};

/* The workers' sum.  rows is the caller's array of cap rows; a row that
 * does not fit is counted in rows_dropped (its alerts stay in st.alerts). */
struct worker_sum {
	struct cs_stats st;
	struct eve_alert_count *rows;            /* not owned: the caller's */
	size_t n_rows, cap;
	uint64_t rows_dropped;
	uint64_t kernel[3];
};

/* An empty sum writing its rows into rows[0..cap). */
void workers_sum_init(struct worker_sum *s, struct eve_alert_count *rows, size_t cap);
/* Add one worker's tally: counters added, a row of an owner and verdict
 * already in the sum added to it, else appended. */
void workers_add(struct worker_sum *s, const struct worker_tally *t);

#endif
