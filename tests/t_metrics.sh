#!/usr/bin/env bash
# --metrics FILE (Prometheus text format, for node_exporter's textfile
# collector) over capture files, with the default options.  The file is read
# back with prometheus_client's own parser (tests/promcheck.py), not ours.
# Checks:
#   - the file parses, each family once, counters named *_total;
#   - alerts_total{owner,verdict} equals what the EVE file says (alert
#     events plus the sightings the alert_repeat follow-ups add), for 100
#     replays of the rogue handshake and the mixed capture;
#   - the counters equal the same counters of the EVE stats event written
#     by the same run, and events_total the lines of the EVE file;
#   - coverage per owner and asset, with a "not checked" row;
#   - the file replaces an older one whole, and nothing is left beside it;
#   - a directory that cannot be written is refused at start (exit 2).
# Live capture rewriting the file every --stats-interval is checked in
# t_live.sh (a reader never sees half a file).
set -u
cd "$(dirname "$0")/.."
bin=${CERTSENTRY:-./certsentry}
py=/usr/bin/python3
rules=pcaps/test.rules
$py -c 'import prometheus_client' 2>/dev/null ||
	{ echo "not ok metrics: python3-prometheus-client missing (tests/deps.sh test)"; exit 0; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

check() {   # check NAME STATUS [details]
	if [ "$2" -eq 0 ]; then echo "ok metrics $1"; else echo "not ok metrics $1 ${3:-}"; fi
}
get() { $py tests/promcheck.py "$tmp/m.prom" get "$@"; }

$py tests/mkreplay.py pcaps/fina-rogue-doh.pcap "$tmp/r100.pcap" 100
printf 'stale\n' > "$tmp/m.prom"
$bin -q -R "$rules" -r "$tmp/r100.pcap" -r pcaps/multi.pcap -o "$tmp/eve.json" \
	--stats-interval 60 --metrics "$tmp/m.prom" 2> "$tmp/err"; rc=$?
out=$($py tests/promcheck.py "$tmp/m.prom")
check "the file parses: $out" $(( rc != 1 )) "rc=$rc $out $(head -3 "$tmp/err")"

$py tests/promcheck.py "$tmp/m.prom" alerts | sort > "$tmp/alerts.prom"
$py tests/promcheck.py "$tmp/m.prom" eve "$tmp/eve.json" | sort > "$tmp/alerts.eve"
rogue=$(awk '$2 == "unapproved-issuer" {print $3}' "$tmp/alerts.prom")
cmp -s "$tmp/alerts.prom" "$tmp/alerts.eve"
check "alerts_total by owner and verdict as in the EVE file (unapproved-issuer $rogue)" \
	$(( $? || rogue < 100 )) "$(diff "$tmp/alerts.prom" "$tmp/alerts.eve" | head -5)"

# The same counters in the stats event of the same run.
grep '"event_type":"stats"' "$tmp/eve.json" | tail -1 > "$tmp/stats.json"
bad=""
while read -r path metric labels; do
	want=$($py -c 'import json, sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2].replace("~", " ").split("/"):
    v = v[k]
print(v)' "$tmp/stats.json" "$path")
	# shellcheck disable=SC2086
	got=$(get "$metric" ${labels:-})
	[ "$got" = "$want" ] || bad="$bad $metric=$got/$path=$want"
done <<'EOF'
stats/decoder/pkts certsentry_packets_total
stats/decoder/bytes certsentry_bytes_total
stats/decoder/ipv4 certsentry_decoder_headers_total header=ipv4
stats/flow/total certsentry_flows_total
stats/tcp/reassembly_gap certsentry_tcp_reassembly_gaps_total
certsentry/certificates certsentry_certificates_total
certsentry/chain_cache_hits certsentry_chain_cache_lookups_total result=hit
certsentry/chain_cache_misses certsentry_chain_cache_lookups_total result=miss
certsentry/handshakes/tls_1_2 certsentry_handshakes_total version=tls_1_2
certsentry/alerts certsentry_alerts_decided_total
certsentry/alert_repeats certsentry_alert_repeats_total
certsentry/chains_by_sha256_only certsentry_chains_by_sha256_only_total
certsentry/limits/memcap certsentry_limit_hits_total limit=memcap
EOF
check "counters equal the stats event's${bad:+:$bad}" $([ -z "$bad" ]; echo $?)
# Written after the stats line, which it counts too.
ev=$(get certsentry_events_total)
lines=$(wc -l < "$tmp/eve.json")
check "events_total $ev: the lines of the EVE file ($lines)" $(( ev != lines ))
rep=$(get certsentry_alert_repeats_total)
sightings=$(awk '{n += $3} END {print n}' "$tmp/alerts.prom")
written=$($py tests/evetool.py count "$tmp/eve.json" alert)
check "alert_repeats_total $rep: sightings $sightings less alert events $written" \
	$(( rep != sightings - written || rep < 99 ))

# Per protected asset (the rules' entry, as --check-rules shows it): the
# 100 rogue chains alerting, the TLS 1.3 handshake of multi.pcap not checked.
nk=$(get certsentry_coverage_handshakes_total owner=cloudflare-dns asset_type=ip asset=1.1.1.1 \
	check=tls13_no_keylog checked=no)
v=$(get certsentry_coverage_handshakes_total owner=cloudflare-dns asset_type=ip asset=1.1.1.1 \
	check=alerting checked=yes)
check "coverage: ip 1.1.1.1 alerting $v, not checked (TLS 1.3 without a key log) $nk" \
	$(( ${v:-0} < 100 || ${nk:-0} != 1 ))

n=$(find "$tmp" -maxdepth 1 -name 'm.prom*' | wc -l)
check "the older file replaced whole, nothing left beside it" \
	$(( n != 1 )) "$(grep -c stale "$tmp/m.prom") stale lines, $n files"
grep -q kernel "$tmp/m.prom"
check "no kernel counters from a file" $(( $? == 0 ))

$bin -q -R "$rules" -r pcaps/multi.pcap -o /dev/null --metrics /nonexistent-dir/m.prom \
	2> "$tmp/err"; rc=$?
grep -q '^certsentry: --metrics /nonexistent-dir/m.prom: cannot write in /nonexistent-dir: No such file or directory$' "$tmp/err"
check "an unwritable directory is refused at start (exit 2)" $(( rc != 2 || $? )) \
	"rc=$rc $(cat "$tmp/err")"
exit 0
