/*
 * quic.c - the QUIC packet layer of one connection (the contract is
 * include/transport/quic.h): headers, header protection, packets opened,
 * frames, CRYPTO data placed by offset.
 *
 * Every byte of a datagram is read through core/buf.h's bounded cursor;
 * a short or lying field is an ordinary outcome, counted.  Packet
 * protection is secrets/quic_keys.c's; this file never sees a cipher.
 *
 * Must not: interpret the CRYPTO bytes (the TLS analyser does) or keep a
 * pointer into a datagram after the call.
 */
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/stats.h"
#include "secrets/tls13.h"
#include "transport/quic.h"

#define INITIAL_SUITE    0x1301u   /* RFC 9001 §5.2 */
#define PN_SAMPLE_SKIP   4u        /* §5.4.2: the sample starts 4 bytes after the packet number's start */
#define LONG_RESERVED    0x0cu     /* RFC 9000 §17.2: reserved bits, 0 once unprotected */
#define LONG_HP_BITS     0x0fu     /* RFC 9001 §5.4.1: bits protected in a long header */
#define STREAM_MIN_CAP   4096u     /* first allocation of a CRYPTO stream */

/* Frame types read in Initial and Handshake packets (RFC 9000 §12.4). */
#define FT_PADDING       0x00u
#define FT_PING          0x01u
#define FT_ACK           0x02u
#define FT_ACK_ECN       0x03u
#define FT_CRYPTO        0x06u
#define FT_CLOSE         0x1cu
#define FT_CLOSE_APP     0x1du

/* Opening a packet: the unprotected header, then the plaintext, in one
 * per-thread buffer (a packet is at most a datagram), so that nothing is
 * allocated per packet and nothing is shared between workers. */
static _Thread_local uint8_t scratch[QUIC_MAX_DATAGRAM];

/* ---- bounded readers ------------------------------------------------ */

static int buf_varint(struct buf *b, uint64_t *v, unsigned *enc)
{
	uint8_t first, x;
	unsigned n;
	uint64_t val;

	if (buf_left(b) < 1)
		return -1;
	first = buf_ptr(b)[0];
	n = 1u << (first >> 6);   /* RFC 9000 §16: 1, 2, 4 or 8 bytes */
	if (buf_left(b) < n)
		return -1;
	(void)buf_u8(b, &x);
	val = x & 0x3fu;
	for (unsigned i = 1; i < n; i++) {
		(void)buf_u8(b, &x);
		val = val << 8 | x;
	}
	*v = val;
	if (enc)
		*enc = n;
	return 0;
}

int quic_varint(const uint8_t *buf, size_t len, uint64_t *v)
{
	struct buf b;
	unsigned n;

	buf_init(&b, buf, len);
	if (buf_varint(&b, v, &n) < 0)
		return QUIC_E_TRUNC;
	return (int)n;
}

/* RFC 9000 §12.4: a frame type is encoded in the fewest bytes. */
static int varint_minimal(uint64_t v, unsigned n)
{
	switch (n) {
	case 1: return 1;
	case 2: return v >= 64;
	case 4: return v >= 16384;
	default: return v >= (UINT64_C(1) << 30);
	}
}

/* ---- headers -------------------------------------------------------- */

/* RFC 9000 §17.2 (v1) and RFC 9369 §3.2 (v2): the two type bits. */
static enum quic_ptype long_type(uint32_t version, unsigned bits)
{
	static const enum quic_ptype v1[4] = { QUIC_PT_INITIAL, QUIC_PT_0RTT, QUIC_PT_HANDSHAKE,
	                                       QUIC_PT_RETRY };
	static const enum quic_ptype v2[4] = { QUIC_PT_RETRY, QUIC_PT_INITIAL, QUIC_PT_0RTT,
	                                       QUIC_PT_HANDSHAKE };

	return version == QUIC_V2 ? v2[bits & 3u] : v1[bits & 3u];
}

