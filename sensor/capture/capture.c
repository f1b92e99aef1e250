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
 * Set CERTSENTRY_NO_MMAP=1 in the environment to read every classic pcap
 * file through libpcap (tests/t_capture.sh compares both paths).
 *
 * pcapng.  A pcapng input -- a file, a pipe or standard input alike --
 * is read by this file's own block reader ("pcapng" below), not
 * libpcap's: libpcap skips Decryption Secrets Blocks (the TLS key logs
 * editcap embeds), and a scan for them ahead of the packets can neither
 * read a pipe nor keep what it found when the file is damaged further
 * on.  The reader hands each DSB's secrets over in stream order, as the
 * pcapng draft means them (a DSB precedes the packets it opens), and
 * stops at the first damaged block with its byte offset, after returning
 * every packet before it.  What libpcap does with a pcapng file it does
 * too: SHB in either byte order, version 1, IDB link type, snaplen,
 * if_tsresol and if_tsoffset, EPB, SPB and the obsolete Packet Block,
 * other blocks skipped, a packet block before any IDB or an IDB of
 * another link type than the first refused.
 *
 * --bpf on files: the filter is compiled for the input's link type on a
 * pcap_open_dead handle and run on every frame (pcap_offline_filter),
 * whichever reader read it; rejected frames are counted.
 *
 * Known limit: a mapped file truncated by another process while it is
 * read kills certsentry with SIGBUS, where libpcap would report a
 * truncated file.  A file that grows is read as it was when opened.
 *
 * Must not: decode a frame (decode.c) or know about flows.
 */
#define _GNU_SOURCE   /* fopencookie: a stream that gives back the bytes read to sniff it */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
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
#include "cs_limits.h"
#include "stats.h"

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
/* stdio's buffer for an input read as a stream (pcapng, standard input,
 * a pipe, a file libpcap reads): one read(2) fills up to this much. */
#define CAPTURE_STREAM_BUF  (256u * 1024u)
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

struct pcapng_if {
	int dlt;              /* the DLT_ value (for the first interface: c->dlt) */
	uint32_t snaplen;     /* 1..CAPTURE_MAX_SNAPLEN */
	int pow2;             /* if_tsresol: a power of 2 (else of 10) */
	uint8_t exp;          /* ... its exponent */
	int64_t offset;       /* if_tsoffset, seconds */
};

/* The pcapng reader's state (see the top of the file). */
struct pcapng {
	FILE *f;              /* owned */
	uint64_t off;         /* bytes of the stream consumed: the next block's offset */
	int be;               /* the section's byte order */
	uint8_t *blk;         /* owned: the current block (frames point into it) */
	size_t cap;
	struct pcapng_if *ifs;   /* owned: this section's interfaces */
	size_t n_ifs;
	int have_dlt;         /* an IDB was read: c->dlt is the file's link type */
};

struct capture {
	pcap_t *p;            /* owned; NULL for a mapped file or a pcapng input */
	struct pcapng *ng;    /* owned; a pcapng input */
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
	int failed;           /* mapped, pcapng: damage was reported; stays at it */
	volatile int broken;  /* mapped: capture_break was called */
	char err[PCAP_ERRBUF_SIZE + 64];
	uint64_t count;       /* frames read, the filtered ones too */
	struct bpf_program prog;   /* owned (pcap_freecode) when has_prog */
	int has_prog;
	uint64_t filtered;
	int damage_counted;   /* g_stats.capture_damaged counted for this input */
	void (*secrets)(void *, const uint8_t *, size_t);
	void *secrets_ctx;
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

/* A mapped file: neither libpcap nor the pcapng reader reads it. */
static int is_mapped(const struct capture *c)
{
	return !c->p && !c->ng;
}

int capture_start_pager(struct capture *c)
{
	struct pager *pg;

	if (c->pager)
		return 0;
	if (!is_mapped(c))
		return -1;   /* libpcap or the pcapng reader reads it: nothing mapped */
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

/* Map the regular file open on fd when it is in a format this file reads
 * as libpcap would (see the top of the file): 1, c set up (fd may be
 * closed: the mapping keeps the file).  0 otherwise, including every
 * error: the file is then read as a stream, and libpcap says what is
 * wrong with it in its own words. */
static int mapped_open_fd(struct capture *c, int fd)
{
	const int host_be = __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__;
	struct stat st;
	struct buf h;
	uint32_t magic, zone, sigfigs, snaplen, linktype;
	uint16_t major, minor;
	size_t size;
	void *map;
	int be, dlt;

	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < (off_t)PCAP_FILE_HDR ||
	    (uintmax_t)st.st_size > SIZE_MAX)
		return 0;
	size = (size_t)st.st_size;
	map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
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

static int no_mmap(void)
{
	const char *v = getenv("CERTSENTRY_NO_MMAP");

	return v && *v && strcmp(v, "0") != 0;
}

/* mapped_open_fd on a path. */
static int mapped_open(struct capture *c, const char *path)
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
                       uint32_t *wirelen, uint64_t *ts_us)
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
	*wirelen = wire;
	*ts_us = (uint64_t)(int64_t)(int32_t)sec * 1000000u + (uint64_t)sub;
	return 1;
}

