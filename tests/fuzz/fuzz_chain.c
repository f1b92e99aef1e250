/*
 * fuzz_chain.c - libFuzzer target for X.509 parsing (sensor/x509/x509.c) and
 * chain verdicts (sensor/verdict/policy.c).
 *
 * At start-up a test PKI is made with the OpenSSL API (Ed25519, so keys
 * and signatures are deterministic): a root CA, an issuing CA signed by
 * it, and a key that is pinned.  A rules file in a per-process temporary
 * directory approves them:
 *   owner fuzz-root   protect ip 192.0.2.1 2001:db8::1, names
 *                     fuzz.example *.fuzz.example; approve ca root.pem
 *   owner fuzz-issuing protect ip 192.0.2.1; approve ca issuing.pem only
 *                     (a partial chain anchor)
 *   owner fuzz-pin    protect ip 192.0.2.1, name pinned.example; approve
 *                     spki sha256:<pinned key>
 *   owner test-pki    when ./pcaps/pki exists (make test and run.sh run
 *                     from the top directory): the committed test CAs of
 *                     pcaps/test.rules, so the chains in the seeds taken
 *                     from pcaps/ can be approved too
 * Every owner protects 192.0.2.1, so a handshake there always goes down
 * the verification path.
 *
 * Input:
 *   [0] what to do to the leaf (the first certificate) before it is
 *       parsed, when OpenSSL can decode it: bit 0 re-sign by the root
 *       (issuer set to the root's name), bit 1 re-sign by the issuing CA,
 *       bit 2 append the issuing CA to the chain, bit 3 replace its key by
 *       the pinned key and self-sign, bit 4 claim the root as issuer
 *       without re-signing (a forged issuer), bit 5 append the root
 *   [1] bits 0-2 SNI, bits 3-5 server address, bits 6-7 handshake kind
 *   then certificates, each a 2-byte big-endian length and DER bytes (at
 *   most 16; a short last one is taken as it is).
 * Each certificate goes through x509_parse, the chain through
 * policy_evaluate; the results are checked for structural invariants,
 * abort() on a violation; everything is freed (LeakSanitizer).
 */
#include <arpa/inet.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "pki.h"
#include "verdict/policy.h"
#include "x509/x509.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_CERTS 16

static char tmpdir[256];
static struct policy *pol;
static size_t n_owners;
static EVP_PKEY *root_key, *int_key, *pin_key;
static X509 *root, *inter;
static uint8_t *root_der, *inter_der;
static size_t root_len, inter_len;

/* ---- set-up ------------------------------------------------------------ */

static void path_in(char *out, size_t cap, const char *name)
{
	snprintf(out, cap, "%s/%s", tmpdir, name);
}

static void cleanup(void)
{
	static const char *const files[] = { "root.pem", "issuing.pem", "fuzz.rules" };
	char path[512];

	policy_free(pol);
	pol = NULL;
	X509_free(root);
	X509_free(inter);
	OPENSSL_free(root_der);
	OPENSSL_free(inter_der);
	EVP_PKEY_free(root_key);
	EVP_PKEY_free(int_key);
	EVP_PKEY_free(pin_key);
	root = inter = NULL;
	root_der = inter_der = NULL;
	root_key = int_key = pin_key = NULL;
	if (!tmpdir[0])
		return;
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		path_in(path, sizeof path, files[i]);
		unlink(path);
	}
	rmdir(tmpdir);
	tmpdir[0] = '\0';
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *t = getenv("TMPDIR");
	char path[512], err[512], pin[65];
	FILE *f;

	(void)argc;
	(void)argv;
	snprintf(tmpdir, sizeof tmpdir, "%s/cs-fuzz-chain.XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(tmpdir))
		abort();
	atexit(cleanup);
	root_key = fz_key(11);
	int_key = fz_key(12);
	pin_key = fz_key(13);
	root = fz_cert(root_key, root_key, NULL, "Fuzz Root CA", 1, 1, 2);
	inter = fz_cert(int_key, root_key, root, "Fuzz Issuing CA", 1, 2, 2);
	root_der = fz_der(root, &root_len);
	inter_der = fz_der(inter, &inter_len);
	fz_write_pem(tmpdir, "root.pem", root, NULL);
	fz_write_pem(tmpdir, "issuing.pem", inter, NULL);
	fz_spki_hex(pin_key, pin);

	path_in(path, sizeof path, "fuzz.rules");
	f = fopen(path, "w");
	if (!f)
		abort();
	fprintf(f, "owner fuzz-root\n"
	           "protect ip 192.0.2.1 2001:db8::1\n"
	           "protect name fuzz.example *.fuzz.example\n"
	           "approve ca root.pem\n"
	           "owner fuzz-issuing\n"
	           "protect ip 192.0.2.1\n"
	           "approve ca issuing.pem\n"
	           "owner fuzz-pin\n"
	           "protect ip 192.0.2.1\n"
	           "protect name pinned.example\n"
	           "approve spki sha256:%s\n", pin);
	fz_add_test_pki(f);
	if (fclose(f) != 0)
		abort();
	pol = policy_load(path, err, sizeof err);
	if (!pol) {
		fprintf(stderr, "fuzz_chain: %s\n", err);
		abort();
	}
	n_owners = policy_owner_count(pol);
	return 0;
}

