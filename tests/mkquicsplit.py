#!/usr/bin/python3
"""mkquicsplit.py - QUIC handshakes split across packets, made by rewriting
real captures (pcaps/quic/, tests/mkquic.sh).

    /usr/bin/python3 tests/mkquicsplit.py [OUTDIR]     (default pcaps/quic/split)

Why: a ClientHello with a large post-quantum key share (ML-KEM, ~1.2 KB)
no longer fits one Initial packet, so the client spreads its CRYPTO data
over several Initials, each in its own >= 1200-byte datagram (RFC 9000
§14.1).  Debian 12's QUIC stacks cannot send one, so this script opens a
real capture's Initial packets with the keys anyone derives from the
client's first DCID (RFC 9001 §5.2), moves the CRYPTO bytes into new
packets, and seals them again: AEAD with the header as associated data
(§5.3), then header protection (§5.4).  The server's Handshake packets
are opened and re-sealed the same way with the key log's
SERVER_HANDSHAKE_TRAFFIC_SECRET (AES-128-GCM: the suite of both
originals).

The ClientHello's bytes do not change (only where they are cut), so the
key log stays valid: the same client random, the same secrets.  Packet
numbers stay increasing per sender and space (RFC 9000 §12.3): a packet
the rewrite pushes back (the client's later ACK-only Initial, the
server's ACK-only Handshake) is re-sealed with a new number.  ACK frames
are kept as sent, so the peers' ACKs no longer match the new numbers
exactly; certsentry does not read ACKs.  IP and UDP lengths and
checksums are recomputed.  Frames the script does not touch keep their
original bytes.

Each output is a pcapng with the original key log in a Decryption Secrets
Block (editcap --inject-secrets), as pcaps/quic/ has, and NAME.keys
beside it.  Reading, opening and sealing packets is tests/quicseal.py's
(shared with tests/mkquicv2.py).  Needs python3-scapy,
python3-cryptography and editcap (tshark's package); only the generator
does: the test reads the committed captures.
"""
import os
import sys

from quicseal import (SRC, Keys, crypto_frame, initial_keys, load_frames, make_frame,
                      open_pkt, parse_frames, seal, split_datagram, write as write_capture)

MIN_DGRAM = 1200   # RFC 9000 §14.1: a datagram carrying an ack-eliciting Initial


def load(name):
    dg, klog = load_frames(name)
    first = split_datagram(dg[0].payload)[0]
    assert dg[0].client and first.type == "initial"
    ik = initial_keys(first.dcid)
    hk = {"server": Keys(klog["SERVER_HANDSHAKE_TRAFFIC_SECRET"]),
          "client": Keys(klog["CLIENT_HANDSHAKE_TRAFFIC_SECRET"])}
    for d in dg:
        d.pkts = split_datagram(d.payload)
        who = "client" if d.client else "server"
        for p in d.pkts:
            if p.type == "initial":
                open_pkt(p, ik[who])
            elif p.type == "handshake":
                open_pkt(p, hk[who])
            if p.frames is not None:
                p.frames = parse_frames(p.frames)
    return dg, ik, hk


def crypto_of(pkt):
    return [(f[2], f[3]) for f in pkt.frames if f[0] == 0x06]


def others_of(pkt):
    return b"".join(f[1] for f in pkt.frames if f[0] != 0x06)


