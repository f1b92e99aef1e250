/*
 * cthttp.h - HTTP GETs for the CT follower, many at once on one thread
 * (libcurl's multi interface: connections kept alive and shared by every
 * request to a host, HTTP/2 multiplexing where the server offers it, TLS
 * verified against the system's CA store or --ct-ca-file).
 *
 * Why libcurl: a log is HTTPS with HTTP/2, redirects refused, gzip
 * accepted, Retry-After in both its forms; writing that by hand would be
 * a TLS client with connection reuse - more code than the follower.
 *
 * Private to sensor/run/follow/.
 */
#ifndef CS_CTHTTP_H
#define CS_CTHTTP_H

#include <stddef.h>
#include <stdint.h>

struct cth;
struct cth_req;

/* What a request came back with.  body is malloc'd and handed to the
 * callback, which owns it (frees it, or keeps it). */
struct cth_result {
	long status;            /* HTTP status; 0 when no answer came (err says why) */
	uint8_t *body;          /* owned by the callback; NULL when empty */
	size_t len;
	uint64_t retry_after_s; /* Retry-After, seconds (0: none) */
	int too_big;            /* the body passed the request's bound: cut, err says so */
	const char *err;        /* transport error in curl's words, or "" */
	void *arg;              /* the caller's */
};

typedef void (*cth_done_fn)(const struct cth_result *r);

struct cth_opts {
	const char *ca_file;    /* NULL: the system's store */
	const char *user_agent;
	unsigned timeout_s;     /* a whole request */
	unsigned max_conns;     /* per host */
	void (*drop)(void *arg);   /* cth_free: each request still running, its arg
	                              handed back (done is not called); may be NULL */
};

/* NULL with err set. */
struct cth *cth_new(const struct cth_opts *o, char *err, size_t errlen);
void cth_free(struct cth *h);

/* Start GET url (copied); done(r) runs from cth_run when it ends,
 * whatever the outcome.  max_bytes bounds the body.  0, or -1 (out of
 * memory: done is not called). */
int cth_get(struct cth *h, const char *url, size_t max_bytes, cth_done_fn done, void *arg);

/* Move every transfer on, waiting at most timeout_ms for one to have
 * something to do, and call done for those that ended.  Returns the
 * number of transfers still running. */
int cth_run(struct cth *h, int timeout_ms);

/* Transfers running. */
int cth_running(const struct cth *h);

#endif
