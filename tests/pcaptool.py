#!/usr/bin/python3
"""pcaptool.py - rewrite loopback captures into realistic test captures.

Used by tests/mkpcaps.sh (run it with Debian's /usr/bin/python3, which has
scapy).  The raw captures come from tcpdump on "lo" inside a private network
namespace: every packet is 127.0.0.1 <-> 127.0.0.1 (or ::1 <-> ::1) with
all-zero MACs, and TCP segmentation offload on lo leaves segments larger
than the MTU.  This tool turns such a capture into what a sensor on a real
link would see:

  rewrite IN OUT --client-ip A --server-ip B [options]
      Addresses, MACs, TTLs and timestamps rewritten; payloads re-cut to the
      MSS (or to --split N bytes); optional 802.1Q / QinQ tags, dropped TCP
      handshake (--midstream), and a reordered / retransmitted server
      certificate flight (--reorder).  IP and TCP lengths and checksums are
      recomputed.  The client of a connection is the sender of its SYN.

  merge OUT IN@MS [IN@MS ...]
      Interleave finished captures into one, each shifted by MS milliseconds
      (the first should be @0 so the file still starts at --start).

  dn-equal A.pem B.pem
      Exit 0 when the two certificates' subject DNs are byte-identical DER.

  dn-der CERT.pem
      Print the hex DER of a certificate's subject and issuer.
"""

import argparse
import datetime
import ipaddress
import sys
from decimal import Decimal

from scapy.all import Ether, IP, IPv6, TCP, Raw, rdpcap, wrpcap  # noqa: E402
from scapy.layers.l2 import Dot1Q, Dot1AD  # noqa: E402

DEFAULT_START = "2024-02-01T10:00:00"
ROUTER_MAC = "00:1b:17:00:01:10"   # the client LAN's gateway
CLIENT_OUI = "3c:fd:fe"            # an Intel NIC


def die(msg):
    sys.stderr.write("pcaptool: %s\n" % msg)
    sys.exit(1)


def epoch(iso):
    dt = datetime.datetime.strptime(iso, "%Y-%m-%dT%H:%M:%S")
    dt = dt.replace(tzinfo=datetime.timezone.utc)
    return Decimal(int(dt.timestamp()))


class Seg:
    """One TCP segment, independent of addresses and link layer."""

    __slots__ = ("t", "conn", "c2s", "tcp", "seq", "flags", "payload",
                 "ipid", "fl", "tc")

    def __init__(self, **kw):
        for k in self.__slots__:
            setattr(self, k, kw.get(k))

    def copy(self, **kw):
        s = Seg(**{k: getattr(self, k) for k in self.__slots__})
        for k, v in kw.items():
            setattr(s, k, v)
        return s


def read_segments(path):
    """Parse a raw loopback capture into Seg objects, connection-tagged."""
    segs = []
    conns = {}          # (client_port, server_port) -> index
    family = None
    for pkt in rdpcap(path):
        if IP in pkt:
            ip = pkt[IP]
            fam = 4
            l4len = ip.len - ip.ihl * 4
        elif IPv6 in pkt:
            ip = pkt[IPv6]
            fam = 6
            l4len = ip.plen
        else:
            continue
        if TCP not in pkt:
            continue
        if family is None:
            family = fam
        elif family != fam:
            die("%s: mixes IPv4 and IPv6" % path)
        tcp = pkt[TCP]
        hdr = tcp.dataofs * 4
        payload = bytes(tcp)[hdr:l4len]
        flags = str(tcp.flags)
        key = (tcp.sport, tcp.dport)
        if "S" in flags and "A" not in flags:
            if key not in conns:
                conns[key] = len(conns)
        if key in conns:
            conn, c2s = conns[key], True
        elif (tcp.dport, tcp.sport) in conns:
            conn, c2s = conns[(tcp.dport, tcp.sport)], False
        else:
            die("%s: segment %d->%d without a SYN" % (path, tcp.sport, tcp.dport))
        hdr_only = tcp.copy()
        hdr_only.remove_payload()
        segs.append(Seg(t=Decimal(pkt.time), conn=conn, c2s=c2s, tcp=hdr_only,
                        seq=tcp.seq, flags=flags, payload=payload,
                        ipid=ip.id if fam == 4 else 0,
                        fl=ip.fl if fam == 6 else 0,
                        tc=ip.tc if fam == 6 else 0))
    if not segs:
        die("%s: no TCP segments" % path)
    return segs, family


