/*
 * jsonw.h - a streaming JSON writer for EVE lines: members are appended
 * to one buffer in the order written, with no tree and no allocation per
 * value.
 *
 * Why not jansson (STYLE.md's choice, and what built EVE lines before):
 * on bulk span traffic building a jansson tree and dumping it cost a third
 * of certsentry's whole run time (perf on the `make bench` capture: 33 %,
 * ~60 us per 3.5 KB line) - more than reading and decoding every packet.
 * This writer is part of the output stage (output.c and eve_stats.c are
 * its only users) and writes exactly what jansson's
 * json_dumps(JSON_COMPACT) writes for the same values: tests/test_jsonw.c
 * checks that byte for byte with jansson as the reference, on hostile
 * strings included.
 *
 * Strings are attacker bytes (certificate names): valid UTF-8 is written
 * as it is, escaping '"', '\\' and control characters as jansson does
 * (\b \f \n \r \t, others \u00XX); a string that is not valid UTF-8 (by
 * jansson's rules: no overlong forms, no surrogates, nothing above
 * U+10FFFF) is written with every byte >= 0x80 replaced by '?', so a line
 * is always valid JSON.
 *
 * Errors are sticky: after an allocation failure or a nesting deeper than
 * JSONW_MAX_DEPTH every call does nothing and jw_text() returns NULL.
 */
#ifndef CS_JSONW_H
#define CS_JSONW_H

#include <stddef.h>
#include <stdint.h>

#define JSONW_MAX_DEPTH 16      /* objects/arrays open at once (EVE needs 5) */
#define JSONW_INLINE    8192    /* bytes kept inside the struct: a typical
                                   tls event (3.5 KB) never allocates */

struct jsonw {
	char *buf;                  /* inl, or owned (malloc) once it outgrew inl */
	size_t len, cap;
	unsigned depth;
	uint32_t is_arr;            /* bit d: level d is an array */
	uint32_t has_items;         /* bit d: level d has a member already */
	int failed;
	char inl[JSONW_INLINE];
};

void jw_init(struct jsonw *w);
/* Empty the text for the next line; keeps a grown buffer. */
void jw_reset(struct jsonw *w);
void jw_free(struct jsonw *w);

/* In every call below, key names the member inside an object and must be
 * NULL inside an array or for the top-level value. */
void jw_obj(struct jsonw *w, const char *key);
void jw_arr(struct jsonw *w, const char *key);
void jw_end(struct jsonw *w);              /* closes the innermost object/array */
void jw_str(struct jsonw *w, const char *key, const char *s);   /* NULL: null */
void jw_int(struct jsonw *w, const char *key, int64_t v);
void jw_bool(struct jsonw *w, const char *key, int v);
void jw_null(struct jsonw *w, const char *key);
/* A string holding the base64 (RFC 4648, padded) of n bytes. */
void jw_b64(struct jsonw *w, const char *key, const uint8_t *p, size_t n);
/* The same base64 into out, which needs JSONW_B64_LEN(n) bytes (the
 * padded text and its NUL); returns the text's length.  Shared so that
 * certsentry has one encoder (community_id.c uses it too). */
#define JSONW_B64_LEN(n) (4 * (((n) + 2) / 3) + 1)
size_t jsonw_b64_encode(const uint8_t *in, size_t n, char *out);

/* The finished text (NUL-terminated, owned by w) and its length; NULL
 * after an error or while an object/array is still open. */
const char *jw_text(const struct jsonw *w, size_t *len);

/* Valid UTF-8 as jansson's json_string() accepts it: continuation bytes
 * in 80-BF, the shortest form, no surrogates, nothing above U+10FFFF.
 * Also what ctjson.c accepts in a JSON string it reads. */
int jsonw_utf8_valid(const unsigned char *p, size_t n);

#endif