int quic_parse_header(const uint8_t *buf, size_t len, struct quic_hdr *h)
{
	struct buf b;
	uint8_t first, dl, sl;
	uint64_t v;

	memset(h, 0, sizeof *h);
	if (len > QUIC_MAX_DATAGRAM)
		return QUIC_E_FORMAT;
	buf_init(&b, buf, len);
	if (buf_u8(&b, &first) < 0)
		return QUIC_E_TRUNC;
	h->first = first;
	/* The fixed bit (0x40) is not checked: RFC 9287 lets endpoints that
	 * negotiated it clear it on any packet, Initial packets included. */
	if (!(first & 0x80)) {
		/* RFC 9000 §17.3: a short header runs to the end of the
		 * datagram; its DCID length is known only to the endpoints. */
		h->type = QUIC_PT_SHORT;
		h->len = len;
		return (int)len;
	}
	/* RFC 8999 §5.1: version, then DCID and SCID of up to 255 bytes
	 * each, in every version. */
	if (buf_be32(&b, &h->version) < 0 || buf_u8(&b, &dl) < 0 ||
	    buf_bytes(&b, dl, &h->dcid) < 0 || buf_u8(&b, &sl) < 0 ||
	    buf_bytes(&b, sl, &h->scid) < 0)
		return QUIC_E_TRUNC;
	h->dcid_len = dl;
	h->scid_len = sl;
	h->len = len;
	if (h->version == 0) {
		/* RFC 9000 §17.2.1: the rest is a list of 32-bit versions. */
		h->type = QUIC_PT_VN;
		h->versions = buf_ptr(&b);
		h->versions_len = buf_left(&b);
		if (h->versions_len == 0 || h->versions_len % 4 != 0)
			return QUIC_E_FORMAT;
		return (int)len;
	}
	if (!quic_version_supported(h->version)) {
		/* Past the CIDs the format is the version's: the rest of the
		 * datagram cannot be split. */
		h->type = QUIC_PT_UNKNOWN;
		return (int)len;
	}
	if (dl > QUIC_MAX_CID || sl > QUIC_MAX_CID)
		return QUIC_E_FORMAT;
	h->type = long_type(h->version, (unsigned)(first >> 4) & 3u);
	if (h->type == QUIC_PT_RETRY) {
		/* RFC 9000 §17.2.5: the token is what lies between the SCID
		 * and the 16-byte tag at the end of the datagram. */
		if (buf_left(&b) < QUIC_TAG_LEN)
			return QUIC_E_TRUNC;
		h->token = buf_ptr(&b);
		h->token_len = buf_left(&b) - QUIC_TAG_LEN;
		h->retry_tag = h->token + h->token_len;
		return (int)len;
	}
	if (h->type == QUIC_PT_INITIAL) {
		if (buf_varint(&b, &v, NULL) < 0)
			return QUIC_E_TRUNC;
		if (v > buf_left(&b))
			return QUIC_E_TRUNC;
		h->token_len = (size_t)v;
		(void)buf_bytes(&b, h->token_len, &h->token);
	}
	/* The Length field covers the packet number and the payload. */
	if (buf_varint(&b, &v, NULL) < 0)
		return QUIC_E_TRUNC;
	if (v > buf_left(&b))
		return QUIC_E_TRUNC;
	h->pn_off = b.off;
	h->len = b.off + (size_t)v;
	return (int)h->len;
}

uint64_t quic_decode_pn(uint64_t largest, int have_largest, uint64_t truncated,
                        unsigned pn_nbits)
{
	uint64_t expected = have_largest ? largest + 1 : 0;
	uint64_t win = UINT64_C(1) << pn_nbits, hwin = win / 2, mask = win - 1;
	uint64_t cand = (expected & ~mask) | truncated;

	/* RFC 9000 Appendix A.3, with its signed comparisons written so that
	 * nothing wraps below 0. */
	if (expected >= hwin && cand <= expected - hwin && cand < (UINT64_C(1) << 62) - win)
		return cand + win;
	if (cand > expected + hwin && cand >= win)
		return cand - win;
	return cand;
}

/* ---- CRYPTO streams ------------------------------------------------- */

static int mem_take(struct quic_conn *c, size_t n)
{
	const struct cs_limits *lim = c->lim;

	if (n > lim->flow_memcap || c->flow_bytes > lim->flow_memcap - n) {
		g_stats.reasm_flow_memcap++;
		return -1;
	}
	if (g_stats.mem_in_use + n > lim->total_memcap) {
		g_stats.reasm_total_memcap++;
		return -1;
	}
	c->flow_bytes += n;
	stats_mem_add(n);
	return 0;
}

static void stream_reset(struct quic_conn *c, struct quic_crypto *s)
{
	if (s->buf) {
		c->flow_bytes -= s->cap;
		stats_mem_sub(s->cap);
		free(s->buf);
	}
	memset(s, 0, sizeof *s);
}

