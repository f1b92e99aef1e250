/*
 * capture.c - packet sources (see include/capture/capture.h): interfaces through
 * libpcap; files, standard input and pipes opened here and handed to the
 * reader that reads them best; the BPF filter on files.  The capture
 * module's one file that includes pcap.h (one module per library).
 *
 * Choosing the reader.  A regular file in the classic pcap format that
 * mapped.c reads exactly as libpcap would is mapped and read in place
 * (mapped.c: the reader on a mapped file, and its pager).  A pcapng input
 * -- a file, a pipe or standard input alike -- is read by certsentry's
 * own block reader (pcapng.c), which hands over the Decryption Secrets
 * Blocks libpcap skips.  Everything else goes to libpcap: a classic pcap
 * on standard input or a pipe, and the files mapped.c leaves to it.  The
 * first four bytes tell pcapng from the rest; a stream gives them back
 * (struct prefixed), so that whichever reader is chosen reads the input
 * from its first byte.
 *
 * Set CERTSENTRY_NO_MMAP=1 in the environment to read every classic pcap
 * file through libpcap (tests/t_capture.sh compares both paths).
 *
 * --bpf on files: the filter is compiled for the input's link type on a
 * pcap_open_dead handle and run on every frame (pcap_offline_filter),
 * whichever reader read it; rejected frames are counted.
 *
 * Must not: read a record of a mapped file or a pcapng block (mapped.c,
 * pcapng.c), decode a frame (decode.c) or know about flows.
 */
#define _GNU_SOURCE   /* fopencookie: a stream that gives back the bytes read to sniff it */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/if_packet.h>

#include <pcap/pcap.h>

#include "capture/capture.h"
#include "capture_int.h"
#include "core/stats.h"

/* Read timeout of a live capture: how long capture_next may block before
 * the caller gets to look at signals and timers. */
#define CAPTURE_TIMEOUT_MS 200
/* stdio's buffer for an input read as a stream (pcapng, standard input,
 * a pipe, a file libpcap reads): one read(2) fills up to this much. */
#define CAPTURE_STREAM_BUF  (256u * 1024u)

/* struct capture's message holds libpcap's (capture_int.h cannot say
 * PCAP_ERRBUF_SIZE without pcap.h). */
_Static_assert(CAPTURE_ERR_LEN >= PCAP_ERRBUF_SIZE + 64, "CAPTURE_ERR_LEN below libpcap's");

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

	if (!c->p || pcap_setnonblock(c->p, 1, ebuf) != 0)
		return -1;
	return pcap_get_selectable_fd(c->p);
}

void capture_break(struct capture *c)
{
	if (c->p)
		pcap_breakloop(c->p);
	else
		c->broken = 1;
}

int capture_is_live(const struct capture *c)
{
	return c->live;
}

/* ---- the readers without libpcap --------------------------------------------- */

/* libpcap's knowledge for the readers that read files without it (see
 * sensor/capture/capture_int.h).  swapped: libpcap then rewrites fields of the
 * Linux cooked headers in place (swap_pseudo_headers), which a read-only
 * view cannot: such files are left to libpcap. */
int capture_linktype_dlt(uint32_t linktype, int swapped)
{
	switch (linktype) {
	case 0:   return DLT_NULL;
	case 1:   return DLT_EN10MB;
	case 101: return DLT_RAW;          /* LINKTYPE_RAW: DLT_RAW is 12 (14 on BSD/OS) */
	case 108: return DLT_LOOP;
	case 228: return DLT_IPV4;
	case 229: return DLT_IPV6;
	case 113: return swapped ? -1 : DLT_LINUX_SLL;
	case 276: return swapped ? -1 : DLT_LINUX_SLL2;
	default:  return -1;
	}
}

/* A mapped file: neither libpcap nor the pcapng reader reads it. */
static int is_mapped(const struct capture *c)
{
	return !c->p && !c->ng;
}

int capture_start_pager(struct capture *c)
{
	if (!is_mapped(c))
		return -1;   /* libpcap or the pcapng reader reads it: nothing mapped */
	return mapped_start_pager(c);
}

int capture_frames_stable(const struct capture *c)
{
	return is_mapped(c);
}

void capture_hold(struct capture *c, const uint8_t *oldest)
{
	if (is_mapped(c))
		mapped_hold(c, oldest);
}

/* ---- files ------------------------------------------------------------------ */

static int no_mmap(void)
{
	const char *v = getenv("CERTSENTRY_NO_MMAP");

	return v && *v && strcmp(v, "0") != 0;
}

/* mapped_open_fd on a path. */
static int map_path(struct capture *c, const char *path)
{
	struct stat st;
	int fd, rc;

	if (no_mmap() || strcmp(path, "-") == 0)
		return 0;
	/* Not even opened unless regular: opening a FIFO would wait for a
	 * writer, and closing it again could lose what was written.  Non-
	 * blocking, in case it became a FIFO since the stat. */
	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return 0;
	rc = mapped_open_fd(c, fd);
	close(fd);   /* the mapping keeps the file */
	return rc;
}

