/*
 * test_metrics.c - the counters' one definition (stats_def.h) and what is
 * made from it: every slot of struct cs_stats a row with a metric (a
 * counter without one does not compile; an array slot without a row fails
 * here), families as the format and Prometheus's conventions want them,
 * EVE paths that make one well-formed event; the Prometheus text of the
 * counters (metrics.h), each value on its own sample, label values
 * escaped, alerts and coverage by label, the file replaced atomically with
 * an error that names it; and the EVE stats event (eve_stats.h) holding
 * each counter at its path and nothing that is not in the table.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>

#include "verdict/coverage.h"
#include "event/eve_stats.h"
#include "event/metrics.h"
#include "verdict/policy.h"
#include "core/stats.h"

#define SLOTS (sizeof(struct cs_stats) / sizeof(uint64_t))

/* Every slot a value of its own: 1000 + its index. */
static void fill(struct cs_stats *st)
{
	uint64_t v[SLOTS];

	for (size_t i = 0; i < SLOTS; i++)
		v[i] = 1000 + i;
	memcpy(st, v, sizeof(*st));
}

static void input(struct eve_stats_input *in, const struct cs_stats *st)
{
	memset(in, 0, sizeof(*in));
	in->ts_us = 1706781600123456ull;
	in->uptime_s = 42;
	in->st = st;
}

static void test_every_counter_once(void **state)
{
	size_t n, seen[SLOTS];
	const struct stats_row *r = stats_rows(&n);

	(void)state;
	/* struct cs_stats is uint64_t counters only: any other member would
	 * break the slot arithmetic below (and stats_value). */
	assert_int_equal(sizeof(struct cs_stats) % sizeof(uint64_t), 0);
	memset(seen, 0, sizeof(seen));
	for (size_t i = 0; i < n; i++) {
		if (r[i].kind == STATS_ROW_EVE_PART)
			continue;
		assert_int_equal(r[i].off % sizeof(uint64_t), 0);
		assert_true(r[i].off / sizeof(uint64_t) < SLOTS);
		/* a second EVE place is not a second counter */
		if (r[i].kind != STATS_ROW_EVE_ALIAS)
			seen[r[i].off / sizeof(uint64_t)]++;
	}
	for (size_t i = 0; i < SLOTS; i++) {
		if (seen[i] != 1)
			fprintf(stderr, "cs_stats slot %zu (byte %zu) has %zu rows\n", i,
			        i * sizeof(uint64_t), seen[i]);
		assert_int_equal(seen[i], 1);
	}
	/* an alias shows a counter that has a row of its own */
	for (size_t i = 0; i < n; i++) {
		int found = 0;

		if (r[i].kind != STATS_ROW_EVE_ALIAS)
			continue;
		for (size_t j = 0; j < n; j++)
			found |= r[j].kind == STATS_ROW_COUNTER && r[j].off == r[i].off;
		assert_true(found);
	}
}

