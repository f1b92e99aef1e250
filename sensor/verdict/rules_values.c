/*
 * rules_values.c - the values of a rules directive, each from one token:
 * an address or CIDR (IPv4-mapped IPv6 folded to IPv4, host bits refused),
 * a DNS name (a "*." left-most label a wildcard), a DNS zone (a name, never
 * a wildcard or an address), an SPKI pin (hex or the
 * HPKP base64 form), and base64 for PEM.  Every value checked, every
 * problem "FILE:LINE: reason" (rules_err).  Must not: change the policy
 * (rules.c adds what these return).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/digest.h"
#include "rules_int.h"

/* ---- values ---------------------------------------------------------- */

static void mapped_to_v4(struct rules_cidr *c)
{
	static const uint8_t prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	/* Shorter mapped prefixes reach beyond ::ffff:0:0/96 and stay IPv6. */
	if (c->family != AF_INET6 || c->prefix < 96 || memcmp(c->addr, prefix, 12) != 0)
		return;
	memmove(c->addr, c->addr + 12, 4);
	memset(c->addr + 4, 0, 12);
	c->family = AF_INET;
	c->prefix -= 96;
}

/* "dir/name" in a new string (caller owns), or NULL. */
char *rules_join_path(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *s = malloc(n);

	if (s != NULL)
		snprintf(s, n, "%s/%s", dir, name);
	return s;
}

static int parse_prefix(const char *s, unsigned max, unsigned *out)
{
	unsigned v = 0;
	size_t n = strlen(s);

	if (n == 0 || n > 3)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

static int host_bits_set(const struct rules_cidr *c)
{
	size_t bytes = c->family == AF_INET ? 4 : 16;

	for (size_t i = 0; i < bytes; i++) {
		unsigned first = (unsigned)i * 8;
		uint8_t mask;

		if (first + 8 <= c->prefix)
			continue;
		mask = (uint8_t)(first >= c->prefix ? 0xffu : 0xffu >> (c->prefix - first));
		if (c->addr[i] & mask)
			return 1;
	}
	return 0;
}

int rules_parse_cidr(struct loader *ld, const char *tok, struct rules_cidr *c)
{
	const char *slash = strchr(tok, '/');
	size_t alen = slash ? (size_t)(slash - tok) : strlen(tok);
	char addr[INET6_ADDRSTRLEN];
	unsigned max;

	memset(c, 0, sizeof(*c));
	if (alen == 0 || alen >= sizeof(addr))
		return rules_err(ld, "bad address '%s'", tok);
	memcpy(addr, tok, alen);
	addr[alen] = '\0';
	if (inet_pton(AF_INET, addr, c->addr) == 1) {
		c->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, addr, c->addr) == 1) {
		c->family = AF_INET6;
		max = 128;
	} else {
		return rules_err(ld, "bad address '%s'", tok);
	}
	c->prefix = max;
	if (slash != NULL && parse_prefix(slash + 1, max, &c->prefix) < 0)
		return rules_err(ld, "bad prefix length in '%s' (0..%u)", tok, max);
	if (host_bits_set(c))
		return rules_err(ld, "host bits set in '%s'", tok);
	/* alen < 46 and the prefix has at most 3 digits: it fits. */
	snprintf(c->text, sizeof(c->text), "%s", tok);
	mapped_to_v4(c);
	return 0;
}

/* Why a (lower-cased, dot-trimmed) name is not acceptable, or NULL. */
static const char *name_problem(const char *name)
{
	const char *label = name;

	if (strcmp(name, "*") == 0)
		return "a wildcard needs a domain after '*.'";
	for (;;) {
		size_t n = strcspn(label, ".");

		if (n == 0)
			return "empty label";
		if (n > 63)
			return "label longer than 63 bytes";
		/* RFC 6125 §6.4.3: '*' only as the whole left-most label. */
		if (!(label == name && n == 1 && label[0] == '*'))
			for (size_t i = 0; i < n; i++)
				if (!isalnum((unsigned char)label[i]) && label[i] != '-' &&
				    label[i] != '_')
					return label[i] == '*' ?
					       "'*' is allowed only as the whole left-most label" :
					       "bad character (letters, digits, '-', '_', '.')";
		if (label[n] == '\0')
			return NULL;
		label += n + 1;
	}
}

/* tok without its trailing dot, lower-cased, into a new string (*out,
 * the caller owns it): 0, or -1 with "bad KIND 'tok': reason" in ld for
 * an empty or too long one.  The characters are name_problem's. */
