/*
 * test_tls.c - unit tests for the TLS handshake parser (sensor/analyser/tls/tls.c).
 *
 * Two kinds of input:
 *  - a real handshake: OpenSSL 3.0 s_client against s_server on 127.0.0.1
 *    (TLS 1.2 full, TLS 1.2 resumed, TLS 1.3), each direction's TCP
 *    payload as captured by tcpdump -i lo and followed by tshark; the
 *    expected JA3/JA3S strings and hashes are tshark's
 *    (tls.handshake.ja3_full / ja3 / ja3s_full / ja3s), the certificate
 *    hashes those of `openssl x509 -outform der | sha256sum`;
 *  - hand-assembled records built below, for the cases a real stack does
 *    not produce (GREASE, SSLv2 hello, giant lengths, limits, faults).
 *    Their expected JA3 hashes were computed with `printf %s STR | md5sum`.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/digest.h"
#include "core/cs_limits.h"
#include "core/stats.h"
#include "analyser/tls.h"
#include "secrets/tls13.h"

/* ---- real handshakes (OpenSSL 3.0.22, loopback) ------------------------ */

/* TLS 1.2 full handshake: ECDHE-ECDSA-AES256-GCM-SHA384, SNI
 * www.example.com, ALPN h2,http/1.1; chain leaf + CA (P-256).  Client:
 * ClientHello, ClientKeyExchange, CCS, Finished, close_notify.  Server:
 * ServerHello, Certificate, ServerKeyExchange, ServerHelloDone, then
 * NewSessionTicket, CCS, Finished, close_notify. */
static const uint8_t real12_client[] = {
	0x16, 0x03, 0x01, 0x01, 0x4e, 0x01, 0x00, 0x01, 0x4a, 0x03, 0x03, 0xd9,
	0x7b, 0x6e, 0x90, 0x15, 0x89, 0xbd, 0xff, 0x59, 0x05, 0x46, 0xb0, 0x38,
	0x50, 0x0e, 0x8d, 0xe0, 0x6b, 0x8d, 0x6b, 0x68, 0x8c, 0xa3, 0x37, 0x71,
	0xcc, 0x0f, 0x82, 0x03, 0x6f, 0xf4, 0xf1, 0x20, 0xde, 0xff, 0xd9, 0xf2,
	0xf8, 0xf0, 0x9b, 0x63, 0xc5, 0x7b, 0x53, 0x71, 0x0a, 0x6f, 0xac, 0x81,
	0x22, 0x10, 0xbd, 0xd8, 0xb5, 0x90, 0x9e, 0x6f, 0xc5, 0x18, 0xfc, 0x7e,
	0xf3, 0x08, 0x6e, 0xd2, 0x00, 0x3e, 0x13, 0x02, 0x13, 0x03, 0x13, 0x01,
	0xc0, 0x2c, 0xc0, 0x30, 0x00, 0x9f, 0xcc, 0xa9, 0xcc, 0xa8, 0xcc, 0xaa,
	0xc0, 0x2b, 0xc0, 0x2f, 0x00, 0x9e, 0xc0, 0x24, 0xc0, 0x28, 0x00, 0x6b,
	0xc0, 0x23, 0xc0, 0x27, 0x00, 0x67, 0xc0, 0x0a, 0xc0, 0x14, 0x00, 0x39,
	0xc0, 0x09, 0xc0, 0x13, 0x00, 0x33, 0x00, 0x9d, 0x00, 0x9c, 0x00, 0x3d,
	0x00, 0x3c, 0x00, 0x35, 0x00, 0x2f, 0x00, 0xff, 0x01, 0x00, 0x00, 0xc3,
	0x00, 0x00, 0x00, 0x14, 0x00, 0x12, 0x00, 0x00, 0x0f, 0x77, 0x77, 0x77,
	0x2e, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x2e, 0x63, 0x6f, 0x6d,
	0x00, 0x0b, 0x00, 0x04, 0x03, 0x00, 0x01, 0x02, 0x00, 0x0a, 0x00, 0x16,
	0x00, 0x14, 0x00, 0x1d, 0x00, 0x17, 0x00, 0x1e, 0x00, 0x19, 0x00, 0x18,
	0x01, 0x00, 0x01, 0x01, 0x01, 0x02, 0x01, 0x03, 0x01, 0x04, 0x00, 0x23,
	0x00, 0x00, 0x00, 0x10, 0x00, 0x0e, 0x00, 0x0c, 0x02, 0x68, 0x32, 0x08,
	0x68, 0x74, 0x74, 0x70, 0x2f, 0x31, 0x2e, 0x31, 0x00, 0x16, 0x00, 0x00,
	0x00, 0x17, 0x00, 0x00, 0x00, 0x0d, 0x00, 0x2a, 0x00, 0x28, 0x04, 0x03,
	0x05, 0x03, 0x06, 0x03, 0x08, 0x07, 0x08, 0x08, 0x08, 0x09, 0x08, 0x0a,
	0x08, 0x0b, 0x08, 0x04, 0x08, 0x05, 0x08, 0x06, 0x04, 0x01, 0x05, 0x01,
	0x06, 0x01, 0x03, 0x03, 0x03, 0x01, 0x03, 0x02, 0x04, 0x02, 0x05, 0x02,
	0x06, 0x02, 0x00, 0x2b, 0x00, 0x09, 0x08, 0x03, 0x04, 0x03, 0x03, 0x03,
	0x02, 0x03, 0x01, 0x00, 0x2d, 0x00, 0x02, 0x01, 0x01, 0x00, 0x33, 0x00,
	0x26, 0x00, 0x24, 0x00, 0x1d, 0x00, 0x20, 0xbe, 0xbb, 0x0c, 0x7e, 0xa6,
	0x72, 0x9d, 0x6c, 0xda, 0xfc, 0xcb, 0x7e, 0x01, 0xf0, 0x4e, 0x42, 0xcf,
	0xa7, 0xf2, 0x63, 0x92, 0xbe, 0xe5, 0x23, 0x91, 0xed, 0xf9, 0x66, 0x6d,
	0x90, 0xb8, 0x63, 0x16, 0x03, 0x03, 0x00, 0x25, 0x10, 0x00, 0x00, 0x21,
	0x20, 0xcf, 0x33, 0x0b, 0x7c, 0x4f, 0x05, 0xe1, 0xf0, 0xf0, 0x15, 0xc7,
	0x54, 0xea, 0xb5, 0xfd, 0x09, 0x98, 0x8c, 0xab, 0xb4, 0x0b, 0xc9, 0xc3,
	0x4b, 0x24, 0x35, 0x2f, 0x2c, 0x8d, 0x69, 0x65, 0x21, 0x14, 0x03, 0x03,
	0x00, 0x01, 0x01, 0x16, 0x03, 0x03, 0x00, 0x28, 0x41, 0x5f, 0x9f, 0x9d,
	0xd4, 0xe9, 0x29, 0xa1, 0xc9, 0x94, 0x25, 0x63, 0x1f, 0xc6, 0xaf, 0x59,
	0x54, 0x9a, 0xc2, 0x31, 0x74, 0xb9, 0xca, 0x8a, 0x3e, 0xd8, 0x4d, 0x9e,
	0xa2, 0x75, 0xce, 0xff, 0xb7, 0x39, 0xe5, 0x51, 0x60, 0x69, 0x85, 0x6f,
	0x15, 0x03, 0x03, 0x00, 0x1a, 0x41, 0x5f, 0x9f, 0x9d, 0xd4, 0xe9, 0x29,
	0xa2, 0x66, 0x13, 0xce, 0xd6, 0x2b, 0xf0, 0x89, 0x2d, 0x85, 0xb1, 0xaf,
	0x4d, 0x22, 0x23, 0x98, 0x84, 0x27, 0xfb,
};

