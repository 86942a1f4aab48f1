#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The adversarial suite: the incidents of the product brief replayed
against real veracamd cameras and hubs through a hostile relay.

Four pattern cameras and four hubs on 127.0.0.0/8; every hub reaches its
cameras only through tests/adversarial/relay (one link per hub-camera
pairing). Scenarios drive the relay (misroute, splice, replay, swap,
network faults, outages); every frame every hub writes (y4m into a FIFO)
is classified by its pixels, per cell, as the paired camera's pattern,
the hub's unavailable screen, or FOREIGN. The frame number the pattern
camera burns into each frame is read back from the pixels, so the age of
every shown frame is measured independently of the hub.

Assertions per scenario: no foreign frame; no own frame where the relay
withheld every genuine unit (a leak of a replayed/misrouted/stale
picture); no frame shown older than the freshness window allows; the
hub's reject counters agree with what the relay did; every daemon alive;
after outages every cell shows its camera again within 3 s. At the end:
daemons stop with SIGTERM and exit 0, no sanitizer report in any log,
and with --soak, memory flat.

    run.py [--build BUILD_DIR] [--soak SECONDS] [--seed N] [--fps N] [--only A,B] [--keep]

See docs/ADVERSARIAL.md. Exit status 0 = every assertion held, 1 = some
failed, 77 = cannot run here (reason printed).
"""
import argparse
import bisect
import errno
import fcntl
import json
import os
import re
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

# --------------------------------------------------------------------------
# Topology
# --------------------------------------------------------------------------

# name, colour (RRGGBB): well apart from each other and from the hub's
# unavailable screen (amber f0a000 border on 1c1c24) in every YCbCr channel.
CAMERAS = [
    ('porch', 'd02020'),
    ('nursery', '20b030'),
    ('garage', '2040e0'),
    ('attic', 'd0c020'),
]
# name, cameras (grid cells in this order), media transport asked for
HUBS = [
    ('kitchen', ['porch'], 'auto'),                            # one camera, full screen
    ('hall', ['porch', 'nursery'], 'auto'),                    # porch shared by three hubs
    ('bedroom', ['nursery', 'garage', 'attic'], 'tcp'),        # TCP media through the relay
    ('office', ['porch', 'nursery', 'garage', 'attic'], 'auto'),
]
HUBS_CAMS = [(h, cams) for h, cams, _ in HUBS]
WIDTH, HEIGHT = 160, 120          # camera frames; grid cells are the same size (1:1)
FRESHNESS = 2.0                   # hub --freshness (the verifier's window)
UNAVAILABLE = 1.0                 # hub --unavailable-timeout
BACKOFF_MAX = '2s'                # hub --backoff-max (see docs/ADVERSARIAL.md)
GRACE = UNAVAILABLE + 0.6         # after a cut, the last genuine frame may stay this long
SLACK = 0.35                      # decode + compose + FIFO on a loaded 2-core host
RECOVERY_LIMIT = 3.0              # after an outage (the product's promise)
RECOVERY_CLEARED = 10.0           # after any attack stops: the hub must not stay stuck
STALL = 0.15                      # a canary sleep this much late is a host stall


def link_id(hub, cam):
    return f'{hub}.{cam}'


# --------------------------------------------------------------------------
# Pixels
# --------------------------------------------------------------------------

def yuv(rgb):
    """Full-range BT.601 (JFIF), what the hub's y4m writer produces."""
    r, g, b = rgb
    return (0.299 * r + 0.587 * g + 0.114 * b,
            -0.168736 * r - 0.331264 * g + 0.5 * b + 128,
            0.5 * r - 0.418688 * g - 0.081312 * b + 128)


def hexrgb(s):
    v = int(s, 16)
    return (v >> 16 & 255, v >> 8 & 255, v & 255)


UNAVAIL_FG = yuv(hexrgb('f0a000'))
UNAVAIL_BG = yuv(hexrgb('1c1c24'))
TOL_Y, TOL_C = 40, 32
OWN, UNAV, FOREIGN, NONE = 0, 1, 2, 3
CLASS_NAMES = ('own', 'unavailable', 'FOREIGN')

# The pattern camera's frame number: 3x5 glyphs, 4-pixel cells, box at (0, 16).
DIGITS = {0x7b6f: 0, 0x2c97: 1, 0x73e7: 2, 0x73cf: 3, 0x5bc9: 4,
          0x79cf: 5, 0x79ef: 6, 0x7249: 7, 0x7bef: 8, 0x7bcf: 9}


