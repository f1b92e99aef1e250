/*
 * output.c - EVE JSON writer (see include/output.h).  The only file that
 * includes jansson.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <jansson.h>

#include "digest.h"
#include "output.h"
#include "stats.h"

struct output {
	const struct output_sink *sink;
	FILE *fp;              /* owned unless it is stdout */
	char *path;            /* owned copy, for reopen */
	int tls_chain;
};

/* ---- sinks ---------------------------------------------------------- */

static int file_open(struct output *o, const char *arg)
{
	o->fp = fopen(arg, "a");
	return o->fp ? 0 : -1;
}

static int file_write(struct output *o, const char *line, size_t len)
{
	if (fwrite(line, 1, len, o->fp) != len || fputc('\n', o->fp) == EOF ||
	    fflush(o->fp) != 0)
		return -1;
	return 0;
}

/* logrotate: the old file was renamed; start a new one at the path. */
static int file_reopen(struct output *o)
{
	FILE *fp = fopen(o->path, "a");

	if (!fp)
		return -1;
	fclose(o->fp);
	o->fp = fp;
	return 0;
}

static void file_close(struct output *o)
{
	if (o->fp)
		fclose(o->fp);
	o->fp = NULL;
}

static int stdout_open(struct output *o, const char *arg)
{
	(void)arg;
	o->fp = stdout;
	return 0;
}

static int stdout_reopen(struct output *o)
{
	(void)o;
	return 0;
}

static void stdout_close(struct output *o)
{
	fflush(o->fp);
	o->fp = NULL;
}

static const struct output_sink sink_file = {
	"file", file_open, file_write, file_reopen, file_close
};
static const struct output_sink sink_stdout = {
	"stdout", stdout_open, file_write, stdout_reopen, stdout_close
};

struct output *output_open(const struct output_opts *opts, char *err, size_t errlen)
{
	struct output *o = calloc(1, sizeof(*o));   /* owned by the caller */
	const char *path = opts->path;

	if (!o) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	o->tls_chain = opts->tls_chain;
	if (!path || strcmp(path, "-") == 0) {
		o->sink = &sink_stdout;
	} else {
		o->sink = &sink_file;
		o->path = strdup(path);
	}
	if ((o->sink == &sink_file && !o->path) || o->sink->open(o, path) < 0) {
		snprintf(err, errlen, "%s: cannot open output: %s", path ? path : "-",
		         strerror(errno));
		free(o->path);
		free(o);
		return NULL;
	}
	return o;
}

void output_close(struct output *o)
{
	if (!o)
		return;
	o->sink->close(o);
	free(o->path);
	free(o);
}

int output_reopen(struct output *o)
{
	return o->sink->reopen(o);
}

/* ---- field formatting ---------------------------------------------- */

static void fmt_ts(uint64_t ts_us, char out[96])
{
	time_t sec = (time_t)(ts_us / 1000000u);
	struct tm tm;

	gmtime_r(&sec, &tm);
	snprintf(out, 96, "%04d-%02d-%02dT%02d:%02d:%02d.%06u+0000",
	         tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
	         tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned)(ts_us % 1000000u));
}

static void fmt_ip(int family, const uint8_t *a, char out[INET6_ADDRSTRLEN])
{
	if (!inet_ntop(family == 4 ? AF_INET : AF_INET6, a, out, INET6_ADDRSTRLEN))
		snprintf(out, INET6_ADDRSTRLEN, "?");
}

static char *b64(const uint8_t *in, size_t len)
{
	static const char tbl[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t olen = 4 * ((len + 2) / 3), o = 0, i;
	char *out = malloc(olen + 1);   /* owned by the caller */

	if (!out)
		return NULL;
	for (i = 0; i + 3 <= len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];

		out[o++] = tbl[v >> 18];
		out[o++] = tbl[(v >> 12) & 63];
		out[o++] = tbl[(v >> 6) & 63];
		out[o++] = tbl[v & 63];
	}
	if (i < len) {
		uint32_t v = (uint32_t)in[i] << 16;

		if (i + 1 < len)
			v |= (uint32_t)in[i + 1] << 8;
		out[o++] = tbl[v >> 18];
		out[o++] = tbl[(v >> 12) & 63];
		out[o++] = i + 1 < len ? tbl[(v >> 6) & 63] : '=';
		out[o++] = '=';
	}
	out[o] = '\0';
	return out;
}

/* jansson rejects invalid UTF-8; certificate strings are attacker bytes.
 * Replace every byte that is not part of valid UTF-8 with '?'. */
