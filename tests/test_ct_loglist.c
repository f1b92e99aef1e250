/*
 * test_ct_loglist.c - sensor/ct/loglist.c: a log_list.json v3 made here
 * (one log of each state, a tiled log, a wrong log_id, a weak key) and
 * the text form: which logs are kept, refused (and said where) and
 * followed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "ct/loglist.h"

#define NKEYS 6
static EVP_PKEY *keys[NKEYS];        /* 0-4 EC P-256; 5 RSA-2048 */
static EVP_PKEY *rsa1024, *p384;
static char key_b64[NKEYS + 2][1200], id_b64[NKEYS + 2][64];
static uint8_t key_id[NKEYS + 2][32];

static void encode(EVP_PKEY *k, int i)
{
	uint8_t der[1000], *p = der;
	int n = i2d_PUBKEY(k, &p);

	assert_true(n > 0);
	EVP_EncodeBlock((unsigned char *)key_b64[i], der, n);
	SHA256(der, (size_t)n, key_id[i]);
	EVP_EncodeBlock((unsigned char *)id_b64[i], key_id[i], 32);
}

static int setup(void **state)
{
	(void)state;
	for (int i = 0; i < NKEYS - 1; i++)
		keys[i] = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	keys[NKEYS - 1] = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	rsa1024 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	p384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	for (int i = 0; i < NKEYS; i++) {
		if (!keys[i])
			return -1;
		encode(keys[i], i);
	}
	if (!rsa1024 || !p384)
		return -1;
	encode(rsa1024, NKEYS);
	encode(p384, NKEYS + 1);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (int i = 0; i < NKEYS; i++)
		EVP_PKEY_free(keys[i]);
	EVP_PKEY_free(rsa1024);
	EVP_PKEY_free(p384);
	return 0;
}

struct warns {
	int n;
	char msg[16][512];
};

static void on_warn(void *ctx, const char *msg)
{
	struct warns *w = ctx;

	if (w->n < 16)
		snprintf(w->msg[w->n], sizeof w->msg[0], "%s", msg);
	w->n++;
}

static int warned(const struct warns *w, const char *part)
{
	for (int i = 0; i < w->n && i < 16; i++)
		if (strstr(w->msg[i], part))
			return 1;
	return 0;
}

static json_t *log_obj(const char *desc, int key, int id, const char *url, const char *state)
{
	json_t *o = json_pack("{sssssssi}", "description", desc, "key", key_b64[key],
	                      "log_id", id_b64[id], "mmd", 86400);
	json_t *st = json_object(), *inner = json_pack("{ss}", "timestamp",
	                                               "2025-01-01T00:00:00Z");

	if (url)
		json_object_set_new(o, "url", json_string(url));
	json_object_set_new(st, state, inner);
	json_object_set_new(o, "state", st);
	return o;
}

static const struct ct_log_desc *by_name(const struct ct_log_list *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->logs[i].name, name) == 0)
			return &l->logs[i];
	return NULL;
}

