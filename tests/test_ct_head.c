/*
 * test_ct_head.c - sensor/ct/head.c: tree head signatures made here with
 * an EC P-256 and an RSA-2048 key, get-sth and get-sth-consistency
 * answers, and static-ct-api checkpoints signed the way C2SP
 * static-ct-api says (the key id computed here on its own).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "ct/head.h"

static EVP_PKEY *ec_key, *rsa_key;
static uint8_t ec_der[200], rsa_der[600];
static size_t ec_der_len, rsa_der_len;

static size_t spki_der(EVP_PKEY *k, uint8_t *out, size_t cap)
{
	int n = i2d_PUBKEY(k, NULL);
	uint8_t *p = out;

	assert_true(n > 0 && (size_t)n <= cap);
	assert_int_equal(i2d_PUBKEY(k, &p), n);
	return (size_t)n;
}

static int setup(void **state)
{
	(void)state;
	ec_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	rsa_key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	if (!ec_key || !rsa_key)
		return -1;
	ec_der_len = spki_der(ec_key, ec_der, sizeof ec_der);
	rsa_der_len = spki_der(rsa_key, rsa_der, sizeof rsa_der);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	EVP_PKEY_free(ec_key);
	EVP_PKEY_free(rsa_key);
	return 0;
}

/* A DigitallySigned over msg with key, into ds; its length. */
static size_t sign_ds(EVP_PKEY *key, const uint8_t *msg, size_t len, uint8_t *ds, size_t cap)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t sl = cap - 4;

	assert_non_null(ctx);
	assert_int_equal(EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key), 1);
	assert_int_equal(EVP_DigestSign(ctx, ds + 4, &sl, msg, len), 1);
	EVP_MD_CTX_free(ctx);
	ds[0] = 4;
	ds[1] = EVP_PKEY_get_base_id(key) == EVP_PKEY_EC ? 3 : 1;
	ds[2] = (uint8_t)(sl >> 8);
	ds[3] = (uint8_t)sl;
	return sl + 4;
}

static void make_head(struct ct_head *h, EVP_PKEY *key)
{
	uint8_t tbs[CT_TBS_HEAD_LEN];

	memset(h, 0, sizeof *h);
	h->size = 1234567;
	h->timestamp_ms = 1733580000123ull;
	for (int i = 0; i < CT_HASH_LEN; i++)
		h->root[i] = (uint8_t)(i * 7 + 1);
	ct_head_tbs(h, tbs);
	h->sig_len = sign_ds(key, tbs, sizeof tbs, h->sig, sizeof h->sig);
}

static void tbs_layout(void **state)
{
	struct ct_head h = { 0 };
	uint8_t tbs[CT_TBS_HEAD_LEN];
	static const uint8_t want_head[18] = { 0, 1, 0, 0, 1, 2, 3, 4, 5, 6,
	                                       0, 0, 0, 0, 0, 0, 0x10, 0x01 };

	(void)state;
	h.timestamp_ms = 0x010203040506ull;
	h.size = 0x1001;
	memset(h.root, 0xee, sizeof h.root);
	ct_head_tbs(&h, tbs);
	assert_memory_equal(tbs, want_head, sizeof want_head);
	for (int i = 18; i < CT_TBS_HEAD_LEN; i++)
		assert_int_equal(tbs[i], 0xee);
}

