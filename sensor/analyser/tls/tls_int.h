/*
 * tls_int.h - what the TLS parser's files share (sensor/analyser/tls/:
 * tls.c, tls_msg.c, tls_ja3.c, tls13_flight.c, tls_analyser.c,
 * tls_certcomp.c) and
 * nothing else includes: wire constants, the session's decision helpers,
 * the handshake-message buffer.  The contract with the rest of
 * certsentry is include/analyser/tls.h.
 */
#ifndef CS_TLS_INT_H
#define CS_TLS_INT_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "analyser/tls.h"


/* Record content types, RFC 5246 §6.2.1 and RFC 6520 §2 (heartbeat). */
enum {
	CT_CCS = 20,
	CT_ALERT = 21,
	CT_HANDSHAKE = 22,
	CT_APPDATA = 23,
	CT_HEARTBEAT = 24,
	/* Not a wire value: marks the record that carries an SSLv2-format
	 * ClientHello, whose header has no content type. */
	CT_SSLV2_HELLO = 0x80,
};

/* Handshake types, RFC 5246 §7.4. */
enum {
	HS_CLIENT_HELLO = 1,
	HS_SERVER_HELLO = 2,
	HS_CERTIFICATE = 11,
	HS_ENCRYPTED_EXTENSIONS = 8,     /* RFC 8446 §4.3.1 */
	HS_CERTIFICATE_REQUEST = 13,
	HS_SERVER_HELLO_DONE = 14,
	HS_CERTIFICATE_VERIFY = 15,      /* RFC 8446 §4.4.3 */
	HS_FINISHED = 20,
	HS_COMPRESSED_CERTIFICATE = 25,  /* RFC 8879 §4 */
};

/* Alert levels, RFC 5246 §7.2. */
#define ALERT_WARNING 1

/* Extension types. */
enum {
	EXT_SERVER_NAME = 0,         /* RFC 6066 §3 */
	EXT_SUPPORTED_GROUPS = 10,   /* RFC 8422 §5.1.1 */
	EXT_EC_POINT_FORMATS = 11,   /* RFC 8422 §5.1.2 */
	EXT_ALPN = 16,               /* RFC 7301 §3.1 */
	EXT_COMPRESS_CERTIFICATE = 27, /* RFC 8879 §3 */
	EXT_SESSION_TICKET = 35,     /* RFC 5077 §3.2 */
	EXT_PRE_SHARED_KEY = 41,     /* RFC 8446 §4.2.11 */
	EXT_KEY_SHARE = 51,          /* RFC 8446 §4.2.8 */
	EXT_SUPPORTED_VERSIONS = 43, /* RFC 8446 §4.2.1 */
};

#define REC_HDR_LEN   5
#define HS_HDR_LEN    4
#define RANDOM_LEN    32
#define SID_MAX       32   /* SessionID <0..32>, RFC 5246 §7.4.1.2 */
#define ALPN_NAME_MAX 64   /* sizeof one alpn entry in tls.h */
/* First allocation of a message buffer: a typical ClientHello fits. */
#define MSG_BUF_MIN   1024u
/* SSLv2 ClientHello body before the variable parts: msg_type, version and
 * three lengths (RFC 5246 Appendix E.2). */
#define V2_HELLO_MIN  9u
/* Bytes of the SSLv2 hello that sit in our 5-byte header buffer after its
 * 2-byte length: msg_type and version. */
#define V2_HDR_BODY   3u
/* INT_MAX, spelled out (nothing else of <limits.h> is needed here):
 * records saturates there (only "none yet" matters) instead of overflowing
 * on an endless stream. */
#define RECORDS_MAX   0x7fffffff

