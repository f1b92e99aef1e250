#!/usr/bin/python3
"""ctlogd.py - Certificate Transparency logs for the tests of --ct-follow
(issue 31): several logs served from one process on 127.0.0.1, each under
its own path prefix, by the RFC 6962 API (section 4: get-sth,
get-sth-consistency, get-entries) or the static-ct-api (C2SP static-ct-api
and tlog-tiles: checkpoint, hash tiles, data tiles, issuer/ files), over
real Merkle trees of real certificates, healthy or faulty.

    ctlogd.py --entries CT.json [options] LOG...
    ctlogd.py --entries CT.json --dump-static DIR [options] LOG
    ctlogd.py --serve-dir NAME=DIR [options] [--entries CT.json LOG...]
    ctlogd.py --entries CT.json --selftest [--mkct-dir D]

CT.json: get-entries answers (tests/bench/mkct writes them, or any
{"entries": [{leaf_input, extra_data}...]} answers one after another).

LOG: NAME=KIND[,OPTION=VALUE...], KIND rfc6962 or static; served under
http://127.0.0.1:PORT/NAME/.  Options:
  size=N1/N2/...  the tree sizes the log's heads publish, in turn (default:
                  every entry); every=K: each size is served for K head
                  requests (get-sth or checkpoint), then the next (growth;
                  the last stays; a smaller size after a larger one is a
                  tree that shrank).  Entries and tiles past the largest size
                  a head has shown (the first size from the start) are not
                  served (400 / 404).
  page=N          get-entries answers at most N entries (default --page).
  state=S         usable (default), pending, retired, readonly: the state
                  written in log_list.json (pending and retired logs are
                  served too, so a request to one shows in the log).
  fault=F         fork: heads from the second size on are of tree B, in
                    which entry at= (default 0) differs (its timestamp + 1
                    ms) - the consistency proof between heads A and B
                    cannot verify; forksame: the same, the second size equal
                    to the first (same size, another root).
                  outside: get-entries and the data tile serve entry at=
                    (default the middle) with its timestamp + 1 ms, not the
                    entry hashed into the signed tree.
                  badsig: heads signed by another key than the listed one.
                  die: the at=-th (default 2nd) get-entries request or data
                    tile fetch gets its headers and half its body, then the
                    connection is closed; later ones are served.
                  ratelimit: the first count= (1) requests of each kind
                    (head, entries, consistency, tile, issuer) get 429 with
                    Retry-After: after= (2) seconds.
Options of the program:
  --port N (0: pick one), --port-file F (written once every log is ready:
  the port), --request-log F (one JSON object a line per request: t
  (CLOCK_MONOTONIC seconds, as time.monotonic() and the kernel give every
  process; when the request came in), log, path, status (an int, or
  "cut"), bytes), --list-dir D
  (log_list.json, Chrome's v3 format, and log_list.txt, the text form),
  --keys-dir D (the logs' keys, kept so a restarted server is the same
  logs), --page N (default 256), --stats-file F (at exit: JSON with the
  server's CPU seconds to ready and in all, and requests served),
  --note-keyid logid|spki (the checkpoint key id hashes the RFC 6962 LogID,
  as C2SP static-ct-api says (default), or the key's DER SPKI).
--dump-static DIR writes one static log (its last size) as files: checkpoint,
tile/..., tile/data/..., issuer/..., and ctlogd-log.json (its name, key and
origin), so any HTTP server can serve it; --serve-dir NAME=DIR serves such a
directory under /NAME/ beside the other logs (--entries then optional),
keep-alive, in the request log and the lists like the others.
--selftest checks this server with code written apart from the server's:
naive Merkle tree hashes, the RFC 9162 2.1.4.2 consistency check, the
signatures (python cryptography and openssl(1)), the tiles parsed back, and
each fault seen as a client would.
"""
import argparse
import base64
import hashlib
import json
import mmap
import os
import re
import resource
import signal
import socket
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

