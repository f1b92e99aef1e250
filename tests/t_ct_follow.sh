#!/usr/bin/env bash
# --ct-follow LOGLIST (issue 31): certsentry follows Certificate Transparency
# logs served by tests/ctlog/ctlogd.py on 127.0.0.1 (RFC 6962 and
# static-ct-api logs side by side, healthy and faulty), with entries made by
# tests/bench/mkct (MKCT, built when missing): N entries from 20 issuing CAs,
# 1 in 20 naming the owner's protected IP or name.
# Checks:
#   - ctlogd.py --selftest passes on these entries (the server is right
#     before certsentry is judged against it);
#   - a good RFC 6962 log and a good static log, --ct-once, from the Chrome
#     v3 list and from the text list: the ct.index values alerted are
#     exactly those --ct-json alerts on the same entries, none twice, no
#     entry fetched twice; pending and retired logs never asked;
#   - in one polling run beside two growing good logs (followed to the end,
#     the growth proved by a consistency proof): a fork (another tree at
#     the larger size), the same size with another root, an entry outside
#     the signed tree, a head signed by another key, a head smaller than
#     the one before - RFC 6962 and static alike - each one alert of its own, "CERTSENTRY CT log ...", with
#     certsentry.ct_log {name, url, log_id, problem, heads, proof};
#   - a connection dropped in the middle of a page (and of a data tile):
#     every entry still alerted once;
#   - 429 with Retry-After: 2: nothing asked of that log before it ran out;
#   - SIGTERM at random points, then a restart with the same --ct-state:
#     the union of the runs' alerts is the one-run set, no index twice;
#   - kill -9 and restart: nothing lost, repeats within one batch;
#   - the server killed and restarted while followed: everything, once;
#   - --ct-from INDEX or DATE: the alerts from INDEX (the first entry logged
#     at DATE) on;
#   - SIGHUP: a log added to the list is followed;
#   - a log naming 300 issuing CAs, with no bound on the request rate;
#   - every EVE line passes ../shared/eve/validate.
set -u
cd "$(dirname "$0")/.."
bin=${CERTSENTRY:-./certsentry}
build=${BUILD:-build}
mkct=${MKCT:-$build/bench/mkct}
py=/usr/bin/python3
ctlogd="$py tests/ctlog/ctlogd.py"
fc="$py tests/ctlog/followcheck.py"
validate=../shared/eve/validate
N=${CT_FOLLOW_ENTRIES:-2000}
N1=$((N / 2 + 37))          # the first head of the growing logs
tmp=$(mktemp -d)
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

# check NAME STATUS [details]; a status from $? is taken into r first (a
# command substitution in NAME would reset $?)
check() {
	if [ "$2" -eq 0 ]; then echo "ok ct_follow $1"; else echo "not ok ct_follow $1 ${3:-}"; fi
}

# the generator needs no sanitizer: a plain build's will do
[ -x "$mkct" ] || [ -n "${MKCT:-}" ] || mkct=build/bench/mkct
if [ ! -x "$mkct" ]; then
	# the plain build, even from inside make SANITIZE=1 test (its MAKEFLAGS)
	MAKEFLAGS= make -s SANITIZE= build/bench/mkct >/dev/null 2>&1 ||
		{ echo "not ok ct_follow: no $mkct (make -j2 build/bench/mkct)"; exit 1; }
fi
mkdir -p "$tmp/ct"
"$mkct" "$tmp/ct" --entries "$N" --issuers 20 --protected 50 --page 500 >/dev/null ||
	{ echo "not ok ct_follow: mkct failed"; exit 1; }
ct=$tmp/ct/ct.json
rules=$tmp/ct/ct.rules

# ---- the server, checked on its own first ------------------------------------------
$ctlogd --entries "$ct" --selftest > "$tmp/selftest.out" 2>&1
rc=$?
check "ctlogd.py --selftest: $(tail -1 "$tmp/selftest.out")" "$rc" \
	"$(grep '^not ok' "$tmp/selftest.out" | head -5)"

"$bin" --help 2>&1 | grep -q -- '--ct-follow'
check "$bin has --ct-follow" $? || true

