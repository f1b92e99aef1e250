/*
 * ctlog.c - CT log entries judged by the rules (ctlog.h).
 *
 * Owns: reading get-entries JSON (jansson, only here), base64, and the
 * TLS encoding of MerkleTreeLeaf and extra_data (RFC 6962 sections 3.4 and
 * 4.6).  Must not touch: the judging itself (certfile_judge_der does it,
 * as for a certificate file).  Every length is read through buf.h, which
 * fails softly when the input is short.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "buf.h"
#include "ctlog.h"

/* ---- the TLS encoding ---------------------------------------------------- */

int ct_leaf_decode(const uint8_t *p, size_t len, struct ct_leaf *out, char *err, size_t errlen)
{
	struct buf b;
	uint8_t version, leaf_type;
	uint16_t type, ext_len;
	uint32_t hi, lo, n;

	memset(out, 0, sizeof(*out));
	buf_init(&b, p, len);
	if (buf_u8(&b, &version) < 0 || buf_u8(&b, &leaf_type) < 0 || buf_be32(&b, &hi) < 0 ||
	    buf_be32(&b, &lo) < 0 || buf_be16(&b, &type) < 0) {
		snprintf(err, errlen, "leaf_input: %zu bytes, shorter than a MerkleTreeLeaf header", len);
		return -1;
	}
	if (version != 0 || leaf_type != 0) {
		snprintf(err, errlen, "leaf_input: version %u, leaf type %u (only v1 timestamped_entry)",
		         version, leaf_type);
		return -1;
	}
	out->timestamp_ms = (uint64_t)hi << 32 | lo;
	if (type == CT_X509_ENTRY) {
		out->type = CT_X509_ENTRY;
		if (buf_be24(&b, &n) < 0 || n == 0 || n > buf_left(&b)) {
			snprintf(err, errlen, "leaf_input: x509_entry certificate length past the end");
			return -1;
		}
		out->cert = buf_ptr(&b);
		out->cert_len = n;
		buf_skip(&b, n);
	} else if (type == CT_PRECERT_ENTRY) {
		out->type = CT_PRECERT_ENTRY;
		out->issuer_key_hash = buf_ptr(&b);
		if (buf_skip(&b, 32) < 0 || buf_be24(&b, &n) < 0 || n == 0 || n > buf_left(&b)) {
			snprintf(err, errlen, "leaf_input: precert_entry shorter than its lengths");
			return -1;
		}
		out->tbs = buf_ptr(&b);
		out->tbs_len = n;
		buf_skip(&b, n);
	} else {
		snprintf(err, errlen, "leaf_input: entry type %u (x509_entry 0 or precert_entry 1)", type);
		return -1;
	}
	if (buf_be16(&b, &ext_len) < 0 || buf_skip(&b, ext_len) < 0) {
		snprintf(err, errlen, "leaf_input: extensions length past the end");
		return -1;
	}
	if (buf_left(&b)) {
		snprintf(err, errlen, "leaf_input: %zu bytes after the MerkleTreeLeaf", buf_left(&b));
		return -1;
	}
	return 0;
}

/* certfile_add_cert, its error said as extra_data's. */
static int add_copy(struct tls_cert *out, size_t *n, size_t max, size_t max_size,
                    const uint8_t *p, size_t len, char *err, size_t errlen)
{
	char why[200];

	if (certfile_add_cert(out, n, max, max_size, p, len, why, sizeof(why)) == 0)
		return 0;
	snprintf(err, errlen, "extra_data: %s", why);
	return -1;
}

/* ASN.1Cert certificate_chain<0..2^24-1>: each <1..2^24-1>. */
static int chain_decode(struct buf *b, size_t max, size_t max_size, struct tls_cert *out,
                        size_t *n, char *err, size_t errlen)
{
	uint32_t total, one;
	struct buf c;

	if (buf_be24(b, &total) < 0 || total > buf_left(b)) {
		snprintf(err, errlen, "extra_data: chain length past the end");
		return -1;
	}
	buf_init(&c, buf_ptr(b), total);
	buf_skip(b, total);
	while (buf_left(&c)) {
		if (buf_be24(&c, &one) < 0 || one > buf_left(&c)) {
			snprintf(err, errlen, "extra_data: certificate %zu length past the end", *n + 1);
			return -1;
		}
		if (add_copy(out, n, max, max_size, buf_ptr(&c), one, err, errlen) < 0)
			return -1;
		buf_skip(&c, one);
	}
	return 0;
}

