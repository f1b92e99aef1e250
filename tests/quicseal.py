"""quicseal.py - QUIC packet protection for the scripts that rewrite real
captures (tests/mkquicsplit.py, tests/mkquicv2.py): keys, headers, opening
and sealing packets of QUIC v1 (RFC 9000, 9001) and v2 (RFC 9369), and
reading and writing the captures of pcaps/quic/.

Only the generators use it (with /usr/bin/python3, python3-scapy,
python3-cryptography and editcap); no test imports it: the tests read the
committed captures.
"""
import os
import shutil
import struct
import subprocess
import tempfile

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as chmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand
from scapy.all import Ether, IP, UDP, Raw, rdpcap, wrpcap

SRC = "pcaps/quic"
SERVER = "1.1.1.1"
V1 = 0x00000001
V2 = 0x6b3343cf

# Per version: the Initial salt (RFC 9001 §5.2, RFC 9369 §3.3.1), the
# packet protection labels (§5.1, §3.3.2), the Retry integrity key and
# nonce (§5.8, §3.3.3) and the long header types by their two type bits
# (RFC 9000 §17.2, RFC 9369 §3.2).
VERSIONS = {
    V1: {"salt": "38762cf7f55934b34d179ae6a4c80cadccbb7f0a",
         "labels": ("quic key", "quic iv", "quic hp"),
         "retry_key": "be0c690b9f66575a1d766b54e368c84e",
         "retry_nonce": "461599d35d632bf2239825bb",
         "types": {0: "initial", 1: "0rtt", 2: "handshake", 3: "retry"}},
    V2: {"salt": "0dede3def700a6db819381be6e269dcbf9bd2ed9",
         "labels": ("quicv2 key", "quicv2 iv", "quicv2 hp"),
         "retry_key": "8fb4b01b56ac48e260fbcbcead7ccc92",
         "retry_nonce": "d86969bc2d7c6d9990efb04a",
         "types": {1: "initial", 2: "0rtt", 3: "handshake", 0: "retry"}},
}

# TLS 1.3 suites QUIC uses (RFC 9001 §5.3, §5.4.3-4): hash, key length, AEAD.
SUITES = {0x1301: (hashes.SHA256, 16, "aes"),
          0x1302: (hashes.SHA384, 32, "aes"),
          0x1303: (hashes.SHA256, 32, "chacha")}


def type_bits(version, ptype):
    """The two type bits of a long header packet of this version."""
    return {v: k for k, v in VERSIONS[version]["types"].items()}[ptype]


# ---- RFC 9001 §5: keys -------------------------------------------------------

def hkdf_extract(salt, ikm, hash_cls=hashes.SHA256):
    h = chmac.HMAC(salt, hash_cls())
    h.update(ikm)
    return h.finalize()


def hkdf_expand_label(secret, label, length, hash_cls=hashes.SHA256):
    # RFC 8446 §7.1: HkdfLabel with "tls13 " prefix and an empty context.
    full = b"tls13 " + label.encode()
    info = struct.pack(">H", length) + bytes([len(full)]) + full + b"\x00"
    return HKDFExpand(hash_cls(), length, info).derive(secret)


class Keys:
    """One direction's keys of one space: key, iv and hp from a secret with
    the labels of `version` (labels_version, when given, overrides them:
    for a capture sealed wrongly on purpose)."""

    def __init__(self, secret, version=V1, suite=0x1301, labels_version=None):
        hash_cls, klen, self.cipher = SUITES[suite]
        lk, liv, lhp = VERSIONS[labels_version or version]["labels"]
        self.key = hkdf_expand_label(secret, lk, klen, hash_cls)
        self.iv = hkdf_expand_label(secret, liv, 12, hash_cls)
        self.hp = hkdf_expand_label(secret, lhp, klen, hash_cls)

    def mask(self, sample):
        if self.cipher == "chacha":
            # §5.4.4: counter = sample[0..3], nonce = sample[4..15]: the
            # 16-byte "nonce" of cryptography's ChaCha20 is that layout.
            enc = Cipher(algorithms.ChaCha20(self.hp, sample), None).encryptor()
            return enc.update(b"\x00" * 5)
        enc = Cipher(algorithms.AES(self.hp), modes.ECB()).encryptor()
        return enc.update(sample) + enc.finalize()

    def nonce(self, pn):
        n = bytearray(self.iv)
        for i, b in enumerate(pn.to_bytes(8, "big")):
            n[4 + i] ^= b
        return bytes(n)

    def aead(self):
        return ChaCha20Poly1305(self.key) if self.cipher == "chacha" else AESGCM(self.key)

    def encrypt(self, pn, payload, aad):
        return self.aead().encrypt(self.nonce(pn), payload, aad)

    def decrypt(self, pn, ct, aad):
        return self.aead().decrypt(self.nonce(pn), ct, aad)


