#!/usr/bin/env bash
# Live capture end to end, two workers sharing the interface by
# PACKET_FANOUT (needs root: it creates network namespaces).
# Two namespaces joined by a veth pair (MTU 9000 on both ends, so no
# replayed frame is silently too big); certsentry captures on one end while
# tcpreplay replays the test captures into the other; SIGHUP is sent during
# the replay (rules reload + output reopen must lose nothing); SIGTERM ends
# it.  Checks: every expected alert arrived, stats events count the
# packets, every line passes the EVE schema, the pidfile comes and goes,
# and --metrics is rewritten every second without a reader ever seeing
# half a file.
# Traffic stays inside the two namespaces this script creates and removes.
set -u
cd "$(dirname "$0")/.."
bin=${CERTSENTRY:-./certsentry}
py=/usr/bin/python3
if [ "$(id -u)" -ne 0 ]; then
	echo "# live: skipped (needs root for network namespaces)"
	exit 0
fi
for t in ip tcpreplay; do
	command -v "$t" >/dev/null || { echo "not ok live: $t missing"; exit 0; }
done
tag=cs$$
a=${tag}a
b=${tag}b
tmp=$(mktemp -d)
cleanup() {
	[ -n "${pid:-}" ] && kill "$pid" 2>/dev/null
	ip netns del "$a" 2>/dev/null
	ip netns del "$b" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
ip netns add "$a" && ip netns add "$b" &&
ip link add "${tag}x" type veth peer name "${tag}y" &&
ip link set "${tag}x" netns "$a" && ip link set "${tag}y" netns "$b" &&
ip -n "$a" link set "${tag}x" mtu 9000 up && ip -n "$b" link set "${tag}y" mtu 9000 up &&
ip -n "$a" link set lo up && ip -n "$b" link set lo up ||
	{ echo "not ok live: cannot build the namespaces"; exit 0; }

caps="fina-rogue-doh.pcap selfsigned-interceptor.pcap approved-dot.pcap forged-issuer.pcap vlan-rogue.pcap ipv6-rogue.pcap"
want=""
for c in $caps; do
	w=$(awk -F'\t' -v f="$c" '$1 == f {print $3}' pcaps/captures.tsv)
	[ "$w" != "-" ] && want="$want,$w"
done
want=$(echo "${want#,}" | tr ',' '\n' | sort | paste -sd, -)

ip netns exec "$b" "$bin" -i "${tag}y" --workers 2 -R pcaps/test.rules -o "$tmp/eve.json" \
	--stats-interval 1 --pidfile "$tmp/pid" --metrics "$tmp/m.prom" 2>"$tmp/err" &
pid=$!
# A reader of --metrics while certsentry rewrites it every second: every
# read must parse whole (prometheus_client's parser), never half a file.
$py - "$tmp" <<'PY' &
import os, sys, time
sys.path.insert(0, "tests")
from promcheck import samples
tmp = sys.argv[1]
reads = bad = 0
stamps = set()
while not os.path.exists(tmp + "/stop"):
    try:
        fams = samples(tmp + "/m.prom")
    except FileNotFoundError:
        time.sleep(0.01)
        continue
    except ValueError as e:
        bad += 1
        open(tmp + "/pc.bad", "w").write(str(e))
        continue
    reads += 1
    stamps.update(s.value for f in fams for s in f.samples
                  if s.name == "certsentry_last_update_timestamp_seconds")
open(tmp + "/reads", "w").write("%d %d %d\n" % (reads, bad, len(stamps)))
PY
reader=$!
for _ in $(seq 50); do [ -s "$tmp/pid" ] && break; sleep 0.1; done
if [ -s "$tmp/pid" ] && [ "$(cat "$tmp/pid")" = "$pid" ]; then
	echo "ok live: pidfile written"
else
	echo "not ok live: pidfile $tmp/pid missing"; cat "$tmp/err"
fi
sleep 0.5
sent=0
i=0
for c in $caps; do
	i=$((i + 1))
	# SIGHUP in the middle of the replay: reload and reopen, nothing lost
	[ "$i" -eq 3 ] && kill -HUP "$pid"
	ip netns exec "$a" tcpreplay -q -i "${tag}x" --pps 200 "pcaps/$c" >/dev/null 2>&1 ||
		echo "not ok live: tcpreplay $c failed"
	n=$(capinfos -c -M "pcaps/$c" | sed -n 's/.*Number of packets: *//p')
	sent=$((sent + n))
done
# The rogue handshake again, from another client port, after the SIGHUP:
# its alert window (opened before the reload) holds, so no second alert,
# and the follow-up at exit counts both sightings.
$py tests/mkreplay.py pcaps/fina-rogue-doh.pcap "$tmp/again.pcap" 1
ip netns exec "$a" tcpreplay -q -i "${tag}x" --pps 200 "$tmp/again.pcap" >/dev/null 2>&1 ||
	echo "not ok live: tcpreplay again.pcap failed"
sent=$((sent + $(capinfos -c -M "$tmp/again.pcap" | sed -n 's/.*Number of packets: *//p')))
sleep 1.5
kill -TERM "$pid"
wait "$pid"
rc=$?
pid=
touch "$tmp/stop"
wait "$reader"
read -r reads bad stamps < "$tmp/reads"
kp=$($py tests/promcheck.py "$tmp/m.prom" get certsentry_capture_kernel_packets_total)
[ "$bad" -eq 0 ] && [ "$reads" -gt 100 ] && [ "$stamps" -ge 3 ] && [ "${kp:-0}" -ge "$sent" ] &&
	echo "ok live: --metrics rewritten $stamps times, $reads reads all whole, kernel packets $kp" ||
	{ echo "not ok live: --metrics: $reads reads, $bad bad, $stamps versions, kernel packets ${kp:-none} (sent $sent)"
	  cat "$tmp/pc.bad" 2>/dev/null; }
[ "$rc" -eq 0 ] && echo "ok live: SIGTERM exits 0" || { echo "not ok live: exit status $rc after SIGTERM"; cat "$tmp/err"; }
[ ! -e "$tmp/pid" ] && echo "ok live: pidfile removed" || echo "not ok live: pidfile left behind"
# The same summary as a file run, after the output drained: the alerts
# found, each delivered, and the coverage.
grep -q "^certsentry: [0-9]* packets, [0-9]* flows, [0-9]* handshakes, [0-9]* certificates, [0-9]* alerts$" "$tmp/err" &&
	grep -q "^  output: file: [0-9]* events found ([0-9]* alerts), all delivered$" "$tmp/err" &&
	grep -q "^  coverage: " "$tmp/err" &&
	echo "ok live: SIGTERM prints the summary (delivery and coverage)" ||
	{ echo "not ok live: no summary at SIGTERM"; tail -5 "$tmp/err" | sed 's/^/# /'; }
# The summary's key fact right after its first line, and one coverage line
# per protected asset: every replayed handshake is TLS 1.2, so all checked.
awk '/^certsentry: [0-9]* packets/ {getline; print; exit}' "$tmp/err" |
	grep -Eq '^  all [0-9]+ handshakes at protected assets were checked: approved [1-9][0-9]*, alerting [1-9][0-9]*, fingerprint only 0$' &&
	grep -Eq '^  coverage: cloudflare-dns ip 1\.1\.1\.1: [0-9]+ handshakes: approved [0-9]+, alerting [1-9][0-9]*,' "$tmp/err" &&
	echo "ok live: the summary at SIGTERM has the key fact and per-asset coverage" ||
	{ echo "not ok live: summary's key fact or per-asset coverage at SIGTERM"; grep -A1 '^certsentry: [0-9]* packets' "$tmp/err" | sed 's/^/# /'; }
grep -q "rules reloaded" "$tmp/err" && echo "ok live: SIGHUP reloaded the rules" ||
	{ echo "not ok live: no reload message"; cat "$tmp/err"; }

got=$($py tests/evetool.py alerts "$tmp/eve.json")
[ "$got" = "$want" ] && echo "ok live: alerts $got" || echo "not ok live: alerts '$got', want '$want'"
n=$($py tests/evetool.py count "$tmp/eve.json" tls)
[ "$n" -eq 7 ] && echo "ok live: 7 tls events" || echo "not ok live: $n tls events, want 7"
$py - "$tmp/eve.json" <<'PY'
import json, sys
r = [e for e in map(json.loads, open(sys.argv[1])) if e["event_type"] == "alert_repeat"]
ok = (len(r) == 1 and r[0]["dest_ip"] == "1.1.1.1" and r[0]["certsentry"]["repeat"]["count"] == 2
      and r[0]["certsentry"]["repeat"]["reported_at"] == "exit")
print(("ok" if ok else "not ok") + " live: the alert window survives SIGHUP (one follow-up, count 2)"
      + ("" if ok else " %s" % r))
PY
$py - "$tmp/eve.json" "$sent" <<'PY'
import json, sys
stats = [json.loads(l) for l in open(sys.argv[1]) if '"event_type":"stats"' in l]
sent = int(sys.argv[2])
if len(stats) < 2:
    print(f"not ok live: {len(stats)} stats events, want periodic ones and one at exit")
    sys.exit(0)
last = stats[-1]["stats"]
pkts = last["decoder"]["pkts"]
kern = last.get("capture", {}).get("kernel_packets", -1)
ok = pkts >= sent and kern >= sent
print(("ok" if ok else "not ok") +
      f" live: stats count the packets (decoder.pkts {pkts}, capture.kernel_packets {kern}, sent {sent})")
PY
if ../shared/eve/validate "$tmp/eve.json" > "$tmp/v" 2>&1; then
	echo "ok live: EVE schema: $(tail -1 "$tmp/v")"
else
	echo "not ok live: EVE schema"; head "$tmp/v"
fi

# SIGINT (Ctrl-C on a terminal) ends a live capture as SIGTERM does: exit
# 0 and the same summary, its key fact and per-asset coverage included.
ip netns exec "$b" "$bin" -i "${tag}y" -R pcaps/test.rules -o "$tmp/int.json" 2>"$tmp/int.err" &
pid=$!
for _ in $(seq 50); do grep -q "capturing on" "$tmp/int.err" && break; sleep 0.1; done
ip netns exec "$a" tcpreplay -q -i "${tag}x" --pps 200 pcaps/fina-rogue-doh.pcap >/dev/null 2>&1 ||
	echo "not ok live: tcpreplay fina-rogue-doh.pcap (SIGINT run) failed"
sleep 1
kill -INT "$pid"
wait "$pid"
rc=$?
pid=
awk '/^certsentry: [0-9]* packets/ {getline; print; exit}' "$tmp/int.err" |
	grep -q '^  all 1 handshake at protected assets was checked: approved 0, alerting 1, fingerprint only 0$' &&
	grep -q '^  coverage: cloudflare-dns ip 1.1.1.1: 1 handshake: approved 0, alerting 1, fingerprint only 0, not checked 0$' "$tmp/int.err" &&
	grep -Eq '^  output: file: [0-9]+ events found \(1 alerts\), all delivered$' "$tmp/int.err" && [ "$rc" -eq 0 ] &&
	echo "ok live: SIGINT exits 0 with the same summary (key fact, per-asset coverage, delivery)" ||
	{ echo "not ok live: SIGINT: exit $rc, summary:"; sed 's/^/# /' "$tmp/int.err" | head -20; }
