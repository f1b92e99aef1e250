#!/usr/bin/env bash
# The source tree is layered as the data flows (tests/layers.sh holds the
# order of the stages and the rules): no include from a lower stage to a
# higher one, no header outside a stage folder, private headers only
# beside their users.  Then the check is run on doctored copies of the
# tree (one rule broken in each) and must fail on each: a check that
# cannot fail checks nothing.
set -u
cd "$(dirname "$0")/.." || exit 1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

check() {   # check NAME STATUS [details]
	if [ "$2" -eq 0 ]; then echo "ok layers $1"; else echo "not ok layers $1 ${3:-}"; fi
}

out=$(bash tests/layers.sh . 2>&1); rc=$?
check "the tree keeps its layers" "$rc" "$(printf '%s' "$out" | head -5 | tr '\n' ';')"

# The Makefile finds every module itself and derives header dependencies.
grep -q -- '-MMD' Makefile
check "the Makefile derives dependencies (-MMD)" $?
n=$(grep -c '^DEPS_' Makefile)
check "no hand-written dependency lists in the Makefile ($n)" "$([ "$n" -eq 0 ]; echo $?)"

doctor() {   # doctor NAME EDIT-COMMAND: a copy with one rule broken must fail
	local d="$tmp/$1"
	mkdir -p "$d"
	cp -r sensor include "$d/"
	(cd "$d" && eval "$2")
	bash tests/layers.sh "$d" > "$d.out" 2>&1
	local r=$?
	check "a copy with $1 fails" "$([ "$r" -ne 0 ]; echo $?)" "$(head -3 "$d.out")"
}
doctor "capture including the engine" \
	"echo '#include \"engine/engine.h\"' >> sensor/capture/decode.c"
doctor "the flow table including TLS" \
	"sed -i '0,/#include \"capture\/decode.h\"/s//#include \"analyser\/tls.h\"\n&/' include/flow/flow.h"
doctor "a header at the top of include/" "touch include/stray.h"
doctor "a private header used by another stage" \
	"echo '#include \"../analyser/tls/tls_int.h\"' >> sensor/engine/engine.c; echo '#include \"tls_int.h\"' >> sensor/engine/engine_tcp.c"
doctor "an include without its stage" "echo '#include \"decode.h\"' >> sensor/flow/flow.c"
doctor "a folder that is no stage" "mkdir -p sensor/misc && echo '#include \"core/buf.h\"' > sensor/misc/x.c"
