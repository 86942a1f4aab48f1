#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# veracamd configuration errors (TAP): each is one line on stderr naming
# the flag or the file and key, nothing on stdout, exit status 2, and no
# daemon started (nothing listens, no status socket appears).
#
# usage: test_config.sh VERACAMD VERACAMCTL
set -u
VD=$1 CTL=$2
T=$(mktemp -d "${TMPDIR:-/tmp}/veracamd-config.XXXXXX")
trap 'rm -rf "$T"' EXIT
n=0 fails=0

"$CTL" keygen "$T/keys" >/dev/null || exit 1
cat >"$T/bad.conf" <<'CONF'
[camera]
source=pattern:00ff00
fsp=30
CONF
cat >"$T/other-role.conf" <<'CONF'
[camera]
source=pattern:00ff00
display=drm
CONF

# expect_usage DESCRIPTION PATTERN ARGS...: exit 2, one stderr line matching PATTERN
expect_usage() {
	local d=$1 pat=$2 out err rc
	shift 2
	out=$(timeout 20 "$VD" "$@" --status-socket "$T/status.sock" 2>"$T/err")
	rc=$?
	err=$(cat "$T/err")
	n=$((n + 1))
	if [ "$rc" = 2 ] && [ -z "$out" ] && [ "$(wc -l <"$T/err")" = 1 ] &&
	   [[ "$err" == veracamd:* ]] && echo "$err" | grep -Eq -- "$pat" &&
	   [ ! -e "$T/status.sock" ]; then
		echo "ok $n - $d: $err"
	else
		fails=$((fails + 1))
		echo "not ok $n - $d (exit $rc)"
		sed 's/^/# /' "$T/err"
	fi
}

echo "TAP version 13"
K=(--keys "$T/keys")
expect_usage "no role" "camera|hub"
expect_usage "unknown role" "camera|hub" recorder "${K[@]}"
expect_usage "camera without a source" "--source" camera "${K[@]}"
expect_usage "malformed source" "--source" camera "${K[@]}" --source bogus:1
expect_usage "pattern colour not hex" "--source" camera "${K[@]}" --source pattern:red
expect_usage "fps out of range" "--fps" camera "${K[@]}" --source pattern:ff0000 --fps 0
expect_usage "odd width" "--width" camera "${K[@]}" --source pattern:ff0000 --width 321
expect_usage "listen without port" "--listen" camera "${K[@]}" --source pattern:ff0000 --listen 127.0.0.1
expect_usage "invalid camera name" "--name" camera "${K[@]}" --source pattern:ff0000 --name '.hidden'
expect_usage "missing key directory" "--keys" camera --keys "$T/nowhere" --source pattern:ff0000
expect_usage "hub without cameras" "--camera" hub "${K[@]}"
expect_usage "hub camera without port" "--camera" hub "${K[@]}" --camera porch@127.0.0.1
expect_usage "hub camera name not a trust name" "--camera" hub "${K[@]}" --camera 'por ch@127.0.0.1:7000'
expect_usage "hub camera pinned to an empty source" "--camera.*source" hub "${K[@]}" --camera 'porch@127.0.0.1:7000,source='
expect_usage "unknown display" "--display" hub "${K[@]}" --camera porch@127.0.0.1:7000 --display vga
expect_usage "unknown key in the file" "fsp" camera "${K[@]}" --config "$T/bad.conf"
expect_usage "other role's key in the file" "display" camera "${K[@]}" --config "$T/other-role.conf"
expect_usage "flag given twice" "twice" camera "${K[@]}" --source pattern:ff0000 --fps 15 --fps 30
echo "1..$n"
exit $((fails > 0))
