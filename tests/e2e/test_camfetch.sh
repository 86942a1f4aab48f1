#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Events reach a hub without a store (TAP; docs/PROTOCOL.md §5.7): a real
# camera (pattern source, no event-store) records events for `veracamctl
# event`, a real hub fetches them over its session, chunk by chunk, and
# keeps them in KEYS/event-cache/KEYID/: byte for byte the camera's sealed
# spool objects, 0600, envelopes that open with the hub's keys (event_check:
# envelope, thumbnail, every AU of the clip; veracamctl export), the chain
# in events-seen; both daemons count it in their status. Then a session cut
# mid-transfer (a TCP proxy that closes the first control connection after
# half of the bytes) resumes by offset in the next one: every object byte
# crosses exactly once. A camera with an event store answers "store" and
# serves nothing. A paired hub that breaks the protocol (HUB_ENC_SEND: asks
# three times without waiting, asks past an object's end, asks for an object
# kind that does not exist) has its session ended, counted (protocol) and
# logged.
#
# usage: test_camfetch.sh VERACAMD VERACAMCTL EVENT_CHECK HUB_ENC_SEND
set -u
VD=$1 CTL=$2 CHECK=$3 SEND=$4
T=$(mktemp -d "${TMPDIR:-/tmp}/veracamd-camfetch.XXXXXX")
PID= HPID= XPID= PORT=
. "$(dirname "$0")/tap.sh"

