#!/usr/bin/env bash
# Replays the fuzz regression inputs through the harnesses built with the
# ordinary compiler (make test builds $BUILD/replay/fuzz_NAME from
# tests/fuzz/fuzz_NAME.c and tests/fuzz/replay.c).  For every harness:
# tests/fuzz/regress/NAME/* (every crash a fuzzer found, and a few seed
# inputs named seed-*).  One line per harness:
#   ok fuzz-replay NAME: K inputs
#   not ok fuzz-replay NAME: ...      (a crash, or the binary is missing)
# With BUILD=build-san (make SANITIZE=1 test) the replays run under
# ASan/UBSan, which is what turns most fuzz findings into failures.
set -u
cd "$(dirname "$0")/.."
build=${BUILD:-build}

for src in tests/fuzz/fuzz_*.c; do
	[ -f "$src" ] || continue
	name=$(basename "$src" .c)
	name=${name#fuzz_}
	bin="$build/replay/fuzz_$name"
	dir="tests/fuzz/regress/$name"
	if [ ! -x "$bin" ]; then
		echo "not ok fuzz-replay $name: $bin missing (not built by make test)"
		continue
	fi
	inputs=()
	if [ -d "$dir" ]; then
		for f in "$dir"/*; do
			[ -f "$f" ] && inputs+=("$f")
		done
	fi
	if [ ${#inputs[@]} -eq 0 ]; then
		echo "ok fuzz-replay $name: 0 inputs"
		continue
	fi
	out=$("$bin" "${inputs[@]}" 2>&1)
	rc=$?
	ran=$(printf '%s\n' "$out" | grep -c '^ok replay ')
	if [ "$rc" -ne 0 ] || [ "$ran" -ne ${#inputs[@]} ]; then
		# The input after the last "ok" line is the one that failed.
		bad=${inputs[$ran]:-?}
		echo "not ok fuzz-replay $name: exit $rc after $ran of ${#inputs[@]} inputs, failing on $bad"
		printf '%s\n' "$out" | grep -v '^ok replay ' | head -20 | sed 's/^/  /'
		continue
	fi
	echo "ok fuzz-replay $name: $ran inputs"
done
exit 0
