/*
 * ctlog.c - CT log entries judged by the rules (ctlog.h).
 *
 * Owns: reading get-entries JSON a value at a time (parsed by ctjson.c),
 * base64, and the
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

#include <openssl/evp.h>

#include "core/buf.h"
#include "run/ctjson.h"
#include "run/ctlog.h"

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
long ctlog_b64_decode(const char *s, size_t len, uint8_t **out)
{
	size_t pad = 0;
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

/* The chain of a decoded entry judged: der[0..n) (leaf first), from the
 * entry at index of src.  Frees nothing. */
static int judge_chain(struct certfile_ctx *c, const struct ct_source *src, const char *errsrc,
                       uint64_t index, uint64_t ts_ms, int precert, struct tls_cert *der,
                       size_t n)
{
	struct certfile_origin org;
	char note[400];

	memset(&org, 0, sizeof(org));
	org.source = src->source;
	org.ct = 1;
	org.ct_index = index;
	org.ct_timestamp_ms = ts_ms;
	org.ct_precert = precert;
	org.ct_log = src->log_name;
	org.ct_log_url = src->log_url;
	/* The TBSCertificate is signed by no one: what the log holds of the
	 * issuer's signature is on the pre-certificate. */
	snprintf(note, sizeof(note), "%s%s%s",
	         precert ? "(CT precertificate entry: judged by its pre-certificate and chain, "
	                   "which carry the issuer's signature)" : "",
	         precert && src->note ? " " : "", src->note ? src->note : "");
	org.note = note[0] ? note : NULL;
	org.errsrc = errsrc;
	return certfile_judge_der(c, &org, der, n);
}

int ct_judge_entry(struct certfile_ctx *c, const struct ct_source *src, uint64_t index,
                   const uint8_t *leaf, size_t leaf_len, const uint8_t *extra,
                   size_t extra_len)
{
	struct tls_cert *der = calloc(c->max_certs + 1, sizeof(*der));   /* freed here */
	struct ct_leaf l;
	char err[256], where[300];
	size_t n = 0, m = 0;
	int rc = 0;

	snprintf(where, sizeof(where), "%s: entry %" PRIu64, src->source, index);
	c->files++;
	if (!der) {
		certfile_say(c, where, "out of memory");
		return 0;
	}
	if (ct_leaf_decode(leaf, leaf_len, &l, err, sizeof(err)) < 0) {
		certfile_say(c, where, err);
		goto out;
	}
	/* x509_entry: the logged certificate first, then extra_data's chain */
	if (l.type == CT_X509_ENTRY) {
		if (l.cert_len > c->max_cert_size || !(der[0].data = malloc(l.cert_len))) {
			certfile_say(c, where, "leaf_input: certificate over --max-cert-size");
			goto out;
		}
		memcpy(der[0].data, l.cert, l.cert_len);
		der[0].len = l.cert_len;
		n = 1;
	}
	if (ct_extra_decode(l.type, extra, extra_len, c->max_certs - n, c->max_cert_size,
	                    der + n, &m, err, sizeof(err)) < 0) {
		certfile_say(c, where, err);
		goto out;
	}
	n += m;
	if (n == 0) {
		certfile_say(c, where, "extra_data: no pre-certificate");
		goto out;
	}
	rc = judge_chain(c, src, where, index, l.timestamp_ms, l.type == CT_PRECERT_ENTRY, der, n);
out:
	certfile_free_certs(der, n);
	free(der);
	return rc;
}

int ct_entry_for_no_owner(const struct certfile_ctx *c, const uint8_t *leaf, size_t leaf_len,
                          const uint8_t *extra, size_t extra_len)
{
	struct ct_leaf l;
	char err[256];
	size_t n;

	if (ct_leaf_decode(leaf, leaf_len, &l, err, sizeof(err)) < 0)
		return 0;
	if (l.type == CT_X509_ENTRY)
		return certfile_for_no_owner(c, l.cert, l.cert_len);
	/* PrecertChainEntry: the pre-certificate first, ASN.1Cert<1..2^24-1> */
	if (extra_len < 3)
		return 0;
	n = (size_t)extra[0] << 16 | (size_t)extra[1] << 8 | extra[2];
	if (n == 0 || n > extra_len - 3)
		return 0;
	return certfile_for_no_owner(c, extra + 3, n);
}

int ct_judge_certs(struct certfile_ctx *c, const struct ct_source *src, uint64_t index,
                   uint64_t ts_ms, int precert, struct tls_cert *der, size_t n)
{
	char where[300];

	snprintf(where, sizeof(where), "%s: entry %" PRIu64, src->source, index);
	c->files++;
	return judge_chain(c, src, where, index, ts_ms, precert, der, n);
}

