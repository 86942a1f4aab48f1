#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The camera's event recorder end to end (TAP), with its real key holder:
# hub kitchen's encryption key reaches the camera over the session (a real
# `veracamd hub` connects once; the camera keeps the key in hub-enc/, 0600,
# as enc-binding prints it), after a paired hub's forged binding and, later,
# a second key in one session were refused, counted ("protocol") and
# kept nothing; hub hall's is pinned by hand with veracamctl enc-binding /
# enc-pin (a binding signed by another key is refused); a camera (its motion
# detector off: only these triggers) records an event for each `veracamctl event`
# (manual, then doorbell) into its spool; the envelopes carry manifests
# numbered 0 and 1, with their triggers, the second chained to the first
# by hash (the holder signed them in its chain, refusing nothing); the
# status counts them. Without a hub's encryption key nothing is written
# and the event is counted as no_recipient; with events off the request
# is refused. The hub opens each event (event_check: envelope, thumbnail,
# the clip as an MP4 GStreamer reads, every AU's record, signed through the
# holder, against the manifest), both hubs, offline when the events happened.
# Hub hall exports each event (veracamctl export: only with the camera
# pinned) into an MP4 that gst-discoverer-1.0
# (and ffprobe, when installed) reads, and veracamctl verify checks it
# offline; then each attack on the file (mp4edit.py) is fed and its refusal
# asserted: the last fragment cut (truncated), the file cut mid-fragment,
# a frame's byte flipped (refused at that frame), another camera's identity,
# a fragment of the other event spliced in (wrong-event), a fragment cut out
# or two reordered (sequence), the manifest replaced by another camera's.
#
# usage: test_events.sh VERACAMD VERACAMCTL EVENT_CHECK HUB_ENC_SEND
set -u
VD=$1 CTL=$2 CHECK=$3 SEND=$4
T=$(mktemp -d "${TMPDIR:-/tmp}/veracamd-events.XXXXXX")
PID= HPID= PORT=
. "$(dirname "$0")/tap.sh"

