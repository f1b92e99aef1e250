/*
 * tls.c - streaming parser for the cleartext part of a TLS handshake
 * (the contract is include/tls.h).
 *
 * Three layers, each fed by the one above:
 *   tls_feed / rec_*  collect the 5-byte record header (RFC 5246 §6.2.1,
 *                     RFC 8446 §5.1) across calls, then pass the payload
 *                     of each record to what its content type needs;
 *   hs_feed           reassembles handshake messages (RFC 5246 §7.4) in
 *                     the direction's message buffer, across records;
 *   on_message        hands a complete message to its parser.
 * The parsers see one complete message as a const view and read it only
 * through buf.h.  Nothing keeps a pointer into the caller's data: what is
 * kept is copied into the session.
 */
#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "digest.h"
#include "stats.h"
#include "tls.h"
#include "tls13.h"

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
/* INT_MAX, spelled out: the project's include/limits.h shadows <limits.h>.
 * records saturates there (only "none yet" matters) instead of overflowing
 * on an endless stream. */
#define RECORDS_MAX   0x7fffffff

/* RFC 8446 §4.1.3: a HelloRetryRequest is a ServerHello with this random
 * (SHA-256 of "HelloRetryRequest"). */
static const uint8_t hrr_random[RANDOM_LEN] = {
	0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c,
	0x02, 0x1e, 0x65, 0xb8, 0x91, 0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb,
	0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
};

/* GREASE values (RFC 8701 §2): 0x0a0a, 0x1a1a, ..., 0xfafa. */
static int is_grease(uint16_t v)
{
	return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

/* TLS 1.3, or one of its drafts (0x7fNN, draft-NN). */
static int is_tls13(uint16_t v)
{
	return v == 0x0304 || (v & 0xff00) == 0x7f00;
}

/* ---- decisions ------------------------------------------------------- */

/* The message buffer is owned by its direction; it is freed as soon as the
 * direction needs no more parsing, so a decided flow holds only what the
 * later stages read (certificates, strings). */
static void dir_release(struct tls_dirstate *ds)
{
	free(ds->msg);
	ds->msg = NULL;
	ds->msg_len = ds->msg_cap = ds->msg_need = 0;
}

/* The TLS 1.3 record buffers, owned by the session, freed once nothing
 * more is decrypted; their bytes were charged to the memcap. */
static void t13_release(struct tls_session *s)
{
	free(s->rec);
	s->rec = NULL;
	s->rec_len = 0;
	free(s->pend);
	s->pend = NULL;
	s->pend_len = s->pend_cap = 0;
	stats_mem_sub(s->mem_charged);
	s->mem_charged = 0;
	if (s->keys) {
		tls13_keys_free(s->keys);
		free(s->keys);
		s->keys = NULL;
	}
}

static void decide(struct tls_session *s, enum tls_decision d)
{
	s->decision = d;
	dir_release(&s->dir[TLS_CLIENT]);
	dir_release(&s->dir[TLS_SERVER]);
	t13_release(s);
}

__attribute__((format(printf, 3, 4)))
static void decide_why(struct tls_session *s, enum tls_decision d, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->error, sizeof s->error, fmt, ap);
	va_end(ap);
	decide(s, d);
}

/* Bad input: counted, and inspection of this flow ends. */
static void malformed(struct tls_session *s, const char *what)
{
	g_stats.tls_parse_err++;
	decide_why(s, TLS_DEC_ERROR, "malformed %s", what);
}

/* The server's records turned opaque before any Certificate.  RFC 5246
 * §7.3: in an abbreviated handshake the server's ChangeCipherSpec follows
 * its ServerHello directly; that can only be a resumption when the client
 * offered something to resume: a session id, or a session ticket with
 * the server's hello carrying the extension too (RFC 5077 §3.1-3.2).
 * Otherwise the suite has no certificate (anonymous or PSK). */
static void server_went_opaque(struct tls_session *s)
{
	if (s->ch_sid_len > 0 || (s->ch_ticket && s->sh_ticket)) {
		s->resumed = 1;
		decide(s, TLS_DEC_RESUMED);
	} else {
		decide(s, TLS_DEC_NO_CERT);
	}
}

/* ---- JA3 / JA3S ------------------------------------------------------ */

/* A string built into a buffer sized beforehand for the worst case. */
struct sb {
	char *p;
	size_t len, cap;
};

static void sb_putc(struct sb *b, char c)
{
	assert(b->len + 1 < b->cap);
	b->p[b->len++] = c;
}

static void sb_num(struct sb *b, unsigned v)
{
	char digits[5];
	size_t n = 0;

	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0 && n < sizeof digits);
	while (n > 0)
		sb_putc(b, digits[--n]);
}

/* Views into one hello, kept for its fingerprint. */
struct hello_views {
	uint16_t version;
	struct buf ciphers;   /* cipher_width bytes per value */
	size_t cipher_width;  /* 2, or 3 for SSLv2 cipher specs */
	struct buf exts;      /* extension block, framing already checked */
	struct buf groups;    /* supported_groups values (2 bytes each) */
	struct buf formats;   /* ec_point_formats values (1 byte each) */
};

/* The next value of a fingerprint list: 1 when it enters the fingerprint,
 * 0 when it is left out (GREASE; an SSLv2 cipher spec with a non-zero
 * first byte is no TLS cipher suite, RFC 5246 Appendix E.2), -1 at the
 * end.  width: 1, 2, or 3 for SSLv2 cipher specs. */
static int ja3_next(struct buf *list, size_t width, uint16_t *v)
{
	uint8_t hi = 0, v8;

	if (width == 1) {
		if (buf_u8(list, &v8) < 0)
			return -1;
		*v = v8;
		return 1;
	}
	if ((width == 3 && buf_u8(list, &hi) < 0) || buf_be16(list, v) < 0)
		return -1;
	return hi == 0 && !is_grease(*v);
}

/* Append one field: values in decimal, '-' between them. */
static void ja3_list(struct sb *b, struct buf list, size_t width)
{
	int first = 1, r;
	uint16_t v;

	while ((r = ja3_next(&list, width, &v)) >= 0) {
		if (r == 0)
			continue;
		if (!first)
			sb_putc(b, '-');
		sb_num(b, v);
		first = 0;
	}
}

/* The extension types of a block whose framing was checked by the hello
 * parser. */
static void ja3_exts(struct sb *b, struct buf exts)
{
	int first = 1;
	uint16_t type, n;

	while (buf_be16(&exts, &type) == 0 && buf_be16(&exts, &n) == 0 &&
	       buf_skip(&exts, n) == 0) {
		if (is_grease(type))
			continue;
		if (!first)
			sb_putc(b, '-');
		sb_num(b, type);
		first = 0;
	}
}

/* JA3 ("SSLVersion,Ciphers,Extensions,EllipticCurves,
 * EllipticCurvePointFormats") when client, else JA3S ("SSLVersion,Cipher,
 * Extensions"), as Salesforce defined them.  *out is replaced (owned by
 * the session); on allocation failure the fingerprint is left out rather
 * than inspection. */
