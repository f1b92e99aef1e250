#!/usr/bin/python3
"""mkderived.py - derive damaged captures from the committed ones.

usage: /usr/bin/python3 tests/mkderived.py [PCAP_DIR]

Deterministic (no network, no keys): run after tests/mkpcaps.sh, or alone.
  corrupt-leaf.pcap   fina-rogue-doh.pcap with the leaf certificate's outer
                      DER tag changed (0x30 -> 0x31): the server still sends
                      a Certificate message, but its leaf does not parse, so
                      nothing can be verified -> unverifiable-chain.
  gap-protected.pcap  small-records.pcap (rogue chain at 1.1.1.1:443 in
                      100-byte segments) without one server segment in the
                      middle of its certificate, as when a span port drops a
                      packet: the handshake at the protected endpoint cannot
                      be checked -> unverified-handshake, the gap counted.
  gap-serverhello.pcap approved-dot.pcap without the server's first data
                      segment (ServerHello and the whole certificate): the
                      client's hello was seen, the server's answer was not
                      -> unverified-handshake.
TCP checksums are recomputed.
"""
import base64
import os
import sys

from scapy.all import TCP, Raw, rdpcap, wrpcap


def pem_der(path):
    lines = [l.strip() for l in open(path) if l.strip() and not l.startswith("-----")]
    return base64.b64decode("".join(lines))


def server_segments(pkts, port):
    return [i for i, p in enumerate(pkts)
            if TCP in p and p[TCP].sport == port and Raw in p]


def fix(p):
    """Make scapy recompute IP and TCP lengths and checksums."""
    ip = p[TCP].underlayer
    for f in ("len", "plen", "chksum"):
        if f in ip.fields:
            del ip.fields[f]
    del p[TCP].chksum
    return p.__class__(bytes(p))


def corrupt_leaf(src, dst, leaf_pem):
    pkts = list(rdpcap(src))
    der = pem_der(leaf_pem)
    for i in server_segments(pkts, 443):
        load = bytes(pkts[i][Raw].load)
        at = load.find(der[:32])
        if at < 0:
            continue
        load = load[:at] + b"\x31" + load[at + 1:]
        t = pkts[i].time
        pkts[i][Raw].load = load
        pkts[i] = fix(pkts[i])
        pkts[i].time = t
        wrpcap(dst, pkts)
        return
    sys.exit(f"mkderived: leaf of {leaf_pem} not found in {src}")


def drop_server_segment(src, dst, port, which):
    """Drop the which-th (0-based; negative from the middle) data segment
    the server sends."""
    pkts = rdpcap(src)
    segs = server_segments(pkts, port)
    if len(segs) < 3:
        sys.exit(f"mkderived: {src} has too few server segments")
    drop = segs[which if which >= 0 else len(segs) // 2]
    wrpcap(dst, [p for i, p in enumerate(pkts) if i != drop])


def main():
    d = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "pcaps")
    corrupt_leaf(os.path.join(d, "fina-rogue-doh.pcap"), os.path.join(d, "corrupt-leaf.pcap"),
                 os.path.join(d, "pki", "rogue-leaf.pem"))
    drop_server_segment(os.path.join(d, "small-records.pcap"),
                        os.path.join(d, "gap-protected.pcap"), 443, 6)
    drop_server_segment(os.path.join(d, "approved-dot.pcap"),
                        os.path.join(d, "gap-serverhello.pcap"), 853, 0)


if __name__ == "__main__":
    main()
