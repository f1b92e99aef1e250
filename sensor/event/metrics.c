/*
 * metrics.c - the stats counters in Prometheus's text format (metrics.h).
 *
 * Owns: the text built from the counters, and writing the --metrics
 * file.  Must not touch: the counters themselves (it reads the snapshot
 * that eve_stats.c reads), their names (stats_def.h defines each counter
 * once, its family and label with it), the EVE output.
 *
 * The families come in the order of CS_METRIC_FAMILIES, each with its
 * HELP and TYPE once and then its samples, in the order of the rows, so
 * that a family's samples are contiguous as the format requires.  A
 * counter cannot lack a metric: its row must name a family or nothing
 * compiles; test_metrics checks the rest.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fileio.h"
#include "event/metrics.h"
#include "core/stats.h"

/* --metrics FILE's temporary twin is FILE plus this and the pid; a path
 * longer than this many bytes is refused. */
#define METRICS_PATH_MAX 4096u

static const char *g_path;

void metrics_set_path(const char *path)
{
	g_path = path;
}

const char *metrics_path(void)
{
	return g_path;
}

/* ---- text -------------------------------------------------------------- */

/* A label value: backslash, double quote and line feed escaped (0.0.4). */
static void put_label_value(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fprintf(f, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

static void put_head(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One family: its HELP and TYPE, then its samples in the order of the
 * rows (stats_def.h), so that they are contiguous as the format wants. */
static void put_family(FILE *f, const struct cs_stats *st, const struct stats_family_def *d,
                       enum stats_family fam, const struct stats_row *rows, size_t n)
{
	put_head(f, d->name, d->gauge ? "gauge" : "counter", d->help);
	for (size_t i = 0; i < n; i++) {
		if (rows[i].kind != STATS_ROW_COUNTER || rows[i].family != fam)
			continue;
		fputs(d->name, f);
		if (d->label) {
			fprintf(f, "{%s=\"", d->label);
			put_label_value(f, rows[i].value ? rows[i].value : "");
			fputs("\"}", f);
		}
		fprintf(f, " %llu\n", (unsigned long long)stats_value(st, rows[i].off));
	}
}

static void put_counters(FILE *f, const struct cs_stats *st)
{
	size_t n, nfam;
	const struct stats_row *rows = stats_rows(&n);
	const struct stats_family_def *fams = stats_families(&nfam);

	for (size_t fam = 0; fam < nfam; fam++)
		put_family(f, st, &fams[fam], (enum stats_family)fam, rows, n);
}

static void put_alerts(FILE *f, const struct eve_stats_input *in)
{
	put_head(f, "certsentry_alerts_total", "counter",
	         "Alerts decided, by owner and verdict (repeats in a window included).");
	for (size_t i = 0; i < in->n_alerts; i++) {
		fputs("certsentry_alerts_total{owner=\"", f);
		put_label_value(f, in->alerts[i].owner ? in->alerts[i].owner : "");
		fputs("\",verdict=\"", f);
		put_label_value(f, verdict_name(in->alerts[i].verdict));
		fprintf(f, "\"} %llu\n", (unsigned long long)in->alerts[i].n);
	}
}

/* Per owner, protected asset (type and entry, as --check-rules) and how
 * its handshakes were checked (the classes of coverage.h); only the
 * classes that happened. */
static int put_coverage(FILE *f, struct coverage *cov)
{
	struct coverage_row *rows = NULL;
	uint64_t dropped = 0;
	size_t n = cov ? coverage_rows(cov, NULL, 0, &dropped) : 0;

	if (n) {
		rows = malloc(n * sizeof(*rows));   /* freed here */
		if (!rows)
			return -1;
		n = coverage_rows(cov, rows, n, &dropped);
	}
	put_head(f, "certsentry_coverage_handshakes_total", "counter",
	         "Handshakes at a protected asset, by how they were checked.");
	for (size_t i = 0; i < n; i++)
		for (int k = 0; k < COV_N; k++) {
			if (!rows[i].n[k])
				continue;
			fputs("certsentry_coverage_handshakes_total{owner=\"", f);
			put_label_value(f, rows[i].owner);
			fputs("\",asset_type=\"", f);
			put_label_value(f, rows[i].type);
			fputs("\",asset=\"", f);
			put_label_value(f, rows[i].asset);
			fprintf(f, "\",check=\"%s\",checked=\"%s\"} %llu\n",
			        coverage_class_name((enum coverage_class)k),
			        coverage_unchecked((enum coverage_class)k) ? "no" : "yes",
			        (unsigned long long)rows[i].n[k]);
		}
	put_head(f, "certsentry_coverage_dropped_total", "counter",
	         "Handshakes not counted for want of a coverage row.");
	fprintf(f, "certsentry_coverage_dropped_total %llu\n", (unsigned long long)dropped);
	free(rows);
	return 0;
}

static void put_process(FILE *f, const struct eve_stats_input *in)
{
	put_head(f, "certsentry_uptime_seconds", "gauge", "Seconds since certsentry started.");
	fprintf(f, "certsentry_uptime_seconds %llu\n", (unsigned long long)in->uptime_s);
	put_head(f, "certsentry_last_update_timestamp_seconds", "gauge",
	         "When this file was written (Unix time).");
	fprintf(f, "certsentry_last_update_timestamp_seconds %llu.%06llu\n",
	        (unsigned long long)(in->ts_us / 1000000u),
	        (unsigned long long)(in->ts_us % 1000000u));
	if (!in->have_kernel)
		return;
	put_head(f, "certsentry_capture_kernel_packets_total", "counter",
	         "Packets the kernel received for the capture (libpcap).");
	fprintf(f, "certsentry_capture_kernel_packets_total %llu\n",
	        (unsigned long long)in->kernel_packets);
	put_head(f, "certsentry_capture_kernel_drops_total", "counter",
	         "Packets the kernel dropped: no room in the capture buffer.");
	fprintf(f, "certsentry_capture_kernel_drops_total %llu\n",
	        (unsigned long long)in->kernel_drops);
	put_head(f, "certsentry_capture_interface_drops_total", "counter",
	         "Packets the interface dropped.");
	fprintf(f, "certsentry_capture_interface_drops_total %llu\n",
	        (unsigned long long)in->kernel_ifdrops);
}

/* --ct-follow: a gauge family a measure, one sample a log. */
static void put_ct_logs(FILE *f, const struct eve_stats_input *in)
{
	static const struct {
		const char *name, *help;
	} g[] = {
		{ "certsentry_ct_log_position", "Entries of the CT log read and proved." },
		{ "certsentry_ct_log_head_size", "Tree size of the CT log's last head verified." },
		{ "certsentry_ct_log_lag_entries", "Entries of the last head not yet read." },
		{ "certsentry_ct_log_entries_per_second", "Entries judged a second, lately." },
	};

	if (!in->n_ct_logs)
		return;
	for (size_t k = 0; k < sizeof(g) / sizeof(g[0]); k++) {
		put_head(f, g[k].name, "gauge", g[k].help);
		for (size_t i = 0; i < in->n_ct_logs; i++) {
			const struct eve_ct_log *l = &in->ct_logs[i];
			uint64_t v = k == 0 ? l->position : k == 1 ? l->head_size :
			             k == 2 ? (l->head_size > l->position ? l->head_size - l->position : 0) :
			             (uint64_t)(l->entries_per_s + 0.5);

			fprintf(f, "%s{log=\"", g[k].name);
			put_label_value(f, l->url);
			fprintf(f, "\"} %llu\n", (unsigned long long)v);
		}
	}
}

char *metrics_text(const struct eve_stats_input *in, size_t *len)
{
	char *text = NULL;
	FILE *f = open_memstream(&text, len);   /* text owned by the caller */
	int bad;

	if (!f)
		return NULL;
	put_process(f, in);
	put_counters(f, in->st);
	put_alerts(f, in);
	bad = put_coverage(f, in->cov) < 0;
	put_ct_logs(f, in);
	if (fclose(f) != 0 || bad) {
		free(text);
		return NULL;
	}
	return text;
}

/* ---- the file ---------------------------------------------------------- */

int metrics_check(char *err, size_t errlen)
{
	char ferr[METRICS_PATH_MAX + 256];

	if (!g_path)
		return 0;
	if (!*g_path || strlen(g_path) > METRICS_PATH_MAX) {
		snprintf(err, errlen, "--metrics: a file name of 1 to %u bytes", METRICS_PATH_MAX);
		return -1;
	}
	/* A real create in the directory (the temporary and the rename need
	 * it): access(2) would answer for the real user, not the one the
	 * sensor runs as. */
	if (fileio_check_writable_dir(g_path, ferr, sizeof(ferr)) < 0) {
		snprintf(err, errlen, "--metrics %s", ferr);
		return -1;
	}
	return 0;
}

int metrics_write(const struct eve_stats_input *in, char *err, size_t errlen)
{
	char ferr[METRICS_PATH_MAX + 256];
	size_t len = 0;
	char *text;
	int rc;

	if (!g_path) {
		snprintf(err, errlen, "metrics: no file set");
		return -1;
	}
	if (strlen(g_path) > METRICS_PATH_MAX) {
		snprintf(err, errlen, "metrics %.64s...: path longer than %u bytes", g_path,
		         METRICS_PATH_MAX);
		return -1;
	}
	text = metrics_text(in, &len);
	if (!text) {
		snprintf(err, errlen, "metrics %s: out of memory", g_path);
		return -1;
	}
	/* A temporary in the same directory (FILE.tmp.PID: node_exporter
	 * reads *.prom only), flushed, renamed over the file, the directory
	 * flushed: a scrape never reads half a file, a power cut leaves the
	 * last whole one. */
	rc = fileio_write_atomic_buf(g_path, 0644, text, len, ferr, sizeof(ferr));
	if (rc < 0)
		snprintf(err, errlen, "metrics %s", ferr);
	free(text);
	return rc;
}
