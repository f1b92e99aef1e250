/*
 * fuzz_certfile.c - libFuzzer target for splitting a certificate file
 * into certificates (certfile_parse, sensor/run/certfile.c: --certs).
 *
 * Input: [0] the most certificates (1 + [0] % 16), then the file's bytes.
 * A file that splits must give 1..max certificates within the size limit
 * whose bytes lie inside the input, each then parsed by x509_parse; one
 * that does not must say why and give none.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "run/certfile.h"
#include "x509/x509.h"

#define FUZZ_MAX_CERT 65536u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tls_cert c[16];
	char err[256];
	size_t n = 99, max;

	if (size < 1)
		return 0;
	max = 1 + data[0] % 16u;
	err[0] = '\0';
	if (certfile_parse(data + 1, size - 1, max, FUZZ_MAX_CERT, c, &n, err, sizeof err) < 0) {
		if (n != 0 || err[0] == '\0')
			abort();
		return 0;
	}
	if (n == 0 || n > max)
		abort();
	for (size_t i = 0; i < n; i++) {
		struct x509_info xi;

		if (c[i].len == 0 || c[i].len > FUZZ_MAX_CERT || c[i].len > size)
			abort();
		memset(&xi, 0, sizeof xi);
		x509_parse(c[i].data, c[i].len, &xi);
		x509_info_free(&xi);
	}
	certfile_free_certs(c, n);
	return 0;
}
