#!/usr/bin/env bash
# mkpcaps.sh - regenerate certsentry's test captures (pcaps/*.pcap), the
# certificates they carry (pcaps/pki/*.pem), the rules the capture tests use
# (pcaps/test.rules), the manifest (pcaps/captures.tsv) and the example rules
# (rules/examples/public-dns-resolver.rules, rules/examples/ca/*.pem).
#
#   sudo bash tests/mkpcaps.sh
#
# Needs root (network namespace, tcpdump), Debian's openssl, gnutls-bin,
# tcpdump, tshark, iproute2 and python3-scapy (run as /usr/bin/python3).
#
# Network: all traffic stays on the loopback interface of a network
# namespace this script creates (cs-gen-PID) and deletes on exit; nothing is
# sent anywhere else.  The raw loopback captures (127.0.0.1 / ::1) are then
# rewritten by tests/pcaptool.py into public-looking addresses, MACs and
# timestamps (first packet 2024-02-01T10:00:00Z).
#
# Every run makes a new PKI (fresh keys), so every capture, PEM and the SPKI
# pin in test.rules change together: commit them together.  Private keys stay
# in the temporary directory, which is removed on exit.
#
# The tests of the sensor never run this script; they use the committed files.
# CS_KEEP_TMP=1 keeps the temporary directory (raw captures, keys, logs) for
# debugging.

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$ROOT/pcaps
EXAMPLES=$ROOT/rules/examples
PY=/usr/bin/python3
TOOL=$ROOT/tests/pcaptool.py
NS=cs-gen-$$
START=2024-02-01T10:00:00
START_EPOCH=1706781600
REQ=$'GET /hello.txt HTTP/1.0\r\n\r\n'

log() { printf 'mkpcaps: %s\n' "$*" >&2; }
die() { printf 'mkpcaps: ERROR: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must run as root (ip netns, tcpdump): sudo bash tests/mkpcaps.sh"
for c in openssl gnutls-serv gnutls-cli tcpdump tshark capinfos ip ss timeout basenc sha256sum; do
	command -v "$c" >/dev/null || die "missing command: $c"
done
"$PY" -c 'import scapy.all, cryptography' 2>/dev/null ||
	die "$PY lacks scapy or cryptography (apt-get install python3-scapy python3-cryptography)"

TMP=$(mktemp -d /tmp/cs-gen.XXXXXX)
LOG=$TMP/commands.log
PIDS=()

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	local p
	for p in "${PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null || true
	done
	for p in "${PIDS[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	ip netns del "$NS" 2>/dev/null || true
	if [ "${CS_KEEP_TMP:-0}" = 1 ]; then
		log "kept $TMP (CS_KEEP_TMP=1): it holds private keys, delete it"
	else
		rm -rf "$TMP"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# run CMD...: run quietly, output kept in $LOG, fail loudly.
run() {
	local out=$TMP/run.out
	echo "+ $*" >>"$LOG"
	if ! "$@" >"$out" 2>&1; then
		cat "$out" >&2
		die "command failed: $*"
	fi
	cat "$out" >>"$LOG"
}

forget_pid() {
	local p=$1 i
	for i in "${!PIDS[@]}"; do
		[ "${PIDS[$i]}" = "$p" ] && unset 'PIDS[i]'
	done
	PIDS=("${PIDS[@]}")
	return 0
}

###########################################################################
# PKI
###########################################################################

P=$TMP/pki
mkdir -p "$P/newcerts"
: >"$P/index.txt"
echo 1000 >"$P/serial"
export SAN=DNS:unused

cat >"$P/ca.cnf" <<'EOF'
[ ca ]
default_ca = CA_default

[ CA_default ]
dir            = .
database       = $dir/index.txt
new_certs_dir  = $dir/newcerts
serial         = $dir/serial
default_md     = sha256
policy         = policy_any
unique_subject = no
preserve       = yes
email_in_dn    = no
copy_extensions = none

[ policy_any ]
countryName            = optional
stateOrProvinceName    = optional
localityName           = optional
organizationName       = optional
organizationalUnitName = optional
commonName             = supplied

[ v3_root ]
basicConstraints       = critical, CA:TRUE
keyUsage               = critical, keyCertSign, cRLSign
subjectKeyIdentifier   = hash

[ v3_inter ]
basicConstraints       = critical, CA:TRUE, pathlen:0
keyUsage               = critical, digitalSignature, keyCertSign, cRLSign
extendedKeyUsage       = serverAuth, clientAuth
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

[ v3_leaf_ec ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = serverAuth
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always
subjectAltName         = $ENV::SAN

[ v3_leaf_rsa ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature, keyEncipherment
extendedKeyUsage       = serverAuth
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always
subjectAltName         = $ENV::SAN
EOF

# newkey NAME ec|rsa
newkey() {
	case $2 in
	ec) run openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$P/$1.key" ;;
	rsa) run openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$P/$1.key" ;;
	*) die "newkey: bad type $2" ;;
	esac
}

