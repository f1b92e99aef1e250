/*
 * tls.h - streaming parser for the cleartext part of a TLS handshake.
 *
 * A transport hands each direction's bytes in order, in pieces of any
 * size (one byte at a time must give the same result as all at once):
 * TCP its stream of records to tls_feed, which reassembles records (RFC
 * 5246 §6.2.1, RFC 8446 §5.1) and hands their handshake payload to
 * tls_handshake_feed; a transport without records (QUIC's CRYPTO stream)
 * calls tls_handshake_feed itself.  That layer reassembles handshake
 * messages (a message split over several records or calls, several
 * messages in one), and extracts:
 *   ClientHello: SNI, ALPN, offered versions, session id, JA3
 *   ServerHello: negotiated version (supported_versions, RFC 8446 §4.2.1),
 *                cipher, session id, JA3S, ALPN
 *   Certificate (SSL 3.0 - TLS 1.2, RFC 5246 §7.4.2): the chain as DER
 *   CompressedCertificate (TLS 1.3, RFC 8879 §4): decompressed with an
 *                algorithm the ClientHello offered (compress_certificate,
 *                RFC 8879 §3), then read as a Certificate
 * An SSLv2-format ClientHello (RFC 5246 Appendix E.2) is recognised.
 * With t13_follow (a key log or fingerprints), a TLS 1.3 server's
 * encrypted flight is read on: held until the caller hands over the
 * server handshake traffic secret (tls_tls13_key), then decrypted
 * (tls13.h) and its Certificate (RFC 8446 §4.4.2) taken; or only counted
 * for the fingerprint (tls_tls13_collect).
 *
 * Decided: the server's Certificate parsed, or the ServerHello says TLS
 * 1.3 (without t13_follow; with it, the caller's tls_tls13_no_key), or
 * the session was resumed, or the bytes are not TLS, or a limit ended
 * inspection.  After that tls_feed must not be called again.
 *
 * The engine sees all this through analyser_tls (analyser.h, below).
 */
#ifndef CS_TLS_H
#define CS_TLS_H

#include <stddef.h>
#include <stdint.h>

#include "analyser/analyser.h"
#include "core/cs_limits.h"
#include "secrets/tls13.h"

enum tls_dir { TLS_CLIENT = 0, TLS_SERVER = 1 };

/* tls_feed() results */
#define TLS_MORE      0   /* keep feeding */
#define TLS_DECIDED   1   /* see tls_session.decision */

enum tls_decision {
	TLS_UNDECIDED = 0,
	TLS_DEC_CERTS,        /* Certificate message parsed: chain present */
	TLS_DEC_TLS13,        /* ServerHello negotiated TLS 1.3: certs encrypted */
	TLS_DEC_RESUMED,      /* abbreviated handshake, no Certificate */
	TLS_DEC_NO_CERT,      /* server went encrypted without a Certificate
	                         (anonymous or PSK suites) */
	TLS_DEC_NOT_TLS,      /* the bytes are not TLS */
	TLS_DEC_ERROR,        /* malformed handshake */
	TLS_DEC_LIMIT,        /* a limit ended inspection */
};

/* Reading the server's encrypted TLS 1.3 flight (tls13.h). */
enum tls13_state {
	TLS13_OFF = 0,       /* not TLS 1.3, or not read on (no key log) */
	TLS13_NEED_KEY,      /* 1.3 ServerHello parsed: records held until
	                        tls_tls13_key() or tls_tls13_no_key() */
	TLS13_KEYED,         /* decrypting the server's records */
	TLS13_COLLECT,       /* no key coming: records only counted (for the
	                        fingerprint) until tls_tls13_no_key() */
};

/* What became of a TLS 1.3 handshake's certificates (for EVE and the
 * coverage counts). */
enum tls13_outcome {
	T13_NONE = 0,        /* not TLS 1.3 */
	T13_NOT_READ,        /* no key log: encrypted, not read */
	T13_DECRYPTED,       /* read with a key log secret */
	T13_NO_KEY,          /* no secret for this ClientHello random */
	T13_NO_RANDOM,       /* ClientHello not seen (mid-stream) */
	T13_AUTH_FAIL,       /* a record failed authentication */
	T13_UNSUPPORTED,     /* a suite certsentry does not decrypt (CCM, drafts) */
	T13_DECOMPRESS_FAILED, /* a CompressedCertificate (RFC 8879) that could
	                        not be read: algorithm not offered, length,
	                        corrupt stream or over max_hs_msg; error says */
	T13_PSK,             /* resumed with a pre-shared key: no Certificate */
	T13_FAILED,          /* decrypted, then malformed or cut short */
};