/* GREASE values (RFC 8701 §2): 0x0a0a, 0x1a1a, ..., 0xfafa. */
static inline int tls_is_grease(uint16_t v)
{
	return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

/* TLS 1.3, or one of its drafts (0x7fNN, draft-NN). */
static inline int tls_is_tls13(uint16_t v)
{
	return v == 0x0304 || (v & 0xff00) == 0x7f00;
}

/* Views into one hello, kept for its fingerprint (tls_msg.c fills them,
 * tls_ja3.c reads them). */
struct hello_views {
	uint16_t version;
	struct buf ciphers;   /* cipher_width bytes per value */
	size_t cipher_width;  /* 2, or 3 for SSLv2 cipher specs */
	struct buf exts;      /* extension block, framing already checked */
	struct buf groups;    /* supported_groups values (2 bytes each) */
	struct buf formats;   /* ec_point_formats values (1 byte each) */
};

/* ---- tls.c: decisions and the message buffer ---- */

/* Frees a direction's message buffer (it needs no more parsing). */
void tls_dir_release(struct tls_dirstate *ds);
/* Frees the TLS 1.3 record buffers and keys, and their memcap charge. */
void tls_t13_release(struct tls_session *s);
/* Decides the session: every buffer is let go. */
void tls_decide(struct tls_session *s, enum tls_decision d);
__attribute__((format(printf, 3, 4)))
void tls_decide_why(struct tls_session *s, enum tls_decision d, const char *fmt, ...);
/* Bad input: counted, and inspection of this flow ends. */
void tls_malformed(struct tls_session *s, const char *what);

/* ---- tls_msg.c: the handshake messages ---- */

/* A complete message is in s->dir[d].msg[0..msg_need). */
void tls_on_message(struct tls_session *s, enum tls_dir d);
/* Certificates encrypted and not going to be read: decided, and why. */
void tls_t13_unread(struct tls_session *s, enum tls13_outcome why, const char *note);

/* ---- tls_ja3.c ---- */

/* JA3 (client) or JA3S string of a hello into *out (malloc'd, owned by
 * the caller's session), and its MD5 in hex. */
void tls_ja3_make(const struct hello_views *h, int client, char **out, char md5hex[33]);

/* ---- tls_certcomp.c: certificate decompression (RFC 8879) ---- */

/* The algorithms of RFC 8879 §3 (IANA "TLS Certificate Compression
 * Algorithm IDs"); the only ones certsentry decompresses. */
enum {
	CERTCOMP_ZLIB = 1,    /* RFC 1950 */
	CERTCOMP_BROTLI = 2,  /* RFC 7932 */
	CERTCOMP_ZSTD = 3,    /* RFC 8878 */
};
#define CERTCOMP_N_ALGS 3
/* ch_certcomp keeps one bit per algorithm value below this (1 << alg in
 * a uint8_t); larger values are not ones certsentry knows anyway. */
#define CERTCOMP_BITS 8u

/* The decompressors' own memory (state, window, brotli's ring buffer) is
 * allowed CERTCOMP_MEM_PER_BYTE bytes per expected output byte plus
 * CERTCOMP_MEM_BASE.  An honest stream stays far below it: brotli's ring
 * buffer grows with the output (at most twice it, three times while it
 * is reallocated), zlib needs a 32 KiB window, zstd decompresses in one
 * pass straight into the output.  A stream that announces a 16 MiB
 * brotli window or metablock to expand a few KB is refused (counted as a
 * bomb), so the cost of one message stays bounded by max_hs_msg. */
#define CERTCOMP_MEM_BASE     (1024u * 1024u)
#define CERTCOMP_MEM_PER_BYTE 3u

enum certcomp_rc {
	CERTCOMP_OK = 0,
	CERTCOMP_UNKNOWN,     /* an algorithm not in RFC 8879 §3 */
	CERTCOMP_LONGER,      /* the stream holds more than expected_len bytes */
	CERTCOMP_SHORTER,     /* the stream ended with fewer */
	CERTCOMP_TRUNCATED,   /* the input ended before the stream did */
	CERTCOMP_TRAILING,    /* bytes after the end of the stream */
	CERTCOMP_CORRUPT,     /* not a valid stream of the algorithm */
	CERTCOMP_MEMORY,      /* the decompressor wanted more than its budget */
};

/* Decompresses buf[0..len) with RFC 8879 algorithm alg into out, which
 * holds expected_len bytes (the caller's, checked against max_hs_msg and
 * allocated by it).  Never writes more than expected_len bytes, never
 * reads outside buf; CERTCOMP_OK only when the stream is valid, ends
 * exactly at the end of buf, and yields exactly expected_len bytes. */
enum certcomp_rc tls_certcomp_decompress(uint16_t alg, const uint8_t *buf, size_t len,
                                         size_t expected_len, uint8_t *out);
/* "length longer than declared", ... for notes. */
const char *tls_certcomp_rc_text(enum certcomp_rc rc);

/* ---- tls13_flight.c: the server's encrypted TLS 1.3 flight ---- */

/* A server record after a 1.3 ServerHello, by type, before its payload. */
void tls13_rec_action(struct tls_session *s);
/* Payload bytes of an encrypted server record; last: the record is in. */
void tls13_rec_payload(struct tls_session *s, const uint8_t *p, size_t n, int last);

#endif