# the one-run set: what --ct-json alerts on the same entries
"$bin" -q -R "$rules" --ct-json "$ct" -o "$tmp/ref.eve"
$fc ref "$tmp/ref.eve" > "$tmp/ref"
nref=$(wc -l < "$tmp/ref")
check "--ct-json on the entries: $nref alerts, the set every log must give" \
	$([ "$nref" -gt 20 ] && [ "$(sort -u "$tmp/ref" | wc -l)" = "$nref" ]; echo $?)
awk -v f=1000 '$1 >= f' "$tmp/ref" > "$tmp/ref.1000"
awk -v f=1024 '$1 >= f' "$tmp/ref" > "$tmp/ref.1024"

# serve DIR [--port P] LOG...: ctlogd in the background, ready when this returns;
# the entries of $ct (CT)
serve() {
	local d=$1
	shift
	mkdir -p "$d"
	rm -f "$d/port"
	$ctlogd --entries "${CT:-$ct}" --port-file "$d/port" --request-log "$d/requests" --list-dir "$d" \
		--keys-dir "$d/keys" --page 64 "$@" > "$d/server.out" 2>&1 &
	echo $! > "$d/server.pid"
	pids="$pids $!"
	for _ in $(seq 300); do
		[ -s "$d/port" ] && return 0
		kill -0 "$(cat "$d/server.pid")" 2>/dev/null || break
		sleep 0.1
	done
	echo "not ok ct_follow: ctlogd did not start: $(tail -3 "$d/server.out")"
	exit 1
}
unserve() {   # unserve DIR [SIGNAL]
	kill -"${2:-TERM}" "$(cat "$1/server.pid")" 2>/dev/null
	{ wait "$(cat "$1/server.pid")"; } 2>/dev/null
}
# follow DIR RUN [options]: certsentry --ct-follow in the foreground; RUN.eve,
# RUN.err, RUN.rc in DIR; the state in DIR/state (STATE), the list DIR's
# log_list.json (LIST), the rules $rules (RULES), 120 s at most (LIMIT); every log from entry 0 unless --ct-from is given
# (certsentry's default is the log's current head: new entries only)
from0() { case " $* " in *" --ct-from "*) ;; *) echo --ct-from 0 ;; esac; }
follow() {
	local d=$1 run=$2
	shift 2
	# shellcheck disable=SC2046
	timeout -k 5 "${LIMIT:-120}" "$bin" --ct-follow "${LIST:-$d/log_list.json}" -R "${RULES:-$rules}" \
		-o "$d/$run.eve" \
		--ct-state "${STATE:-$d/state}" $(from0 "$@") "$@" 2> "$d/$run.err"
	echo $? > "$d/$run.rc"
}
# follow_bg DIR RUN [options]: the same in the background; its pid in DIR/RUN.pid
follow_bg() {
	local d=$1 run=$2
	shift 2
	# shellcheck disable=SC2046
	"$bin" --ct-follow "${LIST:-$d/log_list.json}" -R "$rules" -o "$d/$run.eve" \
		--ct-state "${STATE:-$d/state}" $(from0 "$@") "$@" 2> "$d/$run.err" &
	echo $! > "$d/$run.pid"
	pids="$pids $!"
}
stop_follow() {   # stop_follow DIR RUN SIGNAL: its exit status in DIR/RUN.rc
	local p
	p=$(cat "$1/$2.pid")
	kill -"$3" "$p" 2>/dev/null
	{ wait "$p"; } 2>/dev/null      # no "Killed" from the shell
	echo $? > "$1/$2.rc"
}
# same LOG REF EVE...: the log's alerts are REF's set, each once
same() {
	local log=$1 ref=$2
	shift 2
	$fc indexes "$log" "$@" > "$tmp/got.$log"
	cmp -s "$tmp/got.$log" "$ref"
}
# entries_asked DIR: answered get-entries and data tile requests so far
entries_asked() {
	grep -cE '(get-entries|/tile/data/).*"status": 200' "$1/requests" 2>/dev/null
}
# wait_for SECONDS COMMAND...: until COMMAND succeeds (0) or time runs out (1)
wait_for() {
	local t=$1
	shift
	for _ in $(seq $((t * 5))); do
		"$@" && return 0
		sleep 0.2
	done
	return 1
}
dups() { uniq -d "$tmp/got.$1" | wc -l; }

