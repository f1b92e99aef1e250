#!/usr/bin/env bash
# --workers N with -r (sensor/run/dispatch.c): the reader hands each flow to
# one of N engines, and the result must be that of one engine.  For every
# capture of the test corpus, --workers 2 and 3 against --workers 1:
#   - the same EVE events, as a multiset (workers write in their own
#     order), every field compared but flow_id (below);
#   - the same exit status;
#   - the same summary on stderr, lines sorted (alert rows come per
#     worker), with "peak flow memory" left out (below).
# Then the same over several -r in one run (time running backwards from
# one file to the next), over a long run that wraps a ring, the EVE stats
# event at exit; a worker that cannot make its engine; an alert read from
# a pipe that stays open comes out before the end; and the EVE schema on
# every line written.
#
# Normalised, and why:
#   flow_id: a SipHash of the flow key under a key each engine draws at
#     start-up, so it differs between engines (and between runs, even with
#     one worker).  Instead the events of one flow key must share one
#     flow_id, and distinct flow keys not share one: that is checked.
#   peak flow memory: each worker's peak, summed (stats_add), an upper
#     bound of what N engines held at once; one engine's peak is not.
# Not normalised: timestamps.  They are packet times and come out equal,
# but for one case the corpus lacks: a flow ended by --flow-timeout is
# reported when its own worker next sees a packet (or at the end), not at
# another flow's packet, so its timestamp may be later.
set -u
cd "$(dirname "$0")/.."
bin=${CERTSENTRY:-./certsentry}
py=/usr/bin/python3
rules=pcaps/test.rules
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Events without flow_id, sorted; a line "flow_id mismatch ..." when the
# events of one flow key carry different ids or two flow keys one id (the
# same key in several files is one flow to one engine).
cat > "$tmp/norm.py" <<'PY'
import json, sys
ids, tuples, out = {}, {}, []
for line in open(sys.argv[1]):
    ev = json.loads(line)
    fid = ev.pop("flow_id", None)
    if fid is not None and ev.get("event_type") != "stats":
        # the flow key: both endpoints in either order, VLAN ids
        ends = sorted([(str(ev.get("src_ip")), str(ev.get("src_port"))),
                       (str(ev.get("dest_ip")), str(ev.get("dest_port")))])
        t = (tuple(ends), str(ev.get("vlan")))
        if ids.setdefault(t, fid) != fid or tuples.setdefault(fid, t) != t:
            out.append(f"flow_id mismatch: {t}")
    if ev.get("event_type") == "stats":
        # wall-clock fields; alert rows in the order the workers are summed
        ev.pop("timestamp", None)
        ev["stats"].pop("uptime", None)
        # each worker has its own chain cache: a chain two workers see is
        # parsed by both
        for k in ("chain_cache_hits", "chain_cache_misses"):
            ev["certsentry"].pop(k, None)
        ev["certsentry"]["limits"].pop("chain_cache_evictions", None)
        ev["certsentry"]["alerts_by_owner"].sort(key=lambda a: (a["owner"], a["verdict"]))
    out.append(json.dumps(ev, sort_keys=True))
print("\n".join(sorted(out)))
PY

# Workers judge flows in parallel: which of several sightings of one alert
# key opens its window (and which tls event of a chain carries the
# certificates in full) is whichever worker gets there first.  Every line
# is compared here, so every alert and certificate is written (t_feed.sh
# tests the windows themselves).
feed=(--alert-window 0 --cert-log every)

# run NAME WORKERS ARGS...: $tmp/NAME.WORKERS.{eve,err,rc}, normalised
# events in .ev and the summary in .sum.
run() {
	local name=$1 w=$2 base
	shift 2
	base="$tmp/$name.$w"
	"$bin" -R "$rules" --workers "$w" "${feed[@]}" "$@" -o "$base.eve" 2>"$base.err"
	echo $? > "$base.rc"
	[ -f "$base.eve" ] || : > "$base.eve"
	$py "$tmp/norm.py" "$base.eve" > "$base.ev"
	sed -E -e 's/peak flow memory [0-9]+/peak flow memory -/' \
	       -e 's/^  chain cache: .*/  chain cache: (per worker)/' "$base.err" | sort > "$base.sum"
}

# compare NAME WORKERS: one ok / not ok line against NAME.1.
compare() {
	local name=$1 w=$2 a="$tmp/$1.1" b="$tmp/$1.$2" why=""
	case $(cat "$a.rc") in 0|1) ;; *) why="--workers 1 itself failed: $(head -1 "$a.err"); " ;; esac
	cmp -s "$a.rc" "$b.rc" || why="${why}exit $(cat "$b.rc"), want $(cat "$a.rc"); "
	cmp -s "$a.ev" "$b.ev" || why="${why}events differ; "
	cmp -s "$a.sum" "$b.sum" || why="${why}summary differs; "
	grep -q "flow_id mismatch" "$b.ev" && why="${why}flow_id of a connection not unique; "
	if [ -z "$why" ]; then
		echo "ok workers $name: --workers $w as 1 ($(wc -l < "$b.eve") events, exit $(cat "$b.rc"))"
	else
		echo "not ok workers $name: --workers $w: $why"
		diff "$a.ev" "$b.ev" | head -6 | cut -c1-300 | sed 's/^/# /'
		diff "$a.sum" "$b.sum" | head -6 | sed 's/^/# /'
	fi
}

