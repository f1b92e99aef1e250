#!/usr/bin/env bash
# mktls13.sh - regenerate the TLS 1.3 test captures in pcaps/tls13/: real
# OpenSSL (and GnuTLS) sessions on loopback, each with the key log its
# client wrote (NAME.keys), their TLS 1.2 twins with the same chains, the
# certificates (pki/), the rules (tls13.rules) and the manifest
# (captures.tsv).
#
#   sudo bash tests/mktls13.sh
#
# Needs root (network namespace, tcpdump), Debian's openssl, gnutls-bin,
# tcpdump, tshark (editcap), iproute2 and python3-scapy (/usr/bin/python3).
#
# Network: all traffic stays on the loopback interface of a network
# namespace this script creates (cs-t13-PID) and deletes on exit; nothing
# is sent anywhere else.  Captures are rewritten by tests/pcaptool.py to
# public-looking addresses (first packet 2024-02-01T10:00:00Z).
#
# This set has its own PKI (mkpcaps.sh throws its private keys away, and
# a TLS 1.3 server needs one): every run makes new keys, so the captures,
# key logs, PEMs and rules change together; commit them together.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$ROOT/pcaps/tls13
PY=/usr/bin/python3
TOOL=$ROOT/tests/pcaptool.py
NS=cs-t13-$$
START=2024-02-01T10:00:00
REQ=$'GET /hello.txt HTTP/1.0\r\n\r\n'

log() { printf 'mktls13: %s\n' "$*" >&2; }
die() { printf 'mktls13: ERROR: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must run as root (ip netns, tcpdump)"
for c in openssl gnutls-serv gnutls-cli tcpdump editcap ip ss timeout; do
	command -v "$c" >/dev/null || die "missing command: $c"
done
"$PY" -c 'import scapy.all' 2>/dev/null || die "$PY lacks scapy (apt-get install python3-scapy)"

TMP=$(mktemp -d /tmp/cs-t13.XXXXXX)
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

###########################################################################
# PKI: the owner's approved hierarchy, and what an interceptor would hold
###########################################################################

P=$TMP/pki
mkdir -p "$P"
CF_SAN="DNS:cloudflare-dns.com,DNS:*.cloudflare-dns.com,DNS:one.one.one.one,IP:1.1.1.1,IP:1.0.0.1"
APPROVED_ISSUING_DN="/C=US/O=Cloudflare Test PKI 13/CN=Approved Issuing CA 13"

key() { # NAME ec|rsa
	case $2 in
	ec) run openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$P/$1.key" ;;
	rsa) run openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$P/$1.key" ;;
	esac
}
# ca NAME SUBJECT SIGNER|self [KEY]
ca() {
	local name=$1 subj=$2 signer=$3 k=${4:-$1}
	run openssl req -new -key "$P/$k.key" -subj "$subj" -out "$P/$name.csr"
	printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign,digitalSignature\nsubjectKeyIdentifier=hash\n' >"$P/$name.ext"
	if [ "$signer" = self ]; then
		run openssl x509 -req -in "$P/$name.csr" -signkey "$P/$k.key" -days 3650 \
			-set_serial "0x$(openssl rand -hex 8)" -extfile "$P/$name.ext" -out "$P/$name.pem"
	else
		run openssl x509 -req -in "$P/$name.csr" -CA "$P/$signer.pem" -CAkey "$P/$signer.key" \
			-days 3650 -set_serial "0x$(openssl rand -hex 8)" -extfile "$P/$name.ext" -out "$P/$name.pem"
	fi
}
# leaf NAME SUBJECT SAN SIGNER|self
leaf() {
	local name=$1 subj=$2 san=$3 signer=$4
	run openssl req -new -key "$P/$name.key" -subj "$subj" -out "$P/$name.csr"
	printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=%s\n' "$san" >"$P/$name.ext"
	if [ "$signer" = self ]; then
		run openssl x509 -req -in "$P/$name.csr" -signkey "$P/$name.key" -days 730 \
			-set_serial "0x$(openssl rand -hex 8)" -extfile "$P/$name.ext" -out "$P/$name.pem"
	else
		run openssl x509 -req -in "$P/$name.csr" -CA "$P/$signer.pem" -CAkey "$P/$signer.key" \
			-days 730 -set_serial "0x$(openssl rand -hex 8)" -extfile "$P/$name.ext" -out "$P/$name.pem"
	fi
}

