/*
 * eve_stats.c - the EVE stats event (see include/event/eve_stats.h).
 *
 * The event's shape is the rows of stats_def.h, in their order: each
 * counter at its path (keys between slashes; objects opened and closed as
 * the paths go), and at the P rows the structured parts written here (the
 * kernel's counters, the mean packet size, alerts by owner, delivery,
 * coverage).  Must not: read counters other than through stats.h, or put
 * one in the event by hand (a counter's place is its row).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event/eve_stats.h"
#include "core/jsonw.h"
#include "event/output.h"

/* Counters are unsigned; EVE (and jansson before) writes them as JSON's
 * signed 64-bit integers. */
static void put(struct jsonw *o, const char *k, uint64_t v)
{
	jw_int(o, k, (int64_t)v);
}

static void capture_obj(struct jsonw *o, const char *key, const struct eve_stats_input *in)
{
	jw_obj(o, key);
	put(o, "kernel_packets", in->kernel_packets);
	put(o, "kernel_drops", in->kernel_drops);
	put(o, "kernel_ifdrops", in->kernel_ifdrops);
	jw_end(o);
}

static void alerts_arr(struct jsonw *o, const char *key, const struct eve_stats_input *in)
{
	jw_arr(o, key);
	for (size_t i = 0; i < in->n_alerts; i++) {
		jw_obj(o, NULL);
		jw_str(o, "owner", in->alerts[i].owner);
		jw_str(o, "verdict", verdict_name(in->alerts[i].verdict));
		put(o, "count", in->alerts[i].n);
		jw_end(o);
	}
	jw_end(o);
}

/* One asset's row: the four counts of its summary line, the reasons it
 * was not checked, and how it was matched (coverage.h). */
static void coverage_row_obj(struct jsonw *o, const struct coverage_row *r)
{
	jw_obj(o, NULL);
	jw_str(o, "owner", r->owner);
	jw_str(o, "asset_type", r->type);
	jw_str(o, "asset", r->asset);
	put(o, "handshakes", coverage_row_total(r));
	for (int g = 0; g < COV_G_N; g++)
		put(o, coverage_group_name((enum coverage_group)g),
		    coverage_row_group(r, (enum coverage_group)g));
	/* Only the classes that happened: the keys a SIEM aggregates on. */
	jw_obj(o, "by_class");
	for (int k = 0; k < COV_N; k++)
		if (r->n[k])
			put(o, coverage_class_name((enum coverage_class)k), r->n[k]);
	jw_end(o);
	jw_obj(o, "by_match");
	for (int m = 0; m < COV_M_N; m++)
		if (r->by_match[m])
			put(o, coverage_match_name((enum coverage_match)m), r->by_match[m]);
	jw_end(o);
	jw_end(o);
}

/* Per owner and protected asset, in the summary's order. */
static void coverage_arr(struct jsonw *o, const char *key, struct coverage *cov)
{
	struct coverage_row *rows;
	uint64_t dropped;
	size_t n = coverage_rows(cov, NULL, 0, &dropped);

	jw_arr(o, key);
	rows = n ? malloc(n * sizeof(*rows)) : NULL;   /* freed here */
	if (rows)
		n = coverage_rows(cov, rows, n, &dropped);
	for (size_t i = 0; rows && i < n; i++)
		coverage_row_obj(o, &rows[i]);
	jw_end(o);
	free(rows);
}

/* Events found, delivered and undelivered by reason, so far (the line
 * carrying this is itself not yet counted). */
static void delivery_obj(struct jsonw *o, const char *key, const struct output_delivery *d)
{
	static const char *const why[OUTPUT_LOSS_COUNT] = {
		"write_error", "queue_full", "out_of_memory", "at_exit"
	};

	jw_obj(o, key);
	jw_str(o, "sink", d->sink ? d->sink : "");
	put(o, "found", d->found[0] + d->found[1]);
	put(o, "alerts_found", d->found[1]);
	put(o, "delivered", d->delivered[0] + d->delivered[1]);
	put(o, "alerts_delivered", d->delivered[1]);
	put(o, "queued", d->pending[0] + d->pending[1]);
	put(o, "undelivered", output_undelivered(d));
	jw_obj(o, "undelivered_by_reason");
	for (int r = 0; r < OUTPUT_LOSS_COUNT; r++)
		put(o, why[r], d->lost[r][0] + d->lost[r][1]);
	jw_end(o);
	put(o, "alerts_to_stderr", d->alerts_stderr);
	jw_end(o);
}

/* --ct-follow: each log's place and pace; lag is the entries between
 * the position and the last head verified. */