static const uint8_t real12_server[] = {
	0x16, 0x03, 0x03, 0x00, 0x4a, 0x02, 0x00, 0x00, 0x46, 0x03, 0x03, 0x98,
	0xc7, 0x2e, 0x1f, 0x83, 0x7f, 0x0a, 0xdf, 0xd3, 0xa8, 0xe4, 0x6c, 0x35,
	0x85, 0x1e, 0x08, 0x53, 0x4b, 0xfb, 0x1d, 0xfd, 0xe9, 0xc1, 0xee, 0xeb,
	0x3f, 0xa9, 0x49, 0x3c, 0x59, 0xcf, 0x5c, 0x00, 0xc0, 0x2c, 0x00, 0x00,
	0x1e, 0xff, 0x01, 0x00, 0x01, 0x00, 0x00, 0x0b, 0x00, 0x04, 0x03, 0x00,
	0x01, 0x02, 0x00, 0x23, 0x00, 0x00, 0x00, 0x10, 0x00, 0x05, 0x00, 0x03,
	0x02, 0x68, 0x32, 0x00, 0x17, 0x00, 0x00, 0x16, 0x03, 0x03, 0x03, 0x19,
	0x0b, 0x00, 0x03, 0x15, 0x00, 0x03, 0x12, 0x00, 0x01, 0x90, 0x30, 0x82,
	0x01, 0x8c, 0x30, 0x82, 0x01, 0x32, 0xa0, 0x03, 0x02, 0x01, 0x02, 0x02,
	0x14, 0x24, 0x35, 0x1c, 0xf1, 0xe4, 0xd3, 0x9d, 0x32, 0x7c, 0x0a, 0xc0,
	0x22, 0xe8, 0xfc, 0xf5, 0x03, 0xc9, 0xab, 0xf3, 0x42, 0x30, 0x0a, 0x06,
	0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02, 0x30, 0x12, 0x31,
	0x10, 0x30, 0x0e, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x07, 0x54, 0x65,
	0x73, 0x74, 0x20, 0x43, 0x41, 0x30, 0x1e, 0x17, 0x0d, 0x32, 0x36, 0x31,
	0x31, 0x32, 0x38, 0x30, 0x36, 0x34, 0x38, 0x34, 0x37, 0x5a, 0x17, 0x0d,
	0x33, 0x36, 0x31, 0x31, 0x32, 0x35, 0x30, 0x36, 0x34, 0x38, 0x34, 0x37,
	0x5a, 0x30, 0x1a, 0x31, 0x18, 0x30, 0x16, 0x06, 0x03, 0x55, 0x04, 0x03,
	0x0c, 0x0f, 0x77, 0x77, 0x77, 0x2e, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c,
	0x65, 0x2e, 0x63, 0x6f, 0x6d, 0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a,
	0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce,
	0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04, 0x52, 0xac, 0xca, 0x17,
	0xb4, 0x7e, 0x8d, 0x96, 0x7c, 0xb9, 0x97, 0xca, 0xbf, 0x66, 0xf5, 0xb5,
	0x68, 0x53, 0x72, 0x65, 0xcd, 0x8d, 0x1c, 0xe2, 0x7b, 0x11, 0xe1, 0xe9,
	0x2f, 0x5c, 0xfd, 0x2e, 0x16, 0x27, 0xf6, 0xcd, 0xf2, 0xce, 0x08, 0x76,
	0x82, 0x2f, 0x23, 0xa2, 0x47, 0x67, 0xa0, 0x5f, 0xc6, 0x59, 0xcc, 0x71,
	0x12, 0x24, 0x06, 0x8e, 0xb7, 0x99, 0x71, 0x06, 0x90, 0xd6, 0x3d, 0x70,
	0xa3, 0x5e, 0x30, 0x5c, 0x30, 0x1a, 0x06, 0x03, 0x55, 0x1d, 0x11, 0x04,
	0x13, 0x30, 0x11, 0x82, 0x0f, 0x77, 0x77, 0x77, 0x2e, 0x65, 0x78, 0x61,
	0x6d, 0x70, 0x6c, 0x65, 0x2e, 0x63, 0x6f, 0x6d, 0x30, 0x1d, 0x06, 0x03,
	0x55, 0x1d, 0x0e, 0x04, 0x16, 0x04, 0x14, 0x23, 0x13, 0xe1, 0xf7, 0x64,
	0x30, 0xbd, 0xff, 0xcf, 0x60, 0xca, 0xcd, 0xdc, 0x8a, 0x08, 0x6f, 0x08,
	0xbf, 0x6a, 0x92, 0x30, 0x1f, 0x06, 0x03, 0x55, 0x1d, 0x23, 0x04, 0x18,
	0x30, 0x16, 0x80, 0x14, 0xee, 0x2e, 0xab, 0x61, 0xae, 0x06, 0xc6, 0x84,
	0x6c, 0x1d, 0x54, 0x7a, 0x6a, 0xc5, 0x0e, 0x81, 0x2d, 0x9c, 0x97, 0xc3,
	0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02,
	0x03, 0x48, 0x00, 0x30, 0x45, 0x02, 0x20, 0x61, 0x84, 0x11, 0x03, 0xd7,
	0xa6, 0x22, 0xd1, 0xdd, 0x6b, 0x43, 0x96, 0x9a, 0x53, 0x36, 0x06, 0x50,
	0x0a, 0x36, 0x03, 0x1e, 0x9e, 0x46, 0xcd, 0x22, 0x18, 0xac, 0x9b, 0x60,
	0xf5, 0xf0, 0x55, 0x02, 0x21, 0x00, 0x9c, 0x9f, 0x1b, 0xe4, 0xa7, 0x5d,
	0x97, 0x70, 0x01, 0x15, 0xaa, 0xcf, 0x94, 0xc7, 0x8c, 0x3b, 0x63, 0xfe,
	0x94, 0x72, 0x72, 0x4e, 0x70, 0xde, 0xa8, 0xeb, 0x7d, 0xd5, 0xf7, 0x5f,
	0xcb, 0xe2, 0x00, 0x01, 0x7c, 0x30, 0x82, 0x01, 0x78, 0x30, 0x82, 0x01,
	0x1f, 0xa0, 0x03, 0x02, 0x01, 0x02, 0x02, 0x14, 0x7b, 0xb0, 0x34, 0x44,
	0x6d, 0xb3, 0xeb, 0xb8, 0xd9, 0xe9, 0xe3, 0x76, 0x25, 0x4c, 0xbd, 0xd2,
	0xdd, 0x4c, 0xf3, 0xe5, 0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce,
	0x3d, 0x04, 0x03, 0x02, 0x30, 0x12, 0x31, 0x10, 0x30, 0x0e, 0x06, 0x03,
	0x55, 0x04, 0x03, 0x0c, 0x07, 0x54, 0x65, 0x73, 0x74, 0x20, 0x43, 0x41,
	0x30, 0x1e, 0x17, 0x0d, 0x32, 0x36, 0x31, 0x31, 0x32, 0x38, 0x30, 0x36,
	0x34, 0x38, 0x34, 0x37, 0x5a, 0x17, 0x0d, 0x33, 0x36, 0x31, 0x31, 0x32,
	0x35, 0x30, 0x36, 0x34, 0x38, 0x34, 0x37, 0x5a, 0x30, 0x12, 0x31, 0x10,
	0x30, 0x0e, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x07, 0x54, 0x65, 0x73,
	0x74, 0x20, 0x43, 0x41, 0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86,
	0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d,
	0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04, 0xec, 0x55, 0x3b, 0x6c, 0xf5,
	0x6b, 0x14, 0xc7, 0xb9, 0x7c, 0x4e, 0xe6, 0x50, 0x86, 0x21, 0x70, 0x26,
	0x21, 0x20, 0xb5, 0x00, 0xc6, 0x13, 0x68, 0xd9, 0xcf, 0x48, 0x01, 0x38,
	0xb3, 0x06, 0x34, 0x96, 0x8f, 0x80, 0x86, 0xe4, 0x24, 0xfe, 0x9e, 0x8c,
	0x1e, 0x62, 0x34, 0x2b, 0x38, 0x29, 0xd3, 0xf3, 0x49, 0xa8, 0xbd, 0x03,
	0x28, 0xd8, 0x85, 0x0c, 0xb4, 0x9b, 0x3f, 0x75, 0xf5, 0xf4, 0x2a, 0xa3,
	0x53, 0x30, 0x51, 0x30, 0x1d, 0x06, 0x03, 0x55, 0x1d, 0x0e, 0x04, 0x16,
	0x04, 0x14, 0xee, 0x2e, 0xab, 0x61, 0xae, 0x06, 0xc6, 0x84, 0x6c, 0x1d,
	0x54, 0x7a, 0x6a, 0xc5, 0x0e, 0x81, 0x2d, 0x9c, 0x97, 0xc3, 0x30, 0x1f,
	0x06, 0x03, 0x55, 0x1d, 0x23, 0x04, 0x18, 0x30, 0x16, 0x80, 0x14, 0xee,
	0x2e, 0xab, 0x61, 0xae, 0x06, 0xc6, 0x84, 0x6c, 0x1d, 0x54, 0x7a, 0x6a,
	0xc5, 0x0e, 0x81, 0x2d, 0x9c, 0x97, 0xc3, 0x30, 0x0f, 0x06, 0x03, 0x55,
	0x1d, 0x13, 0x01, 0x01, 0xff, 0x04, 0x05, 0x30, 0x03, 0x01, 0x01, 0xff,
	0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02,
	0x03, 0x47, 0x00, 0x30, 0x44, 0x02, 0x20, 0x69, 0x96, 0x71, 0x97, 0x45,
	0xe0, 0x30, 0x8c, 0xf9, 0x3c, 0x39, 0x25, 0xad, 0xb4, 0xd1, 0x65, 0x2f,
	0x2a, 0x20, 0xdb, 0xe1, 0x01, 0x70, 0xd8, 0xe9, 0xbd, 0x57, 0x60, 0xdb,
	0xe4, 0x23, 0x2b, 0x02, 0x20, 0x07, 0x5d, 0x40, 0xed, 0x11, 0xba, 0xd8,
	0xf4, 0x49, 0xcb, 0x27, 0x76, 0xbe, 0x3f, 0x0d, 0x4c, 0x11, 0x26, 0xe1,
	0x58, 0x15, 0x2b, 0x60, 0x9d, 0x1f, 0x0c, 0x0d, 0x64, 0xe2, 0x25, 0x97,
	0x9f, 0x16, 0x03, 0x03, 0x00, 0x73, 0x0c, 0x00, 0x00, 0x6f, 0x03, 0x00,
	0x1d, 0x20, 0xe1, 0x27, 0x43, 0x3b, 0x94, 0x24, 0xf4, 0x18, 0x71, 0xca,
	0x03, 0xd4, 0x86, 0xb0, 0xaa, 0xcf, 0x68, 0x1c, 0x79, 0x94, 0x01, 0x2e,
	0xf8, 0x5e, 0xaa, 0x9d, 0x5c, 0x41, 0x3f, 0xfb, 0x6c, 0x5e, 0x04, 0x03,
	0x00, 0x47, 0x30, 0x45, 0x02, 0x20, 0x7f, 0x42, 0x3a, 0x2a, 0x06, 0xde,
	0xe6, 0x22, 0x63, 0x25, 0x4e, 0xcb, 0x30, 0x9d, 0xd7, 0x47, 0xe7, 0xb5,
	0xa5, 0xfe, 0xe9, 0xdc, 0xa3, 0xea, 0xfc, 0x0c, 0xa6, 0xfb, 0xdd, 0x70,
	0x92, 0x49, 0x02, 0x21, 0x00, 0x82, 0x39, 0x31, 0x0d, 0x0c, 0xbe, 0x97,
	0x62, 0x6f, 0x35, 0x49, 0xeb, 0xe1, 0x4a, 0x02, 0xa7, 0xa2, 0x2a, 0x86,
	0xed, 0xf4, 0x08, 0xa9, 0x44, 0x03, 0x26, 0xb0, 0x4b, 0xda, 0x7d, 0x6f,
	0x72, 0x16, 0x03, 0x03, 0x00, 0x04, 0x0e, 0x00, 0x00, 0x00, 0x16, 0x03,
	0x03, 0x00, 0xba, 0x04, 0x00, 0x00, 0xb6, 0x00, 0x00, 0x1c, 0x20, 0x00,
	0xb0, 0x3a, 0x8a, 0x96, 0x92, 0xee, 0xda, 0xb7, 0x0c, 0xf1, 0x42, 0xf4,
	0x13, 0xa4, 0x43, 0x59, 0xe3, 0x75, 0xa1, 0x73, 0xbb, 0x66, 0xe9, 0xa9,
	0x22, 0x11, 0xad, 0xc3, 0x65, 0x3d, 0xef, 0xb9, 0xa9, 0x2a, 0x89, 0xcb,
	0x05, 0xf3, 0x8b, 0xf8, 0x22, 0x05, 0xff, 0x87, 0xeb, 0x39, 0x1b, 0x29,
	0xd6, 0x0f, 0x07, 0x75, 0x1c, 0xe6, 0xa2, 0x8b, 0xaa, 0x2b, 0xe9, 0x1b,
	0xf8, 0x17, 0x14, 0xb9, 0xfb, 0x8c, 0x12, 0x39, 0x2a, 0x56, 0x48, 0xd4,
	0x2c, 0xaf, 0xa3, 0x1f, 0x5a, 0xf6, 0x1e, 0x53, 0x86, 0x61, 0xd5, 0xfc,
	0x51, 0x0a, 0x48, 0xf8, 0xb0, 0xcf, 0x7c, 0xf8, 0xd9, 0xcc, 0x1c, 0xfb,
	0xd6, 0x65, 0x16, 0x35, 0x14, 0x72, 0x47, 0x6c, 0x20, 0x32, 0xde, 0xea,
	0xc9, 0x3f, 0xf5, 0x6a, 0x34, 0x86, 0x10, 0x04, 0xfe, 0x49, 0xd9, 0x79,
	0xba, 0xfb, 0x1f, 0x3c, 0xf5, 0xee, 0x67, 0x3d, 0xb8, 0xa8, 0xc4, 0xf6,
	0x83, 0xe8, 0x8e, 0xbb, 0x6e, 0x1a, 0xd3, 0x78, 0xe7, 0x2a, 0x55, 0xa1,
	0xf0, 0xee, 0xe9, 0xe2, 0x60, 0xa2, 0x4c, 0xd5, 0xbf, 0x7e, 0x45, 0x50,
	0x1e, 0x25, 0x4d, 0xb2, 0x1a, 0xc7, 0x9f, 0x6e, 0x02, 0xf5, 0x1d, 0x5b,
	0xd2, 0xe4, 0x05, 0x5a, 0x62, 0xeb, 0x36, 0x94, 0x18, 0x14, 0x03, 0x03,
	0x00, 0x01, 0x01, 0x16, 0x03, 0x03, 0x00, 0x28, 0x1b, 0x1a, 0xfc, 0x78,
	0x89, 0xe9, 0x19, 0x91, 0x88, 0x60, 0x02, 0xb8, 0x87, 0x0f, 0xb8, 0xc9,
	0xfe, 0x59, 0x6a, 0x97, 0xec, 0xab, 0x6e, 0xcc, 0x44, 0x91, 0x21, 0x76,
	0x77, 0x11, 0x71, 0xb5, 0x34, 0xb1, 0xdb, 0x19, 0x2c, 0x15, 0x7f, 0x61,
	0x15, 0x03, 0x03, 0x00, 0x1a, 0x1b, 0x1a, 0xfc, 0x78, 0x89, 0xe9, 0x19,
	0x92, 0x91, 0x98, 0x20, 0xe5, 0x86, 0x69, 0x83, 0xa8, 0xcc, 0x98, 0xcf,
	0xed, 0x85, 0x4f, 0x65, 0x09, 0x1b, 0xae,
};

/* TLS 1.2 resumption of that session (-sess_in): the ClientHello offers
 * the ticket and a session id, the ServerHello echoes the id, then CCS and
 * Finished. */
static const uint8_t real12r_client[] = {
	0x16, 0x03, 0x01, 0x01, 0xfe, 0x01, 0x00, 0x01, 0xfa, 0x03, 0x03, 0x26,
	0x3b, 0xe8, 0x5e, 0xf2, 0xaf, 0x0e, 0x09, 0xf6, 0x52, 0xea, 0x92, 0x1e,
	0x5b, 0xdb, 0xc6, 0x99, 0x81, 0x71, 0x09, 0x85, 0x1c, 0x28, 0x14, 0x3b,
	0x97, 0xff, 0xa6, 0x0d, 0xbf, 0xeb, 0xae, 0x20, 0xdd, 0x70, 0x55, 0xd3,
	0xe2, 0x31, 0xea, 0x1d, 0xa3, 0x33, 0x61, 0xec, 0xed, 0x8b, 0xfe, 0x34,
	0x34, 0x93, 0x20, 0xf9, 0xfc, 0x65, 0xbc, 0xfd, 0x4a, 0x26, 0xbd, 0x52,
	0xd3, 0xa0, 0x2a, 0xc5, 0x00, 0x3e, 0x13, 0x02, 0x13, 0x03, 0x13, 0x01,
	0xc0, 0x2c, 0xc0, 0x30, 0x00, 0x9f, 0xcc, 0xa9, 0xcc, 0xa8, 0xcc, 0xaa,
	0xc0, 0x2b, 0xc0, 0x2f, 0x00, 0x9e, 0xc0, 0x24, 0xc0, 0x28, 0x00, 0x6b,
	0xc0, 0x23, 0xc0, 0x27, 0x00, 0x67, 0xc0, 0x0a, 0xc0, 0x14, 0x00, 0x39,
	0xc0, 0x09, 0xc0, 0x13, 0x00, 0x33, 0x00, 0x9d, 0x00, 0x9c, 0x00, 0x3d,
	0x00, 0x3c, 0x00, 0x35, 0x00, 0x2f, 0x00, 0xff, 0x01, 0x00, 0x01, 0x73,
	0x00, 0x00, 0x00, 0x14, 0x00, 0x12, 0x00, 0x00, 0x0f, 0x77, 0x77, 0x77,
	0x2e, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x2e, 0x63, 0x6f, 0x6d,
	0x00, 0x0b, 0x00, 0x04, 0x03, 0x00, 0x01, 0x02, 0x00, 0x0a, 0x00, 0x16,
	0x00, 0x14, 0x00, 0x1d, 0x00, 0x17, 0x00, 0x1e, 0x00, 0x19, 0x00, 0x18,
	0x01, 0x00, 0x01, 0x01, 0x01, 0x02, 0x01, 0x03, 0x01, 0x04, 0x00, 0x23,
	0x00, 0xb0, 0x3a, 0x8a, 0x96, 0x92, 0xee, 0xda, 0xb7, 0x0c, 0xf1, 0x42,
	0xf4, 0x13, 0xa4, 0x43, 0x59, 0xe3, 0x75, 0xa1, 0x73, 0xbb, 0x66, 0xe9,
	0xa9, 0x22, 0x11, 0xad, 0xc3, 0x65, 0x3d, 0xef, 0xb9, 0xa9, 0x2a, 0x89,
	0xcb, 0x05, 0xf3, 0x8b, 0xf8, 0x22, 0x05, 0xff, 0x87, 0xeb, 0x39, 0x1b,
	0x29, 0xd6, 0x0f, 0x07, 0x75, 0x1c, 0xe6, 0xa2, 0x8b, 0xaa, 0x2b, 0xe9,
	0x1b, 0xf8, 0x17, 0x14, 0xb9, 0xfb, 0x8c, 0x12, 0x39, 0x2a, 0x56, 0x48,
	0xd4, 0x2c, 0xaf, 0xa3, 0x1f, 0x5a, 0xf6, 0x1e, 0x53, 0x86, 0x61, 0xd5,
	0xfc, 0x51, 0x0a, 0x48, 0xf8, 0xb0, 0xcf, 0x7c, 0xf8, 0xd9, 0xcc, 0x1c,
	0xfb, 0xd6, 0x65, 0x16, 0x35, 0x14, 0x72, 0x47, 0x6c, 0x20, 0x32, 0xde,
	0xea, 0xc9, 0x3f, 0xf5, 0x6a, 0x34, 0x86, 0x10, 0x04, 0xfe, 0x49, 0xd9,
	0x79, 0xba, 0xfb, 0x1f, 0x3c, 0xf5, 0xee, 0x67, 0x3d, 0xb8, 0xa8, 0xc4,
	0xf6, 0x83, 0xe8, 0x8e, 0xbb, 0x6e, 0x1a, 0xd3, 0x78, 0xe7, 0x2a, 0x55,
	0xa1, 0xf0, 0xee, 0xe9, 0xe2, 0x60, 0xa2, 0x4c, 0xd5, 0xbf, 0x7e, 0x45,
	0x50, 0x1e, 0x25, 0x4d, 0xb2, 0x1a, 0xc7, 0x9f, 0x6e, 0x02, 0xf5, 0x1d,
	0x5b, 0xd2, 0xe4, 0x05, 0x5a, 0x62, 0xeb, 0x36, 0x94, 0x18, 0x00, 0x10,
	0x00, 0x0e, 0x00, 0x0c, 0x02, 0x68, 0x32, 0x08, 0x68, 0x74, 0x74, 0x70,
	0x2f, 0x31, 0x2e, 0x31, 0x00, 0x16, 0x00, 0x00, 0x00, 0x17, 0x00, 0x00,
	0x00, 0x0d, 0x00, 0x2a, 0x00, 0x28, 0x04, 0x03, 0x05, 0x03, 0x06, 0x03,
	0x08, 0x07, 0x08, 0x08, 0x08, 0x09, 0x08, 0x0a, 0x08, 0x0b, 0x08, 0x04,
	0x08, 0x05, 0x08, 0x06, 0x04, 0x01, 0x05, 0x01, 0x06, 0x01, 0x03, 0x03,
	0x03, 0x01, 0x03, 0x02, 0x04, 0x02, 0x05, 0x02, 0x06, 0x02, 0x00, 0x2b,
	0x00, 0x09, 0x08, 0x03, 0x04, 0x03, 0x03, 0x03, 0x02, 0x03, 0x01, 0x00,
	0x2d, 0x00, 0x02, 0x01, 0x01, 0x00, 0x33, 0x00, 0x26, 0x00, 0x24, 0x00,
	0x1d, 0x00, 0x20, 0xc6, 0x64, 0x00, 0x3f, 0xfe, 0xd1, 0x99, 0xf3, 0x98,
	0xaf, 0xa9, 0xfc, 0xc9, 0x93, 0xbe, 0x9c, 0x52, 0xc7, 0x10, 0x91, 0xee,
	0x33, 0x27, 0xb2, 0x37, 0x94, 0xba, 0xb4, 0xc3, 0x5a, 0x7a, 0x2c,
};

