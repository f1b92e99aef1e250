/*
 * tls_msg.c - the handshake messages of the cleartext handshake (the
 * contract is include/analyser/tls.h; shared with the record layer in tls_int.h):
 * ClientHello (SNI, ALPN, versions, session id and ticket, JA3's views),
 * the SSLv2-format ClientHello, ServerHello and HelloRetryRequest,
 * Certificate (1.2 and 1.3), ServerHelloDone, and the messages of the
 * decrypted TLS 1.3 flight, CompressedCertificate among them (RFC 8879:
 * tls_certcomp.c decompresses, the result is read as a Certificate).  Each parser takes one complete message as
 * (const uint8_t *buf, size_t len) and reads it through buf.h; what it
 * keeps is copied into the session.  Must not: read records, hold
 * buffers of its own, or decrypt.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/stats.h"
#include "tls_int.h"

/* RFC 8446 §4.1.3: a HelloRetryRequest is a ServerHello with this random
 * (SHA-256 of "HelloRetryRequest"). */
static const uint8_t hrr_random[RANDOM_LEN] = {
	0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c,
	0x02, 0x1e, 0x65, 0xb8, 0x91, 0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb,
	0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
};

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

/* compress_certificate, RFC 8879 §3: CertificateCompressionAlgorithm
 * algorithms<2..2^8-2>, 2-byte values.  Each value below CERTCOMP_BITS is
 * kept as a bit: only those may compress the server's Certificate. */
static int ch_certcomp_parse(const uint8_t *buf, size_t len, struct tls_session *s)
{
	struct buf list;
	uint16_t v;

	if (vec_whole(buf, len, 1, &list) < 0 || buf_left(&list) < 2 || buf_left(&list) % 2 != 0)
		return -1;
	while (buf_be16(&list, &v) == 0)
		if (v < CERTCOMP_BITS)
			s->ch_certcomp = (uint8_t)(s->ch_certcomp | 1u << v);
	return 0;
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
		if (!tls_is_grease(v) && s->n_ch_versions < TLS_MAX_VERSIONS)
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
	case EXT_COMPRESS_CERTIFICATE:
		return ch_certcomp_parse(p, n, s);
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
	tls_ja3_make(&h, 1, &s->ja3, s->ja3_md5);
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
	tls_ja3_make(&h, 0, &s->ja3s, s->ja3s_md5);
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
	tls_ja3_make(&h, 1, &s->ja3, s->ja3_md5);
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
	tls_dir_release(&s->dir[TLS_CLIENT]);
}

/* Certificates encrypted and not going to be read: decided, and why. */
void tls_t13_unread(struct tls_session *s, enum tls13_outcome why, const char *note)
{
	s->t13_outcome = why;
	if (note)
		tls_decide_why(s, TLS_DEC_TLS13, "%s", note);
	else
		tls_decide(s, TLS_DEC_TLS13);
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
		tls_decide(s, TLS_DEC_RESUMED);
		return;
	}
	if (!s->t13_follow) {
		tls_t13_unread(s, T13_NOT_READ, NULL);
		return;
	}
	if (s->version != 0x0304 || !tls13_suite_supported(s->cipher, &secret_len)) {
		snprintf(note, sizeof note, "TLS 1.3 %s suite 0x%04x%s%s: not decrypted",
		         s->version != 0x0304 ? "draft" : "cipher", s->cipher,
		         tls13_suite_name(s->cipher) ? " " : "",
		         tls13_suite_name(s->cipher) ? tls13_suite_name(s->cipher) : "");
		tls_t13_unread(s, T13_UNSUPPORTED, note);
		return;
	}
	if (!s->ch_seen) {
		/* Within struct tls_session.error (96 bytes): a longer note
		 * is cut mid-word in the event. */
		tls_t13_unread(s, T13_NO_RANDOM, "TLS 1.3: ClientHello not seen (capture started "
		           "mid-connection): no key log entry can match");
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
		tls_malformed(s, "ServerHello");
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
			tls_malformed(s, "second HelloRetryRequest");
		} else {
			tls_t13_unread(s, T13_NOT_READ, NULL);
		}
	} else if (tls_is_tls13(s->version)) {
		on_server_hello13(s);
	} else if (s->hrr) {
		tls_malformed(s, "ServerHello after a HelloRetryRequest");
	} else if (s->sh_sid_len > 0 && s->sh_sid_len == s->ch_sid_len &&
	           memcmp(s->sh_sid, s->ch_sid, s->sh_sid_len) == 0) {
		/* RFC 5246 §7.4.1.3: the same id means the session resumes. */
		s->resumed = 1;
		tls_decide(s, TLS_DEC_RESUMED);
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
		tls_decide(s, TLS_DEC_CERTS);
	} else if (s->n_certs > 0) {
		/* Malformed, but certificates were recovered: the policy
		 * judges them (an unparsable leaf cannot be approved), and the
		 * error is reported with them. */
		g_stats.tls_parse_err++;
		tls_decide_why(s, TLS_DEC_CERTS, "malformed Certificate message");
	} else {
		tls_malformed(s, "Certificate");
	}
}

/* A CompressedCertificate that cannot be read: counted (tls_parse_err and
 * its own row, by the caller), decided, and why in error (for the event's
 * note). */
static void certcomp_fail(struct tls_session *s, enum tls_decision d, const char *why)
{
	s->t13_outcome = T13_DECOMPRESS_FAILED;
	tls_decide_why(s, d, "CompressedCertificate (%s): %s", tls_certcomp_name(s->certcomp_alg),
	               why);
}

