#!/usr/bin/python3
"""mkencap.py - wrap a committed capture in tunnel and mirroring encapsulations.

usage: /usr/bin/python3 tests/mkencap.py [PCAP_DIR]

Writes PCAP_DIR/encap/*.pcap, PCAP_DIR/encap/captures.tsv and
PCAP_DIR/encap/README.md (PCAP_DIR defaults to pcaps/ beside this script).
Every frame of PCAP_DIR/fina-rogue-doh.pcap (one TLS 1.2 handshake of
203.0.113.11 with 1.1.1.1:443 presenting the rogue chain) is wrapped, both
directions alike, as a switch (10.0.0.1) would send it to a collector
(10.0.0.2): GRE, ERSPAN, VXLAN, Geneve; or relabelled as MPLS.  The inner
frames are the original bytes; times are the original's.  Deterministic: no
network, no randomness, the pcap files are written here byte by byte, so
the same input always gives byte-identical outputs.  Needs Debian's
python3-scapy (never pip).
"""

import os
import struct
import sys

from scapy.all import Ether, IP, UDP, GRE, Dot1Q, Raw  # noqa: E402
from scapy.utils import RawPcapReader  # noqa: E402
from scapy.contrib.erspan import ERSPAN_II, ERSPAN_III, ERSPAN_PlatformSpecific  # noqa: E402
from scapy.contrib.geneve import GENEVE, GeneveOptions  # noqa: E402
from scapy.contrib.mpls import MPLS  # noqa: E402
from scapy.layers.vxlan import VXLAN  # noqa: E402

SOURCE = "fina-rogue-doh.pcap"
EXPECTED = "cloudflare-dns:unapproved-issuer"
SWITCH_MAC, COLLECTOR_MAC = "02:00:0a:00:00:01", "02:00:0a:00:00:02"
SWITCH_IP, COLLECTOR_IP = "10.0.0.1", "10.0.0.2"
VNI = 5001
VLAN = 100
ERSPAN_SESSION = 7
GRE_KEY = 0x0000002A


def die(msg):
    sys.stderr.write("mkencap: %s\n" % msg)
    sys.exit(1)


def read_source(path):
    """[(sec, usec, frame bytes)] of an Ethernet pcap with microsecond times."""
    reader = RawPcapReader(path)
    if reader.linktype != 1:
        die("%s: link type %d, want Ethernet (1)" % (path, reader.linktype))
    out = []
    for data, meta in reader:
        if meta.caplen != meta.wirelen:
            die("%s: a frame was cut by the snap length" % path)
        out.append((meta.sec, meta.usec, bytes(data)))
    reader.close()
    if not out:
        die("%s: no packets" % path)
    return out


