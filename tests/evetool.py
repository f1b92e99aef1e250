#!/usr/bin/python3
"""Helpers for the capture tests: read certsentry's EVE output.

usage: evetool.py normalize FILE     lines without volatile fields, keys sorted
       evetool.py alerts FILE        sorted "owner:verdict" of every alert, or "-"
       evetool.py count FILE TYPE    number of events of event_type TYPE
       evetool.py tls13 FILE         sorted certsentry.tls13.certificates of the tls events, or "-"
       evetool.py notes FILE         certsentry.note of every tls event, one a line
       evetool.py chains FILE        "server_ip server_port client_ip client_port sha256,..."
                                     for every tls event that carries a chain
"""
import base64
import hashlib
import json
import sys

# flow_id is a keyed hash seeded at start-up; pcap_filename depends on where
# the test runs, host on the machine it runs on (--sensor-name's default:
# tests/t_identity.sh checks it).  Everything else comes from the packets
# and must not change: community_id stays in the golden files.
VOLATILE = ("flow_id", "pcap_filename", "host")


def events(path):
    with open(path) as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def normalize(path):
    for ev in events(path):
        for k in VOLATILE:
            ev.pop(k, None)
        print(json.dumps(ev, sort_keys=True))


def alerts(path):
    out = sorted(f"{e['certsentry']['owner']}:{e['certsentry']['verdict']}"
                 for e in events(path) if e.get("event_type") == "alert")
    print(",".join(out) if out else "-")


def count(path, kind):
    print(sum(1 for e in events(path) if e.get("event_type") == kind))


def chain_key(shas):
    """certsentry.chain_sha256: SHA-256 over the certificates' SHA-256s."""
    return hashlib.sha256(b"".join(bytes.fromhex(h) for h in shas)).hexdigest()


def chains(path):
    # With --cert-log once (the default) a chain is in full in the first
    # tls event of a window, later ones name it by chain_sha256 only.
    known = {}
    for e in events(path):
        if e.get("event_type") != "tls":
            continue
        key = e.get("certsentry", {}).get("chain_sha256")
        if "chain" in e.get("tls", {}):
            shas = [hashlib.sha256(base64.b64decode(c)).hexdigest() for c in e["tls"]["chain"]]
            if key is not None and key != chain_key(shas):
                sys.exit("evetool: chain_sha256 %s is not the chain's (%s)" % (key, chain_key(shas)))
            known[key] = shas
        elif key in known:
            shas = known[key]
        else:
            continue
        print(e["dest_ip"], e["dest_port"], e["src_ip"], e["src_port"], ",".join(shas))


def tls13(path):
    out = sorted(e["certsentry"]["tls13"]["certificates"] for e in events(path)
                 if e.get("event_type") == "tls" and "tls13" in e.get("certsentry", {}))
    print(",".join(out) if out else "-")


def notes(path):
    for e in events(path):
        if e.get("event_type") == "tls":
            print(e.get("certsentry", {}).get("note", "-"))


def main(argv):
    if len(argv) < 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    cmd, path = argv[0], argv[1]
    if cmd == "normalize":
        normalize(path)
    elif cmd == "alerts":
        alerts(path)
    elif cmd == "count" and len(argv) == 3:
        count(path, argv[2])
    elif cmd == "tls13":
        tls13(path)
    elif cmd == "notes":
        notes(path)
    elif cmd == "chains":
        chains(path)
    else:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
