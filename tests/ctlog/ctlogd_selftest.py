"""ctlogd.py --selftest: the server checked from outside, as a client sees it,
with code that shares nothing with the server's but the entries file: a
naive recursive MTH (RFC 6962 2.1), the RFC 9162 2.1.4.2 consistency check,
signatures checked with python cryptography and openssl(1), TileLeafs
parsed back, and every fault looked at.  Prints "ok ..." / "not ok ..."
lines and "selftest: N passed, M failed"; exit 1 when one failed."""
import base64
import hashlib
import http.client
import json
import os
import random
import re
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

H = lambda b: hashlib.sha256(b).digest()
results = [0, 0]


def check(name, ok, detail=""):
    results[0 if ok else 1] += 1
    print(("ok " if ok else "not ok ") + "selftest " + name + ("" if ok else " " + str(detail)),
          flush=True)


# ---- the independent Merkle code -----------------------------------------------------

class Naive:
    """MTH straight from RFC 6962 2.1, memoised by range."""

    def __init__(self, leaves):
        self.leaves, self.memo = leaves, {}

    def mth(self, a, b):
        if b - a == 0:
            return H(b"")
        if b - a == 1:
            return self.leaves[a]
        key = (a, b)
        if key not in self.memo:
            k = 1
            while k * 2 < b - a:
                k *= 2
            self.memo[key] = H(b"\x01" + self.mth(a, a + k) + self.mth(a + k, b))
        return self.memo[key]


def verify_consistency(first, second, first_hash, second_root, path):
    """RFC 9162 2.1.4.2."""
    if first == second:
        return not path and first_hash == second_root
    if first == 0 or first > second or not path:
        return False
    path = list(path)
    if first & (first - 1) == 0:
        path.insert(0, first_hash)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = H(b"\x01" + c + fr)
            sr = H(b"\x01" + c + sr)
            if not fn & 1:
                while True:
                    fn >>= 1
                    sn >>= 1
                    if fn & 1 or fn == 0:
                        break
        else:
            sr = H(b"\x01" + sr + c)
        fn >>= 1
        sn >>= 1
    return fr == first_hash and sr == second_root and sn == 0


# ---- a client ------------------------------------------------------------------------

def get(url):
    """(status, headers, body); a cut body raises IncompleteRead."""
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def sth_verify(pub, sth):
    tbs = struct.pack(">BBQQ", 0, 1, sth["timestamp"], sth["tree_size"]) + \
        base64.b64decode(sth["sha256_root_hash"])
    return ds_verify(pub, tbs, base64.b64decode(sth["tree_head_signature"]))


def ds_verify(pub, tbs, ds):
    if len(ds) < 4 or ds[0] != 4 or ds[1] != 3 or struct.unpack(">H", ds[2:4])[0] != len(ds) - 4:
        return False
    try:
        pub.verify(ds[4:], tbs, ec.ECDSA(hashes.SHA256()))
        return True
    except InvalidSignature:
        return False


def parse_checkpoint(body, origin, key_der, pub):
    """(size, root, ok) of a checkpoint: the C2SP signed-note form, the key
    id over the LogID, the RFC6962NoteSignature checked."""
    text, sep, sigs = body.decode().partition("\n\n")
    lines = text.split("\n")
    if not sep or len(lines) != 3 or lines[0] != origin:
        return None, None, False
    size, root = int(lines[1]), base64.b64decode(lines[2])
    want_id = H(origin.encode() + b"\n\x05" + H(key_der))[:4]
    ok = False
    for line in sigs.strip("\n").split("\n"):
        m = re.match("^\u2014 (\\S+) (\\S+)$", line)
        if not m or m.group(1) != origin:
            continue
        raw = base64.b64decode(m.group(2))
        if raw[:4] != want_id:
            continue
        ts = struct.unpack(">Q", raw[4:12])[0]
        ok = ds_verify(pub, struct.pack(">BBQQ", 0, 1, ts, size) + root, raw[12:])
    return size, root, ok


def leaf_hash_of_input(leaf_input):
    return H(b"\x00" + leaf_input)