cleanup() {
	[ -n "$PID" ] && kill -KILL "$PID" 2>/dev/null
	[ -n "$HPID" ] && kill -KILL "$HPID" 2>/dev/null
	wait 2>/dev/null
	if [ "$fails" -ne 0 ]; then
		for f in "$T"/*.log; do echo "# --- $f"; tail -n 30 "$f" | diag; done
	fi
	rm -rf "$T"
}
trap cleanup EXIT

status() { "$CTL" status "$T/cam.sock" 2>/dev/null; }

start_camera() {
	"$VD" camera --keys "$T/cam" --name porch --source pattern:3060a0 --width 320 --height 240 \
		--fps 15 --listen "127.0.0.1:$PORT" --status-socket "$T/cam.sock" \
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
PORT=$(free_port)
"$CTL" keygen "$T/cam" >/dev/null && "$CTL" keygen "$T/hub" >/dev/null &&
	"$CTL" keygen "$T/hall" >/dev/null &&
	"$CTL" trust "$T/cam" kitchen "$("$CTL" identity "$T/hub")" --role hub --confirmed >/dev/null &&
	"$CTL" trust "$T/cam" hall "$("$CTL" identity "$T/hall")" --role hub --confirmed >/dev/null &&
	"$CTL" trust "$T/hub" porch "$("$CTL" identity "$T/cam")" --role camera --confirmed >/dev/null ||
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

# The hub's key over the session (PROTOCOL.md §5.4, type 4). First a paired
# hub that sends its encryption key with a binding another key signed.
send_bad() { "$SEND" "$T/hub" porch 127.0.0.1 "$PORT" "$1" >>"$T/send.log" 2>&1; }
check "a paired hub's encryption key signed by another key: the camera ends the session" \
	send_bad forged
refused() {	# COUNT LOGGED: "protocol" refusals counted so far, and why (in the log)
	wait_until 10 "d['rejected_peers'].get('protocol', 0) == $1" && grep -q "$2" "$T/cam.log"
}
check "... counts it among the refusals (protocol) and logs why" \
	refused 1 'not signed by its pinned device key'
check "... and keeps nothing for that hub" bash -c "[ ! -e '$T/cam/hub-enc/kitchen' ]"

"$VD" hub --keys "$T/hub" --camera "porch@127.0.0.1:$PORT" --display "y4m:$T/hub.y4m" \
	--output-size 320x240 --status-socket "$T/hub.sock" >>"$T/hub.log" 2>&1 &
HPID=$!
kept() {	# the camera keeps exactly what enc-binding prints on the hub
	local end=$((SECONDS + 30))
	while [ $SECONDS -lt $end ] && [ ! -e "$T/cam/hub-enc/kitchen" ]; do sleep 0.2; done
	[ "$(cat "$T/cam/hub-enc/kitchen" 2>/dev/null)" = "$("$CTL" enc-binding "$T/hub")" ] &&
		[ "$(stat -c %a "$T/cam/hub-enc/kitchen")" = 600 ]
}
check "a real hub connects with no enc-pin: the camera keeps its encryption key (0600), as enc-binding prints it" \
	kept
check "... and logs it" grep -q 'hub kitchen: encryption key veracam1:x25519:[0-9a-f]* kept' "$T/cam.log"
kill -TERM "$HPID" && wait "$HPID"
HPID=
INODE=$(stat -c %i "$T/cam/hub-enc/kitchen")
check "a second encryption key in one session ends it" send_bad twice
check "... counted (protocol: 2 now) and logged" refused 2 'second encryption key'
check "... and the kept key was not rewritten (the same bytes: no write)" \
	test "$(stat -c %i "$T/cam/hub-enc/kitchen")" = "$INODE"
stop_camera

# hall is offline: its key by hand (the manual path)
check "enc-pin keeps hall's encryption key" \
	bash -c "'$CTL' enc-pin '$T/cam' hall \"\$('$CTL' enc-binding '$T/hall')\" | grep -q 'sealed for hub hall' &&
		 [ \"\$(stat -c %a '$T/cam/hub-enc/hall')\" = 600 ]"

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
    assert m[2] == 2 and m[20:36].hex() == n.split("-")[1], n   # two recipients, its event id
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
hub_opens() {	# HUBDIR
	"$CHECK" "$T/cam/events" "$("$CTL" identity "$T/cam")" "$1" 320 240 >"$T/check.out" 2>&1
	local rc=$?
	diag <"$T/check.out"
	[ $rc = 0 ] && [ "$(grep -c 'frames verified' "$T/check.out")" = 2 ] &&
		# each clip spans at least its 1 s post-roll
		[ "$(grep -oE 'frames verified, [0-9.]+ s' "$T/check.out" |
			awk '$3 >= 1.0' | wc -l)" = 2 ]
}
check "hub kitchen (key sent over the session) opens both events: thumbnail, an MP4 GStreamer reads, every AU verified" \
	hub_opens "$T/hub"
check "hub hall (key pinned with enc-pin) opens both events" hub_opens "$T/hall"


# ---- export (the hub, with its keys and its pin of the camera) and offline verify ----
CAM_ID=$("$CTL" identity "$T/cam")
EDIT="python3 $(dirname "$0")/mp4edit.py"
spool_event() { ls "$T/cam/events" | grep "^0*$1-.*\.env\$"; }
# verify FILE [IDENTITY]: its output in $T/verify.out, its exit status in $T/verify.rc
verify() {
	"$CTL" verify "$1" --camera "${2:-$CAM_ID}" >"$T/verify.out" 2>&1
	echo $? >"$T/verify.rc"
	diag <"$T/verify.out" | tail -n 3
}

check "export without the camera pinned on the hub: rejected (wrong-camera), nothing written" \
	bash -c "'$CTL' export '$T/hall' '$T/cam/events/$(spool_event 0)' '$T/e0.mp4' >'$T/x.out' 2>&1;
		 [ \$? = 3 ] && grep -q 'rejected: wrong-camera' '$T/x.out' && [ ! -e '$T/e0.mp4' ]"
"$CTL" trust "$T/hall" porch "$CAM_ID" --role camera --confirmed >/dev/null
exported() {
	"$CTL" export "$T/hall" "$T/cam/events/$(spool_event "$1")" "$T/e$1.mp4" >"$T/x.out" 2>&1
	local rc=$?
	diag <"$T/x.out"
	[ $rc = 0 ] && grep -q "^exported event $1 of camera porch: .* frames verified.*thumbnail included" "$T/x.out"
}
check "export: the hub opens event 0 and writes a verified MP4" exported 0
check "export: event 1" exported 1
check "export of event 0's envelope with event 1's clip: rejected (decrypt)" \
	bash -c "mkdir '$T/mix' && e0=\$(ls '$T/cam/events' | grep '^0*0-.*\.env\$') &&
		 e1=\$(ls '$T/cam/events' | grep '^0*1-.*\.env\$') &&
		 cp '$T/cam/events/'\$e0 '$T/mix/' && cp '$T/cam/events/'\${e0%.env}.thumb '$T/mix/' &&
		 cp '$T/cam/events/'\${e1%.env}.clip '$T/mix/'\${e0%.env}.clip &&
		 ! '$CTL' export '$T/hall' '$T/mix' '$T/mix.mp4' >'$T/x.out' 2>&1 &&
		 grep -q 'rejected: decrypt' '$T/x.out' && [ ! -e '$T/mix.mp4' ]"

verify "$T/e0.mp4"
N0=$(grep -c '^frame [0-9]*: sequence [0-9]*, captured .*: ok$' "$T/verify.out")
check "verify: the export is ok, every frame listed ok, exit 0" \
	bash -c "[ \$(cat '$T/verify.rc') = 0 ] &&
		 grep -q '^file: ok: $N0 of $N0 frames signed, chained and bound to the manifest' '$T/verify.out' &&
		 grep -q 'recipients not checked offline' '$T/verify.out' && [ $N0 -ge 10 ]"
check "verify: frame 0 is sequence 0, an IDR" grep -q '^frame 0: sequence 0, captured 20[0-9-]*T[0-9:.]*Z (IDR), fragment 0: ok$' "$T/verify.out"
discovered() {
	gst-discoverer-1.0 "$T/e0.mp4" >"$T/disc.out" 2>&1
	local rc=$?
	diag <"$T/disc.out" | grep -E 'video|Width|Height|Duration|error'
	[ $rc = 0 ] && grep -q 'video #[0-9]*: H.264' "$T/disc.out" && grep -q 'Width: 320$' "$T/disc.out" &&
		grep -q 'Height: 240$' "$T/disc.out" && ! grep -qi 'error' "$T/disc.out"
}
if command -v gst-discoverer-1.0 >/dev/null; then
	check "gst-discoverer-1.0 reads the export as H.264 video 320x240" discovered
else
	ok "gst-discoverer-1.0 reads the export # SKIP gstreamer1.0-plugins-base-apps is not installed"
fi
if command -v ffprobe >/dev/null; then
	check "ffprobe reads the export as one h264 stream" \
		bash -c "ffprobe -v error -show_entries stream=codec_name -of csv=p=0 '$T/e0.mp4' | grep -qx h264"
else
	ok "ffprobe reads the export # SKIP ffprobe is not installed"
fi

$EDIT "$T/e0.mp4" "$T/cut.mp4" cut-fragment
verify "$T/cut.mp4"
check "attack: the last fragment cut off -> truncated (exit 3)" \
	bash -c "[ \$(cat '$T/verify.rc') = 3 ] && grep -q '^file: truncated: [0-9]* of $N0 frames' '$T/verify.out'"
$EDIT "$T/e0.mp4" "$T/cut2.mp4" cut-bytes 3000
verify "$T/cut2.mp4"
check "attack: the file cut inside its last fragment -> truncated" \
	bash -c "[ \$(cat '$T/verify.rc') = 3 ] && grep -q '^file: truncated: .*(the file ends inside a box)' '$T/verify.out'"
K=$((N0 / 2))
$EDIT "$T/e0.mp4" "$T/flip.mp4" flip $K
verify "$T/flip.mp4"
check "attack: one byte of frame $K flipped -> rejected at frame $K (au-hash), the frames before it ok" \
	bash -c "[ \$(cat '$T/verify.rc') = 3 ] && grep -q '^file: rejected: au-hash at frame $K ($K frames before it verified)' '$T/verify.out' &&
		 grep -q '^frame $K: sequence $K, .*: au-hash$' '$T/verify.out' &&
		 [ \$(grep -c ': ok$' '$T/verify.out') = $K ]"
verify "$T/e0.mp4" "$("$CTL" identity "$T/hub")"
check "attack: verified against another camera's identity -> rejected (wrong-camera)" \
	bash -c "[ \$(cat '$T/verify.rc') = 3 ] && grep -q '^file: rejected: wrong-camera' '$T/verify.out'"
$EDIT "$T/e0.mp4" "$T/splice.mp4" splice "$T/e1.mp4" 1
F1=$($EDIT "$T/e0.mp4" - frames-in 1)
verify "$T/splice.mp4"
check "attack: event 1's fragment spliced into event 0 -> rejected (wrong-event) at frame $F1" \
	bash -c "[ \$(cat '$T/verify.rc') = 3 ] && grep -q '^file: rejected: wrong-event at frame $F1 ' '$T/verify.out'"
$EDIT "$T/e0.mp4" "$T/drop.mp4" drop-fragment 1
verify "$T/drop.mp4"
check "attack: a fragment cut out of the middle -> rejected (sequence) at frame $F1" \
	bash -c "[ \$(cat '$T/verify.rc') = 3 ] && grep -q '^file: rejected: sequence at frame $F1 ' '$T/verify.out'"
$EDIT "$T/e0.mp4" "$T/swap.mp4" swap-fragments 1 2
verify "$T/swap.mp4"
check "attack: two fragments reordered -> rejected (sequence) at frame $F1" \
	bash -c "[ \$(cat '$T/verify.rc') = 3 ] && grep -q '^file: rejected: sequence at frame $F1 ' '$T/verify.out'"
# what a player would show other than the frames verified (each verified ok before session 11)
malformed() {
	[ "$(cat "$T/verify.rc")" = 3 ] && grep -q '^file: rejected: malformed: ' "$T/verify.out" &&
		! grep -q '^file: ok' "$T/verify.out"
}
$EDIT "$T/e0.mp4" "$T/elst.mp4" edit-list 3000
verify "$T/elst.mp4"
check "attack: an edit list starting playback 3 s in -> rejected (malformed)" malformed
$EDIT "$T/e0.mp4" "$T/track2.mp4" track2
verify "$T/track2.mp4"
check "attack: every fragment of track 2 (none: nothing shown) -> rejected (malformed)" malformed
$EDIT "$T/e0.mp4" "$T/dur.mp4" durations 0
verify "$T/dur.mp4"
check "attack: fragment 0's frames lasting 1 unit each -> rejected (malformed)" malformed
HK=$($EDIT "$T/e0.mp4" - fragment-with 2)
FH=$($EDIT "$T/e0.mp4" - frames-in "${HK:-1}")
$EDIT "$T/e0.mp4" "$T/hold.mp4" hold "${HK:-1}"
verify "$T/hold.mp4"
check "attack: fragment $HK's first frame held, the others flashed past (durations moved, tfdt kept) -> rejected (timing) at frame $((FH + 1))" \
	bash -c "[ \$(cat '$T/verify.rc') = 3 ] && grep -q '^file: rejected: timing at frame $((FH + 1)) ' '$T/verify.out'"
$EDIT "$T/e0.mp4" "$T/moovs.mp4" moov-samples
verify "$T/moovs.mp4"
check "attack: frames listed in moov's sample table, played first -> rejected (malformed)" malformed
$EDIT "$T/e0.mp4" "$T/tail.mp4" tail
verify "$T/tail.mp4"
check "attack: a fragment appended, its mdat past the end -> truncated, not ok" \
	bash -c "[ \$(cat '$T/verify.rc') = 3 ] && ! grep -q '^file: ok' '$T/verify.out' &&
		 grep -q '^file: truncated: $N0 of $N0 frames, .*(the file ends inside a box)' '$T/verify.out'"
FORGER=$($EDIT "$T/e0.mp4" "$T/forged.mp4" forge-manifest)
verify "$T/forged.mp4"
check "attack: the manifest replaced by another camera's (signed by it) -> rejected (wrong-camera)" \
	bash -c "[ \$(cat '$T/verify.rc') = 3 ] && grep -q '^file: rejected: wrong-camera$' '$T/verify.out'"
verify "$T/forged.mp4" "$FORGER"
check "... and checked as that camera's: its manifest verifies, frame 0 is not its (wrong-camera)" \
	bash -c "[ \$(cat '$T/verify.rc') = 3 ] && grep -q '^manifest: camera ' '$T/verify.out' &&
		 grep -q '^file: rejected: wrong-camera at frame 0 ' '$T/verify.out'"
check "verify: bad usage exits 2" bash -c "'$CTL' verify '$T/e0.mp4' 2>/dev/null; [ \$? = 2 ] &&
	{ '$CTL' verify '$T/e0.mp4' --camera nonsense 2>/dev/null; [ \$? = 2 ]; }"
check "SIGTERM: the camera exits 0" stop_camera

start_camera --events false
check "events off: 'event' is refused and the status says off" \
	bash -c "! '$CTL' event '$T/cam.sock' 2>'$T/off.err' && grep -q 'events are off' '$T/off.err' &&
		 '$CTL' status '$T/cam.sock' | grep -q '\"events\": { \"state\": \"off\"'"
stop_camera

echo "1..$n"
[ "$fails" -eq 0 ]