def cut(data, parts):
    """Offsets cutting data into `parts` nearly equal pieces."""
    step = -(-len(data) // parts)
    return [(o, data[o:o + step]) for o in range(0, len(data), step)]


def rewrite_client(dg, ik, parts, order, extra=None):
    """The client's first Initial's ClientHello in `parts` Initials, each in
    its own padded datagram, sent in `order` (indexes of the parts);
    extra: (index, bytes or None) a part sent again after them, with the
    same bytes (None) or these.  The client's later Initials are
    renumbered after them."""
    first = dg[0].pkts[0]
    (off0, ch), = crypto_of(first)
    assert off0 == 0 and len(dg[0].pkts) == 1
    pieces = cut(ch, parts)
    sends = [pieces[i] for i in order]
    if extra is not None:
        i, alt = extra
        o, d = pieces[i]
        if alt is not None:
            assert len(alt) == len(d)
        sends.append((o, d if alt is None else alt))
    # The packet numbers are the order of sending, the order on the wire
    # may differ (the network reorders): pn follows the part's index for
    # the first sends, then the retransmission.
    pn_of = {}
    for k, (o, d) in enumerate(pieces):
        pn_of[o] = k
    out = []
    t0 = dg[0].time
    seq = []
    for k, (o, d) in enumerate(sends):
        pn = pn_of[o] if k < len(order) else len(pieces) + (k - len(order))
        pkt = seal("initial", first.version, first.dcid, first.scid, first.token, pn,
                   crypto_frame(o, d), ik["client"], pad_to=MIN_DGRAM)
        seq.append(make_frame(dg[0].frame, pkt, t0 + k * 0.0001))
    out += seq
    next_pn = len(sends)
    for d in dg[1:]:
        if d.client and any(p.type == "initial" for p in d.pkts):
            raw = b""
            for p in d.pkts:
                if p.type == "initial":
                    payload = b"".join(f[1] for f in p.frames)
                    raw += seal("initial", p.version, p.dcid, p.scid, p.token, next_pn,
                                payload, ik["client"])
                    next_pn += 1
                else:
                    raw += p.raw
            if len(raw) < MIN_DGRAM and len(d.payload) >= MIN_DGRAM:
                # The original was padded to 1200 (an ack-eliciting
                # Initial, §14.1): pad the new one too, in its last Initial.
                raw = repad(d, ik, next_pn)
            out.append(make_frame(d.frame, raw, d.time))
        else:
            out.append(d.frame)
    return out


def repad(d, ik, next_pn):
    """Datagram d again, its Initials renumbered from next_pn - count and
    the last padded so the datagram keeps its original size."""
    inits = [p for p in d.pkts if p.type == "initial"]
    pn = next_pn - len(inits)
    raw = b""
    for k, p in enumerate(d.pkts):
        if p.type != "initial":
            raw += p.raw
            continue
        payload = b"".join(f[1] for f in p.frames)
        rest = sum(len(q.raw) for q in d.pkts[k + 1:])
        pad = len(d.payload) - len(raw) - rest if p is inits[-1] else 0
        raw += seal("initial", p.version, p.dcid, p.scid, p.token, pn, payload, ik["client"],
                    pad_to=pad)
        pn += 1
    return raw


def rewrite_server(dg, ik, hk, sh_cut, flight_cuts, flight_order):
    """The server's ServerHello in two Initials (the first alone in a
    padded datagram, the second coalesced with the first Handshake
    packet), and its Handshake CRYPTO data cut again at flight_cuts and
    sent in flight_order, one piece a Handshake packet: the first pieces
    take the places of the original Handshake CRYPTO packets, any left
    over go in datagrams of their own right after; the server's later
    Handshake packets are renumbered after them."""
    srv = [d for d in dg if not d.client]
    first = srv[0]
    init = first.pkts[0]
    assert init.type == "initial" and first.pkts[1].type == "handshake"
    (o, sh), = crypto_of(init)
    assert o == 0 and not any(p.type == "initial" for d in srv[1:] for p in d.pkts)
    # The whole Handshake CRYPTO stream of the server, and the packets that
    # carried it (CRYPTO only: anything else would be lost).
    stream = bytearray()
    hs_slots = []
    for d in srv:
        for p in d.pkts:
            if p.type == "handshake" and crypto_of(p):
                assert not others_of(p)
                for co, cd in crypto_of(p):
                    assert co == len(stream)
                    stream += cd
                hs_slots.append((d, p))
    edges = [0] + list(flight_cuts) + [len(stream)]
    pieces = [(edges[i], bytes(stream[edges[i]:edges[i + 1]])) for i in range(len(edges) - 1)]
    sends = [pieces[i] for i in flight_order]
    hdr = first.pkts[1]
    hs_pn = [0]

    def hs_seal(payload):
        # Handshake packet numbers follow the order of sending: the wire's.
        pkt = seal("handshake", hdr.version, hdr.dcid, hdr.scid, b"", hs_pn[0], payload,
                   hk["server"])
        hs_pn[0] += 1
        return pkt

    # Initial packets: pn 0 with the ACK and the first bytes, pn 1 the rest.
    ack = others_of(init)
    i0 = seal("initial", init.version, init.dcid, init.scid, init.token, 0,
              ack + crypto_frame(0, sh[:sh_cut]), ik["server"], pad_to=MIN_DGRAM)
    i1 = seal("initial", init.version, init.dcid, init.scid, init.token, 1,
              crypto_frame(sh_cut, sh[sh_cut:]), ik["server"])
    out = []
    slot = 0
    for d in dg:
        if d.client:
            out.append(d.frame)
            continue
        if d is first:
            out.append(make_frame(d.frame, i0, d.time - 0.00005))
        raw = b""
        for p in d.pkts:
            if d is first and p is init:
                raw += i1
            elif p.type == "handshake" and crypto_of(p):
                raw += hs_seal(crypto_frame(*sends[slot]))
                slot += 1
            elif p.type == "handshake":
                # An ACK-only Handshake packet: its frames as sent.
                raw += hs_seal(b"".join(f[1] for f in p.frames))
            else:
                raw += p.raw
        out.append(make_frame(d.frame, raw, d.time))
        if slot == len(hs_slots):
            # Pieces left over: their own datagrams, right after the
            # datagram that held the last original flight packet.
            for k in range(slot, len(sends)):
                out.append(make_frame(d.frame, hs_seal(crypto_frame(*sends[k])),
                                      d.time + 0.00001 * (k - slot + 1)))
            slot = len(sends) + 1
    assert slot > len(sends)
    return out


def write(frames, name, src, outdir):
    write_capture(frames, name, os.path.join(SRC, src + ".keys"), outdir)


def ch_alter(dg, parts, index):
    """The bytes of part `index` of the ClientHello, changed where an
    attacker would: every byte of the SNI's host name when the part holds
    it ("cloudflare-dns.com" -> "evil...": same length), else the last
    byte of the part."""
    (o, ch), = crypto_of(dg[0].pkts[0])
    po, pd = cut(ch, parts)[index]
    name = b"cloudflare-dns.com"
    alt = bytearray(pd)
    at = pd.find(name)
    if at >= 0:
        alt[at:at + 4] = b"evil"
    else:
        alt[-1] ^= 0xff
    return bytes(alt)


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(SRC, "split")
    os.makedirs(outdir, exist_ok=True)
    for src, tag in (("doq-rogue", "doq-rogue"), ("h3-ngtcp2-approved", "h3-ngtcp2-approved")):
        dg, ik, hk = load(src)
        cases = {
            "ch2": rewrite_client(dg, ik, 2, [0, 1]),
            "ch3": rewrite_client(dg, ik, 3, [0, 1, 2]),
            "ch2-reorder": rewrite_client(dg, ik, 2, [1, 0]),
            "ch3-reorder": rewrite_client(dg, ik, 3, [1, 0, 2]),
            "ch2-retrans": rewrite_client(dg, ik, 2, [0, 1], (0, None)),
            "ch3-retrans": rewrite_client(dg, ik, 3, [0, 1, 2], (1, None)),
            "ch2-mismatch": rewrite_client(dg, ik, 2, [0, 1], (0, ch_alter(dg, 2, 0))),
            "ch3-mismatch": rewrite_client(dg, ik, 3, [0, 1, 2], (1, ch_alter(dg, 3, 1))),
        }
        # The server's side: the ServerHello cut in two Initials; the
        # flight cut at other places than the original's and sent out of
        # order (the last piece before the middle one).
        (o, sh), = crypto_of([d for d in dg if not d.client][0].pkts[0])
        n = sum(len(cd) for d in dg if not d.client for p in d.pkts
                if p.type == "handshake" for _, cd in crypto_of(p))
        cases["sh2-flight3"] = rewrite_server(dg, ik, hk, len(sh) // 2,
                                              [n // 3, 2 * n // 3], [0, 2, 1])
        for case, frames in cases.items():
            write(frames, "%s-%s" % (tag, case), src, outdir)
            print("%s-%s: %d frames" % (tag, case, len(frames)))


if __name__ == "__main__":
    main()
