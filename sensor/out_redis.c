/*
 * out_redis.c - the Redis sink (being written; see issue 15).
 */
#include <errno.h>
#include <string.h>

#include "output.h"
#include "sink.h"

int output_redis_mode_parse(const char *s, enum output_redis_mode *out)
{
	(void)s;
	(void)out;
	return -1;
}

static int redis_open(struct output *o, const char *arg)
{
	(void)o;
	(void)arg;
	errno = ENOSYS;
	return -1;
}

static int redis_write(struct output *o, const char *line, size_t len, size_t *off, int is_alert)
{
	(void)o; (void)line; (void)len; (void)off; (void)is_alert;
	return OUTPUT_SINK_ERR;
}

static int redis_reopen(struct output *o)
{
	(void)o;
	return -1;
}

static void redis_close(struct output *o)
{
	(void)o;
}

const struct output_sink sink_redis = {
	"redis", redis_open, redis_write, redis_reopen, redis_close
};
