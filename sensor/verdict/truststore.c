/*
 * truststore.c - public and private trust of unapproved chains (see
 * include/verdict/truststore.h).  With policy.c and x509.c one of the three
 * modules that use OpenSSL's X509 API: it owns the --trust-store roots
 * and nothing else; the owner's approval is policy.c's.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "core/fileio.h"
#include "verdict/truststore.h"


struct store {
	char name[TRUST_NAME_MAX];
	X509_STORE *xs;             /* owned; its certificates are references */
	X509 **roots;               /* owned array of n_roots references: the
	                               anchors found, named only on a hit */
	size_t n_roots, cap_roots;
	size_t skipped;             /* directory files that held no certificate */
};

struct trust_stores {
	struct store s[TRUST_MAX_STORES];
	size_t n;
};

const char *trust_class_name(enum trust_class c)
{
	switch (c) {
	case TRUST_PUBLIC:  return "public";
	case TRUST_PRIVATE: return "private";
	case TRUST_NONE:    return "none";
	default:            return "unknown";
	}
}

/* ---- loading ------------------------------------------------------------- */

/* One certificate (DER) into the store.  0, or -1 on a limit or no memory;
 * a duplicate (bundles repeat roots) is not an error. */
static int store_add_x509(struct store *st, X509 *x)
{
	if (st->n_roots >= TRUST_MAX_CERTS) {
		X509_free(x);
		return -1;
	}
	if (st->n_roots == st->cap_roots) {
		size_t cap = st->cap_roots ? st->cap_roots * 2 : 64;
		X509 **r = realloc(st->roots, cap * sizeof(*r));

		if (r == NULL) {
			X509_free(x);
			return -1;
		}
		st->roots = r;
		st->cap_roots = cap;
	}
	/* X509_STORE_add_cert takes its own reference; roots keeps ours.  The
	 * certificate is parsed once, by PEM_read or d2i: a bundle of 140
	 * roots costs what reading it costs, and names and hashes are worked
	 * out only for the root a chain reaches (reaches). */
	if (!X509_STORE_add_cert(st->xs, x))
		ERR_clear_error();  /* already there */
	st->roots[st->n_roots++] = x;
	return 0;
}

/* Every certificate of a file: PEM blocks, or else the whole file as one
 * DER certificate.  Only a regular file of at most TRUST_MAX_FILE_BYTES
 * (fileio.h): a FIFO given as --trust-store would block the start, a
 * device never end.  Returns certificates added, or -1 with err
 * "PATH: reason". */
static long store_add_file(struct store *st, const char *path, char *err, size_t errlen)
{
	size_t before = st->n_roots, len = 0;
	uint8_t *buf = NULL;   /* owned here; freed below */
	long ret = -1;
	BIO *bio = NULL;
	X509 *x;

	if (fileio_read_all(path, TRUST_MAX_FILE_BYTES, &buf, &len, err, errlen) < 0)
		return -1;
	bio = BIO_new_mem_buf(buf, (int)len);   /* len <= 16 MiB: fits an int */
	if (bio == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto out;
	}
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL)
		if (store_add_x509(st, x) < 0) {
			snprintf(err, errlen, "%s: more than %u certificates, or out of memory", path,
			         TRUST_MAX_CERTS);
			goto out;
		}
	ERR_clear_error();   /* the end of the PEM blocks */
	if (st->n_roots == before && len > 0) {
		const unsigned char *p = buf;

		x = d2i_X509(NULL, &p, (long)len);
		if (x == NULL) {
			ERR_clear_error();
			st->skipped++;
		} else if (store_add_x509(st, x) < 0) {
			snprintf(err, errlen, "%s: more than %u certificates, or out of memory", path,
			         TRUST_MAX_CERTS);
			goto out;
		}
	}
	ret = (long)(st->n_roots - before);
out:
	BIO_free(bio);
	free(buf);
	return ret;
}

