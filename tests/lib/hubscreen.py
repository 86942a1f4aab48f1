# SPDX-License-Identifier: GPL-2.0
"""The screen oracle: what a veracamd hub's screen shows, cell by cell.

Every test that judges the hub's pixels asks this module: the glass test
(tests/glass.py, QMP screendumps), the daemon chain test
(tests/e2e/y4m.py, --display y4m:PATH), the adversarial suite
(tests/adversarial/world.py) and its own test (tests/lib/test_hubscreen.py).
A cell is one of:

  OWN          its camera's picture: the camera's solid colour at every
               sample point of the picture (away from the tag rows, the
               text and numbers the cameras burn in, and the hub's badge)
  UNAVAILABLE  the hub's own screen: the amber border on all four sides,
               the dark field inside it, amber text on the first line
  BLACK        dark all over (a grid slot without a camera)
  FOREIGN      anything else: for a cell with a camera, never acceptable

The palette and the geometry are not typed here: they are read from the
headers the hub draws with (daemon/hub/screen.h, daemon/hub/font.h) and
the tag layout from include/veracam/sim-sensor.h, in the source tree
this file is in (or $VERACAM_SRC). The rules that
combine them (where a cell is, where the picture lands in it) mirror
display.c's layout() and render_frame(), as screen.h describes them.

Frames come as Y4MFrame (the hub's y4m output: I420, compared in Y'CbCr
in the file's colorimetry) or RGBFrame (a screendump read through
GStreamer's pngdec, compared in RGB).
"""
import ast
import functools
import operator
import os
import re
import struct
import subprocess
import tempfile

OWN, UNAVAILABLE, FOREIGN, BLACK = 0, 1, 2, 3
NAMES = ('own', 'unavailable', 'foreign', 'black')

SRC = os.environ.get('VERACAM_SRC') or os.path.normpath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))

# --------------------------------------------------------------------------
# The spec: from the headers the hub is built from
# --------------------------------------------------------------------------

_DEFINE = re.compile(r'^#define\s+([A-Z][A-Z0-9_]*)\s+(.*?)\s*(?:/\*.*\*/)?\s*$')
_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
        ast.Div: operator.floordiv}


def _value(text, known):
    """An integer #define value: literals (C suffixes allowed), names
    defined before, + - * / and parentheses. None if it is anything else."""
    text = re.sub(r'\b(0[xX][0-9a-fA-F]+|\d+)[uUlL]*\b', r'\1', text)
    try:
        tree = ast.parse(text, mode='eval').body
    except SyntaxError:
        return None

    def ev(n):
        if isinstance(n, ast.Constant) and type(n.value) is int:
            return n.value
        if isinstance(n, ast.Name) and n.id in known:
            return known[n.id]
        if isinstance(n, ast.BinOp) and type(n.op) in _OPS:
            a, b = ev(n.left), ev(n.right)
            return None if a is None or b is None else _OPS[type(n.op)](a, b)
        return None
    return ev(tree)


def read_defines(path, prefix):
    """{name: value} of the integer #defines named prefix* in a C header;
    a prefix* define that is not a plain integer expression is an error
    (so that the oracle never runs on a guess)."""
    out = {}
    with open(path) as f:
        for line in f:
            m = _DEFINE.match(line)
            if not m or not m.group(1).startswith(prefix):
                continue
            v = _value(m.group(2), out)
            if v is None:
                raise SystemExit(f'{path}: {m.group(1)} is not an integer the screen '
                                 f'oracle can read: {m.group(2)!r}')
            out[m.group(1)] = v
    return out


def rgb_of(v):
    return (v >> 16 & 255, v >> 8 & 255, v & 255)


