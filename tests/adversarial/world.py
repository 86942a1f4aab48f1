# SPDX-License-Identifier: GPL-2.0
"""The adversarial suite's world (run.py): the topology of cameras, hubs
and relay links, the screen oracle's reading of each hub's frames, the
processes (veracamd cameras and hubs, the hostile relay) and the Run that
owns them. Scenarios (scenarios.py) act on a Run; evaluate.py judges what
it recorded.
"""
import bisect
import contextlib
import fcntl
import json
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

# --------------------------------------------------------------------------
# Topology
# --------------------------------------------------------------------------

# name, colour (RRGGBB): well apart from each other and from the hub's
# unavailable screen (SCREEN_UNAVAIL_FG/BG, daemon/hub/screen.h) in every YCbCr channel.
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
# Started only by the scenarios that need them: a camera run under a stepped
# wall clock, and hub identities of their own (paired camera names).
EXTRA_CAMERAS = [('shed', 'c040c0')]
EXTRA_HUBS = [('lobby', ['porch', 'attic']),     # a clean direct path (zombie, many-sessions)
              ('annex', ['attic']),              # one key, many processes (many-sessions)
              ('watch', ['shed'])]               # under a stepped wall clock (clock-step)
COLOURS = dict(CAMERAS + EXTRA_CAMERAS)
WIDTH, HEIGHT = 160, 120          # camera frames; grid cells are the same size (1:1)
FRESHNESS = 2.0                   # hub --freshness (the verifier's window)
UNAVAILABLE = 1.0                 # hub --unavailable-timeout
BACKOFF_MAX = '2s'                # hub --backoff-max (see docs/ADVERSARIAL.md)
GRACE = UNAVAILABLE + 0.6         # after a cut, the last genuine frame may stay this long
SLACK = 0.35                      # decode + compose + FIFO on a loaded 2-core host
RECOVERY_LIMIT = 3.0              # after an outage (the product's promise)
RECOVERY_CLEARED = 10.0           # after any attack stops: the hub must not stay stuck
STALL = 0.15                      # a canary sleep this much late is a host stall
STRETCH_MAX = 6.0                 # Run.stretch: beyond it no deadline means much

# Waits for video last as long as a deadline can be stretched (only a
# failure waits that long): with 3 here and the stretch at its cap of 6, a
# hub that got video in 4 x the limit under ASan and two CI runs was
# reported "never", though in_time() would have accepted it.
WAIT_STRETCH = STRETCH_MAX
VIDEO_LIMIT = 5.0                 # a paired hub shows video this soon under any issue-12 attack
SESSION_END = 5.0                 # a session whose hub is gone ends this soon (issue 12)
FORGED = 'discarded:forged'       # transport v2: a packet whose tag is wrong
FAKETIME_LIB = '/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1'   # Debian: libfaketime


def link_id(hub, cam):
    return f'{hub}.{cam}'


# --------------------------------------------------------------------------
# Pixels
# --------------------------------------------------------------------------

# the screen oracle: cells, colours and verdicts (tests/lib/hubscreen.py)
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
import hubscreen as hs   # noqa: E402

OWN, UNAV, FOREIGN = hs.OWN, hs.UNAVAILABLE, hs.FOREIGN
CLASS_NAMES = ('own', 'unavailable', 'FOREIGN')

# The pattern camera's capture time (hs.read_number): centiseconds of
# CLOCK_MONOTONIC modulo 1000 s (daemon/camera/pattern.c).
CLOCK_WRAP = 100000


def read_number(fr, cell):
    """The burned-in capture time of an own cell shown 1:1, or None
    (evaluate() only trusts a number its neighbours agree with)."""
    if cell.w != WIDTH or cell.h != HEIGHT:
        return None
    return hs.read_number(hs.picture_rows(fr, cell.x, cell.y, cell.w), cell.w)


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


def proc_sched(pid):
    """{tid: (CPU ns, ns spent runnable waiting for a CPU)} of the live
    threads of @pid so far, from their schedstat."""
    out = {}
    try:
        tids = os.listdir(f'/proc/{pid}/task')
    except OSError:
        return out
    for tid in tids:
        try:
            with open(f'/proc/{pid}/task/{tid}/schedstat') as f:
                a, b = f.read().split()[:2]
            out[tid] = (int(a), int(b))
        except (OSError, ValueError):
            pass
    return out


