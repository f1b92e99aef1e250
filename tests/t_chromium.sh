#!/usr/bin/env bash
# What a real browser sends, read with certsentry's DEFAULT options (-R,
# -r, and --keylog only where a key log is being tested): pcaps/chromium/,
# made once by tests/mkchromium.sh (Debian 12's Chromium, headless, over
# HTTP/3 from ngtcp2 and over TCP from a BoringSSL server that compresses
# its chain with brotli; no Chromium is needed here).  Chromium's
# ClientHello carries an X25519MLKEM768 key share: over QUIC it spans two
# Initial packets, its CRYPTO frames scrambled among PING and PADDING.
# pcaps/chromium/expected.tsv lists each connection: transport, SNI,
# suite, how the certificate came (brotli or not), the chain and the
# alerts it must give, and the SHA-256 of the certificates tshark 4.0 read
# when the capture was made.
#   1. with the key log (the capture with its Decryption Secrets Block:
#      no --keylog at all): the alerts of expected.tsv and nothing more; each
#      connection's event (quic: proto UDP, app_proto quic, version 1, the
#      SNI; tls: the compressed certificate read) with the certificates
#      tshark reads now with the same secrets, in order, and the JA3 tshark
#      computes (GREASE left out, the MLKEM group kept); the ClientHello's
#      two Initial datagrams swapped read the same; --workers 2 the same;
#   2. a rogue chain over QUIC or compressed over TCP gets the verdict of
#      its TLS 1.2 twin (owner, verdict, reason, signature, severity,
#      trust); approved chains raise nothing;
#   3. without keys: every QUIC and TLS 1.3 handshake at the protected
#      endpoint is reported (not-visible), counted per asset as not
#      checked (QUIC or TLS 1.3 without a key log), and --learn fingerprints each server's flight,
#      one shape for one server and chain whatever ACKs timing adds;
#   4. each check is shown to fail on a doctored input: the ClientHello's
#      second Initial datagram dropped, another session's key log, the
#      rules approving the rogue CA, a key log given to the keyless run;
#   5. every EVE line passes ../shared/eve/validate.
set -u
cd "$(dirname "$0")/.." || exit 1
bin=${CERTSENTRY:-./certsentry}
py=/usr/bin/python3
d=pcaps/chromium
rules=$d/chromium.rules
validate=../shared/eve/validate
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
[ -x "$bin" ] || { echo "not ok chromium: no binary $bin"; exit 1; }
[ -f "$d/expected.tsv" ] || { echo "not ok chromium: no $d/expected.tsv (tests/mkchromium.sh)"; exit 1; }
: >"$tmp/all.eve"

check() { # NAME GOT WANT
	if [ "$2" = "$3" ]; then echo "ok chromium $1"; else echo "not ok chromium $1: got [$2] want [$3]"; fi
}
# run NAME ARGS...: certsentry -R rules ARGS into $tmp/NAME.json (.sum the
# summary, .rc the exit status); its lines join the schema check.
run() {
	local name=$1
	shift
	"$bin" -R "$rules" -o "$tmp/$name.json" "$@" 2>"$tmp/$name.sum"
	echo $? >"$tmp/$name.rc"
	cat "$tmp/$name.json" >>"$tmp/all.eve"
}
alerts() { $py tests/evetool.py alerts "$tmp/$1.json"; }

# conns.py EVE: one line a handshake event, in order: "transport sni
# certificates compressed sha256,..." (transport quic only for a Suricata
# quic event: proto UDP, app_proto quic, quic.version 1).
cat >"$tmp/conns.py" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    t = e.get("event_type")
    if t not in ("quic", "tls"):
        continue
    c = e.get("certsentry", {})
    if t == "quic":
        q = e.get("quic", {})
        ok = e.get("proto") == "UDP" and e.get("app_proto") == "quic" and q.get("version") == "1"
        tr, sni = ("quic" if ok else "bad-quic-event"), q.get("sni", "-")
    else:
        tr, sni = "tcp", e.get("tls", {}).get("sni", "-")
    t13 = c.get("tls13", {})
    print(tr, sni, t13.get("certificates", "clear"), t13.get("compressed_certificate", "-"),
          ",".join(x["sha256"] for x in c.get("certificates", [])) or "-")
PY
# verdicts.py EVE: the alerts as their twins must show them.
cat >"$tmp/verdicts.py" <<'PY'
import json, sys
out = []
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e.get("event_type") != "alert":
        continue
    c, a = e["certsentry"], e["alert"]
    out.append("%s|%s|%s|%s|%s|%s" % (c["owner"], c["verdict"], a["signature_id"], a["severity"],
                                      c.get("trust"), c.get("reason")))
