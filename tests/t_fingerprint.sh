#!/usr/bin/env bash
# TLS 1.3 server fingerprints without keys (pcaps/tls13/, tests/mktls13.sh).
# Default options except --learn / --baseline, which are what this tests:
#   - a baseline learned from five approved sessions (OpenSSL clients
#     choosing other suites, another key-share group, no compatibility
#     CCS): one endpoint, its shapes, a file a person can read;
#   - another approved session, and gnutls-cli as the client: no alert,
#     checked by fingerprint (coverage says so);
#   - the same server with a rogue, self-signed, forged or appended chain,
#     and gnutls-serv serving the approved chain: fingerprint-changed
#     (signature_id 2900008, severity 3, Minor), saying what changed, by how much,
#     and that it is evidence, not proof;
#   - with a key log the handshake is judged by its certificates instead;
#   - --check-rules says how each protected asset will be checked;
#   - learning on top of a baseline keeps its counts; --workers 2;
#   - bad baseline files: FILE:LINE: reason and exit 2;
#   - every EVE line passes ../shared/eve/validate.
set -u
cd "$(dirname "$0")/.."
bin=${CERTSENTRY:-./certsentry}
py=/usr/bin/python3
d=pcaps/tls13
rules=$d/tls13.rules
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
[ -x "$bin" ] || { echo "not ok fingerprint: no binary $bin"; exit 1; }

run() { # NAME ARGS...
	local name=$1
	shift
	"$bin" -R "$rules" -o "$tmp/$name.json" "$@" 2>"$tmp/$name.err"
	echo $? >"$tmp/$name.rc"
	cat "$tmp/$name.json" >>"$tmp/all.eve" 2>/dev/null
}
alerts() { $py tests/evetool.py alerts "$tmp/$1.json"; }
fpo() { # the fingerprint outcomes of the tls events
	$py -c 'import json,sys
print(",".join(sorted(json.loads(l)["certsentry"].get("tls13", {}).get("fingerprint", "-")
      for l in open(sys.argv[1]) if json.loads(l)["event_type"] == "tls")))' "$tmp/$1.json"
}
check() { # NAME GOT WANT
	if [ "$2" = "$3" ]; then echo "ok $1"; else echo "not ok $1: got '$2', want '$3'"; fi
}

# ---- learning -------------------------------------------------------------------
run learn -r "$d/approved-learn.pcap" --learn "$tmp/base.txt"
check "fingerprint learn: exit 0, no alert" "$(cat "$tmp/learn.rc") $(alerts learn)" "0 -"
grep -q '^certsentry-baseline 1$' "$tmp/base.txt" &&
	echo "ok fingerprint learn: a version 1 baseline" || { echo "not ok fingerprint learn: header"; cat "$tmp/base.txt"; }
n=$(grep -c '^shape endpoint=1.1.1.1:853 sni=cloudflare-dns.com ' "$tmp/base.txt")
total=$(sed -n 's/.* count=\([0-9]*\) .*/\1/p' "$tmp/base.txt" | awk '{s += $1} END {print s}')
check "fingerprint learn: one endpoint, every session in a shape" "$n>0 $total" "$n>0 5"
grep -q 'learned 5 TLS 1.3 handshakes: 1 endpoints' "$tmp/learn.err" &&
	echo "ok fingerprint learn: summary" || { echo "not ok fingerprint learn: summary"; grep finger "$tmp/learn.err"; }
echo "# fingerprint baseline: $(grep '^shape' "$tmp/base.txt" | head -3)"

# ---- ordinary sessions: no alert --------------------------------------------------
for c in approved-again gnutls-client approved-tls13; do
	run "$c" -r "$d/$c.pcap" --baseline "$tmp/base.txt"
	check "fingerprint $c: no alert, matched" "$(alerts "$c") $(fpo "$c") rc=$(cat "$tmp/$c.rc")" \
		"- matched rc=0"
done
grep -q 'coverage: cloudflare-dns ip 1.1.1.1: 1 handshake: approved 0, alerting 0, fingerprint only 1, not checked 0' \
	"$tmp/approved-again.err" && echo "ok fingerprint coverage: checked by fingerprint only" ||
	{ echo "not ok fingerprint coverage"; grep coverage "$tmp/approved-again.err"; }
grep -q 'checked by fingerprint only' "$tmp/approved-again.json" &&
	echo "ok fingerprint match: the reason says so" || echo "not ok fingerprint match: reason"

# ---- another chain, another stack: alert --------------------------------------------
for c in rogue-tls13 selfsigned-tls13 forged-tls13 appended-tls13 gnutls-server; do
	run "$c" -r "$d/$c.pcap" --baseline "$tmp/base.txt"
	check "fingerprint $c: fingerprint-changed" "$(alerts "$c") rc=$(cat "$tmp/$c.rc")" \
		"cloudflare-dns:fingerprint-changed rc=1"
done
$py - "$tmp/rogue-tls13.json" <<'EOF' && echo "ok fingerprint alert: sid, severity, reason" || echo "not ok fingerprint alert fields"
import json, sys
a = [json.loads(l) for l in open(sys.argv[1]) if '"event_type":"alert"' in l][0]
r = a["certsentry"]["reason"]
assert a["alert"]["signature_id"] == 2900008 and a["alert"]["severity"] == 3 and a["alert"]["metadata"]["signature_severity"] == ["Minor"], a["alert"]
assert "server encrypted flight 4 records" in r and "baseline 4 records" in r, r
assert "evidence, not proof" in r, r
assert "ServerHello extensions, SYN-ACK unchanged" in r, r
EOF
grep -q 'ServerHello extensions 51-43, baseline 43-51' "$tmp/gnutls-server.json" &&
	echo "ok fingerprint gnutls-serv: the other stack's extension order named" ||
	{ echo "not ok fingerprint gnutls-serv: reason"; grep -o '"reason":"[^"]*' "$tmp/gnutls-server.json" | head -2; }