/* One entry object of a file: decoded, its chain judged. */
static int judge_entry(struct certfile_ctx *c, const char *path, uint64_t index,
                       const struct ctj_entry *e)
{
	const struct ct_source src = { path, NULL, NULL, NULL };
	uint8_t *leaf = NULL, *extra = NULL;
	long leaf_len, extra_len;
	char where[300];
	int rc = 0;

	snprintf(where, sizeof(where), "%s: entry %" PRIu64, path, index);
	if (!e->is_object || !e->leaf || !e->extra) {
		c->files++;
		certfile_say(c, where, "not an object with leaf_input and extra_data strings");
		return 0;
	}
	if (e->duplicate) {
		c->files++;
		certfile_say(c, where, "leaf_input or extra_data given twice");
		return 0;
	}
	leaf_len = ctlog_b64_decode(e->leaf, e->leaf_len, &leaf);
	extra_len = ctlog_b64_decode(e->extra, e->extra_len, &extra);
	if (leaf_len < 0 || extra_len < 0) {
		c->files++;
		certfile_say(c, where, leaf_len < 0 ? "leaf_input is not base64" :
		             "extra_data is not base64");
	} else {
		rc = ct_judge_entry(c, &src, index, leaf, (size_t)leaf_len, extra,
		                    (size_t)extra_len);
	}
	free(leaf);
	free(extra);
	return rc;
}

/* ---- reading: one JSON value at a time ------------------------------------ */

/* The input is read in a window, never whole: a value (a get-entries
 * answer, or one entry) is framed by counting brackets outside strings,
 * then parsed (ctjson.c).  Two forms:
 *   line form: every line holds whole values (one entry a line, or
 *     get-entries answers as curl writes them, one after another, with or
 *     without newlines between); a line that leaves a value open is one
 *     bad entry, and the next line starts afresh;
 *   page form: values span lines (a pretty-printed answer); a bad one is
 *     one error, and reading goes on after it.
 * The form is the first value's: page form when it spans lines and
 * parses, else line form. */
#define CT_WINDOW_START (1u << 20)

struct ct_in {
	FILE *f;
	char *buf;                 /* the window (malloc'd, ct_judge_file frees) */
	size_t cap, off, end;      /* unread bytes: buf[off..end) */
	int eof, rd_err;
	size_t max;                /* --ct-max-json: bytes one value may take */
};

/* Keep buf[off..end), read more after it: at least as many bytes as are
 * kept, so that rescanning from off costs linear time.  0, or -1 at end
 * of input (or on a read error, in->rd_err) with nothing read. */
static int ct_fill(struct ct_in *in)
{
	size_t keep = in->end - in->off, got;

	if (in->eof)
		return -1;
	memmove(in->buf, in->buf + in->off, keep);
	in->off = 0;
	in->end = keep;
	if (in->cap - keep < keep || in->cap - keep < CT_WINDOW_START / 2) {
		size_t ncap = in->cap * 2;
		char *nb = ncap > in->cap ? realloc(in->buf, ncap) : NULL;

		if (!nb) {
			in->eof = in->rd_err = 1;
			return -1;
		}
		in->buf = nb;
		in->cap = ncap;
	}
	got = fread(in->buf + in->end, 1, in->cap - in->end, in->f);
	in->end += got;
	if (got == 0) {
		in->eof = 1;
		in->rd_err = ferror(in->f) != 0;
		return -1;
	}
	return 0;
}

/* The byte at off + i, reading on as needed; -1 at the end. */
static int ct_at(struct ct_in *in, size_t i)
{
	while (in->off + i >= in->end)
		if (ct_fill(in) < 0)
			return -1;
	return (unsigned char)in->buf[in->off + i];
}

/* Drop the bytes up to and with the next newline (or all, at the end). */
static void ct_skip_line(struct ct_in *in)
{
	for (;;) {
		char *nl = memchr(in->buf + in->off, '\n', in->end - in->off);

		if (nl) {
			in->off = (size_t)(nl - in->buf) + 1;
			return;
		}
		in->off = in->end;
		if (ct_fill(in) < 0)
			return;
	}
}

enum ct_frame { CT_VALUE, CT_OPEN_LINE, CT_CUT, CT_TOO_BIG, CT_BAD_START };

/* Frame the value at off: its length in *len.  With lines set, a newline
 * outside the value's end is CT_OPEN_LINE (*len: up to that newline); a
 * newline inside a string always is (JSON strings hold none). *spans says
 * whether the value crossed a line. */
static enum ct_frame ct_frame(struct ct_in *in, int lines, size_t *len, int *spans)
{
	size_t depth = 0, i = 0;
	int in_str = 0, esc = 0, c;