def initial_keys(dcid, version=V1):
    """Both directions' Initial keys from the client's DCID (§5.2)."""
    init = hkdf_extract(bytes.fromhex(VERSIONS[version]["salt"]), dcid)
    return {"client": Keys(hkdf_expand_label(init, "client in", 32), version),
            "server": Keys(hkdf_expand_label(init, "server in", 32), version)}


def retry_tag(version, odcid, retry_without_tag):
    """§5.8: the tag over the pseudo-packet (ODCID length, ODCID, Retry)."""
    v = VERSIONS[version]
    pseudo = bytes([len(odcid)]) + odcid + retry_without_tag
    return AESGCM(bytes.fromhex(v["retry_key"])).encrypt(bytes.fromhex(v["retry_nonce"]),
                                                          b"", pseudo)


def read_keylog(path):
    out = {}
    for line in open(path):
        f = line.split()
        if len(f) == 3:
            out[f[0]] = bytes.fromhex(f[2])
    return out


# ---- RFC 9000 §16, §17: varints and headers ---------------------------------

def varint(buf, off):
    n = 1 << (buf[off] >> 6)
    v = buf[off] & 0x3f
    for b in buf[off + 1:off + n]:
        v = (v << 8) | b
    return v, off + n


def enc_varint(v, n=None):
    if n is None:
        n = 1 if v < 64 else 2 if v < 16384 else 4 if v < 1 << 30 else 8
    bits = {1: 0, 2: 0x40, 4: 0x80, 8: 0xc0}[n]
    b = bytearray(v.to_bytes(n, "big"))
    b[0] |= bits
    return bytes(b)


def decode_pn(largest, truncated, nbits):
    """RFC 9000 Appendix A.3 (largest None: nothing received yet)."""
    expected = 0 if largest is None else largest + 1
    win = 1 << nbits
    hwin, mask = win // 2, win - 1
    cand = (expected & ~mask) | truncated
    if cand <= expected - hwin and cand < (1 << 62) - win:
        return cand + win
    if cand > expected + hwin and cand >= win:
        return cand - win
    return cand


class Pkt:
    """One QUIC packet of a datagram: its bytes, header fields, and for
    packets that were opened, the plaintext frames."""

    def __init__(self, raw):
        self.raw = raw
        self.frames = None
        self.version = None


def split_datagram(buf, short_dcid_len=0):
    """The packets of a datagram.  A long header of a version neither v1
    nor v2 (or Version Negotiation) takes the rest of the datagram, as a
    short header does (RFC 8999: past the CIDs the format is the
    version's).  short_dcid_len: the DCID length of a short header (known
    only to the endpoints)."""
    pkts, off = [], 0
    while off < len(buf):
        first = buf[off]
        if not first & 0x80:
            p = Pkt(buf[off:])
            p.type = "short"
            p.pn_off = 1 + short_dcid_len
            pkts.append(p)
            break
        o = off + 1
        version = struct.unpack(">I", buf[o:o + 4])[0]
        o += 4
        dl = buf[o]; dcid = buf[o + 1:o + 1 + dl]; o += 1 + dl
        sl = buf[o]; scid = buf[o + 1:o + 1 + sl]; o += 1 + sl
        if version not in VERSIONS:
            p = Pkt(buf[off:])
            p.type = "vn" if version == 0 else "unknown"
            p.version, p.dcid, p.scid = version, dcid, scid
            p.rest_off = o - off
            pkts.append(p)
            break
        t = VERSIONS[version]["types"][(first >> 4) & 3]
        token = b""
        if t == "retry":
            p = Pkt(buf[off:])
            p.type, p.version, p.dcid, p.scid = t, version, dcid, scid
            pkts.append(p)
            break
        if t == "initial":
            tl, o = varint(buf, o)
            token = buf[o:o + tl]; o += tl
        length, o = varint(buf, o)
        end = o + length
        p = Pkt(buf[off:end])
        p.type, p.version, p.dcid, p.scid, p.token = t, version, dcid, scid, token
        p.pn_off = o - off
        pkts.append(p)
        off = end
    return pkts


def unprotect(raw, pn_off, keys, long_hdr=True, largest=None):
    """Remove header protection (§5.4): (unprotected header, full packet
    number, its length, ciphertext)."""
    raw = bytearray(raw)
    m = keys.mask(bytes(raw[pn_off + 4:pn_off + 20]))
    raw[0] ^= m[0] & (0x0f if long_hdr else 0x1f)
    pn_len = (raw[0] & 3) + 1
    for i in range(pn_len):
        raw[pn_off + i] ^= m[1 + i]
    tpn = int.from_bytes(raw[pn_off:pn_off + pn_len], "big")
    pn = decode_pn(largest, tpn, 8 * pn_len)
    return bytes(raw[:pn_off + pn_len]), pn, pn_len, bytes(raw[pn_off + pn_len:])


def protect(hdr, pn_off, ct, keys, long_hdr=True):
    """Apply header protection to a sealed packet (hdr unprotected)."""
    pkt = bytearray(hdr + ct)
    pn_len = (hdr[0] & 3) + 1
    m = keys.mask(bytes(pkt[pn_off + 4:pn_off + 20]))
    pkt[0] ^= m[0] & (0x0f if long_hdr else 0x1f)
    for i in range(pn_len):
        pkt[pn_off + i] ^= m[1 + i]
    return bytes(pkt)