static json_t *jstr(const char *s)
{
	json_t *j;
	char *copy;
	size_t n;

	if (!s)
		return json_null();
	j = json_string(s);
	if (j)
		return j;
	n = strlen(s);
	copy = malloc(n + 1);
	if (!copy)
		return json_null();
	for (size_t i = 0; i < n; i++)
		copy[i] = (unsigned char)s[i] < 0x80 ? s[i] : '?';
	copy[n] = '\0';
	j = json_string(copy);
	free(copy);
	return j ? j : json_null();
}

static void set_str(json_t *o, const char *k, const char *v)
{
	if (v && *v)
		json_object_set_new(o, k, jstr(v));
}

static json_t *str_array(char *const *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, jstr(v[i]));
	return a;
}

/* ---- objects -------------------------------------------------------- */

static json_t *chain_array(const struct tls_session *t)
{
	json_t *a = json_array();

	for (size_t i = 0; i < t->n_certs; i++) {
		char *s = b64(t->certs[i].data, t->certs[i].len);

		json_array_append_new(a, s ? json_string(s) : json_null());
		free(s);
	}
	return a;
}

static json_t *ja_obj(const char *hash, const char *str)
{
	json_t *o = json_object();

	json_object_set_new(o, "hash", json_string(hash));
	json_object_set_new(o, "string", jstr(str));
	return o;
}

static json_t *tls_obj(const struct hs_event *ev, int with_chain)
{
	const struct tls_session *t = ev->tls;
	const struct x509_info *leaf = ev->n_certs ? &ev->certs[0] : NULL;
	json_t *o = json_object();

	if (leaf && leaf->parsed) {
		json_t *san = json_array();

		set_str(o, "subject", leaf->subject);
		set_str(o, "issuerdn", leaf->issuer);
		set_str(o, "serial", leaf->serial);
		set_str(o, "fingerprint", leaf->sha1);
		set_str(o, "notbefore", leaf->notbefore);
		set_str(o, "notafter", leaf->notafter);
		for (size_t i = 0; i < leaf->n_san_dns; i++)
			json_array_append_new(san, jstr(leaf->san_dns[i]));
		for (size_t i = 0; i < leaf->n_san_ip; i++)
			json_array_append_new(san, jstr(leaf->san_ip_str[i]));
		if (json_array_size(san))
			json_object_set_new(o, "subjectaltname", san);
		else
			json_decref(san);
	}
	set_str(o, "sni", t->sni);
	json_object_set_new(o, "version",
	                    json_string(tls_version_name(t->sh_seen ? t->version : 0)));
	json_object_set_new(o, "session_resumed", json_boolean(t->resumed));
	if (t->ch_seen && t->ja3)
		json_object_set_new(o, "ja3", ja_obj(t->ja3_md5, t->ja3));
	if (t->sh_seen && t->ja3s)
		json_object_set_new(o, "ja3s", ja_obj(t->ja3s_md5, t->ja3s));
	if (t->n_alpn) {
		json_t *a = json_array();

		for (size_t i = 0; i < t->n_alpn; i++)
			json_array_append_new(a, jstr(t->alpn[i]));
		json_object_set_new(o, "client_alpns", a);
	}
	if (t->server_alpn[0]) {
		json_t *a = json_array();

		json_array_append_new(a, jstr(t->server_alpn));
		json_object_set_new(o, "server_alpns", a);
	}
	if (t->ch_seen) {
		json_t *ch = json_object();

		json_object_set_new(ch, "version", json_string(tls_version_name(t->ch_version)));
		json_object_set_new(o, "client_handshake", ch);
	}
	if (t->sh_seen) {
		json_t *sh = json_object();

		json_object_set_new(sh, "version",
		                    json_string(tls_version_name(t->sh_legacy_version)));
		json_object_set_new(sh, "cipher", json_integer(t->cipher));
		json_object_set_new(o, "server_handshake", sh);
	}
	if (with_chain && t->n_certs)
		json_object_set_new(o, "chain", chain_array(t));
	return o;
}

static json_t *cert_obj(const struct x509_info *x)
{
	json_t *o = json_object();
	json_t *ips = json_array();

	json_object_set_new(o, "sha256", json_string(x->sha256));
	json_object_set_new(o, "size", json_integer((json_int_t)x->der_len));
	if (!x->parsed) {
		json_object_set_new(o, "parse_error", jstr(x->error));
		json_decref(ips);
		return o;
	}
	set_str(o, "subject", x->subject);
	set_str(o, "issuer", x->issuer);
	set_str(o, "serial", x->serial);
	json_object_set_new(o, "sha1", json_string(x->sha1));
	json_object_set_new(o, "spki_sha256", json_string(x->spki_sha256));
	set_str(o, "notbefore", x->notbefore);
	set_str(o, "notafter", x->notafter);
	json_object_set_new(o, "san_dns", str_array(x->san_dns, x->n_san_dns));
	for (size_t i = 0; i < x->n_san_ip; i++)
		json_array_append_new(ips, jstr(x->san_ip_str[i]));
	json_object_set_new(o, "san_ip", ips);
	set_str(o, "key_type", x->key_type);
	json_object_set_new(o, "key_bits", json_integer(x->key_bits));
	set_str(o, "sig_alg", x->sig_alg);
	json_object_set_new(o, "is_ca", json_boolean(x->is_ca));
	json_object_set_new(o, "self_issued", json_boolean(x->self_issued));
	json_object_set_new(o, "weak", json_boolean(x->weak));
	return o;
}