/* CompressedCertificate body, RFC 8879 §4: algorithm (2 bytes),
 * uncompressed_length (3), compressed_certificate_message<1..2^24-1>.
 * Decompressed, it is the Certificate message's body (RFC 8446 §4.4.2),
 * read by cert13_parse with the Certificate's limits: the same path, the
 * same report.  RFC 8879 §4-5: only an algorithm the client offered is
 * acceptable, and a length other than uncompressed_length is an error
 * (bad_certificate). */
static void on_compressed_cert(struct tls_session *s, const uint8_t *buf, size_t len)
{
	struct buf b, comp;
	uint16_t alg = 0;
	uint32_t ulen, clen;
	uint8_t *plain;
	enum certcomp_rc rc;
	char why[96];

	buf_init(&b, buf, len);
	if (buf_be16(&b, &alg) < 0 || buf_be24(&b, &ulen) < 0 || buf_be24(&b, &clen) < 0 ||
	    clen == 0 || clen != buf_left(&b) || buf_sub(&b, clen, &comp) < 0) {
		g_stats.tls_parse_err++;
		g_stats.tls_certcomp_corrupt++;
		s->certcomp_alg = alg;
		certcomp_fail(s, TLS_DEC_ERROR, "malformed message");
		return;
	}
	s->certcomp_alg = alg;
	if (alg >= CERTCOMP_BITS || !(s->ch_certcomp & 1u << alg)) {
		g_stats.tls_parse_err++;
		g_stats.tls_certcomp_not_offered++;
		snprintf(why, sizeof why, "algorithm %u not offered in the ClientHello", alg);
		certcomp_fail(s, TLS_DEC_ERROR, why);
		return;
	}
	/* Before anything is allocated: the expansion a peer may ask of us is
	 * the limit of any handshake message (hs_header's). */
	if (ulen > s->lim->max_hs_msg) {
		g_stats.tls_certcomp_bomb++;
		g_stats.tls_hs_too_big++;
		snprintf(why, sizeof why, "uncompressed_length %u exceeds max_hs_msg %zu",
		         (unsigned)ulen, s->lim->max_hs_msg);
		certcomp_fail(s, TLS_DEC_LIMIT, why);
		return;
	}
	/* RFC 8446 §4.4.2: context length and list length, 4 bytes at least;
	 * zero would also be a malloc(0). */
	if (ulen < 4) {
		g_stats.tls_parse_err++;
		g_stats.tls_certcomp_length++;
		snprintf(why, sizeof why, "uncompressed_length %u is no Certificate", (unsigned)ulen);
		certcomp_fail(s, TLS_DEC_ERROR, why);
		return;
	}
	/* Owned here, freed below: cert_keep copies each DER out of it.
	 * Charged to the memcap's gauge while it lives. */
	plain = malloc(ulen);
	if (!plain) {
		certcomp_fail(s, TLS_DEC_LIMIT, "out of memory");
		return;
	}
	stats_mem_add(ulen);
	rc = tls_certcomp_decompress(alg, buf_ptr(&comp), clen, ulen, plain);
	if (rc != CERTCOMP_OK) {
		if (rc == CERTCOMP_MEMORY) {
			g_stats.tls_certcomp_bomb++;
		} else {
			g_stats.tls_parse_err++;
			if (rc == CERTCOMP_LONGER || rc == CERTCOMP_SHORTER)
				g_stats.tls_certcomp_length++;
			else
				g_stats.tls_certcomp_corrupt++;
		}
		certcomp_fail(s, rc == CERTCOMP_MEMORY ? TLS_DEC_LIMIT : TLS_DEC_ERROR,
		              tls_certcomp_rc_text(rc));
		goto out;
	}
	g_stats.tls_certcomp[alg - 1]++;
	s->t13_outcome = T13_DECRYPTED;
	cert_decided(s, cert13_parse(plain, ulen, s));
	if (s->decision != TLS_DEC_CERTS)
		s->t13_outcome = T13_FAILED;
out:
	stats_mem_sub(ulen);
	free(plain);
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
		on_compressed_cert(s, body, len);
		break;
	case HS_FINISHED:
		/* The flight ended without a Certificate: a PSK handshake the
		 * ServerHello did not show, or an anonymous one. */
		s->t13_outcome = T13_DECRYPTED;
		tls_decide(s, TLS_DEC_NO_CERT);
		break;
	case HS_ENCRYPTED_EXTENSIONS:
	case HS_CERTIFICATE_REQUEST:
	case HS_CERTIFICATE_VERIFY:
		break;
	default:
		s->t13_outcome = T13_FAILED;
		tls_decide_why(s, TLS_DEC_ERROR, "unexpected message %u in the server's encrypted "
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
		tls_decide(s, TLS_DEC_NO_CERT);
		break;
	default:
		/* ServerKeyExchange, CertificateRequest, CertificateStatus,
		 * NewSessionTicket, HelloRequest: nothing needed from them. */
		break;
	}
}

/* A complete message is in ds->msg[0..msg_need). */
void tls_on_message(struct tls_session *s, enum tls_dir d)
{
	struct tls_dirstate *ds = &s->dir[d];
	struct buf b;
	uint8_t type;

	buf_init(&b, ds->msg, ds->msg_need);
	if (ds->rec_type == CT_SSLV2_HELLO) {
		if (v2_hello_parse(ds->msg, ds->msg_need, s) < 0) {
			tls_malformed(s, "SSLv2 ClientHello");
			return;
		}
		ds->done = 1;
		tls_dir_release(ds);
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
