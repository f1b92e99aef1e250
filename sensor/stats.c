/* stats.c - the global counters (see include/stats.h). */
#include "stats.h"

struct cs_stats g_stats;
