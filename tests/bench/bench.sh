#!/usr/bin/env bash
# make bench: certsentry against the read limit and its peers, on the same
# generated span-like capture, in one run (issue 6).
#
#   tests/bench/bench.sh [--size-mb N] [--flows N] [--runs N] [--dir D] [--keep]
#                        [--base-rev REV]
#
# Generates (tests/bench/mkbench.py, never committed) in --dir (default a
# new directory under /var/tmp, removed at the end unless --keep):
#   span.pcap   --size-mb (1024) of TLS connections from pcaps/, >= 95 % of
#               the bytes after the handshakes;
#   flows.pcap  --flows (1,000,000) connections open at once;
#   short.pcap  ~17,000 short connections (1-4 KB of data each, 100 MB):
#               inspecting handshakes is most of the work there;
#   t13.pcap    12,000 short TLS 1.3 connections (pcaps/tls13's sessions)
#               and t13.keys, their key log (a line each); t12.pcap the
#               same number of their TLS 1.2 twins (same chains, server);
#   quic.pcap   12,000 short QUIC connections (pcaps/quic/'s v1 sessions,
#               1-4 KB downloads) and quic.keys, their key log (a line per
#               template: the copies keep their template's ClientHello).
# span.pcap and flows.pcap's complete handshakes come from pcaps/*.pcap;
# about 1 span connection in 8 is a bulk QUIC download (UDP 443/853) from
# pcaps/quic/'s sessions, so decided QUIC flows are measured too.
# Then times on span.pcap, after reading it once into the page cache:
#   (a) pcapcount: libpcap reading and counting only, the read limit;
#   (b) certsentry -R rules/examples/public-dns-resolver.rules, one thread;
#   (c) the same with --workers 2 (a reader thread dispatching to 2);
#   (d) tshark -Y tls.handshake.certificate -T fields -e tls.handshake.certificate;
#   (e) ndpiReader -q;
# and certsentry's peak RSS on flows.pcap, and its handshakes a second on
# short.pcap with one worker and with --workers 2 (shown, no target), and
# its handshakes a second on t12.pcap, and on t13.pcap without and with
# --keylog (target, issue 14: with the key log within 1.5x of TLS 1.2),
# and on quic.pcap without and with --keylog (shown, no target; the
# certificates read with the key log are counted from a summary run).
# (a)-(c), (e) and the short.pcap runs run --runs times (3), in turns
# (a b c e ... a b c e ...), so that a machine whose speed drifts (a
# shared VM does, by tens of percent within minutes) slows each of them
# alike; the median run of each counts (the fastest, shown beside it, is
# an outlier there: the machine's fast minutes), its CPU time (user +
# system) is the median too, and its peak RSS the largest of its runs.
# tshark, the slowest by far, runs once.  Prints one table (seconds,
# fastest, CPU seconds, Gbit/s, packets/s, ratio to (a), peak RSS) and
# checks the targets of issue 6; exits 1 when one is missed.
# With --base-rev REV (make bench BASE_REV=REV), certsentry at REV is built
# in a temporary worktree and its runs of (b), (c), the short connections
# and TLS 1.2/1.3 take their turn beside this tree's in every round (not
# quic.pcap's: a binary from before issue 29 reads no QUIC), so a
# refactor's before/after ratios come from one run on one machine: a last
# table gives both medians and new/old (below 1: faster).
# BIN names certsentry (./certsentry), PCAPCOUNT the counter.
set -u
cd "$(dirname "$0")/../.."
bin=${BIN:-./certsentry}
pcapcount=${PCAPCOUNT:-build/bench/pcapcount}
rules=rules/examples/public-dns-resolver.rules
size_mb=1024 flows=1000000 runs=3 dir="" keep=0 base_rev=""
while [ $# -gt 0 ]; do
	case "$1" in
	--size-mb) size_mb=$2; shift ;;
	--flows) flows=$2; shift ;;
	--runs) runs=$2; shift ;;
	--dir) dir=$2; shift ;;
	--keep) keep=1 ;;
	--base-rev) base_rev=$2; shift ;;
	*) echo "usage: $0 [--size-mb N] [--flows N] [--runs N] [--dir D] [--keep] [--base-rev REV]" >&2; exit 2 ;;
	esac
	shift
