/*
 * capture.c - reading capture files through libpcap (see include/capture.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/if_packet.h>

#include <pcap/pcap.h>

#include "capture.h"

/* Read timeout of a live capture: how long capture_next may block before
 * the caller gets to look at signals and timers. */
#define CAPTURE_TIMEOUT_MS 200

struct capture {
	pcap_t *p;            /* owned */
	char err[PCAP_ERRBUF_SIZE + 64];
	uint64_t count;
	int nano;             /* timestamps in nanoseconds */
	int live;
};

static int live_fail(struct capture *c, const char *what, char *err, size_t errlen,
                     const char *iface)
{
	snprintf(err, errlen, "%s: %s: %s", iface, what, pcap_geterr(c->p));
	pcap_close(c->p);
	free(c);
	return -1;
}

/* PACKET_FANOUT (packet(7)) on libpcap's socket: the kernel spreads the
 * interface's packets over the group's sockets by flow hash, the same for
 * both directions of a flow. */
static int join_fanout(struct capture *c, int group)
{
	int fd = pcap_get_selectable_fd(c->p);
	/* group id in the low 16 bits, mode and flags in the high 16: built
	 * unsigned, as FLAG_DEFRAG (0x8000) << 16 overflows an int. */
	uint32_t arg = ((uint32_t)group & 0xffffu) |
	               ((uint32_t)(PACKET_FANOUT_HASH | PACKET_FANOUT_FLAG_DEFRAG) << 16);

	if (fd < 0)
		return -1;
	return setsockopt(fd, SOL_PACKET, PACKET_FANOUT, &arg, sizeof(arg));
}

struct capture *capture_open_live(const struct capture_live_opts *o, char *err,
                                  size_t errlen)
{
	struct capture *c = calloc(1, sizeof(*c));   /* owned by the caller */
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	struct bpf_program prog;

	if (!c) {
		snprintf(err, errlen, "%s: out of memory", o->iface);
		return NULL;
	}
	c->live = 1;
	c->p = pcap_create(o->iface, ebuf);
	if (!c->p) {
		snprintf(err, errlen, "%s: %s", o->iface, ebuf);
		free(c);
		return NULL;
	}
	if (pcap_set_snaplen(c->p, o->snaplen) != 0 ||
	    pcap_set_promisc(c->p, o->promisc) != 0 ||
	    pcap_set_timeout(c->p, CAPTURE_TIMEOUT_MS) != 0 ||
	    pcap_set_buffer_size(c->p, o->buffer_mb * 1024 * 1024) != 0 ||
	    pcap_set_tstamp_precision(c->p, PCAP_TSTAMP_PRECISION_NANO) != 0)
		c->nano = 0;
	else
		c->nano = 1;
	if (pcap_activate(c->p) < 0) {
		live_fail(c, "cannot capture", err, errlen, o->iface);
		return NULL;
	}
	c->nano = pcap_get_tstamp_precision(c->p) == PCAP_TSTAMP_PRECISION_NANO;
	if (o->bpf && *o->bpf) {
		if (pcap_compile(c->p, &prog, o->bpf, 1, PCAP_NETMASK_UNKNOWN) != 0) {
			live_fail(c, "bad BPF filter", err, errlen, o->iface);
			return NULL;
		}
		if (pcap_setfilter(c->p, &prog) != 0) {
			pcap_freecode(&prog);
			live_fail(c, "cannot set BPF filter", err, errlen, o->iface);
			return NULL;
		}
		pcap_freecode(&prog);
	}
	if (o->fanout_group > 0 && join_fanout(c, o->fanout_group) != 0) {
		snprintf(err, errlen, "%s: PACKET_FANOUT: %s", o->iface, strerror(errno));
		pcap_close(c->p);
		free(c);
		return NULL;
	}
	return c;
}

int capture_kernel_stats(struct capture *c, uint64_t *packets, uint64_t *drops,
                         uint64_t *ifdrops)
{
	struct pcap_stat st;

	if (!c->live || pcap_stats(c->p, &st) != 0)
		return -1;
	*packets = st.ps_recv;
	*drops = st.ps_drop;
	*ifdrops = st.ps_ifdrop;
	return 0;
}

int capture_pollable_fd(struct capture *c)
{
	char ebuf[PCAP_ERRBUF_SIZE];

	if (pcap_setnonblock(c->p, 1, ebuf) != 0)
		return -1;
	return pcap_get_selectable_fd(c->p);
}

void capture_break(struct capture *c)
{
	pcap_breakloop(c->p);
}

int capture_is_live(const struct capture *c)
{
	return c->live;
}

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
		return c->live ? -2 : 0;
	if (rc == 0)
		return 0;   /* live: the read timeout expired */
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