HEAD_TS0 = 1767225600000          # 2026-01-01T00:00:00Z, ms: the first head's timestamp
TILE = 256
ORIGIN_HOST = "ctlogd.test"       # static logs' submission prefix: https://ctlogd.test/NAME/


def sha256(b):
    return hashlib.sha256(b).digest()


def b64(b):
    return base64.b64encode(b).decode()


# ---- entries ------------------------------------------------------------------

ENTRY_RE = re.compile(rb'\{"leaf_input":"([A-Za-z0-9+/=]*)","extra_data":"([A-Za-z0-9+/=]*)"\}')


class Entries:
    """The entries of CT.json, by index: the compact JSON object of each as
    bytes slices of one buffer (the file itself, mapped, when it is in
    mkct's compact form), so a million entries cost their offsets only."""

    def __init__(self, path):
        with open(path, "rb") as f:
            self.buf = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        starts, ends = [], []
        for m in ENTRY_RE.finditer(self.buf):
            starts.append(m.start())
            ends.append(m.end())
        # the compact pattern must have seen every entry: as many as the
        # "leaf_input" keys in the file, else the file is read as JSON
        if not starts or len(re.findall(rb'"leaf_input"', self.buf)) != len(starts):
            self._reparse(path)
            return
        self.starts, self.ends = starts, ends

    def _reparse(self, path):
        text = open(path, encoding="utf-8").read()
        dec, pos, objs = json.JSONDecoder(), 0, []
        while True:
            while pos < len(text) and text[pos] in " \t\r\n,":
                pos += 1
            if pos >= len(text):
                break
            v, pos = dec.raw_decode(text, pos)
            objs.extend(v["entries"] if isinstance(v, dict) and "entries" in v else [v])
        parts, starts, ends, off = [], [], [], 0
        for o in objs:
            b = ('{"leaf_input":"%s","extra_data":"%s"}' % (o["leaf_input"], o["extra_data"])).encode()
            starts.append(off)
            ends.append(off + len(b))
            parts.append(b)
            off += len(b) + 1
        self.buf = b"\n".join(parts)
        self.starts, self.ends = starts, ends

    def __len__(self):
        return len(self.starts)

    def json(self, i):
        return self.buf[self.starts[i]:self.ends[i]]

    def fields(self, i):
        m = ENTRY_RE.match(self.buf, self.starts[i])
        return base64.b64decode(m.group(1)), base64.b64decode(m.group(2))

    def leaf_inputs(self):
        for i in range(len(self)):
            m = ENTRY_RE.match(self.buf, self.starts[i])
            yield base64.b64decode(m.group(1))


def u24(b, off):
    return int.from_bytes(b[off:off + 3], "big")


def split_leaf(leaf):
    """A MerkleTreeLeaf (RFC 6962 3.4): (timestamp, entry type, the
    TimestampedEntry up to its extensions)."""
    if len(leaf) < 12 or leaf[0] != 0 or leaf[1] != 0:
        raise ValueError("not a v1 timestamped_entry MerkleTreeLeaf")
    te = leaf[2:]
    ts = int.from_bytes(te[0:8], "big")
    etype = int.from_bytes(te[8:10], "big")
    if etype == 0:
        end = 13 + u24(te, 10)
    elif etype == 1:
        end = 45 + u24(te, 42)
    else:
        raise ValueError("entry type %d" % etype)
    return ts, etype, te[:end]


def chain_certs(extra, etype):
    """extra_data (RFC 6962 4.6): (pre_certificate or None, [chain certs])."""
    off, pre = 0, None
    if etype == 1:
        n = u24(extra, 0)
        pre = extra[3:3 + n]
        off = 3 + n
    total = u24(extra, off)
    off += 3
    end, certs = off + total, []
    while off < end:
        n = u24(extra, off)
        certs.append(extra[off + 3:off + 3 + n])
        off += 3 + n
    return pre, certs


def bump_timestamp(leaf):
    """The same leaf 1 ms later: an entry that parses and judges the same
    but hashes differently (a forked or substituted entry)."""
    ts = int.from_bytes(leaf[2:10], "big") + 1
    return leaf[:2] + ts.to_bytes(8, "big") + leaf[10:]


