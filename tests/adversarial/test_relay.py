#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The hostile relay's own tests (TAP), against fake hubs and cameras that
speak the documented wire formats (docs/TRANSPORT.md, docs/PROTOCOL.md §8)
on 127.0.0.0/8: forwarding and latching, determinism from the seed, and
that each attack does exactly what the adversarial suite counts on.

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
        self.tcp.settimeout(3)
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(self.addr)
        self.udp.settimeout(3)


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


def reassemble(pkts):
    """Whole units from packets, keyed by (ssrc, num)."""
    parts = {}
    for p in pkts:
        f = parse(p)
        key = (f['ssrc'], f['num'])
        parts.setdefault(key, {'total': f['total'], 'frags': {}})['frags'][f['off']] = f['data']
    out = {}
    for key, v in parts.items():
        data = b''.join(v['frags'][o] for o in sorted(v['frags']))
        if len(data) == v['total']:
            out[key] = data
    return out


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
        self.s.bind(('127.0.0.1', 0))
        self.s.settimeout(0.3)

    def hello(self, token=b'T' * 16):
        self.s.sendto(b'VCMH\x01\x01\x00\x00' + token, self.front)

    def drain(self, quiet=0.3):
        out = []
        while True:
            try:
                d, src = self.s.recvfrom(65536)
            except socket.timeout:
                return out
            if src != self.front:
                raise AssertionError(f'media from {src}, not the relay front {self.front}')
            out.append(d)


def latch(cam, hub):
    """Hello through the relay; the camera's view of where to send media."""
    hub.hello()
    d, src = cam.udp.recvfrom(2048)
    return d, src


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
    h = socket.create_connection(relay.front['ha'], timeout=3)
    h.sendall(b'\x16\x03\x01hello-from-hub')
    c, _ = ca.tcp.accept()
    c.settimeout(3)
    got = c.recv(100)
    c.sendall(b'\x16\x03\x03hello-from-camera')
    back = h.recv(100)
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
    for p in pk:
        ca.udp.sendto(p, src_a)
    got = hub_a.drain()
    ok(got == pk, 'media for the latched address reaches the hub from the front, unchanged')

    # Camera b's live stream through link hb: the splice source
    hub_b = Hub(relay.front['hb'])
    _, src_b = latch(cb, hub_b)
    ub = unit(bytes([0xbb] * 16), 5, 2500, 7)
    for p in fragments(0x22222222, 900, ub, flags=1):
        cb.udp.sendto(p, src_b)
    hub_b.drain()

    # splice_au: b's whole unit, rewritten into a's stream, numbered far ahead
    relay.cmd('fault ha splice_from=b splice_au=1')
    genuine = fragments(0x11111111, 101, unit(sid_a, 1, 1100, 2))
    for p in genuine:
        ca.udp.sendto(p, src_a)
    got = hub_a.drain()
    units = reassemble(got)
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
    for p in genuine:
        ca.udp.sendto(p, src_a)
    got = hub_a.drain()
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
    ca.udp.sendto(p, src_a)
    got = hub_a.drain()
    ok(len(got) == 1 and parse(got[0])['num'] == 103 + 2**20 and got[0][20:] == p[20:],
       'renumber: the same packet, its unit number moved 2^20 ahead')
    relay.cmd('clear ha')

    # determinism: the same seed drops the same packets
    def drop_pattern(seed):
        rl = Relay(seed, {'a': ca}, [('ha', 'a')])
        hub = Hub(rl.front['ha'])
        _, src = latch(ca, hub)
        rl.cmd('fault ha drop=0.3')
        sent = [packet(0x33333333, n, 10, 0, bytes(10)) for n in range(300)]
        for p in sent:
            ca.udp.sendto(p, src)
            time.sleep(0.0005)
        got = {parse(p)['num'] for p in hub.drain()}
        rl.close()
        return got
    p1, p2, p3 = drop_pattern(42), drop_pattern(42), drop_pattern(43)
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
        time.sleep(0.02)
    hub_a.drain()
    ok(relay.stats('ha')['recorded'] == 3, 'record keeps the link\'s whole units')
    # a new session on the link: new SSRC, new session id
    sid_new = bytes([0xee] * 16)
    relay.cmd('replay ha resession')
    for p in fragments(0x44444444, 7, unit(sid_new, 0, 1300, 9)):
        ca.udp.sendto(p, src_a)
    time.sleep(0.3)
    got = reassemble(hub_a.drain())
    live = [k for k in got if k == (0x44444444, 7)]
    replayed = [v for k, v in got.items() if k[0] == 0x44444444 and k[1] != 7]
    ok(not live, 'replay withholds the live units')
    ok(replayed and all(v[4:20] == sid_new and v[20:] in [u[20:] for u in rec] for v in replayed),
       'resession: recorded units under the current SSRC with the current session id written in')
    latch(ca, hub_a)       # hubs say hello every second; the flow stays
    relay.cmd('replay ha raw')
    time.sleep(0.3)
    got = reassemble(hub_a.drain())
    ok(got and all(k[0] == 0x11111111 and v in rec for k, v in got.items()),
       'raw replay: the recorded units exactly, under the old SSRC')
    relay.cmd('replay ha off')

    # misroute: new connections of a link go to another camera
    relay.cmd('route ha b')
    h = socket.create_connection(relay.front['ha'], timeout=3)
    h.sendall(b'\x16misrouted')
    c, _ = cb.tcp.accept()
    c.settimeout(3)
    ok(c.recv(100) == b'\x16misrouted' and relay.stats('ha')['conns_misrouted'] == 1,
       "route: hub a's new session arrives at camera b, counted")
    c.close()
    h.close()
    relay.cmd('route ha own')

    # outage: everything reset, refused, then served again
    h = socket.create_connection(relay.front['ha'], timeout=3)
    h.sendall(b'\x16x')
    c, _ = ca.tcp.accept()
    relay.cmd('outage refuse')
    try:
        dead = h.recv(10) == b''
    except ConnectionResetError:
        dead = True
    ok(dead, 'outage: open connections are dropped')
    try:
        socket.create_connection(relay.front['ha'], timeout=1).close()
        refused = False
    except OSError:
        refused = True
    ok(refused, 'outage refuse: new connections refused')
    relay.cmd('restore')
    h2 = socket.create_connection(relay.front['ha'], timeout=3)
    h2.sendall(b'\x16back')
    c2, _ = ca.tcp.accept()
    c2.settimeout(3)
    ok(c2.recv(100) == b'\x16back', 'restore: served again')
    for s in (h, h2, c, c2):
        s.close()

    # delay: a 300 ms link delays media by about that much
    relay.cmd('fault ha delay_ms=300')
    _, src_a = latch(ca, hub_a)
    t = time.monotonic()
    ca.udp.sendto(packet(0x55555555, 1, 4, 0, b'abcd'), src_a)
    hub_a.s.settimeout(2)
    hub_a.s.recvfrom(2048)
    dt = time.monotonic() - t
    ok(0.25 <= dt <= 1.0, f'delay_ms=300 delays by {dt * 1000:.0f} ms')
    ok(relay.close() == 0, 'quit: the relay exits 0')
    print(f'1..{N}')
    return 1 if FAILS else 0


if __name__ == '__main__':
    random.seed(1)
    sys.exit(main())
