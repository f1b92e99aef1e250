/*
 * stats.h - counters.  Every limit hit, every error on hostile input and
 * every event is counted here; the summary, the EVE stats event and the
 * --metrics file read them.  Each counter is defined once, in
 * stats_def.h: its field, EVE path, metric family and label; the struct
 * and the tables below come from there.  One instance per thread: each
 * live-capture worker counts in its own (no lock, no shared cache line on
 * the packet path) and publishes a copy that the stats event sums
 * (stats_add).
 */
#ifndef CS_STATS_H
#define CS_STATS_H

#include <stdint.h>
#include <stddef.h>
#include <stdio.h>

#include "core/stats_def.h"

/* The fields come from CS_STATS_ROWS (stats_def.h): S and A rows are the
 * counters, E and U rows name an array's slots, V and P rows belong to
 * the EVE event only. */
#define CS_STATS_FIELD(field, eve, family, value) uint64_t field;
#define CS_STATS_ARRAY(field, n) uint64_t field[n];
#define CS_STATS_NONE4(a, b, c, d)
#define CS_STATS_NONE5(a, b, c, d, e)
#define CS_STATS_NONE2(a, b)

struct cs_stats {
	CS_STATS_ROWS(CS_STATS_FIELD, CS_STATS_ARRAY, CS_STATS_NONE5, CS_STATS_NONE2,
	              CS_STATS_NONE2, CS_STATS_NONE2)
};

/* The metric families, one enum value each (STATS_MF_NAME), in the order
 * of the --metrics file. */
#define CS_STATS_MF_ENUM(name, kind, label, help) STATS_MF_##name,
enum stats_family { CS_METRIC_FAMILIES(CS_STATS_MF_ENUM) STATS_MF_COUNT };

/* The structured parts of the EVE event (P rows), STATS_EVE_PART. */
#define CS_STATS_PART_ENUM(eve, part) STATS_EVE_##part,
enum stats_eve_part {
	CS_STATS_ROWS(CS_STATS_NONE4, CS_STATS_NONE2, CS_STATS_NONE5, CS_STATS_NONE2,
	              CS_STATS_NONE2, CS_STATS_PART_ENUM) STATS_EVE_PART_COUNT
};

enum stats_row_kind {
	STATS_ROW_COUNTER,   /* S, E: a slot of struct cs_stats with its metric */
	STATS_ROW_UNUSED,    /* U: a slot never counted, no metric, no EVE */
	STATS_ROW_EVE_ALIAS, /* V: a counter shown a second time in the EVE event */
	STATS_ROW_EVE_PART,  /* P: a structured part of the EVE event */
};

/* CS_STATS_ROWS as data, in its order (that of the EVE event). */
struct stats_row {
	enum stats_row_kind kind;
	size_t off;                 /* offsetof(struct cs_stats, ...); not for parts */
	const char *eve;            /* EVE path, keys between slashes, or NULL: a metric only */
	enum stats_family family;   /* counters only */
	const char *value;          /* the family's label value, or NULL */
	enum stats_eve_part part;   /* parts only */
};

struct stats_family_def {
	const char *name;           /* certsentry_... */
	int gauge;                  /* a gauge (or peak), else a counter */
	const char *label;          /* label name, or NULL: one sample */
	const char *help;
};

const struct stats_row *stats_rows(size_t *n);
const struct stats_family_def *stats_families(size_t *n);

/* A counter's value by its row's offset. */
uint64_t stats_value(const struct cs_stats *st, size_t off);

extern _Thread_local struct cs_stats g_stats;

/* sum += one (every counter; the peaks are summed too, as an upper bound). */
void stats_add(struct cs_stats *sum, const struct cs_stats *one);
/* Handshakes of every version. */
uint64_t stats_handshakes(const struct cs_stats *st);

static inline void stats_mem_add(uint64_t n)
{
	g_stats.mem_in_use += n;
	if (g_stats.mem_in_use > g_stats.mem_peak)
		g_stats.mem_peak = g_stats.mem_in_use;
}

static inline void stats_mem_sub(uint64_t n)
{
	g_stats.mem_in_use -= n;
}

#endif
