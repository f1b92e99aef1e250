/*
 * rules.c - load the rules files into a struct policy (see include/verdict/policy.h
 * for the interface, include/verdict/rules.h for the structures).
 *
 * Grammar, one directive a line, '#' starts a comment, tokens split on
 * white space:
 *   owner NAME
 *   protect ip ADDR[/PREFIX] ...
 *   protect name NAME ...            (a "*." left-most label is a wildcard)
 *   protect zone ZONE ...            (ZONE and every name below it, any depth)
 *   approve ca PATH                  (PEM; relative to the rules file)
 *   approve spki sha256:HEX | sha256/BASE64
 * Like p0f's readfp.c, a small state machine (the current owner) that
 * reports every problem as "file:line: reason" and loads nothing on error:
 * a sensor running on half a policy would miss alerts without saying so.
 *
 * No OpenSSL here: PEM is plain base64 and the certificates go through
 * x509_parse; the OpenSSL side of the trust material lives in policy.c.
 * The values a directive takes (addresses, names, pins, base64) are
 * rules_values.c; what the two share sensor/verdict/rules_int.h.  Must not:
 * verify or match anything (policy.c does).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/digest.h"
#include "core/fileio.h"
#include "verdict/rules.h"
#include "rules_int.h"

#define SEPS " \t\r\v\f"
#define PEM_BEGIN "-----BEGIN CERTIFICATE-----"
#define PEM_END   "-----END CERTIFICATE-----"

/* Length of the valid UTF-8 sequence at s[0..n) (1 to 4 bytes), or 0 when
 * it is not one (RFC 3629 §4: no overlong forms, no surrogates, nothing
 * above U+10FFFF). */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t need, i;
	unsigned lo = 0x80, hi = 0xbf;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		need = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		need = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		need = 4;
	else
		return 0;
	if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	if (need > n)
		return 0;
	for (i = 1; i < need; i++) {
		if (s[i] < lo || s[i] > hi)
			return 0;
		lo = 0x80;
		hi = 0xbf;
	}
	return need;
}

/* Copy msg into out (cap bytes, NUL included) with every control byte and
 * every byte that is not UTF-8 written as \xNN: a damaged or binary rules
 * file must not put raw bytes on the operator's terminal or into syslog.
 * An escape that does not fit is left out whole. */
static void copy_printable(char *out, size_t cap, const char *msg)
{
	const unsigned char *s = (const unsigned char *)msg;
	size_t o = 0, n = strlen(msg);

	if (cap == 0)
		return;
	for (size_t i = 0; i < n;) {
		size_t k = utf8_len(s + i, n - i);

		if (k == 1 && (s[i] < 0x20 || s[i] == 0x7f))
			k = 0;
		if (k == 0) {
			if (cap - o < 5)
				break;
			snprintf(out + o, 5, "\\x%02x", s[i]);
			o += 4;
			i++;
			continue;
		}
		if (cap - o <= k)
			break;
		memcpy(out + o, s + i, k);
		o += k;
		i += k;
	}
	out[o] = '\0';
}

__attribute__((format(printf, 2, 3)))
int rules_err(struct loader *ld, const char *fmt, ...)
{
	char msg[2048];
	size_t n;
	va_list ap;
	int k;

	k = snprintf(msg, sizeof(msg), "%s:%u: ", ld->file, ld->line);
	n = k < 0 ? 0 : (size_t)k;
	if (n < sizeof(msg)) {
		va_start(ap, fmt);
		vsnprintf(msg + n, sizeof(msg) - n, fmt, ap);
		va_end(ap);
	}
	copy_printable(ld->err, ld->errlen, msg);
	return -1;
}

/* fileio's "PATH: reason" without the path, which the caller's message
 * already names. */
static const char *fileio_reason(const char *path, const char *msg)
{
	size_t n = strlen(path);

	if (strncmp(msg, path, n) == 0 && msg[n] == ':' && msg[n + 1] == ' ')
		return msg + n + 2;
	return msg;
}

/* A reload running beside the capture gives up when asked (live.c at
 * stop): checked once a line and once a certificate. */
static int cancelled(struct loader *ld)
{
	if (ld->cancel == NULL || !atomic_load(ld->cancel))
		return 0;
	ld->line = 0;
	rules_err(ld, "loading cancelled");
	return 1;
}

