/*
 * fuzz_certnames.c - libFuzzer target, differential: the DER name walker
 * (sensor/x509/certnames.c) against OpenSSL (x509_parse) and the policy.
 *
 * Input: a certificate's DER.  Whenever the walker is sure (returns 0),
 *   - every name x509_parse finds (the first commonName, each SAN dNSName,
 *     each 4- or 16-byte SAN iPAddress; names up to their first NUL) is
 *     among those the walker handed out, and
 *   - when no walked name concerns an owner (policy_leaf_name_concerns),
 *     policy_evaluate concerns no owner either, for the leaf alone with
 *     no endpoint (--certs, --ct-json): --ct-json and --certs pass such
 *     a leaf over without parsing it (certfile.c), so this is the claim
 *     that doing so loses no alert.
 * The owners: the test PKI's (pcaps/test.rules) and one with a wildcard,
 * an IPv6 address and a CIDR, from a rules file in a temporary directory.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "x509/certnames.h"
#include "pki.h"
#include "verdict/policy.h"
#include "x509/x509.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_NAMES 256

static char tmpdir[256], rules_path[512];
static struct policy *pol;

struct walked {
	size_t n;
	int concerns;
	enum certname_kind kind[MAX_NAMES];
	const uint8_t *p[MAX_NAMES];
	size_t len[MAX_NAMES];
};

static void cleanup(void)
{
	policy_free(pol);
	pol = NULL;
	if (rules_path[0])
		unlink(rules_path);
	if (tmpdir[0])
		rmdir(tmpdir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *t = getenv("TMPDIR");
	char err[512];
	FILE *f;

	(void)argc;
	(void)argv;
	snprintf(tmpdir, sizeof tmpdir, "%s/cs-fuzz-names.XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(tmpdir))
		abort();
	atexit(cleanup);
	snprintf(rules_path, sizeof rules_path, "%s/names.rules", tmpdir);
	f = fopen(rules_path, "w");
	if (!f)
		abort();
	fprintf(f, "owner fuzz-names\n"
	           "protect ip 192.0.2.1 2001:db8::1 10.1.0.0/16\n"
	           "protect name fuzz.example *.wild.example dns.bench.test\n"
	           "approve spki sha256:%064d\n", 0);
	fz_add_test_pki(f);
	if (fclose(f) != 0)
		abort();
	pol = policy_load(rules_path, err, sizeof err);
	if (!pol) {
		fprintf(stderr, "fuzz_certnames: %s\n", err);
		abort();
	}
	return 0;
}

static int walk_cb(void *arg, enum certname_kind kind, const uint8_t *p, size_t len)
{
	struct walked *w = arg;

	if (w->n < MAX_NAMES) {
		w->kind[w->n] = kind;
		w->p[w->n] = p;
		w->len[w->n] = len;
		w->n++;
	}
	w->concerns |= policy_leaf_name_concerns(pol, kind, p, len);
	return 0;
}

/* Was a name of this kind, equal up to its first NUL to s, walked? */
static int walked_name(const struct walked *w, enum certname_kind kind, const char *s)
{
	for (size_t i = 0; i < w->n; i++) {
		size_t l = strnlen((const char *)w->p[i], w->len[i]);

		if (w->kind[i] == kind && l == strlen(s) && memcmp(w->p[i], s, l) == 0)
			return 1;
	}
	return 0;
}

static int walked_ip(const struct walked *w, const struct x509_ip *ip)
{
	size_t n = ip->family == AF_INET ? 4 : 16;

	for (size_t i = 0; i < w->n; i++)
		if (w->kind[i] == CERTNAME_IP && w->len[i] == n && memcmp(w->p[i], ip->addr, n) == 0)
			return 1;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy_result res[8];
	struct policy_input in;
	struct x509_info xi;
	struct walked w;
	int rc;

	memset(&w, 0, sizeof w);
	rc = certnames_walk(data, size, walk_cb, &w);
	if (rc != 0 && rc != -1)
		abort();   /* the callback never stops it */
	for (size_t i = 0; i < w.n; i++)
		if (w.p[i] < data || w.len[i] > size || (size_t)(w.p[i] - data) > size - w.len[i])
			abort();
	if (rc != 0 || w.n == MAX_NAMES)
		return 0;   /* not sure (or too many to compare): the full path decides */
	memset(&xi, 0, sizeof xi);
	if (x509_parse(data, size, &xi) == 0) {
		if (xi.cn && !walked_name(&w, CERTNAME_CN, xi.cn))
			abort();
		for (size_t i = 0; i < xi.n_san_dns; i++)
			if (!walked_name(&w, CERTNAME_DNS, xi.san_dns[i]))
				abort();
		for (size_t i = 0; i < xi.n_san_ip; i++)
			if (!walked_ip(&w, &xi.san_ip[i]))
				abort();
		memset(&in, 0, sizeof in);
		in.hs = POLICY_HS_CHAIN;
		in.certs = &xi;
		in.n_certs = 1;
		if (!w.concerns && policy_evaluate(pol, &in, res, 8) != 0)
			abort();
	}
	x509_info_free(&xi);
	return 0;
}