static int name_ok(const char *s)
{
	if (!s || strncmp(s, "certsentry_", 11) != 0)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return 0;
	return 1;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* Each family named as Prometheus wants, with help, and its counters: one
 * without a label, or each with a label value of its own. */
static void test_names_and_families(void **state)
{
	size_t n, nfam;
	const struct stats_row *r = stats_rows(&n);
	const struct stats_family_def *fam = stats_families(&nfam);

	(void)state;
	assert_int_equal(nfam, STATS_MF_COUNT);
	for (size_t f = 0; f < nfam; f++) {
		size_t rows = 0;

		assert_true(name_ok(fam[f].name));
		/* counters end in _total, gauges never do */
		assert_int_equal(ends_with(fam[f].name, "_total"), !fam[f].gauge);
		assert_non_null(fam[f].help);
		assert_true(fam[f].help[0] != '\0');
		for (size_t f2 = 0; f2 < f; f2++)
			assert_string_not_equal(fam[f2].name, fam[f].name);
		for (size_t i = 0; i < n; i++) {
			if (r[i].kind != STATS_ROW_COUNTER || r[i].family != f)
				continue;
			rows++;
			assert_int_equal(fam[f].label != NULL, r[i].value != NULL);
			for (size_t j = 0; j < i; j++)
				if (r[j].kind == STATS_ROW_COUNTER && r[j].family == f)
					assert_string_not_equal(r[j].value, r[i].value);
		}
		if (rows == 0 || (!fam[f].label && rows != 1))
			fprintf(stderr, "family %s has %zu counters\n", fam[f].name, rows);
		assert_true(rows >= 1);
		assert_true(fam[f].label || rows == 1);
	}
	for (size_t i = 0; i < n; i++)
		if (r[i].kind == STATS_ROW_COUNTER)
			assert_true(r[i].family < STATS_MF_COUNT);
}

/* The paths make one event: keys not empty and short enough, each path
 * once, none both a value and an object, and an object's keys together
 * (the walk closes an object for good when it leaves it). */
static void test_eve_paths(void **state)
{
	size_t n;
	const struct stats_row *r = stats_rows(&n);

	(void)state;
	for (size_t i = 0; i < n; i++) {
		const char *p = r[i].eve;

		if (r[i].kind == STATS_ROW_UNUSED) {
			assert_null(p);
			continue;
		}
		if (r[i].kind != STATS_ROW_COUNTER)
			assert_non_null(p);
		if (!p)
			continue;
		/* keys: not empty, shorter than EVE_STATS_KEY_MAX, snake_case
		 * (a SIEM splits "TLS 1.2" at its dot) */
		for (const char *k = p;;) {
			size_t len = strcspn(k, "/");

			assert_true(len > 0 && len < EVE_STATS_KEY_MAX);
			if (strspn(k, "abcdefghijklmnopqrstuvwxyz0123456789_") != len)
				fail_msg("EVE stats key not snake_case in %s", p);
			if (!k[len])
				break;
			k += len + 1;
		}
		for (size_t j = 0; j < n; j++) {
			const char *q = r[j].eve;
			size_t lq;

			if (j == i || !q)
				continue;
			assert_string_not_equal(p, q);
			lq = strlen(q);
			/* q is not an object holding p */
			assert_false(strncmp(p, q, lq) == 0 && p[lq] == '/');
		}
	}
	/* contiguous: for rows i < j < k, if i and k share an object, so
	 * does j */
	for (size_t i = 0; i < n; i++) {
		const char *p = r[i].eve, *slash;

		if (!p)
			continue;
		slash = strrchr(p, '/');
		for (size_t len = slash ? (size_t)(slash - p) : 0; len; ) {
			int left = 0;

			for (size_t j = i + 1; j < n; j++) {
				const char *q = r[j].eve;
				int inside;

				if (!q)
					continue;
				inside = strncmp(p, q, len) == 0 && q[len] == '/';
				if (!inside)
					left = 1;
				else if (left)
					fprintf(stderr, "%s: its object left and opened again\n", q);
				assert_false(inside && left);
			}
			/* the enclosing object next */
			do
				len--;
			while (len && p[len] != '/');
		}
	}
}

/* The sample line "NAME{LABEL="VALUE"} N" (or "NAME N") is in text. */
static int has_sample(const char *text, const struct stats_row *r, uint64_t v)
{
	size_t nfam;
	const struct stats_family_def *d = &stats_families(&nfam)[r->family];
	char want[256];

	if (d->label)
		snprintf(want, sizeof(want), "\n%s{%s=\"%s\"} %llu\n", d->name, d->label, r->value,
		         (unsigned long long)v);
	else
		snprintf(want, sizeof(want), "\n%s %llu\n", d->name, (unsigned long long)v);
	return strstr(text, want) != NULL;
}

static void test_each_value_on_its_sample(void **state)
{
	struct cs_stats st;
	struct eve_stats_input in;
	size_t n, len;
	const struct stats_row *r = stats_rows(&n);
	char *text;

	(void)state;
	fill(&st);
	input(&in, &st);
	text = metrics_text(&in, &len);
	assert_non_null(text);
	assert_int_equal(strlen(text), len);
	assert_true(len > 0 && text[len - 1] == '\n');
	for (size_t i = 0; i < n; i++) {
		if (r[i].kind != STATS_ROW_COUNTER)
			continue;
		if (!has_sample(text, &r[i], 1000 + r[i].off / sizeof(uint64_t)))
			fprintf(stderr, "no sample for row %zu (%s)\n", i, r[i].eve ? r[i].eve : "");
		assert_true(has_sample(text, &r[i], 1000 + r[i].off / sizeof(uint64_t)));
	}
	assert_non_null(strstr(text, "\ncertsentry_uptime_seconds 42\n"));
	assert_non_null(strstr(text, "\ncertsentry_last_update_timestamp_seconds 1706781600.123456\n"));
	/* no kernel counters from a file */
	assert_null(strstr(text, "kernel_packets"));
	free(text);
}

/* Every sample's family had its HELP and TYPE lines just before its
 * first sample, once each, and a family's samples are contiguous. */
static void test_format(void **state)
{
	struct cs_stats st;
	struct eve_stats_input in;
	struct eve_alert_count rows[2] = {
		{ "cloudflare-dns", VERDICT_UNAPPROVED_ISSUER, 7 },
		{ "pinned-api", VERDICT_SELF_SIGNED, 1 },
	};
	char *text, *save = NULL, fam[128] = "", done[8192] = " ";
	size_t len;
	int typed = 0;

	(void)state;
	fill(&st);
	input(&in, &st);
	in.have_kernel = 1;
	in.kernel_packets = 5;
	in.alerts = rows;
	in.n_alerts = 2;
	text = metrics_text(&in, &len);
	assert_non_null(text);
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char name[128], key[140];

		if (strncmp(l, "# HELP ", 7) == 0) {
			assert_int_equal(sscanf(l + 7, "%127s", name), 1);
			snprintf(key, sizeof(key), " %s ", name);
			assert_null(strstr(done, key));       /* a family once */
			assert_true(strlen(done) + strlen(key) < sizeof(done));
			strcat(done, key + 1);
			snprintf(fam, sizeof(fam), "%s", name);
			typed = 0;
			continue;
		}
		if (strncmp(l, "# TYPE ", 7) == 0) {
			char type[16];

			assert_int_equal(sscanf(l + 7, "%127s %15s", name, type), 2);
			assert_string_equal(name, fam);
			assert_true(strcmp(type, "counter") == 0 || strcmp(type, "gauge") == 0);
			typed = 1;
			continue;
		}
		assert_true(l[0] != '#');
		assert_true(typed);
		size_t k = strcspn(l, "{ ");

		assert_true(k < sizeof(name));
		memcpy(name, l, k);
		name[k] = '\0';
		assert_string_equal(name, fam);
	}
	free(text);
	text = metrics_text(&in, &len);
	assert_non_null(strstr(text, "\ncertsentry_alerts_total{owner=\"cloudflare-dns\","
	                             "verdict=\"unapproved-issuer\"} 7\n"));
	assert_non_null(strstr(text, "\ncertsentry_capture_kernel_packets_total 5\n"));
	free(text);
}

