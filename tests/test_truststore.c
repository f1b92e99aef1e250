/*
 * test_truststore.c - grading unapproved chains by who else trusts them:
 * a store's root reached (public, with the store and root named), a
 * presented CA that signs the leaf (private), nothing (none); loading
 * named stores from files and directories, and the errors of loading.
 * Certificates are the committed test PKI (pcaps/pki), read from the top
 * directory (tests/run_tests.sh runs there).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "testpki.h"
#include "verdict/truststore.h"
#include "x509/x509.h"

enum { ROGUE_LEAF, ROGUE_ROOT, APPROVED_LEAF, APPROVED_ISSUING, APPROVED_ROOT, SELFSIGNED,
       FORGED_LEAF, FORGED_ISSUING, N_PEM };
static const char *const pem_files[N_PEM] = {
	"pcaps/pki/rogue-leaf.pem", "pcaps/pki/rogue-root.pem",
	"pcaps/pki/approved-leaf.pem", "pcaps/pki/approved-issuing.pem",
	"pcaps/pki/approved-root.pem", "pcaps/pki/selfsigned.pem",
	"pcaps/pki/forged-leaf.pem", "pcaps/pki/forged-issuing.pem",
};
static struct x509_info cert[N_PEM];

static int setup(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_PEM; i++) {
		unsigned char *d;
		int n = testpki_der(pem_files[i], &d);

		if (n <= 0 || x509_parse(d, (size_t)n, &cert[i]) < 0) {
			fprintf(stderr, "cannot parse %s\n", pem_files[i]);
			OPENSSL_free(d);
			return -1;
		}
		OPENSSL_free(d);
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_PEM; i++)
		x509_info_free(&cert[i]);
	return 0;
}

static struct trust_stores *load(const char *const *specs, size_t n)
{
	char err[512] = "";
	struct trust_stores *t = trust_load(specs, n, err, sizeof(err));

	if (!t)
		fprintf(stderr, "trust_load: %s\n", err);
	assert_non_null(t);
	return t;
}

static void grade(const struct trust_stores *t, const int *idx, size_t n, struct trust_memo *m)
{
	struct x509_info chain[4];

	for (size_t i = 0; i < n; i++)
		chain[i] = cert[idx[i]];   /* views: the originals own them */
	memset(m, 0, sizeof(*m));
	trust_classify(t, chain, n, m);
	assert_int_equal(m->done, 1);
}

static void test_public_names_store_and_root(void **state)
{
	const char *specs[] = { "none", "microsoft=pcaps/pki/rogue-root.pem" };
	const int chain[] = { ROGUE_LEAF, ROGUE_ROOT };
	const int leaf_only[] = { ROGUE_LEAF };
	struct trust_stores *t = load(specs, 2);
	struct trust_memo m;
	size_t n;

	(void)state;
	assert_int_equal(trust_count(t), 1);
	assert_string_equal(trust_name(t, 0, &n), "microsoft");
	assert_int_equal(n, 1);
	grade(t, chain, 2, &m);
	assert_int_equal(m.cls, TRUST_PUBLIC);
	assert_int_equal(m.n_hits, 1);
	assert_string_equal(m.hits[0].store, "microsoft");
	assert_string_equal(m.hits[0].root_subject, cert[ROGUE_ROOT].subject);
	assert_string_equal(m.hits[0].root_sha256, cert[ROGUE_ROOT].sha256);
	/* The root need not be sent: the store has it. */
	grade(t, leaf_only, 1, &m);
	assert_int_equal(m.cls, TRUST_PUBLIC);
	trust_free(t);
}

