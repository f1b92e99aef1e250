#!/usr/bin/env bash
# --ct-json FILE...: Certificate Transparency entries (get-entries JSON, or
# one entry a line) judged by the rules, with the default options.  The
# entries are built by tests/mkctentries.py from certificates this script
# makes with its own CA (never approved) and from the committed test PKI.
# Checks:
#   - x509 entries give the verdicts --certs gives for the same chains
#     (rogue for a protected IP, for a protected name, a CN-only IP
#     certificate); the approved chain and one for no one give nothing;
#   - precertificate entries (signed by the CA directly, and through a
#     precertificate signing certificate) alert as unapproved-issuer with
#     a reason saying they were judged by their pre-certificate;
#   - certsentry.ct carries the index (--ct-start), the log timestamp and
#     the entry type; the JSON and the line forms and standard input agree;
#   - malformed entries: a clear "FILE: entry N: reason" each, the rest
#     still judged, exit 2;
#   - every line passes ../shared/eve/validate.
set -u
cd "$(dirname "$0")/.."
bin=${CERTSENTRY:-./certsentry}
py=/usr/bin/python3
rules=pcaps/test.rules
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

check() {   # check NAME STATUS [details]
	if [ "$2" -eq 0 ]; then echo "ok ct $1"; else echo "not ok ct $1 ${3:-}"; fi
}

# ---- certificates -------------------------------------------------------------
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
sign() {   # sign NAME SUBJECT CA EXT...: $tmp/NAME.crt signed by $tmp/CA
	local name=$1 subj=$2 ca=$3
	shift 3
	key "$tmp/$name.key"
	openssl req -new -key "$tmp/$name.key" -subj "$subj" -out "$tmp/$name.csr" 2>/dev/null
	printf '%s\n' "$@" > "$tmp/$name.ext"
	openssl x509 -req -in "$tmp/$name.csr" -CA "$tmp/$ca.crt" -CAkey "$tmp/$ca.key" \
		-CAcreateserial -days 30 -extfile "$tmp/$name.ext" -out "$tmp/$name.crt" 2>/dev/null
}
key "$tmp/ca.key"
openssl req -x509 -new -key "$tmp/ca.key" -subj "/O=Test-made Rogue/CN=Rogue CA" -days 30 \
	-addext basicConstraints=critical,CA:TRUE -out "$tmp/ca.crt" 2>/dev/null
poison="1.3.6.1.4.1.11129.2.4.3=critical,DER:05:00"
sign ip "/CN=rogue ip" ca "subjectAltName=IP:1.1.1.1"
sign name "/CN=rogue name" ca "subjectAltName=DNS:cloudflare-dns.com"
sign cnip "/CN=1.1.1.1" ca "basicConstraints=CA:FALSE"
sign other "/CN=www.example.org" ca "subjectAltName=DNS:www.example.org"
sign pre "/CN=rogue ip" ca "subjectAltName=IP:1.1.1.1" "$poison"
# a precertificate signing certificate (RFC 6962 section 3.1) between
sign pcs "/O=Test-made Rogue/CN=Rogue Precert Signing" ca "basicConstraints=critical,CA:TRUE" \
	"extendedKeyUsage=1.3.6.1.4.1.11129.2.4.4"
sign pre2 "/CN=rogue name" pcs "subjectAltName=DNS:one.one.one.one" "$poison"
for c in ip name cnip other pre; do cat "$tmp/$c.crt" "$tmp/ca.crt" > "$tmp/$c.pem"; done
cat "$tmp/pre2.crt" "$tmp/pcs.crt" "$tmp/ca.crt" > "$tmp/pre2.pem"
cat pcaps/pki/approved-leaf.pem pcaps/pki/approved-issuing.pem > "$tmp/approved.pem"
cat pcaps/pki/rogue-leaf.pem pcaps/pki/rogue-root.pem > "$tmp/fina.pem"
specs="x509:$tmp/approved.pem x509:$tmp/fina.pem x509:$tmp/ip.pem x509:$tmp/name.pem
x509:$tmp/cnip.pem x509:$tmp/other.pem precert:$tmp/pre.pem precert:$tmp/pre2.pem"
# shellcheck disable=SC2086
$py tests/mkctentries.py "$tmp/entries.json" $specs
# shellcheck disable=SC2086
$py tests/mkctentries.py --lines "$tmp/entries.lines" $specs

