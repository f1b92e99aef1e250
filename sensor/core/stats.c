/*
 * stats.c - the counters (see include/core/stats.h) and the tables made from
 * their one definition (stats_def.h).
 * Owns the global counters, the memory gauge, and the rows and metric
 * families as data for eve_stats.c and metrics.c.  Must not: decide
 * anything from them, or know how an output writes them.
 */
#include <string.h>

#include "core/stats.h"

_Thread_local struct cs_stats g_stats;

#define ROW_S(field, eve, family, value) \
	{ STATS_ROW_COUNTER, offsetof(struct cs_stats, field), eve, STATS_MF_##family, value, 0 },
#define ROW_E(field, i, eve, family, value) \
	{ STATS_ROW_COUNTER, offsetof(struct cs_stats, field[i]), eve, STATS_MF_##family, value, 0 },
#define ROW_U(field, i) \
	{ STATS_ROW_UNUSED, offsetof(struct cs_stats, field[i]), NULL, STATS_MF_COUNT, NULL, 0 },
#define ROW_V(eve, field) \
	{ STATS_ROW_EVE_ALIAS, offsetof(struct cs_stats, field), eve, STATS_MF_COUNT, NULL, 0 },
#define ROW_P(eve, part) \
	{ STATS_ROW_EVE_PART, 0, eve, STATS_MF_COUNT, NULL, STATS_EVE_##part },

static const struct stats_row rows[] = {
	CS_STATS_ROWS(ROW_S, CS_STATS_NONE2, ROW_E, ROW_U, ROW_V, ROW_P)
};

#define FAM(name, kind, label, help) { "certsentry_" #name, FAM_##kind, label, help },
#define FAM_COUNTER 0
#define FAM_GAUGE 1

static const struct stats_family_def families[] = {
	CS_METRIC_FAMILIES(FAM)
};

const struct stats_row *stats_rows(size_t *n)
{
	*n = sizeof(rows) / sizeof(rows[0]);
	return rows;
}

const struct stats_family_def *stats_families(size_t *n)
{
	*n = sizeof(families) / sizeof(families[0]);
	return families;
}

uint64_t stats_value(const struct cs_stats *st, size_t off)
{
	uint64_t v;

	memcpy(&v, (const char *)st + off, sizeof(v));
	return v;
}

#define ADD_S(field, eve, family, value) sum->field += one->field;
#define ADD_A(field, n) \
	for (size_t i = 0; i < (n); i++) \
		sum->field[i] += one->field[i];

/* sum += one, every counter; the peaks are summed too, as an upper bound. */
void stats_add(struct cs_stats *sum, const struct cs_stats *one)
{
	CS_STATS_ROWS(ADD_S, ADD_A, CS_STATS_NONE5, CS_STATS_NONE2, CS_STATS_NONE2,
	              CS_STATS_NONE2)
}

uint64_t stats_handshakes(const struct cs_stats *st)
{
	uint64_t hs = 0;

	for (size_t i = 0; i < sizeof(st->hs_by_version) / sizeof(st->hs_by_version[0]); i++)
		hs += st->hs_by_version[i];
	return hs;
}
