#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""A second, independent reading of docs/PROTOCOL.md §15 (recorded events),
checking tests/vectors/event-v1.txt: the event records' fields, signatures
(context "veracam1 event record" 00) and chain, the thumbnail hash, and the
manifests' fields, signatures (context "veracam1 event manifest" 00) and
their per-camera chain, and the sealed objects (opened with their index). Needs python3-cryptography; exits 77 (skip)
without it."""
import hashlib
import struct
import sys

try:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF
except ImportError:
    print("1..0 # SKIP python3-cryptography not installed")
    sys.exit(77)

n = 0
failed = False


def check(ok, what):
    global n, failed
    n += 1
    print(("ok" if ok else "not ok") + " %d - %s" % (n, what))
    failed = failed or not ok


def sha(b):
    return hashlib.sha256(b).digest()


v = {}
for line in open(sys.argv[1]):
    if line.startswith("#") or " = " not in line:
        continue
    k, x = line.rstrip("\n").split(" = ", 1)
    v[k] = bytes.fromhex(x)

sk = Ed25519PrivateKey.from_private_bytes(v["camera_seed"])
pub = sk.public_key()
pub_raw = pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
check(sha(pub_raw)[:16] == v["camera_key_id"], "camera key id = SHA-256(public key)[0..16)")


def signed(ctx, blob):
    try:
        pub.verify(blob[-64:], ctx + b"\0" + blob[:-64])
        return True
    except Exception:
        return False


prev = bytes(32)
for i in range(4):
    r = v["event_record_%d" % i]
    ver, flags, nsess, res = r[0], r[1], r[2], r[3]
    seq, capture, sensor = struct.unpack(">QQI", r[20:40])
    ok = (len(r) == 216 and ver == 3 and flags & 4 and nsess == 0 and res == 0
          and r[4:20] == v["camera_key_id"] and seq == i
          and capture == 1795219200000000000 + i * 33333333 and sensor == 0
          and r[40:72] == sha(b"event 50 frame %d" % i) and r[72:104] == prev
          and r[104:136] == v["source_id"] and r[136:152] == v["event_id_0"]
          and bool(flags & 1) == (i == 0))
    check(ok, "event record %d fields (§15.2)" % i)
    check(signed(b"veracam1 event record", r), "event record %d signature" % i)
    check(not signed(b"veracam1 record", r), "event record %d: not a live record's signature" % i)
    prev = sha(r)
    check(prev == v["event_record_hash_%d" % i], "event record %d hash" % i)

check(sha(v["thumbnail"]) == v["thumbnail_hash"], "thumbnail hash")

for i in range(2):
    m = v["manifest_%d" % i]
    nrec = m[2]
    number, = struct.unpack(">Q", m[36:44])
    start, end, frames = struct.unpack(">QQI", m[76:96])
    ok = (len(m) == 192 + 16 * nrec + 64 and m[0] == 1 and m[1] == 1 and nrec == 1
          and m[3] == 1 and m[4:20] == v["camera_key_id"]
          and m[20:36] == v["event_id_%d" % i] and number == i and m[44:76] == v["source_id"]
          and start == 1795219200000000000 and end == start + 3 * 33333333 and frames == 4
          and m[128:160] == v["thumbnail_hash"] and m[192:208] == v["hub_key_id"])
    if i == 0:
        ok = ok and m[96:128] == v["event_record_hash_3"] and m[160:192] == bytes(32)
    else:
        ok = ok and m[160:192] == v["manifest_hash_0"]
    check(ok, "manifest %d fields (§15.3)" % i)
    check(signed(b"veracam1 event manifest", m), "manifest %d signature" % i)
check(sha(v["manifest_0"]) == v["manifest_hash_0"], "manifest hash")


# Objects (§15.5): key || base nonce = HKDF-SHA256(salt = manifest hash,
# ikm = content key, info = "veracam1 event object" 00, Nk + 12); object =
# kind | 00 00 00 | index (4) | AEAD(key, base nonce XOR index, aad = those 8 bytes).
def object_open(aead, nk, blob, kind, index):
    okm = HKDF(algorithm=hashes.SHA256(), length=nk + 12, salt=v["manifest_hash_0"],
               info=b"veracam1 event object\0").derive(v["content_key"])
    key, base = okm[:nk], okm[nk:]
    hdr = blob[:8]
    if hdr != bytes([kind, 0, 0, 0]) + struct.pack(">I", index):
        return None
    nonce = base[:4] + bytes(a ^ b for a, b in zip(base[4:], struct.pack(">Q", index)))
    try:
        return aead(key).decrypt(nonce, blob[8:], hdr)
    except Exception:
        return None


objects = [("object_chacha_0", ChaCha20Poly1305, 32, 1, 0, v["thumbnail"]),
           ("object_chacha_1", ChaCha20Poly1305, 32, 2, 1, v["event_record_0"]),
           ("object_chacha_2", ChaCha20Poly1305, 32, 1, 2, v["thumbnail"]),
           ("object_aes_0", AESGCM, 16, 1, 0, v["thumbnail"])]
for name, aead, nk, kind, index, pt in objects:
    check(object_open(aead, nk, v[name], kind, index) == pt,
          "%s: kind %d, index %d opens to its plaintext" % (name, kind, index))
a, b = v["object_chacha_0"][8:-16], v["object_chacha_2"][8:-16]
check(a != b, "the same thumbnail sealed twice: two keystreams (indexes 0 and 2)")

print("1..%d" % n)
sys.exit(1 if failed else 0)
