#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Attacks on an exported clip (docs/PROTOCOL.md §15.7), for test_events.sh.

Reads the file's top-level boxes itself (independently of daemon/core/mp4.c)
and writes a changed copy:

  mp4edit.py IN OUT cut-fragment          the last moof + mdat pair removed
  mp4edit.py IN OUT cut-bytes N           the last N bytes removed
  mp4edit.py IN OUT flip FRAME            the last byte of that frame's sample
                                          inverted (prints the frame index)
  mp4edit.py IN OUT drop-fragment K       fragment K (moof + mdat) cut out
  mp4edit.py IN OUT swap-fragments J K    fragments J and K exchanged
  mp4edit.py IN OUT splice OTHER K        fragment K replaced by OTHER's fragment K
  mp4edit.py IN OUT forge-manifest        the manifest re-signed by a fresh
                                          Ed25519 key as its own (another
                                          camera's); prints that key's identity
  mp4edit.py IN - frames-in K             the number of frames before fragment K
"""
import hashlib
import struct
import sys

EXPORT_UUID = bytes.fromhex("3d73517356854bf0914e38d39fd99894")


def boxes(d):
    out, off = [], 0
    while off + 8 <= len(d):
        size, typ = struct.unpack(">I4s", d[off:off + 8])
        if size == 1:
            size = struct.unpack(">Q", d[off + 8:off + 16])[0]
        elif size == 0:
            size = len(d) - off
        out.append((typ.decode("latin-1"), off, size))
        off += size
    return out


def fragments(d):
    """[(moof_off, mdat_end)] in order."""
    b, frags = boxes(d), []
    for i, (t, off, size) in enumerate(b):
        if t == "moof" and i + 1 < len(b) and b[i + 1][0] == "mdat":
            frags.append((off, b[i + 1][1] + b[i + 1][2]))
    return frags


def samples(d):
    """[(offset, size)] of every sample: one traf, tfhd without a base offset."""
    out = []
    for moof, _ in fragments(d):
        size = struct.unpack(">I", d[moof:moof + 4])[0]
        off = moof + 8
        while off < moof + size:
            bs, bt = struct.unpack(">I4s", d[off:off + 8])
            if bt == b"traf":
                t = off + 8
                while t < off + bs:
                    ts, tt = struct.unpack(">I4s", d[t:t + 8])
                    if tt == b"trun":
                        flags = struct.unpack(">I", d[t + 8:t + 12])[0] & 0xffffff
                        count = struct.unpack(">I", d[t + 12:t + 16])[0]
                        p = t + 16
                        pos = moof
                        if flags & 1:
                            pos += struct.unpack(">i", d[p:p + 4])[0]
                            p += 4
                        if flags & 4:
                            p += 4
                        for _ in range(count):
                            if flags & 0x100:
                                p += 4
                            n = struct.unpack(">I", d[p:p + 4])[0]
                            p += 4
                            if flags & 0x400:
                                p += 4
                            if flags & 0x800:
                                p += 4
                            out.append((pos, n))
                            pos += n
                    t += ts
            off += bs
    return out


def main():
    src, dst, op = sys.argv[1], sys.argv[2], sys.argv[3]
    d = bytearray(open(src, "rb").read())
    fr = fragments(d)
    if op == "cut-fragment":
        d = d[:fr[-1][0]]
    elif op == "cut-bytes":
        d = d[:len(d) - int(sys.argv[4])]
    elif op == "flip":
        off, n = samples(d)[int(sys.argv[4])]
        d[off + n - 1] ^= 0xff
    elif op == "drop-fragment":
        a, b = fr[int(sys.argv[4])]
        d = d[:a] + d[b:]
    elif op == "swap-fragments":
        (a1, b1), (a2, b2) = fr[int(sys.argv[4])], fr[int(sys.argv[5])]
        assert b1 <= a2
        d = d[:a1] + d[a2:b2] + d[b1:a2] + d[a1:b1] + d[b2:]
    elif op == "splice":
        o = open(sys.argv[4], "rb").read()
        k = int(sys.argv[5])
        a, b = fr[k]
        oa, ob = fragments(o)[k]
        d = d[:a] + o[oa:ob] + d[b:]
    elif op == "forge-manifest":
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
        t, off, size = next(x for x in boxes(d) if x[0] == "uuid" and
                            d[x[1] + 8:x[1] + 24] == EXPORT_UUID)
        mlen = struct.unpack(">H", d[off + 28:off + 30])[0]
        m = bytearray(d[off + 36:off + 36 + mlen])
        k = Ed25519PrivateKey.generate()
        pub = k.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        m[4:20] = hashlib.sha256(pub).digest()[:16]
        m[-64:] = k.sign(b"veracam1 event manifest\0" + bytes(m[:-64]))
        d[off + 36:off + 36 + mlen] = m
        print("veracam1:ed25519:" + pub.hex())
    elif op == "frames-in":
        k = int(sys.argv[4])
        print(sum(1 for off, _ in samples(d) if off < fr[k][0]))
        return
    else:
        sys.exit("unknown operation " + op)
    open(dst, "wb").write(d)


if __name__ == "__main__":
    main()
