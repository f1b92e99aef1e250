#!/usr/bin/python3
"""Seed corpora for the certsentry fuzz targets (tests/fuzz/fuzz_*.c).

usage: seeds.py OUT_DIR [CAPTURE_DIR ...]

Writes OUT_DIR/corpus-NAME/ for NAME in decode, reasm, tls, rules, chain,
engine, pcapng (and the CT monitor's ct_checkpoint, ct_tile, ct_loglist,
made with python3-cryptography), from the captures under each CAPTURE_DIR (default: pcaps and
../shared/realworld/pcaps), pcaps/pki/*.pem, pcaps/test.rules and
rules/examples/*.rules.  Each file is named by the SHA-1 of its content,
so running it again adds nothing twice.  The input formats are the ones
described at the top of each harness.  Run from the top directory with
Debian's python3 (scapy reads the captures, pcap and pcapng alike).
"""
import base64
import glob
import hashlib
import json
import os
import struct
import sys

from scapy.utils import RawPcapReader

# fuzz_decode.c's list of link types, in its order.
DECODE_DLTS = [0, 1, 12, 14, 101, 108, 113, 228, 229, 276]
MAX_ENGINE_PKTS = 300
MAX_ENGINE_BYTES = 96 * 1024
MAX_DECODE_SEEDS = 4000


def put(out, name, data, seen=set()):
    d = os.path.join(out, "corpus-" + name)
    os.makedirs(d, exist_ok=True)
    h = hashlib.sha1(data).hexdigest()
    if (name, h) in seen:
        return
    seen.add((name, h))
    p = os.path.join(d, h)
    if not os.path.exists(p):
        with open(p, "wb") as f:
            f.write(data)


def read_capture(path):
    """[(linktype, frame, ts)] of one capture; [] when it cannot be read."""
    frames = []
    try:
        r = RawPcapReader(path)
    except Exception as e:  # noqa: BLE001 - any unreadable capture is skipped
        print("seeds.py: skip %s: %s" % (path, e), file=sys.stderr)
        return frames
    try:
        for data, meta in r:
            lt = getattr(meta, "linktype", None)
            if lt is None:
                lt = getattr(r, "linktype", 1)
            if hasattr(meta, "sec"):
                ts = meta.sec + meta.usec / 1e6
            elif hasattr(meta, "tshigh"):
                ts = ((meta.tshigh << 32) | meta.tslow) / float(getattr(meta, "tsresol", 1000000) or 1000000)
            else:
                ts = 0.0
            frames.append((lt, bytes(data), ts))
    except Exception as e:  # noqa: BLE001 - keep what was read of a damaged capture
        print("seeds.py: %s: %s" % (path, e), file=sys.stderr)
    finally:
        r.close()
    return frames


# ---- minimal decoding, enough to find IP packets and TCP streams ----------

def ip_of(lt, f):
    """The IP packet inside a frame, or None."""
    def by_type(t, rest):
        while t in (0x8100, 0x88A8, 0x9100) and len(rest) >= 4:
            t = struct.unpack(">H", rest[2:4])[0]
            rest = rest[4:]
        if t in (0x0800, 0x86DD):
            return rest
        if t == 0x8864 and len(rest) >= 8:
            return rest[8:]
        return None
    if lt == 1:
        return by_type(struct.unpack(">H", f[12:14])[0], f[14:]) if len(f) >= 14 else None
    if lt == 113:
        return by_type(struct.unpack(">H", f[14:16])[0], f[16:]) if len(f) >= 16 else None
    if lt == 276:
        return by_type(struct.unpack(">H", f[0:2])[0], f[20:]) if len(f) >= 20 else None
    if lt in (0, 108):
        return f[4:]
    if lt in (12, 14, 101, 228, 229):
        return f
    return None


