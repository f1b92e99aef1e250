/*
 * quicbuild.h - building protected QUIC long-header packets, for
 * tests/test_quic.c and tests/fuzz/fuzz_quic.c (a header of static
 * functions, so neither needs a line in the Makefile).
 *
 * The sender's side of RFC 9001 §5: the payload sealed with quic_seal,
 * then header protection applied with the sample of the sealed bytes.
 * Written from the RFC, not from sensor/transport/quic/quic.c, so that
 * the two check each other.
 */
#ifndef CS_TEST_QUICBUILD_H
#define CS_TEST_QUICBUILD_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "secrets/quic_keys.h"

/* Long-header type bits per version (RFC 9000 §17.2, RFC 9369 §3.2).
 * kind: 0 Initial, 1 0-RTT, 2 Handshake, 3 Retry. */
static inline unsigned qb_type_bits(uint32_t version, unsigned kind)
{
	static const unsigned v2[4] = { 1, 2, 3, 0 };

	return version == QUIC_V2 ? v2[kind & 3u] : kind & 3u;
}

/* A protected long-header packet (kind 0 Initial or 2 Handshake, or 1
 * 0-RTT) into out: the frames padded with PADDING so that header
 * protection has its sample, pn encoded on pn_len bytes; extra is OR'd
 * into the first byte before protection (the reserved bits 0x0c).
 * Returns its length, or 0 when it does not fit or sealing failed. */
static inline size_t qb_long_x(uint8_t *out, size_t cap, struct quic_keys *k, uint32_t version,
                               unsigned kind, uint8_t extra, const uint8_t *dcid, size_t dl,
                               const uint8_t *scid, size_t sl, uint64_t pn, unsigned pn_len,
                               const uint8_t *frames, size_t flen)
{
	uint8_t mask[QUIC_HP_MASK_LEN];
	size_t n = 0, pn_off, hdr_len, plen, length;
	int sealed;

	if (pn_len < 1 || pn_len > 4 || dl > 255 || sl > 255)
		return 0;
	/* §5.4.2: pn_len + payload >= 4, so that 16 sample bytes follow. */
	plen = flen + pn_len < 4 ? 4 - pn_len : flen;
	length = pn_len + plen + QUIC_TAG_LEN;
	if (length > 16383 || cap < 1 + 4 + 1 + dl + 1 + sl + 1 + 2 + length)
		return 0;
	out[n++] = (uint8_t)(0xc0u | qb_type_bits(version, kind) << 4 | (pn_len - 1) | (extra & 0x0cu));
	out[n++] = (uint8_t)(version >> 24);
	out[n++] = (uint8_t)(version >> 16);
	out[n++] = (uint8_t)(version >> 8);
	out[n++] = (uint8_t)version;
	out[n++] = (uint8_t)dl;
	if (dl)
		memcpy(out + n, dcid, dl);
	n += dl;
	out[n++] = (uint8_t)sl;
	if (sl)
		memcpy(out + n, scid, sl);
	n += sl;
	if (kind == 0)
		out[n++] = 0;   /* no token */
	out[n++] = (uint8_t)(0x40u | length >> 8);   /* a 2-byte varint */
	out[n++] = (uint8_t)length;
	pn_off = n;
	for (unsigned i = 0; i < pn_len; i++)
		out[n++] = (uint8_t)(pn >> (8 * (pn_len - 1 - i)));
	hdr_len = n;
	if (flen)
		memcpy(out + hdr_len, frames, flen);
	memset(out + hdr_len + flen, 0, plen - flen);   /* PADDING frames */
	sealed = quic_seal(k, pn, out, hdr_len, out + hdr_len, plen, out + hdr_len,
	                   cap - hdr_len);
	if (sealed < 0)
		return 0;
	if (quic_hp_mask(k, out + pn_off + 4, mask) < 0)
		return 0;
	out[0] ^= mask[0] & 0x0fu;
	for (unsigned i = 0; i < pn_len; i++)
		out[pn_off + i] ^= mask[1 + i];
	return hdr_len + (size_t)sealed;
}

static inline size_t qb_long(uint8_t *out, size_t cap, struct quic_keys *k, uint32_t version,
                             unsigned kind, const uint8_t *dcid, size_t dl, const uint8_t *scid,
                             size_t sl, uint64_t pn, unsigned pn_len, const uint8_t *frames,
                             size_t flen)
{
	return qb_long_x(out, cap, k, version, kind, 0, dcid, dl, scid, sl, pn, pn_len, frames, flen);
}

/* A CRYPTO frame (RFC 9000 §19.6) with 8-byte varints for offset and
 * length.  Returns its length, or 0 when it does not fit. */
static inline size_t qb_crypto(uint8_t *out, size_t cap, uint64_t off, const uint8_t *data,
                               size_t len)
{
	if (cap < 17 || len > cap - 17)
		return 0;
	out[0] = 0x06;
	for (int i = 0; i < 8; i++)
		out[1 + i] = (uint8_t)(off >> (8 * (7 - i)));
	out[1] |= 0xc0;
	for (int i = 0; i < 8; i++)
		out[9 + i] = (uint8_t)((uint64_t)len >> (8 * (7 - i)));
	out[9] |= 0xc0;
	memcpy(out + 17, data, len);
	return 17 + len;
}

#endif
