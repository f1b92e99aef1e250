/*
 * ring.c - the rings' slow paths (include/run/ring.h): publishing a position
 * and waking the other side, waiting for room or data, set-up and
 * tear-down.  Must not: know what a record carries (dispatch.c does).
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "run/ring.h"

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

/* force: wake a sleeping worker whatever it has to read. */
void ring_publish_head(struct ring *r, int force)
{
	r->w_batch = 0;
	atomic_store(&r->head, r->w_pos);   /* seq_cst: see the top of the file */
	if (atomic_load(&r->want_data) &&
	    (force || r->w_pos - atomic_load(&r->tail) >= RING_WAKE_DATA(r->w_cap))) {
		pthread_mutex_lock(&r->lock);
		pthread_cond_signal(&r->data);
		pthread_mutex_unlock(&r->lock);
	}
}

/* Wait until need bytes are free.  What was written is published first:
 * the worker may be waiting for it. */
void ring_wait_room(struct ring *r, size_t need)
{
	ring_publish_head(r, 1);
	for (int i = 0; i < DISPATCH_SPIN; i++) {
		if (ring_has_room(r, need))
			return;
		cpu_relax();
	}
	pthread_mutex_lock(&r->lock);
	atomic_store(&r->want_room, 1);
	for (;;) {
		r->w_tail = atomic_load(&r->tail);
		if (r->w_pos + need - r->w_tail <= r->w_cap)
			break;
		pthread_cond_wait(&r->room, &r->lock);
	}
	atomic_store(&r->want_room, 0);
	pthread_mutex_unlock(&r->lock);
}

/* A record with no bytes after the header. */
void ring_put_mark(struct ring *r, enum rec_kind kind, uint64_t ts_us)
{
	struct rec *rec = ring_reserve(r, 0);

	rec->ts_us = ts_us;
	rec->len = 0;
	rec->kind = (uint32_t)kind;
	ring_commit(r, rec);
}

void ring_publish_tail(struct ring *r)
{
	uint64_t head, cap;

	r->r_batch = 0;
	atomic_store(&r->tail, r->r_pos);   /* seq_cst: see the top of the file */
	if (!atomic_load(&r->want_room))
		return;
	/* A reader that waits published everything first; head may lag
	 * behind r_pos when the worker read up to "written". */
	head = atomic_load(&r->head);
	cap = atomic_load_explicit(&r->cap, memory_order_relaxed);
	if (head <= r->r_pos || head - r->r_pos + RING_WAKE_ROOM(cap) <= cap) {
		pthread_mutex_lock(&r->lock);
		pthread_cond_signal(&r->room);
		pthread_mutex_unlock(&r->lock);
	}
}

/* Sleep on r->data for at most DISPATCH_IDLE_MS: ETIMEDOUT or 0. */
static int ring_sleep(struct ring *r)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_nsec += (long)DISPATCH_IDLE_MS * 1000000L;
	ts.tv_sec += ts.tv_nsec / 1000000000L;
	ts.tv_nsec %= 1000000000L;
	return pthread_cond_timedwait(&r->data, &r->lock, &ts);
}

/* Wait until there is more to read; returns how far the worker may read
 * (beyond r_pos).  What was read is released first: the reader may be
 * waiting for room. */
uint64_t ring_wait_data(struct ring *r)
{
	uint64_t h;

	ring_publish_tail(r);
	for (int i = 0; i < DISPATCH_SPIN; i++) {
		h = atomic_load_explicit(&r->head, memory_order_acquire);
		if (h > r->r_pos)
			return h;
		cpu_relax();
	}
	pthread_mutex_lock(&r->lock);
	atomic_store(&r->want_data, 1);
	for (;;) {
		h = atomic_load(&r->head);
		if (h > r->r_pos)
			break;
		if (ring_sleep(r) == ETIMEDOUT) {
			h = atomic_load_explicit(&r->written, memory_order_acquire);
			if (h > r->r_pos)
				break;
		}
	}
	atomic_store(&r->want_data, 0);
	pthread_mutex_unlock(&r->lock);
	return h;
}

/* The capacity a ring is used with from now on.  Lowered with records in
 * it, the reader just waits longer for room. */
void ring_set_cap(struct ring *r, uint64_t cap)
{
	r->w_cap = cap;
	atomic_store_explicit(&r->cap, cap, memory_order_relaxed);
}

int ring_init(struct ring *r)
{
	pthread_condattr_t ca;

	r->buf = malloc(RING_SIZE);   /* owned by the ring; ring_destroy */
	if (!r->buf)
		return -1;
	atomic_init(&r->head, 0);
	atomic_init(&r->written, 0);
	atomic_init(&r->tail, 0);
	atomic_init(&r->want_data, 0);
	atomic_init(&r->want_room, 0);
	r->w_cap = RING_SIZE;
	atomic_init(&r->cap, RING_SIZE);
	if (pthread_mutex_init(&r->lock, NULL) != 0)
		goto err_buf;
	/* The idle wait (ring_sleep) measures time that cannot jump. */
	if (pthread_condattr_init(&ca) != 0)
		goto err_lock;
	if (pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
	    pthread_cond_init(&r->data, &ca) != 0) {
		pthread_condattr_destroy(&ca);
		goto err_lock;
	}
	pthread_condattr_destroy(&ca);
	if (pthread_cond_init(&r->room, NULL) != 0)
		goto err_data;
	return 0;
err_data:
	pthread_cond_destroy(&r->data);
err_lock:
	pthread_mutex_destroy(&r->lock);
err_buf:
	free(r->buf);
	r->buf = NULL;
	return -1;
}

void ring_destroy(struct ring *r)
{
	pthread_cond_destroy(&r->room);
	pthread_cond_destroy(&r->data);
	pthread_mutex_destroy(&r->lock);
	free(r->buf);
	r->buf = NULL;
}
