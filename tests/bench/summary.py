#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""make bench: run every benchmark of a build, show each one's own tables,
collect the "BENCH key value unit" lines they print, and end with one
summary table of the figures issues 8 and 19 ask for (goal and pass/miss
where the issue gives a goal; informational: a figure never fails the run)
plus JSON for tracking.

  summary.py --build BUILD_DIR [--out FILE] [--sizes "640x480 1280x720 1920x1080"]

BENCH_SECONDS (default 60): per size, bench_chain's time with a hub, and
again the plain pipeline's (3 cycles: veracamd without a hub for
BENCH_SECONDS/12, with a hub for /3, then the plain pair for /3); at
1280x720 also one 4-camera hub phase of BENCH_SECONDS/3.
Exit status: 1 if a benchmark program failed, else 0.
"""
import argparse
import datetime
import json
import os
import re
import subprocess
import sys
import time

# Known programs and their arguments; bench_chain runs once per size.
# Anything else named bench_* or *_bench in the build runs without arguments.
ORDER = ["bench_core", "bench_net", "encode_bench", "bench_hub", "bench_chain"]
ARGS = {"encode_bench": ["--seconds", "3"]}
# Run by bench_chain, never on their own.
HELPERS = {"bench_plain"}
# The size at which bench_chain also runs 4 cameras into one hub.
GRID_SIZE = "1280x720"
BENCH_LINE = re.compile(r"^BENCH (\S+) (\S+) (\S+)$")

GOALS = {
    "ratio": (1.03, "<="),
    "streams": (200, ">="),
    "p50": (40.0, "<="),
    "p99": (70.0, "<="),
    # issue 19: against the plain GStreamer pipeline in the same run
    "vs_plain_hub": (0.7, "<="),
    "vs_plain_glass": (1.0, "<="),
    "grid4": (3.0, "<="),
    # issue 17: the motion detector on the camera
    "motion": (1.05, "<="),
}


def find_benches(build):
    found = {}
    for root, dirs, files in os.walk(build):
        dirs[:] = [d for d in dirs if not d.endswith(".p") and d != "meson-private"]
        for f in files:
            p = os.path.join(root, f)
            if (f.startswith("bench_") or f.endswith("_bench")) and os.access(p, os.X_OK) \
                    and "." not in f and f not in HELPERS:
                found.setdefault(f, p)
    return sorted(found.items(), key=lambda kv: (ORDER.index(kv[0]) if kv[0] in ORDER
                                                 else len(ORDER), kv[0]))


def run(cmd, figures, log):
    """Run one benchmark, echo its output without BENCH lines, keep those."""
    print("== " + " ".join(cmd), flush=True)
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for line in p.stdout:
        m = BENCH_LINE.match(line.strip())
        if m:
            try:
                figures[m.group(1)] = {"value": float(m.group(2)), "unit": m.group(3)}
            except ValueError:
                pass
            continue
        sys.stdout.write(line)
        sys.stdout.flush()
    rc = p.wait()
    log.append({"command": " ".join(os.path.basename(c) if i == 0 else c
                                    for i, c in enumerate(cmd)),
                "exit": rc, "seconds": round(time.monotonic() - t0, 1)})
    if rc:
        print("!! %s exited %d" % (cmd[0], rc), flush=True)
    return rc == 0


def machine():
    model = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/sys/kernel/osrelease") as f:
        kernel = f.read().strip()
    with open("/proc/meminfo") as f:
        mem_kb = int(f.readline().split()[1])
    return {"cpu": model, "cores": os.cpu_count(), "kernel": kernel,
            "memory_gib": round(mem_kb / 1048576, 1)}


def loadavg():
    with open("/proc/loadavg") as f:
        return [float(x) for x in f.read().split()[:3]]


def git_commit(repo):
    try:
        head = subprocess.run(["git", "-C", repo, "rev-parse", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", repo, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, check=True).stdout.strip()
        return head + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def derive(fig, sizes):
    """Figures computed from several benchmarks' lines (methods in METHODS)."""
    out = {}

    def get(k):
        return fig.get(k, {}).get("value")

    # open+verify cost of a unit of n bytes: line through bench_core's
    # aes-128-gcm I and P rows (fixed cost: the signature; the rest per byte)
    def cost(step, n):
        bi, ci = get("core.i_aes.bytes"), get("core.i_aes.%s_us" % step)
        bp, cp = get("core.p_aes.bytes"), get("core.p_aes.%s_us" % step)
        if None in (bi, ci, bp, cp, n) or bi == bp:
            return None
        return cp + (ci - cp) * (n - bp) / (bi - bp)

    for s in sizes:
        c = "chain.%s." % s
        # every unit received is opened and verified (shown or dropped late)
        hub_ms, unit = get(c + "hub_cpu_ms_received"), get(c + "unit_bytes")
        v_us = cost("open_verify", unit)
        if v_us is not None and hub_ms is not None:
            out[c + "hub_open_verify_us"] = {"value": v_us, "unit": "us/AU"}
            if hub_ms * 1000 > v_us:
                out[c + "hub_ratio"] = {"value": hub_ms / (hub_ms - v_us / 1000), "unit": "x"}
        # the camera's figure without the network send: no-hub CPU + sign+seal
        cam_ms, s_us = get(c + "camera_cpu_ms_base"), cost("sign_seal", unit)
        if s_us is not None and cam_ms:
            out[c + "camera_sign_seal_us"] = {"value": s_us, "unit": "us/AU"}
            out[c + "camera_ratio_sign_seal"] = {"value": (cam_ms + s_us / 1000) / cam_ms,
                                                 "unit": "x"}
        # the hub's work with a screen instead of the y4m output (a real
        # hub scans out): bench_hub's median y4m steps per frame, one
        # camera at this size (the picture copied into the I420 buffer,
        # the write) taken off the chain's CPU/frame, and the XRGB8888
        # conversion a KMS buffer gets put in; the plain receiver's own y4m
        # step (back to I420, write) is measured in the chain
        shown_ms, y4m = get(c + "hub_cpu_ms"), get("hub.%s.y4m_ms" % s)
        ren, xrgb = get("hub.%s.render_ms" % s), get("hub.%s.xrgb_ms" % s)
        plain = get(c + "plain_recv_kms_cpu_ms")
        if None not in (shown_ms, y4m, ren, xrgb):
            kms = shown_ms - y4m - ren + xrgb
            out[c + "hub_cpu_ms_kms"] = {"value": kms, "unit": "ms/frame"}
            if plain:
                out[c + "hub_kms_vs_plain"] = {"value": kms / plain, "unit": "x"}
        ed = get("core.ed25519.verify_us")
        if v_us is not None and ed:
            out[c + "open_verify_vs_ed25519"] = {"value": v_us / ed, "unit": "x"}
        cap = get("camera.1280x720.capture_copies_per_frame")
        enc = get(c + "camera_encoder_input_copies")
        if cap is not None and enc is not None:
            out[c + "camera_copies_per_frame"] = {"value": cap + enc, "unit": "copies"}
    return out