static void ja3_make(const struct hello_views *h, int client, char **out, char md5hex[33])
{
	uint8_t md5[DIGEST_MD5_LEN];
	struct sb b;

	/* Worst case: a 2-byte value prints as "-65535", 3 chars per input
	 * byte; a 1-byte one as "-255".  Plus the version, commas and NUL. */
	b.cap = 3 * (buf_left(&h->ciphers) + buf_left(&h->exts) + buf_left(&h->groups)) +
	        4 * buf_left(&h->formats) + 16;
	b.len = 0;
	b.p = malloc(b.cap);
	if (!b.p)
		return;
	sb_num(&b, h->version);
	sb_putc(&b, ',');
	ja3_list(&b, h->ciphers, h->cipher_width);
	sb_putc(&b, ',');
	ja3_exts(&b, h->exts);
	if (client) {
		sb_putc(&b, ',');
		ja3_list(&b, h->groups, 2);
		sb_putc(&b, ',');
		ja3_list(&b, h->formats, 1);
	}
	b.p[b.len] = '\0';
	free(*out);
	*out = b.p;
	digest_md5(b.p, b.len, md5);
	digest_hex(md5, sizeof md5, md5hex, 0, 0);
}

/* ---- extensions ------------------------------------------------------- */

/* Copy an opaque name into a C string.  A name with an embedded NUL is
 * not copied at all: cutting it at the NUL would report a different name
 * than the one sent (and OpenSSL refuses such a server_name). */
static void cstr_copy(char *dst, size_t cap, struct buf v)
{
	size_t n = buf_left(&v);
	const uint8_t *p;

	if (buf_bytes(&v, n, &p) < 0 || memchr(p, 0, n) != NULL)
		return;
	if (n > cap - 1)
		n = cap - 1;
	memcpy(dst, p, n);
	dst[n] = '\0';
}

/* A vector with a 1- or 2-byte length that must fill the rest of buf. */
static int vec_whole(const uint8_t *buf, size_t len, size_t len_bytes, struct buf *out)
{
	struct buf b;
	uint8_t n8;
	uint16_t n16;
	size_t n;

	buf_init(&b, buf, len);
	if (len_bytes == 1) {
		if (buf_u8(&b, &n8) < 0)
			return -1;
		n = n8;
	} else {
		if (buf_be16(&b, &n16) < 0)
			return -1;
		n = n16;
	}
	if (n != buf_left(&b))
		return -1;
	return buf_sub(&b, n, out);
}

/* server_name, RFC 6066 §3: (name_type, name) pairs; the first host_name
 * (type 0) is kept, truncated to TLS_MAX_SNI. */
static int sni_parse(const uint8_t *buf, size_t len, struct tls_session *s)
{
	struct buf list, name;
	uint8_t type;
	uint16_t n;

	if (vec_whole(buf, len, 2, &list) < 0)
		return -1;
	while (buf_left(&list) > 0) {
		if (buf_u8(&list, &type) < 0 || buf_be16(&list, &n) < 0 ||
		    buf_sub(&list, n, &name) < 0)
			return -1;
		if (type == 0 && s->sni[0] == '\0')
			cstr_copy(s->sni, sizeof s->sni, name);
	}
	return 0;
}

/* ALPN, RFC 7301 §3.1: ProtocolName <1..2^8-1> entries.  Keeps up to max
 * in out; returns the number of entries sent, or -1. */
static int alpn_parse(const uint8_t *buf, size_t len, char (*out)[ALPN_NAME_MAX],
                      size_t max, size_t *kept)
{
	struct buf list, name;
	uint8_t n;
	int count = 0;

	*kept = 0;
	if (vec_whole(buf, len, 2, &list) < 0)
		return -1;
	while (buf_left(&list) > 0) {
		if (buf_u8(&list, &n) < 0 || n == 0 || buf_sub(&list, n, &name) < 0)
			return -1;
		count++;
		if (*kept < max) {
			out[*kept][0] = '\0';
			cstr_copy(out[*kept], ALPN_NAME_MAX, name);
			if (out[*kept][0] != '\0')
				(*kept)++;
		}
	}
	return count;
}

/* supported_versions in a ClientHello, RFC 8446 §4.2.1: a 1-byte length,
 * then 2-byte versions. */
static int ch_versions_parse(const uint8_t *buf, size_t len, struct tls_session *s)
{
	struct buf list;
	uint16_t v;

	if (vec_whole(buf, len, 1, &list) < 0 || buf_left(&list) % 2 != 0)
		return -1;
	s->n_ch_versions = 0;
	while (buf_be16(&list, &v) == 0)
		if (!is_grease(v) && s->n_ch_versions < TLS_MAX_VERSIONS)
			s->ch_versions[s->n_ch_versions++] = v;
	return 0;
}

static int ch_ext(struct tls_session *s, uint16_t type, struct buf d, struct hello_views *h)
{
	const uint8_t *p = buf_ptr(&d);
	size_t n = buf_left(&d);

	switch (type) {
	case EXT_SERVER_NAME:
		return sni_parse(p, n, s);
	case EXT_ALPN:
		return alpn_parse(p, n, s->alpn, TLS_MAX_ALPN, &s->n_alpn) < 0 ? -1 : 0;
	case EXT_SUPPORTED_VERSIONS:
		return ch_versions_parse(p, n, s);
	case EXT_SUPPORTED_GROUPS:
		if (vec_whole(p, n, 2, &h->groups) < 0 || buf_left(&h->groups) % 2 != 0)
			return -1;
		return 0;
	case EXT_EC_POINT_FORMATS:
		return vec_whole(p, n, 1, &h->formats);
	case EXT_SESSION_TICKET:
		s->ch_ticket = 1;
		return 0;
	default:
		return 0;
	}
}

static int sh_ext(struct tls_session *s, uint16_t type, struct buf d)
{
	char one[1][ALPN_NAME_MAX] = { "" };
	size_t kept;

	switch (type) {
	case EXT_SUPPORTED_VERSIONS:
		/* RFC 8446 §4.2.1: the server sends the one selected version. */
		if (buf_left(&d) != 2)
			return -1;
		return buf_be16(&d, &s->version);
	case EXT_ALPN:
		/* RFC 7301 §3.1: the server's list holds exactly one name. */
		if (alpn_parse(buf_ptr(&d), buf_left(&d), one, 1, &kept) != 1)
			return -1;
		memcpy(s->server_alpn, one[0], sizeof s->server_alpn);
		return 0;
	case EXT_SESSION_TICKET:
		s->sh_ticket = 1;
		return 0;
	case EXT_PRE_SHARED_KEY:
		/* RFC 8446 §4.2.11: the server's selected_identity (2 bytes). */
		if (buf_left(&d) != 2)
			return -1;
		s->psk = 1;
		return 0;
	case EXT_KEY_SHARE:
		/* RFC 8446 §4.2.8: a KeyShareEntry (group, key_exchange), or in a
		 * HelloRetryRequest the selected_group alone. */
		return buf_be16(&d, &s->sh_group);
	default:
		return 0;
	}
}