summary() {   # summary EVE: "INDEX ENTRY_TYPE VERDICT" a line
	$py -c 'import json, sys
for l in open(sys.argv[1]):
    c = json.loads(l)["certsentry"]
    print(c["ct"]["index"], c["ct"]["entry_type"], c["verdict"])' "$1"
}
$bin -R "$rules" --ct-json --ct-start 5000 "$tmp/entries.json" -o "$tmp/ct.json" 2> "$tmp/ct.err"
rc=$?
got=$(summary "$tmp/ct.json" | paste -sd, -)
want="5001 x509_entry unapproved-issuer,5002 x509_entry unapproved-issuer,5003 x509_entry unapproved-issuer,5004 x509_entry unapproved-issuer,5006 precert_entry unapproved-issuer,5007 precert_entry unapproved-issuer"
check "entries: rogue IP, Fina-like, name, CN-only IP and both precertificates alert; approved and unprotected do not ($got)" \
	$([ "$rc" -eq 1 ] && [ "$got" = "$want" ]; echo $?) "rc=$rc want $want $(cat "$tmp/ct.err")"
grep -q "^certsentry: 8 entries, 8 chains judged (1 by names only), 6 alerts, 0 errors$" "$tmp/ct.err"
check "summary: 8 entries, 8 chains judged, 6 alerts" $? "$(tail -1 "$tmp/ct.err")"

# the same chains as files
$bin -q -R "$rules" --certs "$tmp/approved.pem" "$tmp/fina.pem" "$tmp/ip.pem" "$tmp/name.pem" \
	"$tmp/cnip.pem" "$tmp/other.pem" -o "$tmp/files.json"