/* Make room for element n of an array grown by doubling (no capacity field
 * needed: the size is a power of two exactly when it is full). */
static int grow(void **arr, size_t n, size_t elem)
{
	void *p;

	if (n != 0 && (n & (n - 1)) != 0)
		return 0;
	p = realloc(*arr, (n == 0 ? 1 : 2 * n) * elem);
	if (p == NULL)
		return -1;
	*arr = p;
	return 0;
}

/* ---- approved CA files ------------------------------------------------ */

/* Read a whole CA file, NUL-terminated, into *out (caller owns).  Only a
 * regular file of at most RULES_MAX_CA_FILE bytes (fileio.h): a FIFO or a
 * device named by "approve ca" would block the load or never end. */
static int read_pem_file(struct loader *ld, const char *path, char **out)
{
	char why[512];
	uint8_t *buf = NULL;   /* owned by fileio_read_all's caller: here */
	size_t len = 0;

	if (fileio_read_all(path, RULES_MAX_CA_FILE, &buf, &len, why, sizeof(why)) < 0)
		return rules_err(ld, "cannot open CA file '%s': %s", path, fileio_reason(path, why));
	/* A NUL would hide the certificates after it from strstr. */
	if (memchr(buf, 0, len) != NULL) {
		free(buf);
		return rules_err(ld, "CA file '%s' is not PEM (NUL byte)", path);
	}
	*out = (char *)buf;   /* fileio_read_all NUL-terminates */
	return 0;
}

/* Decode, parse and check one PEM body; on success it is appended to the
 * current owner's approved CAs. */
static int add_ca(struct loader *ld, const char *path, size_t idx,
                  const char *body, size_t n)
{
	struct rules_owner *o = ld->cur;
	struct x509_info xi;
	uint8_t *der;
	size_t len;
	int ret = -1;

	der = malloc(n); /* base64 shrinks; freed below */
	if (der == NULL)
		return rules_err(ld, "out of memory");
	if (rules_b64_decode(body, n, der, n, &len) < 0) {
		free(der);
		return rules_err(ld, "certificate %zu in '%s': bad base64", idx, path);
	}
	if (x509_parse(der, len, &xi) < 0) {
		rules_err(ld, "certificate %zu in '%s' does not parse: %s", idx, path, xi.error);
		goto out;
	}
	if (!policy_cert_is_ca(&xi)) {
		rules_err(ld, "not a CA certificate: certificate %zu in '%s' (%s)", idx, path,
		       xi.subject);
		goto out;
	}
	if (o->n_cas >= RULES_MAX_ENTRIES) {
		rules_err(ld, "owner '%s' approves more than %u CA certificates", o->name,
		       RULES_MAX_ENTRIES);
		goto out;
	}
	if (grow((void **)&o->cas, o->n_cas, sizeof(*o->cas)) < 0) {
		rules_err(ld, "out of memory");
		goto out;
	}
	o->cas[o->n_cas++] = xi; /* the owner now owns xi's allocations */
	ret = 0;
out:
	if (ret < 0)
		x509_info_free(&xi);
	free(der);
	return ret;
}

static int load_ca(struct loader *ld, const char *tok)
{
	char *path = NULL, *pem = NULL;
	const char *p;
	size_t count = 0;
	int ret = -1;

	/* Relative to the rules file, so a rules directory can be moved. */
	path = tok[0] == '/' ? strdup(tok) : rules_join_path(ld->dir, tok);
	if (path == NULL)
		return rules_err(ld, "out of memory");
	if (read_pem_file(ld, path, &pem) < 0)
		goto out;
	for (p = strstr(pem, PEM_BEGIN); p != NULL; p = strstr(p, PEM_BEGIN)) {
		const char *body = p + strlen(PEM_BEGIN);
		const char *end = strstr(body, PEM_END);

		if (cancelled(ld))
			goto out;
		if (end == NULL) {
			rules_err(ld, "certificate %zu in '%s' has no END line", count + 1, path);
			goto out;
		}
		if (add_ca(ld, path, ++count, body, (size_t)(end - body)) < 0)
			goto out;
		p = end + strlen(PEM_END);
	}
	if (count == 0) {
		rules_err(ld, "no certificate in CA file '%s'", path);
		goto out;
	}
	ret = 0;
out:
	free(pem);
	free(path);
	return ret;
}