# ---- good logs, --ct-once, both list forms ---------------------------------------------
d=$tmp/once
serve "$d" good=rfc6962 static-good=static pending=rfc6962,state=pending \
	retired=static,state=retired
follow "$d" json --ct-once
rc=$(cat "$d/json.rc")
check "--ct-once on the Chrome v3 list: exit 1 (alerts found; rc $rc)" $([ "$rc" = 1 ]; echo $?) \
	"$(tail -3 "$d/json.err")"
same good "$tmp/ref" "$d/json.eve"
r=$?
check "RFC 6962 log followed to its head: the alerted indexes are --ct-json's ($nref), each once" $r \
	"got $(wc -l < "$tmp/got.good"), $(dups good) repeated"
same static-good "$tmp/ref" "$d/json.eve"
r=$?
check "static-ct-api log followed to its checkpoint: the alerted indexes are --ct-json's, each once" $r \
	"got $(wc -l < "$tmp/got.static-good"), $(dups static-good) repeated"
check "no log alert from good logs ($($fc problems "$d/json.eve" | paste -sd, -))" \
	$([ -z "$($fc problems "$d/json.eve")" ]; echo $?)
for log in good static-good; do
	tw=$($fc twice "$d/requests" "$log" 64 "$N" | wc -l)
	check "$log: no entry fetched twice ($tw were)" $([ "$tw" = 0 ]; echo $?)
done
n=$(grep -c '"log": "\(pending\|retired\)"' "$d/requests")
check "pending and retired logs of the list never asked ($n requests)" $([ "$n" = 0 ]; echo $?)
: > "$d/requests"
STATE=$d/state.txt LIST=$d/log_list.txt follow "$d" txt --ct-once
same good "$tmp/ref" "$d/txt.eve" && same static-good "$tmp/ref" "$d/txt.eve"
r=$?
check "the text list gives the same alerts (rc $(cat "$d/txt.rc"))" $r "$(tail -3 "$d/txt.err")"
: > "$d/requests"
follow "$d" again --ct-once
n=$($fc indexes good "$d/again.eve" | wc -l)
m=$($fc count "$d/requests" good entries)
check "a second --ct-once with the same state: nothing new, no entry asked again ($n alerts, $m pages)" \
	$([ "$n" = 0 ] && [ "$m" = 0 ] && [ "$(cat "$d/again.rc")" = 0 ]; echo $?) "rc $(cat "$d/again.rc")"

# --ct-from INDEX: a fresh state, entries from INDEX on
for from in 1000 1024; do
	STATE=$d/from$from.state follow "$d" "from$from" --ct-once --ct-from "$from"
	same good "$tmp/ref.$from" "$d/from$from.eve" && same static-good "$tmp/ref.$from" "$d/from$from.eve"
	r=$?
	check "--ct-from $from: the alerts from index $from on, both logs (rc $(cat "$d/from$from.rc"))" $r \
		"good $(head -1 "$tmp/got.good") static $(head -1 "$tmp/got.static-good") $(tail -2 "$d/from$from.err")"
done
# --ct-from DATE: mkct's entry k is logged at 2024-02-01T10:00:00Z + k ms,
# so 10:00:01Z is entry 1000
STATE=$d/fromdate.state follow "$d" fromdate --ct-once --ct-from 2024-02-01T10:00:01Z
same good "$tmp/ref.1000" "$d/fromdate.eve" && same static-good "$tmp/ref.1000" "$d/fromdate.eve"
r=$?
check "--ct-from 2024-02-01T10:00:01Z: the alerts from index 1000 (the first entry logged then) on, both logs (rc $(cat "$d/fromdate.rc"))" \
	$r "good $(head -1 "$tmp/got.good") static $(head -1 "$tmp/got.static-good") $(tail -2 "$d/fromdate.err" | paste -sd'|' -)"
unserve "$d"

