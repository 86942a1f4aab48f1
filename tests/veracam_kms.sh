#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# veracam_kms.sh - the hub's DRM/KMS output on the guest's bochs device:
# atomic and legacy paths, QMP screendumps checked pixel by pixel, CRTC left
# clean after exit (kms_guest.sh does the work, with kms_probe). KTAP output.
# Needs the userspace build (build/meson, made by make check).
here=$(cd "$(dirname "$0")" && pwd)
# The paths below are the repository's (kms_probe runs tests/qemu/screendump):
# kselftest's runner starts each test in its own directory.
cd "$here/.." || exit 1
probe=${VERACAM_BUILD:-$here/../build/meson}/tests/kms_probe
echo "TAP version 13"
echo "1..1"
if [ ! -x "$probe" ]; then
	echo "ok 1 hub kms output # SKIP $probe not built"
	exit 4
fi
log=$(mktemp)
"$here/kms_guest.sh" "$probe" >"$log" 2>&1
rc=$?
sed 's/^/# /' "$log"
rm -f "$log"
case $rc in
0) echo "ok 1 hub kms output" ;;
4) echo "ok 1 hub kms output # SKIP no bochs DRM in this guest"; exit 4 ;;
*) echo "not ok 1 hub kms output"; exit 1 ;;
esac