/* The extension block that ends a hello (RFC 5246 §7.4.1.2: it may be
 * absent altogether); its length must match what is left exactly. */
static int ext_block(struct buf *b, struct buf *exts)
{
	uint16_t n;

	if (buf_left(b) == 0)
		return buf_sub(b, 0, exts);
	if (buf_be16(b, &n) < 0 || n != buf_left(b))
		return -1;
	return buf_sub(b, n, exts);
}

static int ext_next(struct buf *exts, uint16_t *type, struct buf *data)
{
	uint16_t n;

	if (buf_be16(exts, type) < 0 || buf_be16(exts, &n) < 0)
		return -1;
	return buf_sub(exts, n, data);
}

/* ---- hellos and certificates ------------------------------------------ */

static int sid_read(struct buf *b, uint8_t out[SID_MAX], size_t *out_len)
{
	const uint8_t *p;
	uint8_t n;

	if (buf_u8(b, &n) < 0 || n > SID_MAX || buf_bytes(b, n, &p) < 0)
		return -1;
	memcpy(out, p, n);
	*out_len = n;
	return 0;
}

/* ClientHello body, RFC 5246 §7.4.1.2 and RFC 8446 §4.1.2.  0 or -1. */
static int ch_parse(const uint8_t *buf, size_t len, struct tls_session *s)
{
	struct hello_views h = { .cipher_width = 2 };
	struct buf b, exts, data;
	uint16_t n16, type;
	const uint8_t *random;
	uint8_t n8;

	buf_init(&b, buf, len);
	if (buf_be16(&b, &h.version) < 0 || buf_bytes(&b, RANDOM_LEN, &random) < 0 ||
	    sid_read(&b, s->ch_sid, &s->ch_sid_len) < 0 ||
	    buf_be16(&b, &n16) < 0 || n16 % 2 != 0 || buf_sub(&b, n16, &h.ciphers) < 0 ||
	    buf_u8(&b, &n8) < 0 || buf_skip(&b, n8) < 0 || ext_block(&b, &h.exts) < 0)
		return -1;
	s->ch_version = h.version;
	memcpy(s->ch_random, random, RANDOM_LEN);
	exts = h.exts;
	while (buf_left(&exts) > 0)
		if (ext_next(&exts, &type, &data) < 0 || ch_ext(s, type, data, &h) < 0)
			return -1;
	ja3_make(&h, 1, &s->ja3, s->ja3_md5);
	s->ch_seen = 1;
	return 0;
}

/* ServerHello body, RFC 5246 §7.4.1.3 and RFC 8446 §4.1.3.  Sets *hrr
 * when it is a HelloRetryRequest.  0 or -1. */
static int sh_parse(const uint8_t *buf, size_t len, struct tls_session *s, int *hrr)
{
	struct hello_views h = { .cipher_width = 2 };
	struct buf b, exts, data;
	const uint8_t *random;
	uint16_t type;

	buf_init(&b, buf, len);
	if (buf_be16(&b, &h.version) < 0 || buf_bytes(&b, RANDOM_LEN, &random) < 0 ||
	    sid_read(&b, s->sh_sid, &s->sh_sid_len) < 0 ||
	    buf_sub(&b, 2, &h.ciphers) < 0 || buf_skip(&b, 1) < 0 ||
	    ext_block(&b, &h.exts) < 0)
		return -1;
	*hrr = memcmp(random, hrr_random, RANDOM_LEN) == 0;
	s->sh_legacy_version = h.version;
	s->version = h.version;     /* until supported_versions says otherwise */
	data = h.ciphers;
	buf_be16(&data, &s->cipher);
	exts = h.exts;
	while (buf_left(&exts) > 0)
		if (ext_next(&exts, &type, &data) < 0 || sh_ext(s, type, data) < 0)
			return -1;
	ja3_make(&h, 0, &s->ja3s, s->ja3s_md5);
	s->sh_seen = 1;
	return 0;
}

/* SSLv2-format ClientHello, RFC 5246 Appendix E.2 (RFC 6101 Appendix E):
 * msg_type, version, three lengths, cipher specs (3 bytes each), session
 * id, challenge.  buf starts at msg_type.  0 or -1. */
static int v2_hello_parse(const uint8_t *buf, size_t len, struct tls_session *s)
{
	struct hello_views h = { .cipher_width = 3 };
	uint16_t n_specs, n_sid, n_challenge;
	const uint8_t *sid;
	struct buf b;
	uint8_t type;

	buf_init(&b, buf, len);
	if (buf_u8(&b, &type) < 0 || type != HS_CLIENT_HELLO ||
	    buf_be16(&b, &h.version) < 0 || buf_be16(&b, &n_specs) < 0 ||
	    buf_be16(&b, &n_sid) < 0 || buf_be16(&b, &n_challenge) < 0 ||
	    n_specs % 3 != 0 || n_sid > SID_MAX ||
	    buf_sub(&b, n_specs, &h.ciphers) < 0 || buf_bytes(&b, n_sid, &sid) < 0 ||
	    buf_skip(&b, n_challenge) < 0 || buf_left(&b) != 0)
		return -1;
	s->ch_sslv2 = 1;
	s->ch_version = h.version;
	memcpy(s->ch_sid, sid, n_sid);
	s->ch_sid_len = n_sid;
	ja3_make(&h, 1, &s->ja3, s->ja3_md5);
	s->ch_seen = 1;
	g_stats.tls_sslv2_hello++;
	return 0;
}

/* One certificate entry: ASN.1Cert <1..2^24-1>, RFC 5246 §7.4.2.
 * Returns 1 for a whole entry, 0 for an entry cut short by the end of the
 * list (der holds what there is), -1 when nothing is left to take. */
static int cert_next(struct buf *list, struct buf *der)
{
	uint32_t n;

	if (buf_be24(list, &n) < 0 || n == 0)
		return -1;
	if (buf_sub(list, n, der) == 0)
		return 1;
	/* The entry claims more than the message holds.  Keep the bytes
	 * there are: DESIGN keeps every certificate's DER, parsable or not,
	 * so a mangled message is reported (as an unparsable certificate)
	 * instead of hiding the chain from the policy. */
	if (buf_left(list) == 0)
		return -1;   /* nothing left to keep: no empty "certificate" */
	buf_sub(list, buf_left(list), der);
	return 0;
}

/* Keep one DER, or count why not (a limit is never hit silently). */
static void cert_keep(struct tls_session *s, struct buf der, size_t slots)
{
	size_t n = buf_left(&der);
	uint8_t *copy;

	if (n > s->lim->max_cert_size) {
		s->certs_dropped++;
		g_stats.tls_cert_too_big++;
		return;
	}
	if (s->n_certs >= slots) {
		s->certs_dropped++;
		g_stats.tls_certs_dropped++;
		return;
	}
	copy = malloc(n);  /* owned by the session; freed in tls_session_free */
	if (!copy) {
		s->certs_dropped++;
		return;
	}
	memcpy(copy, buf_ptr(&der), n);
	s->certs[s->n_certs].data = copy;
	s->certs[s->n_certs].len = n;
	s->n_certs++;
}