# (label, key pattern with {s} = size, unit shown, goal kind or None, sizes the goal applies to)
ROWS = [
    ("security overhead, camera (chain: CPU/frame 1 hub / no hub)", "chain.{s}.camera_ratio",
     "x", "ratio", None),
    ("  the same, sign+seal only ((no hub + sign+seal) / no hub)",
     "chain.{s}.camera_ratio_sign_seal", "x", "ratio", None),
    ("security overhead, hub (chain: CPU/unit / same - open+verify)", "chain.{s}.hub_ratio",
     "x", "ratio", None),
    ("security overhead, hub (in-process: secure / plain passes)", "hub.{s}.ratio_measured",
     "x", "ratio", None),
    ("open+verify per AU, x264 units (one core)", "hub.{s}.open_verify_us", "us", None, None),
    ("verifier throughput per core", "hub.{s}.verify_aus_per_core", "AU/s", None, None),
    ("streams @30 fps verified per core", "hub.{s}.streams_per_core", "", "streams",
     ["1920x1080"]),
    ("glass latency p50 (capture -> y4m write)", "chain.{s}.glass_p50", "ms", "p50",
     ["1280x720"]),
    ("glass latency p95", "chain.{s}.glass_p95", "ms", None, None),
    ("glass latency p99", "chain.{s}.glass_p99", "ms", "p99", ["1280x720"]),
    ("camera CPU per stream (capture+encode+sign+seal+send)", "chain.{s}.camera_cpu_pct",
     "% core", None, None),
    ("hub CPU per stream (receive..display)", "chain.{s}.hub_cpu_pct", "% core", None, None),
    ("camera fps sustained / hub fps shown", ("chain.{s}.camera_fps", "chain.{s}.hub_shown_fps"),
     "fps", None, None),
    ("veracam / plain: camera CPU per frame", "chain.{s}.camera_vs_plain", "x", None, None),
    ("veracam / plain: hub CPU per frame (both write y4m)", "chain.{s}.hub_vs_plain", "x",
     "vs_plain_hub", None),
    ("  the same, both with a screen's work (XRGB, no y4m)", "chain.{s}.hub_kms_vs_plain", "x",
     None, None),
    ("veracam / plain: glass latency p50", "chain.{s}.glass_p50_vs_plain", "x",
     "vs_plain_glass", ["1280x720", "1920x1080"]),
    ("veracam / plain: glass latency p99", "chain.{s}.glass_p99_vs_plain", "x", None, None),
    ("veracam / plain: peak RSS, camera", "chain.{s}.camera_rss_vs_plain", "x", None, None),
    ("veracam / plain: peak RSS, hub", "chain.{s}.hub_rss_vs_plain", "x", None, None),
    ("hub CPU/frame, veracam / plain receiver", ("chain.{s}.hub_cpu_ms",
                                                 "chain.{s}.plain_recv_cpu_ms"),
     "ms", None, None),
    ("glass latency p50, veracam / plain", ("chain.{s}.glass_p50", "chain.{s}.plain_glass_p50"),
     "ms", None, None),
    ("units of the moving scene, IDR / P (mean)", ("chain.{s}.unit_i_bytes",
                                                   "chain.{s}.unit_p_bytes"),
     "B", None, None),
    ("hub CPU, 4 cameras / 1 camera", "chain.{s}.grid4_ratio", "x", "grid4", [GRID_SIZE]),
    ("open+verify per AU / one Ed25519 verify (bench_core)",
     "chain.{s}.open_verify_vs_ed25519", "x", None, None),
    ("raw-frame copies, camera capture -> encoder", "chain.{s}.camera_copies_per_frame",
     "/frame", None, None),
    ("raw-frame copies, hub decoder -> display buffer", "hub.{s}.copies_per_frame",
     "/frame", None, None),
    ("camera CPU/frame with / without the motion detector", "camera.{s}.motion_ratio", "x",
     "motion", ["1280x720"]),
    ("  the same, (without + the detector's own CPU) / without",
     "camera.{s}.motion_ratio_own", "x", "motion", ["1280x720"]),
    ("  the detector's own CPU per frame", "camera.{s}.motion_detector_ms", "ms", None, None),
]

