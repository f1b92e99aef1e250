/*
 * output.c - EVE JSON events (see include/output.h): the tls event and the
 * alerts of one handshake, built with jsonw.c, the output stage's own JSON
 * writer (why: include/jsonw.h).  Where the lines go (sinks, queue) is
 * sink.c; this file must not know.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "jsonw.h"
#include "output.h"
#include "sink.h"
#include "stats.h"

/* ---- field formatting ---------------------------------------------- */

void output_format_ts(uint64_t ts_us, char out[OUTPUT_TS_LEN])
{
	time_t sec = (time_t)(ts_us / 1000000u);
	struct tm tm;

	gmtime_r(&sec, &tm);
	snprintf(out, OUTPUT_TS_LEN, "%04d-%02d-%02dT%02d:%02d:%02d.%06u+0000",
	         tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
	         tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned)(ts_us % 1000000u));
}

static void fmt_ip(int family, const uint8_t *a, char out[INET6_ADDRSTRLEN])
{
	if (!inet_ntop(family == 4 ? AF_INET : AF_INET6, a, out, INET6_ADDRSTRLEN))
		snprintf(out, INET6_ADDRSTRLEN, "?");
}

/* A string member only when there is something to say (as Suricata
 * leaves out empty fields). */
static void opt_str(struct jsonw *w, const char *k, const char *v)
{
	if (v && *v)
		jw_str(w, k, v);
}

static void str_array(struct jsonw *w, const char *k, char *const *v, size_t n)
{
	jw_arr(w, k);
	for (size_t i = 0; i < n; i++)
		jw_str(w, NULL, v[i]);
	jw_end(w);
}

/* ---- objects -------------------------------------------------------- */

static void chain_array(struct jsonw *w, const struct tls_session *t)
{
	jw_arr(w, "chain");
	for (size_t i = 0; i < t->n_certs; i++)
		jw_b64(w, NULL, t->certs[i].data, t->certs[i].len);
	jw_end(w);
}

static void ja_obj(struct jsonw *w, const char *k, const char *hash, const char *str)
{
	jw_obj(w, k);
	jw_str(w, "hash", hash);
	jw_str(w, "string", str);
	jw_end(w);
}

static void tls_obj(struct jsonw *w, const struct hs_event *ev, int with_chain)
{
	const struct tls_session *t = ev->tls;
	const struct x509_info *leaf = ev->n_certs ? &ev->certs[0] : NULL;

	jw_obj(w, "tls");
	if (leaf && leaf->parsed) {
		opt_str(w, "subject", leaf->subject);
		opt_str(w, "issuerdn", leaf->issuer);
		opt_str(w, "serial", leaf->serial);
		opt_str(w, "fingerprint", leaf->sha1);
		opt_str(w, "notbefore", leaf->notbefore);
		opt_str(w, "notafter", leaf->notafter);
		if (leaf->n_san_dns + leaf->n_san_ip) {
			jw_arr(w, "subjectaltname");
			for (size_t i = 0; i < leaf->n_san_dns; i++)
				jw_str(w, NULL, leaf->san_dns[i]);
			for (size_t i = 0; i < leaf->n_san_ip; i++)
				jw_str(w, NULL, leaf->san_ip_str[i]);
			jw_end(w);
		}
	}
	opt_str(w, "sni", t->sni);
	jw_str(w, "version", tls_version_name(t->sh_seen ? t->version : 0));
	jw_bool(w, "session_resumed", t->resumed);
	if (t->ch_seen && t->ja3)
		ja_obj(w, "ja3", t->ja3_md5, t->ja3);
	if (t->sh_seen && t->ja3s)
		ja_obj(w, "ja3s", t->ja3s_md5, t->ja3s);
	if (t->n_alpn) {
		jw_arr(w, "client_alpns");
		for (size_t i = 0; i < t->n_alpn; i++)
			jw_str(w, NULL, t->alpn[i]);
		jw_end(w);
	}
	if (t->server_alpn[0]) {
		jw_arr(w, "server_alpns");
		jw_str(w, NULL, t->server_alpn);
		jw_end(w);
	}
	if (t->ch_seen) {
		jw_obj(w, "client_handshake");
		jw_str(w, "version", tls_version_name(t->ch_version));
		jw_end(w);
	}
	if (t->sh_seen) {
		jw_obj(w, "server_handshake");
		jw_str(w, "version", tls_version_name(t->sh_legacy_version));
		jw_int(w, "cipher", t->cipher);
		jw_end(w);
	}
	if (with_chain && t->n_certs)
		chain_array(w, t);
	jw_end(w);
}

