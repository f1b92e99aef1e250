/*
 * ctstate.c - the follower's state file (--ct-state): for each log, by
 * its log id, the last head verified (as the log signed it, so that the
 * next run proves the next head consistent with it), the frontier of the
 * entries read and proved, and the index judging started at.
 *
 *   {"version": 1, "logs": [{"log_id": B64, "api": "rfc6962", "url": URL,
 *     "head": {"tree_size": N, "timestamp": MS, "sha256_root_hash": B64,
 *              "tree_head_signature": B64},
 *     "position": N, "frontier": [B64...], "judge_from": N}]}
 *
 * "position" is absent when the frontier is not known yet (a log started
 * at its head waits for the next head's proof).  Written whole and
 * atomically (fileio_write_atomic_buf) after each batch judged and at
 * exit: a restart repeats no entry judged before a clean stop, and after
 * a crash at most the batch being judged when it came.  A file
 * that cannot be read is moved aside (FILE.corrupt-TIME) and said: a
 * monitor that cannot restart is worse than one that reads a log again.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "core/fileio.h"

#include "follow_int.h"

#define CTSTATE_VERSION 1

static json_t *b64(const uint8_t *p, size_t n)
{
	char buf[2 * CT_SIG_MAX];

	if (n > CT_SIG_MAX)
		n = CT_SIG_MAX;
	EVP_EncodeBlock((unsigned char *)buf, p, (int)n);
	return json_string(buf);
}

/* base64 of exactly want bytes (want 0: up to max) into out. */
static int unb64(const json_t *v, uint8_t *out, size_t want, size_t max, size_t *got)
{
	const char *s = json_string_value(v);
	uint8_t tmp[2 * CT_SIG_MAX];
	size_t len, pad;
	int n;

	if (!s || (len = strlen(s)) == 0 || len % 4 || len / 4 * 3 > sizeof(tmp))
		return -1;
	pad = (s[len - 1] == '=') + (s[len - 2] == '=');
	n = EVP_DecodeBlock(tmp, (const unsigned char *)s, (int)len);
	if (n < 0 || (size_t)n < pad)
		return -1;
	n -= (int)pad;
	if ((want && (size_t)n != want) || (size_t)n > max)
		return -1;
	memcpy(out, tmp, (size_t)n);
	if (got)
		*got = (size_t)n;
	return 0;
}

static json_t *log_json(const struct flog *L)
{
	json_t *o = json_object(), *h, *fr;

	json_object_set_new(o, "log_id", b64(L->d.log_id, CT_HASH_LEN));
	json_object_set_new(o, "api", json_string(L->api_name));
	json_object_set_new(o, "url", json_string(L->d.url));
	if (L->failed)
		json_object_set_new(o, "failed", json_true());
	if (!L->have_head)
		return o;
	h = json_object();
	json_object_set_new(h, "tree_size", json_integer((json_int_t)L->head.size));
	json_object_set_new(h, "timestamp", json_integer((json_int_t)L->head.timestamp_ms));
	json_object_set_new(h, "sha256_root_hash", b64(L->head.root, CT_HASH_LEN));
	json_object_set_new(h, "tree_head_signature", b64(L->head.sig, L->head.sig_len));
	json_object_set_new(o, "head", h);
	if (L->started)
		json_object_set_new(o, "judge_from", json_integer((json_int_t)L->judge_from));
	if (L->started && !L->fr_known)
		json_object_set_new(o, "frontier_at", json_integer((json_int_t)L->fr_target));
	if (!L->fr_known)
		return o;
	json_object_set_new(o, "position", json_integer((json_int_t)L->fr.size));
	fr = json_array();
	for (unsigned i = 0; i < L->fr.n; i++)
		json_array_append_new(fr, b64(L->fr.h[i], CT_HASH_LEN));
	json_object_set_new(o, "frontier", fr);
	return o;
}

int ctstate_save(const struct follow *F, char *err, size_t errlen)
{
	json_t *root = json_object(), *logs = json_array();
	char *text;
	int rc;

	json_object_set_new(root, "version", json_integer(CTSTATE_VERSION));
	for (size_t i = 0; i < F->n; i++)
		if (!F->logs[i]->removed)
			json_array_append_new(logs, log_json(F->logs[i]));
	json_object_set_new(root, "logs", logs);
	text = json_dumps(root, JSON_INDENT(1));   /* freed here */
	json_decref(root);
	if (!text) {
		snprintf(err, errlen, "%s: out of memory", F->o->state_path);
		return -1;
	}
	rc = fileio_write_atomic_buf(F->o->state_path, 0644, text, strlen(text), err, errlen);
	free(text);
	return rc;
}

static int get_u64(const json_t *o, const char *k, uint64_t *v)
{
	const json_t *j = json_object_get(o, k);

	if (!json_is_integer(j) || json_integer_value(j) < 0)
		return -1;
	*v = (uint64_t)json_integer_value(j);
	return 0;
}

