/*
 * reasm.c - TCP reassembly for the handshake phase (see include/transport/reasm.h).
 *
 * Overlap policy: the first copy of a byte that reached the in-order
 * buffer wins.  Among early (out-of-order) segments the one with the lower
 * sequence number is delivered first and so wins over a later-sorted copy
 * of the same bytes.  Every overlap is counted; one whose bytes differ is
 * counted separately and flagged on the direction.
 *
 * Tentative copies (segments with a bad checksum) never enter the in-order
 * buffer on their own: they fill a hole only when the receiver's
 * acknowledgement shows it has the bytes (reasm_ack), and every valid byte
 * delivered over them is compared with them first (tent_settle).
 *
 * Must not: interpret the bytes (tls.c does) or exceed --flow-memcap.
 */
#include <stdlib.h>
#include <string.h>

#include "transport/reasm.h"
#include "core/stats.h"

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

static void free_list(struct reasm_seg **head, size_t *n, struct reasm_mem *m)
{
	struct reasm_seg *s, *next;

	for (s = *head; s; s = next) {
		next = s->next;
		mem_give(m, sizeof(*s) + s->cap);
		free(s);
	}
	*head = NULL;
	*n = 0;
}

void reasm_stop(struct reasm_dir *d, struct reasm_mem *m)
{
	free_list(&d->ooo, &d->n_ooo, m);
	free_list(&d->tent, &d->n_tent, m);
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
		d->overlap_diff |= REASM_DIFF_RETRANS;
	}
}

/* ---- tentative copies ---------------------------------------------------- */

/* Compare n bytes of a tentative copy at seq (all below next_seq) with the
 * bytes delivered there. */
static void tent_compare(struct reasm_dir *d, uint32_t seq, const uint8_t *data, size_t n)
{
	int32_t rel = seq_diff(seq, d->base_seq);
	size_t off;

	if (rel < 0) {
		/* The part before the buffer's start cannot be compared. */
		if ((size_t)-(int64_t)rel >= n)
			return;
		data += (size_t)-(int64_t)rel;
		n -= (size_t)-(int64_t)rel;
		rel = 0;
	}
	off = (size_t)rel;
	if (!d->buf || off > d->len || n > d->len - off)
		return;
	if (memcmp(d->buf + off, data, n) != 0) {
		g_stats.reasm_tentative_diff++;
		d->overlap_diff |= REASM_DIFF_TENTATIVE;
	}
}

/* Bytes were delivered up to next_seq: compare every tentative copy below
 * it with them, drop what is covered, trim what is left to next_seq. */
