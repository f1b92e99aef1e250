/*
 * loglist.c - the CT logs to follow: Chrome's log_list.json v3 or a short
 * text list (see include/ct/loglist.h).
 *
 * One bad log is refused, said and counted; the others are kept, so a
 * list that gains a log certsentry cannot read still monitors the rest.
 *
 * Must not: fetch anything.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "ct/loglist.h"
#include "ct_int.h"

/* The smallest RSA key a log may have (Chrome's CT policy: 2048). */
#define LOG_RSA_MIN_BITS 2048
/* Bytes of a warning. */
#define WARN_MAX 512

/* What one parse carries: where to say things, and the list being made. */
struct lp {
	const char *path;
	ct_loglist_warn_fn warn;
	void *ctx;
	struct ct_log_list *out;
	size_t cap;                 /* room in out->logs */
};

/* Says "PATH: where: why" (JSON) or "PATH:LINE: why" (text) and counts a
 * refused entry. */
static void refuse(struct lp *p, const char *where, const char *fmt, ...)
{
	char why[WARN_MAX / 2], msg[WARN_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	snprintf(msg, sizeof msg, "%s%s%s: %s", p->path, where[0] == ':' ? "" : ": ", where, why);
	for (char *c = msg; *c; c++)   /* a list's text reaches a terminal or a log */
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
	p->out->refused++;
	if (p->warn)
		p->warn(p->ctx, msg);
}

static void desc_free(struct ct_log_desc *d)
{
	free(d->name);
	free(d->operator_name);
	free(d->url);
	free(d->origin);
	free(d->key_der);
	EVP_PKEY_free(d->key);
	memset(d, 0, sizeof *d);
}

void ct_loglist_free(struct ct_log_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		desc_free(&l->logs[i]);
	free(l->logs);
	memset(l, 0, sizeof *l);
}

static char *dup_n(const char *s, size_t n)
{
	char *d = malloc(n + 1);   /* owned by the caller */

	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

/* ---- one log, whatever the form --------------------------------------------- */

/* The key: base64 DER SubjectPublicKeyInfo, EC P-256 or RSA of at least
 * 2048 bits, nothing after it.  NULL with d->key, key_der, log_id set, or
 * why not. */
static const char *take_key(struct ct_log_desc *d, const char *b64, size_t len)
{
	uint8_t *der;
	const uint8_t *p;
	long n;
	unsigned int hl = 0;
	char group[64];

	if (len > 4 * ((CT_LOG_KEY_MAX + 2) / 3))
		return "key: longer than CT_LOG_KEY_MAX";
	der = malloc(CT_LOG_KEY_MAX);   /* owned by d once taken, freed by desc_free */
	if (!der)
		return "out of memory";
	n = ct_b64_decode(b64, len, der, CT_LOG_KEY_MAX);
	if (n <= 0) {
		free(der);
		return "key: not base64";
	}
	d->key_der = der;
	d->key_len = (size_t)n;
	p = der;
	d->key = d2i_PUBKEY(NULL, &p, n);
	if (!d->key)
		return "key: not a DER SubjectPublicKeyInfo";
	if (p != der + n)
		return "key: bytes after the SubjectPublicKeyInfo";
	switch (EVP_PKEY_get_base_id(d->key)) {
	case EVP_PKEY_EC:
		if (EVP_PKEY_get_group_name(d->key, group, sizeof group, NULL) != 1 ||
		    (strcmp(group, "prime256v1") != 0 && strcmp(group, "P-256") != 0))
			return "key: an EC key not on P-256";
		break;
	case EVP_PKEY_RSA:
		if (EVP_PKEY_get_bits(d->key) < LOG_RSA_MIN_BITS)
			return "key: an RSA key of fewer than 2048 bits";
		break;
	default:
		return "key: neither EC P-256 nor RSA";
	}
	if (EVP_Digest(der, (size_t)n, d->log_id, &hl, EVP_sha256(), NULL) != 1 ||
	    hl != CT_HASH_LEN)
		return "key: SHA-256 failed";
	return NULL;
}

/* An http(s) URL into an owned copy ending in '/'.  NULL, or why not
 * (in why[0..whylen), naming what). */
static const char *take_url(char **out, const char *s, size_t len, const char *what,
                            char *why, size_t whylen)
{
	size_t scheme;
	const char *bad = NULL;

	if (len >= 8 && strncmp(s, "https://", 8) == 0)
		scheme = 8;
	else if (len >= 7 && strncmp(s, "http://", 7) == 0)
		scheme = 7;
	else
		bad = "not an http(s) URL";
	if (!bad && (len == scheme || s[scheme] == '/'))
		bad = "no host";
	for (size_t i = 0; !bad && i < len; i++)
		if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f)
			bad = "a space or control character";
	if (bad) {
		snprintf(why, whylen, "%s: %s", what, bad);
		return why;
	}
	*out = malloc(len + 2);   /* owned by the desc, freed by desc_free */
	if (!*out)
		return "out of memory";
	memcpy(*out, s, len);
	(*out)[len] = '\0';
	if (s[len - 1] != '/')
		strcat(*out, "/");
	return NULL;
}

/* A static log's checkpoint origin from its submission URL (C2SP
 * static-ct-api: the submission prefix as a schema-less URL with no
 * trailing slashes).  NULL, or why not. */
static const char *take_origin(struct ct_log_desc *d, const char *sub, size_t len, char *why,
                               size_t whylen)
{
	char *u = NULL;
	const char *bad = take_url(&u, sub, len, "submission_url", why, whylen);
	size_t skip, n;

	if (bad)
		return bad;
	skip = strncmp(u, "https://", 8) == 0 ? 8 : 7;
	n = strlen(u);
	while (n > skip && u[n - 1] == '/')
		n--;
	d->origin = dup_n(u + skip, n - skip);   /* owned by d */
	free(u);
	return d->origin ? NULL : "out of memory";
}

/* Is this log already in the list?  Its index, or -1. */
static long find_log(const struct ct_log_list *l, const uint8_t id[CT_HASH_LEN])
{
	for (size_t i = 0; i < l->n; i++)
		if (memcmp(l->logs[i].log_id, id, CT_HASH_LEN) == 0)
			return (long)i;
	return -1;
}

/* Takes d into the list (d's memory moves in) or refuses it.  0 taken. */
static int keep(struct lp *p, struct ct_log_desc *d, const char *where)
{
	struct ct_log_desc *grown;

	if (find_log(p->out, d->log_id) >= 0) {
		refuse(p, where, "the same log (key) as an earlier entry");
		desc_free(d);
		return -1;
	}
	if (p->out->n >= CT_LOGLIST_MAX_LOGS) {
		refuse(p, where, "more than CT_LOGLIST_MAX_LOGS (%u) logs", CT_LOGLIST_MAX_LOGS);
		desc_free(d);
		return -1;
	}
	if (p->out->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 16;

		grown = realloc(p->out->logs, cap * sizeof *grown);   /* owned by the list */
		if (!grown) {
			refuse(p, where, "out of memory");
			desc_free(d);
			return -1;
		}
		p->out->logs = grown;
		p->cap = cap;
	}
	p->out->logs[p->out->n++] = *d;
	return 0;
}

/* ---- log_list.json v3 ---------------------------------------------------------- */

static const char *str_of(json_t *o, const char *name, size_t *len)
{
	json_t *v = json_object_get(o, name);

	if (!json_is_string(v))
		return NULL;
	*len = json_string_length(v);
	return json_string_value(v);
}

static const struct {
	const char *name;
	enum ct_log_state state;
} states[] = {
	{ "pending", CT_STATE_PENDING },   { "qualified", CT_STATE_QUALIFIED },
	{ "usable", CT_STATE_USABLE },     { "readonly", CT_STATE_READONLY },
	{ "retired", CT_STATE_RETIRED },   { "rejected", CT_STATE_REJECTED },
};

/* readonly's final_tree_head, when given.  NULL, or why it is wrong. */
static const char *take_final(struct ct_log_desc *d, json_t *ro)
{
	json_t *fth = json_object_get(ro, "final_tree_head"), *sz;
	const char *r;
	size_t rl;
	uint8_t root[CT_HASH_LEN + 1];

	if (!fth)
		return NULL;
	sz = json_object_get(fth, "tree_size");
	r = str_of(fth, "sha256_root_hash", &rl);
	if (!json_is_integer(sz) || json_integer_value(sz) < 0)
		return "state.readonly.final_tree_head.tree_size: not a non-negative integer";
	if (!r || ct_b64_decode(r, rl, root, sizeof root) != CT_HASH_LEN)
		return "state.readonly.final_tree_head.sha256_root_hash: not base64 of 32 bytes";
	d->has_final = 1;
	d->final_size = (uint64_t)json_integer_value(sz);
	memcpy(d->final_root, root, CT_HASH_LEN);
	return NULL;
}

/* The state object: one member, named after a state.  NULL, or why not. */
static const char *take_state(struct ct_log_desc *d, json_t *log)
{
	json_t *st = json_object_get(log, "state");
	const char *key;
	json_t *val;

	if (!json_is_object(st) || json_object_size(st) != 1)
		return "state: not an object with one member";
	json_object_foreach(st, key, val) {
		for (size_t i = 0; i < sizeof states / sizeof states[0]; i++)
			if (strcmp(key, states[i].name) == 0) {
				d->state = states[i].state;
				return d->state == CT_STATE_READONLY ? take_final(d, val) : NULL;
			}
	}
	return "state: not one of pending, qualified, usable, readonly, retired, rejected";
}

/* The fields of one log object into d.  NULL, or why it is refused. */
static const char *take_json_log(struct ct_log_desc *d, json_t *log, enum ct_log_api api,
                                 char *wb, size_t wbl)
{
	const char *s, *why;
	size_t n;
	uint8_t id[CT_HASH_LEN + 1];
	json_t *mmd;

	if (!json_is_object(log))
		return "not an object";
	d->api = api;
	if (!(s = str_of(log, "description", &n)) || !(d->name = dup_n(s, n)))
		return "description: missing or not a string";
	if (!(s = str_of(log, "key", &n)))
		return "key: missing or not a string";
	if ((why = take_key(d, s, n)) != NULL)
		return why;
	if (!(s = str_of(log, "log_id", &n)) || ct_b64_decode(s, n, id, sizeof id) != CT_HASH_LEN)
		return "log_id: not base64 of 32 bytes";
	if (memcmp(id, d->log_id, CT_HASH_LEN) != 0)
		return "log_id is not the SHA-256 of key";
	if (api == CT_API_RFC6962) {
		if (!(s = str_of(log, "url", &n)))
			return "url: missing or not a string";
		if ((why = take_url(&d->url, s, n, "url", wb, wbl)) != NULL)
			return why;
	} else {
		if (!(s = str_of(log, "monitoring_url", &n)))
			return "monitoring_url: missing or not a string";
		if ((why = take_url(&d->url, s, n, "monitoring_url", wb, wbl)) != NULL)
			return why;
		if (!(s = str_of(log, "submission_url", &n)))
			return "submission_url: missing or not a string";
		if ((why = take_origin(d, s, n, wb, wbl)) != NULL)
			return why;
	}
	mmd = json_object_get(log, "mmd");
	if (mmd && (!json_is_integer(mmd) || json_integer_value(mmd) < 0))
		return "mmd: not a non-negative integer";
	d->mmd_s = mmd ? (uint64_t)json_integer_value(mmd) : 0;
	return take_state(d, log);
}

/* operators[i].MEMBER[], each log kept or refused. */
static void take_json_logs(struct lp *p, json_t *op, size_t i, const char *member,
                           enum ct_log_api api, const char *op_name)
{
	json_t *arr = json_object_get(op, member), *log;
	size_t j;
	char where[WARN_MAX / 2];

	if (!arr)
		return;   /* an operator with no tiled logs (or no RFC 6962 ones) */
	if (!json_is_array(arr)) {
		snprintf(where, sizeof where, "operators[%zu].%s", i, member);
		refuse(p, where, "not an array");
		return;
	}
	json_array_foreach(arr, j, log) {
		struct ct_log_desc d = { 0 };
		const char *why;
		char wb[128];
		size_t dl = 0;
		const char *desc = json_is_object(log) ? str_of(log, "description", &dl) : NULL;

		snprintf(where, sizeof where, "operators[%zu].%s[%zu] (%.*s)", i, member, j,
		         (int)(dl > 100 ? 100 : dl), desc ? desc : "?");
		why = take_json_log(&d, log, api, wb, sizeof wb);
		if (!why && !(d.operator_name = dup_n(op_name, strlen(op_name))))
			why = "out of memory";
		if (why) {
			refuse(p, where, "%s", why);
			desc_free(&d);
			continue;
		}
		keep(p, &d, where);
	}
}

static int parse_json(struct lp *p, const uint8_t *buf, size_t len, char *err, size_t errlen)
{
	json_error_t je;
	json_t *root, *ops, *op;
	size_t i;

	root = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		snprintf(err, errlen, "%s:%d: not JSON: %s", p->path, je.line, je.text);
		return -1;
	}
	ops = json_object_get(root, "operators");
	if (!json_is_object(root) || !json_is_array(ops)) {
		snprintf(err, errlen, "%s: not a log list (no operators array)", p->path);
		json_decref(root);
		return -1;
	}
	json_array_foreach(ops, i, op) {
		size_t nl = 0;
		const char *name = json_is_object(op) ? str_of(op, "name", &nl) : NULL;
		char where[64];

		if (!name || strlen(name) != nl) {
			snprintf(where, sizeof where, "operators[%zu]", i);
			refuse(p, where, "not an object with a name");
			continue;
		}
		take_json_logs(p, op, i, "logs", CT_API_RFC6962, name);
		take_json_logs(p, op, i, "tiled_logs", CT_API_STATIC, name);
	}
	json_decref(root);
	return 0;
}