/* certificate_list <0..2^24-1> at b, the sender's certificate first:
 * entries of RFC 5246 §7.4.2 (ASN.1Cert), or with tls13 of RFC 8446
 * §4.4.2 (cert_data, then an extensions block, skipped whole: OCSP
 * status, SCTs).  Returns -1 when malformed; certificates read completely
 * before the fault are kept all the same. */
static int cert_list(struct buf *b, struct tls_session *s, int tls13)
{
	struct buf list, der, exts;
	uint16_t n_ext;
	uint32_t n;
	size_t avail, slots, min_entry = tls13 ? 3 + 1 + 2 : 3 + 1;
	int ok;

	if (buf_be24(b, &n) < 0)
		return -1;
	ok = n == buf_left(b);
	avail = n < buf_left(b) ? n : buf_left(b);
	if (buf_sub(b, avail, &list) < 0)
		return -1;

	/* Every entry takes at least min_entry bytes, so this bounds the
	 * array without a counting pass. */
	slots = avail / min_entry < s->lim->max_certs ? avail / min_entry : s->lim->max_certs;
	if (slots > 0) {
		s->certs = calloc(slots, sizeof *s->certs);  /* owned by the session */
		if (!s->certs)
			slots = 0;
	}
	while (buf_left(&list) > 0) {
		int rc = cert_next(&list, &der);

		if (rc < 0)
			return -1;
		cert_keep(s, der, slots);
		if (rc == 0)
			return -1;
		if (tls13 && (buf_be16(&list, &n_ext) < 0 || buf_sub(&list, n_ext, &exts) < 0))
			return -1;
	}
	return ok ? 0 : -1;
}

/* Certificate body, RFC 5246 §7.4.2. */
static int cert_parse(const uint8_t *buf, size_t len, struct tls_session *s)
{
	struct buf b;

	buf_init(&b, buf, len);
	return cert_list(&b, s, 0);
}

/* ---- handshake messages ------------------------------------------------ */

static void on_client_message(struct tls_session *s, uint8_t type, const uint8_t *body, size_t len)
{
	/* Other client messages before a ClientHello (a capture that starts
	 * mid-handshake) say nothing about the server's certificate. */
	if (type != HS_CLIENT_HELLO)
		return;
	if (ch_parse(body, len, s) < 0) {
		/* Counted and reported, but the server side is still read: a
		 * client could otherwise hide the server's certificate from
		 * the sensor with an extension the server ignores. */
		g_stats.tls_parse_err++;
		snprintf(s->error, sizeof s->error, "malformed ClientHello");
	}
	/* The client side has told all it will in cleartext. */
	s->dir[TLS_CLIENT].done = 1;
	dir_release(&s->dir[TLS_CLIENT]);
}

/* Certificates encrypted and not going to be read: decided, and why. */
static void t13_unread(struct tls_session *s, enum tls13_outcome why, const char *note)
{
	s->t13_outcome = why;
	if (note)
		decide_why(s, TLS_DEC_TLS13, "%s", note);
	else
		decide(s, TLS_DEC_TLS13);
}

/* A ServerHello that negotiated TLS 1.3 (not a HelloRetryRequest). */
static void on_server_hello13(struct tls_session *s)
{
	size_t secret_len;
	char note[96];

	if (s->psk) {
		/* RFC 8446 §4.2.11: the server accepted a pre-shared key, so
		 * its flight carries no Certificate, key log or not. */
		s->resumed = 1;
		s->t13_outcome = T13_PSK;
		decide(s, TLS_DEC_RESUMED);
		return;
	}
	if (!s->t13_follow) {
		t13_unread(s, T13_NOT_READ, NULL);
		return;
	}
	if (s->version != 0x0304 || !tls13_suite_supported(s->cipher, &secret_len)) {
		snprintf(note, sizeof note, "TLS 1.3 %s suite 0x%04x%s%s: not decrypted",
		         s->version != 0x0304 ? "draft" : "cipher", s->cipher,
		         tls13_suite_name(s->cipher) ? " " : "",
		         tls13_suite_name(s->cipher) ? tls13_suite_name(s->cipher) : "");
		t13_unread(s, T13_UNSUPPORTED, note);
		return;
	}
	if (!s->ch_seen) {
		t13_unread(s, T13_NO_RANDOM, "TLS 1.3: ClientHello not seen (capture started "
		           "mid-connection), so no key log entry can be found");
		return;
	}
	/* The caller looks the secret up and hands it over (tls_tls13_key);
	 * the server's records wait for it. */
	s->t13 = TLS13_NEED_KEY;
}

static void on_server_hello(struct tls_session *s, const uint8_t *body, size_t len)
{
	int hrr = 0;

	if (sh_parse(body, len, s, &hrr) < 0) {
		malformed(s, "ServerHello");
		return;
	}
	/* A HelloRetryRequest exists only in TLS 1.3 (RFC 8446 §4.1.4): the
	 * real ServerHello follows the client's second ClientHello, in the
	 * clear.  Only one HRR may come; without a key log nothing more is
	 * to be seen.  The 1.3 test comes before the session id one: a 1.3
	 * server echoes the client's legacy_session_id (RFC 8446 §4.1.3). */
	if (hrr) {
		if (s->t13_follow && !s->hrr) {
			s->hrr = 1;
		} else if (s->hrr) {
			malformed(s, "second HelloRetryRequest");
		} else {
			t13_unread(s, T13_NOT_READ, NULL);
		}
	} else if (is_tls13(s->version)) {
		on_server_hello13(s);
	} else if (s->hrr) {
		malformed(s, "ServerHello after a HelloRetryRequest");
	} else if (s->sh_sid_len > 0 && s->sh_sid_len == s->ch_sid_len &&
	           memcmp(s->sh_sid, s->ch_sid, s->sh_sid_len) == 0) {
		/* RFC 5246 §7.4.1.3: the same id means the session resumes. */
		s->resumed = 1;
		decide(s, TLS_DEC_RESUMED);
	}
}

/* TLS 1.3 Certificate body, RFC 8446 §4.4.2: certificate_request_context
 * <0..2^8-1> (empty from a server), then the certificate list.  Only
 * X.509 entries are expected (no raw public key was offered). */
static int cert13_parse(const uint8_t *buf, size_t len, struct tls_session *s)
{
	struct buf b;
	uint8_t ctx_len;

	buf_init(&b, buf, len);
	if (buf_u8(&b, &ctx_len) < 0 || buf_skip(&b, ctx_len) < 0)
		return -1;
	return cert_list(&b, s, 1);
}

/* A Certificate message parsed (rc 0) or not: decided either way. */
static void cert_decided(struct tls_session *s, int rc)
{
	if (rc == 0) {
		decide(s, TLS_DEC_CERTS);
	} else if (s->n_certs > 0) {
		/* Malformed, but certificates were recovered: the policy
		 * judges them (an unparsable leaf cannot be approved), and the
		 * error is reported with them. */
		g_stats.tls_parse_err++;
		decide_why(s, TLS_DEC_CERTS, "malformed Certificate message");
	} else {
		malformed(s, "Certificate");
	}
}