static void verify_key(EVP_PKEY *key, EVP_PKEY *other)
{
	struct ct_head h, bad;
	char err[200];

	make_head(&h, key);
	assert_int_equal(ct_head_verify(&h, key, err, sizeof err), 0);
	/* every byte of every field that is signed */
	for (int i = 0; i < 8; i++) {
		bad = h;
		bad.size ^= (uint64_t)1 << (i * 8);
		assert_int_equal(ct_head_verify(&bad, key, err, sizeof err), -1);
		bad = h;
		bad.timestamp_ms ^= (uint64_t)0x80 << (i * 8);
		assert_int_equal(ct_head_verify(&bad, key, err, sizeof err), -1);
	}
	for (int i = 0; i < CT_HASH_LEN; i++) {
		bad = h;
		bad.root[i] ^= 0x01;
		assert_int_equal(ct_head_verify(&bad, key, err, sizeof err), -1);
		assert_string_equal(err, "signature does not verify with the log's key");
	}
	for (size_t i = 4; i < h.sig_len; i++) {
		bad = h;
		bad.sig[i] ^= 0x20;
		assert_int_equal(ct_head_verify(&bad, key, err, sizeof err), -1);
	}
	/* the algorithm bytes */
	bad = h;
	bad.sig[0] = 2;   /* sha1 */
	assert_int_equal(ct_head_verify(&bad, key, err, sizeof err), -1);
	assert_non_null(strstr(err, "hash algorithm"));
	bad = h;
	bad.sig[1] = bad.sig[1] == 3 ? 1 : 3;
	assert_int_equal(ct_head_verify(&bad, key, err, sizeof err), -1);
	assert_non_null(strstr(err, "signature algorithm"));
	/* the length */
	bad = h;
	bad.sig[3] ^= 1;
	assert_int_equal(ct_head_verify(&bad, key, err, sizeof err), -1);
	bad = h;
	bad.sig_len = 3;
	assert_int_equal(ct_head_verify(&bad, key, err, sizeof err), -1);
	bad = h;
	bad.sig_len = CT_SIG_MAX + 1;
	assert_int_equal(ct_head_verify(&bad, key, err, sizeof err), -1);
	/* the wrong key */
	assert_int_equal(ct_head_verify(&h, other, err, sizeof err), -1);
}

static void verify_ec_and_rsa(void **state)
{
	EVP_PKEY *ec2 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");

	(void)state;
	assert_non_null(ec2);
	verify_key(ec_key, ec2);
	verify_key(rsa_key, ec_key);
	EVP_PKEY_free(ec2);
}

static void b64(const uint8_t *in, size_t len, char *out)
{
	EVP_EncodeBlock((unsigned char *)out, in, (int)len);
}

static int sth_json(const char *size, const char *ts, const char *root, const char *sig,
                    struct ct_head *out, char *err, size_t errlen)
{
	char buf[4096];

	snprintf(buf, sizeof buf,
	         "{\"tree_size\":%s,\"timestamp\":%s,\"sha256_root_hash\":%s,"
	         "\"tree_head_signature\":%s}", size, ts, root, sig);
	return ct_sth_parse((const uint8_t *)buf, strlen(buf), out, err, errlen);
}

