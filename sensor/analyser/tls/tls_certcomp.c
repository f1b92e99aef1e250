/*
 * tls_certcomp.c - certificate decompression for RFC 8879 (TLS 1.3
 * CompressedCertificate): zlib (RFC 1950), brotli (RFC 7932) and zstd
 * (RFC 8878), with Debian's libraries.  The one file of certsentry that
 * includes zlib.h, brotli and zstd.h (STYLE: a library behind one
 * module).  The message around the stream is tls_msg.c's; this file only
 * turns a compressed stream into exactly the number of bytes the message
 * declared, or says why it cannot.
 *
 * The output is the caller's buffer of expected_len bytes: no
 * decompressor is ever given room for more, so a stream that would
 * expand further is stopped at expected_len and reported, never written
 * past it.  Whether a stream that filled the buffer exactly also ended
 * there is asked with one more byte of scratch output: a library may
 * report "needs more output" at a full buffer before it has read the
 * stream's end.
 */
#define ZLIB_CONST   /* z_stream.next_in is const: buf is the caller's view */
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <brotli/decode.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "tls_int.h"

/* ---- the decompressors' memory, within a budget ------------------------ */

/* Each block carries its size in a header, so that the free callbacks
 * (which get only the address) can give its bytes back to the budget.
 * The header is as large as the strictest alignment malloc guarantees, so
 * the pointer handed out keeps that alignment. */
#define CC_HDR sizeof(max_align_t)

struct cc_mem {
	size_t used;     /* bytes handed out and not yet freed */
	size_t budget;   /* at most this many at once */
	int refused;     /* an allocation was refused for the budget */
};

static void *cc_alloc(struct cc_mem *m, size_t n)
{
	uint8_t *p;

	if (n > m->budget - m->used || n > SIZE_MAX - CC_HDR) {
		m->refused = 1;
		return NULL;
	}
	p = malloc(CC_HDR + n);  /* owned by the decompressor; freed by cc_free */
	if (!p)
		return NULL;
	memcpy(p, &n, sizeof n);
	m->used += n;
	return p + CC_HDR;
}

static void cc_free(struct cc_mem *m, void *q)
{
	uint8_t *p;
	size_t n;

	if (!q)
		return;
	p = (uint8_t *)q - CC_HDR;
	memcpy(&n, p, sizeof n);
	m->used -= n;
	free(p);
}

static voidpf z_alloc(voidpf opaque, uInt items, uInt size)
{
	if (size != 0 && items > SIZE_MAX / size)
		return Z_NULL;
	return cc_alloc(opaque, (size_t)items * size);
}

static void z_free(voidpf opaque, voidpf address)
{
	cc_free(opaque, address);
}

static void *br_alloc(void *opaque, size_t size)
{
	return cc_alloc(opaque, size);
}

static void br_free(void *opaque, void *address)
{
	cc_free(opaque, address);
}

/* ---- zlib (RFC 1950: the zlib wrapper, checksum included) -------------- */

static enum certcomp_rc z_error(int rc, const struct cc_mem *m)
{
	if (rc == Z_MEM_ERROR)
		return m->refused ? CERTCOMP_MEMORY : CERTCOMP_CORRUPT;
	return CERTCOMP_CORRUPT;   /* Z_DATA_ERROR, Z_NEED_DICT, Z_STREAM_ERROR */
}