/* One DER certificate as sent.  data is owned by the session (freed by
 * tls_session_free); certsentry keeps the DER even when OpenSSL cannot
 * parse it. */
struct tls_cert {
	uint8_t *data;
	size_t len;
};

/* Per-direction record and message reassembly. */
struct tls_dirstate {
	uint8_t hdr[5];         /* record header being collected */
	size_t hdr_len;
	uint8_t rec_type;
	uint16_t rec_version;
	size_t rec_left;        /* payload bytes of the current record still due */
	uint8_t *msg;           /* handshake message being reassembled; owned,
	                           freed in tls_session_free */
	size_t msg_len, msg_cap;
	size_t msg_need;        /* 4 + message length once the header is known */
	int encrypted;          /* ChangeCipherSpec seen: later records opaque */
	int records;            /* records seen in this direction */
	int done;               /* stop parsing this direction */
};

struct tls_session {
	const struct cs_limits *lim; /* not owned */
	struct tls_dirstate dir[2];
	enum tls_decision decision;
	char error[96];         /* why, for TLS_DEC_ERROR / LIMIT / NOT_TLS */

	/* ClientHello */
	int ch_seen;
	int ch_sslv2;            /* SSLv2-format ClientHello */
	uint16_t ch_version;     /* legacy_version */
	char sni[TLS_MAX_SNI + 1];
	char alpn[TLS_MAX_ALPN][64];
	size_t n_alpn;
	uint16_t ch_versions[TLS_MAX_VERSIONS]; /* supported_versions, GREASE removed */
	size_t n_ch_versions;
	uint8_t ch_sid[32];
	size_t ch_sid_len;
	char *ja3;               /* JA3 string; owned, freed in tls_session_free */
	char ja3_md5[33];        /* lower-case hex */
	uint8_t ch_certcomp;     /* compress_certificate (RFC 8879 §3): bit
	                            1 << alg for each algorithm 1..7 offered */
	int ch_ticket;           /* session_ticket extension offered (RFC 5077) */

	/* ServerHello */
	int sh_seen;
	uint16_t sh_legacy_version;
	uint16_t version;        /* negotiated: supported_versions if present */
	uint16_t cipher;
	uint16_t sh_group;       /* key_share's group (RFC 8446 §4.2.8), 0: none */
	uint8_t sh_sid[32];
	size_t sh_sid_len;
	char server_alpn[64];
	char *ja3s;              /* owned */
	char ja3s_md5[33];
	uint16_t certcomp_alg;   /* the CompressedCertificate's algorithm
	                            (RFC 8879 §3), 0: none came */
	int sh_ticket;           /* session_ticket extension acknowledged: with
	                            ch_ticket, a ticket resumption is possible */
	int resumed;             /* session_resumed for EVE */

	/* Certificate (server) */
	struct tls_cert *certs;  /* owned array of n_certs */
	size_t n_certs;
	size_t certs_dropped;    /* beyond lim->max_certs or max_cert_size */
	int client_cert_seen;    /* client authentication: not reported */

	/* TLS 1.3 */
	int t13_follow;          /* set by the caller: read on past a 1.3
	                            ServerHello (a key log exists) */
	uint8_t ch_random[TLS13_RANDOM_LEN]; /* ClientHello.random: the key log's key */
	int hrr;                 /* a HelloRetryRequest came first (RFC 8446 §4.1.4) */
	int psk;                 /* the ServerHello accepted a pre-shared key */
	enum tls13_state t13;
	enum tls13_outcome t13_outcome;
	struct tls13_keys *keys; /* owned; NULL until keyed */
	uint8_t *rec;            /* the encrypted record being collected (header
	                            and payload), decrypted in place; owned */
	size_t rec_len;
	uint8_t *pend;           /* complete records held while the key is
	                            looked for; owned */
	size_t pend_len, pend_cap;
	size_t mem_charged;      /* bytes of rec and pend charged to g_stats.mem_in_use */
	unsigned t13_records;    /* server records decrypted */
	/* The server's encrypted records after its 1.3 ServerHello, counted
	 * whether or not they are read: the fingerprint's flight. */
	unsigned flight_records;
	uint64_t flight_bytes;
	unsigned flight_largest;  /* the largest of them: the Certificate's, mostly */
};