print("\n".join(sorted(out)) or "-")
PY
# ja3.py EVE: the JA3 strings of the handshake events, in order.
cat >"$tmp/ja3.py" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e.get("event_type") in ("quic", "tls"):
        print(e["tls"]["ja3"]["string"])
PY
# nosecrets.py IN OUT: the frames without the Decryption Secrets Block.
cat >"$tmp/nosecrets.py" <<'PY'
import sys
from scapy.all import rdpcap, wrpcap
wrpcap(sys.argv[2], rdpcap(sys.argv[1]))
PY
# dropinitial.py IN OUT: the capture without the client's second Initial
# datagram (the second half of Chromium's ClientHello).
cat >"$tmp/dropinitial.py" <<'PY'
import sys
from scapy.all import IP, UDP, rdpcap, wrpcap
pk, out, seen = rdpcap(sys.argv[1]), [], 0
for p in pk:
    if UDP in p and p[UDP].dport == 443 and bytes(p[UDP].payload)[:1] and \
            bytes(p[UDP].payload)[0] & 0xf0 == 0xc0:     # a long-header Initial (v1)
        seen += 1
        if seen == 2:
            continue
    out.append(p)
wrpcap(sys.argv[2], out)
PY

# tshark_conns PCAP [KEYS]: tshark's reading in conns.py's shape.
tshark_conns() {
	local k=()
	[ -n "${2:-}" ] && k=(--keys "$2")
	$py tests/chromium/chcheck.py "$1" "${k[@]}" |
		awk -F'\t' '{ print $1, $2, $12 }'
}
have_tshark=0
command -v tshark >/dev/null && have_tshark=1
[ $have_tshark = 1 ] || echo "not ok chromium tshark: not installed (tests/deps.sh test)"

# ---- 1. every capture with its keys ----------------------------------------------
files=$(awk -F'\t' 'NR > 1 { print $1 }' "$d/expected.tsv" | uniq)
for file in $files; do
	name=${file%.*}
	keys=$(awk -F'\t' -v f="$file" '$1 == f { print $2; exit }' "$d/expected.tsv")
	args=(-r "$d/$file")
	[ "$keys" != - ] && args+=(--keylog "$d/$keys")
	run "$name" "${args[@]}"
	want=$(awk -F'\t' -v f="$file" '$1 == f && $12 != "-" { print $12 }' "$d/expected.tsv" | sort | paste -sd, -)
	[ -z "$want" ] && want=-
	want_rc=0
	[ "$want" != - ] && want_rc=1
	check "$name: alerts" "$(alerts "$name") rc=$(cat "$tmp/$name.rc")" "$want rc=$want_rc"
	# What each connection must show, from the manifest.
	awk -F'\t' -v f="$file" '$1 == f {
		certs = ($5 == "1.2") ? "clear" : "decrypted"
		print $4, $7, certs, $10, $13 }' "$d/expected.tsv" >"$tmp/$name.want"
	$py "$tmp/conns.py" "$tmp/$name.json" >"$tmp/$name.got"
	check "$name: each connection seen and read as made (transport, SNI, certificates, compression, chain)" \
		"$(cat "$tmp/$name.got")" "$(cat "$tmp/$name.want")"
	if [ $have_tshark = 1 ]; then
		k=
		[ "$keys" != - ] && k=$d/$keys
		tshark_conns "$d/$file" "$k" >"$tmp/$name.tshark"
		check "$name: the certificates tshark reads with the same secrets" \
			"$(awk '{ print $1, $2, $5 }' "$tmp/$name.got")" "$(cat "$tmp/$name.tshark")"
		tshark -n -r "$d/$file" ${k:+-o "tls.keylog_file:$k"} -d udp.port==443,quic \
			-o tcp.reassemble_out_of_order:TRUE -Y 'tls.handshake.type == 1' \
			-T fields -e tls.handshake.ja3_full 2>/dev/null >"$tmp/$name.ja3.tshark"
		check "$name: JA3 as tshark computes it" "$($py "$tmp/ja3.py" "$tmp/$name.json")" \
			"$(cat "$tmp/$name.ja3.tshark")"
	fi
	# Chromium's groups: GREASE left out of JA3, X25519MLKEM768 (4588) kept.
	g=$($py "$tmp/ja3.py" "$tmp/$name.json" | awk -F, '{ print $4 }' | sort -u)
	case "$g" in *[0-9]a[0-9]a*) gok="GREASE in $g" ;; 4588-*) gok=ok ;; *) gok="no 4588 in $g" ;; esac
	check "$name: JA3 groups without GREASE, with X25519MLKEM768" "$gok" ok
done

# The DSB capture was read with no --keylog: from its own block, both
# handshakes, and the rogue verdict belongs to the QUIC flow.
check "chromium-dsb: secrets from the capture's own block" \
	"$(grep -o 'secrets from [0-9]* files and [0-9]* pcapng blocks' "$tmp/chromium-dsb.sum")" \
	"secrets from 0 files and 1 pcapng blocks"
