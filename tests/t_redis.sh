#!/usr/bin/env bash
# Redis output (--output-type redis) end to end, against redis-servers this
# script starts itself on Unix sockets in a temporary directory (and one on
# 127.0.0.1 at a free high port), never a server or port anyone else uses.
# Checks:
#   - every mode delivers exactly the events -o FILE gets for the same
#     capture, in order: list (LPUSH, the default; read newest first),
#     rpush (with a "unix:" target and --redis-key), channel (a SUBSCRIBE
#     reader started first), stream (XADD with the field "event"), and the
#     stream trimmed by --redis-maxlen (MAXLEN ~); HOST:PORT over TCP;
#   - a malformed target is refused at start (exit 2, the reason said);
#   - AUTH (--redis-auth, a password with a space): the right password
#     delivers; a wrong one and none at all are said once on standard error,
#     nothing is written and every alert goes to standard error at exit;
#   - a server killed in the middle of a run and started again: certsentry
#     reads the capture from a FIFO fed in three parts (the server is killed
#     after the first, started again after the second); every event arrives,
#     in order, none twice, and the alerts equal those of -o FILE; the
#     third part's lines arrive before the input ends (a reconnect during
#     the run, not only at exit);
#   - a queue overflow while the server is away (1200 events, the queue
#     holds 1024): every alert is kept, exactly the tls events the queue
#     rule says are dropped (simulated from the -o FILE lines and their
#     sizes), and the rest arrive when the server comes, at exit;
#   - every line received from Redis passes ../shared/eve/validate;
#   - tests/redis_consumer.sh (docs/outputs.md's example of two sensors and a
#     consumer group) runs and counts each sensor's events.
# The output counters (output_queued, output_dropped, output_disconnects,
# output_reconnects) are checked exactly by build/tests/test_output; the
# summary is searched for an "  output:" line and its figures checked when
# main.c prints one.
# CERTSENTRY names the binary (default ./certsentry).
set -u
cd "$(dirname "$0")/.."
bin=${CERTSENTRY:-./certsentry}
py=/usr/bin/python3
rules=pcaps/test.rules
multi=pcaps/multi.pcap
for t in redis-server redis-cli; do
	command -v "$t" >/dev/null || { echo "# redis: skipped ($t missing)"; exit 0; }
done
tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

check() {   # check NAME CONDITION-STATUS [details]
	if [ "$2" -eq 0 ]; then echo "ok redis $1"; else echo "not ok redis $1 ${3:-}"; fi
}

# Helpers: copies of a capture, feeding a FIFO, the queue rule.
cat > "$tmp/rt.py" <<'PY'
import fcntl, json, os, struct, sys, termios, time
sys.path.insert(0, "tests")
from pcapgen import fold, wsum, read_pcap, copies

def feed(path, pid):
    """Write the file to fd 3 (a FIFO certsentry reads), then wait until it
    has read all of it and sits in read(2) on the FIFO again: everything
    fed has been processed."""
    with open(path, "rb") as f:
        data = f.read()
    while data:
        data = data[os.write(3, data):]
    idle, until = 0, time.time() + 60
    while idle < 3 and time.time() < until:
        time.sleep(0.02)
        buf = fcntl.ioctl(3, termios.FIONREAD, b"\0\0\0\0")
        left = struct.unpack("i", buf)[0]
        try:
            sc = open("/proc/%s/syscall" % pid).read().split()
            # read(2) on the FIFO, whichever descriptor certsentry holds it on
            reading = (len(sc) > 1 and sc[0] == "0" and
                       os.stat("/proc/%s/fd/%d" % (pid, int(sc[1], 16))).st_ino == os.fstat(3).st_ino)
        except (OSError, ValueError):
            return
        idle = idle + 1 if left == 0 and reading else 0

