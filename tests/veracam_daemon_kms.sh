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

. "$(dirname "$0")/veracamd-guest-lib.sh"
pair porch

# screen NAME live|unavailable: screendump, decoded to RGB by GStreamer,
# checked pixel by pixel (the picture is scaled to fit, letterboxed)
screen() {
	tests/qemu/screendump "$out/$1.png" &&
	gst-launch-1.0 -q filesrc location="$out/$1.png" ! pngdec ! videoconvert ! \
		video/x-raw,format=RGB ! filesink location="$out/$1.rgb" >/dev/null &&
	python3 - "$out/$1.png" "$out/$1.rgb" "$2" <<'PY'
import struct, sys
w, h = struct.unpack(">II", open(sys.argv[1], "rb").read()[16:24])
rgb = open(sys.argv[2], "rb").read()
stride = (w * 3 + 3) & ~3 if len(rgb) != w * h * 3 else w * 3
px = lambda x, y: tuple(rgb[y * stride + 3 * x: y * stride + 3 * x + 3])
near = lambda a, b: all(abs(p - q) <= 48 for p, q in zip(a, b))
if sys.argv[3] == "live":
    centre = [px(w * fx // 100, h * fy // 100) for fx in (35, 50, 65) for fy in (35, 50, 65)]
    badge = any(near(px(x, y), (0x10, 0x6a, 0x2c)) for y in range(h - 24, h) for x in range(w // 2))
    print("# %ux%u centre %s, badge %s" % (w, h, centre[4], badge))
    sys.exit(0 if all(near(c, (255, 0, 0)) for c in centre) and badge else 1)
border, bg = px(1, h // 2), px(w // 2, h // 8)
print("# %ux%u border %s, background %s" % (w, h, border, bg))
sys.exit(0 if near(border, (0xf0, 0xa0, 0)) and near(bg, (0x1c, 0x1c, 0x24)) else 1)
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
tap "screendump: the camera's picture with the verified badge" screen live live
kill -STOP "$cam"
sleep 3
tap "camera frozen: screendump shows the hub's unavailable screen" screen stopped unavailable
kill -KILL "$cam"
kill -TERM "$hub"
wait "$hub"
tap "hub: SIGTERM exits 0" [ $? -eq 0 ]
tap "hub: no decoder or display error logged" sh -c "! grep -qi 'error' '$out/hub.log'"
[ "$failed" -eq 0 ]