static const uint8_t real12r_server[] = {
	0x16, 0x03, 0x03, 0x00, 0x5e, 0x02, 0x00, 0x00, 0x5a, 0x03, 0x03, 0x71,
	0x52, 0x93, 0x3d, 0x79, 0x4f, 0x05, 0xcd, 0x37, 0x4f, 0xf7, 0xd7, 0x89,
	0x22, 0x32, 0xaf, 0x4e, 0x8d, 0x4b, 0x1d, 0x30, 0xa5, 0xf9, 0x54, 0xd0,
	0x22, 0xc2, 0xed, 0x9e, 0x81, 0x23, 0xd3, 0x20, 0xdd, 0x70, 0x55, 0xd3,
	0xe2, 0x31, 0xea, 0x1d, 0xa3, 0x33, 0x61, 0xec, 0xed, 0x8b, 0xfe, 0x34,
	0x34, 0x93, 0x20, 0xf9, 0xfc, 0x65, 0xbc, 0xfd, 0x4a, 0x26, 0xbd, 0x52,
	0xd3, 0xa0, 0x2a, 0xc5, 0xc0, 0x2c, 0x00, 0x00, 0x12, 0xff, 0x01, 0x00,
	0x01, 0x00, 0x00, 0x10, 0x00, 0x05, 0x00, 0x03, 0x02, 0x68, 0x32, 0x00,
	0x17, 0x00, 0x00, 0x14, 0x03, 0x03, 0x00, 0x01, 0x01, 0x16, 0x03, 0x03,
	0x00, 0x28, 0x70, 0x2e, 0x0e, 0xb8, 0xf9, 0x93, 0xc6, 0x68, 0xb5, 0x49,
	0x72, 0x6c, 0x51, 0xed, 0xaa, 0xf4, 0xb3, 0x45, 0xb0, 0x64, 0x3f, 0x87,
	0xdd, 0xff, 0xdf, 0x0a, 0x91, 0xd5, 0x98, 0xab, 0x1b, 0xae, 0xd0, 0x4b,
	0xfb, 0x27, 0x91, 0x69, 0x35, 0x87,
};

/* TLS 1.3: ClientHello, and the server's ServerHello and compatibility
 * ChangeCipherSpec (its encrypted records left out). */
static const uint8_t real13_client[] = {
	0x16, 0x03, 0x01, 0x01, 0x4e, 0x01, 0x00, 0x01, 0x4a, 0x03, 0x03, 0xb2,
	0x61, 0xe5, 0x1e, 0x75, 0xbe, 0xcc, 0xbc, 0xbb, 0xa3, 0x75, 0x96, 0xcf,
	0x4f, 0x1a, 0xc6, 0x4f, 0x8d, 0xc3, 0x14, 0x1a, 0x88, 0x76, 0xdf, 0x9e,
	0x22, 0xc6, 0x1e, 0x51, 0xfb, 0x66, 0x09, 0x20, 0x4e, 0x80, 0x00, 0x2a,
	0x26, 0x1b, 0x8f, 0xe3, 0x2e, 0x32, 0x64, 0x1d, 0xf6, 0x4e, 0x09, 0x32,
	0xcc, 0x82, 0xc3, 0x14, 0x50, 0x38, 0x0f, 0x5f, 0x64, 0xae, 0xbd, 0x07,
	0x6e, 0x16, 0xb9, 0x7c, 0x00, 0x3e, 0x13, 0x02, 0x13, 0x03, 0x13, 0x01,
	0xc0, 0x2c, 0xc0, 0x30, 0x00, 0x9f, 0xcc, 0xa9, 0xcc, 0xa8, 0xcc, 0xaa,
	0xc0, 0x2b, 0xc0, 0x2f, 0x00, 0x9e, 0xc0, 0x24, 0xc0, 0x28, 0x00, 0x6b,
	0xc0, 0x23, 0xc0, 0x27, 0x00, 0x67, 0xc0, 0x0a, 0xc0, 0x14, 0x00, 0x39,
	0xc0, 0x09, 0xc0, 0x13, 0x00, 0x33, 0x00, 0x9d, 0x00, 0x9c, 0x00, 0x3d,
	0x00, 0x3c, 0x00, 0x35, 0x00, 0x2f, 0x00, 0xff, 0x01, 0x00, 0x00, 0xc3,
	0x00, 0x00, 0x00, 0x14, 0x00, 0x12, 0x00, 0x00, 0x0f, 0x77, 0x77, 0x77,
	0x2e, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x2e, 0x63, 0x6f, 0x6d,
	0x00, 0x0b, 0x00, 0x04, 0x03, 0x00, 0x01, 0x02, 0x00, 0x0a, 0x00, 0x16,
	0x00, 0x14, 0x00, 0x1d, 0x00, 0x17, 0x00, 0x1e, 0x00, 0x19, 0x00, 0x18,
	0x01, 0x00, 0x01, 0x01, 0x01, 0x02, 0x01, 0x03, 0x01, 0x04, 0x00, 0x23,
	0x00, 0x00, 0x00, 0x10, 0x00, 0x0e, 0x00, 0x0c, 0x02, 0x68, 0x32, 0x08,
	0x68, 0x74, 0x74, 0x70, 0x2f, 0x31, 0x2e, 0x31, 0x00, 0x16, 0x00, 0x00,
	0x00, 0x17, 0x00, 0x00, 0x00, 0x0d, 0x00, 0x2a, 0x00, 0x28, 0x04, 0x03,
	0x05, 0x03, 0x06, 0x03, 0x08, 0x07, 0x08, 0x08, 0x08, 0x09, 0x08, 0x0a,
	0x08, 0x0b, 0x08, 0x04, 0x08, 0x05, 0x08, 0x06, 0x04, 0x01, 0x05, 0x01,
	0x06, 0x01, 0x03, 0x03, 0x03, 0x01, 0x03, 0x02, 0x04, 0x02, 0x05, 0x02,
	0x06, 0x02, 0x00, 0x2b, 0x00, 0x09, 0x08, 0x03, 0x04, 0x03, 0x03, 0x03,
	0x02, 0x03, 0x01, 0x00, 0x2d, 0x00, 0x02, 0x01, 0x01, 0x00, 0x33, 0x00,
	0x26, 0x00, 0x24, 0x00, 0x1d, 0x00, 0x20, 0xef, 0xbd, 0xc6, 0xa2, 0x92,
	0x2e, 0x45, 0xcb, 0x3e, 0x87, 0x74, 0x43, 0xcf, 0xc6, 0xa2, 0x7a, 0x35,
	0x4d, 0xea, 0x88, 0x92, 0xf4, 0xf3, 0xab, 0xbb, 0x54, 0x91, 0x64, 0x77,
	0x69, 0x0a, 0x18,
};

static const uint8_t real13_server[] = {
	0x16, 0x03, 0x03, 0x00, 0x7a, 0x02, 0x00, 0x00, 0x76, 0x03, 0x03, 0x8d,
	0xb3, 0x8b, 0xfd, 0xc8, 0x84, 0x72, 0xc0, 0x25, 0x84, 0xe6, 0x9f, 0x6c,
	0x1e, 0x8a, 0xd4, 0xb3, 0xf0, 0x4c, 0x8a, 0xe3, 0x44, 0x29, 0xb0, 0x1d,
	0xe9, 0x08, 0xef, 0x59, 0x70, 0x39, 0xc8, 0x20, 0x4e, 0x80, 0x00, 0x2a,
	0x26, 0x1b, 0x8f, 0xe3, 0x2e, 0x32, 0x64, 0x1d, 0xf6, 0x4e, 0x09, 0x32,
	0xcc, 0x82, 0xc3, 0x14, 0x50, 0x38, 0x0f, 0x5f, 0x64, 0xae, 0xbd, 0x07,
	0x6e, 0x16, 0xb9, 0x7c, 0x13, 0x02, 0x00, 0x00, 0x2e, 0x00, 0x2b, 0x00,
	0x02, 0x03, 0x04, 0x00, 0x33, 0x00, 0x24, 0x00, 0x1d, 0x00, 0x20, 0x4d,
	0x21, 0xf7, 0x7b, 0x40, 0x17, 0x89, 0x36, 0x3c, 0x77, 0xa8, 0xf7, 0x39,
	0xfb, 0x13, 0xff, 0x97, 0xe9, 0x2d, 0xed, 0x74, 0x52, 0xb1, 0x5c, 0xf7,
	0xd0, 0x37, 0x83, 0x8a, 0x74, 0xb1, 0x4a, 0x14, 0x03, 0x03, 0x00, 0x01,
	0x01,
};


#define REAL_JA3 "771,4866-4867-4865-49196-49200-159-52393-52392-52394-49195-" \
	"49199-158-49188-49192-107-49187-49191-103-49162-49172-57-49161-49171-51-" \
	"157-156-61-60-53-47-255,0-11-10-35-16-22-23-13-43-45-51,29-23-30-25-24-" \
	"256-257-258-259-260,0-1-2"
#define REAL_JA3_MD5 "5a1edc7f170af1014fc65c994878e63c"
#define REAL_LEAF_SHA256 "00337fc94e0feaad6eb4a592fcace187a947b128176044172e9c06889c0d9103"
#define REAL_CA_SHA256   "8d9b9fb0be58a83271d068d4cf7e232d66c99871dd3be831397d6b138eb6c8fd"

/* ---- a byte builder for hand-assembled records ------------------------- */

struct bb {
	uint8_t d[1 << 18];
	size_t n;
	size_t at[8];     /* open vectors: where their length field is */
	int width[8];
	int depth;
};

static struct bb *bb_new(void)
{
	struct bb *b = calloc(1, sizeof *b);

	assert_non_null(b);
	return b;
}

static void put(struct bb *b, uint64_t v, int width)
{
	for (int i = width - 1; i >= 0; i--)
		b->d[b->n++] = (uint8_t)(v >> (8 * i));
}

static void put_bytes(struct bb *b, const void *p, size_t n)
{
	if (n == 0)          /* p may be NULL then, which memcpy does not allow */
		return;
	memcpy(b->d + b->n, p, n);
	b->n += n;
}

static void put_fill(struct bb *b, uint8_t v, size_t n)
{
	memset(b->d + b->n, v, n);
	b->n += n;
}

/* A length-prefixed vector: open(width) ... close. */
static void vec_open(struct bb *b, int width)
{
	b->at[b->depth] = b->n;
	b->width[b->depth++] = width;
	put(b, 0, width);
}

static void vec_close(struct bb *b)
{
	size_t at = b->at[--b->depth];
	int w = b->width[b->depth];
	size_t len = b->n - at - (size_t)w;

	for (int i = w - 1; i >= 0; i--)
		b->d[at + (size_t)(w - 1 - i)] = (uint8_t)(len >> (8 * i));
}

/* Wrap bytes in records of type, at most frag payload bytes each. */
static void put_records(struct bb *out, uint8_t type, const uint8_t *p, size_t n, size_t frag)
{
	for (size_t off = 0; off < n; off += frag) {
		size_t k = n - off < frag ? n - off : frag;

		put(out, type, 1);
		put(out, 0x0303, 2);
		put(out, k, 2);
		put_bytes(out, p + off, k);
	}
}

struct ch_opts {
	const uint8_t *sid;
	size_t sid_len;
	const char *sni;     /* NULL: no server_name */
	size_t sni_len;
	int ticket;
};

/* ClientHello message with GREASE in ciphers, extensions, groups and
 * versions.  JA3: CH_JA3 (with SNI and ticket). */