/* ---- directives --------------------------------------------------------- */

static int protect_ip(struct loader *ld, const char *tok)
{
	struct rules_owner *o = ld->cur;
	struct rules_cidr c;

	if (rules_parse_cidr(ld, tok, &c) < 0)
		return -1;
	if (o->n_cidrs >= RULES_MAX_ENTRIES)
		return rules_err(ld, "owner '%s' protects more than %u addresses", o->name,
		              RULES_MAX_ENTRIES);
	if (grow((void **)&o->cidrs, o->n_cidrs, sizeof(*o->cidrs)) < 0)
		return rules_err(ld, "out of memory");
	o->cidrs[o->n_cidrs++] = c;
	return 0;
}

static int protect_name(struct loader *ld, const char *tok)
{
	struct rules_owner *o = ld->cur;
	char *name = NULL;

	if (o->n_names >= RULES_MAX_ENTRIES)
		return rules_err(ld, "owner '%s' protects more than %u names", o->name,
		              RULES_MAX_ENTRIES);
	if (rules_parse_name(ld, tok, &name) < 0)
		return -1;
	if (grow((void **)&o->names, o->n_names, sizeof(*o->names)) < 0) {
		free(name);
		return rules_err(ld, "out of memory");
	}
	o->names[o->n_names++] = name;
	return 0;
}

static int protect_zone(struct loader *ld, const char *tok)
{
	struct rules_owner *o = ld->cur;
	char *zone = NULL;

	if (o->n_zones >= RULES_MAX_ENTRIES)
		return rules_err(ld, "owner '%s' protects more than %u zones", o->name,
		                 RULES_MAX_ENTRIES);
	if (rules_parse_zone(ld, tok, &zone) < 0)
		return -1;
	if (grow((void **)&o->zones, o->n_zones, sizeof(*o->zones)) < 0) {
		free(zone);
		return rules_err(ld, "out of memory");
	}
	o->zones[o->n_zones++] = zone;   /* owned by the owner; freed in owner_free */
	return 0;
}

static int approve_pin(struct loader *ld, const char *tok)
{
	struct rules_owner *o = ld->cur;
	char hex[65];

	if (rules_parse_pin(ld, tok, hex) < 0)
		return -1;
	if (o->n_pins >= RULES_MAX_ENTRIES)
		return rules_err(ld, "owner '%s' has more than %u pins", o->name, RULES_MAX_ENTRIES);
	if (grow((void **)&o->pins, o->n_pins, sizeof(*o->pins)) < 0)
		return rules_err(ld, "out of memory");
	memcpy(o->pins[o->n_pins++], hex, sizeof(hex));
	return 0;
}

/* The kinds of "protect", each with what adds one value. */
static const struct {
	const char *kind;
	int (*add)(struct loader *, const char *);
} PROTECT_KINDS[] = {
	{ "ip", protect_ip },
	{ "name", protect_name },
	{ "zone", protect_zone },
};

static int do_protect(struct loader *ld, char **save)
{
	const char *kind = strtok_r(NULL, SEPS, save);
	int (*add)(struct loader *, const char *) = NULL;
	const char *tok;
	size_t n = 0;

	for (size_t i = 0; kind != NULL && i < sizeof(PROTECT_KINDS) / sizeof(PROTECT_KINDS[0]); i++)
		if (strcmp(kind, PROTECT_KINDS[i].kind) == 0)
			add = PROTECT_KINDS[i].add;
	if (add == NULL)
		return rules_err(ld, "protect: expected 'ip', 'name' or 'zone'%s%s%s",
		              kind ? ", not '" : "", kind ? kind : "", kind ? "'" : "");
	while ((tok = strtok_r(NULL, SEPS, save)) != NULL) {
		if (add(ld, tok) < 0)
			return -1;
		n++;
	}
	if (n == 0)
		return rules_err(ld, "protect %s: nothing to protect", kind);
	return 0;
}

