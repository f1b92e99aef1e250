/*
 * fp_file.c - the fingerprint baseline file (--baseline, --learn; the
 * contract is include/verdict/fingerprint.h): fp_save writes it, fp_load and
 * fp_parse_text read it.  The file is input like any other: each line is
 * read into a bounded buffer, split into key=value fields, every value
 * checked, and a bad line is "FILE:LINE: reason", never half-loaded.
 * Must not: match or learn handshakes (fingerprint.c does).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/fileio.h"
#include "verdict/fingerprint.h"
#include "fp_int.h"

/* ---- the file ---------------------------------------------------------------- */

static void list_str(const uint16_t *v, size_t n, int hex, char *out, size_t len)
{
	size_t o = 0;

	out[0] = '\0';
	for (size_t i = 0; i < n && o < len; i++)
		o += (size_t)snprintf(out + o, len - o, hex ? "%s%04x" : "%s%u", i ? "," : "",
		                      (unsigned)v[i]);
	if (n == 0)
		snprintf(out, len, "-");
}

static void endpoint_str(const struct fp_endpoint *e, char *out, size_t len)
{
	char ip[INET6_ADDRSTRLEN];

	inet_ntop(e->family == 4 ? AF_INET : AF_INET6, e->ip, ip, sizeof ip);
	snprintf(out, len, e->family == 4 ? "%s:%u" : "[%s]:%u", ip, e->port);
}

/* fileio_write_atomic's fill: the baseline as text. */
static int save_fill(FILE *f, void *ctx, char *err, size_t errlen)
{
	const struct fp_baseline *b = ctx;
	char ep[80], ciphers[64], groups[64], sa[64], opts[16];

	(void)err;
	(void)errlen;
	fprintf(f, "# TLS 1.3 server fingerprints of protected endpoints, learned by certsentry "
	        "--learn\n# (README \"Fingerprints\"): one shape a line.\n%s %d\n", FP_MAGIC,
	        FP_VERSION);
	for (size_t i = 0; i < b->n; i++) {
		const struct fp_endpoint *e = b->ep[i];

		endpoint_str(e, ep, sizeof ep);
		for (size_t k = 0; k < e->n; k++) {
			const struct fp_shape *s = &e->shape[k];

			list_str(s->ciphers, s->n_ciphers, 1, ciphers, sizeof ciphers);
			list_str(s->groups, s->n_groups, 0, groups, sizeof groups);
			fp_synack_opts(s->sa.opts, opts);
			if (s->sa.ttl)
				snprintf(sa, sizeof sa, "%u/%u/%d/%u/%s", s->sa.ttl, s->sa.mss,
				         s->sa.wscale == 0xff ? -1 : s->sa.wscale, s->sa.win, opts);
			else
				snprintf(sa, sizeof sa, "-");
			fprintf(f, "shape endpoint=%s sni=%s count=%llu hello=%s records=%u bytes=%.1f "
			        "sd=%.1f min=%llu max=%llu largest=%u-%u synack=%s ciphers=%s "
			        "groups=%s\n", ep, e->sni[0] ? e->sni : "-",
			        (unsigned long long)s->count, s->hello[0] ? s->hello : "-",
			        s->records, s->mean, fp_shape_sd(s), (unsigned long long)s->min,
			        (unsigned long long)s->max, s->lmin, s->lmax, sa, ciphers, groups);
		}
	}
	return 0;   /* a write error is caught on the stream by fileio */
}

int fp_save(const struct fp_baseline *b, const char *path, char *err, size_t errlen)
{
	/* Atomic and durable (tmp, fsync, rename, fsync of the directory): a
	 * baseline learned over days must not be lost to a power cut. */
	return fileio_write_atomic(path, 0644, save_fill, (void *)b, err, errlen);
}

/* A decimal number in [0, max], the whole string. */
static int num(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s[0] || s[0] == '-' || s[0] == '+')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return -1;
	*out = v;
	return 0;
}

static int real(const char *s, double *out)
{
	char *end;

	if (!s[0])
		return -1;
	errno = 0;
	*out = strtod(s, &end);
	return errno || *end || !isfinite(*out) || *out < 0 ? -1 : 0;
}

static int parse_endpoint(const char *s, int *family, uint8_t ip[16], uint16_t *port)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon;
	uint64_t p;
	size_t n;

	memset(ip, 0, 16);
	if (s[0] == '[') {
		colon = strstr(s, "]:");
		if (!colon)
			return -1;
		n = (size_t)(colon - s - 1);
		s++;
		colon++;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return -1;
		n = (size_t)(colon - s);
	}
	if (n == 0 || n >= sizeof host)
		return -1;
	memcpy(host, s, n);
	host[n] = '\0';
	if (inet_pton(AF_INET, host, ip) == 1)
		*family = 4;
	else if (inet_pton(AF_INET6, host, ip) == 1)
		*family = 6;
	else
		return -1;
	if (num(colon + 1, 65535, &p) < 0 || p == 0)
		return -1;
	*port = (uint16_t)p;
	return 0;
}

