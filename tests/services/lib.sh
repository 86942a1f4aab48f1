# SPDX-License-Identifier: GPL-2.0
#
# tests/services/lib.sh - sourced inside the systemd test guest by
# tests/services/guest.sh and tests/tools/demo: veracam installed and set up the
# way a user of the packages does it, then started with systemctl.
#
#   svc_install PKGDIR LOG  dpkg -i PKGDIR's veracam-dkms and veracamd
#                           packages (DKMS builds vc1.ko and veracam.ko);
#                           without them, the `make install DESTDIR=` tree
#                           PKGDIR/stage and the prebuilt $VC1_KO and
#                           $VERACAM_KO (svc_dkms=no)
#   svc_module              veracam.ko with two receivers (/etc/modprobe.d),
#                           their VC1 sensors on i2c-stub with the registers
#                           tests/vc1-stub writes
#   svc_pair                a hub and both cameras paired by veracamctl run
#                           as the service user, in the units' directories:
#                           each camera's pairing window (pair-mode, what a
#                           board's button starts), the hub pairing from the
#                           QR payload it prints (pair)
#   svc_configure           /etc/veracam/camera/ID.conf per sensor (320x240,
#                           10 fps, x264, 127.0.0.1:7701+I) and hub.conf
#                           (both cameras, display=drm)
# The sensors: veracam.ko's default unique ids for num_cameras=2; the camera
# units: veracamd-camera@ID (svc_cams), all three in svc_units.
svc_id0=ca110001000000000000000000000001
svc_id1=ca110002000000000000000000000002
svc_cams="veracamd-camera@$svc_id0.service veracamd-camera@$svc_id1.service"
svc_units="$svc_cams veracamd-hub.service"
svc_hubkeys=/var/lib/veracam/hub
svc_camkeys=/var/lib/veracam/camera
svc_hubsock=/run/veracam/hub/status.sock
svc_dkms=no

as_veracam() { runuser -u veracam -- "$@"; }

svc_install() {
	export DEBIAN_FRONTEND=noninteractive
	if ls "$1"/veracam-dkms_*.deb "$1"/veracamd_*.deb >/dev/null 2>&1; then
		svc_dkms=yes
		# man-db's trigger would re-index every manual page of this root,
		# the host's whole tree read over 9p under TCG: 4-14 minutes of
		# the stage that test nothing of veracam's (man -w finds the
		# pages without the index; the suite checks they are there)
		rm -f /var/lib/man-db/auto-update
		dpkg -i "$1"/veracam-dkms_*.deb "$1"/veracamd_*.deb >"$2" 2>&1
		return
	fi
	# ("cp -a" would replace the /lib -> usr/lib link with a directory)
	tar -C "$1/stage" -cf - . | tar -C / -xf - --keep-directory-symlink &&
		systemd-sysusers && systemd-tmpfiles --create && systemctl daemon-reload &&
		mkdir -p "/lib/modules/$(uname -r)/updates" &&
		cp "$VC1_KO" "$VERACAM_KO" "/lib/modules/$(uname -r)/updates/" && depmod
}

svc_module() {
	echo "options veracam num_cameras=2" >/etc/modprobe.d/veracam.conf
	# the installed vc1 first: tests/vc1-stub inserts $VC1_KO only when
	# no vc1 is loaded
	modprobe vc1 && tests/vc1-stub && modprobe veracam && udevadm settle
}

