#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The relay's attacks of issue 12, against fake hubs and cameras on
127.0.0.0/8 (TAP): the control hold (where it starts, the trickle, the
learned handshake), zombie sessions, injection from a third address and the
stalled TCP media. The scenarios (scenarios.py) rely on each of these doing
exactly what is checked here, whatever the daemons do.

    test_relay_attacks.py RELAY
"""
import json
import socket
import struct
import subprocess
import sys
import time

RELAY = sys.argv[1]


class Tap:
    """TAP lines, numbered; failures counted."""

    def __init__(self):
        self.n = self.failed = 0

    def __call__(self, cond, desc):
        self.n += 1
        self.failed += not cond
        print(('ok' if cond else 'not ok'), self.n, '-', desc, flush=True)


ok = Tap()


def port_on(ip):
    with socket.socket() as s:
        s.bind((ip, 0))
        return s.getsockname()[1]


def record(kind, body):
    """A TLS record: type, version 3.3, length, body."""
    return struct.pack('>BHH', kind, 0x0303, len(body)) + body


def media(ssrc, num, total, off, data, flags=0):
    """A transport v1 media fragment: RTP header, fragment header, bytes."""
    return (struct.pack('>BBHII', 0x80, (0x80 if off + len(data) == total else 0) | 96, 7,
                        1000, ssrc) +
            struct.pack('>BBBBIIIHH', 1, 1, flags, 0, num, total, off, 1168, 0) + data)


def recv_for(sock, secs):
    """Whatever @sock receives within @secs (stream or datagrams); None for
    the stream's end."""
    return [d for _, d in timed(sock, secs)]


def timed(sock, secs, want=None):
    """(arrival, data) of what @sock receives within @secs, or until @want
    bytes of a stream came."""
    out = []
    got = 0
    end = time.monotonic() + secs
    while want is None or got < want:
        left = end - time.monotonic()
        if left <= 0:
            break
        sock.settimeout(left)
        try:
            d = sock.recvfrom(65536) if sock.type == socket.SOCK_DGRAM else (sock.recv(65536), None)
        except (socket.timeout, BlockingIOError):
            break
        except ConnectionResetError:
            d = (None, None)
        if sock.type != socket.SOCK_DGRAM and not d[0]:
            out.append((time.monotonic(), None))
            break
        out.append((time.monotonic(), d))
        got += len(d[0])
    return out


def held(arrivals, t0, data, hold, trickle):
    """Whether a held @data came as a hold promises, however late the
    machine runs: never more than a byte per @trickle before the hold ends
    (the relay sends nothing early), all of it in order, the end not before
    @hold after @t0."""
    early = sum(len(d[0]) for t, d in arrivals if d and t < t0 + hold - 0.05)
    whole = b''.join(d[0] for _, d in arrivals if d)
    last = max((t for t, d in arrivals if d), default=t0)
    return (whole == data and early <= int(hold / trickle) + 1 and last >= t0 + hold - 0.05,
            f'{early} B early, all {len(whole)}/{len(data)} B by {last - t0:.2f}s')


class Relay:
    """The relay with one camera and @links (fronts on 127.0.5.x), driven
    by commands; stats per link."""

    def __init__(self, cam_addr, links):
        self.links = links
        self.front = {lk: (f'127.0.5.{i + 1}', port_on(f'127.0.5.{i + 1}'))
                      for i, lk in enumerate(links)}
        argv = [RELAY, '--seed', '3', '--max-runtime', '120',
                '--camera', 'cam=%s:%d' % cam_addr]
        for lk, (ip, port) in self.front.items():
            argv += ['--link', f'{lk}={ip}:{port},cam']
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  text=True, bufsize=1)
        self.ready = json.loads(self.p.stdout.readline())

    def cmd(self, line):
        print(line, file=self.p.stdin, flush=True)
        reply = json.loads(self.p.stdout.readline())
        assert reply.get('ok'), f'{line}: {reply}'
        return reply

    def stats(self, lk):
        return self.cmd('stats')['links'][lk]


def tls_pair(relay, cam_tcp, lk):
    """A hub connection through @lk and the camera's side of it, past a
    ClientHello and the camera's answer."""
    hub = socket.create_connection(relay.front[lk], timeout=3)
    hub.sendall(record(0x16, b'C' * 40))
    cam, _ = cam_tcp.accept()
    cam.settimeout(3)
    assert cam.recv(100) == record(0x16, b'C' * 40)
    cam.sendall(record(0x16, b'S' * 60) + record(0x17, b'F' * 30))
    got = b''
    while len(got) < 100:
        got += hub.recv(100)
    return hub, cam


