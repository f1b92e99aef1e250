#!/usr/bin/python3
"""qcheck.py - check one QUIC capture made by tests/mkquic.sh with tshark.

    qcheck.py PCAP --keys NSS_KEYLOG --port 443|853 [--expect ...]

Reads the capture with tshark 4.0 and the key log (tshark opens the
Handshake packets with the handshake traffic secrets) and checks what the
capture is said to contain: the QUIC packet types (Initial, Handshake,
Retry, Version Negotiation), the version of the Initials after any
negotiation, the TLS suite of the ServerHello, SNI and ALPN of the
ClientHello, the server's certificate chain (SHA-256 of each DER, in the
order sent), that the exchange completed (a DNS response or an HTTP/3 DATA
frame, then a CONNECTION_CLOSE), valid UDP checksums and no frame over
Ethernet's 1514 bytes.
Prints one tab-separated line of what it found: packets, version, suite,
sni, alpn, sha256 list; exits 1 (with the reason on stderr) when anything
differs from an --expect-* option.
"""
import argparse
import hashlib
import subprocess
import sys

TSHARK_FIELDS = [
    "frame.number", "frame.len", "ip.src", "udp.checksum.status",
    "quic.long.packet_type", "quic.version", "quic.header_form",
    "tls.handshake.type", "tls.handshake.ciphersuite",
    "tls.handshake.extensions_server_name", "tls.handshake.extensions_alpn_str",
    "tls.handshake.certificate", "quic.frame_type", "dns.flags.response", "http3.frame_type",
]
# RFC 9000 §19.19: CONNECTION_CLOSE, transport (0x1c) or application (0x1d).
CONNECTION_CLOSE = {"0x1c", "0x1d", "28", "29"}
# RFC 9000 §17.2: long header packet types of QUIC v1.
LONG_TYPES = {"0": "initial", "1": "0rtt", "2": "handshake", "3": "retry"}
ETH_MAX = 1514  # 1500-byte MTU + 14-byte Ethernet header, no FCS


def tshark(pcap, keys, port):
    cmd = ["tshark", "-n", "-r", pcap, "-o", "udp.check_checksum:TRUE",
           "-d", "udp.port==%d,quic" % port, "-T", "fields", "-E", "occurrence=a",
           "-E", "separator=\t", "-E", "aggregator=|"]
    if keys:
        cmd += ["-o", "tls.keylog_file:" + keys]
    for f in TSHARK_FIELDS:
        cmd += ["-e", f]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    rows = []
    for line in out.splitlines():
        cols = line.split("\t")
        cols += [""] * (len(TSHARK_FIELDS) - len(cols))
        rows.append({k: (v.split("|") if v else []) for k, v in zip(TSHARK_FIELDS, cols)})
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("pcap")
    ap.add_argument("--keys")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--server", default="1.1.1.1")
    ap.add_argument("--expect-version", help="version of the last Initial, e.g. 0x00000001")
    ap.add_argument("--expect-suite", help="ServerHello cipher suite, e.g. 0x1301")
    ap.add_argument("--expect-sni")
    ap.add_argument("--expect-alpn")
    ap.add_argument("--expect-certs", help="file: SHA-256 of each certificate, leaf first, one a line")
    ap.add_argument("--expect-retry", type=int, default=0)
    ap.add_argument("--expect-vn", type=int, default=0)
    ap.add_argument("--min-cert-datagrams", type=int, default=1,
                    help="the server's Handshake packets must fill at least this many datagrams")
    a = ap.parse_args()

    rows = tshark(a.pcap, a.keys, a.port)
    bad = []
    count = {}
    versions = []
    suites, snis, alpns, certs = [], [], [], []
    hs_datagrams = 0
    answers = closes = 0
    for r in rows:
        if r["udp.checksum.status"] != ["1"]:
            bad.append("frame %s: UDP checksum status %s" % (r["frame.number"], r["udp.checksum.status"]))
        if int(r["frame.len"][0]) > ETH_MAX:
            bad.append("frame %s: %s bytes" % (r["frame.number"], r["frame.len"][0]))
        from_server = r["ip.src"] == [a.server]
        # Version Negotiation: a long header with version 0 (RFC 9000 §17.2.1);
        # tshark gives it no packet type.
        if "0x00000000" in r["quic.version"]:
            count["vn"] = count.get("vn", 0) + 1
        for t in r["quic.long.packet_type"]:
            name = LONG_TYPES.get(t, "type" + t)
            count[name] = count.get(name, 0) + 1
        if from_server and "2" in r["quic.long.packet_type"]:
            hs_datagrams += 1
        if not from_server and "0" in r["quic.long.packet_type"]:
            versions.append(r["quic.version"][0])
        if "1" in r["dns.flags.response"] or "0" in r["http3.frame_type"]:
            answers += 1
        if CONNECTION_CLOSE & set(r["quic.frame_type"]):
            closes += 1
        hst = r["tls.handshake.type"]
        if "2" in hst:
            suites += r["tls.handshake.ciphersuite"][-1:]
        if "1" in hst:
            snis += r["tls.handshake.extensions_server_name"]
            alpns += r["tls.handshake.extensions_alpn_str"]
        for c in r["tls.handshake.certificate"]:
            der = bytes.fromhex(c.replace(":", ""))
            certs.append(hashlib.sha256(der).hexdigest())

    def want(what, got, exp):
        if exp is not None and got != exp:
            bad.append("%s: %r, expected %r" % (what, got, exp))

    last_version = versions[-1] if versions else "-"
    want("Initial version", last_version, a.expect_version)
    want("suite", suites[-1] if suites else "-", a.expect_suite)
    want("SNI", sorted(set(snis)), [a.expect_sni] if a.expect_sni else None)
    want("ALPN", sorted(set(alpns)), [a.expect_alpn] if a.expect_alpn else None)
    want("Retry packets", count.get("retry", 0), a.expect_retry)
    want("Version Negotiation packets", count.get("vn", 0), a.expect_vn)
    if count.get("initial", 0) < 2:
        bad.append("fewer than 2 Initial packets")
    if count.get("handshake", 0) < 2:
        bad.append("fewer than 2 Handshake packets")
    if answers < 1:
        bad.append("no DNS response or HTTP/3 DATA frame")
    if closes < 1:
        bad.append("no CONNECTION_CLOSE")
    if hs_datagrams < a.min_cert_datagrams:
        bad.append("server's Handshake packets in %d datagrams, expected at least %d"
                   % (hs_datagrams, a.min_cert_datagrams))
    if a.expect_certs:
        with open(a.expect_certs) as f:
            want("certificates", certs, f.read().split())
    if bad:
        for b in bad:
            print("qcheck: %s: %s" % (a.pcap, b), file=sys.stderr)
        return 1
    pk = ",".join("%s=%d" % (k, count[k]) for k in sorted(count))
    print("\t".join([pk, last_version, suites[-1] if suites else "-",
                     ",".join(sorted(set(snis))) or "-", ",".join(sorted(set(alpns))) or "-",
                     str(hs_datagrams), ",".join(certs) or "-"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