static void cert_obj(struct jsonw *w, const struct x509_info *x)
{
	jw_obj(w, NULL);
	jw_str(w, "sha256", x->sha256);
	jw_int(w, "size", (int64_t)x->der_len);
	if (!x->parsed) {
		jw_str(w, "parse_error", x->error);
		jw_end(w);
		return;
	}
	opt_str(w, "subject", x->subject);
	opt_str(w, "issuer", x->issuer);
	opt_str(w, "serial", x->serial);
	jw_str(w, "sha1", x->sha1);
	jw_str(w, "spki_sha256", x->spki_sha256);
	opt_str(w, "notbefore", x->notbefore);
	opt_str(w, "notafter", x->notafter);
	str_array(w, "san_dns", x->san_dns, x->n_san_dns);
	str_array(w, "san_ip", x->san_ip_str, x->n_san_ip);
	opt_str(w, "key_type", x->key_type);
	jw_int(w, "key_bits", x->key_bits);
	opt_str(w, "sig_alg", x->sig_alg);
	jw_bool(w, "is_ca", x->is_ca);
	jw_bool(w, "self_issued", x->self_issued);
	jw_bool(w, "weak", x->weak);
	jw_end(w);
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

static void matched_array(struct jsonw *w, const struct policy_result *r)
{
	jw_arr(w, "matched");
	for (size_t i = 0; i < r->n_matched; i++)
		jw_str(w, NULL, r->matched[i]);
	jw_end(w);
}

static void result_obj(struct jsonw *w, const struct policy_result *r)
{
	jw_obj(w, NULL);
	jw_str(w, "owner", r->owner);
	matched_array(w, r);
	jw_str(w, "verdict", verdict_name(r->verdict));
	opt_str(w, "anchor", r->anchor);
	jw_str(w, "reason", r->reason);
	jw_end(w);
}

/* The "certsentry" object; left open for the alert's own members. */
static void certsentry_open(struct jsonw *w, const struct hs_event *ev)
{
	const struct tls_session *t = ev->tls;

	jw_obj(w, "certsentry");
	jw_str(w, "handshake", hs_name(ev->hs));
	if (ev->hs == POLICY_HS_ENCRYPTED)
		jw_bool(w, "certificates_encrypted", 1);
	opt_str(w, "note", ev->hs_note);
	if (t->t13_outcome != T13_NONE) {
		/* How the TLS 1.3 certificates were, or were not, read. */
		jw_obj(w, "tls13");
		jw_str(w, "certificates", tls13_outcome_name(t->t13_outcome));
		jw_int(w, "records_decrypted", t->t13_records);
		if (t->hrr)
			jw_bool(w, "hello_retry_request", 1);
		if (t->flight_records) {
			jw_obj(w, "flight");
			jw_int(w, "records", t->flight_records);
			jw_int(w, "bytes", (int64_t)t->flight_bytes);
			jw_end(w);
		}
		if (ev->fp)
			jw_str(w, "fingerprint", ev->fp->outcome == FP_MATCH ? "matched" :
			       ev->fp->outcome == FP_CHANGED ? "changed" : "no-baseline");
		jw_end(w);
	}
	if (ev->stream_mismatch)
		jw_bool(w, "stream_mismatch", 1);
	/* Acknowledged by the receiver, but with a bad TCP checksum here: the
	 * chain is what the client got, read from damaged copies. */
	if (ev->bad_checksum_bytes)
		jw_int(w, "bad_checksum_bytes", (int64_t)ev->bad_checksum_bytes);
	/* supported_versions (RFC 8446 §4.2.1) lists them; an older client
	 * offers everything up to its legacy_version. */
	jw_arr(w, "versions_offered");
	for (size_t i = 0; i < t->n_ch_versions; i++)
		jw_str(w, NULL, tls_version_name(t->ch_versions[i]));
	if (t->n_ch_versions == 0 && t->ch_seen)
		jw_str(w, NULL, tls_version_name(t->ch_version));
	jw_end(w);
	if (t->certs_dropped)
		jw_int(w, "certificates_dropped", (int64_t)t->certs_dropped);
	jw_arr(w, "certificates");
	for (size_t i = 0; i < ev->n_certs; i++)
		cert_obj(w, &ev->certs[i]);
	jw_end(w);
	jw_arr(w, "owners");
	for (size_t i = 0; i < ev->n_res; i++)
		result_obj(w, &ev->res[i]);
	jw_end(w);
}

static void ndpi_obj(struct jsonw *w, const struct classify_result *n)
{
	jw_obj(w, "ndpi");
	jw_str(w, "proto", n->proto);
	jw_str(w, "proto_id", n->proto_id);
	jw_str(w, "category", n->category);
	jw_obj(w, "flow_risk");
	for (unsigned bit = 1; bit < 64; bit++) {
		const char *name = classify_risk_name(bit);
		char key[8];

		if (!(n->risk & (1ULL << bit)) || !name)
			continue;
		snprintf(key, sizeof(key), "%u", bit);
		jw_obj(w, key);
		jw_str(w, "risk", name);
		opt_str(w, "severity", classify_risk_severity(bit));
		jw_end(w);
	}
	jw_end(w);
	jw_end(w);
}

/* Opens the event and writes the common top-level fields of every event. */
static void base_open(struct jsonw *w, const struct hs_event *ev, const char *type)
{
	char ts[OUTPUT_TS_LEN], ip[INET6_ADDRSTRLEN];

	jw_obj(w, NULL);
	output_format_ts(ev->ts_us, ts);
	jw_str(w, "timestamp", ts);
	jw_int(w, "flow_id", (int64_t)ev->flow_id);
	if (ev->capture_file)
		jw_str(w, "pcap_filename", ev->capture_file);
	jw_str(w, "event_type", type);
	if (ev->n_vlan > 0) {
		jw_arr(w, "vlan");
		for (int i = 0; i < ev->n_vlan; i++)
			jw_int(w, NULL, ev->vlan[i]);
		jw_end(w);
	}
	fmt_ip(ev->family, ev->client_ip, ip);
	jw_str(w, "src_ip", ip);
	jw_int(w, "src_port", ev->client_port);
	fmt_ip(ev->family, ev->server_ip, ip);
	jw_str(w, "dest_ip", ip);
	jw_int(w, "dest_port", ev->server_port);
	jw_str(w, "proto", "TCP");
	jw_str(w, "app_proto", "tls");
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
	case VERDICT_FINGERPRINT_CHANGED:
		return "CERTSENTRY TLS 1.3 server fingerprint departs from its baseline";
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
	case VERDICT_FINGERPRINT_CHANGED:   /* evidence, below a verified verdict */
		return 2;
	default:
		return 3;
	}
}