/* A message of the server's encrypted TLS 1.3 flight (RFC 8446 §2):
 * EncryptedExtensions, CertificateRequest, Certificate or
 * CompressedCertificate, CertificateVerify, Finished. */
static void on_server_message13(struct tls_session *s, uint8_t type, const uint8_t *body,
                                size_t len)
{
	switch (type) {
	case HS_CERTIFICATE:
		s->t13_outcome = T13_DECRYPTED;
		cert_decided(s, cert13_parse(body, len, s));
		if (s->decision != TLS_DEC_CERTS)
			s->t13_outcome = T13_FAILED;
		break;
	case HS_COMPRESSED_CERTIFICATE:
		/* RFC 8879: zlib, brotli or zstd, as the client offered. */
		t13_unread(s, T13_COMPRESSED, "TLS 1.3 certificate compressed (RFC 8879): "
		           "decrypted but not decompressed");
		break;
	case HS_FINISHED:
		/* The flight ended without a Certificate: a PSK handshake the
		 * ServerHello did not show, or an anonymous one. */
		s->t13_outcome = T13_DECRYPTED;
		decide(s, TLS_DEC_NO_CERT);
		break;
	case HS_ENCRYPTED_EXTENSIONS:
	case HS_CERTIFICATE_REQUEST:
	case HS_CERTIFICATE_VERIFY:
		break;
	default:
		s->t13_outcome = T13_FAILED;
		decide_why(s, TLS_DEC_ERROR, "unexpected message %u in the server's encrypted "
		           "TLS 1.3 flight", type);
		g_stats.tls_parse_err++;
		break;
	}
}

static void on_server_message(struct tls_session *s, uint8_t type, const uint8_t *body, size_t len)
{
	if (s->t13 == TLS13_KEYED) {
		on_server_message13(s, type, body, len);
		return;
	}
	switch (type) {
	case HS_SERVER_HELLO:
		on_server_hello(s, body, len);
		break;
	case HS_CERTIFICATE:
		cert_decided(s, cert_parse(body, len, s));
		break;
	case HS_SERVER_HELLO_DONE:
		/* RFC 5246 §7.4.5: the server's flight ended without a
		 * Certificate (anonymous suites).  Deciding here keeps the
		 * server's later ChangeCipherSpec from passing for a resumption
		 * when the client happened to offer a session id. */
		decide(s, TLS_DEC_NO_CERT);
		break;
	default:
		/* ServerKeyExchange, CertificateRequest, CertificateStatus,
		 * NewSessionTicket, HelloRequest: nothing needed from them. */
		break;
	}
}

/* A complete message is in ds->msg[0..msg_need). */
static void on_message(struct tls_session *s, enum tls_dir d)
{
	struct tls_dirstate *ds = &s->dir[d];
	struct buf b;
	uint8_t type;

	buf_init(&b, ds->msg, ds->msg_need);
	if (ds->rec_type == CT_SSLV2_HELLO) {
		if (v2_hello_parse(ds->msg, ds->msg_need, s) < 0) {
			malformed(s, "SSLv2 ClientHello");
			return;
		}
		ds->done = 1;
		dir_release(ds);
		return;
	}
	/* hs_feed completes a message only after its 4-byte header */
	if (buf_u8(&b, &type) < 0 || buf_skip(&b, HS_HDR_LEN - 1) < 0)
		return;
	if (d == TLS_CLIENT)
		on_client_message(s, type, buf_ptr(&b), buf_left(&b));
	else
		on_server_message(s, type, buf_ptr(&b), buf_left(&b));
}

/* Make room for need bytes.  The buffer grows geometrically (few
 * reallocations for a large chain) but only as bytes actually arrive: a
 * peer that announces 16 MB and sends nothing costs nothing.  It never
 * exceeds max_hs_msg + 4, the largest message accepted. */
static int msg_reserve(struct tls_session *s, struct tls_dirstate *ds, size_t need)
{
	size_t max = s->lim->max_hs_msg + HS_HDR_LEN;
	size_t cap = ds->msg_cap ? ds->msg_cap : MSG_BUF_MIN;
	uint8_t *p;

	if (need <= ds->msg_cap)
		return 0;
	assert(need <= max);
	while (cap < need)
		cap *= 2;
	if (cap > max)
		cap = max;
	p = realloc(ds->msg, cap);  /* owned by the direction; see dir_release */
	if (!p) {
		decide_why(s, TLS_DEC_LIMIT, "out of memory for a %zu-byte handshake message", need);
		return -1;
	}
	ds->msg = p;
	ds->msg_cap = cap;
	return 0;
}

static int msg_append(struct tls_session *s, struct tls_dirstate *ds, const uint8_t *p, size_t n)
{
	if (msg_reserve(s, ds, ds->msg_len + n) < 0)
		return -1;
	memcpy(ds->msg + ds->msg_len, p, n);
	ds->msg_len += n;
	return 0;
}

/* The 4-byte handshake header is in: learn the message length (RFC 5246
 * §7.4) and refuse one above the limit before buffering any of it. */
static void hs_header(struct tls_session *s, struct tls_dirstate *ds)
{
	struct buf b;
	uint32_t n;

	buf_init(&b, ds->msg, ds->msg_len);
	if (buf_skip(&b, 1) < 0 || buf_be24(&b, &n) < 0)
		return;
	if (n > s->lim->max_hs_msg) {
		g_stats.tls_hs_too_big++;
		decide_why(s, TLS_DEC_LIMIT,
		           "handshake message of %u bytes exceeds max_hs_msg %zu",
		           (unsigned)n, s->lim->max_hs_msg);
		return;
	}
	ds->msg_need = HS_HDR_LEN + (size_t)n;
}

/* Payload bytes of handshake records, in order: any number of messages
 * per record, any number of records per message. */
static void hs_feed(struct tls_session *s, enum tls_dir d, const uint8_t *p, size_t n)
{
	struct tls_dirstate *ds = &s->dir[d];
	struct buf in;
	const uint8_t *chunk = NULL;

	buf_init(&in, p, n);
	while (buf_left(&in) > 0 && s->decision == TLS_UNDECIDED && !ds->done) {
		size_t want = ds->msg_need ? ds->msg_need - ds->msg_len : HS_HDR_LEN - ds->msg_len;
		size_t take = want < buf_left(&in) ? want : buf_left(&in);

		buf_bytes(&in, take, &chunk);
		if (msg_append(s, ds, chunk, take) < 0)
			return;
		if (ds->msg_need == 0 && ds->msg_len == HS_HDR_LEN)
			hs_header(s, ds);
		if (ds->msg_need != 0 && ds->msg_len == ds->msg_need) {
			on_message(s, d);
			ds->msg_len = ds->msg_need = 0;
		}
	}
}

/* ---- records ----------------------------------------------------------- */

/* Do the first bytes of p look like a TLS record header (RFC 5246 §6.2.1)?
 * 1 yes, 0 no, -1 too few bytes to tell.  Only the bytes present are
 * judged, so a contradiction is seen as early as possible. */
