#!/usr/bin/env bash
# Real-world captures (../shared/realworld): every TCP certificate chain the
# independent record lists must come out of certsentry --any-port, matched
# by SHA-256, and every EVE line must pass Suricata's schema.
# Checksum checks are off, as suricata-verify runs these captures (-k none):
# several were edited by hand to make a test case without fixing the TCP
# checksum (tls-altname-zero, tls1.2-protocol-violation), and others carry
# coalesced (GRO) segments whose checksum field is stale.
set -u
cd "$(dirname "$0")/.."
rw=${REALWORLD:-../shared/realworld}
bin=${CERTSENTRY:-./certsentry}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ ! -d "$rw" ]; then
	echo "not ok realworld: $rw missing"
	exit 1
fi
cut -f1,8 "$rw/manifest.tsv" | grep -v '^#' | while IFS=$'\t' read -r pcap _; do
	grep -q "\"pcap\":\"$pcap\",\"proto\":\"tcp\"" "$rw/expected.jsonl" || continue
	out="$tmp/$(echo "$pcap" | tr / _).json"
	"$bin" -q --any-port --tls-chain --checksum-checks no -r "$rw/pcaps/$pcap" -o "$out" 2>"$out.err"
	rc=$?
	if [ "$rc" -gt 2 ]; then
		echo "not ok realworld $pcap: exit status $rc"; cat "$out.err"; continue
	fi
	/usr/bin/python3 tests/evetool.py chains "$out" > "$out.chains"
	/usr/bin/python3 tests/realworld_check.py "$rw/expected.jsonl" "$pcap" "$out.chains"
	cat "$out" >> "$tmp/all.eve"
done
if ../shared/eve/validate "$tmp/all.eve" > "$tmp/validate.txt" 2>&1; then
	echo "ok realworld EVE schema: $(tail -1 "$tmp/validate.txt")"
else
	echo "not ok realworld EVE schema"; head -20 "$tmp/validate.txt"
fi
