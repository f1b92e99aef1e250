/*
 * metrics.h - the stats counters in the Prometheus text exposition format
 * (version 0.0.4), for node_exporter's textfile collector: --metrics FILE
 * is rewritten whole (a temporary file in the same directory, then
 * rename(2), so a scrape never reads half a file) each time the EVE stats
 * event is written (--stats-interval; with -r at the end of the run).
 * Part of the output stage; it reads the same input as eve_stats.c.
 */
#ifndef CS_METRICS_H
#define CS_METRICS_H

#include <stddef.h>

#include "eve_stats.h"

/* Where to write; NULL: nowhere (the default).  The string is not copied:
 * it must outlive the run (argv). */
void metrics_set_path(const char *path);
const char *metrics_path(void);

/* The exposition text of in, malloc'd (the caller frees it), its length in
 * *len.  NULL when out of memory. */
char *metrics_text(const struct eve_stats_input *in, size_t *len);

/* metrics_text written to the path atomically.  0, or -1 with err set. */
int metrics_write(const struct eve_stats_input *in, char *err, size_t errlen);

#endif
