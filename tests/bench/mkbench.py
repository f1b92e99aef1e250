#!/usr/bin/env python3
"""mkbench.py - write a span-like benchmark capture for tests/bench/bench.sh.

usage: python3 tests/bench/mkbench.py OUT.pcap [--size-mb 1024] [--concurrent 256]
                                      [--data-kb 64-768] [--seed N]
       python3 tests/bench/mkbench.py OUT.pcap --flows 1000000
       python3 tests/bench/mkbench.py OUT.pcap --set tls13 --keylog OUT.keys
                                      --connections 12000 --data-kb 1-4
       python3 tests/bench/mkbench.py OUT.pcap --set tls12 --connections 12000 --data-kb 1-4
       python3 tests/bench/mkbench.py OUT.pcap --set quic [--keylog OUT.keys]
                                      --connections 12000 --data-kb 1-4

Plain Python (struct, no scapy): any python3 runs it.  The capture is
generated, never committed (1 GB by default).  Every IP and TCP checksum is
valid.  Deterministic for a given seed.

Span mode (default): the TLS connections of the project's own captures
(pcaps/*.pcap, real OpenSSL and GnuTLS sessions, see pcaps/README.md) are
the templates.  Each new connection copies one template's packets up to its
close (SYN, handshake, first application data), with a new client address
and port, new initial sequence numbers and new timestamps; the server keeps
its address, so verdicts stay those of the template (most connections are
approved, about 1 in 8 carries a rogue chain for 1.1.1.1).  Then the
connection carries a download: 1448-byte segments, each one TLS
application-data record, acknowledged by the client every second segment,
with a small client record every 64 segments, 64 KB to 768 KB per
connection (--data-kb; 1-4 makes a capture of short connections, where
inspecting handshakes is most of the work); then FIN both ways.  --concurrent connections run at once,
their packets interleaved at random, 10 us apart.  About 1 connection in 8
is a QUIC one instead (the QUIC set's templates, below, over UDP 443 and
853, with the same 64-768 KB downloads), so that the span capture also
measures decided QUIC flows, whose datagrams must cost a table look-up.
The script prints the share of bytes that come after the handshakes
(>= 95 %).

TLS 1.3 and TLS 1.2 sets (--set tls13|tls12): the same, with the
templates of pcaps/tls13/ (made by tests/mktls13.sh): the TLS 1.3 sessions,
each copy given a ClientHello random of its own and a line in the key log
(--keylog) that maps it to its template's server handshake traffic secret
(so a key log of N lines, one look-up each, and records that decrypt), or
the TLS 1.2 twins of the same chains at the same server.  --connections N
stops after N connections, so that both sets have as many.

QUIC set (--set quic): the templates are pcaps/quic/'s QUIC v1 captures
(real quic-go and ngtcp2 sessions, see pcaps/quic/README.md and
expected.tsv; the draft-v2 one is left out), read from their pcapng here.
Each copy gets a new client address and port (the VN capture's two client
ports two new ones) and new timestamps; its datagrams are the template's
bytes unchanged (nothing in QUIC's protection depends on the addresses),
every IPv4 and UDP checksum valid (UDP's computed, not 0).  The
template's datagrams up to its client's last one (the CONNECTION_CLOSE in
every capture there) come first, then a download of 1-RTT short-header
datagrams of 1200-1350 bytes (first byte 0x40 | random low bits, the DCID
the template's server used in its short headers, i.e. the client's last
SCID, zero-length for quic-go's client, then random bytes), with a client
short-header datagram of 40-60 bytes (the DCID of the template client's
last short header) after every second one; then the close and whatever
followed it.  --keylog writes one SERVER_HANDSHAKE_TRAFFIC_SECRET line
per template, not per copy: every copy keeps its template's ClientHello,
and so its random (a new one would mean sealing the Initial packets
again), so the key log has 12 lines; a sensor still looks the random up
once per handshake.

Flows mode (--flows N): N connections open at once, to measure memory per
flow: SYN, SYN-ACK, ACK, then one application-data record each way (so a
sensor has looked at each flow's data), no close; after every 1000 such
flows, one complete handshake from a template (so verification also runs).
All within 100 s, inside any flow timeout.
"""

import argparse
import os
import random
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from pcapgen import fold, read_pcap, wsum  # noqa: E402

