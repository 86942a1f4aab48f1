#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# veracamd on veracam.ko (guest, KTAP): with two sensor instances, the
# camera daemon chooses its sensor by stable id, not by device order. The
# module is loaded with sensors holding ids A,B, then reloaded with the ids swapped
# between the two instances; both times `--source v4l2:id=B` must capture
# B (the daemon names B's id and the instance that has it), and a paired
# hub must verify every access unit and show frames whose burned-in camera
# tag is B's, and the capture source signed into them must be B's: the hub
# reports the source id of its last verified frame, which must equal
# SHA-256("veracam source v1" 00 || "id:" B) (docs/PROTOCOL.md, computed
# here with Python's hashlib) and differ from A's. Then B's platform device is unbound under the streaming
# camera daemon (an unplug): the hub must fall back to its unavailable
# screen, the daemon must retry, and video must resume once B is bound
# again.
#
#   make module KVER=guest && tests/qemu/run --no-insmod -- tests/veracam_daemon.sh [BUILDDIR]
#
# BUILDDIR (default $VERACAM_BUILD, else build/meson as `make` builds it)
# holds daemon/veracamd and daemon/veracamctl. Needs root and $VERACAM_KO
# (or driver/veracam.ko).
# Logs and the hub's y4m files stay in $VERACAM_OUT/veracam_daemon.
here=$(cd "$(dirname "$0")" && pwd)
# The paths below are the repository's: kselftest's runner starts each test
# in its own directory.
cd "$here/.." || exit 1
ko=${VERACAM_KO:-driver/veracam.ko}
build=${1:-${VERACAM_BUILD:-build/meson}}
vd=$build/daemon/veracamd
ctl=$build/daemon/veracamctl
y4m=tests/e2e/y4m.py
A=ca11da0a00000000000000000000000a
B=ca11da0b00000000000000000000000b
out=${VERACAM_OUT:-/tmp}/veracam_daemon

echo "TAP version 13"
why=
for tool in insmod rmmod modprobe modinfo ip python3; do
	command -v "$tool" >/dev/null 2>&1 || why="$tool is not installed"
done
[ -x "$vd" ] && [ -x "$ctl" ] || why="veracamd not built in $build (give BUILDDIR)"
[ -r "$ko" ] || why="driver absent: no $ko (make module KVER=guest)"
[ "$(id -u)" -eq 0 ] || why="must run as root"
if [ -n "$why" ]; then
	echo "1..0 # SKIP $why"
	exit 4
fi
echo "1..18"

. "$here/veracamd-guest-lib.sh"
for dep in $(modinfo -F depends "$ko" | tr , ' '); do
	modprobe "$dep"
done
pair cam-b

source_id() {	# source_id UNIQUE_ID: the signed source id of the sensor with that id
	python3 -c 'import hashlib, sys; print(hashlib.sha256(b"veracam source v1\0" + b"id:" + sys.argv[1].encode()).hexdigest())' "$1"
}
SRC_A=$(source_id $A)
SRC_B=$(source_id $B)
camera_signs_b() {	# the camera daemon's status: capturing id:B, signing B's source id
	[ "$("$ctl" status "$tmp/cam.sock" 2>/dev/null | python3 -c 'import json, sys; d = json.load(sys.stdin); print(d["capture_identity"], d["source"])')" = "id:$B $SRC_B" ]
}

captures_b() {	# captures_b LOG INSTANCE
	grep -q "capturing id:$B (.*bus platform:veracam.$2)" "$1"
}
shows_tag_b() {	# shows_tag_b Y4M: the most frequent camera tag shown is B's
	python3 "$y4m" tags "$1" >"$1.tags" &&
		[ "$(head -n 1 "$1.tags" | cut -d' ' -f1)" = "$(echo $B | cut -c1-8)" ]
}

