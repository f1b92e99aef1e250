#!/usr/bin/env bash
# mkquic.sh - regenerate the QUIC test captures in pcaps/quic/: real QUIC
# stacks from Debian 12 (ngtcp2 0.12's GnuTLS examples gtlsserver /
# gtlsclient, and quic-go 0.29 through tests/quic/quicpeer.go) talking
# DNS over QUIC (UDP 853, ALPN doq) and HTTP/3 (UDP 443, ALPN h3), each
# capture with the key log its client wrote, embedded as a pcapng
# Decryption Secrets Block and beside it as NAME.keys; the certificates
# (pki/), the rules (quic.rules), the manifest (expected.tsv).
#
#   sudo bash tests/mkquic.sh
#
# Needs root (network namespaces, veth, tcpdump) and Debian's
# ngtcp2-server, ngtcp2-client, golang-go,
# golang-github-lucas-clemente-quic-go-dev, golang-github-miekg-dns-dev,
# openssl, tcpdump, tshark (editcap), ethtool and iproute2. It runs once
# by hand: its output is committed, so CI needs none of these.
#
# Network: two network namespaces this script creates and deletes on exit,
# cs-qs-PID (the server, 1.1.1.1) and cs-qc-PID (the client, an address in
# 203.0.113.0/24 or 198.51.100.0/24 that changes per capture), joined by
# one veth pair (MTU 1500); nothing is sent anywhere else. The addresses
# are real on the wire, so nothing is rewritten but the timestamps (the
# first packet of each file at 2024-02-01T10:00:00Z) and nothing needs a
# checksum fixed: checksum and segmentation offloads are off on both ends,
# so every datagram is captured as sent, with a valid UDP checksum.
#
# This set has its own PKI, like tests/mktls13.sh's (pcaps/pki/ has no
# private keys, and a server needs one): every run makes new keys, so the
# captures, key logs, PEMs, rules and expected.tsv change together; commit
# them together. CS_KEEP_TMP=1 keeps the work directory for debugging.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$ROOT/pcaps/quic
START=2024-02-01T10:00:00Z
SIP=1.1.1.1
SNI=cloudflare-dns.com
NSS=cs-qs-$$
NSC=cs-qc-$$
VS=qs$$
VC=qc$$

