#!/usr/bin/python3
"""mkflood.py - write a large flood capture for tests/t_flood.sh.

usage: /usr/bin/python3 tests/mkflood.py OUTDIR [--syns N] [--half-open N]
                                         [--seconds S] [--seed N] [--rogue PCAP]

Writes OUTDIR/flood.pcap (Ethernet, microsecond timestamps; about 130 MB
with the defaults: never commit it) and prints one line describing it.
Deterministic for a given seed.  Contents, interleaved, timestamps
increasing evenly over --seconds (60) from 2024-02-01T10:00:00 UTC:

  - --syns (1,000,000) TCP SYNs to 1.1.1.1:443 or :853 from random source
    addresses and ports, each a new flow that never says anything more;
  - --half-open (100,000) flows that each send a SYN and, a few packets
    later, one data segment of 450..550 bytes whose sequence number is
    ISN+1+1000: the 1000 bytes before it never come, so a sensor has to keep
    that early segment until the flow is evicted or times out (the bytes
    contain no 0x16, so nothing in them looks like a TLS handshake record);
  - the 18 packets of pcaps/fina-rogue-doh.pcap (a complete TLS 1.2
    handshake at 1.1.1.1:443 whose rogue chain must raise one
    cloudflare-dns:unapproved-issuer alert), moved to the middle of the flood
    with their own spacing kept, so about a hundred flood packets fall
    between its first and last packet.

Every IP and TCP checksum is valid (a sensor validating them must not drop
the flood).  Packets are packed with struct, not built with scapy: a
million-packet file takes a few seconds.
"""

import argparse
import heapq
import os
import random
import struct
import sys
import time

from pcapgen import fold, read_pcap, wsum

