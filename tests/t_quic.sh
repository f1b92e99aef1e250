#!/usr/bin/env bash
# QUIC (DNS-over-QUIC, HTTP/3) with the defaults, on the captures real
# stacks made (tests/mkquic.sh: Debian 12's ngtcp2 and quic-go across a
# veth pair, key logs embedded as pcapng Decryption Secrets Blocks;
# pcaps/quic/README.md lists them).  pcaps/quic/expected.tsv holds what
# tshark 4.0 reads from each with the same secrets: the SHA-256 of every
# certificate of the server's chain, and the alerts the rules must give.
#   1. with the key log (the DSB): the certificates certsentry reads are
#      tshark's, in order; the alerts are the expected ones; the events
#      are Suricata's quic events (proto UDP, app_proto quic, a quic
#      object), and every line passes ../shared/eve/validate;
#   2. the same chain judged as a certificate file (--certs) gets the same
#      verdict: QUIC changes how the chain is read, not how it is judged;
#   3. the same captures without their secrets (the DSB dropped): every
#      handshake at the protected endpoint is still reported, its
#      certificates encrypted, each asset counted as not checked; the key
#      log given as a file (--keylog) then reads them again; --learn
#      fingerprints the server's Handshake packets;
#   4. --workers 2 gives the same events; a QUIC version certsentry does
#      not read (draft v2) is counted, not guessed at.
set -u
cd "$(dirname "$0")/.." || exit 1
. tests/netns_lib.sh
bin=${CERTSENTRY:-./certsentry}
py=/usr/bin/python3
q=pcaps/quic
rules=$q/quic.rules
validate=../shared/eve/validate
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

check() {   # check NAME STATUS [details]
	if [ "$2" -eq 0 ]; then echo "ok quic $1"; else echo "not ok quic $1 ${3:-}"; fi
}

if [ ! -f "$q/expected.tsv" ]; then
	echo "not ok quic: no $q/expected.tsv"
	exit 1
fi

# summary.py EVE: one line "SHA,SHA|...  OWNER:VERDICT;...  EVENTTYPES" of
# a run's events: the chains read (in order), the alerts, and whether
# every handshake event is a quic event with proto UDP, app_proto quic.
cat > "$tmp/summary.py" <<'PY'
import json, sys
chains, alerts, shape = [], [], "quic-ok"
for line in open(sys.argv[1]):
    d = json.loads(line)
    if d["event_type"] == "stats":
        continue
    c = d.get("certsentry", {})
    if d["event_type"] == "alert":
        alerts.append("%s:%s" % (c["owner"], c["verdict"]))
        continue
    if d["event_type"] != "quic" or d.get("proto") != "UDP" or d.get("app_proto") != "quic" \
            or "version" not in d.get("quic", {}):
        shape = "not-quic:%s/%s/%s" % (d["event_type"], d.get("proto"), d.get("app_proto"))
    if c.get("certificates"):
        chains.append(",".join(x["sha256"] for x in c["certificates"]))
print("|".join(chains) or "-", ";".join(sorted(alerts)) or "-", shape)
PY

# nosecrets.py IN OUT: the capture without its Decryption Secrets Blocks
# (a classic pcap of the same frames).
cat > "$tmp/nosecrets.py" <<'PY'
import sys
from scapy.all import rdpcap, wrpcap
wrpcap(sys.argv[2], rdpcap(sys.argv[1]))
PY