log "generating the PKI"
key approved-root ec; key approved-issuing ec; key approved-leaf ec
ca approved-root "/C=US/O=Cloudflare Test PKI 13/CN=Approved Root CA 13" self
ca approved-issuing "$APPROVED_ISSUING_DN" approved-root
leaf approved-leaf "/CN=cloudflare-dns.com" "$CF_SAN" approved-issuing
# The Fina case: a CA nobody approved, issuing for the resolver's IP.
key rogue-root rsa; key rogue-leaf rsa
ca rogue-root "/C=HR/O=Fina-like Rogue CA 13/CN=Rogue RDC 2020 13" self
leaf rogue-leaf "/CN=1.1.1.1" "IP:1.1.1.1" rogue-root
# An interception proxy's self-signed certificate.
key selfsigned rsa
leaf selfsigned "/CN=cloudflare-dns.com" "DNS:cloudflare-dns.com,IP:1.1.1.1" self
# A CA with the approved issuing CA's subject DN and the attacker's key.
key attacker ec; key forged-leaf ec
ca forged-issuing "$APPROVED_ISSUING_DN" self attacker
cp "$P/attacker.key" "$P/forged-issuing.key"
leaf forged-leaf "/CN=1.1.1.1" "DNS:cloudflare-dns.com,IP:1.1.1.1" forged-issuing
# An interceptor leaf under the rogue root, with the real issuing CA appended.
key intercept-leaf rsa
leaf intercept-leaf "/CN=cloudflare-dns.com" "$CF_SAN" rogue-root

declare -A CHAIN=(
	[approved]="approved-leaf approved-issuing"
	[rogue]="rogue-leaf rogue-root"
	[selfsigned]="selfsigned"
	[forged]="forged-leaf forged-issuing"
	[appended]="intercept-leaf rogue-root approved-issuing"
)
for ch in "${!CHAIN[@]}"; do
	# shellcheck disable=SC2086
	set -- ${CHAIN[$ch]}
	cp "$P/$1.key" "$P/chain-$ch.key"
	cp "$P/$1.pem" "$P/chain-$ch.leaf.pem"
	: >"$P/chain-$ch.extra.pem"
	shift
	for c in "$@"; do cat "$P/$c.pem" >>"$P/chain-$ch.extra.pem"; done
	cat "$P/chain-$ch.leaf.pem" "$P/chain-$ch.extra.pem" >"$P/chain-$ch.full.pem"
done

###########################################################################
# Namespace, capture, servers, clients
###########################################################################

log "creating network namespace $NS (loopback only)"
ip netns add "$NS"
ip -n "$NS" link set lo mtu 1500
ip -n "$NS" link set lo up
nsx() { ip netns exec "$NS" "$@"; }
RAW=$TMP/raw
WWW=$TMP/www
mkdir -p "$RAW" "$WWW"
printf 'ok\n' >"$WWW/hello.txt"

