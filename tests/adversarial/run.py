#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The adversarial suite: the incidents of the product brief replayed
against real veracamd cameras and hubs through a hostile relay.

Four pattern cameras and four hubs on 127.0.0.0/8; every hub reaches its
cameras only through tests/adversarial/relay (one link per hub-camera
pairing). Scenarios drive the relay (misroute, splice, replay, swap,
network faults, outages); every frame every hub writes (y4m into a FIFO)
is classified by its pixels, per cell, as the paired camera's pattern,
the hub's unavailable screen, or FOREIGN. The capture time the pattern
camera burns into each frame (CLOCK_MONOTONIC, the runner's clock too) is
read back from the pixels, so the age of every shown frame is measured
independently of the hub.

Assertions per scenario: no foreign frame; no own frame where the relay
withheld every genuine unit (a leak of a replayed/misrouted/stale
picture); no frame shown older than the freshness window allows (measured
from the burned-in capture time on the runner's clock, never from anything
the hub reports); the hub's reject counters agree with what the relay did;
every daemon alive; after outages every cell shows its camera again within
3 s. The scenarios of issue 12 add their own: control-channel holds,
clock steps, unauthenticated connections, zombie sessions, one key's many
sessions, injection from a third address, a hub that stops reading. At the end:
daemons stop with SIGTERM and exit 0, no sanitizer report in any log,
and with --soak, memory flat.

    run.py [--build BUILD_DIR] [--soak SECONDS] [--seed N] [--fps N] [--only A,B] [--keep]

See docs/ADVERSARIAL.md. Exit status 0 = every assertion held, 1 = some
failed, 77 = cannot run here (reason printed).
"""
import argparse
import os
import shutil
import signal
import subprocess
import sys
import threading
import time

from world import CAMERAS, CLASS_NAMES, DaemonDied, HEIGHT, Run, STALL, WAIT_STRETCH, WIDTH
from evaluate import evaluate, fmt_rejects, memory_report, print_summary, reconnect_jitter
from scenarios import SCENARIOS, Scenario

# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------

def main():
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
    ap.add_argument('--min-cells', type=int, default=0,
                    help='fail unless the oracle classified at least this many cells '
                         '(one cell of one y4m frame each)')
    ap.add_argument('--time-factor', type=float, default=1.0,
                    help='stretch the recovery deadlines (daemons built with sanitizers '
                    'run slower; every security check stays as strict)')
    ap.add_argument('--rss-interval', type=float, default=5.0)
    ap.add_argument('--warmup', type=float, default=60.0)
    ap.add_argument('--keep', action='store_true', help='keep the run directory')
    ap.add_argument('--dump', action='store_true',
                    help='write every classified frame to HUB.frames.tsv in the run directory')
    args = ap.parse_args()
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
                run.wait_all_own(time.monotonic(), run.recovery_cleared * WAIT_STRETCH)
                t2 = time.monotonic()
                r = evaluate(run, sc, t0, t2, snap0, snap1)
                rows.append((sc.name, r, sc.recovery))
                bad = [d for d, ok in sc.checks if not ok]
                if sc.skipped:
                    print(f'ok - {sc.name} # SKIP {sc.skipped}', flush=True)
                for d, ok in sc.checks:
                    print(f'{"ok" if ok else "not ok"} - {sc.name}: {d}', flush=True)
                for d in bad:
                    run.failures.append(f'{sc.name}: {d}')
                run.log(f'{sc.name}: {r["frames"]} frames, own {r["own"]}, unavailable '
                        f'{r["unav"]}, foreign {r["foreign"]}, rejects {fmt_rejects(r["rejects"])}'
                        f', daemons\' CPU stretch {r["stretch"]:.2f}')
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
    total_cells = sum(r['own'] + r['unav'] + r['foreign'] for _, r, _ in rows)
    unread = sum(r['unread'] for _, r, _ in rows)
    print(f'# frames classified: {total_frames}, cells {total_cells} ({unread} own frames whose '
          f'number could not be read), run time {time.monotonic() - run.t_start:.0f}s')
    st = [e - s for s, e in run.stalls]
    print(f'# host stalls noticed (a 20 ms sleep late by > {STALL}s): {len(st)}, '
          f'{sum(st):.1f}s in all, longest {max(st, default=0):.2f}s')
    if args.min_cells and total_cells < args.min_cells:
        run.failures.append(f'only {total_cells} cells classified (< {args.min_cells})')
    for name, rc in rcs.items():
        print(f'{"ok" if rc == 0 else "not ok"} - {name} stopped by SIGTERM with status {rc}')
        if rc != 0:
            run.failures.append(f'{name} exit status {rc}')
    for name, rc in run.stopped:        # counted in run.failures when they were stopped
        print(f'{"ok" if rc == 0 else "not ok"} - {name} (stopped by a scenario) exited with '
              f'status {rc}')
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
    """Per hub: time since start, then class, burned-in capture time read
    (centiseconds) and that capture time since start, per cell."""
    for hub in run.all_hubs():
        with open(os.path.join(run.dir, hub.tag + '.frames.tsv'), 'w') as f:
            for t, cls, num in zip(hub.t, hub.cls, hub.num):
                cols = [f'{t - run.t_start:.3f}']
                for i, (c, n) in enumerate(zip(cls, num)):
                    cap = run.capture_time(n, t) if n is not None else None
                    cols.append(f'{CLASS_NAMES[c]}:{n}:' +
                                (f'{cap - run.t_start:.3f}' if cap is not None else '-'))
                f.write('\t'.join(cols) + '\n')


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
    order = [n for n in run.procs if n not in [c for c, _ in CAMERAS] + ['relay']]
    order += [c for c, _ in CAMERAS] + ['relay']
    for name in order:
        p = run.procs.get(name)
        if p and p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for name in order:
        p = run.procs.get(name)
        if not p:
            continue
        try:
            rcs[name] = p.wait(timeout=30 * run.args.time_factor)
        except subprocess.TimeoutExpired:
            p.kill()
            rcs[name] = p.wait()
            run.failures.append(f'{name} did not stop within '
                                f'{30 * run.args.time_factor:.0f} s of SIGTERM')
    return rcs


if __name__ == '__main__':
    sys.exit(main())

