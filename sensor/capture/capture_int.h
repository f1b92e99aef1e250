/*
 * capture_int.h - what the capture module's files share
 * (sensor/capture/capture.c, mapped.c, pcapng.c) and nothing else
 * includes: struct capture, the two readers certsentry has of its own,
 * and the one piece of libpcap's knowledge they need.  The contract with
 * the rest of certsentry is include/capture/capture.h.
 *
 * No pcap.h here: capture.c is the only file that includes it (one
 * module per library), so the libpcap handle and the compiled filter are
 * pointers to types this header only names, and the link types the
 * readers find in a file are turned into DLT_ values by capture.c
 * (capture_linktype_dlt).
 */
#ifndef CS_CAPTURE_INT_H
#define CS_CAPTURE_INT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/buf.h"
#include "capture/capture.h"

/* libpcap's MAXIMUM_SNAPLEN: no record may claim more (pcap-int.h). */
#define CAPTURE_MAX_SNAPLEN 262144u
/* struct capture's message: libpcap's PCAP_ERRBUF_SIZE (256, which
 * capture.c checks) and room for the file's place before it. */
#define CAPTURE_ERR_LEN     (256u + 64u)

struct pcap;          /* libpcap's pcap_t: capture.c's alone */
struct bpf_program;   /* libpcap's compiled filter: capture.c's alone */
struct pcapng;        /* pcapng.c's reader state */
struct pager;         /* mapped.c's thread */

/* One input.  Who reads it: libpcap (p), the pcapng reader (ng), or, with
 * neither, the mapped reader (m.p is the mapping).  The fields marked
 * "mapped" are mapped.c's, the rest the open and capture_next's
 * (capture.c), which every reader fills as it goes (err, count, failed,
 * dlt, snaplen, nano). */
struct capture {
	struct pcap *p;       /* owned; NULL for a mapped file or a pcapng input */
	struct pcapng *ng;    /* owned (pcapng_close); a pcapng input */
	/* A mapped file: m.p is the mapping (owned; munmap in mapped_close),
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
	int dlt;              /* mapped, pcapng: the DLT_ value pcap_datalink would give */
	int be;               /* mapped: the file is big-endian */
	uint32_t snaplen;     /* mapped, pcapng: 1..CAPTURE_MAX_SNAPLEN */
	int failed;           /* mapped, pcapng: damage was reported; stays at it */
	volatile int broken;  /* mapped, pcapng: capture_break was called */
	char err[CAPTURE_ERR_LEN];
	uint64_t count;       /* frames read, the filtered ones too */
	struct bpf_program *prog;   /* owned (pcap_freecode, free); NULL: no --bpf */
	uint64_t filtered;
	int damage_counted;   /* g_stats.capture_damaged counted for this input */
	void (*secrets)(void *, const uint8_t *, size_t);
	void *secrets_ctx;
	int nano;             /* timestamps in nanoseconds */
	int live;
};

/* A field of the file's byte order (be: big-endian).  static inline: each
 * file gets its own, inlined in the per-record loops. */
static inline int rd16(struct buf *b, int be, uint16_t *v)
{
	if (buf_be16(b, v) < 0)
		return -1;
	if (!be)
		*v = (uint16_t)(*v >> 8 | *v << 8);
	return 0;
}

static inline int rd32(struct buf *b, int be, uint32_t *v)
{
	return be ? buf_be32(b, v) : buf_le32(b, v);
}

/* ---- capture.c ------------------------------------------------------------ */

/* The DLT_ value libpcap's linktype_to_dlt gives for a LINKTYPE_ value,
 * for the link types decode.c reads; -1 for the others.  swapped: the
 * file's byte order is not the host's (see capture.c). */
int capture_linktype_dlt(uint32_t linktype, int swapped);

/* ---- mapped.c: classic pcap files, mapped --------------------------------- */

/* Map the regular file open on fd when it is in a format mapped.c reads
 * as libpcap would: 1, c set up (fd may be closed: the mapping keeps the
 * file).  0 otherwise, including every error: the file is then read as a
 * stream, and libpcap says what is wrong with it in its own words. */
int mapped_open_fd(struct capture *c, int fd);
/* capture_next's frame from a mapped file: 1, 0 at the end (or after
 * capture_break), -1 on damage (c->err in libpcap's words). */
int mapped_next(struct capture *c, const uint8_t **frame, size_t *caplen, uint32_t *wirelen,
                uint64_t *ts_us);
/* capture_hold, capture_start_pager on a mapped file. */
void mapped_hold(struct capture *c, const uint8_t *oldest);
int mapped_start_pager(struct capture *c);
/* The pager stopped, the mapping gone. */
void mapped_close(struct capture *c);

/* ---- pcapng.c: the pcapng block reader ------------------------------------ */

/* A pcapng stream on f (owned by c from now on, closed even on failure),
 * read from its first byte: 0, or -1 out of memory. */
int pcapng_open(struct capture *c, FILE *f);
/* The blocks up to the first Interface Description Block (c->dlt set,
 * Decryption Secrets Blocks before it handed over): 1, 0 when the stream
 * ends first, -1 on damage (c->err names the block's byte offset). */
int pcapng_first(struct capture *c);
/* capture_next's frame from a pcapng stream (a view into the block,
 * valid until the next call): 1, 0 at the end (or after capture_break),
 * -1 on damage. */
int pcapng_next(struct capture *c, const uint8_t **frame, size_t *caplen, uint32_t *wirelen,
                uint64_t *ts_us);
void pcapng_close(struct capture *c);

#endif
