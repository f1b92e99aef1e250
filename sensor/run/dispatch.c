/*
 * dispatch.c - capture files through one engine or several workers (see
 * include/run/dispatch.h): the reader's side (decoding once, choosing a
 * worker, sending frames as views or copies) and the workers' threads.
 * The rings between them are ring.c; the file readers are capture.c,
 * mapped.c (with its pager) and pcapng.c.  Must not: inspect a flow (the
 * engines do) or write output.  What was tried and dropped is in
 * docs/design.md ("Files with several threads").
 *
 * Rings: see include/run/ring.h.
 *
 * Which worker.  All packets between two IP addresses go to one worker:
 * a hash of the address pair, symmetric so both directions agree.  Not
 * the ports: a TCP segment may come whole or in IP fragments (pcaps/
 * evasion/ip-fragments.pcap hides a certificate that way), fragments
 * after the first carry no ports, and the segment rebuilt from them must
 * meet the rest of its flow in the same engine.  Tunnelled packets hash by
 * their inner addresses (decode_packet reports the innermost), so a span
 * feed over one ERSPAN or VXLAN tunnel still spreads.  Known limit: a
 * tunnel packet fragmented on the outside hashes by the tunnel's
 * addresses, so a flow whose tunnel packets are sometimes fragmented
 * outside may be split between two workers (seen as gaps); read such a
 * capture with one worker.  Frames that are not TCP or cannot be decoded
 * go to worker 0, which counts them as one engine would.
 *
 * Engines.  Making an engine takes milliseconds (nDPI loads its address
 * lists and builds its automata), so each worker makes its own while the
 * reader already reads; engine 0 is made first, by the reader, before any
 * thread starts.  nDPI 4.2 documents nothing about making detection
 * modules on several threads; its source shows what one shares with
 * another: libgcrypt's initialisation and a table of bigrams, both done
 * once by the first module made (engine 0, alone), and a counter of
 * Patricia trees nothing reads.  Freeing an engine takes milliseconds
 * too (nDPI's trees), so each worker frees its own at REC_END, keeping
 * what the reader reads after the join (worker_end).
 *
 * The hash is not seeded, unlike the flow table's: for files the worst an
 * attacker can do by aiming many flows at one worker is to slow the run
 * to one worker's speed (nothing is dropped), and a fixed hash makes every
 * run of a file identical.
 *
 * Time.  An engine's clock is the latest time of a TCP packet or wanted
 * UDP datagram it has seen, and
 * idle flows expire against it.  A worker sees only its own packets, so
 * where the capture's time runs backwards (several -r files, a merged
 * capture) the reader sends the worker a clock record before a packet
 * older than the reader's clock: every worker then expires flows at its
 * packets exactly as one engine would, and at the end of input it
 * advances to the reader's clock before flushing.  (The reader's clock
 * skips IP fragments, which one engine counts only when they complete a
 * TCP segment: it can lag behind, never run ahead.)
 *
 * Decoded once.  The reader must decode a frame to know its worker, so
 * it hands the worker what it decoded (struct decoded: the struct pkt and
 * what decode_packet returned) and the worker's engine starts from there
 * (engine_decoded): a frame is decoded once, and a worker touches the
 * frame's bytes only when its flow still needs them (a handshake), not for
 * the bulk of decided flows, whose headers were read on the reader's core.
 * The reader also counts every frame and its decoding (g_stats), as
 * engine_packet would; frames that are neither a TCP segment, an IP
 * fragment nor a UDP datagram the engine wants (engine_port_wanted) go no
 * further (docs/design.md says what decoding twice cost).
 *
 * Views.  Copying every frame into a ring is most of what the reader does
 * besides reading, and on bulk traffic the reader is the bottleneck.  When
 * the input's frames stay valid until it is closed (dispatch_set_capture
 * with a capture file that mapped.c maps: capture_frames_stable), a
 * frame travels as its decoding, whose views point into the mapping
 * (REC_VIEW; a TCP segment as the smaller REC_SEG), and the worker reads
 * it where it lies; the reader's page work goes to the capture's pager
 * thread (capture_start_pager).  Otherwise the frame
 * is copied into the record behind its decoding, and the views are moved
 * onto the copy (REC_COPY).  The caller calls dispatch_drain before
 * capture_close: it waits until every worker has released every record,
 * so no worker reads a frame after its mapping is gone.  An engine keeps
 * nothing of a frame after engine_decoded returns (it copies what it
 * keeps, as it must with a ring record that is reused), so a released
 * view is never read again.
 *
 * A ring of views is used up to DISPATCH_VIEW_BYTES, not RING_SIZE: 5000
 * to 9000 frames, so that a worker's unread records and frames stay close
 * behind the reader, likely still in the CPU cache.  mapped.c lets pages of
 * the file behind the reader leave memory, but not those from the oldest
 * frame a worker has yet to release on (capture_hold, told every
 * DISPATCH_HOLD_EVERY views): that is the record at the worker's
 * published tail, and the reader, which wrote it, may read it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "capture/capture.h"
#include "core/cs_limits.h"
#include "capture/decode.h"
#include "run/dispatch.h"
#include "run/ring.h"
#include "run/workers.h"
#include "core/stats.h"

/* Capacity of a ring of views: about 5000 records of 208 bytes. */
#define DISPATCH_VIEW_BYTES  ((uint64_t)1024 * 1024)
#define DISPATCH_HOLD_EVERY  1024   /* views between two capture_hold */