static void test_label_escaping(void **state)
{
	struct cs_stats st;
	struct eve_stats_input in;
	struct eve_alert_count row = { "a\"b\\c\nd", VERDICT_SELF_SIGNED, 3 };
	size_t len;
	char *text;

	(void)state;
	memset(&st, 0, sizeof(st));
	input(&in, &st);
	in.alerts = &row;
	in.n_alerts = 1;
	text = metrics_text(&in, &len);
	assert_non_null(text);
	assert_non_null(strstr(text, "{owner=\"a\\\"b\\\\c\\nd\",verdict=\"self-signed\"} 3\n"));
	free(text);
}

static void test_coverage(void **state)
{
	struct cs_stats st;
	struct eve_stats_input in;
	struct coverage *cov = coverage_new();
	size_t len;
	char *text;

	(void)state;
	assert_non_null(cov);
	coverage_count(cov, "cloudflare-dns", "ip", "1.1.1.1", COV_APPROVED, 1u << COV_M_IP);
	coverage_count(cov, "cloudflare-dns", "ip", "1.1.1.1", COV_APPROVED, 1u << COV_M_SAN_IP);
	coverage_count(cov, "cloudflare-dns", "ip", "1.1.1.1", COV_TLS13_NO_KEYLOG, 1u << COV_M_IP);
	memset(&st, 0, sizeof(st));
	input(&in, &st);
	in.cov = cov;
	text = metrics_text(&in, &len);
	assert_non_null(text);
	assert_non_null(strstr(text, "\ncertsentry_coverage_handshakes_total{owner=\"cloudflare-dns\","
	                             "asset_type=\"ip\",asset=\"1.1.1.1\",check=\"approved\","
	                             "checked=\"yes\"} 2\n"));
	assert_non_null(strstr(text, "\ncertsentry_coverage_handshakes_total{owner=\"cloudflare-dns\","
	                             "asset_type=\"ip\",asset=\"1.1.1.1\",check=\"tls13_no_keylog\","
	                             "checked=\"no\"} 1\n"));
	/* classes that did not happen are not written */
	assert_null(strstr(text, "check=\"fingerprint\""));
	free(text);
	coverage_free(cov);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *p = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (p = malloc((size_t)n + 1)) && fread(p, 1, (size_t)n, f) == (size_t)n) {
		p[n] = '\0';
		*len = (size_t)n;
	} else {
		free(p);
		p = NULL;
	}
	fclose(f);
	return p;
}

