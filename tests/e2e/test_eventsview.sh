#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The hub's events view end to end (TAP, issue 17), on real parts: two
# pattern cameras (porch red, garden blue) uploading their events to a real
# nginx store (tests/store/nginx-store), one hub writing y4m with
# --event-store on the store's cache. The hub fetches each camera's newest
# events into KEYDIR/event-cache; `veracamctl events show` puts each
# camera's newest verified thumbnails in its cell (2x2 tiles, newest
# first), each tile classified by its pixels (y4m.py tiles): own (the
# camera's colour, with its time badge), the hub's placeholder, black or
# foreign (never). `events play` shows the clip's frames full screen, each
# verified before it is decoded, then returns to the events view; `events
# live` to the live view. Attacks, each a placeholder (or a gap: the hub's
# own screen), a counted reason, and no foreign pixel: a thumbnail swapped
# in the store with another camera's, and with another event's of the
# same camera; a clip of event N served as event M; a tampered cache file
# on the hub's disk (its thumbnail, then its clip). Skips when nginx is not
# installed.
#
# The clip's own frame checks are reached only with an event's content key
# (the AEAD refuses anything else first): event_tamper, with the hub's keys
# standing in for such an attacker, changes one AU's bytes, and puts event
# 0's clip (its records signed for event 0) under event 1's key.
#
# usage: test_eventsview.sh VERACAMD VERACAMCTL NGINX_STORE Y4M_PY EVENT_TAMPER
set -u
VD=$1 CTL=$2 NGS=$3 Y4M=$4 TAMPER=$5
T=$(mktemp -d "${TMPDIR:-/tmp}/veracamd-evview.XXXXXX")
chmod 755 "$T"
declare -A PID
. "$(dirname "$0")/tap.sh"

echo "TAP version 13"
if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then
	echo "1..0 # SKIP nginx is not installed (tests/tools/deps installs it)"
	exit 0
fi

cleanup() {
	for p in "${PID[@]}"; do kill -KILL "$p" 2>/dev/null; done
	"$NGS" stop "$T/s" 2>/dev/null
	wait 2>/dev/null
	if [ "$fails" -ne 0 ]; then
		for f in "$T"/*.log "$T"/s/error.log; do echo "# --- $f"; tail -n 30 "$f" | diag; done
	fi
	[ -n "${KEEP_EVVIEW_TEST:-}" ] || rm -rf "$T"
}
trap cleanup EXIT

status() { "$CTL" status "$T/$1.sock" 2>/dev/null; }
hubev() { status hub | json "d['events']$1"; }

start_camera() {	# NAME COLOUR
	"$VD" camera --keys "$T/$1" --name "$1" --source "pattern:$2" --width 320 --height 240 \
		--fps 15 --bitrate 400k --listen "127.0.0.1:${PORT[$1]}" --status-socket "$T/$1.sock" \
		--event-pre-roll 1s --event-post-roll 1s --motion false \
		--event-store "$STORE/events" --event-store-timeout 2s \
		--event-store-backoff-max 1s >>"$T/$1.log" 2>&1 &
	PID[$1]=$!
	wait_for 30 "$1" 'd["ready"]'
}
start_hub() {
	"$VD" hub --keys "$T/hub" --camera "porch@127.0.0.1:${PORT[porch]}" \
		--camera "garden@127.0.0.1:${PORT[garden]}" --display "y4m:$T/hub.y4m" \
		--output-size 640x480 --status-socket "$T/hub.sock" \
		--event-store "$CACHE/events" >>"$T/hub.log" 2>&1 &
	PID[hub]=$!
	wait_for 30 hub 'd["ready"]'
}
# record CAMERA N: one event, uploaded (the camera's uploaded count reaches N)
record() {
	"$CTL" event "$T/$1.sock" >/dev/null &&
		wait_for 30 "$1" "d['events']['uploaded'] == $2 and d['events']['state'] == 'idle'"
}
# tiles: the newest frame's tiles (thumbnails 320x240), one "camI tileK CLASS" a line
tiles() { python3 "$Y4M" tiles "$T/hub.y4m" 320 240 ff0000 0000ff; }
# want "cam0 tile0 own+badge ..." within 30 s; the last tiles seen in $T/tiles
want_tiles() {
	local end=$((SECONDS + 30)) got
	while [ $SECONDS -lt $end ]; do
		got=$(tiles 2>/dev/null | tr '\n' ' ')
		echo "$got" >"$T/tiles"
		[ "${got% }" = "$1" ] && return 0
		sleep 0.3
	done
	echo "# tiles: $(cat "$T/tiles")"
	return 1
}
foreign0() { ! grep -q foreign "$T/tiles"; }
rejected() { status hub | json "d['events']['rejected'].get('$1', 0)"; }
# classify the full-screen frames the hub wrote from frame $1 on (the clip view)
clip_frames() {
	python3 - "$T/hub.y4m" "$1" <<'EOF'
import os, sys
sys.path.insert(0, os.path.join(os.environ['VERACAM_SRC'], 'tests', 'lib'))
import hubscreen as hs
red = hs.parse_colour('ff0000')
n = {}
for fr in hs.y4m_frames(sys.argv[1], int(sys.argv[2])):
    cell = hs.layout(fr.w, fr.h, 1, fr.align)[0].fit(320, 240)
    if hs.own(fr, cell, red):
        c = 'own'
    elif hs.unavailable(fr, cell):
        c = 'placeholder'
    else:
        # the events view's grid, or a foreign picture: a grid frame has
        # the cells' black or tiles; a full-screen picture of another
        # colour is foreign
        blue = hs.parse_colour('0000ff')
        c = 'foreign' if hs.own(fr, cell, blue) else 'other'
    n[c] = n.get(c, 0) + 1
print(' '.join('%s=%d' % kv for kv in sorted(n.items())))
EOF
}
frames() { python3 -c 'import os, sys; sys.path.insert(0, os.path.join(os.environ["VERACAM_SRC"], "tests", "lib")); import hubscreen as hs; print(hs.y4m_count(sys.argv[1]))' "$T/hub.y4m"; }
# first_gets KID: the event numbers of KID's envelopes in the order the store
# was first asked for each (its access log: GETs only, the hub's)
first_gets() {
	grep -o "\"GET /events/$1/[0-9]*-[^ ]*\.env " "$T/s/access.log" |
		sed 's|.*/0*\([0-9][0-9]*\)-.*|\1|' | awk '!seen[$0]++'
}
export VERACAM_SRC=${VERACAM_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}