def static_te(leaf, index):
    """The TimestampedEntry of a static-ct-api log: the extensions hold one
    leaf_index extension (type 0, 5 bytes): 8 bytes in all."""
    _, _, body = split_leaf(leaf)
    return body + b"\x00\x08\x00\x00\x05" + index.to_bytes(5, "big")


# ---- Merkle trees (RFC 6962 section 2.1) ------------------------------------------

class Tree:
    """Every perfect subtree's hash, level by level (level k: the roots of
    the subtrees of 2^k leaves), each level one bytes of 32-byte hashes:
    built once bottom-up, so roots and proofs of any size cost O(log n)."""

    def __init__(self, leaf_hashes):
        lv = b"".join(leaf_hashes)
        self.n = len(lv) // 32
        self.levels = [lv]
        while len(lv) >= 64:
            h = hashlib.sha256
            lv = b"".join(h(b"\x01" + lv[i:i + 64]).digest() for i in range(0, len(lv) - 63, 64))
            self.levels.append(lv)

    def node(self, level, index):
        return self.levels[level][32 * index:32 * index + 32]

    def leaf(self, i):
        return self.node(0, i)

    def mth(self, a, b):
        """MTH(D[a:b]); a is a multiple of the largest power of two < b - a,
        as every range the RFC's recursions reach is."""
        n = b - a
        if n == 0:
            return sha256(b"")
        if n & (n - 1) == 0 and a % n == 0:
            return self.node(n.bit_length() - 1, a // n)
        k = 1 << ((n - 1).bit_length() - 1)
        return sha256(b"\x01" + self.mth(a, a + k) + self.mth(a + k, b))

    def root(self, n):
        return self.mth(0, n)

    def consistency(self, m, n):
        """PROOF(m, D[n]) (RFC 6962 2.1.2)."""
        if m <= 0 or m >= n:
            return []
        return self._subproof(m, 0, n, True)

    def _subproof(self, m, a, b, whole):
        n = b - a
        if m == n:
            return [] if whole else [self.mth(a, b)]
        k = 1 << ((n - 1).bit_length() - 1)
        if m <= k:
            return self._subproof(m, a, a + k, whole) + [self.mth(a + k, b)]
        return self._subproof(m - k, a + k, b, False) + [self.mth(a, a + k)]


# ---- keys and signatures ----------------------------------------------------------

def load_key(keys_dir, name):
    """The log's P-256 key, from keys_dir/NAME.pem when there is one."""
    path = os.path.join(keys_dir, name + ".pem") if keys_dir else None
    if path and os.path.exists(path):
        return serialization.load_pem_private_key(open(path, "rb").read(), None)
    k = ec.generate_private_key(ec.SECP256R1())
    if path:
        os.makedirs(keys_dir, exist_ok=True)
        tmp = path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()))
        os.replace(tmp, path)
    return k


def spki(key):
    return key.public_key().public_bytes(serialization.Encoding.DER,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)


def tree_head_tbs(ts, size, root):
    """TreeHeadSignature (RFC 6962 3.5): v1, tree_hash, timestamp, size, root."""
    return struct.pack(">BBQQ", 0, 1, ts, size) + root


def digitally_signed(key, data):
    """DigitallySigned (RFC 5246 4.7): sha256 (4), ecdsa (3), the DER signature."""
    sig = key.sign(data, ec.ECDSA(hashes.SHA256()))
    return struct.pack(">BBH", 4, 3, len(sig)) + sig


def note_keyid(origin, key_der, how):
    """C2SP static-ct-api: SHA-256(name || 0x0A || 0x05 || LogID)[:4]."""
    ident = sha256(key_der) if how == "logid" else key_der
    return sha256(origin.encode() + b"\n\x05" + ident)[:4]


# ---- the logs ----------------------------------------------------------------------

