#!/usr/bin/python3
"""Compare the chains certsentry extracted from ../shared/realworld captures
with the independent record in expected.jsonl.

usage: realworld_check.py EXPECTED_JSONL PCAP_NAME CHAINS_FILE [PORTS]

CHAINS_FILE holds evetool.py "chains" output for that capture.  Every TCP
line of expected.jsonl for the capture must be found: same server and
client endpoints and the same certificates by SHA-256, in order (where
tshark and the cross-check parser disagree, either chain is accepted).
With PORTS (comma-separated), only chains whose server port is one of
them are expected (certsentry with its default ports reads no others).
Prints "ok ..." or "not ok ..." per expected chain.
"""
import json
import sys


def main(expected_path, pcap, chains_path, ports=None):
    only = {int(x) for x in ports.split(",")} if ports else None
    got = set()
    with open(chains_path) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 5:
                got.add((parts[0], int(parts[1]), parts[2], int(parts[3]), parts[4]))
    bad = 0
    n = 0
    with open(expected_path) as f:
        for line in f:
            e = json.loads(line)
            if e["pcap"] != pcap or e["proto"] != "tcp":
                continue
            if only is not None and e["server_port"] not in only:
                continue
            n += 1
            ends = (e["server_ip"], e["server_port"], e["client_ip"], e["client_port"])
            wanted = [",".join(e["chain_sha256"])]
            if e.get("parser_chain_sha256"):
                wanted.append(",".join(e["parser_chain_sha256"]))
            name = f"realworld {pcap} {ends[0]}:{ends[1]} <- {ends[2]}:{ends[3]}"
            if any(ends + (w,) in got for w in wanted):
                print(f"ok {name}")
            else:
                bad += 1
                print(f"not ok {name}: expected chain {wanted[0][:64]}... not found")
                for g in sorted(got):
                    if g[:4] == ends:
                        print(f"#   got {g[4][:64]}...")
    return 1 if bad else 0


if __name__ == "__main__":
    if len(sys.argv) not in (4, 5):
        print(__doc__.strip(), file=sys.stderr)
        sys.exit(2)
    sys.exit(main(*sys.argv[1:]))
