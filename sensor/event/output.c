/*
 * output.c - EVE JSON events (see include/event/output.h): the tls event and the
 * alerts of one handshake, built with jsonw.c, the output stage's own JSON
 * writer (why: include/core/jsonw.h).  Where the lines go (sinks, queue) is
 * sink.c; this file must not know.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "analyser/classify.h"
#include "analyser/tls.h"
#include "core/jsonw.h"
#include "core/stats.h"
#include "event/community_id.h"
#include "event/dedup.h"
#include "event/evidence.h"
#include "event/output.h"
#include "sink/sink.h"
#include "verdict/fingerprint.h"
#include "verdict/judge.h"
#include "x509/x509.h"

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

/* The DER as sent, from the chain view: a file's chain has no session. */
static void chain_array(struct jsonw *w, const struct chain_view *c)
{
	jw_arr(w, "chain");
	for (size_t i = 0; i < c->n; i++)
		jw_b64(w, NULL, c->der[i].data, c->der[i].len);
	jw_end(w);
}

static void ja_obj(struct jsonw *w, const char *k, const char *hash, const char *str)
{
	jw_obj(w, k);
	jw_str(w, "hash", hash);
	jw_str(w, "string", str);
	jw_end(w);
}

/* The hellos' JA3 and JA3S, as the tls and quic objects both carry them. */
static void ja3_objs(struct jsonw *w, const struct tls_session *t)
{
	if (t->ch_seen && t->ja3)
		ja_obj(w, "ja3", t->ja3_md5, t->ja3);
	if (t->sh_seen && t->ja3s)
		ja_obj(w, "ja3s", t->ja3s_md5, t->ja3s);
}