def simulate(path, max_lines, max_bytes):
    """What sink.c's queue keeps of these lines when nothing can be written:
    prints the kept lines to kept.json, then "dropped N alerts_stderr N"."""
    lines = [l.rstrip("\n") for l in open(path) if l.strip()]
    q, nbytes, dropped, stderr = [], 0, 0, 0
    def full(n, b, ln):
        return n >= max_lines or b > max_bytes or ln > max_bytes - b
    for l in lines:
        alert = json.loads(l)["event_type"] == "alert"
        ln = len(l.encode())
        if full(len(q), nbytes, ln):
            free_n = sum(1 for a, _ in q if not a)
            free_b = sum(len(x.encode()) for a, x in q if not a)
            if not alert or full(len(q) - free_n, nbytes - free_b, ln):
                if alert:
                    stderr += 1
                else:
                    dropped += 1
                continue
            while full(len(q), nbytes, ln):
                i = next(i for i, (a, _) in enumerate(q) if not a)
                nbytes -= len(q[i][1].encode())
                del q[i]
                dropped += 1
        q.append((alert, l))
        nbytes += ln
    with open(os.path.join(os.path.dirname(path), "kept.json"), "w") as o:
        o.write("".join(x + "\n" for _, x in q))
    print("dropped %d alerts_stderr %d" % (dropped, stderr))

cmd = sys.argv[1]
if cmd == "copies":
    copies(sys.argv[2], sys.argv[3], int(sys.argv[4]))
elif cmd == "feed":
    feed(sys.argv[2], sys.argv[3])
