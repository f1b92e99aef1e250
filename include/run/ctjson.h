/*
 * ctjson.h - the JSON of CT get-entries answers, read without a tree
 * (--ct-json; the parse stage of ctlog.c).
 *
 * Why not jansson: building a jansson tree of each answer was 56 % of
 * --ct-json's run time (perf, `make bench`'s 100,000 entries: ~29 us an
 * entry, most of it copying two 1-3 KB base64 strings through jansson's
 * string buffer byte by byte), above the 20,000 entries a second that
 * issue 16 asks.  This reader is a strict validating parser of RFC 8259
 * JSON (what jansson with JSON_REJECT_DUPLICATES accepts; tests/
 * test_ctjson.c checks it against jansson), which hands out the two
 * strings an entry has as views into the input where they hold no
 * escapes (base64 never needs one).
 */
#ifndef CS_CTJSON_H
#define CS_CTJSON_H

#include <stddef.h>

/* Nesting deeper than this is refused (an answer is 3 deep; the bound
 * keeps the recursive descent's stack small on hostile input). */
#define CTJ_MAX_DEPTH 64

/* One entry object as found.  leaf/extra: the string members leaf_input
 * and extra_data unescaped, NULL when missing or not a string; views
 * valid only during the callback. */
struct ctj_entry {
	int is_object;
	int duplicate;          /* leaf_input or extra_data given twice */
	const char *leaf, *extra;
	size_t leaf_len, extra_len;
};

/* Nonzero stops the parse, and ctj_parse returns it. */
typedef int (*ctj_entry_fn)(void *arg, const struct ctj_entry *e);

/* Parse the one JSON value buf[0..len) (whitespace around it allowed).
 * An object with an "entries" array is a get-entries answer: fn is called
 * for each element, in order, as it is read.  Any other value is one
 * entry: fn is called once, after the whole value was read.  Returns 0,
 * fn's nonzero return, or -1 when the value is not JSON (the reason and
 * byte offset in err); entries of an answer before the fault were
 * already handed out. */
int ctj_parse(const char *buf, size_t len, ctj_entry_fn fn, void *arg, char *err, size_t errlen);

#endif
