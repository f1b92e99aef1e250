#!/usr/bin/env bash
# mkchromium.sh - regenerate the Chromium captures in pcaps/chromium/: what
# a real browser sends, Debian 12's Chromium (headless) fetching one page
#   - over HTTP/3 (QUIC v1, UDP 443) from ngtcp2's gtlsserver: Chromium's
#     ClientHello carries an X25519MLKEM768 key share, so it spans two
#     Initial packets, its CRYPTO frames scrambled among PING and PADDING
#     frames;
#   - over TCP (TLS 1.3) from the BoringSSL server of tests/certcomp/,
#     which compresses its chain with brotli, the one algorithm Chromium
#     offers (RFC 8879), and the TLS 1.2 twins of those sessions;
#   - both in one capture with the key log embedded as a pcapng Decryption
#     Secrets Block (the shape of the capture issue 29 describes);
# with an approved chain and with a rogue one (the Fina case: a CA nobody
# approved, issuing for 1.1.1.1).  Each capture with the key log Chromium
# wrote (NAME.keys, SSLKEYLOGFILE), the certificates (pki/), the rules
# (chromium.rules) and the manifest (expected.tsv).
#
#   sudo bash tests/mkchromium.sh
#
# Needs root (network namespaces, veth, tcpdump) and Debian's chromium,
# ngtcp2-server, gcc, android-libboringssl-dev, zlib1g-dev, libbrotli-dev,
# libzstd-dev, openssl, tcpdump, tshark (editcap), ethtool and iproute2.
# It runs once by hand: its output is committed, so t_chromium.sh needs
# none of these but tshark.
#
# Network: two network namespaces this script creates and deletes on exit,
# cs-chs-PID (the servers, 1.1.1.1) and cs-chc-PID (Chromium, an address
# in 203.0.113.0/24 that changes per capture), joined by one veth pair
# (MTU 1500, checksum and segmentation offloads off so every frame is
# captured as sent, valid checksums).  Chromium reaches nothing else: its
# name resolution is one --host-resolver-rules mapping and the namespace
# has no other route.  The addresses are real on the wire, so only the
# timestamps are rewritten (first packet of each file at
# 2024-02-01T10:00:00Z), and each capture is cut to the connection that
# carried the page (Chromium opens a spare TCP connection beside it).
#
# Every run makes new keys: captures, key logs, PEMs, rules and
# expected.tsv change together; commit them together.  CS_KEEP_TMP=1 keeps
# the work directory for debugging.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$ROOT/pcaps/chromium
PY=/usr/bin/python3
CHECK=$ROOT/tests/chromium/chcheck.py
START=2024-02-01T10:00:00Z
SIP=1.1.1.1
SNI=cloudflare-dns.com
NSS=cs-chs-$$
NSC=cs-chc-$$
VS=chs$$
VC=chc$$
BSSL_INC=/usr/include/android
BSSL_LIB=/usr/lib/x86_64-linux-gnu/android