def test_hold(relay, cam_tcp):
    # a clean connection teaches the link where the hub's handshake ends:
    # three records after the ClientHello, then the hub's first message
    hub, cam = tls_pair(relay, cam_tcp, 'h')
    flight = record(0x14, b'\x01') + record(0x17, b'c' * 50) + record(0x17, b'f' * 30)
    hello = record(0x17, b'H' * 40)
    hub.sendall(flight + hello)
    got = b''
    while len(got) < len(flight + hello):
        got += cam.recv(1000)
    cam.sendall(record(0x17, b'A' * 20))
    hub.recv(100)
    ok(relay.stats('h')['hs_records'] == 4,
       f'the link learns the hub\'s handshake records ({relay.stats("h")["hs_records"]})')
    hub.close()
    cam.close()

    # towards the camera: the handshake passes, the hub's hello is held
    relay.cmd('fault h hold_dir=to_camera hold_ms=2000 hold_trickle_ms=500')
    hub, cam = tls_pair(relay, cam_tcp, 'h')
    t = time.monotonic()
    hub.sendall(flight + hello)
    arrivals = timed(cam, 10, len(flight + hello))
    data = b''.join(d[0] for _, d in arrivals if d)
    passed = next((a for a, _ in arrivals
                   if sum(len(d[0]) for b, d in arrivals if d and b <= a) >= len(flight)), None)
    ok(data[:len(flight)] == flight and passed is not None and passed < t + 1.9,
       'hold to_camera: the handshake records are not held')
    rest = []
    for a, d in arrivals:       # the hello's bytes, with their arrival
        n = sum(len(x[0]) for b, x in arrivals if x and b < a)
        if d and n + len(d[0]) > len(flight):
            rest.append((a, (d[0][max(0, len(flight) - n):], None)))
    good, how = held(rest, t, hello, 2.0, 0.5)
    ok(good, f'hold to_camera: the hub\'s hello trickled, the rest after 2 s ({how})')
    hub.close()
    cam.close()

    # towards the hub: everything the camera sends after the hub's handshake
    relay.cmd('fault h hold_dir=to_hub hold_ms=1500 hold_trickle_ms=1000')
    hub, cam = tls_pair(relay, cam_tcp, 'h')
    hub.sendall(flight + hello)
    got = b''
    while len(got) < len(flight + hello):
        got += cam.recv(1000)
    t = time.monotonic()
    answer = record(0x17, b'V' * 64)
    cam.sendall(answer)
    good, how = held(timed(hub, 10, len(answer)), t, answer, 1.5, 1.0)
    ok(good, f'hold to_hub: the camera\'s answer trickled, the rest after 1.5 s ({how})')
    st = relay.stats('h')
    ok(st['holds'] == 2 and st['held_bytes'] == len(hello) + len(answer),
       f'holds counted ({st["holds"]} holds, {st["held_bytes"]} bytes)')
    hub.close()
    cam.close()
    relay.cmd('clear h')


def test_zombie(relay, cam_tcp, cam_udp):
    relay.cmd('fault z zombie=1 zombie_ms=300')
    hub, cam = tls_pair(relay, cam_tcp, 'z')
    hub.sendall(record(0x17, b'x' * 10))
    cam.recv(100)
    hub.sendall(record(0x15, b'\x01\x00'))      # what a close_notify looks like
    hub.close()
    seen = recv_for(cam, 1.0)
    ok(not seen, f'zombie: the camera sees neither the hub\'s last record nor its close '
       f'({seen})')
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(('127.0.0.1', 0))
    hello = b'VCMH\x01\x01\x00\x00' + b'T' * 16
    u.sendto(hello, relay.front['z'])
    u.sendto(b'VCMH\x01\x03\x00\x00' + b'T' * 16, relay.front['z'])   # bye
    t = time.monotonic()
    got = [d for d, _ in recv_for(cam_udp, 2.0)]
    span = time.monotonic() - t
    ok(all(d == hello for d in got) and 3 <= len(got) <= span / 0.3 + 3,
       f'zombie: the hello replayed every 300 ms (never faster), the bye swallowed '
       f'({len(got)} datagrams in {span:.1f}s)')
    st = relay.stats('z')
    ok(st['zombies'] == 1 and st['byes_swallowed'] == 1 and st['swallowed_bytes'] > 0,
       f'zombie counters ({st["zombies"]} kept, {st["byes_swallowed"]} byes, '
       f'{st["swallowed_bytes"]} bytes)')
    relay.cmd('clear z')
    end = recv_for(cam, 1.0)
    ok(end and end[-1] is None, 'clear: the kept connection closes at last')
    cam.close()
    u.close()
    recv_for(cam_udp, 0.5)