/* ---- the leaf, transformed ----------------------------------------------- */

static void strip_akid(X509 *x)
{
	int i;

	while ((i = X509_get_ext_by_NID(x, NID_authority_key_identifier, -1)) >= 0)
		X509_EXTENSION_free(X509_delete_ext(x, i));
}

/* A new DER for the leaf (caller frees with OPENSSL_free), or NULL to keep
 * the one given. */
static uint8_t *transform_leaf(const uint8_t *der, size_t len, uint8_t how, size_t *out_len)
{
	const unsigned char *p = der;
	unsigned char *out = NULL;
	X509 *x;
	int n, ok = 1;

	if (!(how & 0x1b))
		return NULL;
	x = d2i_X509(NULL, &p, (long)len);
	if (!x)
		return NULL;
	if (how & 0x08) {
		ok = X509_set_pubkey(x, pin_key) &&
		     X509_set_issuer_name(x, X509_get_subject_name(x)) &&
		     X509_sign(x, pin_key, NULL);
	} else if (how & 0x01) {
		strip_akid(x);
		ok = X509_set_issuer_name(x, X509_get_subject_name(root)) &&
		     X509_sign(x, root_key, NULL);
	} else if (how & 0x02) {
		strip_akid(x);
		ok = X509_set_issuer_name(x, X509_get_subject_name(inter)) &&
		     X509_sign(x, int_key, NULL);
	} else if (how & 0x10) {
		ok = X509_set_issuer_name(x, X509_get_subject_name(root));
	}
	n = ok ? i2d_X509(x, &out) : -1;
	X509_free(x);
	ERR_clear_error();
	if (n <= 0) {
		OPENSSL_free(out);
		return NULL;
	}
	*out_len = (size_t)n;
	return out;
}

/* ---- checks -------------------------------------------------------------- */

static void check_info(const struct x509_info *xi, size_t len)
{
	if (xi->der_len != len || strlen(xi->sha256) != 64)
		abort();
	if (!xi->parsed) {
		if (xi->x509 || xi->subject || xi->n_san_dns || xi->n_san_ip ||
		    !memchr(xi->error, 0, sizeof xi->error))
			abort();
		return;
	}
	if (!xi->x509 || !xi->subject || !xi->issuer || !xi->subject_rfc2253 ||
	    !xi->issuer_rfc2253 || !xi->serial || strlen(xi->spki_sha256) != 64)
		abort();
	if (strlen(xi->notbefore) > 19 || strlen(xi->notafter) > 19 ||
	    !memchr(xi->key_type, 0, sizeof xi->key_type) ||
	    !memchr(xi->sig_alg, 0, sizeof xi->sig_alg))
		abort();
	for (size_t i = 0; i < xi->n_san_ip; i++)
		if ((xi->san_ip[i].family != AF_INET && xi->san_ip[i].family != AF_INET6) ||
		    !xi->san_ip_str[i])
			abort();
	for (size_t i = 0; i < xi->n_san_dns; i++)
		if (!xi->san_dns[i])
			abort();
	/* Subject and issuer strings are escaped to ASCII without control
	 * characters (x509.c's promise to JSON writers). */
	for (const char *s = xi->subject; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7f)
			abort();
	for (const char *s = xi->issuer; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7f)
			abort();
}