int capture_frames_stable(const struct capture *c)
{
	return is_mapped(c);
}

void capture_hold(struct capture *c, const uint8_t *oldest)
{
	if (!is_mapped(c))
		return;
	if (!oldest)
		c->hold = SIZE_MAX;
	else if (oldest >= c->m.p && oldest < c->m.p + c->m.len)
		c->hold = (size_t)(oldest - c->m.p);
	/* else: not a frame of c; a bug of the caller's, and only advice */
}

/* ---- pcapng ---------------------------------------------------------------- */

/* draft-ietf-opsawg-pcapng §4 (blocks), §4.1 (SHB), §4.2 (IDB), §4.3
 * (EPB), §4.4 (SPB), §4.7 (DSB), Appendix A (the obsolete Packet Block). */
#define PCAPNG_SHB          0x0A0D0D0Au
#define PCAPNG_IDB          0x00000001u
#define PCAPNG_PB           0x00000002u
#define PCAPNG_SPB          0x00000003u
#define PCAPNG_EPB          0x00000006u
#define PCAPNG_DSB          0x0000000Au
#define PCAPNG_BOM          0x1A2B3C4Du
#define PCAPNG_TLS_KEYLOG   0x544c534bu   /* "TLSK" */
#define PCAPNG_BLOCK_MIN    12u           /* type, two lengths */
#define PCAPNG_SHB_MIN      28u           /* ... BOM, version, section length */
#define PCAPNG_OPT_TSRESOL  9u
#define PCAPNG_OPT_TSOFFSET 14u
/* Bytes read from the stream at a time into a block whose length says
 * more: a damaged length does not allocate 16 MB for a file of 100 bytes. */
#define PCAPNG_GROW         (64u * 1024u)

