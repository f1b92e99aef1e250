#!/usr/bin/env bash
# Compressed certificates (RFC 8879) over TCP: pcaps/certcomp/, made once
# by tests/mkcertcomp.sh (a BoringSSL server compressing with brotli,
# zlib, zstd; this script needs no BoringSSL).  Default options plus -R
# and --keylog:
#   - every capture of pcaps/certcomp/captures.tsv: exactly the alerts
#     listed, and the verdict of its TLS 1.2 twin (rogue alerts, approved
#     does not); the tls event says which algorithm compressed the
#     certificate (certsentry.tls13.compressed_certificate), or nothing
#     when none did; the certificates were read ("decrypted");
#   - the chain read is the twin's chain, byte for byte (same server,
#     same certificates), and for brotli the certificates tshark 4.0
#     decompresses itself;
#   - the metrics count each algorithm;
#   - the old outcome `compressed-certificate` appears nowhere;
#   - every EVE line passes ../shared/eve/validate.
set -u
cd "$(dirname "$0")/.."
bin=${CERTSENTRY:-./certsentry}
py=/usr/bin/python3
d=pcaps/certcomp
rules=$d/certcomp.rules
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
[ -x "$bin" ] || { echo "not ok certcomp: no binary $bin"; exit 1; }
[ -f "$d/captures.tsv" ] || { echo "not ok certcomp: $d/captures.tsv missing (tests/mkcertcomp.sh)"; exit 1; }

# run NAME ARGS...: certsentry into $tmp/NAME.json (+ .err, .rc); its
# output joins the schema check.
run() {
	local name=$1
	shift
	"$bin" -R "$rules" -o "$tmp/$name.json" "$@" 2>"$tmp/$name.err"
	echo $? >"$tmp/$name.rc"
	cat "$tmp/$name.json" >>"$tmp/all.eve" 2>/dev/null
}
alerts() { $py tests/evetool.py alerts "$tmp/$1.json"; }
check() { # NAME GOT WANT
	if [ "$2" = "$3" ]; then echo "ok $1"; else echo "not ok $1: got '$2', want '$3'"; fi
}
# The tls events' certsentry.tls13 (certificates/compressed_certificate), or "-".
t13() {
	$py - "$tmp/$1.json" <<'EOF'
import json, sys
out = []
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e.get("event_type") != "tls":
        continue
    t = e.get("certsentry", {}).get("tls13")
    out.append("-" if t is None else "%s/%s" % (t["certificates"], t.get("compressed_certificate", "-")))
print(",".join(out) if out else "-")
EOF
}
# SHA-256s of the chain read, in order (the tls event's
# certsentry.certificates: the chain itself is in tls events only with
# --tls-chain, and these runs keep the default options).
chain() {
	$py - "$tmp/$1.json" <<'EOF'
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e.get("event_type") == "tls":
        print(",".join(c["sha256"] for c in e.get("certsentry", {}).get("certificates", [])))
        break
EOF
}

# ---- every capture -------------------------------------------------------------
while IFS=$'\t' read -r file want keys twin alg; do
	case "$file" in ''|'#'*|file) continue ;; esac
	name=${file%.*}
	args=(-r "$d/$file")
	[ "$keys" != - ] && args+=(--keylog "$d/$keys")
	run "$name" "${args[@]}" --metrics "$tmp/$name.prom"
	want_rc=0
	[ "$want" != - ] && want_rc=1
	check "certcomp alerts $file" "$(alerts "$name") rc=$(cat "$tmp/$name.rc")" "$want rc=$want_rc"
	check "certcomp one tls event $file" "$($py tests/evetool.py count "$tmp/$name.json" tls)" 1
	if [ "$twin" = - ]; then
		check "certcomp tls13 $file" "$(t13 "$name")" "-"
		continue
	fi
	check "certcomp tls13 $file" "$(t13 "$name")" "decrypted/$alg"
	tname=${twin%.*}
	check "certcomp same verdict as the TLS 1.2 twin: $file" "$(alerts "$name")" "$(alerts "$tname")"
	c=$(chain "$name")
	[ -n "$c" ] && [ "$c" = "$(chain "$tname")" ] &&
		echo "ok certcomp same chain as the TLS 1.2 twin: $file" ||
		echo "not ok certcomp same chain as the TLS 1.2 twin: $file: '$c' vs '$(chain "$tname")'"
	if [ "$alg" != - ]; then
		grep -q "^certsentry_tls_compressed_certificates_total{algorithm=\"$alg\"} 1\$" "$tmp/$name.prom" &&
			echo "ok certcomp metrics count $alg: $file" ||
			{ echo "not ok certcomp metrics count $alg: $file"; grep compressed "$tmp/$name.prom"; }
	fi
done <"$d/captures.tsv"

# ---- tshark's certificates (tshark 4.0 decompresses brotli only) ----------------
if command -v tshark >/dev/null; then
	for name in approved-brotli rogue-brotli; do
		ts=$(tshark -n -r "$d/$name.pcap" -o "tls.keylog_file:$d/$name.keys" \
			-o tcp.reassemble_out_of_order:TRUE -Y 'tls.handshake.type == 25' \
			-T fields -e tls.handshake.certificate 2>/dev/null |
			$py -c 'import hashlib, sys
print(",".join(hashlib.sha256(bytes.fromhex(h)).hexdigest()
               for line in sys.stdin for h in line.strip().split(",") if h))')
		[ -n "$ts" ] && [ "$ts" = "$(chain "$name")" ] &&
			echo "ok certcomp certificates equal tshark's: $name ($(echo "$ts" | tr ',' '\n' | wc -l))" ||
			echo "not ok certcomp certificates equal tshark's: $name: tshark '$ts', certsentry '$(chain "$name")'"
	done
else
	echo "not ok certcomp tshark: not installed (tests/deps.sh test)"
fi

# ---- without the key log: not read, and nothing about compression ---------------
run nokeys -r "$d/rogue-brotli.pcap"
check "certcomp no key log: not read" "$(alerts nokeys) $(t13 nokeys)" "- no-key-log/-"

# ---- the old outcome is gone; the schema ----------------------------------------
if grep -q 'compressed-certificate' "$tmp/all.eve"; then
	echo "not ok certcomp the outcome compressed-certificate is gone"
else
	echo "ok certcomp the outcome compressed-certificate is gone"
fi
out=$(../shared/eve/validate "$tmp/all.eve" 2>&1)
if [ $? -eq 0 ]; then
	echo "ok certcomp EVE schema: ${out##*$'\n'}"
else
	echo "not ok certcomp EVE schema"
	printf '%s\n' "$out" | head -20
fi
