/*
 * capture.c - packet sources (see include/capture.h): interfaces, pcapng
 * files, standard input and pipes through libpcap; classic pcap files
 * through mmap(2).
 *
 * Mapped files.  libpcap reads a file with fread: per packet a copy from
 * the page cache into stdio's buffer and another into its own, and on
 * bulk traffic that reading is a third of certsentry's time.  A regular
 * file in the classic pcap format (draft-ietf-opsawg-pcap: a 24-byte
 * file header, then records of a 16-byte header and caplen
 * bytes) is instead mapped read-only and its records walked in place: a
 * frame is a view into the mapping, valid until capture_close (see
 * capture_frames_stable), so --workers can pass workers a pointer
 * instead of a copy (sensor/capture/dispatch.c).
 *
 * The file is hostile: every length is checked against what is left of
 * the mapping before it is used, through include/buf.h, and damage is
 * reported as libpcap reports it, with libpcap's words: capture_next
 * returns -1 and capture_error says "truncated dump file; tried to read
 * 16 header bytes, only got 5", "invalid packet capture length 300000,
 * bigger than snaplen of 65535", ...  What libpcap accepts is accepted
 * alike: a record longer than the file's snaplen (but within libpcap's
 * MAXIMUM_SNAPLEN) is cut to the snaplen, timestamps are the file's
 * signed 32-bit fields, nanoseconds are divided down as on the libpcap
 * path.  Anything this reader does not do exactly as libpcap goes to
 * libpcap instead: pcapng, versions other than 2.4, the modified-format
 * magics, a snaplen of 0 or above MAXIMUM_SNAPLEN (libpcap adjusts them),
 * link types other than those decode.c reads (libpcap maps LINKTYPE_
 * values to DLT_ values and knows their names), bits above the link
 * type's low 16 (FCS information), Linux cooked captures written in the
 * other byte order (libpcap swaps fields of their headers), a file
 * shorter than its header, and a file that cannot be mapped.
 *
 * Set CERTSENTRY_NO_MMAP=1 in the environment to read every file through
 * libpcap (tests/t_capture.sh compares both paths).
 *
 * capture_file_secrets reads a pcapng file's Decryption Secrets Blocks
 * (the TLS key logs editcap embeds) before the capture itself is read:
 * libpcap skips those blocks.
 *
 * Known limit: a mapped file truncated by another process while it is
 * read kills certsentry with SIGBUS, where libpcap would report a
 * truncated file.  A file that grows is read as it was when opened.
 *
 * Must not: decode a frame (decode.c) or know about flows.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/if_packet.h>

#include <pcap/pcap.h>

#include "buf.h"
#include "capture.h"

/* Read timeout of a live capture: how long capture_next may block before
 * the caller gets to look at signals and timers. */
#define CAPTURE_TIMEOUT_MS 200

/* libpcap's MAXIMUM_SNAPLEN: no record may claim more (pcap-int.h). */
#define CAPTURE_MAX_SNAPLEN 262144u
#define PCAP_MAGIC_US       0xa1b2c3d4u   /* microsecond timestamps */
#define PCAP_MAGIC_NS       0xa1b23c4du   /* nanosecond timestamps */
#define PCAP_FILE_HDR       24u
#define PCAP_REC_HDR        16u
/* A mapped file is read ahead of the reader by CAPTURE_STEP to
 * 2 * CAPTURE_STEP: MADV_POPULATE_READ (Linux 5.14) reads the pages and
 * fills the page tables in one call, instead of a page fault every 64 KB,
 * and the CPU's prefetches (CAPTURE_PREFETCH) then find mapped pages
 * (reading the bench capture: median 0.51 s instead of 0.53 s;
 * MADV_WILLNEED, which only starts the reads, where the kernel lacks it).
 * What lies more than CAPTURE_KEEP behind it, and before the oldest frame
 * others still use (capture_hold), is unmapped (MADV_DONTNEED), both every
 * CAPTURE_STEP (tests/t_capture.sh checks the peak RSS): without that,
 * every page read would stay in certsentry's resident set, and a 1 GB
 * capture would count as 1 GB of memory.  The pages stay in the page
 * cache, and a frame read from them again (capture_hold was not told of
 * it) faults its page back in, with the same bytes. */
#define CAPTURE_STEP        (4u * 1024u * 1024u)
#define CAPTURE_KEEP        (8u * 1024u * 1024u)
/* Bytes ahead of the reader pulled into the CPU cache: the reader touches
 * a line or two of each record, too sparse for the hardware prefetcher,
 * and each record's place is known only from the one before, so without
 * this it waits for memory at every record.  Fetching every line ahead
 * makes reading with decoding about 1.5x faster on bulk traffic. */
