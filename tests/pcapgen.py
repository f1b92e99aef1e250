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