static int rec_shape(const uint8_t *p, size_t len)
{
	uint8_t type, major, minor;
	uint16_t n;
	struct buf b;

	buf_init(&b, p, len);
	if (buf_u8(&b, &type) < 0)
		return -1;
	if (type < CT_CCS || type > CT_APPDATA)
		return 0;
	if (buf_u8(&b, &major) < 0)
		return -1;
	if (major != 3)
		return 0;
	if (buf_u8(&b, &minor) < 0)
		return -1;
	if (minor > 4)
		return 0;
	if (buf_be16(&b, &n) < 0)
		return -1;
	return n >= 1 && n <= TLS_MAX_RECORD_LEN;
}

/* The same for an SSLv2-format ClientHello (RFC 5246 Appendix E.2): a
 * 2-byte length with the high bit set, msg_type 1, and version 0x0002
 * (SSL 2.0) or 0x0300-0x0304. */
static int v2_shape(const uint8_t *p, size_t len)
{
	uint8_t hi, lo, type, major, minor;
	struct buf b;

	buf_init(&b, p, len);
	if (buf_u8(&b, &hi) < 0)
		return -1;
	if (!(hi & 0x80))
		return 0;
	if (buf_u8(&b, &lo) < 0)
		return -1;
	if (((size_t)(hi & 0x7f) << 8 | lo) < V2_HELLO_MIN)
		return 0;
	if (buf_u8(&b, &type) < 0)
		return -1;
	if (type != HS_CLIENT_HELLO)
		return 0;
	if (buf_u8(&b, &major) < 0)
		return -1;
	if (major != 0 && major != 3)
		return 0;
	if (buf_u8(&b, &minor) < 0)
		return -1;
	return major == 0 ? minor == 2 : minor <= 4;
}

int tls_plausible_start(const uint8_t *buf, size_t len)
{
	int rec = rec_shape(buf, len), v2 = v2_shape(buf, len);

	if (rec == 1 || v2 == 1)
		return 1;
	if (rec == 0 && v2 == 0)
		return 0;
	return -1;
}

static void not_tls(struct tls_session *s, enum tls_dir d)
{
	const struct tls_dirstate *ds = &s->dir[d];
	char hex[3 * REC_HDR_LEN];

	digest_hex(ds->hdr, ds->hdr_len, hex, ' ', 0);
	g_stats.tls_not_tls++;
	decide_why(s, TLS_DEC_NOT_TLS, "%s stream does not start a TLS record: %s",
	           d == TLS_CLIENT ? "client" : "server", hex);
}

/* An SSLv2-format ClientHello's header is complete: its message goes
 * through the handshake buffer like any other, whole. */
static void v2_begin(struct tls_session *s, struct tls_dirstate *ds)
{
	struct buf b;
	uint16_t n;

	buf_init(&b, ds->hdr, REC_HDR_LEN);
	buf_be16(&b, &n);
	n &= 0x7fff;        /* the high bit only marks the 2-byte header */
	buf_skip(&b, 1);    /* msg_type, checked by v2_shape */
	buf_be16(&b, &ds->rec_version);
	if (n > s->lim->max_hs_msg) {
		g_stats.tls_hs_too_big++;
		decide_why(s, TLS_DEC_LIMIT, "SSLv2 ClientHello of %u bytes exceeds max_hs_msg %zu",
		           (unsigned)n, s->lim->max_hs_msg);
		return;
	}
	ds->rec_type = CT_SSLV2_HELLO;
	ds->rec_left = n - V2_HDR_BODY;
	ds->records++;
	/* the 2-byte length is not part of the message */
	if (msg_append(s, ds, ds->hdr + 2, V2_HDR_BODY) == 0)
		ds->msg_need = n;
}

/* ---- the server's encrypted TLS 1.3 flight ------------------------------ */

/* Record buffer: the largest TLS 1.3 record, header included. */
#define T13_REC_MAX (REC_HDR_LEN + TLS13_MAX_CIPHERTEXT)

/* Charge n more bytes of TLS 1.3 buffers to the memcap's count. */
static void t13_charge(struct tls_session *s, size_t n)
{
	stats_mem_add(n);
	s->mem_charged += n;
}

/* A server record after a 1.3 ServerHello (or a HelloRetryRequest), by
 * type, before its payload.  RFC 8446 §5: the encrypted flight comes in
 * application_data records; a ChangeCipherSpec is the middlebox-
 * compatibility one (§D.4), ignored; a handshake record is the real
 * ServerHello after a HelloRetryRequest, and only then; alerts are looked
 * at as in 1.2. */
static void rec_type_action13(struct tls_session *s)
{
	struct tls_dirstate *ds = &s->dir[TLS_SERVER];

	switch (ds->rec_type) {
	case CT_APPDATA:
		if (s->t13 == TLS13_OFF) {
			malformed(s, "record: application data before the ServerHello that "
			          "follows a HelloRetryRequest");
			return;
		}
		if (ds->rec_left > TLS13_MAX_CIPHERTEXT || ds->rec_left < TLS13_TAG_LEN + 1) {
			malformed(s, "TLS 1.3 record: not 17 to 2^14 + 256 bytes long");
			return;
		}
		s->flight_records++;
		s->flight_bytes += ds->rec_left;
		if (ds->rec_left > s->flight_largest)
			s->flight_largest = (unsigned)ds->rec_left;
		if (s->t13 == TLS13_COLLECT)
			return;     /* counted, not kept */
		if (!s->rec) {
			s->rec = malloc(T13_REC_MAX);   /* owned by the session; t13_release */
			if (!s->rec) {
				decide_why(s, TLS_DEC_LIMIT, "out of memory for a TLS 1.3 record");
				return;
			}
			t13_charge(s, T13_REC_MAX);
		}
		memcpy(s->rec, ds->hdr, REC_HDR_LEN);
		s->rec_len = REC_HDR_LEN;
		break;
	case CT_HANDSHAKE:
		if (s->t13 != TLS13_OFF)
			malformed(s, "record: cleartext handshake after the TLS 1.3 ServerHello");
		break;
	default:
		break;
	}
}

/* Decrypt a complete record (header and payload, len bytes: s->rec, or
 * one held in s->pend) in place, and pass on its plaintext. */
