/*
 * stats_def.h - every counter, defined once (X-macros; include stats.h,
 * not this file).  From these two lists come the fields of struct
 * cs_stats (stats.h), stats_add, the EVE stats event (eve_stats.c) and the
 * --metrics file (metrics.c); the summary reads the same struct.
 *
 * CS_STATS_ROWS is in the order of the EVE stats event: eve_stats.c walks
 * it, opening and closing JSON objects as the EVE paths go (keys between
 * slashes), so the event's keys and nesting are exactly this list.  Every
 * key is snake_case, [a-z0-9_]+, as Suricata's counters are, so that
 * Elasticsearch indexes it as it is (test_metrics and t_stats_keys.sh
 * check).  A path is NULL when a
 * counter is only a metric (the EVE event never had it: adding it would
 * change the event for every consumer).  The rows:
 *   S(field, eve, family, value)     a counter: uint64_t field; exported
 *                                    as metric family (a name of
 *                                    CS_METRIC_FAMILIES), with label value
 *                                    value when the family has a label
 *   A(field, n)                      an array of counters, uint64_t field[n]
 *   E(field, i, eve, family, value)  ... its element i, as S
 *   U(field, i)                      ... its element i, never counted
 *   V(eve, field)                    the EVE event shows a counter a second
 *                                    time (Suricata has it in two places)
 *   P(eve, part)                     a structured part of the EVE event,
 *                                    written by eve_stats.c (part names its
 *                                    case there)
 * Every counter has a metric: the family argument is an identifier that
 * must name a family below, or nothing compiles; test_metrics checks the
 * rest (each slot of the struct once, labels, paths).
 *
 * CS_METRIC_FAMILIES is in the order of the --metrics file: F(name, kind,
 * label, help), name without certsentry_ (counters end in _total), kind
 * COUNTER or GAUGE, label the label name or NULL.  Within a family the
 * samples follow CS_STATS_ROWS.
 */
#ifndef CS_STATS_DEF_H
#define CS_STATS_DEF_H

