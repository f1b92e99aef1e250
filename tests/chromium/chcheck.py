#!/usr/bin/python3
"""chcheck.py - what tshark 4.0 reads from a Chromium capture of pcaps/chromium/.

    chcheck.py PCAP [--keys NSS_KEYLOG]

Used by tests/mkchromium.sh (to check what each capture must show before
it is committed) and tests/t_chromium.sh (to compare certsentry's reading
with tshark's).  Reads the capture with tshark, QUIC on UDP 443 and TLS on
TCP 443, the key log given (or the capture's own Decryption Secrets Block)
opening QUIC's Handshake packets and TLS 1.3's encrypted records, with
out-of-order TCP segments reassembled.  Prints one tab-separated line per
connection in which the server answered with a ServerHello, in the order
the connections start:

  transport  sni  version  suite  ch_bytes  ch_initials  ch_frames
  ch_unordered  groups  cert_msg  compressed  sha256,sha256,...

transport "quic" or "tcp"; sni "-" when none; version "1.3" or "1.2" (the
ServerHello's supported_versions, else its legacy version); suite the
ServerHello's, hex; ch_bytes the ClientHello's length with its 4-byte
header; for QUIC, ch_initials the number of the client's Initial
datagrams with CRYPTO frames, in capture order, that it takes before
CRYPTO offset 0 up to ch_bytes is covered (1 when the whole ClientHello came in one), ch_frames
the CRYPTO frames in them, ch_unordered "yes" when a frame's offset is
below an earlier one's (Chromium's scrambled CRYPTO frames), "-" for TCP;
groups the ClientHello's key share groups, hex; cert_msg the handshake
type that carried the server's certificates (11 Certificate, 25
CompressedCertificate, "-" none read); compressed the CompressedCertificate's
algorithm (brotli, zlib, zstd or its number), "-" when none; then the
SHA-256 of each certificate tshark read, in the order sent ("-" none).
Exits 1 when tshark fails.
"""
import argparse
import hashlib
import subprocess
import sys

FIELDS = [
    "frame.number", "ip.src", "udp.stream", "tcp.stream", "quic.long.packet_type",
    "quic.crypto.offset", "quic.crypto.length", "tls.handshake.type", "tls.handshake.length",
    "tls.handshake.ciphersuite", "tls.handshake.version",
    "tls.handshake.extensions.supported_version", "tls.handshake.extensions_server_name",
    "tls.handshake.extensions_key_share_group", "tls.compress_certificate.algorithm",
    "tls.handshake.certificate",
]
ALGS = {"1": "zlib", "2": "brotli", "3": "zstd"}   # RFC 8879 §3
SERVER_HELLO, CERTIFICATE, COMPRESSED_CERTIFICATE = "2", "11", "25"


def tshark(pcap, keys):
    cmd = ["tshark", "-n", "-r", pcap, "-d", "udp.port==443,quic",
           "-o", "tcp.reassemble_out_of_order:TRUE", "-T", "fields",
           "-E", "occurrence=a", "-E", "separator=\t", "-E", "aggregator=|"]
    if keys:
        cmd += ["-o", "tls.keylog_file:" + keys]
    for f in FIELDS:
        cmd += ["-e", f]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    rows = []
    for line in out.splitlines():
        cols = line.split("\t")
        cols += [""] * (len(FIELDS) - len(cols))
        rows.append({k: (v.split("|") if v else []) for k, v in zip(FIELDS, cols)})
    return rows


def hexv(v):
    return "0x%04x" % int(v, 0)


class Conn:
    def __init__(self, transport, client):
        self.transport, self.client = transport, client
        self.sni = "-"
        self.version = self.suite = "-"
        self.ch_bytes = 0
        self.groups = []
        self.cert_msg = self.compressed = "-"
        self.certs = []
        self.server_hello = False
        self.pieces = []          # QUIC: [(offset, length), ...] per client Initial datagram

    def initials(self):
        """Datagrams (and CRYPTO frames) until [0, ch_bytes) is covered."""
        if self.transport != "quic" or not self.ch_bytes:
            return "-", "-", "-"
        have, frames, last, unordered = [], 0, -1, False
        for n, dgram in enumerate(self.pieces, 1):
            for off, ln in dgram:
                frames += 1
                unordered |= off < last
                last = off
                have.append((off, off + ln))
            end = 0
            for a, b in sorted(have):
                if a > end:
                    break
                end = max(end, b)
            if end >= self.ch_bytes:
                return str(n), str(frames), "yes" if unordered else "no"
        return "incomplete", str(frames), "yes" if unordered else "no"

    def line(self):
        n, frames, unordered = self.initials()
        return "\t".join([self.transport, self.sni, self.version, self.suite,
                          str(self.ch_bytes), n, frames, unordered,
                          ",".join(self.groups) or "-", self.cert_msg, self.compressed,
                          ",".join(self.certs) or "-"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("pcap")
    ap.add_argument("--keys")
    a = ap.parse_args()
    try:
        rows = tshark(a.pcap, a.keys)
    except subprocess.CalledProcessError as e:
        sys.stderr.write("chcheck: tshark failed: %s\n" % e.stderr.strip())
        return 1
    conns, order = {}, []
    for r in rows:
        if r["udp.stream"]:
            key = ("quic", r["udp.stream"][0])
        elif r["tcp.stream"]:
            key = ("tcp", r["tcp.stream"][0])
        else:
            continue
        src = r["ip.src"][0] if r["ip.src"] else ""
        if key not in conns:
            conns[key] = Conn(key[0], src)      # the first sender is the client
            order.append(key)
        c = conns[key]
        from_client = src == c.client
        # The client's Initial CRYPTO frames, however the server's ACKs
        # interleave with them (a server may acknowledge the first datagram
        # before the second arrives).
        if key[0] == "quic" and from_client \
                and "0" in r["quic.long.packet_type"] and r["quic.crypto.offset"]:
            c.pieces.append(list(zip(map(int, r["quic.crypto.offset"]),
                                     map(int, r["quic.crypto.length"]))))
        types = r["tls.handshake.type"]
        if from_client and "1" in types and not c.ch_bytes:
            c.ch_bytes = int(r["tls.handshake.length"][types.index("1")]) + 4
            c.sni = (r["tls.handshake.extensions_server_name"] or ["-"])[0]
            c.groups = [hexv(g) for g in r["tls.handshake.extensions_key_share_group"]]
        if from_client:
            continue
        if SERVER_HELLO in types and not c.server_hello:
            c.server_hello = True
            c.suite = hexv(r["tls.handshake.ciphersuite"][0])
            sv = r["tls.handshake.extensions.supported_version"]
            c.version = "1.3" if sv and int(sv[0], 0) == 0x0304 else \
                {0x0303: "1.2", 0x0302: "1.1"}.get(int(r["tls.handshake.version"][0], 0), "?")
        for t in (CERTIFICATE, COMPRESSED_CERTIFICATE):
            if t in types and c.cert_msg == "-":
                c.cert_msg = t
        if COMPRESSED_CERTIFICATE in types and r["tls.compress_certificate.algorithm"]:
            alg = r["tls.compress_certificate.algorithm"][-1]
            c.compressed = ALGS.get(str(int(alg, 0)), alg)
        if r["tls.handshake.certificate"] and not c.certs:
            c.certs = [hashlib.sha256(bytes.fromhex(h.replace(":", ""))).hexdigest()
                       for h in r["tls.handshake.certificate"]]
    for key in order:
        if conns[key].server_hello:
            print(conns[key].line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
