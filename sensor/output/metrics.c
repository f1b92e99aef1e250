/*
 * metrics.c - the stats counters in Prometheus's text format (metrics.h).
 *
 * Owns: the table that names every counter of struct cs_stats for
 * Prometheus, the text built from it, and writing the --metrics file.
 * Must not touch: the counters themselves (it reads the snapshot that
 * eve_stats.c reads), the EVE output.
 *
 * One table, fields[], maps each cs_stats counter to a family and an
 * optional label.  Entries of one family sit together, so that the HELP
 * and TYPE lines come once and the samples of a family are contiguous, as
 * the format requires; test_metrics checks both, and that every 8-byte
 * slot of struct cs_stats has exactly one entry, so a counter added to
 * stats.h without a metric fails the unit tests.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "metrics.h"
#include "stats.h"

/* --metrics FILE's temporary twin is FILE plus this and the pid; a path
 * longer than this many bytes is refused. */
#define METRICS_PATH_MAX 4096u

static const char *g_path;

void metrics_set_path(const char *path)
{
	g_path = path;
}

const char *metrics_path(void)
{
	return g_path;
}

#define F(field) offsetof(struct cs_stats, field)
#define C(field, fam, help) { F(field), "certsentry_" fam, NULL, NULL, METRIC_COUNTER, help }
#define CL(field, fam, lab, val, help) \
	{ F(field), "certsentry_" fam, lab, val, METRIC_COUNTER, help }
#define G(field, fam, help) { F(field), "certsentry_" fam, NULL, NULL, METRIC_GAUGE, help }
#define HV(i, val) CL(hs_by_version[i], "handshakes_total", "version", val, NULL)
#define LIM(field, val) CL(field, "limit_hits_total", "limit", val, NULL)