static void alert_obj(struct jsonw *w, const struct policy_result *r)
{
	jw_obj(w, "alert");
	jw_str(w, "action", "allowed");
	jw_int(w, "gid", 1);
	jw_int(w, "signature_id", output_sid(r->verdict));
	jw_int(w, "rev", 1);
	jw_str(w, "signature", verdict_signature(r->verdict));
	jw_str(w, "category", "Misissued or intercepting TLS certificate");
	jw_int(w, "severity", verdict_severity(r->verdict));
	jw_end(w);
}

/* 0 written or queued, 1 dropped or on stderr (counted), -1 error. */
static int emit(struct output *o, const struct jsonw *w, int is_alert)
{
	size_t len;
	const char *line = jw_text(w, &len);

	if (!line) {
		g_stats.output_err++;
		return -1;
	}
	return output_write_line(o, line, len, is_alert);
}

int output_handshake(struct output *o, const struct hs_event *ev)
{
	/* About 8 KB on the stack: most lines are built without an allocation. */
	struct jsonw w;
	int alerts = 0, failed = 0;

	jw_init(&w);
	base_open(&w, ev, "tls");
	tls_obj(&w, ev, o->tls_chain);
	if (ev->ndpi && ev->ndpi->valid)
		ndpi_obj(&w, ev->ndpi);
	certsentry_open(&w, ev);
	jw_end(&w);                     /* certsentry */
	jw_end(&w);                     /* the event */
	if (emit(o, &w, 0) < 0)
		failed = 1;
	for (size_t i = 0; i < ev->n_res; i++) {
		const struct policy_result *r = &ev->res[i];

		if (!verdict_is_alert(r->verdict))
			continue;
		jw_reset(&w);
		base_open(&w, ev, "alert");
		alert_obj(&w, r);
		tls_obj(&w, ev, 1);
		if (ev->ndpi && ev->ndpi->valid)
			ndpi_obj(&w, ev->ndpi);
		certsentry_open(&w, ev);
		jw_str(&w, "owner", r->owner);
		matched_array(&w, r);
		jw_str(&w, "verdict", verdict_name(r->verdict));
		jw_str(&w, "reason", r->reason);
		jw_end(&w);
		jw_end(&w);
		if (emit(o, &w, 1) < 0)
			failed = 1;
		else
			alerts++;
	}
	jw_free(&w);
	return failed ? -1 : alerts;
}