n=0
while IFS=$'\t' read -r file keys stack ver suite sni alpn chain alerts by sha; do
	[ "$file" = file ] && continue
	name=${file%.pcapng}
	n=$((n + 1))
	"$bin" -q -R "$rules" -r "$q/$file" -o "$tmp/$name.json" 2>"$tmp/$name.err"; rc=$?
	got=$($py "$tmp/summary.py" "$tmp/$name.json")
	if [ "$ver" != 0x00000001 ] && [ "$ver" != 0x6b3343cf ]; then
		# A version certsentry does not read: no event, counted.
		"$bin" -R "$rules" -r "$q/$file" -o /dev/null 2>"$tmp/$name.sum"
		check "$name: QUIC version $ver not read, no event, counted" \
			"$([ ! -s "$tmp/$name.json" ] && [ "$rc" -eq 0 ] &&
			   grep -q '^  quic: .* other versions [1-9]' "$tmp/$name.sum"; echo $?)" \
			"rc=$rc $got $(grep quic "$tmp/$name.sum")"
		continue
	fi
	want_rc=0
	[ "$alerts" != - ] && want_rc=1
	check "$name ($stack, $suite, $alpn): tshark's chain, verdict $alerts" \
		"$([ "$got" = "$sha $alerts quic-ok" ] && [ "$rc" -eq "$want_rc" ]; echo $?)" \
		"rc=$rc want [$sha $alerts quic-ok] got [$got] $(head -2 "$tmp/$name.err")"

	# 2. The chain as a file: the same verdict.
	if [ -n "$chain" ] && [ "$chain" != - ]; then
		: > "$tmp/$name.pem"
		for c in ${chain//,/ }; do cat "$q/pki/$c.pem" >> "$tmp/$name.pem"; done
		"$bin" -q -R "$rules" --certs "$tmp/$name.pem" -o "$tmp/$name.certs.json" 2>/dev/null
		fv=$($py -c '
import json, sys
print(";".join(sorted("%s:%s" % (json.loads(l)["certsentry"]["owner"], json.loads(l)["certsentry"]["verdict"])
      for l in open(sys.argv[1]))) or "-")' "$tmp/$name.certs.json")
		check "$name: --certs on the same chain gives the same verdict ($fv)" \
			"$([ "$fv" = "$alerts" ]; echo $?)"
	fi

	# 3. Without the secrets, then with the key log as a file.
	$py "$tmp/nosecrets.py" "$q/$file" "$tmp/$name.pcap" 2>/dev/null
	"$bin" -R "$rules" -r "$tmp/$name.pcap" -o "$tmp/$name.nokey.json" 2>"$tmp/$name.nokey.sum"
	hs=$($py -c '
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
q = [e for e in ev if e["event_type"] == "quic"]
print(len(q), q[0]["certsentry"].get("handshake") if q else "-",
      ",".join(sorted(set(o["verdict"] for e in q for o in e["certsentry"].get("owners", [])))) or "-")' \
		"$tmp/$name.nokey.json")
	check "$name without keys: reported, certificates encrypted, not visible ($hs)" \
		"$([ "$hs" = "1 encrypted not-visible" ]; echo $?)"
	grep -q '^  coverage: .*not checked 1 (QUIC without a key log 1)' "$tmp/$name.nokey.sum" &&
		grep -q '^  1 of 1 handshake at protected assets went unchecked: QUIC without a key log 1; give --keylog' "$tmp/$name.nokey.sum"
	check "$name without keys: its assets counted as not checked" $? \
		"$(grep coverage "$tmp/$name.nokey.sum" | head -2)"
	if [ -f "$q/$keys" ]; then
		"$bin" -q -R "$rules" -r "$tmp/$name.pcap" --keylog "$q/$keys" -o "$tmp/$name.kl.json" 2>/dev/null
		got=$($py "$tmp/summary.py" "$tmp/$name.kl.json")
		check "$name: --keylog FILE reads it as the DSB does" \
			"$([ "$got" = "$sha $alerts quic-ok" ]; echo $?)" "got [$got]"
	fi
done < "$q/expected.tsv"
check "captures listed ($n)" "$([ "$n" -ge 10 ]; echo $?)"

# 3b. --learn fingerprints what stays encrypted: the server's Handshake
# packets of a QUIC handshake without keys.
"$bin" -q -R "$rules" -r "$tmp/doq-approved.pcap" --learn "$tmp/fp" -o /dev/null 2>/dev/null
grep -q '^shape endpoint=1.1.1.1:853 .* records=[1-9]' "$tmp/fp"
check "--learn: a QUIC server's flight fingerprinted without keys" $? "$(grep -v '^#' "$tmp/fp")"

# 4. Two workers: the same events.
for f in doq-rogue h3-ngtcp2-retry h3-ngtcp2-vn; do
	"$bin" -q --workers 2 -R "$rules" -r "$q/$f.pcapng" -o "$tmp/$f.w2.json" 2>/dev/null
	a=$($py "$tmp/summary.py" "$tmp/$f.json")
	b=$($py "$tmp/summary.py" "$tmp/$f.w2.json")
	check "$f: --workers 2 gives the same events" "$([ "$a" = "$b" ]; echo $?)" "[$a] [$b]"
done

# Every line written passes Suricata's schema.
cat "$tmp"/*.json > "$tmp/all.eve"
out=$($py "$validate" "$tmp/all.eve" 2>&1); rc=$?
check "EVE schema: $(printf '%s\n' "$out" | tail -1)" "$rc" "$(printf '%s\n' "$out" | head -3)"

# A limit hit is counted and said, and a protected handshake it leaves
# unread alerts as unverified (never a silent pass).
"$bin" -R "$rules" -r "$q/doq-big.pcapng" --quic-crypto-max 3000 -o "$tmp/limit.json" 2>"$tmp/limit.sum"
v=$($py -c '
import json, sys
print(";".join(json.loads(l)["certsentry"]["verdict"] for l in open(sys.argv[1]) if json.loads(l)["event_type"] == "alert"))' "$tmp/limit.json")
grep -q '^  quic: .*stream bytes 1,' "$tmp/limit.sum"
check "--quic-crypto-max: counted, and the handshake alerts as $v" \
	"$([ $? -eq 0 ] && [ "$v" = unverified-handshake ]; echo $?)" "$(grep quic: "$tmp/limit.sum")"

# Live capture with a key log still being written (--keylog-wait), as for
# TCP in t_tls13.sh: two namespaces joined by a veth pair (MTU 9000),
# certsentry on one end, tcpreplay sending doq-rogue (without its
# secrets) slowly (10 datagrams a second) from the other, the key log's
# line appended only once the server's Initial and Handshake packets have
# gone by: the server's Handshake datagrams wait for it and are read then.
# Needs root; traffic stays in the namespaces.
live_keylog() { # NAME WAIT_MS APPEND(0/1)
	local name=$1 wait=$2 append=$3 tag=cq$$ pid
	netns_pair "$tag" || { echo "not ok quic live $name: cannot build the namespaces"; netns_pair_del "$tag"; return; }
	: >"$tmp/$name.keys"
	ip netns exec "${tag}b" "$bin" -i "${tag}y" -R "$rules" -o "$tmp/$name.live.json" \
		--keylog "$tmp/$name.keys" --keylog-wait "$wait" 2>"$tmp/$name.err" &
	pid=$!
	sleep 1
	ip netns exec "${tag}a" tcpreplay -q -i "${tag}x" --pps 10 "$tmp/doq-rogue.pcap" >/dev/null 2>&1 &
	sleep 0.6    # the client's Initial, then the server's Initial and Handshake
	[ "$append" = 1 ] && cat "$q/doq-rogue.keys" >>"$tmp/$name.keys"
	wait $!
	sleep 0.5
	kill -TERM "$pid"
	wait "$pid"
	netns_pair_del "$tag"
}
if [ "$(id -u)" -eq 0 ] && command -v tcpreplay >/dev/null; then
	live_keylog growing 5000 1
	got=$($py "$tmp/summary.py" "$tmp/growing.live.json")
	want=$(awk -F'\t' '$1 == "doq-rogue.pcapng" { print $11, $9, "quic-ok" }' "$q/expected.tsv")
	check "live: a secret appended after the server's flight is found" \
		"$([ "$got" = "$want" ]; echo $?)" "got [$got] want [$want] $(tail -3 "$tmp/growing.err")"
	live_keylog never 300 0
	v=$($py -c '
import json, sys
print(";".join(sorted(set(e["certsentry"].get("tls13", {}).get("certificates", "-")
      for e in map(json.loads, open(sys.argv[1])) if e["event_type"] == "quic"))))' "$tmp/never.live.json")
	check "live: no secret within --keylog-wait: reported, not read ($v)" \
		"$([ "$v" = no-key ]; echo $?)"
	cat "$tmp/growing.live.json" "$tmp/never.live.json" > "$tmp/live.eve"
	out=$($py "$validate" "$tmp/live.eve" 2>&1); rc=$?
	check "live EVE schema: $(printf '%s\n' "$out" | tail -1)" "$rc"
else
	echo "# quic live: skipped (needs root and tcpreplay)"
fi

# --check-rules says how each asset's QUIC handshakes will be checked.
"$bin" --check-rules "$rules" > "$tmp/plan.txt" 2>&1
grep -q 'ip 1.1.1.1: TLS 1.0-1.2 checked (approved or alerting); TLS 1.3 and QUIC NOT CHECKED (no key log, no --baseline)' "$tmp/plan.txt"
check "--check-rules: QUIC's coverage per asset" $? "$(grep 1.1.1.1 "$tmp/plan.txt")"

# --evidence: a QUIC alert's handshake is kept as a pcapng with its secret,
# which replays to the same alert with no key log given.
mkdir -p "$tmp/ev"
"$bin" -q -R "$rules" -r "$q/h3-ngtcp2-chacha.pcapng" --evidence "$tmp/ev" -o /dev/null 2>/dev/null
ev=$(ls "$tmp/ev"/*.pcapng 2>/dev/null | head -1)
"$bin" -q -R "$rules" -r "${ev:-/nonexistent}" -o "$tmp/ev.json" 2>/dev/null
got=$($py "$tmp/summary.py" "$tmp/ev.json" 2>/dev/null)
want=$(awk -F'\t' '$1 == "h3-ngtcp2-chacha.pcapng" { print $11, $9, "quic-ok" }' "$q/expected.tsv")
check "--evidence: the QUIC handshake replays to the same alert" \
	"$([ -n "$ev" ] && [ "$got" = "$want" ]; echo $?)" "[$got] [$want]"
