/*
 * stats.c - the counters (see include/stats.h).
 * Owns the global counters and the memory gauge.  Must not: decide
 * anything from them.
 */
#include "stats.h"

_Thread_local struct cs_stats g_stats;

void stats_add(struct cs_stats *sum, const struct cs_stats *one)
{
	/* struct cs_stats is nothing but uint64_t counters. */
	uint64_t *d = (uint64_t *)sum;
	const uint64_t *s = (const uint64_t *)one;

	for (size_t i = 0; i < sizeof(*sum) / sizeof(uint64_t); i++)
		d[i] += s[i];
}
