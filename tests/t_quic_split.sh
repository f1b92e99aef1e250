#!/usr/bin/env bash
# QUIC handshakes cut into more packets than the stacks sent: the captures
# of pcaps/quic/split/ (made from doq-rogue and h3-ngtcp2-approved by
# tests/mkquicsplit.py; its README lists them).  A ClientHello with a
# post-quantum key share spans several Initial packets; Debian 12's stacks
# cannot send one, so these are real sessions with the Initials re-cut and
# re-sealed.  For each, with the defaults (-R quic.rules -r FILE, the key
# log from the pcapng's Decryption Secrets Block):
#   1. the capture is what its name says (read with tshark): the client's
#      ClientHello in N Initial datagrams of >= 1200 bytes, their CRYPTO
#      offsets in the order claimed (a part first when reordered, a part
#      twice when retransmitted), packet numbers never reused, and
#      increasing on the wire except where the datagrams were reordered;
#      for the server's case, the ServerHello in 2 Initials and one more
#      Handshake packet than the original;
#   2. certsentry reads the same chain (SHA-256 of each certificate, in
#      order), the same SNI and gives the same alerts as on the unsplit
#      original; a retransmitted part with different bytes (an attacker's
#      copy, its SNI changed) sets certsentry.stream_mismatch, adds the
#      stream-mismatch alert and keeps the first copy's verdict and SNI;
#   3. tshark reads the same certificates with the key log;
#   4. every line passes ../shared/eve/validate.
set -u
cd "$(dirname "$0")/.." || exit 1
bin=${CERTSENTRY:-./certsentry}
py=/usr/bin/python3
q=pcaps/quic
s=$q/split
rules=$q/quic.rules
validate=../shared/eve/validate
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

check() {   # check NAME STATUS [details]
	if [ "$2" -eq 0 ]; then echo "ok quic-split $1"; else echo "not ok quic-split $1 ${3:-}"; fi
}

# summary.py EVE: "CHAINS ALERTS SNI MISMATCH VERDICTS" of one run: the
# chains read (SHA-256s, in order), the alerts (sorted owner:verdict), the
# quic events' SNI, whether stream_mismatch was set, and the per-owner
# verdicts other than stream-mismatch (the first copy's).
cat > "$tmp/summary.py" <<'PY'
import json, sys
chains, alerts, sni, mm, verdicts = [], [], [], [], []
for line in open(sys.argv[1]):
    d = json.loads(line)
    c = d.get("certsentry", {})
    if d["event_type"] == "alert":
        alerts.append("%s:%s" % (c["owner"], c["verdict"]))
    if d["event_type"] != "quic":
        continue
    chains.append(",".join(x["sha256"] for x in c.get("certificates", [])))
    sni.append(d.get("quic", {}).get("sni", "-"))
    mm.append("mismatch" if c.get("stream_mismatch") else "same")
    verdicts += ["%s:%s" % (o["owner"], o["verdict"]) for o in c.get("owners", [])
                 if o["verdict"] != "stream-mismatch"]
print("|".join(chains) or "-", ";".join(sorted(alerts)) or "-", "|".join(sni) or "-",
      "|".join(mm) or "-", ";".join(sorted(verdicts)) or "-")
PY

# shape.py PCAP KEYS PORT: the capture's structure as tshark reads it, one
# line: "CLIENT_CH_OFFSETS CLIENT_CH_MIN_UDP SERVER_INITIALS SERVER_HS
# PN_REUSED PN_WIRE_ORDER".  CLIENT_CH_OFFSETS: the CRYPTO offsets of the
# client's datagrams that hold one Initial with CRYPTO data, in wire order;
# CLIENT_CH_MIN_UDP the smallest of those datagrams' UDP payloads;
# SERVER_INITIALS / SERVER_HS: how many Initial / Handshake packets the
# server sent; PN_REUSED: "reused" when a sender used a packet number
# twice in a space, else "unique"; PN_WIRE_ORDER: "increasing" when every
# sender's numbers increase in wire order in every space, else "reordered".
cat > "$tmp/shape.py" <<'PY'
import subprocess, sys
pcap, keys, port = sys.argv[1:4]
F = ["ip.src", "udp.length", "quic.long.packet_type", "quic.packet_number", "quic.crypto.offset"]
cmd = ["tshark", "-n", "-r", pcap, "-o", "tls.keylog_file:" + keys, "-d", "udp.port==%s,quic" % port,
       "-T", "fields", "-E", "separator=\t", "-E", "occurrence=a", "-E", "aggregator=,"]
for f in F:
    cmd += ["-e", f]
out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
ch_offs, ch_udp, srv_init, srv_hs = [], [], 0, 0
pns = {}
for line in out.splitlines():
    src, udp, types, pn, off = (line.split("\t") + [""] * 5)[:5]
    types = [t for t in types.split(",") if t]
    pn = [int(x) for x in pn.split(",") if x]
    offs = [o for o in off.split(",") if o]
    client = src != "1.1.1.1"
    if client and types == ["0"] and offs:
        ch_offs.append(offs[0])
        ch_udp.append(int(udp) - 8)
    if not client:
        srv_init += types.count("0")
        srv_hs += types.count("2")
    # Long headers come first in every datagram of these captures: the
    # packet numbers line up with the long types.
    for t, n in zip(types, pn):
        pns.setdefault((client, t), []).append(n)
reused = any(len(v) != len(set(v)) for v in pns.values())
inc = all(v == sorted(v) for v in pns.values())
print(",".join(ch_offs) or "-", min(ch_udp) if ch_udp else 0, srv_init, srv_hs,
      "reused" if reused else "unique", "increasing" if inc else "reordered")
