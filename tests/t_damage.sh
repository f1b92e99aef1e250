#!/usr/bin/env bash
# Damaged inputs (issue 27, items 1, 5 and 8): every capture is read up to
# its damage, from a file exactly as from standard input, and the next
# input is read; secrets before the damage count; the error names the file
# and the packet or byte; exit 2 at the end, the alerts found still
# written.  Key logs: regular files only, bounded, damage in the middle
# costs only the lines it spoils.  --bpf: applied to files, a filter that
# does not compile refused at start.  Default options everywhere else.
set -u
cd "$(dirname "$0")/.."
bin=${CERTSENTRY:-./certsentry}
py=/usr/bin/python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rules=pcaps/test.rules
rogue=pcaps/fina-rogue-doh.pcap
t13=pcaps/tls13
[ -x "$bin" ] || { echo "not ok damage: no binary $bin"; exit 1; }

check() {   # check NAME GOT WANT
	if [ "$2" = "$3" ]; then echo "ok damage $1"; else echo "not ok damage $1: got '$2', want '$3'"; fi
}
alerts() { $py tests/evetool.py count "$1" alert 2>/dev/null || echo 0; }
# Alerts found, from the summary (a repeat in an open window is an alert
# found but not a new alert event).
found() { sed -n 's/^certsentry: .* \([0-9]*\) alerts$/\1/p' "$tmp/$1.err"; }
decrypted() { $py tests/evetool.py tls13 "$1" 2>/dev/null; }

# run NAME ARGS...: $tmp/NAME.eve, .err, .rc; at most 20 s (a hang fails).
run() {
	local name=$1
	shift
	rm -f "$tmp/$name.eve"
	timeout 20 "$bin" -o "$tmp/$name.eve" "$@" 2>"$tmp/$name.err"
	echo $? >"$tmp/$name.rc"
	touch "$tmp/$name.eve"
}
rc() { cat "$tmp/$1.rc"; }

# ---- pcapng files made from the rogue capture -----------------------------------
# (editcap is not needed: the blocks are written here.)
$py - "$rogue" "$t13/rogue-embedded.pcapng" "$tmp" <<'PY'
import struct, sys
src, emb, out = sys.argv[1:4]
data = open(src, "rb").read()
recs, off = [], 24
while off < len(data):
    sec, usec, cap, wire = struct.unpack("<IIII", data[off:off + 16])
    recs.append((sec, usec, cap, wire, data[off + 16:off + 16 + cap]))
    off += 16 + cap

def block(t, body, e="<"):
    body += b"\0" * (-len(body) % 4)
    n = len(body) + 12
    return struct.pack(e + "II", t, n) + body + struct.pack(e + "I", n)

def shb(e="<"):
    return block(0x0A0D0D0A, struct.pack(e + "IHHq", 0x1A2B3C4D, 1, 0, -1), e)

def idb(e="<"):
    return block(1, struct.pack(e + "HHI", 1, 0, 65535), e)

def epb(r, e="<"):
    sec, usec, cap, wire, body = r
    ts = sec * 1000000 + usec
    return block(6, struct.pack(e + "IIIII", 0, ts >> 32, ts & 0xffffffff, cap, wire) + body, e)

def ng(e="<"):
    return shb(e) + idb(e) + b"".join(epb(r, e) for r in recs)

good = ng()
open(f"{out}/good.pcapng", "wb").write(good)
open(f"{out}/good-be.pcapng", "wb").write(ng(">"))
open(f"{out}/cut.pcapng", "wb").write(good[:len(good) - 50])
# The length of the 11th packet's block (after the SHB and the IDB) made odd.
off = 0
for n in range(12):
    off += struct.unpack("<II", good[off:off + 8])[1]
bad_at = off
bad = bytearray(good)
bad[bad_at + 4:bad_at + 8] = struct.pack("<I", 0x7ffffffd)
open(f"{out}/badlen.pcapng", "wb").write(bytes(bad))
print(bad_at, file=open(f"{out}/badlen.at", "w"))
# A giant (over the 16 MB limit) but well-formed-looking block length.
big = bytearray(good)
big[bad_at + 4:bad_at + 8] = struct.pack("<I", 0x20000000)
open(f"{out}/giant.pcapng", "wb").write(bytes(big))
# The TLS 1.3 capture with its secrets, garbage after its packets.
e = open(emb, "rb").read()
open(f"{out}/emb-garbage.pcapng", "wb").write(e + b"\x06\0\0\0\x10\0\0\0garbage!" * 3)
open(f"{out}/emb-cut.pcapng", "wb").write(e + block(6, b"\0" * 200)[:100])
# Classic pcap: cut in a record; a giant record length.
open(f"{out}/cut.pcap", "wb").write(data[:len(data) - 40])
open(f"{out}/giant.pcap", "wb").write(data + struct.pack("<IIII", 1, 0, 0x7fffffff, 0x7fffffff) + b"x" * 64)
PY
bad_at=$(cat "$tmp/badlen.at")

