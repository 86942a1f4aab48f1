#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# veracam_i2c.sh - the sensor's I2C probe path on i2c-stub and its async
# binding to the receiver, KTAP:
#   - a chip that answers with another chip id is refused (no sensor, no
#     media device for that camera) and the probe says why;
#   - the unique id is what the sensor's OTP registers hold: written with
#     tests/vc1-stub, read back as the media device's serial and as the
#     sensor subdev's control;
#   - the sensor unbound from its driver while the receiver stays and a
#     capture node is open: the sensor leaves the graph, the receiver's
#     nodes stay; bound again, it is linked again and streams.
# Needs root, $VERACAM_KO and $VC1_KO (the guest bench sets them).
here=$(cd "$(dirname "$0")" && pwd)
# The paths below are the repository's: kselftest's runner starts each test
# in its own directory.
cd "$here/.." || exit 1
ntests=8
. "$here/ktap.sh"

ko=${VERACAM_KO:-driver/veracam.ko}
sko=${VC1_KO:-driver/vc1.ko}
ID=0badcafe00112233445566778899aabb
[ "$(id -u)" -eq 0 ] || skip_rest "must run as root"
for tool in media-ctl v4l2-ctl insmod rmmod python3; do
	command -v "$tool" >/dev/null || skip_rest "no $tool"
done
[ -r "$ko" ] && [ -r "$sko" ] || skip_rest "no modules: set VERACAM_KO and VC1_KO"

# media device of camera N ("platform:veracam.N"), empty when none
media_of() {
	for m in /dev/media*; do
		[ -c "$m" ] || continue
		media-ctl -d "$m" -p 2>/dev/null | grep -q "^bus info[[:space:]]*platform:veracam.$1\$" &&
			echo "$m" && return
	done
}
reload() {
	rmmod veracam 2>/dev/null
	insmod "$ko" "$@" && udevadm settle 2>/dev/null
	sleep 1
}
field() { media-ctl -d "$1" -p 2>/dev/null | sed -n "s/^$2[[:space:]]*//p"; }
sensor_node() {
	media-ctl -d "$1" -p 2>/dev/null |
		awk '/subtype Sensor/ { s = 1 } s && /device node name/ { print $4; exit }'
}
video_node() {
	media-ctl -d "$1" -p 2>/dev/null |
		awk '/^- entity [0-9]*: veracam video/ { s = 1 } s && /device node name/ { print $4; exit }'
}

dmesg -C 2>/dev/null
# 1-2: another chip at camera 0's address
tests/vc1-stub --only 0 --chip-id 0x1234
reload num_cameras=2
m0=$(media_of 0)
m1=$(media_of 1)
result "$([ -z "$m0" ] && [ -n "$m1" ]; echo $?)" \
	"chip id 0x1234 at 0x10: camera 0 has no media device, camera 1 has (${m1:-none})"
dmesg | grep 'vc1 .*-0010: .*chip id 0x1234, expected 0x56c1' >/tmp/vc1-probe.log
result "$([ -s /tmp/vc1-probe.log ]; echo $?)" "the probe refused it: chip id 0x1234, expected 0x56c1"
diag /tmp/vc1-probe.log

# 3-4: the unique id comes from the registers
tests/vc1-stub "$ID"
reload num_cameras=1
m0=$(media_of 0)
serial=$([ -n "$m0" ] && field "$m0" serial)
result "$([ "$serial" = "$ID" ]; echo $?)" "media device serial is the OTP id $ID (got ${serial:-none})"
sd=$([ -n "$m0" ] && sensor_node "$m0")
ctrl=$([ -n "$sd" ] && v4l2-ctl -d "$sd" --get-ctrl unique_id 2>/dev/null | sed "s/^unique_id: //; s/'//g")
result "$([ "$ctrl" = "$ID" ]; echo $?)" "sensor subdev $sd unique id control is $ID (got ${ctrl:-none})"
tests/vc1-stub
reload num_cameras=1

# 5-8: the sensor is unbound from its driver and bound again under the
# receiver (rmmod vc1 is refused while a receiver holds the subdev, as
# for any sensor bound to a SoC's receiver)
m0=$(media_of 0)
vid=$([ -n "$m0" ] && video_node "$m0")
client=$(basename "$(readlink -f /sys/bus/i2c/drivers/vc1/*-0010 2>/dev/null)")
exec 3<"${vid:-/dev/null}"
rc=0
echo "$client" >/sys/bus/i2c/drivers/vc1/unbind || rc=1
sleep 1
left=$([ -n "$m0" ] && sensor_node "$m0")
result "$([ $rc -eq 0 ] && [ -z "$left" ] && [ -n "$vid" ] && [ -c "$vid" ]; echo $?)" \
	"vc1 unbound from $client with $vid open: the sensor left the graph, the receiver's nodes stay"
# (v4l2-ctl prints "<" per frame and exits 0 even when STREAMON fails)
v4l2-ctl -d "${vid:-/dev/null}" --stream-mmap --stream-count=1 >/tmp/vc1-nostream.log 2>&1
result "$(! grep -q '<' /tmp/vc1-nostream.log && grep -q 'STREAMON' /tmp/vc1-nostream.log; echo $?)" \
	"without a sensor the capture node does not stream (STREAMON refused)"
diag /tmp/vc1-nostream.log
exec 3<&-
echo "$client" >/sys/bus/i2c/drivers/vc1/bind
sleep 1
back=$([ -n "$m0" ] && sensor_node "$m0")
result "$([ -n "$back" ]; echo $?)" "vc1 bound again: the sensor is back in the graph (${back:-none})"
v4l2-ctl -d "${vid:-/dev/null}" --set-fmt-video=width=640,height=480,pixelformat=YUYV \
	--stream-mmap --stream-count=3 >/tmp/vc1-stream.log 2>&1
result $? "and the capture node streams 3 frames from it"
diag /tmp/vc1-stream.log

problems=$(dmesg | grep -cE 'Oops|WARNING:|BUG:|general protection|refcount_t:')
[ "$problems" -eq 0 ] || dmesg | grep -E 'Oops|WARNING:|BUG:' | head -5 | sed 's/^/# /'
echo "# kernel log: $problems oops/WARN/BUG lines"
[ "$problems" -eq 0 ] || failed=$((failed + 1))
ktap_finish
