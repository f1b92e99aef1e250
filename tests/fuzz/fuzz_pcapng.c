/*
 * fuzz_pcapng.c - libFuzzer target for the capture file readers
 * (sensor/capture/capture.c, mapped.c, pcapng.c): the pcapng block reader above all, and the
 * mapped classic pcap reader and libpcap behind the same door.
 *
 * Input: [0] bit 0: a --bpf filter ("tcp") on every frame; bit 1: read as
 * standard input would be (a stream: never mapped); then the file.
 * Every frame returned is read to its last byte (ASan sees a frame
 * longer than its block), must be at most libpcap's MAXIMUM_SNAPLEN, and
 * every Decryption Secrets Block's secrets likewise.  The reader must
 * end: at the end, or at damage with a message.
 */
#define _GNU_SOURCE   /* memfd_create */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "capture/capture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile uint8_t sink;

static void touch(const uint8_t *p, size_t n)
{
	uint8_t x = 0;

	for (size_t i = 0; i < n; i++)
		x ^= p[i];
	sink ^= x;
}

static void on_secrets(void *ctx, const uint8_t *secrets, size_t len)
{
	(*(size_t *)ctx)++;
	touch(secrets, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t blocks = 0, frames = 0;
	struct capture_file_opts o = { NULL, on_secrets, &blocks };
	struct capture *c;
	char err[512];
	const uint8_t *frame;
	size_t caplen;
	uint64_t ts;
	int fd, rc;

	if (size < 1)
		return 0;
	if (data[0] & 1)
		o.bpf = "tcp";
	fd = memfd_create("fuzz_pcapng", MFD_CLOEXEC);
	if (fd < 0)
		abort();
	if (size > 1 && write(fd, data + 1, size - 1) != (ssize_t)(size - 1))
		abort();
	if (lseek(fd, 0, SEEK_SET) != 0)
		abort();
	c = capture_open_fd(fd, (data[0] & 2) ? "-" : "fuzz", &o, err, sizeof(err));
	if (!c) {
		if (!err[0])
			abort();   /* a failure says why */
		return 0;
	}
	while ((rc = capture_next(c, &frame, &caplen, &ts)) == 1) {
		if (caplen > 262144u)
			abort();
		touch(frame, caplen);
		if (++frames > 1000000)
			abort();   /* more frames than the input has bytes for */
	}
	if (rc == -1 && !capture_error(c)[0])
		abort();
	if (rc != 0 && rc != -1)
		abort();
	capture_close(c);
	return 0;
}
