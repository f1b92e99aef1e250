#!/usr/bin/env bash
# --ct-follow over HTTPS and as a daemon (issue 31), beside t_ct_follow.sh
# (which follows ctlogd.py's logs over plain HTTP):
#   - a static-ct-api log dumped to files (ctlogd.py --dump-static) and
#     served by openssl s_server -WWW over TLS with a certificate for
#     127.0.0.1 from a test CA: with --ct-ca-file that CA, every entry is
#     followed and the alerts are --ct-json's; with the default (the
#     system's store) the log's certificate is refused, nothing is judged,
#     the log is given up and the exit status is 2 - TLS is verified;
#   - the User-Agent names certsentry (s_server -WWW shows no headers: a
#     plain listener records the request);
#   - SIGHUP in a polling run: the output moved away is opened anew (as
#     logrotate's postrotate asks), a log added to the list is followed, the
#     rules are read again (a rule protecting nothing gives no alert for
#     the new log's entries), and the stats event and the metrics file name
#     every log with its position;
#   - --ct-rate 4: no two requests to a log closer than 1/4 s;
#   - SIGTERM: exit 1 with alerts, the state saved, EVE valid.
set -u
cd "$(dirname "$0")/.."
bin=${CERTSENTRY:-./certsentry}
# a test tool, not the program under test: the plain build's, whatever BUILD
mkct=${MKCT:-build/bench/mkct}
py=/usr/bin/python3
ctlogd="$py tests/ctlog/ctlogd.py"
validate=../shared/eve/validate
tmp=$(mktemp -d)
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

check() {   # check NAME STATUS [details]
	if [ "$2" -eq 0 ]; then echo "ok ct_follow_tls $1"; else echo "not ok ct_follow_tls $1 ${3:-}"; fi
}