/* A frame as the reader decoded it: what engine_decoded takes.  For a
 * REC_VIEW the caller guarantees the frame until dispatch_drain; for a
 * REC_COPY the frame follows in the record and p's views are moved onto
 * that copy. */
struct decoded {
	const uint8_t *frame;   /* where it lies (REC_VIEW); for capture_hold */
	int32_t rc;             /* DECODE_TCP, DECODE_UDP or DECODE_FRAG */
	struct pkt p;
};

/* A TCP segment left where it lies, as a REC_VIEW would carry it but in
 * half the bytes: the fields of its struct pkt, its views as offsets into
 * the frame (seg_pack, seg_unpack).  Every record costs the reader cache
 * lines written and the worker the same lines read from the other core:
 * 112 bytes a segment instead of 208.  A segment that does not fit (an
 * offset past 65535) and fragments go as REC_VIEW. */
struct seg {
	const uint8_t *frame;   /* first, as in struct decoded: hold_frames */
	uint8_t src[16], dst[16];
	uint32_t seq, ack;
	uint32_t l3_len, l4_len, payload_len;
	uint16_t l3_off, l4_off, payload_off;
	uint16_t sport, dport, win;
	uint16_t vlan[DECODE_MAX_VLAN];
	uint8_t flags, n_vlan, family, proto, depth, truncated;
};

_Static_assert(offsetof(struct seg, frame) == 0 && offsetof(struct decoded, frame) == 0,
               "hold_frames finds the frame of either at the same place");

_Static_assert(RING_WAKE_ROOM(RING_SIZE) >= sizeof(struct rec) + sizeof(struct decoded) +
               CS_DISPATCH_MAX_FRAME,
               "the room that wakes a waiting reader must hold the largest frame");
_Static_assert(RING_WAKE_ROOM(DISPATCH_VIEW_BYTES) >= 2 * (sizeof(struct rec) + sizeof(struct decoded)),
               "the room that wakes a waiting reader must hold a view, padding included");
_Static_assert(DISPATCH_VIEW_BYTES <= RING_SIZE, "views use part of the ring");

struct worker {
	struct ring ring;
	struct engine *e;                    /* owned; made by the worker's thread
	                                        (engine 0's by the reader), freed
	                                        by it at REC_END */
	int made;                            /* it had an engine */
	const struct engine_opts *eo;        /* to make it; the dispatch's */
	char err[256];                       /* why it could not; read after join */
	pthread_t th;
	int running;                         /* thread started, not yet joined */
	int ring_ok;                         /* ring buffer and its locks made */
	struct worker_tally tally;           /* kept at the end; read after join */
	uint64_t alerts;                     /* its engine's, kept at the end */
	struct eve_alert_count *rows;        /* owned (engine_alert_copy): tally.rows */
	int rows_lost;                       /* out of memory for them */
	_Atomic uint64_t pub_hs, pub_alerts; /* for progress, every batch */
};