static int name_copy(struct loader *ld, const char *kind, const char *tok, char **out)
{
	size_t n = strlen(tok);
	char *name;

	if (n > 0 && tok[n - 1] == '.')
		n--;
	if (n == 0)
		return rules_err(ld, "bad %s '%s': empty", kind, tok);
	if (n > RULES_MAX_DNS_NAME)
		return rules_err(ld, "bad %s '%s': longer than %u bytes", kind, tok,
		                 RULES_MAX_DNS_NAME);
	name = malloc(n + 1); /* owned by the caller: an owner's names[] or zones[] */
	if (name == NULL)
		return rules_err(ld, "out of memory");
	for (size_t i = 0; i < n; i++)
		name[i] = (char)tolower((unsigned char)tok[i]);
	name[n] = '\0';
	*out = name;
	return 0;
}

int rules_parse_name(struct loader *ld, const char *tok, char **out)
{
	const char *why;
	char *name;

	if (name_copy(ld, "name", tok, &name) < 0)
		return -1;
	why = name_problem(name);
	if (why != NULL) {
		free(name);
		return rules_err(ld, "bad name '%s': %s", tok, why);
	}
	*out = name;
	return 0;
}

/* An address or a network written where a zone was expected (the part
 * before a '/' parses as IPv4 or IPv6). */
static int is_address(const char *s)
{
	char addr[INET6_ADDRSTRLEN];
	uint8_t raw[16];
	size_t n = strcspn(s, "/");

	if (n == 0 || n >= sizeof(addr))
		return 0;
	memcpy(addr, s, n);
	addr[n] = '\0';
	return inet_pton(AF_INET, addr, raw) == 1 || inet_pton(AF_INET6, addr, raw) == 1;
}

int rules_parse_zone(struct loader *ld, const char *tok, char **out)
{
	const char *why;
	char *zone;

	/* Both before the copy: "1.1.1.1" would pass as a name of digits and
	 * "*" would reach name_problem's wildcard rule. */
	if (strchr(tok, '*') != NULL)
		return rules_err(ld, "bad zone '%s': a wildcard (a zone covers its apex and every "
		                 "name below it; write the apex)", tok);
	if (is_address(tok))
		return rules_err(ld, "bad zone '%s': an address, not a DNS zone (use 'protect ip')",
		                 tok);
	if (name_copy(ld, "zone", tok, &zone) < 0)
		return -1;
	why = name_problem(zone);
	if (why != NULL) {
		free(zone);
		return rules_err(ld, "bad zone '%s': %s", tok, why);
	}
	*out = zone;
	return 0;
}

/* Standard base64 (RFC 4648 §4), white space skipped, '=' padding only at
 * the end.  -1 on a bad character, bad padding or when out is too small. */
int rules_b64_decode(const char *s, size_t n, uint8_t *out, size_t cap, size_t *outlen)
{
	size_t o = 0, chars = 0, pad = 0;
	uint32_t acc = 0;
	unsigned bits = 0;

	for (size_t i = 0; i < n; i++) {
		int v;

		if (isspace((unsigned char)s[i]))
			continue;
		if (s[i] == '=') {
			pad++;
			continue;
		}
		v = digest_b64_value((unsigned char)s[i]);
		if (v < 0 || pad > 0)
			return -1;
		chars++;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o == cap)
				return -1;
			out[o++] = (uint8_t)(acc >> bits);
			acc &= (1u << bits) - 1u;
		}
	}
	if (pad > 2 || (chars + pad) % 4 != 0)
		return -1;
	*outlen = o;
	return 0;
}

int rules_parse_pin(struct loader *ld, const char *tok, char hex[65])
{
	uint8_t raw[DIGEST_SHA256_LEN];
	size_t n;

	if (strncmp(tok, "sha256:", 7) == 0) {
		const char *h = tok + 7;

		if (strlen(h) != 64 || strspn(h, "0123456789abcdefABCDEF") != 64)
			return rules_err(ld, "bad pin '%s': expected 64 hex digits after 'sha256:'", tok);
		for (size_t i = 0; i <= 64; i++)
			hex[i] = (char)tolower((unsigned char)h[i]);
		return 0;
	}
	if (strncmp(tok, "sha256/", 7) == 0) {
		/* The HPKP pin form (RFC 7469 §2.4): base64 of the same hash. */
		if (rules_b64_decode(tok + 7, strlen(tok + 7), raw, sizeof(raw), &n) < 0 ||
		    n != sizeof(raw))
			return rules_err(ld, "bad pin '%s': expected base64 of 32 bytes after 'sha256/'",
			              tok);
		digest_hex(raw, sizeof(raw), hex, 0, 0);
		return 0;
	}
	return rules_err(ld, "bad pin '%s': expected sha256:HEX or sha256/BASE64", tok);
}