METHODS = [
    "motion detector: encode_bench, paced capture+encode of pattern:2040e0,scene=moving "
    "without and with the detector (daemon/camera/motion.c, defaults: 64x36 cells), 2 runs "
    "of each alternated, process CPU per frame of each and their ratio; then the CPU per "
    "frame without it plus the detector's own thread CPU inside cam_motion_frame, over the "
    "CPU per frame without it (the run ratio carries the machine's noise, this does not). The daemon's camera also signs, "
    "seals and sends, so its share there is smaller still.",
    "camera overhead: bench_chain, veracamd camera CPU (/proc, user+sys) per frame with one "
    "hub (capture+encode+sign+seal+send) over without a hub (capture+encode, nothing "
    "signed), in one run: 3 fresh cameras, each BENCH_SECONDS/12 without a hub, then "
    "BENCH_SECONDS/3 with a fresh hub; the send path is counted as overhead. "
    "sign+seal only: the no-hub CPU/frame plus sign+seal of a unit of the chain's mean "
    "size (cost as below), over the no-hub CPU/frame.",
    "hub overhead (chain): veracamd hub CPU per unit received in the chain, over the same "
    "minus open+verify of a unit of the chain's mean sealed size (camera status "
    "bytes_sent/frames_sent; cost from bench_core's aes-128-gcm I/P rows, linear in size). "
    "The daemon has no insecure mode, so the security part is taken out, not switched off.",
    "hub overhead (in-process): bench_hub, process CPU of decode->display (plain) vs "
    "open->verify->decode->display (secure) of the same x264 units, 2 passes each "
    "alternated; decoder threads included, so it carries the machine's noise.",
    "verifier throughput: bench_hub, thread CPU of open+verify over 10 sealed copies of a "
    "3 s x264 clip (smpte moving, zerolatency ultrafast, IDR every 30 frames = 1 s) at "
    "1 / 2.5 / 4 Mbit/s for 480p / 720p / 1080p; streams = AU/s / 30.",
    "glass latency: bench_chain, hub --log-level debug VERACAM_GLASS_US per frame: "
    "CLOCK_REALTIME when the y4m frame is written minus the signed capture time.",
    "CPU per stream: bench_chain hub phase, % of one core, camera and hub daemons.",
    "scene: bench_chain's cameras show pattern:RRGGBB,scene=moving (SMPTE bars scrolling "
    "8 px/frame with their noise patch behind the tag), which x264 spends the bit rate on "
    "(1M / 2500k / 4M at 480p / 720p / 1080p); unit sizes are the plain sender's, same "
    "encoder settings.",
    "veracam / plain: bench_plain runs the camera's picture (cam_pattern_bin_new) through "
    "x264enc with the camera's settings (cam_encoder_x264_settings) ! rtph264pay ! udpsink, "
    "and udpsrc ! rtph264depay ! h264parse ! avdec_h264 (the hub's settings) ! videoconvert "
    "to BGRx (the display's XRGB8888) ! appsink, each frame converted back to I420 and "
    "written as y4m to /dev/null, no security; 3 phases alternated with the "
    "veracamd ones, each process measured over the same window (getrusage, all threads). "
    "Camera: veracamd camera CPU/frame with one hub over the plain sender's; hub: veracamd "
    "hub CPU per frame shown over the plain receiver's per frame written (both decode and "
    "write y4m: the hub copies the decoded picture into its I420 output buffer, the plain "
    "receiver converts to XRGB and back to 4:2:0). 'with a screen's work' (a receiver with "
    "a screen): the hub's CPU/frame less bench_hub's median render (the I420 copy) and y4m "
    "(write) steps per frame at that size plus its XRGB8888 conversion of a frame of that "
    "size (what the KMS output's render does), over the plain receiver's less its own y4m "
    "step (main-thread CPU, measured in the same window).",
    "plain glass latency: the sender stamps each frame's production time (CLOCK_MONOTONIC, "
    "where videotestsrc pushes it, as the camera does) and its number, which the picture "
    "carries as the veracam.ko tag; the receiver reads the tag back from the decoded picture "
    "and stamps the time its y4m write returned; frames are joined by that number, so loss, "
    "drops and reordering cannot pair the wrong frames (untagged reads are counted, not "
    "guessed). veracamd's glass latency is taken over its hub phases only.",
    "RSS: peak resident set (VmHWM / ru_maxrss) of each process, the largest over the "
    "phases.",
    "4 cameras: at 1280x720, in each of the 3 cycles a phase with four fresh veracamd "
    "cameras into a fresh hub (2x2 grid of the same output size), alternated with the "
    "other phases; the median of their hub CPU (% of a core) over the median of the "
    "one-camera hub phases'.",
    "open+verify / Ed25519: the open+verify cost of a unit of the chain's mean size (as "
    "above) over bench_core's core.ed25519.verify_us (one signature verify) when it prints "
    "one.",
    "copies: camera = capture copies per frame (encode_bench, the capture's own counters "
    "struct cam_capture_stats, same pattern source code as the daemon) + encoder-input "
    "conversion (daemon log: 'taken as is' = 0, videoconvert = 1); hub = display counters "
    "in bench_hub (frame_writes + frame_scales): the decoded picture copied (or scaled) "
    "straight into the y4m output's I420 buffer, as on KMS it is converted straight into "
    "the XRGB8888 one = 1 per frame; +1 where a picture is first scaled into a 4:2:0 "
    "scratch (KMS, a picture of another size than its cell; y4m, only an NV12 picture's "
    "chroma). A picture of another colorimetry than the y4m output's is then converted in "
    "place (frame_converts, bench_hub's hub.SIZE.colour_converts: 0 for the camera's "
    "matrix at its own size). Copies inside x264/libav are not counted.",
]


