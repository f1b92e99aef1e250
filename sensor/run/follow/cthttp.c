/*
 * cthttp.c - the follower's HTTP client over libcurl's multi interface
 * (cthttp.h).
 */
#include "cthttp.h"

#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

struct cth_req {
	CURL *easy;
	uint8_t *body;          /* malloc'd; handed to done */
	size_t len, cap, max;
	int too_big;
	cth_done_fn done;
	void *arg;
	char errbuf[CURL_ERROR_SIZE];
	struct cth_req *prev, *next;   /* the running ones (cth_free) */
};

struct cth {
	CURLM *multi;
	struct cth_opts o;
	int running;
	struct cth_req *reqs;   /* running requests, owned */
};

static int curl_ready;

struct cth *cth_new(const struct cth_opts *o, char *err, size_t errlen)
{
	struct cth *h;

	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			snprintf(err, errlen, "libcurl could not be initialised");
			return NULL;
		}
		curl_ready = 1;
	}
	h = calloc(1, sizeof(*h));   /* owned by the caller: cth_free */
	if (!h || !(h->multi = curl_multi_init())) {
		free(h);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	h->o = *o;
	/* HTTP/2 multiplexes a log's requests on one connection; over
	 * HTTP/1.1 each host gets at most max_conns kept-alive ones. */
	curl_multi_setopt(h->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
	curl_multi_setopt(h->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
	                  (long)(o->max_conns ? o->max_conns : 4));
	return h;
}

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
	struct cth_req *r = arg;
	size_t len = size * n;

	if (len > r->max - r->len) {
		r->too_big = 1;
		return 0;   /* curl stops the transfer (CURLE_WRITE_ERROR) */
	}
	if (r->len + len > r->cap) {
		size_t cap = r->cap ? r->cap : 16384;
		uint8_t *nb;

		while (cap < r->len + len)
			cap *= 2;
		if (cap > r->max)
			cap = r->max;
		nb = realloc(r->body, cap);
		if (!nb)
			return 0;
		r->body = nb;
		r->cap = cap;
	}
	memcpy(r->body + r->len, p, len);
	r->len += len;
	return len;
}

int cth_get(struct cth *h, const char *url, size_t max_bytes, cth_done_fn done, void *arg)
{
	struct cth_req *r = calloc(1, sizeof(*r));   /* freed when it ends (finish) */

	if (!r || !(r->easy = curl_easy_init())) {
		free(r);
		return -1;
	}
	r->max = max_bytes;
	r->done = done;
	r->arg = arg;
	curl_easy_setopt(r->easy, CURLOPT_URL, url);
	curl_easy_setopt(r->easy, CURLOPT_PRIVATE, r);
	curl_easy_setopt(r->easy, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(r->easy, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(r->easy, CURLOPT_ERRORBUFFER, r->errbuf);
	curl_easy_setopt(r->easy, CURLOPT_USERAGENT, h->o.user_agent);
	curl_easy_setopt(r->easy, CURLOPT_ACCEPT_ENCODING, "");   /* gzip, deflate, br... */
	curl_easy_setopt(r->easy, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	curl_easy_setopt(r->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(r->easy, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(r->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(r->easy, CURLOPT_CONNECTTIMEOUT, 15L);
	curl_easy_setopt(r->easy, CURLOPT_TIMEOUT, (long)(h->o.timeout_s ? h->o.timeout_s : 120));
	/* TLS verified (libcurl's default, said here so no one turns it off) */
	curl_easy_setopt(r->easy, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(r->easy, CURLOPT_SSL_VERIFYHOST, 2L);
	if (h->o.ca_file)
		curl_easy_setopt(r->easy, CURLOPT_CAINFO, h->o.ca_file);
	if (curl_multi_add_handle(h->multi, r->easy) != CURLM_OK) {
		curl_easy_cleanup(r->easy);
		free(r);
		return -1;
	}
	h->running++;
	r->next = h->reqs;
	if (h->reqs)
		h->reqs->prev = r;
	h->reqs = r;
	return 0;
}

static void unlink_req(struct cth *h, struct cth_req *r)
{
	if (r->prev)
		r->prev->next = r->next;
	else
		h->reqs = r->next;
	if (r->next)
		r->next->prev = r->prev;
}

static void finish(struct cth *h, CURLMsg *m)
{
	struct cth_req *r = NULL;
	struct cth_result res;
	curl_off_t ra = 0;

	curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
	memset(&res, 0, sizeof(res));
	res.err = "";
	if (m->data.result == CURLE_OK) {
		curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &res.status);
		if (curl_easy_getinfo(r->easy, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK && ra > 0)
			res.retry_after_s = (uint64_t)ra;
	} else {
		res.err = r->too_big ? "the answer is larger than allowed" :
		          r->errbuf[0] ? r->errbuf : curl_easy_strerror(m->data.result);
	}
	res.body = r->body;
	res.len = r->len;
	res.too_big = r->too_big;
	res.arg = r->arg;
	curl_multi_remove_handle(h->multi, r->easy);
	curl_easy_cleanup(r->easy);
	h->running--;
	unlink_req(h, r);
	r->done(&res);   /* owns res.body from here */
	free(r);
}

int cth_run(struct cth *h, int timeout_ms)
{
	CURLMsg *m;
	int still = 0, left;

	if (h->running)
		curl_multi_poll(h->multi, NULL, 0, timeout_ms, NULL);
	curl_multi_perform(h->multi, &still);
	while ((m = curl_multi_info_read(h->multi, &left)))
		if (m->msg == CURLMSG_DONE)
			finish(h, m);
	return h->running;
}

int cth_running(const struct cth *h)
{
	return h->running;
}

void cth_free(struct cth *h)
{
	struct cth_req *r, *next;

	if (!h)
		return;
	/* Transfers still running are dropped, their callbacks not run. */
	for (r = h->reqs; r; r = next) {
		next = r->next;
		curl_multi_remove_handle(h->multi, r->easy);
		curl_easy_cleanup(r->easy);
		if (h->o.drop)
			h->o.drop(r->arg);
		free(r->body);
		free(r);
	}
	curl_multi_cleanup(h->multi);
	free(h);
}
