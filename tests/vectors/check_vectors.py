#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""A second, independent implementation of the veracam v3 frame protocol
(docs/PROTOCOL.md), written from the document, checking every output of
tests/vectors/frame-v3.txt: keys, SAS, session id, source id, records with
their challenge and delay, SEI, sealed units, and the hub's age bound.
Needs python3-cryptography; exits 77 (skip) without it."""
import hashlib
import sys

try:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305
except ImportError:
    print("1..0 # SKIP python3-cryptography not installed")
    sys.exit(77)

UUID = bytes.fromhex("40b81eb6f0754e2aa6c09f34d0010911")
TEXT = ("pair_code", "sas", "camera_identity", "source_stable")


def load(path):
    v = {}
    for line in open(path):
        if line.startswith("#") or " = " not in line:
            continue
        k, x = line.rstrip("\n").split(" = ", 1)
        number = "_ns" in k or k.startswith("sensor_seq") or k.startswith("challenge_")
        v[k] = x if (k in TEXT or number) else bytes.fromhex(x)
    return v


def sha(b):
    return hashlib.sha256(b).digest()


def nal_units(au):
    """(start, end) of each NAL unit: after 00 00 01, before the next one, trailing zeros dropped."""
    starts, i = [], 0
    while True:
        j = au.find(b"\x00\x00\x01", i)
        if j < 0:
            break
        starts.append(j)
        i = j + 3
    out = []
    for n, sc in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(au)
        while end > sc + 3 and au[end - 1] == 0:
            end -= 1
        out.append((sc + 3, end))
    return out


def escape(b):
    out, zeros = bytearray(), 0
    for x in b:
        if zeros >= 2 and x <= 3:
            out.append(3)
            zeros = 0
        out.append(x)
        zeros = zeros + 1 if x == 0 else 0
    return bytes(out)


def main(path):
    v, fails = load(path), []

    def check(name, got):
        if v[name] != got:
            fails.append(name)

    cam = Ed25519PrivateKey.from_private_bytes(v["camera_seed"])
    hub = Ed25519PrivateKey.from_private_bytes(v["hub_seed"])
    raw = serialization.Encoding.Raw, serialization.PublicFormat.Raw
    cam_pub, hub_pub = cam.public_key().public_bytes(*raw), hub.public_key().public_bytes(*raw)
    check("camera_public", cam_pub)
    check("hub_public", hub_pub)
    check("camera_key_id", sha(cam_pub)[:16])
    check("camera_identity", "veracam1:ed25519:" + cam_pub.hex())
    s = int.from_bytes(sha(b"veracam1 sas" + cam_pub + hub_pub + v["pair_code"].encode())[:4], "big") % 1000000
    check("sas", "%03d %03d" % (s // 1000, s % 1000))
    sid = sha(b"veracam1 session" + v["hub_nonce"] + v["camera_nonce"])[:16]
    check("session_id", sid)
    # capture source id: domain-separated hash of the stable identity string
    source = sha(b"veracam source v1\x00" + v["source_stable"].encode())
    check("source_id", source)

    # the hub's challenge send times (CLOCK_MONOTONIC; 0 = its session hello)
    sent, k = [], 0
    while "challenge_sent_ns_%d" % k in v:
        sent.append(int(v["challenge_sent_ns_%d" % k]))
        k += 1
    window, now = int(v["freshness_ns"]), int(v["verify_now_ns"])

    prev, i = bytes(32), 0
    while "au_%d" % i in v:
        au = v["au_%d" % i]
        nals = nal_units(au)
        h = hashlib.sha256()
        for s0, e in nals:
            h.update((e - s0).to_bytes(4, "big") + au[s0:e])
        idr = any(au[s0] & 0x1F == 5 for s0, _ in nals)
        sensor = int(v["sensor_seq_%d" % i])
        flags = (1 if idr else 0) | (2 if sensor >= 0 else 0)
        # the session entry: newest challenge, and how long before it arrived the frame was taken
        chal = int(v["challenge_%d" % i])
        delay = max(0, int(v["received_mono_ns_%d" % i]) - int(v["capture_mono_ns_%d" % i]))
        check("delay_ns_%d" % i, str(delay))
        entry = sid + chal.to_bytes(8, "big") + delay.to_bytes(8, "big")
        body = (bytes([3, flags, 1, 0]) + sha(cam_pub)[:16] + i.to_bytes(8, "big")
                + int(v["capture_ns_%d" % i]).to_bytes(8, "big")
                + max(sensor, 0).to_bytes(4, "big") + h.digest() + prev + source + entry)
        record = body + cam.sign(b"veracam1 record\x00" + body)
        check("record_%d" % i, record)
        prev = sha(record)
        check("record_hash_%d" % i, prev)
        # the SEI goes right after the NAL unit before the first slice
        first = next(n for n, (s0, _) in enumerate(nals) if 1 <= au[s0] & 0x1F <= 5)
        at = nals[first - 1][1] if first else 0
        size = 16 + len(record)
        size_bytes = b"\xff" * (size // 255) + bytes([size % 255])
        sei = b"\x00\x00\x00\x01\x06" + escape(b"\x05" + size_bytes + UUID + record + b"\x80")
        signed = au[:at] + sei + au[at:]
        check("signed_au_%d" % i, signed)
        for name, cls, cid in (("aes128gcm", AESGCM, 1), ("chacha20poly1305", ChaCha20Poly1305, 2)):
            header = bytes([1, 1, cid, 0]) + sid + i.to_bytes(8, "big") + len(signed).to_bytes(4, "big")
            iv = v[name + "_iv"]
            nonce = iv[:4] + bytes(a ^ b for a, b in zip(iv[4:], i.to_bytes(8, "big")))
            check("unit_%s_%d" % (name, i), header + cls(v[name + "_key"]).encrypt(nonce, signed, header))
        # rule 15: bound = (now - sent(challenge)) + delay, shown only if bound <= window
        bound = now - sent[chal] + delay
        check("age_bound_ns_%d" % i, str(bound))
        if not 0 <= bound <= window:
            fails.append("frame %d not fresh at verify_now_ns" % i)
        if i == 0:
            check("stale_now_ns_0", str(sent[chal] + window - delay + 1))
        i += 1

    print("1..1")
    if fails or i == 0:
        print("not ok 1 - vectors: " + (", ".join(fails) or "no frames"))
        return 1
    print("ok 1 - vectors: %d frames, independent implementation agrees" % i)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
