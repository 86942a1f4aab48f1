#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Classify the frames a veracamd hub wrote with --display y4m:PATH, by
the screen oracle (tests/lib/hubscreen.py): each camera cell of each
frame is own, unavailable or foreign (must never happen).

  y4m.py classify FILE COLOUR [COLOUR ...]
      one COLOUR (RRGGBB) per cell: 1 = full screen, 2..4 = 2x2 grid.
      Prints "frames=N" and per cell "cellI own=.. unavailable=.. foreign=..".
      Exit 1 if any cell of any frame is foreign.
  y4m.py watch FILE NCELLS CELL COLOUR own|unavailable SINCE
      Wait (up to 30 s) until the newest frame's CELL is own/unavailable,
      then print the seconds since SINCE (a time.time() value; or @PATH:
      started before the event, it creates PATH.ready once loaded and
      measures from the time the caller then writes to PATH).
  y4m.py tiles FILE PW PH COLOUR [COLOUR ...]
      The events view (daemon/hub/display.c compose_events): one COLOUR
      per camera cell, each cell cut 2x2 into tiles; each tile of the
      newest frame is own (the camera's colour, a thumbnail of PW x PH
      fitted in it, with its badge: "own+badge"), placeholder (the hub's
      own screen: an unavailable event or a gap), black (no event) or
      foreign (anything else: another camera's colour included). Prints
      "camI tileK CLASS" lines; exit 1 if any is foreign.
  y4m.py tags FILE
      For a full-screen camera shown at its own size: the camera tag that
      veracam.ko burns into its frames (include/veracam/sim-sensor.h: row 1 of the
      tag cells), read from every frame whose guard cells are intact;
      prints "TAG count" lines, most frequent first.
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
import hubscreen as hs   # noqa: E402


def cmd_classify(path, colours):
    counts = [[0, 0, 0] for _ in colours]
    total = 0
    first_foreign = None
    cells = None
    for k, fr in enumerate(hs.y4m_frames(path)):
        cells = cells or hs.layout(fr.w, fr.h, len(colours), fr.align)
        total += 1
        for i, c in enumerate(colours):
            cls = hs.classify(fr, cells[i], c)
            counts[i][cls] += 1
            if cls == hs.FOREIGN and first_foreign is None:
                first_foreign = (k, i)
    print('frames=%d' % total)
    for i, c in enumerate(counts):
        print('cell%d own=%d unavailable=%d foreign=%d' % (i, *c))
    if first_foreign:
        print('first foreign: frame %d cell %d' % first_foreign)
        return 1
    return 0


def wait_since(since):
    """SINCE is a time.time() value, or @PATH: say ready (PATH.ready), then
    wait for the event's time to be written to PATH. So a watcher started
    before an event measures from the event itself, not from its own
    start-up (which a loaded machine can make take seconds)."""
    if not since.startswith('@'):
        return float(since)
    path = since[1:]
    open(path + '.ready', 'w').close()
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            with open(path) as f:
                text = f.read().strip()
            if text:
                return float(text)
        except OSError:
            pass
        time.sleep(0.01)
    raise SystemExit('watch: no event time in ' + path)


def cmd_watch(path, n, cell, colour, want, since):
    since = wait_since(since)
    deadline = time.time() + 30
    while time.time() < deadline:
        fr = hs.y4m_last(path) if os.path.exists(path) else None
        if fr and hs.NAMES[hs.classify(fr, hs.layout(fr.w, fr.h, n, fr.align)[cell],
                                       colour)] == want:
            print('%.3f' % (time.time() - since))
            return 0
        time.sleep(0.01)
    print('timeout')
    return 1


def tiles_of(cell, a):
    lw, th = cell.w // 2 // a * a, cell.h // 2 // a * a
    return [hs.Cell(cell.x + (lw if k & 1 else 0), cell.y + (th if k & 2 else 0),
                    cell.w - lw if k & 1 else lw, cell.h - th if k & 2 else th, a)
            for k in range(4)]


def badge(fr, t):
    """The SCREEN_BADGE box at the bottom left of the picture (luma: the
    text's 2x2 blocks share its chroma)."""
    pad, line = hs.SPEC.raw['SCREEN_BADGE_PAD'], hs.SPEC.font_line
    y = t.y + t.dy + t.dh - pad - line
    ref = fr.space(hs.SPEC.badge)[0]
    return all(abs(fr.luma(t.x + t.dx + pad + k, y) - ref) <= fr.tol[0] for k in (1, 2, 3))


def cmd_tiles(path, pw, ph, colours):
    fr = hs.y4m_last(path)
    cells = hs.layout(fr.w, fr.h, len(colours), fr.align)
    foreign = 0
    for i, colour in enumerate(colours):
        for k, t in enumerate(tiles_of(cells[i], fr.align)):
            t.fit(pw, ph)
            if hs.own(fr, t, colour):
                cls = 'own+badge' if badge(fr, t) else 'own'
            elif hs.unavailable(fr, t):
                cls = 'placeholder'
            elif hs.black(fr, t):
                cls = 'black'
            else:
                cls = 'foreign'
                foreign += 1
            print('cam%d tile%d %s' % (i, k, cls))
    return 1 if foreign else 0


def cmd_tags(path):
    seen = {}
    for fr in hs.y4m_frames(path):
        t = hs.tag_row(fr, hs.layout(fr.w, fr.h, 1, fr.align)[0], 1)
        if t is not None:
            seen[t] = seen.get(t, 0) + 1
    for t, k in sorted(seen.items(), key=lambda x: -x[1]):
        print('%08x %d' % (t, k))
    return 0


def main(argv):
    if len(argv) >= 3 and argv[0] == 'classify':
        return cmd_classify(argv[1], [hs.parse_colour(c) for c in argv[2:]])
    if len(argv) == 7 and argv[0] == 'watch':
        return cmd_watch(argv[1], int(argv[2]), int(argv[3]), hs.parse_colour(argv[4]),
                         argv[5], argv[6])
    if len(argv) >= 5 and argv[0] == 'tiles':
        return cmd_tiles(argv[1], int(argv[2]), int(argv[3]),
                         [hs.parse_colour(c) for c in argv[4:]])
    if len(argv) == 2 and argv[0] == 'tags':
        return cmd_tags(argv[1])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
