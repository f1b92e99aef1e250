/*
 * eve_stats.c - the EVE stats event (see include/eve_stats.h).
 *
 * Must not: read counters other than through stats.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#include "eve_stats.h"
#include "jsonw.h"
#include "output.h"
#include "tls.h"

/* Counters are unsigned; EVE (and jansson before) writes them as JSON's
 * signed 64-bit integers. */
static void put(struct jsonw *o, const char *k, uint64_t v)
{
	jw_int(o, k, (int64_t)v);
}

static void capture_obj(struct jsonw *o, const struct eve_stats_input *in)
{
	jw_obj(o, "capture");
	put(o, "kernel_packets", in->kernel_packets);
	put(o, "kernel_drops", in->kernel_drops);
	put(o, "kernel_ifdrops", in->kernel_ifdrops);
	jw_end(o);
}

static void decoder_obj(struct jsonw *o, const struct cs_stats *st)
{
	jw_obj(o, "decoder");
	put(o, "pkts", st->pkts);
	put(o, "bytes", st->bytes);
	put(o, "invalid", st->decode_err);
	put(o, "ipv4", st->ipv4);
	put(o, "ipv6", st->ipv6);
	put(o, "tcp", st->tcp);
	put(o, "vlan", st->vlan);
	put(o, "pppoe", st->pppoe);
	put(o, "mpls", st->mpls);
	put(o, "gre", st->gre);
	put(o, "erspan", st->erspan);
	put(o, "vxlan", st->vxlan);
	put(o, "geneve", st->geneve);
	put(o, "avg_pkt_size", st->pkts ? st->bytes / st->pkts : 0);
	jw_end(o);
}

static void flow_obj(struct jsonw *o, const struct cs_stats *st)
{
	jw_obj(o, "flow");
	put(o, "total", st->flows_total);
	put(o, "active", st->flows_active);
	put(o, "memuse", st->mem_in_use);
	jw_end(o);
}

static void tcp_obj(struct jsonw *o, const struct cs_stats *st)
{
	jw_obj(o, "tcp");
	put(o, "reassembly_gap", st->reasm_gap);
	put(o, "overlap", st->reasm_overlap);
	put(o, "overlap_diff_data", st->reasm_overlap_diff);
	put(o, "invalid_checksum", st->tcp_invalid_checksum);
	put(o, "midstream_pickups", st->midstream_pickups);
	put(o, "reassembly_memuse", st->mem_in_use);
	jw_end(o);
}

static void limits_obj(struct jsonw *o, const struct cs_stats *st)
{
	jw_obj(o, "limits");
	put(o, "flows_evicted", st->flows_evicted);
	put(o, "flow_memcap", st->reasm_flow_memcap);
	put(o, "memcap", st->reasm_total_memcap);
	put(o, "ooo_segments", st->reasm_ooo_limit);
	put(o, "handshake_size", st->tls_hs_too_big);
	put(o, "certificates_dropped", st->tls_certs_dropped);
	put(o, "certificate_size", st->tls_cert_too_big);
	put(o, "prehandshake", st->prehs_limit);
	put(o, "fragments", st->frag_limit);
	put(o, "chain_cache_evictions", st->chain_cache_evictions);
	put(o, "alert_keys", st->dedup_evicted);
	put(o, "evidence_bytes", st->evidence_budget);
	jw_end(o);
}

/* Per owner and protected asset: what was checked (coverage.h). */
static void coverage_arr(struct jsonw *o, struct coverage *cov)
{
	struct coverage_row *rows;
	uint64_t dropped;
	size_t n = coverage_rows(cov, NULL, 0, &dropped);

	jw_arr(o, "coverage");
	rows = n ? malloc(n * sizeof(*rows)) : NULL;   /* freed here */
	if (rows)
		n = coverage_rows(cov, rows, n, &dropped);
	for (size_t i = 0; rows && i < n; i++) {
		uint64_t verified = rows[i].n[COV_VERIFIED] + rows[i].n[COV_VERIFIED_TLS13];
		uint64_t unchecked = 0;

		for (int k = 0; k < COV_N; k++)
			if (coverage_unchecked((enum coverage_class)k))
				unchecked += rows[i].n[k];
		jw_obj(o, NULL);
		jw_str(o, "owner", rows[i].owner);
		jw_str(o, "asset", rows[i].asset);
		put(o, "verified", verified);
		put(o, "fingerprint_only", rows[i].n[COV_FINGERPRINT]);
		put(o, "unchecked", unchecked);
		jw_obj(o, "by_reason");
		for (int k = 0; k < COV_N; k++)
			if (rows[i].n[k])
				put(o, coverage_class_name((enum coverage_class)k), rows[i].n[k]);
		jw_end(o);
		jw_end(o);
	}
	jw_end(o);
	free(rows);
}

/* Events found, delivered and undelivered by reason, so far (the line
 * carrying this is itself not yet counted). */