def parse_tile_leaves(data):
    """TileLeafs: [(merkle leaf bytes, leaf_index, pre_cert, [fingerprints])]."""
    out, off = [], 0
    while off < len(data):
        start = off
        etype = struct.unpack(">H", data[off + 8:off + 10])[0]
        off += 10
        if etype == 1:
            off += 32
        n = int.from_bytes(data[off:off + 3], "big")
        off += 3 + n
        elen = struct.unpack(">H", data[off:off + 2])[0]
        ext = data[off + 2:off + 2 + elen]
        off += 2 + elen
        te = data[start:off]
        idx = None
        if len(ext) == 8 and ext[0] == 0 and ext[1:3] == b"\x00\x05":
            idx = int.from_bytes(ext[3:8], "big")
        pre = None
        if etype == 1:
            n = int.from_bytes(data[off:off + 3], "big")
            pre = data[off + 3:off + 3 + n]
            off += 3 + n
        n = struct.unpack(">H", data[off:off + 2])[0]
        fps = [data[off + 2 + i:off + 34 + i] for i in range(0, n, 32)]
        off += 2 + n
        out.append((b"\x00\x00" + te, idx, pre, fps))
    return out


def tpath(level, n, w):
    s = "%03d" % (n % 1000)
    n //= 1000
    while n:
        s = "x%03d/%s" % (n % 1000, s)
        n //= 1000
    return "tile/%s/%s%s" % ("data" if level < 0 else level, s, "" if w == 256 else ".p/%d" % w)


# ---- the run ---------------------------------------------------------------------------