static void tls_obj(struct jsonw *w, const struct hs_event *ev, int with_chain)
{
	const struct chain_view *c = ev->chain;
	const struct x509_info *leaf = c->n ? &c->certs[0] : NULL;
	const struct tls_session *t;

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
	if (!ev->tls) {
		/* no handshake: the leaf and the chain only */
		if (with_chain && c->n)
			chain_array(w, c);
		jw_end(w);
		return;
	}
	t = ev->tls->session;
	opt_str(w, "sni", t->sni);
	jw_str(w, "version", tls_version_name(t->sh_seen ? t->version : 0));
	jw_bool(w, "session_resumed", t->resumed);
	ja3_objs(w, t);
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
	if (with_chain && c->n)
		chain_array(w, c);
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

/* The chain, in every certsentry object, and every owner's verdict in a
 * tls event's.  An alert names its one owner, verdict and reason at the
 * top of its certsentry object, where SIEM rules key on them, and only
 * there (with_owners 0): the other owners' verdicts are the tls event's. */
static void chain_members(struct jsonw *w, const struct hs_event *ev, int brief,
                          int with_owners)
{
	const struct chain_view *c = ev->chain;

	opt_str(w, "chain_sha256", c->sha256);
	if (brief) {
		/* --cert-log once: written in full earlier in this window */
		jw_int(w, "certificates_logged_before", (int64_t)c->n);
	} else {
		jw_arr(w, "certificates");
		for (size_t i = 0; i < c->n; i++)
			cert_obj(w, &c->certs[i]);
		jw_end(w);
	}
	if (!with_owners)
		return;
	jw_arr(w, "owners");
	for (size_t i = 0; i < ev->verdicts->n_res; i++)
		result_obj(w, &ev->verdicts->res[i]);
	jw_end(w);
}

/* The "certsentry" object; left open for the alert's own members.
 * with_owners: write owners[] (tls events; see chain_members). */
static void certsentry_open(struct jsonw *w, const struct hs_event *ev, int brief,
                            int with_owners)
{
	const struct ev_origin *org = ev->origin;
	const struct ev_tls *tl = ev->tls;
	const struct tls_session *t;

	jw_obj(w, "certsentry");
	if (!tl) {
		if (org)
			jw_str(w, "source", org->source);
		if (org && org->ct) {
			char ts[OUTPUT_TS_LEN];

			jw_obj(w, "ct");
			opt_str(w, "log", org->ct_log);
			opt_str(w, "log_url", org->ct_log_url);
			jw_int(w, "index", (int64_t)org->ct_index);
			output_format_ts(org->ct_timestamp_ms * 1000u, ts);
			jw_str(w, "timestamp", ts);
			jw_str(w, "entry_type", org->ct_precert ? "precert_entry" : "x509_entry");
			jw_end(w);
		}
		chain_members(w, ev, brief, with_owners);
		return;
	}
	t = tl->session;
	jw_str(w, "handshake", hs_name(tl->hs));
	if (ev->quic) {
		/* What the QUIC packet layer opened of this handshake. */
		jw_obj(w, "quic");
		jw_int(w, "packets_opened", (int64_t)ev->quic->opened);
		jw_int(w, "authentication_failures", (int64_t)ev->quic->auth_failed);
		jw_end(w);
	}
	if (tl->hs == POLICY_HS_ENCRYPTED)
		jw_bool(w, "certificates_encrypted", 1);
	opt_str(w, "note", tl->hs_note);
	if (t->t13_outcome != T13_NONE) {
		/* How the TLS 1.3 certificates were, or were not, read. */
		jw_obj(w, "tls13");
		jw_str(w, "certificates", tls13_outcome_name(t->t13_outcome));
		jw_int(w, "records_decrypted", t->t13_records);
		/* RFC 8879: the Certificate came compressed, with this algorithm */
		if (t->certcomp_alg)
			jw_str(w, "compressed_certificate", tls_certcomp_name(t->certcomp_alg));
		if (t->hrr)
			jw_bool(w, "hello_retry_request", 1);
		if (t->flight_records) {
			jw_obj(w, "flight");
			jw_int(w, "records", t->flight_records);
			jw_int(w, "bytes", (int64_t)t->flight_bytes);
			jw_end(w);
		}
		if (tl->fp)
			jw_str(w, "fingerprint", tl->fp->outcome == FP_MATCH ? "matched" :
			       tl->fp->outcome == FP_CHANGED ? "changed" : "no-baseline");
		jw_end(w);
	}
	if (tl->stream_mismatch)
		jw_bool(w, "stream_mismatch", 1);
	/* Acknowledged by the receiver, but with a bad TCP checksum here: the
	 * chain is what the client got, read from damaged copies. */
	if (tl->bad_checksum_bytes)
		jw_int(w, "bad_checksum_bytes", (int64_t)tl->bad_checksum_bytes);
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
	chain_members(w, ev, brief, with_owners);
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

/* Community ID v1 of the event's flow (community_id.h), on by default
 * (see docs/outputs.md for why), written after the 5-tuple as Suricata
 * writes it. */
static void community_id_member(struct jsonw *w, const struct output *o, int family,
                                uint8_t proto, const uint8_t *cip, uint16_t cport,
                                const uint8_t *sip, uint16_t sport)
{
	struct community_id_flow f = { family, proto, { cip, sip }, { cport, sport } };
	char id[COMMUNITY_ID_LEN];

	if (community_id_v1(&f, output_community_id_seed(o), id) == 0)
		jw_str(w, "community_id", id);
}

/* Closes the event with the sensor's name: Suricata adds "host" last, to
 * every event it writes (output-json.c), and so does every writer here. */
static void event_close(struct jsonw *w, const struct output *o)
{
	const char *host = output_host(o);

	if (host)
		jw_str(w, "host", host);
	jw_end(w);
}

/* Opens the event and writes the common top-level fields of every event,
 * in Suricata's order (CreateEveHeader): timestamp, flow_id, in_iface,
 * event_type, vlan, the 5-tuple, community_id; pcap_filename stays where
 * certsentry always wrote it.  event_close ends it. */
static void base_open(struct jsonw *w, const struct output *o, const struct hs_event *ev,
                      const char *type)
{
	const struct ev_endpoint *ep = ev->endpoint;
	char ts[OUTPUT_TS_LEN], ip[INET6_ADDRSTRLEN];

	jw_obj(w, NULL);
	output_format_ts(ev->ts_us, ts);
	jw_str(w, "timestamp", ts);
	if (!ep) {
		jw_str(w, "event_type", type);   /* no flow: no network fields */
		return;
	}
	jw_int(w, "flow_id", (int64_t)ep->flow_id);
	opt_str(w, "in_iface", ep->in_iface);
	if (ep->capture_file)
		jw_str(w, "pcap_filename", ep->capture_file);
	jw_str(w, "event_type", type);
	if (ep->n_vlan > 0) {
		jw_arr(w, "vlan");
		for (int i = 0; i < ep->n_vlan; i++)
			jw_int(w, NULL, ep->vlan[i]);
		jw_end(w);
	}
	fmt_ip(ep->family, ep->client_ip, ip);
	jw_str(w, "src_ip", ip);
	jw_int(w, "src_port", ep->client_port);
	fmt_ip(ep->family, ep->server_ip, ip);
	jw_str(w, "dest_ip", ip);
	jw_int(w, "dest_port", ep->server_port);
	jw_str(w, "proto", ev->quic ? "UDP" : "TCP");
	community_id_member(w, o, ep->family, ev->quic ? IPPROTO_UDP : IPPROTO_TCP,
	                    ep->client_ip, ep->client_port, ep->server_ip, ep->server_port);
	jw_str(w, "app_proto", ev->quic ? "quic" : "tls");
}

/* Suricata's quic object: the version as it writes it (hex, "1" for v1),
 * the SNI, JA3 and JA3S of the TLS handshake QUIC carried. */
static void quic_obj(struct jsonw *w, const struct hs_event *ev)
{
	const struct tls_session *t = ev->tls ? ev->tls->session : NULL;
	char ver[16];

	jw_obj(w, "quic");
	snprintf(ver, sizeof(ver), "%x", (unsigned)ev->quic->version);
	jw_str(w, "version", ver);
	if (t) {
		opt_str(w, "sni", t->sni);
		ja3_objs(w, t);
	}
	jw_end(w);
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

/* ET's signature_severity words for verdict_severity's numbers. */
static const char *severity_word(int sev)
{
	return sev == VERDICT_SEV_CRITICAL ? "Critical" : sev == VERDICT_SEV_MAJOR ? "Major" :
	       "Minor";
}

static void alert_obj(struct jsonw *w, enum verdict v, int sev)
{
	jw_obj(w, "alert");
	jw_str(w, "action", "allowed");
	jw_int(w, "gid", 1);
	jw_int(w, "signature_id", output_sid(v));
	jw_int(w, "rev", 1);
	jw_str(w, "signature", verdict_signature(v));
	jw_str(w, "category", "Misissued or intercepting TLS certificate");
	jw_int(w, "severity", sev);
	jw_obj(w, "metadata");
	jw_arr(w, "signature_severity");
	jw_str(w, NULL, severity_word(sev));
	jw_end(w);
	jw_end(w);
	jw_end(w);
}

/* Who else would trust the chain: the grade, and each store reached. */
static void trust_members(struct jsonw *w, const struct trust_memo *t)
{
	if (!t || t->cls == TRUST_UNKNOWN)
		return;
	jw_str(w, "trust", trust_class_name((enum trust_class)t->cls));
	jw_arr(w, "trusted_by");
	for (size_t i = 0; i < t->n_hits; i++) {
		jw_obj(w, NULL);
		jw_str(w, "store", t->hits[i].store);
		jw_str(w, "root_subject", t->hits[i].root_subject);
		jw_str(w, "root_sha256", t->hits[i].root_sha256);
		jw_end(w);
	}
	jw_end(w);
}

/* 0 written or queued, 1 dropped or on stderr (counted), -1 error. */
static int emit(struct output *o, const struct jsonw *w, int is_alert)
{
	size_t len;
	const char *line = jw_text(w, &len);

	if (!line) {
		g_stats.output_err++;
		output_count_lost(o, is_alert, OUTPUT_LOSS_NO_MEMORY);
		return -1;
	}
	return output_write_line(o, line, len, is_alert);
}

/* ---- CT logs that misbehave ------------------------------------------- */

static const struct {
	const char *name, *signature;
	int severity;
} ct_problems[EV_CT_PROBLEM_COUNT] = {
	[EV_CT_BAD_SIGNATURE] = { "bad-signature",
		"CERTSENTRY CT log head not signed by the log's key", VERDICT_SEV_MAJOR },
	[EV_CT_INCONSISTENT] = { "inconsistent-heads",
		"CERTSENTRY CT log forked: two signed heads that no consistency proof joins",
		VERDICT_SEV_CRITICAL },
	[EV_CT_NOT_IN_TREE] = { "entry-not-in-tree",
		"CERTSENTRY CT log served entries that are not in its signed tree",
		VERDICT_SEV_CRITICAL },
	[EV_CT_SHRANK] = { "tree-shrank",
		"CERTSENTRY CT log signed a smaller tree than before", VERDICT_SEV_CRITICAL },
};

const char *output_ct_problem_name(enum ev_ct_problem p)
{
	return p < EV_CT_PROBLEM_COUNT ? ct_problems[p].name : "unknown";
}

static void b64_member(struct jsonw *w, const char *key, const uint8_t *p, size_t n)
{
	char buf[2048];

	if (n > 1500)   /* a DigitallySigned is under 1 KB */
		n = 1500;
	EVP_EncodeBlock((unsigned char *)buf, p, (int)n);
	jw_str(w, key, buf);
}

static void ct_head_obj(struct jsonw *w, const struct ev_ct_head *h)
{
	jw_obj(w, NULL);
	/* get-sth's own names (RFC 6962 section 4.3): a third party checks
	 * the signature with the log's key as it would a get-sth answer */
	jw_int(w, "tree_size", (int64_t)h->size);
	jw_int(w, "timestamp", (int64_t)h->timestamp_ms);
	b64_member(w, "sha256_root_hash", h->root, 32);
	if (h->sig_len)
		b64_member(w, "tree_head_signature", h->sig, h->sig_len);
	jw_end(w);
}

int output_ct_log_alert(struct output *o, const struct ev_ct_log_alert *a)
{
	struct jsonw w;
	char ts[OUTPUT_TS_LEN];
	int sev = ct_problems[a->problem].severity, rc;

	jw_init(&w);
	jw_obj(&w, NULL);
	output_format_ts(a->ts_us, ts);
	jw_str(&w, "timestamp", ts);
	jw_str(&w, "event_type", "alert");
	jw_obj(&w, "alert");
	jw_str(&w, "action", "allowed");
	jw_int(&w, "gid", 1);
	jw_int(&w, "signature_id", OUTPUT_SID_CT_LOG + (int)a->problem);
	jw_int(&w, "rev", 1);
	jw_str(&w, "signature", ct_problems[a->problem].signature);
	jw_str(&w, "category", "Certificate Transparency log misbehaviour");
	jw_int(&w, "severity", sev);
	jw_obj(&w, "metadata");
	jw_arr(&w, "signature_severity");
	jw_str(&w, NULL, severity_word(sev));
	jw_end(&w);
	jw_end(&w);
	jw_end(&w);
	jw_obj(&w, "certsentry");
	jw_obj(&w, "ct_log");
	jw_str(&w, "name", a->name);
	jw_str(&w, "url", a->url);
	opt_str(&w, "operator", a->operator_name);
	b64_member(&w, "log_id", a->log_id, 32);
	jw_str(&w, "api", a->api);
	jw_str(&w, "problem", ct_problems[a->problem].name);
	jw_str(&w, "detail", a->detail);
	jw_arr(&w, "heads");
	for (size_t i = 0; i < a->n_heads; i++)
		ct_head_obj(&w, &a->heads[i]);
	jw_end(&w);
	opt_str(&w, "checkpoint", a->checkpoint);
	if (a->proof) {
		jw_arr(&w, "proof");
		for (size_t i = 0; i < a->n_proof; i++)
			b64_member(&w, NULL, a->proof[i], 32);
		jw_end(&w);
	}
	if (a->has_range) {
		jw_obj(&w, "entries");
		jw_int(&w, "start", (int64_t)a->range_lo);
		jw_int(&w, "end", (int64_t)a->range_hi);
		jw_end(&w);
	}
	if (a->computed_root) {
		jw_obj(&w, "computed");
		jw_int(&w, "tree_size", (int64_t)a->computed_size);
		b64_member(&w, "sha256_root_hash", a->computed_root, 32);
		jw_end(&w);
	}
	jw_end(&w);
	jw_end(&w);
	event_close(&w, o);
	rc = emit(o, &w, 1) < 0 ? -1 : 0;
	jw_free(&w);
	return rc;
}

/* ---- the feed -------------------------------------------------------- */

struct output_feed {
	struct dedup *alerts;        /* owned; NULL: every alert written */
	struct dedup *chains;        /* owned; chains written in full (--cert-log once) */
	struct evidence *evidence;   /* owned; NULL without --evidence */
	const char *state_path;      /* view (argv) */
	enum output_tls_log tls_log;
	int finished;                /* output_feed_finish done */
};

struct output_feed *output_feed_new(const struct output_feed_opts *opts, char *err,
                                    size_t errlen)
{
	struct output_feed *f = calloc(1, sizeof(*f));   /* owned by the caller */
	size_t keys = opts->max_alert_keys ? opts->max_alert_keys : DEDUP_DEF_MAX_KEYS;

	if (!f)
		goto oom;
	f->tls_log = opts->tls_log;
	f->state_path = opts->state_path;
	if (opts->alert_window_us && !(f->alerts = dedup_new(opts->alert_window_us, keys)))
		goto oom;
	if (opts->cert_log == OUTPUT_CERT_LOG_ONCE && opts->alert_window_us &&
	    !(f->chains = dedup_new(opts->alert_window_us, keys)))
		goto oom;
	/* Saved windows that cannot be read are set aside and said, never a
	 * reason not to start (dedup.h): a sensor restarted after a power
	 * cut must come back. */
	if (f->alerts && f->state_path &&
	    dedup_load(f->alerts, f->state_path, err, errlen) > 0)
		fprintf(stderr, "certsentry: --state %s\n", err);
	if (opts->evidence_dir &&
	    !(f->evidence = evidence_open(opts->evidence_dir,
	                                  opts->evidence_bytes ? opts->evidence_bytes
	                                                       : EVIDENCE_DEF_BYTES,
	                                  err, errlen)))
		goto err;
	return f;
oom:
	snprintf(err, errlen, "out of memory");
err:
	if (f) {
		dedup_free(f->alerts);
		dedup_free(f->chains);
		free(f);
	}
	return NULL;
}

int output_feed_wants_packets(const struct output_feed *f)
{
	return f && f->evidence;
}

/* A window's follow-up: how often an alert already written was seen
 * again.  An alert line as far as the queue is concerned: counts are
 * never dropped for room. */
static void repeat_event(void *ctx, const struct dedup_report *r)
{
	struct output *o = ctx;
	char ts[OUTPUT_TS_LEN], ip[INET6_ADDRSTRLEN];
	struct jsonw w;

	jw_init(&w);
	jw_obj(&w, NULL);
	output_format_ts(r->last_us, ts);
	jw_str(&w, "timestamp", ts);
	jw_int(&w, "flow_id", (int64_t)r->first_flow_id);
	jw_str(&w, "event_type", "alert_repeat");
	if (r->n_vlan > 0) {
		jw_arr(&w, "vlan");
		for (int i = 0; i < r->n_vlan; i++)
			jw_int(&w, NULL, r->vlan[i]);
		jw_end(&w);
	}
	/* The first sighting's flow: flow_id and both ends are that flow's. */
	fmt_ip(r->family, r->first_client_ip, ip);
	jw_str(&w, "src_ip", ip);
	jw_int(&w, "src_port", r->first_client_port);
	fmt_ip(r->family, r->server_ip, ip);
	jw_str(&w, "dest_ip", ip);
	jw_int(&w, "dest_port", r->server_port);
	/* The first sighting's transport: a QUIC alert's repeat joins its
	 * flow as UDP, as the alert did. */
	jw_str(&w, "proto", r->proto == IPPROTO_UDP ? "UDP" : "TCP");
	community_id_member(&w, o, r->family, r->proto == IPPROTO_UDP ? IPPROTO_UDP : IPPROTO_TCP,
	                    r->first_client_ip, r->first_client_port, r->server_ip, r->server_port);
	jw_str(&w, "app_proto", r->proto == IPPROTO_UDP ? "quic" : "tls");
	alert_obj(&w, r->verdict, r->severity);
	jw_obj(&w, "certsentry");
	jw_str(&w, "owner", r->owner);
	jw_str(&w, "verdict", verdict_name(r->verdict));
	opt_str(&w, "chain_sha256", r->chain_sha256);
	jw_obj(&w, "repeat");
	jw_int(&w, "count", (int64_t)r->count);
	jw_int(&w, "new", (int64_t)r->new_since);
	output_format_ts(r->first_us, ts);
	jw_str(&w, "first_seen", ts);
	output_format_ts(r->last_us, ts);
	jw_str(&w, "last_seen", ts);
	output_format_ts(r->window_start_us, ts);
	jw_str(&w, "window_start", ts);
	output_format_ts(r->window_end_us, ts);
	jw_str(&w, "window_end", ts);
	jw_str(&w, "reported_at", r->why);
	jw_end(&w);
	jw_end(&w);
	event_close(&w, o);
	if (emit(o, &w, 1) >= 0)
		g_stats.alert_followups++;
	jw_free(&w);
}

void output_feed_tick(struct output *o, struct output_feed *f, uint64_t now_us)
{
	if (f && f->alerts)
		dedup_expire(f->alerts, now_us, repeat_event, o);
	if (f && f->chains)
		dedup_expire(f->chains, now_us, NULL, NULL);
}

int output_feed_finish(struct output *o, struct output_feed *f, char *err, size_t errlen)
{
	if (!f || f->finished || !f->alerts)
		return 0;
	f->finished = 1;
	dedup_final(f->alerts, f->state_path != NULL, repeat_event, o);
	return f->state_path ? dedup_save(f->alerts, f->state_path, err, errlen) : 0;
}

void output_feed_free(struct output_feed *f)
{
	if (!f)
		return;
	dedup_free(f->alerts);
	dedup_free(f->chains);
	evidence_close(f->evidence);
	free(f);
}

/* An event without packets has no endpoint; its sightings (should a
 * feed ever be given one) key on none. */
static const uint8_t no_ip[16];
static const struct ev_endpoint no_endpoint = { 0, 4, no_ip, no_ip, 0, 0, NULL, 0, NULL, NULL };

static void sighting(const struct hs_event *ev, const char *owner, enum verdict v, int sev,
                     struct dedup_alert *a)
{
	const struct ev_endpoint *ep = ev->endpoint ? ev->endpoint : &no_endpoint;

	a->owner = owner;
	a->verdict = v;
	a->chain_sha256 = ev->chain->sha256;
	a->family = ep->family;
	a->server_ip = ep->server_ip;
	a->server_port = ep->server_port;
	a->proto = ev->quic ? IPPROTO_UDP : IPPROTO_TCP;
	a->vlan = ep->vlan;
	a->n_vlan = ep->n_vlan;
	a->client_ip = ep->client_ip;
	a->client_port = ep->client_port;
	a->severity = sev;
	a->flow_id = ep->flow_id;
	a->ts_us = ev->ts_us;
}

/* Is this the first alert of its key in the window?  Repeats are counted. */
static int alert_is_new(struct output *o, struct output_feed *f, const struct hs_event *ev,
                        const struct policy_result *r, int sev)
{
	struct dedup_alert a;

	if (!f || !f->alerts)
		return 1;
	sighting(ev, r->owner, r->verdict, sev, &a);
	if (dedup_see(f->alerts, &a, repeat_event, o))
		return 1;
	g_stats.alerts_repeated++;
	return 0;
}

/* --cert-log once: has this window written the chain in full already? */
static int chain_logged(struct output_feed *f, const struct hs_event *ev)
{
	static const uint8_t none[16];
	struct dedup_alert a;

	if (!f || !f->chains || !ev->chain->sha256 || ev->chain->n == 0)
		return 0;
	sighting(ev, "", VERDICT_APPROVED, 0, &a);
	a.family = 4;
	a.server_ip = none;
	a.server_port = 0;
	a.n_vlan = 0;
	if (dedup_see(f->chains, &a, NULL, NULL))
		return 0;
	g_stats.certs_brief++;
	return 1;
}

static int tls_event_wanted(const struct output_feed *f, const struct hs_event *ev)
{
	if (!f || f->tls_log == OUTPUT_TLS_LOG_ALL)
		return 1;
	return f->tls_log == OUTPUT_TLS_LOG_PROTECTED && ev->verdicts->n_res > 0;
}

static int write_tls_event(struct output *o, struct output_feed *f, const struct hs_event *ev,
                           struct jsonw *w)
{
	int brief;

	if (!tls_event_wanted(f, ev)) {
		g_stats.tls_events_skipped++;
		return 0;
	}
	brief = chain_logged(f, ev);
	base_open(w, o, ev, ev->quic ? "quic" : "tls");
	if (ev->quic)
		quic_obj(w, ev);
	tls_obj(w, ev, output_tls_chain(o) && !brief);
	if (ev->tls && ev->tls->ndpi && ev->tls->ndpi->valid)
		ndpi_obj(w, ev->tls->ndpi);
	certsentry_open(w, ev, brief, 1);
	jw_end(w);                     /* certsentry */
	event_close(w, o);
	return emit(o, w, 0) < 0 ? -1 : 0;
}

/* The evidence files of the alert's chain, written the first time. */
static void evidence_obj(struct jsonw *w, struct output_feed *f, const struct hs_event *ev)
{
	char pem[EVIDENCE_PATH_MAX], pcap[EVIDENCE_PATH_MAX];

	const struct chain_view *c = ev->chain;

	if (!f || !f->evidence || !c->sha256 || c->n == 0)
		return;
	if (evidence_write(f->evidence, c->sha256, c->der, c->n, ev->tls ? ev->tls->pkts : NULL,
	                   pem, pcap) != 1)
		return;
	jw_obj(w, "evidence");
	jw_str(w, "pem", pem);
	jw_str(w, "pcap", pcap);
	jw_end(w);
}

static int write_alert(struct output *o, struct output_feed *f, const struct hs_event *ev,
                       const struct policy_result *r, int sev, struct jsonw *w)
{
	base_open(w, o, ev, "alert");
	alert_obj(w, r->verdict, sev);
	if (ev->quic)
		quic_obj(w, ev);
	tls_obj(w, ev, 1);
	if (ev->tls && ev->tls->ndpi && ev->tls->ndpi->valid)
		ndpi_obj(w, ev->tls->ndpi);
	certsentry_open(w, ev, 0, 0);
	jw_str(w, "owner", r->owner);
	matched_array(w, r);
	jw_str(w, "verdict", verdict_name(r->verdict));
	jw_str(w, "reason", r->reason);
	if (verdict_is_chain(r->verdict))
		trust_members(w, ev->verdicts->trust);
	evidence_obj(w, f, ev);
	jw_end(w);
	event_close(w, o);
	return emit(o, w, 1) < 0 ? -1 : 0;
}

int output_handshake(struct output *o, struct output_feed *feed, const struct hs_event *ev)
{
	/* About 8 KB on the stack: most lines are built without an allocation. */
	struct jsonw w;
	int alerts = 0;

	/* A line that fails is counted by the output (output_delivery) and
	 * does not stop the lines after it. */
	jw_init(&w);
	if (ev->tls)
		(void)write_tls_event(o, feed, ev, &w);
	for (size_t i = 0; i < ev->verdicts->n_res; i++) {
		const struct policy_result *r = &ev->verdicts->res[i];
		int sev;

		if (!verdict_is_alert(r->verdict))
			continue;
		sev = verdict_severity(r->verdict, ev->verdicts->trust);
		if (!alert_is_new(o, feed, ev, r, sev)) {
			alerts++;
			continue;
		}
		/* Found is found: an alert whose line could not be delivered is
		 * still counted here (the output counts it as undelivered). */
		jw_reset(&w);
		(void)write_alert(o, feed, ev, r, sev, &w);
		alerts++;
	}
	jw_free(&w);
	return alerts;
}