log() { printf 'mkquic: %s\n' "$*" >&2; }
die() { printf 'mkquic: ERROR: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must run as root (ip netns, tcpdump)"
for c in openssl gtlsserver gtlsclient go tcpdump tshark editcap ethtool ip timeout sha256sum; do
	command -v "$c" >/dev/null || die "missing command: $c"
done
[ -d /usr/share/gocode/src/github.com/lucas-clemente/quic-go ] ||
	die "missing golang-github-lucas-clemente-quic-go-dev"
[ -d /usr/share/gocode/src/github.com/miekg/dns ] || die "missing golang-github-miekg-dns-dev"

TMP=$(mktemp -d /tmp/cs-quic.XXXXXX)
PIDS=()
cleanup() {
	local rc=$? p
	trap - EXIT INT TERM
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	ip netns del "$NSS" 2>/dev/null || true
	ip netns del "$NSC" 2>/dev/null || true
	if [ "${CS_KEEP_TMP:-0}" = 1 ]; then log "kept $TMP"; else rm -rf "$TMP"; fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

run() {
	if ! "$@" >"$TMP/run.out" 2>&1; then
		cat "$TMP/run.out" >&2
		die "command failed: $*"
	fi
}
# What the generators share: tcpdump, the veth pair, the PKI.
. "$ROOT/tests/mkcapture_lib.sh"

###########################################################################
# The quic-go peer, built offline from Debian's packaged sources
###########################################################################

log "building tests/quic/quicpeer.go"
PEER=$TMP/quicpeer
(cd "$ROOT/tests/quic" && GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE=$TMP/gocache \
	GOFLAGS='' go build -o "$PEER" quicpeer.go) || die "go build failed"

###########################################################################
# PKI: the owner's approved hierarchy, and what an interceptor would hold
###########################################################################

P=$TMP/pki
mkdir -p "$P"
CF_SAN="DNS:cloudflare-dns.com,DNS:*.cloudflare-dns.com,DNS:one.one.one.one,IP:1.1.1.1,IP:1.0.0.1"

key() { pki_key "$@"; }   # NAME ec|rsa|rsa4096 (tests/mkcapture_lib.sh)
# ca NAME SUBJECT SIGNER|self
ca() { pki_cert "$1" "$2" "$3" ca; }
# leaf NAME SUBJECT SAN SIGNER
leaf() { pki_cert "$1" "$2" "$4" leaf "$3"; }

log "generating the PKI"
key approved-root ec; key approved-issuing ec; key approved-leaf ec
ca approved-root "/C=US/O=Cloudflare Test PKI Q/CN=Approved Root CA Q" self
ca approved-issuing "/C=US/O=Cloudflare Test PKI Q/CN=Approved Issuing CA Q" approved-root
leaf approved-leaf "/CN=cloudflare-dns.com" "$CF_SAN" approved-issuing
# The Fina case: a CA nobody approved, issuing for the resolver's IP.
key rogue-root rsa; key rogue-leaf rsa
ca rogue-root "/C=HR/O=Fina-like Rogue CA Q/CN=Rogue RDC 2020 Q" self
leaf rogue-leaf "/CN=1.1.1.1" "IP:1.1.1.1" rogue-root
# A chain too big for a few datagrams: 4096-bit keys and a leaf with 150
# names (about 7 KB in all). A server may send at most three times what
# it received before the client's address is validated (RFC 9000 §8.1),
# so the Certificate spans several Handshake packets and datagrams and
# waits on the client's acknowledgements.
key rogue-issuing rsa4096; key big-leaf rsa4096
ca rogue-issuing "/C=HR/O=Fina-like Rogue CA Q/CN=Rogue Issuing 2020 Q" rogue-root
BIG_SAN="$CF_SAN"
for i in $(seq -w 1 150); do BIG_SAN="$BIG_SAN,DNS:edge-$i.resolver.cloudflare-dns.com"; done
leaf big-leaf "/CN=cloudflare-dns.com" "$BIG_SAN" rogue-issuing

declare -A CHAIN=(
	[approved]="approved-leaf approved-issuing"
	[rogue]="rogue-leaf rogue-root"
	[big]="big-leaf rogue-issuing rogue-root"
)
for ch in "${!CHAIN[@]}"; do
	# shellcheck disable=SC2086
	set -- ${CHAIN[$ch]}
	cp "$P/$1.key" "$P/chain-$ch.key"
	: >"$P/chain-$ch.pem"
	: >"$P/chain-$ch.sha256"
	for c in "$@"; do
		cat "$P/$c.pem" >>"$P/chain-$ch.pem"
		openssl x509 -in "$P/$c.pem" -outform DER | sha256sum | cut -d' ' -f1 >>"$P/chain-$ch.sha256"
	done
done

###########################################################################
# Network: server and client namespaces joined by a veth pair
###########################################################################

log "creating network namespaces $NSS (server $SIP) and $NSC (client)"
veth_pair "$NSS" "$VS" "$NSC" "$VC"
ip -n "$NSS" addr add "$SIP/32" dev "$VS"
ip -n "$NSS" route add 198.51.100.0/24 dev "$VS"
ip -n "$NSS" route add 203.0.113.0/24 dev "$VS"
ip -n "$NSC" route add "$SIP/32" dev "$VC" 2>/dev/null || true
nss() { ip netns exec "$NSS" "$@"; }
nsc() { ip netns exec "$NSC" "$@"; }

CIP=
client_ip() { # ADDR: the client's only address from now on
	[ -n "$CIP" ] && ip -n "$NSC" addr del "$CIP/32" dev "$VC"
	CIP=$1
	ip -n "$NSC" addr add "$CIP/32" dev "$VC"
	ip -n "$NSC" route replace "$SIP/32" dev "$VC" src "$CIP"
}

RAW=$TMP/raw
WWW=$TMP/www
mkdir -p "$RAW" "$WWW"
printf 'ok\n' >"$WWW/hello.txt"
HOSTS=$TMP/hosts
printf '127.0.0.1 localhost\n%s %s\n' "$SIP" "$SNI" >"$HOSTS"

start_capture() { capture_start "$NSC" "$VC" 'udp port 443 or udp port 853' "$1"; }   # NAME
stop_capture() { capture_stop; }
wait_udp() { # PORT PID
	local i
	for i in $(seq 100); do
		nss ss -Hlun "sport = :$1" | grep -q . && return 0
		kill -0 "$2" 2>/dev/null || die "server on UDP $1 exited early (see $RAW/server.log)"
		sleep 0.1
	done
	die "nothing listens on UDP $1"
}

SV_PID=
# ngtcp2 NAME CHAIN CLIENT_IP "SERVER_OPTS" "CLIENT_OPTS": one HTTP/3
# exchange between gtlsserver and gtlsclient on UDP 443. Given an IP,
# gtlsclient sends the SNI "localhost" (its --sni changes only what it
# checks, not what it sends), so it is given the name, resolved by a
# private /etc/hosts bind-mounted in a mount namespace of its own.
ngtcp2() {
	local name=$1 chain=$2 cip=$3 sopts=$4 copts=$5
	log "capturing $name (ngtcp2)"
	client_ip "$cip"
	start_capture "$name"
	# shellcheck disable=SC2086
	(cd "$WWW" && exec timeout -s TERM 60 ip netns exec "$NSS" gtlsserver -q -d "$WWW" \
		--max-gso-dgrams=1 $sopts "$SIP" 443 "$P/chain-$chain.key" "$P/chain-$chain.pem") \
		>>"$RAW/server.log" 2>&1 &
	SV_PID=$!
	PIDS+=("$SV_PID")
	wait_udp 443 "$SV_PID"
	mkdir -p "$RAW/$name.dl"
	# shellcheck disable=SC2086
	# shellcheck disable=SC2016 # $0 and $@ are the inner shell's
	SSLKEYLOGFILE=$RAW/$name.keys timeout 30 ip netns exec "$NSC" unshare -m sh -c \
		'mount --bind "$0" /etc/hosts && exec "$@"' "$HOSTS" gtlsclient \
		--exit-on-all-streams-close --download="$RAW/$name.dl" \
		$copts "$SNI" 443 "https://$SNI/hello.txt" >"$RAW/$name.client" 2>&1 ||
		{ cat "$RAW/$name.client" >&2; die "$name: gtlsclient failed"; }
	[ "$(cat "$RAW/$name.dl/hello.txt" 2>/dev/null)" = ok ] ||
		{ cat "$RAW/$name.client" >&2; die "$name: no HTTP/3 response"; }
	# gtlsserver serves until killed; its last packets were the answer
	# to the client's CONNECTION_CLOSE, which stop_capture waits out.
	stop_capture
	kill -TERM "$SV_PID"; wait "$SV_PID" 2>/dev/null || true
}

# quicgo NAME CHAIN CLIENT_IP doq|h3 "PEER_OPTS": one exchange between two
# quicpeer processes (DoQ on UDP 853, HTTP/3 on UDP 443).
quicgo() {
	local name=$1 chain=$2 cip=$3 proto=$4 opts=$5 port=443
	[ "$proto" = doq ] && port=853
	log "capturing $name (quic-go $proto)"
	client_ip "$cip"
	start_capture "$name"
	# shellcheck disable=SC2086
	timeout -s TERM 60 ip netns exec "$NSS" "$PEER" -mode "$proto-server" -addr "$SIP:$port" \
		-cert "$P/chain-$chain.pem" -key "$P/chain-$chain.key" $opts >>"$RAW/server.log" 2>&1 &
	SV_PID=$!
	PIDS+=("$SV_PID")
	wait_udp "$port" "$SV_PID"
	# shellcheck disable=SC2086
	timeout 30 ip netns exec "$NSC" "$PEER" -mode "$proto-client" -addr "$SIP:$port" \
		-sni "$SNI" -keylog "$RAW/$name.keys" $opts >"$RAW/$name.client" 2>&1 ||
		{ cat "$RAW/$name.client" >&2; die "$name: quicpeer client failed"; }
	wait "$SV_PID" || die "$name: quicpeer server failed (see $RAW/server.log)"
	stop_capture
}

GT_PRIO='NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL'
# What each capture must show, checked by tests/quic/qcheck.py and written
# to expected.tsv. META[NAME]="stack port chain suite retry vn
# min_handshake_datagrams version alerts": suite "-" where the stack
# chooses (then only checked to be one of QUIC's three), version that of
# the client's last Initial.
declare -A META
CAPS=()
meta() { CAPS+=("$1"); META[$1]="$2"; }
ROGUE=cloudflare-dns:unapproved-issuer

# DNS over QUIC and HTTP/3 with quic-go, approved and rogue chains.
meta doq-approved "quic-go 853 approved - 0 0 1 0x00000001 -"
quicgo doq-approved approved 203.0.113.60 doq ""
meta doq-rogue "quic-go 853 rogue - 0 0 1 0x00000001 $ROGUE"
quicgo doq-rogue rogue 203.0.113.61 doq ""
meta h3-approved "quic-go 443 approved - 0 0 1 0x00000001 -"
quicgo h3-approved approved 203.0.113.62 h3 ""
meta h3-rogue "quic-go 443 rogue - 0 0 1 0x00000001 $ROGUE"
quicgo h3-rogue rogue 203.0.113.63 h3 ""
# The big chain across several datagrams (the server's Handshake packets
# must fill at least 5).
meta doq-big "quic-go 853 big - 0 0 5 0x00000001 $ROGUE"
quicgo doq-big big 203.0.113.64 doq ""
# Retry: the server validates the address first; the client's second
# Initial carries the token and goes to the connection ID of the Retry.
meta doq-retry "quic-go 853 rogue - 1 0 1 0x00000001 $ROGUE"
quicgo doq-retry rogue 203.0.113.65 doq "-retry"
# QUIC v2 as quic-go 0.29 knows it: draft-ietf-quic-v2 (0x709a50c4), not
# RFC 9369's 0x6b3343cf (neither Debian 12 stack has the final version).
# tshark 4.0 cannot read this version: checked apart below.
meta doq-v2draft "quic-go 853 rogue - 0 0 0 0x709a50c4 -"
quicgo doq-v2draft rogue 203.0.113.66 doq "-version v2draft"

# ngtcp2 (GnuTLS): each TLS 1.3 suite QUIC allows, chosen by the client
# (GnuTLS's default order puts AES-128-GCM first).
meta h3-ngtcp2-approved "ngtcp2 443 approved 0x1301 0 0 1 0x00000001 -"
ngtcp2 h3-ngtcp2-approved approved 198.51.100.60 "" ""
meta h3-ngtcp2-aes128 "ngtcp2 443 rogue 0x1301 0 0 1 0x00000001 $ROGUE"
ngtcp2 h3-ngtcp2-aes128 rogue 198.51.100.61 "" "--ciphers=$GT_PRIO:+AES-128-GCM"
meta h3-ngtcp2-aes256 "ngtcp2 443 rogue 0x1302 0 0 1 0x00000001 $ROGUE"
ngtcp2 h3-ngtcp2-aes256 rogue 198.51.100.62 "" "--ciphers=$GT_PRIO:+AES-256-GCM"
meta h3-ngtcp2-chacha "ngtcp2 443 rogue 0x1303 0 0 1 0x00000001 $ROGUE"
ngtcp2 h3-ngtcp2-chacha rogue 198.51.100.63 "" "--ciphers=$GT_PRIO:+CHACHA20-POLY1305"
# Retry from ngtcp2's server.
meta h3-ngtcp2-retry "ngtcp2 443 rogue 0x1301 1 0 1 0x00000001 $ROGUE"
ngtcp2 h3-ngtcp2-retry rogue 198.51.100.64 "--validate-addr" ""
# Version Negotiation: the client's first Initial is in a version nobody
# supports (0x1a2a3a4a, of the form 0x?a?a?a?a that RFC 9000 §15 reserves
# to exercise negotiation); the server answers with a Version Negotiation
# packet and the client starts again in v1.
meta h3-ngtcp2-vn "ngtcp2 443 rogue 0x1301 0 1 1 0x00000001 $ROGUE"
ngtcp2 h3-ngtcp2-vn rogue 198.51.100.65 "" "--version=0x1a2a3a4a --preferred-versions=v1"

ip netns del "$NSS"
ip netns del "$NSC"

###########################################################################
# Timestamps, embedded secrets, checks, manifest
###########################################################################

NEW=$TMP/out
mkdir -p "$NEW/pki"
start_epoch=$(date -u -d "$START" +%s)
declare -A SUITE_NAME=([0x1301]=TLS_AES_128_GCM_SHA256 [0x1302]=TLS_AES_256_GCM_SHA384
	[0x1303]=TLS_CHACHA20_POLY1305_SHA256)
printf 'file\tkeys\tstack\tquic_version\tsuite\tsni\talpn\tchain\texpected_alerts\tcerts_checked_by\tsha256\n' \
	>"$NEW/expected.tsv"
: >"$TMP/summary.tsv"
for name in "${CAPS[@]}"; do
	# shellcheck disable=SC2086
	set -- ${META[$name]}
	stack=$1 port=$2 chain=$3 suite=$4 retry=$5 vn=$6 mindg=$7 version=$8 alerts=$9
	alpn=h3
	[ "$port" = 853 ] && alpn=doq
	grep -v '^#' "$RAW/$name.keys" >"$NEW/$name.keys"
	# Move the first packet to $START; the key log goes in as a
	# Decryption Secrets Block (pcapng), what Wireshark's editcap writes.
	first=$(tshark -r "$RAW/$name.pcap" -c 1 -T fields -e frame.time_epoch 2>/dev/null)
	delta=$(awk -v s="$start_epoch" -v f="$first" 'BEGIN { printf "%.6f", s - f }')
	run editcap -F pcapng -t "$delta" --inject-secrets "tls,$NEW/$name.keys" \
		"$RAW/$name.pcap" "$NEW/$name.pcapng"
	got=$(tshark -r "$NEW/$name.pcapng" -c 1 -T fields -e frame.time_epoch 2>/dev/null)
	[ "${got%%.*}" = "$start_epoch" ] || die "$name: first packet at $got, not $START"
	if [ "$version" = 0x709a50c4 ]; then
		# tshark 4.0 reads no QUIC v2 draft packet: check only that every
		# long header carries that version, and take the chain from the
		# server's configuration.
		vers=$(tshark -n -r "$NEW/$name.pcapng" -d "udp.port==$port,quic" -T fields \
			-e quic.version -Y 'quic.header_form == 1' 2>/dev/null | tr ',' '\n' | sort -u | paste -sd, -)
		[ "$vers" = 0x709a50c4 ] || die "$name: long-header versions $vers"
		[ "$(tshark -n -r "$NEW/$name.pcapng" -d "udp.port==$port,quic" \
			-Y 'quic.header_form == 1' 2>/dev/null | wc -l)" -ge 4 ] || die "$name: too few long-header packets"
		by=server-config
		sni=$SNI
	else
		exp=(--expect-version "$version" --expect-sni "$SNI" --expect-alpn "$alpn"
			--expect-certs "$P/chain-$chain.sha256" --expect-retry "$retry" --expect-vn "$vn"
			--min-cert-datagrams "$mindg")
		[ "$suite" != - ] && exp+=(--expect-suite "$suite")
		# Once with the key log given to tshark, once with only the
		# embedded one: both must read the same chain.
		/usr/bin/python3 "$ROOT/tests/quic/qcheck.py" "$NEW/$name.pcapng" --keys "$NEW/$name.keys" \
			--port "$port" "${exp[@]}" >"$TMP/$name.check" || die "$name: check failed"
		/usr/bin/python3 "$ROOT/tests/quic/qcheck.py" "$NEW/$name.pcapng" \
			--port "$port" "${exp[@]}" >"$TMP/$name.check2" || die "$name: check (DSB) failed"
		cmp -s "$TMP/$name.check" "$TMP/$name.check2" || die "$name: DSB and key log differ"
		IFS=$'\t' read -r pk _ suite sni _ dg _ <"$TMP/$name.check"
		[ -n "${SUITE_NAME[$suite]:-}" ] || die "$name: suite $suite is not a QUIC suite"
		printf '%s\t%s\t%s\t%s\n' "$name" "$pk" "$dg" "${SUITE_NAME[$suite]}" >>"$TMP/summary.tsv"
		by=tshark
	fi
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name.pcapng" "$name.keys" "$stack" \
		"$version" "${SUITE_NAME[$suite]:--}" "$sni" "$alpn" "${CHAIN[$chain]// /,}" "$alerts" "$by" \
		"$(paste -sd, "$P/chain-$chain.sha256")" >>"$NEW/expected.tsv"
done
log "packets per capture (types; server datagrams with Handshake packets; suite):"
column -t "$TMP/summary.tsv" >&2

for c in approved-root approved-issuing approved-leaf rogue-root rogue-issuing rogue-leaf big-leaf; do
	cp "$P/$c.pem" "$NEW/pki/"
done
cat >"$NEW/quic.rules" <<'EOF'
# Rules of the QUIC capture set (tests/mkquic.sh): its own PKI.
owner cloudflare-dns
protect ip 1.1.1.1 1.0.0.1
protect name cloudflare-dns.com *.cloudflare-dns.com one.one.one.one
approve ca pki/approved-root.pem
approve ca pki/approved-issuing.pem
EOF

total=$(du -sk "$NEW" | cut -f1)
[ "$total" -le 300 ] || die "the captures take $total KB, more than 300"
mkdir -p "$OUT"
# What this script wrote last time: its files and pki/; the README is
# written by hand, and split/ and v2/ belong to mkquicsplit.py and
# mkquicv2.py (run them again after this: they re-seal these captures).
find "$OUT" -mindepth 1 -maxdepth 1 -type f ! -name README.md -delete
rm -rf "$OUT/pki"
cp -r "$NEW/." "$OUT/"
# The README is written by hand but for its table of certificate hashes,
# which changes with every PKI: rewritten between its two markers.
{
	printf '| certificate | DER bytes | SHA-256 of the DER |\n| --- | --- | --- |\n'
	for c in approved-leaf approved-issuing approved-root rogue-leaf rogue-root big-leaf rogue-issuing; do
		# shellcheck disable=SC2016 # the backquotes are Markdown
		printf '| `%s` | %s | `%s` |\n' "$c" "$(openssl x509 -in "$P/$c.pem" -outform DER | wc -c)" \
			"$(openssl x509 -in "$P/$c.pem" -outform DER | sha256sum | cut -d' ' -f1)"
	done
} >"$TMP/certs.md"
if [ -f "$OUT/README.md" ]; then
	/usr/bin/python3 - "$OUT/README.md" "$TMP/certs.md" <<'PY' || die "README.md: no certificate markers"
import re, sys
readme, table = sys.argv[1], open(sys.argv[2]).read()
text = open(readme).read()
new, n = re.subn(r"(<!-- certs:begin -->\n).*?(<!-- certs:end -->)",
                 lambda m: m.group(1) + table + m.group(2), text, flags=re.S)
if n != 1:
    sys.exit(1)
open(readme, "w").write(new)
PY
fi
log "wrote $OUT: $(find "$OUT" -type f | wc -l) files, $(du -sk "$OUT" | cut -f1) KB"
