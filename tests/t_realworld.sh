#!/usr/bin/env bash
# Real-world captures (../shared/realworld): every TCP certificate chain the
# independent record lists must come out of certsentry, matched by SHA-256,
# and every EVE line must pass Suricata's schema.  Two runs per capture,
# both with the default options but for the ports:
#   - defaults: every chain on ports 443 and 853 (what a user gets);
#   - --any-port: every chain, on whatever port.
# No --checksum-checks: several captures were edited by hand without fixing
# the TCP checksum (tls-altname-zero, tls1.2-protocol-violation), others
# carry coalesced (GRO) segments whose checksum field is stale; the default
# keeps such segments as tentative copies and uses them once the receiver
# acknowledges their bytes.  The summary line counts, per run, the chains
# found of those expected.
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
for mode in defaults any-port; do
	opts=() ports=443,853
	[ "$mode" = any-port ] && opts=(--any-port) ports=
	: > "$tmp/$mode.res"
	cut -f1 "$rw/manifest.tsv" | grep -v '^#' | while IFS=$'\t' read -r pcap; do
		grep -q "\"pcap\":\"$pcap\",\"proto\":\"tcp\"" "$rw/expected.jsonl" || continue
		out="$tmp/$mode-$(echo "$pcap" | tr / _).json"
		"$bin" -q "${opts[@]}" --tls-chain -r "$rw/pcaps/$pcap" -o "$out" 2>"$out.err"
		rc=$?
		if [ "$rc" -gt 2 ]; then
			echo "not ok realworld $mode $pcap: exit status $rc"; cat "$out.err"; continue
		fi
		/usr/bin/python3 tests/evetool.py chains "$out" > "$out.chains"
		/usr/bin/python3 tests/realworld_check.py "$rw/expected.jsonl" "$pcap" "$out.chains" \
			$ports | sed "s/^\(not \)\?ok realworld /&$mode: /" | tee -a "$tmp/$mode.res"
		cat "$out" >> "$tmp/all.eve"
	done
	echo "# realworld $mode: $(grep -c '^ok' "$tmp/$mode.res") chains found," \
	     "$(grep -c '^not ok' "$tmp/$mode.res") missing"
done
if ../shared/eve/validate "$tmp/all.eve" > "$tmp/validate.txt" 2>&1; then
	echo "ok realworld EVE schema: $(tail -1 "$tmp/validate.txt")"
else
	echo "not ok realworld EVE schema"; head -20 "$tmp/validate.txt"
fi
