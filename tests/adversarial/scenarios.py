# SPDX-License-Identifier: GPL-2.0
"""The adversarial suite's scenarios (run.py): each attack as phases on the
hostile relay and the daemons, and what it must (not) let a hub show;
evaluate.py judges the recording.
"""
import bisect
import json
import os
import signal
import subprocess
import sys
import time

from world import (
    CAMERAS, FAKETIME_LIB, FRESHNESS, GRACE, SESSION_END, UNAV, UNAVAILABLE, VIDEO_LIMIT,
    WAIT_STRETCH, link_id, status)
from evaluate import (
    SessionWatch, cell_of, cell_window, counters, fmt_rejects, fmt_s, hub_cam_delta, hub_ready,
    in_time, kept, reject_delta, relay_delta, sessions_of, time_to_video)

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
        self.post = []           # fn(result, rejects, relay): checks on what evaluate() saw
        self.figure = ''         # the scenario's headline figure, for the summary table
        self.skipped = None      # why the scenario could not run here

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

    def skip(self, why):
        self.skipped = why
        self.figure = 'skipped'


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
    run.wait_all_own(time.monotonic(), run.recovery_limit * WAIT_STRETCH + 1)
    for mode in ('raw', 'rewrite', 'resession'):
        s.marks[mode] = run.snapshot()
        s.relay(f'replay all {mode}')
        t = time.monotonic()
        s.sleep(8)
        s.forbid_own('all', t + GRACE, time.monotonic())
        s.relay('replay all off')
        s.marks[mode + '-end'] = run.snapshot()
        run.wait_all_own(time.monotonic(), run.recovery_limit * WAIT_STRETCH + 1)


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
        s.run.wait_all_own(time.monotonic(), s.run.recovery_limit * WAIT_STRETCH + 1)


def sc_outage(s):
    for kind, secs in (('refuse', 0), ('refuse', 2), ('blackhole', 3), ('refuse', 6)):
        s.relay(f'outage {kind}')
        s.sleep(secs)
        s.relay('restore')
        s.recover_at.append((f'{kind} {secs}s', time.monotonic()))
        s.run.wait_all_own(time.monotonic(), s.run.recovery_limit * WAIT_STRETCH + 1)
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


# --------------------------------------------------------------------------
# Issue 12: time and sessions under an adversary. These scenarios run for
# fixed times (not --scale): each waits for a mechanism (a hold, a session
# timeout, reconnects), not for frames to pile up.
# --------------------------------------------------------------------------

STRANGER = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'stranger.py')




HOLD = 4.0        # control-hold: seconds (on main the hub's offset is biased by half of it)
RAMP = ((0, 2.0), (0.5, 2.0), (1.0, 2.0), (1.5, 2.0), (2.5, 3.0), (4.0, 4.0))   # delay, seconds


def sc_control_hold(s):
    # The control channel's first bytes after the TLS handshake held (a byte
    # let through per second, so no read times out), camera->hub on two
    # links and hub->camera on two, UDP and TCP media each; then their media
    # delayed more and more. However the hub reckons time, no frame may be
    # shown older than the window, and beyond it the cells must go blank.
    run = s.run
    to_hub = ['kitchen.porch', 'bedroom.nursery']
    to_cam = ['hall.porch', 'bedroom.garage']
    links = to_hub + to_cam
    before = run.relay_cmd('stats')['links']
    for lk in links:
        s.relay(f'fault {lk} hold_dir={"to_hub" if lk in to_hub else "to_camera"} '
                f'hold_ms={int(HOLD * 1000)} hold_trickle_ms=1000 delay_ctl=0')
        s.relay(f'kick {lk}')
    run.sleep(HOLD + 1.5)
    prev, blank_from = 0.0, None
    for delay, secs in RAMP:
        for lk in links:
            s.relay(f'fault {lk} delay_ms={int(delay * 1000)}')
        if delay > FRESHNESS and blank_from is None:
            # the frames still in flight at the old delay, then the grace
            blank_from = time.monotonic() + prev + GRACE
        run.sleep(secs)
        prev = delay
    s.forbid_own(links, blank_from, time.monotonic())
    after = run.relay_cmd('stats')['links']
    s.check('the relay held each link\'s control channel after the handshake (' +
            ', '.join(f'{lk} {after[lk]["holds"] - before[lk]["holds"]} hold(s) '
                      f'{after[lk]["held_bytes"] - before[lk]["held_bytes"]} B'
                      + ('' if lk in to_hub else
                         f', handshake = {before[lk]["hs_records"]} hub records')
                      for lk in links) + ')',
            all(after[lk]['holds'] > before[lk]['holds'] for lk in links))

    def post(r, rej, rel):
        # The same bound and the same stall rule as evaluate()'s own check
        # of every cell: the window is never stretched, the slack after it
        # is (a frame the host kept from the glass by stalling the run is
        # counted apart, as there).
        held = {lk: r['cells'].get((lambda h, i: (h.tag, i))(*cell_of(run, lk)), {})
                for lk in links}
        worst = max(c.get('age_max', 0.0) for c in held.values())
        s.figure = f'age max {worst:.2f}s'
        s.check(f'no frame in a held cell older than the window + slack, media delayed '
                f'{"/".join(str(d) for d, _ in RAMP)} s (bound {r["bound"]:.2f}s): ' +
                ', '.join(f'{lk} max {c.get("age_max", 0.0):.2f}s, {c.get("stale", 0)} over'
                          + (f' ({c["starved"]} more while the host stalled)'
                             if c.get('starved') else '')
                          for lk, c in held.items()),
                all(c.get('stale', 0) == 0 for c in held.values()))
    s.post.append(post)


