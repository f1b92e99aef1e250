/*
 * fuzz_config.c - libFuzzer target for the configuration file's syntax
 * (sensor/run/config.c).
 *
 * Input: the file's bytes.  Every setting handed to the callback must have
 * a name of 1..CONFIG_MAX_NAME bytes of [a-z0-9-] and a value no longer
 * than CONFIG_MAX_LINE; an error must name a line within the file.  The
 * callback refuses a setting called "stop", so that a refusal's path is
 * taken too.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "run/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int setting(void *ctx, const char *name, const char *value, unsigned line, char *why,
                   size_t whylen)
{
	size_t n = strlen(name);
	unsigned *last = ctx;

	if (n == 0 || n > CONFIG_MAX_NAME || strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-") != n)
		abort();
	if (strlen(value) > CONFIG_MAX_LINE || line <= *last)
		abort();
	*last = line;
	if (strcmp(name, "stop") == 0) {
		strncpy(why, "stopped", whylen - 1);
		why[whylen - 1] = '\0';
		return -1;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned last = 0, line = 0, lines = 1;
	char why[256];

	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	if (config_parse(data, size, setting, &last, &line, why, sizeof(why)) < 0 &&
	    (line == 0 || line > lines || why[0] == '\0'))
		abort();
	return 0;
}
