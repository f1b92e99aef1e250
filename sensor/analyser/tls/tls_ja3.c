/*
 * tls_ja3.c - JA3 and JA3S strings and their MD5 (salesforce/ja3: the
 * hello's version, ciphers, extensions, groups and point formats in
 * decimal, GREASE left out), from the views tls_msg.c took of a hello.
 * Must not: parse a message (the views' framing is already checked).
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "core/digest.h"
#include "tls_int.h"

/* ---- JA3 / JA3S ------------------------------------------------------ */

/* A string built into a buffer sized beforehand for the worst case. */
struct sb {
	char *p;
	size_t len, cap;
};

static void sb_putc(struct sb *b, char c)
{
	assert(b->len + 1 < b->cap);
	b->p[b->len++] = c;
}

static void sb_num(struct sb *b, unsigned v)
{
	char digits[5];
	size_t n = 0;

	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0 && n < sizeof digits);
	while (n > 0)
		sb_putc(b, digits[--n]);
}

/* The next value of a fingerprint list: 1 when it enters the fingerprint,
 * 0 when it is left out (GREASE; an SSLv2 cipher spec with a non-zero
 * first byte is no TLS cipher suite, RFC 5246 Appendix E.2), -1 at the
 * end.  width: 1, 2, or 3 for SSLv2 cipher specs. */
static int ja3_next(struct buf *list, size_t width, uint16_t *v)
{
	uint8_t hi = 0, v8;

	if (width == 1) {
		if (buf_u8(list, &v8) < 0)
			return -1;
		*v = v8;
		return 1;
	}
	if ((width == 3 && buf_u8(list, &hi) < 0) || buf_be16(list, v) < 0)
		return -1;
	return hi == 0 && !tls_is_grease(*v);
}

/* Append one field: values in decimal, '-' between them. */
static void ja3_list(struct sb *b, struct buf list, size_t width)
{
	int first = 1, r;
	uint16_t v;

	while ((r = ja3_next(&list, width, &v)) >= 0) {
		if (r == 0)
			continue;
		if (!first)
			sb_putc(b, '-');
		sb_num(b, v);
		first = 0;
	}
}

/* The extension types of a block whose framing was checked by the hello
 * parser. */
static void ja3_exts(struct sb *b, struct buf exts)
{
	int first = 1;
	uint16_t type, n;

	while (buf_be16(&exts, &type) == 0 && buf_be16(&exts, &n) == 0 &&
	       buf_skip(&exts, n) == 0) {
		if (tls_is_grease(type))
			continue;
		if (!first)
			sb_putc(b, '-');
		sb_num(b, type);
		first = 0;
	}
}

/* JA3 ("SSLVersion,Ciphers,Extensions,EllipticCurves,
 * EllipticCurvePointFormats") when client, else JA3S ("SSLVersion,Cipher,
 * Extensions"), as Salesforce defined them.  *out is replaced (owned by
 * the session); on allocation failure the fingerprint is left out rather
 * than inspection. */
void tls_ja3_make(const struct hello_views *h, int client, char **out, char md5hex[33])
{
	uint8_t md5[DIGEST_MD5_LEN];
	struct sb b;

	/* Worst case: a 2-byte value prints as "-65535", 3 chars per input
	 * byte; a 1-byte one as "-255".  Plus the version, commas and NUL. */
	b.cap = 3 * (buf_left(&h->ciphers) + buf_left(&h->exts) + buf_left(&h->groups)) +
	        4 * buf_left(&h->formats) + 16;
	b.len = 0;
	b.p = malloc(b.cap);
	if (!b.p)
		return;
	sb_num(&b, h->version);
	sb_putc(&b, ',');
	ja3_list(&b, h->ciphers, h->cipher_width);
	sb_putc(&b, ',');
	ja3_exts(&b, h->exts);
	if (client) {
		sb_putc(&b, ',');
		ja3_list(&b, h->groups, 2);
		sb_putc(&b, ',');
		ja3_list(&b, h->formats, 1);
	}
	b.p[b.len] = '\0';
	free(*out);
	*out = b.p;
	digest_md5(b.p, b.len, md5);
	digest_hex(md5, sizeof md5, md5hex, 0, 0);
}