log() { printf 'mkchromium: %s\n' "$*" >&2; }
die() { printf 'mkchromium: ERROR: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must run as root (ip netns, tcpdump)"
for c in chromium gtlsserver gcc openssl tcpdump tshark editcap ethtool ip ss timeout sha256sum; do
	command -v "$c" >/dev/null || die "missing command: $c"
done
[ -f "$BSSL_INC/openssl/ssl.h" ] && [ -f "$BSSL_LIB/libssl.so" ] ||
	die "BoringSSL not found (apt-get install android-libboringssl-dev)"

TMP=$(mktemp -d /tmp/cs-chromium.XXXXXX)
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

# The Debian wrapper prints a shell warning before the version on some
# systems: the version is the last line.
CHROMIUM_VERSION=$(chromium --version 2>/dev/null | tail -1)
log "$CHROMIUM_VERSION"

log "building the BoringSSL server (tests/certcomp/server.c)"
run gcc -std=c11 -D_GNU_SOURCE -O1 -Wall -Wextra -Werror -I"$BSSL_INC" \
	-o "$TMP/tlsserver" "$ROOT/tests/certcomp/server.c" -L"$BSSL_LIB" -Wl,-rpath,"$BSSL_LIB" \
	-lssl -lcrypto -lz -lbrotlienc -lbrotlidec -lzstd

###########################################################################
# PKI: the owner's approved hierarchy, and a CA nobody approved
###########################################################################

P=$TMP/pki
mkdir -p "$P"
CF_SAN="DNS:cloudflare-dns.com,DNS:*.cloudflare-dns.com,DNS:one.one.one.one,IP:1.1.1.1,IP:1.0.0.1"
key() { pki_key "$@"; }     # NAME ec|rsa (tests/mkcapture_lib.sh)
cert() { pki_cert "$@"; }   # NAME SUBJECT SIGNER|self ca|leaf [SAN]
log "generating the PKI"
key approved-root ec; key approved-issuing ec; key approved-leaf ec
cert approved-root "/C=US/O=Cloudflare Test PKI CH/CN=Approved Root CA CH" self ca
cert approved-issuing "/C=US/O=Cloudflare Test PKI CH/CN=Approved Issuing CA CH" approved-root ca
cert approved-leaf "/CN=cloudflare-dns.com" approved-issuing leaf "$CF_SAN"
# The Fina case: a CA nobody approved, issuing for the resolver's IP.
key rogue-root rsa; key rogue-leaf rsa
cert rogue-root "/C=HR/O=Fina-like Rogue CA CH/CN=Rogue RDC 2020 CH" self ca
cert rogue-leaf "/CN=1.1.1.1" rogue-root leaf "IP:1.1.1.1"
declare -A CHAIN=([approved]="approved-leaf approved-issuing" [rogue]="rogue-leaf rogue-root")
SPKIS=
for ch in approved rogue; do
	# shellcheck disable=SC2086
	set -- ${CHAIN[$ch]}
	cp "$P/$1.key" "$P/chain-$ch.key"
	: >"$P/chain-$ch.pem"
	: >"$P/chain-$ch.sha256"
	for c in "$@"; do
		cat "$P/$c.pem" >>"$P/chain-$ch.pem"
		openssl x509 -in "$P/$c.pem" -outform DER | sha256sum | cut -d' ' -f1 >>"$P/chain-$ch.sha256"
	done
	# Chromium accepts a chain whose leaf key is listed here (and only
	# then: an intercepted browser whose user clicked through, or whose
	# machine trusts the interceptor's root).
	SPKIS="$SPKIS${SPKIS:+,}$(openssl x509 -in "$P/$1.pem" -pubkey -noout |
		openssl pkey -pubin -outform DER | openssl dgst -sha256 -binary | base64)"
done

###########################################################################
# Network: server and client namespaces joined by a veth pair
###########################################################################

log "creating network namespaces $NSS (servers, $SIP) and $NSC (Chromium)"
veth_pair "$NSS" "$VS" "$NSC" "$VC"
ip -n "$NSS" addr add "$SIP/32" dev "$VS"
ip -n "$NSS" route add 203.0.113.0/24 dev "$VS"
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
printf '<html><body>ok</body></html>\n' >"$WWW/index.html"

start_capture() { capture_start "$NSC" "$VC" "host $SIP and (udp port 443 or tcp port 443)" "$1"; }   # NAME
stop_capture() { capture_stop; }
wait_listen() { # udp|tcp PORT PID
	local i flag=-Hlun
	[ "$1" = tcp ] && flag=-Hltn
	for i in $(seq 100); do
		ip netns exec "$NSS" ss "$flag" "sport = :$2" | grep -q . && return 0
		kill -0 "$3" 2>/dev/null || die "server on $1 $2 exited early (see $RAW/server.log)"
		sleep 0.1
	done
	die "nothing listens on $1 $2"
}

