#!/usr/bin/env bash
# make bench (and make bench-ct alone): --ct-json over a generated CT log
# (issue 16 point 4), in one run.
#
#   tests/bench/bench_ct.sh [--entries N] [--runs N] [--dir D] [--keep]
#
# Generates with tests/bench/mkct (MKCT; never committed) in --dir
# (default a new directory under /var/tmp, removed at the end unless
# --keep):
#   big/ct.json  --entries (100,000) entries from 1,000 issuing CAs, 1 in
#                100 naming the owner's protected IP or name (most entries
#                of a real log are for no owner), as get-entries answers of
#                1,000 written one after another (a curl loop's output);
#   all/ct.json  5,000 entries, every one for the owner (the worst case:
#                each parsed and verified by OpenSSL).
# Then runs certsentry -q -R ct.rules --ct-json ct.json -o /dev/null on
# each, --runs (3) times in turns, and prints the median's entries a
# second, the fastest run's beside, and the ratio of the two rates; checks
# the target: >= 20,000 entries a second on big/ (one core).  Exits 1
# when it is missed.  BIN names certsentry (./certsentry).
set -u
cd "$(dirname "$0")/../.."
bin=${BIN:-./certsentry}
mkct=${MKCT:-build/bench/mkct}
entries=100000 runs=3 dir="" keep=0
while [ $# -gt 0 ]; do
	case "$1" in
	--entries) entries=$2; shift ;;
	--runs) runs=$2; shift ;;
	--dir) dir=$2; shift ;;
	--keep) keep=1 ;;
	*) echo "usage: $0 [--entries N] [--runs N] [--dir D] [--keep]" >&2; exit 2 ;;
	esac
	shift
done
for t in "$bin" "$mkct"; do
	[ -x "$t" ] || { echo "bench_ct: $t missing (make bench-ct builds it)" >&2; exit 2; }
done
if [ -z "$dir" ]; then
	dir=$(mktemp -d /var/tmp/certsentry-bench-ct.XXXXXX)
	[ "$keep" = 1 ] || trap 'rm -rf "$dir"' EXIT
fi
mkdir -p "$dir/big" "$dir/all"
[ -f "$dir/big/ct.json" ] || "$mkct" "$dir/big" --entries "$entries" | sed 's/^/# /' || exit 2
[ -f "$dir/all/ct.json" ] || "$mkct" "$dir/all" --entries 5000 --protected 1000 | sed 's/^/# /' || exit 2
cat "$dir/big/ct.json" "$dir/all/ct.json" > /dev/null   # into the page cache

for set in big all; do
	"$bin" -R "$dir/$set/ct.rules" --ct-json "$dir/$set/ct.json" -o /dev/null 2> "$dir/$set.summary"
	: > "$dir/$set.times"
done
for ((i = 0; i < runs; i++)); do
	for set in big all; do
		/usr/bin/time -f "%e %U %S" -a -o "$dir/$set.times" \
			"$bin" -q -R "$dir/$set/ct.rules" --ct-json "$dir/$set/ct.json" -o /dev/null
	done
done
rate() {   # rate SET: "median fastest cpu n": seconds of the median and fastest runs
	local n
	n=$(sed -n 's/^certsentry: \([0-9]*\) entries.*/\1/p' "$dir/$1.summary")
	# time(1) adds "Command exited with non-zero status 1" (alerts): only numbers
	grep -E '^[0-9.]+ [0-9.]+ [0-9.]+$' "$dir/$1.times" | sort -n | awk -v n="$n" '{ t[NR] = $1; c[NR] = $2 + $3 }
		END { m = int((NR + 1) / 2); print t[m], t[1], c[m], n }'
}
echo "# --ct-json, $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
for set in big all; do
	read -r med fast cpu n <<< "$(rate $set)"
	awk -v s="$set" -v m="$med" -v f="$fast" -v c="$cpu" -v n="$n" -v sum="$(tail -1 "$dir/$set.summary")" 'BEGIN {
		printf "ct %s: %d entries in %.2f s (fastest %.2f s, CPU %.2f s): %.0f entries/s (fastest %.0f)\n#   %s\n",
		       s, n, m, f, c, n / m, n / f, sum }'
done
read -r bm _ _ bn <<< "$(rate big)"
read -r am _ _ an <<< "$(rate all)"
echo "entries for no owner against entries all for the owner: $(awk -v a="$bm" -v b="$bn" -v c="$am" -v d="$an" \
	'BEGIN { printf "%.1fx", (b / a) / (d / c) }') the rate"
if awk -v m="$bm" -v n="$bn" 'BEGIN { exit !(m > 0 && n / m >= 20000) }'; then
	echo "PASS --ct-json >= 20,000 entries/s on $bn entries from 1,000 issuers"
else
	echo "FAIL --ct-json >= 20,000 entries/s on $bn entries from 1,000 issuers"
	exit 1
fi