struct dispatch {
	struct engine_opts eo;               /* every engine's options */
	unsigned n;
	int threaded;                        /* n > 1: a reader and rings */
	struct worker *w;                    /* owned: n, cache-line aligned */
	uint64_t clock;                      /* reader: latest time of a TCP frame */
	int stable;                          /* frames are sent as views (REC_VIEW) */
	struct capture *cap;                 /* their capture when stable; not owned */
	unsigned views;                      /* views since the last capture_hold */
	int finished;
	uint64_t alerts;                     /* after finish */
	struct eve_alert_count *rows;        /* owned array; owner names are views
	                                        into the workers' rows */
	size_t n_rows;
};

/* ---- the reader's side of a ring --------------------------------------- */

/* ---- the worker's side -------------------------------------------------- */

/* ---- segments ---------------------------------------------------------- */

/* The offset of view v into frame, when it fits a seg's 16 bits. */
static int view_off(const uint8_t *v, const uint8_t *frame, size_t caplen, uint16_t *off)
{
	if (!v || v < frame || (size_t)(v - frame) > caplen || v - frame > UINT16_MAX)
		return -1;
	*off = (uint16_t)(v - frame);
	return 0;
}

/* Does the decoded TCP segment (frame, caplen) fit a struct seg?  1 with
 * its views' offsets in off; 0: it goes whole, as a REC_VIEW. */
static int seg_fits(const struct pkt *p, const uint8_t *frame, size_t caplen, uint16_t off[3])
{
	return view_off(p->l3, frame, caplen, &off[0]) == 0 &&
	       view_off(p->l4, frame, caplen, &off[1]) == 0 &&
	       view_off(p->payload, frame, caplen, &off[2]) == 0 &&
	       p->l3_len <= UINT32_MAX && p->l4_len <= UINT32_MAX && p->payload_len <= UINT32_MAX;
}

/* The segment into s, in its ring record: filled in place, not built on
 * the stack and copied, as the copy's wide loads of the fields just
 * stored byte by byte stalled the reader (a tenth of send_frame). */
static void seg_pack(const struct pkt *p, const uint8_t *frame, const uint16_t off[3],
                     struct seg *s)
{
	s->l3_off = off[0];
	s->l4_off = off[1];
	s->payload_off = off[2];
	s->frame = frame;
	memcpy(s->src, p->src, sizeof(s->src));
	memcpy(s->dst, p->dst, sizeof(s->dst));
	s->seq = p->seq;
	s->ack = p->ack;
	s->l3_len = (uint32_t)p->l3_len;
	s->l4_len = (uint32_t)p->l4_len;
	s->payload_len = (uint32_t)p->payload_len;
	s->sport = p->sport;
	s->dport = p->dport;
	s->win = p->win;
	memcpy(s->vlan, p->vlan, sizeof(s->vlan));
	s->flags = p->flags;
	s->n_vlan = p->n_vlan;
	s->family = p->family;
	s->proto = p->proto;
	s->depth = p->depth;
	s->truncated = (uint8_t)(p->truncated != 0);
}

/* The struct pkt seg_pack was given back (the frame's time from its
 * record), for engine_decoded.  Every field is set, the fragment fields to
 * zero, rather than the whole struct cleared first: a 176-byte memset was
 * half of what a worker spent reading its records. */
_Static_assert(sizeof(void *) != 8 || sizeof(struct pkt) == 176,
               "struct pkt changed: set its new fields in seg_unpack");
static void seg_unpack(const struct seg *s, uint64_t ts_us, struct pkt *p)
{
	memset(&p->frag, 0, sizeof(p->frag));
	p->ts_us = ts_us;
	memcpy(p->vlan, s->vlan, sizeof(p->vlan));
	p->n_vlan = s->n_vlan;
	p->family = s->family;
	p->proto = s->proto;
	memcpy(p->src, s->src, sizeof(p->src));
	memcpy(p->dst, s->dst, sizeof(p->dst));
	p->sport = s->sport;
	p->dport = s->dport;
	p->seq = s->seq;
	p->ack = s->ack;
	p->flags = s->flags;
	p->win = s->win;
	p->l3 = s->frame + s->l3_off;
	p->l3_len = s->l3_len;
	p->l4 = s->frame + s->l4_off;
	p->l4_len = s->l4_len;
	p->payload = s->frame + s->payload_off;
	p->payload_len = s->payload_len;
	p->truncated = s->truncated;
	p->depth = s->depth;
}

/* ---- workers ------------------------------------------------------------ */