CLOCK_STEPS = (('camera', '+7200'), ('camera', '-7200'), ('camera', '+30'), ('camera', '+0'),
               ('hub', '+7200'), ('hub', '-7200'), ('hub', '+30'), ('hub', '+0'))
CLOCK_STEP_S = 2.5


def sc_clock_step(s):
    # A camera (shed) and a hub (watch) of their own, each under libfaketime
    # with a timestamp file the runner rewrites: CLOCK_REALTIME stepped
    # mid-session (+2 h, -2 h, +30 s, back), first the camera's, then the
    # hub's; CLOCK_MONOTONIC stays real. The video must stay on screen.
    run = s.run
    if not os.path.exists(FAKETIME_LIB):
        s.skip(f'{FAKETIME_LIB} missing (Debian package libfaketime)')
        return
    files, envs = {}, {}
    for who in ('camera', 'hub'):
        files[who] = os.path.join(run.dir, f'faketime-{who}')
        with open(files[who], 'w') as f:
            f.write('+0\n')
        env = dict(run.env)
        env.update(LD_PRELOAD=FAKETIME_LIB, FAKETIME_TIMESTAMP_FILE=files[who],
                   FAKETIME_NO_CACHE='1', FAKETIME_DONT_FAKE_MONOTONIC='1')
        env['ASAN_OPTIONS'] = env.get('ASAN_OPTIONS', '') + ':verify_asan_link_order=0'
        envs[who] = env
    run.start_extra_camera('shed', '127.0.1.9', envs['camera'])
    hub = None
    try:
        hub = run.start_extra_hub('watch', {'shed': run.cam_addr['shed']}, env=envs['hub'])
        up = time_to_video(run, [(hub, 0)], hub.started, 20 * run.args.time_factor)[(hub.tag, 0)]
        if up is None:
            s.check('watch shows shed before the clocks are stepped', False)
            return
        marks = []
        for who, offset in CLOCK_STEPS:
            with open(files[who], 'w') as f:
                f.write(offset + '\n')
            marks.append((who, offset, time.monotonic()))
            run.sleep(CLOCK_STEP_S)
        t_end = time.monotonic()
    finally:
        if hub:
            run.stop_extra_hub(hub)
        run.stop_proc('shed')
        del run.cam_sock['shed']
    window = cell_window(hub, 0, marks[0][2], t_end)
    own, unav, gap = window
    per_step = [cell_window(hub, 0, t, (marks[k + 1][2] if k + 1 < len(marks) else t_end))
                for k, (_, _, t) in enumerate(marks)]
    dark = [f'{who} {off}' for (who, off, _), (o, _, _) in zip(marks, per_step) if not o]
    s.figure = f'unavail {unav}, gap {gap:.2f}s'
    ok, text = kept(run, hub, 0, marks[0][2], t_end, window)
    # A step with no new frame is a fault unless the daemons were starved
    # so far that kept() allows a gap longer than a step (its stretch f).
    if dark and UNAVAILABLE * run.stretch(marks[0][2], t_end) > CLOCK_STEP_S and ok:
        text += f'; none after {", ".join(dark)}, within the gap the CPU they got allows'
        dark = []
    s.check(f'video kept on screen through every step of either wall clock: {text}'
            f'{"; none after " + ", ".join(dark) if dark else ""}',
            ok and not dark)


