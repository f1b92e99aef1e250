/*
 * fuzz_rules.c - libFuzzer target for the rules loader (sensor/verdict/rules.c)
 * and what policy.c does with a loaded policy.
 *
 * Input: the text of a rules file.  It is written to IN.rules in a
 * per-process temporary directory, created once, that also holds CA files
 * the rules may name (paths relative to the rules file):
 *   ca.pem two.pem v1.pem            valid CAs (two.pem: root and an
 *                                    intermediate; v1.pem: a self-signed
 *                                    X.509 v1 root)
 *   pki/approved-root.pem pki/approved-issuing.pem
 *   ca/EXAMPLE-resolver-root.pem ca/EXAMPLE-resolver-issuing.pem
 *                                    the same CAs under the names that the
 *                                    shipped rules (the seeds) use
 *   leaf.pem                         not a CA (refused)
 *   bad.pem noend.pem empty.pem      broken PEM
 *   fifo.pem                         a FIFO: refused, never waited on
 *                                    (the loader reads regular files only)
 * An input starting with "#d" is also loaded as d/b.rules of a directory
 * beside d/a.rules (a fixed valid owner), through the directory loader.
 *
 * policy_load must either return a policy or NULL with "FILE:LINE: reason"
 * in err; a loaded policy is summarised and evaluated for a few fixed
 * handshakes (no chain, and a leaf signed by ca.pem) and freed.  No leaks
 * (LeakSanitizer), no abort().
 */
#include <arpa/inet.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/x509.h>

#include "pki.h"
#include "verdict/policy.h"
#include "verdict/rules.h"
#include "x509/x509.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char tmpdir[256];
static char in_path[300], dir_path[300], dirin_path[320];
static int in_fd = -1, dirin_fd = -1;
static FILE *devnull;
static struct x509_info leaf_info;   /* a leaf signed by ca.pem */

/* ---- set-up ------------------------------------------------------------ */

static void write_file(const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	if (!f || fputs(text, f) == EOF || fclose(f) != 0)
		abort();
}