start_capture() { capture_start "$NS" lo 'tcp port 443 or tcp port 853' "$1" 300; }   # NAME
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
SV_PID=
ossl_server() { # PORT CHAIN NACCEPT [options...]
	local port=$1 chain=$2 n=$3 extra=()
	shift 3
	[ -s "$P/chain-$chain.extra.pem" ] && extra=(-cert_chain "$P/chain-$chain.extra.pem")
	(cd "$WWW" && exec timeout -s TERM 120 ip netns exec "$NS" openssl s_server \
		-accept "$port" -naccept "$n" -WWW -quiet \
		-cert "$P/chain-$chain.leaf.pem" -key "$P/chain-$chain.key" \
		"${extra[@]}" "$@") >>"$RAW/server.log" 2>&1 &
	SV_PID=$!
	PIDS+=("$SV_PID")
	wait_listen "$port" "$SV_PID"
}
server_done() { wait "$SV_PID" || die "s_server failed (see server.log)"; }
ossl_client() { # PORT KEYLOG OUTLOG [options...]
	local port=$1 keys=$2 outlog=$3
	shift 3
	printf '%s' "$REQ" | timeout 30 ip netns exec "$NS" openssl s_client \
		-connect "127.0.0.1:$port" -ign_eof -keylogfile "$keys" "$@" >"$outlog" 2>&1 ||
		die "s_client $* failed (see $outlog)"
	grep -q '^ok$' "$outlog" || { cat "$outlog" >&2; die "s_client $*: no HTTP response"; }
}
# session NAME CHAIN PORT "SERVER_OPTS" "CLIENT_OPTS": one connection.
session() {
	local name=$1 chain=$2 port=$3 sopts=$4 copts=$5
	log "capturing $name"
	start_capture "$name"
	# shellcheck disable=SC2086
	ossl_server "$port" "$chain" 1 $sopts
	# shellcheck disable=SC2086
	ossl_client "$port" "$RAW/$name.keys" "$RAW/$name.client" $copts
	server_done
	stop_capture
}

SNI="-servername cloudflare-dns.com"

# Every chain twice: TLS 1.2 (the verdict certsentry already gives) and
# TLS 1.3 with the key log.  OpenSSL's default 1.3 suite is AES-256-GCM.
for ch in approved rogue selfsigned forged appended; do
	session "$ch-tls12" "$ch" 853 "" "-tls1_2 $SNI"
	session "$ch-tls13" "$ch" 853 "" "-tls1_3 $SNI"
done
# The other two suites.
session approved-aes128 approved 443 "" "-tls1_3 $SNI -ciphersuites TLS_AES_128_GCM_SHA256"
session rogue-aes128 rogue 443 "" "-tls1_3 -ciphersuites TLS_AES_128_GCM_SHA256"
session rogue-chacha rogue 443 "" "-tls1_3 -ciphersuites TLS_CHACHA20_POLY1305_SHA256"
session approved-chacha approved 443 "" "-tls1_3 $SNI -ciphersuites TLS_CHACHA20_POLY1305_SHA256"
# HelloRetryRequest: the client's key share (X25519) is not one the server
# takes (P-256 only), so the server asks again.
session rogue-hrr rogue 853 "-groups P-256" "-tls1_3 -groups X25519:P-256"
grep -q 'Server Temp Key: ECDH, prime256v1' "$RAW/rogue-hrr.client" ||
	die "rogue-hrr: P-256 not negotiated"
# Small records: the Certificate message over many 512-byte records, and
# (rewritten below) every TCP payload cut to 100 bytes.
session rogue-small rogue 443 "-max_send_frag 512" "-tls1_3"

# A resumed TLS 1.3 session (PSK from the first connection's ticket).
log "capturing approved-resumed"
start_capture approved-resumed
ossl_server 853 approved 2
ossl_client 853 "$RAW/approved-resumed.keys" "$RAW/resumed.client1" -tls1_3 $SNI \
	-sess_out "$RAW/resumed.sess"
ossl_client 853 "$RAW/approved-resumed.keys" "$RAW/resumed.client2" -tls1_3 $SNI \
	-sess_in "$RAW/resumed.sess"
server_done
stop_capture
grep -q '^Reused, TLSv1.3' "$RAW/resumed.client2" || die "approved-resumed: no resumption"

