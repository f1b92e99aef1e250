/*
 * head.c - signed tree heads (RFC 6962 get-sth, section 4.3), consistency
 * proofs as served (get-sth-consistency, 4.4) and static-ct-api
 * checkpoints (C2SP static-ct-api, tlog-checkpoint, signed-note); see
 * include/ct/head.h.
 *
 * Must not: fetch anything; trust a field before its length is checked.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "ct/head.h"
#include "ct_int.h"

/* RFC 5246 7.4.1.4.1: HashAlgorithm sha256, SignatureAlgorithm rsa, ecdsa */
#define DS_HASH_SHA256 4
#define DS_SIG_RSA     1
#define DS_SIG_ECDSA   3
/* C2SP static-ct-api: the signature type byte of an RFC6962NoteSignature */
#define NOTE_SIG_RFC6962 0x05
/* signed-note: the key id is the first 4 bytes of a hash */
#define NOTE_KEY_ID_LEN 4
/* Digits of a uint64 in decimal */
#define U64_DIGITS_MAX 20

static int fail(char *err, size_t errlen, const char *msg)
{
	if (errlen)
		snprintf(err, errlen, "%s", msg);
	return -1;
}

static void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint64_t get_be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* ---- get-sth, get-sth-consistency --------------------------------------- */

/* The JSON object in buf, or NULL with err.  The caller owns the result
 * (json_decref). */
static json_t *load_object(const uint8_t *buf, size_t len, char *err, size_t errlen)
{
	json_error_t je;
	json_t *root;

	if (len > CT_HEAD_MAX_BYTES) {
		snprintf(err, errlen, "the answer is %zu bytes, more than %u", len,
		         CT_HEAD_MAX_BYTES);
		return NULL;
	}
	root = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		snprintf(err, errlen, "not JSON: line %d column %d: %s", je.line, je.column,
		         je.text);
		return NULL;
	}
	if (!json_is_object(root)) {
		json_decref(root);
		fail(err, errlen, "not a JSON object");
		return NULL;
	}
	return root;
}

