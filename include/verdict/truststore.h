/*
 * truststore.h - who else would trust a chain the owner did not approve.
 *
 * An unapproved chain for a protected asset is bad news in three grades
 * (DESIGN.md "Feeds"): a publicly trusted CA issued it (the seed case: a
 * browser or resolver client accepts it, so anyone holding it can
 * intercept), a CA nobody's program trusts issued it (an interception
 * proxy or a private CA: clients that installed that CA accept it), or
 * nothing verifies it at all (self-signed, issuer not sent, a broken
 * signature).  Root programs differ - the Fina root of the 1.1.1.1 case
 * was only in Microsoft's - so several stores can be loaded, each with
 * its own name, and an alert names every store whose roots it reaches.
 *
 * As everywhere in certsentry (policy.h), only signatures decide: dates,
 * purposes and name constraints do not.  The stores are loaded once and
 * only read afterwards, so the workers share them without a lock.
 */
#ifndef CS_TRUSTSTORE_H
#define CS_TRUSTSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "x509/x509.h"

#define TRUST_MAX_STORES   8     /* --trust-store given at most this often */
#define TRUST_NAME_MAX     32    /* a store's name, NUL included */
/* Bytes of one store file: Debian's whole bundle is about 200 KB.  A
 * larger file is refused before it is read, and so is a --trust-store
 * that is not a regular file or a directory (a FIFO, a socket, a device):
 * it could block the start or never end. */
#define TRUST_MAX_FILE_BYTES (16u * 1024u * 1024u)
/* Certificates in one store, and files read from one directory. */
#define TRUST_MAX_CERTS      100000u
#define TRUST_MAX_DIR_FILES  100000u
/* The default store: Debian's ca-certificates bundle, Mozilla's program. */
#define TRUST_DEFAULT_PATH "/etc/ssl/certs/ca-certificates.crt"
#define TRUST_DEFAULT_NAME "system"

enum trust_class {
	TRUST_UNKNOWN = 0,  /* not classified (no chain, or no stores loaded) */
	TRUST_PUBLIC,       /* verifies to a root of a loaded store */
	TRUST_PRIVATE,      /* a presented CA certificate signs the leaf, but
	                       no store's root is reached */
	TRUST_NONE,         /* nothing verifies the leaf: self-signed, issuer
	                       not sent, or a signature that does not verify */
};

/* One store whose roots the chain reaches. */
struct trust_hit {
	char store[TRUST_NAME_MAX];
	char root_subject[256];
	char root_sha256[65];
};

/* What one chain is, per loaded stores; kept with the chain (chaincache.h)
 * so that a chain seen again is not verified again. */
struct trust_memo {
	uint8_t done;
	uint8_t cls;                      /* enum trust_class */
	uint8_t n_hits;
	struct trust_hit hits[TRUST_MAX_STORES];
};

struct trust_stores;

/* specs: "[NAME=]PATH", PATH a PEM bundle file or a directory of PEM or
 * DER files (every regular file in it; those that are not certificates
 * are skipped and counted).  NAME defaults to the file's base name.  With
 * n == 0 the default store is loaded when its file exists (a machine
 * without ca-certificates gets no public grade; a note says so).  NULL
 * with err set ("PATH: reason") when a given store cannot be read or
 * holds no certificate, or on a repeated name. */
struct trust_stores *trust_load(const char *const *specs, size_t n, char *err, size_t errlen);
void trust_free(struct trust_stores *t);

size_t trust_count(const struct trust_stores *t);
/* Name and number of certificates of store i, for the summary. */
const char *trust_name(const struct trust_stores *t, size_t i, size_t *n_certs);

/* Classify certs[0..n) (leaf first, as sent; certs[0] parsed) into m.
 * Reads m when m->done.  Never fails: out of memory during a store's
 * verification leaves that store out. */
void trust_classify(const struct trust_stores *t, const struct x509_info *certs, size_t n,
                    struct trust_memo *m);

/* "public", "private", "none", "unknown" */
const char *trust_class_name(enum trust_class c);

#endif
