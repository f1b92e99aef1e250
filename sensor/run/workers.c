/*
 * workers.c - the sum of the workers' tallies (see include/run/workers.h),
 * one implementation for live capture and for files read with --workers.
 * Must not: lock (live.c holds each worker's lock around workers_add) or
 * allocate (the caller gives the rows).
 */
#include <string.h>

#include "run/workers.h"

void workers_sum_init(struct worker_sum *s, struct eve_alert_count *rows, size_t cap)
{
	memset(s, 0, sizeof(*s));
	s->rows = rows;
	s->cap = cap;
}

/* The row of owner and verdict in the sum, appended if new; NULL when the
 * sum is full.  A handful of owners: a linear search. */
static struct eve_alert_count *row_of(struct worker_sum *s, const struct eve_alert_count *r)
{
	for (size_t i = 0; i < s->n_rows; i++)
		if (s->rows[i].verdict == r->verdict && strcmp(s->rows[i].owner, r->owner) == 0)
			return &s->rows[i];
	if (s->n_rows == s->cap)
		return NULL;
	s->rows[s->n_rows] = *r;
	s->rows[s->n_rows].n = 0;
	return &s->rows[s->n_rows++];
}

void workers_add(struct worker_sum *s, const struct worker_tally *t)
{
	stats_add(&s->st, &t->st);
	for (int j = 0; j < 3; j++)
		s->kernel[j] += t->kernel[j];
	for (size_t i = 0; i < t->n_rows; i++) {
		struct eve_alert_count *r = row_of(s, &t->rows[i]);

		if (r)
			r->n += t->rows[i].n;
		else
			s->rows_dropped++;
	}
}