static void sth_parse(void **state)
{
	struct ct_head h, got;
	char root[100], sig[2000], err[200], s1[200];

	(void)state;
	make_head(&h, ec_key);
	root[0] = '"';
	b64(h.root, CT_HASH_LEN, root + 1);
	strcat(root, "\"");
	sig[0] = '"';
	b64(h.sig, h.sig_len, sig + 1);
	strcat(sig, "\"");
	assert_int_equal(sth_json("1234567", "1733580000123", root, sig, &got, err, sizeof err), 0);
	assert_int_equal(got.size, h.size);
	assert_int_equal(got.timestamp_ms, h.timestamp_ms);
	assert_memory_equal(got.root, h.root, CT_HASH_LEN);
	assert_int_equal(got.sig_len, h.sig_len);
	assert_int_equal(ct_head_verify(&got, ec_key, err, sizeof err), 0);

	/* every field wrong */
	assert_int_equal(sth_json("-1", "1", root, sig, &got, err, sizeof err), -1);
	assert_non_null(strstr(err, "tree_size"));
	assert_int_equal(sth_json("\"5\"", "1", root, sig, &got, err, sizeof err), -1);
	assert_int_equal(sth_json("1.5", "1", root, sig, &got, err, sizeof err), -1);
	assert_int_equal(sth_json("1", "null", root, sig, &got, err, sizeof err), -1);
	assert_non_null(strstr(err, "timestamp"));
	assert_int_equal(sth_json("1", "1", "\"AAAA\"", sig, &got, err, sizeof err), -1);
	assert_string_equal(err, "sha256_root_hash: not 32 bytes");
	assert_int_equal(sth_json("1", "1", "\"!!!!\"", sig, &got, err, sizeof err), -1);
	assert_int_equal(sth_json("1", "1", "7", sig, &got, err, sizeof err), -1);
	assert_int_equal(sth_json("1", "1", root, "\"AB=\"", &got, err, sizeof err), -1);
	assert_non_null(strstr(err, "tree_head_signature"));
	assert_int_equal(sth_json("1", "1", root, "[]", &got, err, sizeof err), -1);
	/* a root of 33 bytes */
	uint8_t r33[33] = { 0 };
	s1[0] = '"';
	b64(r33, 33, s1 + 1);
	strcat(s1, "\"");
	assert_int_equal(sth_json("1", "1", s1, sig, &got, err, sizeof err), -1);
	/* missing members, not JSON, not an object, too big, duplicates */
	static const char *bad[] = {
		"{}", "[1]", "{\"tree_size\":1", "",
		"{\"tree_size\":1,\"tree_size\":2,\"timestamp\":1,\"sha256_root_hash\":\"\","
		"\"tree_head_signature\":\"\"}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = 0;
		assert_int_equal(ct_sth_parse((const uint8_t *)bad[i], strlen(bad[i]), &got, err,
		                              sizeof err), -1);
		assert_true(err[0] != 0);
	}
	uint8_t *huge = calloc(CT_HEAD_MAX_BYTES + 1, 1);
	assert_non_null(huge);
	memset(huge, ' ', CT_HEAD_MAX_BYTES + 1);
	assert_int_equal(ct_sth_parse(huge, CT_HEAD_MAX_BYTES + 1, &got, err, sizeof err), -1);
	assert_non_null(strstr(err, "more than"));
	free(huge);
}