static void cleanup(void)
{
	static const char *const files[] = {
		"ca.pem", "two.pem", "v1.pem", "leaf.pem", "bad.pem", "noend.pem", "empty.pem",
		"pki/approved-root.pem", "pki/approved-issuing.pem",
		"ca/EXAMPLE-resolver-root.pem", "ca/EXAMPLE-resolver-issuing.pem",
		"fifo.pem", "IN.rules", "d/a.rules", "d/b.rules", "pki", "ca", "d",
	};
	char path[512];

	x509_info_free(&leaf_info);
	if (in_fd >= 0)
		close(in_fd);
	if (dirin_fd >= 0)
		close(dirin_fd);
	in_fd = dirin_fd = -1;
	if (devnull)
		fclose(devnull);
	devnull = NULL;
	if (!tmpdir[0])
		return;
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", tmpdir, files[i]);
		if (unlink(path) < 0)
			rmdir(path);
	}
	rmdir(tmpdir);
	tmpdir[0] = '\0';
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *t = getenv("TMPDIR");
	EVP_PKEY *root_key, *int_key, *leaf_key, *v1_key;
	X509 *root, *inter, *leaf, *v1;
	uint8_t *der;
	char sub[512];
	size_t len;

	(void)argc;
	(void)argv;
	snprintf(tmpdir, sizeof tmpdir, "%s/cs-fuzz-rules.XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(tmpdir))
		abort();
	atexit(cleanup);
	snprintf(sub, sizeof sub, "%s/pki", tmpdir);
	mkdir(sub, 0700);
	snprintf(sub, sizeof sub, "%s/ca", tmpdir);
	mkdir(sub, 0700);
	snprintf(dir_path, sizeof dir_path, "%s/d", tmpdir);
	mkdir(dir_path, 0700);
	snprintf(in_path, sizeof in_path, "%s/IN.rules", tmpdir);
	snprintf(dirin_path, sizeof dirin_path, "%s/b.rules", dir_path);

	root_key = fz_key(1);
	int_key = fz_key(2);
	leaf_key = fz_key(3);
	v1_key = fz_key(4);
	root = fz_cert(root_key, root_key, NULL, "Fuzz Root CA", 1, 1, 2);
	inter = fz_cert(int_key, root_key, root, "Fuzz Issuing CA", 1, 2, 2);
	leaf = fz_cert(leaf_key, root_key, root, "fuzz.example", 0, 3, 2);
	v1 = fz_cert(v1_key, v1_key, NULL, "Fuzz v1 Root", 1, 4, 0);
	fz_write_pem(tmpdir, "ca.pem", root, NULL);
	fz_write_pem(tmpdir, "two.pem", root, inter);
	fz_write_pem(tmpdir, "v1.pem", v1, NULL);
	fz_write_pem(tmpdir, "leaf.pem", leaf, NULL);
	fz_write_pem(tmpdir, "pki/approved-root.pem", root, NULL);
	fz_write_pem(tmpdir, "pki/approved-issuing.pem", inter, NULL);
	fz_write_pem(tmpdir, "ca/EXAMPLE-resolver-root.pem", root, NULL);
	fz_write_pem(tmpdir, "ca/EXAMPLE-resolver-issuing.pem", inter, NULL);
	write_file("bad.pem", "-----BEGIN CERTIFICATE-----\nnot*base64\n-----END CERTIFICATE-----\n");
	write_file("noend.pem", "-----BEGIN CERTIFICATE-----\nMIIB\n");
	write_file("empty.pem", "");
	snprintf(sub, sizeof sub, "%s/fifo.pem", tmpdir);
	if (mkfifo(sub, 0600) < 0)
		abort();
	write_file("d/a.rules", "owner dir-fixed\nprotect ip 192.0.2.0/24\napprove ca ../ca.pem\n");

	der = fz_der(leaf, &len);
	if (x509_parse(der, len, &leaf_info) < 0)
		abort();
	OPENSSL_free(der);
	X509_free(root);
	X509_free(inter);
	X509_free(leaf);
	X509_free(v1);
	EVP_PKEY_free(root_key);
	EVP_PKEY_free(int_key);
	EVP_PKEY_free(leaf_key);
	EVP_PKEY_free(v1_key);
	devnull = fopen("/dev/null", "w");
	in_fd = open(in_path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	dirin_fd = open(dirin_path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (!devnull || in_fd < 0 || dirin_fd < 0)
		abort();
	return 0;
}

/* Replace a file's content.  The IN.rules descriptor stays open: an
 * open and a close per input would cost more than the loading. */
static void put_file(int fd, const uint8_t *data, size_t size)
{
	if (ftruncate(fd, 0) < 0 || (size && pwrite(fd, data, size, 0) != (ssize_t)size))
		abort();
}

static void check_results(const struct policy *p, const struct policy_input *in,
                          struct policy_result *res)
{
	size_t n = policy_evaluate(p, in, res, policy_owner_count(p));

	if (n > policy_owner_count(p))
		abort();
	for (size_t i = 0; i < n; i++) {
		const struct policy_result *r = &res[i];

		if (!r->owner || (unsigned)r->verdict >= VERDICT_COUNT ||
		    r->verdict == VERDICT_STREAM_MISMATCH || r->n_matched > POLICY_MAX_MATCH ||
		    !memchr(r->reason, 0, sizeof r->reason) || r->reason[0] == '\0' ||
		    !memchr(r->anchor, 0, sizeof r->anchor) ||
		    r->anchor_cert < -1 || r->anchor_cert >= (int)in->n_certs)
			abort();
		if (in->hs != POLICY_HS_CHAIN && r->verdict != VERDICT_UNVERIFIED_HANDSHAKE &&
		    r->verdict != VERDICT_NOT_VISIBLE)
			abort();
		if (r->verdict == VERDICT_APPROVED && r->anchor[0] == '\0')
			abort();
	}
}

static void exercise(const struct policy *p)
{
	static const uint8_t v4[4] = { 192, 0, 2, 1 }, v4b[4] = { 1, 1, 1, 1 };
	static const uint8_t v6[16] = { 0x26, 0x06, 0x47, 0x00, 0x47, 0x00, 0, 0, 0, 0, 0, 0, 0, 0,
	                                0x11, 0x11 };
	struct policy_result *res;
	struct policy_input in;
	size_t n = policy_owner_count(p);

	if (n == 0 || n > RULES_MAX_OWNERS)
		abort();
	policy_summary(p, devnull);
	res = calloc(n, sizeof *res);
	if (!res)
		abort();

	memset(&in, 0, sizeof in);
	in.family = AF_INET;
	memcpy(in.server_ip, v4b, 4);
	in.sni = "One.One.One.One.";
	in.hs = POLICY_HS_INCOMPLETE;
	check_results(p, &in, res);

	memset(&in, 0, sizeof in);
	in.family = AF_INET6;
	memcpy(in.server_ip, v6, 16);
	in.sni = "www.cloudflare-dns.com";
	in.hs = POLICY_HS_CHAIN;
	check_results(p, &in, res);

	memset(&in, 0, sizeof in);
	in.family = AF_INET;
	memcpy(in.server_ip, v4, 4);
	in.hs = POLICY_HS_CHAIN;
	in.certs = &leaf_info;
	in.n_certs = 1;
	check_results(p, &in, res);
	free(res);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	struct policy *p;

	put_file(in_fd, data, size);
	err[0] = '\0';
	p = policy_load(in_path, err, sizeof err);
	if (!p) {
		if (err[0] == '\0' || !memchr(err, 0, sizeof err) || !strchr(err, ':'))
			abort();
	} else {
		exercise(p);
		policy_free(p);
	}

	if (size >= 2 && data[0] == '#' && data[1] == 'd') {
		put_file(dirin_fd, data, size);
		err[0] = '\0';
		p = policy_load(dir_path, err, sizeof err);
		if (!p) {
			if (err[0] == '\0' || !strchr(err, ':'))
				abort();
		} else {
			exercise(p);
			policy_free(p);
		}
		put_file(dirin_fd, NULL, 0);
	}
	return 0;
}
