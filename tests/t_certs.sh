#!/usr/bin/env bash
# --certs PATH...: certificate files judged without packets, with the
# default options.  Checks:
#   - every chain the shipped captures carry, taken from the network run's
#     tls events (--tls-chain) and written as DER and as PEM: the file
#     gives the network path's verdict for each owner whose asset the
#     certificates name (an alert that only the endpoint made - a chain
#     for another name served at 1.1.1.1 - cannot be found without the
#     endpoint), the same severity, trust and chain_sha256; approved chains
#     give none;
#   - certificates this script makes with its own CA (never approved): a
#     rogue one for a protected name, and a CN-only IP certificate (no SAN)
#     for 1.1.1.1, each unapproved-issuer; the same CA's certificate for an
#     unprotected name, nothing;
#   - a PEM file with text before the block and a private key beside it; a
#     directory, judged in name order;
#   - files that are not certificates (junk, empty, truncated DER, broken
#     base64, a PEM of a key only): "FILE: reason" each, the rest judged,
#     exit 2;
#   - every line passes ../shared/eve/validate and has no network field.
set -u
cd "$(dirname "$0")/.."
bin=${CERTSENTRY:-./certsentry}
py=/usr/bin/python3
rules=pcaps/test.rules
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

check() {   # check NAME STATUS [details]
	if [ "$2" -eq 0 ]; then echo "ok certs $1"; else echo "not ok certs $1 ${3:-}"; fi
}

# ---- the captures' chains, as files -----------------------------------------

caps=$(awk -F'\t' 'NR > 1 {print "pcaps/" $1}' pcaps/captures.tsv)
# shellcheck disable=SC2086
for c in $caps; do
	$bin -q -R "$rules" -r "$c" --tls-chain --cert-log every --alert-window 0 -o - 2>/dev/null
done > "$tmp/net.json"
mkdir "$tmp/der" "$tmp/pem"
$py - "$tmp" <<'PY'
import base64, json, sys
tmp = sys.argv[1]
seen = {}
for line in open(tmp + "/net.json"):
    e = json.loads(line)
    if e["event_type"] != "tls" or not e.get("tls", {}).get("chain"):
        continue
    sha = e["certsentry"]["chain_sha256"]
    # a leaf OpenSSL cannot parse is an error of the file, not a chain to
    # judge (the network path says unverifiable-chain at the endpoint)
    if sha in seen or "parse_error" in e["certsentry"]["certificates"][0]:
        continue
    seen[sha] = 1
    der = [base64.b64decode(c) for c in e["tls"]["chain"]]
    open("%s/der/%s.der" % (tmp, sha), "wb").write(b"".join(der))
    with open("%s/pem/%s.pem" % (tmp, sha), "w") as f:
        for d in der:
            b = base64.b64encode(d).decode()
            f.write("-----BEGIN CERTIFICATE-----\n")
            f.write("".join(b[i:i + 64] + "\n" for i in range(0, len(b), 64)))
            f.write("-----END CERTIFICATE-----\n")
PY
nchains=$(find "$tmp/der" -name '*.der' | wc -l)
for form in der pem; do
	$bin -R "$rules" --certs "$tmp/$form" -o "$tmp/$form.json" 2> "$tmp/$form.err"; rc=$?
	out=$($py - "$tmp/net.json" "$tmp/$form.json" <<'PY'
import json, sys
net, files = {}, {}
for line in open(sys.argv[1]):
    e = json.loads(line)
    if (e["event_type"] != "alert" or e["certsentry"]["verdict"] == "stream-mismatch"
            or "chain_sha256" not in e["certsentry"]):
        continue
    c = e["certsentry"]
    by_cert = any(not m.startswith(("ip:", "sni:")) for m in c["matched"])
    net.setdefault((c["chain_sha256"], c["owner"]), set()).add(
        (c["verdict"], e["alert"]["severity"], c.get("trust"), by_cert))
for line in open(sys.argv[2]):
    e = json.loads(line)
    c = e["certsentry"]
    files[(c["chain_sha256"], c["owner"])] = (c["verdict"], e["alert"]["severity"], c.get("trust"))
bad = []
for k, v in files.items():
    if not any(v == n[:3] for n in net.get(k, ())):
        bad.append("file %s %s: %s, network %s" % (k[0][:12], k[1], v, net.get(k)))
for k, n in net.items():
    if any(x[3] for x in n) and k not in files:
        bad.append("network %s %s: %s, no file alert" % (k[0][:12], k[1], n))
print("%d alerts" % len(files) if not bad else "; ".join(bad))
PY
)
	case "$out" in *" alerts") same=0 ;; *) same=1 ;; esac
	check "$form: the captures' $nchains chains give the network path's verdicts ($out)" \
		$(( rc != 1 || same )) "rc=$rc $(head -3 "$tmp/$form.err")"
done
read -r napproved nalerted < <($py - "$tmp/net.json" "$tmp/der.json" <<'PY'
import json, sys
approved = set()
for l in open(sys.argv[1]):
    e = json.loads(l)
    c = e["certsentry"]
    if e["event_type"] == "tls" and c.get("owners") and \
            all(o["verdict"] == "approved" for o in c["owners"]):
        approved.add(c["chain_sha256"])
alerted = {json.loads(l)["certsentry"]["chain_sha256"] for l in open(sys.argv[2])}
print(len(approved), len(approved & alerted))
PY
)
check "the $napproved chains approved on the wire raise nothing from a file" \
	$(( napproved == 0 || nalerted != 0 ))

# ---- certificates of our own CA ---------------------------------------------

k() { openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 "$@" 2>/dev/null; }
k -keyout "$tmp/ca.key" -out "$tmp/ca.pem" -subj "/O=Test-made Rogue/CN=Rogue CA" \
	-addext basicConstraints=critical,CA:TRUE