# browse NAME KEYS quic|tcp URL: Chromium fetches URL once, writing its
# secrets to KEYS (appended), and must get the page ("ok") back.  A fresh
# profile each time, so nothing (session tickets, Alt-Svc, HSTS) carries
# over from one capture to the next.
browse() {
	local name=$1 keys=$2 how=$3 url=$4 host
	host=${url#https://}
	host=${host%%/*}
	local args=(--headless=new --no-sandbox --disable-gpu --no-first-run --no-default-browser-check
		--disable-background-networking --disable-component-update --disable-sync
		--disable-extensions "--user-data-dir=$TMP/profile-$name-$how"
		"--ignore-certificate-errors-spki-list=$SPKIS" --dump-dom)
	if [ "$how" = quic ]; then
		args+=(--enable-quic "--origin-to-force-quic-on=$host:443")
	else
		args+=(--disable-quic)
	fi
	[ "$host" != "$SIP" ] && args+=("--host-resolver-rules=MAP $host $SIP")
	SSLKEYLOGFILE=$keys timeout 60 ip netns exec "$NSC" chromium "${args[@]}" "$url" \
		>"$RAW/$name.$how.dom" 2>"$RAW/$name.$how.chromium" ||
		{ tail -20 "$RAW/$name.$how.chromium" >&2; die "$name: chromium failed"; }
	grep -q '>ok' "$RAW/$name.$how.dom" ||
		{ cat "$RAW/$name.$how.dom" >&2; die "$name: no page over $how"; }
}

SV_PID=
# h3_server CHAIN: ngtcp2's gtlsserver (GnuTLS) serving $WWW on UDP 443
# until stopped; one datagram per sendmsg so the capture sees each as sent.
h3_server() {
	(cd "$WWW" && exec timeout -s TERM 90 ip netns exec "$NSS" gtlsserver -q -d "$WWW" \
		--max-gso-dgrams=1 "$SIP" 443 "$P/chain-$1.key" "$P/chain-$1.pem") \
		>>"$RAW/server.log" 2>&1 &
	SV_PID=$!
	PIDS+=("$SV_PID")
	wait_listen udp 443 "$SV_PID"
}
# tls_server CHAIN brotli|none 1.2|1.3: the BoringSSL server on TCP 443,
# one connection (Chromium's spare connection is refused when it exits).
tls_server() {
	timeout -s TERM 90 ip netns exec "$NSS" "$TMP/tlsserver" 443 "$P/chain-$1.pem" \
		"$P/chain-$1.key" "$2" "$3" 1 "$SIP" >>"$RAW/server.log" 2>&1 &
	SV_PID=$!
	PIDS+=("$SV_PID")
	wait_listen tcp 443 "$SV_PID"
}
stop_server() {
	kill -TERM "$SV_PID" 2>/dev/null || true
	wait "$SV_PID" 2>/dev/null || true
}
wait_server() { # NAME: the BoringSSL server exits 0 once its connection completed
	wait "$SV_PID" || { tail -5 "$RAW/server.log" >&2; die "$1: the TLS server failed"; }
}

# What each capture must show, checked with tests/chromium/chcheck.py and
# written to expected.tsv, one line a connection: META[NAME]="CONN ...",
# the connections in the order made (quic:CHAIN, tcp:CHAIN:ALG:VERSION);
# a rogue chain must give ROGUE, an approved one nothing.
declare -A META
CAPS=()
ROGUE=cloudflare-dns:unapproved-issuer

# capture NAME CLIENT_IP URL CONN...: one capture, one browser run per
# connection (CONN quic:CHAIN or tcp:CHAIN:ALG:VERSION), one key log.
capture() {
	local name=$1 cip=$2 url=$3 conn
	shift 3
	CAPS+=("$name")
	META[$name]="$*"
	log "capturing $name: $* ($url)"
	client_ip "$cip"
	: >"$RAW/$name.keys"
	start_capture "$name"
	for conn in "$@"; do
		IFS=: read -r how chain alg ver <<<"$conn"
		if [ "$how" = quic ]; then
			h3_server "$chain"
			browse "$name" "$RAW/$name.keys" quic "$url"
			sleep 0.5   # the server's answer to the CONNECTION_CLOSE
			stop_server
		else
			tls_server "$chain" "$alg" "$ver"
			browse "$name" "$RAW/$name.keys" tcp "$url"
			wait_server "$name"
		fi
	done
	stop_capture
}

URL=https://$SNI/
# HTTP/3 with the approved and the rogue chain; the rogue one again with
# the IP in the URL: no SNI, the endpoint protected by its address alone.
capture h3-approved 203.0.113.80 "$URL" quic:approved
capture h3-rogue 203.0.113.81 "$URL" quic:rogue
capture h3-rogue-ip 203.0.113.82 "https://$SIP/" quic:rogue
# TLS 1.3 over TCP, the chain brotli-compressed, and the TLS 1.2 twins.
capture tcp-approved-brotli 203.0.113.83 "$URL" tcp:approved:brotli:1.3
capture tcp-rogue-brotli 203.0.113.84 "$URL" tcp:rogue:brotli:1.3
capture tcp-approved-tls12 203.0.113.85 "$URL" tcp:approved:none:1.2
capture tcp-rogue-tls12 203.0.113.86 "$URL" tcp:rogue:none:1.2
# Both in one capture, its secrets inside: HTTP/3 to the rogue chain,
# then TLS 1.3 over TCP to the approved one, compressed.
capture chromium-dsb 203.0.113.87 "$URL" quic:rogue tcp:approved:brotli:1.3

ip netns del "$NSS"
ip netns del "$NSC"

###########################################################################
# Cut, timestamps, embedded secrets, checks, manifest
###########################################################################

NEW=$TMP/out
mkdir -p "$NEW/pki"
start_epoch=$(date -u -d "$START" +%s)
printf 'file\tkeys\tconnections\ttransport\tversion\tsuite\tsni\tclienthello_bytes\tclient_initials\tcompressed\tchain\texpected_alerts\tsha256\n' \
	>"$NEW/expected.tsv"
for name in "${CAPS[@]}"; do
	conns=${META[$name]}
	keys=$name.keys
	case $name in
	chromium-dsb) keys=- ;;     # inside the capture
	*-tls12) keys=- ;;          # certificates in the clear: no key log needed
	esac
	grep -v '^#' "$RAW/$name.keys" >"$TMP/$name.keys"
	[ "$keys" != - ] && cp "$TMP/$name.keys" "$NEW/$keys"
	# Only the connections that carried a page: every QUIC one (one per
	# run) and the TCP connection the server answered (Chromium opens a
	# spare one that the server refuses when it exits).
	streams=$(tshark -n -r "$RAW/$name.pcap" -Y "tcp.srcport == 443 && tcp.len > 0" \
		-T fields -e tcp.stream 2>/dev/null | sort -un | paste -sd' ' -)
	filter=udp
	for s in $streams; do filter="$filter || tcp.stream == $s"; done
	run tshark -n -r "$RAW/$name.pcap" -Y "$filter" -w "$TMP/$name.cut.pcap"
	first=$(tshark -r "$TMP/$name.cut.pcap" -c 1 -T fields -e frame.time_epoch 2>/dev/null)
	delta=$(awk -v s="$start_epoch" -v f="$first" 'BEGIN { printf "%.6f", s - f }')
	if [ "$name" = chromium-dsb ]; then
		file=$name.pcapng
		run editcap -F pcapng -t "$delta" --inject-secrets "tls,$TMP/$name.keys" \
			"$TMP/$name.cut.pcap" "$NEW/$file"
		# tshark must read it with the embedded secrets alone.
		$PY "$CHECK" "$NEW/$file" >"$TMP/$name.check" || die "$name: chcheck failed"
	else
		file=$name.pcap
		run editcap -F pcap -t "$delta" "$TMP/$name.cut.pcap" "$NEW/$file"
		$PY "$CHECK" "$NEW/$file" --keys "$TMP/$name.keys" >"$TMP/$name.check" ||
			die "$name: chcheck failed"
	fi
	got=$(tshark -r "$NEW/$file" -c 1 -T fields -e frame.time_epoch 2>/dev/null)
	[ "${got%%.*}" = "$start_epoch" ] || die "$name: first packet at $got, not $START"
	# shellcheck disable=SC2206
	want=($conns)
	[ "$(wc -l <"$TMP/$name.check")" -eq "${#want[@]}" ] ||
		{ cat "$TMP/$name.check" >&2; die "$name: $(wc -l <"$TMP/$name.check") connections, want ${#want[@]}"; }
	i=0
	while IFS=$'\t' read -r tr sni ver suite chb nini nfr unord groups cmsg comp certs; do
		IFS=: read -r how chain alg tver <<<"${want[$i]}"
		i=$((i + 1))
		[ "$tr" = "$how" ] || die "$name: connection $i is $tr, want $how"
		[ "$certs" = "$(paste -sd, "$P/chain-$chain.sha256")" ] ||
			die "$name: tshark read the chain $certs, not the $chain chain"
		# Chromium's post-quantum key share, in every ClientHello.
		case ",$groups," in *,0x11ec,*) ;; *) die "$name: no X25519MLKEM768 key share ($groups)" ;; esac
		if [ "$how" = quic ]; then
			[ "$ver" = 1.3 ] && [ "$cmsg" = 11 ] || die "$name: QUIC $ver, certificate message $cmsg"
			# What this set exists for: a ClientHello over more than one
			# Initial packet.
			[ "$nini" != incomplete ] && [ "$nini" -ge 2 ] ||
				die "$name: the ClientHello ($chb bytes) came in $nini Initial datagram(s)"
			url_sni=$SNI
			[ "$name" = h3-rogue-ip ] && url_sni=-
		else
			[ "$ver" = "$tver" ] || die "$name: TLS $ver, want $tver"
			if [ "$alg" = none ]; then
				[ "$cmsg" = 11 ] && [ "$comp" = - ] || die "$name: certificate message $cmsg/$comp"
			else
				# The chain really came as a CompressedCertificate (25).
				[ "$cmsg" = 25 ] && [ "$comp" = "$alg" ] ||
					die "$name: certificate message $cmsg ($comp), want 25 ($alg)"
			fi
			url_sni=$SNI
		fi
		[ "$sni" = "$url_sni" ] || die "$name: SNI $sni, want $url_sni"
		alerts=-
		[ "$chain" = rogue ] && alerts=$ROGUE
		printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$file" "$keys" "${#want[@]}" \
			"$tr" "$ver" "$suite" "$sni" "$chb" "$nini" "$comp" "${CHAIN[$chain]// /,}" "$alerts" \
			"$certs" >>"$NEW/expected.tsv"
	done <"$TMP/$name.check"
	log "$name: $(tr '\t' ' ' <"$TMP/$name.check" | cut -c1-120)"
done

for c in approved-root approved-issuing approved-leaf rogue-root rogue-leaf; do
	cp "$P/$c.pem" "$NEW/pki/"
done
cat >"$NEW/chromium.rules" <<'EOF'
# Rules of the Chromium capture set (tests/mkchromium.sh): its own PKI.
owner cloudflare-dns
protect ip 1.1.1.1 1.0.0.1
protect name cloudflare-dns.com *.cloudflare-dns.com one.one.one.one
approve ca pki/approved-root.pem
approve ca pki/approved-issuing.pem
EOF
printf '%s\n' "$CHROMIUM_VERSION" >"$NEW/VERSION"

total=$(du -sk "$NEW" | cut -f1)
[ "$total" -le 300 ] || die "the captures take $total KB, more than 300"
mkdir -p "$OUT"
find "$OUT" -mindepth 1 ! -name README.md -delete   # the README is written by hand
cp -r "$NEW/." "$OUT/"
log "wrote $OUT: $(find "$OUT" -type f | wc -l) files, $(du -sk "$OUT" | cut -f1) KB"