static void ct_logs_arr(struct jsonw *o, const char *key, const struct eve_stats_input *in)
{
	jw_arr(o, key);
	for (size_t i = 0; i < in->n_ct_logs; i++) {
		const struct eve_ct_log *l = &in->ct_logs[i];

		jw_obj(o, NULL);
		jw_str(o, "name", l->name);
		jw_str(o, "url", l->url);
		jw_str(o, "state", l->state);
		put(o, "position", l->position);
		put(o, "head_size", l->head_size);
		put(o, "lag", l->head_size > l->position ? l->head_size - l->position : 0);
		put(o, "head_timestamp_ms", l->head_timestamp_ms);
		put(o, "entries", l->entries);
		put(o, "entries_per_second", (uint64_t)(l->entries_per_s + 0.5));
		put(o, "requests", l->requests);
		put(o, "failures", l->failures);
		put(o, "rate_limited", l->rate_limited);
		jw_end(o);
	}
	jw_end(o);
}

static void put_part(struct jsonw *o, const char *key, enum stats_eve_part part,
                     const struct eve_stats_input *in)
{
	const struct cs_stats *st = in->st;

	switch (part) {
	case STATS_EVE_uptime:
		put(o, key, in->uptime_s);
		break;
	case STATS_EVE_capture:
		if (in->have_kernel)
			capture_obj(o, key, in);
		break;
	case STATS_EVE_avg_pkt_size:
		put(o, key, st->pkts ? st->bytes / st->pkts : 0);
		break;
	case STATS_EVE_alerts_by_owner:
		alerts_arr(o, key, in);
		break;
	case STATS_EVE_delivery:
		if (in->dl)
			delivery_obj(o, key, in->dl);
		break;
	case STATS_EVE_coverage:
		coverage_arr(o, key, in->cov);
		break;
	case STATS_EVE_ct_logs:
		if (in->n_ct_logs)
			ct_logs_arr(o, key, in);
		break;
	case STATS_EVE_PART_COUNT:
		break;
	}
}

/* ---- the walk ----------------------------------------------------------- */

/* The objects open are the components of open[0..len): "" at the top of
 * the event, "stats/decoder" inside stats and its decoder. */
struct walk {
	struct jsonw *o;
	const char *open;
	size_t len;
};

static size_t depth(const char *s, size_t len)
{
	size_t d = len ? 1 : 0;

	for (size_t i = 0; i < len; i++)
		d += s[i] == '/';
	return d;
}

/* The longest prefix of whole components that a and b share. */
static size_t common(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t c = 0;

	for (size_t i = 0;; i++) {
		if ((i == alen || a[i] == '/') && (i == blen || b[i] == '/'))
			c = i;
		if (i == alen || i == blen || a[i] != b[i])
			return c;
	}
}

/* Close and open objects until those open are path[0..len).  Paths are
 * the constants of stats_def.h, their keys shorter than EVE_STATS_KEY_MAX
 * (checked by test_metrics); a longer one would be cut, never overrun. */
static void walk_to(struct walk *w, const char *path, size_t len)
{
	size_t c = common(w->open, w->len, path, len);
	char key[EVE_STATS_KEY_MAX];

	for (size_t d = depth(w->open, w->len); d > depth(path, c); d--)
		jw_end(w->o);
	for (size_t i = c ? c + 1 : 0; i < len;) {
		size_t e = i;

		while (e < len && path[e] != '/')
			e++;
		snprintf(key, sizeof(key), "%.*s", (int)(e - i), path + i);
		jw_obj(w->o, key);
		i = e + 1;
	}
	w->open = path;
	w->len = len;
}

/* Every row with an EVE path, in the order of stats_def.h: the counters
 * and the structured parts where the table puts them. */
static void put_rows(struct jsonw *o, const struct eve_stats_input *in)
{
	struct walk w = { o, "", 0 };
	size_t n;
	const struct stats_row *rows = stats_rows(&n);

	for (size_t i = 0; i < n; i++) {
		const char *eve = rows[i].eve, *slash;

		if (!eve)
			continue;
		slash = strrchr(eve, '/');
		walk_to(&w, eve, slash ? (size_t)(slash - eve) : 0);
		if (rows[i].kind == STATS_ROW_EVE_PART)
			put_part(o, slash ? slash + 1 : eve, rows[i].part, in);
		else
			put(o, slash ? slash + 1 : eve, stats_value(in->st, rows[i].off));
	}
	walk_to(&w, "", 0);
}

char *eve_stats_line(const struct eve_stats_input *in)
{
	struct jsonw w;
	char ts[OUTPUT_TS_LEN], *line = NULL;
	const char *text;
	size_t len;

	jw_init(&w);
	jw_obj(&w, NULL);
	output_format_ts(in->ts_us, ts);
	jw_str(&w, "timestamp", ts);
	jw_str(&w, "event_type", "stats");
	put_rows(&w, in);
	/* last, as Suricata adds it to every event (output.c's event_close) */
	if (in->host)
		jw_str(&w, "host", in->host);
	jw_end(&w);
	text = jw_text(&w, &len);
	if (text) {
		line = malloc(len + 1);   /* owned by the caller */
		if (line)
			memcpy(line, text, len + 1);
	}
	jw_free(&w);
	return line;
}
