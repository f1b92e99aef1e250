#!/usr/bin/python3
"""mkquicv2.py - QUIC version 2 (RFC 9369) captures, made by re-sealing
real v1 captures (pcaps/quic/, tests/mkquic.sh) packet by packet.

    /usr/bin/python3 tests/mkquicv2.py [OUTDIR]     (default pcaps/quic/v2)

Why: Debian 12's QUIC stacks (ngtcp2 0.12, quic-go 0.29) speak only the
draft's 0x709a50c4, not RFC 9369's 0x6b3343cf, so no real v2 session can
be captured here.  v2 differs from v1 only in what this script changes
(RFC 9369 §3): the version field, the long header type bits (Initial
0b01, 0-RTT 0b10, Handshake 0b11, Retry 0b00), the Initial salt, the
packet protection labels ("quicv2 key", "quicv2 iv", "quicv2 hp") and
the Retry integrity key and nonce.  So every long header packet of a
real session is opened with v1's keys (Initial keys from the client's
DCID, Handshake and 1-RTT keys from the key log's secrets with the
"quic *" labels) and sealed again with v2's, its header rewritten; 1-RTT
(short header) packets are re-sealed with the v2 labels too.  The TLS
bytes, the packet numbers, the lengths and the sizes do not change, so
the key log stays valid and every datagram keeps its size and time; IP
and UDP checksums are recomputed.

Modes (the table CASES says which capture gets which):
  v2        every packet in v2;
  compat    compatible version negotiation (RFC 9368 §2.3): the client's
            first datagram stays v1 as sent (v1 keys from its DCID), the
            server answers in v2, its Initial keys v2's from the client's
            ORIGINAL DCID (§2.3: the server's first Initial is in the
            negotiated version, the keys of the DCID the client chose),
            and every later packet of both is v2.  The TLS bytes are the
            original's: the version_information transport parameter
            (RFC 9368 §3) that real peers would carry is not added, since
            adding it would change the ClientHello, the server's flight
            and every offset after them; certsentry reads no transport
            parameter.
  compat21  the other way: the client's first datagram re-sealed as v2,
            the server answers in v1 (keys v1's from the same DCID), the
            rest stays v1 as sent: the connection is v1.
  In both, a Retry stays in the client's original version and the client
  keeps it until the server's Initial (RFC 9369 §4: a Retry is sent in
  the original version, and the Initial carrying its token too).
  v1labels  a broken v2: version, type bits and Initial keys v2's, but
            Handshake and 1-RTT packets sealed with v1's labels: a
            reader that derives v2 keys cannot open them (the test's
            control that its assertions can fail).
A Version Negotiation packet (version 0) is not version-specific (RFC
8999 §6): its list has v1 replaced by v2, so h3-ngtcp2-vn's client, told
its reserved version is not supported, starts again in v2 (incompatible
negotiation, RFC 9000 §6.2); its first Initial, in the reserved version
0x1a2a3a4a, keeps its bytes.

Each output is a pcapng with the original key log in a Decryption
Secrets Block and NAME.keys beside it, and OUTDIR/expected.tsv lists
them.  Needs python3-scapy, python3-cryptography and editcap; only the
generator does: tests/t_quic_v2.sh reads the committed captures.
"""
import os
import struct
import sys

from quicseal import (SRC, V1, V2, Keys, initial_keys, load_frames, make_frame, parse_frames,
                      protect, retry_tag, split_datagram, type_bits, unprotect, write)