/* "1302,1301" (hex) or "29,23" (decimal), or "-". */
static int parse_list(const char *s, int hex, uint16_t *out, size_t *n)
{
	char copy[128], *tok, *save = NULL;

	*n = 0;
	if (strcmp(s, "-") == 0)
		return 0;
	if (strlen(s) >= sizeof copy)
		return -1;
	strcpy(copy, s);
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *end;
		unsigned long v;

		if (*n >= FP_MAX_CHOICES || !tok[0])
			return -1;
		errno = 0;
		v = strtoul(tok, &end, hex ? 16 : 10);
		if (errno || *end || v > 0xffff)
			return -1;
		out[(*n)++] = (uint16_t)v;
	}
	return 0;
}

/* "1097-1120": two numbers up to 2^20, the first not above the second. */
static int parse_range(const char *s, unsigned *lo, unsigned *hi)
{
	char copy[32], *dash;
	uint64_t a, b;

	if (strlen(s) >= sizeof copy)
		return -1;
	strcpy(copy, s);
	dash = strchr(copy, '-');
	if (!dash)
		return -1;
	*dash = '\0';
	if (num(copy, 1u << 20, &a) < 0 || num(dash + 1, 1u << 20, &b) < 0 || a > b)
		return -1;
	*lo = (unsigned)a;
	*hi = (unsigned)b;
	return 0;
}

static int opts_code(char c)
{
	const char *names = "?ENMWSTX", *p = strchr(names, c);

	return c && p && p != names ? (int)(p - names) : -1;
}

