# Sourced by the capture generators (mkquic.sh, mkcertcomp.sh, mktls13.sh,
# mkchromium.sh): one tcpdump at a time inside the generator's network
# namespace, started before a session and stopped once its file is
# complete.  The sourcing script defines die, RAW (where captures go) and
# the array PIDS (killed by its cleanup on exit).

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