static void put_client_hello(struct bb *b, const struct ch_opts *o)
{
	put(b, 1, 1);
	vec_open(b, 3);
	put(b, 0x0303, 2);
	put_fill(b, 0x11, 32);
	vec_open(b, 1);
	put_bytes(b, o->sid, o->sid_len);
	vec_close(b);
	vec_open(b, 2);
	put(b, 0x0a0a, 2);
	put(b, 0x1301, 2);
	put(b, 0xc02f, 2);
	put(b, 0x002f, 2);
	vec_close(b);
	put(b, 1, 1);
	put(b, 0, 1);
	vec_open(b, 2);                 /* extensions */
	put(b, 0x1a1a, 2);
	put(b, 0, 2);
	if (o->sni) {
		put(b, 0, 2);
		vec_open(b, 2);
		vec_open(b, 2);
		put(b, 0, 1);
		vec_open(b, 2);
		put_bytes(b, o->sni, o->sni_len);
		vec_close(b);
		vec_close(b);
		vec_close(b);
	}
	put(b, 10, 2);                  /* supported_groups */
	vec_open(b, 2);
	vec_open(b, 2);
	put(b, 0x2a2a, 2);
	put(b, 0x001d, 2);
	put(b, 0x0017, 2);
	vec_close(b);
	vec_close(b);
	put(b, 11, 2);                  /* ec_point_formats */
	vec_open(b, 2);
	vec_open(b, 1);
	put(b, 0, 1);
	vec_close(b);
	vec_close(b);
	put(b, 16, 2);                  /* ALPN */
	vec_open(b, 2);
	vec_open(b, 2);
	put(b, 2, 1);
	put_bytes(b, "h2", 2);
	put(b, 8, 1);
	put_bytes(b, "http/1.1", 8);
	vec_close(b);
	vec_close(b);
	put(b, 43, 2);                  /* supported_versions */
	vec_open(b, 2);
	vec_open(b, 1);
	put(b, 0x3a3a, 2);
	put(b, 0x0304, 2);
	put(b, 0x0303, 2);
	vec_close(b);
	vec_close(b);
	if (o->ticket) {
		put(b, 35, 2);
		put(b, 0, 2);
	}
	put(b, 0xfafa, 2);
	vec_open(b, 2);
	put(b, 0, 1);
	vec_close(b);
	vec_close(b);                   /* extensions */
	vec_close(b);                   /* message */
}

#define CH_JA3     "771,4865-49199-47,0-10-11-16-43-35,29-23,0"
#define CH_JA3_MD5 "415e130109a60ce5894f497a6fb13a44"

struct sh_opts {
	uint16_t supported_version;  /* 0: no supported_versions */
	const uint8_t *sid;
	size_t sid_len;
	int hrr;
	int ticket;
	uint16_t cipher;             /* 0: 0xc02f */
	int psk;                     /* pre_shared_key (RFC 8446 §4.2.11) */
};

/* ServerHello: TLS 1.2, ECDHE-RSA-AES128-GCM-SHA256, renegotiation_info,
 * ALPN h2.  JA3S: SH_JA3S (with ticket, without supported_versions). */
static void put_server_hello(struct bb *b, const struct sh_opts *o)
{
	static const uint8_t hrr[32] = {
		0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c,
		0x02, 0x1e, 0x65, 0xb8, 0x91, 0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb,
		0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
	};

	put(b, 2, 1);
	vec_open(b, 3);
	put(b, 0x0303, 2);
	if (o->hrr)
		put_bytes(b, hrr, 32);
	else
		put_fill(b, 0x22, 32);
	vec_open(b, 1);
	put_bytes(b, o->sid, o->sid_len);
	vec_close(b);
	put(b, o->cipher ? o->cipher : 0xc02f, 2);
	put(b, 0, 1);
	vec_open(b, 2);
	if (o->psk) {
		put(b, 41, 2);
		put(b, 2, 2);
		put(b, 0, 2);
	}
	put(b, 0xff01, 2);
	put(b, 1, 2);
	put(b, 0, 1);
	put(b, 16, 2);
	vec_open(b, 2);
	vec_open(b, 2);
	put(b, 2, 1);
	put_bytes(b, "h2", 2);
	vec_close(b);
	vec_close(b);
	if (o->ticket) {
		put(b, 35, 2);
		put(b, 0, 2);
	}
	if (o->supported_version) {
		put(b, 43, 2);
		put(b, 2, 2);
		put(b, o->supported_version, 2);
	}
	vec_close(b);
	vec_close(b);
}

#define SH_JA3S     "771,49199,65281-16-35"
#define SH_JA3S_MD5 "efb2918a2aadbc0a6a6b6c21cf308af1"

/* Certificate message with n stand-in certificates: tls.c does not parse
 * DER, so certificate i is sizes[i] bytes of a pattern. */
static void put_cert_bytes(uint8_t *p, size_t i, size_t n)
{
	for (size_t j = 0; j < n; j++)
		p[j] = (uint8_t)(0x30 + i * 31 + j * 7);
}

static void put_certificate(struct bb *b, const size_t *sizes, size_t n)
{
	put(b, 11, 1);
	vec_open(b, 3);
	vec_open(b, 3);
	for (size_t i = 0; i < n; i++) {
		put(b, sizes[i], 3);
		put_cert_bytes(b->d + b->n, i, sizes[i]);
		b->n += sizes[i];
	}
	vec_close(b);
	vec_close(b);
}

static void put_hello_done(struct bb *b)
{
	put(b, 14, 1);
	put(b, 0, 3);
}

static void assert_cert(const struct tls_session *s, size_t k, size_t i, size_t len)
{
	uint8_t *want = malloc(len);

	assert_non_null(want);
	put_cert_bytes(want, i, len);
	assert_int_equal(s->certs[k].len, len);
	assert_memory_equal(s->certs[k].data, want, len);
	free(want);
}

/* ---- helpers ----------------------------------------------------------- */

static struct cs_limits lim;

static int setup(void **state)
{
	(void)state;
	cs_limits_default(&lim);
	return 0;
}

/* Feed in pieces of chunk bytes; stop once decided, as the contract asks. */
static int feed(struct tls_session *s, enum tls_dir d, const uint8_t *p, size_t n, size_t chunk)
{
	int rc = TLS_MORE;

	for (size_t off = 0; off < n && rc == TLS_MORE; off += chunk)
		rc = tls_feed(s, d, p + off, n - off < chunk ? n - off : chunk);
	return rc;
}

static int run(struct tls_session *s, const uint8_t *c, size_t cn,
               const uint8_t *sv, size_t sn, size_t chunk)
{
	tls_session_init(s, &lim);
	if (feed(s, TLS_CLIENT, c, cn, chunk) == TLS_DECIDED)
		return TLS_DECIDED;
	return feed(s, TLS_SERVER, sv, sn, chunk);
}

static void assert_str_or_null_equal(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		assert_ptr_equal(a, b);
	else
		assert_string_equal(a, b);
}

static void assert_same_session(const struct tls_session *a, const struct tls_session *b)
{
	assert_int_equal(a->decision, b->decision);
	assert_string_equal(a->error, b->error);
	assert_int_equal(a->ch_seen, b->ch_seen);
	assert_int_equal(a->ch_sslv2, b->ch_sslv2);
	assert_int_equal(a->ch_version, b->ch_version);
	assert_string_equal(a->sni, b->sni);
	assert_int_equal(a->n_alpn, b->n_alpn);
	for (size_t i = 0; i < a->n_alpn; i++)
		assert_string_equal(a->alpn[i], b->alpn[i]);
	assert_int_equal(a->n_ch_versions, b->n_ch_versions);
	assert_memory_equal(a->ch_versions, b->ch_versions, sizeof a->ch_versions);
	assert_int_equal(a->ch_sid_len, b->ch_sid_len);
	assert_memory_equal(a->ch_sid, b->ch_sid, a->ch_sid_len);
	assert_str_or_null_equal(a->ja3, b->ja3);
	assert_string_equal(a->ja3_md5, b->ja3_md5);
	assert_int_equal(a->sh_seen, b->sh_seen);
	assert_int_equal(a->version, b->version);
	assert_int_equal(a->cipher, b->cipher);
	assert_string_equal(a->server_alpn, b->server_alpn);
	assert_str_or_null_equal(a->ja3s, b->ja3s);
	assert_string_equal(a->ja3s_md5, b->ja3s_md5);
	assert_int_equal(a->resumed, b->resumed);
	assert_int_equal(a->n_certs, b->n_certs);
	assert_int_equal(a->certs_dropped, b->certs_dropped);
	for (size_t i = 0; i < a->n_certs; i++) {
		assert_int_equal(a->certs[i].len, b->certs[i].len);
		assert_memory_equal(a->certs[i].data, b->certs[i].data, a->certs[i].len);
	}
}

static void assert_sha256(const struct tls_cert *c, const char *hex)
{
	uint8_t md[DIGEST_SHA256_LEN];
	char got[2 * DIGEST_SHA256_LEN + 1];

	digest_sha256(c->data, c->len, md);
	digest_hex(md, sizeof md, got, 0, 0);
	assert_string_equal(got, hex);
}

/* A hand-built TLS 1.2 exchange: client flight, and a server flight of
 * ServerHello, Certificate (certificates of the given sizes) and
 * ServerHelloDone, each message in records of at most frag bytes. */
static void build_flights(struct bb *cli, struct bb *srv, const size_t *sizes, size_t n,
                          size_t frag)
{
	struct ch_opts co = { .sni = "example.org", .sni_len = 11, .ticket = 1 };
	struct sh_opts so = { .ticket = 1 };
	struct bb *m = bb_new();

	put_client_hello(m, &co);
	put_records(cli, 22, m->d, m->n, frag);
	m->n = 0;
	put_server_hello(m, &so);
	put_certificate(m, sizes, n);
	put_hello_done(m);
	put_records(srv, 22, m->d, m->n, frag);
	free(m);
}

/* ---- real handshakes --------------------------------------------------- */

static void test_real_tls12_full(void **state)
{
	struct tls_session s;

	(void)state;
	tls_session_init(&s, &lim);
	assert_int_equal(tls_feed(&s, TLS_CLIENT, real12_client, sizeof real12_client), TLS_MORE);
	assert_true(s.ch_seen);
	assert_true(s.dir[TLS_CLIENT].done);
	assert_int_equal(s.ch_version, 0x0303);
	assert_string_equal(s.sni, "www.example.com");
	assert_int_equal(s.n_alpn, 2);
	assert_string_equal(s.alpn[0], "h2");
	assert_string_equal(s.alpn[1], "http/1.1");
	assert_int_equal(s.n_ch_versions, 4);
	assert_int_equal(s.ch_versions[0], 0x0304);
	assert_int_equal(s.ch_versions[3], 0x0301);
	assert_int_equal(s.ch_sid_len, 32);
	assert_string_equal(s.ja3, REAL_JA3);
	assert_string_equal(s.ja3_md5, REAL_JA3_MD5);

	assert_int_equal(tls_feed(&s, TLS_SERVER, real12_server, sizeof real12_server), TLS_DECIDED);
	assert_int_equal(s.decision, TLS_DEC_CERTS);
	assert_int_equal(s.version, 0x0303);
	assert_int_equal(s.sh_legacy_version, 0x0303);
	assert_int_equal(s.cipher, 0xc02c);
	assert_string_equal(s.server_alpn, "h2");
	assert_string_equal(s.ja3s, "771,49196,65281-11-35-16-23");
	assert_string_equal(s.ja3s_md5, "e195432758194ce2d482396b82e0d48e");
	assert_int_equal(s.resumed, 0);
	assert_int_equal(s.n_certs, 2);
	assert_int_equal(s.certs[0].len, 400);
	assert_int_equal(s.certs[1].len, 380);
	assert_sha256(&s.certs[0], REAL_LEAF_SHA256);
	assert_sha256(&s.certs[1], REAL_CA_SHA256);
	assert_string_equal(tls_version_name(s.version), "TLS 1.2");
	/* decided: nothing more is read */
	assert_int_equal(tls_feed(&s, TLS_SERVER, (const uint8_t *)"junk", 4), TLS_DECIDED);
	tls_session_free(&s);
}

static void test_real_tls12_resumed(void **state)
{
	struct tls_session s;

	(void)state;
	assert_int_equal(run(&s, real12r_client, sizeof real12r_client, real12r_server,
	                     sizeof real12r_server, sizeof real12r_server),
	                 TLS_DECIDED);
	assert_int_equal(s.decision, TLS_DEC_RESUMED);
	assert_int_equal(s.resumed, 1);
	assert_int_equal(s.n_certs, 0);
	assert_string_equal(s.ja3_md5, REAL_JA3_MD5);
	assert_string_equal(s.ja3s, "771,49196,65281-16-23");
	assert_string_equal(s.ja3s_md5, "93d1391af13d019030090b7f26bac378");
	tls_session_free(&s);
}

static void test_real_tls13(void **state)
{
	struct tls_session s;

	(void)state;
	assert_int_equal(run(&s, real13_client, sizeof real13_client, real13_server,
	                     sizeof real13_server, 1),
	                 TLS_DECIDED);
	assert_int_equal(s.decision, TLS_DEC_TLS13);
	assert_int_equal(s.version, 0x0304);
	assert_int_equal(s.sh_legacy_version, 0x0303);
	assert_int_equal(s.cipher, 0x1302);
	assert_int_equal(s.resumed, 0);  /* the echoed legacy_session_id is no resumption */
	assert_string_equal(s.ja3s, "771,4866,43-51");
	assert_string_equal(s.ja3s_md5, "15af977ce25de452b96affa2addb1036");
	assert_string_equal(tls_version_name(s.version), "TLS 1.3");
	tls_session_free(&s);
}

/* Byte by byte, 7-byte pieces, and whole give the same session. */
static void check_split_equivalence(const uint8_t *c, size_t cn, const uint8_t *sv, size_t sn)
{
	static const size_t chunks[] = { 1, 2, 3, 7, 100 };
	struct tls_session whole, part;
	int rc_whole = run(&whole, c, cn, sv, sn, cn > sn ? cn : sn);

	for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++) {
		assert_int_equal(run(&part, c, cn, sv, sn, chunks[i]), rc_whole);
		assert_same_session(&whole, &part);
		tls_session_free(&part);
	}
	tls_session_free(&whole);
}

static void test_split_equivalence_real(void **state)
{
	(void)state;
	check_split_equivalence(real12_client, sizeof real12_client, real12_server,
	                        sizeof real12_server);
	check_split_equivalence(real12r_client, sizeof real12r_client, real12r_server,
	                        sizeof real12r_server);
	check_split_equivalence(real13_client, sizeof real13_client, real13_server,
	                        sizeof real13_server);
}

/* ---- hand-built hellos ------------------------------------------------- */