#define CAPTURE_PREFETCH    8192u
#define CAPTURE_LINE        64u

/* The pager (capture_start_pager): a thread that moves the window of a
 * mapped file for the reader.  Reading and unmapping pages is kernel
 * work on the reader's time, a quarter of a one-engine run over the
 * bench capture and two fifths of a --workers reader's, which is the
 * thread the workers wait for.  With a pager the reader only says where
 * it is, every CAPTURE_STEP; the pager, behind, does what mapped_window
 * would.  A late pager costs the reader page faults, never wrong bytes:
 * the advice only maps and unmaps pages of a file that does not change. */
struct pager {
	pthread_t th;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	/* Under lock. */
	size_t off, hold;     /* the reader's offset and hold when it last said */
	int moved;            /* said since the pager last looked */
	int stop;
};

struct capture {
	pcap_t *p;            /* owned; NULL for a mapped file */
	/* A mapped file: m.p is the mapping (owned; munmap in capture_close),
	 * m.off the next record. */
	struct buf m;
	size_t advised;       /* mapped: read ahead up to this offset */
	int no_populate;      /* mapped: the kernel refused MADV_POPULATE_READ */
	size_t released;      /* mapped: MADV_DONTNEED given up to this offset */
	size_t hold;          /* mapped: frames from this offset on are in use
	                         elsewhere (capture_hold); SIZE_MAX: none */
	size_t window_at;     /* mapped: move the window when reading reaches this */
	struct pager *pager;  /* mapped: owned; NULL: the reader moves the window;
	                         else advised and released are the pager's */
	size_t prefetched;    /* mapped: lines before this were prefetched */
	int dlt;              /* mapped: the DLT_ value pcap_datalink would give */
	int be;               /* mapped: the file is big-endian */
	uint32_t snaplen;     /* mapped: 1..CAPTURE_MAX_SNAPLEN */
	int failed;           /* mapped: damage was reported; stays at it */
	volatile int broken;  /* mapped: capture_break was called */
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

/* ---- classic pcap files, mapped ------------------------------------------ */

/* The DLT_ value libpcap's linktype_to_dlt gives for a LINKTYPE_ value,
 * for the link types decode.c reads; -1 for the others, left to libpcap.
 * swapped: the file's byte order is not the host's, and libpcap then
 * rewrites fields of the Linux cooked headers in place (swap_pseudo_
 * headers), which a read-only view cannot. */
static int mapped_dlt(uint32_t linktype, int swapped)
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

static int rd16(struct buf *b, int be, uint16_t *v)
{
	if (buf_be16(b, v) < 0)
		return -1;
	if (!be)
		*v = (uint16_t)(*v >> 8 | *v << 8);
	return 0;
}

static int rd32(struct buf *b, int be, uint32_t *v)
{
	return be ? buf_be32(b, v) : buf_le32(b, v);
}

/* Read [from, to) of the mapping ahead of the reader (see CAPTURE_STEP). */
static void read_ahead(struct capture *c, size_t from, size_t to)
{
	void *at = (void *)(uintptr_t)(c->m.p + from);

#ifdef MADV_POPULATE_READ
	if (!c->no_populate) {
		if (madvise(at, to - from, MADV_POPULATE_READ) == 0 ||
		    (errno != EINVAL && errno != ENOSYS))
			return;
		c->no_populate = 1;   /* a kernel before 5.14 */
	}
#endif
	(void)madvise(at, to - from, MADV_WILLNEED);
}

/* Move the window of a mapped file (see CAPTURE_STEP) to offset off,
 * keeping frames from hold on.  Only advice: a failure changes nothing but
 * speed and memory. */
static void window_move(struct capture *c, size_t off, size_t hold)
{
	long pg = sysconf(_SC_PAGESIZE);
	size_t page = pg > 0 ? (size_t)pg : 4096;
	size_t ahead = c->m.len - off <= 2 * CAPTURE_STEP ? c->m.len : off + 2 * CAPTURE_STEP;

	/* Both ranges start on a page boundary, as madvise wants. */
	if (ahead < c->m.len)
		ahead = ahead / page * page;
	if (ahead > c->advised) {
		read_ahead(c, c->advised, ahead);
		c->advised = ahead;
	}
	if (off > CAPTURE_KEEP) {
		size_t behind = off - CAPTURE_KEEP;

		if (behind > hold)
			behind = hold;
		behind = behind / page * page;
		if (behind > c->released) {
			(void)madvise((void *)(uintptr_t)(c->m.p + c->released), behind - c->released,
			              MADV_DONTNEED);
			c->released = behind;
		}
	}
}

static void *pager_main(void *arg)
{
	struct capture *c = arg;
	struct pager *pg = c->pager;

	pthread_mutex_lock(&pg->lock);
	for (;;) {
		size_t off, hold;

		while (!pg->moved && !pg->stop)
			pthread_cond_wait(&pg->wake, &pg->lock);
		if (pg->stop)
			break;
		off = pg->off;
		hold = pg->hold;
		pg->moved = 0;
		pthread_mutex_unlock(&pg->lock);
		window_move(c, off, hold);
		pthread_mutex_lock(&pg->lock);
	}
	pthread_mutex_unlock(&pg->lock);
	return NULL;
}

/* The reader has reached window_at: move the window, or have the pager
 * move it. */
static void mapped_window(struct capture *c)
{
	size_t off = c->m.off;

	if (c->pager) {
		struct pager *pg = c->pager;

		pthread_mutex_lock(&pg->lock);
		pg->off = off;
		pg->hold = c->hold;
		pg->moved = 1;
		pthread_cond_signal(&pg->wake);
		pthread_mutex_unlock(&pg->lock);
	} else {
		window_move(c, off, c->hold);
	}
	c->window_at = c->m.len - off > CAPTURE_STEP ? off + CAPTURE_STEP : SIZE_MAX;
}

int capture_start_pager(struct capture *c)
{
	struct pager *pg;

	if (c->pager)
		return 0;
	if (c->p)
		return -1;   /* libpcap reads the file: nothing mapped */
	pg = calloc(1, sizeof(*pg));   /* owned by c; stopped in capture_close */
	if (!pg)
		return -1;
	if (pthread_mutex_init(&pg->lock, NULL) != 0)
		goto err_free;
	if (pthread_cond_init(&pg->wake, NULL) != 0)
		goto err_lock;
	c->pager = pg;
	if (pthread_create(&pg->th, NULL, pager_main, c) != 0) {
		c->pager = NULL;
		pthread_cond_destroy(&pg->wake);
		goto err_lock;
	}
	return 0;
err_lock:
	pthread_mutex_destroy(&pg->lock);
err_free:
	free(pg);
	return -1;
}

static void stop_pager(struct capture *c)
{
	struct pager *pg = c->pager;

	if (!pg)
		return;
	pthread_mutex_lock(&pg->lock);
	pg->stop = 1;
	pthread_cond_signal(&pg->wake);
	pthread_mutex_unlock(&pg->lock);
	pthread_join(pg->th, NULL);
	pthread_cond_destroy(&pg->wake);
	pthread_mutex_destroy(&pg->lock);
	free(pg);
	c->pager = NULL;
}

/* Map path when it is a regular file in a format this file reads as
 * libpcap would (see the top of the file): 1, c set up.  0 otherwise,
 * including every error: libpcap then opens the file and says what is
 * wrong with it in its own words. */
static int mapped_open(struct capture *c, const char *path)
{
	const char *no_mmap = getenv("CERTSENTRY_NO_MMAP");
	const int host_be = __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__;
	struct stat st;
	struct buf h;
	uint32_t magic, zone, sigfigs, snaplen, linktype;
	uint16_t major, minor;
	size_t size;
	void *map;
	int fd, be, dlt;

	if ((no_mmap && *no_mmap && strcmp(no_mmap, "0") != 0) || strcmp(path, "-") == 0)
		return 0;
	/* Not even opened unless regular: opening a FIFO would wait for a
	 * writer, and closing it again could lose what was written.  Non-
	 * blocking, in case it became a FIFO since the stat. */
	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return 0;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < (off_t)PCAP_FILE_HDR ||
	    (uintmax_t)st.st_size > SIZE_MAX) {
		close(fd);
		return 0;
	}
	size = (size_t)st.st_size;
	map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);   /* the mapping keeps the file */
	if (map == MAP_FAILED)
		return 0;
	buf_init(&h, map, PCAP_FILE_HDR);
	if (buf_le32(&h, &magic) < 0)
		goto no;
	be = 0;
	if (magic != PCAP_MAGIC_US && magic != PCAP_MAGIC_NS) {
		h.off = 0;
		if (buf_be32(&h, &magic) < 0 || (magic != PCAP_MAGIC_US && magic != PCAP_MAGIC_NS))
			goto no;
		be = 1;
	}
	if (rd16(&h, be, &major) < 0 || rd16(&h, be, &minor) < 0 ||
	    rd32(&h, be, &zone) < 0 || rd32(&h, be, &sigfigs) < 0 ||
	    rd32(&h, be, &snaplen) < 0 || rd32(&h, be, &linktype) < 0)
		goto no;
	/* 2.4 only: libpcap swaps caplen and len in older files. */
	if (major != 2 || minor != 4)
		goto no;
	if (snaplen == 0 || snaplen > CAPTURE_MAX_SNAPLEN || linktype > 0xffffu)
		goto no;
	dlt = mapped_dlt(linktype, be != host_be);
	if (dlt < 0)
		goto no;
	buf_init(&c->m, map, size);
	c->m.off = PCAP_FILE_HDR;
	c->hold = SIZE_MAX;
	c->dlt = dlt;
	c->be = be;
	c->snaplen = snaplen;
	c->nano = magic == PCAP_MAGIC_NS;
	(void)madvise(map, size, MADV_SEQUENTIAL);
	mapped_window(c);
	return 1;
