/*
 * jsonw.c - streaming JSON writer (see include/core/jsonw.h).
 *
 * Owns the line buffer; escapes every string (RFC 8259) and refuses
 * invalid UTF-8.  Must not: know EVE's fields (output.c does).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/jsonw.h"

void jw_init(struct jsonw *w)
{
	w->buf = w->inl;
	w->cap = sizeof(w->inl);
	jw_reset(w);
}

void jw_reset(struct jsonw *w)
{
	w->len = 0;
	w->depth = 0;
	w->is_arr = w->has_items = 0;
	w->failed = 0;
	w->buf[0] = '\0';
}

void jw_free(struct jsonw *w)
{
	if (w->buf != w->inl)
		free(w->buf);
	w->buf = w->inl;
	w->cap = sizeof(w->inl);
	jw_reset(w);
}

/* Room for need more bytes and the terminating NUL.  0, or -1 (failed). */
static int reserve(struct jsonw *w, size_t need)
{
	size_t cap;
	char *nb;

	if (w->failed)
		return -1;
	if (need < w->cap - w->len)
		return 0;
	if (need > SIZE_MAX / 4 - w->len) {
		w->failed = 1;
		return -1;
	}
	cap = w->cap;
	while (cap - w->len <= need)
		cap *= 2;
	if (w->buf == w->inl) {
		nb = malloc(cap);         /* owned by w from here on */
		if (nb)
			memcpy(nb, w->inl, w->len + 1);
	} else {
		nb = realloc(w->buf, cap);
	}
	if (!nb) {
		w->failed = 1;
		return -1;
	}
	w->buf = nb;
	w->cap = cap;
	return 0;
}

static void put_raw(struct jsonw *w, const char *s, size_t n)
{
	if (reserve(w, n) < 0)
		return;
	memcpy(w->buf + w->len, s, n);
	w->len += n;
	w->buf[w->len] = '\0';
}

/* jansson's rules (utf.c): the length a lead byte announces, 0 when it
 * cannot start a character (a continuation byte, C0/C1 overlong leads,
 * F5 and above). */
static size_t utf8_lead(unsigned char c)
{
	if (c < 0x80)
		return 1;
	if (c < 0xC2)
		return 0;
	if (c < 0xE0)
		return 2;
	if (c < 0xF0)
		return 3;
	if (c < 0xF5)
		return 4;
	return 0;
}

int jsonw_utf8_valid(const unsigned char *p, size_t n)
{
	static const uint32_t min[5] = { 0, 0, 0x80, 0x800, 0x10000 };
	size_t i = 0;

	while (i < n) {
		size_t k = utf8_lead(p[i]);
		uint32_t v;

		if (k == 0 || k > n - i)
			return 0;
		if (k == 1) {
			i++;
			continue;
		}
		v = p[i] & (0x7Fu >> k);
		for (size_t j = 1; j < k; j++) {
			if (p[i + j] < 0x80 || p[i + j] > 0xBF)
				return 0;
			v = v << 6 | (p[i + j] & 0x3Fu);
		}
		if (v < min[k] || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
			return 0;
		i += k;
	}
	return 1;
}

/* Eight bytes at a time (see put_string).  ONES * c repeats byte c. */
#define ONES  0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

static uint64_t load8(const unsigned char *p)
{
	uint64_t x;

	memcpy(&x, p, 8);
	return x;
}

/* Nonzero when a byte of x is below 0x20, '"' or '\\', or (high set)
 * 0x80 or above: a byte put_string cannot copy as it is.  The tests are
 * exact as booleans (a borrow only runs on from a byte that matched). */
static uint64_t word_special(uint64_t x, uint64_t high)
{
	uint64_t q = x ^ (ONES * '"'), b = x ^ (ONES * '\\');

	return ((x - ONES * 0x20) & ~x) |                       /* < 0x20 */
	       ((q - ONES) & ~q) | ((b - ONES) & ~b) |          /* '"', '\\' */
	       (x & high);
}

/* The string as a JSON string.  Eight bytes at a time while none needs
 * escaping (nearly all of a certificate name or a chain); the rest byte by
 * byte.  put_string was 12 % of the samples of a run over short
 * connections, 8 % so. */
static void put_string(struct jsonw *w, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), i = 0, j = 0;
	int valid = 1;
	uint64_t high;
	char *o;

	/* Bytes >= 0x80 pass when the whole string is UTF-8, else each is
	 * '?': look further only from the first one (ASCII words skipped,
	 * then at most a word byte by byte). */
	while (n - j >= 8 && !(load8(p + j) & HIGHS))
		j += 8;
	while (j < n && p[j] < 0x80)
		j++;
	if (j < n)
		valid = jsonw_utf8_valid(p + j, n - j);
	high = valid ? 0 : HIGHS;
	/* Worst case: every byte a 6-byte \u00XX escape, plus the quotes. */
	if (n > (SIZE_MAX / 4 - 2) / 6 || reserve(w, 6 * n + 2) < 0) {
		w->failed = 1;
		return;
	}
	o = w->buf + w->len;
	*o++ = '"';
	while (i < n) {
		unsigned char c;

		if (n - i >= 8 && !(word_special(load8(p + i), high) & HIGHS)) {
			memcpy(o, p + i, 8);
			o += 8;
			i += 8;
			continue;
		}
		c = p[i++];
		if (c >= 0x80) {
			*o++ = valid ? (char)c : '?';
			continue;
		}
		if (c >= 0x20 && c != '"' && c != '\\') {
			*o++ = (char)c;
			continue;
		}
		*o++ = '\\';
		switch (c) {
		case '"':  *o++ = '"'; break;
		case '\\': *o++ = '\\'; break;
		case '\b': *o++ = 'b'; break;
		case '\f': *o++ = 'f'; break;
		case '\n': *o++ = 'n'; break;
		case '\r': *o++ = 'r'; break;
		case '\t': *o++ = 't'; break;
		default:
			*o++ = 'u';
			*o++ = '0';
			*o++ = '0';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 15];
		}
	}
	*o++ = '"';
	*o = '\0';
	w->len = (size_t)(o - w->buf);
}