def split(segs, limit):
    """Re-cut payloads into segments of at most limit bytes."""
    out = []
    usec = Decimal("0.000001")
    for s in segs:
        n = len(s.payload)
        if n <= limit:
            out.append(s)
            continue
        chunks = [s.payload[i:i + limit] for i in range(0, n, limit)]
        for k, c in enumerate(chunks):
            last = k == len(chunks) - 1
            flags = s.flags if last else s.flags.replace("P", "").replace("F", "")
            out.append(s.copy(t=s.t + 2 * k * usec, seq=(s.seq + k * limit) & 0xFFFFFFFF,
                              payload=c, flags=flags, ipid=(s.ipid + k) & 0xFFFF))
    return out


def midstream(segs):
    """Drop each connection's SYN, SYN-ACK and the client's bare ACK."""
    out = []
    seen_data = set()
    for s in segs:
        if "S" in s.flags:
            continue
        if s.conn not in seen_data:
            if s.payload:
                seen_data.add(s.conn)
            elif s.c2s and "F" not in s.flags:
                continue
        out.append(s)
    return out


def reorder(segs, piece):
    """Reorder the server's first flight (ServerHello .. ServerHelloDone).

    The flight is re-cut into piece-byte segments s0..sn, then sent as
        s0 s2 s1 s3 s3 s5 s4 [s4b+s5a] s6 .. sn s1
    i.e. a swap, an identical duplicate, a second swap, a retransmission
    that partially overlaps two earlier segments (same bytes), and a late
    duplicate of an early segment.
    """
    conn0 = segs[0].conn
    first_c2s = next(i for i, s in enumerate(segs)
                     if s.conn == conn0 and s.c2s and s.payload)
    flight_idx = []
    for i in range(first_c2s + 1, len(segs)):
        s = segs[i]
        if s.conn != conn0:
            continue
        if s.c2s and s.payload:
            break
        if not s.c2s and s.payload:
            flight_idx.append(i)
    if not flight_idx:
        die("reorder: no server flight")
    flight = split([segs[i] for i in flight_idx], piece)
    if len(flight) < 7:
        die("reorder: server flight has only %d pieces of %d bytes" % (len(flight), piece))
    s = flight
    h4 = len(s[4].payload) // 2
    h5 = len(s[5].payload) // 2
    overlap = s[4].copy(seq=(s[4].seq + h4) & 0xFFFFFFFF,
                        payload=s[4].payload[h4:] + s[5].payload[:h5],
                        ipid=(s[-1].ipid + 2) & 0xFFFF)
    dup3 = s[3].copy(ipid=(s[-1].ipid + 1) & 0xFFFF)
    dup1 = s[1].copy(ipid=(s[-1].ipid + 3) & 0xFFFF, flags=s[1].flags)
    new = [s[0], s[2], s[1], s[3], dup3, s[5], s[4], overlap] + s[6:] + [dup1]
    t0 = s[0].t
    step = Decimal("0.000020")
    new = [x.copy(t=t0 + k * step) for k, x in enumerate(new)]
    pos = flight_idx[0]
    taken = set(flight_idx)
    after = [x for i, x in enumerate(segs) if i > pos and i not in taken]
    return segs[:pos] + new + after


def monotonic(segs):
    usec = Decimal("0.000001")
    for i in range(1, len(segs)):
        if segs[i].t <= segs[i - 1].t:
            segs[i].t = segs[i - 1].t + usec
    return segs


def client_mac(ip):
    b = ipaddress.ip_address(ip).packed
    return "%s:%02x:%02x:%02x" % (CLIENT_OUI, b[-3], b[-2], b[-1])


