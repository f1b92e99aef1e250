/*
 * test_tls13.c - unit tests for TLS 1.3 record protection (sensor/secrets/tls13.c).
 *
 * Expected values come from elsewhere: the key and iv are RFC 8448 §3's
 * ("derive write traffic keys for handshake data", server), and the
 * sealed records were made with Python's cryptography package (HKDFExpand
 * with the RFC 8446 §7.1 label, then AESGCM / ChaCha20Poly1305.encrypt),
 * for the plaintext "hello", content type 22 and three zero bytes of
 * padding, at sequence numbers 0 and 1.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "secrets/tls13.h"

static void unhex(const char *h, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned v;

		assert_int_equal(sscanf(h + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

/* RFC 8448 §3: server_handshake_traffic_secret of the simple 1-RTT trace. */
#define RFC8448_SHTS "b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38"
#define RFC8448_KEY  "3fce516009c21727d0f2e4e86ee403bc"
#define RFC8448_IV   "5d313eb2671276ee13000b30"

static void test_expand_label_rfc8448(void **state)
{
	uint8_t secret[32], key[16], iv[12], want_key[16], want_iv[12];
	struct tls13_keys k;

	(void)state;
	unhex(RFC8448_SHTS, secret, 32);
	unhex(RFC8448_KEY, want_key, 16);
	unhex(RFC8448_IV, want_iv, 12);
	assert_int_equal(tls13_expand_label(32, secret, "key", NULL, 0, key, 16), 0);
	assert_int_equal(tls13_expand_label(32, secret, "iv", NULL, 0, iv, 12), 0);
	assert_memory_equal(key, want_key, 16);
	assert_memory_equal(iv, want_iv, 12);
	/* tls13_keys_init derives the same. */
	assert_int_equal(tls13_keys_init(&k, 0x1301, secret, 32), 0);
	assert_int_equal(k.key_len, 16);
	assert_memory_equal(k.key, want_key, 16);
	assert_memory_equal(k.iv, want_iv, 12);
	tls13_keys_free(&k);
	/* Bad arguments. */
	assert_int_equal(tls13_expand_label(20, secret, "key", NULL, 0, key, 16), -1);
	assert_int_equal(tls13_expand_label(32, secret, "key", NULL, 0, key, 0), -1);
	assert_int_equal(tls13_expand_label(32, secret, "key", NULL, 0, NULL, 33), -1);
}

struct vec {
	uint16_t suite;
	size_t secret_len;
	const char *rec[2];   /* sequence numbers 0 and 1 */
};

static const struct vec vecs[] = {
	{ 0x1301, 32, { "1703030019b19a5f0239c1bffc59007eeaddb1ca5b8cc66d233a9dbf0070",
	                "17030300191563656be57a31407bdd78e1f43c8cbc64ac19ff8c4984063f" } },
	{ 0x1302, 48, { "1703030019205213507a1bb6859143e32d5f4a6c92e9495a45acd303e3c8",
	                "1703030019f574159cab580d295487a85e10fcab4a59b8f20ba16b78c5ff" } },
	{ 0x1303, 32, { "17030300193816193c6cd997821db71e095b2996b8f8bc9970a86464205b",
	                "170303001910f73dd9115000efb6ee339c0810de26f41eefda3f939d3141" } },
};

static void vec_secret(const struct vec *v, uint8_t *secret)
{
	if (v->secret_len == 32) {
		unhex(RFC8448_SHTS, secret, 32);
	} else {
		for (size_t i = 0; i < 48; i++)
			secret[i] = (uint8_t)i;
	}
}

/* Each suite opens records another implementation sealed, in sequence. */
static void test_open_known_records(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof vecs / sizeof vecs[0]; i++) {
		uint8_t secret[48], rec[30], out[64], type = 0;
		struct tls13_keys k;

		vec_secret(&vecs[i], secret);
		assert_int_equal(tls13_keys_init(&k, vecs[i].suite, secret, vecs[i].secret_len), 0);
		for (int seq = 0; seq < 2; seq++) {
			unhex(vecs[i].rec[seq], rec, sizeof rec);
			assert_int_equal(tls13_open(&k, rec, rec + 5, 25, out, sizeof out, &type), 5);
			assert_int_equal(type, 22);
			assert_memory_equal(out, "hello", 5);
		}
		assert_int_equal(k.seq, 2);
		tls13_keys_free(&k);
	}
}

/* A changed byte anywhere (header, ciphertext, tag), the wrong sequence
 * number or the wrong key: authentication fails and the sequence number
 * stays, so a forged record cannot shift the real ones. */
