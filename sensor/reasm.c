/*
 * reasm.c - TCP reassembly for the handshake phase (see include/reasm.h).
 *
 * Overlap policy: the first copy of a byte that reached the in-order
 * buffer wins.  Among early (out-of-order) segments the one with the lower
 * sequence number is delivered first and so wins over a later-sorted copy
 * of the same bytes.  Every overlap is counted; one whose bytes differ is
 * counted separately and flagged on the direction.
 */
#include <stdlib.h>
#include <string.h>

#include "reasm.h"
#include "stats.h"

void reasm_init(struct reasm_dir *d)
{
	memset(d, 0, sizeof(*d));
}

static int mem_take(struct reasm_mem *m, size_t n)
{
	if (n > m->lim->flow_memcap || m->flow_bytes > m->lim->flow_memcap - n) {
		g_stats.reasm_flow_memcap++;
		return -1;
	}
	if (g_stats.mem_in_use + n > m->lim->total_memcap) {
		g_stats.reasm_total_memcap++;
		return -1;
	}
	m->flow_bytes += n;
	stats_mem_add(n);
	return 0;
}

static void mem_give(struct reasm_mem *m, size_t n)
{
	m->flow_bytes -= n;
	stats_mem_sub(n);
}

static void free_ooo(struct reasm_dir *d, struct reasm_mem *m)
{
	struct reasm_seg *s, *next;

	for (s = d->ooo; s; s = next) {
		next = s->next;
		mem_give(m, sizeof(*s) + s->len);
		free(s);
	}
	d->ooo = NULL;
	d->n_ooo = 0;
}

void reasm_stop(struct reasm_dir *d, struct reasm_mem *m)
{
	free_ooo(d, m);
	if (d->buf) {
		mem_give(m, d->cap);
		free(d->buf);
	}
	d->buf = NULL;
	d->len = d->cap = d->consumed = 0;
	d->state = REASM_STOPPED;
}

void reasm_free(struct reasm_dir *d, struct reasm_mem *m)
{
	enum reasm_state st = d->state;

	reasm_stop(d, m);
	d->state = st;
}

void reasm_start(struct reasm_dir *d, uint32_t seq)
{
	d->state = REASM_ACTIVE;
	d->next_seq = seq;
	d->base_seq = seq;
}

static enum reasm_result limit(struct reasm_dir *d, struct reasm_mem *m)
{
	reasm_stop(d, m);
	return REASM_LIMIT;
}

/* Grow buf to hold need more bytes; geometric, charged to the memcaps. */
static int grow(struct reasm_dir *d, struct reasm_mem *m, size_t need)
{
	size_t ncap;
	uint8_t *nb;

	if (need <= d->cap - d->len)
		return 0;
	if (need > SIZE_MAX / 2 - d->len) {
		g_stats.reasm_flow_memcap++;
		return -1;
	}
	ncap = d->cap ? d->cap : 2048;
	while (ncap - d->len < need)
		ncap *= 2;
	if (ncap > m->lim->flow_memcap && d->len + need <= m->lim->flow_memcap)
		ncap = m->lim->flow_memcap;
	if (mem_take(m, ncap - d->cap) < 0)
		return -1;
	nb = realloc(d->buf, ncap);
	if (!nb) {
		mem_give(m, ncap - d->cap);
		return -1;
	}
	d->buf = nb;   /* owned by the direction; freed in reasm_stop */
	d->cap = ncap;
	return 0;
}

/* Bytes [seq, seq+len) of which the first `over` are already delivered:
 * compare those with the first copy where it is still buffered. */
static void check_overlap(struct reasm_dir *d, uint32_t seq, const uint8_t *data, size_t over)
{
	int32_t rel = seq_diff(seq, d->base_seq);
	size_t off;

	g_stats.reasm_overlap++;
	if (rel < 0 || !d->buf)
		return;   /* the first copy predates our buffer: cannot compare */
	off = (size_t)rel;
	if (off > d->len || over > d->len - off)
		return;
	if (memcmp(d->buf + off, data, over) != 0) {
		g_stats.reasm_overlap_diff++;
		d->overlap_diff = 1;
	}
}