static void test_write_atomic(void **state)
{
	char dir[] = "/tmp/test_metrics.XXXXXX", path[64], err[256];
	struct cs_stats st;
	struct eve_stats_input in;
	size_t len, flen, files = 0;
	char *text, *file;
	DIR *d;
	struct dirent *e;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/certsentry.prom", dir);
	fill(&st);
	input(&in, &st);
	metrics_set_path(path);
	assert_string_equal(metrics_path(), path);
	/* an older file is replaced, not appended to */
	FILE *old = fopen(path, "w");

	assert_non_null(old);
	fputs("stale\n", old);
	fclose(old);
	assert_int_equal(metrics_write(&in, err, sizeof(err)), 0);
	text = metrics_text(&in, &len);
	file = slurp(path, &flen);
	assert_non_null(file);
	assert_int_equal(flen, len);
	assert_memory_equal(file, text, len);
	free(file);
	free(text);
	/* nothing left beside it: the temporary file was renamed */
	d = opendir(dir);
	assert_non_null(d);
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			files++;
	closedir(d);
	assert_int_equal(files, 1);
	unlink(path);
	rmdir(dir);

	/* a directory that is not there: an error naming the file */
	metrics_set_path("/nonexistent-dir/certsentry.prom");
	assert_int_equal(metrics_write(&in, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent-dir/certsentry.prom"));
	assert_non_null(strstr(err, "No such file or directory"));
	metrics_set_path(NULL);
	assert_int_equal(metrics_write(&in, err, sizeof(err)), -1);
}

/* ---- the EVE stats event -------------------------------------------- */

static const struct stats_row *row_at(const char *path)
{
	size_t n;
	const struct stats_row *r = stats_rows(&n);

	for (size_t i = 0; i < n; i++)
		if (r[i].eve && strcmp(r[i].eve, path) == 0)
			return &r[i];
	return NULL;
}

/* Every key of the event under prefix is a row of the table (a counter,
 * or a part, whose insides are eve_stats.c's), or an object of them.
 * Returns the number of counter values seen. */
static size_t walk_event(json_t *obj, const char *prefix)
{
	const char *key;
	json_t *v;
	size_t seen = 0;

	json_object_foreach(obj, key, v) {
		char path[256];
		const struct stats_row *r;

		snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "/" : "", key);
		if (!*prefix && (strcmp(key, "timestamp") == 0 || strcmp(key, "event_type") == 0))
			continue;
		r = row_at(path);
		if (r && r->kind == STATS_ROW_EVE_PART)
			continue;
		if (!r && json_is_object(v)) {
			seen += walk_event(v, path);
			continue;
		}
		if (!r)
			fprintf(stderr, "EVE key %s is no row of stats_def.h\n", path);
		assert_non_null(r);
		assert_true(json_is_integer(v));
		seen++;
	}
	return seen;
}

static json_t *at_path(json_t *root, const char *path)
{
	char buf[256], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *k = strtok_r(buf, "/", &save); k && root; k = strtok_r(NULL, "/", &save))
		root = json_object_get(root, k);
	return root;
}

