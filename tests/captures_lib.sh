# Sourced by the capture test scripts (t_captures.sh, t_evasion.sh,
# t_encap.sh): run one capture of a manifest and check its alerts and its
# number of tls events.  Needs $bin, $rules, $py and $tmp set
# (captures_setup sets them).

# captures_setup NAME DIR GENERATOR
#   the common start of a script testing the manifest DIR/captures.tsv:
#   sets bin (CERTSENTRY, default ./certsentry), rules (pcaps/test.rules),
#   dir, py (Debian's python3) and tmp (removed on exit); prints "not ok
#   NAME: ..." and exits 1 when the binary or the manifest (made by
#   GENERATOR) is missing.
captures_setup() {
	bin=${CERTSENTRY:-./certsentry}
	rules=pcaps/test.rules
	dir=$2
	py=/usr/bin/python3
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	if [ ! -x "$bin" ]; then
		echo "not ok $1: no binary $bin (run make)"
		exit 1
	fi
	if [ ! -f "$dir/captures.tsv" ]; then
		echo "not ok $1: $dir/captures.tsv missing (run $py $3)"
		exit 1
	fi
}
#
# check_capture DIR FILE HANDSHAKES EXPECTED OUT
#   runs certsentry on DIR/FILE into OUT; prints "ok/not ok alerts FILE"
#   (the exact owner:verdict list and the exit status 1 when alerts are
#   expected, else 0) and "ok/not ok handshakes FILE" (tls event count).
check_capture() {
	local dir=$1 file=$2 handshakes=$3 expected=$4 out=$5
	local err="$out.err" rc want_rc=0 got n

	if [ ! -f "$dir/$file" ]; then
		echo "not ok alerts $file: capture missing"
		echo "not ok handshakes $file: capture missing"
		return 1
	fi
	"$bin" -q -R "$rules" -r "$dir/$file" -o "$out" 2>"$err"
	rc=$?
	[ -f "$out" ] || : > "$out"
	[ "$expected" != "-" ] && want_rc=1
	got=$($py tests/evetool.py alerts "$out")
	if [ "$rc" -eq "$want_rc" ] && [ "$got" = "$expected" ]; then
		echo "ok alerts $file: $got"
	else
		echo "not ok alerts $file: exit $rc (want $want_rc), alerts '$got', want '$expected'"
		sed 's/^/# /' "$err" | head -5
	fi
	n=$($py tests/evetool.py count "$out" tls)
	if [ "$n" = "$handshakes" ]; then
		echo "ok handshakes $file: $n"
	else
		echo "not ok handshakes $file: $n tls events, want $handshakes"
	fi
	return 0
}
