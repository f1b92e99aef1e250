#!/usr/bin/env bash
# Encapsulation tests: every capture in pcaps/encap/captures.tsv (made by
# tests/mkencap.py, described in pcaps/encap/README.md: the Fina handshake
# inside GRE, ERSPAN I/II/III, VXLAN, Geneve, MPLS) through certsentry with
# pcaps/test.rules.  For each capture:
#   - the alerts (owner:verdict) are exactly those the manifest lists, and
#     the exit status says whether there were any (1) or not (0);
#   - the number of tls events equals the manifest's handshake count;
#   - every tls and alert event names the inner flow (client 203.0.113.x,
#     server 1.1.1.1), never the outer switch/collector addresses, and
#     carries the inner frame's VLAN ids (vxlan-vlan.pcap: [100]) or none;
#   - tshark, an independent decoder, finds the inner certificate too (the
#     capture is what its README says, not only what certsentry accepts);
# then every EVE line passes ../shared/eve/validate.
# CERTSENTRY names the binary (default ./certsentry).
set -u
cd "$(dirname "$0")/.."
. tests/captures_lib.sh
captures_setup encap pcaps/encap tests/mkencap.py

# addrs OUT VLAN: "ok" when OUT holds tls/alert events and each has the
# inner addresses and the VLAN list VLAN ("-" for none); else the reason.
addrs() {
	$py - "$1" "$2" <<'EOF'
import json, re, sys
path, want_vlan = sys.argv[1], sys.argv[2]
want_vlan = None if want_vlan == "-" else [int(v) for v in want_vlan.split(",")]
n = 0
for line in open(path):
    if not line.strip():
        continue
    e = json.loads(line)
    if e.get("event_type") not in ("tls", "alert"):
        continue
    n += 1
    src, dst, vlan = e.get("src_ip"), e.get("dest_ip"), e.get("vlan")
    if not re.fullmatch(r"203\.0\.113\.\d{1,3}", str(src)) or dst != "1.1.1.1":
        print("%s event %s -> %s" % (e["event_type"], src, dst))
        sys.exit(0)
    if vlan != want_vlan:
        print("%s event vlan %s, want %s" % (e["event_type"], vlan, want_vlan))
        sys.exit(0)
print("ok" if n else "no tls or alert events")
EOF
}

: > "$tmp/all.eve"
while IFS=$'\t' read -r file handshakes expected; do
	case "$file" in ''|'#'*|file) continue ;; esac
	name=${file%.pcap}
	out="$tmp/$name.json"
	if ! check_capture "$dir" "$file" "$handshakes" "$expected" "$out"; then
		echo "not ok inner addresses $file: capture missing"
		continue
	fi
	vlan=-
	[ "$file" = vxlan-vlan.pcap ] && vlan=100
	res=$(addrs "$out" "$vlan")
	if [ "$res" = ok ]; then
		echo "ok inner addresses $file"
	else
		echo "not ok inner addresses $file: $res"
	fi
	cat "$out" >> "$tmp/all.eve"
done < "$dir/captures.tsv"

if ../shared/eve/validate "$tmp/all.eve" > "$tmp/validate.txt" 2>&1; then
	echo "ok EVE schema (encap tests): $(tail -1 "$tmp/validate.txt")"
else
	echo "not ok EVE schema (encap tests): $(tail -1 "$tmp/validate.txt")"
	head -20 "$tmp/validate.txt" | sed 's/^/# /'
fi

# tshark: the frames carrying the Certificate message decode, through the
# encapsulation, to the inner server -> client (the last ip.src/ip.dst of
# the frame are the innermost).
if ! command -v tshark > /dev/null; then
	echo "not ok tshark encap: tshark not installed (tests/deps.sh test)"
	exit 0
fi
while IFS=$'\t' read -r file _ _; do
	case "$file" in ''|'#'*|file) continue ;; esac
	[ -f "$dir/$file" ] || continue
	got=$(tshark -n -r "$dir/$file" -o tcp.reassemble_out_of_order:TRUE \
		-Y 'tls.handshake.type == 11' -T fields -e ip.src -e ip.dst 2>/dev/null |
		awk -F'\t' '{ n = split($1, s, ","); m = split($2, d, ",");
			print s[n] " -> " d[m] }' | sort -u)
	if [ "$got" = "1.1.1.1 -> 203.0.113.11" ]; then
		echo "ok tshark $file: certificate $got"
	else
		echo "not ok tshark $file: certificate frames '$got', want '1.1.1.1 -> 203.0.113.11'"
	fi
done < "$dir/captures.tsv"
