/*
 * capture.h - packet sources.  The only module that includes pcap.h.
 * Files may be pcap or pcapng; "-" reads standard input; interfaces are
 * read live.
 */
#ifndef CS_CAPTURE_H
#define CS_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

struct capture;

/* How a file or standard input is read. */
struct capture_file_opts {
	/* A BPF filter applied to every frame, compiled for the file's link
	 * type (capture_bpf_check says whether it compiles at all); NULL: none. */
	const char *bpf;
	/* The TLS key logs a pcapng input carries in Decryption Secrets
	 * Blocks (secrets type 0x544c534b, as `editcap --inject-secrets
	 * tls,FILE` writes them), handed over in stream order as the blocks
	 * are read: a DSB precedes the packets it opens.  secrets is a view
	 * valid for the call; NULL: not wanted. */
	void (*secrets)(void *ctx, const uint8_t *secrets, size_t len);
	void *secrets_ctx;
};

/* NULL with err = "FILE: reason" when the file cannot be opened or its
 * header is not a capture (secrets found before that were handed over).
 * "-" is standard input.  A regular file in the classic pcap format is
 * mapped (mmap) and read in place; pcapng (a file, a pipe or standard
 * input alike) is read by sensor/capture/pcapng.c, certsentry's own block reader; other classic
 * pcap inputs through libpcap.  CERTSENTRY_NO_MMAP=1 in the environment
 * sends every classic pcap file to libpcap.  o may be NULL. */
struct capture *capture_open_file(const char *path, const struct capture_file_opts *o,
                                  char *err, size_t errlen);
/* Open path ("-": standard input) for reading only, to be read later by
 * capture_open_fd: lets a caller open every input before it gives up its
 * privileges, and parse none of them before.  A FIFO waits for its writer
 * here.  The descriptor, or -1 with err "FILE: reason". */
int capture_input_open(const char *path, char *err, size_t errlen);
/* capture_open_file on a descriptor from capture_input_open (owned by the
 * capture from now on, closed even on failure); name is for messages. */
struct capture *capture_open_fd(int fd, const char *name, const struct capture_file_opts *o,
                                char *err, size_t errlen);
/* Does expr compile as a BPF filter (for Ethernet)?  0, or -1 with
 * libpcap's message in err. */
int capture_bpf_check(const char *expr, char *err, size_t errlen);
/* Frames read from a file but not returned because the filter rejected
 * them. */
uint64_t capture_filtered(const struct capture *c);

/* Live capture on an interface (libpcap).  bpf NULL: no filter.  With
 * fanout_group > 0 the socket joins a Linux PACKET_FANOUT group hashing on
 * the flow, so both directions of a flow reach the same worker. */
struct capture_live_opts {
	const char *iface;
	const char *bpf;
	int snaplen;
	int buffer_mb;       /* kernel buffer */
	int promisc;
	int fanout_group;    /* 0: none */
};

struct capture *capture_open_live(const struct capture_live_opts *o, char *err,
                                  size_t errlen);
void capture_close(struct capture *c);

/* Kernel counters of a live capture: 0, or -1 when there are none. */
int capture_kernel_stats(struct capture *c, uint64_t *packets, uint64_t *drops,
                         uint64_t *ifdrops);

/* Switch a live capture to non-blocking reads and return the descriptor
 * to poll(2) for it, or -1. */
int capture_pollable_fd(struct capture *c);

/* Make a blocked capture_next return (from a signal handler too). */
void capture_break(struct capture *c);

int capture_datalink(const struct capture *c);
const char *capture_datalink_name(const struct capture *c);

/* Next frame: 1 and the frame (a view valid until the next call, or
 * until capture_close when capture_frames_stable), 0 at the end (or,
 * live, after the read timeout with nothing to read: call again), -1 on a
 * damaged file or a failed interface (message in capture_error; for a
 * pcapng input it names the byte offset of the damaged block), -2 when
 * capture_break was called.  Frames before the damage were returned. */
int capture_next(struct capture *c, const uint8_t **frame, size_t *caplen,
                 uint64_t *ts_us);
/* 1 when every frame capture_next returns stays valid, unchanged, until
 * capture_close (a mapped file): a reader may hand out the view itself
 * instead of a copy, and must then keep c open until its consumers are
 * done with the frames. */
int capture_frames_stable(const struct capture *c);
/* With stable frames: the oldest frame still in use elsewhere (NULL: none),
 * so that the pages from it on stay in memory.  Only advice: a frame in a
 * page let go is still valid, and read again costs a page fault. */
void capture_hold(struct capture *c, const uint8_t *oldest);
/* A mapped file: from now on a thread of c's reads pages ahead of the
 * reader and unmaps those behind, off the reader's time (mapped.c "The
 * pager").  For a reader with CPUs to spare (--workers); 0, or -1 when
 * c is not a mapped file or the thread cannot start (the reader then
 * keeps doing it itself). */
int capture_start_pager(struct capture *c);
const char *capture_error(const struct capture *c);
/* Frames read so far (for "FILE: packet N: reason"). */
uint64_t capture_count(const struct capture *c);
/* Is this a live capture (end of input means "nothing yet")? */
int capture_is_live(const struct capture *c);

#endif
