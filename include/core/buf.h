/*
 * buf.h - bounds-checked readers for untrusted bytes.
 *
 * Every read of packet, record or certificate bytes goes through these
 * helpers (the idea of tcpdump's extract.h and OpenSSH's sshbuf): a cursor
 * over a const view that fails softly when the input is short.  A short
 * read leaves the cursor where it was and returns -1; nothing reads past
 * the end.  Lengths are compared as "n > left", never "off + n > len", so
 * the checks cannot overflow.
 */
#ifndef CS_BUF_H
#define CS_BUF_H

#include <stddef.h>
#include <stdint.h>

struct buf {
	const uint8_t *p; /* view, not owned */
	size_t len;
	size_t off;
};

static inline void buf_init(struct buf *b, const uint8_t *p, size_t len)
{
	b->p = p;
	b->len = len;
	b->off = 0;
}

static inline size_t buf_left(const struct buf *b)
{
	return b->len - b->off;
}

static inline const uint8_t *buf_ptr(const struct buf *b)
{
	return b->p + b->off;
}

static inline int buf_skip(struct buf *b, size_t n)
{
	if (n > buf_left(b))
		return -1;
	b->off += n;
	return 0;
}

static inline int buf_u8(struct buf *b, uint8_t *v)
{
	if (buf_left(b) < 1)
		return -1;
	*v = b->p[b->off];
	b->off += 1;
	return 0;
}

static inline int buf_be16(struct buf *b, uint16_t *v)
{
	if (buf_left(b) < 2)
		return -1;
	*v = (uint16_t)((uint16_t)b->p[b->off] << 8 | b->p[b->off + 1]);
	b->off += 2;
	return 0;
}

static inline int buf_be24(struct buf *b, uint32_t *v)
{
	if (buf_left(b) < 3)
		return -1;
	*v = (uint32_t)b->p[b->off] << 16 | (uint32_t)b->p[b->off + 1] << 8 |
	     b->p[b->off + 2];
	b->off += 3;
	return 0;
}

static inline int buf_be32(struct buf *b, uint32_t *v)
{
	if (buf_left(b) < 4)
		return -1;
	*v = (uint32_t)b->p[b->off] << 24 | (uint32_t)b->p[b->off + 1] << 16 |
	     (uint32_t)b->p[b->off + 2] << 8 | b->p[b->off + 3];
	b->off += 4;
	return 0;
}

/* Little-endian 32 bits: pcap headers and the BSD loopback family word. */
static inline int buf_le32(struct buf *b, uint32_t *v)
{
	if (buf_left(b) < 4)
		return -1;
	*v = (uint32_t)b->p[b->off + 3] << 24 | (uint32_t)b->p[b->off + 2] << 16 |
	     (uint32_t)b->p[b->off + 1] << 8 | b->p[b->off];
	b->off += 4;
	return 0;
}

/* Take a view of the next n bytes; *out points into the same storage. */
static inline int buf_bytes(struct buf *b, size_t n, const uint8_t **out)
{
	if (n > buf_left(b))
		return -1;
	*out = b->p + b->off;
	b->off += n;
	return 0;
}

/* Take the next n bytes as a sub-cursor (a length-prefixed vector). */
static inline int buf_sub(struct buf *b, size_t n, struct buf *sub)
{
	const uint8_t *p;

	if (buf_bytes(b, n, &p) < 0)
		return -1;
	buf_init(sub, p, n);
	return 0;
}

/* Peek without moving: value of the big-endian 16 bits at off, or -1. */
static inline int buf_peek_be16(const uint8_t *p, size_t len, size_t off, uint16_t *v)
{
	if (off > len || len - off < 2)
		return -1;
	*v = (uint16_t)((uint16_t)p[off] << 8 | p[off + 1]);
	return 0;
}

#endif