/* Room for bytes [0, end) of the stream; end <= quic_crypto_max. */
static int stream_grow(struct quic_conn *c, struct quic_crypto *s, uint64_t end)
{
	size_t ncap;
	uint8_t *nb;

	if (end <= s->cap)
		return 0;
	/* Doubling, never past the stream's byte limit (end is within it:
	 * quic_crypto_add checked). */
	ncap = s->cap ? s->cap : STREAM_MIN_CAP;
	while (ncap < end && ncap <= c->lim->quic_crypto_max / 2)
		ncap *= 2;
	if (ncap > c->lim->quic_crypto_max)
		ncap = c->lim->quic_crypto_max;
	if (ncap < end)
		ncap = (size_t)end;
	if (mem_take(c, ncap - s->cap) < 0)
		return -1;
	nb = realloc(s->buf, ncap);   /* owned by the stream; stream_reset frees it */
	if (!nb) {
		c->flow_bytes -= ncap - s->cap;
		stats_mem_sub(ncap - s->cap);
		return -1;
	}
	s->buf = nb;
	s->cap = ncap;
	return 0;
}

static void stream_stop(struct quic_conn *c, struct quic_crypto *s)
{
	(void)c;
	/* The buffer stays: bytes already in order may still be pending. */
	s->state = QUIC_CRYPTO_STOPPED;
}

long quic_crypto_add(struct quic_conn *c, enum quic_dir dir, enum quic_space space, uint64_t off,
                     const uint8_t *data, size_t len)
{
	struct quic_crypto *s = &c->crypto[space][dir];
	struct quic_range tmp[CS_QUIC_CRYPTO_RANGES + 1];
	uint64_t end, nl, nh, pos, old_contig = s->contig;
	unsigned n = 0, i, absorbed;
	int overlap = 0, differ = 0;

	if (s->state != QUIC_CRYPTO_ACTIVE)
		return -1;
	if (len == 0)
		return 0;
	/* RFC 9000 §19.6: offset + length is below 2^62 (the frame parser
	 * refuses more; this entry point checks for itself). */
	if (off > QUIC_VARINT_MAX || len > QUIC_VARINT_MAX - off)
		return -1;
	end = off + len;
	if (end > s->contig) {
		if (end > c->lim->quic_crypto_max) {
			g_stats.quic_crypto_max_limit++;
			stream_stop(c, s);
			return -1;
		}
		if (end - s->contig > c->lim->quic_crypto_gap) {
			g_stats.quic_crypto_gap_limit++;
			s->gap_refused++;
			return -1;
		}
		/* The held pieces after [max(off, contig), end) is merged in:
		 * a frame that would leave too many apart is refused before
		 * anything changes. */
		nl = off > s->contig ? off : s->contig;
		nh = end;
		for (i = 0; i < s->n_held; i++) {
			const struct quic_range *r = &s->held[i];

			if (r->hi < nl)
				tmp[n++] = *r;
			else if (r->lo > nh)
				break;
			else {
				if (r->lo < nl)
					nl = r->lo;
				if (r->hi > nh)
					nh = r->hi;
			}
		}
		tmp[n].lo = nl;
		tmp[n].hi = nh;
		n++;
		for (; i < s->n_held; i++)
			tmp[n++] = s->held[i];
		absorbed = tmp[0].lo <= s->contig;
		if (n - absorbed > CS_QUIC_CRYPTO_RANGES) {
			g_stats.quic_crypto_ranges_limit++;
			s->gap_refused++;
			return -1;
		}
		if (stream_grow(c, s, end) < 0) {
			stream_stop(c, s);
			return -1;
		}
	}
	/* Walk [off, end): bytes held are compared (the first copy wins),
	 * bytes not held are copied.  Held = [0, contig) and held[]. */
	pos = off;
	i = 0;
	while (pos < end) {
		uint64_t lo, hi, seg_end;

		/* The held piece at or after pos: [0, contig), or held[i]. */
		if (pos < s->contig) {
			lo = 0;
			hi = s->contig;
		} else {
			while (i < s->n_held && s->held[i].hi <= pos)
				i++;
			lo = i < s->n_held ? s->held[i].lo : UINT64_MAX;
			hi = i < s->n_held ? s->held[i].hi : UINT64_MAX;
		}
		if (pos >= lo) {
			seg_end = hi < end ? hi : end;
			overlap = 1;
			if (memcmp(s->buf + pos, data + (pos - off), (size_t)(seg_end - pos)) != 0)
				differ = 1;
		} else {
			seg_end = lo < end ? lo : end;
			memcpy(s->buf + pos, data + (pos - off), (size_t)(seg_end - pos));
		}
		pos = seg_end;
	}
	if (overlap)
		g_stats.quic_crypto_overlap++;
	if (differ) {
		g_stats.quic_crypto_overlap_diff++;
		s->diff |= QUIC_DIFF;
	}
	if (end > old_contig) {
		absorbed = tmp[0].lo <= s->contig;
		if (absorbed) {
			s->contig = tmp[0].hi;
			memcpy(s->held, tmp + 1, (n - 1) * sizeof tmp[0]);
			s->n_held = n - 1;
		} else {
			memcpy(s->held, tmp, n * sizeof tmp[0]);
			s->n_held = n;
		}
	}
	return (long)(s->contig - old_contig);
}