static int ng_fail(struct capture *c, uint64_t at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Damage: said once, with the block's offset; the reader stays at -1. */
static int ng_fail(struct capture *c, uint64_t at, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(c->err, sizeof(c->err), "pcapng block at byte %llu: ",
	                 (unsigned long long)at);

	va_start(ap, fmt);
	if (n > 0 && (size_t)n < sizeof(c->err))
		vsnprintf(c->err + n, sizeof(c->err) - (size_t)n, fmt, ap);
	va_end(ap);
	c->failed = 1;
	return -1;
}

/* Exactly n bytes of the stream into c->ng->blk at off, growing the
 * buffer as bytes arrive.  0, or -1 with *got the bytes there were. */
static int ng_read(struct pcapng *ng, size_t off, size_t n, size_t *got)
{
	size_t done = 0;

	while (done < n) {
		size_t want = n - done, r;

		if (want > PCAPNG_GROW)
			want = PCAPNG_GROW;
		if (off + done + want > ng->cap) {
			size_t cap = ng->cap ? ng->cap : PCAPNG_GROW;
			uint8_t *b;

			while (cap < off + done + want)
				cap *= 2;
			b = realloc(ng->blk, cap);   /* owned by ng; ng_free */
			if (!b)
				break;
			ng->blk = b;
			ng->cap = cap;
		}
		r = fread(ng->blk + off + done, 1, want, ng->f);
		done += r;
		if (r < want)
			break;
	}
	*got = done;
	ng->off += done;
	return done == n ? 0 : -1;
}

static void ng_free(struct pcapng *ng)
{
	if (!ng)
		return;
	if (ng->f)
		fclose(ng->f);
	free(ng->blk);
	free(ng->ifs);
	free(ng);
}

/* The DLT_ value of a LINKTYPE_ value (libpcap's linktype_to_dlt for the
 * link types decode.c reads; the others are equal below 104, or unread). */
static int ng_dlt(uint16_t linktype)
{
	int dlt = mapped_dlt(linktype, 0);

	return dlt >= 0 ? dlt : linktype;
}

/* The options of an IDB: if_tsresol and if_tsoffset. */
static int ng_if_options(struct capture *c, struct buf *b, struct pcapng_if *ifc, uint64_t at)
{
	const int be = c->ng->be;

	while (buf_left(b) >= 4) {
		uint16_t code, len;
		const uint8_t *v;
		struct buf vb;

		if (rd16(b, be, &code) < 0 || rd16(b, be, &len) < 0)
			break;
		if (code == 0)
			return 0;   /* opt_endofopt */
		if (buf_bytes(b, len, &v) < 0 || buf_skip(b, (4u - (len & 3u)) & 3u) < 0)
			return ng_fail(c, at, "Interface Description Block option %u longer than the "
			               "block", code);
		buf_init(&vb, v, len);
		if (code == PCAPNG_OPT_TSRESOL) {
			uint8_t r;

			if (len != 1 || buf_u8(&vb, &r) < 0)
				return ng_fail(c, at, "if_tsresol of %u bytes", len);
			ifc->pow2 = (r & 0x80) != 0;
			ifc->exp = r & 0x7f;
			/* libpcap refuses what a 64-bit count cannot hold. */
			if ((ifc->pow2 && ifc->exp > 63) || (!ifc->pow2 && ifc->exp > 19))
				return ng_fail(c, at, "if_tsresol %u out of range", r);
		} else if (code == PCAPNG_OPT_TSOFFSET) {
			uint32_t hi, lo;

			if (len != 8 || rd32(&vb, be, &hi) < 0 || rd32(&vb, be, &lo) < 0)
				return ng_fail(c, at, "if_tsoffset of %u bytes", len);
			ifc->offset = (int64_t)((uint64_t)hi << 32 | lo);
		}
	}
	return 0;
}

static int ng_idb(struct capture *c, struct buf *b, uint64_t at)
{
	struct pcapng *ng = c->ng;
	struct pcapng_if ifc = { 0, 0, 0, 6, 0 };
	uint16_t linktype, reserved;
	uint32_t snaplen;

	if (rd16(b, ng->be, &linktype) < 0 || rd16(b, ng->be, &reserved) < 0 ||
	    rd32(b, ng->be, &snaplen) < 0)
		return ng_fail(c, at, "Interface Description Block too short");
	if (ng_if_options(c, b, &ifc, at) < 0)
		return -1;
	ifc.dlt = ng_dlt(linktype);
	/* libpcap takes a snaplen of 0 or beyond its maximum as the maximum. */
	ifc.snaplen = snaplen == 0 || snaplen > CAPTURE_MAX_SNAPLEN ? CAPTURE_MAX_SNAPLEN : snaplen;
	if (ng->have_dlt && ifc.dlt != c->dlt)
		return ng_fail(c, at, "an interface has link type %u, the first had another "
		               "(one link type a file)", linktype);
	if (ng->n_ifs >= CS_PCAPNG_MAX_IFACES) {
		g_stats.capture_block_limit++;
		return ng_fail(c, at, "more than %u interfaces in a section", CS_PCAPNG_MAX_IFACES);
	}
	if (!ng->ifs) {
		ng->ifs = calloc(CS_PCAPNG_MAX_IFACES, sizeof(*ng->ifs));   /* owned by ng */
		if (!ng->ifs)
			return ng_fail(c, at, "out of memory");
	}
	ng->ifs[ng->n_ifs++] = ifc;
	if (!ng->have_dlt) {
		c->dlt = ifc.dlt;
		c->snaplen = ifc.snaplen;
		ng->have_dlt = 1;
	}
	return 0;
}

/* A packet's time in microseconds: units of the interface's resolution,
 * cut down as libpcap's nanoseconds are cut by capture_next. */
static uint64_t ng_time(const struct pcapng_if *ifc, uint64_t t)
{
	uint64_t units = 1, sec, frac, us;

	if (ifc->pow2) {
		sec = ifc->exp >= 64 ? 0 : t >> ifc->exp;
		frac = t - (sec << ifc->exp);
		us = (uint64_t)(((unsigned __int128)frac * 1000000u) >> ifc->exp);
	} else {
		for (unsigned i = 0; i < ifc->exp; i++)
			units *= 10;
		sec = t / units;
		frac = t % units;
		us = units >= 1000000u ? frac / (units / 1000000u) : frac * (1000000u / units);
	}
	return (sec + (uint64_t)ifc->offset) * 1000000u + us;
}

/* The SHB starting a section: its byte order, its version. */
static int ng_shb(struct capture *c, uint64_t at)
{
	struct pcapng *ng = c->ng;
	struct buf b;
	uint16_t major, minor;

	/* After the type, the length and the byte-order magic. */
	buf_init(&b, ng->blk + 12, 4);
	if (rd16(&b, ng->be, &major) < 0 || rd16(&b, ng->be, &minor) < 0)
		abort();   /* a bug: the block is at least PCAPNG_SHB_MIN bytes */
	if (major != 1)
		return ng_fail(c, at, "unsupported pcapng version %u.%u", major, minor);
	/* A new section: interfaces are numbered anew. */
	ng->n_ifs = 0;
	return 0;
}

/* The next block into ng->blk: 1 (*type, its *len bytes), 0 at the end
 * of the stream between blocks, -1 on damage. */
static int ng_block(struct capture *c, uint32_t *type, uint32_t *len, uint64_t *at)
{
	struct pcapng *ng = c->ng;
	uint32_t total, trailer, bom;
	size_t got;
	struct buf b;

	*at = ng->off;
	if (ng_read(ng, 0, 8, &got) < 0) {
		if (got == 0 && !ferror(ng->f))
			return 0;
		if (ferror(ng->f))
			return ng_fail(c, *at, "read error: %s", strerror(errno));
		return ng_fail(c, *at, "cut short: 8 header bytes wanted, %zu left", got);
	}
	buf_init(&b, ng->blk, 8);
	(void)rd32(&b, ng->be, type);
	/* The SHB's type reads the same in either byte order; the section's
	 * order is in its magic, which follows the length. */
	if (*type == PCAPNG_SHB) {
		if (ng_read(ng, 8, 4, &got) < 0)
			return ng_fail(c, *at, "cut short in a Section Header Block");
		buf_init(&b, ng->blk + 8, 4);
		(void)buf_be32(&b, &bom);
		if (bom == PCAPNG_BOM)
			ng->be = 1;
		else if (bom == 0x4D3C2B1Au)
			ng->be = 0;
		else
			return ng_fail(c, *at, "bad byte-order magic 0x%08x", bom);
	}
	buf_init(&b, ng->blk + 4, 4);
	(void)rd32(&b, ng->be, &total);
	if (total < PCAPNG_BLOCK_MIN || total % 4 != 0 ||
	    (*type == PCAPNG_SHB && total < PCAPNG_SHB_MIN))
		return ng_fail(c, *at, "bad block length %u", total);
	if (total > CS_PCAPNG_MAX_BLOCK) {
		g_stats.capture_block_limit++;
		return ng_fail(c, *at, "block length %u over the limit of %u bytes", total,
		               CS_PCAPNG_MAX_BLOCK);
	}
	{
		size_t have = *type == PCAPNG_SHB ? 12 : 8;

		if (ng_read(ng, have, total - have, &got) < 0) {
			if (ferror(ng->f))
				return ng_fail(c, *at, "read error: %s", strerror(errno));
			return ng_fail(c, *at, "cut short: block of %u bytes, %zu there", total,
			               have + got);
		}
	}
	buf_init(&b, ng->blk + total - 4, 4);
	(void)rd32(&b, ng->be, &trailer);
	if (trailer != total)
		return ng_fail(c, *at, "block length %u at its start, %u at its end", total,
		               trailer);
	*len = total;
	if (*type == PCAPNG_SHB)
		return ng_shb(c, *at) < 0 ? -1 : 1;
	return 1;
}

/* A DSB: its TLS key log to the caller. */
static int ng_dsb(struct capture *c, struct buf *b, uint64_t at)
{
	uint32_t stype, slen;
	const uint8_t *sec;

	if (rd32(b, c->ng->be, &stype) < 0 || rd32(b, c->ng->be, &slen) < 0 ||
	    buf_bytes(b, slen, &sec) < 0)
		return ng_fail(c, at, "malformed Decryption Secrets Block");
	/* SSH, WireGuard, ZigBee... secrets: not ours. */
	if (stype == PCAPNG_TLS_KEYLOG && c->secrets)
		c->secrets(c->secrets_ctx, sec, slen);
	return 0;
}

/* Blocks up to the next packet: 1 and the frame (a view into the block,
 * valid until the next call), 0 at the end, -1 on damage.  first: the
 * open, which stops at the first IDB instead. */
static int ng_next(struct capture *c, const uint8_t **frame, size_t *caplen, uint32_t *wirelen,
                   uint64_t *ts_us, int first)
{
	struct pcapng *ng = c->ng;

	if (c->failed)
		return -1;
	for (;;) {
		uint32_t type, len = 0, ifid = 0, hi = 0, lo = 0, cap, wire;
		uint16_t id16, drops;
		uint64_t at;
		struct buf b;
		const struct pcapng_if *ifc;
		const uint8_t *data;
		int rc;

		if (c->broken)
			return 0;
		rc = ng_block(c, &type, &len, &at);
		if (rc <= 0)
			return rc;
		buf_init(&b, ng->blk + 8, len - PCAPNG_BLOCK_MIN);
		switch (type) {
		case PCAPNG_SHB:
			continue;
		case PCAPNG_IDB:
			if (ng_idb(c, &b, at) < 0)
				return -1;
			if (first)
				return 1;
			continue;
		case PCAPNG_DSB:
			if (ng_dsb(c, &b, at) < 0)
				return -1;
			continue;
		case PCAPNG_EPB:
			if (rd32(&b, ng->be, &ifid) < 0 || rd32(&b, ng->be, &hi) < 0 ||
			    rd32(&b, ng->be, &lo) < 0 || rd32(&b, ng->be, &cap) < 0 ||
			    rd32(&b, ng->be, &wire) < 0)
				return ng_fail(c, at, "Enhanced Packet Block too short");
			break;
		case PCAPNG_PB:
			if (rd16(&b, ng->be, &id16) < 0 || rd16(&b, ng->be, &drops) < 0 ||
			    rd32(&b, ng->be, &hi) < 0 || rd32(&b, ng->be, &lo) < 0 ||
			    rd32(&b, ng->be, &cap) < 0 || rd32(&b, ng->be, &wire) < 0)
				return ng_fail(c, at, "Packet Block too short");
			ifid = id16;
			break;
		case PCAPNG_SPB:
			if (rd32(&b, ng->be, &wire) < 0)
				return ng_fail(c, at, "Simple Packet Block too short");
			/* The captured length is what the block holds, up to the
			 * original length. */
			cap = buf_left(&b) < wire ? (uint32_t)buf_left(&b) : wire;
			break;
		default:
			continue;   /* statistics, name resolution, custom...: not ours */
		}
		if (first)
			return ng_fail(c, at, "a packet before any Interface Description Block");
		if (ifid >= ng->n_ifs)
			return ng_fail(c, at, "packet of interface %u, but %zu described", ifid,
			               ng->n_ifs);
		ifc = &ng->ifs[ifid];
		if (cap > CAPTURE_MAX_SNAPLEN)
			return ng_fail(c, at, "invalid packet capture length %u, bigger than maximum "
			               "of %u", cap, CAPTURE_MAX_SNAPLEN);
		if (buf_bytes(&b, cap, &data) < 0)
			return ng_fail(c, at, "captured length %u longer than the block", cap);
		if (type == PCAPNG_SPB && cap > ifc->snaplen)
			cap = ifc->snaplen;
		c->count++;
		*frame = data;
		*caplen = cap;
		*wirelen = wire;
		*ts_us = ng_time(ifc, (uint64_t)hi << 32 | lo);
		return 1;
	}
}

/* ---- files ------------------------------------------------------------------ */

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
	pcap_t *dead = pcap_open_dead(capture_datalink(c), (int)CAPTURE_MAX_SNAPLEN);

	if (!dead) {
		snprintf(err, errlen, "%s: --bpf: out of memory", name);
		return -1;
	}
	if (pcap_compile(dead, &c->prog, bpf, 1, PCAP_NETMASK_UNKNOWN) != 0) {
		snprintf(err, errlen, "%s: --bpf: %s", name, pcap_geterr(dead));
		pcap_close(dead);
		return -1;
	}
	pcap_close(dead);
	c->has_prog = 1;
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
		c->ng = calloc(1, sizeof(*c->ng));   /* owned by c; ng_free */
		if (!c->ng) {
			fclose(pf);
			snprintf(err, errlen, "%s: out of memory", name);
			return -1;
		}
		c->ng->f = pf;
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
		const uint8_t *frame;
		size_t caplen;
		uint32_t wire;
		uint64_t ts;
		int rc = ng_next(c, &frame, &caplen, &wire, &ts, 1);

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
	if (!mapped_open(c, path)) {
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
		ng_free(c->ng);
	} else if (c->m.p) {
		stop_pager(c);   /* before the mapping goes */
		munmap((void *)(uintptr_t)c->m.p, c->m.len);
	}
	if (c->has_prog)
		pcap_freecode(&c->prog);
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
		return ng_next(c, frame, caplen, wirelen, ts_us, 0);
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
		if (rc != 1 || !c->has_prog)
			return rc;
		memset(&h, 0, sizeof(h));
		h.caplen = (bpf_u_int32)*caplen;
		h.len = wire;
		if (pcap_offline_filter(&c->prog, &h, *frame))
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
