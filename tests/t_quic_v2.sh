#!/usr/bin/env bash
# QUIC version 2 (RFC 9369) end to end, on the captures of pcaps/quic/v2/:
# real v1 sessions of pcaps/quic/ re-sealed as v2 by tests/mkquicv2.py
# (Debian 12's stacks speak only the draft's 0x709a50c4); its README and
# expected.tsv list them.  For each, with the defaults (-R quic.rules
# -r FILE; the key log from the pcapng's Decryption Secrets Block):
#   1. the capture is what the table says (read with tshark 4.0, which
#      reads RFC 9369): the QUIC versions of its long headers in wire
#      order (v2 only, or v1 then v2 for compatible negotiation, the
#      reserved version then v2 for Version Negotiation), and tshark reads
#      the table's certificates from it with the key log (none from the
#      control sealed with v1's labels);
#   2. certsentry reads the same chain (SHA-256 of each certificate), SNI
#      and verdicts as on the v1 original, and the table's alerts; its
#      quic events carry the connection's version as Suricata writes one
#      (hex digits: "6b3343cf", "1" for v1; rust/src/quic/parser.rs), the
#      one the server answered in when a compatible negotiation moved the
#      client from v1 to v2 or from v2 to v1; the
#      control (Handshake and 1-RTT packets sealed with v1's labels) must
#      NOT match its original: its packets fail authentication, counted,
#      and the protected endpoint's handshake is reported unverified;
#   3. without the secrets (the DSB dropped): the handshake is reported,
#      its certificates encrypted, the asset counted as not checked; the
#      key log as a file (--keylog) reads it as the DSB does; --learn
#      fingerprints a v2 server's flight;
#   4. Retry and Version Negotiation are counted; --workers 2 and an
#      --evidence replay give the same events; every line passes
#      ../shared/eve/validate.
set -u
cd "$(dirname "$0")/.." || exit 1
bin=${CERTSENTRY:-./certsentry}
py=/usr/bin/python3
q=pcaps/quic
v=$q/v2
rules=$q/quic.rules
validate=../shared/eve/validate
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

check() {   # check NAME STATUS [details]
	if [ "$2" -eq 0 ]; then echo "ok quic-v2 $1"; else echo "not ok quic-v2 $1 ${3:-}"; fi
}

if [ ! -f "$v/expected.tsv" ]; then
	echo "not ok quic-v2: no $v/expected.tsv"
	exit 1
fi

# summary.py EVE: "CHAINS ALERTS SNI VERSIONS VERDICTS" of one run: the
# chains read (SHA-256s, in order), the alerts (sorted owner:verdict), the
# quic events' SNI and quic.version, the per-owner verdicts.
cat > "$tmp/summary.py" <<'PY'
import json, sys
chains, alerts, sni, ver, verdicts = [], [], [], [], []
for line in open(sys.argv[1]):
    d = json.loads(line)
    c = d.get("certsentry", {})
    if d["event_type"] == "alert":
        alerts.append("%s:%s" % (c["owner"], c["verdict"]))
    if d["event_type"] != "quic":
        continue
    if d.get("proto") != "UDP" or d.get("app_proto") != "quic":
        ver.append("not-quic")
    chains.append(",".join(x["sha256"] for x in c.get("certificates", [])) or "-")
    sni.append(d.get("quic", {}).get("sni", "-"))
    ver.append(d.get("quic", {}).get("version", "-"))
    verdicts += ["%s:%s" % (o["owner"], o["verdict"]) for o in c.get("owners", [])]
print("|".join(chains) or "-", ";".join(sorted(alerts)) or "-", "|".join(sni) or "-",
      "|".join(ver) or "-", ";".join(sorted(verdicts)) or "-")
PY

# versions.py PCAP PORT: the QUIC versions of the long headers in wire
# order, repeats and Version Negotiation (version 0) left out.
cat > "$tmp/versions.py" <<'PY'
import subprocess, sys
out = subprocess.run(["tshark", "-n", "-r", sys.argv[1], "-d", "udp.port==%s,quic" % sys.argv[2],
                      "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=,",
                      "-e", "quic.version"], check=True, capture_output=True, text=True).stdout
seq = []
for v in ",".join(out.split()).split(","):
    if v and int(v, 16) != 0 and (not seq or seq[-1] != v):
        seq.append(v)
