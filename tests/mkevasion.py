#!/usr/bin/python3
"""mkevasion.py - derive hostile-input (evasion) captures from the committed ones.

usage: /usr/bin/python3 tests/mkevasion.py [PCAP_DIR]

Writes PCAP_DIR/evasion/*.pcap, PCAP_DIR/evasion/captures.tsv and
PCAP_DIR/evasion/README.md (PCAP_DIR defaults to pcaps/ beside this script).
Deterministic: no network, no keys, no randomness; the same inputs always give
byte-identical outputs.  Each capture is one TCP connection of a committed
capture, taken apart into its two byte streams and its segments (relative
sequence and acknowledgement numbers, flags, windows, TCP options, IP ids,
times), changed, and written again: sequence and acknowledgement numbers are
renumbered whenever a stream changes length, and IP and TCP lengths and
checksums are recomputed, except where a capture is about bad checksums.
See pcaps/evasion/README.md (written by this script) for what each shows.
"""

import base64
import os
import struct
import sys

from scapy.all import Ether, IP, IPv6, TCP, Raw, rdpcap  # noqa: E402

M32 = 0xFFFFFFFF
USEC = 1


def die(msg):
    sys.stderr.write("mkevasion: %s\n" % msg)
    sys.exit(1)


def pem_der(path):
    lines = [l.strip() for l in open(path) if l.strip() and not l.startswith("-----")]
    return base64.b64decode("".join(lines))


# ---------------------------------------------------------------------------
# Checksums

def csum_sum(data, start=0):
    """16-bit one's complement sum (not inverted) of data."""
    if len(data) % 2:
        data += b"\0"
    s = start + sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def pseudo_sum(family, src, dst, l4len):
    if family == 4:
        ph = src + dst + struct.pack("!BBH", 0, 6, l4len)
    else:
        ph = src + dst + struct.pack("!I3xB", l4len, 6)
    return csum_sum(ph)


def tcp_valid(family, src, dst, seg):
    return csum_sum(seg, pseudo_sum(family, src, dst, len(seg))) == 0xFFFF


# ---------------------------------------------------------------------------
# The connection model

class Ev:
    """One packet of the connection: a TCP segment in one direction.

    off: sequence number relative to ISN+1 (the SYN is at -1);
    ack: acknowledgement relative to the peer's ISN+1, None without ACK.
    """
    __slots__ = ("t", "c2s", "flags", "off", "ack", "win", "hdr", "payload",
                 "ipid", "csum", "frag", "note", "ttl")

    def __init__(self, **kw):
        for k in self.__slots__:
            setattr(self, k, kw.get(k))

    def copy(self, **kw):
        e = Ev(**{k: getattr(self, k) for k in self.__slots__})
        for k, v in kw.items():
            setattr(e, k, v)
        return e

    @property
    def end(self):
        return self.off + len(self.payload)


class Conn:
    """A single TCP connection read from a committed capture."""

    def __init__(self, path):
        pkts = rdpcap(path)
        self.path = path
        self.evs = []
        self.family = None
        self.isn = {}
        self.addr = {}      # c2s -> (src mac, dst mac, src ip, dst ip, ttl/hlim, fl, tc)
        self.ports = None
        raw = []
        for p in pkts:
            if TCP not in p:
                die("%s: non-TCP packet" % path)
            if IP in p:
                ip, fam = p[IP], 4
                l4len = ip.len - ip.ihl * 4
            else:
                ip, fam = p[IPv6], 6
                l4len = ip.plen
            tcp = p[TCP]
            payload = bytes(tcp)[tcp.dataofs * 4:l4len]
            flags = str(tcp.flags)
            if self.ports is None:
                if flags != "S":
                    die("%s: does not start with a SYN" % path)
                self.ports = (tcp.sport, tcp.dport)
                self.family = fam
            if (tcp.sport, tcp.dport) == self.ports:
                c2s = True
            elif (tcp.dport, tcp.sport) == self.ports:
                c2s = False
            else:
                die("%s: more than one connection" % path)
            if "S" in flags:
                self.isn[c2s] = tcp.seq
            if c2s not in self.addr:
                if fam == 4:
                    self.addr[c2s] = (p.src, p.dst, ip.src, ip.dst, ip.ttl, 0, 0)
                else:
                    self.addr[c2s] = (p.src, p.dst, ip.src, ip.dst, ip.hlim, ip.fl, ip.tc)
            hdr = tcp.copy()
            hdr.remove_payload()
            raw.append((int(round(p.time * 1000000)), c2s, flags, tcp.seq, tcp.ack,
                        tcp.window, hdr, payload, ip.id if fam == 4 else 0))
        if len(self.isn) != 2:
            die("%s: no SYN / SYN-ACK" % path)
        for t, c2s, flags, seq, ack, win, hdr, payload, ipid in raw:
            off = (seq - self.isn[c2s] - 1) & M32
            if off == M32:
                off = -1
            a = None
            if "A" in flags:
                a = (ack - self.isn[not c2s] - 1) & M32
            self.evs.append(Ev(t=t, c2s=c2s, flags=flags, off=off, ack=a, win=win,
                               hdr=hdr, payload=payload, ipid=ipid, csum="ok"))
        self.server_port = self.ports[1]

    # The byte streams as the original segments carried them.
    def stream(self, c2s, evs=None):
        buf = bytearray()
        for e in (evs or self.evs):
            if e.c2s == c2s and e.payload:
                if e.off > len(buf):
                    die("%s: hole in the stream" % self.path)
                buf[e.off:e.end] = e.payload if e.off == len(buf) else buf[e.off:e.end]
                if e.end > len(buf):
                    buf += e.payload[len(buf) - e.off:]
        return bytes(buf)

    def data_events(self, c2s, evs=None):
        return [i for i, e in enumerate(evs or self.evs) if e.c2s == c2s and e.payload]


def monotonic(evs, step=1):
    for i in range(1, len(evs)):
        if evs[i].t <= evs[i - 1].t:
            evs[i].t = evs[i - 1].t + step
    return evs


def cut(data, sizes):
    """Cut data into pieces of the given sizes (the last size repeats)."""
    out, i, k = [], 0, 0
    while i < len(data):
        n = sizes[min(k, len(sizes) - 1)]
        out.append(data[i:i + n])
        i += n
        k += 1
    return out