size_t quic_crypto_pending(const struct quic_conn *c, enum quic_dir dir, enum quic_space space,
                           const uint8_t **p)
{
	const struct quic_crypto *s = &c->crypto[space][dir];

	*p = s->buf ? s->buf + s->consumed : NULL;
	return (size_t)(s->contig - s->consumed);
}

void quic_crypto_consume(struct quic_conn *c, enum quic_dir dir, enum quic_space space,
                         size_t n)
{
	struct quic_crypto *s = &c->crypto[space][dir];

	/* Consuming more than is pending is a caller's bug. */
	if (n > s->contig - s->consumed)
		abort();
	s->consumed += n;
}

/* ---- the connection ------------------------------------------------- */

void quic_conn_init(struct quic_conn *c, const struct cs_limits *lim, quic_crypto_fn on_crypto,
                    void *arg)
{
	memset(c, 0, sizeof *c);
	c->lim = lim;
	c->on_crypto = on_crypto;
	c->on_crypto_arg = arg;
}

void quic_conn_free(struct quic_conn *c)
{
	for (unsigned sp = 0; sp < QUIC_SPACE_N; sp++)
		for (unsigned d = 0; d < QUIC_DIR_N; d++) {
			stream_reset(c, &c->crypto[sp][d]);
			quic_keys_free(&c->keys[sp][d]);
		}
	memset(c->secret, 0, sizeof c->secret);
	memset(c->secret_len, 0, sizeof c->secret_len);
	c->flow_bytes = 0;
}

int quic_conn_set_keys(struct quic_conn *c, enum quic_space space, enum quic_dir dir,
                       uint16_t suite, const uint8_t *secret, size_t secret_len)
{
	size_t want;

	if (space != QUIC_SPACE_HANDSHAKE || (unsigned)dir >= QUIC_DIR_N)
		return -1;
	if (!tls13_suite_supported(suite, &want) || secret_len != want ||
	    secret_len > QUIC_SECRET_MAX)
		return -1;
	memcpy(c->secret[space][dir], secret, secret_len);
	c->secret_len[space][dir] = secret_len;
	c->suite[space][dir] = suite;
	c->keys[space][dir].ready = 0;   /* derived again for the next packet */
	return 0;
}

/* The keys that open a packet of this space, sender and version, derived
 * when the version changed (compatible negotiation), or NULL. */
static struct quic_keys *keys_for(struct quic_conn *c, enum quic_space sp, enum quic_dir d,
                                  uint32_t version, unsigned *ev)
{
	struct quic_keys *k = &c->keys[sp][d];
	uint8_t cs[32], ss[32];
	int rc;

	if (k->ready && k->version == version)
		return k;
	if (sp == QUIC_SPACE_INITIAL) {
		if (!c->have_dcid)
			return NULL;
		rc = quic_initial_secrets(version, c->dcid, c->dcid_len, cs, ss);
		if (rc == 0)
			rc = quic_keys_init(k, version, INITIAL_SUITE, d == QUIC_DIR_CLIENT ? cs : ss,
			                    sizeof cs);
		memset(cs, 0, sizeof cs);
		memset(ss, 0, sizeof ss);
		if (rc < 0)
			return NULL;
		*ev |= QUIC_EV_INITIAL_KEYS;
		return k;
	}
	if (!c->secret_len[sp][d])
		return NULL;
	if (quic_keys_init(k, version, c->suite[sp][d], c->secret[sp][d], c->secret_len[sp][d]) < 0)
		return NULL;
	return k;
}

