#!/usr/bin/env bash
# Run every libFuzzer target built in BUILD_DIR for SECONDS each.
#   usage: tests/fuzz/run.sh BUILD_DIR SECONDS [NAME ...]   (make fuzz)
#   FUZZ_RUNS=N in the environment also stops each target after N runs.
# For each BUILD_DIR/fuzz_NAME (or only the NAMEs given): the seed corpus
# BUILD_DIR/corpus-NAME is (re)made from the committed captures by
# tests/fuzz/seeds.py (new files only: what earlier runs found is kept),
# tests/fuzz/regress/NAME/ is run too, and the fuzzer runs for SECONDS.
# One line per target:
#   fuzz NAME: N executions in S s, C crashes
# A crash, leak, timeout or out-of-memory input is copied into
# tests/fuzz/regress/NAME/ (it stays a regression test of make test) and
# the script exits 1.  Logs: BUILD_DIR/fuzz-NAME.log.
set -u
cd "$(dirname "$0")/../.."
build=${1:-build-fuzz}
secs=${2:-60}
shift 2 2>/dev/null || shift $#
only=" $* "
py=/usr/bin/python3     # Debian's, which has python3-scapy

mkdir -p "$build"
if ! "$py" tests/fuzz/seeds.py "$build" >"$build/seeds.log" 2>&1; then
	echo "run.sh: tests/fuzz/seeds.py failed:"
	tail -5 "$build/seeds.log"
	exit 1
fi

# Dictionaries: the words a byte-level mutator is slow to find.
cat >"$build/rules.dict" <<'DICT'
"owner "
"protect ip "
"protect name "
"approve ca "
"approve spki "
"sha256:"
"sha256/"
"ca.pem"
"two.pem"
"v1.pem"
"leaf.pem"
"bad.pem"
"noend.pem"
"empty.pem"
"pki/approved-root.pem"
"../ca.pem"
"#d"
"*."
"::ffff:"
"/128"
"/0"
"\x0a"
DICT
cat >"$build/tls.dict" <<'DICT'
"\x16\x03\x01"
"\x16\x03\x03"
"\x14\x03\x03\x00\x01\x01"
"\x15\x03\x03\x00\x02"
"\x17\x03\x03"
"\x80"
"\x00\x00"
"\x00\x10"
"\x00\x23\x00\x00"
"\x00\x2b"
"\x03\x04"
"\x7f\x1c"
"\xcf\x21\xad\x74\xe5\x9a\x61\x11\xbe\x1d\x8c\x02\x1e\x65\xb8\x91\xc2\xa2\x11\x16\x7a\xbb\x8c\x5e\x07\x9e\x09\xe2\xc8\xa8\x33\x9c"
"\x0b"
"\x0e\x00\x00\x00"
"\x0a\x0a"
DICT

# The rules and chain targets write files per input: memory is quicker.
tmp=${TMPDIR:-/tmp}
[ -d /dev/shm ] && [ -w /dev/shm ] && tmp=/dev/shm

status=0
for bin in "$build"/fuzz_*; do
	[ -f "$bin" ] && [ -x "$bin" ] || continue
	name=${bin##*/fuzz_}
	case "$name" in *.*) continue ;; esac
	if [ "$only" != "  " ] && [[ "$only" != *" $name "* ]]; then
		continue
	fi
	corpus="$build/corpus-$name"
	regress="tests/fuzz/regress/$name"
	art="$build/artifacts-$name"
	log="$build/fuzz-$name.log"
	mkdir -p "$corpus" "$regress"
	rm -rf "$art"
	mkdir -p "$art"
	args=(-max_total_time="$secs" -print_final_stats=1 -rss_limit_mb=2048 -timeout=60
	      -artifact_prefix="$art/")
	[ -f "$build/$name.dict" ] && args+=(-dict="$build/$name.dict")
	# FUZZ_RUNS=N stops after N executions (whichever comes first).
	[ -n "${FUZZ_RUNS:-}" ] && args+=(-runs="$FUZZ_RUNS")
	# Longest input generated: a whole handshake, a few dozen packets.
	case "$name" in
	decode|rules) args+=(-max_len=4096) ;;
	reasm) args+=(-max_len=8192) ;;
	tls|chain|tls13|certcomp) args+=(-max_len=16384) ;;
	keylog|baseline|dedup) args+=(-max_len=8192) ;;
	certfile|ct) args+=(-max_len=16384) ;;
	ct_checkpoint|ct_tile|ct_loglist) args+=(-max_len=16384) ;;
	engine) args+=(-max_len=32768) ;;
	quic) args+=(-max_len=16384) ;;
	quiccrypto) args+=(-max_len=8192) ;;
	esac
	start=$(date +%s)
	TMPDIR=$tmp "$bin" "${args[@]}" "$corpus" "$regress" </dev/null >"$log" 2>&1
	rc=$?
	elapsed=$(($(date +%s) - start))
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	crashes=0
	for f in "$art"/crash-* "$art"/leak-* "$art"/timeout-* "$art"/oom-* "$art"/slow-unit-*; do
		[ -f "$f" ] || continue
		# libFuzzer times a unit by the wall clock: on a loaded machine
		# (a campaign at nice 19 beside the suites) a unit it calls slow
		# may take a quarter second alone.  Run alone again, a slow unit
		# is kept only if it still takes 10 s (libFuzzer's threshold).
		if [ "${f##*/slow-unit-}" != "$f" ]; then
			t0=$(date +%s)
			timeout 60 "$bin" "$f" >/dev/null 2>&1
			if [ $(($(date +%s) - t0)) -lt 10 ]; then
				echo "fuzz $name: ${f##*/} slow only under load (under 10 s alone): not kept"
				rm -f "$f"
				continue
			fi
		fi
		crashes=$((crashes + 1))
		cp "$f" "$regress/"
		echo "fuzz $name: saved $regress/${f##*/}"
	done
	if [ "$rc" -eq 72 ] && [ "$crashes" -eq 0 ]; then
		# libFuzzer's exit status after SIGINT/SIGTERM: not a finding.
		echo "fuzz $name: ${execs:-0} executions in $elapsed s, 0 crashes (interrupted)"
		status=1
		continue
	fi
	if [ "$rc" -ne 0 ] && [ "$crashes" -eq 0 ]; then
		crashes=1   # died without an artifact (e.g. a crash while loading the corpus)
	fi
	echo "fuzz $name: ${execs:-0} executions in $elapsed s, $crashes crashes"
	if [ "$crashes" -ne 0 ]; then
		grep -E 'ERROR|runtime error|SUMMARY|^    #[0-9] ' "$log" | head -15 | sed 's/^/  /'
		status=1
	fi
done
exit $status
