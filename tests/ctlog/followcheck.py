#!/usr/bin/python3
"""followcheck.py - what tests/t_ct_follow.sh reads out of certsentry's EVE
and ctlogd.py's request log.

  followcheck.py indexes LOG EVE...     the ct.index of every entry alert
                                        from log LOG, sorted, one a line
                                        (repeats kept)
  followcheck.py ref EVE                the same for --ct-json's alerts
  followcheck.py problems EVE...        one line per log alert: NAME PROBLEM
                                        (the alerts whose signature starts
                                        "CERTSENTRY CT log")
  followcheck.py problem-json LOG PROBLEM EVE...   that alert's
                                        certsentry.ct_log, as JSON
  followcheck.py retry REQLOG LOG       after each 429 to LOG: the first
                                        request to LOG that came before its
                                        Retry-After ran out ("t429 t_next
                                        retry"), or nothing
  followcheck.py twice REQLOG LOG PAGE SIZE   entries fetched more than once
                                        from LOG (answered ones: an RFC 6962
                                        page of at most PAGE entries, or a
                                        data tile): "INDEX COUNT" lines
  followcheck.py count REQLOG LOG KIND  requests of KIND (sth, consistency,
                                        entries, checkpoint, tile, data,
                                        issuer, any) to LOG answered 200

An entry alert is from log LOG when a string in its certsentry.ct is LOG or
a URL ending in /LOG/ (the name or URL the follower puts there).
"""
import json
import re
import sys
from collections import Counter


def lines(paths):
    for p in paths:
        try:
            f = open(p)
        except FileNotFoundError:
            continue
        for l in f:
            if l.strip():
                yield json.loads(l)


def from_log(ct, log):
    for v in ct.values():
        if isinstance(v, str) and (v == log or v.rstrip("/").endswith("/" + log)):
            return True
        if isinstance(v, dict) and from_log(v, log):
            return True
    return False


def is_log_alert(e):
    return e.get("event_type") == "alert" and \
        e.get("alert", {}).get("signature", "").startswith("CERTSENTRY CT log")


def entry_alerts(paths, log=None):
    for e in lines(paths):
        if e.get("event_type") != "alert" or is_log_alert(e):
            continue
        ct = e.get("certsentry", {}).get("ct")
        if ct is None or "index" not in ct:
            continue
        if log is None or from_log(ct, log):
            yield ct["index"]


def reqs(path, log):
    # written when answered: in the order they came, by their time
    return sorted((r for r in (json.loads(l) for l in open(path)) if r["log"] == log),
                  key=lambda r: r["t"])


KINDS = [("sth", r"/ct/v1/get-sth$"), ("consistency", r"/ct/v1/get-sth-consistency"),
         ("entries", r"/ct/v1/get-entries"), ("checkpoint", r"/checkpoint$"),
         ("data", r"/tile/data/"), ("tile", r"/tile/[0-5]/"), ("issuer", r"/issuer/")]


def main(a):
    cmd = a[0]
    if cmd == "indexes":
        for i in sorted(entry_alerts(a[2:], a[1])):
            print(i)
    elif cmd == "ref":
        for i in sorted(entry_alerts(a[1:])):
            print(i)
    elif cmd == "problems":
        for e in lines(a[1:]):
            if is_log_alert(e):
                c = e.get("certsentry", {}).get("ct_log", {})
                print(c.get("name"), c.get("problem"))
    elif cmd == "problem-json":
        for e in lines(a[3:]):
            c = e.get("certsentry", {}).get("ct_log", {})
            if is_log_alert(e) and c.get("name") == a[1] and c.get("problem") == a[2]:
                print(json.dumps(c))
                break
    elif cmd == "retry":
        rs = reqs(a[1], a[2])
        for k, r in enumerate(rs):
            if r["status"] != 429:
                continue
            # Retry-After is what ctlogd sends: the log's after= (2 s by default)
            early = [x for x in rs[k + 1:] if x["t"] < r["t"] + float(a[3] if len(a) > 3 else 2) - 0.01]
            if early:
                print("%.3f %.3f %s" % (r["t"], early[0]["t"], early[0]["path"]))
    elif cmd == "twice":
        page, size = int(a[3]), int(a[4])
        c = Counter()
        for r in reqs(a[1], a[2]):
            if r["status"] != 200:
                continue
            m = re.search(r"get-entries\?start=(\d+)&end=(\d+)", r["path"])
            if m:
                s = int(m.group(1))
                c.update(range(s, min(int(m.group(2)), s + page - 1, size - 1) + 1))
            m = re.search(r"/tile/data/((?:x\d{3}/)*\d{3})(?:\.p/(\d+))?$", r["path"])
            if m:
                n = int(m.group(1).replace("x", "").replace("/", ""))
                w = int(m.group(2) or 256)
                c.update(range(256 * n, 256 * n + w))
        for i, k in sorted(c.items()):
            if k > 1:
                print(i, k)
    elif cmd == "count":
        pat = dict(KINDS).get(a[3], "")
        print(sum(1 for r in reqs(a[1], a[2]) if r["status"] == 200 and re.search(pat, r["path"])))
    else:
        sys.exit("followcheck: unknown command " + cmd)


if __name__ == "__main__":
    main(sys.argv[1:])
