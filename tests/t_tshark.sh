#!/usr/bin/env bash
# The summary line's packets, handshakes and certificates agree with
# tshark on the project's captures and on the real-world captures whose
# TLS runs directly on 443 (tshark's own limits, listed in
# ../shared/realworld/README.md, excluded: fragmented handshake records,
# deliberately corrupt certificate messages and capture files).
# asan: skip: tshark takes nearly all of its 140 s, and certsentry reads the same captures under ASan in t_captures.sh and t_realworld.sh
set -u
cd "$(dirname "$0")/.."
rw=../shared/realworld
list=$(ls pcaps/*.pcap)
for p in $(awk -F'\t' '$1 !~ /^#/ && $9 == "" {print $1}' "$rw/manifest.tsv"); do
	case "$p" in
	*tls-fragmented-handshake*|*protocol-violation*|*DER-incomplete*) continue ;;
	esac
	list="$list $rw/pcaps/$p"
done
# shellcheck disable=SC2086
/usr/bin/python3 tests/tshark_compare.py "${CERTSENTRY:-./certsentry}" $list
