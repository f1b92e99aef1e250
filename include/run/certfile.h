/*
 * certfile.h - chains that come without packets (--certs PATH...): PEM or
 * DER files, several certificates a file (a chain: leaf first, then what
 * came with it), or a directory of such files.  Each chain is judged by
 * the same code as a handshake's (policy_evaluate: protected assets by
 * SAN IP, CN and SAN DNS; approval by signatures up to an approved CA or
 * pin; the trust stores for the severity) and alerts in the same EVE form,
 * without the network fields and with certsentry.source naming the file.
 *
 * An input stage beside capture.c: it reads files and hands chains to
 * policy and output; it owns no state between chains.
 */
#ifndef CS_CERTFILE_H
#define CS_CERTFILE_H

#include <stddef.h>
#include <stdint.h>

#include "event/output.h"
#include "verdict/policy.h"
#include "analyser/tls.h"
#include "verdict/truststore.h"

/* A file larger than this is refused (a chain is a few KB; a bundle of
 * every public root is about 200 KB). */
#define CERTFILE_MAX_BYTES (16u * 1024u * 1024u)
/* Files read from one directory (not recursively). */
#define CERTFILE_MAX_DIR_FILES 1000000u

struct chain_cache;

struct certfile_ctx {
	const struct policy *pol;          /* may be NULL: nothing is protected */
	const struct trust_stores *trust;  /* may be NULL */
	struct output *out;
	struct output_feed *feed;          /* alert windows (dedup), or NULL: every alert */
	size_t max_certs;                  /* certificates a chain (--max-certs) */
	size_t max_cert_size;              /* bytes a certificate (--max-cert-size) */
	size_t max_json;                   /* bytes a JSON value of --ct-json
	                                      (--ct-max-json); 0: CT_MAX_JSON_BYTES */
	/* counted */
	uint64_t files, chains, alerts, errors;
	size_t max_issuers;                /* issuer chains kept parsed (--chain-cache); 0: none */
	struct chain_cache *issuers;       /* owned; certfile_ctx_release frees it */
	uint64_t by_names;                 /* of chains: leaf for no owner by its
	                                      names alone, not parsed (certnames.h) */
};

/* The certificates of one file's bytes: PEM blocks "CERTIFICATE" (other
 * blocks, a key say, are passed over), or else DER certificates one after
 * another.  On success 0 with *n (>= 1) copies in out[] (malloc'd data,
 * freed with certfile_free_certs); -1 with the reason in err. */
int certfile_parse(const uint8_t *buf, size_t len, size_t max_certs, size_t max_cert_size,
                   struct tls_cert *out, size_t *n, char *err, size_t errlen);
void certfile_free_certs(struct tls_cert *c, size_t n);

/* A copy of der[0..len) as out[*n], (*n)++; -1 with err past max_certs or
 * max_cert_size (or out of memory). */
int certfile_add_cert(struct tls_cert *out, size_t *n, size_t max_certs, size_t max_cert_size,
                      const uint8_t *der, size_t len, char *err, size_t errlen);

/* Where a chain came from, for its alert. */
struct certfile_origin {
	const char *source;                /* the file (certsentry.source) */
	int ct;                            /* a CT log entry: */
	uint64_t ct_index, ct_timestamp_ms;
	int ct_precert;
	const char *ct_log, *ct_log_url;  /* a followed log's name and URL, or NULL */
	const char *note;                  /* appended to each reason, or NULL */
	const char *errsrc;                /* errors said as "ERRSRC: why"; NULL: source */
};

/* Judge the chain der[0..n) (leaf first): parsed, evaluated, and alerted
 * when unapproved.  An unparsable leaf is an error of the source.  -1
 * when an alert could not be written, else 0. */
int certfile_judge_der(struct certfile_ctx *c, const struct certfile_origin *org,
                       struct tls_cert *der, size_t n);

/* Can a chain whose leaf (or pre-certificate) is der[0..len) be passed
 * over, its names for no owner (read from the DER alone, as
 * certfile_judge_der does first)?  1 yes, 0 it must be judged.  Counts
 * nothing: the caller counts it as certfile_judge_der would (chains,
 * by_names) once it decides to. */
int certfile_for_no_owner(const struct certfile_ctx *c, const uint8_t *der, size_t len);

/* What the context keeps (the parsed issuers); the counters stay. */
void certfile_ctx_release(struct certfile_ctx *c);

/* "SOURCE: why" on standard error, counted in c->errors. */
void certfile_say(struct certfile_ctx *c, const char *source, const char *why);

/* Judge a file, or every regular file of a directory in name order.
 * Errors are said on standard error as "FILE: reason", counted in
 * c->errors, and the rest go on.  Returns -1 when an alert could not be
 * written, else 0. */
int certfile_judge_path(struct certfile_ctx *c, const char *path);

#endif