PREAUTH = (('slow', 64), ('idle', 64), ('flood', 32), ('media', 64))


def sc_preauth(s):
    # Strangers from 127.0.3.1-16 (no hub's address) at garage's port: a
    # ClientHello a byte every 2 s, idle connections, a connect/reset and
    # ClientHello flood, TCP media attaches that never finish. Meanwhile
    # garage's two hubs (TCP and UDP media) reconnect and are timed to video.
    run = s.run
    cam = 'garage'
    links = ['bedroom.garage', 'office.garage']
    cells = [cell_of(run, lk) for lk in links]
    limit = VIDEO_LIMIT * run.args.time_factor
    figs = []
    for mode, n in PREAUTH:
        p = subprocess.Popen([sys.executable, STRANGER, '--target', run.cam_addr[cam],
                              '--sources', '127.0.3.1-16', '--mode', mode, '--conns', str(n),
                              '--interval', '2'], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             text=True)
        try:
            run.sleep(2.5)
            for lk in links:
                s.relay(f'kick {lk}')
            t = time.monotonic()
            got = time_to_video(run, cells, t, limit * WAIT_STRETCH + 3, after_blank=True)
        finally:
            p.stdin.close()
            out = p.stdout.readline()
            p.wait(timeout=30)
        st = json.loads(out or '{}')
        times = [got[(h.tag, i)] for h, i in cells]
        worst = None if None in times else max(times)
        ok, lim = in_time(run, worst, limit, t)
        figs.append(f'{mode} {fmt_s(worst)}')
        s.check(f'{mode}: {n} unauthenticated connections at {cam} from 127.0.3.1-16 '
                f'({st.get("opened", "?")} opened, {st.get("closed_by_camera", "?")} closed by '
                f'the camera, {st.get("bytes_sent", "?")} B): after a reconnect ' +
                ', '.join(f'{lk} shows video in {fmt_s(v)}' for lk, v in zip(links, times)) +
                f' (limit {lim})', ok)
        if worst is None:
            time_to_video(run, cells, time.monotonic(), 15)     # back before the next mode
    s.figure = 'video ' + ' '.join(figs)


ZOMBIE_RESTARTS = 5


def sc_zombie(s):
    # kitchen's link to porch swallows the hub's closes (the camera side of
    # its TCP connections stays open, its UDP byes are dropped) and replays
    # its last keepalive hello every 0.5 s. kitchen is restarted 5 times;
    # then a hub on a clean direct path (lobby) dials porch.
    run = s.run
    hub, lk, cam = run.hub('kitchen'), 'kitchen.porch', 'porch'
    limit = VIDEO_LIMIT * run.args.time_factor
    s.relay(f'fault {lk} zombie=1 zombie_ms=500')
    watch = SessionWatch(run, cam)
    deaths, restarts, lobby, t_lobby = [], [], None, None
    before = run.relay_cmd('stats')['links'][lk]
    try:
        for _ in range(ZOMBIE_RESTARTS):
            alive = [p for n, p in (sessions_of(run, cam) or []) if n == 'kitchen']
            deaths.append((run.restart_hub(hub), alive))
            restarts.append((hub.started, time_to_video(run, [(hub, 0)], hub.started,
                                                        limit * WAIT_STRETCH + 3)[(hub.tag, 0)]))
            run.sleep(0.5)
        lobby = run.start_extra_hub('lobby', {cam: run.cam_addr[cam]})
        since = hub_ready(run, lobby, 30)
        t_lobby = time_to_video(run, [(lobby, 0)], since,
                                limit * WAIT_STRETCH + 3)[(lobby.tag, 0)]
        run.sleep(max(0.0, deaths[-1][0] + SESSION_END + 1.5 - time.monotonic()))
    finally:
        if lobby:
            run.stop_extra_hub(lobby)
        watch.close()
    after = run.relay_cmd('stats')['links'][lk]
    died = {}           # each session once: from the stop of the hub it belonged to
    for t, peers in deaths:
        for p in peers:
            died.setdefault(p, t)
    lives = [watch.lifetime('kitchen', p, t) for p, t in died.items()]
    alive = sum(v is None for v in lives)
    longest = max((v for v in lives if v is not None), default=0.0)
    left = watch.last('kitchen')
    s.figure = f'sessions {left}, lobby {fmt_s(t_lobby)}'
    s.check(f'the relay kept the camera side of {after["zombies"] - before["zombies"]} '
            f'connection(s) open, replayed {after["hello_replays"] - before["hello_replays"]} '
            f'hellos, swallowed {after["byes_swallowed"] - before["byes_swallowed"]} UDP byes and '
            f'{after["swallowed_bytes"] - before["swallowed_bytes"]} bytes sent just before a close',
            after['zombies'] > before['zombies'] and
            after['hello_replays'] > before['hello_replays'])
    s.check(f'after {ZOMBIE_RESTARTS} restarts porch holds at most one session of kitchen '
            f'({left})', left is not None and left <= 1)
    s.check(f'every session of a stopped kitchen ended within {SESSION_END:.0f}s '
            f'({len(lives)} sessions: {alive} still alive at the end, the longest of the rest '
            f'{longest:.2f}s after its hub stopped)',
            alive == 0 and longest <= SESSION_END + 0.5)
    judged = [in_time(run, v, limit, t) for t, v in restarts]
    s.check('the restarted kitchen shows porch in time each time (' +
            ', '.join(f'{fmt_s(v)} of {lim}' for (_, v), (_, lim) in zip(restarts, judged)) + ')',
            all(ok for ok, _ in judged))
    ok, lim = in_time(run, t_lobby, limit, since)
    s.check(f'a hub on a clean direct path (lobby) shows porch within {lim} of being ready '
            f'({fmt_s(t_lobby)})', ok)