static void set_dcid(struct quic_conn *c, const struct quic_hdr *h)
{
	memcpy(c->odcid, h->dcid, h->dcid_len);
	c->odcid_len = h->dcid_len;
	memcpy(c->dcid, h->dcid, h->dcid_len);
	c->dcid_len = h->dcid_len;
	c->have_dcid = 1;
	c->version = h->version;
	for (unsigned d = 0; d < QUIC_DIR_N; d++)
		c->keys[QUIC_SPACE_INITIAL][d].ready = 0;
}

/* After Version Negotiation the client starts a new connection attempt
 * (RFC 9000 §6.2): streams, packet numbers and keys start again. */
static void restart(struct quic_conn *c, const struct quic_hdr *h)
{
	for (unsigned sp = 0; sp < QUIC_SPACE_N; sp++)
		for (unsigned d = 0; d < QUIC_DIR_N; d++) {
			stream_reset(c, &c->crypto[sp][d]);
			c->keys[sp][d].ready = 0;
			c->have_pn[sp][d] = 0;
		}
	c->retried = 0;
	c->vn_from = 0;
	c->negotiated = 0;
	set_dcid(c, h);
}

/* RFC 9001 §5.8, RFC 9000 §17.2.5.2: a Retry counts when the client has
 * sent an Initial, none came before, its version is the client's and its
 * tag verifies over the DCID the client used. */
static void retry(struct quic_conn *c, const uint8_t *pkt, const struct quic_hdr *h,
                  unsigned *ev)
{
	uint8_t tag[QUIC_TAG_LEN];

	if (!c->have_dcid || c->retried || h->version != c->version ||
	    quic_retry_tag(h->version, c->dcid, c->dcid_len, pkt, h->len - QUIC_TAG_LEN, tag) < 0 ||
	    memcmp(tag, h->retry_tag, QUIC_TAG_LEN) != 0) {
		g_stats.quic_retry_ignored++;
		return;
	}
	g_stats.quic_retry++;
	c->retried = 1;
	memcpy(c->dcid, h->scid, h->scid_len);
	c->dcid_len = h->scid_len;
	/* The client sends its ClientHello again, from offset 0, under
	 * keys from the new DCID; packet numbers go on (§17.2.5.3). */
	for (unsigned d = 0; d < QUIC_DIR_N; d++) {
		stream_reset(c, &c->crypto[QUIC_SPACE_INITIAL][d]);
		c->keys[QUIC_SPACE_INITIAL][d].ready = 0;
	}
	*ev |= QUIC_EV_RETRY;
}

static void version_negotiation(struct quic_conn *c, const struct quic_hdr *h, unsigned *ev)
{
	struct buf b;
	uint32_t v;

	g_stats.quic_vn++;
	*ev |= QUIC_EV_VN;
	if (!c->have_dcid)
		return;
	/* RFC 9000 §6.2: a list naming the client's own version is
	 * discarded; so is one after the client got other packets (not
	 * checked here: a later Initial in another version is what counts). */
	buf_init(&b, h->versions, h->versions_len);
	while (buf_be32(&b, &v) == 0)
		if (v == c->version)
			return;
	c->vn_from = c->version;
}

/* RFC 9000 §19.3: every range of an ACK lies at or above 0. */
static int read_ack(struct buf *b, int ecn)
{
	uint64_t largest, delay, count, first, gap, rlen, smallest;

	if (buf_varint(b, &largest, NULL) < 0 || buf_varint(b, &delay, NULL) < 0 ||
	    buf_varint(b, &count, NULL) < 0 || buf_varint(b, &first, NULL) < 0)
		return -1;
	if (first > largest)
		return -1;
	smallest = largest - first;
	/* count is bounded by the bytes left: each range takes two. */
	for (uint64_t i = 0; i < count; i++) {
		if (buf_varint(b, &gap, NULL) < 0 || buf_varint(b, &rlen, NULL) < 0)
			return -1;
		/* §19.3.1: largest = previous smallest - gap - 2. */
		if (smallest < 2 || gap > smallest - 2)
			return -1;
		largest = smallest - gap - 2;
		if (rlen > largest)
			return -1;
		smallest = largest - rlen;
	}
	if (ecn) {
		uint64_t e;

		for (int j = 0; j < 3; j++)
			if (buf_varint(b, &e, NULL) < 0)
				return -1;
	}
	return 0;
}