# The sound pcapng, both byte orders: the alert (the reader's baseline).
run good -R "$rules" -r "$tmp/good.pcapng"
check "pcapng read by certsentry's reader: the alert" "$(alerts "$tmp/good.eve") rc=$(rc good)" "1 rc=1"
run goodbe -R "$rules" -r "$tmp/good-be.pcapng"
check "big-endian pcapng: the alert" "$(alerts "$tmp/goodbe.eve") rc=$(rc goodbe)" "1 rc=1"

# The issue's case: a good file, then a cut pcapng.  Both read, exit 2,
# the error names the file and the byte, the summary is printed.
run cut -R "$rules" -r "$rogue" -r "$tmp/cut.pcapng"
check "good file then cut pcapng: both alerts, exit 2" "$(found cut) rc=$(rc cut)" "2 rc=2"
grep -q "cut.pcapng: packet [0-9]*: pcapng block at byte [0-9]*: cut short" "$tmp/cut.err"
check "cut pcapng: file, packet and byte named" "$?" 0
grep -q "^certsentry: .* packets, .* alerts" "$tmp/cut.err"
check "cut pcapng: the summary is printed" "$?" 0
# The cut one first: the next input is read.
run cutfirst -R "$rules" -r "$tmp/cut.pcapng" -r "$rogue"
check "cut pcapng then a good file: both alerts, exit 2" \
	"$(found cutfirst) rc=$(rc cutfirst)" "2 rc=2"

# The same bytes on standard input: the same.
run cutstdin -R "$rules" -r - <"$tmp/cut.pcapng"
check "cut pcapng on standard input: the alert, exit 2" \
	"$(alerts "$tmp/cutstdin.eve") rc=$(rc cutstdin)" "1 rc=2"
check "cut pcapng: standard input says what the file says" \
	"$(sed 's/^certsentry: [^:]*:/X:/' "$tmp/cutstdin.err" | grep '^X:')" \
	"$(sed 's/^certsentry: [^:]*:/X:/' "$tmp/cut.err" | grep '^X:' | grep -v "$rogue")"

# A pcapng on a pipe that stays open (tcpdump -w - | certsentry -r -): each
# block is read as it comes, the alert comes out before the input ends.
mkfifo "$tmp/ngfifo"
$py -c 'import sys, time
sys.stdout.buffer.write(open(sys.argv[1], "rb").read()); sys.stdout.flush(); time.sleep(20)' \
	"$tmp/good.pcapng" >"$tmp/ngfifo" &
writer=$!
"$bin" -q -R "$rules" -r - -o "$tmp/ngpipe.eve" <"$tmp/ngfifo" &
reader=$!
seen=0
for _ in $(seq 75); do
	grep -q '"event_type":"alert"' "$tmp/ngpipe.eve" 2>/dev/null && { seen=1; break; }
	sleep 0.2
done
kill "$writer" 2>/dev/null
wait "$writer" 2>/dev/null
wait "$reader"
check "pcapng on a pipe that stays open: the alert before the end" "$seen rc=$?" "1 rc=1"

# A bad block length in the middle: read up to that block.
run badlen -R "$rules" -r "$tmp/badlen.pcapng" -r "$rogue"
grep -q "badlen.pcapng: packet 11: pcapng block at byte $bad_at: bad block length" "$tmp/badlen.err"
check "bad block length: packet and byte named" "$?" 0
# 10 packets of the damaged file (its alert comes later), all 18 of the next.
check "bad block length: the next input read, exit 2" \
	"$(grep -o '^certsentry: [0-9]* packets' "$tmp/badlen.err") $(found badlen) rc=$(rc badlen)" \
	"certsentry: 28 packets 1 rc=2"
run giant -R "$rules" -r "$tmp/giant.pcapng"
grep -q "over the limit of 16777216 bytes" "$tmp/giant.err"
check "giant block length: refused at the limit, said" "$? rc=$(rc giant)" "0 rc=2"