leaf() {   # leaf NAME SUBJECT [EXT]
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$tmp/$1.key" \
		-out "$tmp/$1.csr" -subj "$2" 2>/dev/null
	if [ -n "${3:-}" ]; then
		printf '%s\n' "$3" > "$tmp/$1.ext"
		openssl x509 -req -in "$tmp/$1.csr" -CA "$tmp/ca.pem" -CAkey "$tmp/ca.key" \
			-CAcreateserial -days 30 -extfile "$tmp/$1.ext" -out "$tmp/$1.crt" 2>/dev/null
	else
		openssl x509 -req -in "$tmp/$1.csr" -CA "$tmp/ca.pem" -CAkey "$tmp/ca.key" \
			-CAcreateserial -days 30 -out "$tmp/$1.crt" 2>/dev/null
	fi
	cat "$tmp/$1.crt" "$tmp/ca.pem" > "$tmp/$1.pem"
}
leaf name "/CN=rogue" "subjectAltName=DNS:one.one.one.one"
leaf cnip "/CN=1.1.1.1"
leaf other "/CN=www.example.org" "subjectAltName=DNS:www.example.org"
# text before the block (openssl x509 -text), and the key beside the chain
{ openssl x509 -in "$tmp/name.crt" -noout -text; cat "$tmp/name.pem" "$tmp/name.key"; } > "$tmp/text.pem"
verdicts() {   # verdicts EVE: "FILE VERDICT MATCHED" lines
	$py -c 'import json, os, sys
for l in open(sys.argv[1]):
    c = json.loads(l)["certsentry"]
    print(os.path.basename(c["source"]), c["verdict"], ",".join(c["matched"]))' "$1"
}
$bin -q -R "$rules" --certs "$tmp/name.pem" "$tmp/cnip.pem" "$tmp/other.pem" "$tmp/text.pem" \
	-o "$tmp/own.json" 2> "$tmp/own.err"; rc=$?
got=$(verdicts "$tmp/own.json" | paste -sd';' -)
want="name.pem unapproved-issuer san-dns:one.one.one.one;cnip.pem unapproved-issuer cn:1.1.1.1;text.pem unapproved-issuer san-dns:one.one.one.one"
check "own CA: protected name, CN-only IP, text and key around the PEM ($got)" \
	$([ "$rc" -eq 1 ] && [ "$got" = "$want" ]; echo $?) "rc=$rc want $want; $(cat "$tmp/own.err")"

# ---- a directory, and files that are not certificates ------------------------

mkdir "$tmp/dir"
cp "$tmp/cnip.pem" "$tmp/dir/b.pem"
cp "$tmp/name.pem" "$tmp/dir/a.pem"
echo 'not a certificate' > "$tmp/dir/c-junk.txt"
: > "$tmp/dir/d-empty.der"
openssl x509 -in "$tmp/name.crt" -outform DER | head -c 200 > "$tmp/dir/e-truncated.der"
sed '2s/^..../!!!!/' "$tmp/name.crt" > "$tmp/dir/f-badbase64.pem"
cp "$tmp/name.key" "$tmp/dir/g-key-only.pem"
cp "$tmp/other.pem" "$tmp/dir/h.pem"
$bin -R "$rules" --certs "$tmp/dir" -o "$tmp/dir.json" 2> "$tmp/dir.err"; rc=$?
got=$(verdicts "$tmp/dir.json" | cut -d' ' -f1 | paste -sd, -)
check "a directory in name order, errors between ($got)" \
	$([ "$rc" -eq 2 ] && [ "$got" = "a.pem,b.pem" ]; echo $?) "rc=$rc"
for f in "c-junk.txt: not PEM, and not a DER certificate" "d-empty.der: empty file" \
         "e-truncated.der: not PEM, and not a DER certificate" \
         "f-badbase64.pem: malformed PEM block after certificate 0" \
         "g-key-only.pem: PEM file without a CERTIFICATE block"; do
	grep -qxF "$tmp/dir/$f" "$tmp/dir.err"
	check "error: ${f#*: } (${f%%:*})" $? "$(grep "${f%%:*}" "$tmp/dir.err")"
done
grep -q "^certsentry: 8 files, 3 chains judged (1 by names only), 2 alerts, 5 errors$" "$tmp/dir.err"
check "summary: 8 files, 3 chains judged, 2 alerts, 5 errors" $? "$(tail -1 "$tmp/dir.err")"
$bin -q --certs "$tmp/nonexistent.pem" -o /dev/null 2> "$tmp/err"; rc=$?
grep -qxF "$tmp/nonexistent.pem: No such file or directory" "$tmp/err"
check "a missing file: said, exit 2" $(( rc != 2 || $? )) "rc=$rc $(cat "$tmp/err")"
$bin -q --certs -r pcaps/multi.pcap "$tmp/name.pem" > /dev/null 2> "$tmp/err"; rc=$?
check "--certs with -r is refused (exit 2)" $(( rc != 2 ))

# ---- the EVE lines -----------------------------------------------------------

cat "$tmp/der.json" "$tmp/pem.json" "$tmp/own.json" "$tmp/dir.json" > "$tmp/all.json"
if ../shared/eve/validate "$tmp/all.json" > "$tmp/v" 2>&1; then
	echo "ok certs EVE schema: $(tail -1 "$tmp/v")"
else
	echo "not ok certs EVE schema"; head -5 "$tmp/v" | sed 's/^/# /'
fi
n=$(grep -c -e '"src_ip"' -e '"flow_id"' -e '"dest_port"' -e '"pcap_filename"' "$tmp/all.json")
check "no network field in a file's alert" "$n"
exit 0