#define CS_STATS_ROWS(S, A, E, U, V, P) \
	P("stats/uptime", uptime) \
	P("stats/capture", capture) /* live capture: the kernel's counters */ \
	/* capture / decode */ \
	S(pkts, "stats/decoder/pkts", packets_total, NULL) \
	S(bytes, "stats/decoder/bytes", bytes_total, NULL) \
	/* truncated or malformed headers */ \
	S(decode_err, "stats/decoder/invalid", decode_errors_total, "malformed") \
	/* not IP/TCP, unknown ethertype etc. */ \
	S(decode_unsupported, NULL, decode_errors_total, "unsupported") \
	S(ipv4, "stats/decoder/ipv4", decoder_headers_total, "ipv4") \
	S(ipv6, "stats/decoder/ipv6", decoder_headers_total, "ipv6") \
	S(tcp, "stats/decoder/tcp", decoder_headers_total, "tcp") \
	S(udp, "stats/decoder/udp", decoder_headers_total, "udp") \
	S(vlan, "stats/decoder/vlan", decoder_headers_total, "vlan") \
	S(pppoe, "stats/decoder/pppoe", decoder_headers_total, "pppoe") \
	S(mpls, "stats/decoder/mpls", decoder_headers_total, "mpls") \
	S(tunnel, NULL, decoder_headers_total, "tunnel") \
	S(gre, "stats/decoder/gre", decoder_headers_total, "gre") \
	S(erspan, "stats/decoder/erspan", decoder_headers_total, "erspan") \
	S(vxlan, "stats/decoder/vxlan", decoder_headers_total, "vxlan") \
	S(geneve, "stats/decoder/geneve", decoder_headers_total, "geneve") \
	P("stats/decoder/avg_pkt_size", avg_pkt_size) \
	S(ipv4_frag, NULL, ip_fragments_total, "ipv4") \
	S(ipv6_frag, NULL, ip_fragments_total, "ipv6") \
	S(frag_overlap, NULL, ip_fragments_overlapping_total, NULL) /* first kept */ \
	S(frag_timeout, NULL, ip_datagrams_timed_out_total, NULL) \
	S(frag_bad, NULL, ip_datagrams_impossible_total, NULL) \
	/* flows */ \
	S(flows_total, "stats/flow/total", flows_total, NULL) \
	S(flows_active, "stats/flow/active", flows_active, NULL) \
	S(mem_in_use, "stats/flow/memuse", flow_memory_bytes, NULL) \
	S(mem_peak, NULL, flow_memory_peak_bytes, NULL) \
	S(flows_closed, NULL, flows_ended_total, "closed") \
	S(flows_timeout, NULL, flows_ended_total, "timeout") \
	S(flows_ignored, NULL, flows_ignored_total, NULL) /* not an inspected port */ \
	/* reassembly */ \
	S(reasm_gap, "stats/tcp/reassembly_gap", tcp_reassembly_gaps_total, NULL) \
	S(reasm_overlap, "stats/tcp/overlap", tcp_overlaps_total, NULL) \
	S(reasm_overlap_diff, "stats/tcp/overlap_diff_data", tcp_overlaps_different_data_total, NULL) \
	S(tcp_invalid_checksum, "stats/tcp/invalid_checksum", tcp_invalid_checksum_total, NULL) \
	/* checked and right: with the bad ones, how many were checked (the \
	 * summary's offload hint) */ \
	S(tcp_valid_checksum, NULL, tcp_valid_checksum_total, NULL) \
	S(midstream_pickups, "stats/tcp/midstream_pickups", midstream_pickups_total, NULL) \
	V("stats/tcp/reassembly_memuse", mem_in_use) \
	S(reasm_retrans, NULL, tcp_retransmissions_total, NULL) \
	S(reasm_ooo_queued, NULL, tcp_out_of_order_segments_total, NULL) \
	/* tls: index tls_version_index(), 0..6; keys and label values in \
	 * snake_case as Suricata's counters, never "TLS 1.2" (a SIEM splits \
	 * a key at its dot) */ \
	A(hs_by_version, 8) \
	E(hs_by_version, 0, "certsentry/handshakes/ssl_2", handshakes_total, "ssl_2") \
	E(hs_by_version, 1, "certsentry/handshakes/ssl_3", handshakes_total, "ssl_3") \
	E(hs_by_version, 2, "certsentry/handshakes/tls_1_0", handshakes_total, "tls_1_0") \
	E(hs_by_version, 3, "certsentry/handshakes/tls_1_1", handshakes_total, "tls_1_1") \
	E(hs_by_version, 4, "certsentry/handshakes/tls_1_2", handshakes_total, "tls_1_2") \
	E(hs_by_version, 5, "certsentry/handshakes/tls_1_3", handshakes_total, "tls_1_3") \
	E(hs_by_version, 6, "certsentry/handshakes/other", handshakes_total, "other") \
	U(hs_by_version, 7) \
	S(certs_seen, "certsentry/certificates", certificates_total, NULL) \
	S(certs_unparsable, "certsentry/certificates_unparsable", certificates_unparsable_total, NULL) \
	/* chains parsed and checked before; new chains (parsed, then kept) */ \
	S(chain_cache_hits, "certsentry/chain_cache_hits", chain_cache_lookups_total, "hit") \
	S(chain_cache_misses, "certsentry/chain_cache_misses", chain_cache_lookups_total, "miss") \
	/* TLS 1.3: certificates encrypted, read, no key log secret; server \
	 * records decrypted, failed authentication (never parsed) */ \
	S(hs_tls13, "certsentry/tls13_certificates_encrypted", tls13_certificates_encrypted_total, NULL) \
	S(hs_tls13_decrypted, "certsentry/tls13_decrypted", tls13_decrypted_total, NULL) \
	S(tls13_no_key, "certsentry/tls13_no_key", tls13_no_key_total, NULL) \
	S(tls13_records, "certsentry/tls13_records_decrypted", tls13_records_decrypted_total, NULL) \
	S(tls13_auth_fail, "certsentry/tls13_auth_failures", tls13_authentication_failures_total, NULL) \
	/* TLS 1.3 fingerprints against the baseline */ \
	S(fp_match, "certsentry/fingerprint_matched", fingerprint_checks_total, "matched") \
	S(fp_changed, "certsentry/fingerprint_changed", fingerprint_checks_total, "changed") \
	S(fp_no_baseline, "certsentry/fingerprint_no_baseline", fingerprint_checks_total, "no_baseline") \
	S(fp_learned, "certsentry/fingerprint_learned", fingerprints_learned_total, NULL) \
	S(hs_resumed, "certsentry/resumed", handshakes_resumed_total, NULL) \
	S(hs_incomplete, "certsentry/incomplete", handshakes_incomplete_total, NULL) \
	S(frag_reassembled, "certsentry/fragments_reassembled", ip_datagrams_reassembled_total, NULL) \
	/* bad-checksum segments not trusted, kept as tentative copies; a valid \
	 * copy of their bytes came; acknowledged with no valid copy: used; \
	 * bytes differed from the valid copy; not kept (limit) */ \
	S(tcp_checksum_ignored, "certsentry/checksum_not_trusted", tcp_checksum_not_trusted_total, NULL) \
	S(reasm_tentative, "certsentry/tentative_copies", tcp_tentative_copies_total, NULL) \
	S(reasm_tentative_replaced, "certsentry/tentative_replaced", tcp_tentative_replaced_total, NULL) \
	S(reasm_tentative_used, "certsentry/tentative_used", tcp_tentative_used_total, NULL) \
	S(reasm_tentative_diff, "certsentry/tentative_different", tcp_tentative_different_total, NULL) \
	S(reasm_tentative_dropped, "certsentry/tentative_dropped", limit_hits_total, "tentative-copies") \
	/* RST/FIN not believed (checksum, window); undecided flows that a \
	 * RST/FIN closed, read in grace */ \
	S(tcp_end_ignored, "certsentry/end_not_believed", tcp_ends_not_believed_total, NULL) \
	S(flows_close_grace, "certsentry/closed_in_grace", flows_closed_in_grace_total, NULL) \
	/* a SYN with a new ISN started a new flow; ... not believed; SYN-ACKs \
	 * with different ISNs; the client took another than the last */ \
	S(tcp_port_reuse, "certsentry/port_reuse", tcp_port_reuse_total, NULL) \
	S(tcp_syn_ignored, "certsentry/syn_mid_handshake_ignored", tcp_syns_ignored_total, NULL) \
	S(tcp_synack_isn_differ, "certsentry/synack_isn_differ", tcp_synack_isn_differ_total, NULL) \
	S(tcp_synack_isn_switch, "certsentry/synack_isn_switch", tcp_synack_isn_switch_total, NULL) \
	/* QUIC (transport/quic): packets by what became of them; Retry and \
	 * Version Negotiation; CRYPTO stream copies that differed */ \
	S(quic_flows, "certsentry/quic/flows", quic_flows_total, NULL) \
	S(quic_pkt_opened, "certsentry/quic/packets_opened", quic_packets_total, "opened") \
	S(quic_pkt_auth_fail, "certsentry/quic/auth_failures", quic_packets_total, "auth-failed") \
	S(quic_pkt_no_key, "certsentry/quic/packets_no_key", quic_packets_total, "no-key") \
	S(quic_pkt_not_read, "certsentry/quic/packets_not_read", quic_packets_total, "not-read") \
	S(quic_pkt_malformed, "certsentry/quic/packets_malformed", quic_packets_total, "malformed") \
	S(quic_pkt_unsupported, "certsentry/quic/unsupported_version", quic_packets_total, "unsupported-version") \
	S(quic_retry, "certsentry/quic/retries", quic_packets_total, "retry") \
	S(quic_retry_ignored, "certsentry/quic/retries_ignored", quic_packets_total, "retry-ignored") \
	S(quic_vn, "certsentry/quic/version_negotiations", quic_packets_total, "version-negotiation") \
	S(quic_frames_malformed, "certsentry/quic/frames_malformed", quic_frames_malformed_total, NULL) \
	S(quic_crypto_overlap, "certsentry/quic/crypto_overlap", quic_crypto_overlaps_total, NULL) \
	/* the server's Handshake packets without a key that were too short \
	 * for more than an ACK or PING: left out of the flight's fingerprint */ \
	S(quic_flight_control_only, "certsentry/quic/flight_control_only", \
	  quic_flight_control_only_total, NULL) \
	S(quic_crypto_overlap_diff, "certsentry/quic/crypto_overlap_diff_data", quic_crypto_overlaps_different_data_total, NULL) \
	/* limits hit, named in metrics as the option that sets each */ \
	S(flows_evicted, "certsentry/limits/flows_evicted", limit_hits_total, "max-flows") \
	S(reasm_flow_memcap, "certsentry/limits/flow_memcap", limit_hits_total, "flow-memcap") \
	S(reasm_total_memcap, "certsentry/limits/memcap", limit_hits_total, "memcap") \
	S(quic_held_limit, "certsentry/limits/quic_held", limit_hits_total, "quic-held") \
	S(reasm_ooo_limit, "certsentry/limits/ooo_segments", limit_hits_total, "max-ooo-segments") \
	S(tls_hs_too_big, "certsentry/limits/handshake_size", limit_hits_total, "max-handshake") \
	S(tls_certs_dropped, "certsentry/limits/certificates_dropped", limit_hits_total, "max-certs") \
	S(tls_cert_too_big, "certsentry/limits/certificate_size", limit_hits_total, "max-cert-size") \
	/* max_prehs_bytes, no handshake found */ \
	S(prehs_limit, "certsentry/limits/prehandshake", limit_hits_total, "max-prehandshake") \
	/* max_frag_dgrams, frag_memcap, pieces */ \
	S(frag_limit, "certsentry/limits/fragments", limit_hits_total, "frag-memcap") \
	/* QUIC: CRYPTO data past the gap window, past a stream's byte limit, \
	 * more held pieces than CS_QUIC_CRYPTO_RANGES; packets past \
	 * CS_QUIC_MAX_COALESCED in one datagram */ \
	S(quic_crypto_gap_limit, "certsentry/limits/quic_crypto_gap", limit_hits_total, "quic-crypto-gap") \
	S(quic_crypto_max_limit, "certsentry/limits/quic_crypto_bytes", limit_hits_total, "quic-crypto-max") \
	S(quic_crypto_ranges_limit, "certsentry/limits/quic_crypto_ranges", limit_hits_total, "quic-crypto-ranges") \
	S(quic_coalesced_limit, "certsentry/limits/quic_coalesced", limit_hits_total, "quic-coalesced") \
	S(chain_cache_evictions, "certsentry/limits/chain_cache_evictions", limit_hits_total, "chain-cache") \
	/* max_alert_keys: the oldest window closed early */ \
	S(dedup_evicted, "certsentry/limits/alert_keys", limit_hits_total, "max-alert-keys") \
	S(evidence_budget, "certsentry/limits/evidence_bytes", limit_hits_total, "evidence-bytes") \
	/* queue full, a non-alert line dropped */ \
	S(output_dropped, NULL, limit_hits_total, "output-queue") \
	/* CS_PCAPNG_MAX_BLOCK, CS_PCAPNG_MAX_IFACES */ \
	S(capture_block_limit, NULL, limit_hits_total, "pcapng-block") \
	S(tls_not_tls, NULL, not_tls_flows_total, NULL) \
	S(tls_parse_err, NULL, tls_parse_errors_total, NULL) \
	S(tls_sslv2_hello, NULL, tls_sslv2_hellos_total, NULL) \
	/* RFC 8879 CompressedCertificate read, index the algorithm - 1 \
	 * (tls_int.h CERTCOMP_*); metrics only: the stats event is \
	 * Suricata's schema */ \
	A(tls_certcomp, 3) \
	E(tls_certcomp, 0, NULL, tls_compressed_certificates_total, "zlib") \
	E(tls_certcomp, 1, NULL, tls_compressed_certificates_total, "brotli") \
	E(tls_certcomp, 2, NULL, tls_compressed_certificates_total, "zstd") \
	/* ... and not read, by why */ \
	S(tls_certcomp_not_offered, NULL, tls_compressed_certificate_errors_total, "not-offered") \
	S(tls_certcomp_bomb, NULL, tls_compressed_certificate_errors_total, "bomb") \
	S(tls_certcomp_length, NULL, tls_compressed_certificate_errors_total, "length-mismatch") \
	S(tls_certcomp_corrupt, NULL, tls_compressed_certificate_errors_total, "corrupt") \
	/* policy / output */ \
	S(alerts, "certsentry/alerts", alerts_decided_total, NULL) \
	P("certsentry/alerts_by_owner", alerts_by_owner) \
	/* the alert feed (dedup.h, --tls-log, --cert-log, --evidence) */ \
	S(alerts_repeated, "certsentry/alert_repeats", alert_repeats_total, NULL) \
	S(alert_followups, "certsentry/alert_followups", alert_followups_total, NULL) \
	S(tls_events_skipped, "certsentry/tls_events_not_written", tls_events_not_written_total, NULL) \
	S(certs_brief, "certsentry/chains_by_sha256_only", chains_by_sha256_only_total, NULL) \
	S(evidence_written, "certsentry/evidence_written", evidence_written_total, NULL) \
	S(capture_damaged, "certsentry/inputs_damaged", inputs_damaged_total, NULL) \
	S(capture_filtered, "certsentry/packets_filtered", packets_filtered_total, NULL) \
	/* --state files that could not be read whole: set aside; their lines \
	 * not loaded (damaged, or the oldest past --max-alert-keys) */ \
	S(state_corrupt, "certsentry/state_files_set_aside", state_files_set_aside_total, NULL) \
	S(state_lines_bad, "certsentry/state_lines_not_read", state_lines_not_read_total, NULL) \
	S(output_err, "certsentry/output_errors", output_write_errors_total, NULL) \
	/* output consumers (see the comment at the top of output.c) */ \
	S(events, NULL, events_total, NULL) \
	S(output_retries, NULL, output_retries_total, NULL) \
	S(output_queued, NULL, output_lines_queued_total, NULL) \
	S(output_queue_peak, NULL, output_queue_peak_lines, NULL) \
	S(output_alerts_stderr, NULL, output_alerts_to_stderr_total, NULL) \
	S(output_disconnects, NULL, output_disconnects_total, NULL) \
	S(output_reconnects, NULL, output_reconnects_total, NULL) \
	/* CT logs followed (--ct-follow) */ \
	S(ct_requests, NULL, ct_requests_total, NULL) \
	S(ct_http_errors, NULL, ct_request_failures_total, "error") \
	S(ct_rate_limited, NULL, ct_request_failures_total, "rate_limited") \
	S(ct_entries, NULL, ct_entries_total, NULL) \
	S(ct_heads_verified, NULL, ct_heads_verified_total, NULL) \
	S(ct_log_alerts, NULL, ct_log_alerts_total, NULL) \
	P("certsentry/delivery", delivery) \
	P("certsentry/coverage", coverage) \
	P("certsentry/ct_logs", ct_logs) /* --ct-follow only */