def tcp_of(ip):
    """(src, dst, sport, dport, seq, flags, payload) or None."""
    if not ip:
        return None
    v = ip[0] >> 4
    if v == 4 and len(ip) >= 20:
        hl = (ip[0] & 15) * 4
        tot = struct.unpack(">H", ip[2:4])[0]
        if ip[9] != 6 or struct.unpack(">H", ip[6:8])[0] & 0x3FFF:
            return None
        src, dst, seg = ip[12:16], ip[16:20], ip[hl:tot if tot >= hl else len(ip)]
    elif v == 6 and len(ip) >= 40:
        if ip[6] != 6:
            return None
        plen = struct.unpack(">H", ip[4:6])[0]
        src, dst, seg = ip[8:24], ip[24:40], ip[40:40 + plen]
    else:
        return None
    if len(seg) < 20:
        return None
    sport, dport, seq = struct.unpack(">HHI", seg[:8])
    off = (seg[12] >> 4) * 4
    return src, dst, sport, dport, seq, seg[13], bytes(seg[off:])


def streams(frames):
    """Per connection: (client bytes, server bytes, server segments)."""
    conns = {}
    for lt, f, _ in frames:
        t = tcp_of(ip_of(lt, f))
        if not t:
            continue
        src, dst, sp, dp, seq, flags, pl = t
        a, b = (src, sp), (dst, dp)
        key = (a, b) if a <= b else (b, a)
        c = conns.setdefault(key, {"syn": {}, "segs": {a: [], b: []}, "client": None})
        c["segs"].setdefault(a, [])
        if flags & 0x02:
            c["syn"][a] = seq + 1
            if not flags & 0x10 and c["client"] is None:
                c["client"] = a
        if pl:
            c["segs"][a].append((seq, pl))
            if c["client"] is None and len(pl) > 5 and pl[0] == 0x16 and pl[5] == 1:
                c["client"] = a
            if c["client"] is None and len(pl) > 5 and pl[0] == 0x16 and pl[5] == 2:
                c["client"] = b
    out = []
    for key, c in conns.items():
        cl = c["client"] or key[0]
        sv = key[1] if cl == key[0] else key[0]

        def join(side):
            segs = c["segs"].get(side, [])
            if not segs:
                return b"", []
            isn = c["syn"].get(side, segs[0][0])
            data = bytearray()
            rel = []
            for seq, pl in sorted(segs, key=lambda s: (s[0] - isn) & 0xFFFFFFFF):
                off = (seq - isn) & 0xFFFFFFFF
                rel.append((off, pl))
                if off > len(data) or off > 1 << 24:
                    continue
                data += pl[len(data) - off:]
            return bytes(data), [(((s - isn) & 0xFFFFFFFF), p) for s, p in segs]
        cdata, _ = join(cl)
        sdata, ssegs = join(sv)
        if cdata or sdata:
            out.append((cdata, sdata, ssegs))
    return out


def tls_certs(server):
    """DER certificates of the first Certificate message in a server stream."""
    hs = bytearray()
    pos = 0
    while pos + 5 <= len(server):
        ct, ln = server[pos], struct.unpack(">H", server[pos + 3:pos + 5])[0]
        if ct == 20:
            break
        if ct == 22:
            hs += server[pos + 5:pos + 5 + ln]
        pos += 5 + ln
    p = 0
    while p + 4 <= len(hs):
        t, n = hs[p], int.from_bytes(hs[p + 1:p + 4], "big")
        body = hs[p + 4:p + 4 + n]
        if t == 11 and len(body) >= 3:
            certs, q = [], 3
            while q + 3 <= len(body):
                m = int.from_bytes(body[q:q + 3], "big")
                certs.append(bytes(body[q + 3:q + 3 + m]))
                q += 3 + m
            return certs
        p += 4 + n
    return []


def pem_certs(path):
    import base64
    out, cur = [], None
    for line in open(path, encoding="ascii", errors="replace"):
        line = line.strip()
        if line == "-----BEGIN CERTIFICATE-----":
            cur = []
        elif line == "-----END CERTIFICATE-----" and cur is not None:
            out.append(base64.b64decode("".join(cur)))
            cur = None
        elif cur is not None:
            cur.append(line)
    return out


# ---- the formats of the harnesses ---------------------------------------

