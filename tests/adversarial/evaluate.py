# SPDX-License-Identifier: GPL-2.0
"""The adversarial suite's evaluation (run.py): a scenario's recording
(every classified cell of every hub's frames, the status snapshots, the
relay's counters) against its assertions; the summaries.
"""
import bisect
import statistics
import threading
import time

from world import (
    CAMERAS, CLOCK_WRAP, FORGED, FRESHNESS, GRACE, HUBS_CAMS, OWN, Run, SLACK, UNAV,
    UNAVAILABLE, link_id, run_recovery, status)

# --------------------------------------------------------------------------
# Evaluation
# --------------------------------------------------------------------------

def hub_cam_delta(snap0, snap1, hub, cam, key):
    """How much @hub's status counter @key of camera @cam rose between two
    snapshots (None where either lacks it)."""
    ca, cb = (next((c for c in (snap['hubs'].get(hub.name) or {}).get('cameras', [])
                    if c['name'] == cam), {}) for snap in (snap0, snap1))
    return cb[key] - ca[key] if key in ca and key in cb else None


def kept(run, hub, cell, a, b, window, went_stale=None):
    """Video kept on @cell in [a, b]: no gap longer than the unavailable
    timeout and no unavailable screen. Where the host gave the daemons less
    CPU than they need (Run.stretch f), a gap may stretch to the timeout
    x f, and an unavailable screen is no fault only when it is explained:
    after a gap longer than the timeout, or while the cell's pictures were
    within 0.5 s of the freshness window (the hub behind by that much must
    turn them stale), or, with f > 2, once they were a timeout old, or
    when the hub said it took a picture off for its age (@went_stale: its
    status counter's rise over [a, b], None if not known). The hub bounds
    a frame's age by its own challenge's round trip, which a starved
    camera or relay stretches beyond the real age the pattern shows.
    @window is cell_window(hub, cell, a, b). Returns (ok, the figures for
    the check's text)."""
    own, unav, gap = window
    f = run.stretch(a, b)
    text = f'{own} frames, {unav} unavailable, longest without a new frame {gap:.2f}s'
    if unav == 0 and gap <= UNAVAILABLE:
        return True, text
    age = cell_age_max(hub, cell, a, b)
    text += (f', oldest picture {age:.2f}s; the daemons got 1/{f:.1f} of the CPU they '
             f'needed: gaps to {UNAVAILABLE * f:.2f}s')
    if went_stale is not None:
        text += f'; the hub took {went_stale} picture(s) off for their age bound'
    if f <= 1.05 or gap > UNAVAILABLE * f:
        return False, text
    if went_stale:
        return True, text
    # Starved to less than half the CPU it needed, a hub whose newest
    # picture is a second old has had nothing newer verified for about that
    # long: its unavailable screen is P5 working, not a fault. (Seen under
    # ASan beside a second CI run, 1/5.2 of the CPU: 5 and 29 unavailable
    # frames with the oldest picture at 1.05 s and 1.27 s, one of the two
    # cells sent no forgery at all.)
    starved_behind = f > 2 and age >= UNAVAILABLE
    return (unav == 0 or gap > UNAVAILABLE or age >= FRESHNESS - 0.5 or starved_behind), text


def in_time(run, took, limit, since):
    """Whether @took seconds from @since are within @limit stretched by the
    CPU the daemons got meanwhile (Run.stretch), and the limit as text."""
    if took is None:
        return False, f'{limit:.0f}s'
    f = run.stretch(since, since + took)
    text = f'{limit:.0f}s' + (f' x {f:.1f} for the CPU the daemons got' if f > 1.05 else '')
    return took <= limit * f, text


def cell_of(run, lk):
    h, c = lk.split('.')
    hub = run.hub(h)
    return hub, hub.cams.index(c)


def first_own(hub, cell, since, after_blank=False):
    """Run time of the first own frame in @cell after @since (after a frame
    that is not own, with @after_blank: the old session's picture does not
    count), or None."""
    blank = not after_blank
    with hub.lock:
        for j in range(bisect.bisect_left(hub.t, since), len(hub.t)):
            if hub.cls[j][cell] != OWN:
                blank = True
            elif blank:
                return hub.t[j]
    return None