#define CS_METRIC_FAMILIES(F) \
	/* capture / decode */ \
	F(packets_total, COUNTER, NULL, "Packets read from the capture.") \
	F(bytes_total, COUNTER, NULL, "Bytes of the packets read.") \
	F(decode_errors_total, COUNTER, "kind", "Packets whose headers could not be decoded.") \
	F(decoder_headers_total, COUNTER, "header", "Headers decoded, by kind.") \
	F(ip_fragments_total, COUNTER, "family", "IP fragments seen.") \
	F(ip_datagrams_reassembled_total, COUNTER, NULL, "Datagrams rebuilt from fragments.") \
	F(ip_fragments_overlapping_total, COUNTER, NULL, \
	  "Fragments overlapping another (the first copy kept).") \
	F(ip_datagrams_timed_out_total, COUNTER, NULL, "Fragmented datagrams dropped incomplete.") \
	F(ip_datagrams_impossible_total, COUNTER, NULL, \
	  "Fragmented datagrams beyond 64 KiB or with an inconsistent end.") \
	F(inputs_damaged_total, COUNTER, NULL, \
	  "Capture files or streams read up to damage (cut short, a bad block).") \
	F(packets_filtered_total, COUNTER, NULL, "Frames of capture files the --bpf filter rejected.") \
	/* flows */ \
	F(flows_total, COUNTER, NULL, "Flows followed (TCP, and QUIC over UDP).") \
	F(quic_flows_total, COUNTER, NULL, "QUIC connections followed (a client Initial seen).") \
	F(flows_active, GAUGE, NULL, "TCP flows followed now.") \
	F(flows_ended_total, COUNTER, "how", "Flows that ended, by how.") \
	F(flows_ignored_total, COUNTER, NULL, "Flows on ports that are not inspected.") \
	F(midstream_pickups_total, COUNTER, NULL, "Flows picked up without their start.") \
	F(flows_closed_in_grace_total, COUNTER, NULL, \
	  "Undecided flows closed by a RST or FIN, read for --close-grace after it.") \
	F(tcp_ends_not_believed_total, COUNTER, NULL, \
	  "RST or FIN segments not believed (checksum, window).") \
	F(tcp_port_reuse_total, COUNTER, NULL, "SYNs with a new ISN that started a new flow.") \
	F(tcp_syns_ignored_total, COUNTER, NULL, "SYNs with a new ISN mid-handshake, not believed.") \
	F(tcp_synack_isn_differ_total, COUNTER, NULL, \
	  "SYN-ACKs whose ISN differs from an earlier one.") \
	F(tcp_synack_isn_switch_total, COUNTER, NULL, \
	  "Flows where the client acknowledged another SYN-ACK than the last.") \
	/* reassembly */ \
	F(tcp_reassembly_gaps_total, COUNTER, NULL, "Gaps in a handshake's byte stream.") \
	F(tcp_overlaps_total, COUNTER, NULL, "Overlapping TCP segments.") \
	F(tcp_overlaps_different_data_total, COUNTER, NULL, \
	  "Overlapping TCP segments whose bytes differed.") \
	F(tcp_retransmissions_total, COUNTER, NULL, "Retransmitted TCP segments.") \
	F(tcp_invalid_checksum_total, COUNTER, NULL, "Handshake segments with a bad TCP checksum.") \
	F(tcp_valid_checksum_total, COUNTER, NULL, \
	  "Segments whose TCP checksum was checked and right (handshakes, SYN, FIN, RST).") \
	F(tcp_checksum_not_trusted_total, COUNTER, NULL, \
	  "Bad-checksum segments not trusted (kept as tentative copies).") \
	F(tcp_tentative_copies_total, COUNTER, NULL, "Bad-checksum segments kept tentatively.") \
	F(tcp_tentative_replaced_total, COUNTER, NULL, \
	  "Tentative copies replaced by a valid copy of their bytes.") \
	F(tcp_tentative_used_total, COUNTER, NULL, \
	  "Tentative copies used: acknowledged by the receiver, no valid copy came.") \
	F(tcp_tentative_different_total, COUNTER, NULL, \
	  "Tentative copies whose bytes differed from the valid copy.") \
	F(tcp_out_of_order_segments_total, COUNTER, NULL, "Out-of-order segments queued.") \
	F(flow_memory_bytes, GAUGE, NULL, "Memory charged to --memcap now.") \
	F(flow_memory_peak_bytes, GAUGE, NULL, "Most memory charged to --memcap at one time.") \
	F(limit_hits_total, COUNTER, "limit", \
	  "Times a limit was hit, by the option that sets it (what it cost is in the README).") \
	/* tls */ \
	F(not_tls_flows_total, COUNTER, NULL, "Flows on inspected ports that did not speak TLS.") \
	F(tls_parse_errors_total, COUNTER, NULL, "Malformed TLS records or handshake messages.") \
	F(tls_sslv2_hellos_total, COUNTER, NULL, "SSLv2-format ClientHellos.") \
	F(tls_compressed_certificates_total, COUNTER, "algorithm", \
	  "TLS 1.3 compressed certificates (RFC 8879) decompressed, by algorithm.") \
	F(tls_compressed_certificate_errors_total, COUNTER, "reason", \
	  "Compressed certificates not read, by why (a bomb: over max-handshake or memory).") \
	F(handshakes_total, COUNTER, "version", "Handshakes seen, by the version the server chose.") \
	F(tls13_certificates_encrypted_total, COUNTER, NULL, \
	  "TLS 1.3 handshakes, whose certificates are encrypted.") \
	F(handshakes_resumed_total, COUNTER, NULL, "Resumed handshakes (no certificate sent).") \
	F(handshakes_incomplete_total, COUNTER, NULL, "Handshakes that ended early.") \
	F(tls13_decrypted_total, COUNTER, NULL, \
	  "TLS 1.3 handshakes whose certificates were decrypted with a key log.") \
	F(tls13_records_decrypted_total, COUNTER, NULL, "TLS 1.3 server records decrypted.") \
	F(tls13_authentication_failures_total, COUNTER, NULL, \
	  "TLS 1.3 records that failed authentication (never parsed).") \
	F(tls13_no_key_total, COUNTER, NULL, "TLS 1.3 handshakes the key log had no secret for.") \
	F(fingerprint_checks_total, COUNTER, "result", \
	  "TLS 1.3 fingerprints compared with the baseline, by result.") \
	F(fingerprints_learned_total, COUNTER, NULL, "TLS 1.3 fingerprints learned (--learn).") \
	F(certificates_total, COUNTER, NULL, "Certificates read from handshakes.") \
	F(certificates_unparsable_total, COUNTER, NULL, "Certificates OpenSSL could not parse.") \
	F(chain_cache_lookups_total, COUNTER, "result", \
	  "Chains looked up in the chain cache, by result.") \
	/* quic */ \
	F(quic_packets_total, COUNTER, "result", \
	  "QUIC packets (long header, or short header skipped), by what became of them.") \
	F(quic_frames_malformed_total, COUNTER, NULL, \
	  "Opened QUIC packets whose frames were malformed or not allowed (rest not read).") \
	F(quic_crypto_overlaps_total, COUNTER, NULL, "QUIC CRYPTO data received again.") \
	F(quic_flight_control_only_total, COUNTER, NULL, \
	  "Server QUIC Handshake packets without a key too short for more than an ACK or PING, " \
	  "left out of the flight's fingerprint.") \
	F(quic_crypto_overlaps_different_data_total, COUNTER, NULL, \
	  "QUIC CRYPTO data received again with different bytes (first copy kept).") \
	/* output */ \
	F(alerts_decided_total, COUNTER, NULL, \
	  "Alerts decided, sightings in an open window included (the sum of alerts_total).") \
	F(events_total, COUNTER, NULL, "EVE lines delivered.") \
	F(output_write_errors_total, COUNTER, NULL, "Lines that could not be written.") \
	F(output_retries_total, COUNTER, NULL, "File writes that failed and were tried again.") \
	F(output_lines_queued_total, COUNTER, NULL, "Lines a consumer could not take at once.") \
	F(output_queue_peak_lines, GAUGE, NULL, "Most lines queued at one time.") \
	F(output_alerts_to_stderr_total, COUNTER, NULL, \
	  "Alerts the output could not take, written to standard error.") \
	F(output_disconnects_total, COUNTER, NULL, "Times a consumer was found gone.") \
	F(output_reconnects_total, COUNTER, NULL, "Times a consumer was connected to again.") \
	/* CT logs followed */ \
	F(ct_requests_total, COUNTER, NULL, "HTTP requests made to CT logs.") \
	F(ct_request_failures_total, COUNTER, "reason", \
	  "CT log requests that failed (asked again after a back-off).") \
	F(ct_entries_total, COUNTER, NULL, "CT log entries proved in a signed tree and judged.") \
	F(ct_heads_verified_total, COUNTER, NULL, \
	  "CT log heads whose signature and consistency were verified.") \
	F(ct_log_alerts_total, COUNTER, NULL, "CT logs caught misbehaving (their own alerts).") \
	/* the alert feed */ \
	F(alert_repeats_total, COUNTER, NULL, "Sightings of an alert in its open window.") \
	F(alert_followups_total, COUNTER, NULL, "alert_repeat events written.") \
	F(tls_events_not_written_total, COUNTER, NULL, "tls events not written (--tls-log).") \
	F(chains_by_sha256_only_total, COUNTER, NULL, \
	  "tls events naming their chain by SHA-256 only (--cert-log once).") \
	F(evidence_written_total, COUNTER, NULL, "Chains written to --evidence.") \
	F(state_files_set_aside_total, COUNTER, NULL, \
	  "--state files that could not be read whole, moved aside (FILE.corrupt-TIME).") \
	F(state_lines_not_read_total, COUNTER, NULL, \
	  "Lines of those files not loaded: damaged, or the oldest past --max-alert-keys.")

#endif