static void proof_parse(void **state)
{
	uint8_t proof[4][CT_HASH_LEN], node[CT_HASH_LEN];
	char n64[64], buf[600], err[200];
	size_t k;

	(void)state;
	memset(node, 0x5a, sizeof node);
	b64(node, sizeof node, n64);
	snprintf(buf, sizeof buf, "{\"consistency\":[\"%s\",\"%s\"]}", n64, n64);
	assert_int_equal(ct_proof_parse((const uint8_t *)buf, strlen(buf), proof, 4, &k, err,
	                                sizeof err), 0);
	assert_int_equal(k, 2);
	assert_memory_equal(proof[1], node, CT_HASH_LEN);
	assert_int_equal(ct_proof_parse((const uint8_t *)buf, strlen(buf), proof, 1, &k, err,
	                                sizeof err), -1);
	assert_non_null(strstr(err, "more than 1"));
	static const char *bad[] = {
		"{\"consistency\":[\"AAAA\"]}", "{\"consistency\":[1]}", "{\"consistency\":{}}",
		"{\"proof\":[]}", "[]",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(ct_proof_parse((const uint8_t *)bad[i], strlen(bad[i]), proof, 4, &k,
		                                err, sizeof err), -1);
	assert_int_equal(ct_proof_parse((const uint8_t *)"{\"consistency\":[]}", 18, proof, 4, &k,
	                                err, sizeof err), 0);
	assert_int_equal(k, 0);
}

/* ---- checkpoints ------------------------------------------------------------- */

#define ORIGIN "ct.example.org/2026h1"

static void key_id(const char *name, const uint8_t *der, size_t der_len, uint8_t id[4])
{
	uint8_t logid[32], h[32], buf[300];
	size_t nl = strlen(name);

	SHA256(der, der_len, logid);
	memcpy(buf, name, nl);
	buf[nl] = '\n';
	buf[nl + 1] = 0x05;
	memcpy(buf + nl + 2, logid, 32);
	SHA256(buf, nl + 34, h);
	memcpy(id, h, 4);
}

/* "\u2014 NAME base64(id || ts || ds)\n" for h signed with key. */
static void sig_line(const char *name, const uint8_t id[4], const struct ct_head *h, char *out)
{
	uint8_t blob[4 + 8 + CT_SIG_MAX];
	char enc[2000];

	memcpy(blob, id, 4);
	for (int i = 0; i < 8; i++)
		blob[4 + i] = (uint8_t)(h->timestamp_ms >> (56 - 8 * i));
	memcpy(blob + 12, h->sig, h->sig_len);
	b64(blob, 12 + h->sig_len, enc);
	sprintf(out, "\xe2\x80\x94 %s %s\n", name, enc);
}

static char note[70000];

static const char *good_checkpoint(EVP_PKEY *key, const uint8_t *der, size_t der_len,
                                   struct ct_head *h)
{
	char root[100], line[2100];
	uint8_t id[4];

	make_head(h, key);
	b64(h->root, CT_HASH_LEN, root);
	key_id(ORIGIN, der, der_len, id);
	sig_line(ORIGIN, id, h, line);
	snprintf(note, sizeof note,
	         ORIGIN "\n1234567\n%s\nan-extension line\n\n"
	         "\xe2\x80\x94 witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n"
	         "%s", root, line);
	return note;
}

static int cp(const char *text, EVP_PKEY *key, const uint8_t *der, size_t der_len,
              struct ct_head *out, char *err, size_t errlen)
{
	return ct_checkpoint_verify((const uint8_t *)text, strlen(text), ORIGIN, der, der_len, key,
	                            out, err, errlen);
}

/* note with the first occurrence of from replaced by to */
static const char *edit(const char *from, const char *to)
{
	static char out[70000];
	const char *p = strstr(note, from);

	assert_non_null(p);
	snprintf(out, sizeof out, "%.*s%s%s", (int)(p - note), note, to, p + strlen(from));
	return out;
}

static void checkpoint_good_and_bad(void **state)
{
	struct ct_head h, got;
	char err[300];

	(void)state;
	good_checkpoint(ec_key, ec_der, ec_der_len, &h);
	if (cp(note, ec_key, ec_der, ec_der_len, &got, err, sizeof err) != 0)
		fail_msg("%s\n%s", err, note);
	assert_int_equal(got.size, 1234567);
	assert_int_equal(got.timestamp_ms, h.timestamp_ms);
	assert_memory_equal(got.root, h.root, CT_HASH_LEN);
	assert_int_equal(ct_head_verify(&got, ec_key, err, sizeof err), 0);

	good_checkpoint(rsa_key, rsa_der, rsa_der_len, &h);
	assert_int_equal(cp(note, rsa_key, rsa_der, rsa_der_len, &got, err, sizeof err), 0);
	/* the RSA note checked with the EC key: its key id is not there */
	assert_int_equal(cp(note, ec_key, ec_der, ec_der_len, &got, err, sizeof err), -1);
	assert_non_null(strstr(err, "key id"));

	good_checkpoint(ec_key, ec_der, ec_der_len, &h);
	/* wrong origin */
	assert_int_equal(ct_checkpoint_verify((const uint8_t *)note, strlen(note),
	                                      "ct.example.org/2026h2", ec_der, ec_der_len, ec_key,
	                                      &got, err, sizeof err), -1);
	assert_non_null(strstr(err, "line 1"));
	/* the size: leading zero, sign, not a number, overflow */
	assert_int_equal(cp(edit("\n1234567\n", "\n01234567\n"), ec_key, ec_der, ec_der_len, &got,
	                    err, sizeof err), -1);
	assert_non_null(strstr(err, "line 2"));
	assert_int_equal(cp(edit("\n1234567\n", "\n+1234567\n"), ec_key, ec_der, ec_der_len, &got,
	                    err, sizeof err), -1);
	assert_int_equal(cp(edit("\n1234567\n", "\n18446744073709551616\n"), ec_key, ec_der,
	                    ec_der_len, &got, err, sizeof err), -1);
	/* a signed size changed: the signature fails */
	assert_int_equal(cp(edit("\n1234567\n", "\n1234568\n"), ec_key, ec_der, ec_der_len, &got,
	                    err, sizeof err), -1);
	assert_non_null(strstr(err, "does not verify"));
	/* bad base64 in the root and in a signature */
	char root[100];
	b64(h.root, CT_HASH_LEN, root);
	char badroot[100];
	snprintf(badroot, sizeof badroot, "%.*s*=", (int)strlen(root) - 2, root);
	assert_int_equal(cp(edit(root, badroot), ec_key, ec_der, ec_der_len, &got, err, sizeof err),
	                 -1);
	assert_non_null(strstr(err, "line 3"));
	assert_int_equal(cp(edit("jWbPPw", "jWb*Pw"), ec_key, ec_der, ec_der_len, &got, err,
	                    sizeof err), -1);
	assert_non_null(strstr(err, "line 6"));
	/* the key id wrong: no signature by the log */
	assert_int_equal(cp(note, ec_key, rsa_der, rsa_der_len, &got, err, sizeof err), -1);
	assert_non_null(strstr(err, "no signature line"));
	/* no blank line */
	assert_int_equal(cp(edit("line\n\n", "line\n"), ec_key, ec_der, ec_der_len, &got, err,
	                    sizeof err), -1);
	/* an ASCII dash, a missing name, a control character, a missing final newline */
	assert_int_equal(cp(edit("\xe2\x80\x94 witness", "- witness"), ec_key, ec_der, ec_der_len,
	                    &got, err, sizeof err), -1);
	assert_int_equal(cp(edit("\xe2\x80\x94 witness.example.com/w1 ", "\xe2\x80\x94  "), ec_key,
	                    ec_der, ec_der_len, &got, err, sizeof err), -1);
	assert_int_equal(cp(edit("an-extension", "an\textension"), ec_key, ec_der, ec_der_len,
	                    &got, err, sizeof err), -1);
	assert_non_null(strstr(err, "control"));
	size_t nl = strlen(note);
	assert_int_equal(ct_checkpoint_verify((const uint8_t *)note, nl - 1, ORIGIN, ec_der,
	                                      ec_der_len, ec_key, &got, err, sizeof err), -1);
	/* every truncation: refused, never a crash */
	for (size_t cut = 0; cut < nl; cut++)
		assert_int_equal(ct_checkpoint_verify((const uint8_t *)note, cut, ORIGIN, ec_der,
		                                      ec_der_len, ec_key, &got, err, sizeof err), -1);
	/* 64 signature lines are taken, 65 are not */
	char *many = malloc(sizeof note);
	assert_non_null(many);
	strcpy(many, note);
	const char *w = strstr(note, "\xe2\x80\x94 witness");
	const char *we = strchr(w, '\n') + 1;
	for (int i = 2; i < CT_CHECKPOINT_MAX_SIGS; i++)
		strncat(many, w, (size_t)(we - w));
	assert_int_equal(cp(many, ec_key, ec_der, ec_der_len, &got, err, sizeof err), 0);
	strncat(many, w, (size_t)(we - w));
	assert_int_equal(cp(many, ec_key, ec_der, ec_der_len, &got, err, sizeof err), -1);
	assert_non_null(strstr(err, "more than 64"));
	free(many);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tbs_layout),
		cmocka_unit_test(verify_ec_and_rsa),
		cmocka_unit_test(sth_parse),
		cmocka_unit_test(proof_parse),
		cmocka_unit_test(checkpoint_good_and_bad),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
