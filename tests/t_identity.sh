#!/usr/bin/env bash
# Identity in every event (issue 30, item 2): which sensor wrote it and
# which flow it is, as Suricata writes them.
#   host          every event (tls, quic, alert, alert_repeat, stats, and
#                 the alerts of --certs), last: by default the machine's
#                 host name (what `hostname` says), --sensor-name NAME
#                 instead (JSON-escaped), --sensor-name '' none; a name
#                 too long or a seed out of range is refused (exit 2)
#   community_id  every flow-bound event, equal to what an independent
#                 Community ID v1 (Python's hashlib, below, from the
#                 event's own addresses, ports and proto) gives, with the
#                 default seed 0 and with --community-id-seed; none on the
#                 events without a flow (stats, --certs)
#   in_iface      live capture: the interface (a veth end in a namespace
#                 of this test's own, tcpreplay into the other end); never
#                 when reading files, as Suricata does with pcap files
# Every line passes ../shared/eve/validate.
set -u
cd "$(dirname "$0")/.."
bin=${CERTSENTRY:-./certsentry}
py=/usr/bin/python3
rules=pcaps/test.rules
tmp=$(mktemp -d)
tag=ci$$
cleanup() {
	[ -n "${pid:-}" ] && kill "$pid" 2>/dev/null
	if [ -n "${netns:-}" ]; then
		netns_pair_del "$tag"
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
if [ ! -x "$bin" ]; then
	echo "not ok identity: no binary $bin (run make)"
	exit 1
fi

# idcheck.py EVE HOST SEED IFACE: one line per event kind checked, and
# "bad: ..." for every event that breaks a rule; HOST "-" for none, IFACE
# "-" for file input.
cat > "$tmp/idcheck.py" <<'PY'
import base64, collections, hashlib, ipaddress, json, struct, sys

path, host, seed, iface = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]

def community_id(e):
    """Community ID v1 as the specification's community-id.py computes it."""
    proto = {"TCP": 6, "UDP": 17}[e["proto"]]
    a = (ipaddress.ip_address(e["src_ip"]).packed, e["src_port"])
    b = (ipaddress.ip_address(e["dest_ip"]).packed, e["dest_port"])
    if not (a[0] < b[0] or (a[0] == b[0] and a[1] < b[1])):
        a, b = b, a
    h = hashlib.sha1(struct.pack("!H", seed) + a[0] + b[0] + struct.pack("!BB", proto, 0) +
                     struct.pack("!HH", a[1], b[1])).digest()
    return "1:" + base64.b64encode(h).decode()

kinds = collections.Counter()
bad = []
for n, line in enumerate(open(path), 1):
    e = json.loads(line)
    t = e["event_type"]
    kinds[t] += 1
    if host == "-":
        if "host" in e:
            bad.append("%d %s: host %r, want none" % (n, t, e["host"]))
    elif e.get("host") != host or list(e)[-1] != "host":
        bad.append("%d %s: host %r (last key %s), want %r last" % (n, t, e.get("host"), list(e)[-1], host))
    if "src_ip" in e:
        if e.get("community_id") != community_id(e):
            bad.append("%d %s: community_id %r, want %r" % (n, t, e.get("community_id"), community_id(e)))
        else:
            kinds["community_id " + e["proto"]] += 1
    elif "community_id" in e:
        bad.append("%d %s: community_id without a flow" % (n, t))
    want_iface = iface if iface != "-" and "src_ip" in e and t != "alert_repeat" else None
    if e.get("in_iface") != want_iface:
        bad.append("%d %s: in_iface %r, want %r" % (n, t, e.get("in_iface"), want_iface))
    elif want_iface:
        kinds["in_iface"] += 1
print(" ".join("%s=%d" % kv for kv in sorted(kinds.items())))
for b in bad[:10]:
    print("bad: " + b)
PY

check() {   # check NAME OUTPUT-OF-IDCHECK REQUIRED-WORDS...
	local name=$1 got=$2 w
	shift 2
	if printf '%s\n' "$got" | grep -q '^bad: '; then
		echo "not ok identity $name"; printf '%s\n' "$got" | sed 's/^/# /' | head -8
		return
	fi
	for w in "$@"; do
		case " $(printf '%s\n' "$got" | head -1) " in
		*" $w"*) ;;
		*) echo "not ok identity $name: no $w in [$got]"; return ;;
		esac
	done
	echo "ok identity $name: $got"
}

validate() {   # validate NAME EVE
	if ../shared/eve/validate "$2" > "$tmp/v.txt" 2>&1; then
		echo "ok identity EVE schema ($1): $(tail -1 "$tmp/v.txt")"
	else
		echo "not ok identity EVE schema ($1)"; head -5 "$tmp/v.txt"
	fi
}

# Files: TCP over IPv4, IPv6 and VLANs, QUIC over UDP, the rogue again
# from another client port (an alert_repeat at exit), a stats event.
$py tests/mkreplay.py pcaps/fina-rogue-doh.pcap "$tmp/again.pcap" 1
# The QUIC rogue again from another client port (its key log by --keylog:
# the copy has no Decryption Secrets Block): a QUIC alert's alert_repeat.
$py - pcaps/quic/doq-rogue.pcapng "$tmp/qagain.pcap" 2>/dev/null <<'PY'
import sys
from scapy.all import UDP, rdpcap, wrpcap
pkts = rdpcap(sys.argv[1])
c = pkts[0][UDP].sport
for p in pkts:
    u = p[UDP]
    if u.sport == c:
        u.sport = c + 1
    elif u.dport == c:
        u.dport = c + 1
    del u.chksum