def replace_span(conn, evs, c2s, start, end, new, sizes, step=10):
    """Replace stream bytes [start, end) of direction c2s by new, sent in
    segments cut to sizes; the segments that carried [start, end) must carry
    exactly that.  Later sequence numbers of c2s and the peer's
    acknowledgements of them move by the change in length."""
    delta = len(new) - (end - start)
    pieces = cut(new, sizes)
    removed = sum(1 for e in evs if e.c2s == c2s and e.payload and e.off < end and e.end > start)
    dipid = len(pieces) - removed
    out = []
    placed = False
    for e in evs:
        if e.c2s == c2s and e.payload and e.off < end and e.end > start:
            if e.off < start or e.end > end:
                die("replace_span: segment [%d,%d) straddles [%d,%d)" % (e.off, e.end, start, end))
            if not placed:
                off = start
                for k, piece in enumerate(pieces):
                    last = off + len(piece) == start + len(new)
                    fl = e.flags if last else e.flags.replace("P", "")
                    if last and "P" not in fl:
                        fl += "P"
                    out.append(e.copy(t=e.t + k * step, off=off, payload=piece, flags=fl,
                                      ipid=(e.ipid + k) & 0xFFFF))
                    off += len(piece)
                placed = True
            continue
        e = e.copy()
        if e.c2s == c2s and placed:
            e.ipid = (e.ipid + dipid) & 0xFFFF
        if e.c2s == c2s and e.off >= end:
            e.off += delta
        if e.c2s != c2s and e.ack is not None and e.ack >= end:
            e.ack += delta
        elif e.c2s != c2s and e.ack is not None and e.ack > start:
            die("replace_span: an acknowledgement inside the replaced span")
        out.append(e)
    return monotonic(out)


# ---------------------------------------------------------------------------
# Packet building and pcap writing

def mac_bytes(m):
    return bytes(int(x, 16) for x in m.split(":"))


def build(conn, evs, isn=None):
    """Frames (t_usec, bytes) for the events; isn overrides the ISNs."""
    isn = isn or conn.isn
    frames = []
    for n, e in enumerate(evs):
        smac, dmac, sip, dip, ttl, fl, tc = conn.addr[e.c2s]
        if e.ttl is not None:
            ttl = e.ttl
        tcp = e.hdr.copy()
        tcp.seq = (isn[e.c2s] + 1 + e.off) & M32
        tcp.ack = ((isn[not e.c2s] + 1 + e.ack) & M32) if e.ack is not None else 0
        tcp.flags = e.flags
        tcp.window = e.win
        tcp.chksum = None
        l4 = tcp / Raw(e.payload) if e.payload else tcp
        if conn.family == 4:
            l3 = IP(src=sip, dst=dip, ttl=ttl, id=e.ipid, flags="DF") / l4
        else:
            l3 = IPv6(src=sip, dst=dip, hlim=ttl, fl=fl, tc=tc) / l4
        l3b = bytearray(bytes(l3))
        ihl = 20 if conn.family == 4 else 40
        if e.csum != "ok":
            src, dst = (bytes(l3b[12:16]), bytes(l3b[16:20])) if conn.family == 4 else \
                (bytes(l3b[8:24]), bytes(l3b[24:40]))
            good = struct.unpack("!H", l3b[ihl + 16:ihl + 18])[0]
            if e.csum == "offload":
                # What a sender with TX checksum offload hands its NIC (and
                # what a capture on that host shows): the pseudo-header sum.
                bad = pseudo_sum(conn.family, src, dst, len(l3b) - ihl)
            elif e.csum == "flip":
                bad = good ^ 0x0F0F
            else:
                die("unknown checksum mode %s" % e.csum)
            l3b[ihl + 16:ihl + 18] = struct.pack("!H", bad)
            if tcp_valid(conn.family, src, dst, bytes(l3b[ihl:])):
                die("checksum %04x meant to be bad is valid" % bad)
        etype = b"\x08\x00" if conn.family == 4 else b"\x86\xdd"
        l2 = mac_bytes(dmac) + mac_bytes(smac) + etype
        if e.frag:
            pieces = fragment4(bytes(l3b), e.frag) if conn.family == 4 else \
                fragment6(bytes(l3b), e.frag, 0x5A000000 + n)
            for k, fb in enumerate(pieces):
                frames.append((e.t + k, l2 + fb))
        else:
            frames.append((e.t, l2 + bytes(l3b)))
    for i in range(1, len(frames)):
        if frames[i][0] <= frames[i - 1][0]:
            die("timestamps not increasing at frame %d" % (i + 1))
    return frames


