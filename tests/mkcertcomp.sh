#!/usr/bin/env bash
# mkcertcomp.sh - regenerate the compressed-certificate captures in
# pcaps/certcomp/: TLS 1.3 over TCP where the server sends its chain as a
# CompressedCertificate (RFC 8879: brotli, zlib, zstd), each with the key
# log its client wrote (NAME.keys); their TLS 1.2 twins (same server, same
# chain, no compression); a client that offers compression to a server
# that does not use it; the certificates (pki/), the rules
# (certcomp.rules) and the manifest (captures.tsv).
#
#   sudo bash tests/mkcertcomp.sh
#
# Debian's OpenSSL 3.0 and GnuTLS cannot compress certificates; BoringSSL
# (android-libboringssl-dev) can, given the functions: tests/certcomp/
# server.c and client.c are built here against it and Debian's zlib,
# brotli and zstd.  Needs root (network namespace, tcpdump), gcc,
# android-libboringssl-dev, zlib1g-dev, libbrotli-dev, libzstd-dev,
# openssl (the PKI), tcpdump, iproute2 and python3-scapy
# (/usr/bin/python3, for tests/pcaptool.py).  t_certcomp.sh, which reads
# what this writes, needs none of the BoringSSL part.
#
# Network: all traffic stays on the loopback interface of a network
# namespace this script creates (cs-cc-PID) and deletes on exit.
# Captures are rewritten by tests/pcaptool.py to public-looking addresses
# (first packet 2024-02-01T10:00:00Z).  Every run makes new keys: the
# captures, key logs, PEMs and rules change together; commit them
# together.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$ROOT/pcaps/certcomp
PY=/usr/bin/python3
TOOL=$ROOT/tests/pcaptool.py
NS=cs-cc-$$
START=2024-02-01T10:00:00
BSSL_INC=/usr/include/android
BSSL_LIB=/usr/lib/x86_64-linux-gnu/android

log() { printf 'mkcertcomp: %s\n' "$*" >&2; }
die() { printf 'mkcertcomp: ERROR: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must run as root (ip netns, tcpdump)"
for c in gcc openssl tcpdump ip ss timeout; do
	command -v "$c" >/dev/null || die "missing command: $c"
done
[ -f "$BSSL_INC/openssl/ssl.h" ] && [ -f "$BSSL_LIB/libssl.so" ] ||
	die "BoringSSL not found (apt-get install android-libboringssl-dev)"
"$PY" -c 'import scapy.all' 2>/dev/null || die "$PY lacks scapy (apt-get install python3-scapy)"

TMP=$(mktemp -d /tmp/cs-cc.XXXXXX)
PIDS=()
cleanup() {
	local rc=$? p
	trap - EXIT INT TERM
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	ip netns del "$NS" 2>/dev/null || true
	rm -rf "$TMP"
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

log "building the BoringSSL server and client"
for p in server client; do
	run gcc -std=c11 -D_GNU_SOURCE -O1 -Wall -Wextra -Werror -I"$BSSL_INC" \
		-o "$TMP/$p" "$ROOT/tests/certcomp/$p.c" -L"$BSSL_LIB" -Wl,-rpath,"$BSSL_LIB" \
		-lssl -lcrypto -lz -lbrotlienc -lbrotlidec -lzstd
done

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
cert approved-root "/C=US/O=Cloudflare Test PKI CC/CN=Approved Root CA CC" self ca
cert approved-issuing "/C=US/O=Cloudflare Test PKI CC/CN=Approved Issuing CA CC" approved-root ca
cert approved-leaf "/CN=cloudflare-dns.com" approved-issuing leaf "$CF_SAN"
# The Fina case: a CA nobody approved, issuing for the resolver's IP.
key rogue-root rsa; key rogue-leaf rsa
cert rogue-root "/C=HR/O=Fina-like Rogue CA CC/CN=Rogue RDC 2020 CC" self ca
cert rogue-leaf "/CN=1.1.1.1" rogue-root leaf "IP:1.1.1.1"
cat "$P/approved-leaf.pem" "$P/approved-issuing.pem" >"$P/chain-approved.pem"
cp "$P/approved-leaf.key" "$P/chain-approved.key"
cat "$P/rogue-leaf.pem" "$P/rogue-root.pem" >"$P/chain-rogue.pem"
cp "$P/rogue-leaf.key" "$P/chain-rogue.key"

###########################################################################
# Namespace, capture, server, client
###########################################################################

log "creating network namespace $NS (loopback only)"
ip netns add "$NS"
ip -n "$NS" link set lo mtu 1500
ip -n "$NS" link set lo up
nsx() { ip netns exec "$NS" "$@"; }
RAW=$TMP/raw
mkdir -p "$RAW"

start_capture() { capture_start "$NS" lo 'tcp port 853' "$1"; }   # NAME
stop_capture() { capture_stop; }
wait_listen() { # PORT PID
	local i
	for i in $(seq 100); do
		nsx ss -Hltn "sport = :$1" | grep -q . && return 0
		kill -0 "$2" 2>/dev/null || die "server on port $1 exited early"
		sleep 0.1
	done
	die "nothing listens on port $1"
}
# session NAME CHAIN SERVER_ALG VERSION CLIENT_ALGS: one connection.
session() {
	local name=$1 chain=$2 salg=$3 ver=$4 calgs=$5 sv
	log "capturing $name (server $salg, TLS $ver, client offers $calgs)"
	start_capture "$name"
	timeout -s TERM 60 ip netns exec "$NS" "$TMP/server" 853 "$P/chain-$chain.pem" \
		"$P/chain-$chain.key" "$salg" "$ver" 1 >>"$RAW/server.log" 2>&1 &
	sv=$!
	PIDS+=("$sv")
	wait_listen 853 "$sv"
	timeout 30 ip netns exec "$NS" "$TMP/client" 853 cloudflare-dns.com "$calgs" "$ver" \
		"$RAW/$name.keys" >"$RAW/$name.client" 2>&1 || { cat "$RAW/$name.client" >&2; die "$name: client failed"; }
	wait "$sv" || { cat "$RAW/server.log" >&2; die "$name: server failed"; }
	stop_capture
}

# The TLS 1.2 twins: no compression in TLS 1.2 (RFC 8879 §1).
session approved-tls12 approved none 1.2 none
session rogue-tls12 rogue none 1.2 none
# Firefox offers all three; Chrome brotli alone.
for alg in brotli zlib zstd; do
	session "approved-$alg" approved "$alg" 1.3 zlib,brotli,zstd
done
session rogue-brotli rogue brotli 1.3 brotli
session rogue-zlib rogue zlib 1.3 zlib,brotli,zstd
session rogue-zstd rogue zstd 1.3 zlib,brotli,zstd
# Offered, not used: a plain Certificate.
session approved-offered approved none 1.3 zlib,brotli,zstd
session rogue-offered rogue none 1.3 brotli

ip netns del "$NS"

###########################################################################
# Rewrite, write the manifest
###########################################################################

NEW=$TMP/out
mkdir -p "$NEW/pki"
n=10
for name in approved-tls12 rogue-tls12 approved-brotli approved-zlib approved-zstd \
	rogue-brotli rogue-zlib rogue-zstd approved-offered rogue-offered; do
	run "$PY" "$TOOL" rewrite "$RAW/$name.pcap" "$NEW/$name.pcap" \
		--client-ip "203.0.113.$n" --server-ip 1.1.1.1 --start "$START"
	n=$((n + 1))
	case $name in
	*-tls12) ;;   # certificates in the clear: no key log needed
	*) grep -v '^#' "$RAW/$name.keys" >"$NEW/$name.keys" ;;
	esac