static void test_eve_event(void **state)
{
	struct cs_stats st;
	struct eve_stats_input in;
	size_t n, values = 0;
	const struct stats_row *r = stats_rows(&n);
	json_error_t jerr;
	json_t *root, *v;
	char *line;

	(void)state;
	fill(&st);
	input(&in, &st);
	line = eve_stats_line(&in);
	assert_non_null(line);
	root = json_loads(line, 0, &jerr);
	if (!root)
		fprintf(stderr, "%s: %s\n", jerr.text, line);
	assert_non_null(root);
	assert_string_equal(json_string_value(json_object_get(root, "event_type")), "stats");
	/* each counter with a path at its path, its own value */
	for (size_t i = 0; i < n; i++) {
		if (!r[i].eve || r[i].kind == STATS_ROW_EVE_PART)
			continue;
		v = at_path(root, r[i].eve);
		if (!json_is_integer(v))
			fprintf(stderr, "no %s in the event\n", r[i].eve);
		assert_true(json_is_integer(v));
		assert_int_equal(json_integer_value(v), 1000 + r[i].off / sizeof(uint64_t));
		values++;
	}
	/* and nothing else but the parts */
	assert_int_equal(walk_event(root, ""), values);
	/* the parts eve_stats.c writes: uptime, the mean packet size, the
	 * alerts and coverage arrays; no kernel counters from a file */
	assert_int_equal(json_integer_value(at_path(root, "stats/uptime")), 42);
	assert_int_equal(json_integer_value(at_path(root, "stats/decoder/avg_pkt_size")),
	                 st.bytes / st.pkts);
	assert_true(json_is_array(at_path(root, "certsentry/alerts_by_owner")));
	assert_true(json_is_array(at_path(root, "certsentry/coverage")));
	assert_null(at_path(root, "stats/capture"));
	/* the keys Suricata's tools read, where they read them */
	assert_int_equal(json_integer_value(at_path(root, "stats/decoder/pkts")),
	                 1000 + offsetof(struct cs_stats, pkts) / sizeof(uint64_t));
	assert_int_equal(json_integer_value(at_path(root, "stats/tcp/reassembly_memuse")),
	                 json_integer_value(at_path(root, "stats/flow/memuse")));
	json_decref(root);
	free(line);

	in.have_kernel = 1;
	in.kernel_packets = 7;
	line = eve_stats_line(&in);
	assert_non_null(line);
	assert_non_null(strstr(line, "\"stats\":{\"uptime\":42,\"capture\":{\"kernel_packets\":7,"));
	free(line);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_counter_once),
		cmocka_unit_test(test_names_and_families),
		cmocka_unit_test(test_eve_paths),
		cmocka_unit_test(test_eve_event),
		cmocka_unit_test(test_each_value_on_its_sample),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_label_escaping),
		cmocka_unit_test(test_coverage),
		cmocka_unit_test(test_write_atomic),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