def fragment4(dgram, spec):
    """spec = (max fragment data bytes, sending order of the fragments)."""
    size, order = spec
    hdr, data = dgram[:20], dgram[20:]
    ipid = hdr[4:6]
    chunks = [data[i:i + size] for i in range(0, len(data), size)]
    out = []
    for k, c in enumerate(chunks):
        off = k * size
        if off % 8:
            die("fragment offset not a multiple of 8")
        mf = 0x2000 if k < len(chunks) - 1 else 0
        h = bytearray(hdr)
        h[2:4] = struct.pack("!H", 20 + len(c))
        h[4:6] = ipid
        h[6:8] = struct.pack("!H", mf | (off // 8))     # DF cleared
        h[10:12] = b"\0\0"
        h[10:12] = struct.pack("!H", 0xFFFF - csum_sum(bytes(h)))
        out.append(bytes(h) + c)
    if sorted(order) != list(range(len(out))):
        die("fragment order %r does not fit %d fragments" % (order, len(out)))
    return [out[k] for k in order]


def fragment6(dgram, spec, ident):
    size, order = spec
    hdr, data = dgram[:40], dgram[40:]
    nh = hdr[6]
    chunks = [data[i:i + size] for i in range(0, len(data), size)]
    out = []
    for k, c in enumerate(chunks):
        off = k * size
        m = 1 if k < len(chunks) - 1 else 0
        h = bytearray(hdr)
        h[4:6] = struct.pack("!H", 8 + len(c))
        h[6] = 44
        fh = struct.pack("!BBHI", nh, 0, off | m, ident)
        out.append(bytes(h) + fh + c)
    if sorted(order) != list(range(len(out))):
        die("fragment order %r does not fit %d fragments" % (order, len(out)))
    return [out[k] for k in order]


def write_pcap(path, frames, linktype=1):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, linktype))
        for t, b in frames:
            f.write(struct.pack("<IIII", t // 1000000, t % 1000000, len(b), len(b)))
            f.write(b)


# ---------------------------------------------------------------------------
# The captures

class Gen:
    def __init__(self, d):
        self.d = d
        self.out = os.path.join(d, "evasion")
        self.rows = []

    def src(self, name):
        return Conn(os.path.join(self.d, name))

    def der(self, name):
        return pem_der(os.path.join(self.d, "pki", name + ".pem"))

    def save(self, name, conn, evs, alerts, isn=None, handshakes=1):
        write_pcap(os.path.join(self.out, name), build(conn, evs, isn))
        self.rows.append((name, handshakes, ",".join(sorted(alerts)) or "-"))

    @staticmethod
    def leaf_at(conn, der):
        s = conn.stream(False)
        at = s.find(der)
        if at < 0:
            die("%s: leaf not found in the server stream" % conn.path)
        return at

    @staticmethod
    def flight_end(conn):
        """End of the server's cleartext flight: the record after which the
        ChangeCipherSpec comes, i.e. the first record after ServerHelloDone."""
        s = conn.stream(False)
        i = 0
        while i + 5 <= len(s):
            ct, n = s[i], struct.unpack("!H", s[i + 3:i + 5])[0]
            if ct == 22 and s[i + 5] == 14:
                return i + 5 + n
            i += 5 + n
        die("%s: no ServerHelloDone" % conn.path)

    def spki_mid_flip(self, der):
        """Offsets (in the leaf) of 4 bytes at the middle of the DER, checked
        to lie inside the public key's bits, so the DER stays well-formed."""
        from cryptography import x509
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
        c = x509.load_der_x509_certificate(der)
        spki = c.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
        s0 = der.find(spki)
        mid = len(der) // 2
        if not (s0 + 30 <= mid - 2 and mid + 2 <= s0 + len(spki) - 8):
            die("middle of the leaf is not inside its public key")
        return range(mid - 2, mid + 2)

    def sig_flip(self, der):
        from cryptography import x509
        c = x509.load_der_x509_certificate(der)
        s0 = der.find(c.signature)
        # ECDSA-Sig-Value: 30 LL 02 LL [00] r..: flip 4 bytes inside r.
        return range(s0 + 8, s0 + 12)

    @staticmethod
    def flipped(payload, at, offsets):
        b = bytearray(payload)
        for o in offsets:
            b[at + o] ^= 0xFF
        return bytes(b)

    def seg_with(self, conn, evs, off):
        """Index of the server data segment that carries stream offset off."""
        for i, e in enumerate(evs):
            if not e.c2s and e.payload and e.off <= off < e.end:
                return i
        die("no server segment carries offset %d" % off)

    # a. overlapping retransmission with different bytes ---------------------
    def overlap_diff(self, name, src, leaf, alerts):
        c = self.src(src)
        der = self.der(leaf)
        at = self.leaf_at(c, der)
        flips = self.spki_mid_flip(der)
        evs = [e.copy() for e in c.evs]
        i = self.seg_with(c, evs, at + flips[0])
        e = evs[i]
        if at + flips[-1] >= e.end:
            die("flipped bytes straddle two segments")
        retr = e.copy(t=e.t + 30, payload=self.flipped(e.payload, at - e.off, flips),
                      ipid=(e.ipid + 100) & 0xFFFF)
        # Put it right after the original: before the next server segment
        # and before the client's acknowledgement.
        evs.insert(i + 1, retr)
        monotonic(evs)
        self.save(name, c, evs, alerts)
        return e, at, flips

    # b. one-byte segments ----------------------------------------------------
    def one_byte(self):
        c = self.src("fina-rogue-doh.pcap")
        evs = c.evs
        ch = c.stream(True)
        ch_len = 5 + struct.unpack("!H", ch[3:5])[0]
        evs = replace_span(c, evs, True, 0, ch_len, ch[:ch_len], [1], step=1)
        fe = self.flight_end(c)
        evs = replace_span(c, evs, False, 0, fe, c.stream(False)[:fe], [1], step=1)
        self.save("one-byte-segments.pcap", c, evs, ["cloudflare-dns:unapproved-issuer"])

    # c. handshake split across records, alerts and heartbeats between -------
    def split_records(self):
        c = self.src("fina-rogue-doh.pcap")
        s = c.stream(False)
        fe = self.flight_end(c)
        msgs = self.messages(s, fe)
        types = [m[0] for m in msgs]
        if types != [2, 11, 12, 14]:
            die("unexpected flight %r" % types)
        sh, cert, ske, shd = msgs

        def rec(ct, body):
            return struct.pack("!BHH", ct, 0x0303, len(body)) + body

        def hs(body):
            return rec(22, body)

        def alert(desc):
            return rec(21, bytes([1, desc]))          # level 1 = warning

        def heartbeat(kind, payload):
            # RFC 6520: type, payload_length, payload, >= 16 bytes padding
            return rec(24, struct.pack("!BH", kind, len(payload)) + payload + bytes(16))

        sizes = [1, 250, 3, 700, 96, 512]            # then the rest, packed
        frags = []
        k = 0
        for n in sizes:
            frags.append(cert[k:k + n])
            k += n
        tail = cert[k:]
        if not tail:
            die("certificate too small for the split")
        flight = b"".join([
            hs(sh[:38]),
            alert(112),                               # unrecognized_name
            hs(sh[38:]),
            alert(112),
            heartbeat(1, b"certsentry-hb-1"),
            hs(frags[0]),
            heartbeat(1, b"x"),
            hs(frags[1]),
            hs(frags[2]),
            heartbeat(2, b"certsentry-hb-response"),
            hs(frags[3]),
            heartbeat(1, bytes(range(64))),
            hs(frags[4]),
            hs(frags[5]),
            heartbeat(1, b"y"),
            hs(tail + ske + shd),                     # 3 messages in one record
        ])
        evs = replace_span(c, c.evs, False, 0, fe, flight, [1460])
        self.save("split-records-alerts.pcap", c, evs, ["cloudflare-dns:unapproved-issuer"])
        return len(flight) - fe, len(sizes) + 1

    # d. SSLv2-format ClientHello ----------------------------------------------
    def sslv2_hello(self):
        c = self.src("fina-rogue-doh.pcap")
        ch = c.stream(True)
        ch_len = 5 + struct.unpack("!H", ch[3:5])[0]
        chosen = self.chosen_suite(c)
        specs = [0x00C02F, 0x00C030, 0x00C02B, 0x00009C, 0x00009D, 0x00002F,
                 0x000035, 0x00000A, 0x0700C0, 0x010080, 0x0000FF]
        if (chosen & 0xFFFF) != chosen or chosen not in specs:
            die("ServerHello chose %04x, not among the SSLv2 cipher specs" % chosen)
        challenge = bytes(range(0xA0, 0xB0))
        body = struct.pack("!BHHHH", 1, 0x0301, 3 * len(specs), 0, len(challenge))
        body += b"".join(x.to_bytes(3, "big") for x in specs) + challenge
        if len(body) > 0x7FFF:
            die("SSLv2 hello too long")
        v2 = struct.pack("!H", 0x8000 | len(body)) + body
        evs = replace_span(c, c.evs, True, 0, ch_len, v2, [1460])
        self.save("sslv2-hello.pcap", c, evs, ["cloudflare-dns:unapproved-issuer"])
        return chosen, len(v2)

    @staticmethod
    def chosen_suite(conn):
        s = conn.stream(False)
        if s[0] != 22 or s[5] != 2:
            die("server stream does not start with a ServerHello")
        sid_len = s[5 + 4 + 2 + 32]
        p = 5 + 4 + 2 + 32 + 1 + sid_len
        return struct.unpack("!H", s[p:p + 2])[0]

    # e. zero window and probes ------------------------------------------------
    def zero_window(self):
        c = self.src("fina-rogue-doh.pcap")
        evs = [e.copy() for e in c.evs]
        sd = c.data_events(False, evs)
        first, second = evs[sd[0]], evs[sd[1]]
        if first.end != second.off:
            die("zero_window: server flight not in two adjacent segments")
        # the client's last data-less ACK before: a template for its ACKs
        cli = next(e for e in evs if e.c2s and "A" in e.flags and e.t <= first.t)
        cack = max((e.end for e in evs if e.c2s and e.t <= first.t and e.payload), default=0)
        t = first.t
        new = [
            cli.copy(t=t + 60, flags="A", off=cack, ack=first.end, win=0, payload=b"",
                     ipid=(cli.ipid + 1) & 0xFFFF),
        ]
        ipid_s = first.ipid
        for k, dt in enumerate((200000, 600000)):        # RTO, then doubled
            probe = second.copy(t=t + dt, payload=second.payload[:1], flags="A",
                                ipid=(ipid_s + 1 + k) & 0xFFFF)
            new.append(probe)
            new.append(cli.copy(t=t + dt + 50, flags="A", off=cack, ack=first.end,
                                win=0, payload=b"", ipid=(cli.ipid + 2 + k) & 0xFFFF))
        # the window opens again; the whole segment follows, its first byte
        # overlapping the probes' (identical) byte
        new.append(cli.copy(t=t + 700000, flags="A", off=cack, ack=first.end,
                            win=cli.win, payload=b"", ipid=(cli.ipid + 4) & 0xFFFF))
        shift = 700050 - (second.t - t)
        full = second.copy(t=t + 700050, ipid=(ipid_s + 3) & 0xFFFF)
        rest = [e.copy(t=e.t + shift) for e in evs[sd[1] + 1:]]
        # client IP ids after the inserted ACKs move on by 4
        for e in rest:
            if e.c2s:
                e.ipid = (e.ipid + 4) & 0xFFFF
            else:
                e.ipid = (e.ipid + 2) & 0xFFFF
        evs = evs[:sd[0] + 1] + new + [full] + rest
        monotonic(evs)
        self.save("zero-window.pcap", c, evs, ["cloudflare-dns:unapproved-issuer"])

    # f. every TCP checksum wrong --------------------------------------------------
    def bad_checksum_offload(self):
        c = self.src("fina-rogue-doh.pcap")
        evs = [e.copy(csum="offload" if e.c2s else "flip") for e in c.evs]
        self.save("bad-checksum-offload.pcap", c, evs, ["cloudflare-dns:unapproved-issuer"])

    # g. injected segment with a bad checksum ----------------------------------------
    def bad_checksum_injected(self):
        c = self.src("approved-dot.pcap")
        der = self.der("approved-leaf")
        at = self.leaf_at(c, der)
        flips = self.sig_flip(der)
        evs = [e.copy() for e in c.evs]
        i = self.seg_with(c, evs, at)
        e = evs[i]
        if at + len(der) > e.end:
            die("approved leaf not in one segment")
        forged = e.copy(t=e.t - 20, payload=self.flipped(e.payload, at - e.off, flips),
                        csum="flip")
        evs.insert(i, forged)
        monotonic(evs)
        self.save("bad-checksum-injected.pcap", c, evs, ["cloudflare-dns:stream-mismatch"])
        return flips

    # h. IP fragments --------------------------------------------------------------
    def ip_fragments(self, name, src, size):
        c = self.src(src)
        evs = [e.copy() for e in c.evs]
        sd = c.data_events(False, evs)
        fe = self.flight_end(c)
        k = 0
        for i in sd:
            e = evs[i]
            if e.off >= fe:
                break
            l4 = len(e.hdr) + len(e.payload)
            n = (l4 + size - 1) // size
            # the first datagram's fragments out of order: last, first, middle...
            order = list(range(n)) if k else [n - 1] + list(range(n - 1))
            e.frag = (size, order)
            k += 1
        # fragments take consecutive microseconds: keep room after each
        for j in range(1, len(evs)):
            prev = evs[j - 1]
            room = (len(prev.hdr) + len(prev.payload)) // size + 2 if prev.frag else 1
            if evs[j].t < prev.t + room:
                evs[j].t = prev.t + room
        self.save(name, c, evs, ["cloudflare-dns:unapproved-issuer"])

    # i. sequence numbers wrapping inside the certificate ---------------------------------
    def seq_wrap(self):
        c = self.src("fina-rogue-doh.pcap")
        der = self.der("rogue-leaf")
        at = self.leaf_at(c, der)
        mid = at + len(der) // 2
        ch_len = len(c.stream(True)) and 5 + struct.unpack("!H", c.stream(True)[3:5])[0]
        # server: ISN + 1 + mid == 2^32; client: wraps inside its ClientHello
        isn = {False: (-1 - mid) & M32, True: (-1 - ch_len // 2) & M32}
        self.save("seq-wrap.pcap", c, c.evs, ["cloudflare-dns:unapproved-issuer"], isn=isn)
        return isn, mid

    # j. no TCP handshake -----------------------------------------------------------
    def syn_less(self):
        c = self.src("fina-rogue-doh.pcap")
        first = next(i for i, e in enumerate(c.evs) if e.c2s and e.payload)
        self.save("syn-less.pcap", c, c.evs[first:], ["cloudflare-dns:unapproved-issuer"])

    # k. connection ends the client never saw, and ends it did ---------------------
    @staticmethod
    def server_data(evs):
        return [i for i, e in enumerate(evs) if not e.c2s and e.payload]

    def injected_end(self, name, flags, csum, ttl=None, both=False):
        """A RST or FIN "from the server" right after its first data segment
        (inside the Certificate record), which the client never takes: a bad
        checksum or a TTL that expires on the way.  With both, a FIN from the
        client too (the same kind).  The rest of the connection follows."""
        c = self.src("fina-rogue-doh.pcap")
        evs = [e.copy() for e in c.evs]
        i = self.server_data(evs)[0]
        e = evs[i]
        cli = next(x for x in evs[:i] if x.c2s and x.payload)
        fake = [e.copy(t=e.t + 5, flags=flags, off=e.end, payload=b"", csum=csum, ttl=ttl,
                       ipid=(e.ipid + 0x1000) & 0xFFFF)]
        if both:
            fake.append(cli.copy(t=e.t + 6, flags=flags, off=cli.end, ack=e.end, payload=b"",
                                 csum=csum, ttl=ttl, ipid=(cli.ipid + 0x1000) & 0xFFFF))
        evs[i + 1:i + 1] = fake
        monotonic(evs)
        self.save(name, c, evs, ["cloudflare-dns:unapproved-issuer"])

    def client_rst_first(self):
        """The client resets right after its ClientHello; the server's whole
        flight, already on its way, follows the RST in the capture."""
        c = self.src("fina-rogue-doh.pcap")
        evs = [e.copy() for e in c.evs]
        ch = next(i for i, e in enumerate(evs) if e.c2s and e.payload)
        sd = self.server_data(evs)
        fe = self.flight_end(c)
        e = evs[ch]
        rst = e.copy(t=e.t + 20, flags="RA", off=e.end, payload=b"", ipid=(e.ipid + 1) & 0xFFFF)
        server = [x for x in evs[ch + 1:sd[-1] + 1] if not x.c2s and x.off < fe]
        evs = evs[:ch + 1] + [rst] + server
        monotonic(evs)
        self.save("client-rst-then-flight.pcap", c, evs, ["cloudflare-dns:unapproved-issuer"])

    # l. decoys with bad checksums -------------------------------------------------
    @staticmethod
    def messages(stream, end):
        """The handshake messages of the records in stream[:end]."""
        out, i = [], 0
        while i < end:
            ct, n = stream[i], struct.unpack("!H", stream[i + 3:i + 5])[0]
            if ct != 22:
                die("unexpected record type %d in the flight" % ct)
            body = stream[i + 5:i + 5 + n]
            j = 0
            while j < len(body):
                ln = int.from_bytes(body[j + 1:j + 4], "big")
                out.append(body[j:j + 4 + ln])
                j += 4 + ln
            i += 5 + n
        return out

    @staticmethod
    def sh_with_ext(sh, ext_type, ext_body):
        """ServerHello message sh with one more extension at the end."""
        sid = sh[4 + 2 + 32]
        p = 4 + 2 + 32 + 1 + sid + 2 + 1
        exts = sh[p + 2:] if len(sh) > p else b""
        exts += struct.pack("!HH", ext_type, len(ext_body)) + ext_body
        body = sh[4:p] + struct.pack("!H", len(exts)) + exts
        return bytes([2]) + len(body).to_bytes(3, "big") + body

    @staticmethod
    def records(msgs):
        return b"".join(struct.pack("!BHH", 22, 0x0303, len(m)) + m for m in msgs)

    def decoy_flight(self, c):
        """The rogue flight's bytes as a decoy would carry them: the same
        ServerHello (padded), then the approved chain's Certificate,
        ServerKeyExchange and ServerHelloDone (from approved-dot.pcap), as
        long as the real flight to the byte, so that trusting it would hide
        the rogue chain behind an approved one."""
        fe = self.flight_end(c)
        sh = self.messages(c.stream(False), fe)[0]
        a = self.src("approved-dot.pcap")
        _, cert, ske, shd = self.messages(a.stream(False), self.flight_end(a))
        short = len(self.records([self.sh_with_ext(sh, 0x15, b""), cert, ske, shd]))
        if short > fe:
            die("decoy flight longer than the real one")
        flight = self.records([self.sh_with_ext(sh, 0x15, bytes(fe - short)), cert, ske, shd])
        if len(flight) != fe:
            die("decoy flight %d bytes, want %d" % (len(flight), fe))
        return flight

    def decoy(self, name, after):
        c = self.src("fina-rogue-doh.pcap")
        evs = [e.copy() for e in c.evs]
        flight = self.decoy_flight(c)
        sd = [i for i in self.server_data(evs) if evs[i].off < len(flight)]
        fakes = [evs[i].copy(payload=flight[evs[i].off:evs[i].end], csum="flip",
                             ipid=(evs[i].ipid + 0x1000) & 0xFFFF) for i in sd]
        if after:
            # right after the real segments, before the client's ACK
            for k, f in enumerate(fakes):
                f.t = evs[sd[-1]].t + 5 + k
            evs[sd[-1] + 1:sd[-1] + 1] = fakes
        else:
            for k, f in enumerate(fakes):
                f.t = evs[sd[0]].t - 40 + 10 * k
            evs[sd[0]:sd[0]] = fakes
        monotonic(evs)
        self.save(name, c, evs, ["cloudflare-dns:stream-mismatch",
                                 "cloudflare-dns:unapproved-issuer"])

    def decoy_tls13(self):
        """A bad-checksum ServerHello saying TLS 1.3 (supported_versions
        0x0304) ahead of the real TLS 1.2 one: trusted, it would end
        inspection of a handshake whose chain is cleartext."""
        c = self.src("fina-rogue-doh.pcap")
        evs = [e.copy() for e in c.evs]
        sh = self.messages(c.stream(False), self.flight_end(c))[0]
        i = self.server_data(evs)[0]
        e = evs[i]
        rec = self.records([self.sh_with_ext(sh, 0x2B, b"\x03\x04")])
        evs.insert(i, e.copy(t=e.t - 20, payload=rec, flags="AP", csum="flip",
                             ipid=(e.ipid + 0x1000) & 0xFFFF))
        monotonic(evs)
        self.save("decoy-tls13-serverhello.pcap", c, evs,
                  ["cloudflare-dns:stream-mismatch", "cloudflare-dns:unapproved-issuer"])

    # m. new connections on the same addresses and ports --------------------------
    def port_reuse(self):
        """approved-dot's connection moved to the rogue handshake's addresses
        and ports, ended by the client's FIN only (the server's FIN and the
        last ACK were not captured), then one second later the rogue
        handshake on the same 4-tuple with new initial sequence numbers."""
        c2 = self.src("fina-rogue-doh.pcap")
        c1 = self.src("approved-dot.pcap")
        c1.addr = c2.addr
        evs1 = []
        for e in c1.evs:
            h = e.hdr.copy()
            h.sport, h.dport = c2.ports if e.c2s else c2.ports[::-1]
            evs1.append(e.copy(hdr=h))
        fin = max(i for i, e in enumerate(evs1) if e.c2s and "F" in e.flags)
        last = evs1[fin + 1]
        evs1 = evs1[:fin + 1] + [last.copy(flags="A")]
        isn1 = {True: (c2.isn[True] - 0x01000000) & M32, False: (c2.isn[False] + 0x5000000) & M32}
        f1 = build(c1, evs1, isn1)
        shift = f1[-1][0] + 1000000 - c2.evs[0].t
        evs2 = [e.copy(t=e.t + shift) for e in c2.evs]
        frames = f1 + build(c2, evs2)
        write_pcap(os.path.join(self.out, "port-reuse-after-fin.pcap"), frames)
        self.rows.append(("port-reuse-after-fin.pcap", 2, "cloudflare-dns:unapproved-issuer"))

    def synack_isns(self, name, accepted_second):
        """Two SYN-ACKs with different initial sequence numbers for one SYN
        (sent twice): the client acknowledges the first or the second, and
        the server's bytes follow in that one's sequence space."""
        c = self.src("fina-rogue-doh.pcap")
        evs = [e.copy() for e in c.evs]
        syn, sa = evs[0], evs[1]
        other = sa.copy(off=(0x40000000 - 1) & M32, ipid=(sa.ipid + 0x1000) & 0xFFFF)
        resyn = syn.copy(t=syn.t + 1000000, ipid=(syn.ipid + 1) & 0xFFFF)
        later = [e.copy(t=e.t + 1000100) for e in evs[2:]]
        if accepted_second:
            # the first SYN-ACK (other ISN) never reached the client
            other.t = syn.t + 50
            real = sa.copy(t=syn.t + 1000050)
            evs = [syn, other, resyn, real] + later
        else:
            # a stale copy from another path arrives after the real one
            real = sa.copy(t=syn.t + 50)
            other.t = syn.t + 1000050
            evs = [syn, real, resyn, other] + later
        for e in evs:
            if e.off == (0x40000000 - 1) & M32:
                e.off = 0x40000000 - 1
        monotonic(evs)
        self.save(name, c, evs, ["cloudflare-dns:unapproved-issuer"])

    def run(self):
        os.makedirs(self.out, exist_ok=True)
        UI = "cloudflare-dns:unapproved-issuer"
        SM = "cloudflare-dns:stream-mismatch"
        self.overlap_diff("overlap-diff.pcap", "approved-dot.pcap", "approved-leaf", [SM])
        self.overlap_diff("overlap-diff-first-rogue.pcap", "fina-rogue-doh.pcap",
                          "rogue-leaf", [SM, UI])
        self.one_byte()
        self.split_records()
        self.sslv2_hello()
        self.zero_window()
        self.bad_checksum_offload()
        self.bad_checksum_injected()
        self.ip_fragments("ip-fragments.pcap", "fina-rogue-doh.pcap", 552)
        self.ip_fragments("ipv6-fragments.pcap", "ipv6-rogue.pcap", 512)
        self.seq_wrap()
        self.syn_less()
        self.injected_end("rst-bad-checksum.pcap", "RA", "flip")
        self.injected_end("rst-ttl-expires.pcap", "RA", "ok", ttl=1)
        self.injected_end("fin-bad-checksum.pcap", "FA", "flip", both=True)
        self.client_rst_first()
        self.decoy("decoy-before-real.pcap", after=False)
        self.decoy("decoy-after-real.pcap", after=True)
        self.decoy_tls13()
        self.port_reuse()
        self.synack_isns("synack-isn-second.pcap", accepted_second=True)
        self.synack_isns("synack-isn-first.pcap", accepted_second=False)
        with open(os.path.join(self.out, "captures.tsv"), "w") as f:
            f.write("file\thandshakes\texpected_alerts\n")
            for name, hs, al in self.rows:
                f.write("%s\t%d\t%s\n" % (name, hs, al))
        with open(os.path.join(self.out, "README.md"), "w") as f:
            f.write(README)


README = r'''# Evasion captures

Hostile-input captures for certsentry, derived deterministically from the
committed captures in `pcaps/` by `tests/mkevasion.py` (no network, no
keys; run `/usr/bin/python3 tests/mkevasion.py` to rewrite this directory,
byte-identical each time).  `tests/t_evasion.sh` runs each through
`certsentry -R pcaps/test.rules` and checks `captures.tsv` (same format as
`pcaps/captures.tsv`: file, handshakes, sorted `owner:verdict` alerts or
`-`) plus a few summary counters.

Each capture is one connection of a committed capture taken apart into its
two byte streams and its segments (sequence and acknowledgement numbers
relative to the ISNs, flags, windows, TCP options, IP ids, times),
changed, and written again.  When a stream changes length, every later
sequence number of that direction and every acknowledgement of it by the
peer move by the same amount.  IP and TCP lengths and checksums are
recomputed, except in the captures about bad checksums.  Timestamps stay
increasing; MACs, addresses, ports, TTLs and TCP options are the
original's.  Rebuilding a capture without any change gives back the
original packets byte for byte.

The rogue chain is rogue-leaf (CN and SAN IP 1.1.1.1) + rogue-root "Rogue
RDC 2020"; the approved chain is approved-leaf + approved-issuing (see
`pcaps/README.md`).  Offsets below are in the server's byte stream,
counted from its first data byte.

| file | from | what it shows | expected |
| --- | --- | --- | --- |
| `overlap-diff.pcap` | `approved-dot.pcap` | The server's only flight segment (1425 bytes: ServerHello, Certificate, ServerKeyExchange, ServerHelloDone) is followed 30 us later by a "retransmission" with the same sequence number and length in which 4 bytes in the middle of the approved leaf's DER (leaf bytes 331..334, inside its EC public key, so the DER stays well formed) are inverted.  First copy wins, so the chain judged is the approved one; but the client may have accepted the second copy, so the difference itself must be reported. | `cloudflare-dns:stream-mismatch` |
| `overlap-diff-first-rogue.pcap` | `fina-rogue-doh.pcap` | The same on the rogue handshake: the first server segment (1460 bytes, with the whole rogue leaf) is followed by a copy with 4 bytes inverted in the middle of the leaf (leaf bytes 437..440, inside its RSA modulus), before the second server segment.  The first copy is the rogue chain, judged as such; the retransmission differs. | `cloudflare-dns:stream-mismatch`, `cloudflare-dns:unapproved-issuer` |
| `one-byte-segments.pcap` | `fina-rogue-doh.pcap` | The client's ClientHello (188 bytes) and the server's whole cleartext flight (2139 bytes: ServerHello .. ServerHelloDone) re-cut into 1-byte TCP segments, 1 us apart (PSH on the last of each); the rest unchanged.  2342 packets, about 190 KB: larger than the others because of what it is. | `cloudflare-dns:unapproved-issuer` |
| `split-records-alerts.pcap` | `fina-rogue-doh.pcap` | The server's cleartext flight rebuilt as 16 TLS records: ServerHello in 2 handshake records (38 + 27 bytes) with a warning alert (level 1, unrecognized_name 112) between them and another after; the Certificate message in 7 records of 1, 250, 3, 700, 96, 512 and 492 bytes, the last also carrying ServerKeyExchange and ServerHelloDone (three messages in one record); heartbeat records (content type 24, requests and a response, RFC 6520 format with 16 bytes padding) between the certificate's records.  Warning alerts are legal at any time in TLS 1.2 (RFC 5246 section 7.2) and do not end the handshake; heartbeats were not negotiated and a real client might object, but a sensor that stops reading at them would be blind to a chain the attacker's own client accepts.  The flight grows by 262 bytes; it is re-cut at the MSS (1460 + 941 bytes) and every later server sequence number and client acknowledgement moves by 262. | `cloudflare-dns:unapproved-issuer` |
| `sslv2-hello.pcap` | `fina-rogue-doh.pcap` | The client's ClientHello record replaced by an SSLv2-format ClientHello (RFC 5246 Appendix E.2): 2-byte length 0x803a (high bit set, 58 bytes), msg_type 1, version 0x0301, cipher_spec_length 33, session_id_length 0, challenge_length 16, 11 three-byte cipher specs (TLS suites as 0x00XXXX including the 0x00c030 the server chose, SSLv2's 0x0700c0 and 0x010080, the renegotiation SCSV 0x0000ff), a fixed 16-byte challenge.  The client stream shrinks from 188 to 60 bytes; its later sequence numbers and the server's acknowledgements move by -128.  The server's answer (the real TLS 1.2 flight) is unchanged, although a client offering at most 0x0301 would not get TLS 1.2 from a real server: the sensor must not depend on that consistency. | `cloudflare-dns:unapproved-issuer` |
| `zero-window.pcap` | `fina-rogue-doh.pcap` | After the server's first segment (1460 bytes) the client acknowledges it advertising window 0.  The server sends zero-window probes at +200 ms and +600 ms: 1-byte segments carrying the next byte of its flight (seq = next, offset 1460); the client answers each with window 0 (the byte is not taken).  At +700 ms the client opens its window and the server sends its full second segment (offset 1460, 679 bytes), whose first byte overlaps the probes' byte with identical data.  Two identical overlaps, no different data. | `cloudflare-dns:unapproved-issuer` |
| `bad-checksum-offload.pcap` | `fina-rogue-doh.pcap` | Every packet's TCP checksum is wrong, IP header checksums right: the client's carry the pseudo-header sum that a host with TX checksum offload hands its NIC (what a capture on that host shows), the server's the correct value XOR 0x0f0f.  Nothing is valid, so a Suricata-like "auto" checksum mode must stop validating and read the session; rejecting bad checksums here would blind the sensor on every capture taken on a sending host. | `cloudflare-dns:unapproved-issuer` |
| `bad-checksum-injected.pcap` | `approved-dot.pcap` | 20 us before the real server segment carrying the approved chain, a forged copy with the same sequence number, length and IP id, and 4 bytes inverted inside the approved leaf's ECDSA signature (leaf bytes 604..607, in r: the leaf still parses and names "Approved Issuing CA" as issuer, but its signature no longer verifies, so trusting it would give `forged-issuer`), carrying a deliberately wrong TCP checksum (correct XOR 0x0f0f).  The real client's TCP stack drops it and uses the real segment.  Every other packet has a valid checksum, so the forged copy is only tentative: the valid copy that follows replaces it and the chain verified is the approved one (no `forged-issuer`), but its bytes differed, which is reported as a stream mismatch (an injected decoy, or a copy damaged on the way to the sensor).  The summary counts it (invalid checksums 1). | `cloudflare-dns:stream-mismatch` |
| `ip-fragments.pcap` | `fina-rogue-doh.pcap` | The two server datagrams carrying the certificate (1512 and 731 bytes of IP) split into IPv4 fragments of at most 572 bytes (552 bytes of data each, DF cleared, same IP id per datagram): 3 fragments sent in the order last, first, middle; then 2 fragments in order.  The TCP segments inside are unchanged. | `cloudflare-dns:unapproved-issuer` |
| `ipv6-fragments.pcap` | `ipv6-rogue.pcap` | The same over IPv6 at [2606:4700:4700::1111]:443: the two server packets carrying the certificate split with fragment headers (next header 44) into fragments of 512 bytes of data (560-byte packets), identifications 0x5a000005 and 0x5a000006; the first datagram's 3 fragments sent last, first, middle.  The first fragment holds the whole TCP header (RFC 7112). | `cloudflare-dns:unapproved-issuer` |
| `seq-wrap.pcap` | `fina-rogue-doh.pcap` | ISNs rewritten (all sequence and acknowledgement numbers with them): server ISN 4294966771, so its sequence number passes 2^32 at stream offset 524, in the middle of the rogue leaf (leaf byte 439) and inside its first data segment (4294966772 .. 935); client ISN 4294967201, so the client's stream passes 2^32 in the middle of its ClientHello too.  Nothing else changes.  (tshark shows the chain only with `tcp.reassemble_out_of_order:TRUE`.) | `cloudflare-dns:unapproved-issuer` |
| `syn-less.pcap` | `fina-rogue-doh.pcap` | Every packet before the ClientHello dropped (SYN, SYN-ACK, ACK): a capture that starts mid-connection, without window scale or ISNs. | `cloudflare-dns:unapproved-issuer` |

| `rst-bad-checksum.pcap` | `fina-rogue-doh.pcap` | Right after the server's first data segment (1460 bytes: the ServerHello and the start of the Certificate record), a RST+ACK "from the server" at its next sequence number with a wrong TCP checksum (XOR 0x0f0f), which the client's TCP drops; the rest of the connection follows unchanged.  The server side sent valid checksums before, so the RST is not believed. | `cloudflare-dns:unapproved-issuer` |
| `rst-ttl-expires.pcap` | `fina-rogue-doh.pcap` | The same RST with a valid checksum and IP TTL 1: it dies on the way to the client.  The sensor must believe it (in the window, valid), but the handshake is undecided, so the flow still reads the bytes in flight for its close grace, and the rest of the Certificate comes within it. | `cloudflare-dns:unapproved-issuer` |
| `fin-bad-checksum.pcap` | `fina-rogue-doh.pcap` | After the server's first data segment, a FIN+ACK from each side, both with a wrong TCP checksum: ending the flow on them would lose the rest of the Certificate. | `cloudflare-dns:unapproved-issuer` |
| `client-rst-then-flight.pcap` | `fina-rogue-doh.pcap` | The client resets (RST+ACK, valid, at its next sequence number) 20 us after its ClientHello, before any byte of the server's answer; the server's ACK and its whole cleartext flight (1460 + 679 bytes) follow in the capture, as they do when the flight was already on its way.  Nothing else: the client is gone. | `cloudflare-dns:unapproved-issuer` |
| `decoy-before-real.pcap` | `fina-rogue-doh.pcap` | 40 us before the real server flight, two segments with the same sequence numbers and lengths (1460, 679) and wrong TCP checksums carrying a decoy flight of exactly the same length: the real ServerHello with a padding extension (type 21) sized to make up the difference, then the approved chain's Certificate, ServerKeyExchange and ServerHelloDone (from `approved-dot.pcap`).  Trusted (`--checksum-checks no`, first copy wins) the decoy hides the rogue chain behind an approved one: no unapproved-issuer.  The valid copies must win, and their bytes differ. | `cloudflare-dns:stream-mismatch`, `cloudflare-dns:unapproved-issuer` |
| `decoy-after-real.pcap` | `fina-rogue-doh.pcap` | The same decoy segments right after the real ones, before the client's acknowledgement. | `cloudflare-dns:stream-mismatch`, `cloudflare-dns:unapproved-issuer` |
| `decoy-tls13-serverhello.pcap` | `fina-rogue-doh.pcap` | 20 us before the real server flight, one segment with a wrong TCP checksum at the same sequence number carrying only a ServerHello record: the real one plus a supported_versions extension saying TLS 1.3 (0x0304).  Trusted, it would end inspection as TLS 1.3 (certificates encrypted, nothing to check without a key log) while the client gets the cleartext TLS 1.2 rogue chain. | `cloudflare-dns:stream-mismatch`, `cloudflare-dns:unapproved-issuer` |
| `port-reuse-after-fin.pcap` | `approved-dot.pcap`, `fina-rogue-doh.pcap` | Two connections on one 4-tuple (the rogue capture's addresses and ports): first `approved-dot.pcap`'s connection moved there, ended by the client's FIN only (the server's FIN and the last ACK not captured), then one second later the rogue handshake with new initial sequence numbers.  The new SYN starts a new flow; both handshakes are reported (handshakes 2). | `cloudflare-dns:unapproved-issuer` |
| `synack-isn-second.pcap` | `fina-rogue-doh.pcap` | The client's SYN is answered by a SYN-ACK with another initial sequence number (the real one + 0x40000000) that never reaches the client; the client sends its SYN again 1 s later, the real SYN-ACK answers, the client acknowledges it and the connection goes on in its sequence space. | `cloudflare-dns:unapproved-issuer` |
| `synack-isn-first.pcap` | `fina-rogue-doh.pcap` | The real SYN-ACK first; after the client's repeated SYN a stale SYN-ACK with the other initial sequence number arrives from another path, before the client's ACK of the real one.  The last SYN-ACK seen is not the one the client took: its acknowledgement says which. | `cloudflare-dns:unapproved-issuer` |

Every capture has one TLS connection with a ServerHello (handshakes 1),
but `port-reuse-after-fin.pcap`, which has two.

## Counters checked by `tests/t_evasion.sh`

On the summary's `stream:` line (a second run without `-q`):

- `overlap-diff.pcap`: `overlaps N (different data M)` with M >= 1;
- `bad-checksum-injected.pcap`: `invalid checksums N` with N >= 1;

and on its `tcp:` line:

- `bad-checksum-injected.pcap`, `decoy-before-real.pcap`: `different data N` with N >= 1;
- `rst-bad-checksum.pcap`, `fin-bad-checksum.pcap`: `RST/FIN not believed N` with N >= 1;
- `rst-ttl-expires.pcap`, `client-rst-then-flight.pcap`: `closed in grace N` with N >= 1;
- `port-reuse-after-fin.pcap`: `port reuse N` with N >= 1;
- `synack-isn-first.pcap`: `client took another N` with N >= 1;
- `ip-fragments.pcap`, `ipv6-fragments.pcap`: `fragments reassembled N` with N >= 1.

## Checking by hand

    tshark -r pcaps/evasion/seq-wrap.pcap -o tcp.reassemble_out_of_order:TRUE \
        -o tcp.check_checksum:FALSE -Y 'tls.handshake.type == 11' \
        -T fields -e tls.handshake.certificate

shows rogue-leaf and rogue-root for every capture from a rogue source,
approved-leaf and approved-issuing for `overlap-diff.pcap` (tshark keeps
the first copy too).  For `bad-checksum-injected.pcap` and the decoy
captures tshark shows the forged bytes even with `tcp.check_checksum:TRUE`:
it does not keep segments with bad checksums out of reassembly, which is
exactly the mistake these captures are about.
'''


def main():
    d = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pcaps")
    Gen(d).run()


if __name__ == "__main__":
    main()