static void delivery_obj(struct jsonw *o, const struct output_delivery *d)
{
	static const char *const why[OUTPUT_LOSS_COUNT] = {
		"write_error", "queue_full", "out_of_memory", "at_exit"
	};

	jw_obj(o, "delivery");
	jw_str(o, "sink", d->sink ? d->sink : "");
	put(o, "found", d->found[0] + d->found[1]);
	put(o, "alerts_found", d->found[1]);
	put(o, "delivered", d->delivered[0] + d->delivered[1]);
	put(o, "alerts_delivered", d->delivered[1]);
	put(o, "queued", d->pending[0] + d->pending[1]);
	put(o, "undelivered", output_undelivered(d));
	jw_obj(o, "undelivered_by_reason");
	for (int r = 0; r < OUTPUT_LOSS_COUNT; r++)
		put(o, why[r], d->lost[r][0] + d->lost[r][1]);
	jw_end(o);
	put(o, "alerts_to_stderr", d->alerts_stderr);
	jw_end(o);
}

static void certsentry_obj(struct jsonw *o, const struct eve_stats_input *in)
{
	static const uint16_t versions[] = { 0x0002, 0x0300, 0x0301, 0x0302, 0x0303, 0x0304 };
	const struct cs_stats *st = in->st;

	jw_obj(o, "certsentry");
	jw_obj(o, "handshakes");
	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++)
		put(o, tls_version_name(versions[i]), st->hs_by_version[i]);
	put(o, "other", st->hs_by_version[6]);
	jw_end(o);
	put(o, "certificates", st->certs_seen);
	put(o, "certificates_unparsable", st->certs_unparsable);
	put(o, "chain_cache_hits", st->chain_cache_hits);
	put(o, "chain_cache_misses", st->chain_cache_misses);
	put(o, "tls13_certificates_encrypted", st->hs_tls13);
	put(o, "tls13_decrypted", st->hs_tls13_decrypted);
	put(o, "tls13_no_key", st->tls13_no_key);
	put(o, "tls13_records_decrypted", st->tls13_records);
	put(o, "tls13_auth_failures", st->tls13_auth_fail);
	put(o, "fingerprint_matched", st->fp_match);
	put(o, "fingerprint_changed", st->fp_changed);
	put(o, "fingerprint_no_baseline", st->fp_no_baseline);
	put(o, "fingerprint_learned", st->fp_learned);
	put(o, "resumed", st->hs_resumed);
	put(o, "incomplete", st->hs_incomplete);
	put(o, "fragments_reassembled", st->frag_reassembled);
	put(o, "checksum_not_trusted", st->tcp_checksum_ignored);
	put(o, "tentative_copies", st->reasm_tentative);
	put(o, "tentative_replaced", st->reasm_tentative_replaced);
	put(o, "tentative_used", st->reasm_tentative_used);
	put(o, "tentative_different", st->reasm_tentative_diff);
	put(o, "tentative_dropped", st->reasm_tentative_dropped);
	put(o, "end_not_believed", st->tcp_end_ignored);
	put(o, "closed_in_grace", st->flows_close_grace);
	put(o, "port_reuse", st->tcp_port_reuse);
	put(o, "syn_mid_handshake_ignored", st->tcp_syn_ignored);
	put(o, "synack_isn_differ", st->tcp_synack_isn_differ);
	put(o, "synack_isn_switch", st->tcp_synack_isn_switch);
	limits_obj(o, st);
	put(o, "alerts", st->alerts);
	jw_arr(o, "alerts_by_owner");
	for (size_t i = 0; i < in->n_alerts; i++) {
		jw_obj(o, NULL);
		jw_str(o, "owner", in->alerts[i].owner);
		jw_str(o, "verdict", verdict_name(in->alerts[i].verdict));
		put(o, "count", in->alerts[i].n);
		jw_end(o);
	}
	jw_end(o);
	put(o, "alert_repeats", st->alerts_repeated);
	put(o, "alert_followups", st->alert_followups);
	put(o, "tls_events_not_written", st->tls_events_skipped);
	put(o, "chains_by_sha256_only", st->certs_brief);
	put(o, "evidence_written", st->evidence_written);
	put(o, "inputs_damaged", st->capture_damaged);
	put(o, "packets_filtered", st->capture_filtered);
	put(o, "state_files_set_aside", st->state_corrupt);
	put(o, "state_lines_not_read", st->state_lines_bad);
	put(o, "output_errors", st->output_err);
	if (in->dl)
		delivery_obj(o, in->dl);
	coverage_arr(o, in->cov);
	jw_end(o);
}

char *eve_stats_line(const struct eve_stats_input *in)
{
	struct jsonw w;
	char ts[OUTPUT_TS_LEN], *line = NULL;
	const char *text;
	size_t len;

	jw_init(&w);
	jw_obj(&w, NULL);
	output_format_ts(in->ts_us, ts);
	jw_str(&w, "timestamp", ts);
	jw_str(&w, "event_type", "stats");
	jw_obj(&w, "stats");
	put(&w, "uptime", in->uptime_s);
	if (in->have_kernel)
		capture_obj(&w, in);
	decoder_obj(&w, in->st);
	flow_obj(&w, in->st);
	tcp_obj(&w, in->st);
	jw_end(&w);
	certsentry_obj(&w, in);
	jw_end(&w);
	text = jw_text(&w, &len);
	if (text) {
		line = malloc(len + 1);   /* owned by the caller */
		if (line)
			memcpy(line, text, len + 1);
	}
	jw_free(&w);
	return line;
}
