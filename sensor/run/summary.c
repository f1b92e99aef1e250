/*
 * summary.c - the lines a run ends with (see include/run/summary.h): counts
 * read from a struct cs_stats handed in (a file run's own counters, or
 * the sum of a live capture's workers), the alert tally, the key log,
 * fingerprints, delivery and coverage.
 *
 * Owns: nothing.  Must not: read g_stats (the caller says whose counters
 * these are), or decide the exit status (main.c).
 */
#include <inttypes.h>
#include <stdio.h>

#include "verdict/coverage.h"
#include "verdict/fingerprint.h"
#include "secrets/keylog.h"
#include "event/output.h"
#include "verdict/policy.h"
#include "run/summary.h"

static void print_keylog(const struct summary_in *in, FILE *f)
{
	const struct cs_stats *st = in->st;
	struct keylog_counts c;

	if (!in->kl)
		return;
	keylog_counts(in->kl, &c);
	fprintf(f, "  tls 1.3: decrypted %" PRIu64 ", no key %" PRIu64 ", records decrypted %"
	        PRIu64 " (authentication failures %" PRIu64 "); key log: %" PRIu64
	        " secrets from %zu files and %zu pcapng blocks (%" PRIu64 " lines, %" PRIu64
	        " malformed), look-ups %" PRIu64 ", found %" PRIu64 "\n",
	        st->hs_tls13_decrypted, st->tls13_no_key, st->tls13_records,
	        st->tls13_auth_fail, c.entries, keylog_files(in->kl), in->dsb, c.lines,
	        c.malformed, c.lookups, c.hits);
}

/* QUIC, when any was seen: connections followed, what became of their
 * packets, and the stream limits. */
static void print_quic(const struct cs_stats *st, FILE *f)
{
	if (!st->quic_flows && !st->quic_pkt_unsupported)
		return;
	fprintf(f, "  quic: connections %" PRIu64 ", packets opened %" PRIu64
	        " (authentication failures %" PRIu64 ", waiting for a key %" PRIu64
	        ", not read %" PRIu64 ", malformed %" PRIu64 "), other versions %" PRIu64
	        ", retries %" PRIu64 ", version negotiations %" PRIu64
	        ", CRYPTO data sent again %" PRIu64 " (different data %" PRIu64 "); limits: "
	        "CRYPTO gap %" PRIu64 ", stream bytes %" PRIu64 ", pieces %" PRIu64
	        ", coalesced packets %" PRIu64 ", datagrams held for a key %" PRIu64 "\n",
	        st->quic_flows, st->quic_pkt_opened, st->quic_pkt_auth_fail, st->quic_pkt_no_key,
	        st->quic_pkt_not_read, st->quic_pkt_malformed, st->quic_pkt_unsupported,
	        st->quic_retry, st->quic_vn, st->quic_crypto_overlap,
	        st->quic_crypto_overlap_diff, st->quic_crypto_gap_limit, st->quic_crypto_max_limit,
	        st->quic_crypto_ranges_limit, st->quic_coalesced_limit, st->quic_held_limit);
}

static void print_fingerprints(const struct summary_in *in, FILE *f)
{
	const struct cs_stats *st = in->st;

	if (in->baseline)
		fprintf(f, "  fingerprints: baseline %zu endpoints, %zu shapes; TLS 1.3 handshakes "
		        "matched %" PRIu64 ", changed %" PRIu64 ", endpoint not in the baseline %"
		        PRIu64 "\n", fp_endpoints(in->baseline), fp_shapes(in->baseline),
		        st->fp_match, st->fp_changed, st->fp_no_baseline);
	if (in->learn)
		fprintf(f, "  fingerprints: learned %" PRIu64 " TLS 1.3 handshakes: %zu endpoints, "
		        "%zu shapes\n", st->fp_learned, fp_endpoints(in->learn),
		        fp_shapes(in->learn));
}

/* Bad checksums are a majority only when the capture host offloads them
 * (or the capture is damaged); below this many, a few forged or broken
 * segments could make one, and no hint is given. */
#define SUMMARY_OFFLOAD_MIN 8u