static void test_two_stores_both_named(void **state)
{
	const char *specs[] = { "none", "a=pcaps/pki/rogue-root.pem",
	                        "pcaps/pki/approved-root.pem", "b=pcaps/pki/rogue-root.pem" };
	const int chain[] = { ROGUE_LEAF };
	const int appr[] = { APPROVED_LEAF, APPROVED_ISSUING };
	struct trust_stores *t = load(specs, 4);
	struct trust_memo m;

	(void)state;
	assert_int_equal(trust_count(t), 3);
	assert_string_equal(trust_name(t, 1, NULL), "approved-root");   /* base name */
	grade(t, chain, 1, &m);
	assert_int_equal(m.cls, TRUST_PUBLIC);
	assert_int_equal(m.n_hits, 2);
	assert_string_equal(m.hits[0].store, "a");
	assert_string_equal(m.hits[1].store, "b");
	grade(t, appr, 2, &m);
	assert_int_equal(m.cls, TRUST_PUBLIC);
	assert_int_equal(m.n_hits, 1);
	assert_string_equal(m.hits[0].store, "approved-root");
	assert_string_equal(m.hits[0].root_sha256, cert[APPROVED_ROOT].sha256);
	trust_free(t);
}

static void test_private_and_none(void **state)
{
	const char *specs[] = { "none", "x=pcaps/pki/approved-root.pem" };
	const int rogue[] = { ROGUE_LEAF, ROGUE_ROOT };
	const int rogue_leaf[] = { ROGUE_LEAF };
	const int self[] = { SELFSIGNED };
	const int forged[] = { FORGED_LEAF, FORGED_ISSUING };
	const int wrong_issuer[] = { ROGUE_LEAF, APPROVED_ISSUING };
	struct trust_stores *t = load(specs, 2);
	struct trust_memo m;

	(void)state;
	grade(t, rogue, 2, &m);
	assert_int_equal(m.cls, TRUST_PRIVATE);   /* a CA nobody here trusts */
	assert_int_equal(m.n_hits, 0);
	grade(t, rogue_leaf, 1, &m);
	assert_int_equal(m.cls, TRUST_NONE);      /* issuer not sent */
	grade(t, self, 1, &m);
	assert_int_equal(m.cls, TRUST_NONE);      /* self-signed */
	/* A forged issuing CA signs its leaf (its own key), but its name
	 * claims the approved CA: the store's root does not verify it. */
	grade(t, forged, 2, &m);
	assert_int_equal(m.cls, TRUST_PRIVATE);
	/* A CA certificate that did not sign the leaf is no issuer. */
	grade(t, wrong_issuer, 2, &m);
	assert_int_equal(m.cls, TRUST_NONE);
	trust_free(t);
}

static void test_memo_read_not_recomputed(void **state)
{
	const int chain[] = { ROGUE_LEAF };
	struct trust_memo m;

	(void)state;
	memset(&m, 0, sizeof(m));
	m.done = 1;
	m.cls = TRUST_PUBLIC;
	trust_classify(NULL, &cert[ROGUE_LEAF], 1, &m);
	assert_int_equal(m.cls, TRUST_PUBLIC);
	(void)chain;
	/* No stores at all: private and none still graded. */
	memset(&m, 0, sizeof(m));
	trust_classify(NULL, &cert[SELFSIGNED], 1, &m);
	assert_int_equal(m.cls, TRUST_NONE);
	memset(&m, 0, sizeof(m));
	trust_classify(NULL, NULL, 0, &m);
	assert_int_equal(m.cls, TRUST_UNKNOWN);
	assert_string_equal(trust_class_name(TRUST_PRIVATE), "private");
}

static void test_directory_store(void **state)
{
	char dir[] = "/tmp/cs-trust-XXXXXX", p[256], spec[300];
	const char *specs[1] = { spec };
	const int chain[] = { APPROVED_LEAF, APPROVED_ISSUING };
	struct trust_stores *t;
	struct trust_memo m;
	FILE *f;
	size_t n;

	(void)state;
	assert_non_null(mkdtemp(dir));
	/* one PEM, one DER, one file that is no certificate (skipped) */
	snprintf(p, sizeof(p), "%s/root.pem", dir);
	f = fopen(p, "w");
	assert_non_null(f);
	assert_int_equal(PEM_write_X509(f, cert[APPROVED_ROOT].x509), 1);
	fclose(f);
	snprintf(p, sizeof(p), "%s/rogue.der", dir);
	f = fopen(p, "wb");
	assert_non_null(f);
	assert_int_equal(i2d_X509_fp(f, cert[ROGUE_ROOT].x509), 1);
	fclose(f);
	snprintf(p, sizeof(p), "%s/README", dir);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs("not a certificate\n", f);
	fclose(f);
	snprintf(spec, sizeof(spec), "dir=%s", dir);
	t = load(specs, 1);
	/* the default store, when the machine has one, comes first */
	assert_string_equal(trust_name(t, trust_count(t) - 1, &n), "dir");
	assert_int_equal(n, 2);
	grade(t, chain, 2, &m);
	assert_int_equal(m.cls, TRUST_PUBLIC);
	assert_string_equal(m.hits[m.n_hits - 1].store, "dir");
	trust_free(t);
	snprintf(p, sizeof(p), "rm -rf %s", dir);
	assert_int_equal(system(p), 0);
}