static const char *hs_name(enum policy_hs hs)
{
	switch (hs) {
	case POLICY_HS_CHAIN:      return "certificate";
	case POLICY_HS_ENCRYPTED:  return "encrypted";
	case POLICY_HS_RESUMED:    return "resumed";
	case POLICY_HS_INCOMPLETE: return "incomplete";
	}
	return "unknown";
}

static json_t *matched_array(const struct policy_result *r)
{
	json_t *m = json_array();

	for (size_t i = 0; i < r->n_matched; i++)
		json_array_append_new(m, jstr(r->matched[i]));
	return m;
}

static json_t *result_obj(const struct policy_result *r)
{
	json_t *o = json_object();

	json_object_set_new(o, "owner", jstr(r->owner));
	json_object_set_new(o, "matched", matched_array(r));
	json_object_set_new(o, "verdict", json_string(verdict_name(r->verdict)));
	set_str(o, "anchor", r->anchor);
	json_object_set_new(o, "reason", jstr(r->reason));
	return o;
}

static json_t *certsentry_obj(const struct hs_event *ev)
{
	const struct tls_session *t = ev->tls;
	json_t *o = json_object();
	json_t *certs = json_array(), *owners = json_array(), *vers = json_array();

	json_object_set_new(o, "handshake", json_string(hs_name(ev->hs)));
	if (ev->hs == POLICY_HS_ENCRYPTED)
		json_object_set_new(o, "certificates_encrypted", json_true());
	set_str(o, "note", ev->hs_note);
	if (ev->stream_mismatch)
		json_object_set_new(o, "stream_mismatch", json_true());
	/* supported_versions (RFC 8446 §4.2.1) lists them; an older client
	 * offers everything up to its legacy_version. */
	for (size_t i = 0; i < t->n_ch_versions; i++)
		json_array_append_new(vers, json_string(tls_version_name(t->ch_versions[i])));
	if (t->n_ch_versions == 0 && t->ch_seen)
		json_array_append_new(vers, json_string(tls_version_name(t->ch_version)));
	json_object_set_new(o, "versions_offered", vers);
	if (t->certs_dropped)
		json_object_set_new(o, "certificates_dropped",
		                    json_integer((json_int_t)t->certs_dropped));
	for (size_t i = 0; i < ev->n_certs; i++)
		json_array_append_new(certs, cert_obj(&ev->certs[i]));
	json_object_set_new(o, "certificates", certs);
	for (size_t i = 0; i < ev->n_res; i++)
		json_array_append_new(owners, result_obj(&ev->res[i]));
	json_object_set_new(o, "owners", owners);
	return o;
}

static json_t *ndpi_obj(const struct classify_result *n)
{
	json_t *o = json_object(), *risks = json_object();

	json_object_set_new(o, "proto", jstr(n->proto));
	json_object_set_new(o, "proto_id", jstr(n->proto_id));
	json_object_set_new(o, "category", jstr(n->category));
	for (unsigned bit = 1; bit < 64; bit++) {
		const char *name = classify_risk_name(bit);
		char key[8];
		json_t *r;

		if (!(n->risk & (1ULL << bit)) || !name)
			continue;
		r = json_object();
		json_object_set_new(r, "risk", jstr(name));
		set_str(r, "severity", classify_risk_severity(bit));
		snprintf(key, sizeof(key), "%u", bit);
		json_object_set_new(risks, key, r);
	}
	json_object_set_new(o, "flow_risk", risks);
	return o;
}

/* Common top-level fields of every event. */
static json_t *base_obj(const struct hs_event *ev, const char *type)
{
	json_t *o = json_object();
	char ts[96], ip[INET6_ADDRSTRLEN];

	fmt_ts(ev->ts_us, ts);
	json_object_set_new(o, "timestamp", json_string(ts));
	json_object_set_new(o, "flow_id", json_integer((json_int_t)ev->flow_id));
	if (ev->capture_file)
		json_object_set_new(o, "pcap_filename", jstr(ev->capture_file));
	json_object_set_new(o, "event_type", json_string(type));
	if (ev->n_vlan > 0) {
		json_t *v = json_array();

		for (int i = 0; i < ev->n_vlan; i++)
			json_array_append_new(v, json_integer(ev->vlan[i]));
		json_object_set_new(o, "vlan", v);
	}
	fmt_ip(ev->family, ev->client_ip, ip);
	json_object_set_new(o, "src_ip", json_string(ip));
	json_object_set_new(o, "src_port", json_integer(ev->client_port));
	fmt_ip(ev->family, ev->server_ip, ip);
	json_object_set_new(o, "dest_ip", json_string(ip));
	json_object_set_new(o, "dest_port", json_integer(ev->server_port));
	json_object_set_new(o, "proto", json_string("TCP"));
	json_object_set_new(o, "app_proto", json_string("tls"));
	return o;
}

