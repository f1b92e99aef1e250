#!/usr/bin/env bash
# -u USER in every mode (issue 27, item 4): reading files, certsentry
# drops to USER, every capability and no_new_privs before it parses a
# byte of a capture (read from the running process's /proc status while
# it waits on a FIFO); inputs opened before the drop stay readable; a
# path USER cannot write later (--state) fails at start, exit 2, not at
# exit; without -u nothing changes.  Root only (skipped otherwise).
set -u
cd "$(dirname "$0")/.."
bin=${CERTSENTRY:-./certsentry}
py=/usr/bin/python3
rules=pcaps/test.rules
rogue=pcaps/fina-rogue-doh.pcap
if [ "$(id -u)" != 0 ]; then
	echo "ok privs # skip: not root"
	exit 0
fi
if ! id nobody >/dev/null 2>&1; then
	echo "ok privs # skip: no user nobody"
	exit 0
fi
[ -x "$bin" ] || { echo "not ok privs: no binary $bin"; exit 1; }
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
chmod 755 "$tmp"
check() {   # check NAME GOT WANT
	if [ "$2" = "$3" ]; then echo "ok privs $1"; else echo "not ok privs $1: got '$2', want '$3'"; fi
}
nobody_uid=$(id -u nobody)
nobody_gid=$(id -g nobody)

# The capture in a directory only root can enter: read all the same
# (opened before the drop).  Its first 100 bytes, a pause, the rest.
mkdir -m 700 "$tmp/private"
cp "$rogue" "$tmp/private/rogue.pcap"
mkfifo "$tmp/fifo"
mkdir -m 777 "$tmp/out"
"$bin" -u nobody -R "$rules" -r "$tmp/fifo" -r "$tmp/private/rogue.pcap" \
	-o "$tmp/out/x.eve" 2>"$tmp/err" &
pid=$!
{ head -c 100 "$rogue"; sleep 2; tail -c +101 "$rogue"; } >"$tmp/fifo" &
writer=$!
status=
for _ in $(seq 1 100); do
	s=$(cat "/proc/$pid/status" 2>/dev/null)
	if echo "$s" | grep -q "^Uid:[[:space:]]*$nobody_uid"; then status=$s; break; fi
	sleep 0.02
done
field() { echo "$status" | sed -n "s/^$1:[[:space:]]*//p" | tr -s '[:space:]' ' ' | sed 's/ $//'; }
check "-u nobody -r: uid while reading" "$(field Uid)" "$nobody_uid $nobody_uid $nobody_uid $nobody_uid"
check "-u nobody -r: gid while reading" "$(field Gid)" "$nobody_gid $nobody_gid $nobody_gid $nobody_gid"
check "-u nobody -r: no supplementary group but nobody's" \
	"$(field Groups | tr ' ' '\n' | grep -v "^$nobody_gid\$" | grep -c .)" 0
check "-u nobody -r: CapEff" "$(field CapEff)" 0000000000000000
check "-u nobody -r: CapPrm" "$(field CapPrm)" 0000000000000000
check "-u nobody -r: CapInh" "$(field CapInh)" 0000000000000000
check "-u nobody -r: CapBnd" "$(field CapBnd)" 0000000000000000
check "-u nobody -r: CapAmb" "$(field CapAmb)" 0000000000000000
check "-u nobody -r: NoNewPrivs" "$(field NoNewPrivs)" 1
wait "$writer"
wait "$pid"
rc=$?
pid=
alerts=$($py tests/evetool.py count "$tmp/out/x.eve" alert)
check "-u nobody -r: both inputs read (one only root could open), the alert" \
	"$(grep -c 'alerts$' "$tmp/err") $alerts rc=$rc" "1 1 rc=1"

# Standard input, and --certs: the drop happens there too.
"$bin" -q -u nobody -R "$rules" -r - -o /dev/null <"$rogue"
check "-u nobody -r -: read, the alert" "rc=$?" "rc=1"

# A --state nobody cannot write: refused at start, exit 2, the path named.
mkdir -m 700 "$tmp/rootonly"
"$bin" -u nobody -R "$rules" --alert-window 60 --state "$tmp/rootonly/state" -r "$rogue" \
	-o "$tmp/out/y.eve" 2>"$tmp/state.err"
