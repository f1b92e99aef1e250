/*
 * defrag.h - IPv4 (RFC 791) and IPv6 (RFC 8200 §4.5) fragment reassembly.
 *
 * An interceptor can split its certificate into IP fragments to slip past
 * a sensor that does not rebuild them.  Datagrams wait in a bounded table
 * (keyed by addresses, protocol and id under a SipHash key, oldest dropped
 * first) until complete or timed out.  Overlap policy: the first copy of a
 * byte wins, as in the TCP reassembler; every overlap is counted.
 */
#ifndef CS_DEFRAG_H
#define CS_DEFRAG_H

#include <stddef.h>
#include <stdint.h>

#include "core/cs_limits.h"
#include "capture/decode.h"

struct defrag;

/* NULL on allocation failure. */
struct defrag *defrag_new(const struct cs_limits *lim, const uint8_t seed[16]);
void defrag_free(struct defrag *d);

/* Add the fragment in p (decode_packet returned DECODE_FRAG).  When it
 * completes a datagram, returns it (IP header first, fragment fields
 * cleared) and its length: a view owned by d, valid until the next call.
 * Otherwise NULL. */
const uint8_t *defrag_add(struct defrag *d, const struct pkt *p, uint64_t now_us,
                          size_t *len);

/* Drop datagrams older than the timeout at now_us. */
void defrag_expire(struct defrag *d, uint64_t now_us);

#endif
