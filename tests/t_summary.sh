#!/usr/bin/env bash
# The end-of-run summary a SOC reads at a glance (docs/outputs.md, The
# summary).  Checks:
#   - one coverage line per protected asset (the rules' entry, as
#     --check-rules names it), however many ways it was matched (ip, sni,
#     san-ip, san-dns, cn): the README's capture gives one line for
#     ip 1.1.1.1, not one per match kind;
#   - approved and alerting apart: a rogue chain is alerting, not verified;
#   - the key fact on the second line: how many handshakes at protected
#     assets went unchecked, why, and what to do; the assets with
#     unchecked handshakes listed first, that share first on their line;
#   - the stats event's coverage rows and --check-rules name the same
#     assets, with the same counts as the summary;
#   - most TCP checksums wrong (a capture from the sending host with
#     offload): a hint that says what certsentry did with those segments,
#     and the alert is still found; none with good checksums.
set -u
cd "$(dirname "$0")/.."
bin=${CERTSENTRY:-./certsentry}
py=/usr/bin/python3
rules=pcaps/test.rules
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

check() {   # check NAME STATUS [details]
	if [ "$2" -eq 0 ]; then echo "ok summary $1"; else echo "not ok summary $1 ${3:-}"; fi
}

# ---- the README's command: one asset, one line --------------------------------
$bin -R rules/examples/public-dns-resolver.rules -r pcaps/fina-rogue-doh.pcap \
	-o /dev/null 2> "$tmp/readme.sum"
n=$(grep -c '^  coverage: ' "$tmp/readme.sum")
grep -q '^  coverage: public-dns-resolver ip 1.1.1.1: 1 handshake: approved 0, alerting 1, fingerprint only 0, not checked 0$' \
	"$tmp/readme.sum"
check "one coverage line for ip 1.1.1.1 matched as ip, san-ip and cn ($n lines), alerting not approved" \
	$(( $? || n != 1 )) "$(grep coverage "$tmp/readme.sum")"
sed -n 2p "$tmp/readme.sum" | grep -q '^  all 1 handshake at protected assets was checked: approved 0, alerting 1, fingerprint only 0$'
check "second line: every handshake at a protected asset was checked" $? "$(sed -n 2p "$tmp/readme.sum")"

# ---- a mixed run: TLS 1.3 without a key log, a gap, resumed, approved, rogue ----
$bin -R "$rules" -r pcaps/tls13.pcap -r pcaps/tls13-rogue.pcap -r pcaps/gap-protected.pcap \
	-r pcaps/approved-dot.pcap -r pcaps/fina-rogue-doh.pcap -r pcaps/resumed.pcap \
	-o "$tmp/mixed.json" --stats-interval 60 2> "$tmp/mixed.sum"
sed -n 2p "$tmp/mixed.sum" | grep -q '^  4 of 7 handshakes at protected assets went unchecked: TLS 1.3 without a key log 2, resumed without a certificate 1, gap in the stream 1; give --keylog FILE'
check "second line: 4 of 7 went unchecked, why, and what to do" $? "$(sed -n 2p "$tmp/mixed.sum")"
grep -q '^  coverage: cloudflare-dns ip 1.1.1.1: 7 handshakes: not checked 4 (TLS 1.3 without a key log 2, resumed without a certificate 1, gap in the stream 1), approved 2, alerting 1, fingerprint only 0$' \
	"$tmp/mixed.sum"
check "an asset's line: the unchecked share first, with its reasons" $? \
	"$(grep '^  coverage: ' "$tmp/mixed.sum" | head -2)"
# Unchecked assets first: no line with "not checked 0" before one with some.
$py - "$tmp/mixed.sum" <<'PY'
import sys
lines = [l for l in open(sys.argv[1]) if l.startswith("  coverage: ")]
checked = [l.endswith("not checked 0\n") for l in lines]
ok = len(lines) >= 4 and checked == sorted(checked) and not checked[0]
print(("ok" if ok else "not ok") + " summary %d coverage lines, the assets with unchecked handshakes first" % len(lines))
PY

