#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# kms_guest.sh PROBE - in the test guest (bochs DRM): run kms_probe on the
# atomic and on the legacy path, each with a QMP screendump checked pixel
# by pixel, then show with modetest what is left on the CRTC after exit.
#
#   tests/qemu/run --no-insmod -- tests/kms_guest.sh build/meson/tests/kms_probe
#
# A helper of veracam_kms.sh (TEST_PROGS_EXTENDED in tests/Makefile).
#
# Screendumps and modetest output go to $VERACAM_OUT. Exit 0 when all pass.
set -u
probe=${1:?usage: kms_guest.sh PATH/TO/kms_probe}
out=${VERACAM_OUT:?not in the test guest}

modprobe bochs || { echo "1..0 # SKIP no bochs module"; exit 4; }
i=0
while [ ! -e /dev/dri/card0 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done

rc=0
for path in atomic legacy; do
	flag=""
	[ $path = legacy ] && flag=--legacy
	echo "# $(date +%T) kms_probe $flag"
	"$probe" $flag --shot "$out/hub-kms-$path.png" || rc=1
	# after exit: the CRTC shows the console again (or nothing), no hub fb
	modetest -M bochs-drm -c -p >"$out/modetest-after-$path.txt" 2>&1
	sed -n '/^CRTCs:/,/^$/p' "$out/modetest-after-$path.txt" | head -4
done
echo "# $(date +%T) done"
exit $rc