def sc_many_sessions(s):
    # Five hub processes with one hub key (annex) dial attic directly: a
    # paired hub opening many sessions. Then another paired hub (lobby).
    run = s.run
    cam = 'attic'
    addr = {cam: run.cam_addr[cam]}
    limit = VIDEO_LIMIT * run.args.time_factor
    watch = SessionWatch(run, cam)
    annex, lobby, t_lobby = [], None, None
    # Sanitizer builds: three processes (still many sessions of one key); six
    # ASan hubs starting at once overloaded a 2-core machine, and the other
    # hubs' frames aged for that reason alone
    n_annex = 5 if run.args.time_factor <= 1 else 3
    try:
        for _ in range(n_annex):
            annex.append(run.start_extra_hub('annex', addr, fifo=False))
        run.sleep(3)
        lobby = run.start_extra_hub('lobby', addr)
        since = hub_ready(run, lobby, 30)
        t_lobby = time_to_video(run, [(lobby, 0)], since,
                                limit * WAIT_STRETCH + 3)[(lobby.tag, 0)]
        run.sleep(2)
    finally:
        for h in annex + ([lobby] if lobby else []):
            run.stop_extra_hub(h)
        watch.close()
    most = watch.most('annex')
    s.figure = f'annex sessions {most}, lobby {fmt_s(t_lobby)}'
    s.check(f'{n_annex} processes with one key: attic never holds more than one session of it '
            f'(at most {most} at once)', most <= 1)
    ok, lim = in_time(run, t_lobby, limit, since)
    s.check(f'another paired hub (lobby) shows attic within {lim} of being ready '
            f'({fmt_s(t_lobby)})', ok)


INJECT = ['kitchen.porch', 'hall.nursery', 'office.garage']


def first_unavailable(hub, cell, since):
    """Run time of the first unavailable frame in @cell after @since, or None."""
    with hub.lock:
        for j in range(bisect.bisect_left(hub.t, since), len(hub.t)):
            if hub.cls[j][cell] == UNAV:
                return hub.t[j]
    return None


def decoder_pids(hub):
    st = status(hub.sock) or {}
    return [c.get('decoder_pid') for c in st.get('cameras', [])]


