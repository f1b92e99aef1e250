#!/usr/bin/python3
"""Reads a --metrics file with prometheus_client's own parser (Debian's
python3-prometheus-client), an independent reader of the text format.

    promcheck.py FILE              "ok N families, N samples", or the
                                   parser's error (exit 1)
    promcheck.py FILE get NAME [LABEL=VALUE ...]   (~ in a value: a space)
                                   the value of one sample (exit 1: none)
    promcheck.py FILE alerts       "OWNER VERDICT N" lines, sorted
    promcheck.py FILE eve EVE      the alerts of an EVE file the same way
                                   (alert events, plus the sightings each
                                   alert_repeat adds)
"""
import json
import sys

from prometheus_client.parser import text_string_to_metric_families


def samples(path):
    with open(path) as f:
        text = f.read()
    if not text.endswith("\n"):
        raise ValueError("does not end with a newline (half written?)")
    fams = list(text_string_to_metric_families(text))
    names = [f.name for f in fams]
    if len(names) != len(set(names)):
        raise ValueError("a family twice: %s" % sorted(n for n in names if names.count(n) > 1))
    for f in fams:
        if not f.name.startswith("certsentry_"):
            raise ValueError("%s: not certsentry_" % f.name)
        if f.type == "counter":
            for s in f.samples:
                # the parser strips _total from a counter's family name and
                # keeps it on the sample
                if not s.name.endswith("_total"):
                    raise ValueError("counter sample %s without _total" % s.name)
    return fams


def main(argv):
    path = argv[0]
    try:
        fams = samples(path)
    except (ValueError, OSError) as e:
        print("%s: %s" % (path, e))
        return 1
    if len(argv) == 1:
        print("ok %d families, %d samples" % (len(fams), sum(len(f.samples) for f in fams)))
        return 0
    if argv[1] == "get":
        want = dict(a.replace("~", " ").split("=", 1) for a in argv[3:])
        for f in fams:
            for s in f.samples:
                if s.name == argv[2] and s.labels == want:
                    print(int(s.value) if s.value == int(s.value) else s.value)
                    return 0
        return 1
    if argv[1] == "alerts":
        for f in fams:
            for s in f.samples:
                if s.name == "certsentry_alerts_total":
                    print(s.labels["owner"], s.labels["verdict"], int(s.value))
        return 0
    if argv[1] == "eve":
        n = {}
        for line in open(argv[2]):
            e = json.loads(line)
            c = e.get("certsentry", {})
            if e["event_type"] == "alert":
                k = (c["owner"], c["verdict"])
                n[k] = n.get(k, 0) + 1
            elif e["event_type"] == "alert_repeat":
                k = (c["owner"], c["verdict"])
                # "new": sightings not reported before, by the alert or
                # an earlier follow-up
                n[k] = n.get(k, 0) + c["repeat"]["new"]
        for k in sorted(n):
            print(k[0], k[1], n[k])
        return 0
    print("unknown command " + argv[1])
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