static const char *verdict_signature(enum verdict v)
{
	switch (v) {
	case VERDICT_SELF_SIGNED:
		return "CERTSENTRY self-signed certificate for a protected asset or endpoint";
	case VERDICT_FORGED_ISSUER:
		return "CERTSENTRY forged issuer: certificate names an approved CA that did not sign it";
	case VERDICT_UNAPPROVED_ISSUER:
		return "CERTSENTRY certificate for a protected asset issued by an unapproved CA";
	case VERDICT_UNVERIFIABLE_CHAIN:
		return "CERTSENTRY unverifiable certificate chain for a protected asset";
	case VERDICT_UNVERIFIED_HANDSHAKE:
		return "CERTSENTRY handshake at a protected endpoint could not be verified";
	case VERDICT_STREAM_MISMATCH:
		return "CERTSENTRY handshake bytes retransmitted with different content";
	default:
		return "CERTSENTRY certificate policy violation";
	}
}

int output_sid(enum verdict v)
{
	return OUTPUT_SID_BASE + (int)v;
}

static int verdict_severity(enum verdict v)
{
	switch (v) {
	case VERDICT_SELF_SIGNED:
	case VERDICT_FORGED_ISSUER:
	case VERDICT_UNAPPROVED_ISSUER:
	case VERDICT_STREAM_MISMATCH:
		return 1;
	case VERDICT_UNVERIFIABLE_CHAIN:
		return 2;
	default:
		return 3;
	}
}

static json_t *alert_obj(const struct policy_result *r)
{
	json_t *o = json_object();

	json_object_set_new(o, "action", json_string("allowed"));
	json_object_set_new(o, "gid", json_integer(1));
	json_object_set_new(o, "signature_id", json_integer(output_sid(r->verdict)));
	json_object_set_new(o, "rev", json_integer(1));
	json_object_set_new(o, "signature", json_string(verdict_signature(r->verdict)));
	json_object_set_new(o, "category", json_string("Misissued or intercepting TLS certificate"));
	json_object_set_new(o, "severity", json_integer(verdict_severity(r->verdict)));
	return o;
}

static int emit(struct output *o, json_t *ev)
{
	char *line = json_dumps(ev, JSON_COMPACT | JSON_PRESERVE_ORDER);
	int rc;

	json_decref(ev);
	if (!line) {
		g_stats.output_err++;
		return -1;
	}
	rc = o->sink->write(o, line, strlen(line));
	free(line);
	if (rc < 0) {
		g_stats.output_err++;
		return -1;
	}
	g_stats.events++;
	return 0;
}

int output_handshake(struct output *o, const struct hs_event *ev)
{
	json_t *e;
	int alerts = 0;

	e = base_obj(ev, "tls");
	json_object_set_new(e, "tls", tls_obj(ev, o->tls_chain));
	if (ev->ndpi && ev->ndpi->valid)
		json_object_set_new(e, "ndpi", ndpi_obj(ev->ndpi));
	json_object_set_new(e, "certsentry", certsentry_obj(ev));
	if (emit(o, e) < 0)
		return -1;
	for (size_t i = 0; i < ev->n_res; i++) {
		const struct policy_result *r = &ev->res[i];
		json_t *cs;

		if (!verdict_is_alert(r->verdict))
			continue;
		e = base_obj(ev, "alert");
		json_object_set_new(e, "alert", alert_obj(r));
		json_object_set_new(e, "tls", tls_obj(ev, 1));
		if (ev->ndpi && ev->ndpi->valid)
			json_object_set_new(e, "ndpi", ndpi_obj(ev->ndpi));
		cs = certsentry_obj(ev);
		json_object_set_new(cs, "owner", jstr(r->owner));
		json_object_set_new(cs, "matched", matched_array(r));
		json_object_set_new(cs, "verdict", json_string(verdict_name(r->verdict)));
		json_object_set_new(cs, "reason", jstr(r->reason));
		json_object_set_new(e, "certsentry", cs);
		if (emit(o, e) < 0)
			return -1;
		alerts++;
	}
	return alerts;
}