def open_pkt(p, keys, largest=None):
    """Open a long header packet: p.pn, p.frames (the plaintext)."""
    hdr, p.pn, _, ct = unprotect(p.raw, p.pn_off, keys, True, largest)
    p.frames = keys.decrypt(p.pn, ct, hdr)
    return p


def parse_frames(pl):
    """Frames of an Initial or Handshake packet (RFC 9000 §12.4 Table 3):
    a list of (type, bytes, crypto offset, crypto data); PADDING dropped
    (it is added again where a datagram needs it)."""
    out, o = [], 0
    while o < len(pl):
        start = o
        t, o = varint(pl, o)
        if t == 0x00:
            continue
        if t == 0x01:
            out.append((t, pl[start:o], None, None))
        elif t in (0x02, 0x03):
            _, o = varint(pl, o); _, o = varint(pl, o)
            n, o = varint(pl, o); _, o = varint(pl, o)
            for _ in range(2 * n):
                _, o = varint(pl, o)
            if t == 0x03:
                for _ in range(3):
                    _, o = varint(pl, o)
            out.append((t, pl[start:o], None, None))
        elif t == 0x06:
            off, o = varint(pl, o)
            n, o = varint(pl, o)
            out.append((t, pl[start:o + n], off, pl[o:o + n]))
            o += n
        elif t in (0x1c, 0x1d):
            _, o = varint(pl, o)
            if t == 0x1c:
                _, o = varint(pl, o)
            n, o = varint(pl, o)
            o += n
            out.append((t, pl[start:o], None, None))
        else:
            raise ValueError("frame 0x%x not allowed in Initial/Handshake" % t)
    return out


def crypto_frame(off, data):
    return b"\x06" + enc_varint(off) + enc_varint(len(data)) + data


def seal(ptype, version, dcid, scid, token, pn, payload, keys, pad_to=0):
    """A new long-header packet, sealed.  pad_to: PADDING frames added so
    the packet is at least that long.  Packet numbers are sent in 2 bytes
    (enough for these small spaces; RFC 9000 §17.1)."""
    pn_len = 2
    tbits = type_bits(version, ptype)

    def header(plen):
        h = bytes([0xc0 | (tbits << 4) | (pn_len - 1)]) + struct.pack(">I", version)
        h += bytes([len(dcid)]) + dcid + bytes([len(scid)]) + scid
        if ptype == "initial":
            h += enc_varint(len(token)) + token
        # Length in 2 bytes always, so padding does not move the header.
        return h + enc_varint(pn_len + plen + 16, 2)

    # The header protection sample starts 4 bytes after the packet number
    # and needs 16 bytes: a short payload is padded (§5.4.2).
    need = 4 - pn_len
    if len(payload) < need:
        payload += b"\x00" * (need - len(payload))
    if pad_to:
        extra = pad_to - (len(header(len(payload))) + pn_len + len(payload) + 16)
        if extra > 0:
            payload += b"\x00" * extra
    h = header(len(payload)) + pn.to_bytes(pn_len, "big")
    return protect(h, len(h) - pn_len, keys.encrypt(pn, payload, h), keys)


# ---- the captures ------------------------------------------------------------

class Dgram:
    def __init__(self, frame):
        self.frame = frame            # the original scapy packet: addresses, ports, time
        self.time = frame.time
        self.client = frame[IP].src != SERVER
        self.payload = bytes(frame[UDP].payload)


def load_frames(name, src=SRC):
    """The UDP datagrams of pcaps/quic/NAME.pcapng and its key log."""
    frames = rdpcap(os.path.join(src, name + ".pcapng"))
    return [Dgram(f) for f in frames if UDP in f], read_keylog(os.path.join(src, name + ".keys"))


def make_frame(template, payload, t):
    """A new Ethernet frame with the template's addresses and ports and a
    new UDP payload; IP length and checksum, UDP length and checksum
    recomputed by scapy."""
    e = template.copy()
    udp = e[UDP]
    udp.remove_payload()
    udp.add_payload(Raw(payload))
    del e[IP].len, e[IP].chksum, udp.len, udp.chksum
    e = Ether(bytes(e))
    e.time = t
    return e


def write(frames, name, keys, outdir):
    """outdir/NAME.pcapng with the key log `keys` in a Decryption Secrets
    Block (editcap --inject-secrets), and outdir/NAME.keys, its copy."""
    tmp = tempfile.mkdtemp()
    try:
        plain = os.path.join(tmp, name + ".pcap")
        wrpcap(plain, frames)
        subprocess.run(["editcap", "--inject-secrets", "tls," + keys, plain,
                        os.path.join(outdir, name + ".pcapng")], check=True)
        shutil.copyfile(keys, os.path.join(outdir, name + ".keys"))
    finally:
        shutil.rmtree(tmp)