static void t13_open_record(struct tls_session *s, uint8_t *rec, size_t len)
{
	uint8_t type = 0;
	int n = tls13_open(s->keys, rec, rec + REC_HDR_LEN, len - REC_HDR_LEN,
	                   rec + REC_HDR_LEN, len - REC_HDR_LEN, &type);
	unsigned nr = s->t13_records + 1;

	if (n == TLS13_ERR_AUTH) {
		/* Never parsed: a record that does not authenticate may be
		 * anything. */
		g_stats.tls13_auth_fail++;
		s->t13_outcome = T13_AUTH_FAIL;
		decide_why(s, TLS_DEC_ERROR, "TLS 1.3 server record %u failed authentication with "
		           "the key log's secret", nr);
		return;
	}
	if (n < 0) {
		s->t13_outcome = T13_FAILED;
		g_stats.tls_parse_err++;
		decide_why(s, TLS_DEC_ERROR, "TLS 1.3 server record %u: %s", nr,
		           n == TLS13_ERR_FORMAT ? "malformed" : "decryption error");
		return;
	}
	s->t13_records = nr;
	g_stats.tls13_records++;
	switch (type) {
	case CT_HANDSHAKE:
		hs_feed(s, TLS_SERVER, rec + REC_HDR_LEN, (size_t)n);
		break;
	case CT_ALERT:
		s->t13_outcome = T13_FAILED;
		decide_why(s, TLS_DEC_ERROR, "server sent an encrypted alert");
		break;
	default:
		s->t13_outcome = T13_FAILED;
		g_stats.tls_parse_err++;
		decide_why(s, TLS_DEC_ERROR, "TLS 1.3 server record %u: content type %u inside "
		           "the handshake flight", nr, type);
		break;
	}
}

/* Hold a complete record until the key comes: bounded by max_hs_msg (the
 * flight is a handful of messages, the largest a Certificate). */
static void t13_hold_record(struct tls_session *s)
{
	size_t cap = s->pend_cap ? s->pend_cap : T13_REC_MAX;
	uint8_t *p;

	if (s->rec_len > s->lim->max_hs_msg - s->pend_len) {
		g_stats.tls_hs_too_big++;
		decide_why(s, TLS_DEC_LIMIT, "more than max_hs_msg %zu bytes of TLS 1.3 records "
		           "held while waiting for the key log", s->lim->max_hs_msg);
		return;
	}
	while (cap < s->pend_len + s->rec_len)
		cap *= 2;
	if (cap != s->pend_cap) {
		p = realloc(s->pend, cap);   /* owned by the session; t13_release */
		if (!p) {
			decide_why(s, TLS_DEC_LIMIT, "out of memory holding TLS 1.3 records");
			return;
		}
		t13_charge(s, cap - s->pend_cap);
		s->pend = p;
		s->pend_cap = cap;
	}
	memcpy(s->pend + s->pend_len, s->rec, s->rec_len);
	s->pend_len += s->rec_len;
}

/* Payload bytes of an encrypted server record. */
static void t13_payload(struct tls_session *s, const uint8_t *p, size_t n, int last)
{
	memcpy(s->rec + s->rec_len, p, n);   /* rec_left was checked in rec_type_action13 */
	s->rec_len += n;
	if (!last)
		return;
	if (s->t13 == TLS13_KEYED)
		t13_open_record(s, s->rec, s->rec_len);
	else
		t13_hold_record(s);
}

int tls_tls13_key(struct tls_session *s, const uint8_t *secret, size_t len)
{
	size_t want = 0, off = 0;

	if (s->decision != TLS_UNDECIDED || s->t13 != TLS13_NEED_KEY)
		return s->decision != TLS_UNDECIDED ? TLS_DECIDED : TLS_MORE;
	tls13_suite_supported(s->cipher, &want);
	s->keys = calloc(1, sizeof *s->keys);   /* owned by the session; t13_release */
	if (!s->keys || len != want || tls13_keys_init(s->keys, s->cipher, secret, len) < 0) {
		s->t13_outcome = T13_FAILED;
		decide_why(s, TLS_DEC_ERROR, len != want ?
		           "key log secret of %zu bytes for a suite whose hash has %zu" :
		           "TLS 1.3 key set-up failed (%zu, %zu)", len, want);
		return TLS_DECIDED;
	}
	s->t13 = TLS13_KEYED;
	/* The held records, in place: s->rec may hold the start of the
	 * record that follows them. */
	while (off < s->pend_len && s->decision == TLS_UNDECIDED) {
		uint16_t n = 0;
		size_t rec_len;

		buf_peek_be16(s->pend + off, s->pend_len - off, 3, &n);
		rec_len = REC_HDR_LEN + (size_t)n;
		off += rec_len;
		t13_open_record(s, s->pend + off - rec_len, rec_len);
	}
	if (s->decision == TLS_UNDECIDED) {
		free(s->pend);
		s->pend = NULL;
		stats_mem_sub(s->pend_cap);
		s->mem_charged -= s->pend_cap;
		s->pend_len = s->pend_cap = 0;
	}
	return s->decision != TLS_UNDECIDED ? TLS_DECIDED : TLS_MORE;
}

void tls_tls13_collect(struct tls_session *s)
{
	if (s->decision != TLS_UNDECIDED || s->t13 != TLS13_NEED_KEY)
		return;
	t13_release(s);
	s->t13 = TLS13_COLLECT;
}

void tls_tls13_no_key(struct tls_session *s, enum tls13_outcome why, const char *note)
{
	if (s->decision != TLS_UNDECIDED)
		return;
	t13_unread(s, why, note);
}

const char *tls13_outcome_name(enum tls13_outcome o)
{
	switch (o) {
	case T13_NONE:        return NULL;
	case T13_NOT_READ:    return "no-key-log";
	case T13_DECRYPTED:   return "decrypted";
	case T13_NO_KEY:      return "no-key";
	case T13_NO_RANDOM:   return "no-client-random";
	case T13_AUTH_FAIL:   return "authentication-failed";
	case T13_UNSUPPORTED: return "unsupported-suite";
	case T13_COMPRESSED:  return "compressed-certificate";
	case T13_PSK:         return "psk-resumed";
	case T13_FAILED:      return "decryption-failed";
	}
	return NULL;
}

/* What a record's type means at once, before its payload. */
static void rec_type_action(struct tls_session *s, enum tls_dir d)
{
	struct tls_dirstate *ds = &s->dir[d];

	if (d == TLS_SERVER && (s->t13 != TLS13_OFF || s->hrr)) {
		rec_type_action13(s);
		return;
	}
	switch (ds->rec_type) {
	case CT_CCS:
		ds->encrypted = 1;
		if (d == TLS_SERVER)
			server_went_opaque(s);
		break;
	case CT_APPDATA:
		if (d != TLS_SERVER)
			break;
		if (s->sh_seen)
			server_went_opaque(s);
		else
			decide_why(s, TLS_DEC_NO_CERT, "server application data before any ServerHello");
		break;
	default:
		/* handshake and alert: their payload is looked at;
		 * heartbeat: ignored */
		break;
	}
}

/* A TLS record header is complete in ds->hdr. */
static void rec_begin(struct tls_session *s, enum tls_dir d)
{
	struct tls_dirstate *ds = &s->dir[d];
	uint8_t type;
	uint16_t version, n;
	struct buf b;

	buf_init(&b, ds->hdr, REC_HDR_LEN);
	buf_u8(&b, &type);
	buf_be16(&b, &version);
	buf_be16(&b, &n);
	/* RFC 5246 §6.2.1, RFC 8446 §5.1: known type, version 3.x, length at
	 * most 2^14 + 2048. */
	if (type < CT_CCS || type > CT_HEARTBEAT || version < 0x0300 || version > 0x0304 ||
	    n > TLS_MAX_RECORD_LEN) {
		g_stats.tls_parse_err++;
		decide_why(s, TLS_DEC_ERROR, "bad %s record header: type %u version 0x%04x length %u",
		           d == TLS_CLIENT ? "client" : "server", type, version, n);
		return;
	}
	ds->rec_type = type;
	ds->rec_version = version;
	ds->rec_left = n;
	if (ds->records < RECORDS_MAX)
		ds->records++;
	rec_type_action(s, d);
}

