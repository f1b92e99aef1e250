"""pcapgen.py - what the capture generators share (tests/mkflood.py,
tests/bench/mkbench.py): Internet checksum pieces and a classic pcap
reader.  Plain Python, no scapy: generators pack millions of packets with
struct, and scapy would take minutes."""

import struct
import sys


def fold(s):
    """One's complement fold of a 32-bit-or-more sum to 16 bits."""
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def wsum(b):
    """Sum of the 16-bit big-endian words of b (odd length padded)."""
    if len(b) % 2:
        b += b"\0"
    return sum(struct.unpack("!%dH" % (len(b) // 2), b))


def read_pcap(path, who="pcapgen"):
    """([(t_usec relative to the first packet, frame bytes)], linktype)."""
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    if magic == 0xA1B2C3D4:
        end, nano = "<", False
    elif magic == 0xD4C3B2A1:
        end, nano = ">", False
    elif magic == 0xA1B23C4D:
        end, nano = "<", True
    else:
        sys.exit("%s: %s: not a classic pcap file" % (who, path))
    linktype = struct.unpack(end + "I", data[20:24])[0]
    out, i = [], 24
    while i + 16 <= len(data):
        sec, frac, incl, _ = struct.unpack(end + "IIII", data[i:i + 16])
        t = sec * 1000000 + (frac // 1000 if nano else frac)
        out.append((t, data[i + 16:i + 16 + incl]))
        i += 16 + incl
    t0 = out[0][0] if out else 0
    return [(t - t0, b) for t, b in out], linktype


def copies(src, prefix, n):
    """prefix.pcap: n copies of src (Ethernet, IPv4, TCP) one second apart,
    copy k with its client ports + k (the server port is 443 or 853), so
    every copy is new flows; prefix.K: the file header plus copy K's
    records, the parts that make prefix.pcap when concatenated."""
    frames, lt = read_pcap(src)
    hdr = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, lt)
    base = 1706781600
    whole = [hdr]
    for k in range(n):
        part = []
        for t, f in frames:
            f = bytearray(f)
            ihl = (f[14] & 15) * 4
            tcp = 14 + ihl
            sport, dport = struct.unpack("!HH", f[tcp:tcp + 4])
            if dport in (443, 853):
                sport += k
            else:
                dport += k
            struct.pack_into("!HH", f, tcp, sport, dport)
            tot = struct.unpack("!H", f[16:18])[0]
            seg = bytes(f[tcp:14 + tot])
            seg = seg[:16] + b"\0\0" + seg[18:]
            pseudo = bytes(f[26:34]) + struct.pack("!BBH", 0, 6, len(seg))
            struct.pack_into("!H", f, tcp + 16, ~fold(wsum(pseudo) + wsum(seg)) & 0xFFFF)
            us = t + k * 1000000
            part.append(struct.pack("<IIII", base + us // 1000000, us % 1000000,
                                    len(f), len(f)) + bytes(f))
        with open("%s.%d" % (prefix, k + 1), "wb") as o:
            o.write((hdr if k == 0 else b"") + b"".join(part))
        whole += part
    with open(prefix + ".pcap", "wb") as o:
        o.write(b"".join(whole))