def build(segs, family, a):
    cip, sip = a.client_ip, a.server_ip
    for addr in (cip, sip):
        if ipaddress.ip_address(addr).version != family:
            die("address %s does not match the capture's IPv%d" % (addr, family))
    cmac = a.client_mac or client_mac(cip)
    smac = a.server_mac or ROUTER_MAC
    base = epoch(a.start)
    t_first = segs[0].t
    pkts = []
    for s in segs:
        tcp = s.tcp.copy()
        tcp.seq = s.seq
        tcp.flags = s.flags
        tcp.chksum = None
        if s.c2s:
            src, dst, esrc, edst, ttl = cip, sip, cmac, smac, 64
        else:
            src, dst, esrc, edst, ttl = sip, cip, smac, cmac, 57
        if family == 4:
            l3 = IP(src=src, dst=dst, ttl=ttl, id=s.ipid, flags="DF")
            etype = 0x0800
        else:
            l3 = IPv6(src=src, dst=dst, hlim=ttl, fl=s.fl, tc=s.tc)
            etype = 0x86DD
        l3 = l3 / tcp
        if s.payload:
            l3 = l3 / Raw(s.payload)
        if a.qinq:
            outer, inner = a.qinq
            frame = (Ether(src=esrc, dst=edst, type=0x88A8) /
                     Dot1AD(vlan=outer, type=0x8100) /
                     Dot1Q(vlan=inner, type=etype) / l3)
        elif a.vlan is not None:
            frame = Ether(src=esrc, dst=edst, type=0x8100) / Dot1Q(vlan=a.vlan, type=etype) / l3
        else:
            frame = Ether(src=esrc, dst=edst, type=etype) / l3
        frame = Ether(bytes(frame))      # freeze lengths and checksums
        frame.time = base + (s.t - t_first)
        pkts.append(frame)
    return pkts


def cmd_rewrite(a):
    segs, family = read_segments(a.input)
    mss = a.mss or (1460 if family == 4 else 1440)
    segs = split(segs, mss)
    if a.split:
        segs = split(segs, a.split)
    if a.reorder:
        segs = reorder(segs, a.reorder)
    if a.midstream:
        segs = midstream(segs)
    segs = monotonic(segs)
    pkts = build(segs, family, a)
    wrpcap(a.output, pkts, linktype=1)


def cmd_merge(a):
    allp = []
    for n, spec in enumerate(a.inputs):
        path, _, ms = spec.rpartition("@")
        if not path:
            die("merge: expected FILE@MS, got %s" % spec)
        off = Decimal(ms) / 1000
        for k, p in enumerate(rdpcap(path)):
            p.time = Decimal(p.time) + off
            allp.append((p.time, n, k, p))
    allp.sort(key=lambda x: (x[0], x[1], x[2]))
    wrpcap(a.output, [x[3] for x in allp], linktype=1)


def load_cert(path):
    from cryptography import x509
    with open(path, "rb") as f:
        return x509.load_pem_x509_certificate(f.read())


def cmd_dn_equal(a):
    x, y = load_cert(a.a), load_cert(a.b)
    sys.exit(0 if x.subject.public_bytes() == y.subject.public_bytes() else 1)


def cmd_dn_der(a):
    c = load_cert(a.cert)
    print("subject", c.subject.public_bytes().hex())
    print("issuer ", c.issuer.public_bytes().hex())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("rewrite")
    r.add_argument("input")
    r.add_argument("output")
    r.add_argument("--client-ip", required=True)
    r.add_argument("--server-ip", required=True)
    r.add_argument("--client-mac")
    r.add_argument("--server-mac")
    r.add_argument("--start", default=DEFAULT_START, help="UTC, first packet time")
    r.add_argument("--mss", type=int, help="default 1460 (IPv4) / 1440 (IPv6)")
    r.add_argument("--split", type=int, help="re-cut all payloads to this size")
    r.add_argument("--vlan", type=int)
    r.add_argument("--qinq", type=lambda v: tuple(int(x) for x in v.split(":")),
                   help="OUTER:INNER VLAN ids (802.1ad + 802.1Q)")
    r.add_argument("--midstream", action="store_true")
    r.add_argument("--reorder", type=int, metavar="PIECE",
                   help="reorder the server flight cut into PIECE-byte segments")
    r.set_defaults(func=cmd_rewrite)
    m = sub.add_parser("merge")
    m.add_argument("output")
    m.add_argument("inputs", nargs="+")
    m.set_defaults(func=cmd_merge)
    d = sub.add_parser("dn-equal")
    d.add_argument("a")
    d.add_argument("b")
    d.set_defaults(func=cmd_dn_equal)
    d2 = sub.add_parser("dn-der")
    d2.add_argument("cert")
    d2.set_defaults(func=cmd_dn_der)
    a = ap.parse_args()
    a.func(a)


if __name__ == "__main__":
    main()