# cert NAME KEYNAME SUBJECT EXTENSIONS SIGNER|self SAN START END
#   Certificate NAME.crt for key KEYNAME.key, signed by SIGNER.crt/.key
#   (whose key file is SIGNER's KEYNAME, recorded in KEYOF) or self-signed.
declare -A KEYOF
cert() {
	local name=$1 key=$2 subj=$3 ext=$4 signer=$5 san=$6 sd=$7 ed=$8
	KEYOF[$name]=$key
	run openssl req -new -key "$P/$key.key" -subj "$subj" -out "$P/$name.csr"
	export SAN=${san:-DNS:unused}
	if [ "$signer" = self ]; then
		(cd "$P" && run openssl ca -batch -config ca.cnf -notext -rand_serial \
			-startdate "$sd" -enddate "$ed" -extensions "$ext" \
			-selfsign -keyfile "$key.key" -in "$name.csr" -out "$name.crt")
	else
		(cd "$P" && run openssl ca -batch -config ca.cnf -notext -rand_serial \
			-startdate "$sd" -enddate "$ed" -extensions "$ext" \
			-cert "$signer.crt" -keyfile "${KEYOF[$signer]}.key" \
			-in "$name.csr" -out "$name.crt")
	fi
	export SAN=DNS:unused
	# one clean PEM block, nothing else
	run openssl x509 -in "$P/$name.crt" -out "$P/$name.pem"
}

CA_START=20240101000000Z
CA_END=20341231235959Z
LEAF_START=20240101000000Z
LEAF_END=20261231235959Z
CF_SAN="DNS:cloudflare-dns.com,DNS:*.cloudflare-dns.com,DNS:one.one.one.one,IP:1.1.1.1,IP:1.0.0.1,IP:2606:4700:4700::1111"
APPROVED_ISSUING_DN="/C=US/O=Cloudflare Test PKI/CN=Approved Issuing CA"

log "generating the test PKI"
# The owner's approved hierarchy (EC P-256, like the real resolver's).
newkey approved-root ec
newkey approved-issuing ec
newkey approved-leaf ec
cert approved-root approved-root "/C=US/O=Cloudflare Test PKI/CN=Approved Root CA" \
	v3_root self "" $CA_START $CA_END
cert approved-issuing approved-issuing "$APPROVED_ISSUING_DN" \
	v3_inter approved-root "" $CA_START $CA_END
cert approved-leaf approved-leaf "/C=US/ST=California/L=San Francisco/O=Cloudflare Test/CN=cloudflare-dns.com" \
	v3_leaf_ec approved-issuing "$CF_SAN" $LEAF_START $LEAF_END

# A publicly-trusted-looking CA the owner never approved (the Fina RDC 2020 case).
newkey rogue-root rsa
newkey rogue-leaf rsa
cert rogue-root rogue-root "/C=HR/O=Fina-like Rogue CA/CN=Rogue RDC 2020" \
	v3_root self "" $CA_START $CA_END
cert rogue-leaf rogue-leaf "/CN=1.1.1.1" \
	v3_leaf_rsa rogue-root "IP:1.1.1.1" 20240201000000Z 20250201000000Z

# An intercepting proxy's self-signed certificate.
newkey selfsigned rsa
cert selfsigned selfsigned "/CN=cloudflare-dns.com" \
	v3_leaf_rsa self "DNS:cloudflare-dns.com,IP:1.1.1.1" $LEAF_START $LEAF_END

# Forged issuer: the attacker's key behind a certificate whose subject DN is
# byte-identical to the real "Approved Issuing CA", self-signed.
newkey attacker ec
newkey forged-leaf ec
cert forged-issuing attacker "$APPROVED_ISSUING_DN" \
	v3_inter self "" $CA_START $CA_END
cert forged-leaf forged-leaf "/CN=1.1.1.1" \
	v3_leaf_ec forged-issuing "DNS:cloudflare-dns.com,IP:1.1.1.1,IP:1.0.0.1" $LEAF_START $LEAF_END

# Interceptor leaf under the rogue root; served with the real approved
# intermediate appended to look legitimate.
newkey intercept-leaf rsa
cert intercept-leaf intercept-leaf "/CN=cloudflare-dns.com" \
	v3_leaf_rsa rogue-root "DNS:cloudflare-dns.com,DNS:*.cloudflare-dns.com,DNS:one.one.one.one,IP:1.1.1.1" \
	$LEAF_START $LEAF_END

# An unrelated web site.
newkey example-root rsa
newkey example-leaf rsa
cert example-root example-root "/C=US/O=Example Web Trust/CN=Example Web CA" \
	v3_root self "" $CA_START $CA_END
cert example-leaf example-leaf "/CN=www.example.org" \
	v3_leaf_rsa example-root "DNS:www.example.org,DNS:example.org" $LEAF_START $LEAF_END

# Second owner, approved by an SPKI pin of its issuing CA.
newkey pinned-root ec
newkey pinned-issuing ec
newkey pinned-leaf ec
cert pinned-root pinned-root "/C=US/O=Example Net API PKI/CN=Pinned Root CA" \
	v3_root self "" $CA_START $CA_END
cert pinned-issuing pinned-issuing "/C=US/O=Example Net API PKI/CN=Pinned Issuing CA" \
	v3_inter pinned-root "" $CA_START $CA_END