# ---- many issuers, requests unbounded ----------------------------------------------------
# 300 issuing CAs: a static log's issuers are asked for many at a time
# (--ct-rate 0), more of them than a small table holds
mkdir -p "$tmp/many"
"$mkct" "$tmp/many" --entries 600 --issuers 300 --protected 100 --page 600 >/dev/null
"$bin" -q -R "$tmp/many/ct.rules" --ct-json "$tmp/many/ct.json" -o "$tmp/many/ref.eve"
$fc ref "$tmp/many/ref.eve" > "$tmp/ref.many"
d=$tmp/manyissuers
CT=$tmp/many/ct.json serve "$d" many=rfc6962 static-many=static
RULES=$tmp/many/ct.rules LIMIT=60 follow "$d" run --ct-once --ct-rate 0
for log in many static-many; do
	same "$log" "$tmp/ref.many" "$d/run.eve"
	r=$?
	check "$log: 600 entries from 300 issuing CAs, --ct-rate 0: --ct-json's $(wc -l < "$tmp/ref.many") alerts, each once (rc $(cat "$d/run.rc"))" \
		$r "got $(wc -l < "$tmp/got.$log"); $(grep -v '^certsentry: ct: [0-9]* logs followed' "$d/run.err" | head -3 | paste -sd'|' -)"
done
unserve "$d"

# ---- faulty logs beside growing good ones, polling ---------------------------------------
d=$tmp/faults
serve "$d" "good=rfc6962,size=$N1/$N,every=2" "static-good=static,size=$N1/$N,every=2" \
	"fork=rfc6962,fault=fork,size=$N1/$N,at=100" "forksame=rfc6962,fault=forksame,size=$N1" \
	outside=rfc6962,fault=outside,at=777 badsig=rfc6962,fault=badsig \
	"static-fork=static,fault=fork,size=$N1/$N,at=100" "static-forksame=static,fault=forksame,size=$N1" \
	static-outside=static,fault=outside,at=777 static-badsig=static,fault=badsig \
	"shrink=rfc6962,size=$N/$N1" "static-shrink=static,size=$N/$N1"
want="badsig bad-signature
fork inconsistent-heads
forksame inconsistent-heads
outside entry-not-in-tree
shrink tree-shrank
static-badsig bad-signature
static-fork inconsistent-heads
static-forksame inconsistent-heads
static-outside entry-not-in-tree
static-shrink tree-shrank"
done_faults() {
	[ "$($fc problems "$d/poll.eve" | sort -u)" = "$want" ] &&
		same good "$tmp/ref" "$d/poll.eve" && same static-good "$tmp/ref" "$d/poll.eve"
}
follow_bg "$d" poll --ct-poll 1
wait_for 60 done_faults
sleep 2   # a few more polls: a problem is said once, not at every poll
stop_follow "$d" poll TERM
rc=$(cat "$d/poll.rc")
check "polling, SIGTERM: exit 1 (alerts found; rc $rc)" $([ "$rc" = 1 ]; echo $?) "$(tail -3 "$d/poll.err")"
got=$($fc problems "$d/poll.eve" | sort)
check "every faulty log alerted once with its problem ($(echo "$got" | paste -sd, -))" \
	$([ "$got" = "$want" ]; echo $?) "want $(echo "$want" | paste -sd, -)"
same good "$tmp/ref" "$d/poll.eve"
r=$?
check "the good RFC 6962 log beside them followed fully through its growth, each alert once" $r \
	"got $(wc -l < "$tmp/got.good"), $(dups good) repeated"
same static-good "$tmp/ref" "$d/poll.eve"
r=$?
check "the good static log beside them followed fully through its growth, each alert once" $r \
	"got $(wc -l < "$tmp/got.static-good"), $(dups static-good) repeated"