/* A non-negative integer member.  0, or -1 with err. */
static int get_u64(json_t *obj, const char *name, uint64_t *out, char *err, size_t errlen)
{
	json_t *v = json_object_get(obj, name);

	if (!v) {
		snprintf(err, errlen, "%s: missing", name);
		return -1;
	}
	if (!json_is_integer(v) || json_integer_value(v) < 0) {
		snprintf(err, errlen, "%s: not a non-negative integer", name);
		return -1;
	}
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

/* A base64 string member decoded into out[0..cap).  Bytes, or -1. */
static long get_b64(json_t *obj, const char *name, uint8_t *out, size_t cap, char *err,
                    size_t errlen)
{
	json_t *v = json_object_get(obj, name);
	long n;

	if (!v) {
		snprintf(err, errlen, "%s: missing", name);
		return -1;
	}
	if (!json_is_string(v)) {
		snprintf(err, errlen, "%s: not a string", name);
		return -1;
	}
	n = ct_b64_decode(json_string_value(v), json_string_length(v), out, cap);
	if (n < 0)
		snprintf(err, errlen, "%s: not base64 of at most %zu bytes", name, cap);
	return n;
}

int ct_sth_parse(const uint8_t *buf, size_t len, struct ct_head *out, char *err,
                 size_t errlen)
{
	json_t *root;
	long n;
	int rc = -1;

	if (errlen)
		err[0] = '\0';
	memset(out, 0, sizeof *out);
	root = load_object(buf, len, err, errlen);
	if (!root)
		return -1;
	if (get_u64(root, "tree_size", &out->size, err, errlen) < 0 ||
	    get_u64(root, "timestamp", &out->timestamp_ms, err, errlen) < 0)
		goto out;
	n = get_b64(root, "sha256_root_hash", out->root, CT_HASH_LEN, err, errlen);
	if (n < 0)
		goto out;
	if (n != CT_HASH_LEN) {
		fail(err, errlen, "sha256_root_hash: not 32 bytes");
		goto out;
	}
	n = get_b64(root, "tree_head_signature", out->sig, CT_SIG_MAX, err, errlen);
	if (n < 0)
		goto out;
	out->sig_len = (size_t)n;
	rc = 0;
out:
	json_decref(root);
	return rc;
}

int ct_proof_parse(const uint8_t *buf, size_t len, uint8_t (*proof)[CT_HASH_LEN], size_t max,
                   size_t *k, char *err, size_t errlen)
{
	json_t *root, *arr;
	int rc = -1;

	if (errlen)
		err[0] = '\0';
	*k = 0;
	root = load_object(buf, len, err, errlen);
	if (!root)
		return -1;
	arr = json_object_get(root, "consistency");
	if (!json_is_array(arr)) {
		fail(err, errlen, "consistency: missing or not an array");
		goto out;
	}
	if (json_array_size(arr) > max) {
		snprintf(err, errlen, "consistency: %zu nodes, more than %zu", json_array_size(arr),
		         max);
		goto out;
	}
	for (size_t i = 0; i < json_array_size(arr); i++) {
		json_t *v = json_array_get(arr, i);
		uint8_t tmp[CT_HASH_LEN + 1];   /* one more: a longer node is seen as such */

		if (!json_is_string(v) ||
		    ct_b64_decode(json_string_value(v), json_string_length(v), tmp, sizeof tmp) !=
		            CT_HASH_LEN) {
			snprintf(err, errlen, "consistency[%zu]: not base64 of 32 bytes", i);
			goto out;
		}
		memcpy(proof[i], tmp, CT_HASH_LEN);
	}
	*k = json_array_size(arr);
	rc = 0;
out:
	json_decref(root);
	return rc;
}

/* ---- the signature ---------------------------------------------------------- */

void ct_head_tbs(const struct ct_head *h, uint8_t out[CT_TBS_HEAD_LEN])
{
	out[0] = 0;   /* RFC 6962 3.5: version v1 */
	out[1] = 1;   /* signature_type tree_hash */
	put_be64(out + 2, h->timestamp_ms);
	put_be64(out + 10, h->size);
	memcpy(out + 18, h->root, CT_HASH_LEN);
}

/* The signature algorithm byte a key of this type signs with, or -1. */
static int sig_alg_of(EVP_PKEY *key)
{
	switch (EVP_PKEY_get_base_id(key)) {
	case EVP_PKEY_EC:
		return DS_SIG_ECDSA;
	case EVP_PKEY_RSA:
		return DS_SIG_RSA;
	default:
		return -1;
	}
}

/* Does the DigitallySigned ds[0..len) verify over msg with key?  0, or -1
 * with err. */
static int ds_verify(const uint8_t *ds, size_t len, const uint8_t *msg, size_t msg_len,
                     EVP_PKEY *key, char *err, size_t errlen)
{
	EVP_MD_CTX *ctx;
	size_t sig_len;
	int want = sig_alg_of(key), ok;

	if (len < 4)
		return fail(err, errlen, "the DigitallySigned is shorter than its 4-byte header");
	sig_len = (size_t)ds[2] << 8 | ds[3];
	if (sig_len != len - 4) {
		snprintf(err, errlen, "the DigitallySigned says %zu signature bytes and holds %zu",
		         sig_len, len - 4);
		return -1;
	}
	if (ds[0] != DS_HASH_SHA256) {
		snprintf(err, errlen, "the signature's hash algorithm is %u, not sha256 (4)", ds[0]);
		return -1;
	}
	if (want < 0)
		return fail(err, errlen, "the log's key is neither EC nor RSA");
	if (ds[1] != want) {
		snprintf(err, errlen, "the signature algorithm is %u where the log's key signs with %d",
		         ds[1], want);
		return -1;
	}
	ctx = EVP_MD_CTX_new();   /* owned here; freed below */
	if (!ctx)
		return fail(err, errlen, "out of memory");
	ok = EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, key) == 1 &&
	     EVP_DigestVerify(ctx, ds + 4, sig_len, msg, msg_len) == 1;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return fail(err, errlen, "signature does not verify with the log's key");
	return 0;
}