check "chromium-dsb: the alert is the QUIC flow's" \
	"$($py -c 'import json, sys
print(",".join("%s/%s/%s" % (e["proto"], e.get("app_proto"), e["dest_port"])
               for e in map(json.loads, open(sys.argv[1])) if e["event_type"] == "alert"))' \
		"$tmp/chromium-dsb.json")" "UDP/quic/443"

# The two halves of the ClientHello in the other order (the client's
# second Initial datagram first): the same reading.
cat >"$tmp/swap.py" <<'PY'
import sys
from scapy.all import rdpcap, wrpcap
pk = list(rdpcap(sys.argv[1]))
a, b = [i for i, p in enumerate(pk) if p["IP"].src == pk[0]["IP"].src][:2]
ta, tb = pk[a].time, pk[b].time
pk[a], pk[b] = pk[b], pk[a]
pk[a].time, pk[b].time = ta, tb
wrpcap(sys.argv[2], pk)
PY
$py "$tmp/swap.py" "$d/h3-approved.pcap" "$tmp/swapped.pcap" 2>/dev/null
run swapped -r "$tmp/swapped.pcap" --keylog "$d/h3-approved.keys"
check "h3-approved with the ClientHello's Initial datagrams swapped: the same reading" \
	"$($py "$tmp/conns.py" "$tmp/swapped.json")" "$(cat "$tmp/h3-approved.want")"
# Two workers: the same events.
run dsb-w2 --workers 2 -r "$d/chromium-dsb.pcapng"
check "chromium-dsb with --workers 2: the same events" \
	"$($py "$tmp/conns.py" "$tmp/dsb-w2.json"; alerts dsb-w2)" \
	"$($py "$tmp/conns.py" "$tmp/chromium-dsb.json"; alerts chromium-dsb)"

# ---- 2. the TLS 1.2 twins' verdicts ----------------------------------------------
for pair in h3-approved:tcp-approved-tls12 tcp-approved-brotli:tcp-approved-tls12 \
	h3-rogue:tcp-rogue-tls12 h3-rogue-ip:tcp-rogue-tls12 tcp-rogue-brotli:tcp-rogue-tls12; do
	a=${pair%%:*} b=${pair#*:}
	va=$($py "$tmp/verdicts.py" "$tmp/$a.json")
	check "$a: the verdict of its TLS 1.2 twin $b ($(echo "$va" | cut -d'|' -f1-4 | paste -sd' ' -))" \
		"$va" "$($py "$tmp/verdicts.py" "$tmp/$b.json")"
done

# ---- 3. without keys ---------------------------------------------------------------
# nokeys NAME: the 1.3 handshakes reported, not visible, counted, fingerprinted.
nokeys() {
	local name=$1 n
	n=$(wc -l <"$tmp/$name.want")
	hs=$($py -c '
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1]) if json.loads(l)["event_type"] in ("quic", "tls")]
print(len(ev), ",".join(sorted(set("%s/%s/%s" % (e["event_type"], e["certsentry"]["tls13"]["certificates"],
      ";".join(o["verdict"] for o in e["certsentry"].get("owners", []))) for e in ev))))' "$tmp/$name-nokeys.json")
	echo "$hs"
	grep -c "^  coverage: cloudflare-dns .*: $n handshakes\?: not checked $n (.*without a key log" "$tmp/$name-nokeys.sum"
	grep -c '^shape endpoint=1.1.1.1:443 ' "$tmp/$name-nokeys.fp"
}
for file in $files; do
	name=${file%.*}
	case $name in *-tls12) continue ;; esac
	if [ "${file##*.}" = pcapng ]; then
		$py "$tmp/nosecrets.py" "$d/$file" "$tmp/$name.nosecrets.pcap" 2>/dev/null
		src=$tmp/$name.nosecrets.pcap
	else
		src=$d/$file
	fi
	run "$name-nokeys" -r "$src" --learn "$tmp/$name-nokeys.fp"
	n=$(wc -l <"$tmp/$name.want")
	types=$(awk '{ print ($1 == "quic" ? "quic" : "tls") "/no-key-log/not-visible" }' "$tmp/$name.want" | sort -u | paste -sd, -)
	# Two assets (ip:, sni:) or one (ip: alone, no SNI) each count every handshake.
	assets=$(grep -c '^  coverage: cloudflare-dns ' "$tmp/$name-nokeys.sum")
	check "$name without keys: reported, counted as not checked per asset, fingerprinted" \
		"$(nokeys "$name" | paste -sd' ' -)" "$n $types $assets $n"
	[ "$assets" -ge 1 ] || echo "not ok chromium $name without keys: no asset in the coverage"