cert pinned-leaf pinned-leaf "/CN=api.example.net" \
	v3_leaf_ec pinned-issuing "DNS:api.example.net" $LEAF_START $LEAF_END

ALL_CERTS="approved-root approved-issuing approved-leaf rogue-root rogue-leaf selfsigned
	forged-issuing forged-leaf intercept-leaf example-root example-leaf pinned-root
	pinned-issuing pinned-leaf"

# Sanity: the PKI is what the captures claim.
verify_chain() { # CAfile UNTRUSTED LEAF
	openssl verify -no_check_time -partial_chain -CAfile "$P/$1.pem" ${2:+-untrusted "$P/$2.pem"} \
		"$P/$3.pem" >>"$LOG" 2>&1
}
verify_chain approved-root approved-issuing approved-leaf || die "approved chain does not verify"
verify_chain rogue-root "" rogue-leaf || die "rogue chain does not verify"
verify_chain rogue-root "" intercept-leaf || die "interceptor chain does not verify"
verify_chain forged-issuing "" forged-leaf || die "forged chain does not verify"
verify_chain pinned-issuing "" pinned-leaf || die "pinned chain does not verify"
verify_chain example-root "" example-leaf || die "example chain does not verify"
verify_chain selfsigned "" selfsigned || die "self-signed does not verify"
! verify_chain approved-root approved-issuing forged-leaf || die "forged leaf verifies under the approved root?!"
"$PY" "$TOOL" dn-equal "$P/forged-issuing.pem" "$P/approved-issuing.pem" ||
	die "forged issuer subject DN is not byte-identical to Approved Issuing CA"
openssl x509 -in "$P/forged-leaf.pem" -noout -issuer -nameopt RFC2253 | grep -q 'CN=Approved Issuing CA' ||
	die "forged leaf issuer name is wrong"

spki_sha256() {
	openssl x509 -in "$1" -pubkey -noout | openssl pkey -pubin -outform DER | sha256sum | cut -d' ' -f1
}
der_sha256() {
	openssl x509 -in "$1" -outform DER | sha256sum | cut -d' ' -f1
}
PIN_PINNED=$(spki_sha256 "$P/pinned-issuing.pem")
PIN_EXAMPLE_ISSUING=$(spki_sha256 "$P/approved-issuing.pem")
declare -A FP
for c in $ALL_CERTS; do
	FP[$c]=$(der_sha256 "$P/$c.pem")
done

# Chains as the servers send them (leaf first).
declare -A CHAIN=(
	[approved]="approved-leaf approved-issuing"
	[rogue]="rogue-leaf rogue-root"
	[selfsigned]="selfsigned"
	[forged]="forged-leaf forged-issuing"
	[appended]="intercept-leaf rogue-root approved-issuing"
	[example]="example-leaf example-root"
	[pinned]="pinned-leaf pinned-issuing"
)
for ch in "${!CHAIN[@]}"; do
	# shellcheck disable=SC2086
	set -- ${CHAIN[$ch]}
	cp "$P/${KEYOF[$1]}.key" "$P/chain-$ch.key"
	cp "$P/$1.pem" "$P/chain-$ch.leaf.pem"
	: >"$P/chain-$ch.extra.pem"
	shift
	for c in "$@"; do cat "$P/$c.pem" >>"$P/chain-$ch.extra.pem"; done
	cat "$P/chain-$ch.leaf.pem" "$P/chain-$ch.extra.pem" >"$P/chain-$ch.full.pem"
done

###########################################################################
# Network namespace and capture helpers
###########################################################################

log "creating network namespace $NS (loopback only)"
ip netns add "$NS"
ip -n "$NS" link set lo mtu 1500
ip -n "$NS" link set lo up
[ "$(ip -n "$NS" -o link show | wc -l)" -eq 1 ] || die "namespace has more than lo"
nsx() { ip netns exec "$NS" "$@"; }

RAW=$TMP/raw
WWW=$TMP/www
mkdir -p "$RAW" "$WWW"
printf 'ok\n' >"$WWW/hello.txt"

TD_PID=
start_capture() { # NAME
	local name=$1 i
	CUR=$RAW/$name.pcap
	rm -f "$CUR" "$RAW/$name.tcpdump"
	timeout -s TERM 300 ip netns exec "$NS" tcpdump -i lo --immediate-mode -U -s 0 -Z root \
		-w "$CUR" 'tcp port 443 or tcp port 853' 2>"$RAW/$name.tcpdump" &
	TD_PID=$!
	PIDS+=("$TD_PID")
	for i in $(seq 100); do
		grep -q 'listening on' "$RAW/$name.tcpdump" 2>/dev/null && return 0
		kill -0 "$TD_PID" 2>/dev/null || break
		sleep 0.1
	done
	cat "$RAW/$name.tcpdump" >&2
	die "tcpdump did not start"
}