static enum certcomp_rc cc_zlib(const uint8_t *buf, size_t len, size_t expected_len,
                                uint8_t *out, struct cc_mem *m)
{
	z_stream z;
	uint8_t scratch;
	enum certcomp_rc r;
	int rc;

	/* avail_in and avail_out are uInt; RFC 8879 bounds both by 2^24 - 1,
	 * and the caller by max_hs_msg. */
	if (len > UINT_MAX || expected_len > UINT_MAX)
		return CERTCOMP_CORRUPT;
	memset(&z, 0, sizeof z);
	z.zalloc = z_alloc;
	z.zfree = z_free;
	z.opaque = m;
	rc = inflateInit(&z);
	if (rc != Z_OK)
		return z_error(rc, m);
	z.next_in = buf;
	z.avail_in = (uInt)len;
	z.next_out = out;
	z.avail_out = (uInt)expected_len;
	rc = inflate(&z, Z_FINISH);
	if ((rc == Z_OK || rc == Z_BUF_ERROR) && z.avail_out == 0) {
		/* Full: did the stream end here, or does it go on? */
		z.next_out = &scratch;
		z.avail_out = 1;
		rc = inflate(&z, Z_FINISH);
		if (z.avail_out == 0) {
			r = CERTCOMP_LONGER;
			goto out;
		}
	}
	if (rc == Z_STREAM_END)
		r = z.avail_in > 0 ? CERTCOMP_TRAILING :
		    z.total_out != expected_len ? CERTCOMP_SHORTER : CERTCOMP_OK;
	else if (rc == Z_OK || rc == Z_BUF_ERROR)
		r = CERTCOMP_TRUNCATED;   /* room left, input gone, no end */
	else
		r = z_error(rc, m);
out:
	inflateEnd(&z);
	return r;
}

/* ---- brotli (RFC 7932) -------------------------------------------------- */

static enum certcomp_rc br_error(BrotliDecoderState *st, const struct cc_mem *m)
{
	BrotliDecoderErrorCode e = BrotliDecoderGetErrorCode(st);

	/* The allocation errors are the range BROTLI_DECODER_ERROR_ALLOC_*
	 * (decode.h): the budget's refusal, or malloc's. */
	if (m->refused || (e <= BROTLI_DECODER_ERROR_ALLOC_CONTEXT_MODES &&
	                   e >= BROTLI_DECODER_ERROR_ALLOC_BLOCK_TYPE_TREES))
		return CERTCOMP_MEMORY;
	return CERTCOMP_CORRUPT;
}

static enum certcomp_rc cc_brotli(const uint8_t *buf, size_t len, size_t expected_len,
                                  uint8_t *out, struct cc_mem *m)
{
	BrotliDecoderState *st;
	BrotliDecoderResult rc;
	const uint8_t *in = buf;
	size_t in_left = len, out_left = expected_len;
	uint8_t *o = out, scratch;
	enum certcomp_rc r;

	/* Owned here, destroyed below; its allocations go through the
	 * budget. */
	st = BrotliDecoderCreateInstance(br_alloc, br_free, m);
	if (!st)
		return CERTCOMP_MEMORY;
	rc = BrotliDecoderDecompressStream(st, &in_left, &in, &out_left, &o, NULL);
	if (rc == BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT) {
		/* out_left is 0: same question as for zlib */
		o = &scratch;
		out_left = 1;
		rc = BrotliDecoderDecompressStream(st, &in_left, &in, &out_left, &o, NULL);
		if (out_left == 0) {
			r = CERTCOMP_LONGER;
			goto out;
		}
		if (rc == BROTLI_DECODER_RESULT_SUCCESS)
			out_left = 0;   /* the stream ended at exactly expected_len */
	}
	switch (rc) {
	case BROTLI_DECODER_RESULT_SUCCESS:
		r = in_left > 0 ? CERTCOMP_TRAILING : out_left > 0 ? CERTCOMP_SHORTER : CERTCOMP_OK;
		break;
	case BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT:
		r = CERTCOMP_TRUNCATED;
		break;
	case BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT:
		r = CERTCOMP_LONGER;   /* not reached: the probe above decided */
		break;
	case BROTLI_DECODER_RESULT_ERROR:
	default:
		r = br_error(st, m);
		break;
	}
out:
	BrotliDecoderDestroyInstance(st);
	return r;
}

/* ---- zstd (RFC 8878) ---------------------------------------------------- */