START = 1727776800                      # 2024-10-01T10:00:00Z
HERE = os.path.dirname(os.path.abspath(__file__))
PCAPS = os.path.join(HERE, "..", "..", "pcaps")
# IPv4 over Ethernet, one connection each, weight = how often it is picked.
TEMPLATES = [
    ("approved-dot.pcap", 20), ("tls12.pcap", 12), ("tls13.pcap", 12),
    ("gnutls-approved.pcap", 10), ("pinned-api.pcap", 10), ("unrelated.pcap", 12),
    ("tls10.pcap", 3), ("tls11.pcap", 3), ("tls13-rogue.pcap", 4),
    ("fina-rogue-doh.pcap", 4), ("rogue-elsewhere.pcap", 2),
    ("selfsigned-interceptor.pcap", 2), ("forged-issuer.pcap", 2),
    ("appended-intermediate.pcap", 1), ("sni-protected.pcap", 1),
]
# The TLS 1.3 set and its TLS 1.2 twins (pcaps/tls13/): same chains, same
# server, about the same mix.
T13 = os.path.join(PCAPS, "tls13")
TEMPLATES_TLS13 = [
    ("tls13/approved-tls13.pcap", 20), ("tls13/approved-aes128.pcap", 10),
    ("tls13/approved-chacha.pcap", 10), ("tls13/gnutls-server.pcap", 5),
    ("tls13/gnutls-client.pcap", 5), ("tls13/rogue-tls13.pcap", 4),
    ("tls13/rogue-chacha.pcap", 2), ("tls13/selfsigned-tls13.pcap", 1),
    ("tls13/forged-tls13.pcap", 1), ("tls13/appended-tls13.pcap", 1),
]
TEMPLATES_TLS12 = [
    ("tls13/approved-tls12.pcap", 50), ("tls13/rogue-tls12.pcap", 6),
    ("tls13/selfsigned-tls12.pcap", 1), ("tls13/forged-tls12.pcap", 1),
    ("tls13/appended-tls12.pcap", 1),
]
# pcaps/quic/'s v1 captures and their weights (the draft-v2 one is left
# out: certsentry does not read that version): mostly approved chains, as
# the TLS 1.3 set.  In span mode they make about 1 connection in 8.
QUIC_WEIGHTS = {
    "doq-approved.pcapng": 6, "h3-approved.pcapng": 6, "h3-ngtcp2-approved.pcapng": 4,
    "doq-rogue.pcapng": 1, "h3-rogue.pcapng": 1, "doq-big.pcapng": 1, "doq-retry.pcapng": 1,
    "h3-ngtcp2-aes128.pcapng": 1, "h3-ngtcp2-aes256.pcapng": 1, "h3-ngtcp2-chacha.pcapng": 1,
    "h3-ngtcp2-retry.pcapng": 1, "h3-ngtcp2-vn.pcapng": 1,
}
QUIC_SHARE = 8                           # span mode: 1 connection in QUIC_SHARE is QUIC
QUIC_BLOBS = 16                          # download payloads made per template
SEG = 1448                               # MSS of a 1500-byte Ethernet link
REC = struct.pack("!BHH", 0x17, 0x0303, SEG - 5)

pack_rec = struct.Struct("<IIII").pack
pack_ip = struct.Struct("!BBHHHBBH4s4s").pack
pack_tcp = struct.Struct("!HHIIBBHHH").pack
pack_udp = struct.Struct("!HHHH").pack


