/*
 * ring.h - the queue between the file reader and one worker (dispatch.c):
 * single producer, single consumer, variable-size records in a fixed
 * buffer.  The per-record calls are inline here (they run once a packet
 * on both sides); publishing, waiting and set-up are ring.c.  Used only by
 * sensor/run/dispatch.c and ring.c.
 *
 * Rings.  The reader and each worker share one ring: a single-producer,
 * single-consumer queue of variable-size records in a fixed buffer of
 * CS_DISPATCH_RING_BYTES.  Positions count bytes since the start and
 * never wrap in 2^64, so "full" and "empty" need no extra flag.  The only
 * synchronisation on the packet path is a release store of one side's
 * position and an acquire load of the other's, and each side publishes
 * its position only every DISPATCH_BATCH records (or before it waits): a
 * cache line crosses between cores once per batch, not per packet.  A side
 * with nothing to do polls briefly, then sleeps on the ring's condition
 * variable after raising a flag; the other side takes the mutex to signal
 * only when it sees that flag.  The flag and the position are stored and
 * loaded sequentially consistent, so of "I sleep" and "I published" at
 * least one side sees the other's store: no wake-up is lost.  Neither
 * side is woken for a trickle: a reader sleeping on a full ring once a
 * quarter of it is free, a worker sleeping on an empty ring once a
 * quarter holds records (or at the end of input, or when the reader
 * itself is about to wait), so that when the reader is the bottleneck
 * (bulk traffic of decided flows costs an engine little) the workers
 * sleep through long stretches instead of waking every few packets.  A
 * worker asleep for DISPATCH_IDLE_MS also reads what the reader wrote but
 * did not publish ("written", stored after every record, read only then):
 * a reader blocked on a slow pipe must not hold back a decided alert.
 */
#ifndef CS_RING_H
#define CS_RING_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "core/cs_limits.h"

#define DISPATCH_BATCH  64    /* records between two publications of a position */
#define DISPATCH_SPIN   256   /* polls of the other side before sleeping */
/* A worker with nothing to read looks this often at what the reader wrote
 * but has not published yet: reading a pipe that trickles (tcpdump -w - |
 * certsentry -r -), the reader may block in read() for minutes with less
 * than a batch written, and this bounds how late its alerts come. */
#define DISPATCH_IDLE_MS 200
#define CACHE_LINE      64

#define RING_SIZE       ((uint64_t)CS_DISPATCH_RING_BYTES)
#define RING_MASK       (RING_SIZE - 1)
/* Of a ring's capacity (RING_SIZE, or DISPATCH_VIEW_BYTES for views):
 * the free bytes that wake a waiting reader, the unread bytes that wake a
 * waiting worker: a worker is woken for about 1200 frames at a time.  (With
 * a sixteenth of a 256 KB ring, two workers reading the bench capture
 * made 4,500-7,000 context switches a run; with this, about 1,000.) */
#define RING_WAKE_ROOM(cap)  ((cap) / 4)
#define RING_WAKE_DATA(cap)  ((cap) / 4)

enum rec_kind {
	REC_COPY = 1,    /* a decoded frame and a copy of it: a struct decoded,
	                    then the frame's bytes, which its views point into */
	REC_PAD,         /* filler to the end of the buffer */
	REC_SOURCE,      /* the file the next frames come from: a const char * */
	REC_CLOCK,       /* the reader's clock (ts_us) */
	REC_END,         /* end of input; ts_us: the reader's clock */
	REC_VIEW,        /* a decoded frame left where it lies: a struct decoded
	                    (see "Views") */
	REC_SEG,         /* a TCP segment left where it lies: a struct seg */
};

/* One record: this header, then len bytes, padded to a multiple of
 * sizeof(struct rec) so every header stays aligned. */
struct rec {
	uint64_t ts_us;
	uint32_t len;
	uint32_t kind;          /* enum rec_kind */
};

_Static_assert(sizeof(struct rec) == 16, "record header: 16 bytes");
_Static_assert((RING_SIZE & RING_MASK) == 0, "the ring size is a power of two");