static int store_add_dir(struct store *st, const char *path, char *err, size_t errlen)
{
	DIR *d = opendir(path);
	struct dirent *de;
	size_t files = 0;

	if (d == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		char p[4096], why[512];
		struct stat sb;

		if (de->d_name[0] == '.')
			continue;
		if (++files > TRUST_MAX_DIR_FILES) {
			snprintf(err, errlen, "%s: more than %u files", path, TRUST_MAX_DIR_FILES);
			closedir(d);
			return -1;
		}
		/* What is not a regular file (a FIFO, a socket, a subdirectory)
		 * is skipped and counted like a file that holds no certificate:
		 * a store directory is the system's, with more than certificates
		 * in it; fileio refuses whatever turns into one after the stat. */
		if ((size_t)snprintf(p, sizeof(p), "%s/%s", path, de->d_name) >= sizeof(p) ||
		    stat(p, &sb) < 0 || !S_ISREG(sb.st_mode)) {
			st->skipped++;
			continue;
		}
		/* A hashed directory (c_rehash) links every file twice: the
		 * duplicates are dropped by the store. */
		if (store_add_file(st, p, why, sizeof(why)) <= 0)
			st->skipped++;
	}
	closedir(d);
	return 0;
}

/* "[NAME=]PATH": the name before '=' when it looks like one, else the
 * path's base name without its extension. */
static void spec_split(const char *spec, char name[TRUST_NAME_MAX], const char **path)
{
	const char *eq = strchr(spec, '='), *base, *dot;
	size_t n;

	if (eq != NULL && eq != spec && (size_t)(eq - spec) < TRUST_NAME_MAX &&
	    strcspn(spec, "/") > (size_t)(eq - spec)) {
		memcpy(name, spec, (size_t)(eq - spec));
		name[eq - spec] = 0;
		*path = eq + 1;
		return;
	}
	*path = spec;
	base = strrchr(spec, '/');
	base = base ? base + 1 : spec;
	dot = strchr(base, '.');
	n = dot && dot != base ? (size_t)(dot - base) : strlen(base);
	if (n >= TRUST_NAME_MAX)
		n = TRUST_NAME_MAX - 1;
	memcpy(name, base, n);
	name[n] = 0;
}

