#!/usr/bin/env bash
# What an alert says, on captures:
#   - the reason names what the certificate is for ("for protected 1.1.1.1")
#     and where it was presented ("presented at protected 1.0.0.1"), each
#     for what it is (forged-issuer.pcap: a certificate for 1.1.1.1 served
#     at 1.0.0.1; ipv6-rogue.pcap; rogue-elsewhere.pcap; sni-protected.pcap);
#   - what to do follows the chain's trust: the test PKI's rogue root
#     under no store (private): the interception point, no Certificate
#     Transparency; the same chain with a store trusting its root (public):
#     CT, revocation, the CA's problem reporting address (CCADB: the test
#     certificates carry no CPS); no store at all: both; self-signed: the
#     interception point;
#   - a real capture's public chains (../shared/realworld, suricata-verify's
#     tls-subjectaltname.pcap, a store made of the roots they sent): the CPS
#     address of the leaf, or of its issuer when the leaf has none;
#   - no OpenSSL wording (any X509_verify_cert_error_string) in any event of
#     any capture of pcaps/captures.tsv;
#   - an alert names its owner, verdict and reason once (no owners[] copy),
#     and every line passes ../shared/eve/validate.
set -u
cd "$(dirname "$0")/.."
bin=${CERTSENTRY:-./certsentry}
rw=${REALWORLD:-../shared/realworld}
rules=pcaps/test.rules
py=/usr/bin/python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

check() {   # check NAME STATUS [details]
	if [ "$2" -eq 0 ]; then echo "ok alert-text $1"; else echo "not ok alert-text $1 ${3:-}"; fi
}

# reasons EVE: each alert as "trust|severity|reason", one a line.
reasons() {
	$py -c 'import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e["event_type"] == "alert":
        c = e["certsentry"]
        print("%s|%s|%s" % (c.get("trust", "-"), e["alert"]["severity"], c["reason"]))' "$1"
}

run() {   # run OUT ARGS...: certsentry into OUT, the EVE kept for the schema check
	local out=$1
	shift
	rm -f "$out"
	"$bin" -q "$@" -o "$out" 2>"$out.err"
	[ -f "$out" ] || : > "$out"
	cat "$out" >> "$tmp/all.eve"
}

# has NAME EVE TEXT...: every TEXT is in the capture's one alert's line
# (trust|severity|reason); a TEXT starting with '!' must not be.
has() {
	local name=$1 eve=$2 line t bad=""
	shift 2
	line=$(reasons "$eve")
	[ "$(printf '%s\n' "$line" | grep -c .)" = 1 ] || bad="not one alert;"
	for t in "$@"; do
		case "$t" in
		!*) printf '%s' "$line" | grep -qF -- "${t#!}" && bad="$bad has '${t#!}';" ;;
		*) printf '%s' "$line" | grep -qF -- "$t" || bad="$bad no '$t';" ;;
		esac
	done
	check "$name" "$([ -z "$bad" ]; echo $?)" "($bad: $line)"
}

# ---- for and presented at --------------------------------------------------
run "$tmp/forged.json" -R $rules -r pcaps/forged-issuer.pcap
has "certificate for 1.1.1.1 served at 1.0.0.1" "$tmp/forged.json" \
	"'CN=1.1.1.1' for protected 1.1.1.1, presented at protected 1.0.0.1 (owner cloudflare-dns):" \
	"!for protected 1.0.0.1"
run "$tmp/v6.json" -R $rules -r pcaps/ipv6-rogue.pcap
has "served at an IPv6 address" "$tmp/v6.json" \
	"for protected 1.1.1.1, presented at protected 2606:4700:4700::1111 (owner cloudflare-dns),"
run "$tmp/elsewhere.json" -R $rules -r pcaps/rogue-elsewhere.pcap
has "served at an unprotected address: for only" "$tmp/elsewhere.json" \
	"'CN=1.1.1.1' for protected 1.1.1.1 (owner cloudflare-dns) was issued by" "!presented at"
run "$tmp/sni.json" -R $rules -r pcaps/sni-protected.pcap
has "another name at a protected SNI: presented at only" "$tmp/sni.json" \
	"'CN=www.example.org' presented at protected one.one.one.one (owner" "!for protected"

# ---- what to do, by trust ------------------------------------------------------
rogue=pcaps/fina-rogue-doh.pcap
run "$tmp/private.json" -R $rules -r $rogue --trust-store test=pcaps/pki/approved-root.pem
has "private: the interception point, no CT" "$tmp/private.json" "private|2|" \
	"for protected 1.1.1.1, presented there (owner cloudflare-dns), was issued by" \
	"(the chain ends at a root this owner has not approved)." \
	"No public root store trusts its CA: find the interception point on the path" \
	"!Transparency" "!certificate chain"
run "$tmp/public.json" -R $rules -r $rogue --trust-store microsoft=pcaps/pki/rogue-root.pem
has "public: CT, revocation, the problem reporting address" "$tmp/public.json" "public|1|" \
	"A public root store (microsoft) trusts its CA" "check Certificate Transparency" \
	"ask the CA to revoke it" "problem reporting address (listed in CCADB)." "!interception"
