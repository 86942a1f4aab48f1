#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The hostile relay's own tests (TAP), against fake hubs and cameras that
speak the documented wire formats (docs/TRANSPORT.md, docs/PROTOCOL.md §8)
on 127.0.0.0/8: forwarding and latching, determinism from the seed, and
that each attack does exactly what the adversarial suite counts on.

It never sleeps to let the relay catch up: the relay is single-threaded and
sends what it forwards and injects in the order it decided to, so a
non-media datagram from a camera, forwarded after what the camera sent
before it, tells the hub that it has seen everything the relay did with
that; counters come from the relay's stats. Timeouts (WAIT) only turn a
relay that never answers into a failure, however loaded the machine.

    test_relay.py RELAY
"""
import json
import random
import socket
import struct
import subprocess
import sys
import time

RELAY = sys.argv[1]
N = 0
FAILS = 0
WAIT = 30       # seconds for an expected event before the test fails


def ok(cond, desc):
    global N, FAILS
    N += 1
    if not cond:
        FAILS += 1
    print(f'{"ok" if cond else "not ok"} {N} - {desc}', flush=True)


def free_port(ip):
    t = socket.socket()
    t.bind((ip, 0))
    p = t.getsockname()[1]
    t.close()
    return p


class Camera:
    """TCP listener and UDP socket on one port, like veracamd's camera."""

    def __init__(self, ip):
        self.port = free_port(ip)
        self.addr = (ip, self.port)
        self.tcp = socket.socket()
        self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.tcp.bind(self.addr)
        self.tcp.listen(8)
        self.tcp.settimeout(WAIT)
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(self.addr)
        self.udp.settimeout(WAIT)
        self.marks = 0

    def mark(self, src):
        """A datagram that is not media (no veracam fragment header), to @src."""
        self.marks += 1
        m = b'mark %d' % self.marks
        self.udp.sendto(m, src)
        return m


def packet(ssrc, num, total, off, data, stride=1168, flags=0, ts=1234, seq=0):
    last = off + len(data) == total
    return (struct.pack('>BBHII', 0x80, (0x80 if last else 0) | 96, seq & 0xffff, ts, ssrc) +
            struct.pack('>BBBBIIIHH', 1, 1, flags, 0, num, total, off, stride, 0) + data)


def parse(p):
    _, m, _, ts, ssrc = struct.unpack('>BBHII', p[:12])
    _, kind, flags, _, num, total, off, stride, _ = struct.unpack('>BBBBIIIHH', p[12:32])
    return {'ssrc': ssrc, 'num': num, 'total': total, 'off': off, 'stride': stride,
            'marker': m >> 7, 'pt': m & 0x7f, 'data': p[32:], 'flags': flags, 'kind': kind}


def unit(sid, seq, size, fill):
    """A sealed-unit-shaped blob: 32-byte header with the session id, then bytes."""
    body = bytes((fill + i) & 0xff for i in range(size - 48))
    return struct.pack('>BBBB16sQI', 1, 1, 1, 0, sid, seq, len(body)) + body + bytes(16)


def fragments(ssrc, num, u, stride=1168, flags=0):
    return [packet(ssrc, num, len(u), o, u[o:o + stride], stride, flags)
            for o in range(0, len(u), stride)]


def in_order(pkts):
    """Whole units in the order they complete, [((ssrc, num), data)], and how
    many packets are left in no whole unit. A unit number may come again."""
    units, parts, used = [], {}, 0
    for p in pkts:
        f = parse(p)
        key = (f['ssrc'], f['num'])
        frags = parts.setdefault(key, {})
        frags[f['off']] = f['data']
        if sum(len(d) for d in frags.values()) == f['total']:
            units.append((key, b''.join(frags[o] for o in sorted(frags))))
            used += len(frags)
            del parts[key]
    return units, len(pkts) - used