class Log:
    def __init__(self, name, kind, opts, entries, args):
        self.name, self.kind, self.opts = name, kind, opts
        self.entries = entries
        self.fault = opts.get("fault", "")
        self.state = opts.get("state", "usable")
        self.page = int(opts.get("page", args.page))
        n = len(entries)
        sizes = [int(s) for s in opts["size"].split("/")] if "size" in opts else [n]
        if self.fault == "forksame":
            sizes = [sizes[0], sizes[0]]
        elif self.fault == "fork" and len(sizes) < 2:
            sizes = [n // 2, n]
        for s in sizes:
            if not 0 < s <= n:
                raise SystemExit("ctlogd: %s: size %d: the entries are 1..%d" % (name, s, n))
        self.sizes = sizes
        self.every = int(opts.get("every", 1))
        self.at = int(opts["at"]) if "at" in opts else (2 if self.fault == "die" else
                                                         0 if self.fault.startswith("fork") else
                                                         sizes[0] // 2)
        self.limit_count = int(opts.get("count", 1))
        self.retry_after = int(opts.get("after", 2))
        self.key = load_key(args.keys_dir, name)
        self.key_der = spki(self.key)
        self.log_id = sha256(self.key_der)
        self.sign_key = (load_key(args.keys_dir, name + "-other") if self.fault == "badsig"
                         else self.key)
        self.origin = "%s/%s" % (ORIGIN_HOST, name)
        self.keyid_how = args.note_keyid
        self.lock = threading.Lock()
        self.head_requests = 0
        self.cur_step = 0
        # the largest size a head has shown; the first size counts as shown
        # before this process started (a log restarted still serves its tree)
        self.published = sizes[0]
        self.kind_counts = {}
        self.issuers = {}
        self.tile_cache = {}
        # leaf hashes: tree A, and tree B for a fork (entry `at` bumped)
        leaves = []
        for i, leaf in enumerate(entries.leaf_inputs()):
            if kind == "static":
                leaf = b"\x00\x00" + static_te(leaf, i)
            leaves.append(sha256(b"\x00" + leaf))
        self.tree_a = Tree(leaves)
        if kind == "static":
            # every issuer is served from the start, not once a data tile
            # naming it has been (a restarted log has them all)
            for i in range(len(entries)):
                leaf, extra = entries.fields(i)
                for c in chain_certs(extra, split_leaf(leaf)[1])[1]:
                    self.issuers.setdefault(sha256(c).hex(), c)
        self.tree_b = None
        if self.fault in ("fork", "forksame"):
            if self.at >= sizes[0]:
                raise SystemExit("ctlogd: %s: at=%d must be below the first size" % (name, self.at))
            leaves[self.at] = sha256(b"\x00" + self._leaf(self.at, bumped=True))
            self.tree_b = Tree(leaves)

    # the MerkleTreeLeaf of entry i as tree B (bumped) or A has it
    def _leaf(self, i, bumped=False):
        leaf, _ = self.entries.fields(i)
        if bumped:
            leaf = bump_timestamp(leaf)
        if self.kind == "static":
            leaf = b"\x00\x00" + static_te(leaf, i)
        return leaf

    def step(self):
        """The step of the last head served (0 before any): the tree that
        entries, tiles and proofs come from."""
        return self.cur_step

    def next_step(self):
        return min(self.head_requests // self.every, len(self.sizes) - 1)

    def tree(self, step=None):
        step = self.step() if step is None else step
        return self.tree_b if self.tree_b is not None and step >= 1 else self.tree_a

    def bumped(self, i, step=None):
        """Is entry i served changed from tree A's: tree B's entry, or the
        entry an `outside` log shows in place of the one it signed?"""
        if i != self.at:
            return False
        if self.fault == "outside":
            return True
        return self.tree_b is not None and (self.step() if step is None else step) >= 1

    def head(self):
        """(size, timestamp, root, DigitallySigned) of the next head: a head
        request moves the log on."""
        with self.lock:
            step = self.next_step()
            self.head_requests += 1
            self.cur_step = step
            size = self.sizes[step]
            self.published = max(self.published, size)
        root = self.tree(step).root(size)
        ts = HEAD_TS0 + 60000 * step
        return size, ts, root, digitally_signed(self.sign_key, tree_head_tbs(ts, size, root))

    def sth_json(self):
        size, ts, root, sig = self.head()
        return json.dumps({"tree_size": size, "timestamp": ts, "sha256_root_hash": b64(root),
                           "tree_head_signature": b64(sig)}).encode()

    def checkpoint(self, head=None):
        size, ts, root, sig = head or self.head()
        text = "%s\n%d\n%s\n" % (self.origin, size, b64(root))
        keyid = note_keyid(self.origin, self.key_der, self.keyid_how)
        line = "\u2014 %s %s\n" % (self.origin, b64(keyid + struct.pack(">Q", ts) + sig))
        return (text + "\n" + line).encode()

    def entries_json(self, start, end):
        with self.lock:
            step = self.step()
        parts = []
        for i in range(start, end + 1):
            if self.bumped(i, step):
                leaf, extra = self.entries.fields(i)
                parts.append(json.dumps({"leaf_input": b64(bump_timestamp(leaf)),
                                         "extra_data": b64(extra)}).encode())
            else:
                parts.append(self.entries.json(i))
        return b'{"entries":[' + b",".join(parts) + b"]}"

    def tile_leaf(self, i, step):
        leaf, extra = self.entries.fields(i)
        _, etype, _ = split_leaf(leaf)
        pre, certs = chain_certs(extra, etype)
        if self.bumped(i, step):
            leaf = bump_timestamp(leaf)
        out = [static_te(leaf, i)]
        if etype == 1:
            out.append(len(pre).to_bytes(3, "big") + pre)
        fps = []
        for c in certs:
            fp = sha256(c)
            self.issuers.setdefault(fp.hex(), c)
            fps.append(fp)
        out.append(struct.pack(">H", 32 * len(fps)) + b"".join(fps))
        return b"".join(out)

    def data_tile(self, n, width, step=None):
        step = self.step() if step is None else step
        return b"".join(self.tile_leaf(i, step) for i in range(TILE * n, TILE * n + width))

    def hash_tile(self, level, n, width, step=None):
        lv = self.tree(step).levels[8 * level] if 8 * level < len(self.tree(step).levels) else b""
        return lv[32 * TILE * n:32 * (TILE * n + width)]

    def tile_available(self, level, n, width):
        """Has a published head's tree the nodes [256n, 256n + width) at
        tree level 8 * level (level -1: data, as level 0)?"""
        have = self.published >> (8 * max(level, 0))
        return 0 < width <= TILE and TILE * n + width <= have


def tile_path(level, n, width):
    parts = "%03d" % (n % 1000)
    n //= 1000
    while n:
        parts = "x%03d/" % (n % 1000) + parts
        n //= 1000
    lvl = "data" if level < 0 else str(level)
    return "tile/%s/%s%s" % (lvl, parts, ".p/%d" % width if width < TILE else "")


TILE_RE = re.compile(r"^tile/(data|[0-5])/((?:x\d{3}/)*\d{3})(?:\.p/(\d{1,3}))?$")


def parse_tile_path(p):
    m = TILE_RE.match(p)
    if not m:
        return None
    level = -1 if m.group(1) == "data" else int(m.group(1))
    n = 0
    for part in m.group(2).split("/"):
        n = n * 1000 + int(part.lstrip("x"))
    width = int(m.group(3)) if m.group(3) else TILE
    if m.group(3) and not 1 <= width <= 255:
        return None
    return level, n, width


class DirLog:
    """A static log dumped by --dump-static, served from its files."""

    kind = "static"
    state = "usable"

    def __init__(self, name, d):
        meta = json.load(open(os.path.join(d, "ctlogd-log.json")))
        self.name, self.dir = name, os.path.realpath(d)
        self.key_der = base64.b64decode(meta["key"])
        self.log_id = sha256(self.key_der)
        self.origin = meta["origin"]

    def file(self, rel):
        p = os.path.realpath(os.path.join(self.dir, rel))
        if not p.startswith(self.dir + "/") or not os.path.isfile(p):
            return None
        with open(p, "rb") as f:
            return f.read()


# ---- HTTP ---------------------------------------------------------------------------

class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr, logs, reqlog):
        super().__init__(addr, Handler)
        self.logs = logs
        self.reqlog = reqlog
        self.reqlog_lock = threading.Lock()
        self.requests = 0


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # headers and body go out in two writes: without TCP_NODELAY the second
    # waits for the client's delayed ACK (40 ms a request on a kept-alive
    # connection)
    disable_nagle_algorithm = True

    def log_message(self, *a):
        pass

    def record(self, log, status, n):
        s = self.server
        with s.reqlog_lock:
            s.requests += 1
            if s.reqlog:
                s.reqlog.write(json.dumps({"t": round(self.t0, 6), "log": log,
                                           "path": self.path, "status": status, "bytes": n}) + "\n")
                s.reqlog.flush()

    def send(self, log, status, body, ctype="application/json", extra=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)
        self.record(log, status, len(body))

    def cut(self, log, body, ctype):
        """Headers promising the whole body, half of it, then the end."""
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[:len(body) // 2])
        self.wfile.flush()
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.record(log, "cut", len(body) // 2)

    def do_GET(self):
        self.t0 = time.monotonic()      # when the request came, not when it was answered
        try:
            self.route()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def route(self):
        u = urlsplit(self.path)
        parts = u.path.lstrip("/").split("/", 1)
        log = self.server.logs.get(parts[0])
        if log is None or len(parts) < 2:
            return self.send(parts[0], 404, b"no such log\n", "text/plain")
        rest = parts[1]
        if isinstance(log, DirLog):
            body = log.file(rest)
            if body is None:
                return self.send(log.name, 404, b"not found\n", "text/plain")
            ctype = ("text/plain; charset=utf-8" if rest == "checkpoint" else
                     "application/pkix-cert" if rest.startswith("issuer/") else
                     "application/octet-stream")
            return self.send(log.name, 200, body, ctype)
        q = parse_qs(u.query)
        if log.kind == "rfc6962":
            kinds = {"ct/v1/get-sth": "head", "ct/v1/get-entries": "entries",
                     "ct/v1/get-sth-consistency": "consistency", "ct/v1/get-roots": "roots"}
        else:
            kinds = {"checkpoint": "head"}
        kind = kinds.get(rest)
        if kind is None and log.kind == "static":
            kind = ("entries" if rest.startswith("tile/data/") else
                    "tile" if rest.startswith("tile/") else
                    "issuer" if rest.startswith("issuer/") else None)
        if kind is None:
            return self.send(log.name, 404, b"not found\n", "text/plain")
        with log.lock:
            count = log.kind_counts.get(kind, 0) + 1
            log.kind_counts[kind] = count
        if log.fault == "ratelimit" and count <= log.limit_count:
            return self.send(log.name, 429, b"slow down\n", "text/plain",
                             [("Retry-After", str(log.retry_after))])
        die = log.fault == "die" and kind == "entries" and count == log.at
        if log.kind == "rfc6962":
            return self.rfc6962(log, kind, q, die)
        return self.static(log, kind, rest, die)

    def rfc6962(self, log, kind, q, die):
        def num(k):
            try:
                return int(q[k][0])
            except (KeyError, ValueError, IndexError):
                return None
        if kind == "head":
            return self.send(log.name, 200, log.sth_json())
        if kind == "roots":
            return self.send(log.name, 200, b'{"certificates":[]}')
        if kind == "consistency":
            first, second = num("first"), num("second")
            if first is None or second is None or not 0 <= first <= second <= log.published:
                return self.send(log.name, 400, b'{"error":"bad first/second"}')
            proof = log.tree().consistency(first, second)
            return self.send(log.name, 200, json.dumps({"consistency": [b64(p) for p in proof]}).encode())
        start, end = num("start"), num("end")
        if start is None or end is None or start < 0 or end < start or start >= log.published:
            return self.send(log.name, 400, b'{"error":"bad start/end"}')
        end = min(end, start + log.page - 1, log.published - 1)
        body = log.entries_json(start, end)
        if die:
            return self.cut(log.name, body, "application/json")
        return self.send(log.name, 200, body)

    def static(self, log, kind, rest, die):
        if kind == "head":
            return self.send(log.name, 200, log.checkpoint(), "text/plain; charset=utf-8")
        if kind == "issuer":
            der = log.issuers.get(rest[len("issuer/"):])
            if der is None:
                return self.send(log.name, 404, b"no such issuer\n", "text/plain")
            return self.send(log.name, 200, der, "application/pkix-cert")
        t = parse_tile_path(rest)
        if t is None or not log.tile_available(*t):
            return self.send(log.name, 404, b"no such tile\n", "text/plain")
        level, n, width = t
        with log.lock:
            step = log.step()
        key = (level, n, width, log.tree(step) is log.tree_b, log.fault == "outside")
        body = log.tile_cache.get(key)
        if body is None:
            body = log.data_tile(n, width, step) if level < 0 else log.hash_tile(level, n, width, step)
            if len(log.entries) <= 200000:
                log.tile_cache[key] = body
        if die:
            return self.cut(log.name, body, "application/octet-stream")
        return self.send(log.name, 200, body, "application/octet-stream")


# ---- the log list --------------------------------------------------------------------

def write_lists(d, logs, port):
    os.makedirs(d, exist_ok=True)
    ts = "2026-01-01T00:00:00Z"
    ops = {"rfc6962": {"name": "ctlogd RFC 6962", "email": ["rfc6962@ctlogd.test"], "logs": [],
                       "tiled_logs": []},
           "static": {"name": "ctlogd static", "email": ["static@ctlogd.test"], "logs": [],
                      "tiled_logs": []}}
    text = ["# written by tests/ctlog/ctlogd.py: the usable logs of http://127.0.0.1:%d/" % port]
    for log in logs.values():
        url = "http://127.0.0.1:%d/%s/" % (port, log.name)
        entry = {"description": log.name, "log_id": b64(log.log_id), "key": b64(log.key_der),
                 "mmd": 86400, "state": {log.state: {"timestamp": ts}},
                 "temporal_interval": {"start_inclusive": "2024-01-01T00:00:00Z",
                                       "end_exclusive": "2030-01-01T00:00:00Z"}}
        if log.kind == "rfc6962":
            entry["url"] = url
            ops["rfc6962"]["logs"].append(entry)
        else:
            entry["submission_url"] = "https://%s/" % log.origin
            entry["monitoring_url"] = url
            ops["static"]["tiled_logs"].append(entry)
        if log.state in ("pending", "retired", "rejected"):  # Chrome's list only
            text.append("# %s: %s, not listed" % (log.name, log.state))
        elif log.kind == "rfc6962":
            text.append("rfc6962 %s %s %s" % (url, b64(log.key_der), log.name))
        else:
            text.append("static %s %s %s %s" % (url, b64(log.key_der), log.origin, log.name))
    lst = {"version": "1.0", "log_list_timestamp": ts, "operators": list(ops.values())}
    for name, body in (("log_list.json", json.dumps(lst, indent=2) + "\n"),
                       ("log_list.txt", "\n".join(text) + "\n")):
        tmp = os.path.join(d, name + ".tmp")
        open(tmp, "w").write(body)
        os.replace(tmp, os.path.join(d, name))


def parse_log_spec(s):
    name, _, rest = s.partition("=")
    fields = rest.split(",")
    kind = fields[0]
    if not re.match(r"^[A-Za-z0-9_.-]+$", name) or kind not in ("rfc6962", "static"):
        raise SystemExit("ctlogd: %s: NAME=rfc6962|static[,OPTION=VALUE...]" % s)
    opts = {}
    for f in fields[1:]:
        k, eq, v = f.partition("=")
        if not eq or k not in ("size", "every", "page", "state", "fault", "at", "count", "after"):
            raise SystemExit("ctlogd: %s: unknown option %s" % (s, f))
        opts[k] = v
    if opts.get("fault", "") not in ("", "fork", "forksame", "outside", "badsig", "die", "ratelimit"):
        raise SystemExit("ctlogd: %s: unknown fault %s" % (s, opts["fault"]))
    return name, kind, opts


def dump_static(log, d):
    """The log at its last size as files under d."""
    size = log.sizes[-1]
    log.head_requests = log.every * (len(log.sizes) - 1)
    head = log.head()   # the last step's
    step = log.step()

    def put(rel, body):
        p = os.path.join(d, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(body)
    put("checkpoint", log.checkpoint(head))
    put("ctlogd-log.json", json.dumps({"name": log.name, "origin": log.origin,
                                       "key": b64(log.key_der)}).encode())
    full, part = divmod(size, TILE)
    for n in range(full + (1 if part else 0)):
        w = TILE if n < full else part
        put(tile_path(-1, n, w), log.data_tile(n, w, step))
    level = 0
    while size >> (8 * level):
        have = size >> (8 * level)
        full, part = divmod(have, TILE)
        for n in range(full + (1 if part else 0)):
            w = TILE if n < full else part
            put(tile_path(level, n, w), log.hash_tile(level, n, w, step))
        level += 1
    for fp, der in log.issuers.items():
        put("issuer/" + fp, der)
    return size


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--entries")
    ap.add_argument("--serve-dir", action="append", default=[])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--request-log")
    ap.add_argument("--list-dir")
    ap.add_argument("--keys-dir")
    ap.add_argument("--stats-file")
    ap.add_argument("--page", type=int, default=256)
    ap.add_argument("--note-keyid", choices=("logid", "spki"), default="logid")
    ap.add_argument("--dump-static")
    ap.add_argument("--selftest", action="store_true")
    ap.add_argument("logs", nargs="*")
    args = ap.parse_args()
    if not args.entries and (args.logs or args.selftest or args.dump_static):
        raise SystemExit("ctlogd: --entries CT.json is needed")
    entries = Entries(args.entries) if args.entries else None
    if args.selftest:
        import ctlogd_selftest
        sys.exit(ctlogd_selftest.run(args, entries))
    logs = {}
    for s in args.logs:
        name, kind, opts = parse_log_spec(s)
        logs[name] = Log(name, kind, opts, entries, args)
    for s in args.serve_dir:
        name, eq, d = s.partition("=")
        if not eq or name in logs:
            raise SystemExit("ctlogd: --serve-dir %s: NAME=DIR, a name of its own" % s)
        logs[name] = DirLog(name, d)
    if not logs:
        raise SystemExit("ctlogd: no LOG given")
    if args.dump_static:
        log = next(iter(logs.values()))
        if log.kind != "static":
            raise SystemExit("ctlogd: --dump-static: %s is not a static log" % log.name)
        size = dump_static(log, args.dump_static)
        if args.list_dir:
            write_lists(args.list_dir, logs, args.port)
        print("ctlogd: %s: %d entries written to %s" % (log.name, size, args.dump_static))
        return 0
    reqlog = open(args.request_log, "a") if args.request_log else None
    srv = Server(("127.0.0.1", args.port), logs, reqlog)
    port = srv.server_address[1]
    if args.list_dir:
        write_lists(args.list_dir, logs, port)
    ready_cpu = cpu()

    def stop(*_):
        threading.Thread(target=srv.shutdown, daemon=True).start()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if args.port_file:
        tmp = args.port_file + ".tmp"
        open(tmp, "w").write("%d\n" % port)
        os.replace(tmp, args.port_file)
    print("ctlogd: %d logs on http://127.0.0.1:%d/ (%s)" % (len(logs), port, " ".join(logs)),
          flush=True)
    srv.serve_forever(poll_interval=0.2)
    if args.stats_file:
        json.dump({"cpu_ready_s": round(ready_cpu, 3), "cpu_total_s": round(cpu(), 3),
                   "cpu_serving_s": round(cpu() - ready_cpu, 3), "requests": srv.requests},
                  open(args.stats_file, "w"))
    return 0


def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    sys.exit(main())