static void test_client_hello_grease_ja3(void **state)
{
	struct ch_opts co = { .sni = "example.org", .sni_len = 11, .ticket = 1 };
	struct bb *m = bb_new(), *r = bb_new();
	struct tls_session s;

	(void)state;
	put_client_hello(m, &co);
	put_records(r, 22, m->d, m->n, 16384);
	tls_session_init(&s, &lim);
	assert_int_equal(tls_feed(&s, TLS_CLIENT, r->d, r->n), TLS_MORE);
	assert_int_equal(s.decision, TLS_UNDECIDED);
	assert_true(s.ch_seen);
	assert_string_equal(s.sni, "example.org");
	assert_int_equal(s.n_alpn, 2);
	assert_string_equal(s.alpn[1], "http/1.1");
	assert_int_equal(s.n_ch_versions, 2);     /* 0x3a3a left out */
	assert_int_equal(s.ch_versions[0], 0x0304);
	assert_int_equal(s.ch_versions[1], 0x0303);
	assert_true(s.ch_ticket);
	assert_string_equal(s.ja3, CH_JA3);
	assert_string_equal(s.ja3_md5, CH_JA3_MD5);
	/* the client side is done: more client bytes are ignored */
	assert_int_equal(tls_feed(&s, TLS_CLIENT, (const uint8_t *)"GET / HTTP/1.1", 14), TLS_MORE);
	assert_int_equal(s.decision, TLS_UNDECIDED);
	tls_session_free(&s);
	free(m);
	free(r);
}

static void test_server_hello_tls12_then_certs(void **state)
{
	static const size_t sizes[] = { 700, 450 };
	struct bb *c = bb_new(), *sv = bb_new();
	struct tls_session s;

	(void)state;
	build_flights(c, sv, sizes, 2, 16384);
	tls_session_init(&s, &lim);
	assert_int_equal(tls_feed(&s, TLS_CLIENT, c->d, c->n), TLS_MORE);
	/* the ServerHello alone decides nothing in TLS 1.2 */
	assert_int_equal(tls_feed(&s, TLS_SERVER, sv->d, 5 + 4 + 2), TLS_MORE);
	assert_int_equal(tls_feed(&s, TLS_SERVER, sv->d + 11, sv->n - 11), TLS_DECIDED);
	assert_int_equal(s.decision, TLS_DEC_CERTS);
	assert_true(s.sh_seen);
	assert_int_equal(s.version, 0x0303);
	assert_int_equal(s.cipher, 0xc02f);
	assert_string_equal(s.server_alpn, "h2");
	assert_string_equal(s.ja3s, SH_JA3S);
	assert_string_equal(s.ja3s_md5, SH_JA3S_MD5);
	assert_int_equal(s.n_certs, 2);
	assert_cert(&s, 0, 0, 700);
	assert_cert(&s, 1, 1, 450);
	assert_int_equal(s.error[0], '\0');
	tls_session_free(&s);
	free(c);
	free(sv);
}

static void test_server_hello_tls13(void **state)
{
	struct sh_opts so = { .supported_version = 0x0304 };
	struct sh_opts hrr = { .supported_version = 0x0304, .hrr = 1 };
	struct bb *m = bb_new(), *r = bb_new();
	struct tls_session s;

	(void)state;
	put_server_hello(m, &so);
	put_records(r, 22, m->d, m->n, 16384);
	tls_session_init(&s, &lim);
	assert_int_equal(tls_feed(&s, TLS_SERVER, r->d, r->n), TLS_DECIDED);
	assert_int_equal(s.decision, TLS_DEC_TLS13);
	assert_int_equal(s.version, 0x0304);
	assert_string_equal(s.ja3s, "771,49199,65281-16-43");
	tls_session_free(&s);

	/* a HelloRetryRequest means TLS 1.3 as well */
	m->n = r->n = 0;
	put_server_hello(m, &hrr);
	put_records(r, 22, m->d, m->n, 16384);
	tls_session_init(&s, &lim);
	assert_int_equal(tls_feed(&s, TLS_SERVER, r->d, r->n), TLS_DECIDED);
	assert_int_equal(s.decision, TLS_DEC_TLS13);
	tls_session_free(&s);
	free(m);
	free(r);
}

/* One Certificate message over three records; and the whole server flight
 * (three messages) in one record. */
static void test_message_over_three_records(void **state)
{
	static const size_t sizes[] = { 1000, 900 };
	struct bb *m = bb_new(), *r = bb_new();
	struct tls_session s;

	(void)state;
	put_certificate(m, sizes, 2);
	put_records(r, 22, m->d, m->n, m->n / 3 + 1);
	assert_int_equal(r->n, m->n + 3 * 5);   /* three records */
	tls_session_init(&s, &lim);
	assert_int_equal(tls_feed(&s, TLS_SERVER, r->d, r->n), TLS_DECIDED);
	assert_int_equal(s.decision, TLS_DEC_CERTS);
	assert_int_equal(s.dir[TLS_SERVER].records, 3);
	assert_cert(&s, 0, 0, 1000);
	assert_cert(&s, 1, 1, 900);
	tls_session_free(&s);
	free(m);
	free(r);
}

static void test_messages_in_one_record(void **state)
{
	static const size_t sizes[] = { 300, 200 };
	struct bb *c = bb_new(), *sv = bb_new();
	struct tls_session s;

	(void)state;
	build_flights(c, sv, sizes, 2, 16384);
	assert_int_equal(run(&s, c->d, c->n, sv->d, sv->n, 1 << 20), TLS_DECIDED);
	assert_int_equal(s.decision, TLS_DEC_CERTS);
	assert_int_equal(s.dir[TLS_SERVER].records, 1);
	assert_true(s.sh_seen);
	assert_int_equal(s.n_certs, 2);
	tls_session_free(&s);
	free(c);
	free(sv);
}

static void test_split_equivalence_built(void **state)
{
	static const size_t sizes[] = { 2000, 1500, 17 };
	static const size_t frags[] = { 16384, 1000, 7, 1 };

	(void)state;
	for (size_t i = 0; i < sizeof frags / sizeof frags[0]; i++) {
		struct bb *c = bb_new(), *sv = bb_new();

		build_flights(c, sv, sizes, 3, frags[i]);
		check_split_equivalence(c->d, c->n, sv->d, sv->n);
		free(c);
		free(sv);
	}
}

/* ---- handshake messages without records (tls_handshake_feed) ---------- */

/* The same flights as build_flights, as bare handshake messages: what a
 * QUIC CRYPTO stream carries. */
static void build_messages(struct bb *cli, struct bb *srv, const size_t *sizes, size_t n)
{
	struct ch_opts co = { .sni = "example.org", .sni_len = 11, .ticket = 1 };
	struct sh_opts so = { .ticket = 1 };

	put_client_hello(cli, &co);
	put_server_hello(srv, &so);
	put_certificate(srv, sizes, n);
	put_hello_done(srv);
}

/* Feed bare messages in pieces of chunk bytes; stop once decided. */
static int hs_feed(struct tls_session *s, enum tls_dir d, const uint8_t *p, size_t n, size_t chunk)
{
	int rc = TLS_MORE;

	for (size_t off = 0; off < n && rc == TLS_MORE; off += chunk)
		rc = tls_handshake_feed(s, d, p + off, n - off < chunk ? n - off : chunk);
	return rc;
}

static int hs_run(struct tls_session *s, const struct bb *c, const struct bb *sv, size_t chunk)
{
	tls_session_init(s, &lim);
	if (hs_feed(s, TLS_CLIENT, c->d, c->n, chunk) == TLS_DECIDED)
		return TLS_DECIDED;
	return hs_feed(s, TLS_SERVER, sv->d, sv->n, chunk);
}

/* Messages fed directly give the session the records would have. */
static void test_handshake_feed_no_records(void **state)
{
	static const size_t sizes[] = { 700, 450 };
	struct bb *c = bb_new(), *sv = bb_new(), *rc = bb_new(), *rs = bb_new();
	struct tls_session s, r;

	(void)state;
	build_messages(c, sv, sizes, 2);
	tls_session_init(&s, &lim);
	assert_int_equal(tls_handshake_feed(&s, TLS_CLIENT, c->d, c->n), TLS_MORE);
	assert_true(s.ch_seen);
	assert_string_equal(s.sni, "example.org");
	assert_string_equal(s.ja3, CH_JA3);
	assert_true(s.dir[TLS_CLIENT].done);
	assert_int_equal(s.dir[TLS_CLIENT].records, 0);   /* no record layer */
	assert_int_equal(tls_handshake_feed(&s, TLS_SERVER, sv->d, sv->n), TLS_DECIDED);
	assert_int_equal(s.decision, TLS_DEC_CERTS);
	assert_string_equal(s.ja3s, SH_JA3S);
	assert_int_equal(s.n_certs, 2);
	assert_cert(&s, 0, 0, 700);
	assert_cert(&s, 1, 1, 450);
	/* once decided, more bytes change nothing */
	assert_int_equal(tls_handshake_feed(&s, TLS_SERVER, sv->d, sv->n), TLS_DECIDED);
	assert_int_equal(s.n_certs, 2);

	put_records(rc, 22, c->d, c->n, 100);
	put_records(rs, 22, sv->d, sv->n, 100);
	assert_int_equal(run(&r, rc->d, rc->n, rs->d, rs->n, 1 << 20), TLS_DECIDED);
	assert_same_session(&s, &r);
	tls_session_free(&s);
	tls_session_free(&r);
	free(c);
	free(sv);
	free(rc);
	free(rs);
}

/* Split equivalence: byte by byte, in odd pieces, and cut in two at every
 * point, the result is the whole's. */
static void test_handshake_feed_split(void **state)
{
	static const size_t sizes[] = { 300, 5, 40 };
	static const size_t chunks[] = { 1, 2, 3, 7, 64, 1000 };
	struct bb *c = bb_new(), *sv = bb_new();
	struct tls_session whole, s;

	(void)state;
	build_messages(c, sv, sizes, 3);
	assert_int_equal(hs_run(&whole, c, sv, 1 << 20), TLS_DECIDED);
	assert_int_equal(whole.decision, TLS_DEC_CERTS);
	for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++) {
		assert_int_equal(hs_run(&s, c, sv, chunks[i]), TLS_DECIDED);
		assert_same_session(&whole, &s);
		tls_session_free(&s);
	}
	/* A TLS 1.2 Certificate decides: the ServerHelloDone (4 bytes) after
	 * it is not needed. */
	for (size_t k = 1; k < sv->n; k++) {
		int cert_in = k >= sv->n - 4;

		tls_session_init(&s, &lim);
		assert_int_equal(tls_handshake_feed(&s, TLS_CLIENT, c->d, c->n), TLS_MORE);
		assert_int_equal(tls_handshake_feed(&s, TLS_SERVER, sv->d, k),
		                 cert_in ? TLS_DECIDED : TLS_MORE);
		assert_int_equal(s.n_certs, cert_in ? 3 : 0);
		assert_int_equal(tls_handshake_feed(&s, TLS_SERVER, sv->d + k, sv->n - k),
		                 TLS_DECIDED);
		assert_same_session(&whole, &s);
		tls_session_free(&s);
	}
	tls_session_free(&whole);
	free(c);
	free(sv);
}

/* Lengths that lie: a giant one is refused at its header, before any body
 * is buffered; one too short for the fields it holds, or a Certificate
 * whose inner lengths run past the message, is malformed; every prefix
 * of a valid message only waits, reading nothing past what it was given. */
static void test_handshake_feed_bad_lengths(void **state)
{
	static const uint8_t giant[] = { 0x0b, 0xff, 0xff, 0xff, 0x00 };
	static const uint8_t short_sh[] = { 0x02, 0x00, 0x00, 0x03, 0x03, 0x03, 0x00 };
	/* Certificate of 7 bytes whose list claims 0x10 bytes: the one
	 * certificate inside is recovered, the message reported malformed */
	static const uint8_t list_over[] = { 0x0b, 0x00, 0x00, 0x07,
	                                     0x00, 0x00, 0x10, 0x00, 0x00, 0x01, 0xaa };
	/* a right list length, but its first entry is empty (ASN.1Cert is
	 * <1..2^24-1>): nothing to recover, malformed */
	static const uint8_t cert_over[] = { 0x0b, 0x00, 0x00, 0x07,
	                                     0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0xaa };
	struct ch_opts co = { .sni = "example.org", .sni_len = 11 };
	uint64_t too_big = g_stats.tls_hs_too_big, err = g_stats.tls_parse_err;
	struct bb *m = bb_new();
	struct tls_session s;

	(void)state;
	tls_session_init(&s, &lim);
	assert_int_equal(tls_handshake_feed(&s, TLS_SERVER, giant, 4), TLS_DECIDED);
	assert_int_equal(s.decision, TLS_DEC_LIMIT);
	assert_int_equal(g_stats.tls_hs_too_big, too_big + 1);
	assert_null(s.dir[TLS_SERVER].msg);
	tls_session_free(&s);

	tls_session_init(&s, &lim);
	assert_int_equal(tls_handshake_feed(&s, TLS_SERVER, short_sh, sizeof short_sh),
	                 TLS_DECIDED);
	assert_int_equal(s.decision, TLS_DEC_ERROR);
	assert_non_null(strstr(s.error, "ServerHello"));
	assert_false(s.sh_seen);
	tls_session_free(&s);

	tls_session_init(&s, &lim);
	assert_int_equal(tls_handshake_feed(&s, TLS_SERVER, list_over, sizeof list_over),
	                 TLS_DECIDED);
	assert_int_equal(s.decision, TLS_DEC_CERTS);
	assert_string_equal(s.error, "malformed Certificate message");
	assert_int_equal(s.n_certs, 1);
	assert_int_equal(s.certs[0].len, 1);
	tls_session_free(&s);

	tls_session_init(&s, &lim);
	assert_int_equal(tls_handshake_feed(&s, TLS_SERVER, cert_over, sizeof cert_over),
	                 TLS_DECIDED);
	assert_int_equal(s.decision, TLS_DEC_ERROR);
	assert_int_equal(s.n_certs, 0);
	assert_int_equal(g_stats.tls_parse_err, err + 3);
	tls_session_free(&s);

	put_client_hello(m, &co);
	for (size_t k = 0; k < m->n; k++) {
		uint8_t *copy = malloc(k ? k : 1);   /* exact size: ASan sees overreads */

		assert_non_null(copy);
		memcpy(copy, m->d, k);
		tls_session_init(&s, &lim);
		assert_int_equal(tls_handshake_feed(&s, TLS_CLIENT, copy, k), TLS_MORE);
		assert_false(s.ch_seen);
		tls_session_free(&s);
		free(copy);
	}
	free(m);
}

/* ---- truncation and giant lengths -------------------------------------- */

static void check_prefixes(const uint8_t *p, size_t n)
{
	struct tls_session s;

	for (size_t k = 0; k < n; k++) {
		uint8_t *copy = malloc(k ? k : 1);   /* exact size: valgrind/ASan see overreads */

		assert_non_null(copy);
		memcpy(copy, p, k);
		tls_session_init(&s, &lim);
		assert_int_equal(tls_feed(&s, TLS_CLIENT, copy, k), TLS_MORE);
		assert_int_equal(s.decision, TLS_UNDECIDED);
		assert_false(s.ch_seen);
		tls_session_free(&s);
		free(copy);
	}
}

