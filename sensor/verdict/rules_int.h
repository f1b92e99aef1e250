/*
 * rules_int.h - what sensor/verdict/rules.c and rules_values.c share, and
 * nothing else includes: the loader's state, its error form, and the
 * value parsers.  The contract is include/verdict/policy.h and include/verdict/rules.h.
 */
#ifndef CS_RULES_INT_H
#define CS_RULES_INT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "verdict/rules.h"

struct loader {
	struct policy *p;
	const char *file;        /* rules file being read; view */
	unsigned line;           /* 0: the file as a whole */
	char *dir;               /* its directory, for relative CA paths; owned */
	struct rules_owner *cur; /* section being read, or NULL */
	char *err;
	size_t errlen;
	const atomic_int *cancel; /* non-zero: give up (a reload at stop); NULL: never */
};

/* "FILE:LINE: reason" into ld->err; returns -1, for "return rules_err(...)". */
__attribute__((format(printf, 2, 3)))
int rules_err(struct loader *ld, const char *fmt, ...);

/* ---- rules_values.c ---- */

/* "dir/name" in a new string (caller owns), or NULL. */
char *rules_join_path(const char *dir, const char *name);

/* ADDR[/PREFIX] into *c (IPv4-mapped IPv6 folded to IPv4): 0, or -1
 * with the reason in ld (host bits set, a bad prefix...). */
int rules_parse_cidr(struct loader *ld, const char *tok, struct rules_cidr *c);

/* A DNS name, lower-cased into *out (caller owns): 0, or -1 with the
 * reason in ld.  A "*." left-most label is a wildcard. */
int rules_parse_name(struct loader *ld, const char *tok, char **out);

/* A DNS zone (the apex of "protect zone"), lower-cased into *out (caller
 * owns): 0, or -1 with the reason in ld.  Not a wildcard and not an
 * address: the zone already covers every name below it, and an address is
 * "protect ip"'s. */
int rules_parse_zone(struct loader *ld, const char *tok, char **out);

/* Standard base64 (RFC 4648 §4), white space skipped, '=' padding only at
 * the end.  -1 on a bad character, bad padding or when out is too small. */
int rules_b64_decode(const char *s, size_t n, uint8_t *out, size_t cap, size_t *outlen);

/* sha256:HEX or sha256/BASE64 (RFC 7469 §2.4) into 64 lower-case hex
 * digits: 0, or -1 with the reason in ld. */
int rules_parse_pin(struct loader *ld, const char *tok, char hex[65]);

#endif