grep -q "\"log\": \"good\", \"path\": \"/good/ct/v1/get-sth-consistency?first=$N1&second=$N\"" "$d/requests"
r=$?
check "growth $N1 -> $N: the consistency proof asked of the RFC 6962 log" $r
n=$($fc count "$d/requests" static-good checkpoint)
check "growth: the static log's checkpoint read again ($n times)" $([ "$n" -ge 2 ]; echo $?)
# the evidence, as the list names the logs: two verdicts an alert, "spec"
# (the fields issue 31 names: heads of tree_size, timestamp,
# sha256_root_hash, tree_head_signature; a bad signature's head among them,
# or for a tiled log the checkpoint text as served)
# and "evidence" (what they say: the sizes, roots and proof of the fault)
$py - "$d/log_list.json" "$d/poll.eve" "$N1" "$N" > "$d/evidence" <<'PY'
import base64, json, sys
sys.path.insert(0, "tests/ctlog")
import followcheck
lst = json.load(open(sys.argv[1]))
logs = {l["description"]: l for op in lst["operators"] for l in op["logs"] + op["tiled_logs"]}
n1, n = int(sys.argv[3]), int(sys.argv[4])
SPEC = {"tree_size", "timestamp", "sha256_root_hash", "tree_head_signature"}
for e in followcheck.lines([sys.argv[2]]):
    if not followcheck.is_log_alert(e):
        continue
    c = e["certsentry"]["ct_log"]
    l = logs.get(c.get("name"), {})
    heads = c.get("heads", [])
    spec = ["heads %s, not %s" % (sorted(h), sorted(SPEC)) for h in heads if not SPEC <= set(h)][:1]
    # a tiled log's bad signature: the evidence is the checkpoint as served
    # (its log signature line is what failed; there is no signed head)
    tiled_badsig = (c.get("problem") == "bad-signature" and c.get("api") == "static-ct-api"
                    and "ctlogd.test/" in (c.get("checkpoint") or ""))
    if not heads and not tiled_badsig:
        spec.append("no heads%s" % (" (a checkpoint text instead)" if c.get("checkpoint") else ""))
    why = []
    if c.get("log_id") != l.get("log_id"):
        why.append("log_id %s" % c.get("log_id"))
    if c.get("url") not in (l.get("url"), l.get("monitoring_url")):
        why.append("url %s" % c.get("url"))
    for h in heads:
        if "tree_size" not in h or ("timestamp" not in h and "timestamp_ms" not in h):
            why.append("head without size or time: %s" % sorted(h))
        elif len(base64.b64decode(h.get("sha256_root_hash", ""))) != 32:
            why.append("root not 32 bytes")
    sizes = [h.get("tree_size") for h in heads]
    roots = {h.get("sha256_root_hash") for h in heads}
    p = c.get("problem")
    if p == "inconsistent-heads":
        if c["name"].endswith("forksame"):
            if sizes != [n1, n1] or len(roots) != 2:
                why.append("heads %s, %d roots (want two of %d, two roots)" % (sizes, len(roots), n1))
        else:
            if sorted(sizes) != [n1, n]:
                why.append("heads %s (want %d and %d)" % (sizes, n1, n))
            proof = c.get("proof")
            if not proof or any(len(base64.b64decode(x)) != 32 for x in proof):
                why.append("proof %s" % proof)
    elif p == "bad-signature" and not heads and not c.get("checkpoint"):
        why.append("neither the head nor the checkpoint")
    elif p == "tree-shrank" and sizes != [n, n1]:
        why.append("heads %s (want %d then %d)" % (sizes, n, n1))
    elif p == "entry-not-in-tree" and (not heads or heads[-1].get("tree_size") is None):
        why.append("no head")
    print(c.get("name"), p, "spec", "ok" if not spec else "; ".join(spec))
    print(c.get("name"), p, "evidence", "ok" if not why else "; ".join(why))
PY
while read -r name problem what verdict; do
	[ "$what" = evidence ] || continue
	check "$name $problem: name, url, log_id as listed; the heads and proof show the fault" \
		$([ "$verdict" = ok ]; echo $?) "$verdict"
done < "$d/evidence"
# the field names, one check for every log alert
bad=$(awk '$3 == "spec" && $4 != "ok" { $3 = ""; print }' "$d/evidence" | sed 's/  / /')
check "every log alert's heads carry the fields issue 31 names (tree_size, timestamp, sha256_root_hash, tree_head_signature; $(grep -c ' spec ' "$d/evidence") alerts)" \
	$([ -z "$bad" ]; echo $?) "$(printf '%s\n' "$bad" | paste -sd'|' -)"
unserve "$d"

