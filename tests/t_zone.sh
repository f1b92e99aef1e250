#!/usr/bin/env bash
# "protect zone ZONE": the apex and every name below it, at any depth, for
# certificate names (SAN dNSName, wildcards inside the zone, the CN) and
# the SNI, on captures:
#   - every capture of pcaps/captures.tsv gives the same verdicts (tls
#     events' owners[] and alerts) with `protect zone cloudflare-dns.com` as
#     with `protect name cloudflare-dns.com`, and the zone also matches the
#     `*.cloudflare-dns.com` of the certificates that carry it;
#   - a real capture (../shared/realworld, suricata-verify's
#     tls-subjectaltname.pcap: public chains for *.msn.com names) alerts for
#     names three and four labels below `msn.com` (query.prod.cms.msn.com by
#     SNI and SAN) with `protect zone msn.com` and with the zone
#     `prod.cms.msn.com`, while `protect name msn.com` matches nothing there;
#   - a zone is not a suffix of letters: `sn.com` matches nothing in that
#     capture, `ample.org` nothing in multi.pcap, where `example.org` alerts;
#   - --check-rules shows the zone and how it will be checked.
set -u
cd "$(dirname "$0")/.."
bin=${CERTSENTRY:-./certsentry}
rw=${REALWORLD:-../shared/realworld}
py=/usr/bin/python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

check() {   # check NAME STATUS [details]
	if [ "$2" -eq 0 ]; then echo "ok zone $1"; else echo "not ok zone $1 ${3:-}"; fi
}

# rules FILE KIND VALUE: one owner "dns" protecting VALUE as KIND (name or
# zone), approving pcaps/test.rules' CAs.
rules() {
	printf 'owner dns\nprotect %s %s\napprove ca %s\napprove ca %s\n' "$2" "$3" \
		"$PWD/pcaps/pki/approved-root.pem" "$PWD/pcaps/pki/approved-issuing.pem" > "$1"
}

# verdicts EVE: what the owners decided, event by event: "tls owner:verdict"
# of every tls event's owners[] and "alert owner:verdict" of every alert.
verdicts() {
	$py - "$1" <<'EOF'
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    c = e.get("certsentry", {})
    if e["event_type"] == "tls":
        print("tls", " ".join("%s:%s" % (o["owner"], o["verdict"]) for o in c.get("owners", [])))
    elif e["event_type"] == "alert":
        print("alert %s:%s" % (c["owner"], c["verdict"]))
EOF
}

# matched EVE: the sorted, distinct matches of every alert, comma-separated.
matched() {
	$py -c 'import json, sys
m = set()
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e["event_type"] == "alert":
        m.update(e["certsentry"]["matched"])
print(",".join(sorted(m)) or "-")' "$1"
}

run() {   # run RULES CAPTURE OUT
	rm -f "$3"
	"$bin" -q -R "$1" -r "$2" -o "$3" 2>"$3.err"
	[ -f "$3" ] || : > "$3"
}

# ---- the zone and the name alike on the shipped captures ------------------
rules "$tmp/name.rules" name cloudflare-dns.com
rules "$tmp/zone.rules" zone cloudflare-dns.com
same=0 differ=0 alerting=0 wild=0
while IFS=$'\t' read -r file _; do
	case "$file" in ''|'#'*|file) continue ;; esac
	run "$tmp/name.rules" "pcaps/$file" "$tmp/n.json"
	run "$tmp/zone.rules" "pcaps/$file" "$tmp/z.json"
	if [ "$(verdicts "$tmp/n.json")" = "$(verdicts "$tmp/z.json")" ]; then
		same=$((same + 1))
	else
		differ=$((differ + 1))
		echo "# $file: name and zone differ"
		diff <(verdicts "$tmp/n.json") <(verdicts "$tmp/z.json") | head -6 | sed 's/^/# /'
	fi
	grep -q '"event_type":"alert"' "$tmp/z.json" && alerting=$((alerting + 1))
	matched "$tmp/z.json" | grep -q 'san-dns:\*\.cloudflare-dns\.com' && wild=$((wild + 1))
done < pcaps/captures.tsv
check "cloudflare-dns.com: zone decides as name on every capture" \
	$((differ != 0 || same == 0)) "($same same, $differ differ)"
