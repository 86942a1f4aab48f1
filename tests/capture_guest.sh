#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest test of the camera's V4L2 capture (TAP output), run with veracam.ko
# loaded with num_cameras=2:
#
#   tests/qemu/run --modparams "num_cameras=2" -- \
#       tests/capture_guest.sh BUILDDIR/tests/capture_probe
#
# Cameras are chosen by stable identity; frames must carry the chosen
# camera's burned-in tag and their own sensor record; after a reload that
# swaps the instances' ids, the same id still selects the same camera.
# Exit status 1 when any test point failed. A helper of veracam_capture.sh
# (TEST_PROGS_EXTENDED in tests/Makefile).
probe=${1:?usage: $0 PATH/TO/capture_probe}
here=$(cd "$(dirname "$0")" && pwd)
ID1=ca110001000000000000000000000001
ID2=ca110002000000000000000000000002
n=0 failed=0
log=${VERACAM_OUT:-/tmp}/capture_guest.log
: > "$log"

point() {	# point NAME CMD...: one TAP test point
	name=$1; shift
	n=$((n + 1))
	echo "# $*" >> "$log"
	if "$@" >> "$log" 2>&1; then
		echo "ok $n - $name"
	else
		echo "not ok $n - $name"
		failed=$((failed + 1))
		tail -5 "$log" | sed 's/^/# /'
	fi
}

# the id of the camera that is /dev/videoN now
check_swapped() {
	"$probe" --source "v4l2:id=$ID1" --frames 10 --expect-tags --expect-meta \
		--expect-id "$ID1" | tee -a "$log" | grep -q "bus_info=platform:veracam.1 "
}

point "veracam: camera 1 by id, tags and sensor records" \
	"$probe" --source "v4l2:id=$ID1" --frames 30 --expect-tags --expect-meta --expect-id "$ID1"
point "veracam: camera 2 by id, tags and sensor records" \
	"$probe" --source "v4l2:id=$ID2" --frames 30 --expect-tags --expect-meta --expect-id "$ID2"
point "veracam: by bus_info, identity is still the unique id" \
	"$probe" --source "v4l2:bus=platform:veracam.1" --frames 5 --expect-tags --expect-id "$ID2"
point "veracam: by serial" \
	"$probe" --source "v4l2:serial=$ID1" --frames 5 --expect-tags --expect-id "$ID1"
point "veracam: MC-centric format 640x480 and encode" \
	"$probe" --source "v4l2:id=$ID1" --size 640x480 --frames 5 --encode x264 --expect-tags
point "veracam: DMABUF hand-over to the encoder" \
	"$probe" --source "v4l2:id=$ID2" --frames 5 --io dmabuf --encode x264 --expect-tags
point "veracam: unknown id refused in one line" \
	sh -c "! '$probe' --source v4l2:id=00000000000000000000000000000bad --frames 1"

# the ids are the sensors' OTP registers (tests/vc1-stub writes them)
if [ -n "${VERACAM_KO:-}" ] && rmmod veracam && "$here/vc1-stub" "$ID2,$ID1" &&
   insmod "$VERACAM_KO" num_cameras=2; then
	sleep 1
	point "veracam: after a reload swapping ids, id still selects its camera" check_swapped
else
	n=$((n + 1))
	echo "ok $n - reload with swapped ids # SKIP VERACAM_KO not set or reload failed"
fi

# unplug while streaming: capture reports the device gone (the daemon then
# retries with backoff); the device is bound again afterwards
unplug() {
	"$probe" --source "v4l2:id=$ID1" --frames 100000 > "$log.unplug" 2>&1 &
	pid=$!
	# streaming: its first frame is in (the TCG guest on a busy host may
	# take its time, so wait for the fact, not for a time)
	for _ in $(seq 600); do
		grep -q "^frame" "$log.unplug" && break
		kill -0 $pid 2>/dev/null || break
		sleep 0.2
	done
	# the platform device of the camera the probe streams from
	dev=$(grep -o 'bus_info=platform:[^ ]*' "$log.unplug" | cut -d: -f2)
	[ -n "$dev" ] && grep -q "^frame" "$log.unplug" || { kill $pid; cat "$log.unplug"; return 1; }
	echo "$dev" > /sys/bus/platform/drivers/veracam/unbind
	# the probe must end by itself, on the device going away
	for _ in $(seq 300); do
		kill -0 $pid 2>/dev/null || break
		sleep 0.2
	done
	kill $pid 2>/dev/null
	wait $pid
	echo "$dev" > /sys/bus/platform/drivers/veracam/bind
	cat "$log.unplug" | grep -v "^frame"
	grep -q "device gone" "$log.unplug"
}
point "veracam: unbind while streaming is reported as device gone" unplug

if modprobe vivid n_devs=1 node_types=0x1 2>>"$log"; then
	sleep 1
	point "vivid: by bus_info, copy path, x264" \
		"$probe" --source v4l2:bus=platform:vivid-000 --frames 10 --encode x264
	point "vivid: DMABUF path, x264" \
		"$probe" --source v4l2:bus=platform:vivid-000 --frames 10 --encode x264 --io dmabuf
	rmmod vivid
else
	n=$((n + 1))
	echo "ok $n - vivid # SKIP vivid module not available"
fi

# the sensors' default ids back for the suites after this one
[ -z "${VERACAM_KO:-}" ] || "$here/vc1-stub"
echo "1..$n"
[ $failed -eq 0 ]
