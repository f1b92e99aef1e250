#!/usr/bin/env bash
# Evasion tests: every capture in pcaps/evasion/captures.tsv (made by
# tests/mkevasion.py, described in pcaps/evasion/README.md) through
# certsentry with pcaps/test.rules.  For each capture:
#   - the alerts (owner:verdict) are exactly those the manifest lists, and
#     the exit status says whether there were any (1) or not (0);
#   - the number of tls events equals the manifest's handshake count;
# then every EVE line passes ../shared/eve/validate, and the summary's
# counters show that the evasion was seen, not merely survived:
#   overlap-diff.pcap           "overlaps N (different data M)", M >= 1
#   bad-checksum-injected.pcap  "invalid checksums N", N >= 1
#   ip-fragments.pcap,
#   ipv6-fragments.pcap         "fragments reassembled N", N >= 1
# (on the summary's "stream:" line), and on its "tcp:" line:
#   bad-checksum-injected.pcap,
#   decoy-before-real.pcap      "different data N" (a bad-checksum copy differed)
#   rst-bad-checksum.pcap,
#   fin-bad-checksum.pcap       "RST/FIN not believed N"
#   rst-ttl-expires.pcap,
#   client-rst-then-flight.pcap "closed in grace N"
#   port-reuse-after-fin.pcap   "port reuse N"
#   synack-isn-first.pcap       "client took another N"
# each N >= 1.
# CERTSENTRY names the binary (default ./certsentry).
set -u
cd "$(dirname "$0")/.."
. tests/captures_lib.sh
captures_setup evasion pcaps/evasion tests/mkevasion.py

: > "$tmp/all.eve"
while IFS=$'\t' read -r file handshakes expected; do
	case "$file" in ''|'#'*|file) continue ;; esac
	name=${file%.pcap}
	out="$tmp/$name.json"
	check_capture "$dir" "$file" "$handshakes" "$expected" "$out" || continue
	cat "$out" >> "$tmp/all.eve"
done < "$dir/captures.tsv"

if ../shared/eve/validate "$tmp/all.eve" > "$tmp/validate.txt" 2>&1; then
	echo "ok EVE schema (evasion tests): $(tail -1 "$tmp/validate.txt")"
else
	echo "not ok EVE schema (evasion tests): $(tail -1 "$tmp/validate.txt")"
	head -20 "$tmp/validate.txt" | sed 's/^/# /'
fi

# counter FILE LABEL REGEX [LINE]: the summary's LINE line ("stream:" by
# default) for FILE must hold REGEX, whose first parenthesised number must
# be >= 1.
counter() {
	local file=$1 label=$2 re=$3 which=${4:-stream} name=${1%.pcap} line val
	if [ ! -f "$dir/$file" ]; then
		echo "not ok counter $file $label: capture missing"
		return
	fi
	"$bin" -R "$rules" -r "$dir/$file" -o "$tmp/$name.sum.json" 2>"$tmp/$name.sum"
	line=$(grep -m1 "^ *$which:" "$tmp/$name.sum" | sed 's/^ *//')
	if [ -z "$line" ]; then
		echo "not ok counter $file $label: no '$which:' line in the summary"
		sed 's/^/# /' "$tmp/$name.sum" | head -8
		return
	fi
	val=$(printf '%s\n' "$line" | sed -nE "s/.*$re.*/\\1/p")
	if [ -z "$val" ]; then
		echo "not ok counter $file $label: field missing from '$line'"
	elif [ "$val" -ge 1 ]; then
		echo "ok counter $file $label: $val"
	else
		echo "not ok counter $file $label: $val, want >= 1 ('$line')"
	fi
}

counter overlap-diff.pcap "overlaps (different data)" \
	'overlaps [0-9]+ \(different data ([0-9]+)\)'
counter bad-checksum-injected.pcap "invalid checksums" \
	'invalid checksums ([0-9]+)'
counter ip-fragments.pcap "fragments reassembled" \
	'fragments reassembled ([0-9]+)'
counter ipv6-fragments.pcap "fragments reassembled" \
	'fragments reassembled ([0-9]+)'
for f in bad-checksum-injected.pcap decoy-before-real.pcap; do
	counter "$f" "bad-checksum copy, different data" \
		'different data ([0-9]+), dropped' tcp
done
for f in rst-bad-checksum.pcap fin-bad-checksum.pcap; do
	counter "$f" "RST/FIN not believed" 'RST.FIN not believed ([0-9]+)' tcp
done
for f in rst-ttl-expires.pcap client-rst-then-flight.pcap; do
	counter "$f" "closed in grace" 'closed in grace ([0-9]+)' tcp
done
counter port-reuse-after-fin.pcap "port reuse" 'port reuse ([0-9]+)' tcp
counter synack-isn-first.pcap "SYN-ACK ISN taken by the client" \
	'client took another ([0-9]+)' tcp