class Spec:
    """The hub's palette (RGB tuples) and geometry, from its headers."""

    def __init__(self, src=SRC):
        hub = os.path.join(src, 'daemon', 'hub')
        try:
            s = read_defines(os.path.join(hub, 'screen.h'), 'SCREEN_')
            s.update(read_defines(os.path.join(hub, 'font.h'), 'FONT_'))
            s.update(read_defines(os.path.join(src, 'include', 'veracam', 'sim-sensor.h'),
                                  'VERACAM_TAG_'))
        except OSError as e:
            raise SystemExit(f'screen oracle: {e} (set VERACAM_SRC to the veracam source '
                             f'tree the hub was built from)')
        self.raw = s
        try:
            self.black, self.white, self.badge, self.unavail_bg, self.unavail_fg = (
                rgb_of(s['SCREEN_' + k]) for k in
                ('BLACK', 'WHITE', 'BADGE', 'UNAVAIL_BG', 'UNAVAIL_FG'))
            self.unavail_wide = s['SCREEN_UNAVAIL_WIDE']
            self.border = s['SCREEN_UNAVAIL_BORDER']
            self.border_wide = s['SCREEN_UNAVAIL_BORDER_WIDE']
            self.unavail_chars = s['SCREEN_UNAVAIL_CHARS']
            self.unavail_lines = s['SCREEN_UNAVAIL_LINES']
            self.font_advance, self.font_line = s['FONT_ADVANCE'], s['FONT_LINE']
            self.tag_cells, self.tag_min_cell = s['VERACAM_TAG_CELLS'], s['VERACAM_TAG_MIN_CELL']
        except KeyError as e:
            raise SystemExit(f'screen oracle: {e.args[0]} is not defined in {src} '
                             f'(daemon/hub/screen.h, font.h, include/veracam/sim-sensor.h)')


SPEC = Spec()

# --------------------------------------------------------------------------
# Colour
# --------------------------------------------------------------------------

MATRIX = {b'BT601': (0.299, 0.114), b'BT709': (0.2126, 0.0722)}


def colorimetry(line):
    """(Kr, Kb, full range) of a y4m header line: XCOLORMATRIX=BT601|BT709
    and XCOLORRANGE=LIMITED|FULL; a C420jpeg file without them (older
    hubs) is full-range BT.601."""
    tags = line.split()[1:]
    kr, kb = MATRIX[b'BT601']
    full = b'C420jpeg' in tags
    for tok in tags:
        if tok.startswith(b'XCOLORMATRIX='):
            kr, kb = MATRIX[tok[13:]]
        elif tok.startswith(b'XCOLORRANGE='):
            full = tok[12:] == b'FULL'
    return kr, kb, full


@functools.lru_cache(maxsize=256)
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


@functools.lru_cache(maxsize=8)
def full_luma(col):
    """Code value -> luma on 0..255 (full range) of col, as 256 bytes."""
    if col[2]:
        return bytes(range(256))
    return bytes(max(0, min(255, round((v - 16) * 255 / 219))) for v in range(256))


def parse_colour(s):
    """RRGGBB -> (R, G, B)."""
    return rgb_of(int(s, 16))


# --------------------------------------------------------------------------
# Frames
# --------------------------------------------------------------------------