/* TLS as an analyser (analyser.h): its state is a struct tls_session;
 * probe and role know the record layer (tls_analyser.c). */
extern const struct analyser analyser_tls;

void tls_session_init(struct tls_session *s, const struct cs_limits *lim);
void tls_session_free(struct tls_session *s);

/* Feed in-order bytes of one direction of a TLS-over-TCP stream: records
 * (their handshake payload goes to tls_handshake_feed).  Returns TLS_MORE
 * or TLS_DECIDED.  Never reads outside [data, data+len). */
int tls_feed(struct tls_session *s, enum tls_dir d, const uint8_t *data, size_t len);

/* The handshake layer alone: handshake messages of direction d (RFC 8446
 * §4: msg_type, a 3-byte length, the body), in order, with no record
 * framing around them.  TLS over TCP reaches it through tls_feed, whose
 * record layer hands it the payload of each handshake record; a transport
 * that carries the handshake in frames of its own hands it its stream
 * (QUIC: the CRYPTO stream of one direction, RFC 9001 §4.1, in offset
 * order).  Contract:
 *   - any split: a message may span calls, a call may hold several
 *     messages; one byte at a time gives the same result as all at once;
 *   - each message's length is checked against lim->max_hs_msg when its
 *     4-byte header is in, before any of its body is buffered (over it:
 *     TLS_DEC_LIMIT); a message whose fields disagree with its length
 *     is malformed (TLS_DEC_ERROR); one not yet complete waits;
 *   - nothing points into buf after the call: what is kept is copied;
 *   - a session is fed either through tls_feed or through this, never
 *     both for one direction (the record layer keeps its own position).
 * Returns TLS_MORE or TLS_DECIDED (tls_session.decision says what); once
 * decided, further bytes are ignored. */
int tls_handshake_feed(struct tls_session *s, enum tls_dir d, const uint8_t *buf, size_t len);

/* TLS 1.3 with t13_follow: the session waits in TLS13_NEED_KEY for the
 * server handshake traffic secret of ch_random.  tls_tls13_key hands it
 * over (the held records are decrypted at once); returns TLS_MORE or
 * TLS_DECIDED.  tls_tls13_no_key ends the wait: decided, the certificates
 * not read, note saying why. */
int tls_tls13_key(struct tls_session *s, const uint8_t *secret, size_t len);
void tls_tls13_no_key(struct tls_session *s, enum tls13_outcome why, const char *note);
/* No key will come, but the flight is still to be measured: the held
 * records are let go and later ones only counted (TLS13_COLLECT). */
void tls_tls13_collect(struct tls_session *s);
/* QUIC (RFC 9001 §4): the transport opens the server's Handshake packets
 * itself, with the keys of the same secret, so a session waiting in
 * TLS13_NEED_KEY is told its flight will come as plaintext handshake
 * messages (tls_handshake_feed): tls_quic_keyed, then the Certificate is
 * read as a decrypted record's would be.  Returns TLS_MORE or TLS_DECIDED.
 * tls_flight_count measures one unit of the server's encrypted flight for
 * the fingerprint when it is not read (QUIC: a Handshake packet's payload,
 * as a TCP record's length is). */
int tls_quic_keyed(struct tls_session *s);
void tls_flight_count(struct tls_session *s, size_t bytes);
/* "decrypted", "no-key-log", "no-key", ... for EVE; NULL for T13_NONE. */
const char *tls13_outcome_name(enum tls13_outcome o);

/* "zlib", "brotli", "zstd" (RFC 8879 §3), or "unknown" for another
 * value: for EVE and notes. */
const char *tls_certcomp_name(uint16_t alg);

/* Does buf start like a TLS record (type 20-23, version 0x0300-0x0304,
 * length sane), or an SSLv2 ClientHello?  1 yes, 0 no, -1 need more bytes. */
int tls_plausible_start(const uint8_t *buf, size_t len);

/* "TLS 1.2", "SSL 3.0", ... or "UNDETERMINED"; as Suricata prints them. */
const char *tls_version_name(uint16_t v);
/* Index into g_stats.hs_by_version: 0 SSLv2, 1 SSL 3.0, 2 TLS 1.0, 3 TLS 1.1,
 * 4 TLS 1.2, 5 TLS 1.3, 6 other. */
int tls_version_index(uint16_t v);

#endif
