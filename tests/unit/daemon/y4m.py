#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Classify the frames a veracamd hub wrote with --display y4m:PATH.

Each camera cell of each frame is one of:
  own          the paired camera's solid colour pattern (sampled away from
               the burned-in tag, the camera name and the hub's badge)
  unavailable  the hub's own screen: amber border, dark background
  foreign      anything else (must never happen)

  y4m.py classify FILE COLOUR [COLOUR ...]
      one COLOUR (RRGGBB) per cell: 1 = full screen, 2..4 = 2x2 grid.
      Prints "frames=N" and per cell "cellI own=.. unavailable=.. foreign=..".
      Exit 1 if any cell of any frame is foreign.
  y4m.py watch FILE NCELLS CELL COLOUR own|unavailable SINCE
      Wait (up to 30 s) until the newest frame's CELL is own/unavailable,
      then print the seconds since SINCE (a time.time() value).
  y4m.py tags FILE
      For a full-screen camera shown at its own size: the camera tag that
      veracam.ko burns into its frames (<linux/veracam.h>: row 1 of the
      tag cells), read from every frame whose guard cells are intact;
      prints "TAG count" lines, most frequent first.

The colours of a frame are read in the file's colorimetry, from its
header: XCOLORMATRIX=BT601|BT709 (veracam's tag) and XCOLORRANGE=
LIMITED|FULL; a C420jpeg file without them (older hubs) is full-range
BT.601. tests/adversarial/run.py reads it through colorimetry() and
to_ycc() here too.
"""
import os
import sys
import time

MATRIX = {b'BT601': (0.299, 0.114), b'BT709': (0.2126, 0.0722)}
UNAVAIL_FG = (0xf0, 0xa0, 0x00)
UNAVAIL_BG = (0x1c, 0x1c, 0x24)
TOL = 48


def colorimetry(line):
    """(Kr, Kb, full range) of a y4m header line."""
    tags = line.split()[1:]
    kr, kb = MATRIX[b'BT601']
    full = b'C420jpeg' in tags
    for tok in tags:
        if tok.startswith(b'XCOLORMATRIX='):
            kr, kb = MATRIX[tok[13:]]
        elif tok.startswith(b'XCOLORRANGE='):
            full = tok[12:] == b'FULL'
    return kr, kb, full


def to_ycc(rgb, col):
    """0..255 R, G, B -> Y, Cb, Cr code values (not rounded) of col."""
    kr, kb, full = col
    r, g, b = (v / 255 for v in rgb)
    y = kr * r + (1 - kr - kb) * g + kb * b
    ys, cs = (255, 255) if full else (219, 224)
    return ((0 if full else 16) + ys * y, 128 + cs * (b - y) / (2 - 2 * kb),
            128 + cs * (r - y) / (2 - 2 * kr))


def to_rgb(ycc, col):
    """Y, Cb, Cr code values of col -> 0..255 R, G, B (rounded, clamped)."""
    kr, kb, full = col
    ys, cs = (255, 255) if full else (219, 224)
    y = (ycc[0] - (0 if full else 16)) / ys
    pb, pr = (ycc[1] - 128) / cs, (ycc[2] - 128) / cs
    r, b = y + (2 - 2 * kr) * pr, y + (2 - 2 * kb) * pb
    g = (y - kr * r - kb * b) / (1 - kr - kb)
    return tuple(max(0, min(255, int(round(255 * v)))) for v in (r, g, b))


def full_luma(col):
    """Code value -> luma on 0..255 (full range) of col, as 256 bytes: levels
    set for full range (0 black, 255 white) then hold in either range."""
    if col[2]:
        return bytes(range(256))
    return bytes(max(0, min(255, round((v - 16) * 255 / 219))) for v in range(256))


def header(f):
    line = f.readline()
    if not line.startswith(b'YUV4MPEG2 '):
        raise SystemExit('not a y4m file')
    w = h = 0
    for tok in line.split()[1:]:
        if tok[:1] == b'W':
            w = int(tok[1:])
        elif tok[:1] == b'H':
            h = int(tok[1:])
    return len(line), w, h, colorimetry(line)


class Frame:
    def __init__(self, data, w, h, col):
        self.d, self.w, self.h, self.col = data, w, h, col

    def rgb(self, x, y):
        w, h, d = self.w, self.h, self.d
        ci = (y // 2) * (w // 2) + x // 2
        return to_rgb((d[y * w + x], d[w * h + ci], d[w * h + w * h // 4 + ci]), self.col)


def near(a, b, tol=TOL):
    return all(abs(p - q) <= tol for p, q in zip(a, b))


def cell_rect(n, i, w, h):
    if n == 1:
        return 0, 0, w, h
    cw, ch = w // 2, h // 2
    return (i % 2) * cw, (i // 2) * ch, cw, ch


def classify(fr, n, i, colour):
    x0, y0, cw, ch = cell_rect(n, i, fr.w, fr.h)
    pts = [(x0 + cw * fx // 100, y0 + ch * fy // 100)
           for fx in (40, 55, 70, 85) for fy in (30, 45, 60, 72)]
    if all(near(fr.rgb(x, y), colour) for x, y in pts):
        return 'own'
    if (near(fr.rgb(x0, y0 + ch // 2), UNAVAIL_FG) and
            near(fr.rgb(x0 + cw // 2, y0 + ch // 8), UNAVAIL_BG) and
            near(fr.rgb(x0 + cw // 8, y0 + ch * 7 // 8), UNAVAIL_BG)):
        return 'unavailable'
    return 'foreign'


def parse_colour(s):
    v = int(s, 16)
    return ((v >> 16) & 255, (v >> 8) & 255, v & 255)


def frames(path):
    with open(path, 'rb') as f:
        hlen, w, h, col = header(f)
        size = w * h * 3 // 2
        while True:
            tag = f.readline()
            if not tag:
                return
            if tag != b'FRAME\n':
                raise SystemExit('bad frame header')
            data = f.read(size)
            if len(data) < size:
                return
            yield Frame(data, w, h, col)


def cmd_classify(path, colours):
    n = len(colours)
    counts = [{'own': 0, 'unavailable': 0, 'foreign': 0} for _ in colours]
    total = 0
    first_foreign = None
    for k, fr in enumerate(frames(path)):
        total += 1
        for i, c in enumerate(colours):
            cls = classify(fr, n, i, c)
            counts[i][cls] += 1
            if cls == 'foreign' and first_foreign is None:
                first_foreign = (k, i)
    print('frames=%d' % total)
    for i, c in enumerate(counts):
        print('cell%d own=%d unavailable=%d foreign=%d' %
              (i, c['own'], c['unavailable'], c['foreign']))
    if first_foreign:
        print('first foreign: frame %d cell %d' % first_foreign)
        return 1
    return 0


def last_frame(path):
    with open(path, 'rb') as f:
        hlen, w, h, col = header(f)
    size = w * h * 3 // 2 + 6
    length = os.path.getsize(path) - hlen
    if length < size:
        return None
    with open(path, 'rb') as f:
        f.seek(hlen + (length // size - 1) * size + 6)
        return Frame(f.read(size - 6), w, h, col)


def cmd_watch(path, n, cell, colour, want, since):
    deadline = time.time() + 30
    while time.time() < deadline:
        fr = last_frame(path) if os.path.exists(path) else None
        if fr:
            if classify(fr, n, cell, colour) == want:
                print('%.3f' % (time.time() - since))
                return 0
        time.sleep(0.01)
    print('timeout')
    return 1


def tag_row(fr, row):
    """The 32-bit value of a tag row, or None when its guard cells are wrong."""
    c = max(8, (fr.w // 40) & ~1)
    lum = full_luma(fr.col)
    bits = [lum[fr.d[(row * c + c // 2) * fr.w + k * c + c // 2]] >= 128 for k in range(36)]
    if bits[:2] != [True, False] or bits[34:] != [False, True]:
        return None
    v = 0
    for b in bits[2:34]:
        v = v << 1 | b
    return v


def cmd_tags(path):
    seen = {}
    for fr in frames(path):
        t = tag_row(fr, 1)
        if t is not None:
            seen[t] = seen.get(t, 0) + 1
    for t, k in sorted(seen.items(), key=lambda x: -x[1]):
        print('%08x %d' % (t, k))
    return 0


def main(argv):
    if len(argv) >= 3 and argv[0] == 'classify':
        return cmd_classify(argv[1], [parse_colour(c) for c in argv[2:]])
    if len(argv) == 7 and argv[0] == 'watch':
        return cmd_watch(argv[1], int(argv[2]), int(argv[3]), parse_colour(argv[4]), argv[5],
                         float(argv[6]))
    if len(argv) == 2 and argv[0] == 'tags':
        return cmd_tags(argv[1])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
