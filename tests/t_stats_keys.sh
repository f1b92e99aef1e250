#!/usr/bin/env bash
# Every key of a real stats event, and every metric and label name of the
# --metrics file written by the same run, is snake_case ^[a-z0-9_]+$:
# Elasticsearch takes a dot in a key for a level of nesting and keeps a
# space or a capital as it is, so "TLS 1.2" or "TLSv1" would be indexed
# under keys no dashboard expects.  The run covers every structured part
# the event can hold (handshakes by version, alerts by owner, delivery,
# coverage rows with their classes and matches, QUIC) so that a key added
# anywhere is walked; the test also fails when one of those parts is
# missing, so that it cannot pass on an event that holds nothing.
set -u
cd "$(dirname "$0")/.."
bin=${CERTSENTRY:-./certsentry}
py=/usr/bin/python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

$bin -R pcaps/test.rules -r pcaps/fina-rogue-doh.pcap -r pcaps/multi.pcap \
	-r pcaps/gap-protected.pcap -r pcaps/resumed.pcap -r pcaps/tls10.pcap \
	-r pcaps/quic/doq-rogue.pcapng -o "$tmp/eve.json" --stats-interval 60 \
	--metrics "$tmp/m.prom" 2>"$tmp/err"
rc=$?
[ "$rc" -eq 1 ] && echo "ok stats keys: the run alerts (exit 1)" ||
	{ echo "not ok stats keys: exit $rc"; head -3 "$tmp/err" | sed 's/^/# /'; }

$py - "$tmp/eve.json" <<'PY'
import json, re, sys

SNAKE = re.compile(r"^[a-z0-9_]+$")
stats = [json.loads(l) for l in open(sys.argv[1]) if '"event_type":"stats"' in l]
if not stats:
    print("not ok stats keys: no stats event")
    sys.exit(0)
ev = stats[-1]
bad, seen = [], set()

def walk(v, path):
    if isinstance(v, dict):
        for k, x in v.items():
            p = path + "." + k if path else k
            seen.add(re.sub(r"\[\d+\]", "[]", p))
            if not SNAKE.match(k):
                bad.append(p)
            walk(x, p)
    elif isinstance(v, list):
        for i, x in enumerate(v):
            walk(x, "%s[%d]" % (path, i))

walk(ev, "")
print(("ok" if not bad else "not ok") +
      " stats keys: %d keys of the stats event are snake_case%s" %
      (len(seen), "" if not bad else ": " + ", ".join(bad[:8])))
# The parts that must be there for the walk to mean anything.
want = ["certsentry.handshakes.tls_1_2", "certsentry.handshakes.tls_1_0",
        "certsentry.alerts_by_owner[].owner", "certsentry.delivery.undelivered_by_reason",
        "certsentry.coverage[].by_class", "certsentry.coverage[].by_match",
        "certsentry.coverage[].not_checked", "certsentry.quic.flows"]
missing = [w for w in want if w not in seen]
print(("ok" if not missing else "not ok") +
      " stats keys: the event holds versions, alerts, delivery, coverage and QUIC%s" %
      ("" if not missing else " (missing %s)" % ", ".join(missing)))
PY

$py - "$tmp/m.prom" <<'PY'
import re, sys
from prometheus_client.parser import text_string_to_metric_families

SNAKE = re.compile(r"^[a-z0-9_]+$")
bad, n = [], 0
for fam in text_string_to_metric_families(open(sys.argv[1]).read()):
    for s in fam.samples:
        n += 1
        for k in [s.name] + list(s.labels):
            if not SNAKE.match(k):
                bad.append(k)
        if s.name == "certsentry_handshakes_total" and not SNAKE.match(s.labels["version"]):
            bad.append("version=" + s.labels["version"])
print(("ok" if not bad and n else "not ok") +
      " stats keys: %d metric samples, their names, label names and versions snake_case%s" %
      (n, "" if not bad else ": " + ", ".join(sorted(set(bad))[:8])))
PY