done
for t in "$bin" "$pcapcount"; do
	[ -x "$t" ] || { echo "bench: $t missing (make bench builds it)" >&2; exit 2; }
done
for t in tshark ndpiReader /usr/bin/time; do
	command -v "$t" >/dev/null || { echo "bench: $t missing: bash tests/deps.sh bench" >&2; exit 2; }
done
[ -n "$dir" ] || { dir=$(mktemp -d /var/tmp/certsentry-bench.XXXXXX); fresh=1; }
wt=""
cleanup() {
	if [ -n "$wt" ]; then
		git worktree remove --force "$wt" > /dev/null 2>&1
		rm -rf "$wt"
	fi
	[ "$keep" = 1 ] || [ -z "${fresh:-}" ] || rm -rf "$dir"
}
trap cleanup EXIT
mkdir -p "$dir"
old=""
if [ -n "$base_rev" ]; then
	wt=$(mktemp -d /var/tmp/certsentry-base.XXXXXX)
	git worktree add -q --detach "$wt" "$base_rev" || exit 2
	make -C "$wt" -j"$(nproc)" > "$dir/base-build.log" 2>&1 ||
		{ echo "bench: $base_rev does not build (see $dir/base-build.log)" >&2; exit 2; }
	old=$wt/certsentry
fi
py=python3

echo "# machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)," \
     "$(awk '/MemTotal/ {printf "%.0f GB RAM", $2/1048576}' /proc/meminfo), $(uname -r)"
echo "# versions: certsentry $(git describe --always --dirty 2>/dev/null || echo '?')," \
     "$(tshark -v 2>/dev/null | head -1), $(ndpiReader -h 2>&1 | sed -n 's/.*\(nDPI [0-9.]*\).*/\1/p' | head -1)"
[ -f "$dir/span.pcap" ] || $py tests/bench/mkbench.py "$dir/span.pcap" --size-mb "$size_mb" | sed 's/^/# /' || exit 2
[ -f "$dir/flows.pcap" ] || $py tests/bench/mkbench.py "$dir/flows.pcap" --flows "$flows" | sed 's/^/# /' || exit 2
[ -f "$dir/short.pcap" ] || $py tests/bench/mkbench.py "$dir/short.pcap" --size-mb 100 --data-kb 1-4 |
	sed 's/^/# /' || exit 2
[ -f "$dir/t13.pcap" ] || $py tests/bench/mkbench.py "$dir/t13.pcap" --set tls13 --keylog "$dir/t13.keys" \
	--connections 12000 --data-kb 1-4 | sed 's/^/# /' || exit 2
[ -f "$dir/t12.pcap" ] || $py tests/bench/mkbench.py "$dir/t12.pcap" --set tls12 \
	--connections 12000 --data-kb 1-4 | sed 's/^/# /' || exit 2
[ -f "$dir/quic.pcap" ] || $py tests/bench/mkbench.py "$dir/quic.pcap" --set quic --keylog "$dir/quic.keys" \
	--connections 12000 --data-kb 1-4 | sed 's/^/# /' || exit 2
span=$dir/span.pcap
r13=pcaps/tls13/tls13.rules
rq=pcaps/quic/quic.rules
cat "$span" "$dir/short.pcap" "$dir/t12.pcap" "$dir/t13.pcap" "$dir/t13.keys" "$dir/quic.pcap" \
	"$dir/quic.keys" > /dev/null   # page cache

# once NAME CMD...: one timed run, "wall user sys maxrss_kb" added to
# "$dir/NAME.runs"; its standard output in "$dir/NAME.out".
once() {
	local name=$1
	shift
	/usr/bin/time -o "$dir/$name.t" -f "%e %U %S %M" "$@" > "$dir/$name.out" 2> "$dir/$name.err"
	tail -1 "$dir/$name.t" >> "$dir/$name.runs"
}

# median: the median of the numbers on standard input, one a line.
median() {
	sort -n | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}

# sum NAME: "$dir/NAME.time": "median fastest maxrss_kb cpu" of its runs,
# cpu the median of user + system seconds.
sum() {
	local med fast kb cpu
	med=$(awk '{ print $1 }' "$dir/$1.runs" | median)
	fast=$(sort -n -k1,1 "$dir/$1.runs" | awk 'NR == 1 { print $1 }')
	kb=$(awk '$4 > kb { kb = $4 } END { print kb }' "$dir/$1.runs")
	cpu=$(awk '{ print $2 + $3 }' "$dir/$1.runs" | median)
	echo "$med $fast $kb $cpu" > "$dir/$1.time"
}