static void check_results(const struct policy_input *in, const struct policy_result *res,
                          size_t n)
{
	if (n > n_owners)
		abort();
	for (size_t i = 0; i < n; i++) {
		const struct policy_result *r = &res[i];

		if (!r->owner || (unsigned)r->verdict >= VERDICT_COUNT ||
		    r->verdict == VERDICT_STREAM_MISMATCH || r->n_matched > POLICY_MAX_MATCH ||
		    !memchr(r->reason, 0, sizeof r->reason) || r->reason[0] == '\0' ||
		    !memchr(r->anchor, 0, sizeof r->anchor) ||
		    r->anchor_cert < -1 || r->anchor_cert >= (int)in->n_certs)
			abort();
		for (size_t j = 0; j < r->n_matched; j++) {
			if (!memchr(r->matched[j], 0, sizeof r->matched[j]))
				abort();
			/* Escaped: the matches go into alerts as they are. */
			for (const char *s = r->matched[j]; *s; s++)
				if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
					abort();
		}
		if (in->hs != POLICY_HS_CHAIN) {
			if (r->verdict != (in->hs == POLICY_HS_INCOMPLETE ? VERDICT_UNVERIFIED_HANDSHAKE
			                                                  : VERDICT_NOT_VISIBLE))
				abort();
			continue;
		}
		if ((in->n_certs == 0 || !in->certs[0].parsed) &&
		    r->verdict != VERDICT_UNVERIFIABLE_CHAIN)
			abort();
		if (r->verdict == VERDICT_APPROVED && r->anchor[0] == '\0')
			abort();
		if (r->verdict != VERDICT_APPROVED && r->anchor_cert != -1)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const snis[8] = {
		NULL, "fuzz.example", "www.fuzz.example", "pinned.example", "one.one.one.one",
		"FUZZ.EXAMPLE.", "api.example.net", "*.fuzz.example",
	};
	static const uint8_t ips[8][17] = {
		{ 4, 192, 0, 2, 1 }, { 4, 192, 0, 2, 1 }, { 4, 192, 0, 2, 1 },
		{ 6, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 },
		{ 6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1 },
		{ 4, 198, 51, 100, 7 }, { 4, 1, 1, 1, 1 },
		{ 6, 0x26, 0x06, 0x47, 0x00, 0x47, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0x11, 0x11 },
	};
	static const enum policy_hs kinds[4] = {
		POLICY_HS_CHAIN, POLICY_HS_CHAIN, POLICY_HS_ENCRYPTED, POLICY_HS_INCOMPLETE,
	};
	struct x509_info certs[MAX_CERTS + 2];
	struct policy_result res[8];
	struct policy_input in;
	uint8_t *leaf = NULL;
	size_t n = 0, pos = 2, nres;
	uint8_t how;
	const uint8_t *ip;

	if (size < 2 || n_owners > sizeof res / sizeof res[0])
		return 0;
	how = data[0];
	while (pos < size && n < MAX_CERTS) {
		size_t len = 0, leaf_len = 0;
		const uint8_t *der;

		if (size - pos >= 2) {
			len = (size_t)data[pos] << 8 | data[pos + 1];
			pos += 2;
		} else {
			pos = size;
		}
		if (len > size - pos)
			len = size - pos;
		der = data + pos;
		pos += len;
		if (n == 0 && len > 0 && (leaf = transform_leaf(der, len, how, &leaf_len)) != NULL) {
			der = leaf;
			len = leaf_len;
		}
		x509_parse(der, len, &certs[n]);
		check_info(&certs[n], len);
		n++;
	}
	OPENSSL_free(leaf);
	if (how & 0x04) {
		x509_parse(inter_der, inter_len, &certs[n]);
		check_info(&certs[n++], inter_len);
	}
	if (how & 0x20) {
		x509_parse(root_der, root_len, &certs[n]);
		check_info(&certs[n++], root_len);
	}

	memset(&in, 0, sizeof in);
	ip = ips[data[1] >> 3 & 7];
	in.family = ip[0] == 4 ? AF_INET : AF_INET6;
	memcpy(in.server_ip, ip + 1, ip[0] == 4 ? 4 : 16);
	in.sni = snis[data[1] & 7];
	in.hs = kinds[data[1] >> 6 & 3];
	in.certs = certs;
	in.n_certs = n;
	nres = policy_evaluate(pol, &in, res, n_owners);
	check_results(&in, res, nres);
	/* At 192.0.2.1 every owner is concerned. */
	if (ip[0] == 4 && ip[1] == 192 && ip[4] == 1 && nres != n_owners)
		abort();

	for (size_t i = 0; i < n; i++)
		x509_info_free(&certs[i]);
	return 0;
}
