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

drop-fragment, swap-fragments and splice then rewrite every fragment's
decode time (tfdt) to follow the previous fragment, as an attacker who
knows the format would, so that what refuses them is the frames' records.
What a player would show other than the frames verified (each once
verified "ok", session 11's review):

  mp4edit.py IN OUT edit-list MS          an edit list starting playback MS in
  mp4edit.py IN OUT track2                every tfhd names track 2 (none)
  mp4edit.py IN OUT durations K           fragment K's frames last 1 unit each
  mp4edit.py IN OUT hold K               fragment K's first frame held for all
                                          but one unit per other frame of it,
                                          the others flashed (total unchanged)
  mp4edit.py IN OUT moov-samples          fragment 0's frames copied into a
                                          free box after moov and listed in
                                          moov's sample table; the fragments'
                                          decode times moved after them
  mp4edit.py IN OUT tail                  the last fragment appended again
                                          after the end, its mdat one byte
                                          longer than the file
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


def children(d, off, size, skip=0):
    """[(type, off, size)] of the boxes inside the box at off (after skip bytes)."""
    out, o = [], off + 8 + skip
    while o < off + size:
        bs, bt = struct.unpack(">I4s", d[o:o + 8])
        out.append((bt.decode("latin-1"), o, bs))
        o += bs
    return out


def path(d, *types):
    """[offsets] of the nested boxes named, top level first (the first of each)."""
    out, kids = [], [(t, o, s) for t, o, s in boxes(d)]
    for i, t in enumerate(types):
        _, o, s = next(x for x in kids if x[0] == t)
        out.append(o)
        if i + 1 < len(types):	# the last may be a full box: its payload is no boxes
            kids = children(d, o, s)
    return out


def insert(d, at, data, parents):
    """data inserted at at; each box at an offset of parents grown by its length."""
    for o in parents:
        struct.pack_into(">I", d, o, struct.unpack_from(">I", d, o)[0] + len(data))
    d[at:at] = data


def traf_box(d, moof, typ):
    size = struct.unpack(">I", d[moof:moof + 4])[0]
    traf = next(x for x in children(d, moof, size) if x[0] == "traf")
    return next(x for x in children(d, traf[1], traf[2]) if x[0] == typ)[1]


def duration_fields(d, moof):
    """Where the fragment's sample durations are: [offsets of 4-byte fields], and
    whether each is per sample (else one default: tfhd's, else trex's) and the count."""
    t = traf_box(d, moof, "trun")
    flags, count = struct.unpack(">II", d[t + 8:t + 16])
    p = t + 16 + (4 if flags & 1 else 0) + (4 if flags & 4 else 0)
    per = 4 * sum(1 for f in (0x100, 0x200, 0x400, 0x800) if flags & f)
    if flags & 0x100:
        return [p + per * i for i in range(count)], count
    h = traf_box(d, moof, "tfhd")
    hflags = struct.unpack(">I", d[h + 8:h + 12])[0]
    if hflags & 8:
        return [h + 16 + (8 if hflags & 1 else 0) + (4 if hflags & 2 else 0)], count
    trex = path(d, "moov", "mvex", "trex")[-1]
    return [trex + 20], count


def durations(d, moof):
    """The fragment's total duration."""
    at, count = duration_fields(d, moof)
    du = [struct.unpack_from(">I", d, o)[0] for o in at]
    return sum(du) if len(du) == count else du[0] * count


def per_sample_durations(d, moof):
    """The fragment's trun rewritten with a duration per sample (mp4mux leaves
    them out, using tfhd's or trex's default, when every sample's is the same):
    the boxes around it grown and its data offset moved with its mdat."""
    at, count = duration_fields(d, moof)
    if len(at) == count:
        return
    du = struct.unpack_from(">I", d, at[0])[0]
    size = struct.unpack(">I", d[moof:moof + 4])[0]
    traf = next(x for x in children(d, moof, size) if x[0] == "traf")
    t = traf_box(d, moof, "trun")
    ts, flags = struct.unpack(">I", d[t:t + 4])[0], struct.unpack(">I", d[t + 8:t + 12])[0]
    p = t + 16
    head = b""
    if flags & 1:
        head += struct.pack(">i", struct.unpack(">i", d[p:p + 4])[0] + 4 * count)
        p += 4
    if flags & 4:
        head += bytes(d[p:p + 4])
        p += 4
    per = 4 * sum(1 for f in (0x200, 0x400, 0x800) if flags & f)
    body = b"".join(struct.pack(">I", du) + bytes(d[p + per * i:p + per * (i + 1)])
                    for i in range(count))
    new = (struct.pack(">I4sII", ts + 4 * count, b"trun", flags | 0x100, count) + head + body)
    for o in (moof, traf[1]):
        struct.pack_into(">I", d, o, struct.unpack_from(">I", d, o)[0] + 4 * count)
    d[t:t + ts] = new


def retime(d, start=0):
    """Every tfdt set where the previous fragment ended (version 0 or 1)."""
    at = start
    for moof, _ in fragments(d):
        t = traf_box(d, moof, "tfdt")
        if d[t + 8] == 1:
            struct.pack_into(">Q", d, t + 12, at)
        else:
            struct.pack_into(">I", d, t + 12, at)
        at += durations(d, moof)


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
        retime(d)
    elif op == "swap-fragments":
        (a1, b1), (a2, b2) = fr[int(sys.argv[4])], fr[int(sys.argv[5])]
        assert b1 <= a2
        d = d[:a1] + d[a2:b2] + d[b1:a2] + d[a1:b1] + d[b2:]
        retime(d)
    elif op == "splice":
        o = open(sys.argv[4], "rb").read()
        k = int(sys.argv[5])
        a, b = fr[k]
        oa, ob = fragments(o)[k]
        d = d[:a] + o[oa:ob] + d[b:]
        retime(d)
    elif op == "edit-list":
        ms = int(sys.argv[4])
        moov, trak, tkhd = path(d, "moov", "trak", "tkhd")
        end = tkhd + struct.unpack(">I", d[tkhd:tkhd + 4])[0]
        elst = struct.pack(">I4sII", 28, b"elst", 0, 1) + struct.pack(">IiHH", 1000, ms, 1, 0)
        insert(d, end, struct.pack(">I4s", 8 + len(elst), b"edts") + elst, [moov, trak])
    elif op == "track2":
        for moof, _ in fragments(d):
            struct.pack_into(">I", d, traf_box(d, moof, "tfhd") + 12, 2)
    elif op == "durations":
        for o in duration_fields(d, fr[int(sys.argv[4])][0])[0]:
            struct.pack_into(">I", d, o, 1)
    elif op == "hold":
        per_sample_durations(d, fr[int(sys.argv[4])][0])
        fr = fragments(d)
        at, count = duration_fields(d, fr[int(sys.argv[4])][0])
        if len(at) != count or count < 2:
            sys.exit("mp4edit: hold: the fragment has fewer than 2 samples")
        total = durations(d, fr[int(sys.argv[4])][0])
        for i, o in enumerate(at):
            struct.pack_into(">I", d, o, total - (count - 1) if i == 0 else 1)
    elif op == "moov-samples":
        moof0, end0 = fr[0]
        first = [s for s in samples(d) if moof0 <= s[0] < end0]
        payload = b"".join(bytes(d[o:o + n]) for o, n in first)
        dur = durations(d, moof0)
        moov, trak, mdia, minf, stbl = path(d, "moov", "trak", "mdia", "minf", "stbl")
        ssz = struct.unpack(">I", d[stbl:stbl + 4])[0]
        tabs = {t: o for t, o, _ in children(d, stbl, ssz)}
        n = len(first)
        # tables filled from the end backwards, so that each offset stays right
        free_at = moov + struct.unpack(">I", d[moov:moov + 4])[0]
        adds = [("stco", struct.pack(">I", 0)),      # patched below
                ("stsz", b"".join(struct.pack(">I", s) for _, s in first)),
                ("stsc", struct.pack(">III", 1, n, 1)),
                ("stts", struct.pack(">II", n, max(1, dur // n)))]
        grown = 0
        for t, data in adds:
            o = tabs[t]
            cnt = o + 12 + (4 if t == "stsz" else 0)
            struct.pack_into(">I", d, cnt, n if t == "stsz" else 1)
            bs = struct.unpack(">I", d[o:o + 4])[0]
            insert(d, o + bs, data, [moov, trak, mdia, minf, stbl, o])
            grown += len(data)
        free_at += grown
        d[free_at:free_at] = struct.pack(">I4s", 8 + len(payload), b"free") + payload
        stco = [o for t, o, _ in children(d, stbl, struct.unpack(">I", d[stbl:stbl + 4])[0])
                if t == "stco"][0]
        struct.pack_into(">I", d, stco + 16, free_at + 8)
        retime(d, dur)
    elif op == "tail":
        a, b = fr[-1]
        mdat = a + struct.unpack(">I", d[a:a + 4])[0]
        extra = bytearray(d[a:b])
        struct.pack_into(">I", extra, mdat - a, struct.unpack_from(">I", d, mdat)[0] + 1)
        d = d + extra
        retime(d)
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
    elif op == "fragment-with":
        # the first fragment after the first with at least N samples (a
        # recorder at load may close a fragment after one)
        n = int(sys.argv[4])
        for k in range(1, len(fr)):
            if sum(1 for off, _ in samples(d) if fr[k][0] <= off < fr[k][1]) >= n:
                print(k)
                return
        sys.exit("mp4edit: no fragment after the first has %d samples" % n)
    else:
        sys.exit("unknown operation " + op)
    open(dst, "wb").write(d)


if __name__ == "__main__":
    main()
