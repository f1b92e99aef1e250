/*
 * ctlog.h - Certificate Transparency log entries judged by the rules
 * (--ct-json FILE...): the JSON a log's get-entries returns (RFC 6962
 * section 4.6, {"entries":[{"leaf_input": base64, "extra_data": base64},
 * ...]}) or one such entry object a line.  No network: fetching is the
 * user's curl.
 *
 * leaf_input is a MerkleTreeLeaf (section 3.4): version v1 (0), leaf type
 * timestamped_entry (0), the log's timestamp (ms), the entry type and its
 * entry: x509_entry, a certificate; precert_entry, the issuer's key hash
 * and a TBSCertificate, which is signed by no one.  extra_data (section
 * 4.6): for x509_entry the chain; for precert_entry the pre-certificate
 * (a signed certificate with the poison extension) and its chain.  An
 * x509 entry is judged as a certificate file is; a precertificate entry
 * by its pre-certificate and chain, which carry the issuer's signature
 * (directly, or through a precertificate signing certificate), and the
 * reason says so.
 */
#ifndef CS_CTLOG_H
#define CS_CTLOG_H

#include <stddef.h>
#include <stdint.h>

#include "run/certfile.h"

/* Bytes one JSON value of the input may take (a get-entries answer of
 * 1,000 entries is 2-8 MB), unless --ct-max-json says otherwise.  The
 * input is read a value at a time, never whole. */
#define CT_MAX_JSON_BYTES (64u * 1024u * 1024u)

enum ct_entry_type { CT_X509_ENTRY = 0, CT_PRECERT_ENTRY = 1 };

struct ct_leaf {
	uint64_t timestamp_ms;
	enum ct_entry_type type;
	const uint8_t *cert;            /* x509_entry: the DER (a view) */
	size_t cert_len;
	const uint8_t *issuer_key_hash; /* precert_entry: 32 bytes (a view) */
	const uint8_t *tbs;             /* precert_entry: the TBSCertificate (a view) */
	size_t tbs_len;
};

/* A MerkleTreeLeaf.  0, or -1 with the reason in err. */
int ct_leaf_decode(const uint8_t *buf, size_t len, struct ct_leaf *out, char *err,
                   size_t errlen);

/* extra_data of an entry of this type: the chain to judge, leaf first (the
 * x509 entry's certificate is not in it: the caller puts it first).
 * Copies into out (certfile_free_certs); 0 with *n, or -1 with err. */
int ct_extra_decode(enum ct_entry_type type, const uint8_t *buf, size_t len, size_t max_certs,
                    size_t max_cert_size, struct tls_cert *out, size_t *n, char *err,
                    size_t errlen);

/* Where entries judged come from: the file, or the log followed. */
struct ct_source {
	const char *source;      /* certsentry.source: a file, or the log's URL */
	const char *log_name;    /* certsentry.ct.log (a followed log), or NULL */
	const char *log_url;     /* certsentry.ct.log_url, or NULL */
	const char *note;        /* appended to every reason, or NULL */
};

/* A decoded RFC 6962 entry (leaf_input and extra_data, bytes) judged;
 * errors are said as "SOURCE: entry N: why" and counted.  -1 when an
 * alert could not be written, else 0. */
int ct_judge_entry(struct certfile_ctx *c, const struct ct_source *src, uint64_t index,
                   const uint8_t *leaf, size_t leaf_len, const uint8_t *extra,
                   size_t extra_len);

/* Can a decoded RFC 6962 entry be passed over, the names of its
 * certificate (x509_entry) or pre-certificate (precert_entry) for no
 * owner?  1 yes; 0 it must be judged (a malformed entry too: the judge
 * says what is wrong).  Counts nothing. */
int ct_entry_for_no_owner(const struct certfile_ctx *c, const uint8_t *leaf, size_t leaf_len,
                          const uint8_t *extra, size_t extra_len);

/* An entry's chain der[0..n) (leaf or pre-certificate first), judged as
 * ct_judge_entry's: for logs whose entries carry their chain otherwise
 * (static-ct-api: issuers by fingerprint).  der is not freed. */
int ct_judge_certs(struct certfile_ctx *c, const struct ct_source *src, uint64_t index,
                   uint64_t ts_ms, int precert, struct tls_cert *der, size_t n);

/* Standard base64 with padding, as logs write it: malloc'd into *out
 * (the caller frees it); its length, or -1. */
long ctlog_b64_decode(const char *s, size_t len, uint8_t **out);

/* Judge every entry of a file ("-": standard input), numbered from
 * start.  Errors "FILE: entry N: reason" are said and counted, and the
 * rest go on.  -1 when an alert could not be written, else 0. */
int ct_judge_file(struct certfile_ctx *c, const char *path, uint64_t start);

#endif