cleanup() {
	for p in $PID $HPID $XPID; do kill -KILL "$p" 2>/dev/null; done
	wait 2>/dev/null
	if [ "$fails" -ne 0 ]; then
		for f in "$T"/*.log; do echo "# --- $f"; tail -n 40 "$f" | diag; done
	fi
	rm -rf "$T"
}
trap cleanup EXIT

status() { "$CTL" status "$T/cam.sock" 2>/dev/null; }
hstatus() { "$CTL" status "$T/hub.sock" 2>/dev/null; }
hwait() {	# SECONDS EXPR on the hub's status (cameras[0] as c)
	local end=$((SECONDS + $1))
	while [ $SECONDS -lt "$end" ]; do
		[ "$(hstatus | json "(lambda c: $2)(d['cameras'][0])" 2>/dev/null)" = True ] && return 0
		sleep 0.2
	done
	return 1
}

start_camera() {
	"$VD" camera --keys "$T/cam" --name porch --source pattern:3060a0 --width 640 --height 480 \
		--fps 15 --listen "127.0.0.1:$PORT" --status-socket "$T/cam.sock" \
		--event-pre-roll 1s --event-post-roll 2s --motion false "$@" >>"$T/cam.log" 2>&1 &
	PID=$!
	wait_until 30 'd["ready"]'
}
start_hub() {	# HOST:PORT
	"$VD" hub --keys "$T/hub" --camera "porch@$1" --display "y4m:/dev/null" \
		--output-size 320x240 --transport tcp --status-socket "$T/hub.sock" \
		>>"$T/hub.log" 2>&1 &
	HPID=$!
}
stop() {	# PIDVAR
	local p=${!1}
	kill -TERM "$p" 2>/dev/null && wait "$p"
	eval "$1="
}
event() {	# TRIGGER WRITTEN
	"$CTL" event "$T/cam.sock" "$1" >/dev/null && wait_until 30 "d['events']['written'] == $2"
}

echo "TAP version 13"
PORT=$(free_port)
"$CTL" keygen "$T/cam" >/dev/null && "$CTL" keygen "$T/hub" >/dev/null &&
	"$CTL" trust "$T/cam" kitchen "$("$CTL" identity "$T/hub")" --role hub --confirmed >/dev/null &&
	"$CTL" trust "$T/hub" porch "$("$CTL" identity "$T/cam")" --role camera --confirmed >/dev/null ||
	exit 1
# the cache directory's name: the camera's key id, SHA-256(public key)[0..16)
KID=$("$CTL" identity "$T/cam" | python3 -c '
import hashlib, sys
print(hashlib.sha256(bytes.fromhex(sys.stdin.read().split(":")[2])).hexdigest()[:32])')
CACHE=$T/hub/event-cache/$KID

start_camera
start_hub "127.0.0.1:$PORT"
check "the hub's encryption key reaches the camera over the session" \
	bash -c "for i in \$(seq 150); do [ -e '$T/cam/hub-enc/kitchen' ] && exit 0; sleep 0.2; done; exit 1"
out=$("$CTL" events show --socket "$T/hub.sock")
check "the hub shows its events view (empty cache): $out" test "$out" = "events view"
sleep 1.5	# the pre-roll ring fills
check "two events (manual, doorbell) are written into the camera's spool" \
	bash -c "$(declare -f event wait_until status json); CTL='$CTL' T='$T'; event manual 1 && event doorbell 2"
check "the hub fetches both over the session (status: camera_events 2, idle)" \
	hwait 60 'c["camera_events"]["events"] == 2 and c["camera_events"]["state"] == "idle" and c["camera_events"]["newest"] == 1'
check "the events view shows both thumbnails as they arrive, without another events show" \
	hwait 30 'd["events"]["thumbnails_shown"] >= 2'

same_as_spool() {	# the cache holds exactly the spool's complete events, byte for byte, 0600
	python3 - "$T/cam/events" "$CACHE" <<'PY'
import filecmp, os, sys
spool, cache = sys.argv[1:]
envs = sorted(f[:-4] for f in os.listdir(spool) if f.endswith(".env"))
want = sorted(f for f in os.listdir(spool) if f[: f.rindex(".")] in envs and not f.startswith("."))
have = sorted(os.listdir(cache))
assert have == want, (have, want)
for f in have:
    assert filecmp.cmp(os.path.join(spool, f), os.path.join(cache, f), shallow=False), f
    assert os.stat(os.path.join(cache, f)).st_mode & 0o777 == 0o600, f
assert os.stat(cache).st_mode & 0o777 == 0o700
print("# %d files identical" % len(have))
PY
}
check "event-cache/KEYID/ holds exactly the camera's sealed objects, byte for byte, 0600 in 0700" \
	same_as_spool
cache_opens() {
	"$CHECK" "$CACHE" "$("$CTL" identity "$T/cam")" "$T/hub" 640 480 >"$T/check.out" 2>&1
	local rc=$?
	diag <"$T/check.out"
	[ $rc = 0 ] && [ "$(grep -c 'frames verified' "$T/check.out")" = "$1" ]
}
check "the cached events open with the hub's keys: envelope, thumbnail, every AU of the clip" \
	cache_opens 2
check "veracamctl export of a cached event verifies offline" \
	bash -c "'$CTL' export '$T/hub' \"\$(ls '$CACHE'/*.env | tail -n 1)\" '$T/e1.mp4' >'$T/x.out' 2>&1 &&
		 '$CTL' verify '$T/e1.mp4' --camera \"\$('$CTL' identity '$T/cam')\" >>'$T/x.out' 2>&1"
check "events-seen/porch names event 1 (the chain goes on from there)" \
	bash -c "grep -qE '^1 [0-9a-f]{64}\$' '$T/hub/events-seen/porch'"
TOTAL=$(cat "$CACHE"/* | wc -c)
check "the hub received each object byte once ($TOTAL bytes) and the camera served them (6 objects)" \
	bash -c "$(declare -f hwait hstatus json wait_until status); CTL='$CTL' T='$T';
		 hwait 5 'c[\"camera_events\"][\"bytes\"] == $TOTAL and c[\"camera_events\"][\"objects\"] == 6' &&
		 wait_until 5 'd[\"events\"][\"served\"][\"objects\"] == 6 and d[\"events\"][\"served\"][\"bytes\"] == $TOTAL and d[\"events\"][\"served\"][\"store\"] == 0'"
check "no event was refused, the camera refused no hub" \
	bash -c "$(declare -f hwait hstatus json wait_until status); CTL='$CTL' T='$T';
		 hwait 5 'c[\"camera_events_refused\"][\"total\"] == 0' && wait_until 5 'd[\"rejected_peers\"][\"total\"] == 0'"
stop HPID

# ---- a paired hub that breaks the event protocol (its real daemon stopped) ----
attack() { "$SEND" "$T/hub" porch 127.0.0.1 "$PORT" "$1" >>"$T/send.log" 2>&1; }
refused() {	# COUNT LOGGED: "protocol" refusals so far, and the session's end in the log
	wait_until 10 "d['rejected_peers'].get('protocol', 0) == $1" &&
		grep -q "session ended (control channel protocol: .*$2" "$T/cam.log"
}
check "a hub that asks three times without waiting: the camera ends the session" attack pipeline
check "... counted (protocol) and logged" refused 1 'before the answer to the last one'
check "a hub that asks for a clip past its end: the session ends" attack past-end
check "... counted (protocol: 2) and logged" refused 2 'past its end'
check "a hub that asks for an object kind that does not exist: the session ends" attack bad-kind
check "... counted (protocol: 3) and logged" refused 3 'event object request: malformed'

# ---- resume: the first session through the proxy is cut after half the bytes ----
event manual 3 && event doorbell 4
NEW=$(cd "$T/cam/events" && cat 0*2-*.* 0*3-*.* | wc -c)
CUT=$((NEW / 2))
XPORT=$(free_port)
python3 - "$XPORT" "$PORT" "$CUT" "$T/cut" >>"$T/proxy.log" 2>&1 <<'PY' &
# Forward TCP; the first TLS connection is closed after CUT bytes camera -> hub.
import socket, sys, threading
lport, cport, cut, mark = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
lock = threading.Lock()
state = {"cut": False}
def pump(src, dst, limit):
    sent = 0
    try:
        while True:
            b = src.recv(65536)
            if not b:
                break
            if limit is not None and sent + len(b) >= limit:
                dst.sendall(b[: limit - sent])
                open(mark, "w").write("cut after %d bytes\n" % limit)
                break
            dst.sendall(b)
            sent += len(b)
    except OSError:
        pass
    for s in (src, dst):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
def serve(c):
    first = c.recv(1, socket.MSG_PEEK)
    u = socket.create_connection(("127.0.0.1", cport))
    limit = None
    with lock:
        if first == b"\x16" and not state["cut"]:
            state["cut"] = True
            limit = cut + 4096	# the handshake's bytes on top
    threading.Thread(target=pump, args=(c, u, None), daemon=True).start()
    threading.Thread(target=pump, args=(u, c, limit), daemon=True).start()
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", lport))
ls.listen(16)
while True:
    c, _ = ls.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
XPID=$!
sleep 0.5
start_hub "127.0.0.1:$XPORT"
check "a restarted hub, through a proxy that cuts its first session mid-transfer: events 2 and 3 arrive" \
	hwait 90 'c["camera_events"]["events"] == 2 and c["camera_events"]["newest"] == 3 and c["camera_events"]["state"] == "idle"'
check "... the first session was cut while the objects were crossing" \
	bash -c "[ -e '$T/cut' ] && grep -q 'session ended' '$T/hub.log'"
check "... and resumed by offset: each of the $NEW object bytes crossed once" \
	hwait 5 "c['camera_events']['bytes'] == $NEW and c['reconnects'] >= 1"
check "the cache holds all four events, byte for byte" same_as_spool
check "... and they open with the hub's keys" cache_opens 4
stop HPID
stop PID

# ---- an event the camera serves tampered with: refused, its place noted;
#      the event before it missing: a gap, shown ----
start_camera
sleep 1.5	# the pre-roll ring fills
event manual 1 && event manual 2 || not_ok "events 4 and 5 written (no hub connected)"
rm -f "$T"/cam/events/0*4-*	# event 4 lost: the listing goes 3, 5
python3 -c 'import sys; p = sys.argv[1]; b = bytearray(open(p, "rb").read()); b[len(b) // 2] ^= 1; open(p, "wb").write(b)' \
	"$(ls "$T"/cam/events/0*5-*.thumb)"
start_hub "127.0.0.1:$PORT"
check "event 5 with a byte of its sealed thumbnail flipped: refused (decrypt), not cached" \
	bash -c "$(declare -f hwait hstatus json); CTL='$CTL' T='$T';
		 hwait 60 'c[\"camera_events_refused\"].get(\"decrypt\", 0) == 1' &&
		 ! ls '$CACHE' | grep -q '^0*5-.*\\.env\$'"
check "... its place noted in the cache for the events view (0600, the reason)" \
	bash -c "f=\$(ls '$CACHE'/0*5-*.refused) && [ \"\$(cat \"\$f\")\" = 'decrypt signed' ] && [ \$(stat -c %a \"\$f\") = 600 ]"
"$CTL" events show --socket "$T/hub.sock" >/dev/null
check "the events view: event 4 missing between the refused 5 and the cached 3 drawn as a gap (status gaps)" \
	hwait 10 'd["events"]["gaps"] >= 1'
stop HPID
stop PID

# ---- a camera with an event store: the store is the source ----
start_camera --event-store "http://127.0.0.1:9/store"
start_hub "127.0.0.1:$PORT"
check "a camera with an event store answers 'store' (hub state store, camera counts it, serves nothing)" \
	bash -c "$(declare -f hwait hstatus json wait_until status); CTL='$CTL' T='$T';
		 hwait 30 'c[\"camera_events\"][\"state\"] == \"store\"' &&
		 wait_until 10 'd[\"events\"][\"served\"][\"store\"] >= 1 and d[\"events\"][\"served\"][\"chunks\"] == 0'"
check "... and the hub logs where to fetch them" grep -q 'uploads its events to an event store' "$T/hub.log"
stop HPID
stop PID

echo "1..$n"
[ "$fails" -eq 0 ]
