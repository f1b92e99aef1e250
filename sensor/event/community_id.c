/*
 * community_id.c - Community ID v1 (see include/event/community_id.h):
 * the hash input laid out byte by byte as the specification's reference
 * implementation packs it, so that no struct padding or host byte order
 * can creep in.
 */
#include <string.h>

#include "core/digest.h"
#include "core/jsonw.h"
#include "event/community_id.h"

_Static_assert(COMMUNITY_ID_LEN >= 2 + JSONW_B64_LEN(DIGEST_SHA1_LEN), "room for \"1:\" and the base64");

/* seed 2 + two IPv6 addresses 32 + proto 1 + pad 1 + ports 4 */
#define CID_INPUT_MAX 40

static int has_ports(uint8_t proto)
{
	return proto == 6 || proto == 17 || proto == 132;
}

static size_t put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
	return 2;
}

/* Is endpoint 0 the smaller?  The specification orders by address, as
 * bytes in network order, then by port as a number (not by its wire
 * bytes: 256 is above 1 although its first byte is not). */
static int first_is_lower(const struct community_id_flow *f, size_t alen)
{
	int c = memcmp(f->ip[0], f->ip[1], alen);

	return c < 0 || (c == 0 && f->port[0] <= f->port[1]);
}

int community_id_v1(const struct community_id_flow *f, uint16_t seed,
                    char out[COMMUNITY_ID_LEN])
{
	uint8_t in[CID_INPUT_MAX], sha[DIGEST_SHA1_LEN];
	size_t alen = f->family == 4 ? 4 : f->family == 6 ? 16 : 0, n = 0;
	int lo;

	out[0] = '\0';
	if (!alen || !f->ip[0] || !f->ip[1] || !has_ports(f->proto))
		return -1;
	lo = first_is_lower(f, alen) ? 0 : 1;
	n += put_be16(in + n, seed);
	memcpy(in + n, f->ip[lo], alen);
	n += alen;
	memcpy(in + n, f->ip[!lo], alen);
	n += alen;
	in[n++] = f->proto;
	in[n++] = 0;                   /* padding: the input stays 32-bit aligned */
	n += put_be16(in + n, f->port[lo]);
	n += put_be16(in + n, f->port[!lo]);
	digest_sha1(in, n, sha);
	memcpy(out, "1:", 2);
	jsonw_b64_encode(sha, sizeof(sha), out + 2);
	return 0;
}