no:
	munmap(map, size);
	return 0;
}

static int mapped_fail(struct capture *c, const char *what, uint32_t want, size_t got)
{
	snprintf(c->err, sizeof(c->err), "truncated dump file; tried to read %u %s bytes, only got %zu",
	         want, what, got);
	c->failed = 1;
	return -1;
}

/* capture_next on a mapped file: each record checked as libpcap's
 * pcap_next_packet (sf-pcap.c) checks it, with its messages. */
static int mapped_next(struct capture *c, const uint8_t **frame, size_t *caplen,
                       uint64_t *ts_us)
{
	struct buf *m = &c->m;
	uint32_t sec, frac, cap, wire, take;
	int64_t sub;
	const uint8_t *p;

	if (c->failed)
		return -1;
	if (c->broken || buf_left(m) == 0)
		return 0;
	if (m->off >= c->window_at)
		mapped_window(c);
	/* Every line up to CAPTURE_PREFETCH ahead (the mapping is page-,
	 * hence line-aligned). */
	{
		size_t to = buf_left(m) > CAPTURE_PREFETCH ? m->off + CAPTURE_PREFETCH : m->len;

		if (c->prefetched < m->off)   /* past a record longer than the distance */
			c->prefetched = m->off & ~(size_t)(CAPTURE_LINE - 1);
		for (; c->prefetched < to; c->prefetched += CAPTURE_LINE)
			__builtin_prefetch(m->p + c->prefetched);
	}
	if (buf_left(m) < PCAP_REC_HDR)
		return mapped_fail(c, "header", PCAP_REC_HDR, buf_left(m));
	if (rd32(m, c->be, &sec) < 0 || rd32(m, c->be, &frac) < 0 ||
	    rd32(m, c->be, &cap) < 0 || rd32(m, c->be, &wire) < 0)
		abort();   /* a bug: 16 bytes were there */
	if (cap > CAPTURE_MAX_SNAPLEN) {
		/* The file's snaplen is at most CAPTURE_MAX_SNAPLEN, so cap
		 * exceeds both: libpcap names the snaplen. */
		snprintf(c->err, sizeof(c->err),
		         "invalid packet capture length %u, bigger than snaplen of %u", cap,
		         c->snaplen);
		c->failed = 1;
		return -1;
	}
	/* A record longer than the snaplen (but sane): libpcap reads the
	 * snaplen's worth, skips the rest and reports the snaplen. */
	take = cap;
	if (cap > c->snaplen) {
		if (buf_left(m) < c->snaplen)
			return mapped_fail(c, "captured", c->snaplen, buf_left(m));
		take = c->snaplen;
	}
	if (buf_bytes(m, cap, &p) < 0)
		return mapped_fail(c, "captured", cap, buf_left(m));
	/* The file's fields are signed 32 bits, as libpcap reads them
	 * (struct pcap_timeval), and nanoseconds are cut to microseconds as
	 * capture_next cuts libpcap's. */
	sub = (int32_t)frac;
	if (c->nano)
		sub /= 1000;
	c->count++;
	*frame = p;
	*caplen = take;
	*ts_us = (uint64_t)(int64_t)(int32_t)sec * 1000000u + (uint64_t)sub;
	return 1;
}