/* The frames of an opened packet.  Returns 1 when CRYPTO data came in
 * order, 0 otherwise; a malformed or forbidden frame ends the reading
 * (counted). */
static int read_frames(struct quic_conn *c, enum quic_dir d, enum quic_space sp,
                       const uint8_t *p, size_t n, unsigned *ev)
{
	struct buf b;
	int got = 0;

	buf_init(&b, p, n);
	while (buf_left(&b) > 0) {
		uint64_t type, a, l, code;
		unsigned enc;
		const uint8_t *data;

		if (buf_varint(&b, &type, &enc) < 0 || !varint_minimal(type, enc))
			goto bad;
		switch (type) {
		case FT_PADDING:
		case FT_PING:
			break;
		case FT_ACK:
		case FT_ACK_ECN:
			if (read_ack(&b, type == FT_ACK_ECN) < 0)
				goto bad;
			break;
		case FT_CRYPTO:
			if (buf_varint(&b, &a, NULL) < 0 || buf_varint(&b, &l, NULL) < 0 ||
			    l > buf_left(&b) || a > QUIC_VARINT_MAX - l)
				goto bad;
			(void)buf_bytes(&b, (size_t)l, &data);
			if (quic_crypto_add(c, d, sp, a, data, (size_t)l) > 0)
				got = 1;
			break;
		case FT_CLOSE:
		case FT_CLOSE_APP:
			/* §19.19; 0x1c carries the frame type that caused it.
			 * RFC 9000 §12.5 keeps 0x1d to 1-RTT packets, but a
			 * passive reader records a close whichever it is. */
			if (buf_varint(&b, &code, NULL) < 0 ||
			    (type == FT_CLOSE && buf_varint(&b, &a, NULL) < 0) ||
			    buf_varint(&b, &l, NULL) < 0 || l > buf_left(&b))
				goto bad;
			(void)buf_skip(&b, (size_t)l);
			if (!(c->events & QUIC_EV_CLOSE))
				c->close_error = code;
			*ev |= QUIC_EV_CLOSE;
			break;
		default:
			/* Table 3: nothing else is allowed in these spaces. */
			goto bad;
		}
	}
	return got;
bad:
	g_stats.quic_frames_malformed++;
	*ev |= QUIC_EV_MALFORMED;
	return got;
}

/* An Initial or Handshake packet: header protection off, payload opened,
 * frames read. */
static void protected_packet(struct quic_conn *c, enum quic_dir d, const uint8_t *pkt,
                             const struct quic_hdr *h, struct quic_pkt_info *pi, unsigned *ev)
{
	enum quic_space sp = h->type == QUIC_PT_INITIAL ? QUIC_SPACE_INITIAL : QUIC_SPACE_HANDSHAKE;
	uint8_t mask[QUIC_HP_MASK_LEN], first;
	struct quic_keys *k;
	size_t pn_len, hdr_len;
	uint64_t tpn = 0, pn;
	int n;

	if (d == QUIC_DIR_CLIENT && h->type == QUIC_PT_INITIAL) {
		if (!c->have_dcid) {
			set_dcid(c, h);
		} else if (c->vn_from && h->version != c->vn_from) {
			restart(c, h);
			*ev |= QUIC_EV_RESTART;
		}
	}
	k = keys_for(c, sp, d, h->version, ev);
	if (!k) {
		g_stats.quic_pkt_no_key++;
		*ev |= QUIC_EV_NO_KEY;
		return;
	}
	/* RFC 9001 §5.4.2: the sample is the 16 bytes 4 after the packet
	 * number's start; a packet too short for it cannot be opened. */
	if (h->len - h->pn_off < PN_SAMPLE_SKIP + QUIC_HP_SAMPLE_LEN ||
	    quic_hp_mask(k, pkt + h->pn_off + PN_SAMPLE_SKIP, mask) < 0) {
		g_stats.quic_pkt_malformed++;
		*ev |= QUIC_EV_MALFORMED;
		return;
	}
	first = (uint8_t)(h->first ^ (mask[0] & LONG_HP_BITS));
	pn_len = (size_t)(first & 3u) + 1;
	hdr_len = h->pn_off + pn_len;
	/* The unprotected header is the AAD: copied, then unmasked. */
	memcpy(scratch, pkt, hdr_len);
	scratch[0] = first;
	for (size_t i = 0; i < pn_len; i++) {
		scratch[h->pn_off + i] ^= mask[1 + i];
		tpn = tpn << 8 | scratch[h->pn_off + i];
	}
	pn = quic_decode_pn(c->largest_pn[sp][d], c->have_pn[sp][d], tpn, (unsigned)(8 * pn_len));
	n = quic_open(k, pn, scratch, hdr_len, pkt + hdr_len, h->len - hdr_len, scratch + hdr_len,
	              sizeof scratch - hdr_len);
	if (n < 0) {
		if (n == QUIC_KEYS_ERR_FORMAT) {
			g_stats.quic_pkt_malformed++;
			*ev |= QUIC_EV_MALFORMED;
		} else {
			g_stats.quic_pkt_auth_fail++;
			*ev |= QUIC_EV_AUTH_FAIL;
		}
		pi->opened = -1;
		return;
	}
	g_stats.quic_pkt_opened++;
	pi->opened = 1;
	pi->pn = pn;
	/* Only an authentic packet says which version the server chose. */
	if (d == QUIC_DIR_SERVER && !c->negotiated)
		c->negotiated = h->version;
	if (!c->have_pn[sp][d] || pn > c->largest_pn[sp][d]) {
		c->largest_pn[sp][d] = pn;
		c->have_pn[sp][d] = 1;
	}
	/* RFC 9000 §17.2: reserved bits set in an authentic packet are a
	 * protocol violation; its frames are not read. */
	if (first & LONG_RESERVED) {
		g_stats.quic_frames_malformed++;
		*ev |= QUIC_EV_MALFORMED;
		return;
	}
	if (read_frames(c, d, sp, scratch + hdr_len, (size_t)n, ev)) {
		*ev |= QUIC_EV_CRYPTO;
		if (c->on_crypto)
			c->on_crypto(c->on_crypto_arg, c, d, sp);
	}
}

