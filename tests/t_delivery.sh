#!/usr/bin/env bash
# Delivery accounting, end to end with the default options: every event
# found is delivered or counted as undelivered (by sink and reason), the
# summary comes after the output has drained or given up and says so, and
# the exit status is 2 whenever something found was not delivered.
#   - standard output closed (>&-): the alerts found are counted as found,
#     each one reaches stderr, exit 2, no event written into a file that
#     took descriptor 1;
#   - a reader that goes away (| head -c 100): no death by SIGPIPE (141),
#     a summary, the rest counted as write errors (EPIPE), exit 2;
#   - a full file system (a 256 KB tmpfs this script mounts; root only):
#     the alerts found equal those of a run with room, found = delivered +
#     undelivered, the reason "No space left on device", exit 2;
#   - Redis absent for the whole run (a real redis-server is never started
#     on the socket): the summary follows the alerts written to stderr, the
#     tls events are counted, the drain bound (2 s) is waited and stated;
#   - Redis killed in the middle of a run and never back: what came before
#     is in Redis, what came after is counted, exit 2;
#   - syslog: lines reach a log socket (a datagram socket this script binds)
#     as RFC 3164 messages carrying the JSON; with no socket there (no
#     /dev/log), the start says so, every event is counted, exit 2.
# CERTSENTRY names the binary (default ./certsentry).
set -u
cd "$(dirname "$0")/.."
bin=${CERTSENTRY:-./certsentry}
py=/usr/bin/python3
rules=pcaps/test.rules
multi=pcaps/multi.pcap
tmp=$(mktemp -d)
pids=()
mnt=""
cleanup() {
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	[ -n "$mnt" ] && umount "$mnt" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

check() {   # check NAME CONDITION-STATUS [details]
	if [ "$2" -eq 0 ]; then echo "ok delivery $1"; else echo "not ok delivery $1 ${3:-}"; fi
}
count() { $py tests/evetool.py count "$1" "$2"; }
# found, delivered and undelivered from the summary's "  output:" line
figures() {
	sed -n 's/^  output: [^:]*: \([0-9]*\) events found (\([0-9]*\) alerts), \([0-9]*\) delivered.*, \([0-9]*\) undelivered.*/\1 \2 \3 \4/p' "$1"
}

# The reference: the same capture with room everywhere.
$bin -R "$rules" -r "$multi" -o "$tmp/ref.json" 2> "$tmp/ref.err"; rc=$?
nref=$(wc -l < "$tmp/ref.json")
aref=$(count "$tmp/ref.json" alert)
grep -q "^  output: file: $nref events found ($aref alerts), all delivered$" "$tmp/ref.err"
check "a run with room: $nref events ($aref alerts), all delivered, exit 1" $(( rc != 1 || $? ))

# The stats event carries the delivery so far (the events before it).
$bin -q -R "$rules" -r "$multi" --stats-interval 60 -o "$tmp/st.json"
$py - "$tmp/st.json" "$nref" "$aref" <<'PY'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
d = [e for e in ev if e["event_type"] == "stats"][-1]["certsentry"]["delivery"]
n, a = int(sys.argv[2]), int(sys.argv[3])
ok = (d["found"] == n and d["alerts_found"] == a and d["delivered"] == n and d["undelivered"] == 0
      and set(d["undelivered_by_reason"]) == {"write_error", "queue_full", "out_of_memory", "at_exit"})
print(("ok" if ok else "not ok") + " delivery stats event: certsentry.delivery %s" % d)
PY

# 40 copies of the capture, each one new flows with alerts of their own:
# more lines than a pipe holds.
$py -c 'import sys; sys.path.insert(0, "tests"); from pcapgen import copies; copies(*sys.argv[1:3], int(sys.argv[3]))' \
	"$multi" "$tmp/c40" 40
$bin -R "$rules" -r "$tmp/c40.pcap" --alert-window 0 -o "$tmp/roomy.json" 2> /dev/null
nroom=$(wc -l < "$tmp/roomy.json")
aroom=$(count "$tmp/roomy.json" alert)

# ---- standard output closed ---------------------------------------------

$bin -R "$rules" -r "$multi" >&- 2> "$tmp/closed.err"; rc=$?
head=$(grep -m1 '^certsentry: [0-9]* packets' "$tmp/closed.err")
stderr_alerts=$(grep -c '^certsentry: undelivered alert (write error): {' "$tmp/closed.err")
check "stdout closed: the summary counts the $aref alerts found (\"$head\")" \
	$(echo "$head" | grep -q ", $aref alerts$"; echo $?)
check "stdout closed: each alert on stderr ($stderr_alerts), exit 2" \
	$(( rc != 2 || stderr_alerts != aref )) "rc=$rc"
grep -q "^certsentry: standard output is closed" "$tmp/closed.err"
check "stdout closed: said at start" $?
grep -q "^certsentry: $nref of $nref events found ($aref of $aref alerts) were not delivered to the stdout output" "$tmp/closed.err"
check "stdout closed: the last line says what was not delivered" $? "$(tail -1 "$tmp/closed.err")"

# ---- a reader that goes away ----------------------------------------------

$bin -R "$rules" -r "$tmp/c40.pcap" --alert-window 0 2> "$tmp/pipe.err" | head -c 100 > /dev/null
rc=${PIPESTATUS[0]}
read -r found fa deliv undeliv < <(figures "$tmp/pipe.err")
check "broken pipe: no death by SIGPIPE, exit 2 (got $rc)" $(( rc != 2 ))
check "broken pipe: summary $found found = $deliv delivered + $undeliv undelivered, found as with room" \
	$(( ${found:-0} != nroom || ${fa:-0} != aroom || deliv + undeliv != found || undeliv == 0 ))
grep -q "last error: Broken pipe" "$tmp/pipe.err"
check "broken pipe: the reason is said" $?

# ---- a full file system ------------------------------------------------------

if [ "$(id -u)" -eq 0 ] && mkdir "$tmp/full" && mount -t tmpfs -o size=256k tmpfs "$tmp/full"; then
	mnt=$tmp/full
	$bin -R "$rules" -r "$tmp/c40.pcap" --alert-window 0 -o "$mnt/eve.json" 2> "$tmp/full.err"
	rc=$?
	head=$(grep -m1 '^certsentry: [0-9]* packets' "$tmp/full.err")
	read -r found fa deliv undeliv < <(figures "$tmp/full.err")
	check "full file system: the summary counts the $aroom alerts found (\"$head\")" \
		$(echo "$head" | grep -q ", $aroom alerts$"; echo $?)
	check "full file system: $found found = $deliv delivered + $undeliv undelivered, exit 2" \
		$(( rc != 2 || undeliv == 0 || deliv + undeliv != found || fa != aroom )) "rc=$rc"
	grep -q "last error: No space left on device" "$tmp/full.err"
	check "full file system: the reason is said" $?
	# What was written is whole lines: a line cut by the full disk was cut back.
	n=$(wc -l < "$mnt/eve.json")
	check "full file system: the $n lines written are whole ($deliv delivered)" \
		$(( n != deliv )) "$(tail -c 100 "$mnt/eve.json" | od -c | tail -3)"
	umount "$mnt" && mnt=""
else
	echo "ok delivery full file system # skip (needs root and tmpfs)"
fi

# ---- Redis absent for the whole run, and killed mid-run ------------------------

if command -v redis-server > /dev/null && command -v redis-cli > /dev/null; then
	t0=$(date +%s%N)
	$bin -R "$rules" -r "$multi" --output-type redis -o "$tmp/none.sock" 2> "$tmp/none.err"
	rc=$?
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	read -r found fa deliv undeliv < <(figures "$tmp/none.err")
	check "redis absent: $found found ($fa alerts), $deliv delivered, $undeliv undelivered, exit 2" \
		$(( rc != 2 || found != nref || fa != aref || deliv != 0 || undeliv != nref )) "rc=$rc"
	last_alert=$(grep -n '^certsentry: undelivered alert' "$tmp/none.err" | tail -1 | cut -d: -f1)
	summary=$(grep -n '^certsentry: [0-9]* packets' "$tmp/none.err" | cut -d: -f1)
	check "redis absent: the summary (line $summary) follows the undelivered alerts (last at $last_alert)" \
		$(( ${summary:-0} <= ${last_alert:-99999} ))
	grep -q "consumer away at exit $nref, $aref of them alerts.*waited [0-9]* ms of at most 2000" "$tmp/none.err"
	check "redis absent: the reason and the drain bound are stated" $? "$(grep '^  output:' "$tmp/none.err")"
	check "redis absent: the drain bound was waited (${ms} ms >= 2000)" $(( ms < 2000 ))

	# Killed mid-run and never back: the capture fed through a FIFO in two
	# halves, the server killed in between.
	redis-server --port 0 --unixsocket "$tmp/k.sock" --dir "$tmp" --save '' --appendonly no \
		> "$tmp/k.log" 2>&1 3>&- &
	rpid=$!
	pids+=("$rpid")
	for _ in $(seq 200); do redis-cli -s "$tmp/k.sock" PING 2>/dev/null | grep -q PONG && break; sleep 0.025; done
	$py - "$multi" "$tmp/h1.pcap" "$tmp/h2.pcap" <<'PY'
import sys
data = open(sys.argv[1], "rb").read()
import struct
hdr, body, off, recs = data[:24], data[24:], 0, []
while off + 16 <= len(body):
    incl = struct.unpack("<I", body[off + 8:off + 12])[0]
    recs.append(body[off:off + 16 + incl]); off += 16 + incl
half = len(recs) // 2
open(sys.argv[2], "wb").write(hdr + b"".join(recs[:half]))
open(sys.argv[3], "wb").write(b"".join(recs[half:]))
PY
	mkfifo "$tmp/fifo"
	$bin -R "$rules" -r - --output-type redis -o "$tmp/k.sock" < "$tmp/fifo" > /dev/null 2> "$tmp/k.err" &
	cs=$!
	pids+=("$cs")
	exec 3> "$tmp/fifo"
	cat "$tmp/h1.pcap" >&3
	# Wait until the first half's events are in Redis, then kill it.
	for _ in $(seq 200); do
		[ "$(redis-cli -s "$tmp/k.sock" LLEN certsentry 2>/dev/null)" -gt 0 ] 2>/dev/null && break
		sleep 0.025
	done
	sleep 0.3
	got=$(redis-cli -s "$tmp/k.sock" LLEN certsentry)
	kill -9 "$rpid"; wait "$rpid" 2>/dev/null
	cat "$tmp/h2.pcap" >&3
	exec 3>&-
	wait "$cs"; rc=$?
	read -r found fa deliv undeliv < <(figures "$tmp/k.err")
	check "redis killed mid-run: $deliv delivered (Redis had $got) + $undeliv undelivered = $found found, exit 2" \
		$(( rc != 2 || deliv != got || undeliv == 0 || deliv + undeliv != found || found != nref || fa != aref )) \
		"rc=$rc $(grep '^  output' "$tmp/k.err")"
else
	echo "ok delivery redis # skip (redis-server missing)"
fi

# ---- syslog ----------------------------------------------------------------------

cat > "$tmp/logd.py" <<'PY'
import os, socket, sys
path, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
open(path + ".ready", "w").close()
s.settimeout(5)
with open(out, "wb") as f:
    while True:
        try:
            d = s.recv(1 << 20)
        except socket.timeout:
            break
        f.write(d + b"\n")
        f.flush()
PY
$py "$tmp/logd.py" "$tmp/log.sock" "$tmp/log.txt" &
pids+=($!)
for _ in $(seq 200); do [ -e "$tmp/log.sock.ready" ] && break; sleep 0.025; done
$bin -R "$rules" -r "$multi" --output-type syslog -o "$tmp/log.sock" 2> "$tmp/sl.err"; rc=$?
sleep 0.2
n=$(grep -c '^<[0-9]*>[A-Z][a-z][a-z] [ 0-9][0-9] [0-9:]* certsentry\[[0-9]*\]: {' "$tmp/log.txt")
a=$(grep -c '^<172>.*"event_type":"alert"' "$tmp/log.txt")   # local5.warning
check "syslog: $n of $nref events reached the log socket as RFC 3164 messages, $a alerts at local5.warning, exit 1" \
	$(( rc != 1 || n != nref || a != aref )) "rc=$rc $(head -c 300 "$tmp/log.txt")"
sed 's/^<[0-9]*>[^{]*//' "$tmp/log.txt" | grep '^{' > "$tmp/log.json"
../shared/eve/validate "$tmp/log.json" > /dev/null 2>&1
check "syslog: the messages are valid EVE" $?

$bin -R "$rules" -r "$multi" --output-type syslog -o "$tmp/nolog.sock" 2> "$tmp/nolog.err"; rc=$?
grep -q "^certsentry: syslog output $tmp/nolog.sock: no consumer there yet (No such file or directory)" "$tmp/nolog.err"
said=$?
read -r found fa deliv undeliv < <(figures "$tmp/nolog.err")
check "syslog without a log socket: said at start, $undeliv of $found undelivered, exit 2" \
	$(( rc != 2 || said != 0 || found != nref || undeliv != nref )) "rc=$rc $(head -2 "$tmp/nolog.err")"
if [ ! -e /dev/log ]; then
	$bin -q -R "$rules" -r "$multi" --output-type syslog 2> "$tmp/devlog.err"; rc=$?
	grep -q "^certsentry: syslog output /dev/log: no consumer there yet" "$tmp/devlog.err"
	check "syslog with no /dev/log (the default): said, exit 2 even with -q" $(( rc != 2 || $? ))
fi
exit 0