/* A stream that gives back the magic read to sniff the format, then the
 * rest: libpcap reads a classic pcap from a pipe from its first byte.
 * Each read is one read(2), which returns what a pipe holds instead of
 * waiting to fill the caller's buffer: a pipe that trickles (tcpdump -w
 * - | certsentry -r -) hands over every packet as it comes. */
struct prefixed {
	uint8_t pre[4];
	size_t n, at;
	int fd;               /* owned */
};

static ssize_t prefixed_read(void *cookie, char *out, size_t len)
{
	struct prefixed *p = cookie;
	size_t done = 0;
	ssize_t r;

	while (done < len && p->at < p->n)
		out[done++] = (char)p->pre[p->at++];
	if (done > 0)
		return (ssize_t)done;
	do
		r = read(p->fd, out, len);
	while (r < 0 && errno == EINTR);
	return r;
}

static int prefixed_close(void *cookie)
{
	struct prefixed *p = cookie;
	int rc = close(p->fd);

	free(p);
	return rc;
}

/* Compile bpf for c's link type. */
static int compile_filter(struct capture *c, const char *name, const char *bpf, char *err,
                          size_t errlen)
{
	struct bpf_program *prog = calloc(1, sizeof(*prog));   /* owned by c; capture_close */
	pcap_t *dead = prog ? pcap_open_dead(capture_datalink(c), (int)CAPTURE_MAX_SNAPLEN) : NULL;

	if (!dead) {
		snprintf(err, errlen, "%s: --bpf: out of memory", name);
		free(prog);
		return -1;
	}
	if (pcap_compile(dead, prog, bpf, 1, PCAP_NETMASK_UNKNOWN) != 0) {
		snprintf(err, errlen, "%s: --bpf: %s", name, pcap_geterr(dead));
		pcap_close(dead);
		free(prog);
		return -1;
	}
	pcap_close(dead);
	c->prog = prog;
	return 0;
}

int capture_bpf_check(const char *expr, char *err, size_t errlen)
{
	pcap_t *dead = pcap_open_dead(DLT_EN10MB, (int)CAPTURE_MAX_SNAPLEN);
	struct bpf_program prog;

	if (!dead) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (pcap_compile(dead, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) != 0) {
		snprintf(err, errlen, "%s", pcap_geterr(dead));
		pcap_close(dead);
		return -1;
	}
	pcap_freecode(&prog);
	pcap_close(dead);
	return 0;
}

int capture_input_open(const char *path, char *err, size_t errlen)
{
	/* Standard input is duplicated, so that closing the capture leaves
	 * descriptor 0 alone.  Blocking, as fopen would open it: a FIFO
	 * waits for its writer. */
	int fd = strcmp(path, "-") == 0 ? fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3)
	                                : open(path, O_RDONLY);

	if (fd < 0)
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
	return fd;
}

/* Read fd as a stream: pcapng by the block reader, classic pcap by
 * libpcap, each from the first byte (the magic read to tell them apart
 * is given back).  Takes fd. */
static int open_stream(struct capture *c, int fd, const char *name, char *err, size_t errlen)
{
	cookie_io_functions_t io = { prefixed_read, NULL, NULL, prefixed_close };
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	struct prefixed *pre = calloc(1, sizeof(*pre));   /* owned by pf; prefixed_close */
	FILE *pf;

	if (!pre) {
		snprintf(err, errlen, "%s: out of memory", name);
		close(fd);
		return -1;
	}
	pre->fd = fd;
	while (pre->n < sizeof(pre->pre)) {
		ssize_t r = read(fd, pre->pre + pre->n, sizeof(pre->pre) - pre->n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(err, errlen, "%s: %s", name, strerror(errno));
			close(fd);
			free(pre);
			return -1;
		}
		if (r == 0)
			break;
		pre->n += (size_t)r;
	}
	pf = fopencookie(pre, "rb", io);
	if (!pf) {
		snprintf(err, errlen, "%s: out of memory", name);
		close(fd);
		free(pre);
		return -1;
	}
	/* Fewer, larger reads (a pipe's read still returns what it holds). */
	(void)setvbuf(pf, NULL, _IOFBF, CAPTURE_STREAM_BUF);
	if (pre->n == 4 && pre->pre[0] == 0x0A && pre->pre[1] == 0x0D && pre->pre[2] == 0x0D &&
	    pre->pre[3] == 0x0A) {
		if (pcapng_open(c, pf) < 0) {   /* pf is c's now, or closed */
			snprintf(err, errlen, "%s: out of memory", name);
			return -1;
		}
		return 0;
	}
	/* Ask for nanosecond precision where the file has it, then print
	 * microseconds: no rounding surprises from libpcap's conversion. */
	c->p = pcap_fopen_offline_with_tstamp_precision(pf, PCAP_TSTAMP_PRECISION_NANO, ebuf);
	if (!c->p) {
		fclose(pf);
		snprintf(err, errlen, "%s: %s", name, ebuf);
		return -1;
	}
	c->nano = pcap_get_tstamp_precision(c->p) == PCAP_TSTAMP_PRECISION_NANO;
	return 0;
}