static void publish_progress(struct worker *w)
{
	atomic_store_explicit(&w->pub_hs, stats_handshakes(&g_stats), memory_order_relaxed);
	atomic_store_explicit(&w->pub_alerts, g_stats.alerts, memory_order_relaxed);
}

/* What the reader reads after pthread_join is kept, then the engine is
 * freed here: an engine takes milliseconds to free (nDPI's trees), and
 * workers free theirs at once instead of the reader one after another.
 * The statistics are taken before, as one engine's are when the summary
 * is printed. */
static void worker_end(struct worker *w)
{
	w->tally.st = g_stats;
	if (!w->e)
		return;
	w->alerts = engine_alert_count(w->e);
	w->rows_lost = engine_alert_copy(w->e, &w->rows, &w->tally.n_rows) < 0;
	w->tally.rows = w->rows;
	engine_free(w->e);
	w->e = NULL;
}

/* One worker: records from its ring into its engine until REC_END.  The
 * engine is made here, while the reader already reads (see "Engines" at
 * the top); a worker that cannot make it still takes every record, so
 * that the reader never waits for it, and dispatch_finish reports it. */
static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct ring *r = &w->ring;

	if (!w->e)
		w->e = engine_new(w->eo, w->err, sizeof(w->err));
	w->made = w->e != NULL;
	for (;;) {
		const struct rec *rec = ring_next(r);
		const char *name;

		if (!w->e && rec->kind != REC_END) {
			ring_release(r, rec);
			continue;
		}
		switch (rec->kind) {
		case REC_COPY:
		case REC_VIEW: {
			/* A copy: the engine may change p (a reassembled
			 * fragment), and the record may not be aligned for it. */
			struct decoded dc;

			memcpy(&dc, rec + 1, sizeof(dc));
			engine_decoded(w->e, (enum decode_result)dc.rc, &dc.p);
			break;
		}
		case REC_SEG: {
			struct pkt p;

			seg_unpack((const struct seg *)(const void *)(rec + 1), rec->ts_us, &p);
			engine_decoded(w->e, DECODE_TCP, &p);
			break;
		}
		case REC_CLOCK:
			engine_advance(w->e, rec->ts_us);
			break;
		case REC_SOURCE:
			memcpy(&name, rec + 1, sizeof(name));
			engine_set_source(w->e, name);
			break;
		case REC_END:
			if (w->e) {
				engine_advance(w->e, rec->ts_us);
				engine_flush(w->e);
			}
			ring_release(r, rec);
			publish_progress(w);
			worker_end(w);
			return NULL;
		default:
			abort();   /* a bug: only the reader writes records */
		}
		if (ring_release(r, rec))
			publish_progress(w);
	}
}

/* End every started worker: REC_END into its ring, then join.  The
 * reader's clock goes with it so that each engine ends at the time one
 * engine reading everything would have reached. */
static void stop_workers(struct dispatch *d)
{
	for (unsigned i = 0; i < d->n; i++) {
		struct ring *r = &d->w[i].ring;

		if (!d->w[i].running)
			continue;
		ring_put_mark(r, REC_END, d->clock);
		ring_publish_head(r, 1);
	}
	for (unsigned i = 0; i < d->n; i++)
		if (d->w[i].running) {
			pthread_join(d->w[i].th, NULL);
			d->w[i].running = 0;
		}
}

/* ---- choosing a worker ---------------------------------------------------- */

/* MurmurHash3's 64-bit finaliser: every input bit affects every output bit. */
static uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

/* An address folded to 64 bits; decode_packet zeroes the 12 bytes after
 * an IPv4 address, so an IPv4 address folds to itself. */
static uint64_t addr_fold(const uint8_t a[16])
{
	uint64_t lo, hi;

	memcpy(&lo, a, 8);
	memcpy(&hi, a + 8, 8);
	return lo ^ (hi << 29 | hi >> 35);
}

/* The worker of a decoded frame (see "Which worker" at the top).  A sum
 * is symmetric: both directions hash alike; one finaliser mixes it.  The
 * worker is the hash's top 32 bits scaled to n, a multiplication where
 * h % n would be a 64-bit division, the slowest instruction the reader
 * ran per frame (a sixth of send_frame's time). */
static unsigned pick_worker(const struct dispatch *d, const struct pkt *p)
{
	uint64_t h = mix64(addr_fold(p->src) + addr_fold(p->dst));

	return (unsigned)(((h >> 32) * d->n) >> 32);
}