# (output, source capture, mode, what it tests)
CASES = [
    ("doq-rogue-v2", "doq-rogue", "v2",
     "DoQ, quic-go, rogue chain, every packet v2"),
    ("h3-ngtcp2-approved-v2", "h3-ngtcp2-approved", "v2",
     "HTTP/3, ngtcp2, approved chain, every packet v2"),
    ("h3-ngtcp2-aes256-v2", "h3-ngtcp2-aes256", "v2",
     "AES-256-GCM (SHA-384 schedule, 32-byte v2 keys)"),
    ("h3-ngtcp2-chacha-v2", "h3-ngtcp2-chacha", "v2",
     "ChaCha20-Poly1305 and ChaCha20 header protection with v2 keys"),
    ("h3-ngtcp2-retry-v2", "h3-ngtcp2-retry", "v2",
     "a v2 Retry (type bits 0b00, v2 integrity key and nonce); Initial keys from its SCID"),
    ("doq-retry-v2", "doq-retry", "v2",
     "a v2 Retry from quic-go (93-byte token)"),
    ("h3-ngtcp2-vn-v2", "h3-ngtcp2-vn", "v2",
     "Version Negotiation listing v2: the client restarts in v2 with a new DCID"),
    ("doq-rogue-compat", "doq-rogue", "compat",
     "compatible negotiation: client's first Initial v1, the rest v2"),
    ("h3-ngtcp2-approved-compat", "h3-ngtcp2-approved", "compat",
     "compatible negotiation: client's first Initial v1, the rest v2"),
    ("doq-retry-compat", "doq-retry", "compat",
     "compatible negotiation after a Retry: the client's Initials and the Retry v1, "
     "the server's Initial v2 under keys from the Retry's SCID"),
    ("doq-rogue-compat21", "doq-rogue", "compat21",
     "compatible negotiation from v2 to v1: the client's first Initial v2, the rest v1"),
    ("doq-rogue-v2-v1labels", "doq-rogue", "v1labels",
     "v2 sealed wrongly: Handshake and 1-RTT packets with v1's labels"),
]


def server_suite(frames):
    """The cipher suite of the ServerHello at CRYPTO offset 0 of a
    server's Initial (RFC 8446 §4.1.3), or None."""
    for t, _, off, data in parse_frames(frames):
        if t == 0x06 and off == 0 and data[:1] == b"\x02":
            sid_len = data[4 + 2 + 32]
            o = 4 + 2 + 32 + 1 + sid_len
            return struct.unpack(">H", data[o:o + 2])[0]
    return None


class Resealer:
    """One capture's packets, in wire order, re-sealed as `mode` says."""

    def __init__(self, klog, mode):
        self.klog, self.mode = klog, mode
        self.suite = None
        self.dcid = None              # the DCID the Initial keys come from
        self.scid = {"client": b"", "server": b""}
        self.largest = {}             # (sender, space) -> largest pn
        # The client's original version and the negotiated one (RFC 9368
        # §2.3); they differ in the compatible negotiation modes.
        self.first, self.final = {"compat": (V1, V2), "compat21": (V2, V1)}.get(mode, (V2, V2))
        self.answered = False         # the server sent a packet other than a Retry
        self.versions = []            # long header versions in wire order, for expected.tsv

    def keys(self, who, space, version, labels=None):
        """(v1 keys, keys of `version`) of a sender and space."""
        if space == "initial":
            return (initial_keys(self.dcid, V1)[who],
                    initial_keys(self.dcid, version)[who])
        name = {"handshake": "%s_HANDSHAKE_TRAFFIC_SECRET",
                "short": "%s_TRAFFIC_SECRET_0"}[space] % who.upper()
        secret = self.klog[name]
        return (Keys(secret, V1, self.suite),
                Keys(secret, version, self.suite, labels_version=labels))

    def reseal(self, p, who, version):
        """Open p (v1) and seal it again as `version`; header rewritten."""
        space = p.type
        long_hdr = space != "short"
        labels = V1 if self.mode == "v1labels" and space in ("handshake", "short") else None
        old, new = self.keys(who, space, version, labels)
        hdr, pn, _, ct = unprotect(p.raw, p.pn_off, old, long_hdr, self.largest.get((who, space)))
        plain = old.decrypt(pn, ct, hdr)
        self.largest[(who, space)] = max(pn, self.largest.get((who, space), -1))
        if long_hdr and space == "initial" and who == "server" and self.suite is None:
            self.suite = server_suite(plain)
        if not long_hdr and hdr[0] & 0x04:
            raise ValueError("a key update (key phase 1): not re-sealed")
        h = bytearray(hdr)
        if long_hdr:
            h[0] = (h[0] & 0xcf) | (type_bits(version, space) << 4)
            h[1:5] = struct.pack(">I", version)
        return protect(bytes(h), p.pn_off, new.encrypt(pn, plain, bytes(h)), new, long_hdr)

    def retry(self, p, version):
        """A Retry in `version`: type bits and version changed, the tag
        computed again over the ODCID (RFC 9001 §5.8, RFC 9369 §3.3.3)."""
        body = p.raw[:-16]
        assert retry_tag(V1, self.dcid, body) == p.raw[-16:], "the original Retry's tag"
        b = bytearray(body)
        b[0] = (b[0] & 0xcf) | (type_bits(version, "retry") << 4)
        b[1:5] = struct.pack(">I", version)
        out = bytes(b) + retry_tag(version, self.dcid, bytes(b))
        self.dcid = p.scid   # RFC 9000 §17.2.5.2: the client's next Initials go there
        return out

    @staticmethod
    def vn(p):
        """RFC 9000 §17.2.1: v1 in the list becomes v2."""
        vers = [struct.unpack(">I", p.raw[o:o + 4])[0] for o in range(p.rest_off, len(p.raw), 4)]
        assert V1 in vers
        return p.raw[:p.rest_off] + b"".join(struct.pack(">I", V2 if v == V1 else v)
                                               for v in vers)

    def datagram(self, d):
        who = "client" if d.client else "server"
        peer = "server" if d.client else "client"
        out = b""
        for p in split_datagram(d.payload, len(self.scid[peer])):
            if p.type in ("initial", "handshake", "0rtt", "retry"):
                self.scid[who] = p.scid
            if p.type == "initial" and d.client and self.dcid is None:
                self.dcid = p.dcid
            # The client's packets before the server's answer are in its
            # original version; the server's and every later one in the
            # negotiated version.
            version = self.first if d.client and not self.answered else self.final
            if p.type == "unknown":
                out += p.raw
            elif p.type == "vn":
                out += self.vn(p)
            elif p.type == "retry":
                version = self.first
                out += self.retry(p, version)
            elif p.type == "0rtt":
                raise ValueError("0-RTT: the captures have no early secret")
            else:
                out += self.reseal(p, who, version)
                if not d.client:
                    self.answered = True
            v = p.version if p.type == "unknown" else version if p.type != "vn" else None
            if v is not None and (not self.versions or self.versions[-1] != v):
                self.versions.append(v)
        assert len(out) == len(d.payload)
        return out