def hub_ready(run, hub, limit):
    """Monotonic time at which @hub's status says ready (its display is up and
    it starts dialling), or now if not within @limit: what a scenario times a
    new hub's first video from, so a sanitizer build's slow start-up on a
    loaded machine is not counted against the camera."""
    end = time.monotonic() + limit
    while time.monotonic() < end:
        st = status(hub.sock, timeout=0.5)
        if st and st.get('ready'):
            return time.monotonic()
        run.sleep(0.05)
    return time.monotonic()


def time_to_video(run, cells, since, limit, after_blank=False):
    """Seconds from @since until each (hub, cell) shows its camera; None if
    not within @limit."""
    out = {}
    while True:
        for hub, i in cells:
            if out.get((hub.tag, i)) is None:
                t = first_own(hub, i, since, after_blank)
                out[(hub.tag, i)] = None if t is None else t - since
        if all(v is not None for v in out.values()) or time.monotonic() > since + limit:
            return out
        run.sleep(0.05)


def cell_window(hub, cell, a, b):
    """Own and unavailable frames of @cell in [a, b], and the longest time
    between two own frames (or from @a to the first, or the last to @b)."""
    own = unav = 0
    last, gap = a, 0.0
    with hub.lock:
        for j in range(bisect.bisect_left(hub.t, a), bisect.bisect_right(hub.t, b)):
            c = hub.cls[j][cell]
            if c == OWN:
                own += 1
                gap = max(gap, hub.t[j] - last)
                last = hub.t[j]
            elif c == UNAV:
                unav += 1
    return own, unav, max(gap, b - last)


def cell_age_max(hub, cell, a, b):
    """The largest age read off @cell's own frames in [a, b] (0 if none)."""
    worst = 0.0
    with hub.lock:
        for j in range(bisect.bisect_left(hub.t, a), bisect.bisect_right(hub.t, b)):
            n = hub.num[j][cell]
            cap = Run.capture_time(n, hub.t[j]) if n is not None else None
            if cap is not None:
                worst = max(worst, hub.t[j] - cap)
    return worst


def fmt_s(v):
    return 'never' if v is None else f'{v:.2f}s'


def sessions_of(run, cam):
    """(hub name, peer) of each session camera @cam lists; None: no answer."""
    st = status(run.cam_sock[cam])
    if not st:
        return None
    return [(h.get('name'), h.get('peer')) for h in st.get('hubs', [])]


class SessionWatch:
    """Camera @cam's list of sessions, polled every 0.25 s in a thread."""

    def __init__(self, run, cam):
        self.run, self.cam = run, cam
        self.seen = []          # (t, [(name, peer)])
        self.done = threading.Event()
        self.th = threading.Thread(target=self.loop, daemon=True)
        self.th.start()

    def loop(self):
        while not self.done.is_set() and not self.run.stop.is_set():
            ss = sessions_of(self.run, self.cam)
            if ss is not None:
                self.seen.append((time.monotonic(), ss))
            time.sleep(0.25)

    def close(self):
        self.done.set()
        self.th.join(5)

    def most(self, name, since=0.0):
        """Most sessions of hub @name listed at once since @since."""
        return max((sum(n == name for n, _ in ss) for t, ss in self.seen if t >= since),
                   default=0)

    def last(self, name):
        return sum(n == name for n, _ in self.seen[-1][1]) if self.seen else None

    def lifetime(self, name, peer, since):
        """How long after @since session (@name, @peer) was last listed;
        None if it still is at the last poll."""
        if self.seen and (name, peer) in self.seen[-1][1]:
            return None
        seen = [t for t, ss in self.seen if (name, peer) in ss]
        return max(seen) - since if seen else 0.0


def counters(obj, prefix):
    """The sum of a status JSON's counters whose name starts with @prefix
    (an integer, or an object with a total), wherever they are."""
    n = 0
    items = obj.items() if isinstance(obj, dict) else enumerate(obj) if isinstance(obj, list) else ()
    for k, v in items:
        if isinstance(k, str) and k.startswith(prefix):
            if isinstance(v, int) and not isinstance(v, bool):
                n += v
                continue
            if isinstance(v, dict) and isinstance(v.get('total'), int):
                n += v['total']
                continue
        n += counters(v, prefix)
    return n


