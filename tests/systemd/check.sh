#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Checks of veracamd's systemd units, printed as KTAP. Exits 0 when every
# test passed or was skipped, 1 otherwise.
#
#   per unit (veracamd-camera@, the camera template, and veracamd-hub):
#     exposure  systemd-analyze security --offline=yes: overall exposure
#               <= 2.0 (the figure is printed)
#     verify    systemd-analyze verify prints nothing (rc is 0 even for
#               unknown keys, so its output is what counts)
#     notify    Type=notify with a WatchdogSec= and a config error (exit 2)
#               not restarted
#   sysusers    systemd-sysusers --dry-run accepts the sysusers entry
#   tmpfiles    the tmpfiles entry, applied to a scratch root, makes
#               the key directories 0700 veracam:veracam
#
# verify resolves ExecStart= and the units' dependencies, so it runs with
# --root= on a scratch tree holding the unit, systemd's own units and an
# executable at the path ExecStart= names: the built veracamd if there is
# one ($VERACAMD, or build/meson/daemon/veracamd), else /bin/true standing
# in for it (what is verified is the unit, not the binary).
#
# The files checked are the repository's (systemd/), or installed copies:
# VERACAM_UNIT_DIR (the units), VERACAM_SYSUSERS, VERACAM_TMPFILES (the
# two entries), as tests/install/check.sh gives them.

set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
units="veracamd-camera@ veracamd-hub"
unit_dir=${VERACAM_UNIT_DIR:-$top/systemd}
sysusers=${VERACAM_SYSUSERS:-$top/systemd/veracamd.sysusers}
tmpfiles=${VERACAM_TMPFILES:-$top/systemd/veracamd.tmpfiles}
max_exposure=2.0
ntests=8
. "$top/tests/ktap.sh"

if ! command -v systemd-analyze >/dev/null 2>&1; then
	while [ "$n" -lt "$ntests" ]; do
		n=$((n + 1))
		echo "ok $n # SKIP systemd-analyze not installed (package systemd)"
	done
	exit 0
fi

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# The scratch root for verify.
root=$scratch/root
mkdir -p "$root/usr/bin" "$root/usr/lib/systemd" "$root/etc/systemd/system"
ln -s usr/bin "$root/bin"
cp -a /usr/lib/systemd/system "$root/usr/lib/systemd/"
cp /usr/bin/kill "$root/usr/bin/kill"
veracamd=${VERACAMD:-$top/build/meson/daemon/veracamd}
[ -x "$veracamd" ] || veracamd=/usr/bin/true

for u in $units; do
	file=$unit_dir/$u.service
	log=$scratch/$u
	exe=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$file")
	mkdir -p "$root$(dirname "${exe:-/usr/bin/veracamd}")"
	cp "$veracamd" "$root${exe:-/usr/bin/veracamd}"

	# exposure
	systemd-analyze security --offline=yes --no-pager "$file" >"$log.sec" 2>&1
	figure=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' "$log.sec")
	if [ -n "$figure" ] && awk -v e="$figure" -v m="$max_exposure" 'BEGIN { exit !(e <= m) }'; then
		result 0 "$u exposure $figure <= $max_exposure"
	else
		grep '✗' "$log.sec" | sed 's/^/# /'
		diag "$log.sec" | tail -n 3
		result 1 "$u exposure ${figure:-unknown} <= $max_exposure"
	fi

	# verify
	# (a template as an instance of it: a sensor's unique id)
	cp "$file" "$root/etc/systemd/system/"
	name=$u.service
	case $u in *@) name=${u}ca110001000000000000000000000001.service ;; esac
	systemd-analyze verify --man=no --root="$root" "$name" >"$log.verify" 2>&1
	rc=$?
	if [ "$rc" -eq 0 ] && [ ! -s "$log.verify" ]; then
		result 0 "$u verify"
	else
		diag "$log.verify"
		result 1 "$u verify"
	fi

	# service manager contract
	if grep -qx 'Type=notify' "$file" && grep -q '^WatchdogSec=[1-9]' "$file" &&
	   grep -qx 'RestartPreventExitStatus=2' "$file"; then
		result 0 "$u Type=notify, WatchdogSec, no restart on exit 2"
	else
		result 1 "$u Type=notify, WatchdogSec, no restart on exit 2"
	fi
done

if systemd-sysusers --dry-run "$sysusers" >"$scratch/sysusers" 2>&1 &&
   ! grep -qi 'ignoring\|fail\|error' "$scratch/sysusers"; then
	result 0 "sysusers dry run"
else
	diag "$scratch/sysusers"
	result 1 "sysusers dry run"
fi

# tmpfiles, against a scratch root that knows the veracam user
troot=$scratch/troot
mkdir -p "$troot/etc"
echo 'veracam:x:990:990::/var/lib/veracam:/usr/sbin/nologin' >"$troot/etc/passwd"
echo 'veracam:x:990:' >"$troot/etc/group"
if [ "$(id -u)" != 0 ]; then
	n=$((n + 1))
	echo "ok $n # SKIP tmpfiles: creating veracam-owned directories needs root"
elif systemd-tmpfiles --create --root="$troot" "$tmpfiles" \
	>"$scratch/tmpfiles" 2>&1 &&
   [ "$(stat -c '%a %u %g' "$troot/var/lib/veracam/camera" 2>/dev/null)" = "700 990 990" ] &&
   [ "$(stat -c '%a %u %g' "$troot/var/lib/veracam/hub" 2>/dev/null)" = "700 990 990" ]; then
	result 0 "tmpfiles key directories"
else
	diag "$scratch/tmpfiles"
	result 1 "tmpfiles key directories"
fi

echo "# $((ntests - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
