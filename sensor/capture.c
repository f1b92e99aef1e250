/*
 * capture.c - reading capture files through libpcap (see include/capture.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#include "capture.h"

struct capture {
	pcap_t *p;            /* owned */
	char err[PCAP_ERRBUF_SIZE + 64];
	uint64_t count;
	int nano;             /* timestamps in nanoseconds */
};

struct capture *capture_open_file(const char *path, char *err, size_t errlen)
{
	struct capture *c = calloc(1, sizeof(*c));   /* owned by the caller */
	char ebuf[PCAP_ERRBUF_SIZE] = "";

	if (!c) {
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	/* Ask for nanosecond precision where the file has it, then print
	 * microseconds: no rounding surprises from libpcap's conversion. */
	c->p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, ebuf);
	if (!c->p) {
		snprintf(err, errlen, "%s: %s", path, ebuf);
		free(c);
		return NULL;
	}
	c->nano = pcap_get_tstamp_precision(c->p) == PCAP_TSTAMP_PRECISION_NANO;
	return c;
}

void capture_close(struct capture *c)
{
	if (!c)
		return;
	pcap_close(c->p);
	free(c);
}

int capture_datalink(const struct capture *c)
{
	return pcap_datalink(c->p);
}

const char *capture_datalink_name(const struct capture *c)
{
	const char *n = pcap_datalink_val_to_name(pcap_datalink(c->p));

	return n ? n : "unknown";
}

int capture_next(struct capture *c, const uint8_t **frame, size_t *caplen,
                 uint64_t *ts_us)
{
	struct pcap_pkthdr *h;
	const u_char *data;
	int rc = pcap_next_ex(c->p, &h, &data);

	if (rc == 1) {
		c->count++;
		*frame = data;
		*caplen = h->caplen;
		*ts_us = (uint64_t)h->ts.tv_sec * 1000000u +
		         (uint64_t)(c->nano ? h->ts.tv_usec / 1000 : h->ts.tv_usec);
		return 1;
	}
	if (rc == PCAP_ERROR_BREAK)
		return 0;
	snprintf(c->err, sizeof(c->err), "%s", pcap_geterr(c->p));
	return -1;
}

const char *capture_error(const struct capture *c)
{
	return c->err;
}

uint64_t capture_count(const struct capture *c)
{
	return c->count;
}
