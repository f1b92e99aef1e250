/*
 * tls.c - streaming parser for the cleartext part of a TLS handshake
 * (the contract is include/analyser/tls.h): the record layer, the handshake-message
 * buffer and the session.  The messages' parsers are tls_msg.c, JA3 is
 * tls_ja3.c, the server's encrypted TLS 1.3 flight tls13_flight.c; what
 * they share is tls_int.h.  Must not: parse a message's contents, or
 * know about flows, policy or output.
 *
 * Three layers, each fed by the one above:
 *   tls_feed / rec_*  collect the 5-byte record header (RFC 5246 §6.2.1,
 *                     RFC 8446 §5.1) across calls, then pass the payload
 *                     of each record to what its content type needs;
 *   tls_handshake_feed reassembles handshake messages (RFC 5246 §7.4) in
 *                     the direction's message buffer, across records;
 *   tls_on_message    hands a complete message to its parser (tls_msg.c).
 * The parsers see one complete message as a const view and read it only
 * through buf.h.  Nothing keeps a pointer into the caller's data: what is
 * kept is copied into the session.
 */
#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/digest.h"
#include "core/stats.h"
#include "secrets/tls13.h"
#include "tls_int.h"

/* ---- decisions ------------------------------------------------------- */

/* The message buffer is owned by its direction; it is freed as soon as the
 * direction needs no more parsing, so a decided flow holds only what the
 * later stages read (certificates, strings). */
void tls_dir_release(struct tls_dirstate *ds)
{
	free(ds->msg);
	ds->msg = NULL;
	ds->msg_len = ds->msg_cap = ds->msg_need = 0;
}

/* The TLS 1.3 record buffers, owned by the session, freed once nothing
 * more is decrypted; their bytes were charged to the memcap. */
void tls_t13_release(struct tls_session *s)
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

void tls_decide(struct tls_session *s, enum tls_decision d)
{
	s->decision = d;
	tls_dir_release(&s->dir[TLS_CLIENT]);
	tls_dir_release(&s->dir[TLS_SERVER]);
	tls_t13_release(s);
}

__attribute__((format(printf, 3, 4)))
void tls_decide_why(struct tls_session *s, enum tls_decision d, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->error, sizeof s->error, fmt, ap);
	va_end(ap);
	tls_decide(s, d);
}

/* Bad input: counted, and inspection of this flow ends. */
void tls_malformed(struct tls_session *s, const char *what)
{
	g_stats.tls_parse_err++;
	tls_decide_why(s, TLS_DEC_ERROR, "malformed %s", what);
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
		tls_decide(s, TLS_DEC_RESUMED);
	} else {
		tls_decide(s, TLS_DEC_NO_CERT);
	}
}

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
		tls_decide_why(s, TLS_DEC_LIMIT, "out of memory for a %zu-byte handshake message", need);
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
		tls_decide_why(s, TLS_DEC_LIMIT,
		           "handshake message of %u bytes exceeds max_hs_msg %zu",
		           (unsigned)n, s->lim->max_hs_msg);
		return;
	}
	ds->msg_need = HS_HDR_LEN + (size_t)n;
}

/* The handshake layer (the contract is in tls.h): any number of messages
 * per call, any number of calls per message.  The record layer calls it
 * too, with the payload of each handshake record (and for an SSLv2-format
 * hello, with msg_need set by v2_begin, its one message whole). */
int tls_handshake_feed(struct tls_session *s, enum tls_dir d, const uint8_t *buf, size_t len)
{
	struct tls_dirstate *ds = &s->dir[d];
	struct buf in;
	const uint8_t *chunk = NULL;

	buf_init(&in, buf, len);
	while (buf_left(&in) > 0 && s->decision == TLS_UNDECIDED && !ds->done) {
		size_t want = ds->msg_need ? ds->msg_need - ds->msg_len : HS_HDR_LEN - ds->msg_len;
		size_t take = want < buf_left(&in) ? want : buf_left(&in);

		buf_bytes(&in, take, &chunk);
		if (msg_append(s, ds, chunk, take) < 0)
			break;
		if (ds->msg_need == 0 && ds->msg_len == HS_HDR_LEN)
			hs_header(s, ds);
		if (ds->msg_need != 0 && ds->msg_len == ds->msg_need) {
			tls_on_message(s, d);
			ds->msg_len = ds->msg_need = 0;
		}
	}
	return s->decision != TLS_UNDECIDED ? TLS_DECIDED : TLS_MORE;
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
	tls_decide_why(s, TLS_DEC_NOT_TLS, "%s stream does not start a TLS record: %s",
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
		tls_decide_why(s, TLS_DEC_LIMIT, "SSLv2 ClientHello of %u bytes exceeds max_hs_msg %zu",
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

static void rec_type_action(struct tls_session *s, enum tls_dir d)
{
	struct tls_dirstate *ds = &s->dir[d];

	if (d == TLS_SERVER && (s->t13 != TLS13_OFF || s->hrr)) {
		tls13_rec_action(s);
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
			tls_decide_why(s, TLS_DEC_NO_CERT, "server application data before any ServerHello");
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
		tls_decide_why(s, TLS_DEC_ERROR, "bad %s record header: type %u version 0x%04x length %u",
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
			tls_decide_why(s, TLS_DEC_ERROR, "server sent alert");
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
		tls13_rec_payload(s, p, n, ds->rec_left == 0);
		return;
	}
	/* Handshake records after ChangeCipherSpec are encrypted (the
	 * Finished message): opaque, skipped. */
	if ((ds->rec_type == CT_HANDSHAKE && !ds->encrypted) || ds->rec_type == CT_SSLV2_HELLO)
		(void)tls_handshake_feed(s, d, p, n);
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
	tls_dir_release(&s->dir[TLS_CLIENT]);
	tls_dir_release(&s->dir[TLS_SERVER]);
	tls_t13_release(s);
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
	default: return tls_is_tls13(v) ? 5 : 6;
	}
}