PY

# tshark's chain: the SHA-256 of each certificate it reads with the key log.
tshark_chain() {   # PCAP KEYS PORT
	tshark -n -r "$1" -o "tls.keylog_file:$2" -d "udp.port==$3,quic" -Y tls.handshake.certificate \
		-T fields -e tls.handshake.certificate 2>/dev/null | $py -c '
import hashlib, re, sys
print(",".join(hashlib.sha256(bytes.fromhex(c)).hexdigest() for c in re.split(r"[,\s]+", sys.stdin.read()) if c))'
}

run() {   # run PCAP OUT: certsentry with the defaults; prints its exit code
	rm -f "$2"
	"$bin" -q -R "$rules" -r "$1" -o "$2" 2>"$2.err"
	echo $?
}

declare -A orig_sum orig_rc orig_shape
for o in doq-rogue h3-ngtcp2-approved; do
	port=443; case $o in doq-*) port=853 ;; esac
	orig_rc[$o]=$(run "$q/$o.pcapng" "$tmp/$o.json")
	orig_sum[$o]=$($py "$tmp/summary.py" "$tmp/$o.json")
	orig_shape[$o]=$($py "$tmp/shape.py" "$q/$o.pcapng" "$q/$o.keys" $port)
done

n=0
for f in "$s"/*.pcapng; do
	name=$(basename "$f" .pcapng)
	n=$((n + 1))
	case $name in
	doq-rogue-*) o=doq-rogue port=853 ;;
	h3-ngtcp2-approved-*) o=h3-ngtcp2-approved port=443 ;;
	*) check "$name: made from a known capture" 1; continue ;;
	esac
	case=${name#"$o"-}
	grep -q "^| \`$name.pcapng\` |" "$s/README.md"
	check "$name: listed in $s/README.md" $?

	# 1. The capture is what its name says.
	shape=$($py "$tmp/shape.py" "$f" "$s/$name.keys" $port)
	read -r offs minudp sinit shs reused order <<<"$shape"
	read -r _ _ o_sinit o_shs _ _ <<<"${orig_shape[$o]}"
	IFS=, read -r -a off <<<"$offs"
	nd=$(printf '%s\n' "${off[@]}" | sort -u | wc -l)
	ok=1
	case $case in
	ch[23]*)
		parts=${case:2:1}
		want_n=$parts
		case $case in *-retrans|*-mismatch) want_n=$((parts + 1)) ;; esac
		first=0
		case $case in *-reorder) first=nonzero ;; esac
		[ "${#off[@]}" -eq "$want_n" ] && [ "$nd" -eq "$parts" ] && [ "$minudp" -ge 1200 ] &&
			{ { [ $first = 0 ] && [ "${off[0]}" = 0 ]; } || { [ $first = nonzero ] && [ "${off[0]}" != 0 ]; }; } &&
			[ "$sinit" = "$o_sinit" ] && [ "$shs" = "$o_shs" ] && [ "$reused" = unique ] &&
			{ [ "$order" = increasing ] || [ $first = nonzero ]; } && ok=0
		what="ClientHello in $want_n Initial datagrams (offsets $offs, >= $minudp bytes)" ;;
	sh2-flight3)
		[ "${#off[@]}" -eq 1 ] && [ "$sinit" -eq $((o_sinit + 1)) ] && [ "$shs" -eq $((o_shs + 1)) ] &&
			[ "$reused" = unique ] && [ "$order" = increasing ] && ok=0
		what="ServerHello in $sinit Initials, $shs server Handshake packets (original: $o_sinit, $o_shs)" ;;
	*) what="unknown case $case" ;;
	esac
	check "$name: $what, packet numbers $reused, $order" $ok "[$shape] original [${orig_shape[$o]}]"

	# 2. certsentry: the original's chain, SNI and alerts.
	rc=$(run "$f" "$tmp/$name.json")
	got=$($py "$tmp/summary.py" "$tmp/$name.json")
	read -r ochain oalerts osni _ overdicts <<<"${orig_sum[$o]}"
	case $case in
	*-mismatch)
		want_alerts=$(printf '%s\n' ${oalerts//;/ } cloudflare-dns:stream-mismatch | grep -vx -- - |
			sort | paste -sd';' -)
		want="$ochain $want_alerts $osni mismatch $overdicts"
		what="stream_mismatch, the first copy's verdict ($overdicts) and SNI kept" ;;
	*)
		want="$ochain $oalerts $osni same $overdicts"
		what="the original's chain, SNI and alerts ($oalerts)" ;;
	esac
	want_rc=0    # certsentry exits 1 when it alerted
	[ "$(echo "$want" | cut -d' ' -f2)" != - ] && want_rc=1
	check "$name: $what" "$([ "$got" = "$want" ] && [ "$rc" -eq "$want_rc" ]; echo $?)" \
		"rc=$rc/$want_rc got [$got] want [$want] $(head -2 "$tmp/$name.json.err")"

	# 3. tshark reads the same certificates.
	tc=$(tshark_chain "$f" "$s/$name.keys" $port)
	check "$name: tshark reads the same certificates" "$([ "$tc" = "$ochain" ]; echo $?)" \
		"tshark [$tc] want [$ochain]"
done
check "captures ($n)" "$([ "$n" -ge 18 ]; echo $?)"

# 4. Every line written passes Suricata's schema.
cat "$tmp"/*.json > "$tmp/all.eve"
out=$($py "$validate" "$tmp/all.eve" 2>&1); rc=$?
check "EVE schema: $(printf '%s\n' "$out" | tail -1)" "$rc" "$(printf '%s\n' "$out" | head -3)"