def as_ether(lt, f):
    ip = ip_of(lt, f)
    if lt == 1:
        return f
    if not ip:
        return None
    t = 0x86DD if ip[0] >> 4 == 6 else 0x0800
    return b"\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb" + struct.pack(">H", t) + ip


def rewrap(ip):
    """The IP packet under every link type decode supports: (dlt, frame)."""
    v6 = ip and ip[0] >> 4 == 6
    et = struct.pack(">H", 0x86DD if v6 else 0x0800)
    fam_le = struct.pack("<I", 30 if v6 else 2)
    fam_be = struct.pack(">I", 30 if v6 else 2)
    yield 0, fam_le + ip
    yield 108, fam_be + ip
    yield 12, ip
    yield 14, ip
    yield 101, ip
    yield 228 if not v6 else 229, ip
    yield 113, b"\x00\x00\x00\x01\x00\x06" + b"\x00" * 8 + et + ip
    yield 276, et + b"\x00\x00" + b"\x00\x00\x00\x01\x00\x01\x00\x06" + b"\x00" * 8 + ip
    yield 1, b"\x00" * 12 + b"\x81\x00\x00\x05" + b"\x88\xa8"[:0] + et + ip
    yield 1, b"\x00" * 12 + b"\x88\xa8\x00\x07\x81\x00\x00\x05" + et + ip
    yield 1, b"\x00" * 12 + b"\x88\x47" + b"\x00\x01\x01\x40" + ip
    yield 1, b"\x00" * 12 + b"\x88\x64" + b"\x11\x00\x00\x01\x00\x00" + (b"\x00\x57" if v6 else b"\x00\x21") + ip


def engine_input(flags, frames):
    out = bytearray([flags])
    last = None
    n = 0
    for lt, f, ts in frames:
        e = as_ether(lt, f)
        if e is None:
            continue
        e = e[:0x3FFF]
        step = 0
        if last is not None:
            d = ts - last
            step = 3 if d < -0.5 else 2 if d > 150 else 1 if d > 0.5 else 0
        last = ts
        out += struct.pack(">H", step << 14 | len(e)) + e
        n += 1
        if n >= MAX_ENGINE_PKTS or len(out) > MAX_ENGINE_BYTES:
            break
    return bytes(out) if n else None


def tls_input(cfg, seed, piece, client, server):
    client = client[:8192]
    server = server[:48 * 1024]
    return bytes([cfg, seed, piece]) + struct.pack(">H", len(client)) + client + server


def chain_input(how, sel, certs):
    out = bytearray([how, sel])
    for c in certs[:16]:
        out += struct.pack(">H", len(c) & 0xFFFF) + c[:0xFFFF]
    return bytes(out)


def reasm_ops(segs, consistent=False):
    """Segment ops of fuzz_reasm.c from (offset, payload) segments."""
    out = bytearray()
    for off, pl in segs:
        if off > 0xFFFF:
            continue
        for i in range(0, min(len(pl), 2048), 255):
            chunk = pl[i:i + 255]
            o = off + i
            if o > 0xFFFF:
                break
            kind = 0x08 if consistent else 0x00
            out += bytes([kind]) + struct.pack(">HB", o, len(chunk))
            if not consistent:
                out += chunk
    return bytes(out)


# ---- CT monitor parsers (fuzz_ct_checkpoint.c, fuzz_ct_tile.c, fuzz_ct_loglist.c) ----

# fuzz_ct_checkpoint.c's fixed log key and origin (only for fuzzing).
CT_FUZZ_KEY = b"""-----BEGIN EC PRIVATE KEY-----
MHcCAQEEIEkSm2VLC5FC8xm3MJHUd11Akcdf8PqKJC0AiDMY5Yq3oAoGCCqGSM49
AwEHoUQDQgAEuO4JiLItWsV7+jyCFYuPNRw9aXojKgJvKeCUAfGi7BfCSsel8IG8
5/qyS/djgnxIODYeh08R+J+vjLAfLjUKaA==
-----END EC PRIVATE KEY-----
"""
CT_FUZZ_ORIGIN = "log.example/fuzz"