# unplug INSTANCE: unbind B's device while the daemon streams from it
unplug() {
	drv=/sys/bus/platform/drivers/veracam
	echo "veracam.$1" >"$drv/unbind"
	# stale at first; 5 s without media the hub restarts the session (then
	# "not connected"), which a slow guest's status polls may see first
	tap "unplug: the hub shows its unavailable screen" \
		wait_for 30 'd["cameras"][0]["state"] in ("stale", "not verified", "not connected")'
	tap "unplug: the camera daemon notices and retries" \
		wait_grep 30 "camera unavailable" "$out/cam-swapped.log"
	shown=$(field 'd["cameras"][0]["shown"]')
	echo "veracam.$1" >"$drv/bind"
	tap "replug: the camera daemon captures B again" \
		wait_grep 60 "capturing id:$B.*platform:veracam.$1" "$out/cam-swapped.log" 2
	tap "replug: the hub shows verified video again" \
		wait_for 240 "d['cameras'][0]['shown'] >= $shown + 10 and d['cameras'][0]['state'] == 'connected'"
}
wait_grep() {	# wait_grep SECONDS PATTERN FILE [COUNT]: COUNT lines match within SECONDS
	end=$(($(date +%s) + $1))
	while [ "$(date +%s)" -lt "$end" ]; do
		[ "$(grep -c "$2" "$3")" -ge "${4:-1}" ] && return 0
		sleep 0.2
	done
	return 1
}

# session IDS NAME INSTANCE: veracam.ko with two VC1 sensors whose OTP
# registers hold IDS (tests/vc1-stub), where B is instance INSTANCE; a
# camera daemon on v4l2:id=B and a hub on it.
session() {
	rmmod veracam 2>/dev/null
	tap "$2: sensors with ids $1, insmod num_cameras=2" \
		sh -c "tests/vc1-stub '$1' && insmod '$ko' num_cameras=2"
	"$vd" camera --keys "$tmp/cam" --name cam-b --source "v4l2:id=$B" --encoder x264 \
		--width 320 --height 240 --fps 10 --listen 127.0.0.1:7400 \
		--status-socket "$tmp/cam.sock" >"$out/cam-$2.log" 2>&1 &
	cam=$!
	"$vd" hub --keys "$tmp/hub" --camera cam-b@127.0.0.1:7400 --output-size 320x240 \
		--display "y4m:$out/hub-$2.y4m" --status-socket "$tmp/hub.sock" \
		>"$out/hub-$2.log" 2>&1 &
	hub=$!
	tap "$2: the hub verified and showed the camera's frames" \
		wait_for 240 'd["cameras"][0]["shown"] >= 10'
	[ "$2" = swapped ] && unplug "$3"
	tap "$2: the camera daemon captures id $B on platform:veracam.$3" \
		captures_b "$out/cam-$2.log" "$3"
	tap "$2: the camera daemon signs for id:$B (source id $SRC_B)" camera_signs_b
	tap "$2: the hub's last verified frame is signed for B's source, not A's" \
		[ "$(field "d['cameras'][0]['source'] == '$SRC_B' != '$SRC_A'")" = True ]
	# A starved TCG guest may deliver frames older than the freshness
	# window: those are rightly refused (then the next IDR is awaited).
	tap "$2: every access unit verified, or refused only as stale" \
		[ "$(field 'set(d["cameras"][0]["rejected"]) <= {"total", "stale", "await-idr"}')" = True ]
	kill "$hub" "$cam"
	wait "$hub" "$cam"
	tap "$2: the frames shown carry B's burned-in camera tag" shows_tag_b "$out/hub-$2.y4m"
	sed 's/^/# /' "$out/hub-$2.y4m.tags"
}

was_loaded=$(grep -c '^veracam ' /proc/modules)
session "$A,$B" first 1
session "$B,$A" swapped 0
rmmod veracam
# leave the module as the next test expects it: loaded, default parameters
tests/vc1-stub
[ "$was_loaded" -eq 0 ] || insmod "$ko"
[ "$failed" -eq 0 ]
