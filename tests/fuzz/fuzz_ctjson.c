/*
 * fuzz_ctjson.c - libFuzzer target for the get-entries JSON reader
 * (sensor/run/ctjson.c: --ct-json).
 *
 * Input: the JSON text.  A parse that fails must say why; one that
 * succeeds hands out entries whose strings are no longer than the input
 * (an unescaped string only shrinks), and every view is readable to its
 * length (ASan checks the reads).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "run/ctjson.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t input_size;

static int check(void *arg, const struct ctj_entry *e)
{
	volatile unsigned sum = 0;

	(*(size_t *)arg)++;
	if ((e->leaf && e->leaf_len > input_size) || (e->extra && e->extra_len > input_size))
		abort();
	if ((!e->is_object && (e->leaf || e->extra)))
		abort();
	for (size_t i = 0; e->leaf && i < e->leaf_len; i++)
		sum += (unsigned char)e->leaf[i];
	for (size_t i = 0; e->extra && i < e->extra_len; i++)
		sum += (unsigned char)e->extra[i];
	(void)sum;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[200];
	size_t n = 0;   /* entries handed out (an empty answer has none) */
	int rc;

	input_size = size;
	err[0] = 'x';
	rc = ctj_parse((const char *)data, size, check, &n, err, sizeof err);
	if (rc == -1 && err[0] == '\0')
		abort();
	if (rc != 0 && rc != -1)
		abort();
	return 0;
}