declare -A PORT
PORT[porch]=$(free_port)
PORT[garden]=$(free_port)
"$CTL" keygen "$T/hub" >/dev/null || exit 1
for c in porch garden; do
	"$CTL" keygen "$T/$c" >/dev/null &&
		"$CTL" trust "$T/$c" kitchen "$("$CTL" identity "$T/hub")" --role hub --confirmed >/dev/null &&
		"$CTL" trust "$T/hub" "$c" "$("$CTL" identity "$T/$c")" --confirmed >/dev/null &&
		"$CTL" enc-pin "$T/$c" kitchen "$("$CTL" enc-binding "$T/hub")" >/dev/null || exit 1
done
PKID=$("$CTL" identity "$T/porch" --key-id)
GKID=$("$CTL" identity "$T/garden" --key-id)
read -r STORE CACHE < <("$NGS" start "$T/s")
check "nginx-store starts a store and a cache" test -n "${CACHE:-}"
SDIR=$T/s/store/events

check "porch (red) and garden (blue) start" bash -c "true" &&
	start_camera porch ff0000 && start_camera garden 0000ff || exit 1
check "the hub starts with --event-store on the cache, in the live view" start_hub
check "its status: events view live, the store on" \
	wait_for 5 hub 'd["events"]["view"] == "live" and d["events"]["store"]'
out=$("$CTL" events show --socket "$T/hub.sock")
check "events show before any event is cached: $out" test "$out" = "events view"
check "... every tile black" \
	want_tiles "cam0 tile0 black cam0 tile1 black cam0 tile2 black cam0 tile3 black cam1 tile0 black cam1 tile1 black cam1 tile2 black cam1 tile3 black"
check "... and back: events live" bash -c "[ \"\$('$CTL' events live --socket '$T/hub.sock')\" = 'live view' ]"
sleep 2		# the pre-roll rings fill
check "porch: events 0 and 1 recorded and uploaded" bash -c "true" && record porch 1 && record porch 2
check "garden: event 0 recorded and uploaded" record garden 1

# 1. the events view: each camera's newest verified thumbnails
out=$("$CTL" events show --socket "$T/hub.sock")
check "veracamctl events show: $out" test "$out" = "events view"
check "the hub fetched the 3 events into its cache (KEYDIR/event-cache/KEYID, 0600)" \
	wait_for 60 hub 'd["events"]["fetched"] >= 3'