wrpcap(sys.argv[2], pkts)
PY
files="-r pcaps/fina-rogue-doh.pcap -r pcaps/ipv6-rogue.pcap -r pcaps/vlan-rogue.pcap
 -r pcaps/approved-dot.pcap -r pcaps/quic/doq-rogue.pcapng -r $tmp/again.pcap
 -r $tmp/qagain.pcap --keylog pcaps/quic/doq-rogue.keys"
me=$(hostname)
# shellcheck disable=SC2086
"$bin" -q -R "$rules" $files --stats-interval 1 -o "$tmp/default.json" 2>"$tmp/err"
check "default: host is \`hostname\` ($me), community_id seed 0, no in_iface from files" \
	"$($py "$tmp/idcheck.py" "$tmp/default.json" "$me" 0 -)" \
	alert= alert_repeat= quic= stats= tls= "community_id TCP" "community_id UDP"
validate default "$tmp/default.json"
# A QUIC alert's repeat names its flow as the alert did: UDP, quic, the
# same community_id (it said TCP before the alert windows kept the
# transport).
$py - "$tmp/default.json" > "$tmp/rep.txt" <<'PY'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
qa = [e for e in ev if e["event_type"] == "alert" and e["proto"] == "UDP"]
rep = [e for e in ev if e["event_type"] == "alert_repeat" and e.get("flow_id") == (qa[0]["flow_id"] if qa else None)]
if len(qa) == 1 and len(rep) == 1 and rep[0]["proto"] == "UDP" and rep[0]["app_proto"] == "quic" \
        and rep[0]["community_id"] == qa[0]["community_id"]:
    print("ok identity a QUIC alert's alert_repeat: UDP, quic, the alert's community_id %s" % rep[0]["community_id"])
else:
    print("not ok identity a QUIC alert's alert_repeat: %d QUIC alerts, repeats %s" %
          (len(qa), [(e["proto"], e["app_proto"], e.get("community_id")) for e in rep]))
PY
cat "$tmp/rep.txt"

name='tap-7 "dmz" \ é'
# shellcheck disable=SC2086
"$bin" -q -R "$rules" $files --stats-interval 1 --sensor-name "$name" \
	--community-id-seed 4242 -o "$tmp/named.json" 2>"$tmp/err"
check "--sensor-name overrides it (escaped), --community-id-seed 4242" \
	"$($py "$tmp/idcheck.py" "$tmp/named.json" "$name" 4242 -)" \
	alert= alert_repeat= quic= stats= tls= "community_id TCP" "community_id UDP"
validate named "$tmp/named.json"

"$bin" -q -R "$rules" -r pcaps/ipv6-rogue.pcap --sensor-name '' -o "$tmp/none.json" 2>"$tmp/err"
check "--sensor-name '' writes no host" \
	"$($py "$tmp/idcheck.py" "$tmp/none.json" - 0 -)" alert= tls=

# Without packets: host, but no flow and so no community_id.
cat pcaps/quic/pki/rogue-leaf.pem pcaps/quic/pki/rogue-root.pem > "$tmp/rogue.pem"
"$bin" -q -R "$rules" --certs "$tmp/rogue.pem" -o "$tmp/certs.json" 2>"$tmp/err"
check "--certs: host, no community_id" \
	"$($py "$tmp/idcheck.py" "$tmp/certs.json" "$me" 0 -)" alert=
validate certs "$tmp/certs.json"

# Refused before anything runs: exit 2, one line saying why.
long=$(printf 'a%.0s' $(seq 256))
while IFS='|' read -r opt arg why; do
	"$bin" -q -R "$rules" -r pcaps/approved-dot.pcap "$opt" "$arg" -o "$tmp/bad.json" 2>"$tmp/err"
	rc=$?
	if [ "$rc" -eq 2 ] && grep -qF -- "$opt: $why" "$tmp/err" && [ ! -s "$tmp/bad.json" ]; then
		echo "ok identity: $opt (${#arg} bytes) refused: $(head -1 "$tmp/err" | cut -c1-80)"
	else
		echo "not ok identity: $opt (${#arg} bytes) gave exit $rc, want 2 and '$opt: $why': $(head -2 "$tmp/err")"
	fi
done <<EOF
--sensor-name|$long|256 bytes, at most 255
--sensor-name|$(printf 'bad\377')|not valid UTF-8
--community-id-seed|65536|'65536' is not a number in 0..65535
--community-id-seed|-1|'-1' is not a number in 0..65535
EOF

# Live capture: in_iface names the interface.
if [ "$(id -u)" -ne 0 ]; then
	echo "# identity live: skipped (needs root for network namespaces)"
	exit 0
fi
for t in ip tcpreplay; do
	command -v "$t" >/dev/null || { echo "not ok identity live: $t missing"; exit 0; }
done
. tests/netns_lib.sh
netns=1
netns_pair "$tag" || { echo "not ok identity live: cannot build the namespaces"; exit 0; }
ip netns exec "${tag}b" "$bin" -i "${tag}y" -R "$rules" -o "$tmp/live.json" \
	--sensor-name sensor-live --stats-interval 1 2>"$tmp/lerr" &
pid=$!
sleep 1
for c in fina-rogue-doh.pcap ipv6-rogue.pcap approved-dot.pcap; do
	ip netns exec "${tag}a" tcpreplay -q -i "${tag}x" --pps 200 "pcaps/$c" >/dev/null 2>&1 ||
		echo "not ok identity live: tcpreplay $c failed"
done
sleep 1.5
kill -TERM "$pid"
wait "$pid"
pid=
check "live: in_iface ${tag}y on every flow-bound event, host, community_id" \
	"$($py "$tmp/idcheck.py" "$tmp/live.json" sensor-live 0 "${tag}y")" \
	alert= stats= tls= in_iface= "community_id TCP"
validate live "$tmp/live.json"