def sc_decoder_kill(s):
    # Issue 13: office plays four cameras, each decoded by a child process of
    # its own; one child is SIGKILLed (as a decoder exploit that crashed would
    # be), then another cell's. Only that cell leaves its camera, for its
    # unavailable screen within 1 s; the other three keep playing; nothing
    # foreign or stale anywhere (the evaluation); a new child shows the camera
    # again from its next IDR.
    run = s.run
    hub = run.hub('office')
    limit = VIDEO_LIMIT * run.args.time_factor
    for cell in (2, 0):
        cam = hub.cams[cell]
        pids = decoder_pids(hub)
        victim = pids[cell] if len(pids) == len(hub.cams) else None
        if not victim:
            s.check(f'office decodes {cam} in a child of its own (decoder_pid {pids})', False)
            return
        snap0 = run.snapshot()
        t = time.monotonic()
        os.kill(victim, signal.SIGKILL)
        back = time_to_video(run, [(hub, cell)], t, limit * WAIT_STRETCH + 3,
                             after_blank=True)[(hub.tag, cell)]
        run.sleep(3)
        t1 = time.monotonic()
        snap1 = run.snapshot()
        after = decoder_pids(hub)
        blank = first_unavailable(hub, cell, t)
        ok, lim = in_time(run, None if blank is None else blank - t, UNAVAILABLE, t)
        s.check(f'office/{cam}: decoder child {victim} killed -> its cell unavailable within '
                f'{lim} ({fmt_s(None if blank is None else blank - t)})', ok)
        ok, lim = in_time(run, back, limit, t)
        s.check(f'office/{cam}: shown again within {lim} ({fmt_s(back)}) by a new child '
                f'({victim} -> {after[cell] if len(after) > cell else None})',
                ok and len(after) > cell and after[cell] not in (None, victim))
        for i, other in enumerate(hub.cams):
            if i == cell:
                continue
            # a starved hub takes a picture off for its age bound (its
            # challenge's round trip stretched): counted as went_stale, and
            # no fault of the decoder split (seen at 1/6 of the CPU beside
            # a second CI run: 2 unavailable frames of garage)
            good, text = kept(run, hub, i, t, t1, cell_window(hub, i, t, t1),
                              hub_cam_delta(snap0, snap1, hub, other, 'went_stale'))
            s.check(f'office/{other} kept playing while {cam}\'s child died ({text}; its '
                    f'child {pids[i]} -> {after[i] if len(after) > i else None})', good)
    s.figure = 'killed 2 of 4'


def sc_inject(s):
    # An on-path observer: the relay copies what passes and sends from a
    # third address (127.0.4.x, one per link) the hub's hellos to the camera,
    # and forged stream ends, far-ahead fragments and keyframe units to the
    # hub's UDP address, ten per second per link.
    run = s.run
    snap0 = run.snapshot()
    for lk in INJECT:
        s.relay(f'fault {lk} inject_ms=100')
    t = time.monotonic()
    run.sleep(10)
    t_end = time.monotonic()
    for lk in INJECT:
        s.relay(f'fault {lk} inject_ms=0')
    snap1 = run.snapshot()
    rel, rej = relay_delta(snap0, snap1), reject_delta(snap0, snap1)
    worst_unav, worst_gap = 0, 0.0
    for lk in INJECT:
        d = rel[lk]
        forged = d['inj_end'] + d['inj_ahead'] + d['inj_key']
        counted = sum(v for k, v in rej.get(lk, {}).items() if not k.startswith('_'))
        s.check(f'{lk}: the third address received no media ({d["third_media"]} media '
                f'packets, {d["third_other"]} others) after {d["inj_hello"]} copied hellos',
                d['third_media'] == 0)
        hub, i = cell_of(run, lk)
        window = cell_window(hub, i, t + 0.5, t_end)
        worst_unav, worst_gap = max(worst_unav, window[1]), max(worst_gap, window[2])
        ok, text = kept(run, hub, i, t + 0.5, t_end, window,
                        hub_cam_delta(snap0, snap1, hub, hub.cams[i], 'went_stale'))
        s.check(f'{lk}: video kept through the injection ({text})', ok)
        s.check(f'{lk}: the hub counted the forgeries ({forged} sent: {d["inj_end"]} ends, '
                f'{d["inj_ahead"]} far ahead, {d["inj_key"]} keyframe units; counted '
                f'{fmt_rejects({k: v for k, v in rej.get(lk, {}).items() if not k.startswith("_")})})',
                forged == 0 or counted >= 1)
    for cam in sorted({lk.split('.')[1] for lk in INJECT}):
        sent = sum(rel[lk]['inj_hello'] for lk in INJECT if lk.endswith('.' + cam))
        got = (counters(snap1['cams'][cam] or {}, 'hello_') -
               counters(snap0['cams'][cam] or {}, 'hello_'))
        s.check(f'{cam} counted the copied hellos in its status ({sent} sent, hello_* counters '
                f'+{got})', sent == 0 or got >= 1)
    s.figure = f'unavail {worst_unav}, third {sum(rel[lk]["third_media"] for lk in INJECT)}'


