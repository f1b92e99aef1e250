#!/usr/bin/env bash
# certsentry --ct-follow --ct-once end to end over loopback (issue 31 point
# 3): a generated CT log served by tests/ctlog/ctlogd.py, followed with
# every check (signatures, consistency, every entry hashed into the signed
# tree) and every entry judged, in one run per API.
#
#   tests/bench/bench_ct_follow.sh [--entries N] [--dir D] [--page N]
#                                  [--timeout S] [-- FOLLOW_OPTION...]
#
# --dir (default build/bench/ctfollow-N, reused when it holds the files;
# under build/, never committed) gets, by tests/bench/mkct (MKCT):
#   ct.json, ct.rules       --entries (1,000,000) entries from 1,000 issuing
#                           CAs, 1 in 100 for the owner;
#   keys/, static/          the static log's key and the log dumped as files
#                           (ctlogd.py --dump-static).
# One ctlogd.py serves both: "bench", an RFC 6962 log answering get-entries
# with --page (1,000) entries, and "static", the static-ct-api log from its
# files (--serve-dir).  Each is followed alone from entry 0 (--ct-from 0),
# with no bound on the request rate (--ct-rate 0: the default, 20 a second,
# is for public logs) and the other defaults, with a fresh --ct-state; the
# script prints the entries a second of each (wall clock), certsentry's and
# the server's CPU seconds during that run (the server may be the
# bottleneck: compare them), and the ratio to the target of 50,000 entries
# a second.  A run is stopped after --timeout (600) seconds and counted as
# failed.  Options after -- go to certsentry (e.g. -- --ct-parallel 1).
# Exits 1 when a run fails or misses the target.  BIN names certsentry
# (./certsentry).
set -u
cd "$(dirname "$0")/../.."
bin=${BIN:-./certsentry}
mkct=${MKCT:-build/bench/mkct}
py=/usr/bin/python3
entries=1000000 dir="" page=1000 limit=600
while [ $# -gt 0 ]; do
	case "$1" in
	--entries) entries=$2; shift ;;
	--dir) dir=$2; shift ;;
	--page) page=$2; shift ;;
	--timeout) limit=$2; shift ;;
	--) shift; break ;;
	*) echo "usage: $0 [--entries N] [--dir D] [--page N] [--timeout S] [-- OPTION...]" >&2; exit 2 ;;
	esac
	shift
done
target=50000
dir=${dir:-build/bench/ctfollow-$entries}
for t in "$bin" "$mkct"; do
	[ -x "$t" ] || { echo "bench_ct_follow: $t missing (make -j2 certsentry $mkct)" >&2; exit 2; }
done
"$bin" --help 2>&1 | grep -q -- --ct-follow ||
	{ echo "bench_ct_follow: $bin has no --ct-follow" >&2; exit 2; }
work=$(mktemp -d /var/tmp/certsentry-bench-ctfollow.XXXXXX)
srv=""
trap '[ -n "$srv" ] && kill "$srv" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
mkdir -p "$dir"
if [ ! -s "$dir/ct.json" ] || [ ! -s "$dir/ct.rules" ]; then
	t0=$SECONDS
	"$mkct" "$dir" --entries "$entries" --page 1000 | sed 's/^/# /' || exit 2
	rm -rf "$dir/static" "$dir/keys"
	echo "# generated in $((SECONDS - t0)) s"
fi
if [ ! -s "$dir/static/checkpoint" ]; then
	t0=$SECONDS
	$py tests/ctlog/ctlogd.py --entries "$dir/ct.json" --keys-dir "$dir/keys" \
		--dump-static "$dir/static.tmp" static=static | sed 's/^/# /' || exit 2
	rm -rf "$dir/static"
	mv "$dir/static.tmp" "$dir/static"
	echo "# static log written in $((SECONDS - t0)) s"
fi

t0=$SECONDS
$py tests/ctlog/ctlogd.py --entries "$dir/ct.json" --keys-dir "$dir/keys" --page "$page" \
	--port-file "$work/port" --list-dir "$work" --stats-file "$work/stats" \
	--request-log "$work/requests" --serve-dir static="$dir/static" "bench=rfc6962,page=$page" \
	> "$work/server.out" 2>&1 &
srv=$!
while [ ! -s "$work/port" ]; do
	kill -0 "$srv" 2>/dev/null || { echo "bench_ct_follow: ctlogd failed: $(tail -3 "$work/server.out")"; exit 2; }
	sleep 0.5
done
echo "# ctlogd ready in $((SECONDS - t0)) s: $(head -1 "$work/server.out")"
grep '^rfc6962 ' "$work/log_list.txt" > "$work/rfc6962.txt"
grep '^static ' "$work/log_list.txt" > "$work/static.txt"

tck=$(getconf CLK_TCK)
srv_cpu() { awk -v t="$tck" '{ printf "%.2f", ($14 + $15) / t }' "/proc/$srv/stat"; }
cat "$dir/ct.json" > /dev/null
echo "# --ct-follow --ct-once --ct-from 0 --ct-rate 0 $*, $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
fail=0
for api in rfc6962 static; do
	before=$(srv_cpu)
	/usr/bin/time -f "%e %U %S" -o "$work/$api.time" timeout -k 10 "$limit" "$bin" \
		--ct-follow "$work/$api.txt" -R "$dir/ct.rules" -o "$work/$api.eve" \
		--ct-state "$work/$api.state" --ct-once --ct-from 0 --ct-rate 0 "$@" 2> "$work/$api.err"
	rc=$?
	after=$(srv_cpu)
	alerts=$(grep -c '"event_type":"alert"' "$work/$api.eve")
	read -r wall user sys <<< "$(grep -E '^[0-9.]+ [0-9.]+ [0-9.]+$' "$work/$api.time")"
	awk -v a="$api" -v n="$entries" -v w="$wall" -v u="$user" -v s="$sys" -v b="$before" \
		-v e="$after" -v t="$target" -v rc="$rc" -v al="$alerts" 'BEGIN {
		r = w > 0 ? n / w : 0
		c = u + s > 0 ? n / (u + s) : 0
		printf "ct-follow %s: %d entries in %.2f s: %.0f entries/s, %.2fx the %d/s target (certsentry CPU %.2f s: %.0f entries a CPU second, %.2fx; server CPU %.2f s; exit %d, %d alerts)\n",
		       a, n, w, r, r / t, t, u + s, c, c / t, e - b, rc, al }'
	sed 's/^/#   /' "$work/$api.err" | tail -3
	if [ "$rc" -eq 124 ]; then
		echo "FAIL ct-follow $api: stopped after $limit s"
		fail=1
	elif [ "$rc" -ne 1 ] || [ "$alerts" -eq 0 ]; then
		echo "FAIL ct-follow $api: exit $rc (1 expected: the log has rogue entries)"
		fail=1
	elif awk -v n="$entries" -v w="$wall" -v t="$target" 'BEGIN { exit !(w > 0 && n / w >= t) }'; then
		echo "PASS ct-follow $api >= $target entries/s"
	else
		echo "FAIL ct-follow $api >= $target entries/s"
		fail=1
	fi
done
kill "$srv"
wait "$srv"
srv=""
echo "# ctlogd: $(cat "$work/stats") (cpu_ready_s: building the trees before serving)"
exit $fail
