#!/usr/bin/env bash
# Command-line behaviour: inputs, errors and exit status, rules checking.
set -u
cd "$(dirname "$0")/.."
bin=${CERTSENTRY:-./certsentry}
py=/usr/bin/python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rw=../shared/realworld/pcaps
rules=pcaps/test.rules
rogue=pcaps/fina-rogue-doh.pcap

check() {   # check NAME CONDITION-STATUS [details]
	if [ "$2" -eq 0 ]; then echo "ok cli $1"; else echo "not ok cli $1 ${3:-}"; fi
}

# A missing input: exit 2, the file named.
$bin -q -r "$tmp/nope.pcap" >/dev/null 2>"$tmp/err"; rc=$?
grep -q "nope.pcap" "$tmp/err"; check "missing input exits 2 and names it" $(( rc != 2 || $? )) "rc=$rc $(cat "$tmp/err")"

# Not a capture at all.
$bin -q -r README.md >/dev/null 2>"$tmp/err"; rc=$?
grep -q "README.md" "$tmp/err"; check "non-capture input exits 2" $(( rc != 2 || $? )) "rc=$rc $(cat "$tmp/err")"

# Unknown link type (USER0 = 147) in an otherwise valid pcap.
$py - "$tmp/user0.pcap" <<'PY'
import struct, sys
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 147))
    f.write(struct.pack("<IIII", 1, 0, 4, 4) + b"abcd")
PY
$bin -q -r "$tmp/user0.pcap" >/dev/null 2>"$tmp/err"; rc=$?
grep -q "unsupported link type 147" "$tmp/err"; check "unknown link type exits 2" $(( rc != 2 || $? )) "rc=$rc $(cat "$tmp/err")"

# Impossible caplen: a record claiming 2 GB.
$py - "$tmp/caplen.pcap" <<'PY'
import struct, sys
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    f.write(struct.pack("<IIII", 1, 0, 0x7fffffff, 0x7fffffff) + b"x" * 64)
PY
$bin -q -r "$tmp/caplen.pcap" >/dev/null 2>"$tmp/err"; rc=$?
grep -q "caplen.pcap: packet 1:" "$tmp/err"; check "impossible caplen exits 2 with packet number" $(( rc != 2 || $? )) "rc=$rc $(cat "$tmp/err")"

# A truncated capture: the alert decided before the damage is written,
# then exit 2.  The rogue handshake is followed by a bulk of padding
# packets, and the file is cut inside the last one.
$py - "$rogue" "$tmp/trunc.pcap" <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read()
hdr, body = data[:24], data[24:]
pad = struct.pack("<IIII", 2000000000, 0, 100, 100) + b"\0" * 100
out = hdr + body + pad * 5
open(sys.argv[2], "wb").write(out[:-40])
PY
$bin -q -R "$rules" -r "$tmp/trunc.pcap" -o "$tmp/trunc.json" 2>"$tmp/err"; rc=$?
n=$($py tests/evetool.py count "$tmp/trunc.json" alert)
grep -q "trunc.pcap: packet" "$tmp/err"; check "truncated capture keeps alerts and exits 2" $(( rc != 2 || n != 1 || $? )) "rc=$rc alerts=$n $(cat "$tmp/err")"
# The same through worker threads.
$bin -q -R "$rules" --workers 2 -r "$tmp/trunc.pcap" -o "$tmp/trunc.w.json" 2>"$tmp/err"; rc=$?
n=$($py tests/evetool.py count "$tmp/trunc.w.json" alert)
grep -q "trunc.pcap: packet" "$tmp/err"
check "truncated capture, --workers 2: alerts kept, exit 2" $(( rc != 2 || n != 1 || $? )) "rc=$rc alerts=$n $(cat "$tmp/err")"

# Standard input equals the file.
$bin -q -R "$rules" -r "$rogue" -o "$tmp/a.json"; $bin -q -R "$rules" -r - -o "$tmp/b.json" < "$rogue"
$py tests/evetool.py normalize "$tmp/a.json" > "$tmp/a.n"; $py tests/evetool.py normalize "$tmp/b.json" > "$tmp/b.n"
cmp -s "$tmp/a.n" "$tmp/b.n"; check "-r - reads standard input" $? "$(diff "$tmp/a.n" "$tmp/b.n" | head -5)"

