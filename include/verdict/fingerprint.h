/*
 * fingerprint.h - TLS 1.3 server fingerprints without keys: what a
 * protected endpoint shows every time nobody sits in the path, learned
 * into a baseline (certsentry --learn) and compared in detection
 * (--baseline).
 *
 * A handshake's shape: the ServerHello's extension types in order (the
 * TLS stack's), the count and bytes of the server's encrypted records
 * before the client's second flight (the flight grows and shrinks with
 * the certificate chain; their largest, mostly the Certificate's, on its
 * own, as the bytes around it vary with what the client offered), and
 * the SYN-ACK (initial TTL rounded up to 32,
 * 64, 128 or 255, MSS, window scale; window and option order are
 * reported, not compared: Linux derives both from the client's SYN).  The
 * cipher and key-share group are recorded and reported but never decide:
 * a server picks them from what the client offered.
 *
 * An endpoint (server address, port, SNI) keeps every shape it showed,
 * with its count and the mean, spread and range of its flight bytes
 * (anycast, RSA and ECDSA certificates, a rotation in progress).  A
 * handshake matches a shape with the same extension order, record count
 * and SYN-ACK whose bytes lie within the tolerance of its range, and whose
 * largest record lies within FP_LARGEST_TOLERANCE of its range.  A
 * mismatch is evidence, not proof: the alert says so.
 *
 * The baseline file, version 1, one shape a line (README "Fingerprints"):
 *   certsentry-baseline 1
 *   shape endpoint=1.1.1.1:853 sni=cloudflare-dns.com count=12 hello=43-51
 *         records=4 bytes=1284.2 sd=1.1 min=1283 max=1286 largest=1097-1097
 *         synack=64/1460/7/65160/M,S,T,N,W ciphers=1302 groups=29
 * (one line in the file).  Learning may run in several threads at once
 * (a mutex inside); checking only reads.
 */
#ifndef CS_FINGERPRINT_H
#define CS_FINGERPRINT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Shapes kept per endpoint (the least seen is replaced when full). */
#define FP_MAX_SHAPES      16u
/* Endpoints in a baseline. */
#define FP_MAX_ENDPOINTS   65536u
/* Flight bytes within this much of a shape's range always match (the
 * ServerHello's extensions in EncryptedExtensions and the length of an
 * ECDSA signature vary with the client); a shape with more spread gets
 * 4 standard deviations. --fp-tolerance */
#define FP_DEF_TOLERANCE   64u
/* The largest record within this much of a shape's range matches: the
 * Certificate record changes only with the chain (and an OCSP staple or
 * SCTs, which the client asks for). */
#define FP_LARGEST_TOLERANCE 16u
/* Distinct ciphers and groups remembered per shape. */
#define FP_MAX_CHOICES     8u
/* Longest line of a baseline file, and the largest file (every endpoint
 * with every shape is ~300 MB; a file past this is not a baseline). */
#define FP_MAX_LINE        1024u
#define FP_MAX_FILE        (512u * 1024u * 1024u)

/* The SYN-ACK's shape; ttl 0: none seen.  Small, because the flow record
 * keeps it (flow.h) from the SYN-ACK until the handshake is reported. */
struct fp_synack {
	uint8_t ttl;         /* initial TTL: 32, 64, 128 or 255 */
	uint8_t wscale;      /* 0xff: no window scale option */
	uint16_t mss;        /* 0: no MSS option */
	uint16_t win;
	uint32_t opts;       /* option kinds in order, a nibble each from the
	                        lowest: 1 EOL, 2 NOP, 3 MSS, 4 WS, 5 SACK-permitted,
	                        6 timestamps, 7 other; 0 ends (at most 8) */
};

/* "M,S,T,N,W" for opts (out needs 2 * 8 bytes). */
void fp_synack_opts(uint32_t opts, char out[16]);

/* One TLS 1.3 handshake as fingerprinting sees it. */
struct fp_obs {
	int family;                  /* 4 or 6 */
	uint8_t ip[16];
	uint16_t port;
	const char *sni;             /* NULL: none; a view */
	const char *ja3s;            /* "771,4866,43-51": the extension order is its
	                                third field; a view */
	uint16_t cipher, group;
	unsigned records;            /* server encrypted records of the flight */
	uint64_t bytes;              /* their payload bytes */
	unsigned largest;            /* the largest record's */
	struct fp_synack synack;
};

enum fp_outcome {
	FP_NO_BASELINE = 0,   /* no baseline for this endpoint */
	FP_MATCH,             /* a learned shape */
	FP_CHANGED,           /* none of them */
};

struct fp_result {
	enum fp_outcome outcome;
	uint64_t shape_count;        /* times the matched (or nearest) shape was seen */
	char what[512];              /* what changed and by how much, or what matched */
};

struct fp_baseline;

struct fp_baseline *fp_new(unsigned tolerance);
void fp_free(struct fp_baseline *b);

/* Load a baseline file (adding to what b holds).  -1 with err
 * "FILE:LINE: reason" for a line that is not version 1's grammar. */
int fp_load(struct fp_baseline *b, const char *path, char *err, size_t errlen);
/* The same from memory (name for the messages). */
int fp_parse_text(struct fp_baseline *b, const char *name, const char *text, size_t len,
                  char *err, size_t errlen);
/* Write b; -1 with err "FILE: reason". */
int fp_save(const struct fp_baseline *b, const char *path, char *err, size_t errlen);

/* Learn one handshake (thread-safe). */
void fp_learn(struct fp_baseline *b, const struct fp_obs *o);
/* Compare one handshake with its endpoint's shapes (the exact endpoint,
 * else the same port and SNI at another address: anycast). */
void fp_check(const struct fp_baseline *b, const struct fp_obs *o, struct fp_result *r);

size_t fp_endpoints(const struct fp_baseline *b);
/* Endpoint i < fp_endpoints(b): family 4 or 6, address, port, SNI ("" for
 * none; views into b) and its number of shapes. */
void fp_endpoint_at(const struct fp_baseline *b, size_t i, int *family, const uint8_t **ip,
                    uint16_t *port, const char **sni, size_t *shapes);
size_t fp_shapes(const struct fp_baseline *b);

/* A SYN-ACK's shape from its IP header and TCP header (views of one
 * packet; ip_family 4 or 6).  0, or -1 when the headers are cut short. */
int fp_synack_parse(int ip_family, const uint8_t *l3, size_t l3_len, const uint8_t *l4,
                    size_t l4_len, struct fp_synack *out);

#endif