/* "64/1460/7/65160/M,S,T,N,W" or "-". */
static int parse_synack(const char *s, struct fp_synack *sa)
{
	char copy[96], *f[5], *save = NULL;
	uint64_t v[4];
	long ws;
	int k = 0;

	memset(sa, 0, sizeof *sa);
	if (strcmp(s, "-") == 0)
		return 0;
	if (strlen(s) >= sizeof copy)
		return -1;
	strcpy(copy, s);
	for (char *tok = strtok_r(copy, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
		if (k == 5)
			return -1;
		f[k++] = tok;
	}
	if (k != 5 || num(f[0], 255, &v[0]) < 0 || num(f[1], 65535, &v[1]) < 0 ||
	    num(f[3], 65535, &v[3]) < 0)
		return -1;
	if (strcmp(f[2], "-1") == 0)
		ws = 0xff;
	else if (num(f[2], 14, &v[2]) == 0)
		ws = (long)v[2];
	else
		return -1;
	if (v[0] != 32 && v[0] != 64 && v[0] != 128 && v[0] != 255)
		return -1;
	sa->ttl = (uint8_t)v[0];
	sa->mss = (uint16_t)v[1];
	sa->wscale = (uint8_t)ws;
	sa->win = (uint16_t)v[3];
	if (strcmp(f[4], "-") == 0)
		return 0;
	k = 0;
	for (const char *p = f[4]; *p; p++) {
		int c;

		if (*p == ',')
			continue;
		c = opts_code(*p);
		if (c < 0 || k == 8 || (p[1] && p[1] != ','))
			return -1;
		sa->opts |= (uint32_t)c << (4 * k++);
	}
	return 0;
}

/* The fields of one shape line.  Returns NULL, or why not. */
static const char *parse_shape(struct fp_baseline *b, char *line)
{
	static const char *const keys[] = { "endpoint", "sni", "count", "hello", "records", "bytes",
	                                    "sd", "min", "max", "synack", "ciphers", "groups",
	                                    "largest" };
	enum { N_KEYS = sizeof keys / sizeof keys[0] };
	const char *val[N_KEYS] = { NULL };
	char *tok, *save = NULL;
	struct fp_shape s;
	struct fp_endpoint *e;
	uint8_t ip[16];
	uint16_t port;
	uint64_t v;
	double sd;
	int family;

	tok = strtok_r(line, " \t", &save);   /* "shape" */
	for (tok = strtok_r(NULL, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		char *eq = strchr(tok, '=');
		size_t k;

		if (!eq)
			return "a field without '='";
		*eq = '\0';
		for (k = 0; k < N_KEYS && strcmp(keys[k], tok) != 0; k++)
			;
		if (k == N_KEYS)
			return "unknown field";
		if (val[k])
			return "a field given twice";
		val[k] = eq + 1;
	}
	for (size_t k = 0; k < N_KEYS; k++)
		if (!val[k])
			return "a field is missing (endpoint sni count hello records bytes sd min max "
			       "largest synack ciphers groups)";
	memset(&s, 0, sizeof s);
	if (parse_endpoint(val[0], &family, ip, &port) < 0)
		return "bad endpoint (ADDRESS:PORT or [IPv6]:PORT)";
	if (strlen(val[1]) >= SNI_MAX)
		return "sni too long";
	if (num(val[2], UINT64_MAX, &s.count) < 0 || s.count == 0)
		return "bad count";
	if (strlen(val[3]) >= HELLO_MAX)
		return "hello too long";
	snprintf(s.hello, sizeof s.hello, "%s", strcmp(val[3], "-") == 0 ? "" : val[3]);
	if (num(val[4], 1u << 20, &v) < 0)
		return "bad records";
	s.records = (unsigned)v;
	if (real(val[5], &s.mean) < 0 || real(val[6], &sd) < 0)
		return "bad bytes or sd";
	if (num(val[7], UINT64_MAX, &s.min) < 0 || num(val[8], UINT64_MAX, &s.max) < 0 ||
	    s.min > s.max || s.mean < (double)s.min || s.mean > (double)s.max)
		return "bad min or max (min <= bytes <= max)";
	s.m2 = sd * sd * (double)(s.count > 1 ? s.count - 1 : 0);
	if (parse_synack(val[9], &s.sa) < 0)
		return "bad synack (TTL/MSS/WSCALE/WINDOW/OPTIONS or -)";
	if (parse_list(val[10], 1, s.ciphers, &s.n_ciphers) < 0 ||
	    parse_list(val[11], 0, s.groups, &s.n_groups) < 0)
		return "bad ciphers or groups";
	if (parse_range(val[12], &s.lmin, &s.lmax) < 0)
		return "bad largest (MIN-MAX)";
	e = fp_ep_get(b, family, ip, port, strcmp(val[1], "-") == 0 ? "" : val[1]);
	if (!e)
		return "too many endpoints, or out of memory";
	if (e->n == FP_MAX_SHAPES)
		return "too many shapes for one endpoint";
	e->shape[e->n++] = s;
	return NULL;
}

/* One line of a baseline, without its newline (it may be changed).
 * Returns NULL, or why it is wrong. */
static const char *load_line(struct fp_baseline *b, char *line, int *have_magic)
{
	size_t n = strlen(line);
	char *p = line;
	uint64_t v;

	while (n > 0 && line[n - 1] == '\r')
		line[--n] = '\0';
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0' || *p == '#')
		return NULL;
	if (!*have_magic) {
		*have_magic = 1;
		if (strncmp(p, FP_MAGIC " ", strlen(FP_MAGIC) + 1) != 0)
			return "not a certsentry baseline (its first line is \"" FP_MAGIC " 1\")";
		if (num(p + strlen(FP_MAGIC) + 1, 1000, &v) < 0 || v != FP_VERSION)
			return "unsupported baseline version (this certsentry reads version 1)";
		return NULL;
	}
	if (strncmp(p, "shape ", 6) == 0 || strncmp(p, "shape\t", 6) == 0)
		return parse_shape(b, p);
	return "unknown line (expected \"shape ...\")";
}

int fp_parse_text(struct fp_baseline *b, const char *name, const char *text, size_t len,
                  char *err, size_t errlen)
{
	char line[FP_MAX_LINE + 1];
	unsigned lineno = 0;
	int have_magic = 0;
	size_t off = 0;

	while (off < len) {
		const char *nl = memchr(text + off, '\n', len - off), *why;
		size_t n = nl ? (size_t)(nl - (text + off)) : len - off;

		lineno++;
		if (n > FP_MAX_LINE) {
			snprintf(err, errlen, "%s:%u: line longer than %u bytes", name, lineno,
			         FP_MAX_LINE);
			return -1;
		}
		memcpy(line, text + off, n);
		line[n] = '\0';
		off += n + (nl != NULL);
		if (memchr(line, '\0', n) != NULL) {
			snprintf(err, errlen, "%s:%u: a NUL byte", name, lineno);
			return -1;
		}
		why = load_line(b, line, &have_magic);
		if (why) {
			snprintf(err, errlen, "%s:%u: %s", name, lineno, why);
			return -1;
		}
	}
	if (!have_magic) {
		snprintf(err, errlen, "%s: empty, not a certsentry baseline", name);
		return -1;
	}
	return 0;
}

int fp_load(struct fp_baseline *b, const char *path, char *err, size_t errlen)
{
	uint8_t *text = NULL;
	size_t len = 0;
	int rc;

	/* A regular file of at most FP_MAX_FILE bytes: a FIFO or a device
	 * given as the baseline gets an error instead of a hang. */
	if (fileio_read_all(path, FP_MAX_FILE, &text, &len, err, errlen) < 0)
		return -1;
	rc = fp_parse_text(b, path, (const char *)text, len, err, errlen);
	free(text);   /* owned here, from fileio_read_all */
	return rc;
}