class Layout:
    def __init__(self, w, h, ncams):
        self.w, self.h, self.n = w, h, ncams
        self.usize = w * h // 4
        self.cells = []
        for i in range(ncams):
            if ncams == 1:
                self.cells.append((0, 0, w, h))
            else:
                self.cells.append(((i % 2) * (w // 2), (i // 2) * (h // 2), w // 2, h // 2))

    def px(self, fr, x, y):
        w = self.w
        ci = (y >> 1) * (w >> 1) + (x >> 1)
        return fr[y * w + x], fr[w * self.h + ci], fr[w * self.h + self.usize + ci]


def near(p, ref):
    return (abs(p[0] - ref[0]) <= TOL_Y and abs(p[1] - ref[1]) <= TOL_C and
            abs(p[2] - ref[2]) <= TOL_C)


def classify_cell(lay, fr, cell, colour):
    x0, y0, cw, ch = lay.cells[cell]
    own = True
    for fx in (45, 60, 75, 90):
        for fy in (40, 50, 60, 70):
            if not near(lay.px(fr, x0 + cw * fx // 100, y0 + ch * fy // 100), colour):
                own = False
                break
        if not own:
            break
    if own:
        return OWN
    if (near(lay.px(fr, x0, y0 + ch // 2), UNAVAIL_FG) and
            near(lay.px(fr, x0 + cw - 1, y0 + ch // 2), UNAVAIL_FG) and
            near(lay.px(fr, x0 + cw // 2, y0 + ch // 8), UNAVAIL_BG) and
            near(lay.px(fr, x0 + cw // 8, y0 + ch * 7 // 8), UNAVAIL_BG) and
            near(lay.px(fr, x0 + cw * 7 // 8, y0 + ch // 8), UNAVAIL_BG)):
        return UNAV
    return FOREIGN


def read_number(lay, fr, cell):
    """The burned-in frame number of an own cell shown 1:1, or None.

    The number sits in a black box at (0, 16), 16 px per digit + 4. The
    box's right edge (three bright columns in a row across its 4-line top
    margin) gives the digit count; every digit's glyph must be a known one
    and the gap after it black, so a blurred read fails instead of giving a
    wrong number (and evaluate() only trusts a number its neighbours agree
    with)."""
    x0, y0, cw, ch = lay.cells[cell]
    if cw != WIDTH or ch != HEIGHT:
        return None
    w = lay.w
    rows = [(y0 + y) * w + x0 for y in (16, 17, 18, 19)]     # the box's top margin

    def bright(x):
        return all(fr[r + x] >= 48 for r in rows)
    end = 0
    while end < cw - 3 and not (bright(end) and bright(end + 1) and bright(end + 2)):
        end += 1
    ndig, rem = divmod(end - 4 + 2, 16)
    if ndig < 1 or rem > 4 or end >= cw - 3:
        return None
    value = 0
    for i in range(ndig):
        gx = x0 + 4 + i * 16
        glyph = 0
        for r in range(5):
            base = (y0 + 22 + r * 4) * w
            for col in range(3):
                glyph = glyph << 1 | (fr[base + gx + col * 4 + 2] > 126)
            if fr[base + gx + 13] >= 48:        # the gap between digits
                return None
        d = DIGITS.get(glyph)
        if d is None:
            return None
        value = value * 10 + d
    return value


# --------------------------------------------------------------------------
# Processes and I/O
# --------------------------------------------------------------------------

def free_port(ip):
    """A port free for both TCP and UDP on ip."""
    for _ in range(50):
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        t.bind((ip, 0))
        port = t.getsockname()[1]
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            u.bind((ip, port))
        except OSError:
            continue
        finally:
            u.close()
            t.close()
        return port
    raise SystemExit(f'no free port on {ip}')


def status(path, timeout=2.0):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(path)
        data = b''
        while True:
            d = s.recv(65536)
            if not d:
                break
            data += d
        return json.loads(data)
    except (OSError, ValueError):
        return None
    finally:
        s.close()


def rss_kb(pid):
    try:
        with open(f'/proc/{pid}/status') as f:
            for line in f:
                if line.startswith('VmRSS:'):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


PIPELINE_RE = re.compile(r'(\d\d:\d\d:\d\d)\.(\d+): capture: ')
GLASS_RE = re.compile(r'camera (\S+): frame on glass \[.*VERACAM_GLASS_US=(\d+)')
SESSION_RE = re.compile(r'camera (\S+): session ([0-9a-f]+), .*\(rtt (-?\d+) us\)')


class Hub:
    def __init__(self, name, cams, transport, run):
        self.name, self.cams, self.transport = name, cams, transport
        self.colours = [yuv(hexrgb(dict(CAMERAS)[c])) for c in cams]
        self.w, self.h = (WIDTH, HEIGHT) if len(cams) == 1 else (2 * WIDTH, 2 * HEIGHT)
        self.lay = Layout(self.w, self.h, len(cams))
        self.flen = 6 + self.w * self.h * 3 // 2
        self.fifo = os.path.join(run.dir, name + '.y4m')
        self.sock = os.path.join(run.dir, name + '.sock')
        self.keys = os.path.join(run.dir, name)
        self.lock = run.lock
        self.t0 = run.t_start      # log lines are stamped with the run's clock
        os.mkfifo(self.fifo, 0o600)
        self.fd = os.open(self.fifo, os.O_RDONLY | os.O_NONBLOCK)
        try:
            fcntl.fcntl(self.fd, 1031, 1 << 18)   # F_SETPIPE_SZ: two grid frames
        except OSError:
            pass
        self.buf = bytearray()
        self.header = None
        self.eof = False
        # per frame: time, classes per cell, frame numbers per cell
        self.t, self.cls, self.num = [], [], []
        self.glass = []      # (t, cell, seconds) from the hub's own log
        self.unc = {}        # cell -> verifier uncertainty of the current session
        self.log = None
        self.proc = None
        self.errbuf = b''

    def feed(self, now):
        while True:
            try:
                d = os.read(self.fd, 1 << 20)
            except BlockingIOError:
                return
            if not d:
                if self.header is not None:
                    self.eof = True
                return
            self.buf += d
            if self.header is None:
                i = self.buf.find(b'\n')
                if i < 0:
                    continue
                self.header = bytes(self.buf[:i])
                del self.buf[:i + 1]
                if f'W{self.w} H{self.h} '.encode() not in self.header:
                    raise RuntimeError(f'{self.name}: unexpected y4m header {self.header!r}')
            new = []
            while len(self.buf) >= self.flen:
                if self.buf[:6] != b'FRAME\n':
                    raise RuntimeError(f'{self.name}: y4m stream out of sync')
                fr = bytes(self.buf[6:self.flen])
                del self.buf[:self.flen]
                cls, num = [], []
                for i, colour in enumerate(self.colours):
                    c = classify_cell(self.lay, fr, i, colour)
                    cls.append(c)
                    num.append(read_number(self.lay, fr, i) if c == OWN else None)
                new.append((tuple(cls), tuple(num)))
            with self.lock:
                for cls, num in new:
                    self.t.append(now)
                    self.cls.append(cls)
                    self.num.append(num)

    def feed_log(self, now):
        try:
            d = os.read(self.proc.stderr.fileno(), 1 << 16)
        except BlockingIOError:
            return
        if not d:
            return
        self.errbuf += d
        *lines, self.errbuf = self.errbuf.split(b'\n')
        stamp = f'{now - self.t0:9.3f} '.encode()
        for raw in lines:
            self.log.write(stamp + raw + b'\n')
            line = raw.decode(errors='replace')
            m = GLASS_RE.search(line)
            if m and m.group(1) in self.cams:
                with self.lock:
                    self.glass.append((now, self.cams.index(m.group(1)),
                                       int(m.group(2)) / 1e6))
                continue
            m = SESSION_RE.search(line)
            if m and m.group(1) in self.cams:
                rtt = max(0, int(m.group(3))) / 1e6
                self.unc[self.cams.index(m.group(1))] = min(rtt / 2, 1.0)


# --------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------

class Run:
    def __init__(self, args):
        self.args = args
        self.fps = args.fps
        self.dir = tempfile.mkdtemp(prefix='veracam-adv.')
        self.procs = {}          # name -> Popen
        self.hubs = []
        self.cam_addr = {}
        self.cam_sock = {}
        self.links = {}          # link id -> front "ip:port"
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.captured = {c: [] for c, _ in CAMERAS}    # (t, frames_captured)
        self.rss = {}            # name -> [(t, kB)]
        self.stalls = []         # (start, end): this process did not run (host starved it)
        self.results = []
        self.failures = []
        self.relay = None
        self.t_start = time.monotonic()
        self.t0_unix = time.time()
        self._starts = {}
        self.env = dict(os.environ)
        self.env.setdefault('GST_REGISTRY', os.path.join(self.dir, 'gst-registry.bin'))
        self.env.setdefault('ASAN_OPTIONS', 'detect_leaks=1:abort_on_error=1')
        self.env.setdefault('UBSAN_OPTIONS', 'print_stacktrace=1:halt_on_error=1')
        supp = os.path.join(args.source, 'tests/unit/camera/lsan.supp')
        if os.path.exists(supp):
            self.env.setdefault('LSAN_OPTIONS',
                                'fast_unwind_on_malloc=0:print_suppressions=0:suppressions=' + supp)

    # ---- helpers
    def log(self, msg):
        print(f'# [{time.monotonic() - self.t_start:7.1f}s] {msg}', flush=True)

    def sleep(self, s):
        end = time.monotonic() + s
        while not self.stop.is_set():
            left = end - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(left, 0.2))
            self.check_alive()

    def ctl(self, *a):
        r = subprocess.run([self.args.veracamctl, *a], capture_output=True, text=True, env=self.env)
        if r.returncode:
            raise SystemExit(f'veracamctl {" ".join(a)}: {r.stderr.strip()}')
        return r.stdout.strip()

    def relay_cmd(self, line):
        self.relay.stdin.write(line + '\n')
        self.relay.stdin.flush()
        out = self.relay.stdout.readline()
        if not out:
            raise SystemExit(f'relay died (command {line!r})')
        r = json.loads(out)
        if not r.get('ok'):
            raise SystemExit(f'relay refused {line!r}: {r}')
        return r

    def check_alive(self):
        for name, p in self.procs.items():
            if p.poll() is not None:
                self.failures.append(f'{name} exited with status {p.returncode} during the run')
                self.stop.set()
                raise DaemonDied(name, p.returncode)

    # ---- set-up
    def keys(self):
        for c, _ in CAMERAS:
            self.ctl('keygen', os.path.join(self.dir, c))
        for h, _, _ in HUBS:
            self.ctl('keygen', os.path.join(self.dir, h))
        ident = {n: self.ctl('identity', os.path.join(self.dir, n))
                 for n in [c for c, _ in CAMERAS] + [h for h, _, _ in HUBS]}
        for h, cams, _ in HUBS:
            for c in cams:
                self.ctl('trust', os.path.join(self.dir, h), c, ident[c], '--role', 'camera')
                self.ctl('trust', os.path.join(self.dir, c), h, ident[h], '--role', 'hub')

    def start_cameras(self):
        for i, (c, colour) in enumerate(CAMERAS):
            ip = f'127.0.1.{i + 1}'
            self.cam_addr[c] = f'{ip}:{free_port(ip)}'
            self.cam_sock[c] = os.path.join(self.dir, c + '.sock')
            log = open(os.path.join(self.dir, c + '.log'), 'wb')
            self.procs[c] = subprocess.Popen(
                [self.args.veracamd, 'camera', '--keys', os.path.join(self.dir, c), '--name', c,
                 '--source', 'pattern:' + colour, '--listen', self.cam_addr[c],
                 '--width', str(WIDTH), '--height', str(HEIGHT), '--fps', str(self.fps),
                 '--bitrate', self.args.bitrate, '--idr-interval', '1s',
                 '--status-socket', self.cam_sock[c]],
                stdout=log, stderr=subprocess.STDOUT, env=self.env)
            if i == 0:
                self.wait_ready(c)      # builds the GStreamer registry once
        for c, _ in CAMERAS:
            self.wait_ready(c)

    def wait_ready(self, c):
        end = time.monotonic() + 90
        while time.monotonic() < end:
            self.check_alive()
            s = status(self.cam_sock[c])
            if s and s.get('ready'):
                return
            time.sleep(0.2)
        raise SystemExit(f'camera {c} not ready within 90 s')

    def start_relay(self):
        args = [self.args.relay, '--seed', str(self.args.seed),
                '--max-runtime', str(int(self.args.budget + 600))]
        for c, _ in CAMERAS:
            args += ['--camera', f'{c}={self.cam_addr[c]}']
        k = 0
        for h, cams, _ in HUBS:
            for c in cams:
                k += 1
                ip = f'127.0.2.{k}'
                self.links[link_id(h, c)] = f'{ip}:{free_port(ip)}'
                args += ['--link', f'{link_id(h, c)}={self.links[link_id(h, c)]},{c}']
        self.relay_log = open(os.path.join(self.dir, 'relay.log'), 'wb')
        self.relay = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=self.relay_log, text=True, bufsize=1, env=self.env)
        self.procs['relay'] = self.relay
        ready = json.loads(self.relay.stdout.readline() or '{}')
        if not ready.get('ready'):
            raise SystemExit('relay did not start: see relay.log')

    def start_hubs(self):
        for h, cams, transport in HUBS:
            hub = Hub(h, cams, transport, self)
            hub.log = open(os.path.join(self.dir, h + '.log'), 'wb')
            args = [self.args.veracamd, 'hub', '--keys', hub.keys,
                    '--display', 'y4m:' + hub.fifo, '--output-size', f'{hub.w}x{hub.h}',
                    '--transport', transport, '--freshness', f'{int(FRESHNESS * 1000)}ms',
                    '--unavailable-timeout', f'{int(UNAVAILABLE * 1000)}ms',
                    '--backoff-max', BACKOFF_MAX, '--status-socket', hub.sock,
                    '--log-level', 'debug']
            for c in cams:
                args += ['--camera', f'{c}@{self.links[link_id(h, c)]}']
            hub.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                        env=self.env)
            os.set_blocking(hub.proc.stderr.fileno(), False)
            self.procs[h] = hub.proc
            self.hubs.append(hub)

    # ---- background: FIFOs, logs, camera clocks, memory
    def reader(self):
        try:
            self.read_loop()
        except Exception as e:      # noqa: BLE001 - any reader failure ends the run
            self.failures.append(f'frame reader: {e!r}')
            self.stop.set()
            for hub in self.hubs:
                if hub.proc.poll() is None:
                    hub.proc.send_signal(signal.SIGTERM)

    def read_loop(self):
        fds = {}
        for hub in self.hubs:
            fds[hub.fd] = (hub, 'y4m')
            fds[hub.proc.stderr.fileno()] = (hub, 'log')
        while not self.stop.is_set() or any(not h.eof for h in self.hubs):
            r, _, _ = select.select(list(fds), [], [], 0.05)
            now = time.monotonic()
            for fd in r:
                hub, kind = fds[fd]
                if kind == 'y4m':
                    hub.feed(now)
                else:
                    hub.feed_log(now)
            if self.stop.is_set() and all(h.proc.poll() is not None for h in self.hubs):
                for hub in self.hubs:
                    hub.feed(time.monotonic())
                    hub.feed_log(time.monotonic())
                return

    def canary(self):
        """Notice when the host does not run us: a 20 ms sleep that takes
        much longer means every process of the run (all niced alike) was
        starved too, and a picture may have stayed on screen through it
        without the hub being at fault."""
        while not self.stop.is_set():
            t = time.monotonic()
            time.sleep(0.02)
            late = time.monotonic() - t - 0.02
            if late > STALL:
                self.stalls.append((t + 0.02, t + 0.02 + late))

    def stalled(self, a, b):
        """Seconds of [a, b] inside noticed stalls."""
        return sum(max(0.0, min(b, e) - max(a, s)) for s, e in list(self.stalls))

    def sampler(self):
        last_rss = 0
        while not self.stop.is_set():
            now = time.monotonic()
            for c, _ in CAMERAS:
                s = status(self.cam_sock[c], timeout=0.5)
                if s and 'frames_captured' in s:
                    with self.lock:
                        self.captured[c].append((time.monotonic(), s['frames_captured']))
            if now - last_rss >= self.args.rss_interval:
                last_rss = now
                for name, p in self.procs.items():
                    kb = rss_kb(p.pid)
                    if kb:
                        self.rss.setdefault(name, []).append((now, kb))
            time.sleep(0.25)

    # ---- measurement
    def count_time(self, cam, count):
        """When camera @cam's frames_captured reached @count: interpolated
        between the two status polls around it, None outside them."""
        samples = self.captured[cam]
        i = bisect.bisect_left(samples, count, key=lambda s: s[1])
        if i == 0 or i >= len(samples):
            return None
        (ta, ca), (tb, cb) = samples[i - 1], samples[i]
        return ta + (tb - ta) * (count - ca) / (cb - ca)

    def count_at(self, cam, t):
        """frames_captured of @cam at run time @t (interpolated; the nearest
        poll outside the polled time)."""
        samples = self.captured[cam]
        i = bisect.bisect_left(samples, t, key=lambda s: s[0])
        if not samples:
            return None
        if i == 0 or i >= len(samples):
            return samples[min(i, len(samples) - 1)][1]
        (ta, ca), (tb, cb) = samples[i - 1], samples[i]
        return ca + (cb - ca) * (t - ta) / ((tb - ta) or 1)

    def pipeline_starts(self, cam):
        """Run times at which @cam (re)started its capture pipeline: its frame
        numbers restart at 0 there (the camera retries a stalled encoder)."""
        if cam in self._starts:
            return self._starts[cam]
        starts = []
        day = time.strftime('%Y-%m-%d', time.localtime(self.t0_unix))
        try:
            with open(os.path.join(self.dir, cam + '.log'), errors='replace') as f:
                for line in f:
                    m = PIPELINE_RE.search(line)
                    if m:
                        wall = time.mktime(time.strptime(f'{day} {m.group(1)}',
                                                         '%Y-%m-%d %H:%M:%S'))
                        starts.append(wall + float('0.' + m.group(2)) - self.t0_unix)
        except OSError:
            pass
        self._starts[cam] = starts[1:] and starts    # the first start is frame 0 anyway
        return self._starts[cam] or [0.0]

    def capture_time(self, cam, n, shown):
        """When camera @cam captured the frame numbered @n that a hub showed
        at run time @shown: frame n of the pipeline started at s is the
        (n + 1)-th frame captured since s. Of the pipelines started before
        @shown, the one that makes the frame youngest (but not from the
        future) is taken."""
        best = None
        for i, start in enumerate(self.pipeline_starts(cam)):
            if i and start > shown:
                continue
            base = self.count_at(cam, start) if i else 0
            if base is None:
                continue
            cap = self.count_time(cam, int(round(base)) + n + 1)
            if cap is not None and cap <= shown + 0.2 and (best is None or cap > best):
                best = cap
        return best

    def snapshot(self):
        """Every daemon's status (a daemon whose loop does not answer within
        3 x 2 s is listed as unresponsive) and the relay's counters."""
        snap = {'hubs': {}, 'cams': {}, 'unresponsive': []}
        for kind, names in (('hubs', [(h.name, h.sock) for h in self.hubs]),
                            ('cams', [(c, self.cam_sock[c]) for c, _ in CAMERAS])):
            for name, sock in names:
                for _ in range(3):
                    snap[kind][name] = status(sock)
                    if snap[kind][name]:
                        break
                else:
                    snap['unresponsive'].append(name)
        snap['relay'] = self.relay_cmd('stats')
        return snap

    def cells(self):
        return [(hub, i) for hub in self.hubs for i in range(len(hub.cams))]

    def wait_all_own(self, since, limit):
        """Seconds until every cell shows its camera after @since, per cell."""
        end = since + limit
        while True:
            first = run_recovery(self, since)
            if len(first) == len(self.cells()) or time.monotonic() > end:
                return first
            self.sleep(0.1)


class DaemonDied(Exception):
    pass


# --------------------------------------------------------------------------
# Scenarios
# --------------------------------------------------------------------------

class Scenario:
    """One attack: phases on the relay, then what must (not) be seen."""

    def __init__(self, run, kind, name, what):
        self.run, self.kind, self.name, self.what = run, kind, name, what
        self.no_own = []         # (hub, cell, t_from, t_to): genuine units withheld
        self.marks = {}          # name -> status snapshot taken during the attack
        self.recover_at = []     # (label, t): cells must show their camera again
        self.checks = []         # (description, ok)
        self.recovery = {}       # label -> {cell: seconds}

    def relay(self, line):
        self.run.relay_cmd(line)

    def sleep(self, s):
        self.run.sleep(s * self.run.args.scale)

    def forbid_own(self, links, t_from, t_to):
        for hub in self.run.hubs:
            for i, c in enumerate(hub.cams):
                if links == 'all' or link_id(hub.name, c) in links:
                    self.no_own.append((hub.name, i, t_from, t_to))

    def check(self, desc, ok):
        self.checks.append((desc, bool(ok)))


def links_of(run, pred):
    return [link_id(h.name, c) for h in run.hubs for c in h.cams if pred(h.name, c)]


def sc_baseline(s):
    s.sleep(30)


def sc_network(s):
    s.relay('fault all drop=0.02 dup=0.02 reorder=0.05 reorder_ms=30 delay_ms=40 jitter_ms=40 '
            'dir=both')
    s.sleep(35)


def sc_corrupt(s):
    s.relay('fault all corrupt=0.01 truncate=0.01 dir=both')
    s.sleep(40)


def sc_bandwidth(s):
    s.relay('fault all rate_kbps=80 queue_ms=400')
    s.sleep(40)


def sc_delay_stale(s):
    # one-way 3.5 s: beyond the window plus any clock uncertainty (<= 1 s)
    links = links_of(s.run, lambda h, c: h == 'kitchen')
    for lk in links:
        s.relay(f'fault {lk} delay_ms=3500')
    t = time.monotonic()
    s.sleep(20)
    s.forbid_own(links, t + GRACE, time.monotonic())


def sc_misroute(s):
    # kitchen's porch -> nursery (neither trusts the other); hall's porch ->
    # nursery (which trusts hall: only the hub's pin can refuse); office's
    # garage <-> attic (two cameras of the same household, crossed)
    routes = {'kitchen.porch': 'nursery', 'hall.porch': 'nursery',
              'office.garage': 'attic', 'office.attic': 'garage'}
    for lk, cam in routes.items():
        s.relay(f'route {lk} {cam}')
        s.relay(f'kick {lk}')
    t = time.monotonic()
    s.sleep(1)
    s.marks['routed'] = s.run.snapshot()    # the killed sessions are over
    s.sleep(19)
    s.forbid_own(list(routes), t + GRACE, time.monotonic())


def splice_sources(run):
    """For each link, a camera other than the link's own (its neighbour)."""
    names = [c for c, _ in CAMERAS]
    return {link_id(h.name, c): names[(names.index(c) + 1) % len(names)]
            for h in run.hubs for c in h.cams}


def splice_rates(s, key):
    """Splice from each link's neighbour camera at 1/1000 .. every other packet."""
    for lk, src in splice_sources(s.run).items():
        s.relay(f'fault {lk} splice_from={src} splice_mode=ahead')
    for rate in ('1/1000', '1/100', '1/10', '1/2'):
        s.relay(f'fault all {key}={rate}')
        s.sleep(15)


def sc_splice_au(s):
    splice_rates(s, 'splice_au')


def sc_splice_pkt(s):
    splice_rates(s, 'splice_pkt')


def sc_splice_collide(s):
    for lk, src in splice_sources(s.run).items():
        s.relay(f'fault {lk} splice_from={src} splice_mode=collide splice_au=1/20')
    s.sleep(15)


def sc_substitute(s):
    for lk, src in splice_sources(s.run).items():
        s.relay(f'subst {lk} {src}')
    t = time.monotonic()
    s.sleep(15)
    s.forbid_own('all', t + GRACE, time.monotonic())


def sc_replay(s):
    run = s.run
    s.relay('record all on')
    s.sleep(6)
    # the same session, its own earlier units under new unit numbers
    s.relay('replay all rewrite')
    t = time.monotonic()
    s.sleep(8)
    s.forbid_own('all', t + GRACE, time.monotonic())
    s.relay('replay all off')
    # new sessions, then the recording of the earlier ones
    s.relay('kick all')
    s.recover_at.append(('new sessions', time.monotonic()))
    run.wait_all_own(time.monotonic(), 10)
    for mode in ('raw', 'rewrite', 'resession'):
        s.marks[mode] = run.snapshot()
        s.relay(f'replay all {mode}')
        t = time.monotonic()
        s.sleep(8)
        s.forbid_own('all', t + GRACE, time.monotonic())
        s.relay('replay all off')
        s.marks[mode + '-end'] = run.snapshot()
        run.wait_all_own(time.monotonic(), 10)


def sc_swap(s):
    for mode in ('route', 'media'):
        s.relay('outage refuse')
        s.relay(f'swap {mode}')
        s.sleep(2)
        s.relay('restore')
        t = time.monotonic()
        s.sleep(10)
        if mode == 'media':
            s.forbid_own('all', t + GRACE - 1.0, time.monotonic())
        s.relay('swap off')
        s.recover_at.append((f'swap {mode} off', time.monotonic()))
        s.run.wait_all_own(time.monotonic(), 10)


def sc_outage(s):
    for kind, secs in (('refuse', 0), ('refuse', 2), ('blackhole', 3), ('refuse', 6)):
        s.relay(f'outage {kind}')
        s.sleep(secs)
        s.relay('restore')
        s.recover_at.append((f'{kind} {secs}s', time.monotonic()))
        s.run.wait_all_own(time.monotonic(), 10)
        s.sleep(4)


def sc_stale_hold(s):
    # a slow relay buffers office's media to just under the window, then dies
    links = links_of(s.run, lambda h, c: h == 'office')
    for lk in links:
        s.relay(f'fault {lk} delay_ms=1700')
    s.sleep(10)
    for lk in links:
        s.relay(f'fault {lk} drop=1')
    s.sleep(4)


def sc_renumber(s):
    # genuine units under a unit number moved far ahead: the transport header
    # is not authenticated, so the core accepts such a unit
    s.relay('fault all renumber=1/300')
    s.sleep(10)


def sc_control_corrupt(s):
    # TLS records corrupted while every hub reconnects (handshakes included)
    s.relay('fault all ctl_corrupt=1/40')
    for _ in range(3):
        s.relay('kick all')
        s.sleep(10)


SCENARIOS = [
    ('baseline', 'clean relay', sc_baseline),
    ('network', 'drop/dup/reorder 2-5%, 40+-40 ms, both ways', sc_network),
    ('corrupt', 'corrupt 1% + truncate 1%, both ways', sc_corrupt),
    ('bandwidth', '80 kbit/s per link (streams ~95), 400 ms queue', sc_bandwidth),
    ('delay-stale', "kitchen's links delayed 3.5 s", sc_delay_stale),
    ('misroute', 'sessions connected to the wrong camera', sc_misroute),
    ('splice-au', "whole units of another camera's session, 1/1000..1/2", sc_splice_au),
    ('splice-pkt', "fragments of another camera's units under the link's headers", sc_splice_pkt),
    ('splice-collide', 'spliced units take the genuine next unit number', sc_splice_collide),
    ('substitute', "every link's media replaced by another camera's", sc_substitute),
    ('replay', 'recorded units served again: same session, raw, rewritten, re-sessioned',
     sc_replay),
    ('swap', 'after an outage each hub gets a random camera (route, then media)', sc_swap),
    ('outage', 'every connection dropped at once: 0/2/3(blackhole)/6 s', sc_outage),
    ('stale-hold', "office's media delayed 1.7 s, then cut", sc_stale_hold),
    ('renumber', 'unit numbers of genuine packets moved 2^20 ahead, 1/300', sc_renumber),
    ('control-corrupt', 'TLS records corrupted 1/40 through three reconnect storms',
     sc_control_corrupt),
]


# --------------------------------------------------------------------------
# Evaluation
# --------------------------------------------------------------------------

def reject_delta(a, b):
    """Per hub cell: rejected-by-reason counts between two status snapshots,
    transport discards under 'discarded:REASON'."""
    out = {}
    for hub, sb in b['hubs'].items():
        sa = a['hubs'].get(hub)
        if not sb or not sa:
            continue
        for i, cb in enumerate(sb['cameras']):
            ca = sa['cameras'][i]
            d = {}
            for key, prefix in (('rejected', ''), ('discarded', 'discarded:')):
                for k, v in cb.get(key, {}).items():
                    if k != 'total' and v - ca.get(key, {}).get(k, 0):
                        d[prefix + k] = v - ca.get(key, {}).get(k, 0)
            d['_shown'] = cb['shown'] - ca['shown']
            d['_received'] = cb['received'] - ca['received']
            out[link_id(hub, cb['name'])] = d
    return out


def relay_delta(a, b):
    out = {}
    for lk, lb in b['relay']['links'].items():
        la = a['relay']['links'][lk]
        out[lk] = {k: v - la[k] for k, v in lb.items() if isinstance(v, int)}
    return out


def confirmed(numbers, j, i, fps):
    """A frame number read in cell i of commit j that the cell's nearest
    other readings agree with (within 2 s of frames): an isolated misread
    is not used to date a frame."""
    n = numbers[j][i]
    for k in (j - 1, j + 1, j - 2, j + 2):
        if 0 <= k < len(numbers):
            m = numbers[k][i]
            if m is not None and abs(m - n) <= 2 * fps:
                return True
    return False


def evaluate(run, sc, t0, t1, snap0, snap1):
    rej = reject_delta(snap0, snap1)
    rel = relay_delta(snap0, snap1)
    run._starts = {}        # camera logs may name new pipeline starts
    frames = own = unav = foreign = leaks = unread = starved = 0
    stale = 0
    age_max = 0.0
    hold_max = 0.0
    foreign_examples = []
    stale_examples = []
    views = []
    with run.lock:      # copies, so that the frame reader never waits long
        for hub in run.hubs:
            a, b = bisect.bisect_left(hub.t, t0), bisect.bisect_left(hub.t, t1)
            views.append((hub, hub.t[a:b + 1], hub.cls[a:b], hub.num[a:b],
                           [g for t, _, g in hub.glass if t0 <= t < t1]))
    for hub, times, classes, numbers, glass in views:
        frames += len(classes)
        for j, cls in enumerate(classes):
            t = times[j]
            for i, c in enumerate(cls):
                if c == OWN:
                    own += 1
                    for h, ci, f, to in sc.no_own:
                        # a frame committed late only because the host
                        # stalled the run is not a leak
                        if (h == hub.name and ci == i and f <= t < to and
                                t - run.stalled(f - GRACE, t) >= f):
                            leaks += 1
                            break
                    n = numbers[j][i]
                    if n is None or not confirmed(numbers, j, i, run.fps):
                        unread += 1
                        continue
                    cap = run.capture_time(hub.cams[i], n, t)
                    if cap is None:
                        continue
                    age = t - cap
                    # how long it stayed: until the hub's next commit
                    nxt = times[j + 1] if j + 1 < len(times) else t
                    age_max = max(age_max, age)
                    hold_max = max(hold_max, nxt - cap)
                    bound = FRESHNESS + hub.unc.get(i, 1.0) + SLACK
                    if age > bound and age - run.stalled(cap, t) <= bound:
                        starved += 1
                    elif age > bound:
                        stale += 1
                        if len(stale_examples) < 4:
                            stale_examples.append(
                                f'{hub.name}/{hub.cams[i]} #{n} at {t - run.t_start:.2f}s '
                                f'age {age:.2f}s')
                elif c == UNAV:
                    unav += 1
                else:
                    foreign += 1
                    if len(foreign_examples) < 5:
                        foreign_examples.append(f'{hub.name} cell {i} at {t - run.t_start:.2f}s')
        if glass:
            age_max = max(age_max, max(glass))
    sc.check('no foreign frame' + (f' ({", ".join(foreign_examples)})' if foreign else ''),
             foreign == 0)
    late = sorted(set(snap0['unresponsive'] + snap1['unresponsive']))
    sc.check(f'every daemon answered its status socket within 6 s ({", ".join(late) or "all did"})',
             not late)
    sc.check(f'no own frame while the relay withheld every genuine unit ({leaks} seen)', leaks == 0)
    sc.check(f'no frame shown older than the freshness window + uncertainty ({stale} seen, '
             f'{starved} more while the host stalled the run, max age {age_max:.2f}s'
             f'{": " if stale else ""}{", ".join(stale_examples)})', stale == 0)
    # count relationships, link by link
    total = {}
    for lk, d in rej.items():
        for k, v in d.items():
            if not k.startswith('_'):
                total[k] = total.get(k, 0) + v
    rsum = {}
    for lk, d in rel.items():
        for k, v in d.items():
            rsum[k] = rsum.get(k, 0) + v
    name = sc.kind
    if name == 'baseline':
        core = {k: v for k, v in total.items() if not k.startswith('discarded:')}
        sc.check(f'no reject on a clean relay ({core})', not core)
    if name == 'splice-au':
        for lk, d in rel.items():
            if d['spliced_au'] >= 3:
                got = rej.get(lk, {}).get('other-session', 0)
                sc.check(f'{lk}: {d["spliced_au"]} units spliced -> {got} other-session '
                         f'(1..{d["spliced_au"]})', 1 <= got <= d['spliced_au'])
    if name == 'splice-collide':
        sc.check(f'collisions spliced ({rsum.get("spliced_au", 0)}) -> other-session '
                 f'({total.get("other-session", 0)})',
                 rsum.get('spliced_au', 0) == 0 or total.get('other-session', 0) >= 1)
    if name == 'splice-pkt':
        for lk, d in rel.items():
            if d['spliced_pkt_units'] >= 3:
                got = rej.get(lk, {}).get('decrypt', 0)
                sc.check(f'{lk}: {d["spliced_pkt_units"]} units with spliced fragments -> '
                         f'{got} decrypt (1..{d["spliced_pkt_units"]})',
                         1 <= got <= d['spliced_pkt_units'])
    if name == 'network':
        got = total.get('discarded:duplicate', 0)
        sc.check(f'packets the relay duplicated ({rsum.get("duplicated", 0)}) -> duplicates '
                 f'the hubs discarded and show in their status ({got})',
                 1 <= got <= rsum.get('duplicated', 0))
    if name == 'corrupt':
        sc.check(f'AEAD rejects ({total.get("decrypt", 0)}) <= packets corrupted '
                 f'({rsum.get("corrupted", 0)}), and >= 1',
                 1 <= total.get('decrypt', 0) <= rsum.get('corrupted', 0))
    if name == 'substitute':
        for lk, d in rel.items():
            if d['substituted'] >= 3:
                got = rej.get(lk, {}).get('other-session', 0)
                sc.check(f'{lk}: {d["substituted"]} substituted units -> {got} other-session',
                         1 <= got <= d['substituted'])
    if name == 'replay':
        for reason in ('replay', 'other-session'):
            sc.check(f'replayed units ({rsum.get("replayed", 0)}) -> {reason} rejects '
                     f'({total.get(reason, 0)})', total.get(reason, 0) >= 1)
        # a unit re-labelled with the current session id fails the AEAD, or,
        # when its own sealed unit number is already behind the current
        # session's window (short phases), the replay check before it
        phase = {}
        for d in reject_delta(sc.marks['resession'], sc.marks['resession-end']).values():
            for k in ('decrypt', 'replay'):
                phase[k] = phase.get(k, 0) + d.get(k, 0)
        sc.check(f'resession replay -> decrypt or replay rejects ({phase})',
                 sum(phase.values()) >= 1)
        sc.check('the hub rejected no more than the relay replayed',
                 sum(total.get(r, 0) for r in ('replay', 'other-session', 'decrypt'))
                 <= rsum.get('replayed', 0) + rsum.get('corrupted', 0))
    if name == 'delay-stale':
        got = sum(rej.get(lk, {}).get('stale', 0) for lk in rej if lk.startswith('kitchen.'))
        sc.check(f'kitchen rejected delayed frames as stale ({got})', got >= 1)
    if name == 'misroute':
        peers0 = sum((snap0['cams'][c] or {}).get('rejected_peers', {}).get('total', 0)
                     for c, _ in CAMERAS)
        peers1 = sum((snap1['cams'][c] or {}).get('rejected_peers', {}).get('total', 0)
                     for c, _ in CAMERAS)
        sc.check(f'cameras refused unpaired hubs at the handshake ({peers1 - peers0})',
                 peers1 - peers0 >= 1)
        routed = reject_delta(sc.marks['routed'], snap1)
        got = sum(routed.get(lk, {}).get('_received', 0)
                  for lk in ('kitchen.porch', 'hall.porch', 'office.garage', 'office.attic'))
        sc.check(f'misrouted cells received no unit at all ({got})', got == 0)
    for label, at in sc.recover_at:
        first = run_recovery(run, at)
        sc.recovery[label] = first
        if label == 'cleared':
            worst = max(first.values()) if len(first) == len(run.cells()) else None
            stuck = [f'{h}/{dict(HUBS_CAMS)[h][i]}' for h, i in
                     ((hub.name, i) for hub, i in run.cells()) if (h, i) not in first]
            sc.check(f'after the relay is clean again every cell shows its camera within '
                     f'{RECOVERY_CLEARED:.0f}s (worst {worst if worst is None else round(worst, 2)}s'
                     f'{"; still not: " + ", ".join(stuck) if stuck else ""})',
                     worst is not None and worst <= RECOVERY_CLEARED)
        elif name == 'outage' or label.startswith('swap'):
            worst = max(first.values()) if len(first) == len(run.cells()) else None
            sc.check(f'after {label}: every cell shows its camera within {RECOVERY_LIMIT:.0f}s '
                     f'(worst {worst if worst is None else round(worst, 2)}s)',
                     worst is not None and worst <= RECOVERY_LIMIT)
    return {'frames': frames, 'own': own, 'unav': unav, 'foreign': foreign, 'leaks': leaks,
            'stale': stale, 'starved': starved, 'age_max': age_max, 'hold_max': hold_max, 'unread': unread,
            'rejects': total, 'relay': rsum}


def run_recovery(run, since):
    first = {}
    with run.lock:
        for hub in run.hubs:
            k = bisect.bisect_left(hub.t, since)
            for j in range(k, len(hub.t)):
                for i, c in enumerate(hub.cls[j]):
                    if c == OWN and (hub.name, i) not in first:
                        first[(hub.name, i)] = hub.t[j] - since
    return first


def fmt_rejects(r):
    return ' '.join(f'{k}:{v}' for k, v in sorted(r.items(), key=lambda kv: -kv[1])) or '-'


def print_summary(run, rows):
    print('#')
    print('# ' + '=' * 120)
    hdr = (f'{"scenario":<16}{"frames":>8}{"own":>8}{"unavail":>8}{"FOREIGN":>8}{"leak":>5}'
           f'{"stale":>6}{"age max":>8}  {"recovery s (p50/max)":<21} rejects by reason')
    print('# ' + hdr)
    print('# ' + '-' * 120)
    tot = [0, 0, 0, 0, 0, 0]
    for name, r, rec in rows:
        tot = [a + b for a, b in zip(tot, (r['frames'], r['own'], r['unav'], r['foreign'],
                                            r['leaks'], r['stale']))]
        times = [v for first in rec.values() for v in first.values()]
        rs = f'{statistics.median(times):.2f}/{max(times):.2f}' if times else '-'
        print(f'# {name:<16}{r["frames"]:>8}{r["own"]:>8}{r["unav"]:>8}{r["foreign"]:>8}'
              f'{r["leaks"]:>5}{r["stale"]:>6}{r["age_max"]:>7.2f}s  {rs:<21} '
              f'{fmt_rejects(r["rejects"])}')
    print('# ' + '-' * 120)
    print(f'# {"total":<16}{tot[0]:>8}{tot[1]:>8}{tot[2]:>8}{tot[3]:>8}{tot[4]:>5}{tot[5]:>6}')
    print('# ' + '=' * 120)


def reconnect_jitter(run, rows):
    """The spread of per-cell recovery times after each outage."""
    for name, r, rec in rows:
        for label, first in rec.items():
            v = sorted(first.values())
            if len(v) >= 2:
                print(f'# recovery {name} / {label}: n={len(v)} min {v[0]:.2f}s '
                      f'p50 {statistics.median(v):.2f}s max {v[-1]:.2f}s '
                      f'spread {v[-1] - v[0]:.2f}s stdev {statistics.pstdev(v):.2f}s')


def memory_report(run, soak):
    """RSS flat after the warm-up: with --soak the whole first cycle of
    scenarios, which has taken every path (decoder re-inits, TCP fallback,
    reconnect storms) once, so later growth is growth that repeats."""
    ok = True
    warmup = run.args.warmup
    if soak:
        warmup = max(warmup, getattr(run, 'first_cycle_s', 0.0))
        print(f'# memory: samples after a warm-up of {warmup:.0f} s (the first cycle of scenarios)')
    for name, samples in sorted(run.rss.items()):
        pts = [(t, kb) for t, kb in samples if t - run.t_start >= warmup]
        if len(pts) < 4:
            continue
        n = len(pts)
        first = [kb for _, kb in pts[:max(1, n // 4)]]
        last = [kb for _, kb in pts[-max(1, n // 4):]]
        mt = statistics.mean(t for t, _ in pts)
        mk = statistics.mean(kb for _, kb in pts)
        den = sum((t - mt) ** 2 for t, _ in pts) or 1
        slope = sum((t - mt) * (kb - mk) for t, kb in pts) / den * 60     # kB/min
        growth = max(last) - max(first)
        limit = max(4096, max(first) // 20)
        flat = growth <= limit
        print(f'# memory {name:<8} RSS {max(first) / 1024:7.1f} MB -> {max(last) / 1024:7.1f} MB '
              f'(growth {growth:+6d} kB, slope {slope:+7.1f} kB/min, limit {limit} kB)'
              f'{"" if flat or not soak else "  NOT FLAT"}')
        if soak and not flat:
            ok = False
    return ok


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------

def main():
    global RECOVERY_LIMIT, RECOVERY_CLEARED
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--build', help='meson build directory with veracamd, veracamctl and the '
                    'relay (default: build/meson of the source tree)')
    ap.add_argument('--veracamd')
    ap.add_argument('--veracamctl')
    ap.add_argument('--relay')
    ap.add_argument('--source', default=os.path.normpath(os.path.join(
        os.path.dirname(os.path.abspath(__file__)), '..', '..')))
    ap.add_argument('--seed', type=int, default=20261121)
    ap.add_argument('--fps', type=int, default=30)
    ap.add_argument('--bitrate', default='300k')
    ap.add_argument('--scale', type=float, default=1.0, help='multiply every phase duration')
    ap.add_argument('--soak', type=float, default=0,
                    help='repeat the scenarios for this many seconds; check memory')
    ap.add_argument('--only', help='comma-separated scenario names')
    ap.add_argument('--min-frames', type=int, default=0)
    ap.add_argument('--time-factor', type=float, default=1.0,
                    help='stretch the recovery deadlines (daemons built with sanitizers '
                    'run slower; every security check stays as strict)')
    ap.add_argument('--rss-interval', type=float, default=5.0)
    ap.add_argument('--warmup', type=float, default=60.0)
    ap.add_argument('--keep', action='store_true', help='keep the run directory')
    ap.add_argument('--dump', action='store_true',
                    help='write every classified frame to HUB.frames.tsv in the run directory')
    args = ap.parse_args()
    RECOVERY_LIMIT *= args.time_factor
    RECOVERY_CLEARED *= args.time_factor
    if not (args.build or args.veracamd):
        args.build = os.path.join(args.source, 'build/meson')     # what `make` builds
    if args.build:
        args.veracamd = args.veracamd or os.path.join(args.build, 'daemon/veracamd')
        args.veracamctl = args.veracamctl or os.path.join(args.build, 'daemon/veracamctl')
        args.relay = args.relay or os.path.join(args.build, 'tests/adversarial/relay')
    for p in (args.veracamd, args.veracamctl, args.relay):
        if not p or not os.access(p, os.X_OK):
            print(f'1..0 # SKIP {p or "veracamd/veracamctl/relay"} not built')
            return 77
    scen = SCENARIOS
    if args.only:
        want = args.only.split(',')
        scen = [s for s in SCENARIOS if s[0] in want]
    args.budget = args.soak or 1200

    run = Run(args)
    rows = []
    print(f'# run directory {run.dir}, seed {args.seed}, {args.fps} fps, '
          f'{WIDTH}x{HEIGHT}, veracamd {args.veracamd}; t=0 is {run.t0_unix:.3f} '
          f'(Unix time)', flush=True)
    threads = []
    try:
        run.keys()
        run.start_cameras()
        run.start_relay()
        run.start_hubs()
        threads = [threading.Thread(target=run.reader, daemon=True),
                   threading.Thread(target=run.sampler, daemon=True),
                   threading.Thread(target=run.canary, daemon=True)]
        for t in threads:
            t.start()
        first = run.wait_all_own(time.monotonic(), 60)
        if len(first) != len(run.cells()):
            run.failures.append(f'not every cell showed its camera within 60 s: {first}')
            raise DaemonDied('startup', 0)
        run.log(f'every hub shows its cameras; start-up {max(first.values()):.1f}s')
        cycle = 0
        while True:
            cycle += 1
            for name, what, fn in scen:
                sc = Scenario(run, name, name if cycle == 1 else f'{name}#{cycle}', what)
                run.log(f'scenario {sc.name}: {what}')
                snap0 = run.snapshot()
                t0 = time.monotonic()
                fn(sc)
                snap1 = run.snapshot()      # what the relay did and the hubs counted
                # back to a clean relay; the settle time counts as recovery
                run.relay_cmd('swap off')
                run.relay_cmd('clear all')
                run.relay_cmd('record all off')
                sc.recover_at.append(('cleared', time.monotonic()))
                run.wait_all_own(time.monotonic(), 15)
                t2 = time.monotonic()
                r = evaluate(run, sc, t0, t2, snap0, snap1)
                rows.append((sc.name, r, sc.recovery))
                bad = [d for d, ok in sc.checks if not ok]
                for d, ok in sc.checks:
                    print(f'{"ok" if ok else "not ok"} - {sc.name}: {d}', flush=True)
                for d in bad:
                    run.failures.append(f'{sc.name}: {d}')
                run.log(f'{sc.name}: {r["frames"]} frames, own {r["own"]}, unavailable '
                        f'{r["unav"]}, foreign {r["foreign"]}, rejects {fmt_rejects(r["rejects"])}')
            if cycle == 1:
                run.first_cycle_s = time.monotonic() - run.t_start
            if not args.soak or time.monotonic() - run.t_start >= args.soak:
                break
    except DaemonDied as e:
        run.log(f'stopped early: {e}')
    finally:
        run.stop.set()
        rcs = stop_all(run)
        for t in threads:
            t.join(timeout=10)

    if args.dump:
        dump_frames(run)
    print_summary(run, rows)
    reconnect_jitter(run, rows)
    total_frames = sum(r['frames'] for _, r, _ in rows)
    unread = sum(r['unread'] for _, r, _ in rows)
    print(f'# frames classified: {total_frames} ({unread} own frames whose number could not be '
          f'read), run time {time.monotonic() - run.t_start:.0f}s')
    st = [e - s for s, e in run.stalls]
    print(f'# host stalls noticed (a 20 ms sleep late by > {STALL}s): {len(st)}, '
          f'{sum(st):.1f}s in all, longest {max(st, default=0):.2f}s')
    if args.min_frames and total_frames < args.min_frames:
        run.failures.append(f'only {total_frames} frames (< {args.min_frames})')
    for name, rc in rcs.items():
        print(f'{"ok" if rc == 0 else "not ok"} - {name} stopped by SIGTERM with status {rc}')
        if rc != 0:
            run.failures.append(f'{name} exit status {rc}')
    for f in sorted(os.listdir(run.dir)):
        if f.endswith('.log'):
            with open(os.path.join(run.dir, f), 'rb') as fh:
                text = fh.read().decode(errors='replace')
            for pat in ('ERROR: AddressSanitizer', 'ERROR: LeakSanitizer', 'runtime error:'):
                if pat in text:
                    run.failures.append(f'{f}: {pat}')
                    i = text.index(pat)
                    print('# ' + text[max(0, i - 200):i + 1500].replace('\n', '\n# '))
    if not memory_report(run, bool(args.soak)):
        run.failures.append('memory not flat over the soak')
    for f in run.failures:
        print(f'# FAILED: {f}')
    ok = not run.failures
    print(f'# {"PASS" if ok else "FAIL"}: {len(rows)} scenario runs, {total_frames} frames')
    if ok and not args.keep:
        shutil.rmtree(run.dir, ignore_errors=True)
    else:
        print(f'# logs kept in {run.dir}')
    return 0 if ok else 1


def dump_frames(run):
    """Per hub: time since start, then class and frame number (and its
    estimated capture time since start) per cell."""
    run._starts = {}
    for hub in run.hubs:
        with open(os.path.join(run.dir, hub.name + '.frames.tsv'), 'w') as f:
            for t, cls, num in zip(hub.t, hub.cls, hub.num):
                cols = [f'{t - run.t_start:.3f}']
                for i, (c, n) in enumerate(zip(cls, num)):
                    cap = run.capture_time(hub.cams[i], n, t) if n is not None else None
                    cols.append(f'{CLASS_NAMES[c]}:{n}:' +
                                (f'{cap - run.t_start:.3f}' if cap is not None else '-'))
                f.write('\t'.join(cols) + '\n')
        with open(os.path.join(run.dir, 'captured.tsv'), 'w') as f:
            for c, samples in run.captured.items():
                for t, n in samples:
                    f.write(f'{c}\t{t - run.t_start:.3f}\t{n}\n')


def cpu_seconds(pid):
    try:
        with open(f'/proc/{pid}/stat') as f:
            fields = f.read().rsplit(')', 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')
    except (OSError, IndexError, ValueError):
        return None


def stop_all(run):
    """SIGTERM everything (hubs first), bounded; exit statuses."""
    rcs = {}
    wall = time.monotonic() - run.t_start
    for name, p in run.procs.items():
        cpu = cpu_seconds(p.pid)
        if cpu is not None:
            print(f'# cpu {name:<8} {cpu:7.1f}s ({100 * cpu / wall:4.1f}% of one core over '
                  f'{wall:.0f}s)')
    if run.relay and run.relay.poll() is None:
        try:
            run.relay.stdin.write('quit\n')
            run.relay.stdin.flush()
        except OSError:
            pass
    order = [h.name for h in run.hubs] + [c for c, _ in CAMERAS] + ['relay']
    for name in order:
        p = run.procs.get(name)
        if p and p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for name in order:
        p = run.procs.get(name)
        if not p:
            continue
        try:
            rcs[name] = p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            rcs[name] = p.wait()
            run.failures.append(f'{name} did not stop within 30 s of SIGTERM')
    return rcs


if __name__ == '__main__':
    sys.exit(main())