n=0
for f in pcaps/*.pcap pcaps/evasion/*.pcap pcaps/encap/*.pcap; do
	name=$(echo "${f#pcaps/}" | tr '/' '_')
	for w in 1 2 3; do
		run "$name" "$w" -r "$f"
	done
	compare "$name" 2
	compare "$name" 3
	n=$((n + 1))
done
[ "$n" -ge 40 ] && echo "ok workers corpus: $n captures" || echo "not ok workers corpus: only $n captures"

# Several -r in one run: every capture, after a copy of multi.pcap moved
# 1000 s later, so the capture clock runs backwards into the next file.
# One engine then expires idle flows against the later clock; a worker
# that never saw the later packets must do the same (dispatch.c "Time").
$py - pcaps/multi.pcap "$tmp/later.pcap" <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read()
out, off = bytearray(data[:24]), 24
endian = "<" if data[:4] == b"\xd4\xc3\xb2\xa1" else ">"
while off + 16 <= len(data):
    sec, usec, incl, orig = struct.unpack(endian + "IIII", data[off:off + 16])
    out += struct.pack(endian + "IIII", sec + 1000, usec, incl, orig) + data[off + 16:off + 16 + incl]
    off += 16 + incl
open(sys.argv[2], "wb").write(out)
PY
multi=(-r "$tmp/later.pcap")
for f in pcaps/*.pcap pcaps/evasion/*.pcap pcaps/encap/*.pcap; do multi+=(-r "$f"); done
for w in 1 2 3; do run several "$w" "${multi[@]}"; done
compare several 2
compare several 3

# A long run: 60 copies of a capture of one-byte segments, ~8 MB of ring
# records for one worker, so its ring wraps and fills (the reader waits),
# while the other workers see only the file changes.
long=()
for i in $(seq 60); do long+=(-r pcaps/evasion/one-byte-segments.pcap); done
for w in 1 2 3; do run long "$w" "${long[@]}"; done
compare long 2
compare long 3

# The EVE stats event at exit sums the workers' counters and alert rows.
for w in 1 2 3; do run stats "$w" --stats-interval 60 -r pcaps/multi.pcap -r pcaps/evasion/ip-fragments.pcap; done
compare stats 2
compare stats 3
if grep -q '"event_type": "stats"' "$tmp/stats.2.ev"; then
	echo "ok workers stats event written"
else
	echo "not ok workers stats event written"
fi

# A worker that cannot make its engine: under a 1.6 GB address-space
# limit a 1 GB flow table fits once (engine 0's, made first), not twice.
# The run goes on: worker 0's flows are inspected and reported as one
# engine reports them, worker 1's are not, the summary says so and the
# exit status is 2.  Not under ASan, whose shadow memory alone needs more
# address space than the limit.
if [ -z "${SANITIZED:-}" ]; then
	(ulimit -v 1600000
	 exec "$bin" -R "$rules" --workers 2 --max-flows 134217728 "${feed[@]}" "${multi[@]}" \
		-o "$tmp/nomem.eve" 2>"$tmp/nomem.err")
	rc=$?
	$py "$tmp/norm.py" "$tmp/nomem.eve" > "$tmp/nomem.ev"
	got=$(wc -l < "$tmp/nomem.ev")
	all=$(wc -l < "$tmp/several.1.ev")
	extra=$(comm -23 "$tmp/nomem.ev" "$tmp/several.1.ev" | wc -l)
	if [ "$rc" = 2 ] && [ "$got" -gt 0 ] && [ "$got" -lt "$all" ] && [ "$extra" = 0 ] &&
	   grep -q "worker 1: out of memory: its flows were not inspected" "$tmp/nomem.err"; then
		echo "ok workers engine failure: exit 2, worker 0's $got of $all events"
	else
		echo "not ok workers engine failure: exit $rc, $got of $all events, $extra not of one engine"
		head -3 "$tmp/nomem.err" | sed 's/^/# /'
	fi
fi

# A pipe that trickles (tcpdump -w - | certsentry -r -): the reader blocks
# in read() with less than a batch written; a decided alert must still
# come out before the input ends (dispatch.c, DISPATCH_IDLE_MS).
mkfifo "$tmp/fifo"
$py -c 'import sys, time
sys.stdout.buffer.write(open(sys.argv[1], "rb").read()); sys.stdout.flush(); time.sleep(20)' \
	pcaps/fina-rogue-doh.pcap > "$tmp/fifo" &
writer=$!
"$bin" -q -R "$rules" --workers 2 -r - -o "$tmp/pipe.eve" < "$tmp/fifo" &
reader=$!
found=0
for i in $(seq 75); do
	grep -q '"event_type":"alert"' "$tmp/pipe.eve" 2>/dev/null && { found=1; break; }
	sleep 0.2
done
kill "$writer" 2>/dev/null
wait "$writer" 2>/dev/null
wait "$reader"
rc=$?
if [ "$found" = 1 ] && [ "$rc" = 1 ]; then
	echo "ok workers pipe: the alert comes out while the input is still open"
else
	echo "not ok workers pipe: alert seen before the end $found, exit $rc"
fi

# Every line any run wrote passes the schema.
cat "$tmp"/*.eve > "$tmp/all.json"
if ../shared/eve/validate "$tmp/all.json" > "$tmp/validate.txt" 2>&1; then
	echo "ok workers EVE schema: $(tail -1 "$tmp/validate.txt")"
else
	echo "not ok workers EVE schema"
	head -20 "$tmp/validate.txt" | sed 's/^/# /'
fi