/* One frame, ending exactly at the end of buf.  ZSTD_decompressDCtx
 * decodes straight into out (no window buffer of its own, whatever the
 * frame's window size says), so its memory is the context's, fixed. */
static enum certcomp_rc cc_zstd(const uint8_t *buf, size_t len, size_t expected_len,
                                uint8_t *out)
{
	ZSTD_DCtx *dc;
	size_t n, frame;
	enum certcomp_rc r;

	frame = ZSTD_findFrameCompressedSize(buf, len);
	if (ZSTD_isError(frame))
		return ZSTD_getErrorCode(frame) == ZSTD_error_srcSize_wrong ? CERTCOMP_TRUNCATED :
		       CERTCOMP_CORRUPT;
	if (frame != len)
		return CERTCOMP_TRAILING;
	dc = ZSTD_createDCtx();  /* owned here, freed below */
	if (!dc)
		return CERTCOMP_MEMORY;
	n = ZSTD_decompressDCtx(dc, out, expected_len, buf, len);
	if (!ZSTD_isError(n))
		r = n == expected_len ? CERTCOMP_OK : CERTCOMP_SHORTER;
	else if (ZSTD_getErrorCode(n) == ZSTD_error_dstSize_tooSmall)
		r = CERTCOMP_LONGER;
	else if (ZSTD_getErrorCode(n) == ZSTD_error_srcSize_wrong)
		r = CERTCOMP_TRUNCATED;
	else if (ZSTD_getErrorCode(n) == ZSTD_error_memory_allocation)
		r = CERTCOMP_MEMORY;
	else
		r = CERTCOMP_CORRUPT;
	ZSTD_freeDCtx(dc);
	return r;
}

/* ---- the interface (tls_int.h, tls.h) ----------------------------------- */

enum certcomp_rc tls_certcomp_decompress(uint16_t alg, const uint8_t *buf, size_t len,
                                         size_t expected_len, uint8_t *out)
{
	struct cc_mem m = { 0, 0, 0 };

	/* The budget (tls_int.h); expected_len is at most max_hs_msg, so
	 * this does not overflow for any limit a size_t can hold a buffer
	 * of, and saturates otherwise. */
	m.budget = expected_len > (SIZE_MAX - CERTCOMP_MEM_BASE) / CERTCOMP_MEM_PER_BYTE ?
	           SIZE_MAX : CERTCOMP_MEM_BASE + CERTCOMP_MEM_PER_BYTE * expected_len;
	switch (alg) {
	case CERTCOMP_ZLIB:
		return cc_zlib(buf, len, expected_len, out, &m);
	case CERTCOMP_BROTLI:
		return cc_brotli(buf, len, expected_len, out, &m);
	case CERTCOMP_ZSTD:
		return cc_zstd(buf, len, expected_len, out);
	default:
		return CERTCOMP_UNKNOWN;
	}
}

const char *tls_certcomp_rc_text(enum certcomp_rc rc)
{
	switch (rc) {
	case CERTCOMP_OK:        return "ok";
	case CERTCOMP_UNKNOWN:   return "unknown algorithm";
	case CERTCOMP_LONGER:    return "longer than uncompressed_length";
	case CERTCOMP_SHORTER:   return "shorter than uncompressed_length";
	case CERTCOMP_TRUNCATED: return "stream cut short";
	case CERTCOMP_TRAILING:  return "bytes after the stream";
	case CERTCOMP_CORRUPT:   return "corrupt stream";
	case CERTCOMP_MEMORY:    return "decompressor memory over its budget";
	}
	return "?";
}

const char *tls_certcomp_name(uint16_t alg)
{
	switch (alg) {
	case CERTCOMP_ZLIB:   return "zlib";
	case CERTCOMP_BROTLI: return "brotli";
	case CERTCOMP_ZSTD:   return "zstd";
	default:              return "unknown";
	}
}