# Secrets before the damage count: the TLS 1.3 alert is decrypted.
for f in emb-garbage emb-cut; do
	run "$f" -R "$t13/tls13.rules" -r "$tmp/$f.pcapng"
	check "$f: secrets before the damage read, the alert, exit 2" \
		"$(alerts "$tmp/$f.eve") $(decrypted "$tmp/$f.eve") rc=$(rc "$f")" "1 decrypted rc=2"
	run "$f-stdin" -R "$t13/tls13.rules" -r - <"$tmp/$f.pcapng"
	check "$f on standard input: the same" \
		"$(alerts "$tmp/$f-stdin.eve") $(decrypted "$tmp/$f-stdin.eve") rc=$(rc "$f-stdin")" \
		"1 decrypted rc=2"
done

# Classic pcap on standard input (libpcap): cut, giant record; next input read.
for f in cut giant; do
	run "pcap-$f" -R "$rules" -r - -r "$rogue" <"$tmp/$f.pcap"
	check "classic pcap $f on standard input: read up to the damage, next input read" \
		"$(found "pcap-$f") rc=$(rc "pcap-$f")" "2 rc=2"
	grep -q "^certsentry: -: packet [0-9]*: " "$tmp/pcap-$f.err"
	check "classic pcap $f on standard input: packet named" "$?" 0
done

# ---- key logs ----------------------------------------------------------------
key=$t13/rogue-tls13.keys
run kl-zero -R "$t13/tls13.rules" -r "$t13/rogue-tls13.pcap" --keylog /dev/zero
grep -q "/dev/zero: a character device, not a regular file" "$tmp/kl-zero.err"
check "--keylog /dev/zero: refused at once, exit 2" "$? rc=$(rc kl-zero)" "0 rc=2"
mkfifo "$tmp/fifo.keys"
run kl-fifo -R "$t13/tls13.rules" -r "$t13/rogue-tls13.pcap" --keylog "$tmp/fifo.keys"
grep -q "fifo.keys: a FIFO, not a regular file" "$tmp/kl-fifo.err"
check "--keylog FIFO: refused at once, exit 2" "$? rc=$(rc kl-fifo)" "0 rc=2"

# Garbage, an overlong line and NUL bytes in the middle of the key log:
# the lines before and after still count.  The session's line is last.
{
	echo "# a key log damaged in the middle"
	printf '\001\002\377\376\0\0\0binary\0garbage\n'
	printf 'SERVER_HANDSHAKE_TRAFFIC_SECRET \0\0\0 zz\n'
	head -c 5000 /dev/zero | tr '\0' 'A'; echo
	cat "$key"
} >"$tmp/damaged.keys"
run kl-damaged -R "$t13/tls13.rules" -r "$t13/rogue-tls13.pcap" --keylog "$tmp/damaged.keys"
check "damaged key log: the valid lines after the damage decrypt" \
	"$(alerts "$tmp/kl-damaged.eve") $(decrypted "$tmp/kl-damaged.eve") rc=$(rc kl-damaged)" \
	"1 decrypted rc=1"
grep -q "damaged.keys: 3 malformed lines, first at line 2$" "$tmp/kl-damaged.err"
check "damaged key log: one line says how many and where" "$?" 0

# ---- --bpf ---------------------------------------------------------------------
run bpf-bad -R "$rules" -r "$rogue" --bpf 'garbage((('
grep -q "^certsentry: --bpf garbage(((: .*syntax error" "$tmp/bpf-bad.err"
check "--bpf that does not compile: libpcap's message, exit 2" "$? rc=$(rc bpf-bad)" "0 rc=2"
run bpf-bad-live -i lo --bpf 'garbage((('
grep -q "syntax error" "$tmp/bpf-bad-live.err"
check "--bpf that does not compile, live: exit 2" "$? rc=$(rc bpf-bad-live)" "0 rc=2"
run bpf-miss -R "$rules" -r "$rogue" --bpf 'tcp port 9'
check "--bpf on a file: what it rejects is not read" "$(alerts "$tmp/bpf-miss.eve") rc=$(rc bpf-miss)" "0 rc=0"
grep -q "fina-rogue-doh.pcap: --bpf kept 0 of [1-9][0-9]* packets" "$tmp/bpf-miss.err"
check "--bpf on a file: the packets filtered out are counted" "$?" 0
run bpf-hit -R "$rules" -r "$rogue" --bpf 'tcp port 443'
check "--bpf on a file: what it keeps is read" "$(alerts "$tmp/bpf-hit.eve") rc=$(rc bpf-hit)" "1 rc=1"
run bpf-ng -R "$rules" -r - --bpf 'tcp port 9' <"$tmp/good.pcapng"
check "--bpf on pcapng from standard input" "$(alerts "$tmp/bpf-ng.eve") rc=$(rc bpf-ng)" "0 rc=0"
run nobpf -R "$rules" -r "$rogue"
check "no --bpf: files unfiltered, nothing said" "$(grep -c -- '--bpf' "$tmp/nobpf.err")" 0