def recv_exact(s, n):
    """@n bytes of a TCP stream (fewer only if it ends)."""
    b = b''
    while len(b) < n:
        d = s.recv(n - len(b))
        if not d:
            break
        b += d
    return b


class Relay:
    def __init__(self, seed, cams, links):
        args = [RELAY, '--seed', str(seed), '--max-runtime', '120']
        for name, c in cams.items():
            args += ['--camera', f'{name}={c.addr[0]}:{c.addr[1]}']
        self.front = {}
        for i, (lid, cam) in enumerate(links):
            ip = f'127.0.3.{i + 1}'
            self.front[lid] = (ip, free_port(ip))
            args += ['--link', f'{lid}={ip}:{self.front[lid][1]},{cam}']
        self.p = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                  bufsize=1)
        self.ready = json.loads(self.p.stdout.readline())

    def cmd(self, line):
        self.p.stdin.write(line + '\n')
        self.p.stdin.flush()
        return json.loads(self.p.stdout.readline())

    def stats(self, lid):
        return self.cmd('stats')['links'][lid]

    def close(self):
        self.cmd('quit')
        return self.p.wait(timeout=10)


class Hub:
    """A hub's UDP media socket that says hello through the relay."""

    def __init__(self, front):
        self.front = front
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        # room for seconds of replayed media while the test talks to the relay
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.s.bind(('127.0.0.1', 0))
        self.s.settimeout(WAIT)

    def hello(self, token=b'T' * 16):
        self.s.sendto(b'VCMH\x01\x01\x00\x00' + token, self.front)

    def recv(self, timeout=WAIT):
        self.s.settimeout(timeout)
        d, src = self.s.recvfrom(65536)
        if src != self.front:
            raise AssertionError(f'media from {src}, not the relay front {self.front}')
        return d

    def until(self, enough, got=()):
        """@got and what arrives after it, until enough() says so."""
        got = list(got)
        while not enough(got):
            got.append(self.recv())
        return got

    def upto(self, mark):
        """What arrives before @mark, which is not kept."""
        got = []
        while (d := self.recv()) != mark:
            got.append(d)
        return got

    def waiting(self, timeout):
        """What has arrived, waiting at most @timeout for the first datagram."""
        got = []
        try:
            while True:
                got.append(self.recv(timeout))
                timeout = 0.001
        except socket.timeout:
            return got


def latch(cam, hub):
    """Hello through the relay; the camera's view of where to send media."""
    hub.hello()
    d, src = cam.udp.recvfrom(2048)
    return d, src


def through(cam, src, hub, pkts):
    """@pkts from @cam to the relay flow @src; all the hub got for them.
    A mark after them is forwarded after all the relay did with them."""
    for p in pkts:
        cam.udp.sendto(p, src)
    return hub.upto(cam.mark(src))


