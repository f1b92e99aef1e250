/*
 * dispatch.h - capture files (-r) read through one engine, or through
 * several worker threads with --workers N.
 *
 * With one worker the engine runs on the calling thread, as it always has.
 * With N > 1 the calling thread becomes a reader: it decodes each frame
 * to pick the engine that owns its flow and hands it the decoding with a
 * copy of the frame (or, when the frames stay valid, pointers into it:
 * dispatch_set_capture) through that worker's ring; each worker thread
 * runs its own engine.  No packet is ever dropped (a full ring makes the
 * reader wait), and the events, counters and exit status are those of one
 * engine, except where a per-engine limit is hit (limits apply per
 * worker, as live).
 *
 * Usage, all from one thread: dispatch_new, then for each input
 * dispatch_set_source and dispatch_set_capture, dispatch_packet per
 * frame and dispatch_drain before the input is closed, then
 * dispatch_finish once; then the results (dispatch_alert_*) and
 * dispatch_free.
 */
#ifndef CS_DISPATCH_H
#define CS_DISPATCH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "engine/engine.h"
#include "event/eve_stats.h"

#define DISPATCH_MAX_WORKERS 64

struct dispatch;
struct capture;

/* workers: 1..DISPATCH_MAX_WORKERS engines, each made from eo.  NULL with
 * a message in err when an engine or a thread cannot be made. */
struct dispatch *dispatch_new(const struct engine_opts *eo, unsigned workers,
                              char *err, size_t errlen);
/* Frees the engines; after dispatch_finish (or instead of it, with no
 * packet read). */
void dispatch_free(struct dispatch *d);

/* The file the next packets come from (EVE pcap_filename); name must
 * outlive d. */
void dispatch_set_source(struct dispatch *d, const char *name);

/* The capture the next frames come from (not owned; NULL: frames from
 * elsewhere).  When its frames are stable (capture_frames_stable),
 * workers are given the views themselves, not copies, and d tells c
 * which frames they still use (capture_hold): c must then stay open
 * until dispatch_drain. */
void dispatch_set_capture(struct dispatch *d, struct capture *c);
/* Wait until the workers are done with every frame given so far; then
 * the frames may go (capture_close).  Ends dispatch_set_capture. */
void dispatch_drain(struct dispatch *d);

/* One frame of link type dlt (a view, copied as needed).  0, or -1 when
 * caplen exceeds CS_DISPATCH_MAX_FRAME (the frame is not inspected). */
int dispatch_packet(struct dispatch *d, int dlt, const uint8_t *frame, size_t caplen,
                    uint64_t ts_us);

/* End of input: every engine finishes its flows; then the calling
 * thread's g_stats holds the totals of every engine, each packet counted
 * once.  -1 with a message in err when a worker could not make its engine
 * (its flows went uninspected). */
int dispatch_finish(struct dispatch *d, char *err, size_t errlen);

/* Progress while reading (approximate with several workers: each
 * publishes its counts every few dozen packets). */
void dispatch_progress(const struct dispatch *d, uint64_t *handshakes, uint64_t *alerts);

/* After dispatch_finish: alerts summed over the engines. */
uint64_t dispatch_alert_count(const struct dispatch *d);
/* Alerts by owner and verdict, at most max rows (views valid until
 * dispatch_free). */
size_t dispatch_alert_table(const struct dispatch *d, struct eve_alert_count *out, size_t max);
/* "  alerts: owner verdict count" lines for the summary. */
void dispatch_print_alerts(const struct dispatch *d, FILE *f);

#endif