int ct_extra_decode(enum ct_entry_type type, const uint8_t *p, size_t len, size_t max_certs,
                    size_t max_cert_size, struct tls_cert *out, size_t *n, char *err,
                    size_t errlen)
{
	struct buf b;
	uint32_t pl;
	int rc = 0;

	*n = 0;
	buf_init(&b, p, len);
	if (type == CT_PRECERT_ENTRY) {
		/* PrecertChainEntry: the pre-certificate, then its chain */
		if (buf_be24(&b, &pl) < 0 || pl > buf_left(&b)) {
			snprintf(err, errlen, "extra_data: pre_certificate length past the end");
			return -1;
		}
		rc = add_copy(out, n, max_certs, max_cert_size, buf_ptr(&b), pl, err, errlen);
		buf_skip(&b, pl);
	}
	if (rc == 0)
		rc = chain_decode(&b, max_certs, max_cert_size, out, n, err, errlen);
	if (rc == 0 && buf_left(&b)) {
		snprintf(err, errlen, "extra_data: %zu bytes after the chain", buf_left(&b));
		rc = -1;
	}
	if (rc < 0) {
		certfile_free_certs(out, *n);
		*n = 0;
	}
	return rc;
}

/* ---- base64 and JSON ------------------------------------------------------ */

/* Standard base64 (RFC 4648 section 4) with padding, as logs write it.
 * malloc'd into *out (the caller frees it); its length, or -1. */
static long b64_decode(const char *s, uint8_t **out)
{
	size_t len = strlen(s), pad = 0;
	int n;

	*out = NULL;
	if (len == 0 || len % 4 || len > 0x7FFFFFF0u)
		return -1;
	pad = (s[len - 1] == '=') + (s[len - 2] == '=');
	*out = malloc(len / 4 * 3 + 1);
	if (!*out)
		return -1;
	n = EVP_DecodeBlock(*out, (const unsigned char *)s, (int)len);
	if (n < 0 || (size_t)n < pad) {
		free(*out);
		*out = NULL;
		return -1;
	}
	return (long)((size_t)n - pad);
}

