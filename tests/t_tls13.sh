#!/usr/bin/env bash
# TLS 1.3 certificates read with key logs (pcaps/tls13/, made by
# tests/mktls13.sh: OpenSSL and GnuTLS sessions with the key logs their
# clients wrote).  Default options except --keylog, which is what this
# tests:
#   - every capture of pcaps/tls13/captures.tsv with its key log: exactly
#     the alerts listed, its tls events, and how the TLS 1.3 certificates
#     were read (certsentry.tls13.certificates);
#   - each TLS 1.3 capture gives the verdicts of its TLS 1.2 twin (same
#     chain, same server);
#   - without a key log, or with another session's, nothing is read and
#     the tls event says why; a key log with the right client random and
#     a wrong secret: authentication failure, counted, reported, no crash;
#   - key logs with comments, CRLF, unknown labels and garbage lines; a
#     key log of a million unrelated lines; --workers 2; a pcapng that
#     carries its own secrets (no option); a missing key log file (exit 2);
#   - every EVE line passes ../shared/eve/validate.
set -u
cd "$(dirname "$0")/.." || exit 1
. tests/netns_lib.sh
bin=${CERTSENTRY:-./certsentry}
py=/usr/bin/python3
d=pcaps/tls13
rules=$d/tls13.rules
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
[ -x "$bin" ] || { echo "not ok tls13: no binary $bin"; exit 1; }
[ -f "$d/captures.tsv" ] || { echo "not ok tls13: $d/captures.tsv missing (tests/mktls13.sh)"; exit 1; }

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
t13() { $py tests/evetool.py tls13 "$tmp/$1.json"; }
check() { # NAME GOT WANT
	if [ "$2" = "$3" ]; then echo "ok $1"; else echo "not ok $1: got '$2', want '$3'"; fi
}

# ---- every capture with its key log ----------------------------------------
while IFS=$'\t' read -r file hs want keys want13; do
	case "$file" in ''|'#'*|file) continue ;; esac
	name=${file%.*}
	args=(-r "$d/$file")
	[ "$keys" != - ] && args+=(--keylog "$d/$keys")
	run "$name" "${args[@]}"
	want_rc=0
	[ "$want" != - ] && want_rc=1
	check "tls13 alerts $file" "$(alerts "$name") rc=$(cat "$tmp/$name.rc")" "$want rc=$want_rc"
	check "tls13 handshakes $file" "$($py tests/evetool.py count "$tmp/$name.json" tls)" "$hs"
	[ "$want13" = - ] && want13=-
	check "tls13 certificates read $file" "$(t13 "$name")" "$(echo "$want13" | tr ',' '\n' | sort | paste -sd, -)"
done <"$d/captures.tsv"

