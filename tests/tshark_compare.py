#!/usr/bin/python3
"""Compare certsentry's summary line with tshark on the same capture.

usage: tshark_compare.py CERTSENTRY PCAP...

For each capture: packets (all frames), server handshakes (ServerHello
messages on ports 443/853) and server certificates (certificates in
Certificate messages sent from ports 443/853).  tshark runs with
out-of-order reassembly on (tshark 4.0 drops out-of-order segments
otherwise).  Prints "ok"/"not ok" per capture.
"""
import re
import subprocess
import sys

TSHARK = ["tshark", "-n", "-o", "tcp.reassemble_out_of_order:TRUE",
          "-o", "tcp.desegment_tcp_streams:TRUE", "-o", "tls.desegment_ssl_records:TRUE"]
SERVER = "(tcp.srcport == 443 || tcp.srcport == 853)"


def tshark_fields(pcap, yfilter, field):
    out = subprocess.run(TSHARK + ["-r", pcap, "-Y", yfilter, "-T", "fields", "-e", field],
                         capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if line.strip()]


def tshark_counts(pcap):
    frames = subprocess.run(["capinfos", "-c", "-M", pcap], capture_output=True, text=True).stdout
    m = re.search(r"Number of packets:\s*(\d+)", frames)
    packets = int(m.group(1)) if m else -1
    types = tshark_fields(pcap, f"tls.handshake.type == 2 && {SERVER}", "tls.handshake.type")
    handshakes = sum(t.split(",").count("2") for t in types)
    certs = tshark_fields(pcap, f"tls.handshake.type == 11 && {SERVER}", "tls.handshake.certificate")
    certificates = sum(len(c.split(",")) for c in certs)
    return packets, handshakes, certificates


def ours(binary, pcap):
    # tshark does not validate TCP checksums by default; neither do we here.
    err = subprocess.run([binary, "--checksum-checks", "no", "-r", pcap, "-o", "/dev/null"],
                         capture_output=True,
                         text=True).stderr
    m = re.search(r"certsentry: (\d+) packets, \d+ flows, (\d+) handshakes, (\d+) certificates", err)
    if not m:
        return None
    return tuple(int(x) for x in m.groups())


def main(binary, pcaps):
    bad = 0
    for pcap in pcaps:
        want = tshark_counts(pcap)
        got = ours(binary, pcap)
        label = "packets %d, handshakes %d, certificates %d"
        if got == want:
            print(f"ok tshark agrees {pcap}: " + label % got)
        else:
            bad += 1
            print(f"not ok tshark agrees {pcap}: certsentry {got}, tshark " + label % want)
    return 1 if bad else 0


if __name__ == "__main__":
    if len(sys.argv) < 3:
        print(__doc__.strip(), file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2:]))