rm -f "$dir"/*.runs
for ((i = 0; i < runs; i++)); do
	once pcapcount "$pcapcount" "$span"
	once certsentry "$bin" -q -R "$rules" -r "$span" -o /dev/null
	once workers2 "$bin" -q --workers 2 -R "$rules" -r "$span" -o /dev/null
	once ndpiReader ndpiReader -q -i "$span"
	once short1 "$bin" -q -R "$rules" -r "$dir/short.pcap" -o /dev/null
	once short2 "$bin" -q --workers 2 -R "$rules" -r "$dir/short.pcap" -o /dev/null
	once t12 "$bin" -q -R "$r13" -r "$dir/t12.pcap" -o /dev/null
	once t13 "$bin" -q -R "$r13" -r "$dir/t13.pcap" -o /dev/null
	once t13k "$bin" -q -R "$r13" -r "$dir/t13.pcap" --keylog "$dir/t13.keys" -o /dev/null
	once quic "$bin" -q -R "$rq" -r "$dir/quic.pcap" -o /dev/null
	once quick "$bin" -q -R "$rq" -r "$dir/quic.pcap" --keylog "$dir/quic.keys" -o /dev/null
	[ -n "$old" ] || continue
	once old_certsentry "$old" -q -R "$rules" -r "$span" -o /dev/null
	once old_workers2 "$old" -q --workers 2 -R "$rules" -r "$span" -o /dev/null
	once old_short1 "$old" -q -R "$rules" -r "$dir/short.pcap" -o /dev/null
	once old_t12 "$old" -q -R "$r13" -r "$dir/t12.pcap" -o /dev/null
	once old_t13 "$old" -q -R "$r13" -r "$dir/t13.pcap" -o /dev/null
	once old_t13k "$old" -q -R "$r13" -r "$dir/t13.pcap" --keylog "$dir/t13.keys" -o /dev/null
done
once tshark tshark -n -r "$span" -Y tls.handshake.certificate -T fields -e tls.handshake.certificate
once flows "$bin" -q --max-flows $((flows + flows / 8)) -R "$rules" -r "$dir/flows.pcap" -o /dev/null
[ -z "$old" ] || once old_flows "$old" -q --max-flows $((flows + flows / 8)) -R "$rules" -r "$dir/flows.pcap" -o /dev/null
for name in pcapcount certsentry workers2 ndpiReader tshark flows short1 short2 t12 t13 t13k quic quick; do
	sum "$name"
	[ -z "$old" ] || [ ! -f "$dir/old_$name.runs" ] || sum "old_$name"
done
read -r pkts bytes < "$dir/pcapcount.out"

# The outputs agree on what was there: certsentry's certificates (its
# summary, from a run with the summary on) and tshark's Certificate lines.
"$bin" -R "$rules" -r "$span" -o "$dir/eve.json" 2> "$dir/summary.txt"
cs_hs=$(sed -n 's/^certsentry: .* \([0-9]*\) handshakes.*/\1/p' "$dir/summary.txt")
cs_alerts=$(sed -n 's/^certsentry: .* \([0-9]*\) alerts$/\1/p' "$dir/summary.txt")
ts_msgs=$(grep -c . "$dir/tshark.out")

echo "# capture: $pkts packets, $bytes bytes; certsentry: $cs_hs handshakes, $cs_alerts alerts;" \
     "tshark: $ts_msgs Certificate messages"
printf '%-34s %8s %8s %8s %8s %10s %9s %9s\n' tool seconds fastest "CPU s" Gbit/s packets/s \
	"vs (a)" "RSS MB"