stop_capture() {
	local prev=-1 size i stable=0
	# immediate mode: packets are written as they come; wait until the file
	# stops growing (bounded), then stop tcpdump.
	for i in $(seq 50); do
		size=$(stat -c %s "$CUR")
		if [ "$size" = "$prev" ]; then
			stable=$((stable + 1))
			[ $stable -ge 3 ] && break
		else
			stable=0
		fi
		prev=$size
		sleep 0.1
	done
	kill -TERM "$TD_PID"
	wait "$TD_PID" || true
	forget_pid "$TD_PID"
	grep -q '^0 packets dropped by kernel' "${CUR%.pcap}.tcpdump" ||
		die "tcpdump dropped packets: $(cat "${CUR%.pcap}.tcpdump")"
}

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
# ossl_server PORT CHAIN NACCEPT [s_server options...]  (-accept given as PORT or [::1]:PORT)
ossl_server() {
	local accept=$1 chain=$2 n=$3 port extra=()
	shift 3
	port=${accept##*:}
	[ -s "$P/chain-$chain.extra.pem" ] && extra=(-cert_chain "$P/chain-$chain.extra.pem")
	(cd "$WWW" && exec timeout -s TERM 120 ip netns exec "$NS" openssl s_server \
		-accept "$accept" -naccept "$n" -WWW -quiet \
		-cert "$P/chain-$chain.leaf.pem" -key "$P/chain-$chain.key" \
		"${extra[@]}" "$@") >>"$RAW/server.log" 2>&1 &
	SV_PID=$!
	PIDS+=("$SV_PID")
	wait_listen "$port" "$SV_PID"
}

server_done() {
	wait "$SV_PID" || die "s_server failed (see $RAW/server.log)"
	forget_pid "$SV_PID"
}

# ossl_client CONNECT OUTLOG [s_client options...]
ossl_client() {
	local connect=$1 outlog=$2
	shift 2
	printf '%s' "$REQ" | timeout 30 ip netns exec "$NS" openssl s_client \
		-connect "$connect" -ign_eof "$@" >"$outlog" 2>&1 || die "s_client $* failed (see $outlog)"
	grep -q '^ok$' "$outlog" || { cat "$outlog" >&2; die "s_client $*: no HTTP response"; }
}

# simple_capture NAME CHAIN PORT SERVER_OPTS CLIENT_OPTS
simple_capture() {
	local name=$1 chain=$2 port=$3 sopts=$4 copts=$5
	log "capturing $name"
	start_capture "$name"
	# shellcheck disable=SC2086
	ossl_server "$port" "$chain" 1 $sopts
	# shellcheck disable=SC2086
	ossl_client "127.0.0.1:$port" "$RAW/$name.client" $copts
	server_done
	stop_capture
}

SNI_CF="-servername cloudflare-dns.com"
NOSNI="-noservername"
WEAK="-cipher DEFAULT:@SECLEVEL=0"

###########################################################################
# Raw captures on loopback
###########################################################################

simple_capture approved-dot           approved   853 "" "-tls1_2 $SNI_CF"
simple_capture fina-rogue-doh         rogue      443 "" "-tls1_2 $NOSNI"
simple_capture rogue-elsewhere        rogue      443 "" "-tls1_2 $NOSNI"
simple_capture selfsigned-interceptor selfsigned 853 "" "-tls1_2 $SNI_CF"
simple_capture forged-issuer          forged     443 "" "-tls1_2 $SNI_CF"
simple_capture appended-intermediate  appended   443 "" "-tls1_2 $SNI_CF"
simple_capture unrelated              example    443 "" "-tls1_2 -servername www.example.org"
simple_capture tls10                  approved   853 "$WEAK" "-tls1 $WEAK $SNI_CF"
simple_capture tls11                  approved   853 "$WEAK" "-tls1_1 $WEAK $SNI_CF"
simple_capture tls12                  approved   853 "" "-tls1_2 $SNI_CF"
simple_capture tls13                  approved   853 "" "-tls1_3 $SNI_CF"
simple_capture tls13-rogue            rogue      853 "" "-tls1_3 $NOSNI"
simple_capture vlan-rogue             rogue      443 "" "-tls1_2 $NOSNI"
simple_capture qinq-approved          approved   853 "" "-tls1_2 $SNI_CF"
simple_capture small-records          rogue      443 "-max_send_frag 512" "-tls1_2 $NOSNI"
simple_capture reordered              rogue      443 "" "-tls1_2 $NOSNI"
simple_capture sni-protected          example    443 "" "-tls1_2 -servername one.one.one.one"
simple_capture pinned-api             pinned     443 "" "-tls1_2 -servername api.example.net"
simple_capture midstream              rogue      443 "" "-tls1_2 $NOSNI"
simple_capture multi-approved         approved   853 "" "-tls1_2 $SNI_CF"
simple_capture multi-rogue            rogue      443 "" "-tls1_2 $NOSNI"
simple_capture multi-selfsigned       selfsigned 443 "" "-tls1_2 $SNI_CF"
simple_capture multi-forged           forged     443 "" "-tls1_2 $SNI_CF"
simple_capture multi-unrelated        example    443 "" "-tls1_2 -servername www.example.org"
simple_capture multi-pinned           pinned     443 "" "-tls1_2 -servername api.example.net"
simple_capture multi-tls13            approved   853 "" "-tls1_3 $SNI_CF"
simple_capture multi-elsewhere        rogue      443 "" "-tls1_2 $NOSNI"

# IPv6, natively over ::1.
log "capturing ipv6-rogue"
start_capture ipv6-rogue
ossl_server "[::1]:443" rogue 1
ossl_client "[::1]:443" "$RAW/ipv6-rogue.client" -tls1_2 $NOSNI
server_done
stop_capture

# Resumption: session-ID resumption (server without tickets).
log "capturing resumed"
start_capture resumed
ossl_server 853 approved 2 -no_ticket
# shellcheck disable=SC2086
ossl_client 127.0.0.1:853 "$RAW/resumed.client1" -tls1_2 $SNI_CF -sess_out "$RAW/resumed.sess"
# shellcheck disable=SC2086
ossl_client 127.0.0.1:853 "$RAW/resumed.client2" -tls1_2 $SNI_CF -sess_in "$RAW/resumed.sess"
server_done
stop_capture
grep -q '^New, TLSv1.2' "$RAW/resumed.client1" || die "resumed: first connection is not a full handshake"
grep -q '^Reused, TLSv1.2' "$RAW/resumed.client2" || die "resumed: second connection did not resume"

# GnuTLS server and client, TLS 1.2.
log "capturing gnutls-approved"
start_capture gnutls-approved
(cd "$WWW" && exec timeout -s TERM 120 ip netns exec "$NS" gnutls-serv -p 853 \
	--x509certfile "$P/chain-approved.full.pem" --x509keyfile "$P/chain-approved.key" \
	--priority NORMAL:-VERS-TLS1.3 --disable-client-cert --http --httpdata "$WWW/hello.txt") \
	>>"$RAW/server.log" 2>&1 &
SV_PID=$!
PIDS+=("$SV_PID")
wait_listen 853 "$SV_PID"
printf '%s' "$REQ" | timeout 30 ip netns exec "$NS" gnutls-cli --insecure \
	--sni-hostname cloudflare-dns.com --priority NORMAL:-VERS-TLS1.3 -p 853 127.0.0.1 \
	>"$RAW/gnutls-approved.client" 2>&1 || die "gnutls-cli failed"
grep -q '^ok$' "$RAW/gnutls-approved.client" || die "gnutls-cli: no HTTP response"
stop_capture
kill -TERM "$SV_PID"
wait "$SV_PID" || true
forget_pid "$SV_PID"

ip netns del "$NS"
log "namespace $NS removed"

###########################################################################
# Rewrite into the final captures
###########################################################################

NEW=$TMP/out
mkdir -p "$NEW/pki"

# rewrite NAME RAW CLIENT_IP SERVER_IP [pcaptool options...]
rewrite() {
	local name=$1 raw=$2 cip=$3 sip=$4
	shift 4
	run "$PY" "$TOOL" rewrite "$RAW/$raw.pcap" "$NEW/$name.pcap" \
		--client-ip "$cip" --server-ip "$sip" --start "$START" "$@"
}

log "rewriting captures"
rewrite approved-dot           approved-dot           203.0.113.10  1.1.1.1
rewrite fina-rogue-doh         fina-rogue-doh         203.0.113.11  1.1.1.1
rewrite rogue-elsewhere        rogue-elsewhere        203.0.113.12  185.199.108.10
rewrite selfsigned-interceptor selfsigned-interceptor 203.0.113.13  1.1.1.1
rewrite forged-issuer          forged-issuer          203.0.113.14  1.0.0.1
rewrite appended-intermediate  appended-intermediate  203.0.113.15  1.1.1.1
rewrite unrelated              unrelated              203.0.113.16  93.184.216.34
rewrite tls10                  tls10                  198.51.100.10 1.1.1.1
rewrite tls11                  tls11                  198.51.100.11 1.1.1.1
rewrite tls12                  tls12                  198.51.100.12 1.1.1.1
rewrite tls13                  tls13                  198.51.100.13 1.1.1.1
rewrite tls13-rogue            tls13-rogue            198.51.100.14 1.1.1.1
rewrite ipv6-rogue             ipv6-rogue             2001:db8::10  2606:4700:4700::1111
rewrite vlan-rogue             vlan-rogue             203.0.113.17  1.1.1.1 --vlan 100
rewrite qinq-approved          qinq-approved          203.0.113.18  1.1.1.1 --qinq 200:100
rewrite small-records          small-records          203.0.113.19  1.1.1.1 --split 100
rewrite reordered              reordered              203.0.113.20  1.1.1.1 --reorder 300
rewrite resumed                resumed                203.0.113.21  1.1.1.1
rewrite gnutls-approved        gnutls-approved        203.0.113.22  1.1.1.1
rewrite sni-protected          sni-protected          203.0.113.23  185.199.108.10
rewrite pinned-api             pinned-api             203.0.113.24  192.0.2.80
rewrite midstream              midstream              203.0.113.25  1.1.1.1 --midstream

M=$TMP/multi
mkdir -p "$M"
NEW_SAVE=$NEW
NEW=$M
rewrite m1 multi-approved   198.51.100.21 1.1.1.1
rewrite m2 multi-rogue      198.51.100.22 1.1.1.1
rewrite m3 multi-selfsigned 198.51.100.23 1.1.1.1
rewrite m4 multi-forged     198.51.100.24 1.0.0.1
rewrite m5 multi-unrelated  198.51.100.25 93.184.216.34
rewrite m6 multi-pinned     198.51.100.26 192.0.2.80
rewrite m7 multi-tls13      198.51.100.27 1.1.1.1
rewrite m8 multi-elsewhere  198.51.100.28 185.199.108.10
NEW=$NEW_SAVE
run "$PY" "$TOOL" merge "$NEW/multi.pcap" "$M/m1.pcap@0" "$M/m2.pcap@1.5" "$M/m3.pcap@3" \
	"$M/m4.pcap@4.5" "$M/m5.pcap@6" "$M/m6.pcap@7.5" "$M/m7.pcap@9" "$M/m8.pcap@10.5"

###########################################################################
# Manifest and verification with tshark
###########################################################################

# NAME|HANDSHAKES|EXPECTED_ALERTS|CHAINS SEEN (space separated)|CLIENTHELLO SNIs|SERVERHELLO VERSIONS
MANIFEST=(
	"approved-dot.pcap|1|-|approved|cloudflare-dns.com|0x0303"
	"fina-rogue-doh.pcap|1|cloudflare-dns:unapproved-issuer|rogue|-|0x0303"
	"rogue-elsewhere.pcap|1|cloudflare-dns:unapproved-issuer|rogue|-|0x0303"
	"selfsigned-interceptor.pcap|1|cloudflare-dns:self-signed|selfsigned|cloudflare-dns.com|0x0303"
	"forged-issuer.pcap|1|cloudflare-dns:forged-issuer|forged|cloudflare-dns.com|0x0303"
	"appended-intermediate.pcap|1|cloudflare-dns:unapproved-issuer|appended|cloudflare-dns.com|0x0303"
	"unrelated.pcap|1|-|example|www.example.org|0x0303"
	"tls10.pcap|1|-|approved|cloudflare-dns.com|0x0301"
	"tls11.pcap|1|-|approved|cloudflare-dns.com|0x0302"
	"tls12.pcap|1|-|approved|cloudflare-dns.com|0x0303"
	"tls13.pcap|1|-||cloudflare-dns.com|0x0304"
	"tls13-rogue.pcap|1|-||-|0x0304"
	"ipv6-rogue.pcap|1|cloudflare-dns:unapproved-issuer|rogue|-|0x0303"
	"vlan-rogue.pcap|1|cloudflare-dns:unapproved-issuer|rogue|-|0x0303"
	"qinq-approved.pcap|1|-|approved|cloudflare-dns.com|0x0303"
	"small-records.pcap|1|cloudflare-dns:unapproved-issuer|rogue|-|0x0303"
	"reordered.pcap|1|cloudflare-dns:unapproved-issuer|rogue|-|0x0303"
	"resumed.pcap|2|-|approved|cloudflare-dns.com cloudflare-dns.com|0x0303 0x0303"
	"gnutls-approved.pcap|1|-|approved|cloudflare-dns.com|0x0303"
	"sni-protected.pcap|1|cloudflare-dns:unapproved-issuer|example|one.one.one.one|0x0303"
	"pinned-api.pcap|1|-|pinned|api.example.net|0x0303"
	"midstream.pcap|1|cloudflare-dns:unapproved-issuer|rogue|-|0x0303"
	"multi.pcap|8|cloudflare-dns:forged-issuer,cloudflare-dns:self-signed,cloudflare-dns:unapproved-issuer,cloudflare-dns:unapproved-issuer|approved rogue selfsigned forged example pinned rogue|cloudflare-dns.com - cloudflare-dns.com cloudflare-dns.com www.example.org api.example.net cloudflare-dns.com -|0x0303 0x0303 0x0303 0x0303 0x0303 0x0303 0x0304 0x0303"
)

TS=(tshark -n -o tcp.reassemble_out_of_order:TRUE -o tls.desegment_ssl_records:TRUE
	-o tls.desegment_ssl_application_data:TRUE)

sorted_words() { tr ' ' '\n' | sed '/^$/d' | sort | tr '\n' ' ' | sed 's/ $//'; }

hex_sha256() { tr 'a-f' 'A-F' | basenc --base16 -d | sha256sum | cut -d' ' -f1; }

verify_capture() {
	local f=$1 hs=$2 chains=$3 snis=$4 vers=$5
	local got want line ch c fps n first bad
	# handshakes: ServerHello count (no HelloRetryRequest is expected here)
	got=$("${TS[@]}" -r "$f" -Y 'tls.handshake.type == 2' -T fields -e frame.number 2>/dev/null | wc -l)
	[ "$got" -eq "$hs" ] || die "$f: $got ServerHello, expected $hs"
	# certificate chains as sent, by DER SHA-256, compared with the PEMs
	want=""
	for ch in $chains; do
		fps=""
		for c in ${CHAIN[$ch]}; do fps+="${fps:++}${FP[$c]}"; done
		want+="$fps "
	done
	want=$(echo "$want" | sorted_words)
	got=""
	while IFS= read -r line; do
		[ -n "$line" ] || continue
		fps=""
		IFS=',' read -r -a certs <<<"$line"
		for c in "${certs[@]}"; do fps+="${fps:++}$(printf '%s' "$c" | hex_sha256)"; done
		got+="$fps "
	done < <("${TS[@]}" -r "$f" -Y 'tls.handshake.type == 11' -T fields -e tls.handshake.certificate 2>/dev/null)
	got=$(echo "$got" | sorted_words)
	[ "$got" = "$want" ] || die "$f: certificate chains differ: got [$got] want [$want]"
	# SNI of each ClientHello ('-' for none)
	got=$("${TS[@]}" -r "$f" -Y 'tls.handshake.type == 1' -T fields -e tls.handshake.extensions_server_name 2>/dev/null |
		sed 's/^$/-/' | sorted_words)
	want=$(echo "$snis" | sorted_words)
	[ "$got" = "$want" ] || die "$f: SNIs differ: got [$got] want [$want]"
	# negotiated versions
	got=$("${TS[@]}" -r "$f" -Y 'tls.handshake.type == 2' -T fields \
		-e tls.handshake.extensions.supported_version -e tls.handshake.version 2>/dev/null |
		awk -F'\t' '{ print ($1 != "" ? $1 : $2) }' | sorted_words)
	want=$(echo "$vers" | sorted_words)
	[ "$got" = "$want" ] || die "$f: versions differ: got [$got] want [$want]"
	# checksums all good, Ethernet link type, first packet at $START
	bad=$(tshark -n -r "$f" -o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE \
		-Y 'ip.checksum.status == 0 || tcp.checksum.status == 0' -T fields -e frame.number 2>/dev/null | wc -l)
	[ "$bad" -eq 0 ] || die "$f: $bad frames with bad checksums"
	first=$(tshark -n -r "$f" -c 1 -T fields -e frame.time_epoch 2>/dev/null)
	if [ "${first%%.*}" != "$START_EPOCH" ] || [ "${first#*.}" -ne 0 ]; then
		die "$f: first packet at $first"
	fi
	n=$(capinfos -T -m -E "$f" 2>/dev/null | tail -n 1 | cut -d, -f2)
	[ "$n" = "ether" ] || die "$f: link type $n (want ether)"
}

log "verifying captures with tshark"
TSV=$NEW/captures.tsv
printf 'file\thandshakes\texpected_alerts\n' >"$TSV"
for row in "${MANIFEST[@]}"; do
	IFS='|' read -r name hs alerts chains snis vers <<<"$row"
	[ -f "$NEW/$name" ] || die "missing capture $name"
	verify_capture "$NEW/$name" "$hs" "$chains" "$snis" "$vers"
	sorted=$(echo "$alerts" | tr ',' '\n' | sort | paste -sd, -)
	[ "$sorted" = "$alerts" ] || die "manifest alerts of $name not sorted"
	printf '%s\t%s\t%s\n' "$name" "$hs" "$alerts" >>"$TSV"
done
# every capture is in the manifest
for f in "$NEW"/*.pcap; do
	grep -q "^$(basename "$f")	" "$TSV" || die "$(basename "$f") is not in the manifest"
done

# The reordered capture must really be out of order / retransmitted.
n=$("${TS[@]}" -r "$NEW/reordered.pcap" -Y 'tcp.analysis.out_of_order || tcp.analysis.retransmission || tcp.analysis.spurious_retransmission' \
	-T fields -e frame.number 2>/dev/null | wc -l)
[ "$n" -ge 3 ] || die "reordered.pcap: only $n out-of-order/retransmitted segments"
# Segments of small-records are at most 100 bytes, TLS records at most 512 + overhead.
n=$(tshark -n -r "$NEW/small-records.pcap" -Y 'tcp.len > 100' -T fields -e frame.number 2>/dev/null | wc -l)
[ "$n" -eq 0 ] || die "small-records.pcap: $n segments over 100 bytes"
# midstream has no SYN
n=$(tshark -n -r "$NEW/midstream.pcap" -Y 'tcp.flags.syn == 1' -T fields -e frame.number 2>/dev/null | wc -l)
[ "$n" -eq 0 ] || die "midstream.pcap has SYNs"
# VLAN tags
n=$(tshark -n -r "$NEW/vlan-rogue.pcap" -Y 'vlan.id == 100' -T fields -e frame.number 2>/dev/null | wc -l)
m=$(capinfos -c -M "$NEW/vlan-rogue.pcap" | awk '/Number of packets/ { print $NF }')
[ "$n" -eq "$m" ] || die "vlan-rogue.pcap: $n of $m frames tagged"
n=$(tshark -n -r "$NEW/qinq-approved.pcap" -Y 'eth.type == 0x88a8 && ieee8021ad.id == 200 && vlan.id == 100' -T fields -e frame.number 2>/dev/null | wc -l)
m=$(capinfos -c -M "$NEW/qinq-approved.pcap" | awk '/Number of packets/ { print $NF }')
[ "$n" -eq "$m" ] || die "qinq-approved.pcap: $n of $m frames QinQ-tagged"

###########################################################################
# Rules and PEMs
###########################################################################

for c in $ALL_CERTS; do
	cp "$P/$c.pem" "$NEW/pki/$c.pem"
done
! grep -l 'PRIVATE KEY' "$NEW"/pki/*.pem >/dev/null || die "a private key in pki/"

cat >"$NEW/test.rules" <<EOF
# Rules for certsentry's capture tests (pcaps/*.pcap, see pcaps/README.md).
# Generated by tests/mkpcaps.sh together with the captures and pki/*.pem:
# the SPKI pin below belongs to this generation of pki/pinned-issuing.pem.
# Paths are relative to this file.

# The resolver: addresses, names, and the CAs it approved.  The issuing CA
# is listed besides the root so that its name is known: forged-issuer.pcap
# copies that name (pki/forged-issuing.pem) with another key.
owner cloudflare-dns
protect ip 1.1.1.1 1.0.0.0/24 2606:4700:4700::1111
protect name cloudflare-dns.com *.cloudflare-dns.com one.one.one.one
approve ca pki/approved-root.pem
approve ca pki/approved-issuing.pem

# An API approved by a pin of its issuing CA's key (pki/pinned-issuing.pem):
# SHA-256 of the DER SubjectPublicKeyInfo.
owner pinned-api
protect ip 192.0.2.80
protect name api.example.net
approve spki sha256:$PIN_PINNED
EOF

mkdir -p "$NEW/examples/ca"
cp "$P/approved-root.pem" "$NEW/examples/ca/EXAMPLE-resolver-root.pem"
cp "$P/approved-issuing.pem" "$NEW/examples/ca/EXAMPLE-resolver-issuing.pem"
cat >"$NEW/examples/public-dns-resolver.rules" <<EOF
# Example certsentry rules for a public DNS resolver (DNS over TLS on 853,
# DNS over HTTPS on 443), modelled on Cloudflare's 1.1.1.1.
#
# certsentry alerts when a certificate for one of the protected addresses or
# names -- or any certificate presented at a protected address -- does not
# chain, signature by signature, to a CA approved below.  That catches a
# publicly trusted CA misissuing a certificate for the resolver's IP address
# (as "Fina RDC 2020" did for 1.1.1.1), interception proxies, and forged
# intermediates that copy an approved CA's name.
#
# !!! The files in ca/ are TEST certificates generated by tests/mkpcaps.sh;
# !!! their private keys were thrown away.  They are NOT the resolver's CAs.
# !!! Replace them with the CA certificates (or SPKI pins) you actually
# !!! approved before using this file, or every real certificate will alert.
#
# Grammar: '#' starts a comment; an "owner" line starts a block; paths are
# relative to this file.

owner public-dns-resolver

# Every address the resolver answers on (IPv4, IPv6, CIDR allowed).
protect ip 1.1.1.1 1.0.0.1 2606:4700:4700::1111 2606:4700:4700::1001

# Every name clients use to reach it (SNI) or that its certificates carry.
protect name cloudflare-dns.com *.cloudflare-dns.com one.one.one.one

# The CA certificates you approved.  A chain is approved when every signature
# from the leaf up to one of them verifies; dates and names never approve.
# List the issuing (intermediate) CAs as well as the root: then a certificate
# that copies an approved CA's name with another key is reported as a forged
# issuer rather than just an unapproved one.  REPLACE these test files.
approve ca ca/EXAMPLE-resolver-root.pem
approve ca ca/EXAMPLE-resolver-issuing.pem

# Or/also pin a CA key: SHA-256 of its DER SubjectPublicKeyInfo, computed by
#   openssl x509 -in CA.pem -pubkey -noout | openssl pkey -pubin -outform DER | sha256sum
# (this is the pin of the test issuing CA ca/EXAMPLE-resolver-issuing.pem;
# replace it too, or delete it).
approve spki sha256:$PIN_EXAMPLE_ISSUING
EOF

###########################################################################
# Install
###########################################################################

total=$(cat "$NEW"/*.pcap | wc -c)
[ "$total" -lt 1048576 ] || die "captures total $total bytes (> 1 MB)"

mkdir -p "$OUT/pki" "$EXAMPLES/ca"
rm -f "$OUT"/*.pcap "$OUT"/pki/*.pem "$EXAMPLES"/ca/EXAMPLE-*.pem
cp "$NEW"/*.pcap "$OUT/"
cp "$NEW"/pki/*.pem "$OUT/pki/"
cp "$NEW/test.rules" "$NEW/captures.tsv" "$OUT/"
# Damaged captures derived from the ones above (see tests/mkderived.py).
"$PY" "$ROOT/tests/mkderived.py" "$OUT"
printf '%s\t1\t%s\n' corrupt-leaf.pcap cloudflare-dns:unverifiable-chain \
	gap-protected.pcap cloudflare-dns:unverified-handshake \
	gap-serverhello.pcap cloudflare-dns:unverified-handshake >>"$OUT/captures.tsv"
cp "$NEW/examples/public-dns-resolver.rules" "$EXAMPLES/"
cp "$NEW"/examples/ca/*.pem "$EXAMPLES/ca/"

log "done: ${#MANIFEST[@]} captures, $total bytes, in $OUT"
cat "$OUT/captures.tsv"