static int do_approve(struct loader *ld, char **save)
{
	const char *kind = strtok_r(NULL, SEPS, save);
	const char *arg, *extra;

	if (kind == NULL || (strcmp(kind, "ca") != 0 && strcmp(kind, "spki") != 0))
		return rules_err(ld, "approve: expected 'ca' or 'spki'%s%s%s",
		              kind ? ", not '" : "", kind ? kind : "", kind ? "'" : "");
	arg = strtok_r(NULL, SEPS, save);
	extra = arg ? strtok_r(NULL, SEPS, save) : NULL;
	if (arg == NULL)
		return rules_err(ld, "approve %s: argument expected", kind);
	if (extra != NULL)
		return rules_err(ld, "approve %s: one argument per line, unexpected '%s'", kind, extra);
	return kind[0] == 'c' ? load_ca(ld, arg) : approve_pin(ld, arg);
}

/* The section of the current owner ends: it must protect something and
 * approve something, or it would be an owner that can never alert (or
 * always alerts). */
static int finish_owner(struct loader *ld)
{
	struct rules_owner *o = ld->cur;

	ld->cur = NULL;
	if (o == NULL)
		return 0;
	ld->line = o->line;
	if (o->n_cidrs == 0 && o->n_names == 0 && o->n_zones == 0)
		return rules_err(ld, "owner '%s' has no protect directive", o->name);
	if (o->n_cas == 0 && o->n_pins == 0)
		return rules_err(ld, "owner '%s' has no approve directive", o->name);
	if (policy_owner_seal(o) < 0)
		return rules_err(ld, "out of memory");
	return 0;
}

static int owner_name_ok(const char *name)
{
	size_t n = strlen(name);

	return n <= RULES_MAX_OWNER_NAME &&
	       strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                    "0123456789._-") == n;
}

static int do_owner(struct loader *ld, char **save)
{
	const char *name = strtok_r(NULL, SEPS, save);
	const char *extra = name ? strtok_r(NULL, SEPS, save) : NULL;
	struct policy *p = ld->p;
	unsigned line = ld->line;
	struct rules_owner *o;

	if (name == NULL)
		return rules_err(ld, "owner: name expected");
	if (extra != NULL)
		return rules_err(ld, "owner: unexpected '%s' after the name", extra);
	if (!owner_name_ok(name))
		return rules_err(ld, "bad owner name '%s' (at most %u letters, digits, '.', '_', '-')",
		              name, RULES_MAX_OWNER_NAME);
	if (finish_owner(ld) < 0)
		return -1;
	ld->line = line;
	for (size_t i = 0; i < p->n_owners; i++)
		if (strcmp(p->owners[i].name, name) == 0)
			return rules_err(ld, "duplicate owner '%s' (first at %s:%u)", name,
			              p->owners[i].file, p->owners[i].line);
	if (p->n_owners >= RULES_MAX_OWNERS)
		return rules_err(ld, "more than %u owners", RULES_MAX_OWNERS);
	if (grow((void **)&p->owners, p->n_owners, sizeof(*p->owners)) < 0)
		return rules_err(ld, "out of memory");
	o = &p->owners[p->n_owners];
	memset(o, 0, sizeof(*o));
	o->name = strdup(name); /* both freed in policy_free */
	o->file = strdup(ld->file);
	o->line = line;
	p->n_owners++;
	if (o->name == NULL || o->file == NULL)
		return rules_err(ld, "out of memory");
	ld->cur = o;
	return 0;
}

static int parse_line(struct loader *ld, char *line)
{
	char *save = NULL, *hash = strchr(line, '#');
	const char *word;

	if (hash != NULL)
		*hash = '\0';
	word = strtok_r(line, SEPS, &save);
	if (word == NULL)
		return 0;
	if (strcmp(word, "owner") == 0)
		return do_owner(ld, &save);
	if (strcmp(word, "protect") != 0 && strcmp(word, "approve") != 0)
		return rules_err(ld, "unknown directive '%s'", word);
	if (ld->cur == NULL)
		return rules_err(ld, "'%s' before any owner directive", word);
	return word[0] == 'p' ? do_protect(ld, &save) : do_approve(ld, &save);
}

/* ---- files -------------------------------------------------------------- */

static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

/* Why a line (NUL-free, without its newline) is not text, or -1 when it
 * is: the column of the first control byte other than the white space
 * SEPS splits on, or of the first byte that is not UTF-8.  A rules file
 * is text; binary bytes mean a damaged file, and what follows them must
 * not be read as rules the owner believes in force. */