# ---- the connection dropped in the middle of a page / tile ------------------------------
d=$tmp/die
serve "$d" die=rfc6962,fault=die,at=3 static-die=static,fault=die,at=2
follow "$d" run --ct-once
cuts=$(grep -c '"status": "cut"' "$d/requests")
same die "$tmp/ref" "$d/run.eve"
r=$?
check "a page cut in the middle ($cuts cut): every entry of the RFC 6962 log, once (rc $(cat "$d/run.rc"))" \
	$r "got $(wc -l < "$tmp/got.die"), $(dups die) repeated; $(tail -2 "$d/run.err")"
same static-die "$tmp/ref" "$d/run.eve"
r=$?
check "a data tile cut in the middle: every entry of the static log, once" $r \
	"got $(wc -l < "$tmp/got.static-die"), $(dups static-die) repeated"
tw=$(( $($fc twice "$d/requests" die 64 "$N" | wc -l) + $($fc twice "$d/requests" static-die 64 "$N" | wc -l) ))
check "after a cut, only the cut page or tile asked again ($tw entries fetched twice)" $([ "$tw" = 0 ]; echo $?)
check "both cuts happened, and neither is a log alert ($($fc problems "$d/run.eve" | paste -sd, -))" \
	$([ "$cuts" = 2 ] && [ -z "$($fc problems "$d/run.eve")" ]; echo $?)
unserve "$d"

# ---- 429 and Retry-After -------------------------------------------------------------
d=$tmp/ratelimit
serve "$d" ratelimit=rfc6962,fault=ratelimit,after=2 static-ratelimit=static,fault=ratelimit,after=2
follow "$d" run --ct-once
for log in ratelimit static-ratelimit; do
	n429=$(grep -c "\"log\": \"$log\".*\"status\": 429" "$d/requests")
	early=$($fc retry "$d/requests" "$log" 2)
	check "$log: $n429 answers 429 Retry-After: 2; no request to the log before it ran out" \
		$([ "$n429" -ge 2 ] && [ -z "$early" ]; echo $?) "early: $early"
	same "$log" "$tmp/ref" "$d/run.eve"
	r=$?
	check "$log: every entry alerted once after the 429s" $r "got $(wc -l < "$tmp/got.$log")"
	tw=$($fc twice "$d/requests" "$log" 64 "$N" | wc -l)
	check "$log: no entry fetched twice ($tw were)" $([ "$tw" = 0 ]; echo $?)
done
unserve "$d"

# ---- SIGTERM at random points, restarts with the same state --------------------------------
# smaller pages: more points to stop at (133 answers in all: 125 pages, 8 tiles)
d=$tmp/term
serve "$d" good=rfc6962,page=16 static-good=static
pts=""
for k in 1 2 3; do
	at=$(( $(entries_asked "$d") + 15 + RANDOM % 30 ))
	pts="$pts $at"
	follow_bg "$d" "run$k" --ct-once --ct-batch 256
	wait_for 60 eval "[ \$(entries_asked $d) -ge $at ] || ! kill -0 \$(cat $d/run$k.pid) 2>/dev/null"
	stop_follow "$d" "run$k" TERM
done
follow "$d" run4 --ct-once --ct-batch 256
rcs="$(cat "$d"/run[123].rc | paste -sd, -) then $(cat "$d/run4.rc")"
same good "$tmp/ref" "$d"/run[1234].eve && same static-good "$tmp/ref" "$d"/run[1234].eve
r=$?
check "SIGTERM after answers$pts, restarted: the union of the alerts is the one-run set, no index twice (rc $rcs)" \
	$r "good $(wc -l < "$tmp/got.good") ($(dups good) twice), static $(wc -l < "$tmp/got.static-good") ($(dups static-good) twice)"
# each stopped run: 1 when it wrote an alert, else 0 (never 2, never the signal)
want_rcs=$(for k in 1 2 3; do grep -q '"event_type":"alert"' "$d/run$k.eve" 2>/dev/null && echo 1 || echo 0; done | paste -sd, -)
check "a SIGTERM'd run ends by itself: exit 1 when it wrote alerts, else 0 ($rcs; want $want_rcs)" \
	$([ "$want_rcs" = "$(cat "$d"/run[123].rc | paste -sd, -)" ]; echo $?)
unserve "$d"