static void test_tampered_records(void **state)
{
	uint8_t secret[32], rec[30], bad[30], out[64], type;
	struct tls13_keys k;

	(void)state;
	unhex(RFC8448_SHTS, secret, 32);
	unhex(vecs[0].rec[0], rec, sizeof rec);
	assert_int_equal(tls13_keys_init(&k, 0x1301, secret, 32), 0);
	for (size_t i = 0; i < sizeof rec; i++) {
		if (i == 3 || i == 4)
			continue;   /* the length: checked against len below */
		memcpy(bad, rec, sizeof rec);
		bad[i] ^= 0x40;
		assert_int_equal(tls13_open(&k, bad, bad + 5, 25, out, sizeof out, &type),
		                 TLS13_ERR_AUTH);
		assert_int_equal(k.seq, 0);
	}
	/* Sequence 1's record at sequence 0. */
	unhex(vecs[0].rec[1], bad, sizeof bad);
	assert_int_equal(tls13_open(&k, bad, bad + 5, 25, out, sizeof out, &type), TLS13_ERR_AUTH);
	/* Too short for a tag plus a type byte; too long for TLS 1.3. */
	assert_int_equal(tls13_open(&k, rec, rec + 5, 16, out, sizeof out, &type), TLS13_ERR_FORMAT);
	assert_int_equal(tls13_open(&k, rec, rec + 5, TLS13_MAX_CIPHERTEXT + 1, out, sizeof out,
	                            &type), TLS13_ERR_FORMAT);
	/* The real one still opens at sequence 0. */
	assert_int_equal(tls13_open(&k, rec, rec + 5, 25, out, sizeof out, &type), 5);
	tls13_keys_free(&k);
	/* Another secret. */
	secret[0] ^= 1;
	assert_int_equal(tls13_keys_init(&k, 0x1301, secret, 32), 0);
	assert_int_equal(tls13_open(&k, rec, rec + 5, 25, out, sizeof out, &type), TLS13_ERR_AUTH);
	tls13_keys_free(&k);
}

/* Seal then open: padding removed, all-zero plaintext refused, empty
 * content allowed, in place. */
static void test_seal_open_round_trip(void **state)
{
	uint8_t secret[48], rec[TLS13_MAX_CIPHERTEXT + 5 + 64], type;
	static uint8_t plain[16384];
	struct tls13_keys a, b;
	int n;

	(void)state;
	for (size_t i = 0; i < sizeof plain; i++)
		plain[i] = (uint8_t)(i * 7);
	for (size_t s = 0; s < sizeof vecs / sizeof vecs[0]; s++) {
		vec_secret(&vecs[s], secret);
		assert_int_equal(tls13_keys_init(&a, vecs[s].suite, secret, vecs[s].secret_len), 0);
		assert_int_equal(tls13_keys_init(&b, vecs[s].suite, secret, vecs[s].secret_len), 0);
		/* the largest record (RFC 8446 §5.2: 2^14 + 256 bytes after
		 * the header): 2^14 content, the type, 239 padding, the tag */
		n = tls13_seal(&a, 22, plain, sizeof plain, 239, rec, sizeof rec);
		assert_int_equal(n, 5 + 16384 + 1 + 239 + 16);
		n = tls13_open(&b, rec, rec + 5, (size_t)n - 5, rec + 5, (size_t)n - 5, &type);
		assert_int_equal(n, 16384);
		assert_memory_equal(rec + 5, plain, 16384);
		/* one byte more does not fit a record */
		assert_int_equal(tls13_seal(&a, 22, plain, sizeof plain, 240, rec, sizeof rec), -1);
		/* empty content with its type */
		n = tls13_seal(&a, 21, plain, 0, 10, rec, sizeof rec);
		assert_int_equal(tls13_open(&b, rec, rec + 5, (size_t)n - 5, rec + 5, sizeof rec,
		                            &type), 0);
		assert_int_equal(type, 21);
		/* type 0 and no content: nothing but zeros inside */
		n = tls13_seal(&a, 0, plain, 0, 3, rec, sizeof rec);
		assert_int_equal(tls13_open(&b, rec, rec + 5, (size_t)n - 5, rec + 5, sizeof rec,
		                            &type), TLS13_ERR_FORMAT);
		tls13_keys_free(&a);
		tls13_keys_free(&b);
	}
}

static void test_suites(void **state)
{
	size_t len = 0;
	uint8_t secret[48] = { 0 };
	struct tls13_keys k;

	(void)state;
	assert_true(tls13_suite_supported(0x1301, &len) && len == 32);
	assert_true(tls13_suite_supported(0x1302, &len) && len == 48);
	assert_true(tls13_suite_supported(0x1303, &len) && len == 32);
	assert_false(tls13_suite_supported(0x1304, &len));
	assert_false(tls13_suite_supported(0xc02f, &len));
	assert_string_equal(tls13_suite_name(0x1304), "TLS_AES_128_CCM_SHA256");
	assert_null(tls13_suite_name(0xc02f));
	/* a secret of the other hash's length */
	assert_int_equal(tls13_keys_init(&k, 0x1301, secret, 48), -1);
	assert_int_equal(tls13_keys_init(&k, 0x1302, secret, 32), -1);
	assert_int_equal(tls13_keys_init(&k, 0x1304, secret, 32), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_expand_label_rfc8448),
		cmocka_unit_test(test_open_known_records),
		cmocka_unit_test(test_tampered_records),
		cmocka_unit_test(test_seal_open_round_trip),
		cmocka_unit_test(test_suites),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
