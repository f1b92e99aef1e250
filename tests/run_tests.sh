#!/usr/bin/env bash
# Runs every test of certsentry and ends with one line "N passed, N failed".
#   unit tests:    build/tests/test_* (cmocka), each test case counted
#   script tests:  tests/t_*.sh, each prints "ok NAME" / "not ok NAME" lines
# usage: tests/run_tests.sh [BUILD_DIR]
#   SCRIPTS="t_a.sh t_b.sh": only these scripts (make test-tsan)
# Under ASan (SANITIZED=1, make test-asan) a script whose header has a line
#   # asan: skip: REASON
# is not run again: it says so, with its reason.  For scripts whose time
# is another tool's and whose inputs other scripts already give
# certsentry under ASan.
set -u
cd "$(dirname "$0")/.."
build=${1:-build}
# A configuration file installed on this machine (/etc/certsentry/
# certsentry.conf) must not change what the tests see: certsentry reads
# CERTSENTRY_CONF in its place, and a test that wants one names it.
export CERTSENTRY_CONF=${CERTSENTRY_CONF:-/nonexistent/certsentry-tests.conf}
passed=0
failed=0
failures=()

for t in "$build"/tests/test_*; do
	[ -x "$t" ] || continue
	case "$t" in *.o|*.d) continue ;; esac
	out=$("$t" 2>&1)
	rc=$?
	# One "[       OK ] name" line per passing test; a failing one gets
	# "[  FAILED  ] name" and, for a setup/teardown failure, "[  ERROR   ]".
	p=$(printf '%s\n' "$out" | grep -c '^\[       OK \] ')
	f=$(printf '%s\n' "$out" | grep -E '^\[  (FAILED|ERROR)   ?\] [A-Za-z_]' |
		grep -v ' test(s)' | awk '{print $NF}' | sort -u | wc -l)
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1   # crashed or failed outside a test case
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "$f" -ne 0 ]; then
		failures+=("$(basename "$t")")
		printf '%s\n' "$out" | grep -E 'FAIL|ERROR|error' | head -20
	fi
	echo "unit $(basename "$t"): $p passed, $f failed"
done

for s in tests/t_*.sh; do
	[ -f "$s" ] || continue
	case " ${SCRIPTS:-$(basename "$s")} " in *" $(basename "$s") "*) ;; *) continue ;; esac
	if [ "${SANITIZED:-}" = 1 ] && why=$(sed -n 's/^# asan: skip: //p' "$s") && [ -n "$why" ]; then
		echo "script $(basename "$s"): not run under ASan: $why"
		continue
	fi
	# A script that hangs (a FIFO left open, a server that never answers)
	# fails by itself instead of holding CI until its time runs out.
	t0=$SECONDS
	out=$(BUILD="$build" timeout -k 10 "${SCRIPT_TIMEOUT:-1200}" bash "$s" 2>&1)
	rc=$?
	[ "$rc" -eq 124 ] && out="$out
not ok $(basename "$s"): timed out after ${SCRIPT_TIMEOUT:-1200} s"
	p=$(printf '%s\n' "$out" | grep -c '^ok ')
	f=$(printf '%s\n' "$out" | grep -c '^not ok ')
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		printf '%s\n' "$out" | tail -20
	fi
	printf '%s\n' "$out" | grep -A12 '^not ok ' | head -60
	passed=$((passed + p))
	failed=$((failed + f))
	[ "$f" -ne 0 ] && failures+=("$(basename "$s")")
	echo "script $(basename "$s"): $p passed, $f failed ($((SECONDS - t0)) s)"
done

[ ${#failures[@]} -gt 0 ] && echo "failing: ${failures[*]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