static void test_client_hello_every_truncation(void **state)
{
	struct ch_opts co = { .sni = "example.org", .sni_len = 11, .ticket = 1 };
	struct bb *m = bb_new(), *r = bb_new();

	(void)state;
	put_client_hello(m, &co);
	put_records(r, 22, m->d, m->n, 16384);
	check_prefixes(r->d, r->n);
	check_prefixes(real12_client, 5 + 4 + 0x14a);   /* the real ClientHello record */
	free(m);
	free(r);
}

static void test_server_flight_every_truncation(void **state)
{
	static const size_t sizes[] = { 60, 40 };
	struct bb *c = bb_new(), *sv = bb_new();
	struct tls_session s;

	(void)state;
	build_flights(c, sv, sizes, 2, 50);
	/* every prefix short of the Certificate's last byte stays undecided */
	for (size_t k = 0; k + 5 + 4 < sv->n; k++) {
		tls_session_init(&s, &lim);
		assert_int_equal(tls_feed(&s, TLS_CLIENT, c->d, c->n), TLS_MORE);
		assert_int_equal(tls_feed(&s, TLS_SERVER, sv->d, k), TLS_MORE);
		assert_int_equal(s.n_certs, 0);
		tls_session_free(&s);
	}
	free(c);
	free(sv);
}

static void test_giant_record_length(void **state)
{
	static const uint8_t first[] = { 0x16, 0x03, 0x01, 0xff, 0xff, 0x01 };
	struct bb *c = bb_new(), *sv = bb_new();
	static const size_t sizes[] = { 10 };
	uint64_t not_tls = g_stats.tls_not_tls, err = g_stats.tls_parse_err;
	struct tls_session s;

	(void)state;
	tls_session_init(&s, &lim);
	assert_int_equal(tls_feed(&s, TLS_SERVER, first, sizeof first), TLS_DECIDED);
	assert_int_equal(s.decision, TLS_DEC_NOT_TLS);
	assert_int_equal(g_stats.tls_not_tls, not_tls + 1);
	tls_session_free(&s);

	/* after a valid record the same header is an error */
	build_flights(c, sv, sizes, 1, 16384);
	tls_session_init(&s, &lim);
	assert_int_equal(tls_feed(&s, TLS_CLIENT, c->d, c->n), TLS_MORE);
	s.dir[TLS_CLIENT].done = 0;   /* look at the client's next record */
	assert_int_equal(tls_feed(&s, TLS_CLIENT, first, sizeof first), TLS_DECIDED);
	assert_int_equal(s.decision, TLS_DEC_ERROR);
	assert_int_equal(g_stats.tls_parse_err, err + 1);
	assert_non_null(strstr(s.error, "record header"));
	tls_session_free(&s);
	free(c);
	free(sv);
}

static void test_giant_handshake_length(void **state)
{
	static const uint8_t rec[] = { 0x16, 0x03, 0x03, 0x00, 0x08,
	                               0x0b, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00 };
	uint64_t too_big = g_stats.tls_hs_too_big;
	struct tls_session s;

	(void)state;
	tls_session_init(&s, &lim);
	assert_int_equal(tls_feed(&s, TLS_SERVER, rec, sizeof rec), TLS_DECIDED);
	assert_int_equal(s.decision, TLS_DEC_LIMIT);
	assert_int_equal(g_stats.tls_hs_too_big, too_big + 1);
	assert_non_null(strstr(s.error, "max_hs_msg"));
	assert_null(s.dir[TLS_SERVER].msg);   /* nothing kept once decided */
	tls_session_free(&s);
}

/* ---- limits ------------------------------------------------------------ */

static void test_max_certs_and_size(void **state)
{
	static const size_t sizes[] = { 100, 5000, 200, 300 };
	struct cs_limits small;
	struct bb *m = bb_new(), *r = bb_new();
	uint64_t dropped = g_stats.tls_certs_dropped, big = g_stats.tls_cert_too_big;
	struct tls_session s;

	(void)state;
	cs_limits_default(&small);
	small.max_certs = 2;
	small.max_cert_size = 4096;
	put_certificate(m, sizes, 4);
	put_records(r, 22, m->d, m->n, 16384);
	tls_session_init(&s, &small);
	assert_int_equal(tls_feed(&s, TLS_SERVER, r->d, r->n), TLS_DECIDED);
	assert_int_equal(s.decision, TLS_DEC_CERTS);
	assert_int_equal(s.n_certs, 2);
	assert_cert(&s, 0, 0, 100);
	assert_cert(&s, 1, 2, 200);           /* the 5000-byte one was skipped */
	assert_int_equal(s.certs_dropped, 2);
	assert_int_equal(g_stats.tls_cert_too_big, big + 1);
	assert_int_equal(g_stats.tls_certs_dropped, dropped + 1);
	tls_session_free(&s);
	free(m);
	free(r);
}

static void test_empty_and_malformed_certificate(void **state)
{
	static const uint8_t empty[] = { 0x16, 0x03, 0x03, 0x00, 0x07,
	                                 0x0b, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00 };
	static const size_t sizes[] = { 100, 200 };
	struct bb *m = bb_new(), *r = bb_new();
	uint64_t err = g_stats.tls_parse_err;
	struct tls_session s;

	(void)state;
	tls_session_init(&s, &lim);
	assert_int_equal(tls_feed(&s, TLS_SERVER, empty, sizeof empty), TLS_DECIDED);
	assert_int_equal(s.decision, TLS_DEC_CERTS);
	assert_int_equal(s.n_certs, 0);
	tls_session_free(&s);

	/* the second entry claims more than the list holds: the first is
	 * kept whole, the second as the bytes there are (zeek's
	 * tls1.2-protocol-violation.pcap), and the message is reported
	 * malformed */
	put_certificate(m, sizes, 2);
	m->d[4 + 3 + 3 + 100] = 0x7f;
	put_records(r, 22, m->d, m->n, 16384);
	tls_session_init(&s, &lim);
	assert_int_equal(tls_feed(&s, TLS_SERVER, r->d, r->n), TLS_DECIDED);
	assert_int_equal(s.decision, TLS_DEC_CERTS);
	assert_string_equal(s.error, "malformed Certificate message");
	assert_int_equal(g_stats.tls_parse_err, err + 1);
	assert_int_equal(s.n_certs, 2);
	assert_cert(&s, 0, 0, 100);
	assert_int_equal(s.certs[1].len, 200);
	assert_memory_equal(s.certs[1].data, m->d + 4 + 3 + 3 + 100 + 3, 200);
	tls_session_free(&s);
	free(m);
	free(r);
}

static void test_small_message_buffer_limit(void **state)
{
	static const size_t sizes[] = { 3000 };
	struct cs_limits small;
	struct bb *m = bb_new(), *r = bb_new();
	struct tls_session s;

	(void)state;
	cs_limits_default(&small);
	small.max_hs_msg = 3000 + 6;         /* exactly the message */
	put_certificate(m, sizes, 1);
	put_records(r, 22, m->d, m->n, 1000);
	tls_session_init(&s, &small);
	assert_int_equal(feed(&s, TLS_SERVER, r->d, r->n, 1), TLS_DECIDED);
	assert_int_equal(s.decision, TLS_DEC_CERTS);
	assert_cert(&s, 0, 0, 3000);
	tls_session_free(&s);

	small.max_hs_msg = 3000 + 5;         /* one byte short */
	tls_session_init(&s, &small);
	assert_int_equal(tls_feed(&s, TLS_SERVER, r->d, r->n), TLS_DECIDED);
	assert_int_equal(s.decision, TLS_DEC_LIMIT);
	tls_session_free(&s);
	free(m);
	free(r);
}

/* ---- other shapes ------------------------------------------------------ */

/* SSLv2-format ClientHello offering TLS 1.0 (RFC 5246 Appendix E.2): two
 * TLS suites and one SSLv2-only spec, no session id, 16-byte challenge. */
static const uint8_t v2_hello[] = {
	0x80, 0x22,                         /* 2-byte header, length 34 */
	0x01, 0x03, 0x01,                   /* CLIENT-HELLO, version 3.1 */
	0x00, 0x09, 0x00, 0x00, 0x00, 0x10, /* specs 9, session id 0, challenge 16 */
	0x00, 0x00, 0x39, 0x07, 0x00, 0xc0, 0x00, 0x00, 0x2f,
	0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
	0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf,
};

static void test_sslv2_client_hello(void **state)
{
	uint64_t v2 = g_stats.tls_sslv2_hello;
	struct tls_session s, bytewise;

	(void)state;
	assert_int_equal(tls_plausible_start(v2_hello, sizeof v2_hello), 1);
	tls_session_init(&s, &lim);
	assert_int_equal(tls_feed(&s, TLS_CLIENT, v2_hello, sizeof v2_hello), TLS_MORE);
	assert_true(s.ch_seen);
	assert_true(s.ch_sslv2);
	assert_true(s.dir[TLS_CLIENT].done);
	assert_int_equal(s.ch_version, 0x0301);
	assert_string_equal(s.ja3, "769,57-47,,,");
	assert_string_equal(s.ja3_md5, "c65a401811ff5558a04c4f1a9431ec7e");
	assert_int_equal(g_stats.tls_sslv2_hello, v2 + 1);

	tls_session_init(&bytewise, &lim);
	assert_int_equal(feed(&bytewise, TLS_CLIENT, v2_hello, sizeof v2_hello, 1), TLS_MORE);
	assert_same_session(&s, &bytewise);
	tls_session_free(&bytewise);
	tls_session_free(&s);

	/* every truncation: nothing decided, nothing read past the end */
	check_prefixes(v2_hello, sizeof v2_hello);
}

static void test_not_tls(void **state)
{
	static const char http[] = "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n";
	uint64_t not_tls = g_stats.tls_not_tls;
	struct tls_session s;

	(void)state;
	assert_int_equal(tls_plausible_start((const uint8_t *)http, strlen(http)), 0);
	tls_session_init(&s, &lim);
	assert_int_equal(tls_feed(&s, TLS_CLIENT, (const uint8_t *)http, strlen(http)), TLS_DECIDED);
	assert_int_equal(s.decision, TLS_DEC_NOT_TLS);
	assert_int_equal(g_stats.tls_not_tls, not_tls + 1);
	assert_non_null(strstr(s.error, "47"));
	tls_session_free(&s);

	/* decided at the first byte that rules TLS out */
	tls_session_init(&s, &lim);
	assert_int_equal(tls_feed(&s, TLS_CLIENT, (const uint8_t *)http, 1), TLS_DECIDED);
	tls_session_free(&s);

	/* a server may not open with an SSLv2 hello */
	tls_session_init(&s, &lim);
	assert_int_equal(tls_feed(&s, TLS_SERVER, v2_hello, sizeof v2_hello), TLS_DECIDED);
	assert_int_equal(s.decision, TLS_DEC_NOT_TLS);
	tls_session_free(&s);
}

static void test_resumed_by_session_id(void **state)
{
	uint8_t sid[32];
	struct ch_opts co = { .sid = sid, .sid_len = 32 };
	struct sh_opts so = { .sid = sid, .sid_len = 32 };
	struct bb *m = bb_new(), *c = bb_new(), *sv = bb_new();
	struct tls_session s;

	(void)state;
	memset(sid, 0x5a, sizeof sid);
	put_client_hello(m, &co);
	put_records(c, 22, m->d, m->n, 16384);
	m->n = 0;
	put_server_hello(m, &so);
	put_records(sv, 22, m->d, m->n, 16384);
	assert_int_equal(run(&s, c->d, c->n, sv->d, sv->n, 7), TLS_DECIDED);
	assert_int_equal(s.decision, TLS_DEC_RESUMED);
	assert_int_equal(s.resumed, 1);
	assert_int_equal(s.sh_sid_len, 32);
	tls_session_free(&s);

	/* a different id: a full handshake follows, nothing decided yet */
	sid[0] ^= 1;
	sv->n = m->n = 0;
	put_server_hello(m, &so);
	put_records(sv, 22, m->d, m->n, 16384);
	assert_int_equal(run(&s, c->d, c->n, sv->d, sv->n, 7), TLS_MORE);
	tls_session_free(&s);
	free(m);
	free(c);
	free(sv);
}

/* The server's ChangeCipherSpec before any Certificate: a resumption when
 * there was something to resume, else a suite without certificate. */