def reject_delta(a, b):
    """Per hub cell: rejected-by-reason counts between two status snapshots,
    transport discards under 'discarded:REASON'."""
    out = {}
    for hub, sb in b['hubs'].items():
        sa = a['hubs'].get(hub)
        if not sb or not sa:
            continue
        restarted = sb.get('pid') != sa.get('pid')      # its counters started again
        for i, cb in enumerate(sb['cameras']):
            ca = {} if restarted else sa['cameras'][i]
            d = {}
            for key, prefix in (('rejected', ''), ('discarded', 'discarded:')):
                for k, v in cb.get(key, {}).items():
                    if k != 'total' and v - ca.get(key, {}).get(k, 0):
                        d[prefix + k] = v - ca.get(key, {}).get(k, 0)
            d['_shown'] = cb['shown'] - ca.get('shown', 0)
            d['_received'] = cb['received'] - ca.get('received', 0)
            out[link_id(hub, cb['name'])] = d
    return out


def relay_delta(a, b):
    out = {}
    for lk, lb in b['relay']['links'].items():
        la = a['relay']['links'][lk]
        out[lk] = {k: v - la[k] for k, v in lb.items() if isinstance(v, int)}
    return out


def confirmed(numbers, j, i):
    """A capture time read in cell i of commit j that the cell's nearest
    other readings agree with (within 2 s): an isolated misread is not used
    to date a frame."""
    n = numbers[j][i]
    for k in (j - 1, j + 1, j - 2, j + 2):
        if 0 <= k < len(numbers):
            m = numbers[k][i]
            if m is not None and min((m - n) % CLOCK_WRAP, (n - m) % CLOCK_WRAP) <= 200:
                return True
    return False


