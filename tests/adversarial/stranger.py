#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Strangers at a camera's door, for the adversarial suite's preauth
scenario (docs/ADVERSARIAL.md): many TCP connections to the camera's port
from addresses that are no hub's, none of which ever authenticates.

    stranger.py --target IP:PORT --sources 127.0.3.1-16 --mode MODE [--conns N]
                [--interval S]

MODE:
  slow   N connections, each sending a real TLS 1.3 ClientHello one byte
         every S seconds (the first bytes spread over S)
  idle   N connections that send nothing
  media  N connections that open a TCP media attach (first byte 'V'); half
         of them then send the rest of a hello one byte every S seconds,
         half nothing more
  flood  as fast as one process can, up to N at a time: connect and reset at
         once, or connect, send a whole ClientHello and reset when the
         camera answers (or after 0.5 s), in turn

A connection the camera closes is opened again 0.1 s later (slow, idle,
media), so the pressure lasts. Sources are bound round-robin. Runs until stdin
reaches EOF, then prints one JSON line of counts and exits 0.
"""
import argparse
import errno
import json
import os
import selectors
import socket
import ssl
import struct
import sys
import time

LINGER_RESET = struct.pack('ii', 1, 0)
REOPEN = 0.1          # a connection the camera closed is opened again this soon


def client_hellos(k):
    """@k genuine TLS 1.3 ClientHellos (each with its own random and key share)."""
    out = []
    for _ in range(k):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        outgoing = ssl.MemoryBIO()
        obj = ctx.wrap_bio(ssl.MemoryBIO(), outgoing, server_side=False)
        try:
            obj.do_handshake()
        except ssl.SSLWantReadError:
            pass
        out.append(outgoing.read())
    return out


def sources(spec):
    """'127.0.3.1-16' -> 127.0.3.1 .. 127.0.3.16; 'A,B' -> A, B."""
    out = []
    for part in spec.split(','):
        if '-' in part:
            base, last = part.rsplit('-', 1)
            prefix, first = base.rsplit('.', 1)
            out += [f'{prefix}.{i}' for i in range(int(first), int(last) + 1)]
        else:
            out.append(part)
    return out


class Conn:
    def __init__(self, payload, trickle, hold_open):
        self.payload = payload        # bytes to send
        self.trickle = trickle        # one byte per interval, else all at once
        self.hold_open = hold_open    # keep it after sending (else reset on the answer)
        self.sent = 0
        self.sock = None
        self.connected = False
        self.next_at = 0.0
        self.deadline = None


class Strangers:
    def __init__(self, args):
        self.args = args
        host, port = args.target.rsplit(':', 1)
        self.target = (host, int(port))
        self.srcs = sources(args.sources)
        self.src_i = 0
        self.sel = selectors.DefaultSelector()
        self.hellos = client_hellos(8)
        self.hello_i = 0
        self.n = {'opened': 0, 'connect_failed': 0, 'established': 0, 'closed_by_camera': 0,
                  'bytes_sent': 0, 'whole_hellos': 0, 'answered': 0, 'reset_by_us': 0}
        self.conns = []
        self.flood_turn = 0

    def hello(self):
        self.hello_i += 1
        return self.hellos[self.hello_i % len(self.hellos)]

    def open(self, c, now, first_delay=0.0):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.bind((self.srcs[self.src_i % len(self.srcs)], 0))
        self.src_i += 1
        try:
            s.connect(self.target)
        except BlockingIOError:
            pass
        except OSError:
            self.n['connect_failed'] += 1
            s.close()
            c.sock = None
            c.next_at = now + 0.2
            return
        self.n['opened'] += 1
        c.sock, c.connected, c.sent = s, False, 0
        c.next_at = now + first_delay
        c.deadline = None
        self.sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE, c)

    def drop(self, c, reset, now, reopen_in=0.0):
        if c.sock is None:
            return
        self.sel.unregister(c.sock)
        if reset:
            try:
                c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER_RESET)
            except OSError:
                pass
            self.n['reset_by_us'] += 1
        c.sock.close()
        c.sock = None
        c.next_at = now + reopen_in

    def start(self):
        a = self.args
        now = time.monotonic()
        for i in range(a.conns):
            if a.mode == 'slow':
                c = Conn(self.hello(), True, True)
            elif a.mode == 'idle':
                c = Conn(b'', False, True)
            elif a.mode == 'media':
                # a hello's magic, then (half of them) the rest trickled
                c = Conn(b'VCMH' + bytes(60) if i % 2 else b'V', True, True)
            else:
                c = Conn(b'', False, False)
            self.conns.append(c)
            if a.mode != 'flood':
                self.open(c, now, first_delay=a.interval * i / max(1, a.conns))
        if a.mode == 'flood':
            for c in self.conns:
                self.flood_open(c, now)

    def flood_open(self, c, now):
        self.flood_turn += 1
        c.payload = self.hello() if self.flood_turn % 2 else b''
        c.trickle, c.hold_open = False, False
        self.open(c, now)

    def on_event(self, c, mask, now):
        a = self.args
        if not c.connected and mask & selectors.EVENT_WRITE:
            err = c.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                self.n['connect_failed'] += 1
                self.drop(c, False, now, 0.0 if a.mode == 'flood' else 0.2)
                return
            c.connected = True
            self.n['established'] += 1
            self.sel.modify(c.sock, selectors.EVENT_READ, c)
            if a.mode == 'flood':
                if not c.payload:
                    self.drop(c, True, now)          # open and reset at once
                    return
                self.send(c, len(c.payload))
                self.n['whole_hellos'] += 1
                c.deadline = now + 0.5
            return
        if mask & selectors.EVENT_READ:
            try:
                d = c.sock.recv(65536)
            except OSError:
                d = b''
            if d and a.mode == 'flood':
                self.n['answered'] += 1
                self.drop(c, True, now)
            elif not d:
                self.n['closed_by_camera'] += 1
                self.drop(c, False, now, 0.0 if a.mode == 'flood' else REOPEN)

    def send(self, c, k):
        try:
            n = c.sock.send(c.payload[c.sent:c.sent + k])
        except OSError as e:
            if e.errno not in (errno.EAGAIN, errno.EWOULDBLOCK):
                self.n['closed_by_camera'] += 1
                self.drop(c, False, time.monotonic(), REOPEN)
            return
        c.sent += n
        self.n['bytes_sent'] += n

    def timers(self, now):
        a = self.args
        for c in self.conns:
            if c.sock is None:
                if now >= c.next_at:
                    if a.mode == 'flood':
                        self.flood_open(c, now)
                    else:
                        self.open(c, now)
                continue
            if a.mode == 'flood':
                if c.deadline is not None and now >= c.deadline:
                    self.drop(c, True, now)
                continue
            if c.connected and c.trickle and c.sent < len(c.payload) and now >= c.next_at:
                self.send(c, 1)
                c.next_at = now + a.interval

    def run(self):
        self.start()
        self.sel.register(sys.stdin, selectors.EVENT_READ, None)
        while True:
            now = time.monotonic()
            for key, mask in self.sel.select(0.02 if self.args.mode == 'flood' else 0.1):
                if key.data is None:
                    if not os.read(sys.stdin.fileno(), 4096):
                        return
                    continue
                if key.data.sock is not None:
                    self.on_event(key.data, mask, now)
            self.timers(time.monotonic())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--target', required=True)
    ap.add_argument('--sources', default='127.0.3.1-16')
    ap.add_argument('--mode', choices=('slow', 'idle', 'media', 'flood'), required=True)
    ap.add_argument('--conns', type=int, default=64)
    ap.add_argument('--interval', type=float, default=2.0)
    args = ap.parse_args()
    st = Strangers(args)
    try:
        st.run()
    except KeyboardInterrupt:
        pass
    for c in st.conns:
        st.drop(c, True, 0.0)
    print(json.dumps(st.n), flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