/* One log's record into L.  0, or -1 with why. */
static int log_from_json(struct flog *L, const json_t *o, const char **why)
{
	const json_t *h = json_object_get(o, "head"), *fr;
	struct ct_frontier f;
	uint64_t pos;
	char err[256];

	if (json_is_true(json_object_get(o, "failed"))) {
		L->failed = 1;   /* caught before: stays caught until the state is removed */
		return 0;
	}
	if (!h)
		return 0;   /* no head verified yet */
	if (get_u64(h, "tree_size", &L->head.size) < 0 ||
	    get_u64(h, "timestamp", &L->head.timestamp_ms) < 0 ||
	    unb64(json_object_get(h, "sha256_root_hash"), L->head.root, CT_HASH_LEN,
	          CT_HASH_LEN, NULL) < 0 ||
	    unb64(json_object_get(h, "tree_head_signature"), L->head.sig, 0, CT_SIG_MAX,
	          &L->head.sig_len) < 0) {
		*why = "head: a field missing or malformed";
		return -1;
	}
	/* The head was verified when it was saved; checked again, since a
	 * state file is only a file. */
	if (ct_head_verify(&L->head, L->d.key, err, sizeof(err)) < 0) {
		*why = "head: its signature does not verify with the log's key";
		return -1;
	}
	L->have_head = 1;
	if (get_u64(o, "judge_from", &L->judge_from) == 0)
		L->started = 1;
	if (L->started && get_u64(o, "frontier_at", &L->fr_target) == 0)
		return 0;
	if (get_u64(o, "position", &pos) < 0)
		return 0;
	fr = json_object_get(o, "frontier");
	ct_frontier_init(&f);
	f.size = pos;
	f.n = (unsigned)__builtin_popcountll(pos);
	if (!json_is_array(fr) || json_array_size(fr) != f.n || pos > L->head.size) {
		*why = "frontier: not the hashes its position needs";
		return -1;
	}
	for (unsigned i = 0; i < f.n; i++)
		if (unb64(json_array_get(fr, i), f.h[i], CT_HASH_LEN, CT_HASH_LEN, NULL) < 0) {
			*why = "frontier: a hash that is not 32 bytes of base64";
			return -1;
		}
	/* The frontier of the whole head must hash to its root. */
	if (pos == L->head.size) {
		uint8_t root[CT_HASH_LEN];

		ct_frontier_root(&f, root);
		if (memcmp(root, L->head.root, CT_HASH_LEN) != 0) {
			*why = "frontier: does not hash to the head's root";
			return -1;
		}
	}
	L->fr = f;
	L->fr_known = 1;
	L->started = 1;
	return 0;
}

/* Move the unreadable file aside, and say so. */
static void set_aside(const char *path, const char *why)
{
	char aside[4096];

	snprintf(aside, sizeof(aside), "%s.corrupt-%ld", path, (long)time(NULL));
	if (rename(path, aside) == 0)
		fprintf(stderr, "certsentry: --ct-state %s: %s; moved to %s, the logs are read "
		        "as if for the first time\n", path, why, aside);
	else
		fprintf(stderr, "certsentry: --ct-state %s: %s; and it could not be moved aside "
		        "(%s)\n", path, why, strerror(errno));
}

int ctstate_load(struct follow *F)
{
	const char *path = F->o->state_path;
	uint8_t *buf = NULL;
	size_t len = 0;
	char err[512];
	json_error_t je;
	json_t *root, *logs;
	FILE *probe = fopen(path, "r");

	if (!probe && errno == ENOENT)
		return 0;   /* the first run */
	if (probe)
		fclose(probe);
	if (fileio_read_all(path, CTF_STATE_MAX_BYTES, &buf, &len, err, sizeof(err)) < 0) {
		fprintf(stderr, "certsentry: --ct-state %s\n", err);
		return -1;
	}
	root = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &je);
	free(buf);
	if (!root) {
		snprintf(err, sizeof(err), "line %d: %s", je.line, je.text);
		set_aside(path, err);
		return 0;
	}
	logs = json_object_get(root, "logs");
	if (json_integer_value(json_object_get(root, "version")) != CTSTATE_VERSION ||
	    !json_is_array(logs)) {
		json_decref(root);
		set_aside(path, "not a certsentry CT state file of version 1");
		return 0;
	}
	for (size_t i = 0; i < json_array_size(logs); i++) {
		const json_t *o = json_array_get(logs, i);
		uint8_t id[CT_HASH_LEN];
		const char *why = NULL;

		if (unb64(json_object_get(o, "log_id"), id, CT_HASH_LEN, CT_HASH_LEN, NULL) < 0) {
			fprintf(stderr, "certsentry: --ct-state %s: logs[%zu]: no log_id; passed over\n",
			        path, i);
			continue;
		}
		for (size_t j = 0; j < F->n; j++) {
			struct flog *L = F->logs[j];

			if (memcmp(L->d.log_id, id, CT_HASH_LEN) != 0 ||
			    strcmp(L->api_name, json_string_value(json_object_get(o, "api")) ?
			           json_string_value(json_object_get(o, "api")) : "") != 0)
				continue;
			if (log_from_json(L, o, &why) < 0) {
				fprintf(stderr, "certsentry: --ct-state %s: logs[%zu] (%s): %s; the log is "
				        "read as if for the first time\n", path, i, L->d.name, why);
				L->have_head = L->started = L->fr_known = 0;
			}
		}
	}
	json_decref(root);
	return 0;
}