static void test_ccs_before_certificate(void **state)
{
	static const uint8_t ccs[] = { 0x14, 0x03, 0x03, 0x00, 0x01, 0x01 };
	uint8_t sid[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	struct ch_opts with_ticket = { .ticket = 1 }, bare = { 0 };
	struct sh_opts sh_ticket = { .ticket = 1 }, sh_bare = { 0 };
	struct ch_opts with_sid = { .sid = sid, .sid_len = sizeof sid };
	const struct { const struct ch_opts *ch; const struct sh_opts *sh; int dec; } cases[] = {
		{ &with_ticket, &sh_ticket, TLS_DEC_RESUMED },
		{ &with_sid, &sh_bare, TLS_DEC_RESUMED },
		{ &with_ticket, &sh_bare, TLS_DEC_NO_CERT },
		{ &bare, &sh_bare, TLS_DEC_NO_CERT },
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct bb *m = bb_new(), *c = bb_new(), *sv = bb_new();
		struct tls_session s;

		put_client_hello(m, cases[i].ch);
		put_records(c, 22, m->d, m->n, 16384);
		m->n = 0;
		put_server_hello(m, cases[i].sh);
		put_records(sv, 22, m->d, m->n, 16384);
		put_bytes(sv, ccs, sizeof ccs);
		assert_int_equal(run(&s, c->d, c->n, sv->d, sv->n, 1 << 20), TLS_DECIDED);
		assert_int_equal(s.decision, cases[i].dec);
		assert_int_equal(s.resumed, cases[i].dec == TLS_DEC_RESUMED);
		tls_session_free(&s);
		free(m);
		free(c);
		free(sv);
	}
}

/* Anonymous suite: ServerHelloDone without a Certificate, even though the
 * client offered a session id (OpenSSL always does). */
static void test_hello_done_without_certificate(void **state)
{
	uint8_t sid[32] = { 9 };
	struct ch_opts co = { .sid = sid, .sid_len = 32 };
	struct sh_opts so = { 0 };
	struct bb *m = bb_new(), *c = bb_new(), *sv = bb_new();
	struct tls_session s;

	(void)state;
	put_client_hello(m, &co);
	put_records(c, 22, m->d, m->n, 16384);
	m->n = 0;
	put_server_hello(m, &so);
	put_hello_done(m);
	put_records(sv, 22, m->d, m->n, 16384);
	assert_int_equal(run(&s, c->d, c->n, sv->d, sv->n, 1 << 20), TLS_DECIDED);
	assert_int_equal(s.decision, TLS_DEC_NO_CERT);
	assert_int_equal(s.resumed, 0);
	tls_session_free(&s);
	free(m);
	free(c);
	free(sv);
}

static void test_alerts_and_app_data(void **state)
{
	/* handshake_failure (fatal) */
	static const uint8_t alert[] = { 0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28 };
	/* unrecognized_name as a warning, as in zeek's tls-early-alert.pcap */
	static const uint8_t warning[] = { 0x15, 0x03, 0x03, 0x00, 0x02, 0x01, 0x70 };
	/* a warning, then a fatal alert, in one record */
	static const uint8_t two[] = { 0x15, 0x03, 0x03, 0x00, 0x04, 0x01, 0x70, 0x02, 0x28 };
	static const uint8_t appdata[] = { 0x17, 0x03, 0x03, 0x00, 0x03, 0xaa, 0xbb, 0xcc };
	static const size_t sizes[] = { 123 };
	struct ch_opts co = { 0 };
	struct sh_opts so = { 0 };
	struct bb *m = bb_new(), *c = bb_new(), *sv = bb_new();
	struct tls_session s;

	(void)state;
	/* a client alert is ignored; a fatal server alert ends it */
	tls_session_init(&s, &lim);
	assert_int_equal(tls_feed(&s, TLS_CLIENT, alert, sizeof alert), TLS_MORE);
	assert_int_equal(tls_feed(&s, TLS_SERVER, alert, sizeof alert), TLS_DECIDED);
	assert_int_equal(s.decision, TLS_DEC_ERROR);
	assert_string_equal(s.error, "server sent alert");
	tls_session_free(&s);

	tls_session_init(&s, &lim);
	assert_int_equal(feed(&s, TLS_SERVER, two, sizeof two, 1), TLS_DECIDED);
	assert_int_equal(s.decision, TLS_DEC_ERROR);
	tls_session_free(&s);

	/* a warning does not stop the certificate from being read */
	build_flights(c, sv, sizes, 1, 16384);
	put_bytes(m, warning, sizeof warning);
	put_bytes(m, sv->d, sv->n);
	for (size_t chunk = 1; chunk <= m->n; chunk += m->n - 1) {
		assert_int_equal(run(&s, c->d, c->n, m->d, m->n, chunk), TLS_DECIDED);
		assert_int_equal(s.decision, TLS_DEC_CERTS);
		assert_int_equal(s.n_certs, 1);
		tls_session_free(&s);
	}
	m->n = c->n = sv->n = 0;

	/* TLS 1.2 ServerHello, then application data: no certificate */
	put_client_hello(m, &co);
	put_records(c, 22, m->d, m->n, 16384);
	m->n = 0;
	put_server_hello(m, &so);
	put_records(sv, 22, m->d, m->n, 16384);
	put_bytes(sv, appdata, sizeof appdata);
	assert_int_equal(run(&s, c->d, c->n, sv->d, sv->n, 3), TLS_DECIDED);
	assert_int_equal(s.decision, TLS_DEC_NO_CERT);
	tls_session_free(&s);
	free(m);
	free(c);
	free(sv);
}

static void test_malformed_extensions(void **state)
{
	struct ch_opts co = { .sni = "example.org", .sni_len = 11 };
	struct bb *m = bb_new(), *r = bb_new();
	uint64_t err = g_stats.tls_parse_err;
	struct tls_session s;
	size_t ext_len_at;

	(void)state;
	put_client_hello(m, &co);
	/* type, length, version, random, sid, ciphers (2+8), compression (2) */
	ext_len_at = 4 + 2 + 32 + 1 + 10 + 2;
	m->d[ext_len_at + 1] ^= 0x01;        /* the block length no longer fits */
	put_records(r, 22, m->d, m->n, 16384);
	/* Counted and reported, but the server side stays inspected: a bad
	 * client extension must not hide the server's certificate. */
	tls_session_init(&s, &lim);
	assert_int_equal(tls_feed(&s, TLS_CLIENT, r->d, r->n), TLS_MORE);
	assert_int_equal(s.decision, TLS_UNDECIDED);
	assert_int_equal(s.dir[TLS_CLIENT].done, 1);
	assert_int_equal(g_stats.tls_parse_err, err + 1);
	assert_string_equal(s.error, "malformed ClientHello");
	tls_session_free(&s);

	/* the server_name list length disagrees with its extension */
	m->n = r->n = 0;
	put_client_hello(m, &co);
	m->d[ext_len_at + 2 + 4 + 4 + 1] ^= 0x02;   /* after the GREASE and SNI headers */
	put_records(r, 22, m->d, m->n, 16384);
	tls_session_init(&s, &lim);
	assert_int_equal(tls_feed(&s, TLS_CLIENT, r->d, r->n), TLS_MORE);
	assert_int_equal(s.decision, TLS_UNDECIDED);
	assert_int_equal(g_stats.tls_parse_err, err + 2);
	tls_session_free(&s);
	free(m);
	free(r);
}

static void test_sni_edge_cases(void **state)
{
	char longname[300];
	struct ch_opts nul = { .sni = "evil.com\0good.example", .sni_len = 21 };
	struct ch_opts lng = { .sni = longname, .sni_len = sizeof longname };
	struct bb *m = bb_new(), *r = bb_new();
	struct tls_session s;

	(void)state;
	put_client_hello(m, &nul);
	put_records(r, 22, m->d, m->n, 16384);
	tls_session_init(&s, &lim);
	assert_int_equal(tls_feed(&s, TLS_CLIENT, r->d, r->n), TLS_MORE);
	assert_true(s.ch_seen);
	assert_string_equal(s.sni, "");    /* not cut at the NUL */
	tls_session_free(&s);

	memset(longname, 'a', sizeof longname);
	m->n = r->n = 0;
	put_client_hello(m, &lng);
	put_records(r, 22, m->d, m->n, 16384);
	tls_session_init(&s, &lim);
	assert_int_equal(tls_feed(&s, TLS_CLIENT, r->d, r->n), TLS_MORE);
	assert_int_equal(strlen(s.sni), TLS_MAX_SNI);
	tls_session_free(&s);
	free(m);
	free(r);
}

static void test_plausible_start(void **state)
{
	static const uint8_t tls_rec[] = { 0x16, 0x03, 0x01, 0x02, 0x00 };
	static const uint8_t zero_len[] = { 0x17, 0x03, 0x03, 0x00, 0x00 };
	static const uint8_t too_long[] = { 0x17, 0x03, 0x03, 0x48, 0x01 };
	static const uint8_t bad_minor[] = { 0x16, 0x03, 0x05, 0x00, 0x10 };
	static const uint8_t heartbeat[] = { 0x18, 0x03, 0x03, 0x00, 0x10 };

	(void)state;
	assert_int_equal(tls_plausible_start(tls_rec, 5), 1);
	assert_int_equal(tls_plausible_start(tls_rec, 3), -1);
	assert_int_equal(tls_plausible_start(tls_rec, 0), -1);
	assert_int_equal(tls_plausible_start(zero_len, 5), 0);
	assert_int_equal(tls_plausible_start(too_long, 5), 0);
	assert_int_equal(tls_plausible_start(bad_minor, 3), 0);
	assert_int_equal(tls_plausible_start(heartbeat, 5), 0);
	assert_int_equal(tls_plausible_start((const uint8_t *)"G", 1), 0);
	assert_int_equal(tls_plausible_start(v2_hello, 2), -1);
	assert_int_equal(tls_plausible_start(v2_hello, 5), 1);
	assert_int_equal(tls_plausible_start((const uint8_t *)"\x80\x22\x02", 3), 0);
	assert_int_equal(tls_plausible_start((const uint8_t *)"\x80\x05", 2), 0);
	assert_int_equal(tls_plausible_start(real12_server, sizeof real12_server), 1);
}

static void test_version_names(void **state)
{
	(void)state;
	assert_string_equal(tls_version_name(0x0002), "SSLv2");
	assert_string_equal(tls_version_name(0x0300), "SSLv3");
	assert_string_equal(tls_version_name(0x0301), "TLSv1");
	assert_string_equal(tls_version_name(0x0302), "TLS 1.1");
	assert_string_equal(tls_version_name(0x0303), "TLS 1.2");
	assert_string_equal(tls_version_name(0x0304), "TLS 1.3");
	assert_string_equal(tls_version_name(0x7f1c), "TLS 1.3 draft-28");
	assert_string_equal(tls_version_name(0x7f10), "TLS 1.3 draft-16");
	assert_string_equal(tls_version_name(0x7f0e), "TLS 1.3 draft-<16");
	assert_string_equal(tls_version_name(0), "UNDETERMINED");
	assert_string_equal(tls_version_name(0x0305), "UNDETERMINED");
	assert_int_equal(tls_version_index(0x0002), 0);
	assert_int_equal(tls_version_index(0x0300), 1);
	assert_int_equal(tls_version_index(0x0301), 2);
	assert_int_equal(tls_version_index(0x0302), 3);
	assert_int_equal(tls_version_index(0x0303), 4);
	assert_int_equal(tls_version_index(0x0304), 5);
	assert_int_equal(tls_version_index(0x7f17), 5);
	assert_int_equal(tls_version_index(0), 6);
	assert_int_equal(tls_version_index(0xfefd), 6);
}

/* ---- TLS 1.3 with a key log secret ---------------------------------------- */

/* Any 32 bytes will do: the flight is sealed with it below. */
static const uint8_t t13_secret[32] = {
	0xb6, 0x7b, 0x7d, 0x69, 0x0c, 0xc1, 0x6c, 0x4e, 0x75, 0xe5, 0x42, 0x13, 0xcb, 0x2d,
	0x37, 0xb4, 0xe9, 0xc9, 0x12, 0xbc, 0xde, 0xd9, 0x10, 0x5d, 0x42, 0xbe, 0xfd, 0x59,
	0xd3, 0x91, 0xad, 0x38,
};

struct t13_opts {
	const size_t *sizes;   /* certificates of the Certificate message */
	size_t n;
	size_t frag;           /* plaintext bytes per encrypted record */
	int hrr;               /* a HelloRetryRequest (and a CCS) first */
	int ccs;               /* the middlebox-compatibility CCS after the ServerHello */
	uint16_t cipher;       /* 0: 0x1301 */
};

/* The server's encrypted flight in plaintext (RFC 8446 §2):
 * EncryptedExtensions, Certificate (§4.4.2 form), CertificateVerify,
 * Finished. */
static void put_flight13(struct bb *b, const size_t *sizes, size_t n)
{
	put(b, 8, 1);                   /* EncryptedExtensions, empty */
	vec_open(b, 3);
	vec_open(b, 2);
	vec_close(b);
	vec_close(b);
	put(b, 11, 1);                  /* Certificate */
	vec_open(b, 3);
	put(b, 0, 1);                   /* certificate_request_context */
	vec_open(b, 3);
	for (size_t i = 0; i < n; i++) {
		put(b, sizes[i], 3);
		put_cert_bytes(b->d + b->n, i, sizes[i]);
		b->n += sizes[i];
		vec_open(b, 2);         /* extensions: one status_request */
		if (i == 0) {
			put(b, 5, 2);
			put(b, 1, 2);
			put(b, 0, 1);
		}
		vec_close(b);
	}
	vec_close(b);
	vec_close(b);
	put(b, 15, 1);                  /* CertificateVerify */
	vec_open(b, 3);
	put(b, 0x0403, 2);
	vec_open(b, 2);
	put_fill(b, 0x5c, 64);
	vec_close(b);
	vec_close(b);
	put(b, 20, 1);                  /* Finished */
	vec_open(b, 3);
	put_fill(b, 0xf1, 32);
	vec_close(b);
}

/* A client hello and the server's records: ServerHello in the clear,
 * then the flight sealed with t13_secret's keys. */
static void build13(struct bb *cli, struct bb *srv, const struct t13_opts *o)
{
	struct ch_opts co = { .sni = "a.example", .sni_len = 9 };
	uint16_t cipher = o->cipher ? o->cipher : 0x1301;
	struct sh_opts so = { .supported_version = 0x0304, .cipher = cipher };
	struct sh_opts hrr = { .supported_version = 0x0304, .cipher = cipher, .hrr = 1 };
	static const uint8_t ccs[] = { 20, 3, 3, 0, 1, 1 };
	struct bb *m = bb_new(), *pl = bb_new();
	struct tls13_keys k;

	put_client_hello(m, &co);
	put_records(cli, 22, m->d, m->n, 16384);
	m->n = 0;
	if (o->hrr) {
		put_server_hello(m, &hrr);
		put_records(srv, 22, m->d, m->n, 16384);
		put_bytes(srv, ccs, sizeof ccs);
		m->n = 0;
	}
	put_server_hello(m, &so);
	put_records(srv, 22, m->d, m->n, 16384);
	if (o->ccs && !o->hrr)
		put_bytes(srv, ccs, sizeof ccs);
	put_flight13(pl, o->sizes, o->n);
	if (tls13_keys_init(&k, cipher, t13_secret, 32) == 0) {
		for (size_t off = 0, i = 0; off < pl->n; off += o->frag, i++) {
			size_t len = pl->n - off < o->frag ? pl->n - off : o->frag;
			int r = tls13_seal(&k, 22, pl->d + off, len, i % 3, srv->d + srv->n,
			                   sizeof srv->d - srv->n);

			assert_true(r > 0);
			srv->n += (size_t)r;
		}
		tls13_keys_free(&k);
	} else {
		/* a suite tls13.c does not do: stand-in records */
		put_records(srv, 23, pl->d, pl->n, o->frag);
	}
	free(m);
	free(pl);
}

/* Feed both directions in chunks, handing the secret over when asked. */
static int run13(struct tls_session *s, const struct bb *cli, const struct bb *srv,
                 size_t chunk, const uint8_t *secret, size_t secret_len)
{
	int rc = TLS_MORE;

	tls_session_init(s, &lim);
	s->t13_follow = 1;
	feed(s, TLS_CLIENT, cli->d, cli->n, chunk);
	for (size_t off = 0; off < srv->n && rc == TLS_MORE; off += chunk) {
		rc = tls_feed(s, TLS_SERVER, srv->d + off, srv->n - off < chunk ? srv->n - off : chunk);
		if (rc == TLS_MORE && s->t13 == TLS13_NEED_KEY && secret)
			rc = tls_tls13_key(s, secret, secret_len);
	}
	return rc;
}

static void test_tls13_decrypt(void **state)
{
	static const size_t sizes[] = { 900, 700, 30 };
	struct t13_opts o = { .sizes = sizes, .n = 3, .frag = 16384, .ccs = 1 };
	struct bb *cli = bb_new(), *srv = bb_new();
	struct tls_session s;

	(void)state;
	build13(cli, srv, &o);
	assert_int_equal(run13(&s, cli, srv, srv->n, t13_secret, 32), TLS_DECIDED);
	assert_int_equal(s.decision, TLS_DEC_CERTS);
	assert_int_equal(s.t13_outcome, T13_DECRYPTED);
	assert_int_equal(s.t13_records, 1);
	assert_int_equal(s.n_certs, 3);
	for (size_t i = 0; i < 3; i++)
		assert_cert(&s, i, i, sizes[i]);
	assert_string_equal(s.sni, "a.example");
	assert_int_equal(s.version, 0x0304);
	/* the buffers went with the decision */
	assert_null(s.rec);
	assert_null(s.pend);
	assert_null(s.keys);
	tls_session_free(&s);

	/* No secret handed over: the session waits, holding the records. */
	tls_session_init(&s, &lim);
	s.t13_follow = 1;
	feed(&s, TLS_CLIENT, cli->d, cli->n, cli->n);
	assert_int_equal(tls_feed(&s, TLS_SERVER, srv->d, srv->n), TLS_MORE);
	assert_int_equal(s.t13, TLS13_NEED_KEY);
	assert_non_null(s.pend);
	tls_tls13_no_key(&s, T13_NO_KEY, "no secret");
	assert_int_equal(s.decision, TLS_DEC_TLS13);
	assert_int_equal(s.t13_outcome, T13_NO_KEY);
	assert_string_equal(s.error, "no secret");
	tls_session_free(&s);

	/* Without a key log the 1.3 ServerHello decides, as before. */
	tls_session_init(&s, &lim);
	feed(&s, TLS_CLIENT, cli->d, cli->n, cli->n);
	assert_int_equal(tls_feed(&s, TLS_SERVER, srv->d, srv->n), TLS_DECIDED);
	assert_int_equal(s.decision, TLS_DEC_TLS13);
	assert_int_equal(s.t13_outcome, T13_NOT_READ);
	tls_session_free(&s);
	free(cli);
	free(srv);
}

/* One byte at a time, segment-sized pieces, records of 100 plaintext
 * bytes (a Certificate over many records), with and without the CCS, the
 * key given at the ServerHello or only after everything was held: the
 * same certificates every time. */
static void test_tls13_split_equivalence(void **state)
{
	static const size_t sizes[] = { 1500, 400 };
	static const size_t frags[] = { 16384, 100, 1 };
	static const size_t chunks[] = { 1, 7, 1460, 1 << 18 };

	(void)state;
	for (size_t f = 0; f < 3; f++)
		for (int ccs = 0; ccs < 2; ccs++) {
			struct t13_opts o = { .sizes = sizes, .n = 2, .frag = frags[f], .ccs = ccs };
			struct bb *cli = bb_new(), *srv = bb_new();

			build13(cli, srv, &o);
			for (size_t c = 0; c < 4; c++) {
				struct tls_session s;

				assert_int_equal(run13(&s, cli, srv, chunks[c], t13_secret, 32),
				                 TLS_DECIDED);
				assert_int_equal(s.decision, TLS_DEC_CERTS);
				assert_int_equal(s.n_certs, 2);
				assert_cert(&s, 0, 0, 1500);
				assert_cert(&s, 1, 1, 400);
				tls_session_free(&s);
			}
			/* everything held first, then the key */
			{
				struct tls_session s;

				assert_int_equal(run13(&s, cli, srv, 1, NULL, 0), TLS_MORE);
				assert_int_equal(tls_tls13_key(&s, t13_secret, 32), TLS_DECIDED);
				assert_int_equal(s.decision, TLS_DEC_CERTS);
				assert_cert(&s, 0, 0, 1500);
				tls_session_free(&s);
			}
			free(cli);
			free(srv);
		}
}

static void test_tls13_hello_retry(void **state)
{
	static const size_t sizes[] = { 600 };
	struct t13_opts o = { .sizes = sizes, .n = 1, .frag = 16384, .hrr = 1 };
	struct bb *cli = bb_new(), *srv = bb_new();
	struct tls_session s;

	(void)state;
	build13(cli, srv, &o);
	assert_int_equal(run13(&s, cli, srv, 3, t13_secret, 32), TLS_DECIDED);
	assert_int_equal(s.decision, TLS_DEC_CERTS);
	assert_true(s.hrr);
	assert_cert(&s, 0, 0, 600);
	tls_session_free(&s);
	free(cli);
	free(srv);
}

/* The wrong secret: the first record fails authentication and nothing
 * of it is parsed; a secret of the wrong length; an unsupported suite; a
 * PSK ServerHello; holding more than max_hs_msg. */
static void test_tls13_failures(void **state)
{
	static const size_t sizes[] = { 3000 };
	struct t13_opts o = { .sizes = sizes, .n = 1, .frag = 1000, .ccs = 1 };
	struct bb *cli = bb_new(), *srv = bb_new();
	uint8_t wrong[32];
	struct tls_session s;
	uint64_t fails = g_stats.tls13_auth_fail;

	(void)state;
	build13(cli, srv, &o);
	memcpy(wrong, t13_secret, 32);
	wrong[31] ^= 1;
	assert_int_equal(run13(&s, cli, srv, 100, wrong, 32), TLS_DECIDED);
	assert_int_equal(s.decision, TLS_DEC_ERROR);
	assert_int_equal(s.t13_outcome, T13_AUTH_FAIL);
	assert_int_equal(s.n_certs, 0);
	assert_int_equal(s.t13_records, 0);
	assert_non_null(strstr(s.error, "record 1 failed authentication"));
	assert_int_equal(g_stats.tls13_auth_fail, fails + 1);
	tls_session_free(&s);

	assert_int_equal(run13(&s, cli, srv, srv->n, t13_secret, 31), TLS_DECIDED);
	assert_int_equal(s.decision, TLS_DEC_ERROR);
	assert_non_null(strstr(s.error, "31 bytes"));
	tls_session_free(&s);

	/* holding: at most max_hs_msg bytes of records */
	lim.max_hs_msg = 1500;
	assert_int_equal(run13(&s, cli, srv, srv->n, NULL, 0), TLS_DECIDED);
	assert_int_equal(s.decision, TLS_DEC_LIMIT);
	assert_null(s.pend);
	tls_session_free(&s);
	cs_limits_default(&lim);

	cli->n = srv->n = 0;
	o.cipher = 0x1304;
	build13(cli, srv, &o);
	assert_int_equal(run13(&s, cli, srv, srv->n, t13_secret, 32), TLS_DECIDED);
	assert_int_equal(s.decision, TLS_DEC_TLS13);
	assert_int_equal(s.t13_outcome, T13_UNSUPPORTED);
	assert_non_null(strstr(s.error, "TLS_AES_128_CCM_SHA256"));
	tls_session_free(&s);

	{
		struct sh_opts so = { .supported_version = 0x0304, .cipher = 0x1301, .psk = 1 };
		struct bb *m = bb_new(), *r = bb_new();

		put_server_hello(m, &so);
		put_records(r, 22, m->d, m->n, 16384);
		tls_session_init(&s, &lim);
		s.t13_follow = 1;
		assert_int_equal(tls_feed(&s, TLS_SERVER, r->d, r->n), TLS_DECIDED);
		assert_int_equal(s.decision, TLS_DEC_RESUMED);
		assert_int_equal(s.t13_outcome, T13_PSK);
		assert_true(s.resumed);
		tls_session_free(&s);
		free(m);
		free(r);
	}
	{
		/* No ClientHello (a capture that starts mid-connection, or a
		 * QUIC Initial lost): no client random to look up, said in a
		 * note that fits the session's error text whole. */
		struct sh_opts so = { .supported_version = 0x0304, .cipher = 0x1301 };
		struct bb *m = bb_new(), *r = bb_new();

		put_server_hello(m, &so);
		put_records(r, 22, m->d, m->n, 16384);
		tls_session_init(&s, &lim);
		s.t13_follow = 1;
		assert_int_equal(tls_feed(&s, TLS_SERVER, r->d, r->n), TLS_DECIDED);
		assert_int_equal(s.decision, TLS_DEC_TLS13);
		assert_int_equal(s.t13_outcome, T13_NO_RANDOM);
		assert_non_null(strstr(s.error, "ClientHello not seen"));
		assert_true(strlen(s.error) < sizeof s.error - 1);
		tls_session_free(&s);
		free(m);
		free(r);
	}
	free(cli);
	free(srv);
}

/* Every prefix of the server's records, the key handed over: never a
 * certificate from a partial Certificate message, never a crash. */
static void test_tls13_every_truncation(void **state)
{
	static const size_t sizes[] = { 300, 200 };
	struct t13_opts o = { .sizes = sizes, .n = 2, .frag = 150, .ccs = 1 };
	struct bb *cli = bb_new(), *srv = bb_new();
	size_t full;

	(void)state;
	build13(cli, srv, &o);
	full = srv->n;
	for (size_t n = 0; n < full; n++) {
		struct tls_session s;

		srv->n = n;
		run13(&s, cli, srv, 1 << 18, t13_secret, 32);
		assert_true(s.decision == TLS_UNDECIDED || s.decision == TLS_DEC_CERTS ||
		            s.decision == TLS_DEC_TLS13);
		if (s.decision == TLS_DEC_CERTS)
			assert_int_equal(s.n_certs, 2);
		tls_session_free(&s);
	}
	free(cli);
	free(srv);
}

/* Hostile plaintext: a record that authenticates but carries a malformed
 * Certificate, an unexpected message, an alert, or only padding. */
static void test_tls13_hostile_plaintext(void **state)
{
	static const uint8_t bad_cert[] = { 11, 0, 0, 9, 0, 0, 0, 5, 0, 0, 99, 1, 2 };
	static const uint8_t hello_again[] = { 2, 0, 0, 0 };
	static const uint8_t alert[] = { 2, 40 };
	struct sh_opts so = { .supported_version = 0x0304, .cipher = 0x1301 };
	const struct { const uint8_t *p; size_t n; uint8_t type; enum tls_decision want; } cases[] = {
		{ bad_cert, sizeof bad_cert, 22, TLS_DEC_ERROR },
		{ hello_again, sizeof hello_again, 22, TLS_DEC_ERROR },
		{ alert, sizeof alert, 21, TLS_DEC_ERROR },
		{ alert, 0, 0, TLS_DEC_ERROR },
		{ alert, sizeof alert, 23, TLS_DEC_ERROR },
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct ch_opts co = { 0 };
		struct bb *cli = bb_new(), *srv = bb_new(), *m = bb_new();
		struct tls13_keys k;
		struct tls_session s;
		int r;

		put_client_hello(m, &co);
		put_records(cli, 22, m->d, m->n, 16384);
		m->n = 0;
		put_server_hello(m, &so);
		put_records(srv, 22, m->d, m->n, 16384);
		assert_int_equal(tls13_keys_init(&k, 0x1301, t13_secret, 32), 0);
		r = tls13_seal(&k, cases[i].type, cases[i].p, cases[i].n, 4, srv->d + srv->n, 1000);
		assert_true(r > 0);
		srv->n += (size_t)r;
		tls13_keys_free(&k);
		assert_int_equal(run13(&s, cli, srv, srv->n, t13_secret, 32), TLS_DECIDED);
		assert_int_equal(s.decision, cases[i].want);
		assert_int_equal(s.n_certs, 0);
		tls_session_free(&s);
		free(cli);
		free(srv);
		free(m);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_tls12_full),
		cmocka_unit_test(test_real_tls12_resumed),
		cmocka_unit_test(test_real_tls13),
		cmocka_unit_test(test_split_equivalence_real),
		cmocka_unit_test(test_client_hello_grease_ja3),
		cmocka_unit_test(test_server_hello_tls12_then_certs),
		cmocka_unit_test(test_server_hello_tls13),
		cmocka_unit_test(test_message_over_three_records),
		cmocka_unit_test(test_messages_in_one_record),
		cmocka_unit_test(test_split_equivalence_built),
		cmocka_unit_test_setup(test_handshake_feed_no_records, setup),
		cmocka_unit_test_setup(test_handshake_feed_split, setup),
		cmocka_unit_test_setup(test_handshake_feed_bad_lengths, setup),
		cmocka_unit_test(test_client_hello_every_truncation),
		cmocka_unit_test(test_server_flight_every_truncation),
		cmocka_unit_test(test_giant_record_length),
		cmocka_unit_test(test_giant_handshake_length),
		cmocka_unit_test(test_max_certs_and_size),
		cmocka_unit_test(test_empty_and_malformed_certificate),
		cmocka_unit_test(test_small_message_buffer_limit),
		cmocka_unit_test(test_sslv2_client_hello),
		cmocka_unit_test(test_not_tls),
		cmocka_unit_test(test_resumed_by_session_id),
		cmocka_unit_test(test_ccs_before_certificate),
		cmocka_unit_test(test_hello_done_without_certificate),
		cmocka_unit_test(test_alerts_and_app_data),
		cmocka_unit_test(test_malformed_extensions),
		cmocka_unit_test(test_sni_edge_cases),
		cmocka_unit_test(test_plausible_start),
		cmocka_unit_test(test_version_names),
		cmocka_unit_test_setup(test_tls13_decrypt, setup),
		cmocka_unit_test_setup(test_tls13_split_equivalence, setup),
		cmocka_unit_test_setup(test_tls13_hello_retry, setup),
		cmocka_unit_test_setup(test_tls13_failures, setup),
		cmocka_unit_test_setup(test_tls13_every_truncation, setup),
		cmocka_unit_test_setup(test_tls13_hostile_plaintext, setup),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
