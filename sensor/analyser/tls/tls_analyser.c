/*
 * tls_analyser.c - TLS as the engine sees it: the analyser table
 * (include/analyser/analyser.h) over a struct tls_session, and what the
 * engine needs of the record layer to pick TLS up in a stream (probe,
 * role).  Must not: parse records or messages (tls.c, tls_msg.c do), or
 * know about flows, transports or the key log.
 */
#include <stdint.h>

#include "analyser/analyser.h"
#include "tls_int.h"

/* The engine's directions are TLS's: feed passes them through. */
_Static_assert((int)AN_CLIENT == (int)TLS_CLIENT && (int)AN_SERVER == (int)TLS_SERVER,
               "enum an_dir and enum tls_dir must agree");

/* A handshake record carrying a ClientHello (client) or ServerHello
 * (server) at p: type 22, version 3.0-3.4 (RFC 5246 §6.2.1, RFC 8446
 * §5.1), a sane length, then the message type.  What picks TLS up after
 * STARTTLS, a proxy's preamble or a mid-stream start, and learns roles. */
static int hs_record_at(const uint8_t *p, size_t n, enum an_dir d)
{
	struct buf b;
	uint8_t type, major, minor, msg;
	uint16_t rlen;

	buf_init(&b, p, n);
	if (buf_u8(&b, &type) < 0 || type != CT_HANDSHAKE ||
	    buf_u8(&b, &major) < 0 || major != 3 ||
	    buf_u8(&b, &minor) < 0 || minor > 4 ||
	    buf_be16(&b, &rlen) < 0 || rlen < HS_HDR_LEN || rlen > TLS_MAX_RECORD_LEN ||
	    buf_u8(&b, &msg) < 0)
		return 0;
	return msg == (d == AN_CLIENT ? HS_CLIENT_HELLO : HS_SERVER_HELLO);
}

/* Where TLS starts in a direction's stream.  At the stream's first byte
 * a record or SSLv2 hello is judged by its shape: a handshake record or
 * an SSLv2 hello starts it; a stream that opens with application data,
 * ChangeCipherSpec or a heartbeat is past its handshake (picked up
 * mid-stream, or encrypted from its first byte, which no TLS peer
 * accepts): no handshake will come, so NO now rather than buffer
 * max_prehs_bytes of it.  An alert may open a server's answer (a refused
 * ClientHello), so after the connection's opening it is searched past, as
 * a STARTTLS preamble is.  Elsewhere: the first hello record. */
static int tls_probe(const uint8_t *buf, size_t len, enum an_dir d, unsigned flags,
                     size_t *skip)
{
	uint8_t first;
	struct buf b;

	*skip = 0;
	buf_init(&b, buf, len);
	if ((flags & AN_PROBE_FIRST) && buf_u8(&b, &first) == 0) {
		int r = tls_plausible_start(buf, len);

		if (r < 0)
			return AN_PROBE_MORE;
		if (r == 1 && (first == CT_HANDSHAKE || (first & 0x80)))
			return AN_PROBE_YES;
		if (r == 1 && (!(flags & AN_PROBE_OPENED) || first != CT_ALERT))
			return AN_PROBE_NO;
	}
	for (size_t i = 0; i < len && len - i >= REC_HDR_LEN + 1; i++)
		if (hs_record_at(buf + i, len - i, d)) {
			*skip = i;
			return AN_PROBE_YES;
		}
	/* Keep the last 5 bytes: a record header may straddle segments. */
	if (len > REC_HDR_LEN)
		*skip = len - REC_HDR_LEN;
	return AN_PROBE_MORE;
}

static int tls_role(const uint8_t *buf, size_t len)
{
	if (hs_record_at(buf, len, AN_CLIENT))
		return AN_CLIENT;
	if (hs_record_at(buf, len, AN_SERVER))
		return AN_SERVER;
	return -1;
}

static void tls_an_init(void *state, const struct cs_limits *lim, unsigned flags)
{
	struct tls_session *s = state;

	tls_session_init(s, lim);
	s->t13_follow = (flags & AN_FOLLOW_ENCRYPTED) != 0;
}

static int tls_an_feed(void *state, enum an_dir d, const uint8_t *buf, size_t len)
{
	return tls_feed(state, (enum tls_dir)d, buf, len) == TLS_DECIDED ? AN_DECIDED : AN_MORE;
}

static enum an_decided tls_an_decided(const void *state)
{
	const struct tls_session *s = state;

	switch (s->decision) {
	case TLS_UNDECIDED:
		return AN_UNDECIDED;
	case TLS_DEC_CERTS:
		return AN_DONE_ON_SERVER;
	default:
		return AN_DONE;
	}
}

static unsigned tls_an_seen(const void *state)
{
	const struct tls_session *s = state;

	return (s->ch_seen ? AN_SEEN_CLIENT : 0u) | (s->sh_seen ? AN_SEEN_SERVER : 0u);
}

static int tls_an_wants(const void *state, enum an_dir d)
{
	const struct tls_session *s = state;

	return !s->dir[d].done;
}

static void tls_an_free(void *state)
{
	tls_session_free(state);
}

const struct analyser analyser_tls = {
	.name = "tls",
	.state_size = sizeof(struct tls_session),
	.probe = tls_probe,
	.role = tls_role,
	.init = tls_an_init,
	.feed = tls_an_feed,
	.decided = tls_an_decided,
	.seen = tls_an_seen,
	.wants = tls_an_wants,
	.free = tls_an_free,
};