SLOW_READ_BPS = 0      # bytes/s the relay reads of the stalled media (0: none)


def sc_slow_reader(s):
    # bedroom's TCP media from nursery is not read any more: the camera's
    # socket for it fills, its queue overflows, the session needs a keyframe
    # again and again, and bedroom restarts the session when nothing arrives
    # for 5 s (a slow and reconnect-looping hub). The other hubs of nursery
    # (hall, office) must not be flooded with forced IDRs.
    run = s.run
    stalled, others, cam = 'bedroom.nursery', ['hall.nursery', 'office.nursery'], 'nursery'
    s.relay(f'fault {stalled} stall=1 stall_bps={SLOW_READ_BPS}')
    s.relay(f'kick {stalled}')
    run.sleep(5)        # the camera's socket buffer for it fills
    a, ta = run.snapshot(), time.monotonic()
    run.sleep(12)
    b, tb = run.snapshot(), time.monotonic()
    span = tb - ta
    rel = relay_delta(a, b)
    kf = {lk: rel[lk]['units_key'] for lk in others}
    hub_kf = {}
    for lk in others:
        h = lk.split('.')[0]
        ca, cb = (next((c for c in (snap['hubs'].get(h) or {}).get('cameras', [])
                        if c['name'] == cam), {}) for snap in (a, b))
        if 'keyframes' in cb and 'keyframes' in ca:
            hub_kf[lk] = cb['keyframes'] - ca['keyframes']
    forced = None
    if 'forced_idrs' in (b['cams'][cam] or {}) and 'forced_idrs' in (a['cams'][cam] or {}):
        forced = b['cams'][cam]['forced_idrs'] - a['cams'][cam]['forced_idrs']
    s.check(f'the relay read {stalled}\'s TCP media at {SLOW_READ_BPS} B/s '
            f'({rel[stalled]["stalled"] + a["relay"]["links"][stalled]["stalled"]} connection(s))',
            rel[stalled]['stalled'] + a['relay']['links'][stalled]['stalled'] >= 1)
    rate = max(kf.values()) / span
    s.figure = (f'forced IDR/s {forced / span:.2f}' if forced is not None else
                f'keyframes/s {rate:.2f}')
    s.check(f'keyframes the other hubs of {cam} received in {span:.1f}s: ' +
            ', '.join(f'{lk} {n} (relay)' + (f', {hub_kf[lk]} (hub status)' if lk in hub_kf
                                             else '') for lk, n in kf.items()) +
            f': {rate:.2f}/s, at most 1/s of the encoder\'s own (--idr-interval 1s) '
            f'+ 1/s forced', max(kf.values()) <= 2 * span + 2)
    s.check(f'{cam}\'s forced IDRs in {span:.1f}s: ' +
            (f'{forced} ({forced / span:.2f}/s, at most 1/s)' if forced is not None else
             'the camera\'s status has no forced_idrs'),
            forced is not None and forced <= span + 1)


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
    ('control-hold', 'control held 4 s after the handshake (either way), media delay 0..4 s',
     sc_control_hold),
    ('clock-step', "a camera's, then a hub's wall clock stepped +2 h, -2 h, +30 s (faketime)",
     sc_clock_step),
    ('preauth', 'slow/idle/flood/media strangers at garage; its hubs reconnect, timed',
     sc_preauth),
    ('zombie', 'kitchen restarted 5 times; the relay swallows closes, replays keepalives',
     sc_zombie),
    ('many-sessions', 'five hub processes (three under sanitizers) with one key at attic; another hub timed',
     sc_many_sessions),
    ('inject', 'an observer at 127.0.4.x: hellos, stream ends, far-ahead and keyframe units',
     sc_inject),
    ('slow-reader', "bedroom stops reading nursery's TCP media; nursery's IDR rate",
     sc_slow_reader),
    ('decoder-kill', "office's decoder child of garage, then of porch, SIGKILLed (4 cameras)",
     sc_decoder_kill),
]


