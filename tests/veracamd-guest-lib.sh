# SPDX-License-Identifier: GPL-2.0
#
# Shared by the veracamd guest tests (tests/veracam_daemon*.sh,
# tests/veracam_glass.sh), sourced after the plan is printed: test points,
# camera/hub pairs of keys, the hub's status, the CRTC as modetest sees it.
# Sets tmp (keys and sockets, removed on exit) and out.

n=0 failed=0
tap() {	# tap DESCRIPTION CMD...: one test point, ok when CMD succeeds
	desc=$1
	shift
	n=$((n + 1))
	if "$@"; then
		echo "ok $n $desc"
	else
		echo "not ok $n $desc"
		failed=$((failed + 1))
	fi
}

tmp=$(mktemp -d)	# keys and sockets: a local file system, not 9p
trap 'rm -rf "$tmp"' EXIT
rm -rf "$out"
mkdir -p "$out"
ip link set lo up	# the guest may start with the loopback down

# pair CAMERA_NAME [CAMERA_KEYS]: the camera's keys in CAMERA_KEYS (default
# $tmp/cam), the hub's in $tmp/hub (made by the first pair), each pinning
# the other
pair() {
	cam_keys=${2:-$tmp/cam}
	"$ctl" keygen "$cam_keys" >/dev/null
	[ -d "$tmp/hub" ] || "$ctl" keygen "$tmp/hub" >/dev/null
	"$ctl" trust "$tmp/hub" "$1" "$("$ctl" identity "$cam_keys")" --role camera --confirmed
	"$ctl" trust "$cam_keys" hub "$("$ctl" identity "$tmp/hub")" --role hub --confirmed
}

# field EXPR: EXPR evaluated on the hub's status snapshot d
field() {
	"$ctl" status "$tmp/hub.sock" 2>/dev/null |
		python3 -c 'import json, sys; print(eval(sys.argv[1], {"d": json.load(sys.stdin)}))' "$1" 2>/dev/null
}

wait_for() {	# wait_for SECONDS EXPR: EXPR on the hub's status within SECONDS
	end=$(($(date +%s) + $1))
	while [ "$(date +%s)" -lt "$end" ]; do
		[ "$(field "$2")" = True ] && return 0
		sleep 0.2
	done
	return 1
}

# crtc: "CRTC_ID FB_ID WxH" of the DRM device's first CRTC (modetest)
crtc() {
	modetest -M "${1:-bochs-drm}" -p 2>/dev/null |
		awk '/^CRTCs:/ { getline; getline; print $1, $2, $4; exit }'
}