def write_pcap(path, records):
    """Classic pcap, microsecond times, Ethernet, snap length 65535."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for sec, usec, frame in records:
            f.write(struct.pack("<IIII", sec, usec, len(frame), len(frame)))
            f.write(frame)


def inner_ip(frame):
    """The IPv4 packet of an untagged Ethernet frame."""
    if frame[12:14] != b"\x08\x00":
        die("source frame is not untagged IPv4")
    return frame[14:]


def outer(i, proto):
    """Ethernet and IPv4 from switch to collector; i numbers the packet."""
    return (Ether(src=SWITCH_MAC, dst=COLLECTOR_MAC) /
            IP(src=SWITCH_IP, dst=COLLECTOR_IP, id=(0x1000 + i) & 0xFFFF,
               flags="DF", ttl=64, proto=proto))


# Each wrapper: (packet index, usec time stamp as an integer, original
# Ethernet frame) -> the new Ethernet frame as bytes.

def gre_plain(i, ts, frame):
    # RFC 2784: no optional fields, protocol IPv4, the inner IP packet.
    return bytes(outer(i, 47) / GRE(proto=0x0800) / Raw(inner_ip(frame)))


def gre_key_seq(i, ts, frame):
    # RFC 2890: key and sequence number, transparent Ethernet bridging.
    return bytes(outer(i, 47) /
                 GRE(key_present=1, seqnum_present=1, key=GRE_KEY, sequence_number=i,
                     proto=0x6558) / Raw(frame))


def erspan1(i, ts, frame):
    # Type I: 4-byte GRE header (no flags), 0x88be, the frame directly.
    return bytes(outer(i, 47) / GRE(proto=0x88BE) / Raw(frame))


def erspan2(i, ts, frame):
    # Type II: GRE with sequence number, 8-byte ERSPAN header version 1.
    # En 3: any VLAN tag is kept in the frame (there is none).
    return bytes(outer(i, 47) /
                 GRE(seqnum_present=1, sequence_number=i, proto=0x88BE) /
                 ERSPAN_II(ver=1, vlan=0, cos=0, en=3, t=0,
                           session_id=ERSPAN_SESSION, index=1) /
                 Raw(frame))


def erspan3_hdr(i, ts, sub):
    # Type III: 12-byte header version 2, time stamp in 100 us units
    # (granularity 0), frame type 0 (Ethernet), O says a subheader follows.
    return (GRE(seqnum_present=1, sequence_number=i, proto=0x22EB) /
            ERSPAN_III(ver=2, vlan=0, cos=0, bso=0, t=0,
                       session_id=ERSPAN_SESSION,
                       timestamp=(ts // 100) & 0xFFFFFFFF, sgt_other=0,
                       p=0, ft=0, hw=1, d=i % 2, gra=0, o=1 if sub else 0))


def erspan3(i, ts, frame):
    return bytes(outer(i, 47) / erspan3_hdr(i, ts, False) / Raw(frame))


def erspan3_sub(i, ts, frame):
    # Platform-specific subheader, platform ID 7: source index, then the
    # upper 32 bits of the time stamp.
    return bytes(outer(i, 47) / erspan3_hdr(i, ts, True) /
                 ERSPAN_PlatformSpecific(platf_id=7, info1=0x12, info2=ts >> 32) /
                 Raw(frame))


def vxlan(i, ts, frame):
    # RFC 7348 §5: I flag, VNI; UDP checksum zero over IPv4 (§5).
    return bytes(outer(i, 17) / UDP(sport=49152, dport=4789, chksum=0) /
                 VXLAN(flags=0x08, vni=VNI) / Raw(frame))


def geneve(i, ts, frame):
    # RFC 8926 §3.5: protocol 0x6558, one option TLV (class 0xfff0, for
    # experiments by §7.2; type 0x01, not critical; 4 bytes of data), so
    # the option length must be honoured.
    opt = GeneveOptions(classid=0xFFF0, type=0x01,
                        data=struct.pack("!I", 0xC0FFEE00 | (i & 0xFF)))
    return bytes(outer(i, 17) / UDP(sport=49153, dport=6081, chksum=0) /
                 GENEVE(proto=0x6558, vni=VNI, options=[opt]) / Raw(frame))


def mpls(i, ts, frame):
    # RFC 3032: the original MACs, two labels (bottom of stack on the
    # second), then the IP packet.
    eth = Ether(frame[:14])
    return bytes(Ether(src=eth.src, dst=eth.dst, type=0x8847) /
                 MPLS(label=1001, cos=0, s=0, ttl=64) /
                 MPLS(label=2002, cos=0, s=1, ttl=64) / Raw(inner_ip(frame)))


def vxlan_vlan(i, ts, frame):
    # The inner frame re-tagged with 802.1Q VLAN 100 inside VXLAN.
    eth = Ether(frame[:14])
    tagged = bytes(Ether(src=eth.src, dst=eth.dst, type=0x8100) /
                   Dot1Q(prio=0, vlan=VLAN, type=0x0800) / Raw(inner_ip(frame)))
    return bytes(outer(i, 17) / UDP(sport=49152, dport=4789, chksum=0) /
                 VXLAN(flags=0x08, vni=VNI) / Raw(tagged))


CAPTURES = [
    ("gre.pcap", gre_plain,
     "GRE (RFC 2784), 4-byte header without optional fields, protocol 0x0800: "
     "the inner IPv4 packet without its Ethernet header."),
    ("gre-key-seq.pcap", gre_key_seq,
     "GRE with key (0x2a) and sequence number (RFC 2890; 12-byte header), "
     "protocol 0x6558 (transparent Ethernet bridging): the whole inner frame."),
    ("erspan1.pcap", erspan1,
     "ERSPAN type I: GRE protocol 0x88be without the S bit (4-byte GRE "
     "header), no ERSPAN header; the mirrored Ethernet frame follows directly."),
    ("erspan2.pcap", erspan2,
     "ERSPAN type II: GRE with sequence number, protocol 0x88be, 8-byte ERSPAN "
     "header version 1 (session 7, En 3), then the mirrored frame."),
    ("erspan3.pcap", erspan3,
     "ERSPAN type III: GRE with sequence number, protocol 0x22eb, 12-byte "
     "ERSPAN header version 2 (frame type 0 Ethernet, O clear), then the frame."),
    ("erspan3-subheader.pcap", erspan3_sub,
     "ERSPAN type III with O set: the 12-byte header, an 8-byte "
     "platform-specific subheader (platform ID 7), then the frame."),
    ("vxlan.pcap", vxlan,
     "VXLAN (RFC 7348), UDP 4789, VNI 5001: the whole inner frame."),
    ("geneve.pcap", geneve,
     "Geneve (RFC 8926), UDP 6081, protocol 0x6558, VNI 5001, one 8-byte "
     "option TLV (experimental class 0xfff0, type 0x01, not critical): option length 2 words."),
    ("mpls.pcap", mpls,
     "MPLS (RFC 3032) on the original Ethernet addresses: labels 1001 and "
     "2002 (bottom of stack), then the IPv4 packet.  No outer IP."),
    ("vxlan-vlan.pcap", vxlan_vlan,
     "VXLAN carrying an 802.1Q-tagged frame (VLAN 100): the tls event's "
     "`vlan` is [100], the inner frame's, not anything of the outer packet."),
]


README_HEAD = """# Encapsulation captures

