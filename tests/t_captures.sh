#!/usr/bin/env bash
# Capture tests: every capture in pcaps/captures.tsv through certsentry with
# pcaps/test.rules.  For each capture:
#   - the alerts (owner:verdict) are exactly those the manifest lists, and
#     the exit status says whether there were any;
#   - the number of tls events equals the manifest's handshake count;
#   - the EVE output, volatile fields removed, equals pcaps/NAME.expected
#     (UPDATE=1 rewrites the expected files after a reviewed change);
#   - every EVE line passes ../shared/eve/validate.
set -u
cd "$(dirname "$0")/.."
bin=${CERTSENTRY:-./certsentry}
rules=pcaps/test.rules
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
py=/usr/bin/python3

. tests/captures_lib.sh
while IFS=$'\t' read -r file handshakes expected; do
	case "$file" in ''|'#'*|file) continue ;; esac
	name=${file%.pcap}
	out="$tmp/$name.json"
	check_capture pcaps "$file" "$handshakes" "$expected" "$out" || continue
	$py tests/evetool.py normalize "$out" > "$tmp/$name.norm"
	if [ "${UPDATE:-}" = 1 ]; then
		cp "$tmp/$name.norm" "pcaps/$name.expected"
	fi
	if diff -u "pcaps/$name.expected" "$tmp/$name.norm" > "$tmp/$name.diff" 2>&1; then
		echo "ok golden $file"
	else
		echo "not ok golden $file"; cut -c1-300 "$tmp/$name.diff" | head -12
	fi
	cat "$out" >> "$tmp/all.eve"
done < pcaps/captures.tsv

if ../shared/eve/validate "$tmp/all.eve" > "$tmp/validate.txt" 2>&1; then
	echo "ok EVE schema (capture tests): $(tail -1 "$tmp/validate.txt")"
else
	echo "not ok EVE schema (capture tests)"; head -20 "$tmp/validate.txt"
fi
