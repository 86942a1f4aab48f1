#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The camera's event recorder end to end (TAP), with its real key holder:
# a hub's encryption key is pinned with veracamctl enc-binding / enc-pin
# (a binding signed by another key is refused); a camera (its motion
# detector off: only these triggers) records an event for each `veracamctl event`
# (manual, then doorbell) into its spool; the envelopes carry manifests
# numbered 0 and 1, with their triggers, the second chained to the first
# by hash (the holder signed them in its chain, refusing nothing); the
# status counts them. Without a hub's encryption key nothing is written
# and the event is counted as no_recipient; with events off the request
# is refused. The hub opens each event (event_check: envelope, thumbnail,
# the clip as an MP4 GStreamer reads, every AU's record, signed through the
# holder, against the manifest).
#
# usage: test_events.sh VERACAMD VERACAMCTL EVENT_CHECK
set -u
VD=$1 CTL=$2 CHECK=$3
T=$(mktemp -d "${TMPDIR:-/tmp}/veracamd-events.XXXXXX")
PID=
. "$(dirname "$0")/tap.sh"

cleanup() {
	[ -n "$PID" ] && kill -KILL "$PID" 2>/dev/null
	wait 2>/dev/null
	if [ "$fails" -ne 0 ]; then
		for f in "$T"/*.log; do echo "# --- $f"; tail -n 30 "$f" | diag; done
	fi
	rm -rf "$T"
}
trap cleanup EXIT

status() { "$CTL" status "$T/cam.sock" 2>/dev/null; }
wait_until() {
	local end=$((SECONDS + $1))
	while [ $SECONDS -lt "$end" ]; do
		[ "$(status | json "$2" 2>/dev/null)" = True ] && return 0
		sleep 0.2
	done
	return 1
}

start_camera() {
	"$VD" camera --keys "$T/cam" --name porch --source pattern:3060a0 --width 320 --height 240 \
		--fps 15 --listen "127.0.0.1:$(free_port)" --status-socket "$T/cam.sock" \
		--event-pre-roll 1s --event-post-roll 1s --motion false "$@" >>"$T/cam.log" 2>&1 &
	PID=$!
	wait_until 30 'd["ready"]'
}

stop_camera() {
	kill -TERM "$PID" && wait "$PID"
	local rc=$?
	PID=
	return $rc
}

echo "TAP version 13"
"$CTL" keygen "$T/cam" >/dev/null && "$CTL" keygen "$T/hub" >/dev/null &&
	"$CTL" trust "$T/cam" kitchen "$("$CTL" identity "$T/hub")" --role hub --confirmed >/dev/null ||
	exit 1

check "enc-pin refuses a binding the pinned hub did not sign" \
	bash -c "! '$CTL' enc-pin '$T/cam' kitchen \"\$('$CTL' enc-binding '$T/cam')\" 2>'$T/pin.err' &&
		 grep -q 'not the pinned hub' '$T/pin.err' && [ ! -e '$T/cam/hub-enc/kitchen' ]"

# no hub's encryption key yet: an event is counted, nothing written
start_camera
sleep 1.5
"$CTL" event "$T/cam.sock" >/dev/null
check "without a hub's encryption key an event is counted as no_recipient" \
	wait_until 20 'd["events"]["no_recipient"] == 1 and d["events"]["written"] == 0'
check "... and nothing is in the spool" bash -c "[ -z \"\$(ls -A '$T/cam/events')\" ]"
stop_camera

check "enc-pin keeps the hub's encryption key" \
	bash -c "'$CTL' enc-pin '$T/cam' kitchen \"\$('$CTL' enc-binding '$T/hub')\" | grep -q 'sealed for hub kitchen' &&
		 [ \"\$(stat -c %a '$T/cam/hub-enc/kitchen')\" = 600 ]"

start_camera
sleep 2		# the pre-roll ring fills
check "veracamctl event: the camera answers" \
	bash -c "'$CTL' event '$T/cam.sock' | grep -q 'manual event triggered'"
check "the manual event is written into the spool" \
	wait_until 20 'd["events"]["written"] == 1 and d["events"]["state"] == "idle"'
check "veracamctl event doorbell" \
	bash -c "'$CTL' event '$T/cam.sock' doorbell | grep -q 'doorbell event triggered'"
check "the doorbell event is written" wait_until 20 'd["events"]["written"] == 2'
check "veracamctl event with another trigger is refused" \
	bash -c "! '$CTL' event '$T/cam.sock' bell 2>/dev/null"
# The pre-roll is not counted on: a capture device reopened under load
# empties the ring (seen under ASan beside a second CI run: 28 frames in
# 2.5 s); camera-recorder checks the pre-roll exactly. At least the 1 s
# post-roll's frames must be there (hub_opens checks its time span).
check "status: two clips ended by their post-roll, none dropped or failed, the last is number 1" \
	wait_until 5 'd["events"]["ended"]["post_roll"] == 2 and d["events"]["failed"] == 0 and d["events"]["queue_dropped"] == 0 and d["events"]["last"]["number"] == 1 and d["events"]["last"]["frames"] >= 10 and d["events"]["spool"]["events"] == 2'
check "the key holder refused none of the recorder's requests" \
	wait_until 5 'd["key_holder_refused"] == 0'

# the envelopes in the clear: header, then the manifest (PROTOCOL.md §15.3, §15.5)
manifests() {
	python3 - "$T/cam/events" <<'PY'
import hashlib, os, sys
d = sys.argv[1]
names = sorted(f[:-4] for f in os.listdir(d) if f.endswith(".env"))
assert len(names) == 2, names
for f in os.listdir(d):
    assert f[: f.rindex(".")] in names and f.rsplit(".", 1)[1] in ("env", "thumb", "clip"), f
    assert os.stat(os.path.join(d, f)).st_mode & 0o077 == 0, f
mans = []
for n in names:
    env = open(os.path.join(d, n + ".env"), "rb").read()
    mlen = int.from_bytes(env[4:6], "big")
    m = env[8 : 8 + mlen]
    mans.append(m)
    assert m[2] == 1 and m[20:36].hex() == n.split("-")[1], n   # one recipient, its event id
    assert int(n.split("-")[0]) == int.from_bytes(m[36:44], "big"), n
    assert os.path.getsize(os.path.join(d, n + ".clip")) > 1000, n
    assert m[1] & 1 and os.path.exists(os.path.join(d, n + ".thumb")), n
a, b = mans
assert int.from_bytes(a[36:44], "big") == 0 and a[3] == 2, "event 0, manual"
assert int.from_bytes(b[36:44], "big") == 1 and b[3] == 3, "event 1, doorbell"
assert a[160:192] == bytes(32), "event 0 has no previous manifest"
assert b[160:192] == hashlib.sha256(a).digest(), "event 1 chains to event 0"
PY
}
check "the spool: events 0 (manual) and 1 (doorbell), each with its clip and thumbnail, 1 chained to 0" \
	manifests
hub_opens() {
	"$CHECK" "$T/cam/events" "$("$CTL" identity "$T/cam")" "$T/hub" 320 240 >"$T/check.out" 2>&1
	local rc=$?
	diag <"$T/check.out"
	[ $rc = 0 ] && [ "$(grep -c 'frames verified' "$T/check.out")" = 2 ] &&
		# each clip spans at least its 1 s post-roll
		[ "$(grep -oE 'frames verified, [0-9.]+ s' "$T/check.out" |
			awk '$3 >= 1.0' | wc -l)" = 2 ]
}
check "the hub opens both events: thumbnail, an MP4 GStreamer reads, every AU verified" hub_opens
check "SIGTERM: the camera exits 0" stop_camera

start_camera --events false
check "events off: 'event' is refused and the status says off" \
	bash -c "! '$CTL' event '$T/cam.sock' 2>'$T/off.err' && grep -q 'events are off' '$T/off.err' &&
		 '$CTL' status '$T/cam.sock' | grep -q '\"events\": { \"state\": \"off\"'"
stop_camera

echo "1..$n"
[ "$fails" -eq 0 ]