static void tent_settle(struct reasm_dir *d, struct reasm_mem *m)
{
	struct reasm_seg **pp = &d->tent, *s;

	while ((s = *pp) != NULL && seq_lt(s->seq, d->next_seq)) {
		uint32_t end = s->seq + s->len;
		size_t over = seq_leq(end, d->next_seq) ? s->len : (uint32_t)(d->next_seq - s->seq);

		tent_compare(d, s->seq, s->data, over);
		if (over == s->len) {
			*pp = s->next;
			d->n_tent--;
			mem_give(m, sizeof(*s) + s->cap);
			free(s);
			g_stats.reasm_tentative_replaced++;
			continue;
		}
		memmove(s->data, s->data + over, s->len - over);
		s->seq += (uint32_t)over;
		s->len -= (uint32_t)over;
		pp = &s->next;
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

/* Copy [seq, seq+len) into a new segment on the sorted list *head (equal
 * seqs keep arrival order: first copy first), charged to the memcaps.
 * -1 when the memory is refused (counted by mem_take) or malloc fails. */
static int seg_insert(struct reasm_seg **head, size_t *n, struct reasm_mem *m,
                      uint32_t seq, const uint8_t *data, size_t len)
{
	struct reasm_seg *s, **pp;

	if (mem_take(m, sizeof(*s) + len) < 0)
		return -1;
	s = malloc(sizeof(*s) + len);   /* owned by the list; freed in drain/tent_settle/free_list */
	if (!s) {
		mem_give(m, sizeof(*s) + len);
		return -1;
	}
	s->seq = seq;
	s->len = s->cap = (uint32_t)len;
	memcpy(s->data, data, len);
	for (pp = head; *pp && seq_leq((*pp)->seq, seq); pp = &(*pp)->next)
		;
	s->next = *pp;
	*pp = s;
	(*n)++;
	return 0;
}

static int queue_early(struct reasm_dir *d, struct reasm_mem *m,
                       uint32_t seq, const uint8_t *data, size_t len)
{
	if (d->n_ooo >= m->lim->max_ooo_segs) {
		g_stats.reasm_ooo_limit++;
		return -1;
	}
	/* Bytes that could only be delivered past the flow memcap never will be. */
	if ((uint32_t)(seq - d->next_seq) > m->lim->flow_memcap) {
		g_stats.reasm_flow_memcap++;
		return -1;
	}
	if (seg_insert(&d->ooo, &d->n_ooo, m, seq, data, len) < 0)
		return -1;
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
		tent_settle(d, m);
		return REASM_OK;
	}
	if (queue_early(d, m, seq, data, len) < 0)
		return limit(d, m);
	return REASM_OK;
}

void reasm_add_tentative(struct reasm_dir *d, struct reasm_mem *m,
                         uint32_t seq, const uint8_t *data, size_t len)
{
	if (d->state != REASM_ACTIVE || len == 0 || len > UINT32_MAX / 2)
		return;
	g_stats.reasm_tentative++;
	if (seq_lt(seq, d->next_seq)) {
		/* A valid copy came first: it stays; the difference is noted. */
		uint32_t end = seq + (uint32_t)len;
		size_t over = seq_leq(end, d->next_seq) ? len : (uint32_t)(d->next_seq - seq);

		tent_compare(d, seq, data, over);
		if (over == len) {
			g_stats.reasm_tentative_replaced++;
			return;
		}
		seq += (uint32_t)over;
		data += over;
		len -= over;
	}
	if (d->n_tent >= m->lim->max_ooo_segs ||
	    (uint32_t)(seq - d->next_seq) > m->lim->flow_memcap ||
	    seg_insert(&d->tent, &d->n_tent, m, seq, data, len) < 0)
		g_stats.reasm_tentative_dropped++;
}

long reasm_ack(struct reasm_dir *d, struct reasm_mem *m, uint32_t ack)
{
	struct reasm_seg *s;
	long total = 0;

	if (d->state != REASM_ACTIVE)
		return 0;
	/* tent_settle keeps every copy at or past next_seq: the head fills
	 * the hole when it starts exactly there. */
	while ((s = d->tent) != NULL && s->seq == d->next_seq && seq_lt(d->next_seq, ack)) {
		uint32_t stop = s->seq + s->len;
		size_t n;

		if (seq_lt(ack, stop))
			stop = ack;
		/* A valid early segment wins over the tentative bytes it covers. */
		if (d->ooo && seq_lt(d->ooo->seq, stop))
			stop = d->ooo->seq;
		n = (uint32_t)(stop - d->next_seq);
		if (n == 0)
			break;
		if (grow(d, m, n) < 0) {
			limit(d, m);
			return -1;
		}
		memcpy(d->buf + d->len, s->data, n);
		d->len += n;
		d->next_seq += (uint32_t)n;
		d->tent_used += n;
		total += (long)n;
		if (n == s->len) {
			/* Used whole: counted once, as used. */
			d->tent = s->next;
			d->n_tent--;
			mem_give(m, sizeof(*s) + s->cap);
			free(s);
			g_stats.reasm_tentative_used++;
		}
		tent_settle(d, m);
		if (drain(d, m) < 0) {
			limit(d, m);
			return -1;
		}
		tent_settle(d, m);
	}
	return total;
}
