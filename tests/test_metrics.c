/*
 * test_metrics.c - the Prometheus text of the counters (metrics.h): every
 * counter of struct cs_stats exported exactly once (a counter added to
 * stats.h without a metric fails here), names and families as the format
 * and Prometheus's conventions want them, each value on its own sample,
 * label values escaped, alerts and coverage by label, and the file
 * replaced atomically with an error that names it.
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

#include "coverage.h"
#include "metrics.h"
#include "policy.h"
#include "stats.h"

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
	const struct metrics_field *f = metrics_fields(&n);

	(void)state;
	/* struct cs_stats is uint64_t counters only: any other member would
	 * break the slot arithmetic below (and stats_add). */
	assert_int_equal(sizeof(struct cs_stats) % sizeof(uint64_t), 0);
	memset(seen, 0, sizeof(seen));
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(f[i].off % sizeof(uint64_t), 0);
		assert_true(f[i].off / sizeof(uint64_t) < SLOTS);
		seen[f[i].off / sizeof(uint64_t)]++;
	}
	for (size_t i = 0; i < SLOTS; i++) {
		if (seen[i] != 1)
			fprintf(stderr, "cs_stats slot %zu (byte %zu) exported %zu times\n", i,
			        i * sizeof(uint64_t), seen[i]);
		assert_int_equal(seen[i], 1);
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

static void test_names_and_families(void **state)
{
	size_t n;
	const struct metrics_field *f = metrics_fields(&n);

	(void)state;
	for (size_t i = 0; i < n; i++) {
		if (f[i].kind == METRIC_UNUSED)
			continue;
		assert_true(name_ok(f[i].family));
		/* counters end in _total, gauges never do */
		assert_int_equal(ends_with(f[i].family, "_total"), f[i].kind == METRIC_COUNTER);
		/* a family's first entry carries its help, the others none, and
		 * its entries sit together, all of one kind and label name */
		int first = 1;

		for (size_t j = 0; j < i; j++)
			if (f[j].family && strcmp(f[j].family, f[i].family) == 0) {
				first = 0;
				assert_true(f[i - 1].family && strcmp(f[i - 1].family, f[i].family) == 0);
				assert_int_equal(f[j].kind, f[i].kind);
				assert_true(f[i].label && f[j].label && strcmp(f[i].label, f[j].label) == 0);
				assert_true(strcmp(f[i].value, f[j].value) != 0);
			}
		assert_int_equal(first, f[i].help != NULL);
	}
}

/* The sample line "NAME{LABEL="VALUE"} N" (or "NAME N") is in text. */
static int has_sample(const char *text, const struct metrics_field *m, uint64_t v)
{
	char want[256];

	if (m->label)
		snprintf(want, sizeof(want), "\n%s{%s=\"%s\"} %llu\n", m->family, m->label, m->value,
		         (unsigned long long)v);
	else
		snprintf(want, sizeof(want), "\n%s %llu\n", m->family, (unsigned long long)v);
	return strstr(text, want) != NULL;
}

static void test_each_value_on_its_sample(void **state)
{
	struct cs_stats st;
	struct eve_stats_input in;
	size_t n, len;
	const struct metrics_field *f = metrics_fields(&n);
	char *text;

	(void)state;
	fill(&st);
	input(&in, &st);
	text = metrics_text(&in, &len);
	assert_non_null(text);
	assert_int_equal(strlen(text), len);
	assert_true(len > 0 && text[len - 1] == '\n');
	for (size_t i = 0; i < n; i++) {
		if (f[i].kind == METRIC_UNUSED)
			continue;
		if (!has_sample(text, &f[i], 1000 + f[i].off / sizeof(uint64_t)))
			fprintf(stderr, "no sample for %s %s\n", f[i].family, f[i].value ? f[i].value : "");
		assert_true(has_sample(text, &f[i], 1000 + f[i].off / sizeof(uint64_t)));
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
	coverage_count(cov, "cloudflare-dns", "ip:1.1.1.1", COV_VERIFIED);
	coverage_count(cov, "cloudflare-dns", "ip:1.1.1.1", COV_VERIFIED);
	coverage_count(cov, "cloudflare-dns", "ip:1.1.1.1", COV_NO_KEYLOG);
	memset(&st, 0, sizeof(st));
	input(&in, &st);
	in.cov = cov;
	text = metrics_text(&in, &len);
	assert_non_null(text);
	assert_non_null(strstr(text, "\ncertsentry_coverage_handshakes_total{owner=\"cloudflare-dns\","
	                             "asset=\"ip:1.1.1.1\",check=\"verified\",checked=\"yes\"} 2\n"));
	assert_non_null(strstr(text, "\ncertsentry_coverage_handshakes_total{owner=\"cloudflare-dns\","
	                             "asset=\"ip:1.1.1.1\",check=\"no_keylog\",checked=\"no\"} 1\n"));
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_counter_once),
		cmocka_unit_test(test_names_and_families),
		cmocka_unit_test(test_each_value_on_its_sample),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_label_escaping),
		cmocka_unit_test(test_coverage),
		cmocka_unit_test(test_write_atomic),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