def rss_kb(pid):
    try:
        with open(f'/proc/{pid}/status') as f:
            for line in f:
                if line.startswith('VmRSS:'):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


class Log:
    """A daemon's stderr, read by the frame reader thread and written to its
    log file with the run's clock (seconds since the start) in front of each
    line. Closed by the reader when the daemon's end of the pipe closes."""

    def __init__(self, pipe, path, t0):
        self.pipe = pipe
        self.fd = pipe.fileno()
        os.set_blocking(self.fd, False)
        self.file = open(path, 'ab')
        self.t0 = t0
        self.buf = b''
        self.eof = False

    def feed(self, now):
        try:
            d = os.read(self.fd, 1 << 16)
        except BlockingIOError:
            return
        if d:
            self.buf += d
            *lines, self.buf = self.buf.split(b'\n')
        else:
            lines, self.buf, self.eof = [self.buf] if self.buf else [], b'', True
        stamp = f'{now - self.t0:9.3f} '.encode()
        for raw in lines:
            self.file.write(stamp + raw + b'\n')
        self.file.flush()
        if self.eof:
            self.file.close()
            self.pipe.close()


class Hub:
    """A hub process and what it shows: its y4m output (a FIFO the frame
    reader classifies, or /dev/null), its status socket and log. The same
    Hub lives on through restarts of its process."""

    def __init__(self, name, cams, transport, run, addrs, keys=None, tag=None, fifo=True):
        self.name, self.cams, self.transport = name, cams, transport
        self.tag = tag or name                 # process, file and socket name
        self.addrs = addrs                     # camera -> the HOST:PORT this hub dials
        self.colours = [hs.parse_colour(COLOURS[c]) for c in cams]
        self.col = None        # the stream's colorimetry, from its y4m header
        self.w, self.h = (WIDTH, HEIGHT) if len(cams) == 1 else (2 * WIDTH, 2 * HEIGHT)
        self.cells = hs.layout(self.w, self.h, len(cams), hs.Y4MFrame.align)
        self.flen = 6 + self.w * self.h * 3 // 2
        self.fifo = os.path.join(run.dir, self.tag + '.y4m') if fifo else None
        self.sock = os.path.join(run.dir, self.tag + '.sock')
        self.keys = os.path.join(run.dir, keys or name)
        self.log_path = os.path.join(run.dir, self.tag + '.log')
        self.lock = run.lock
        self.fd = None
        if fifo:
            os.mkfifo(self.fifo, 0o600)
            self.fd = os.open(self.fifo, os.O_RDONLY | os.O_NONBLOCK)
            try:
                fcntl.fcntl(self.fd, 1031, 1 << 18)   # F_SETPIPE_SZ: two grid frames
            except OSError:
                pass
        self.reset_stream()
        # per frame: time, classes per cell, capture times read per cell
        self.t, self.cls, self.num = [], [], []
        self.proc = None

    def reset_stream(self):
        """A new writer (a restarted hub) starts with its own y4m header. The
        FIFO's read end stays open throughout, so the pipe lives on."""
        self.buf = bytearray()
        self.header = None
        self.eof = False

    def feed(self, now):
        while True:
            try:
                d = os.read(self.fd, 1 << 20)
            except BlockingIOError:
                return
            # each chunk's frames are stamped when they were read: this loop
            # reads on while the hub writes, and the select's time would
            # make later frames look older, or from the future
            now = time.monotonic()
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
                    raise RuntimeError(f'{self.tag}: unexpected y4m header {self.header!r}')
                self.col = hs.colorimetry(self.header)
            new = []
            while len(self.buf) >= self.flen:
                if self.buf[:6] != b'FRAME\n':
                    raise RuntimeError(f'{self.tag}: y4m stream out of sync')
                fr = hs.Y4MFrame(bytes(self.buf[6:self.flen]), self.w, self.h, self.col)
                del self.buf[:self.flen]
                cls, num = [], []
                for cell, colour in zip(self.cells, self.colours):
                    c = hs.classify(fr, cell, colour)
                    cls.append(c)
                    num.append(read_number(fr, cell) if c == OWN else None)
                new.append((tuple(cls), tuple(num)))
            with self.lock:
                for cls, num in new:
                    self.t.append(now)
                    self.cls.append(cls)
                    self.num.append(num)