done
for c in approved-root approved-issuing approved-leaf rogue-root rogue-leaf; do
	cp "$P/$c.pem" "$NEW/pki/"
done
cat >"$NEW/certcomp.rules" <<'EOF'
# Rules of the compressed-certificate capture set (tests/mkcertcomp.sh): its own PKI.
owner cloudflare-dns
protect ip 1.1.1.1 1.0.0.1
protect name cloudflare-dns.com *.cloudflare-dns.com one.one.one.one
approve ca pki/approved-root.pem
approve ca pki/approved-issuing.pem
EOF
# file, expected alerts, key log, the TLS 1.2 twin, the algorithm that
# compressed the certificate (- none).
cat >"$NEW/captures.tsv" <<'EOF'
file	expected_alerts	keys	twin	compressed
approved-tls12.pcap	-	-	-	-
rogue-tls12.pcap	cloudflare-dns:unapproved-issuer	-	-	-
approved-brotli.pcap	-	approved-brotli.keys	approved-tls12.pcap	brotli
approved-zlib.pcap	-	approved-zlib.keys	approved-tls12.pcap	zlib
approved-zstd.pcap	-	approved-zstd.keys	approved-tls12.pcap	zstd
rogue-brotli.pcap	cloudflare-dns:unapproved-issuer	rogue-brotli.keys	rogue-tls12.pcap	brotli
rogue-zlib.pcap	cloudflare-dns:unapproved-issuer	rogue-zlib.keys	rogue-tls12.pcap	zlib
rogue-zstd.pcap	cloudflare-dns:unapproved-issuer	rogue-zstd.keys	rogue-tls12.pcap	zstd
approved-offered.pcap	-	approved-offered.keys	approved-tls12.pcap	-
rogue-offered.pcap	cloudflare-dns:unapproved-issuer	rogue-offered.keys	rogue-tls12.pcap	-
EOF

mkdir -p "$OUT"
find "$OUT" -mindepth 1 ! -name README.md -delete   # the README is written by hand
cp -r "$NEW/." "$OUT/"
log "wrote $OUT: $(find "$OUT" -type f | wc -l) files, $(du -sk "$OUT" | cut -f1) KB"
