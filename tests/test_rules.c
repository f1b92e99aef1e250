/*
 * test_rules.c - the rules loader: a valid set, every error with its exact
 * "file:line: reason", CA file checks, relative paths, directories.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "core/digest.h"
#include "verdict/policy.h"
#include "verdict/rules.h"

static char g_dir[64];
static EVP_PKEY *g_key;
static X509 *g_root, *g_inter, *g_leaf, *g_v1root, *g_v1leaf;

/* ---- test PKI -------------------------------------------------------------- */

static X509 *make(const char *cn, X509 *issuer, int version, const char *bc)
{
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();
	X509V3_CTX ctx;

	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0);
	X509_set_version(x, version);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
	X509_set_subject_name(x, n);
	X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : n);
	X509_NAME_free(n);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	/* One key for all: the loader looks at structure, not at keys. */
	X509_set_pubkey(x, g_key);
	if (bc != NULL) {
		X509_EXTENSION *ext;

		X509V3_set_ctx(&ctx, NULL, x, NULL, NULL, 0);
		ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints, bc);
		X509_add_ext(x, ext, -1);
		X509_EXTENSION_free(ext);
	}
	X509_sign(x, g_key, EVP_sha256());
	return x;
}

static void path_of(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", g_dir, name);
}

static void write_text(const char *name, const char *text)
{
	char path[256];
	FILE *f;

	path_of(path, sizeof(path), name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void write_pem(const char *name, X509 *a, X509 *b)
{
	char path[256];
	FILE *f;

	path_of(path, sizeof(path), name);
	f = fopen(path, "w");
	assert_non_null(f);
	/* Text around the blocks, as "openssl x509 -text" leaves it. */
	fputs("Certificate:\n    Data: ...\n", f);
	PEM_write_X509(f, a);
	if (b != NULL)
		PEM_write_X509(f, b);
	fclose(f);
}

static void spki_hex(X509 *x, char out[65])
{
	unsigned char *der = NULL;
	uint8_t md[32];
	int n = i2d_PUBKEY(X509_get0_pubkey(x), &der);

	digest_sha256(der, (size_t)n, md);
	digest_hex(md, 32, out, 0, 0);
	OPENSSL_free(der);
}

static int setup(void **state)
{
	char sub[128];

	(void)state;
	snprintf(g_dir, sizeof(g_dir), "/tmp/cs-rules-XXXXXX");
	if (mkdtemp(g_dir) == NULL)
		return -1;
	g_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	g_root = make("Root", NULL, X509_VERSION_3, "critical,CA:TRUE");
	g_inter = make("Intermediate", g_root, X509_VERSION_3, "critical,CA:TRUE");
	g_leaf = make("leaf.example", g_inter, X509_VERSION_3, "CA:FALSE");
	g_v1root = make("Old Root", NULL, X509_VERSION_1, NULL);
	g_v1leaf = make("old.example", g_v1root, X509_VERSION_1, NULL);
	write_pem("root.pem", g_root, NULL);
	write_pem("bundle.pem", g_root, g_inter);
	write_pem("mixed.pem", g_inter, g_leaf);
	write_pem("v1root.pem", g_v1root, NULL);
	write_pem("v1leaf.pem", g_v1leaf, NULL);
	write_text("empty.pem", "no certificate here\n");
	write_text("badb64.pem", "-----BEGIN CERTIFICATE-----\nMII*\n-----END CERTIFICATE-----\n");
	write_text("notder.pem", "-----BEGIN CERTIFICATE-----\naGVsbG8=\n-----END CERTIFICATE-----\n");
	write_text("open.pem", "-----BEGIN CERTIFICATE-----\naGVsbG8=\n");
	snprintf(sub, sizeof(sub), "%s/sub", g_dir);
	mkdir(sub, 0700);
	snprintf(sub, sizeof(sub), "%s/empty.d", g_dir);
	mkdir(sub, 0700);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	X509_free(g_root);
	X509_free(g_inter);
	X509_free(g_leaf);
	X509_free(g_v1root);
	X509_free(g_v1leaf);
	EVP_PKEY_free(g_key);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g_dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Load text as t.rules; expect success. */
static struct policy *load_ok(const char *text)
{
	char path[256], err[512] = "";
	struct policy *p;

	write_text("t.rules", text);
	path_of(path, sizeof(path), "t.rules");
	p = policy_load(path, err, sizeof(err));
	if (p == NULL)
		fail_msg("%s", err);
	return p;
}

/* Load text as t.rules; expect failure, the message into err. */
static void load_err(const char *text, char *err, size_t n, char *path, size_t pn)
{
	struct policy *p;

	write_text("t.rules", text);
	path_of(path, pn, "t.rules");
	p = policy_load(path, err, n);
	if (p != NULL) {
		policy_free(p);
		fail_msg("loaded; expected an error for:\n%s", text);
	}
}

/* Load text as t.rules; expect exactly "DIR/t.rules:LINE: want". */
static void load_fails(const char *text, unsigned line, const char *want)
{
	char path[256], err[512] = "", exp[768];

	load_err(text, err, sizeof(err), path, sizeof(path));
	snprintf(exp, sizeof(exp), "%s:%u: %s", path, line, want);
	if (strcmp(err, exp) != 0)
		fail_msg("got      '%s'\nexpected '%s'", err, exp);
}

/* ---- a valid set -------------------------------------------------------------- */

static void test_valid_two_owners(void **state)
{
	char text[1024], hex[65], summary[4096] = "";
	struct policy *p;
	const struct rules_owner *a, *b;
	FILE *f;

	(void)state;
	spki_hex(g_leaf, hex);
	snprintf(text, sizeof(text),
	         "# certsentry rules\n"
	         "\n"
	         "owner cloudflare-dns\t# trailing comment\n"
	         "  protect ip 1.1.1.1 1.0.0.0/24   2606:4700::/32\n"
	         "protect ip ::ffff:198.51.100.0/120\n"
	         "protect name One.One.One.One. *.CLOUDFLARE-dns.com _dmarc.example\n"
	         "approve ca bundle.pem\n"
	         "approve spki sha256:%s\n"
	         "owner second.owner_2\n"
	         "protect name example.net\n"
	         "approve ca %s/v1root.pem\n",
	         hex, g_dir);
	p = load_ok(text);
	assert_int_equal(policy_owner_count(p), 2);
	a = &p->owners[0];
	b = &p->owners[1];
	assert_string_equal(a->name, "cloudflare-dns");
	assert_int_equal(a->line, 3);
	assert_int_equal(a->n_cidrs, 4);
	assert_int_equal(a->cidrs[0].family, AF_INET);
	assert_int_equal(a->cidrs[0].prefix, 32);
	assert_int_equal(a->cidrs[1].prefix, 24);
	assert_int_equal(a->cidrs[2].family, AF_INET6);
	assert_int_equal(a->cidrs[2].prefix, 32);
	/* IPv4-mapped networks are stored as IPv4. */
	assert_int_equal(a->cidrs[3].family, AF_INET);
	assert_int_equal(a->cidrs[3].prefix, 24);
	assert_memory_equal(a->cidrs[3].addr, "\xc6\x33\x64\x00", 4);
	assert_int_equal(a->n_names, 3);
	assert_string_equal(a->names[0], "one.one.one.one");
	assert_string_equal(a->names[1], "*.cloudflare-dns.com");
	assert_string_equal(a->names[2], "_dmarc.example");
	assert_int_equal(a->n_cas, 2);
	assert_string_equal(a->cas[0].subject, "CN=Root");
	assert_string_equal(a->cas[1].subject, "CN=Intermediate");
	assert_int_equal(a->n_pins, 1);
	assert_string_equal(a->pins[0], hex);
	assert_string_equal(b->name, "second.owner_2");
	assert_int_equal(b->n_cas, 1);
	assert_string_equal(b->cas[0].subject, "CN=Old Root");

	f = fmemopen(summary, sizeof(summary) - 1, "w");
	policy_summary(p, f);
	fclose(f);
	assert_non_null(strstr(summary, "2 owners\nowner cloudflare-dns ("));
	assert_non_null(strstr(summary, "  protected IPs: 1 address, 3 networks\n"
	                                "    1.1.1.1\n    1.0.0.0/24\n"));
	assert_non_null(strstr(summary, "  protected names: 3\n"));
	assert_non_null(strstr(summary, "  approved CAs: 2\n    CN=Root (spki sha256:"));
	assert_non_null(strstr(summary, "  SPKI pins: 1\n    sha256:"));
	assert_non_null(strstr(summary, "owner second.owner_2"));
	policy_free(p);
}

static void test_pin_forms(void **state)
{
	char text[512], hex[65], upper[65], b64[64];
	uint8_t raw[32];
	struct policy *p;

	(void)state;
	spki_hex(g_root, hex);
	for (int i = 0; i < 65; i++)
		upper[i] = (char)(hex[i] >= 'a' && hex[i] <= 'f' ? hex[i] - 32 : hex[i]);
	for (int i = 0; i < 32; i++)
		sscanf(hex + 2 * i, "%2hhx", &raw[i]);
	EVP_EncodeBlock((unsigned char *)b64, raw, 32);
	snprintf(text, sizeof(text),
	         "owner o\nprotect ip 10.0.0.0/8\napprove spki sha256:%s\napprove spki sha256/%s\n",
	         upper, b64);
	p = load_ok(text);
	assert_int_equal(p->owners[0].n_pins, 2);
	assert_string_equal(p->owners[0].pins[0], hex);
	assert_string_equal(p->owners[0].pins[1], hex);
	policy_free(p);
}

static void test_line_limit(void **state)
{
	char text[4200];
	struct policy *p;

	(void)state;
	/* Exactly the limit is accepted... */
	memset(text, '#', 4096);
	strcpy(text + 4096, "\nowner o\nprotect ip 10.0.0.1\napprove ca root.pem\n");
	p = load_ok(text);
	policy_free(p);
	/* ...one more is not. */
	memset(text, '#', 4097);
	strcpy(text + 4097, "\n");
	load_fails(text, 1, "line longer than 4096 bytes");
}

static void test_entry_limit(void **state)
{
	size_t cap = 64 + (RULES_MAX_ENTRIES + 1) * 32;
	char *text = malloc(cap);
	size_t off;

	(void)state;
	off = (size_t)snprintf(text, cap, "owner o\napprove ca root.pem\n");
	for (unsigned i = 0; i <= RULES_MAX_ENTRIES; i++)
		off += (size_t)snprintf(text + off, cap - off, "protect ip 10.%u.%u.1\n",
		                        i / 256, i % 256);
	load_fails(text, RULES_MAX_ENTRIES + 3, "owner 'o' protects more than 4096 addresses");
	free(text);
}

/* "protect zone": stored lower-case without the trailing dot, shown by
 * the summary (--check-rules), a zone-only owner is an owner that
 * protects something, and a zone is a DNS name as long as one may be. */
static void test_zones(void **state)
{
	char text[1024], summary[4096] = "", zone[300];
	struct policy *p;
	FILE *f;

	(void)state;
	p = load_ok("owner z\nprotect zone Example.COM. sub.example.org\napprove ca root.pem\n");
	assert_int_equal(p->owners[0].n_zones, 2);
	assert_int_equal(p->owners[0].n_names, 0);
	assert_string_equal(p->owners[0].zones[0], "example.com");
	assert_string_equal(p->owners[0].zones[1], "sub.example.org");
	f = fmemopen(summary, sizeof(summary) - 1, "w");
	policy_summary(p, f);
	fclose(f);
	assert_non_null(strstr(summary, "  protected zones: 2 (each: its apex and every name "
	                                "below it)\n    example.com\n    sub.example.org\n"));
	policy_free(p);
	/* 253 bytes (four labels of 63, dots between) is the longest... */
	memset(zone, 'a', 255);
	zone[63] = zone[127] = zone[191] = '.';
	zone[253] = '\0';
	snprintf(text, sizeof(text), "owner z\nprotect zone %s\napprove ca root.pem\n", zone);
	policy_free(load_ok(text));
	/* ...254 is refused. */
	zone[253] = 'a';
	zone[254] = '\0';
	snprintf(text, sizeof(text), "owner z\nprotect zone %s\n", zone);
	snprintf(summary, sizeof(summary), "bad zone '%s': longer than 253 bytes", zone);
	load_fails(text, 2, summary);
}

static void test_zone_limit(void **state)
{
	size_t cap = 64 + (RULES_MAX_ENTRIES + 1) * 32;
	char *text = malloc(cap);
	size_t off;

	(void)state;
	off = (size_t)snprintf(text, cap, "owner o\napprove ca root.pem\n");
	for (unsigned i = 0; i <= RULES_MAX_ENTRIES; i++)
		off += (size_t)snprintf(text + off, cap - off, "protect zone z%u.example\n", i);
	load_fails(text, RULES_MAX_ENTRIES + 3, "owner 'o' protects more than 4096 zones");
	free(text);
}

/* ---- errors -------------------------------------------------------------------- */

#define OWNER "owner o\nprotect ip 10.0.0.1\n"

static void test_syntax_errors(void **state)
{
	static const struct {
		const char *text;
		unsigned line;
		const char *want;
	} cases[] = {
		{ "protect ip 1.1.1.1\n", 1, "'protect' before any owner directive" },
		{ "\n# c\napprove ca root.pem\n", 3, "'approve' before any owner directive" },
		{ OWNER "frobnicate x\n", 3, "unknown directive 'frobnicate'" },
		{ "owner\n", 1, "owner: name expected" },
		{ "owner a b\n", 1, "owner: unexpected 'b' after the name" },
		{ "owner a/b\n", 1, "bad owner name 'a/b' (at most 64 letters, digits, '.', '_', '-')" },
		{ "owner o\nprotect ip 1.2.3.4/33\n", 2, "bad prefix length in '1.2.3.4/33' (0..32)" },
		{ "owner o\nprotect ip 1.2.3.4/\n", 2, "bad prefix length in '1.2.3.4/' (0..32)" },
		{ "owner o\nprotect ip 1.2.3.4/-1\n", 2, "bad prefix length in '1.2.3.4/-1' (0..32)" },
		{ "owner o\nprotect ip 2001:db8::/129\n", 2,
		  "bad prefix length in '2001:db8::/129' (0..128)" },
		{ "owner o\nprotect ip 10.0.0.1/8\n", 2, "host bits set in '10.0.0.1/8'" },
		{ "owner o\nprotect ip 2001:db8::1/64\n", 2, "host bits set in '2001:db8::1/64'" },
		{ "owner o\nprotect ip 10.0.0.128/25 10.0.0.64/25\n", 2,
		  "host bits set in '10.0.0.64/25'" },
		{ "owner o\nprotect ip 1.2.3\n", 2, "bad address '1.2.3'" },
		{ "owner o\nprotect ip /24\n", 2, "bad address '/24'" },
		{ "owner o\nprotect ip\n", 2, "protect ip: nothing to protect" },
		{ "owner o\nprotect\n", 2, "protect: expected 'ip', 'name' or 'zone'" },
		{ "owner o\nprotect host x\n", 2,
		  "protect: expected 'ip', 'name' or 'zone', not 'host'" },
		{ "owner o\nprotect zone\n", 2, "protect zone: nothing to protect" },
		{ "owner o\nprotect zone .\n", 2, "bad zone '.': empty" },
		{ "owner o\nprotect zone *.example.com\n", 2,
		  "bad zone '*.example.com': a wildcard (a zone covers its apex and every name "
		  "below it; write the apex)" },
		{ "owner o\nprotect zone a.*.com\n", 2,
		  "bad zone 'a.*.com': a wildcard (a zone covers its apex and every name "
		  "below it; write the apex)" },
		{ "owner o\nprotect zone 192.0.2.1\n", 2,
		  "bad zone '192.0.2.1': an address, not a DNS zone (use 'protect ip')" },
		{ "owner o\nprotect zone 2001:db8::/32\n", 2,
		  "bad zone '2001:db8::/32': an address, not a DNS zone (use 'protect ip')" },
		{ "owner o\nprotect zone 10.0.0.0/8\n", 2,
		  "bad zone '10.0.0.0/8': an address, not a DNS zone (use 'protect ip')" },
		{ "owner o\nprotect zone foo..com\n", 2, "bad zone 'foo..com': empty label" },
		{ "owner o\nprotect zone ex!ample.com\n", 2,
		  "bad zone 'ex!ample.com': bad character (letters, digits, '-', '_', '.')" },
		{ "owner o\nprotect name a.*.com\n", 2,
		  "bad name 'a.*.com': '*' is allowed only as the whole left-most label" },
		{ "owner o\nprotect name f*.example.com\n", 2,
		  "bad name 'f*.example.com': '*' is allowed only as the whole left-most label" },
		{ "owner o\nprotect name *.\n", 2, "bad name '*.': a wildcard needs a domain after '*.'" },
		{ "owner o\nprotect name foo..com\n", 2, "bad name 'foo..com': empty label" },
		{ "owner o\nprotect name .\n", 2, "bad name '.': empty" },
		{ "owner o\nprotect name ex!ample.com\n", 2,
		  "bad name 'ex!ample.com': bad character (letters, digits, '-', '_', '.')" },
		{ "owner o\nprotect name "
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com\n", 2,
		  "bad name 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com': "
		  "label longer than 63 bytes" },
		{ OWNER "approve\n", 3, "approve: expected 'ca' or 'spki'" },
		{ OWNER "approve key x\n", 3, "approve: expected 'ca' or 'spki', not 'key'" },
		{ OWNER "approve ca\n", 3, "approve ca: argument expected" },
		{ OWNER "approve ca a.pem b.pem\n", 3,
		  "approve ca: one argument per line, unexpected 'b.pem'" },
		{ OWNER "approve spki sha256:abc\n", 3,
		  "bad pin 'sha256:abc': expected 64 hex digits after 'sha256:'" },
		{ OWNER "approve spki sha256:"
		  "zz00000000000000000000000000000000000000000000000000000000000000\n", 3,
		  "bad pin 'sha256:zz00000000000000000000000000000000000000000000000000000000000000': "
		  "expected 64 hex digits after 'sha256:'" },
		{ OWNER "approve spki sha256/aGVsbG8=\n", 3,
		  "bad pin 'sha256/aGVsbG8=': expected base64 of 32 bytes after 'sha256/'" },
		{ OWNER "approve spki sha256/a*==\n", 3,
		  "bad pin 'sha256/a*==': expected base64 of 32 bytes after 'sha256/'" },
		{ OWNER "approve spki md5:00\n", 3,
		  "bad pin 'md5:00': expected sha256:HEX or sha256/BASE64" },
		{ "owner o\nprotect ip 10.0.0.1\n", 1, "owner 'o' has no approve directive" },
		{ "owner o\napprove ca root.pem\nowner p\n", 1, "owner 'o' has no protect directive" },
		{ OWNER "approve ca root.pem\nowner o\n", 4,
		  "duplicate owner 'o' (first at %s/t.rules:1)" },
		{ "# nothing\n\n", 0, "no owner defined" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char want[512];

		/* Only the duplicate case has a %s: the first file's path. */
		snprintf(want, sizeof(want), cases[i].want, g_dir);
		load_fails(cases[i].text, cases[i].line, want);
	}
}

static void test_nul_byte(void **state)
{
	char path[256], err[512];
	FILE *f;

	(void)state;
	path_of(path, sizeof(path), "t.rules");
	f = fopen(path, "w");
	fwrite("owner o\nprotect ip 10.0.0.1\0 1.1.1.1\n", 1, 37, f);
	fclose(f);
	assert_null(policy_load(path, err, sizeof(err)));
	assert_non_null(strstr(err, "t.rules:2: NUL byte in line"));
}

static void test_ca_file_errors(void **state)
{
	char want[512], err[512], path[256];

	(void)state;
	snprintf(want, sizeof(want), "cannot open CA file '%s/missing.pem': No such file or directory",
	         g_dir);
	load_fails(OWNER "approve ca missing.pem\n", 3, want);
	snprintf(want, sizeof(want), "not a CA certificate: certificate 2 in '%s/mixed.pem' "
	         "(CN=leaf.example)", g_dir);
	load_fails(OWNER "approve ca mixed.pem\n", 3, want);
	/* A v1 certificate that is not self-signed is no root. */
	snprintf(want, sizeof(want), "not a CA certificate: certificate 1 in '%s/v1leaf.pem' "
	         "(CN=old.example)", g_dir);
	load_fails(OWNER "approve ca v1leaf.pem\n", 3, want);
	snprintf(want, sizeof(want), "no certificate in CA file '%s/empty.pem'", g_dir);
	load_fails(OWNER "approve ca empty.pem\n", 3, want);
	snprintf(want, sizeof(want), "certificate 1 in '%s/badb64.pem': bad base64", g_dir);
	load_fails(OWNER "approve ca badb64.pem\n", 3, want);
	snprintf(want, sizeof(want), "certificate 1 in '%s/open.pem' has no END line", g_dir);
	load_fails(OWNER "approve ca open.pem\n", 3, want);
	/* The OpenSSL reason follows; only its start is ours. */
	load_err(OWNER "approve ca notder.pem\n", err, sizeof(err), path, sizeof(path));
	snprintf(want, sizeof(want), "%s:3: certificate 1 in '%s/notder.pem' does not parse: ",
	         path, g_dir);
	assert_true(strncmp(err, want, strlen(want)) == 0);
}

static void test_missing_file(void **state)
{
	char path[256], err[512], want[512];

	(void)state;
	path_of(path, sizeof(path), "nope.rules");
	assert_null(policy_load(path, err, sizeof(err)));
	snprintf(want, sizeof(want), "%s:0: cannot open: No such file or directory", path);
	assert_string_equal(err, want);
}

/* ---- paths and directories ------------------------------------------------------ */

static void test_relative_paths(void **state)
{
	char path[256], err[512];
	struct policy *p;

	(void)state;
	/* Relative to the rules file, wherever the process runs. */
	write_text("sub/x.rules", "owner o\nprotect ip 10.0.0.1\napprove ca ../root.pem\n");
	path_of(path, sizeof(path), "sub/x.rules");
	assert_int_equal(chdir("/"), 0);
	p = policy_load(path, err, sizeof(err));
	if (p == NULL)
		fail_msg("%s", err);
	assert_string_equal(p->owners[0].cas[0].subject, "CN=Root");
	policy_free(p);
	/* A bare file name: relative to the current directory. */
	write_text("t.rules", "owner o\nprotect ip 10.0.0.1\napprove ca root.pem\n");
	assert_int_equal(chdir(g_dir), 0);
	p = policy_load("t.rules", err, sizeof(err));
	if (p == NULL)
		fail_msg("%s", err);
	policy_free(p);
	assert_int_equal(chdir("/"), 0);
}

static void test_directory(void **state)
{
	char path[256], err[1024], want[1024];
	struct policy *p;

	(void)state;
	write_text("sub/20-b.rules", "owner b\nprotect ip 10.0.0.2\napprove ca ../root.pem\n");
	write_text("sub/10-a.rules", "owner a\nprotect ip 10.0.0.1\napprove ca ../root.pem\n");
	write_text("sub/notes.txt", "owner ignored\n");
	write_text("sub/.hidden.rules", "garbage\n");
	path_of(path, sizeof(path), "sub/x.rules");
	unlink(path);
	path_of(path, sizeof(path), "sub");
	p = policy_load(path, err, sizeof(err));
	if (p == NULL)
		fail_msg("%s", err);
	assert_int_equal(policy_owner_count(p), 2);
	assert_string_equal(p->owners[0].name, "a");
	assert_string_equal(p->owners[1].name, "b");
	snprintf(want, sizeof(want), "%s/10-a.rules", path);
	assert_string_equal(p->owners[0].file, want);
	policy_free(p);

	/* Owner names are unique across files. */
	write_text("sub/30-c.rules", "owner a\nprotect ip 10.0.0.3\napprove ca ../root.pem\n");
	assert_null(policy_load(path, err, sizeof(err)));
	snprintf(want, sizeof(want), "%s/30-c.rules:1: duplicate owner 'a' (first at %s/10-a.rules:1)",
	         path, path);
	assert_string_equal(err, want);

	/* An error names the file it is in. */
	write_text("sub/30-c.rules", "owner c\nprotect ip 10.0.0.3/8\n");
	assert_null(policy_load(path, err, sizeof(err)));
	snprintf(want, sizeof(want), "%s/30-c.rules:2: host bits set in '10.0.0.3/8'", path);
	assert_string_equal(err, want);

	path_of(path, sizeof(path), "empty.d");
	assert_null(policy_load(path, err, sizeof(err)));
	snprintf(want, sizeof(want), "%s:0: no *.rules file in directory", path);
	assert_string_equal(err, want);
}

static void test_small_error_buffer(void **state)
{
	char err[16], path[256];

	(void)state;
	/* The message is cut, never overrun. */
	load_err("bogus\n", err, sizeof(err), path, sizeof(path));
	assert_int_equal(strlen(err), sizeof(err) - 1);
	assert_true(strncmp(err, path, sizeof(err) - 1) == 0);
}

/* ---- damaged and hostile files ----------------------------------------------- */

/* Write n bytes as t.rules (the text may hold NULs). */
static void write_bytes(const char *name, const void *data, size_t n, char *path, size_t pn)
{
	FILE *f;

	path_of(path, pn, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, n, f), n);
	fclose(f);
}

/* Binary bytes in the middle of a file: an error on their line, never a
 * rule read past them.  A comment is no hiding place: a damaged file is
 * damaged there too. */
static void test_binary_in_the_middle(void **state)
{
	char path[256], err[512], want[768];
	struct policy *p;

	(void)state;
	load_fails(OWNER "\x01\x02garbage\napprove ca root.pem\n", 3,
	           "not text: byte 0x01 at column 1 (a damaged or binary file?)");
	load_fails(OWNER "approve ca root.pem # \xff\xfe\n", 3,
	           "not text: byte 0xff at column 23 (a damaged or binary file?)");
	load_fails(OWNER "protect name a\x7f.example\napprove ca root.pem\n", 3,
	           "not text: byte 0x7f at column 15 (a damaged or binary file?)");
	/* An overlong form and a cut sequence are not UTF-8 either. */
	load_fails(OWNER "# \xc0\xaf\napprove ca root.pem\n", 3,
	           "not text: byte 0xc0 at column 3 (a damaged or binary file?)");
	load_fails(OWNER "approve ca root.pem\n# caf\xc3", 4,
	           "not text: byte 0xc3 at column 6 (a damaged or binary file?)");
	/* UTF-8 in comments, tabs, CR LF line ends and a last line without a
	 * newline are text. */
	p = load_ok("# caf\xc3\xa9 \xe2\x82\xac\r\nowner o\t# x\r\nprotect ip 10.0.0.1\r\n"
	            "approve ca root.pem");
	assert_int_equal(policy_owner_count(p), 1);
	assert_int_equal(p->owners[0].n_cas, 1);
	policy_free(p);
	/* A NUL anywhere, the first line included. */
	write_bytes("t.rules", "\0owner o\n", 9, path, sizeof(path));
	assert_null(policy_load(path, err, sizeof(err)));
	snprintf(want, sizeof(want), "%s:1: NUL byte in line", path);
	assert_string_equal(err, want);
	/* A file cut in the middle of a line: that line's error. */
	snprintf(want, sizeof(want), "cannot open CA file '%s/roo': No such file or directory",
	         g_dir);
	load_fails(OWNER "approve ca roo", 3, want);
	load_fails(OWNER "approve ca root.pem\nowner p\nprotect ip 10.0.0.2\napprove sp", 6,
	           "approve: expected 'ca' or 'spki', not 'sp'");
}

/* Nothing raw from the file reaches the message: a control byte or a byte
 * that is not UTF-8 in a path is written \xNN. */
static void test_message_escaped(void **state)
{
	char err[512], want[512];

	(void)state;
	assert_null(policy_load("/nonexistent/a\x1b[2Jb\xff.rules", err, sizeof(err)));
	snprintf(want, sizeof(want),
	         "/nonexistent/a\\x1b[2Jb\\xff.rules:0: cannot open: No such file or directory");
	assert_string_equal(err, want);
}

/* A FIFO, a device or a directory is refused, never waited on (alarm()
 * turns a hang into a failure): as the rules file, as a rules directory's
 * entry, and as an approve ca file. */
static void test_not_regular_files(void **state)
{
	char fifo[256], path[256], sub[256], err[1024], want[1024];
	struct policy *p;

	(void)state;
	path_of(fifo, sizeof(fifo), "fifo.pem");
	assert_int_equal(mkfifo(fifo, 0600), 0);
	alarm(10);
	assert_null(policy_load(fifo, err, sizeof(err)));
	snprintf(want, sizeof(want), "%s:0: cannot open: a FIFO, not a regular file", fifo);
	assert_true(strncmp(err, want, strlen(want)) == 0);

	snprintf(want, sizeof(want), "cannot open CA file '%s': a FIFO, not a regular file "
	         "(refused: it could block or never end)", fifo);
	load_fails(OWNER "approve ca fifo.pem\n", 3, want);
	load_fails(OWNER "approve ca /dev/zero\n", 3,
	           "cannot open CA file '/dev/zero': a character device, not a regular file "
	           "(refused: it could block or never end)");
	snprintf(want, sizeof(want), "cannot open CA file '%s/sub': a directory, not a regular "
	         "file", g_dir);
	load_fails(OWNER "approve ca sub\n", 3, want);

	assert_null(policy_load("/dev/zero", err, sizeof(err)));
	assert_string_equal(err, "/dev/zero:0: cannot open: a character device, not a regular "
	                    "file (refused: it could block or never end)");

	/* In a rules directory, a *.rules that is not a regular file is an
	 * error naming it: skipping it would leave its owners out unsaid. */
	path_of(sub, sizeof(sub), "fifo.d");
	assert_int_equal(mkdir(sub, 0700), 0);
	write_text("fifo.d/10-a.rules", "owner a\nprotect ip 10.0.0.1\napprove ca ../root.pem\n");
	path_of(path, sizeof(path), "fifo.d/20-b.rules");
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_null(policy_load(sub, err, sizeof(err)));
	snprintf(want, sizeof(want), "%s:0: cannot open: a FIFO, not a regular file", path);
	assert_true(strncmp(err, want, strlen(want)) == 0);
	unlink(path);
	p = policy_load(sub, err, sizeof(err));
	if (p == NULL)
		fail_msg("%s", err);
	policy_free(p);
	alarm(0);
	unlink(fifo);
}

/* Files over their bound are refused by size, the bound named, before
 * anything is read (sparse files: no disk used). */
static void test_file_bounds(void **state)
{
	char path[256], err[512], want[512];
	FILE *f;

	(void)state;
	path_of(path, sizeof(path), "huge.rules");
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(ftruncate(fileno(f), (off_t)RULES_MAX_FILE + 1), 0);
	fclose(f);
	assert_null(policy_load(path, err, sizeof(err)));
	snprintf(want, sizeof(want), "%s:0: cannot open: %u bytes, more than the %u allowed", path,
	         RULES_MAX_FILE + 1, RULES_MAX_FILE);
	assert_string_equal(err, want);
	unlink(path);

	path_of(path, sizeof(path), "huge.pem");
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(ftruncate(fileno(f), (off_t)RULES_MAX_CA_FILE + 1), 0);
	fclose(f);
	snprintf(want, sizeof(want), "cannot open CA file '%s': %u bytes, more than the %u allowed",
	         path, RULES_MAX_CA_FILE + 1, RULES_MAX_CA_FILE);
	load_fails(OWNER "approve ca huge.pem\n", 3, want);
	unlink(path);
}

/* A load asked to give up (a reload at stop) says so and loads nothing. */
static void test_cancel(void **state)
{
	char path[256], err[512], want[512];
	atomic_int cancel = 1;
	struct policy *p;

	(void)state;
	write_text("t.rules", OWNER "approve ca root.pem\n");
	path_of(path, sizeof(path), "t.rules");
	assert_null(policy_load_cancellable(path, &cancel, err, sizeof(err)));
	snprintf(want, sizeof(want), "%s:0: loading cancelled", path);
	assert_string_equal(err, want);
	atomic_store(&cancel, 0);
	p = policy_load_cancellable(path, &cancel, err, sizeof(err));
	if (p == NULL)
		fail_msg("%s", err);
	policy_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_two_owners),
		cmocka_unit_test(test_pin_forms),
		cmocka_unit_test(test_line_limit),
		cmocka_unit_test(test_entry_limit),
		cmocka_unit_test(test_zones),
		cmocka_unit_test(test_zone_limit),
		cmocka_unit_test(test_syntax_errors),
		cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_ca_file_errors),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_relative_paths),
		cmocka_unit_test(test_directory),
		cmocka_unit_test(test_small_error_buffer),
		cmocka_unit_test(test_binary_in_the_middle),
		cmocka_unit_test(test_message_escaped),
		cmocka_unit_test(test_not_regular_files),
		cmocka_unit_test(test_file_bounds),
		cmocka_unit_test(test_cancel),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