# Fingerprints: five approved sessions to learn a baseline from, the
# clients differing in what a server's choice depends on (suite, key-share
# group, the compatibility CCS), and one more session to check against it.
log "capturing approved-learn"
start_capture approved-learn
ossl_server 853 approved 5
ossl_client 853 "$RAW/approved-learn.keys" "$RAW/learn.client1" -tls1_3 $SNI
ossl_client 853 "$RAW/approved-learn.keys" "$RAW/learn.client2" -tls1_3 $SNI \
	-ciphersuites TLS_AES_128_GCM_SHA256
ossl_client 853 "$RAW/approved-learn.keys" "$RAW/learn.client3" -tls1_3 $SNI -groups P-256
ossl_client 853 "$RAW/approved-learn.keys" "$RAW/learn.client4" -tls1_3 $SNI \
	-ciphersuites TLS_CHACHA20_POLY1305_SHA256
ossl_client 853 "$RAW/approved-learn.keys" "$RAW/learn.client5" -tls1_3 $SNI -no_middlebox
server_done
stop_capture
session approved-again approved 853 "" "-tls1_3 $SNI"

# GnuTLS as the server with the approved chain, and as the client.
log "capturing gnutls-server"
start_capture gnutls-server
(cd "$WWW" && exec timeout -s TERM 120 ip netns exec "$NS" gnutls-serv -p 853 \
	--x509certfile "$P/chain-approved.full.pem" --x509keyfile "$P/chain-approved.key" \
	--disable-client-cert --http --httpdata "$WWW/hello.txt") >>"$RAW/server.log" 2>&1 &
SV_PID=$!
PIDS+=("$SV_PID")
wait_listen 853 "$SV_PID"
ossl_client 853 "$RAW/gnutls-server.keys" "$RAW/gnutls-server.client" -tls1_3 $SNI
stop_capture
kill -TERM "$SV_PID"; wait "$SV_PID" 2>/dev/null || true

log "capturing gnutls-client"
start_capture gnutls-client
ossl_server 853 approved 1
printf '%s' "$REQ" | SSLKEYLOGFILE="$RAW/gnutls-client.keys" timeout 30 ip netns exec "$NS" \
	gnutls-cli --insecure --sni-hostname cloudflare-dns.com -p 853 127.0.0.1 \
	>"$RAW/gnutls-client.client" 2>&1 || die "gnutls-cli failed"
grep -q '^ok$' "$RAW/gnutls-client.client" || die "gnutls-cli: no HTTP response"
server_done
stop_capture

ip netns del "$NS"

###########################################################################
# Rewrite, embed secrets, write the manifest
###########################################################################

NEW=$TMP/out
mkdir -p "$NEW/pki"
rw() { # NAME CLIENT_IP SERVER_IP [options]
	local name=$1 cip=$2 sip=$3
	shift 3
	run "$PY" "$TOOL" rewrite "$RAW/$name.pcap" "$NEW/$name.pcap" \
		--client-ip "$cip" --server-ip "$sip" --start "$START" "$@"
	# TLS 1.2 sessions need no key log: their certificates are in the clear.
	case $name in
	*-tls12) ;;
	*) grep -v '^#' "$RAW/$name.keys" >"$NEW/$name.keys" ;;
	esac
}
log "rewriting"
n=10
for ch in approved rogue selfsigned forged appended; do
	rw "$ch-tls12" "203.0.113.$n" 1.1.1.1; n=$((n + 1))
	rw "$ch-tls13" "203.0.113.$n" 1.1.1.1; n=$((n + 1))
