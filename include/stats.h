/*
 * stats.h - counters.  Every limit hit, every error on hostile input and
 * every event is counted here; the summary and the EVE stats events read
 * them.  One instance per thread: each live-capture worker counts in its
 * own (no lock, no shared cache line on the packet path) and publishes a
 * copy that the stats event sums (stats_add).
 */
#ifndef CS_STATS_H
#define CS_STATS_H

#include <stdint.h>
#include <stdio.h>

struct cs_stats {
	/* capture / decode */
	uint64_t pkts, bytes;
	uint64_t decode_err;        /* truncated or malformed headers */
	uint64_t decode_unsupported;/* not IP/TCP, unknown ethertype etc. */
	uint64_t vlan, ipv4, ipv6, tcp, pppoe, mpls, tunnel;
	uint64_t gre, erspan, vxlan, geneve; /* headers seen, per encapsulation */
	uint64_t ipv4_frag, ipv6_frag; /* fragments seen */
	uint64_t frag_reassembled;  /* datagrams rebuilt */
	uint64_t frag_overlap;      /* fragments overlapping another (first kept) */
	uint64_t frag_timeout;      /* datagrams dropped incomplete */
	uint64_t frag_limit;        /* limit: max_frag_dgrams, frag_memcap, pieces */
	uint64_t frag_bad;          /* impossible: beyond 64 KB, inconsistent end */
	uint64_t capture_damaged;   /* inputs read up to damage (cut, bad block...) */
	uint64_t capture_block_limit; /* limit: CS_PCAPNG_MAX_BLOCK, CS_PCAPNG_MAX_IFACES */
	uint64_t capture_filtered;  /* frames of files the --bpf filter rejected */
	/* flows */
	uint64_t flows_total, flows_active, flows_closed, flows_timeout;
	uint64_t flows_evicted;     /* limit: max_flows */
	uint64_t flows_ignored;     /* not an inspected port */
	uint64_t midstream_pickups;
	uint64_t flows_close_grace;  /* undecided flows that a RST/FIN closed: grace */
	uint64_t tcp_end_ignored;    /* RST/FIN not believed (checksum, window) */
	uint64_t tcp_port_reuse;     /* a SYN with a new ISN started a new flow */
	uint64_t tcp_syn_ignored;    /* ... not believed, mid-handshake */
	uint64_t tcp_synack_isn_differ; /* SYN-ACKs with different ISNs */
	uint64_t tcp_synack_isn_switch; /* ... the client took another than the last */
	/* reassembly */
	uint64_t reasm_gap;
	uint64_t reasm_overlap, reasm_overlap_diff;
	uint64_t reasm_retrans;
	uint64_t tcp_invalid_checksum;  /* segments of handshakes with a bad checksum */
	uint64_t tcp_checksum_ignored;  /* ... not trusted: kept as tentative copies */
	uint64_t reasm_tentative;        /* bad-checksum segments kept tentatively */
	uint64_t reasm_tentative_replaced;/* ... a valid copy of their bytes came */
	uint64_t reasm_tentative_used;   /* ... acknowledged, no valid copy: used */
	uint64_t reasm_tentative_diff;   /* ... whose bytes differed from the valid copy */
	uint64_t reasm_tentative_dropped;/* limit: max_ooo_segs or memcaps, not kept */
	uint64_t reasm_ooo_queued;
	uint64_t reasm_ooo_limit;   /* limit: max_ooo_segs */
	uint64_t reasm_flow_memcap; /* limit: flow_memcap */
	uint64_t reasm_total_memcap;/* limit: total_memcap */
	uint64_t mem_in_use, mem_peak;
	uint64_t prehs_limit;       /* limit: max_prehs_bytes, no handshake found */
	/* tls */
	uint64_t tls_not_tls;
	uint64_t tls_parse_err;
	uint64_t tls_hs_too_big;    /* limit: max_hs_msg */
	uint64_t tls_certs_dropped; /* limit: max_certs */
	uint64_t tls_cert_too_big;  /* limit: max_cert_size */
	uint64_t tls_sslv2_hello;
	uint64_t hs_by_version[8];  /* index: tls_version_index() */
	uint64_t hs_tls13, hs_resumed, hs_incomplete;
	uint64_t hs_tls13_decrypted;   /* TLS 1.3 handshakes whose certificates were read */
	uint64_t tls13_records;        /* TLS 1.3 server records decrypted */
	uint64_t tls13_auth_fail;      /* ... that failed authentication (never parsed) */
	uint64_t tls13_no_key;         /* TLS 1.3 handshakes with no key log secret */
	uint64_t fp_match, fp_changed; /* TLS 1.3 fingerprints against the baseline */
	uint64_t fp_no_baseline;       /* ... of an endpoint the baseline lacks */
	uint64_t fp_learned;           /* ... learned (--learn) */
	uint64_t certs_seen, certs_unparsable;
	uint64_t chain_cache_hits;      /* chains parsed and checked before */
	uint64_t chain_cache_misses;    /* new chains (parsed, then kept) */
	uint64_t chain_cache_evictions; /* limit: chain_cache entries */
	/* policy / output */
	uint64_t alerts;
	uint64_t events;
	uint64_t output_err;
	/* output consumers (see the comment at the top of output.c) */
	uint64_t output_retries;       /* a file write failed and was tried again */
	uint64_t output_queued;        /* lines a socket could not take at once */
	uint64_t output_queue_peak;    /* most lines queued at one time */
	uint64_t output_dropped;       /* limit: queue full, non-alert line dropped */
	uint64_t output_alerts_stderr; /* alerts the sink could not take: on stderr */
	uint64_t output_disconnects;   /* socket consumer found gone */
	uint64_t output_reconnects;    /* ... and connected to again */
	/* the alert feed (dedup.h, --tls-log, --cert-log, --evidence) */
	uint64_t alerts_repeated;      /* sightings in an open window: counted, not written */
	uint64_t alert_followups;      /* alert_repeat events written */
	uint64_t dedup_evicted;        /* limit: max_alert_keys, oldest window closed early */
	uint64_t tls_events_skipped;   /* tls events not written (--tls-log) */
	uint64_t certs_brief;          /* tls events naming a chain by SHA-256 only (--cert-log once) */
	uint64_t evidence_written;     /* chains written to --evidence (PEM and pcapng) */
	uint64_t evidence_budget;      /* limit: evidence_bytes, files not written */
	uint64_t state_corrupt;        /* --state files that could not be read whole: set aside */
	uint64_t state_lines_bad;      /* ... their lines not loaded (damaged, or the oldest
	                                * past --max-alert-keys) */
};

extern _Thread_local struct cs_stats g_stats;

/* sum += one (every counter; the peaks are summed too, as an upper bound). */
void stats_add(struct cs_stats *sum, const struct cs_stats *one);

static inline void stats_mem_add(uint64_t n)
{
	g_stats.mem_in_use += n;
	if (g_stats.mem_in_use > g_stats.mem_peak)
		g_stats.mem_peak = g_stats.mem_in_use;
}

static inline void stats_mem_sub(uint64_t n)
{
	g_stats.mem_in_use -= n;
}

#endif