START = 1706781600                      # 2024-02-01T10:00:00Z
SERVER = bytes([1, 1, 1, 1])
CLIENT_MAC = bytes.fromhex("3cfdfe00710b")
ROUTER_MAC = bytes.fromhex("001b17000110")
ETH = ROUTER_MAC + CLIENT_MAC + b"\x08\x00"


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("outdir")
    ap.add_argument("--syns", type=int, default=1000000)
    ap.add_argument("--half-open", type=int, default=100000)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--seed", type=int, default=20240201)
    ap.add_argument("--rogue", default=os.path.join(here, "..", "pcaps", "fina-rogue-doh.pcap"))
    a = ap.parse_args()

    t_begin = time.monotonic()
    rng = random.Random(a.seed)
    rogue, lt = read_pcap(a.rogue, "mkflood")
    if lt != 1:
        sys.exit("mkflood: %s: link type %d, want Ethernet" % (a.rogue, lt))

    # Data for the early segments: no 0x16 byte anywhere.
    blob = bytes(b if b != 0x16 else 0x17 for b in rng.randbytes(600))
    lens = list(range(450, 551))
    blob_sum = {n: wsum(blob[:n]) for n in lens}

    # One kind a slot: 0 = lone SYN, 1 = half-open flow (its SYN; its data
    # segment is queued a few packets later).
    kinds = [0] * a.syns + [1] * a.half_open
    rng.shuffle(kinds)
    total = a.syns + 2 * a.half_open
    step = max(1, int(a.seconds * 1e6) // max(1, total))
    rogue_at = START * 1000000 + (total // 2) * step + step // 2

    used = set()

    def src_addr():
        while True:
            v = rng.getrandbits(32)
            o1 = v >> 24
            if o1 in (0, 10, 127) or o1 >= 224 or (v >> 8) == 0xCB0071:   # 203.0.113/24
                continue
            return v

    # constant parts of the checksums
    ip_const = 0x4500 + 0x4000 + (64 << 8 | 6) + wsum(SERVER)
    syn_opts = struct.pack("!BBH", 2, 4, 1460)          # MSS 1460
    syn_tcp_len = 24
    data_tcp_hlen = 20

    out = open(os.path.join(a.outdir, "flood.pcap"), "wb")
    out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
    buf = []
    pack_rec = struct.Struct("<IIII").pack
    pack_ip = struct.Struct("!BBHHHBBH4s4s").pack
    pack_tcp = struct.Struct("!HHIIBBHHH").pack
    n_written = 0
    ipid = rng.getrandbits(16)
    pending = []            # heap of (slot, seq, frame parts)
    slot = 0
    t = START * 1000000
    ri = 0
    counts = {"syn": 0, "half-open": 0, "data": 0, "rogue": 0}

    def ip_hdr(src, tot_len, ident):
        c = fold(ip_const + tot_len + ident + (src >> 16) + (src & 0xFFFF))
        return pack_ip(0x45, 0, tot_len, ident, 0x4000, 64, 6, 0xFFFF - c,
                       src.to_bytes(4, "big"), SERVER)

    def tcp_hdr(src, sport, dport, seq, ack, off_flags, win, tcp_len, extra_sum):
        s = (src >> 16) + (src & 0xFFFF) + wsum_server + 6 + tcp_len
        s += sport + dport + (seq >> 16) + (seq & 0xFFFF) + (ack >> 16) + (ack & 0xFFFF)
        s += off_flags + win + extra_sum
        c = fold(s)
        return pack_tcp(sport, dport, seq, ack, off_flags >> 8, off_flags & 0xFF,
                        win, 0xFFFF - c, 0)

    wsum_server = wsum(SERVER)
    syn_opt_sum = wsum(syn_opts)

    def new_flow():
        while True:
            src = src_addr()
            sport = rng.randrange(1024, 65536)
            dport = 443 if rng.getrandbits(1) else 853
            key = (src << 32) | (sport << 16) | dport
            if key not in used:
                used.add(key)
                return src, sport, dport

    def emit(tus, frame):
        nonlocal n_written
        buf.append(pack_rec(tus // 1000000, tus % 1000000, len(frame), len(frame)))
        buf.append(frame)
        n_written += 1
        if len(buf) >= 65536:
            out.write(b"".join(buf))
            buf.clear()

    def flush_rogue(upto):
        nonlocal ri
        while ri < len(rogue) and rogue_at + rogue[ri][0] <= upto:
            emit(rogue_at + rogue[ri][0], rogue[ri][1])
            counts["rogue"] += 1
            ri += 1

    k = 0
    while k < len(kinds) or pending:
        if pending and (pending[0][0] <= slot or k >= len(kinds)):
            _, _, frame = heapq.heappop(pending)
            counts["data"] += 1
        else:
            kind = kinds[k]
            k += 1
            src, sport, dport = new_flow()
            isn = rng.getrandbits(32)
            ipid = (ipid + 1) & 0xFFFF
            frame = (ETH + ip_hdr(src, 20 + syn_tcp_len, ipid) +
                     tcp_hdr(src, sport, dport, isn, 0, (6 << 12) | 0x02, 64240,
                             syn_tcp_len, syn_opt_sum) + syn_opts)
            if kind:
                counts["half-open"] += 1
                n = lens[rng.randrange(len(lens))]
                seq = (isn + 1 + 1000) & 0xFFFFFFFF
                ack = rng.getrandbits(32)
                did = (ipid + 1 + rng.randrange(8)) & 0xFFFF
                dframe = (ETH + ip_hdr(src, 20 + data_tcp_hlen + n, did) +
                          tcp_hdr(src, sport, dport, seq, ack, (5 << 12) | 0x18, 502,
                                  data_tcp_hlen + n, blob_sum[n]) + blob[:n])
                heapq.heappush(pending, (slot + 1 + rng.randrange(64), k, dframe))
            else:
                counts["syn"] += 1
        flush_rogue(t)
        emit(t, frame)
        slot += 1
        t += step
    flush_rogue(1 << 62)
    out.write(b"".join(buf))
    out.close()
    if counts["rogue"] != len(rogue):
        sys.exit("mkflood: rogue handshake not fully written")
    print("mkflood: %d packets (%d lone SYNs, %d half-open flows, %d rogue) over %.1f s, "
          "rogue handshake at +%.3f s, written in %.1f s" %
          (n_written, counts["syn"], counts["half-open"], counts["rogue"],
           (t - START * 1000000) / 1e6, (rogue_at - START * 1000000) / 1e6,
           time.monotonic() - t_begin))


if __name__ == "__main__":
    main()