a=$($py -c 'import json, sys
print(",".join(json.loads(l)["certsentry"]["verdict"] + ":" + ",".join(json.loads(l)["certsentry"]["matched"])
      for l in open(sys.argv[1]) if json.loads(l)["certsentry"].get("ct", {}).get("entry_type", "x509_entry") == "x509_entry"))' "$tmp/ct.json")
b=$($py -c 'import json, sys
print(",".join(json.loads(l)["certsentry"]["verdict"] + ":" + ",".join(json.loads(l)["certsentry"]["matched"])
      for l in open(sys.argv[1])))' "$tmp/files.json")
check "x509 entries judged as --certs judges the same chains" $([ "$a" = "$b" ]; echo $?) "ct $a files $b"

n=$(grep -c 'judged by its pre-certificate and chain' "$tmp/ct.json")
check "precertificate alerts say how they were judged ($n of 2)" $(( n != 2 ))
ts=$($py -c 'import json, sys
print(json.loads(open(sys.argv[1]).readline())["certsentry"]["ct"]["timestamp"])' "$tmp/ct.json")
check "the log timestamp ($ts)" $([ "$ts" = "2024-02-01T10:00:00.001000+0000" ]; echo $?)

$bin -q -R "$rules" --ct-json --ct-start 5000 "$tmp/entries.lines" -o "$tmp/lines.json"
$bin -q -R "$rules" --ct-json --ct-start 5000 - -o "$tmp/stdin.json" < "$tmp/entries.json"
check "the line form and standard input give the same alerts" \
	$([ "$(summary "$tmp/lines.json")" = "$(summary "$tmp/ct.json")" ] &&
	  [ "$(summary "$tmp/stdin.json")" = "$(summary "$tmp/ct.json")" ]; echo $?)

# the parsed issuer chains kept (--chain-cache): none, one (the entries
# have several issuers: one is let go at each change, and that is said),
# the default (all kept, nothing said) - the same alerts
for cc in 0 1 2048; do
	$bin -q -R "$rules" --chain-cache $cc --ct-json --ct-start 5000 "$tmp/entries.json" \
		-o "$tmp/cc$cc.json" 2>"$tmp/cc$cc.err"
	check "--chain-cache $cc: the same alerts as the default" \
		$([ "$(summary "$tmp/cc$cc.json")" = "$(summary "$tmp/ct.json")" ]; echo $?)
done
check "--chain-cache 1: the issuer chains let go are counted and said" \
	$(grep -q "more distinct issuer chains than --chain-cache 1: [1-9][0-9]* parsed ones let go" \
		"$tmp/cc1.err"; echo $?)
check "--chain-cache 2048 (the default): nothing let go, nothing said" \
	$(! grep -q "let go" "$tmp/cc2048.err" && ! grep -q "let go" "$tmp/cc0.err"; echo $?)

# ---- get-entries answers one after another, as a curl loop writes them ------------
# pages of 3 entries: concatenated on one line (no newline between), pretty-
# printed one after another, and with every '/' of the base64 escaped ("\/",
# as some JSON writers do); each read a value at a time, numbered on.
$py - "$tmp/entries.json" "$tmp" <<'PY'
import json, sys
e = json.load(open(sys.argv[1]))["entries"]
pages = [{"entries": e[i:i + 3]} for i in range(0, len(e), 3)]
d = sys.argv[2]
open(d + "/concat.json", "w").write("".join(json.dumps(p) for p in pages))
open(d + "/pretty.json", "w").write("\n".join(json.dumps(p, indent=2) for p in pages) + "\n")
open(d + "/escaped.json", "w").write("\n".join(json.dumps(p).replace("/", "\\/") for p in pages))
PY
for form in concat pretty escaped; do
	$bin -R "$rules" --ct-json --ct-start 5000 "$tmp/$form.json" -o "$tmp/$form.out" 2> "$tmp/$form.err"
	rc=$?
	check "pages $form: the same alerts as one answer (rc $rc, $(tail -1 "$tmp/$form.err"))" \
		$([ "$rc" -eq 1 ] && [ "$(summary "$tmp/$form.out")" = "$(summary "$tmp/ct.json")" ] &&
		  grep -q '^certsentry: 8 entries, 8 chains judged' "$tmp/$form.err"; echo $?)
done
# a broken answer between two good ones (page form): one error, the rest judged
$py - "$tmp/entries.json" "$tmp/brokenpage.json" <<'PY'
import json, sys
e = json.load(open(sys.argv[1]))["entries"]
good = json.dumps({"entries": e[:4]}, indent=2)
bad = json.dumps({"entries": e[4:6]}, indent=2).replace('"extra_data"', '"extra_data" "x"', 1)
open(sys.argv[2], "w").write(good + "\n" + bad + "\n" + json.dumps({"entries": e[6:]}, indent=2) + "\n")
PY
$bin -R "$rules" --ct-json "$tmp/brokenpage.json" -o "$tmp/brokenpage.out" 2> "$tmp/brokenpage.err"; rc=$?
got=$(summary "$tmp/brokenpage.out" | cut -d' ' -f1 | paste -sd, -)
check "a broken answer between good ones: entries before it and the answer after judged ($got), exit 2" \
	$([ "$rc" -eq 2 ] && [ "$got" = "1,2,3,5,6" ] &&
	  grep -q "^$tmp/brokenpage.json: entry 4: not JSON: expected ':' at byte " "$tmp/brokenpage.err"; echo $?) \
	"rc=$rc $(cat "$tmp/brokenpage.err")"
# --ct-max-json: a value over it is one error, counted; the next line is read
$bin -R "$rules" --ct-json --ct-max-json 1000 "$tmp/entries.lines" -o /dev/null 2> "$tmp/max.err"; rc=$?
n=$(grep -c 'over --ct-max-json (1000 bytes)' "$tmp/max.err")
check "--ct-max-json 1000: the lines over it refused, counted ($n), exit 2" \
	$([ "$rc" -eq 2 ] && [ "$n" -ge 1 ] && grep -q "errors$" "$tmp/max.err" &&
	  [ "$(grep -c ' alerts, '"$n"' errors$' "$tmp/max.err")" = 1 ]; echo $?) "rc=$rc $(tail -2 "$tmp/max.err")"

# ---- malformed entries, between good ones -----------------------------------------
$py - "$tmp/entries.lines" "$tmp/bad.lines" <<'PY'
import base64, json, sys
good = [json.loads(l) for l in open(sys.argv[1])]
rogue = good[1]
leaf = base64.b64decode(rogue["leaf_input"])
extra = base64.b64decode(rogue["extra_data"])
b = lambda x: base64.b64encode(x).decode()
bad = [
    {"leaf_input": "!!!!", "extra_data": rogue["extra_data"]},              # 1 base64
    {"leaf_input": b(leaf[:7]), "extra_data": rogue["extra_data"]},         # 2 short header
    {"leaf_input": b(leaf[:40]), "extra_data": rogue["extra_data"]},        # 3 cut certificate
    {"leaf_input": b(b"\x01" + leaf[1:]), "extra_data": rogue["extra_data"]},  # 4 version
    {"leaf_input": b(leaf[:10] + b"\x00\x07" + leaf[12:]), "extra_data": rogue["extra_data"]},  # 5 type
    {"leaf_input": rogue["leaf_input"], "extra_data": b(extra[:20])},       # 6 chain cut
    {"leaf_input": rogue["leaf_input"]},                                    # 7 no extra_data
    {"leaf_input": b(leaf + b"xx"), "extra_data": rogue["extra_data"]},     # 8 trailing
]
with open(sys.argv[2], "w") as f:
    f.write(json.dumps(rogue) + "\n")                                       # 0 good
    for e in bad:
        f.write(json.dumps(e) + "\n")
    f.write("{not json\n")                                                  # 9
    f.write(json.dumps(rogue) + "\n")                                       # 10 good
PY
$bin -R "$rules" --ct-json "$tmp/bad.lines" -o "$tmp/bad.json" 2> "$tmp/bad.err"; rc=$?
got=$(summary "$tmp/bad.json" | cut -d' ' -f1 | paste -sd, -)
check "malformed entries between good ones: the good ones judged ($got), exit 2" \
	$([ "$rc" -eq 2 ] && [ "$got" = "0,10" ]; echo $?) "rc=$rc"
f=$tmp/bad.lines
for want in "entry 1: leaf_input is not base64" \
            "entry 2: leaf_input: 7 bytes, shorter than a MerkleTreeLeaf header" \
            "entry 3: leaf_input: x509_entry certificate length past the end" \
            "entry 4: leaf_input: version 1, leaf type 0 (only v1 timestamped_entry)" \
            "entry 5: leaf_input: entry type 7 (x509_entry 0 or precert_entry 1)" \
            "entry 6: extra_data: chain length past the end" \
            "entry 7: not an object with leaf_input and extra_data strings" \
            "entry 8: leaf_input: 2 bytes after the MerkleTreeLeaf"; do
	grep -qxF "$f: $want" "$tmp/bad.err"
	check "error: $want" $? "$(grep "${want%%:*}:" "$tmp/bad.err")"
done
grep -q "^$f: entry 9: not JSON: " "$tmp/bad.err"
check "error: entry 9: not JSON" $?

cat "$tmp/ct.json" "$tmp/lines.json" "$tmp/bad.json" > "$tmp/all.json"
if ../shared/eve/validate "$tmp/all.json" > "$tmp/v" 2>&1; then
	echo "ok ct EVE schema: $(tail -1 "$tmp/v")"
else
	echo "not ok ct EVE schema"; head -5 "$tmp/v" | sed 's/^/# /'
fi
exit 0