static void test_load_errors(void **state)
{
	const char *missing[] = { "none", "x=/nonexistent/roots.pem" };
	const char *twice[] = { "none", "x=pcaps/pki/rogue-root.pem", "x=pcaps/pki/approved-root.pem" };
	const char *empty[] = { "none", "tests/test_truststore.c" };
	char err[512];

	(void)state;
	assert_null(trust_load(missing, 2, err, sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent/roots.pem: No such file"));
	assert_null(trust_load(twice, 3, err, sizeof(err)));
	assert_non_null(strstr(err, "given twice"));
	assert_null(trust_load(empty, 2, err, sizeof(err)));
	assert_non_null(strstr(err, "no certificate"));
}

/* A store that is no regular file is refused at once, never waited on:
 * a FIFO blocked the start until a writer came, /dev/zero was read as an
 * empty store.  alarm() turns a hang into a failure. */
static void test_not_regular_files(void **state)
{
	char dir[] = "/tmp/cs-trust-XXXXXX", fifo[64], big[64], ok[64], p[128];
	char s_fifo[80], s_big[80], s_dir[80];
	const char *specs[2] = { "none", NULL };
	const char *devzero[] = { "none", "z=/dev/zero" };
	struct trust_stores *t;
	char err[512];
	size_t n;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(fifo, sizeof(fifo), "%s/fifo.pem", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	alarm(10);
	snprintf(s_fifo, sizeof(s_fifo), "f=%s", fifo);
	specs[1] = s_fifo;
	assert_null(trust_load(specs, 2, err, sizeof(err)));
	assert_non_null(strstr(err, "fifo.pem: a FIFO, not a regular file"));
	assert_null(trust_load(devzero, 2, err, sizeof(err)));
	assert_non_null(strstr(err, "/dev/zero: a character device, not a regular file"));
	/* Over TRUST_MAX_FILE_BYTES: refused by its size, before a read. */
	snprintf(big, sizeof(big), "%s/big.pem", dir);
	f = fopen(big, "w");
	assert_non_null(f);
	assert_int_equal(ftruncate(fileno(f), (off_t)TRUST_MAX_FILE_BYTES + 1), 0);
	fclose(f);
	snprintf(s_big, sizeof(s_big), "b=%s", big);
	specs[1] = s_big;
	assert_null(trust_load(specs, 2, err, sizeof(err)));
	assert_non_null(strstr(err, "more than the 16777216"));
	/* In a store directory, what is not a regular file is skipped (the
	 * directory is the system's); the certificates beside it load. */
	snprintf(ok, sizeof(ok), "%s/root.pem", dir);
	f = fopen(ok, "w");
	assert_non_null(f);
	assert_int_equal(PEM_write_X509(f, cert[APPROVED_ROOT].x509), 1);
	fclose(f);
	unlink(big);
	snprintf(s_dir, sizeof(s_dir), "d=%s", dir);
	specs[1] = s_dir;
	t = trust_load(specs, 2, err, sizeof(err));
	if (t == NULL)
		fail_msg("%s", err);
	assert_string_equal(trust_name(t, 0, &n), "d");
	assert_int_equal(n, 1);
	trust_free(t);
	alarm(0);
	snprintf(p, sizeof(p), "rm -rf %s", dir);
	assert_int_equal(system(p), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_public_names_store_and_root),
		cmocka_unit_test(test_two_stores_both_named),
		cmocka_unit_test(test_private_and_none),
		cmocka_unit_test(test_memo_read_not_recomputed),
		cmocka_unit_test(test_directory_store),
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_not_regular_files),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