/* The worker's engine must not lag behind the capture's clock when this
 * frame is older than it (see "Time" at the top). */
static void keep_clock(struct dispatch *d, struct ring *r, enum decode_result rc,
                       uint64_t ts_us)
{
	if (ts_us < d->clock && r->w_clock < d->clock) {
		ring_put_mark(r, REC_CLOCK, d->clock);
		r->w_clock = d->clock;
	}
	if (rc == DECODE_TCP || rc == DECODE_UDP) {
		if (ts_us > d->clock)
			d->clock = ts_us;
		if (ts_us > r->w_clock)
			r->w_clock = ts_us;
	}
}

/* Tell the capture which frames the workers still use (see "Views"). */
static void hold_frames(struct dispatch *d)
{
	const uint8_t *oldest = NULL;

	d->views = 0;
	for (unsigned i = 0; i < d->n; i++) {
		const struct ring *r = &d->w[i].ring;
		uint64_t pos = atomic_load_explicit(&r->tail, memory_order_acquire);

		/* The first view at or after the tail; marks and padding
		 * before it skipped.  The reader sends frames in file order. */
		while (pos < r->w_pos) {
			const struct rec *rec = (const struct rec *)(r->buf + (pos & RING_MASK));
			const uint8_t *frame;

			if (rec->kind != REC_VIEW && rec->kind != REC_SEG) {
				pos += rec_size(rec->len);
				continue;
			}
			memcpy(&frame, rec + 1, sizeof(frame));   /* first in both */
			if (!oldest || frame < oldest)
				oldest = frame;
			break;
		}
	}
	capture_hold(d->cap, oldest);
}

/* A view into frame, moved onto the copy of frame at to. */
static const uint8_t *rebase(const uint8_t *v, const uint8_t *frame, const uint8_t *to)
{
	return v ? to + (v - frame) : NULL;
}

/* Count and decode the frame here, once (engine_decode, as engine_packet
 * does), and hand the result to the worker of its address pair; frames that are no TCP segment or fragment stop here. */
static void send_frame(struct dispatch *d, int dlt, const uint8_t *frame, size_t caplen,
                       uint64_t ts_us)
{
	struct decoded dc;
	enum decode_result rc;
	struct ring *r;
	struct rec *rec;

	rc = engine_decode(dlt, frame, caplen, ts_us, &dc.p);
	if (rc != DECODE_TCP && rc != DECODE_FRAG && rc != DECODE_UDP)
		return;
	if (rc == DECODE_UDP && !engine_port_wanted(&d->eo, &dc.p))
		return;   /* as the engine would drop it, before its clock */
	dc.rc = rc;
	r = &d->w[pick_worker(d, &dc.p)].ring;
	keep_clock(d, r, rc, ts_us);
	if (d->stable && rc == DECODE_TCP) {
		uint16_t off[3];

		if (seg_fits(&dc.p, frame, caplen, off)) {
			rec = ring_reserve(r, sizeof(struct seg));
			rec->len = sizeof(struct seg);
			rec->kind = REC_SEG;
			/* Records start 16-byte aligned (rec_size), enough for it. */
			seg_pack(&dc.p, frame, off, (struct seg *)(void *)(rec + 1));
			goto commit;
		}
	}
	if (d->stable) {
		dc.frame = frame;
		rec = ring_reserve(r, sizeof(dc));
		rec->len = sizeof(dc);
		rec->kind = REC_VIEW;
		memcpy(rec + 1, &dc, sizeof(dc));
	} else {
		/* Every view lies inside the frame (decode_packet only
		 * points into it). */
		uint8_t *copy;

		rec = ring_reserve(r, sizeof(dc) + caplen);
		rec->len = (uint32_t)(sizeof(dc) + caplen);
		rec->kind = REC_COPY;
		copy = (uint8_t *)(rec + 1) + sizeof(dc);
		memcpy(copy, frame, caplen);
		dc.frame = copy;
		dc.p.l3 = rebase(dc.p.l3, frame, copy);
		dc.p.l4 = rebase(dc.p.l4, frame, copy);
		dc.p.payload = rebase(dc.p.payload, frame, copy);
		dc.p.frag.hdr = rebase(dc.p.frag.hdr, frame, copy);
		dc.p.frag.data = rebase(dc.p.frag.data, frame, copy);
		memcpy(rec + 1, &dc, sizeof(dc));
	}
commit:
	rec->ts_us = ts_us;
	ring_commit(r, rec);
	if (d->stable && ++d->views >= DISPATCH_HOLD_EVERY)
		hold_frames(d);
}

