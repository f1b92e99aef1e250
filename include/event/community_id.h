/*
 * community_id.h - Community ID v1 of a flow
 * (https://github.com/corelight/community-id-spec): the key Suricata,
 * Zeek and SIEMs join a flow's events on across sensors.
 *
 *   "1:" base64(SHA-1(seed | ip_a | ip_b | proto | 0 | port_a | port_b))
 *
 * seed, ports big-endian 16 bits; addresses 4 or 16 bytes as on the
 * wire; the endpoints ordered so that (ip_a, port_a) is the smaller -
 * addresses compared as bytes, then ports as numbers - so both
 * directions of a flow get one ID.  Only the port-carrying transports
 * (TCP, UDP, SCTP): ICMP would need the specification's type/code
 * mapping, and certsentry has no ICMP flows.
 */
#ifndef CS_COMMUNITY_ID_H
#define CS_COMMUNITY_ID_H

#include <stddef.h>
#include <stdint.h>

/* "1:" + the base64 of a 20-byte SHA-1 (28 characters) + NUL. */
#define COMMUNITY_ID_LEN 31
/* --community-id-seed: Suricata's community-id-seed default. */
#define COMMUNITY_ID_DEF_SEED 0

/* A flow's two endpoints, in either order.  Views. */
struct community_id_flow {
	int family;                 /* 4 or 6 */
	uint8_t proto;              /* IP protocol number: 6 TCP, 17 UDP, 132 SCTP */
	const uint8_t *ip[2];       /* 4 or 16 bytes each, network order */
	uint16_t port[2];           /* host order */
};

/* The flow's Community ID into out: 0, or -1 (out "") for a family other
 * than 4 or 6, a NULL address, or a protocol without ports. */
int community_id_v1(const struct community_id_flow *f, uint16_t seed,
                    char out[COMMUNITY_ID_LEN]);

#endif