def ct_seeds(out, certs):
    """Checkpoints, get-sth and proofs signed with the harness's key; data
    tiles of the given certificates; log lists of both forms."""
    try:
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec, rsa
    except ImportError:
        print("seeds ct_*: python3-cryptography missing, no seeds")
        return
    b64 = lambda x: base64.b64encode(x).decode()
    key = serialization.load_pem_private_key(CT_FUZZ_KEY, None)
    spki = key.public_key().public_bytes(serialization.Encoding.DER,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)

    def ds(k, msg):   # RFC 5246 DigitallySigned, SHA-256 and the key's algorithm
        if isinstance(k, ec.EllipticCurvePrivateKey):
            sig, alg = k.sign(msg, ec.ECDSA(hashes.SHA256())), 3
        else:
            from cryptography.hazmat.primitives.asymmetric import padding
            sig, alg = k.sign(msg, padding.PKCS1v15(), hashes.SHA256()), 1
        return bytes([4, alg]) + struct.pack(">H", len(sig)) + sig

    for size in (0, 1, 7, 1234567, 2 ** 40 + 3):
        ts = 1733580000000 + size
        root = hashlib.sha256(b"root %d" % size).digest()
        tbs = struct.pack(">BBQQ", 0, 1, ts, size) + root
        sig = ds(key, tbs)
        kid = hashlib.sha256(CT_FUZZ_ORIGIN.encode() + b"\n\x05" +
                             hashlib.sha256(spki).digest()).digest()[:4]
        line = "\u2014 %s %s\n" % (CT_FUZZ_ORIGIN, b64(kid + struct.pack(">Q", ts) + sig))
        text = "%s\n%d\n%s\n" % (CT_FUZZ_ORIGIN, size, b64(root))
        wit = "\u2014 witness.example/w1 %s\n" % b64(b"\x01\x02\x03\x04" + bytes(72))
        for note in (text + "\n" + line, text + "ext line\n\n" + wit + line):
            put(out, "ct_checkpoint", b"\x00" + note.encode())
        sth = {"tree_size": size, "timestamp": ts, "sha256_root_hash": b64(root),
               "tree_head_signature": b64(sig)}
        put(out, "ct_checkpoint", b"\x01" + json.dumps(sth).encode())
        proof = [b64(hashlib.sha256(b"%d %d" % (size, i)).digest()) for i in range(size % 9)]
        for mode in (2, 0x82, 0x26):
            put(out, "ct_checkpoint", bytes([mode]) + json.dumps({"consistency": proof}).encode())

    # data tiles: TileLeaf entries (C2SP static-ct-api) of real certificates
    def tile_leaf(i, der, precert):
        ext = b"\x00\x00\x05" + (i).to_bytes(5, "big")
        te = struct.pack(">QH", 1733580000000 + i, 1 if precert else 0)
        if precert:
            te += hashlib.sha256(der).digest() + len(der).to_bytes(3, "big") + der
        else:
            te += len(der).to_bytes(3, "big") + der
        te += struct.pack(">H", len(ext)) + ext
        leaf = te + ((len(der).to_bytes(3, "big") + der) if precert else b"")
        chain = hashlib.sha256(der).digest() * (i % 3)
        return leaf + struct.pack(">H", len(chain)) + chain
    ders = certs[:6] or [bytes(range(48))]
    for n in (1, 2, len(ders)):
        tile = b"".join(tile_leaf(i, ders[i % len(ders)], i % 2 == 1) for i in range(n))
        for head in (b"\x01\x00" + struct.pack(">Q", 1234067), b"\x00\x11" + bytes(8)):
            put(out, "ct_tile", head + tile)

    # log lists: Chrome's v3 JSON and the text form, real keys
    keys = [ec.generate_private_key(ec.SECP256R1()), rsa.generate_private_key(65537, 2048),
            ec.generate_private_key(ec.SECP384R1())]
    pub = [k.public_key().public_bytes(serialization.Encoding.DER,
                                       serialization.PublicFormat.SubjectPublicKeyInfo)
           for k in keys]
    ids = [b64(hashlib.sha256(d).digest()) for d in pub]

    def log(i, state, extra):
        o = {"description": "Log %d" % i, "log_id": ids[i % 3], "key": b64(pub[i % 3]),
             "mmd": 86400, "state": {state: {"timestamp": "2025-01-01T00:00:00Z"}}}
        o.update(extra)
        return o
    ro = log(1, "readonly", {"url": "https://ct.example/ro/"})
    ro["state"]["readonly"]["final_tree_head"] = {"sha256_root_hash": b64(bytes(32)),
                                                  "tree_size": 12345}
    ll = {"version": "1.0", "log_list_timestamp": "2026-12-07T00:00:00Z", "operators": [
        {"name": "Example", "email": ["ct@example"],
         "logs": [log(0, "usable", {"url": "https://ct.example/a/"}), ro,
                  log(2, "retired", {"url": "https://ct.example/b"})],
         "tiled_logs": [log(0, "qualified", {"submission_url": "https://t.example/2026h1/",
                                             "monitoring_url": "https://mon.t.example/2026h1"})]}]}
    put(out, "ct_loglist", json.dumps(ll).encode())
    put(out, "ct_loglist", json.dumps(ll, indent=2).encode())
    text = ("# logs\n\nrfc6962 https://ct.example/a/ %s Example A\n"
            "static https://mon.t.example/2026h1/ %s t.example/2026h1 Tiled\n"
            "bogus line\n" % (b64(pub[0]), b64(pub[1])))
    put(out, "ct_loglist", text.encode())