run "$tmp/nostore.json" -R $rules -r $rogue --trust-store none
has "no store: both, and why" "$tmp/nostore.json" \
	"No root store was loaded to tell a public CA from a private one. If the CA is public"
run "$tmp/self.json" -R $rules -r pcaps/selfsigned-interceptor.pcap
has "self-signed: the interception point" "$tmp/self.json" \
	"Self-signed certificate 'CN=cloudflare-dns.com' for protected 1.1.1.1, presented there" \
	"No CA vouches for it: find the interception point on the path" "!Transparency"

# ---- a public CA's CPS address, on a real capture ------------------------------
msn=$rw/pcaps/suricata-verify/tls-subjectaltname.pcap
if [ ! -f "$msn" ]; then
	check "real capture $msn" 1 "(missing: see ../shared/realworld)"
else
	printf 'owner ads\nprotect zone msn.com doubleclick.net\napprove ca %s\n' \
		"$PWD/pcaps/pki/approved-root.pem" > "$tmp/ads.rules"
	# The store: the top CA certificate of each chain the servers sent
	# (DigiCert Global Root CA, GTS Root R1), whatever the machine's
	# bundle holds.
	run "$tmp/ads0.json" -R "$tmp/ads.rules" -r "$msn" --trust-store none
	$py - "$tmp/ads0.json" "$tmp/roots.pem" <<'EOF'
import base64, json, subprocess, sys
pems = set()
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e["event_type"] != "alert":
        continue
    top = e["certsentry"]["certificates"][-1]
    if top.get("is_ca"):
        der = base64.b64decode(e["tls"]["chain"][-1])
        pems.add(subprocess.run(["openssl", "x509", "-inform", "DER"], input=der,
                                capture_output=True, check=True).stdout)
open(sys.argv[2], "wb").write(b"".join(sorted(pems)))
EOF
	run "$tmp/ads.json" -R "$tmp/ads.rules" -r "$msn" --trust-store none \
		--trust-store web="$tmp/roots.pem"
	r=$(reasons "$tmp/ads.json")
	printf '%s\n' "$r" | grep -q "^public|1|Certificate 'C=US, ST=Washington, L=Redmond, O=Microsoft Corporation, CN=\*\.vo' for protected ecnads1.msn.com (owner ads) .*A public root store (web) trusts its CA.*problem reporting address (given in its CPS, http://www.digicert.com/CPS)\.$"
	check "public, the leaf's CPS address" $? "($r)"
	printf '%s\n' "$r" | grep -q "^public|1|Certificate 'CN=\*\.g\.doubleclick\.net' .*problem reporting address (given in its CPS, https://pki.goog/repository/)\.$"
	check "public, the issuer's CPS address when the leaf has none" $? "($r)"
fi

# ---- no OpenSSL wording, one owner, verdict and reason an alert -----------------
while IFS=$'\t' read -r file _; do
	case "$file" in ''|'#'*|file) continue ;; esac
	run "$tmp/c-${file%.pcap}.json" -R $rules -r "pcaps/$file"
done < pcaps/captures.tsv
$py - "$tmp/all.eve" <<'EOF' > "$tmp/words.txt"
import ctypes, json, sys
ssl = ctypes.CDLL("libcrypto.so.3")
ssl.X509_verify_cert_error_string.restype = ctypes.c_char_p
words = {ssl.X509_verify_cert_error_string(i).decode() for i in range(0, 128)}
words.discard("unknown certificate verification error")
# "ok" (X509_V_OK) is no sentence; the rest are OpenSSL's descriptions.
words.discard("ok")
events = [json.loads(l) for l in open(sys.argv[1])]
# What certsentry writes in its own object (Suricata's alert.signature
# is certsentry's signature name, not a description of an error).
text = "\n".join(json.dumps(e.get("certsentry", {})) for e in events)
found = sorted(w for w in words if w in text)
alerts = [e for e in events if e["event_type"] == "alert"]
bad = [a["flow_id"] for a in alerts
       if "owners" in a["certsentry"] or not all(k in a["certsentry"] for k in ("owner", "verdict", "reason"))]
print(len(words), len(alerts), len(found), len(bad), "|".join(found))
EOF
read -r n_words n_alerts n_found n_bad found < "$tmp/words.txt"
check "no OpenSSL wording in any event ($n_words strings, $n_alerts alerts)" \
	$((n_found != 0 || n_words < 50 || n_alerts < 15)) "(found: $found)"
check "an alert says owner, verdict and reason once, without owners[]" $((n_bad != 0)) \
	"($n_bad alerts)"
if ../shared/eve/validate "$tmp/all.eve" > "$tmp/validate.txt" 2>&1; then
	check "EVE schema: $(tail -1 "$tmp/validate.txt")" 0
else
	check "EVE schema" 1 "$(head -5 "$tmp/validate.txt")"
fi