def main():
    print('TAP version 13')
    r = subprocess.run([RELAY, '--seed', '1', '--camera', 'x=10.0.0.1:7000',
                        '--link', 'l=127.0.0.9:7001,x'], capture_output=True, text=True)
    ok(r.returncode == 2 and '127.0.0.0/8' in r.stderr,
       'addresses outside 127.0.0.0/8 are refused')

    ca, cb = Camera('127.0.1.201'), Camera('127.0.1.202')
    relay = Relay(7, {'a': ca, 'b': cb}, [('ha', 'a'), ('hb', 'b')])
    ok(relay.ready.get('ready') and relay.ready['links'] == 2, 'relay starts with two links')

    # TCP control: bytes both ways, untouched
    h = socket.create_connection(relay.front['ha'], timeout=WAIT)
    h.sendall(b'\x16\x03\x01hello-from-hub')
    c, _ = ca.tcp.accept()
    c.settimeout(WAIT)
    got = recv_exact(c, 17)
    c.sendall(b'\x16\x03\x03hello-from-camera')
    back = recv_exact(h, 20)
    ok(got == b'\x16\x03\x01hello-from-hub' and back == b'\x16\x03\x03hello-from-camera',
       'TCP control forwarded both ways unchanged')
    h.close()
    c.close()

    # UDP: the camera sees the relay's address, media comes back via the front
    hub_a = Hub(relay.front['ha'])
    d, src_a = latch(ca, hub_a)
    ok(d[:4] == b'VCMH' and src_a[0] == relay.front['ha'][0] and
       src_a != hub_a.s.getsockname(),
       "hello reaches the camera from the relay's address (latching through it)")
    sid_a = bytes(range(16))
    pk = fragments(0x11111111, 100, unit(sid_a, 0, 3000, 1))
    got = through(ca, src_a, hub_a, pk)
    ok(got == pk, 'media for the latched address reaches the hub from the front, unchanged')

    # Camera b's live stream through link hb: the splice source
    hub_b = Hub(relay.front['hb'])
    _, src_b = latch(cb, hub_b)
    ub = unit(bytes([0xbb] * 16), 5, 2500, 7)
    through(cb, src_b, hub_b, fragments(0x22222222, 900, ub, flags=1))

    # splice_au: b's whole unit, rewritten into a's stream, numbered far ahead
    relay.cmd('fault ha splice_from=b splice_au=1')
    genuine = fragments(0x11111111, 101, unit(sid_a, 1, 1100, 2))
    got = through(ca, src_a, hub_a, genuine)
    units = dict(in_order(got)[0])
    inj = {k: v for k, v in units.items() if k[1] != 101}
    ok(units.get((0x11111111, 101)) is not None and len(inj) == 1 and
       list(inj.values())[0] == ub and list(inj)[0][0] == 0x11111111 and
       (list(inj)[0][1] - 101) % 2**32 >= 2**20,
       "splice_au: the other camera's unit, whole, under the link's SSRC, numbered ahead")
    ok(all(parse(p)['pt'] == 96 for p in got), 'splice_au: payload type of the link kept')
    ok(relay.stats('ha')['spliced_au'] == 1, 'splice_au counted once per injected unit')
    relay.cmd('clear ha')

    # splice_pkt: genuine headers and sealed-unit header, other content
    relay.cmd('fault ha splice_from=b splice_pkt=1')
    ua = unit(sid_a, 2, 2000, 3)
    genuine = fragments(0x11111111, 102, ua)
    got = through(ca, src_a, hub_a, genuine)
    fakes = [p for p in got if p not in genuine]
    ok(len(fakes) == len(genuine) and all(f[:32] == g[:32] for f, g in zip(fakes, genuine)),
       'splice_pkt: each spliced fragment carries the genuine fragment header')
    ok(fakes[0][32:64] == genuine[0][32:64] and fakes[0][64:] != genuine[0][64:],
       'splice_pkt: the sealed-unit header stays, the bytes after it are the other camera\'s')
    st = relay.stats('ha')
    ok(st['spliced_pkt'] == len(genuine) and st['spliced_pkt_units'] == 1,
       'splice_pkt counted per fragment and per unit')
    relay.cmd('clear ha')

    # renumber: a genuine packet under a unit number 2^20 ahead
    relay.cmd('fault ha renumber=1')
    p = packet(0x11111111, 103, 10, 0, bytes(10))
    got = through(ca, src_a, hub_a, [p])
    ok(len(got) == 1 and parse(got[0])['num'] == 103 + 2**20 and got[0][20:] == p[20:],
       'renumber: the same packet, its unit number moved 2^20 ahead')
    relay.cmd('clear ha')

    # determinism: the same seed drops the same packets. Sent 50 at a time,
    # each batch once the relay has taken the one before (its socket never
    # overflows, whatever the load); the mark goes once drop is cleared.
    def drop_pattern(seed):
        rl = Relay(seed, {'a': ca}, [('ha', 'a')])
        hub = Hub(rl.front['ha'])
        _, src = latch(ca, hub)
        rl.cmd('fault ha drop=0.3')
        got = []
        for first in range(0, 300, 50):
            for n in range(first, first + 50):
                ca.udp.sendto(packet(0x33333333, n, 10, 0, bytes(10)), src)
            deadline = time.monotonic() + WAIT
            while rl.stats('ha')['pkts_down'] < first + 50:
                if time.monotonic() > deadline:
                    raise TimeoutError('the relay did not take the packets sent')
                got += hub.waiting(0.01)
        rl.cmd('clear ha')
        got += through(ca, src, hub, [])
        dropped = rl.stats('ha')['dropped']
        rl.close()
        return {parse(p)['num'] for p in got}, len(got) + dropped
    (p1, n1), (p2, n2), (p3, n3) = drop_pattern(42), drop_pattern(42), drop_pattern(43)
    ok(n1 == n2 == n3 == 300, f'drop: each packet forwarded or counted dropped ({n1}, {n2}, {n3})')
    ok(p1 == p2, f'same seed, same packets dropped ({300 - len(p1)} of 300)')
    ok(p1 != p3, 'another seed, other packets dropped')
    ok(60 <= 300 - len(p1) <= 120, f'drop=0.3 drops about 30% ({300 - len(p1)} of 300)')

    # replay: record, then serve the recording instead of the live stream
    _, src_a = latch(ca, hub_a)
    relay.cmd('record ha on')
    rec = [unit(sid_a, 10 + i, 1500, 20 + i) for i in range(3)]
    for i, u in enumerate(rec):
        for p in fragments(0x11111111, 110 + i, u):
            ca.udp.sendto(p, src_a)
        time.sleep(0.02)        # a camera's frame interval: the pace the replay keeps
    through(ca, src_a, hub_a, [])
    relay.cmd('record ha off')
    ok(relay.stats('ha')['recorded'] == 3, 'record keeps the link\'s whole units')
    # a new session on the link: new SSRC, new session id. The relay learns
    # it from its first unit before the replay starts: a replayed unit that
    # came between a new SSRC and its first whole unit could not carry the
    # new session id yet.
    sid_new = bytes([0xee] * 16)
    through(ca, src_a, hub_a, fragments(0x44444444, 7, unit(sid_new, 0, 1300, 9)))
    relay.cmd('replay ha resession')
    live = fragments(0x44444444, 8, unit(sid_new, 1, 1300, 10))
    got = through(ca, src_a, hub_a, live)
    got = hub_a.until(lambda g: len(in_order(g)[0]) >= len(rec), got)
    units, stray = in_order(got)
    ok(not any(p in live for p in got) and (0x44444444, 8) not in [k for k, _ in units],
       'replay withholds the live units')
    ok(not stray and all(k[0] == 0x44444444 and (k[1] - 7) % 2**32 >= 2**20 and
                         v[4:20] == sid_new and v[20:] in [u[20:] for u in rec]
                         for k, v in units),
       f'resession: recorded units under the current SSRC with the current session id '
       f'written in ({len(units)} units)')
    # raw: what the relay sent before it took the command may still be on its
    # way; after the mark, only the recording as it was
    relay.cmd('replay ha raw')
    through(ca, src_a, hub_a, [])
    got = hub_a.until(lambda g: len(in_order(g)[0]) >= 2 * len(rec))
    relay.cmd('replay ha off')
    got += through(ca, src_a, hub_a, [])
    units, stray = in_order(got)
    ok(not stray and all(parse(p)['ssrc'] == 0x11111111 and parse(p)['pt'] == 96 for p in got) and
       all(k[0] == 0x11111111 and 110 <= k[1] < 110 + len(rec) and v == rec[k[1] - 110]
           for k, v in units),
       f'raw replay: the recorded units exactly, under the old SSRC ({len(units)} units)')
    order = [k[1] - 110 for k, _ in units]
    ok(all((b - a) % len(rec) == 1 for a, b in zip(order, order[1:])),
       'raw replay: in the recorded order, over and over')

    # misroute: new connections of a link go to another camera
    relay.cmd('route ha b')
    h = socket.create_connection(relay.front['ha'], timeout=WAIT)
    h.sendall(b'\x16misrouted')
    c, _ = cb.tcp.accept()
    c.settimeout(WAIT)
    ok(recv_exact(c, 10) == b'\x16misrouted' and relay.stats('ha')['conns_misrouted'] == 1,
       "route: hub a's new session arrives at camera b, counted")
    c.close()
    h.close()
    relay.cmd('route ha own')

    # outage: everything reset, refused, then served again
    h = socket.create_connection(relay.front['ha'], timeout=WAIT)
    h.sendall(b'\x16x')
    c, _ = ca.tcp.accept()
    relay.cmd('outage refuse')
    try:
        dead = h.recv(10) == b''
    except ConnectionResetError:
        dead = True
    ok(dead, 'outage: open connections are dropped')
    try:
        socket.create_connection(relay.front['ha'], timeout=WAIT).close()
        refused = False
    except OSError:
        refused = True
    ok(refused, 'outage refuse: new connections refused')
    relay.cmd('restore')
    h2 = socket.create_connection(relay.front['ha'], timeout=WAIT)
    h2.sendall(b'\x16back')
    c2, _ = ca.tcp.accept()
    c2.settimeout(WAIT)
    ok(recv_exact(c2, 5) == b'\x16back', 'restore: served again')
    for s in (h, h2, c, c2):
        s.close()

    # delay: media is held back for the link's delay (never less; how much
    # longer depends on the machine's load, so only that it comes is asked)
    relay.cmd('fault ha delay_ms=300')
    _, src_a = latch(ca, hub_a)
    p = packet(0x55555555, 1, 4, 0, b'abcd')
    t = time.monotonic()
    ca.udp.sendto(p, src_a)
    d = hub_a.recv()
    dt = time.monotonic() - t
    ok(d == p and dt >= 0.299, f'delay_ms=300 delays by {dt * 1000:.0f} ms')
    # commands of the wrong shape: each answered with its reason (the
    # orchestrator's typo must not pass as an attack that ran), and the
    # relay goes on serving
    for line, want in [('nonsense ha', 'unknown command'), ('fault', 'usage: fault LINK|all'),
                       ('fault ha', 'usage: fault'), ('fault nolink drop=1', 'unknown link'),
                       ('fault ha drop', 'drop: expected key=value'),
                       ('fault ha drop=lots', 'drop=lots: bad probability'),
                       ('fault ha nokey=1', 'nokey=1: unknown key'),
                       ('fault ha splice_from=nocam', 'unknown camera'),
                       ('clear ha extra', 'usage: clear LINK|all'),
                       ('route ha nocam', 'unknown camera'), ('subst all', 'usage: subst'),
                       ('record ha maybe', 'record LINK|all on|off'),
                       ('replay ha fast', 'replay LINK|all raw|rewrite|resession|off'),
                       ('swap sideways', 'swap route|media|both|off'),
                       ('outage maybe', 'outage refuse|blackhole'),
                       ('restore now', 'usage: restore'), ('kick', 'usage: kick LINK|all'),
                       ('stats now', 'usage: stats')]:
        r = relay.cmd(line)
        ok(r.get('ok') is False and want in r.get('error', ''),
           f"'{line}' refused, saying why: {r.get('error')}")
    ok(relay.cmd('clear all') == {'ok': True} and isinstance(relay.stats('ha'), dict),
       'after them the relay still answers')
    ok(relay.close() == 0, 'quit: the relay exits 0')
    print(f'1..{N}')
    return 1 if FAILS else 0


if __name__ == '__main__':
    random.seed(1)
    try:
        sys.exit(main())
    except Exception as e:      # a relay that never answered, or a test bug
        print(f'Bail out! {type(e).__name__}: {e}', flush=True)
        sys.exit(1)