/* What every input needs once its reader is chosen: a pcapng input read
 * up to its first IDB (the link type), the filter compiled.  0, or -1
 * with err set. */
static int open_finish(struct capture *c, const char *name, const struct capture_file_opts *o,
                       char *err, size_t errlen)
{
	if (c->ng) {
		int rc = pcapng_first(c);

		if (rc <= 0) {
			/* Secrets before the damage were handed over. */
			if (rc < 0)
				g_stats.capture_damaged++;
			snprintf(err, errlen, "%s: %s", name,
			         rc < 0 ? c->err : "pcapng file without an Interface Description Block");
			return -1;
		}
	}
	if (o && o->bpf && compile_filter(c, name, o->bpf, err, errlen) < 0)
		return -1;
	return 0;
}

static struct capture *capture_new(const char *name, const struct capture_file_opts *o,
                                   char *err, size_t errlen)
{
	struct capture *c = calloc(1, sizeof(*c));   /* owned by the caller */

	if (!c) {
		snprintf(err, errlen, "%s: out of memory", name);
		return NULL;
	}
	if (o) {
		c->secrets = o->secrets;
		c->secrets_ctx = o->secrets_ctx;
	}
	return c;
}

struct capture *capture_open_fd(int fd, const char *name, const struct capture_file_opts *o,
                                char *err, size_t errlen)
{
	struct capture *c = capture_new(name, o, err, errlen);

	if (!c) {
		close(fd);
		return NULL;
	}
	if (!no_mmap() && strcmp(name, "-") != 0 && mapped_open_fd(c, fd))
		close(fd);   /* the mapping keeps the file */
	else if (open_stream(c, fd, name, err, errlen) < 0)
		goto err;
	if (open_finish(c, name, o, err, errlen) < 0)
		goto err;
	return c;
err:
	capture_close(c);
	return NULL;
}

struct capture *capture_open_file(const char *path, const struct capture_file_opts *o,
                                  char *err, size_t errlen)
{
	struct capture *c = capture_new(path, o, err, errlen);
	int fd;

	if (!c)
		return NULL;
	/* A classic pcap file is mapped by path (a FIFO is never opened for
	 * it); everything else is opened as libpcap would open it. */
	if (!map_path(c, path)) {
		fd = capture_input_open(path, err, errlen);
		if (fd < 0 || open_stream(c, fd, path, err, errlen) < 0)
			goto err;
	}
	if (open_finish(c, path, o, err, errlen) < 0)
		goto err;
	return c;
err:
	capture_close(c);
	return NULL;
}

void capture_close(struct capture *c)
{
	if (!c)
		return;
	if (c->p) {
		pcap_close(c->p);
	} else if (c->ng) {
		pcapng_close(c);
	} else if (c->m.p) {
		mapped_close(c);
	}
	if (c->prog) {
		pcap_freecode(c->prog);
		free(c->prog);
	}
	free(c);
}

int capture_datalink(const struct capture *c)
{
	return c->p ? pcap_datalink(c->p) : c->dlt;
}

const char *capture_datalink_name(const struct capture *c)
{
	const char *n = pcap_datalink_val_to_name(capture_datalink(c));

	return n ? n : "unknown";
}

/* The next frame, unfiltered. */
static int next_frame(struct capture *c, const uint8_t **frame, size_t *caplen,
                      uint32_t *wirelen, uint64_t *ts_us)
{
	struct pcap_pkthdr *h;
	const u_char *data;
	int rc;

	if (c->ng)
		return pcapng_next(c, frame, caplen, wirelen, ts_us);
	if (!c->p)
		return mapped_next(c, frame, caplen, wirelen, ts_us);
	rc = pcap_next_ex(c->p, &h, &data);

	if (rc == 1) {
		c->count++;
		*frame = data;
		*caplen = h->caplen;
		*wirelen = h->len;
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

int capture_next(struct capture *c, const uint8_t **frame, size_t *caplen,
                 uint64_t *ts_us)
{
	for (;;) {
		uint32_t wire = 0;
		int rc = next_frame(c, frame, caplen, &wire, ts_us);
		struct pcap_pkthdr h;

		if (rc == -1 && !c->live && !c->damage_counted) {
			c->damage_counted = 1;
			g_stats.capture_damaged++;
		}
		if (rc != 1 || !c->prog)
			return rc;
		memset(&h, 0, sizeof(h));
		h.caplen = (bpf_u_int32)*caplen;
		h.len = wire;
		if (pcap_offline_filter(c->prog, &h, *frame))
			return 1;
		c->filtered++;
		g_stats.capture_filtered++;
	}
}

const char *capture_error(const struct capture *c)
{
	return c->err;
}

uint64_t capture_count(const struct capture *c)
{
	return c->count;
}

uint64_t capture_filtered(const struct capture *c)
{
	return c->filtered;
}