# ---- kill -9 and restart ------------------------------------------------------------------
d=$tmp/kill
serve "$d" good=rfc6962,page=16 static-good=static
pts=""
for k in 1 2; do
	at=$(( $(entries_asked "$d") + 20 + RANDOM % 30 ))
	pts="$pts $at"
	follow_bg "$d" "run$k" --ct-once --ct-batch 256
	wait_for 60 eval "[ \$(entries_asked $d) -ge $at ] || ! kill -0 \$(cat $d/run$k.pid) 2>/dev/null"
	stop_follow "$d" "run$k" KILL
done
follow "$d" run3 --ct-once --ct-batch 256
for log in good static-good; do
	$fc indexes "$log" "$d"/run[123].eve > "$tmp/got.$log"
	sort -u "$tmp/got.$log" > "$tmp/got.u"
	sort "$tmp/ref" > "$tmp/ref.s"   # comm wants the text order
	lost=$(comm -13 "$tmp/got.u" "$tmp/ref.s" | wc -l)
	extra=$(comm -23 "$tmp/got.u" "$tmp/ref.s" | wc -l)
	rep=$(uniq -d "$tmp/got.$log" | paste -sd' ' -)
	# windows of --ct-batch (256) entries that cover the repeated indexes
	win=$(uniq -d "$tmp/got.$log" | awk '{ if (NR == 1 || $1 >= s + 256) { n++; s = $1 } } END { print n + 0 }')
	check "$log: kill -9 after answers$pts, restarted: nothing lost ($lost), nothing extra ($extra); repeats at most one batch (--ct-batch 256) per kill (repeated: ${rep:-none})" \
		$([ "$lost" = 0 ] && [ "$extra" = 0 ] && [ "$win" -le 2 ]; echo $?)
done
unserve "$d"

# ---- the server killed and restarted while followed -------------------------------------------
d=$tmp/restart
serve "$d" good=rfc6962,page=16 static-good=static
port=$(cat "$d/port")
follow_bg "$d" run --ct-poll 1 --ct-batch 256
wait_for 30 eval "[ \$(entries_asked $d) -ge 20 ]"
unserve "$d" KILL
sleep 1
serve "$d" --port "$port" good=rfc6962,page=16 static-good=static
restart_done() { same good "$tmp/ref" "$d/run.eve" && same static-good "$tmp/ref" "$d/run.eve"; }
wait_for 45 restart_done
stop_follow "$d" run TERM
restart_done
r=$?
check "the server killed and restarted on its port: every entry of both logs, once (rc $(cat "$d/run.rc"))" $r \
	"good $(wc -l < "$tmp/got.good") static $(wc -l < "$tmp/got.static-good"); $(tail -3 "$d/run.err")"
check "... and no log alert for the restart ($($fc problems "$d/run.eve" | paste -sd, -))" \
	$([ -z "$($fc problems "$d/run.eve")" ]; echo $?)
unserve "$d"

# ---- SIGHUP: the log list read again -----------------------------------------------------
d=$tmp/hup
serve "$d" good=rfc6962 static-good=static
grep '^rfc6962 ' "$d/log_list.txt" > "$d/list.txt"
LIST=$d/list.txt follow_bg "$d" run --ct-poll 1
hup_good() { same good "$tmp/ref" "$d/run.eve"; }
hup_static() { same static-good "$tmp/ref" "$d/run.eve"; }
wait_for 30 hup_good
n=$($fc count "$d/requests" static-good any)
grep '^static ' "$d/log_list.txt" >> "$d/list.txt"
kill -HUP "$(cat "$d/run.pid")"
wait_for 30 hup_static
r=$?
stop_follow "$d" run TERM
check "SIGHUP: a log added to the list is followed ($n requests to it before; rc $(cat "$d/run.rc"))" \
	$([ "$r" = 0 ] && [ "$n" = 0 ] && hup_good; echo $?) "$(tail -3 "$d/run.err" | paste -sd'|' -)"
unserve "$d"

# ---- EVE ----------------------------------------------------------------------------------------
cat "$tmp"/*/*.eve > "$tmp/all.eve"
if $validate "$tmp/all.eve" > "$tmp/v" 2>&1; then
	echo "ok ct_follow EVE schema: $(tail -1 "$tmp/v")"
else
	echo "not ok ct_follow EVE schema"; head -5 "$tmp/v" | sed 's/^/# /'
fi
exit 0