elif cmd == "simulate":
    simulate(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
PY

# rstart NAME [redis-server options]: a server on $tmp/NAME.sock, its pid
# in $rpid.
rstart() {
	local name=$1
	shift
	redis-server --port 0 --unixsocket "$tmp/$name.sock" --dir "$tmp" --save '' \
		--appendonly no --daemonize no "$@" > "$tmp/$name.log" 2>&1 3>&- &
	rpid=$!
	pids+=("$rpid")
	for _ in $(seq 200); do
		redis-cli -s "$tmp/$name.sock" PING 2>&1 | grep -q -e PONG -e NOAUTH && return 0
		sleep 0.025
	done
	echo "not ok redis: redis-server $name did not start"
	sed 's/^/# /' "$tmp/$name.log" | tail -5
	return 1
}
rkill() {
	kill -9 "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}
norm() { $py tests/evetool.py normalize "$1"; }
count() { $py tests/evetool.py count "$1" "$2"; }
# The summary's output counters, if main.c prints them ("  output: ...").
summary_counter() {   # summary_counter FILE NAME: the number before/after NAME
	sed -n 's/^  output queue:.*[ ,]'"$2"' \([0-9]*\).*/\1/p' "$1" | head -1
}

# The reference: the same capture into a file.
$bin -q -R "$rules" -r "$multi" -o "$tmp/ref.json"
norm "$tmp/ref.json" > "$tmp/ref.n"
nref=$(wc -l < "$tmp/ref.json")
aref=$(count "$tmp/ref.json" alert)

rstart main || exit 0
S=$tmp/main.sock
rcli() { redis-cli -s "$S" "$@"; }

# ---- the modes -------------------------------------------------------------

$bin -q -R "$rules" -r "$multi" --output-type redis -o "$S" 2> "$tmp/err"; rc=$?
rcli LRANGE certsentry 0 -1 | tac > "$tmp/list.json"
norm "$tmp/list.json" | cmp -s - "$tmp/ref.n"; same=$?
check "list (LPUSH, key certsentry): the events of -o FILE ($nref), newest first" \
	$(( rc != 1 || same != 0 )) "rc=$rc $(head -3 "$tmp/err")"
check "list: nothing on standard error" $([ ! -s "$tmp/err" ]; echo $?) "$(head -3 "$tmp/err")"
cat "$tmp/list.json" >> "$tmp/all.eve"

$bin -q -R "$rules" -r "$multi" --output-type redis -o "unix:$S" --redis-mode rpush \
	--redis-key cs:rpush 2> "$tmp/err"; rc=$?
rcli LRANGE cs:rpush 0 -1 > "$tmp/rpush.json"
norm "$tmp/rpush.json" | cmp -s - "$tmp/ref.n"
check "rpush, -o unix:PATH, --redis-key: the events in order" $(( rc != 1 || $? )) "rc=$rc"
cat "$tmp/rpush.json" >> "$tmp/all.eve"

# redis-cli itself in the background (not a function's subshell), so that
# the kill below ends it.
redis-cli -s "$S" SUBSCRIBE cs:chan > "$tmp/sub.out" 2>&1 &
sub=$!
pids+=("$sub")
for _ in $(seq 200); do
	[ "$(rcli PUBSUB NUMSUB cs:chan | tail -1)" = 1 ] && break
	sleep 0.025
done
$bin -q -R "$rules" -r "$multi" --output-type redis -o "$S" --redis-mode channel \
	--redis-key cs:chan 2> "$tmp/err"; rc=$?
for _ in $(seq 200); do
	[ "$(grep -c '^{' "$tmp/sub.out")" -ge "$nref" ] && break
	sleep 0.025
done
rkill "$sub"
grep '^{' "$tmp/sub.out" > "$tmp/chan.json"
norm "$tmp/chan.json" | cmp -s - "$tmp/ref.n"
check "channel (PUBLISH): a subscriber gets the events in order" $(( rc != 1 || $? )) \
	"rc=$rc got $(wc -l < "$tmp/chan.json")"
cat "$tmp/chan.json" >> "$tmp/all.eve"

$bin -q -R "$rules" -r "$multi" --output-type redis -o "$S" --redis-mode stream \
	--redis-key cs:stream 2> "$tmp/err"; rc=$?
xlen=$(rcli XLEN cs:stream)
rcli XRANGE cs:stream - + > "$tmp/xrange"
grep '^{' "$tmp/xrange" > "$tmp/stream.json"
fields=$(grep -c '^event$' "$tmp/xrange")
norm "$tmp/stream.json" | cmp -s - "$tmp/ref.n"
check "stream (XADD): XLEN $xlen, one field \"event\" an entry, the events in order" \
	$(( rc != 1 || xlen != nref || fields != nref || $? )) "rc=$rc xlen=$xlen fields=$fields"
cat "$tmp/stream.json" >> "$tmp/all.eve"

# Three copies (36 events) into a stream of MAXLEN ~ 5: Redis trims whole
# nodes, made 4 entries small here, so 5..8 entries remain, the newest.
$py "$tmp/rt.py" copies "$multi" "$tmp/c3" 3
$bin -q -R "$rules" -r "$tmp/c3.pcap" -o "$tmp/ref3.json"
n3=$(wc -l < "$tmp/ref3.json")
rcli CONFIG SET stream-node-max-entries 4 > /dev/null
$bin -q -R "$rules" -r "$tmp/c3.pcap" --output-type redis -o "$S" --redis-mode stream \
	--redis-key cs:trim --redis-maxlen 5 2> "$tmp/err"; rc=$?
xlen=$(rcli XLEN cs:trim)
rcli XRANGE cs:trim - + | grep '^{' > "$tmp/trim.json"
norm "$tmp/trim.json" > "$tmp/trim.n"
norm "$tmp/ref3.json" | tail -n "$xlen" | cmp -s - "$tmp/trim.n"
check "stream --redis-maxlen 5: $n3 events trimmed to the newest $xlen" \
	$(( rc != 1 || xlen < 5 || xlen > 8 || $? )) "rc=$rc xlen=$xlen"

# HOST:PORT: a server on 127.0.0.1 at a port free a moment ago.
port=$($py -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
if rstart tcp --port "$port" --bind 127.0.0.1; then
	$bin -q -R "$rules" -r "$multi" --output-type redis -o "127.0.0.1:$port" \
		--redis-mode rpush 2> "$tmp/err"; rc=$?
	redis-cli -s "$tmp/tcp.sock" LRANGE certsentry 0 -1 > "$tmp/tcp.json"
	norm "$tmp/tcp.json" | cmp -s - "$tmp/ref.n"
	check "TCP 127.0.0.1:$port: the events" $(( rc != 1 || $? )) "rc=$rc $(head -3 "$tmp/err")"
	rkill "$rpid"
fi

$bin -q -r "$multi" --output-type redis -o "127.0.0.1:99999" > /dev/null 2> "$tmp/err"; rc=$?
grep -q 'cannot open redis output: bad port "99999"' "$tmp/err"
check "a bad port is refused at start (exit 2)" $(( rc != 2 || $? )) "rc=$rc $(cat "$tmp/err")"

# ---- AUTH ------------------------------------------------------------------

if rstart auth --requirepass 's3cret pass'; then
	A=$tmp/auth.sock
	acli() { redis-cli -s "$A" -a 's3cret pass' --no-auth-warning "$@"; }
	printf 's3cret pass\n' > "$tmp/pw.ok"
	printf 'wrong\n' > "$tmp/pw.bad"
	$bin -q -R "$rules" -r "$multi" --output-type redis -o "$A" --redis-auth "$tmp/pw.ok" \
		2> "$tmp/err"; rc=$?
	n=$(acli LLEN certsentry)
	check "AUTH with the right password: $n events, nothing on stderr" \
		$(( rc != 1 || n != nref || $(wc -c < "$tmp/err") != 0 )) "rc=$rc $(head -3 "$tmp/err")"
	acli LRANGE certsentry 0 -1 >> "$tmp/all.eve"
	acli DEL certsentry > /dev/null

	$bin -q -R "$rules" -r "$multi" --output-type redis -o "$A" --redis-auth "$tmp/pw.bad" \
		2> "$tmp/err"; rc=$?
	n=$(acli LLEN certsentry)
	said=$(grep -c 'AUTH refused: WRONGPASS' "$tmp/err")
	lost=$(grep -c '^certsentry: undelivered alert (consumer away at exit): {' "$tmp/err")
	# Nothing delivered: exit status 2, and the last line says how much.
	check "AUTH with a wrong password: said once, nothing written, $lost alerts on stderr, exit 2" \
		$(( rc != 2 || n != 0 || said != 1 || lost != aref )) "rc=$rc n=$n said=$said lost=$lost"
	grep -q "^certsentry: $nref of $nref events found ($aref of $aref alerts) were not delivered to the redis output" "$tmp/err"
	check "AUTH with a wrong password: the undelivered events said in one line" $? "$(tail -2 "$tmp/err")"

	$bin -q -R "$rules" -r "$multi" --output-type redis -o "$A" 2> "$tmp/err"; rc=$?
	n=$(acli LLEN certsentry)
	said=$(grep -c 'LPUSH refused: NOAUTH' "$tmp/err")
	lost=$(grep -c '^certsentry: undelivered alert (consumer away at exit): {' "$tmp/err")
	check "no password for a server that wants one: NOAUTH said once, alerts on stderr, exit 2" \
		$(( rc != 2 || n != 0 || said != 1 || lost != aref )) "rc=$rc n=$n said=$said lost=$lost"
	rkill "$rpid"
fi

# ---- the server killed in the middle of a run ------------------------------

rstart kill || exit 0
K=$tmp/kill.sock
# What the server must have before it is killed, and before the input
# ends: what -o FILE holds at those moments when the same three parts are
# fed the same way (events are written as packet time decides them, the
# alert_repeat follow-ups at exit).
mkfifo "$tmp/fifo0"
$bin -q -R "$rules" -r - -o "$tmp/mid.json" < "$tmp/fifo0" &
cs=$!
pids+=("$cs")
exec 3> "$tmp/fifo0"
$py "$tmp/rt.py" feed "$tmp/c3.1" "$cs"
part=$(wc -l < "$tmp/mid.json")
$py "$tmp/rt.py" feed "$tmp/c3.2" "$cs"
away=$(( $(wc -l < "$tmp/mid.json") - part ))   # written while the server is away
$py "$tmp/rt.py" feed "$tmp/c3.3" "$cs"
two=$(wc -l < "$tmp/mid.json")
exec 3>&-
wait "$cs"
mkfifo "$tmp/fifo"
$bin -R "$rules" -r - --output-type redis -o "$K" --redis-mode rpush < "$tmp/fifo" \
	> /dev/null 2> "$tmp/kill.err" &
cs=$!
pids+=("$cs")
exec 3> "$tmp/fifo"
$py "$tmp/rt.py" feed "$tmp/c3.1" "$cs"
redis-cli -s "$K" LRANGE certsentry 0 -1 > "$tmp/kill1.json"
rkill "$rpid"                                   # lines from now on queue
$py "$tmp/rt.py" feed "$tmp/c3.2" "$cs"
rstart kill || exit 0
sleep 1.1                                       # the back-off (1 s) is over
$py "$tmp/rt.py" feed "$tmp/c3.3" "$cs"
mid=$(redis-cli -s "$K" LLEN certsentry)        # before the input ends
exec 3>&-
wait "$cs"; rc=$?
redis-cli -s "$K" LRANGE certsentry 0 -1 > "$tmp/kill2.json"
cat "$tmp/kill1.json" "$tmp/kill2.json" > "$tmp/kill.json"
norm "$tmp/kill.json" | cmp -s - <(norm "$tmp/ref3.json"); same=$?
n1=$(wc -l < "$tmp/kill1.json"); n2=$(wc -l < "$tmp/kill2.json")
a=$(count "$tmp/kill.json" alert); a3=$(count "$tmp/ref3.json" alert)
check "server killed and restarted mid-run: $n1 + $n2 events = -o FILE's $n3, in order, none twice" \
	$(( rc != 1 || same != 0 || n1 != part )) "rc=$rc n1=$n1 n2=$n2"
check "server killed and restarted mid-run: $a alerts, as -o FILE ($a3)" $(( a != a3 ))
# (the new server starts empty: what the first part delivered died with
# the old one and is in kill1.json)
check "the queue went out when the server came back, before the input ended ($part + $mid of $two)" \
	$(( part + mid != two ))
check "server killed mid-run: no undelivered alert on stderr" \
	$(grep -q 'undelivered alert' "$tmp/kill.err"; [ $? -ne 0 ]; echo $?)
cat "$tmp/kill.json" >> "$tmp/all.eve"
if grep -q '^  output queue:' "$tmp/kill.err"; then
	q=$(summary_counter "$tmp/kill.err" queued)
	d=$(summary_counter "$tmp/kill.err" disconnects)
	r=$(summary_counter "$tmp/kill.err" reconnects)
	dr=$(summary_counter "$tmp/kill.err" dropped)
	check "summary: queued $q (of $away), disconnects $d, reconnects $r, dropped $dr" \
		$(( q != away || d != 1 || r != 1 || dr != 0 )) "$(grep '^  output:' "$tmp/kill.err")"
else
	echo "# redis: the summary has no output line (main.c): counters checked in test_output"
fi
rkill "$rpid"

# ---- a queue overflow while the server is away -----------------------------

# 100 copies: 1200 events (400 alerts), more than the 1024 lines the queue
# holds.  The server is started only after certsentry has read everything,
# and the input closed after: output_close's last attempt delivers the queue.
# --alert-window 0: every copy's alerts are written (the default counts
# repeats instead), so that the rule "alerts kept before other events" is
# put to work by hundreds of alerts.
$py "$tmp/rt.py" copies "$multi" "$tmp/c100" 100
mkdir "$tmp/ovf"
$bin -q -R "$rules" -r "$tmp/c100.pcap" --alert-window 0 -o "$tmp/ovf/ref.json"
read -r _ want_drop _ want_stderr < <($py "$tmp/rt.py" simulate "$tmp/ovf/ref.json" 1024 4194304)
O=$tmp/ovf.sock
mkfifo "$tmp/fifo2"
$bin -R "$rules" -r - --alert-window 0 --output-type redis -o "$O" --redis-mode rpush < "$tmp/fifo2" \
	> /dev/null 2> "$tmp/ovf.err" &
cs=$!
pids+=("$cs")
exec 3> "$tmp/fifo2"
$py "$tmp/rt.py" feed "$tmp/c100.pcap" "$cs"
rstart ovf || exit 0
exec 3>&-
wait "$cs"; rc=$?
redis-cli -s "$O" LRANGE certsentry 0 -1 > "$tmp/ovf.json"
norm "$tmp/ovf.json" | cmp -s - <(norm "$tmp/ovf/kept.json"); same=$?
total=$(wc -l < "$tmp/ovf/ref.json")
got=$(wc -l < "$tmp/ovf.json")
a=$(count "$tmp/ovf.json" alert); aall=$(count "$tmp/ovf/ref.json" alert)
tls=$(count "$tmp/ovf.json" tls); tall=$(count "$tmp/ovf/ref.json" tls)
on_stderr=$(grep -c '^certsentry: undelivered alert' "$tmp/ovf.err")
# Events dropped are events found and not delivered: exit status 2.
check "overflow: all $a alerts of $aall kept, $tls tls events of $tall ($want_drop dropped), exit 2" \
	$(( rc != 2 || a != aall || tls + want_drop != tall || want_drop == 0 )) \
	"rc=$rc alerts=$a tls=$tls"
check "overflow: the queue kept exactly what its rule says ($got lines, in order)" $same
check "overflow: alerts on stderr $on_stderr (rule: $want_stderr)" $(( on_stderr != want_stderr ))
n=$(grep -c 'lines wait until it is up' "$tmp/ovf.err")
check "overflow: the server away at start is said once" $(( n != 1 )) "$n times"
if grep -q '^  output queue:' "$tmp/ovf.err"; then
	dr=$(summary_counter "$tmp/ovf.err" dropped)
	check "summary: dropped $dr (rule: $want_drop)" $(( dr != want_drop )) \
		"$(grep '^  output:' "$tmp/ovf.err")"
fi
rkill "$rpid"

# ---- every line from Redis passes the schema; the example runs -------------

if ../shared/eve/validate "$tmp/all.eve" > "$tmp/validate.txt" 2>&1; then
	echo "ok redis EVE schema: $(tail -1 "$tmp/validate.txt")"
else
	echo "not ok redis EVE schema: $(tail -1 "$tmp/validate.txt")"
	head -10 "$tmp/validate.txt" | sed 's/^/# /'
fi

CERTSENTRY=$bin bash tests/redis_consumer.sh > "$tmp/consumer.out" 2>&1; rc=$?
$bin -q -R "$rules" -r pcaps/fina-rogue-doh.pcap -o "$tmp/ref2.json"
n2=$(wc -l < "$tmp/ref2.json")
grep -q "^sensor pcaps/multi.pcap: $nref events" "$tmp/consumer.out" &&
grep -q "^sensor pcaps/fina-rogue-doh.pcap: $n2 events" "$tmp/consumer.out" &&
grep -q "acknowledged $((nref + n2)), pending 0" "$tmp/consumer.out"
check "tests/redis_consumer.sh: two sensors ($nref + $n2 events), one group reader" \
	$(( rc != 0 || $? )) "rc=$rc $(sed 's/^/# /' "$tmp/consumer.out")"
exit 0
