/*
 * certfile.c - chains from certificate files (--certs), judged as a
 * handshake's chain is (certfile.h).
 *
 * Owns: reading a file or directory, splitting it into certificates (PEM
 * blocks, or DER one after another), parsing them (the issuers through a
 * cache of its own), and handing each file's chain to the judge (judge.h)
 * and its alerts to output_handshake.  Must not touch:
 * flows, packets, the alert feed's windows (every file is its own
 * finding: the feed is not used).
 *
 * Every length is checked before use: a DER certificate's header is read
 * with its length bounded by what is left of the file, a certificate over
 * --max-cert-size and a chain over --max-certs are errors of that file.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "run/certfile.h"
#include "verdict/chaincache.h"
#include "verdict/judge.h"
#include "x509/x509.h"

/* ---- splitting a file into certificates -------------------------------- */

/* The length of the DER SEQUENCE at p (header included), bounded by left.
 * 0 when it is not one. */
static size_t der_seq_len(const uint8_t *p, size_t left)
{
	size_t n, v = 0;

	if (left < 2 || p[0] != 0x30)
		return 0;
	if (p[1] < 0x80)
		v = p[1], n = 0;
	else {
		n = p[1] & 0x7Fu;
		if (n == 0 || n > 4 || left - 2 < n)
			return 0;      /* indefinite length, or longer than 4 GB */
		for (size_t i = 0; i < n; i++)
			v = v << 8 | p[2 + i];
	}
	if (v > left - 2 - n)
		return 0;
	return 2 + n + v;
}

int certfile_add_cert(struct tls_cert *out, size_t *n, size_t max_certs, size_t max_cert_size,
                      const uint8_t *der, size_t len, char *err, size_t errlen)
{
	if (*n >= max_certs) {
		snprintf(err, errlen, "more than %zu certificates (--max-certs)", max_certs);
		return -1;
	}
	if (len == 0 || len > max_cert_size) {
		snprintf(err, errlen, "certificate %zu: %zu bytes, over --max-cert-size %zu",
		         *n + 1, len, max_cert_size);
		return -1;
	}
	out[*n].data = malloc(len);    /* freed by certfile_free_certs */
	if (!out[*n].data) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	memcpy(out[*n].data, der, len);
	out[*n].len = len;
	(*n)++;
	return 0;
}

static int parse_pem(const uint8_t *buf, size_t len, size_t max_certs, size_t max_cert_size,
                     struct tls_cert *out, size_t *n, char *err, size_t errlen)
{
	BIO *bio = BIO_new_mem_buf(buf, (int)len);
	char *name = NULL, *header = NULL;
	unsigned char *data = NULL;
	long dlen = 0;
	int rc = 0;

	if (!bio) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	while (rc == 0 && PEM_read_bio(bio, &name, &header, &data, &dlen) == 1) {
		/* A key or a CSR beside the chain is not ours to judge. */
		if (strcmp(name, "CERTIFICATE") == 0 || strcmp(name, "X509 CERTIFICATE") == 0)
			rc = certfile_add_cert(out, n, max_certs, max_cert_size, data, (size_t)dlen, err, errlen);
		OPENSSL_free(name);
		OPENSSL_free(header);
		OPENSSL_free(data);
	}
	if (rc == 0 && ERR_GET_REASON(ERR_peek_last_error()) != PEM_R_NO_START_LINE) {
		snprintf(err, errlen, "malformed PEM block after certificate %zu", *n);
		rc = -1;
	}
	ERR_clear_error();
	BIO_free(bio);
	if (rc == 0 && *n == 0) {
		snprintf(err, errlen, "PEM file without a CERTIFICATE block");
		rc = -1;
	}
	return rc;
}

/* Does "-----BEGIN " stand anywhere in buf (text before it is allowed, as
 * openssl x509 -text writes)? */
static int has_pem_begin(const uint8_t *buf, size_t len)
{
	static const char tag[] = "-----BEGIN ";
	const size_t n = sizeof(tag) - 1;

	for (size_t i = 0; len >= n && i <= len - n; i++)
		if (buf[i] == '-' && memcmp(buf + i, tag, n) == 0)
			return 1;
	return 0;
}

int certfile_parse(const uint8_t *buf, size_t len, size_t max_certs, size_t max_cert_size,
                   struct tls_cert *out, size_t *n, char *err, size_t errlen)
{
	size_t off = 0;
	int rc;