def main():
    out = sys.argv[1]
    dirs = sys.argv[2:] or ["pcaps", "../shared/realworld/pcaps"]
    caps = []
    for d in dirs:
        caps += sorted(glob.glob(os.path.join(d, "**", "*.pcap*"), recursive=True))
    n_decode = 0
    decode_seen = set()
    all_certs = []
    for path in caps:
        # pcapng: the capture files themselves, as a file and as a stream
        raw = open(path, "rb").read()
        if len(raw) <= 64 * 1024:
            for flags in ((0, 2) if raw[:4] == b"\x0a\x0d\x0d\x0a" else (0,)):
                put(out, "pcapng", bytes([flags]) + raw)
        frames = read_capture(path)
        if not frames:
            continue
        # decode: every distinct frame head, and a few re-wrapped
        for i, (lt, f, _) in enumerate(frames):
            if lt not in DECODE_DLTS or n_decode >= MAX_DECODE_SEEDS:
                continue
            k = (lt, f[:96])
            if k in decode_seen:
                continue
            decode_seen.add(k)
            put(out, "decode", bytes([DECODE_DLTS.index(lt)]) + f)
            n_decode += 1
            if i < 3:
                ip = ip_of(lt, f)
                if ip:
                    for dlt, g in rewrap(ip):
                        put(out, "decode", bytes([DECODE_DLTS.index(dlt)]) + g)
        # engine: the capture's first packets, in both engines
        for flags in (0x00, 0x01):
            e = engine_input(flags, frames)
            if e:
                put(out, "engine", e)
        # tls, chain, reasm: per TCP connection
        for k, (cdata, sdata, ssegs) in enumerate(streams(frames)):
            if k >= 8:
                break
            if not (cdata[:1] in (b"\x16", b"\x80") or sdata[:1] == b"\x16"):
                continue
            put(out, "tls", tls_input(0, 1, 0xFF, cdata, sdata))
            put(out, "tls", tls_input(0, 7, 3, cdata[:4096], sdata[:8192]))
            certs = tls_certs(sdata)
            if certs:
                all_certs.append(certs)
                put(out, "chain", chain_input(0, 0, certs))
            if ssegs:
                put(out, "reasm", bytes([0x3F, 0x03, 0, 0, 0, 1, 0, 0]) + reasm_ops(ssegs[:16]))
    # chain: the committed test PKI, alone and as chains
    pki = {os.path.basename(p)[:-4]: pem_certs(p) for p in sorted(glob.glob("pcaps/pki/*.pem"))}
    for name, certs in pki.items():
        put(out, "chain", chain_input(0, 0, certs))
        for how in (0x01, 0x02 | 0x04, 0x08, 0x10, 0x20):
            put(out, "chain", chain_input(how, 0x01, certs))
    for leaf, chain in (("approved-leaf", ["approved-issuing", "approved-root"]),
                        ("forged-leaf", ["forged-issuing"]),
                        ("pinned-leaf", ["pinned-issuing", "pinned-root"]),
                        ("rogue-leaf", ["rogue-root"])):
        if leaf in pki and all(c in pki for c in chain):
            certs = pki[leaf] + sum((pki[c] for c in chain), [])
            for sel in (0x00, 0x04, 0x30, 0x40, 0xC0, 0x18):
                put(out, "chain", chain_input(0, sel, certs))
    # rules: the shipped rules files, and ones naming the harness's CA files
    for p in ["pcaps/test.rules"] + sorted(glob.glob("rules/examples/*.rules")):
        if os.path.exists(p):
            data = open(p, "rb").read()
            put(out, "rules", data)
            put(out, "rules", b"#d\n" + data)
    extra = [
        b"owner a\nprotect ip 192.0.2.0/24 ::ffff:10.0.0.0/104 2001:db8::/32\n"
        b"protect name a.example *.b.example c.example.\napprove ca ca.pem\n",
        b"owner b\nprotect name x.example\napprove ca two.pem\napprove ca v1.pem\n"
        b"owner c\nprotect ip 10.0.0.1\napprove spki sha256/"
        b"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n",
        b"owner z\nprotect zone example. a.b.example\nprotect name x.example\n"
        b"approve ca ca.pem\n",
        b"owner y\nprotect zone *.example 192.0.2.1\napprove ca ca.pem\n",
        b"owner d\nprotect ip 1.1.1.1\napprove ca leaf.pem\n",
        b"owner e\nprotect ip 1.1.1.1\napprove ca bad.pem\n",
        b"owner f\nprotect ip 1.1.1.1\napprove ca noend.pem\n",
        b"owner g\nprotect ip 1.1.1.1/33\napprove ca empty.pem\n",
        b"#d\nowner dir-fixed\nprotect ip 1.1.1.1\napprove ca ../ca.pem\n",
        b"owner h # comment\n\tprotect  ip\t10.0.0.0/8\r\napprove spki sha256:"
        + b"ab" * 32 + b"\n",
    ]
    for e in extra:
        put(out, "rules", e)
    # reasm: synthetic patterns on top of the captured ones
    base = [(0, b"A" * 100), (100, b"B" * 100), (200, b"C" * 55)]
    for order in (base, base[::-1], [base[1], base[0], base[2]]):
        put(out, "reasm", bytes([0x3F, 0x03, 0xFF, 0xFF, 0xFF, 0x80, 0, 0]) + reasm_ops(order))
        put(out, "reasm", bytes([0x07, 0x07, 0, 0, 0, 0, 0, 0]) + reasm_ops(order, True))
    put(out, "reasm", bytes([0x10, 0x01, 1, 2, 3, 4, 0, 0]) +
        bytes([0x1A, 0, 0, 40, 0x08, 0, 0, 100, 0x08, 0, 50, 200, 0x48, 0, 0, 255]))
    put(out, "reasm", bytes([0xBF, 0x03, 0, 0, 0, 0, 0, 0]) +
        bytes([0x19, 0, 0, 0xFF, 0x18, 0, 0, 0xFF, 0x16, 0, 0, 0, 0x0E, 0, 0, 1]))
    # dedup: --state files as certsentry writes them, and near misses
    st = (b"certsentry-dedup 1 window 3600000000\n"
          b"1706781600002564 1706781600002564 1706781600996733 101 101 unapproved-issuer "
          + b"6e" * 32 + b" 4 1.1.1.1 443 - 203.0.113.11 20000 2 8058093008338912 cloudflare-dns\n"
          b"1706781600002564 1706781600002564 1706781600002564 1 1 self-signed - 6 2606:4700::1111 "
          b"853 10,20 2001:db8::7 40000 3 1 pinned-api\n")
    put(out, "dedup", st)
    put(out, "dedup", st.replace(b" 10,20 ", b" 4095 "))
    put(out, "dedup", st[:60])
    put(out, "dedup", b"certsentry-dedup 1 window 1\n")
    # version 2: the first sighting's transport after the port
    put(out, "dedup", st.replace(b"certsentry-dedup 1", b"certsentry-dedup 2")
        .replace(b" 443 - ", b" 443 udp - ").replace(b" 853 10,20 ", b" 853 tcp 10,20 "))
    # certfile: the test PKI's PEM files, alone and as chains, and as DER
    pems = sorted(glob.glob("pcaps/pki/*.pem"))
    for i, p in enumerate(pems):
        data = open(p, "rb").read()
        put(out, "certfile", bytes([i]) + data)
        put(out, "certfile", bytes([i]) + b"".join(pem_certs(p)))   # DER
    chain = b"".join(open(p, "rb").read() for p in pems[:3])
    put(out, "certfile", b"\x0f" + b"text before\n" + chain)
    # ct: [flags][split hi][split lo] leaf_input extra_data, from the PKI
    def u24(n):
        return struct.pack("!I", n)[1:]
    for leafp, chainp in (("rogue-leaf", ["rogue-root"]),
                          ("approved-leaf", ["approved-issuing", "approved-root"])):
        lp, cps = "pcaps/pki/%s.pem" % leafp, ["pcaps/pki/%s.pem" % c for c in chainp]
        if not (os.path.exists(lp) and all(os.path.exists(c) for c in cps)):
            continue
        leaf_der = pem_certs(lp)[0]
        chain = b"".join(u24(len(d)) + d for c in cps for d in pem_certs(c))
        x509 = struct.pack("!BBQH", 0, 0, 1706781600000, 0) + u24(len(leaf_der)) + leaf_der + b"\0\0"
        pre = (struct.pack("!BBQH", 0, 0, 1706781600000, 1) + b"\x11" * 32 + u24(len(leaf_der))
               + leaf_der + b"\0\0")
        for flags, li, ed in ((0x03, x509, u24(len(chain)) + chain),
                              (0x13, pre, u24(len(leaf_der)) + leaf_der + u24(len(chain)) + chain)):
            put(out, "ct", bytes([flags]) + struct.pack("!H", len(li)) + li + ed)
    # certnames: every certificate of the test PKI and of the realworld
    # captures' chains, as DER
    for p in pems:
        for d in pem_certs(p):
            put(out, "certnames", d)
    for c in caps:
        try:
            frames = read_capture(c)
        except Exception:
            continue
        for _, server, _ in streams(frames):
            for d in tls_certs(server)[:4]:
                put(out, "certnames", d)
    # ctjson: get-entries answers, one entry alone, pretty and escaped
    b64 = lambda x: base64.b64encode(x).decode()
    ents = [{"leaf_input": b64(d[:64]), "extra_data": b64(d[64:128])}
            for p in pems[:3] for d in pem_certs(p)]
    page = json.dumps({"entries": ents})
    for text in (page, json.dumps(ents[0]), json.dumps({"entries": ents}, indent=2),
                 page.replace("/", "\\/"), '{"entries":[],"x":[1,-2.5e3,true,null,"\\u00e9"]}'):
        put(out, "ctjson", text.encode())
    ct_seeds(out, [d for p in pems for d in pem_certs(p)])
    for name in ("decode", "reasm", "tls", "rules", "chain", "engine", "dedup", "certfile", "ct",
                 "certnames", "ctjson", "pcapng", "ct_checkpoint", "ct_tile", "ct_loglist"):
        d = os.path.join(out, "corpus-" + name)
        os.makedirs(d, exist_ok=True)
        print("seeds %s: %d files" % (name, len(os.listdir(d))))


if __name__ == "__main__":
    main()
