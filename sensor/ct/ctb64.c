/*
 * ctb64.c - strict base64 decoding for the CT parsers (see ct_int.h).
 * OpenSSL's EVP_DecodeBlock counts padding as data and takes whitespace;
 * a log's root or key must decode one way only.
 */
#include "core/digest.h"

#include "ct_int.h"

long ct_b64_decode(const char *in, size_t len, uint8_t *out, size_t cap)
{
	size_t o = 0;

	if (len % 4 != 0)
		return -1;
	for (size_t i = 0; i < len; i += 4) {
		int v[4], pad = 0;
		uint32_t w = 0;

		for (int j = 0; j < 4; j++) {
			unsigned char c = (unsigned char)in[i + (size_t)j];

			/* '=' only in the last group's last two places */
			if (c == '=' && i + 4 == len && j >= 2) {
				pad++;
				v[j] = 0;
				continue;
			}
			if (pad)
				return -1;
			v[j] = digest_b64_value(c);
			if (v[j] < 0)
				return -1;
		}
		w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
		if ((pad == 1 && (w & 0xff)) || (pad == 2 && (w & 0xffff)))
			return -1;   /* non-zero unused bits */
		if ((size_t)(3 - pad) > cap - o)
			return -1;
		out[o++] = (uint8_t)(w >> 16);
		if (pad < 2)
			out[o++] = (uint8_t)(w >> 8);
		if (pad < 1)
			out[o++] = (uint8_t)w;
	}
	return (long)o;
}