row() {   # label name
	read -r med fast kb cpu < "$dir/$2.time"
	awk -v l="$1" -v w="$med" -v f="$fast" -v c="$cpu" -v b="$bytes" -v p="$pkts" -v base="$base" \
	    -v kb="$kb" 'BEGIN {
		if (w <= 0) w = 0.01
		printf "%-34s %8.2f %8.2f %8.2f %8.2f %10.0f %8.1f%% %9.1f\n", l, w, f, c, b * 8 / w / 1e9,
		       p / w, 100 * base / w, kb / 1024 }'
}
read -r base _ < "$dir/pcapcount.time"
row "(a) libpcap read+count (limit)" pcapcount
row "(b) certsentry, 1 worker" certsentry
row "(c) certsentry --workers 2" workers2
row "(d) tshark -Y tls.handshake.cert." tshark
row "(e) ndpiReader" ndpiReader
read -r fw _ fkb _ < "$dir/flows.time"
echo "certsentry with $flows concurrent flows: peak RSS $((fkb / 1024)) MB ($fw s)"
short_hs=$("$bin" -R "$rules" -r "$dir/short.pcap" -o /dev/null 2>&1 |
	sed -n 's/^certsentry: .* \([0-9]*\) handshakes.*/\1/p')
for w in 1 2; do
	read -r med fast _ cpu < "$dir/short$w.time"
	awk -v w="$w" -v n="$short_hs" -v m="$med" -v f="$fast" -v c="$cpu" 'BEGIN {
		printf "short connections, %d worker%s: %d handshakes in %.2f s (fastest %.2f s, CPU %.2f s): %.0f handshakes/s\n",
		       w, (w > 1 ? "s" : ""), n, m, f, c, n / m }'
done
# EVE volume (issue 15): bytes a handshake costs in the feed, the defaults
# (a chain's certificates in full once a window, alerts once a window)
# against every tls event carrying its certificates and every alert written.
"$bin" -q -R "$rules" -r "$span" --cert-log every --alert-window 0 -o "$dir/eve-every.json"
"$bin" -q -R "$rules" -r "$span" --tls-log protected -o "$dir/eve-protected.json"
for run in "eve-every:--cert-log every --alert-window 0" "eve:defaults (--cert-log once)" \
           "eve-protected:--tls-log protected"; do
	f="$dir/${run%%:*}.json"
	awk -v l="${run#*:}" -v b="$(wc -c < "$f")" -v n="$(wc -l < "$f")" -v h="$cs_hs" 'BEGIN {
		printf "EVE, %-36s %6d lines, %6.1f MB, %6.0f bytes a handshake\n", l ":", n, b / 1e6, b / h }'
done
echo "EVE bytes, defaults against --cert-log every --alert-window 0: $(awk \
	-v a="$(wc -c < "$dir/eve.json")" -v b="$(wc -c < "$dir/eve-every.json")" 'BEGIN { printf "%.2fx", a / b }')"
rm -f "$dir/eve-every.json" "$dir/eve-protected.json"
# TLS 1.3: how many certificates each run read (a run with the summary on).
"$bin" -R "$r13" -r "$dir/t13.pcap" --keylog "$dir/t13.keys" -o /dev/null 2> "$dir/t13k.summary"
t13_dec=$(sed -n 's/^  tls 1.3: decrypted \([0-9]*\),.*/\1/p' "$dir/t13k.summary")
for run in "t12:TLS 1.2 twins" "t13:TLS 1.3, no key log (not read)" "t13k:TLS 1.3 with --keylog"; do
	read -r med fast _ cpu < "$dir/${run%%:*}.time"
	awk -v l="${run#*:}" -v m="$med" -v f="$fast" -v c="$cpu" 'BEGIN {
		printf "short connections, %-33s 12000 handshakes in %.2f s (fastest %.2f s, CPU %.2f s): %.0f handshakes/s\n",
		       l ":", m, f, c, 12000 / m }'
done
echo "TLS 1.3 with --keylog: $t13_dec of 12000 certificates decrypted and judged"
# QUIC (issue 29): the same short connections over QUIC, from the Initial
# packets alone and with the key log's Handshake secrets; the handshakes
# and the certificate chains read, from a run with the summary on.
"$bin" -R "$rq" -r "$dir/quic.pcap" --keylog "$dir/quic.keys" -o /dev/null 2> "$dir/quick.summary"
quic_hs=$(sed -n 's/^certsentry: .* \([0-9]*\) handshakes.*/\1/p' "$dir/quick.summary")
quic_dec=$(sed -n 's/^  tls 1.3: decrypted \([0-9]*\),.*/\1/p' "$dir/quick.summary")
quic_conn=$(sed -n 's/^  quic: connections \([0-9]*\),.*/\1/p' "$dir/quick.summary")
for run in "quic:QUIC without key log (not read)" "quick:QUIC with --keylog"; do
	read -r med fast _ cpu < "$dir/${run%%:*}.time"
	awk -v l="${run#*:}" -v m="$med" -v f="$fast" -v c="$cpu" 'BEGIN {
		printf "short connections, %-33s 12000 handshakes in %.2f s (fastest %.2f s, CPU %.2f s): %.0f handshakes/s\n",
		       l ":", m, f, c, 12000 / m }'
