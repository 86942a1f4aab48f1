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
                     tag (include/veracam/sim-sensor.h), SEQ from the sequence row
        unavailable  the hub's own "stream unavailable" screen
        black        a grid slot without a camera
        off          (every cell) the whole screen is dark: the hub's output
                     is down (it takes its CRTC off when a page flip does not
                     complete in time, and counts it: status display.lost)
        bad:WHAT     anything else (what was read)
  glass.py latency LOG
      Capture -> glass latency from a hub's --log-level debug output (one
      VERACAM_GLASS_US field per frame on the glass): count, p50, p95, p99
      per camera and over all.

Cells, pictures and verdicts are the screen oracle's (tests/lib/hubscreen.py),
which takes the hub's palette and geometry from its headers.
"""
import math
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'lib'))
import hubscreen as hs   # noqa: E402


def token(fr, cell, expect):
    if expect is None:
        return 'black' if hs.classify(fr, cell, None) == hs.BLACK else 'bad:not-black'
    tag, colour = expect
    verdict = hs.classify(fr, cell, colour)
    if verdict == hs.UNAVAILABLE:
        return 'unavailable'
    seq, got = hs.tag_row(fr, cell, 0), hs.tag_row(fr, cell, 1)
    if verdict == hs.OWN and got == tag and seq is not None:
        return 'live=%d' % seq
    x, y = cell.source_xy(cell.pw * 0.5, cell.ph * 0.55)
    return 'bad:tag=%s,seq=%s,rgb=%02x%02x%02x' % (
        'none' if got is None else '%08x' % got,
        'none' if seq is None else seq, *fr.rgb(x, y))


def cmd_cells(folder, first, last, size, cams):
    pw, ph = (int(v) for v in size.split('x'))
    expect = []
    for c in cams:
        tag, colour = c.split(':')
        expect.append((int(tag, 16), hs.parse_colour(colour)))
    expect += [None] * (4 - len(expect))
    shots = range(first, last + 1)
    for k, fr in zip(shots, hs.png_frames(['%s/shot-%04d.png' % (folder, k) for k in shots])):
        cells = [c.fit(pw, ph) for c in hs.layout(fr.w, fr.h, 4, fr.align)]
        if all(hs.classify(fr, c, None) == hs.BLACK for c in cells):
            print('%04d %s' % (k, ' '.join(['off'] * len(cells))))
            continue
        print('%04d %s' % (k, ' '.join(token(fr, c, e) for c, e in zip(cells, expect))))
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