class Template:
    """One connection of a capture: its segments up to the first FIN/RST,
    relative to the client, and where each direction's sequence ends."""

    def __init__(self, path):
        self.name = os.path.basename(path)
        self.segs = []             # (c2s, seq_rel, ack_rel, off_flags, win, opts, payload, psum)
        pkts, linktype = read_pcap(path, "mkbench")
        if linktype != 1:
            sys.exit("mkbench: %s: not Ethernet" % path)
        frames = [b for _, b in pkts]
        client = server = None
        isn = {}
        nxt = {}
        for fr in frames:
            if len(fr) < 54 or fr[12:14] != b"\x08\x00":
                continue
            ihl = (fr[14] & 15) * 4
            if fr[23] != 6:
                continue
            ip = fr[14:]
            tot = struct.unpack("!H", ip[2:4])[0]
            src, dst = ip[12:16], ip[16:20]
            tcp = ip[ihl:tot]
            sport, dport, seq, ack, off, flags, win = struct.unpack("!HHIIBBH", tcp[:16])
            thl = (off >> 4) * 4
            opts, payload = tcp[20:thl], tcp[thl:]
            if client is None:
                if not flags & 0x02:
                    sys.exit("mkbench: %s: does not start with a SYN" % path)
                client, server = (src, sport), (dst, dport)
                self.server_ip, self.server_port = dst, dport
            c2s = (src, sport) == client
            if (src, sport) not in (client, server) or (dst, dport) not in (client, server):
                continue
            if flags & 0x05:                # FIN or RST: the template ends
                break
            isn.setdefault(c2s, seq)
            seq_rel = (seq - isn[c2s]) & 0xFFFFFFFF
            ack_rel = ((ack - isn[not c2s]) & 0xFFFFFFFF) if (flags & 0x10 and (not c2s) in isn) else None
            end = (seq_rel + len(payload) + (1 if flags & 0x02 else 0)) & 0xFFFFFFFF
            nxt[c2s] = max(nxt.get(c2s, 0), end)
            self.segs.append((c2s, seq_rel, ack_rel, (thl // 4) << 12 | flags, win, opts, payload,
                              wsum(opts + payload)))
        if True not in nxt or False not in nxt:
            sys.exit("mkbench: %s: not a two-way connection" % path)
        # The ClientHello: the first client segment with a handshake
        # record holding message type 1; its random sits at byte 11
        # (record header 5, message header 4, legacy_version 2).
        self.ch = next((i for i, sg in enumerate(self.segs)
                        if sg[0] and sg[6][:1] == b"\x16" and sg[6][5:6] == b"\x01"), None)
        self.secret = None
        keys = path[:-len(".pcap")] + ".keys"
        if os.path.exists(keys):
            for line in open(keys):
                f = line.split()
                if len(f) == 3 and f[0] == "SERVER_HANDSHAKE_TRAFFIC_SECRET":
                    self.secret = f[2]
        self.next_c, self.next_s = nxt[True], nxt[False]
        self.bytes = sum(14 + 20 + 20 + len(s[5]) + len(s[6]) for s in self.segs)


def read_pcapng(path):
    """The frames of a pcapng file's Enhanced Packet Blocks, in file order,
    and the link type of their interface (one interface, as tests/mkquic.sh
    writes them).  Other blocks (the Decryption Secrets Block among them)
    are skipped; a block that runs past the end of the file ends the read,
    one whose length is not a multiple of 4 or below 12 is an error."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 12 or data[:4] != b"\x0a\x0d\x0d\x0a":
        sys.exit("mkbench: %s: not a pcapng file" % path)
    bom = data[8:12]
    end = "<" if bom == b"\x4d\x3c\x2b\x1a" else ">" if bom == b"\x1a\x2b\x3c\x4d" else None
    if end is None:
        sys.exit("mkbench: %s: bad pcapng byte-order magic" % path)
    frames, linktypes, i = [], [], 0
    while len(data) - i >= 12:
        btype, blen = struct.unpack(end + "II", data[i:i + 8])
        if blen < 12 or blen % 4:
            sys.exit("mkbench: %s: block at %d has length %d" % (path, i, blen))
        if blen > len(data) - i:
            break
        body = data[i + 8:i + blen - 4]
        if btype == 1 and len(body) >= 2:                     # Interface Description
            linktypes.append(struct.unpack(end + "H", body[:2])[0])
        elif btype == 6 and len(body) >= 20:                  # Enhanced Packet
            caplen = struct.unpack(end + "I", body[12:16])[0]
            if caplen > len(body) - 20:
                sys.exit("mkbench: %s: packet at %d longer than its block" % (path, i))
            frames.append(body[20:20 + caplen])
        i += blen
    if len(set(linktypes)) != 1:
        sys.exit("mkbench: %s: %d interfaces, one expected" % (path, len(linktypes)))
    return frames, linktypes[0]


def quic_cids(dgram):
    """(DCID, SCID) of the long-header packet that starts a datagram, None
    for a short header or a datagram too short for its own lengths
    (RFC 9000 §17.2: flags, version, DCID length and DCID, SCID length and
    SCID)."""
    if len(dgram) < 7 or not dgram[0] & 0x80:
        return None
    dl = dgram[5]
    if dl > len(dgram) - 7:
        return None
    sl = dgram[6 + dl]
    if sl > len(dgram) - 7 - dl:
        return None
    return dgram[6:6 + dl], dgram[7 + dl:7 + dl + sl]


class QuicTemplate:
    """One QUIC connection of pcaps/quic/ (IPv4 over Ethernet, UDP): its
    datagrams, relative to the client, split before the client's last
    datagram.  Every capture there ends with the client's CONNECTION_CLOSE
    (pcaps/quic/README.md), so the head is the handshake and the request
    and answer, and the download goes between the head and the close."""

    quic = True

    def __init__(self, path, rng):
        self.name = os.path.basename(path)
        frames, linktype = read_pcapng(path)
        if linktype != 1:
            sys.exit("mkbench: %s: not Ethernet" % path)
        dgrams = []                # (c2s, client port index, payload, psum)
        client = server = None
        ports = []                 # the client's ports, in order (a VN restart takes a new one)
        for fr in frames:
            if len(fr) < 42 or fr[12:14] != b"\x08\x00" or fr[23] != 17:
                continue
            ihl = (fr[14] & 15) * 4
            tot = struct.unpack("!H", fr[16:18])[0]
            if ihl < 20 or tot < ihl + 8 or tot > len(fr) - 14:
                sys.exit("mkbench: %s: bad IPv4 header" % path)
            ip = fr[14:14 + tot]
            src, dst = ip[12:16], ip[16:20]
            sport, dport, ulen = struct.unpack("!HHH", ip[ihl:ihl + 6])
            if ulen < 8 or ulen > tot - ihl:
                sys.exit("mkbench: %s: bad UDP length" % path)
            payload = ip[ihl + 8:ihl + ulen]
            if client is None:
                client, server = src, dst
                self.server_ip, self.server_port = dst, dport
            if {src, dst} != {client, server}:
                continue
            c2s = src == client
            cport = sport if c2s else dport
            if cport not in ports:
                ports.append(cport)
            dgrams.append((c2s, ports.index(cport), payload, wsum(payload)))
        last_c = max((i for i, d in enumerate(dgrams) if d[0]), default=None)
        if last_c is None or all(d[0] for d in dgrams):
            sys.exit("mkbench: %s: not a two-way connection" % path)
        self.head, self.tail, self.nports = dgrams[:last_c], dgrams[last_c:], len(ports)
        # The connection IDs of the download: the server's short-header
        # packets carry the client's last SCID (RFC 9000 §5.1; quic-go's
        # client uses zero-length ones), the client's carry one the server
        # chose (quic-go's client moves to a NEW_CONNECTION_ID one).  A short
        # header does not say its DCID's length, so take the length from the
        # long headers and the bytes from the template's own short-header
        # datagrams, checked where they can be; else 8 random bytes.
        c_scid = [quic_cids(d[2])[1] for d in dgrams if d[0] and quic_cids(d[2])]
        s_scid = [quic_cids(d[2])[1] for d in dgrams if not d[0] and quic_cids(d[2])]
        s_short = [d[2] for d in dgrams if not d[0] and not d[2][0] & 0x80]
        c_short = [d[2] for d in dgrams if d[0] and not d[2][0] & 0x80]
        self.cid_from_template = [False, False]
        self.s_dcid = self.c_dcid = None
        if c_scid and s_short and s_short[0][1:1 + len(c_scid[-1])] == c_scid[-1]:
            self.s_dcid, self.cid_from_template[0] = c_scid[-1], True
        if s_scid and c_short and len(c_short[-1]) > len(s_scid[-1]):
            self.c_dcid, self.cid_from_template[1] = c_short[-1][1:1 + len(s_scid[-1])], True
        self.s_dcid = self.s_dcid if self.s_dcid is not None else rng.randbytes(8)
        self.c_dcid = self.c_dcid if self.c_dcid is not None else rng.randbytes(8)
        # Payloads of the download, made once per template (random bytes
        # cost more to make than to write): 1-RTT packets, first byte
        # 0x40 | random low bits (RFC 9000 §17.3.1), server ones 1200-1350
        # bytes, client ACK-sized ones 40-60.
        self.data = []
        for _ in range(QUIC_BLOBS):
            b = bytes([0x40 | rng.getrandbits(6)]) + self.s_dcid
            b += rng.randbytes(rng.randrange(1200, 1351) - len(b))
            self.data.append((b, wsum(b)))
        self.acks = []
        for _ in range(QUIC_BLOBS):
            b = bytes([0x40 | rng.getrandbits(6)]) + self.c_dcid
            b += rng.randbytes(rng.randrange(40, 61) - len(b))
            self.acks.append((b, wsum(b)))
        self.secret = None
        for line in open(path[:-len(".pcapng")] + ".keys"):
            f = line.split()
            if len(f) == 3 and f[0] == "SERVER_HANDSHAKE_TRAFFIC_SECRET":
                self.secret = (f[1], f[2])
        if self.secret is None:
            sys.exit("mkbench: %s: no SERVER_HANDSHAKE_TRAFFIC_SECRET in its key log" % path)
        self.bytes = sum(14 + 20 + 8 + len(d[2]) for d in self.head)


class Writer:
    def __init__(self, path, rng):
        self.f = open(path, "wb")
        self.f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        self.buf = []
        self.t = START * 1000000
        self.n = 0
        self.size = 24
        self.ipid = rng.getrandbits(16)

    def frame(self, src, dst, sport, dport, seq, ack, off_flags, win, opts, payload, psum):
        tcp_len = 20 + len(opts) + len(payload)
        tot = 20 + tcp_len
        self.ipid = (self.ipid + 1) & 0xFFFF
        a, b = src, dst
        c = fold(0x4500 + tot + self.ipid + 0x4000 + (64 << 8 | 6) +
                 (a >> 16) + (a & 0xFFFF) + (b >> 16) + (b & 0xFFFF))
        iph = pack_ip(0x45, 0, tot, self.ipid, 0x4000, 64, 6, 0xFFFF - c,
                      a.to_bytes(4, "big"), b.to_bytes(4, "big"))
        s = ((a >> 16) + (a & 0xFFFF) + (b >> 16) + (b & 0xFFFF) + 6 + tcp_len +
             sport + dport + (seq >> 16) + (seq & 0xFFFF) + (ack >> 16) + (ack & 0xFFFF) +
             off_flags + win + psum)
        tcph = pack_tcp(sport, dport, seq, ack, off_flags >> 8, off_flags & 0xFF, win,
                        0xFFFF - fold(s), 0)
        mac = b"\x00\x1b\x17\x00\x01\x10\x3c\xfd\xfe\x00\x71\x0b\x08\x00"
        n = 14 + tot
        self.buf.append(pack_rec(self.t // 1000000, self.t % 1000000, n, n))
        self.buf.append(mac)
        self.buf.append(iph)
        self.buf.append(tcph)
        if opts:
            self.buf.append(opts)
        self.buf.append(payload)
        self.t += 10
        self.n += 1
        self.size += 16 + n
        if len(self.buf) > 60000:
            self.f.write(b"".join(self.buf))
            self.buf.clear()
        return n

    def udp(self, src, dst, sport, dport, payload, psum):
        """An IPv4 UDP datagram, its checksum valid (RFC 768: computed over
        the pseudo-header; a result of 0 is sent as 0xFFFF, since 0 would
        mean none)."""
        ulen = 8 + len(payload)
        tot = 20 + ulen
        self.ipid = (self.ipid + 1) & 0xFFFF
        a, b = src, dst
        c = fold(0x4500 + tot + self.ipid + 0x4000 + (64 << 8 | 17) +
                 (a >> 16) + (a & 0xFFFF) + (b >> 16) + (b & 0xFFFF))
        iph = pack_ip(0x45, 0, tot, self.ipid, 0x4000, 64, 17, 0xFFFF - c,
                      a.to_bytes(4, "big"), b.to_bytes(4, "big"))
        u = 0xFFFF - fold((a >> 16) + (a & 0xFFFF) + (b >> 16) + (b & 0xFFFF) + 17 + ulen +
                          sport + dport + ulen + psum)
        mac = b"\x00\x1b\x17\x00\x01\x10\x3c\xfd\xfe\x00\x71\x0b\x08\x00"
        n = 14 + tot
        self.buf.append(pack_rec(self.t // 1000000, self.t % 1000000, n, n))
        self.buf.append(mac)
        self.buf.append(iph)
        self.buf.append(pack_udp(sport, dport, ulen, u or 0xFFFF))
        self.buf.append(payload)
        self.t += 10
        self.n += 1
        self.size += 16 + n
        if len(self.buf) > 60000:
            self.f.write(b"".join(self.buf))
            self.buf.clear()
        return n

    def close(self):
        self.f.write(b"".join(self.buf))
        self.f.close()


class Conn:
    """One connection in progress: a generator of packets."""

    def __init__(self, tpl, w, rng, used, data_bytes, blob, blob_sum, small, small_sum,
                 keylog=None):
        while True:
            cip = (100 << 24) | (64 << 16) | rng.getrandbits(14) << 8 | rng.getrandbits(8)
            cip = 0x64400000 | rng.getrandbits(22)          # 100.64.0.0/10
            cport = rng.randrange(1024, 65536)
            if (cip, cport) not in used:
                used.add((cip, cport))
                break
        segs = tpl.segs
        if keylog is not None and tpl.secret and tpl.ch is not None:
            # A ClientHello random of its own, and the key log line for it.
            rnd = rng.randbytes(32)
            c2s, sr, ar, of, wn, op, pl, _ = segs[tpl.ch]
            pl = pl[:11] + rnd + pl[43:]
            segs = list(segs)
            segs[tpl.ch] = (c2s, sr, ar, of, wn, op, pl, wsum(op + pl))
            keylog.write("SERVER_HANDSHAKE_TRAFFIC_SECRET %s %s\n" % (rnd.hex(), tpl.secret))
        self.it = self.packets(tpl, segs, w, rng, cip, cport, data_bytes, blob, blob_sum,
                               small, small_sum)

    @staticmethod
    def packets(tpl, segs, w, rng, cip, cport, data_bytes, blob, blob_sum, small, small_sum):
        sip = int.from_bytes(tpl.server_ip, "big")
        sport = tpl.server_port
        ic, is_ = rng.getrandbits(32), rng.getrandbits(32)
        hs = 0
        for c2s, seq_rel, ack_rel, off_flags, win, opts, payload, psum in segs:
            base, other = (ic, is_) if c2s else (is_, ic)
            seq = (base + seq_rel) & 0xFFFFFFFF
            ack = (other + ack_rel) & 0xFFFFFFFF if ack_rel is not None else 0
            if c2s:
                hs += w.frame(cip, sip, cport, sport, seq, ack, off_flags, win, opts, payload, psum)
            else:
                hs += w.frame(sip, cip, sport, cport, seq, ack, off_flags, win, opts, payload, psum)
            yield ("hs", hs)
            hs = 0
        cs = (ic + tpl.next_c) & 0xFFFFFFFF
        ss = (is_ + tpl.next_s) & 0xFFFFFFFF
        k = 0
        sent = 0
        while sent < data_bytes:
            w.frame(sip, cip, sport, cport, ss, cs, 5 << 12 | 0x10, 502, b"", blob, blob_sum)
            ss = (ss + SEG) & 0xFFFFFFFF
            sent += SEG
            k += 1
            if k % 2 == 0:
                w.frame(cip, sip, cport, sport, cs, ss, 5 << 12 | 0x10, 2048, b"", b"", 0)
            if k % 64 == 0:
                w.frame(cip, sip, cport, sport, cs, ss, 5 << 12 | 0x18, 2048, b"", small, small_sum)
                cs = (cs + len(small)) & 0xFFFFFFFF
            yield ("data", 0)
        w.frame(cip, sip, cport, sport, cs, ss, 5 << 12 | 0x11, 2048, b"", b"", 0)
        w.frame(sip, cip, sport, cport, ss, (cs + 1) & 0xFFFFFFFF, 5 << 12 | 0x11, 502, b"", b"", 0)
        w.frame(cip, sip, cport, sport, (cs + 1) & 0xFFFFFFFF, (ss + 1) & 0xFFFFFFFF,
                5 << 12 | 0x10, 2048, b"", b"", 0)
        yield ("end", 0)


class QuicConn:
    """One QUIC connection in progress, copied from a QuicTemplate: a
    generator of datagrams, as Conn."""

    def __init__(self, tpl, w, rng, used, data_bytes):
        cip = 0x64400000 | rng.getrandbits(22)              # 100.64.0.0/10
        cports = []
        while len(cports) < tpl.nports:
            cport = rng.randrange(1024, 65536)
            if (cip, cport) not in used:
                used.add((cip, cport))
                cports.append(cport)
        self.it = self.packets(tpl, w, rng, cip, cports, data_bytes)

    @staticmethod
    def packets(tpl, w, rng, cip, cports, data_bytes):
        sip = int.from_bytes(tpl.server_ip, "big")
        sport = tpl.server_port
        for c2s, k, payload, psum in tpl.head:
            if c2s:
                n = w.udp(cip, sip, cports[k], sport, payload, psum)
            else:
                n = w.udp(sip, cip, sport, cports[k], payload, psum)
            yield ("hs", n)
        cport = cports[-1]
        k = sent = 0
        while sent < data_bytes:
            b, bsum = tpl.data[rng.randrange(QUIC_BLOBS)]
            w.udp(sip, cip, sport, cport, b, bsum)
            sent += len(b)
            k += 1
            if k % 2 == 0:        # RFC 9000 §13.2.2: an ACK every second packet
                b, bsum = tpl.acks[rng.randrange(QUIC_BLOBS)]
                w.udp(cip, sip, cport, sport, b, bsum)
            yield ("data", 0)
        for c2s, k, payload, psum in tpl.tail:
            if c2s:
                w.udp(cip, sip, cports[k], sport, payload, psum)
            else:
                w.udp(sip, cip, sport, cports[k], payload, psum)
        yield ("end", 0)


def load_quic(rng):
    """The v1 captures of pcaps/quic/ (expected.tsv's quic_version; the
    draft-v2 one is a version certsentry does not read) with their weights."""
    rows = [line.rstrip("\n").split("\t") for line in open(os.path.join(PCAPS, "quic", "expected.tsv"))]
    v1 = {r[0] for r in rows[1:] if len(r) > 3 and r[3] == "0x00000001"}
    if set(QUIC_WEIGHTS) != v1:
        sys.exit("mkbench: pcaps/quic/expected.tsv's v1 captures are not QUIC_WEIGHTS's: %s" %
                 " ".join(sorted(v1 ^ set(QUIC_WEIGHTS))))
    return ([QuicTemplate(os.path.join(PCAPS, "quic", n), rng) for n in QUIC_WEIGHTS],
            list(QUIC_WEIGHTS.values()))


def load_templates(which=None):
    tpls, weights = [], []
    table = {"tls13": TEMPLATES_TLS13, "tls12": TEMPLATES_TLS12}.get(which, TEMPLATES)
    for name, wgt in table:
        tpls.append(Template(os.path.join(PCAPS, name)))
        weights.append(wgt)
    return tpls, weights


def span(a, rng):
    keylog = open(a.keylog, "w") if a.keylog else None
    if a.set == "quic":
        tpls, weights = load_quic(rng)
        if keylog:
            # Every copy keeps its template's ClientHello (a new random
            # would need the Initial packets sealed again): one line per
            # template, and a look-up per handshake all the same.
            for tpl in tpls:
                keylog.write("SERVER_HANDSHAKE_TRAFFIC_SECRET %s %s\n" % tpl.secret)
            keylog.close()
            keylog = None
    else:
        tpls, weights = load_templates(a.set)
    if a.set == "span":
        # Bulk QUIC downloads beside the TLS ones: 1 connection in
        # QUIC_SHARE, over UDP 443 and 853, so that decided QUIC flows
        # are measured too (a table look-up per datagram).
        qt, qw = load_quic(rng)
        k = sum(weights) / (QUIC_SHARE - 1) / sum(qw)
        tpls, weights = tpls + qt, weights + [x * k for x in qw]
    w = Writer(a.out, rng)
    blob = REC + rng.randbytes(SEG - 5)
    small = struct.pack("!BHH", 0x17, 0x0303, 95) + rng.randbytes(95)
    blob_sum, small_sum = wsum(blob), wsum(small)
    used = set()
    target = a.size_mb * 1024 * 1024
    live = []
    conns = hs_bytes = planned = 0
    per_tpl = {}
    while True:
        # planned: what the connections started so far will write in all
        # (frames, roughly), so the file ends near --size-mb.
        while (len(live) < a.concurrent and planned < target and
               (not a.connections or conns < a.connections)):
            tpl = rng.choices(tpls, weights)[0]
            per_tpl[tpl.name] = per_tpl.get(tpl.name, 0) + 1
            data = rng.randrange(a.data_lo, a.data_hi + 1) * 1024
            if getattr(tpl, "quic", False):
                planned += tpl.bytes + data * (1275 + 42) // 1275 + data // 1275 // 2 * 92
                live.append(QuicConn(tpl, w, rng, used, data))
            else:
                planned += tpl.bytes + data * (SEG + 70) // SEG + data // SEG * 35
                live.append(Conn(tpl, w, rng, used, data, blob, blob_sum, small, small_sum, keylog))
            conns += 1
        if not live:
            break
        i = rng.randrange(len(live))
        kind, n = next(live[i].it)
        hs_bytes += n
        if kind == "end":
            live[i] = live[-1]
            live.pop()
    w.close()
    if keylog:
        keylog.close()
    return w, conns, hs_bytes, per_tpl


def flows(a, rng):
    tpls, weights = load_templates()
    w = Writer(a.out, rng)
    rec = struct.pack("!BHH", 0x17, 0x0303, 64) + rng.randbytes(64)
    rec_sum = wsum(rec)
    opts = struct.pack("!BBH", 2, 4, 1460)
    osum = wsum(opts)
    span_us = 100 * 1000000
    per_pkt = max(1, span_us // (a.flows * 5 + 1))
    used = set()
    full = 0
    hs_bytes = 0
    for i in range(a.flows):
        while True:
            cip = 0x0A000000 | rng.getrandbits(24)            # 10.0.0.0/8
            cport = rng.randrange(1024, 65536)
            if (cip, cport) not in used:
                used.add((cip, cport))
                break
        sip = 0xC6336400 | rng.getrandbits(8)                 # 198.51.100.0/24
        sport = 443
        ic, is_ = rng.getrandbits(32), rng.getrandbits(32)
        w.frame(cip, sip, cport, sport, ic, 0, 6 << 12 | 0x02, 64240, opts, b"", osum)
        w.frame(sip, cip, sport, cport, is_, ic + 1 & 0xFFFFFFFF, 6 << 12 | 0x12, 65160,
                opts, b"", osum)
        ic, is_ = ic + 1 & 0xFFFFFFFF, is_ + 1 & 0xFFFFFFFF
        w.frame(cip, sip, cport, sport, ic, is_, 5 << 12 | 0x10, 502, b"", b"", 0)
        w.frame(cip, sip, cport, sport, ic, is_, 5 << 12 | 0x18, 502, b"", rec, rec_sum)
        ic = ic + len(rec) & 0xFFFFFFFF
        w.frame(sip, cip, sport, cport, is_, ic, 5 << 12 | 0x18, 502, b"", rec, rec_sum)
        w.t += per_pkt * 5 - 50
        if i % 1000 == 999:
            c = Conn(rng.choices(tpls, weights)[0], w, rng, used, 0, b"", 0, b"", 0)
            for kind, n in c.it:
                hs_bytes += n
                if kind == "data":
                    break
            full += 1
    w.close()
    return w, full, hs_bytes


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out")
    ap.add_argument("--size-mb", type=int, default=1024)
    ap.add_argument("--concurrent", type=int, default=256)
    ap.add_argument("--flows", type=int, default=0)
    ap.add_argument("--data-kb", default="64-768", help="MIN-MAX KB of data a connection")
    ap.add_argument("--seed", type=int, default=20241001)
    ap.add_argument("--set", choices=("span", "tls13", "tls12", "quic"), default="span",
                    help="templates: pcaps/*.pcap (and pcaps/quic/'s), or pcaps/tls13's TLS 1.3 "
                    "sessions or TLS 1.2 twins, or pcaps/quic/'s QUIC v1 connections")
    ap.add_argument("--keylog", help="--set tls13|quic: write the copies' key log here")
    ap.add_argument("--connections", type=int, default=0, help="stop after N connections")
    a = ap.parse_args()
    try:
        a.data_lo, a.data_hi = (int(x) for x in a.data_kb.split("-"))
        if not 0 < a.data_lo <= a.data_hi:
            raise ValueError
    except ValueError:
        ap.error("--data-kb: MIN-MAX, 0 < MIN <= MAX")
    rng = random.Random(a.seed)
    t0 = time.monotonic()
    if a.flows:
        w, full, hs = flows(a, rng)
        print("mkbench: %s: %d packets, %.1f MB: %d flows open at the end, "
              "plus %d complete handshakes (closed), written in %.1f s" %
              (a.out, w.n, w.size / 1e6, a.flows, full, time.monotonic() - t0))
        return
    w, conns, hs, per_tpl = span(a, rng)
    frame_bytes = w.size - 24 - 16 * w.n
    print("mkbench: %s: %d packets, %.1f MB, %d connections (%d templates), "
          "%.2f %% of frame bytes after the handshakes, written in %.1f s" %
          (a.out, w.n, w.size / 1e6, conns, len(per_tpl),
           100.0 * (frame_bytes - hs) / frame_bytes, time.monotonic() - t0))


if __name__ == "__main__":
    main()
