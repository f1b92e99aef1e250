#!/usr/bin/env bash
# The configuration file (-c FILE, --no-config, --check-config; options.c,
# config.c): its syntax (comments, quotes, repeats, yes/no), every error
# kind as FILE:LINE and exit 2, the command line winning over it, the
# default file (CERTSENTRY_CONF stands for /etc/certsentry/certsentry.conf:
# no test reads or writes /etc), --check-config on good and bad files and
# on the shipped sensor/dist/certsentry.conf (its commented defaults equal
# --help's), and, as root in a network namespace as t_reload.sh does, a
# SIGHUP that re-reads the file: a new rules path and stats interval
# applied, other changes logged "restart to apply", a broken file logged
# with FILE:LINE and the settings in force kept.
set -u
cd "$(dirname "$0")/.."
bin=$(realpath "${CERTSENTRY:-./certsentry}")
py=/usr/bin/python3
tmp=$(mktemp -d)
pid=
ns=
cleanup() {
	[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
	[ -n "$ns" ] && ip netns del "$ns" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
rogue=$PWD/pcaps/fina-rogue-doh.pcap
approved=$PWD/pcaps/approved-dot.pcap
rules=$PWD/pcaps/test.rules

check() {   # check NAME CONDITION-STATUS [details]
	if [ "$2" -eq 0 ]; then echo "ok config $1"; else echo "not ok config $1 ${3:-}"; fi
}
count() { $py tests/evetool.py count "$1" "$2" 2>/dev/null || echo 0; }
# No configuration file of the machine's may leak into a test.
export CERTSENTRY_CONF=$tmp/no-such-default.conf

# ---- syntax: comments, quotes, repeats, yes/no -------------------------------
cp "$approved" "$tmp/with space.pcap"
cat > "$tmp/good.conf" <<EOF
# a whole-line comment, then a blank line

   rules = $rules      # a comment after whitespace
read = $rogue
read = "$tmp/with space.pcap"   # quoted: a space in the name
output = $tmp/eve#1.json
quiet = TRUE
tls-chain = no
	alert-window = 0
EOF
"$bin" -c "$tmp/good.conf" > "$tmp/out" 2> "$tmp/err"; rc=$?
tls=$(count "$tmp/eve#1.json" tls); alerts=$(count "$tmp/eve#1.json" alert)
check "comments, quotes, a repeated read, '#' inside a value, yes/no: rc=$rc tls=$tls alerts=$alerts" \
	$(( rc != 1 || tls != 2 || alerts != 1 )) "$(cat "$tmp/err")"
check "quiet = TRUE: no summary" "$([ ! -s "$tmp/err" ]; echo $?)" "$(head -3 "$tmp/err")"
chain=$(grep '"event_type":"tls"' "$tmp/eve#1.json" | grep -c '"chain"')
check "tls-chain = no leaves the default (no chain in $tls tls events)" $(( chain != 0 || tls != 2 )) "chain=$chain"

# ---- every error kind: FILE:LINE: reason, exit 2, nothing run -----------------
# bad NAME CONTENT PATTERN [LINE]
bad() {
	printf '%b' "$2" > "$tmp/bad.conf"
	"$bin" -c "$tmp/bad.conf" -r "$rogue" -o "$tmp/bad.json" > "$tmp/out" 2> "$tmp/err"; rc=$?
	local first
	first=$(head -1 "$tmp/err")
	[ "$rc" -eq 2 ] && [ "$(wc -l < "$tmp/err")" -eq 1 ] &&
		printf '%s\n' "$first" | grep -q -- "^$tmp/bad.conf:${4:-1}: .*$3" && [ ! -s "$tmp/bad.json" ]
	check "error: $1: $first" $? "rc=$rc $(head -3 "$tmp/err")"
}
bad "unknown name, with a suggestion" 'max-flow = 10\n' "unknown setting 'max-flow' (did you mean 'max-flows'?)"
bad "unknown name, nothing close" 'frobnicate = 1\n' "unknown setting 'frobnicate'$"
bad "a number out of range" '# comment\n\nmax-certs = 0\n' "max-certs: '0' is not a number in 1..1024" 3
bad "not a number" 'snaplen = big\n' "snaplen: 'big' is not a number"
bad "a word not taken" 'tls-log = some\n' "tls-log: 'some' is not all, protected or none"
bad "a bad port list" 'ports = 443,99999\n' "ports: '99999' is not a number in 1..65535"
bad "a flag not yes or no" 'quiet = maybe\n' "quiet: 'maybe' is not yes, no, true or false"
bad "a sink's bad value" 'redis-mode = sideways\n' "redis-mode"
bad "a setting given twice" 'workers = 2\nworkers = 3\n' "'workers' is already set at line 1" 2
bad "a command-line-only option" 'check-rules = /x\n' "'check-rules' is for the command line only"
bad "no '='" 'rules /x\n' "expected '=' after 'rules'"
bad "no value" 'rules =   # nothing\n' "'rules' has no value"
bad "an unclosed quote" 'rules = "/x\n' "no closing quote"
bad "text after a quoted value" 'rules = "/x" y\n' "text after the closing quote"
bad "an unknown escape" 'rules = "a\\qb"\n' "only .* are escapes"
bad "a name in capitals" 'Rules = /x\n' "expected 'name = value'"
bad "a binary byte" 'rules = a\001b\n' "not text: byte 0x01"
$py -c "import sys; open(sys.argv[1], 'w').write('# long\n' + 'bpf = ' + 'x' * 5000 + '\n')" "$tmp/long.conf"
"$bin" -c "$tmp/long.conf" -r "$rogue" > /dev/null 2> "$tmp/err"; rc=$?
grep -q "^$tmp/long.conf:2: line longer than 4096 bytes" "$tmp/err"
check "a line over CONFIG_MAX_LINE is refused, named" $(( rc != 2 || $? )) "rc=$rc $(cat "$tmp/err")"
"$bin" -c "$tmp/absent.conf" -r "$rogue" > /dev/null 2> "$tmp/err"; rc=$?
grep -q "absent.conf" "$tmp/err"; check "-c FILE that does not exist: exit 2, named" $(( rc != 2 || $? )) "rc=$rc"
mkfifo "$tmp/fifo.conf"
timeout 5 "$bin" -c "$tmp/fifo.conf" -r "$rogue" > /dev/null 2> "$tmp/err"; rc=$?
grep -q "fifo.conf.*not a regular file" "$tmp/err"
check "-c FIFO is refused at once (no hang), named" $(( rc != 2 || $? )) "rc=$rc $(cat "$tmp/err")"

# ---- the command line wins ----------------------------------------------------
printf 'rules = %s\nread = %s\ntls-log = none\nquiet = yes\n' "$rules" "$rogue" > "$tmp/p.conf"
"$bin" -c "$tmp/p.conf" -o "$tmp/p1.json"; rc=$?
n1=$(count "$tmp/p1.json" tls)
"$bin" -c "$tmp/p.conf" --tls-log all -o "$tmp/p2.json"; rc2=$?
n2=$(count "$tmp/p2.json" tls)
check "--tls-log on the command line beats the file's tls-log (file: $n1 tls, command line: $n2)" \
	$(( rc != 1 || rc2 != 1 || n1 != 0 || n2 != 1 ))
"$bin" -c "$tmp/p.conf" --tls-log all -r "$approved" -o "$tmp/p3.json"; rc=$?
src=$(grep -o '"pcap_filename":"[^"]*"' "$tmp/p3.json" | sort -u | tr '\n' ' ')
check "-r on the command line replaces the file's read ($src)" \
	$(( rc != 0 || $(grep -c fina-rogue "$tmp/p3.json") != 0 )) "rc=$rc"
printf 'interface = cs-no-such-if0\nquiet = yes\n' > "$tmp/i.conf"
"$bin" -c "$tmp/i.conf" -r "$rogue" -o "$tmp/i.json"; rc=$?
check "-r on the command line replaces the file's interface (rc=$rc)" $(( rc != 0 ))
printf 'keylog = %s/absent.keys\nread = %s\nquiet = yes\n' "$tmp" "$rogue" > "$tmp/k.conf"
"$bin" -c "$tmp/k.conf" --keylog pcaps/tls13/rogue-tls13.keys -o /dev/null; rc=$?
check "--keylog on the command line replaces the file's keylog list (rc=$rc)" $(( rc != 0 ))

# ---- the default file ---------------------------------------------------------
printf 'tls-log = none\n' > "$tmp/default.conf"
CERTSENTRY_CONF=$tmp/default.conf "$bin" -q -r "$rogue" -o "$tmp/d1.json"
CERTSENTRY_CONF=$tmp/default.conf "$bin" -q -c none -r "$rogue" -o "$tmp/d2.json"
CERTSENTRY_CONF=$tmp/default.conf "$bin" -q --no-config -r "$rogue" -o "$tmp/d3.json"
"$bin" -q -r "$rogue" -o "$tmp/d4.json"; rc=$?
d="$(count "$tmp/d1.json" tls) $(count "$tmp/d2.json" tls) $(count "$tmp/d3.json" tls) $(count "$tmp/d4.json" tls)"
check "the default file is read when it exists; -c none and --no-config skip it; absent, no error (tls: $d)" \
	"$([ "$d" = "0 1 1 1" ] && [ "$rc" -eq 0 ]; echo $?)"

# ---- --check-config -------------------------------------------------------------
"$bin" -c sensor/dist/certsentry.conf --check-config > "$tmp/out" 2>&1; rc=$?
grep -q "configuration valid" "$tmp/out"
check "--check-config passes the shipped sensor/dist/certsentry.conf" $(( rc != 0 || $? )) "rc=$rc $(cat "$tmp/out")"
"$bin" -c "$tmp/good.conf" --check-config > "$tmp/out" 2>&1; rc=$?
grep -q "^rules $rules: 2 owners" "$tmp/out" && grep -q "configuration valid" "$tmp/out"
check "--check-config on a good file lists it and its rules" $(( rc != 0 || $? )) "rc=$rc $(cat "$tmp/out")"
printf 'owner a\nprotect ip 192.0.2.1\nprotect frobnicate x\n' > "$tmp/bad.rules"
printf '# the rules\nrules = %s\n' "$tmp/bad.rules" > "$tmp/br.conf"
"$bin" -c "$tmp/br.conf" --check-config > "$tmp/out" 2> "$tmp/err"; rc=$?
grep -q "^$tmp/bad.rules:3: " "$tmp/err"
check "--check-config: the rules the file names, FILE:LINE" $(( rc != 2 || $? )) "rc=$rc $(cat "$tmp/err")"
printf 'read = %s/gone.pcap\n' "$tmp" > "$tmp/gone.conf"
"$bin" -c "$tmp/gone.conf" --check-config > "$tmp/out" 2> "$tmp/err"; rc=$?
grep -q "gone.pcap: No such file" "$tmp/err"
check "--check-config: a capture the file names is missing" $(( rc != 2 || $? )) "rc=$rc $(cat "$tmp/err")"
printf 'rules = %s\nworkers = 0\n' "$rules" > "$tmp/w.conf"
"$bin" -c "$tmp/w.conf" --check-config > "$tmp/out" 2> "$tmp/err"; rc=$?
grep -q "^$tmp/w.conf:2: workers: " "$tmp/err"
check "--check-config on a bad value: FILE:LINE, exit 2" $(( rc != 2 || $? )) "rc=$rc $(cat "$tmp/err")"

# The shipped file: every name a real option, every default --help's.
"$bin" --help > "$tmp/help"
$py - sensor/dist/certsentry.conf "$tmp/help" <<'PY'
import re, sys
conf = open(sys.argv[1]).read()
help_text = open(sys.argv[2]).read()
names = set(re.findall(r"--([a-z0-9][a-z0-9-]*)", help_text))
# An option's line and its continuation lines, for its default "(N".
entries, cur = {}, None
for line in help_text.split("\n\n", 1)[1].splitlines():
    m = re.match(r"^ {2,8}(?:-., )?--([a-z0-9-]+)", line)
    if m:
        cur = m.group(1)
        entries[cur] = line
    elif cur and line.startswith("     "):
        entries[cur] += " " + line.strip()
    else:
        cur = None
bad, n = [], 0
for name, value in re.findall(r"(?m)^#([a-z][a-z0-9-]*) = (.*)$", conf):
    n += 1
    if name not in names:
        bad.append("%s: not an option" % name)
        continue
    m = re.search(r"\((\d+)", entries.get(name, "")[len(name) + 4:])
    if m and value.isdigit() and m.group(1) != value:
        bad.append("%s: %s in the file, %s in --help" % (name, value, m.group(1)))
ok = n >= 40 and not bad
print(("ok" if ok else "not ok") + " config the shipped file's %d settings are options, "
      "their defaults --help's" % n + ("" if ok else ": " + "; ".join(bad)))
PY
# Uncommented (but for the settings that need a machine's paths or a user),
# it is still valid.
sed -n 's/^#\([a-z][a-z0-9-]* = .*\)$/\1/p' sensor/dist/certsentry.conf |
	grep -vE '^(interface|user|pidfile|rules|keylog|baseline|output|state|evidence|metrics|trust-store|ct-follow|ct-state|ct-ca-file) ' \
	> "$tmp/all.conf"
"$bin" -c "$tmp/all.conf" --check-config > "$tmp/out" 2>&1; rc=$?
check "the shipped file uncommented passes --check-config ($(wc -l < "$tmp/all.conf") settings)" \
	"$rc" "$(cat "$tmp/out")"

# ---- SIGHUP: the file read again in a live run ----------------------------------
if [ "$(id -u)" -ne 0 ]; then
	echo "# config: SIGHUP re-read skipped (needs root for a network namespace)"
	exit 0
fi
for t in ip tcpreplay; do
	command -v "$t" >/dev/null || { echo "not ok config: $t missing"; exit 0; }
done
ns=config-${CS_NS_TAG:-cs}-$$
ip netns add "$ns" &&
ip -n "$ns" link add cfx type veth peer name cfy &&
ip -n "$ns" link set cfx mtu 9000 up && ip -n "$ns" link set cfy mtu 9000 up ||
	{ echo "not ok config: cannot build the namespace"; exit 0; }
ln -s "$PWD/pcaps/pki" "$tmp/pki"
printf 'owner quiet\nprotect ip 192.0.2.99\napprove ca pki/approved-root.pem\n' > "$tmp/quiet.rules"
cat > "$tmp/live.conf" <<EOF
rules = $tmp/quiet.rules
stats-interval = 1
max-flows = 1000
output = $tmp/live.json
EOF
wait_for() {   # wait_for PATTERN SECONDS [COUNT]
	for _ in $(seq $(($2 * 10))); do
		[ "$(grep -c -- "$1" "$tmp/lerr")" -ge "${3:-1}" ] && return 0
		sleep 0.1
	done
	return 1
}
ip netns exec "$ns" "$bin" -c "$tmp/live.conf" -i cfy --workers 2 2> "$tmp/lerr" &
pid=$!
wait_for "capturing on" 10 || { echo "not ok config: the sensor did not start"; cat "$tmp/lerr"; exit 0; }
cat > "$tmp/live.conf.new" <<EOF
# edited: new rules, slower stats, a bigger table, a new setting
rules = "$rules"
stats-interval = 3
max-flows = 2000
output = $tmp/live.json
tls-log = protected
EOF
mv "$tmp/live.conf.new" "$tmp/live.conf"
kill -HUP "$pid"
wait_for "rules reloaded from $rules" 20 || true
for want in "config: rules changed; applied" "config: stats-interval changed; applied" \
	"config: max-flows changed; restart to apply" "config: tls-log changed; restart to apply" \
	"rules reloaded from $rules (2 owners"; do
	grep -q -- "$want" "$tmp/lerr"; check "SIGHUP: '$want'" $? "$(tail -8 "$tmp/lerr")"
done
n=$(grep -c "changed" "$tmp/lerr")
check "SIGHUP: one line per changed setting, none for the unchanged output ($n)" $(( n != 4 ))
ip netns exec "$ns" tcpreplay -q -i cfx --pps 200 "$rogue" >/dev/null 2>&1
for _ in $(seq 30); do grep -q '"event_type":"alert"' "$tmp/live.json" && break; sleep 0.1; done
grep '"event_type":"alert"' "$tmp/live.json" | grep -q '"cloudflare-dns"'
check "an alert under the rules the re-read file names" $?
s0=$(grep -c '"event_type":"stats"' "$tmp/live.json"); sleep 6.2
s1=$(grep -c '"event_type":"stats"' "$tmp/live.json")
check "stats every 3 s after the SIGHUP ($((s1 - s0)) in 6.2 s)" $(( s1 - s0 < 1 || s1 - s0 > 3 ))
# A file broken since: said with FILE:LINE, nothing changes, the rules
# themselves are still reloaded as SIGHUP always did.
printf 'rules = %s\nstats-interval = soon\n' "$tmp/quiet.rules" > "$tmp/live.conf"
kill -HUP "$pid"
wait_for "rules reloaded from" 20 2 || true
grep -q "config: $tmp/live.conf:2: stats-interval: 'soon' is not a number.*the settings in force stay" "$tmp/lerr"
check "SIGHUP with a broken file: FILE:LINE said, settings kept" $? "$(tail -4 "$tmp/lerr")"
check "... and the rules in force reloaded from the same path" \
	"$([ "$(grep -c "rules reloaded from $rules (2 owners" "$tmp/lerr")" -eq 2 ]; echo $?)" "$(tail -4 "$tmp/lerr")"
kill -TERM "$pid"
for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
wait "$pid"; rc=$?; pid=
check "SIGTERM: exit 0" "$rc" "$(tail -5 "$tmp/lerr")"
if ../shared/eve/validate "$tmp/live.json" > "$tmp/v" 2>&1; then
	check "EVE schema: $(tail -1 "$tmp/v")" 0
else
	check "EVE schema" 1 "$(head -5 "$tmp/v")"
fi