/* The hint a SOC needs when most TCP checksums were wrong, saying what
 * certsentry did with those segments (engine_tcp.c checksum_check): with
 * --checksum-checks auto, the default, a bad checksum is trusted while bad
 * ones are the majority, else kept as a tentative copy that a valid copy
 * replaces and that is used only once the receiver acknowledges it.  UDP
 * checksums (QUIC) are never checked. */
static void print_checksums(const struct cs_stats *st, FILE *f)
{
	uint64_t bad = st->tcp_invalid_checksum, checked = bad + st->tcp_valid_checksum;
	uint64_t distrusted = st->tcp_checksum_ignored;

	if (bad < SUMMARY_OFFLOAD_MIN || bad <= st->tcp_valid_checksum)
		return;
	fprintf(f, "  checksums: most TCP checksums were wrong (%" PRIu64 " of %" PRIu64
	        " checked): the capture was probably taken on the sending host with checksum "
	        "offload (the card fills them in after the capture point); certsentry trusted %"
	        PRIu64 " of those segments as they came and kept %" PRIu64 " as tentative copies, "
	        "used only once acknowledged (%" PRIu64 " used): --checksum-checks auto, the "
	        "default, trusts bad checksums while they are the majority, yes never does; "
	        "capture elsewhere or turn offload off (ethtool -K IFACE tx off) to check them\n",
	        bad, checked, bad - distrusted, distrusted, st->reasm_tentative_used);
}

static void print_head(const struct summary_in *in, FILE *f)
{
	static const char *const vnames[] = {
		"SSLv2", "SSLv3", "TLS 1.0", "TLS 1.1", "TLS 1.2", "TLS 1.3", "other"
	};
	const struct cs_stats *st = in->st;

	fprintf(f, "  handshakes:");
	for (size_t i = 0; i < 7; i++)
		if (st->hs_by_version[i])
			fprintf(f, " %s %" PRIu64 ",", vnames[i], st->hs_by_version[i]);
	fprintf(f, " resumed %" PRIu64 ", TLS 1.3 decrypted %" PRIu64
	        ", certificates encrypted (TLS 1.3) %" PRIu64 ", incomplete %" PRIu64 "\n",
	        st->hs_resumed, st->hs_tls13_decrypted, st->hs_tls13, st->hs_incomplete);
	for (size_t i = 0; i < in->n_rows; i++)
		fprintf(f, "  alerts: %s %s %" PRIu64 "\n", in->rows[i].owner,
		        verdict_name(in->rows[i].verdict), in->rows[i].n);
}

static void print_feed(const struct summary_in *in, FILE *f)
{
	const struct cs_stats *st = in->st;

	if (st->alerts_repeated || st->alert_followups || st->tls_events_skipped ||
	    st->certs_brief || st->evidence_written || st->evidence_budget)
		fprintf(f, "  feed: alert repeats in open windows %" PRIu64 " (follow-ups %" PRIu64
		        "), tls events not written %" PRIu64 ", chains by SHA-256 only %" PRIu64
		        ", evidence written %" PRIu64 " (over budget %" PRIu64 ")\n",
		        st->alerts_repeated, st->alert_followups, st->tls_events_skipped,
		        st->certs_brief, st->evidence_written, st->evidence_budget);
}

/* Only when a consumer (socket, Redis, syslog) was away or slow at some
 * point: how the queue in front of it fared. */
static void print_queue(const struct cs_stats *st, FILE *f)
{
	if (st->output_queued || st->output_dropped || st->output_disconnects ||
	    st->output_alerts_stderr)
		fprintf(f, "  output queue: queued %" PRIu64 " (at most %" PRIu64 " at once), dropped %"
		        PRIu64 ", alerts to stderr %" PRIu64 ", disconnects %" PRIu64
		        ", reconnects %" PRIu64 "\n",
		        st->output_queued, st->output_queue_peak, st->output_dropped,
		        st->output_alerts_stderr, st->output_disconnects, st->output_reconnects);
}

/* Only when an input was damaged, filtered or set aside. */
static void print_inputs(const struct cs_stats *st, FILE *f)
{
	if (st->capture_damaged || st->capture_filtered || st->capture_block_limit ||
	    st->state_corrupt)
		fprintf(f, "  inputs: damaged (read up to the damage) %" PRIu64 ", packets filtered "
		        "by --bpf %" PRIu64 ", pcapng block limit %" PRIu64 ", state files set aside %"
		        PRIu64 " (lines not read %" PRIu64 ")\n", st->capture_damaged,
		        st->capture_filtered, st->capture_block_limit, st->state_corrupt,
		        st->state_lines_bad);
}