/* ---- the text form --------------------------------------------------------------- */

#define TEXT_MAX_WORDS 4   /* kind, URL, KEY, ORIGIN; the rest is the name */

/* Splits line[0..len) into words at blanks; the words past max - 1 stay
 * together as the last (the name).  The number of words. */
static size_t split_words(const char *line, size_t len, size_t max, const char **w,
                          size_t *wl, const char **rest, size_t *rest_len)
{
	size_t n = 0, i = 0;

	*rest = NULL;
	*rest_len = 0;
	while (i < len) {
		while (i < len && (line[i] == ' ' || line[i] == '\t'))
			i++;
		if (i == len)
			break;
		if (n == max) {
			*rest = line + i;
			*rest_len = len - i;
			while (*rest_len > 0 && ((*rest)[*rest_len - 1] == ' ' ||
			                         (*rest)[*rest_len - 1] == '\t'))
				(*rest_len)--;
			break;
		}
		w[n] = line + i;
		while (i < len && line[i] != ' ' && line[i] != '\t')
			i++;
		wl[n] = (size_t)(line + i - w[n]);
		n++;
	}
	return n;
}

/* One text line (not blank, not a comment) into d.  NULL, or why not. */
static const char *take_text_log(struct ct_log_desc *d, const char *line, size_t len,
                                 char *wb, size_t wbl)
{
	const char *w[TEXT_MAX_WORDS], *rest, *why;
	size_t wl[TEXT_MAX_WORDS], rest_len, n, nwant;

	n = split_words(line, len, TEXT_MAX_WORDS, w, wl, &rest, &rest_len);
	if (wl[0] == 7 && memcmp(w[0], "rfc6962", 7) == 0) {
		d->api = CT_API_RFC6962;
		nwant = 3;
	} else if (wl[0] == 6 && memcmp(w[0], "static", 6) == 0) {
		d->api = CT_API_STATIC;
		nwant = 4;
	} else {
		return "not \"rfc6962 URL KEY [NAME]\" or \"static URL KEY ORIGIN [NAME]\"";
	}
	if (n < nwant)
		return d->api == CT_API_STATIC ? "static: needs MONITORING_URL KEY ORIGIN"
		                               : "rfc6962: needs URL KEY";
	/* an rfc6962 line's 4th word starts its name */
	if (d->api == CT_API_RFC6962 && n == 4) {
		rest_len = rest ? (size_t)(rest + rest_len - w[3]) : wl[3];
		rest = w[3];
	}
	if ((why = take_url(&d->url, w[1], wl[1], "URL", wb, wbl)) != NULL)
		return why;
	if ((why = take_key(d, w[2], wl[2])) != NULL)
		return why;
	if (d->api == CT_API_STATIC) {
		if (memchr(w[3], '/', wl[3]) == w[3] || memchr(w[3], ':', wl[3]))
			return "ORIGIN: a schema-less URL with no leading slash (host/path)";
		while (wl[3] > 1 && w[3][wl[3] - 1] == '/')
			wl[3]--;
		if (!(d->origin = dup_n(w[3], wl[3])))
			return "out of memory";
	}
	d->name = rest ? dup_n(rest, rest_len) : dup_n(d->url, strlen(d->url));
	return d->name ? NULL : "out of memory";
}