# What a row says when no size has its figure, and why.
NOT_MEASURED = {
    "chain.{s}.open_verify_vs_ed25519": "not measured (bench_core prints no "
                                        "core.ed25519.verify_us)",
    "chain.{s}.hub_kms_vs_plain": "not measured (bench_hub printed no y4m_ms)",
}


def check(kind, v):
    goal, op = GOALS[kind]
    return v <= goal if op == "<=" else v >= goal


def fmt(v):
    if v is None:
        return "-"
    if abs(v) >= 1000:
        return "%.0f" % v
    if abs(v) >= 100:
        return "%.1f" % v
    if abs(v) >= 10:
        return "%.2f" % v
    return "%.3f" % v


def short(v):
    """A figure in at most 5 characters, for the pairs (a/b) of the table."""
    if v is None:
        return "-"
    if abs(v) >= 10000:
        return "%.0fk" % (v / 1000)
    return "%.0f" % v if abs(v) >= 100 else "%.1f" % v


def summary(fig, sizes):
    get = lambda k: fig.get(k, {}).get("value")
    rows, table = [], []
    w = 62
    head = "%-*s" % (w, "figure") + "".join("%11s" % s for s in sizes) + "  %-8s %-10s %s" % (
        "unit", "goal", "result")
    table.append(head)
    table.append("-" * len(head))
    for label, key, unit, kind, goal_sizes in ROWS:
        cells, results = [], []
        for s in sizes:
            if isinstance(key, tuple):
                a, b = get(key[0].format(s=s)), get(key[1].format(s=s))
                cells.append("-" if a is None else "%s/%s" % (short(a), short(b)))
                rows.append({"figure": label, "size": s, "value": [a, b], "unit": unit})
                continue
            v = get(key.format(s=s))
            cells.append(fmt(v))
            row = {"figure": label, "size": s, "value": v, "unit": unit or "streams"}
            if kind and (goal_sizes is None or s in goal_sizes):
                goal, op = GOALS[kind]
                row["goal"] = "%s %s" % (op, goal)
                if v is not None:
                    row["pass"] = check(kind, v)
                    results.append("%s:%s" % (s.split("x")[1] + "p",
                                              "pass" if row["pass"] else "MISS"))
            rows.append(row)
        if not isinstance(key, tuple) and key in NOT_MEASURED and \
                all(get(key.format(s=x)) is None for x in sizes):
            results.append(NOT_MEASURED[key])
        goal = ""
        if kind:
            g, op = GOALS[kind]
            goal = "%s %g" % (op, g) + ("" if goal_sizes is None else
                                        " @" + ",".join(x.split("x")[1] + "p"
                                                        for x in goal_sizes))
        table.append("%-*s" % (w, label) + "".join("%11s" % c for c in cells) +
                     "  %-8s %-10s %s" % (unit, goal, " ".join(results)))
    return table, rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", required=True)
    ap.add_argument("--out", default=None)
    ap.add_argument("--sizes", default="640x480 1280x720 1920x1080")
    a = ap.parse_args()
    build = os.path.abspath(a.build)
    out = a.out or os.path.join(os.path.dirname(build), "bench", "bench.json")
    sizes = a.sizes.split()
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

    started = datetime.datetime.now(datetime.timezone.utc)
    t0 = time.monotonic()
    load0 = loadavg()
    figures, log, ok = {}, [], True
    benches = find_benches(build)
    if not benches:
        print("summary.py: no bench_* / *_bench programs under %s" % build, file=sys.stderr)
        return 1
    for name, path in benches:
        if name == "bench_chain":
            for s in sizes:
                ok &= run([path, "--size", s] + (["--grid"] if s == GRID_SIZE else []),
                          figures, log)
        else:
            ok &= run([path] + ARGS.get(name, []), figures, log)
    load1 = loadavg()
    figures.update(derive(figures, sizes))

    table, rows = summary(figures, sizes)
    m = machine()
    secs = time.monotonic() - t0
    print()
    print("== summary: %s, %d cores, kernel %s; %s; load %.2f -> %.2f; %.0f s" %
          (m["cpu"], m["cores"], m["kernel"], started.strftime("%Y-%m-%d %H:%M UTC"),
           load0[0], load1[0], secs))
    for line in table:
        print(line)
    print("goals are informational (issues 8, 19): nothing here fails the run; figures from "
          "a machine shared with other work are indicative only. Methods:")
    for line in METHODS:
        print("  - " + line)

    doc = {
        "machine": m,
        "date": started.isoformat(timespec="seconds"),
        "git_commit": git_commit(repo),
        "command": "make bench",
        "bench_seconds": int(os.environ.get("BENCH_SECONDS", "60")),
        "load_average_1min": {"start": load0[0], "end": load1[0]},
        "run_seconds": round(secs, 1),
        "runs": log,
        "summary": rows,
        "figures": figures,
        "methods": METHODS,
    }
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as f:
        json.dump(doc, f, indent=1, sort_keys=False)
        f.write("\n")
    print("JSON: %s" % out)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
