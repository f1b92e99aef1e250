/*
 * metrics.c - Prometheus text format of the stats counters (metrics.h).
 * Being written (issue 15).
 */
#include <stdlib.h>
#include <stdio.h>

#include "metrics.h"

static const char *g_path;

void metrics_set_path(const char *path)
{
	g_path = path;
}

const char *metrics_path(void)
{
	return g_path;
}

char *metrics_text(const struct eve_stats_input *in, size_t *len)
{
	(void)in;
	*len = 0;
	return NULL;
}

int metrics_write(const struct eve_stats_input *in, char *err, size_t errlen)
{
	(void)in;
	snprintf(err, errlen, "metrics not written yet");
	return -1;
}
