/*
 * summary.h - the lines a run ends with on stderr (unless -q): what was
 * read, what was found, what was delivered and what was not, the limits
 * hit and the coverage of every protected asset.  The same summary for
 * files, standard input and a live capture stopped by a signal.
 *
 * Printed only after the outputs have drained or given up, so that its
 * delivery counts are final (main.c, live.c).
 */
#ifndef CS_SUMMARY_H
#define CS_SUMMARY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "event/eve_stats.h"
#include "core/stats.h"

struct keylog;
struct fp_baseline;
struct coverage;
struct output_delivery;

struct summary_in {
	const struct cs_stats *st;              /* the run's counters, summed */
	uint64_t alerts;                        /* alerts found (before dedup and delivery) */
	const struct eve_alert_count *rows;     /* by owner and verdict */
	size_t n_rows;
	struct keylog *kl;                      /* NULL: no key log */
	size_t dsb;                             /* pcapng Decryption Secrets Blocks read */
	const struct fp_baseline *baseline;     /* NULL: none */
	const struct fp_baseline *learn;        /* NULL: not learning */
	struct coverage *cov;                   /* NULL: not counted */
	size_t owners;                          /* owners in the rules (0: none loaded) */
	const struct output_delivery *dl;       /* NULL: no output */
};

void summary_print(const struct summary_in *in, FILE *f);

#endif