rc=$?
grep -q "^certsentry: -u nobody: cannot write $tmp/rootonly/state (--state): " "$tmp/state.err"
check "-u nobody, unwritable --state: said at start, exit 2" "$? rc=$rc" "0 rc=2"
check "-u nobody, unwritable --state: nothing read" "$(cat "$tmp/out/y.eve" 2>/dev/null | wc -l)" 0
# ... and one it can: runs, and the state is written as nobody.
mkdir -m 700 "$tmp/nobodys"
chown nobody "$tmp/nobodys"
"$bin" -q -u nobody -R "$rules" --alert-window 60 --state "$tmp/nobodys/state" -r "$rogue" \
	-o /dev/null 2>"$tmp/state2.err"
rc=$?
check "-u nobody, writable --state: written at exit by nobody" \
	"rc=$rc $(stat -c %U "$tmp/nobodys/state" 2>/dev/null)" "rc=1 nobody"

# An unknown user: exit 2 at start.
"$bin" -q -u no-such-user-helper-a -R "$rules" -r "$rogue" -o /dev/null 2>"$tmp/nouser.err"
rc=$?
grep -q "no-such-user-helper-a: no such user" "$tmp/nouser.err"
check "unknown -u user: exit 2, said" "$? rc=$rc" "0 rc=2"

# Live, in a network namespace of our own (its loopback): the same drop
# once the interface is open; a --pidfile whose directory nobody cannot
# write (it is removed at exit) refused at start.
ns=certsentry-helper-a-privs-$$
if command -v ip >/dev/null && ip netns add "$ns" 2>/dev/null; then
	ip netns exec "$ns" ip link set lo up
	ip netns exec "$ns" "$bin" -i lo -u nobody -R "$rules" -o "$tmp/out/live.eve" \
		--pidfile "$tmp/rootonly/pid" 2>"$tmp/live-pid.err"
	rc=$?
	grep -q "cannot write $tmp/rootonly/pid (--pidfile)" "$tmp/live-pid.err"
	check "live -u nobody, unwritable --pidfile directory: said at start, exit 2" "$? rc=$rc" "0 rc=2"
	ip netns exec "$ns" "$bin" -i lo -u nobody -R "$rules" -o "$tmp/out/live.eve" \
		--pidfile "$tmp/out/pid" 2>"$tmp/live.err" &
	pid=$!
	status=
	for _ in $(seq 1 100); do
		s=$(cat "/proc/$pid/status" 2>/dev/null)
		if echo "$s" | grep -q "^Uid:[[:space:]]*$nobody_uid"; then status=$s; break; fi
		sleep 0.05
	done
	check "live -u nobody: uid, capabilities, no_new_privs" \
		"$(field Uid) $(field CapEff) $(field CapPrm) $(field CapBnd) $(field NoNewPrivs)" \
		"$nobody_uid $nobody_uid $nobody_uid $nobody_uid 0000000000000000 0000000000000000 0000000000000000 1"
	# logrotate's way: the file moved away, SIGHUP: nobody makes the new one.
	mv "$tmp/out/live.eve" "$tmp/out/live.eve.1"
	kill -HUP "$pid"
	for _ in $(seq 1 50); do [ -e "$tmp/out/live.eve" ] && break; sleep 0.05; done
	check "live -u nobody: the output reopened after rotation (SIGHUP) by nobody" \
		"$(stat -c %U "$tmp/out/live.eve" 2>/dev/null) $(grep -c 'cannot reopen' "$tmp/live.err")" \
		"nobody 0"
	kill -TERM "$pid"
	wait "$pid"
	rc=$?
	pid=
	check "live -u nobody: stops cleanly on SIGTERM, pidfile removed" \
		"rc=$rc $(test -e "$tmp/out/pid" && echo left)" "rc=0 "
	ip netns del "$ns"
else
	echo "ok privs live # skip: no network namespace"
fi

# Without -u: as before (root, nothing said about it).
"$bin" -R "$rules" -r "$rogue" -o /dev/null 2>"$tmp/root.err"
check "without -u: nothing said about privileges" "$(grep -ci 'privilege\|-u ' "$tmp/root.err")" 0
