#!/usr/bin/python3
"""Build CT get-entries JSON (RFC 6962 section 4.6) from PEM chains, for the
tests of --ct-json.

    mkctentries.py [--lines] [--repeat N] OUT.json KIND:CHAIN.pem ...

KIND is x509 (leaf_input: a timestamped x509_entry of the chain's first
certificate; extra_data: the rest of the chain) or precert (the first
certificate is a pre-certificate, with the CT poison extension: leaf_input
a precert_entry of its TBSCertificate and the SHA-256 of the issuer's
SubjectPublicKeyInfo, the second certificate of the file; extra_data a
PrecertChainEntry: the pre-certificate, then the rest).  Entry i gets the
timestamp 1706781600000 + i ms.  --lines writes one entry object a line
instead of {"entries": [...]}; --repeat N writes the list N times (a big
file for make bench).
"""
import base64
import hashlib
import json
import struct
import sys


def pem_certs(path):
    out, cur = [], None
    for line in open(path):
        line = line.strip()
        if line == "-----BEGIN CERTIFICATE-----":
            cur = []
        elif line == "-----END CERTIFICATE-----" and cur is not None:
            out.append(base64.b64decode("".join(cur)))
            cur = None
        elif cur is not None:
            cur.append(line)
    return out


def der_item(b, off):
    """(tag, header length, content length) of the DER item at off."""
    tag, l = b[off], b[off + 1]
    if l < 0x80:
        return tag, 2, l
    n = l & 0x7F
    return tag, 2 + n, int.from_bytes(b[off + 2:off + 2 + n], "big")


def tbs_of(cert):
    _, h, _ = der_item(cert, 0)
    _, th, tl = der_item(cert, h)
    return cert[h:h + th + tl]


def spki_of(cert):
    """The SubjectPublicKeyInfo: the 7th element of the TBSCertificate
    (version [0] present, as in every v3 certificate)."""
    tbs = tbs_of(cert)
    _, h, _ = der_item(tbs, 0)
    off = h
    for _ in range(6):
        _, ih, il = der_item(tbs, off)
        off += ih + il
    _, ih, il = der_item(tbs, off)
    return tbs[off:off + ih + il]


def u24(n):
    return struct.pack("!I", n)[1:]


def entry(kind, certs, ts):
    head = struct.pack("!BBQ", 0, 0, ts)
    if kind == "x509":
        leaf = head + struct.pack("!H", 0) + u24(len(certs[0])) + certs[0] + b"\0\0"
        chain = b"".join(u24(len(c)) + c for c in certs[1:])
        extra = u24(len(chain)) + chain
    else:
        pre, issuer = certs[0], certs[1]
        tbs = tbs_of(pre)
        leaf = (head + struct.pack("!H", 1) + hashlib.sha256(spki_of(issuer)).digest()
                + u24(len(tbs)) + tbs + b"\0\0")
        chain = b"".join(u24(len(c)) + c for c in certs[1:])
        extra = u24(len(pre)) + pre + u24(len(chain)) + chain
    return {"leaf_input": base64.b64encode(leaf).decode(),
            "extra_data": base64.b64encode(extra).decode()}


def main(argv):
    lines = "--lines" in argv
    argv = [a for a in argv if a != "--lines"]
    repeat = 1
    if argv and argv[0] == "--repeat":
        repeat, argv = int(argv[1]), argv[2:]
    out, specs = argv[0], argv[1:]
    chains = [(s.split(":", 1)[0], pem_certs(s.split(":", 1)[1])) for s in specs]
    entries = []
    for r in range(repeat):
        for kind, certs in chains:
            entries.append(entry(kind, certs, 1706781600000 + len(entries)))
    with open(out, "w") as f:
        if lines:
            f.write("".join(json.dumps(e) + "\n" for e in entries))
        else:
            json.dump({"entries": entries}, f)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