check "cloudflare-dns.com: some captures alert ($alerting)" $((alerting == 0))
check "cloudflare-dns.com: the zone matches the certificates' *.cloudflare-dns.com ($wild)" \
	$((wild == 0))

# ---- names deep in a zone, on a real capture ------------------------------
msn=$rw/pcaps/suricata-verify/tls-subjectaltname.pcap
if [ ! -f "$msn" ]; then
	check "real capture $msn" 1 "(missing: see ../shared/realworld)"
else
	rules "$tmp/msn.rules" zone msn.com
	run "$tmp/msn.rules" "$msn" "$tmp/msn.json"
	m=$(matched "$tmp/msn.json")
	echo "$m" | grep -q 'sni:query\.prod\.cms\.msn\.com' &&
		echo "$m" | grep -q 'san-dns:primary\.query\.prod\.cms\.msn\.com' &&
		echo "$m" | grep -q 'san-dns:\*\.services\.msn\.com'
	check "msn.com: SNI and SANs three and four labels below" $? "($m)"

	rules "$tmp/deep.rules" zone prod.cms.msn.com
	run "$tmp/deep.rules" "$msn" "$tmp/deep.json"
	m=$(matched "$tmp/deep.json")
	[ "$m" = "cn:query.prod.cms.msn.com,san-dns:cdn.query.prod.cms.msn.com,san-dns:primary.query.prod.cms.msn.com,san-dns:query.prod.cms.msn.com,sni:query.prod.cms.msn.com" ]
	check "prod.cms.msn.com: exactly the names below it" $? "($m)"

	rules "$tmp/name-msn.rules" name msn.com
	run "$tmp/name-msn.rules" "$msn" "$tmp/name-msn.json"
	m=$(matched "$tmp/name-msn.json")
	check "name msn.com matches none of the names below it" "$([ "$m" = - ]; echo $?)" "($m)"

	rules "$tmp/sn.rules" zone sn.com
	run "$tmp/sn.rules" "$msn" "$tmp/sn.json"
	m=$(matched "$tmp/sn.json")
	check "sn.com is not a suffix of msn.com" "$([ "$m" = - ]; echo $?)" "($m)"
fi

rules "$tmp/org.rules" zone example.org
run "$tmp/org.rules" pcaps/multi.pcap "$tmp/org.json"
rules "$tmp/ample.rules" zone ample.org
run "$tmp/ample.rules" pcaps/multi.pcap "$tmp/ample.json"
m=$(matched "$tmp/org.json") a=$(matched "$tmp/ample.json")
echo "$m" | grep -q 'san-dns:www\.example\.org' && [ "$a" = - ]
check "multi.pcap: example.org alerts, ample.org does not" $? "(example.org: $m; ample.org: $a)"

# ---- --check-rules ----------------------------------------------------------
"$bin" --check-rules "$tmp/msn.rules" > "$tmp/check.txt" 2>&1
rc=$?
grep -q '^  protected zones: 1 (each: its apex and every name below it)$' "$tmp/check.txt" &&
	grep -q '^    msn.com$' "$tmp/check.txt" &&
	grep -q '^    zone msn.com: TLS 1.0-1.2 checked' "$tmp/check.txt"
check "--check-rules shows the zone and its coverage" $((rc != 0 || $?)) \
	"(exit $rc: $(head -c 400 "$tmp/check.txt"))"
printf 'owner o\nprotect zone *.example.com\napprove ca %s\n' "$PWD/pcaps/pki/approved-root.pem" \
	> "$tmp/bad.rules"
"$bin" --check-rules "$tmp/bad.rules" > /dev/null 2> "$tmp/bad.err"
rc=$?
grep -q "^certsentry: $tmp/bad.rules:2: bad zone '\*.example.com': a wildcard" "$tmp/bad.err" ||
	grep -q "$tmp/bad.rules:2: bad zone '\*.example.com': a wildcard" "$tmp/bad.err"
check "--check-rules: a wildcard zone is FILE:LINE and exit 2" $((rc != 2 || $?)) \
	"(exit $rc: $(head -c 300 "$tmp/bad.err"))"
