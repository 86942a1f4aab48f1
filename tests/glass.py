#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""What the glass shows: QMP screendumps of a veracamd hub's 2x2 grid on
KMS, read back pixel by pixel (tests/veracam_glass.sh).

  glass.py cells DIR FIRST LAST WxH TAG:COLOUR...
      DIR/shot-NNNN.png for NNNN = FIRST..LAST, decoded with one
      gst-launch-1.0 (pngdec; no Python imaging library is needed). WxH is
      the size of the cameras' pictures, one TAG:COLOUR (8 and 6 hex digits)
      per camera, cell I = camera I. Prints one line per screendump:
      "NNNN TOKEN TOKEN TOKEN TOKEN", a token per grid cell:
        live=SEQ     camera I's picture: its colour and its burned-in camera
                     tag (<linux/veracam.h>), SEQ from the sequence row
        unavailable  the hub's own "stream unavailable" screen
        black        a grid slot without a camera
        bad:WHAT     anything else (what was read)
  glass.py latency LOG
      Capture -> glass latency from a hub's --log-level debug output (one
      VERACAM_GLASS_US field per frame on the glass): count, p50, p95, p99
      per camera and over all.

The picture's place on the screen mirrors the hub's layout
(daemon/hub/display.c): the screen is cut into 2x2 cells (the right column
and the bottom row take the odd pixel), the picture is scaled to fit its
cell with its aspect ratio kept and centred.
"""
import math
import os
import re
import struct
import subprocess
import sys
import tempfile

UNAVAIL_FG = (0xf0, 0xa0, 0x00)
UNAVAIL_BG = (0x1c, 0x1c, 0x24)
FONT_LINE, FONT_ADVANCE = 16, 8     # the hub's font (daemon/hub/font.h)
TAG_CELLS = 36


def near(a, b, tol):
    return all(abs(p - q) <= tol for p, q in zip(a, b))


def luma(p):
    return (299 * p[0] + 587 * p[1] + 114 * p[2]) // 1000


class Screen:
    def __init__(self, png, rgb):
        with open(png, 'rb') as f:
            self.w, self.h = struct.unpack('>II', f.read(24)[16:24])
        with open(rgb, 'rb') as f:
            self.d = f.read()
        self.stride = len(self.d) // self.h
        if self.stride < 3 * self.w:
            raise SystemExit('%s: short RGB data' % rgb)

    def px(self, x, y):
        o = y * self.stride + 3 * x
        return tuple(self.d[o:o + 3])


class Cell:
    """Grid cell I of a 2x2 layout and the picture fitted into it."""

    def __init__(self, scr, i, pw, ph):
        lw, th = scr.w // 2, scr.h // 2
        self.scr = scr
        self.x = lw if i & 1 else 0
        self.y = th if i & 2 else 0
        self.cw = scr.w - lw if i & 1 else lw
        self.ch = scr.h - th if i & 2 else th
        if pw * self.ch >= self.cw * ph:
            self.dw, self.dh = self.cw, self.cw * ph // pw
        else:
            self.dw, self.dh = self.ch * pw // ph, self.ch
        self.dx = (self.cw - self.dw) // 2
        self.dy = (self.ch - self.dh) // 2
        self.pw, self.ph = pw, ph

    def at(self, x, y):
        """Screen pixel at (x, y) of the cell."""
        return self.scr.px(self.x + x, self.y + y)

    def source(self, sx, sy):
        """Screen pixel showing the picture's pixel (sx, sy)."""
        return self.at(self.dx + int(sx * self.dw / self.pw),
                       self.dy + int(sy * self.dh / self.ph))

    def tag_row(self, row):
        """Value of a burned-in tag row, None if its guard cells are wrong."""
        c = max(8, (self.pw // 40) & ~1)
        bits = [luma(self.source(k * c + c / 2, row * c + c / 2)) >= 128
                for k in range(TAG_CELLS)]
        if bits[:2] != [True, False] or bits[-2:] != [False, True]:
            return None
        return int(''.join('1' if b else '0' for b in bits[2:-2]), 2)

    def colour(self):
        """Samples of the picture away from the tag, its text and the badge."""
        return [self.source(self.pw * fx / 100, self.ph * fy / 100)
                for fx in (35, 50, 65, 80) for fy in (40, 55, 70)]

    def unavailable(self):
        """The hub's screen: amber border, dark field, amber first line."""
        cw, ch = self.cw, self.ch
        border = 4 if cw >= 320 else 2
        if not all(near(self.at(x, y), UNAVAIL_FG, 16) for x, y in
                   ((0, ch // 2), (cw - 1, ch // 2), (cw // 2, 0), (cw // 2, ch - 1),
                    (border - 1, ch // 3), (cw - border, ch * 2 // 3))):
            return False
        if not all(near(self.at(x, y), UNAVAIL_BG, 16) for x, y in
                   ((border, ch // 2), (cw // 2, ch // 12), (cw // 2, ch * 11 // 12),
                    (cw // 24, ch // 2), (cw * 23 // 24, ch // 2))):
            return False
        scale = max(1, cw // (FONT_ADVANCE * 24))
        while scale > 1 and 4 * FONT_LINE * scale + 2 * border > ch:
            scale -= 1
        top = (ch - 4 * FONT_LINE * scale) // 2
        amber = sum(near(self.at(x, y), UNAVAIL_FG, 16)
                    for y in range(top, top + FONT_LINE * scale, scale)
                    for x in range(cw // 4, cw * 3 // 4, 2))
        return amber > 0

    def black(self):
        return all(max(self.at(self.cw * fx // 8, self.ch * fy // 8)) <= 16
                   for fx in range(8) for fy in range(8))


def token(cell, expect):
    if expect is None:
        return 'black' if cell.black() else 'bad:not-black'
    if cell.unavailable():
        return 'unavailable'
    tag, colour = expect
    seq, got = cell.tag_row(0), cell.tag_row(1)
    samples = cell.colour()
    own = all(near(p, colour, 48) for p in samples)
    if got == tag and seq is not None and own:
        return 'live=%d' % seq
    return 'bad:tag=%s,seq=%s,rgb=%02x%02x%02x' % (
        'none' if got is None else '%08x' % got,
        'none' if seq is None else seq, *samples[4])


def cmd_cells(folder, first, last, size, cams):
    pw, ph = (int(v) for v in size.split('x'))
    expect = []
    for c in cams:
        tag, colour = c.split(':')
        v = int(colour, 16)
        expect.append((int(tag, 16), (v >> 16, (v >> 8) & 255, v & 255)))
    expect += [None] * (4 - len(expect))
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            ['gst-launch-1.0', '-q', 'multifilesrc',
             'location=%s/shot-%%04d.png' % folder, 'start-index=%d' % first,
             'stop-index=%d' % last, 'caps=image/png', '!', 'pngdec', '!',
             'videoconvert', '!', 'video/x-raw,format=RGB', '!', 'multifilesink',
             'location=%s/shot-%%04d.rgb' % tmp, 'index=%d' % first], check=True)
        for k in range(first, last + 1):
            rgb = '%s/shot-%04d.rgb' % (tmp, k)
            scr = Screen('%s/shot-%04d.png' % (folder, k), rgb)
            os.unlink(rgb)
            print('%04d %s' % (k, ' '.join(token(Cell(scr, i, pw, ph), e)
                                          for i, e in enumerate(expect))))
    return 0


def percentile(v, p):
    return v[max(0, math.ceil(p / 100 * len(v)) - 1)]


def cmd_latency(log):
    per = {}
    with open(log, errors='replace') as f:
        for line in f:
            us = re.search(r'VERACAM_GLASS_US=(\d+)', line)
            cam = re.search(r'VERACAM_CAMERA=(\S+?)[ \]]', line)
            if us:
                per.setdefault(cam.group(1) if cam else '?', []).append(int(us.group(1)) / 1000)
    per['all'] = [v for k in list(per) for v in per[k]]
    for name, v in per.items():
        v.sort()
        if v:
            print('%s: %d frames, p50 %.1f ms, p95 %.1f ms, p99 %.1f ms' % (
                name, len(v), percentile(v, 50), percentile(v, 95), percentile(v, 99)))
    return 0 if per['all'] else 1


def main(argv):
    if len(argv) >= 6 and argv[0] == 'cells':
        return cmd_cells(argv[1], int(argv[2]), int(argv[3]), argv[4], argv[5:9])
    if len(argv) == 2 and argv[0] == 'latency':
        return cmd_latency(argv[1])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