done
rw approved-aes128 198.51.100.30 1.1.1.1
rw rogue-aes128 198.51.100.31 1.1.1.1
rw rogue-chacha 198.51.100.32 1.1.1.1
rw approved-chacha 198.51.100.33 1.1.1.1
rw rogue-hrr 198.51.100.34 1.1.1.1
rw rogue-small 198.51.100.35 1.1.1.1 --split 100
rw approved-resumed 198.51.100.36 1.1.1.1
rw gnutls-server 198.51.100.37 1.1.1.1
rw gnutls-client 198.51.100.38 1.1.1.1
rw approved-learn 198.51.100.40 1.1.1.1
rw approved-again 198.51.100.41 1.1.1.1
# The key log inside the capture, as Wireshark's editcap writes it.
run editcap --inject-secrets "tls,$NEW/rogue-tls13.keys" "$NEW/rogue-tls13.pcap" \
	"$NEW/rogue-embedded.pcapng"

for c in approved-root approved-issuing approved-leaf rogue-root rogue-leaf selfsigned \
	forged-issuing forged-leaf intercept-leaf; do
	cp "$P/$c.pem" "$NEW/pki/"
done
cat >"$NEW/tls13.rules" <<'EOF'
# Rules of the TLS 1.3 capture set (tests/mktls13.sh): its own PKI.
owner cloudflare-dns
protect ip 1.1.1.1 1.0.0.1
protect name cloudflare-dns.com *.cloudflare-dns.com one.one.one.one
approve ca pki/approved-root.pem
approve ca pki/approved-issuing.pem
EOF

# file, tls events, expected alerts (as pcaps/captures.tsv), key log,
# expected certsentry.tls13.certificates (- for a TLS 1.2 capture).
cat >"$NEW/captures.tsv" <<'EOF'
file	handshakes	expected_alerts	keys	tls13
approved-tls12.pcap	1	-	-	-
approved-tls13.pcap	1	-	approved-tls13.keys	decrypted
rogue-tls12.pcap	1	cloudflare-dns:unapproved-issuer	-	-
rogue-tls13.pcap	1	cloudflare-dns:unapproved-issuer	rogue-tls13.keys	decrypted
selfsigned-tls12.pcap	1	cloudflare-dns:self-signed	-	-
selfsigned-tls13.pcap	1	cloudflare-dns:self-signed	selfsigned-tls13.keys	decrypted
forged-tls12.pcap	1	cloudflare-dns:forged-issuer	-	-
forged-tls13.pcap	1	cloudflare-dns:forged-issuer	forged-tls13.keys	decrypted
appended-tls12.pcap	1	cloudflare-dns:unapproved-issuer	-	-
appended-tls13.pcap	1	cloudflare-dns:unapproved-issuer	appended-tls13.keys	decrypted
approved-aes128.pcap	1	-	approved-aes128.keys	decrypted
rogue-aes128.pcap	1	cloudflare-dns:unapproved-issuer	rogue-aes128.keys	decrypted
rogue-chacha.pcap	1	cloudflare-dns:unapproved-issuer	rogue-chacha.keys	decrypted
approved-chacha.pcap	1	-	approved-chacha.keys	decrypted
rogue-hrr.pcap	1	cloudflare-dns:unapproved-issuer	rogue-hrr.keys	decrypted
rogue-small.pcap	1	cloudflare-dns:unapproved-issuer	rogue-small.keys	decrypted
approved-resumed.pcap	2	-	approved-resumed.keys	decrypted,psk-resumed
gnutls-server.pcap	1	-	gnutls-server.keys	decrypted
gnutls-client.pcap	1	-	gnutls-client.keys	decrypted
rogue-embedded.pcapng	1	cloudflare-dns:unapproved-issuer	-	decrypted
approved-learn.pcap	5	-	approved-learn.keys	decrypted,decrypted,decrypted,decrypted,decrypted
approved-again.pcap	1	-	approved-again.keys	decrypted
EOF

mkdir -p "$OUT"
find "$OUT" -mindepth 1 ! -name README.md -delete   # the README is written by hand
cp -r "$NEW/." "$OUT/"
log "wrote $OUT: $(find "$OUT" -type f | wc -l) files, $(du -sk "$OUT" | cut -f1) KB"