free_port() {
	$py -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_port PORT: until something listens there (10 s)
wait_port() {
	for _ in $(seq 1 100); do
		$py -c "import socket,sys; socket.create_connection(('127.0.0.1',$1),1)" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# the plain build, even from inside make SANITIZE=1 test (its MAKEFLAGS)
[ -x "$mkct" ] || MAKEFLAGS= make -s SANITIZE= build/bench/mkct >/dev/null 2>&1 ||
	{ echo "not ok ct_follow_tls: no $mkct (make build/bench/mkct)"; exit 1; }
mkdir -p "$tmp/ct"
"$mkct" "$tmp/ct" --entries 600 --issuers 10 --protected 50 --page 200 >/dev/null ||
	{ echo "not ok ct_follow_tls: mkct failed"; exit 1; }
ct=$tmp/ct/ct.json
rules=$tmp/ct/ct.rules
"$bin" -q -R "$rules" --ct-json "$ct" -o "$tmp/ref.eve"
$py -c '
import json, sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e["event_type"] == "alert":
        print(e["certsentry"]["ct"]["index"])' "$tmp/ref.eve" | sort -n > "$tmp/ref"
nref=$(wc -l < "$tmp/ref")

# alerted FILE LOGNAME: the ct.index values alerted for that log, sorted
alerted() {
	$py -c '
import json, sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    c = e.get("certsentry", {}).get("ct", {})
    if e["event_type"] == "alert" and c.get("log") == sys.argv[2]:
        print(c["index"])' "$1" "$2" | sort -n
}

# ---- HTTPS: a static log from files, behind openssl s_server -------------------------
$ctlogd --entries "$ct" --dump-static "$tmp/static" sx=static > /dev/null 2>&1 ||
	{ echo "not ok ct_follow_tls: ctlogd.py --dump-static failed"; exit 1; }
key=$($py -c 'import json,sys; print(json.load(open(sys.argv[1]))["key"])' "$tmp/static/ctlogd-log.json")
origin=$($py -c 'import json,sys; print(json.load(open(sys.argv[1]))["origin"])' "$tmp/static/ctlogd-log.json")
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=ct test CA" \
	-addext basicConstraints=critical,CA:TRUE -keyout "$tmp/ca.key" -out "$tmp/ca.pem" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=127.0.0.1" \
	-keyout "$tmp/srv.key" -out "$tmp/srv.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n' > "$tmp/ext"
openssl x509 -req -in "$tmp/srv.csr" -CA "$tmp/ca.pem" -CAkey "$tmp/ca.key" -CAcreateserial \
	-days 2 -extfile "$tmp/ext" -out "$tmp/srv.pem" 2>/dev/null
port=$(free_port)
(cd "$tmp/static" && exec openssl s_server -quiet -WWW -accept "127.0.0.1:$port" \
	-cert "$tmp/srv.pem" -key "$tmp/srv.key" > "$tmp/s_server.log" 2>&1) &
pids="$pids $!"
wait_port "$port" || { echo "not ok ct_follow_tls: s_server did not listen"; exit 1; }
echo "static https://127.0.0.1:$port/ $key $origin sx" > "$tmp/tls.list"

"$bin" -R "$rules" --ct-follow "$tmp/tls.list" --ct-once --ct-from 0 --ct-ca-file "$tmp/ca.pem" \
	--ct-parallel 1 -o "$tmp/tls.eve" 2> "$tmp/tls.err"
rc=$?
alerted "$tmp/tls.eve" sx > "$tmp/tls.got"
cmp -s "$tmp/ref" "$tmp/tls.got"
check "HTTPS with --ct-ca-file: the log read over TLS, its alerts --ct-json's ($nref), exit 1" \
	$(( $? != 0 || rc != 1 )) "rc=$rc got $(wc -l < "$tmp/tls.got") $(tail -3 "$tmp/tls.err")"

"$bin" -R "$rules" --ct-follow "$tmp/tls.list" --ct-once --ct-from 0 --ct-parallel 1 \
	-o "$tmp/notls.eve" 2> "$tmp/notls.err"
rc=$?
n=$(grep -c '"event_type":"alert"' "$tmp/notls.eve")
grep -qiE 'certificate|SSL' "$tmp/notls.err" && grep -q 'given up' "$tmp/notls.err"
check "HTTPS without the CA: the log's certificate refused (TLS verified), nothing judged, exit 2" \
	$(( $? != 0 || rc != 2 || n != 0 )) "rc=$rc alerts=$n $(head -2 "$tmp/notls.err")"

# ---- the User-Agent --------------------------------------------------------------------
uaport=$(free_port)
$py - "$uaport" "$tmp/ua.txt" <<'PY' &
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(4)
data = b""
while not data:   # the first connection is the test's probe: no request
    c, _ = s.accept()
    while b"\r\n\r\n" not in data:
        d = c.recv(4096)
        if not d:
            break
        data += d
open(sys.argv[2], "wb").write(data)
c.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
c.close()
PY
pids="$pids $!"
wait_port "$uaport"
echo "rfc6962 http://127.0.0.1:$uaport/ $key ua" > "$tmp/ua.list"
timeout 5 "$bin" -q --ct-follow "$tmp/ua.list" --ct-once -o /dev/null 2>/dev/null
grep -qiE '^User-Agent: certsentry/[0-9.]+ ' "$tmp/ua.txt" && grep -q '^GET /ct/v1/get-sth ' "$tmp/ua.txt"
check "the first request is GET /ct/v1/get-sth with a User-Agent naming certsentry" $? \
	"$(head -5 "$tmp/ua.txt" 2>/dev/null)"

# ---- SIGHUP: the list and the rules read again -------------------------------------------
hport=$(free_port)
$ctlogd --entries "$ct" --port "$hport" --list-dir "$tmp/hl" --page 100 a=rfc6962 b=static \
	--request-log "$tmp/h.req" > "$tmp/ctlogd.log" 2>&1 &
pids="$pids $!"
for _ in $(seq 1 100); do [ -s "$tmp/hl/log_list.txt" ] && break; sleep 0.1; done
grep -v ' b$' "$tmp/hl/log_list.txt" > "$tmp/h.list"

# --check-config reads the list a configuration file names
printf 'ct-follow = %s\n' "$tmp/hl/log_list.json" > "$tmp/ct.conf"
"$bin" -c "$tmp/ct.conf" --check-config > "$tmp/cc.out" 2>&1
rc=$?
grep -q "^log list .*: [0-9]* logs, 2 followed, 0 refused" "$tmp/cc.out" && grep -q '^configuration valid' "$tmp/cc.out"
check "--check-config: the configuration's log list read (2 logs followed), valid" $(( $? != 0 || rc != 0 )) \
	"rc=$rc $(cat "$tmp/cc.out")"
printf 'ct-follow = %s\n' "$tmp/ct/ct.rules" > "$tmp/bad.conf"
"$bin" -c "$tmp/bad.conf" --check-config > "$tmp/cc.out" 2>&1
rc=$?
grep -q '^configuration NOT valid' "$tmp/cc.out"
check "--check-config: a list that is not one is said, exit 2" $(( $? != 0 || rc != 2 )) \
	"rc=$rc $(cat "$tmp/cc.out")"

# --ct-rate 4: log a read whole (a head, 6 pages of 100, proofs), never
# more than 4 requests in a second, each 1/4 s after the one before
"$bin" -q -R "$rules" --ct-follow "$tmp/h.list" --ct-once --ct-from 0 --ct-rate 4 --ct-batch 200 \
	-o "$tmp/rate.eve" 2> "$tmp/rate.err"
rc=$?
$py - "$tmp/h.req" <<'PY'
import json, sys
t = [json.loads(l)["t"] for l in open(sys.argv[1]) if json.loads(l)["log"] == "a"]
gaps = [b - a for a, b in zip(t, t[1:])]
ok = len(t) >= 8 and min(gaps) >= 0.24
print("requests", len(t), "smallest gap %.3f s" % min(gaps or [0]))
sys.exit(0 if ok else 1)
PY
check "--ct-rate 4: $(alerted "$tmp/rate.eve" a | wc -l) alerts, requests at least 1/4 s apart" \
	$(( $? != 0 || rc != 1 )) "rc=$rc"
cp "$rules" "$tmp/ct/h.rules"
"$bin" -R "$tmp/ct/h.rules" --ct-follow "$tmp/h.list" --ct-from 0 --ct-poll 1 --stats-interval 1 \
	--metrics "$tmp/h.prom" --ct-state "$tmp/h.state" -o "$tmp/h.eve" 2> "$tmp/h.err" &
cs=$!
for _ in $(seq 1 100); do [ "$(alerted "$tmp/h.eve" a | wc -l)" -ge "$nref" ] && break; sleep 0.2; done
# The rules now protect nothing the entries name: log b, added now, alerts on nothing.
printf 'owner other\nprotect ip 198.51.100.7\napprove ca approved-root.pem\n' > "$tmp/ct/h.rules"
cp "$tmp/hl/log_list.txt" "$tmp/h.list"
mv "$tmp/h.eve" "$tmp/h.eve.1"   # as logrotate does: SIGHUP opens a new file
kill -HUP $cs
for _ in $(seq 1 100); do
	[ -s "$tmp/h.eve" ] && $py - "$tmp/h.eve" <<'PY' && break
import json, sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e["event_type"] == "stats":
        logs = {x["name"]: x for x in e["certsentry"].get("ct_logs", [])}
        if logs.get("b", {}).get("state") == "caught-up":
            sys.exit(0)
sys.exit(1)
PY
	sleep 0.2
done
kill -TERM $cs
wait $cs
rc=$?
[ -s "$tmp/h.eve" ] && grep -q '"event_type":"stats"' "$tmp/h.eve"
check "SIGHUP: the output moved away is opened anew (logrotate), events go on in it" $?
cat "$tmp/h.eve.1" "$tmp/h.eve" > "$tmp/h.all" 2>/dev/null
alerted "$tmp/h.all" a > "$tmp/h.a"
nb=$(alerted "$tmp/h.all" b | wc -l)
cmp -s "$tmp/ref" "$tmp/h.a"
check "polling run: log a's alerts are --ct-json's before the SIGHUP" $? "$(wc -l < "$tmp/h.a") of $nref"
grep -q 'SIGHUP: rules .* reloaded' "$tmp/h.err" && grep -q 'SIGHUP: log list .* reloaded' "$tmp/h.err"
check "SIGHUP: the rules and the log list read again (said)" $? "$(grep SIGHUP "$tmp/h.err")"
$py - "$tmp/h.eve" "$ct" <<'PY'
import json, sys
last = None
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e["event_type"] == "stats":
        last = e
logs = {x["name"]: x for x in last["certsentry"]["ct_logs"]}
ok = set(logs) == {"a", "b"} and all(x["position"] == x["head_size"] > 0 for x in logs.values())
print("stats", {k: (v["state"], v["position"], v["head_size"]) for k, v in logs.items()})
sys.exit(0 if ok else 1)
PY
check "SIGHUP: log b, added to the list, followed to its head (stats: both logs at their heads)" $?
check "SIGHUP: the new rules judge log b's entries (no alert: nothing of theirs is protected)" \
	$([ "$nb" -eq 0 ]; echo $?) "b alerts=$nb"
grep -q '^certsentry_ct_log_position{log="http://127.0.0.1:'"$hport"'/b/"} [1-9]' "$tmp/h.prom"
check "--metrics: each log's position" $? "$(grep ct_log_position "$tmp/h.prom")"
$py -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if len(d["logs"])==2 and all(l.get("position")==l["head"]["tree_size"] for l in d["logs"]) else 1)' "$tmp/h.state"
check "SIGTERM: exit 1 (alerts), the state saved with both logs at their heads" $(( $? != 0 || rc != 1 )) "rc=$rc"
cat "$tmp/tls.eve" "$tmp/h.all" > "$tmp/all.eve"
$validate "$tmp/all.eve" > "$tmp/v.out" 2>&1
check "EVE schema: $(tail -1 "$tmp/v.out")" $(( $? != 0 || $(wc -l < "$tmp/all.eve") < 50 )) \
	"$(head -3 "$tmp/v.out")"