check "cache files: porch 2 events, garden 1, each .env .thumb .clip, mode 0600" \
	bash -c "[ \$(ls '$T/hub/event-cache/$PKID' | wc -l) = 6 ] && [ \$(ls '$T/hub/event-cache/$GKID' | wc -l) = 3 ] &&
		[ -z \"\$(find '$T/hub/event-cache' -type f ! -perm 0600)\" ]"
check "tiles: porch's 2 thumbnails and garden's 1, own with their time badges; the rest black" \
	want_tiles "cam0 tile0 own+badge cam0 tile1 own+badge cam0 tile2 black cam0 tile3 black cam1 tile0 own+badge cam1 tile1 black cam1 tile2 black cam1 tile3 black"
check "no tile foreign" foreign0
check "3 thumbnails shown, none refused" \
	wait_for 5 hub 'd["events"]["thumbnails_shown"] >= 3 and d["events"]["rejected"]["total"] == 0'
check "live sessions keep running in the events view" \
	bash -c "a=\$(\"$CTL\" status '$T/hub.sock' | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"cameras\"][0][\"received\"])'); sleep 1.5;
		b=\$(\"$CTL\" status '$T/hub.sock' | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"cameras\"][0][\"received\"])'); [ \$b -gt \$a ]"

# 2. play porch's event 1: its frames full screen, then back to the events view
F0=$(frames)
out=$("$CTL" events play porch 1 --socket "$T/hub.sock")
check "veracamctl events play porch 1: $out" bash -c "echo '$out' | grep -q '^playing event 1 of porch'"
check "the clip played: frames verified, decoded and shown, back to the events view" \
	wait_for 60 hub 'd["events"]["clip_frames_shown"] > 0 and d["events"]["view"] == "events" and d["events"]["clips_played"] == 1'
cf=$(clip_frames "$F0")
check "the clip's frames on screen are porch's own ($cf), none foreign" \
	bash -c "echo '$cf' | grep -q 'own=[1-9]' && ! echo '$cf' | grep -q foreign"
nf=$(echo "$out" | sed -n 's/.*(\([0-9]*\) frames)$/\1/p')
check "the clip's $nf frames all verified and decoded, nothing refused" \
	bash -c "[ -n '$nf' ] && [ \$(\"$CTL\" status '$T/hub.sock' | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"events\"][\"clip_frames\"])') = '$nf' ] && [ $(rejected total) = 0 ]"
"$CTL" events play porch 7 --socket "$T/hub.sock" >"$T/out" 2>&1
rc=$?
check "events play of an event not in the cache: exit 1, said" \
	bash -c "[ $rc = 1 ] && grep -q 'no event 7' '$T/out'"
"$CTL" events play attic 0 --socket "$T/hub.sock" >"$T/out" 2>&1
check "events play of an unknown camera: said" grep -q "no camera attic" "$T/out"
"$CTL" events show --socket "$T/nowhere.sock" >"$T/out" 2>&1
rc=$?
check "hub not running: exit 1, said" bash -c "[ $rc = 1 ] && grep -qi 'connect\\|no such' '$T/out'"

# 3. attacks
# a. thumbnails swapped with another camera's and with another event's: the
#    store down, porch records events 2 and 3; in its spool (uploaded as they
#    are, so the store serves exactly these) event 2's thumbnail is garden's
#    event 0's and event 3's is porch's own event 0's; the store back, both
#    uploaded, then event 4 as recorded
"$NGS" stop "$T/s"
record_offline() { "$CTL" event "$T/$1.sock" >/dev/null && wait_for 30 "$1" "d['events']['written'] == $2 and d['events']['state'] == 'idle'"; }
check "porch: events 2 and 3 recorded while the store is down" \
	bash -c "true" && record_offline porch 3 && record_offline porch 4
SP=$T/porch/events
ev2=$(cd "$SP" && ls | grep '^0*2-.*\.thumb$')
ev3=$(cd "$SP" && ls | grep '^0*3-.*\.thumb$')
cp "$SDIR/$GKID/$(cd "$SDIR/$GKID" && ls | grep '^0*0-.*\.thumb$')" "$SP/$ev2"
cp "$SDIR/$PKID/$(cd "$SDIR/$PKID" && ls | grep '^0*0-.*\.thumb$')" "$SP/$ev3"
read -r STORE CACHE < <("$NGS" start "$T/s" "${STORE##*:}" "${CACHE##*:}")
check "porch: events 2 and 3 uploaded when the store is back" \
	wait_for 60 porch 'd["events"]["uploaded"] == 4'
check "porch: event 4 recorded and uploaded" record porch 5
"$CTL" events show --socket "$T/hub.sock" >/dev/null
check "both swapped thumbnails refused at the fetch, not cached: decrypt 2 counted" \
	wait_for 60 hub 'd["events"]["rejected"].get("decrypt", 0) == 2 and d["events"]["fetched"] == 4'
check "porch's tiles: 4, events 3 and 2 refused in their places (the hub's screen), 1; garden's own" \
	want_tiles "cam0 tile0 own+badge cam0 tile1 placeholder cam0 tile2 placeholder cam0 tile3 own+badge cam1 tile0 own+badge cam1 tile1 black cam1 tile2 black cam1 tile3 black"
check "... their places noted in the hub's cache with the reason (0600), no gap counted" \
	bash -c "[ \$(ls '$T'/hub/event-cache/$PKID/*.refused | wc -l) = 2 ] && [ \"\$(sort -u '$T'/hub/event-cache/$PKID/*.refused)\" = 'decrypt signed' ] && [ \$(stat -c %a '$T'/hub/event-cache/$PKID/*.refused | sort -u) = 600 ] && [ '$(status hub | json "d['events']['gaps']")' = 0 ]"
check "FOREIGN 0" foreign0
# several new events in one round (2 and 3 arrive together when the store is
# back, within porch's 1 s backoff, and the hub looks every 10 s) are fetched
# oldest first: fetched newest first, event 4 was in the cache while 3 and 2
# were not yet refused, and a view built then counted a gap 2..3 (ASan CI)
fg=$(first_gets "$PKID" | tr '\n' ' ')
check "the hub fetched porch's events oldest first (first asked for: $fg)" test "$fg" = "0 1 2 3 4 "
check "each refusal logged once" \
	bash -c "sleep 11; [ \$(grep -c 'refused (decrypt), not cached' '$T/hub.log') = 2 ]"

# b. a tampered cache file on the hub's disk: event 4's thumbnail, one byte flipped
t3=$(cd "$T/hub/event-cache/$PKID" && ls | grep '^0*4-.*\.thumb$')
python3 -c 'import sys; p = sys.argv[1]; b = bytearray(open(p, "rb").read()); b[len(b) // 2] ^= 1; open(p, "wb").write(b)' "$T/hub/event-cache/$PKID/$t3"
r0=$(rejected decrypt)
"$CTL" events show --socket "$T/hub.sock" >/dev/null
check "a thumbnail tampered with in the cache: its tile the placeholder" \
	want_tiles "cam0 tile0 placeholder cam0 tile1 placeholder cam0 tile2 placeholder cam0 tile3 own+badge cam1 tile0 own+badge cam1 tile1 black cam1 tile2 black cam1 tile3 black"
check "... counted (decrypt +1), FOREIGN 0" \
	bash -c "[ \$(\"$CTL\" status '$T/hub.sock' | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"events\"][\"rejected\"].get(\"decrypt\", 0))') -gt $r0 ] && ! grep -q foreign '$T/tiles'"

# c. event 0's clip in the cache where event 1's was (a clip of event N served
#    as event M): the clip does not open under event 1's manifest
c0=$(cd "$T/hub/event-cache/$PKID" && ls | grep '^0*0-.*\.clip$')
c1=$(cd "$T/hub/event-cache/$PKID" && ls | grep '^0*1-.*\.clip$')
cp "$T/hub/event-cache/$PKID/$c1" "$T/c1.saved"
cp "$T/hub/event-cache/$PKID/$c0" "$T/hub/event-cache/$PKID/$c1"
F0=$(frames)
r0=$(rejected total)
"$CTL" events play porch 1 --socket "$T/hub.sock" >"$T/out" 2>&1
rc=$?
check "events play of event 1 holding event 0's clip: refused, exit 3 ($(cat "$T/out"))" \
	bash -c "[ $rc = 3 ] && grep -q 'refused (decrypt)' '$T/out'"
check "... the placeholder shown, then the events view again" \
	wait_for 30 hub 'd["events"]["view"] == "events"'
cf=$(clip_frames "$F0")
check "... no frame of it on screen ($cf), FOREIGN 0" \
	bash -c "echo '$cf' | grep -q 'placeholder=[1-9]' && ! echo '$cf' | grep -q 'own=\\|foreign'"
check "... counted" test "$(rejected total)" -gt "$r0"
cp "$T/c1.saved" "$T/hub/event-cache/$PKID/$c1"

# d. the clip's bytes changed on the hub's disk (an AU of the sealed clip)
python3 -c 'import sys; p = sys.argv[1]; b = bytearray(open(p, "rb").read()); b[len(b) * 2 // 3] ^= 0x40; open(p, "wb").write(b)' "$T/hub/event-cache/$PKID/$c1"
F0=$(frames)
"$CTL" events play porch 1 --socket "$T/hub.sock" >"$T/out" 2>&1
rc=$?
check "a clip changed in the cache: refused, exit 3 ($(cat "$T/out"))" \
	bash -c "[ $rc = 3 ] && grep -q 'refused (' '$T/out'"
cf=$(clip_frames "$F0")
check "... nothing of it on screen ($cf)" bash -c "! echo '$cf' | grep -q 'own=\\|foreign'"

# e. with the content key: one AU's bytes changed (sample 8 of event 1's
#    clip, re-sealed): frames 0..7 verified and shown, then the placeholder
cp "$T/c1.saved" "$T/hub/event-cache/$PKID/$c1"
n1=$(cd "$T/hub/event-cache/$PKID" && ls | grep '^0*1-.*\.env$')
n0=$(cd "$T/hub/event-cache/$PKID" && ls | grep '^0*0-.*\.env$')
check "event_tamper: sample 8 of event 1's clip changed, sealed again" \
	"$TAMPER" "$T/hub" porch "$T/hub/event-cache/$PKID" "$n1" au 8
F0=$(frames)
r0=$(rejected au-hash)
s0=$(hubev "['clip_frames']")
out=$("$CTL" events play porch 1 --socket "$T/hub.sock")
check "events play: the clip starts ($out)" bash -c "echo '$out' | grep -q '^playing'"
check "... stopped at the changed AU: au-hash counted, 8 frames verified, back to the events view" \
	wait_for 60 hub "d['events']['rejected'].get('au-hash', 0) == $r0 + 1 and d['events']['clip_frames'] == $s0 + 8 and d['events']['view'] == 'events'"
cf=$(clip_frames "$F0")
check "... its verified frames porch's own, then the placeholder ($cf), FOREIGN 0" \
	bash -c "echo '$cf' | grep -q 'placeholder=[1-9]' && ! echo '$cf' | grep -q foreign"
check "... logged once" bash -c "[ \$(grep -c 'clip of $n1 refused (au-hash)' '$T/hub.log') = 1 ]"

# f. with the content key: event 0's clip (its records event 0's) as event 1's
cp "$T/c1.saved" "$T/hub/event-cache/$PKID/$c1"
check "event_tamper: event 0's clip sealed as event 1's" \
	"$TAMPER" "$T/hub" porch "$T/hub/event-cache/$PKID" "$n1" splice "$n0"
F0=$(frames)
r0=$(rejected wrong-event)
s0=$(hubev "['clip_frames']")
"$CTL" events play porch 1 --socket "$T/hub.sock" >/dev/null
check "... refused at its first AU: wrong-event counted, no frame decoded" \
	wait_for 60 hub "d['events']['rejected'].get('wrong-event', 0) == $r0 + 1 and d['events']['clip_frames'] == $s0 and d['events']['view'] == 'events'"
cf=$(clip_frames "$F0")
check "... nothing of it on screen ($cf)" \
	bash -c "echo '$cf' | grep -q 'placeholder=[1-9]' && ! echo '$cf' | grep -q 'own=\\|foreign'"

# 4. back to live
out=$("$CTL" events live --socket "$T/hub.sock")
check "veracamctl events live: $out" test "$out" = "live view"
check "the live view again: porch's and garden's video" \
	bash -c "python3 '$Y4M' watch '$T/hub.y4m' 2 0 ff0000 own 0 >/dev/null && python3 '$Y4M' watch '$T/hub.y4m' 2 1 0000ff own 0 >/dev/null"
check "status: view live" wait_for 5 hub 'd["events"]["view"] == "live"'

for d in porch garden hub; do
	kill -TERM "${PID[$d]}"
	wait "${PID[$d]}"
	rc=$?
	check "$d: SIGTERM, exit 0" test $rc = 0
	unset "PID[$d]"
done
echo "1..$n"
[ "$fails" = 0 ]