static void print_limits(const struct cs_stats *st, FILE *f)
{
	fprintf(f, "  limits: flows evicted %" PRIu64 ", flow memcap %" PRIu64
	        ", memcap %" PRIu64 ", out-of-order segments %" PRIu64
	        ", handshake size %" PRIu64 ", certificates dropped %" PRIu64
	        ", certificate size %" PRIu64 ", no handshake found %" PRIu64 "\n",
	        st->flows_evicted, st->reasm_flow_memcap, st->reasm_total_memcap,
	        st->reasm_ooo_limit, st->tls_hs_too_big, st->tls_certs_dropped,
	        st->tls_cert_too_big, st->prehs_limit);
	fprintf(f, "  chain cache: hits %" PRIu64 ", misses %" PRIu64 ", evicted %" PRIu64 "\n",
	        st->chain_cache_hits, st->chain_cache_misses, st->chain_cache_evictions);
}

static void print_stream(const struct cs_stats *st, FILE *f)
{
	fprintf(f, "  stream: gaps %" PRIu64 ", overlaps %" PRIu64 " (different data %"
	        PRIu64 "), mid-stream pick-ups %" PRIu64 ", invalid checksums %" PRIu64
	        " (not trusted %" PRIu64 "), fragments reassembled %" PRIu64
	        " (overlapping %" PRIu64 ", timed out %" PRIu64 ", dropped %" PRIu64
	        "), decode errors %" PRIu64
	        ", unparsable certificates %" PRIu64 ", peak flow memory %" PRIu64 "\n",
	        st->reasm_gap, st->reasm_overlap, st->reasm_overlap_diff,
	        st->midstream_pickups, st->tcp_invalid_checksum,
	        st->tcp_checksum_ignored, st->frag_reassembled, st->frag_overlap,
	        st->frag_timeout, st->frag_limit + st->frag_bad,
	        st->decode_err, st->certs_unparsable, st->mem_peak);
	fprintf(f, "  tcp: bad-checksum copies %" PRIu64 " (replaced by a valid copy %" PRIu64
	        ", used when acknowledged %" PRIu64 ", different data %" PRIu64
	        ", dropped at a limit %" PRIu64 "), RST/FIN not believed %" PRIu64
	        ", closed in grace %" PRIu64 ", port reuse %" PRIu64
	        " (new SYN mid-handshake ignored %" PRIu64 "), SYN-ACK ISNs differing %" PRIu64
	        " (client took another %" PRIu64 ")\n",
	        st->reasm_tentative, st->reasm_tentative_replaced,
	        st->reasm_tentative_used, st->reasm_tentative_diff,
	        st->reasm_tentative_dropped, st->tcp_end_ignored,
	        st->flows_close_grace, st->tcp_port_reuse, st->tcp_syn_ignored,
	        st->tcp_synack_isn_differ, st->tcp_synack_isn_switch);
}

/* The first lines: what was read, then the facts a SOC acts on (how many
 * handshakes at protected assets went unchecked and why; checksum
 * offload), before the detail. */
static void print_top(const struct summary_in *in, FILE *f)
{
	const struct cs_stats *st = in->st;

	fprintf(f, "certsentry: %" PRIu64 " packets, %" PRIu64 " flows, %" PRIu64
	        " handshakes, %" PRIu64 " certificates, %" PRIu64 " alerts\n",
	        st->pkts, st->flows_total, stats_handshakes(st), st->certs_seen, in->alerts);
	if (in->cov)
		coverage_print_fact(in->cov, in->owners, f);
	print_checksums(st, f);
}

void summary_print(const struct summary_in *in, FILE *f)
{
	print_top(in, f);
	print_head(in, f);
	print_feed(in, f);
	if (in->dl)
		output_delivery_print(in->dl, f);
	print_queue(in->st, f);
	print_inputs(in->st, f);
	print_limits(in->st, f);
	print_stream(in->st, f);
	print_quic(in->st, f);
	print_keylog(in, f);
	print_fingerprints(in, f);
	if (in->cov)
		coverage_print(in->cov, f);
}