static void parse_text(struct lp *p, const uint8_t *buf, size_t len)
{
	size_t off = 0;
	unsigned ln = 0;

	while (off < len) {
		const uint8_t *nl = memchr(buf + off, '\n', len - off);
		size_t end = nl ? (size_t)(nl - buf) : len, l;
		const char *line = (const char *)buf + off, *why;
		struct ct_log_desc d = { 0 };
		char where[32], wb[128];

		ln++;
		l = end - off;
		off = nl ? end + 1 : len;
		if (l > 0 && line[l - 1] == '\r')
			l--;
		while (l > 0 && (line[0] == ' ' || line[0] == '\t')) {
			line++;
			l--;
		}
		if (l == 0 || line[0] == '#')
			continue;
		snprintf(where, sizeof where, ":%u", ln);
		if (memchr(line, '\0', l))
			why = "a NUL byte";
		else
			why = take_text_log(&d, line, l, wb, sizeof wb);
		if (why) {
			refuse(p, where, "%s", why);
			desc_free(&d);
			continue;
		}
		d.line = ln;
		keep(p, &d, where);
	}
}

int ct_loglist_parse(const uint8_t *buf, size_t len, const char *path,
                     ct_loglist_warn_fn warn, void *ctx, struct ct_log_list *out, char *err,
                     size_t errlen)
{
	struct lp p = { path ? path : "log list", warn, ctx, out, 0 };
	size_t i = 0;

	if (errlen)
		err[0] = '\0';
	memset(out, 0, sizeof *out);
	if (len > CT_LOGLIST_MAX_BYTES) {
		snprintf(err, errlen, "%s: %zu bytes, more than %u", p.path, len,
		         CT_LOGLIST_MAX_BYTES);
		return -1;
	}
	while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' || buf[i] == '\n'))
		i++;
	if (i < len && buf[i] == '{') {
		if (parse_json(&p, buf, len, err, errlen) < 0) {
			ct_loglist_free(out);
			return -1;
		}
		return 0;
	}
	parse_text(&p, buf, len);
	return 0;
}

int ct_log_followed(const struct ct_log_desc *d)
{
	switch (d->state) {
	case CT_STATE_NONE:
	case CT_STATE_QUALIFIED:
	case CT_STATE_USABLE:
	case CT_STATE_READONLY:
		return 1;
	default:
		return 0;
	}
}

const char *ct_log_state_name(enum ct_log_state s)
{
	switch (s) {
	case CT_STATE_NONE:
		return "none";
	case CT_STATE_PENDING:
		return "pending";
	case CT_STATE_QUALIFIED:
		return "qualified";
	case CT_STATE_USABLE:
		return "usable";
	case CT_STATE_READONLY:
		return "readonly";
	case CT_STATE_RETIRED:
		return "retired";
	case CT_STATE_REJECTED:
		return "rejected";
	}
	return "unknown";
}
