/*
 * loglist.h - the CT logs to follow: a log list as browsers publish it
 * (Chrome's log_list.json v3: operators[], each with logs[] (RFC 6962)
 * and tiled_logs[] (static-ct-api), each log with its description,
 * log_id, key (base64 DER SubjectPublicKeyInfo), url or submission_url and
 * monitoring_url, mmd and state), or a short text file, one log a line:
 *
 *   # comment
 *   rfc6962 URL KEY [NAME...]
 *   static MONITORING_URL KEY ORIGIN [NAME...]
 *
 * KEY is the base64 DER SubjectPublicKeyInfo; ORIGIN a static log's
 * checkpoint origin (its submission prefix without "https://").  A JSON
 * list is told by its first non-blank byte, '{'.
 *
 * Every key is parsed and its log id (SHA-256 of the key) checked
 * against the list's log_id; a log whose entry is wrong is refused with
 * the place named, and the others are kept.
 */
#ifndef CS_CT_LOGLIST_H
#define CS_CT_LOGLIST_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "ct/merkle.h"

/* Bytes of a log list read at most (Chrome's is about 100 KB). */
#define CT_LOGLIST_MAX_BYTES (8u * 1024u * 1024u)
/* Logs one list may name. */
#define CT_LOGLIST_MAX_LOGS 4096u
/* Bytes of a log's DER key (an RSA-4096 SubjectPublicKeyInfo is 550). */
#define CT_LOG_KEY_MAX 4096u

enum ct_log_api { CT_API_RFC6962 = 0, CT_API_STATIC };

/* Chrome's states; CT_STATE_NONE for a text list (followed). */
enum ct_log_state {
	CT_STATE_NONE = 0, CT_STATE_PENDING, CT_STATE_QUALIFIED, CT_STATE_USABLE,
	CT_STATE_READONLY, CT_STATE_RETIRED, CT_STATE_REJECTED
};

struct ct_log_desc {
	char *name;                       /* description, or the URL (owned) */
	char *operator_name;              /* owned; NULL for a text list */
	enum ct_log_api api;
	char *url;                        /* RFC 6962: the log's URL; static: the
	                                     monitoring prefix; ends in '/' (owned) */
	char *origin;                     /* static: the checkpoint origin (owned) */
	uint8_t log_id[CT_HASH_LEN];      /* SHA-256 of key_der */
	uint8_t *key_der;                 /* owned */
	size_t key_len;
	EVP_PKEY *key;                    /* owned */
	enum ct_log_state state;
	uint64_t mmd_s;                   /* maximum merge delay, 0 if not given */
	/* read-only logs: the final tree head the list states */
	int has_final;
	uint64_t final_size;
	uint8_t final_root[CT_HASH_LEN];
	unsigned line;                    /* where it was given (text: line; JSON: 0) */
};

struct ct_log_list {
	struct ct_log_desc *logs;         /* owned */
	size_t n;
	uint64_t refused;                 /* entries of the list not taken (said in errs) */
};

/* The list in buf[0..len), read from path (for messages).  0 with *out
 * filled (possibly with refused entries, each said through warn(ctx,
 * "PATH: where: why")), or -1 with err when nothing usable could be read
 * (not a list at all).  ct_loglist_free frees it. */
typedef void (*ct_loglist_warn_fn)(void *ctx, const char *msg);
int ct_loglist_parse(const uint8_t *buf, size_t len, const char *path,
                     ct_loglist_warn_fn warn, void *ctx, struct ct_log_list *out, char *err,
                     size_t errlen);
void ct_loglist_free(struct ct_log_list *l);

/* Does certsentry follow a log in this state?  Usable, qualified and
 * read-only logs (and every log of a text list): what browsers accept
 * SCTs from or once did and still serve; pending, rejected and retired
 * ones are listed and passed over. */
int ct_log_followed(const struct ct_log_desc *d);
const char *ct_log_state_name(enum ct_log_state s);

#endif