static void json_list(void **state)
{
	json_t *root, *ops, *op, *logs, *tiled, *ro, *t;
	struct ct_log_list l;
	struct warns w = { 0 };
	char err[300], *text;
	const struct ct_log_desc *d;

	(void)state;
	logs = json_array();
	json_array_append_new(logs, log_obj("Usable", 0, 0, "https://ct.example/usable", "usable"));
	ro = log_obj("Readonly", 1, 1, "https://ct.example/ro/", "readonly");
	json_object_set_new(json_object_get(json_object_get(ro, "state"), "readonly"),
	                    "final_tree_head",
	                    json_pack("{sssI}", "sha256_root_hash",
	                              "XVxK4pGn9DxC9FcvESAlz+0TeUmcT8w1/TYnsc3Oog4=", "tree_size", (json_int_t)
	                              123456789));
	json_array_append_new(logs, ro);
	json_array_append_new(logs, log_obj("Retired", 2, 2, "https://ct.example/ret/", "retired"));
	json_array_append_new(logs, log_obj("Pending", 3, 3, "https://ct.example/pen/", "pending"));
	json_array_append_new(logs, log_obj("Wrong id", 4, 3, "https://ct.example/x/", "usable"));
	json_array_append_new(logs, log_obj("Weak key", NKEYS, NKEYS, "https://ct.example/w/",
	                                    "usable"));
	json_array_append_new(logs, log_obj("P-384", NKEYS + 1, NKEYS + 1, "https://ct.example/p/",
	                                    "usable"));
	tiled = json_array();
	t = log_obj("Tiled", 5, 5, NULL, "usable");
	json_object_set_new(t, "submission_url", json_string("https://t.example/2026h1/"));
	json_object_set_new(t, "monitoring_url", json_string("https://mon.t.example/2026h1"));
	json_array_append_new(tiled, t);
	op = json_pack("{ss s[s] so so}", "name", "Example", "email", "ct@example",
	               "logs", logs, "tiled_logs", tiled);
	ops = json_array();
	json_array_append_new(ops, op);
	root = json_pack("{ss ss so}", "version", "55.1", "log_list_timestamp",
	                 "2026-12-07T12:00:00Z", "operators", ops);
	text = json_dumps(root, JSON_INDENT(2));
	json_decref(root);

	assert_int_equal(ct_loglist_parse((const uint8_t *)text, strlen(text), "list.json",
	                                  on_warn, &w, &l, err, sizeof err), 0);
	assert_int_equal(l.n, 5);
	assert_int_equal(l.refused, 3);
	assert_int_equal(w.n, 3);
	assert_true(warned(&w, "list.json: operators[0].logs[4] (Wrong id): log_id is not the "
	                       "SHA-256 of key"));
	assert_true(warned(&w, "list.json: operators[0].logs[5] (Weak key): key: an RSA key of "
	                       "fewer than 2048 bits"));
	assert_true(warned(&w, "operators[0].logs[6] (P-384): key: an EC key not on P-256"));

	d = by_name(&l, "Usable");
	assert_non_null(d);
	assert_string_equal(d->url, "https://ct.example/usable/");
	assert_string_equal(d->operator_name, "Example");
	assert_int_equal(d->state, CT_STATE_USABLE);
	assert_int_equal(d->api, CT_API_RFC6962);
	assert_int_equal(d->mmd_s, 86400);
	assert_memory_equal(d->log_id, key_id[0], 32);
	assert_non_null(d->key);
	assert_true(ct_log_followed(d));
	d = by_name(&l, "Readonly");
	assert_int_equal(d->state, CT_STATE_READONLY);
	assert_true(d->has_final);
	assert_int_equal(d->final_size, 123456789);
	assert_int_equal(d->final_root[0], 0x5d);
	assert_true(ct_log_followed(d));
	assert_false(ct_log_followed(by_name(&l, "Retired")));
	assert_false(ct_log_followed(by_name(&l, "Pending")));
	d = by_name(&l, "Tiled");
	assert_int_equal(d->api, CT_API_STATIC);
	assert_string_equal(d->origin, "t.example/2026h1");
	assert_string_equal(d->url, "https://mon.t.example/2026h1/");
	assert_true(ct_log_followed(d));
	assert_string_equal(ct_log_state_name(CT_STATE_READONLY), "readonly");
	ct_loglist_free(&l);
	free(text);
}