svc_pair() {
	local i keys out pm payload

	as_veracam veracamctl keygen "$svc_hubkeys" >/dev/null || return 1
	for i in 0 1; do
		eval "keys=$svc_camkeys/\$svc_id$i"
		as_veracam veracamctl keygen "$keys" >/dev/null || return 1
		out=$(mktemp)
		as_veracam veracamctl pair-mode "$keys" --listen 127.0.0.1:7001 --name "cam$i" \
			--hub-name hub --ttl 60 >"$out" 2>&1 &
		pm=$!
		payload=
		for _ in $(seq 100); do
			payload=$(grep -o "veracam-pair2:[^']*" "$out") && break
			sleep 0.1
		done
		if ! as_veracam veracamctl pair "$svc_hubkeys" "cam$i" "$payload" >/dev/null ||
		   ! wait "$pm"; then
			kill "$pm" 2>/dev/null
			sed 's/^/# pair-mode: /' "$out"
			rm -f "$out"
			return 1
		fi
		rm -f "$out"
	done
}

svc_configure() {
	mkdir -p /etc/veracam/camera
	for i in 0 1; do
		eval "id=\$svc_id$i"
		printf '[camera]\nname=cam%s\nlisten=127.0.0.1:%s\nencoder=x264\nwidth=320\nheight=240\nfps=10\n' \
			"$i" $((7701 + i)) >"/etc/veracam/camera/$id.conf"
	done
	printf '[hub]\ncamera=cam0@127.0.0.1:7701;cam1@127.0.0.1:7702\ndisplay=drm\nbackoff-max=2s\n' \
		>/etc/veracam/hub.conf
	# The units' timings are for real hardware. Under TCG on a busy 2-core
	# host a daemon took 15-60 s from exec to READY=1 (13 s of it loading
	# its libraries over 9p), more than TimeoutStartSec=30s, and both
	# cameras, fed by no hub yet, missed WatchdogSec=5s 23 s after READY
	# (on the host the same camera pings every 2.6 s): a drop-in
	# stretches both here; the mechanisms tested are the units' own.
	for u in veracamd-camera@ veracamd-hub; do
		mkdir -p "/etc/systemd/system/$u.service.d"
		printf '# TCG test guest (tests/services/lib.sh)\n[Service]\nTimeoutStartSec=300s\nWatchdogSec=30s\n' \
			>"/etc/systemd/system/$u.service.d/tcg.conf"
	done
	systemctl daemon-reload || return 1
	# GStreamer's plugin registry as tests/qemu/run made it on the host:
	# made afresh in each unit's empty cache it takes most of
	# TimeoutStartSec= under TCG.
	[ -n "${GST_REGISTRY:-}" ] || return 0
	for d in hub "camera/$svc_id0" "camera/$svc_id1"; do
		install -d -o veracam -g veracam -m 0700 "/var/cache/veracam/$d" &&
		install -o veracam -g veracam -m 0600 "$GST_REGISTRY" \
			"/var/cache/veracam/$d/gst-registry.bin" || return 1
	done
}

# For tests/tools/demo's events part (none of the above uses them):
#   svc_camsock I           camera I's status socket (its unit's RuntimeDirectory)
#   svc_subdev ID           the sensor subdev (/dev/v4l-subdevN) whose read-only
#                           unique id control is ID
#   svc_get SOCKET EXPR     the Python expression EXPR over the status JSON
#                           d (e.g. 'd["motion"]["events"]'), printed; an empty
#                           line when the daemon does not answer or EXPR fails
svc_camsock() {
	local id
	eval "id=\$svc_id$1"
	echo "/run/veracam/camera/$id/status.sock"
}

svc_subdev() {
	local n
	for n in /dev/v4l-subdev*; do
		[ "$(v4l2-ctl -d "$n" --get-ctrl unique_id 2>/dev/null | sed -n "s/^unique_id: *//; s/'//gp")" = "$1" ] &&
			{ echo "$n"; return 0; }
	done
	return 1
}

svc_get() {
	local j
	j=$(veracamctl status "$1" 2>/dev/null) || { echo; return 0; }
	printf '%s' "$j" | python3 -c 'import json,sys
try:
	d = json.load(sys.stdin); v = eval(sys.argv[1])
	print(json.dumps(v) if isinstance(v, (dict, list, bool)) or v is None else v)
except Exception:
	print()' "$2" 2>/dev/null || echo
}
