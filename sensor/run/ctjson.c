/*
 * ctjson.c - get-entries JSON read without a tree (ctjson.h).
 *
 * Owns: a strict recursive-descent JSON reader (RFC 8259: strings with
 * their escapes and UTF-8, numbers, literals, nesting up to CTJ_MAX_DEPTH)
 * and picking out entries' leaf_input and extra_data.  Must not touch:
 * base64 or what an entry means (ctlog.c).  Every read is bounded by the
 * input's end; nothing is trusted to be terminated.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run/ctjson.h"
#include "core/jsonw.h"

struct ctj {
	const unsigned char *p, *end, *base;
	int depth;
	char *err;
	size_t errlen;
};

/* A JSON string's content: raw[0..raw_len) between the quotes; escaped
 * when it holds a backslash (then it must be unescaped to be used). */
struct ctj_str {
	const unsigned char *raw;
	size_t raw_len;
	int escaped;
};

static int fail(struct ctj *j, const char *why)
{
	if (j->err[0] == '\0')
		snprintf(j->err, j->errlen, "%s at byte %zu", why, (size_t)(j->p - j->base));
	return -1;
}

static void skip_ws(struct ctj *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static int hex4(const unsigned char *p, unsigned *v)
{
	*v = 0;
	for (int i = 0; i < 4; i++) {
		unsigned char c = p[i];
		unsigned d = c >= '0' && c <= '9' ? (unsigned)(c - '0') : c >= 'a' && c <= 'f' ? c - 'a' + 10u :
		             c >= 'A' && c <= 'F' ? c - 'A' + 10u : 16u;

		if (d == 16)
			return -1;
		*v = *v << 4 | d;
	}
	return 0;
}

/* A \u escape at p (after the backslash and 'u'), with its low surrogate
 * when it is a high one; the code point in *cp, the bytes read in *used.
 * jansson's rules: no lone surrogates, no U+0000. */
static int uescape(const unsigned char *p, const unsigned char *end, unsigned *cp, size_t *used)
{
	unsigned hi, lo;

	if (end - p < 4 || hex4(p, &hi) < 0)
		return -1;
	*used = 4;
	if (hi >= 0xDC00 && hi <= 0xDFFF)
		return -1;
	if (hi >= 0xD800 && hi <= 0xDBFF) {
		if (end - p < 10 || p[4] != '\\' || p[5] != 'u' || hex4(p + 6, &lo) < 0 ||
		    lo < 0xDC00 || lo > 0xDFFF)
			return -1;
		hi = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
		*used = 10;
	}
	if (hi == 0)
		return -1;
	*cp = hi;
	return 0;
}

/* The string at j->p (its opening quote), validated; j->p after it. */
static int read_string(struct ctj *j, struct ctj_str *s)
{
	const unsigned char *p = j->p + 1;
	int high = 0;

	s->escaped = 0;
	for (;;) {
		/* the run of plain ASCII bytes: nearly all of a base64 string */
		while (p < j->end && *p >= 0x20 && *p != '"' && *p != '\\' && *p < 0x80)
			p++;
		if (p >= j->end) {
			j->p = p;
			return fail(j, "unterminated string");
		}
		if (*p == '"')
			break;
		if (*p < 0x20) {
			j->p = p;
			return fail(j, "control character in a string");
		}
		if (*p >= 0x80) {
			high = 1;
			p++;
			continue;
		}
		/* a backslash */
		s->escaped = 1;
		if (j->end - p < 2) {
			j->p = p;
			return fail(j, "unterminated string");
		}
		if (p[1] == 'u') {
			unsigned cp;
			size_t used;

			if (uescape(p + 2, j->end, &cp, &used) < 0) {
				j->p = p;
				return fail(j, "invalid \\u escape");
			}
			p += 2 + used;
		} else if (strchr("\"\\/bfnrt", p[1]) && p[1] != '\0') {
			p += 2;
		} else {
			j->p = p;
			return fail(j, "invalid escape");
		}
	}
	s->raw = j->p + 1;
	s->raw_len = (size_t)(p - s->raw);
	if (high && !jsonw_utf8_valid(s->raw, s->raw_len))
		return fail(j, "string is not UTF-8");
	j->p = p + 1;
	return 0;
}

/* The unescaped bytes of a validated string, malloc'd into *out (caller
 * frees), its length in *n.  -1 when out of memory. */
static int unescape(const struct ctj_str *s, char **out, size_t *n)
{
	const unsigned char *p = s->raw, *end = s->raw + s->raw_len;
	char *o = malloc(s->raw_len + 1), *w = o;

	if (!o)
		return -1;
	while (p < end) {
		unsigned cp;
		size_t used;

		if (*p != '\\') {
			*w++ = (char)*p++;
			continue;
		}
		switch (p[1]) {
		case 'b': *w++ = '\b'; break;
		case 'f': *w++ = '\f'; break;
		case 'n': *w++ = '\n'; break;
		case 'r': *w++ = '\r'; break;
		case 't': *w++ = '\t'; break;
		case 'u':
			uescape(p + 2, end, &cp, &used);   /* validated by read_string */
			if (cp < 0x80) {
				*w++ = (char)cp;
			} else if (cp < 0x800) {
				*w++ = (char)(0xC0 | cp >> 6);
				*w++ = (char)(0x80 | (cp & 0x3F));
			} else if (cp < 0x10000) {
				*w++ = (char)(0xE0 | cp >> 12);
				*w++ = (char)(0x80 | (cp >> 6 & 0x3F));
				*w++ = (char)(0x80 | (cp & 0x3F));
			} else {
				*w++ = (char)(0xF0 | cp >> 18);
				*w++ = (char)(0x80 | (cp >> 12 & 0x3F));
				*w++ = (char)(0x80 | (cp >> 6 & 0x3F));
				*w++ = (char)(0x80 | (cp & 0x3F));
			}
			p += 2 + used;
			continue;
		default: *w++ = (char)p[1]; break;   /* " \ / */
		}
		p += 2;
	}
	*n = (size_t)(w - o);
	*out = o;
	return 0;
}

/* Is the validated string s the key k?  Escaped keys are unescaped first
 * (a key spelt with \u escapes is still that key). */
static int key_is(const struct ctj_str *s, const char *k)
{
	size_t kl = strlen(k), n;
	char *u;
	int eq;

	if (!s->escaped)
		return s->raw_len == kl && memcmp(s->raw, k, kl) == 0;
	if (unescape(s, &u, &n) < 0)
		return 0;
	eq = n == kl && memcmp(u, k, kl) == 0;
	free(u);
	return eq;
}

/* -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static int read_number(struct ctj *j)
{
	const unsigned char *p = j->p, *e = j->end;

#define DIGITS(q) ((q) < e && *(q) >= '0' && *(q) <= '9')
	if (p < e && *p == '-')
		p++;
	if (!DIGITS(p))
		return fail(j, "invalid number");
	if (*p == '0')
		p++;
	else
		while (DIGITS(p))
			p++;
	if (p < e && *p == '.') {
		if (!DIGITS(p + 1))
			return fail(j, "invalid number");
		for (p++; DIGITS(p); p++)
			;
	}
	if (p < e && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < e && (*p == '+' || *p == '-'))
			p++;
		if (!DIGITS(p))
			return fail(j, "invalid number");
		while (DIGITS(p))
			p++;
	}
#undef DIGITS
	j->p = p;
	return 0;
}

static int read_literal(struct ctj *j, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(j->end - j->p) < n || memcmp(j->p, w, n) != 0)
		return fail(j, "invalid token");
	j->p += n;
	return 0;
}

static int skip_value(struct ctj *j);

/* The members of the object at j->p ('{'), each handed to fn with its
 * key; fn reads the value (j->p at it, whitespace skipped). */
typedef int (*member_fn)(struct ctj *j, const struct ctj_str *key, void *arg);

static int read_object(struct ctj *j, member_fn fn, void *arg)
{
	struct ctj_str key;
	int rc;

	if (++j->depth > CTJ_MAX_DEPTH)
		return fail(j, "nested too deep");
	j->p++;
	skip_ws(j);
	if (j->p < j->end && *j->p == '}') {
		j->p++;
		j->depth--;
		return 0;
	}
	for (;;) {
		skip_ws(j);
		if (j->p >= j->end || *j->p != '"')
			return fail(j, "expected a key");
		if (read_string(j, &key) < 0)
			return -1;
		skip_ws(j);
		if (j->p >= j->end || *j->p != ':')
			return fail(j, "expected ':'");
		j->p++;
		skip_ws(j);
		if ((rc = fn(j, &key, arg)) != 0)
			return rc;
		skip_ws(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			continue;
		}
		if (j->p < j->end && *j->p == '}') {
			j->p++;
			j->depth--;
			return 0;
		}
		return fail(j, "expected ',' or '}'");
	}
}

/* The elements of the array at j->p ('['), each read by fn (or skipped). */
typedef int (*element_fn)(struct ctj *j, void *arg);

static int read_array(struct ctj *j, element_fn fn, void *arg)
{
	int rc;

	if (++j->depth > CTJ_MAX_DEPTH)
		return fail(j, "nested too deep");
	j->p++;
	skip_ws(j);
	if (j->p < j->end && *j->p == ']') {
		j->p++;
		j->depth--;
		return 0;
	}
	for (;;) {
		skip_ws(j);
		if ((rc = fn ? fn(j, arg) : skip_value(j)) != 0)
			return rc;
		skip_ws(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			continue;
		}
		if (j->p < j->end && *j->p == ']') {
			j->p++;
			j->depth--;
			return 0;
		}
		return fail(j, "expected ',' or ']'");
	}
}

static int skip_member(struct ctj *j, const struct ctj_str *key, void *arg)
{
	(void)key;
	(void)arg;
	return skip_value(j);
}

static int skip_value(struct ctj *j)
{
	struct ctj_str s;

	if (j->p >= j->end)
		return fail(j, "expected a value");
	switch (*j->p) {
	case '{': return read_object(j, skip_member, NULL);
	case '[': return read_array(j, NULL, NULL);
	case '"': return read_string(j, &s);
	case 't': return read_literal(j, "true");
	case 'f': return read_literal(j, "false");
	case 'n': return read_literal(j, "null");
	default:  return read_number(j);
	}
}

/* ---- entries ------------------------------------------------------------- */

/* An entry being read; its unescaped copies (rare) owned here. */
struct entry_state {
	struct ctj_entry e;
	int seen_leaf, seen_extra;
	char *own_leaf, *own_extra;
};

/* One of leaf_input/extra_data: a string's bytes, or NULL (not a string). */
static int take_string(struct ctj *j, const char **v, size_t *n, char **own)
{
	struct ctj_str s;

	if (j->p >= j->end || *j->p != '"')
		return skip_value(j);   /* not a string: the entry says so */
	if (read_string(j, &s) < 0)
		return -1;
	if (!s.escaped) {
		*v = (const char *)s.raw;
		*n = s.raw_len;
		return 0;
	}
	free(*own);   /* a member given twice: the first copy */
	*own = NULL;
	if (unescape(&s, own, n) < 0)
		return fail(j, "out of memory");
	*v = *own;
	return 0;
}

static int entry_member(struct ctj *j, const struct ctj_str *key, void *arg)
{
	struct entry_state *st = arg;

	if (key_is(key, "leaf_input")) {
		st->e.duplicate |= st->seen_leaf++;
		return take_string(j, &st->e.leaf, &st->e.leaf_len, &st->own_leaf);
	}
	if (key_is(key, "extra_data")) {
		st->e.duplicate |= st->seen_extra++;
		return take_string(j, &st->e.extra, &st->e.extra_len, &st->own_extra);
	}
	return skip_value(j);
}

static void entry_release(struct entry_state *st)
{
	free(st->own_leaf);
	free(st->own_extra);
}

/* A value read as one entry (an object with the two strings, or not). */
static int read_entry(struct ctj *j, struct entry_state *st)
{
	memset(st, 0, sizeof(*st));
	if (j->p < j->end && *j->p == '{') {
		st->e.is_object = 1;
		return read_object(j, entry_member, st);
	}
	return skip_value(j);
}

struct page {
	ctj_entry_fn fn;
	void *arg;
	int is_page;             /* an "entries" array was read */
	int seen_entries;
	struct entry_state top;  /* the value's own members, as an entry */
};

static int page_element(struct ctj *j, void *arg)
{
	struct page *pg = arg;
	struct entry_state st;
	int rc = read_entry(j, &st);

	if (rc == 0)
		rc = pg->fn(pg->arg, &st.e);
	entry_release(&st);
	return rc;
}

static int top_member(struct ctj *j, const struct ctj_str *key, void *arg)
{
	struct page *pg = arg;

	if (!key_is(key, "entries"))
		return entry_member(j, key, &pg->top);
	if (pg->seen_entries++)
		return fail(j, "duplicate key \"entries\"");
	if (j->p < j->end && *j->p == '[') {
		pg->is_page = 1;
		return read_array(j, page_element, pg);
	}
	return skip_value(j);
}

int ctj_parse(const char *buf, size_t len, ctj_entry_fn fn, void *arg, char *err, size_t errlen)
{
	struct ctj j = { (const unsigned char *)buf, (const unsigned char *)buf + len,
	                 (const unsigned char *)buf, 0, err, errlen };
	struct page pg;
	int rc;

	err[0] = '\0';
	memset(&pg, 0, sizeof(pg));
	pg.fn = fn;
	pg.arg = arg;
	skip_ws(&j);
	if (j.p < j.end && *j.p == '{') {
		pg.top.e.is_object = 1;
		rc = read_object(&j, top_member, &pg);
	} else {
		rc = skip_value(&j);
	}
	if (rc == 0) {
		skip_ws(&j);
		if (j.p != j.end)
			rc = fail(&j, "bytes after the value");
	}
	if (rc == 0 && !pg.is_page)
		rc = fn(arg, &pg.top.e);
	entry_release(&pg.top);
	return rc;
}