struct ring {
	uint8_t *buf;                        /* owned: RING_SIZE bytes */
	pthread_mutex_t lock;                /* only to sleep and to wake */
	pthread_cond_t data, room;
	/* The reader's side. */
	_Alignas(CACHE_LINE) _Atomic uint64_t head;   /* bytes before it are written */
	uint64_t w_pos;                      /* next write, not yet published */
	uint64_t w_cap;                      /* capacity in use: RING_SIZE, or
	                                        DISPATCH_VIEW_BYTES for views */
	uint64_t w_tail;                     /* tail as last loaded */
	uint64_t w_clock;                    /* clock the worker's engine has reached */
	unsigned w_batch;                    /* records since head was published */
	/* Every record, as written (release): read by an idle worker only, so
	 * on its own line, which the worker's polling of head does not touch. */
	_Alignas(CACHE_LINE) _Atomic uint64_t written;
	/* The worker's side. */
	_Alignas(CACHE_LINE) _Atomic uint64_t tail;   /* bytes before it are read */
	uint64_t r_pos;                      /* next read, not yet published */
	uint64_t r_head;                     /* readable up to here */
	unsigned r_batch;
	/* Sleepers. */
	_Alignas(CACHE_LINE) _Atomic int want_data;   /* the worker sleeps: empty */
	_Atomic int want_room;                        /* the reader sleeps: full */
	/* w_cap, for the worker to know when to wake the reader; read only
	 * then.  A stale value only wakes the reader early or late, never
	 * not at all: a worker that empties its ring always wakes it. */
	_Atomic uint64_t cap;
};

/* ---- ring.c ---- */

/* force: wake a sleeping worker whatever it has to read. */
void ring_publish_head(struct ring *r, int force);
/* Wait until need bytes are free (what was written is published first). */
void ring_wait_room(struct ring *r, size_t need);
/* A record with no bytes after the header. */
void ring_put_mark(struct ring *r, enum rec_kind kind, uint64_t ts_us);
void ring_publish_tail(struct ring *r);
/* Wait until there is more to read; returns how far the worker may read
 * (beyond r_pos).  What was read is released first. */
uint64_t ring_wait_data(struct ring *r);
/* The capacity a ring is used with from now on. */
void ring_set_cap(struct ring *r, uint64_t cap);
/* The buffer (RING_SIZE bytes, owned by the ring) and its locks: 0, or -1. */
int ring_init(struct ring *r);
void ring_destroy(struct ring *r);

/* ---- per record, inline ---- */

static inline size_t rec_size(size_t len)
{
	return sizeof(struct rec) + ((len + sizeof(struct rec) - 1) & ~(sizeof(struct rec) - 1));
}

static inline int ring_has_room(struct ring *r, size_t need)
{
	if (r->w_pos + need - r->w_tail <= r->w_cap)
		return 1;
	r->w_tail = atomic_load_explicit(&r->tail, memory_order_acquire);
	return r->w_pos + need - r->w_tail <= r->w_cap;
}

/* Room for a record of len bytes, contiguous: where it would not fit
 * before the end of the buffer, the rest is padded and it goes at the
 * start.  Fill it, then ring_commit. */
static inline struct rec *ring_reserve(struct ring *r, size_t len)
{
	size_t need = rec_size(len);

	for (;;) {
		size_t off = (size_t)(r->w_pos & RING_MASK), contig = (size_t)RING_SIZE - off;
		struct rec *pad;

		if (contig >= need) {
			if (!ring_has_room(r, need)) {
				ring_wait_room(r, need);
				continue;
			}
			return (struct rec *)(r->buf + off);
		}
		if (!ring_has_room(r, contig)) {
			ring_wait_room(r, contig);
			continue;
		}
		/* Positions are multiples of the header size, so a header fits. */
		pad = (struct rec *)(r->buf + off);
		pad->kind = REC_PAD;
		pad->len = (uint32_t)(contig - sizeof(struct rec));
		r->w_pos += contig;
	}
}

static inline void ring_commit(struct ring *r, const struct rec *rec)
{
	r->w_pos += rec_size(rec->len);
	atomic_store_explicit(&r->written, r->w_pos, memory_order_release);
	if (++r->w_batch >= DISPATCH_BATCH)
		ring_publish_head(r, 0);
}

/* Done with rec: 1 when this published the read position (every batch). */
static inline int ring_release(struct ring *r, const struct rec *rec)
{
	r->r_pos += rec_size(rec->len);
	if (++r->r_batch < DISPATCH_BATCH)
		return 0;
	ring_publish_tail(r);
	return 1;
}

/* The next record other than padding; waits for one.  A view into the
 * ring, valid until ring_release. */
static inline const struct rec *ring_next(struct ring *r)
{
	for (;;) {
		const struct rec *rec;

		if (r->r_pos >= r->r_head) {
			uint64_t h = atomic_load_explicit(&r->head, memory_order_acquire);

			r->r_head = h > r->r_pos ? h : ring_wait_data(r);
		}
		rec = (const struct rec *)(r->buf + (r->r_pos & RING_MASK));
		if (rec->kind != REC_PAD)
			return rec;
		ring_release(r, rec);
	}
}

#endif