/* Deliver a segment that starts at or before next_seq. */
static int deliver(struct reasm_dir *d, struct reasm_mem *m,
                   uint32_t seq, const uint8_t *data, size_t len)
{
	size_t over = (size_t)(uint32_t)(d->next_seq - seq);

	if (over > 0) {
		size_t cmp = over < len ? over : len;

		check_overlap(d, seq, data, cmp);
		if (over >= len) {
			g_stats.reasm_retrans++;
			return 0;
		}
	}
	if (grow(d, m, len - over) < 0)
		return -1;
	memcpy(d->buf + d->len, data + over, len - over);
	d->len += len - over;
	d->next_seq += (uint32_t)(len - over);
	return 0;
}

/* Move early segments that now touch the in-order edge. */
static int drain(struct reasm_dir *d, struct reasm_mem *m)
{
	struct reasm_seg *s;

	while ((s = d->ooo) && seq_leq(s->seq, d->next_seq)) {
		int rc;

		/* Unlink and uncharge first: delivering may grow the buffer,
		 * and the segment's bytes must not count twice meanwhile. */
		d->ooo = s->next;
		d->n_ooo--;
		mem_give(m, sizeof(*s) + s->len);
		rc = deliver(d, m, s->seq, s->data, s->len);
		free(s);
		if (rc < 0)
			return -1;
	}
	return 0;
}

static int queue_early(struct reasm_dir *d, struct reasm_mem *m,
                       uint32_t seq, const uint8_t *data, size_t len)
{
	struct reasm_seg *s, **pp;

	if (d->n_ooo >= m->lim->max_ooo_segs) {
		g_stats.reasm_ooo_limit++;
		return -1;
	}
	/* Bytes that could only be delivered past the flow memcap never will be. */
	if ((uint32_t)(seq - d->next_seq) > m->lim->flow_memcap) {
		g_stats.reasm_flow_memcap++;
		return -1;
	}
	if (mem_take(m, sizeof(*s) + len) < 0)
		return -1;
	s = malloc(sizeof(*s) + len);   /* owned by d->ooo; freed in drain/free_ooo */
	if (!s) {
		mem_give(m, sizeof(*s) + len);
		return -1;
	}
	s->seq = seq;
	s->len = (uint32_t)len;
	memcpy(s->data, data, len);
	/* Sorted by seq; equal seqs keep arrival order (first copy first). */
	for (pp = &d->ooo; *pp && seq_leq((*pp)->seq, seq); pp = &(*pp)->next)
		;
	s->next = *pp;
	*pp = s;
	d->n_ooo++;
	g_stats.reasm_ooo_queued++;
	return 0;
}

enum reasm_result reasm_add(struct reasm_dir *d, struct reasm_mem *m,
                            uint32_t seq, const uint8_t *data, size_t len)
{
	uint32_t end;

	if (d->state != REASM_ACTIVE || len == 0)
		return REASM_OK;
	if (len > UINT32_MAX / 2) {
		/* No TCP segment is this long; the window is at most 2^30. */
		g_stats.reasm_flow_memcap++;
		return limit(d, m);
	}
	end = seq + (uint32_t)len;
	if (seq_leq(end, d->next_seq)) {
		/* Entirely old: a retransmission. */
		check_overlap(d, seq, data, len);
		g_stats.reasm_retrans++;
		return REASM_OK;
	}
	if (seq_leq(seq, d->next_seq)) {
		if (deliver(d, m, seq, data, len) < 0 || drain(d, m) < 0)
			return limit(d, m);
		return REASM_OK;
	}
	if (queue_early(d, m, seq, data, len) < 0)
		return limit(d, m);
	return REASM_OK;
}