	*n = 0;
	if (len == 0) {
		snprintf(err, errlen, "empty file");
		return -1;
	}
	if (len > CERTFILE_MAX_BYTES || len > (size_t)0x7FFFFFFF) {
		snprintf(err, errlen, "over %u bytes", CERTFILE_MAX_BYTES);
		return -1;
	}
	if (has_pem_begin(buf, len))
		rc = parse_pem(buf, len, max_certs, max_cert_size, out, n, err, errlen);
	else {
		rc = 0;
		while (rc == 0 && off < len) {
			size_t l = der_seq_len(buf + off, len - off);

			if (l == 0 && off == 0)
				snprintf(err, errlen, "not PEM, and not a DER certificate");
			else if (l == 0)
				snprintf(err, errlen, "bytes after certificate %zu (offset %zu) are "
				         "not a DER certificate", *n, off);
			if (l == 0) {
				rc = -1;
				break;
			}
			rc = certfile_add_cert(out, n, max_certs, max_cert_size, buf + off, l, err, errlen);
			off += l;
		}
	}
	if (rc < 0) {
		certfile_free_certs(out, *n);
		*n = 0;
	}
	return rc;
}

void certfile_free_certs(struct tls_cert *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(c[i].data);
		c[i].data = NULL;
	}
}

/* ---- judging one chain ------------------------------------------------- */

static uint64_t wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void certfile_say(struct certfile_ctx *c, const char *path, const char *why)
{
	fprintf(stderr, "%s: %s\n", path, why);
	c->errors++;
}

/* The parsed chain judged (judge.h), and its alerts written.  Returns 0:
 * an alert whose line could not be delivered is counted by the output and
 * makes the exit status 2 (main.c). */
static int judge_chain(struct certfile_ctx *c, const struct certfile_origin *org,
                       const struct tls_cert *der, size_t n, const struct x509_info *certs)
{
	/* errors name the entry of a CT file, as certfile_judge_der's do */
	const char *src = org->errsrc ? org->errsrc : org->source;
	const struct judge j = { c->pol, c->trust, NULL };
	size_t max_res = judge_max_results(c->pol);
	struct policy_result *res = calloc(max_res ? max_res : 1, sizeof(*res));   /* freed here */
	struct judge_input in;
	struct judge_verdicts v;
	struct ev_origin eo;
	struct hs_event ev;

	if (!res) {
		certfile_say(c, src, "out of memory");
		return 0;
	}
	/* No endpoint offline: only the leaf's names can concern an owner. */
	memset(&in, 0, sizeof(in));
	in.hs = POLICY_HS_CHAIN;
	in.der = der;
	in.n = n;
	in.certs = certs;   /* parsed by the caller, issuers from its own cache */
	in.alerts_only = 1;  /* a chain nobody alerts on is not written */
	if (judge_run(&j, &in, res, max_res, &v) < 0) {
		certfile_say(c, src, "out of memory");   /* not reached: certs given */
		goto out;
	}
	c->chains++;
	if (!v.alert)
		goto out;   /* approved, or for no one: nothing to say */
	if (org->note)
		for (size_t i = 0; i < v.n_res; i++) {
			size_t l = strlen(res[i].reason);

			snprintf(res[i].reason + l, sizeof(res[i].reason) - l, " %s", org->note);
		}
	memset(&eo, 0, sizeof(eo));
	eo.source = org->source;
	eo.ct = org->ct;
	eo.ct_index = org->ct_index;
	eo.ct_timestamp_ms = org->ct_timestamp_ms;
	eo.ct_precert = org->ct_precert;
	eo.ct_log = org->ct_log;
	eo.ct_log_url = org->ct_log_url;
	/* No packets: no endpoint and no handshake, only the chain and where
	 * it came from. */
	memset(&ev, 0, sizeof(ev));
	ev.ts_us = wall_us();
	ev.chain = &v.chain;
	ev.verdicts = &v;
	ev.origin = &eo;
	/* Alerts found, delivered or counted as undelivered by the output. */
	c->alerts += (uint64_t)output_handshake(c->out, c->feed, &ev);
out:
	judge_release(&v);
	free(res);
	return 0;
}

static int name_concerns(void *pol, enum certname_kind kind, const uint8_t *v, size_t len)
{
	return policy_leaf_name_concerns(pol, kind, v, len);
}

/* Can the leaf be passed over, its names (read from the DER alone) for no
 * owner?  Offline there is no endpoint, so only the leaf's names make a
 * chain anyone's (policy.c match_leaf); a leaf the walker is not sure of
 * goes the full way, and so does every leaf when the rules protect
 * nothing it could name. */
static int for_no_owner(const struct certfile_ctx *c, const struct tls_cert *leaf)
{
	if (!c->pol)
		return 1;
	return certnames_walk(leaf->data, leaf->len, name_concerns, (void *)c->pol) == 0;
}

/* ---- parsed issuers, kept ---------------------------------------------- */

/* A CT log holds millions of leaves from a few thousand issuers, and
 * OpenSSL 3 takes ~0.2 ms to parse one certificate: what comes after the
 * leaf is looked up in a chain cache of its own (chaincache.h: keyed by
 * the SHA-256 of the bytes, bounded by --chain-cache, least recently used
 * let go, counted in g_stats), so an issuer chain seen before is not
 * parsed again.  Its memos are not used: they belong to whole chains. */
static struct chain_cache *issuers_get(struct certfile_ctx *c)
{
	if (!c->issuers && c->max_issuers > 0)
		c->issuers = chain_cache_new(c->max_issuers, 0);   /* certfile_ctx_release */
	return c->issuers;
}