done
echo "QUIC with --keylog: ${quic_dec:-0} of 12000 certificate chains decrypted and judged" \
     "(${quic_hs:-0} handshakes, ${quic_conn:-0} QUIC connections)"
echo "--workers 2 on short connections: $(awk -v a="$(read -r x _ < "$dir/short1.time"; echo "$x")" \
	-v b="$(read -r x _ < "$dir/short2.time"; echo "$x")" 'BEGIN { printf "%.2fx", a / b }') one worker (no target)"

if [ -n "$old" ]; then
	echo "# before/after: certsentry at $base_rev ($(git rev-parse --short "$base_rev")) against this tree, medians of the same rounds"
	echo "# (the span capture's QUIC connections, 1 in 8, are UDP: a binary that reads no QUIC skips them)"
	printf '%-44s %10s %10s %9s\n' measure "old s" "new s" "new/old"
	for run in "certsentry:(b) span capture, 1 worker" "workers2:(c) span capture, --workers 2" \
	           "short1:short connections, 1 worker" "t12:TLS 1.2 twins" "t13:TLS 1.3, no key log" \
	           "t13k:TLS 1.3 with --keylog"; do
		read -r a _ < "$dir/old_${run%%:*}.time"
		read -r b _ < "$dir/${run%%:*}.time"
		awk -v l="${run#*:}" -v a="$a" -v b="$b" 'BEGIN { if (a <= 0) a = 0.01
			printf "%-44s %10.2f %10.2f %9.2f\n", l, a, b, b / a }'
	done
	read -r _ _ a _ < "$dir/old_flows.time"
	read -r _ _ b _ < "$dir/flows.time"
	awk -v a="$a" -v b="$b" -v n="$flows" 'BEGIN {
		printf "%-44s %8.0fMB %8.0fMB %9.2f\n", "peak RSS, " n " flows", a / 1024, b / 1024, b / a }'
fi

# Targets (issue 6), on the medians; the ratio of the fastest runs beside.
t() { read -r w _ < "$dir/$1.time"; echo "$w"; }
f() { read -r _ w _ < "$dir/$1.time"; echo "$w"; }
fail=0
check() {   # description expression(awk, true = pass)
	if awk "BEGIN { exit !($2) }"; then echo "PASS $1"; else echo "FAIL $1"; fail=1; fi
}
ratio() {   # format scale a b: scale*a/b of the medians, then of the fastest runs
	awk -v fmt="$1" -v k="$2" -v a="$(t "$3")" -v b="$(t "$4")" -v c="$(f "$3")" -v d="$(f "$4")" \
		'BEGIN { printf fmt "; fastest runs " fmt, k * a / b, k * c / d }'
}
check "certsentry >= 70% of the read limit ($(ratio %.0f%% 100 pcapcount certsentry))" \
      "$base / $(t certsentry) >= 0.70"
check "certsentry >= 20x tshark ($(ratio %.1fx 1 tshark certsentry))" \
      "$(t tshark) / $(t certsentry) >= 20"
check "certsentry faster than ndpiReader ($(ratio %.1fx 1 ndpiReader certsentry))" \
      "$(t ndpiReader) > $(t certsentry)"
check "peak RSS <= 256 MB with $flows flows ($((fkb / 1024)) MB)" "$fkb <= 262144"
check "--workers 2 >= 1.6x one worker ($(ratio %.2fx 1 certsentry workers2))" \
      "$(t certsentry) / $(t workers2) >= 1.6"
check "TLS 1.3 with --keylog within 1.5x of TLS 1.2 on 12000 connections ($(ratio %.2fx 1 t13k t12) the time)" \
      "$(t t13k) / $(t t12) <= 1.5 && ${t13_dec:-0} == 12000"
exit $fail