int capture_frames_stable(const struct capture *c)
{
	return c->p == NULL;
}

void capture_hold(struct capture *c, const uint8_t *oldest)
{
	if (c->p)
		return;
	if (!oldest)
		c->hold = SIZE_MAX;
	else if (oldest >= c->m.p && oldest < c->m.p + c->m.len)
		c->hold = (size_t)(oldest - c->m.p);
	/* else: not a frame of c; a bug of the caller's, and only advice */
}

/* ---- files ------------------------------------------------------------------ */

struct capture *capture_open_file(const char *path, char *err, size_t errlen)
{
	struct capture *c = calloc(1, sizeof(*c));   /* owned by the caller */
	char ebuf[PCAP_ERRBUF_SIZE] = "";

	if (!c) {
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	if (mapped_open(c, path))
		return c;
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
	if (c->p) {
		pcap_close(c->p);
	} else {
		stop_pager(c);   /* before the mapping goes */
		munmap((void *)(uintptr_t)c->m.p, c->m.len);
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

int capture_next(struct capture *c, const uint8_t **frame, size_t *caplen,
                 uint64_t *ts_us)
{
	struct pcap_pkthdr *h;
	const u_char *data;
	int rc;

	if (!c->p)
		return mapped_next(c, frame, caplen, ts_us);
	rc = pcap_next_ex(c->p, &h, &data);

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

/* ---- pcapng Decryption Secrets Blocks ------------------------------------ */

/* draft-ietf-opsawg-pcapng §4.1 and §4.7. */
#define PCAPNG_SHB          0x0A0D0D0Au
#define PCAPNG_BOM          0x1A2B3C4Du
#define PCAPNG_DSB          0x0000000Au
#define PCAPNG_TLS_KEYLOG   0x544c534bu   /* "TLSK" */
#define PCAPNG_BLOCK_MIN    12u           /* type, two lengths */

static int read32(struct buf *b, int big, uint32_t *v)
{
	return big ? buf_be32(b, v) : buf_le32(b, v);
}

/* Walk the blocks of a mapped pcapng file.  Returns the secrets blocks
 * handed to cb, or -1 with err set on a malformed block structure. */
static int walk_secrets(const uint8_t *map, size_t len, capture_secrets_cb cb, void *ctx,
                        const char *path, char *err, size_t errlen)
{
	struct buf file, blk;
	int big = 0, found = 0;
	size_t off = 0;

	buf_init(&file, map, len);
	while (buf_left(&file) >= PCAPNG_BLOCK_MIN) {
		uint32_t type, total, bom, stype, slen;
		struct buf hdr = file;

		/* The SHB's type reads the same in either byte order. */
		if (read32(&hdr, big, &type) < 0)
			break;
		if (type == PCAPNG_SHB) {
			/* The byte order of this section is in its magic. */
			if (buf_skip(&hdr, 4) < 0 || buf_be32(&hdr, &bom) < 0)
				break;
			big = bom == PCAPNG_BOM;
			if (!big && bom != 0x4D3C2B1Au) {
				snprintf(err, errlen, "%s: block at byte %zu: bad pcapng byte-order "
				         "magic", path, off);
				return -1;
			}
		}
		hdr = file;
		if (buf_skip(&hdr, 4) < 0 || read32(&hdr, big, &total) < 0)
			break;
		if (total < PCAPNG_BLOCK_MIN || total % 4 != 0 || total > buf_left(&file)) {
			snprintf(err, errlen, "%s: block at byte %zu: bad pcapng block length %u",
			         path, off, total);
			return -1;
		}
		buf_sub(&file, total, &blk);
		off += total;
		if (type != PCAPNG_DSB)
			continue;
		/* A DSB: secrets type, secrets length, the secrets. */
		if (buf_skip(&blk, 8) < 0 || read32(&blk, big, &stype) < 0 ||
		    read32(&blk, big, &slen) < 0 || slen > buf_left(&blk) - 4) {
			snprintf(err, errlen, "%s: block at byte %zu: malformed Decryption Secrets "
			         "Block", path, off - total);
			return -1;
		}
		if (stype != PCAPNG_TLS_KEYLOG)
			continue;   /* SSH, WireGuard, ZigBee... secrets: not ours */
		cb(ctx, buf_ptr(&blk), slen);
		found++;
	}
	return found;
}

int capture_file_secrets(const char *path, capture_secrets_cb cb, void *ctx, char *err,
                         size_t errlen)
{
	struct stat st;
	uint8_t magic[4];
	void *map;
	int fd, rc;

	/* Only a regular file can be read twice: opening a FIFO would block
	 * for its writer and then take its bytes from the capture. */
	if (strcmp(path, "-") == 0 || stat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return 0;   /* capture_open_file says why */
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size < 28 ||
	    pread(fd, magic, 4, 0) != 4 ||
	    !(magic[0] == 0x0A && magic[1] == 0x0D && magic[2] == 0x0D && magic[3] == 0x0A)) {
		close(fd);
		return 0;   /* not a regular pcapng file: no secrets blocks to read */
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	rc = walk_secrets(map, (size_t)st.st_size, cb, ctx, path, err, errlen);
	munmap(map, (size_t)st.st_size);
	return rc;
}