static void json_not_a_list(void **state)
{
	struct ct_log_list l;
	char err[300];
	static const char *bad[] = { "{", "{\"operators\":{}}", "{\"version\":1}", " {]" };

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = 0;
		assert_int_equal(ct_loglist_parse((const uint8_t *)bad[i], strlen(bad[i]), "l.json",
		                                  NULL, NULL, &l, err, sizeof err), -1);
		assert_non_null(strstr(err, "l.json"));
		assert_int_equal(l.n, 0);
	}
	/* operators that are not objects, logs that are not objects, a bad state */
	const char *odd = "{\"operators\":[1,{\"name\":\"x\",\"logs\":[2,{\"description\":\"s\","
	                  "\"state\":{\"usable\":{},\"retired\":{}}}],\"tiled_logs\":5}]}";
	struct warns w = { 0 };
	assert_int_equal(ct_loglist_parse((const uint8_t *)odd, strlen(odd), "l.json", on_warn, &w,
	                                  &l, err, sizeof err), 0);
	assert_int_equal(l.n, 0);
	assert_int_equal(l.refused, 4);
	ct_loglist_free(&l);
}

static void text_list(void **state)
{
	char text[16000];
	struct ct_log_list l;
	struct warns w = { 0 };
	char err[300];
	const struct ct_log_desc *d;

	(void)state;
	snprintf(text, sizeof text,
	         "# certsentry logs\n"
	         "\n"
	         "rfc6962 https://ct.example/argon/ %s Example Argon 2026\n"
	         "   static https://mon.t.example/2026h1 %s t.example/2026h1\n"
	         "rfc7000 https://x/ %s\n"
	         "rfc6962 https://ct.example/weak %s\r\n"
	         "static https://mon.t.example/ %s https://t.example/\n"
	         "rfc6962 https://ct.example/dup %s\n"
	         "rfc6962 ftp://ct.example/ %s\n"
	         "rfc6962 https://ct.example/short\n"
	         "rfc6962 https://ct.example/nameless %s",
	         key_b64[0], key_b64[5], key_b64[1], key_b64[NKEYS], key_b64[2], key_b64[0],
	         key_b64[3], key_b64[4]);
	assert_int_equal(ct_loglist_parse((const uint8_t *)text, strlen(text), "logs.txt", on_warn,
	                                  &w, &l, err, sizeof err), 0);
	assert_int_equal(l.n, 3);
	assert_int_equal(l.refused, 6);
	assert_true(warned(&w, "logs.txt:5: not \"rfc6962"));
	assert_true(warned(&w, "logs.txt:6: key: an RSA key"));
	assert_true(warned(&w, "logs.txt:7: ORIGIN"));
	assert_true(warned(&w, "logs.txt:8: the same log"));
	assert_true(warned(&w, "logs.txt:9: URL: not an http(s) URL"));
	assert_true(warned(&w, "logs.txt:10: rfc6962: needs URL KEY"));
	d = &l.logs[0];
	assert_string_equal(d->name, "Example Argon 2026");
	assert_string_equal(d->url, "https://ct.example/argon/");
	assert_int_equal(d->line, 3);
	assert_int_equal(d->state, CT_STATE_NONE);
	assert_null(d->operator_name);
	assert_true(ct_log_followed(d));
	d = &l.logs[1];
	assert_int_equal(d->api, CT_API_STATIC);
	assert_string_equal(d->origin, "t.example/2026h1");
	assert_string_equal(d->url, "https://mon.t.example/2026h1/");
	assert_string_equal(d->name, "https://mon.t.example/2026h1/");
	assert_memory_equal(d->log_id, key_id[5], 32);
	assert_int_equal(d->line, 4);
	d = &l.logs[2];
	assert_string_equal(d->name, "https://ct.example/nameless/");
	assert_int_equal(d->line, 11);
	ct_loglist_free(&l);

	/* empty and comment-only lists: no logs, nothing refused */
	assert_int_equal(ct_loglist_parse((const uint8_t *)"# nothing\n\n", 11, "e.txt", on_warn,
	                                  &w, &l, err, sizeof err), 0);
	assert_int_equal(l.n, 0);
	assert_int_equal(l.refused, 0);
	ct_loglist_free(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(json_list),
		cmocka_unit_test(json_not_a_list),
		cmocka_unit_test(text_list),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