/* ---- the interface -------------------------------------------------------- */

static void free_workers(struct dispatch *d)
{
	for (unsigned i = 0; i < d->n; i++) {
		engine_free(d->w[i].e);   /* one engine, or a worker never started */
		free(d->w[i].rows);
		if (d->w[i].ring_ok)
			ring_destroy(&d->w[i].ring);
	}
	free(d->w);
}

static int start_worker(struct dispatch *d, struct worker *w, char *err, size_t errlen,
                        unsigned i)
{
	w->eo = &d->eo;
	if (ring_init(&w->ring) < 0) {
		snprintf(err, errlen, "worker %u: out of memory for its %u-byte ring", i,
		         CS_DISPATCH_RING_BYTES);
		return -1;
	}
	w->ring_ok = 1;
	atomic_init(&w->pub_hs, 0);
	atomic_init(&w->pub_alerts, 0);
	if (pthread_create(&w->th, NULL, worker_main, w) != 0) {
		snprintf(err, errlen, "worker %u: cannot start a thread", i);
		return -1;
	}
	w->running = 1;
	return 0;
}

struct dispatch *dispatch_new(const struct engine_opts *eo, unsigned workers,
                              char *err, size_t errlen)
{
	struct dispatch *d;
	size_t wbytes;

	if (workers < 1 || workers > DISPATCH_MAX_WORKERS) {
		snprintf(err, errlen, "--workers: 1 to %d", DISPATCH_MAX_WORKERS);
		return NULL;
	}
	d = calloc(1, sizeof(*d));   /* owned by the caller; dispatch_free */
	if (!d)
		goto nomem;
	d->n = workers;
	d->threaded = workers > 1;
	/* Cache-line aligned: a ring's two sides must not share a line. */
	wbytes = (workers * sizeof(struct worker) + CACHE_LINE - 1) & ~(size_t)(CACHE_LINE - 1);
	d->w = aligned_alloc(CACHE_LINE, wbytes);   /* owned by d */
	if (!d->w)
		goto nomem;
	memset(d->w, 0, wbytes);
	d->eo = *eo;
	/* Engine 0 here, first, before any thread runs: see "Engines". */
	d->w[0].e = engine_new(&d->eo, err, errlen);
	if (!d->w[0].e)
		goto err;
	for (unsigned i = 0; d->threaded && i < workers; i++)
		if (start_worker(d, &d->w[i], err, errlen, i) < 0)
			goto err;
	return d;
nomem:
	snprintf(err, errlen, "out of memory");
err:
	if (d && d->w) {
		stop_workers(d);
		free_workers(d);
	}
	free(d);
	return NULL;
}

void dispatch_free(struct dispatch *d)
{
	if (!d)
		return;
	stop_workers(d);   /* only when dispatch_finish was not called */
	free_workers(d);
	free(d->rows);
	free(d);
}

void dispatch_set_source(struct dispatch *d, const char *name)
{
	if (!d->threaded) {
		engine_set_source(d->w[0].e, name);
		return;
	}
	/* Every engine: a flow reported later by any of them names the file
	 * being read, as with one engine. */
	for (unsigned i = 0; i < d->n; i++) {
		struct ring *r = &d->w[i].ring;
		struct rec *rec = ring_reserve(r, sizeof(name));

		rec->ts_us = 0;
		rec->len = sizeof(name);
		rec->kind = REC_SOURCE;
		memcpy(rec + 1, &name, sizeof(name));
		ring_commit(r, rec);
	}
}

void dispatch_set_capture(struct dispatch *d, struct capture *c)
{
	d->stable = d->threaded && c && capture_frames_stable(c);
	d->cap = d->stable ? c : NULL;
	/* With threads, the reader is what the workers wait for: its page
	 * work goes to the capture's pager (failing that, it stays here). */
	if (d->stable)
		(void)capture_start_pager(c);
	d->views = 0;
	for (unsigned i = 0; d->stable && i < d->n; i++)
		ring_set_cap(&d->w[i].ring, DISPATCH_VIEW_BYTES);
}