int ct_head_verify(const struct ct_head *h, EVP_PKEY *key, char *err, size_t errlen)
{
	uint8_t tbs[CT_TBS_HEAD_LEN];

	if (errlen)
		err[0] = '\0';
	if (h->sig_len > CT_SIG_MAX)
		return fail(err, errlen, "the signature is longer than CT_SIG_MAX");
	ct_head_tbs(h, tbs);
	return ds_verify(h->sig, h->sig_len, tbs, sizeof tbs, key, err, errlen);
}

/* ---- checkpoints ------------------------------------------------------------ */

/* A line of the note: [p, p + len), without its '\n'. */
struct line {
	const char *p;
	size_t len;
};

/* The tree size line: decimal, no sign, no leading zero but "0" itself,
 * no overflow.  0, or -1. */
static int parse_size(const struct line *l, uint64_t *out)
{
	uint64_t v = 0;

	if (l->len == 0 || l->len > U64_DIGITS_MAX || (l->p[0] == '0' && l->len > 1))
		return -1;
	for (size_t i = 0; i < l->len; i++) {
		unsigned d = (unsigned)(unsigned char)l->p[i] - '0';

		if (d > 9 || v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

/* signed-note: valid text has no control character but '\n'.  The
 * offset of the first bad byte, or len. */
static size_t first_control(const uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((buf[i] < 0x20 && buf[i] != '\n') || buf[i] == 0x7f)
			return i;
	return len;
}

/* The key id of the log's RFC6962NoteSignature (C2SP static-ct-api,
 * "Checkpoints"): SHA-256(name || "\n" || 0x05 || LogID)[:4], where the
 * LogID is SHA-256 of the key's DER SubjectPublicKeyInfo. */
static void note_key_id(const char *name, const uint8_t *key_der, size_t key_len,
                        uint8_t id[NOTE_KEY_ID_LEN])
{
	uint8_t log_id[CT_HASH_LEN], h[CT_HASH_LEN];
	unsigned int n = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();   /* owned here; freed below */
	static const uint8_t sep[2] = { '\n', NOTE_SIG_RFC6962 };

	memset(h, 0, sizeof h);   /* an allocation failure gives a key id no line has... */
	if (ctx && EVP_Digest(key_der, key_len, log_id, &n, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(ctx, name, strlen(name)) == 1 &&
	    EVP_DigestUpdate(ctx, sep, sizeof sep) == 1 &&
	    EVP_DigestUpdate(ctx, log_id, sizeof log_id) == 1)
		EVP_DigestFinal_ex(ctx, h, &n);
	EVP_MD_CTX_free(ctx);
	memcpy(id, h, NOTE_KEY_ID_LEN);   /* ...most likely: the note is then refused */
}

/* The note text's three lines into out (origin checked).  text[0..len)
 * ends in '\n'.  0, or -1 with err. */
static int parse_text(const char *text, size_t len, const char *origin, struct ct_head *out,
                      char *err, size_t errlen)
{
	struct line l[3];
	size_t off = 0;
	uint8_t root[CT_HASH_LEN + 1];
	static const char *what[3] = { "the origin", "the tree size", "the root hash" };

	for (int i = 0; i < 3; i++) {
		const char *nl = memchr(text + off, '\n', len - off);

		if (!nl) {
			snprintf(err, errlen, "line %d: missing (%s)", i + 1, what[i]);
			return -1;
		}
		l[i].p = text + off;
		l[i].len = (size_t)(nl - l[i].p);
		off += l[i].len + 1;
		if (l[i].len == 0) {
			snprintf(err, errlen, "line %d: empty (%s)", i + 1, what[i]);
			return -1;
		}
		if (off == len && i < 2) {
			snprintf(err, errlen, "line %d: missing (%s)", i + 2, what[i + 1]);
			return -1;
		}
	}
	/* lines after the third are extension lines, outside what the log
	 * signs: passed over (static-ct-api logs write none) */
	if (l[0].len != strlen(origin) || memcmp(l[0].p, origin, l[0].len) != 0) {
		snprintf(err, errlen, "line 1: the origin is \"%.*s\", not \"%s\"",
		         (int)(l[0].len > 200 ? 200 : l[0].len), l[0].p, origin);
		return -1;
	}
	if (parse_size(&l[1], &out->size) < 0)
		return fail(err, errlen, "line 2: not a tree size (decimal, no leading zero)");
	if (ct_b64_decode(l[2].p, l[2].len, root, sizeof root) != CT_HASH_LEN)
		return fail(err, errlen, "line 3: the root hash is not base64 of 32 bytes");
	memcpy(out->root, root, CT_HASH_LEN);
	return 0;
}

/* Splits the note at its last blank line: the text is buf[0..*text_len)
 * (ending in '\n'), the signatures buf[*sigs..len).  0, or -1 with err. */
static int split_note(const uint8_t *buf, size_t len, size_t *text_len, size_t *sigs,
                      char *err, size_t errlen)
{
	if (len == 0 || buf[len - 1] != '\n')
		return fail(err, errlen, "the note does not end in a newline");
	for (size_t i = len - 1; i-- > 0;)
		if (buf[i] == '\n' && buf[i + 1] == '\n') {
			*text_len = i + 1;
			*sigs = i + 2;
			if (*sigs == len)
				return fail(err, errlen, "the note has no signature line");
			return 0;
		}
	return fail(err, errlen, "no blank line between the note's text and its signatures");
}

struct sig_ctx {
	const char *origin;
	uint8_t key_id[NOTE_KEY_ID_LEN];
	EVP_PKEY *key;
	struct ct_head *out;
	int found;
};

/* Checks the log's RFC6962NoteSignature sig[0..len) (key id removed).
 * 0, or -1 with err. */
static int check_log_sig(struct sig_ctx *c, const uint8_t *sig, size_t len, char *err,
                         size_t errlen)
{
	uint8_t tbs[CT_TBS_HEAD_LEN];
	char why[200];

	if (len < 8)
		return fail(err, errlen, "shorter than its 8-byte timestamp");
	if (len - 8 > CT_SIG_MAX)
		return fail(err, errlen, "the signature is longer than CT_SIG_MAX");
	c->out->timestamp_ms = get_be64(sig);
	memcpy(c->out->sig, sig + 8, len - 8);
	c->out->sig_len = len - 8;
	ct_head_tbs(c->out, tbs);
	if (ds_verify(c->out->sig, c->out->sig_len, tbs, sizeof tbs, c->key, why, sizeof why) < 0)
		return fail(err, errlen, why);
	return 0;
}

/* Is s[0..len) base64 of at least min bytes?  Group by group, so a
 * cosigner's signature of any length needs no buffer. */
static int is_b64_of_at_least(const char *s, size_t len, size_t min)
{
	uint8_t tmp[3];
	size_t total = 0;
	long n;

	if (len == 0 || len % 4 != 0)
		return 0;
	for (size_t i = 0; i < len; i += 4) {
		n = ct_b64_decode(s + i, 4, tmp, sizeof tmp);
		if (n < 0 || (n != 3 && i + 4 != len))   /* padding only at the end */
			return 0;
		total += (size_t)n;
	}
	return total >= min;
}

/* One signature line l ("\u2014 NAME BASE64"), number ln of the note.
 * 0 (the log's and good, or another signer's), or -1 with err. */
static int one_sig_line(struct sig_ctx *c, const struct line *l, unsigned ln, char *err,
                        size_t errlen)
{
	static const char dash[] = "\xe2\x80\x94 ";   /* U+2014 EM DASH, space */
	uint8_t sig[NOTE_KEY_ID_LEN + 8 + CT_SIG_MAX];
	const char *name, *sp, *b64;
	size_t name_len, b64_len;
	long n;
	char why[200];

	if (l->len < sizeof dash - 1 || memcmp(l->p, dash, sizeof dash - 1) != 0) {
		snprintf(err, errlen, "line %u: a signature line does not start with an em dash", ln);
		return -1;
	}
	name = l->p + sizeof dash - 1;
	sp = memchr(name, ' ', l->len - (sizeof dash - 1));
	if (!sp || sp == name) {
		snprintf(err, errlen, "line %u: a signature line has no key name", ln);
		return -1;
	}
	name_len = (size_t)(sp - name);
	b64 = sp + 1;
	b64_len = (size_t)(l->p + l->len - b64);
	if (!is_b64_of_at_least(b64, b64_len, NOTE_KEY_ID_LEN + 1)) {
		snprintf(err, errlen, "line %u: the signature is not base64 of a key id and more",
		         ln);
		return -1;
	}
	if (name_len != strlen(c->origin) || memcmp(name, c->origin, name_len) != 0 ||
	    ct_b64_decode(b64, 8, sig, 6) < NOTE_KEY_ID_LEN ||
	    memcmp(sig, c->key_id, NOTE_KEY_ID_LEN) != 0)
		return 0;   /* a witness, or the log with another key: not ours to check */
	n = ct_b64_decode(b64, b64_len, sig, sizeof sig);
	if (n < 0) {
		snprintf(err, errlen, "line %u: the log's signature is longer than CT_SIG_MAX", ln);
		return -1;
	}
	if (check_log_sig(c, sig + NOTE_KEY_ID_LEN, (size_t)n - NOTE_KEY_ID_LEN, why,
	                  sizeof why) < 0) {
		snprintf(err, errlen, "line %u: the log's signature: %s", ln, why);
		return -1;
	}
	c->found = 1;
	return 0;
}

int ct_checkpoint_verify(const uint8_t *buf, size_t len, const char *origin,
                         const uint8_t *key_der, size_t key_len, EVP_PKEY *key,
                         struct ct_head *out, char *err, size_t errlen)
{
	struct sig_ctx c;
	size_t text_len, off, bad;
	unsigned ln, nsigs = 0;

	if (errlen)
		err[0] = '\0';
	memset(out, 0, sizeof *out);
	if (len > CT_HEAD_MAX_BYTES) {
		snprintf(err, errlen, "the checkpoint is %zu bytes, more than %u", len,
		         CT_HEAD_MAX_BYTES);
		return -1;
	}
	bad = first_control(buf, len);
	if (bad < len) {
		snprintf(err, errlen, "byte %zu: a control character (0x%02x)", bad, buf[bad]);
		return -1;
	}
	if (split_note(buf, len, &text_len, &off, err, errlen) < 0 ||
	    parse_text((const char *)buf, text_len, origin, out, err, errlen) < 0)
		return -1;
	c = (struct sig_ctx){ origin, { 0 }, key, out, 0 };
	note_key_id(origin, key_der, key_len, c.key_id);
	ln = 1;
	for (size_t i = 0; i < text_len; i++)
		ln += buf[i] == '\n';
	ln++;   /* the blank line */
	while (off < len) {
		const uint8_t *nl = memchr(buf + off, '\n', len - off);   /* found: len ends in \n */
		struct line l = { (const char *)buf + off, (size_t)(nl - (buf + off)) };

		if (++nsigs > CT_CHECKPOINT_MAX_SIGS) {
			snprintf(err, errlen, "line %u: more than %d signature lines", ln,
			         CT_CHECKPOINT_MAX_SIGS);
			return -1;
		}
		if (one_sig_line(&c, &l, ln, err, errlen) < 0)
			return -1;
		off += l.len + 1;
		ln++;
	}
	if (!c.found) {
		snprintf(err, errlen, "no signature line by %s with the log's key id %02x%02x%02x%02x",
		         origin, c.key_id[0], c.key_id[1], c.key_id[2], c.key_id[3]);
		return -1;
	}
	return 0;
}
