#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# veracamd hub on real KMS (guest with bochs DRM, KTAP): a pattern camera
# daemon (red) and a hub daemon with --display drm; QMP screendumps of what
# the guest actually scans out must show the camera's verified picture
# with the hub's badge, then, once the camera is frozen, the hub's own
# "stream unavailable" screen; the hub exits 0 on SIGTERM.
#
#   tests/qemu/run --no-insmod -- tests/veracam_daemon_kms.sh [BUILDDIR]
#
# BUILDDIR (default $VERACAM_BUILD, else build/meson) holds daemon/veracamd and
# daemon/veracamctl.
here=$(cd "$(dirname "$0")" && pwd)
# The paths below are the repository's: kselftest's runner starts each test
# in its own directory.
cd "$here/.." || exit 1
build=${1:-${VERACAM_BUILD:-build/meson}}
vd=$build/daemon/veracamd
ctl=$build/daemon/veracamctl
out=${VERACAM_OUT:-/tmp}/veracam_daemon_kms

echo "TAP version 13"
why=
for tool in gst-launch-1.0 python3 ip modprobe; do
	command -v "$tool" >/dev/null 2>&1 || why="$tool is not installed"
done
[ -x "$vd" ] && [ -x "$ctl" ] || why="veracamd not built in $build (give BUILDDIR)"
[ -x tests/qemu/screendump ] || why="no tests/qemu/screendump"
[ "$(id -u)" -eq 0 ] || why="must run as root"
[ -z "$why" ] && { modprobe bochs 2>/dev/null; [ -e /dev/dri/card0 ] || why="no DRM device (bochs)"; }
if [ -n "$why" ]; then
	echo "1..0 # SKIP $why"
	exit 4
fi
echo "1..5"

. "$here/veracamd-guest-lib.sh"
pair porch

# screen NAME own|unavailable: screendump, read by the screen oracle
# (tests/lib/hubscreen.py; the 320x240 picture is scaled to fit, letterboxed)
screen() {
	tests/qemu/screendump "$out/$1.png" &&
	python3 - "$out/$1.png" "$2" "$here/lib" <<'PY'
import sys
sys.path.insert(0, sys.argv[3])
import hubscreen as hs
fr = next(hs.png_frames([sys.argv[1]]))
cell = hs.layout(fr.w, fr.h, 1, fr.align)[0].fit(320, 240)
got = hs.NAMES[hs.classify(fr, cell, (255, 0, 0))]
badge = any(hs.near(fr.px(x, y), hs.SPEC.badge, fr.tol)
            for y in range(fr.h - 24, fr.h) for x in range(fr.w // 2))
print("# %ux%u: %s, badge %s" % (fr.w, fr.h, got, badge))
sys.exit(0 if got == sys.argv[2] and (badge or got != "own") else 1)
PY
}

"$vd" camera --keys "$tmp/cam" --name porch --source pattern:ff0000 --width 320 --height 240 \
	--fps 10 --listen 127.0.0.1:7500 --status-socket "$tmp/cam.sock" >"$out/cam.log" 2>&1 &
cam=$!
"$vd" hub --keys "$tmp/hub" --camera porch@127.0.0.1:7500 --display drm \
	--status-socket "$tmp/hub.sock" >"$out/hub.log" 2>&1 &
hub=$!
tap "the hub put verified frames on the glass (KMS)" \
	wait_for 240 'd["cameras"][0]["shown"] >= 3'
tap "screendump: the camera's picture with the verified badge" screen live own
kill -STOP "$cam"
sleep 3
tap "camera frozen: screendump shows the hub's unavailable screen" screen stopped unavailable
kill -KILL "$cam"
kill -TERM "$hub"
wait "$hub"
tap "hub: SIGTERM exits 0" [ $? -eq 0 ]
tap "hub: no decoder or display error logged" sh -c "! grep -qi 'error' '$out/hub.log'"
[ "$failed" -eq 0 ]