class Y4MFrame:
    """One I420 frame of the hub's y4m output. Pixels are Y, Cb, Cr code
    values; the hub lays its cells out on whole 2x2 blocks (align 2)."""
    align = 2
    tol = (40, 32, 32)

    def __init__(self, data, w, h, col):
        self.d, self.w, self.h, self.col = data, w, h, col
        self.cb = w * h
        self.cr = w * h + (w // 2) * (h // 2)
        self.lut = full_luma(col)

    def px(self, x, y):
        w, d = self.w, self.d
        ci = (y >> 1) * (w >> 1) + (x >> 1)
        return d[y * w + x], d[self.cb + ci], d[self.cr + ci]

    def luma(self, x, y):
        return self.lut[self.d[y * self.w + x]]

    def space(self, rgb):
        return to_ycc(rgb, self.col)

    def rgb(self, x, y):
        return to_rgb(self.px(x, y), self.col)


class RGBFrame:
    """A screendump as packed RGB rows (align 1: the KMS output is XRGB)."""
    align = 1
    tol = (48, 48, 48)

    def __init__(self, data, w, h, stride=None):
        self.d, self.w, self.h = data, w, h
        self.stride = stride or len(data) // h
        if self.stride < 3 * w:
            raise ValueError('short RGB data')

    def px(self, x, y):
        o = y * self.stride + 3 * x
        return self.d[o], self.d[o + 1], self.d[o + 2]

    def luma(self, x, y):
        r, g, b = self.px(x, y)
        return (299 * r + 587 * g + 114 * b) // 1000

    def space(self, rgb):
        return rgb

    rgb = px


def y4m_header(line):
    """(W, H, colorimetry) of a y4m header line."""
    if not line.startswith(b'YUV4MPEG2 '):
        raise ValueError('not a y4m stream')
    w = h = 0
    for tok in line.split()[1:]:
        if tok[:1] == b'W':
            w = int(tok[1:])
        elif tok[:1] == b'H':
            h = int(tok[1:])
    return w, h, colorimetry(line)


def y4m_frames(path, first=0):
    """The frames of a y4m file, from frame index @first on."""
    with open(path, 'rb') as f:
        line = f.readline()
        w, h, col = y4m_header(line)
        size = w * h * 3 // 2
        f.seek(len(line) + first * (size + 6))
        while True:
            tag = f.readline()
            if not tag:
                return
            if tag != b'FRAME\n':
                raise ValueError(f'{path}: bad frame header')
            data = f.read(size)
            if len(data) < size:
                return
            yield Y4MFrame(data, w, h, col)


def y4m_count(path):
    """Complete frames in a y4m file so far."""
    with open(path, 'rb') as f:
        line = f.readline()
    w, h, _ = y4m_header(line)
    return (os.path.getsize(path) - len(line)) // (w * h * 3 // 2 + 6)


def y4m_last(path):
    """The newest complete frame of a y4m file, or None."""
    n = y4m_count(path)
    return next(y4m_frames(path, n - 1), None) if n else None


def png_size(path):
    with open(path, 'rb') as f:
        return struct.unpack('>II', f.read(24)[16:24])


def png_frames(paths):
    """RGBFrames of PNG files, decoded by one gst-launch-1.0 (pngdec)."""
    if not paths:
        return
    with tempfile.TemporaryDirectory() as tmp:
        lst = os.path.join(tmp, 'shot-%04d.png')
        for k, p in enumerate(paths):
            os.symlink(os.path.abspath(p), lst % k)
        subprocess.run(
            ['gst-launch-1.0', '-q', 'multifilesrc', f'location={lst}',
             'start-index=0', f'stop-index={len(paths) - 1}', 'caps=image/png', '!',
             'pngdec', '!', 'videoconvert', '!', 'video/x-raw,format=RGB', '!',
             'multifilesink', f'location={tmp}/shot-%04d.rgb'], check=True)
        for k, p in enumerate(paths):
            w, h = png_size(p)
            with open(f'{tmp}/shot-{k:04d}.rgb', 'rb') as f:
                yield RGBFrame(f.read(), w, h)


# --------------------------------------------------------------------------
# The pattern camera's burned-in capture time (daemon/camera/pattern.c)
# --------------------------------------------------------------------------

# 3x5 glyphs of 4-pixel cells, each digit 16 px wide, in a black box at
# (0, 16) of the camera's picture: glyph bits (row by row) -> digit
# the capture time: 5 digits, zero-padded, then the check digit (a box of any
# other width is refused: a misjudged edge does not shift the digits)
NUMBER_DIGITS = 6
NUMBER_GLYPHS = {0x7b6f: 0, 0x2c97: 1, 0x73e7: 2, 0x73cf: 3, 0x5bc9: 4,
                 0x79cf: 5, 0x79ef: 6, 0x7249: 7, 0x7bef: 8, 0x7bcf: 9}


def picture_rows(fr, x0, y0, width, s=1):
    """row(y) for read_number: the luma (0..255) of row y of a picture
    shown at (x0, y0) of fr, scaled s times (the centre of each s x s
    block), width samples."""
    if s == 1 and isinstance(fr, Y4MFrame):
        w, d, lut = fr.w, fr.d, fr.lut

        def row(y):
            o = (y0 + y) * w + x0
            return d[o:o + width].translate(lut)
        return row
    h = s // 2
    return lambda y: bytes(fr.luma(x0 + x * s + h, y0 + y * s + h) for x in range(width))


def read_number(row, width):
    """The capture time the pattern camera burned into its picture, or
    None. row(y): the picture's luma row y (picture_rows). The box's right
    edge (three bright columns in a row across its 4-line top margin)
    must be where NUMBER_DIGITS digits end; every glyph must be a known one and the gap
    after it dark, and the check digit (the last) must make the digit sum a
    multiple of 10, so a blurred read fails instead of giving a wrong
    number."""
    margin = [row(y) for y in (16, 17, 18, 19)]

    def bright(x):
        return all(r[x] >= 48 for r in margin)
    end = 0
    while end < width - 3 and not (bright(end) and bright(end + 1) and bright(end + 2)):
        end += 1
    ndig, rem = divmod(end - 4 + 2, 16)
    if ndig != NUMBER_DIGITS or rem > 4 or end >= width - 3:
        return None
    glyph_rows = [row(22 + r * 4) for r in range(5)]
    value = digsum = 0
    for i in range(ndig):
        gx = 4 + i * 16
        glyph = 0
        for r in glyph_rows:
            for col in range(3):
                glyph = glyph << 1 | (r[gx + col * 4 + 2] > 126)
            if r[gx + 13] >= 48:        # the gap between digits
                return None
        d = NUMBER_GLYPHS.get(glyph)
        if d is None:
            return None
        value = value * 10 + d
        digsum += d
    # the last digit is a check digit: the digits' sum is a multiple of 10,
    # so one digit read as another (5 and 6 differ in one block) is refused
    if digsum % 10:
        return None
    return value // 10


# --------------------------------------------------------------------------
# Layout: display.c's layout() and render_frame()
# --------------------------------------------------------------------------

class Cell:
    """Cell i of a screen (x, y, w, h) and the picture's place in it
    (dx, dy, dw, dh relative to the cell) for a picture of pw x ph."""

    def __init__(self, x, y, w, h, align):
        self.x, self.y, self.w, self.h, self.align = x, y, w, h, align
        self.fit(w, h)

    def fit(self, pw, ph):
        a, cw, ch = self.align, self.w, self.h
        if pw * ch >= cw * ph:
            dw, dh = cw, cw * ph // pw
        else:
            dw, dh = ch * pw // ph, ch
        self.dw, self.dh = max(a, dw // a * a), max(a, dh // a * a)
        self.dx = (cw - self.dw) // 2 // a * a
        self.dy = (ch - self.dh) // 2 // a * a
        self.pw, self.ph = pw, ph
        return self

    def at(self, fr, x, y):
        """Frame pixel at (x, y) of the cell."""
        return fr.px(self.x + x, self.y + y)

    def source_xy(self, sx, sy):
        """Screen position showing the picture's pixel (sx, sy)."""
        return (self.x + self.dx + int(sx * self.dw / self.pw),
                self.y + self.dy + int(sy * self.dh / self.ph))


def layout(w, h, ncams, align=1):
    """The cells of a w x h screen showing ncams cameras (1 to 4)."""
    if ncams == 1:
        return [Cell(0, 0, w, h, align)]
    lw, th = w // 2 // align * align, h // 2 // align * align
    return [Cell(lw if i & 1 else 0, th if i & 2 else 0,
                 w - lw if i & 1 else lw, h - th if i & 2 else th, align)
            for i in range(4)]


# --------------------------------------------------------------------------
# The verdict
# --------------------------------------------------------------------------

# the picture's sample points, % of its width and height: right of the
# pattern camera's capture-time digits, below veracam.ko's tag rows and
# text line, above the hub's badge and the camera name
OWN_X, OWN_Y = (45, 60, 75, 90), (40, 50, 60, 70)


def near(p, ref, tol):
    return (abs(p[0] - ref[0]) <= tol[0] and abs(p[1] - ref[1]) <= tol[1] and
            abs(p[2] - ref[2]) <= tol[2])


def own(fr, cell, colour):
    ref, tol = fr.space(colour), fr.tol
    for fx in OWN_X:
        for fy in OWN_Y:
            x, y = cell.source_xy(cell.pw * fx / 100, cell.ph * fy / 100)
            if not near(fr.px(x, y), ref, tol):
                return False
    return True


def unavailable(fr, cell, spec=SPEC):
    """The hub's unavailable screen fills the cell."""
    cw, ch = cell.w, cell.h
    fg, bg, tol = fr.space(spec.unavail_fg), fr.space(spec.unavail_bg), fr.tol
    border = spec.border_wide if cw >= spec.unavail_wide else spec.border
    for x, y in ((0, ch // 2), (cw - 1, ch // 2), (cw // 2, 0), (cw // 2, ch - 1),
                 (border - 1, ch // 3), (cw - border, ch * 2 // 3)):
        if not near(cell.at(fr, x, y), fg, tol):
            return False
    for x, y in ((border, ch // 2), (cw // 2, ch // 12), (cw // 2, ch * 11 // 12),
                 (cw // 24, ch // 2), (cw * 23 // 24, ch // 2)):
        if not near(cell.at(fr, x, y), bg, tol):
            return False
    # the first text line ("STREAM UNAVAILABLE") has amber in it: luma
    # only, a 1-pixel stroke's chroma is its 2x2 block's in I420
    line, lines = spec.font_line, spec.unavail_lines
    scale = max(1, cw // (spec.font_advance * spec.unavail_chars))
    while scale > 1 and lines * line * scale + 2 * border > ch:
        scale -= 1
    top = (ch - lines * line * scale) // 2
    amber = sum(v * k for v, k in zip(spec.unavail_fg, (299, 587, 114))) // 1000
    return any(abs(fr.luma(cell.x + x, cell.y + y) - amber) <= tol[0]
               for y in range(top, top + line * scale, scale)
               for x in range(cw // 4, cw * 3 // 4, 2))


def black(fr, cell):
    return all(fr.luma(cell.x + cell.w * fx // 8, cell.y + cell.h * fy // 8) <= 16
               for fx in range(8) for fy in range(8))


def classify(fr, cell, colour, spec=SPEC):
    """OWN, UNAVAILABLE or FOREIGN for a cell whose camera's colour is
    @colour (R, G, B); for a cell without a camera (colour None) BLACK or
    FOREIGN."""
    if colour is None:
        return BLACK if black(fr, cell) else FOREIGN
    if own(fr, cell, colour):
        return OWN
    if unavailable(fr, cell, spec):
        return UNAVAILABLE
    return FOREIGN


def tag_row(fr, cell, row, spec=SPEC):
    """The value of veracam's burned-in tag row @row (0: sequence, 1: camera
    tag) of the cell's picture, None if its guard cells are wrong."""
    c = max(spec.tag_min_cell, (cell.pw // 40) & ~1)     # veracam_tag_cell_size()
    n = spec.tag_cells
    bits = [fr.luma(*cell.source_xy(k * c + c / 2, row * c + c / 2)) >= 128
            for k in range(n)]
    if bits[:2] != [True, False] or bits[-2:] != [False, True]:
        return None
    v = 0
    for b in bits[2:-2]:
        v = v << 1 | b
    return v