static int all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

int quic_pkt_control_only(const struct quic_pkt_info *pi)
{
	return pi->protected_len > 0 && pi->protected_len <= QUIC_CONTROL_ONLY_MAX;
}

int quic_datagram(struct quic_conn *c, enum quic_dir dir, const uint8_t *buf, size_t len,
                  struct quic_dgram_result *res)
{
	struct quic_pkt_info spare;
	unsigned ev = 0, n = 0;
	size_t off = 0;

	if (res)
		memset(res, 0, sizeof *res);
	while (off < len) {
		struct quic_pkt_info *pi = res ? &res->pkts[n] : &spare;
		struct quic_hdr h;
		const uint8_t *pkt = buf + off;
		int rc;

		if (n == CS_QUIC_MAX_COALESCED) {
			g_stats.quic_coalesced_limit++;
			break;
		}
		/* Zero bytes after a packet pad the datagram (some stacks pad
		 * the client's first datagram to 1200 bytes this way). */
		if (off > 0 && all_zero(pkt, len - off))
			break;
		rc = quic_parse_header(pkt, len - off, &h);
		if (rc <= 0) {
			g_stats.quic_pkt_malformed++;
			ev |= QUIC_EV_MALFORMED;
			break;
		}
		memset(pi, 0, sizeof *pi);
		pi->type = h.type;
		pi->version = h.version;
		pi->len = (size_t)rc;
		if (h.pn_off)
			pi->protected_len = pi->len - h.pn_off;
		n++;
		switch (h.type) {
		case QUIC_PT_INITIAL:
		case QUIC_PT_HANDSHAKE:
			protected_packet(c, dir, pkt, &h, pi, &ev);
			break;
		case QUIC_PT_RETRY:
			if (dir == QUIC_DIR_SERVER)
				retry(c, pkt, &h, &ev);
			else
				g_stats.quic_retry_ignored++;
			break;
		case QUIC_PT_VN:
			if (dir == QUIC_DIR_SERVER)
				version_negotiation(c, &h, &ev);
			else
				g_stats.quic_pkt_malformed++;
			break;
		case QUIC_PT_0RTT:
			g_stats.quic_pkt_not_read++;
			break;
		case QUIC_PT_SHORT:
			g_stats.quic_pkt_not_read++;
			ev |= QUIC_EV_SHORT;
			break;
		case QUIC_PT_UNKNOWN:
			g_stats.quic_pkt_unsupported++;
			break;
		}
		off += (size_t)rc;
	}
	if (res) {
		res->events = ev;
		res->n_pkts = n;
	}
	c->events |= ev;
	return (int)n;
}