# --------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------

class Run:
    def __init__(self, args):
        self.args = args
        self.fps = args.fps
        # the recovery deadlines, stretched for sanitizer builds (--time-factor)
        self.recovery_limit = RECOVERY_LIMIT * args.time_factor
        self.recovery_cleared = RECOVERY_CLEARED * args.time_factor
        self.dir = tempfile.mkdtemp(prefix='veracam-adv.')
        self.procs = {}          # name -> Popen
        self.hubs = []
        self.extra_hubs = []     # started by scenarios (kept after they stop, for their frames)
        self.extra_n = 0
        self.logs = []           # Log: stderr of the daemons the reader stamps
        self.stopped = []        # (name, exit status) of daemons stopped during the run
        self.cam_addr = {}
        self.cam_sock = {}
        self.links = {}          # link id -> front "ip:port"
        self.lock = threading.Lock()
        self.stop = threading.Event()
        # the frame reader parks while a scenario swaps its file descriptors
        self.io = threading.Condition()
        self.io_pause = False
        self.io_parked = False
        self.reader_running = False
        self.rss = {}            # name -> [(t, kB)]
        self.rss_since = {}      # name -> when its process started
        # the daemons' CPU time and wait for a CPU, summed: [(t, cpu ns, wait ns)]
        self.sched = []
        self.sched_last = {}     # tid -> (cpu, wait) at the last sample
        self.stalls = []         # (start, end): this process did not run (host starved it)
        self.results = []
        self.failures = []
        self.relay = None
        self.t_start = time.monotonic()
        self.t0_unix = time.time()
        self.env = dict(os.environ)
        self.env.setdefault('GST_REGISTRY', os.path.join(self.dir, 'gst-registry.bin'))
        self.env.setdefault('ASAN_OPTIONS', 'detect_leaks=1:abort_on_error=1')
        self.env.setdefault('UBSAN_OPTIONS', 'print_stacktrace=1:halt_on_error=1')
        supp = os.path.join(args.source, 'tests/unit/lsan.supp')
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
        cams = [c for c, _ in CAMERAS + EXTRA_CAMERAS]
        hubs = HUBS_CAMS + EXTRA_HUBS
        for n in cams + [h for h, _ in hubs]:
            self.ctl('keygen', os.path.join(self.dir, n))
        ident = {n: self.ctl('identity', os.path.join(self.dir, n))
                 for n in cams + [h for h, _ in hubs]}
        for h, cams in hubs:
            for c in cams:
                self.ctl('trust', os.path.join(self.dir, h), c, ident[c], '--role', 'camera', '--confirmed')
                self.ctl('trust', os.path.join(self.dir, c), h, ident[h], '--role', 'hub', '--confirmed')

    def camera_args(self, c, ip):
        self.cam_addr[c] = f'{ip}:{free_port(ip)}'
        self.cam_sock[c] = os.path.join(self.dir, c + '.sock')
        return [self.args.veracamd, 'camera', '--keys', os.path.join(self.dir, c), '--name', c,
                '--source', 'pattern:' + COLOURS[c], '--listen', self.cam_addr[c],
                '--width', str(WIDTH), '--height', str(HEIGHT), '--fps', str(self.fps),
                '--bitrate', self.args.bitrate, '--idr-interval', '1s',
                '--status-socket', self.cam_sock[c]]

    def start_cameras(self):
        for i, (c, _) in enumerate(CAMERAS):
            log = open(os.path.join(self.dir, c + '.log'), 'wb')
            self.procs[c] = subprocess.Popen(self.camera_args(c, f'127.0.1.{i + 1}'),
                                             stdout=log, stderr=subprocess.STDOUT, env=self.env)
            if i == 0:
                self.wait_ready(c)      # builds the GStreamer registry once
        for c, _ in CAMERAS:
            self.wait_ready(c)

    def start_extra_camera(self, c, ip, env):
        """A camera of EXTRA_CAMERAS, its log stamped with the run's clock (its
        own wall clock may be anything)."""
        p = subprocess.Popen(self.camera_args(c, ip), stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, env=env)
        self.add_log(Log(p.stdout, os.path.join(self.dir, c + '.log'), self.t_start))
        self.procs[c] = p
        self.rss_since[c] = time.monotonic()
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
            hub = Hub(h, cams, transport, self, {c: self.links[link_id(h, c)] for c in cams})
            self.start_hub(hub)
            self.hubs.append(hub)

    def start_hub(self, hub, env=None):
        args = [self.args.veracamd, 'hub', '--keys', hub.keys,
                '--display', 'y4m:' + (hub.fifo or '/dev/null'),
                '--output-size', f'{hub.w}x{hub.h}',
                '--transport', hub.transport, '--freshness', f'{int(FRESHNESS * 1000)}ms',
                '--unavailable-timeout', f'{int(UNAVAILABLE * 1000)}ms',
                '--backoff-max', BACKOFF_MAX, '--status-socket', hub.sock,
                '--log-level', 'debug']
        for c in hub.cams:
            args += ['--camera', f'{c}@{hub.addrs[c]}']
        hub.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                    env=env or self.env)
        hub.started = time.monotonic()
        self.add_log(Log(hub.proc.stderr, hub.log_path, self.t_start))
        self.procs[hub.tag] = hub.proc
        self.rss_since[hub.tag] = hub.started

    def add_log(self, log):
        with self.io:
            self.logs.append(log)

    def start_extra_hub(self, name, addrs, keys=None, env=None, fifo=True):
        """A hub of EXTRA_HUBS (or a hub process with another hub's @keys)
        dialling @addrs (camera -> HOST:PORT), shown on its own y4m FIFO."""
        self.extra_n += 1
        hub = Hub(name, list(addrs), 'auto', self, dict(addrs), keys=keys,
                  tag=f'{name}-{self.extra_n}', fifo=fifo)
        self.start_hub(hub, env)
        with self.io:
            self.extra_hubs.append(hub)
        return hub

    def stop_proc(self, name):
        """SIGTERM a daemon a scenario started or restarts; it must exit 0."""
        p = self.procs.pop(name)
        p.send_signal(signal.SIGTERM)
        try:
            rc = p.wait(timeout=30 * self.args.time_factor)
        except subprocess.TimeoutExpired:
            p.kill()
            rc = p.wait()
            self.failures.append(f'{name} did not stop within '
                                 f'{30 * self.args.time_factor:.0f} s of SIGTERM')
        self.stopped.append((name, rc))
        if rc != 0:
            self.failures.append(f'{name} exit status {rc} when the scenario stopped it')
        self.rss.setdefault(name, []).append(None)     # a new process starts a new series
        return rc

    def stop_extra_hub(self, hub):
        self.stop_proc(hub.tag)
        self.drained(hub)
        with self.reader_parked():
            if hub.fd is not None:
                os.close(hub.fd)
                hub.fd = None

    def restart_hub(self, hub):
        """Stop @hub's process (SIGTERM) and start it again: the same keys,
        address, FIFO. Returns when it stopped (run clock)."""
        self.stop_proc(hub.tag)
        t = time.monotonic()
        self.drained(hub)
        with self.reader_parked():
            hub.reset_stream()
        self.start_hub(hub)
        return t

    def drained(self, hub):
        """Wait (3 s at most) until the reader took a stopped hub's last frames."""
        end = time.monotonic() + 3
        while hub.fd is not None and not hub.eof and time.monotonic() < end:
            time.sleep(0.02)

    def all_hubs(self):
        return self.hubs + self.extra_hubs

    def hub(self, name):
        return next(h for h in self.hubs if h.name == name)

    @contextlib.contextmanager
    def reader_parked(self):
        """The frame reader waits (not in select) while the caller changes
        what it reads."""
        with self.io:
            self.io_pause = True
            while self.reader_running and not self.io_parked:
                self.io.wait(0.5)
        try:
            yield
        finally:
            with self.io:
                self.io_pause = False
                self.io.notify_all()

    # ---- background: FIFOs, logs, camera clocks, memory
    def reader(self):
        try:
            self.read_loop()
        except Exception as e:      # noqa: BLE001 - any reader failure ends the run
            self.failures.append(f'frame reader: {e!r}')
            self.stop.set()
            with self.io:
                self.reader_running = False
                self.io.notify_all()
            for hub in self.all_hubs():
                if hub.proc.poll() is None:
                    hub.proc.send_signal(signal.SIGTERM)

    def read_loop(self):
        self.reader_running = True
        while True:
            with self.io:
                if self.io_pause:
                    self.io_parked = True
                    self.io.notify_all()
                    while self.io_pause:
                        self.io.wait()
                    self.io_parked = False
                fds = {hub.fd: hub for hub in self.all_hubs()
                       if hub.fd is not None and not hub.eof}
                fds.update({log.fd: log for log in self.logs if not log.eof})
            if self.stop.is_set() and all(h.proc.poll() is not None for h in self.all_hubs()):
                for obj in fds.values():
                    obj.feed(time.monotonic())
                return
            r, _, _ = select.select(list(fds), [], [], 0.05)
            now = time.monotonic()
            for fd in r:
                fds[fd].feed(now)

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
        last_rss = 0.0
        cpu = wait = 0
        while not self.stop.is_set():
            now = time.monotonic()
            procs = list(self.procs.items()) + [(h.tag, h.proc) for h in self.all_hubs()
                                                if h.proc is not None]
            seen = {}
            for pid in {p.pid for _, p in procs}:
                seen.update(proc_sched(pid))
            # per thread, so that one that ends takes only its own times along
            for tid, (c, w) in seen.items():
                c0, w0 = self.sched_last.get(tid, (0, 0))
                cpu, wait = cpu + max(0, c - c0), wait + max(0, w - w0)
            self.sched_last = seen
            with self.lock:
                self.sched.append((now, cpu, wait))
            if now - last_rss >= self.args.rss_interval:
                last_rss = now
                for name, p in list(self.procs.items()):
                    kb = rss_kb(p.pid)
                    if kb:
                        self.rss.setdefault(name, []).append((now, kb))
            self.stop.wait(0.5)

    def stretch(self, a, b):
        """How much longer the daemons' work took in [a, b] than on CPUs of
        their own: (their CPU time + their time runnable but waiting for a
        CPU) / their CPU time, at least 1, at most STRETCH_MAX (a daemon
        gone wrong, spinning, must not relax its own checks without bound).
        Per scenario on a quiet 2-core machine: 1.2-3.1 for the plain
        build, 1.8-6 for the ASan one (its daemons crowd the 2 cores
        themselves); more with a second CI run beside this one. The deadlines
        the product promises (recovery, video under attack, no gap) hold
        at the CPU the daemons need; where the host gave them less, each
        is checked stretched by this, and says so."""
        with self.lock:
            samples = list(self.sched)
        if len(samples) < 2:
            return 1.0
        i = max(0, bisect.bisect_right(samples, a, key=lambda x: x[0]) - 1)
        j = min(len(samples) - 1, bisect.bisect_left(samples, b, key=lambda x: x[0]))
        dcpu, dwait = samples[j][1] - samples[i][1], samples[j][2] - samples[i][2]
        return min(STRETCH_MAX, max(1.0, (dcpu + dwait) / dcpu)) if dcpu > 0 else 1.0

    # ---- measurement
    @staticmethod
    def capture_time(cs, shown):
        """When the frame whose burned-in capture time reads @cs was captured,
        on the runner's clock, for a frame shown at @shown: the reading is
        CLOCK_MONOTONIC's centiseconds modulo 1000 s, taken from the latest
        wrap before @shown. None for a reading more than 1 s in the future
        (the camera's clock is this process's clock: that is a picture over
        500 s old, or a misread); up to 1 s ahead is a frame the reader took
        in after stamping the chunk it came in, age 0."""
        age = (round(shown * 100) - cs) % CLOCK_WRAP
        if age > CLOCK_WRAP // 2:
            age -= CLOCK_WRAP
        if age < -100:
            return None
        return shown - max(age, 0) / 100

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


class DaemonDied(Exception):
    pass