void dispatch_drain(struct dispatch *d)
{
	for (unsigned i = 0; i < d->n; i++) {
		struct ring *r = &d->w[i].ring;

		if (!d->w[i].running)
			continue;
		/* Room for a whole ring is an empty ring: the worker has
		 * released every record written (ring_wait_room publishes
		 * them first). */
		ring_wait_room(r, (size_t)r->w_cap);
		ring_set_cap(r, RING_SIZE);
	}
	if (d->cap)
		capture_hold(d->cap, NULL);
	d->cap = NULL;
	d->stable = 0;
}

int dispatch_packet(struct dispatch *d, int dlt, const uint8_t *frame, size_t caplen,
                    uint64_t ts_us)
{
	/* Checked with one worker too, so that the result never depends on
	 * --workers; libpcap never returns a larger frame. */
	if (caplen > CS_DISPATCH_MAX_FRAME)
		return -1;
	if (!d->threaded)
		engine_packet(d->w[0].e, dlt, frame, caplen, ts_us);
	else
		send_frame(d, dlt, frame, caplen, ts_us);
	return 0;
}

/* The workers' tallies into g_stats (the reader counted frames and their
 * decoding, the workers the rest) and into d->rows, rows of the same
 * owner and verdict added together. */
static void sum_workers(struct dispatch *d)
{
	struct worker_sum sum;
	size_t cap = 0;
	int lost = 0;

	for (unsigned i = 0; i < d->n; i++) {
		d->alerts += d->w[i].alerts;
		cap += d->w[i].tally.n_rows;
		lost |= d->w[i].rows_lost;
	}
	d->rows = cap && !lost ? calloc(cap, sizeof(*d->rows)) : NULL;   /* owned by d */
	if (!d->rows && (cap || lost)) {
		fprintf(stderr, "certsentry: out of memory: alerts by owner not summed\n");
		cap = 0;
	}
	workers_sum_init(&sum, d->rows, cap);
	for (unsigned i = 0; i < d->n; i++)
		workers_add(&sum, &d->w[i].tally);
	stats_add(&g_stats, &sum.st);
	d->n_rows = sum.n_rows;
}

int dispatch_finish(struct dispatch *d, char *err, size_t errlen)
{
	int rc = 0;

	if (d->finished)
		return 0;
	d->finished = 1;
	if (!d->threaded) {
		engine_flush(d->w[0].e);
		return 0;
	}
	stop_workers(d);
	sum_workers(d);
	for (unsigned i = 0; i < d->n; i++)
		if (!d->w[i].made && rc == 0) {
			snprintf(err, errlen, "worker %u: %s: its flows were not inspected", i,
			         d->w[i].err);
			rc = -1;
		}
	return rc;
}

void dispatch_progress(const struct dispatch *d, uint64_t *handshakes, uint64_t *alerts)
{
	if (!d->threaded) {
		*handshakes = stats_handshakes(&g_stats);
		*alerts = g_stats.alerts;
		return;
	}
	*handshakes = *alerts = 0;
	for (unsigned i = 0; i < d->n; i++) {
		*handshakes += atomic_load_explicit(&d->w[i].pub_hs, memory_order_relaxed);
		*alerts += atomic_load_explicit(&d->w[i].pub_alerts, memory_order_relaxed);
	}
}

uint64_t dispatch_alert_count(const struct dispatch *d)
{
	return d->threaded ? d->alerts : engine_alert_count(d->w[0].e);
}

size_t dispatch_alert_table(const struct dispatch *d, struct eve_alert_count *out, size_t max)
{
	size_t n;

	if (!d->threaded)
		return engine_alert_table(d->w[0].e, out, max);
	n = d->n_rows < max ? d->n_rows : max;
	if (n)
		memcpy(out, d->rows, n * sizeof(*out));
	return n;
}

void dispatch_print_alerts(const struct dispatch *d, FILE *f)
{
	if (!d->threaded) {
		engine_print_alerts(d->w[0].e, f);
		return;
	}
	for (size_t i = 0; i < d->n_rows; i++)
		fprintf(f, "  alerts: %s %s %llu\n", d->rows[i].owner,
		        verdict_name(d->rows[i].verdict), (unsigned long long)d->rows[i].n);
}
