#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# veracam_capture.sh - veracamd's camera capture step on veracam.ko (two
# cameras) and vivid: selection by stable id / bus_info / serial, burned-in
# tags and sensor records on every frame, DMABUF into the encoder, device
# loss (capture_guest.sh does the work, with capture_probe). KTAP output.
here=$(cd "$(dirname "$0")" && pwd)
# The paths below are the repository's:
# kselftest's runner starts each test in its own directory.
cd "$here/.." || exit 1
probe=${VERACAM_BUILD:-$here/../build/meson}/tests/capture_probe
echo "TAP version 13"
if [ ! -x "$probe" ] || [ -z "${VERACAM_KO:-}" ]; then
	echo "1..0 # SKIP needs $probe and VERACAM_KO (run in the guest bench)"
	exit 4
fi
rmmod veracam 2>/dev/null
# the default unique ids in the sensors' registers, whatever an earlier
# suite left there (veracam_multi swaps them)
"$here/vc1-stub" >/dev/null || { echo "1..1"; echo "not ok 1 tests/vc1-stub: default ids"; exit 1; }
insmod "$VERACAM_KO" num_cameras=2 || { echo "1..1"; echo "not ok 1 insmod num_cameras=2"; exit 1; }
"$here/capture_guest.sh" "$probe"