# ---- a key log decides instead ---------------------------------------------------------
run keyed -r "$d/rogue-tls13.pcap" --baseline "$tmp/base.txt" --keylog "$d/rogue-tls13.keys"
check "fingerprint with a key log: judged by the certificates" "$(alerts keyed)" \
	"cloudflare-dns:unapproved-issuer"
run keyed-ok -r "$d/approved-again.pcap" --baseline "$tmp/base.txt" --keylog "$d/approved-again.keys"
grep -q 'coverage: cloudflare-dns ip 1.1.1.1: 1 handshake: approved 1, alerting 0,' "$tmp/keyed-ok.err" &&
	echo "ok fingerprint with a key log: coverage approved" || { echo "not ok keyed coverage"; grep coverage "$tmp/keyed-ok.err"; }

# ---- --check-rules --------------------------------------------------------------------
"$bin" --check-rules "$rules" >"$tmp/plan0.txt" 2>&1
"$bin" --check-rules "$rules" --baseline "$tmp/base.txt" >"$tmp/plan1.txt" 2>&1
grep -q 'ip 1.1.1.1: TLS 1.0-1.2 checked (approved or alerting); TLS 1.3 and QUIC NOT CHECKED (no key log, no --baseline)' "$tmp/plan0.txt" &&
	echo "ok fingerprint check-rules: TLS 1.3 unchecked without a key log or baseline" ||
	{ echo "not ok check-rules plan0"; cat "$tmp/plan0.txt"; }
grep -q 'ip 1.1.1.1: TLS 1.0-1.2 checked (approved or alerting); TLS 1.3 and QUIC by fingerprint (1 baseline endpoint)' "$tmp/plan1.txt" &&
	grep -q 'ip 1.0.0.1: TLS 1.0-1.2 checked (approved or alerting); TLS 1.3 and QUIC NOT CHECKED (no baseline endpoint for it)' "$tmp/plan1.txt" &&
	echo "ok fingerprint check-rules: per asset, with the baseline" ||
	{ echo "not ok check-rules plan1"; cat "$tmp/plan1.txt"; }

# ---- learning on top, threads ------------------------------------------------------------
run relearn -r "$d/approved-again.pcap" --baseline "$tmp/base.txt" --learn "$tmp/base2.txt"
total2=$(sed -n 's/.* count=\([0-9]*\) .*/\1/p' "$tmp/base2.txt" | awk '{s += $1} END {print s}')
check "fingerprint learn on a baseline: the counts add up" "$total2" 6
all=()
for f in rogue-tls13 approved-again gnutls-server gnutls-client selfsigned-tls13; do all+=(-r "$d/$f.pcap"); done
run one "${all[@]}" --baseline "$tmp/base.txt"
run two "${all[@]}" --baseline "$tmp/base.txt" --workers 2
check "fingerprint --workers 2: the same alerts" "$(alerts two)" "$(alerts one)"
check "fingerprint --workers 2: the same outcomes" "$(fpo two)" "$(fpo one)"

# ---- bad baselines ---------------------------------------------------------------------------
bad() { # NAME CONTENT WANT
	printf '%b' "$2" >"$tmp/bad.txt"
	"$bin" -R "$rules" -r "$d/approved-again.pcap" --baseline "$tmp/bad.txt" >/dev/null 2>"$tmp/bad.err"
	local rc=$?
	if [ $rc -eq 2 ] && grep -q "bad.txt:$3" "$tmp/bad.err"; then
		echo "ok fingerprint bad baseline $1"
	else
		echo "not ok fingerprint bad baseline $1: rc $rc: $(cat "$tmp/bad.err")"
	fi
}
line='shape endpoint=1.1.1.1:853 sni=- count=3 hello=43-51 records=4 bytes=1284 sd=0 min=1284 max=1284 largest=1097-1097 synack=- ciphers=1302 groups=29'
bad version 'certsentry-baseline 2\n' '1: unsupported baseline version'
bad not-ours 'hello\n' '1: not a certsentry baseline'
bad empty '# nothing\n' ' empty'
bad field "certsentry-baseline 1\n${line} extra=1\n" '2: unknown field'
bad twice "certsentry-baseline 1\n${line} count=4\n" '2: a field given twice'
bad missing "certsentry-baseline 1\n${line% groups=29}\n" '2: a field is missing'
bad endpoint "certsentry-baseline 1\n${line/1.1.1.1:853/1.1.1.1}\n" '2: bad endpoint'
bad range "certsentry-baseline 1\n${line/min=1284/min=1300}\n" '2: bad min or max'
bad synack "certsentry-baseline 1\n${line/synack=-/synack=63/1460/7/1/M}\n" '2: bad synack'
bad long "certsentry-baseline 1\n$(head -c 2000 /dev/zero | tr '\0' x)\n" '2: line longer than 1024'
"$bin" -R "$rules" -r "$d/approved-again.pcap" --baseline "$tmp/none.txt" >/dev/null 2>"$tmp/bad.err"
[ $? -eq 2 ] && grep -q 'none.txt: No such file' "$tmp/bad.err" &&
	echo "ok fingerprint missing baseline file: exit 2" || echo "not ok fingerprint missing baseline: $(cat "$tmp/bad.err")"

if ../shared/eve/validate "$tmp/all.eve" >"$tmp/validate.txt" 2>&1; then
	echo "ok fingerprint EVE schema: $(tail -1 "$tmp/validate.txt")"
else
	echo "not ok fingerprint EVE schema"; head -20 "$tmp/validate.txt"
fi