static int store_load(struct trust_stores *t, const char *name, const char *path,
                      char *err, size_t errlen)
{
	struct store *st = &t->s[t->n];
	struct stat sb;

	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->s[i].name, name) == 0) {
			snprintf(err, errlen, "%s: trust store name '%s' given twice", path, name);
			return -1;
		}
	memset(st, 0, sizeof(*st));
	snprintf(st->name, sizeof(st->name), "%s", name);
	st->xs = X509_STORE_new();
	if (st->xs == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	t->n++;   /* from here on trust_free releases it */
	if (stat(path, &sb) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (S_ISDIR(sb.st_mode)) {
		if (store_add_dir(st, path, err, errlen) < 0)
			return -1;
	} else if (store_add_file(st, path, err, errlen) < 0) {
		return -1;
	}
	if (st->n_roots == 0) {
		snprintf(err, errlen, "%s: no certificate in trust store '%s'", path, name);
		return -1;
	}
	return 0;
}

struct trust_stores *trust_load(const char *const *specs, size_t n, char *err, size_t errlen)
{
	struct trust_stores *t = calloc(1, sizeof(*t));   /* owned by the caller */
	int with_default = 1;

	if (t == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		if (strcmp(specs[i], "none") == 0)
			with_default = 0;
	if (with_default && access(TRUST_DEFAULT_PATH, R_OK) == 0 &&
	    store_load(t, TRUST_DEFAULT_NAME, TRUST_DEFAULT_PATH, err, errlen) < 0)
		goto err;
	for (size_t i = 0; i < n; i++) {
		char name[TRUST_NAME_MAX];
		const char *path;

		if (strcmp(specs[i], "none") == 0)
			continue;
		if (t->n == TRUST_MAX_STORES) {
			snprintf(err, errlen, "%s: at most %d trust stores", specs[i], TRUST_MAX_STORES);
			goto err;
		}
		spec_split(specs[i], name, &path);
		if (store_load(t, name, path, err, errlen) < 0)
			goto err;
	}
	return t;
err:
	trust_free(t);
	return NULL;
}

void trust_free(struct trust_stores *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->n; i++) {
		X509_STORE_free(t->s[i].xs);
		for (size_t k = 0; k < t->s[i].n_roots; k++)
			X509_free(t->s[i].roots[k]);
		free(t->s[i].roots);
	}
	free(t);
}

size_t trust_count(const struct trust_stores *t)
{
	return t ? t->n : 0;
}

const char *trust_name(const struct trust_stores *t, size_t i, size_t *n_certs)
{
	if (t == NULL || i >= t->n)
		return NULL;
	if (n_certs)
		*n_certs = t->s[i].n_roots;
	return t->s[i].name;
}

/* ---- classifying --------------------------------------------------------- */

/* The store's own certificate that is the anchor of a verified chain. */
static X509 *root_of(const struct store *st, X509 *top)
{
	for (size_t i = 0; i < st->n_roots; i++)
		if (st->roots[i] == top || X509_cmp(st->roots[i], top) == 0)
			return st->roots[i];
	return NULL;
}

/* The hit's names and hash, from the root's DER (once per chain: the
 * chain cache keeps the result). */
static int name_hit(struct trust_hit *hit, const struct store *st, X509 *root)
{
	unsigned char *der = NULL;
	int n = i2d_X509(root, &der);
	struct x509_info xi;
	int rc = -1;

	memset(&xi, 0, sizeof(xi));
	if (n > 0 && x509_parse(der, (size_t)n, &xi) == 0) {
		snprintf(hit->store, sizeof(hit->store), "%s", st->name);
		snprintf(hit->root_subject, sizeof(hit->root_subject), "%s",
		         xi.subject ? xi.subject : "");
		memcpy(hit->root_sha256, xi.sha256, sizeof(hit->root_sha256));
		rc = 0;
	}
	x509_info_free(&xi);
	OPENSSL_free(der);
	return rc;
}

/* 1 when the leaf verifies up to a certificate of st (its anchor in *hit). */
static int reaches(const struct store *st, const struct x509_info *certs, size_t n,
                   struct trust_hit *hit)
{
	STACK_OF(X509) *untrusted = sk_X509_new_null();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	X509_VERIFY_PARAM *param;
	X509 *root;
	STACK_OF(X509) *chain;
	int ok = 0;

	if (untrusted == NULL || ctx == NULL)
		goto out;
	for (size_t i = 0; i < n; i++)
		if (certs[i].parsed && !sk_X509_push(untrusted, certs[i].x509))
			goto out;
	if (!X509_STORE_CTX_init(ctx, st->xs, certs[0].x509, untrusted))
		goto out;
	X509_STORE_CTX_set_verify_cb(ctx, x509_verify_cb);
	param = X509_STORE_CTX_get0_param(ctx);
	/* As policy.c: dates never decide, old algorithms still verify; a
	 * store's intermediate is an anchor of that store. */
	X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN | X509_V_FLAG_NO_CHECK_TIME);
	X509_VERIFY_PARAM_set_auth_level(param, 0);
	if (X509_verify_cert(ctx) != 1)
		goto out;
	chain = X509_STORE_CTX_get0_chain(ctx);
	root = root_of(st, sk_X509_value(chain, sk_X509_num(chain) - 1));
	/* root NULL cannot happen: the anchor came from the store */
	ok = root != NULL && name_hit(hit, st, root) == 0;
out:
	X509_STORE_CTX_free(ctx);
	sk_X509_free(untrusted);
	ERR_clear_error();
	return ok;
}

/* A presented CA certificate other than the leaf whose key verifies the
 * leaf's signature: someone issued it, though no store trusts them. */
static int presented_issuer(const struct x509_info *certs, size_t n)
{
	X509 *leaf = certs[0].x509;
	int found = 0;

	for (size_t i = 1; i < n && !found; i++) {
		EVP_PKEY *key;

		if (!certs[i].parsed || X509_cmp(certs[i].x509, leaf) == 0 ||
		    X509_check_issued(certs[i].x509, leaf) != X509_V_OK)
			continue;
		key = X509_get0_pubkey(certs[i].x509);
		found = key != NULL && X509_verify(leaf, key) == 1;
	}
	ERR_clear_error();
	return found;
}

void trust_classify(const struct trust_stores *t, const struct x509_info *certs, size_t n,
                    struct trust_memo *m)
{
	if (m->done)
		return;
	memset(m, 0, sizeof(*m));
	m->done = 1;
	if (n == 0 || !certs[0].parsed)
		return;   /* TRUST_UNKNOWN */
	for (size_t i = 0; t != NULL && i < t->n; i++)
		if (reaches(&t->s[i], certs, n, &m->hits[m->n_hits]))
			m->n_hits++;
	if (m->n_hits)
		m->cls = TRUST_PUBLIC;
	else if (presented_issuer(certs, n))
		m->cls = TRUST_PRIVATE;
	else
		m->cls = TRUST_NONE;
}