static long not_text(const char *line, size_t n)
{
	const unsigned char *s = (const unsigned char *)line;

	for (size_t i = 0; i < n;) {
		size_t k = utf8_len(s + i, n - i);

		if (k == 0 || (k == 1 && ((s[i] < 0x20 && !strchr(SEPS, s[i])) || s[i] == 0x7f)))
			return (long)i;
		i += k;
	}
	return -1;
}

/* The lines of a whole file in memory (buf[len] is a NUL of fileio's).  A
 * last line without a newline is a line like any other. */
static int read_lines(struct loader *ld, const char *buf, size_t len)
{
	char line[RULES_MAX_LINE + 1];
	size_t pos = 0;

	while (pos < len) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (buf + pos)) : len - pos;
		long col;

		ld->line++;
		if (cancelled(ld))
			return -1;
		if (n > RULES_MAX_LINE)
			return rules_err(ld, "line longer than %u bytes", RULES_MAX_LINE);
		if (memchr(buf + pos, 0, n) != NULL)
			return rules_err(ld, "NUL byte in line");
		col = not_text(buf + pos, n);
		if (col >= 0)
			return rules_err(ld, "not text: byte 0x%02x at column %ld (a damaged or binary "
			                 "file?)", (unsigned char)buf[pos + (size_t)col], col + 1);
		memcpy(line, buf + pos, n);
		line[n] = '\0';
		if (parse_line(ld, line) < 0)
			return -1;
		pos += n + (nl != NULL);
	}
	return finish_owner(ld);
}

/* One rules file: a regular file of at most RULES_MAX_FILE bytes, read
 * whole (fileio.h), so that a FIFO, a device or a file that never ends is
 * an error rather than a load that never returns. */