def test_inject(relay, cam_udp):
    hub = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    hub.bind(('127.0.0.1', 0))
    hello = b'VCMH\x01\x01\x00\x00' + b'K' * 16
    hub.sendto(hello, relay.front['i'])
    _, flow = cam_udp.recvfrom(100)
    for num in (40, 41):
        cam_udp.sendto(media(0xabcdef01, num, 1500, 0, bytes(1168)), flow)
        cam_udp.sendto(media(0xabcdef01, num, 1500, 1168, bytes(332)), flow)
    recv_for(hub, 0.3)
    relay.cmd('fault i inject_ms=50')
    got = recv_for(hub, 1.0)
    copied = recv_for(cam_udp, 0.2)
    relay.cmd('fault i inject_ms=0')
    third = {src for _, src in got}
    frags = [struct.unpack('>BBBBIIIHH', d[12:32]) + (len(d),) for d, _ in got]
    ends = [f for f in frags if f[1] == 2 and f[-1] == 32 and not f[5] and not f[6]]
    ahead = [f for f in frags if f[1] == 1 and f[4] == 42 + (1 << 20)]
    keys = [f for f in frags if f[1] == 1 and f[2] & 1 and f[4] == 42 and not f[6] and
            f[5] == f[-1] - 32]
    ok(len(third) == 1 and next(iter(third))[0] == f'127.0.4.{relay.links.index("i") + 1}',
       f'inject: the forgeries come from the link\'s third address ({third})')
    ok(ends and ahead and keys,
       f'inject: stream ends, far-ahead fragments and whole keyframe units with the next '
       f'number ({len(ends)}, {len(ahead)}, {len(keys)} of {len(got)})')
    ok(copied and all(d == hello for d, _ in copied) and
       all(src[0].startswith('127.0.4.') for _, src in copied),
       f'inject: copies of the hub\'s hello reach the camera from the third address '
       f'({len(copied)})')
    cam_udp.sendto(media(0xabcdef01, 43, 10, 0, bytes(10)), copied[0][1])
    cam_udp.sendto(b'VCMP challenge', copied[0][1])
    time.sleep(0.3)
    st = relay.stats('i')
    ok(st['third_media'] == 1 and st['third_other'] == 1,
       f'inject: what the third address receives is counted ({st["third_media"]} media, '
       f'{st["third_other"]} other)')
    hub.close()


def test_stall(relay, cam_tcp):
    relay.cmd('fault s stall=1')
    hub = socket.create_connection(relay.front['s'], timeout=3)
    hub.sendall(b'VCMH\x01\x02\x00\x00' + b'M' * 16)
    cam, _ = cam_tcp.accept()
    cam.recv(100)
    cam.setblocking(False)
    sent = 0
    try:
        while sent < 8 << 20:
            sent += cam.send(b'\x00\x20' + bytes(32))
    except BlockingIOError:
        pass
    got = recv_for(hub, 1.0)
    ok(sent < 8 << 20 and not got,
       f'stall: the camera\'s sends block ({sent} bytes taken), the hub gets nothing')
    relay.cmd('fault s stall=0')
    got = b''.join(d for d, _ in recv_for(hub, 1.0) if d)
    ok(len(got) >= min(sent, 4096), f'stall=0: read again ({len(got)} bytes)')
    hub.close()
    cam.close()


def main():
    print('TAP version 13')
    ip = '127.0.1.250'
    cam_tcp = socket.socket()
    cam_tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    cam_tcp.bind((ip, 0))
    cam_tcp.listen(8)
    cam_tcp.settimeout(3)
    cam_udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    cam_udp.bind((ip, cam_tcp.getsockname()[1]))
    cam_udp.settimeout(3)
    relay = Relay(cam_tcp.getsockname(), ['h', 'z', 'i', 's'])
    ok(relay.ready.get('ready'), 'relay starts')
    test_hold(relay, cam_tcp)
    test_zombie(relay, cam_tcp, cam_udp)
    test_inject(relay, cam_udp)
    test_stall(relay, cam_tcp)
    relay.cmd('quit')
    ok(relay.p.wait(timeout=10) == 0, 'quit: the relay exits 0')
    print(f'1..{ok.n}')
    return 1 if ok.failed else 0


if __name__ == '__main__':
    sys.exit(main())