void certfile_ctx_release(struct certfile_ctx *c)
{
	chain_cache_free(c->issuers);
	c->issuers = NULL;
}

int certfile_for_no_owner(const struct certfile_ctx *c, const uint8_t *der, size_t len)
{
	struct tls_cert leaf = { (uint8_t *)der, len };

	return for_no_owner(c, &leaf);
}

int certfile_judge_der(struct certfile_ctx *c, const struct certfile_origin *org,
                       struct tls_cert *der, size_t n)
{
	const char *src = org->errsrc ? org->errsrc : org->source;
	struct x509_info *certs;
	char err[256];
	struct chain_entry *issuers = NULL;   /* valid until the next chain_cache_get */
	int rc = 0;

	if (n > 0 && for_no_owner(c, &der[0])) {
		c->chains++;
		c->by_names++;
		return 0;
	}
	certs = calloc(n ? n : 1, sizeof(*certs));   /* freed here */
	if (!certs) {
		certfile_say(c, src, "out of memory");
		return 0;
	}
	if (n > 1)
		issuers = chain_cache_get(issuers_get(c), der + 1, n - 1);
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && issuers)
			certs[i] = issuers->certs[i - 1];   /* a view: the cache owns it */
		else
			x509_parse(der[i].data, der[i].len, &certs[i]);
	}
	if (n == 0 || !certs[0].parsed) {
		/* Nothing of an unreadable leaf can match a protected asset. */
		snprintf(err, sizeof(err), "certificate 1: %s", n ? certs[0].error : "none");
		certfile_say(c, src, err);
	} else {
		rc = judge_chain(c, org, der, n, certs);
	}
	for (size_t i = 0; i < (issuers ? 1 : n); i++)
		x509_info_free(&certs[i]);
	free(certs);
	return rc;
}

static int judge_file(struct certfile_ctx *c, const char *path)
{
	struct tls_cert *der = calloc(c->max_certs ? c->max_certs : 1, sizeof(*der));
	struct certfile_origin org = { path, 0, 0, 0, 0, NULL, NULL, NULL, NULL };
	uint8_t *buf = NULL;
	struct stat sb;
	char err[256];
	size_t n = 0;
	FILE *f = NULL;
	int rc = 0;

	c->files++;
	if (!der) {
		certfile_say(c, path, "out of memory");
		return 0;
	}
	f = fopen(path, "rb");
	if (!f || fstat(fileno(f), &sb) < 0) {
		certfile_say(c, path, strerror(errno));
		goto out;
	}
	if (sb.st_size > (off_t)CERTFILE_MAX_BYTES) {
		snprintf(err, sizeof(err), "over %u bytes", CERTFILE_MAX_BYTES);
		certfile_say(c, path, err);
		goto out;
	}
	buf = malloc((size_t)sb.st_size + 1);   /* freed here */
	if (!buf || fread(buf, 1, (size_t)sb.st_size, f) != (size_t)sb.st_size) {
		certfile_say(c, path, buf ? "cannot read it whole" : "out of memory");
		goto out;
	}
	if (certfile_parse(buf, (size_t)sb.st_size, c->max_certs, c->max_cert_size, der, &n, err,
	                   sizeof(err)) < 0) {
		certfile_say(c, path, err);
		goto out;
	}
	rc = certfile_judge_der(c, &org, der, n);
out:
	certfile_free_certs(der, n);
	free(der);
	free(buf);
	if (f)
		fclose(f);
	return rc;
}

static int judge_dir(struct certfile_ctx *c, const char *path)
{
	struct dirent **names = NULL;
	int all = scandir(path, &names, NULL, alphasort), n = all, rc = 0;

	if (all < 0) {
		certfile_say(c, path, strerror(errno));
		return 0;
	}
	if ((unsigned)all > CERTFILE_MAX_DIR_FILES) {
		char why[96];

		snprintf(why, sizeof(why), "more than %u files: the first judged",
		         CERTFILE_MAX_DIR_FILES);
		certfile_say(c, path, why);
		n = (int)CERTFILE_MAX_DIR_FILES;
	}
	for (int i = 0; i < n; i++) {
		char p[4096];
		struct stat sb;

		if (names[i]->d_name[0] != '.' && rc == 0 &&
		    (size_t)snprintf(p, sizeof(p), "%s/%s", path, names[i]->d_name) < sizeof(p) &&
		    stat(p, &sb) == 0 && S_ISREG(sb.st_mode))
			rc = judge_file(c, p);
	}
	for (int i = 0; i < all; i++)
		free(names[i]);
	free(names);
	return rc;
}

int certfile_judge_path(struct certfile_ctx *c, const char *path)
{
	struct stat sb;

	if (stat(path, &sb) < 0) {
		certfile_say(c, path, strerror(errno));
		return 0;
	}
	return S_ISDIR(sb.st_mode) ? judge_dir(c, path) : judge_file(c, path);
}