# The stats event and --check-rules: the same assets, the same counts.
$bin --check-rules "$rules" > "$tmp/plan.txt"
$py - "$tmp/mixed.json" "$tmp/mixed.sum" "$tmp/plan.txt" <<'PY'
import json, re, sys
stats = [json.loads(l) for l in open(sys.argv[1]) if '"event_type":"stats"' in l][-1]
rows = stats["certsentry"]["coverage"]
lines = [l.rstrip("\n") for l in open(sys.argv[2]) if l.startswith("  coverage: ")]
plan = open(sys.argv[3]).read()
bad = []
for r, l in zip(rows, lines):
    m = re.match(r"  coverage: (\S+) (ip|name) (\S+): (\d+) handshakes?: (.*)$", l)
    if not m:
        bad.append("line " + l)
        continue
    counts = dict((k.replace(" ", "_"), int(v)) for v, k in
                  [(x.split()[-1], " ".join(x.split()[:-1])) for x in
                   re.sub(r" \([^)]*\)", "", m.group(5)).split(", ")])
    if (r["owner"], r["asset_type"], r["asset"], r["handshakes"]) != \
       (m.group(1), m.group(2), m.group(3), int(m.group(4))):
        bad.append("row %s against %s" % (r, l))
    for k in ("approved", "alerting", "fingerprint_only", "not_checked"):
        if counts.get(k) != r[k]:
            bad.append("%s %s: %s against %s" % (r["asset"], k, counts.get(k), r[k]))
    if "    %s %s: " % (r["asset_type"], r["asset"]) not in plan:
        bad.append("--check-rules has no %s %s" % (r["asset_type"], r["asset"]))
ok = not bad and len(rows) == len(lines) > 0
print(("ok" if ok else "not ok") +
      " summary the stats event's %d coverage rows and --check-rules name the summary's assets, same counts%s"
      % (len(rows), "" if ok else ": " + "; ".join(bad[:4]) + " (%d rows, %d lines)" % (len(rows), len(lines))))
PY
grep -q '^  checksums' "$tmp/mixed.sum"
check "no checksum hint when the checksums are right" $(( $? == 0 ))

# ---- most checksums wrong: the offload hint -------------------------------------
# Every TCP checksum of the rogue handshake made wrong, as a capture on the
# sending host with checksum offload has them.
$py - pcaps/fina-rogue-doh.pcap "$tmp/offload.pcap" <<'PY'
import struct, sys
data = bytearray(open(sys.argv[1], "rb").read())
assert struct.unpack_from("<I", data, 0)[0] == 0xa1b2c3d4 and struct.unpack_from("<I", data, 20)[0] == 1
off = 24
while off + 16 <= len(data):
    incl = struct.unpack_from("<I", data, off + 8)[0]
    p = off + 16
    if data[p + 12:p + 14] == b"\x08\x00" and data[p + 14 + 9] == 6:
        ck = p + 14 + (data[p + 14] & 15) * 4 + 16
        data[ck] ^= 0x5a   # wrong, whatever it was
    off = p + incl
open(sys.argv[2], "wb").write(data)
PY
$bin -R "$rules" -r "$tmp/offload.pcap" -o "$tmp/offload.json" 2> "$tmp/offload.sum"; rc=$?
# Checked: the handshake's segments and the FINs (a decided flow's data
# is not); with auto, the first bad one already makes the majority.
grep -Eq '^  checksums: most TCP checksums were wrong \(([0-9]+) of \1 checked\): the capture was probably taken on the sending host with checksum offload .*; certsentry trusted ([0-9]+) of those segments as they came and kept 0 as tentative copies' "$tmp/offload.sum"
st=$?
n=$(sed -En 's/.*wrong \(([0-9]+) of.*trusted ([0-9]+) of those.*/\1 \2/p' "$tmp/offload.sum")
n=${n:-0 1}   # no hint at all
check "most checksums wrong: the hint says what was done with them (checked and trusted: $n)" \
	$(( st || ${n%% *} < 8 || ${n%% *} != ${n##* } )) "$(grep '^  checksums' "$tmp/offload.sum")"
a=$($py tests/evetool.py alerts "$tmp/offload.json")
check "... and the rogue chain is still found (exit $rc, $a)" \
	$(( rc != 1 )) "$(head -3 "$tmp/offload.sum")"
$bin -R "$rules" -r "$tmp/offload.pcap" --checksum-checks yes -o /dev/null 2> "$tmp/yes.sum"
grep -Eq 'certsentry trusted 0 of those segments as they came and kept [1-9][0-9]* as tentative copies' "$tmp/yes.sum"
check "with --checksum-checks yes it says none was trusted" $? "$(grep '^  checksums' "$tmp/yes.sum")"
