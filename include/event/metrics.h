/*
 * metrics.h - the stats counters in the Prometheus text exposition format
 * (version 0.0.4), for node_exporter's textfile collector: --metrics FILE
 * is rewritten whole (fileio_write_atomic: a temporary file in the same
 * directory, fsync, rename(2), fsync of the directory, so a scrape never
 * reads half a file and a power cut leaves the last whole one) each time
 * the EVE stats event is written (--stats-interval; with -r at the end of
 * the run).
 * Part of the output stage; it reads the same input as eve_stats.c.
 *
 * The counters' families, labels and help are defined with the counters
 * (stats_def.h, CS_METRIC_FAMILIES); the alerts, coverage, uptime and
 * kernel counters are written here.
 *
 * Names follow Prometheus's conventions: certsentry_ first, counters end
 * in _total, units in the name (_bytes, _seconds).  Counters that are
 * kinds of one thing are one family with a label (handshakes_total
 * {version}, limit_hits_total{limit} named as the option that sets the
 * limit, alerts_total{owner,verdict}, coverage_handshakes_total
 * {owner,asset_type,asset,check,checked}).  Label names and version
 * values are snake_case (t_stats_keys.sh).
 */
#ifndef CS_METRICS_H
#define CS_METRICS_H

#include <stddef.h>

#include "event/eve_stats.h"

/* Where to write; NULL: nowhere (the default).  The string is not copied:
 * it must outlive the run (argv). */
void metrics_set_path(const char *path);
const char *metrics_path(void);

/* The exposition text of in, malloc'd (the caller frees it), its length in
 * *len.  NULL when out of memory. */
char *metrics_text(const struct eve_stats_input *in, size_t *len);

/* At start: can the file's directory be written (the temporary file and
 * the rename need it)?  Tried with a real create (fileio_check_writable_dir).
 * 0, or -1 with err set.  0 when no path is set. */
int metrics_check(char *err, size_t errlen);

/* metrics_text written to the path atomically.  0, or -1 with err set
 * ("metrics FILE: reason"). */
int metrics_write(const struct eve_stats_input *in, char *err, size_t errlen);

#endif