static const struct metrics_field fields[] = {
	/* capture / decode */
	C(pkts, "packets_total", "Packets read from the capture."),
	C(bytes, "bytes_total", "Bytes of the packets read."),
	CL(decode_err, "decode_errors_total", "kind", "malformed",
	   "Packets whose headers could not be decoded."),
	CL(decode_unsupported, "decode_errors_total", "kind", "unsupported", NULL),
	CL(vlan, "decoder_headers_total", "header", "vlan", "Headers decoded, by kind."),
	CL(ipv4, "decoder_headers_total", "header", "ipv4", NULL),
	CL(ipv6, "decoder_headers_total", "header", "ipv6", NULL),
	CL(tcp, "decoder_headers_total", "header", "tcp", NULL),
	CL(pppoe, "decoder_headers_total", "header", "pppoe", NULL),
	CL(mpls, "decoder_headers_total", "header", "mpls", NULL),
	CL(tunnel, "decoder_headers_total", "header", "tunnel", NULL),
	CL(gre, "decoder_headers_total", "header", "gre", NULL),
	CL(erspan, "decoder_headers_total", "header", "erspan", NULL),
	CL(vxlan, "decoder_headers_total", "header", "vxlan", NULL),
	CL(geneve, "decoder_headers_total", "header", "geneve", NULL),
	CL(ipv4_frag, "ip_fragments_total", "family", "ipv4", "IP fragments seen."),
	CL(ipv6_frag, "ip_fragments_total", "family", "ipv6", NULL),
	C(frag_reassembled, "ip_datagrams_reassembled_total",
	  "Datagrams rebuilt from fragments."),
	C(frag_overlap, "ip_fragments_overlapping_total",
	  "Fragments overlapping another (the first copy kept)."),
	C(frag_timeout, "ip_datagrams_timed_out_total",
	  "Fragmented datagrams dropped incomplete."),
	C(frag_bad, "ip_datagrams_impossible_total",
	  "Fragmented datagrams beyond 64 KiB or with an inconsistent end."),
	C(capture_damaged, "inputs_damaged_total",
	  "Capture files or streams read up to damage (cut short, a bad block)."),
	C(capture_filtered, "packets_filtered_total",
	  "Frames of capture files the --bpf filter rejected."),
	/* flows */
	C(flows_total, "flows_total", "TCP flows followed."),
	G(flows_active, "flows_active", "TCP flows followed now."),
	CL(flows_closed, "flows_ended_total", "how", "closed", "Flows that ended, by how."),
	CL(flows_timeout, "flows_ended_total", "how", "timeout", NULL),
	C(flows_ignored, "flows_ignored_total", "Flows on ports that are not inspected."),
	C(midstream_pickups, "midstream_pickups_total", "Flows picked up without their start."),
	C(flows_close_grace, "flows_closed_in_grace_total",
	  "Undecided flows closed by a RST or FIN, read for --close-grace after it."),
	C(tcp_end_ignored, "tcp_ends_not_believed_total",
	  "RST or FIN segments not believed (checksum, window)."),
	C(tcp_port_reuse, "tcp_port_reuse_total", "SYNs with a new ISN that started a new flow."),
	C(tcp_syn_ignored, "tcp_syns_ignored_total", "SYNs with a new ISN mid-handshake, not believed."),
	C(tcp_synack_isn_differ, "tcp_synack_isn_differ_total",
	  "SYN-ACKs whose ISN differs from an earlier one."),
	C(tcp_synack_isn_switch, "tcp_synack_isn_switch_total",
	  "Flows where the client acknowledged another SYN-ACK than the last."),
	/* reassembly */
	C(reasm_gap, "tcp_reassembly_gaps_total", "Gaps in a handshake's byte stream."),
	C(reasm_overlap, "tcp_overlaps_total", "Overlapping TCP segments."),
	C(reasm_overlap_diff, "tcp_overlaps_different_data_total",
	  "Overlapping TCP segments whose bytes differed."),
	C(reasm_retrans, "tcp_retransmissions_total", "Retransmitted TCP segments."),
	C(tcp_invalid_checksum, "tcp_invalid_checksum_total",
	  "Handshake segments with a bad TCP checksum."),
	C(tcp_checksum_ignored, "tcp_checksum_not_trusted_total",
	  "Bad-checksum segments not trusted (kept as tentative copies)."),
	C(reasm_tentative, "tcp_tentative_copies_total", "Bad-checksum segments kept tentatively."),
	C(reasm_tentative_replaced, "tcp_tentative_replaced_total",
	  "Tentative copies replaced by a valid copy of their bytes."),
	C(reasm_tentative_used, "tcp_tentative_used_total",
	  "Tentative copies used: acknowledged by the receiver, no valid copy came."),
	C(reasm_tentative_diff, "tcp_tentative_different_total",
	  "Tentative copies whose bytes differed from the valid copy."),
	C(reasm_ooo_queued, "tcp_out_of_order_segments_total", "Out-of-order segments queued."),
	G(mem_in_use, "flow_memory_bytes", "Memory charged to --memcap now."),
	G(mem_peak, "flow_memory_peak_bytes", "Most memory charged to --memcap at one time."),
	/* limits hit, named as the option that sets each */
	CL(flows_evicted, "limit_hits_total", "limit", "max-flows",
	   "Times a limit was hit, by the option that sets it (what it cost is in the README)."),
	LIM(frag_limit, "frag-memcap"),
	LIM(reasm_ooo_limit, "max-ooo-segments"),
	LIM(reasm_tentative_dropped, "tentative-copies"),
	LIM(reasm_flow_memcap, "flow-memcap"),
	LIM(reasm_total_memcap, "memcap"),
	LIM(prehs_limit, "max-prehandshake"),
	LIM(tls_hs_too_big, "max-handshake"),
	LIM(tls_certs_dropped, "max-certs"),
	LIM(tls_cert_too_big, "max-cert-size"),
	LIM(chain_cache_evictions, "chain-cache"),
	LIM(dedup_evicted, "max-alert-keys"),
	LIM(evidence_budget, "evidence-bytes"),
	LIM(output_dropped, "output-queue"),
	LIM(capture_block_limit, "pcapng-block"),
	/* tls */
	C(tls_not_tls, "not_tls_flows_total", "Flows on inspected ports that did not speak TLS."),
	C(tls_parse_err, "tls_parse_errors_total", "Malformed TLS records or handshake messages."),
	C(tls_sslv2_hello, "tls_sslv2_hellos_total", "SSLv2-format ClientHellos."),
	CL(hs_by_version[0], "handshakes_total", "version", "SSLv2",
	   "Handshakes seen, by the version the server chose."),
	HV(1, "SSLv3"), HV(2, "TLS 1.0"), HV(3, "TLS 1.1"), HV(4, "TLS 1.2"),
	HV(5, "TLS 1.3"), HV(6, "other"),
	/* tls_version_index() returns 0..6: the eighth slot is never counted. */
	{ F(hs_by_version[7]), NULL, NULL, NULL, METRIC_UNUSED, NULL },
	C(hs_tls13, "tls13_certificates_encrypted_total",
	  "TLS 1.3 handshakes, whose certificates are encrypted."),
	C(hs_resumed, "handshakes_resumed_total", "Resumed handshakes (no certificate sent)."),
	C(hs_incomplete, "handshakes_incomplete_total", "Handshakes that ended early."),
	C(hs_tls13_decrypted, "tls13_decrypted_total",
	  "TLS 1.3 handshakes whose certificates were decrypted with a key log."),
	C(tls13_records, "tls13_records_decrypted_total", "TLS 1.3 server records decrypted."),
	C(tls13_auth_fail, "tls13_authentication_failures_total",
	  "TLS 1.3 records that failed authentication (never parsed)."),
	C(tls13_no_key, "tls13_no_key_total", "TLS 1.3 handshakes the key log had no secret for."),
	CL(fp_match, "fingerprint_checks_total", "result", "matched",
	   "TLS 1.3 fingerprints compared with the baseline, by result."),
	CL(fp_changed, "fingerprint_checks_total", "result", "changed", NULL),
	CL(fp_no_baseline, "fingerprint_checks_total", "result", "no_baseline", NULL),
	C(fp_learned, "fingerprints_learned_total", "TLS 1.3 fingerprints learned (--learn)."),
	C(certs_seen, "certificates_total", "Certificates read from handshakes."),
	C(certs_unparsable, "certificates_unparsable_total", "Certificates OpenSSL could not parse."),
	CL(chain_cache_hits, "chain_cache_lookups_total", "result", "hit",
	   "Chains looked up in the chain cache, by result."),
	CL(chain_cache_misses, "chain_cache_lookups_total", "result", "miss", NULL),
	/* output */
	C(alerts, "alerts_decided_total",
	  "Alerts decided, sightings in an open window included (the sum of alerts_total)."),
	C(events, "events_total", "EVE lines delivered."),
	C(output_err, "output_write_errors_total", "Lines that could not be written."),
	C(output_retries, "output_retries_total", "File writes that failed and were tried again."),
	C(output_queued, "output_lines_queued_total", "Lines a consumer could not take at once."),
	G(output_queue_peak, "output_queue_peak_lines", "Most lines queued at one time."),
	C(output_alerts_stderr, "output_alerts_to_stderr_total",
	  "Alerts the output could not take, written to standard error."),
	C(output_disconnects, "output_disconnects_total", "Times a consumer was found gone."),
	C(output_reconnects, "output_reconnects_total", "Times a consumer was connected to again."),
	/* the alert feed */
	C(alerts_repeated, "alert_repeats_total", "Sightings of an alert in its open window."),
	C(alert_followups, "alert_followups_total", "alert_repeat events written."),
	C(tls_events_skipped, "tls_events_not_written_total", "tls events not written (--tls-log)."),
	C(certs_brief, "chains_by_sha256_only_total",
	  "tls events naming their chain by SHA-256 only (--cert-log once)."),
	C(evidence_written, "evidence_written_total", "Chains written to --evidence."),
	C(state_corrupt, "state_files_set_aside_total",
	  "--state files that could not be read whole, moved aside (FILE.corrupt-TIME)."),
	C(state_lines_bad, "state_lines_not_read_total",
	  "Lines of those files not loaded: damaged, or the oldest past --max-alert-keys."),
};