/* The separator and key before a value; -1 when the value does not fit
 * where it is written (a key in an array, none in an object, a second
 * top-level value, or a value after an error). */
static int begin_value(struct jsonw *w, const char *key)
{
	uint32_t bit;

	if (w->failed)
		return -1;
	if (w->depth == 0) {
		if (key || w->len > 0)
			goto misuse;
		return 0;
	}
	bit = 1u << (w->depth - 1);
	if ((key != NULL) == ((w->is_arr & bit) != 0))
		goto misuse;
	if (w->has_items & bit)
		put_raw(w, ",", 1);
	w->has_items |= bit;
	if (key) {
		put_string(w, key);
		put_raw(w, ":", 1);
	}
	return w->failed ? -1 : 0;
misuse:
	w->failed = 1;
	return -1;
}

static void open_level(struct jsonw *w, const char *key, int arr)
{
	uint32_t bit;

	if (begin_value(w, key) < 0)
		return;
	if (w->depth >= JSONW_MAX_DEPTH) {
		w->failed = 1;
		return;
	}
	bit = 1u << w->depth;
	w->depth++;
	if (arr)
		w->is_arr |= bit;
	else
		w->is_arr &= ~bit;
	w->has_items &= ~bit;
	put_raw(w, arr ? "[" : "{", 1);
}

void jw_obj(struct jsonw *w, const char *key)
{
	open_level(w, key, 0);
}

void jw_arr(struct jsonw *w, const char *key)
{
	open_level(w, key, 1);
}

void jw_end(struct jsonw *w)
{
	if (w->failed)
		return;
	if (w->depth == 0) {
		w->failed = 1;
		return;
	}
	w->depth--;
	put_raw(w, (w->is_arr & (1u << w->depth)) ? "]" : "}", 1);
}

void jw_str(struct jsonw *w, const char *key, const char *s)
{
	if (begin_value(w, key) < 0)
		return;
	if (s)
		put_string(w, s);
	else
		put_raw(w, "null", 4);
}

void jw_int(struct jsonw *w, const char *key, int64_t v)
{
	char tmp[24], *e = tmp + sizeof(tmp), *p = e;
	/* Magnitude in unsigned arithmetic: -INT64_MIN does not fit. */
	uint64_t u = v < 0 ? 0u - (uint64_t)v : (uint64_t)v;

	if (begin_value(w, key) < 0)
		return;
	do {
		*--p = (char)('0' + u % 10u);
		u /= 10u;
	} while (u);
	if (v < 0)
		*--p = '-';
	put_raw(w, p, (size_t)(e - p));
}

void jw_bool(struct jsonw *w, const char *key, int v)
{
	if (begin_value(w, key) < 0)
		return;
	if (v)
		put_raw(w, "true", 4);
	else
		put_raw(w, "false", 5);
}

void jw_null(struct jsonw *w, const char *key)
{
	if (begin_value(w, key) < 0)
		return;
	put_raw(w, "null", 4);
}

size_t jsonw_b64_encode(const uint8_t *in, size_t n, char *out)
{
	static const char tbl[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *o = out;
	size_t i;

	for (i = 0; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];

		*o++ = tbl[v >> 18];
		*o++ = tbl[(v >> 12) & 63];
		*o++ = tbl[(v >> 6) & 63];
		*o++ = tbl[v & 63];
	}
	if (i < n) {
		uint32_t v = (uint32_t)in[i] << 16;

		if (i + 1 < n)
			v |= (uint32_t)in[i + 1] << 8;
		*o++ = tbl[v >> 18];
		*o++ = tbl[(v >> 12) & 63];
		*o++ = i + 1 < n ? tbl[(v >> 6) & 63] : '=';
		*o++ = '=';
	}
	*o = '\0';
	return (size_t)(o - out);
}

void jw_b64(struct jsonw *w, const char *key, const uint8_t *in, size_t n)
{
	char *o;

	if (begin_value(w, key) < 0)
		return;
	if (n / 3 > (SIZE_MAX / 4 - 8) / 4 || reserve(w, 4 * (n / 3 + 1) + 2) < 0) {
		w->failed = 1;
		return;
	}
	o = w->buf + w->len;
	*o++ = '"';
	o += jsonw_b64_encode(in, n, o);
	*o++ = '"';
	*o = '\0';
	w->len = (size_t)(o - w->buf);
}

const char *jw_text(const struct jsonw *w, size_t *len)
{
	if (w->failed || w->depth != 0 || w->len == 0)
		return NULL;
	if (len)
		*len = w->len;
	return w->buf;
}
