/*
 * eve_stats.c - the EVE stats event (see include/eve_stats.h).
 */
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "eve_stats.h"
#include "output.h"
#include "tls.h"

static void put(json_t *o, const char *k, uint64_t v)
{
	json_object_set_new(o, k, json_integer((json_int_t)v));
}

static json_t *capture_obj(const struct eve_stats_input *in)
{
	json_t *o = json_object();

	put(o, "kernel_packets", in->kernel_packets);
	put(o, "kernel_drops", in->kernel_drops);
	put(o, "kernel_ifdrops", in->kernel_ifdrops);
	return o;
}

static json_t *decoder_obj(const struct cs_stats *st)
{
	json_t *o = json_object();

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
	return o;
}

static json_t *flow_obj(const struct cs_stats *st)
{
	json_t *o = json_object();

	put(o, "total", st->flows_total);
	put(o, "active", st->flows_active);
	put(o, "memuse", st->mem_in_use);
	return o;
}

static json_t *tcp_obj(const struct cs_stats *st)
{
	json_t *o = json_object();

	put(o, "reassembly_gap", st->reasm_gap);
	put(o, "overlap", st->reasm_overlap);
	put(o, "overlap_diff_data", st->reasm_overlap_diff);
	put(o, "invalid_checksum", st->tcp_invalid_checksum);
	put(o, "midstream_pickups", st->midstream_pickups);
	put(o, "reassembly_memuse", st->mem_in_use);
	return o;
}

static json_t *limits_obj(const struct cs_stats *st)
{
	json_t *o = json_object();

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
	return o;
}

static json_t *certsentry_obj(const struct eve_stats_input *in)
{
	static const uint16_t versions[] = { 0x0002, 0x0300, 0x0301, 0x0302, 0x0303, 0x0304 };
	const struct cs_stats *st = in->st;
	json_t *o = json_object(), *hs = json_object(), *alerts = json_array();

	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++)
		put(hs, tls_version_name(versions[i]), st->hs_by_version[i]);
	put(hs, "other", st->hs_by_version[6]);
	json_object_set_new(o, "handshakes", hs);
	put(o, "certificates", st->certs_seen);
	put(o, "certificates_unparsable", st->certs_unparsable);
	put(o, "chain_cache_hits", st->chain_cache_hits);
	put(o, "chain_cache_misses", st->chain_cache_misses);
	put(o, "tls13_certificates_encrypted", st->hs_tls13);
	put(o, "resumed", st->hs_resumed);
	put(o, "incomplete", st->hs_incomplete);
	put(o, "fragments_reassembled", st->frag_reassembled);
	put(o, "checksum_not_trusted", st->tcp_checksum_ignored);
	json_object_set_new(o, "limits", limits_obj(st));
	put(o, "alerts", st->alerts);
	for (size_t i = 0; i < in->n_alerts; i++) {
		json_t *a = json_object();

		json_object_set_new(a, "owner", json_string(in->alerts[i].owner));
		json_object_set_new(a, "verdict", json_string(verdict_name(in->alerts[i].verdict)));
		put(a, "count", in->alerts[i].n);
		json_array_append_new(alerts, a);
	}
	json_object_set_new(o, "alerts_by_owner", alerts);
	put(o, "output_errors", st->output_err);
	return o;
}

char *eve_stats_line(const struct eve_stats_input *in)
{
	json_t *ev = json_object(), *stats = json_object();
	char ts[OUTPUT_TS_LEN], *line;

	output_format_ts(in->ts_us, ts);
	json_object_set_new(ev, "timestamp", json_string(ts));
	json_object_set_new(ev, "event_type", json_string("stats"));
	put(stats, "uptime", in->uptime_s);
	if (in->have_kernel)
		json_object_set_new(stats, "capture", capture_obj(in));
	json_object_set_new(stats, "decoder", decoder_obj(in->st));
	json_object_set_new(stats, "flow", flow_obj(in->st));
	json_object_set_new(stats, "tcp", tcp_obj(in->st));
	json_object_set_new(ev, "stats", stats);
	json_object_set_new(ev, "certsentry", certsentry_obj(in));
	line = json_dumps(ev, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(ev);
	return line;
}