done

# One server and one chain give one flight shape without keys, whether or
# not the client's Handshake PING drew an ACK-only Handshake packet before
# its Finished (it did in h3-rogue-ip and chromium-dsb, not in h3-rogue:
# timing); such a packet is counted, not measured.  A baseline learned
# from one then takes the other's QUIC flight for the same server.
qshape() { grep '^shape endpoint=1.1.1.1:443 .* synack=- ' "$tmp/$1-nokeys.fp" | grep -o 'records=[0-9]* bytes=[0-9.]*'; }
check "one server and chain, one QUIC flight shape whatever ACKs timing adds" \
	"$(qshape h3-rogue-ip); $(qshape chromium-dsb)" "$(qshape h3-rogue); $(qshape h3-rogue)"
run ackonly -r "$d/h3-rogue-ip.pcap" --learn "$tmp/ackonly.fp" --metrics "$tmp/ackonly.prom"
check "an ACK-only Handshake packet counted when the flight is measured (--learn)" \
	"$(grep '^certsentry_quic_flight_control_only_total ' "$tmp/ackonly.prom")" \
	"certsentry_quic_flight_control_only_total 1"
run baseline -r "$tmp/chromium-dsb.nosecrets.pcap" --baseline "$tmp/h3-rogue-nokeys.fp"
check "a baseline from h3-rogue: chromium-dsb's QUIC flight is the same server's" \
	"$($py -c 'import json, sys
print(",".join(o["verdict"] for e in map(json.loads, open(sys.argv[1])) if e["event_type"] == "quic"
               for o in e["certsentry"]["owners"]))' "$tmp/baseline.json")" "not-visible"

# ---- 4. the checks fail on doctored inputs -----------------------------------------
# The ClientHello's second Initial datagram dropped: tshark no longer has a
# whole ClientHello, and certsentry must not claim to have read one.
$py "$tmp/dropinitial.py" "$d/h3-rogue.pcap" "$tmp/cut.pcap" 2>/dev/null
run cut -r "$tmp/cut.pcap" --keylog "$d/h3-rogue.keys"
[ "$($py "$tmp/conns.py" "$tmp/cut.json")" != "$(cat "$tmp/h3-rogue.want")" ] &&
	[ "$(alerts cut)" = - ]
check "doctored: without the ClientHello's second Initial the connection check fails, no verdict" $? 0
if [ $have_tshark = 1 ]; then
	check "doctored: tshark sees the ClientHello cut too" \
		"$($py tests/chromium/chcheck.py "$tmp/cut.pcap" --keys "$d/h3-rogue.keys" | cut -f5)" 0
fi
# Another session's key log: nothing decrypted, the chain check fails.
run wrongkey -r "$d/h3-rogue.pcap" --keylog "$d/h3-approved.keys"
[ "$($py "$tmp/conns.py" "$tmp/wrongkey.json")" != "$(cat "$tmp/h3-rogue.want")" ]
check "doctored: another session's key log fails the chain check" $? 0
# The rules approving the rogue CA: the alert check and the twin check fail.
{ sed "s|pki/|$PWD/$d/pki/|" "$rules"; echo "approve ca $PWD/$d/pki/rogue-root.pem"; } >"$tmp/rogue.rules"
"$bin" -R "$tmp/rogue.rules" -r "$d/tcp-rogue-brotli.pcap" --keylog "$d/tcp-rogue-brotli.keys" \
	-o "$tmp/approved-rogue.json" 2>/dev/null
[ "$(alerts approved-rogue)" = - ] &&
	[ "$($py "$tmp/verdicts.py" "$tmp/approved-rogue.json")" != "$($py "$tmp/verdicts.py" "$tmp/tcp-rogue-tls12.json")" ]
check "doctored: the rogue CA approved, the alert and twin checks fail" $? 0
# The keyless checks with the key log given: they fail.
run withkeys -r "$d/h3-rogue.pcap" --keylog "$d/h3-rogue.keys" --learn "$tmp/withkeys.fp"
cp "$tmp/withkeys.json" "$tmp/doctored-nokeys.json"
cp "$tmp/withkeys.sum" "$tmp/doctored-nokeys.sum"
cp "$tmp/withkeys.fp" "$tmp/doctored-nokeys.fp"
cp "$tmp/h3-rogue.want" "$tmp/doctored.want"
[ "$(nokeys doctored | paste -sd' ' -)" != "1 quic/no-key-log/not-visible 2 1" ]
check "doctored: with the key log the keyless checks fail" $? 0

# ---- 5. the schema -----------------------------------------------------------------
out=$($py "$validate" "$tmp/all.eve" 2>&1)
check "EVE schema ($(wc -l <"$tmp/all.eve") lines): ${out##*$'\n'}" $? 0