static int load_file(struct loader *ld, const char *path)
{
	char why[512];
	uint8_t *buf = NULL;   /* owned here; freed below */
	size_t len = 0;
	int ret;

	ld->file = path;
	ld->line = 0;
	ld->cur = NULL;
	if (fileio_read_all(path, RULES_MAX_FILE, &buf, &len, why, sizeof(why)) < 0)
		return rules_err(ld, "cannot open: %s", fileio_reason(path, why));
	free(ld->dir);
	ld->dir = dir_of(path); /* owned by the loader */
	if (ld->dir == NULL) {
		free(buf);
		return rules_err(ld, "out of memory");
	}
	ret = read_lines(ld, (const char *)buf, len);
	free(buf);
	return ret;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int is_rules_name(const char *name)
{
	size_t n = strlen(name);

	/* Hidden files are editor back-ups and lock files, not rules. */
	return name[0] != '.' && n > 6 && strcmp(name + n - 6, ".rules") == 0;
}

/* Collect the *.rules names of a directory, sorted (caller frees each and
 * the array). */
static int list_dir(struct loader *ld, const char *path, char ***out, size_t *n_out)
{
	DIR *d = opendir(path);
	const struct dirent *e;
	char **names = NULL;
	size_t n = 0;
	int ret = -1;

	if (d == NULL)
		return rules_err(ld, "cannot open directory: %s", strerror(errno));
	while ((e = readdir(d)) != NULL) {
		if (!is_rules_name(e->d_name))
			continue;
		if (n >= RULES_MAX_FILES) {
			rules_err(ld, "more than %u *.rules files", RULES_MAX_FILES);
			goto out;
		}
		if (grow((void **)&names, n, sizeof(*names)) < 0 ||
		    (names[n] = strdup(e->d_name)) == NULL) {
			rules_err(ld, "out of memory");
			goto out;
		}
		n++;
	}
	if (n == 0) {
		rules_err(ld, "no *.rules file in directory");
		goto out;
	}
	qsort(names, n, sizeof(*names), cmp_str);
	ret = 0;
out:
	closedir(d);
	if (ret < 0) {
		for (size_t i = 0; i < n; i++)
			free(names[i]);
		free(names);
		return -1;
	}
	*out = names;
	*n_out = n;
	return 0;
}

static int load_dir(struct loader *ld, const char *path)
{
	char **names = NULL, *file = NULL;
	size_t n = 0;
	int ret = 0;

	if (list_dir(ld, path, &names, &n) < 0)
		return -1;
	for (size_t i = 0; i < n && ret == 0; i++) {
		/* Owned here; the loader only borrows it for messages. */
		file = rules_join_path(path, names[i]);
		if (file == NULL) {
			ret = rules_err(ld, "out of memory");
			break;
		}
		ret = load_file(ld, file);
		/* The message already holds the name; keep none dangling. */
		ld->file = path;
		free(file);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return ret;
}

struct policy *policy_load_cancellable(const char *path, const atomic_int *cancel, char *err,
                                       size_t errlen)
{
	struct loader ld = { .file = path, .err = err, .errlen = errlen, .cancel = cancel };
	struct stat st;
	int ret;

	ld.p = calloc(1, sizeof(*ld.p)); /* returned to the caller: policy_free */
	if (ld.p == NULL) {
		rules_err(&ld, "out of memory");
		return NULL;
	}
	if (stat(path, &st) < 0)
		ret = rules_err(&ld, "cannot open: %s", strerror(errno));
	else if (S_ISDIR(st.st_mode))
		ret = load_dir(&ld, path);
	else
		ret = load_file(&ld, path);
	if (ret == 0 && ld.p->n_owners == 0) {
		ld.file = path;
		ld.line = 0;
		ret = rules_err(&ld, "no owner defined");
	}
	free(ld.dir);
	if (ret < 0) {
		policy_free(ld.p);
		return NULL;
	}
	return ld.p;
}

struct policy *policy_load(const char *path, char *err, size_t errlen)
{
	return policy_load_cancellable(path, NULL, err, errlen);
}

static void owner_free(struct rules_owner *o)
{
	policy_owner_release(o);
	for (size_t i = 0; i < o->n_names; i++)
		free(o->names[i]);
	for (size_t i = 0; i < o->n_zones; i++)
		free(o->zones[i]);
	for (size_t i = 0; i < o->n_cas; i++)
		x509_info_free(&o->cas[i]);
	free(o->names);
	free(o->zones);
	free(o->cas);
	free(o->cidrs);
	free(o->pins);
	free(o->name);
	free(o->file);
}

void policy_free(struct policy *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->n_owners; i++)
		owner_free(&p->owners[i]);
	free(p->owners);
	free(p);
}

size_t policy_owner_count(const struct policy *p)
{
	return p->n_owners;
}

static void summary_owner(const struct rules_owner *o, FILE *f)
{
	size_t hosts = 0;

	for (size_t i = 0; i < o->n_cidrs; i++)
		hosts += o->cidrs[i].prefix == (o->cidrs[i].family == AF_INET ? 32u : 128u);
	fprintf(f, "owner %s (%s:%u)\n", o->name, o->file, o->line);
	fprintf(f, "  protected IPs: %zu address%s, %zu network%s\n", hosts,
	        hosts == 1 ? "" : "es", o->n_cidrs - hosts, o->n_cidrs - hosts == 1 ? "" : "s");
	for (size_t i = 0; i < o->n_cidrs; i++)
		fprintf(f, "    %s\n", o->cidrs[i].text);
	fprintf(f, "  protected names: %zu\n", o->n_names);
	for (size_t i = 0; i < o->n_names; i++)
		fprintf(f, "    %s\n", o->names[i]);
	/* Only when there are any: the lines of owners without zones stay as
	 * they were. */
	if (o->n_zones)
		fprintf(f, "  protected zones: %zu (each: its apex and every name below it)\n",
		        o->n_zones);
	for (size_t i = 0; i < o->n_zones; i++)
		fprintf(f, "    %s\n", o->zones[i]);
	fprintf(f, "  approved CAs: %zu\n", o->n_cas);
	for (size_t i = 0; i < o->n_cas; i++)
		fprintf(f, "    %s (spki sha256:%s)\n", o->cas[i].subject, o->cas[i].spki_sha256);
	fprintf(f, "  SPKI pins: %zu\n", o->n_pins);
	for (size_t i = 0; i < o->n_pins; i++)
		fprintf(f, "    sha256:%s\n", o->pins[i]);
}

void policy_summary(const struct policy *p, FILE *f)
{
	fprintf(f, "%zu owner%s\n", p->n_owners, p->n_owners == 1 ? "" : "s");
	for (size_t i = 0; i < p->n_owners; i++)
		summary_owner(&p->owners[i], f);
}