def convert(src, mode):
    """The capture's frames re-sealed, and (versions in wire order, the
    connection's version as Suricata writes it: hex digits)."""
    dg, klog = load_frames(src)
    r = Resealer(klog, mode)
    frames = [make_frame(d.frame, r.datagram(d), d.time) for d in dg]
    return frames, (",".join("0x%08x" % v for v in r.versions), "%x" % r.final)


def expected_rows(outdir, made):
    """expected.tsv: the source's row of pcaps/quic/expected.tsv (chain,
    alerts, SNI, suite...) for each output, with what changed."""
    rows = {}
    with open(os.path.join(SRC, "expected.tsv")) as f:
        head = f.readline().rstrip("\n").split("\t")
        for line in f:
            v = dict(zip(head, line.rstrip("\n").split("\t")))
            rows[v["file"][:-len(".pcapng")]] = v
    cols = ["file", "source", "keys", "mode", "stack", "versions", "quic_version", "suite", "sni",
            "alpn", "chain", "expected_alerts", "sha256", "what"]
    with open(os.path.join(outdir, "expected.tsv"), "w") as f:
        f.write("\t".join(cols) + "\n")
        for name, src, mode, what in CASES:
            v = rows[src]
            versions, quic_version = made[name]
            alerts = v["expected_alerts"]
            if mode == "v1labels":
                # The certificates cannot be read: the protected endpoint's
                # handshake is reported as unverified (never a silent pass).
                alerts = "cloudflare-dns:unverified-handshake"
            f.write("\t".join([name + ".pcapng", v["file"], name + ".keys", mode, v["stack"],
                               versions, quic_version, v["suite"], v["sni"], v["alpn"], v["chain"],
                               alerts, v["sha256"] if mode != "v1labels" else "-", what]) + "\n")


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(SRC, "v2")
    os.makedirs(outdir, exist_ok=True)
    made = {}
    for name, src, mode, _ in CASES:
        frames, made[name] = convert(src, mode)
        write(frames, name, os.path.join(SRC, src + ".keys"), outdir)
        print("%s: %d frames from %s (%s)" % (name, len(frames), src, mode))
    expected_rows(outdir, made)


if __name__ == "__main__":
    main()