/* Collect header bytes.  The first record of a direction is judged byte by
 * byte, so that "GET / HTTP/1.1" is refused at its first byte. */
static void rec_header(struct tls_session *s, enum tls_dir d, struct buf *in)
{
	struct tls_dirstate *ds = &s->dir[d];
	size_t take = REC_HDR_LEN - ds->hdr_len;
	const uint8_t *p;
	int shape;

	if (take > buf_left(in))
		take = buf_left(in);
	buf_bytes(in, take, &p);
	memcpy(ds->hdr + ds->hdr_len, p, take);
	ds->hdr_len += take;

	if (ds->records == 0) {
		/* Only a client may open with an SSLv2-format hello. */
		shape = d == TLS_CLIENT ? tls_plausible_start(ds->hdr, ds->hdr_len)
		                        : rec_shape(ds->hdr, ds->hdr_len);
		if (shape == 0) {
			not_tls(s, d);
			return;
		}
	}
	if (ds->hdr_len < REC_HDR_LEN)
		return;
	if (ds->records == 0 && v2_shape(ds->hdr, ds->hdr_len) == 1)
		v2_begin(s, ds);
	else
		rec_begin(s, d);
}

/* Alert payload bytes of a server record, off bytes into the record.
 * RFC 5246 §7.2: an alert is (level, description), and a warning (level
 * 1) does not end the connection: servers send unrecognized_name (112) as
 * a warning and then their certificate (zeek's tls-early-alert.pcap), so
 * only a fatal alert ends inspection.  Client alerts are not looked at:
 * the server's certificate may still come.  An alert split across two
 * records (legal, never seen) is read as two. */
static void server_alert(struct tls_session *s, const uint8_t *p, size_t n, size_t off)
{
	struct buf b;
	uint8_t level;

	buf_init(&b, p, n);
	if (off % 2 != 0 && buf_skip(&b, 1) < 0)
		return;
	while (buf_u8(&b, &level) == 0) {
		if (level != ALERT_WARNING) {
			decide_why(s, TLS_DEC_ERROR, "server sent alert");
			return;
		}
		buf_skip(&b, 1);
	}
}

/* Payload bytes of the current record. */
static void rec_payload(struct tls_session *s, enum tls_dir d, struct buf *in)
{
	struct tls_dirstate *ds = &s->dir[d];
	size_t n = ds->rec_left < buf_left(in) ? ds->rec_left : buf_left(in);
	const uint8_t *p;
	uint16_t rec_len;

	buf_bytes(in, n, &p);
	if (ds->rec_type == CT_ALERT && d == TLS_SERVER && !ds->encrypted &&
	    buf_peek_be16(ds->hdr, REC_HDR_LEN, 3, &rec_len) == 0)
		server_alert(s, p, n, rec_len - ds->rec_left);
	ds->rec_left -= n;
	if (d == TLS_SERVER && s->t13 == TLS13_COLLECT)
		return;
	if (d == TLS_SERVER && s->t13 != TLS13_OFF && ds->rec_type == CT_APPDATA) {
		t13_payload(s, p, n, ds->rec_left == 0);
		return;
	}
	/* Handshake records after ChangeCipherSpec are encrypted (the
	 * Finished message): opaque, skipped. */
	if ((ds->rec_type == CT_HANDSHAKE && !ds->encrypted) || ds->rec_type == CT_SSLV2_HELLO)
		hs_feed(s, d, p, n);
}

int tls_feed(struct tls_session *s, enum tls_dir d, const uint8_t *data, size_t len)
{
	struct tls_dirstate *ds = &s->dir[d];
	struct buf in;

	if (s->decision != TLS_UNDECIDED)
		return TLS_DECIDED;
	buf_init(&in, data, len);
	while (buf_left(&in) > 0 && !ds->done && s->decision == TLS_UNDECIDED) {
		if (ds->hdr_len < REC_HDR_LEN)
			rec_header(s, d, &in);
		else
			rec_payload(s, d, &in);
		/* A record ends when its payload is in, zero-length ones at
		 * once; the next header starts fresh. */
		if (ds->hdr_len == REC_HDR_LEN && ds->rec_left == 0)
			ds->hdr_len = 0;
	}
	return s->decision != TLS_UNDECIDED ? TLS_DECIDED : TLS_MORE;
}

/* ---- session ----------------------------------------------------------- */

void tls_session_init(struct tls_session *s, const struct cs_limits *lim)
{
	memset(s, 0, sizeof *s);
	s->lim = lim;
}

void tls_session_free(struct tls_session *s)
{
	for (size_t i = 0; i < s->n_certs; i++)
		free(s->certs[i].data);
	free(s->certs);
	s->certs = NULL;
	s->n_certs = 0;
	free(s->ja3);
	s->ja3 = NULL;
	free(s->ja3s);
	s->ja3s = NULL;
	dir_release(&s->dir[TLS_CLIENT]);
	dir_release(&s->dir[TLS_SERVER]);
	t13_release(s);
}

/* Suricata's spelling (app-layer-ssl.c, SSLVersionToString), so that EVE
 * consumers built for Suricata see the same strings: note "TLSv1" for
 * TLS 1.0 there. */
const char *tls_version_name(uint16_t v)
{
	static const char *const drafts[] = {
		"TLS 1.3 draft-16", "TLS 1.3 draft-17", "TLS 1.3 draft-18",
		"TLS 1.3 draft-19", "TLS 1.3 draft-20", "TLS 1.3 draft-21",
		"TLS 1.3 draft-22", "TLS 1.3 draft-23", "TLS 1.3 draft-24",
		"TLS 1.3 draft-25", "TLS 1.3 draft-26", "TLS 1.3 draft-27",
		"TLS 1.3 draft-28",
	};

	switch (v) {
	case 0x0002: return "SSLv2";
	case 0x0300: return "SSLv3";
	case 0x0301: return "TLSv1";
	case 0x0302: return "TLS 1.1";
	case 0x0303: return "TLS 1.2";
	case 0x0304: return "TLS 1.3";
	default: break;
	}
	if (v >= 0x7f10 && (size_t)v - 0x7f10 < sizeof drafts / sizeof drafts[0])
		return drafts[v - 0x7f10];
	if (v > 0x7f00 && v < 0x7f10)
		return "TLS 1.3 draft-<16";
	return "UNDETERMINED";
}

int tls_version_index(uint16_t v)
{
	switch (v) {
	case 0x0002: return 0;
	case 0x0300: return 1;
	case 0x0301: return 2;
	case 0x0302: return 3;
	case 0x0303: return 4;
	default: return is_tls13(v) ? 5 : 6;
	}
}
