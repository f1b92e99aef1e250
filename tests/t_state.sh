#!/usr/bin/env bash
# Saved alert windows (--state) that cannot be read whole never stop the
# sensor (DESIGN.md "Nothing lost, nothing hidden"; issue 27 item 2).  The
# real binary on pcaps/fina-rogue-doh.pcap (one rogue chain at 1.1.1.1)
# with the defaults plus --state, for each damage: empty, cut short in a
# line, garbage text, binary bytes, more entries than --max-alert-keys
# (the newest kept, or the oldest left out), another version's header, a
# bad line in the middle (the lines around it kept), a FIFO in the file's
# place.  Each run must:
#   - start and read the capture: exit 1 with the alert when the damage
#     took the rogue's window, 0 when its line was kept (no second alert);
#   - say one line on stderr: "certsentry: --state FILE: line N: reason;
#     moved aside to FILE.corrupt-<UTC time>; starting with N windows read";
#   - keep the damaged bytes as FILE.corrupt-YYYYmmddTHHMMSSZ;
#   - count it in the EVE stats event and the Prometheus metrics;
#   - rewrite the state valid (the next run reads it without a word), with
#     no temporary left beside it.
# A missing file is a first start: no word, no .corrupt- file.
set -u
cd "$(dirname "$0")/.."
bin=${CERTSENTRY:-./certsentry}
py=/usr/bin/python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rules=pcaps/test.rules
rogue=pcaps/fina-rogue-doh.pcap
validate=../shared/eve/validate
[ -x "$bin" ] || { echo "not ok state: no binary $bin"; exit 1; }

check() {   # check NAME STATUS [details]
	if [ "$2" -eq 0 ]; then echo "ok state $1"; else echo "not ok state $1 ${3:-}"; fi
}

# run DIR [options...]: certsentry with --state DIR/state, EVE in DIR/eve,
# stderr in DIR/err, status in DIR/rc, metrics in DIR/m.prom.
run() {
	local d=$1
	shift
	timeout 20 "$bin" -q -R "$rules" -r "$rogue" --state "$d/state" -o "$d/eve" \
		--stats-interval 60 --metrics "$d/m.prom" "$@" 2>"$d/err"
	echo $? >"$d/rc"
	cat "$d/eve" >>"$tmp/all.eve" 2>/dev/null
}

alerts() { grep -c '"event_type":"alert"' "$1/eve"; }

# A first run: the state file every damage below starts from.
mkdir "$tmp/first"
run "$tmp/first"
good="$tmp/first/state"
[ "$(cat "$tmp/first/rc")" = 1 ] && [ ! -s "$tmp/first/err" ] && [ "$(alerts "$tmp/first")" = 1 ] &&
	[ -z "$(ls "$tmp/first" | grep corrupt)" ]
check "a missing state file is a first start: the alert, no word on stderr" $? "$(cat "$tmp/first/err")"
head -1 "$good" | grep -q '^certsentry-dedup 2 window ' && [ "$(wc -l <"$good")" = 2 ] &&
	[ "$(sed -n 2p "$good" | awk '{ print $11 }')" = tcp ]
check "the first run saves its window" $? "$(cat "$good")"
hdr=$(head -1 "$good")
entry=$(sed -n 2p "$good")
# other windows: the rogue's entry at other server ports (older first)
other() { echo "$entry" | awk -v p="$1" '{ $10 = p; print }'; }

# case NAME WANT_ALERTS WANT_WINDOWS WANT_REASON [options...]: the state
# file $tmp/NAME/state is already damaged.  WANT_ALERTS: 1 when the damage
# took the rogue's window, 0 when its line was kept (the sighting is then
# a repeat in an open window; the exit status is 1 either way: the rogue
# chain was seen).
case_() {
	local name=$1 want_a=$2 want_n=$3 reason=$4 d="$tmp/$1"
	shift 4
	# (a FIFO is not read: cp would wait for a writer)
	if [ -p "$d/state" ]; then : >"$d/damaged"; else cp "$d/state" "$d/damaged"; fi
	run "$d" "$@"
	local rc err aside line n_err
	rc=$(cat "$d/rc")
	err=$(cat "$d/err")
	n_err=$(grep -c . "$d/err")
	aside=$(ls "$d" | grep '^state\.corrupt-[0-9]\{8\}T[0-9]\{6\}Z$')
	line="certsentry: --state $d/state: $reason; moved aside to $d/$aside; starting with $want_n windows read"
	[ "$rc" = 1 ] && [ "$(alerts "$d")" = "$want_a" ]
	check "$name: starts, reads the capture, $want_a alert written, exit 1" $? "rc=$rc alerts=$(alerts "$d") $err"
	[ "$n_err" = 1 ] && [ "$err" = "$line" ]
	check "$name: one line on stderr" $? "
	  got:  $err
	  want: $line"
	[ -n "$aside" ] && [ "$(ls "$d" | grep -c corrupt)" = 1 ] &&
		{ [ -p "$d/$aside" ] || cmp -s "$d/$aside" "$d/damaged"; }
	check "$name: the damaged bytes kept as state.corrupt-<UTC time>" $? "$(ls "$d")"
	$py - "$d/eve" "$d/m.prom" <<'PY'
import json, sys
st = [json.loads(l) for l in open(sys.argv[1]) if '"event_type":"stats"' in l][-1]["certsentry"]
m = dict(l.rsplit(" ", 1) for l in open(sys.argv[2]) if not l.startswith("#"))
assert st["state_files_set_aside"] == 1 and st["state_lines_not_read"] >= 0, st
assert m["certsentry_state_files_set_aside_total"].strip() == "1", m
assert int(m["certsentry_state_lines_not_read_total"]) == st["state_lines_not_read"], m
PY
	check "$name: counted in the stats event and the metrics" $?
	# The state is written back valid: the next run reads it silently.
	mkdir "$d/again"
	cp "$d/state" "$d/again/state" 2>/dev/null
	run "$d/again"
	[ ! -s "$d/again/err" ] && [ "$(cat "$d/again/rc")" = 1 ] && [ "$(alerts "$d/again")" = 0 ] &&
		[ -z "$(ls -A "$d" | grep -v '^state$\|^state\.corrupt-\|^eve$\|^err$\|^rc$\|^m\.prom$\|^damaged$\|^again$')" ]
	check "$name: the state is rewritten valid, no temporary left" $? "$(cat "$d/again/err") $(ls -A "$d")"
}

