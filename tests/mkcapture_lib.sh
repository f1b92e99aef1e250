# Sourced by the capture generators (mkquic.sh, mkcertcomp.sh, mktls13.sh,
# mkchromium.sh): what each did alike.  One tcpdump at a time inside the
# generator's network namespace, started before a session and stopped
# once its file is complete; two namespaces joined by a veth; a test PKI.
# The sourcing script defines die and run, RAW (where captures go), P
# (where the PKI goes) and the array PIDS (killed by its cleanup on exit).

CAP_PID=
CAP_FILE=

# capture_start NS IFACE FILTER NAME [SECONDS]
#   tcpdump on IFACE in NS into $RAW/NAME.pcap (CAP_FILE), its messages in
#   $RAW/NAME.tcpdump; returns once it listens.  SECONDS (120) bounds it,
#   should the generator die before capture_stop.
capture_start() {
	local ns=$1 ifc=$2 filter=$3 name=$4 secs=${5:-120} i
	CAP_FILE=$RAW/$name.pcap
	rm -f "$CAP_FILE" "$RAW/$name.tcpdump"
	timeout -s TERM "$secs" ip netns exec "$ns" tcpdump -i "$ifc" --immediate-mode -U -s 0 \
		-w "$CAP_FILE" "$filter" 2>"$RAW/$name.tcpdump" &
	CAP_PID=$!
	PIDS+=("$CAP_PID")
	for i in $(seq 100); do
		grep -q 'listening on' "$RAW/$name.tcpdump" 2>/dev/null && return 0
		kill -0 "$CAP_PID" 2>/dev/null || break
		sleep 0.1
	done
	cat "$RAW/$name.tcpdump" >&2
	die "tcpdump did not start"
}

# capture_stop: immediate mode writes packets as they come, so wait
# (bounded) until the file stops growing, then stop tcpdump; a capture the
# kernel dropped packets from is not a test capture.
capture_stop() {
	local prev=-1 size i stable=0
	for i in $(seq 50); do
		size=$(stat -c %s "$CAP_FILE")
		if [ "$size" = "$prev" ]; then
			stable=$((stable + 1))
			[ $stable -ge 3 ] && break
		else
			stable=0
		fi
		prev=$size
		sleep 0.1
	done
	kill -TERM "$CAP_PID"
	wait "$CAP_PID" || true
	grep -q '^0 packets dropped by kernel' "${CAP_FILE%.pcap}.tcpdump" ||
		die "tcpdump dropped packets: $(cat "${CAP_FILE%.pcap}.tcpdump")"
}

# veth_pair NSS VS NSC VC: a server namespace NSS and a client namespace
# NSC joined by the veth VS-VC, up, with the MACs of pcaps/README.md (a
# client NIC and its gateway).  Offloads off: the kernel then computes
# every checksum and cuts every GSO batch (ngtcp2 and Chromium send with
# UDP GSO) before tcpdump sees the frame, so a capture holds the packets as
# a real wire would.  The caller deletes the namespaces on exit.
veth_pair() {
	local nss=$1 vs=$2 nsc=$3 vc=$4 side
	ip netns add "$nss"
	ip netns add "$nsc"
	ip link add "$vs" type veth peer name "$vc"
	ip link set "$vs" netns "$nss"
	ip link set "$vc" netns "$nsc"
	ip -n "$nsc" link set "$vc" address 3c:fd:fe:00:00:10 mtu 1500 up
	ip -n "$nss" link set "$vs" address 00:1b:17:00:01:10 mtu 1500 up
	ip -n "$nss" link set lo up
	ip -n "$nsc" link set lo up
	for side in "$nss $vs" "$nsc $vc"; do
		# shellcheck disable=SC2086
		set -- $side
		ip netns exec "$1" ethtool -K "$2" tx off rx off sg off tso off gso off gro off \
			>/dev/null 2>&1 || true
		ip netns exec "$1" ethtool -K "$2" tx-udp-segmentation off >/dev/null 2>&1 || true
		ip netns exec "$1" ethtool -k "$2" | grep -q '^tx-checksumming: off' ||
			die "$2: cannot turn off checksum offload"
	done
}

# pki_key NAME ec|rsa|rsa4096: $P/NAME.key (P-256, RSA 2048 or 4096).
pki_key() {
	case $2 in
	ec) run openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$P/$1.key" ;;
	rsa) run openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$P/$1.key" ;;
	rsa4096) run openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:4096 -out "$P/$1.key" ;;
	*) die "pki_key: unknown key type $2" ;;
	esac
}

# pki_cert NAME SUBJECT SIGNER|self ca|leaf [SAN]: $P/NAME.pem from
# $P/NAME.key, signed by $P/SIGNER (or itself): a CA (ten years) or a
# server leaf with SAN (two years).  Needs P and run (the caller's).
pki_cert() {
	local name=$1 subj=$2 signer=$3 kind=$4 san=${5:-} days=730
	run openssl req -new -key "$P/$name.key" -subj "$subj" -out "$P/$name.csr"
	if [ "$kind" = ca ]; then
		days=3650
		printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign,digitalSignature\nsubjectKeyIdentifier=hash\n'
	else
		printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=%s\n' "$san"
	fi >"$P/$name.ext"
	if [ "$signer" = self ]; then
		run openssl x509 -req -in "$P/$name.csr" -signkey "$P/$name.key" -days "$days" \
			-set_serial "0x$(openssl rand -hex 8)" -extfile "$P/$name.ext" -out "$P/$name.pem"
	else
		run openssl x509 -req -in "$P/$name.csr" -CA "$P/$signer.pem" -CAkey "$P/$signer.key" \
			-days "$days" -set_serial "0x$(openssl rand -hex 8)" -extfile "$P/$name.ext" -out "$P/$name.pem"
	fi
}
