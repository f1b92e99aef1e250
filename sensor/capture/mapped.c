/*
 * mapped.c - the classic pcap reader on a mapped file, and its pager
 * (part of the capture module: include/capture/capture.h; what it shares with
 * capture.c and pcapng.c is sensor/capture/capture_int.h).
 *
 * libpcap reads a file with fread: per packet a copy from the page cache
 * into stdio's buffer and another into its own, and on bulk traffic that
 * reading is a third of certsentry's time.  A regular file in the
 * classic pcap format (draft-ietf-opsawg-pcap: a 24-byte file header,
 * then records of a 16-byte header and caplen bytes) is instead mapped
 * read-only and its records walked in place: a frame is a view into the
 * mapping, valid until capture_close (see capture_frames_stable), so
 * --workers can pass workers a pointer instead of a copy
 * (sensor/run/dispatch.c).
 *
 * The file is hostile: every length is checked against what is left of
 * the mapping before it is used, through include/core/buf.h, and damage is
 * reported as libpcap reports it, with libpcap's words: mapped_next
 * returns -1 and c->err says "truncated dump file; tried to read 16
 * header bytes, only got 5", "invalid packet capture length 300000,
 * bigger than snaplen of 65535", ...  What libpcap accepts is accepted
 * alike: a record longer than the file's snaplen (but within libpcap's
 * MAXIMUM_SNAPLEN) is cut to the snaplen, timestamps are the file's
 * signed 32-bit fields, nanoseconds are divided down as on the libpcap
 * path.  Anything this reader does not do exactly as libpcap goes to
 * libpcap instead (mapped_open_fd says no, and capture.c reads the file
 * as a stream): pcapng, versions other than 2.4, the modified-format
 * magics, a snaplen of 0 or above MAXIMUM_SNAPLEN (libpcap adjusts them),
 * link types other than those decode.c reads (libpcap maps LINKTYPE_
 * values to DLT_ values and knows their names: capture_linktype_dlt),
 * bits above the link type's low 16 (FCS information), Linux cooked
 * captures written in the other byte order (libpcap swaps fields of
 * their headers), a file shorter than its header, and a file that cannot
 * be mapped.
 *
 * Known limit: a mapped file truncated by another process while it is
 * read kills certsentry with SIGBUS, where libpcap would report a
 * truncated file.  A file that grows is read as it was when opened.
 *
 * Must not: include pcap.h (capture.c is libpcap's one file), open a
 * path or choose a reader (capture.c), decode a frame (decode.c) or know
 * about flows.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "capture_int.h"

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

int mapped_start_pager(struct capture *c)
{
	struct pager *pg;

	if (c->pager)
		return 0;
	pg = calloc(1, sizeof(*pg));   /* owned by c; stopped in mapped_close */
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

/* What this reader takes is at the top of the file; anything else is
 * left to libpcap (sensor/capture/capture_int.h). */
int mapped_open_fd(struct capture *c, int fd)
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
	dlt = capture_linktype_dlt(linktype, be != host_be);
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
int mapped_next(struct capture *c, const uint8_t **frame, size_t *caplen, uint32_t *wirelen,
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
	*wirelen = wire;
	*ts_us = (uint64_t)(int64_t)(int32_t)sec * 1000000u + (uint64_t)sub;
	return 1;
}

void mapped_hold(struct capture *c, const uint8_t *oldest)
{
	if (!oldest)
		c->hold = SIZE_MAX;
	else if (oldest >= c->m.p && oldest < c->m.p + c->m.len)
		c->hold = (size_t)(oldest - c->m.p);
	/* else: not a frame of c; a bug of the caller's, and only advice */
}

void mapped_close(struct capture *c)
{
	stop_pager(c);   /* before the mapping goes */
	munmap((void *)(uintptr_t)c->m.p, c->m.len);
}