print(",".join(seq) or "-")
PY

# nosecrets.py IN OUT: the capture without its Decryption Secrets Blocks.
cat > "$tmp/nosecrets.py" <<'PY'
import sys
from scapy.all import rdpcap, wrpcap
wrpcap(sys.argv[2], rdpcap(sys.argv[1]))
PY

tshark_chain() {   # PCAP KEYS PORT: SHA-256 of each certificate tshark reads
	tshark -n -r "$1" -o "tls.keylog_file:$2" -d "udp.port==$3,quic" -Y tls.handshake.certificate \
		-T fields -e tls.handshake.certificate 2>/dev/null | $py -c '
import hashlib, re, sys
print(",".join(hashlib.sha256(bytes.fromhex(c)).hexdigest() for c in re.split(r"[,\s]+", sys.stdin.read()) if c) or "-")'
}

run() {   # run PCAP OUT [OPTIONS]: certsentry with the defaults; prints its exit code
	local f=$1 o=$2
	shift 2
	rm -f "$o"
	"$bin" -R "$rules" -r "$f" -o "$o" "$@" 2>"$o.sum"
	echo $?
}

declare -A orig
n=0
while IFS=$'\t' read -r file src keys mode stack vers qver suite sni alpn chain alerts sha what; do
	[ "$file" = file ] && continue
	name=${file%.pcapng}
	n=$((n + 1))
	port=443; case $alpn in doq) port=853 ;; esac
	grep -q "^| \`$file\` |" "$v/README.md"
	check "$name: listed in $v/README.md" $?

	# 1. The capture, as tshark reads it.
	got=$($py "$tmp/versions.py" "$v/$file" $port)
	check "$name: long header versions in wire order $vers" "$([ "$got" = "$vers" ]; echo $?)" \
		"got [$got]"
	tc=$(tshark_chain "$v/$file" "$v/$keys" $port)
	check "$name: tshark reads the certificates the table lists (${sha:0:8}...)" \
		"$([ "$tc" = "$sha" ]; echo $?)" "tshark [$tc]"

	# 2. certsentry on the v1 original and on the v2 capture.
	o=${src%.pcapng}
	if [ -z "${orig[$o]:-}" ]; then
		run "$q/$src" "$tmp/$o.orig.json" >/dev/null
		orig[$o]=$($py "$tmp/summary.py" "$tmp/$o.orig.json")
	fi
	rc=$(run "$v/$file" "$tmp/$name.json")
	got=$($py "$tmp/summary.py" "$tmp/$name.json")
	read -r ochain oalerts osni _ overdicts <<<"${orig[$o]}"
	want="$ochain $oalerts $osni $qver $overdicts"
	want_rc=0
	[ "$alerts" != - ] && want_rc=1
	read -r _ galerts _ <<<"$got"
	if [ "$mode" = v1labels ]; then
		# The control: the same comparison must fail, and say why.
		opened=$(sed -n 's/.*packets opened [0-9]* (authentication failures \([0-9]*\),.*/\1/p' \
			"$tmp/$name.json.sum")
		check "$name: sealed with v1 labels, NOT the original's result (auth failures ${opened:-?}, $galerts)" \
			"$([ "$got" != "$want" ] && [ "$galerts" = "$alerts" ] && [ "${opened:-0}" -gt 0 ] &&
			   [ "$rc" -eq "$want_rc" ]; echo $?)" "got [$got]"
		continue
	fi
	check "$name ($mode, $suite): the original's chain, SNI and verdicts; version $qver" \
		"$([ "$got" = "$want" ] && [ "$galerts" = "$alerts" ] && [ "$(echo "$got" | cut -d' ' -f1)" = "$sha" ] &&
		   [ "$rc" -eq "$want_rc" ]; echo $?)" \
		"rc=$rc/$want_rc got [$got] want [$want] alerts [$alerts] $(grep -v '^ ' "$tmp/$name.json.sum" | head -2)"
	grep -q '^  quic: .*authentication failures 0,' "$tmp/$name.json.sum"
	check "$name: no packet failed authentication" $? "$(grep quic: "$tmp/$name.json.sum")"
	case $what in
	*Retry*) grep -q '^  quic: .* retries 1,' "$tmp/$name.json.sum"
		check "$name: the Retry counted as valid" $? "$(grep quic: "$tmp/$name.json.sum")" ;;
	*"Version Negotiation"*)
		# The VN answers an Initial no flow was made for (a version
		# not read): still counted, beside that Initial's version.
		grep -q '^  quic: .* other versions 1, retries 0, version negotiations 1,' "$tmp/$name.json.sum"
		check "$name: the reserved version and the Version Negotiation counted" $? \
			"$(grep quic: "$tmp/$name.json.sum")" ;;
	esac

	# 3. Without the secrets; then the key log as a file.
	$py "$tmp/nosecrets.py" "$v/$file" "$tmp/$name.pcap" 2>/dev/null
	run "$tmp/$name.pcap" "$tmp/$name.nokey.json" >/dev/null
	hs=$($py -c '
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
q = [e for e in ev if e["event_type"] == "quic"]
print(len(q), q[0]["quic"].get("version") if q else "-", q[0]["certsentry"].get("handshake") if q else "-",
      ",".join(sorted(set(o["verdict"] for e in q for o in e["certsentry"].get("owners", [])))) or "-")' \
		"$tmp/$name.nokey.json")
	check "$name without keys: reported, certificates encrypted, not visible ($hs)" \
		"$([ "$hs" = "1 $qver encrypted not-visible" ]; echo $?)"
	grep -q '^  coverage: .*: 1 handshake: not checked 1 (QUIC without a key log 1)' "$tmp/$name.nokey.json.sum"
	check "$name without keys: its asset counted as not checked" $? \
		"$(grep coverage "$tmp/$name.nokey.json.sum" | head -2)"
	run "$tmp/$name.pcap" "$tmp/$name.kl.json" --keylog "$v/$keys" >/dev/null
	got=$($py "$tmp/summary.py" "$tmp/$name.kl.json")
	check "$name: --keylog FILE reads it as the DSB does" "$([ "$got" = "$want" ]; echo $?)" \
		"got [$got] want [$want]"
done < "$v/expected.tsv"
check "captures listed ($n)" "$([ "$n" -ge 12 ]; echo $?)"

# 3b. --learn fingerprints a v2 server's Handshake packets without keys.
"$bin" -q -R "$rules" -r "$tmp/doq-rogue-v2.pcap" --learn "$tmp/fp" -o /dev/null 2>/dev/null
grep -q '^shape endpoint=1.1.1.1:853 .* records=[1-9]' "$tmp/fp"
check "--learn: a v2 server's flight fingerprinted without keys" $? "$(grep -v '^#' "$tmp/fp")"

# 4. Two workers: the same events.
for f in doq-rogue-v2 h3-ngtcp2-retry-v2 doq-rogue-compat; do
	"$bin" -q --workers 2 -R "$rules" -r "$v/$f.pcapng" -o "$tmp/$f.w2.json" 2>/dev/null
	a=$($py "$tmp/summary.py" "$tmp/$f.json")
	b=$($py "$tmp/summary.py" "$tmp/$f.w2.json")
	check "$f: --workers 2 gives the same events" "$([ "$a" = "$b" ]; echo $?)" "[$a] [$b]"
done

# --evidence: a v2 alert's handshake is kept as a pcapng with its secret,
# which replays to the same events with no key log given.
mkdir -p "$tmp/ev"
"$bin" -q -R "$rules" -r "$v/h3-ngtcp2-chacha-v2.pcapng" --evidence "$tmp/ev" -o /dev/null 2>/dev/null
ev=$(ls "$tmp/ev"/*.pcapng 2>/dev/null | head -1)
"$bin" -q -R "$rules" -r "${ev:-/nonexistent}" -o "$tmp/ev.json" 2>/dev/null
a=$($py "$tmp/summary.py" "$tmp/h3-ngtcp2-chacha-v2.json")
b=$($py "$tmp/summary.py" "$tmp/ev.json" 2>/dev/null)
check "--evidence: the v2 handshake replays to the same events" \
	"$([ -n "$ev" ] && [ "$a" = "$b" ]; echo $?)" "[$a] [$b]"

# Every line written passes Suricata's schema.
cat "$tmp"/*.json > "$tmp/all.eve"
out=$($py "$validate" "$tmp/all.eve" 2>&1); rc=$?
check "EVE schema: $(printf '%s\n' "$out" | tail -1)" "$rc" "$(printf '%s\n' "$out" | head -3)"