# The chain cache changes nothing but the work: every capture in one run
# (the same chains come back from capture to capture), cache on (with a
# size of 2, so entries are also evicted and parsed again) and off.
all=$(ls pcaps/*.pcap pcaps/evasion/*.pcap | sed 's/^/-r /')
# shellcheck disable=SC2086
$bin -R "$rules" --chain-cache 2 $all -o "$tmp/cc.json" 2> "$tmp/cc.err"
# shellcheck disable=SC2086
$bin -q -R "$rules" --chain-cache 0 $all -o "$tmp/nocc.json"
$py tests/evetool.py normalize "$tmp/cc.json" > "$tmp/a.n"; $py tests/evetool.py normalize "$tmp/nocc.json" > "$tmp/b.n"
hits=$(sed -n 's/^  chain cache: hits \([0-9]*\), misses [0-9]*, evicted \([0-9]*\)$/\1 \2/p' "$tmp/cc.err")
cmp -s "$tmp/a.n" "$tmp/b.n"; same=$?
check "--chain-cache: same events with and without (hits, evictions: $hits)" \
	$(( same != 0 || ${hits%% *}0 == 0 || ${hits##* }0 == 0 )) "$(diff "$tmp/a.n" "$tmp/b.n" | head -5)"

# Several -r: the events of both.
$bin -q -R "$rules" -r "$rogue" -r pcaps/approved-dot.pcap -o "$tmp/two.json"; rc=$?
n=$($py tests/evetool.py count "$tmp/two.json" tls)
check "several -r inputs" $(( rc != 1 || n != 2 )) "rc=$rc tls=$n"

# --ports: 443 no longer inspected -> nothing.
$bin -q -R "$rules" --ports 8443 -r "$rogue" -o "$tmp/p.json"; rc=$?
n=$($py tests/evetool.py count "$tmp/p.json" tls)
check "--ports replaces the inspected ports" $(( rc != 0 || n != 0 )) "rc=$rc tls=$n"

# Bad rules: FILE:LINE: reason and exit 2, nothing read.
printf 'owner a\nprotect ip 1.1.1.1\nprotect frobnicate x\napprove spki sha256:%064d\n' 0 > "$tmp/bad.rules"
$bin -q -R "$tmp/bad.rules" -r "$rogue" >/dev/null 2>"$tmp/err"; rc=$?
grep -q "^$tmp/bad.rules:3: " "$tmp/err"; check "bad rules give FILE:LINE and exit 2" $(( rc != 2 || $? )) "rc=$rc $(cat "$tmp/err")"
$bin --check-rules "$tmp/bad.rules" >/dev/null 2>"$tmp/err"; rc=$?
grep -q "^$tmp/bad.rules:3: " "$tmp/err"; check "--check-rules rejects bad rules" $(( rc != 2 || $? )) "rc=$rc"
$bin --check-rules "$rules" > "$tmp/out" 2>&1; rc=$?
grep -q "cloudflare-dns" "$tmp/out"; check "--check-rules accepts test rules" $(( rc != 0 || $? )) "rc=$rc $(cat "$tmp/out")"
$bin --check-rules rules/examples >/dev/null 2>&1; check "--check-rules accepts rules/examples" $?

# Usage errors.
$bin >/dev/null 2>&1; rc=$?; check "no input is a usage error" $(( rc != 2 ))
$bin -r "$rogue" --max-certs 0 >/dev/null 2>&1; rc=$?; check "a limit of 0 is refused" $(( rc != 2 ))

# --stats-interval with -r: one EVE stats event at the end, in Suricata's
# names, counting what was read; it passes the schema.
$bin -q -R "$rules" --stats-interval 60 -r "$rogue" -o "$tmp/st.json"
$py - "$tmp/st.json" <<'PY'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
st = [e for e in ev if e["event_type"] == "stats"]
ok = (len(st) == 1 and ev[-1] is st[0] and st[0]["stats"]["decoder"]["pkts"] == 18
      and st[0]["stats"]["flow"]["total"] == 1
      and st[0]["certsentry"]["alerts_by_owner"][0]["verdict"] == "unapproved-issuer")
print(("ok" if ok else "not ok") + " cli stats event at exit counts packets, flows and alerts"
      + ("" if ok else f": {st}"))
PY
../shared/eve/validate "$tmp/st.json" >/dev/null 2>&1; check "stats event passes the EVE schema" $?

# ---- habits: one-line usage errors, several captures, directories ----------
# An unknown option, a misspelt one, a bad value, a missing argument: the
# error and a pointer to --help (two lines), exit 2; never the whole help.
two_lines() {   # two_lines NAME PATTERN ARGS...
	local name=$1 pat=$2
	shift 2
	$bin "$@" > "$tmp/out" 2> "$tmp/err"; rc=$?
	[ "$rc" -eq 2 ] && [ "$(wc -l < "$tmp/err")" -eq 2 ] && [ ! -s "$tmp/out" ] &&
		head -1 "$tmp/err" | grep -q -- "$pat" &&
		sed -n 2p "$tmp/err" | grep -qx "Try 'certsentry --help' for more information."
	local st=$? first
	first=$(head -1 "$tmp/err")
	check "usage error in two lines: $name: $first" "$st" "rc=$rc $(head -4 "$tmp/err")"
}
two_lines "an unknown option" "unknown option '--frobnicate'" --frobnicate -r "$rogue"
two_lines "a misspelt option" "did you mean '--max-flows'" --max-flowz 10 -r "$rogue"
two_lines "an unknown short option" "unknown option '-Z'" -Z -r "$rogue"
two_lines "a bad value" "--ports: '0' is not a number" --ports 0 -r "$rogue"
two_lines "a bad word" "--tls-log: 'some' is not all, protected or none" --tls-log some -r "$rogue"
two_lines "a missing argument" "option '--rules' needs an argument" -r "$rogue" --rules
two_lines "nothing to read" "nothing to read"

# Several captures after one -r (operands), in the order given, one run.
$bin -q -R "$rules" -r "$rogue" pcaps/approved-dot.pcap pcaps/forged-issuer.pcap -o "$tmp/ops.json"; rc=$?
order=$(grep -o '"pcap_filename":"[^"]*"' "$tmp/ops.json" | uniq | sed 's/.*pcaps\///; s/"//' | paste -sd' ')
check "-r a b c: operands read in order as one run ($order)" \
	"$([ "$rc" -eq 1 ] && [ "$order" = "fina-rogue-doh.pcap approved-dot.pcap forged-issuer.pcap" ]; echo $?)"
$bin -q -R "$rules" pcaps/approved-dot.pcap -r "$rogue" -o "$tmp/ops2.json"; rc=$?
order=$(grep -o '"pcap_filename":"[^"]*"' "$tmp/ops2.json" | uniq | sed 's/.*pcaps\///; s/"//' | paste -sd' ')
check "an operand before -r keeps its place ($order)" \
	"$([ "$rc" -eq 1 ] && [ "$order" = "approved-dot.pcap fina-rogue-doh.pcap" ]; echo $?)"

# -r DIR: its capture files in name order (by extension, or by magic for a
# name without one); not its hidden files, other files or subdirectories.
mkdir -p "$tmp/dir/sub"
cp "$rogue" "$tmp/dir/b.pcap"
cp pcaps/approved-dot.pcap "$tmp/dir/a.cap"
cp pcaps/tls13/rogue-embedded.pcapng "$tmp/dir/c.pcapng"
cp pcaps/forged-issuer.pcap "$tmp/dir/d-rotated.1"      # by its magic
cp pcaps/forged-issuer.pcap "$tmp/dir/.hidden.pcap"
cp pcaps/forged-issuer.pcap "$tmp/dir/sub/e.pcap"
echo "not a capture" > "$tmp/dir/notes.txt"
$bin -q -R "$rules" -r "$tmp/dir" -o "$tmp/dir.json"; rc=$?
order=$(grep -o '"pcap_filename":"[^"]*"' "$tmp/dir.json" | uniq | sed 's/.*dir\///; s/"//' | paste -sd' ')
check "-r DIR: its captures in name order ($order)" \
	"$([ "$rc" -eq 1 ] && [ "$order" = "a.cap b.pcap c.pcapng d-rotated.1" ]; echo $?)" "rc=$rc"
mkdir "$tmp/empty"
$bin -q -r "$tmp/empty" > /dev/null 2> "$tmp/err"; rc=$?
grep -q "no capture file in the directory" "$tmp/err"
check "-r DIR without a capture: exit 2, said" $(( rc != 2 || $? )) "rc=$rc $(cat "$tmp/err")"

# A missing or unreadable input among several: an error before anything is
# read (no event, no summary of zeros), exit 2, every bad one named.
$bin -R "$rules" -r "$rogue" "$tmp/gone1.pcap" "$tmp/gone2.pcap" -o "$tmp/miss.json" 2> "$tmp/err"; rc=$?
[ "$rc" -eq 2 ] && [ ! -s "$tmp/miss.json" ] && grep -q gone1.pcap "$tmp/err" && grep -q gone2.pcap "$tmp/err" &&
	! grep -q "packets," "$tmp/err"
check "missing inputs: exit 2 before anything runs, each named, no summary" $? "rc=$rc $(cat "$tmp/err")"
if [ "$(id -u)" -ne 0 ]; then
	cp "$rogue" "$tmp/unreadable.pcap"; chmod 000 "$tmp/unreadable.pcap"
	$bin -r "$tmp/unreadable.pcap" -o "$tmp/unr.json" 2> "$tmp/err"; rc=$?
	grep -q "unreadable.pcap: Permission denied" "$tmp/err"
	check "an unreadable input: exit 2 before anything runs" $(( rc != 2 || $? )) "rc=$rc"
fi
$bin -r "$rogue" --keylog "$tmp/gone.keys" -o "$tmp/kl.json" 2> "$tmp/err"; rc=$?
[ "$rc" -eq 2 ] && [ ! -s "$tmp/kl.json" ] && grep -q "gone.keys" "$tmp/err" && ! grep -q "packets," "$tmp/err"
check "a missing key log: exit 2 before anything runs, no summary" $? "rc=$rc $(cat "$tmp/err")"
$bin -R "$tmp/gone.rules" -r "$rogue" -o "$tmp/rl.json" 2> "$tmp/err"; rc=$?
[ "$rc" -eq 2 ] && [ ! -s "$tmp/rl.json" ] && grep -q "gone.rules" "$tmp/err" && ! grep -q "packets," "$tmp/err"
check "a missing rules file: exit 2 before anything runs, no summary" $? "rc=$rc $(cat "$tmp/err")"