def run(args, entries):
    here = os.path.dirname(os.path.abspath(__file__))
    n = len(entries)
    if n < 600:
        print("selftest: needs at least 600 entries (%d given)" % n)
        return 2
    tmp = tempfile.mkdtemp(prefix="ctlogd-selftest.")
    n1 = n // 3
    specs = ["good=rfc6962,page=100", "grow=rfc6962,size=%d/%d,every=1" % (n1, n),
             "fork=rfc6962,fault=fork,size=%d/%d,at=%d" % (n1, n, n1 // 2),
             "forksame=rfc6962,fault=forksame,size=%d" % n1,
             "outside=rfc6962,fault=outside,at=77", "badsig=rfc6962,fault=badsig",
             "die=rfc6962,fault=die,page=100", "ratelimit=rfc6962,fault=ratelimit,after=2",
             "pending=rfc6962,state=pending", "retired=static,state=retired",
             "static-good=static", "static-grow=static,size=%d/%d" % (n1, n),
             "static-fork=static,fault=fork,size=%d/%d,at=5" % (n1, n),
             "static-outside=static,fault=outside,at=300", "static-badsig=static,fault=badsig",
             "static-die=static,fault=die,at=1"]
    proc = subprocess.Popen([sys.executable, os.path.join(here, "ctlogd.py"), "--entries",
                             args.entries, "--port-file", tmp + "/port", "--request-log",
                             tmp + "/requests", "--list-dir", tmp, "--keys-dir", tmp + "/keys",
                             "--stats-file", tmp + "/stats"] + specs, stdout=subprocess.DEVNULL)
    try:
        for _ in range(600):
            if os.path.exists(tmp + "/port") or proc.poll() is not None:
                break
            time.sleep(0.1)
        port = int(open(tmp + "/port").read())
        base = "http://127.0.0.1:%d/" % port
        t0 = time.time()
        checks(base, tmp, entries, n, n1)
        print("# selftest checks ran in %.1f s" % (time.time() - t0))
        dump_check(args, here, tmp, base)
    finally:
        proc.terminate()
        proc.wait()
    stats = json.load(open(tmp + "/stats"))
    check("the server wrote its CPU time at exit (%s)" % stats, stats["cpu_total_s"] > 0)
    subprocess.run(["rm", "-rf", tmp])
    print("selftest: %d passed, %d failed" % tuple(results))
    return 1 if results[1] else 0


def checks(base, tmp, entries, n, n1):
    lst = json.load(open(tmp + "/log_list.json"))
    keys, states, tiled = {}, {}, {}
    for op in lst["operators"]:
        for lg in op["logs"] + op["tiled_logs"]:
            der = base64.b64decode(lg["key"])
            check("log list: %s log_id is SHA-256 of its key" % lg["description"],
                  base64.b64decode(lg["log_id"]) == H(der))
            keys[lg["description"]] = (der, serialization.load_der_public_key(der))
            states[lg["description"]] = list(lg["state"])[0]
            if "monitoring_url" in lg:
                tiled[lg["description"]] = lg["submission_url"][len("https://"):].rstrip("/")
    check("log list: pending and retired logs listed so", states["pending"] == "pending" and
          states["retired"] == "retired", states)
    txt = [l.split() for l in open(tmp + "/log_list.txt") if not l.startswith("#")]
    check("text list: every usable log, none of the others (%d lines)" % len(txt),
          sorted(l[-1] for l in txt) == sorted(k for k, v in states.items() if v == "usable"))

    # the entries as the file has them, the tree computed naively
    inputs = list(entries.leaf_inputs())
    naive = Naive([leaf_hash_of_input(li) for li in inputs])

    def sth(log):
        st, _, body = get(base + log + "/ct/v1/get-sth")
        return json.loads(body) if st == 200 else None

    def all_entries(log, size, ask=1000):
        got, start = [], 0
        while start < size:
            st, _, body = get(base + "%s/ct/v1/get-entries?start=%d&end=%d" %
                              (log, start, min(start + ask, size) - 1))
            page = json.loads(body)["entries"]
            got.extend(page)
            start += len(page)
        return got

    # good: the head, a root computed from every entry, pages clamped
    pub = keys["good"][1]
    s = sth("good")
    check("good: get-sth signature verifies (cryptography)", sth_verify(pub, s))
    check("good: tree_size %d is every entry" % s["tree_size"], s["tree_size"] == n)
    st, _, body = get(base + "good/ct/v1/get-entries?start=0&end=999")
    check("good: get-entries of 1000 clamped to the page of 100",
          st == 200 and len(json.loads(body)["entries"]) == 100)
    got = all_entries("good", n)
    check("good: get-entries gives the file's entries", [base64.b64decode(e["leaf_input"])
                                                         for e in got] == inputs)
    check("good: the naive MTH of the entries is the signed root",
          naive.mth(0, n) == base64.b64decode(s["sha256_root_hash"]))
    st, _, _ = get(base + "good/ct/v1/get-entries?start=%d&end=%d" % (n, n + 5))
    check("good: entries past the tree refused (%d)" % st, st == 400)
    # openssl(1) checks one signature on its own
    ds = base64.b64decode(s["tree_head_signature"])
    open(tmp + "/tbs", "wb").write(struct.pack(">BBQQ", 0, 1, s["timestamp"], s["tree_size"]) +
                                   base64.b64decode(s["sha256_root_hash"]))
    open(tmp + "/sig", "wb").write(ds[4:])
    open(tmp + "/pub.der", "wb").write(keys["good"][0])
    r = subprocess.run(["openssl", "dgst", "-sha256", "-verify", tmp + "/pub.der", "-keyform", "DER",
                        "-signature", tmp + "/sig", tmp + "/tbs"], capture_output=True)
    check("good: openssl dgst verifies the STH signature", r.returncode == 0, r.stdout + r.stderr)

    # consistency proofs: every m for a few n, random pairs besides
    rnd = random.Random(6962)
    pairs = [(m, k) for k in (n, 1024, 257, 16) for m in range(1, min(k, 300) + 1)]
    pairs += [tuple(sorted(rnd.sample(range(1, n + 1), 2))) for _ in range(300)]
    pairs += [(m, n) for m in (512, 1024, 2048, n - 1) if m < n]
    bad = []
    for m, k in pairs:
        st, _, body = get(base + "good/ct/v1/get-sth-consistency?first=%d&second=%d" % (m, k))
        proof = [base64.b64decode(p) for p in json.loads(body)["consistency"]]
        if not verify_consistency(m, k, naive.mth(0, m), naive.mth(0, k), proof):
            bad.append((m, k))
        elif m < k and verify_consistency(m, k, naive.mth(0, m), naive.mth(0, k - 1), proof):
            bad.append(("accepts a wrong root", m, k))
    check("good: %d consistency proofs verify by RFC 9162 2.1.4.2 (and not against a wrong root)"
          % len(pairs), not bad, bad[:5])

    # growth
    a, b = sth("grow"), sth("grow")
    st, _, body = get(base + "grow/ct/v1/get-sth-consistency?first=%d&second=%d" %
                      (a["tree_size"], b["tree_size"]))
    proof = [base64.b64decode(p) for p in json.loads(body)["consistency"]]
    check("grow: heads %d then %d, both signed, consistent" % (a["tree_size"], b["tree_size"]),
          a["tree_size"] == n1 and b["tree_size"] == n and sth_verify(keys["grow"][1], a) and
          sth_verify(keys["grow"][1], b) and
          verify_consistency(n1, n, base64.b64decode(a["sha256_root_hash"]),
                             base64.b64decode(b["sha256_root_hash"]), proof))

    # fork: the proof from head A to head B cannot verify; B is a tree of its own
    a = sth("fork")
    st0, _, _ = get(base + "fork/ct/v1/get-entries?start=%d&end=%d" % (n1, n1))
    got = all_entries("fork", n1)
    check("fork: after head A, get-entries serves tree A's entries (the file's)",
          [base64.b64decode(e["leaf_input"]) for e in got] == inputs[:n1])
    st1, _, body = get(base + "fork/ct/v1/get-sth-consistency?first=%d&second=%d" % (n1 // 3, n1))
    check("fork: after head A, proofs are tree A's",
          verify_consistency(n1 // 3, n1, naive.mth(0, n1 // 3), naive.mth(0, n1),
                             [base64.b64decode(p) for p in json.loads(body)["consistency"]]))
    b = sth("fork")
    st, _, body = get(base + "fork/ct/v1/get-sth-consistency?first=%d&second=%d" % (n1, n))
    proof = [base64.b64decode(p) for p in json.loads(body)["consistency"]]
    ra, rb = base64.b64decode(a["sha256_root_hash"]), base64.b64decode(b["sha256_root_hash"])
    check("fork: entries past head A not served before head B (%d)" % st0, st0 == 400)
    check("fork: head A is the real tree, both heads signed",
          ra == naive.mth(0, n1) and sth_verify(keys["fork"][1], a) and sth_verify(keys["fork"][1], b))
    check("fork: the consistency proof A -> B does not verify",
          not verify_consistency(n1, n, ra, rb, proof))
    got = all_entries("fork", n)
    forked = Naive([leaf_hash_of_input(base64.b64decode(e["leaf_input"])) for e in got])
    diff = [i for i, e in enumerate(got) if base64.b64decode(e["leaf_input"]) != inputs[i]]
    check("fork: tree B's entries (one differs: %s) hash to head B, and prove consistent with B's "
          "own old root" % diff, diff == [n1 // 2] and forked.mth(0, n) == rb and
          verify_consistency(n1, n, forked.mth(0, n1), rb, proof))
    a, b = sth("forksame"), sth("forksame")
    check("forksame: two signed heads of size %d with different roots" % a["tree_size"],
          a["tree_size"] == b["tree_size"] == n1 and a["sha256_root_hash"] != b["sha256_root_hash"]
          and sth_verify(keys["forksame"][1], a) and sth_verify(keys["forksame"][1], b))

    # outside: entry 77 is not the one in the signed tree
    s = sth("outside")
    got = all_entries("outside", n)
    served = Naive([leaf_hash_of_input(base64.b64decode(e["leaf_input"])) for e in got])
    diff = [i for i, e in enumerate(got) if base64.b64decode(e["leaf_input"]) != inputs[i]]
    check("outside: entry 77 alone differs, the served entries do not hash to the signed root, "
          "the file's do", diff == [77] and served.mth(0, n) != base64.b64decode(s["sha256_root_hash"])
          and naive.mth(0, n) == base64.b64decode(s["sha256_root_hash"]) and sth_verify(keys["outside"][1], s))

    s = sth("badsig")
    check("badsig: the STH does not verify with the listed key",
          not sth_verify(keys["badsig"][1], s) and naive.mth(0, n) == base64.b64decode(s["sha256_root_hash"]))

    # die: the second get-entries is cut in the middle, the third served
    get(base + "die/ct/v1/get-sth")
    st1, _, _ = get(base + "die/ct/v1/get-entries?start=0&end=99")
    cut = False
    try:
        get(base + "die/ct/v1/get-entries?start=100&end=199")
    except (http.client.IncompleteRead, ConnectionError):
        cut = True
    st3, _, body = get(base + "die/ct/v1/get-entries?start=100&end=199")
    check("die: the 2nd get-entries is cut short, the next served whole",
          st1 == 200 and cut and st3 == 200 and len(json.loads(body)["entries"]) == 100)

    # ratelimit: 429 with Retry-After 2, then served
    st1, h1, _ = get(base + "ratelimit/ct/v1/get-sth")
    st2, _, _ = get(base + "ratelimit/ct/v1/get-sth")
    check("ratelimit: 429 Retry-After: 2, then 200 (%s %s)" % (st1, st2),
          st1 == 429 and h1.get("Retry-After") == "2" and st2 == 200)

    # static logs
    def static_read(log, origin):
        der, pubk = keys[log]
        st, _, body = get(base + log + "/checkpoint")
        size, root, ok = parse_checkpoint(body, origin, der, pubk)
        return size, root, ok, body

    for log in ("static-good", "static-grow", "static-fork", "static-outside", "static-badsig"):
        origin = tiled[log]
        size, root, ok, _ = static_read(log, origin)
        if log == "static-badsig":
            check("static-badsig: the checkpoint does not verify with the listed key", not ok and size == n)
            continue
        check("%s: checkpoint (size %d) signed, key id over the LogID" % (log, size), ok)
        if log in ("static-grow", "static-fork"):
            t0 = parse_tile_leaves(get(base + log + "/" + tpath(-1, 0, 256))[2])
            check("%s: after the first checkpoint, data tile 0 is the file's entries" % log,
                  [l[0][2:2 + len(inputs[i]) - 4] for i, l in enumerate(t0)] ==
                  [inputs[i][2:-2] for i in range(256)])
            size2, root2, ok2, _ = static_read(log, origin)
            check("%s: the second checkpoint is of size %d, signed" % (log, size2), ok2 and size2 == n)
            # the proof comes from B's hash tiles: built below from the leaves
        leaves, idx_ok, fp_ok, fps_all = [], True, True, set()
        size_now = n if log in ("static-grow", "static-fork") else size
        for t in range((size_now + 255) // 256):
            w = min(256, size_now - 256 * t)
            st, _, data = get(base + log + "/" + tpath(-1, t, w))
            for j, (leaf, idx, pre, fps) in enumerate(parse_tile_leaves(data)):
                i = 256 * t + j
                leaves.append(H(b"\x00" + leaf))
                li = inputs[i]
                idx_ok &= idx == i
                # the TimestampedEntry is the file's up to its extensions
                body = li[2:]
                fp_ok &= len(fps) >= 1
                fps_all.update(fps)
                if log != "static-outside" and not (log == "static-fork" and i == 5):
                    idx_ok &= leaf[2:2 + len(body) - 2] == body[:-2]
        check("%s: data tiles: %d TileLeafs, leaf_index right, the file's entries" % (log, len(leaves)),
              len(leaves) == size_now and idx_ok and fp_ok)
        nv = Naive(leaves)
        hash0 = b""
        for t in range((size_now + 255) // 256):
            w = min(256, size_now - 256 * t)
            hash0 += get(base + log + "/" + tpath(0, t, w))[2]
        ok1, hashed = True, Naive([hash0[32 * i:32 * i + 32] for i in range(len(hash0) // 32)])
        for t in range(size_now // 65536 + (1 if (size_now >> 8) % 256 else 0)):
            w = min(256, (size_now >> 8) - 256 * t)
            tile = get(base + log + "/" + tpath(1, t, w))[2]
            ok1 &= tile == b"".join(hashed.mth(256 * k, 256 * k + 256) for k in range(256 * t, 256 * t + w))
        diff = [i for i in range(size_now) if hash0[32 * i:32 * i + 32] != leaves[i]]
        want = [300] if log == "static-outside" else []
        check("%s: level 0 hash tiles are the data tiles' leaf hashes (but at %s), level 1 the MTH "
              "of each 256" % (log, want), len(hash0) == 32 * size_now and diff == want and ok1, diff)
        if log == "static-outside":
            check("static-outside: the data tiles do not hash to the signed root, the hash tiles do",
                  nv.mth(0, n) != root and hashed.mth(0, n) == root)
        elif log in ("static-grow", "static-fork"):
            ok_old = nv.mth(0, n1) == root
            check("%s: the first checkpoint's root %s the tiles' tree of size %d" %
                  (log, "is" if ok_old else "is not", n1), ok_old == (log == "static-grow"))
            check("%s: the second checkpoint's root is the data tiles' MTH" % log, nv.mth(0, n) == root2)
        else:
            check("%s: the checkpoint's root is the naive MTH of the data tiles" % log, nv.mth(0, n) == root)
        bad = [fp.hex() for fp in fps_all if H(get(base + log + "/issuer/" + fp.hex())[2]) != fp]
        check("%s: %d issuers served, each hashing to its name" % (log, len(fps_all)), not bad, bad[:3])
    st, _, _ = get(base + "static-good/" + tpath(0, n // 256 + 1, 256))
    check("static-good: a tile past the tree: 404 (%d)" % st, st == 404)
    st, _, _ = get(base + "static-good/tile/0/x1/000")
    check("static-good: a malformed tile path: 404 (%d)" % st, st == 404)
    get(base + "static-die/checkpoint")
    cut = False
    try:
        get(base + "static-die/" + tpath(-1, 0, 256))
    except (http.client.IncompleteRead, ConnectionError):
        cut = True
    st, _, data = get(base + "static-die/" + tpath(-1, 0, 256))
    check("static-die: the first data tile cut short, then served whole",
          cut and st == 200 and len(parse_tile_leaves(data)) == 256)

    # the request log
    time.sleep(0.2)
    reqs = [json.loads(l) for l in open(tmp + "/requests")]
    check("request log: %d requests, each with its time, status and size" % len(reqs),
          len(reqs) > 1000 and all(isinstance(r["t"], float) and r["bytes"] >= 0 for r in reqs) and
          any(r["status"] == 429 and r["log"] == "ratelimit" for r in reqs) and
          sum(r["status"] == "cut" for r in reqs) == 2 and
          not any(r["log"] in ("pending", "retired") for r in reqs))


def dump_check(args, here, tmp, base):
    """--dump-static writes the files the server serves."""
    d = tmp + "/dump"
    subprocess.run([sys.executable, os.path.join(here, "ctlogd.py"), "--entries", args.entries,
                    "--keys-dir", tmp + "/keys", "--dump-static", d, "static-good=static"],
                   check=True, stdout=subprocess.DEVNULL)
    files = []
    for root, _, names in os.walk(d):
        files += [os.path.relpath(os.path.join(root, f), d) for f in names]
    meta = "ctlogd-log.json"
    diff = [f for f in files if f not in ("checkpoint", meta) and
            open(os.path.join(d, f), "rb").read() != get(base + "static-good/" + f)[2]]
    cp = open(d + "/checkpoint", "rb").read()
    check("--dump-static: %d files, each the bytes the server serves; the same checkpoint text"
          % len(files), len(files) > 10 and meta in files and not diff and
          cp.split(b"\n\n")[0] == get(base + "static-good/checkpoint")[2].split(b"\n\n")[0], diff[:3])
    # --serve-dir: the same files over HTTP, the log in the lists
    proc = subprocess.Popen([sys.executable, os.path.join(here, "ctlogd.py"), "--serve-dir",
                             "files=" + d, "--port-file", tmp + "/port2", "--list-dir", tmp + "/l2"],
                            stdout=subprocess.DEVNULL)
    try:
        for _ in range(100):
            if os.path.exists(tmp + "/port2"):
                break
            time.sleep(0.1)
        base2 = "http://127.0.0.1:%d/files/" % int(open(tmp + "/port2").read())
        diff = [f for f in files if f != meta and open(os.path.join(d, f), "rb").read() != get(base2 + f)[2]]
        lst = json.load(open(tmp + "/l2/log_list.json"))
        lg = [l for op in lst["operators"] for l in op["tiled_logs"]][0]
        der = base64.b64decode(lg["key"])
        size, _, ok = parse_checkpoint(get(base2 + "checkpoint")[2],
                                       lg["submission_url"][len("https://"):].rstrip("/"), der,
                                       serialization.load_der_public_key(der))
        st = get(base2 + "../good/ct/v1/get-sth")[0]
        check("--serve-dir: every file served as written, listed with its key and origin, the "
              "checkpoint verifies; nothing outside the directory (%s)" % st,
              not diff and ok and lg["monitoring_url"] == base2 and st == 404, diff[:3])
    finally:
        proc.terminate()
        proc.wait()
