#!/usr/bin/env bash
# The capture readers before and after a change, in one run: certsentry at
# one revision (--base-rev, built in a temporary worktree) against this
# tree's binary, on the same generated span capture read four ways:
#   pcap file (mapped), pcapng file, pcap on standard input, pcapng on
#   standard input (through cat, as a pipe).
#
#   tests/bench/bench_inputs.sh --base-rev REV [--size-mb N] [--runs N] [--dir D] [--keep]
#
# Each (binary, input) pair runs --runs times (3), in turns (old new old
# new ...), so that a machine whose speed drifts slows both alike; the
# median of each counts.  Prints one table: seconds old, seconds new,
# new/old (below 1: faster), and MB/s of each.  Exits 0; a ratio is a
# figure, not a target.  BIN names the new binary (./certsentry).
set -u
cd "$(dirname "$0")/../.."
bin=$(realpath "${BIN:-./certsentry}")
base_rev=""
size_mb=400
runs=3
dir=""
keep=0
while [ $# -gt 0 ]; do
	case "$1" in
	--base-rev) base_rev=$2; shift 2 ;;
	--size-mb) size_mb=$2; shift 2 ;;
	--runs) runs=$2; shift 2 ;;
	--dir) dir=$2; shift 2 ;;
	--keep) keep=1; shift ;;
	*) echo "usage: $0 --base-rev REV [--size-mb N] [--runs N] [--dir D] [--keep]" >&2; exit 2 ;;
	esac
done
[ -n "$base_rev" ] || { echo "bench_inputs: --base-rev REV is required" >&2; exit 2; }
command -v editcap > /dev/null || { echo "bench_inputs: editcap (tshark) missing" >&2; exit 2; }
[ -n "$dir" ] || dir=$(mktemp -d /var/tmp/certsentry-bench-inputs.XXXXXX)
mkdir -p "$dir"
wt=$(mktemp -d /var/tmp/certsentry-base.XXXXXX)
cleanup() {
	git worktree remove --force "$wt" > /dev/null 2>&1
	rm -rf "$wt"
	[ "$keep" -eq 1 ] || rm -rf "$dir"
}
trap cleanup EXIT

git worktree add -q --detach "$wt" "$base_rev" || exit 2
make -C "$wt" -s -j2 > "$dir/base-build.log" 2>&1 || { tail "$dir/base-build.log"; exit 2; }
old=$wt/certsentry
[ -f "$dir/span.pcap" ] ||
	python3 tests/bench/mkbench.py "$dir/span.pcap" --size-mb "$size_mb" | sed 's/^/# /' || exit 2
[ -f "$dir/span.pcapng" ] || editcap -F pcapng "$dir/span.pcap" "$dir/span.pcapng" || exit 2
cat "$dir/span.pcap" "$dir/span.pcapng" > /dev/null   # into the page cache
rules=rules/examples/public-dns-resolver.rules

# run BINARY WAY: seconds of one run on stdout
run() {
	local b=$1 way=$2 t0 t1
	t0=$(date +%s%N)
	case "$way" in
	pcap-file)    "$b" -q -R "$rules" -r "$dir/span.pcap" -o /dev/null ;;
	pcapng-file)  "$b" -q -R "$rules" -r "$dir/span.pcapng" -o /dev/null ;;
	pcap-stdin)   cat "$dir/span.pcap" | "$b" -q -R "$rules" -r - -o /dev/null ;;
	pcapng-stdin) cat "$dir/span.pcapng" | "$b" -q -R "$rules" -r - -o /dev/null ;;
	esac
	t1=$(date +%s%N)
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", (b - a) / 1e9 }'
}
median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

mb=$(( $(stat -c %s "$dir/span.pcap") / 1000000 ))
printf '%-14s %10s %10s %9s %10s %10s\n' input "old s" "new s" new/old "old MB/s" "new MB/s"
for way in pcap-file pcapng-file pcap-stdin pcapng-stdin; do
	: > "$dir/old.t"; : > "$dir/new.t"
	for _ in $(seq "$runs"); do
		run "$old" "$way" >> "$dir/old.t"
		run "$bin" "$way" >> "$dir/new.t"
	done
	o=$(median < "$dir/old.t"); n=$(median < "$dir/new.t")
	awk -v w="$way" -v o="$o" -v n="$n" -v mb="$mb" \
		'BEGIN { printf "%-14s %10.3f %10.3f %9.2f %10.0f %10.0f\n", w, o, n, n / o, mb / o, mb / n }'
done
echo "# base $base_rev ($old) against $bin; $mb MB span capture, median of $runs runs"