Derived deterministically from `pcaps/fina-rogue-doh.pcap` by
`tests/mkencap.py` (no network, no keys; run `/usr/bin/python3
tests/mkencap.py` to rewrite this directory, byte-identical each time).
`tests/t_encap.sh` runs each through `certsentry -R pcaps/test.rules` and
checks `captures.tsv` (file, handshakes, sorted `owner:verdict` alerts):
every capture holds the one rogue TLS 1.2 handshake of 203.0.113.11 with
1.1.1.1:443 and must raise `cloudflare-dns:unapproved-issuer`; the events
must name the inner addresses, never the outer ones.

Every frame of the source, in both directions, is wrapped the same way, as
a switch at 10.0.0.1 (02:00:0a:00:00:01) mirrors or tunnels it to a
collector at 10.0.0.2 (02:00:0a:00:00:02): outer IPv4 with DF, TTL 64 and
IP ids 0x1000 + packet index; GRE sequence numbers are the packet index;
UDP checksums are zero (RFC 7348 §5, RFC 8926 §3.3).  Times and inner bytes
are the original's.  tshark 4.0 decodes each to the inner handshake (with
`-o tcp.reassemble_out_of_order:TRUE`); `tests/t_encap.sh` checks that too.

| file | encapsulation |
| --- | --- |
"""


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    pdir = argv[1] if len(argv) > 1 else os.path.join(here, "..", "pcaps")
    src = read_source(os.path.join(pdir, SOURCE))
    odir = os.path.join(pdir, "encap")
    os.makedirs(odir, exist_ok=True)
    rows = []
    for name, wrap, _ in CAPTURES:
        recs = []
        for i, (sec, usec, frame) in enumerate(src):
            recs.append((sec, usec, wrap(i, sec * 1000000 + usec, frame)))
        write_pcap(os.path.join(odir, name), recs)
        rows.append("%s\t1\t%s\n" % (name, EXPECTED))
    with open(os.path.join(odir, "captures.tsv"), "w") as f:
        f.write("file\thandshakes\texpected_alerts\n")
        f.writelines(rows)
    with open(os.path.join(odir, "README.md"), "w") as f:
        f.write(README_HEAD)
        for name, _, what in CAPTURES:
            f.write("| `%s` | %s |\n" % (name, what))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