/* One entry object: decoded, its chain judged. */
static int judge_entry(struct certfile_ctx *c, const char *path, uint64_t index, json_t *e)
{
	json_t *li = json_object_get(e, "leaf_input"), *ed = json_object_get(e, "extra_data");
	struct tls_cert *der = calloc(c->max_certs + 1, sizeof(*der));   /* freed here */
	struct certfile_origin org;
	uint8_t *leaf = NULL, *extra = NULL;
	long leaf_len, extra_len;
	struct ct_leaf l;
	char err[256], src[300];
	size_t n = 0, m = 0;
	int rc = 0;

	snprintf(src, sizeof(src), "%s: entry %" PRIu64, path, index);
	c->files++;
	if (!der) {
		certfile_say(c, src, "out of memory");
		return 0;
	}
	if (!json_is_object(e) || !json_is_string(li) || !json_is_string(ed)) {
		certfile_say(c, src, "not an object with leaf_input and extra_data strings");
		goto out;
	}
	leaf_len = b64_decode(json_string_value(li), &leaf);
	extra_len = b64_decode(json_string_value(ed), &extra);
	if (leaf_len < 0 || extra_len < 0) {
		certfile_say(c, src, leaf_len < 0 ? "leaf_input is not base64" :
		             "extra_data is not base64");
		goto out;
	}
	if (ct_leaf_decode(leaf, (size_t)leaf_len, &l, err, sizeof(err)) < 0) {
		certfile_say(c, src, err);
		goto out;
	}
	/* x509_entry: the logged certificate first, then extra_data's chain */
	if (l.type == CT_X509_ENTRY) {
		if (l.cert_len > c->max_cert_size || !(der[0].data = malloc(l.cert_len))) {
			certfile_say(c, src, "leaf_input: certificate over --max-cert-size");
			goto out;
		}
		memcpy(der[0].data, l.cert, l.cert_len);
		der[0].len = l.cert_len;
		n = 1;
	}
	if (ct_extra_decode(l.type, extra, (size_t)extra_len, c->max_certs - n, c->max_cert_size,
	                    der + n, &m, err, sizeof(err)) < 0) {
		certfile_say(c, src, err);
		goto out;
	}
	n += m;
	if (n == 0) {
		certfile_say(c, src, "extra_data: no pre-certificate");
		goto out;
	}
	memset(&org, 0, sizeof(org));
	org.source = path;
	org.ct = 1;
	org.ct_index = index;
	org.ct_timestamp_ms = l.timestamp_ms;
	org.ct_precert = l.type == CT_PRECERT_ENTRY;
	/* The TBSCertificate is signed by no one: what the log holds of the
	 * issuer's signature is on the pre-certificate. */
	if (org.ct_precert)
		org.note = "(CT precertificate entry: judged by its pre-certificate and chain, "
		           "which carry the issuer's signature)";
	org.errsrc = src;
	rc = certfile_judge_der(c, &org, der, n);
out:
	certfile_free_certs(der, n);
	free(der);
	free(leaf);
	free(extra);
	return rc;
}

/* The whole input, at most CT_MAX_INPUT_BYTES; malloc'd, NUL-ended. */
static char *slurp(FILE *f, size_t *len, int *too_big)
{
	size_t cap = 1 << 16, n = 0;
	char *b = malloc(cap), *nb;

	*too_big = 0;
	while (b) {
		size_t got = fread(b + n, 1, cap - n - 1, f);

		n += got;
		if (got == 0)
			break;
		if (n + 1 == cap) {
			if (cap > CT_MAX_INPUT_BYTES) {
				*too_big = 1;
				free(b);
				return NULL;
			}
			nb = realloc(b, cap * 2);
			if (!nb)
				free(b);
			b = nb;
			cap *= 2;
		}
	}
	if (b)
		b[n] = '\0';
	*len = n;
	return b;
}

/* An entry for each element of {"entries": [...]}, or of each line. */
int ct_judge_file(struct certfile_ctx *c, const char *path, uint64_t start)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	json_error_t je;
	json_t *root, *entries;
	uint64_t index = start;
	size_t len = 0;
	char *text, *line, *next;
	int rc = 0, too_big;

	if (!f) {
		certfile_say(c, path, strerror(errno));
		return 0;
	}
	text = slurp(f, &len, &too_big);   /* freed here */
	if (f != stdin)
		fclose(f);
	if (!text) {
		certfile_say(c, path, too_big ? "over the input limit (CT_MAX_INPUT_BYTES)" :
		             "out of memory");
		return 0;
	}
	/* One get-entries answer (an object, perhaps over many lines)... */
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (root && json_is_object(root) && json_is_array(entries = json_object_get(root, "entries"))) {
		for (size_t i = 0; i < json_array_size(entries) && rc == 0; i++)
			rc = judge_entry(c, path, index++, json_array_get(entries, i));
		json_decref(root);
		free(text);
		return rc;
	}
	json_decref(root);
	/* ... or one entry object a line (blank lines passed over). */
	for (line = text; line && *line && rc == 0; line = next) {
		json_t *e;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (strspn(line, " \t\r") == strlen(line))
			continue;
		e = json_loads(line, JSON_REJECT_DUPLICATES, &je);
		if (!e) {
			char why[300];

			snprintf(why, sizeof(why), "entry %" PRIu64 ": not JSON: %s", index++, je.text);
			certfile_say(c, path, why);
			continue;
		}
		rc = judge_entry(c, path, index++, e);
		json_decref(e);
	}
	free(text);
	return rc;
}