	*spans = 0;
	c = ct_at(in, 0);
	if (c != '{' && c != '[')
		return CT_BAD_START;
	for (;; i++) {
		if (i >= in->max)
			return CT_TOO_BIG;
		if ((c = ct_at(in, i)) < 0) {
			*len = i;
			return CT_CUT;
		}
		if (in_str) {
			/* the run of a string's plain bytes, in the window */
			const char *b = in->buf + in->off;
			size_t stop = in->end - in->off < in->max ? in->end - in->off : in->max;

			while (!esc && i < stop && b[i] != '"' && b[i] != '\\' && b[i] != '\n')
				i++;
			if (i >= stop) {
				i--;   /* the loop's i++: read on from here */
				continue;
			}
			c = (unsigned char)b[i];
			if (c == '\n')
				break;   /* never inside a JSON string, escaped or not */
			if (esc)
				esc = 0;
			else if (c == '\\')
				esc = 1;
			else if (c == '"')
				in_str = 0;
			continue;
		}
		if (c == '"') {
			in_str = 1;
		} else if (c == '{' || c == '[') {
			depth++;
		} else if (c == '}' || c == ']') {
			if (--depth == 0) {
				*len = i + 1;
				return CT_VALUE;
			}
		} else if (c == '\n') {
			*spans = 1;
			if (lines)
				break;
		}
	}
	*len = i;
	return CT_OPEN_LINE;
}

/* Skip whitespace; 0, or -1 at the end of the input. */
static int ct_skip_space(struct ct_in *in)
{
	int c;

	while ((c = ct_at(in, 0)) == ' ' || c == '\t' || c == '\r' || c == '\n')
		in->off++;
	return c < 0 ? -1 : 0;
}

static void say_entry(struct certfile_ctx *c, const char *path, uint64_t index, const char *why)
{
	char msg[400];

	snprintf(msg, sizeof(msg), "entry %" PRIu64 ": %s", index, why);
	certfile_say(c, path, msg);
	c->files++;   /* an entry read, though not judged */
}

struct value_ctx {
	struct certfile_ctx *c;
	const char *path;
	uint64_t *index;
};

/* ctj_parse's callback: 1 (stop) when an alert could not be written. */
static int on_entry(void *arg, const struct ctj_entry *e)
{
	struct value_ctx *v = arg;

	return judge_entry(v->c, v->path, (*v->index)++, e) < 0;
}

/* Every value of the input, judged.  0, or -1 when an alert could not be
 * written. */
static int ct_judge_input(struct certfile_ctx *c, struct ct_in *in, const char *path,
                          uint64_t start)
{
	uint64_t index = start;
	int form = -1;   /* -1 not known yet, 0 line form, 1 page form */
	char why[300];
	int rc = 0;

	while (rc == 0 && ct_skip_space(in) == 0) {
		size_t len = 0;
		int spans;
		enum ct_frame fr = ct_frame(in, form == 0, &len, &spans);
		struct value_ctx vc = { c, path, &index };
		char jerr[200];
		int pr;

		if (fr == CT_BAD_START || fr == CT_OPEN_LINE) {
			say_entry(c, path, index++, fr == CT_BAD_START ?
			          "not JSON: a line that starts with neither '{' nor '['" :
			          "not JSON: a value that does not end on its line");
			ct_skip_line(in);
			continue;
		}
		if (fr == CT_TOO_BIG) {
			snprintf(why, sizeof(why), "a JSON value over --ct-max-json (%zu bytes); "
			         "the rest of its line passed over", in->max);
			say_entry(c, path, index++, why);
			ct_skip_line(in);
			continue;
		}
		/* a get-entries answer's entries are judged as they are read */
		pr = ctj_parse(in->buf + in->off, len, on_entry, &vc, jerr, sizeof(jerr));
		if (pr < 0 && form == -1 && spans && index == start) {
			/* a first value that spans lines and is not JSON: read as
			 * the line form, its first line the bad entry */
			form = 0;
			continue;
		}
		if (form == -1)
			form = spans;
		if (pr < 0) {
			snprintf(why, sizeof(why), "not JSON: %s%s", jerr,
			         fr == CT_CUT ? " (the input ends inside it)" : "");
			say_entry(c, path, index++, why);
			if (fr == CT_CUT && form == 1)
				in->off = in->end;   /* the whole rest was the value */
			else if (form == 0 || fr == CT_CUT)
				ct_skip_line(in);
			else
				in->off += len;
			continue;
		}
		in->off += len;
		rc = pr ? -1 : 0;
	}
	if (in->rd_err)
		certfile_say(c, path, "read error or out of memory; the rest not judged");
	return rc;
}

int ct_judge_file(struct certfile_ctx *c, const char *path, uint64_t start)
{
	struct ct_in in;
	int rc;

	memset(&in, 0, sizeof(in));
	in.f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	if (!in.f) {
		certfile_say(c, path, strerror(errno));
		return 0;
	}
	in.max = c->max_json ? c->max_json : CT_MAX_JSON_BYTES;
	in.cap = CT_WINDOW_START;
	in.buf = malloc(in.cap);   /* freed here */
	if (!in.buf) {
		certfile_say(c, path, "out of memory");
		rc = 0;
	} else {
		rc = ct_judge_input(c, &in, path, start);
	}
	free(in.buf);
	if (in.f != stdin)
		fclose(in.f);
	return rc;
}