def evaluate(run, sc, t0, t1, snap0, snap1):
    rej = reject_delta(snap0, snap1)
    rel = relay_delta(snap0, snap1)
    frames = own = unav = foreign = leaks = unread = starved = 0
    stale = 0
    age_max = 0.0
    hold_max = 0.0
    foreign_examples = []
    stale_examples = []
    views = []
    cells = {}      # (hub tag, cell) -> what was seen in it
    # The age bound is the freshness window: measured from the burned-in
    # capture time on the runner's clock, it does not depend on anything the hub
    # reports (an rtt in the hub's log is what a relay that holds the control
    # channel moves). The window is the hub's to keep and is never
    # stretched; the slack after it (compose, the FIFO, this reader) runs on
    # the same CPUs as everything else and is stretched as Run.stretch.
    stretch = run.stretch(t0, t1)
    slack = SLACK * stretch
    bound = FRESHNESS + slack
    with run.lock:      # copies, so that the frame reader never waits long
        for hub in run.all_hubs():
            a, b = bisect.bisect_left(hub.t, t0), bisect.bisect_left(hub.t, t1)
            views.append((hub, hub.t[a:b + 1], hub.cls[a:b], hub.num[a:b]))
    for hub, times, classes, numbers in views:
        frames += len(classes)
        for j, cls in enumerate(classes):
            t = times[j]
            for i, c in enumerate(cls):
                cs = cells.setdefault((hub.tag, i), {'own': 0, 'unav': 0, 'foreign': 0,
                                                     'age_max': 0.0, 'last_own': None,
                                                     'gap_max': 0.0, 'stale': 0,
                                                     'starved': 0})
                cs[('own', 'unav', 'foreign')[c]] += 1
                if c == OWN:
                    if cs['last_own'] is not None:
                        cs['gap_max'] = max(cs['gap_max'], t - cs['last_own'])
                    cs['last_own'] = t
                    own += 1
                    for h, ci, f, to in sc.no_own:
                        # a frame committed late only because the host
                        # stalled the run is not a leak (never stretched:
                        # this is what a replayed or misrouted picture
                        # would show up as)
                        if (h == hub.name and ci == i and f <= t < to and
                                t - run.stalled(f - GRACE, t) >= f):
                            leaks += 1
                            break
                    n = numbers[j][i]
                    if n is None or not confirmed(numbers, j, i):
                        unread += 1
                        continue
                    cap = run.capture_time(n, t)
                    if cap is None:
                        # a confirmed reading from "the future" is a picture
                        # at least 500 s old (the reading wraps at 1000 s)
                        stale += 1
                        if len(stale_examples) < 4:
                            stale_examples.append(f'{hub.name}/{hub.cams[i]} reading {n} at '
                                                  f'{t - run.t_start:.2f}s: undatable')
                        continue
                    age = t - cap
                    # how long it stayed: until the hub's next commit
                    nxt = times[j + 1] if j + 1 < len(times) else t
                    age_max = max(age_max, age)
                    cs['age_max'] = max(cs['age_max'], age)
                    hold_max = max(hold_max, nxt - cap)
                    if age > bound and age - run.stalled(cap, t) <= bound:
                        starved += 1
                        cs['starved'] += 1
                    elif age > bound:
                        stale += 1
                        cs['stale'] += 1
                        if len(stale_examples) < 4:
                            stale_examples.append(
                                f'{hub.name}/{hub.cams[i]} #{n} at {t - run.t_start:.2f}s '
                                f'age {age:.2f}s')
                elif c == UNAV:
                    unav += 1
                else:
                    foreign += 1
                    if len(foreign_examples) < 5:
                        foreign_examples.append(f'{hub.tag} cell {i} at {t - run.t_start:.2f}s')
    sc.check('no foreign frame' + (f' ({", ".join(foreign_examples)})' if foreign else ''),
             foreign == 0)
    late = sorted(set(snap0['unresponsive'] + snap1['unresponsive']))
    sc.check(f'every daemon answered its status socket within 6 s ({", ".join(late) or "all did"})',
             not late)
    sc.check(f'no own frame where none may be shown: genuine units withheld, or delayed '
             f'beyond the window ({leaks} seen)', leaks == 0)
    sc.check(f'no frame shown older than the freshness window + {slack:.2f}s ({stale} seen, '
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
    # Transport version 2 authenticates every packet: whatever the relay cuts
    # itself (spliced, substituted, replayed, corrupted) is discarded as
    # forged before the core sees it. Each count check takes either outcome.
    name = sc.kind
    if name == 'baseline':
        core = {k: v for k, v in total.items() if not k.startswith('discarded:')}
        # units that came too late because the host kept the daemons off the
        # CPU are refused as stale (and what follows until the next IDR):
        # failing closed, no fault; any other reject on a clean relay is one
        late = {'stale', 'await-idr'} if stretch > 1.5 and core.get('stale') else set()
        why = (f'; stale allowed: the daemons got 1/{stretch:.1f} of the CPU they needed'
               if late else '')
        sc.check(f'no reject on a clean relay ({core}{why})', not set(core) - late)
    if name == 'splice-au':
        for lk, d in rel.items():
            if d['spliced_au'] >= 3:
                got = rej.get(lk, {}).get('other-session', 0)
                forged = rej.get(lk, {}).get(FORGED, 0)
                sc.check(f'{lk}: {d["spliced_au"]} units spliced -> {got} other-session '
                         f'(1..{d["spliced_au"]}), or {forged} packets forged and none opened',
                         1 <= got <= d['spliced_au'] or (forged >= 1 and got == 0))
    if name == 'splice-collide':
        sc.check(f'collisions spliced ({rsum.get("spliced_au", 0)}) -> other-session '
                 f'({total.get("other-session", 0)}) or forged ({total.get(FORGED, 0)})',
                 rsum.get('spliced_au', 0) == 0 or total.get('other-session', 0) >= 1 or
                 total.get(FORGED, 0) >= 1)
    if name == 'splice-pkt':
        for lk, d in rel.items():
            if d['spliced_pkt_units'] >= 3:
                got = rej.get(lk, {}).get('decrypt', 0)
                forged = rej.get(lk, {}).get(FORGED, 0)
                sc.check(f'{lk}: {d["spliced_pkt_units"]} units with spliced fragments -> '
                         f'{got} decrypt (1..{d["spliced_pkt_units"]}), or {d["spliced_pkt"]} '
                         f'spliced packets -> {forged} forged (1..{d["spliced_pkt"]})',
                         1 <= got <= d['spliced_pkt_units'] or
                         (got == 0 and 1 <= forged <= d['spliced_pkt']))
    if name == 'network':
        got = total.get('discarded:duplicate', 0)
        sc.check(f'packets the relay duplicated ({rsum.get("duplicated", 0)}) -> duplicates '
                 f'the hubs discarded and show in their status ({got})',
                 1 <= got <= rsum.get('duplicated', 0))
    if name == 'corrupt':
        cut = rsum.get('corrupted', 0) + rsum.get('truncated', 0)
        sc.check(f'AEAD rejects ({total.get("decrypt", 0)}) or forged packets '
                 f'({total.get(FORGED, 0)}) <= packets corrupted or truncated ({cut}), '
                 f'and >= 1',
                 1 <= total.get('decrypt', 0) <= rsum.get('corrupted', 0) or
                 1 <= total.get(FORGED, 0) <= cut)
    if name == 'substitute':
        for lk, d in rel.items():
            if d['substituted'] >= 3:
                got = rej.get(lk, {}).get('other-session', 0)
                forged = rej.get(lk, {}).get(FORGED, 0)
                sc.check(f'{lk}: {d["substituted"]} substituted units -> {got} other-session, '
                         f'or {forged} packets forged and none opened',
                         1 <= got <= d['substituted'] or (forged >= 1 and got == 0))
    if name == 'replay':
        for reason in ('replay', 'other-session'):
            sc.check(f'replayed units ({rsum.get("replayed", 0)}) -> {reason} rejects '
                     f'({total.get(reason, 0)}), or forged packets ({total.get(FORGED, 0)})',
                     total.get(reason, 0) >= 1 or total.get(FORGED, 0) >= 1)
        # a unit re-labelled with the current session id fails the AEAD, or,
        # when its own sealed unit number is already behind the current
        # session's window (short phases), the replay check before it
        phase = {}
        for d in reject_delta(sc.marks['resession'], sc.marks['resession-end']).values():
            for k in ('decrypt', 'replay', FORGED):
                phase[k] = phase.get(k, 0) + d.get(k, 0)
        sc.check(f'resession replay -> decrypt or replay rejects, or forged packets ({phase})',
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
            ok, lim = in_time(run, worst, run.recovery_cleared, at)
            sc.check(f'after the relay is clean again every cell shows its camera within '
                     f'{lim} (worst {worst if worst is None else round(worst, 2)}s'
                     f'{"; still not: " + ", ".join(stuck) if stuck else ""})', ok)
        elif name == 'outage' or label.startswith('swap'):
            worst = max(first.values()) if len(first) == len(run.cells()) else None
            ok, lim = in_time(run, worst, run.recovery_limit, at)
            sc.check(f'after {label}: every cell shows its camera within {lim} '
                     f'(worst {worst if worst is None else round(worst, 2)}s)', ok)
    r = {'frames': frames, 'own': own, 'unav': unav, 'foreign': foreign, 'leaks': leaks,
         'stale': stale, 'starved': starved, 'age_max': age_max, 'hold_max': hold_max,
         'unread': unread, 'rejects': total, 'relay': rsum, 'cells': cells, 'figure': sc.figure,
         'stretch': stretch, 'bound': bound}
    for fn in sc.post:
        fn(r, rej, rel)
    r['figure'] = sc.figure
    return r


def fmt_rejects(r):
    return ' '.join(f'{k}:{v}' for k, v in sorted(r.items(), key=lambda kv: -kv[1])) or '-'


def print_summary(run, rows):
    print('#')
    print('# ' + '=' * 150)
    hdr = (f'{"scenario":<16}{"frames":>8}{"own":>8}{"unavail":>8}{"FOREIGN":>8}{"leak":>5}'
           f'{"stale":>6}{"age max":>8}  {"recovery s (p50/max)":<21} {"figure":<30} '
           f'rejects by reason')
    print('# ' + hdr)
    print('# ' + '-' * 150)
    tot = [0, 0, 0, 0, 0, 0]
    for name, r, rec in rows:
        tot = [a + b for a, b in zip(tot, (r['frames'], r['own'], r['unav'], r['foreign'],
                                            r['leaks'], r['stale']))]
        times = [v for first in rec.values() for v in first.values()]
        rs = f'{statistics.median(times):.2f}/{max(times):.2f}' if times else '-'
        print(f'# {name:<16}{r["frames"]:>8}{r["own"]:>8}{r["unav"]:>8}{r["foreign"]:>8}'
              f'{r["leaks"]:>5}{r["stale"]:>6}{r["age_max"]:>7.2f}s  {rs:<21} '
              f'{r["figure"] or "-":<30} {fmt_rejects(r["rejects"])}')
    print('# ' + '-' * 150)
    print(f'# {"total":<16}{tot[0]:>8}{tot[1]:>8}{tot[2]:>8}{tot[3]:>8}{tot[4]:>5}{tot[5]:>6}')
    print('# ' + '=' * 150)


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
        # a restarted process (None marks a stop) is judged from its last start on,
        # after a warm-up of its own
        series = samples[len(samples) - samples[::-1].index(None):] if None in samples else samples
        since = run.t_start + warmup
        if series is not samples:
            since = max(since, run.rss_since.get(name, 0) + run.args.warmup)
        pts = [(t, kb) for t, kb in series if t >= since]
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


