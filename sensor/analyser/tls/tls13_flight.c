/*
 * tls13_flight.c - the server's encrypted TLS 1.3 flight (RFC 8446 §2):
 * its records held until the key log's secret comes (tls_tls13_key),
 * decrypted in place (tls13.h) and their plaintext handed to the
 * handshake-message buffer (tls_handshake_feed), or only counted for the
 * fingerprint (tls_tls13_collect).  Buffers are the session's, charged to
 * the memcap.  Must not: parse a message itself, or look a key up.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "core/stats.h"
#include "secrets/tls13.h"
#include "tls_int.h"

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
void tls13_rec_action(struct tls_session *s)
{
	struct tls_dirstate *ds = &s->dir[TLS_SERVER];

	switch (ds->rec_type) {
	case CT_APPDATA:
		if (s->t13 == TLS13_OFF) {
			tls_malformed(s, "record: application data before the ServerHello that "
			          "follows a HelloRetryRequest");
			return;
		}
		if (ds->rec_left > TLS13_MAX_CIPHERTEXT || ds->rec_left < TLS13_TAG_LEN + 1) {
			tls_malformed(s, "TLS 1.3 record: not 17 to 2^14 + 256 bytes long");
			return;
		}
		tls_flight_count(s, ds->rec_left);
		if (s->t13 == TLS13_COLLECT)
			return;     /* counted, not kept */
		if (!s->rec) {
			s->rec = malloc(T13_REC_MAX);   /* owned by the session; t13_release */
			if (!s->rec) {
				tls_decide_why(s, TLS_DEC_LIMIT, "out of memory for a TLS 1.3 record");
				return;
			}
			t13_charge(s, T13_REC_MAX);
		}
		memcpy(s->rec, ds->hdr, REC_HDR_LEN);
		s->rec_len = REC_HDR_LEN;
		break;
	case CT_HANDSHAKE:
		if (s->t13 != TLS13_OFF)
			tls_malformed(s, "record: cleartext handshake after the TLS 1.3 ServerHello");
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
		tls_decide_why(s, TLS_DEC_ERROR, "TLS 1.3 server record %u failed authentication with "
		           "the key log's secret", nr);
		return;
	}
	if (n < 0) {
		s->t13_outcome = T13_FAILED;
		g_stats.tls_parse_err++;
		tls_decide_why(s, TLS_DEC_ERROR, "TLS 1.3 server record %u: %s", nr,
		           n == TLS13_ERR_FORMAT ? "malformed" : "decryption error");
		return;
	}
	s->t13_records = nr;
	g_stats.tls13_records++;
	switch (type) {
	case CT_HANDSHAKE:
		(void)tls_handshake_feed(s, TLS_SERVER, rec + REC_HDR_LEN, (size_t)n);
		break;
	case CT_ALERT:
		s->t13_outcome = T13_FAILED;
		tls_decide_why(s, TLS_DEC_ERROR, "server sent an encrypted alert");
		break;
	default:
		s->t13_outcome = T13_FAILED;
		g_stats.tls_parse_err++;
		tls_decide_why(s, TLS_DEC_ERROR, "TLS 1.3 server record %u: content type %u inside "
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
		tls_decide_why(s, TLS_DEC_LIMIT, "more than max_hs_msg %zu bytes of TLS 1.3 records "
		           "held while waiting for the key log", s->lim->max_hs_msg);
		return;
	}
	while (cap < s->pend_len + s->rec_len)
		cap *= 2;
	if (cap != s->pend_cap) {
		p = realloc(s->pend, cap);   /* owned by the session; t13_release */
		if (!p) {
			tls_decide_why(s, TLS_DEC_LIMIT, "out of memory holding TLS 1.3 records");
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
void tls13_rec_payload(struct tls_session *s, const uint8_t *p, size_t n, int last)
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
		tls_decide_why(s, TLS_DEC_ERROR, len != want ?
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

int tls_quic_keyed(struct tls_session *s)
{
	if (s->decision != TLS_UNDECIDED || s->t13 != TLS13_NEED_KEY)
		return s->decision != TLS_UNDECIDED ? TLS_DECIDED : TLS_MORE;
	/* No record keys: the transport opened the packets, and what it
	 * hands over (tls_handshake_feed) is already the plaintext flight. */
	s->t13 = TLS13_KEYED;
	return TLS_MORE;
}

void tls_flight_count(struct tls_session *s, size_t bytes)
{
	s->flight_records++;
	s->flight_bytes += bytes;
	if (bytes > s->flight_largest)
		s->flight_largest = bytes > UINT_MAX ? UINT_MAX : (unsigned)bytes;
}

void tls_tls13_collect(struct tls_session *s)
{
	if (s->decision != TLS_UNDECIDED || s->t13 != TLS13_NEED_KEY)
		return;
	tls_t13_release(s);
	s->t13 = TLS13_COLLECT;
}

void tls_tls13_no_key(struct tls_session *s, enum tls13_outcome why, const char *note)
{
	if (s->decision != TLS_UNDECIDED)
		return;
	tls_t13_unread(s, why, note);
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
	case T13_DECOMPRESS_FAILED: return "decompression-failed";
	case T13_PSK:         return "psk-resumed";
	case T13_FAILED:      return "decryption-failed";
	}
	return NULL;
}

/* What a record's type means at once, before its payload. */
