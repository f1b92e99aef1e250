#!/usr/bin/env bash
# layers.sh [ROOT]: is the source tree layered as the data flows?  Prints
# one line per include that breaks a rule and exits 1 if any; silent and 0
# when the tree is clean.  Run by tests/t_layers.sh; by hand it is the
# command docs/design.md names ("bash tests/layers.sh").
#
# The stages, lowest first.  A file in sensor/STAGE/ or include/STAGE/ may
# include headers of its own stage and of the stages before it, never of
# one after it.  This list is the one definition of the order (sensor/README.md
# and docs/design.md describe it).
STAGES="core capture flow secrets transport analyser x509 ct verdict sink event engine run"
#
# The rules:
#   1. no include runs from a lower stage to a higher one;
#   2. include/ holds only stage folders (no header at its top);
#   3. a private header (sensor/STAGE/.../NAME_int.h) is included only by
#      files of its own folder (and by tests, which may test white-box);
#   4. an include names its stage ("capture/decode.h"), or is private and
#      sits beside the file that includes it.
set -u
root=${1:-.}
cd "$root" || exit 2
bad=0

declare -A RANK
i=0
for s in $STAGES; do
	RANK[$s]=$i
	i=$((i + 1))
done

say() {
	echo "$1"
	bad=1
}

for h in include/*.h; do
	[ -e "$h" ] && say "$h: a header outside the stage folders of include/"
done

while IFS= read -r f; do
	case "$f" in
	sensor/*) rel=${f#sensor/} ;;
	include/*) rel=${f#include/} ;;
	esac
	stage=${rel%%/*}
	me=${RANK[$stage]:-}
	if [ -z "$me" ]; then
		case "$rel" in */*) say "$f: folder $stage is not a stage (tests/layers.sh STAGES)" ;; esac
		continue
	fi
	dir=${f%/*}
	while IFS=: read -r n line; do
		inc=${line#\#include \"}
		inc=${inc%%\"*}
		case "$inc" in
		*/*)
			st=${inc%%/*}
			r=${RANK[$st]:-}
			if [ -z "$r" ]; then
				say "$f:$n: includes $inc, not in a stage folder"
			elif [ ! -f "include/$inc" ]; then
				say "$f:$n: includes $inc, which include/ does not have"
			elif [ "$r" -gt "$me" ]; then
				say "$f:$n: $stage includes $inc: a lower stage includes a higher one"
			fi ;;
		*)
			if [ ! -f "$dir/$inc" ]; then
				say "$f:$n: includes $inc without its stage (and no private $dir/$inc)"
			fi ;;
		esac
	done < <(grep -n '^#include "' "$f")
done < <(find sensor include -name '*.[ch]' | LC_ALL=C sort)

# Private headers: included only beside them (tests excepted).
while IFS= read -r p; do
	dir=$(dirname "$p")
	name=$(basename "$p")
	grep -rl --include='*.[ch]' "#include \"$name\"" sensor include | while IFS= read -r user; do
		[ "$(dirname "$user")" = "$dir" ] || echo "$user: includes $p, private to $dir"
	done
done < <(find sensor -name '*_int.h') | grep . && bad=1

exit $bad