const struct metrics_field *metrics_fields(size_t *n)
{
	*n = sizeof(fields) / sizeof(fields[0]);
	return fields;
}

/* ---- text -------------------------------------------------------------- */

/* A label value: backslash, double quote and line feed escaped (0.0.4). */
static void put_label_value(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fprintf(f, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

static void put_head(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static uint64_t field_value(const struct cs_stats *st, size_t off)
{
	uint64_t v;

	memcpy(&v, (const char *)st + off, sizeof(v));
	return v;
}

static void put_fields(FILE *f, const struct cs_stats *st)
{
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		const struct metrics_field *m = &fields[i];

		if (m->kind == METRIC_UNUSED)
			continue;
		if (m->help)
			put_head(f, m->family, m->kind == METRIC_GAUGE ? "gauge" : "counter", m->help);
		fputs(m->family, f);
		if (m->label) {
			fprintf(f, "{%s=\"", m->label);
			put_label_value(f, m->value);
			fputs("\"}", f);
		}
		fprintf(f, " %llu\n", (unsigned long long)field_value(st, m->off));
	}
}

static void put_alerts(FILE *f, const struct eve_stats_input *in)
{
	put_head(f, "certsentry_alerts_total", "counter",
	         "Alerts decided, by owner and verdict (repeats in a window included).");
	for (size_t i = 0; i < in->n_alerts; i++) {
		fputs("certsentry_alerts_total{owner=\"", f);
		put_label_value(f, in->alerts[i].owner ? in->alerts[i].owner : "");
		fputs("\",verdict=\"", f);
		put_label_value(f, verdict_name(in->alerts[i].verdict));
		fprintf(f, "\"} %llu\n", (unsigned long long)in->alerts[i].n);
	}
}

/* Per owner, protected asset and how its handshakes were checked (the
 * classes of coverage.h); only the classes that happened. */
static int put_coverage(FILE *f, struct coverage *cov)
{
	struct coverage_row *rows = NULL;
	uint64_t dropped = 0;
	size_t n = cov ? coverage_rows(cov, NULL, 0, &dropped) : 0;

	if (n) {
		rows = malloc(n * sizeof(*rows));   /* freed here */
		if (!rows)
			return -1;
		n = coverage_rows(cov, rows, n, &dropped);
	}
	put_head(f, "certsentry_coverage_handshakes_total", "counter",
	         "Handshakes at a protected asset, by how they were checked.");
	for (size_t i = 0; i < n; i++)
		for (int k = 0; k < COV_N; k++) {
			if (!rows[i].n[k])
				continue;
			fputs("certsentry_coverage_handshakes_total{owner=\"", f);
			put_label_value(f, rows[i].owner);
			fputs("\",asset=\"", f);
			put_label_value(f, rows[i].asset);
			fprintf(f, "\",check=\"%s\",checked=\"%s\"} %llu\n",
			        coverage_class_name((enum coverage_class)k),
			        coverage_unchecked((enum coverage_class)k) ? "no" : "yes",
			        (unsigned long long)rows[i].n[k]);
		}
	put_head(f, "certsentry_coverage_dropped_total", "counter",
	         "Handshakes not counted for want of a coverage row.");
	fprintf(f, "certsentry_coverage_dropped_total %llu\n", (unsigned long long)dropped);
	free(rows);
	return 0;
}

static void put_process(FILE *f, const struct eve_stats_input *in)
{
	put_head(f, "certsentry_uptime_seconds", "gauge", "Seconds since certsentry started.");
	fprintf(f, "certsentry_uptime_seconds %llu\n", (unsigned long long)in->uptime_s);
	put_head(f, "certsentry_last_update_timestamp_seconds", "gauge",
	         "When this file was written (Unix time).");
	fprintf(f, "certsentry_last_update_timestamp_seconds %llu.%06llu\n",
	        (unsigned long long)(in->ts_us / 1000000u),
	        (unsigned long long)(in->ts_us % 1000000u));
	if (!in->have_kernel)
		return;
	put_head(f, "certsentry_capture_kernel_packets_total", "counter",
	         "Packets the kernel received for the capture (libpcap).");
	fprintf(f, "certsentry_capture_kernel_packets_total %llu\n",
	        (unsigned long long)in->kernel_packets);
	put_head(f, "certsentry_capture_kernel_drops_total", "counter",
	         "Packets the kernel dropped: no room in the capture buffer.");
	fprintf(f, "certsentry_capture_kernel_drops_total %llu\n",
	        (unsigned long long)in->kernel_drops);
	put_head(f, "certsentry_capture_interface_drops_total", "counter",
	         "Packets the interface dropped.");
	fprintf(f, "certsentry_capture_interface_drops_total %llu\n",
	        (unsigned long long)in->kernel_ifdrops);
}

char *metrics_text(const struct eve_stats_input *in, size_t *len)
{
	char *text = NULL;
	FILE *f = open_memstream(&text, len);   /* text owned by the caller */
	int bad;

	if (!f)
		return NULL;
	put_process(f, in);
	put_fields(f, in->st);
	put_alerts(f, in);
	bad = put_coverage(f, in->cov) < 0;
	if (fclose(f) != 0 || bad) {
		free(text);
		return NULL;
	}
	return text;
}

/* ---- the file ---------------------------------------------------------- */

int metrics_check(char *err, size_t errlen)
{
	char ferr[METRICS_PATH_MAX + 256];

	if (!g_path)
		return 0;
	if (!*g_path || strlen(g_path) > METRICS_PATH_MAX) {
		snprintf(err, errlen, "--metrics: a file name of 1 to %u bytes", METRICS_PATH_MAX);
		return -1;
	}
	/* A real create in the directory (the temporary and the rename need
	 * it): access(2) would answer for the real user, not the one the
	 * sensor runs as. */
	if (fileio_check_writable_dir(g_path, ferr, sizeof(ferr)) < 0) {
		snprintf(err, errlen, "--metrics %s", ferr);
		return -1;
	}
	return 0;
}

int metrics_write(const struct eve_stats_input *in, char *err, size_t errlen)
{
	char ferr[METRICS_PATH_MAX + 256];
	size_t len = 0;
	char *text;
	int rc;

	if (!g_path) {
		snprintf(err, errlen, "metrics: no file set");
		return -1;
	}
	if (strlen(g_path) > METRICS_PATH_MAX) {
		snprintf(err, errlen, "metrics %.64s...: path longer than %u bytes", g_path,
		         METRICS_PATH_MAX);
		return -1;
	}
	text = metrics_text(in, &len);
	if (!text) {
		snprintf(err, errlen, "metrics %s: out of memory", g_path);
		return -1;
	}
	/* A temporary in the same directory (FILE.tmp.PID: node_exporter
	 * reads *.prom only), flushed, renamed over the file, the directory
	 * flushed: a scrape never reads half a file, a power cut leaves the
	 * last whole one. */
	rc = fileio_write_atomic_buf(g_path, 0644, text, len, ferr, sizeof(ferr));
	if (rc < 0)
		snprintf(err, errlen, "metrics %s", ferr);
	free(text);
	return rc;
}