mk() { mkdir "$tmp/$1"; cat >"$tmp/$1/state"; }

: | mk empty
case_ empty 1 0 "empty"

{ echo "$hdr"; printf '%s' "${entry:0:60}"; } | mk cut-short
case_ cut-short 1 0 "line 2: cut short (no newline at the end)"

{ echo "$hdr"; echo "$entry"; printf '%s' "${entry:0:60}"; } | mk cut-after-good
case_ cut-after-good 0 1 "line 3: cut short (no newline at the end)"

printf 'hello world\nthis is not a state file\n' | mk garbage
case_ garbage 1 0 "line 1: not a certsentry-dedup state file header (2 lines not read)"

{ echo "$hdr"; printf 'abc\0def\n'; echo "$entry"; } | mk binary
case_ binary 0 1 "line 2: binary bytes"

head -c 3000 /dev/urandom | tr -d '\000' | tr '\n' x | mk random
printf '\n' >>"$tmp/random/state"
case_ random 1 0 "line 1: line too long"

{ echo "$hdr"; other 2; other 3; other 4; other 5; echo "$entry"; } | mk over-limit
case_ over-limit 0 2 "more entries than --max-alert-keys 2: the 3 oldest left out" --max-alert-keys 2

{ echo "$hdr"; echo "$entry"; other 2; other 3; } | mk over-limit-oldest
case_ over-limit-oldest 1 2 "more entries than --max-alert-keys 2: the 1 oldest left out" --max-alert-keys 2

{ echo "certsentry-dedup 3 window 3600000000"; echo "$entry"; } | mk version
case_ version 1 0 "line 1: another version of the state file (this sensor reads certsentry-dedup 1 and 2) (2 lines not read)"

# A version 1 file (before the transport was saved: every window TCP) is
# read as it was written: the rogue's window holds, no alert, no word, and
# the state is saved again as version 2.
mkdir "$tmp/v1"
{ echo "$hdr" | sed 's/^certsentry-dedup 2 /certsentry-dedup 1 /'
  echo "$entry" | awk '{ $11 = ""; print }' | tr -s ' '; } >"$tmp/v1/state"
run "$tmp/v1"
[ "$(cat "$tmp/v1/rc")" = 1 ] && [ ! -s "$tmp/v1/err" ] && [ "$(alerts "$tmp/v1")" = 0 ] &&
	head -1 "$tmp/v1/state" | grep -q '^certsentry-dedup 2 window '
check "a version 1 state file is read (its window holds) and saved as version 2" $? \
	"rc=$(cat "$tmp/v1/rc") alerts=$(alerts "$tmp/v1") $(cat "$tmp/v1/err") $(head -1 "$tmp/v1/state")"

{ echo "$hdr"; other 2; echo "1 2 3"; echo "$entry"; } | mk bad-middle
case_ bad-middle 0 2 "line 3: expected 17 fields"

{ echo "$hdr"; other 2; echo "$entry" | sed 's/unapproved-issuer/no-such-verdict/'; echo "$entry"; echo "$entry"; } | mk bad-values
case_ bad-values 0 2 "line 3: unknown verdict (2 lines not read)"

mkdir "$tmp/fifo"
mkfifo "$tmp/fifo/state"
case_ fifo 1 0 "a FIFO, not a regular file (refused: it could block or never end)"

# Two damaged files in one second: the second gets its own name.
d="$tmp/twice"
mkdir "$d"
: >"$d/state"
timeout 20 "$bin" -q -R "$rules" -r "$rogue" --state "$d/state" -o /dev/null 2>/dev/null
: >"$d/state"
timeout 20 "$bin" -q -R "$rules" -r "$rogue" --state "$d/state" -o /dev/null 2>/dev/null
n=$(ls "$d" | grep -c '^state\.corrupt-')
check "two damaged files in a row: both kept (got $n)" $(( n != 2 ))

# Nothing above may be invalid EVE.
out=$("$validate" <"$tmp/all.eve" 2>&1 | tail -1)
echo "$out" | grep -q " 0 invalid"
check "EVE schema: $out" $?