# ---- the TLS 1.2 twins -------------------------------------------------------
for f in "$d"/*-tls12.pcap; do
	t=$(basename "${f%-tls12.pcap}")
	check "tls13 same verdict as TLS 1.2: $t" "$(alerts "$t-tls13")" "$(alerts "$t-tls12")"
done

# ---- no key log, another session's, a wrong secret -----------------------------
run nokeys -r "$d/rogue-tls13.pcap"
check "tls13 no key log: no alert, not read" "$(alerts nokeys) $(t13 nokeys)" "- no-key-log"
grep -q 'give certsentry the clients. key log' "$tmp/nokeys.json" &&
	echo "ok tls13 no key log: the reason says how to check it" ||
	echo "not ok tls13 no key log: reason does not mention --keylog"
run otherkeys -r "$d/rogue-tls13.pcap" --keylog "$d/approved-tls13.keys"
check "tls13 another session's key log: not read" "$(alerts otherkeys) $(t13 otherkeys)" "- no-key"
grep -q 'no key log secret for this ClientHello random' "$tmp/otherkeys.json" &&
	echo "ok tls13 another session's key log: note says why" ||
	echo "not ok tls13 another session's key log: no note"

# The right client random, the secret's last hex digit changed.
awk '$1 == "SERVER_HANDSHAKE_TRAFFIC_SECRET" {
	c = substr($3, length($3), 1); c = (c == "0") ? "1" : "0"
	$3 = substr($3, 1, length($3) - 1) c } { print }' "$d/rogue-tls13.keys" >"$tmp/wrong.keys"
run wrong -r "$d/rogue-tls13.pcap" --keylog "$tmp/wrong.keys"
check "tls13 wrong secret: unverified-handshake alert" "$(alerts wrong) rc=$(cat "$tmp/wrong.rc")" \
	"cloudflare-dns:unverified-handshake rc=1"
check "tls13 wrong secret: reported as an authentication failure" "$(t13 wrong)" "authentication-failed"
grep -q 'failed authentication' "$tmp/wrong.json" &&
	echo "ok tls13 wrong secret: certsentry.note says why" || echo "not ok tls13 wrong secret: no note"
grep -q 'authentication failures 1)' "$tmp/wrong.err" &&
	echo "ok tls13 wrong secret: counted in the summary" ||
	{ echo "not ok tls13 wrong secret: not counted"; cat "$tmp/wrong.err"; }

# ---- key log syntax ------------------------------------------------------------
{
	printf '# a comment\r\n\r\n'
	printf 'CLIENT_RANDOM 00 11\r\n'
	printf 'NOT_A_LABEL_WE_KNOW %064d %064d\r\n' 0 0
	printf 'SERVER_HANDSHAKE_TRAFFIC_SECRET zz%062d %064d\r\n' 0 0
	printf 'SERVER_HANDSHAKE_TRAFFIC_SECRET %064d 0123\r\n' 0
	printf 'garbage\r\n'
	head -c 3000 /dev/zero | tr '\0' 'x'; printf '\n'
	sed 's/$/\r/' "$d/rogue-tls13.keys"
} >"$tmp/messy.keys"
run messy -r "$d/rogue-tls13.pcap" --keylog "$tmp/messy.keys"
check "tls13 messy key log: still read" "$(alerts messy)" "cloudflare-dns:unapproved-issuer"
grep -q '(1[0-9] lines, 4 malformed)' "$tmp/messy.err" &&
	echo "ok tls13 messy key log: malformed lines counted" ||
	{ echo "not ok tls13 messy key log: counts"; grep 'key log' "$tmp/messy.err"; }

# Several --keylog files: the secret in the second.
run two -r "$d/rogue-tls13.pcap" -r "$d/approved-tls13.pcap" --keylog "$d/approved-tls13.keys" \
	--keylog "$d/rogue-tls13.keys"
check "tls13 two key logs" "$(alerts two) $(t13 two)" "cloudflare-dns:unapproved-issuer decrypted,decrypted"

# ---- a million unrelated lines -------------------------------------------------
$py - "$tmp/million.keys" "$d/rogue-tls13.keys" <<'EOF'
import os, sys
out, real = sys.argv[1], sys.argv[2]
with open(out, "w") as f:
    rnd = os.urandom(32 * 1000000 + 48).hex()
    for i in range(1000000):
        f.write("SERVER_HANDSHAKE_TRAFFIC_SECRET %s %s\n" % (rnd[64 * i:64 * i + 64], rnd[i:i + 96]))
    f.write(open(real).read())
EOF
s0=$(date +%s%N)
run million -r "$d/rogue-tls13.pcap" --keylog "$tmp/million.keys"
s1=$(date +%s%N)
check "tls13 key log of a million lines: read" "$(alerts million) $(t13 million)" \
	"cloudflare-dns:unapproved-issuer decrypted"
grep -q '1000001 secrets' "$tmp/million.err" &&
	echo "ok tls13 key log of a million lines: every secret loaded" ||
	{ echo "not ok tls13 million: count"; grep 'key log' "$tmp/million.err"; }
echo "# tls13: a run with a 1,000,001-line key log took $(( (s1 - s0) / 1000000 )) ms"
rm -f "$tmp/million.keys"

# ---- threads, pcapng secrets, bad file -------------------------------------------
all=()
keys=()
for f in "$d"/*-tls13.pcap "$d"/rogue-*.pcap; do all+=(-r "$f"); done
for k in "$d"/*.keys; do keys+=(--keylog "$k"); done
run one "${all[@]}" "${keys[@]}"
run workers "${all[@]}" "${keys[@]}" --workers 2
check "tls13 --workers 2: the same alerts" "$(alerts workers)" "$(alerts one)"
check "tls13 --workers 2: the same certificates read" "$(t13 workers)" "$(t13 one)"

run stdin -r - <"$d/rogue-embedded.pcapng"
# The Decryption Secrets Blocks are read in stream order: a pipe gets its
# secrets as a file does.
check "tls13 pcapng on standard input: its secrets read as from a file" "$(t13 stdin)" "decrypted"
"$bin" -R "$rules" -r "$d/rogue-tls13.pcap" --keylog "$tmp/nonexistent.keys" >/dev/null 2>"$tmp/bad.err"
rc=$?
grep -q 'nonexistent.keys: No such file' "$tmp/bad.err" && [ $rc -eq 2 ] &&
	echo "ok tls13 missing key log file: exit 2 with the reason" ||
	{ echo "not ok tls13 missing key log: rc $rc"; cat "$tmp/bad.err"; }

if ../shared/eve/validate "$tmp/all.eve" >"$tmp/validate.txt" 2>&1; then
	echo "ok tls13 EVE schema: $(tail -1 "$tmp/validate.txt")"
else
	echo "not ok tls13 EVE schema"; head -20 "$tmp/validate.txt"
fi

# ---- live capture: a key log that is still being written ------------------------
# Two namespaces joined by a veth pair (MTU 9000); certsentry captures on
# one end, tcpreplay replays rogue-tls13.pcap slowly (10 packets a second)
# into the other, and the key log's lines are appended only once the
# ServerHello has gone by.  Needs root; traffic stays in the namespaces.
live_keylog() { # NAME WAIT_MS APPEND(0/1)
	local name=$1 wait=$2 append=$3 tag=c13$$ pid
	netns_pair "$tag" || { echo "not ok tls13 live $name: cannot build the namespaces"; netns_pair_del "$tag"; return; }
	: >"$tmp/$name.keys"
	ip netns exec "${tag}b" "$bin" -i "${tag}y" -R "$rules" -o "$tmp/$name.json" \
		--keylog "$tmp/$name.keys" --keylog-wait "$wait" 2>"$tmp/$name.err" &
	pid=$!
	sleep 1
	ip netns exec "${tag}a" tcpreplay -q -i "${tag}x" --pps 10 "$d/rogue-tls13.pcap" >/dev/null 2>&1 &
	sleep 1.2    # the ClientHello and ServerHello are the 4th and 6th packets
	[ "$append" = 1 ] && cat "$d/rogue-tls13.keys" >>"$tmp/$name.keys"
	wait $!
	sleep 0.5
	kill -TERM "$pid"
	wait "$pid"
	netns_pair_del "$tag"
	cat "$tmp/$name.json" >>"$tmp/all.eve"
}
if [ "$(id -u)" -eq 0 ] && command -v tcpreplay >/dev/null; then
	live_keylog growing 5000 1
	check "tls13 live: a secret appended after the ServerHello is found" \
		"$(alerts growing) $(t13 growing)" "cloudflare-dns:unapproved-issuer decrypted"
	live_keylog never 300 0
	check "tls13 live: no secret within --keylog-wait: reported, not decrypted" \
		"$(alerts never) $(t13 never)" "- no-key"
	grep -q 'waited [0-9]* ms' "$tmp/never.json" &&
		echo "ok tls13 live: the note says how long it waited" ||
		{ echo "not ok tls13 live: no wait in the note"; $py tests/evetool.py notes "$tmp/never.json"; }
else
	echo "# tls13 live: skipped (needs root and tcpreplay)"
fi

if ../shared/eve/validate "$tmp/all.eve" >"$tmp/validate.txt" 2>&1; then
	echo "ok tls13 EVE schema (live): $(tail -1 "$tmp/validate.txt")"
else
	echo "not ok tls13 EVE schema (live)"; head -20 "$tmp/validate.txt"
fi
