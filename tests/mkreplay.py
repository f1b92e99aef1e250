#!/usr/bin/python3
"""Replay one capture's connection N times: the same handshake bytes from N
client ports, one after another, each STEP seconds after the last.

    mkreplay.py IN.pcap OUT.pcap N [STEP]

The input is a classic pcap (Ethernet, IPv4, TCP) holding one connection,
as tests/mkpcaps.sh writes them.  Copy i moves the client's port to
20000 + i (mod 40000) and its packets' times by i * STEP; the TCP checksum
is adjusted incrementally (RFC 1624), so valid checksums stay valid.  For
tests of alert windows (tests/t_feed.sh): a big capture is made, never
committed.
"""
import struct
import sys


def read_pcap(path):
    with open(path, "rb") as f:
        data = f.read()
    magic, = struct.unpack_from("<I", data, 0)
    if magic != 0xa1b2c3d4:
        sys.exit("mkreplay: %s: not a little-endian microsecond pcap" % path)
    linktype, = struct.unpack_from("<I", data, 20)
    if linktype != 1:
        sys.exit("mkreplay: %s: link type %d, want Ethernet" % (path, linktype))
    off, recs = 24, []
    while off + 16 <= len(data):
        sec, usec, incl, orig = struct.unpack_from("<IIII", data, off)
        recs.append((sec, usec, orig, bytearray(data[off + 16:off + 16 + incl])))
        off += 16 + incl
    return data[:24], recs


def csum_fix(old_sum, old_word, new_word):
    # RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m')
    s = (~old_sum & 0xffff) + (~old_word & 0xffff) + new_word
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    header, recs = read_pcap(sys.argv[1])
    n = int(sys.argv[3])
    step = float(sys.argv[4]) if len(sys.argv) > 4 else 0.01
    syn = recs[0][3]
    ihl = (syn[14] & 0x0f) * 4
    client_port, = struct.unpack_from(">H", syn, 14 + ihl)
    with open(sys.argv[2], "wb") as out:
        out.write(header)
        for i in range(n):
            shift = int(round(i * step * 1e6))
            port = 20000 + i % 40000
            for sec, usec, orig, frame in recs:
                f = bytearray(frame)
                ihl = (f[14] & 0x0f) * 4
                tcp = 14 + ihl
                sport, dport = struct.unpack_from(">HH", f, tcp)
                cs, = struct.unpack_from(">H", f, tcp + 16)
                if sport == client_port:
                    struct.pack_into(">H", f, tcp, port)
                    struct.pack_into(">H", f, tcp + 16, csum_fix(cs, sport, port))
                elif dport == client_port:
                    struct.pack_into(">H", f, tcp + 2, port)
                    struct.pack_into(">H", f, tcp + 16, csum_fix(cs, dport, port))
                t = sec * 1000000 + usec + shift
                out.write(struct.pack("<IIII", t // 1000000, t % 1000000, len(f), orig))
                out.write(f)


if __name__ == "__main__":
    main()
